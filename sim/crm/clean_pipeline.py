"""Cleaning the pipeline file of a CRM export: its opportunities reconciled with the accounts and teams.

:func:`clean_pipeline` runs one small step per kind of flaw, in order: repeated
opportunities, deal stages, names (products, agents, accounts) read as the
other files write them, open and closed deals' dates and values, and the
pipeline as it stood on the cut-off. Steps work as in :mod:`sim.crm.cleaning`.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import pandas as pd

from sim.crm.late_closes import late_first_close
from sim.crm.names import fix_categories, fold
from sim.crm.notes import Report, count_list, name_list, rows_named
from sim.crm.read import Export, Table
from sim.errors import InputError
from sim.format import counted

WON_STAGES = frozenset({"won", "closed won", "closedwon", "closed-won", "closed_won"})
LOST_STAGES = frozenset({"lost", "closed lost", "closedlost", "closed-lost", "closed_lost"})
#: Stage names a deal_stage is checked against for misspellings.
KNOWN_STAGES = ("Won", "Lost", "Closed Won", "Closed Lost")


def clean_pipeline(
    export: Export, acc: pd.DataFrame, teams: pd.DataFrame, cutoff: date | None, report: Report
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The opportunities kept, reconciled with the cleaned accounts and teams and seen as of ``cutoff``,
    and the agents without any; InputError if no opportunity is left."""
    table, where = export.pipeline, export.pipeline.name
    pipe = table.frame.copy()
    rows = len(pipe)
    if "opportunity_id" not in table.absent:
        pipe = _unique_opportunities(pipe, where, report)
    else:
        report.note(
            f"{where}: no opportunity_id column: a row exported twice cannot be told from two deals, so each counts"
        )
    pipe = _read_stages(pipe, where, rows, report)
    if export.products is not None and "product" not in table.absent:
        pipe = _match_products(pipe, where, export.products, report)
    pipe = _match_agents(pipe, where, teams, export.teams.name, report)
    no_deal = _agents_without_opportunities(pipe, where, teams, export.teams.name, report)
    pipe = _match_accounts(pipe, where, acc, export.accounts, report)
    _accounts_without_opportunities(pipe, acc, export.accounts.name, report)
    pipe = _open_deals(pipe, where, report)
    pipe = _engage_dates(pipe, where, cutoff, report)
    pipe = _isolated_engage_dates(pipe, where, report)
    pipe = _closed_deals(pipe, where, report)
    if cutoff is not None:
        pipe = _as_of_cutoff(pipe, where, cutoff, table.path, report)
    late_first_close(pipe, where, report)  # of the deals the calibration reads: after the cut-off
    if pipe.empty:
        raise InputError([f"{table.path}: no opportunity"])
    return pipe, no_deal


def _unique_opportunities(pipe: pd.DataFrame, where: str, report: Report) -> pd.DataFrame:
    """Sets aside every row but the first of an opportunity_id given twice. Reports the rows."""
    ids = pipe["opportunity_id"]
    dup = (ids != "") & ids.duplicated()
    if dup.any():
        report.note(
            f"{where}: {counted(int(dup.sum()), 'row')} {'repeats' if dup.sum() == 1 else 'repeat'} an "
            f"opportunity_id: set aside, the first row of each kept ({rows_named(pipe[dup])})"
        )
        report.set_aside_rows("duplicate_opportunities", int(dup.sum()))
        pipe = pipe[~dup]
    return pipe


