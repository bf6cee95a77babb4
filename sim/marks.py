"""Positions of the entries of an integer array whose value is marked in a lookup mask.

A step that asks "which accounts are held by these seats" over millions of
accounts is one compiled pass here, where numpy took a maximum, a gather
into a temporary mask of the accounts' size and a flatnonzero.
"""

from __future__ import annotations

import numpy as np

from sim.compiled import compiled


def marked_positions(values: np.ndarray, marked: np.ndarray) -> np.ndarray:
    """Positions (ascending, int64) of the entries of ``values`` that index a True of the mask ``marked``;
    entries outside ``0 .. marked.size - 1`` (-1 for nothing, say) are never marked."""
    return compiled(_marked_positions)(values, marked)


def _marked_positions(values: np.ndarray, marked: np.ndarray) -> np.ndarray:
    """Compiled by numba (``sim.compiled``): a count, then the positions."""
    count = 0
    for i in range(values.size):
        v = values[i]
        if 0 <= v < marked.size and marked[v]:
            count += 1
    out = np.empty(count, dtype=np.int64)
    j = 0
    for i in range(values.size):
        v = values[i]
        if 0 <= v < marked.size and marked[v]:
            out[j] = i
            j += 1
    return out
