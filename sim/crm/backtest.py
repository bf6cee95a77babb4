"""Backtesting a calibration: calibrate on a CRM export up to a cut-off, simulate on, compare with the export.

Calibrate on what was known at the cut-off, simulate the quarters after it once
per seed, and compare with what the export says happened in them.

    read_export -> clean(cutoff) -> calibrate -> simulate Q quarters x seeds
                -> clean(no cutoff) -> the opportunities engaged in the window -> compare

Both sides are the same cohort: opportunities that arose (were engaged) in
the window ``[cutoff, cutoff + Q x 13 weeks)`` and what became of them by the
window's end. The simulation starts with an empty book, so every deal it closes
arose in the window; deals the real team carried into the window are left out
on the real side for the same reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from sim.clock import WEEKS_PER_QUARTER
from sim.crm.calibration import calibrate, units_for
from sim.crm.cleaning import Cleaned, clean
from sim.crm.read import Export
from sim.crm.scenario_file import check_scenario_text, scenario_toml
from sim.errors import InputError
from sim.policies import Policy
from sim.records import ALL
from sim.run import run
from sim.scenario import Scenario

#: What is compared, in this order: (name, unit); each is an :class:`Outcome` field or property.
MEASURES: tuple[tuple[str, str], ...] = (
    ("opportunities", "count"),
    ("won_deals", "count"),
    ("lost_deals", "count"),
    ("win_rate", "share"),
    ("won_value", "currency"),
    ("cycle_weeks", "weeks"),
)
INTERVAL = 0.95  # the simulated range reported: this central share of the seeds' results


@dataclass(frozen=True)
class Outcome:
    """One realisation of the window: counts of the cohort and what became of it.

    opportunities: arose in the window (CRM: engaged, with a known account;
    model: created); won_deals, lost_deals: closed by the window's end;
    won_value: close value of the won deals (currency); cycle_weeks: mean
    engage-to-close time of the won and lost deals, in weeks.
    """

    opportunities: float
    won_deals: float
    lost_deals: float
    won_value: float
    cycle_weeks: float

    @property
    def win_rate(self) -> float:
        decided = self.won_deals + self.lost_deals
        return self.won_deals / decided if decided else math.nan

    def value(self, measure: str) -> float:
        return float(getattr(self, measure))


@dataclass(frozen=True)
class Backtest:
    """The comparison, and what it was made from."""

    cutoff: date
    end: date
    quarters: int
    units: int
    scenario: Scenario
    scenario_text: str
    notes: tuple[str, ...]
    actual: Outcome
    simulated: tuple[Outcome, ...]  # one per seed
    seeds: tuple[int, ...]

    def table(self) -> pd.DataFrame:
        """measure, unit, actual, simulated mean, its seed interval, the error of the mean and whether
        the actual value lies inside the interval."""
        rows = []
        lo_q, hi_q = (1 - INTERVAL) / 2, 1 - (1 - INTERVAL) / 2
        for measure, unit in MEASURES:
            sims = np.array([o.value(measure) for o in self.simulated])
            actual = self.actual.value(measure)
            mean = float(np.nanmean(sims)) if np.isfinite(sims).any() else math.nan
            low, high = (float(np.nanquantile(sims, q)) for q in (lo_q, hi_q))
            rows.append(
                {
                    "measure": measure,
                    "unit": unit,
                    "actual": actual,
                    "simulated_mean": mean,
                    "simulated_low": low,
                    "simulated_high": high,
                    "error": (mean - actual) / actual if actual else math.nan,
                    "actual_inside": bool(low <= actual <= high),
                }
            )
        return pd.DataFrame(rows)

    def seed_table(self) -> pd.DataFrame:
        """One row per seed: ``seed``, then each measure's simulated value (MEASURES' names, in order)."""
        return pd.DataFrame(
            [
                {"seed": seed, **{m: outcome.value(m) for m, _ in MEASURES}}
                for seed, outcome in zip(self.seeds, self.simulated, strict=True)
            ]
        )


def window_end(cutoff: date, quarters: int) -> date:
    """The first day after ``quarters`` model quarters (WEEKS_PER_QUARTER weeks each) from ``cutoff``."""
    return cutoff + timedelta(weeks=WEEKS_PER_QUARTER * quarters)


def actual_outcome(cleaned: Cleaned, start: date, end: date) -> Outcome:
    """What the export says became of the opportunities engaged in ``[start, end)``, as of ``end``.

    ``cleaned`` must be cleaned without a cut-off (its statuses are final).
    Opportunities without a known account are left out, as in the calibration.
    """
    pipe = cleaned.pipeline
    engaged = pipe["engage_date"]
    cohort = pipe[pipe["known"] & (engaged >= pd.Timestamp(start)) & (engaged < pd.Timestamp(end))]
    if cohort.empty:
        raise InputError(
            [f"{cleaned.files['pipeline']}: no opportunity engaged from {start} to {end}: nothing to compare"]
        )
    closed_in_time = cohort["close_date"].notna() & (cohort["close_date"] < pd.Timestamp(end))
    won = cohort[closed_in_time & (cohort["status"] == "won")]
    lost = cohort[closed_in_time & (cohort["status"] == "lost")]
    decided = pd.concat([won, lost])
    cycle_days = (decided["close_date"] - decided["engage_date"]).dt.days
    return Outcome(
        opportunities=float(len(cohort)),
        won_deals=float(len(won)),
        lost_deals=float(len(lost)),
        won_value=float(won["close_value"].sum()),
        cycle_weeks=float(cycle_days.mean() / 7) if len(decided) else math.nan,
    )


def simulated_outcome(metrics: pd.DataFrame) -> Outcome:
    """The same figures from one run's tidy metrics (segment ``all``, summed over quarters)."""
    m = metrics[metrics["segment"] == ALL]
    by = m.pivot_table(index="quarter", columns="metric", values="value", aggfunc="first")
    won, lost = by["opps_won"], by["opps_lost"]
    decided = won + lost
    # The quarters' mean cycles, weighted by the deals each closed, are the run's mean cycle.
    cycle = float((by["cycle_weeks_mean"] * decided).sum() / decided.sum()) if decided.sum() > 0 else math.nan
    value = by["won_value_new_logo"] + by["won_value_expansion"] + by["retained_spend"]
    return Outcome(
        opportunities=float(by["opps_created"].sum()),
        won_deals=float(won.sum()),
        lost_deals=float(lost.sum()),
        won_value=float(value.sum()),
        cycle_weeks=cycle,
    )


