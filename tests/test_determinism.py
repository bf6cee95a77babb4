"""A run is a pure function of scenario, policy and seed; policies share their luck."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd

from sim.codes import Kind
from sim.model import CoverageModel
from sim.policies import make_policy
from sim.run import run
from sim.simd import avx512_in_use


def test_same_seed_gives_identical_table(small):
    a = run(small, make_policy("segment_tiers"), seed=3)
    b = run(small, make_policy("segment_tiers"), seed=3)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    pd.testing.assert_frame_equal(a.weekly, b.weekly)


def test_other_seed_gives_other_table(small):
    a = run(small, make_policy("segment_tiers"), seed=3).metrics
    b = run(small, make_policy("segment_tiers"), seed=4).metrics
    assert list(a.metric) == list(b.metric)
    assert not np.allclose(a.value.fillna(-1), b.value.fillna(-1))


def test_seed_defaults_to_scenario_seed(small):
    assert run(small, make_policy("unstructured")).seed == small.seed


def test_same_result_in_another_process_with_another_hash_seed(small, tmp_path):
    # Nothing may depend on set ordering, object ids or the process.
    code = (
        "from sim.scenario import load_scenario; from sim.run import run; from sim.policies import make_policy;"
        "import sys; r = run(load_scenario('scenarios/small.toml'), make_policy('hunter_farmer'), seed=9, quarters=2);"
        "r.metrics.to_csv(sys.argv[1], index=False)"
    )
    out = tmp_path / "m.csv"
    subprocess.run([sys.executable, "-c", code, str(out)], check=True, env={"PYTHONHASHSEED": "12345", "PATH": ""})
    here = run(small, make_policy("hunter_farmer"), seed=9, quarters=2).metrics
    there = pd.read_csv(out)
    assert np.allclose(here.value.to_numpy(), there.value.to_numpy(), equal_nan=True, rtol=0, atol=0)


def test_common_random_numbers_across_policies(small):
    # The same seed gives every policy the same population, team and first-week demand.
    a = CoverageModel(small, make_policy("unstructured"), seed=2)
    b = CoverageModel(small, make_policy("segment_tiers"), seed=2)
    try:
        for field in ("segment", "potential", "responsiveness", "status", "spend", "x", "y"):
            assert np.array_equal(getattr(a.population, field), getattr(b.population, field))
        assert [r.skill for r in a.team.seats] == [r.skill for r in b.team.seats]
        a.step()
        b.step()
        # No relationship exists before the first touch, so week 0 demand is policy-free.
        # New logos and expansions arrive alike; renewals open on contract dates only where a rep may work
        # them (a digital account renews on its own), so they follow the plan.
        created_a, created_b = a.recorder.tally.created, b.recorder.tally.created
        assert np.array_equal(created_a[: Kind.RENEWAL], created_b[: Kind.RENEWAL])
        assert created_a[Kind.RENEWAL].sum() >= created_b[Kind.RENEWAL].sum() > 0
        # Rep events (attrition draws) are the same whatever the policy.
        for _ in range(12):
            a.step()
            b.step()
        assert [r.filled for r in a.team.seats] == [r.filled for r in b.team.seats]
    finally:
        a.release()
        b.release()


def _fresh(code: str, **env: str) -> list[str]:
    """Lines printed by ``code`` in a fresh interpreter whose environment has no NPY_DISABLE_CPU_FEATURES
    but ``env``'s; its warnings on stderr, as lines of their own."""
    base = {k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"}
    out = subprocess.run(
        [sys.executable, "-W", "always", "-c", code], env={**base, **env}, capture_output=True, text=True, check=True
    )
    return out.stdout.splitlines() + [line for line in out.stderr.splitlines() if "RuntimeWarning" in line]


def test_this_process_computes_with_the_c_library_as_other_machines_do():
    # The suite itself runs with numpy's AVX-512 loops off (sim was imported before numpy), so the golden
    # pins are checked against the numbers every x86-64 machine gives.
    assert avx512_in_use() == []


def test_importing_sim_first_turns_numpys_avx512_loops_off_and_keeps_the_users_own_setting():
    code = "import os, sim, numpy; from sim.simd import avx512_in_use; print(avx512_in_use()); print(os.environ['{}'])"
    assert _fresh(code.format("NPY_DISABLE_CPU_FEATURES")) == ["[]", "X86_V4 AVX512_ICL AVX512_SPR"]
    assert _fresh(code.format("NPY_DISABLE_CPU_FEATURES"), NPY_DISABLE_CPU_FEATURES="AVX512_ICL") == [
        "[]",
        "AVX512_ICL X86_V4 AVX512_SPR",
    ]


def test_numpy_imported_before_sim_with_avx512_loops_is_warned_of_and_otherwise_not():
    code = "import numpy; from sim.simd import avx512_in_use; print(bool(avx512_in_use())); import sim"
    lines = _fresh(code)
    on_avx512 = lines[0] == "True"  # this machine's processor has AVX-512 and numpy uses it
    assert len(lines) == (2 if on_avx512 else 1)
    if on_avx512:
        assert "numpy was imported before covsim and uses its AVX-512 loops" in lines[1]
    # Turned off by the variable before Python starts, nothing to warn of.
    assert _fresh(code, NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR") == ["False"]
