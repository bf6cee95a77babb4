"""Output rows, each column named once: what a run records and every table built from it.

A run's tidy tables are these rows with the run's keys (``RUN_KEYS``) in
front; files, the experiment store and the reports use these names.
"""

from __future__ import annotations

from typing import NamedTuple

#: The keys of one run in every table: the policy's label and the seed.
RUN_KEYS = ("policy", "seed")

#: The segment label of a metric over the whole population.
ALL = "all"


class MetricRow(NamedTuple):
    """One metric of one segment in one quarter (1-based); the segment ``all`` is the whole population."""

    quarter: int
    segment: str
    metric: str
    value: float


class WeeklyRow(NamedTuple):
    """One weekly series value; ``week`` counts from 0."""

    week: int
    metric: str
    value: float


class LorenzRow(NamedTuple):
    """One point of a Lorenz curve of rep attention: the least-attended share of accounts and its share of hours."""

    segment: str
    share_of_accounts: float
    share_of_hours: float


LORENZ_COLUMNS = LorenzRow._fields
