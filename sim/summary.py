"""Readable text summaries of runs: per quarter for one policy, side by side for several."""

from __future__ import annotations

import math

import pandas as pd

from sim.metrics import ALL, run_totals
from sim.opportunities import CAUSES


def money(v: float) -> str:
    """Currency in k / M with no false precision."""
    if not math.isfinite(v):
        return "-"
    for unit, scale in (("bn", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(v) >= scale:
            return f"{v / scale:.1f}{unit}"
    return f"{v:.0f}"


def share(v: float) -> str:
    return "-" if not math.isfinite(v) else f"{100 * v:.1f}%"


def number(v: float, digits: int = 0) -> str:
    return "-" if not math.isfinite(v) else f"{v:,.{digits}f}"


def _wide(metrics: pd.DataFrame, segment: str = ALL) -> pd.DataFrame:
    m = metrics[metrics["segment"] == segment]
    return m.pivot_table(index="quarter", columns="metric", values="value", aggfunc="first", dropna=False)


def _main_causes(row: pd.Series, top: int = 2) -> str:
    counts = {c: row.get(f"missed_{c}", 0.0) for c in CAUSES}
    total = sum(counts.values())
    if total <= 0:
        return "-"
    best = sorted(counts.items(), key=lambda kv: -kv[1])[:top]
    return ", ".join(f"{c.replace('_', ' ')} {100 * v / total:.0f}%" for c, v in best if v > 0)


def quarter_table(metrics: pd.DataFrame) -> str:
    """Per-quarter summary of one run (segment all)."""
    w = _wide(metrics)
    header = (
        f"{'Q':>2} {'revenue':>9} {'recurring':>9} {'won':>6} {'lost':>6} {'missed':>6}  "
        f"{'main causes of misses':<34} {'untouched':>9} {'resp d':>6} {'p90 d':>6} {'util':>6}"
    )
    lines = [header, "-" * len(header)]
    for q, row in w.iterrows():
        lines.append(
            f"{q:>2} {money(row['revenue_captured']):>9} {money(row['recurring_revenue']):>9} "
            f"{number(row['opps_won']):>6} {number(row['opps_lost']):>6} {number(row['opps_missed']):>6}  "
            f"{_main_causes(row):<34} {share(row['never_contacted_share']):>9} "
            f"{number(row['response_days_mean'], 2):>6} {number(row['response_days_p90'], 2):>6} "
            f"{share(row['utilisation']):>6}"
        )
    lines.append(
        "revenue: won value of new logos and expansions plus retained renewals; untouched: accounts never contacted;"
    )
    lines.append(
        "resp d / p90 d: business days to first response (mean / 90th percentile); util: share of selling hours used."
    )
    return "\n".join(lines)


#: (label, metric, formatter) rows of the side-by-side comparison.
COMPARISON_ROWS: list[tuple[str, str, str]] = [
    ("Revenue captured", "", ""),
    ("  revenue captured (won + retained)", "revenue_captured", "money"),
    ("  recurring revenue recognised", "recurring_revenue", "money"),
    ("  share of potential, last quarter", "share_of_potential", "share"),
    ("Opportunities", "", ""),
    ("  created", "opps_created", "number"),
    ("  won", "opps_won", "number"),
    ("  lost", "opps_lost", "number"),
    ("  missed", "opps_missed", "number"),
    *[(f"    missed: {c.replace('_', ' ')}", f"missed_{c}", "number") for c in CAUSES],
    ("  miss rate (mean of quarters)", "miss_rate", "share"),
    ("Consistency of treatment (mean of quarters)", "", ""),
    ("  promised a touch, got none", "promised_untouched_share", "share"),
    ("  Gini of touch-hours", "touch_gini", "ratio"),
    ("  response time, mean (days)", "response_days_mean", "days"),
    ("  response time, p90 (days)", "response_days_p90", "days"),
    ("  response time, sd across reps", "response_days_rep_sd", "days"),
    ("  rep lottery (omega squared)", "rep_lottery", "ratio"),
    ("  SLA breach rate", "sla_breach_rate", "share"),
    ("  conflicting engagements (sum)", "conflicting_engagements", "number"),
    ("Effort and cost", "", ""),
    ("  utilisation", "utilisation", "share"),
    ("  hours on low-value accounts", "low_value_hours_share", "share"),
    ("  cost of sales", "cost_of_sales", "money"),
    ("  profit (margin on recurring - cost of sales)", "profit", "money"),
    ("  revenue per rep (per quarter)", "revenue_per_rep", "money"),
    ("Customer base", "", ""),
    ("  customers at the end", "customers", "number"),
    ("  churned", "churned", "number"),
    ("  new logos", "new_logos", "number"),
    ("  never contacted at the end", "never_contacted_share", "share"),
]

_FORMAT = {
    "money": money,
    "share": share,
    "number": number,
    "ratio": lambda v: number(v, 3),
    "days": lambda v: number(v, 2),
}


def comparison_table(metrics: pd.DataFrame, segment: str = ALL) -> str:
    """Whole-run figures of several policies side by side (one seed each)."""
    totals = run_totals(metrics)
    totals = totals[totals["segment"] == segment]
    policies = list(dict.fromkeys(metrics["policy"]))
    wide = totals.pivot_table(index="metric", columns="policy", values="value", aggfunc="first", dropna=False)
    width = max(14, *(len(p) + 2 for p in policies))
    label_w = max(len(r[0]) for r in COMPARISON_ROWS) + 2
    lines = [f"{'':<{label_w}}" + "".join(f"{p:>{width}}" for p in policies)]
    for label, metric, fmt in COMPARISON_ROWS:
        if not metric:
            lines.append(label)
            continue
        values = [wide.at[metric, p] if metric in wide.index else float("nan") for p in policies]
        lines.append(f"{label:<{label_w}}" + "".join(f"{_FORMAT[fmt](float(v)):>{width}}" for v in values))
    return "\n".join(lines)
