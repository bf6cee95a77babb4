"""The experiment runner: resumable, isolated failures, identical results on every executor."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.errors import InputError
from sim.experiment import runner as runner_module
from sim.experiment.batch import execute_batch, open_batch
from sim.experiment.comparison import comparison
from sim.experiment.design import design_points, plan_runs, replication_seeds
from sim.experiment.loading import load_experiment
from sim.experiment.spec import parse_experiment
from sim.experiment.store import Store
from sim.policies import make_policy
from sim.scenario import load_scenario
from tests.conftest import ROOT, SMALL, ctrl_c_as_at_a_terminal, user_module

EXPERIMENT = f"""
name = "t"
scenario = "{SMALL}"
seed = 3
replications = 3
quarters = 1
baseline = "unstructured"

[[policies]]
name = "unstructured"

[[policies]]
name = "hunter_farmer"

[[factors]]
name = "notice"
target = "policy.notice"
values = [0.3, 0.8]
"""


#: How a line about small.toml's first rep group ends: its role names the block.
FULL_CYCLE = '(in the block of "full_cycle" seats)'


def write(tmp_path: Path, text: str = EXPERIMENT, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def results_of(folder: Path) -> pd.DataFrame:
    store = Store.existing(folder)
    try:
        return store.results()
    finally:
        store.close()


def experiment_cli(path: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``covsim experiment PATH --out OUT --executor serial``, as a user runs it."""
    args = ["experiment", str(path), "--out", str(out), "--executor", "serial"]
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True, text=True, cwd=ROOT)


def run_to(folder: Path, path: Path, executor: str = "serial", workers: int = 1, fresh: bool = False):
    exp, scenario = load_experiment(path)
    batch = open_batch(exp, scenario, folder, fresh)
    try:
        return execute_batch(batch, executor, workers)
    finally:
        batch.store.close()


def test_plan_shares_runs_between_cells(tmp_path):
    exp, scenario = load_experiment(write(tmp_path))
    points, cells, specs = plan_runs(exp, scenario)
    assert len(points) == 2 and len(cells) == 2 * 2 * 3
    # hunter_farmer has no notice parameter: its runs are the same at both points.
    assert len(specs) == 2 * 3 + 3
    assert replication_seeds(3, 3) == replication_seeds(3, 3) != replication_seeds(4, 3)


def test_a_policy_with_its_defaults_written_out_is_the_same_run_as_one_without(tmp_path):
    # A run is keyed by what the policy holds: segment_tiers' accounts_per_rep = 40 is its default, so "b" runs
    # what "a" runs (they were keyed apart by how the file wrote them, and each ran); "c" is another run.
    text = EXPERIMENT.split("[[policies]]")[0] + "".join(
        f'[[policies]]\nname = "segment_tiers"\nlabel = "{label}"\n{params}\n'
        for label, params in (
            ("a", ""),
            ("b", "params = { accounts_per_rep = 40 }"),
            ("c", "params = { accounts_per_rep = 30 }"),
        )
    )
    exp, scenario = load_experiment(write(tmp_path, text.replace('baseline = "unstructured"', 'baseline = "a"')))
    _, cells, specs = plan_runs(exp, scenario)
    key = {(c.policy, c.replication): c.run_key for c in cells}
    assert len(cells) == 9 and len(specs) == 2 * 3
    assert all(key["a", r] == key["b", r] != key["c", r] for r in range(3))


