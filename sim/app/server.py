"""Serve the what-if page: start the warm workers, build the Dash app, and serve it on localhost.

The workers start once, with the server, each running one tiny run so that a
comparison finds them with everything loaded (imports, the numba kernel): the
page then spends its time on the comparison's runs only. The server is Dash's
own (Flask's, one thread per request): meant for one person's browser on this
machine, bound to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path

from dash import Dash
from flask import cli as flask_cli

from sim.app import callbacks, form, layout
from sim.app.engine import RunCache, warm_up_spec
from sim.app.jobs import Jobs
from sim.errors import InputError
from sim.experiment.pool import WorkerPool
from sim.policies.rollout import check_scenario_policies
from sim.sample_files import samples
from sim.scenario import Scenario
from sim.scenario_file import load_scenario_file

#: The scenario the page opens with when the command names none.
DEFAULT_SCENARIO = "scenarios/small.toml"


def opening(path: Path | None) -> tuple[str | None, Scenario, str]:
    """The scenario the page opens with: (its shipped name or None, the scenario, the name messages use).

    A path that names a shipped scenario (``scenarios/small.toml``, as in a
    checkout) selects it in the list; any other file is loaded and validated
    here (an InputError with the command line's lines if it is bad).
    """
    if path is None:
        return DEFAULT_SCENARIO, form.load_shipped(DEFAULT_SCENARIO), DEFAULT_SCENARIO
    name = path.as_posix()
    if name in form.shipped_scenarios() and (not path.exists() or _same_as_shipped(path, name)):
        return name, form.load_shipped(name), name
    scenario = load_scenario_file(path)
    check_scenario_policies(scenario, f"{path}: ")  # refused as ``covsim validate`` refuses it
    return None, scenario, str(path)


def _same_as_shipped(path: Path, name: str) -> bool:
    try:
        return path.read_bytes() == samples()[name].read_bytes()
    except OSError:
        return False


def create_app(
    path: Path | None, pool: WorkerPool | None, jobs: Jobs | None = None, runs: RunCache | None = None
) -> Dash:
    """The page's Dash app, opening on ``path`` (None: the small scenario), running comparisons on ``pool``
    and reusing the finished runs of ``runs`` (None: a cache of its own, for as long as the app lives)."""
    chosen, scenario, source = opening(path)
    app = Dash(__name__, title="covsim what-if page", update_title="")
    # a file of the user's is kept by the page as an upload is
    kept = callbacks.stored(scenario, source) if chosen is None else None
    app.layout = layout.page(form.shipped_scenarios(), chosen, kept)
    callbacks.register(app, pool, jobs or Jobs(), RunCache() if runs is None else runs)
    return app


def check_port(host: str, port: int) -> None:
    """InputError unless ``host:port`` can be listened on (before the workers start)."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
    except OSError as e:
        if isinstance(e, socket.gaierror) or e.errno == errno.EADDRNOTAVAIL:  # the host, not the port
            raise InputError(
                [
                    f"--host {host}: cannot listen on it ({e.strerror or e}); give an address of this machine, such as "
                    "127.0.0.1 (this machine only) or 0.0.0.0 (every network it is on)"
                ]
            ) from None
        raise InputError(
            [f"--port {port}: cannot listen on {host}:{port} ({e.strerror or e}); choose another with --port"]
        ) from None


def serve(path: Path | None, host: str, port: int, workers: int | None, ready: Callable[[str], None] = print) -> None:
    """Start ``workers`` warm worker processes (default: the cores), then serve the page until Ctrl-C.

    ``ready`` is told the page's address once the workers are up.
    """
    opening(path)  # bad input stops here, before any process starts
    check_port(host, port)
    size = workers or os.cpu_count() or 1
    with WorkerPool(size, warm_up_spec()) as pool:
        app = create_app(path, pool)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        # The page's own line says where it is: Dash's and Flask's banners beside it read as three servers (a new
        # user's).
        app.logger.setLevel(logging.WARNING)
        flask_cli.show_server_banner = lambda *_args, **_kwargs: None
        shown = f"[{host}]" if ":" in host else host
        ready(f"http://{shown}:{port}/")
        app.run(host=host, port=port, debug=False)
