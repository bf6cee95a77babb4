"""Text tables of an experiment's statistics, for the terminal and the report."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

from sim.summary import money, number, share

#: How each headline metric is shown.
STYLE = {
    "revenue_captured": money,
    "recurring_revenue": money,
    "cost_of_sales": money,
    "profit": money,
    "revenue_per_rep": money,
    "opps_missed": number,
    "opps_won": number,
    "customers": number,
    "churned": number,
    "conflicting_engagements": number,
    "miss_rate": share,
    "promised_untouched_share": share,
    "sla_breach_rate": share,
    "utilisation": share,
    "share_of_potential": share,
    "never_contacted_share": share,
    "low_value_hours_share": share,
    "response_days_p90": lambda v: number(v, 2),
    "response_days_mean": lambda v: number(v, 2),
    "rep_lottery": lambda v: number(v, 3),
    "touch_gini": lambda v: number(v, 3),
}


def fmt(metric: str, v: float) -> str:
    return STYLE.get(metric, lambda x: number(x, 3))(v)


def interval(metric: str, low: float, high: float) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    return f"[{fmt(metric, low)}, {fmt(metric, high)}]"


def _ordered(present: pd.Series, order: list[str] | None) -> list[str]:
    seen = list(dict.fromkeys(present))
    return [p for p in order if p in seen] if order else seen


def _grid(
    table: pd.DataFrame,
    metrics: list[str] | tuple[str, ...],
    corner: str,
    width: int,
    order: list[str] | None,
    cell: Callable[[str, pd.Series], str],
) -> str:
    """A metric x policy text table; ``cell(metric, row)`` renders one entry ("-" where there is none)."""
    policies = _ordered(table["policy"], order)
    lines = [f"{corner:<26}" + "".join(f"{p:>{width}}" for p in policies)]
    for metric in metrics:
        rows = table[table.metric == metric].set_index("policy")
        if rows.empty:
            continue
        cells = [cell(metric, rows.loc[p]) if p in rows.index else "-" for p in policies]
        lines.append(f"{metric:<26}" + "".join(f"{c:>{width}}" for c in cells))
    return "\n".join(lines)


def means_table(described: pd.DataFrame, metrics: list[str] | tuple[str, ...], order: list[str] | None = None) -> str:
    """Per metric and policy (in ``order``): mean and 95% t interval (n replications)."""

    def cell(metric: str, r: pd.Series) -> str:
        return f"{fmt(metric, r['mean'])} {interval(metric, r['t_low'], r['t_high'])}".strip()

    return _grid(described, metrics, "metric", 30, order, cell)


def differences_table(
    paired: pd.DataFrame, metrics: list[str] | tuple[str, ...], baseline: str, order: list[str] | None = None
) -> str:
    """Per metric and policy: mean paired difference against the baseline, 95% CI, Holm-adjusted p."""
    if paired.empty:
        return "(no paired comparisons: one policy, or too few replications)"

    def cell(metric: str, r: pd.Series) -> str:
        if not math.isfinite(r["mean_diff"]):
            return "-"
        sign = "+" if r["mean_diff"] > 0 else ""
        p_text = "" if not math.isfinite(r["p_holm"]) else f" p={r['p_holm']:.3g}"
        return f"{sign}{fmt(metric, r['mean_diff'])} {interval(metric, r['low'], r['high'])}{p_text}"

    return _grid(paired, metrics, f"difference vs {baseline}", 40, order, cell)
