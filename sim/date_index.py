"""Accounts filed by the week of a date, so that a week's accounts are found without a scan of every account."""

from __future__ import annotations

import numpy as np

from sim.distinct import distinct


class DateIndex:
    """Accounts filed by the week of one of their dates, so that a week's accounts are found without
    comparing every account's date (two scans of every account a week had cost more than all of a
    week's renewals at a hundred thousand accounts).

    An account is filed under each week its date is set to; a filing whose date has since moved (a
    renewal booked again, a churn) is dropped when its week is taken, so only setting a date files.
    """

    def __init__(self) -> None:
        self._weeks: dict[int, list[np.ndarray]] = {}

    @classmethod
    def of(cls, dates: np.ndarray) -> DateIndex:
        """Every account filed by ``dates`` (a negative date: none)."""
        filed = cls()
        accounts = np.flatnonzero(dates >= 0)
        filed.add(accounts, dates[accounts])
        return filed

    def add(self, accounts: np.ndarray, weeks: np.ndarray) -> None:
        """File ``accounts`` under their ``weeks`` (one each)."""
        if accounts.size == 0:
            return
        first, last = int(weeks.min()), int(weeks.max())
        if first == last:  # a week's renewals booked again: a term or two apart, often one
            self._weeks.setdefault(first, []).append(accounts)
            return
        # A stable sort by week: accounts stay ascending within their week. Weeks fit 16 bits in any run
        # covsim makes, and numpy sorts 16-bit keys by radix, at millions of accounts many times faster.
        keys = weeks - first
        keys = keys.astype(np.uint16) if last - first < 2**16 else keys
        order = np.argsort(keys, kind="stable")
        sorted_weeks = weeks[order]
        cuts = np.flatnonzero(sorted_weeks[1:] != sorted_weeks[:-1]) + 1
        for part, week in zip(np.split(accounts[order], cuts), sorted_weeks[np.r_[0, cuts]], strict=True):
            self._weeks.setdefault(int(week), []).append(part)

    def take(self, week: int, dates: np.ndarray) -> np.ndarray:
        """The accounts whose date is ``week`` now (ascending, as ``np.flatnonzero(dates == week)``), and
        forget that week's filings."""
        filed = self._weeks.pop(week, None)
        if filed is None:
            return np.empty(0, dtype=np.int64)
        accounts = filed[0] if len(filed) == 1 else np.concatenate(filed)
        return distinct(accounts[dates[accounts] == week]).astype(np.int64, copy=False)
