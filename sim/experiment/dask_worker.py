"""Loaded by each worker process of covsim's local Dask cluster when it starts (the cluster's ``preload``).

The worker is born with Ctrl-C held back (``runner.sigint_held``), so one
given while it starts does not end in its traceback. Once it is up, a Ctrl-C
(the cluster's nanny stops its worker with one when a stopped batch closes
the cluster) makes it leave at once and quietly: it holds nothing the batch
has not received or will not run again.
"""

from __future__ import annotations

import os
import signal


def _leave(signum: int, frame: object) -> None:
    os._exit(0)


signal.signal(signal.SIGINT, _leave)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
