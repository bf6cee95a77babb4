"""A stop asked of the command line (Ctrl-C, or SIGTERM from outside), remembered where a library swallows it.

The command line's handler raises KeyboardInterrupt at once, as Python's own
does, and also notes that a stop was asked. A KeyboardInterrupt raised while
numba compiles a kernel lands in one of its ctypes callbacks, which Python
reports ("Exception ignored on calling ctypes callback function") and drops:
the run went on, finished, and wrote its results over a folder's earlier ones
(a VP's Ctrl-C on a first run after an update). The run's week loop
(``CoverageModel.run``) raises the noted stop at the next week instead.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_asked = False
#: The stops :func:`held` holds back.
STOPS = (signal.SIGINT, signal.SIGTERM)


def ask(signum: int, frame: object) -> None:
    """The command line's handler of SIGINT and SIGTERM: note the stop, and raise it."""
    global _asked
    _asked = True
    raise KeyboardInterrupt


def raise_if_asked() -> None:
    """Raise KeyboardInterrupt if a stop was asked and something swallowed it."""
    if _asked:
        raise KeyboardInterrupt


def forget() -> None:
    """Clear a stop asked (a test's, or a caller's that handled it and goes on)."""
    global _asked
    _asked = False


@contextmanager
def held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back while processes start; a stop given meanwhile is acted on once they are up.

    A stop raised inside ``Process.start`` (between the fork and the writing of
    what the new process needs) left it reading an empty pipe: its traceback
    ("EOFError: Ran out of input") came under the what-if page's "stopped"
    line. Meanwhile a stop is only noted (any thread of this process may take
    the signal; Python runs the handler in the main one), then given to the
    handler it was held from, each stop once in the order noted: the command
    line's raises KeyboardInterrupt, a default action ends the process as it
    would have. Processes started meanwhile are born with Ctrl-C blocked (a
    thread's mask is what a process or thread it starts inherits): one given to
    the whole terminal group while they start never ends in their traceback;
    each unblocks it once it ignores or handles it. multiprocessing's resource
    tracker is started first, as its own start unblocks Ctrl-C in the thread
    that starts it (a Dask cluster's workers had been born with it unblocked).
    A start that failed with a stop given (a Dask worker the Ctrl-C ended as
    it started) is the stop, not its failure; where the held-from handler only
    notes the stop and returns, the failure is raised after it. In another
    thread than the main one, where signals cannot be handled, only the mask
    is held.
    """
    from multiprocessing import resource_tracker  # here: every command imports this module, few start processes

    main = threading.current_thread() is threading.main_thread()
    given: list[int] = []
    previous = {s: signal.getsignal(s) for s in STOPS} if main else {}
    # Kept as they are: an ignored stop (a background job's Ctrl-C) and a handler set outside Python (None).
    held_from = {s: h for s, h in previous.items() if h is not None and h is not signal.SIG_IGN}
    for s in held_from:
        signal.signal(s, lambda signum, frame: given.append(signum))
    failure: Exception | None = None
    try:
        resource_tracker.ensure_running()
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a Ctrl-C left pending is noted as it is let through
    except Exception as e:
        if not given:
            raise
        failure = e
    finally:
        for s, handler in held_from.items():
            signal.signal(s, handler)
    for stop in map(signal.Signals, dict.fromkeys(given)):
        handler = held_from[stop]
        if callable(handler):
            handler(stop, None)
        else:  # the default action (ending the process)
            signal.raise_signal(stop)
    if failure is not None:
        raise failure
