"""Radix sorts for compiled loops: unsigned 64-bit keys, a byte a pass, stable.

A week's sorts are of a few thousand keys (a rep's tasks by priority, the
accounts two seats engaged), where a comparison sort spends most of its time
in branches the processor cannot predict; counting a byte at a time has none.
"""

from __future__ import annotations

import numpy as np


def radix_sort(key: np.ndarray, item: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``key`` (uint64) in ascending order, equal keys in the order given, and ``item`` (int64, the same
    length, or empty to sort the keys alone) moved alongside; both arrays are used as scratch. A byte a
    pass from the lowest, each a counting sort; a pass is skipped where the byte is the same in every key,
    and none is made past the largest key's highest byte."""
    n = key.size
    with_items = item.size > 0
    key2, item2 = np.empty(n, dtype=np.uint64), np.empty(item.size, dtype=np.int64)
    at = np.empty(257, dtype=np.int64)
    most = key.max() if n else np.uint64(0)
    byte = np.uint64(255)
    for shift in range(0, 64, 8):
        s = np.uint64(shift)
        if most >> s == 0:
            break
        at[:] = 0
        for i in range(n):
            at[np.int64((key[i] >> s) & byte) + 1] += 1
        if at.max() == n:  # this byte is the same in every key
            continue
        at = at.cumsum()
        for i in range(n):
            d = np.int64((key[i] >> s) & byte)
            key2[at[d]] = key[i]
            if with_items:
                item2[at[d]] = item[i]
            at[d] += 1
        key, key2, item, item2 = key2, key, item2, item
    return key, item
