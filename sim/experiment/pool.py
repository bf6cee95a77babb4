"""Worker processes that execute run specs, one spec at a time each, and may outlive a batch.

A batch (``--executor processes``) opens a pool for its runs and closes it at
the end; the what-if page (``covsim app``) opens one when it starts, warms each
worker with a tiny run (imports done, the numba kernel loaded), and keeps it
for every comparison, so that a comparison spends its time on runs only.

Workers are started with the spawn method (a fresh interpreter: no inherited
threads, locks or open SQLite handle). No spec runs in the pool's process, so
a policy that ends its process (``os._exit``, a signal) takes down a worker,
never the caller; and as a worker holds one spec at a time, the spec it was
running is the one that killed it. That run is reported failed with how the
process ended, a new worker takes its place, and no other run is disturbed.
(A ``ProcessPoolExecutor`` queues specs ahead and, when a worker dies, fails
them all without saying which one was running.)
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable
from contextlib import suppress
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as connection_wait
from multiprocessing.context import SpawnProcess
from types import TracebackType
from typing import cast

from sim import stopping
from sim.experiment.jobs import RunOutput, RunSpec
from sim.experiment.worker import failed, serve

SPAWN = multiprocessing.get_context("spawn")
#: How often :meth:`WorkerPool.map` asks whether to stop while its runs are out, in seconds [A].
STOP_POLL_S = 0.2
#: What a map of a pool closed meanwhile ends with.
CLOSED = "the worker pool was closed while runs were out"

#: A worker: this end of its pipe and its process.
Worker = tuple[Connection, SpawnProcess]


def start_worker(announce: bool = False) -> Worker:
    """A new worker process (:func:`sim.experiment.worker.serve`) and this end of its pipe; ``announce``: it
    may tell the terminal when it compiles covsim's loops (one worker of a pool does, not every one)."""
    mine, theirs = SPAWN.Pipe()
    process = SPAWN.Process(target=serve, args=(theirs, os.getpid(), announce), daemon=True)
    with stopping.held():
        process.start()
    theirs.close()  # the worker now holds the only other end: its death is an EOF here
    return mine, process


def ending(exitcode: int | None) -> str:
    """How a process ended, from its exit code (negative: the signal that killed it)."""
    if exitcode is None or exitcode >= 0:
        return f"exit code {exitcode}"
    names = {s.value: s.name for s in signal.Signals}
    return f"signal {-exitcode}" + (f", {names[-exitcode]}" if -exitcode in names else "")


