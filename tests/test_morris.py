"""Morris elementary-effects screening: trajectories, effects on known functions, experiment files, the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.errors import InputError
from sim.experiment import morris
from sim.experiment.batch import execute_batch, open_batch
from sim.experiment.design import design_points
from sim.experiment.report import write_report
from sim.experiment.spec import Design, Experiment, Factor, PolicyEntry, parse_experiment
from tests.conftest import batch_into, tiny, tiny_two_factor_experiment


def steps(levels: np.ndarray) -> np.ndarray:
    """Differences between consecutive points of each trajectory, shape (r, k, k)."""
    return np.diff(levels, axis=1)


@pytest.mark.parametrize(("k", "r", "p"), [(1, 2, 2), (3, 20, 4), (10, 9, 4), (5, 50, 8)])
def test_trajectories_move_one_factor_by_delta_on_the_grid(k: int, r: int, p: int) -> None:
    levels = morris.trajectory_levels(k, r, p, seed=7)
    unit = morris.trajectories(k, r, p, seed=7)
    assert levels.shape == unit.shape == (r, k + 1, k)  # k + 1 points per trajectory
    # On the grid: levels 0..p-1, unit values l / (p - 1) in [0, 1].
    assert levels.min() >= 0 and levels.max() <= p - 1
    assert np.array_equal(unit, levels / (p - 1))
    assert unit.min() >= 0.0 and unit.max() <= 1.0
    d = steps(levels)
    # Each step moves exactly one factor, by exactly p/2 levels (Delta = p / (2 (p - 1)) in the unit cube) ...
    assert ((d != 0).sum(axis=2) == 1).all()
    assert set(np.abs(d[d != 0]).tolist()) == {p // 2}
    moved = np.abs(np.diff(unit, axis=1)).max(axis=2)
    assert np.allclose(moved, morris.delta(p), rtol=0, atol=1e-15)
    # ... and every factor moves once per trajectory.
    assert ((d != 0).sum(axis=1) == 1).all()


def test_delta() -> None:
    assert morris.delta(2) == 1.0
    assert morris.delta(4) == pytest.approx(2 / 3, abs=1e-16)
    assert morris.delta(6) == pytest.approx(0.6, abs=1e-16)
    with pytest.raises(ValueError):
        morris.delta(3)  # an odd p would step off the grid


def test_trajectories_come_from_the_seed_alone() -> None:
    np.random.seed(1)
    first = morris.trajectory_levels(4, 10, 4, seed=123)
    np.random.seed(2)  # the global state plays no part
    assert np.array_equal(first, morris.trajectory_levels(4, 10, 4, seed=123))
    assert not np.array_equal(first, morris.trajectory_levels(4, 10, 4, seed=124))


def test_no_two_trajectories_are_the_same() -> None:
    # Seed 5 drew trajectory 2 equal to trajectory 0 (3 factors, 4 levels: 384 different ones): it is redrawn.
    levels = morris.trajectory_levels(3, 4, 4, seed=5)
    assert len({t.tobytes() for t in levels}) == 4
    assert morris.distinct_trajectories(3, 4) == 4**3 * 6
    # A grid with fewer different trajectories than asked for is refused, and every one of them can be drawn.
    assert len({t.tobytes() for t in morris.trajectory_levels(1, 2, 2, seed=0)}) == 2
    with pytest.raises(ValueError, match="3 trajectories, but a 2-level grid of 1 factors has only 2 different"):
        morris.trajectory_levels(1, 3, 2, seed=0)


def test_starts_cover_the_grid_and_both_directions() -> None:
    levels = morris.trajectory_levels(2, 32, 4, seed=1)  # every one of the 32 different trajectories
    assert set(levels[:, 0, :].ravel().tolist()) == {0, 1, 2, 3}  # every level is a start
    d = steps(levels)
    assert (d > 0).any() and (d < 0).any()  # up from levels 0 and 1, down from 2 and 3


def known(unit: np.ndarray) -> np.ndarray:
    """y = 3 x1 + 0 x2 + x3^2 at every point of the trajectories."""
    return 3 * unit[..., 0] + 0 * unit[..., 1] + unit[..., 2] ** 2


def test_elementary_effects_of_a_known_function() -> None:
    p, r = 4, 40
    unit = morris.trajectories(3, r, p, seed=11)
    effects = morris.elementary_effects(unit, known(unit), p)
    assert effects.shape == (r, 3)
    stats = morris.summarise(effects)
    # x1 enters linearly with slope 3: every effect is 3.
    assert stats["mu_star"][0] == pytest.approx(3.0, abs=1e-12)
    assert stats["mu"][0] == pytest.approx(3.0, abs=1e-12)
    assert stats["sigma"][0] == pytest.approx(0.0, abs=1e-12)
    # x2 does not enter: every effect is exactly 0.
    assert np.all(effects[:, 1] == 0.0)
    assert stats["mu_star"][1] == 0.0 and stats["sigma"][1] == 0.0
    # x3^2 from the lower level a of a step: ((a + Delta)^2 - a^2) / Delta = 2a + Delta, a in {0, 1/3}:
    # an effect of 2/3 or 4/3, and mu* the mean of 2a + Delta over the trajectories.
    delta = 2 / 3
    lower = np.array(
        [min(u[j, 2], u[j + 1, 2]) for u in unit for j in range(3) if u[j, 2] != u[j + 1, 2]]
    )  # one step of x3 per trajectory, in trajectory order
    assert lower.shape == (r,)
    assert np.allclose(effects[:, 2], 2 * lower + delta, rtol=0, atol=1e-12)
    assert set(np.round(effects[:, 2], 12)) <= {round(2 / 3, 12), round(4 / 3, 12)}
    assert stats["mu_star"][2] == pytest.approx(float(np.mean(2 * lower + delta)), abs=1e-12)
    assert stats["effects"].tolist() == [r, r, r]
    assert morris.ranks(stats["mu_star"]).tolist() == [1, 3, 2]


def test_elementary_effects_with_two_levels_are_exact() -> None:
    # p = 2: Delta = 1, every step goes between 0 and 1, so x3^2 has effect (1 - 0) / 1 = 1 on every trajectory.
    unit = morris.trajectories(3, 5, 2, seed=3)
    stats = morris.summarise(morris.elementary_effects(unit, known(unit), 2))
    assert stats["mu_star"].tolist() == [3.0, 0.0, 1.0]
    assert stats["mu"].tolist() == [3.0, 0.0, 1.0]
    assert stats["sigma"].tolist() == [0.0, 0.0, 0.0]


def test_a_step_down_has_the_sign_of_the_slope() -> None:
    # p = 4; trajectory (1, 0) -> (1/3, 0) -> (1/3, 2/3): x0 moves down, x1 up.
    unit = np.array([[[1.0, 0.0], [1 / 3, 0.0], [1 / 3, 2 / 3]]])
    y = 2 * unit[..., 0] - 5 * unit[..., 1]
    effects = morris.elementary_effects(unit, y, 4)
    assert effects == pytest.approx(np.array([[2.0, -5.0]]), abs=1e-12)
    stats = morris.summarise(effects)
    assert stats["mu_star"].tolist() == pytest.approx([2.0, 5.0], abs=1e-12)
    assert stats["mu"].tolist() == pytest.approx([2.0, -5.0], abs=1e-12)
    assert np.isnan(stats["sigma"]).all()  # one trajectory: no standard deviation


def test_summary_leaves_out_failed_runs() -> None:
    effects = np.array([[1.0, np.nan], [-3.0, 2.0], [2.0, np.nan]])
    stats = morris.summarise(effects)
    assert stats["mu_star"].tolist() == [2.0, 2.0]
    assert stats["mu"].tolist() == [0.0, 2.0]
    assert stats["sigma"][0] == pytest.approx(np.sqrt(7.0))  # deviations 1, -3, 2: (1 + 9 + 4) / 2
    assert np.isnan(stats["sigma"][1])
    assert stats["effects"].tolist() == [3, 1]
    assert morris.ranks(np.array([1.0, np.nan, 4.0, 1.0])).tolist() == [2, 4, 1, 3]


def test_screening_of_a_paired_difference() -> None:
    # Two policies on common random numbers: the noise of each replication is shared, so the paired
    # difference sees only the factor the policies differ on (x1, slope 5) and none of x0.
    p, r, k = 4, 6, 2
    unit = morris.trajectories(k, r, p, seed=2)
    flat = unit.reshape(-1, k)
    noise = np.array([0.4, -0.7])  # per replication
    rows = []
    for point, x in enumerate(flat):
        for rep, e in enumerate(noise):
            base = 3 * x[0] + e
            rows.append({"point": point, "policy": "base", "replication": rep, "metric": "m", "value": base})
            rows.append({"point": point, "policy": "new", "replication": rep, "metric": "m", "value": base + 5 * x[1]})
    points = pd.DataFrame(
        {
            "point": range(len(flat)),
            "block": [f"T{i // (k + 1)}" for i in range(len(flat))],
            "row": np.arange(len(flat)) % (k + 1),
        }
    )
    table = morris.screening(pd.DataFrame(rows), points, unit, ["x0", "x1"], p, ["base", "new"], "base")
    assert list(table.columns) == list(morris.COLUMNS)
    assert len(table) == 2 * 3  # factors x comparisons (base, new, new - base) for one metric
    t = table.set_index(["comparison", "factor"])
    assert t.loc[("new - base", "x1"), "mu_star"] == pytest.approx(5.0, abs=1e-12)
    assert t.loc[("new - base", "x0"), "mu_star"] == pytest.approx(0.0, abs=1e-12)
    assert t.loc[("new - base", "x1"), "rank"] == 1
    assert t.loc[("base", "x0"), "mu"] == pytest.approx(3.0, abs=1e-12)
    assert t.loc[("new", "x1"), "mu"] == pytest.approx(5.0, abs=1e-12)
    assert (table["effects"] == r).all()
    # The replications' noise is the same at every point (common random numbers): no effect carries any, so
    # the noise floor is 0 for every comparison (but for round-off).
    assert table["noise_floor"].to_numpy() == pytest.approx(np.zeros(len(table)), abs=1e-12)
    # A failed run (point 1, base, replication 0) leaves its replication out of the two steps it ends and
    # starts: each effect still comes from one seed's two runs, so the replications' noise still cancels (a
    # mean of each point's replications set replication 1 against their average there: 0.55 / Delta off).
    failed = pd.DataFrame([r for r in rows if (r["point"], r["policy"], r["replication"]) != (1, "base", 0)])
    t = morris.screening(failed, points, unit, ["x0", "x1"], p, ["base", "new"], "base").set_index(
        ["comparison", "factor"]
    )
    assert t.loc[("base", "x0"), ["mu_star", "mu", "sigma"]].tolist() == pytest.approx([3.0, 3.0, 0.0], abs=1e-12)
    assert t.loc[("base", "x1"), "mu_star"] == pytest.approx(0.0, abs=1e-12)
    assert t.loc[("new - base", "x1"), "mu_star"] == pytest.approx(5.0, abs=1e-12)


# ---- experiment files --------------------------------------------------------------------------------------------

BASE: dict[str, Any] = {"name": "x", "scenario": "s", "policies": [{"name": "unstructured"}], "seed": 1}
FACTORS = [
    {"name": "share", "target": "scenario.relationship.personal_share", "low": 0.4, "high": 0.9},
    {"name": "notice", "target": "policy.notice", "low": 0.2, "high": 0.8},
    {"name": "customers", "target": "scenario.population.customers", "low": 100.0, "high": 900.0, "integer": True},
]


def problems(**changes: Any) -> list[str]:
    with pytest.raises(InputError) as e:
        parse_experiment({**BASE, **changes})
    return e.value.problems


def test_a_morris_experiment_validates_with_its_defaults() -> None:
    exp = parse_experiment({**BASE, "factors": FACTORS, "design": {"kind": "morris"}})
    assert (exp.design.morris_trajectories, exp.design.morris_levels) == (10, 4)
    points = design_points(exp)
    assert len(points) == 10 * (3 + 1)  # r (k + 1)
    assert [p.block for p in points[:5]] == ["T0", "T0", "T0", "T0", "T1"]
    assert [p.row for p in points[:5]] == [0, 1, 2, 3, 0]
    # Scaled to [low, high] on the 4-level grid: share in {0.4, 0.5667, 0.7333, 0.9}.
    shares = {round(p.values["share"], 10) for p in points}
    assert shares <= {0.4, round(0.4 + 0.5 / 3, 10), round(0.4 + 1.0 / 3, 10), 0.9}
    assert all(isinstance(p.values["customers"], int) for p in points)
    same = design_points(parse_experiment({**BASE, "factors": FACTORS, "design": {"kind": "morris"}}))
    assert [p.values for p in same] == [p.values for p in points]
    exp = parse_experiment({**BASE, "factors": FACTORS, "design": {"kind": "morris", "trajectories": 3, "levels": 6}})
    assert len(design_points(exp)) == 3 * 4


def test_a_morris_design_keeps_other_designs_dumps_unchanged() -> None:
    grid = Design(kind="grid")
    assert grid.model_dump(mode="json") == {"kind": "grid", "samples": 0}  # the hash of older stores holds
    morris_design = Design(kind="morris", trajectories=5)
    assert morris_design.model_dump(mode="json") == {"kind": "morris", "samples": 0, "trajectories": 5}
    assert Design.model_validate_json(Design(kind="morris", levels=6).model_dump_json()).morris_levels == 6


def test_bad_morris_designs_give_one_line_each() -> None:
    no_range = [{"name": "share", "target": "scenario.relationship.personal_share"}]
    assert problems(factors=no_range, design={"kind": "morris"}) == [  # each bound left out named (a researcher)
        '<experiment>: factors.0.low: a morris design needs low and high (in the block named "share")',
        '<experiment>: factors.0.high: a morris design needs low and high (in the block named "share")',
        "<experiment>: design.trajectories: 10 asked for, but a 4-level grid of 1 factor(s) has only 4 different "
        "trajectories (use fewer, or more levels)",
    ]
    # A grid's values where a range is drawn from: one slip, one line (it had been three: low, high and values).
    listed = [{"name": "share", "target": "scenario.relationship.personal_share", "values": [0.2, 0.6]}]
    for kind in ("morris", "lhs"):
        said = [p for p in problems(factors=listed, design={"kind": kind}) if p.startswith("<experiment>: factors.0")]
        design = "a morris design" if kind == "morris" else "a sampled design"
        assert said == [
            f"<experiment>: factors.0.values: {design} draws values between low and high: give those instead "
            '(in the block named "share")'
        ]
    backwards = [{"name": "share", "target": "scenario.relationship.personal_share", "low": 0.9, "high": 0.4}]
    assert problems(factors=backwards, design={"kind": "morris"})[0] == (
        "<experiment>: factors.0: a morris design needs low < high, not 0.9 and 0.4 (the factor's grid spans them)"
        ' (in the block named "share")'
    )
    assert problems(factors=FACTORS, design={"kind": "morris", "trajectories": 0}) == [
        "<experiment>: design.trajectories: must be from 2 to 10,000, not 0 "
        "(sigma is a standard deviation over trajectories)"
    ]
    assert problems(factors=FACTORS, design={"kind": "morris", "trajectories": 10001}) == [
        "<experiment>: design.trajectories: must be from 2 to 10,000, not 10,001 "
        "(sigma is a standard deviation over trajectories)"
    ]
    assert problems(factors=FACTORS, design={"kind": "morris", "levels": 5}) == [
        "<experiment>: design.levels: must be an even number from 2 to 1,000, not 5 "
        "(only an even p keeps every step of Delta = p / (2 (p - 1)) on the grid)"
    ]
    assert problems(factors=FACTORS, design={"kind": "morris", "samples": 16}) == [
        "<experiment>: design.samples: a morris design has no samples (give trajectories r and levels p)"
    ]
    assert problems(factors=FACTORS, design={"kind": "lhs", "samples": 8, "trajectories": 4}) == [
        "<experiment>: design.trajectories: only a morris design has trajectories (this one is lhs)"
    ]
    assert problems(design={"kind": "morris"}) == ["<experiment>: design.kind: a sampled design needs factors"]
    assert problems(factors=FACTORS[:1], design={"kind": "morris", "trajectories": 3, "levels": 3}) == [
        "<experiment>: design.levels: must be an even number from 2 to 1,000, not 3 "
        "(only an even p keeps every step of Delta = p / (2 (p - 1)) on the grid)"
    ]  # an odd grid's trajectories are not counted: its levels are the problem
    assert problems(factors=FACTORS[:1], design={"kind": "morris", "trajectories": 3, "levels": 2}) == [
        "<experiment>: design.trajectories: 3 asked for, but a 2-level grid of 1 factor(s) has only 2 different "
        "trajectories (use fewer, or more levels)"
    ]
    assert problems(factors=FACTORS, design={"kind": "morris", "trajectories": "4"}) == [
        "<experiment>: design.trajectories: Input should be a valid integer, not '4'"
    ]


# ---- end to end --------------------------------------------------------------------------------------------------


def test_a_tiny_morris_experiment_writes_its_screening(tmp_path: Path) -> None:
    factors = (
        Factor(name="personal_share", target="scenario.relationship.personal_share", low=0.4, high=0.9),
        Factor(name="deal_sigma", target="scenario.population.segments.*.deal_sigma", low=0.2, high=1.0),
        Factor(name="floor", target="scenario.service.speed_to_lead.new_logo.floor", low=0.2, high=0.8),
        # rounded: a step of 2/3 of the range (2.67 customers) runs as 3 (0.75 of it), the effect divided by that
        Factor(name="customers", target="scenario.population.customers", low=500, high=504, integer=True),
        # No account plan in either policy: it moves no run, and the table says so rather than "below" a floor of 0.
        Factor(name="plans", target="scenario.relationship.coordination_hours", low=1.0, high=4.0),
    )
    exp = Experiment(
        name="tiny-morris",
        scenario="tiny",
        seed=4,
        replications=2,
        baseline="unstructured",
        policies=(
            PolicyEntry(name="unstructured"),
            # The tiny world's one segment is digital (segment_tiers' defaults name segments it lacks).
            PolicyEntry(name="segment_tiers", params={"field_segments": "", "pooled_segments": ""}),
        ),
        metrics=("profit", "revenue_captured"),
        factors=factors,
        design=Design(kind="morris", trajectories=2),
    )
    batch = open_batch(exp, tiny(), tmp_path)
    try:
        assert execute_batch(batch, "serial").failed == 0
        across: list[str] = []
        report = write_report(batch.store, tmp_path, across=across).read_text()
    finally:
        batch.store.close()
    # What the screening finds across the design, for the terminal too (a researcher found it in report.md only).
    (said,) = across
    answer = report[report.index("**Answer:** ") : report.index("## What was run")]
    assert answer.endswith(f"\n- Across the design: {said}\n\n") and said.startswith("In `profit`, ")  # its last
    table = pd.read_csv(tmp_path / "morris.csv")
    assert list(table.columns) == list(morris.COLUMNS)
    comparisons = {"unstructured", "segment_tiers", "segment_tiers - unstructured"}
    assert len(table) == 5 * 2 * 3  # factors x metrics x comparisons, one row each
    assert set(table.comparison) == comparisons
    assert not table.duplicated(["factor", "metric", "comparison"]).any()
    assert (table.effects == 2).all()
    for _, g in table.groupby(["metric", "comparison"]):
        assert sorted(g["rank"]) == [1, 2, 3, 4, 5]

    # Recompute the paired profit effects independently, from results.csv and the stored factor values.
    csv = pd.read_csv(tmp_path / "results.csv")
    totals = (
        csv[(csv.segment == "all") & (csv.metric == "profit")].groupby(["point", "policy", "replication"]).value.sum()
    )
    diff = (
        (totals.xs("segment_tiers", level="policy") - totals.xs("unstructured", level="policy")).groupby("point").mean()
    )
    pts = csv.groupby("point")[["block", "row", *[f.name for f in factors]]].first().sort_values(["block", "row"])
    effects: dict[str, list[float]] = {f.name: [] for f in factors}
    for _, g in pts.groupby("block"):
        for (a, ra), (b, rb) in zip(list(g.iterrows())[:-1], list(g.iterrows())[1:], strict=True):
            for f in factors:
                assert f.low is not None and f.high is not None
                if ra[f.name] != rb[f.name]:
                    effects[f.name].append((diff[b] - diff[a]) / ((rb[f.name] - ra[f.name]) / (f.high - f.low)))
    paired = table[(table.metric == "profit") & (table.comparison == "segment_tiers - unstructured")]
    for f in factors:
        row = paired.set_index("factor").loc[f.name]
        assert row.mu_star == pytest.approx(np.mean(np.abs(effects[f.name])), rel=1e-9, abs=1e-6)
        assert row.mu == pytest.approx(np.mean(effects[f.name]), rel=1e-9, abs=1e-6)

    assert "## Sensitivity" in report
    # Two trajectories of two replications: every factor's mu* is within its noise floor, the largest named.
    top = paired.sort_values("rank").iloc[0]
    assert (paired.mu_star <= paired.noise_floor).all()
    lead = (
        "In `profit`, no factor stands out from the noise in the paired difference `segment_tiers - unstructured`: "
        f"every factor's mu* is within its noise floor (the mu* below which replication noise alone keeps every "
        f"factor in 95% of designs; the largest, `{top.factor}`'s "
    )
    assert lead in report
    # ... and the answer the report opens with says it too, after the answer at the first point.
    answer = report[report.index("**Answer:** ") : report.index("## What was run")]
    assert f"\n- Across the design: {lead}" in answer
    assert "| segment_tiers - unstructured | `profit` | 1 |" in report
    assert "With 2 replications the seed's shared part rests on one degree of freedom" in report
    assert "The floor takes the noise as normal and the seed as moving every trajectory alike" in report
    assert "| noise floor | above it | replications' mean effects |" in report
    row = paired.set_index("factor").iloc[0]
    assert row.replication_min <= row.mu <= row.replication_max  # mu is the mean of the replications' means
    assert "- **Design:** morris, 2 trajectories of 6 points, 4 levels" in report
    assert (table[table.factor == "plans"].mu_star == 0).all()
    plans = [line for line in report.splitlines() if line.startswith("| ") and " | plans | " in line]
    assert len(plans) == 6 and all(" | no effect in any run | " in line for line in plans)
    assert "Campolongo, Cariboni & Saltelli 2007" in report
    # Its points are a screening path, not worlds: no regret ranked across them (a researcher's report had
    # named a "robust choice" over 20 trajectory points).
    robustness = report[report.index("## Robustness across design points") :].split("\n## ")[0]
    assert "not a sample of the worlds that may come, so no regret across them is ranked" in robustness
    assert "robust choice" not in robustness and "| choice |" not in robustness


def test_an_integer_factors_effect_is_divided_by_the_step_its_rounded_values_make() -> None:
    from sim.experiment.design import design_points, morris_positions, morris_unit

    # team from 1 to 5, rounded; p = 4: Delta = 2/3 of the range is 2.67 reps, but 1 -> 3.67 runs as 1 -> 4
    # (0.75 of the range) and 2.33 -> 5 as 2 -> 5. y = 2 per rep: 8 per whole range, on every step.
    team = Factor(name="team", target="scenario.reps.*.count", low=1, high=5, integer=True)
    share = Factor(name="share", target="scenario.relationship.personal_share", low=0.4, high=0.9)
    exp = Experiment(
        name="x",
        scenario="s",
        seed=5,
        policies=(PolicyEntry(name="unstructured"),),
        factors=(team, share),
        design=Design(kind="morris", trajectories=6),
    )
    unit, positions = morris_unit(exp), morris_positions(exp)
    values = np.array([[p.values["team"], p.values["share"]] for p in design_points(exp)]).reshape(6, 3, 2)
    assert set(np.abs(np.diff(values[..., 0], axis=1)).ravel()) == {0, 3}  # every move of the team is 3 reps
    assert np.array_equal(positions[..., 0], (values[..., 0] - 1) / 4)
    assert np.allclose(positions[..., 1], unit[..., 1], rtol=0, atol=1e-15)  # a continuous factor: as designed
    y = 2 * values[..., 0] + 10 * values[..., 1]
    effects = morris.elementary_effects(unit, y, 4, positions)
    assert effects[:, 0] == pytest.approx(np.full(6, 8.0), rel=1e-12)
    assert effects[:, 1] == pytest.approx(np.full(6, 5.0), rel=1e-12)  # 10 per unit of share, a range of 0.5
    # Divided by Delta, the team's effects came out 12.5% too large: 6 / (2/3) = 9 per whole range.
    assert morris.elementary_effects(unit, y, 4)[:, 0] == pytest.approx(np.full(6, 9.0), rel=1e-12)


def test_the_noise_floor_is_what_noise_alone_keeps_every_factor_below_in_95_percent_of_designs() -> None:
    rng = np.random.default_rng(21)

    def noise(shared: float, replications: int = 4) -> np.ndarray:
        """Pure noise of experiments/screening.toml's shape (r = 9, k = 10), each factor's effects with a noise
        sd of its own (0.5 to 5), ``shared`` of its variance common to a replication's trajectories (its seed)."""
        own = rng.normal(0.0, 1.0, (9, 10, replications)) * np.sqrt(1 - shared)
        seed = rng.normal(0.0, 1.0, (1, 10, replications)) * np.sqrt(shared)
        return (own + seed) * np.linspace(0.5, 5.0, 10)[None, :, None]

    def passed(e: np.ndarray) -> bool:
        return bool((np.abs(e.mean(axis=2)).mean(axis=0) > morris.noise_floor(e)).any())

    # In at most about 5% of designs some factor's mu* passes its floor, however much of the noise the seed
    # shares (a floor that took the trajectories as independent let 89% through at nine-tenths shared).
    reached = {shared: sum(passed(noise(shared)) for _ in range(150)) for shared in (0.0, 0.5, 0.9)}
    assert reached == {0.0: 2, 0.5: 7, 0.9: 7}  # 1.3%, 4.7%, 4.7% (within the sampling error of 150)
    assert sum(passed(noise(1.0, replications=2)) for _ in range(150)) == 7  # 4.7%: two replications too
    # The floor scales with the effects; one replication gives none.
    e = noise(0.0)
    assert morris.noise_floor(5 * e) == pytest.approx(5 * morris.noise_floor(e), rel=1e-12)
    assert np.isnan(morris.noise_floor(e[..., :1])).all()

    # A real effect of 4 noise sd (of the mean effect) on one factor stands above its floor in most designs
    # at 4 replications, and in few at 2, where the seed's share rests on one degree of freedom.
    def found(replications: int) -> int:
        hits = 0
        for _ in range(100):
            e = rng.normal(0.0, 1.0, (9, 10, replications))
            e[:, 3, :] += 4 / np.sqrt(replications)
            hits += bool(np.abs(e.mean(axis=2)).mean(axis=0)[3] > morris.noise_floor(e)[3])
        return hits

    assert (found(4), found(2)) == (91, 8)
    # With all of the noise shared by the seed, mu* is |c| and the floor Student t's quantile at the Sidak
    # level, exactly; a real effect (the same in every replication) moves no floor.
    seed = rng.normal(0.0, 1.0, (1, 10, 4)) * np.linspace(0.5, 5.0, 10)[None, :, None]
    shared = np.broadcast_to(seed, (9, 10, 4)).copy()
    s1 = shared[0].std(axis=1, ddof=1)
    exact = s1 / 2 * stats.t.ppf((1 + 0.95 ** (1 / 10)) / 2, 3)
    assert morris.noise_floor(shared) == pytest.approx(exact, rel=1e-9)
    e = noise(0.5)
    effect = rng.normal(0.0, 10.0, (9, 10, 1))
    assert morris.noise_floor(e + effect) == pytest.approx(morris.noise_floor(e), rel=1e-9)
    # A trajectory missing a replication (a failed run) leaves the factor's floor to the others.
    e = noise(0.0)
    gap = e.copy()
    gap[2, 5, 1] = np.nan
    assert np.isfinite(morris.noise_floor(gap)).all()
    assert morris.noise_floor(gap)[5] == pytest.approx(morris.noise_floor(np.delete(e, 2, axis=0))[5], rel=1e-12)
    assert morris.noise_floor(gap)[4] == pytest.approx(morris.noise_floor(e)[4], rel=1e-12)


