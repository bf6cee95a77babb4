"""The recorder: everything a run tallies while it runs, and the tidy tables made from it.

The engine reports events to the ``Recorder`` (opportunities created, won, lost, missed; hours worked;
responses; churn); the recorder is the only writer of the tallies and the per-account attention arrays. At
each quarter's end it hands the tallies and an account snapshot to the pure metric functions of
``sim.metrics`` and keeps their rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.clock import WEEKS_PER_YEAR
from sim.codes import ROLES, Activity, TaskKind
from sim.compiled import compiled
from sim.metrics import lorenz_curve, potential_bands, quantile, quarter_rows
from sim.outcomes import Decisions
from sim.policies.protocol import CoveragePlan, Tasks
from sim.population import Population
from sim.records import ALL, LORENZ_COLUMNS, RUN_KEYS, LorenzRow, MetricRow, WeeklyRow
from sim.reps import SeatWeek
from sim.seat_ledger import SeatLedger
from sim.tally import AccountQuarter, QuarterTally


class Recorder:
    """The tallies of the current quarter, attention per account, and every row recorded so far.

    Per account, this quarter: touches (tasks done), touch_hours; line_touches (accounts x lines, made on the
    first one) and specialist_touches (their sum per account): the touches of each line's specialist. Over the
    run: touch_hours_run; last_conflict, the last week of conflicting engagement (-1: none; ``sim.engagement``);
    most_over_capacity, the most hours any seat worked beyond its capacity in any week (0 while the engine keeps
    every seat within its hours; the policy contract checks it). Low-value accounts are those below the
    scenario's quantile of potential at the start. ``line_names``: the product lines whose metrics are kept
    (``Scenario.reported_lines``).
    """

    def __init__(
        self,
        pop: Population,
        segment_names: tuple[str, ...],
        low_value_quantile: float,
        line_names: tuple[str, ...] = (),
    ) -> None:
        self.segment_names = segment_names
        self.line_names = line_names
        self.lines = pop.lines
        self.low_value = pop.potential < quantile(pop.potential, low_value_quantile)
        self.band = potential_bands(pop.segment, pop.potential, len(segment_names))
        self.touch_hours_run = np.zeros(pop.size)
        self.last_conflict = np.full(pop.size, -1, dtype=np.int32)
        self.most_over_capacity = 0.0
        # Per segment, the share of a year a contract term secures, at most 1: a won deal counts the value of
        # the term it secures (a year for annual contracts), so that monthly renewals do not count a year each.
        term_share = np.minimum(pop.term_weeks, WEEKS_PER_YEAR) / WEEKS_PER_YEAR
        self.term_share = None if np.all(term_share == 1.0) else term_share
        self.rows: list[MetricRow] = []
        self.weekly: list[WeeklyRow] = []
        self.seat_ledger = SeatLedger()
        self.start_quarter(0)

    def start_quarter(self, week: int) -> None:
        """Fresh tallies for a new quarter starting in ``week``."""
        n = self.touch_hours_run.size
        self.quarter_start = week
        self.tally = QuarterTally(len(self.segment_names), self.lines)
        self.touches = np.zeros(n, dtype=np.int64)
        self.touch_hours = np.zeros(n)
        self.line_touches: np.ndarray | None = None
        self.specialist_touches: np.ndarray | None = None

    # ---- opportunities ----------------------------------------------------------

    def created(self, kind: np.ndarray, segment: np.ndarray) -> None:
        self.tally.count(self.tally.created, kind, segment)

    def missed(self, cause: np.ndarray | int, segment: np.ndarray, line: np.ndarray) -> None:
        """Opportunities missed this week, for ``cause``, of ``line`` (-1: renewals, not counted by line)."""
        t = self.tally
        t.count(t.missed, cause, segment)
        _by_line(t, t.missed_line, line, segment)

    def decided(self, d: Decisions, cycle_weeks: np.ndarray) -> None:
        """Deals decided this week, won or lost, under the conflict penalty or not; ``cycle_weeks``: from
        arrival to the week's end. A won deal counts what the company keeps of its value (a partner keeps its
        margin), by its line too (a renewal by none), for the share of a year its segment's contract term
        secures (at most all of it). One compiled pass per outcome (``_decided``)."""
        t, value, margin = self.tally, d.value - d.margin, d.margin
        if self.term_share is not None:
            value, margin = value * self.term_share[d.segment], margin * self.term_share[d.segment]
        compiled(_decided)(
            d.kind,
            d.segment,
            d.line,
            d.digital,
            d.conflict,
            d.won,
            value,
            margin,
            cycle_weeks,
            t.conflict_won,
            t.conflict_lost,
            t.lost,
            t.won,
            t.won_value,
            t.won_value_line,
            t.partner_margin,
            t.cycle_weeks,
            t.digital_won,
            t.digital_lost,
        )

    def lost(self, kind: np.ndarray, segment: np.ndarray, cycle_weeks: np.ndarray, digital: np.ndarray) -> None:
        """Deals of churned accounts lost this week (``digital``: the self-service channel's); ``cycle_weeks``."""
        t = self.tally
        t.count(t.lost, kind, segment)
        t.count(t.digital_lost, kind[digital], segment[digital])
        t.add(t.cycle_weeks, segment, cycle_weeks)

    def sla(self, segment: np.ndarray, breached: np.ndarray | bool) -> None:
        """Response stages that ended: answered in the window or not (``breached``)."""
        self.tally.add(self.tally.sla_due, segment)
        self.tally.add(self.tally.sla_breached, segment, np.asarray(breached, dtype=np.float64))

    def treated(self, customer: np.ndarray, seat: np.ndarray, in_time: np.ndarray | bool) -> None:
        """Response stages that ended: the seat that answered or was to answer (-1 nobody), and whether the
        answer came inside the service window."""
        t = self.tally
        t.treated_customer.append(customer.astype(np.int64))
        t.treated_by.append(seat.astype(np.int64))
        # np.full, not np.broadcast_to: the same values, for a microsecond where broadcast_to took fifteen.
        one = np.ndim(in_time) == 0
        t.treated_in_time.append(np.full(customer.shape, bool(in_time)) if one else np.asarray(in_time, dtype=bool))

    def responded(self, segment: np.ndarray, kind: np.ndarray, rep: np.ndarray, days: np.ndarray) -> None:
        """First responses inside the window (``kind``: each opportunity's, ``sim.codes.Kind``): by whom and after
        how many business days."""
        t = self.tally
        t.response_segment.append(segment.astype(np.int64))
        t.response_rep.append(rep)
        t.response_days.append(days)

    # ---- customers --------------------------------------------------------------

    def churned(self, segment: np.ndarray) -> None:
        self.tally.add(self.tally.churned, segment)

    def new_logos(self, segment: np.ndarray) -> None:
        self.tally.add(self.tally.new_logos, segment)

    def renewals_due(self, segment: np.ndarray) -> None:
        """Contracts that reached their renewal date this week."""
        self.tally.add(self.tally.renewals_due, segment)

    def ended_at_renewal(self, segment: np.ndarray) -> None:
        """Contracts that a renewal ended (lost to a rep's face, or not renewed on the date)."""
        self.tally.add(self.tally.churned_at_renewal, segment)

    # ---- continuity -------------------------------------------------------------

    def quarter_plan(
        self, segment: np.ndarray, live: np.ndarray, before: np.ndarray, plan: CoveragePlan, cells: np.ndarray
    ) -> None:
        """The quarter's plan (after any realignment): where it serves the accounts still ``live``, their owners
        against ``before`` (a churned account's owner goes with it), and the touches it asks of specialists."""
        t = self.tally
        owned = (before >= 0) & live
        t.add(t.owned_before, segment[owned])
        t.add(t.owner_changed, segment[owned & (plan.owner != before)])
        t.count(t.served, plan.service[live], segment[live])
        t.specialist_plan(cells, plan.specialist, plan.specialist_cadence, live, segment)

    def books(self, owner: np.ndarray, status: np.ndarray, seats: int) -> None:
        """The quarter's plan's books (``SeatLedger.books``)."""
        self.seat_ledger.books(owner, status, seats)

    def personal_lost(self, segment: np.ndarray, lost: np.ndarray) -> None:
        """Personal relationship stock lost when accounts changed hands (touch-equivalents)."""
        self.tally.add(self.tally.personal_lost, segment, lost)

    def conflict_strain(self, segment: np.ndarray, lost: np.ndarray) -> None:
        """Relationship stock accounts lost to a week of conflicting engagement (touch-equivalents)."""
        self.tally.add(self.tally.conflict_stock, segment, lost)

    def plans_unmade(self, segment: np.ndarray) -> None:
        """Accounts a plan marked coordinated whose team had no hours left for their account plan this quarter."""
        self.tally.add(self.tally.plans_unmade, segment)

    def handoffs(self, segment: np.ndarray, hours: float) -> None:
        """Warm hand-offs of accounts of ``segment``, each costing ``hours`` in all (both reps)."""
        self.tally.add(self.tally.handoff_hours, segment, hours)

    # ---- effort -----------------------------------------------------------------

    def effort(
        self, seats: SeatWeek, segment: np.ndarray, tasks: Tasks, seat: np.ndarray, done: np.ndarray, travel: np.ndarray
    ) -> None:
        """Hours and attention of the ``done`` tasks this week, done by ``seat`` (``segment``: every account's
        segment; ``travel``: the hours of each task's cost spent travelling); hours on a product line are those of
        tasks with a line (its opportunities' and its specialists' touches)."""
        t = self.tally
        # One compiled pass (``_effort``) over the tasks done, where numpy took some twenty calls a week.
        over = compiled(_effort)(
            done,
            seat,
            tasks.customer,
            tasks.kind,
            tasks.cost,
            travel,
            tasks.line,
            segment,
            seats.field,
            seats.role_index,
            self.low_value,
            t.hours,
            t.hours_line,
            t.touches_line,
            t.hours_low_value,
            t.role_hours,
            self.touch_hours,
            self.touch_hours_run,
            self.touches,
            seats.capacity,
            self.seat_ledger.worked(seats.capacity.size),
        )
        self.most_over_capacity = max(self.most_over_capacity, over)

    def specialist_touched(self, customer: np.ndarray, line: np.ndarray) -> None:
        """Touches made this week by the specialists of ``line`` on ``customer`` (pairs may repeat)."""
        if customer.size == 0:
            return
        if self.line_touches is None or self.specialist_touches is None:
            self.line_touches = np.zeros((self.touch_hours.size, self.lines), dtype=np.int32)
            self.specialist_touches = np.zeros(self.touch_hours.size, dtype=np.int64)
        np.add.at(self.line_touches, (customer, line), 1)
        np.add.at(self.specialist_touches, customer, 1)

    def owner_touches(self, accounts: np.ndarray) -> np.ndarray:
        """Touches made this quarter on ``accounts`` less their specialists' (what an owner's cadence counts)."""
        return self.touches[accounts] - (0 if self.specialist_touches is None else self.specialist_touches[accounts])

    def conflicted(self, customers: np.ndarray, week: int) -> None:
        """``customers`` had a week of conflicting engagement in ``week`` (``sim.engagement``)."""
        self.last_conflict[customers] = week

    # ---- week and quarter ends --------------------------------------------------

    def end_week(self, week: int, segment_spend: np.ndarray, seats: SeatWeek, open_opportunities: int) -> None:
        """Recurring revenue, seat costs and capacity of the week, and the weekly series."""
        t = self.tally
        weekly_spend = np.maximum(segment_spend, 0.0) / WEEKS_PER_YEAR  # running sums may drift below 0 by 1e-12
        t.recurring += weekly_spend
        totals = seats.totals  # the same for every week that shares the SeatWeek
        t.seat_cost += totals.cost_per_year / WEEKS_PER_YEAR
        t.coordination_hours += totals.coordination
        t.filled_seat_weeks += totals.own_filled
        t.add(t.role_capacity, seats.role_index, seats.capacity)
        self.seat_ledger.end_week(seats.role, seats.capacity, seats.filled)
        self.weekly.append(WeeklyRow(week, "recurring_revenue", float(weekly_spend.sum())))
        self.weekly.append(WeeklyRow(week, "open_opportunities", float(open_opportunities)))
        self.weekly.append(WeeklyRow(week, "capacity_hours", totals.capacity))
        self.weekly.append(WeeklyRow(week, "filled_seats", totals.filled))

    def end_quarter(
        self, quarter: int, pop: Population, plan: CoveragePlan, open_segments: np.ndarray, gross_margin: float
    ) -> None:
        """Compute the quarter's metrics (``open_segments``: segment of each open opportunity)."""
        cadence = plan.cadence
        accounts = AccountQuarter(
            segment=pop.segment,
            status=pop.status,
            potential=pop.potential,
            spend=pop.spend,
            ever_touched=pop.ever_touched,
            cadence=cadence,
            touches=self.touches,
            touch_hours=self.touch_hours,
            conflict=self.last_conflict >= self.quarter_start,
            band=self.band,
            service=plan.service,
            segment_potential=pop.segment_potential,
            open_opportunities=np.bincount(open_segments, minlength=len(self.segment_names)).astype(np.float64),
        )
        self.tally.role_seats[:], self.tally.role_idle[:] = self.seat_ledger.since_start(ROLES)
        for segment, metric, value in quarter_rows(
            self.tally, accounts, self.segment_names, gross_margin, self.line_names
        ):
            self.rows.append(MetricRow(quarter, segment, metric, value))
        self.seat_ledger.end_quarter(quarter)

    # ---- tables -----------------------------------------------------------------

    def metrics_frame(self, policy: str, seed: int) -> pd.DataFrame:
        """The tidy table: policy, seed, quarter, segment, metric, value."""
        return _with_run_keys(pd.DataFrame(self.rows, columns=MetricRow._fields), policy, seed)

    def seats_frame(self, policy: str, seed: int) -> pd.DataFrame:
        """Each seat's hours worked and selling hours by quarter (``SeatLedger.frame``)."""
        return self.seat_ledger.frame(policy, seed)

    def weekly_frame(self, policy: str, seed: int) -> pd.DataFrame:
        """The weekly series: policy, seed, week, metric, value."""
        return _with_run_keys(pd.DataFrame(self.weekly, columns=WeeklyRow._fields), policy, seed)

    def lorenz_frame(self, segment: np.ndarray, policy: str, seed: int) -> pd.DataFrame:
        """Lorenz curves of attention over the run: share of rep hours received by the least-attended share of
        accounts, per segment and for all (``segment``: every account's)."""
        rows = []
        # Attention is concentrated on few accounts: sample the top tail finely.
        grid = np.unique(np.r_[np.linspace(0.0, 1.0, 21), 1.0 - np.logspace(-4, -1.5, 6)])
        for s, name in [*enumerate(self.segment_names), (None, ALL)]:
            hours = self.touch_hours_run if s is None else self.touch_hours_run[segment == s]
            for share, value in zip(grid, lorenz_curve(hours, grid), strict=True):
                rows.append(LorenzRow(name, float(share), float(value)))
        return _with_run_keys(pd.DataFrame(rows, columns=LORENZ_COLUMNS), policy, seed)


def _by_line(
    t: QuarterTally, table: np.ndarray, line: np.ndarray, segment: np.ndarray, weight: np.ndarray | None = None
) -> None:
    """Count events into a (line, segment) ``table``; those of no line (-1: renewals, an owner's touches) are
    counted by no line."""
    one = line >= 0
    t.count(table, line[one], segment[one], 1.0 if weight is None else weight[one])


def _with_run_keys(frame: pd.DataFrame, policy: str, seed: int) -> pd.DataFrame:
    policy_key, seed_key = RUN_KEYS
    frame.insert(0, seed_key, seed)
    frame.insert(0, policy_key, policy)
    return frame


_RESPONSE, _WORK, _TOUCH = int(TaskKind.RESPONSE), int(TaskKind.WORK), int(TaskKind.TOUCH)
_ANSWERING, _WORKING, _VISIT, _CALL, _TRAVEL = (
    int(a) for a in (Activity.RESPONSE, Activity.WORK, Activity.VISIT, Activity.CALL, Activity.TRAVEL)
)


def _effort(
    done: np.ndarray,
    seat: np.ndarray,
    customer: np.ndarray,
    kind: np.ndarray,
    cost: np.ndarray,
    travel: np.ndarray,
    line: np.ndarray,
    segment_of: np.ndarray,
    field: np.ndarray,
    role_index: np.ndarray,
    low_value: np.ndarray,
    hours: np.ndarray,
    hours_line: np.ndarray,
    touches_line: np.ndarray,
    hours_low_value: np.ndarray,
    role_hours: np.ndarray,
    touch_hours: np.ndarray,
    touch_hours_run: np.ndarray,
    touches: np.ndarray,
    capacity: np.ndarray,
    seat_hours: np.ndarray,
) -> float:
    """:meth:`Recorder.effort`'s tallies of the tasks ``done`` (by ``seat``), compiled (``sim.compiled``);
    returns the most hours a seat worked over its ``capacity`` (``np.max``'s value: NaN if one is NaN; -inf
    with no seat).

    Each task's hours go by (activity, segment) less its travel, and its
    travel to the travel row; by (line, segment) when it has a line; to the
    low-value hours and to its seat's role; to its account's hours (quarter
    and run) with one touch; and to its seat's hours worked. Each cell adds
    its tasks in their order, as the numpy tallies did (``np.add.at``,
    ``np.bincount``), so the sums are the same bit for bit.
    """
    worked = np.zeros(capacity.size)
    for i in range(done.size):
        if not done[i]:
            continue
        rep, c, h, trip = seat[i], customer[i], cost[i], travel[i]
        seg = segment_of[c]
        if kind[i] == _RESPONSE:
            activity = _ANSWERING
        elif kind[i] == _WORK:
            activity = _WORKING
        else:  # a touch: a visit by a field rep, a call otherwise
            activity = _VISIT if field[rep] else _CALL
        hours[activity, seg] += h - trip
        hours[_TRAVEL, seg] += trip
        if line[i] >= 0:
            hours_line[line[i], seg] += h
            if kind[i] == _TOUCH:  # a touch on a line: its specialist's
                touches_line[line[i], seg] += 1
        if low_value[c]:
            hours_low_value[seg] += h
        role_hours[role_index[rep]] += h
        touch_hours[c] += h
        touch_hours_run[c] += h
        touches[c] += 1
        worked[rep] += h
    for s in range(capacity.size):
        seat_hours[s] += worked[s]
    return np.max(worked - capacity) if capacity.size else -np.inf


def _decided(
    kind: np.ndarray,
    segment: np.ndarray,
    line: np.ndarray,
    digital: np.ndarray,
    conflict: np.ndarray,
    won: np.ndarray,
    kept: np.ndarray,
    margin: np.ndarray,
    cycle_weeks: np.ndarray,
    conflict_won: np.ndarray,
    conflict_lost: np.ndarray,
    lost_count: np.ndarray,
    won_count: np.ndarray,
    won_value: np.ndarray,
    won_value_line: np.ndarray,
    partner_margin: np.ndarray,
    cycle: np.ndarray,
    digital_won: np.ndarray,
    digital_lost: np.ndarray,
) -> None:
    """:meth:`Recorder.decided`'s tallies, compiled (``sim.compiled``): each deal added in order, the lost first
    (the lost deals' cycle weeks before the won's, as the numpy tallies added them)."""
    for i in range(kind.size):
        s = segment[i]
        if conflict[i]:
            if won[i]:
                conflict_won[s] += 1.0
            else:
                conflict_lost[s] += 1.0
        if not won[i]:
            lost_count[kind[i], s] += 1.0
            cycle[s] += cycle_weeks[i]
            if digital[i]:
                digital_lost[kind[i], s] += 1.0
    for i in range(kind.size):
        if won[i]:
            s = segment[i]
            won_count[kind[i], s] += 1.0
            won_value[kind[i], s] += kept[i]
            if line[i] >= 0:
                won_value_line[line[i], s] += kept[i]
            partner_margin[s] += margin[i]
            cycle[s] += cycle_weeks[i]
            if digital[i]:
                digital_won[kind[i], s] += 1.0
