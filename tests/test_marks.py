"""sim.marks: the compiled lookup equals the numpy it replaced, and a seat that left takes its accounts."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim.marks import marked_positions
from sim.model import CoverageModel
from sim.policies import make_policy
from sim.scenario import load_scenario
from tests.conftest import ROOT


@given(st.lists(st.integers(-1, 12), max_size=60), st.lists(st.booleans(), min_size=1, max_size=10))
def test_marked_positions_equal_numpy(values, marked):
    values, marked = np.array(values, dtype=np.int32), np.array(marked)
    # numpy: the mask padded to every value (an entry for -1, never marked), one gather, flatnonzero.
    padded = np.zeros(14, dtype=bool)
    padded[: marked.size] = marked
    want = np.flatnonzero(padded[values]) if values.size else np.empty(0, dtype=np.int64)
    got = marked_positions(values, marked)
    assert got.dtype == np.int64 and got.tolist() == want.tolist()


def test_marked_positions_past_the_first_buffer():
    # Thousands of positions: the buffer (1,024 at first) doubles several times on the way.
    rng = np.random.default_rng(4)
    values = rng.integers(-1, 50, 100_000).astype(np.int32)
    marked = rng.random(50) < 0.3
    got = marked_positions(values, marked)
    want = np.flatnonzero((values >= 0) & marked[np.maximum(values, 0)])
    assert want.size > 10_000 and got.tolist() == want.tolist()


def test_the_accounts_a_leaving_seat_held_are_those_whose_holder_it_is():
    model = CoverageModel(load_scenario(ROOT / "scenarios" / "small.toml"), make_policy("segment_tiers"), 3)
    try:
        model.run(13)
        holder = model.population.holder
        seats = np.unique(holder[holder >= 0])[:2]
        assert seats.size == 2
        held = model.population.held_by(seats)
        assert held.size > 0 and held.tolist() == np.flatnonzero(np.isin(holder, seats)).tolist()
        assert model.population.held_by(np.empty(0, dtype=np.int64)).size == 0
    finally:
        model.release()
