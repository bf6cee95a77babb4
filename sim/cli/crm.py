"""Commands on a CRM export: ``calibrate`` a scenario from it and ``backtest`` the model against it."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sim.cli.common import (
    BACKTEST_FILES,
    NamedPath,
    Whole,
    check_out,
    check_single_out,
    checked_together,
    loading_libraries,
    not_a_file,
    parse_params,
    read_path,
    reported_errors,
)
from sim.cli.field_sets import OWN_OPTION, as_options, parse_sets, set_option, with_sets
from sim.errors import InputError

if TYPE_CHECKING:
    from sim.policies import Policy
    from sim.scenario import Scenario


#: ``backtest`` sets these with options of its own.
BACKTEST_OWN = {**OWN_OPTION, "seed": "--seeds"}


def _crm_export_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options naming a CRM export's files and its column mapping (calibrate, backtest)."""
    for option in reversed(
        (
            click.option("--accounts", "accounts_file", type=read_path(), required=True, help="Accounts CSV."),
            click.option("--pipeline", "pipeline_file", type=read_path(), required=True, help="Opportunities CSV."),
            click.option("--teams", "teams_file", type=read_path(), required=True, help="Sales agents CSV."),
            click.option("--products", "products_file", type=read_path(), default=None, help="Products CSV."),
            click.option(
                "--column",
                "column_pairs",
                multiple=True,
                metavar="FILE_KIND.FIELD=NAME",
                help="Read a field from another column, e.g. pipeline.close_value=amount (repeatable).",
            ),
            click.option(
                "--number-format",
                type=click.Choice(["auto", "plain", "european"]),
                default="auto",
                show_default=True,
                help="How amounts are written: plain 1,054.50 or european 1.054,50 (auto: detected, and said).",
            ),
            click.option(
                "--date-format",
                default="auto",
                show_default=True,
                metavar="auto|iso|us|eu|PATTERN",
                help="How dates are written: iso 2017-03-01, us 03/01/2017, eu 01/03/2017, or a strftime "
                "pattern such as %d.%m.%Y (auto: the one every date fits, and said).",
            ),
        )
    ):
        command = option(command)
    return command


def _check_scenario_out(out_file: Path, inputs: dict[str, Path]) -> None:
    """InputError, before the export is read, unless calibrate's scenario file can be written at ``out_file``: not
    a folder, a device, one of the ``inputs`` (by option) nor a file it did not write."""
    if out_file.is_dir():
        raise InputError([f"--out {out_file}: a folder; name the scenario file to write (as {out_file / 'crm.toml'})"])
    if kind := not_a_file(out_file):  # a device or a pipe, which the written file would replace
        raise InputError([f"--out {out_file}: {kind}, not a file; name the scenario file to write; nothing was read"])
    check_out(out_file.parent, "--out", "nothing was read", files=(out_file.name,))
    for option, given in inputs.items():
        if out_file.resolve() == Path(given).resolve():
            raise InputError([f"--out {out_file}: is the {option} file; write the scenario elsewhere"])
    if out_file.is_file():
        from sim.crm.scenario_file import WRITTEN_BY

        # A file of one's own named by mistake (README.md, an edited scenario) was replaced without a word.
        try:
            with out_file.open("rb") as f:
                ours = f.read(len(WRITTEN_BY.encode())) == WRITTEN_BY.encode()
        except OSError as e:
            raise InputError([f"--out {out_file}: cannot be read ({e.strerror}); nothing was read"]) from None
        if not ours:
            raise InputError(
                [
                    f"--out {out_file}: a file covsim calibrate did not write, which the scenario would replace; name "
                    "a new file, or move that one away first; nothing was read"
                ]
            )


def _export_args(
    accounts_file: Path,
    pipeline_file: Path,
    teams_file: Path,
    products_file: Path | None,
    column_pairs: tuple[str, ...],
    number_format: str,
    date_format: str,
) -> list[str]:
    """``covsim calibrate`` and the options that name the export and how to read it, as the command line's words
    (the number and date formats where not ``auto``)."""
    args = ["covsim", "calibrate", "--accounts", str(accounts_file), "--pipeline", str(pipeline_file)]
    args += ["--teams", str(teams_file)] + (["--products", str(products_file)] if products_file else [])
    args += [word for pair in column_pairs for word in ("--column", pair)]
    for option, given in (("--number-format", number_format), ("--date-format", date_format)):
        args += [option, given] if given != "auto" else []
    return args


#: ``--rates-from``, of calibrate and backtest alike.
_rates_from = click.option(
    "--rates-from",
    default=None,
    metavar="YYYY-MM-DD",
    help="Count opportunity rates from this date (default: the first engage date), as when a CRM's first months "
    "record less than the team did.",
)


