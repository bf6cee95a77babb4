"""The Python API's entry points refuse arguments of the wrong kind with an InputError naming each, not a
traceback from inside the engine (a researcher's trial of the API)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.errors import InputError
from sim.metrics import run_totals
from sim.policies import make_policy
from sim.policies.segment_tiers import SegmentTiers
from sim.run import run
from sim.scenario import load_scenario
from tests.conftest import SMALL


def refused(*args, **kwargs) -> list[str]:
    with pytest.raises(InputError) as e:
        run(*args, **kwargs)
    return e.value.problems


def test_run_names_each_argument_of_the_wrong_kind() -> None:
    small = load_scenario(SMALL)
    scenario, policy, seed = refused(str(SMALL), "segment_tiers", -1)
    assert scenario.startswith(
        "run: scenario: a Scenario is needed (sim.scenario.load_scenario(path) reads one from a file), not str '"
    )
    assert policy == (
        "run: policy: a policy object is needed (sim.policies.make_policy(name, params) builds one), not str "
        "'segment_tiers'"
    )
    assert seed == "run: seed: a whole number from 0 to 2**63 - 1 (or None: the scenario's), not int -1"
    assert refused(small, SegmentTiers) == [
        "run: policy: a policy object is needed, not the class SegmentTiers (build one: SegmentTiers(), or "
        "sim.policies.make_policy(name, params))"
    ]
    for seed, shown in ((1.5, "float 1.5"), (True, "bool True"), (2**70, f"int {2**70}")):
        assert refused(small, None, seed) == [
            f"run: seed: a whole number from 0 to 2**63 - 1 (or None: the scenario's), not {shown}"
        ]


def test_run_takes_numpy_integer_seeds_and_none_for_the_scenario_s() -> None:
    small = load_scenario(SMALL)
    assert run(small, None, np.int64(3), quarters=1).metrics.equals(run(small, None, 3, quarters=1).metrics)
    assert run(small, None, None, quarters=1).seed == small.seed


def test_every_table_of_a_run_names_its_policy_and_seed() -> None:
    # The Lorenz table had none: a researcher's curves of two runs put together could not be told apart.
    scenario = load_scenario(SMALL)
    tables = [
        run(scenario, make_policy(name), seed=seed, quarters=1) for name, seed in (("unstructured", 3), ("pooled", 4))
    ]
    lorenz = pd.concat([t.lorenz for t in tables])
    assert list(lorenz.columns[:2]) == ["policy", "seed"]
    per_run = 27 * (len(scenario.segment_names) + 1)  # the recorder's 27 shares, per segment and for all
    assert lorenz.groupby(["policy", "seed"]).size().to_dict() == {("pooled", 4): per_run, ("unstructured", 3): per_run}
    for t in tables:
        for frame in (t.metrics, t.weekly, t.seats, t.lorenz):
            assert set(zip(frame.policy, frame.seed, strict=True)) == {(t.policy, t.seed)}


def test_make_policy_names_a_name_or_params_of_the_wrong_kind() -> None:
    with pytest.raises(InputError) as e:
        make_policy(3)  # type: ignore[arg-type]
    assert e.value.problems == ["policy: a policy's name is needed (a built-in's, or module:Class), not 3"]
    with pytest.raises(InputError) as e:
        make_policy("segment_tiers", [("accounts_per_rep", 40)])  # type: ignore[arg-type]
    assert e.value.problems == [
        "policy.params: a mapping of parameter names to values is needed (a dict), not [('accounts_per_rep', 40)]"
    ]


def test_run_totals_names_the_columns_a_table_lacks() -> None:
    with pytest.raises(InputError) as e:
        run_totals(pd.DataFrame({"policy": ["p"], "seed": [1], "segment": ["all"], "value": [1.0]}))
    assert e.value.problems == [
        "run_totals: metrics has no column 'metric' (a tidy table as RunResult.metrics is needed)",
        "run_totals: metrics has no column 'quarter' (a tidy table as RunResult.metrics is needed)",
    ]


def test_the_notebook_api_refuses_what_it_had_ignored_or_failed_on_unsaid(tmp_path) -> None:
    # A newcomer's notebook: each of these had given the scenario back unchanged, an empty frame, a bare KeyError
    # or TypeError, or a message with nothing to do.
    from sim.experiment.batch import execute_batch, open_batch
    from sim.experiment.comparison import comparison
    from sim.experiment.stats import run_values
    from sim.policies.contract import check_policy

    small = load_scenario(SMALL)
    with pytest.raises(InputError) as e:
        small.with_overrides({"quarters": 3})  # type: ignore[arg-type]
    assert e.value.problems == [
        "with_overrides: the first argument names where the variant's errors are said (a string, not its name), not {'quarters': 3}: give the changes as "
        'keywords, with_overrides("label", **{"quarters": 3})'
    ]
    with pytest.raises(InputError) as e:  # its quarters had been recorded and the scenario's run
        open_batch(comparison(small, "s", ["pooled"], replications=1, quarters=1), small, None)
    assert e.value.problems == [
        "open_batch: the experiment asks for 1 quarter and the scenario runs 4: give it "
        "sim.experiment.spec.resolve_base(experiment, scenario), which sets them"
    ]
    exp = comparison(small.with_overrides("short", quarters=1), "s", ["pooled"], replications=1)
    batch = open_batch(exp, small.with_overrides("short", quarters=1), str(tmp_path / "out"))  # a str folder
    try:
        with pytest.raises(InputError) as e:
            execute_batch(batch, "thread")  # type: ignore[arg-type]
        assert e.value.problems == ["executor: 'thread' is none of serial, processes, dask"]
        assert execute_batch(batch, "serial").failed == 0
        results = batch.store.results()
    finally:
        batch.store.close()
    assert (tmp_path / "out").is_dir()
    with pytest.raises(InputError) as e:
        run_values(results, ["proft", "profit"])
    assert e.value.problems == ["metrics: unknown metric 'proft' (did you mean 'profit'?)"]
    assert run_values(results, ["profit"]).shape[0] == 1
    # A misspelt segment, as a misspelt metric: said, not an empty frame (a researcher's next line failed on it).
    with pytest.raises(InputError) as e:
        run_values(results, ["revenue_captured"], segment="enterprize")
    assert e.value.problems == ["segment: no segment 'enterprize' in these results (did you mean 'enterprise'?)"]
    assert run_values(results, ["revenue_captured"], segment="enterprise").shape[0] == 1
    assert check_policy(make_policy("pooled")) == [
        "given a Pooled object: give the class, Pooled, or a factory such as lambda: Pooled(...), as each run needs "
        "a fresh policy"
    ]


def test_a_policys_notes_that_are_no_list_of_strings_are_refused_before_any_run() -> None:
    # A string returned had been printed a character a line under the policy's results.
    from sim.policies import policy_notes
    from sim.policies.pooled import Pooled

    class Noted(Pooled):
        def notes(self, scenario):  # type: ignore[no-untyped-def]
            return "one line"

    with pytest.raises(InputError) as e:
        policy_notes(Noted(), load_scenario(SMALL))
    assert e.value.problems == ["policy Noted: notes() must return a list of strings, not 'one line'"]
    assert policy_notes(make_policy("hunter_farmer"), load_scenario(SMALL)) == [
        "hunter_share 0.333333: 1 of the 2 field closing seats hunt, 1 farm"
    ]


def test_the_statistics_api_refuses_a_misspelt_baseline_and_frames_of_another_kind(tmp_path) -> None:
    # A data scientist's notebook: a misspelt baseline gave an empty frame (read as no differences), a str of
    # metrics six "unknown metric 'p'" lines, a run's metrics table a message naming another function, a path for
    # a Scenario an AttributeError, and parameters keyed by a policy's label were dropped unsaid.
    from sim.experiment.batch import execute_batch, open_batch
    from sim.experiment.comparison import comparison
    from sim.experiment.stats import describe, paired_differences, run_values

    small = load_scenario(SMALL).with_overrides("short", quarters=1)
    with pytest.raises(InputError) as e:
        comparison(str(SMALL), "s", ["pooled"], replications=2)  # type: ignore[arg-type]
    assert e.value.problems == [
        "comparison: scenario: a Scenario is needed (sim.scenario.load_scenario(path) reads one from a file), not "
        f"str '{SMALL}'"
    ]
    with pytest.raises(InputError) as e:
        comparison(small, "s", "pooled", replications=2)
    assert e.value.problems == ["comparison: policies: a list of names is needed, not the str 'pooled'"]
    with pytest.raises(InputError) as e:
        comparison(small, "s", ["pooled", "segment_tiers"], replications=2, params={"segment_tier": {"cadence_a": 2}})
    assert e.value.problems == [
        "comparison: params: 'segment_tier' is no policy compared (key each by its name or label: pooled, "
        "segment_tiers)"
    ]
    with pytest.raises(InputError) as e:  # one user policy's name and label both: one would be dropped
        comparison(small, "s", ["tests.failing_policy:SometimesFails"], replications=2, params={
            "tests.failing_policy:SometimesFails": {}, "sometimes_fails": {}})  # fmt: skip
    assert e.value.problems == [
        "comparison: params: 'tests.failing_policy:SometimesFails' and 'sometimes_fails' name one policy: give one"
    ]
    with pytest.raises(InputError) as e:
        comparison(small, "s", ["pooled"], replications="3")  # type: ignore[arg-type]
    assert e.value.problems == ["comparison: replications: Input should be a valid integer, not '3'"]
    exp = comparison(
        small, "s", ["pooled", "segment_tiers"], replications=3, params={"segment_tiers": {"cadence_a": 2}}
    )
    assert [dict(p.params) for p in exp.policies] == [{}, {"cadence_a": 2}]
    batch = open_batch(exp, small, None)
    # Shown in a notebook's cell: what it is, not every run's whole scenario (tens of kB).
    assert repr(batch) == f"Batch('compare-{small.name}': 6 cells, 6 distinct runs, store in memory)"
    execute_batch(batch, "serial")
    results = batch.store.results()
    batch.store.close()
    values = run_values(results, ["profit"])
    with pytest.raises(InputError) as e:
        paired_differences(values, "pooledd")
    assert e.value.problems == [
        "paired_differences: baseline 'pooledd' is no policy of these values (did you mean 'pooled'?) (theirs: "
        "pooled, segment_tiers)"
    ]
    with pytest.raises(InputError) as e:
        paired_differences(results, "pooled")  # the tidy results, not their run values
    assert e.value.problems == [
        "paired_differences: values holds more than one value per point, policy, replication and metric: "
        "run_values(results, metrics) gives them, from a batch's results"
    ]
    with pytest.raises(InputError) as e:
        paired_differences(values.drop(columns="replication"), "pooled")
    assert e.value.problems[0].startswith("paired_differences: values has no column 'replication': run_values")
    assert list(paired_differences(values, "pooled").policy) == ["segment_tiers"]
    with pytest.raises(InputError) as e:
        paired_differences(values, ["pooled"])  # type: ignore[arg-type]
    assert e.value.problems == ["paired_differences: baseline: one policy's name is needed, not list ['pooled']"]
    with pytest.raises(InputError) as e:  # read as 24 replications of a quarter's value, plausible and wrong
        describe(results)
    assert e.value.problems == [
        "describe: values holds more than one value per point, policy, replication and metric: "
        "run_values(results, metrics) gives them, from a batch's results"
    ]
    described = describe(values, bootstrap=False)
    assert list(described.n) == [3, 3]
    assert described["mean"].tolist() == pytest.approx(values.groupby("policy")["value"].mean().tolist(), rel=1e-12)
    with pytest.raises(InputError) as e:
        run_values(results, "profit")  # type: ignore[arg-type]
    assert e.value.problems == ["metrics: a list of metric names is needed, not the str 'profit' (write ['profit'])"]
    one = run(small, make_policy("pooled"), seed=1).metrics
    with pytest.raises(InputError) as e:
        run_values(one, ["profit"])
    assert e.value.problems[0].startswith("run_values: results has no column 'point': a batch's results are needed")


def test_a_batch_with_failed_runs_warns_in_the_python_api() -> None:
    # A notebook that did not print the outcome read an empty table of differences, its runs having failed unsaid.
    from sim.errors import FailedRuns
    from sim.experiment.batch import execute_batch, open_batch
    from sim.experiment.comparison import comparison

    small = load_scenario(SMALL).with_overrides("short", quarters=1)
    exp = comparison(small, "s", ["unstructured", "tests.failing_policy:SometimesFails"], replications=4)
    batch = open_batch(exp, small, None)
    try:
        with pytest.warns(FailedRuns, match=r"^\d of 8 runs failed, and their cells have no result \(the first: "):
            outcome = execute_batch(batch, "serial")
    finally:
        batch.store.close()
    assert 0 < outcome.failed < 4 and "planning failed on purpose" in outcome.errors[0][1]
