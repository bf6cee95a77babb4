"""The ``covsim`` command line: parses, calls the library, writes. Nothing else.

One module per command group: ``scenario`` (validate, policies, run, examples),
``experiment`` (compare, experiment, report), ``stress``, ``crm`` (calibrate,
backtest) and ``app`` (the what-if page); ``common`` holds what they share. Each command imports the library
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

import atexit
import contextlib
import functools
import os
import signal
import sys
from typing import Any

import click

from sim import stopping
from sim.cli.app import app_command
from sim.cli.common import EXIT_BAD_INPUT, EXIT_INTERRUPTED, INTERRUPTED, one_line, say_error, unexpected_errors
from sim.cli.crm import backtest_command, calibrate_command
from sim.cli.experiment import compare_command, experiment_command, report_command
from sim.cli.scenario import examples_command, policies_command, run_command, validate_command
from sim.cli.stress import stress_command
from sim.streams import readers_may_stop


class _Commands(click.Group):
    """The command group, with every command's unexpected failures turned into one line."""

    def invoke(self, ctx: click.Context) -> Any:
        with unexpected_errors():
            return super().invoke(ctx)

    def main(  # type: ignore[override]
        self, args: list[str] | None = None, prog_name: str | None = None, standalone_mode: bool = True, **extra: Any
    ) -> Any:
        """Click's own usage errors (a bad option value, a missing argument) as one ``error:`` line, exit 2."""
        run = super().main
        if not standalone_mode:
            return run(args, prog_name, standalone_mode=False, **extra)
        readers_may_stop()  # ``covsim ... | head -1`` stops the output, not the work
        # A stop from outside (``kill``, ``timeout``, a service manager) ends the work as Ctrl-C does: what is
        # finished is kept, nothing half-written is left, one line and exit 130.
        # Ctrl-C too, by a handler that also notes the stop: numba's compiler swallows the KeyboardInterrupt of a
        # stop asked while it compiles (``sim.stopping``).
        stopping.forget()  # a command starts with no stop asked (an earlier one in this process may have had one)
        handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        signal.signal(signal.SIGTERM, stopping.ask)
        if handlers[signal.SIGINT] is not signal.SIG_IGN:  # a background job's, ignored, stays so
            signal.signal(signal.SIGINT, stopping.ask)
        # Every way a command ends comes to one status, and one way out below.
        code: Any
        try:
            code = run(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as e:  # bare ``covsim``: the help, as click gives it
            click.echo(e.ctx.get_help() if e.ctx is not None else e.format_message())
            code = EXIT_BAD_INPUT
        except click.exceptions.UsageError as e:
            where = f" (see: {e.ctx.command_path} --help)" if e.ctx is not None else ""
            say_error(f"{one_line(e.format_message())}{where}")
            code = EXIT_BAD_INPUT
        except click.exceptions.ClickException as e:
            say_error(one_line(e.format_message()))
            code = e.exit_code
        except (click.exceptions.Abort, KeyboardInterrupt):  # the latter: a stop past a command's own handling
            click.echo(INTERRUPTED, err=True)
            code = EXIT_INTERRUPTED
        except SystemExit as e:  # a command's own exit status (1 for failed runs, 2 for bad input, 130)
            code = e.code
        except BaseException:  # a failure shown with its traceback (COVSIM_TRACEBACK=1)
            if args is not None:  # a caller's process goes on with its own handlers
                _put_back(handlers)
            raise
        if isinstance(code, str):  # as Python says such an exit: the text, status 1
            print(code, file=sys.stderr)
        status = code if isinstance(code, int) else 0 if code is None else 1
        if args is None:  # the command line itself (not a caller in a process that goes on: a test's runner)
            # The work is done and said: a stop while the process winds down (its libraries' exit handlers) ends
            # it at once with the command's own status, not 130 with no line over results written whole.
            if handlers[signal.SIGINT] is not signal.SIG_IGN:  # a background job's stays ignored to the end
                signal.signal(signal.SIGINT, functools.partial(_end_now, status))
            signal.signal(signal.SIGTERM, functools.partial(_end_now, status))
            # The libraries' exit handlers run (worker pools, Dask's client), then the process leaves without the
            # interpreter's teardown: it took 0.25 s after the last line, and puts back the default Ctrl-C, which
            # in that time killed the process (status -2, a shell's 130) with its results written whole. Not under
            # a profiler or a tracer (cProfile, coverage), which write what they measured after main returns.
            if sys.getprofile() is None and sys.gettrace() is None:
                atexit._run_exitfuncs()
                _leave(status)
        else:  # a caller in a process that goes on (a notebook, a test's runner): as it was before the command
            _put_back(handlers)
        sys.exit(status)


def _put_back(handlers: dict[signal.Signals, Any]) -> None:
    """A caller's stop handlers back, and no stop noted, as before the command."""
    stopping.forget()
    for signum, handler in handlers.items():
        if handler is not None:  # one set outside Python cannot be put back from it
            signal.signal(signum, handler)


def _end_now(status: int, signum: int, frame: object) -> None:
    """A stop once the command is done: the process ends at once, with the command's exit status (a hang in a
    library's exit handler stays stoppable)."""
    _leave(status)


def _leave(status: int) -> None:
    """End the process with ``status`` once what it wrote is flushed, without the interpreter's teardown."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader gone, or a stream closed: nothing left to say
            stream.flush()
    os._exit(status)


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
    stress_command,
    calibrate_command,
    backtest_command,
    examples_command,
    app_command,
):
    main.add_command(command)
