"""``--set PATH=VALUE``: a scenario field changed for one command (run, compare, stress, backtest)."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.policies import make_policy
from sim.run import run
from sim.scenario import load_scenario
from tests.test_crm import DATA, FILES, covsim, needs_data
from tests.test_error_contract import SMALL, invoke, lines_of

PENALTY = "relationship.conflict_penalty"


def test_run_with_set_runs_the_variant_and_says_each_value_it_changed(tmp_path) -> None:
    out = tmp_path / "run"
    result = invoke("run", str(SMALL), "--quarters", "1", "--set", f"{PENALTY}=0", "--set", "reps.*.count=4",
                    "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    variant = load_scenario(SMALL, quarters=1).with_overrides("--set", **{PENALTY: 0, "reps.*.count": 4})
    # The file's values (rep blocks of 2, 2 and 1 seats) and the ones it ran with, and the variant's own name.
    assert lines_of(result.stderr)[0] == (
        f"--set: {SMALL} run as {variant.name}, with {PENALTY} 0.5 -> 0; reps.*.count 2, 2, 1 -> 4"
    )
    assert variant.name != load_scenario(SMALL).name and f": {variant.name}, seed 7" in result.stdout
    # What ran is the variant: the Python API's run of it gives the same figures (CSV round-trip aside).
    written = pd.read_csv(out / "metrics.csv")
    expected = run(variant, make_policy(variant.policy.name, dict(variant.policy.params)), seed=7).metrics
    assert written["value"].to_numpy() == pytest.approx(expected["value"].to_numpy(), rel=1e-12, nan_ok=True)
    plain = invoke("run", str(SMALL), "--quarters", "1", "--out", str(tmp_path / "plain"))
    assert plain.exit_code == 0 and not plain.stderr.startswith("--set")
    assert not pd.read_csv(tmp_path / "plain" / "metrics.csv")["value"].equals(written["value"])


def test_set_paths_that_write_apart_are_both_taken() -> None:
    # A reviewer's pair: every segment's rates beside one segment's customer_share write no value in common (a
    # check by the paths alone had refused it).
    rates = "population.segments.*.*.rate_per_year=2"
    result = invoke("run", str(SMALL), "--quarters", "1", "--set", rates, "--set",
                    "population.segments.0.customer_share=0.05")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    # A table set whole beside a value in it is one value written twice.
    whole = invoke("run", str(SMALL), "--quarters", "1", "--set", "relationship.response={ a = 2.0 }",
                   "--set", "relationship.response.a=1.5")  # fmt: skip
    assert whole.exit_code == 2
    assert lines_of(whole.stderr) == ["error: --set relationship.response.a: writes a value --set "
                                      "relationship.response writes too"]  # fmt: skip


@pytest.mark.parametrize(
    ("pairs", "errors"),
    [
        (["foo"], ["error: --set 'foo': expected KEY=VALUE"]),
        (
            [f"{PENALTY}=0", f"{PENALTY}=1"],
            [f"error: --set {PENALTY}: given twice (once is enough; the last would silently win)"],
        ),
        (
            ["name=small"],
            [
                "error: --set name: a variant is named by its changes (the file's name and a hash), so that its "
                "results never pass for the file's"
            ],
        ),
        (
            ["reps.0.count=10", "reps.*.count=4"],
            ["error: --set reps.*.count: writes a value --set reps.0.count writes too"],
        ),
        (
            ["quarters=3", "seed=1", "policy.name=pooled"],
            [
                "error: --set quarters: give --quarters instead",
                "error: --set seed: give --seed instead",
                "error: --set policy.name: give --policy and --param instead",
            ],
        ),
        (
            ["relationship.conflict_penalt=0"],
            [f"error: --set: relationship.conflict_penalt: names no field of the scenario (did you mean '{PENALTY}'?)"],
        ),
        (
            ["reps.0.count=-1"],
            [
                "error: --set: reps.0.count: Input should be greater than or equal to 0, not -1 (in the block of "
                '"full_cycle" seats)'
            ],
        ),
        (
            ["relationship.conflict_stock_loss=2"],
            [
                "error: --set: relationship.conflict_stock_loss: Input should be less than or equal to 1, not 2.0 (a share is written 0.2 for 20%)"
            ],
        ),
    ],
)
@pytest.mark.parametrize("command", ["run", "compare", "stress"])
def test_a_bad_set_is_one_line_each_exit_2_and_nothing_written(tmp_path, command, pairs, errors) -> None:
    out = tmp_path / "out"
    args = [command, str(SMALL), "--quarters", "2", "--out", str(out)]
    args += [] if command == "run" else ["--policy", "unstructured", "--replications", "2", "--executor", "serial"]
    result = invoke(*args, *(x for pair in pairs for x in ("--set", pair)))
    assert result.exit_code == 2
    assert lines_of(result.stderr) == errors
    assert not out.exists()


def test_backtest_says_a_bad_set_beside_its_other_bad_options_before_reading(tmp_path) -> None:
    missing = str(tmp_path / "missing.csv")
    args = ["backtest", "--accounts", missing, "--pipeline", missing, "--teams", missing, "--cutoff", "2017-05-01"]
    result = invoke(*args, "--param", "y", "--set", "seed=3", "--set", "x")
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        "error: --param 'y': expected KEY=VALUE",
        "error: --set 'x': expected KEY=VALUE",
        "error: --set seed: give --seeds instead",  # backtest's own option
    ]


def test_compare_with_set_names_it_in_the_report_and_resumes_only_the_same_values(tmp_path) -> None:
    out = tmp_path / "cmp"
    args = ["compare", str(SMALL), "--policy", "unstructured", "--policy", "segment_tiers", "--replications", "2",
            "--quarters", "1", "--executor", "serial", "--out", str(out)]  # fmt: skip
    first = invoke(*args, "--set", f"{PENALTY}=0")
    assert first.exit_code == 0, first.stderr
    report = (out / "report.md").read_text().splitlines()
    assert report[2] == (
        f"Run with scenario fields set on the command line over the values in `{SMALL}`: --set `{PENALTY}=0`."
    )
    again = invoke(*args, "--set", f"{PENALTY}=0")
    assert again.exit_code == 0 and "0 runs done, 4 already stored" in again.stderr
    other = invoke(*args, "--set", f"{PENALTY}=0.2")
    assert other.exit_code == 2
    assert lines_of(other.stderr)[-1] == (
        f"error: {out}: holds results of a different experiment (the scenario changed since its runs); rerun with "
        "--fresh to discard them, or use another --out"
    )


@needs_data
def test_backtest_with_set_runs_the_calibrated_world_with_the_assumption_changed(tmp_path) -> None:
    args = [f"--{k}={DATA / FILES[k]}" for k in ("accounts", "pipeline", "teams")]
    args += ["--cutoff", "2017-06-30", "--seeds", "3", "--quarters", "1"]
    default = covsim("backtest", *args, "--out", str(tmp_path / "a"))
    zero = covsim("backtest", *args, "--set", f"{PENALTY}=0", "--set", "relationship.conflict_stock_loss=0",
                  "--out", str(tmp_path / "b"))  # fmt: skip
    assert default.returncode == 0 and zero.returncode == 0, zero.stderr
    assert f"{PENALTY} 0.5 -> 0; relationship.conflict_stock_loss 0.1 -> 0" in zero.stderr
    assert f"backtest of unstructured (--set {PENALTY}=0 --set relationship.conflict_stock_loss=0) on " in zero.stdout
    assert "(backtest.toml is the calibration as written; its first line names the --set its runs had)" in zero.stdout
    # Without the conflict cost, unstructured (98.6% of its deals decided in conflict) wins more of its deals.
    rate = {k: pd.read_csv(tmp_path / k / "backtest.csv").set_index("measure").loc["win_rate"] for k in "ab"}
    assert rate["b"]["simulated_mean"] > rate["a"]["simulated_mean"] + 0.1
    assert rate["b"]["actual"] == rate["a"]["actual"]
    # The written file is the calibration, its first line naming the --set its runs had.
    written = [(tmp_path / k / "backtest.toml").read_text() for k in "ab"]
    first, rest = written[1].split("\n", 1)
    assert first == (
        f"# The backtest's runs had, over this file: --set {PENALTY}=0 --set relationship.conflict_stock_loss=0"
    )
    assert written[0] == rest.replace(str(tmp_path / "b"), str(tmp_path / "a"))
