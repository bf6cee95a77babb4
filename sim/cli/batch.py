"""A replicated batch on the command line, shared by ``compare``, ``experiment`` and ``stress``: its options,
opening it, running it (Ctrl-C keeps what finished), the terminal's answer and statistics, and finishing it (the
report, the failed runs, the resume hint)."""

from __future__ import annotations

import contextlib
import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from sim.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    Amount,
    Whole,
    one_line,
    os_error_text,
    param_option,
    report_progress,
    say_error,
)
from sim.cli.field_sets import set_option
from sim.errors import FailedRuns, InputError
from sim.format import counted, not_shown

if TYPE_CHECKING:
    from sim.experiment.batch import Batch
    from sim.experiment.runner import BatchOutcome
    from sim.experiment.spec import Experiment
    from sim.scenario import Scenario

EXECUTOR_CHOICE = click.Choice(["serial", "processes", "dask"])

F = TypeVar("F", bound=Callable[..., Any])


#: ``--run-timeout``: a run past it is stopped and recorded as failed (a user policy stuck in a loop), the batch
#: going on; the same command retries it.
run_timeout_option = click.option(
    "--run-timeout",
    type=Amount(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Stop a run after this long and record it as failed (--executor processes; default: no limit).",
)


def paired_batch_options(command: F) -> F:
    """The options of a batch built from the command line (``compare``, ``stress``): where runs execute, the
    root seed, starting again, a run's time limit, the policies' parameters and the scenario's ``--set`` fields."""
    for option in reversed(
        (
            click.option("--workers", type=Whole(min=1), default=None, help="Worker processes (default: cores)."),
            click.option(
                "--executor",
                type=EXECUTOR_CHOICE,
                default="processes",
                show_default=True,
                help="Where runs execute: this process, worker processes, or a Dask cluster.",
            ),
            click.option("--seed", type=Whole(min=0), default=None, help="Root seed (default: the scenario's)."),
            click.option("--fresh", is_flag=True, help="Discard what --out holds and start again."),
            run_timeout_option,
            param_option,
            set_option,
        )
    ):
        command = option(command)
    return command


def opened_batch(
    experiment: Experiment, scenario: Scenario, out_dir: Path | None, fresh: bool, source: str = ""
) -> Batch:
    """``sim.experiment.batch.open_batch``; with ``fresh``, the folder's old report goes with its old store (an
    interrupted fresh batch had left the old report beside the new runs, read as theirs)."""
    from sim.experiment.batch import open_batch

    batch = open_batch(experiment, scenario, out_dir, fresh, source)
    if fresh and out_dir is not None:
        from sim.experiment.report import FIGURES, FILES, remove_figures

        for name in FILES:
            (out_dir / name).unlink(missing_ok=True)
        remove_figures(out_dir)  # the report's own: a file of the user's there stays (the folder had gone whole)
        with contextlib.suppress(OSError):  # emptied: it goes; else it keeps what is not the report's
            (out_dir / FIGURES).rmdir()
    return batch


def finish_batch(batch: Batch, outcome: BatchOutcome, out_dir: Path | None, resume_hint: str) -> None:
    """The answer and statistics to the terminal, the report to --out, exit 1 if a run failed."""
    click.echo(
        f"{counted(outcome.done, 'run')} done, {outcome.skipped:,} already stored, {outcome.failed:,} failed "
        f"({outcome.seconds:.1f} s); {counted(batch.cells, 'cell')} from {counted(len(batch.specs), 'distinct run')}",
        err=True,
    )
    if batch.replications_stored > batch.experiment.replications:
        click.echo(
            f"note: the store holds {batch.replications_stored} replications and these results use the first "
            f"{batch.experiment.replications}; ask for {batch.replications_stored} to use them all",
            err=True,
        )
    from sim.experiment.design import unread_rows

    if unread := unread_rows(batch.experiment, int(batch.store.meta("design_rows_held") or 0)):
        click.echo(f"note: the store holds {unread}", err=True)
    if out_dir is None:
        _summary(batch)
    else:
        from sim.experiment.report import write_report

        writing = False
        try:
            _summary(batch)
            writing = True
            across: list[str] = []
            with report_progress() as step:
                report = write_report(batch.store, out_dir, step, across)
        except (OSError, KeyboardInterrupt) as e:  # the runs are stored: say so, and how to write the report
            kept = f"{counted(len(batch.store.finished_keys()), 'run')} stored in {out_dir}; write it with: "
            batch.store.close()  # SQLite folds its side files (-wal, -shm) into the store and removes them
            if isinstance(e, KeyboardInterrupt):
                when = "while writing the report" if writing else "before the report was written"
                click.echo(f"\ninterrupted {when}; {kept}covsim report {out_dir}", err=True)
                sys.exit(EXIT_INTERRUPTED)
            what = "the report" if writing else "the summary to the terminal"
            say_error(f"{what} could not be written ({os_error_text(e)}); {kept}covsim report {out_dir}")
            sys.exit(EXIT_FAILED)
        for finding in across:  # the report's answer ends with it; the terminal's was said before the report
            click.echo("\nAcross the design: " + finding.replace("`", ""))
        click.echo("\n" + written(report, out_dir))
    if outcome.failed:
        from sim.experiment.batch import user_policy_fingerprints

        click.echo("", err=True)
        # A fault said once with the runs it failed (a policy author's one bug had been said once a replication),
        # as the first of them says it: where it names the first row it failed on, each run names its own.
        same: dict[str, list[tuple[str, str]]] = {}
        for key, error in outcome.errors:
            spec = batch.specs.get(key)
            run = f"{key[:12]} ({spec.policy}, seed {spec.seed})" if spec is not None else key[:12]
            said = one_line(error)
            same.setdefault(re.sub(r" \(the first: [^)]*\)", "", said), []).append((run, said))
        said_ten = list(same.values())[:10]
        for runs in said_ten:
            (first, error), others = runs[0], len(runs) - 1
            say_error(f"{f'run {first}' if not others else f'{len(runs)} runs ({first}, and {others} more)'}: {error}")
        shown = sum(len(runs) for runs in said_ten)
        more = f" ({outcome.failed - shown} more in the report)" if outcome.failed > shown else ""
        kept = (
            f"the others are stored. Fix the cause and resume with: {resume_hint}"
            if batch.store.folder is not None
            else "fix the cause and run it again (with --out FOLDER, finished runs are kept for a resume)"
        )
        if batch.store.folder is not None and user_policy_fingerprints(batch.experiment):
            # The store is bound to the policies' code: a fix there makes its runs another experiment's.
            kept += f" (a fix in a user policy's own code starts afresh: {resume_hint} --fresh)"
        say_error(f"{counted(outcome.failed, 'run')} failed{more}; {kept}")
        sys.exit(EXIT_FAILED)


def _replications(values: Any, planned: int) -> str:
    """How many replications the means are over: ``planned``, and the fewer of each policy with a failed run."""
    finished = values.groupby("policy", sort=False)["replication"].nunique()
    fewer = "".join(f", {n} for {p}" for p, n in finished.items() if n < planned)
    return counted(planned, "replication") + fewer


def check_executor(
    executor: str, workers: int | None, scheduler: str | None = None, run_timeout: float | None = None
) -> None:
    """InputError for options the executor would leave unused (a batch run otherwise than asked, without a
    word), before any folder is made; a ``scheduler`` that cannot be reached too."""
    problems = []
    if run_timeout is not None and executor != "processes":
        problems.append(
            f"--run-timeout: only with --executor processes (a run in this process or on a Dask worker cannot be "
            f"stopped from here), not {executor}"
        )
    if workers is not None and executor == "serial":
        problems.append("--workers: not with --executor serial, which runs every run in this process")
    if scheduler and executor != "dask":
        problems.append("--scheduler: only with --executor dask")
    elif scheduler and workers is not None:
        problems.append("--workers: not with --scheduler: the Dask cluster's own workers run the batch")
    if problems:
        raise InputError(problems)
    if scheduler:
        _check_reachable(scheduler)


def _check_reachable(address: str, seconds: float = 5.0) -> None:
    """InputError unless a TCP connection to the scheduler ``address`` (``tcp://host:port``) opens: before any
    folder is made, where Dask's own client would fail only after its 20 s timeout, with a store left behind."""
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = where.hostname, where.port
    except ValueError:
        host = port = None
    if not host or not port:
        raise InputError([f"--scheduler {address}: not an address like tcp://host:8786"])
    try:
        socket.create_connection((host, port), timeout=seconds).close()
    except OSError as e:
        raise InputError(
            [f"--scheduler {address}: cannot reach it ({e.strerror or e}); is the Dask scheduler running?"]
        ) from None


def _summary(batch: Batch) -> None:
    """The answer, the means and the paired differences (or a stress suite's table) to the terminal."""
    from sim.answer_layout import with_finding
    from sim.experiment.report.answer import answer, cited_point, units_caution
    from sim.experiment.report.assumed import assumed_by_point
    from sim.experiment.stats import (
        HOLM_ALONE,
        MIN_REPLICATIONS,
        absent_metrics,
        describe,
        holm_alone,
        paired_against,
        run_values,
    )
    from sim.tables import differences_table, means_table, metrics_legend

    exp = batch.experiment
    results = batch.store.results()
    if not results.empty and exp.suite:
        from sim.experiment.report.stress_answer import stress_answer
        from sim.experiment.report.team_notes import unshocked_idle
        from sim.experiment.stress import DECISION_METRIC, analyse
        from sim.tables import stress_table

        order = [p.key for p in exp.policies]
        points = batch.store.points()
        findings = analyse(results, points, exp.suite, len(exp.policies), exp.replications)
        idle = unshocked_idle(results, points, order, str)
        click.echo(with_finding(stress_answer(findings, order, markdown=False), idle, markdown=False))
        shown = findings.impacts[findings.impacts.metric == DECISION_METRIC]  # the table's metric: its pairs
        fewest = int(shown["n"].min()) if not shown.empty else exp.replications
        fewer = f", as few as {fewest} for some" if fewest < exp.replications else ""
        click.echo(
            f"\nMeans of {counted(exp.replications, 'paired replication')}{fewer} (every interval is in the report):"
        )
        click.echo(stress_table(findings.impacts, findings.recovery, findings.stresses[1:], order, findings.inert_of))
    elif not results.empty:
        absent = absent_metrics(exp.metrics, results)
        metrics = [m for m in exp.metrics if m not in absent]
        values = run_values(results, metrics)
        order = [p.key for p in exp.policies]
        design = batch.store.points()
        factor_names = [f.name for f in exp.factors]
        said = answer(
            values,
            metrics,
            order,
            exp.baseline_label,
            design,
            factor_names,
            markdown=False,
            across_points=exp.one_policy_grid,
            results=results,
            worlds=assumed_by_point(batch.scenario.model_dump(mode="json"), exp.factors, design),
        )
        said = with_finding(said, units_caution(batch.scenario.population.buying_units, len(order), str), False)
        click.echo(said)  # the first line a reader gets (``| head -1``)
        if absent:
            click.echo(f"Not shown: {not_shown(absent)}")
        if values.empty:
            return
        # The tables are of the point the answer cites (its figures were of the first, another point's lead).
        cited = cited_point(values, metrics, order, exp.baseline_label, exp.one_policy_grid, design, factor_names)
        point = int(values.point.min()) if cited is None else cited
        first = values[values.point == point]
        where = ""
        if exp.factors:
            factors = design.set_index("point").loc[point, factor_names]
            setting = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in factors.items())
            which = "the one the answer cites; " if values.point.nunique() > 1 and cited is not None else ""
            where = f" at design point {point} ({setting}; {which}every point is in the report)"
        intervals = (
            "95% t intervals (cut at each metric's limits)"
            if exp.replications >= MIN_REPLICATIONS
            else f"no intervals: they need at least {MIN_REPLICATIONS}"
        )
        click.echo(
            f"\nMeans over {_replications(first, exp.replications)} (whole run, segment all), {intervals}{where}:"
        )
        click.echo(means_table(describe(first, bootstrap=False), metrics, order))
        if exp.one_policy_grid and values.point.nunique() > 1:
            _point_differences(values, design, factor_names, metrics)
        else:
            statistics = (
                "Bonferroni-adjusted 95% CI and Holm-adjusted p over the comparisons shown"
                if exp.replications >= MIN_REPLICATIONS
                else f"no intervals or p-values: they need at least {MIN_REPLICATIONS} replications"
            )
            click.echo(f"\nPaired differences (common random numbers), {statistics}:")
            paired = paired_against(first, exp.baseline_label)
            click.echo(differences_table(paired, metrics, exp.baseline_label, order, set(first.policy)))
            if holm_alone(paired):
                click.echo(HOLM_ALONE)
        click.echo("\n" + metrics_legend(metrics))