def _read_stages(pipe: pd.DataFrame, where: str, rows: int, report: Report) -> pd.DataFrame:
    """Repairs deal_stage spellings and adds each opportunity's ``status``: won (Won or Closed Won), lost
    (Lost or Closed Lost) or open (any other stage). Reports each repair and the opportunities per stage,
    which add up to their count (``rows``: the file's rows, repeated ones included, said beside it)."""
    stage_fixes, notes = fix_categories(pipe["deal_stage"], where, "deal_stage", KNOWN_STAGES)
    report.note(*notes)
    stage = pipe["deal_stage"].map(lambda v: stage_fixes.get(v, v))
    folded = stage.str.casefold()
    status = np.where(folded.isin(WON_STAGES), "won", np.where(folded.isin(LOST_STAGES), "lost", "open"))
    pipe["deal_stage"] = stage
    pipe["status"] = status
    closed_counts = Counter(stage[pipe["status"] != "open"])
    open_counts = Counter(v or "(blank)" for v in stage[pipe["status"] == "open"])
    repeated = f" (of {rows:,} rows, {rows - len(pipe):,} a repeat)" if rows != len(pipe) else ""
    report.note(
        f"{where}: {counted(len(pipe), 'opportunity', 'opportunities')}{repeated}; deal_stage closed: "
        f"{count_list(closed_counts) or 'none'}; open: {count_list(open_counts) or 'none'} (won: Won or Closed Won; "
        f"lost: Lost or Closed Lost; any other stage is open)"
    )
    return pipe


def _match_products(pipe: pd.DataFrame, where: str, products: Table, report: Report) -> pd.DataFrame:
    """Reads a product written with other case or spacing as the catalogue's name. Reports each such
    product, and each product not in the catalogue (kept as written: the calibration does not use them)."""
    catalogue = [p for p in products.frame["product"] if p]
    by_fold = {fold(p): p for p in catalogue}
    counts = Counter(v for v in pipe["product"] if v)
    product_fixes = {}
    for v, c in counts.most_common():
        if v in catalogue:
            continue
        match = by_fold.get(fold(v))
        if match is not None:
            product_fixes[v] = match
            report.note(
                f"{where}: product {v!r} ({c:,} opportunities) read as {match!r} of {products.name} "
                f"(same name ignoring case and spaces)"
            )
        else:
            report.note(
                f"{where}: product {v!r} ({c:,} opportunities) is not in {products.name}: kept as "
                f"written (products are not used by the calibration)"
            )
    pipe["product"] = pipe["product"].map(lambda v: product_fixes.get(v, v))
    return pipe


def _match_agents(pipe: pd.DataFrame, where: str, teams: pd.DataFrame, team_file: str, report: Report) -> pd.DataFrame:
    """Reads a sales_agent written with other case or spacing as the teams file's name. Reports each such
    agent, and the opportunities of agents not in the teams file (kept in team-level counts)."""
    agent_by_fold = dict(zip(teams["key"], teams["sales_agent"], strict=True))
    unknown_agents: dict[str, int] = {}
    agent_fixes = {}
    if (blank := pipe["sales_agent"] == "").any():  # said by row: "(blank)" among the agents' names had no place
        report.note(
            f"{where}: {counted(int(blank.sum()), 'opportunity', 'opportunities')} with no sales_agent "
            f"({rows_named(pipe[blank])}): kept in team-level counts, no seat for {'it' if blank.sum() == 1 else 'them'}"
        )
    for v, c in Counter(pipe.loc[~blank, "sales_agent"]).items():
        match = agent_by_fold.get(fold(v))
        if match is None:
            unknown_agents[v] = c
        elif match != v:
            agent_fixes[v] = match
            report.note(f"{where}: sales_agent {v!r} ({c:,}) read as {match!r} of {team_file} (case or spacing)")
    pipe["sales_agent"] = pipe["sales_agent"].map(lambda v: agent_fixes.get(v, v))
    if unknown_agents:
        report.note(
            f"{where}: {counted(sum(unknown_agents.values()), 'opportunity', 'opportunities')} of "
            f"{counted(len(unknown_agents), 'agent')} not in "
            f"{team_file} ({name_list(sorted(unknown_agents))}): kept in team-level counts, no seat for them"
        )
    return pipe


