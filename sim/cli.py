"""The ``covsim`` command line: parses, calls the library, writes. Nothing else.

Bad input prints one line per problem naming where it is and exits 2, with no
traceback. Outputs are written only when the work is finished, each file
atomically, so an interrupted command leaves nothing half-written.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import pandas as pd

from sim.errors import InputError, PolicyError
from sim.policies import BUILT_IN, make_policy, policy_class
from sim.run import run as run_model
from sim.scenario import dump_scenario, load_scenario
from sim.writing import atomic_write, atomic_write_text

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


@contextmanager
def _reported_errors() -> Iterator[None]:
    try:
        yield
    except InputError as e:
        for line in e.problems:
            click.echo(f"error: {line}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except PolicyError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("interrupted: nothing was written", err=True)
        sys.exit(EXIT_INTERRUPTED)


def _parse_params(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; VALUE is read as a TOML value (42, 0.5, true, "text") or else as text."""
    params: dict[str, Any] = {}
    problems = []
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            problems.append(f"--param {pair!r}: expected KEY=VALUE")
            continue
        try:
            params[key] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            params[key] = raw
    if problems:
        raise InputError(problems)
    return params


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="covsim")
def main() -> None:
    """covsim: simulate sales coverage models before you roll them out."""


@main.command()
@click.argument("scenario_file", type=click.Path(dir_okay=False, path_type=Path))
def validate(scenario_file: Path) -> None:
    """Check a scenario file and print it with every default filled in."""
    with _reported_errors():
        scenario = load_scenario(scenario_file)
        make_policy(scenario.policy.name, dict(scenario.policy.params), where=f"{scenario_file}: policy")
        click.echo(dump_scenario(scenario), nl=False)


@main.command()
def policies() -> None:
    """List the built-in coverage policies and their parameters."""
    for cls in BUILT_IN.values():
        click.echo(cls.describe())
        click.echo()


