"""The report of a stored experiment: Markdown with tables and figures, CSV and Parquet exports.

Everything is read from the store (and ``manifest.json`` beside it when
present), so ``covsim report DIR`` rebuilds the same report from a finished or
interrupted batch. Every file is written through ``sim.files.atomic_write``:
a reader sees the previous file or the new one, never a torn one.

Files written into ``out_dir``:

- ``report.md``: the answer (the best policy on the first headline metric
  with a direction of better, against the baseline), what was run, the
  ledger, means with 95% t and bootstrap intervals, paired differences
  against the baseline, sensitivity tables for sampled designs, the figures
  with captions, methods and reproducibility;
- ``results.csv`` and ``results.parquet``: the tidy results of finished runs
  joined with the factor values of their design point;
- scenario discovery (sampled designs): for each policy, the PRIM box of the
  factor values where it does worse than the baseline (``discovery``), with
  its peeling trade-off as ``figures/discovery_<policy>.png``;
- ``morris.csv`` (Morris designs): mu*, mu, sigma and the noise floor of the elementary effects
  per factor, metric and comparison (screening);
- ``sensitivity.csv`` (lhs and sobol designs): the Sobol' indices or rank correlations, and the replication
  noise, per comparison, metric and factor, unrounded (``export.sensitivity_table``);
- ``figures/*.png``: the figures embedded in the report.

Modules: context (what the report reads from the store), answer (the sentence
the report and the terminal summary open with) and answer_notes (what it adds
after it), markdown (text pieces),
sections and design_sections (the Markdown sections of one design point and
across design points), figures and design_figures (the same for the figures),
export (results.csv and results.parquet), screening (morris.csv and
its section). Importing this package loads matplotlib, scipy and pyarrow:
import it only to write a report.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display is needed or assumed (before any module here imports pyplot)

import pandas as pd

from sim.answer_layout import with_finding
from sim.experiment import stats
from sim.experiment.report.answer import answer, chosen_metric, cited_point, units_caution
from sim.experiment.report.assumed import assumed_by_point
from sim.experiment.report.context import ReportContext, load_context
from sim.experiment.report.design_figures import response_figure, sobol_figure
from sim.experiment.report.design_sections import (
    design_finding,
    point_stats,
    regret_section,
    sampled_sensitivity,
    sensitivity_section,
    worlds_of,
)
from sim.experiment.report.discovery import SAMPLED, discovery_section
from sim.experiment.report.export import (
    RESULTS_CSV,
    RESULTS_PARQUET,
    SENSITIVITY_CSV,
    export_results,
    sensitivity_table,
    write_sensitivity_csv,
)
from sim.experiment.report.factorial import factorial_section
from sim.experiment.report.figures import (
    FIGURE_NAMES,
    FIGURES,
    ReportFigure,
    lorenz_figure,
    missed_figure,
    policy_figure,
    weekly_figure,
)
from sim.experiment.report.ledger import ledger, unfinished
from sim.experiment.report.markdown import code
from sim.experiment.report.on_top import on_top_section
from sim.experiment.report.paired_figure import paired_figure
from sim.experiment.report.screening import MORRIS_CSV, morris_lead, morris_screening, morris_section, write_morris_csv
from sim.experiment.report.sections import (
    figure_lines,
    means_section,
    methods,
    paired_section,
    reproducibility,
    table_points,
    what_was_run,
)
from sim.experiment.report.stress_answer import stress_answer
from sim.experiment.report.stress_figures import STRESS_FIGURE_NAMES, impact_figure, series_figure
from sim.experiment.report.stress_sections import (
    impact_section,
    misses_section,
    rollout_section,
    sources_section,
    stress_regret_section,
    suite_section,
    versus_section,
)
from sim.experiment.report.team_notes import unshocked_idle
from sim.experiment.report.team_size import team_size_note
from sim.experiment.store import Store
from sim.experiment.stress import Findings, analyse

__all__ = ["FIGURES", "FILES", "REPORT", "remove_figures", "write_report"]

REPORT = "report.md"
#: The report's files in its folder (its figures are in FIGURES: ``remove_figures``).
FILES = (REPORT, RESULTS_CSV, RESULTS_PARQUET, MORRIS_CSV, SENSITIVITY_CSV)
#: The prefix of the hidden folder a report is written into before its files are moved into place.
STAGING = ".report-"


def _clean_leftovers(out_dir: Path) -> None:
    """Remove the staging folder a killed report left behind (every file is written inside it)."""
    for stage in out_dir.glob(f"{STAGING}*"):
        shutil.rmtree(stage, ignore_errors=True)


def _quiet(_: str) -> None:
    """A step of the report, unreported."""


def write_report(
    store: Store, out_dir: Path, step: Callable[[str], None] = _quiet, across: list[str] | None = None
) -> Path:
    """Write report.md, figures/*.png, results.csv and results.parquet into ``out_dir``; return report.md's path.
    ``across``, when given, receives what the design finds across its points (a Morris screening's lead, a
    factorial's interactions: the answer's "Across the design:"), for the terminal to say too.

    The files are written all or none: into a hidden staging folder in
    ``out_dir`` first, and moved into place only once every one is done, so a
    failure (a full disk, a figure that cannot be drawn) leaves the previous
    report as it was. ``step`` is told each part before it is made
    ("results", "statistics", a figure's file name, "report.md"), for a
    progress display.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    owned = store.folder is not None and store.folder.resolve() == out_dir.resolve()
    if owned:
        _clean_leftovers(out_dir)  # we hold the store's lock: no other covsim process writes here
    stage = Path(tempfile.mkdtemp(dir=out_dir, prefix=STAGING))
    try:
        try:
            ctx, produced, finding = _write(store, out_dir, stage, step)
        except OSError as e:  # named by the report's own file, not the staging folder about to go
            name = Path(e.filename).name if e.filename else REPORT
            raise OSError(e.errno, f"{e.strerror or e}; the previous report is unchanged", str(out_dir / name)) from e
        moves = [(made, out_dir / made.relative_to(stage)) for made in sorted(stage.rglob("*")) if made.is_file()]
        for _, target in moves:  # a folder in a file's place is found before any file is moved
            if target.is_dir():
                raise IsADirectoryError(
                    errno.EISDIR, "a folder stands where the file goes; the previous report is unchanged", str(target)
                )
        for made, target in moves:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(made, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    if owned:  # after the new files are in place: a failure above leaves the old report whole
        remove_figures(out_dir, produced)
        if ctx.experiment.design.kind != "morris" or ctx.results.empty:
            (out_dir / MORRIS_CSV).unlink(missing_ok=True)  # an earlier design's screening would mislead
        if ctx.experiment.design.kind not in ("lhs", "sobol") or ctx.results.empty:
            (out_dir / SENSITIVITY_CSV).unlink(missing_ok=True)
    if across is not None and finding:
        across.append(finding)
    return out_dir / REPORT


def _write(
    store: Store, out_dir: Path, stage: Path, step: Callable[[str], None]
) -> tuple[ReportContext, list[str], str]:
    """Every file of the report of ``store`` (whose manifest is in ``out_dir``) into ``stage``; returns the
    context read, the figures drawn and what the design finds across its points ("" for none)."""
    step("results")
    ctx = load_context(store, out_dir)
    export_results(ctx, stage)
    step("statistics")

    exp = ctx.experiment
    lines = [f"# {exp.name}", ""]
    if exp.description:
        lines += [exp.description.strip(), ""]
    findings = (
        analyse(ctx.results, ctx.points, exp.suite, len(exp.policies), exp.replications)
        if exp.suite and not ctx.results.empty
        else None
    )
    values = stats.run_values(ctx.results, ctx.metrics) if not ctx.results.empty else pd.DataFrame()
    if findings is not None:
        idle = unshocked_idle(ctx.results, ctx.points, ctx.policies, code)  # the answer's notes of the team
        lines += [with_finding(stress_answer(findings, ctx.policies), idle), ""]
    else:
        said = answer(
            values,
            ctx.metrics,
            ctx.policies,
            ctx.baseline,
            ctx.points,
            ctx.factors,
            across_points=exp.one_policy_grid,
            results=ctx.results,
            worlds=assumed_by_point(ctx.scenario, exp.factors, ctx.points),
        )
        units = int(ctx.scenario.get("population", {}).get("buying_units", 1))
        lines += [with_finding(said, units_caution(units, len(ctx.policies), lambda s: f"`{s}`")), ""]
    answer_at = len(lines) - 2
    if partial := unfinished(ctx.cells.drop_duplicates("run_key")):  # before the answer is taken for the batch's
        lines += [f"**Partial:** {partial}", ""]
    lines += what_was_run(ctx)
    lines += ["", *ledger(ctx)]

    produced: list[str] = []
    finding = ""
    if ctx.results.empty:
        lines += [
            "",
            "## Results",
            "",
            "No finished runs yet: there is nothing to summarise. Run (or resume) the batch, then rebuild this "
            "report with `covsim report` on this folder.",
        ]
    elif findings is not None:
        sections, produced = _stress_sections(ctx, findings, stage, step)
        lines += sections
    elif values.empty:
        lines += [
            "",
            "## Results",
            "",
            "None of the headline metrics has a value in these runs (What was run lists them): there is nothing to "
            f"summarise. Every metric the runs have is in `{RESULTS_CSV}`; rerun with others (`--metric`, or the "
            "experiment file's `metrics`), which reuses the stored runs.",
        ]
    else:
        sections, produced, finding = _results_sections(ctx, values, stage, step)
        lines += sections
        # A team-size factor is a decision: where each policy makes the most, said as part of what the design finds.
        team = team_size_note(ctx, code)
        if finding:  # a sampled design's own answer, across its points, after the one at the first point
            lines[answer_at] = with_finding(lines[answer_at], f"Across the design: {finding}")
        lines[answer_at] = with_finding(lines[answer_at], team)  # a finding of its own
        finding = " ".join(filter(None, [finding, team]))  # the terminal says both after its tables

    lines += ["", *methods(ctx), "", *reproducibility(ctx), ""]
    step(REPORT)
    (stage / REPORT).write_text("\n".join(lines), encoding="utf-8")
    return ctx, produced, finding


def remove_figures(out_dir: Path, produced: Sequence[str] = ()) -> None:
    """Figures of an earlier report that this one did not draw (``produced``; after --fresh, say) would mislead:
    remove them. A file of the figures' folder that no report draws (a user's own) is left as it is."""
    keep = {Path(p).name for p in produced}
    for path in (out_dir / FIGURES).glob("*.png"):
        named = path.stem in FIGURE_NAMES or path.stem in STRESS_FIGURE_NAMES
        named = named or path.stem.startswith(("response_", "discovery_"))
        if path.name not in keep and named:
            path.unlink(missing_ok=True)


def _stress_sections(
    ctx: ReportContext, findings: Findings, out_dir: Path, step: Callable[[str], None]
) -> tuple[list[str], list[str]]:
    """The sections of a stress test (``findings``) with its figures drawn into ``out_dir``, and their paths."""
    figures_dir = out_dir / FIGURES
    lines = ["", *suite_section(findings)]
    lines += ["", *impact_section(findings, ctx.policies)]
    lines += ["", *sources_section(findings, ctx.policies)]
    lines += ["", *misses_section(findings, ctx.policies)]
    for section in (
        stress_regret_section(findings),
        versus_section(findings),
        rollout_section(findings, ctx.policies),
        on_top_section(findings, ctx.policies),
    ):
        if section:
            lines += ["", *section]
    step("stress_impact.png")
    # Against staying: the answer compares with the model in force only where it is one of the policies (a VP read
    # the caption's promise of a sentence the answer did not have).
    staying = "the answer says" if findings.in_force else "compare it too (a --policy of its own), and the answer says"
    impact = impact_figure(
        ctx,
        findings.impacts,
        findings.stresses,
        figures_dir / "stress_impact.png",
        tuple(findings.rollout_stresses),
        staying,
    )
    step("stress_series.png")
    series = series_figure(
        ctx, findings.gaps, findings.first_quarter, findings.stresses, figures_dir / "stress_series.png"
    )
    drawn = [f for f in (impact, series) if f is not None]
    lines += ["", "## Figures"]
    for number, figure in enumerate(drawn, start=1):
        lines += figure_lines(number, figure)
    lines += ["", f"All results, one row per run, quarter, segment and metric: `{RESULTS_CSV}`, `{RESULTS_PARQUET}`."]
    return lines, [f.path for f in drawn]


def _results_sections(
    ctx: ReportContext, values: pd.DataFrame, out_dir: Path, step: Callable[[str], None]
) -> tuple[list[str], list[str], str]:
    """The sections on finished runs (``values``: their run values) with their figures drawn into ``out_dir``,
    the figures' paths, and what a Morris or sampled design finds across its points in a sentence (for the
    answer; "" for other designs); ``step`` is told each figure before it is drawn."""
    figures_dir = out_dir / FIGURES
    cited = cited_point(
        values, ctx.metrics, ctx.policies, ctx.baseline, ctx.experiment.one_policy_grid, ctx.points, ctx.factors
    )
    points, truncated = table_points(ctx, values, cited)
    first = ctx.first_point
    shown = sorted({*points, first})
    described = stats.describe(values[values.point.isin(shown)])
    if not described.empty:
        described = described.astype({"n": int})

    lines = ["", *means_section(ctx, described, points, truncated)]
    lines += ["", *paired_section(ctx, values, points, truncated)]

    per_point = point_stats(values, worlds_of(ctx)) if len(ctx.points) > 1 else pd.DataFrame()
    regret = regret_section(ctx, per_point)
    if regret:
        lines += ["", *regret]
    effects, interactions = factorial_section(ctx, values, chosen_metric(ctx.metrics))
    if effects:
        lines += ["", *effects]

    indices_figure = None
    measures = None
    if ctx.experiment.design.kind in ("lhs", "sobol") and ctx.factors:
        measures = sampled_sensitivity(ctx, values)
        write_sensitivity_csv(sensitivity_table(measures.indices, measures.correlations, measures.noise), out_dir)
    if measures is not None and ctx.experiment.design.kind == "sobol":
        indices_figure = sobol_figure(ctx, measures.indices, measures.noise, figures_dir / "sobol_indices.png")
    finding = design_finding(ctx, per_point, chosen_metric(ctx.metrics)) or interactions
    if ctx.experiment.design.kind == "morris" and ctx.factors:
        screening, problem = morris_screening(ctx, values)
        write_morris_csv(screening, out_dir)
        sensitivity = morris_section(ctx, screening, problem)
        finding = "" if problem else morris_lead(ctx, screening)
    else:
        sensitivity = sensitivity_section(ctx, measures, indices_figure)
    if sensitivity:
        lines += ["", *sensitivity]
    if ctx.experiment.design.kind in SAMPLED:
        step("scenario discovery")
    discovered, discovery_figures = discovery_section(ctx, per_point, figures_dir)
    if discovered:
        lines += ["", *discovered]

    # The figures of one design point are of the one the answer cites: those of the first had shown a clear lead
    # beside an answer citing a point where it was not clear.
    at = cited if cited in shown else first
    drawers: list[tuple[str, Callable[[Path], ReportFigure | None]]] = [
        ("policy_comparison.png", lambda path: policy_figure(ctx, described, at, path)),
        ("paired_differences.png", lambda path: paired_figure(ctx, values, at, path)),
        ("missed_by_cause.png", lambda path: missed_figure(ctx, at, path)),
        ("lorenz_attention.png", lambda path: lorenz_figure(ctx, ctx.lorenz, at, path)),
        ("weekly_series.png", lambda path: weekly_figure(ctx, ctx.weekly, at, path)),
    ]
    if ctx.factors and not per_point.empty:
        for factor in ctx.factors:
            drawers.append((f"response_{factor}.png", partial(response_figure, ctx, per_point, factor)))
    figures: list[ReportFigure | None] = []
    for name, draw in drawers:
        step(name)
        figures.append(draw(figures_dir / name))
    figures.append(indices_figure)
    figures += discovery_figures
    drawn = [f for f in figures if f is not None]
    lines += ["", "## Figures"]
    for number, figure in enumerate(drawn, start=1):
        lines += figure_lines(number, figure)
    lines += ["", f"All results, one row per run, quarter, segment and metric: `{RESULTS_CSV}`, `{RESULTS_PARQUET}`."]
    return lines, [f.path for f in drawn], finding
