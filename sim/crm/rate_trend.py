"""The stretch of engage dates opportunity rates are counted over (``--rates-from``), and an export whose
engagements grew or shrank over it: the calibrated rates are the stretch's average, so the data checks say how its
last quarter compares, and what leaves out months that are no demand (``--rates-from`` a later date, ``--cutoff``
an earlier one; docs/scenario-format.md 8.4)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from sim.errors import InputError
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


def rates_counted_from(
    first: pd.Timestamp, last: pd.Timestamp, rates_from: date | None, cutoff: date | None
) -> pd.Timestamp:
    """The first day opportunity rates count, of engage dates ``first``..``last`` (before ``cutoff``, if one):
    ``rates_from`` (``--rates-from``), or ``first``; InputError where that leaves fewer than ``RECENT_DAYS``."""
    if rates_from is None:
        return first
    if not first <= pd.Timestamp(rates_from) <= last - pd.Timedelta(days=RECENT_DAYS - 1):
        before = f" before --cutoff {cutoff}" if cutoff is not None else ""
        raise InputError(
            [
                f"--rates-from {rates_from}: the engage dates{before} run {first.date()}..{last.date()}: give a day "
                f"on or after the first that leaves at least {RECENT_DAYS} days to count the rates over [A], a "
                "season's worth (a few days' engagements had made a rate of 0 or of hundreds a year)"
            ]
        )
    return pd.Timestamp(rates_from)


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
