"""PRIM peeling (sim.experiment.discovery) on hand-made inputs whose answers are known.

Tolerance of a found boundary. One peel removes k = floor(alpha n_B) of the
box's n_B points. With points uniform along a column over the box's extent w,
those k points fill a slab of width about alpha w <= alpha (the columns here
span [0, 1]). Take the box :func:`choose` reports in the clean case: its
coverage is 1, so each limit lies on the outer side of the true boundary (no
case is cut off). And it lies within one slab of the boundary: were there a
whole slab of non-cases left between the limit and the boundary, peeling it
(k points, none a case) would leave a higher density than any peel that cuts
cases, so peeling would have taken it and stayed at coverage 1. Hence
|limit - boundary| < alpha w <= alpha, up to the sampling spread of a slab's
width (a k-th order statistic) and of the gap between the boundary and the
nearest case, both much smaller than alpha with 2,000 points. Each restricted
side keeps at most one slab of non-cases, about alpha of the box, so the
density is at least about 1 - 2 alpha with two restricted sides.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import InputError
from sim.experiment import discovery
from sim.experiment.discovery import Box, Limit, Trajectory, choose, describe, inside, peel, tradeoff_figure

ROOT = Path(__file__).resolve().parents[1]
ALPHA = discovery.ALPHA
INF = np.inf


def cube(seed: int, n: int = 2000, d: int = 3) -> pd.DataFrame:
    """n points uniform in [0, 1]^d, columns x0, x1, ..."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.uniform(size=(n, d)), columns=[f"x{i}" for i in range(d)])


def corner(x: pd.DataFrame) -> np.ndarray:
    """The known region: x0 > 0.7 and x1 < 0.4 (a share 0.3 * 0.4 = 0.12 of the cube)."""
    return ((x["x0"] > 0.7) & (x["x1"] < 0.4)).to_numpy()


def limits(box: Box) -> dict[str, tuple[float, float]]:
    return {name: (lower, upper) for name, lower, upper in box.limits}


# ---- known answers -------------------------------------------------------------------


def test_a_clean_corner_is_found_within_one_peel() -> None:
    x = cube(seed=1)
    y = corner(x)
    box = choose(peel(x, y))
    assert box is not None
    found = limits(box)
    assert set(found) == {"x0", "x1"}  # x2 plays no part and stays open
    (x0_low, x0_high), (x1_low, x1_high) = found["x0"], found["x1"]
    assert x0_high == INF and x1_low == -INF  # only the sides the region has
    assert abs(x0_low - 0.7) < ALPHA and abs(x1_high - 0.4) < ALPHA  # within one peel (module docstring)
    assert box.coverage == 1.0  # every case inside: the limits sit on the outer side of the boundary
    assert x0_low < x["x0"][y].min() and x1_high > x["x1"][y].max()
    assert box.density > 1 - 2 * ALPHA


def test_noise_bounds_the_density_and_the_coverage() -> None:
    """y flipped with probability 0.1: density 0.9 inside the corner, 0.1 outside.

    No box much larger than the noise can beat the corner's density of 0.9: a
    box of n_B points has a density within a few standard errors sqrt(0.9 * 0.1
    / n_B) of 0.9 at best. The cases are 0.12 * 0.9 inside the corner and 0.88
    * 0.1 outside, so a box near the corner covers 0.108 / 0.196 = 0.55 of them.
    """
    x = cube(seed=2)
    rng = np.random.default_rng(20)
    y = corner(x) ^ (rng.uniform(size=len(x)) < 0.1)
    trajectory = peel(x, y)
    steps = trajectory.steps
    large = steps[steps["points"] >= 200]
    assert (large["density"] < 0.9 + 4 * np.sqrt(0.9 * 0.1 / large["points"])).all()
    box = choose(trajectory)
    assert box is not None
    assert {"x0", "x1"} <= set(limits(box))
    assert 0.8 <= box.density < 0.9 + 4 * np.sqrt(0.9 * 0.1 / box.points)
    assert box.coverage == pytest.approx(0.108 / 0.196, abs=0.1)


