"""Terminal text tables: one run by quarter, runs side by side, an experiment's means and paired differences.

Values are shown in their metric's unit (``sim.format.fmt``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence

import pandas as pd

from sim.catalogue import CATALOGUE, better
from sim.codes import CAUSES, ROLES, SERVICE_MEANINGS, SERVICES
from sim.format import (
    MONEY_SCALES,
    counted,
    difference,
    difference_with_interval,
    fmt,
    interval,
    joined,
    no_spread_words,
    p_value,
    pct,
    recovery_words,
    value_beside,
)
from sim.metrics import run_totals
from sim.records import ALL

# ---- runs ----------------------------------------------------------------------


def _wide(metrics: pd.DataFrame, segment: str = ALL) -> pd.DataFrame:
    m = metrics[metrics["segment"] == segment]
    return m.pivot_table(index="quarter", columns="metric", values="value", aggfunc="first", dropna=False)


def _main_causes(row: pd.Series, top: int = 2) -> str:
    """The ``top`` causes of the quarter's misses with their share of the misses (one that rounds to 0% is no main
    cause)."""
    counts = {c: row.get(f"missed_{c}", 0.0) for c in CAUSES}
    total = sum(counts.values())
    if total <= 0:
        return "-"
    best = sorted(counts.items(), key=lambda kv: -kv[1])[:top]
    shown = [(c.replace("_", " "), f"{100 * v / total:.0f}%") for c, v in best]
    return ", ".join(f"{c} {pct}" for c, pct in shown if pct != "0%")


#: The metrics of quarter_table's columns, besides the main causes of misses.
_QUARTER_METRICS = (
    "revenue_captured",
    "recurring_revenue",
    "opps_won",
    "opps_lost",
    "opps_missed",
    "never_contacted_share",
    "response_days_mean",
    "response_days_p90",
    "utilisation",
)


def quarter_table(metrics: pd.DataFrame) -> str:
    """Per-quarter summary of one run (segment all)."""
    w = _wide(metrics)
    header = (
        f"{'Q':>2} {'revenue':>9} {'recurring':>9} {'won':>6} {'lost':>6} {'missed':>6}  "
        f"{'main causes of misses':<34} {'untouched':>9} {'resp d':>6} {'p90 d':>6} {'util':>6}"
    )
    lines = [header, "-" * len(header)]
    for q, row in w.iterrows():
        v = {m: fmt(m, row[m]) for m in _QUARTER_METRICS}
        lines.append(
            f"{q:>2} {v['revenue_captured']:>9} {v['recurring_revenue']:>9} "
            f"{v['opps_won']:>6} {v['opps_lost']:>6} {v['opps_missed']:>6}  "
            f"{_main_causes(row):<34} {v['never_contacted_share']:>9} "
            f"{v['response_days_mean']:>6} {v['response_days_p90']:>6} {v['utilisation']:>6}"
        )
    lines.append(
        "revenue: won value of new logos and expansions plus renewals a rep won (a contract that renews on its own "
        "is in recurring);"
    )
    lines.append(
        "untouched: share of live accounts no rep has worked since the start; resp d / p90 d: business days to "
        "first response, of on-time answers only (mean / 90th percentile);"
    )
    lines.append("util: share of selling hours used.")
    return "\n".join(lines)


#: (label, metric) rows of the side-by-side comparison; a row with no metric is a heading.
COMPARISON_ROWS: list[tuple[str, str]] = [
    ("Revenue captured", ""),
    ("  revenue captured (won + renewals a rep won)", "revenue_captured"),
    ("  recurring revenue recognised", "recurring_revenue"),
    ("  share of potential, last quarter", "share_of_potential"),
    ("Opportunities", ""),
    ("  created", "opps_created"),
    ("    of them new logos", "opps_created_new_logo"),
    ("    of them expansions", "opps_created_expansion"),
    ("    of them renewals", "opps_created_renewal"),
    ("  won", "opps_won"),
    ("  lost", "opps_lost"),
    ("  missed", "opps_missed"),
    *[(f"    missed: {c.replace('_', ' ')}", f"missed_{c}") for c in CAUSES],
    ("  miss rate (mean of quarters)", "miss_rate"),
    ("  new-logo win rate (mean of quarters)", "win_rate_new_logo"),
    # Who answers the accounts in no book, beside the books: named_accounts left them to the digital channel and
    # hunter_farmer to a queue of two inside seats, and a VP read the queue's misses as the split's.
    ("Coverage (live accounts, mean of quarters)", ""),
    *[(f"  {SERVICE_MEANINGS[s]}", f"accounts_{s}") for s in reversed(SERVICES)],
    ("Consistency of treatment (mean of quarters)", ""),
    ("  promised a touch, got none", "promised_untouched_share"),
    ("  Gini of touch-hours", "touch_gini"),
    ("  response time, mean (days, on-time answers)", "response_days_mean"),
    ("  response time, p90 (days, on-time answers)", "response_days_p90"),
    ("  response time, sd across reps", "response_days_rep_sd"),
    ("  rep lottery (sd of on-time answer by who picked up)", "rep_lottery"),
    ("  SLA breach rate (not answered in the window)", "sla_breach_rate"),
    ("  conflicting engagements (sum)", "conflicting_engagements"),
    ("Continuity", ""),
    ("  accounts changing owner (mean of quarters)", "owner_changed_share"),
    ("  personal relationship lost (sum)", "personal_stock_lost"),
    ("  warm hand-off hours (sum)", "handoff_hours"),
    ("Effort and cost", ""),
    ("  utilisation", "utilisation"),
    ("  hours on low-value accounts", "low_value_hours_share"),
    ("  cost of sales", "cost_of_sales"),
    ("  profit (margin on recurring - cost of sales)", "profit"),
    ("  revenue per rep (per quarter)", "revenue_per_rep"),
    ("Customer base", ""),
    ("  customers at the end", "customers"),
    ("  churned", "churned"),
    ("    of them at renewal", "churned_at_renewal"),
    ("  new logos", "new_logos"),
    ("  never contacted at the end", "never_contacted_share"),
]


def whole_run(metrics: pd.DataFrame, segment: str = ALL) -> tuple[pd.Series, list[str]]:
    """Whole-run totals of ``segment`` by (metric, policy) of runs' tidy metrics (one seed each), and the
    policies in the order they ran: what :func:`run_answer` and :func:`comparison_table` read."""
    totals = run_totals(metrics)
    totals = totals[totals["segment"] == segment].set_index(["metric", "policy"])["value"]
    return totals, list(dict.fromkeys(metrics["policy"]))


def comparison_table(totals: pd.Series, policies: list[str]) -> str:
    """Whole-run figures of several policies side by side (:func:`whole_run`)."""
    width = max(14, *(len(p) + 2 for p in policies))
    label_w = max(len(r[0]) for r in COMPARISON_ROWS) + 2
    lines = [f"{'':<{label_w}}" + "".join(f"{p:>{width}}" for p in policies)]
    for label, metric in COMPARISON_ROWS:
        if not metric:
            lines.append(label)
            continue
        values = [float(totals.get((metric, p), float("nan"))) for p in policies]
        lines.append(f"{label:<{label_w}}" + "".join(f"{fmt(metric, v):>{width}}" for v in values))
    return "\n".join(lines)


def _as_shown(text: str) -> float:
    """A money figure as :func:`sim.format.money` shows it (``68.1M``, ``-702.7k``, ``640``), as a number."""
    scale = dict(MONEY_SCALES).get(text[-1:], 1.0)
    return float(text.rstrip("".join(dict(MONEY_SCALES))).replace(",", "")) * scale


def run_answer(totals: pd.Series, policies: list[str]) -> str:
    """The sentence ``covsim run`` opens with (:func:`whole_run`'s totals): which policy made the most profit over
    the run, by how much against the first, and the revenue each captured; of one policy, its profit and revenue;
    one seed each, so no interval (compare replicates). Profit leads, as compare's answer does: revenue captured
    counts a renewal a rep touched at its whole value, though it might have renewed without one."""
    first = policies[0]
    profit = {p: float(totals.get(("profit", p), float("nan"))) for p in policies}
    revenue = {p: float(totals.get(("revenue_captured", p), float("nan"))) for p in policies}
    if len(policies) == 1:
        return (
            # Profit is not a margin on revenue captured: "56.9M of revenue, at a profit of 35.8M" read as 63%.
            f"Answer: over the run, {first} made a {'loss' if profit[first] < 0 else 'profit'} of "
            f"{fmt('profit', abs(profit[first]))}, the margin on all "
            f"recurring revenue less the cost of sales; it captured {fmt('revenue_captured', revenue[first])} of "
            "revenue (the new logos and expansions won, by reps, partners or the digital channel, and the renewals "
            "reps won). One seed, so no interval: `covsim compare` replicates and compares policies."
        )
    best = max(policies, key=lambda p: profit[p] if math.isfinite(profit[p]) else -math.inf)
    others = "".join(
        f"; {p} {fmt('profit', profit[p])} ({difference('profit', profit[p] - profit[first])} against {first})"
        for p in policies[1:]
    )
    # 68.1M and 67.1M "(-1.1M against ...)" read as a slip to a VP: said where the figures shown disagree.
    if any(
        difference("profit", profit[p] - profit[first])
        != difference("profit", _as_shown(fmt("profit", profit[p])) - _as_shown(fmt("profit", profit[first])))
        for p in policies[1:]
        if math.isfinite(profit[p] - profit[first])
    ):
        others += " (each difference of the unrounded figures)"
    tied = [p for p in policies if profit[p] == profit[best]] or [best]  # none: no figure at all (NaN)
    made = "lost the least" if profit[best] < 0 else "made the most profit"  # of a loss, "the most profit" misreads
    most = f"{best} {made}" if len(tied) == 1 else f"{joined(tied)} made the same profit, the most"
    captured = ", ".join(f"{p} {fmt('revenue_captured', revenue[p])}" for p in policies)
    busiest = max(policies, key=lambda p: revenue[p] if math.isfinite(revenue[p]) else -math.inf)
    # More revenue with less profit reads as a contradiction unless the two are told apart (a sales leader).
    # Said only where the figures printed differ: 1.04M against 1.03M both print as 1.0M.
    apart = (
        f"; the most revenue captured is {busiest}'s, not {best}'s: profit is the margin on all recurring revenue "
        "less the cost of sales, revenue captured counts the new logos and expansions won and the renewals reps won "
        "(a renewal a rep touched at its whole value, though it might have renewed without one)"
        if len(tied) == 1
        and math.isfinite(profit[best])
        and math.isfinite(revenue[busiest])
        and revenue[busiest] > revenue[best]
        and fmt("revenue_captured", revenue[busiest]) != fmt("revenue_captured", revenue[best])
        else ""
    )
    return (
        f"Answer: over the run, {most}: {first} {fmt('profit', profit[first])}{others}. Revenue captured: "
        f"{captured}{apart}. One seed each, so no interval: `covsim compare` pairs replications and says which "
        "differences are more than noise."
    )


# ---- experiments ---------------------------------------------------------------


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
    p_text = "" if shown == "-" else f" p{shown}" if shown.startswith("<") else f" p={shown}"
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
    """What each metric of the tables is, in words: its title, unit and better direction (docs/metrics.md
    defines each)."""
    lines = [
        "Metrics (docs/metrics.md defines each; '-' is undefined for that policy (in a paired row, for it or the "
        "baseline), or an interval too few runs give):"
    ]
    width = max(len(m) for m in metrics)
    for m in metrics:
        entry = CATALOGUE.get(m)  # a product line's metric (family:line) is titled with its line
        if entry is None:
            continue
        lines.append(f"  {m:<{width}}  {entry.title} [{entry.unit}]; {better(m)}")
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
    width = max(30, *(len(p) + 2 for p in order))
    # The verdict in brackets is of revenue's recovery, not profit's (a VP read "not back" as profit's).
    lines = [f"{'profit vs unshocked (revenue back?)':<36}" + "".join(f"{p:>{width}}" for p in order)]
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
        lines.append(f"{shock:<36}" + "".join(f"{c:>{width}}" for c in cells))
    return "\n".join(lines)


#: Above this miss rate under every policy, ``covsim run`` and the answers of ``compare`` and ``experiment`` say
#: most opportunities are missed [A]; with every policy's utilisation at least ``SHORT_HANDED_USE`` [A], that the
#: team is short-handed, else that its reps have hours to spare (the misses are leads no rep is given).
SHORT_HANDED, SHORT_HANDED_USE = 0.5, 0.8


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


def short_handed_run(totals: pd.Series, policies: list[str]) -> str:
    """``covsim run``'s note on most opportunities missed (:func:`missing_most`, of the run totals of
    :func:`whole_run`), as compare's answer says it; else "". A VP's run missed 79% under a model, unsaid."""
    rates = [float(totals.get(("miss_rate", p), float("nan"))) for p in policies]
    used = [float(totals.get(("utilisation", p), float("nan"))) for p in policies]
    return missing_most(rates, used, policies, "mean of quarters")


def idle_seats_of_run(seats: pd.DataFrame, policies: list[str]) -> str:
    """``covsim run``'s line on the seats a policy gave no work over the whole run (no hours, though filled for
    some weeks), by role: ``its sdr seats`` when a role's every seat is idle, ``12 of its 35 full_cycle seats``
    when some are; "" when none. They count in its cost of sales and utilisation all the same (``compare`` says
    it of roles, against the policies that work them). A run of one policy had said nothing of seven idle seats,
    and a hunter-and-farmer split of a calibrated team nothing of the 12 hunters with nobody to hunt."""
    said, n = [], 0
    for policy in policies:
        run = (
            seats[seats.policy == policy]
            .groupby("seat")
            .agg(role=("role", "first"), hours=("hours", "sum"), filled=("weeks_filled", "sum"))
        )
        run = run[run.filled > 0]
        idle = run[run.hours == 0].groupby("role").size()
        if idle.empty:
            continue
        n += int(idle.sum())
        every = run.groupby("role").size()
        whole = [r for r in ROLES if r in idle.index and idle[r] == every[r]]
        some = [f"{idle[r]} of its {every[r]} {r} seats" for r in ROLES if r in idle.index and r not in whole]
        seats_of = "seat" if sum(every[r] for r in whole) == 1 else "seats"  # small.toml has one sdr
        said.append(f"{policy} gives {joined(([f'its {joined(whole)} {seats_of}'] if whole else []) + some)} no work")
    if not said:
        return ""
    whose = "its" if len(said) == 1 else "each one's"
    they = "that seat counts" if n == 1 else "those seats count"
    return (
        f"Note: {' in the run; '.join(said)} in the run: {they} in {whose} cost of sales and utilisation all the same."
    )
