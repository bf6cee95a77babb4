"""The metric catalogue: one record per metric a run emits, with everything known about it.

A record names a metric once: its one-line definition (docs/metrics.md has the full one), unit, how a run summarises
its quarters, figure title and, where known, whether more is better. ``sim.metrics``, the tables, formats and report
read it; nothing else keeps metric metadata. Pure data: no numpy, pandas or matplotlib.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping

from sim.codes import ACTIVITIES, CAUSE_MEANINGS, CAUSES, OPPORTUNITY_KINDS, ROLES, SERVICE_MEANINGS, SERVICES
from sim.metric_record import Metric, spaced
from sim.units import Unit

_METRICS = (
    # Revenue captured
    Metric(
        "revenue_captured",
        Unit.CURRENCY,
        "sum",
        "won value of new logos and expansions plus retained renewal value, in the quarter (currency)",
        title="revenue captured (won + renewals a rep won)",
        higher_is_better=True,
    ),
    Metric("won_value_new_logo", Unit.CURRENCY, "sum", "first-year value of new-logo deals won in the quarter"),
    Metric("won_value_expansion", Unit.CURRENCY, "sum", "added annual spend from expansions won in quarter (currency)"),
    Metric(  # no direction: more of it can be renewals worked that would have renewed anyway (docs/metrics.md)
        "retained_spend",
        Unit.CURRENCY,
        "sum",
        "annual spend renewed by renewal deals reps won in the quarter (a contract renewing on its own is not in it)",
    ),
    Metric(
        "recurring_revenue",
        Unit.CURRENCY,
        "sum",
        "spend of customers recognised week by week in the quarter, spend/52 a week (currency)",
        title="recurring revenue recognised",
        higher_is_better=True,
    ),
    Metric("share_of_potential", Unit.SHARE, "last", "recurring_revenue / (sum of all accounts' potential x 13/52)"),
    Metric("partner_margin", Unit.CURRENCY, "sum", "value kept by channel partners from the deals they won (currency)"),
    # Opportunities
    Metric("opps_created", Unit.OPPORTUNITIES, "sum", "opportunities that arose in the quarter"),
    *(
        Metric(f"opps_created_{k}", Unit.OPPORTUNITIES, "sum", f"{words} opportunities that arose in the quarter")
        for k, words in zip(OPPORTUNITY_KINDS, ("new-logo", "expansion", "renewal"), strict=True)
    ),
    Metric(
        "opps_won",
        Unit.OPPORTUNITIES,
        "sum",
        "opportunities won in the quarter (by reps, partners or the digital channel)",
        title="opportunities won",
    ),
    Metric(
        "opps_lost",
        Unit.OPPORTUNITIES,
        "sum",
        "opportunities lost in the quarter (decided against us, or the customer churned)",
    ),
    Metric(
        "opps_missed",
        Unit.OPPORTUNITIES,
        "sum",
        "opportunities missed in the quarter (sum of the six causes)",
        title="opportunities missed",
        higher_is_better=False,
    ),
    *(
        Metric(
            f"missed_{c}",
            Unit.OPPORTUNITIES,
            "sum",
            f"opportunities missed in the quarter: {CAUSE_MEANINGS[c]} (docs/metrics.md)",
            higher_is_better=False,
        )
        for c in CAUSES
    ),
    Metric(
        "opps_missed_renewal",
        Unit.OPPORTUNITIES,
        "sum",
        "renewal opportunities missed in the quarter, every cause (the contract may still renew on its own)",
        title="renewals missed",
        higher_is_better=False,
    ),
    Metric(
        "miss_rate",
        Unit.SHARE,
        "mean",
        "opps_missed / (opps_won + opps_lost + opps_missed), of opportunities closed in the quarter",
        title="miss rate of closed opportunities",
        higher_is_better=False,
    ),
    Metric("win_rate", Unit.SHARE, "mean", "opps_won / (opps_won + opps_lost)"),
    Metric(
        "win_rate_new_logo",
        Unit.SHARE,
        "mean",
        "new-logo opportunities won / (won + lost) in the quarter (falls with slower first responses)",
        higher_is_better=True,
    ),
    Metric(
        "win_rate_new_logo_reps",
        Unit.SHARE,
        "mean",
        "of the new-logo opportunities reps or partners worked (not the digital channel), won / (won + lost)",
        title="new-logo win rate of the leads reps worked",
        higher_is_better=True,
    ),
    Metric("opps_open", Unit.OPPORTUNITIES, "last", "opportunities still open at the end of the quarter"),
    Metric(
        "cycle_weeks_mean",
        Unit.WEEKS,
        "mean",
        "mean weeks from arrival to close of the opportunities won or lost in the quarter (closed at a week's end)",
    ),
    Metric("digital_won", Unit.OPPORTUNITIES, "sum", "opportunities won by the digital channel with no rep time"),
    # Coverage
    *(
        Metric(
            f"accounts_{s}",
            Unit.ACCOUNTS,
            "mean",
            f"live accounts (prospects and customers) {SERVICE_MEANINGS[s]} in the quarter's plan",
            title=f"accounts {SERVICE_MEANINGS[s]}",
        )
        for s in SERVICES
    ),
    # Consistency of treatment
    Metric(
        "promised_untouched_share",
        Unit.SHARE,
        "mean",
        "share of accounts promised a touch (cadence > 0) that got no rep task of any kind in the quarter (a "
        "touch, a response or deal work)",
        title="promised a touch, got no rep task",
        higher_is_better=False,
    ),
    Metric(
        "touch_gini",
        Unit.GINI,
        "mean",
        "Gini coefficient of touch-hours across the segment's live accounts in the quarter",
    ),
    Metric(
        "response_days_mean",
        Unit.BUSINESS_DAYS,
        "mean",
        "mean business days from arrival to first response, over the quarter's on-time first responses (a late or "
        "missing answer is a miss, not in it)",
        title="response time, mean (on-time answers)",
    ),
    Metric(
        "response_days_p90",
        Unit.BUSINESS_DAYS,
        "mean",
        "90th percentile of the business days from arrival to first response, over the quarter's on-time first "
        "responses (as response_days_mean)",
        title="response time, 90th percentile (on-time answers)",
    ),
    Metric(
        "response_days_rep_sd",
        Unit.BUSINESS_DAYS,
        "mean",
        "standard deviation across reps of each rep's mean response time (reps with >= 3 responses)",
    ),
    Metric(
        "rep_lottery",
        Unit.PROBABILITY_SD,
        "mean",
        "how much comparable opportunities' chance of an answer inside the service window depends on which rep, or "
        "nobody, picked them up (explained standard deviation within segment x potential band x service level)",
        title="rep lottery (who picks you up matters)",
        higher_is_better=False,
    ),
    Metric(
        "sla_breach_rate",
        Unit.SHARE,
        "mean",
        "share of opportunities whose response stage ended in the quarter without a response inside the service-level "
        "window",
        title="response window missed (SLA breach)",
        higher_is_better=False,
    ),
    Metric(
        "conflicting_engagements",
        Unit.ACCOUNTS,
        "sum",
        "accounts that had a week in the quarter when two or more closing reps worked them without coordination",
        higher_is_better=False,
    ),
    Metric(
        "opps_decided_in_conflict",
        Unit.OPPORTUNITIES,
        "sum",
        "deals won or lost in the quarter whose account had a week of conflicting engagement while they were open "
        "(decided with conflict_penalty)",
    ),
    Metric("win_rate_in_conflict", Unit.SHARE, "mean", "of the deals decided in conflict, the share won"),
    Metric(
        "conflict_stock_lost",
        Unit.STOCK,
        "sum",
        "relationship stock accounts lost to weeks of conflicting engagement in the quarter (touch-equivalents)",
        title="relationship lost to conflicts",
        higher_is_better=False,
    ),
    Metric(
        "account_plans_unmade",
        Unit.ACCOUNTS,
        "sum",
        "accounts the plan marked coordinated in the quarter whose team had no hours left for their account plan "
        "(so not coordinated: coordination_hours per seat, at most half a seat's week)",
        title="account plans unmade",
    ),
    # Continuity
    Metric(
        "owner_changed_share",
        Unit.SHARE,
        "mean",
        "of the accounts with an owner in the previous quarter's plan and still live, the share whose owner is "
        "another seat or none in this quarter's (after any realignment)",
        title="accounts that changed owner",
        higher_is_better=False,
    ),
    Metric(
        "personal_stock_lost",
        Unit.STOCK,
        "sum",
        "personal relationship stock lost when accounts changed hands in the quarter (touch-equivalents)",
        title="personal relationship lost",
        higher_is_better=False,
    ),
    Metric(
        "handoff_hours",
        Unit.HOURS,
        "sum",
        "hours of warm hand-offs planned in the quarter (both reps together); they come off selling hours",
    ),
    Metric(
        "coordination_hours",
        Unit.HOURS,
        "sum",
        "hours the seats spent on account plans in the quarter: coordination_hours for each seat of each coordinated "
        "account's team, spread over the weeks; they come off selling hours (segment all only)",
    ),
    # Effort and cost
    *(Metric(f"hours_{a}", Unit.HOURS, "sum", f"rep hours spent on {a} in the quarter") for a in ACTIVITIES),
    Metric("hours_total", Unit.HOURS, "sum", "rep hours spent on customer work in the quarter (all activities)"),
    Metric(
        "hours_low_value",
        Unit.HOURS,
        "sum",
        "rep hours spent on low-value accounts (potential below the scenario's low_value_quantile)",
    ),
    Metric("low_value_hours_share", Unit.SHARE, "mean", "hours_low_value / hours_total"),
    Metric(
        "capacity_hours", Unit.HOURS, "sum", "selling hours available to filled seats in the quarter (segment all only)"
    ),
    Metric(
        "utilisation", Unit.SHARE, "mean", "hours_total / capacity_hours (segment all only)", title="rep utilisation"
    ),
    *(
        m
        for r in ROLES
        for m in (
            Metric(f"hours_role_{r}", Unit.HOURS, "sum", f"hours worked by {r} seats (segment all only)"),
            Metric(f"utilisation_{r}", Unit.SHARE, "mean", f"hours / capacity of {r} seats (segment all only)"),
            Metric(f"seats_{r}", Unit.SEATS, "last", f"{r} seats filled some week since the start (segment all only)"),
            Metric(f"idle_seats_{r}", Unit.SEATS, "last", f"of seats_{r}, those with no hour of work since the start"),
        )
    ),
    Metric(
        "cost_of_sales",
        Unit.CURRENCY,
        "sum",
        "cost of filled seats, prorated by week, plus partner margins (currency, segment all only)",
        title="cost of sales",
    ),
    Metric("cost_of_sales_ratio", Unit.RATIO, "mean", "cost_of_sales / revenue_captured (segment all only)"),
    Metric(
        "revenue_per_rep",
        Unit.CURRENCY,
        "mean",
        "revenue_captured / average filled own seats in the quarter (segment all only)",
    ),
    Metric(
        "profit",
        Unit.CURRENCY,
        "sum",
        "gross_margin x recurring_revenue - cost_of_sales (currency, segment all only)",
        title="profit (margin on recurring revenue less the cost of sales)",
        higher_is_better=True,
        bounds=(None, None),  # a loss when the team costs more than the margin it brings
    ),
    # Customer base
    Metric(
        "customers",
        Unit.ACCOUNTS,
        "last",
        "accounts that are customers at the end of the quarter",
        title="customers at the end",
        higher_is_better=True,
    ),
    Metric("prospects", Unit.ACCOUNTS, "last", "accounts that are prospects at the end of the quarter"),
    Metric(
        "churned",
        Unit.ACCOUNTS,
        "sum",
        "customers lost in the quarter (churn hazard, lost renewals, missed ones not renewed, shocks)",
        higher_is_better=False,
    ),
    Metric(
        "churned_at_renewal",
        Unit.ACCOUNTS,
        "sum",
        "customers whose contract a renewal ended in the quarter (renewal lost, or not renewed on the date)",
        higher_is_better=False,
    ),
    Metric("renewals_due", Unit.ACCOUNTS, "sum", "contracts that reached their renewal date in the quarter"),
    Metric(
        "renewal_rate",
        Unit.SHARE,
        "mean",
        "share of the contracts that reached their renewal date in the quarter that renewed: 1 - churned_at_renewal "
        "/ renewals_due",
        higher_is_better=True,
    ),
    Metric("new_logos", Unit.ACCOUNTS, "sum", "prospects won as customers in the quarter"),
    Metric("never_contacted", Unit.ACCOUNTS, "last", "live accounts no rep has worked since the start of the run"),
    Metric("never_contacted_share", Unit.SHARE, "last", "never_contacted / live accounts"),
)

#: Metrics kept for each product line when a scenario has several, named ``<family>:<line>``.
_LINE_FAMILIES = {
    m.name: m
    for m in (
        Metric(
            "won_value_line",
            Unit.CURRENCY,
            "sum",
            "won value of the line's new logos and expansions in the quarter (currency)",
            title="won value",
            higher_is_better=True,
        ),
        Metric(
            "opps_missed_line",
            Unit.OPPORTUNITIES,
            "sum",
            "the line's new-logo and expansion opportunities missed in the quarter (every cause)",
            title="opportunities missed",
            higher_is_better=False,
        ),
        Metric(
            "hours_line",
            Unit.HOURS,
            "sum",
            "rep hours on the line's opportunities and its specialists' touches in the quarter",
            title="hours",
        ),
        Metric(
            "specialist_touches_line",
            Unit.TOUCHES,
            "sum",
            "touches the line's specialists made on its accounts in the quarter (a visit or a call each)",
            title="specialist touches",
        ),
        Metric(
            "specialist_touches_planned_line",
            Unit.TOUCHES,
            "sum",
            "touches the quarter's plan asked of the line's specialists on its live accounts (the specialist cadence "
            "of each account with a specialist), against which specialist_touches_line is what they made",
            title="specialist touches planned",
        ),
    )
}

#: How a product line's metrics are named in templates (the catalogue lists each family once, so).
LINE_PLACEHOLDER = "<line>"


def line_metric(family: str, line: str) -> str:
    """The name of metric ``family`` for product ``line``: ``won_value_line:security``."""
    return f"{family}:{line}"


class _Catalogue(Mapping[str, Metric]):
    """The metrics by name; a product line's metric (``family:line``) is its family's record, renamed."""

    def __init__(self, metrics: tuple[Metric, ...]) -> None:
        self._fixed = {m.name: m for m in metrics}
        self._names = (*self._fixed, *(line_metric(f, LINE_PLACEHOLDER) for f in _LINE_FAMILIES))

    def __getitem__(self, name: str) -> Metric:
        if name in self._fixed:
            return self._fixed[name]
        family, sep, line = name.partition(":")
        if sep and line and family in _LINE_FAMILIES:
            m = _LINE_FAMILIES[family]
            return dataclasses.replace(m, name=name, title=f"{m.title} ({line})")
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


#: Every metric a run emits, by name, grouped as docs/metrics.md groups them; each line family once (``<family>:<line>``).
CATALOGUE: Mapping[str, Metric] = _Catalogue(_METRICS)


#: The metrics revenue captured is the sum of, by kind of deal: how the Why, the stress test and ``covsim run`` split it.
REVENUE_PARTS = ("won_value_new_logo", "won_value_expansion", "retained_spend")
#: Why a metric with no direction of better has none, by the start of its name (docs/metrics.md): a VP and a
#: director read "neither way is better in itself" beside new logos and a 90th-percentile response time as a mistake.
UNDIRECTED_WHY = {
    ("response_days_mean", "response_days_p90"): "only answers in time are counted: read it with sla_breach_rate",
    ("win_rate",): "a model can raise it by working fewer deals",
    ("hours_", "handoff_hours", "coordination_hours", "capacity_hours", "utilisation", "cost_of_sales"): "an input, "
    "worth what it brings",
    (*REVENUE_PARTS, "new_logos", "opps_won"): "a part that trades against the others: revenue and profit say "
    "the whole",
}
#: Names the prefixes above take that their reasons are not true of (a cost per unit of revenue nets what the input
#: brings; a win rate of conflicts only is not raised by working fewer deals).
UNDIRECTED_NOT = frozenset({"cost_of_sales_ratio", "win_rate_in_conflict"})


def better(name: str) -> str:
    """Which way is better for metric ``name``, in words. No direction is a choice, not an omission: more hours or
    new logos are better only for what they bring (a sales leader read the silence as a gap); ``UNDIRECTED_WHY``."""
    entry = CATALOGUE.get(name)
    higher = None if entry is None else entry.higher_is_better
    if higher is not None:
        return "higher is better" if higher else "lower is better"
    why = "" if name in UNDIRECTED_NOT else next((w for s, w in UNDIRECTED_WHY.items() if name.startswith(s)), "")
    return "neither way is better in itself" + (f" ({why})" if why else "")


def title(name: str) -> str:
    """A metric's title in figures; the spaced name for a metric the catalogue does not hold."""
    metric = CATALOGUE.get(name)
    return metric.title if metric else spaced(name)
