"""Whether an answer's verdict on profit is the one the default headline metrics give on the same runs.

A Bonferroni interval's width follows the size of its family: a comparison
that names its own metrics tests profit in a smaller family (or, profit not
among them, in one of its own) than the default headline metrics', so the
same stored runs can call a profit difference clear with two metrics named
and not distinguishable with none (a policy author's trial: [+2.3M, +14.2M]
"ahead too" beside `customers` and `recurring_revenue`, [-3.0M, +19.5M]
by default). Where the two verdicts differ, the answer says both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from sim.experiment import stats
from sim.experiment.report.answer_notes import BOTTOM_LINE
from sim.experiment.spec import HEADLINE_METRICS
from sim.format import counted, difference_with_interval


def verdict(row: pd.Series) -> str:
    """A paired difference against the baseline in words: ahead of, behind, not distinguishable from (its
    Bonferroni interval on one side of 0 or across it), or untested (no interval)."""
    low, high = float(row["low_adj"]), float(row["high_adj"])
    if not (np.isfinite(low) and np.isfinite(high)):
        return "untested against"
    return "ahead of" if low > 0 else "behind" if high < 0 else "not distinguishable from"


def default_family_note(
    results: pd.DataFrame | None,
    point: int,
    metrics: Sequence[str],
    shown: pd.DataFrame,
    pair: tuple[str, str],
    quote: Callable[[str], str],
    at: str = "",
) -> str:
    """A sentence where the profit verdict of ``pair`` (a policy, the baseline) in ``shown`` (the paired
    differences the answer gave it from, at ``point``) differs from its verdict in the family of the default
    headline metrics (``HEADLINE_METRICS``) over the same stored ``results``; "" where they agree, where the
    answer's metrics are the default's, or where either has no profit row."""
    if results is None or results.empty or set(metrics) == set(HEADLINE_METRICS):
        return ""
    policy, baseline = pair
    mine = shown[(shown.metric == BOTTOM_LINE) & (shown.policy == policy)]
    here = results[results.point == point]
    if mine.empty or here.empty:
        return ""
    default = stats.paired_against(stats.run_values(here, list(HEADLINE_METRICS)), baseline)
    if default.empty:
        return ""
    theirs = default[(default.metric == BOTTOM_LINE) & (default.policy == policy)]
    if theirs.empty or verdict(theirs.iloc[0]) == verdict(mine.iloc[0]):
        return ""
    r = theirs.iloc[0]
    gap = difference_with_interval(BOTTOM_LINE, float(r.mean_diff), float(r.low_adj), float(r.high_adj))
    return (
        f" With the default headline metrics (a family of {counted(int(r.family), 'comparison')}{at}, as a "
        f"comparison that names none has), the same runs put {quote(policy)} {verdict(r)} the baseline on "
        f"{quote(BOTTOM_LINE)}: {gap}. An interval widens with its family's size: name the metrics before "
        "looking at the results (docs/experiments.md, the answer)."
    )
