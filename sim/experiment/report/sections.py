"""The report's sections: what was run, means, paired differences, methods and reproducibility.

Each section is a list of Markdown lines; the tables show the design points
``table_points`` chooses (all of them, or, of a large design, the first and the one the answer cites).
"""

from __future__ import annotations

import pandas as pd

from sim.experiment import stats
from sim.experiment.report.context import ReportContext
from sim.experiment.report.export import RESULTS_CSV
from sim.experiment.report.figures import ReportFigure
from sim.experiment.report.markdown import code, md_table, value_text
from sim.format import (
    counted,
    difference_beside,
    difference_interval,
    interval,
    joined,
    no_spread_words,
    not_shown,
    p_value,
    value_beside,
)
from sim.shocks import shock_text

#: Design points shown one by one in the tables [A]; beyond this, the first and the one the answer cites.
MAX_POINTS_IN_TABLES = 6


def what_was_run(ctx: ReportContext) -> list[str]:
    """The scenario, policies, design, factors, replications, seeds and headline metrics."""
    exp, sc, m = ctx.experiment, ctx.scenario, ctx.manifest
    lines = ["## What was run", ""]
    quarters = sc.get("quarters", exp.quarters)
    lines.append(
        f"- **Base scenario:** {code(str(sc.get('name', exp.scenario)))} (file {code(exp.scenario)})"
        + (f", {counted(quarters, 'quarter')}" if quarters else "")
        + (f'; the scenario file describes it as "{sc["description"]}"' if sc.get("description") else "")
    )
    lines.append(f"- **Policies** (in this order; baseline {code(ctx.baseline)}):")
    for i, p in enumerate(exp.policies):
        params = ", ".join(f"{k} = {value_text(v)}" for k, v in sorted(p.params.items())) or "default parameters"
        name = f" (policy {code(p.name)})" if p.key != p.name else ""
        lines.append(f"    - {code(p.key)}{name}: {'; '.join([params, *ctx.policy_notes(i)])}")
    design, held = exp.design, f"; the store holds {u}" if (u := ctx.rows_unread) else ""
    if design.kind == "morris":
        r, k = design.morris_trajectories, len(exp.factors)
        lines.append(f"- **Design:** morris, {r} trajectories of {k + 1} points, {design.morris_levels} levels{held}")
    else:
        size = f", base sample {design.samples}" if design.kind == "sobol" else f", {design.samples} points"
        lines.append(f"- **Design:** {design.kind}" + (size if design.samples else "") + held)
    if exp.factors:
        lines.append("- **Factors:**")
        for f in exp.factors:
            span = (
                ", ".join(value_text(v) for v in f.values)
                if f.values
                else f"[{value_text(f.low)}, {value_text(f.high)}]"
            )
            extra = ", rounded to whole numbers" if f.integer else ""
            if f.target.startswith("policy."):  # every policy with the parameter: a VP read full_cycle's as none
                setting = [code(p.key) for p in exp.policies if f.target[7:] in ctx.parameters_of(p.name)]
                extra += f", for {', '.join(setting)}" if setting else ""
            lines.append(f"    - {code(f.name)}: {f.mode} {code(f.target)} to {span}{extra}")
    else:  # one setting of the world: one design point, or one a stress with a suite (as its line below says)
        lines.append("- **Factors:** none" + ("" if exp.suite else " (one design point)"))
    shocks = [shock_text(s) for s in ctx.base_scenario.shocks] if sc.get("shocks") else []
    own = shocks[: len(shocks) - len(exp.shocks)]  # the scenario's, then the experiment's (``resolve_base``)
    if own:
        lines.append(
            f"- **The scenario's own shocks**, in every run{' (the unshocked one too)' if exp.suite else ''}: "
            + "; ".join(own)
        )
    if exp.shocks:
        lines.append(f"- **Shocks added to the scenario:** {'; '.join(shocks[len(own) :])}")
    if exp.suite:
        lines.append(
            f"- **Stress suite:** {counted(len(exp.suite), 'stress', 'stresses')}, each a design point beside the "
            "unshocked run (`shock = none`); see The suite"
        )
    points = len(ctx.points)
    lines.append(
        f"- **Replications:** {exp.replications} per design point and policy, {counted(points, 'design point')}, "
        f"{len(ctx.cells)} cells from {ctx.cells['run_key'].nunique()} distinct runs"
        + (
            f"; the store holds {ctx.replications_held}, and this report uses the first {exp.replications} (ask for "
            f"{ctx.replications_held} to use them all)"
            if ctx.replications_held > exp.replications
            else ""
        )
    )
    lines.append(f"- **Root seed:** {exp.seed} (replication seeds are spawned from it)")
    if m is not None and m.get("replication_seeds"):
        seeds = m["replication_seeds"]
        shown = ", ".join(str(s) for s in seeds[:5]) + (", ..." if len(seeds) > 5 else "")
        lines.append(f"- **Replication seeds:** {shown}")
    lines.append(f"- **Headline metrics:** {', '.join(code(x) for x in exp.metrics)}")
    if absent := ctx.absent_metrics:
        lines.append(f"- **Not shown:** {not_shown(absent, code)}")
    return lines


