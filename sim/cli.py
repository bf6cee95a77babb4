"""The ``covsim`` command line: parses, calls the library, writes. Nothing else.

Bad input prints one line per problem naming where it is and exits 2, with no
traceback. Outputs are written only when the work is finished, each file
atomically, so an interrupted command leaves nothing half-written.
"""

from __future__ import annotations

import os
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import pandas as pd

from sim.errors import InputError, PolicyError
from sim.policies import BUILT_IN, make_policy
from sim.run import run as run_model
from sim.scenario import dump_scenario, load_scenario

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


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    help="Policy parameter (repeatable); replaces the scenario's policy params.",
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
        for name in names:
            params = (
                cli_params if param_pairs else (dict(scenario.policy.params) if name == scenario.policy.name else {})
            )
            policies.append(make_policy(name, params))
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


if __name__ == "__main__":
    main()