def test_interrupted_batch_resumes_to_the_same_result(tmp_path, monkeypatch):
    path = write(tmp_path)
    run_to(tmp_path / "whole", path)
    whole = results_of(tmp_path / "whole")

    original = runner_module.EXECUTORS["serial"]

    def interrupted(specs, workers, scheduler):
        for i, out in enumerate(original(specs, workers, scheduler)):
            if i == 4:
                raise KeyboardInterrupt
            yield out

    monkeypatch.setitem(runner_module.EXECUTORS, "serial", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_to(tmp_path / "cut", path)
    partial = results_of(tmp_path / "cut")
    assert (
        partial.groupby(["point", "policy", "replication"]).ngroups
        < whole.groupby(["point", "policy", "replication"]).ngroups
    )
    monkeypatch.setitem(runner_module.EXECUTORS, "serial", original)
    outcome = run_to(tmp_path / "cut", path)
    assert outcome.skipped == 4 and outcome.done == 5 and outcome.failed == 0
    pd.testing.assert_frame_equal(results_of(tmp_path / "cut"), whole)
    # A third run has nothing to do.
    assert run_to(tmp_path / "cut", path).done == 0


def test_executors_agree_bit_for_bit(tmp_path):
    path = write(tmp_path)
    run_to(tmp_path / "serial", path, "serial")
    run_to(tmp_path / "processes", path, "processes", workers=2)
    run_to(tmp_path / "dask", path, "dask", workers=2)
    serial = results_of(tmp_path / "serial")
    assert len(serial) > 0
    pd.testing.assert_frame_equal(results_of(tmp_path / "processes"), serial, check_exact=True)
    pd.testing.assert_frame_equal(results_of(tmp_path / "dask"), serial, check_exact=True)


def test_a_failing_run_is_recorded_and_the_batch_goes_on(tmp_path):
    text = EXPERIMENT.replace('name = "hunter_farmer"', 'name = "tests.failing_policy:SometimesFails"\nlabel = "flaky"')
    path = write(tmp_path, text)
    r = experiment_cli(path, tmp_path / "o")
    assert r.returncode == 1, r.stderr
    assert "planning failed on purpose" in r.stderr and "resume with: covsim experiment" in r.stderr
    store = Store.existing(tmp_path / "o")
    ledger = store.ledger()
    store.close()
    failed = ledger[ledger.status == "failed"]
    assert 0 < len(failed) < 3 and failed.error.str.contains("RuntimeError: planning failed on purpose").all()
    assert (ledger[ledger.policy == "unstructured"].status == "done").all()
    assert (tmp_path / "o" / "report.md").exists()
    # The terminal's means say how many runs each is over: the planned 3, fewer for the policy that failed.
    finished = 3 - len(failed)
    assert f"Means over 3 replications, {finished} for flaky (whole run, segment all)" in r.stdout


def test_adding_a_policy_leaves_the_others_unchanged(tmp_path):
    one = EXPERIMENT.replace('[[policies]]\nname = "hunter_farmer"\n', "")
    run_to(tmp_path / "one", write(tmp_path, one, "one.toml"))
    run_to(tmp_path / "two", write(tmp_path))
    a = results_of(tmp_path / "one")
    b = results_of(tmp_path / "two")
    b = b[b.policy == "unstructured"].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_changed_file_is_refused_unless_fresh(tmp_path):
    path = write(tmp_path)
    run_to(tmp_path / "o", path)
    changed = write(tmp_path, EXPERIMENT.replace("seed = 3", "seed = 4"))
    with pytest.raises(InputError, match=r"different experiment \(the seed changed since its runs\)"):
        run_to(tmp_path / "o", changed)
    outcome = run_to(tmp_path / "o", changed, fresh=True)
    assert outcome.skipped == 0 and outcome.done == 9
    # Its name and description change no run: the stored runs stand.
    renamed = write(tmp_path, EXPERIMENT.replace("seed = 3", "seed = 4").replace('\nname = "t"', '\nname = "renamed"'))
    assert '\nname = "renamed"' in renamed.read_text()
    outcome = run_to(tmp_path / "o", renamed)
    assert outcome.skipped == 9 and outcome.done == 0


def test_more_replications_keep_the_stored_runs_and_fewer_report_on_the_first(tmp_path):
    # Replication r's seed does not depend on how many there are: raising replications only adds runs.
    def with_replications(n: int) -> Path:
        return write(tmp_path, EXPERIMENT.replace("replications = 3", f"replications = {n}"), f"r{n}.toml")

    run_to(tmp_path / "o", with_replications(2))
    outcome = run_to(tmp_path / "o", with_replications(4))
    assert (outcome.skipped, outcome.done) == (6, 6)  # 3 distinct runs per replication (hunter_farmer shares)
    run_to(tmp_path / "fresh4", with_replications(4))
    pd.testing.assert_frame_equal(results_of(tmp_path / "o"), results_of(tmp_path / "fresh4"), check_exact=True)
    # Fewer: the report reads replications 0 and 1 only; nothing runs; going back up runs nothing either.
    assert run_to(tmp_path / "o", with_replications(2)).done == 0
    run_to(tmp_path / "fresh2", with_replications(2))
    pd.testing.assert_frame_equal(results_of(tmp_path / "o"), results_of(tmp_path / "fresh2"), check_exact=True)
    back = run_to(tmp_path / "o", with_replications(4))
    assert (back.skipped, back.done) == (12, 0)
    # The config hash (manifest, report) counts the replications; the store's identity does not.
    two, four = (json.loads((tmp_path / f / "manifest.json").read_text())["config_hash"] for f in ("fresh2", "fresh4"))
    assert two != four == json.loads((tmp_path / "o" / "manifest.json").read_text())["config_hash"]


def test_a_store_holding_more_replications_than_asked_says_so(tmp_path):
    args = [*("compare", str(SMALL), "--policy", "unstructured", "--quarters", "1", "--executor", "serial")]
    args += ["--out", str(tmp_path / "o")]

    def compare(n: int) -> subprocess.CompletedProcess[str]:
        r = subprocess.run(
            [sys.executable, "-m", "sim.cli", *args, "--replications", str(n)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert r.returncode == 0, r.stderr
        return r

    compare(4)
    note = "note: the store holds 4 replications and these results use the first 2; ask for 4 to use them all"
    assert note in compare(2).stderr.splitlines()
    assert note in compare(2).stderr.splitlines()  # still, though the plan of 2 has forgotten the other cells
    # The report says it too (a researcher found only the terminal did).
    said = "; the store holds 4, and this report uses the first 2 (ask for 4 to use them all)"
    assert said in (tmp_path / "o" / "report.md").read_text()
    assert "note:" not in compare(4).stderr
    assert "the store holds" not in (tmp_path / "o" / "report.md").read_text()


def test_a_store_is_not_resumed_by_a_changed_engine(tmp_path, monkeypatch):
    # Results are a function of the code too: resuming after covsim changed would mix two engines' runs.
    import sim.experiment.batch as batch

    path = write(tmp_path)
    run_to(tmp_path / "o", path)
    monkeypatch.setattr(batch, "engine_fingerprint", lambda: "another engine")
    with pytest.raises(InputError) as e:
        run_to(tmp_path / "o", path)
    # It names what changed, and only that: a user could not tell whether the file or the code had.
    assert e.value.problems == [
        f"{tmp_path / 'o'}: holds results of a different experiment (covsim's code changed since its runs); rerun "
        "with --fresh to discard them, or use another --out"
    ]
    assert run_to(tmp_path / "o", path, fresh=True).skipped == 0


def test_a_second_process_on_the_same_store_is_refused(tmp_path):
    exp, scenario = load_experiment(write(tmp_path))
    batch = open_batch(exp, scenario, tmp_path / "o")
    try:
        with pytest.raises(InputError, match="another covsim process"):
            open_batch(exp, scenario, tmp_path / "o")
    finally:
        batch.store.close()
    open_batch(exp, scenario, tmp_path / "o").store.close()  # free again once closed


def _wait_for_done_runs(store: Path, n: int, proc: subprocess.Popen[str], timeout: float = 300) -> None:
    # Generous: on a loaded 2-core machine three runs took over a minute to finish; a batch that ended early
    # fails at once, with what it said.
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the batch ended before it could be stopped: {proc.communicate()[1]}")
        if store.exists():
            try:
                with sqlite3.connect(store) as db:
                    if db.execute("SELECT count(*) FROM runs WHERE status = 'done'").fetchone()[0] >= n:
                        return
            except sqlite3.OperationalError:
                pass
        time.sleep(0.05)
    raise AssertionError("the batch never got going")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_a_killed_batch_resumes_to_the_uninterrupted_result(tmp_path, sig):
    text = EXPERIMENT.replace("replications = 3", "replications = 12")
    path = write(tmp_path, text)
    run_to(tmp_path / "whole", path)
    cmd = [sys.executable, "-m", "sim.cli", "experiment", str(path), "--out", str(tmp_path / "o"), "--workers", "2"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_as_at_a_terminal
    )
    _wait_for_done_runs(tmp_path / "o" / "store.sqlite", 3, proc)
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=120)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err
        assert "resume with: covsim experiment" in err and "Traceback" not in err
    else:
        assert proc.returncode == -9
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    pd.testing.assert_frame_equal(results_of(tmp_path / "o"), results_of(tmp_path / "whole"), check_exact=True)
    # The ledger holds each run once, each done.
    store = Store.existing(tmp_path / "o")
    ledger = store.ledger()
    store.close()
    assert ledger.run_key.is_unique and (ledger.status == "done").all()


def refused(tmp_path, text: str) -> subprocess.CompletedProcess[str]:
    """``covsim experiment`` of ``text`` written as tmp_path's exp.toml, run in tmp_path."""
    command = [sys.executable, "-m", "sim.cli", "experiment", str(write(tmp_path, text))]
    return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)


def test_bad_experiment_files(tmp_path):
    bad = EXPERIMENT.replace("replications = 3", 'replications = "3"').replace(
        'target = "policy.notice"', 'target = "policy.nonsense"'
    )
    r = refused(tmp_path, bad)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    # Both at once: the wrong value left to its default, the checks after it still run.
    assert r.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'exp.toml'}: replications: Input should be a valid integer, not '3'",
        f"error: {tmp_path / 'exp.toml'}: factors.0.target: no policy in the experiment has a parameter 'nonsense'",
    ]
    fixed = bad.replace('replications = "3"', "replications = 3")
    r = refused(tmp_path, fixed)
    assert r.returncode == 2
    assert r.stderr.strip() == (
        f"error: {tmp_path / 'exp.toml'}: factors.0.target: no policy in the experiment has a parameter 'nonsense'"
    )
    # A misspelt one is offered the parameter it may have meant, as a --param is (a policy author's 'digital_shar').
    misspelt = fixed.replace('target = "policy.nonsense"', 'target = "policy.notise"')
    r = refused(tmp_path, misspelt)
    assert r.stderr.strip().endswith("has a parameter 'notise' (did you mean 'notice'?)"), r.stderr
    # A built-in's parameter of a policy not in the file is said to be that policy's (not 'tier_a_share'?).
    r = refused(tmp_path, fixed.replace('target = "policy.nonsense"', 'target = "policy.coordinated"'))
    assert r.stderr.strip().endswith("has a parameter 'coordinated' (overlay has it: add it to policies)"), r.stderr
    r = refused(tmp_path, fixed.replace('target = "policy.nonsense"', 'target = "policy.cadence_a"'))
    assert r.stderr.strip().endswith("'cadence_a' (segment_tiers and overlay have it: add one to policies)"), r.stderr
    with pytest.raises(InputError) as e:
        parse_experiment({"name": "x", "scenario": "s", "policies": [], "design": {"kind": "sobol", "samples": 6}})
    assert e.value.problems == [
        "<experiment>: policies: at least one is needed",
    ] or any("power of 2" in p for p in e.value.problems)


def test_every_policy_a_design_point_refuses_is_named_at_once_and_a_misspelt_metric_is_offered_its_name():
    base = {"name": "x", "scenario": "s", "seed": 1}
    policies = [
        {"name": "segment_tiers", "label": "a", "params": {"books": "re-deal"}},
        {"name": "segment_tiers", "label": "b", "params": {"books": "keep"}},
        {"name": "hunter_farmer", "label": "c", "params": {"books": "re-deal"}},
    ]
    experiment = parse_experiment({**base, "policies": policies})
    with pytest.raises(InputError) as e:
        plan_runs(experiment, load_scenario(SMALL))
    refused = "params.books: Input should be 'keep', 'redeal' or 'cover', not 're-deal' (did you mean 'redeal'?)"
    assert e.value.problems == [
        f"policies.0 (a) at design point 0: {refused}",
        f"policies.2 (c) at design point 0: {refused}",
    ]
    with pytest.raises(InputError) as e:
        parse_experiment({**base, "policies": policies[1:2], "metrics": ["profit", "winrate"]}, "e.toml")
    assert e.value.problems == [
        "e.toml: metrics.1: unknown metric 'winrate' (did you mean 'win_rate'?) (docs/metrics.md lists every metric)"
    ]


def test_a_misspelt_metric_does_not_hide_the_file_s_other_mistakes(tmp_path):
    # A new user's file: a misspelt metric, a misspelt policy, a factor's misspelt target and a misspelt
    # parameter. Only the metric was said; the others came one rerun at a time.
    path = tmp_path / "e.toml"
    path.write_text(
        f"""name = "x"
scenario = "{SMALL}"
seed = 1
replications = 2
metrics = ["profit", "win_rat", "won_value_line:nope", "utilisation_farmer"]

[[policies]]
name = "segment_tier"

[[policies]]
name = "named_accounts"
params = {{ accounts_per_rp = 40 }}

[[factors]]
name = "team"
target = "scenario.rep.*.count"
values = [1, 2]
"""
    )
    with pytest.raises(InputError) as e:
        load_experiment(path, plan_runs)
    problems = e.value.problems
    assert problems[0] == (
        f"{path}: metrics.1: unknown metric 'win_rat' (did you mean 'win_rate'?) (docs/metrics.md lists every metric)"
    )
    assert f"{path}: metrics.2: 'won_value_line:nope' names no product line of the scenario (it has one)" in problems
    assert (
        f"{path}: metrics.3: 'utilisation_farmer' is of farmer seats, and the scenario has none (full_cycle, sdr, "
        "inside)"
    ) in problems
    assert any("segment_tier" in p and "segment_tiers" in p for p in problems), problems
    assert any("scenario.rep.*.count" in p for p in problems), problems
    assert any("accounts_per_rp" in p for p in problems), problems


