"""The sample scenarios and experiments, and copying them out for a user (``covsim examples``).

In a source checkout they are ``scenarios/`` and ``experiments/`` beside the
package, where the docs name them; an installed covsim carries the same files
as ``sim/samples/`` (pyproject.toml maps them in). Copied out, they keep their
layout, so an experiment's relative ``scenario = "../scenarios/..."`` still
finds its scenario.
"""

from __future__ import annotations

import errno
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from sim.errors import InputError
from sim.files import atomic_write_text, missing_folders, remove_made, unwritable

#: The sample folders, as the docs name them (relative to the checkout, or to where they are copied).
FOLDERS = ("scenarios", "experiments")


def sample_root() -> Traversable:
    """The folder holding ``FOLDERS``: the checkout when covsim runs from one, else the installed package's."""
    package = files("sim")
    checkout = Path(str(package)).parent
    if (checkout / "pyproject.toml").is_file() and all((checkout / f).is_dir() for f in FOLDERS):
        return checkout
    return package / "samples"


def samples() -> dict[str, Traversable]:
    """Every sample file by its path relative to the root (``scenarios/small.toml``, ...), sorted."""
    found: dict[str, Traversable] = {}

    def walk(node: Traversable, rel: str) -> None:
        for child in node.iterdir():
            if child.is_dir() and not child.name.startswith((".", "_")):
                walk(child, f"{rel}/{child.name}")
            elif child.is_file() and child.name.endswith(".toml"):
                found[f"{rel}/{child.name}"] = child

    root = sample_root()
    for folder in FOLDERS:
        if (root / folder).is_dir():
            walk(root / folder, folder)
    if not found:
        raise InputError([f"no sample files found under {root} (a broken installation: reinstall covsim)"])
    return dict(sorted(found.items()))


#: Up to this many sample files already in the folder are named a line each; more are one line [A].
MOST_NAMED = 3


def copy_samples(dest: Path) -> list[Path]:
    """Copy every sample file under ``dest``, keeping the layout; returns the files written.

    Refuses, writing nothing, when any of them already exists there (one
    problem per file) or ``dest`` is a file. A failure part-way removes what
    this call wrote.
    """
    files_ = samples()
    if dest.exists() and not dest.is_dir():
        raise InputError([f"{dest}: exists and is not a folder"])
    if (reason := unwritable(dest)) is not None:  # a file on the way to it, a read-only disk: said as --out says it
        raise InputError([f"{dest}: {reason}; nothing was copied"])
    targets = {dest / rel: src for rel, src in files_.items()}
    existing = [t for t in targets if t.exists()]
    if len(existing) > MOST_NAMED:  # a second copy into one folder had printed a line for each of 18 files
        raise InputError(
            [
                f"{dest}: holds {len(existing)} of the {len(targets)} sample files already (the first: "
                f"{existing[0]}); choose another folder, or move them away"
            ]
        )
    if existing:
        raise InputError([f"{t}: already exists (choose another folder, or move it away)" for t in existing])
    written: list[Path] = []
    made = sorted({p for t in targets for p in missing_folders(t.parent)}, reverse=True)  # deepest first
    target = dest
    try:
        for target, src in targets.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(target, src.read_text(encoding="utf-8"))
            written.append(target)
    except BaseException as e:
        for path in written:
            path.unlink(missing_ok=True)
        remove_made(made)
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):  # the system's: exit 1
            raise OSError(e.errno, f"{e.strerror}; nothing was copied", str(target)) from None
        if isinstance(e, OSError):  # a read-only disk, a folder where a file should go: the user's to fix
            raise InputError([f"{target}: cannot write it ({e.strerror or e}); nothing was copied"]) from None
        raise
    return written
