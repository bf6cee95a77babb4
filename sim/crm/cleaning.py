"""Cleaning a CRM export: repairing and reconciling its files, with one note per decision.

:func:`clean` cleans the accounts and the teams here, one small step per kind
of flaw, then the pipeline against both (:mod:`sim.crm.clean_pipeline`). A
step takes the frame being cleaned (a copy of the export's, which it may
change) and returns it repaired or with rows set aside; it writes what it
fixed, inferred or set aside, and why, with counts, to the cleaning's
:class:`~sim.crm.notes.Report`: nothing is dropped silently. The notes come out
in the order of the steps.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from sim.crm.clean_pipeline import clean_pipeline
from sim.crm.names import fix_categories, fold
from sim.crm.notes import Report, count_list, name_list, rows_named
from sim.crm.read import Export, Table
from sim.errors import InputError
from sim.format import counted

#: Industry names a sector is checked against for misspellings (a value in this list is never changed).
KNOWN_SECTORS = (
    "advertising", "aerospace", "agriculture", "automotive", "banking", "biotechnology", "chemicals",
    "construction", "consulting", "consumer goods", "education", "electronics", "employment", "energy",
    "engineering", "entertainment", "finance", "financial services", "food", "government", "healthcare",
    "hospitality", "insurance", "legal", "logistics", "manufacturing", "marketing", "media", "medical",
    "mining", "nonprofit", "pharmaceuticals", "publishing", "real estate", "retail", "services",
    "software", "technology", "telecommunications", "transportation", "travel", "utilities", "wholesale",
)  # fmt: skip


@dataclass(frozen=True)
class Cleaned:
    """The export after cleaning.

    accounts: account, sector, revenue (accounts with a name and a revenue, one row each);
    teams: sales_agent, regional_office (one row per agent);
    pipeline: one row per opportunity kept, with ``status`` (won / lost / open, as of the
    cut-off), ``account`` (the accounts file's name, or "" when unknown), ``known`` (the
    account is in ``accounts``), ``engage_date``, ``close_date``, ``close_value``,
    ``sales_agent``, ``product``, ``deal_stage``;
    paths: each file kind's path as given, which error lines name (``files``: the names notes
    give them); cutoff: the cut-off date, if any;
    countries: accounts per country of office_location; no_deal_agents: agents of
    the teams file with no opportunity; set_aside: rows set aside, by reason.
    """

    accounts: pd.DataFrame
    teams: pd.DataFrame
    pipeline: pd.DataFrame
    paths: dict[str, str]
    cutoff: date | None
    countries: dict[str, int]
    no_deal_agents: tuple[str, ...]
    set_aside: dict[str, int]

    @property
    def files(self) -> dict[str, str]:
        """Each file kind's name, without its folder, as notes give it (an error line gives ``paths``)."""
        return {kind: Path(path).name for kind, path in self.paths.items()}


def clean(export: Export, cutoff: date | None = None) -> tuple[Cleaned, list[str]]:
    """Repair and reconcile the four files; return the cleaned data and one note per decision."""
    report = Report()
    mapped = [f"{kind}.{fld} from {name!r}" for kind, fields in export.columns.items() for fld, name in fields.items()]
    if mapped:  # the checks below speak of covsim's fields, which the files call otherwise
        report.note(f"columns read by --column: {', '.join(mapped)}; the checks below name each by its field")
    for table in (export.accounts, export.pipeline, export.teams, export.products):
        if table is not None:  # what reading decided comes first: the formats, and the rows it set aside
            report.note(*table.notes)
            for reason, rows in table.set_aside.items():
                report.set_aside_rows(reason, report.set_aside.get(reason, 0) + rows)
    # A file with nothing left is said beside the others' (three header-only files came one fix at a time).
    problems = []
    try:
        acc, countries = _clean_accounts(export.accounts, report)
    except InputError as e:
        problems += e.problems
    if export.pipeline.frame.empty:
        problems.append(f"{export.pipeline.path}: no opportunity")
    try:
        teams = _clean_teams(export.teams, report)
    except InputError as e:
        problems += e.problems
    if problems:
        raise InputError(problems)
    pipe, no_deal = clean_pipeline(export, acc, teams, cutoff, report)
    cleaned = Cleaned(
        accounts=acc[["account", "sector", "revenue"]].reset_index(drop=True),
        teams=teams[["sales_agent", "regional_office"]].reset_index(drop=True),
        pipeline=pipe.reset_index(drop=True),
        paths={t.kind: t.path for t in (export.accounts, export.pipeline, export.teams, export.products) if t},
        cutoff=cutoff,
        countries=countries,
        no_deal_agents=no_deal,
        set_aside=report.set_aside,
    )
    return cleaned, report.notes


