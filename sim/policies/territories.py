"""``territories``: geographic territories balanced on workload and potential, redrawn on a schedule."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np

from sim.codes import Service, Status
from sim.policies.districting import balanced_districts
from sim.policies.protocol import CoveragePlan, PlanView, Policy, RouteView, TaskView
from sim.policies.rules import (
    HandoffRule,
    empty_plan,
    field_closers,
    nearest_seat,
    rest_pools,
    route_owner_then_rest,
    segment_names,
    standard_priority,
    unknown_segments,
)
from sim.strict import Field, Strict

if TYPE_CHECKING:
    from sim.scenario import Scenario


class TerritoriesParams(Strict):
    segments: Annotated[
        str, Field(description="comma-separated segments in the field territories; the rest is served by `rest`")
    ] = "enterprise,mid_market"
    tolerance: Annotated[
        float,
        Field(gt=0.0, le=1.0, description="each territory's accounts and potential within this share of equal"),
    ] = 0.1
    redraw_every: Annotated[
        int, Field(ge=0, le=40, description="quarters between redraws of the territories (0: drawn once, kept)")
    ] = 4
    called_per_rep: Annotated[
        int, Field(ge=0, le=100_000, description="accounts of each territory, largest potential first, with a cadence")
    ] = 40
    cadence: Annotated[float, Field(ge=0.0, le=13.0, description="planned touches per quarter, called account")] = 2.0
    rest: Annotated[Literal["pooled", "digital"], Field(description="service level of accounts in no territory")] = (
        "pooled"
    )
    handoff: HandoffRule = "cold"


class Territories(Policy):
    """Geographic territories, balanced on workload and potential and redrawn on a schedule.

    Every live account of ``segments`` belongs to the territory of one field
    closer (a seat that visits, can close and is paid on everything; every
    such closer if none visits), who answers all its demand. Territories are
    drawn region by region around the reps' home bases by the location-
    allocation model of sales districting (``sim.policies.districting``: a
    transportation program solved by HiGHS, after Hess and Samuels 1971):
    compact, each within ``tolerance`` of an equal share of the accounts (the
    workload of covering them) and of their potential. The ``called_per_rep``
    largest accounts of a territory get ``cadence`` planned touches a
    quarter; the rest are answered when they call. Between redraws a
    territory keeps its accounts, vacant seat or not (a churned account
    leaves); every ``redraw_every`` quarters they are drawn again from the
    live accounts and the team of the day, and an account that moves changes
    owner: its personal relationship is handed over (``handoff``), which is
    the redraw's cost. Accounts outside the territories are served by
    ``rest``, as in ``random_books``.
    """

    name = "territories"
    Params = TerritoriesParams
    params: TerritoriesParams

    def problems(self, scenario: Scenario) -> list[str]:
        return unknown_segments(scenario, self.params, "segments")

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        acc, team, prm = view.accounts, view.team, self.params
        plan = empty_plan(acc.size, Service.POOLED if prm.rest == "pooled" else Service.DIGITAL)
        live = acc.status != Status.CHURNED
        plan.service[~live] = Service.DIGITAL
        mine = np.flatnonzero(live & acc.in_segments(segment_names(prm.segments)))
        seats = field_closers(team)
        if mine.size == 0 or seats.size == 0:
            return dataclasses.replace(plan, warm=np.full(acc.size, prm.handoff == "warm"), seat_pool=rest_pools(team))
        redraw = (
            view.previous is None
            or view.quarter == 1
            or (prm.redraw_every > 0 and (view.quarter - 1) % prm.redraw_every == 0)
        )
        if redraw:
            owner = draw_territories(view, mine, seats, prm.tolerance)
        else:
            owner = view.previous.owner[mine].copy()  # type: ignore[union-attr]
            lost = ~np.isin(owner, seats)  # not in a territory last quarter: placed with the nearest
            owner[lost] = nearest_seat(acc, team, mine[lost], seats)
        plan.owner[mine] = owner
        plan.service[mine] = Service.HIGH_TOUCH
        plan.cadence[mine[_largest_per_owner(owner, acc.potential[mine], prm.called_per_rep)]] = prm.cadence
        return dataclasses.replace(plan, warm=np.full(acc.size, prm.handoff == "warm"), seat_pool=rest_pools(team))

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        return route_owner_then_rest(view)

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        return standard_priority(view.tasks, view.accounts)


def draw_territories(view: PlanView, accounts: np.ndarray, seats: np.ndarray, tolerance: float) -> np.ndarray:
    """The territory seat of each of ``accounts``, drawn region by region (``districting.balanced_districts``).

    An account of a region with no territory seat is drawn with the region
    of the seat nearest to it. Balanced on the count of accounts and on their
    potential.
    """
    acc, team = view.accounts, view.team
    region = acc.region[accounts].astype(np.int64)
    homeless = ~np.isin(region, team.region[seats])
    region[homeless] = team.region[nearest_seat(acc, team, accounts[homeless], seats)]
    owner = np.empty(accounts.size, dtype=np.int64)
    for g in np.unique(region).tolist():
        at = np.flatnonzero(region == g)
        local = seats[team.region[seats] == g]
        a = accounts[at]
        measures = np.stack([np.ones(a.size), acc.potential[a]])
        districts = balanced_districts(acc.x[a], acc.y[a], measures, team.x[local], team.y[local], tolerance)
        owner[at] = local[districts]
    return owner


def _largest_per_owner(owner: np.ndarray, potential: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` largest by ``potential`` of each owner's accounts."""
    order = np.lexsort((-potential, owner))
    first = np.searchsorted(owner[order], owner[order])
    return order[np.arange(order.size) - first < n]