def test_a_mu_star_and_a_floor_that_round_alike_are_shown_with_every_digit() -> None:
    from sim.experiment.report.screening import _apart

    assert _apart("revenue_captured", 1_209_130.4, 1_152_211.0) == ("1,209,130", "1,152,211")  # both 1.2M
    assert _apart("revenue_captured", 1_309_130.0, 957_900.0) == ("1.3M", "957.9k")
    assert _apart("win_rate", 0.12341, 0.12338) == ("12.3410 pp", "12.3380 pp")


def test_the_lead_ranks_only_factors_above_their_noise_floors() -> None:
    from types import SimpleNamespace

    from sim.experiment.report.screening import morris_lead

    ctx: Any = SimpleNamespace(
        policies=("unstructured", "segment_tiers"),
        baseline="unstructured",
        metrics=("profit",),
        experiment=SimpleNamespace(replications=2),
    )
    mu_star = {"a": 256.2e3, "b": 169.0e3, "c": 138.4e3, "d": 20e3}

    def lead(floors: dict[str, float], mu_p: dict[str, float] | None = None) -> str:
        rows = [
            {"factor": f, "metric": "profit", "comparison": "segment_tiers - unstructured", "mu_star": v, "mu": -v / 2,
             "sigma": 1.0, "rank": i + 1, "effects": 9, "noise_floor": floors[f], "replication_min": -v,
             "replication_max": -v / 4, "mu_p": (mu_p or {}).get(f, float("nan"))}
            for i, (f, v) in enumerate(mu_star.items())
        ]  # fmt: skip
        return morris_lead(ctx, pd.DataFrame(rows, columns=list(morris.COLUMNS)))

    what = "the paired difference `segment_tiers - unstructured`"
    floor_is = "the mu* below which replication noise alone keeps every factor in 95% of designs"
    # a is within its floor (a noisy factor), b and d above theirs, c within: b leads, then d.
    assert lead({"a": 300e3, "b": 100e3, "c": 150e3, "d": 10e3}) == (
        f"In `profit`, 2 factors stand out from the noise in {what}, the largest `b`: mu* = 169.0k per "
        "whole range of the factor (mu = -84.5k, noise floor 100.0k; its replications' mean effects -169.0k to "
        "-42.2k; rank 2 by mu*, the factor above it within its floor), then `d` (20.0k, floor 10.0k); the other 2 "
        f"factors' mu* are within their noise floors ({floor_is}; the largest, `a`'s 256.2k, against 300.0k): mu* "
        "does not tell them from noise at 2 replications a point."
    )
    assert lead({f: 400e3 for f in mu_star}) == (
        f"In `profit`, no factor stands out from the noise in {what}: every factor's mu* is within its noise floor "
        f"({floor_is}; the largest, `a`'s 256.2k, against 400.0k), so mu* tells none from noise at 2 replications a "
        "point."
    )
    # A researcher's factor of one sign in every replication (p = 0.007) sat within its mu* floor, said to be noise:
    # the t test of mu names it, at 5% over the factors with a test (1 - 0.95^(1/4) = 0.0127).
    tested = {"a": 0.2, "b": 0.007, "c": 0.02, "d": 0.5}
    assert lead({f: 400e3 for f in mu_star}, tested).endswith(
        "so mu* tells none from noise at 2 replications a point; yet the t test of mu over the replications finds "
        "`b`'s (-84.5k, p=0.007) mean effect clear (p below 0.0127, 5% over the 4 factors): of a size mu* does not "
        "tell from noise, but of one sign, over these trajectories."
    )
    ranked = (
        f"In `profit`, {what} is most sensitive to `a`: mu* = 256.2k per whole range of the factor (mu = -128.1k), "
        "then `b` (169.0k), `c` (138.4k). "
    )
    tail = "the noise floor cannot be estimated (it is the spread between replications): this ranking may be noise "
    tail += "alone; run 2 or more replications to tell."
    # 2 replications, but no trajectory has both (runs failed or pending): not said to be one replication, nor
    # told to run 2 or more (a researcher's interrupted screening of 4 replications was).
    assert lead({f: float("nan") for f in mu_star}) == (
        ranked
        + "Without a trajectory whose every replication has run (runs failed or pending) "
        + tail.removesuffix("run 2 or more replications to tell.")
        + "rerun the same command to finish the pending runs and retry the failed ones, then report, to tell."
    )
    ctx.experiment.replications = 1
    assert lead({f: float("nan") for f in mu_star}) == ranked + "With one replication a point " + tail
    # One factor above its floor is said to stand out alone, not to be the one the difference is most sensitive
    # to: the 3 ranked above it may have larger effects, undetected.
    assert lead({"a": 300e3, "b": 200e3, "c": 150e3, "d": 10e3}).startswith(
        f"In `profit`, one factor alone stands out from the noise in {what}: `d`: mu* = 20.0k per whole range of "
        "the factor (mu = -10.0k, noise floor 10.0k; its replications' mean effects -20.0k to -5.0k; rank 4 by mu*, "
        "the 3 factors above it within theirs); the other 3 factors' mu* are within their noise floors"
    )
    ctx.experiment.replications = 2
    # a factor with no floor (its effects lack two replications) is judged by none: not counted within its floor
    assert lead({"a": float("nan"), "b": 100e3, "c": 150e3, "d": 10e3}).endswith(
        "the other factor's mu* is within its noise floor ("
        f"{floor_is}; the largest, `c`'s 138.4k, against 150.0k): mu* does not tell it from noise at 2 "
        "replications a point."
    )


