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
    """Compiled by numba (``sim.compiled``): one pass, the positions kept in a buffer that doubles when
    full (a count first would read ``values``, tens of megabytes at ten million accounts, twice). The scan
    goes in stretches no longer than the room left, so the inner loop never grows the buffer: growing it
    there made numba's loop six times slower."""
    n, size = values.size, marked.size
    out = np.empty(1024, dtype=np.int64)
    j = i = 0
    while i < n:
        stop = min(n, i + out.size - j)
        for k in range(i, stop):
            v = values[k]
            if 0 <= v < size and marked[v]:
                out[j] = k
                j += 1
        i = stop
        if j == out.size and i < n:
            grown = np.empty(2 * out.size, dtype=np.int64)
            grown[:j] = out
            out = grown
    return out[:j].copy()
