"""``random_books``: an existing but unoptimised model, stable books dealt without regard to potential or workload."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from sim.codes import Service, Stage, Status
from sim.policies.protocol import CoveragePlan, PlanView, Policy, RouteView, TaskView
from sim.policies.rules import (
    HandoffRule,
    deal_books,
    empty_plan,
    generalist_closers,
    pools_of_roles,
    route_to_owner,
    route_to_pool,
    route_to_queue,
    standard_priority,
)


class RandomBooksParams(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

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
        inside = ("inside", "sdr")
        if np.isin(team.role, inside).any():
            seat_pool = pools_of_roles(team, inside)
        else:
            seat_pool = np.full(team.size, -1, dtype=np.int64)
            seat_pool[closers] = 0
        return dataclasses.replace(plan, warm=np.full(acc.size, prm.handoff == "warm"), seat_pool=seat_pool)

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        handler = route_to_owner(view)
        p, team = view.pending, view.team
        pooled = (handler < 0) & (view.plan.service[p.customer] == Service.POOLED)
        route_to_queue(view, pooled, 0, handler)
        # A qualified deal of no book goes to any closer, by capacity: nobody planned who works it.
        closers = np.union1d(team.seats("inside", closers=True), generalist_closers(team, filled_only=True))
        route_to_pool(view, pooled & (p.stage == Stage.IN_WORK), closers, handler)
        return handler

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        return standard_priority(view.tasks, view.accounts)
