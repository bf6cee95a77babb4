"""Metrics: pure functions from a quarter's tallies and account snapshot to tidy rows.

Every metric has one function here, one record in ``sim.catalogue`` and one entry in docs/metrics.md. Rows are
``(segment, metric, value)``; the segment ``all`` is the whole population. A value is NaN where the metric is
undefined (a rate with nothing to divide by), never a made-up zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.catalogue import CATALOGUE, line_metric
from sim.clock import WEEKS_PER_QUARTER, WEEKS_PER_YEAR
from sim.codes import ACTIVITIES, CAUSES, OPPORTUNITY_KINDS, ROLES, SERVICES, Kind, Service, Status
from sim.distinct import distinct_inverse
from sim.errors import InputError
from sim.records import ALL
from sim.tally import AccountQuarter, QuarterTally

__all__ = [
    "MIN_RESPONSES_PER_REP",
    "Row",
    "between_rep_sd",
    "explained_sd",
    "explained_sd_by_part",
    "gini",
    "gini_of_positive",
    "lorenz_curve",
    "potential_bands",
    "quantile",
    "quarter_rows",
    "ratio",
    "run_totals",
]

MIN_RESPONSES_PER_REP = 3

Row = tuple[str, str, float]

#: Comparable accounts for the rep lottery: the same segment and the same fifth of its potential.
POTENTIAL_BANDS = 5


def potential_bands(segment: np.ndarray, potential: np.ndarray, n_segments: int) -> np.ndarray:
    """Each account's potential band within its segment: 0 (lowest fifth) to 4 (highest), by rank (ties in
    account order).

    An account of rank r (from 0) among its segment's n is in band r * 5 // n, so band k starts at rank
    ceil(k n / 5); with no tie at those ranks' values, comparing each potential with them gives the same
    bands in linear time (``np.partition``) as sorting every account, which at millions of accounts took
    seconds. A tie falls back to the sort.
    """
    band = np.zeros(segment.size, dtype=np.int8)
    for s in range(n_segments):
        members = np.flatnonzero(segment == s)
        n = members.size
        if n == 0:
            continue
        values = potential[members]
        starts = [-(-k * n // POTENTIAL_BANDS) for k in range(1, POTENTIAL_BANDS)]
        starts = [r for r in starts if r < n]
        cuts = np.partition(values, starts)[starts] if starts else np.empty(0)
        if cuts.size and np.count_nonzero(np.isin(values, cuts)) > np.unique(cuts).size:
            band[members] = _ranked_bands(values)
            continue
        band[members] = np.searchsorted(cuts, values, side="right").astype(np.int8)
    return band


def _ranked_bands(values: np.ndarray) -> np.ndarray:
    """Bands by rank of ``values`` (one segment's potentials), ties in the order given."""
    order = np.argsort(values, kind="stable")
    band = np.empty(values.size, dtype=np.int8)
    band[order] = (np.arange(values.size) * POTENTIAL_BANDS // values.size).astype(np.int8)
    return band


def quarter_rows(
    tally: QuarterTally,
    accounts: AccountQuarter,
    segment_names: tuple[str, ...],
    gross_margin: float = 0.7,
    line_names: tuple[str, ...] = (),
) -> list[Row]:
    """All metrics of one quarter as (segment, metric, value) rows (``gross_margin``: see MetricsConfig;
    ``line_names``: the product lines whose metrics are wanted, none in a one-line world)."""
    rows: list[Row] = []
    groups = _AccountGroups.of(accounts, tally, len(segment_names))
    for s, name in [*enumerate(segment_names), (None, ALL)]:
        sel: slice | int = slice(None) if s is None else s
        for metric, value in _segment_metrics(tally, groups, sel):
            rows.append((name, metric, float(value)))
        for i, line in enumerate(line_names):
            rows.append((name, line_metric("won_value_line", line), _total(tally.won_value_line[i], sel)))
            rows.append((name, line_metric("opps_missed_line", line), _total(tally.missed_line[i], sel)))
            rows.append((name, line_metric("hours_line", line), _total(tally.hours_line[i], sel)))
            rows.append((name, line_metric("specialist_touches_line", line), _total(tally.touches_line[i], sel)))
            planned = _total(tally.touches_line_planned[i], sel)
            rows.append((name, line_metric("specialist_touches_planned_line", line), planned))
        if s is None:
            rows.extend((ALL, m, float(v)) for m, v in _team_metrics(tally, gross_margin))
    return rows


@dataclass(frozen=True)
class _AccountGroups:
    """The quarter's account snapshot reduced to what the metrics read, by segment.

    Counts and sums are by-segment vectors; the per-account values the metrics
    need in full (touch-hours of touched live accounts, covered accounts) are
    kept only for those accounts, with their segment, because at millions of
    accounts a full pass per segment and metric is most of a quarter's cost.
    """

    live: np.ndarray
    customers: np.ndarray
    prospects: np.ndarray
    potential: np.ndarray
    promised: np.ndarray
    promised_untouched: np.ndarray
    never_contacted: np.ndarray
    conflicts: np.ndarray
    open_opportunities: np.ndarray
    touched_segment: np.ndarray  # live accounts with touch-hours > 0 ...
    touched_hours: np.ndarray  # ... and those hours
    rep_lottery: np.ndarray  # by segment ...
    rep_lottery_all: float  # ... and of the whole population
    responses: tuple[np.ndarray, np.ndarray, np.ndarray]  # the quarter's first responses: segment, rep, days

    @classmethod
    def of(cls, a: AccountQuarter, t: QuarterTally, n_segments: int) -> _AccountGroups:
        counts = a.by_segment(n_segments)
        by_code = counts.by_code
        by_status = by_code.sum(axis=2)
        treated, by, in_time = t.treated()
        nobody = int(by.max(initial=0)) + 1  # "nobody picked it up" is one more group
        # The opportunities whose response stage ended, in time or not, by who answered (or was to), among
        # comparable accounts: segment x potential band x service level.
        treated_segment = a.segment[treated].astype(np.int64)  # gathered, then widened (not every account)
        comparable = (treated_segment * POTENTIAL_BANDS + a.band[treated]) * len(Service.names()) + a.service[treated]
        lottery, lottery_all = explained_sd_by_part(
            in_time.astype(np.float64), np.where(by >= 0, by, nobody), comparable, treated_segment, n_segments
        )
        return cls(
            live=(by_status[:, Status.PROSPECT] + by_status[:, Status.CUSTOMER]).astype(np.float64),
            customers=by_status[:, Status.CUSTOMER].astype(np.float64),
            prospects=by_status[:, Status.PROSPECT].astype(np.float64),
            potential=a.segment_potential,
            promised=counts.promised.astype(np.float64),
            promised_untouched=counts.promised_untouched.astype(np.float64),
            never_contacted=(by_code[:, Status.PROSPECT, 0] + by_code[:, Status.CUSTOMER, 0]).astype(np.float64),
            conflicts=counts.conflicts.astype(np.float64),
            open_opportunities=a.open_opportunities,
            touched_segment=counts.touched_segment,
            touched_hours=counts.touched_hours,
            rep_lottery=lottery,
            rep_lottery_all=lottery_all,
            responses=t.responses(),
        )


def _total(v: np.ndarray, sel: slice | int) -> float:
    """Sum of a by-segment array (last axis) over the selection."""
    # A quarter takes some 1,300 of these: one segment's entry of a vector is its own sum (0.2 us), and the
    # array's method sums as np.sum does without np.sum's Python wrapper (3 us against 6 us).
    if v.ndim == 1 and isinstance(sel, int):
        return float(v[sel])
    return float(v[..., sel].sum())


def _in(segment: np.ndarray, sel: slice | int) -> np.ndarray | slice:
    """Index of the entries of ``segment`` in the selection."""
    return sel if isinstance(sel, slice) else segment == sel


def _segment_metrics(t: QuarterTally, a: _AccountGroups, sel: slice | int) -> Iterator[tuple[str, float]]:
    won = {k: _total(t.won_value[i], sel) for i, k in enumerate(OPPORTUNITY_KINDS)}
    revenue = won["new_logo"] + won["expansion"] + won["renewal"]
    n_won, n_lost = _total(t.won, sel), _total(t.lost, sel)
    missed = [_total(t.missed[i], sel) for i in range(len(CAUSES))]
    n_missed = sum(missed)
    recurring = _total(t.recurring, sel)
    quarter_potential = _total(a.potential, sel) * WEEKS_PER_QUARTER / WEEKS_PER_YEAR
    yield "revenue_captured", revenue
    yield "won_value_new_logo", won["new_logo"]
    yield "won_value_expansion", won["expansion"]
    yield "retained_spend", won["renewal"]
    yield "recurring_revenue", recurring
    yield "share_of_potential", ratio(recurring, quarter_potential)
    yield "partner_margin", _total(t.partner_margin, sel)

    yield "opps_created", _total(t.created, sel)
    for i, k in enumerate(OPPORTUNITY_KINDS):
        yield f"opps_created_{k}", _total(t.created[i], sel)
    yield "opps_won", n_won
    yield "opps_lost", n_lost
    yield "opps_missed", n_missed
    for cause, m in zip(CAUSES, missed, strict=True):
        yield f"missed_{cause}", m
    # Every line's new logos and expansions are tallied by line; renewals (the whole contract) by none.
    yield "opps_missed_renewal", n_missed - _total(t.missed_line, sel)
    yield "miss_rate", ratio(n_missed, n_won + n_lost + n_missed)
    yield "win_rate", ratio(n_won, n_won + n_lost)
    won_new, lost_new = _total(t.won[Kind.NEW_LOGO], sel), _total(t.lost[Kind.NEW_LOGO], sel)
    yield "win_rate_new_logo", ratio(won_new, won_new + lost_new)
    by_reps = won_new - _total(t.digital_won[Kind.NEW_LOGO], sel), lost_new - _total(t.digital_lost[Kind.NEW_LOGO], sel)
    yield "win_rate_new_logo_reps", ratio(by_reps[0], sum(by_reps))
    yield "opps_open", _total(a.open_opportunities, sel)
    yield "cycle_weeks_mean", ratio(_total(t.cycle_weeks, sel), n_won + n_lost)
    yield "digital_won", _total(t.digital_won, sel)

    for i, service in enumerate(SERVICES):
        yield f"accounts_{service}", _total(t.served[i], sel)
    yield "promised_untouched_share", ratio(_total(a.promised_untouched, sel), _total(a.promised, sel))
    touched = _in(a.touched_segment, sel)
    yield "touch_gini", gini_of_positive(np.sort(a.touched_hours[touched]), round(_total(a.live, sel)))
    seg, rep, days = a.responses
    in_sel = np.ones(days.size, dtype=bool) if isinstance(sel, slice) else seg == sel
    yield "response_days_mean", float(days[in_sel].mean()) if in_sel.any() else np.nan
    yield "response_days_p90", quantile(days[in_sel], 0.9) if in_sel.any() else np.nan
    yield "response_days_rep_sd", between_rep_sd(rep[in_sel], days[in_sel])
    yield "rep_lottery", a.rep_lottery_all if isinstance(sel, slice) else float(a.rep_lottery[sel])
    yield "sla_breach_rate", ratio(_total(t.sla_breached, sel), _total(t.sla_due, sel))
    yield "conflicting_engagements", _total(a.conflicts, sel)
    won_c, lost_c = _total(t.conflict_won, sel), _total(t.conflict_lost, sel)
    yield "opps_decided_in_conflict", won_c + lost_c
    yield "win_rate_in_conflict", ratio(won_c, won_c + lost_c)
    yield "conflict_stock_lost", _total(t.conflict_stock, sel)
    yield "account_plans_unmade", _total(t.plans_unmade, sel)

    yield "owner_changed_share", ratio(_total(t.owner_changed, sel), _total(t.owned_before, sel))
    yield "personal_stock_lost", _total(t.personal_lost, sel)
    yield "handoff_hours", _total(t.handoff_hours, sel)

    hours_total = _total(t.hours, sel)
    for i, activity in enumerate(ACTIVITIES):
        yield f"hours_{activity}", _total(t.hours[i], sel)
    yield "hours_total", hours_total
    yield "hours_low_value", _total(t.hours_low_value, sel)
    yield "low_value_hours_share", ratio(_total(t.hours_low_value, sel), hours_total)

    yield "customers", _total(a.customers, sel)
    yield "prospects", _total(a.prospects, sel)
    yield "churned", _total(t.churned, sel)
    ended, due = _total(t.churned_at_renewal, sel), _total(t.renewals_due, sel)
    yield "churned_at_renewal", ended
    yield "renewals_due", due
    yield "renewal_rate", 1.0 - ratio(ended, due)
    yield "new_logos", _total(t.new_logos, sel)
    never = _total(a.never_contacted, sel)
    yield "never_contacted", never
    yield "never_contacted_share", ratio(never, _total(a.live, sel))


def _team_metrics(t: QuarterTally, gross_margin: float) -> Iterator[tuple[str, float]]:
    hours, capacity = float(t.role_hours.sum()), float(t.role_capacity.sum())
    revenue = float(t.won_value.sum())
    cost = t.seat_cost + float(t.partner_margin.sum())
    yield "capacity_hours", capacity
    yield "utilisation", ratio(hours, capacity)
    yield "coordination_hours", t.coordination_hours
    for i, role in enumerate(ROLES):
        if t.role_capacity[i] > 0:
            yield f"hours_role_{role}", float(t.role_hours[i])
            yield f"utilisation_{role}", ratio(float(t.role_hours[i]), float(t.role_capacity[i]))
        if t.role_seats[i] > 0:
            yield from ((f"seats_{role}", float(t.role_seats[i])), (f"idle_seats_{role}", float(t.role_idle[i])))
    yield "cost_of_sales", cost
    yield "cost_of_sales_ratio", ratio(cost, revenue)
    yield "revenue_per_rep", ratio(revenue, t.filled_seat_weeks / WEEKS_PER_QUARTER)
    yield "profit", gross_margin * float(t.recurring.sum()) - cost


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when the denominator is zero."""
    return numerator / denominator if denominator > 0 else float("nan")


def quantile(values: np.ndarray, q: float) -> float:
    """``np.quantile(values, q)`` of a non-empty 1-d array, numpy's default (linear) method, the same value
    to the last bit, without its tens of microseconds of overhead (a quarter's metrics take one per segment).

    The ``q`` quantile sits at the virtual index ``(n - 1) q`` of the sorted values, between the values of
    ranks ``floor`` and ``floor + 1``, interpolated as numpy's ``_lerp`` does (from the upper one when the
    weight is at least 1/2); past the last rank it is the largest value, and NaN if any value is NaN.
    """
    n = values.size
    virtual = (n - 1) * q
    lower = math.floor(virtual)
    if virtual >= n - 1:
        part = np.partition(values, n - 1)
        a = b = part[n - 1]
    else:
        part = np.partition(values, (lower, lower + 1, n - 1))
        a, b = part[lower], part[lower + 1]
    if np.isnan(part[n - 1]):
        return float("nan")
    t = virtual - lower
    diff = b - a
    return float(b - diff * (1 - t) if t >= 0.5 else a + diff * t)


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 equal, 1 all on one); NaN if all zero.

    ``G = sum_i (2 i - n - 1) x_(i) / (n sum x)`` over the values sorted
    ascending; zeros take the lowest ranks, so only the non-zero values (few,
    for attention) need sorting.
    """
    x = np.asarray(values, dtype=np.float64)
    return gini_of_positive(np.sort(x[x > 0]), x.size)


def gini_of_positive(positive: np.ndarray, n: int) -> float:
    """:func:`gini` of ``n`` values of which ``positive`` (sorted ascending) are the non-zero ones."""
    total = positive.sum()
    if n == 0 or total <= 0:
        return float("nan")
    ranks = np.arange(n - positive.size + 1, n + 1)
    return float(np.sum((2 * ranks - n - 1) * positive) / (n * total))


def lorenz_curve(values: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Share of the total held by the smallest ``shares`` of ``values`` (the Lorenz curve at those points,
    linearly interpolated; the diagonal when the total is 0): np.interp over linspace(0, 1, n + 1) and the running
    shares, read at the five points around each share (whole, those arrays made a 10M run's peak memory), which
    are linspace's own (j * (1 / n), the last 1.0): the same numbers to the bit."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    total, shares, n = x.sum(), np.asarray(shares, dtype=np.float64), x.size
    if n == 0 or total <= 0:
        return shares.copy()
    np.cumsum(x, out=x)  # the running sums, over the sorted copy
    flat = shares.ravel()
    near = np.clip(np.clip(np.nan_to_num(flat), -1.0, 2.0) * n, 0.0, float(n)).astype(np.int64)
    at = np.clip(near[:, None] + np.arange(-2, 3), 0, n)
    grid = at * (1.0 / n)
    grid[at == n] = 1.0
    running = np.where(at > 0, x[np.maximum(at - 1, 0)], 0.0) / total
    curve = [np.interp(share, g, r) for share, g, r in zip(flat, grid, running, strict=True)]
    return np.array(curve, dtype=np.float64).reshape(shares.shape)


def explained_sd(outcome: np.ndarray, group: np.ndarray, cell: np.ndarray | None = None) -> float:
    """How much of ``outcome`` is explained by ``group`` (ints >= 0) inside each ``cell`` (ints >= 0; one
    cell when None), as a standard deviation in the outcome's own units.

    A one-way ANOVA by group inside each cell, pooled over the cells, so that
    only differences between groups serving comparable items count. The
    variance between groups expected by chance alone, ``df_between MS_within``
    (``df_between``: the sum over cells of groups in the cell - 1;
    ``MS_within = SS_within / (n - groups)``), is taken off, and the rest is
    spread over the ``n`` items::

        sqrt(max(0, SS_between - df_between MS_within) / n)

    NaN with no between-group or no within-group freedom.
    """
    if outcome.size == 0:
        return float("nan")
    cell = np.zeros(outcome.size, dtype=np.int64) if cell is None else cell
    return explained_sd_by_part(outcome, group, cell)[1]


def explained_sd_by_part(
    outcome: np.ndarray, group: np.ndarray, cell: np.ndarray, part: np.ndarray | None = None, parts: int = 0
) -> tuple[np.ndarray, float]:
    """:func:`explained_sd` of the items of each ``part`` (0 .. ``parts`` - 1, a function of the cell: no
    cell spans two parts; none when None), and of all items, from one pair of sorts.

    A part's figure is the one :func:`explained_sd` gives its items alone, to the last bit: its groups'
    and cells' sums run over the same items in the same order, and its sums of squares over the same
    terms in the same order (the distinct keys keep their order when the other parts' are taken out).
    """
    by_part = np.full(parts, np.nan)
    if outcome.size == 0:
        return by_part, float("nan")
    cell = cell.astype(np.int64)
    width = int(group.max()) + 1
    keys, inverse, counts = distinct_inverse(cell * width + group)
    cells, cell_inverse, cell_counts = distinct_inverse(cell)
    group_means = np.bincount(inverse, weights=outcome) / counts
    cell_means = np.bincount(cell_inverse, weights=outcome) / cell_counts
    group_cell = np.searchsorted(cells, keys // width)
    between = counts * (group_means - cell_means[group_cell]) ** 2  # per (cell, group)
    within = (outcome - group_means[inverse]) ** 2  # per item
    if part is not None:
        cell_part = np.empty(cells.size, dtype=np.int64)
        cell_part[cell_inverse] = part  # every item of a cell is in its part
        key_part = cell_part[group_cell]
        for s in range(parts):
            items = part == s
            by_part[s] = _anova_sd(
                between[key_part == s], within[items], int(np.count_nonzero(cell_part == s)), int(items.sum())
            )
    return by_part, _anova_sd(between, within, cells.size, outcome.size)


def _anova_sd(between: np.ndarray, within: np.ndarray, cells: int, n: int) -> float:
    """``explained_sd`` from its terms: ``between`` per (cell, group), ``within`` per item, ``cells`` cells."""
    k = between.size
    df_between = k - cells
    if n == 0 or df_between < 1 or n - k <= 0:
        return float("nan")
    ss_between = float(np.sum(between))
    ms_within = float(np.sum(within)) / (n - k)
    return float(np.sqrt(max(0.0, ss_between - df_between * ms_within) / n))


def between_rep_sd(rep: np.ndarray, days: np.ndarray) -> float:
    """Standard deviation across reps (seat numbers, >= 0) of each rep's mean response time.

    Only reps with at least MIN_RESPONSES_PER_REP responses count; NaN with
    fewer than two such reps.
    """
    if days.size == 0:
        return float("nan")
    counts = np.bincount(rep)
    enough = counts >= MIN_RESPONSES_PER_REP
    means = np.bincount(rep, weights=days)[enough] / counts[enough]
    return float(np.std(means, ddof=1)) if means.size >= 2 else float("nan")


def run_totals(metrics: pd.DataFrame, by: tuple[str, ...] = ("policy", "seed")) -> pd.DataFrame:
    """Whole-run figures: one value per run, segment and metric, from a tidy table of quarterly metrics.

    ``metrics`` has the columns of ``RunResult.metrics`` (one run or many
    concatenated); ``by`` names the columns that tell runs apart. Each metric
    is summarised over the quarters as its catalogue record's ``aggregate``
    says: flows summed, stocks at the last quarter, rates averaged over the
    quarters where defined (docs/metrics.md, section 2). Returns the columns
    ``[*by, "segment", "metric", "value"]``.
    """
    keys = [*by, "segment", "metric"]
    if missing := [c for c in (*keys, "quarter", "value") if c not in metrics.columns]:
        raise InputError(
            [f"run_totals: metrics has no column {c!r} (a tidy table as RunResult.metrics is needed)" for c in missing]
        )
    ordered = metrics.sort_values("quarter", kind="stable")
    groups = ordered.groupby(keys, sort=False)["value"]
    out = pd.concat(
        {"sum": groups.sum(min_count=1), "last": groups.last(skipna=False), "mean": groups.mean()}, axis=1
    ).reset_index()
    how = out["metric"].map(lambda m: CATALOGUE[m].aggregate)
    out["value"] = np.select([how == "sum", how == "last"], [out["sum"], out["last"]], out["mean"])
    return out[[*keys, "value"]]