def _agents_without_opportunities(
    pipe: pd.DataFrame, where: str, teams: pd.DataFrame, team_file: str, report: Report
) -> tuple[str, ...]:
    """The agents of the teams file with no opportunity (they stay seats: new hires or a gap in the
    export). Reports them by name."""
    worked = set(pipe["sales_agent"])
    no_deal = tuple(a for a in teams["sales_agent"] if a not in worked)
    if no_deal:
        report.note(
            f"{team_file}: {len(no_deal)} of {counted(len(teams), 'agent')} {_verb(len(no_deal), 'has', 'have')} no "
            f"opportunity in {where} "
            f"({name_list(list(no_deal))}): kept as seats (new hires or a gap in the export)"
        )
    return no_deal


def _match_accounts(pipe: pd.DataFrame, where: str, acc: pd.DataFrame, accounts: Table, report: Report) -> pd.DataFrame:
    """Reads an account written with other case or spacing as the accounts file's name, and adds ``known``
    (the account is among the cleaned accounts). Reports the opportunities without an account or with one
    not in the accounts file (both kept in team-level counts, set aside from per-segment rates), and each
    repair."""
    account_by_fold = dict(zip(acc["key"], acc["account"], strict=True))
    # Accounts the cleaning set aside are in the file: their opportunities are not "not in the file".
    in_file = set(accounts.frame["account"].map(fold))
    no_account = pipe["account"] == ""
    if no_account.any():
        by_stage = Counter(pipe.loc[no_account, "deal_stage"])
        # Not in the simulated workload either: the model's opportunities arrive at accounts (a revenue analyst
        # found a run's opportunities a year matched those with an account alone).
        engaged = pipe["engage_date"].notna()
        share = (no_account & engaged).sum() / max(int(engaged.sum()), 1)
        report.note(
            f"{where}: {_opportunities_have(int(no_account.sum()))} no account ({count_list(by_stage)}): "
            f"kept in team-level counts, set aside from per-segment rates, and so from the simulated workload "
            f"(opportunities arrive at accounts): {share:.0%} of the export's engaged opportunities, which a run "
            "does not have"
        )
        report.set_aside_rows("no_account", int(no_account.sum()))
    account_fixes = {}
    unknown_accounts: Counter[str] = Counter()
    for v, c in Counter(pipe.loc[~no_account, "account"]).items():
        match = account_by_fold.get(fold(v))
        if match is None:
            if fold(v) not in in_file:
                unknown_accounts[v] = c
        elif match != v:
            account_fixes[v] = match
            report.note(f"{where}: account {v!r} ({c:,}) read as {match!r} of {accounts.name} (case or spacing)")
    pipe["account"] = pipe["account"].map(lambda v: account_fixes.get(v, v))
    if unknown_accounts:
        naming = sum(unknown_accounts.values())
        report.note(
            f"{where}: {counted(naming, 'opportunity', 'opportunities')} {_verb(naming, 'names', 'name')} "
            f"{counted(len(unknown_accounts), 'account')} "
            f"not in {accounts.name} ({name_list(sorted(unknown_accounts))}): kept in team-level counts, set aside "
            f"from per-segment rates"
        )
    pipe["known"] = pipe["account"].isin(set(acc["account"]))
    return pipe


def _accounts_without_opportunities(pipe: pd.DataFrame, acc: pd.DataFrame, acc_file: str, report: Report) -> None:
    """Reports the accounts no opportunity names: they stay in the population (and lower their segment's
    opportunity rate)."""
    no_opportunity = sorted(set(acc["account"]) - set(pipe["account"]))
    if no_opportunity:
        report.note(
            f"{acc_file}: {counted(len(no_opportunity), 'account')} {_verb(len(no_opportunity), 'has', 'have')} no "
            "opportunity "
            f"({name_list(no_opportunity)}): kept in "
            f"the population (they lower their segment's opportunity rate)"
        )


