"""The radix sort of the compiled loops orders as numpy's stable sort does."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.compiled import compiled
from sim.radix import radix_sort


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2000), st.integers(0, 64), st.integers(0, 7))
def test_radix_sort_is_a_stable_sort_of_unsigned_64_bit_keys(seed, n, bits, shared):
    """Keys of 0 to 64 bits (the top bit set included), some bytes the same in every key, runs of equal
    keys: sorted keys, and the items in np.argsort's stable order; with no items, the keys alone."""
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 2**bits, n, dtype=np.uint64, endpoint=False) if bits else np.zeros(n, dtype=np.uint64)
    keys |= np.uint64(0xAB) << np.uint64(8 * shared)  # one byte the same in every key
    keys[: n // 3] = keys[0] if n else 0
    want = np.argsort(keys, kind="stable")
    got_keys, got_items = compiled(radix_sort)(keys.copy(), np.arange(n))
    assert got_keys.tobytes() == keys[want].tobytes() and got_items.tolist() == want.tolist()
    alone, none = compiled(radix_sort)(keys.copy(), np.empty(0, dtype=np.int64))
    assert alone.tobytes() == np.sort(keys).tobytes() and none.size == 0
