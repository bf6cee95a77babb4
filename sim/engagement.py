"""Conflicting engagement: accounts that two or more reps worked in one week without coordinating.

A customer who hears from two reps of the same company in a week, each
pursuing its own agenda, is the classic cost of an uncoordinated overlay
(DESIGN §1). The engine counts it from the work actually done each week
(``sim.model``): closing reps only (an SDR qualifying a lead for a closer is
the planned sequence, not a clash), and not a pool's work on requests from
its shared queue (pooled reps answer whatever comes: no one engages the
account as its rep). An account whose plan is coordinated has an account
plan its team keeps, and is never in conflict, when its team has the hours
to keep one (``planned_accounts``).
"""

from __future__ import annotations

import numpy as np

from sim.compiled import compiled
from sim.radix import radix_sort


def conflicting_accounts(
    customer: np.ndarray, seat: np.ndarray, coordinated: np.ndarray, joins: np.ndarray | None = None
) -> np.ndarray:
    """Accounts (sorted, distinct) that two or more distinct ``seat``\\ s worked this week and whose plan
    is not ``coordinated`` (a mask over accounts); ``customer``, ``seat``: one entry per engaging task done.
    ``joins`` (a mask over seats, which ``seat`` then indexes; None: every seat): the seats that join a
    coordinated account's plan. A coordinated account one of whose seats that worked it this week does not
    join its plan is no better coordinated than any other: a specialist keeping to its own lane."""
    if customer.size < 2:
        return np.empty(0, dtype=np.int64)
    if joins is not None and (loose := ~joins[seat]).any():
        coordinated = coordinated.copy()
        coordinated[customer[loose]] = False
    return compiled(_clashes)(
        np.ascontiguousarray(customer, dtype=np.int64), np.ascontiguousarray(seat, dtype=np.int64), coordinated
    )


def _clashes(customer: np.ndarray, seat: np.ndarray, coordinated: np.ndarray) -> np.ndarray:
    """``conflicting_accounts`` by one sort of (account, seat) keys (``_sorted``), then one pass: an account
    whose sorted keys change seat is one with two seats. Compiled by numba (``sim.compiled``), where numpy
    took a lexsort and a dozen calls. Accounts index ``coordinated`` (numba does not check); seats may be
    any integers (the key counts them from the lowest)."""
    lowest = seat.min()
    width = seat.max() - lowest + 1
    keys = _sorted(customer * width + (seat - lowest))
    out = np.empty(keys.size, dtype=np.int64)
    n = 0
    for j in range(1, keys.size):
        c = keys[j] // width
        second_seat = c == keys[j - 1] // width and keys[j] != keys[j - 1]
        if second_seat and (n == 0 or out[n - 1] != c) and not coordinated[c]:
            out[n] = c
            n += 1
    return out[:n].copy()


def planned_accounts(team: np.ndarray, plans: np.ndarray) -> np.ndarray:
    """Which accounts' teams keep their account plan: ``team`` (accounts x seats, -1 for none; the accounts in
    the order they are served) holds each account's distinct seats, ``plans`` how many plans each seat has the
    hours for. Each account in turn is planned if it has a seat and every seat of its team still has a plan to
    spare, and takes one of each. Compiled by numba (``sim.compiled``); ``plans`` is used up in place."""
    kept = np.zeros(team.shape[0], dtype=np.bool_)
    for i in range(team.shape[0]):
        room, seated = True, False  # a team none of whose seats is held plans nothing
        for j in range(team.shape[1]):
            seated |= team[i, j] >= 0
            if team[i, j] >= 0 and plans[team[i, j]] < 1:
                room = False
        room &= seated
        if room:
            kept[i] = True
            for j in range(team.shape[1]):
                if team[i, j] >= 0:
                    plans[team[i, j]] -= 1
    return kept


def _sorted(keys: np.ndarray) -> np.ndarray:
    """Non-negative integer ``keys`` (int64) in ascending order, by ``sim.radix.radix_sort`` (as many passes
    as the largest key needs: three for a hundred thousand accounts times a team), where a comparison sort
    of a week's few thousand keys cost three times as much in branches the processor could not predict."""
    out, _ = radix_sort(keys.copy().view(np.uint64), np.empty(0, dtype=np.int64))
    return out.view(np.int64)
