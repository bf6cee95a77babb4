"""How loaded each rep is: every seat's book, hours worked and selling hours, by quarter (``seats.csv``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.codes import Status
from sim.compiled import compiled

#: The columns of a seat ledger's frame, after the run's policy and seed.
SEAT_COLUMNS = (
    "quarter",
    "seat",
    "role",
    "owned_accounts",
    "owned_customers",
    "weeks_filled",
    "capacity_hours",
    "hours",
    "utilisation",
)


class SeatLedger:
    """Each seat's book as the quarter's plan deals it, and its hours of customer work done (``hours``, which
    the week's effort adds to), its selling hours (capacity: what was left for customer work after hand-offs
    and account plans) and its weeks with a holder, summed over the quarter so far; one row per seat when the
    quarter closes. Seats added during a run (an overlay launch) join with nothing summed before."""

    def __init__(self) -> None:
        self.hours = np.zeros(0)
        self._capacity = np.zeros(0)
        self._filled = np.zeros(0, dtype=np.int64)
        self._owned = np.zeros(0, dtype=np.int64)
        self._customers = np.zeros(0, dtype=np.int64)
        self._role = np.empty(0, dtype=object)
        self._ever_filled = np.zeros(0, dtype=bool)  # before this quarter: filled some week
        self._ever_worked = np.zeros(0, dtype=bool)  # ... and worked some hour
        self._quarters: list[tuple[int, np.ndarray, dict[str, np.ndarray]]] = []

    def books(self, owner: np.ndarray, status: np.ndarray, seats: int) -> None:
        """The quarter's books (``owner``: each account's seat, -1 none; ``status``: each account's ``Status``):
        the live accounts each of ``seats`` seats owns, and the customers among them. What a seat's role does
        not say, its book does: under ``hunter_farmer`` a hunter's book is of prospects, a farmer's of
        customers."""
        self._owned, self._customers = compiled(_books)(owner, status, seats, int(Status.CUSTOMER), int(Status.CHURNED))

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

    def since_start(self, roles: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Per role of ``roles``: the seats filled some week since the run's start, this quarter's included, and
        those of them that have worked no hour since then (a hunter with no prospects to hunt)."""
        n = self._role.size
        filled = self._ever_filled[:n] | (self._filled[:n] > 0)
        idle = filled & ~(self._ever_worked[:n] | (self.hours[:n] > 0))
        of_role = [self._role == r for r in roles]
        return (
            np.array([np.count_nonzero(filled & m) for m in of_role], dtype=np.float64),
            np.array([np.count_nonzero(idle & m) for m in of_role], dtype=np.float64),
        )

    def end_quarter(self, quarter: int) -> None:
        """File the quarter's books and sums, and start the next from zero."""
        n = self._role.size
        self._ever_filled[:n] |= self._filled[:n] > 0
        self._ever_worked[:n] |= self.hours[:n] > 0
        columns = {
            "owned_accounts": _padded(self._owned, n),
            "owned_customers": _padded(self._customers, n),
            "weeks_filled": self._filled[:n].copy(),
            "capacity_hours": self._capacity[:n].copy(),
            "hours": self.hours[:n].copy(),
        }
        self._quarters.append((quarter, self._role, columns))
        self.hours[:] = 0.0
        self._capacity[:] = 0.0
        self._filled[:] = 0

    def frame(self, policy: str, seed: int) -> pd.DataFrame:
        """One row per (quarter, seat): policy, seed, quarter, seat, role, owned_accounts, owned_customers,
        weeks_filled, capacity_hours, hours, and utilisation (hours / capacity_hours; empty for a seat with no
        selling hours that quarter)."""
        parts = []
        for quarter, role, columns in self._quarters:
            capacity, hours = columns["capacity_hours"], columns["hours"]
            utilisation = np.divide(hours, capacity, out=np.full(role.size, np.nan), where=capacity > 0)
            seats = {"quarter": quarter, "seat": np.arange(role.size), "role": role}
            parts.append(pd.DataFrame({**seats, **columns, "utilisation": utilisation}))
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
            self._ever_filled = np.concatenate([self._ever_filled, np.zeros(more, dtype=bool)])
            self._ever_worked = np.concatenate([self._ever_worked, np.zeros(more, dtype=bool)])


def _padded(a: np.ndarray, n: int) -> np.ndarray:
    """``a``'s first ``n`` entries, with zeros for the seats past its end (seats a launch added after the plan)."""
    out = np.zeros(n, dtype=a.dtype)
    k = min(n, a.size)
    out[:k] = a[:k]
    return out


def _books(
    owner: np.ndarray, status: np.ndarray, seats: int, customer: int, churned: int
) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`SeatLedger.books`, compiled (``sim.compiled``): one pass over the accounts."""
    owned = np.zeros(seats, dtype=np.int64)
    customers = np.zeros(seats, dtype=np.int64)
    for i in range(owner.size):
        s = owner[i]
        if s >= 0 and status[i] != churned:
            owned[s] += 1
            if status[i] == customer:
                customers[s] += 1
    return owned, customers