@main.command()
@click.argument("scenario_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--policy",
    "policy_names",
    multiple=True,
    help="Policy name or package.module:ClassName; repeat to compare. Default: the scenario's.",
)
@click.option(
    "--param",
    "param_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="Policy parameter (repeatable), given to each named policy that has it; replaces the scenario's policy params.",
)
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Seed (default: the scenario's).")
@click.option(
    "--quarters",
    type=click.IntRange(min=1, max=400),
    default=None,
    help="Horizon in quarters (default: the scenario's).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write metrics.csv, weekly.csv and summary.png here.",
)
def run(
    scenario_file: Path,
    policy_names: tuple[str, ...],
    param_pairs: tuple[str, ...],
    seed: int | None,
    quarters: int | None,
    out_dir: Path | None,
) -> None:
    """Run a scenario under one or more policies and summarise it quarter by quarter."""
    from sim.plots import write_summary_png
    from sim.summary import comparison_table, quarter_table

    with _reported_errors():
        scenario = load_scenario(scenario_file)
        if quarters is not None:
            scenario = scenario.with_overrides(f"{scenario_file} (with --quarters {quarters})", quarters=quarters)
        names = policy_names or (scenario.policy.name,)
        if len(set(names)) != len(names):
            raise InputError(["--policy: a policy is named twice"])
        cli_params = _parse_params(param_pairs)
        policies = []
        taken: set[str] = set()
        for name in names:
            if param_pairs:
                # Each --param goes to the named policies that have it, as an experiment factor does.
                accepted = policy_class(name, "--policy.name").Params.model_fields
                params = {k: v for k, v in cli_params.items() if k in accepted or len(names) == 1}
                taken.update(params)
                policies.append(make_policy(name, params, where="--policy"))
            elif name == scenario.policy.name:
                policies.append(make_policy(name, dict(scenario.policy.params), where=f"{scenario_file}: policy"))
            else:
                policies.append(make_policy(name, {}, where="--policy"))
        unused = sorted(set(cli_params) - taken)
        if unused:
            raise InputError(
                [f"--param {k}: none of the policies ({', '.join(names)}) has this parameter" for k in unused]
            )
        results = []
        for policy in policies:
            click.echo(f"running {scenario.name} under {policy!r} ...", err=True)
            result = run_model(scenario, policy, seed)
            results.append(result)
            click.echo(
                f"\n{policy.name}: {scenario.name}, seed {result.seed}, "
                f"{scenario.population.customers:,} accounts, {sum(g.count for g in scenario.reps)} reps "
                f"({result.seconds:.2f} s)"
            )
            click.echo(quarter_table(result.metrics))
        metrics = pd.concat([r.metrics for r in results], ignore_index=True)
        if len(results) > 1:
            click.echo(f"\nSide by side, whole run ({scenario.quarters} quarters, segment all):")
            click.echo(comparison_table(metrics))
        if out_dir is not None:
            weekly = pd.concat([r.weekly for r in results], ignore_index=True)
            atomic_write(out_dir / "metrics.csv", lambda p: metrics.to_csv(p, index=False))
            atomic_write(out_dir / "weekly.csv", lambda p: weekly.to_csv(p, index=False))
            title = f"{scenario.name}: {', '.join(r.policy for r in results)} (seed {results[0].seed})"
            atomic_write(out_dir / "summary.png", lambda p: write_summary_png(metrics, title, p))
            click.echo(f"\nwrote {out_dir / 'metrics.csv'}, {out_dir / 'weekly.csv'} and {out_dir / 'summary.png'}")


EXECUTOR_CHOICE = click.Choice(["serial", "processes", "dask"])


def _finish_batch(batch: Any, outcome: Any, out_dir: Path | None, resume_hint: str) -> None:
    """Statistics to the terminal, the report to --out, exit 1 if a run failed."""
    from sim.experiment.stats import describe, paired_differences, run_values
    from sim.experiment.summary import differences_table, means_table

    exp = batch.experiment
    click.echo(
        f"{outcome.done} runs done, {outcome.skipped} already stored, {outcome.failed} failed "
        f"({outcome.seconds:.1f} s); {batch.cells} cells from {len(batch.specs)} distinct runs",
        err=True,
    )
    results = batch.store.results()
    if not results.empty:
        values = run_values(results, exp.metrics)
        point = int(values.point.min())
        first = values[values.point == point]
        where = ""
        if exp.factors:
            factors = batch.store.points().set_index("point").loc[point, [f.name for f in exp.factors]]
            setting = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in factors.items())
            where = f" at design point {point} ({setting}; every point is in the report)"
        click.echo(f"\nMeans over {exp.replications} replications, 95% t intervals (whole run, segment all){where}:")
        order = [p.key for p in exp.policies]
        click.echo(means_table(describe(first), exp.metrics, order))
        click.echo("\nPaired differences (common random numbers), 95% CI, Holm-adjusted p:")
        paired = paired_differences(first, exp.baseline_label)
        click.echo(differences_table(paired, exp.metrics, exp.baseline_label, order))
    if out_dir is not None:
        from sim.experiment.report import write_report

        report = write_report(batch.store, out_dir)
        click.echo(f"\nwrote {report}, {out_dir / 'results.csv'} and {out_dir / 'results.parquet'}")
    if outcome.failed:
        click.echo(f"\n{outcome.failed} run(s) failed:", err=True)
        for key, error in outcome.errors[:10]:
            click.echo(f"  {key}: {error}", err=True)
        click.echo(f"fix the cause and resume with: {resume_hint}", err=True)
        sys.exit(1)


def _run_batch(batch: Any, executor: str, workers: int | None, scheduler: str | None, resume_hint: str) -> Any:
    from sim.experiment.batch import execute_batch

    try:
        return execute_batch(batch, executor, workers, scheduler)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        stored = len(batch.store.finished_keys())
        batch.store.close()
        click.echo(
            f"\ninterrupted: {stored} of {len(batch.specs)} runs are stored; resume with: {resume_hint}", err=True
        )
        sys.exit(EXIT_INTERRUPTED)


