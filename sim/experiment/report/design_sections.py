"""The report's sections across design points: per-point means, robustness (regret) and sensitivity.

Sensitivity is Sobol' indices for Sobol' designs and Spearman rank
correlations for Latin hypercubes; a grid has neither.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.catalogue import CATALOGUE
from sim.experiment import robustness, sensitivity, stats
from sim.experiment.report import sensitivity_notes as notes
from sim.experiment.report.context import ReportContext
from sim.experiment.report.figures import ReportFigure
from sim.experiment.report.markdown import ci, code, md_table, regret_rows, value_text
from sim.experiment.report.team_size import SEATS_TARGET
from sim.format import counted, fmt, p_value
from sim.policies import policy_class


def point_stats(values: pd.DataFrame, worlds: Mapping[int, str] | None = None) -> pd.DataFrame:
    """Per (point, policy, metric): the mean of the run values (``stats.run_values``) and its 95% t interval, cut
    to the metric's limits (no bootstrap: fast), over the replications in which every policy has a value of the
    metric at every point of the same world (``worlds``: each point's, the points a policy's levers tell apart
    being one world; None: each point its own), a policy with none there, the metric undefined for it, aside. So
    policies and lever settings are set against each other on common random numbers: a failed run or an
    undefined value takes its replication out for every choice, as in the answer's means and the stress regret.
    A policy's own mean over all its runs had let one failed run in a bad replication decide the robust
    choice."""
    finite = values[np.isfinite(values["value"].to_numpy(dtype=float))]
    world = finite["point"].map(worlds) if worlds is not None else finite["point"]
    wide = finite.assign(world=world.to_numpy()).pivot_table(
        index=["world", "metric", "replication"], columns=["point", "policy"], values="value", sort=False
    )
    rows = []
    for (_, metric), g in wide.groupby(level=["world", "metric"], sort=False):
        common = g.dropna(axis=1, how="all").dropna(how="any")
        for point, policy in common.columns if len(common) else ():
            x = common[(point, policy)].to_numpy(dtype=float)
            lo, hi = stats.t_interval(x, limits=stats.metric_limits(str(metric)))
            rows.append((point, policy, metric, float(x.mean()), lo, hi))
    return pd.DataFrame(rows, columns=["point", "policy", "metric", "mean", "t_low", "t_high"])


def worlds_of(ctx: ReportContext) -> dict[int, str] | None:
    """Each design point's world, the setting of the factors that are not a lever (``_levers``:
    ``n = 300, d = 1.5``), when the design has levers (a world's points are then choices to set against each
    other); None without."""
    levers = _levers(ctx)
    if not levers:
        return None
    others = [f for f in ctx.factors if f not in levers]
    setting = ctx.points.set_index("point")
    return {int(p): _setting(setting, int(p), others) for p in setting.index}


def _setting(setting: pd.DataFrame, point: int, names: list[str]) -> str:
    """The values the factors ``names`` take at ``point`` of the design ``setting`` (indexed by point):
    ``n = 300, d = 1.5``."""
    return ", ".join(f"{f} = {value_text(setting.at[point, f])}" for f in names)


def regret_section(ctx: ReportContext, per_point: pd.DataFrame) -> list[str]:
    """Robustness across the worlds the design points set (its ``scenario.*`` factors): each policy's mean, worst
    case and regret, ranked by minimax regret; a policy factor's settings (``policy.*``, a lever, not a world)
    are choices ranked beside the policies. Nothing for one world, but a sentence when every factor is a lever."""
    # In the headline's order, the answer's metric first (the catalogue's order had put revenue before profit).
    metrics = [m for m in ctx.metrics if m in CATALOGUE and CATALOGUE[m].higher_is_better]
    if len(ctx.points) < 2 or not metrics or per_point.empty:
        return []
    if ctx.experiment.design.kind == "morris":
        return [
            "## Robustness across design points",
            "",
            "A Morris design's points are one-at-a-time steps along screening trajectories, not a sample of the "
            "worlds that may come, so no regret across them is ranked; the Sensitivity section says which factors "
            "move the results.",
        ]
    levers = _levers(ctx)
    if levers and len(levers) == len(ctx.factors):
        return [
            "## Robustness across design points",
            "",
            f"Every factor of the design is a choice, a policy's setting or the team's size "
            f"({', '.join(map(code, levers))}), a lever to choose, not an uncertainty: the design points are "
            "choices in one world, not possible worlds, so there is no regret across worlds to rank. The means and paired differences compare the choices.",
        ]
    if len(ctx.policies) * _settings(ctx, levers) < 2:
        return []
    choices = (
        f" Each setting of {', '.join(map(code, levers))} (a lever: a policy's setting or the team's size) is a choice "
        "of its own."
        if levers
        else ""
    )
    lines = [
        "## Robustness across design points",
        "",
        f"Each setting of {', '.join(code(f) for f in ctx.factors if f not in levers)} is a possible world.{choices} "
        "Per world, each choice's mean over the replications in which every choice of that world has a value (common "
        "random numbers); its regret is the best choice's mean minus its own (0 where it is the best). Choices are "
        "ranked by their largest regret (minimax regret, Savage 1951): the robust choice never falls far behind "
        "whatever would have been best in the world that comes. Worlds with no such replication are left out. "
        "The means carry no interval: a regret no larger than the noise between replications is no reason to "
        "choose, so read the ranking beside the paired differences, which say where a lead is clear.",
    ]
    ranked = False
    for metric in metrics:
        ranking = _ranking(ctx, per_point, metric)
        if ranking is None:
            continue
        ranked = True
        world = (lambda w: f"point {w}") if not levers else str
        rows = regret_rows(ranking, functools.partial(fmt, metric), world)
        verdict = robust_verdict(ranking, metric)
        lines += ["", f"{code(metric)} (more is better). {verdict[0].upper()}{verdict[1:]}", ""]
        lines.append(md_table(["choice", "mean", "worst case", "mean regret", "largest regret", "best at"], rows))
    if not ranked:  # the method said over nothing: the reason instead
        sampled = levers and ctx.experiment.design.kind in ("lhs", "sobol")
        lines[-1] = "No choice is ranked across worlds: no world has a mean of every choice. " + (
            f"A sampled design draws {', '.join(map(code, levers))} anew at each point, so each setting meets one "
            "world only; a grid over it (a few settings, each in every world) ranks them."
            if sampled
            else "Their runs failed or are pending in every world (the ledger says which)."
        )
    return lines


def _levers(ctx: ReportContext) -> list[str]:
    """The design's factors that set a policy's parameter (``policy.*``) or the team's size (a rep group's count,
    ``team_size.SEATS_TARGET``): choices, not worlds (an analyst's team sizes were ranked as possible worlds)."""
    return [f.name for f in ctx.experiment.factors if f.target.startswith("policy.") or SEATS_TARGET.match(f.target)]


def _settings(ctx: ReportContext, levers: list[str]) -> int:
    """How many settings of the ``levers`` the design has (1 without any)."""
    return len(ctx.points[levers].drop_duplicates()) if levers else 1


def _ranking(ctx: ReportContext, per_point: pd.DataFrame, metric: str) -> robustness.Ranking | None:
    """The choices ranked by regret over the worlds where each has a mean of ``metric``: without levers, the
    policies over the design points; with them, each policy at each setting of its levers over the settings of
    the other factors."""
    d = per_point[per_point.metric == metric]
    levers = _levers(ctx)
    if not levers:
        wide = d.pivot_table(index="point", columns="policy", values="mean")
        wide = wide[[p for p in ctx.policies if p in wide.columns]].dropna()
        return None if wide.empty or wide.shape[1] < 2 else robustness.rank(wide)
    world = worlds_of(ctx)
    assert world is not None  # there are levers
    setting = ctx.points.set_index("point")

    # A lever moves only the policies with that parameter: another's runs are the same at each of its settings.
    # A team size moves every policy.
    factors = {f.name: f.target.removeprefix("policy.") for f in ctx.experiment.factors}
    entries = {p.key: p.name for p in ctx.experiment.policies}
    moved = {
        key: [f for f in levers if factors[f] in policy_class(name).parameters() or SEATS_TARGET.match(factors[f])]
        for key, name in entries.items()
    }

    def choice(policy: str, point: int) -> str:
        own = moved.get(policy, [])
        return f"{policy} ({_setting(setting, point, own)})" if own else policy

    d = d.assign(
        world=[world[int(p)] for p in d.point],
        choice=[choice(policy, p) for policy, p in zip(d.policy, d.point, strict=True)],
    )
    wide = d.pivot_table(index="world", columns="choice", values="mean", aggfunc="first", sort=False).dropna()
    return None if wide.empty or wide.shape[1] < 2 else robustness.rank(wide)


def robust_verdict(ranking: robustness.Ranking, metric: str) -> str:
    """The minimax-regret choice on ``metric`` in a sentence, and who has the best mean and worst case; said as
    a reading of means, which carry no interval (a researcher's report named a robust choice at a design where
    no lead was clear at any point)."""
    t, robust = ranking.table, ranking.robust
    verdict = (
        f"on the means (no interval), {code(robust)} is the robust choice on {code(metric)}: its largest regret "
        f"over {ranking.worlds} worlds is {fmt(metric, t.at[robust, 'max_regret'])}, the smallest"
    )
    closest = t["max_regret"].drop(robust).idxmin() if len(t) > 1 else None
    if closest is not None and fmt(metric, t.at[closest, "max_regret"]) == fmt(metric, t.at[robust, "max_regret"]):
        # Ranked on means with no interval: a lead too small to show is no reason to choose (a researcher's trial).
        verdict += f" (shown to its precision, level with {code(str(closest))}'s: too small a lead to choose by)"
    others = []
    if ranking.best_mean != robust:
        others.append(f"{code(ranking.best_mean)} has the best mean")
    if ranking.best_worst_case != robust:
        others.append(f"{code(ranking.best_worst_case)} the best worst case")
    return verdict + (f"; {' and '.join(others)}." if others else ", and it also has the best mean and worst case.")


def design_finding(ctx: ReportContext, per_point: pd.DataFrame, metric: str | None) -> str:
    """What a sampled design (lhs, sobol) of several policies finds across its points, for the answer: the
    robust choice on the answer's ``metric`` (when more of it is better); "" otherwise."""
    if ctx.experiment.design.kind not in ("lhs", "sobol") or metric is None or per_point.empty:
        return ""
    if len(ctx.policies) < 2 or not CATALOGUE[metric].higher_is_better:
        return ""
    ranking = _ranking(ctx, per_point, metric)
    return "" if ranking is None else robust_verdict(ranking, metric)


@dataclass(frozen=True)
class Sensitivity:
    """A sampled design's sensitivity measures, of each policy and each other's paired difference from the
    baseline (``sensitivity.with_differences``): Sobol' ``indices`` (sobol designs; empty with the ``problem`` that
    stopped them), rank ``correlations`` (lhs designs) and the replication ``noise``."""

    indices: pd.DataFrame
    correlations: pd.DataFrame
    noise: pd.DataFrame
    problem: str = ""


def sampled_sensitivity(ctx: ReportContext, values: pd.DataFrame) -> Sensitivity:
    """The sensitivity measures of a sampled design's run ``values``; a failing Sobol' statistic gives none and its
    reason, not a failed report."""
    paired = sensitivity.with_differences(values, ctx.policies, ctx.baseline)
    indices, correlations, problem = pd.DataFrame(), pd.DataFrame(), ""
    if ctx.experiment.design.kind == "sobol":
        try:
            indices = sensitivity.sobol_indices(paired, ctx.points, ctx.factors, seed=ctx.experiment.seed)
        except (ArithmeticError, IndexError, ValueError) as e:
            problem = f"{type(e).__name__}: {e}"
    else:
        correlations = sensitivity.rank_correlations(paired, ctx.points, ctx.factors)
    return Sensitivity(indices, correlations, sensitivity.noise_shares(paired), problem)


def sensitivity_section(ctx: ReportContext, measures: Sensitivity | None, figure: ReportFigure | None) -> list[str]:
    """Sobol' indices (or the problem that stopped them) or rank correlations, and the replication noise; nothing
    for a grid."""
    kind = ctx.experiment.design.kind
    if kind == "grid" or not ctx.factors or measures is None:
        return []
    indices, problem, noise = measures.indices, measures.problem, measures.noise
    lines = ["## Sensitivity", ""]
    if kind == "sobol":
        if problem:
            return [*lines, f"Sobol' indices could not be computed ({code(problem)})."]
        if indices.empty:
            status = ctx.cells["status"].value_counts() if not ctx.cells.empty else pd.Series(dtype=int)
            unfinished = int(len(ctx.cells) - status.get("done", 0))
            why = (
                f"the design is incomplete ({unfinished} of its {len(ctx.cells)} cells have no finished run: "
                "every row of every block is needed)"
                if unfinished
                else "the metrics do not vary across the design"
            )
            return [*lines, f"No Sobol' indices: {why}."]
        n = ctx.experiment.design.samples
        intervals = (
            "with 95% bootstrap intervals (999 resamples)"
            if n >= stats.BOOTSTRAP_MIN_REPLICATIONS
            else f"with no intervals: a bootstrap over the design's {n} rows covers less often than it says (they "
            f"are given from {stats.BOOTSTRAP_MIN_REPLICATIONS} rows, as for replications, so from a base sample of "
            f"{1 << (stats.BOOTSTRAP_MIN_REPLICATIONS - 1).bit_length()}: docs/experiments.md, Statistics)"
        )
        lines.append(
            f"Sobol' indices of each headline metric{notes.of_what(ctx)} ({notes.read_as(ctx.experiment.replications)}): first "
            f"order (Saltelli et al. 2010) and total (Jansen 1999), {intervals}."
        )
        if rough := notes.rough(indices, n):
            lines += ["", rough]
        if said := notes.noise_said(noise, ctx.experiment.replications):
            lines += ["", said]
        rows = []
        for p in notes.compared(ctx):
            for metric in ctx.metrics:
                g = indices[(indices.policy == p) & (indices.metric == metric)].set_index("factor")
                for factor in ctx.factors:
                    if factor not in g.index:
                        continue
                    r = g.loc[factor]
                    rows.append(
                        [
                            p,
                            code(metric),
                            factor,
                            f"{r['first_order']:.2f}",
                            ci("", r["first_low"], r["first_high"], lambda _m, v: f"{v:.2f}"),
                            f"{r['total']:.2f}",
                            ci("", r["total_low"], r["total_high"], lambda _m, v: f"{v:.2f}"),
                        ]
                    )
        lines += [
            "",
            md_table(["policy", "metric", "factor", "first order", "95% CI", "total", "95% CI"], rows, "lllrrrr"),
        ]
        if left := notes.unestimated(indices, noise):
            lines += ["", left]
        if lost := notes.without_interval(indices, n):
            lines += ["", lost]
        if noise.noise_share.notna().any():
            lines += ["", notes.noise_table(noise, ctx)]
        if figure is not None:
            lines += ["", "The figure of these indices is with the others below."]
        return lines
    corr = measures.correlations
    if corr.empty:
        return [*lines, "No rank correlations: too few design points with finished runs, or metrics that do not vary."]
    tests = int(np.isfinite(corr["p"].to_numpy(float)).sum())
    lines.append(
        "Spearman rank correlation of each factor with each headline metric across design points (replication "
        f"means){notes.of_what(ctx)}, with its p-value; |rho| near 1 means the metric moves steadily with the factor. "
        "Each p-value is "
        f"its own test, not corrected for the {counted(tests, 'test')} in these tables (a screening "
        "measure: with many, some fall below 0.05 by chance)."
    )
    for p in notes.compared(ctx):
        c = corr[corr.policy == p]
        if c.empty:
            continue
        rows = []
        for metric in ctx.metrics:
            g = c[c.metric == metric].set_index("factor")
            if g.empty:
                continue
            rows.append(
                [code(metric)]
                + [
                    f"{g.at[f, 'spearman']:+.2f} (p {p_value(g.at[f, 'p'])})" if f in g.index else "-"
                    for f in ctx.factors
                ]
            )
        lines += ["", f"### {p}", "", md_table(["metric", *ctx.factors], rows)]
    if left := notes.unestimated(corr, noise, "lhs"):
        lines += ["", left]
    if said := notes.noise_said(noise, ctx.experiment.replications, "correlations"):
        lines += ["", said]
    if noise.noise_share.notna().any():
        lines += ["", notes.noise_table(noise, ctx)]
    return lines
