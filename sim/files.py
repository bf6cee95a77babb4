"""Atomic file writes: nothing covsim writes is ever half-written (a temporary file, then a rename).

A written file gets the permissions a plain ``open(path, "w")`` would give it,
``0o666`` less the process's umask, so a results folder shared with colleagues
is as readable as anything else the user writes there.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask_from_proc() -> int | None:
    """The process's current umask as Linux reports it (``Umask:`` in /proc/self/status), or None elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _umask_at_import() -> int:
    """The umask when this module was imported, for systems without /proc.

    Reading the umask means setting it (``os.umask`` returns the old value), and
    for that instant another thread's new file would get the stand-in value;
    doing it once, at import, before covsim starts any thread, keeps that
    window out of every write.
    """
    umask = _umask_from_proc()
    if umask is None:
        umask = os.umask(0o022)
        os.umask(umask)
    return umask


_UMASK_AT_IMPORT = _umask_at_import()


def file_mode() -> int:
    """The permission bits ``open(path, "w")`` would give a new file now: ``0o666`` less the umask.

    Where /proc gives it, the umask is read afresh (a program embedding covsim
    may change it); elsewhere it is the one at import.
    """
    umask = _umask_from_proc()
    return 0o666 & ~(_UMASK_AT_IMPORT if umask is None else umask)


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file in the same folder, then rename it into place.

    A reader sees the old file or the new one, never a torn one; an interrupted
    write leaves at most a hidden ``.name.*`` temporary, which nothing reads.
    The file ends with :func:`file_mode`'s permissions, not the owner-only
    ``0o600`` that ``mkstemp`` creates temporaries with.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        # After ``write``: a writer may replace the temporary rather than write into it.
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
