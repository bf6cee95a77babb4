"""Text pieces of the report: Markdown tables and code spans, and values, intervals and p-values as text."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.format import counted, difference, p_value

if TYPE_CHECKING:
    import pandas as pd

    from sim.experiment.robustness import Ranking


def value_text(v: Any) -> str:
    """A factor or parameter value: whole numbers with separators, other numbers to 4 significant digits."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        return str(v)
    if isinstance(v, (int, np.integer)) or float(v).is_integer():
        return f"{int(v):,}"
    return f"{float(v):.4g}"


def finite(*values: float) -> bool:
    """Whether every value is a finite number."""
    return all(isinstance(v, (int, float, np.floating)) and math.isfinite(v) for v in values)


def ci(metric: str, low: float, high: float, show: Callable[[str, float], str]) -> str:
    """``[low, high]``, each end shown by ``show``; ``-`` when either end is undefined."""
    return f"[{show(metric, low)}, {show(metric, high)}]" if finite(low, high) else "-"


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> str:
    """A Markdown table; ``align`` has one letter per column (l, r, c), default: first left, others right."""
    align = align or "l" + "r" * (len(header) - 1)
    marks = {"l": "---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks[a] for a in align) + " |"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def code(text: str) -> str:
    """``text`` as a Markdown code span."""
    return f"`{text}`"


def regret_rows(ranking: Ranking, value: Callable[[float], str], world: Callable[[Any], str]) -> list[list[str]]:
    """A robustness table's rows, one per policy in the ranking's order: mean, worst case (in which world),
    mean regret, largest regret (in which world; the zero alone for a policy best in every world, where no
    world is the worst) and the worlds where it is best. ``value`` shows a value, ``world`` names a world."""
    t = ranking.table
    return [
        [
            str(p),
            value(t.at[p, "mean"]),
            f"{value(t.at[p, 'worst'])} ({world(t.at[p, 'worst_world'])})",
            value(t.at[p, "mean_regret"]),
            f"{value(t.at[p, 'max_regret'])} ({world(t.at[p, 'max_regret_world'])})"
            if t.at[p, "max_regret"] > 0
            else value(t.at[p, "max_regret"]),
            f"{int(t.at[p, 'best_in'])} of {ranking.worlds}",
        ]
        for p in t.index
    ]


def amount(metric: str, v: float) -> str:
    """An unsigned amount of a difference: shares in percentage points, others in the metric's format."""
    return difference(metric, v).lstrip("+")


def point_labeller(points: pd.DataFrame, factors: Sequence[str]) -> Callable[[int], str]:
    """A design point's factor values (``team_size = 0.5``), or ``design point 3`` without factors."""
    table = points.set_index("point") if "point" in points.columns else points

    def label(point: int) -> str:
        if not factors or point not in table.index:
            return f"design point {point}"
        row = table.loc[point]
        return ", ".join(f"{f} = {value_text(row[f])}" for f in factors)

    return label


def test_words(row: pd.Series, family: int, scope: str) -> str:
    """Which interval and p-value these are, over which family (those of the paired-differences table);
    ``scope`` says which comparisons (``at the design point``). A comparison with no interval says why
    instead (``answer_notes.untested``)."""
    p = float(row["p_holm"])
    comparisons = counted(family, "comparison")
    if not finite(p):
        return f"Bonferroni-adjusted 95% CI over the {comparisons} {scope}"
    shown = p_value(p)
    p_text = f"p {shown[0]} {shown[1:]}" if shown[:1] in ("<", ">") else f"p = {shown}"
    return f"Bonferroni-adjusted 95% CI and Holm-adjusted {p_text}, over the {comparisons} {scope}"