def _open_deals(pipe: pd.DataFrame, where: str, report: Report) -> pd.DataFrame:
    """Clears the close_date and close_value of open deals (the stage says they are open). Reports those,
    and the open deals without either (counted as open, out of win rates, cycle lengths and won value)."""
    is_open = pipe["status"] == "open"
    open_close = is_open & (pipe["close_date"].notna() | pipe["close_value"].notna())
    # Before those are cleared: they are said above, not again among the open deals with neither.
    open_missing = is_open & pipe["close_date"].isna() & pipe["close_value"].isna()
    if open_close.any():
        # Named by row and stage: an analyst's misspelt 'Wonn' with a close date and value was read as open, and
        # the note named neither the row nor the stage.
        stages = count_list(Counter(pipe.loc[open_close, "deal_stage"]))
        one = open_close.sum() == 1
        report.note(
            f"{where}: {counted(int(open_close.sum()), 'open deal')} ({stages}; {rows_named(pipe[open_close])}) "
            f"{'carries' if one else 'carry'} a close_date or close_value: ignored, the stage says "
            f"{'it is' if one else 'they are'} open (a stage other than Won, Closed Won, Lost or Closed Lost is open)"
            + _looks_closed(pipe.loc[open_close, "deal_stage"])
        )
        pipe.loc[open_close, ["close_date", "close_value"]] = [pd.NaT, np.nan]
    if open_missing.any():
        report.note(
            f"{where}: {int(open_missing.sum()):,} open deals ({count_list(Counter(pipe.loc[open_missing, 'deal_stage']))}) "
            f"have no close_date or close_value: counted as open: out of win rates and won value, in the cycle fit "
            "as still open (censored) if engaged at an account of the file"
            + _looks_closed(pipe.loc[open_missing, "deal_stage"])
        )
    return pipe


#: Words of a stage name that a CRM's closed stages carry ("Closed Lost - No Budget", "Disqualified") [A].
CLOSED_WORDS = ("won", "lost", "closed", "disqualif")


def _looks_closed(stages: pd.Series) -> str:
    """``; 'Disqualified' reads as closed: ...``, for the stages among ``stages`` whose names carry a closed
    stage's word (a revenue analyst's 'Closed Lost - No Budget' was counted open, raising the win rate); else ""."""
    closed = sorted({repr(str(v)) for v in stages.dropna() if any(w in str(v).lower() for w in CLOSED_WORDS)})
    one = len(closed) == 1
    said = f"{'reads' if one else 'read'} as closed: write {'its' if one else 'their'} rows' stage as Won or Lost"
    return f"; {name_list(closed)} {said} in the file to count them so" if closed else ""


def _engage_dates(pipe: pd.DataFrame, where: str, cutoff: date | None, report: Report) -> pd.DataFrame:
    """Reports the opportunities without an engage_date: not yet engaged if open, a date missing if closed (both
    kept in team-level totals), or, with a cut-off, set aside (they cannot be placed before or after it)."""
    no_engage = pipe["engage_date"].isna()
    if not no_engage.any():
        return pipe
    if cutoff is not None:
        report.note(
            f"{where}: {_opportunities_have(int(no_engage.sum()))} no engage_date "
            f"({count_list(Counter(pipe.loc[no_engage, 'deal_stage']))}): they cannot be placed before or after "
            f"--cutoff {cutoff}: set aside"
        )
        report.set_aside_rows("no_engage_date_with_cutoff", int(no_engage.sum()))
        return pipe[~no_engage]
    # A closed deal was engaged: its date is missing, not to come (an analyst's Won deal was "not yet engaged").
    closed = no_engage & (pipe["status"] != "open")
    if closed.any():
        report.note(
            f"{where}: {counted(int(closed.sum()), 'closed deal')} with no engage_date ({rows_named(pipe[closed])}): "
            "its date is missing, so not in opportunity rates or cycle lengths; counted in team-level totals"
        )
    if (waiting := no_engage & ~closed).any():
        report.note(
            f"{where}: {_opportunities_have(int(waiting.sum()))} no engage_date "
            f"({count_list(Counter(pipe.loc[waiting, 'deal_stage']))}): not yet engaged, so not in opportunity "
            "rates or cycle lengths; counted in team-level totals"
        )
    return pipe