@pytest.mark.parametrize("metrics", [["proffit", "revenue_captured"], ["proffit", "opps_mised"]])
def test_misspelt_metrics_beside_the_one_they_are_read_as_do_not_hide_the_rest(tmp_path, metrics):
    # An auditor's files: each unknown metric was read as revenue_captured, so one beside it, or two unknown ones,
    # made a metric listed twice, and the misspelt policy and the factor's target went unsaid.
    path = tmp_path / "e.toml"
    path.write_text(
        f'name = "x"\nscenario = "{SMALL}"\nreplicatons = 2\nmetrics = {metrics!r}\n'.replace("'", '"')
        + '[[policies]]\nname = "segment_tier"\n'
        + '[[factors]]\nname = "n"\ntarget = "scenario.reps.9.count"\nvalues = [1, 2]\n'
    )
    with pytest.raises(InputError) as e:
        load_experiment(path, plan_runs)
    said = [p.removeprefix(f"{path}: ").split(":")[0] for p in e.value.problems]
    unknown = [f"metrics.{i}" for i, m in enumerate(metrics) if m != "revenue_captured"]
    assert said == ["replicatons", *unknown, "policies.0.name", "factors.0.target"]


def test_more_unknown_metrics_than_stand_ins_are_each_said(tmp_path):
    # 78 of them ended in "covsim failed unexpectedly (StopIteration)", and from about 50 on the stand-ins were
    # a role's or a line's metrics, refused for the scenario.
    path = tmp_path / "e.toml"
    names = ", ".join(f'"nope{i}"' for i in range(78))
    path.write_text(f'name = "x"\nscenario = "{SMALL}"\nmetrics = [{names}]\n[[policies]]\nname = "unstructured"\n')
    with pytest.raises(InputError) as e:
        load_experiment(path, plan_runs)
    assert [p.removeprefix(f"{path}: ").split(":")[0] for p in e.value.problems] == [f"metrics.{i}" for i in range(78)]


def test_a_plan_s_problems_come_in_one_round_factors_first_then_the_policies():
    # Before, a factor that matched nothing stopped the plan, and the policies' problems came on the next try.
    base = {"name": "x", "scenario": "s", "seed": 1}
    policies = [{"name": "segment_tiers", "label": "a", "params": {"books": "re-deal"}}, {"name": "unstructured"}]
    factors = [
        {"name": "f", "target": "scenario.reps.*.countx", "values": [1, 2]},
        {"name": "g", "target": "policy.nonsense", "values": [1, 2]},
        {"name": "h", "target": "scenario.reps.*.count", "mode": "scale", "integer": True, "values": [1e308]},
    ]
    experiment = parse_experiment({**base, "policies": policies, "factors": factors})
    with pytest.raises(InputError) as e:
        plan_runs(experiment, load_scenario(SMALL))
    assert e.value.problems == [
        "factors.0.target: 'scenario.reps.*.countx' matches no value of the resolved scenario (did you mean "
        "'scenario.reps.*.count'?)",
        "factors.1.target: no policy in the experiment has a parameter 'nonsense'",
        "factors.2.values: 2 x 1e+308 is inf, which has no whole number to round to (is the value too large?)",
        "policies.0 (a) at design point 0: params.books: Input should be 'keep', 'redeal' or 'cover', not 're-deal' (did you "
        "mean 'redeal'?)",
    ]


def test_a_misspelt_target_is_said_beside_a_bound_the_wrong_way_round(tmp_path):
    # A bound the wrong way round is a mistake no mending passes: the misspelt target beside it came on the next
    # round only.
    path = write(
        tmp_path,
        f"""
name = "e"
scenario = "{SMALL}"
[[policies]]
name = "unstructured"
[[factors]]
name = "a"
target = "scenario.population.customerz"
low = 300
high = 900
[[factors]]
name = "b"
target = "scenario.reps.9.count"
low = 3
high = 1
[design]
kind = "lhs"
samples = 4
""",
    )
    with pytest.raises(InputError) as e:
        load_experiment(path)
    assert e.value.problems == [
        f'{path}: factors.1: a sampled design needs low < high, not 3 and 1 (in the block named "b")',
        f"{path}: factors.0.target: 'scenario.population.customerz' matches no value of the resolved scenario (did "
        "you mean 'scenario.population.customers'?)",
        f"{path}: factors.1.target: 'scenario.reps.9.count' matches no value of the resolved scenario "
        "(scenario.reps has 3 entries, 0..2; scenario.reps.* sets every one)",
    ]


def test_a_factor_s_values_scale_by_numbers_only_and_are_listed_once():
    # Before, `true` scaled a count as 1, a word crashed the run ("covsim failed unexpectedly"), a string
    # parameter scaled by 2 was written twice over, and [2, 2] ran one point twice.
    base = {"name": "x", "scenario": "s", "seed": 1, "policies": [{"name": "unstructured"}]}
    factors = [
        {"name": "f", "target": "scenario.reps.*.count", "mode": "scale", "values": [True, "two", 2, 2.0]},
        {"name": "g", "target": "scenario.population.customers", "values": [100, True, 1, 100]},
    ]
    with pytest.raises(InputError) as e:
        parse_experiment({**base, "factors": factors})
    assert e.value.problems == [
        '<experiment>: factors.0.values.0: a scale factor multiplies by a number, not true (in the block named "f")',
        "<experiment>: factors.0.values.1: a scale factor multiplies by a number, not 'two' (in the block named \"f\")",
        "<experiment>: factors.0.values: 2 is listed more than once (each value is one design point) (in the block "
        'named "f")',
        "<experiment>: factors.1.values: 100 is listed more than once (each value is one design point) (in the "
        'block named "g")',
    ]
    # An integer factor's values that round alike are one point: 0.1 and 0.2 ran it twice, as two.
    factors = [{"name": "n", "target": "scenario.reps.0.count", "integer": True, "values": [0.1, 3, 0.2, 2.5, 2]}]
    with pytest.raises(InputError) as e:
        parse_experiment({**base, "factors": factors})
    assert e.value.problems == [
        "<experiment>: factors.0.values: 0.1 and 0.2 both round to 0, one design point (an integer factor rounds "
        'its values) (in the block named "n")',
        "<experiment>: factors.0.values: 2.5 and 2 both round to 2, one design point (an integer factor rounds "
        'its values) (in the block named "n")',
    ]
    # An integer factor rounds numbers only: a word crashed the plan ("must be real number, not str").
    factors = [{"name": "i", "target": "policy.books", "integer": True, "values": ["keep", "redeal"]}]
    with pytest.raises(InputError) as e:
        parse_experiment({**base, "factors": factors})
    assert e.value.problems[0] == (
        "<experiment>: factors.0.values.0: an integer factor rounds a number, not 'keep' (in the block named \"i\")"
    )
    # A metric listed twice was tabled twice, row for row.
    with pytest.raises(InputError) as e:
        parse_experiment({**base, "metrics": ["profit", "revenue_captured", "profit"]})
    assert e.value.problems == ["<experiment>: metrics.2: 'profit' is listed more than once"]
    policies = [{"name": "segment_tiers", "label": "a"}]
    factors = [{"name": "h", "target": "policy.books", "mode": "scale", "values": [2, 3]}]
    experiment = parse_experiment({**base, "policies": policies, "factors": factors})
    with pytest.raises(InputError) as e:
        plan_runs(experiment, load_scenario(SMALL))
    assert e.value.problems == [
        "factors.0.mode: policy a's books is 'keep', not a number a scale factor can multiply (set it instead)"
    ]
    # A number given as a word is the policy check's to say; scaled by 1.5 it crashed ("can't multiply sequence").
    policies = [{"name": "hunter_farmer", "params": {"hunter_share": "half"}}]
    factors = [{"name": "h", "target": "policy.hunter_share", "mode": "scale", "values": [1.5, 2]}]
    with pytest.raises(InputError) as e:
        plan_runs(parse_experiment({**base, "policies": policies, "factors": factors}), load_scenario(SMALL))
    assert e.value.problems == [
        "policies.0 (hunter_farmer) at design point 0: params.hunter_share: Input should be a valid number, not 'half'"
    ]


def test_a_policy_parameter_a_factor_sets_wrongly_names_the_factor_and_its_value():
    # A researcher's factor book = [-5, 60] was blamed on the policy alone: "params.accounts_per_rep: Input should
    # be greater than or equal to 0", with neither the factor nor -5 named.
    base = {"name": "x", "scenario": "s", "seed": 1, "policies": [{"name": "random_books"}]}
    factors = [{"name": "book", "target": "policy.accounts_per_rep", "values": [-5, 60]}]
    with pytest.raises(InputError) as e:
        plan_runs(parse_experiment({**base, "factors": factors}), load_scenario(SMALL))
    assert e.value.problems == [
        "policies.0 (random_books) at design point 0: params.accounts_per_rep: Input should be greater than or equal "
        "to 0, not -5 (set to -5 by factor book)"
    ]