def test_no_structure_no_box() -> None:
    """y independent of x (rate 0.3): every box's density stays within 4 standard errors of the base rate."""
    x = cube(seed=3)
    y = np.random.default_rng(30).uniform(size=len(x)) < 0.3
    trajectory = peel(x, y)
    steps = trajectory.steps
    base = y.mean()
    assert (steps["density"] - base < 4 * np.sqrt(base * (1 - base) / steps["points"])).all()
    assert choose(trajectory) is None  # nothing comes near density 0.8


# ---- the trajectory ------------------------------------------------------------------


def test_trajectory_invariants() -> None:
    x = cube(seed=4, d=4)
    y = corner(x) | (x["x3"] > 0.9).to_numpy()
    trajectory = peel(x, y)
    s = trajectory.steps
    assert list(s["step"]) == list(range(len(s))) and len(s) > 10
    assert (np.diff(s["coverage"]) <= 0).all()  # coverage never rises
    assert (np.diff(s["mass"]) < 0).all()  # mass strictly falls
    assert (np.diff(s["density"]) > 0).all()  # density strictly rises (the stop rule)
    assert s["mass"].min() >= trajectory.min_mass
    # Without ties each step removes exactly k = max(1, floor(alpha n_B)) points.
    removed = -np.diff(s["points"])
    assert (removed == np.maximum(1, np.floor(ALPHA * s["points"][:-1] + 1e-9))).all()
    first = s.iloc[0]
    assert (first["points"], first["cases"], first["coverage"], first["restricted"]) == (len(x), y.sum(), 1.0, 0)
    assert first["density"] == y.mean() and first["mass"] == 1.0
    for step in range(len(s)):
        box = trajectory.box(step)
        mask = inside(box, x)  # the limits reproduce the box's points and statistics
        assert (mask.sum(), y[mask].sum()) == (box.points, box.cases)
        assert box.coverage == box.cases / y.sum() and box.density == box.cases / box.points
        assert box.mass == box.points / len(x)
        lower = s.loc[step, [f"{n}.lower" for n in trajectory.dimensions]].to_numpy(dtype=float)
        upper = s.loc[step, [f"{n}.upper" for n in trajectory.dimensions]].to_numpy(dtype=float)
        assert box.restricted == s.loc[step, "restricted"] == (np.isfinite(lower) | np.isfinite(upper)).sum()


def one_column(y: list[int], **kwargs: float) -> pd.DataFrame:
    return peel(pd.DataFrame({"a": np.arange(10.0)}), np.array(y, dtype=bool), alpha=0.1, **kwargs).steps


def test_ten_points_by_hand() -> None:
    """x = 0..9, alpha = 0.1: each step removes the one end point whose removal leaves the higher density.

    y = 0 0 1 1 1 1 1 1 0 0 (6 of 10). Step 1: either end removes a 0 (6/9 both): a tie, the lower side
    goes first, a > 0.5. Step 2: again 6/8 both: a > 1.5. Step 3: the low end is now a case (5/7), the
    high end not (6/7): a < 8.5. Step 4: 5/6 against 6/6: a < 7.5. Density 1: no peel can raise it.
    """
    s = one_column([0, 0, 1, 1, 1, 1, 1, 1, 0, 0])
    assert list(s["points"]) == [10, 9, 8, 7, 6]
    assert list(s["cases"]) == [6] * 5
    assert list(s["density"]) == [0.6, 6 / 9, 6 / 8, 6 / 7, 1.0]
    assert list(s["a.lower"]) == [-INF, 0.5, 1.5, 1.5, 1.5]
    assert list(s["a.upper"]) == [INF, INF, INF, 8.5, 7.5]
    assert list(s["restricted"]) == [0, 1, 1, 1, 1]
    # The same with min_mass 0.7: step 4 would keep 6 of 10 points, mass 0.6.
    assert list(one_column([0, 0, 1, 1, 1, 1, 1, 1, 0, 0], min_mass=0.7)["points"]) == [10, 9, 8, 7]