@main.command()
@click.argument("scenario_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--policy",
    "policy_names",
    multiple=True,
    required=True,
    help="Policy to compare (repeat); the first is the baseline.",
)
@click.option("--replications", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes (default: cores).")
@click.option("--executor", type=EXECUTOR_CHOICE, default="processes", show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Root seed (default: the scenario's).")
@click.option("--quarters", type=click.IntRange(min=1, max=400), default=None)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Store, report and exports go here.",
)
@click.option("--fresh", is_flag=True, help="Discard what --out holds and start again.")
def compare(
    scenario_file: Path,
    policy_names: tuple[str, ...],
    replications: int,
    workers: int | None,
    executor: str,
    seed: int | None,
    quarters: int | None,
    out_dir: Path | None,
    fresh: bool,
) -> None:
    """Compare policies over replications with common random numbers (paired)."""
    from sim.experiment.batch import open_batch
    from sim.experiment.spec import Experiment, PolicyEntry

    with _reported_errors():
        scenario = load_scenario(scenario_file)
        if len(set(policy_names)) != len(policy_names):
            raise InputError(["--policy: a policy is named twice"])
        for name in policy_names:
            make_policy(name, {}, where="--policy")
        experiment = Experiment(
            name=f"compare-{scenario.name}",
            scenario=str(scenario_file),
            seed=scenario.seed if seed is None else seed,
            replications=replications,
            quarters=quarters,
            policies=tuple(PolicyEntry(name=n, label=n.rpartition(":")[2]) for n in policy_names),
        )
        if quarters is not None:
            scenario = scenario.with_overrides(f"{scenario_file} (with --quarters {quarters})", quarters=quarters)
        batch = open_batch(experiment, scenario, out_dir, fresh)
        hint = "covsim " + " ".join(sys.argv[1:]).replace(" --fresh", "")
        outcome = _run_batch(batch, executor, workers, None, hint)
        _finish_batch(batch, outcome, out_dir, hint)
        batch.store.close()


@main.command()
@click.argument("experiment_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Default: out/<experiment name>.",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Workers (default: cores).")
@click.option("--executor", type=EXECUTOR_CHOICE, default="processes", show_default=True)
@click.option("--scheduler", default=None, help="Address of a running Dask scheduler (with --executor dask).")
@click.option("--fresh", is_flag=True, help="Discard what --out holds and start again.")
def experiment(
    experiment_file: Path, out_dir: Path | None, workers: int | None, executor: str, scheduler: str | None, fresh: bool
) -> None:
    """Run an experiment file; rerunning the same command resumes it."""
    from sim.experiment.batch import open_batch
    from sim.experiment.spec import load_experiment

    with _reported_errors():
        exp, scenario = load_experiment(experiment_file)
        if scheduler and executor != "dask":
            raise InputError(["--scheduler: only with --executor dask"])
        out_dir = out_dir or Path("out") / exp.name
        batch = open_batch(exp, scenario, out_dir, fresh)
        hint = f"covsim experiment {experiment_file} --out {out_dir}"
        outcome = _run_batch(batch, executor, workers, scheduler, hint)
        _finish_batch(batch, outcome, out_dir, hint)
        batch.store.close()


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
def report(out_dir: Path) -> None:
    """Write report.md, figures, results.csv and results.parquet from a stored experiment."""
    from sim.experiment.report import write_report
    from sim.experiment.store import STORE_NAME, Store

    with _reported_errors():
        if not (out_dir / STORE_NAME).exists():
            raise InputError([f"{out_dir}: no experiment store ({STORE_NAME}) here"])
        store = Store.existing(out_dir)
        path = write_report(store, out_dir)
        store.close()
        click.echo(f"wrote {path}")


def _crm_export_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options naming a CRM export's files and its column mapping (calibrate, backtest)."""
    for option in reversed(
        (
            click.option(
                "--accounts", "accounts_file", type=click.Path(path_type=Path), required=True, help="Accounts CSV."
            ),
            click.option(
                "--pipeline", "pipeline_file", type=click.Path(path_type=Path), required=True, help="Opportunities CSV."
            ),
            click.option(
                "--teams", "teams_file", type=click.Path(path_type=Path), required=True, help="Sales agents CSV."
            ),
            click.option(
                "--products", "products_file", type=click.Path(path_type=Path), default=None, help="Products CSV."
            ),
            click.option(
                "--column",
                "column_pairs",
                multiple=True,
                metavar="FILE_KIND.FIELD=NAME",
                help="Read a field from another column, e.g. pipeline.close_value=amount (repeatable).",
            ),
        )
    ):
        command = option(command)
    return command


@main.command()
@_crm_export_options
@click.option(
    "--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Scenario to write."
)
@click.option("--cutoff", default=None, metavar="YYYY-MM-DD", help="Use only opportunities engaged before this date.")
@click.option(
    "--customers",
    type=click.IntRange(min=1, max=50_000_000),
    default=None,
    help="Accounts in the scenario (default: those in the accounts file, times --units); segment shares are kept.",
)
@click.option(
    "--units",
    type=click.IntRange(min=1, max=1000),
    default=1,
    show_default=True,
    help="Model each account as this many buying units, dividing its opportunity rate and wallet among them "
    "(for accounts with more opportunities than the model's one per account and week).",
)
def calibrate(
    accounts_file: Path,
    pipeline_file: Path,
    teams_file: Path,
    products_file: Path | None,
    out_file: Path,
    column_pairs: tuple[str, ...],
    cutoff: str | None,
    customers: int | None,
    units: int,
) -> None:
    """Calibrate a scenario from a CRM export (accounts, pipeline, teams, products)."""
    from sim import crm

    with _reported_errors():
        columns = crm.parse_columns(column_pairs)
        cutoff_date = crm.parse_cutoff(cutoff)
        export = crm.read_export(accounts_file, pipeline_file, teams_file, products_file, columns)
        cleaned, notes = crm.clean(export, cutoff_date)
        calibration = crm.calibrate(cleaned, customers, units)
        all_notes = [*notes, *calibration.notes]
        parts = ["covsim calibrate", f"--accounts {accounts_file}", f"--pipeline {pipeline_file}"]
        parts += [f"--teams {teams_file}"] + ([f"--products {products_file}"] if products_file else [])
        parts += [f"--column {c}" for c in column_pairs] + ([f"--cutoff {cutoff}"] if cutoff else [])
        parts += ([f"--customers {customers}"] if customers else []) + ([f"--units {units}"] if units > 1 else [])
        parts += [f"--out {out_file}"]
        name = crm.scenario_name(out_file.stem)
        text, data = crm.scenario_toml(calibration, all_notes, name, " ".join(parts))
        crm.check_scenario_text(text, data, str(out_file))
        click.echo("Data checks:")
        for note in all_notes:
            click.echo(f"  - {note}")
        click.echo()
        for line in crm.summary_lines(calibration):
            click.echo(line)
        atomic_write(out_file, lambda p: p.write_text(text, encoding="utf-8"))
        click.echo(f"\nwrote {out_file}")


@main.command()
@_crm_export_options
@click.option("--cutoff", required=True, metavar="YYYY-MM-DD", help="Calibrate on what was known before this date.")
@click.option(
    "--quarters", type=click.IntRange(min=1, max=8), default=2, show_default=True, help="Quarters simulated after it."
)
@click.option("--seeds", type=click.IntRange(min=2, max=1000), default=20, show_default=True, help="Runs (seeds 1..N).")
@click.option(
    "--units",
    type=click.IntRange(min=1, max=1000),
    default=None,
    help="Buying units per account (default: enough to keep the model's arrivals within 5% of the data's rates).",
)
@click.option("--policy", "policy_name", default=None, help="Coverage policy (default: the calibrated scenario's).")
@click.option("--param", "param_pairs", multiple=True, metavar="KEY=VALUE", help="A parameter of --policy.")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Folder for the results."
)
def backtest(
    accounts_file: Path,
    pipeline_file: Path,
    teams_file: Path,
    products_file: Path | None,
    column_pairs: tuple[str, ...],
    cutoff: str,
    quarters: int,
    seeds: int,
    units: int | None,
    policy_name: str | None,
    param_pairs: tuple[str, ...],
    out_dir: Path | None,
) -> None:
    """Calibrate on a CRM export before --cutoff, simulate the quarters after it, compare with what happened."""
    from sim import backtest as bt
    from sim import crm
    from sim.plots import write_backtest_png

    with _reported_errors():
        columns = crm.parse_columns(column_pairs)
        cutoff_date = crm.parse_cutoff(cutoff)
        assert cutoff_date is not None  # --cutoff is required
        params = _parse_params(param_pairs)
        if params and policy_name is None:
            raise InputError(["--param: give the policy it is for with --policy"])
        policy = None
        if policy_name is not None:
            name = policy_name
            make_policy(name, params, where="--policy")  # a bad name or parameter fails before any work

            def policy(_scenario: Any) -> Any:
                return make_policy(name, params, where="--policy")

        export = crm.read_export(accounts_file, pipeline_file, teams_file, products_file, columns)
        with click.progressbar(length=seeds, label="simulating", file=sys.stderr) as bar:
            result = bt.backtest(
                export,
                cutoff_date,
                quarters,
                range(1, seeds + 1),
                units,
                policy,
                progress=lambda done, total: bar.update(1),
            )
        click.echo("Data checks (calibration):")
        for note in result.notes:
            click.echo(f"  - {note}")
        label = policy_name or result.scenario.policy.name
        click.echo(f"\nbacktest of {label} on {pipeline_file}")
        for line in bt.summary_lines(result):
            click.echo(line)
        if out_dir is not None:
            table = result.table()
            seeds_frame = pd.DataFrame(
                [
                    {"seed": s, **{m: o.value(m) for m, _ in bt.MEASURES}}
                    for s, o in zip(result.seeds, result.simulated, strict=True)
                ]
            )
            out_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(out_dir / "scenario.toml", result.scenario_text)
            atomic_write(out_dir / "seeds.csv", lambda p: seeds_frame.to_csv(p, index=False))
            title = f"Backtest {result.cutoff} + {quarters} quarters, {label}, {seeds} seeds"
            atomic_write(out_dir / "backtest.png", lambda p: write_backtest_png(table, seeds_frame, title, p))
            atomic_write(out_dir / "backtest.csv", lambda p: table.to_csv(p, index=False))
            click.echo(f"\nwrote {out_dir}/backtest.csv, seeds.csv, backtest.png, scenario.toml")


if __name__ == "__main__":
    main()
