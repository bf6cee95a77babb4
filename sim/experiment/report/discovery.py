"""The report's scenario discovery: for a sampled design, where among the uncertain factors each policy does
worse than the baseline, as a PRIM box (``sim.experiment.discovery``)."""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path

import pandas as pd

from sim.catalogue import CATALOGUE
from sim.errors import InputError
from sim.experiment import discovery
from sim.experiment.report.answer import chosen_metric
from sim.experiment.report.context import ReportContext
from sim.experiment.report.figures import FIGURES, ReportFigure
from sim.experiment.report.markdown import code, md_table
from sim.experiment.report.markdown import value_text as show
from sim.files import atomic_write

#: Designs whose points are sampled from the factors' ranges: the ones scenario discovery reads.
SAMPLED = ("lhs", "sobol")


def _limit(value: float) -> str:
    """A box limit; ``-`` for an open side (an infinite limit)."""
    return show(value) if math.isfinite(value) else "-"


def _draw(trajectory: discovery.Trajectory, box: discovery.Box | None, title: str, path: Path) -> None:
    discovery.tradeoff_figure(trajectory, box, path, title=title)


def worse_than_baseline(ctx: ReportContext, per_point: pd.DataFrame, metric: str, policy: str) -> pd.Series:
    """Per design point (with both policies' means): whether ``policy``'s mean of ``metric`` is worse than the
    baseline's, in the catalogue's direction of better."""
    wide = per_point[per_point.metric == metric].pivot_table(index="point", columns="policy", values="mean")
    pair = wide[[policy, ctx.baseline]].dropna()
    if CATALOGUE[metric].higher_is_better:
        return pair[policy] < pair[ctx.baseline]
    return pair[policy] > pair[ctx.baseline]


def discovery_section(
    ctx: ReportContext, per_point: pd.DataFrame, figures_dir: Path
) -> tuple[list[str], list[ReportFigure]]:
    """For a sampled design with a baseline and other policies: each policy's PRIM box of the points where it does
    worse than the baseline on the report's answer metric, its peeling trade-off drawn; nothing otherwise."""
    metric = chosen_metric(ctx.metrics)
    others = [p for p in ctx.policies if p != ctx.baseline]
    if ctx.experiment.design.kind not in SAMPLED or not ctx.factors or not others or metric is None:
        return [], []
    if per_point.empty:
        return [], []
    lines = [
        "## Scenario discovery",
        "",
        f"Where, among the sampled factors, does a policy do worse than the baseline {code(ctx.baseline)} on "
        f"{code(metric)}? One case per design point (worse when its mean over replications is worse than the "
        "baseline's); PRIM peeling (Friedman & Fisher 1999; alpha = "
        f"{discovery.ALPHA}, minimum mass {discovery.MIN_MASS}) finds the box of factor values where those cases "
        f"concentrate; the box shown is the one of highest coverage with a density of at least "
        f"{discovery.MIN_DENSITY:.0%} (Bryant & Lempert 2010). Coverage: the share of all the cases inside the box; "
        "density: the share of the box's points that are cases.",
    ]
    figures = []
    points = ctx.points.set_index("point")
    for policy in others:
        worse = worse_than_baseline(ctx, per_point, metric, policy)
        lines += ["", f"### {policy}", ""]
        n, cases = len(worse), int(worse.sum())
        if cases in (0, n):
            where = "none" if cases == 0 else "every one"
            lines.append(
                f"{code(policy)} does worse than {code(ctx.baseline)} at {where} of the {n} design points with "
                "results: there is no condition to discover."
            )
            continue
        x = points.loc[worse.index, ctx.factors].astype(float)
        need = discovery.minimum_points(discovery.ALPHA)
        if n < need:  # the design, not the data, is short: say what to change
            lines.append(
                f"No PRIM box: {n} design points with results, and PRIM needs at least {need} (with fewer, one "
                "point is more than the share it peels at each step); raise the design's samples."
            )
            continue
        try:
            trajectory = discovery.peel(x, worse.to_numpy())
        except InputError as e:
            lines.append(f"No PRIM box: {'; '.join(e.problems)}")
            continue
        box = discovery.choose(trajectory)
        case = f"{code(policy)} does worse than {code(ctx.baseline)}"
        lines.append(f"{policy} does worse at {cases} of {n} design points ({cases / n:.0%}).")
        if box is None:
            best = trajectory.steps["density"].max()
            lines.append(
                f"No box reaches a density of {discovery.MIN_DENSITY:.0%} (the densest reaches {best:.0%}): the cases "
                "are spread over the factors' ranges, not gathered in one region of them."
            )
        else:
            lines += ["", f"**{discovery.describe(box, case)}.**", ""]
            rows = [[code(name), _limit(lower), _limit(upper)] for name, lower, upper in box.limits]
            if rows:
                lines.append(md_table(["factor", "above", "below"], rows, "lrr"))
        name = f"discovery_{policy}.png"
        path = figures_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        title = f"Where {policy} does worse than {ctx.baseline}: PRIM peeling trajectory"
        atomic_write(path, partial(_draw, trajectory, box, title))
        figures.append(
            ReportFigure(
                f"{FIGURES}/{name}",
                f"Scenario discovery for {policy}: the peeling trade-off",
                f"Density against coverage of each box along the PRIM peeling trajectory of the design points "
                f"where {policy} does worse than {ctx.baseline} on {metric}, coloured by how many factors the box "
                + ("restricts; the box reported is ringed." if box is not None else "restricts; no box is reported."),
            )
        )
    return lines, figures
