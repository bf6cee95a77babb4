"""The sales cycle of an export's deals: a lognormal fitted by maximum likelihood, the deals still open
censored where the export stops seeing them and, in an export that logs no close before some date, the deals
engaged before it entered late.

The model draws each deal's cycle as a median times ``exp(deal_sigma x Z)``:
a lognormal, whose two numbers the fit gives (``cycle_weeks``, ``deal_sigma``).
The likelihood takes in what the closed deals' median leaves out: a deal
still open adds the chance of lasting past its age at the export's end
(right censoring); where closes start long after the engagements (the public
export closes nothing before 2017-03-01 though it engages from 2016-10-20,
``sim.crm.late_closes``), a deal engaged before the first close enters at its
age on that day (left truncation, "late entry": one that closed before then
would not have been logged); a close on a day is the chance of closing within
that day (dates have day resolution, so a same-day close is not a cycle of
zero). Klein, J. P. and Moeschberger, M. L. (2003), "Survival Analysis:
Techniques for Censored and Truncated Data", 2nd ed., Springer, ch. 3.

Beside it, the product-limit (Kaplan-Meier) median with the same censoring
and late entry, which assumes no shape: where the two differ, the cycles are
not lognormal (the public export's have two humps), and the fit's median is
where the lognormal that best fits the whole curve puts it, not the data's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd
from scipy import optimize, special

from sim.crm.notes import rows_named
from sim.format import counted
from sim.scenario import MAX_SIGMA, Segment

#: The fewest closed deals with dates a cycle's spread is fitted from: one deal's cycle says nothing of a spread.
FEW_CYCLES = 2
#: A fitted median this many times the product-limit one, or less than its inverse, is said: the cycles are not
#: lognormal [A] (the public export's: 25 days against 34; 29 against 57 at the backtest's cut-off).
SHAPE_RATIO = 1.25
#: A last close date this long after every other is read as a date typed wrong, not the export's end [A].
STRAY_DAYS = 31
#: The bounds of a fit: a median of half a day to 104 weeks (the longest cycle_weeks a scenario names), a spread
#: of 0.01 to the most a scenario names. A fit that ends at one is no fit: the data do not place it.
MEDIAN_DAYS = (0.5, 728.0)
SIGMAS = (0.01, MAX_SIGMA)


@dataclass(frozen=True)
class CycleFit:
    """A lognormal sales cycle: ``median_days`` (days) and ``sigma`` (log scale), from ``closed`` deals with both
    dates, ``censored`` deals still open at the export's end and, of both, ``late`` deals entered at their age on
    the first logged close; ``product_limit_days``: the product-limit median with the same censoring and late
    entry (NaN where the curve stays above a half); ``stale`` open deals older than the ``longest_days`` closed
    cycle. ``unfitted``: why there is no fit (too few closed deals, or it ended at a bound), the median then the
    closed deals' and the spread the model's default [A]."""

    median_days: float
    sigma: float
    closed: int
    censored: int
    late: int
    product_limit_days: float
    longest_days: float  # the longest closed cycle
    stale: int  # open deals older than it
    stale_rows: str  # their rows in the file ("rows 12, 40, ... and 9 more"; "" where the deals have none)
    unfitted: str = ""
    clipped: bool = False  # an unfitted median past the longest cycle a scenario names, cut to it


def seen_until(pipe: pd.DataFrame, cutoff: date | None) -> pd.Timestamp:
    """The last day an export saw its deals, where open ones are censored: the cut-off, else its last engage or
    close date, less any last close dates more than ``STRAY_DAYS`` after every other (one close date typed a
    year late had moved every open deal's age by a year)."""
    if cutoff is not None:
        return pd.Timestamp(cutoff)
    closes = list(pipe["close_date"].dropna().drop_duplicates().sort_values())
    while len(closes) > 1 and closes[-1] - closes[-2] > pd.Timedelta(days=STRAY_DAYS):
        closes.pop()
    last = pipe["engage_date"].max()
    return max(last, closes[-1]) if closes else last


@dataclass(frozen=True)
class _Sample:
    """A fit's deals as arrays: ``done`` closed; ``lo``, ``hi`` the log of a closed deal's cycle interval
    [d, d + 1) days (``lo`` the log age of an open one); ``late`` entered late, at log age ``entry``."""

    done: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    late: np.ndarray
    entry: np.ndarray
    days: np.ndarray  # a closed deal's cycle, an open one's age, whole days
    entry_days: np.ndarray
    rows: pd.DataFrame  # the deals used, with their file rows where the export has them (column ``row``)


def _sample(deals: pd.DataFrame, end: pd.Timestamp, logged_from: pd.Timestamp | None) -> _Sample:
    """The arrays of ``deals`` for :func:`fit_cycle`: a deal closed after ``end`` is open on it, as with a cut-off
    (whether a deal is censored must not depend on how it ended: 102 closes after the shared export's last
    engagement had been counted as closes, open deals of the same age as open)."""
    e, c = deals["engage_date"], deals["close_date"]
    closed = (deals["status"] != "open") & c.notna() & e.notna() & (c <= end)
    used = closed | ((deals["status"] == "open") | c.notna()) & e.notna() & (e <= end)
    e, c, done = e[used], c[used], closed[used].to_numpy()
    rows = deals.loc[used, deals.columns.intersection(["row"])]
    day = np.timedelta64(1, "D")
    days = np.where(done, (c - e).to_numpy() / day, (end - e).to_numpy() / day).astype(float)
    entry = np.zeros(days.size) if logged_from is None else np.maximum((logged_from - e).to_numpy() / day, 0.0)
    late = entry > 0
    with np.errstate(divide="ignore"):  # a same-day close: its interval starts at a cycle of 0 (log -inf)
        lo = np.log(np.where(done, days, np.maximum(days, 0.5)))
    hi = np.log(np.where(done, days + 1.0, np.inf))
    return _Sample(done, lo, hi, late, np.log(np.where(late, entry, 1.0)), days, entry, rows)


def _log_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(Phi(b) - Phi(a)) for a < b, without cancellation in either tail."""
    upper = a > 0  # in the upper tail the survival functions differ by more digits than the distributions
    hi = np.where(upper, special.log_ndtr(-a), special.log_ndtr(b))
    lo = np.where(upper, special.log_ndtr(-b), special.log_ndtr(a))
    return hi + np.log1p(-np.exp(np.minimum(lo - hi, -1e-300)))


def _minus_log_likelihood(theta: np.ndarray, s: _Sample) -> float:
    """Minus the log-likelihood of ``s`` under a lognormal of log median ``theta[0]`` and log spread ``theta[1]``."""
    mu, sigma = theta[0], math.exp(theta[1])
    z_lo = (s.lo - mu) / sigma
    with np.errstate(divide="ignore"):
        ll = _log_between(z_lo[s.done], (s.hi[s.done] - mu) / sigma).sum() + special.log_ndtr(-z_lo[~s.done]).sum()
    ll -= special.log_ndtr(-(s.entry[s.late] - mu) / sigma).sum()
    return -float(ll)


def log_likelihood(
    deals: pd.DataFrame, end: pd.Timestamp, logged_from: pd.Timestamp | None, median_days: float, sigma: float
) -> float:
    """The log-likelihood :func:`fit_cycle` maximises, of ``deals`` under a lognormal of ``median_days`` and
    ``sigma``."""
    return -_minus_log_likelihood(np.array([math.log(median_days), math.log(sigma)]), _sample(deals, end, logged_from))


def _product_limit_median(s: _Sample) -> float:
    """The cycle, in whole days, at which the product-limit survival curve first falls to a half (NaN: never).
    At risk at t: the deals entered by t, less those ended before it (a deal never ends before it enters)."""
    t, died = np.unique(s.days[s.done], return_counts=True)
    at_risk = np.searchsorted(np.sort(s.entry_days), t, "right") - np.searchsorted(np.sort(s.days), t, "left")
    half = np.flatnonzero(np.cumprod(1.0 - died / at_risk) <= 0.5)
    return float(t[half[0]]) if half.size else math.nan


def fit_cycle(deals: pd.DataFrame, end: pd.Timestamp, logged_from: pd.Timestamp | None) -> CycleFit | None:
    """The lognormal cycle of ``deals`` (an export's cleaned pipeline: ``engage_date``, ``close_date``,
    ``status``): the closed ones with both dates close on theirs, the open ones are censored at ``end`` (see
    :func:`seen_until`), and where closes were logged only from ``logged_from`` (``sim.crm.late_closes``), one
    engaged before it enters at its age on it. A closed deal without a close_date says nothing of its cycle and
    is left out. None with no closed deal with dates; ``unfitted`` with fewer than ``FEW_CYCLES`` or a fit that
    ends at a bound."""
    s = _sample(deals, end, logged_from)
    if not s.done.any():
        return None
    closed = s.days[s.done]
    # Until fitted, the closed deals' median (a close is mid-day of its day) with the model's default spread.
    median = float(np.median(closed) + 0.5)
    stale = ~s.done & (s.days > closed.max())  # open deals older than every closed cycle
    unfitted = CycleFit(
        median_days=float(np.clip(median, *MEDIAN_DAYS)),
        clipped=median > MEDIAN_DAYS[1],
        sigma=Segment.model_fields["deal_sigma"].default,
        closed=closed.size,
        censored=int((~s.done).sum()),
        late=int(s.late.sum()),
        product_limit_days=_product_limit_median(s),
        longest_days=float(closed.max()),
        stale=int(stale.sum()),
        stale_rows=rows_named(s.rows[stale]) if "row" in s.rows else "",
    )
    if closed.size < FEW_CYCLES:
        return replace(unfitted, unfitted=f"fewer than {FEW_CYCLES} closed deals")
    start = np.log(closed + 0.5)
    bounds = np.log([MEDIAN_DAYS, SIGMAS])
    guess = np.clip([start.mean(), math.log(max(start.std(), 0.1))], *bounds.T)
    # Two searches, the better kept: either alone stops short of the best on a few small exports (a review's).
    fits = [
        optimize.minimize(_minus_log_likelihood, guess, (s,), method=m, bounds=bounds, options=o)
        for m, o in (("Nelder-Mead", {"xatol": 1e-6, "fatol": 1e-9}), ("L-BFGS-B", {}))
    ]
    x = min(fits, key=lambda f: f.fun).x
    if np.isclose(x, bounds.T, atol=1e-4).any():
        return replace(unfitted, unfitted="the lognormal fit ended at a bound")
    return replace(unfitted, median_days=float(math.exp(x[0])), sigma=float(math.exp(x[1])))


def cycle_notes(fit: CycleFit, where: str) -> list[str]:
    """The data checks on the team's cycle ``fit`` (of ``where``, the pipeline): no fit, a lognormal far from the
    product-limit median, open deals older than every closed cycle."""
    if fit.unfitted:
        clipped = f" (clipped to {MEDIAN_DAYS[1]:g}, the longest a scenario names)" if fit.clipped else ""
        return [
            f"{where}: sales cycle: {fit.unfitted}: the closed deals' median, {fit.median_days:g} days{clipped}, "
            f"with the model's default spread, deal_sigma {fit.sigma:g} [A]"
        ]
    notes = []
    # The product-limit median t is a close within day t: its middle, t + 0.5 days, against the fit's.
    ratio = fit.median_days / (fit.product_limit_days + 0.5)
    if math.isfinite(ratio) and not 1 / SHAPE_RATIO <= ratio <= SHAPE_RATIO:
        notes.append(
            f"{where}: sales cycle: half the deals close within {fit.product_limit_days:.0f} days (counting the "
            "open ones as still open), but the fitted cycle the scenario draws from, a smooth curve of median "
            f"{fit.median_days:.0f} days (spread {fit.sigma:.2f}), puts its middle elsewhere: the cycles are not one "
            "smooth curve (two groups, quick deals and slow ones?), and the curve is the one that best matches all "
            "of them; read the backtest for what it gets right (docs/validation.md)"
        )
    if fit.stale:
        notes.append(
            f"{where}: sales cycle: {counted(fit.stale, 'open deal')} at an account "
            f"{'is' if fit.stale == 1 else 'are'} older than the longest closed cycle ({fit.longest_days:g} days), "
            f"of {counted(fit.censored, 'open deal')}: counted as still open, they lengthen the cycle and widen its "
            "spread (deal_sigma); if they are stale entries rather than live deals, close or remove them in the "
            f"export{f' ({fit.stale_rows})' if fit.stale_rows else ''}"
        )
    return notes
