"""Calibrating a scenario from a CRM export: import, cleaning and calibration.

The export is four CSV files (the layout of the public "CRM Sales Opportunities"
data set; other CRMs map their column names with ``--column``):

- accounts: one row per account (name, sector, revenue, employees, office location);
- pipeline: one row per opportunity (agent, product, account, stage, engage and close
  dates, close value);
- teams: one row per sales agent (manager, regional office);
- products (optional): the product catalogue, used to repair product names.

Each step is a pure function that returns its data together with a list of
*notes*: one line per thing that was fixed, inferred or set aside, and why, with
counts. Nothing is dropped silently. Bad input (a missing file or column, a bad
date, a non-numeric number) raises :class:`~sim.errors.InputError`, one line per
problem naming the file, the row and the column.

    read_export -> clean -> calibrate -> scenario_toml

Every calibration choice is written as a TOML comment above the number it
produced (``docs/scenario-format.md``, "Calibrating from a CRM export").
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w

from sim.errors import InputError
from sim.scenario import Adbudg, Scenario, parse_scenario

# ---- the export's layout -------------------------------------------------------------

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
NUMBERS: dict[str, tuple[str, ...]] = {
    "accounts": ("revenue", "employees"),
    "pipeline": ("close_value",),
    "products": ("sales_price",),
}
DATES: dict[str, tuple[str, ...]] = {"pipeline": ("engage_date", "close_date")}

WON_STAGES = frozenset({"won", "closed won", "closedwon", "closed-won", "closed_won"})
LOST_STAGES = frozenset({"lost", "closed lost", "closedlost", "closed-lost", "closed_lost"})

#: Industry names a sector is checked against for misspellings (a value in this list is never changed).
KNOWN_SECTORS = (
    "advertising", "aerospace", "agriculture", "automotive", "banking", "biotechnology", "chemicals",
    "construction", "consulting", "consumer goods", "education", "electronics", "employment", "energy",
    "engineering", "entertainment", "finance", "financial services", "food", "government", "healthcare",
    "hospitality", "insurance", "legal", "logistics", "manufacturing", "marketing", "media", "medical",
    "mining", "nonprofit", "pharmaceuticals", "publishing", "real estate", "retail", "services",
    "software", "technology", "telecommunications", "transportation", "travel", "utilities", "wholesale",
)  # fmt: skip

# ---- calibration assumptions (each is stated in the written scenario) ----------------

#: Assumed share of an account's annual wallet that the company wins [A].
SHARE_OF_WALLET = 0.3
#: Assumed rep hours per deal of the team's median cycle length [A]; scaled by a segment's cycle.
EFFORT_HOURS = 10.0
#: Segments by account revenue, largest first: enterprise above the 0.8 quantile of revenue (top 20%),
#: mid_market above the 0.4 quantile (next 40%), smb the rest (bottom 40%).
SEGMENTS = ("enterprise", "mid_market", "smb")
SEGMENT_QUANTILES = (0.4, 0.8)
MIN_SIGMA = 0.1
#: Annual churn of an untouched customer: not in the export; the baseline scenario's assumption [A].
CHURN_PER_YEAR = {"enterprise": 0.05, "mid_market": 0.08, "smb": 0.12}
DEFAULT_CHURN = 0.08
QUARTERS = 4
SEED = 0
POLICY = "unstructured"
#: Regional offices are placed evenly on a circle of this radius (km) [A]; the export has no geography.
OFFICE_RING_KM = 400.0
DAYS_PER_YEAR = 365.25
#: Largest shortfall of the model's Bernoulli weekly arrivals below the rate that units_for allows.
BERNOULLI_SHORTFALL = 0.05
TOP_LIFT = float(Adbudg.model_fields["a"].default)  # the default response ceiling
#: At most this many bad values are listed per file and column; the rest are counted.
MAX_LISTED = 10


# ---- reading -------------------------------------------------------------------------


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


def parse_cutoff(text: str | None) -> date | None:
    """``--cutoff YYYY-MM-DD``, or InputError."""
    if text is None:
        return None
    parsed = _date(text.strip())
    if parsed is None:
        raise InputError([f"--cutoff: {text!r} is not a date (YYYY-MM-DD)"])
    return parsed


def _date(text: str) -> date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _number(text: str) -> float | None:
    cleaned = text.replace(",", "").replace("_", "")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


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
        return Path(self.path).name


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
        values, bad = _parse_column(frame[fld], _number, math.nan, where, col, "a number")
        problems += _capped(bad, where, col)
        frame[fld] = np.array(values, dtype=float)
    for fld in DATES.get(kind, ()):
        col = columns.get(fld, fld)
        stamps, bad = _parse_column(frame[fld], _date, pd.NaT, where, col, "a date (YYYY-MM-DD)")
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
    if len(lines) <= MAX_LISTED:
        return lines
    return [*lines[:MAX_LISTED], f"{where}: {column}: {len(lines) - MAX_LISTED:,} more bad values like these"]


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


# ---- cleaning ------------------------------------------------------------------------


def _fold(text: str) -> str:
    """A name folded for matching: lower case, no spaces, hyphens, underscores or dots."""
    return re.sub(r"[\s\-_.]+", "", text).casefold()


def _edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): a transposition is one edit."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def _close(value: str, candidates: Sequence[str]) -> str | None:
    """The candidate a value is most likely a misspelling of: difflib ratio >= 0.8 and at most 2 edits.

    Values shorter than 5 characters are never matched ("East" is not a misspelling of "West").
    """
    if len(value) < 5:
        return None
    for match in difflib.get_close_matches(value, candidates, n=3, cutoff=0.8):
        if match != value and _edit_distance(value, match) <= 2:
            return match
    return None


def fix_categories(
    values: pd.Series, where: str, unit: str, vocabulary: Sequence[str] = ()
) -> tuple[dict[str, str], list[str]]:
    """Repairs for a categorical column: {written value: value to use}, and the notes.

    Three rules, in order: (1) spellings that differ only in case or spacing take
    the most frequent spelling; (2) a value not in ``vocabulary`` but within two
    edits (difflib ratio >= 0.8) of a word in it takes that word; (3) a rare value
    (at most half as frequent) within two edits of a more frequent one takes it.
    Values in ``vocabulary`` are never changed by rule 3.
    """
    counts = Counter(v for v in values if v != "")
    fixes: dict[str, str] = {}
    notes: list[str] = []
    by_fold: dict[str, list[str]] = {}
    for v, _ in counts.most_common():
        by_fold.setdefault(_fold(v), []).append(v)
    for variants in by_fold.values():
        for v in variants[1:]:
            fixes[v] = variants[0]
            notes.append(
                f"{where}: {unit} {v!r} ({counts[v]:,}) read as {variants[0]!r}: same name but for case or spacing"
            )
    merged: Counter[str] = Counter()
    for v, c in counts.items():
        merged[fixes.get(v, v)] += c
    vocab = [w.casefold() for w in vocabulary]
    for v, c in merged.most_common():
        low = v.casefold()
        if not vocab or low in vocab:
            continue
        match = _close(low, vocab)
        if match is not None:
            target = match if v == low else match.title() if v == v.title() else match
            _redirect(fixes, v, target)
            notes.append(
                f"{where}: {unit} {v!r} ({c:,}) read as {target!r}: a misspelling "
                f"({_edit_distance(low, match)} edit(s) from a known {unit} name)"
            )
    merged = Counter()
    for v, c in counts.items():
        merged[fixes.get(v, v)] += c
    ranked = merged.most_common()
    for v, c in reversed(ranked):
        if v.casefold() in vocab:
            continue
        frequent = [w for w, n in ranked if n >= 2 * c and w != v]
        match = _close(v, frequent)
        if match is not None:
            _redirect(fixes, v, match)
            notes.append(
                f"{where}: {unit} {v!r} ({c:,}) read as {match!r} ({merged[match]:,}): a rare value "
                f"{_edit_distance(v, match)} edit(s) from a more frequent one"
            )
    return fixes, notes


def _redirect(fixes: dict[str, str], old: str, new: str) -> None:
    for k, v in list(fixes.items()):
        if v == old:
            fixes[k] = new
    fixes[old] = new


def _count_list(counter: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _names(items: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


@dataclass(frozen=True)
class Cleaned:
    """The export after cleaning.

    accounts: account, sector, revenue (accounts with a name and a revenue, one row each);
    teams: sales_agent, regional_office (one row per agent);
    pipeline: one row per opportunity kept, with ``status`` (won / lost / open, as of the
    cut-off), ``account`` (the accounts file's name, or "" when unknown), ``known`` (the
    account is in ``accounts``), ``engage_date``, ``close_date``, ``close_value``,
    ``sales_agent``, ``product``, ``deal_stage``;
    files: display name of each file kind; cutoff: the cut-off date, if any.
    """

    accounts: pd.DataFrame
    teams: pd.DataFrame
    pipeline: pd.DataFrame
    files: dict[str, str]
    cutoff: date | None
    countries: dict[str, int]
    no_deal_agents: tuple[str, ...]
    set_aside: dict[str, int]


def clean(export: Export, cutoff: date | None = None) -> tuple[Cleaned, list[str]]:
    """Repair and reconcile the four files; return the cleaned data and one note per decision."""
    notes: list[str] = []
    files = {
        "accounts": export.accounts.name,
        "pipeline": export.pipeline.name,
        "teams": export.teams.name,
    }
    if export.products is not None:
        files["products"] = export.products.name
    set_aside: dict[str, int] = {}

    # -- accounts
    acc_file = files["accounts"]
    acc = export.accounts.frame.copy()
    blank = acc["account"] == ""
    if blank.any():
        notes.append(
            f"{acc_file}: {int(blank.sum()):,} rows without an account name set aside (rows {_rows(acc[blank])})"
        )
        acc = acc[~blank]
    acc["key"] = acc["account"].map(_fold)
    dup = acc["key"].duplicated()
    if dup.any():
        notes.append(
            f"{acc_file}: {int(dup.sum()):,} duplicate accounts set aside, the first row of each kept "
            f"({_names(list(acc.loc[dup, 'account']))})"
        )
        acc = acc[~dup]
    if "sector" not in export.accounts.absent:
        fixes, fix_notes = fix_categories(acc["sector"], acc_file, "sector", KNOWN_SECTORS)
        acc["sector"] = acc["sector"].map(lambda v: fixes.get(v, v))
        notes += fix_notes
    no_revenue = acc["revenue"].isna() | (acc["revenue"] <= 0)
    if no_revenue.any():
        notes.append(
            f"{acc_file}: {int(no_revenue.sum()):,} accounts without a positive revenue cannot be put in a size "
            f"segment: set aside from per-segment figures, their opportunities kept in team-level counts "
            f"({_names(list(acc.loc[no_revenue, 'account']))})"
        )
        set_aside["accounts_without_revenue"] = int(no_revenue.sum())
        acc = acc[~no_revenue]
    countries: dict[str, int] = {}
    if "office_location" not in export.accounts.absent:
        countries = dict(Counter(v for v in acc["office_location"] if v))
        if countries:
            notes.append(
                f"{acc_file}: office_location holds {len(countries)} countries ({_count_list(countries)}), "
                f"not sales offices: not used; regions come from the teams' regional offices"
            )
    if acc.empty:
        raise InputError([f"{export.accounts.path}: no account with a name and a revenue"])

    # -- teams
    team_file = files["teams"]
    teams = export.teams.frame.copy()
    blank = teams["sales_agent"] == ""
    if blank.any():
        notes.append(f"{team_file}: {int(blank.sum()):,} rows without an agent name set aside")
        teams = teams[~blank]
    teams["key"] = teams["sales_agent"].map(_fold)
    dup = teams["key"].duplicated()
    if dup.any():
        notes.append(
            f"{team_file}: {int(dup.sum()):,} agents listed twice: the first row of each kept "
            f"({_names(list(teams.loc[dup, 'sales_agent']))})"
        )
        teams = teams[~dup]
    fixes, fix_notes = fix_categories(teams["regional_office"], team_file, "regional_office")
    teams["regional_office"] = teams["regional_office"].map(lambda v: fixes.get(v, v))
    notes += fix_notes
    no_office = teams["regional_office"] == ""
    if no_office.any():
        notes.append(
            f"{team_file}: {int(no_office.sum()):,} agents without a regional office: kept as seats in an "
            f"'unassigned' group ({_names(list(teams.loc[no_office, 'sales_agent']))})"
        )
        teams.loc[no_office, "regional_office"] = "unassigned"
    if teams.empty:
        raise InputError([f"{export.teams.path}: no sales agent"])

    # -- pipeline
    pipe_file = files["pipeline"]
    pipe = export.pipeline.frame.copy()
    total_rows = len(pipe)
    if "opportunity_id" not in export.pipeline.absent:
        ids = pipe["opportunity_id"]
        dup = (ids != "") & ids.duplicated()
        if dup.any():
            notes.append(
                f"{pipe_file}: {int(dup.sum()):,} rows repeat an opportunity_id: set aside, the first row of each "
                f"kept (rows {_rows(pipe[dup])})"
            )
            set_aside["duplicate_opportunities"] = int(dup.sum())
            pipe = pipe[~dup]

    # stages
    stage_fixes, fix_notes = fix_categories(
        pipe["deal_stage"], pipe_file, "deal_stage", ("Won", "Lost", "Closed Won", "Closed Lost")
    )
    notes += fix_notes
    stage = pipe["deal_stage"].map(lambda v: stage_fixes.get(v, v))
    folded = stage.str.casefold()
    status = np.where(folded.isin(WON_STAGES), "won", np.where(folded.isin(LOST_STAGES), "lost", "open"))
    pipe["deal_stage"] = stage
    pipe["status"] = status
    closed_counts = Counter(stage[pipe["status"] != "open"])
    open_counts = Counter(v or "(blank)" for v in stage[pipe["status"] == "open"])
    notes.append(
        f"{pipe_file}: {total_rows:,} opportunities; deal_stage closed: {_count_list(closed_counts) or 'none'}; "
        f"open: {_count_list(open_counts) or 'none'} (won: Won or Closed Won; lost: Lost or Closed Lost; "
        f"any other stage is open)"
    )

    # products
    if export.products is not None and "product" not in export.pipeline.absent:
        catalogue = [p for p in export.products.frame["product"] if p]
        by_fold = {_fold(p): p for p in catalogue}
        counts = Counter(v for v in pipe["product"] if v)
        product_fixes = {}
        for v, c in counts.most_common():
            if v in catalogue:
                continue
            match = by_fold.get(_fold(v))
            if match is not None:
                product_fixes[v] = match
                notes.append(
                    f"{pipe_file}: product {v!r} ({c:,} opportunities) read as {match!r} of {files['products']} "
                    f"(same name ignoring case and spaces)"
                )
            else:
                notes.append(
                    f"{pipe_file}: product {v!r} ({c:,} opportunities) is not in {files['products']}: kept as "
                    f"written (products are not used by the calibration)"
                )
        pipe["product"] = pipe["product"].map(lambda v: product_fixes.get(v, v))

    # agents
    agent_by_fold = dict(zip(teams["key"], teams["sales_agent"], strict=True))
    agent_counts = Counter(pipe["sales_agent"])
    unknown_agents: dict[str, int] = {}
    agent_fixes = {}
    for v, c in agent_counts.items():
        match = agent_by_fold.get(_fold(v))
        if match is None:
            unknown_agents[v or "(blank)"] = c
        elif match != v:
            agent_fixes[v] = match
            notes.append(f"{pipe_file}: sales_agent {v!r} ({c:,}) read as {match!r} of {team_file} (case or spacing)")
    pipe["sales_agent"] = pipe["sales_agent"].map(lambda v: agent_fixes.get(v, v))
    if unknown_agents:
        notes.append(
            f"{pipe_file}: {sum(unknown_agents.values()):,} opportunities of {len(unknown_agents)} agents not in "
            f"{team_file} ({_names(sorted(unknown_agents))}): kept in team-level counts, no seat for them"
        )
    worked = set(pipe["sales_agent"])
    no_deal = tuple(a for a in teams["sales_agent"] if a not in worked)
    if no_deal:
        notes.append(
            f"{team_file}: {len(no_deal)} of {len(teams)} agents have no opportunity in {pipe_file} "
            f"({_names(list(no_deal))}): kept as seats (new hires or a gap in the export)"
        )

    # accounts of opportunities
    account_by_fold = dict(zip(acc["key"], acc["account"], strict=True))
    all_accounts = set(export.accounts.frame["account"].map(_fold))
    no_account = pipe["account"] == ""
    if no_account.any():
        by_stage = Counter(pipe.loc[no_account, "deal_stage"])
        notes.append(
            f"{pipe_file}: {int(no_account.sum()):,} opportunities have no account ({_count_list(by_stage)}): "
            f"kept in team-level counts, set aside from per-segment rates"
        )
        set_aside["no_account"] = int(no_account.sum())
    account_fixes = {}
    unknown_accounts: Counter[str] = Counter()
    for v, c in Counter(pipe.loc[~no_account, "account"]).items():
        match = account_by_fold.get(_fold(v))
        if match is None:
            if _fold(v) not in all_accounts:
                unknown_accounts[v] = c
        elif match != v:
            account_fixes[v] = match
            notes.append(f"{pipe_file}: account {v!r} ({c:,}) read as {match!r} of {acc_file} (case or spacing)")
    pipe["account"] = pipe["account"].map(lambda v: account_fixes.get(v, v))
    if unknown_accounts:
        notes.append(
            f"{pipe_file}: {sum(unknown_accounts.values()):,} opportunities name {len(unknown_accounts)} accounts "
            f"not in {acc_file} ({_names(sorted(unknown_accounts))}): kept in team-level counts, set aside from "
            f"per-segment rates"
        )
    pipe["known"] = pipe["account"].isin(set(acc["account"]))
    no_opportunity = sorted(set(acc["account"]) - set(pipe["account"]))
    if no_opportunity:
        notes.append(
            f"{acc_file}: {len(no_opportunity)} accounts have no opportunity ({_names(no_opportunity)}): kept in "
            f"the population (they lower their segment's opportunity rate)"
        )

    # dates and values
    is_open = pipe["status"] == "open"
    open_close = is_open & (pipe["close_date"].notna() | pipe["close_value"].notna())
    if open_close.any():
        notes.append(
            f"{pipe_file}: {int(open_close.sum()):,} open deals carry a close_date or close_value: ignored, "
            f"the stage says they are open"
        )
        pipe.loc[open_close, ["close_date", "close_value"]] = [pd.NaT, np.nan]
    open_missing = is_open & pipe["close_date"].isna() & pipe["close_value"].isna()
    if open_missing.any():
        notes.append(
            f"{pipe_file}: {int(open_missing.sum()):,} open deals ({_count_list(Counter(pipe.loc[open_missing, 'deal_stage']))}) "
            f"have no close_date or close_value: counted as open, excluded from win rates, cycle lengths and "
            f"won value"
        )
    no_engage = pipe["engage_date"].isna()
    if no_engage.any():
        stages = _count_list(Counter(pipe.loc[no_engage, "deal_stage"]))
        if cutoff is None:
            notes.append(
                f"{pipe_file}: {int(no_engage.sum()):,} opportunities have no engage_date ({stages}): not yet "
                f"engaged, so not in opportunity rates or cycle lengths; counted in team-level totals"
            )
        else:
            notes.append(
                f"{pipe_file}: {int(no_engage.sum()):,} opportunities have no engage_date ({stages}): they cannot "
                f"be placed before or after --cutoff {cutoff}: set aside"
            )
            set_aside["no_engage_date_with_cutoff"] = int(no_engage.sum())
            pipe = pipe[~no_engage]
    closed = pipe["status"] != "open"
    no_close = closed & pipe["close_date"].isna()
    if no_close.any():
        notes.append(
            f"{pipe_file}: {int(no_close.sum()):,} closed deals have no close_date: kept in win rates, excluded "
            f"from cycle lengths (rows {_rows(pipe[no_close])})"
        )
    backwards = closed & (pipe["close_date"] < pipe["engage_date"])
    if backwards.any():
        notes.append(
            f"{pipe_file}: {int(backwards.sum()):,} closed deals close before they were engaged: kept in win "
            f"rates, excluded from cycle lengths (rows {_rows(pipe[backwards])})"
        )
        pipe.loc[backwards, "close_date"] = pd.NaT
    won_no_value = (pipe["status"] == "won") & pipe["close_value"].isna()
    if won_no_value.any():
        notes.append(
            f"{pipe_file}: {int(won_no_value.sum()):,} won deals have no close_value: kept in win rates, "
            f"excluded from won value (rows {_rows(pipe[won_no_value])})"
        )

    # the cut-off: the export as it stood on that date
    if cutoff is not None:
        stamp = pd.Timestamp(cutoff)
        later = pipe["engage_date"] >= stamp
        notes.append(
            f"{pipe_file}: --cutoff {cutoff}: {int(later.sum()):,} opportunities engaged on or after it set aside; "
            f"{int((~later).sum()):,} engaged before it are used"
        )
        set_aside["engaged_after_cutoff"] = int(later.sum())
        pipe = pipe[~later].copy()
        reopened = (pipe["status"] != "open") & (pipe["close_date"] >= stamp)
        if reopened.any():
            notes.append(
                f"{pipe_file}: --cutoff {cutoff}: {int(reopened.sum()):,} of those closed on or after it: counted "
                f"as open (their outcome was not known at the cut-off)"
            )
            pipe.loc[reopened, "status"] = "open"
            pipe.loc[reopened, ["close_date", "close_value"]] = [pd.NaT, np.nan]
        if pipe.empty:
            raise InputError([f"--cutoff {cutoff}: no opportunity in {export.pipeline.path} was engaged before it"])

    if pipe.empty:
        raise InputError([f"{export.pipeline.path}: no opportunity"])
    cleaned = Cleaned(
        accounts=acc[["account", "sector", "revenue"]].reset_index(drop=True),
        teams=teams[["sales_agent", "regional_office"]].reset_index(drop=True),
        pipeline=pipe.reset_index(drop=True),
        files=files,
        cutoff=cutoff,
        countries=countries,
        no_deal_agents=no_deal,
        set_aside=set_aside,
    )
    return cleaned, notes


def _rows(frame: pd.DataFrame, limit: int = 8) -> str:
    rows = [str(r) for r in frame["row"]]
    return _names(rows, limit)


# ---- calibration ---------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentFit:
    """The calibrated figures of one segment, with the counts they come from."""

    name: str
    accounts: int
    share: float
    revenue_min: float
    revenue_max: float
    customers: int
    customer_share: float
    potential_median: float
    potential_sigma: float
    potentials_from_won: int
    potentials_from_revenue: int
    won_per_revenue: float
    engaged: int
    rate_per_year: float
    closed: int
    won: int
    win_probability: float
    win_source: str
    cycle_days: float
    cycle_deals: int
    cycle_weeks: int
    won_values: int
    deal_median: float
    deal_mean: float
    value_sigma: float
    value_share_new: float
    value_share_expansion: float
    effort_hours: float
    churn_per_year: float
    first_engage: str
    last_engage: str


@dataclass(frozen=True)
class TeamFit:
    """Team-level figures (every opportunity, with an account or not)."""

    opportunities: int
    with_account: int
    without_account: int
    engaged: int
    won: int
    lost: int
    open: int
    win_rate: float
    cycle_days: float
    cycle_deals: int
    deal_median: float
    won_value: float
    first_engage: str
    last_engage: str
    span_days: int
    span_years: float


@dataclass(frozen=True)
class Office:
    name: str
    region: str
    agents: int
    agents_without_deals: int
    opportunities: int


@dataclass(frozen=True)
class Calibration:
    """Everything the written scenario needs, and the notes of the calibration itself."""

    files: dict[str, str]
    cutoff: date | None
    units: int  # buying units per account
    customers: int
    accounts_in_file: int
    thresholds: tuple[float, float]
    segments: tuple[SegmentFit, ...]
    team: TeamFit
    offices: tuple[Office, ...]
    industries: tuple[str, ...]
    countries: dict[str, int]
    notes: tuple[str, ...]


def _name(text: str, fallback: str) -> str:
    """A scenario name (letters, digits, _ and -) for a label from the data."""
    name = re.sub(r"[^A-Za-z0-9_\-]+", "_", text.strip()).strip("_")
    return name or fallback


def scenario_name(text: str) -> str:
    """A valid scenario name from a file name ("crm-2017.toml" -> "crm-2017")."""
    return _name(text, "crm")


def _unique(names: Sequence[str]) -> list[str]:
    seen: Counter[str] = Counter()
    out = []
    for n in names:
        seen[n] += 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def _median(values: Iterable[float]) -> float:
    arr = np.asarray(list(values), dtype=float)
    return float(np.median(arr)) if arr.size else math.nan


def _sig(x: float, digits: int = 4) -> float:
    """x rounded to ``digits`` significant digits (0 stays 0)."""
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def calibrate(cleaned: Cleaned, customers: int | None = None, units: int = 1) -> Calibration:
    """Segment the accounts and fit every scenario number from the cleaned export.

    ``units`` models each account as that many buying units (see
    :func:`units_for`): opportunity rates and potentials are divided among
    them, value shares multiplied so that deal sizes stay those of the data.
    """
    if units < 1:
        raise InputError([f"--units: must be at least 1, got {units}"])
    notes: list[str] = []
    acc = cleaned.accounts.copy()
    pipe = cleaned.pipeline
    files = cleaned.files

    # Time span: the engage dates of the opportunities used.
    engaged_all = pipe[pipe["engage_date"].notna()]
    if engaged_all.empty:
        raise InputError([f"{files['pipeline']}: no opportunity has an engage_date: no time span to calibrate rates"])
    first, last = engaged_all["engage_date"].min(), engaged_all["engage_date"].max()
    span_days = int((last - first).days) + 1
    span_years = span_days / DAYS_PER_YEAR

    # Segments by revenue quantile.
    revenue = acc["revenue"].to_numpy(dtype=float)
    q_lo, q_hi = (float(np.quantile(revenue, q)) for q in SEGMENT_QUANTILES)
    acc["segment"] = np.where(revenue > q_hi, "enterprise", np.where(revenue > q_lo, "mid_market", "smb"))

    # Per account: engaged opportunities, won value, customer status.
    known = pipe[pipe["known"]]
    won = known[known["status"] == "won"]
    won_value = won.groupby("account")["close_value"].sum(min_count=1)
    acc["won_value"] = acc["account"].map(won_value).astype(float).fillna(0.0)
    acc["annual_won"] = acc["won_value"] / span_years
    acc["customer"] = acc["account"].isin(set(won["account"]))
    acc["ratio"] = np.where(acc["annual_won"] > 0, acc["annual_won"] / acc["revenue"], np.nan)
    overall_ratio = _median(acc["ratio"].dropna())
    potentials = np.where(acc["annual_won"] > 0, acc["annual_won"] / SHARE_OF_WALLET, np.nan)
    acc["potential"] = potentials
    acc["from_won"] = acc["annual_won"] > 0
    seg_of = dict(zip(acc["account"], acc["segment"], strict=True))
    segment_col = pipe["account"].map(seg_of)

    closed_all = pipe[pipe["status"] != "open"]
    cycle_all = (closed_all["close_date"] - closed_all["engage_date"]).dt.days.dropna()
    team_cycle_days = _median(cycle_all)
    won_all = pipe[(pipe["status"] == "won") & pipe["close_value"].notna()]
    team_deal = _median(won_all["close_value"])
    team_deal_mean = float(won_all["close_value"].mean()) if len(won_all) else math.nan
    n_won_all = int((pipe["status"] == "won").sum())
    n_lost_all = int((pipe["status"] == "lost").sum())
    if n_won_all + n_lost_all == 0:
        raise InputError([f"{files['pipeline']}: no closed (won or lost) deal: no win rate to calibrate"])
    team_win = n_won_all / (n_won_all + n_lost_all)
    if math.isnan(team_cycle_days):
        raise InputError([f"{files['pipeline']}: no closed deal with engage and close dates: no sales cycle"])
    if math.isnan(team_deal):
        raise InputError([f"{files['pipeline']}: no won deal with a close_value: no deal size to calibrate"])

    n_total = len(acc)
    scale_to = n_total * units if customers is None else customers
    fits = []
    for seg_name in SEGMENTS:
        members = acc[acc["segment"] == seg_name]
        n = len(members)
        if n == 0:
            notes.append(f"segment {seg_name}: no account in its revenue band: left out of the scenario")
            continue
        ratio = _median(members["ratio"].dropna())
        ratio_used = ratio
        if math.isnan(ratio):
            ratio_used = overall_ratio
            notes.append(
                f"segment {seg_name}: no account with a won deal: potentials from the median won-value-per-revenue "
                f"of all accounts ({overall_ratio:.4g})"
            )
        fallback = ~members["from_won"]
        pot = members["potential"].to_numpy(dtype=float).copy()
        pot[fallback.to_numpy()] = ratio_used * members.loc[fallback, "revenue"].to_numpy(dtype=float) / SHARE_OF_WALLET
        if fallback.any():
            notes.append(
                f"segment {seg_name}: {int(fallback.sum())} accounts without a won deal: potential = "
                f"{ratio_used:.4g} (median annual won value per unit of revenue in the segment) x revenue / "
                f"{SHARE_OF_WALLET} ({_names(list(members.loc[fallback, 'account']))})"
            )
        acc.loc[members.index, "potential"] = pot
        good = pot[np.isfinite(pot) & (pot > 0)]
        if good.size == 0:
            raise InputError([f"segment {seg_name}: no account with a positive potential (no won value, no revenue)"])
        p_median = float(np.median(good))
        sigma = float(np.std(np.log(good), ddof=1)) if good.size > 1 else 0.0
        seg_pipe = pipe[segment_col == seg_name]
        engaged = seg_pipe[seg_pipe["engage_date"].notna()]
        rate = len(engaged) / (n * span_years)
        seg_closed = seg_pipe[seg_pipe["status"] != "open"]
        n_closed = len(seg_closed)
        n_won = int((seg_closed["status"] == "won").sum())
        if n_closed:
            win, win_source = n_won / n_closed, "segment"
        else:
            win, win_source = team_win, "team"
            notes.append(f"segment {seg_name}: no closed deal: team-level win rate {team_win:.1%} used")
        cycles = (seg_closed["close_date"] - seg_closed["engage_date"]).dt.days.dropna()
        cycle_days = _median(cycles)
        if math.isnan(cycle_days):
            cycle_days = team_cycle_days
            notes.append(
                f"segment {seg_name}: no closed deal with dates: team-level cycle {team_cycle_days:g} days used"
            )
        seg_won = seg_closed[(seg_closed["status"] == "won") & seg_closed["close_value"].notna()]
        deal = _median(seg_won["close_value"])
        deal_mean = float(seg_won["close_value"].mean()) if len(seg_won) else math.nan
        if math.isnan(deal):
            deal, deal_mean = team_deal, team_deal_mean
            notes.append(
                f"segment {seg_name}: no won deal with a value: team-level median and mean deal "
                f"{team_deal:,.0f} and {team_deal_mean:,.0f} used"
            )
        value_sigma = math.sqrt(2 * math.log(deal_mean / deal)) if deal > 0 and deal_mean > deal else 0.0
        cycle_weeks = max(1, round(cycle_days / 7))
        dates = engaged["engage_date"]
        fits.append(
            SegmentFit(
                name=seg_name,
                accounts=n,
                share=n / n_total,
                revenue_min=float(members["revenue"].min()),
                revenue_max=float(members["revenue"].max()),
                customers=int(members["customer"].sum()),
                customer_share=float(members["customer"].mean()),
                potential_median=p_median / units,
                potential_sigma=max(MIN_SIGMA, sigma),
                potentials_from_won=int((~fallback).sum()),
                potentials_from_revenue=int(fallback.sum()),
                won_per_revenue=ratio_used,
                engaged=len(engaged),
                rate_per_year=rate / units,
                closed=n_closed,
                won=n_won,
                win_probability=win,
                win_source=win_source,
                cycle_days=cycle_days,
                cycle_deals=len(cycles),
                cycle_weeks=cycle_weeks,
                won_values=len(seg_won),
                deal_median=deal,
                deal_mean=deal_mean,
                value_sigma=value_sigma,
                value_share_new=deal_mean / (p_median / units),
                value_share_expansion=deal_mean / (p_median / units * (1 - SHARE_OF_WALLET)),
                effort_hours=EFFORT_HOURS * cycle_days / team_cycle_days,
                churn_per_year=CHURN_PER_YEAR.get(seg_name, DEFAULT_CHURN),
                first_engage=str(dates.min().date()) if len(dates) else "-",
                last_engage=str(dates.max().date()) if len(dates) else "-",
            )
        )
    # Shares of the segments kept, from their counts.
    kept = sum(f.accounts for f in fits)
    fits = [_replace_share(f, f.accounts / kept) for f in fits]
    notes.append(
        f"segments by account revenue ({files['accounts']}): enterprise above {q_hi:,.2f} (top 20%), mid_market "
        f"above {q_lo:,.2f} (next 40%), smb the rest (bottom 40%): "
        + ", ".join(f"{f.name} {f.accounts}" for f in fits)
        + " accounts"
    )
    if units > 1:
        notes.append(
            f"--units {units}: each account is modelled as {units} buying units (population {n_total} x {units} = "
            f"{n_total * units:,}): opportunity rates and potentials / {units}, value shares x {units}, so each "
            "account's opportunities, wallet and deal sizes are those of the data"
        )
    for f in fits:
        weekly = 52 * (1 - math.exp(-f.rate_per_year / 52))
        if f.rate_per_year > 26:
            notes.append(
                f"segment {f.name}: {f.rate_per_year:.1f} opportunities per account-year; the model raises at most "
                f"one per account and week (1 - exp(-rate/52) a week), about {weekly:.1f} a year at this rate, "
                f"before the relationship lift: --units {units_for(f.rate_per_year * units)} would keep within "
                f"{BERNOULLI_SHORTFALL:.0%} of the rate"
            )

    # Team and offices.
    teams = cleaned.teams
    office_names = list(dict.fromkeys(teams["regional_office"]))
    regions = _unique([_name(o, "office") for o in office_names])
    opp_by_agent = Counter(pipe["sales_agent"])
    offices = []
    for office, region in zip(office_names, regions, strict=True):
        agents = list(teams.loc[teams["regional_office"] == office, "sales_agent"])
        offices.append(
            Office(
                name=office,
                region=region,
                agents=len(agents),
                agents_without_deals=sum(1 for a in agents if a in cleaned.no_deal_agents),
                opportunities=sum(opp_by_agent[a] for a in agents),
            )
        )
    with_account = int((pipe["account"] != "").sum())
    team = TeamFit(
        opportunities=len(pipe),
        with_account=with_account,
        without_account=len(pipe) - with_account,
        engaged=len(engaged_all),
        won=n_won_all,
        lost=n_lost_all,
        open=int((pipe["status"] == "open").sum()),
        win_rate=team_win,
        cycle_days=team_cycle_days,
        cycle_deals=len(cycle_all),
        deal_median=team_deal,
        won_value=float(won_all["close_value"].sum()),
        first_engage=str(first.date()),
        last_engage=str(last.date()),
        span_days=span_days,
        span_years=span_years,
    )
    industries: list[str] = []
    sectors = Counter(s for s in acc["sector"] if s)
    for s, _ in sectors.most_common():
        industries.append(_name(s.casefold(), "other"))
    if customers is not None and customers != n_total:
        notes.append(
            f"--customers {customers:,}: the population is scaled from the {n_total} accounts of {files['accounts']} "
            f"to {customers:,}, keeping the segment shares and per-account rates"
        )
    return Calibration(
        files=files,
        cutoff=cleaned.cutoff,
        units=units,
        customers=scale_to,
        accounts_in_file=n_total,
        thresholds=(q_lo, q_hi),
        segments=tuple(fits),
        team=team,
        offices=tuple(offices),
        industries=tuple(dict.fromkeys(industries)) or ("unknown",),
        countries=cleaned.countries,
        notes=tuple(notes),
    )


def units_for(rate_per_year: float, shortfall: float | None = None) -> int:
    """Buying units per account that keep the model's weekly arrivals within ``shortfall`` of ``rate_per_year``.

    The model raises at most one opportunity per account and week, with
    probability ``1 - exp(-lambda)`` for a weekly intensity ``lambda``; the
    expected count falls short of ``lambda`` by about ``lambda / 2``. Splitting
    an account into ``k`` units divides ``lambda`` by ``k``. The intensity
    checked is the rate at the relationship's top lift (2.5, the default
    ADBUDG ceiling), so the bound holds for well-served accounts too.
    """
    limit = BERNOULLI_SHORTFALL if shortfall is None else shortfall
    weekly = rate_per_year * TOP_LIFT / 52
    k = 1
    while weekly / k > 0 and 1 - (-math.expm1(-weekly / k)) / (weekly / k) > limit:
        k += 1
    return k


def _replace_share(fit: SegmentFit, share: float) -> SegmentFit:
    return replace(fit, share=share)


# ---- the scenario file ---------------------------------------------------------------


class _Writer:
    """TOML text with a comment above every number, and the same data as a mapping."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, *texts: str) -> None:
        for text in texts:
            for line in text.splitlines() or [""]:
                self.lines.append(f"# {line}".rstrip())

    def blank(self) -> None:
        self.lines.append("")

    def header(self, text: str) -> None:
        self.lines.append(text)

    def key(self, target: dict[str, Any], key: str, value: Any, *comments: str) -> None:
        self.comment(*comments)
        rendered = tomli_w.dumps({key: value}).strip()
        self.lines.append(rendered)
        target[key] = value

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _n(x: float) -> str:
    return f"{x:,.0f}"


