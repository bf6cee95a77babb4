"""An export whose closes start long after its engagements: the deals engaged before its first close closed only
from it on, so their cycles are long; the cycle fit enters them late (sim/crm/cycle_fit.py), and the calibration
says so (docs/validation.md, the backtest's cause 2)."""

from __future__ import annotations

import pandas as pd

from sim.crm.notes import Report


def late_first_close(pipe: pd.DataFrame, where: str, report: Report) -> None:
    """Reports an export whose first close comes later after its first engagement than the median cycle: the
    deals engaged before it closed only from it on, so their cycles are long (a revenue analyst's export closes
    nothing before 2017-03-01, engagements starting 2016-10-20; docs/validation.md), and a median of the closed
    deals would be lengthened by them; the cycle fit counts each from its age on the first close. Of the closed
    deals of ``pipe`` with both dates (after a cut-off, those the calibration reads)."""
    dated = (pipe["status"] != "open") & pipe["close_date"].notna() & pipe["engage_date"].notna()
    if not dated.any():
        return
    days = (pipe["close_date"] - pipe["engage_date"]).dt.days
    first_close, first_engage = pipe.loc[dated, "close_date"].min(), pipe.loc[dated, "engage_date"].min()
    early = dated & (pipe["engage_date"] < first_close)
    gap, median = (first_close - first_engage).days, float(days[dated].median())
    later = float(days[dated & ~early].median()) if (dated & ~early).any() else median
    if gap > median and early.any() and median > later:  # the early deals lengthen the median
        report.note(
            f"{where}: no deal closes before {first_close:%Y-%m-%d}, {gap} days after the first engage_date "
            f"({first_engage:%Y-%m-%d}): the {int(early.sum()):,} deals engaged before it have a median cycle of "
            f"{days[early].median():g} days, the {int((dated & ~early).sum()):,} engaged from it on {later:g}, so "
            f"the closed deals' median ({median:g} days) would overstate the team's; the cycle fit counts each of those only "
            "from its age on that date, as a close before it would not have been logged (docs/validation.md)"
        )
