"""Tiny scenarios whose results are worked out by hand in each test.

A rate of 52 x 50 a year makes the weekly chance of an opportunity 1 - exp(-50),
which is 1.0 in floating point, and the tests keep each account's first
opportunity of a week only (``first_arrivals_only``): every account has one
opportunity every week.
A win probability of 1 is clipped to 1 - 1e-9 on the log-odds scale, so every
decided deal is won. Potentials have no spread (sigma 0), values no noise.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.codes import Service
from sim.model import CoverageModel
from sim.policies import make_policy
from sim.policies.protocol import CoveragePlan, PlanView, Policy, RouteView, TaskView
from sim.policies.rules import empty_plan
from sim.run import run
from tests.conftest import kind, tiny

CERTAIN = 52 * 50.0

pytestmark = pytest.mark.usefixtures("first_arrivals_only")


def quarter_one(result, metric: str, segment: str = "all") -> float:
    m = result.metrics
    row = m[(m.quarter == 1) & (m.segment == segment) & (m.metric == metric)]
    assert len(row) == 1, metric
    return float(row.value.iloc[0])


def test_nobody_answers_so_everything_is_missed_for_no_owner():
    # 1,000 prospects, an opportunity each every week, nobody ever picks up.
    scenario = tiny(
        segment={"new_logo": kind(CERTAIN)},
        digital={"enabled": False},
        policy={"name": "unstructured", "params": {"notice": 0.0}},
    )
    r = run(scenario)
    assert quarter_one(r, "opps_created") == 13 * 1000
    # All of them new logos: the 1,000 accounts are prospects with a certain lead a week, and no customer.
    assert quarter_one(r, "opps_created_new_logo") == 13 * 1000
    assert quarter_one(r, "opps_created_expansion") == quarter_one(r, "opps_created_renewal") == 0
    # Pooled window: 5 business days. An opportunity arriving on day d of week w
    # (5w <= d < 5w + 5) expires after d + 5, i.e. at the end of week w + 1.
    # Arrivals of weeks 0..11 have expired by the end of week 12; week 12's are open.
    assert quarter_one(r, "missed_no_owner") == 12 * 1000
    assert quarter_one(r, "opps_missed") == 12 * 1000
    assert quarter_one(r, "opps_open") == 1000
    for metric in ("opps_won", "opps_lost", "revenue_captured", "customers", "hours_total", "churned"):
        assert quarter_one(r, metric) == 0, metric
    assert quarter_one(r, "sla_breach_rate") == 1.0
    assert quarter_one(r, "never_contacted") == 1000
    assert quarter_one(r, "prospects") == 1000


def test_renewal_self_service_contracts_renew_on_their_date_at_the_unattended_value():
    # 500 customers spending 10,000 x 0.5 = 5,000 a year each, all on the digital channel (no
    # segment is covered by reps) and nobody churns (churn_per_year 0): each contract whose date
    # falls in the quarter renews on its own at 0.8 of its spend, and no renewal opportunity opens.
    scenario = tiny(
        customers=500,
        segment={"customer_share": 1.0, "expansion": kind(0.0)},
        service={"unattended_renewal_value": 0.8},
        policy={"name": "segment_tiers", "params": {"field_segments": "", "pooled_segments": ""}},
    )
    model = CoverageModel(scenario, make_policy("segment_tiers", {"field_segments": "", "pooled_segments": ""}), 11)
    try:
        due = model.population.renewal_week < 13  # dates drawn evenly over the 52-week term
        assert 80 < due.sum() < 170
        model.run()
        pop = model.population
        assert pop.spend[due] == pytest.approx(0.8 * 5_000)
        assert pop.spend[~due] == pytest.approx(5_000)
        assert np.all(pop.renewal_week[due] >= 52) and np.all(pop.renewal_week[due] < 65)  # the next term is booked
        r = model.metrics_frame()
    finally:
        model.release()
    value = dict(r[(r.segment == "all")][["metric", "value"]].itertuples(index=False))
    assert value["renewals_due"] == due.sum()
    assert value["opps_created"] == 0 and value["churned"] == 0 and value["churned_at_renewal"] == 0
    assert value["customers"] == 500


def test_one_rep_works_one_account_to_three_wins():
    # One prospect of potential 10,000 with a new-logo opportunity every week
    # until it has none left to give: 4 hours of effort over a 2-week cycle,
    # picked up by the only rep (notice 1: with the share of its week still free,
    # at least 0.87 here; with this seed at once every week, as the totals below
    # check), always won, value = 0.5 x untapped wallet.
    scenario = tiny(
        customers=1,
        segment={
            "new_logo": kind(CERTAIN, effort=4.0, cycle=2, win=1.0, value=0.5),
            "expansion": kind(0.0),
            "deal_sigma": 0.0,
        },
        digital={"enabled": False},
        service={"speed_to_lead": {"new_logo": {"half_life_days": 1.0, "floor": 1.0}}},
        reps=[{"role": "full_cycle", "count": 1, "skill_sd": 0.0}],
        policy={"name": "unstructured", "params": {"notice": 1.0, "size_bias": 0.0}},
    )
    r = run(scenario)
    # Week 0: opp A arrives, answered (0.5 h). Week 1: B arrives and is answered;
    # A gets 2 h. Week 2: C answered; A gets its last 2 h and is won (5,000: the
    # account converts), B gets 2 h. Week 3: B won (0.5 x 5,000 untapped = 2,500),
    # C gets 2 h. Week 4: C won (0.5 x 2,500 = 1,250). Then a customer with no
    # expansion or renewal demand: nothing more arrives.
    assert quarter_one(r, "opps_created") == 3
    assert quarter_one(r, "opps_won") == 3
    assert quarter_one(r, "won_value_new_logo") == pytest.approx(5_000 + 2_500 + 1_250)
    assert quarter_one(r, "new_logos") == 1
    assert quarter_one(r, "customers") == 1
    assert quarter_one(r, "hours_response") == pytest.approx(3 * 0.5)
    assert quarter_one(r, "hours_work") == pytest.approx(3 * 4.0)
    # Spend is recognised weekly: 5,000 from week 2, 7,500 in week 3, 8,750 in weeks 4..12.
    assert quarter_one(r, "recurring_revenue") == pytest.approx((5_000 + 7_500 + 9 * 8_750) / 52)
    assert quarter_one(r, "opps_missed") == 0
    assert quarter_one(r, "never_contacted") == 0
    # Each deal closes at the end of the second week after its arrival week:
    # 3 weeks less the part of its arrival week before it arrived.
    assert 2.0 < quarter_one(r, "cycle_weeks_mean") <= 3.0


def test_policy_named_in_scenario_is_the_default():
    scenario = tiny(policy={"name": "hunter_farmer"})
    assert run(scenario).policy == "hunter_farmer"
    assert run(scenario, make_policy("unstructured")).policy == "unstructured"


class _TwoSeatsOnAccountZero(Policy):
    """Account 0's opportunities go to seat (week mod 2), account 1's always to seat 0."""

    name = "two_seats_on_account_zero"
    coordinate = False

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        plan = empty_plan(view.accounts.size, Service.POOLED)
        if self.coordinate:  # an account plan needs an account team: seat 0 owns account 0
            plan.owner[0], plan.coordinated[0] = 0, True
        return plan

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        return np.where(view.pending.customer == 0, view.week % 2, 0).astype(np.int64)

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        return np.ones(view.tasks.size)


class _CoordinatedTwoSeats(_TwoSeatsOnAccountZero):
    coordinate = True


@pytest.mark.parametrize(("policy", "expected"), [(_TwoSeatsOnAccountZero, 1), (_CoordinatedTwoSeats, 0)])
def test_conflicting_engagements_count_accounts_worked_by_two_uncoordinated_closers(policy, expected):
    # Two accounts, each with an opportunity every week (new logo, then
    # expansion once won), two closers
    # with hours to spare. Account 0 is answered by seat 0 in even weeks and by
    # seat 1 in odd weeks, and each deal is worked the week after its answer, so
    # both seats work it in every week but the first: one conflicting account,
    # unless the plan marks it coordinated. Account 1 is only ever worked by
    # seat 0: never a conflict.
    scenario = tiny(
        customers=2,
        segment={"new_logo": kind(CERTAIN, win=1.0), "expansion": kind(CERTAIN, win=1.0)},
        reps=[{"role": "full_cycle", "count": 2}],
        digital={"enabled": False},
    )
    r = run(scenario, policy())
    assert quarter_one(r, "opps_created") == 2 * 13
    assert quarter_one(r, "conflicting_engagements") == expected
