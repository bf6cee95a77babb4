"""Scenario discovery with PRIM: a box of the uncertain parameters inside which a case of interest concentrates.

How it works. The input is N points x_i, one row per run, whose columns are the
uncertain world parameters (in their own units), and a boolean y_i, the case of
interest (for example "policy A did worse than policy B in this run"). PRIM,
the Patient Rule Induction Method of Friedman & Fisher (1999), "Bump hunting in
high-dimensional data", Statistics and Computing 9(2):123-143, looks for a box

    B = {x : l_j < x_j < u_j for every column j}     (l_j = -inf or u_j = +inf: that side is open)

inside which the cases concentrate. For a box holding n_B points, c_B of them
cases, out of N points and C cases in all:

    coverage = c_B / C    the share of all the cases of interest that lie inside the box
    density  = c_B / n_B  the share of the box's points that are cases of interest (the box's mean of y)
    mass     = n_B / N    the share of all the points that lie inside the box

Peeling starts from the box that holds every point (all sides open: coverage 1,
density C / N, mass 1) and repeats one step. For each column j and each side,
the candidate peel removes the k = max(1, floor(alpha n_B)) points with the
lowest (or the highest) x_j, alpha of the box, together with any point tied
with the last of them (a limit cannot split equal values); the new limit lies
halfway between the last value removed and the next value kept. Of the
candidates that leave a mass of at least min_mass, the one that leaves the
highest density is taken (Friedman & Fisher's peeling criterion: with k points
removed by every candidate, the one that removes the fewest cases); ties go to
a peel on a column already restricted, then to the earlier column, then to the
lower side. Peeling stops when no candidate leaves min_mass or when the best
candidate would not raise the density (the stop rule of the EMA Workbench's
PRIM, as its standalone copy, the ``prim`` package 1.0.0, has it: ``_peel``
goes on only while its objective is above 0). alpha is "patient" when small:
each step gives up little, so an early poor choice costs little.

So along the peeling trajectory the mass falls and the density rises strictly
at every step while the coverage never rises (cases are peeled away with the
non-cases). The analyst picks a box on this coverage-density trade-off, as in
Bryant & Lempert (2010), "Thinking inside the box: a participatory,
computer-assisted approach to scenario discovery", Technological Forecasting
and Social Change 77(1):34-49; :func:`choose` takes, by default, the box with
the highest coverage whose density is at least 0.8.

Done here: peeling of numeric columns and one box. Not done: pasting (Friedman
& Fisher's second phase, which grows the box back where that raises the
density), covering (further boxes for the cases left outside the first) and
categorical columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from sim.errors import InputError

#: Default share of the box's points one peel removes.
ALPHA = 0.05
#: Default smallest mass (share of all points) a box may keep.
MIN_MASS = 0.05
#: Default smallest density of the box :func:`choose` reports.
MIN_DENSITY = 0.8
#: The statistics columns of :attr:`Trajectory.steps`, before each column's ``<name>.lower`` and ``<name>.upper``.
STATS = ("step", "points", "cases", "coverage", "density", "mass", "restricted")


class Limit(NamedTuple):
    """One restricted column of a box: lower < x < upper, in the column's units (-inf or +inf: an open side)."""

    dimension: str
    lower: float
    upper: float


@dataclass(frozen=True)
class Box:
    """One box of a peeling trajectory.

    step: its place on the trajectory (0: every point); points, cases: n_B and
    c_B, the points inside it and the cases of interest among them; coverage,
    density, mass: shares in [0, 1] (see the module's docstring); limits: the
    restricted columns only, in the columns' order.
    """

    step: int
    points: int
    cases: int
    coverage: float
    density: float
    mass: float
    limits: tuple[Limit, ...]

    @property
    def restricted(self) -> int:
        """How many columns the box restricts."""
        return len(self.limits)


