"""Conflicting engagement: accounts that two or more reps worked in one week without coordinating.

A customer who hears from two reps of the same company in a week, each
pursuing its own agenda, is the classic cost of an uncoordinated overlay
(DESIGN §1). The engine counts it from the work actually done each week
(``sim.model``): closing reps only (an SDR qualifying a lead for a closer is
the planned sequence, not a clash), and not a pool's work on requests from
its shared queue (pooled reps answer whatever comes: no one engages the
account as its rep). An account whose plan is coordinated has an account
plan its team keeps, and is never in conflict.
"""

from __future__ import annotations

import numpy as np

from sim.distinct import distinct


def conflicting_accounts(customer: np.ndarray, seat: np.ndarray, coordinated: np.ndarray) -> np.ndarray:
    """Accounts (sorted, distinct) that two or more distinct ``seat``\\ s worked this week and whose plan
    is not ``coordinated`` (a mask over accounts); ``customer``, ``seat``: one entry per engaging task done."""
    if customer.size < 2:
        return np.empty(0, dtype=np.int64)
    # Distinct (account, seat) pairs, sorted by account: an account listed twice had two seats.
    order = np.lexsort((seat, customer))
    c, s = customer[order], seat[order]
    new_pair = np.ones(c.size, dtype=bool)
    new_pair[1:] = (c[1:] != c[:-1]) | (s[1:] != s[:-1])
    c = c[new_pair]
    second = c[1:][c[1:] == c[:-1]]
    accounts = distinct(second)
    return accounts[~coordinated[accounts]]
