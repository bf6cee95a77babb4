"""Commands on one scenario: ``validate``, ``policies`` and ``run``; and ``examples``, the sample files to start from."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sim import stopping
from sim.cli.common import (
    RUN_FILES,
    NamedPath,
    Whole,
    check_out,
    check_single_out,
    loading_libraries,
    one_line,
    param_option,
    program,
    read_path,
    reported_errors,
    say_notes,
    scenario_and_params,
)
from sim.cli.field_sets import set_option
from sim.errors import InputError
from sim.format import counted, params_text, printable

if TYPE_CHECKING:
    from sim.policies.protocol import Policy


#: ``run --per-account``'s file: one row per account at the run's end (``sim.account_table``); not
#: ``accounts.csv``, the name of a CRM export's accounts file.
ACCOUNTS_FILE = "per_account.csv"


def own_accounts_file(path: Path) -> bool:
    """Whether ``path`` is a file ``run --per-account`` wrote: its header is the table's columns."""
    from sim.account_table import ACCOUNT_COLUMNS

    try:
        with path.open(encoding="utf-8") as f:
            return f.readline().rstrip("\r\n") == ",".join(ACCOUNT_COLUMNS)
    except (OSError, UnicodeDecodeError):
        return False


@click.command("validate")
@click.argument("scenario_file", type=read_path())  # read_toml refuses a folder in one line
def validate_command(scenario_file: Path) -> None:
    """Check a scenario file and print it with every default filled in; or check an experiment file and say the
    runs it asks for, running none."""
    with loading_libraries():
        from sim.config import file_kind
        from sim.policies import make_policy
        from sim.policies.rollout import check_scenario_policies
        from sim.scenario import dump_scenario
        from sim.scenario_file import load_scenario_file, read_scenario_toml

    with reported_errors():
        data = read_scenario_toml(scenario_file)
        if file_kind(data) == "experiment":  # a scenario with a slip, [policies] say, is a scenario's to say
            _validate_experiment(scenario_file)
            return
        scenario = load_scenario_file(scenario_file)
        check_scenario_policies(scenario, f"{scenario_file}: ")
        say_notes(scenario, str(scenario_file))
        # The policy's parameters too, each at the value it runs with (the file's, or the policy's default).
        own = make_policy(scenario.policy.name, dict(scenario.policy.params), scenario=scenario)
        every = {"policy.params": own.params.model_dump(mode="json")}
        click.echo(dump_scenario(scenario.with_overrides(str(scenario_file), name=scenario.name, **every)), nl=False)
        # The verdict on stderr, so that stdout stays the file as read (an analyst saw 266 lines and no verdict).
        seats = sum(g.count for g in scenario.reps)
        click.echo(
            f"{scenario_file}: valid: {scenario.population.size_words()}, {counted(seats, 'seat')}, "
            f"{counted(scenario.quarters, 'quarter')}, policy {scenario.policy.name} (the resolved scenario, every "
            "default filled in, is on stdout)",
            err=True,
        )


def _validate_experiment(path: Path) -> None:
    """Check an experiment file as ``covsim experiment`` would, every design point's scenario and policies too,
    and say on stderr the runs it asks for (a researcher had no way to see them before they started)."""
    from sim.experiment.design import plan_runs
    from sim.experiment.loading import left_out, load_experiment

    exp, scenario = load_experiment(path, plan_runs)
    try:
        points, cells, specs = plan_runs(exp, scenario)
    except InputError as e:  # named by the file, as covsim experiment names them
        raise InputError([f"{path}: {problem}" for problem in e.problems]) from None
    say_notes(scenario, str(path))
    for note in left_out(path, exp)[0]:
        click.echo(f"note: {note}", err=True)
    design = f"{exp.design.kind} design" + (f" of {counted(len(exp.factors), 'factor')}" if exp.factors else "")
    stresses = f" ({counted(len(exp.suite), 'stress', 'stresses')} and the unshocked run)" if exp.suite else ""
    # The base scenario's size and horizon, which a factor on the scenario may vary from point to point.
    varied = ", before its factors" if any(f.target.startswith("scenario.") for f in exp.factors) else ""
    click.echo(
        f"{path}: valid: an experiment of {counted(len(exp.policies), 'policy', 'policies')} on {scenario.name} "
        f"({scenario.population.size_words()}, {counted(scenario.quarters, 'quarter')}{varied}), {design}: "
        f"{counted(len(points), 'design point')}{stresses}, {counted(exp.replications, 'replication')}, root seed "
        f"{exp.seed}: {counted(len(cells), 'cell')} from {counted(len(specs), 'distinct run')}; nothing was run "
        "(run it with covsim experiment)",
        err=True,
    )


