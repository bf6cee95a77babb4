"""How a rep's limited week is spent: a priority dispatch of the tasks as they arrive, no look-ahead.

Each rep's week is a clock running from 0 to its selling hours. Whenever the
rep is free it takes, among the tasks that already exist, the one of highest
priority; a lead that arrives while the rep is busy waits until the task in
hand is done (non-preemptive). The per-rep loop is a numba kernel, compiled on
first use and cached on disk; numba is imported only then, so that importing
covsim (``covsim --help``) does not pay for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Slack on comparisons of hours: a task fits if it ends within EPS of the week's
# end, and exists if it was released within EPS of the rep's clock.
EPS = 1e-9


@dataclass(frozen=True)
class Allocation:
    """Result of one week's allocation, one entry per task.

    accepted: the task is done this week; start: hours of the rep's week elapsed
    when the task is begun, on the rep's clock (so counting the rep's idle time
    waiting for work to arrive as well as the hours of the tasks done before
    it), NaN where not accepted; declined: the policy gave it a priority <= 0
    (or NaN), so the rep did not try.
    """

    accepted: np.ndarray
    start: np.ndarray
    declined: np.ndarray


def allocate_hours(
    rep: np.ndarray,
    cost: np.ndarray,
    priority: np.ndarray,
    capacity: np.ndarray,
    release: np.ndarray | None = None,
) -> Allocation:
    """Each rep's week spent on its tasks by a non-preemptive priority dispatch with release times.

    Per task: ``rep`` its seat (0 .. ``capacity.size`` - 1), ``cost`` its hours
    (> 0), ``priority`` (the rep declines a task of priority <= 0 or NaN) and
    ``release`` the hours into the rep's week before which the task does not
    exist (a lead arriving mid-week; default 0, all there from the start).
    ``capacity``: each seat's selling hours this week.

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
    """
    n = rep.size
    declined = ~(priority > 0)  # NaN compares False, so NaN declines too
    todo = np.flatnonzero(~declined)
    accepted = np.zeros(n, dtype=bool)
    start = np.full(n, np.nan)
    if todo.size == 0:
        return Allocation(accepted, start, declined)
    if release is None:
        release = np.zeros(n)
    elif np.shape(release) != rep.shape:
        raise ValueError(f"release has shape {np.shape(release)}, the tasks {rep.shape}")
    seats = capacity.size
    lowest, highest = int(rep[todo].min()), int(rep[todo].max())
    if lowest < 0 or highest >= seats:
        raise ValueError(f"seat numbers {lowest}..{highest} outside the {seats} seats")
    # By rep, then by descending priority, ties in the order given: by priority, then a
    # stable radix sort on the small seat numbers (together cheaper than a lexsort).
    todo = todo[_descending(priority[todo])]
    todo = todo[np.argsort(rep[todo].astype(np.int32 if seats > 32767 else np.int16), kind="stable")]
    done, begun = _kernel()(
        np.ascontiguousarray(rep[todo], dtype=np.int64),
        np.ascontiguousarray(cost[todo], dtype=np.float64),
        np.ascontiguousarray(release[todo], dtype=np.float64),
        np.ascontiguousarray(capacity, dtype=np.float64),
    )
    accepted[todo] = done
    start[todo] = begun
    return Allocation(accepted, start, declined)


def _dispatch(
    rep: np.ndarray, cost: np.ndarray, release: np.ndarray, capacity: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The dispatch of ``allocate_hours`` on tasks sorted by rep, then by priority: (accepted, start).

    Compiled by numba (``_kernel``). Per rep, O(k) per decision for k tasks, in
    practice less: the scan starts at the best task not yet done or skipped and
    stops at the first released one, so it passes over only leads still to come.
    """
    n = rep.size
    accepted = np.zeros(n, dtype=np.bool_)
    start = np.full(n, np.nan)
    settled = np.zeros(n, dtype=np.bool_)  # done or skipped
    lo = 0
    while lo < n:
        r = rep[lo]
        hi = lo + 1
        while hi < n and rep[hi] == r:
            hi += 1
        week = capacity[r]
        t = 0.0
        first = lo  # every task before it is settled
        while True:
            while first < hi and settled[first]:
                first += 1
            if first == hi:
                break
            pick = -1
            arrival = np.inf  # the next release, if nothing is there to take now
            for j in range(first, hi):
                if settled[j]:
                    continue
                if release[j] <= t + EPS:
                    pick = j
                    break
                arrival = min(arrival, release[j])
            if pick < 0:
                if arrival >= week:  # nothing more arrives this week
                    break
                t = arrival  # idle until it does
                continue
            settled[pick] = True
            if t + cost[pick] <= week + EPS:
                accepted[pick] = True
                start[pick] = t
                t += cost[pick]
        lo = hi
    return accepted, start


@functools.cache
def _kernel() -> Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``_dispatch`` compiled, numba imported on first use (it takes about half a second).

    ``cache=True`` keeps the machine code in ``sim/__pycache__``, or if that is
    read-only in numba's user-wide cache (``~/.cache/numba``, or
    ``NUMBA_CACHE_DIR``), so that later processes load it (about 0.6 s) instead
    of compiling it (about 1.5 s). With no writable cache at all, numba refuses
    ``cache=True``; each process then compiles.
    """
    import numba

    kernel: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    try:
        kernel = numba.njit(cache=True, nogil=True)(_dispatch)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        kernel = numba.njit(nogil=True)(_dispatch)
    return kernel


def _descending(values: np.ndarray) -> np.ndarray:
    """Indices that sort ``values`` (no NaN) descending, ties in the order given: a stable sort.

    A stable sort of floats is a branchy merge sort, about three times slower
    inside a run than numpy's vectorized default sort; without ties the two give
    the same order, so the default is used whenever no two values are equal.
    """
    order = np.argsort(-values)
    ordered = values[order]
    if (ordered[1:] == ordered[:-1]).any():
        return np.argsort(-values, kind="stable")
    return order
