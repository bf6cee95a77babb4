"""An export whose closes start long after its engagements: the deals engaged before its first close closed only
from it on, so their cycles are long; the cycle fit enters them late (``sim.crm.cycle_fit``), and the data checks
say so (docs/validation.md, the backtest's cause 2)."""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from sim.crm.notes import Report


class _LateStart(NamedTuple):
    """An export whose closes start late: its closed deals with both dates (``dated``), their cycles in days
    (``days``), its first close, and the dated deals engaged before it (``early``)."""

    dated: pd.Series
    days: pd.Series
    first_close: pd.Timestamp
    early: pd.Series


def _late_start(pipe: pd.DataFrame) -> _LateStart | None:
    """The closes of ``pipe`` where they start later after its first engagement than the closed deals' median
    cycle and the deals engaged before the first close are the slow ones (their closes before it were not
    logged), or none engaged from it on has closed yet; None where closes start with the engagements."""
    dated = (pipe["status"] != "open") & pipe["close_date"].notna() & pipe["engage_date"].notna()
    if not dated.any():
        return None
    days, first_close = (pipe["close_date"] - pipe["engage_date"]).dt.days, pipe.loc[dated, "close_date"].min()
    early = dated & (pipe["engage_date"] < first_close)
    median = float(days[dated].median())
    if not ((first_close - pipe.loc[dated, "engage_date"].min()).days > median and early.any()):
        return None
    later = dated & ~early  # just after the first close, none of them may have closed yet (a review's cut-offs)
    if later.any() and not median > float(days[later].median()):
        return None
    return _LateStart(dated, days, first_close, early)


def closes_logged_from(pipe: pd.DataFrame) -> pd.Timestamp | None:
    """The day an export's closes start where they start late (:func:`_late_start`), else None."""
    late = _late_start(pipe)
    return None if late is None else late.first_close


def late_first_close(pipe: pd.DataFrame, where: str, report: Report) -> None:
    """Reports an export whose closes start late (:func:`_late_start`; a revenue analyst's export closes
    nothing before 2017-03-01, engagements starting 2016-10-20: docs/validation.md): the deals engaged before
    the first close have long cycles, which would lengthen a median of the closed deals; the cycle fit enters
    each at its age on the first close. Of the closed deals of ``pipe`` with both dates (after a cut-off, those
    the calibration reads)."""
    late = _late_start(pipe)
    if late is None:
        return
    dated, days, first_close, early = late
    first_engage, later = pipe.loc[dated, "engage_date"].min(), dated & ~early
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