@click.command("policies")
@click.argument("names", nargs=-1)
def policies_command(names: tuple[str, ...]) -> None:
    """List the coverage policies and their parameters: every built-in, or those NAMES (a built-in's name, or
    package.module:ClassName for a policy of yours)."""
    with loading_libraries():
        from sim.policies import BUILT_IN, policy_classes

    with reported_errors():  # every name's mistake at once; a name given twice is described once
        classes = policy_classes(list(dict.fromkeys(names) or BUILT_IN), "covsim policies").values()
    for cls in classes:
        click.echo(cls.describe())
        click.echo()
    if any(cls in BUILT_IN.values() for cls in classes):
        click.echo(
            "Every default of a built-in above is an assumption [A], not a measured value: a starting point, to set "
            "to your own coverage model with --param KEY=VALUE or the scenario's [policy] params."
        )


@click.command("run")
@click.argument("scenario_file", type=read_path())  # read_toml refuses a folder in one line
@click.option(
    "--policy",
    "policy_names",
    multiple=True,
    help="Policy name or package.module:ClassName; repeat to compare. Default: the scenario's.",
)
@param_option
@set_option
@click.option(
    "--seed", type=Whole(0, 2**63 - 1), default=None, help="Seed (default: the scenario's)."
)  # sim.run.MAX_SEED
@click.option(
    "--quarters",
    type=Whole(min=1, max=400),
    default=None,
    help="Horizon in quarters (default: the scenario's).",
)
@click.option(
    "--out",
    "out_dir",
    type=NamedPath(),
    default=None,
    help="Write metrics.csv, weekly.csv, seats.csv (each rep's load) and summary.png here.",
)
@click.option(
    "--per-account",
    "with_accounts",
    is_flag=True,
    help=f"With --out, write {ACCOUNTS_FILE} too: one row per account at the run's end (docs/python-api.md).",
)
def run_command(
    scenario_file: Path,
    policy_names: tuple[str, ...],
    param_pairs: tuple[str, ...],
    set_pairs: tuple[str, ...],
    seed: int | None,
    quarters: int | None,
    out_dir: Path | None,
    with_accounts: bool,
) -> None:
    """Run a scenario under one or more policies and summarise it quarter by quarter."""
    with loading_libraries():
        import pandas as pd

        from sim.answer_layout import with_finding
        from sim.compiled import kernels_loaded
        from sim.format import counted
        from sim.policies import policies_for, policy_notes
        from sim.policies.rollout import current_policy
        from sim.run import run
        from sim.run_tables import (
            comparison_table,
            idle_seats_of_run,
            quarter_table,
            run_answer,
            run_why,
            short_handed_run,
            whole_run,
        )
        from sim.shocks import shock_text

    with reported_errors():
        scenario, params, _ = scenario_and_params(scenario_file, policy_names, param_pairs, quarters, set_pairs)
        policies = policies_for(policy_names, params, scenario, str(scenario_file))
        notes = [policy_notes(p, scenario) for p in policies]  # a user's wrong notes() refused before any run
        current_policy(scenario, f"{scenario_file}: ")  # a rollout shock's model in force before it
        if with_accounts and out_dir is None:
            raise InputError([f"--per-account: give --out, the folder {ACCOUNTS_FILE} is written to; nothing was run"])
        if out_dir is not None:
            check_single_out(out_dir, RUN_FILES)
            check_out(out_dir, "--out", files=(ACCOUNTS_FILE,))  # a folder where it goes: refused before the run
        results, warm = [], []
        for policy in policies:
            click.echo(f"running {scenario.name} under {_shown(policy)} ...", err=True)
            loaded = kernels_loaded()
            results.append(run(scenario, policy, seed, progress=_progress(scenario.quarters), accounts=with_accounts))
            warm.append(kernels_loaded() == loaded)  # else this run loaded compiled loops (once each per process)
        metrics = pd.concat([r.metrics for r in results], ignore_index=True)
        totals, order = whole_run(metrics)
        why = run_why(metrics, totals, order, scenario.relationship)
        click.echo(with_finding(run_answer(totals, order), why, markdown=False))  # first, then the tables it rests on
        if idle := idle_seats_of_run(pd.concat([r.seats for r in results], ignore_index=True), order):
            click.echo(idle)
        if short := short_handed_run(totals, order):
            click.echo(f"Note: {short}")
        for said, result, was_warm in zip(notes, results, warm, strict=True):
            click.echo(
                f"\n{result.policy}: {scenario.name}, seed {result.seed}, "
                f"{scenario.population.size_words()}, {counted(sum(g.count for g in scenario.reps), 'rep')} "
                f"({result.seconds:.2f} s{'' if was_warm else ', loading the compiled loops included'}"
                f"{_policy_time(result.policy_seconds, result.seconds)})"
            )
            for note in said:  # what its parameters make of the team (how many hunt, say)
                click.echo(f"  {note}")
            click.echo(quarter_table(result.metrics))
            if scenario.shocks:
                acting = "; ".join(shock_text(x) for x in scenario.shocks)
                click.echo(f"shocks (from the quarter's first week): {acting}")
        # One policy in a world of product lines too: its overlay rows are in no quarter's table (a policy author
        # had to read them from metrics.csv).
        if len(results) > 1 or len(scenario.population.lines) > 1:
            side = "Side by side, whole run" if len(results) > 1 else "Whole run"
            click.echo(f"\n{side} ({counted(scenario.quarters, 'quarter')}, segment all):")
            click.echo(comparison_table(totals, order))
        if out_dir is not None:
            from sim.files import atomic_write_all
            from sim.plots import write_summary_png  # matplotlib: only when there is a figure to draw

            weekly = pd.concat([r.weekly for r in results], ignore_index=True)
            seats = pd.concat([r.seats for r in results], ignore_index=True)
            title = f"{scenario.name}: {', '.join(r.policy for r in results)} (seed {results[0].seed})"
            shocks = [(shock.quarter, shock.kind) for shock in scenario.shocks]
            writers = (
                lambda p: metrics.to_csv(p, index=False),
                lambda p: weekly.to_csv(p, index=False),
                lambda p: seats.to_csv(p, index=False),
                lambda p: write_summary_png(metrics, title, p, shocks),
            )
            files = dict(zip(RUN_FILES, writers, strict=True))
            if with_accounts:
                table = pd.concat([r.accounts for r in results], ignore_index=True)
                files[ACCOUNTS_FILE] = lambda p: table.to_csv(p, index=False)
            stopping.raise_if_asked()  # a Ctrl-C numba swallowed after the last week: nothing written
            earlier = [name for name in RUN_FILES if (out_dir / name).is_file()]
            if not with_accounts and own_accounts_file(out_dir / ACCOUNTS_FILE):
                earlier.append(f"{ACCOUNTS_FILE} (removed: this run wrote none)")
            atomic_write_all(out_dir, files)
            if not with_accounts and own_accounts_file(out_dir / ACCOUNTS_FILE):
                # An earlier run's, beside these files, would pass for this run's; a file of another's stays.
                (out_dir / ACCOUNTS_FILE).unlink()
            *first, last = (str(out_dir / name) for name in files)
            click.echo(f"\nwrote {', '.join(first)} and {last}")
            if earlier:  # an analyst's three policies' results went for one policy's without a word
                click.echo(f"note: --out {out_dir}: these replace an earlier run's {', '.join(earlier)}", err=True)


