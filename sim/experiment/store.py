"""The embedded SQLite store of an experiment: a ledger of runs and their tidy results.

A run's results and its ``done`` status are written in one transaction, so a
reader never sees part of a run, and a process killed mid-write leaves the
store as it was before that run. One process at a time may write a store: it
holds an exclusive lock on ``.covsim.lock`` beside it (``filelock``'s, which
works on Unix and Windows and will not follow a symbolic link planted at that
path).
"""

from __future__ import annotations

import errno
import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock, Timeout

from sim.errors import InputError
from sim.experiment.design import Cell, DesignPoint
from sim.experiment.jobs import RunOutput, RunSpec
from sim.files import missing_folders, remove_made
from sim.format import joined

STORE_NAME = "store.sqlite"
LOCK_NAME = ".covsim.lock"
#: The most changed inputs a refusal to resume names, the rest counted [A].
MOST_CHANGES_NAMED = 5

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS points (point INTEGER PRIMARY KEY, block TEXT NOT NULL, row INTEGER NOT NULL,
    factors TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cells (point INTEGER NOT NULL, policy TEXT NOT NULL, replication INTEGER NOT NULL,
    run_key TEXT NOT NULL, PRIMARY KEY (point, policy, replication));
CREATE TABLE IF NOT EXISTS runs (run_key TEXT PRIMARY KEY, config_hash TEXT NOT NULL, policy TEXT NOT NULL,
    params TEXT NOT NULL, seed INTEGER NOT NULL, status TEXT NOT NULL, error TEXT, started REAL, finished REAL,
    seconds REAL, versions TEXT);
CREATE TABLE IF NOT EXISTS results (run_key TEXT NOT NULL, quarter INTEGER NOT NULL, segment TEXT NOT NULL,
    metric TEXT NOT NULL, value REAL);
CREATE TABLE IF NOT EXISTS weekly (run_key TEXT NOT NULL, week INTEGER NOT NULL, metric TEXT NOT NULL, value REAL);
CREATE TABLE IF NOT EXISTS lorenz (run_key TEXT NOT NULL, segment TEXT NOT NULL, share_of_accounts REAL NOT NULL,
    share_of_hours REAL NOT NULL);
"""

#: The indexes the reports' joins read, built when results are first read (``Store._indexed``) rather than
#: kept up to date row by row as a batch stores each run: storing a run's 1,200 rows took 1.5 ms with them
#: and 1.0 ms without, and one build over the stored rows costs about 0.2 ms a run.
INDEXES = """
CREATE INDEX IF NOT EXISTS results_run ON results (run_key);
CREATE INDEX IF NOT EXISTS weekly_run ON weekly (run_key);
"""


def _take_lock(folder: Path) -> FileLock:
    """The store's exclusive lock, held until released, or InputError if another process holds it.

    filelock opens the lock file with O_NOFOLLOW and without truncating it: a
    symbolic link planted at its path (to make covsim create or overwrite a
    file elsewhere) is refused with one line, not written through.
    """
    path = folder / LOCK_NAME
    lock = FileLock(path, blocking=False)
    try:
        lock.acquire()
    except Timeout:
        raise InputError(
            [f"{folder}: another covsim process is writing this store; wait for it or use another --out"]
        ) from None
    except OSError as e:
        if e.errno != errno.ELOOP:
            raise
        raise InputError([f"{path}: is a symbolic link, which covsim will not write through; remove it"]) from None
    return lock


def _remove_store_files(path: Path) -> None:
    """The store's database file ``path`` and SQLite's files beside it."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class Store:
    """An experiment's store in a folder (or in memory when ``folder`` is None)."""

    def __init__(
        self, folder: Path | None, identity: str, fresh: bool = False, parts: dict[str, str] | None = None
    ) -> None:
        """``identity``: what the store's runs are a function of (a hash of ``batch._identity``); a store that
        holds another's is refused. It is kept as the meta key ``experiment_hash``, which stores of earlier
        versions held the whole experiment's hash under, so that those are refused too. ``parts``: a hash of
        each input the identity is made of, by what a reader calls it ("covsim's code"), kept so that a
        refusal names the inputs that changed."""
        self.folder = folder
        self._lock: FileLock | None = None
        if folder is None:
            self.db = sqlite3.connect(":memory:", isolation_level=None)
            self.db.executescript(SCHEMA)
        else:
            path = folder / STORE_NAME
            if path.is_dir():
                raise InputError(
                    [f"{path}: a folder stands where the store's file goes; move it, or use another --out"]
                )
            made = missing_folders(folder)
            folder.mkdir(parents=True, exist_ok=True)
            locked_before = (folder / LOCK_NAME).exists()
            self._lock = _take_lock(folder)
            if fresh:
                _remove_store_files(path)
            new = not path.exists()
            self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.executescript(SCHEMA)
            except sqlite3.DatabaseError as e:  # a full disk, a file of another kind, or a damaged store
                self.close()
                if new or not locked_before:  # a folder that is no store keeps no lock file of ours
                    (folder / LOCK_NAME).unlink(missing_ok=True)
                if new:  # nothing of it is left: the files it began, the lock, the folders it made
                    _remove_store_files(path)
                    remove_made(made)
                full = getattr(e, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
                if full or new:  # the system failed (a full disk; an I/O error on a file just begun), not the input
                    reason = "No space left on device" if full else f"cannot make the store ({e})"
                    raise OSError(
                        errno.ENOSPC if full else errno.EIO, f"{reason}; nothing was run", str(path)
                    ) from None
                raise InputError(
                    [f"{path}: not a covsim store ({e}); rerun with --fresh to replace it, or use another --out"]
                ) from None
        stored = self.meta("experiment_hash")
        if stored is not None and stored != identity:
            was = json.loads(self.meta("identity_parts") or "{}")
            changed = [name for name, digest in (parts or {}).items() if name in was and was[name] != digest]
            if len(changed) > MOST_CHANGES_NAMED:  # a package-wide edit: every file of it
                changed = [*changed[:MOST_CHANGES_NAMED], f"{len(changed) - MOST_CHANGES_NAMED} more"]
            self.close()
            raise InputError(
                [
                    f"{folder}: holds results of a different experiment ("
                    + (
                        f"{joined(changed)} changed since its runs"
                        if changed
                        else "the file, its scenario or covsim's code changed"
                    )
                    + "); rerun with --fresh to discard them, or use another --out"
                ]
            )
        self.set_meta("experiment_hash", identity)
        if parts:
            self.set_meta("identity_parts", json.dumps(parts))

    @classmethod
    def existing(cls, folder: Path) -> Store:
        """Open a stored experiment for reading and reporting (takes the lock)."""
        db = sqlite3.connect(folder / STORE_NAME)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'experiment_hash'").fetchone()
        except sqlite3.DatabaseError as e:
            raise InputError([f"{folder / STORE_NAME}: not a covsim store ({e})"]) from None
        finally:
            db.close()
        if row is None:
            raise InputError([f"{folder / STORE_NAME}: not a covsim store (no experiment recorded)"])
        return cls(folder, str(row[0]))

    def close(self) -> None:
        self.db.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def register(
        self, points: list[DesignPoint], cells: list[Cell], specs: dict[str, RunSpec], replications: int
    ) -> int:
        """Record the plan (idempotent: a resumed batch registers the same rows); returns how many replications
        the store held finished runs of before (0: none). The plan's points and cells replace those stored: cells
        of replications past ``replications`` (an earlier plan had more), a Morris design's trajectories past its
        count and a Sobol' design's rows past its base sample are no longer read; their runs stay stored, for a
        plan that asks for them again; the meta ``design_rows_held`` keeps how many such rows (or trajectories) the
        store holds finished runs of (``design.unread_rows``)."""
        (done,) = self.db.execute(
            "SELECT COALESCE(MAX(c.replication) + 1, 0) FROM cells c JOIN runs r ON r.run_key = c.run_key "
            "WHERE r.status = 'done'"
        ).fetchone()
        held = max(int(done), int(self.meta("replications_held") or 0))  # the cells of a lower plan are gone
        self.set_meta("replications_held", str(held))
        # Likewise the rows of a sampled design: a Sobol' base sample's rows, a Morris design's trajectories.
        self.set_meta("design_rows_held", str(max(self._rows_done(), int(self.meta("design_rows_held") or 0))))
        with self._transaction():
            # The plan's points and cells replace the stored ones: a point's number can name another point in
            # another plan of the same runs (a Sobol' design's base sample doubled numbers its B block after the
            # larger A block), while the runs, keyed by what they run, stay for any plan that asks for them.
            self.db.execute("DELETE FROM cells")
            self.db.execute("DELETE FROM points")
            self.db.executemany(
                "INSERT OR IGNORE INTO points VALUES (?, ?, ?, ?)",
                # In the design's order of its factors, which results.csv's columns keep (sorted by name, a
                # researcher's AB0 block was the second column's, not the first's).
                [(p.index, p.block, p.row, json.dumps(p.values)) for p in points],
            )
            self.db.executemany(
                "INSERT OR IGNORE INTO cells VALUES (?, ?, ?, ?)",
                [(c.point, c.policy, c.replication, c.run_key) for c in cells],
            )
            self.db.executemany(
                "INSERT OR IGNORE INTO runs (run_key, config_hash, policy, params, seed, status) VALUES (?, ?, ?, ?, ?, 'pending')",
                [
                    (s.run_key, s.run_key, s.policy, json.dumps(s.params, sort_keys=True), s.seed)
                    for s in specs.values()
                ],
            )
        return held

    def _rows_done(self) -> int:
        """How many of the stored plan's first design rows have every run done: a Morris design's trajectories
        (blocks ``T<t>``), or a Sobol' design's rows (each in every block), down to a power of 2, the base sample
        a plan may ask for (a review's interrupted store had said "ask for samples = 5"); 0 for other designs."""
        done: dict[int, bool] = {}
        morris = False
        for block, row, ok in self.db.execute(
            "SELECT p.block, p.row, MIN(r.status = 'done') FROM points p JOIN cells c ON c.point = p.point "
            "JOIN runs r ON r.run_key = c.run_key WHERE p.row >= 0 GROUP BY p.point"
        ):
            morris = block[:1] == "T"
            unit = int(block[1:]) if morris else int(row)
            done[unit] = done.get(unit, True) and bool(ok)
        rows = next(i for i in range(len(done) + 1) if not done.get(i, False))  # the first row not done
        return rows if morris or rows == 0 else 1 << (rows.bit_length() - 1)

    def finished_keys(self) -> set[str]:
        """The finished runs of the plan's cells."""
        return {
            r[0]
            for r in self.db.execute(
                "SELECT DISTINCT r.run_key FROM runs r JOIN cells c ON c.run_key = r.run_key WHERE r.status = 'done'"
            )
        }

    def record(self, out: RunOutput, versions: str) -> None:
        """Store one run's outcome: results and status together, or the error alone."""
        with self._transaction():
            if out.status == "done":
                self.db.executemany(
                    "INSERT INTO results VALUES (?, ?, ?, ?, ?)", ((out.run_key, *row) for row in out.metrics)
                )
                self.db.executemany(
                    "INSERT INTO weekly VALUES (?, ?, ?, ?)", ((out.run_key, *row) for row in out.weekly)
                )
                self.db.executemany(
                    "INSERT INTO lorenz VALUES (?, ?, ?, ?)", ((out.run_key, *row) for row in out.lorenz)
                )
            self.db.execute(
                "UPDATE runs SET status = ?, error = ?, started = ?, finished = ?, seconds = ?, versions = ? WHERE run_key = ?",
                (out.status, out.error or None, out.started, out.finished, out.seconds, versions, out.run_key),
            )

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)

    # ---- reading -------------------------------------------------------------

    def frame(self, sql: str, params: Iterable[Any] = ()) -> pd.DataFrame:
        return pd.read_sql_query(sql, self.db, params=list(params))

    def _indexed(self) -> None:
        self.db.executescript(INDEXES)

    def results(self) -> pd.DataFrame:
        """Tidy results of finished runs, one row per cell: point, policy, replication, seed, quarter, segment, metric, value."""
        self._indexed()
        return self.frame(
            "SELECT c.point, c.policy, c.replication, r.seed, x.quarter, x.segment, x.metric, x.value "
            "FROM cells c JOIN runs r ON r.run_key = c.run_key JOIN results x ON x.run_key = c.run_key "
            "WHERE r.status = 'done' ORDER BY c.point, c.policy, c.replication, x.quarter, x.segment, x.metric"
        )

    def weekly(self) -> pd.DataFrame:
        self._indexed()
        return self.frame(
            "SELECT c.point, c.policy, c.replication, w.week, w.metric, w.value FROM cells c "
            "JOIN runs r ON r.run_key = c.run_key JOIN weekly w ON w.run_key = c.run_key "
            "WHERE r.status = 'done' ORDER BY c.point, c.policy, c.replication, w.week, w.metric"
        )

    def lorenz(self) -> pd.DataFrame:
        return self.frame(
            "SELECT c.point, c.policy, c.replication, l.segment, l.share_of_accounts, l.share_of_hours FROM cells c "
            "JOIN runs r ON r.run_key = c.run_key JOIN lorenz l ON l.run_key = c.run_key "
            "WHERE r.status = 'done' ORDER BY c.point, c.policy, c.replication, l.segment, l.share_of_accounts"
        )

    def points(self) -> pd.DataFrame:
        df = self.frame("SELECT point, block, row, factors FROM points ORDER BY point")
        factors = pd.json_normalize([json.loads(f) for f in df.pop("factors")])
        return pd.concat([df, factors], axis=1)

    def ledger(self) -> pd.DataFrame:
        """The runs of the plan's cells (a store keeps the runs of replications an earlier plan had beyond)."""
        return self.frame("SELECT * FROM runs WHERE run_key IN (SELECT run_key FROM cells) ORDER BY run_key")


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (Ctrl-C included)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")


def now() -> float:
    return time.time()
