"""Terminal text of ``covsim run``: one run by quarter, runs side by side (with the overlay's rows in a world with
product lines), the answer in a sentence, and its notes (most opportunities missed, seats given no work).

Values are shown in their metric's unit (``sim.format.fmt``).
"""

from __future__ import annotations

import math

import pandas as pd

from sim.catalogue import REVENUE_PARTS, line_metric
from sim.codes import CAUSES, ROLES, SERVICE_MEANINGS, SERVICES
from sim.format import MONEY_SCALES, difference, fmt, joined
from sim.metrics import run_totals
from sim.records import ALL
from sim.tables import missing_most


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
    ("  SLA breach (unanswered in window, unowned too)", "sla_breach_rate"),
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


def _line_rows(totals: pd.Series) -> list[tuple[str, str]]:
    """The overlay's rows, for a world with product lines (its ``<family>:<line>`` metrics in ``totals``): what
    overlays are compared by, which a VP had to ask for one by one (the run's table had the conflicts alone)."""
    lines = sorted({m.split(":", 1)[1] for m in totals.index.get_level_values(0) if m.startswith("won_value_line:")})
    if not lines:
        return []
    return [
        ("Overlay and product lines", ""),
        ("  deals decided in conflict (sum)", "opps_decided_in_conflict"),
        ("  win rate of deals decided in conflict", "win_rate_in_conflict"),
        ("  account-plan (coordination) hours (sum)", "coordination_hours"),
        ("  specialist utilisation", "utilisation_specialist"),
        *[(f"  won value, {line}", line_metric("won_value_line", line)) for line in lines],
        *[
            row
            for line in lines
            for row in (
                (f"  specialist touches made, {line}", line_metric("specialist_touches_line", line)),
                (f"  specialist touches planned, {line}", line_metric("specialist_touches_planned_line", line)),
            )
        ],
        *[(f"  missed, {line}", line_metric("opps_missed_line", line)) for line in lines],
    ]


def comparison_table(totals: pd.Series, policies: list[str]) -> str:
    """Whole-run figures of several policies side by side (:func:`whole_run`), with the overlay's rows in a world
    with product lines."""
    width = max(14, *(len(p) + 2 for p in policies))
    rows = [*COMPARISON_ROWS, *_line_rows(totals)]
    label_w = max(len(r[0]) for r in rows) + 2
    lines = [f"{'':<{label_w}}" + "".join(f"{p:>{width}}" for p in policies)]
    for label, metric in rows:
        if not metric:
            lines.append(label)
            continue
        values = [float(totals.get((metric, p), float("nan"))) for p in policies]
        lines.append(f"{label:<{label_w}}" + "".join(f"{fmt(metric, v):>{width}}" for v in values))
    if len(rows) > len(COMPARISON_ROWS):  # a new user's lines summed to a seventh of revenue captured
        lines.append(
            "won value and missed by line: new logos and expansions; a renewal is in no line (docs/metrics.md)"
        )
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
        # Its parts, where the run has them: a CRM analyst's export had no renewals, and 60% of the run's revenue
        # was renewals reps won, which the sentence had not told apart.
        new, grown, renewed = (float(totals.get((m, first), float("nan"))) for m in REVENUE_PARTS)
        parts = (
            f": new logos {fmt('revenue_captured', new)} and expansions {fmt('revenue_captured', grown)} won (by "
            f"reps, partners or the digital channel), renewals reps won {fmt('revenue_captured', renewed)}"
            if math.isfinite(new + grown + renewed)
            else " (the new logos and expansions won, by reps, partners or the digital channel, and the renewals "
            "reps won)"
        )
        return (
            # Profit is not a margin on revenue captured: "56.9M of revenue, at a profit of 35.8M" read as 63%.
            f"Answer: over the run, {first} made a {'loss' if profit[first] < 0 else 'profit'} of "
            f"{fmt('profit', abs(profit[first]))}, the margin on all "
            f"recurring revenue less the cost of sales; it captured {fmt('revenue_captured', revenue[first])} of "
            f"revenue{parts}. One seed, so no interval: `covsim compare` replicates and compares policies."
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


def run_why(metrics: pd.DataFrame, totals: pd.Series, policies: list[str], relationship: object) -> str:
    """``Why (one seed each): ...``, beside :func:`run_answer`'s sentence: what the profit lead of
    the policy that made the most is made of against the first policy (against the next best, when it is the first),
    by segment, kind of deal and miss cause, from the one run of each (``why.why``); "" when nothing is said.
    ``relationship``: the scenario's relationship table, whose assumed lifts the Why names where they act. A sales
    leader's run said which policy made more, not why."""
    profit = {p: float(totals.get(("profit", p), float("nan"))) for p in policies}
    ranked = sorted((p for p in policies if math.isfinite(profit[p])), key=lambda p: -profit[p])
    if len(ranked) < 2 or profit[ranked[0]] == profit[ranked[1]]:
        return ""
    # Here, not above: the report package loads matplotlib and scipy, which a run of one policy never needs.
    from sim.experiment.report.assumed import assumed
    from sim.experiment.report.why import why, why_values

    other = policies[0] if ranked[0] != policies[0] and policies[0] in ranked else ranked[1]
    values = why_values(metrics.assign(point=0, replication=0), "profit")
    return why(values, "profit", 0, ranked[0], other, "", str, assumed(vars(relationship), [])).strip()


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
