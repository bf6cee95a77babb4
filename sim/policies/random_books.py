"""``random_books``: an existing but unoptimised model, stable books dealt without regard to potential or workload."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

import numpy as np

from sim.codes import Service, Status
from sim.policies.protocol import CoveragePlan, PlanView, Policy, RouteView, TaskView
from sim.policies.rules import (
    HandoffRule,
    deal_books,
    empty_plan,
    generalist_closers,
    rest_pools,
    route_owner_then_rest,
    standard_priority,
)
from sim.strict import Field, Strict


class RandomBooksParams(Strict):
    accounts_per_rep: Annotated[
        int, Field(ge=0, le=100_000, description="accounts in each closer's book, drawn at random")
    ] = 60
    cadence: Annotated[float, Field(ge=0.0, le=13.0, description="planned touches per quarter, book account")] = 1.0
    rest: Annotated[Literal["pooled", "digital"], Field(description="service level of accounts in no book")] = "pooled"
    handoff: HandoffRule = "cold"


class RandomBooks(Policy):
    """Stable books dealt without regard to potential or workload: an existing, unoptimised model.

    Each closer paid on every line and kind owns ``accounts_per_rep`` accounts
    drawn at random from its region (as books inherited from history are), with
    one ``cadence`` for all; a book keeps its accounts from quarter to quarter,
    and only a churned account's place is dealt again, at random. Demand from a
    book account goes to its owner; the rest is served by ``rest``: a shared
    queue answered by the next free rep (inside reps and SDRs if the team has
    them, else every such closer), its qualified deals dealt to any closer by
    capacity, or the digital channel. It is the fair
    baseline for a reallocation gain: the published gains compare a company's
    actual allocation with an optimised one, not with no model at all.
    """

    name = "random_books"
    Params = RandomBooksParams
    params: RandomBooksParams

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        acc, team, prm = view.accounts, view.team, self.params
        plan = empty_plan(acc.size, Service.POOLED if prm.rest == "pooled" else Service.DIGITAL)
        live = np.flatnonzero(acc.status != Status.CHURNED)
        plan.service[acc.status == Status.CHURNED] = Service.DIGITAL
        drawn = live[rng.permutation(live.size)]
        if view.previous is not None:  # last quarter's book accounts first, so each book keeps them
            drawn = drawn[np.argsort(view.previous.owner[drawn] < 0, kind="stable")]
        closers = generalist_closers(team)
        named, owner = deal_books(acc, team, drawn, closers, prm.accounts_per_rep, "keep", view.previous)
        plan.owner[named] = owner
        plan.service[named] = Service.HIGH_TOUCH
        plan.cadence[named] = prm.cadence
        return dataclasses.replace(plan, warm=np.full(acc.size, prm.handoff == "warm"), seat_pool=rest_pools(team))

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        return route_owner_then_rest(view)

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        return standard_priority(view.tasks, view.accounts)
