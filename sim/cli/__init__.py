"""The ``covsim`` command line: parses, calls the library, writes. Nothing else.

One module per command group: ``scenario`` (validate, policies, run, examples),
``experiment`` (compare, experiment, report) and ``crm`` (calibrate,
backtest); ``common`` holds what they share. Each command imports the library
it calls inside its function, so that ``covsim --help`` and the commands that
run no model start without pandas, Mesa, scipy or matplotlib
(``benchmarks/startup.py`` measures it).

Every failure is one line per problem on stderr, with no traceback, and an
exit code: 2 for bad input (nothing is run or written), 1 when a run or the
system failed (saying what was kept and how to resume), 130 when interrupted.
Output folders are checked writable before any work; a command's files are
written together when the work is done, all or none of them.
"""

from __future__ import annotations

from typing import Any

import click

from sim.cli.common import unexpected_errors
from sim.cli.crm import backtest_command, calibrate_command
from sim.cli.experiment import compare_command, experiment_command, report_command
from sim.cli.scenario import examples_command, policies_command, run_command, validate_command


class _Commands(click.Group):
    """The command group, with every command's unexpected failures turned into one line."""

    def invoke(self, ctx: click.Context) -> Any:
        with unexpected_errors():
            return super().invoke(ctx)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="covsim")
def main() -> None:
    """covsim: simulate sales coverage models before you roll them out."""


for command in (
    validate_command,
    policies_command,
    run_command,
    compare_command,
    experiment_command,
    report_command,
    calibrate_command,
    backtest_command,
    examples_command,
):
    main.add_command(command)
