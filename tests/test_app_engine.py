"""The what-if page's engine gives exactly what `covsim compare` gives for the same settings and seeds."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sim.app.engine import Cancelled, PolicyChoice, compare, experiment_for, non_default, warm_up_spec
from sim.errors import InputError
from sim.experiment.pool import WorkerPool
from sim.scenario import load_scenario
from tests.conftest import ROOT, SMALL

POLICIES = ("unstructured", "segment_tiers")


@pytest.fixture(scope="module")
def pool():
    with WorkerPool(2, warm_up_spec()) as workers:
        yield workers


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """`covsim compare` on the small scenario, 2 policies x 3 replications: its terminal output and folder."""
    out = tmp_path_factory.mktemp("compare")
    args = ["compare", "scenarios/small.toml", *[a for p in POLICIES for a in ("--policy", p)]]
    r = subprocess.run(
        [sys.executable, "-m", "sim.cli", *args, "--replications", "3", "--executor", "serial", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout, out


def test_the_engine_gives_the_numbers_covsim_compare_prints(pool, cli):
    stdout, out = cli
    scenario = load_scenario(SMALL)
    seen = []
    result = compare(
        scenario,
        "scenarios/small.toml",
        [PolicyChoice(p) for p in POLICIES],
        3,
        pool=pool,
        on_run=lambda *a: seen.append(a),
    )
    assert seen == [(i, 6) for i in range(1, 7)]  # 2 policies x 3 replications, counted as each is stored
    assert result.failures == []
    lines = stdout.splitlines()
    assert result.answer in lines
    # every row of the means and the differences tables, cell for cell as the terminal prints them
    means = [line for line in lines if line.startswith("revenue_captured ")]
    assert len(means) == 2
    row = dict((r[0], r[1:]) for r in result.rows())["revenue_captured"]
    assert means[0] == f"{'revenue_captured':<26}" + "".join(f"{c:>30}" for c in row[:2])
    assert means[1] == f"{'revenue_captured':<26}" + f"{row[2]:>40}"
    for metric, *cells in result.rows():
        assert f"{metric:<26}" + "".join(f"{c:>30}" for c in cells[:2]) in lines, metric
        assert f"{metric:<26}" + f"{cells[2]:>40}" in lines, metric
    # the tidy results, byte for byte as compare's results.csv
    assert result.tidy_csv() == (out / "results.csv").read_text(encoding="utf-8")
    # pinned: the small world's revenue under segment tiers, its root seed 7, 3 replications
    assert row[1] == "17.2M [12.0M, 22.3M]"


def test_policy_parameters_change_the_runs_and_defaults_do_not(pool):
    scenario = load_scenario(SMALL).with_overrides("short", quarters=2)
    plain = compare(scenario, "s", [PolicyChoice("unstructured"), PolicyChoice("segment_tiers")], 2, pool=pool)
    same = compare(
        scenario,
        "s",
        [PolicyChoice("unstructured"), PolicyChoice("segment_tiers", non_default("segment_tiers", {"cadence_a": 3.0}))],
        2,
        pool=pool,
    )
    other = compare(
        scenario,
        "s",
        [PolicyChoice("unstructured"), PolicyChoice("segment_tiers", non_default("segment_tiers", {"cadence_a": 6.0}))],
        2,
        pool=pool,
    )
    assert same.tidy_csv() == plain.tidy_csv()
    assert other.tidy_csv() != plain.tidy_csv()
    assert other.experiment.policies[1].params == {"cadence_a": 6.0}


def test_a_cancelled_comparison_stops_and_the_pool_keeps_working(pool):
    scenario = load_scenario(SMALL).with_overrides("short", quarters=2)
    choices = [PolicyChoice("unstructured"), PolicyChoice("segment_tiers")]
    done = []
    with pytest.raises(Cancelled):
        compare(scenario, "s", choices, 3, pool=pool, on_run=lambda i, n: done.append(i), cancelled=lambda: bool(done))
    assert done == [1]
    again = compare(scenario, "s", choices, 3, pool=pool)
    serial = compare(scenario, "s", choices, 3)  # in this process: the same numbers
    assert again.tidy_csv() == serial.tidy_csv()


def test_an_unknown_policy_is_refused_before_any_run():
    with pytest.raises(InputError) as e:
        experiment_for(load_scenario(SMALL), "s", [PolicyChoice("unstructured"), PolicyChoice("tiers")], 3)
    assert e.value.problems[0].startswith("--policy.name: unknown policy 'tiers'")
