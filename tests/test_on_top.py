"""What a stress's other shocks add on top of its rollout: the stress against its rollout plan alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner
from scipy import stats

from sim.cli import main
from sim.config import validate_strict
from sim.experiment.on_top import plans_beneath
from sim.experiment.report.on_top import on_top_section
from sim.experiment.report.stress_answer import stress_answer
from sim.experiment.suite import SuiteFile
from tests.conftest import SMALL
from tests.test_stress import _synthetic_findings

ROLLOUT = {"kind": "rollout", "quarter": 1, "current": {"name": "random_books"}}
QUITS = {"kind": "rep_attrition", "quarter": 1, "share": 0.15}
NOISE = (0.0, 0.4, -0.3, 0.1)


def _suite(shocks: dict[str, list[dict]]) -> tuple:
    listed = [{"name": n, "shocks": s} for n, s in shocks.items()]
    return validate_strict(SuiteFile, {"stress": listed}, "t").stress


def test_a_stress_is_set_on_the_plan_of_exactly_its_rollout() -> None:
    # A rollout from another model in force, or over other quarters, is another plan: no plan beneath.
    suite = _suite(
        {
            "big_bang": [ROLLOUT],
            "phased": [{**ROLLOUT, "quarters": 3}],
            "big_bang_quits": [QUITS, ROLLOUT],
            "phased_quits": [{**ROLLOUT, "quarters": 3}, QUITS],
            "from_unstructured_quits": [{**ROLLOUT, "current": {"name": "unstructured"}}, QUITS],
            "quits": [QUITS],
        }
    )
    assert plans_beneath(suite) == {"big_bang_quits": "big_bang", "phased_quits": "phased"}
    # A model in force named with a parameter at its default is the same model; one set otherwise is not.
    at_default = {**ROLLOUT, "current": {"name": "random_books", "params": {"accounts_per_rep": 60}}}
    other = {**ROLLOUT, "current": {"name": "random_books", "params": {"accounts_per_rep": 80}}}
    suite = _suite({"big_bang": [ROLLOUT], "at_default": [at_default, QUITS], "other": [other, QUITS]})
    assert plans_beneath(suite) == {"at_default": "big_bang"}


def _profit(shock: str, policy: str, rep: int) -> float:
    # On top of big_bang the quits cost a 2,000 + noise (mean 2,050), b 500 in every replication: no test.
    lost = {"none": 0.0, "big_bang": -5.0, "big_bang_quits": -7.0 - NOISE[rep], "quits": -3.0}
    if policy == "b" and shock == "big_bang_quits":
        lost[shock] = -5.5
    return 1000.0 * (100.0 + rep + lost[shock] + (policy == "b") * rep)


def test_what_the_other_shocks_add_is_the_paired_difference_from_the_plan_alone() -> None:
    f = _synthetic_findings({"big_bang": ROLLOUT, "big_bang_quits": [ROLLOUT, QUITS], "quits": QUITS}, _profit)
    added = f.added.set_index("policy")
    assert list(added.shock) == ["big_bang_quits"] * 2 and set(added.plan) == {"big_bang"}
    d = -1000.0 * (2.0 + np.array(NOISE))
    half = stats.t.ppf(0.975, 3) * d.std(ddof=1) / 2
    a = added.loc["a"]
    assert a["n"] == 4 and not a["constant"] and a["first"] == 1
    assert np.isclose(a["diff"], d.mean()) and np.isclose(a["low"], d.mean() - half)
    assert np.isclose(a["high"], d.mean() + half)
    assert np.isclose(a["plan_mean"], np.mean([95_000.0 + 1000 * r for r in range(4)]))
    assert np.isclose(a["relative"], d.mean() / a["plan_mean"])
    b = added.loc["b"]  # the same -0.5 in every replication: no test, no interval
    assert b["constant"] and b["diff"] == -500 and np.isnan(b["low"])

    answer = stress_answer(f, ["a", "b"], markdown=False)
    assert (
        "On top of rolling out as big_bang, the other shocks of big_bang_quits (rep attrition) change profit, "
        "against big_bang alone on the same seeds from quarter 1 on, by: a -2.0k [-2.5k, -1.6k], a clear loss "
        "(-3.0k on their own, as quits); b -500, the same in every one of the 4 paired replications, no test "
        "(-3.0k on their own, as quits) (each on its own 95% interval)."
    ) in answer
    table = "\n".join(on_top_section(f, ["b", "a"]))
    assert "| `big_bang_quits` | `big_bang` | b | -500 | - | -0.5% | 4 |" in table
    assert table.index("| b |") < table.index("| a |")  # in the policies' order


def test_the_model_in_force_has_no_row_and_shocks_that_changed_nothing_are_said_so() -> None:
    # A VP's answer had said what quits add "on top of rolling out" for the model that stays, and "0, identical"
    # where 20% of a two-seat role rounded to no seat.
    def profit(shock: str, policy: str, rep: int) -> float:
        rolled = policy == "b" and shock.startswith("big_bang")  # a is the model in force: nothing rolls out for it
        return 1000.0 * (100.0 + rep - 5.0 * rolled + NOISE[rep])

    f = _synthetic_findings({"big_bang": ROLLOUT, "big_bang_quits": [ROLLOUT, QUITS]}, profit)
    assert f.in_force == ["a"] and set(f.added.policy) == {"a", "b"}
    answer = stress_answer(f, ["a", "b"], markdown=False)
    assert "by: b 0, the other shocks changed nothing in any run." in answer and "by: a" not in answer
    assert "| a |" not in "\n".join(on_top_section(f, ["a", "b"]))


def test_the_stress_that_hurts_most_is_not_a_rollout_plan() -> None:
    # A VP's one-policy suite opened "The stress that hurts most is phased": a plan's impact is against having had
    # the policy from the first quarter, which no rollout can have.
    def profit(shock: str, policy: str, rep: int) -> float:
        return 1000.0 * (100.0 + rep + {"none": 0.0, "big_bang": -9.0, "quits": -2.0}[shock] - NOISE[rep])

    f = _synthetic_findings({"big_bang": ROLLOUT, "quits": QUITS}, profit, policies=("b",))
    assert "The stress that hurts most is quits (profit -2.0% for b)" in stress_answer(f, ["b"], markdown=False)
    plans_only = _synthetic_findings({"big_bang": ROLLOUT}, profit, policies=("b",))
    assert "hurts most" not in stress_answer(plans_only, ["b"], markdown=False)


def test_a_stress_with_no_plan_alone_in_the_suite_adds_no_sentence_or_table() -> None:
    f = _synthetic_findings({"big_bang_quits": [ROLLOUT, QUITS], "quits": QUITS}, _profit)
    assert f.added.empty and on_top_section(f, ["a", "b"]) == []
    assert "On top of" not in stress_answer(f, ["a", "b"], markdown=False)


SUITE = """
[[stress]]
name = "big_bang"
shocks = [{ kind = "rollout", quarter = 2 }]

