"""The benchmark report marks each target met or missed from the measured figures."""

from __future__ import annotations

import math
import statistics
from typing import Any

from benchmarks import compare_mesa
from benchmarks.run import MB, cost_per_week, size_row
from benchmarks.run import targets as _targets


def _rows(s_100k: float, peak_10m_mb: float) -> list[dict]:
    return [
        {"customers": 100_000, "median_s": s_100k, "peak_mb": 200.0, "bytes_per_customer": 2000.0},
        {"customers": 1_000_000, "median_s": 3.0, "peak_mb": 600.0, "bytes_per_customer": 600.0},
        {
            "customers": 10_000_000,
            "median_s": 35.0,
            "peak_mb": peak_10m_mb,
            "bytes_per_customer": peak_10m_mb * MB / 10_000_000,
        },
    ]


def _mesa(mesa_s: float, covsim_s: float, p_holm: float = 0.6) -> dict:
    runs = [mesa_s - 1.0, mesa_s, mesa_s + 2.0]  # the median of three runs, one a process
    # The statistical check: every metric's Holm p 1 but the churn's.
    agreement = {m: {"p_holm": p_holm if m == "churned" else 1.0} for m in compare_mesa.METRICS}
    return {
        "statistics": agreement,
        "timing": [
            {
                "customers": 100_000,
                "mesa_s": mesa_s,
                "mesa_runs": runs,
                "covsim_s": covsim_s,
                "speedup": mesa_s / covsim_s,
            }
        ],
    }


def _start(numpy_s: float, help_s: float, validate_s: float, policies_s: float, mesa_s: float, run_s: float) -> dict:
    return {
        "numpy": numpy_s,
        "help": help_s,
        "validate": validate_s,
        "policies": policies_s,
        "mesa": mesa_s,
        "run": run_s,
        # As if every round gave the same times: the paired medians are the medians' own.
        "run_over_mesa": run_s - mesa_s,
        "help_over_numpy": help_s / numpy_s,
        "validate_over_numpy": validate_s / numpy_s,
        "policies_over_numpy": policies_s / numpy_s,
    }


FAST_START = _start(0.09, 0.2, 0.22, 0.22, 0.62, 0.7)


def targets(
    *figures: Any,
    slowest: tuple[float, str] = (1.4, "territories"),
    partition_s: float = 2.0,
    stress_s: float = 90.0,
    app_s: float = 4.2,
) -> str:
    """The report's targets, with the policy-library, stress and what-if page figures met unless given."""
    app = {"seconds": app_s, "runs": 10, "workers": 2}
    return _targets(*figures, slowest, {"first_s": partition_s}, {"seconds": stress_s, "runs": 110}, app)


def _verdicts(table: str) -> dict[str, str]:
    rows = [line.split("|")[1:-1] for line in table.splitlines()[2:]]
    return {cells[0].strip(): cells[-1].strip() for cells in rows}


def test_all_targets_met():
    v = _verdicts(targets(_rows(0.23, 2000.0), 1.9, 1.04, _mesa(23.0, 0.2), FAST_START, 1.3))
    assert set(v.values()) == {"met"}
    assert len(v) == 17


def test_a_target_met_inside_a_tenth_of_its_bound_is_met_with_no_room():
    # Met on a bare <= or >=, the Mesa ratio read "met" at 104x, where one slow stretch of the machine misses it.
    v = _verdicts(targets(_rows(0.33, 2000.0), 1.8, 1.04, _mesa(20.8, 0.2), FAST_START, 1.3))
    assert v["100k x 42, 104 weeks: run time"] == "met, no room"  # 0.33 s of 0.35
    assert v["runner speed-up on 2 workers"] == "met, no room"  # 1.8x, below 1.1 x 1.7x = 1.87x
    assert v["one-agent-per-customer Mesa model / covsim at 100k"] == "met, no room"  # 104x
    v = _verdicts(targets(_rows(0.31, 2000.0), 1.9, 1.04, _mesa(22.4, 0.2), FAST_START, 1.3))
    assert v["100k x 42, 104 weeks: run time"] == "met"  # 0.31 s: under 90% of the bound
    assert v["runner speed-up on 2 workers"] == "met"  # 1.9x: more than 1.1 x 1.7x
    assert v["one-agent-per-customer Mesa model / covsim at 100k"] == "met"  # 112x


def test_the_mesa_ratio_shows_each_of_the_mesa_runs():
    """The judged figure is the medians' ratio; the Mesa model's three runs are shown beside it, since its
    run time moves by a third between minutes."""
    row = next(
        line
        for line in targets(_rows(0.23, 2000.0), 1.9, 1.04, _mesa(21.0, 0.2), FAST_START, 1.3).splitlines()
        if line.startswith("| one-agent-per-customer Mesa model")
    )
    assert "| 105x (21.0 s / 0.200 s; Mesa's runs 20.0, 21.0, 23.0 s; covsim warm) | met, no room |" in row


