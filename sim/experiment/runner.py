"""Execute an experiment's runs on an executor and stream them into the store.

Executors: ``serial`` (in this process), ``processes`` (local worker processes,
spawn start method, the default) and ``dask`` (a dask.distributed cluster; an
optional extra). A run is a pure function of its RunSpec, so results are the
same, bit for bit, whatever the executor, the number of workers or the order
in which runs finish. Each finished run is committed on its own: an
interrupted batch loses no finished run and resumes where it stopped.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib.metadata import version
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as connection_wait
from multiprocessing.context import SpawnProcess
from pathlib import Path
from typing import Literal, cast

from sim.errors import InputError
from sim.experiment.jobs import RunOutput, RunSpec
from sim.experiment.store import Store
from sim.experiment.worker import execute, failed, serve

Executor = Literal["serial", "processes", "dask"]
SPAWN = multiprocessing.get_context("spawn")
VERSIONED = ("covsim", "mesa", "numpy", "pandas", "scipy", "pydantic")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = version(name)
        except Exception:  # a package missing from metadata is reported, not fatal
            out[name] = "unknown"
    return out


def git_commit(folder: Path) -> str | None:
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=folder, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


def _serial(specs: list[RunSpec], workers: int, scheduler: str | None) -> Iterator[RunOutput]:
    """Every spec in this process, one after another.

    It trusts its policies: a run that raises, even ``SystemExit``, is recorded
    as failed, but one that ends the process (``os._exit``, a fatal signal)
    ends the batch with it. Finished runs stay stored; the processes executor
    isolates such runs.
    """
    for spec in specs:
        yield execute(spec)


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore Ctrl-C while worker processes start.

    They inherit "ignored" from birth, so a Ctrl-C to the whole terminal group
    reaches only this process, which stops the batch cleanly.
    """
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _processes(specs: list[RunSpec], workers: int, scheduler: str | None) -> Iterator[RunOutput]:
    """``workers`` spawned processes, each holding one spec at a time; this one hands them out and collects them.

    Workers are started with the spawn method (a fresh interpreter: no inherited
    threads, locks or open SQLite handle). No spec runs in this process, so a
    policy that ends its process (``os._exit``, a signal) takes down a worker,
    never the batch; and as a worker holds one spec at a time, the spec it was
    running is the one that killed it. That run is recorded as failed with how
    the process ended, a new worker takes its place, and no other run is
    disturbed. (A ``ProcessPoolExecutor`` queues specs ahead and, when a worker
    dies, fails them all without saying which one was running.)
    """
    waiting = deque(specs)
    idle = [_start_worker() for _ in range(min(workers, len(waiting)))]
    busy: dict[Connection, tuple[SpawnProcess, RunSpec, float, float]] = {}

    def hand_out() -> None:
        while waiting and len(busy) < workers:
            connection, process = idle.pop() if idle else _start_worker()
            spec = waiting.popleft()
            try:
                connection.send(spec)
            except OSError:  # the worker died while idle (killed from outside): not this spec's doing
                waiting.appendleft(spec)
                connection.close()
                process.join()
                continue
            busy[connection] = (process, spec, time.time(), time.perf_counter())

    try:
        hand_out()
        while busy:
            for ready in connection_wait(list(busy)):
                connection = cast(Connection, ready)
                process, spec, started, clock = busy.pop(connection)
                try:
                    out = connection.recv()
                    idle.append((connection, process))
                except EOFError:
                    connection.close()
                    process.join()
                    how = _ending(process.exitcode)
                    out = failed(spec, f"the worker process died ({how}) while running this run", started, clock)
                hand_out()  # before storing this output, so that no worker waits for the store
                yield out
    finally:
        for connection, _ in idle:
            with suppress(OSError):  # one that died while idle has nothing to be told
                connection.send(None)
        for process, *_ in busy.values():
            process.kill()  # still running a spec: the batch is stopping early (Ctrl-C)
        for connection, process in idle + [(c, b[0]) for c, b in busy.items()]:
            process.join()
            connection.close()


def _start_worker() -> tuple[Connection, SpawnProcess]:
    """A new worker process (:func:`sim.experiment.worker.serve`) and this end of its pipe."""
    mine, theirs = SPAWN.Pipe()
    process = SPAWN.Process(target=serve, args=(theirs, os.getpid()), daemon=True)
    with _sigint_ignored():
        process.start()
    theirs.close()  # the worker now holds the only other end: its death is an EOF here
    return mine, process


def _ending(exitcode: int | None) -> str:
    """How a process ended, from its exit code (negative: the signal that killed it)."""
    if exitcode is None or exitcode >= 0:
        return f"exit code {exitcode}"
    names = {s.value: s.name for s in signal.Signals}
    return f"signal {-exitcode}" + (f", {names[-exitcode]}" if -exitcode in names else "")


def _dask(specs: list[RunSpec], workers: int, scheduler: str | None) -> Iterator[RunOutput]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise InputError(
            ["--executor dask: dask is not installed; install covsim with the extra: pip install '.[dask]'"]
        ) from None
    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="20s")
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        futures = client.map(execute, specs, pure=False)
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


EXECUTORS: dict[str, Callable[[list[RunSpec], int, str | None], Iterator[RunOutput]]] = {
    "serial": _serial,
    "processes": _processes,
    "dask": _dask,
}


@dataclass
class BatchOutcome:
    total: int
    skipped: int
    done: int = 0
    failed: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (run key, error)
    seconds: float = 0.0


def run_batch(
    store: Store,
    specs: dict[str, RunSpec],
    executor: Executor = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool | None = None,
) -> BatchOutcome:
    """Execute every run not yet finished in ``store``; record each as it completes."""
    from tqdm import tqdm

    finished = store.finished_keys()
    todo = [s for key, s in sorted(specs.items()) if key not in finished]
    outcome = BatchOutcome(total=len(specs), skipped=len(specs) - len(todo))
    workers = workers or os.cpu_count() or 1
    versions = json.dumps(package_versions(), sort_keys=True)
    start = time.perf_counter()
    show = sys.stderr.isatty() if progress is None else progress
    with tqdm(total=len(todo), disable=not show, file=sys.stderr, unit="run", dynamic_ncols=True) as bar:
        for out in EXECUTORS[executor](todo, workers, scheduler):
            store.record(out, versions)
            if out.status == "done":
                outcome.done += 1
            else:
                outcome.failed += 1
                outcome.errors.append((out.run_key, out.error))
            bar.update(1)
            bar.set_postfix(done=outcome.done + outcome.skipped, failed=outcome.failed, refresh=False)
    outcome.seconds = time.perf_counter() - start
    return outcome