def table_points(ctx: ReportContext, values: pd.DataFrame, cited: int | None = None) -> tuple[list[int], bool]:
    """The design points the tables show, and whether that is fewer than have results: all of them, or the
    first and the one the answer gives a difference at (``cited``, ``answer.cited_point``)."""
    points = sorted(values["point"].unique().tolist())
    if len(points) <= MAX_POINTS_IN_TABLES:
        return points, False
    return sorted({points[0], *([cited] if cited in points else [])}), True


def _shown(ctx: ReportContext, points: list[int]) -> str:
    """Which of a large design's points the tables show: the first, and the one the answer cites."""
    also = f" and design point {points[1]}, the one the answer cites" if len(points) > 1 else ""
    # One policy over a grid compares every point with the first, so its paired table shows them all.
    tables = "this table shows" if ctx.experiment.one_policy_grid else "the tables show"
    return f"The design has {len(ctx.points)} points: {tables} the first{also}; every point is in `{RESULTS_CSV}`."


def means_section(ctx: ReportContext, described: pd.DataFrame, points: list[int], truncated: bool) -> list[str]:
    """Per design point, metric and policy: n, mean, 95% t and bootstrap intervals."""
    lines = [
        "## Means and 95% confidence intervals",
        "",
        "Whole-run value per run, segment `all`; mean over replications with the 95% t interval and the 95% BCa "
        "bootstrap interval (`-`: too few replications, or no defined value; `same in every run`: the value did not "
        "vary, so no interval says how far the mean is known). The bootstrap is given from "
        f"{stats.BOOTSTRAP_MIN_REPLICATIONS} replications: with fewer its 95% interval covers the mean much less "
        "often than 95% (docs/experiments.md).",
    ]
    lines += too_few_replications(ctx)
    if truncated:
        lines.append(_shown(ctx, points))
    for point in points:
        d = described[described.point == point]
        if len(points) > 1 or ctx.factors:
            lines += ["", f"### Design point {point}" + (f": {ctx.point_label(point)}" if ctx.factors else "")]
        rows = []
        for metric in ctx.metrics:
            g = d[d.metric == metric].set_index("policy")
            if g.empty:
                rows.append([code(metric), "(no values recorded)", "0", "-", "-", "-"])
            for p in ctx.policies:
                if p not in g.index:
                    continue
                r = g.loc[p]
                same = "same in every run" if r.get("constant", False) else ""
                t_ci, boot_ci = (
                    same or interval(metric, r["t_low"], r["t_high"]) or "-",
                    same or interval(metric, r["boot_low"], r["boot_high"]) or "-",
                )
                mean = value_beside(metric, float(r["mean"]), r["t_low"], r["t_high"])
                rows.append([code(metric), p, str(int(r["n"])), mean, t_ci, boot_ci])
        lines += ["", md_table(["metric", "policy", "n", "mean", "95% t CI", "95% bootstrap CI"], rows, "llrrrr")]
    return lines


