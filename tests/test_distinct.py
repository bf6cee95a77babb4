"""sim.distinct gives np.unique's answers: values, counts, inverse and first occurrences."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.distinct import distinct, distinct_counts, distinct_first, distinct_inverse

# Few distinct values among many entries, so that repeats (what the helpers group) are common.
INTS = hnp.arrays(np.int64, st.integers(0, 60), elements=st.integers(-5, 12))
FLOATS = hnp.arrays(np.float64, st.integers(0, 60), elements=st.sampled_from([0.0, -0.0, 0.25, 1.0, 1e-300, 3.5]))
# Spans narrow enough for the 16-bit radix sort of distinct_inverse, at a dtype's ends, and wider ones.
INT8 = hnp.arrays(np.int8, st.integers(0, 60), elements=st.sampled_from([-128, -1, 0, 5, 127]))
WIDE = hnp.arrays(np.int64, st.integers(0, 60), elements=st.sampled_from([-(2**62), -70_000, 0, 65_535, 2**62]))
UINT = hnp.arrays(np.uint64, st.integers(0, 60), elements=st.sampled_from([2**64 - 1, 2**64 - 4, 2**64 - 70_000]))


@settings(max_examples=200, deadline=None)
@given(st.one_of(INTS, FLOATS, INT8, WIDE, UINT))
def test_distinct_helpers_give_np_uniques_answers(a: np.ndarray) -> None:
    values = np.unique(a)
    np.testing.assert_array_equal(distinct(a), values)
    assert distinct(a).dtype == a.dtype
    got, counts = distinct_counts(a)
    want, want_counts = np.unique(a, return_counts=True)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(counts, want_counts)
    got, inverse, counts = distinct_inverse(a)
    want, want_inverse, want_counts = np.unique(a, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(inverse, want_inverse)
    np.testing.assert_array_equal(counts, want_counts)
    got, first = distinct_first(a)
    want, want_first = np.unique(a, return_index=True)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(first, want_first)


def test_distinct_helpers_on_a_known_array() -> None:
    a = np.array([7, 3, 7, 1, 3, 7])
    np.testing.assert_array_equal(distinct(a), [1, 3, 7])
    values, counts = distinct_counts(a)
    np.testing.assert_array_equal(counts, [1, 2, 3])
    _, inverse, _ = distinct_inverse(a)
    np.testing.assert_array_equal(values[inverse], a)
    _, first = distinct_first(a)
    np.testing.assert_array_equal(first, [3, 1, 0])
    # The last occurrence of each, as Population.renew takes it: the first of the reversed array.
    _, last = distinct_first(a[::-1])
    np.testing.assert_array_equal(a.size - 1 - last, [3, 4, 5])


def test_distinct_helpers_on_empty_arrays_keep_the_dtype() -> None:
    e = np.empty(0, dtype=np.int64)
    assert distinct(e).dtype == np.int64 and distinct(e).size == 0
    values, counts = distinct_counts(e)
    assert values.size == counts.size == 0
    values, inverse, counts = distinct_inverse(e)
    assert values.size == inverse.size == counts.size == 0
    values, first = distinct_first(e)
    assert values.size == first.size == 0