@click.command("calibrate")
@_crm_export_options
@click.option("--out", "out_file", type=NamedPath(), required=True, help="Scenario to write.")
@click.option("--cutoff", default=None, metavar="YYYY-MM-DD", help="Use only opportunities engaged before this date.")
@_rates_from
@click.option(
    "--customers",
    type=Whole(min=1, max=50_000_000),
    default=None,
    help="Accounts in the scenario, each of --units buying units (default: those in the accounts file); segment "
    "shares and per-account rates are kept.",
)
@click.option(
    "--units",
    type=Whole(min=1, max=1000),
    default=1,
    show_default=True,
    help="Model each account as this many buying units (independent accounts of the scenario, as a group's "
    "divisions that buy apart), dividing its opportunity rate and wallet among them; 1 models each account as one.",
)
def calibrate_command(
    accounts_file: Path,
    pipeline_file: Path,
    teams_file: Path,
    products_file: Path | None,
    out_file: Path,
    column_pairs: tuple[str, ...],
    number_format: str,
    date_format: str,
    cutoff: str | None,
    rates_from: str | None,
    customers: int | None,
    units: int,
) -> None:
    """Calibrate a scenario from a CRM export (accounts, pipeline, teams, products)."""
    with loading_libraries():
        from sim.crm import (
            calibrate,
            check_population,
            check_scenario_text,
            clean,
            parse_columns,
            parse_cutoff,
            parse_formats,
            read_export,
            scenario_name,
            scenario_toml,
            summary_lines,
        )
        from sim.crm.fits import calibration_answer
        from sim.files import atomic_write_text
        from sim.format import printable

    inputs = {"--accounts": accounts_file, "--pipeline": pipeline_file, "--teams": teams_file}
    inputs |= {"--products": products_file} if products_file else {}
    with reported_errors():
        columns, cutoff_date, rates_date, formats, _ = checked_together(
            lambda: parse_columns(column_pairs),
            lambda: parse_cutoff(cutoff),
            lambda: parse_cutoff(rates_from, "--rates-from"),
            lambda: parse_formats(number_format, date_format),
            lambda: _check_scenario_out(out_file, inputs),
        )
        export = read_export(accounts_file, pipeline_file, teams_file, products_file, columns, formats)
        cleaned, notes = clean(export, cutoff_date)
        calibration = calibrate(cleaned, customers, units, rates_date)
        check_population(calibration)
        all_notes = [*notes, *calibration.notes]
        # The command line goes into the scenario's header, so the file says how to write it again.
        args = _export_args(
            accounts_file, pipeline_file, teams_file, products_file, column_pairs, number_format, date_format
        )
        args += (["--cutoff", cutoff] if cutoff else []) + (["--rates-from", rates_from] if rates_from else [])
        args += ["--customers", str(customers)] if customers else []
        args += (["--units", str(units)] if units > 1 else []) + ["--out", str(out_file)]
        text, data = scenario_toml(calibration, all_notes, scenario_name(out_file.stem), shlex.join(args))
        check_scenario_text(text, data, str(out_file))
        click.echo(calibration_answer(calibration) + "\n")  # the answer first
        click.echo("Data checks:")
        for note in all_notes:
            click.echo(f"  - {printable(note)}")
        click.echo()
        for line in summary_lines(calibration):
            click.echo(line)
        atomic_write_text(out_file, text)
        click.echo(f"\nwrote {out_file}")