#: The most of an export's dated opportunities an isolated first or last stretch of engage dates may hold to be
#: set aside as typing errors [A]: a year typed wrong is one row or a few, not a hundredth of an export.
ISOLATED_SHARE = 0.01
#: The fewest dated opportunities an export has for an end date to be called isolated [A]: a few deals a month
#: apart are spaced so on their own (three deals a month apart had their first set aside).
ISOLATED_MIN_ROWS = 100
#: An export whose engage dates span fewer days is said to be short [A]: a quarter, the shortest stretch whose
#: annualised rates are not one season's or one quarter-end's.
SHORT_SPAN_DAYS = 91


def _isolated_engage_dates(pipe: pd.DataFrame, where: str, report: Report) -> pd.DataFrame:
    """Sets aside the opportunities whose engage dates lie, at either end of the export, further from all the
    others than those others span (at most ``ISOLATED_SHARE`` of the dated ones): a year typed wrong (1997 for
    2017) had stretched the time span every rate is annualised over from 1.2 to 21 years, and cut every rate
    18 times, without a word. Says so by row, and says when the span left is short (``SHORT_SPAN_DAYS``)."""
    dated = pipe["engage_date"].dropna().sort_values()
    n, most = len(dated), max(1, int(len(dated) * ISOLATED_SHARE))
    if n == 0:
        return pipe
    days = dated.to_numpy()
    # The widest end stretch (of at most ``most`` rows) split from the rest by a gap longer than the rest spans;
    # again once the other end's is known (a typo at each end hides the other, the rest spanning both).
    front = back = 0
    for _ in range(2 if n >= ISOLATED_MIN_ROWS else 0):
        last = days[n - 1 - back]
        front = max((k for k in range(1, most + 1) if days[k] - days[k - 1] > last - days[k]), default=0)
        back = max((k for k in range(1, most + 1) if days[-k] - days[-k - 1] > days[-k - 1] - days[front]), default=0)
    far = pipe.index.isin(dated.index[:front]) | pipe.index.isin(dated.index[n - back :])
    if far.any():
        rest = days[front : n - back]
        span = (rest[-1] - rest[0]) / np.timedelta64(1, "D") + 1
        was = (days[-1] - days[0]) / np.timedelta64(1, "D") + 1
        shown = ", ".join(f"{d:%Y-%m-%d}" for d in sorted(set(pipe.loc[far, "engage_date"]))[:3])
        report.note(
            f"{where}: engage_date: {counted(int(far.sum()), 'opportunity', 'opportunities')} engaged far from all "
            f"the others ({rows_named(pipe[far])}: {shown}), which span {span / 365.25:.2g} years from "
            f"{pd.Timestamp(rest[0]):%Y-%m-%d} to {pd.Timestamp(rest[-1]):%Y-%m-%d}: set aside as a date typed "
            f"wrong (with them the time span every rate is annualised over would be {was / 365.25:.3g} years)"
        )
        report.set_aside_rows("isolated_engage_date", int(far.sum()))
        pipe, days = pipe[~far], rest
    span_days = int((days[-1] - days[0]) / np.timedelta64(1, "D")) + 1
    if span_days < SHORT_SPAN_DAYS:
        report.note(
            f"{where}: engage_date: the engage dates span {counted(span_days, 'day')}: every yearly rate is that "
            f"stretch's count times {365.25 / span_days:.3g}, so a season or a quarter's end weighs on it whole"
        )
    return pipe


#: A closed deal's cycle longer than this is read as a date typed wrong and left out of cycle lengths [A]: three
#: years is longer than the enterprise cycles of the public export (at most 138 days) many times over.
LONGEST_CYCLE_YEARS = 3


