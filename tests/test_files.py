"""Files people share: written files follow the umask, the store's lock follows no symlink, no fcntl needed."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from sim.errors import InputError
from sim.experiment.store import LOCK_NAME, Store
from sim.files import atomic_write, atomic_write_text
from tests.conftest import ROOT

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits and symlinks")


@pytest.fixture
def umask():
    """Set the process's umask for one test, restoring it after."""
    previous = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(previous)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@posix_only
@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600), (0o027, 0o640)])
def test_written_files_get_the_mode_a_plain_open_gives(tmp_path, umask, mask, expected):
    umask(mask)
    plain = tmp_path / "plain.txt"
    with open(plain, "w") as f:
        f.write("x")
    atomic_write_text(tmp_path / "report.md", "# report\n")
    # A writer that opens the temporary itself (as pandas and matplotlib do) gets the same.
    atomic_write(tmp_path / "results.csv", lambda p: p.write_bytes(b"a,b\n"))
    assert mode_of(plain) == expected
    assert mode_of(tmp_path / "report.md") == expected
    assert mode_of(tmp_path / "results.csv") == expected
    assert (tmp_path / "report.md").read_text() == "# report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.txt", "report.md", "results.csv"]


@posix_only
def test_a_second_writer_is_refused_then_let_in(tmp_path):
    first = Store(tmp_path, "h")
    with pytest.raises(InputError) as e:
        Store(tmp_path, "h")
    assert e.value.problems == [
        f"{tmp_path}: another covsim process is writing this store; wait for it or use another --out"
    ]
    first.close()
    Store(tmp_path, "h").close()


@posix_only
@pytest.mark.parametrize("target_exists", [True, False], ids=["to-a-file", "dangling"])
def test_a_symlink_planted_at_the_lock_is_not_written_through(tmp_path, target_exists):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "precious.txt"
    if target_exists:
        target.write_text("keep me\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_NAME).symlink_to(target)
    with pytest.raises(InputError) as e:
        Store(out, "h")
    assert e.value.problems == [
        f"{out / LOCK_NAME}: is a symbolic link, which covsim will not write through; remove it"
    ]
    if target_exists:
        assert target.read_text() == "keep me\n"
    else:
        assert not target.exists()
    assert (out / LOCK_NAME).is_symlink()
    assert not (out / "store.sqlite").exists()  # refused before the store was opened


def test_the_package_imports_where_there_is_no_fcntl():
    # As on Windows: ``import fcntl`` fails. Every module of covsim must still import.
    code = (
        "import sys, pkgutil, importlib\n"
        "sys.modules['fcntl'] = None\n"
        "import sim, sim.cli, sim.experiment.store\n"
        "for m in pkgutil.walk_packages(sim.__path__, 'sim.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "assert sys.modules['fcntl'] is None\n"
        "print('imported', len([n for n in sys.modules if n == 'sim' or n.startswith('sim.')]))\n"
    )
    r = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.split()[1]) > 60
