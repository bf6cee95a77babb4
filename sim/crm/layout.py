"""The layout of a CRM export: its files and fields, the ``--column`` mapping, and how values are written.

The default layout is that of the public "CRM Sales Opportunities" data set;
another CRM maps its own column names onto the fields with ``--column
FILE_KIND.FIELD=NAME``. How its numbers and dates are written is
:mod:`sim.crm.formats`' concern; ``--cutoff`` is always ``YYYY-MM-DD``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import date

from sim.errors import InputError

FILE_KINDS = ("accounts", "pipeline", "teams", "products")
#: Every field the importer knows, by file kind; the default column name is the field name.
FIELDS: dict[str, tuple[str, ...]] = {
    "accounts": ("account", "sector", "revenue", "employees", "office_location"),
    "pipeline": (
        "opportunity_id",
        "sales_agent",
        "product",
        "account",
        "deal_stage",
        "engage_date",
        "close_date",
        "close_value",
    ),
    "teams": ("sales_agent", "manager", "regional_office"),
    "products": ("product", "series", "sales_price"),
}
#: Fields without which the calibration cannot be made; the others are used when present.
REQUIRED: dict[str, tuple[str, ...]] = {
    "accounts": ("account", "revenue"),
    "pipeline": ("sales_agent", "account", "deal_stage", "engage_date", "close_date", "close_value"),
    "teams": ("sales_agent", "regional_office"),
    "products": ("product",),
}
#: Fields read as numbers (see :mod:`sim.crm.formats`), by file kind.
NUMBERS: dict[str, tuple[str, ...]] = {
    "accounts": ("revenue", "employees"),
    "pipeline": ("close_value",),
    "products": ("sales_price",),
}
#: Fields read as dates (see :mod:`sim.crm.formats`), by file kind.
DATES: dict[str, tuple[str, ...]] = {"pipeline": ("engage_date", "close_date")}


def parse_columns(pairs: Iterable[str]) -> dict[str, dict[str, str]]:
    """``--column FILE_KIND.FIELD=NAME`` options as {kind: {field: column name}}, or InputError."""
    columns: dict[str, dict[str, str]] = {kind: {} for kind in FILE_KINDS}
    problems = []
    for pair in pairs:
        target, sep, name = pair.partition("=")
        kind, dot, fld = target.strip().partition(".")
        name = name.strip()
        if not sep or not dot or not name:
            problems.append(f"--column {pair!r}: expected FILE_KIND.FIELD=NAME, e.g. pipeline.close_value=amount")
        elif kind not in FIELDS:
            problems.append(f"--column {pair!r}: unknown file kind {kind!r} (one of {', '.join(FILE_KINDS)})")
        elif fld not in FIELDS[kind]:
            problems.append(f"--column {pair!r}: unknown field {fld!r} of {kind} (one of {', '.join(FIELDS[kind])})")
        elif fld in columns[kind]:
            problems.append(f"--column {pair!r}: {kind}.{fld} is mapped twice")
        else:
            columns[kind][fld] = name
    if problems:
        raise InputError(problems)
    return columns


#: The first and last day an export's date may be [A]: outside them a date is taken as a typing error (a year 1017
#: or 3017), a row's set aside and a --cutoff's refused (9999-12-31 overflowed the calendar in a backtest).
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2099, 12, 31)


def parse_cutoff(text: str | None, option: str = "--cutoff") -> date | None:
    """A day given as ``option YYYY-MM-DD`` (``--cutoff``, ``--rates-from``), between FIRST_DAY and LAST_DAY, or
    InputError."""
    if text is None:
        return None
    parsed = parse_date(text.strip())
    if parsed is None:
        raise InputError([f"{option}: {text!r} is not a date ({_why_not(text.strip())})"])
    if not FIRST_DAY <= parsed <= LAST_DAY:
        raise InputError([f"{option}: {text!r} is outside {FIRST_DAY}..{LAST_DAY}, the dates an export may hold"])
    return parsed


def _why_not(text: str) -> str:
    """Why ``text`` is no date: the form wanted, or, in that form, the month or day the calendar lacks (an
    analyst's 2017-02-30 had been told to write YYYY-MM-DD, which it was)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return "YYYY-MM-DD"
    year, month, day = (int(part) for part in text.split("-"))
    if not 1 <= month <= 12:
        return f"there is no month {month}"
    return f"{year}-{month:02d} has {calendar.monthrange(year, month)[1]} days, not {day}"


def parse_date(text: str) -> date | None:
    """A ``YYYY-MM-DD`` date, or None when ``text`` is not one."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
