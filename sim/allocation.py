"""How a rep's limited week is spent: a priority dispatch of the tasks as they arrive, no look-ahead.

Each rep's week is a clock running from 0 to its selling hours. Whenever the
rep is free it takes, among the tasks that already exist, the one of highest
priority; a lead that arrives while the rep is busy waits until the task in
hand is done (non-preemptive). A pooled coverage model adds shared queues:
inbound work waits in a pool's queue and the next rep of the pool with free
time takes it (``Queues``). The loop over reps is a numba kernel, compiled on
first use and cached on disk; numba is imported only then, so that importing
covsim (``covsim --help``) does not pay for it.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from sim.compiled import compiled
from sim.radix import radix_sort

# Slack on comparisons of hours: a task fits if it ends within EPS of the week's
# end, and exists if it was released within EPS of the rep's clock.
EPS = 1e-9


@dataclass(frozen=True)
class Queues:
    """Shared queues of one week: the tasks that wait in a pool's queue rather than at a seat.

    pool: per task, the pool whose queue holds it (-1: the task is its rep's
    own); arrival: per task, the share of the week (0 to 1) by which a queue
    task exists (ignored for own tasks); seat_pool: per seat, the pool whose
    queue it answers (-1: none).
    """

    pool: np.ndarray
    arrival: np.ndarray
    seat_pool: np.ndarray


@dataclass(frozen=True)
class Allocation:
    """Result of one week's allocation, one entry per task.

    accepted: the task is done this week; start: hours of the doing rep's week
    elapsed when the task is begun, on that rep's clock (so counting its idle
    time waiting for work to arrive as well as the hours of the tasks done
    before it), NaN where not accepted; declined: the policy gave it a
    priority <= 0 (or NaN), so no rep tried; seat: the seat that does it (a
    rep's own task: that rep, done or not; a queue task: the rep that took it,
    -1 while nobody did).
    """

    accepted: np.ndarray
    start: np.ndarray
    declined: np.ndarray
    seat: np.ndarray


def allocate_hours(
    rep: np.ndarray,
    cost: np.ndarray,
    priority: np.ndarray,
    capacity: np.ndarray,
    release: np.ndarray | None = None,
    queues: Queues | None = None,
) -> Allocation:
    """Each rep's week spent on its tasks by a non-preemptive priority dispatch with release times.

    Per task: ``rep`` its seat (0 .. ``capacity.size`` - 1; -1 for a task in a
    shared queue, see below), ``cost`` its hours (> 0), ``priority`` (a task
    of priority <= 0 or NaN is declined) and ``release`` the hours into the
    rep's week before which the task does not exist (a lead arriving
    mid-week; default 0, all there from the start). ``capacity``: each
    seat's selling hours this week.

    Each rep, independently: its clock ``t`` starts at 0. At each decision it
    looks only at the tasks released by ``t`` (within 1e-9 h) that it has not
    yet done or skipped and takes the one of highest priority (ties: the order
    given). If the task does not fit in what is left of the week (``t + cost >
    capacity``) it is skipped for the week and the rep looks again at the same
    ``t`` (a one-hour gap still takes a call, not a three-hour visit); if it
    fits it starts at ``t`` and the clock advances by its cost, leads released
    meanwhile waiting. With nothing released left to do the rep idles until
    the next release, if that comes before the week ends. A rep never works
    more than ``capacity`` hours and never starts a task before it exists.

    Shared queues (``queues``): a task of ``rep`` -1 waits in the queue of its
    ``queues.pool``, from ``queues.arrival`` (a share of the week) on; the
    seats whose ``queues.seat_pool`` is that pool answer it. Each rep's hours
    spread evenly over the week, so a rep at ``t`` hours is ``t / capacity``
    of the way through it; whenever a rep of the pool is free, the one
    furthest behind in the week decides first (ties: the one idle longest,
    as a contact centre routes to the longest-idle agent; then the lowest
    seat), and
    takes the best of its own released tasks and the queue's released tasks,
    by priority (ties: its own). So the next free rep takes the queue's head.
    A rep whose time left is shorter than the queue task it would take takes
    nothing more from the queue that week (it does not cherry-pick shorter
    ones); the task waits for another rep, or for next week.
    """
    n = rep.size
    if release is None:
        release = np.zeros(n)
    elif np.shape(release) != rep.shape:
        raise ValueError(f"release has shape {np.shape(release)}, the tasks {rep.shape}")
    seats = capacity.size
    if queues is None:
        pool, arrival, seat_pool = _NO_TASKS, _NO_ARRIVALS, np.full(seats, -1, dtype=np.int64)
    else:
        if queues.pool.shape != rep.shape or queues.arrival.shape != rep.shape:
            raise ValueError(f"queues.pool and .arrival must have the tasks' shape {rep.shape}")
        if queues.seat_pool.shape != capacity.shape:
            raise ValueError(f"queues.seat_pool has shape {queues.seat_pool.shape}, the seats {capacity.shape}")
        pool = np.ascontiguousarray(queues.pool, dtype=np.int64)
        arrival = np.ascontiguousarray(queues.arrival, dtype=np.float64)
        seat_pool = np.ascontiguousarray(queues.seat_pool, dtype=np.int64)
    # One compiled call (``_allocate``) where numpy took some thirty a week around the dispatch.
    accepted, start, declined, seat, fault, lowest, highest = compiled(_allocate)(
        np.ascontiguousarray(rep, dtype=np.int64),
        np.ascontiguousarray(cost, dtype=np.float64),
        np.ascontiguousarray(priority, dtype=np.float64),
        np.ascontiguousarray(release, dtype=np.float64),
        pool,
        arrival,
        seat_pool,
        np.ascontiguousarray(capacity, dtype=np.float64),
    )
    if fault == _QUEUED_WITH_A_REP:
        raise ValueError("a task in a queue (pool >= 0) must have rep -1")
    if fault == _SEAT_OUT_OF_RANGE:
        raise ValueError(f"seat numbers {lowest}..{highest} outside the {seats} seats")
    return Allocation(accepted, start, declined, seat)


_NO_TASKS, _NO_ARRIVALS = np.empty(0, dtype=np.int64), np.empty(0)
_QUEUED_WITH_A_REP, _SEAT_OUT_OF_RANGE = 1, 2
_FAR = 1 << 62


def _allocate(
    rep: np.ndarray,
    cost: np.ndarray,
    priority: np.ndarray,
    release: np.ndarray,
    pool: np.ndarray,
    arrival: np.ndarray,
    seat_pool: np.ndarray,
    capacity: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int, int]:
    """``allocate_hours`` (``pool`` and ``arrival`` empty: no queues) as one compiled call (``sim.compiled``):
    (accepted, start, declined, seat) and a fault (``_QUEUED_WITH_A_REP``, ``_SEAT_OUT_OF_RANGE`` with the
    lowest and highest seat of the own tasks, or 0).

    The own tasks (not declined, in no queue) by rep, then by descending priority, ties in the order given;
    the queue tasks by pool, then priority (``_order``), and by pool, then arrival (a stable sort: ties in
    that order); then the dispatch (``_dispatch``), whose results go back to the tasks' places.
    """
    n, seats = rep.size, capacity.size
    queues = pool.size > 0
    accepted = np.zeros(n, dtype=np.bool_)
    start = np.full(n, np.nan)
    declined = np.empty(n, dtype=np.bool_)
    seat = rep.copy()
    n_own = n_waiting = 0
    lowest, highest = _FAR, -_FAR  # of the own tasks' seats
    most = -1  # the highest pool of any task (declined or not) or seat
    for i in range(n):
        declined[i] = not priority[i] > 0  # NaN compares False, so NaN declines too
        queued = queues and pool[i] >= 0
        if queued:
            most = max(most, pool[i])
            if rep[i] != -1:
                return accepted, start, declined, seat, _QUEUED_WITH_A_REP, 0, 0
        if declined[i]:
            continue
        if queued:
            n_waiting += 1
        else:
            n_own += 1
            lowest, highest = min(lowest, rep[i]), max(highest, rep[i])
    if n_own == 0 and n_waiting == 0:
        return accepted, start, declined, seat, 0, 0, 0
    if n_own > 0 and (lowest < 0 or highest >= seats):
        return accepted, start, declined, seat, _SEAT_OUT_OF_RANGE, lowest, highest
    own, waiting = np.empty(n_own, dtype=np.int64), np.empty(n_waiting, dtype=np.int64)
    o = w = 0
    for i in range(n):
        if declined[i]:
            continue
        if queues and pool[i] >= 0:
            waiting[w] = i
            w += 1
        else:
            own[o] = i
            o += 1
    own = own[_order(rep[own], priority[own], seats)]
    pools = 0
    if n_waiting > 0:
        for s in range(seats):
            most = max(most, seat_pool[s])
        pools = most + 1
        waiting = waiting[_order(pool[waiting], priority[waiting], pools)]
    else:
        seat_pool = np.full(seats, -1, dtype=np.int64)
    qpool, qarrival = pool[waiting], arrival[waiting]
    by_arrival = _order(qpool, -qarrival, pools)  # by pool (as they are), then by arrival, ties as they are
    done, begun, taker, taken_at = _dispatch(
        rep[own],
        cost[own],
        priority[own],
        release[own],
        qpool,
        cost[waiting],
        priority[waiting],
        qarrival,
        by_arrival,
        capacity,
        seat_pool,
        pools,
    )
    for k in range(n_own):
        accepted[own[k]] = done[k]
        start[own[k]] = begun[k]
    for k in range(n_waiting):
        accepted[waiting[k]] = taker[k] >= 0
        start[waiting[k]] = taken_at[k]
        seat[waiting[k]] = taker[k]
    return accepted, start, declined, seat, 0, 0, 0


def _order(group: np.ndarray, priority: np.ndarray, groups: int) -> np.ndarray:
    """Positions by ``group`` (0 .. ``groups`` - 1), then by descending ``priority`` (a NaN last, as a stable
    sort of -priority puts it), ties in the order given. Compiled: a radix sort of the priorities, a byte a
    pass (each stable; a byte the same in every key skipped), then a counting sort by group, where a
    comparison sort per group cost twice as much in branches the processor could not predict."""
    n = group.size
    # Each priority as an unsigned key in ascending order of 0 - priority (0 - p: no -0.0 before +0.0).
    negated = 0.0 - priority
    key = negated.view(np.uint64)
    sign = np.uint64(1 << 63)
    for i in range(n):
        if negated[i] != negated[i]:
            key[i] = ~np.uint64(0)  # past every number, +inf included
        else:
            key[i] = ~key[i] if key[i] & sign else key[i] | sign
    _, item = radix_sort(key, np.arange(n))
    at = np.zeros(groups + 1, dtype=np.int64)
    for i in range(n):
        at[group[i] + 1] += 1
    at = at.cumsum()
    out = np.empty(n, dtype=np.int64)
    for j in item:
        out[at[group[j]]] = j
        at[group[j]] += 1
    return out


def _dispatch(
    rep: np.ndarray,
    cost: np.ndarray,
    priority: np.ndarray,
    release: np.ndarray,
    qpool: np.ndarray,
    qcost: np.ndarray,
    qpriority: np.ndarray,
    qarrival: np.ndarray,
    qby_arrival: np.ndarray,
    capacity: np.ndarray,
    seat_pool: np.ndarray,
    pools: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The dispatch of ``allocate_hours``: (accepted, start) of the own tasks, (taker, start) of the queue's.

    Own tasks come sorted by rep, then priority; queue tasks by pool, then
    priority, and ``qby_arrival`` lists the queue tasks by pool, then
    arrival. Compiled by numba (``sim.compiled``). A rep of no busy queue works
    alone: O(k) per decision for k tasks, in practice less (the scan starts
    at the best task not yet settled and stops at the first released one, so
    it passes over only leads still to come). The reps of a queue decide in
    the order of their progress through the week, from a heap; the order of
    arrival tells at once whether anything in the queue is waiting, and a heap
    of the arrived tasks gives the best of them.
    """
    n, m, seats = rep.size, qpool.size, capacity.size
    accepted = np.zeros(n, dtype=np.bool_)
    start = np.full(n, np.nan)
    settled = np.zeros(n, dtype=np.bool_)  # done or skipped
    taker = np.full(m, -1, dtype=np.int64)
    taken_at = np.full(m, np.nan)
    qsettled = np.zeros(m, dtype=np.bool_)  # taken
    # Each rep's own tasks are [first, end), all before first settled; each pool's queue [qstart, qend).
    first = np.searchsorted(rep, np.arange(seats))
    end = np.searchsorted(rep, np.arange(seats), side="right")
    qstart = np.searchsorted(qpool, np.arange(pools))
    qend = np.searchsorted(qpool, np.arange(pools), side="right")
    qfirst = qstart.copy()  # all of a queue before it is settled (taken), in priority order
    qseen = qstart.copy()  # all of a queue before it, in order of arrival, has arrived
    qtaken = np.zeros(pools, dtype=np.int64)
    clock = np.zeros(seats)
    idle_since = np.zeros(seats)  # share of the week at which the rep last finished a task
    reached = np.zeros(seats)  # share of the week the rep has reached: its place in the heap
    off_queue = np.zeros(seats, dtype=np.bool_)  # the rep takes nothing more from its queue this week
    # Each rep of no busy queue decides alone (groups 0 .. seats - 1); the reps of each busy queue together.
    for group in range(seats + pools):
        heap = [(0.0, 0.0, 0)]  # (share of the week reached, idle since, seat): the next to decide first
        heap.pop()
        # The rep deciding next is held, not pushed, while nobody else could come first (always, for a rep
        # alone): the heap's pushes and pops would otherwise cost more than the decisions.
        hold = group < seats
        if hold:
            p, r = -1, group
            alone = seat_pool[r] < 0 or qend[seat_pool[r]] == qstart[seat_pool[r]]
            if not (alone and (capacity[r] > 0.0 or first[r] < end[r])):
                continue
        else:
            p = group - seats
            for r in range(seats):
                if seat_pool[r] == p and qend[p] > qstart[p] and capacity[r] > 0.0:
                    heap.append((0.0, 0.0, r))
            heapq.heapify(heap)
        # Reps of the pool with nothing of their own left, idle until the queue has work: (idle since, seat).
        # Each arrival wakes the longest idle of them only; waking them all at every arrival, to find
        # the lead taken, would cost the reps of a large pool times the arrivals.
        waiting = [(0.0, 0)]
        waiting.pop()
        wake = qstart[p] if p >= 0 else 0  # the next arrival, in order of arrival, not yet offered to them
        # The queue's arrived tasks (by the reps' clocks so far), by priority: its taken ones leave when on top.
        # Scanning the queue in priority order for the first arrived task instead costs its length per
        # decision when the best tasks are still to come, which at millions of accounts is most of the week.
        arrived = [0]
        arrived.pop()
        offer = -1.0  # the share of the week of the last arrival offered
        while hold or len(heap) > 0 or (len(waiting) > 0 and (wake < qend[p] or offer >= 0.0)):
            if len(waiting) > 0:
                # Leads arrived by the last offer and not taken (the rep woken for them took another,
                # or had too little time) wake the next rep at the same moment; else the next arrival does.
                again = offer >= 0.0 and wake - qstart[p] > qtaken[p]
                if not again and wake == qend[p]:
                    waiting.clear()  # nothing more arrives this week
                    continue
                share = offer if again else qarrival[qby_arrival[wake]]
                w = waiting[0][1]
                at = share * capacity[w]
                if at >= capacity[w]:  # nothing more arrives this week for it
                    heapq.heappop(waiting)
                    continue
                key = (share, idle_since[w], w)  # the arrival's share: waiting reps tie, and the longest idle goes
                if len(heap) == 0 or key < heap[0]:
                    heapq.heappop(waiting)
                    if not again:
                        wake += 1
                        offer = share
                    clock[w], reached[w] = at, share
                    heapq.heappush(heap, key)
                    continue
            if hold:
                hold = False
            else:
                _, _, r = heapq.heappop(heap)
            week, t = capacity[r], clock[r]
            a = first[r]
            while a < end[r] and settled[a]:
                a += 1
            first[r] = a
            pick, upcoming, arrival = -1, np.inf, np.inf  # best released own task; next own release; next arrival
            for j in range(a, end[r]):
                if settled[j]:
                    continue
                if release[j] <= t + EPS:
                    pick = j
                    break
                upcoming = min(upcoming, release[j])
            qpick = -1
            if p >= 0 and not off_queue[r]:
                # Arrivals so far, in order of arrival: with none of them waiting, the queue has
                # nothing to offer before the next arrival, and no scan is needed.
                while qseen[p] < qend[p] and qarrival[qby_arrival[qseen[p]]] * week <= t + EPS:
                    heapq.heappush(arrived, qby_arrival[qseen[p]])
                    qseen[p] += 1
                if qseen[p] - qstart[p] > qtaken[p]:
                    while qsettled[arrived[0]]:
                        heapq.heappop(arrived)
                    if qarrival[arrived[0]] * week <= t + EPS:
                        qpick = arrived[0]  # the first in priority order of those arrived: what the scan finds
                    else:  # arrived by another rep's clock, not yet by this one's (within EPS): scan
                        while qfirst[p] < qend[p] and qsettled[qfirst[p]]:
                            qfirst[p] += 1
                        for j in range(qfirst[p], qend[p]):
                            if qsettled[j]:
                                continue
                            if qarrival[j] * week <= t + EPS:
                                qpick = j
                                break
                            arrival = min(arrival, qarrival[j])
                elif qseen[p] < qend[p]:
                    arrival = min(arrival, qarrival[qby_arrival[qseen[p]]])
            if pick < 0 and qpick < 0:
                if min(upcoming, arrival * week) >= week:  # nothing more arrives this week
                    continue
                if p >= 0 and a == end[r] and not off_queue[r] and qseen[p] - qstart[p] == qtaken[p]:
                    heapq.heappush(waiting, (idle_since[r], r))  # the next arrival that finds it longest idle
                    wake = max(wake, qseen[p])
                    continue
                clock[r] = min(upcoming, arrival * week)  # idle until it does
                reached[r] = min(upcoming / week, arrival)
                key = (reached[r], idle_since[r], r)
                hold = len(waiting) == 0 and (len(heap) == 0 or key < heap[0])
                if not hold:
                    heapq.heappush(heap, key)
                continue
            if qpick >= 0 and (pick < 0 or qpriority[qpick] > priority[pick]):
                if t + qcost[qpick] <= week + EPS:
                    qsettled[qpick] = True
                    qtaken[p] += 1
                    taker[qpick] = r
                    taken_at[qpick] = t
                    t += qcost[qpick]
                else:
                    off_queue[r] = True
            else:
                settled[pick] = True
                if t + cost[pick] <= week + EPS:
                    accepted[pick] = True
                    start[pick] = t
                    t += cost[pick]
            if t > clock[r]:
                reached[r] = t / week if week > 0.0 else 0.0  # a seat of no hours still settles its tasks
                idle_since[r] = reached[r]
            clock[r] = t
            key = (reached[r], idle_since[r], r)
            hold = len(waiting) == 0 and (len(heap) == 0 or key < heap[0])
            if not hold:
                heapq.heappush(heap, key)
    return accepted, start, taker, taken_at
