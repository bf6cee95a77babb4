"""sim.marks: the compiled lookup equals the numpy it replaced, and a seat that left takes its accounts."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.marks import SMALL_MASK, marked_positions
from sim.model import CoverageModel
from sim.policies import make_policy
from sim.scenario import load_scenario
from tests.conftest import ROOT


@settings(deadline=None)  # the first example may compile the kernel
@given(st.lists(st.integers(-1, 12), max_size=60), st.lists(st.booleans(), min_size=1, max_size=10))
def test_marked_positions_equal_numpy(values, marked):
    values, marked = np.array(values, dtype=np.int32), np.array(marked)
    # numpy: the mask padded to every value (an entry for -1, never marked), one gather, flatnonzero.
    padded = np.zeros(14, dtype=bool)
    padded[: marked.size] = marked
    want = np.flatnonzero(padded[values]) if values.size else np.empty(0, dtype=np.int64)
    got = marked_positions(values, marked)
    assert got.dtype == np.int64 and got.tolist() == want.tolist()


@settings(deadline=None)  # the first example may compile the kernels
@given(st.lists(st.integers(-5, 40), max_size=3000), st.lists(st.booleans(), min_size=1, max_size=30))
def test_marked_positions_of_a_large_mask_equal_those_of_a_small_one(values, marked):
    # The same mask, once within SMALL_MASK (the table path) and once padded past it (the other path).
    values, small = np.array(values, dtype=np.int64), np.array(marked)
    large = np.zeros(SMALL_MASK + 1, dtype=bool)
    large[: small.size] = small
    assert marked_positions(values, small).tolist() == marked_positions(values, large).tolist()


def test_marked_positions_over_many_blocks_and_out_of_range_values():
    # Thousands of positions over a hundred blocks (1,024 entries each), and values far outside the mask
    # on both sides, as int32 (holders) and int64 (the book's customers).
    rng = np.random.default_rng(4)
    values = rng.integers(-3, 60, 100_000)
    values[::997] = -(2**40)
    values[5::991] = 2**40
    marked = rng.random(50) < 0.3
    want = np.flatnonzero((values >= 0) & (values < 50) & marked[np.clip(values, 0, 49)])
    assert want.size > 10_000
    padded = np.zeros(SMALL_MASK + 1, dtype=bool)  # the same marks, through the path of large masks
    padded[:50] = marked
    for dtype in (np.int32, np.int64):
        typed = values.astype(dtype) if dtype is np.int64 else np.clip(values, -(2**31), 2**31 - 1).astype(dtype)
        assert marked_positions(typed, marked).tolist() == want.tolist()
        assert marked_positions(typed, padded).tolist() == want.tolist()


def test_marked_positions_of_rare_marks_in_one_block_and_at_the_ends():
    values = np.full(5_000, -1, dtype=np.int32)
    values[[0, 1023, 1024, 4999]] = 7
    marked = np.zeros(8, dtype=bool)
    marked[7] = True
    assert marked_positions(values, marked).tolist() == [0, 1023, 1024, 4999]
    assert marked_positions(values, np.zeros(0, dtype=bool)).size == 0


def test_the_accounts_a_leaving_seat_held_are_those_whose_holder_it_is():
    model = CoverageModel(load_scenario(ROOT / "scenarios" / "small.toml"), make_policy("segment_tiers"), 3)
    try:
        model.run(13)
        holder = model.population.holder
        seats = np.unique(holder[holder >= 0])[:2]
        assert seats.size == 2
        held = model.population.held_by(seats)
        assert held.size > 0 and held.tolist() == np.flatnonzero(np.isin(holder, seats)).tolist()
        for seat in seats:  # one leaver: its own path, the same answer
            one = model.population.held_by(np.array([seat]))
            assert one.dtype == np.int64 and one.size > 0 and one.tolist() == np.flatnonzero(holder == seat).tolist()
        assert model.population.held_by(np.array([holder.max() + 1])).size == 0  # a seat that holds nothing
        assert model.population.held_by(np.empty(0, dtype=np.int64)).size == 0
    finally:
        model.release()