def too_few_replications(ctx: ReportContext) -> list[str]:
    """A warning when the experiment has too few replications for intervals and p-values (none are shown)."""
    n = ctx.experiment.replications
    if n >= stats.MIN_REPLICATIONS:
        return []
    return [
        "",
        f"**Too few replications for intervals:** {n} per cell, and an interval or p-value needs at least "
        f"{stats.MIN_REPLICATIONS} (with 2, a 95% t interval is the mean +- 12.7 standard errors), so none is shown. "
        "Raise `replications` (`--replications` for `covsim compare` and `stress`) and run the same command "
        "again: the runs stored are kept and only the new replications run.",
    ]


def paired_section(ctx: ReportContext, values: pd.DataFrame, points: list[int], truncated: bool) -> list[str]:
    """Per design point, metric and policy: the paired difference against the baseline, Holm p, Bonferroni interval."""
    lines = ["## Paired differences against the baseline", ""]
    present = [p for p in ctx.policies if p in set(values["policy"])]
    if len(ctx.policies) < 2:
        compared = ctx.experiment.one_policy_grid and values["point"].nunique() > 1
        return _across_points(ctx, values) if compared else [*lines, "One policy only: there is nothing to compare."]
    if ctx.baseline not in present:
        return [*lines, f"The baseline {code(ctx.baseline)} has no finished run: no paired comparison."]
    paired = stats.paired_against(values[values.point.isin(points)], ctx.baseline)
    if paired.empty:
        return [*lines, "No policy other than the baseline has a finished run: no paired comparison."]
    lines.append(
        f"Policy minus baseline {code(ctx.baseline)}, paired by replication (common random numbers). Differences "
        "of shares are in percentage points (pp). The Holm-adjusted p-value and the Bonferroni-adjusted "
        "(simultaneous) 95% interval correct for every comparison at the same design point."
    )
    lines += too_few_replications(ctx)
    if truncated:
        lines.append(_shown(ctx, points))
    for point in points:
        d = paired[paired.point == point]
        if d.empty:
            continue
        compared = d["policy"].nunique()
        heading = f"### Design point {point}: {ctx.point_label(point)}" if ctx.factors else ""
        if heading:
            lines += ["", heading]
        lines += ["", _family(d, f"{compared} polic{'ies' if compared != 1 else 'y'}")]
        rows = []
        for metric in ctx.metrics:
            g = d[d.metric == metric].set_index("policy")
            rows += [_difference_row(metric, f"{p} - {ctx.baseline}", g.loc[p]) for p in ctx.policies if p in g.index]
        lines += ["", md_table(_DIFFERENCE_HEADERS, rows, "llrrrrr")]
    if stats.holm_alone(paired[paired.metric.isin(ctx.metrics)]):
        lines += ["", stats.HOLM_ALONE]
    return lines


_DIFFERENCE_HEADERS = ["metric", "comparison", "pairs", "mean difference", "95% CI", "Holm p", "Bonferroni 95% CI"]


def _difference_row(metric: str, comparison: str, r: pd.Series) -> list[str]:
    """One row of a paired-differences table (a row of ``stats.paired_differences``); shares in points. A
    comparison with no spread is no test: its p column says what it is (identical, or the same difference in
    every replication)."""
    untested = f"{no_spread_words(float(r['mean_diff']))} (no test)" if r.get("constant", False) else ""
    return [
        code(metric),
        comparison,
        str(int(r["n"])),
        difference_beside(metric, float(r["mean_diff"]), r["low"], r["high"]),
        difference_interval(metric, r["low"], r["high"], beside=float(r["mean_diff"])) or "-",
        untested or p_value(float(r["p_holm"])),
        difference_interval(metric, r["low_adj"], r["high_adj"], beside=float(r["mean_diff"])) or "-",
    ]