@dataclass(frozen=True)
class Trajectory:
    """The boxes peeling went through, one row of ``steps`` per step (step 0 holds every point).

    ``steps`` has the columns :data:`STATS` (``restricted``: how many columns
    the box restricts), then ``<name>.lower`` and ``<name>.upper`` for each
    column of x, in its units (-inf and +inf: not restricted on that side).
    points, cases: N and C, all the points and all the cases of interest;
    alpha, min_mass: the parameters :func:`peel` was given.
    """

    steps: pd.DataFrame
    dimensions: tuple[str, ...]
    points: int
    cases: int
    alpha: float
    min_mass: float

    def box(self, step: int) -> Box:
        """The box of one step."""
        row = self.steps.iloc[step]
        limits = tuple(
            Limit(name, float(row[f"{name}.lower"]), float(row[f"{name}.upper"]))
            for name in self.dimensions
            if np.isfinite(row[f"{name}.lower"]) or np.isfinite(row[f"{name}.upper"])
        )
        return Box(
            step=int(row["step"]),
            points=int(row["points"]),
            cases=int(row["cases"]),
            coverage=float(row["coverage"]),
            density=float(row["density"]),
            mass=float(row["mass"]),
            limits=limits,
        )


def minimum_points(alpha: float) -> int:
    """The fewest points :func:`peel` takes: ceil(1 / alpha), below which a single point is more than alpha of the box."""
    return math.ceil(1 / alpha - 1e-9)


def _checked(x: pd.DataFrame, y: object, alpha: float, min_mass: float) -> tuple[np.ndarray, np.ndarray]:
    """x as an (N, d) float array and y as a boolean array, or InputError with one line per problem."""
    problems: list[str] = []
    if not 0 < alpha < 0.5:
        problems.append(f"alpha: {alpha} must be above 0 and below 0.5 (the share of the box one peel removes)")
    if not 0 < min_mass < 1:
        problems.append(
            f"min_mass: {min_mass} must be above 0 and below 1 (the smallest share of all points a box keeps)"
        )
    if not isinstance(x, pd.DataFrame):
        raise InputError([*problems, f"x: must be a pandas DataFrame, got {type(x).__name__}"])
    flags = np.asarray(y)
    if flags.ndim != 1 or len(flags) != len(x):
        problems.append(f"y: {flags.size} values for {len(x)} rows of x; it needs one per row")
    elif flags.dtype != bool:
        problems.append(f"y: must be boolean (True: a case of interest), got dtype {flags.dtype}")
    elif not flags.any():
        problems.append("y: no case of interest (every value is False); there is nothing to find")
    elif flags.all():
        problems.append("y: every point is a case of interest; no box can concentrate them further")
    if x.shape[1] == 0:
        problems.append("x: no columns; PRIM needs at least one numeric column (an uncertain parameter)")
    duplicated = sorted({str(c) for c in x.columns[x.columns.duplicated()]})
    if duplicated:
        problems.append(f"x: duplicate column names {', '.join(duplicated)}")
    for name in dict.fromkeys(x.columns):
        column = x[name]
        if isinstance(column, pd.DataFrame):
            continue  # a duplicated name, reported above
        dtype = column.dtype
        if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_complex_dtype(dtype):
            problems.append(f"x.{name}: not a real number (dtype {dtype}); PRIM here peels numeric columns only")
        elif not pd.api.types.is_numeric_dtype(dtype):
            problems.append(f"x.{name}: not numeric (dtype {dtype}); PRIM here peels numeric columns only")
        else:
            bad = ~np.isfinite(column.to_numpy(dtype=float, na_value=np.nan))
            if bad.any():
                rows = ", ".join(str(r) for r in x.index[bad][:5]) + (", ..." if bad.sum() > 5 else "")
                problems.append(f"x.{name}: {int(bad.sum())} missing or infinite value(s) (rows {rows})")
    need = minimum_points(alpha) if 0 < alpha < 0.5 else minimum_points(ALPHA)
    if len(x) < need:
        problems.append(
            f"x: {len(x)} rows; PRIM needs at least {need} (1 / alpha) so that one point is at most alpha of the box"
        )
    if problems:
        raise InputError(problems)
    return x.to_numpy(dtype=float), flags


def _midway(a: float, b: float) -> float:
    """The limit between the last value removed and the next value kept."""
    return float(a + (b - a) / 2)


