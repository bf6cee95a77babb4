"""Verification against closed forms: the engine reproduces what its equations predict.

Each test builds a world in which one mechanism can be computed by hand (or by
a closed-form probability law) and checks the engine against it:

a. nobody answers        -> nothing is won, every opportunity is missed as "no owner";
b. capacity is ample     -> no opportunity is missed for capacity, lateness or stalling;
c. opportunity arrivals  -> Poisson counts, renewal share;
d. response functions    -> defining points, and the demand lift inside a run;
e. relationship decay    -> monthly_retention ** (12 k / 52), half-life;
f. churn hazard          -> 1 - churn_per_year a year untouched, relief by the stock.

Statistical checks use fixed seeds and 99.9% intervals of the exact law, so they are deterministic and
would fail only if the mechanism were wrong (or, for a new seed, once in a
thousand). Every test says in a comment what breakage it catches; those claims
were checked by running the file against deliberately broken copies of the
engine (mutation testing: rate per 48 weeks, b or the potential exponent
dropped, renewals lifted, 1 - rho, arrivals before decay, decay twice or per
4-week month, hazard as churn/52, relief with e instead of 2, no relief,
responses at the end of the week, a shorter stall deadline, no-owner recorded
as vacancy, pickup ignored, ADBUDG half-point at d): each broken copy fails at
least one test here.

Three tests began as records of bugs found while writing docs/ODD.md (an
empty team crashing, shock-vacated seats refilled a week early, new
specialists a week short at the bottom of the ramp); the bugs are fixed and
the tests now guard the fixes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.codes import Status
from sim.compiled import compiled
from sim.model import CoverageModel
from sim.policies import make_policy
from sim.response import demand_lift, half_life_weeks, response_multiplier, weekly_decay
from sim.run import run
from sim.scenario import RepGroup, Scenario, parse_scenario
from sim.selling import Adbudg, Power
from tests.conftest import kind, renewal, small_data, tiny

LEVEL = 0.999
Z = float(stats.norm.ppf(0.5 + LEVEL / 2))  # 3.29: two-sided 99.9% normal quantile

NOBODY = {"name": "unstructured", "params": {"notice": 0.0}}


def total(metrics: pd.DataFrame, metric: str, segment: str = "all") -> float:
    """A flow metric summed over every quarter of a run."""
    rows = metrics[(metrics.metric == metric) & (metrics.segment == segment)]
    assert len(rows) > 0, (metric, segment)
    return float(rows.value.sum())


def last(metrics: pd.DataFrame, metric: str, segment: str = "all") -> float:
    """A stock metric at the end of the last quarter."""
    rows = metrics[(metrics.metric == metric) & (metrics.segment == segment)]
    return float(rows.sort_values("quarter").value.iloc[-1])


def assert_binomial(observed: float, n: int, p: float) -> None:
    """``observed`` lies in the central 99.9% interval of Binomial(n, p)."""
    lo, hi = stats.binom.interval(LEVEL, n, p)
    assert lo <= observed <= hi, f"{observed} outside [{lo}, {hi}] of Binomial({n}, {p:.6g}), mean {n * p:.1f}"


def assert_poisson(observed: float, mean: float) -> None:
    """``observed`` lies in the central 99.9% interval of Poisson(mean)."""
    lo, hi = stats.poisson.interval(LEVEL, mean)
    assert lo <= observed <= hi, f"{observed} outside [{lo}, {hi}] of Poisson({mean:.1f})"


def model_for(scenario: Scenario, policy: dict[str, Any] | None = None, seed: int = 5) -> CoverageModel:
    p = policy or dict(scenario.policy)
    return CoverageModel(scenario, make_policy(p["name"], dict(p.get("params", {}))), seed)


# ---- a. nobody answers: nothing is won, everything is missed for "no owner" ------------------


def quiet_small(**changes: Any) -> Scenario:
    """The small scenario (three segments, customers and prospects) for two quarters, with
    the digital channel off and no way for a customer to leave: churn 0, so an unattended
    renewal always renews. Then every opportunity can only end missed (or stay open)."""
    d = small_data()
    d["quarters"] = 2
    d["digital"] = {"enabled": False}
    for s in d["population"]["segments"]:
        s["churn_per_year"] = 0.0
    d.update(changes)
    return parse_scenario(d, "quiet small")


def check_all_missed_for_no_owner(metrics: pd.DataFrame) -> None:
    created = total(metrics, "opps_created")
    missed = total(metrics, "opps_missed")
    closed = total(metrics, "opps_won") + total(metrics, "opps_lost") + missed
    assert created > 500  # not vacuous: plenty of demand arose
    assert total(metrics, "opps_won") == 0
    assert total(metrics, "opps_lost") == 0
    assert total(metrics, "revenue_captured") == 0
    assert total(metrics, "hours_total") == 0
    assert missed == total(metrics, "missed_no_owner") == closed > 0
    # Conservation: what arose is closed or still open at the end.
    assert created == closed + last(metrics, "opps_open")
    # Nobody ever contacted anyone; statuses never changed.
    assert last(metrics, "never_contacted") == 5000
    assert total(metrics, "new_logos") == 0 and total(metrics, "churned") == 0


def test_reps_who_never_pick_up_win_nothing_and_miss_everything_for_no_owner():
    # Catches: any path by which an opportunity is won, lost or worked without a
    # response, routing that ignores the policy's notice, and a miss cause other than
    # the one recorded when nobody was routed.
    r = run(quiet_small(), make_policy("unstructured", {"notice": 0.0}))
    check_all_missed_for_no_owner(r.metrics)


def test_reps_without_selling_hours_win_nothing_and_miss_everything_for_no_owner():
    # Seats exist but have no selling hours (selling_share 0): the validated scenario
    # needs capacity, so the team is swapped in with model_copy (not re-validated).
    # `unstructured`: only a rep with free hours may notice a lead, so nobody is routed.
    # Catches: routing to seats with no hours; a cause other than no_owner recorded.
    scenario = quiet_small().model_copy(update={"reps": (RepGroup(role="full_cycle", count=3, selling_share=0.0),)})
    r = run(scenario, make_policy("unstructured"))  # default notice: willing, but no hours
    check_all_missed_for_no_owner(r.metrics)
    assert total(r.metrics, "capacity_hours") == 0


def test_a_world_with_no_reps_and_no_digital_channel_misses_everything():
    scenario = quiet_small().model_copy(update={"reps": ()})
    r = run(scenario, make_policy("unstructured"))
    check_all_missed_for_no_owner(r.metrics)


# ---- b. ample capacity: no miss for capacity, lateness or stalling ----------------------------


def ample(full_cycle: int, inside: int, sdr: int, demand: float = 4.0, **seat: Any) -> Scenario:
    """1,500 accounts of the small scenario's three segments with ``demand`` times its
    opportunity rates (about 35 opportunities a week), two quarters, no attrition;
    ``seat``: fields of every rep group (e.g. ``weekly_hours``)."""
    d = small_data()
    d["quarters"] = 2
    d["population"]["customers"] = 1500
    for s in d["population"]["segments"]:
        for k in ("new_logo", "expansion"):
            s[k]["rate_per_year"] *= demand
    d["workforce"] = {"attrition_per_year": 0.0}
    d["reps"] = [
        {"role": "full_cycle", "count": full_cycle, **seat},
        {"role": "inside", "count": inside, **seat},
        {"role": "sdr", "count": sdr, **seat},
    ]
    return parse_scenario(d, "ample")


def run_recording_load(
    scenario: Scenario, policy: str, params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> tuple[pd.DataFrame, float, int]:
    """Run, and record through the engine's allocator the busiest seat-week's share of its
    hours used and how many tasks were left undone for want of hours (not declined)."""
    import sim.model

    original = sim.model.allocate_hours
    loads: list[float] = [0.0]
    refused = [0]

    def recording(rep, cost, priority, capacity, release=None, queues=None):  # type: ignore[no-untyped-def]
        a = original(rep, cost, priority, capacity, release, queues)
        used = np.bincount(a.seat[a.accepted], weights=cost[a.accepted], minlength=capacity.size)
        loads.append(float(np.max(used / np.maximum(capacity, 1e-9), initial=0.0)))
        # A lead that arrives too late in the week to be answered within it waits for next week
        # whatever the load (no look-ahead); anything else left undone is for want of hours. A lead
        # in a queue is released at the same share of each pool rep's week.
        hours = np.where(rep >= 0, capacity[np.maximum(rep, 0)], capacity.max(initial=0.0))
        arrived = np.zeros(rep.size) if queues is None else np.where(rep < 0, queues.arrival * hours, 0.0)
        too_late = (release if release is not None else 0.0) + arrived + cost > hours + 1e-9
        refused[0] += int(np.sum(~a.accepted & ~a.declined & ~too_late))
        return a

    monkeypatch.setattr(sim.model, "allocate_hours", recording)
    model = model_for(scenario, {"name": policy, "params": params})
    model.run()
    model.release()
    return model.metrics_frame(), max(loads), refused[0]


CAPACITY_CAUSES = (
    "missed_owner_at_capacity",
    "missed_queue_wait",
    "missed_sla_expired",
    "missed_stalled",
    "missed_vacancy",
)


def check_ample(load: float, refused: int) -> None:
    # The premise "capacity is unlimited", checked rather than assumed: no seat ever had
    # to leave a task undone, and no seat used more than 60% of its week. Responses are
    # the top priority (standard_priority), so a response is placed in the first 60% of
    # the seat's week; an opportunity answered in its arrival week is then late only if
    # (end of week - arrival) x 0.6 > window, impossible for windows of 3 (high touch)
    # and 5 (pooled) business days.
    assert refused == 0
    assert load < 0.6


def test_segment_tiers_with_ample_capacity_misses_only_the_digital_tiers_leftovers(monkeypatch):
    # 95 seats of 80 hours (about 5,900 selling hours a week) for 1,500 accounts, all of one
    # skill: with 40-hour weeks and the skill spread (a seat's hours for a deal are over its
    # skill) the busiest seat-week passed 0.6 at 10 of seeds 1-20 (up to 0.88), and the
    # premise held here by the seed's luck; now at most 0.39. What can still be missed, and why:
    # - owner_at_capacity: no, no seat left a task undone;
    # - sla_expired: no, every response comes early in its seat's week (check_ample),
    #   and none is declined (standard priorities are all > 0);
    # - stalled: no, each deal gets its weekly part from the week after its response
    #   and completes at response week + cycle_weeks <= the stall deadline;
    # - vacancy: no, attrition is 0;
    # - no_owner: only in the digital tier (smb): its opportunities the channel does not
    #   capture are nobody's by design (digital_overflow = false); none elsewhere.
    # Catches: responses timed late (e.g. placed at the end of the week), a stall
    # deadline shorter than stated, work not delivered, causes recorded wrongly, pooled
    # or owned demand left unrouted, capacity not weekly_hours x selling_share. (An
    # allocator that wastes hours only near capacity is not visible here: the unit
    # tests of sim.allocation check that; the control test below checks that capacity
    # misses are recorded at all.)
    scenario = ample(60, 30, 5, weekly_hours=80.0, skill_sd=0.0)
    m, load, refused = run_recording_load(scenario, "segment_tiers", {}, monkeypatch)
    check_ample(load, refused)
    # Capacity is the closed form: seats x 80 h x 0.77 x 13 weeks a quarter (fully ramped, no attrition).
    capacity = m[(m.metric == "capacity_hours") & (m.segment == "all")].value
    assert capacity.tolist() == pytest.approx([95 * 80 * 0.77 * 13] * scenario.quarters, rel=1e-12)
    for segment in ("enterprise", "mid_market", "smb", "all"):
        for cause in CAPACITY_CAUSES:
            assert total(m, cause, segment) == 0, (segment, cause)
    for segment in ("enterprise", "mid_market"):
        assert total(m, "opps_missed", segment) == 0, segment
        assert total(m, "opps_created", segment) > 20  # not vacuous
    # The digital tier: every miss is a leftover of the channel, no rep ever worked it,
    # and every win there is a self-service win.
    assert total(m, "opps_missed", "smb") == total(m, "missed_no_owner", "smb") > 0
    assert total(m, "hours_total", "smb") == 0
    assert total(m, "opps_won", "smb") == total(m, "digital_won", "smb") > 0


def test_hunter_farmer_with_ample_capacity_misses_nothing(monkeypatch):
    # Every live account is owned (high touch) or pooled (inside reps and SDRs, with
    # inside closers for hand-offs), so with ample hours and no attrition none of the
    # five causes can occur (see the previous test). Books of 10 and no cadence keep
    # each hunter's and farmer's own week light: with the default books of 60 accounts
    # and 2 visits a quarter a hunter is saturated whatever the team size (a book is
    # per seat), and real stalls occur.
    # Small books alone left the premise (load < 0.6) to luck: each arrival on a book's
    # account is a new deal, so a large, well-tended prospect can have several open at
    # once and a seat's concurrent deals vary; and a seat's hours for a deal are over its
    # skill (a holder drawn at skill 0.35 needs three times the hours). More staff does
    # not help: books are per seat. With 40-hour weeks and the skill spread the busiest
    # seat-week passed 0.6 at 4 seeds of 20 (0.98 at seed 4). One skill for every seat
    # and 80-hour weeks make the hours ample by a margin: at most 0.33 over seeds 1-60.
    params = {"hunter_accounts": 10, "farmer_accounts": 10, "hunter_cadence": 0.0, "farmer_cadence": 0.0}
    roomy = ample(60, 30, 5, weekly_hours=80.0, skill_sd=0.0)
    m, load, refused = run_recording_load(roomy, "hunter_farmer", params, monkeypatch)
    check_ample(load, refused)
    assert total(m, "opps_created") > 500
    assert total(m, "opps_missed") == 0
    for cause in (*CAPACITY_CAUSES, "missed_no_owner"):
        assert total(m, cause) == 0, cause


@pytest.mark.parametrize("policy", ["segment_tiers", "hunter_farmer"])
def test_the_same_world_short_of_capacity_does_miss_for_capacity(policy):
    # Control for the two tests above: the zeros are not vacuous. The same world
    # and demand with 3 seats instead of 95 misses opportunities because the seats'
    # hours run out.
    r = run(ample(2, 1, 0), make_policy(policy))
    assert total(r.metrics, "missed_owner_at_capacity") + total(r.metrics, "missed_stalled") > 0


# ---- c. arrivals: Poisson counts ----------------------------------------------------------------


def untouched_world(customers: int, segment: dict[str, Any], quarters: int = 2, b: float = 1.25) -> Scenario:
    """Nobody answers, no digital channel, statuses never change (no churn, so contracts
    renew on their own): every account-week draws an independent Poisson count at the
    same intensity all run. The response function's b (the multiplier at zero stock)
    is not 1, so the test sees that new-logo and expansion rates are multiplied by it and
    renewals (on contract dates) are not."""
    return tiny(
        customers=customers,
        quarters=quarters,
        segment={"churn_per_year": 0.0, **segment},
        digital={"enabled": False},
        relationship={"response": {"kind": "adbudg", "b": b}},
        policy=NOBODY,
    )


@pytest.mark.parametrize("rate", [2.0, 40.0])
def test_new_logo_arrivals_are_poisson_at_the_stated_weekly_intensity(rate):
    # Identical prospects (potential_sigma 0): created opportunities over W weeks are
    # Poisson(n W lambda), lambda = (rate / 52) x b. At 40 a year (lambda 0.96 a week; an account
    # of the shared CRM export has 1.15 to 1.81) at most one an account and week would give 35.8% fewer.
    # Catches: a wrong time unit (rate not divided by 52), at most one a week instead of a
    # Poisson count, b not applied, arrivals drawn twice or skipped in some week.
    n, b = 8000 if rate < 10 else 800, 1.25
    scenario = untouched_world(n, {"new_logo": kind(rate)}, b=b)
    m = run(scenario).metrics
    assert_poisson(total(m, "opps_created"), n * scenario.weeks * (rate / 52) * b)
    assert total(m, "opps_created") == total(m, "opps_missed") + last(m, "opps_open")


def test_an_accounts_opportunities_of_a_week_are_a_zero_truncated_poisson_count():
    # Given at least one, an account's count is zero-truncated Poisson: at lambda 1.5 and 0.01, the
    # shares of 1, 2, 3 and more over 20,000 draws against P(k) = e^-l l^k / k! / (1 - e^-l), by a
    # chi-square test at 99.9%. Catches: a plain Poisson (zeros dropped later), an off-by-one place.
    from sim.demand import _counted

    for lam in (1.5, 0.01):
        n = 20_000
        u = np.random.default_rng(11).random(n)
        accounts, place, over = compiled(_counted)(np.arange(n), np.full(n, lam), u, 65_535)
        assert not over
        count = np.bincount(accounts, minlength=n)
        assert count.min() == 1 and np.array_equal(place, np.concatenate([np.arange(c) for c in count]))
        top = 4 if lam > 1 else 2  # the last cell holds top and more
        observed = np.bincount(np.minimum(count, top), minlength=top + 1)[1:]
        k = np.arange(1, top)
        p = stats.poisson.pmf(k, lam) / -math.expm1(-lam)
        expected = n * np.append(p, 1 - p.sum())
        assert stats.chisquare(observed, expected).pvalue > 1 - LEVEL, (lam, observed, expected)
    # An intensity that would give more than the draw ids leave room for is said, not drawn; an infinite one too.
    for lam in (1e6, math.inf):
        assert compiled(_counted)(np.arange(1), np.array([lam]), np.array([0.5]), 65_535)[2]
    # A uniform in the rounding gap above the summed distribution gets the last count of any chance, not one
    # far out in the tail (lambda 5 had given 253, where P(N > 40) is below 1e-20).
    top = 1.0 - 2.0**-53
    for lam in (0.001, 5.0, 300.0):
        (count,) = np.bincount(compiled(_counted)(np.arange(1), np.array([lam]), np.array([top]), 65_535)[0])
        assert count <= stats.poisson.isf(1e-16, lam) + 1, (lam, count)


def test_the_draw_ids_of_an_accounts_later_opportunities_of_a_week_meet_no_other():
    # The first arrival's id is 2 x account_week, a renewal's that + 1; later arrivals add place x the stride, which
    # lies above every first id at the largest population and horizon, and 65,535 places stay inside int64.
    from sim.demand import MOST_ARRIVALS
    from sim.randomness import ARRIVAL_PLACE_STRIDE, KEY_WEEK_STRIDE, account_week
    from sim.scenario import MAX_CUSTOMERS

    largest = 2 * int(account_week(np.array([MAX_CUSTOMERS - 1]), KEY_WEEK_STRIDE - 1)[0]) + 1
    assert largest < ARRIVAL_PLACE_STRIDE
    assert MOST_ARRIVALS * ARRIVAL_PLACE_STRIDE + largest < 2**63
    # In a run whose accounts have several opportunities a week: every opportunity's key is its own.
    from sim.opportunities import OpportunityBook

    keys: list[np.ndarray] = []
    add = OpportunityBook.add

    def kept(self, **columns):  # type: ignore[no-untyped-def]
        keys.append(np.asarray(columns["key"]).copy())
        return add(self, **columns)

    scenario = untouched_world(300, {"new_logo": kind(200.0), "customer_share": 0.5, "expansion": kind(150.0)})
    OpportunityBook.add = kept
    try:
        run(scenario)
    finally:
        OpportunityBook.add = add
    every = np.concatenate(keys)
    assert every.size > 20_000 and np.unique(every).size == every.size
    assert (every >= ARRIVAL_PLACE_STRIDE).sum() > 5_000  # later arrivals of a week there are


def test_arrivals_scale_with_potential_as_stated():
    # Lognormal potentials (sigma 0.8, exponent 0.5): the count is Poisson with mean
    # W sum_i (rate / 52) (potential_i / median) ^ 0.5 x b, over the population the engine
    # generated. Catches: a wrong exponent or median, potential
    # not used.
    n, rate, b, median = 8000, 2.0, 1.25, 10_000.0
    scenario = untouched_world(n, {"new_logo": kind(rate), "potential_sigma": 0.8}, b=b)
    model = model_for(scenario)
    potential = model.population.potential.copy()
    assert potential.std() > 0.5 * median  # the potentials really differ
    model.run()
    created = float(model.metrics_frame().query("metric == 'opps_created' and segment == 'all'").value.sum())
    model.release()
    assert_poisson(created, scenario.weeks * float(np.sum((rate / 52) * (potential / median) ** 0.5 * b)))
    # ...and the exponent matters at this size: E[(potential / median)^0.5] is
    # exp(0.08) = 1.083 here, so the count is outside the interval of the unscaled law.
    unscaled = scenario.weeks * n * (rate / 52) * b
    assert abs(created - unscaled) > Z * math.sqrt(unscaled)


def test_renewal_openings_are_exactly_the_contract_dates_and_expansions_are_poisson():
    # Identical customers (customer_share 1, sigma 0) with expansion demand, 52-week contracts
    # and 8 weeks' notice, one quarter. Per week an expansion count is Poisson((r_e / 52) b);
    # renewals are not drawn at all: week 0 opens every contract due in weeks 1 to 8 (one due
    # in week 0 cannot be worked in time), week w > 0 those due in week w + 8, so the quarter
    # opens exactly those due in weeks 1 to 20. Expansions are Poisson(n W (r_e / 52) b).
    # Catches: renewals arriving at a rate or lifted by b, a wrong notice, openings skipped
    # or repeated, renewals opened for contracts whose date is beyond the notice.
    n, r_e, b = 5000, 2.0, 1.25
    scenario = untouched_world(n, {"customer_share": 1.0, "expansion": kind(r_e)}, quarters=1, b=b)
    model = model_for(scenario)
    assert np.all(model.population.status == Status.CUSTOMER)
    due = model.population.renewal_week
    due_by_20 = int(np.sum((due >= 1) & (due <= 20)))
    model.run()
    # The quarter's tally by (kind, segment) is still in place after the last week.
    new_logo, expansion, renewals = (int(x) for x in model.recorder.tally.created[:, 0])
    model.release()
    assert new_logo == 0
    assert renewals == due_by_20
    assert abs(renewals - n * 20 / 52) < Z * math.sqrt(n * 20 / 52)  # dates spread evenly over the term
    assert_poisson(expansion, n * scenario.weeks * (r_e / 52) * b)


# ---- d. response functions ----------------------------------------------------------------------


def test_response_functions_reproduce_their_defining_points():
    # ADBUDG with b != 1 (tests/test_units.py has b = 1): y(0) = b, y(d^(1/c)) = (a+b)/2,
    # y -> a; a decreasing ADBUDG (a < b) is allowed and keeps the same points.
    # Catches: b and a swapped, the half-saturation point computed as d instead of d^(1/c).
    for f in (Adbudg(a=3.0, b=1.4, c=2.5, d=5.0), Adbudg(a=0.5, b=1.2, c=0.7, d=1.5)):
        x = np.array([0.0, f.d ** (1 / f.c), 1e9])
        y = response_multiplier(x, f)
        assert y[0] == f.b
        assert y[1] == pytest.approx((f.a + f.b) / 2, rel=1e-12)
        assert y[2] == pytest.approx(f.a, rel=1e-5)
    # Power with b != 0: y(0) = b, y(1) = b + z, the lift y - b has elasticity e
    # everywhere below the cap, and the cap binds.
    g = Power(b=1.0, z=0.6, e=0.3, cap=4.0)
    y0, y1 = response_multiplier(np.array([0.0, 1.0]), g)
    assert y0 == 1.0 and y1 == pytest.approx(1.6, rel=1e-12)
    x = np.array([0.5, 2.0, 7.0])
    lift = response_multiplier(x, g) - g.b
    elasticity = np.diff(np.log(lift)) / np.diff(np.log(x))
    assert elasticity == pytest.approx([g.e, g.e], rel=1e-12)
    x_cap = ((g.cap - g.b) / g.z) ** (1 / g.e)  # where b + z x^e reaches the cap
    assert response_multiplier(np.array([0.999 * x_cap, 1.001 * x_cap, 1e6]), g)[1:].tolist() == [4.0, 4.0]
    assert response_multiplier(np.array([0.999 * x_cap]), g)[0] < 4.0
    # Negative stock is treated as 0.
    assert response_multiplier(np.array([-3.0]), g)[0] == g.b


def test_default_response_elasticities_are_as_documented():
    # docs/ODD.md 7.3 and scenario-format.md section 3: the default ADBUDG curve's elasticity
    # x y'(x) / y(x) is 0.23 at 0.5, 0.33 at 1, 0.32 at 1.59 and 0.29 at 2 for a fully responsive
    # account (rho = 1), inside the published 0.2-0.4 range of selling-effort elasticities; the
    # average account (rho = 0.5) realises half of the lift, and its elasticity x lift' / lift is
    # 0.13, 0.20, 0.20 and 0.19, below it. Closed form: y' = (a - b) c d x^(c-1) / (d + x^c)^2.
    f = Adbudg()
    for x, full, average in ((0.5, 0.23, 0.13), (1.0, 0.33, 0.20), (f.d ** (1 / f.c), 0.32, 0.20), (2.0, 0.29, 0.19)):
        dy = (f.a - f.b) * f.c * f.d * x ** (f.c - 1) / (f.d + x**f.c) ** 2
        for rho, documented in ((1.0, full), (0.5, average)):
            lift = float(demand_lift(np.array([x]), np.array([rho]), f)[0])
            assert x * rho * dy / lift == pytest.approx(documented, abs=0.005)
        assert 0.2 <= x * dy / float(response_multiplier(np.array([x]), f)[0]) <= 0.4
    # The power form's e = 0.3 is the lift's elasticity above b; demand's at a stock of 1 is
    # z e / (b + z) = 0.11 for rho = 1 and rho z e / (b + rho z) = 0.07 for rho = 0.5.
    g = Power()
    for rho, documented in ((1.0, 0.11), (0.5, 0.07)):
        h = 1e-6
        up, down = (float(demand_lift(np.array([1.0 + d]), np.array([rho]), g)[0]) for d in (h, -h))
        lift = float(demand_lift(np.array([1.0]), np.array([rho]), g)[0])
        assert (up - down) / (2 * h) / lift == pytest.approx(documented, abs=0.005)


@pytest.mark.parametrize("fn", [Adbudg(), Power()])
def test_demand_lift_scales_the_response_by_responsiveness(fn):
    # lift = b + rho (y(x) - b): rho = 0 is indifferent to effort (lift b at any stock),
    # rho = 1 gets the whole curve, and the lift is linear in rho.
    x = np.array([0.0, 0.3, 1.0, 1.59, 5.0, 100.0])
    y = response_multiplier(x, fn)
    assert np.all(demand_lift(x, np.zeros_like(x), fn) == fn.b)
    assert np.array_equal(demand_lift(x, np.ones_like(x), fn), y)
    assert demand_lift(x, np.full_like(x, 0.25), fn) == pytest.approx(fn.b + 0.25 * (y - fn.b), rel=1e-12)


def warm_and_cold(response: dict[str, Any]) -> Scenario:
    """Two identical prospect segments ("cold" and "warm"), 6,000 accounts each,
    responsiveness Beta(4, 1) (mean 0.8, skewed so that rho and 1 - rho differ), nobody
    answers."""
    seg = {
        "share": 0.5,
        "potential_median": 10_000.0,
        "potential_sigma": 0.0,
        "responsiveness": [4.0, 1.0],
        "customer_share": 0.0,
        "share_of_wallet": 0.5,
        "churn_per_year": 0.0,
        "new_logo": kind(2.0),
        "expansion": kind(0.0),
        "renewal": renewal(),
    }
    d = {
        "name": "warm_and_cold",
        "seed": 3,
        "quarters": 1,
        "population": {
            "customers": 12_000,
            "regions": [{"name": "here", "share": 1.0}],
            "segments": [{"name": "cold", **seg}, {"name": "warm", **seg}],
        },
        "reps": [{"role": "full_cycle", "count": 1}],
        "workforce": {"attrition_per_year": 0.0},
        "digital": {"enabled": False},
        # A strong carry-over loss (weekly factor 0.01^(12/52) = 0.346), so that a lift
        # computed from the stock before the week's decay would be far off.
        "relationship": {"response": response, "monthly_retention": 0.01},
        "policy": NOBODY,
    }
    return parse_scenario(d, "warm_and_cold")


@pytest.mark.parametrize(
    "response",
    [
        {"kind": "adbudg", "a": 2.5, "b": 1.0, "c": 1.5, "d": 2.0},
        {"kind": "power", "b": 1.0, "z": 0.6, "e": 0.3, "cap": 4.0},
    ],
)
def test_a_warm_population_arrives_at_the_lifted_rate(response):
    # The "warm" accounts' stock is held at X when arrivals are drawn (set to X / decay
    # before each step; the step decays it first), the "cold" ones have none. Expected:
    # Poisson counts at cold intensity rate/52 x b, warm ones rate/52 x (b + rho_i (y(X) - b))
    # with y written out here from its definition, rho_i the engine's own draws.
    # The engine computes the lift only for accounts marked as ever touched (stock is
    # built only by touches, so an untouched account has none); the test marks them.
    # Catches: the lift not applied, applied without responsiveness (or with 1 - rho),
    # computed from the stock before the week's decay (arrivals drawn before decay),
    # or applied to accounts with no stock.
    scenario = warm_and_cold(response)
    model = model_for(scenario)
    pop = model.population
    warm = pop.segment == 1
    rho = pop.responsiveness[warm]
    if response["kind"] == "adbudg":
        X = response["d"] ** (1 / response["c"])  # half-saturation: y = (a + b) / 2
        y = (response["a"] + response["b"]) / 2
    else:
        X = 1.0  # y(1) = b + z
        y = response["b"] + response["z"]
    rate, b = 2.0 / 52, response["b"]
    pop.ever_touched[warm] = True
    for _ in range(scenario.weeks):
        pop.stock[warm] = X / model.decay
        model.step()
    m = model.metrics_frame()
    model.release()
    cold_created, warm_created = total(m, "opps_created", "cold"), total(m, "opps_created", "warm")
    n_cold = int((~warm).sum())
    assert_poisson(cold_created, n_cold * scenario.weeks * rate * b)
    assert_poisson(warm_created, scenario.weeks * float(np.sum(rate * (b + rho * (y - b)))))
    # The lift is visible: far above what the warm accounts would give without it.
    assert warm_created > stats.poisson.ppf(LEVEL, int(warm.sum()) * scenario.weeks * rate * b)


# ---- e. relationship decay ------------------------------------------------------------------------


@pytest.mark.parametrize("monthly_retention", [0.84, 0.5 ** (1 / 3)])
def test_relationship_stock_decays_at_its_stated_rate_and_half_life(monthly_retention):
    # A stock of 1 on half the accounts, nobody works: after k weekly steps it is
    # monthly_retention ** (12 k / 52) (a month is 52/12 weeks), to rounding; untouched
    # accounts stay at 0. The stock halves at sim.response.half_life_weeks:
    # 0.84 a month (the [D] default) gives 17.2 weeks, 0.5 ** (1/3) exactly 13.
    # Catches: decay applied twice or not at all in a step, a month taken as 4 weeks,
    # decay per quarter, stock added by anything but rep work, a wrong half-life.
    scenario = tiny(
        customers=400,
        quarters=2,
        relationship={"monthly_retention": monthly_retention},
        digital={"enabled": False},
        policy=NOBODY,
    )
    model = model_for(scenario)
    pop = model.population
    pop.stock[:200] = 1.0
    stock = [1.0]  # stock[k]: after k weeks
    for k in range(1, scenario.weeks + 1):
        model.step()
        expected = monthly_retention ** (12 * k / 52)
        assert pop.stock[:200] == pytest.approx(np.full(200, expected), rel=1e-12, abs=0), k
        assert np.all(pop.stock[200:] == 0.0)
        assert not pop.ever_touched.any()  # nobody worked any account
        stock.append(float(pop.stock[0]))
    model.release()
    h = half_life_weeks(monthly_retention)
    assert weekly_decay(monthly_retention) ** h == pytest.approx(0.5, rel=1e-12)
    # The engine's stock crosses 1/2 in the week of the stated half-life.
    week = math.floor(h + 1e-9)
    assert stock[week] >= 0.5 - 1e-12 and stock[week + 1] < 0.5
    if monthly_retention == 0.84:
        # docs: half-life 17.2 weeks; after six months (26 weeks) 0.84^6 = 35% is left.
        assert h == pytest.approx(17.23, abs=0.005)
        assert stock[26] == pytest.approx(0.35, abs=0.005)
    else:
        assert h == pytest.approx(13.0, rel=1e-12)
        assert stock[13] == pytest.approx(0.5, rel=1e-12)
        assert stock[26] == pytest.approx(0.25, rel=1e-12)


# ---- f. churn hazard ---------------------------------------------------------------------------------


def churn_world(churn: float, floor: float, half: float) -> Scenario:
    """Three identical customer segments with no demand, no digital channel and nobody
    working, where all the churn is between renewals (mid_term_churn_share 1: a contract
    reaching its date renews)."""
    seg = {
        "potential_median": 10_000.0,
        "potential_sigma": 0.0,
        "customer_share": 1.0,
        "share_of_wallet": 0.5,
        "churn_per_year": churn,
        "mid_term_churn_share": 1.0,
        "new_logo": kind(0.0),
        "expansion": kind(0.0),
        "renewal": renewal(),
    }
    d = {
        "name": "churn",
        "seed": 9,
        "quarters": 4,
        "population": {
            "customers": 30_000,
            "regions": [{"name": "here", "share": 1.0}],
            "segments": [
                {"name": "cold", "share": 1 / 3, **seg},
                {"name": "half", "share": 1 / 3, **seg},
                {"name": "warm", "share": 1 - 2 / 3, **seg},
            ],
        },
        "reps": [{"role": "full_cycle", "count": 1}],
        "workforce": {"attrition_per_year": 0.0},
        "digital": {"enabled": False},
        # A strong carry-over loss (weekly factor 0.346), so that relief computed from the
        # stock before the week's decay would be far off.
        "relationship": {"churn_floor": floor, "churn_half_stock": half, "monthly_retention": 0.01},
        "policy": NOBODY,
    }
    return parse_scenario(d, "churn")


def test_untouched_customers_churn_at_the_base_hazard_and_the_stock_relieves_it():
    # Three groups of 10,000 customers, stock held (at churn time) at 0, at
    # churn_half_stock and at 1e6 all year. Weekly churn probability is
    # h x relief(x), h = 1 - (1 - churn_per_year)^(1/52), relief = floor + (1 - floor)
    # 2^(-x / half): 1, (1 + floor) / 2 and floor. Survivors after 52 weeks are
    # Binomial(n, (1 - h relief)^52); untouched, that is exactly 1 - churn_per_year.
    # Catches: a hazard not converted to weeks (or converted as churn/52), relief not
    # applied or applied with the wrong half-stock or base (e instead of 2), churn
    # computed from the stock before the week's decay, any churn not counted in
    # `churned`. (Relief applied as floor x the annual probability, 1 - 0.3 x 0.3 = 0.91
    # survival instead of (1 - 0.3 h)^52 = 0.899, would be about 4 sd off.)
    churn, floor, half = 0.3, 0.3, 1.5
    scenario = churn_world(churn, floor, half)
    model = model_for(scenario)
    pop = model.population
    groups = [pop.segment == s for s in range(3)]
    n = [int(g.sum()) for g in groups]
    assert n == [10_000, 10_000, 10_000] and np.all(pop.status == Status.CUSTOMER)
    for _ in range(scenario.weeks):
        pop.stock[groups[1]] = half / model.decay  # decayed to `half` before churn
        pop.stock[groups[2]] = 1e6
        model.step()
    m = model.metrics_frame()
    survivors = [int(np.sum(g & (pop.status == Status.CUSTOMER))) for g in groups]
    model.release()
    h = 1 - (1 - churn) ** (1 / 52)
    relief = [1.0, (1 + floor) / 2, floor]
    assert (1 - h) ** 52 == pytest.approx(1 - churn, rel=1e-12)  # the stated annual figure
    for name, k, alive, r in zip(("cold", "half", "warm"), n, survivors, relief, strict=True):
        assert_binomial(alive, k, (1 - h * r) ** 52)
        # The metrics agree with the population.
        assert last(m, "customers", name) == alive
        assert total(m, "churned", name) == k - alive
    assert survivors[0] < survivors[1] < survivors[2]


# ---- bugs found while writing docs/ODD.md ---------------------------------------------------------


@pytest.mark.parametrize("backfill", [1, 3])
def test_a_seat_vacated_by_a_shock_is_vacant_for_backfill_weeks(backfill):
    scenario = tiny(
        quarters=2,
        workforce={"attrition_per_year": 0.0, "backfill_weeks": backfill},
        shocks=[{"kind": "rep_attrition", "quarter": 2, "share": 1.0}],
        policy=NOBODY,
    )
    model = model_for(scenario)
    vacant = []
    for w in range(scenario.weeks):
        model.step()
        if not model.team.filled()[0]:
            vacant.append(w)
    model.release()
    # docs/scenario-format.md 5.4 / 5.9: vacant for backfill_weeks weeks, from the shock's week 13.
    assert vacant == list(range(13, 13 + backfill))


def test_overlay_specialists_spend_a_full_quarter_at_the_bottom_of_the_ramp():
    scenario = tiny(quarters=2, shocks=[{"kind": "overlay_launch", "quarter": 1, "specialists": 1}], policy=NOBODY)
    model = model_for(scenario)
    capacity = []
    for _ in range(scenario.weeks):
        model.step()
        capacity.append(float(model.team.week(model.week - 1).capacity[1]))
    model.release()
    full = 40 * 0.77
    assert capacity[:13] == pytest.approx([0.33 * full] * 13)
    assert capacity[13:26] == pytest.approx([0.66 * full] * 13)


def test_the_reps_new_logo_win_rate_leaves_the_digital_channel_out():
    # Under segment tiers smb is all digital: the reps' rate has nothing to count there, where the new-logo win
    # rate counts the self-service wins; in the segments no self-service reaches the two are the same number.
    def by_quarter(m: pd.DataFrame, metric: str, segment: str) -> np.ndarray:
        return m[(m.metric == metric) & (m.segment == segment)].sort_values("quarter").value.to_numpy()

    small = parse_scenario(small_data(), "small")
    m = run(small, make_policy("segment_tiers"), seed=3).metrics
    assert np.isnan(by_quarter(m, "win_rate_new_logo_reps", "smb")).all()
    assert (by_quarter(m, "win_rate_new_logo", "smb") > 0).all()
    for segment in ("enterprise", "mid_market"):
        reps = by_quarter(m, "win_rate_new_logo_reps", segment)
        assert np.array_equal(reps, by_quarter(m, "win_rate_new_logo", segment), equal_nan=True)
        assert np.isfinite(reps).sum() >= 3, segment
    # Over all segments the self-service wins are left out: the reps' rate is that of the other two segments.
    assert not np.allclose(by_quarter(m, "win_rate_new_logo_reps", "all"), by_quarter(m, "win_rate_new_logo", "all"))
    # With the channel off every new logo is a rep's: the two rates are one (smb's undefined in both: no rep
    # decides a new logo there under segment tiers).
    off = small.with_overrides("no digital", **{"digital.enabled": False})
    m = run(off, make_policy("segment_tiers"), seed=3).metrics
    for segment in ("smb", "all"):
        reps = by_quarter(m, "win_rate_new_logo_reps", segment)
        assert np.array_equal(reps, by_quarter(m, "win_rate_new_logo", segment), equal_nan=True)
    assert np.isfinite(by_quarter(m, "win_rate_new_logo_reps", "all")).all()