# ---- accounts ------------------------------------------------------------------------


def _clean_accounts(table: Table, report: Report) -> tuple[pd.DataFrame, dict[str, int]]:
    """The accounts with a name and a positive revenue, one row each (with their folded name as ``key``),
    and the accounts per country of office_location; InputError if none is left."""
    where = table.name
    acc = _unique_accounts(table.frame.copy(), where, report)
    if "sector" not in table.absent:
        acc = _repair_sectors(acc, where, report)
    else:
        report.note(
            f"{where}: no sector column: the scenario's industries are 'unknown' (labels only: no process uses them)"
        )
    acc = _accounts_with_revenue(acc, where, report)
    countries = _countries(acc, where, report) if "office_location" not in table.absent else {}
    if acc.empty:
        raise InputError([f"{table.path}: no account with a name and a revenue"])
    return acc, countries


def _unique_accounts(acc: pd.DataFrame, where: str, report: Report) -> pd.DataFrame:
    """Sets aside rows without an account name, then every row but the first of an account named twice
    (names compared folded; the folded name is kept as ``key``). Reports the rows and the names."""
    blank = acc["account"] == ""
    if blank.any():
        report.note(
            f"{where}: {counted(int(blank.sum()), 'row')} without an account name set aside ({rows_named(acc[blank])})"
        )
        acc = acc[~blank]
    acc = _summary_rows(acc, where, report)
    acc["key"] = acc["account"].map(fold)
    dup = acc["key"].duplicated()
    if dup.any():
        report.note(
            f"{where}: {counted(int(dup.sum()), 'duplicate account')} set aside, the first row of each kept "
            f"({name_list(list(acc.loc[dup, 'account']))})"
        )
        acc = acc[~dup]
    return acc


#: Account names a spreadsheet's summary row takes, folded and without punctuation ("Grand Total:" is grandtotal):
#: those of ``SUMMARY_ONLY`` are no company's name; the others (Total, Sum, Overall) can be one.
SUMMARY_ONLY = frozenset({"grandtotal", "subtotal", "subtotals", "allaccounts"})
SUMMARY_NAMES = SUMMARY_ONLY | {"total", "totals", "sum", "overall"}


def _summary_rows(acc: pd.DataFrame, where: str, report: Report) -> pd.DataFrame:
    """Sets aside a spreadsheet's summary rows: named as one (``SUMMARY_NAMES``) and no company's name
    (``SUMMARY_ONLY``), or with a revenue of at least half the rows not so named together, or with none of
    sector, year and office (an account named Total, with them, stays). A total row read as an account had moved
    the segments' sizes unsaid (an analyst's trial)."""
    folded = acc["account"].map(lambda a: re.sub(r"[^a-z]", "", fold(a)))
    named = folded.isin(SUMMARY_NAMES)
    if not named.any():
        return acc
    large = acc["revenue"] >= 0.5 * acc.loc[~named, "revenue"].sum()  # the other names' rows: a total of totals
    described = [c for c in ("sector", "year_established", "office_location") if c in acc]
    bare = acc[described].apply(lambda c: c.isna() | (c.astype(str).str.strip() == "")).all(axis=1) & bool(described)
    summary = named & (folded.isin(SUMMARY_ONLY) | large | bare)
    if summary.any():
        one = summary.sum() == 1
        report.note(
            f"{where}: {rows_named(acc[summary])} ({name_list(list(acc.loc[summary, 'account']))}) "
            f"{'reads as a summary row' if one else 'read as summary rows'} of the file, not "
            f"{'an account' if one else 'accounts'} (named as a total, and with no sector, year or office, with "
            f"half the other rows' revenue or more, or with a name no company has): set aside; rename "
            f"{'it' if one else 'one'} if it is an account"
        )
        report.set_aside_rows("summary_rows", int(summary.sum()))
    return acc[~summary]