def scenario_toml(
    cal: Calibration, notes: Sequence[str] = (), name: str = "crm", command: str = ""
) -> tuple[str, dict[str, Any]]:
    """The calibrated scenario as commented TOML text, and the same data as a mapping.

    ``notes`` (the cleaning notes, then the calibration's) go into the header.
    """
    w = _Writer()
    data: dict[str, Any] = {}
    t = cal.team
    f = cal.files
    pipe, accf, teamf = f["pipeline"], f["accounts"], f["teams"]
    window = f"{t.first_engage}..{t.last_engage}"
    cut = f", engaged before --cutoff {cal.cutoff}" if cal.cutoff else ""
    w.comment(
        f"Calibrated by `covsim calibrate` from a CRM export: {', '.join(f.values())}.",
        *([f"Command: {command}"] if command else []),
        f"Opportunities used: {t.opportunities:,}{cut}; engage dates {window} ({t.span_days} days = "
        f"{t.span_years:.3f} years, the span every annual figure is computed over).",
        "",
        "Data checks (what was fixed, inferred or set aside, and why):",
    )
    for note in notes:
        w.comment(f"  - {note}")
    w.comment(
        "",
        "Assumptions (not in the export):",
        f"  [A] share of wallet {SHARE_OF_WALLET}: an account's annual wallet (potential) is its annualised won value",
        f"      / {SHARE_OF_WALLET}; accounts with no won deal: segment median (won value per revenue) x revenue / {SHARE_OF_WALLET}.",
        f"  [A] effort: {EFFORT_HOURS:g} rep hours per deal of the team's median cycle ({t.cycle_days:g} days), scaled by the",
        "      segment's median cycle (the export records no activity or time).",
        "  [A] churn_per_year: the baseline scenario's values (the export shows no churn).",
        "  The export has no new-logo / expansion / renewal field: accounts with a won deal are customers, and",
        "  new_logo (prospects) and expansion (customers) share the segment's rate, win rate and cycle; renewal",
        "  rate 0 (no renewals in the export).",
        "  Reps: one full_cycle group per regional office; the regions are those offices with equal customer",
        "  shares (the accounts file has countries, not offices). Quarters 4, seed 0, policy unstructured (the",
        "  CRM shows no coverage model). Every key not written here takes its default (docs/scenario-format.md).",
    )
    w.blank()
    w.key(data, "name", name)
    desc = f"Calibrated from {pipe} ({t.opportunities:,} opportunities, {window}), {accf} and {teamf}" + (
        f", cut-off {cal.cutoff}" if cal.cutoff else ""
    )
    w.key(data, "description", desc)
    w.key(data, "seed", SEED, "[A] fixed seed; `covsim run --seed` overrides it")
    w.key(data, "quarters", QUARTERS, "[A] one year: about the span of the export")
    w.blank()

    w.header("[population]")
    pop: dict[str, Any] = {}
    data["population"] = pop
    per_unit = f" / {cal.units} buying units per account (--units)" if cal.units > 1 else ""
    if cal.customers == cal.accounts_in_file * cal.units:
        why = f"{accf}: {cal.accounts_in_file} accounts with a revenue" + (
            f" x {cal.units} buying units each (--units)" if cal.units > 1 else " (default of --customers)"
        )
    else:
        why = f"--customers {cal.customers:,} ({accf} has {cal.accounts_in_file}; segment shares kept)"
    w.key(pop, "customers", cal.customers, why)
    w.key(
        pop,
        "industries",
        list(cal.industries),
        f"{accf}: sectors after spelling fixes, most frequent first (labels only: no process uses them)",
    )
    w.blank()

    pop["regions"] = []
    n_off = len(cal.offices)
    for i, office in enumerate(cal.offices):
        region: dict[str, Any] = {}
        pop["regions"].append(region)
        w.comment(
            f"{teamf}: regional office {office.name!r}, {office.agents} agents. The accounts file has countries,",
            "not offices: customers are shared equally among the offices [A].",
        )
        w.header("[[population.regions]]")
        w.key(region, "name", office.region)
        angle = math.pi / 2 - 2 * math.pi * i / n_off
        x = 0.0 if n_off == 1 else round(OFFICE_RING_KM * math.cos(angle), 1)
        y = 0.0 if n_off == 1 else round(OFFICE_RING_KM * math.sin(angle), 1)
        w.key(
            region, "x_km", x, f"[A] offices evenly on a circle of {OFFICE_RING_KM:g} km (the export has no geography)"
        )
        w.key(region, "y_km", y, "[A] (as x_km)")
        w.key(region, "share", 1.0 / n_off, f"equal shares: 1/{n_off}")
        w.blank()

    pop["segments"] = []
    for s in cal.segments:
        seg: dict[str, Any] = {}
        pop["segments"].append(seg)
        w.comment(
            f"Segment {s.name}: {s.accounts} accounts of {accf} with revenue {s.revenue_min:,.2f}..{s.revenue_max:,.2f}"
        )
        w.header("[[population.segments]]")
        w.key(seg, "name", s.name)
        w.key(
            seg,
            "share",
            s.share,
            f"{accf}: {s.accounts} of {sum(x.accounts for x in cal.segments)} accounts "
            f"(revenue quantiles: top 20% / next 40% / bottom 40%)",
        )
        fallback = (
            f"{s.potentials_from_revenue} without a won deal = {_sig(s.won_per_revenue)} (median annual won value per "
            f"unit of revenue in the segment) x revenue / {SHARE_OF_WALLET}"
            if s.potentials_from_revenue
            else f"(none without a won deal, for which revenue x median won value per revenue / {SHARE_OF_WALLET} is used)"
        )
        w.key(
            seg,
            "potential_median",
            round(s.potential_median),
            f"median of {s.accounts} account potentials: {s.potentials_from_won} = annual won value / share of wallet "
            f"{SHARE_OF_WALLET} [A]",
            f"({pipe}: sum of won close_value / {t.span_years:.3f} years); {fallback}{per_unit}",
        )
        w.key(
            seg,
            "potential_sigma",
            _sig(s.potential_sigma, 3),
            f"standard deviation of log potential over the {s.accounts} accounts (at least {MIN_SIGMA})",
        )
        w.key(
            seg,
            "customer_share",
            _sig(s.customer_share),
            f"{pipe}: {s.customers} of {s.accounts} accounts have a won deal"
            + (f" closed before {cal.cutoff}" if cal.cutoff else "")
            + " (customers)",
        )
        w.key(
            seg,
            "share_of_wallet",
            SHARE_OF_WALLET,
            "[A] the assumed share of wallet that defines potential: a customer's spend = annual won value",
        )
        w.key(
            seg, "churn_per_year", s.churn_per_year, "[A] not in the export (no churn recorded): the baseline's value"
        )
        w.key(
            seg,
            "value_sigma",
            _sig(s.value_sigma, 3),
            f"{pipe}: won deals of the segment have mean {_n(s.deal_mean)} and median {_n(s.deal_median)}; a lognormal",
            "with this sigma around the mean (the model's value draw) has that median: sqrt(2 ln(mean / median))",
        )
        window_s = f"{s.first_engage}..{s.last_engage}"
        rate = _sig(s.rate_per_year)
        win = _sig(s.win_probability)
        effort = round(s.effort_hours, 1)
        win_text = (
            f"{pipe}: {s.won:,} won of {s.closed:,} closed deals with an account in the segment ({window_s})"
            if s.win_source == "segment"
            else f"{pipe}: no closed deal in the segment: the team's {t.won:,} won of {t.won + t.lost:,}"
        )
        for kind, vshare, vtext in (
            (
                "new_logo",
                _sig(s.value_share_new),
                (
                    f"mean won deal {_n(s.deal_mean)} ({s.won_values:,} won deals) / potential_median "
                    f"{_n(s.potential_median)} (a prospect's untapped wallet is its potential;",
                    "the model's value draw keeps the mean, value_sigma gives the median)",
                ),
            ),
            (
                "expansion",
                _sig(s.value_share_expansion),
                (
                    f"mean won deal {_n(s.deal_mean)} / (potential_median {_n(s.potential_median)} x (1 - "
                    f"share_of_wallet {SHARE_OF_WALLET})):",
                    "a customer's untapped wallet is potential - spend, so its deals match the data too",
                ),
            ),
        ):
            table: dict[str, Any] = {}
            seg[kind] = table
            who = "prospects" if kind == "new_logo" else "customers"
            w.header(f"[population.segments.{kind}]")
            w.key(
                table,
                "rate_per_year",
                rate,
                f"{pipe}: {s.engaged:,} engaged opportunities with an account in the segment / ({s.accounts} accounts x "
                f"{t.span_years:.3f} years){per_unit};",
                f"the export does not tell new logos from expansions: the same rate for {who}",
            )
            w.key(
                table,
                "effort_hours",
                effort,
                f"[A] {EFFORT_HOURS:g} h per deal x segment median cycle {s.cycle_days:g} days / team median "
                f"{t.cycle_days:g} days",
            )
            w.key(
                table,
                "cycle_weeks",
                s.cycle_weeks,
                f"{pipe}: median {s.cycle_days:g} days engage_date -> close_date over {s.cycle_deals:,} closed deals, "
                f"/ 7, rounded (at least 1)",
            )
            w.key(table, "win_probability", win, win_text)
            w.key(table, "value_share", vshare, *vtext)
        renewal: dict[str, Any] = {}
        seg["renewal"] = renewal
        w.header("[population.segments.renewal]")
        w.key(renewal, "rate_per_year", 0.0, "the export has no renewals: none are raised")
        w.key(renewal, "effort_hours", effort, "unused while rate_per_year is 0 (as expansion)")
        w.key(renewal, "cycle_weeks", s.cycle_weeks, "unused while rate_per_year is 0 (as expansion)")
        w.key(renewal, "win_probability", win, "unused while rate_per_year is 0 (as expansion)")
        w.key(renewal, "value_share", 1.0, "unused while rate_per_year is 0 (renew at the same spend)")
        w.blank()

    data["reps"] = []
    for office in cal.offices:
        group: dict[str, Any] = {}
        data["reps"].append(group)
        w.header("[[reps]]")
        w.key(group, "role", "full_cycle", "[A] the export records no roles: every agent sells the full cycle")
        idle = (
            f", {office.agents_without_deals} of them with no opportunity (kept as seats)"
            if office.agents_without_deals
            else ""
        )
        w.key(
            group,
            "count",
            office.agents,
            f"{teamf}: {office.agents} agents in regional office {office.name!r}{idle}; "
            f"{office.opportunities:,} opportunities in {pipe}",
        )
        w.key(group, "region", office.region)
        w.blank()

    policy: dict[str, Any] = {}
    data["policy"] = policy
    w.header("[policy]")
    w.key(policy, "name", POLICY, "[A] the CRM shows no coverage model: the no-model baseline")
    return w.text(), data


