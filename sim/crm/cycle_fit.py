"""The sales cycle of an export's deals: a lognormal fitted by maximum likelihood, the deals still open
censored where the export stops seeing them, and the deals engaged before its first close entered late.

Why not the median of the closed deals: it counts only the deals that closed
in time to be seen, so the slow ones still open at the cut-off are missing
from it (a bias towards short cycles), and an export that logs no close
before some date holds the deals engaged before it only if they lasted past
it (a bias towards long ones: the public export closes nothing before
2017-03-01 though it engages from 2016-10-20, docs/validation.md). The
likelihood takes both in: a deal still open adds the chance of lasting past
its age at the end (right censoring), a deal engaged before the first close
enters at its age on that date (left truncation, "late entry": a deal that
closed before then could not have been logged), and a close on a day is the
chance of closing within that day (dates have day resolution, so a
same-day close is not a cycle of zero). Klein, J. P. and Moeschberger, M. L.
(2003), "Survival Analysis: Techniques for Censored and Truncated Data",
2nd ed., Springer, ch. 3 (censoring and truncation in the likelihood).

The lognormal gives the model its two numbers: the median cycle
(``cycle_weeks``) and the spread of each deal's cycle around it
(``deal_sigma``), which is how the model draws a deal's size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import optimize, special

from sim.scenario import MAX_SIGMA, Segment

#: The fewest closed deals with dates a cycle's spread is fitted from: one deal's cycle says nothing of a spread.
FEW_CYCLES = 2
#: The bounds of a fit: a median of half a day to ten years, a spread of 0.01 to the most a scenario names.
MEDIAN_DAYS = (0.5, 3652.5)
SIGMAS = (0.01, MAX_SIGMA)


@dataclass(frozen=True)
class CycleFit:
    """A lognormal sales cycle: ``median_days`` (days) and ``sigma`` (log scale), fitted from ``closed`` deals
    with both dates, ``censored`` deals still open at the end of what the export saw and, of both, ``late``
    deals engaged before the export's first close (entered at their age on it). ``fitted`` False: too few closed
    deals to fit a spread, which is the model's default [A]."""

    median_days: float
    sigma: float
    closed: int
    censored: int
    late: int
    fitted: bool = True


def seen_until(pipe: pd.DataFrame, cutoff: date | None) -> pd.Timestamp:
    """The last day an export saw its deals: the cut-off, else its latest engage or close date."""
    if cutoff is not None:
        return pd.Timestamp(cutoff)
    return pd.concat([pipe["engage_date"], pipe["close_date"]]).max()


def _log_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(Phi(b) - Phi(a)) for a < b, without cancellation in either tail."""
    upper = a > 0  # in the upper tail the survival functions differ by more digits than the distributions
    hi = np.where(upper, special.log_ndtr(-a), special.log_ndtr(b))
    lo = np.where(upper, special.log_ndtr(-b), special.log_ndtr(a))
    return hi + np.log1p(-np.exp(np.minimum(lo - hi, -1e-300)))


def fit_cycle(deals: pd.DataFrame, end: pd.Timestamp) -> CycleFit | None:
    """The lognormal cycle of ``deals`` (an export's cleaned pipeline: ``engage_date``, ``close_date``,
    ``status``): the closed ones with both dates close on theirs, the open ones are censored at ``end``, the last
    day the export saw (the cut-off, or its last date), and any engaged before the first close enters at its age
    on that day. A closed deal without a close_date says nothing of its cycle and is left out. None with no
    closed deal with dates; with fewer than ``FEW_CYCLES``, their median with the model's default spread [A]
    (``fitted`` False)."""
    e, c = deals["engage_date"], deals["close_date"]
    done = (deals["status"] != "open") & c.notna() & e.notna()
    used = done | ((deals["status"] == "open") & e.notna())
    if not done.any():
        return None
    if done.sum() < FEW_CYCLES:
        days = float(np.clip(((c - e)[done].dt.days + 0.5).median(), *MEDIAN_DAYS))  # mid-day of the close
        default = Segment.model_fields["deal_sigma"].default
        return CycleFit(days, default, int(done.sum()), int((used & ~done).sum()), 0, fitted=False)
    e, c, done = e[used], c[used], done[used].to_numpy()
    day = np.timedelta64(1, "D")
    days = np.where(done, (c - e).to_numpy() / day, (end - e).to_numpy() / day).astype(float)
    entry = np.maximum((c[done].min() - e).to_numpy() / day, 0.0).astype(float)
    late = entry > 0
    # A close on day d after engaging: a cycle in [d, d + 1) days; an open deal lasted at least its age.
    with np.errstate(divide="ignore"):  # a same-day close: the interval starts at a cycle of 0 (log -inf)
        log_lo = np.log(np.where(done, days, np.maximum(days, 0.5)))
    log_hi = np.log(days[done] + 1.0)
    log_entry = np.log(np.where(late, entry, 1.0))

    def minus_log_likelihood(theta: np.ndarray) -> float:
        mu, sigma = theta[0], math.exp(theta[1])
        z_lo = (log_lo - mu) / sigma
        with np.errstate(divide="ignore"):
            ll = _log_between(z_lo[done], (log_hi - mu) / sigma).sum() + special.log_ndtr(-z_lo[~done]).sum()
        ll -= special.log_ndtr(-(log_entry[late] - mu) / sigma).sum()
        return -float(ll)

    start = np.log(days[done] + 0.5)
    guess = np.array([start.mean(), math.log(max(start.std(), 0.1))])
    bounds = [tuple(np.log(MEDIAN_DAYS)), tuple(np.log(SIGMAS))]
    guess = np.clip(guess, *np.array(bounds).T)
    fit = optimize.minimize(
        minus_log_likelihood, guess, method="Nelder-Mead", bounds=bounds, options={"xatol": 1e-6, "fatol": 1e-9}
    )
    return CycleFit(
        median_days=float(math.exp(fit.x[0])),
        sigma=float(math.exp(fit.x[1])),
        closed=int(done.sum()),
        censored=int((~done).sum()),
        late=int(late.sum()),
    )
