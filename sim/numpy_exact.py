"""numpy's numbers, computed as numpy computes them, for compiled loops (``sim.compiled``) and Python alike.

A loop that replaces numpy calls must give their numbers to the last bit
(the golden pins rest on them), so where numpy takes a shortcut or an order
of its own, these take the same: its median (``np.median``'s value), an array
raised to a scalar power (its shortcuts for 2, 1 and 0.5) and its pairwise
sum of float64 (``np.sum``'s order). tests/test_kernels.py holds each to numpy.
"""

from __future__ import annotations

import numpy as np


def median(v: np.ndarray) -> float:
    """``np.median`` of a non-empty 1-d array (the same value), without its several microseconds of overhead."""
    h = v.size // 2
    if v.size % 2:
        return float(np.partition(v, h)[h])
    part = np.partition(v, np.array([h - 1, h]))
    return float((part[h - 1] + part[h]) / 2.0)


def power(x: float, e: float) -> float:
    """``x ** e`` as numpy computes an array to a scalar power: its shortcuts for the exponents 2, 1 and 0.5
    (a square, a copy, a square root), the C library's pow otherwise."""
    if e == 2.0:
        return x * x
    if e == 1.0:
        return x
    if e == 0.5:
        return np.sqrt(x)
    return x**e


def pairwise_sum(a: np.ndarray, start: int, n: int) -> float:
    """The sum of ``a[start : start + n]`` as numpy's ``np.sum`` adds a float64 array, to the last bit: blocks
    of up to 128 entries (``_block_sum``), a longer run split in halves (``_half``), each half summed so
    before the two are added. numpy recurses; a compiled helper may not call itself (``sim.compiled``),
    so the halves wait on a stack (64 levels: more than any array has)."""
    if n <= 128:
        return _block_sum(a, start, n)
    begin, size = np.empty(64, dtype=np.int64), np.empty(64, dtype=np.int64)
    stage, left = np.zeros(64, dtype=np.int64), np.empty(64)  # stage: 0 to split, 1 left half pending, 2 right
    top, begin[0], size[0] = 0, start, n
    value, done = 0.0, False
    while True:
        if not done:
            if size[top] <= 128:
                value, done = _block_sum(a, begin[top], size[top]), True
                continue
            half = _half(size[top])
            stage[top] = 1
            top += 1
            begin[top], size[top], stage[top] = begin[top - 1], half, 0
            continue
        top -= 1  # the node just summed is done; its parent takes the value
        if top < 0:
            return value
        if stage[top] == 1:
            half = _half(size[top])
            left[top], stage[top] = value, 2
            top += 1
            begin[top], size[top], stage[top] = begin[top - 1] + half, size[top - 1] - half, 0
            done = False
        else:
            value = left[top] + value


def _half(n: int) -> int:
    """Where numpy's pairwise sum splits ``n`` entries: half of them, down to a multiple of 8."""
    return n // 2 - (n // 2) % 8


def _block_sum(a: np.ndarray, start: int, n: int) -> float:
    """numpy's sum of up to 128 float64 entries: in order below 8; else eight running sums, combined
    pairwise, then the rest in order."""
    if n < 8:
        total = 0.0
        for i in range(start, start + n):
            total += a[i]
        return total
    r = a[start : start + 8].copy()
    i = 8
    while i < n - n % 8:
        for j in range(8):
            r[j] += a[start + i + j]
        i += 8
    total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    for m in range(i, n):
        total += a[start + m]
    return total
