"""An export whose engagements grew or shrank over its span: the calibrated opportunity rates are the span's
average, so the data checks say how the span's last quarter compares, and what leaves out months that are no
demand (``--rates-from`` a later date, ``--cutoff`` an earlier one; docs/scenario-format.md 8.4)."""

from __future__ import annotations

import pandas as pd

from sim.format import counted

#: The recent stretch a span's average rate is compared with: a quarter of 13 weeks [A].
RECENT_DAYS = 91
#: A recent rate this many times the span's, or its inverse, is said [A]: a quarter a fifth off the average is
#: within what seasons give; a quarter more off than that changes every comparison's workload.
TREND_RATIO = 1.25
#: What to do about it: the early months of a CRM's adoption, or the last of an export entered late, are no demand.
GREW = "if the early months are the CRM's adoption rather than demand, --rates-from DATE counts the rates from a later date"
SHRANK = (
    "if the last months are an export cut short (deals not yet entered) rather than demand falling, a --cutoff "
    "before them leaves them out"
)
#: Months listed one by one; a longer span lists its first and last three.
MONTHS_SAID = 15


def trend_note(engaged: pd.Series, first: pd.Timestamp, last: pd.Timestamp, where: str) -> list[str]:
    """The note on ``engaged`` (engage dates at an account of the file, those the rates count, from ``first`` to
    ``last``) when its last ``RECENT_DAYS`` ran at more than ``TREND_RATIO`` times the whole stretch's yearly
    rate, or less than its inverse; none on a stretch shorter than two such quarters."""
    days = (last - first).days + 1
    if days < 2 * RECENT_DAYS or engaged.empty:
        return []
    start = last - pd.Timedelta(days=RECENT_DAYS - 1)
    recent = int((engaged >= start).sum()) * 365.25 / RECENT_DAYS
    average = len(engaged) * 365.25 / days
    if 1 / TREND_RATIO <= recent / average <= TREND_RATIO:
        return []
    months = [f"{m} {n:,}" for m, n in engaged.dt.to_period("M").value_counts().sort_index().items()]
    if len(months) > MONTHS_SAID:
        months = [*months[:3], "...", *months[-3:]]
    grew = recent > average
    return [
        f"{where}: engagements at an account ran at {recent:,.0f} a year over the last {RECENT_DAYS} days "
        f"({start:%Y-%m-%d}..{last:%Y-%m-%d}), against {average:,.0f} over the {counted(days, 'day')} the rates "
        f"count from {first:%Y-%m-%d}: the rates are that average, {'below' if grew else 'above'} the team's recent "
        f"rate (by month: {', '.join(months)}); {GREW if grew else SHRANK} (docs/scenario-format.md 8.4)"
    ]
