"""A run is a pure function of scenario, policy and seed; policies share their luck."""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys

import numpy as np
import pandas as pd

from sim.codes import Kind
from sim.model import CoverageModel
from sim.policies import make_policy
from sim.run import run
from sim.simd import AVX512_TARGETS, C_LIBRARY_TARGETS, avx512_in_use
from tests.conftest import SMALL


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
    """Lines printed by ``code`` in a fresh interpreter whose environment has neither of numpy's CPU-feature
    variables but ``env``'s; its warnings on stderr, as lines of their own."""
    base = {k: v for k, v in os.environ.items() if k not in ("NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES")}
    out = subprocess.run(
        [sys.executable, "-W", "always", "-c", code], env={**base, **env}, capture_output=True, text=True, check=True
    )
    return out.stdout.splitlines() + [line for line in out.stderr.splitlines() if "RuntimeWarning" in line]


X86 = platform.machine().lower() in ("x86_64", "amd64")


def test_numpys_exp_log_and_powers_are_the_c_librarys_in_this_process():
    # What the golden pins and the kernels rest on, whatever the machine: numpy's float64 exp, log, log1p,
    # expm1 and power give the C library's numbers (Python's math module is the C library's). With
    # numpy's AVX-512 loops on, an AVX-512 machine gave hundreds to thousands of other last bits here.
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-30, 30, 40_000), rng.uniform(-700, 700, 40_000), rng.uniform(-1e-3, 1e-3, 20_000)])
    positive = np.concatenate(
        [rng.lognormal(0, 3, 40_000), rng.uniform(0.5, 2, 40_000), rng.uniform(1e-300, 1e-3, 20_000)]
    )
    y = rng.uniform(-3, 3, x.size)
    for name, got, want in (
        ("exp", np.exp(x), [math.exp(v) for v in x.tolist()]),
        ("log", np.log(positive), [math.log(v) for v in positive.tolist()]),
        ("log1p", np.log1p(positive), [math.log1p(v) for v in positive.tolist()]),
        ("expm1", np.expm1(x), [math.expm1(v) for v in x.tolist()]),
        ("power", positive**y, [math.pow(a, b) for a, b in zip(positive.tolist(), y.tolist(), strict=True)]),
    ):
        assert got.tobytes() == np.array(want).tobytes(), name


def test_numpy_dispatches_only_to_targets_whose_numbers_are_known():
    # A numpy upgrade that renames or adds a dispatch target must be looked at (sim/simd.py) before it runs.
    from numpy._core._multiarray_umath import __cpu_dispatch__

    if X86:
        assert set(__cpu_dispatch__) <= {*C_LIBRARY_TARGETS, *AVX512_TARGETS}, __cpu_dispatch__
    assert avx512_in_use() == []


def test_importing_sim_first_turns_numpys_avx512_loops_off_and_keeps_the_users_own_setting():
    code = "import os, sim, numpy; from sim.simd import AVX512_TARGETS, C_LIBRARY_TARGETS, avx512_in_use; print(avx512_in_use()); print(os.environ.get('{}'))"
    expected = "X86_V4 AVX512_ICL AVX512_SPR" if X86 else "None"
    assert _fresh(code.format("NPY_DISABLE_CPU_FEATURES")) == ["[]", expected]
    if X86:
        assert _fresh(code.format("NPY_DISABLE_CPU_FEATURES"), NPY_DISABLE_CPU_FEATURES="AVX512_ICL") == [
            "[]",
            "AVX512_ICL X86_V4 AVX512_SPR",
        ]
    # A process that chose its loops with NPY_ENABLE_CPU_FEATURES is left alone: numpy refuses both variables.
    assert _fresh(code.format("NPY_DISABLE_CPU_FEATURES"), NPY_ENABLE_CPU_FEATURES="X86_V3") == ["[]", "None"]


def test_numpy_imported_before_sim_with_avx512_loops_is_warned_of_as_a_run_starts_and_its_workers_not_affected():
    code = (
        "import numpy, os; from sim.simd import AVX512_TARGETS, C_LIBRARY_TARGETS, avx512_in_use; print(bool(avx512_in_use())); import sim; "
        "print(os.environ.get('NPY_DISABLE_CPU_FEATURES'))"
    )
    lines = _fresh(code)
    on_avx512 = lines[0] == "True"  # this machine's processor has AVX-512 and numpy uses it
    assert lines[1] == ("X86_V4 AVX512_ICL AVX512_SPR" if X86 else "None")  # set for the processes it starts
    # Not at import: a script that only reads results runs nothing its loops could change (a researcher's was warned).
    assert len(lines) == 2
    # As the first run starts, once.
    ran = code + (
        f"; from sim.run import run; from sim.scenario import load_scenario; s = load_scenario('{SMALL}', "
        "quarters=1).with_overrides('tiny', **{'population.customers': 200}); run(s, seed=1); run(s, seed=2)"
    )
    lines = _fresh(ran)
    assert len(lines) == (3 if on_avx512 else 2), lines
    if on_avx512:
        assert "numpy was imported before covsim and uses its AVX-512 loops" in lines[2]
    # Turned off by the variable before Python starts, nothing to warn of.
    assert _fresh(code, NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR")[0] == "False"
