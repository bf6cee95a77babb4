"""``value_based`` (CALLPLAN, Lodish 1971): its pieces by hand, its plan's optimality conditions on the
baseline world, its behaviour against ``segment_tiers``, and its parameters' bounds (fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.codes import Service, Status
from sim.errors import InputError
from sim.model import CoverageModel
from sim.policies import BUILT_IN, make_policy
from sim.policies.protocol import PlanView
from sim.policies.value_based import (
    ValueBased,
    base_value,
    call_plan,
    concave_envelope,
    greedy,
    reachable,
    steady_stock,
)
from sim.run import run
from sim.scenario import load_scenario
from tests.conftest import BASELINE

SEEDS = (1, 2, 3)


def _baseline_view(seed: int) -> tuple[CoverageModel, PlanView]:
    """The baseline world (100,000 accounts, 42 seats) as the first plan sees it; release the model after."""
    model = CoverageModel(load_scenario(BASELINE), make_policy("value_based"), seed)
    return model, PlanView(1, model._accounts, model.team.week(0).view, None, model.selling)


def test_value_based_is_built_in_and_shows_its_parameters():
    assert BUILT_IN["value_based"] is ValueBased
    assert repr(ValueBased()) == "ValueBased(max_cadence=6, planned_share=0.5, rest='pooled', handoff='cold')"


def test_the_concave_envelope_of_an_s_shaped_response_by_hand():
    # Values at 0..4 touches: convex, then concave. From 0 the steepest chord is 2 a touch (to 2, and to 3:
    # the nearest is taken), then 2 (to 3), then 1 (to 4); the point at 1 touch lies under the envelope.
    frm, to = concave_envelope(np.array([[0.0, 1.0, 4.0, 6.0, 7.0], [0.0, 3.0, 5.0, 6.0, 6.5]]))
    assert frm.tolist() == [[0, 2, 3, 4], [0, 1, 2, 3]]
    assert to.tolist() == [[2, 3, 4, 4], [1, 2, 3, 4]]


def test_greedy_buys_best_value_per_hour_first_and_ends_with_the_touches_that_fit():
    # Seat 0 (budget 10 h): rates 5 (4 h), 3 (4 h), 2 (6 h, 3 touches): it buys 5 and 3, then 1 touch of the
    # last with the 2 h left. Seat 1 (budget 3 h): its 4 h increment of 2 touches does not fit; 1 touch does.
    rep = np.array([0, 0, 0, 1])
    rate = np.array([3.0, 5.0, 2.0, 9.0])
    hours = np.array([4.0, 4.0, 6.0, 4.0])
    per_touch = np.array([4.0, 2.0, 2.0, 2.0])
    given, taken = greedy(rep, rate, hours, per_touch, np.array([10.0, 3.0]))
    assert given.tolist() == [True, True, False, False]
    assert taken.tolist() == [0, 0, 1, 1]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(0, 3000),
    st.integers(0, 2**16),
    st.sampled_from([0.5, 3.0, 40.0, 1e9]),
    st.sampled_from([1.0, 0.1, 1e8 / 3]),
)
def test_greedy_over_the_reachable_increments_decides_as_over_all_of_them(seats, size, seed, budget_scale, unit):
    # Rates from a few values and hours in whole ``unit``s: ties of rate and budgets met exactly are common.
    # A unit of 0.1 h or 1e8/3 h sums with rounding, which must not depend on which other seats' increments
    # were left out (a seat's hours are summed on their own).
    rng = np.random.default_rng(seed)
    rep = rng.integers(0, seats, size)
    rate = rng.integers(1, 40, size) / 4.0
    per_touch = rng.integers(1, 4, size) * unit
    hours = per_touch * rng.integers(1, 3, size)
    budget = np.floor(rng.random(seats) * budget_scale * (1 + size / seats)) * unit
    keep = reachable(rep, rate, hours, budget)
    every = pytest.MonkeyPatch()
    try:
        every.setattr("sim.policies.value_based.reachable", lambda rep, rate, hours, budget: np.ones(rate.size, bool))
        want = greedy(rep, rate, hours, per_touch, budget)
    finally:
        every.undo()
    got = greedy(rep, rate, hours, per_touch, budget)
    assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()
    assert not (want[0] & ~keep).any()  # nothing a seat buys in full lies outside the mask
    if size >= 1024 and budget_scale == 0.5:  # budgets a sixth of the hours: only the best part is kept
        assert keep.mean() < 0.5


def test_the_steady_stock_is_the_mean_the_engine_s_weekly_order_gives():
    # Decay at the start of the week, demand sees the stock, then the week's touches add theirs.
    r, added = 0.96, {0: 1.0, 4: 1.0, 8: 1.0}  # three visits a quarter
    stock, seen = 0.0, []
    for week in range(13 * 200):
        stock *= r
        seen.append(stock)
        stock += added.get(week % 13, 0.0)
    assert np.mean(seen[-13:]) == pytest.approx(float(steady_stock(np.array(3.0), r)), rel=1e-9)
    assert float(steady_stock(np.array(3.0), r)) == pytest.approx(0.96 * 3 / 13 / 0.04)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_plan_spends_each_seat_s_budget_within_one_touch_and_never_more(seed):
    model, view = _baseline_view(seed)
    try:
        calls = call_plan(view, max_cadence=6, planned_share=0.5)
        team = view.team
    finally:
        model.release()
    owners = np.unique(calls.rep)
    assert set(team.role[owners].tolist()) == {"full_cycle"}  # the 28 field closers; inside reps answer the pool
    assert owners.size == 28
    assert calls.budget[owners] == pytest.approx(0.5 * 13 * team.capacity[owners])
    spent = np.bincount(calls.rep, weights=calls.cadence * calls.hours, minlength=team.size)[owners]
    budget = calls.budget[owners]
    assert (spent <= budget + 1e-9).all()
    # The budget ends in the seat's best refused increment, given in part: less than one of its touches is left.
    seat = calls.rep[calls.inc_row]
    for k, s in enumerate(owners.tolist()):
        refused = np.flatnonzero((seat == s) & ~calls.inc_given)
        assert refused.size > 0  # the baseline has far more demand for touches than any seat has hours
        best = refused[np.argmax(calls.inc_rate[refused])]
        assert budget[k] - spent[k] < calls.hours[calls.inc_row[best]] + 1e-9
    # Nearly all of the 28 x 200.2 hours are planned: at most one touch each short.
    assert spent.sum() / budget.sum() > 0.98


@pytest.mark.parametrize("seed", SEEDS)
def test_the_last_increment_given_is_worth_at_least_the_best_refused_per_hour(seed):
    model, view = _baseline_view(seed)
    try:
        calls = call_plan(view, max_cadence=6, planned_share=0.5)
    finally:
        model.release()
    seat = calls.rep[calls.inc_row]
    for s in np.unique(calls.rep).tolist():
        mine = seat == s
        given, refused = calls.inc_rate[mine & calls.inc_given], calls.inc_rate[mine & ~calls.inc_given]
        assert given.size > 0 and refused.size > 0
        assert given.min() >= refused.max()
    # The plan is made of those increments: an account's cadence is where its given increments end.
    reached = np.zeros(calls.account.size, dtype=np.int64)
    np.maximum.at(reached, calls.inc_row[calls.inc_given], calls.inc_to[calls.inc_given])
    assert (calls.cadence >= reached).all()
    assert (calls.cadence > reached).sum() <= np.unique(calls.rep).size  # at most one increment in part a seat


def _gain_per_hour(view: PlanView, owner: np.ndarray, cadence: np.ndarray) -> float:
    """Expected value a quarter that the planned touches add (currency), per planned touch hour, as the
    organisation can know it (segment means), for any plan's owners and cadences."""
    acc, team, selling = view.accounts, view.team, view.selling
    named = np.flatnonzero((owner >= 0) & (cadence > 0))
    rep = owner[named]
    km = np.hypot(acc.x[named] - team.x[rep], acc.y[named] - team.y[rep])
    hours = selling.touch_hours(team.field[rep], km) * cadence[named]
    per_touch = np.where(team.field[rep], selling.visit_stock, selling.call_stock)
    stock = steady_stock(cadence[named] * per_touch, selling.weekly_retention)
    lift = selling.lift(stock, acc.segment[named]) - selling.lift(np.zeros(named.size), acc.segment[named])
    return float((lift * base_value(acc, selling, named)).sum() / hours.sum())


