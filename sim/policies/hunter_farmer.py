"""``hunter_farmer``: hunters work prospects, farmers the installed base."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np

from sim.codes import Kind, Service, Stage, Status
from sim.format import counted
from sim.policies.protocol import CoveragePlan, PlanView, Policy, RouteView, TaskView, TeamView
from sim.policies.rules import (
    BookRule,
    HandoffRule,
    deal_books,
    empty_plan,
    lineless_specialists,
    route_to_owner,
    route_to_pool,
    route_to_queue,
    standard_priority,
)
from sim.policies.segment_tiers import FIELD_CLOSERS
from sim.strict import Field, Strict

if TYPE_CHECKING:
    from sim.scenario import Scenario


class HunterFarmerParams(Strict):
    hunter_share: Annotated[
        float, Field(ge=0.0, le=1.0, description="share of field closing seats that hunt (the rest farm)")
    ] = 1 / 3
    hunter_accounts: Annotated[
        int, Field(ge=0, le=100_000, description="prospects in each hunter's book, largest potential first")
    ] = 60
    farmer_accounts: Annotated[
        int, Field(ge=0, le=100_000, description="customers in each farmer's book, largest spend first")
    ] = 60
    hunter_cadence: Annotated[
        float, Field(ge=0.0, le=13.0, description="planned prospecting touches per quarter and book account")
    ] = 2.0
    farmer_cadence: Annotated[
        float, Field(ge=0.0, le=13.0, description="planned account-management touches per quarter")
    ] = 2.0
    rest: Annotated[Literal["pooled", "digital"], Field(description="service level of accounts in no book")] = "pooled"
    books: BookRule = "keep"
    handoff: HandoffRule = "cold"
    division: Annotated[
        Literal["split", "full_cycle"],
        Field(
            description="split: hunters and farmers; full_cycle: the same accounts in mixed books, every field "
            "closer both hunting and farming its own (the same heads, no hand-off)"
        ),
    ] = "split"


class HunterFarmer(Policy):
    """A split team: hunters own prospect books, farmers own customer books.

    The field closing seats (hunter, farmer, full-cycle roles) are re-designated:
    the first ``hunter_share`` of them hunt, the rest farm. Hunters get the
    prospects with the largest potential, farmers the customers with the largest
    spend, dealt region by region. Inbound demand from an account in a book goes
    to its owner; the rest is served by ``rest``: a shared queue answered by the
    next free inside rep or SDR (with no inside reps, two queues: new-logo
    demand for the hunters, the rest for the farmers), a deal an SDR qualified
    dealt to an inside closer by capacity; or the digital channel.

    A prospect a hunter wins becomes a customer, so it leaves the hunter's
    book and, if its spend ranks it into a farmer's book, changes owner at
    the next quarter: the hand-off, whose cost (the personal relationship
    not carried over, ``handoff``) the engine applies. ``division =
    "full_cycle"`` is the comparison with the same heads: the same accounts
    are named (the prospects the hunters would hold and the customers the
    farmers would), but dealt into mixed books of every field closer, who
    keeps an account it wins.
    """

    name = "hunter_farmer"
    Params = HunterFarmerParams
    params: HunterFarmerParams

    def problems(self, scenario: Scenario) -> list[str]:
        """A ``hunter_share`` set strictly between 0 and 1 that rounds to no hunter, or to no farmer, on the
        scenario's field closing seats (0.01 of 28 quietly made a team of farmers), or that asks a team of fewer
        than two for a split (one seat was told a share above 0.5 and one below it; none ran as an inside pool
        without a word). The default is left alone: on a team of one closer, or none, it makes no split, as the
        docs say, rather than refuse the policy."""
        share = self.params.hunter_share
        seats = sum(g.count for g in scenario.reps if g.role in FIELD_CLOSERS)
        hunters = self._hunters(seats)
        if share == self.parameters()["hunter_share"].default or not 0 < share < 1 or 0 < hunters < seats:
            return []
        if seats < 2:
            return [
                f"hunter_share: a split needs at least 2 field closing seats ({', '.join(FIELD_CLOSERS)}), and the "
                f"scenario has {seats}"
                + (": no account would be named, every deal going to the rest" if seats == 0 else "")
                + " (leave hunter_share at its default for no split)"
            ]
        # 0 and 1 are asked for on purpose; a share that rounds to them is most likely a slip (0.01 of 28 seats).
        side, bound = (
            ("no hunter", f"a hunter needs a share above {0.5 / seats:.3g}; 0 makes every seat a farmer")
            if hunters == 0
            else ("no farmer", f"a farmer needs a share below {1 - 0.5 / seats:.3g}; 1 makes every seat a hunter")
        )
        return [f"hunter_share: {share:g} of the {seats} field closing seats rounds to {side} ({bound})"]

    def notes(self, scenario: Scenario) -> list[str]:
        """How many field closing seats hunt and farm (a VP found 0.15 and 0.25 of 10 seats both made 2 hunters,
        said nowhere), and which of the scenario's own roles hunt when it names hunters and farmers: the share
        decides, not the roles."""
        closers = [g.role for g in scenario.reps if g.role in FIELD_CLOSERS for _ in range(g.count)]
        k = self._hunters(len(closers))  # the first k, as ``_split`` deals the seats in the team's order
        if not closers:
            return []
        split = f"{k} of the {len(closers)} field closing seats hunt, {len(closers) - k} farm"
        if self.params.division == "full_cycle":
            split = f"the accounts {k} hunters and {len(closers) - k} farmers would own, dealt to all {len(closers)}"
        said = f"hunter_share {self.params.hunter_share:g}: {split}"
        hunters, farmers = closers[:k], closers[k:]
        if self.params.division == "split" and ("farmer" in hunters or "hunter" in farmers):

            def seats(side: Sequence[str]) -> str:
                return " and ".join(counted(side.count(r), f"{r} seat") for r in dict.fromkeys(side)) or "none"

            said += (
                f" (hunting: {seats(hunters)}; farming: {seats(farmers)}: the share decides, not the scenario's roles)"
            )
        return [said]

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        acc, prm = view.accounts, self.params
        hunters, farmers = self._split(view.team)
        plan = empty_plan(acc.size, Service.POOLED if prm.rest == "pooled" else Service.DIGITAL)
        plan.service[acc.status == Status.CHURNED] = Service.DIGITAL
        chosen = []
        for status, seats, size, cadence, key in (
            (Status.PROSPECT, hunters, prm.hunter_accounts, prm.hunter_cadence, acc.potential),
            (Status.CUSTOMER, farmers, prm.farmer_accounts, prm.farmer_cadence, acc.spend),
        ):
            ranked = np.flatnonzero(acc.status == status)
            ranked = ranked[np.argsort(-key[ranked], kind="stable")]
            if prm.division == "full_cycle":  # the accounts the split would name, dealt below to everyone
                named, _ = deal_books(acc, view.team, ranked, seats, size, "redeal", None)
                chosen.append(named)
                plan.cadence[named] = cadence
                continue
            named, owner = deal_books(acc, view.team, ranked, seats, size, prm.books, view.previous)
            plan.owner[named] = owner
            plan.service[named] = Service.HIGH_TOUCH
            plan.cadence[named] = cadence
        if chosen:  # full cycle: the prospects first, then the customers, dealt in turn over every closer
            seats = np.union1d(hunters, farmers)
            book = -(-sum(c.size for c in chosen) // max(seats.size, 1))
            named, owner = deal_books(acc, view.team, np.concatenate(chosen), seats, book, prm.books, view.previous)
            plan.owner[named] = owner
            plan.service[named] = Service.HIGH_TOUCH
            plan.cadence[plan.owner < 0] = 0.0  # a region's books can be full: no owner, no promised touch
        seat_pool = np.full(view.team.size, -1, dtype=np.int64)
        inside = np.isin(view.team.role, ("inside", "sdr"))
        if (view.team.role == "inside").any():
            seat_pool[inside] = 0
        elif prm.division == "full_cycle":  # every field closer answers the one queue
            seat_pool[hunters], seat_pool[farmers] = 0, 0
        else:  # the hunters answer new-logo demand (pool 0), the farmers the rest (pool 1)
            seat_pool[hunters], seat_pool[farmers] = 0, 1
        return dataclasses.replace(plan, warm=np.full(acc.size, prm.handoff == "warm"), seat_pool=seat_pool)

    def _hunters(self, closers: int) -> int:
        """How many of ``closers`` field closing seats hunt: ``hunter_share`` of them, rounded (half to even)."""
        return round(self.params.hunter_share * closers)

    def _split(self, team: TeamView) -> tuple[np.ndarray, np.ndarray]:
        """The hunters' and the farmers' seats (as the split would make them under either division). The
        specialists an overlay launch adds with no line of their own farm: they sell the new offering to the
        customers, and the field closers' split stays as it was."""
        seats = np.flatnonzero(np.isin(team.role, FIELD_CLOSERS))
        k = self._hunters(seats.size)
        return seats[:k], np.union1d(seats[k:], np.flatnonzero(lineless_specialists(team)))

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        handler = route_to_owner(view)
        p, team = view.pending, view.team
        pooled = (handler < 0) & (view.plan.service[p.customer] == Service.POOLED)
        hunt = p.kind == Kind.NEW_LOGO
        in_work = pooled & (p.stage == Stage.IN_WORK)
        if (team.role == "inside").any():
            route_to_queue(view, pooled, 0, handler)
            route_to_pool(view, in_work, team.seats("inside", closers=True), handler)
            return handler
        hunters, farmers = (s[team.filled[s]] for s in self._split(team))
        if self.params.division == "full_cycle":
            route_to_queue(view, pooled, 0, handler)
            route_to_pool(view, in_work, np.union1d(hunters, farmers), handler)
            return handler
        route_to_queue(view, pooled & hunt, 0, handler)
        route_to_queue(view, pooled & ~hunt, 1, handler)
        route_to_pool(view, in_work & hunt, hunters, handler)
        route_to_pool(view, in_work & ~hunt, farmers, handler)
        return handler

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        return standard_priority(view.tasks, view.accounts)
