"""What one quarter tallies, by segment, and the account snapshot at its end: the inputs of the metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.codes import ACTIVITIES, CAUSES, OPPORTUNITY_KINDS, ROLES, SERVICES, Status
from sim.compiled import compiled


@dataclass
class QuarterTally:
    """Counts and sums for one quarter, by segment (last axis) unless stated.

    Money in currency units, hours in hours, response times in business days.
    """

    n_segments: int
    n_lines: int = 1
    created: np.ndarray = field(init=False)  # (kind, segment)
    won: np.ndarray = field(init=False)  # (kind, segment)
    lost: np.ndarray = field(init=False)  # (kind, segment)
    missed: np.ndarray = field(init=False)  # (cause, segment)
    won_value: np.ndarray = field(init=False)  # (kind, segment), value to the company
    won_value_line: np.ndarray = field(init=False)  # (line, segment), new logos and expansions
    missed_line: np.ndarray = field(init=False)  # (line, segment), new logos and expansions
    hours_line: np.ndarray = field(init=False)  # (line, segment): its opportunities and its specialists' touches
    touches_line: np.ndarray = field(init=False)  # (line, segment): its specialists' touches made
    touches_line_planned: np.ndarray = field(init=False)  # (line, segment): those the quarter's plan asked of them
    cycle_weeks: np.ndarray = field(init=False)  # weeks from arrival to close, summed over won and lost deals
    digital_won: np.ndarray = field(init=False)  # (kind, segment): decided by the digital channel, no rep time
    digital_lost: np.ndarray = field(init=False)  # (kind, segment)
    sla_due: np.ndarray = field(init=False)  # response stage ended this quarter
    sla_breached: np.ndarray = field(init=False)  # ... without a response inside the window
    hours: np.ndarray = field(init=False)  # (activity, segment)
    hours_low_value: np.ndarray = field(init=False)
    recurring: np.ndarray = field(init=False)  # spend recognised week by week
    churned: np.ndarray = field(init=False)
    new_logos: np.ndarray = field(init=False)  # prospects that became customers
    partner_margin: np.ndarray = field(init=False)
    served: np.ndarray = field(init=False)  # (service, segment): live accounts by service level in the plan
    owned_before: np.ndarray = field(init=False)  # accounts with an owner in the previous quarter's plan
    owner_changed: np.ndarray = field(init=False)  # ... whose owner is another seat, or none, in this one
    personal_lost: np.ndarray = field(init=False)  # personal stock lost to changes of hands
    handoff_hours: np.ndarray = field(init=False)  # hours of warm hand-offs, both reps together
    conflict_stock: np.ndarray = field(init=False)  # relationship stock lost to weeks of conflicting engagement
    plans_unmade: np.ndarray = field(init=False)  # coordinated accounts whose team had no hours for their plan
    conflict_won: np.ndarray = field(init=False)  # deals won with the conflict penalty
    conflict_lost: np.ndarray = field(init=False)  # ... and lost
    renewals_due: np.ndarray = field(init=False)  # contracts that reached their renewal date
    churned_at_renewal: np.ndarray = field(init=False)  # ... that ended there (renewal lost or not renewed)
    role_hours: np.ndarray = field(init=False)  # (role,)
    role_capacity: np.ndarray = field(init=False)  # (role,)
    role_seats: np.ndarray = field(init=False)  # (role,): seats filled at some time since the run's start
    role_idle: np.ndarray = field(init=False)  # (role,): ... that have worked no hour since then
    seat_cost: float = 0.0  # cost of filled seats, prorated by week
    coordination_hours: float = 0.0  # hours the seats spent on account plans
    filled_seat_weeks: float = 0.0  # own team, partners excluded
    response_segment: list[np.ndarray] = field(default_factory=list)
    response_rep: list[np.ndarray] = field(default_factory=list)
    response_days: list[np.ndarray] = field(default_factory=list)
    # Every opportunity whose response stage ended (answered, late or not at all), for the rep lottery.
    treated_customer: list[np.ndarray] = field(default_factory=list)
    treated_by: list[np.ndarray] = field(default_factory=list)  # the seat that answered, or was to; -1 nobody
    treated_in_time: list[np.ndarray] = field(default_factory=list)  # answered inside the service window

    def __post_init__(self) -> None:
        s, k = self.n_segments, len(OPPORTUNITY_KINDS)
        for name, shape in (
            ("created", (k, s)),
            ("won", (k, s)),
            ("lost", (k, s)),
            ("digital_won", (k, s)),
            ("digital_lost", (k, s)),
            ("missed", (len(CAUSES), s)),
            ("won_value", (k, s)),
            ("won_value_line", (self.n_lines, s)),
            ("missed_line", (self.n_lines, s)),
            ("hours_line", (self.n_lines, s)),
            ("touches_line", (self.n_lines, s)),
            ("touches_line_planned", (self.n_lines, s)),
            ("hours", (len(ACTIVITIES), s)),
            ("served", (len(SERVICES), s)),
            ("role_hours", (len(ROLES),)),
            ("role_capacity", (len(ROLES),)),
            ("role_seats", (len(ROLES),)),
            ("role_idle", (len(ROLES),)),
        ):
            setattr(self, name, np.zeros(shape))
        for name in (
            "cycle_weeks",
            "sla_due",
            "sla_breached",
            "hours_low_value",
            "recurring",
            "churned",
            "new_logos",
            "partner_margin",
            "owned_before",
            "owner_changed",
            "personal_lost",
            "handoff_hours",
            "conflict_stock",
            "plans_unmade",
            "conflict_won",
            "conflict_lost",
            "renewals_due",
            "churned_at_renewal",
        ):
            setattr(self, name, np.zeros(s))

    def specialist_plan(
        self,
        cells: np.ndarray,
        specialist: np.ndarray | None,
        cadence: np.ndarray | None,
        live: np.ndarray,
        segment: np.ndarray,
    ) -> None:
        """Add the touches a plan asks of its specialists (``touches_line_planned``): the ``cadence`` (accounts x
        lines) of its flat ``cells`` above 0 whose account is ``live`` and has a ``specialist`` seat. O(cells): a
        scan of every account and line took 1.3 ms a quarter, 1.6% of the overlay world's run."""
        if cells.size == 0 or specialist is None or cadence is None:
            return
        account, line = np.divmod(cells, cadence.shape[1])
        on = (specialist[account, line] >= 0) & live[account]
        self.count(self.touches_line_planned, line[on], segment[account[on]], cadence[account[on], line[on]])

    def count(
        self, table: np.ndarray, row: np.ndarray | int, segment: np.ndarray, weight: np.ndarray | float = 1.0
    ) -> None:
        """Add ``weight`` at (row, segment) for each event (rows and segments may repeat)."""
        if segment.size == 0:  # a fifth of a run's calls: no event, and a table is cheaper left alone
            return
        compiled(_scatter)(table, _at_least_1d(row), segment, _weights(weight))

    def add(self, vector: np.ndarray, segment: np.ndarray, weight: np.ndarray | float = 1.0) -> None:
        """Add ``weight`` per event into a vector by segment (or by role: ``role_hours``, ``role_capacity``)."""
        if segment.size == 0:
            return
        compiled(_scatter)(vector[None, :], _ZERO, segment, _weights(weight))

    def treated(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(customer, seat or -1, answered in time) of every response stage that ended this quarter."""
        if not self.treated_in_time:
            e = np.empty(0, dtype=np.int64)
            return e, e, e.astype(bool)
        return (
            np.concatenate(self.treated_customer),
            np.concatenate(self.treated_by),
            np.concatenate(self.treated_in_time),
        )

    def responses(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(segment, rep, days) of every first response this quarter."""
        if not self.response_days:
            e = np.empty(0)
            return e.astype(np.int64), e.astype(np.int64), e
        return (
            np.concatenate(self.response_segment),
            np.concatenate(self.response_rep),
            np.concatenate(self.response_days),
        )


@dataclass(frozen=True)
class AccountQuarter:
    """Every account at the end of a quarter, plus what it received in the quarter.

    cadence: touches promised this quarter; touches, touch_hours: what it got;
    band: its potential band within its segment (fifth of the initial
    potential); service: its service level this quarter; conflict: two or
    more uncoordinated seats worked it.
    """

    segment: np.ndarray
    status: np.ndarray
    potential: np.ndarray
    spend: np.ndarray
    ever_touched: np.ndarray
    cadence: np.ndarray
    touches: np.ndarray
    touch_hours: np.ndarray
    conflict: np.ndarray
    band: np.ndarray
    service: np.ndarray
    segment_potential: np.ndarray  # (segment,) total potential
    open_opportunities: np.ndarray  # (segment,) open at quarter end

    def by_segment(self, n_segments: int) -> SegmentCounts:
        """The accounts counted by segment in one compiled pass, where numpy took a dozen passes over every
        account and as many temporaries of their size (at ten million accounts, 0.2 s a quarter)."""
        return SegmentCounts(
            *compiled(_by_segment)(
                self.segment,
                self.status,
                self.ever_touched,
                self.cadence,
                self.touches,
                self.touch_hours,
                self.conflict,
                n_segments,
            )
        )


@dataclass(frozen=True)
class SegmentCounts:
    """``AccountQuarter.by_segment``: accounts by (segment, ``Status``, ever touched: 0 or 1); by segment,
    the live accounts promised a touch (cadence > 0), those of them with no touch this quarter, and the
    accounts in conflict; and the live accounts with touch-hours, ascending: their segment and hours."""

    by_code: np.ndarray
    promised: np.ndarray
    promised_untouched: np.ndarray
    conflicts: np.ndarray
    touched_segment: np.ndarray
    touched_hours: np.ndarray


_CHURNED = int(Status.CHURNED)
_LANES = 4  # copies of each counter, so that consecutive accounts do not wait on one another's increment
_SLOTS = 9  # per lane and segment: 6 by (status, ever touched), promised, promised untouched, in conflict


def _by_segment(
    segment: np.ndarray,
    status: np.ndarray,
    ever_touched: np.ndarray,
    cadence: np.ndarray,
    touches: np.ndarray,
    touch_hours: np.ndarray,
    conflict: np.ndarray,
    n_segments: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``AccountQuarter.by_segment``, compiled (``sim.compiled``), without a branch on the accounts'
    values, which come in no order (a branch mispredicted on every few accounts). Segments are below
    ``n_segments`` and statuses ``Status`` codes (numba does not check)."""
    c = np.zeros(_LANES * n_segments * _SLOTS, dtype=np.int64)
    n_touched = np.int64(0)
    # A plan that promises no touches (a pool, say), or a quarter with no conflict, skips those counters: a
    # test once per quarter, where adding zeros cost each account two more increments.
    any_promised, any_conflict = (cadence > 0).any(), conflict.any()
    for i in range(segment.size):
        live = np.int64(status[i] != _CHURNED)
        base = ((i % _LANES) * n_segments + segment[i]) * _SLOTS
        c[base + status[i] * 2 + np.int64(ever_touched[i])] += 1
        if any_promised:
            promised = live & np.int64(cadence[i] > 0)
            c[base + 6] += promised
            c[base + 7] += promised & np.int64(touches[i] == 0)
        if any_conflict:
            c[base + 8] += np.int64(conflict[i])
        n_touched += live & np.int64(touch_hours[i] > 0)
    # Every account is written at the next free place, which moves on only past a touched one.
    touched_segment = np.empty(n_touched + 1, dtype=np.int64)
    hours = np.empty(n_touched + 1)
    j = np.int64(0)
    for i in range(segment.size):
        touched_segment[j] = segment[i]
        hours[j] = touch_hours[i]
        j += np.int64(status[i] != _CHURNED) & np.int64(touch_hours[i] > 0)
    total = c.reshape(_LANES, n_segments, _SLOTS).sum(axis=0)
    return (
        total[:, :6].copy().reshape(n_segments, 3, 2),
        total[:, 6].copy(),
        total[:, 7].copy(),
        total[:, 8].copy(),
        touched_segment[:n_touched],
        hours[:n_touched],
    )


_ONE, _ZERO = np.ones(1), np.zeros(1, dtype=np.int64)


def _weights(weight: np.ndarray | float) -> np.ndarray:
    return _ONE if isinstance(weight, float) and weight == 1.0 else _at_least_1d(weight)


def _at_least_1d(x: np.ndarray | float | int) -> np.ndarray:
    """``np.atleast_1d`` of one value or array, without its Python (a tally takes some fifty a week)."""
    a = np.asarray(x)
    return a if a.ndim else a.reshape(1)


def _scatter(table: np.ndarray, row: np.ndarray, segment: np.ndarray, weight: np.ndarray) -> None:
    """Add ``weight[i]`` at ``table[row[i], segment[i]]`` for each event ``i``, in order, as ``np.add.at``
    would (compiled, ``sim.compiled``: a tally takes some fifty of these a week, a few events each, where
    numpy's calls cost more than the sums). A ``row`` or ``weight`` of one element serves every event."""
    rs = 0 if row.size == 1 else 1
    ws = 0 if weight.size == 1 else 1
    for i in range(segment.size):
        table[row[i * rs], segment[i]] += weight[i * ws]