def run_batch_or_stop(
    batch: Batch,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    resume_hint: str,
    run_timeout: float | None = None,
) -> BatchOutcome:
    """Run what the batch has not stored; on Ctrl-C, say how much is stored and how to resume."""
    from sim.experiment.batch import execute_batch

    stored = len(batch.store.finished_keys())
    if (todo := len(batch.specs) - stored) and not sys.stderr.isatty():
        # Where no progress bar is drawn (a log, a batch job), what is to come, before it comes: a researcher's log
        # had nothing until "640 runs done" a minute later.
        click.echo(
            f"running {counted(todo, 'run')} ({stored:,} of {len(batch.specs):,} already stored) ...",
            err=True,
        )
    try:
        with warnings.catch_warnings():  # the command line says failed runs itself, and exits 1
            warnings.simplefilter("ignore", FailedRuns)
            return execute_batch(batch, executor, workers, scheduler, run_timeout)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        stored = len(batch.store.finished_keys())
        in_memory = batch.store.folder is None
        batch.store.close()
        if in_memory:  # nothing outlives the process: rerunning would start again
            click.echo(
                f"\ninterrupted: {stored:,} of {counted(len(batch.specs), 'run')} finished, none kept (without --out "
                "the runs are held in memory only); run it again with --out FOLDER to keep finished runs",
                err=True,
            )
        else:
            click.echo(
                f"\ninterrupted: {stored:,} of {counted(len(batch.specs), 'run')} stored; resume with: {resume_hint}",
                err=True,
            )
        sys.exit(EXIT_INTERRUPTED)