def test_missed_targets_are_named():
    v = _verdicts(targets(_rows(0.6, 2600.0), 1.5, 1.6, _mesa(23.0, 0.25), FAST_START, 1.3))
    assert v["100k x 42, 104 weeks: run time"] == "MISSED"
    assert v["10M x 4,200: peak memory"] == "MISSED"
    assert v["1,000 runs: memory after / after 10"] == "MISSED"
    assert v["runner speed-up on 2 workers"] == "MISSED"
    assert v["one-agent-per-customer Mesa model / covsim at 100k"] == "MISSED"  # 92x
    assert v["1M x 420: run time"] == "met"


MESA_AGREES = "the Mesa model's results against covsim's (Welch t over 8 metrics, Holm; 10,000 customers, 5 seeds)"


def test_the_mesa_model_s_results_are_judged_against_covsim_s_by_the_smallest_holm_p():
    # Reported, never judged: a Mesa model that drifted from covsim's mechanics would still have counted for speed.
    table = targets(_rows(0.23, 2000.0), 1.9, 1.04, _mesa(23.0, 0.2, p_holm=0.049), FAST_START, 1.3)
    assert f"| {MESA_AGREES} | no Holm p < 0.05 | smallest 0.049 (churned) | MISSED |" in table
    assert (
        _verdicts(targets(_rows(0.23, 2000.0), 1.9, 1.04, _mesa(23.0, 0.2, p_holm=0.05), FAST_START, 1.3))[MESA_AGREES]
        == "met"
    )


def test_an_unmeasured_mesa_comparison_is_not_met():
    v = _verdicts(targets(_rows(0.23, 2000.0), 1.8, 1.04, None, FAST_START, 1.3))
    assert v["one-agent-per-customer Mesa model / covsim at 100k"] == "MISSED"


def test_start_up_is_judged_against_importing_numpy_and_mesa():
    # --help at 2.9x numpy is met with no room; validate at 3.3x and policies at 8x are not; run 0.15 s over Mesa
    # is not.
    v = _verdicts(
        targets(_rows(0.23, 2000.0), 1.8, 1.04, _mesa(23.0, 0.2), _start(0.1, 0.29, 0.33, 0.8, 0.6, 0.75), 1.3)
    )
    assert v["start-up: covsim --help / import numpy"] == "met, no room"
    assert v["start-up: covsim validate / import numpy"] == "MISSED"
    assert v["start-up: covsim policies / import numpy"] == "MISSED"
    assert v["start-up: covsim run - import mesa"] == "MISSED"
    v = _verdicts(targets(_rows(0.23, 2000.0), 1.8, 1.04, _mesa(23.0, 0.2), _start(0.1, 0.2, 0.2, 0.2, 0.6, 0.69), 1.3))
    assert v["start-up: covsim run - import mesa"] == "met"


def test_run_time_bounds_of_mechanics_i():
    # 100k at most 0.35 s and 10M at most 40 s (issue "Mechanics I"), judged at the bound.
    rows = _rows(0.36, 2000.0)
    rows[2]["median_s"] = 40.5
    v = _verdicts(targets(rows, 1.8, 1.04, _mesa(23.0, 0.2), FAST_START, 1.3))
    assert v["100k x 42, 104 weeks: run time"] == "MISSED"
    assert v["10M x 4,200: run time"] == "MISSED"
    rows = _rows(0.35, 2000.0)
    rows[2]["median_s"] = 40.0
    v = _verdicts(targets(rows, 1.8, 1.04, _mesa(23.0, 0.2), FAST_START, 1.3))
    assert v["100k x 42, 104 weeks: run time"] == "met, no room" and v["10M x 4,200: run time"] == "met, no room"


def test_the_overlay_world_is_judged_against_the_baseline_at_100k():
    # Mechanics II: the overlay world within 1.5x of the baseline (the median of ratios of paired runs).
    v = _verdicts(targets(_rows(0.23, 2000.0), 1.8, 1.04, _mesa(23.0, 0.2), FAST_START, 1.5))
    assert v["overlay world (3 lines, specialists) / baseline at 100k"] == "met, no room"
    v = _verdicts(targets(_rows(0.23, 2000.0), 1.8, 1.04, _mesa(23.0, 0.2), FAST_START, 1.52))
    assert v["overlay world (3 lines, specialists) / baseline at 100k"] == "MISSED"