#: The share of a run's time, and the seconds, in the policy's own calls from which the run's line says it: a slow
#: policy is then the first thing to look at; in a short run a policy's first call loading its compiled loops
#: is most of it, and nobody waits on it [A].
POLICY_TIME_SAID = (0.5, 1.0)


def _policy_time(policy: float, run: float) -> str:
    """``, 6.51 s of it in the policy's own calls`` when they took at least POLICY_TIME_SAID, else ""."""
    share, seconds = POLICY_TIME_SAID
    return f", {policy:.2f} s of it in the policy's own calls" if policy >= max(share * run, seconds) else ""


#: The run's projected length, in seconds, from which each quarter it finishes is said on stderr [A]: a run of a
#: million accounts took 14 s with no word after "running ...".
PROGRESS_FROM_S = 10.0


def _progress(quarters: int) -> Callable[[int, float], None]:
    """``run``'s progress callback: after each quarter from the second, ``quarter 3 of 8 done (5.2 s; about 8 s
    left)`` on stderr when the run, at the pace of its last quarter, takes ``PROGRESS_FROM_S`` or more (the first
    quarter's pace holds the compiled loops' loading, once a process)."""
    last = [0.0]

    def said(done: int, seconds: float) -> None:
        left = (seconds - last[0]) * (quarters - done)
        last[0] = seconds
        # Not once a quarter is a blink: after the first run's compiling, a new user got six lines at once, each
        # "about 0 s left".
        if done > 1 and done < quarters and seconds + left >= PROGRESS_FROM_S and left >= 1.0:
            click.echo(f"  quarter {done} of {quarters} done ({seconds:.1f} s; about {left:.0f} s left)", err=True)

    return said


def _shown(policy: Policy) -> str:
    """A policy as ``running ... under`` names it: as its results do (``policy_label``; a researcher's progress
    line said ``NextFreeRep()`` of results labelled next_free_rep), with the parameters not at their defaults
    (``segment_tiers (books = redeal)``)."""
    from sim.policies.protocol import not_default, policy_label

    given = params_text(not_default(policy.params))
    return printable(one_line(policy_label(type(policy)) + (f" ({given})" if given else "")))


@click.command("examples")
@click.argument("folder", type=NamedPath(), default="covsim-examples")
def examples_command(folder: Path) -> None:
    """Copy the sample scenarios and experiments into FOLDER (default: covsim-examples) to start from."""
    from sim.sample_files import copy_samples

    with reported_errors():
        written = copy_samples(folder)
    counts = {
        top: sum(1 for p in written if p.relative_to(folder).parts[0] == top) for top in ("scenarios", "experiments")
    }
    click.echo(
        f"copied {len(written)} files to {folder}/: {counts['scenarios']} scenarios, {counts['experiments']} experiments"
    )
    click.echo(f"try:  {shlex.join([program(), 'run', str(folder / 'scenarios' / 'small.toml')])}")
    books = str(folder / "experiments" / "mechanisms" / "books.toml")
    click.echo(f"      {shlex.join([program(), 'experiment', books, '--out', 'results/books'])}")
