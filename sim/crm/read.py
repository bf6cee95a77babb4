"""Reading the CSV files of a CRM export into frames of the importer's fields (not yet cleaned).

Every problem of every file is collected before anything fails: a missing file
or column, a bad number or date each give one line naming the file, the row
(as a spreadsheet numbers it: the header is row 1) and the column.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import require_regular_file
from sim.crm.formats import (
    DETECTED,
    FIRST_DATE,
    LAST_DATE,
    NUMBER_EXAMPLES,
    Formats,
    date_format,
    date_name,
    number_format,
    number_notes,
    read_dates,
    read_numbers,
)
from sim.crm.layout import DATES, FIELDS, NUMBERS, REQUIRED
from sim.crm.notes import rows_named
from sim.errors import InputError
from sim.format import counted
from sim.scenario import MAX_AMOUNT

#: The largest CSV file read [A]: a few million opportunities; a larger file (or a device such as /dev/zero,
#: refused as no regular file) would exhaust memory before any check could speak.
MAX_CSV_BYTES = 1024 * 1024 * 1024
#: Why a row read is set aside, by reason (``Table.set_aside``), in the order a row's first reason claims it.
_ASIDE = {
    "repeated_header": "the header again, as where two exports were pasted into one file",
    "date_out_of_range": "taken as typing errors",
    "no_stage": "a deal with no stage is neither won, lost nor open; a row cut short is read so",
}
#: How other programs write a missing number or date (R, pandas, SQL, Excel), read as a blank cell in those columns.
MISSING_MARKERS = frozenset({"na", "n/a", "#n/a", "nan", "null", "none"})
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
    notes: tuple[str, ...] = ()
    """What reading decided: the formats detected, values read in a way to know about, rows set aside."""
    set_aside: dict[str, int] = field(default_factory=dict)
    """Rows set aside while reading, by reason (``date_out_of_range``, ``no_stage``)."""

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
    formats: Formats = DETECTED,
) -> Export:
    """Read every file in ``formats``, reporting the problems of all of them at once (InputError)."""
    mapping = {k: dict(v) for k, v in (columns or {}).items()}
    tables: dict[str, Table | None] = {"products": None}
    problems: list[str] = []
    given: dict[Path, str] = {}  # each file by what it resolves to, and the option that named it first
    for kind, path in (("accounts", accounts), ("pipeline", pipeline), ("teams", teams), ("products", products)):
        if path is None:
            continue
        # One file named twice is that, not two files swapped (an analyst's --pipeline accounts.csv was said to be
        # --pipeline and --accounts swapped).
        first = given.setdefault(Path(path).resolve(), kind)
        if first != kind:
            problems.append(f"--{kind}: {path} is the file --{first} names too: give each option its own file")
            continue
        try:
            tables[kind] = read_table(path, kind, mapping.get(kind), formats)
        except InputError as e:
            problems += e.problems
    if problems:
        raise InputError(problems)
    acc, pipe, team = tables["accounts"], tables["pipeline"], tables["teams"]
    assert acc is not None and pipe is not None and team is not None
    return Export(accounts=acc, pipeline=pipe, teams=team, products=tables["products"], columns=mapping)


def read_table(
    path: Path | str, kind: str, columns: Mapping[str, str] | None = None, formats: Formats = DETECTED
) -> Table:
    """Read one CSV file of the export, or raise InputError (one line per problem).

    Numbers and dates are read in ``formats`` (detected where ``auto``); a
    negative amount or one above MAX_AMOUNT is blanked (the row is kept as one
    without it: an account without a revenue, a won deal without a value), and
    a row with a date outside FIRST_DATE..LAST_DATE is set aside, each with a
    note naming its rows.
    """
    columns = dict(columns or {})
    where = str(path)
    require_regular_file(Path(path), MAX_CSV_BYTES, "a CRM export file")
    if Path(path).suffix.lower() == ".toml":  # a scenario given for the export: its lines said as ragged rows
        raise InputError([f"{where}: a TOML file (a scenario's or an experiment's), not a CSV file of the CRM export"])
    try:  # the signatures of .xlsx (a ZIP file) and .xls: a workbook read as text fails in ways that misname it
        if _starts(Path(path), 4) in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"):
            raise InputError([f"{where}: a spreadsheet workbook (Excel), not a CSV file: save the sheet as CSV UTF-8"])
        sep = _separator(Path(path))
        ragged: list[tuple[int, int]] = []
        try:
            raw = _read_csv(path, sep)
        except pd.errors.ParserError as e:  # "C error: Expected 8 fields in line 7, saw 10": pandas stops there
            ragged = _ragged(Path(path), sep) if "fields" in str(e) else []
            if not ragged:
                raise
        if ragged or not isinstance(raw.index, pd.RangeIndex):  # extra leading fields: pandas made them an index
            ragged = ragged or _ragged(Path(path), sep)
            # Each row with a field too many is said beside the file's other problems, which a reading that stops
            # at the first had hidden (one mended, the next said): the rest read to the header's width.
            raw = _read_csv(path, sep, usecols=range(_header_width(Path(path), sep)))
    except FileNotFoundError:
        raise InputError([f"{where}: file not found"]) from None
    except pd.errors.EmptyDataError:
        raise InputError([f"{where}: empty file (no header row)"]) from None
    except UnicodeDecodeError:
        if _starts(Path(path), 2) in (b"\xff\xfe", b"\xfe\xff"):  # a byte-order mark of UTF-16
            raise InputError(
                [
                    f"{where}: UTF-16 text (as a spreadsheet's 'Unicode text' saves it), not UTF-8: save it as "
                    "UTF-8 (in a spreadsheet: CSV UTF-8)"
                ]
            ) from None
        line, byte = _first_not_utf8(Path(path))
        raise InputError(
            [
                f"{where}: line {line:,}: not UTF-8 text (byte 0x{byte:02x}, as in a file saved as Latin-1 or "
                "Windows-1252): save it as UTF-8 (in a spreadsheet: CSV UTF-8)"
            ]
        ) from None
    except (OSError, pd.errors.ParserError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        unclosed = re.search(r"EOF inside string starting at row (\d+)", first)
        if unclosed is not None:  # pandas counts the lines from 0, the header's included
            first = (
                f'row {int(unclosed[1]) + 1:,}: a quote (") opens a value that no quote closes before the end of '
                "the file"
            )
        raise InputError([f"{where}: cannot read as CSV: {first}"]) from None
    _check_layout(Path(path), where, sep)
    raw.columns = [str(c).strip() for c in raw.columns]
    width = len(raw.columns)
    problems = [f"{where}: {_too_many_fields(row, fields, width, sep)}" for row, fields in ragged[:MAX_LISTED]]
    if len(ragged) > MAX_LISTED:
        problems.append(f"{where}: {len(ragged) - MAX_LISTED:,} more rows with more fields than the header")
    has = f"the file's columns: {', '.join(map(repr, raw.columns[:12]))}{', ...' if len(raw.columns) > 12 else ''}"
    for fld in REQUIRED[kind]:
        col = columns.get(fld, fld)
        if col not in raw.columns and fld not in columns:
            like = [c for c in raw.columns if _plain(c) == _plain(col)]
            # Or a misspelling of it (an analyst's `close_vlaue` was not named), of a column no other field reads.
            like = like or difflib.get_close_matches(col, [c for c in raw.columns if c not in FIELDS[kind]], 1, 0.8)
            option = f"--column {kind}.{fld}={like[0]!r}" if like else f"--column {kind}.{fld}=NAME"
            problems.append(
                f"{where}: missing column {col!r} (needed as {kind}.{fld}; "
                + (f"the file has {like[0]!r}: {option})" if like else f"to read it from another column: {option})")
            )
    for fld, col in columns.items():  # named by --column: the file's own names, not the option again
        if col not in raw.columns:
            problems.append(f"{where}: missing column {col!r} (mapped by --column {kind}.{fld}={col}; {has})")
    # The files given in each other's place: four missing columns, and no word why. Another kind's file is one
    # with all of its columns, more of them than of this kind's (a pipeline missing one has a product column too).
    if problems and not columns:
        own = sum(f in raw.columns for f in REQUIRED[kind])
        alike = [k for k in REQUIRED if k != kind and all(f in raw.columns for f in REQUIRED[k])]
        closest = max(alike, key=lambda k: len(REQUIRED[k]), default=None)  # the most columns
        if closest is not None and len(REQUIRED[closest]) > own:
            problems.append(
                f"{where}: its columns are those of a --{closest} file: were --{kind} and --{closest} swapped?"
            )
    # A missing column is said beside the other columns' bad cells (read as if the column were absent), not alone.

    frame = pd.DataFrame(index=raw.index)
    absent = []
    for fld in FIELDS[kind]:
        col = columns.get(fld, fld)
        if col in raw.columns:
            frame[fld] = raw[col].astype(str).str.strip()
        else:
            frame[fld] = ""
            absent.append(fld)
    frame["row"] = _row_numbers(Path(path), sep, len(frame))
    frame.loc[frame["row"].isin([row for row, _ in ragged]), list(FIELDS[kind])] = ""  # misaligned: said above
    notes = [f"{where}: fields separated by {SEPARATORS[sep]}s: read so"] if sep != "," else []
    # A header row again (two exports pasted together) had read as a bad number and a bad date on one row.
    present = [f for f in FIELDS[kind] if f not in absent]
    aside = {reason: np.zeros(len(frame), dtype=bool) for reason in _ASIDE}
    if len(present) > 1:
        header = np.logical_and.reduce([(frame[f].str.casefold() == columns.get(f, f).casefold()) for f in present])
        if header.any():
            notes.append(f"{where}: {rows_named(frame[header])}: set aside ({_ASIDE['repeated_header']})")
            frame.loc[header, present] = ""
            aside["repeated_header"] = header
    for fld in (*NUMBERS.get(kind, ()), *DATES.get(kind, ())):
        # R's export of a file writes NA in every blank cell: 33 lines of "is not a number" for one cause.
        marked = frame[fld].str.lower().isin(MISSING_MARKERS).to_numpy()
        if fld not in absent and marked.any():
            said = ", ".join(sorted(set(frame.loc[marked, fld])))
            notes.append(
                f"{where}: {columns.get(fld, fld)}: {counted(int(marked.sum()), 'cell')} written {said} "
                f"({rows_named(frame[marked])}): read as blank"
            )
            frame.loc[marked, fld] = ""
    numbers = [f for f in NUMBERS.get(kind, ()) if f not in absent]
    try:
        cells = [pd.DataFrame({"text": frame[f], "row": frame["row"], "column": columns.get(f, f)}) for f in numbers]
        empty = pd.DataFrame({"text": pd.Series([], dtype=str), "row": [], "column": []})
        style, found = number_format(pd.concat(cells) if cells else empty, formats.number, where)
    except InputError as e:  # a format that cannot be told: said beside the file's other problems, not read
        problems, numbers, style, found = problems + e.problems, [], "", []
    notes += found
    # Rows set aside, by reason, in the order a row's first reason claims it (``aside``, made above).
    for fld in NUMBERS.get(kind, ()):
        if fld not in numbers:  # absent, or in a format that cannot be told
            frame[fld] = np.nan
            continue
        col = columns.get(fld, fld)
        read = read_numbers(frame[fld], style)
        problems += _bad_cells(frame, fld, read.bad, where, col, f"a number ({NUMBER_EXAMPLES[style]})")
        notes += number_notes(read, style, where, col)
        frame[fld] = read.values
        # The value alone goes, not its row: an account with a negative revenue set aside whole was then said to
        # be "not in accounts.csv" by each of its opportunities, and a deal's row went from every count.
        for mask, what, why in (
            (
                read.values < 0,
                ("negative value", "negative values"),
                "an amount, a revenue or a price is never negative",
            ),
            (
                read.values > MAX_AMOUNT,
                (f"value above {MAX_AMOUNT:,.0f}", f"values above {MAX_AMOUNT:,.0f}"),
                "larger than any account, deal or price: a unit or typing error",
            ),
        ):
            if mask.any():
                notes.append(
                    f"{where}: {col}: {counted(int(mask.sum()), what[0], what[1])} ({rows_named(frame[mask])}): "
                    f"read as blank, the row kept as one without a {col} ({why})"
                )
                frame.loc[mask, fld] = np.nan
    dates = [f for f in DATES.get(kind, ()) if f not in absent]
    texts = pd.concat([frame[f] for f in dates]) if dates else pd.Series([], dtype=str)
    try:
        pattern, found = date_format(texts, formats.date, where)
    except InputError as e:
        problems, dates, found = problems + e.problems, [], []
    notes += found
    for fld in dates:
        col = columns.get(fld, fld)
        stamps, bad = read_dates(frame[fld], pattern)
        problems += _bad_cells(frame, fld, bad, where, col, date_name(pattern))
        frame[fld] = stamps
        outside = ((stamps < FIRST_DATE) | (stamps > LAST_DATE)).to_numpy()
        if outside.any():
            notes.append(
                f"{where}: {col}: {counted(int(outside.sum()), 'date')} outside "
                f"{FIRST_DATE:%Y-%m-%d}..{LAST_DATE:%Y-%m-%d} ({rows_named(frame[outside])}, e.g. "
                f"{frame.loc[outside, fld].iloc[0]:%Y-%m-%d}): set aside ({_ASIDE['date_out_of_range']})"
            )
        aside["date_out_of_range"] |= outside
    if kind == "pipeline" and "deal_stage" not in absent:
        blank = (frame["deal_stage"] == "").to_numpy() & ~aside["repeated_header"]
        if blank.any():
            notes.append(
                f"{where}: {columns.get('deal_stage', 'deal_stage')}: {counted(int(blank.sum()), 'row')} with no "
                f"stage ({rows_named(frame[blank])}): set aside ({_ASIDE['no_stage']})"
            )
        aside["no_stage"] |= blank
    if problems:
        raise InputError(problems)
    claimed = np.zeros(len(frame), dtype=bool)
    set_aside = {}
    for reason, mask in aside.items():
        if (mask & ~claimed).any():
            set_aside[reason] = int((mask & ~claimed).sum())
        claimed |= mask
    return Table(
        kind=kind,
        path=where,
        frame=frame[~claimed].reset_index(drop=True),
        absent=tuple(absent),
        notes=tuple(notes),
        set_aside=set_aside,
    )


def _starts(path: Path, n: int) -> bytes:
    """The first ``n`` bytes of the file at ``path``."""
    with path.open("rb") as f:
        return f.read(n)


def _first_not_utf8(path: Path) -> tuple[int, int]:
    """The first line (from 1) of ``path`` that is not UTF-8, and its first byte that is not."""
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as e:
                return number, line[e.start]
    return 0, 0  # not reached: pandas found one


def _plain(name: str) -> str:
    """A column name without case, spaces, hyphens or underscores: ``Close Value`` and ``close_value`` alike."""
    return "".join(ch for ch in name.casefold() if ch not in " _-")


def _read_csv(path: Path | str, sep: str, usecols: range | None = None) -> pd.DataFrame:
    """The file's cells as text, blank where empty (``usecols``: the first so many fields of each row)."""
    return pd.read_csv(
        path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=True, usecols=usecols
    )


