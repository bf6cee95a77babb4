"""An export whose closes start long after its engagements: the deals engaged before its first close closed only
from it on, so their cycles are long; the cycle fit enters them late (``sim.crm.cycle_fit``), and the data checks
say so (docs/validation.md, the backtest's cause 2)."""

from __future__ import annotations

import pandas as pd

from sim.crm.notes import Report


def _first_closes(pipe: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Timestamp] | None:
    """The closed deals of ``pipe`` with both dates, their cycles (days), and the first close (None: no such deal)."""
    dated = (pipe["status"] != "open") & pipe["close_date"].notna() & pipe["engage_date"].notna()
    if not dated.any():
        return None
    return dated, (pipe["close_date"] - pipe["engage_date"]).dt.days, pipe.loc[dated, "close_date"].min()


def closes_logged_from(pipe: pd.DataFrame) -> pd.Timestamp | None:
    """The day an export's closes start, where they start later after its first engagement than the closed
    deals' median cycle and the deals engaged before it are the slow ones (their closes before it were not
    logged), or none engaged from it on has closed yet; None where closes start with the engagements."""
    found = _first_closes(pipe)
    if found is None:
        return None
    dated, days, first_close = found
    early = dated & (pipe["engage_date"] < first_close)
    median = float(days[dated].median())
    if not ((first_close - pipe.loc[dated, "engage_date"].min()).days > median and early.any()):
        return None
    later = dated & ~early  # just after the first close, none of them may have closed yet (a review's cut-offs)
    return first_close if not later.any() or median > float(days[later].median()) else None


def late_first_close(pipe: pd.DataFrame, where: str, report: Report) -> None:
    """Reports an export whose closes start late (:func:`closes_logged_from`; a revenue analyst's export closes
    nothing before 2017-03-01, engagements starting 2016-10-20: docs/validation.md): the deals engaged before
    the first close have long cycles, which would lengthen a median of the closed deals; the cycle fit enters
    each at its age on the first close. Of the closed deals of ``pipe`` with both dates (after a cut-off, those
    the calibration reads)."""
    first_close = closes_logged_from(pipe)
    found = _first_closes(pipe)
    if first_close is None or found is None:
        return
    dated, days, _ = found
    early, first_engage = dated & (pipe["engage_date"] < first_close), pipe.loc[dated, "engage_date"].min()
    later = dated & ~early
    rest = (
        f"the {int(later.sum()):,} engaged from it on {days[later].median():g}"
        if later.any()
        else "none engaged from it on has closed yet"
    )
    report.note(
        f"{where}: no deal closes before {first_close:%Y-%m-%d}, {(first_close - first_engage).days} days after the "
        f"first engage_date ({first_engage:%Y-%m-%d}): the {int(early.sum()):,} closed deals engaged before it have a "
        f"median cycle of {days[early].median():g} days, {rest}: a close before it would not have been logged, so a "
        f"median of the closed deals ({days[dated].median():g} days) mixes the slow early deals with the quick later "
        "ones; the cycle fit counts each deal engaged before it (open ones too) only from its age on that date "
        "(docs/validation.md)"
    )
