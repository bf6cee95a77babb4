"""Open opportunities: the book, a struct of arrays changed only by its named transitions.

Closed opportunities leave the book at the end of the week they close; what
they were is kept in the recorder's tallies, so the book stays small however
long the run.
"""

from __future__ import annotations

import numpy as np

from sim.clock import BUSINESS_DAYS_PER_WEEK as DAYS
from sim.codes import Stage
from sim.compiled import compiled
from sim.marks import marked_positions
from sim.policies.protocol import Opportunities, Pending, read_only

_DTYPES = {
    "key": np.int64,
    "customer": np.int64,
    "segment": np.int8,
    "kind": np.int8,
    "line": np.int8,
    "stage": np.int8,
    "digital": bool,
    "day": np.float64,
    "sla_deadline": np.float64,
    "effort_left": np.float64,
    "chunk": np.float64,
    "cycle": np.float64,
    "due": np.int64,
    "work_deadline": np.int64,
    "handler": np.int64,
    "blocked": np.int8,
    "expected_value": np.float64,
    "responded": np.int64,
    "delay": np.float64,
    "pooled": bool,
    "closed": bool,
}

#: The book's columns, in its order.
_NAMES = tuple(_DTYPES)

#: The columns a new opportunity is given (``OpportunityBook.add``): every one but ``closed``, in the book's order.
NEW_COLUMNS = tuple(name for name in _NAMES if name != "closed")

#: The columns of each dtype: they are the rows of one 2-D block, so that adding and dropping deals takes a
#: call per dtype, not a call per column (about 150 calls a week).
_BLOCKS = {dt: tuple(n for n, d in _DTYPES.items() if d is dt) for dt in dict.fromkeys(_DTYPES.values())}