def _family(d: pd.DataFrame, compared: str) -> str:
    """The family line of one paired-differences table: its tests (comparisons with a p-value), and those
    left out: with no spread (the same difference in every replication: no t-test), or too few pairs."""
    family, rows = int(d["family"].iloc[0]), len(d)
    same = int(d["constant"].sum()) if "constant" in d else 0
    few = rows - family - same
    # Too few pairs: fewer replications where both have a value than a test needs, as of a metric one never has.
    left = [
        f"{same} the same in every replication" if same else "",
        f"{few} with fewer than {stats.MIN_REPLICATIONS} paired values (few replications, or a metric one of the "
        "two has no value of)"
        if few
        else "",
    ]
    note = f"; left out, as no test: {joined([x for x in left if x])}" if same or few else ""
    return f"Family: {counted(family, 'comparison')} ({compared} x {counted(d['metric'].nunique(), 'metric')}{note})."


def _across_points(ctx: ReportContext, values: pd.DataFrame) -> list[str]:
    """One policy over a grid: each design point against the first, paired by replication (every point runs
    the same seeds), Holm p and Bonferroni interval over every comparison in the table."""
    first = int(values["point"].min())
    paired = stats.point_differences(values, first)
    compared = paired["point"].nunique()
    lines = [
        "## Paired differences against the first design point",
        "",
        f"One policy, {code(ctx.policies[0])}: each design point minus the first, {ctx.point_label(first)}, paired by "
        "replication (every point runs the same seeds: common random numbers). Differences of shares are in "
        "percentage points (pp). The Holm-adjusted p-value and the Bonferroni-adjusted (simultaneous) 95% interval "
        "correct for every comparison in the table.",
    ]
    lines += too_few_replications(ctx)
    lines += ["", _family(paired, f"{compared} points")]
    rows = [
        _difference_row(metric, f"{ctx.point_label(int(r['point']))} (point {int(r['point'])}) - point {first}", r)
        for metric in ctx.metrics
        for _, r in paired[paired.metric == metric].iterrows()
    ]
    return [*lines, "", md_table(_DIFFERENCE_HEADERS, rows, "llrrrrr")]


def methods(ctx: ReportContext) -> list[str]:
    """How the statistics were computed, and where the metrics are defined."""
    lines = [
        "## Definitions and methods",
        "",
        "Every metric is defined in `docs/metrics.md`; designs and statistics in `docs/experiments.md` "
        "(covsim repository).",
        "",
        "- **Unit of analysis:** one run's whole-run value of a metric for segment `all` (flows summed, stocks at "
        "the end, rates averaged over quarters: `sim.metrics.run_totals`); quarters within a run are not treated "
        "as independent.",
        "- **Common random numbers:** replication r of every policy and design point uses the same seed, spawned "
        "from the root seed, so policies are compared paired, replication by replication.",
        "- **t interval:** mean ± t(0.975, n-1) · s / sqrt(n), s the sample standard deviation of the n run values; "
        "a policy's mean's interval is cut at the values its metric can take (0, and 1 for a share: an end shown "
        "there was cut), which keeps its coverage; a paired difference's at the span of a metric with both limits (a "
        "share's at -1 and +1).",
        f"- **Bootstrap interval:** BCa bootstrap of the mean, {stats.BOOTSTRAP_RESAMPLES} resamples, fixed seed "
        f"{stats.BOOTSTRAP_SEED} (percentile interval when BCa is undefined; given from "
        f"{stats.BOOTSTRAP_MIN_REPLICATIONS} replications).",
    ]
    if ctx.experiment.suite:
        lines += [
            "- **Stress impact:** per replication, the stressed run minus the unshocked run on the same seed, over "
            "the quarters from the stress's first on (before it a run is the unshocked run, or, for a rollout, the "
            "model in force); the mean over replications with its 95% t interval, per comparison (each row of the "
            "impact table is its own question; not adjusted for the number of rows).",
            "- **Recovery:** per quarter, the mean paired difference of `revenue_captured` relative to the "
            "unshocked mean, with its 95% t interval; a quarter is hurt when its interval lies wholly below -2%, "
            "back when wholly above; recovery is the number of quarters from the stress's first quarter to the "
            "first from which every quarter is back, when at least two are left before the horizon's end, and "
            '"not shown hurt" when no quarter before that one is hurt; when the last quarter not back is unclear '
            "(its interval straddles -2%), the replications cannot tell (`sim.experiment.stress.recovery_of`).",
            "- **Regret:** under each stress, the best policy's mean profit minus each policy's; the safer rollout "
            "has the smallest largest regret (minimax regret, Savage 1951), and the answer says whether the "
            "paired intervals of the policies' profit differences, Bonferroni-adjusted over the stresses compared "
            "(the unshocked run included), bear it out; it puts a gap down to a stress only when the paired "
            "difference of the two policies' impacts, Bonferroni-adjusted over the stresses, excludes 0.",
        ]
    else:
        family = (
            "the m comparisons of the design points with the first (points x metrics) that have a p-value"
            if ctx.experiment.one_policy_grid
            else "the m comparisons (policies x metrics) at one design point that have a p-value"
        )
        lines.append(
            "- **Multiple comparisons:** Holm's step-down correction of the paired t-test p-values, and Bonferroni "
            f"intervals at level 1 - 0.05/m, over {family}."
        )
    if ctx.experiment.design.kind == "sobol":
        lines.append(
            "- **Sobol' indices:** Saltelli's A/B/AB design; first order by Saltelli et al. (2010), total by Jansen "
            "(1999), with two or more replications on the means of one half of them read against the other's, with "
            "bootstrap intervals over the design's rows (999 resamples); of each policy and of each other's paired "
            "difference from the baseline."
        )
    if ctx.experiment.design.kind == "lhs":
        lines.append(
            "- **Rank correlation:** Spearman's rho between factor values and replication means, of each policy and "
            "of each other's paired difference from the baseline."
        )
    if ctx.experiment.design.kind in ("lhs", "sobol"):
        lines.append(
            "- **Replication noise:** the share of the variance of the point means that is the replications' own "
            "spread, each replication's constant taken off (`sim.experiment.sensitivity.noise_shares`)."
        )
    if ctx.experiment.design.kind == "morris":
        lines.append(
            "- **Morris screening:** elementary effects on one-at-a-time trajectories (Morris 1991) of each "
            "replication's runs and paired differences (one seed at both points of a step), averaged over the "
            "replications; mu* = mean |effect| (Campolongo, Cariboni & Saltelli 2007), mu, "
            "sigma (sd, n - 1); each factor's noise floor, the mu* below which replication noise alone keeps every "
            "factor in 95% of designs, from the spread of its effects over the replications (docs/experiments.md, "
            "Morris screening)."
        )
    return lines


