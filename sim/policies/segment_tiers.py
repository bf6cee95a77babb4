"""``segment_tiers``: field reps for the top segment, pooled inside sales, digital for the rest."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np

from sim.codes import CLOSING_ROLES, Service, Stage, Status, TaskKind
from sim.policies.protocol import CoveragePlan, PlanView, Policy, RouteView, TaskView, TeamView
from sim.policies.rules import (
    BookRule,
    HandoffRule,
    QueueOrder,
    empty_plan,
    lineless_specialists,
    name_largest,
    pools_of_roles,
    queue_priority,
    route_to_owner,
    route_to_pool,
    route_to_queue,
    segment_names,
    standard_priority,
    unknown_segments,
)
from sim.strict import Field, Strict

FIELD_CLOSERS = ("hunter", "farmer", "full_cycle")


if TYPE_CHECKING:
    from sim.scenario import Scenario


class SegmentTiersParams(Strict):
    field_segments: Annotated[str, Field(description="comma-separated segments covered by named field reps")] = (
        "enterprise"
    )
    pooled_segments: Annotated[
        str, Field(description="comma-separated segments served by the pooled inside team; the rest is digital")
    ] = "mid_market"
    accounts_per_rep: Annotated[int, Field(ge=0, le=100_000, description="named accounts in each field rep's book")] = (
        40
    )
    tier_a_share: Annotated[
        float,
        Field(
            ge=0.0,
            le=1.0,
            description="share of all named accounts in tier A: the largest, by one cut across the books (a book's "
            "share varies around it)",
        ),
    ] = 0.4
    cadence_a: Annotated[float, Field(ge=0.0, le=13.0, description="planned touches per quarter, tier A")] = 3.0
    cadence_b: Annotated[float, Field(ge=0.0, le=13.0, description="planned touches per quarter, tier B")] = 1.0
    digital_overflow: Annotated[
        bool, Field(description="send digital accounts' opportunities that need a human to the pool")
    ] = False
    books: BookRule = "keep"
    answer_leads: Annotated[
        Literal["first", "last"],
        Field(
            description="first: reps make first responses (new logos, expansions, renewals) before other work; "
            "last: after deal work and touches"
        ),
    ] = "first"
    handoff: HandoffRule = "cold"
    queue_order: QueueOrder = "deadline"
    lead_routing: Annotated[
        Literal["queue", "assigned"],
        Field(
            description="queue: pooled leads wait in a shared queue for the next free rep; assigned: each is "
            "dealt to one pool seat before the week, by capacity (round robin)"
        ),
    ] = "queue"


class SegmentTiers(Policy):
    """Tiers A/B/C/D by segment and potential.

    The largest accounts of the field segments are dealt, region by region, into
    books of ``accounts_per_rep`` for the field closers (hunter, farmer and
    full-cycle seats): tier A (the top ``tier_a_share`` of the books,
    ``cadence_a`` touches a quarter) and tier B (``cadence_b``). Tier C, the
    pooled segments and field-segment accounts beyond the books, is a shared
    queue answered by the next free inside rep or SDR (by any closer paid on
    every line and kind if the team has neither), in ``queue_order`` (with ``lead_routing = "assigned"``
    each lead is instead dealt to one of those seats before the week, by
    capacity); a deal an SDR qualified is dealt to an inside closer by capacity. Tier D, every other segment, is digital.
    With ``books = "keep"`` an account stays with its owner from quarter to
    quarter while it stays in the books; ``"redeal"`` deals them afresh.
    """

    name = "segment_tiers"
    Params = SegmentTiersParams
    params: SegmentTiersParams

    def problems(self, scenario: Scenario) -> list[str]:
        """A field or pooled segment the scenario does not have, or a segment named in both."""
        out = unknown_segments(scenario, self.params, "field_segments", "pooled_segments")
        both = sorted(set(segment_names(self.params.field_segments)) & set(segment_names(self.params.pooled_segments)))
        out += [f"pooled_segments: {name!r} is also a field segment (name it in one of the two)" for name in both]
        return out

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        acc, team, prm = view.accounts, view.team, self.params
        plan = empty_plan(acc.size, Service.DIGITAL)
        live = acc.status != Status.CHURNED
        field = acc.in_segments(segment_names(prm.field_segments)) & live
        pooled = acc.in_segments(segment_names(prm.pooled_segments)) & live
        plan.service[field | pooled] = Service.POOLED

        seats = self.book_seats(team)
        ranked = name_largest(plan, view, np.flatnonzero(field), seats, prm.accounts_per_rep, prm.books, prm.cadence_b)
        in_book = ranked[plan.owner[ranked] >= 0]  # named accounts, largest first
        plan.cadence[in_book[: round(prm.tier_a_share * in_book.size)]] = prm.cadence_a
        inside = ("inside", "sdr")
        if np.isin(team.role, inside).any():
            seat_pool = pools_of_roles(team, inside)
        else:  # any closer paid on everything answers (specialists of a lane keep to their own line's work)
            seat_pool = pools_of_roles(team, tuple(sorted(CLOSING_ROLES)))
            seat_pool[~team.paid_on_everything] = -1
        return dataclasses.replace(plan, warm=np.full(acc.size, prm.handoff == "warm"), seat_pool=seat_pool)

    def book_seats(self, team: TeamView) -> np.ndarray:
        """The seats that own the named accounts: the field closers, and the specialists with no line of their
        own (an overlay launch's, which would otherwise sit idle; a line's specialists cover their line)."""
        return np.flatnonzero(np.isin(team.role, FIELD_CLOSERS) | lineless_specialists(team))

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        handler = route_to_owner(view)
        p, team = view.pending, view.team
        service = view.plan.service[p.customer]
        pooled = handler < 0
        pooled &= (service == Service.POOLED) | (self.params.digital_overflow & (service == Service.DIGITAL))
        if self.params.lead_routing == "queue":
            route_to_queue(view, pooled, 0, handler)
        else:
            answerers = np.flatnonzero((view.plan.seat_pool == 0) & team.filled)
            route_to_pool(view, pooled & (p.stage == Stage.AWAITING_RESPONSE), answerers, handler)
        closers = team.seats("inside", closers=True)
        if closers.size == 0:
            closers = team.seats(closers=True)
        route_to_pool(view, pooled & (p.stage == Stage.IN_WORK), closers, handler)
        return handler

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        priority = queue_priority(standard_priority(view.tasks, view.accounts), view.tasks, self.params.queue_order)
        if self.params.answer_leads == "last":
            # Work the pipeline and the plan first; new leads wait for the time left (a slower first response).
            response = view.tasks.kind == TaskKind.RESPONSE
            priority[response] -= 25.0
        return priority