def test_the_noise_floor_is_the_quantile_of_its_null_distribution_to_within_a_percent() -> None:
    """The floor integrates Student t's part exactly: against the quantile of 1.2 million plain draws of
    mean_t |T + ratio D_t / sqrt(V)| it is within 1% (the plain draws' own error at the 99.5th percentile is
    about 0.5%), where 20,000 plain draws, the floor before, were up to 10% off with T on 1 degree of freedom.
    And it hardly rests on its draws' seed: each factor's own draws give the same floor within 1.5% (their spread
    is the trajectories' own part's, largest where it outweighs the shared part at many replications)."""
    level = 0.95 ** (1 / 10)
    rng = np.random.default_rng(7)
    for n, reps, ratio in ((9, 2, 1.0), (9, 4, 3.0), (9, 8, 3.0), (3, 3, 0.3)):
        df = (n - 1) * (reps - 1)
        draws = []
        for _ in range(6):
            t = rng.standard_t(reps - 1, size=(200_000, 1))
            z = rng.standard_normal((200_000, n))
            d = (z - z.mean(axis=1, keepdims=True)) / np.sqrt(rng.chisquare(df, (200_000, 1)) / df)
            draws.append(np.abs(t + ratio * d).mean(axis=1))
        plain = np.quantile(np.concatenate(draws), level)
        t_quantile = float(stats.t.ppf((1 + level) / 2, reps - 1))
        floors = [
            morris._floor(*morris._null_draws(f, n, reps, morris.NOISE_SIMULATIONS), ratio, reps - 1, level, t_quantile)
            for f in range(4)
        ]
        assert floors[0] == pytest.approx(plain, rel=0.01), (n, reps, ratio)
        assert max(floors) / min(floors) - 1 < 0.015, (n, reps, ratio)
    # Where the trajectories' own noise is all there is (a paired difference whose seeds cancel), the floor is
    # the quantile of its mean |D_t / sqrt(V)| alone.
    own = rng.normal(0.0, 1.0, (9, 2, 4))
    own -= own.mean(axis=0, keepdims=True)  # no replication's mean moves: s_1 = 0
    own += rng.normal(0.0, 1.0, (9, 2, 1))  # the trajectories' own real effects, the same every replication
    x = own[:, 0, :]
    s2 = np.sqrt(((x - x.mean(axis=1, keepdims=True)) ** 2).sum() / (8 * 3))
    kinks, _ = morris._null_draws(0, 9, 4, morris.NOISE_SIMULATIONS)
    expected = s2 * np.quantile(np.abs(kinks).mean(axis=1), 0.95 ** (1 / 2)) / 2
    assert morris.noise_floor(own)[0] == pytest.approx(expected, rel=1e-12)