class WorkerPool:
    """``size`` spawned worker processes; :meth:`map` hands them specs one at a time and yields the outputs.

    With ``warm_up``, each worker executes that spec once as it starts (its
    output is discarded), and so does a worker started later in place of one
    that died. One :meth:`map` at a time: the pool is not shared between threads
    while mapping (the what-if page runs one comparison at a time).
    """

    def __init__(self, size: int, warm_up: RunSpec | None = None) -> None:
        self.size = max(1, size)
        self._warm_up = warm_up
        self._idle: list[Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        started = [start_worker(announce=i == 0) for i in range(self.size)]
        for connection, _process in started:  # every worker warms at once: send to all, then wait for each
            self._send_warm_up(connection)
        for worker in started:
            if self._await_warm_up(worker):
                self._idle.append(worker)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def idle(self) -> int:
        """Workers alive and waiting for a spec."""
        return len(self._idle)

    def _send_warm_up(self, connection: Connection) -> None:
        if self._warm_up is not None:
            with suppress(OSError):
                connection.send(self._warm_up)

    def _await_warm_up(self, worker: Worker) -> bool:
        """Whether ``worker`` finished its warm-up run alive (it is closed if not)."""
        if self._warm_up is None:
            return True
        connection, process = worker
        try:
            connection.recv()
            return True
        except (EOFError, OSError):
            connection.close()
            process.join()
            return False

    def _fresh(self) -> Worker:
        worker = start_worker()
        self._send_warm_up(worker[0])
        self._await_warm_up(worker)  # a worker that dies warming up fails the first spec it is given
        return worker

    def map(
        self, specs: Iterable[RunSpec], stop: Callable[[], bool] | None = None, limit: float | None = None
    ) -> Generator[RunOutput]:
        """Execute every spec on the workers, at most ``size`` at once; yield each output as it arrives.

        Closing the iterator early (Ctrl-C, a cancelled comparison) kills the
        workers still running a spec; the idle ones stay in the pool. So does
        ``stop()`` turning true, asked a few times a second while runs are
        out: the iterator then ends, without waiting for a run that may never
        end (a policy stuck in a loop). A run out longer than ``limit``
        seconds is stopped, its worker killed and replaced, and yielded as
        failed (``--run-timeout``). The pool closed meanwhile (from another
        thread: the page's server stopping) ends it with RuntimeError.
        """
        if not self._lock.acquire(blocking=False):
            raise RuntimeError("a WorkerPool maps one batch at a time")
        waiting = deque(specs)
        busy: dict[Connection, tuple[SpawnProcess, RunSpec, float, float]] = {}

        def hand_out() -> None:
            if self._closed:  # no worker may start now: one spawned as the process exits fails in a traceback
                raise RuntimeError(CLOSED)
            while waiting and len(busy) < self.size:
                connection, process = self._idle.pop() if self._idle else self._fresh()
                spec = waiting.popleft()
                try:
                    connection.send(spec)
                except OSError:  # the worker died while idle (killed from outside): not this spec's doing
                    waiting.appendleft(spec)
                    connection.close()
                    process.join()
                    continue
                busy[connection] = (process, spec, time.time(), time.perf_counter())

        def take(ready: object) -> RunOutput:
            """The output of a worker that has answered, the worker back in the pool; a failed run if it died."""
            connection = cast(Connection, ready)
            process, spec, started, clock = busy.pop(connection)
            try:
                out: RunOutput = connection.recv()
            except EOFError:
                connection.close()
                process.join()
                how = ending(process.exitcode)
                return failed(spec, f"the worker process died ({how}) while running this run", started, clock)
            self._idle.append((connection, process))
            return out

        try:
            hand_out()
            while busy:
                ready_ones = connection_wait(list(busy), timeout=STOP_POLL_S)
                if self._closed:
                    raise RuntimeError(CLOSED)
                if stop is not None and stop():
                    for ready in ready_ones:  # done already: back to the pool, not stopped with the runs still out
                        take(ready)
                    return
                for ready in ready_ones:
                    out = take(ready)
                    hand_out()  # before the caller handles this output, so that no worker waits for it
                    yield out
                now = time.perf_counter()
                for connection in [c for c, (*_, clock) in busy.items() if limit is not None and now - clock > limit]:
                    process, spec, started, clock = busy.pop(connection)
                    process.kill()
                    process.join()
                    connection.close()
                    hand_out()
                    yield failed(spec, f"stopped at its time limit, {limit:g} s (--run-timeout)", started, clock)
        finally:
            for connection, (process, *_) in busy.items():
                process.kill()  # still running a spec: the caller stopped early
                process.join()
                connection.close()
            if self._closed:  # a close that did not wait for this map (it waits a few polls): what came back since
                self._stop_idle()
            self._lock.release()

    def close(self) -> None:
        """Stop every worker and wait for it to exit: the idle ones, and those a :meth:`map` running in another
        thread has out (it ends within a poll)."""
        self._closed = True
        if self._lock.acquire(timeout=10 * STOP_POLL_S):
            self._lock.release()
        self._stop_idle()

    def _stop_idle(self) -> None:
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            with suppress(OSError):  # one that died while idle has nothing to be told
                connection.send(None)
        for connection, process in idle:
            process.join()
            connection.close()
