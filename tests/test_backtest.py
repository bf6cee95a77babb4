"""The backtest: the real side counted by hand, the simulated side read off runs, the command."""

from __future__ import annotations

import dataclasses
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from sim import crm
from sim.codes import Kind
from sim.crm.backtest import (
    COMPARED_KINDS,
    MEASURES,
    Backtest,
    Outcome,
    actual_outcome,
    backtest,
    simulated_outcome,
    summary_lines,
    window_end,
)
from sim.errors import InputError
from sim.records import ALL
from sim.run import run
from tests.test_crm import DATA, FILES, covsim, needs_data


def _cleaned(rows: list[tuple[str, str, str, str | None, float | None]]) -> crm.Cleaned:
    """A cleaned export from (account, status, engage_date, close_date, close_value) rows."""
    pipe = pd.DataFrame(rows, columns=["account", "status", "engage_date", "close_date", "close_value"])
    pipe["known"] = pipe["account"] != ""
    for col in ("engage_date", "close_date"):
        pipe[col] = pd.to_datetime(pipe[col])
    return crm.Cleaned(
        accounts=pd.DataFrame({"account": ["a"], "sector": [""], "revenue": [1.0]}),
        teams=pd.DataFrame({"sales_agent": ["x"], "regional_office": ["o"]}),
        pipeline=pipe,
        paths={"pipeline": "pipe.csv"},
        cutoff=None,
        countries={},
        no_deal_agents=(),
        set_aside={},
    )


def test_actual_outcome_counts_the_window_cohort_as_of_its_end():
    cleaned = _cleaned(
        [
            ("a", "won", "2017-06-29", "2017-07-10", 100.0),  # engaged before the window: out
            ("a", "won", "2017-07-01", "2017-07-15", 200.0),  # 2 weeks
            ("a", "won", "2017-07-03", "2017-08-14", 300.0),  # 6 weeks
            ("a", "lost", "2017-07-10", "2017-07-17", 0.0),  # 1 week
            ("a", "won", "2017-07-20", "2017-10-02", 999.0),  # closed after the window's end: still open then
            ("a", "open", "2017-07-21", None, None),
            ("", "open", "2017-07-22", None, None),  # no known account: out, as in the calibration
            ("a", "won", "2017-09-28", "2017-09-28", 50.0),  # engaged and won on the window's last day
            ("a", "lost", "2017-09-27", "2017-09-29", 0.0),  # closed on the end date: still open then
            ("a", "won", "2017-09-29", "2017-09-29", 50.0),  # engaged on the end date: out
        ]
    )
    start, end = date(2017, 6, 30), date(2017, 9, 29)
    out = actual_outcome(cleaned, start, end)
    assert out.opportunities == 7
    assert out.won_deals == 3
    assert out.lost_deals == 1
    assert out.win_rate == pytest.approx(0.75)
    assert out.won_value == pytest.approx(550.0)
    assert out.cycle_weeks == pytest.approx((14 + 42 + 7 + 0) / 4 / 7)


def test_actual_outcome_with_an_empty_window_is_an_input_error():
    # The export runs to 2017-11-01, but nothing was engaged in the window (its last day inclusive).
    cleaned = _cleaned([("a", "won", "2017-01-01", "2017-12-01", 1.0), ("a", "lost", "2017-11-01", "2017-12-01", 0.0)])
    with pytest.raises(InputError) as e:
        actual_outcome(cleaned, date(2017, 6, 30), date(2017, 9, 29))
    assert e.value.problems[0].endswith(": no opportunity engaged from 2017-06-30 to 2017-09-28: nothing to compare")