@pytest.mark.parametrize("seed", SEEDS)
def test_value_based_touches_where_the_response_per_hour_is_highest(seed):
    model, view = _baseline_view(seed)
    rng = np.random.default_rng(seed)
    try:
        mine = ValueBased().plan(view, rng)
        tiers = make_policy("segment_tiers").plan(view, rng)
    finally:
        model.release()
    ours, theirs = _gain_per_hour(view, mine.owner, mine.cadence), _gain_per_hour(view, tiers.owner, tiers.cadence)
    assert ours > 1.3 * theirs, (ours, theirs)
    # Owned exactly where a touch is planned, high touch; the rest of the live accounts wait in the pool.
    touched = mine.cadence > 0
    assert (mine.owner[touched] >= 0).all() and (mine.owner[~touched] == -1).all()
    assert (mine.service[touched] == Service.HIGH_TOUCH).all()
    live = view.accounts.status != Status.CHURNED
    assert (mine.service[live & ~touched] == Service.POOLED).all()
    assert mine.cadence.max() <= 6


def test_the_figures_docs_model_gives_for_value_based_against_segment_tiers():
    """docs/model.md's figures, measured as it states them: the baseline over four quarters, the file's
    seed; each policy's own plans, valued by ``_gain_per_hour`` (expected value a quarter per planned hour),
    the share of owned accounts that change hands, and the profit."""
    scenario = load_scenario(BASELINE).with_overrides("value-based-figures", quarters=4)
    figures = {}
    for name in ("value_based", "segment_tiers"):
        policy, gains = make_policy(name), []
        made = policy.plan

        def plan(view: PlanView, rng: np.random.Generator, made=made, gains=gains):
            chosen = made(view, rng)
            gains.append(_gain_per_hour(view, chosen.owner, chosen.cadence))
            return chosen

        policy.plan = plan
        m = run(scenario, policy).metrics
        m = m[m.segment == "all"].groupby("metric").value
        changed = m.apply(list)["owner_changed_share"][1:]  # the first quarter has no owners before it
        figures[name] = ([round(g) for g in gains], round(100 * float(np.mean(changed)), 1), m.sum()["profit"])
    assert figures["value_based"][0] == [1398, 1545, 1507, 1492]
    assert figures["segment_tiers"][0] == [965, 953, 929, 940]
    assert figures["value_based"][1] == 15.4
    assert (round(figures["value_based"][2] / 1e5), round(figures["segment_tiers"][2] / 1e5)) == (1390, 1399)


