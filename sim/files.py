"""Atomic file writes: nothing covsim writes is ever half-written (a temporary file, then a rename).

A written file gets the permissions a plain ``open(path, "w")`` would give it,
``0o666`` less the process's umask, so a results folder shared with colleagues
is as readable as anything else the user writes there.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable, Mapping
from contextlib import suppress
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


#: The longest file or folder name common file systems take, in bytes (ext4, APFS, NTFS: 255).
_NAME_MAX = 255


def unwritable(folder: Path) -> str | None:
    """Why files could not be written into ``folder`` (made if missing), or None if they can. Creates nothing.

    It probes the folder, or its nearest existing ancestor, with a temporary
    file it removes at once, so a read-only file system, a missing permission
    or a file standing where a folder should be is found before any work.
    """
    too_long = [part for part in folder.parts if len(part.encode()) > _NAME_MAX]
    if too_long:
        return f"a name in it is longer than the {_NAME_MAX} bytes a file system allows ({too_long[0][:24]}...)"
    probe = folder
    while not os.path.lexists(probe) and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a folder"
    try:
        fd, tmp = tempfile.mkstemp(dir=probe, prefix=".covsim-probe.")
    except OSError as e:
        # A folder that exists but takes no new files (/proc) answers "No such file or directory", which reads
        # as if the folder were missing.
        why = "it takes no new files" if e.errno == errno.ENOENT else e.strerror or str(e)
        return f"cannot write in {probe} ({why})"
    os.close(fd)
    os.unlink(tmp)
    return None


def missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its ancestors that do not exist, innermost first: what making it would make."""
    return [p for p in (folder, *folder.parents) if not os.path.lexists(p)]


def remove_made(folders: list[Path]) -> None:
    """Remove ``folders`` (made by a call that failed; innermost first) that are empty; leave the others."""
    for folder in folders:
        with suppress(OSError):
            folder.rmdir()


def atomic_write_all(folder: Path, writers: Mapping[str, Callable[[Path], object]]) -> None:
    """Write the files ``writers`` names into ``folder``, all or none of them.

    Each writer fills a temporary file in the folder; only when every one has
    succeeded are they renamed into place, so a failure (a full disk, a figure
    that cannot be drawn, Ctrl-C) leaves the folder as it was, without even the
    folders this call made. (A rename that fails part way, which takes the
    folder vanishing meanwhile, is said as such.) A reader sees each file old or new, never torn.
    Files end with :func:`file_mode`'s permissions, not the owner-only
    ``0o600`` that ``mkstemp`` creates temporaries with.
    """
    made = missing_folders(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[tuple[Path, Path]] = []
    moved = 0
    at = folder  # the file being written or moved into place
    try:
        for name, write in writers.items():
            at = path = folder / name
            fd, name_of_temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=path.suffix)
            os.close(fd)
            temporary = Path(name_of_temporary)
            written.append((temporary, path))
            write(temporary)
            # After ``write``: a writer may replace the temporary rather than write into it.
            os.chmod(temporary, file_mode())
        for _, path in written:  # a folder in a file's place is found before any file is replaced
            if path.is_dir():
                at = path
                raise IsADirectoryError(errno.EISDIR, "a folder stands where the file goes", str(path))
        for temporary, path in written:
            at = path
            os.replace(temporary, path)
            moved += 1
    except BaseException as e:
        for temporary, _ in written[moved:]:
            temporary.unlink(missing_ok=True)
        if not moved:
            remove_made(made)
        if isinstance(e, OSError) and written:  # a full disk names no file: name the one it failed on
            names = ", ".join(writers)
            # Renames cannot fail for want of space; one that fails (the folder removed meanwhile) is said.
            kept = f"none of {names} was written" if not moved else f"{moved} of {names} were replaced, not the rest"
            raise OSError(e.errno, f"{e.strerror or e}; {kept}", str(at)) from e
        raise


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write one file through a temporary in the same folder, then rename it into place (:func:`atomic_write_all`)."""
    atomic_write_all(path.parent, {path.name: write})


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