class OpportunityBook:
    """Open opportunities, one entry per opportunity, and the only writer of their arrays.

    key: ``2 * account_week(customer, arrival week)``, plus 1 for a renewal,
    plus ``place x ARRIVAL_PLACE_STRIDE`` for an account's later arrivals of
    the week (``sim.randomness``: unique; the same whatever the run's
    horizon), names its keyed
    random draws; kind: ``Kind``; line: the
    product line (``WHOLE_CONTRACT`` for a renewal); stage:
    ``Stage``; digital: taken by the self-service channel; day: arrival in
    business days since week 0; sla_deadline: last business day a first
    response counts; effort_left, chunk: hours still needed and hours asked
    for per week; work_deadline: last week the effort may be delivered before
    it stalls (for a digital deal: the week it is decided); handler: seat
    working it (-1 none); blocked: the ``Cause`` code it would be missed for if its
    response window closed now; expected_value: win probability x value
    (currency); responded: week of the first response (-1 before); delay:
    business days from arrival to the first response (0 before and for
    self-service); pooled: answered from a pool's shared queue (the pool
    serves it, so nobody's work on it engages the account); closed: decided
    or missed this week (dropped at the week's end).
    """

    key: np.ndarray
    customer: np.ndarray
    segment: np.ndarray
    kind: np.ndarray
    line: np.ndarray
    stage: np.ndarray
    digital: np.ndarray
    day: np.ndarray
    sla_deadline: np.ndarray
    effort_left: np.ndarray
    chunk: np.ndarray
    cycle: np.ndarray
    due: np.ndarray
    work_deadline: np.ndarray
    handler: np.ndarray
    blocked: np.ndarray
    expected_value: np.ndarray
    responded: np.ndarray
    delay: np.ndarray
    pooled: np.ndarray
    closed: np.ndarray

    def __init__(self, blocks: dict[type, np.ndarray], size: int) -> None:
        self._changes = [0]  # changes of rows so far, shared with the views made of the book
        self._hold(blocks, size)

    def _hold(self, blocks: dict[type, np.ndarray], size: int) -> None:
        """Hold ``blocks`` (one 2-D array per dtype of ``_BLOCKS``, a row per column, room for more deals
        past ``size``); the column attributes are views of their rows' first ``size`` entries."""
        self._blocks, self._size = blocks, size
        self._changes[0] += 1
        for dt, names in _BLOCKS.items():
            self.__dict__.update(zip(names, blocks[dt][:, :size], strict=True))

    @classmethod
    def empty(cls) -> OpportunityBook:
        return cls({dt: np.empty((len(names), 0), dtype=dt) for dt, names in _BLOCKS.items()}, 0)

    def __len__(self) -> int:
        return self._size

    def add(self, **columns: np.ndarray) -> None:
        """Append new opportunities, open; every column but ``closed`` must be given.

        Written into room the blocks keep past the open deals (twice what is needed when they grow), so
        that a week's few hundred new deals do not copy the whole book."""
        n, k = self._size, np.asarray(columns["key"]).size
        blocks = self._blocks
        if n + k > blocks[np.int64].shape[1]:
            room = 2 * (n + k)
            grown: dict[type, np.ndarray] = {
                dt: np.empty((len(names), room), dtype=dt) for dt, names in _BLOCKS.items()
            }
            for dt, block in grown.items():
                block[:, :n] = blocks[dt][:, :n]
            blocks = grown
        columns["closed"] = np.zeros(k, dtype=bool)
        for dt, names in _BLOCKS.items():
            block = blocks[dt]
            for row, name in enumerate(names):
                block[row, n : n + k] = columns[name]
        self._hold(blocks, n + k)

    def worked(self, week: int) -> tuple[np.ndarray, Opportunities]:
        """Open deals outside the digital channel: their indices (ascending) and what a policy sees of them."""
        rows = np.flatnonzero(~self.digital & ~self.closed)
        # The columns as they are now (a copy of the attribute dict: one call where a getattr per column took 21).
        return rows, Opportunities(self.__dict__.copy(), rows, week, self._changes)

    def pending(self, week: int, rows: np.ndarray) -> tuple[np.ndarray, Pending]:
        """Of the open deals ``rows`` (``worked``), those with no handler this week (awaiting a first
        response, or responded and without a closer): their indices and what a policy sees of them. One
        compiled pass (``_pending``), where numpy took some fifteen calls."""
        idx, at, *columns = compiled(_pending)(
            rows,
            self.stage,
            self.handler,
            self.customer,
            self.segment,
            self.kind,
            self.line,
            self.expected_value,
            self.sla_deadline,
            self.work_deadline,
            self.effort_left,
            week,
        )
        return idx, Pending(read_only(at), *(read_only(c) for c in columns))

    def committed(self, week: int, skill: np.ndarray) -> np.ndarray:
        """Hours of ``week`` each seat's deals in work ask of it, summed in the book's order: deals responded
        before ``week``, with a handler and effort left, each asking the weekly part of its effort (``chunk``,
        or less if less is left) over the handler's ``skill``. One compiled pass over the book
        (``_committed``), where numpy took ten calls."""
        return compiled(_committed)(
            self.closed,
            self.digital,
            self.stage,
            self.handler,
            self.effort_left,
            self.responded,
            self.chunk,
            skill,
            week,
        )

    def expiring(self, week: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Open deals whose time ran out at the end of ``week`` (indices, ascending): those awaiting a first
        response whose window has ended, those in work with effort left past their work deadline (stalled),
        and self-service deals at their decision week. Outside the digital channel for the first two, within
        it for the third, so the three never share a deal. One compiled pass over the book (``_expiring``),
        where numpy took twenty calls."""
        return compiled(_expiring)(
            self.closed,
            self.digital,
            self.stage,
            self.sla_deadline,
            self.effort_left,
            self.work_deadline,
            DAYS * (week + 1),
            week,
        )

    def assign(self, idx: np.ndarray, seats: np.ndarray) -> None:
        """``seats`` become the handlers (closers) of the deals ``idx``."""
        self.handler[idx] = seats

    def release(self, seats: np.ndarray) -> None:
        """Deals in work at ``seats`` (whose holders left) wait for another closer."""
        if seats.size:
            self.handler[np.isin(self.handler, seats) & (self.stage == Stage.IN_WORK)] = -1

    def block(self, idx: np.ndarray, cause: int) -> None:
        """The deals ``idx`` were not answered this week, for ``cause`` (their miss cause if the window closes)."""
        self.blocked[idx] = cause

    def first_responses(
        self,
        idx: np.ndarray,
        when: np.ndarray,
        seat: np.ndarray,
        closes: np.ndarray,
        pooled: np.ndarray,
        week: int,
        stall_factor: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """First responses to the deals ``idx`` made in ``week`` on business day ``when`` by ``seat``
        (``closes``: per seat, whether it may close; ``pooled``: per response, taken from a shared queue).

        A response past the deal's window is late (the engine misses the deal). The others move the deal
        to work from next week, under the seat if it closes (else it waits for a closer), until its stall
        deadline (``stall_factor`` times its cycle, in whole weeks, and no later than a renewal's date); a
        deal whose deadline leaves fewer weeks than its cycle (a renewal answered late) asks for its effort
        faster, so that it can still be done. Returns whether each response was late, and the on-time
        ones' delays (business days from arrival). One compiled pass (``_first_responses``)."""
        return compiled(_first_responses)(
            idx,
            when,
            seat,
            closes,
            pooled,
            week,
            stall_factor,
            self.day,
            self.sla_deadline,
            self.cycle,
            self.due,
            self.effort_left,
            self.stage,
            self.responded,
            self.delay,
            self.work_deadline,
            self.handler,
            self.pooled,
            self.chunk,
        )

    def deliver(self, idx: np.ndarray, hours: np.ndarray) -> np.ndarray:
        """Effort delivered to the deals ``idx``; returns those whose effort is now complete."""
        self.effort_left[idx] -= hours
        return idx[self.effort_left[idx] <= 1e-9]

    def close(self, idx: np.ndarray) -> None:
        """The deals ``idx`` are decided (won or lost) or missed: closed, dropped at the week's end.

        The outcome itself is the recorder's to tally; the book only stops
        offering the deal for work.
        """
        self.closed[idx] = True

    def open_of(self, customers_mask: np.ndarray) -> np.ndarray:
        """Open deals whose account is marked in ``customers_mask`` (a mask over accounts)."""
        # A compiled scan of the book (numpy's gather, mask and flatnonzero made three passes over a book of
        # hundreds of thousands of deals at ten million accounts, several times a week); few are marked.
        idx = marked_positions(self.customer, customers_mask)
        return idx[~self.closed[idx]]

    def drop_closed(self) -> None:
        """Drop the deals closed this week: the open ones move up, in order, within the blocks."""
        kept = np.flatnonzero(~self.closed)
        for block in self._blocks.values():
            compiled(_move_up)(block, kept)
        self._hold(self._blocks, kept.size)


def _committed(
    closed: np.ndarray,
    digital: np.ndarray,
    stage: np.ndarray,
    handler: np.ndarray,
    effort_left: np.ndarray,
    responded: np.ndarray,
    chunk: np.ndarray,
    skill: np.ndarray,
    week: int,
) -> np.ndarray:
    """``OpportunityBook.committed`` in one compiled pass over the book, summing in the book's order as
    ``np.bincount`` does (``sim.compiled``)."""
    hours = np.zeros(skill.size)
    for i in range(closed.size):
        h = handler[i]
        left = effort_left[i]
        in_work = not closed[i] and not digital[i] and stage[i] == _IN_WORK
        if in_work and h >= 0 and left > 1e-9 and responded[i] < week:
            hours[h] += min(chunk[i], left) / skill[h]
    return hours


def _move_up(block: np.ndarray, kept: np.ndarray) -> None:
    """Each row of ``block`` takes the entries ``kept`` (ascending) at its front, in order, in place
    (``OpportunityBook.drop_closed``; compiled, ``sim.compiled``): each entry moves only forward."""
    for r in range(block.shape[0]):
        row = block[r]
        for j in range(kept.size):
            row[j] = row[kept[j]]


def _first_responses(
    idx: np.ndarray,
    when: np.ndarray,
    seat: np.ndarray,
    closes: np.ndarray,
    pooled_response: np.ndarray,
    week: int,
    stall_factor: float,
    day: np.ndarray,
    sla_deadline: np.ndarray,
    cycle: np.ndarray,
    due: np.ndarray,
    effort_left: np.ndarray,
    stage: np.ndarray,
    responded: np.ndarray,
    delay: np.ndarray,
    work_deadline: np.ndarray,
    handler: np.ndarray,
    pooled: np.ndarray,
    chunk: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``OpportunityBook.first_responses``, compiled (``sim.compiled``), in numpy's arithmetic."""
    late = np.empty(idx.size, dtype=np.bool_)
    delays = np.empty(idx.size)
    m = 0
    for j in range(idx.size):
        i = idx[j]
        late[j] = when[j] > sla_deadline[i]
        if late[j]:
            continue
        # A response started the hour its lead arrived can come out a round-off before it (-1e-15 days).
        delay[i] = delays[m] = max(when[j] - day[i], 0.0)
        m += 1
        deadline = min(week + np.int64(np.ceil(cycle[i] * stall_factor)), due[i])
        stage[i] = _IN_WORK
        responded[i] = week
        work_deadline[i] = deadline
        handler[i] = seat[j] if closes[seat[j]] else -1
        pooled[i] = pooled_response[j]
        chunk[i] = np.maximum(chunk[i], effort_left[i] / max(deadline - week, 1))  # a NaN stays NaN, as numpy
    return late, delays[:m]


def _pending(
    rows: np.ndarray,
    stage: np.ndarray,
    handler: np.ndarray,
    customer: np.ndarray,
    segment: np.ndarray,
    kind: np.ndarray,
    line: np.ndarray,
    expected_value: np.ndarray,
    sla_deadline: np.ndarray,
    work_deadline: np.ndarray,
    effort_left: np.ndarray,
    week: int,
) -> tuple[np.ndarray, ...]:
    """``OpportunityBook.pending`` in one compiled pass over ``rows`` (``sim.compiled``): the deals' book
    indices and their places among ``rows``, then ``Pending``'s columns in its order."""
    n = rows.size
    at = np.empty(n, dtype=np.int64)
    m = 0
    for j in range(n):
        i = rows[j]
        if stage[i] == _AWAITING or handler[i] < 0:
            at[m] = j
            m += 1
    at = at[:m]
    idx = rows[at]
    days_left = np.empty(m)
    for j in range(m):
        i = idx[j]
        days_left[j] = sla_deadline[i] - DAYS * week if stage[i] == _AWAITING else DAYS * (work_deadline[i] + 1 - week)
    return (
        idx,
        at,
        customer[idx],
        segment[idx],
        kind[idx],
        line[idx],
        stage[idx],
        expected_value[idx],
        days_left,
        effort_left[idx],
    )


def _expiring(
    closed: np.ndarray,
    digital: np.ndarray,
    stage: np.ndarray,
    sla_deadline: np.ndarray,
    effort_left: np.ndarray,
    work_deadline: np.ndarray,
    end_day: float,
    week: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``OpportunityBook.expiring`` in one compiled pass over the book (``sim.compiled``)."""
    n = closed.size
    unanswered = np.empty(n, dtype=np.int64)
    stalled = np.empty(n, dtype=np.int64)
    decided = np.empty(n, dtype=np.int64)
    a = s = d = 0
    for i in range(n):
        if closed[i]:
            continue
        if digital[i]:
            if work_deadline[i] <= week:
                decided[d] = i
                d += 1
        elif stage[i] == _AWAITING:
            if sla_deadline[i] <= end_day:
                unanswered[a] = i
                a += 1
        elif stage[i] == _IN_WORK and effort_left[i] > 1e-9 and work_deadline[i] <= week:
            stalled[s] = i
            s += 1
    return unanswered[:a], stalled[:s], decided[:d]


_IN_WORK, _AWAITING = int(Stage.IN_WORK), int(Stage.AWAITING_RESPONSE)