def _totals(policy: str, seed: int) -> dict[str, float]:
    """Whole-run figures of the baseline over three quarters, segment "all": sums, and the mean share of
    promised touches not made."""
    scenario = load_scenario(BASELINE).with_overrides("value-based-check", quarters=3)
    m = run(scenario, make_policy(policy), seed).metrics
    m = m[m.segment == "all"]
    total, mean = m.groupby("metric").value.sum(), m.groupby("metric").value.mean()
    return {
        "profit": float(total["profit"]),
        "opps_missed": float(total["opps_missed"]),
        "promised_untouched_share": float(mean["promised_untouched_share"]),
    }


@pytest.mark.parametrize("seed", SEEDS)
def test_against_segment_tiers_the_pooled_rest_takes_the_hours_the_plan_counted_on(seed):
    """Why value_based does not beat segment_tiers on profit over a few quarters (it ends about level:
    docs/model.md gives the figures), so profit is asserted neither way.

    Every account without a touch, the 80,000 SMB among them, waits in the inside team's queue, where
    ``segment_tiers`` serves SMB digitally; the queue overflows, twice as many opportunities are missed, and
    the qualified deals it deals to the closers by capacity take the field reps' hours, so about half of the
    touches the plan promised are not made, against a quarter under ``segment_tiers``.
    """
    ours, theirs = _totals("value_based", seed), _totals("segment_tiers", seed)
    assert ours["opps_missed"] > 1.5 * theirs["opps_missed"]
    assert ours["promised_untouched_share"] > 0.4 > 0.35 > theirs["promised_untouched_share"]
    assert abs(ours["profit"] / theirs["profit"] - 1.0) < 0.02  # level, within 2%


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"max_cadence": -1}, "max_cadence"),
        ({"max_cadence": 14}, "max_cadence"),
        ({"max_cadence": 2.5}, "max_cadence"),
        ({"max_cadence": "6"}, "max_cadence"),
        ({"planned_share": -0.1}, "planned_share"),
        ({"planned_share": 1.5}, "planned_share"),
        ({"planned_share": "half"}, "planned_share"),
        ({"rest": "phone"}, "rest"),
        ({"handoff": "lukewarm"}, "handoff"),
        ({"cadence": 2}, "cadence"),
    ],
)
def test_bad_parameters_are_refused_one_line_each(params, field):
    with pytest.raises(InputError) as e:
        ValueBased.from_config(params)
    assert len(e.value.problems) == 1
    assert e.value.problems[0].startswith(f"policy.params.{field}: ")