def test_a_scenario_value_a_factor_sets_wrongly_names_the_factor_and_its_value():
    # An auditor's factor team = [2, -3] on reps.0.count was said only as the design point's values; a scale
    # factor over every group says what it scaled by.
    base = {"name": "x", "scenario": "s", "seed": 1, "policies": [{"name": "unstructured"}]}
    for factor, said in [
        (
            {"name": "team", "target": "scenario.reps.0.count", "values": [2, -3]},
            "set to -3 by factor team, factors.0.values.1",
        ),
        (
            {"name": "team", "target": "scenario.reps.*.count", "mode": "scale", "values": [-1]},
            "scaled by -1 by factor team, factors.0.values.0; 2 more values it scaled are refused too",
        ),
    ]:
        with pytest.raises(InputError) as e:
            plan_runs(parse_experiment({**base, "factors": [factor]}), load_scenario(SMALL))
        point = e.value.problems[0].partition(": reps.")[0]
        given = -3 if "set to" in said else -2  # 2 seats scaled by -1
        assert (
            e.value.problems[0]
            == f"{point}: reps.0.count: Input should be greater than or equal to 0, not {given} {FULL_CYCLE} ({said})"
        )
    # The value's place as the file lists it: a review's integer factor's -3.4, applied as -3, had lost it.
    factor = {"name": "team", "target": "scenario.reps.0.count", "values": [2, -3.4], "integer": True}
    with pytest.raises(InputError) as e:
        plan_runs(parse_experiment({**base, "factors": [factor]}), load_scenario(SMALL))
    assert e.value.problems[0].endswith("(set to -3 by factor team, factors.0.values.1)"), e.value.problems
    # One line a factor's value, at a point said by its values: a researcher's demand of -0.5 had given six, one a
    # rate it scaled, none naming the value's place in the file, the point as a Python dict.
    factor = {"name": "demand", "target": "scenario.population.segments.*.*.rate_per_year", "mode": "scale"}
    with pytest.raises(InputError) as e:
        plan_runs(parse_experiment({**base, "factors": [{**factor, "values": [1.0, -0.5]}]}), load_scenario(SMALL))
    (problem,) = e.value.problems
    assert problem.startswith("design point 1 (demand = -0.5): population.segments.0.new_logo.rate_per_year: ")
    assert problem.endswith(
        "(scaled by -0.5 by factor demand, factors.0.values.1; 5 more values it scaled are refused too)"
    )
    # A team scaled as the docs showed it, without integer = true, was refused even at 1.0 (2 x 1.0 is 2.0, no
    # count), with no word of the key that rounds it; a policy parameter likewise.
    factor = {"name": "team", "target": "scenario.reps.*.count", "mode": "scale", "values": [1.0, 1.5]}
    with pytest.raises(InputError) as e:
        plan_runs(parse_experiment({**base, "factors": [factor]}), load_scenario(SMALL))
    advice = "; add integer = true to the factor to round what it makes)"
    assert e.value.problems[0].endswith(
        f"reps.0.count: Input should be a valid integer, not 2.0 {FULL_CYCLE} (scaled by 1.0 by factor team, "
        f"factors.0.values.0; 2 more values it scaled are refused too{advice}"
    )
    factor = {"name": "book", "target": "policy.accounts_per_rep", "mode": "scale", "values": [0.33]}
    policies = [{"name": "random_books"}]
    with pytest.raises(InputError) as e:
        plan_runs(parse_experiment({**base, "policies": policies, "factors": [factor]}), load_scenario(SMALL))
    assert e.value.problems[0].endswith(f"by factor book{advice}"), e.value.problems
    assert plan_runs(
        parse_experiment({**base, "factors": [{**factor, "integer": True}], "policies": policies}), load_scenario(SMALL)
    )


def test_sampled_designs():
    base = {"name": "x", "scenario": "s", "policies": [{"name": "unstructured"}], "seed": 1}
    factors = [
        {"name": "a", "target": "scenario.population.customers", "low": 100.0, "high": 900.0, "integer": True},
        {"name": "b", "target": "policy.notice", "low": 0.2, "high": 0.4},
    ]
    lhs = parse_experiment({**base, "factors": factors, "design": {"kind": "lhs", "samples": 8}})
    points = design_points(lhs)
    assert len(points) == 8
    # Latin hypercube: one sample in each of the 8 strata of every factor.
    strata = sorted(int((p.values["b"] - 0.2) / 0.2 * 8) for p in points)
    assert strata == list(range(8))
    sobol = parse_experiment({**base, "factors": factors, "design": {"kind": "sobol", "samples": 8}})
    points = design_points(sobol)
    assert len(points) == 8 * (2 + 2)
    blocks = {p.block for p in points}
    assert blocks == {"A", "B", "AB0", "AB1"}
    a = {p.row: p.values for p in points if p.block == "A"}
    b = {p.row: p.values for p in points if p.block == "B"}
    ab0 = {p.row: p.values for p in points if p.block == "AB0"}
    assert all(ab0[r]["a"] == b[r]["a"] and ab0[r]["b"] == a[r]["b"] for r in range(8))


def test_manifest_records_versions_hash_seeds_and_commit(tmp_path):
    import json

    run_to(tmp_path / "o", write(tmp_path))
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["root_seed"] == 3 and manifest["replication_seeds"] == replication_seeds(3, 3)
    assert len(manifest["config_hash"]) == 64
    assert manifest["versions"]["mesa"] == "3.3.1" and manifest["versions"]["covsim"]
    assert "git_commit" in manifest
    # What a commit marked modified does not say, and what bit-for-bit results need (a researcher's audit).
    from sim.experiment.batch import engine_fingerprint
    from sim.experiment.runner import package_versions

    assert manifest["engine_fingerprint"] == engine_fingerprint() and len(manifest["engine_fingerprint"]) == 64
    import numba

    assert manifest["versions"]["numba"] == numba.__version__
    assert manifest["versions"]["libc"].startswith("glibc ") and manifest["versions"]["platform"]
    assert manifest["versions"] == package_versions()
    from sim.experiment.report import write_report

    store = Store.existing(tmp_path / "o")
    try:
        report = write_report(store, tmp_path / "o").read_text()
    finally:
        store.close()
    assert f"- **Code fingerprint** (a hash of covsim's source): `{engine_fingerprint()}`" in report
    assert "- **Config hash** (experiment, resolved scenario, covsim's code and any user policy's): `" in report


def test_the_manifest_records_the_commit_of_the_whole_package(tmp_path, monkeypatch):
    # A researcher's manifest said a clean commit while the engine (sim/crm, sim/model.py) had changes: only
    # sim/experiment was looked at.
    import json

    import sim
    import sim.experiment.batch as batch

    asked = []
    monkeypatch.setattr(batch, "git_commit", lambda folder: asked.append(folder) or "abc-modified")
    run_to(tmp_path / "o", write(tmp_path))
    assert asked == [Path(sim.__file__).resolve().parent]
    assert json.loads((tmp_path / "o" / "manifest.json").read_text())["git_commit"] == "abc-modified"


