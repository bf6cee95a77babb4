"""Commands on replicated experiments: ``compare``, ``experiment`` and ``report``."""

from __future__ import annotations

from pathlib import Path

import click

from sim.cli.batch import (
    EXECUTOR_CHOICE,
    check_executor,
    finish_batch,
    opened_batch,
    paired_batch_options,
    run_batch_or_stop,
    run_timeout_option,
    written,
)
from sim.cli.common import (
    NamedPath,
    Whole,
    check_report_out,
    loading_libraries,
    read_path,
    report_progress,
    reported_errors,
    rerun_command,
    scenario_and_params,
)
from sim.cli.field_sets import EXPERIMENT_OWN, parse_sets, set_option, sets_said, with_sets
from sim.errors import InputError


@click.command("compare")
@click.argument("scenario_file", type=read_path())  # read_toml refuses a folder in one line
@click.option(
    "--policy",
    "policy_names",
    multiple=True,
    required=True,
    help="Policy to compare (repeat); the first is the baseline.",
)
@click.option(
    "--replications",
    type=Whole(min=1),
    default=10,
    show_default=True,
    help="Runs of each policy, on common random numbers (3 or more for intervals).",
)
@click.option(
    "--quarters", type=Whole(min=1, max=400), default=None, help="Quarters to simulate (default: the file's)."
)
@click.option(
    "--out",
    "out_dir",
    type=NamedPath(),
    default=None,
    help="Store, report and exports go here.",
)
@click.option(
    "--metric",
    "metric_names",
    multiple=True,
    help="A headline metric to compare (repeat; default: profit first, then revenue, misses, treatment and cost). "
    "docs/metrics.md lists them all; another choice reuses the stored runs.",
)
@paired_batch_options
def compare_command(
    scenario_file: Path,
    policy_names: tuple[str, ...],
    metric_names: tuple[str, ...],
    replications: int,
    workers: int | None,
    executor: str,
    seed: int | None,
    quarters: int | None,
    out_dir: Path | None,
    fresh: bool,
    run_timeout: float | None,
    param_pairs: tuple[str, ...],
    set_pairs: tuple[str, ...],
) -> None:
    """Compare policies over replications with common random numbers (paired)."""
    with loading_libraries():
        from sim.experiment.comparison import comparison
        from sim.experiment.spec import metric_faults
        from sim.policies import policy_params

    with reported_errors():
        metric_names = tuple(dict.fromkeys(metric_names))  # a metric given twice is one
        try:
            scenario, params, said = scenario_and_params(scenario_file, policy_names, param_pairs, quarters, set_pairs)
        except InputError as e:  # the metrics the catalogue lacks beside them (their lines and roles need it)
            raise InputError(
                [*(f"--metric {metric_names[i]}: {f}" for i, f in metric_faults(metric_names)), *e.problems]
            ) from None
        faults = metric_faults(metric_names, scenario.reported_lines, scenario.seat_roles)
        problems = [f"--metric {metric_names[i]}: {fault}" for i, fault in faults]
        try:  # the policies' parameters' problems beside the metrics', not after them
            params = policy_params(policy_names, params, scenario, str(scenario_file))
        except InputError as e:
            raise InputError([*problems, *e.problems]) from None
        if problems:
            raise InputError(problems)
        experiment = comparison(
            scenario, str(scenario_file), policy_names, replications, seed, quarters, params, metric_names, said
        )
        check_executor(executor, workers, run_timeout=run_timeout)
        if out_dir is not None:
            check_report_out(out_dir, fresh=fresh)
        batch = opened_batch(experiment, scenario, out_dir, fresh)
        hint = rerun_command()
        outcome = run_batch_or_stop(batch, executor, workers, None, hint, run_timeout)
        finish_batch(batch, outcome, out_dir, hint)
        batch.store.close()


