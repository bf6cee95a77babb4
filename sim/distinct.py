"""Distinct values of a 1-D array, sorted: ``np.unique``'s answers by one sort.

numpy 2.4's ``np.unique`` finds integers' distinct values with a hash table
and then sorts them, behind some layers of Python: 20-40 microseconds even
for an empty array, and at a thousand integers five times a plain sort (117
against 21 microseconds on the benchmark machine). The week calls it a dozen
times on a few to a few thousand accounts, so these sort once and mark where
the sorted values change. The answers are ``np.unique``'s (tests/test_distinct.py
compares them on random arrays): the same values in the same order, the
first occurrence of each by a stable sort, as ``np.unique(..., return_index=True)``
finds it. Values compare with ``!=``, so a NaN is distinct from every value,
itself included (``np.unique`` would group NaNs); the engine passes none.
"""

from __future__ import annotations

import numpy as np


def _changes(ordered: np.ndarray) -> np.ndarray:
    """Mask of the sorted ``ordered``'s entries that differ from the one before (the first: True)."""
    keep = np.empty(ordered.size, dtype=bool)
    if ordered.size:
        keep[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return keep


def _runs(starts: np.ndarray, size: int) -> np.ndarray:
    """The lengths of the runs of equal values that begin at ``starts`` in a sorted array of ``size``
    (``np.diff(starts, append=size)`` without its Python: 2 us against 11 us)."""
    counts = np.empty(starts.size, dtype=np.int64)
    if starts.size:
        np.subtract(starts[1:], starts[:-1], out=counts[:-1])
        counts[-1] = size - starts[-1]
    return counts


def _argsort(a: np.ndarray) -> np.ndarray:
    """An order that sorts ``a`` (ties in any order: what the callers return does not depend on it); for
    integers spanning fewer than 2**16 values, numpy's radix sort of them as 16-bit keys, four times as
    fast as its comparison sort at a few thousand (a quarter's rep-lottery cells, say)."""
    if a.dtype.kind in "iu" and a.size:
        low = a.min()
        if int(a.max()) - int(low) < 2**16:
            # In a's own dtype: a difference that wraps (an int8's above 127) still casts in order.
            return np.argsort((a - low).astype(np.uint16), kind="stable")
    return np.argsort(a)


def distinct(a: np.ndarray) -> np.ndarray:
    """The distinct values of ``a``, ascending (``np.unique(a)``)."""
    ordered = np.sort(a)
    return ordered[_changes(ordered)] if ordered.size > 1 else ordered


def distinct_counts(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``a``, ascending, and how often each occurs
    (``np.unique(a, return_counts=True)``)."""
    ordered = np.sort(a)
    starts = np.flatnonzero(_changes(ordered))
    return ordered[starts], _runs(starts, ordered.size)


def distinct_inverse(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct values of ``a``, ascending; for each entry of ``a`` the position of its value among
    them; and how often each occurs (``np.unique(a, return_inverse=True, return_counts=True)``)."""
    order = _argsort(a)
    ordered = a[order]
    keep = _changes(ordered)
    inverse = np.empty(a.size, dtype=np.int64)
    inverse[order] = np.cumsum(keep) - 1
    starts = np.flatnonzero(keep)
    return ordered[starts], inverse, _runs(starts, a.size)


def distinct_first(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``a``, ascending, and the index of each one's first occurrence in ``a``
    (``np.unique(a, return_index=True)``)."""
    order = np.argsort(a, kind="stable")
    first = order[_changes(a[order])]
    return a[first], first
