"""Positions of the entries of an integer array whose value is marked in a lookup mask.

A step that asks "which accounts are held by these seats" over millions of
accounts is compiled here, where numpy took a maximum, a gather into a
temporary mask of the accounts' size and a flatnonzero.
"""

from __future__ import annotations

import numpy as np

from sim.compiled import compiled

#: Entries counted per block in the first pass (``_marked_positions``); only blocks with a mark are read twice.
_BLOCK = 1024
#: Masks up to this many entries (seats, say, not accounts) are read through a table of 8-byte counts.
SMALL_MASK = 1 << 16


def marked_positions(values: np.ndarray, marked: np.ndarray) -> np.ndarray:
    """Positions (ascending, int64) of the entries of ``values`` that index a True of the mask ``marked``;
    entries outside ``0 .. marked.size - 1`` (-1 for nothing, say) are never marked."""
    if marked.size == 0 or values.size == 0:
        return np.empty(0, dtype=np.int64)
    return compiled(_small_mask_positions if marked.size <= SMALL_MASK else _marked_positions)(values, marked)


def _marked_positions(values: np.ndarray, marked: np.ndarray) -> np.ndarray:
    """``marked_positions`` of non-empty arrays. Compiled by numba (``sim.compiled``), in two passes: the
    first counts the marked entries of each block of ``_BLOCK`` without a branch, the second writes the
    positions of the blocks that have any.

    Why: marks are rare (a leaving rep's accounts among millions), but whether an entry is in range at
    all is not (-1 for most accounts, a seat for the rest, in no order), and a branch on it mispredicted
    on every few entries. A single pass with that branch took 23 ms over ten million holders; the
    branch-free count and the rare second look 12 ms.
    """
    n = values.size
    # As unsigned, -1 (and every negative) is past the mask's end, so one comparison checks both ends.
    last = np.uintp(marked.size - 1)
    blocks = (n + _BLOCK - 1) // _BLOCK
    counts = np.zeros(blocks, dtype=np.int64)
    for b in range(blocks):
        c = np.int64(0)
        for k in range(b * _BLOCK, min(n, (b + 1) * _BLOCK)):
            u = np.uintp(values[k])
            c += np.int64(marked[min(u, last)]) * np.int64(u <= last)
        counts[b] = c
    out = np.empty(counts.sum(), dtype=np.int64)
    j = 0
    for b in range(blocks):
        if counts[b] == 0:
            continue
        for k in range(b * _BLOCK, min(n, (b + 1) * _BLOCK)):
            u = np.uintp(values[k])
            if u <= last and marked[u]:
                out[j] = k
                j += 1
    return out


def _small_mask_positions(values: np.ndarray, marked: np.ndarray) -> np.ndarray:
    """``_marked_positions`` for a small mask (a team's seats), through a table of 8-byte counts: 0 at
    slot 0 for -1, the mask from slot 1, 0 in a last slot for every value past the mask (and, as unsigned,
    for every negative below -1). Byte-sized lookups do not vectorize; 8-byte ones do, which made the
    count of ten million holders 2.5 times as fast. The second pass writes every entry of a block that has
    marks at the next free place, which moves on only for a marked one: no branch to mispredict."""
    n = values.size
    table = np.zeros(marked.size + 2, dtype=np.int64)
    for s in range(marked.size):
        table[s + 1] = marked[s]
    last = np.uint64(marked.size + 1)
    blocks = (n + _BLOCK - 1) // _BLOCK
    counts = np.zeros(blocks, dtype=np.int64)
    for b in range(blocks):
        c = np.int64(0)
        for k in range(b * _BLOCK, min(n, (b + 1) * _BLOCK)):
            c += table[min(np.uint64(np.int64(values[k]) + 1), last)]
        counts[b] = c
    out = np.empty(counts.sum() + 1, dtype=np.int64)
    j = np.int64(0)
    for b in range(blocks):
        if counts[b] == 0:
            continue
        for k in range(b * _BLOCK, min(n, (b + 1) * _BLOCK)):
            out[j] = k
            j += table[min(np.uint64(np.int64(values[k]) + 1), last)]
    return out[:j].copy()