def _header_width(path: Path, sep: str) -> int:
    """The number of fields in the file's header row."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        return len(next(csv.reader(f, delimiter=sep), []))


def _ragged(path: Path, sep: str) -> list[tuple[int, int]]:
    """Each row (as a spreadsheet numbers them: the header is row 1) with more fields than the header, and its
    number of fields."""
    with _no_field_limit(), open(path, encoding="utf-8-sig", newline="") as f:
        rows = csv.reader(f, delimiter=sep, skipinitialspace=True)  # as pandas reads it
        width = len(next(rows, []))
        return [(row, len(fields)) for row, fields in enumerate(rows, start=2) if len(fields) > width]


@contextmanager
def _no_field_limit() -> Iterator[None]:
    """The csv module reading a value of any length, as pandas does (its limit, 128 KB, had hidden the rows past
    a long cell), and its limit restored after."""
    limit = csv.field_size_limit(MAX_CSV_BYTES)
    try:
        yield
    finally:
        csv.field_size_limit(limit)


def _check_layout(path: Path, where: str, sep: str) -> None:
    """InputError for a file whose shape pandas would read into nonsense: a column named twice."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        header = [name.strip() for name in next(csv.reader(f, delimiter=sep), [])]
    twice = sorted({name for name in header if header.count(name) > 1 and name})
    if twice:
        raise InputError([f"{where}: column {', '.join(map(repr, twice))} appears twice in the header row"])


