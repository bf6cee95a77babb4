"""The overlay's touches due in a week: the (account, line) cells whose specialist owes the account a touch.

A cell is due when its specialist (the plan's seat for the account's line)
is in a filled seat, the account has not churned, and the specialist is
behind its own cadence for the line, spread evenly over the quarter (or the
policy offered the cell a touch this week, whatever the cadence). One
compiled pass (``sim.compiled``) over the few hundred cells a week, where
numpy took a dozen calls on them.
"""

from __future__ import annotations

import numpy as np

from sim.clock import WEEKS_PER_QUARTER, week_in_quarter
from sim.codes import Status
from sim.compiled import compiled
from sim.policies.protocol import CoveragePlan

#: ``line_touches`` before any specialist's touch this quarter (none counted yet).
_NONE_DONE = np.zeros((0, 0), dtype=np.int32)

_CHURNED = int(Status.CHURNED)


def due_cells(
    week: int,
    cells: np.ndarray,
    offered: np.ndarray,
    lines: int,
    plan: CoveragePlan,
    status: np.ndarray,
    filled: np.ndarray,
    line_touches: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Of ``cells`` (flat indices into the plan's specialist arrays, accounts x ``lines``), those due a touch in
    ``week``, as (account, seat, line) arrays in the order of ``cells``. ``offered``: the cells the policy
    offered a touch this week (among ``cells``); ``status``: each account's; ``filled``: each seat's, held this
    week; ``line_touches``: each cell's touches this quarter (None: none yet)."""
    assert plan.specialist is not None and plan.specialist_cadence is not None
    offer = np.isin(cells, offered, assume_unique=True) if offered.size else np.zeros(cells.size, dtype=bool)
    return compiled(_due)(
        cells,
        offer,
        lines,
        plan.specialist,
        plan.specialist_cadence,
        _NONE_DONE if line_touches is None else line_touches,
        status,
        filled,
        week_in_quarter(week) + 1,
    )


def _due(
    cells: np.ndarray,
    offer: np.ndarray,
    lines: int,
    specialist: np.ndarray,
    cadence: np.ndarray,
    done: np.ndarray,
    status: np.ndarray,
    filled: np.ndarray,
    weeks_in: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``due_cells``, compiled: behind means fewer touches than ``cadence * weeks_in / 13``, in that order of
    operations (numpy's)."""
    account, seat, line = np.empty(cells.size, np.int64), np.empty(cells.size, np.int64), np.empty(cells.size, np.int64)
    k = 0
    for i in range(cells.size):
        c, ln = cells[i] // lines, cells[i] % lines
        s = specialist[c, ln]
        if s >= filled.size:
            raise IndexError("a seat past the team")
        if s < 0 or status[c] == _CHURNED or not filled[s]:
            continue
        touched = done[c, ln] if done.shape[0] > 0 else 0
        if offer[i] or touched < cadence[c, ln] * weeks_in / WEEKS_PER_QUARTER:
            account[k], seat[k], line[k] = c, s, ln
            k += 1
    return account[:k], seat[:k], line[:k]
