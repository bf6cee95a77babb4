"""What a policy may know of how selling works (``Selling``): the scenario's response, rates, win odds and
costs, as a sales organisation knows them from its history, never any account's draws. Part of every view
(``sim.policies.views``); import it from ``sim.policies.protocol``, the policy API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.policies.read_only import read_only
from sim.response import response_multiplier
from sim.selling import Adbudg, Power

if TYPE_CHECKING:
    from sim.scenario import Scenario


@dataclass(frozen=True)
class Selling:
    """What a policy may know of how selling works: the scenario's response, not any account's draws.

    response: the sales response function, the multiplier on an account's
    opportunity rate at relationship stock x (``Adbudg`` or ``Power``, with
    their parameters); responsiveness_mean: per segment, the mean of the
    latent responsiveness (the share of the response an account realises);
    visit_stock, call_stock: stock a visit or call adds; work_stock_per_hour:
    stock an hour of deal work adds; weekly_retention: share of the stock
    kept from one week to the next.

    What a sales organisation knows from its history, per segment (arrays of
    segment x kind, the columns ``Kind.NEW_LOGO`` and ``Kind.EXPANSION``):
    rate_per_year: opportunities per account-year at the segment's median
    potential with no relationship (a prospect raises new logos, a customer
    expansions); win_probability: the share of them won by an average
    account answered at once; value_share: won value as a share of the
    untapped wallet (potential - spend). Per segment: potential_median,
    currency a year, and potential_exponent: rates scale with
    ``(potential / potential_median) ** potential_exponent``. What a touch
    costs: visit_hours (a field visit on site) and call_hours, hours; a
    visit adds travel at travel_speed_kmh, km per hour (``touch_hours``);
    a first response to a new opportunity costs response_hours, hours.
    """

    response: Adbudg | Power
    responsiveness_mean: np.ndarray
    visit_stock: float
    call_stock: float
    work_stock_per_hour: float
    weekly_retention: float
    rate_per_year: np.ndarray
    win_probability: np.ndarray
    value_share: np.ndarray
    potential_median: np.ndarray
    potential_exponent: np.ndarray
    visit_hours: float
    call_hours: float
    travel_speed_kmh: float
    response_hours: float

    @classmethod
    def of(cls, scenario: Scenario, weekly_retention: float) -> Selling:
        act, segs = scenario.activities, scenario.population.segments

        def by_kind(attr: str) -> np.ndarray:
            # Columns in Kind order: NEW_LOGO (0), EXPANSION (1).
            return read_only(np.array([[getattr(s.new_logo, attr), getattr(s.expansion, attr)] for s in segs]))

        return cls(
            response=scenario.relationship.response,
            responsiveness_mean=read_only(np.array([a / (a + b) for a, b in (s.responsiveness for s in segs)])),
            visit_stock=act.visit_stock,
            call_stock=act.call_stock,
            work_stock_per_hour=act.work_stock_per_hour,
            weekly_retention=weekly_retention,
            rate_per_year=by_kind("rate_per_year"),
            win_probability=by_kind("win_probability"),
            value_share=by_kind("value_share"),
            potential_median=read_only(np.array([s.potential_median for s in segs])),
            potential_exponent=read_only(np.array([s.potential_exponent for s in segs])),
            visit_hours=act.visit_hours,
            call_hours=act.call_hours,
            travel_speed_kmh=scenario.workforce.travel_speed_kmh,
            response_hours=act.response_hours,
        )

    def touch_hours(self, field: np.ndarray, km: np.ndarray) -> np.ndarray:
        """Hours of one touch by a seat that visits (``field``) or calls, ``km`` from the account: a visit
        costs ``visit_hours`` plus the travel one way (a chained trip's share), a call ``call_hours``, as the
        engine charges them (``sim.tasks``)."""
        return np.where(field, self.visit_hours + km / self.travel_speed_kmh, self.call_hours)

    def lift(self, stock: np.ndarray, segment: np.ndarray, added: np.ndarray | float = 0.0) -> np.ndarray:
        """Expected multiplier on the opportunity rate of accounts with ``stock`` (of ``segment``) after
        ``added`` stock, at their segment's mean responsiveness: ``b + rho (y(stock + added) - b)``."""
        b = self.response.b
        return b + self.responsiveness_mean[segment] * (response_multiplier(stock + added, self.response) - b)
