"""The experiment report: exports, figures and report.md built from a real (small) stored experiment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.experiment.batch import Batch, execute_batch, open_batch
from sim.experiment.report import write_report
from sim.experiment.spec import Design, Experiment, Factor, PolicyEntry, resolve_base
from sim.experiment.stats import sobol_indices
from sim.scenario import load_scenario
from tests.conftest import SMALL

PNG = b"\x89PNG\r\n\x1a\n"
POLICIES = ("unstructured", "segment_tiers", "hunter_farmer")
METRICS = ("revenue_captured", "opps_missed", "miss_rate", "utilisation")


def experiment(**changes: Any) -> Experiment:
    data: dict[str, Any] = {
        "name": "report-test",
        "description": "A small experiment for the report tests.",
        "scenario": "scenarios/small.toml",
        "seed": 3,
        "replications": 3,
        "quarters": 1,
        "policies": tuple(PolicyEntry(name=p) for p in POLICIES),
        "metrics": METRICS,
    }
    data.update(changes)
    return Experiment(**data)


def batch(exp: Experiment, out: Path) -> Batch:
    return open_batch(exp, resolve_base(exp, load_scenario(SMALL)), out)


def run(exp: Experiment, out: Path) -> Path:
    b = batch(exp, out)
    try:
        outcome = execute_batch(b, executor="serial")
        assert outcome.failed == 0
        return write_report(b.store, out)
    finally:
        b.store.close()


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compare")
    report = run(experiment(baseline="segment_tiers"), out)
    assert report == out / "report.md"
    return out


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


def test_report_names_policies_metrics_and_baseline(compared: Path) -> None:
    text = (compared / "report.md").read_text()
    assert text.startswith("# report-test")
    assert "A small experiment for the report tests." in text
    for policy in POLICIES:
        assert policy in text
    for metric in METRICS:
        assert f"`{metric}`" in text
    assert "baseline `segment_tiers`" in text
    assert "9 runs done, 0 failed, 0 pending" in text
    # paired comparisons against the named baseline, with the family stated
    assert "unstructured - segment_tiers" in text
    assert "hunter_farmer - segment_tiers" in text
    assert "Family: 8 comparisons (2 policies x 4 metrics" in text
    assert "## Definitions and methods" in text and "docs/metrics.md" in text and "docs/experiments.md" in text
    assert "## Reproducibility" in text and "Config hash" in text


def test_policy_order_is_the_experiments(compared: Path) -> None:
    text = (compared / "report.md").read_text()
    means = text[text.index("## Means") : text.index("## Paired")]
    rows = [line for line in means.splitlines() if line.startswith("| `revenue_captured`")]
    assert [r.split("|")[2].strip() for r in rows] == list(POLICIES)


def test_means_table_matches_the_store(compared: Path) -> None:
    results = read_csv(compared / "results.csv")
    r = results[(results.segment == "all") & (results.metric == "opps_missed")]
    means = r.groupby("policy")["value"].sum() / 3  # a flow: the run total is the sum over quarters
    text = (compared / "report.md").read_text()
    for policy, mean in means.items():
        assert f"| `opps_missed` | {policy} | 3 | {mean:,.0f} |" in text


def test_parquet_equals_csv(compared: Path) -> None:
    csv = read_csv(compared / "results.csv")
    parquet = pd.read_parquet(compared / "results.parquet")
    assert len(csv) > 0
    assert list(csv.columns) == list(parquet.columns)
    assert list(csv.columns[:3]) == ["point", "block", "row"]
    pd.testing.assert_frame_equal(csv, parquet, check_dtype=False)
    assert set(csv.policy) == set(POLICIES)
    assert sorted(csv.replication.unique()) == [0, 1, 2]


def test_figures_are_pngs_and_embedded(compared: Path) -> None:
    text = (compared / "report.md").read_text()
    names = ["policy_comparison", "missed_by_cause", "lorenz_attention", "weekly_series"]
    for name in names:
        path = compared / "figures" / f"{name}.png"
        assert path.read_bytes()[:8] == PNG
        assert f"](figures/{name}.png)" in text
    assert not list((compared / "figures").glob(".*"))  # no temporary left behind


def test_torn_and_leftover_files_do_not_break_the_report(tmp_path: Path) -> None:
    exp = experiment(policies=(PolicyEntry(name="unstructured"), PolicyEntry(name="segment_tiers")))
    b = batch(exp, tmp_path)
    try:
        execute_batch(b, executor="serial")
        leftover = tmp_path / ".results.csv.xyz.csv"
        leftover.write_text("point,policy\n0,half-writ")
        (tmp_path / "results.csv").write_text("point,policy,replication,se")  # torn
        (tmp_path / "results.parquet").write_bytes(b"PAR1 torn")
        write_report(b.store, tmp_path)
        expected = b.store.results()
    finally:
        b.store.close()
    csv = read_csv(tmp_path / "results.csv")
    assert len(csv) == len(expected)
    assert np.allclose(csv["value"].to_numpy(), expected["value"].to_numpy(), equal_nan=True)
    assert (csv["metric"].to_numpy() == expected["metric"].to_numpy()).all()
    pd.testing.assert_frame_equal(csv, pd.read_parquet(tmp_path / "results.parquet"), check_dtype=False)
    assert not leftover.exists()
    assert "6 runs done" in (tmp_path / "report.md").read_text()


def test_no_finished_runs(tmp_path: Path) -> None:
    b = batch(experiment(), tmp_path)
    try:
        report = write_report(b.store, tmp_path)
    finally:
        b.store.close()
    text = report.read_text()
    assert "No finished runs yet" in text
    assert "0 runs done, 0 failed, 9 pending" in text
    csv = read_csv(tmp_path / "results.csv")
    assert csv.empty and "value" in csv.columns
    assert pd.read_parquet(tmp_path / "results.parquet").empty
    assert not (tmp_path / "figures" / "policy_comparison.png").exists()


def test_fresh_store_drops_the_old_figures(tmp_path: Path) -> None:
    run(experiment(replications=1), tmp_path)
    assert (tmp_path / "figures" / "policy_comparison.png").exists()
    b = open_batch(experiment(replications=1), resolve_base(experiment(), load_scenario(SMALL)), tmp_path, fresh=True)
    try:
        text = write_report(b.store, tmp_path).read_text()
    finally:
        b.store.close()
    assert "No finished runs yet" in text
    assert not list((tmp_path / "figures").glob("*.png"))


def test_single_replication_shows_no_intervals(tmp_path: Path) -> None:
    text = run(experiment(replications=1), tmp_path).read_text()
    assert "| `revenue_captured` | unstructured | 1 |" in text
    row = next(line for line in text.splitlines() if line.startswith("| `revenue_captured` | unstructured | 1 |"))
    assert row.rstrip().endswith("| - | - |")
    assert (tmp_path / "figures" / "policy_comparison.png").read_bytes()[:8] == PNG


def test_single_policy_and_metrics_with_no_value(tmp_path: Path) -> None:
    # unstructured promises no touch: promised_untouched_share is NaN in every run; a team without partners records no utilisation_partner
    exp = experiment(
        policies=(PolicyEntry(name="unstructured", label="free", params={"pickup": 0.4}),),
        metrics=("revenue_captured", "promised_untouched_share", "utilisation_partner"),
    )
    text = run(exp, tmp_path).read_text()
    assert "`free` (policy `unstructured`): pickup = 0.4" in text
    assert "| `promised_untouched_share` | free | 0 | - | - | - |" in text
    assert "| `utilisation_partner` | (no values recorded) | 0 | - | - | - |" in text
    assert "One policy only" in text
    assert (tmp_path / "figures" / "policy_comparison.png").read_bytes()[:8] == PNG


def test_failed_run_is_reported_with_its_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.experiment.worker as worker

    real = worker.run

    def flaky(scenario: Any, policy: Any, seed: int) -> Any:
        if type(policy).__name__.lower().startswith("hunter"):
            raise RuntimeError("boom in the hunter-farmer policy")
        return real(scenario, policy, seed)

    monkeypatch.setattr(worker, "run", flaky)
    b = batch(experiment(), tmp_path)
    try:
        outcome = execute_batch(b, executor="serial")
        report = write_report(b.store, tmp_path)
    finally:
        b.store.close()
    assert outcome.failed == 3
    text = report.read_text()
    assert "6 runs done, 3 failed, 0 pending" in text
    assert text.count("RuntimeError: boom in the hunter-farmer policy") == 3
    assert "unstructured - segment_tiers" not in text  # the baseline is unstructured
    assert "segment_tiers - unstructured" in text


def test_grid_factor(tmp_path: Path) -> None:
    exp = experiment(
        policies=(PolicyEntry(name="unstructured"), PolicyEntry(name="segment_tiers")),
        factors=(Factor(name="pickup", target="policy.pickup", values=(0.3, 0.7)),),
    )
    text = run(exp, tmp_path).read_text()
    assert "### Design point 0: pickup = 0.3" in text
    assert "### Design point 1: pickup = 0.7" in text
    assert "`pickup`: set `policy.pickup` to 0.3, 0.7" in text
    assert (tmp_path / "figures" / "response_pickup.png").read_bytes()[:8] == PNG
    assert "](figures/response_pickup.png)" in text
    assert "## Stress-test regret" in text
    csv = read_csv(tmp_path / "results.csv")
    assert sorted(csv.pickup.unique()) == [0.3, 0.7]
    assert set(csv.groupby("point").pickup.first()) == {0.3, 0.7}
    # segment_tiers has no pickup: both points share its runs, so its results are equal
    tiers = csv[(csv.policy == "segment_tiers") & (csv.segment == "all")]
    a, b = (g.sort_values(["replication", "metric"])["value"].to_numpy() for _, g in tiers.groupby("point"))
    assert np.array_equal(a, b, equal_nan=True)
    pd.testing.assert_frame_equal(csv, pd.read_parquet(tmp_path / "results.parquet"), check_dtype=False)


SOBOL = {
    "policies": (PolicyEntry(name="unstructured"),),
    "factors": (
        Factor(name="customers", target="scenario.population.customers", low=300, high=800, integer=True),
        Factor(name="pickup", target="policy.pickup", low=0.2, high=0.8),
    ),
    "design": Design(kind="sobol", samples=4),
}


@pytest.fixture(scope="module")
def sobol(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sobol")
    run(experiment(**SOBOL), out)
    return out


def test_sobol_design(sobol: Path) -> None:
    text = (sobol / "report.md").read_text()
    assert "One policy only" in text
    assert "- **Design:** sobol, base sample 4" in text
    assert "`customers`: set `scenario.population.customers` to [300, 800], rounded to whole numbers" in text
    assert "## Sensitivity" in text
    for factor in ("customers", "pickup"):
        assert (sobol / "figures" / f"response_{factor}.png").read_bytes()[:8] == PNG
    csv = read_csv(sobol / "results.csv")
    assert csv.point.nunique() == 16  # N x (factors + 2)
    assert set(csv.block) == {"A", "B", "AB0", "AB1"}
    assert csv.customers.between(300, 800).all()
    assert (csv.customers == csv.customers.round()).all()
    pd.testing.assert_frame_equal(csv, pd.read_parquet(sobol / "results.parquet"), check_dtype=False)


def test_sobol_indices(sobol: Path) -> None:
    text = (sobol / "report.md").read_text()
    assert "could not be computed" not in text
    assert "| unstructured | `revenue_captured` | customers |" in text
    assert (sobol / "figures" / "sobol_indices.png").read_bytes()[:8] == PNG
    assert "](figures/sobol_indices.png)" in text


def test_sobol_intervals_are_reproducible_and_bracket_the_estimate():
    # A known model: y = 4 x0 + x1 on a Saltelli design; x0 explains most of the variance.
    rng = np.random.default_rng(0)
    n, factors = 64, ["x0", "x1"]
    a, b = rng.random((n, 2)), rng.random((n, 2))
    blocks = {"A": a, "B": b}
    for i in range(2):
        ab = a.copy()
        ab[:, i] = b[:, i]
        blocks[f"AB{i}"] = ab
    points, values = [], []
    for block, x in blocks.items():
        for row in range(n):
            point = len(points)
            points.append({"point": point, "block": block, "row": row})
            values.append({"point": point, "policy": "p", "metric": "m", "value": 4 * x[row, 0] + x[row, 1]})
    frames = pd.DataFrame(values), pd.DataFrame(points)
    first = sobol_indices(*frames, factors, seed=5)
    again = sobol_indices(*frames, factors, seed=5)
    pd.testing.assert_frame_equal(first, again)
    x0 = first.set_index("factor").loc["x0"]
    assert x0.first_low <= x0.first_order <= x0.first_high
    assert x0.first_order > 0.8 and first.set_index("factor").loc["x1"].first_order < 0.2
