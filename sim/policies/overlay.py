"""``overlay``: a primary owner per named account plus product-line specialists, coordinated or not."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

import numpy as np

from sim.policies.protocol import CoveragePlan, PlanView, RouteView, TeamView
from sim.policies.rules import assign_books
from sim.policies.segment_tiers import SegmentTiers, SegmentTiersParams
from sim.strict import Field


class OverlayParams(SegmentTiersParams):
    specialist_accounts: Annotated[
        int, Field(ge=0, le=100_000, description="named accounts each specialist covers for its line")
    ] = 60
    specialist_cadence: Annotated[
        float, Field(ge=0.0, le=13.0, description="planned specialist touches per quarter and covered account")
    ] = 1.0
    coordinated: Annotated[
        bool,
        Field(
            description="each named account with a specialist keeps an account plan: no conflicting engagement, "
            "at relationship.coordination_hours per distinct seat of its team, account and quarter"
        ),
    ] = False
    lanes_join: Annotated[
        bool,
        Field(
            description="with coordinated: the specialists paid on their own line join the account plan (true: the "
            "plan binds them, as a shared account goal would; false: they keep to their lane, plan with no one and "
            "pay no plan hours, and their work beside the owner stays a conflicting engagement)"
        ),
    ] = True
    owners: Annotated[
        Literal["generalists", "everyone"],
        Field(
            description="generalists: the field closers own the named accounts; everyone: the specialists own "
            "books too, like the field closers (each the point of contact for every line of its book)"
        ),
    ] = "generalists"
    line_leads: Annotated[
        Literal["specialist", "owner"],
        Field(description="who answers a named account's lead on a line it has a specialist for"),
    ] = "specialist"


class Overlay(SegmentTiers):
    """Named accounts with a primary owner, and specialists who cover their own product line on them.

    Segments, books, pooled and digital tiers are those of ``segment_tiers``
    (its parameters apply). With ``owners = "generalists"`` the field
    closers own the named accounts; with ``"everyone"`` the specialists own
    books too, dealt with the field closers' as ``segment_tiers`` deals
    them, so a specialist is the point of contact for every line of its own
    accounts. Then each line's specialists (seats whose ``line`` is that
    line) are dealt the named accounts with the most untapped wallet on it,
    ``specialist_accounts`` each, at ``specialist_cadence`` touches a
    quarter. A lead on a covered line goes to the line's specialist
    (``line_leads = "specialist"``) or to the owner, which also keeps it when
    the specialist's seat is vacant or its lane does not pay for the lead.
    With ``coordinated`` each named account with a specialist keeps a
    quarterly account plan: its reps working it in one week is no
    conflicting engagement, and the plan costs each of them
    ``relationship.coordination_hours``; with ``lanes_join`` false a specialist
    paid on its own line keeps out of the plan (a seat paid on every line
    joins it either way). Every rep pursues only what its lane
    pays (``reps.lane``): a specialist paid on its own line that owns an
    account leaves the account's other lines and its renewals alone.
    """

    name = "overlay"
    Params = OverlayParams
    params: OverlayParams

    def book_seats(self, team: TeamView) -> np.ndarray:
        seats = super().book_seats(team)
        if self.params.owners == "everyone":
            seats = np.union1d(seats, np.flatnonzero(team.role == "specialist"))
        return seats

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        plan = super().plan(view, rng)
        acc, team, prm = view.accounts, view.team, self.params
        named = np.flatnonzero(plan.owner >= 0)
        lines = len(acc.line_names)
        specialist = np.full((acc.size, lines), -1, dtype=np.int64)
        cadence = np.zeros((acc.size, lines))
        for line in range(lines):
            seats = np.flatnonzero((team.role == "specialist") & (team.line == line))
            ranked = named[team.line[plan.owner[named]] != line]  # an owner of this line covers it already
            ranked = ranked[np.argsort(-acc.untapped(line, ranked), kind="stable")]
            covered, seat = assign_books(acc, team, ranked, seats, prm.specialist_accounts)
            specialist[covered, line] = seat
            cadence[covered, line] = prm.specialist_cadence
        # An account plan coordinates a team: the accounts where a specialist works beside the owner.
        coordinated = np.zeros(acc.size, dtype=bool)
        if prm.coordinated:
            for column in specialist.T:
                coordinated |= column >= 0
        return dataclasses.replace(
            plan, specialist=specialist, specialist_cadence=cadence, coordinated=coordinated, lanes_join=prm.lanes_join
        )

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        handler = super().route(view, rng)
        specialist = view.plan.specialist
        if self.params.line_leads == "owner" or specialist is None:
            return handler
        p, team = view.pending, view.team
        line, kind = p.line.astype(np.int64), p.kind.astype(np.int64)
        seat = np.where(line >= 0, specialist[p.customer, np.maximum(line, 0)], -1)
        at = np.maximum(seat, 0)
        # The owner keeps what a vacant specialist, or one not paid on the lead, would not answer.
        ok = (seat >= 0) & team.filled[at] & team.pursues(at, line, kind)
        handler[ok] = seat[ok]
        return handler