def test_more_morris_trajectories_keep_the_stored_runs_and_fewer_report_on_the_first(tmp_path: Path) -> None:
    # Trajectories are drawn in turn from the seed: a screening sharpened with more kept none of its runs.
    def screening(trajectories: int) -> Experiment:
        return tiny_two_factor_experiment("tiny-morris", Design(kind="morris", trajectories=trajectories))

    def run(folder: Path, trajectories: int) -> tuple[int, int, pd.DataFrame]:
        return batch_into(screening(trajectories), folder)

    two = run(tmp_path / "fresh2", 2)
    four = run(tmp_path / "fresh4", 4)
    assert (two[0], four[0]) == (4, 10)  # distinct runs of 6 and 12 points: a grid point met again runs once
    assert run(tmp_path / "o", 2)[:2] == (4, 0)
    done, skipped, results = run(tmp_path / "o", 4)
    assert (done, skipped) == (6, 4)
    pd.testing.assert_frame_equal(results, four[2], check_exact=True)
    # Fewer: the first trajectories' points alone are read, and nothing runs; going back up runs nothing either.
    done, skipped, results = run(tmp_path / "o", 2)
    assert (done, skipped) == (0, 4)
    assert sorted(results.point.unique()) == [0, 1, 2, 3, 4, 5]
    pd.testing.assert_frame_equal(results, two[2], check_exact=True)
    assert run(tmp_path / "o", 4)[:2] == (0, 10)
    # Another design (its levels) is another experiment still.
    with pytest.raises(InputError, match="the design"):
        open_batch(
            screening(4).model_copy(update={"design": Design(kind="morris", trajectories=4, levels=6)}),
            tiny(),
            tmp_path / "o",
        )