def test_peeling_stops_when_no_peel_raises_the_density() -> None:
    """y = 0 0 1 0 1 1 1 1 1 0: after a > 1.5 and a < 8.5 the box 2..8 holds 6 of 7; removing 2 or 8 (both
    cases) leaves 5/6 < 6/7, so peeling stops there, short of the 0 at 3 (one point at a time is patient)."""
    s = one_column([0, 0, 1, 0, 1, 1, 1, 1, 1, 0])
    assert list(s["density"]) == [0.6, 6 / 9, 6 / 8, 6 / 7]
    assert list(s["a.lower"]) == [-INF, 0.5, 1.5, 1.5]
    assert list(s["a.upper"]) == [INF, INF, INF, 8.5]


def test_ties_are_peeled_together_and_restricted_columns_go_first() -> None:
    """Ten points, alpha = 0.1 (k = 1).

    Step 1: b's lowest value 0 is held by two non-cases (rows 0 and 4): a limit cannot split them, so
    the peel b > 0.5 removes both (6/8), better than any one-point peel (at best 6/9). Step 2: a > 0.5
    (row 1) and b > 1.5 (row 5) each remove one non-case (6/7 both): the tie goes to b, already
    restricted, although a comes first. Step 3: a > 1.5 removes row 1, the last non-case (6/6).
    """
    x = pd.DataFrame({"a": np.arange(10.0), "b": [0.0, 5, 6, 7, 0, 1, 8, 9, 2, 3]})
    y = np.array([0, 0, 1, 1, 0, 0, 1, 1, 1, 1], dtype=bool)
    s = peel(x, y, alpha=0.1).steps
    assert list(s["points"]) == [10, 8, 7, 6]
    assert list(s["b.lower"]) == [-INF, 0.5, 1.5, 1.5]
    assert list(s["a.lower"]) == [-INF, -INF, -INF, 1.5]
    assert list(s["restricted"]) == [0, 1, 1, 2]
    assert s["density"].iloc[-1] == 1.0


def test_integer_columns_with_ties_keep_whole_values() -> None:
    rng = np.random.default_rng(5)
    x = pd.DataFrame({"k": rng.integers(0, 10, 1000), "u": rng.uniform(size=1000)})
    y = (x["k"] >= 7).to_numpy() & (rng.uniform(size=1000) < 0.9)
    trajectory = peel(x, y)
    k_limits = trajectory.steps[["k.lower", "k.upper"]].to_numpy()
    finite = k_limits[np.isfinite(k_limits)]
    assert finite.size and (finite % 1 == 0.5).all()  # halfway between two integers, never splitting one
    box = choose(trajectory)
    assert box is not None and limits(box)["k"] == (6.5, INF)


def test_inside_matches_columns_by_the_names_peel_wrote() -> None:
    x = cube(seed=10).set_axis([0, 1, 2], axis=1)  # integer labels: peel names them "0", "1", "2"
    y = ((x[0] > 0.7) & (x[1] < 0.4)).to_numpy()
    box = choose(peel(x, y))
    assert box is not None and {name for name, _, _ in box.limits} == {"0", "1"}
    assert inside(box, x).sum() == box.points
    with pytest.raises(InputError) as e:
        inside(box, x.drop(columns=[1]))
    assert e.value.problems == ["x: no column 1, which the box restricts"]


def test_the_input_is_not_changed() -> None:
    x = cube(seed=6)
    y = corner(x)
    before_x, before_y = x.copy(), y.copy()
    peel(x, y)
    pd.testing.assert_frame_equal(x, before_x)
    assert np.array_equal(y, before_y)


# ---- choosing and describing ---------------------------------------------------------