def test_a_window_past_the_exports_last_engagement_is_refused():
    # The export's last engagement is 2017-07-04, its engagement days at most 2 days apart: a window to
    # 2017-09-28 would compare the model's whole window with the part of it the export saw.
    rows = [("a", "won", "2017-07-01", "2017-07-15", 1.0), ("a", "lost", "2017-07-02", "2017-08-31", 0.0)]
    cleaned = _cleaned([*rows, ("a", "lost", "2017-07-04", "2017-07-20", 0.0)])
    with pytest.raises(InputError) as e:
        actual_outcome(cleaned, date(2017, 6, 30), date(2017, 9, 29))
    assert e.value.problems == [
        "pipe.csv: the window 2017-06-30 .. 2017-09-28 ends 86 days after the export's last engagement, 2017-07-04 "
        "(its close dates run to 2017-08-31): what came in after it is not in the export, so the comparison would "
        "be cut short; choose a --cutoff on or before 2017-04-07, or fewer --quarters"
    ]
    # That cut-off's window (the same 91 days) fits; a day later does not.
    assert actual_outcome(cleaned, date(2017, 4, 7), date(2017, 7, 7)).opportunities == 3
    with pytest.raises(InputError):
        actual_outcome(cleaned, date(2017, 4, 8), date(2017, 7, 8))
    # Up to the longest gap between engagement days after the last: a day with none is the export's too.
    assert actual_outcome(cleaned, date(2017, 6, 30), date(2017, 7, 7)).opportunities == 3
    with pytest.raises(InputError):
        actual_outcome(cleaned, date(2017, 6, 30), date(2017, 7, 8))
    # One stray close date a year on (a typo) stretched the export by a year: the backtest compared the
    # model's window with one the export did not hold and blamed the model (+346% opportunities).
    stray = _cleaned([*rows, ("a", "won", "2017-07-04", "2018-07-20", 1.0)])
    with pytest.raises(InputError, match="its close dates run to 2018-07-20"):
        actual_outcome(stray, date(2017, 6, 30), date(2018, 3, 1))
    # Nor one mistyped early engagement date, whose gap of years had let any window pass: a week at most.
    early = _cleaned([("a", "lost", "2007-07-01", "2017-07-02", 0.0), *rows[1:]])
    with pytest.raises(InputError, match="ends 29 days after the export's last engagement, 2017-07-02"):
        actual_outcome(early, date(2017, 6, 30), date(2017, 8, 1))
    assert actual_outcome(early, date(2017, 6, 30), date(2017, 7, 10)).opportunities == 1


def test_the_verdict_says_reproduced_only_when_every_measure_is_inside():
    from types import SimpleNamespace

    from sim.crm.backtest import verdict

    def bt(rows):
        columns = ["measure", "error", "actual_inside"]
        scenario = SimpleNamespace(policy=SimpleNamespace(name="unstructured"))
        table = lambda: pd.DataFrame(rows, columns=columns)  # noqa: E731
        return SimpleNamespace(table=table, seeds=range(1, 21), scenario=scenario, policy="")

    tested = (
        " It tests the model under unstructured, the team's own way of working, not a lead of another policy over "
        "it, which rests on mechanisms the export does not show (docs/validation.md, Relationship lifts)."
    )
    every = bt([("opportunities", 0.01, True), ("win_rate", -0.002, True)])
    every.policy = ""
    assert verdict(every).endswith("in 2 of 2 measures: the model reproduces the window." + tested)
    # Another policy than the scenario's (--policy) is said to be one (a reviewer's: it had been named unstructured).
    every.policy = "named_accounts"
    assert verdict(every).endswith(
        "the model reproduces the window. It ran named_accounts, not the team's own way of working (unstructured, "
        "the calibrated scenario's): a difference from what happened is the policy's as much as the model's."
    )
    every.policy = "unstructured"  # named, and the scenario's own
    assert verdict(every).endswith(tested)
    # No lost deal in the window: its error is undefined, and the measure is outside all the same.
    some = bt([("opportunities", 0.004, False), ("lost_deals", float("nan"), False), ("win_rate", 0.1, True)])
    assert verdict(some) == (
        "Answer: what happened lies inside the seeds' 95% interval in 1 of 3 measures; outside it (simulated mean "
        "against actual): opportunities +0.4% and lost_deals (no actual value to compare). So the calibrated model "
        "does not reproduce the window on those measures: do not forecast with it, and read a comparison of policies "
        "on it as one of their mechanisms in a world that differs from yours on those measures (docs/validation.md "
        "says why)." + tested
    )
    # Two seeds' 95% interval is about their range: the verdict says so (an analyst read 0 of 6 inside as a finding).
    few = SimpleNamespace(table=some.table, seeds=(1, 2), scenario=some.scenario, policy="")
    assert verdict(few).startswith(
        "Answer: what happened lies inside the seeds' 95% interval in 1 of 3 measures (with 2 seeds that interval is "
        "little more than their range: give --seeds 20 or more to judge by it); outside it"
    )
    # Every measure outside is named, furthest off first: an analyst missed won_value -65% when three were.
    five = bt(
        [(m, e, False) for m, e in (("a", -0.1), ("b", 0.7), ("c", -0.65), ("d", -0.73), ("e", 0.2))]
        + [("win_rate", 0.04, True)]
    )
    assert "actual): d -73.0%, b +70.0%, c -65.0%, e +20.0% and a -10.0%. So" in verdict(five)


def test_window_is_whole_model_quarters():
    assert window_end(date(2017, 6, 30), 2) == date(2017, 12, 29)  # 26 weeks


ALL_KINDS = (Kind.NEW_LOGO, Kind.EXPANSION, Kind.RENEWAL)