def check_scenario_text(text: str, data: Mapping[str, Any], source: str) -> Scenario:
    """The written text must read back as the intended data and validate as a scenario."""
    parsed = tomllib.loads(text)
    if parsed != data:  # pragma: no cover - a bug in the writer, not in the data
        raise AssertionError("the commented TOML does not read back as the calibrated data")
    return parse_scenario(parsed, source)


def summary_lines(cal: Calibration) -> list[str]:
    """A short table of the calibrated numbers per segment, and the team-level figures."""
    t = cal.team
    cut = f", engaged before {cal.cutoff}" if cal.cutoff else ""
    lines = [
        f"team: {t.opportunities:,} opportunities{cut} ({t.with_account:,} with an account, "
        f"{t.without_account:,} without), {t.won:,} won / {t.won + t.lost:,} closed = {t.win_rate:.1%} win rate, "
        f"{t.open:,} open; median cycle {t.cycle_days:g} days ({t.cycle_days / 7:.1f} weeks) over "
        f"{t.cycle_deals:,} closed deals; median won deal {t.deal_median:,.0f}; engage dates "
        f"{t.first_engage}..{t.last_engage} ({t.span_years:.3f} years)",
        f"seats: {sum(o.agents for o in cal.offices)} agents in {len(cal.offices)} regions ("
        + ", ".join(f"{o.region} {o.agents}" for o in cal.offices)
        + f"); population {cal.customers:,} accounts",
        "",
        f"{'segment':<11} {'accounts':>8} {'share':>6} {'customers':>9} {'potential':>10} {'sigma':>6} "
        f"{'opps/yr':>8} {'win':>6} {'cycle wk':>8} {'deal med':>8} {'deal mean':>9} {'value share':>11} "
        f"{'effort h':>8}",
    ]
    for s in cal.segments:
        lines.append(
            f"{s.name:<11} {s.accounts:>8} {s.share:>6.1%} {s.customer_share:>9.1%} {s.potential_median:>10,.0f} "
            f"{s.potential_sigma:>6.2f} {s.rate_per_year:>8.2f} {s.win_probability:>6.1%} {s.cycle_weeks:>8} "
            f"{s.deal_median:>8,.0f} {s.deal_mean:>9,.0f} {s.value_share_new:>11.5f} {s.effort_hours:>8.1f}"
        )
    closed = sum(s.closed for s in cal.segments)
    won = sum(s.won for s in cal.segments)
    if closed:
        lines.append(
            f"{'(weighted)':<11} {'':>8} {'':>6} {'':>9} {'':>10} {'':>6} {'':>8} {won / closed:>6.1%}  "
            f"= {won:,} won / {closed:,} closed deals with an account"
        )
    return lines
