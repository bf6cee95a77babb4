"""A pool's shared queue split by what its reps are paid on (their lanes).

A pool's queue is answered by whichever of its reps is free (``sim.allocation``),
so every rep of a queue must be paid on everything the queue holds. When a
policy pools reps of different lanes (an inside team paid on everything beside
SDRs paid on new logos only), the engine splits the pool: the reps of each lane
answer a queue of their own, and a lead waits in the queue of the narrowest
lane paid on it that has a rep with hours this week [A]; with none, of the
narrowest with a rep in a filled seat (a rep at the bottom of a ramp that
starts at 0 has no hours yet: the lead waits, as in a pool without lanes);
with none again, it is missed for the vacancy, as a lead of a pool whose
every seat is vacant is. A rep paid on new logos alone takes the new-logo
leads, which are its job; the reps paid on everything take the rest. A policy still sees and
routes to the pool it planned (``Tasks.pool``, ``CoveragePlan.seat_pool``).
"""

from __future__ import annotations

import functools

import numpy as np

from sim.allocation import Queues


def narrow_lane_pooled(seat_pool: np.ndarray, lane_lines: np.ndarray, lane_kinds: np.ndarray) -> bool:
    """Whether a pooled seat (``seat_pool`` >= 0) is not paid on every line and kind: only then can a pool have
    seats of two lanes to split (an overlay's specialists, paid on their own line, are seldom pooled; checking
    here spares their weeks ``lane_queues``)."""
    pooled = seat_pool >= 0
    return not (lane_lines[pooled].all() and lane_kinds[pooled].all())


def lane_queues(
    queues: Queues,
    line: np.ndarray,
    kind: np.ndarray,
    lane_lines: np.ndarray,
    lane_kinds: np.ndarray,
    filled: np.ndarray,
    capacity: np.ndarray,
) -> tuple[Queues, np.ndarray]:
    """``queues`` with each pool whose seats differ in lane split into one queue per lane, and per task
    whether its queue has no filled seat this week (nobody can answer it: a vacancy).

    ``line`` and ``kind``: each task's (line -1, a renewal, is the last column
    of ``lane_lines``); ``lane_lines`` (seat x line + 1) and ``lane_kinds``
    (seat x kind): what each seat is paid on; ``filled``: per seat, held this
    week; ``capacity``: its hours this week. A pool of one lane keeps its number; a pool's other lanes take
    numbers past every pool, in the order of their first seat. A task no seat
    of its pool is paid on stays in its pool's queue (``checked_route``
    refuses such a route).
    """
    seat_pool = np.ascontiguousarray(queues.seat_pool, dtype=np.int64)
    unstaffed = np.zeros(queues.pool.size, dtype=bool)
    pools = int(max(seat_pool.max(initial=-1), queues.pool.max(initial=-1))) + 1
    split = _split_queues(
        seat_pool.tobytes(),
        np.ascontiguousarray(lane_lines, dtype=bool).tobytes(),
        np.ascontiguousarray(lane_kinds, dtype=bool).tobytes(),
        np.ascontiguousarray(filled, dtype=bool).tobytes(),
        (capacity > 0).tobytes(),
        lane_lines.shape[1],
        pools,
    )
    if split is None:
        return queues, unstaffed  # no pooled seat, or every pool of one lane
    split_seat_pool, queue_pool, queue_lines, queue_kinds, number, staffed = split
    task_pool = queues.pool.copy()
    waiting = np.flatnonzero(task_pool >= 0)
    column = np.where(line[waiting] >= 0, line[waiting], lane_lines.shape[1] - 1)
    paid = (queue_pool[:, None] == task_pool[None, waiting]) & queue_lines[:, column] & queue_kinds[:, kind[waiting]]
    found = paid.any(axis=0)
    chosen = paid.argmax(axis=0)[found]
    task_pool[waiting[found]] = number[chosen]
    unstaffed[waiting[found]] = ~staffed[chosen]
    return Queues(pool=task_pool, arrival=queues.arrival, seat_pool=split_seat_pool.copy()), unstaffed


@functools.lru_cache(maxsize=16)
def _split_queues(
    seat_pool_bytes: bytes,
    lane_lines_bytes: bytes,
    lane_kinds_bytes: bytes,
    filled_bytes: bytes,
    working_bytes: bytes,
    lines: int,
    pools: int,
) -> tuple[np.ndarray, ...] | None:
    """The seats' side of ``lane_queues``, from the bytes of its small per-seat arrays (the same from week to
    week while the plan and the team stand, so kept: it took most of the overlay world's 0.2 ms a week): each
    seat's queue, and the queues in the order a lead tries them (with hours, then staffed, then the narrowest
    lane, then the lower number) with their pool, lanes, number and whether staffed; None where no pool has
    seats of two lanes. ``pools``: one past the highest pool of a seat or a task (the others' numbers start
    there)."""
    seat_pool = np.frombuffer(seat_pool_bytes, dtype=np.int64)
    pooled = np.flatnonzero(seat_pool >= 0)
    if pooled.size == 0:  # no seat answers a queue (a team of none included)
        return None
    lane_lines = np.frombuffer(lane_lines_bytes, dtype=bool).reshape(seat_pool.size, lines)
    lane_kinds = np.frombuffer(lane_kinds_bytes, dtype=bool).reshape(seat_pool.size, -1)
    filled, working = np.frombuffer(filled_bytes, dtype=bool), np.frombuffer(working_bytes, dtype=bool)
    lanes = np.concatenate([lane_lines[pooled], lane_kinds[pooled]], axis=1)
    # Seats of one pool and one lane answer one queue; numbered as lane_queues' docstring says.
    keys = np.concatenate([seat_pool[pooled, None], lanes.astype(np.int64)], axis=1)
    unique, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    if unique.shape[0] == np.unique(seat_pool[pooled]).size:
        return None
    number = np.empty(unique.shape[0], dtype=np.int64)
    taken: set[int] = set()
    extra = pools
    for q in np.argsort(first, kind="stable"):  # the queues in the order of their first seat
        p = int(unique[q, 0])
        if p in taken:
            number[q], extra = extra, extra + 1
        else:
            number[q] = p
            taken.add(p)
    split_seat_pool = seat_pool.copy()
    split_seat_pool[pooled] = number[inverse.ravel()]
    queue_lines, queue_kinds = unique[:, 1 : 1 + lines].astype(bool), unique[:, 1 + lines :].astype(bool)
    breadth = queue_lines.sum(axis=1) * queue_kinds.sum(axis=1)
    staffed, staffed_working = np.zeros(unique.shape[0], dtype=bool), np.zeros(unique.shape[0], dtype=bool)
    staffed[inverse.ravel()[filled[pooled]]] = True
    staffed_working[inverse.ravel()[filled[pooled] & working[pooled]]] = True
    rank = np.lexsort((number, breadth, ~staffed, ~staffed_working))
    ranked = (split_seat_pool, unique[rank, 0], queue_lines[rank], queue_kinds[rank], number[rank], staffed[rank])
    for a in ranked:
        a.flags.writeable = False  # kept for later weeks: nobody may change them
    return ranked
