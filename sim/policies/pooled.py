"""``pooled``: no books (or a few named accounts); every other account in one shared queue for the next free rep."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import numpy as np

from sim.codes import Service, Stage, Status
from sim.policies.protocol import CoveragePlan, PlanView, Policy, RouteView, TaskView
from sim.policies.rules import (
    BookRule,
    HandoffRule,
    QueueOrder,
    empty_plan,
    generalist_closers,
    name_largest,
    queue_priority,
    route_to_owner,
    route_to_pool,
    route_to_queue,
    standard_priority,
)
from sim.strict import Field, Strict


class PooledParams(Strict):
    named_per_rep: Annotated[
        int, Field(ge=0, le=100_000, description="largest accounts each closer still owns by name (0: none)")
    ] = 0
    cadence: Annotated[float, Field(ge=0.0, le=13.0, description="planned touches per quarter, named account")] = 2.0
    queue_order: QueueOrder = "deadline"
    books: BookRule = "keep"
    handoff: HandoffRule = "cold"


class Pooled(Policy):
    """Every account not named in one shared queue, answered by the next free rep.

    Nobody owns the pooled accounts: each first response waits in one queue
    that every generalist closer and SDR answers when it has free time (a
    contact centre's longest-idle rep first, ``sim.allocation``), in
    ``queue_order``, and each qualified deal is dealt to the filled closers by
    capacity. With ``named_per_rep`` above 0 the largest accounts keep named
    owners (high touch, ``cadence``), dealt region by region as books. A
    queue pools the team's free hours, so a burst of demand meets whoever is
    free rather than one owner's full week; what it gives up is the personal
    relationship an owner builds.
    """

    name = "pooled"
    Params = PooledParams
    params: PooledParams

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        acc, team, prm = view.accounts, view.team, self.params
        plan = empty_plan(acc.size, Service.POOLED)
        live = acc.status != Status.CHURNED
        plan.service[~live] = Service.DIGITAL
        closers = generalist_closers(team)
        name_largest(plan, view, np.flatnonzero(live), closers, prm.named_per_rep, prm.books, prm.cadence)
        seat_pool = np.full(team.size, -1, dtype=np.int64)
        seat_pool[closers] = 0
        seat_pool[team.role == "sdr"] = 0
        return dataclasses.replace(plan, warm=np.full(acc.size, prm.handoff == "warm"), seat_pool=seat_pool)

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        handler = route_to_owner(view)
        p, team = view.pending, view.team
        pooled = (handler < 0) & (view.plan.service[p.customer] == Service.POOLED)
        route_to_queue(view, pooled, 0, handler)
        closers = generalist_closers(team, filled_only=True)
        route_to_pool(view, pooled & (p.stage == Stage.IN_WORK), closers, handler)
        return handler

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        return queue_priority(standard_priority(view.tasks, view.accounts), view.tasks, self.params.queue_order)