def test_simulated_outcome_of_every_kind_is_the_runs_own_metrics(small, monkeypatch):
    # The same run (a run is a pure function of scenario, policy and seed): the recorder that counts by
    # kind changes nothing, and over every kind it counts what the metrics do.
    from sim.recorder import Recorder

    scenario = small.with_overrides("small, 1 quarter", quarters=1)
    m = run(scenario, seed=3).metrics
    total = m[m["segment"] == ALL].groupby("metric")["value"].sum()
    answered = []  # every first response in time, as the engine tells its recorder
    responded = Recorder.responded

    def counting(self, segment, kind, rep, days):  # type: ignore[no-untyped-def]
        answered.append(len(segment))
        responded(self, segment, kind, rep, days)

    monkeypatch.setattr(Recorder, "responded", counting)
    out = simulated_outcome(scenario, seed=3, kinds=ALL_KINDS)
    assert out.created == total["opps_created"]
    # Engaged, as the export's are: not every one created (it had compared those nobody answered too).
    assert out.opportunities == sum(answered) and 0 < out.opportunities < out.created
    assert (out.won_deals, out.lost_deals) == (total["opps_won"], total["opps_lost"])
    assert out.won_value == pytest.approx(
        total["won_value_new_logo"] + total["won_value_expansion"] + total["retained_spend"]
    )
    assert out.cycle_weeks == pytest.approx(total["cycle_weeks_mean"])  # one quarter: its mean is the run's


def test_simulated_outcome_leaves_renewals_out_of_the_comparison(small):
    # The export has no renewals; the model renews its customers on their contract dates.
    assert COMPARED_KINDS == (Kind.NEW_LOGO, Kind.EXPANSION)
    scenario = small.with_overrides("small, 1 quarter", quarters=1)
    compared = simulated_outcome(scenario, seed=3)
    renewals = simulated_outcome(scenario, seed=3, kinds=(Kind.RENEWAL,))
    every = simulated_outcome(scenario, seed=3, kinds=ALL_KINDS)
    assert renewals.opportunities > 0 and renewals.won_deals > 0
    for measure in ("opportunities", "created", "won_deals", "lost_deals", "won_value"):
        assert compared.value(measure) + renewals.value(measure) == pytest.approx(every.value(measure))
    decided = {o: o.won_deals + o.lost_deals for o in (compared, renewals, every)}
    assert compared.cycle_weeks * decided[compared] + renewals.cycle_weeks * decided[renewals] == pytest.approx(
        every.cycle_weeks * decided[every]
    )


def test_seed_table_has_a_row_per_seed_and_a_column_per_measure(small):
    simulated = (Outcome(10, 3, 1, 500.0, 2.0), Outcome(12, 0, 0, 0.0, math.nan))
    result = Backtest(
        cutoff=date(2017, 6, 30),
        end=date(2017, 9, 29),
        quarters=1,
        units=1,
        scenario=small,
        scenario_text="",
        notes=(),
        actual=simulated[0],
        simulated=simulated,
        seeds=(4, 7),
    )
    table = result.seed_table()
    assert list(table.columns) == ["seed", *(m for m, _ in MEASURES)]
    assert list(table["seed"]) == [4, 7]
    assert table.loc[0].drop("seed").tolist() == [10, 3, 1, 0.75, 500.0, 2.0]
    assert math.isnan(table.loc[1, "win_rate"])  # no deal decided
    # What the model raised beside what its reps engaged: the compared measure hides the leads nobody answered.
    raised = dataclasses.replace(result, simulated=(Outcome(10, 3, 1, 500.0, 2.0, 40), Outcome(12, 0, 0, 0.0, 1, 60)))
    assert summary_lines(raised)[-1] == (
        "opportunities: those a rep engaged (answered in time), as the export holds only engaged ones; the model "
        "raised 50 a run, 78% of them never engaged (missed unanswered)."
    )
    # What no measure tests is said: an analyst read lost_deals as customers lost, and churn as checked.
    assert summary_lines(result)[-1] == (
        "not tested: churn (the export records none): the customers a run loses follow the calibrated scenario's "
        "churn_per_year, copied from the baseline scenario [A]; lost_deals are deals lost, not customers."
    )
    # Buying units are said only where there are some (each account one had read "1 buying unit per account").
    assert "buying unit" not in summary_lines(result)[0]
    units = dataclasses.replace(result, units=44)
    assert summary_lines(units)[0].endswith("; 44 buying units per account")
    assert "[A] (with buying units, units lost); lost_deals" in summary_lines(units)[-1]


def _export() -> crm.Export:
    return crm.read_export(*(DATA / FILES[k] for k in ("accounts", "pipeline", "teams", "products")))