def test_a_factor_with_no_effect_in_any_run_is_not_counted_in_the_floors_level():
    # A researcher's screening had a factor that changed nothing (floor 0): counted among the k of Sidak's level,
    # it raised every other factor's floor (195.1k with k = 4 against 204.1k with k = 5).
    rng = np.random.default_rng(3)
    live = rng.normal(size=(6, 4, 4))
    with_idle = np.concatenate([live, np.zeros((6, 1, 4))], axis=1)
    floors = morris.noise_floor(with_idle)
    assert floors[4] == 0.0
    np.testing.assert_allclose(floors[:4], morris.noise_floor(live), rtol=1e-12)
    # A fifth factor that moves is counted: the four floors rise.
    assert (morris.noise_floor(np.concatenate([live, rng.normal(size=(6, 1, 4))], axis=1))[:4] > floors[:4]).all()


def test_mu_s_t_test_is_student_s_on_the_replications_mean_effects() -> None:
    from scipy import stats as st

    by_replication = np.array([[161.0, 262.7, 129.0, 212.2], [1.0, -1.0, 2.0, -2.0], [5.0, 5.0, 5.0, 5.0]])
    p = morris._mu_p(by_replication)
    assert p[0] == pytest.approx(st.ttest_1samp(by_replication[0], 0.0).pvalue, rel=1e-12)  # the researcher's t 6.51
    assert p[0] < 0.0102 and p[1] == pytest.approx(1.0)
    assert p[2] == 0.0  # the same effect in every replication: no spread, the clearest case
    assert np.isnan(morris._mu_p(np.zeros((1, 4))))[0]  # no effect at all: no test
    assert np.isnan(morris._mu_p(np.array([[3.0, np.nan]])))[0]  # one replication: none
