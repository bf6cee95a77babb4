"""The units a metric's values are in, and the range each unit's values can take.

Pure data, read by the metric catalogue (``sim.catalogue``) and the formats and figures that show values.
"""

from __future__ import annotations

from enum import StrEnum


class Unit(StrEnum):
    """What a metric's value counts or measures; the value is how figures' axes name it."""

    CURRENCY = "currency units"
    SHARE = "share"  # in [0, 1]
    OPPORTUNITIES = "opportunities"
    ACCOUNTS = "accounts"
    HOURS = "hours"
    BUSINESS_DAYS = "business days"
    WEEKS = "weeks"
    GINI = "Gini coefficient (0-1)"
    PROBABILITY_SD = "standard deviation of a probability, 0 to 0.5"
    RATIO = "ratio"
    STOCK = "touch-equivalents"
    TOUCHES = "touches"
    SEATS = "seats"


#: The values a metric of each unit can take, (lowest, highest), None where a side has no bound: the range a
#: mean's confidence interval is cut to (``sim.experiment.stats.describe``). A metric whose values can leave its
#: unit's range (profit, a currency figure below 0) says so with its own ``bounds``.
UNIT_BOUNDS: dict[Unit, tuple[float | None, float | None]] = {
    Unit.CURRENCY: (0.0, None),
    Unit.SHARE: (0.0, 1.0),
    Unit.OPPORTUNITIES: (0.0, None),
    Unit.ACCOUNTS: (0.0, None),
    Unit.HOURS: (0.0, None),
    Unit.BUSINESS_DAYS: (0.0, None),
    Unit.WEEKS: (0.0, None),
    Unit.GINI: (0.0, 1.0),
    Unit.PROBABILITY_SD: (0.0, 0.5),  # the standard deviation of a probability is at most 1/2
    Unit.RATIO: (0.0, None),
    Unit.STOCK: (0.0, None),
    Unit.TOUCHES: (0.0, None),
    Unit.SEATS: (0.0, None),
}
