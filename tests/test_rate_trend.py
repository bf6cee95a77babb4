"""Opportunity rates of an export whose engagements grew: the data check that says so (sim/crm/rate_trend.py)
and ``--rates-from``, which counts the rates from a later day."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from sim import crm
from sim.crm.rate_trend import trend_note
from tests.test_crm import DATA, ROOT, calibrate_args, needs_data
from tests.test_crm_formats import pipeline, small_export

START = date(2017, 1, 2)


def ramp(tmp_path: Path, early: int, late: int) -> tuple[Path, Path, Path]:
    """Acme's export of won deals over 240 days: one engaged every ``early`` days for the first 120, every
    ``late`` days for the last 120 (each closing 10 days on)."""
    rows = []
    for start, step in ((0, early), (120, late)):
        for d in range(start, start + 120, step):
            engaged = START + timedelta(days=d)
            rows.append((str(engaged), str(engaged + timedelta(days=10)), "100"))
    accounts, teams = small_export(tmp_path, "account,sector,revenue\nAcme,tech,1200\n")
    return accounts, pipeline(tmp_path, rows), teams


def calibrate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim.cli", "calibrate", *args], capture_output=True, text=True,
                          cwd=ROOT)  # fmt: skip


def trend_notes(notes: list[str] | tuple[str, ...]) -> list[str]:
    return [n for n in notes if "engagements at an account ran at" in n]


def test_rate_trend_is_said_when_the_last_quarter_runs_far_from_the_average(tmp_path: Path) -> None:
    # 30 deals in the first 120 days, 120 in the last 120 (engaged on days 0..239; the last on day 239).
    accounts, pipe, teams = ramp(tmp_path, early=4, late=1)
    cleaned, _ = crm.clean(crm.read_export(accounts, pipe, teams))
    cal = crm.calibrate(cleaned)
    (note,) = trend_notes(cal.notes)
    # Last 91 days: days 149..239, 91 deals -> 365 a year; the 240 days: 150 deals -> 228 a year.
    assert note.startswith(
        "pipeline.csv: engagements at an account ran at 365 a year over the last 91 days (2017-05-31..2017-08-29), "
        "against 228 over the 240 days the rates count from 2017-01-02: the rates are that average, below the "
        "team's recent rate (by month: 2017-01 8, 2017-02 7, 2017-03 8, 2017-04 7, 2017-05 30, 2017-06 30, "
        "2017-07 31, 2017-08 29)"
    )
    assert "--rates-from DATE counts the rates from a later date" in note
    assert cal.segments[0].rate_per_year == pytest.approx(150 / (240 / 365.25))
    # Counted from day 120 (2017-05-02): 120 deals over 120 days, and the stretch too short to judge a trend in.
    late = crm.calibrate(cleaned, rates_from=date(2017, 5, 2))
    assert late.team.rates_from == "2017-05-02" and late.team.rate_years == pytest.approx(120 / 365.25)
    assert late.segments[0].engaged == 120
    assert late.segments[0].rate_per_year == pytest.approx(120 / (120 / 365.25))
    assert not trend_notes(late.notes)
    # Other yearly figures keep the whole span: the won value a year, and so the potential.
    assert late.segments[0].potential_median == cal.segments[0].potential_median
    assert late.team.span_years == cal.team.span_years
    # Closes start 10 days after the first engagement, the cycle's length: no late logging, won value a year over
    # the whole span.
    assert cal.team.won_years == cal.team.span_years


def test_rate_trend_is_not_said_of_a_steady_export_or_a_short_one(tmp_path: Path) -> None:
    # Steady: every second day throughout.
    accounts, pipe, teams = ramp(tmp_path, early=2, late=2)
    assert not trend_notes(crm.calibrate(crm.clean(crm.read_export(accounts, pipe, teams))[0]).notes)
    # Shrinking is said too, the rates then above the recent rate.
    accounts, pipe, teams = ramp(tmp_path, early=1, late=4)
    (note,) = trend_notes(crm.calibrate(crm.clean(crm.read_export(accounts, pipe, teams))[0]).notes)
    assert "the rates are that average, above the team's recent rate" in note
    assert note.endswith(
        "if the last months are an export cut short (deals not yet entered) rather than demand falling, a --cutoff "
        "before them leaves them out (docs/scenario-format.md 8.4)"
    )
    # Under two quarters of engagements: a quarter against the average is mostly itself.
    rows = [(str(START + timedelta(days=d)), str(START + timedelta(days=d + 5)), "100") for d in range(0, 150)]
    rows = rows[:30:3] + rows[30:]
    short = pipeline(tmp_path, rows, "short.csv")
    assert not trend_notes(crm.calibrate(crm.clean(crm.read_export(accounts, short, teams))[0]).notes)


def test_rates_from_writes_its_counted_span_and_command(tmp_path: Path) -> None:
    accounts, pipe, teams = ramp(tmp_path, early=4, late=1)
    out = tmp_path / "ramp.toml"
    files = ["--accounts", str(accounts), "--pipeline", str(pipe), "--teams", str(teams)]
    result = calibrate(*files, "--rates-from", "2017-05-02", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "engage dates 2017-01-02..2017-08-29 (0.657 years); rates counted from 2017-05-02 (0.329 years)" in (
        result.stdout
    )
    text = out.read_text(encoding="utf-8")
    assert "--rates-from 2017-05-02 --out" in text.splitlines()[1]
    assert (
        "150 of them engaged at an account of the file, which the rates count from 2017-05-02 (0.329 years)" not in text
    )
    assert "120 of them engaged at an account of the file, which the rates count from 2017-05-02 (0.329 years)" in text
    assert "the span a yearly figure is computed over where its comment names no other" in text
    assert (
        "# pipeline.csv: 120 engaged opportunities with an account in the segment from 2017-05-02 / (1 accounts x "
        in (text)
    )
    rate = tomllib.loads(text)["population"]["segments"][0]["expansion"]["rate_per_year"]
    assert rate == pytest.approx(365.25, rel=1e-3)


TOO_LATE = "give a day on or after the first that leaves at least 91 days to count the rates over [A], a season's "


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("2017-13-01", "--rates-from: '2017-13-01' is not a date (there is no month 13)"),
        # Before the first engage date, past the last, or too near it: a few days' engagements made a rate of 0
        # or of hundreds a year (an analyst's trial).
        ("2017-01-01", f"--rates-from 2017-01-01: the engage dates run 2017-01-02..2017-08-29: {TOO_LATE}"),
        ("2017-09-01", f"--rates-from 2017-09-01: the engage dates run 2017-01-02..2017-08-29: {TOO_LATE}"),
        ("2017-06-01", f"--rates-from 2017-06-01: the engage dates run 2017-01-02..2017-08-29: {TOO_LATE}"),
    ],
)
def test_rates_from_outside_the_engage_dates_is_refused_in_one_line(tmp_path: Path, given: str, said: str) -> None:
    accounts, pipe, teams = ramp(tmp_path, early=4, late=1)
    out = tmp_path / "ramp.toml"
    files = ["--accounts", str(accounts), "--pipeline", str(pipe), "--teams", str(teams)]
    result = calibrate(*files, "--rates-from", given, "--out", str(out))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {said}") and result.stderr.count("\n") == 1
    assert not out.exists() and not list(tmp_path.glob(".*"))


def test_rates_from_the_first_engage_date_or_the_last_that_leaves_a_season_is_taken(tmp_path: Path) -> None:
    # The default is the first engage date, which may be given; 2017-05-31 leaves 91 days to 2017-08-29.
    accounts, pipe, teams = ramp(tmp_path, early=4, late=1)
    cleaned, _ = crm.clean(crm.read_export(accounts, pipe, teams))
    first = crm.calibrate(cleaned, rates_from=date(2017, 1, 2))
    assert first.segments[0].rate_per_year == crm.calibrate(cleaned).segments[0].rate_per_year
    last = crm.calibrate(cleaned, rates_from=date(2017, 5, 31))
    assert last.segments[0].engaged == 91 and last.team.rate_years == pytest.approx(91 / 365.25)


def test_rates_from_after_the_cutoff_names_the_cutoff(tmp_path: Path) -> None:
    accounts, pipe, teams = ramp(tmp_path, early=4, late=1)
    files = ["--accounts", str(accounts), "--pipeline", str(pipe), "--teams", str(teams)]
    result = calibrate(
        *files, "--cutoff", "2017-06-01", "--rates-from", "2017-07-01", "--out", str(tmp_path / "x.toml")
    )
    assert result.returncode == 2
    assert result.stderr == (
        "error: --rates-from 2017-07-01: the engage dates before --cutoff 2017-06-01 run 2017-01-02..2017-05-31: "
        f"{TOO_LATE}worth (a few days' engagements had made a rate of 0 or of hundreds a year)\n"
    )


@needs_data
def test_rate_trend_of_the_shared_export_at_the_backtest_cutoff(tmp_path: Path) -> None:
    # Engagements ramp up from 7 in October 2016 to 641-778 a month in March-June 2017 (docs/validation.md).
    cleaned, _ = crm.clean(
        crm.read_export(DATA / "accounts.csv", DATA / "sales_pipeline.csv", DATA / "sales_teams.csv"), date(2017, 6, 30)
    )
    (note,) = trend_notes(crm.calibrate(cleaned).notes)
    assert note.startswith(
        "sales_pipeline.csv: engagements at an account ran at 8,593 a year over the last 91 days "
        "(2017-03-31..2017-06-29), against 5,561 over the 253 days the rates count from 2016-10-20"
    )
    late = crm.calibrate(cleaned, rates_from=date(2017, 3, 1))
    assert sum(s.engaged for s in late.segments) == 2806
    assert not trend_notes(late.notes)
    # The written command gives it again.
    out = tmp_path / "crm.toml"
    result = calibrate(*calibrate_args(out)[1:], "--cutoff", "2017-06-30", "--rates-from", "2017-03-01")
    assert result.returncode == 0, result.stderr
    assert "--cutoff 2017-06-30 --rates-from 2017-03-01 --out" in out.read_text(encoding="utf-8").splitlines()[1]


def test_rate_trend_of_a_long_export_lists_its_first_and_last_months() -> None:
    # Three years, the last quarter at four times the rest's rate: 36 months would be a paragraph.
    days = [START + timedelta(days=d) for d in range(0, 1000, 4)] + [
        START + timedelta(days=d) for d in range(1000, 1095)
    ]
    engaged = pd.Series(pd.to_datetime(days))
    (note,) = trend_note(engaged, engaged.min(), engaged.max(), "p.csv")
    assert "(by month: 2017-01 8, 2017-02 7, 2017-03 8, ..., 2019-11 30, 2019-12 31, 2020-01 1)" in note


@needs_data
def test_backtest_rates_from_is_in_the_written_command(tmp_path: Path) -> None:
    files = calibrate_args(tmp_path / "unused.toml")[3:]  # the export's four files
    result = subprocess.run(
        [sys.executable, "-m", "sim.cli", "backtest", *files, "--cutoff", "2017-06-30", "--rates-from", "2017-03-01",
         "--seeds", "2", "--out", str(tmp_path / "bt")],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    header = (tmp_path / "bt" / "backtest.toml").read_text(encoding="utf-8").splitlines()[1]
    assert "--cutoff 2017-06-30 --rates-from 2017-03-01 --out" in header
    assert "which the rates count from 2017-03-01" in (tmp_path / "bt" / "backtest.toml").read_text(encoding="utf-8")


def every(step: int, start: int, stop: int) -> list[date]:
    return [START + timedelta(days=d) for d in range(start, stop, step)]


@pytest.mark.parametrize(
    ("recent_per_day", "said"),
    # 182 days: one a day over the first 91, then n a day over the last 91; the span's rate is (1 + n) / 2 a day,
    # so the last quarter runs at 2n / (1 + n) times it: 1.2 at n = 1.5 (not said), 1.33 at n = 2 (said).
    [(1.5, False), (2, True)],
)
def test_rate_trend_is_said_past_a_quarter_off_the_average(recent_per_day: float, said: bool) -> None:
    days = every(1, 0, 91) + [START + timedelta(days=91 + i // recent_per_day) for i in range(int(91 * recent_per_day))]
    engaged = pd.Series(pd.to_datetime(days))
    assert bool(trend_note(engaged, engaged.min(), engaged.max(), "p.csv")) is said


def test_rate_trend_needs_two_quarters_and_counts_from_the_day_given() -> None:
    # Four times the rate over the last 91 of 181 days: too short a stretch to say anything of.
    days = every(4, 0, 90) + every(1, 90, 181)
    engaged = pd.Series(pd.to_datetime(days))
    assert trend_note(engaged, engaged.min(), engaged.max(), "p.csv") == []
    # Counted from a later day the stretch is the one named: here 182 days from day 90, steady.
    steady = pd.Series(pd.to_datetime(every(4, 0, 90) + every(1, 90, 272)))
    counted = steady[steady >= pd.Timestamp(START + timedelta(days=90))]
    assert trend_note(counted, counted.min(), counted.max(), "p.csv") == []
    (note,) = trend_note(steady, steady.min(), steady.max(), "p.csv")
    assert "over the 272 days the rates count from 2017-01-02" in note
