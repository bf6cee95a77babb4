"""``covsim stress``: put coverage models through a suite of shocks, paired with the unshocked run."""

from __future__ import annotations

from pathlib import Path

import click

from sim.cli.batch import check_executor, finish_batch, opened_batch, paired_batch_options, run_batch_or_stop
from sim.cli.common import (
    NamedPath,
    Whole,
    check_report_out,
    loading_libraries,
    read_path,
    reported_errors,
    rerun_command,
    scenario_and_params,
)
from sim.config import read_toml
from sim.errors import InputError

DEFAULT_SUITE = "default"


@click.command("stress")
@click.argument("scenario_file", type=read_path())
@click.option("--policy", "policy_names", multiple=True, required=True, help="Policy to stress (repeat to compare).")
@click.option(
    "--suite",
    "suite_name",
    default=DEFAULT_SUITE,
    show_default=True,
    help="'default' (the built-in suite) or a suite file of [[stress]] tables.",
)
@click.option(
    "--current",
    default=None,
    help="The model in force that rollouts start from (default: the scenario's own policy), with the scenario's "
    "parameters if it is its policy, else its defaults: --param sets the policies under test, not it.",
)
@click.option(
    "--replications",
    type=Whole(min=1),
    default=5,
    show_default=True,
    help="Runs of each policy under each stress, on common random numbers (3 or more for intervals).",
)
@click.option(
    "--quarters", type=Whole(min=2, max=400), default=None, help="Quarters to simulate (default: the file's)."
)
@click.option(
    "--out",
    "out_dir",
    type=NamedPath(),
    default=None,
    help="Store, report and exports (default: out/stress-<scenario name>).",
)
@paired_batch_options
def stress_command(
    scenario_file: Path,
    policy_names: tuple[str, ...],
    suite_name: str,
    current: str | None,
    replications: int,
    quarters: int | None,
    out_dir: Path | None,
    workers: int | None,
    executor: str,
    seed: int | None,
    fresh: bool,
    run_timeout: float | None,
    param_pairs: tuple[str, ...],
    set_pairs: tuple[str, ...],
) -> None:
    """Stress-test policies: each shock of a suite against the unshocked run, on common random numbers.

    Reports each shock's paired impact on profit and revenue with 95% intervals,
    extra misses by cause, recovery time, worst cases, regret against the best
    policy under each shock, and whether to roll out big-bang or phased.
    Rerunning the same command resumes it.
    """
    with loading_libraries():
        from sim.experiment.comparison import stress_experiment
        from sim.experiment.suite import checked_suite, default_suite, suite_problems
        from sim.policies import command_line_params, make_policy, policy_params
        from sim.policies.rollout import rollout_of

    with reported_errors():
        scenario, params, said = scenario_and_params(scenario_file, policy_names, param_pairs, quarters, set_pairs)
        chosen = policy_params(policy_names, params, scenario, str(scenario_file))  # before the suite's checks
        # A shock past the horizon is past the one --quarters set, not the file's.
        horizon = f"with --quarters {quarters}" if quarters is not None else ""
        if scenario.quarters < 2:
            raise InputError([f"{scenario_file}: quarters: a stress test needs at least 2 (shocks start in quarter 2)"])
        if suite_name == DEFAULT_SUITE:
            own = rollout_of(scenario)
            if current is not None and own is not None:  # the default suite has no rollout then: nothing starts from it
                raise InputError(
                    [
                        f"--current: {scenario_file} has a rollout of its own (shocks.{own[0]}), so the default suite "
                        "has none to start from --current; leave it out"
                    ]
                )
            name = current or scenario.policy.name
            where = "--current" if current else f"{scenario_file}: policy"
            # The model in force is the company's today, as the file (or --current at its defaults) says: --param
            # sets the policies under test (given to it too, a VP's coordinated overlay rolled out from itself).
            in_force = command_line_params(name, {}, scenario, where if current else f"{where}.name")
            model = make_policy(name, in_force, where, scenario)
            if (tested := chosen.get(name)) is not None and tested != in_force:
                # Under test with other parameters: the model in force's values of them said, its defaults too (a
                # trial read "the model replaces overlay" of a coordinated overlay rolled out from the uncoordinated).
                defaults = model.params.model_dump(mode="json")
                in_force = {**{k: defaults[k] for k in tested if k in defaults}, **in_force}
            suite = default_suite(scenario, name, in_force)
            if problems := suite_problems(suite, scenario, "default suite", str(scenario_file), horizon):
                raise InputError(problems)
            description = ""
        else:
            if current is not None:
                raise InputError(["--current: only with the default suite (a suite file names each rollout's own)"])
            if (suite_name.endswith(".toml") or "/" in suite_name) and not Path(suite_name).exists():
                try:  # a path: said as a scenario's is, with the file it may have meant
                    read_toml(suite_name)
                except InputError as e:
                    raise InputError([f"--suite {e.problems[0]}"]) from None
            if not suite_name or not Path(suite_name).exists():  # a mistyped built-in name, or no such file
                raise InputError(
                    [f"--suite {suite_name or repr('')}: no such file, and not the built-in suite ('{DEFAULT_SUITE}')"]
                )
            if Path(suite_name).is_dir():
                raise InputError([f"--suite {suite_name}: a folder; name the suite file in it"])
            suite_file = checked_suite(suite_name, scenario, str(scenario_file), horizon)
            suite, description = suite_file.stress, suite_file.description
        experiment = stress_experiment(
            scenario,
            str(scenario_file),
            policy_names,
            suite,
            replications,
            seed,
            params=chosen,
            description="\n\n".join(filter(None, (description, said))),  # each a paragraph of its own
        )
        check_executor(executor, workers, run_timeout=run_timeout)
        out_dir = out_dir or Path("out") / experiment.name
        check_report_out(out_dir, fresh=fresh)
        batch = opened_batch(experiment, scenario, out_dir, fresh)
        hint = rerun_command(out_dir)
        outcome = run_batch_or_stop(batch, executor, workers, None, hint, run_timeout)
        finish_batch(batch, outcome, out_dir, hint)
        batch.store.close()