def hand_trajectory(coverage: list[float], density: list[float]) -> Trajectory:
    """A one-column trajectory with the given statistics (the other columns are placeholders)."""
    n = len(coverage)
    steps = pd.DataFrame(
        {
            "step": range(n),
            "points": range(100, 100 - n, -1),
            "cases": 0,
            "coverage": coverage,
            "density": density,
            "mass": np.linspace(1, 0.5, n),
            "restricted": [0] + [1] * (n - 1),
            "a.lower": [-INF, *np.linspace(0.1, 0.5, n - 1)],
            "a.upper": INF,
        }
    )
    return Trajectory(steps=steps, dimensions=("a",), points=100, cases=10, alpha=0.05, min_mass=0.05)


def test_choose_takes_the_highest_coverage_at_the_density_asked() -> None:
    t = hand_trajectory([1.0, 1.0, 0.9, 0.9, 0.7], [0.5, 0.7, 0.8, 0.85, 0.95])
    assert choose(t).step == 3  # coverage 0.9 at density >= 0.8; of steps 2 and 3, the denser
    assert choose(t, min_density=0.7).step == 1
    assert choose(t, min_density=0.9).step == 4
    assert choose(t, min_density=0.96) is None
    assert choose(t, min_density=0.5).step == 1  # steps 0 and 1 cover all; step 1 is the denser
    dense = hand_trajectory([1.0, 0.95], [0.85, 0.9])
    assert choose(dense).step == 0  # the whole space, when it is dense enough already
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(InputError) as e:
            choose(t, min_density=bad)
        assert e.value.problems == [f"min_density: {bad} must be above 0 and at most 1 (a share of the box's points)"]


def box_of(*limits: Limit, coverage: float = 0.74, density: float = 0.88) -> Box:
    return Box(step=3, points=50, cases=44, coverage=coverage, density=density, mass=0.1, limits=limits)


def test_describe() -> None:
    box = box_of(Limit("responsiveness_scale", -INF, 0.82041), Limit("attrition", 0.2133, INF))
    assert describe(box, "A does worse than B") == (
        "A does worse than B when responsiveness_scale < 0.82 and attrition > 0.213 (coverage 74%, density 88%)"
    )
    both = box_of(Limit("budget", 1234.5, 56789.0), coverage=1.0, density=0.955)
    assert describe(both) == "the case of interest occurs when 1230 < budget < 56800 (coverage 100%, density 96%)"
    assert describe(box_of(coverage=1.0, density=0.85), "A does worse than B") == (
        "A does worse than B across the sampled ranges, in no narrower region more often (coverage 100%, density 85%)"
    )


def test_describe_a_found_box() -> None:
    x = cube(seed=1)
    box = choose(peel(x, corner(x)))
    assert box is not None
    text = describe(box, "A does worse than B")
    assert text.startswith("A does worse than B when x0 > 0.") and " and x1 < 0." in text and "x2" not in text


# ---- bad input -----------------------------------------------------------------------


def problems(x: object, y: object, **kwargs: float) -> list[str]:
    with pytest.raises(InputError) as e:
        peel(x, y, **kwargs)  # type: ignore[arg-type]
    return e.value.problems


def test_bad_input_one_line_per_problem() -> None:
    x = cube(seed=7, n=100)
    y = corner(x)
    assert problems(x, np.zeros(100, dtype=bool)) == [
        "y: no case of interest (every value is False); there is nothing to find"
    ]
    assert problems(x, np.ones(100, dtype=bool)) == [
        "y: every point is a case of interest; no box can concentrate them further"
    ]
    assert problems(x, y.astype(int)) == ["y: must be boolean (True: a case of interest), got dtype int64"]
    assert problems(x, y[:99]) == ["y: 99 values for 100 rows of x; it needs one per row"]
    assert problems(x.head(19), y[:19]) == [
        "x: 19 rows; PRIM needs at least 20 (1 / alpha) so that one point is at most alpha of the box"
    ]
    ten = pd.DataFrame({"a": np.arange(10.0)})
    assert len(peel(ten, np.arange(10) > 6, alpha=0.1).steps) > 1  # 10 rows are enough at alpha 0.1 ...
    assert problems(ten, np.arange(10) > 6) == [  # ... but not at the default 0.05
        "x: 10 rows; PRIM needs at least 20 (1 / alpha) so that one point is at most alpha of the box"
    ]


