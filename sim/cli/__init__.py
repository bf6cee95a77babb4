"""The ``covsim`` command line: parses, calls the library, writes. Nothing else.

One module per command group: ``scenario`` (validate, policies, run, examples),
``experiment`` (compare, experiment, report) and ``crm`` (calibrate,
backtest); ``common`` holds what they share. Each command imports the library
it calls inside its function, so that ``covsim --help`` and the commands that
run no model start without pandas, Mesa, scipy or matplotlib
(``benchmarks/startup.py`` measures it).

Bad input prints one line per problem naming where it is and exits 2, with no
traceback. Outputs are written only when the work is finished, each file
atomically, so an interrupted command leaves nothing half-written.
"""

from __future__ import annotations

import click

from sim.cli.crm import backtest_command, calibrate_command
from sim.cli.experiment import compare_command, experiment_command, report_command
from sim.cli.scenario import examples_command, policies_command, run_command, validate_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
