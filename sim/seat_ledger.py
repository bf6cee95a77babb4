"""How loaded each rep is: every seat's hours worked and selling hours, summed by quarter (``seats.csv``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The columns of a seat ledger's frame, after the run's policy and seed.
SEAT_COLUMNS = ("quarter", "seat", "role", "weeks_filled", "capacity_hours", "hours", "utilisation")


class SeatLedger:
    """Each seat's hours of customer work done (``hours``, which the week's effort adds to), its selling
    hours (capacity: what was left for customer work after hand-offs and account plans) and its weeks with a
    holder, summed over the quarter so far; one row per seat when the quarter closes. Seats added during a
    run (an overlay launch) join with nothing summed before."""

    def __init__(self) -> None:
        self.hours = np.zeros(0)
        self._capacity = np.zeros(0)
        self._filled = np.zeros(0, dtype=np.int64)
        self._role = np.empty(0, dtype=object)
        self._quarters: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def worked(self, seats: int) -> np.ndarray:
        """The quarter's hours worked per seat, for a week of ``seats`` seats to add its work to."""
        self._grow(seats)
        return self.hours

    def end_week(self, role: np.ndarray, capacity: np.ndarray, filled: np.ndarray) -> None:
        """Add the week's selling hours and filled seats (per seat: ``role`` names, ``capacity`` hours)."""
        n = capacity.size
        self._grow(n)
        self._capacity[:n] += capacity
        self._filled[:n] += filled
        self._role = role

    def end_quarter(self, quarter: int) -> None:
        """File the quarter's sums and start the next from zero."""
        n = self._role.size
        self._quarters.append(
            (quarter, self._role, self._filled[:n].copy(), self._capacity[:n].copy(), self.hours[:n].copy())
        )
        self.hours[:] = 0.0
        self._capacity[:] = 0.0
        self._filled[:] = 0

    def frame(self, policy: str, seed: int) -> pd.DataFrame:
        """One row per (quarter, seat): policy, seed, quarter, seat, role, weeks_filled, capacity_hours, hours,
        and utilisation (hours / capacity_hours; empty for a seat with no selling hours that quarter)."""
        parts = [
            pd.DataFrame(
                {
                    "quarter": quarter,
                    "seat": np.arange(role.size),
                    "role": role,
                    "weeks_filled": filled,
                    "capacity_hours": capacity,
                    "hours": hours,
                    "utilisation": np.divide(hours, capacity, out=np.full(role.size, np.nan), where=capacity > 0),
                }
            )
            for quarter, role, filled, capacity, hours in self._quarters
        ]
        table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(SEAT_COLUMNS))
        table.insert(0, "seed", seed)
        table.insert(0, "policy", policy)
        return table

    def _grow(self, seats: int) -> None:
        """Room for ``seats`` seats (a launch adds some)."""
        more = seats - self.hours.size
        if more > 0:
            self.hours = np.concatenate([self.hours, np.zeros(more)])
            self._capacity = np.concatenate([self._capacity, np.zeros(more)])
            self._filled = np.concatenate([self._filled, np.zeros(more, dtype=np.int64)])
