"""How an export writes its numbers and dates: the formats one can name, and the likely one, detected.

Numbers are written ``plain`` (a decimal point, commas or ``_`` between
thousands: ``1,054.50``) or ``european`` (a decimal comma, points, spaces or
apostrophes between thousands: ``1.054,50``). Dates are ``iso``
(``2017-03-01``), ``us`` (``03/01/2017``), ``eu`` (``01/03/2017``) or any
``strftime`` pattern (``%d.%m.%Y``). ``auto``, the default of both, reads the
export's values and takes the one format they fit, saying so in a note; when
they fit two (every date's day is 12 or less, say) it asks for the format by
name rather than guess. A currency sign or code (``$1,054``, ``1054 EUR``) is
read as the number, and counted in a note. Parsing is pandas' own
(``to_numeric``, ``to_datetime`` with an explicit format).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.crm.layout import FIRST_DAY, LAST_DAY
from sim.errors import InputError

NUMBER_FORMATS = ("auto", "plain", "european")
#: The date formats known by name, as ``strftime`` patterns.
DATE_FORMATS = {"iso": "%Y-%m-%d", "us": "%m/%d/%Y", "eu": "%d/%m/%Y"}
#: How each number format is shown in messages.
NUMBER_EXAMPLES = {"plain": "1,054.50", "european": "1.054,50"}
#: Currency signs and ISO codes read as part of an amount and dropped.
CURRENCY = r"[$€£¥₹]|\b(?:USD|EUR|GBP|JPY|CHF|CAD|AUD|INR|SEK|NOK|DKK)\b"
#: Dates outside these are taken as typing errors (a year 1017 or 3017) and their rows set aside [A]
#: (``sim.crm.layout``'s days, which bound a --cutoff too).
FIRST_DATE = pd.Timestamp(FIRST_DAY)
LAST_DATE = pd.Timestamp(LAST_DAY)

# A cell that can only be one format: both separators with the decimal last, a decimal part of
# 1-2 or 4+ digits, or two thousands groups. "1,054" and "1.054" fit both: ambiguous.
# Spaces and apostrophes group thousands in both ("1 054,50", "1'054.50"): the decimal sign tells them apart.
_PLAIN_ONLY = r"^-?\d{1,3}([,\s\u00a0'’]\d{3})+\.\d*$|^-?\d*\.(\d{1,2}|\d{4,})$|^-?\d{1,3}(,\d{3}){2,}$"
_EUROPEAN_ONLY = r"^-?\d{1,3}([.\s\u00a0'’]\d{3})+,\d*$|^-?\d*,(\d{1,2}|\d{4,})$|^-?\d{1,3}(\.\d{3}){2,}$"
_AMBIGUOUS = r"^-?\d{1,3}[.,]\d{3}$"


@dataclass(frozen=True)
class Formats:
    """The number and date formats to read an export with (``auto``: detect them)."""

    number: str = "auto"
    date: str = "auto"


#: Both formats detected: what an export is read with unless the user names them.
DETECTED = Formats()


def parse_formats(number: str = "auto", date: str = "auto") -> Formats:
    """``--number-format`` and ``--date-format`` as Formats, or InputError naming the option."""
    problems = []
    if number not in NUMBER_FORMATS:
        problems.append(f"--number-format: {number!r} is not one of {', '.join(NUMBER_FORMATS)}")
    if date != "auto" and date not in DATE_FORMATS and "%" not in date:
        problems.append(
            f"--date-format: {date!r} is not auto, {', '.join(DATE_FORMATS)} or a strftime pattern such as %d.%m.%Y"
        )
    elif "%" in date and date not in DATE_FORMATS:
        try:  # the pattern itself, before any file is read (a stray % was found only when reading the dates)
            read_dates(pd.Series(["2017-01-02"]), date)
        except InputError as e:
            problems += e.problems
    if problems:
        raise InputError(problems)
    return Formats(number, date)


@dataclass(frozen=True)
class Numbers:
    """A column read as numbers: values (NaN where blank or unreadable), which cells could not be read,
    how many carried a currency (and the first of them), and how many could be read either way
    (``1,054``), with the first of them and its reading."""

    values: np.ndarray
    bad: np.ndarray
    currency: int
    ambiguous: int
    currency_example: str = ""
    ambiguous_example: tuple[str, float] | None = None


def number_format(cells: pd.DataFrame, requested: str, where: str) -> tuple[str, list[str]]:
    """The number format of a file's number cells (``cells``: ``text``, and the ``row`` and ``column`` it is in):
    the requested one, or the detected one with a note."""
    if requested != "auto":
        return requested, []
    texts = _bare(cells["text"])
    given = (texts != "").to_numpy()
    plain = texts.str.match(_PLAIN_ONLY).to_numpy() & given
    european = texts.str.match(_EUROPEAN_ONLY).to_numpy() & given
    if plain.any() and european.any():

        def first(ways: np.ndarray) -> str:  # where to look: the file's first cell written that way
            cell = cells.iloc[int(np.flatnonzero(ways)[0])]
            return f"{int(ways.sum()):,} like {cell['text']!r} (row {cell['row']}, {cell['column']})"

        raise InputError(
            [
                f"{where}: numbers are written both ways ({first(plain)}; {first(european)}): name the format "
                "with --number-format plain or european"
            ]
        )
    if european.any():
        return "european", [
            f"{where}: numbers read as european (decimal comma, '1.054,50' = 1054.5), detected from "
            f"{int(european.sum()):,} values only that format fits; --number-format plain overrides it"
        ]
    return "plain", []


def read_numbers(texts: pd.Series, style: str) -> Numbers:
    """Parse a column's cells in ``style`` (plain or european); blank cells are NaN, not bad."""
    blank = (texts == "").to_numpy()
    currency = texts.str.contains(CURRENCY, regex=True).to_numpy()
    stripped = _bare(texts)
    either = stripped.str.match(_AMBIGUOUS).to_numpy()
    if style == "european":
        digits = stripped.str.replace(r"[.\s\u00a0'’]", "", regex=True).str.replace(",", ".", regex=False)
    else:
        digits = stripped.str.replace(r"[,_\s\u00a0'’]", "", regex=True)
    values = np.array(pd.to_numeric(digits, errors="coerce"), dtype=float)
    values[~np.isfinite(values)] = np.nan
    # A value only the other format writes ("1.054,50" read as plain) would parse, 1,000 times off: it is bad.
    values[stripped.str.match(_EUROPEAN_ONLY if style == "plain" else _PLAIN_ONLY).to_numpy()] = np.nan
    bad = np.isnan(values) & ~blank
    read_currency = currency & ~bad
    first = int(np.argmax(either)) if either.any() else None
    return Numbers(
        values,
        bad,
        int(read_currency.sum()),
        int(either.sum()),
        str(texts.iloc[int(np.argmax(read_currency))]) if read_currency.any() else "",
        None if first is None else (str(texts.iloc[first]), float(values[first])),
    )