@click.command("experiment")
@click.argument("experiment_file", type=read_path())  # read_toml refuses a folder in one line
@click.option(
    "--out",
    "out_dir",
    type=NamedPath(),
    default=None,
    help="Default: out/<experiment name>.",
)
@click.option("--workers", type=Whole(min=1), default=None, help="Workers (default: cores).")
@click.option(
    "--executor",
    type=EXECUTOR_CHOICE,
    default="processes",
    show_default=True,
    help="Where runs execute: this process, worker processes, or a Dask cluster.",
)
@click.option("--scheduler", default=None, help="Address of a running Dask scheduler (with --executor dask).")
@click.option("--fresh", is_flag=True, help="Discard what --out holds and start again.")
@run_timeout_option
@set_option
def experiment_command(
    experiment_file: Path,
    out_dir: Path | None,
    workers: int | None,
    executor: str,
    scheduler: str | None,
    fresh: bool,
    run_timeout: float | None,
    set_pairs: tuple[str, ...],
) -> None:
    """Run an experiment file; rerunning the same command resumes it."""
    with loading_libraries():
        from sim.experiment.design import plan_runs
        from sim.experiment.loading import left_out, load_experiment
        from sim.experiment.spec import SOBOL_ADVISED

    with reported_errors():
        try:
            sets = parse_sets(set_pairs, EXPERIMENT_OWN)
            problems = []
        except InputError as e:  # said beside the file's own
            sets, problems = {}, e.problems
        try:
            exp, scenario = load_experiment(experiment_file, plan_runs)
        except InputError as e:
            raise InputError([*problems, *e.problems]) from None
        if problems:
            raise InputError(problems)
        source = str(experiment_file.parent / exp.scenario)
        if sets:  # a researcher re-ran a design under an assumed number by copying and editing its scenario
            scenario = with_sets(scenario, sets, source, exp.factors)
        notes, left = left_out(experiment_file, exp)
        # The report opens with what the runs' scenario is not the file's by: --set fields, shocks left out.
        if said := " ".join(filter(None, (sets_said(set_pairs, source), left))):
            exp = exp.model_copy(update={"description": "\n\n".join(filter(None, (said, exp.description)))})
        if exp.design.kind == "sobol" and exp.design.samples < SOBOL_ADVISED:  # said before the runs, not after
            click.echo(
                f"note: {experiment_file}: design.samples: a base sample of {exp.design.samples} is below the "
                f"{SOBOL_ADVISED} docs/experiments.md advises for Sobol' indices: they will be rough",
                err=True,
            )
        for note in notes:
            click.echo(f"note: {note}", err=True)
        check_executor(executor, workers, scheduler, run_timeout)
        out_dir = out_dir or Path("out") / exp.name
        check_report_out(out_dir, fresh=fresh)
        batch = opened_batch(exp, scenario, out_dir, fresh, source=str(experiment_file))
        hint = rerun_command(out_dir)
        outcome = run_batch_or_stop(batch, executor, workers, scheduler, hint, run_timeout)
        finish_batch(batch, outcome, out_dir, hint)
        batch.store.close()


@click.command("report")
@click.argument("out_dir", type=NamedPath("name the experiment's folder", file_okay=False, exists=True))
def report_command(out_dir: Path) -> None:
    """Write report.md, figures, results.csv and results.parquet from the store of an experiment, compare or
    stress test."""
    with loading_libraries():
        from sim.experiment.report import write_report
        from sim.experiment.report.ledger import unfinished
        from sim.experiment.store import STORE_NAME, Store

    with reported_errors():
        if not (out_dir / STORE_NAME).exists():
            raise InputError([f"{out_dir}: no experiment store ({STORE_NAME}) here"])
        check_report_out(out_dir, "report folder", "nothing was written", batch=False)
        store = Store.existing(out_dir)
        try:
            with report_progress() as step:
                path = write_report(store, out_dir, step)
            partial = unfinished(store.ledger())
        finally:  # on Ctrl-C too: SQLite folds its side files (-wal, -shm) into the store and removes them
            store.close()
        click.echo(written(path, out_dir))
        if partial:  # an interrupted batch's report: said where the answer is read, and here
            click.echo(f"note: {partial}", err=True)
