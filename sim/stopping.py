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

_asked = False


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