def test_every_built_in_within_2x_of_segment_tiers_and_the_1m_partition_within_10_s():
    v = _verdicts(targets(_rows(0.23, 2000.0), 1.8, 1.04, _mesa(23.0, 0.2), FAST_START, 0.3, slowest=(2.1, "pooled")))
    assert v["slowest built-in policy / segment_tiers at 100k"] == "MISSED"
    v = _verdicts(targets(_rows(0.23, 2000.0), 1.8, 1.04, _mesa(23.0, 0.2), FAST_START, 0.3, partition_s=10.5))
    assert v["slowest built-in policy / segment_tiers at 100k"] == "met"
    assert v["territories: partition of 1M accounts, first in a process"] == "MISSED"


def test_the_default_stress_suite_within_3_minutes():
    v = _verdicts(targets(_rows(0.23, 2000.0), 1.8, 1.04, _mesa(23.0, 0.2), FAST_START, 0.3, stress_s=180.0))
    assert v["covsim stress, default suite, 100k, 2 policies x 5 replications"] == "met, no room"
    v = _verdicts(targets(_rows(0.23, 2000.0), 1.8, 1.04, _mesa(23.0, 0.2), FAST_START, 0.3, stress_s=181.0))
    assert v["covsim stress, default suite, 100k, 2 policies x 5 replications"] == "MISSED"


def test_the_what_if_page_answers_two_policies_x_5_replications_within_5_s():
    v = _verdicts(targets(_rows(0.23, 2000.0), 1.8, 1.04, _mesa(23.0, 0.2), FAST_START, 0.3, app_s=5.0))
    assert v["what-if page: 2 policies x 5 replications at 100k"] == "met, no room"
    v = _verdicts(targets(_rows(0.23, 2000.0), 1.8, 1.04, _mesa(23.0, 0.2), FAST_START, 0.3, app_s=5.1))
    assert v["what-if page: 2 policies x 5 replications at 100k"] == "MISSED"
    table = targets(_rows(0.23, 2000.0), 1.8, 1.04, _mesa(23.0, 0.2), FAST_START, 0.3, app_s=4.24)
    assert (
        "| what-if page: 2 policies x 5 replications at 100k | <= 5 s | 4.24 s (10 runs on 2 warm workers) | met |"
        in table
    )
    # To the hundredth: a time just over the bound does not print as the bound itself.
    table = targets(_rows(0.23, 2000.0), 1.8, 1.04, _mesa(23.0, 0.2), FAST_START, 0.3, app_s=5.04)
    assert "| <= 5 s | 5.04 s (10 runs on 2 warm workers) | MISSED |" in table


def _week_rows(times_100k: list[float]) -> list[dict[str, Any]]:
    """Rows by size as ``make bench`` builds them: 100k in ``times_100k`` (median 0.89 s), 1M in 5.66 s."""
    return [
        size_row(100_000, {"reps": 42, "times": times_100k, "peak": 3e8}),
        size_row(1_000_000, {"reps": 420, "times": [5.66], "peak": 7e8}),
    ]


def test_the_week_s_cost_is_stated_from_this_run_s_figures():
    # 100k in 0.89 s, 1M in 5.66 s: 4.77 s more for 900,000 more customers over 104 weeks is 0.051 us per
    # customer-week; 100k's run less 0.53 s of that leaves 0.36 s, 3.5 ms a week. Mesa: 66.2 s over 10.4M.
    rows = _week_rows([0.8, 0.89, 0.95])
    mesa = {"timing": [{"customers": 100_000, "mesa_s": 66.2, "covsim_s": 0.9}]}
    text = cost_per_week({"total_s": 0.6807, "weeks": 104}, rows, mesa)
    assert "a week costs 6.5 ms" in text and "0.051 microseconds per customer-week" in text
    assert "about 3.5 ms of the median run's 8.6 ms a week" in text and "6.4 microseconds per customer" in text
    assert "Mesa" not in cost_per_week({"total_s": 0.6807, "weeks": 104}, rows, None)


def test_the_week_s_cost_says_what_a_run_with_nothing_between_its_loops_would_take():
    # The floor: construction (its own loops included) plus the steps' loops; 0.03 + 0.05 + 0.02 = 0.1 s.
    profile = {
        "total_s": 0.2,
        "weeks": 104,
        "construction_s": 0.03,
        "kernels_s": {"construction": 0.01, "_work": 0.05, "_route": 0.02},
    }
    rows = _week_rows([0.8, 0.89, 0.95])
    mesa = {"timing": [{"customers": 100_000, "mesa_s": 15.0, "covsim_s": 0.2}]}
    text = cost_per_week(profile, rows, mesa)
    assert (
        "a run would still take 0.100 s: model construction as it is (0.030 s) and the steps' loops (0.070 s)" in text
    )
    assert text.endswith(
        "(0.070 s), so no rewrite of the calls between them could make a run more than 150x faster than the Mesa "
        "model's above."
    )
    assert cost_per_week(profile, rows, None).endswith("and the steps' loops (0.070 s).")


