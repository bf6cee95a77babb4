"""``unstructured``: the no-coverage-model baseline."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from sim.codes import Service, Stage, TaskKind
from sim.policies.protocol import CoveragePlan, PlanView, Policy, RouteView, TaskView
from sim.policies.rules import empty_plan, median, weighted_draw


class UnstructuredParams(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    pickup: Annotated[
        float,
        Field(
            ge=0.0, le=1.0, description="chance a week that somebody picks up an unanswered opportunity of typical size"
        ),
    ] = 0.5
    follow_through: Annotated[
        float, Field(ge=0.0, le=10.0, description="added priority of work on deals already started (0: none)")
    ] = 0.5
    size_bias: Annotated[
        float, Field(ge=0.0, le=5.0, description="pickup and attention grow with (potential / median) ** size_bias")
    ] = 0.5
    habit_spread: Annotated[
        float,
        Field(
            ge=0.0,
            le=3.0,
            description="spread (sd of the log) of each rep's own eagerness to answer new leads; 0: all alike",
        ),
    ] = 1.0


class Unstructured(Policy):
    """No territories, no owners, no cadence: whoever is free and happens to respond.

    Every account is in one shared pool. Each week an unanswered opportunity is
    picked up with probability ``pickup * (potential / median) ** size_bias``
    (the median over this week's pending opportunities: big names get noticed),
    by a rep drawn in proportion to its hours this week; a rep
    then works its tasks in an order biased to big names but otherwise random,
    with ``follow_through`` added to the priority of deals already started, so
    follow-up is inconsistent and nobody is promised a touch.

    With no common process each rep keeps its own habits: a rep's eagerness to
    answer new leads (drawn once per seat, lognormal with ``habit_spread``)
    multiplies the priority of its first responses, so how fast a lead is
    answered depends on who happened to pick it up.
    """

    name = "unstructured"
    Params = UnstructuredParams
    params: UnstructuredParams

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self._eagerness = np.empty(0)

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        if view.quarter == 1:  # a new run: its reps are met afresh
            self._eagerness = np.empty(0)
        new = view.team.size - self._eagerness.size
        if new > 0:  # seats never met before (the first quarter, an overlay launch) bring their own habits
            self._eagerness = np.concatenate([self._eagerness, rng.lognormal(0.0, self.params.habit_spread, new)])
        return empty_plan(view.accounts.size, Service.POOLED)

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        p = view.pending
        handler = np.full(p.size, -1, dtype=np.int64)
        pot = view.accounts.potential[p.customer]
        chance = np.minimum(1.0, self.params.pickup * _relative(pot) ** self.params.size_bias)
        picked = rng.random(p.size) < chance
        for closers in (False, True):
            which = np.flatnonzero(picked & ((p.stage == Stage.IN_WORK) == closers))
            seats = view.team.seats(closers=closers)
            cap = view.team.capacity[seats]
            if which.size and cap.sum() > 0:
                handler[which] = weighted_draw(rng, seats, cap, which.size)
        return handler

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        tasks = view.tasks
        pot = view.accounts.potential[tasks.customer]
        noise = rng.random(tasks.size) + 1e-6
        eager = np.where(tasks.kind == TaskKind.RESPONSE, self._eagerness[tasks.rep], 1.0)
        return noise * eager * _relative(pot) ** self.params.size_bias + self.params.follow_through * (
            tasks.kind == TaskKind.WORK
        )


def _relative(v: np.ndarray) -> np.ndarray:
    return v / (median(v) + 1e-9) if v.size else v