def auto_units(cleaned: Cleaned) -> int:
    """Buying units per account that bring every segment's arrivals within BERNOULLI_SHORTFALL (see units_for)."""
    one = calibrate(cleaned)
    return max(units_for(s.rate_per_year) for s in one.segments)


def backtest(
    export: Export,
    cutoff: date,
    quarters: int,
    seeds: Sequence[int],
    units: int | None = None,
    policy: Callable[[Scenario], Policy] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Backtest:
    """Calibrate on what was known at ``cutoff``, simulate ``quarters`` after it once per seed, compare.

    ``units`` None picks them with :func:`auto_units`; ``policy`` builds the
    policy for the calibrated scenario (default: the scenario's own).
    """
    cleaned_cut, notes = clean(export, cutoff)
    k = auto_units(cleaned_cut) if units is None else units
    calibration = calibrate(cleaned_cut, units=k)
    all_notes = [*notes, *calibration.notes]
    text, data = scenario_toml(calibration, all_notes, "backtest", f"covsim backtest --cutoff {cutoff}")
    scenario = check_scenario_text(text, data, "backtest")
    scenario = scenario.with_overrides(f"{scenario.name} ({quarters} quarters from {cutoff})", quarters=quarters)

    end = window_end(cutoff, quarters)
    final, _ = clean(export, None)
    actual = actual_outcome(final, cutoff, end)

    simulated = []
    for i, seed in enumerate(seeds):
        result = run(scenario, policy(scenario) if policy else None, seed)
        simulated.append(simulated_outcome(result.metrics))
        if progress:
            progress(i + 1, len(seeds))
    return Backtest(
        cutoff=cutoff,
        end=end,
        quarters=quarters,
        units=k,
        scenario=scenario,
        scenario_text=text,
        notes=tuple(all_notes),
        actual=actual,
        simulated=tuple(simulated),
        seeds=tuple(seeds),
    )


def summary_lines(bt: Backtest) -> list[str]:
    """The comparison as a fixed-width table with a one-line reading per measure."""
    t = bt.table()
    lines = [
        f"window {bt.cutoff} .. {bt.end - timedelta(days=1)} ({bt.quarters} quarters of {WEEKS_PER_QUARTER} weeks); "
        f"{len(bt.seeds)} seeds; {bt.units} buying unit(s) per account",
        "",
        f"{'measure':<14} {'actual':>12} {'simulated':>12} {f'{INTERVAL:.0%} of seeds':>25} {'error':>8}  inside",
        "-" * 82,
    ]
    for r in t.itertuples():
        fmt = _formatter(r.unit)
        interval = f"{fmt(r.simulated_low)} .. {fmt(r.simulated_high)}"
        error = f"{r.error:+.1%}" if math.isfinite(r.error) else "-"
        lines.append(
            f"{r.measure:<14} {fmt(r.actual):>12} {fmt(r.simulated_mean):>12} {interval:>25} {error:>8}  "
            f"{'yes' if r.actual_inside else 'no'}"
        )
    lines.append("error: (simulated mean - actual) / actual; inside: the actual value lies in the seeds' interval.")
    return lines


def _formatter(unit: str) -> Callable[[float], str]:
    """How the summary writes a value of ``unit``: shares as percentages, weeks with two decimals, the rest whole."""
    if unit == "share":
        return lambda v: f"{v:.1%}" if math.isfinite(v) else "-"
    if unit == "weeks":
        return lambda v: f"{v:.2f}" if math.isfinite(v) else "-"
    return lambda v: f"{v:,.0f}" if math.isfinite(v) else "-"
