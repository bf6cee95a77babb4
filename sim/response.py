"""Sales response: how relationship stock lifts demand, wins and retention.

Pure vectorized functions of the relationship stock ``x`` (touch-equivalents:
one field visit adds 1, see ``Activities``) and customer attributes.
"""

from __future__ import annotations

import numpy as np

from sim.clock import WEEKS_PER_YEAR
from sim.selling import Adbudg, Power, Relationship


def response_multiplier(x: np.ndarray, fn: Adbudg | Power) -> np.ndarray:
    """The sales response function: multiplier on the opportunity rate at stock ``x``.

    ADBUDG: ``y = b + (a - b) x^c / (d + x^c)``; power: ``y = min(cap, b + z x^e)``.
    """
    x = np.maximum(x, 0.0)
    if isinstance(fn, Adbudg):
        xc = x**fn.c
        return fn.b + (fn.a - fn.b) * xc / (fn.d + xc)
    return np.minimum(fn.cap, fn.b + fn.z * x**fn.e)


def demand_lift(x: np.ndarray, responsiveness: np.ndarray, fn: Adbudg | Power) -> np.ndarray:
    """Rate multiplier a customer realises: ``b + rho * (y(x) - b)``.

    Responsiveness ``rho`` in [0, 1] scales the part of the response that
    effort creates: a customer with rho = 0 is indifferent to effort.
    """
    return fn.b + responsiveness * (response_multiplier(x, fn) - fn.b)


def weekly_decay(monthly_retention: float) -> float:
    """Weekly retention factor of the relationship stock (a month is 52/12 weeks)."""
    return float(monthly_retention ** (12.0 / WEEKS_PER_YEAR))


def half_life_weeks(monthly_retention: float) -> float:
    """Weeks for an untouched stock to halve."""
    return float(np.log(0.5) / np.log(weekly_decay(monthly_retention)))


def win_probability(
    base: np.ndarray,
    stock: np.ndarray,
    responsiveness: np.ndarray,
    skill: np.ndarray,
    conflict: np.ndarray,
    rel: Relationship,
) -> np.ndarray:
    """Win probability on the log-odds scale.

    ``logit p = logit(base) + win_weight * x / (x + win_half_stock)
    + responsiveness_win_weight * (rho - 0.5) + skill_win_weight * (skill - 1)
    - conflict_penalty * conflict``.
    """
    base = np.clip(base, 1e-9, 1 - 1e-9)
    logit = np.log(base / (1.0 - base))
    logit = logit + rel.win_weight * stock / (stock + rel.win_half_stock)
    logit = logit + rel.responsiveness_win_weight * (responsiveness - 0.5)
    logit = logit + rel.skill_win_weight * (skill - 1.0)
    logit = logit - rel.conflict_penalty * conflict
    return 1.0 / (1.0 + np.exp(-logit))


def speed_multiplier(delay_days: np.ndarray, half_life_days: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Speed-to-lead: share of the win probability left after a first-response delay (business days).

    ``floor + (1 - floor) * 2 ** (-delay / half_life)``: 1 when answered at once.
    """
    return floor + (1.0 - floor) * np.exp2(-np.maximum(delay_days, 0.0) / half_life_days)


def weekly_hazard(annual: np.ndarray | float) -> np.ndarray:
    """Weekly probability equivalent to an annual probability, at a constant hazard."""
    return 1.0 - (1.0 - np.asarray(annual, dtype=np.float64)) ** (1.0 / WEEKS_PER_YEAR)


def churn_relief(stock: np.ndarray, rel: Relationship) -> np.ndarray:
    """Churn hazard as a share of the base hazard: 1 untouched, -> churn_floor when engaged.

    ``floor + (1 - floor) * 2 ** (-x / churn_half_stock)``.
    """
    return rel.churn_floor + (1.0 - rel.churn_floor) * np.exp2(-stock / rel.churn_half_stock)