def test_the_commit_recorded_says_when_the_package_had_changes_not_committed(tmp_path):
    from sim.experiment.runner import git_commit

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(tmp_path), *args], capture_output=True, text=True, check=True)
        return done.stdout.strip()

    package = tmp_path / "sim"
    package.mkdir()
    (package / "model.py").write_text("x = 1\n")
    (tmp_path / "README.md").write_text("read me\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    head = git("rev-parse", "HEAD")
    assert git_commit(package) == head
    (tmp_path / "README.md").write_text("changed\n")  # outside the package: not the code that ran
    assert git_commit(package) == head
    (package / "new_module.py").write_text("y = 1\n")  # not yet added: a change all the same
    assert git_commit(package) == head + "-modified"
    (package / "new_module.py").unlink()
    (package / "model.py").write_text("x = 2\n")
    assert git_commit(package) == head + "-modified"
    assert git_commit(tmp_path.parent) is None  # not in a checkout


def test_dask_scheduler_address_gives_the_same_results(tmp_path):
    from dask.distributed import LocalCluster

    path = write(tmp_path)
    run_to(tmp_path / "serial", path)
    exp, scenario = load_experiment(path)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        batch = open_batch(exp, scenario, tmp_path / "remote")
        try:
            outcome = execute_batch(batch, "dask", 1, cluster.scheduler_address)
        finally:
            batch.store.close()
    assert outcome.done == 9
    pd.testing.assert_frame_equal(results_of(tmp_path / "remote"), results_of(tmp_path / "serial"), check_exact=True)


def test_progress_bar_shows_done_and_failed(tmp_path, capsys):
    from sim.experiment.runner import run_batch

    exp, scenario = load_experiment(write(tmp_path))
    batch = open_batch(exp, scenario, None)
    run_batch(batch.store, batch.specs, "serial", 1, progress=True)
    err = capsys.readouterr().err
    assert "9/9" in err and "failed=0" in err


def test_a_user_policy_is_labelled_alike_by_run_and_compare(small):
    # covsim run labelled examples.untapped_wallet:UntappedWallet "untapped_wallet", compare "UntappedWallet":
    # the two outputs could not be joined on policy.
    from sim.policies import Policy, policy_label
    from sim.run import run

    path = "examples.untapped_wallet:UntappedWallet"
    (entry,) = comparison(small, "s.toml", [path], 2).policies
    ran = run(small.with_overrides("labels", quarters=1), make_policy(path), 1)
    assert entry.key == set(ran.metrics.policy).pop() == ran.policy == "untapped_wallet"

    class Unnamed(Policy):  # sets no name of its own: its class name, not the base class's "policy"
        pass

    assert policy_label(Unnamed) == "Unnamed" and policy_label(type(make_policy("pooled"))) == "pooled"

    class MyPooled(type(make_policy("pooled"))):  # a built-in's subclass is not that built-in
        pass

    assert policy_label(MyPooled) == "MyPooled"


def test_comparison_of_policies_on_a_scenario(small):
    exp = comparison(small, "s.toml", ["unstructured", "examples.nearest_rep:NearestRep"], 4)
    assert (exp.name, exp.scenario, exp.seed, exp.replications, exp.quarters) == ("compare-small", "s.toml", 7, 4, None)
    assert [(p.name, p.key, p.params) for p in exp.policies] == [
        ("unstructured", "unstructured", {}),
        ("examples.nearest_rep:NearestRep", "nearest_rep", {}),
    ]
    assert exp.baseline_label == "unstructured" and exp.factors == ()
    again = comparison(small, "s.toml", ["unstructured"], 2, seed=11, quarters=1)
    assert (again.seed, again.quarters) == (11, 1)
    with pytest.raises(InputError) as e:
        comparison(small, "s.toml", ["unstructured", "nope"], 2)
    assert e.value.problems == [  # the Python API's words, not the command line's --policy
        "comparison: policies: unknown policy 'nope' (built-in: hunter_farmer, named_accounts, overlay, pooled, random_books, segment_tiers, territories, unstructured, value_based; or package.module:ClassName)"
    ]


def test_experiment_entries_are_checked_before_any_run():
    base = {"name": "x", "scenario": "s", "policies": [{"name": "unstructured"}]}
    with pytest.raises(InputError) as e:
        parse_experiment(
            {
                **base,
                "metrics": ["revenue_captured", "revenue"],
                "factors": [
                    {"name": "s", "target": "scenario.seed", "values": [1, 2]},
                    {"name": "p", "target": "policy.name", "values": ["segment_tiers"]},
                    {"name": "q", "target": "scenario.policy.params.notice", "values": [0.5]},
                    {"name": "ok", "target": "scenario.population.customers", "values": [100]},
                ],
            }
        )
    assert e.value.problems == [
        "<experiment>: metrics.1: unknown metric 'revenue' (metrics with 'revenue' in their names: "
        "revenue_captured, recurring_revenue, revenue_per_rep) (docs/metrics.md lists every metric)",
        "<experiment>: factors.0.target: scenario.seed cannot be a factor: a run's seed comes from the "
        'experiment\'s seed and the replication (vary replications instead) (in the block named "s")',
        "<experiment>: factors.1.target: policy.name cannot be a factor: the policies to compare are listed "
        'under policies, not varied by a factor (in the block named "p")',
        "<experiment>: factors.2.target: scenario.policy.params.notice cannot be a factor: policy parameters "
        'are varied as policy.<parameter> (in the block named "q")',
    ]


def test_two_factors_that_write_one_value_are_refused():
    # A researcher's factor team set reps.0.count and another scaled reps.*.count: the point labelled team = 1
    # ran with 2 reps, without a word.
    base = {"name": "x", "scenario": "s", "policies": [{"name": "unstructured"}]}
    factors = [
        {"name": "team", "target": "scenario.reps.0.count", "values": [1, 2]},
        {"name": "x", "target": "scenario.reps.*.count", "mode": "scale", "values": [1, 2], "integer": True},
        {"name": "share", "target": "policy.hunter_share", "values": [0.2, 0.5]},
        {"name": "again", "target": "policy.hunter_share", "values": [0.3]},
        {"name": "other", "target": "scenario.reps.1.cost_per_year", "values": [1.0]},  # another value of reps.1
    ]
    with pytest.raises(InputError) as e:
        parse_experiment({**base, "factors": factors})
    assert e.value.problems == [
        "<experiment>: factors.1.target: scenario.reps.*.count writes a value factors.0 ('team', "
        "scenario.reps.0.count) writes too: one would overwrite the other at every point (vary each value by one "
        'factor) (in the block named "x")',
        "<experiment>: factors.3.target: policy.hunter_share writes a value factors.2 ('share', policy.hunter_share) "
        "writes too: one would overwrite the other at every point (vary each value by one factor) (in the block "
        'named "again")',
    ]


def test_a_store_is_not_resumed_after_a_user_policy_changed(tmp_path, monkeypatch):
    # A user policy's code is part of what a run is a function of, like covsim's own.
    from sim.experiment.batch import experiment_hash

    module = tmp_path / "my_tiers.py"
    module.write_text("from sim.policies.segment_tiers import SegmentTiers\n\nclass Mine(SegmentTiers):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    text = EXPERIMENT.replace('name = "hunter_farmer"', 'name = "my_tiers:Mine"\nlabel = "mine"')
    exp, scenario = load_experiment(write(tmp_path, text))
    before = experiment_hash(exp, scenario)
    assert before == experiment_hash(exp, scenario)
    module.write_text(module.read_text() + "\n# changed: answers leads last\n")
    assert experiment_hash(exp, scenario) != before


def test_a_user_policy_is_labelled_in_an_experiment_as_run_and_compare_label_it(tmp_path, monkeypatch):
    # An experiment labelled it "labelled_tiers:Mine" where run and compare said "mine", refused baseline = "mine", and
    # let a class named as a built-in run beside the built-in under one name.
    user_module(
        tmp_path,
        monkeypatch,
        "labelled_tiers",
        "from sim.policies.segment_tiers import SegmentTiers\n\n"
        "class Mine(SegmentTiers):\n    name = 'mine'\n\n"
        "class Twin(SegmentTiers):\n    name = 'unstructured'\n",
    )
    for baseline in ("mine", "labelled_tiers:Mine"):  # by its label, or by the path it is named by
        text = EXPERIMENT.replace('name = "hunter_farmer"', 'name = "labelled_tiers:Mine"')
        exp, _ = load_experiment(write(tmp_path, text.replace('baseline = "unstructured"', f'baseline = "{baseline}"')))
        assert [p.key for p in exp.policies] == ["unstructured", "mine"]
        assert exp.baseline_label == "mine"
    labelled = EXPERIMENT.replace('name = "hunter_farmer"', 'name = "labelled_tiers:Mine"\nlabel = "ours"')
    assert [p.key for p in load_experiment(write(tmp_path, labelled))[0].policies] == ["unstructured", "ours"]
    with pytest.raises(InputError) as e:
        load_experiment(write(tmp_path, EXPERIMENT.replace('name = "hunter_farmer"', 'name = "labelled_tiers:Twin"')))
    assert e.value.problems == [
        f"{tmp_path / 'exp.toml'}: policies: label 'unstructured' is used twice (give each a distinct label)"
    ]


def test_a_grid_refuses_a_sample_size_and_a_range_it_would_not_use():
    # Both ran without a word, and the report said "Design: grid, base sample 8".
    data = {
        "name": "e",
        "scenario": "small.toml",
        "policies": [{"name": "unstructured"}],
        "factors": [{"name": "n", "target": "scenario.reps.0.count", "values": [1, 2], "low": 1, "high": 3}],
        "design": {"kind": "grid", "samples": 8},
    }
    with pytest.raises(InputError) as e:
        parse_experiment(data, "e.toml")
    assert e.value.problems == [
        'e.toml: factors.0.low: a grid design runs the values listed, not a range (in the block named "n")',
        'e.toml: factors.0.high: a grid design runs the values listed, not a range (in the block named "n")',
        "e.toml: design.samples: a grid design runs every combination of its values, no sample",
    ]


#: Why a sampled design's integer factor with too few whole numbers is refused.
LHS = "(its values would round onto fewer and its effect could not be measured)"


@pytest.mark.parametrize(
    "kind, low, high, refused",
    [
        ("lhs", 1, 1.4, "needs at least 2 whole numbers in [low, high], not 1 " + LHS),
        # Counted as round(high) - round(low) + 1, halves rounding to even: 3, and every point got 1.
        ("lhs", 0.5, 1.5, "needs at least 2 whole numbers in [low, high], not 1 " + LHS),
        ("sobol", 2.5, 3.5, "needs at least 2 whole numbers in [low, high], not 1 " + LHS),
        ("lhs", 0.5, 2.5, None),
        ("sobol", 1, 2, None),
        # p = 4: levels 1, 1.13, 1.27, 1.4 all round to 1, so no step moves it
        (
            "morris",
            1,
            1.4,
            "needs every one of its 2 steps (each p/2 levels of its grid) to move its rounded value, not 0 (a step that "
            "rounds to no change measures nothing)",
        ),
        # levels 1, 1.4, 1.8, 2.2 round to 1, 1, 2, 2: a step 1 -> 2 from each, each effect divided by its step
        ("morris", 1, 2.2, None),
        ("morris", 1, 2, None),  # 1, 1, 2, 2 (a researcher's low 1, high 2 had been refused)
        ("morris", 0.5, 3.5, None),  # 0, 2, 2, 4
        ("morris", 1, 4, None),
    ],
)
def test_an_integer_factor_a_design_could_not_vary_is_refused(kind, low, high, refused):
    data = {
        "name": "e",
        "scenario": "small.toml",
        "policies": [{"name": "unstructured"}],
        "factors": [{"name": "n", "target": "scenario.reps.0.count", "low": low, "high": high, "integer": True}],
        "design": {"kind": kind} | ({"trajectories": 4} if kind == "morris" else {"samples": 4}),
    }
    if refused is None:
        assert parse_experiment(data).factors[0].integer
        return
    with pytest.raises(InputError) as e:
        parse_experiment(data, "e.toml")
    assert e.value.problems == [
        f'e.toml: factors.0: an integer factor of a {kind} design {refused} (in the block named "n")'
    ]


def test_a_mistyped_scenario_target_is_given_the_path_it_likely_meant() -> None:
    from sim.config import value_paths

    data = {"reps": [{"count": 2, "role": "field"}, {"count": 3}], "population": {"customers": 10}}
    assert value_paths(data) == [
        "population.customers",
        "reps.*.count",
        "reps.*.role",
        "reps.0.count",
        "reps.0.role",
        "reps.1.count",
    ]
    base = {"name": "x", "scenario": "s", "seed": 1, "policies": [{"name": "unstructured"}]}
    for typed, meant in (
        ("scenario.reps.0.cuont", "scenario.reps.0.count"),
        ("scenario.rep.*.count", "scenario.reps.*.count"),
        # A "*" typed over a table's keys stays in the hint: it had offered segments.*.new_logo.rate_per_year for
        # every kind of demand, which validate took, varying new-logo demand alone (a researcher's trial).
        ("scenario.population.segments.*.*.rate_per_yaer", "scenario.population.segments.*.*.rate_per_year"),
        ("scenario.population.segmnets.*.*.rate_per_year", "scenario.population.segments.*.*.rate_per_year"),
        # ... and only where the paths line up: a review's "population.*.custmers" had been offered every segment's
        # customer share, and "segments.*.*.nam" a path ending in a "*".
        ("scenario.population.*.custmers", "scenario.population.customers"),
        ("scenario.population.segments.*.*.nam", "scenario.population.segments.*.name"),
    ):
        factors = [{"name": "f", "target": typed, "values": [1, 2]}]
        with pytest.raises(InputError) as e:
            plan_runs(parse_experiment({**base, "factors": factors}), load_scenario(SMALL))
        assert e.value.problems == [
            f"factors.0.target: {typed!r} matches no value of the resolved scenario (did you mean {meant!r}?)"
        ]
    # An index past an array's end is said so ("segments.5" was offered "segments.*", which varies every one),
    # and a table is no value to set (each design point's value had been blamed: "not 0.8").
    for typed, said in (
        (
            "scenario.population.segments.5.new_logo.win_probability",
            "matches no value of the resolved scenario (scenario.population.segments has 3 entries, 0..2; "
            "scenario.population.segments.* sets every one)",
        ),
        (
            "scenario.relationship",
            "names a table, not a value; a factor sets values in it (scenario.relationship.churn_floor, "
            "scenario.relationship.churn_half_stock, scenario.relationship.conflict_penalty, ...)",
        ),
    ):
        factors = [{"name": "f", "target": typed, "values": [0.7, 0.8]}]
        with pytest.raises(InputError) as e:
            plan_runs(parse_experiment({**base, "factors": factors}), load_scenario(SMALL))
        assert e.value.problems == [f"factors.0.target: {typed!r} {said}"]


def test_a_user_policy_s_fingerprint_covers_its_package_s_helpers_and_base_classes(tmp_path, monkeypatch):
    # A new user's compare reused its stored runs after an edit to the helper module the policy calls: only the
    # policy class's own file was hashed.
    import importlib

    from sim.experiment.batch import user_policy_fingerprints

    package = tmp_path / "mypolicies"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helper.py").write_text("def route(view):\n    return None\n")
    (package / "base.py").write_text(
        "from sim.policies.segment_tiers import SegmentTiers\n\nclass Base(SegmentTiers):\n    pass\n"
    )
    (package / "policy.py").write_text(
        "from mypolicies.base import Base\nfrom mypolicies.helper import route\n\nclass Mine(Base):\n    name = 'mine'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    exp = parse_experiment({"name": "x", "scenario": "s", "seed": 1, "policies": [{"name": "mypolicies.policy:Mine"}]})
    before = user_policy_fingerprints(exp)
    assert set(before) == {"mypolicies.policy:Mine"}
    for edited in ("helper.py", "base.py"):
        (package / edited).write_text((package / edited).read_text() + "# edited\n")
        after = user_policy_fingerprints(exp)
        assert after != before, edited
        before = after
    assert user_policy_fingerprints(exp) == before  # and the same source, the same fingerprint
    # The same files in another folder (a moved project, a colleague's checkout): the same code, the same
    # fingerprint. It hashed each file's absolute path, and a resume said the policy's code had changed.
    import shutil
    import sys

    moved = tmp_path / "elsewhere"
    shutil.copytree(package, moved / "mypolicies")
    for name in [m for m in sys.modules if m == "mypolicies" or m.startswith("mypolicies.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(moved))
    importlib.invalidate_caches()
    from sim.policies import policy_class

    assert "elsewhere" in str(Path(sys.modules[policy_class("mypolicies.policy:Mine").__module__].__file__))
    assert user_policy_fingerprints(exp) == before


def test_a_store_refused_for_a_user_policy_s_code_names_the_file_that_changed_or_came(tmp_path, monkeypatch):
    # A researcher added a file beside their policy, which it never imports: the refusal said "a user policy's
    # code changed" and named no file.
    import importlib

    package = tmp_path / "mypols"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "mine.py").write_text(
        "from sim.policies.segment_tiers import SegmentTiers\n\nclass Mine(SegmentTiers):\n    name = 'mine'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    small = load_scenario(SMALL, quarters=1)
    exp = comparison(small, str(SMALL), ["unstructured", "mypols.mine:Mine"], replications=1)

    def refusal() -> list[str]:
        with pytest.raises(InputError) as e:
            open_batch(exp, small, tmp_path / "o")
        return e.value.problems

    open_batch(exp, small, tmp_path / "o").store.close()
    (package / "mine.py").write_text((package / "mine.py").read_text() + "# edited\n")
    assert refusal() == [
        f"{tmp_path / 'o'}: holds results of a different experiment (mypols/mine.py, a file of mypols.mine:Mine "
        "changed since its runs); rerun with --fresh to discard them, or use another --out"
    ]
    open_batch(exp, small, tmp_path / "o", fresh=True).store.close()
    (package / "unused.py").write_text("X = 1\n")
    assert refusal() == [
        f"{tmp_path / 'o'}: holds results of a different experiment (which files make up mypols.mine:Mine changed "
        "since its runs); rerun with --fresh to discard them, or use another --out"
    ]
    # A package-wide edit: the first files named, the rest counted.
    for k in range(4):
        (package / f"more{k}.py").write_text("X = 1\n")
    open_batch(exp, small, tmp_path / "o", fresh=True).store.close()
    for path in package.glob("*.py"):
        path.write_text(path.read_text() + "# edited\n")
    (said,) = refusal()
    assert said.endswith(", a file of mypols.mine:Mine and 2 more changed since its runs); rerun with --fresh to "
                         "discard them, or use another --out")  # fmt: skip
    assert said.count("a file of mypols.mine:Mine") == 5


def test_the_terminal_tables_and_the_report_figures_are_of_the_point_the_answer_cites(tmp_path):
    # The answer cited its weakest point (demand 0.5, last) while the tables and figures under it showed the
    # first, where the lead was another: a VP could not check the sentence against what was shown.
    path = write(
        tmp_path,
        f"""
name = "cited"
scenario = "{SMALL}"
seed = 3
replications = 3
quarters = 2
baseline = "unstructured"
metrics = ["revenue_captured"]
policies = [{{ name = "unstructured" }}, {{ name = "segment_tiers" }}]
factors = [{{ name = "demand", target = "scenario.population.segments.*.new_logo.rate_per_year", mode = "scale", values = [2.0, 1.0, 0.5] }}]
""",
    )
    r = experiment_cli(path, tmp_path / "o")
    assert r.returncode == 0, r.stderr
    answer = r.stdout.splitlines()[0]
    assert "where its difference is smallest, at demand = 0.5," in answer
    said = "at design point 2 (demand=0.5; the one the answer cites; every point is in the report):"
    assert said in r.stdout and "at design point 0" not in r.stdout
    report = (tmp_path / "o" / "report.md").read_text()
    captions = [line for line in report.splitlines() if line.startswith("*Figure") and "design point" in line]
    assert len(captions) == 6 and all("at design point 2 (demand = 0.5)" in c for c in captions[:5])
    assert "How the headline metric responds to factor `demand`" in report


def test_a_grid_whose_points_make_the_same_runs_is_refused_and_an_integer_value_is_labelled_as_set(tmp_path):
    # An analyst's team scaled by 1 and 1.02 was 2 seats at both (rounded), run twice and reported as two sizes;
    # a count of 2.5 ran 2 seats, labelled 2.5.
    base = EXPERIMENT.replace('target = "policy.notice"\nvalues = [0.3, 0.8]', "")
    scaled = base.replace(
        'name = "notice"\n',
        'name = "team"\ntarget = "scenario.reps.0.count"\nmode = "scale"\ninteger = true\nvalues = [1.0, 1.02, 2.0]\n',
    )
    with pytest.raises(InputError) as e:
        plan_runs(*load_experiment(write(tmp_path, scaled, "scaled.toml")))
    assert e.value.problems == [
        "factors: design points 0 (team = 1.0) and 1 (team = 1.02) make the same runs, one world twice: their values "
        "set the same scenario and parameters (an integer factor rounds what it sets or scales; a factor none of the "
        "policies reads changes nothing); drop one"
    ]
    counted = base.replace(
        'name = "notice"\n', 'name = "team"\ntarget = "scenario.reps.0.count"\ninteger = true\nvalues = [1, 2.5, 4]\n'
    )
    points, _, specs = plan_runs(*load_experiment(write(tmp_path, counted, "counted.toml")))
    assert [p.values["team"] for p in points] == [1, 2, 4]  # 2.5 rounds to 2 (half to even), as it runs
    assert sorted({json.loads(s.scenario_json)["reps"][0]["count"] for s in specs.values()}) == [1, 2, 4]


def test_two_stresses_of_a_suite_that_make_the_same_runs_are_the_suite_s_to_mend(tmp_path):
    from sim.experiment.comparison import stress_experiment
    from sim.experiment.suite import Stress

    scenario = load_scenario(SMALL, quarters=2)
    same = {"shocks": [{"kind": "demand", "quarter": 2, "factor": 0.7}]}
    suite = (Stress(name="cut", **same), Stress(name="also_cut", **same))
    exp = stress_experiment(scenario, str(SMALL), ["unstructured"], suite, 3)
    with pytest.raises(InputError) as e:
        plan_runs(exp, scenario)
    assert e.value.problems == [
        "suite: design points 1 (shock = 'cut') and 2 (shock = 'also_cut') make the same runs, one world twice: their "
        "stresses make the same shocks; drop one"
    ]


def test_a_sobol_design_with_its_base_sample_doubled_keeps_the_stored_runs_and_halved_reports_on_the_first(
    tmp_path: Path,
) -> None:
    # A scrambled Sobol' sequence drawn from the seed begins with the points of a smaller one: a researcher's 640
    # runs at N = 32 had been refused as "a different experiment" at N = 64, though every one was a run of it.
    from sim.experiment.spec import Design, Experiment
    from tests.conftest import batch_into, tiny, tiny_two_factor_experiment

    def sampled(n: int) -> Experiment:
        return tiny_two_factor_experiment("tiny-sobol", Design(kind="sobol", samples=n))

    def run(folder: Path, n: int) -> tuple[int, int, pd.DataFrame]:
        return batch_into(sampled(n), folder)

    four, eight = run(tmp_path / "fresh4", 4), run(tmp_path / "fresh8", 8)
    assert (four[0], eight[0]) == (16, 32)  # N x (2 factors + 2) points
    assert run(tmp_path / "o", 4)[:2] == (16, 0)
    done, skipped, results = run(tmp_path / "o", 8)
    assert (done, skipped) == (16, 16)  # the rows of N = 4 in each block are N = 8's first rows
    pd.testing.assert_frame_equal(results, eight[2], check_exact=True)
    # Halved: the first rows alone are read, as points of the smaller plan, and nothing runs.
    done, skipped, results = run(tmp_path / "o", 4)
    assert (done, skipped) == (0, 16)
    pd.testing.assert_frame_equal(results, four[2], check_exact=True)
    # ... and said, as more replications than asked are (a researcher's halved design had been silent).
    from sim.experiment.report.context import load_context
    from sim.experiment.store import Store

    said = "runs of a base sample of 8, and these results use its first 4 rows (ask for samples = 8 to use them all)"
    for folder, unread in (("o", said), ("fresh8", ""), ("fresh4", "")):
        store = Store.existing(tmp_path / folder)
        try:
            assert load_context(store, tmp_path / folder).rows_unread == unread
        finally:
            store.close()
    # Another seed is another experiment still.
    with pytest.raises(InputError, match="the seed"):
        open_batch(sampled(8).model_copy(update={"seed": 5}), tiny(), tmp_path / "o")


def test_a_sampled_factor_s_value_a_scenario_refuses_names_the_range_it_was_drawn_from():
    # A researcher's high of 1.5 for a monthly retention below 1 was said at a design point, as if the point were
    # the mistake.
    base = {"name": "x", "scenario": "s", "seed": 1, "policies": [{"name": "unstructured"}]}
    factor = {"name": "retention", "target": "scenario.relationship.monthly_retention", "low": 0.6, "high": 1.5}
    exp = parse_experiment({**base, "factors": [factor], "design": {"kind": "lhs", "samples": 8}})
    with pytest.raises(InputError) as e:
        plan_runs(exp, load_scenario(SMALL))
    (problem,) = e.value.problems
    assert problem.startswith("design point ")
    assert ": relationship.monthly_retention: Input should be less than 1, not 1." in problem
    assert problem.endswith(" by factor retention, drawn from its range 0.6 to 1.5: narrow it)")


def test_a_store_holding_more_morris_trajectories_or_sobol_rows_than_asked_says_what_to_ask_for() -> None:
    from sim.experiment.design import unread_rows
    from sim.experiment.spec import Design
    from tests.conftest import tiny_two_factor_experiment

    morris = tiny_two_factor_experiment("m", Design(kind="morris", trajectories=4))
    assert unread_rows(morris, 6) == (
        "runs of 6 trajectories, and these results use the first 4 (ask for trajectories = 6 to use them all)"
    )
    assert unread_rows(morris, 4) == unread_rows(morris, 0) == ""
    sobol = tiny_two_factor_experiment("s", Design(kind="sobol", samples=16))
    assert unread_rows(sobol, 32).startswith("runs of a base sample of 32, and these results use its first 16 rows")
    assert unread_rows(sobol, 16) == ""
    lhs = tiny_two_factor_experiment("l", Design(kind="lhs", samples=16))
    assert unread_rows(lhs, 32) == ""  # an LHS of another size is another design: never a prefix of this one


def test_a_comparison_on_a_world_of_buying_units_says_it_moves_with_the_units(tmp_path: Path) -> None:
    # An analyst's calibrated comparison gave segment tiers a profit lead of 280k at 44 units an account and 162k
    # at 88: a policy's books, touches and conflicts count units, and nothing beside the answer said so.
    from sim.experiment.report.answer import units_caution

    text = SMALL.read_text().replace("customers = 5000", "customers = 5000\nbuying_units = 5", 1)
    scenario = tmp_path / "units.toml"
    scenario.write_text(text)
    args = [sys.executable, "-m", "sim.cli", "compare", str(scenario), "--policy", "unstructured"]
    args += ["--policy", "segment_tiers", "--quarters", "1", "--replications", "2", "--executor", "serial"]
    r = subprocess.run([*args, "--out", str(tmp_path / "o")], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    said = (
        "Each account of this world is 5 buying units (population.buying_units, from covsim calibrate --units): "
        "customers and churn count units, not accounts, and so do a policy's books, touches and conflicts, so this "
        "comparison moves with the units chosen (docs/scenario-format.md, 8.5): read it only where it holds at "
        "another number of units too, calibrated again with --units (editing population.buying_units changes only "
        "its label) and with the policies' book sizes (accounts_per_rep, in units) scaled alike."
    )
    # The answer's last finding, on a line of its own (the terminal's "  - ", the report's list item).
    lines = r.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Answer:"))
    last = next(i for i in range(at + 1, len(lines)) if not lines[i].startswith("  - ")) - 1
    assert lines[last] == f"  - {said}" and units_caution(5, 2, str) == said
    report = (tmp_path / "o" / "report.md").read_text()
    assert f"\n- {units_caution(5, 2, lambda s: f'`{s}`')}\n" in report
    assert units_caution(1, 2, str) == units_caution(5, 1, str) == ""  # one unit an account; nothing compared


def test_a_sobol_store_with_unfinished_rows_counts_only_whole_rows_down_to_a_base_sample_one_may_ask_for(
    tmp_path: Path,
) -> None:
    # A review: rows 5 to 7 of block A failed, the store said "a base sample of 5" and "ask for samples = 5", which
    # a Sobol' design refuses (not a power of 2).
    from sim.experiment.design import unread_rows
    from sim.experiment.spec import Design, Experiment
    from sim.experiment.store import STORE_NAME
    from tests.conftest import batch_into, tiny_two_factor_experiment

    def sampled(n: int) -> Experiment:
        return tiny_two_factor_experiment("tiny-sobol", Design(kind="sobol", samples=n))

    batch_into(sampled(8), tmp_path / "o")
    with sqlite3.connect(tmp_path / "o" / STORE_NAME) as db:
        db.execute(
            "UPDATE runs SET status = 'failed' WHERE run_key IN (SELECT c.run_key FROM cells c JOIN points p "
            "ON p.point = c.point WHERE p.block = 'A' AND p.row >= 5)"
        )
    batch_into(sampled(2), tmp_path / "o")
    store = Store.existing(tmp_path / "o")
    try:
        held = int(store.meta("design_rows_held") or 0)
    finally:
        store.close()
    assert held == 4  # rows 0-4 whole: 5, down to a power of 2
    assert unread_rows(sampled(2), held).endswith("(ask for samples = 4 to use them all)")


def test_a_morris_store_with_more_trajectories_than_asked_holds_them_and_says_so(tmp_path: Path) -> None:
    from sim.experiment.design import unread_rows
    from sim.experiment.report.context import load_context
    from sim.experiment.spec import Design, Experiment
    from tests.conftest import batch_into, tiny_two_factor_experiment

    def screening(r: int) -> Experiment:
        return tiny_two_factor_experiment("tiny-morris", Design(kind="morris", trajectories=r))

    batch_into(screening(3), tmp_path / "o")
    assert batch_into(screening(2), tmp_path / "o")[0] == 0  # every run of the first 2 trajectories stored
    store = Store.existing(tmp_path / "o")
    try:
        assert (
            load_context(store, tmp_path / "o").rows_unread
            == unread_rows(screening(2), 3)
            == ("runs of 3 trajectories, and these results use the first 2 (ask for trajectories = 3 to use them all)")
        )
    finally:
        store.close()


def test_a_policy_typed_in_at_a_prompt_runs_in_memory_and_a_store_in_a_folder_says_why_it_cannot(
    tmp_path: Path,
) -> None:
    # A researcher's policy defined in `python -c` (as in a notebook's cell) ended a batch in a traceback from
    # inspect ("source code not available"; from stdin, a file '<stdin>' not found).
    script = (
        "import sim\n"
        "from sim.errors import InputError\n"
        "from sim.scenario import load_scenario\n"
        "from sim.experiment.comparison import comparison\n"
        "from sim.experiment.batch import open_batch, execute_batch\n"
        "from sim.policies.segment_tiers import SegmentTiers\n"
        "class Inline(SegmentTiers):\n"
        "    name = 'inline'\n"
        f"two = load_scenario({str(SMALL)!r}, quarters=1)\n"
        "exp = comparison(two, 'small.toml', ['segment_tiers', '__main__:Inline'], replications=2)\n"
        "b = open_batch(exp, two, None)\n"
        "print(execute_batch(b, executor='serial').done)\n"
        "b.store.close()\n"
        "try:\n"
        f"    open_batch(exp, two, {str(tmp_path / 'o')!r})\n"
        "except InputError as e:\n"
        "    print(e.problems)\n"
        "b = open_batch(exp, two, None)\n"
        "try:\n"
        "    execute_batch(b, executor='processes', workers=1)\n"
        "except InputError as e:\n"
        "    print(e.problems)\n"
        "b.store.close()\n"
    )
    for how in (["-c", script], ["-"]):
        r = subprocess.run(
            [sys.executable, *how], input=script if how == ["-"] else None, capture_output=True, text=True, cwd=ROOT
        )
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
        done, problems, workers = r.stdout.splitlines()
        assert done == "4"  # 2 policies x 2 replications, in memory
        # a worker process cannot import it: said, where each run had failed in a worker, unsaid
        assert workers == str(
            [
                "policy __main__:Inline: typed in, so a worker process cannot import it: run the batch with "
                "executor='serial', or put the class in a module"
            ]
        )
        assert problems == str(
            [
                "policy __main__:Inline: its code is in no file (typed in a notebook or at a prompt), so a store in a "
                "folder could not tell when it changes: put the class in a module (my_policies.py, then "
                "'my_policies:Inline'), or run the batch in memory (out = None)"
            ]
        )
    assert not (tmp_path / "o").exists()  # nothing half-made
    # Typed in over a base class kept in a file: its own code is in no fingerprint all the same (a review's store
    # in a folder took it, and an edit of the typed-in class resumed the stale runs).
    (tmp_path / "mybase.py").write_text(
        "from sim.policies.segment_tiers import SegmentTiers\n\n\nclass MyBase(SegmentTiers):\n    name = 'mybase'\n"
    )
    based = script.replace("from sim.policies.segment_tiers import SegmentTiers", "from mybase import MyBase")
    based = based.replace("class Inline(SegmentTiers):", "class Inline(MyBase):")
    r = subprocess.run(
        [sys.executable, "-c", based],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"},
    )
    assert r.returncode == 0 and r.stdout.splitlines()[1] == problems, r.stderr


def test_an_experiment_runs_with_scenario_fields_set_on_the_command_line_and_refuses_what_they_cannot_set(tmp_path):
    """A researcher re-ran a whole design under an assumed number by copying and editing its scenario (`covsim
    experiment` had no --set)."""
    path = write(tmp_path)
    base = ["experiment", str(path), "--executor", "serial"]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sim.cli", *base, *args], capture_output=True, text=True, cwd=ROOT)

    r = cli("--set", "relationship.win_weight=0", "--out", str(tmp_path / "set"))
    assert r.returncode == 0, r.stderr
    assert f"--set: {SMALL} run as small-" in r.stderr and "relationship.win_weight 1.0 -> 0" in r.stderr
    report = (tmp_path / "set" / "report.md").read_text()
    assert report.startswith(
        f"# t\n\nRun with scenario fields set on the command line over the values in `{SMALL}`: --set "
        "`relationship.win_weight=0`."
    )
    assert experiment_cli(path, tmp_path / "plain").returncode == 0
    # The same design, seeds and policies: only the win weight differs, and it moves the runs.
    with_set, plain = results_of(tmp_path / "set"), results_of(tmp_path / "plain")
    won = [r[(r.metric == "opps_won") & (r.segment == "all")].value.sum() for r in (with_set, plain)]
    assert len(with_set) == len(plain) and won[0] != won[1]
    # Rerun as it was, it resumes; without the --set, its folder holds another experiment.
    r = cli("--set", "relationship.win_weight=0", "--out", str(tmp_path / "set"))
    assert r.returncode == 0 and "0 runs done, 9 already stored" in r.stderr, r.stderr
    r = cli("--out", str(tmp_path / "set"))
    assert r.returncode == 2 and "holds results of a different experiment" in r.stderr
    # What the experiment file sets, and a field a factor writes at every point, are refused, one line each.
    factor = EXPERIMENT.replace('target = "policy.notice"', 'target = "scenario.relationship.win_weight"')
    r = subprocess.run(
        [sys.executable, "-m", "sim.cli", "experiment", str(write(tmp_path, factor, "f.toml")), "--set", "seed=4",
         "--set", "relationship.win_weight=0", "--out", str(tmp_path / "no")],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert (r.returncode, r.stderr) == (2, "error: --set seed: give the experiment file's seed instead\n")
    r = subprocess.run(
        [sys.executable, "-m", "sim.cli", "experiment", str(tmp_path / "f.toml"), "--set",
         "relationship.win_weight=0", "--set", "relationship.nope=1", "--out", str(tmp_path / "no")],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert r.returncode == 2 and r.stderr.splitlines() == [
        "error: --set relationship.win_weight: factor notice sets it at every design point "
        "(scenario.relationship.win_weight): vary it there, or drop the factor",
        "error: --set: relationship.nope: names no field of the scenario (did you mean 'relationship.win_weight'?)",
    ], r.stderr
    assert not (tmp_path / "no").exists()


def test_a_metric_named_with_its_words_in_another_order_is_offered_the_metric():
    # A policy author's --metric specialist_utilisation, as the run table's label reads, got no suggestion.
    from sim.experiment.spec import metric_faults

    assert metric_faults(["specialist_utilisation", "profit"]) == [
        (
            0,
            "unknown metric 'specialist_utilisation' (did you mean 'utilisation_specialist'?) (docs/metrics.md "
            "lists every metric)",
        )
    ]
