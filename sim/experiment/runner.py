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
import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Literal

from sim import stopping
from sim.errors import InputError
from sim.experiment.jobs import RunOutput, RunSpec
from sim.experiment.pool import WorkerPool
from sim.experiment.store import Store
from sim.experiment.worker import execute

Executor = Literal["serial", "processes", "dask"]
VERSIONED = ("covsim", "mesa", "numpy", "numba", "pandas", "scipy")


def package_versions() -> dict[str, str]:
    """Python's, the packages' a run depends on, and the machine's: results are bit for bit the same only with the
    same C library (glibc: README, "Reproducibility"), which a researcher's manifest had not recorded."""
    libc = " ".join(v for v in platform.libc_ver() if v) or "unknown"
    out = {"python": platform.python_version(), "platform": platform.platform(), "libc": libc}
    for name in VERSIONED:
        try:
            out[name] = version(name)
        except Exception:  # a package missing from metadata is reported, not fatal
            out[name] = "unknown"
    return out


#: What follows the commit of a checkout whose package (``folder``) has changes not committed: the commit alone
#: would name code that did not make the runs.
MODIFIED = "-modified"


def git_commit(folder: Path) -> str | None:
    """The commit of the git checkout ``folder`` (covsim's package) is in, with ``MODIFIED`` when files under
    ``folder`` differ from it; None outside a checkout."""
    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=folder, timeout=5)
        if r.returncode != 0 or not r.stdout.strip():
            return None
        # Untracked files too: a new module of the engine is a change a diff does not show.
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "."], capture_output=True, text=True, cwd=folder, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() + (MODIFIED if status.returncode == 0 and status.stdout.strip() else "")


def _serial(specs: list[RunSpec], workers: int, scheduler: str | None) -> Generator[RunOutput]:
    """Every spec in this process, one after another.

    It trusts its policies: a run that raises, even ``SystemExit``, is recorded
    as failed, but one that ends the process (``os._exit``, a fatal signal)
    ends the batch with it. Finished runs stay stored; the processes executor
    isolates such runs.
    """
    for spec in specs:
        yield execute(spec)


def _processes(
    specs: list[RunSpec], workers: int, scheduler: str | None, limit: float | None = None
) -> Generator[RunOutput]:
    """``workers`` spawned processes (a :class:`~sim.experiment.pool.WorkerPool`), each holding one spec at a
    time; this one hands them out and collects them, and stops them at the end (and a run past ``limit``
    seconds)."""
    if not specs:
        return
    with WorkerPool(min(workers, len(specs))) as pool:
        yield from pool.map(specs, limit=limit)


def _dask(specs: list[RunSpec], workers: int, scheduler: str | None) -> Generator[RunOutput]:
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
        # Its workers leave a Ctrl-C to the batch, which stops them, without their tracebacks (``dask_worker``);
        # and they say only their errors (a stopped batch's cancelled tasks are warnings that tell a user nothing).
        # Its scheduler and event loop, in this process, say nothing short of a crash: a Ctrl-C makes them log
        # errors of their own (keys they could not gather, a callback's unbound variable in distributed's
        # ``sync``) that tell a user nothing; a run's failure comes with its result, and a worker's is logged.
        for name in ("distributed", "tornado.application"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        with stopping.held():
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
                preload=["sim.experiment.dask_worker"],
            )
        client = Client(cluster)
    try:
        futures = client.map(execute, specs, pure=False)
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


EXECUTORS: dict[str, Callable[[list[RunSpec], int, str | None], Generator[RunOutput]]] = {
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
    pool: WorkerPool | None = None,
    on_run: Callable[[BatchOutcome, RunOutput], None] | None = None,
    stop: Callable[[], bool] | None = None,
    run_timeout: float | None = None,
) -> BatchOutcome:
    """Execute every run not yet finished in ``store``; record each as it completes.

    ``run_timeout``: seconds after which a run is stopped and recorded as failed (the processes executor only:
    a run in this process cannot be stopped from it, nor one on a Dask cluster's worker).

    ``pool``: workers already running (the what-if page's warm ones), used in
    place of ``executor``; ``on_run`` is told the outcome so far and the run's
    output after each run is stored, and stops the batch by raising (finished
    runs stay stored); with a ``pool``, ``stop()`` turning true ends the batch at once, the runs still out
    abandoned (``WorkerPool.map``).
    """
    from tqdm import tqdm

    finished = store.finished_keys()
    todo = [s for key, s in sorted(specs.items()) if key not in finished]
    outcome = BatchOutcome(total=len(specs), skipped=len(specs) - len(todo))
    workers = workers or os.cpu_count() or 1
    versions = json.dumps(package_versions(), sort_keys=True)
    start = time.perf_counter()
    show = sys.stderr.isatty() if progress is None else progress
    if pool is None and executor not in EXECUTORS:  # a notebook's "thread" had raised a bare KeyError
        raise InputError([f"executor: {executor!r} is none of {', '.join(EXECUTORS)}"])
    if run_timeout is not None and (pool is not None or executor != "processes"):
        raise ValueError("run_timeout is for the processes executor only")
    if pool is not None:
        outputs = pool.map(todo, stop)
    elif executor == "processes":
        outputs = _processes(todo, workers, scheduler, run_timeout)
    else:
        outputs = EXECUTORS[executor](todo, workers, scheduler)
    with (
        closing(outputs),  # stopped early, the executor stops its workers at once, not when collected
        tqdm(total=len(todo), disable=not show, file=sys.stderr, unit="run", dynamic_ncols=True) as bar,
    ):
        for out in outputs:
            store.record(out, versions)
            if out.status == "done":
                outcome.done += 1
            else:
                outcome.failed += 1
                outcome.errors.append((out.run_key, out.error))
            # The counts first: the bar's update draws them, where set after it they lagged a run behind.
            bar.set_postfix(done=outcome.done + outcome.skipped, failed=outcome.failed, refresh=False)
            bar.update(1)
            outcome.seconds = time.perf_counter() - start
            if on_run is not None:
                on_run(outcome, out)
    outcome.seconds = time.perf_counter() - start
    return outcome
