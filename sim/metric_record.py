"""One metric's record: its name, one-line definition, unit, how a run totals its quarters, title and direction.

The records themselves, one per metric a run emits, are the catalogue (``sim.catalogue``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sim.units import UNIT_BOUNDS, Unit

#: How a quarterly metric becomes one figure for a whole run (``sim.metrics.run_totals``): flows add up (``sum``),
#: stocks take their last quarter (``last``), rates, shares and statistics are the unweighted mean of the quarters
#: where they are defined (``mean``).
Aggregate = Literal["sum", "last", "mean"]
#: A run total of each kind, in words, as the tables' legends and the figures' axes say it (a researcher read a miss
#: rate's whole-run figure as the share of all opportunities, where it is the mean of the quarters' rates).
WHOLE_RUN: dict[str, str] = {"sum": "total over the run", "last": "at the end of the run", "mean": "mean of quarters"}


def spaced(name: str) -> str:
    """A metric name as words: ``opps_missed`` -> ``opps missed``."""
    return name.replace("_", " ")


@dataclass(frozen=True)
class Metric:
    """One metric: its name, one-line definition, unit, run total, figure title and direction.

    ``higher_is_better`` is None where the catalogue does not say (the report's stress-test regret table covers
    exactly the metrics where it is True). ``title`` defaults to the spaced name; ``bounds`` (see ``limits``) to
    its unit's (``UNIT_BOUNDS``).
    """

    name: str
    unit: Unit
    aggregate: Aggregate
    definition: str
    title: str = ""
    higher_is_better: bool | None = None
    bounds: tuple[float | None, float | None] | None = None

    def __post_init__(self) -> None:
        if not self.title:
            object.__setattr__(self, "title", spaced(self.name))  # frozen: set once, here

    @property
    def limits(self) -> tuple[float | None, float | None]:
        """The values a run can give (lowest, highest; None: unbounded): ``bounds``, else its unit's."""
        return UNIT_BOUNDS[self.unit] if self.bounds is None else self.bounds
