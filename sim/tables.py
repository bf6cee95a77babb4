"""Terminal text tables of a batch (compare, experiment, stress): means and paired differences, a stress's impacts.

Values are shown in their metric's unit (``sim.format.fmt``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence

import pandas as pd

from sim.catalogue import CATALOGUE, better
from sim.format import (
    counted,
    difference,
    difference_with_interval,
    fmt,
    interval,
    joined,
    money,
    no_spread_words,
    p_value,
    pct,
    recovery_words,
    value_beside,
)
from sim.metric_record import WHOLE_RUN


def no_paired(compared: Sequence[str], finished: Collection[str]) -> str:
    """What the differences table says when there is nothing to pair, of the policies (or points) ``compared``,
    those in ``finished`` having a finished run: which have none (a policy whose every run failed had been said
    to be "one policy, or too few replications"), one only, or no replication that both sides finished."""
    gone = [p for p in compared if p not in finished]
    if len(compared) < 2:
        return "(no paired comparisons: one policy only)"
    none = f"{joined(gone)} {'has' if len(gone) == 1 else 'have'} no finished run" if gone else ""
    if gone and len(compared) - len(gone) < 2:
        return f"(no paired comparisons: {none})"
    unpaired = "no replication has finished runs of both sides of a comparison"
    return (
        f"(no paired comparisons: {none}, and {unpaired} of the others)"
        if gone
        else f"(no paired comparisons: {unpaired})"
    )


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
    # Two spaces before every column, so that an entry wider than its column still stands apart from the last.
    column = width - len(_GAP)
    lines = [f"{corner:<26}" + "".join(f"{_GAP}{p:>{column}}" for p in policies)]
    for metric in metrics:
        rows = table[table.metric == metric].set_index("policy")
        if rows.empty:
            continue
        cells = [cell(metric, rows.loc[p]) if p in rows.index else "-" for p in policies]
        lines.append(f"{metric:<26}" + "".join(f"{_GAP}{c:>{column}}" for c in cells))
    return "\n".join(lines)


_GAP = "  "


def means_table(described: pd.DataFrame, metrics: list[str] | tuple[str, ...], order: list[str] | None = None) -> str:
    """Per metric and policy (in ``order``): mean and 95% t interval (n replications)."""
    return _grid(described, metrics, "metric", 30, order, mean_cell)


def mean_cell(metric: str, r: pd.Series) -> str:
    """A mean and its 95% t interval (a row of ``stats.describe``), as the means table shows it; a mean with no
    spread (``constant``) says so in words, for a zero-width interval would claim to know the mean exactly."""
    if r.get("constant", False):
        return f"{fmt(metric, r['mean'])} (same in all {int(r['n'])} runs)"
    return f"{value_beside(metric, r['mean'], r['t_low'], r['t_high'])} {interval(metric, r['t_low'], r['t_high'])}".strip()


def difference_cell(metric: str, r: pd.Series) -> str:
    """A paired difference, its Bonferroni-adjusted interval and Holm-adjusted p (a row of
    ``stats.paired_differences``), as the differences table shows it; ``-`` when undefined."""
    if not math.isfinite(r["mean_diff"]):
        return "-"
    if r.get("constant", False):  # no spread, so no test: said in words, not as p = 0 or 1
        same = no_spread_words(r["mean_diff"])
        return same if r["mean_diff"] == 0 else f"{difference(metric, r['mean_diff'])} ({same})"
    shown = p_value(r["p_holm"])
    p_text = "" if shown == "-" else f" p{shown}" if shown[:1] in ("<", ">") else f" p={shown}"
    from sim.experiment.stats import MIN_REPLICATIONS  # here: ``covsim run`` imports this module, not scipy

    if not math.isfinite(r["low_adj"]) and "n" in r and r["n"] < MIN_REPLICATIONS:
        # How few: a VP read +42.1 pp of a win rate in conflict as a finding, of one pair of 2 deals.
        p_text += f" ({counted(int(r['n']), 'pair')} only)"
    # As the report shows them: differences of shares in percentage points.
    return f"{difference_with_interval(metric, r['mean_diff'], r['low_adj'], r['high_adj'])}{p_text}"


def differences_table(
    paired: pd.DataFrame,
    metrics: list[str] | tuple[str, ...],
    baseline: str,
    order: list[str],
    finished: Collection[str],
) -> str:
    """Per metric and policy (in ``order``, the baseline's included): mean paired difference against the
    baseline, its Bonferroni-adjusted 95% CI and Holm-adjusted p, both over the family of comparisons in
    ``paired`` (as the report shows them); with none, why (``finished``: the policies with a finished run)."""
    if paired.empty:
        return no_paired(order, finished)
    return _grid(paired, metrics, f"difference vs {baseline}", 40, order, difference_cell)


def metrics_legend(metrics: list[str] | tuple[str, ...]) -> str:
    """What each metric of the tables is, in words: its title, unit, run total and better direction
    (docs/metrics.md defines each)."""
    lines = [
        "Metrics (docs/metrics.md defines each; '-' is undefined for that policy (in a paired row, for it or the "
        "baseline), or an interval too few runs give):"
    ]
    width = max(len(m) for m in metrics)
    for m in metrics:
        entry = CATALOGUE.get(m)  # a product line's metric (family:line) is titled with its line
        if entry is None:
            continue
        lines.append(f"  {m:<{width}}  {entry.title} [{entry.unit}], {WHOLE_RUN[entry.aggregate]}; {better(m)}")
    return "\n".join(lines)


def stress_table(
    impacts: pd.DataFrame,
    recovery: pd.DataFrame,
    stresses: list[str],
    order: list[str],
    inert: dict[str, list[str]],
) -> str:
    """Per stress and policy: profit against the unshocked run (mean paired difference, relative) and the
    quarters its revenue takes to recover; a stress in ``inert[policy]`` changed none of that policy's runs."""
    d = impacts[impacts.metric == "profit"].set_index(["shock", "policy"])
    rec = recovery.set_index(["shock", "policy"])
    rows = []
    for shock in stresses:
        cells = []
        for p in order:
            if (shock, p) not in d.index:
                cells.append("-")
                continue
            if shock in inert.get(p, ()):
                cells.append("changed nothing")
                continue
            known = (shock, p) in rec.index
            said = recovery_words(rec.at[(shock, p), "verdict"], rec.at[(shock, p), "quarters"], True) if known else "-"
            cells.append(f"{pct(d.at[(shock, p), 'relative'])} ({said})")
        rows.append((shock, cells))
    # As wide as the widest cell and two spaces: cells right-aligned with no separator had run together.
    width = max(30, *(len(p) + 2 for p in order), *(len(c) + 2 for _, cells in rows for c in cells))
    # The verdict in brackets is of revenue's recovery, not profit's (a VP read "not back" as profit's).
    lines = [f"{'profit vs unshocked (revenue back?)':<36}" + "".join(f"{p:>{width}}" for p in order)]
    lines += [f"{shock:<36}" + "".join(f"{c:>{width}}" for c in cells) for shock, cells in rows]
    return "\n".join(lines)


#: Above this miss rate under every policy, ``covsim run`` and the answers of ``compare`` and ``experiment`` say
#: most opportunities are missed [A]; with every policy's utilisation at least ``SHORT_HANDED_USE`` [A], that the
#: team is short-handed, else that its reps have hours to spare (the misses are leads no rep is given).
SHORT_HANDED, SHORT_HANDED_USE = 0.5, 0.8


def every_loss(profits: list[float], policies: list[str]) -> str:
    """What is said when every one of ``policies`` (two or more) makes a loss, their mean ``profits`` all below 0;
    else "": a director's 100,000 seats on 5,000 accounts read "unstructured has the best mean", both losing 17bn."""
    if len(policies) < 2 or not all(p < 0 for p in profits):  # a NaN is no loss
        return ""
    low, high = profits.index(min(profits)), profits.index(max(profits))
    return (
        f"Every policy makes a loss here (mean profit from {money(profits[low])} under {policies[low]} to "
        f"{money(profits[high])} under {policies[high]}): the best is the smallest loss, the team's cost above the "
        "margin its sales make."
    )


def missing_most(rates: list[float], used: list[float], policies: list[str], basis: str) -> str:
    """What is said when every one of ``policies`` misses more than ``SHORT_HANDED`` of its opportunities (their
    miss ``rates`` and utilisations ``used``, ``basis`` saying of what they are the means); else "". A VP's
    comparison at 80% misses under each model had read as a verdict on the models alone; a run whose reps used
    half their hours, every miss a lead routed to nobody, had been called short-handed, as if hiring would help."""
    if not rates or not all(r > SHORT_HANDED for r in rates):  # a NaN is no rate above it
        return ""
    spread = joined_range(fmt("miss_rate", min(rates)), fmt("miss_rate", max(rates)))
    use = joined_range(fmt("utilisation", min(used)), fmt("utilisation", max(used))) if used else "-"
    who, model = (
        ("every policy misses", "each model does") if len(policies) > 1 else (f"{policies[0]} misses", "the model does")
    )
    if used and all(u >= SHORT_HANDED_USE for u in used):
        return (
            f"Short-handed: {who} most of its opportunities here (miss rate {spread}, {basis}) with {use} of the "
            f"selling hours used: the team has far fewer hours than its world's work, so this shows what {model} "
            "with too few hours."
        )
    return (
        f"Hours to spare: {who} most of its opportunities here (miss rate {spread}, {basis}) with only {use} of the "
        "selling hours used: the misses are leads no rep is given or reaches (their causes say which), not too few "
        "hours."
    )


def joined_range(low: str, high: str) -> str:
    """``low`` alone where the two show alike, else ``low to high``."""
    return low if low == high else f"{low} to {high}"
