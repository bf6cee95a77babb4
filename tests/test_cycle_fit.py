"""The sales cycle fitted from an export (sim/crm/cycle_fit.py): a lognormal by maximum likelihood that takes in
the deals still open (censored) and those engaged before the export's first close (entered late)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.crm.cycle_fit import FEW_CYCLES, MEDIAN_DAYS, fit_cycle, seen_until
from sim.scenario import Segment

DAY0 = pd.Timestamp("2016-01-01")
MEDIAN, SIGMA = 30.0, 1.0  # days, log scale: the cycles the exports below are drawn from


def export(n: int, engaged_over: int, logged_from: int, end: int, seed: int) -> tuple[pd.DataFrame, pd.Timestamp]:
    """``n`` deals engaged uniformly over days 0..``engaged_over`` - 1 with lognormal cycles (whole days), as an
    export sees them on day ``end``: closes before day ``logged_from`` were never logged (those deals are missing),
    and a deal not closed by ``end`` is open."""
    rng = np.random.default_rng(seed)
    engage = DAY0 + pd.to_timedelta(rng.integers(0, engaged_over, n), unit="D")
    cycle = np.floor(MEDIAN * np.exp(SIGMA * rng.standard_normal(n)))
    close = engage + pd.to_timedelta(cycle, unit="D")
    stop = DAY0 + pd.Timedelta(days=end)
    closed = close < stop
    deals = pd.DataFrame(
        {"engage_date": engage, "close_date": close.where(closed), "status": np.where(closed, "won", "open")}
    )
    return deals[close >= DAY0 + pd.Timedelta(days=logged_from)].reset_index(drop=True), stop


def naive_median(deals: pd.DataFrame) -> float:
    closed = deals[deals["status"] != "open"]
    return float((closed["close_date"] - closed["engage_date"]).dt.days.median())


def tolerance(closed: int) -> float:
    """Four standard errors of the fitted log median, sigma / sqrt(n) with n the closed deals (censoring and
    late entry widen it a little; the exports below keep most deals closed)."""
    return 4 * SIGMA / math.sqrt(closed)


@pytest.mark.parametrize(
    ("what", "engaged_over", "logged_from", "end", "naive_is"),
    [
        # Seen soon after most engagements: the slow deals are still open, the closed ones' median is short.
        ("censored", 120, 0, 120, "short"),
        # Closes logged only from day 300, engagements from day 0 (as the public export: 2017-03-01 against
        # 2016-10-20): the deals present from before then are the slow ones, the closed median is long.
        ("late entry", 400, 300, 2000, "long"),
        # Both at once.
        ("both", 500, 200, 500, "either"),
    ],
)
def test_cycle_fit_recovers_the_cycle_a_naive_median_misses(what, engaged_over, logged_from, end, naive_is) -> None:
    deals, stop = export(6000, engaged_over, logged_from, end, seed=7)
    fit = fit_cycle(deals, stop)
    assert fit is not None and fit.fitted
    tol = tolerance(fit.closed)
    assert abs(math.log(fit.median_days / MEDIAN)) < tol, what
    assert abs(fit.sigma - SIGMA) < tol * math.sqrt(2) + 0.02, what  # the spread's SE is about sigma / sqrt(2n)
    naive = math.log(naive_median(deals) / MEDIAN)
    if naive_is == "short":
        assert naive < -2 * tol, what
    elif naive_is == "long":
        assert naive > 2 * tol, what
    # What the fit counted: every deal, closed or open; late, those engaged before the first close.
    assert fit.closed + fit.censored == len(deals)
    assert fit.censored == int((deals["status"] == "open").sum())
    first = deals.loc[deals["status"] != "open", "close_date"].min()
    assert fit.late == int((deals["engage_date"] < first).sum())


def test_cycle_fit_reads_same_day_closes_as_within_a_day() -> None:
    # A close on the engage day is a cycle under a day, not of zero (whose log would end the fit).
    deals = pd.DataFrame(
        {
            "engage_date": pd.to_datetime(["2017-01-02"] * 4),
            "close_date": pd.to_datetime(["2017-01-02", "2017-01-02", "2017-01-05", "2017-01-30"]),
            "status": ["won", "lost", "won", "won"],
        }
    )
    fit = fit_cycle(deals, pd.Timestamp("2017-02-01"))
    assert fit is not None and fit.fitted
    assert MEDIAN_DAYS[0] <= fit.median_days < 3 and 0.5 < fit.sigma < 5
    assert math.isfinite(fit.median_days) and math.isfinite(fit.sigma)


def test_cycle_fit_with_too_few_closed_deals() -> None:
    open_deal = {"engage_date": pd.Timestamp("2017-01-02"), "close_date": pd.NaT, "status": "open"}
    # No closed deal with dates (one closed without a close_date says nothing of its cycle): nothing to fit.
    undated = {"engage_date": pd.Timestamp("2017-01-02"), "close_date": pd.NaT, "status": "won"}
    assert fit_cycle(pd.DataFrame([open_deal, undated]), pd.Timestamp("2017-06-01")) is None
    # One: its cycle (to mid-day of its close) is the median, the spread the model's default [A].
    one = {"engage_date": pd.Timestamp("2017-01-02"), "close_date": pd.Timestamp("2017-01-12"), "status": "won"}
    fit = fit_cycle(pd.DataFrame([open_deal, undated, one]), pd.Timestamp("2017-06-01"))
    assert FEW_CYCLES == 2
    assert fit is not None and not fit.fitted
    assert (fit.median_days, fit.sigma) == (10.5, Segment.model_fields["deal_sigma"].default)
    assert (fit.closed, fit.censored) == (1, 1)


def test_an_export_is_seen_until_its_cutoff_or_its_last_date() -> None:
    deals = pd.DataFrame(
        {
            "engage_date": pd.to_datetime(["2017-01-02", "2017-03-01"]),
            "close_date": pd.to_datetime(["2017-04-10", None]),
            "status": ["won", "open"],
        }
    )
    assert seen_until(deals, None) == pd.Timestamp("2017-04-10")
    assert seen_until(deals, pd.Timestamp("2017-02-01").date()) == pd.Timestamp("2017-02-01")
    # The open deal is censored there: seen longer, a longer median.
    short = fit_cycle(pd.concat([deals] * 3, ignore_index=True), pd.Timestamp("2017-03-02"))
    long = fit_cycle(pd.concat([deals] * 3, ignore_index=True), pd.Timestamp("2017-12-31"))
    assert short is not None and long is not None and long.median_days > short.median_days
