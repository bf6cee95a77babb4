"""What runs in a worker process: execute one RunSpec. Imports only what a run needs."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from contextlib import suppress
from functools import lru_cache
from typing import TYPE_CHECKING

from sim.compiled import quiet_compiling
from sim.errors import interrupted, raised
from sim.experiment.jobs import RunOutput, RunSpec
from sim.policies import make_policy
from sim.run import run
from sim.scenario import Scenario, parse_scenario
from sim.streams import readers_may_stop

if TYPE_CHECKING:
    from multiprocessing.connection import Connection


@lru_cache(maxsize=8)
def _scenario(scenario_json: str) -> Scenario:
    return parse_scenario(json.loads(scenario_json), "run spec")


def _worker_setup(batch_pid: int) -> None:
    """Workers leave Ctrl-C to the batch, exit when the batch process goes (a kill -9), and go on when the reader
    of their output stops reading.

    ``batch_pid`` is passed in rather than read here: a batch killed while this
    worker was still starting has already left it to another parent.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # born with it blocked (``stopping.held``)
    readers_may_stop()  # a policy that prints, under ``covsim compare ... | head -1``

    def watch() -> None:
        while os.getppid() == batch_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def execute(spec: RunSpec) -> RunOutput:
    """Run one spec in whatever process this is; never raises for a failing run.

    Only Ctrl-C passes: the batch handles it. ``os._exit`` and signals cannot be
    caught here; the processes executor runs specs in worker processes for that.
    """
    started = time.time()
    clock = time.perf_counter()
    try:
        result = run(_scenario(spec.scenario_json), make_policy(spec.policy, spec.params), spec.seed)
    except KeyboardInterrupt:
        raise
    except Exception as e:  # a failing run is recorded with its error and must not sink the batch
        if interrupted(e):  # a Ctrl-C that landed in a compiled loop: the batch stops, as for any Ctrl-C
            raise KeyboardInterrupt from e
        return failed(spec, raised(e), started, clock)
    except BaseException as e:  # sys.exit() in a policy would otherwise end the batch and record nothing
        return failed(spec, f"the policy tried to leave the process: {e!r}", started, clock)
    m, w, lz = result.metrics, result.weekly, result.lorenz
    return RunOutput(
        run_key=spec.run_key,
        status="done",
        error="",
        started=started,
        finished=time.time(),
        seconds=time.perf_counter() - clock,
        metrics=list(zip(m.quarter.tolist(), m.segment.tolist(), m.metric.tolist(), m.value.tolist(), strict=True)),
        weekly=list(zip(w.week.tolist(), w.metric.tolist(), w.value.tolist(), strict=True)),
        lorenz=list(zip(lz.segment.tolist(), lz.share_of_accounts.tolist(), lz.share_of_hours.tolist(), strict=True)),
    )


def failed(spec: RunSpec, error: str, started: float, clock: float) -> RunOutput:
    """The output of a failed run: ``error`` on one line, no rows; ``clock`` is its start on perf_counter."""
    error = error.replace("\n", " ")
    return RunOutput(spec.run_key, "failed", error, started, time.time(), time.perf_counter() - clock, [], [], [])


def serve(connection: Connection, batch_pid: int, announce: bool = False) -> None:
    """The body of a worker process: execute each spec received on ``connection`` and send back its output; stop
    at None. ``announce``: the terminal may be told when it compiles covsim's loops (``sim.compiled``)."""
    _worker_setup(batch_pid)
    if not announce:
        quiet_compiling()
    # The batch process closes its end when it is gone (stopped by a signal, killed): the worker then leaves
    # as at the end of a batch, quietly, with nothing left to send to.
    with suppress(EOFError, OSError):
        while (spec := connection.recv()) is not None:
            started, clock = time.time(), time.perf_counter()
            try:
                out = execute(spec)
            except KeyboardInterrupt:  # a worker ignores Ctrl-C (``_worker_setup``): the run raised it itself
                why = (
                    "the run raised KeyboardInterrupt (no Ctrl-C: a worker ignores those; the policy or what it calls)"
                )
                out = failed(spec, why, started, clock)
            connection.send(out)
    # Every output is sent and nothing else is kept: the process leaves without the interpreter's teardown,
    # which (numba's and LLVM's included) took 0.2 s at the end of every batch. What a run printed is
    # flushed first; what a policy left to the teardown (its atexit handlers, files it never closed) is not
    # done (docs/experiments.md, Executors).
    connection.close()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            with suppress(OSError, ValueError):  # a closed pipe, a closed stream: nothing more to keep
                stream.flush()
    os._exit(0)
