"""The simulation clock: weeks, quarters, years and business days.

A run advances one week per step from week 0; quarters are numbered from 1 and
start at weeks 0, 13, 26, ...; policies replan at each quarter's first week.
"""

from __future__ import annotations

WEEKS_PER_QUARTER = 13
WEEKS_PER_YEAR = 52
QUARTERS_PER_YEAR = WEEKS_PER_YEAR // WEEKS_PER_QUARTER
BUSINESS_DAYS_PER_WEEK = 5

#: The week of a date an account does not have: its contract's renewal date when it has no contract (a prospect
#: or a churned account). Far enough below week 0 that no week minus it nears the 32-bit weeks' limit.
NO_DATE = -(2**30)


def quarter_of(week: int) -> int:
    """The 1-based quarter that ``week`` (0-based) falls in."""
    return week // WEEKS_PER_QUARTER + 1


def week_in_quarter(week: int) -> int:
    """Position of ``week`` in its quarter, 0 for the first week."""
    return week % WEEKS_PER_QUARTER


def starts_quarter(week: int) -> bool:
    """Whether ``week`` is the first week of a quarter (policies replan then)."""
    return week % WEEKS_PER_QUARTER == 0


def ends_quarter(week: int) -> bool:
    """Whether ``week`` is the last week of a quarter (metrics are computed then)."""
    return (week + 1) % WEEKS_PER_QUARTER == 0