@needs_data
def test_backtest_of_the_shared_export_is_reproducible_and_counts_the_real_window():
    a = backtest(_export(), date(2017, 6, 30), 2, seeds=(1, 2, 3))
    b = backtest(_export(), date(2017, 6, 30), 2, seeds=(1, 2, 3))
    pd.testing.assert_frame_equal(a.table(), b.table())
    # The real side, counted straight from the CSV: engaged 2017-06-30..2017-12-28 with an account,
    # won or lost by 2017-12-29 (the export's closes end 2017-12-31).
    raw = pd.read_csv(DATA / "sales_pipeline.csv", parse_dates=["engage_date", "close_date"])
    cohort = raw[raw["account"].notna() & (raw["engage_date"] >= "2017-06-30") & (raw["engage_date"] < "2017-12-29")]
    closed = cohort["close_date"] < "2017-12-29"
    won = cohort[closed & (cohort["deal_stage"] == "Won")]
    lost = cohort[closed & (cohort["deal_stage"] == "Lost")]
    assert a.actual.opportunities == len(cohort)
    assert a.actual.won_deals == len(won)
    assert a.actual.lost_deals == len(lost)
    assert a.actual.won_value == pytest.approx(won["close_value"].sum())
    # The simulated side: each account one (no buying units unless asked), and real runs behind it.
    assert a.units == 1 and a.scenario.population.customers == 85
    t = a.table().set_index("measure")
    assert np.all(t["simulated_mean"] > 0)
    assert (
        t.loc["win_rate", "simulated_low"] <= t.loc["win_rate", "simulated_mean"] <= t.loc["win_rate", "simulated_high"]
    )


@needs_data
def test_backtest_command_writes_its_results(tmp_path):
    args = [f"--{k}={DATA / FILES[k]}" for k in ("accounts", "pipeline", "teams", "products")]
    out = tmp_path / "bt"
    r = covsim("backtest", *args, "--cutoff", "2017-06-30", "--seeds", "2", "--units", "10", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "won_deals" in r.stdout and "10 buying units per account" in r.stdout
    table = pd.read_csv(out / "backtest.csv")
    # The answer first: how many measures lie inside the seeds' interval, by the table written.
    inside = int(table["actual_inside"].sum())
    assert r.stdout.startswith(f"Answer: what happened lies inside the seeds' 95% interval in {inside} of 6 measures")
    assert r.stdout.count("Answer:") == 1
    assert list(table["measure"]) == [
        "opportunities",
        "won_deals",
        "lost_deals",
        "win_rate",
        "won_value",
        "cycle_weeks",
    ]
    assert len(pd.read_csv(out / "seeds.csv")) == 2
    assert (out / "backtest.png").stat().st_size > 0
    written = (out / "backtest.toml").read_text()
    assert "customers = 850" in written
    # Its header gives the calibrate command that writes it again (it said "covsim backtest --cutoff 2017-06-30",
    # which writes no scenario and names no file): run as written, it writes the same scenario, its name too (the
    # file had been scenario.toml, which calibrate names "scenario", where the backtest names it "backtest").
    import shlex
    import tomllib

    (line,) = [x for x in written.splitlines() if x.startswith("# Command: ")]
    argv = shlex.split(line.removeprefix("# Command: "))
    assert argv[:2] == ["covsim", "calibrate"] and argv[-6:] == [
        "--cutoff", "2017-06-30", "--units", "10", "--out", str(out / "backtest.toml")
    ]  # fmt: skip
    again = covsim(*argv[1:])
    assert again.returncode == 0, again.stderr
    first, second = tomllib.loads(written), tomllib.loads((out / "backtest.toml").read_text())
    assert first["name"] == "backtest" and first == second


@needs_data
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--cutoff", "2017-02-30"], "--cutoff"),
        # A cut-off after the export's end is that, not an empty window (it read "no opportunity engaged").
        (
            ["--cutoff", "2019-01-01"],
            "the window 2019-01-01 .. 2019-07-01 ends 551 days after the export's last engagement, 2017-12-27",
        ),
        (["--cutoff", "2017-11-01"], "days after the export's last engagement, 2017-12-27"),
        (["--cutoff", "2017-06-30", "--policy", "nope"], "--policy"),
        (["--cutoff", "2017-06-30", "--param", "notice=1.0"], "--param"),
        (["--cutoff", "2017-06-30", "--policy", "unstructured", "--param", "notice=2"], "notice"),
    ],
)
def test_backtest_bad_input_is_one_line_and_exit_2(tmp_path, extra, message):
    args = [f"--{k}={DATA / FILES[k]}" for k in ("accounts", "pipeline", "teams")]
    out = tmp_path / "bt"
    r = covsim("backtest", *args, *extra, "--seeds", "2", "--out", str(out))
    assert r.returncode == 2, r.stdout + r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert errors and message in errors[0]
    assert "Traceback" not in r.stderr
    assert not out.exists()


def test_backtest_without_a_cutoff_is_a_usage_error():
    r = covsim("backtest", "--accounts=a.csv", "--pipeline=p.csv", "--teams=t.csv")
    assert r.returncode == 2
    assert "--cutoff" in r.stderr