def written(report: Path, out_dir: Path) -> str:
    """The line naming what a report wrote: itself, the results, the screening's or sensitivity's table and the
    figures."""
    from sim.experiment.report import FIGURES, MORRIS_CSV, RESULTS_CSV, RESULTS_PARQUET, SENSITIVITY_CSV

    files = [report, out_dir / RESULTS_CSV, out_dir / MORRIS_CSV, out_dir / SENSITIVITY_CSV]
    figures = sorted((out_dir / FIGURES).glob("*.png"))
    named = [str(f) for f in files if f.exists()] + (
        [f"{counted(len(figures), 'figure')} in {out_dir / FIGURES}"] if figures else []
    )
    return f"wrote {', '.join(named)} and {out_dir / RESULTS_PARQUET}"


def _point_differences(values: Any, design: Any, factor_names: list[str], metrics: list[str]) -> None:
    """One policy over a grid: each design point against the first, as the report's table has them."""
    from sim.experiment.stats import point_differences
    from sim.tables import differences_table

    first = int(values.point.min())
    paired = point_differences(values, first)
    label = {int(p): f"point {int(p)}" for p in design["point"]}
    click.echo(
        "\nPaired differences of each design point against the first (one policy; every point runs the same "
        "seeds: common random numbers), Bonferroni-adjusted 95% CI and Holm-adjusted p over every comparison:"
    )
    shown = paired.assign(policy=paired["point"].map(label))
    order = [label[int(p)] for p in sorted(design["point"])]
    finished = {label[int(p)] for p in values.point.unique()}
    click.echo(differences_table(shown, metrics, label[first], order, finished))
    settings = design.set_index("point")[factor_names]
    for point, row in settings.iterrows():
        click.echo(f"  point {int(point)}: " + ", ".join(f"{k} = {v}" for k, v in row.items()))