def number_notes(numbers: Numbers, style: str, where: str, column: str) -> list[str]:
    """The notes on values read in a way the reader should know about: currencies, and thousands or decimals."""
    notes = []
    if numbers.currency:
        notes.append(
            f"{where}: {column}: {numbers.currency:,} values carry a currency sign or code "
            f"(e.g. {numbers.currency_example!r}): "
            "read as plain amounts, all taken to be in one currency"
        )
    if numbers.ambiguous_example is not None:
        other = "european" if style == "plain" else "plain"
        text, value = numbers.ambiguous_example
        notes.append(
            f"{where}: {column}: {numbers.ambiguous:,} values such as {text!r} fit both number formats: read as "
            f"{style} ({text!r} = {value:g}); if that is wrong, give --number-format {other}"
        )
    return notes


def date_format(texts: pd.Series, requested: str, where: str) -> tuple[str, list[str]]:
    """The strftime pattern of a file's date cells: the requested one, or the one they all fit (with a note):
    one of DATE_FORMATS, else one of OTHER_DATE_PATTERNS (a spreadsheet's date with a time, a German date)."""
    if requested != "auto":
        return DATE_FORMATS.get(requested, requested), []
    cells = texts[texts != ""]
    if cells.empty:
        return DATE_FORMATS["iso"], []
    fitting = {n: _fitting(cells, f) for n, f in DATE_FORMATS.items()}
    fits = [n for n, count in fitting.items() if count == cells.size]
    if fits == ["iso"]:
        return DATE_FORMATS["iso"], []
    if not fits:
        # Written another common way: read so when one pattern reads every date (a spreadsheet's '20/10/2016
        # 00:00' was refused date by date as not YYYY-MM-DD, though the README says such dates are detected).
        fitting |= {p: _fitting(cells, p) for p in OTHER_DATE_PATTERNS}
        others = [p for p in OTHER_DATE_PATTERNS if fitting[p] == cells.size]
        if not others:  # none fits every date: the one most fit, so that only the dates it cannot read are named
            best = max(fitting, key=lambda n: fitting[n])  # ties to iso, the first
            return DATE_FORMATS.get(best, best), []
        choices = [(p, repr(p), repr(p)) for p in others]  # (pattern, as named, as --date-format takes it)
    else:
        choices = [(DATE_FORMATS[n], f"{n} ({DATE_FORMATS[n]})", n) for n in fits]
    if len(choices) > 1:
        raise InputError(
            [
                f"{where}: dates such as {cells.iloc[0]!r} fit both {' and '.join(c[1] for c in choices)}: name "
                f"the format with --date-format {' or '.join(c[2] for c in choices)}"
            ]
        )
    ((pattern, name, _),) = choices
    time = "; the time of day dropped: covsim counts days" if "%H" in pattern or "%I" in pattern else ""
    return pattern, [
        f"{where}: dates read as {name}, the only format every date fits{time}; --date-format overrides it"
    ]