def _repair_sectors(acc: pd.DataFrame, where: str, report: Report) -> pd.DataFrame:
    """Reads case and spacing variants and misspellings of a sector as the known or more frequent name
    (:func:`~sim.crm.names.fix_categories` against KNOWN_SECTORS). Reports each repair."""
    fixes, notes = fix_categories(acc["sector"], where, "sector", KNOWN_SECTORS)
    acc["sector"] = acc["sector"].map(lambda v: fixes.get(v, v))
    report.note(*notes)
    return acc


def _accounts_with_revenue(acc: pd.DataFrame, where: str, report: Report) -> pd.DataFrame:
    """Sets aside accounts without a positive revenue: they cannot be put in a size segment (their
    opportunities stay in team-level counts). Reports them by name."""
    no_revenue = acc["revenue"].isna() | (acc["revenue"] <= 0)
    if no_revenue.any():
        report.note(
            f"{where}: {counted(int(no_revenue.sum()), 'account')} without a positive revenue cannot be put in a size "
            f"segment: set aside from per-segment figures, their opportunities kept in team-level counts "
            f"({name_list(list(acc.loc[no_revenue, 'account']))})"
        )
        report.set_aside_rows("accounts_without_revenue", int(no_revenue.sum()))
        acc = acc[~no_revenue]
    return acc


def _countries(acc: pd.DataFrame, where: str, report: Report) -> dict[str, int]:
    """Accounts per country of office_location. Reports that these are countries, not the sales offices
    the regions are made from, so they are not used."""
    countries = dict(Counter(v for v in acc["office_location"] if v))
    if countries:
        report.note(
            f"{where}: office_location holds {counted(len(countries), 'country', 'countries')} "
            f"({count_list(countries)}), "
            f"not sales offices: not used; regions come from the teams' regional offices"
        )
    return countries


# ---- teams ---------------------------------------------------------------------------


def _clean_teams(table: Table, report: Report) -> pd.DataFrame:
    """The sales agents, one row each (with their folded name as ``key``), each with a regional office;
    InputError if none is left."""
    where = table.name
    teams = _unique_agents(table.frame.copy(), where, report)
    teams = _repair_offices(teams, where, report)
    if teams.empty:
        raise InputError([f"{table.path}: no sales agent"])
    return teams


def _unique_agents(teams: pd.DataFrame, where: str, report: Report) -> pd.DataFrame:
    """Sets aside rows without an agent name, then every row but the first of an agent listed twice
    (names compared folded; the folded name is kept as ``key``). Reports both, the second by name."""
    blank = teams["sales_agent"] == ""
    if blank.any():
        report.note(f"{where}: {counted(int(blank.sum()), 'row')} without an agent name set aside")
        teams = teams[~blank]
    teams["key"] = teams["sales_agent"].map(fold)
    dup = teams["key"].duplicated()
    if dup.any():
        report.note(
            f"{where}: {counted(int(dup.sum()), 'agent')} listed twice: the first row of each kept "
            f"({name_list(list(teams.loc[dup, 'sales_agent']))})"
        )
        teams = teams[~dup]
    return teams


def _repair_offices(teams: pd.DataFrame, where: str, report: Report) -> pd.DataFrame:
    """Reads case and spacing variants and rare misspellings of a regional office as the frequent name,
    and puts agents without an office in an ``unassigned`` one. Reports each repair and the agents."""
    fixes, notes = fix_categories(teams["regional_office"], where, "regional_office")
    teams["regional_office"] = teams["regional_office"].map(lambda v: fixes.get(v, v))
    report.note(*notes)
    no_office = teams["regional_office"] == ""
    if no_office.any():
        report.note(
            f"{where}: {counted(int(no_office.sum()), 'agent')} without a regional office: kept as seats in an "
            f"'unassigned' group ({name_list(list(teams.loc[no_office, 'sales_agent']))})"
        )
        teams.loc[no_office, "regional_office"] = "unassigned"
    return teams