def test_the_week_s_cost_leaves_out_a_mesa_run_that_was_skipped():
    rows = _week_rows([0.89])
    skipped = {"timing": [{"customers": 100_000, "mesa_s": float("nan"), "covsim_s": 0.9}]}
    text = cost_per_week({"total_s": 0.6807, "weeks": 104}, rows, skipped)
    assert "Mesa" not in text and "nan" not in text


def _fake_cases(mesa_times: list[float | None], cov_times: list[list[float]], calls: list) -> Any:
    """A ``time_case`` that gives these times in turn (a Mesa None: that process timed out)."""
    mesa, cov = iter(mesa_times), iter(cov_times)

    def fake(which: str, customers: int, repeats: int, timeout: float | None = None) -> dict[str, Any] | None:
        calls.append((which, customers, repeats))
        times = next(cov) if which == "covsim" else next(mesa)
        if times is None:
            return None
        times = times if which == "covsim" else [times] * repeats
        return {"seconds": statistics.median(times), "times": times, "peak_mb": 100.0, "reps": 42}

    return fake


def test_the_mesa_comparison_brackets_each_mesa_process_with_covsim(monkeypatch):
    """At 100k: three Mesa processes of one run each, covsim's processes of 3 runs before the first and after
    each; each side the median of all its runs (not its first run, nor its first process)."""
    calls: list[tuple[str, int, int]] = []
    covsim_runs = [[0.30, 0.31, 0.32], [0.19, 0.20, 0.20], [0.21, 0.22, 0.24], [0.20, 0.21, 0.21]]
    monkeypatch.setattr(compare_mesa, "time_case", _fake_cases([30.0, 21.0, 19.0], covsim_runs, calls))
    covsim, mesa = compare_mesa.bracketed(100_000)
    assert calls == [("covsim", 100_000, 3), ("mesa", 100_000, 1)] * 3 + [("covsim", 100_000, 3)]
    assert mesa is not None and mesa["times"] == [30.0, 21.0, 19.0] and mesa["seconds"] == 21.0
    assert covsim["seconds"] == 0.21  # the median of all twelve (0.19 to 0.32); the first process's is 0.31


def test_a_mesa_process_that_times_out_leaves_the_comparison_unmeasured(monkeypatch):
    """A median of fewer Mesa runs than the table says would pass for one of all: no ratio at all, and the
    larger cases are not tried (they would time out too)."""
    calls: list[tuple[str, int, int]] = []
    monkeypatch.setattr(compare_mesa, "time_case", _fake_cases([21.0, None], [[0.2] * 3] * 3, calls))
    covsim, mesa = compare_mesa.bracketed(100_000)
    assert mesa is None and covsim["seconds"] == 0.2
    assert [c[0] for c in calls] == ["covsim", "mesa", "covsim", "mesa"]  # stopped at the timeout

    calls.clear()
    monkeypatch.setattr(compare_mesa, "SIZES", (1_000, 10_000, 100_000))
    monkeypatch.setattr(compare_mesa, "time_case", _fake_cases([0.1, None], [[0.05] * 3] * 5, calls))
    rows = compare_mesa.timing()
    assert [c for c in calls if c[0] == "mesa"] == [("mesa", 1_000, 3), ("mesa", 10_000, 3)]
    assert [r["mesa_runs"] for r in rows] == [[0.1] * 3, [], []]
    assert math.isnan(rows[2]["speedup"]) and rows[2]["covsim_s"] == 0.05


def test_the_phase_profile_splits_each_step_into_compiled_loops_and_the_rest():
    import sim.compiled
    import sim.population
    from benchmarks import phases
    from sim.model import CoverageModel

    step_methods = {name: getattr(CoverageModel, name) for name in phases.STEPS}
    p = phases.profile(2_000, "unstructured", repeats=1)
    kernels, steps = p["kernels_s"], p["steps_s"]
    # Every step the week runs is timed, and a step's compiled loops take part of its time, never more.
    assert set(steps) == {phases.QUARTER, *phases.STEPS}
    assert set(kernels) <= {phases.CONSTRUCTION, *steps}
    for name in ("_arrivals", "_route", "_work"):  # each runs compiled loops every week
        assert 0.0 < kernels[name] < steps[name]
    assert 0.0 < kernels[phases.CONSTRUCTION] < p["construction_s"]
    assert sum(kernels.values()) < p["total_s"]
    # The timers are gone afterwards: the model's methods and the modules' compiled are the originals.
    assert {name: getattr(CoverageModel, name) for name in phases.STEPS} == step_methods
    assert sim.population.compiled is sim.compiled.compiled
    table = phases.table(p)
    assert "of which compiled loops, ms" in table.splitlines()[0]
    assert table.splitlines()[-1].endswith(f"| {1000 * sum(kernels.values()):.1f} |")
