"""The agent-per-customer Mesa baseline (benchmarks/mesa_baseline.py) runs and agrees with covsim.

The two implementations share no random numbers, so agreement is statistical:
pooled over four seeds, counts must agree within four Poisson standard
deviations and money within a Welch t-test at p > 0.001. Generous on purpose:
this catches a broken mechanic (a rate off by a factor, a step skipped), not
a percent; benchmarks/compare_mesa.py makes the close comparison.
"""

from __future__ import annotations

import math

import mesa
import pytest
from scipy import stats

from benchmarks.mesa_baseline import RENEWAL, Customer, MesaCoverageModel, covsim_totals, run_mesa_baseline
from sim.scenario import Scenario, parse_scenario
from tests.conftest import small_data

SEEDS = (1, 2, 3, 4)


@pytest.fixture(scope="module")
def small_300() -> Scenario:
    data = small_data()
    data["population"]["customers"] = 300
    data["quarters"] = 1
    return parse_scenario(data, "small (300 customers)")


@pytest.fixture(scope="module")
def runs(small_300: Scenario) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    mesa_runs = [run_mesa_baseline(small_300, seed, quarters=1) for seed in SEEDS]
    covsim_runs = [covsim_totals(small_300, seed, quarters=1) for seed in SEEDS]
    return mesa_runs, covsim_runs


def test_totals_are_sensible(runs):
    mesa_runs, _ = runs
    for r in mesa_runs:
        assert r["opps_created"] > 0
        assert r["opps_created"] == r["opps_won"] + r["opps_lost"] + r["opps_missed"] + r["opps_open"]
        assert r["opps_missed"] == sum(r[k] for k in r if k.startswith("missed_"))
        assert r["revenue_captured"] >= 0
        assert r["revenue_captured"] == pytest.approx(
            r["won_value_new_logo"] + r["won_value_expansion"] + r["retained_spend"]
        )
        assert r["recurring_revenue"] > 0
        assert 0 < r["customers"] <= 300
        assert 0 <= r["churned_at_renewal"] <= r["churned"]
        assert r["renewals_due"] > 0
        assert 0 < r["hours"] <= r["capacity_hours"] + 1e-6
        assert r["seconds"] > 0


def test_the_model_is_released_after_a_run(small_300):
    before = len(mesa.Agent._ids)
    run_mesa_baseline(small_300, 9, quarters=1)
    assert len(mesa.Agent._ids) == before


@pytest.mark.parametrize("metric", ["opps_created", "opps_missed", "opps_won", "customers", "renewals_due", "churned"])
def test_counts_agree_with_covsim(runs, metric):
    mesa_runs, covsim_runs = runs
    m = sum(r[metric] for r in mesa_runs)
    c = sum(r[metric] for r in covsim_runs)
    assert abs(m - c) <= 4 * math.sqrt(m + c) + 2, (metric, m, c)


def test_renewals_open_on_contract_dates(small_300):
    """Week 0: each customer due within its notice (but not in week 0 itself) gets one renewal, due on its date
    and answerable until the date at the latest; nobody else gets one."""
    model = MesaCoverageModel(small_300, 3)
    try:
        model.agents_by_type[Customer].shuffle_do("step")  # the week's arrivals and renewals opening
        opened = 0
        for c in model.agents_by_type[Customer]:
            renewals = [o for o in c.opportunities if o.kind == RENEWAL]
            notice = small_300.population.segments[c.segment].renewal_notice_weeks
            if c.renewal_week is not None and 1 <= c.renewal_week <= notice:
                assert len(renewals) == 1, c.renewal_week
                assert renewals[0].due == c.renewal_week
                assert renewals[0].day <= renewals[0].sla_deadline <= 5 * c.renewal_week
                opened += 1
            else:
                assert not renewals, c.renewal_week
        assert opened > 0
    finally:
        model.release()


@pytest.mark.parametrize("metric", ["revenue_captured", "recurring_revenue"])
def test_money_agrees_with_covsim(runs, metric):
    mesa_runs, covsim_runs = runs
    m = [r[metric] for r in mesa_runs]
    c = [r[metric] for r in covsim_runs]
    assert stats.ttest_ind(m, c, equal_var=False).pvalue > 1e-3, (metric, m, c)
