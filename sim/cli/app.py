"""The ``app`` command: the what-if page, a local web page comparing coverage models (``sim.app``)."""

from __future__ import annotations

import importlib.util
import signal
from contextlib import suppress
from pathlib import Path

import click

from sim.cli.common import Whole, loading_libraries, read_path, reported_errors
from sim.errors import InputError, interrupted

#: The address the page listens on unless told otherwise: this machine only.
LOCALHOST = "127.0.0.1"


@click.command("app")
@click.argument("scenario_file", required=False, type=read_path())
@click.option("--host", default=LOCALHOST, show_default=True, help="Address to listen on (this machine only).")
@click.option("--port", type=Whole(min=1, max=65535), default=8050, show_default=True, help="Port the page listens on.")
@click.option("--workers", type=Whole(min=1), default=None, help="Worker processes (default: cores).")
def app_command(scenario_file: Path | None, host: str, port: int, workers: int | None) -> None:
    """The what-if page: pick or upload a scenario, set the team, policies and shocks, compare in a browser.

    Ctrl-C or SIGTERM stops it (exit code 0): it writes nothing, and its worker processes stop with it.
    """
    # Ctrl-C is how a server stops, and a service manager's stop (SIGTERM) stops it as Ctrl-C does (the command
    # line's handler raises KeyboardInterrupt), from its start on: its workers closed, no traceback, exit 0.
    with reported_errors(), suppress(KeyboardInterrupt):
        if importlib.util.find_spec("dash") is None:
            raise InputError(["covsim app: Dash is not installed; install covsim with the extra: pip install '.[app]'"])
        try:
            with loading_libraries():
                from sim.app.server import serve

            def ready(address: str) -> None:
                click.echo(f"covsim what-if page: {address} (Ctrl-C to stop)", err=True)

            serve(scenario_file, host, port, workers, ready)  # while serving, Werkzeug takes Ctrl-C itself
        except Exception as e:
            if not interrupted(e):  # a Ctrl-C Python wrapped (one landing in a class's creation) stops it too
                raise
    # Stopped: a second stop while the worker processes are joined at exit would end in a traceback there
    # (coreutils' timeout signals the process and its group).
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)
    # CPython notes a Ctrl-C that escaped a string's exec() as unhandled, though it was handled here (a stop
    # landing in scipy's import does), and then ends the process by SIGINT, not exit 0; every exec() of a
    # string clears that note first.
    exec("pass")
    click.echo("covsim what-if page: stopped", err=True)