[[stress]]
name = "big_bang_plus_quits"
shocks = [
    { kind = "rollout", quarter = 2 },
    { kind = "rep_attrition", quarter = 3, share = 0.4 },
]
"""


def test_the_stress_command_reports_what_quits_add_on_top_of_a_rollout(tmp_path: Path) -> None:
    (tmp_path / "suite.toml").write_text(SUITE)
    args = ["stress", str(SMALL), "--policy", "segment_tiers", "--suite", str(tmp_path / "suite.toml")]
    args += ["--replications", "3", "--quarters", "3", "--executor", "serial", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "On top of rolling out as big_bang, the other shocks of big_bang_plus_quits (rep attrition)" in result.output
    # The figure is the stored runs' profit from the rollout's quarter on (the first a shock acts in), paired.
    runs = pd.read_csv(tmp_path / "out" / "results.csv")
    runs = runs[(runs.segment == "all") & (runs.metric == "profit") & (runs.quarter >= 2)]
    by = runs.pivot_table(index="replication", columns="shock", values="value", aggfunc="sum")
    d = (by["big_bang_plus_quits"] - by["big_bang"]).to_numpy()
    report = (tmp_path / "out" / "report.md").read_text()
    row = next(line for line in report.splitlines() if line.startswith("| `big_bang_plus_quits` | `big_bang` |"))
    from sim.format import difference

    assert f"| segment_tiers | {difference('profit', d.mean())} |" in row and row.endswith(" | 3 |")
