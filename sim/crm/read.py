"""Reading the CSV files of a CRM export into frames of the importer's fields (not yet cleaned).

Every problem of every file is collected before anything fails: a missing file
or column, a bad number or date each give one line naming the file, the row
(as a spreadsheet numbers it: the header is row 1) and the column.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.crm.layout import DATES, FIELDS, NUMBERS, REQUIRED, parse_date, parse_number
from sim.errors import InputError

#: At most this many bad values are listed per file and column; the rest are counted.
MAX_LISTED = 10


@dataclass(frozen=True)
class Table:
    """One file of the export with its columns renamed to the importer's fields.

    ``frame`` has a column per known field (empty strings where the file has no
    such column, listed in ``absent``); numbers are floats (NaN when blank) and
    dates ``datetime64`` (NaT when blank). ``row`` gives each row's number as a
    spreadsheet shows it (the header is row 1).
    """

    kind: str
    path: str
    frame: pd.DataFrame
    absent: tuple[str, ...]

    @property
    def name(self) -> str:
        """The file's name without its folder, as notes show it."""
        return Path(self.path).name


@dataclass(frozen=True)
class Export:
    """The four files of a CRM export, read (not yet cleaned)."""

    accounts: Table
    pipeline: Table
    teams: Table
    products: Table | None
    columns: dict[str, dict[str, str]] = field(default_factory=dict)


def read_export(
    accounts: Path | str,
    pipeline: Path | str,
    teams: Path | str,
    products: Path | str | None = None,
    columns: Mapping[str, Mapping[str, str]] | None = None,
) -> Export:
    """Read every file, reporting the problems of all of them at once (InputError)."""
    mapping = {k: dict(v) for k, v in (columns or {}).items()}
    tables: dict[str, Table | None] = {"products": None}
    problems: list[str] = []
    for kind, path in (("accounts", accounts), ("pipeline", pipeline), ("teams", teams), ("products", products)):
        if path is None:
            continue
        try:
            tables[kind] = read_table(path, kind, mapping.get(kind))
        except InputError as e:
            problems += e.problems
    if problems:
        raise InputError(problems)
    acc, pipe, team = tables["accounts"], tables["pipeline"], tables["teams"]
    assert acc is not None and pipe is not None and team is not None
    return Export(accounts=acc, pipeline=pipe, teams=team, products=tables["products"], columns=mapping)


def read_table(path: Path | str, kind: str, columns: Mapping[str, str] | None = None) -> Table:
    """Read one CSV file of the export, or raise InputError (one line per problem)."""
    columns = dict(columns or {})
    where = str(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=True)
    except FileNotFoundError:
        raise InputError([f"{where}: file not found"]) from None
    except pd.errors.EmptyDataError:
        raise InputError([f"{where}: empty file (no header row)"]) from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError([f"{where}: cannot read as CSV: {first}"]) from None
    raw.columns = [str(c).strip() for c in raw.columns]
    problems = []
    for fld in REQUIRED[kind]:
        col = columns.get(fld, fld)
        if col not in raw.columns:
            problems.append(
                f"{where}: missing column {col!r} (needed as {kind}.{fld}; "
                f"to read it from another column: --column {kind}.{fld}=NAME)"
            )
    for fld, col in columns.items():
        if fld not in REQUIRED[kind] and col not in raw.columns:
            problems.append(f"{where}: missing column {col!r} (mapped by --column {kind}.{fld}={col})")
    if problems:
        raise InputError(problems)

    frame = pd.DataFrame(index=raw.index)
    absent = []
    for fld in FIELDS[kind]:
        col = columns.get(fld, fld)
        if col in raw.columns:
            frame[fld] = raw[col].astype(str).str.strip()
        else:
            frame[fld] = ""
            absent.append(fld)
    for fld in NUMBERS.get(kind, ()):
        if fld in absent:
            frame[fld] = np.nan
            continue
        col = columns.get(fld, fld)
        values, bad = _parse_column(frame[fld], parse_number, math.nan, where, col, "a number")
        problems += _capped(bad, where, col)
        frame[fld] = np.array(values, dtype=float)
    for fld in DATES.get(kind, ()):
        col = columns.get(fld, fld)
        stamps, bad = _parse_column(frame[fld], parse_date, pd.NaT, where, col, "a date (YYYY-MM-DD)")
        problems += _capped(bad, where, col)
        stamps = [pd.Timestamp(v) if v is not pd.NaT else v for v in stamps]
        frame[fld] = pd.to_datetime(pd.Series(stamps, index=frame.index, dtype="object"))
    if problems:
        raise InputError(problems)
    frame["row"] = np.arange(len(frame)) + 2
    return Table(kind=kind, path=where, frame=frame, absent=tuple(absent))


def _parse_column(
    texts: pd.Series, parse: Callable[[str], Any], missing: Any, where: str, column: str, expected: str
) -> tuple[list[Any], list[str]]:
    """Parse each cell; an empty or unparsable cell is ``missing``, and each unparsable one gets a
    problem line naming its row (as in a spreadsheet: the header is row 1) and column."""
    values: list[Any] = []
    bad: list[str] = []
    for i, text in enumerate(texts):
        value = parse(text) if text != "" else None
        if value is None and text != "":
            bad.append(f"{where}: row {i + 2}: {column}: {text!r} is not {expected}")
        values.append(missing if value is None else value)
    return values, bad


def _capped(lines: list[str], where: str, column: str) -> list[str]:
    """At most MAX_LISTED of a column's problem lines, and one line counting the rest."""
    if len(lines) <= MAX_LISTED:
        return lines
    return [*lines[:MAX_LISTED], f"{where}: {column}: {len(lines) - MAX_LISTED:,} more bad values like these"]
