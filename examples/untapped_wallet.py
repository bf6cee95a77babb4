"""A worked custom policy (docs/policies.md): named books by untapped wallet, not by size.

Run it with:  covsim run scenarios/baseline.toml --policy segment_tiers \
    --policy examples.untapped_wallet:UntappedWallet --quarters 4
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

import sim  # noqa: F401  (before numpy: covsim keeps numpy's loops the same on every machine; sim/simd.py)

# isort: split
import numpy as np

from sim.codes import Service, Stage, Status
from sim.policies.protocol import CoveragePlan, PlanView, Policy, RouteView, TaskView
from sim.policies.rules import (
    deal_books,
    empty_plan,
    generalist_closers,
    pools_of_roles,
    route_to_owner,
    route_to_pool,
    route_to_queue,
    standard_priority,
)
from sim.strict import Field, Strict


class UntappedWalletParams(Strict):
    # Strict: no silent casts, a mistyped --param is an error, set once (frozen).
    accounts_per_rep: Annotated[int, Field(ge=0, le=100_000, description="accounts in each field closer's book")] = 40
    cadence: Annotated[float, Field(ge=0.0, le=13.0, description="planned touches per quarter, book account")] = 2.0


class UntappedWallet(Policy):
    """The field closers own the accounts with the most wallet left to win; the inside team pools the rest.

    A book account is one whose potential less its current spend is among the
    largest, so a customer already near its full wallet gives its place to a
    prospect or an under-penetrated customer. Books are kept from quarter to
    quarter where they still rank.
    """

    name = "untapped_wallet"
    Params = UntappedWalletParams
    params: UntappedWalletParams

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        acc, team, prm = view.accounts, view.team, self.params
        plan = empty_plan(acc.size, Service.POOLED)
        live = np.flatnonzero(acc.status != Status.CHURNED)
        plan.service[acc.status == Status.CHURNED] = Service.DIGITAL
        untapped = acc.potential[live] - acc.spend[live]
        ranked = live[np.argsort(-untapped, kind="stable")]  # most wallet left first
        field = generalist_closers(team)
        field = field[team.field[field]]
        named, owner = deal_books(acc, team, ranked, field, prm.accounts_per_rep, "keep", view.previous)
        plan.owner[named] = owner
        plan.service[named] = Service.HIGH_TOUCH
        plan.cadence[named] = prm.cadence
        # The inside reps and SDRs answer the shared queue of everything else.
        return dataclasses.replace(plan, seat_pool=pools_of_roles(team, ("inside", "sdr")))

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        handler = route_to_owner(view)
        pooled = (handler < 0) & (view.plan.service[view.pending.customer] == Service.POOLED)
        route_to_queue(view, pooled, 0, handler)
        # A deal qualified in the queue needs a closer: the inside closers, by capacity.
        in_work = pooled & (view.pending.stage == Stage.IN_WORK)
        route_to_pool(view, in_work, view.team.seats("inside", closers=True), handler)
        return handler

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        return standard_priority(view.tasks, view.accounts)