def reproducibility(ctx: ReportContext) -> list[str]:
    """Config hash, root seed, versions and commit: what reproduces these results."""
    lines = ["## Reproducibility", ""]
    m = ctx.manifest
    if m is None:
        lines.append("No `manifest.json` beside the store; the store's own record:")
        lines.append("")
        lines.append(f"- **Config hash:** `{ctx.config_hash or '-'}`")
        lines.append(f"- **Root seed:** {ctx.experiment.seed}")
        return lines
    lines.append(
        "- **Config hash** (experiment, resolved scenario, covsim's code and any user policy's): "
        f"`{m.get('config_hash', ctx.config_hash)}`"
    )
    lines.append(f"- **Root seed:** {m.get('root_seed', ctx.experiment.seed)}")
    versions = m.get("versions") or {}
    if versions:
        lines.append("- **Versions:** " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    lines.append(f"- **Git commit:** `{m.get('git_commit') or 'unknown (not a git checkout)'}`")
    if m.get("engine_fingerprint"):
        lines.append(f"- **Code fingerprint** (a hash of covsim's source): `{m['engine_fingerprint']}`")
    if m.get("written"):
        # The manifest is written each time the batch is opened, a rerun's too: not when its runs were made.
        lines.append(f"- **Manifest written:** {m['written']} (the batch's last opening: a rerun rewrites it)")
    lines.append(
        "- Runs are pure functions of their configuration and seed: the same experiment file, scenario and "
        "versions give the same results, bit for bit, on any executor."
    )
    return lines


def figure_lines(number: int, figure: ReportFigure) -> list[str]:
    """A figure embedded in the report with its number, title and caption."""
    return ["", f"![Figure {number}: {figure.title}]({figure.path})", "", f"*Figure {number}. {figure.caption}*"]
