"""The answer of one policy over the points of a grid (factors only), across its points.

The point with the best mean of the chosen metric (``answer.chosen_metric``)
is set against the first design point (or, when that is best, the gap to the
closest other point), paired by replication (``stats.point_differences``, the
family being every comparison with the first point), as its
paired-differences table shows it; a clear lead is explained
(``why.why_between_points``), and profit said between the two points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from sim.experiment import stats
from sim.experiment.report.answer_notes import gap_words, points_on_profit, untested
from sim.experiment.report.markdown import finite, point_labeller, test_words
from sim.experiment.report.why import why_between_points
from sim.format import counted, difference_beside, difference_interval


def compared_point(values: pd.DataFrame, metric: str, sign: float) -> tuple[int | None, int, int, pd.DataFrame]:
    """One policy across its design points: the point the answer compares with the first (None when there is
    none), the point with the best mean, the first point with results, and the paired differences of ``metric``
    against it by point (``stats.point_differences``)."""
    present = sorted(int(p) for p in values["point"].unique())
    v = values[(values.metric == metric) & np.isfinite(values["value"])]
    if len(present) < 2 or v.empty:
        return None, -1, -1, pd.DataFrame()
    reference = present[0]
    best = int((sign * v.groupby("point")["value"].mean()).idxmax())  # ties: the first point
    family = stats.point_differences(values, reference)
    rows = family[(family.metric == metric) & np.isfinite(family["mean_diff"].astype(float))].set_index("point")
    if rows.empty:
        return None, best, reference, rows
    compared = best if best != reference else int((sign * rows["mean_diff"]).idxmax())
    return (compared if compared in rows.index else None), best, reference, rows


def grid_answer(
    values: pd.DataFrame,
    metric: str,
    sign: float,
    policy: str,
    points: pd.DataFrame,
    factors: Sequence[str],
    quote: Callable[[str], str],
    results: pd.DataFrame | None,
) -> list[str] | None:
    """The answer of one policy across its design points (None with fewer than two points with results, or when
    the chosen metric has no paired difference), then its findings: why, and profit between the points it compares
    (from ``results``), each to go on a line of its own (``answer_layout.answer_text``)."""
    compared, best, reference, rows = compared_point(values, metric, sign)
    if compared is None:
        return None
    row = rows.loc[compared]
    label = point_labeller(points, factors)
    diff, low, high = float(row["mean_diff"]), float(row["low_adj"]), float(row["high_adj"])
    defined = finite(low, high)
    clear = defined and (low > 0 or high < 0)  # the interval excludes 0
    first = f"the first design point, {label(reference)}"
    undecided = "not distinguishable from the first design point at this replication count"
    if best != reference:
        versus = f"{difference_beside(metric, diff, low, high)} against {first}"
        versus += f" {difference_interval(metric, low, high, beside=diff)}" if defined else ""
        if clear and sign * diff > 0:
            body = f"it does best at {label(best)}: {versus}"
        elif clear:
            body = f"it has the best mean at {label(best)}, but is worse than {first} in paired comparison: {versus}"
        elif not defined:
            body = f"it has the best mean at {label(best)}: {versus}; {untested(row)}"
        else:
            body = f"it has the best mean at {label(best)}, {undecided}: {versus}"
    else:
        gap = gap_words(metric, diff, low, high, defined)
        if clear and sign * diff < 0:
            body = f"it does best at {first}; the closest, {label(compared)}, is {gap}"
        elif clear:
            body = f"it has the best mean at {first}, but {label(compared)} does better in paired comparison: {gap}"
        elif not defined:
            body = f"it has the best mean at {first}; the closest, {label(compared)}, is {gap}; {untested(row)}"
        else:
            body = f"it has the best mean at {first}, but {label(compared)} is {undecided}: {gap}"
    start = f"one policy, {quote(policy)}, over {counted(values['point'].nunique(), 'design point')}: "
    profit = points_on_profit(results, values, metric, reference, compared, (label(compared), first), quote)
    if not defined:  # the body says why there is no test
        return [start + body + ".", profit]
    stat = test_words(row, int(row["family"]), "with the first design point")
    tail = f" ({stat}), over {counted(int(row['n']), 'paired replication')} (common random numbers)."
    winner, other = (best, reference) if best != reference else (reference, compared)
    ahead = clear and (sign * diff > 0 if best != reference else sign * diff < 0)  # the point named best leads
    because = why_between_points(results, metric, winner, other, label, quote) if ahead else ""
    return [start + body + tail, because, profit]
