"""Changes of accounts' spend and contracts, compiled: the loops behind ``Population.won``, ``renew``,
``_set_spend`` and ``scale_potential``.

Won expansions and new logos raise the spend on a product line up to its
wallet; renewals and churn set an account's total spend, its lines moving in
proportion; a won new logo puts a prospect on a contract. Each is a few
thousand accounts a week at most, where numpy took ten to twenty calls (a
distinct-cell count, gathers over accounts x lines, a row sum, a scatter
into the segment totals). Each loop adds in the order the numpy version did,
so the numbers are the same bit for bit (``tests/test_kernels.py`` keeps the
numpy versions as the reference). The arrays are the population's own; only
its methods call these. A world of one line passes 1 x 1 arrays for its lines
(``Population.spend_arrays``), which the kernels do not read.
"""

from __future__ import annotations

import numpy as np

from sim.codes import Kind, Status

#: The accounts' spend as ``won_deals``, ``add_value``, ``renew_spend`` and ``set_spend`` take it
#: (``Population.spend_arrays``): lines, spend, line_spend, potential, line_share, segment, segment_spend.
SpendArrays = tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]

_NEW_LOGO, _EXPANSION, _RENEWAL = int(Kind.NEW_LOGO), int(Kind.EXPANSION), int(Kind.RENEWAL)
_PROSPECT, _CUSTOMER, _CHURNED = int(Status.PROSPECT), int(Status.CUSTOMER), int(Status.CHURNED)


