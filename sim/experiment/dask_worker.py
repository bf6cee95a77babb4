"""Loaded by each worker process of covsim's local Dask cluster when it starts (the cluster's ``preload``).

The worker is born with Ctrl-C held back (``sim.stopping.held``), so one
given to the terminal while it starts does not end in its traceback; once it
is up, a Ctrl-C (the terminal's, to every process of the group: the batch
stops the cluster itself) makes it leave at once and quietly: it holds
nothing the batch has not received or will not run again. And, as covsim's
own workers, it goes on when the reader of its output stops reading (a
policy that prints, under ``covsim compare ... | head -1``).
"""

from __future__ import annotations

import os
import signal

from sim.streams import readers_may_stop


def _leave(signum: int, frame: object) -> None:
    os._exit(0)


readers_may_stop()
signal.signal(signal.SIGINT, _leave)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
