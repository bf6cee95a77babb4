"""Standard output and error whose reader may stop reading (``covsim run ... | head -1``).

Python raises BrokenPipeError at the next write to a pipe nobody reads any
more; wrapped here, a stream sends what follows to the null device instead,
so the command (or the worker process running a policy that prints) goes on
with its work and its files and ends as it would have.
"""

from __future__ import annotations

import os
import sys
from typing import Any


class ReaderMayStop:
    """A text stream whose reader may stop reading: from then on what is written goes to the null device.
    Everything but writing and flushing is the wrapped stream's."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except BrokenPipeError:
            self._drop()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._drop()

    def _drop(self) -> None:
        # Later writes, and Python's flush at exit, go to the null device instead of failing again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())
        os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def readers_may_stop() -> None:
    """Wrap this process's standard output and error (each once) in :class:`ReaderMayStop`."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, ReaderMayStop):
            setattr(sys, name, ReaderMayStop(stream))