def _best_peel(
    box_x: np.ndarray, box_y: np.ndarray, open_columns: np.ndarray, alpha: float, n_all: int, min_mass: float
) -> tuple[np.ndarray, int, int, float] | None:
    """The peel to take: (which of the box's points it keeps, column, side 0 lower / 1 upper, new limit), or None.

    None when no candidate keeps a mass of at least ``min_mass`` or the best
    candidate would not raise the box's density.
    """
    n = len(box_y)
    k = max(1, math.floor(alpha * n + 1e-9))
    best: tuple[np.ndarray, int, int, float] | None = None
    best_key: tuple[float, bool] | None = None
    for j in range(box_x.shape[1]):
        v = box_x[:, j]
        for side in (0, 1):
            if side == 0:
                cut = np.partition(v, k - 1)[k - 1]  # the k-th lowest value; it and all below it go
                keep = v > cut
                limit = _midway(cut, v[keep].min()) if keep.any() else math.nan
            else:
                cut = np.partition(v, n - k)[n - k]  # the k-th highest value; it and all above it go
                keep = v < cut
                limit = _midway(v[keep].max(), cut) if keep.any() else math.nan
            kept = int(keep.sum())
            if kept == 0 or kept / n_all < min_mass:
                continue
            key = (int(box_y[keep].sum()) / kept, not open_columns[j])  # density, then no new restriction
            if best_key is None or key > best_key:
                best, best_key = (keep, j, side, limit), key
    if best_key is None or best_key[0] <= int(box_y.sum()) / n:
        return None
    return best


def peel(x: pd.DataFrame, y: np.ndarray, *, alpha: float = ALPHA, min_mass: float = MIN_MASS) -> Trajectory:
    """The peeling trajectory of PRIM for the cases ``y`` (boolean, one per row) over the numeric columns of ``x``.

    alpha: the share of the box one peel removes (0 < alpha < 0.5); min_mass:
    the smallest share of all points a box may keep (0 < min_mass < 1). See the
    module's docstring for the algorithm. Raises InputError, one line per
    problem, for: y not boolean or not one value per row, no case or only
    cases, x without columns or with a non-numeric column, a missing or
    infinite value, fewer than ceil(1 / alpha) rows (20 at the default).
    """
    data, flags = _checked(x, y, alpha, min_mass)
    names = tuple(str(c) for c in x.columns)
    n_all, c_all = len(flags), int(flags.sum())
    lower = np.full(len(names), -np.inf)
    upper = np.full(len(names), np.inf)
    inside = np.arange(n_all)
    rows: list[list[float]] = []
    while True:
        n, c = len(inside), int(flags[inside].sum())
        restricted = int((np.isfinite(lower) | np.isfinite(upper)).sum())
        limits = [v for pair in zip(lower, upper, strict=True) for v in pair]
        rows.append([len(rows), n, c, c / c_all, c / n, n / n_all, restricted, *limits])
        open_columns = ~(np.isfinite(lower) | np.isfinite(upper))
        best = _best_peel(data[inside], flags[inside], open_columns, alpha, n_all, min_mass)
        if best is None:
            break
        keep, j, side, limit = best
        inside = inside[keep]
        if side == 0:
            lower[j] = limit
        else:
            upper[j] = limit
    columns = [*STATS, *(f"{name}.{side}" for name in names for side in ("lower", "upper"))]
    counts = {"step": "int64", "points": "int64", "cases": "int64", "restricted": "int64"}
    steps = pd.DataFrame(rows, columns=columns).astype(counts)
    return Trajectory(steps=steps, dimensions=names, points=n_all, cases=c_all, alpha=alpha, min_mass=min_mass)


def choose(trajectory: Trajectory, *, min_density: float = MIN_DENSITY) -> Box | None:
    """The box to report: of the steps whose density is at least ``min_density``, the one with the highest coverage.

    Ties in coverage go to the higher density. As peeling raises the density
    at every step and never raises the coverage, this is the box at the end of
    the run of steps with the first qualifying coverage. None when no step
    reaches ``min_density`` (then no box concentrates the cases that much). The
    default, 0.8, asks that four in five of the box's points be cases of
    interest; an analyst reading the trade-off figure may choose another.
    """
    if not 0 < min_density <= 1:
        raise InputError([f"min_density: {min_density} must be above 0 and at most 1 (a share of the box's points)"])
    steps = trajectory.steps
    ok = steps[steps["density"] >= min_density]
    if ok.empty:
        return None
    best = ok.sort_values(["coverage", "density"], ascending=False, kind="stable").iloc[0]
    return trajectory.box(int(best["step"]))


