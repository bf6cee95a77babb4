"""Shocks and events for stress tests, applied at the start of their quarter.

Each shock is a frozen config object (see ``sim.scenario``); this module says
what each does, through the named methods of the population and the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.population import CUSTOMER
from sim.scenario import (
    OPPORTUNITY_KINDS,
    DemandShock,
    HiringFreeze,
    KeyAccountLoss,
    OverlayLaunch,
    PotentialShift,
    Realignment,
    RepAttrition,
    Scenario,
)

if TYPE_CHECKING:
    from sim.model import CoverageModel


def frozen_hiring(scenario: Scenario, quarter: int) -> bool:
    """Whether a hiring freeze covers this (1-based) quarter."""
    return any(isinstance(s, HiringFreeze) and s.quarter <= quarter <= s.until_quarter for s in scenario.shocks)


def apply_quarter_shocks(model: CoverageModel, quarter: int, rng: np.random.Generator) -> None:
    """Apply every shock scheduled for the start of ``quarter`` (1-based), in file order.

    ``rng`` is the run's shock stream: which seats leave and which accounts are
    realigned do not depend on the policy.
    """
    scenario, pop = model.scenario, model.population
    segments = scenario.segment_names
    for shock in scenario.shocks:
        if shock.quarter != quarter:
            continue
        if isinstance(shock, RepAttrition):
            seats = [r for r in model.seats if r.filled and (not shock.role or r.role == shock.role)]
            n = round(shock.share * len(seats))
            for i in np.sort(rng.choice(len(seats), size=n, replace=False)):
                model.vacate_seat(seats[int(i)])
        elif isinstance(shock, DemandShock):
            seg = [segments.index(shock.segment)] if shock.segment else slice(None)
            kind = [OPPORTUNITY_KINDS.index(shock.opportunity)] if shock.opportunity else slice(None)
            model.demand[np.ix_(np.arange(len(segments))[seg], np.arange(3)[kind])] *= shock.factor
            model.refresh_rates()
        elif isinstance(shock, PotentialShift):
            who = (
                np.arange(pop.size)
                if not shock.segment
                else np.flatnonzero(pop.segment == segments.index(shock.segment))
            )
            pop.scale_potential(who, shock.factor)
            model.refresh_rates()
        elif isinstance(shock, OverlayLaunch):
            model.add_specialists(shock.specialists)
            model.demand[:, OPPORTUNITY_KINDS.index("expansion")] *= shock.expansion_lift
            model.refresh_rates()
        elif isinstance(shock, KeyAccountLoss):
            customers = np.flatnonzero(pop.status == CUSTOMER)
            top = customers[np.argsort(-pop.spend[customers], kind="stable")[: shock.accounts]]
            model.churn_accounts(top)
        # HiringFreeze acts through frozen_hiring() each week; Realignment after the plan.


def apply_realignments(model: CoverageModel, quarter: int, rng: np.random.Generator) -> None:
    """Realignments of ``quarter``: a share of the accounts owned in the new plan lose stock."""
    for shock in model.scenario.shocks:
        if isinstance(shock, Realignment) and shock.quarter == quarter:
            owned = np.flatnonzero(model.plan.owner >= 0)
            moved = rng.choice(owned, size=round(shock.share * owned.size), replace=False) if owned.size else owned
            model.population.reset_relationships(np.sort(moved), shock.stock_lost)