def _fitting(cells: pd.Series, pattern: str) -> int:
    """How many of ``cells`` (none blank) ``pattern`` reads."""
    return int(cells.size - read_dates(cells, pattern)[1].sum())


#: The shape a date must have to be read by these patterns, which pandas reads more loosely: its ISO reader takes
#: 20161201 and 2016111 for %Y-%m-%d, and strptime 2016111 for %Y%m%d, either 1 November or 11 January.
_SHAPES = {"%Y-%m-%d": r"\d{4}-\d{1,2}-\d{1,2}", "%Y%m%d": r"\d{8}"}


def read_dates(texts: pd.Series, pattern: str) -> tuple[pd.Series, np.ndarray]:
    """Parse a column's cells with ``pattern``: dates (NaT where blank or unreadable) and which cells were bad."""
    try:
        dates = pd.to_datetime(texts.where(texts != ""), format=pattern, errors="coerce")
    except ValueError as e:  # pandas refuses the pattern itself ("'Q' is a bad directive")
        raise InputError([f"--date-format: {pattern!r} is no date pattern: {e}"]) from None
    if pattern in _SHAPES:
        dates = dates.where(texts.str.fullmatch(_SHAPES[pattern]))
    # Days, as everything after counts them: a time of day kept made a deal closed at 09:00 on the day it was
    # engaged at 10:00 close before it.
    return dates.dt.normalize(), (dates.isna() & (texts != "")).to_numpy()


#: Date patterns of other exports, read where every date of a file fits one and none of DATE_FORMATS [A: the ISO
#: date with a time, as databases and Salesforce's API write it; a spreadsheet's date with a time, European or
#: US (with AM/PM); German dates; two-digit years; compact dates]. Two that fit every date (a day of 12 or less
#: throughout) are refused, named, as DATE_FORMATS' us and eu are: covsim does not guess a month.
OTHER_DATE_PATTERNS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S.%fZ",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d/%m/%y",
    "%m/%d/%y",
    "%Y%m%d",
    "%Y/%m/%d",
)


def date_name(pattern: str) -> str:
    """How a date pattern is named in messages: ``a date (YYYY-MM-DD)``, or the pattern itself."""
    shown = pattern.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD")
    return f"a date ({shown})"


def _bare(texts: pd.Series) -> pd.Series:
    """Cells without currency signs or codes and surrounding spaces."""
    return texts.str.replace(CURRENCY, "", regex=True).str.strip()
