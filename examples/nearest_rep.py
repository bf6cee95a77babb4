"""An example user-defined coverage policy: every account to the nearest rep who may close (field or inside).

Run it with:  covsim run scenarios/small.toml --policy examples.nearest_rep:NearestRep
Check it with:  python -c "from sim.policies.contract import check_policy; \
    from examples.nearest_rep import NearestRep; print(check_policy(NearestRep) or 'ok')"
"""

from __future__ import annotations

from typing import Annotated

import sim  # noqa: F401  (before numpy: covsim keeps numpy's loops the same on every machine; sim/simd.py)

# isort: split
import numpy as np

from sim.codes import Service, Status
from sim.policies.protocol import CoveragePlan, PlanView, Policy, RouteView, TaskView
from sim.policies.rules import empty_plan, nearest_seat, route_to_owner, standard_priority
from sim.strict import Field, Strict


class NearestRepParams(Strict):
    cadence: Annotated[float, Field(ge=0.0, le=13.0, description="touches per quarter for the largest accounts")] = 1.0
    top_share: Annotated[
        float, Field(ge=0.0, le=1.0, description="share of accounts (by potential) given a cadence")
    ] = 0.01


class NearestRep(Policy):
    """Each live account is owned by the closest closing seat; the largest get a cadence."""

    name = "nearest_rep"
    Params = NearestRepParams
    params: NearestRepParams

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        acc, team = view.accounts, view.team
        plan = empty_plan(acc.size, Service.POOLED)
        seats = np.flatnonzero(team.can_close)
        if seats.size == 0:
            return plan
        live = np.flatnonzero(acc.status != Status.CHURNED)
        plan.owner[live] = nearest_seat(acc, team, live, seats)
        # The largest live accounts: a cadence is its owner's to keep, and a churned account has none.
        top = live[np.argsort(-acc.potential[live], kind="stable")][: round(self.params.top_share * acc.size)]
        plan.service[top] = Service.HIGH_TOUCH
        plan.cadence[top] = self.params.cadence
        return plan

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        return route_to_owner(view)

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        return standard_priority(view.tasks, view.accounts)