@click.command("backtest")
@_crm_export_options
@click.option("--cutoff", required=True, metavar="YYYY-MM-DD", help="Calibrate on what was known before this date.")
@_rates_from
@click.option("--quarters", type=Whole(min=1, max=8), default=2, show_default=True, help="Quarters simulated after it.")
@click.option("--seeds", type=Whole(min=2, max=1000), default=20, show_default=True, help="Runs (seeds 1..N).")
@click.option(
    "--units",
    type=Whole(min=1, max=1000),
    default=1,
    show_default=True,
    help="Buying units per account, as covsim calibrate --units.",
)
@click.option("--policy", "policy_name", default=None, help="Coverage policy (default: the calibrated scenario's).")
@click.option("--param", "param_pairs", multiple=True, metavar="KEY=VALUE", help="A parameter of --policy.")
@set_option
@click.option("--out", "out_dir", type=NamedPath(), default=None, help="Folder for the results.")
def backtest_command(
    accounts_file: Path,
    pipeline_file: Path,
    teams_file: Path,
    products_file: Path | None,
    column_pairs: tuple[str, ...],
    number_format: str,
    date_format: str,
    cutoff: str,
    rates_from: str | None,
    quarters: int,
    seeds: int,
    units: int,
    policy_name: str | None,
    param_pairs: tuple[str, ...],
    set_pairs: tuple[str, ...],
    out_dir: Path | None,
) -> None:
    """Calibrate on a CRM export before --cutoff, simulate the quarters after it, compare with what happened."""
    with loading_libraries():
        from sim.crm import parse_columns, parse_cutoff, parse_formats, read_export
        from sim.crm.backtest import backtest, summary_lines, verdict
        from sim.format import printable
        from sim.policies import make_policy, policy_class

    def policy_known() -> None:  # its parameters' values are checked once they are read
        if policy_name is not None:
            policy_class(policy_name, "--policy")

    def out_usable() -> None:
        if out_dir is not None:
            check_single_out(out_dir, BACKTEST_FILES)

    with reported_errors():
        columns, cutoff_date, rates_date, formats, params, sets, _, _ = checked_together(
            lambda: parse_columns(column_pairs),
            lambda: parse_cutoff(cutoff),
            lambda: parse_cutoff(rates_from, "--rates-from"),
            lambda: parse_formats(number_format, date_format),
            lambda: parse_params(param_pairs),
            lambda: parse_sets(set_pairs, BACKTEST_OWN),
            policy_known,
            out_usable,
        )
        assert cutoff_date is not None  # --cutoff is required
        if params and policy_name is None:
            raise InputError(["--param: give the policy it is for with --policy"])
        policy = None
        if policy_name is not None:
            name = policy_name
            # A bad name or parameter fails before any work.
            make_policy(name, params, where="--policy", params_at="--param")

            def policy(calibrated: Scenario) -> Policy:
                # Checked against the calibrated world: a segment it names must be one of the calibration's.
                return make_policy(name, params, where="--policy", scenario=calibrated, params_at="--param")

        export = read_export(accounts_file, pipeline_file, teams_file, products_file, columns, formats)
        with ExitStack() as shown:
            bars: list[Any] = []  # opened at the first seed done, so an input error is not preceded by a bar

            def progress(done: int, total: int) -> None:
                if not bars:
                    bars.append(
                        shown.enter_context(click.progressbar(length=total, label="simulating", file=sys.stderr))
                    )
                bars[0].update(1)

            # The scenario it writes is the calibration at the cut-off: the header gives the calibrate command that
            # writes it again, with its buying units (and its name: calibrate names a scenario for its file, so the
            # file is backtest.toml, as the scenario is named).
            words = _export_args(
                accounts_file, pipeline_file, teams_file, products_file, column_pairs, number_format, date_format
            )
            written = ["--out", str(out_dir / "backtest.toml")] if out_dir is not None else []

            words += ["--cutoff", str(cutoff)] + (["--rates-from", rates_from] if rates_from else [])

            def command(k: int) -> str:
                return shlex.join([*words, *(["--units", str(k)] if k > 1 else []), *written])

            result = backtest(
                export,
                cutoff_date,
                quarters,
                range(1, seeds + 1),
                units,
                policy,
                progress=progress,
                command=command,
                rates_from=rates_date,
                adjust=(lambda s: with_sets(s, sets, "the calibrated scenario")) if sets else None,
            )
        click.echo(verdict(result) + "\n")
        click.echo("Data checks (calibration):")
        for note in result.notes:
            click.echo(f"  - {printable(note)}")
        label = policy_name or result.scenario.policy.name
        if sets:
            label += f" ({as_options(set_pairs)})"
        click.echo(f"\nbacktest of {label} on {pipeline_file}")
        for line in summary_lines(result):
            click.echo(line)
        if out_dir is not None:
            from sim.files import atomic_write_all
            from sim.plots import write_backtest_png  # matplotlib: only when there is a figure to draw

            table, seed_table = result.table(), result.seed_table()
            from sim.format import counted

            title = f"Backtest {result.cutoff} + {counted(quarters, 'quarter')}, {label}, {counted(seeds, 'seed')}"
            # The file is the calibration as written; its runs had the --set fields, said first (a reviewer found
            # no mark of them in the folder).
            set_line = f"# The backtest's runs had, over this file: {as_options(set_pairs)}\n" if sets else ""
            writers = (
                lambda p: table.to_csv(p, index=False),
                lambda p: seed_table.to_csv(p, index=False),
                lambda p: write_backtest_png(table, seed_table, title, p),
                lambda p: p.write_text(set_line + result.scenario_text, encoding="utf-8"),
            )
            atomic_write_all(out_dir, dict(zip(BACKTEST_FILES, writers, strict=True)))
            click.echo(f"\nwrote {out_dir}/{', '.join(BACKTEST_FILES)}")
            if sets:
                click.echo("(backtest.toml is the calibration as written; its first line names the --set its runs had)")