def won_deals(
    customers: np.ndarray,
    kind: np.ndarray,
    value: np.ndarray,
    line: np.ndarray,
    week: int,
    status: np.ndarray,
    term_weeks: np.ndarray,
    notice_weeks: np.ndarray,
    renewal_week: np.ndarray,
    renewal_opens: np.ndarray,
    renewal_won: np.ndarray,
    accounts: SpendArrays,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``Population.won`` in the order the engine applied it deal kind by deal kind: the new logos won on
    accounts not churned (a prospect becomes a customer on a contract from ``week``, then each adds its
    value), the expansions on customers, then the renewals on customers (the last value of an account
    renewed twice). Returns the prospects converted (in order, as often as they won), the same distinct
    and ascending, and every account of those new logos, distinct and ascending."""
    segment = accounts[5]
    n = customers.size
    take = np.empty(n, dtype=np.int64)
    k = 0
    for j in range(n):
        if kind[j] == _NEW_LOGO and status[customers[j]] != _CHURNED:
            take[k] = j
            k += 1
    won_new = customers[take[:k]]
    newly = np.empty(k, dtype=np.int64)
    m = 0
    for a in won_new:
        if status[a] == _PROSPECT:
            newly[m] = a
            m += 1
    newly = newly[:m]
    for a in newly:
        s = segment[a]
        renewal_week[a] = week + term_weeks[s]
        renewal_opens[a] = renewal_week[a] - notice_weeks[s]
    for a in won_new:
        status[a] = _CUSTOMER
    add_value(won_new, value[take[:k]], line[take[:k]], accounts)
    for wanted in (_EXPANSION, _RENEWAL):
        k = 0
        for j in range(n):
            if kind[j] == wanted and status[customers[j]] == _CUSTOMER:
                take[k] = j
                k += 1
        c, v = customers[take[:k]], value[take[:k]]
        if wanted == _EXPANSION:
            add_value(c, v, line[take[:k]], accounts)
        else:
            renew_spend(c, v, accounts)
            for a in c:
                renewal_won[a] = True
    return newly, np.unique(newly), np.unique(won_new)


def add_value(
    customers: np.ndarray,
    value: np.ndarray,
    line: np.ndarray,
    accounts: SpendArrays,
) -> None:
    """Won ``value`` added to the spend of ``customers`` on ``line``, up to its wallet (accounts may repeat)."""
    lines, spend, line_spend, potential, line_share, segment, segment_spend = accounts
    if lines == 1:
        expand_one_line(customers, value, spend, potential, segment, segment_spend)
    else:
        changed = expand_lines(customers, line, value, line_spend, potential, line_share)
        line_totals(changed, spend, line_spend, segment, segment_spend)


def renew_spend(
    customers: np.ndarray,
    value: np.ndarray,
    accounts: SpendArrays,
) -> None:
    """``Population.renew``: each account's spend set to its last renewed ``value``, capped at the potential,
    by account ascending (``np.unique`` of the reversed accounts found the last)."""
    potential = accounts[3]
    last = customers[::-1]
    order = np.argsort(last, kind="mergesort")
    renewed = np.empty(customers.size, dtype=np.int64)
    new = np.empty(customers.size)
    m = 0
    for i in order:
        a = last[i]
        if m == 0 or renewed[m - 1] != a:
            renewed[m] = a
            new[m] = np.minimum(value[customers.size - 1 - i], potential[a])  # a NaN stays NaN, as numpy
            m += 1
    set_spend(renewed[:m], new[:m], accounts)


def set_spend(
    customers: np.ndarray,
    new: np.ndarray,
    accounts: SpendArrays,
) -> None:
    """``Population._set_spend``: the total spend of distinct ``customers`` set to ``new``, the segment totals
    moved by each change in order (as ``np.add.at``); with several lines, through each line's spend."""
    lines, spend, line_spend, potential, line_share, segment, segment_spend = accounts
    if lines == 1:
        for i in range(customers.size):
            a = customers[i]
            segment_spend[segment[a]] += new[i] - spend[a]
            spend[a] = new[i]
    else:
        set_spend_lines(customers, new, spend, line_spend, potential, line_share)
        line_totals(customers, spend, line_spend, segment, segment_spend)


def expand_one_line(
    customers: np.ndarray,
    value: np.ndarray,
    spend: np.ndarray,
    potential: np.ndarray,
    segment: np.ndarray,
    segment_spend: np.ndarray,
) -> None:
    """``add_value`` in a one-line world: by account ascending, each account's ``value`` summed from
    0 in the order given, its spend raised by it up to the potential, the segment totals moved by the change."""
    order = np.argsort(customers, kind="mergesort")
    k, n = 0, customers.size
    while k < n:
        a = customers[order[k]]
        added = 0.0
        while k < n and customers[order[k]] == a:
            added += value[order[k]]
            k += 1
        new = min(spend[a] + added, potential[a] * 1.0)
        segment_spend[segment[a]] += new - spend[a]
        spend[a] = new


def expand_lines(
    customers: np.ndarray,
    line: np.ndarray,
    value: np.ndarray,
    line_spend: np.ndarray,
    potential: np.ndarray,
    line_share: np.ndarray,
) -> np.ndarray:
    """``add_value``'s spend on each line in a world of several lines (``customers``, ``line``,
    ``value`` one per won deal; accounts and lines may repeat): by (account, line) cell ascending, each
    cell's ``value`` summed from 0 in the order given, its spend raised by it up to the line's wallet
    (potential x share). Returns the distinct accounts, ascending, whose totals ``line_totals`` then sets."""
    lines = line_spend.shape[1]
    cell = customers * lines + line
    order = np.argsort(cell, kind="mergesort")
    accounts = np.empty(cell.size, dtype=np.int64)
    k, n, m = 0, cell.size, 0
    while k < n:
        c = cell[order[k]]
        added = 0.0
        while k < n and cell[order[k]] == c:
            added += value[order[k]]
            k += 1
        a, ln = c // lines, c % lines
        line_spend[a, ln] = min(line_spend[a, ln] + added, potential[a] * line_share[a, ln])
        if m == 0 or accounts[m - 1] != a:
            accounts[m] = a
            m += 1
    return accounts[:m]


def set_spend_lines(
    customers: np.ndarray,
    new: np.ndarray,
    spend: np.ndarray,
    line_spend: np.ndarray,
    potential: np.ndarray,
    line_share: np.ndarray,
) -> None:
    """``Population._set_spend``'s spend on each line in a world of several lines, for distinct
    ``customers``: each line's spend moves in proportion to the total ``new`` (split by the wallet shares
    where the account spent nothing), capped at the line's wallet; ``line_totals`` then sets the totals."""
    for i in range(customers.size):
        a = customers[i]
        old = spend[a]
        for ln in range(line_spend.shape[1]):
            split = line_spend[a, ln] / old if old > 0 else line_share[a, ln]
            line_spend[a, ln] = min(new[i] * split, potential[a] * line_share[a, ln])


def line_totals(
    accounts: np.ndarray, spend: np.ndarray, line_spend: np.ndarray, segment: np.ndarray, segment_spend: np.ndarray
) -> None:
    """Each of distinct ``accounts``' spend set to the sum of its lines, in order, the segment totals moved
    by the change (as ``np.add.at``). The sum is numpy's own of a row of accounts x lines (its pairwise
    sum: left to right under 8 lines, else eight running sums combined in pairs, then the rest), so that
    the numbers are those of the numpy version; lines are at most 100, under numpy's block of 128."""
    lines = line_spend.shape[1]
    for a in accounts:
        if lines < 8:
            total = 0.0
            for ln in range(lines):
                total += line_spend[a, ln]
        else:
            r = line_spend[a, :8].copy()
            i = 8
            while i + 8 <= lines:
                for j in range(8):
                    r[j] += line_spend[a, i + j]
                i += 8
            total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
            while i < lines:
                total += line_spend[a, i]
                i += 1
        segment_spend[segment[a]] += total - spend[a]
        spend[a] = total


def segment_totals(segment: np.ndarray, spend: np.ndarray, totals: np.ndarray) -> None:
    """Every account's spend summed by segment into ``totals`` (``Population.recount_spend``), account by
    account in order as ``np.bincount(segment, weights=spend)`` adds, without its widened copy of the
    segments (80 MB at ten million accounts, each quarter). Segments index ``totals`` (numba does not
    check)."""
    totals[:] = 0.0
    for i in range(segment.size):
        totals[segment[i]] += spend[i]