def inside(box: Box, x: pd.DataFrame) -> np.ndarray:
    """Which rows of ``x`` lie inside ``box`` (boolean, one per row): lower < x < upper on each restricted column.

    Columns are matched by name as :func:`peel` wrote them (``str`` of the label).
    """
    columns = {str(c): c for c in x.columns}
    missing = [name for name, _, _ in box.limits if name not in columns]
    if missing:
        raise InputError([f"x: no column {name}, which the box restricts" for name in missing])
    mask = np.ones(len(x), dtype=bool)
    for name, lower, upper in box.limits:
        values = x[columns[name]].to_numpy(dtype=float)
        mask &= (values > lower) & (values < upper)
    return mask


def _number(value: float) -> str:
    """A limit in three significant digits, without an exponent: 0.8204 -> 0.82, 12345.6 -> 12300."""
    return np.format_float_positional(value, precision=3, unique=False, fractional=False, trim="-")


def describe(box: Box, case: str = "the case of interest occurs") -> str:
    """One plain-English line: ``case`` when the restricted columns lie in their limits (coverage, density).

    For example "A does worse than B when responsiveness_scale < 0.82 and
    attrition > 0.21 (coverage 74%, density 88%)". Limits in three significant
    digits, columns in x's order; a box with no restriction reads "... across
    the sampled ranges, in no narrower region more often" (it had read
    "anywhere", as if everywhere, where its density was 88%).
    """
    conditions = []
    for name, lower, upper in box.limits:
        if np.isfinite(lower) and np.isfinite(upper):
            conditions.append(f"{_number(lower)} < {name} < {_number(upper)}")
        elif np.isfinite(lower):
            conditions.append(f"{name} > {_number(lower)}")
        else:
            conditions.append(f"{name} < {_number(upper)}")
    where = (
        f"when {' and '.join(conditions)}"
        if conditions
        else "across the sampled ranges, in no narrower region more often"
    )
    return f"{case} {where} (coverage {box.coverage:.0%}, density {box.density:.0%})"


def tradeoff_figure(
    trajectory: Trajectory, chosen: Box | None, path: Path, *, title: str = "PRIM peeling trajectory"
) -> None:
    """Density against coverage along the peeling trajectory, coloured by restricted columns, ``chosen`` ringed; PNG.

    matplotlib is imported here, with the Agg canvas bound to this figure only
    (no pyplot, no global backend), so importing this module stays light.
    """
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import BoundaryNorm
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    if chosen is not None and not (0 <= chosen.step < len(trajectory.steps) and trajectory.box(chosen.step) == chosen):
        raise InputError([f"chosen: the box of step {chosen.step} is not a box of this trajectory"])
    steps = trajectory.steps
    dims = steps["restricted"].to_numpy()
    top = max(int(dims.max()), 1)
    colours = colormaps["viridis"].resampled(top + 1)
    fig = Figure(figsize=(7, 4.8), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(steps["coverage"], steps["density"], color="#bbbbbb", lw=1, zorder=1)
    dots = ax.scatter(
        steps["coverage"],
        steps["density"],
        c=dims,
        cmap=colours,
        norm=BoundaryNorm(np.arange(-0.5, top + 1.5), colours.N),
        s=24,
        zorder=2,
    )
    bar = fig.colorbar(dots, ax=ax, ticks=range(top + 1))
    bar.set_label("restricted dimensions")
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if chosen is not None:
        ax.scatter(
            [chosen.coverage],
            [chosen.density],
            s=160,
            facecolors="none",
            edgecolors="#d62728",
            linewidths=2,
            zorder=3,
            label=f"chosen box (step {chosen.step}: coverage {chosen.coverage:.0%}, density {chosen.density:.0%})",
        )
        ax.legend(loc="lower left", fontsize=8)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("coverage (share of all cases of interest inside the box)")
    ax.set_ylabel("density (share of the box's points that are cases)")
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    fig.savefig(path, dpi=110)