#: The field separators read besides the comma, by name: a spreadsheet set to a European locale saves its "CSV"
#: with semicolons (the comma being its decimal mark), and some exports use tabs.
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}


def _separator(path: Path) -> str:
    """The file's field separator: of the comma, the semicolon and the tab, the one that splits the header into
    the most fields (the comma on a tie; a name in quotes may hold another: ``account;"revenue, EUR"``)."""
    with open(path, encoding="utf-8-sig", newline="", errors="replace") as f:
        line = f.readline()
    return max(SEPARATORS, key=lambda mark: len(next(csv.reader([line], delimiter=mark), [])))


def _too_many_fields(row: int, fields: int, header: int, sep: str) -> str:
    """That ``row`` (as a spreadsheet numbers them: the header is row 1) has more fields than the header."""
    example = "Acme, Inc" if sep == "," else "Acme; Inc" if sep == ";" else "Acme<tab>Inc"
    return (
        f"row {row:,} has {fields} fields where the header has {header} (a {SEPARATORS[sep]} inside a value that "
        f'is not in quotes, as in "{example}"?)'
    )


def _bad_cells(frame: pd.DataFrame, fld: str, bad: np.ndarray, where: str, column: str, expected: str) -> list[str]:
    """One line per unreadable cell of ``frame[fld]`` naming its row (``frame["row"]``) and column, at most
    MAX_LISTED of them and a count of the rest."""
    texts, rows = frame[fld], frame["row"]
    lines = [f"{where}: row {rows.iloc[i]}: {column}: {texts.iloc[i]!r} is not {expected}" for i in np.flatnonzero(bad)]
    return _capped(lines, where, column)


def _row_numbers(path: Path, sep: str, records: int) -> np.ndarray:
    """The row of each of the ``records`` pandas read, as a spreadsheet numbers them (the header is row 1): pandas
    skips blank lines, which a spreadsheet shows as rows (the rows after two blank lines were named two rows too
    early). A value over several lines (in quotes) is one row, as in a spreadsheet."""
    with _no_field_limit(), open(path, encoding="utf-8-sig", newline="") as f:
        rows = csv.reader(f, delimiter=sep, skipinitialspace=True)  # as pandas reads it
        kept = [row for row, fields in enumerate(rows, start=1) if fields][1:]
    if len(kept) != records:  # read otherwise than Python's csv reads it: numbered as read
        return np.arange(records) + 2
    return np.asarray(kept, dtype=np.int64)


def _capped(lines: list[str], where: str, column: str) -> list[str]:
    """At most MAX_LISTED of a column's problem lines, and one line counting the rest."""
    if len(lines) <= MAX_LISTED:
        return lines
    return [*lines[:MAX_LISTED], f"{where}: {column}: {len(lines) - MAX_LISTED:,} more bad values like these"]