def _closed_deals(pipe: pd.DataFrame, where: str, report: Report) -> pd.DataFrame:
    """Clears the close_date of closed deals that close before they were engaged or more than
    ``LONGEST_CYCLE_YEARS`` after. Reports those, the
    closed deals without a close_date (both kept in win rates, out of cycle lengths) and the won deals
    without a close_value (kept in win rates, out of won value), by row."""
    closed = pipe["status"] != "open"
    no_close = closed & pipe["close_date"].isna()
    if no_close.any():
        report.note(
            f"{where}: {counted(int(no_close.sum()), 'closed deal')} with no close_date: kept in win rates, "
            f"excluded from cycle lengths ({rows_named(pipe[no_close])})"
        )
    backwards = closed & (pipe["close_date"] < pipe["engage_date"])
    if backwards.any():
        report.note(
            f"{where}: {counted(int(backwards.sum()), 'closed deal')} with close_date before engage_date: kept in "
            f"win rates, excluded from cycle lengths ({rows_named(pipe[backwards])})"
        )
        pipe.loc[backwards, "close_date"] = pd.NaT
    years = (pipe["close_date"] - pipe["engage_date"]).dt.days / 365.25
    if (far := closed & (years > LONGEST_CYCLE_YEARS)).any():  # an analyst's 2071 for 2017 went unsaid
        report.note(
            f"{where}: {counted(int(far.sum()), 'closed deal')} closing more than {LONGEST_CYCLE_YEARS} years after "
            f"its engage_date (e.g. {years[far].iloc[0]:.1f} years; a date typed wrong?): kept in win rates, "
            f"excluded from cycle lengths ({rows_named(pipe[far])})"
        )
        pipe.loc[far, "close_date"] = pd.NaT
    won_no_value = (pipe["status"] == "won") & pipe["close_value"].isna()
    if won_no_value.any():
        report.note(
            f"{where}: {counted(int(won_no_value.sum()), 'won deal')} with no close_value: kept in win rates, "
            f"excluded from won value ({rows_named(pipe[won_no_value])})"
        )
    return pipe


def _as_of_cutoff(pipe: pd.DataFrame, where: str, cutoff: date, path: str, report: Report) -> pd.DataFrame:
    """The pipeline as it stood on ``cutoff``: sets aside opportunities engaged on or after it, and counts
    as open (close date and value cleared) those that closed on or after it. Reports both counts;
    InputError if none was engaged before it (``path``: the pipeline file)."""
    stamp = pd.Timestamp(cutoff)
    later = pipe["engage_date"] >= stamp
    last = max(pipe["engage_date"].max(), pipe["close_date"].max())
    if last < stamp:  # a typo of the year, or the export's end mistaken: the cut-off cuts nothing
        report.note(
            f"{where}: --cutoff {cutoff} is after the export's last date, {last.date()}: no opportunity was "
            "engaged on or after it, so it cuts nothing from the export's end"
        )
    else:
        used = int((~later).sum())
        report.note(
            f"{where}: --cutoff {cutoff}: {counted(int(later.sum()), 'opportunity', 'opportunities')} engaged on or "
            f"after it set aside; {counted(used, 'opportunity', 'opportunities')} engaged before it "
            f"{_verb(used, 'is', 'are')} used"
        )
    report.set_aside_rows("engaged_after_cutoff", int(later.sum()))
    pipe = pipe[~later].copy()
    reopened = (pipe["status"] != "open") & (pipe["close_date"] >= stamp)
    if reopened.any():
        report.note(
            f"{where}: --cutoff {cutoff}: {int(reopened.sum()):,} of those closed on or after it: counted "
            f"as open (their outcome was not known at the cut-off)"
        )
        pipe.loc[reopened, "status"] = "open"
        pipe.loc[reopened, ["close_date", "close_value"]] = [pd.NaT, np.nan]
    if pipe.empty:
        raise InputError([f"--cutoff {cutoff}: no opportunity in {path} was engaged before it"])
    return pipe


def _verb(n: int, one: str, more: str) -> str:
    """The verb after ``n`` of something: ``one`` (``has``) for one, ``more`` (``have``) for more, or none."""
    return one if n == 1 else more


def _opportunities_have(n: int) -> str:
    """``1 opportunity has``, ``3 opportunities have``."""
    return f"{counted(n, 'opportunity', 'opportunities')} {_verb(n, 'has', 'have')}"