def test_bad_columns_and_values() -> None:
    x = cube(seed=8, n=100)
    y = corner(x)
    x["policy"] = "A"
    x["flag"] = True
    x.loc[[3, 17], "x1"] = np.nan
    x.loc[40, "x2"] = np.inf
    assert problems(x, y) == [
        "x.x1: 2 missing or infinite value(s) (rows 3, 17)",
        "x.x2: 1 missing or infinite value(s) (rows 40)",
        "x.policy: not numeric (dtype str); PRIM here peels numeric columns only",
        "x.flag: not a real number (dtype bool); PRIM here peels numeric columns only",
    ]
    nullable = cube(seed=8, n=100).astype({"x0": "Float64"})
    nullable.loc[5, "x0"] = pd.NA
    assert problems(nullable, y) == ["x.x0: 1 missing or infinite value(s) (rows 5)"]
    assert problems(pd.DataFrame(index=range(100)), y) == [
        "x: no columns; PRIM needs at least one numeric column (an uncertain parameter)"
    ]
    twice = pd.concat([cube(seed=8, n=100)[["x0"]]] * 2, axis=1)
    assert problems(twice, y) == ["x: duplicate column names x0"]
    assert problems(np.zeros((100, 2)), y) == ["x: must be a pandas DataFrame, got ndarray"]


def test_bad_parameters_and_many_problems_at_once() -> None:
    x = cube(seed=9, n=100)
    y = corner(x)
    assert problems(x, y, alpha=0.5) == [
        "alpha: 0.5 must be above 0 and below 0.5 (the share of the box one peel removes)"
    ]
    assert problems(x, y, min_mass=1.0) == [
        "min_mass: 1.0 must be above 0 and below 1 (the smallest share of all points a box keeps)"
    ]
    x.loc[0, "x0"] = np.nan
    assert problems(x.head(10), np.zeros(10, dtype=bool), alpha=0.0) == [
        "alpha: 0.0 must be above 0 and below 0.5 (the share of the box one peel removes)",
        "y: no case of interest (every value is False); there is nothing to find",
        "x.x0: 1 missing or infinite value(s) (rows 0)",
        "x: 10 rows; PRIM needs at least 20 (1 / alpha) so that one point is at most alpha of the box",
    ]


def test_minimum_points() -> None:
    assert discovery.minimum_points(0.05) == 20
    assert discovery.minimum_points(0.1) == 10
    assert discovery.minimum_points(0.03) == 34  # 1 / 0.03 = 33.3


# ---- the figure ----------------------------------------------------------------------


def test_tradeoff_figure_writes_a_png(tmp_path: Path) -> None:
    x = cube(seed=1)
    trajectory = peel(x, corner(x))
    chosen = choose(trajectory)
    for name, box in (("chosen.png", chosen), ("none.png", None)):
        tradeoff_figure(trajectory, box, tmp_path / name, title="A worse than B")
        data = (tmp_path / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000
    other = peel(cube(seed=2), corner(cube(seed=2)))
    stranger = choose(other)
    assert stranger is not None and stranger != trajectory.box(stranger.step)
    with pytest.raises(InputError) as e:
        tradeoff_figure(trajectory, stranger, tmp_path / "x.png")
    assert e.value.problems == [f"chosen: the box of step {stranger.step} is not a box of this trajectory"]


def test_importing_discovery_leaves_matplotlib_alone() -> None:
    code = "import sys, sim.experiment.discovery; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
