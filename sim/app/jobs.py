"""Comparisons running in the background of the page's process: one at a time, with progress and a result.

The page starts a comparison and returns at once; the comparison runs in a
thread of the server process, handing its runs to the warm workers, while the
page asks for its progress a few times a second. So the page never waits on a
run (it stays responsive), and a comparison can be stopped half-way.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from sim.app.engine import Cancelled, Comparison
from sim.errors import InputError, PolicyError

#: A comparison's work: given a callback for each finished run (finished, total) and a test of whether it was
#: cancelled, it returns the comparison.
Work = Callable[[Callable[[int, int], None], Callable[[], bool]], Comparison]

State = Literal["running", "done", "failed", "cancelled"]

#: Finished jobs kept for the page to read (their results and downloads), the oldest dropped first.
KEEP = 8


class Busy(Exception):
    """A comparison is already running (the workers take one at a time)."""


@dataclass
class Job:
    """One comparison: its progress (runs ``finished`` of ``total``), then its result or its problems.

    ``problems`` holds one line each: an InputError's lines, or what went
    wrong unexpectedly. ``seconds`` is the time from start to end (or so far).
    ``settings`` names what it runs on (the page's ``form.settings_key``), for
    a page that follows it to tell whether its results are the form's.
    """

    id: str
    settings: str | None = None
    started: float = field(default_factory=time.perf_counter)
    state: State = "running"
    finished: int = 0
    total: int = 0
    result: Comparison | None = None
    problems: list[str] = field(default_factory=list)
    ended: float | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)

    @property
    def seconds(self) -> float:
        return (self.ended or time.perf_counter()) - self.started


class Jobs:
    """The page's comparisons: at most one running; finished ones kept (the last :data:`KEEP`) by id."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, work: Work, settings: str | None = None) -> Job:
        """Start ``work`` (on ``settings``) in a background thread and return its job at once, or raise Busy."""
        with self._lock:
            if any(j.state == "running" for j in self._jobs.values()):
                raise Busy
            job = Job(uuid.uuid4().hex, settings)
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP:
                del self._jobs[next(iter(self._jobs))]
        threading.Thread(target=self._run, args=(job, work), name=f"comparison-{job.id[:8]}", daemon=True).start()
        return job

    def get(self, job_id: str | None) -> Job | None:
        return self._jobs.get(job_id or "")

    def running(self) -> Job | None:
        """The comparison running now, if any."""
        with self._lock:
            return next((j for j in self._jobs.values() if j.state == "running"), None)

    def cancel(self, job_id: str | None) -> None:
        """Ask the comparison ``job_id`` to stop (at once: its runs still out are abandoned); with none (a page
        reloaded while its comparison ran no longer knows its id), the one running now. A page whose own
        comparison ended stops nothing (not another page's)."""
        job = self.get(job_id) if job_id is not None else self.running()
        if job is not None:
            job.cancel_event.set()

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """The job once it is no longer running (or when ``timeout`` seconds have passed)."""
        deadline = None if timeout is None else time.perf_counter() + timeout
        job = self._jobs[job_id]
        while job.state == "running" and (deadline is None or time.perf_counter() < deadline):
            time.sleep(0.02)
        return job

    @staticmethod
    def _run(job: Job, work: Work) -> None:
        def progress(finished: int, total: int) -> None:
            job.finished, job.total = finished, total

        try:
            job.result = work(progress, job.cancel_event.is_set)
            job.state = "done"
        except Cancelled:
            job.state = "cancelled"
        except InputError as e:
            job.problems, job.state = list(e.problems), "failed"
        except PolicyError as e:
            job.problems, job.state = [" ".join(str(e).split())], "failed"
        except Exception as e:  # the page must say what happened in one line, whatever it was
            text = " ".join(str(e).split())
            job.problems = [f"covsim failed unexpectedly ({type(e).__name__}: {text}); please report it"]
            job.state = "failed"
        finally:
            job.ended = time.perf_counter()
