"""Shocks for stress tests: their targets (a region, a segment, a shift between segments) and the rollout of a
new coverage model from the current one, each checked for the effect it promises, with fixed seeds."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from sim.codes import Kind, Status
from sim.errors import InputError
from sim.experiment.jobs import RunSpec
from sim.experiment.worker import execute
from sim.model import CoverageModel
from sim.policies import make_policy
from sim.policies.random_books import RandomBooks
from sim.policies.rollout import Rollout, current_policy
from sim.policies.territories import Territories
from sim.run import run
from sim.scenario import parse_scenario
from sim.shocks import rollout_rank
from tests.conftest import SMALL, small_data
from tests.test_cli import assert_bad_input, covsim

FULL_WEEK = 40.0 * 0.77  # a fully ramped seat's selling hours a week with the RepGroup defaults


def scenario(shocks=(), quarters=2, **changes):
    """The small scenario over ``quarters`` with ``shocks`` and other top-level keys replaced."""
    data = small_data()
    data.update(quarters=quarters, shocks=list(shocks), **changes)
    return parse_scenario(data, "test")


def problems(shocks, **changes):
    """The validation lines of the small scenario with ``shocks``."""
    with pytest.raises(InputError) as e:
        scenario(shocks, **changes)
    return e.value.problems


def weekly(result, metric):
    w = result.weekly
    return w[w.metric == metric].set_index("week").value


# ---- rep attrition: a share of the seats, of a role and of a region -------------------------------------


def two_regions(shocks=(), backfill_weeks=4):
    """Twenty full-cycle seats, ten in each of two regions, with no attrition but the shock's."""
    data = small_data()
    data["population"]["regions"] = [
        {"name": "west", "x_km": -300.0, "share": 0.5, "radius_km": 60},
        {"name": "east", "x_km": 300.0, "share": 0.5, "radius_km": 60},
    ]
    data["reps"] = [
        {"role": "full_cycle", "count": 10, "region": "west"},
        {"role": "full_cycle", "count": 10, "region": "east"},
    ]
    data["workforce"] = {"attrition_per_year": 0.0, "backfill_weeks": backfill_weeks}
    data.update(quarters=4, shocks=list(shocks))
    return parse_scenario(data, "two regions")


def test_attrition_of_a_share_removes_that_share_of_capacity_in_the_shock_quarter():
    result = run(two_regions([{"kind": "rep_attrition", "quarter": 2, "share": 0.3}]), make_policy("unstructured"), 1)
    capacity = weekly(result, "capacity_hours")
    # unstructured plans no warm hand-off and no account plan: a seat's capacity is its selling hours.
    assert capacity[12] == pytest.approx(20 * FULL_WEEK)
    assert capacity[13] == pytest.approx(14 * FULL_WEEK)  # round(0.3 x 20) = 6 seats leave at week 13


def test_attrition_of_one_region_empties_that_share_of_its_seats_and_backfills_them_at_the_bottom_of_the_ramp():
    shock = {"kind": "rep_attrition", "quarter": 2, "share": 0.5, "region": "east"}
    s = two_regions([shock], backfill_weeks=4)
    model = CoverageModel(s, make_policy("unstructured"), 2)
    try:
        model.run(14)  # through week 13, the first of quarter 2
        gone = [r for r in model.team.seats if not r.filled]
        assert len(gone) == 5 and {r.region for r in gone} == {1}  # half of the ten east seats; west untouched
        ramp = s.workforce.ramp

        def capacity(week):  # unstructured owes no hand-off and plans no account: capacity is selling hours
            return model.team.week(week).capacity[[r.seat for r in gone]].tolist()

        assert capacity(13) == [0.0] * 5
        model.run(3)  # weeks 14..16: still vacant (backfill after 4 weeks)
        assert capacity(16) == [0.0] * 5
        model.run(1)  # week 17 = 13 + backfill_weeks: a new hire at ramp[0]
        assert all(r.filled and r.hired_week == 17 for r in gone)
        assert capacity(17) == pytest.approx([ramp[0] * FULL_WEEK] * 5)
        assert capacity(29) == pytest.approx([ramp[0] * FULL_WEEK] * 5)
        assert capacity(30) == pytest.approx([ramp[1] * FULL_WEEK] * 5)  # a quarter of tenure later
    finally:
        model.release()
    result = run(s, make_policy("unstructured"), 2)
    capacity_week = weekly(result, "capacity_hours")
    assert capacity_week[13] == pytest.approx(15 * FULL_WEEK)
    assert capacity_week[17] == pytest.approx((15 + 5 * ramp[0]) * FULL_WEEK)
    assert capacity_week[30] == pytest.approx((15 + 5 * ramp[1]) * FULL_WEEK)


# ---- demand: one segment's rates --------------------------------------------------------------------------


def busy(shocks=()):
    """The small scenario with every new-logo and expansion rate five times higher (more arrivals to count)."""
    data = small_data()
    for seg in data["population"]["segments"]:
        for kind in ("new_logo", "expansion"):
            seg[kind]["rate_per_year"] *= 5
    data.update(quarters=4, shocks=list(shocks))
    return parse_scenario(data, "busy")


def arrivals(s, seed):
    """New-logo and expansion opportunities created over the run, by segment; and the intensities of week 0."""
    model = CoverageModel(s, make_policy("unstructured"), seed)
    counts = np.zeros(len(s.segment_names))
    try:
        model.step()
        rates = model.demand.lifted_rate.copy()
        for quarter in range(s.quarters):
            model.run(12 if quarter == 0 else 13)
            counts += model.recorder.tally.created[: Kind.RENEWAL].sum(axis=0)  # the quarter's, before its restart
    finally:
        model.release()
    return counts, rates, model.population.segment


def test_a_demand_shock_scales_arrivals_in_its_segment_only():
    factor = 0.5
    calm, calm_rates, segment = arrivals(busy(), 3)
    shocked, rates, _ = arrivals(busy([{"kind": "demand", "quarter": 1, "factor": factor, "segment": "smb"}]), 3)
    smb = segment == 2
    # The intensities: exactly the factor in smb, unchanged elsewhere (statuses are the week-0 ones in both).
    assert np.array_equal(rates[smb], factor * calm_rates[smb])
    assert np.array_equal(rates[~smb], calm_rates[~smb])
    # The counts. Arrivals are thinned Bernoulli draws over all accounts at once, so a shock that moves one
    # segment's bounds moves the other segments' draws too: equal in law, not draw for draw. Each count is
    # about Poisson: with N0 the calm count (its mean estimated by N0) and N1 the shocked one,
    # Var(N1 - f N0) <= f N0 + f^2 N0 if the two runs were independent; common random numbers only correlate
    # them positively, which makes the difference smaller. Four standard deviations each side.
    assert calm.min() > 200  # enough arrivals for the normal approximation
    for seg, f in ((0, 1.0), (1, 1.0), (2, factor)):
        tolerance = 4.0 * math.sqrt(f * calm[seg] * (1.0 + f))
        assert abs(shocked[seg] - f * calm[seg]) <= tolerance, (seg, shocked[seg], calm[seg], tolerance)
    # And the shock is seen: smb's count is far from the calm one.
    assert calm[2] - shocked[2] > 8.0 * math.sqrt(calm[2])


def test_a_demand_shock_on_one_region_scales_the_rates_of_its_accounts_only():
    east_smb = {
        "kind": "demand",
        "quarter": 1,
        "factor": 2.0,
        "region": "east",
        "segment": "smb",
        "opportunity": "new_logo",
    }
    shocks = ([], [{"kind": "demand", "quarter": 1, "factor": 0.5, "region": "east"}], [east_smb])
    models = [CoverageModel(two_regions(sh), make_policy("unstructured"), 7) for sh in shocks]
    calm, shocked, narrow = models
    try:
        for m in models:
            m.step()
        pop = calm.population
        east = pop.region == 1
        assert np.array_equal(shocked.demand.lifted_rate[east], 0.5 * calm.demand.lifted_rate[east])
        assert np.array_equal(shocked.demand.lifted_rate[~east], calm.demand.lifted_rate[~east])
        hit = east & (pop.segment == 2) & (pop.status == Status.PROSPECT)
        assert hit.sum() > 1000
        assert np.array_equal(narrow.demand.lifted_rate[hit], 2.0 * calm.demand.lifted_rate[hit])
        assert np.array_equal(narrow.demand.lifted_rate[~hit], calm.demand.lifted_rate[~hit])
        # Arrivals drawn at those rates (relationships held still): the east's halve, the west's stay, within
        # four standard deviations of the difference of two Poisson counts (as in the segment test above).
        counts = []
        for m in (calm, shocked):
            rng = np.random.default_rng(0)
            draws = [m.demand.arrivals(m.population, rng, np.uint64(5), w)[0] for w in range(200)]
            counts.append(np.bincount(pop.region[np.concatenate(draws)], minlength=2).astype(float))
        for region, f in ((0, 1.0), (1, 0.5)):
            n0, n1 = counts[0][region], counts[1][region]
            assert n0 > 1000 and abs(n1 - f * n0) <= 4.0 * math.sqrt(f * n0 * (1.0 + f)), (region, n0, n1)
    finally:
        for m in models:
            m.release()


# ---- potential: a shift between segments -------------------------------------------------------------------


def test_a_potential_shift_into_another_segment_keeps_the_total_potential():
    shift = {"kind": "potential_shift", "quarter": 1, "factor": 0.6, "segment": "enterprise", "into": "smb"}
    models = [CoverageModel(scenario(sh), make_policy("unstructured"), 4) for sh in ([shift], [])]
    shifted, calm = models
    try:
        for m in models:
            m.step()
        seg, before, after = calm.population.segment, calm.population.potential, shifted.population.potential
        ent, mid, smb = seg == 0, seg == 1, seg == 2
        lost = 0.4 * before[ent].sum()
        assert after[ent] == pytest.approx(0.6 * before[ent], rel=1e-15)
        assert np.array_equal(after[mid], before[mid])
        # smb's accounts gain the enterprise loss in proportion to their potential.
        assert after[smb] == pytest.approx(before[smb] * (1.0 + lost / before[smb].sum()), rel=1e-14)
        assert after[smb].sum() - before[smb].sum() == pytest.approx(lost, rel=1e-9)
        assert after.sum() == pytest.approx(before.sum(), rel=1e-12)
        assert shifted.population.segment_potential.sum() == pytest.approx(before.sum(), rel=1e-12)
        assert np.all(shifted.population.spend <= after)
    finally:
        for m in models:
            m.release()


# ---- key accounts of one segment ---------------------------------------------------------------------------


def test_key_account_loss_within_one_segment_churns_that_segments_largest():
    s = scenario([{"kind": "key_account_loss", "quarter": 1, "accounts": 3, "segment": "mid_market"}])
    model = CoverageModel(s, make_policy("unstructured"), 6)
    try:
        pop = model.population
        customers = np.flatnonzero(pop.status == Status.CUSTOMER)
        mid = customers[pop.segment[customers] == 1]
        top_mid = mid[np.argsort(-pop.spend[mid], kind="stable")[:3]]
        top_all = customers[np.argsort(-pop.spend[customers], kind="stable")[:3]]
        assert not set(top_all) & set(top_mid)  # the largest overall are enterprise accounts, not these
        model.step()
        assert np.all(pop.status[top_mid] == Status.CHURNED)
        assert np.all(pop.status[top_all] == Status.CUSTOMER)
        assert model.recorder.tally.churned[1] >= 3
    finally:
        model.release()


# ---- validation of the targets -----------------------------------------------------------------------------


def test_unknown_targets_are_one_line_each_naming_the_key():
    assert problems(
        [
            {"kind": "rep_attrition", "quarter": 1, "share": 0.5, "region": "north", "role": "hunter"},
            {"kind": "key_account_loss", "quarter": 1, "accounts": 2, "segment": "giants"},
            {"kind": "potential_shift", "quarter": 1, "factor": 0.5, "segment": "smb", "into": "giants"},
            {"kind": "demand", "quarter": 1, "factor": 0.5, "region": "local-ish"},
        ]
    ) == [
        "test: shocks.0.region: unknown region 'north' (the scenario's: local)",
        "test: shocks.0.role: no group of reps has role 'hunter'",
        "test: shocks.1.segment: unknown segment 'giants' (the scenario's: enterprise, mid_market, smb)",
        "test: shocks.2.into: unknown segment 'giants' (the scenario's: enterprise, mid_market, smb)",
        "test: shocks.3.region: unknown region 'local-ish' (the scenario's: local)",
    ]


def test_an_unknown_role_or_kind_lists_what_the_scenario_has():
    # A stress trial's "enterprise" (the segment a sales leader names the reps by) and "inbound" had been told
    # only that they were unknown.
    quits = {"kind": "rep_attrition", "quarter": 2, "seats": 2}
    assert problems([{**quits, "role": "enterprise"}, {**quits, "role": "ninja"}]) == [
        "test: shocks.0.role: unknown role 'enterprise' (the scenario's: full_cycle, inside, sdr); 'enterprise' is "
        "a segment: name the role of its reps",
        "test: shocks.1.role: unknown role 'ninja' (the scenario's: full_cycle, inside, sdr)",
    ]
    demand = {"kind": "demand", "quarter": 2, "factor": 0.7, "opportunity": "inbound"}
    assert problems([demand]) == [
        "test: shocks.0.opportunity: unknown kind 'inbound' (a rate's kinds: new_logo, expansion)"
    ]


def test_more_seats_leaving_than_the_team_has_is_refused():
    # A stress trial's ten quitting closers of a team of eight had been cut to all eight, unsaid.
    quits = {"kind": "rep_attrition", "quarter": 2}
    assert problems([{**quits, "seats": 3, "role": "full_cycle"}, {**quits, "seats": 6}]) == [
        "test: shocks.0.seats: 3 seats leave, but the team has 2 full_cycle seats",
        "test: shocks.1.seats: 6 seats leave, but the team has 5 seats",
    ]
    # Seats spread over every region may be in the one named; specialists an overlay launches count.
    assert problems([{**quits, "seats": 2, "role": "sdr", "region": "local"}]) == [
        "test: shocks.0.seats: 2 seats leave, but the team has 1 sdr seat in region 'local'"
    ]
    # One seat of a region with none of the role (an analyst's "1 seats leave").
    data = small_data()
    data["population"]["regions"] = [{**data["population"]["regions"][0], "share": 0.5}, {"name": "west", "share": 0.5}]
    data["reps"] = [{**g, "region": "local"} for g in data["reps"]]
    assert problems(
        [{**quits, "seats": 1, "role": "sdr", "region": "west"}], population=data["population"], reps=data["reps"]
    ) == ["test: shocks.0.seats: 1 seat leaves, but the team has 0 sdr seats in region 'west'"]
    launch = {"kind": "overlay_launch", "quarter": 1, "specialists": 2}
    assert [s.seats for s in scenario([{**quits, "seats": 5, "region": "local"}]).shocks] == [5]
    assert scenario([launch, {**quits, "seats": 2, "role": "specialist"}]).shocks[1].seats == 2
    assert scenario([launch, {**quits, "seats": 7}]).shocks[1].seats == 7
    # An unknown role or region is said once, as unknown.
    assert problems([{**quits, "seats": 9, "role": "ninja"}]) == [
        "test: shocks.0.role: unknown role 'ninja' (the scenario's: full_cycle, inside, sdr)"
    ]
    assert problems([{**quits, "seats": 9, "region": "nowhere"}]) == [
        "test: shocks.0.region: unknown region 'nowhere' (the scenario's: local)"
    ]


def test_specialist_attrition_is_valid_once_an_overlay_launch_adds_specialists():
    launch = {"kind": "overlay_launch", "quarter": 1, "specialists": 2}
    attrition = {"kind": "rep_attrition", "quarter": 2, "share": 0.5, "role": "specialist"}
    assert problems([attrition]) == ["test: shocks.0.role: no group of reps has role 'specialist'"]
    assert scenario([launch, attrition]).shocks[1].role == "specialist"


def test_a_shift_between_segments_needs_a_factor_below_one_a_source_and_another_segment():
    shift = {"kind": "potential_shift", "quarter": 1, "segment": "enterprise", "into": "smb"}
    assert problems([{**shift, "factor": 1.0}]) == [
        "test: shocks.0.factor: must be below 1 when into is set (the share of its potential each account of "
        "segment keeps, the rest moving into 'smb')"
    ]
    assert problems([{**shift, "factor": 0.5, "segment": ""}]) == [
        "test: shocks.0.segment: a shift into another segment needs the segment it comes from"
    ]
    assert problems([{**shift, "factor": 0.5, "into": "enterprise"}]) == [
        "test: shocks.0.into: must differ from segment"
    ]


# ---- rollout of a new coverage model from the current one --------------------------------------------------


class Recording:
    """A policy that keeps the owners of each plan it makes, by quarter (for the tests to read)."""

    def plan(self, view, rng):
        plan = super().plan(view, rng)
        self.__dict__.setdefault("owners", {})[view.quarter] = np.array(plan.owner)
        return plan


class Books(Recording, RandomBooks):
    """random_books, recording its plans."""


class Regions(Recording, Territories):
    """territories, recording its plans."""


BOOKS = "tests.test_stress_shocks:Books"


def rollout(quarter=2, quarters=1, current=None, warm=False):
    current = current or {"name": BOOKS}
    return {"kind": "rollout", "quarter": quarter, "quarters": quarters, "current": current, "warm": warm}


def plans_in_force(s, new, seed):
    """The owners of the plan in force at the start of each quarter, and the model (released)."""
    model = CoverageModel(s, new, seed)
    owners = {}
    try:
        for quarter in range(1, s.quarters + 1):
            model.run(13)
            owners[quarter] = np.array(model.plan.owner)
    finally:
        model.release()
    return owners, model


def test_a_phased_rollout_moves_a_further_third_of_the_accounts_each_quarter_to_the_new_plan():
    s = scenario([rollout(quarter=2, quarters=3)], quarters=4)
    owners, model = plans_in_force(s, Regions(), 1)
    rollout_policy = model.policy
    assert isinstance(rollout_policy, Rollout) and rollout_policy.name == "Regions"  # named as the policy under test
    current, new = rollout_policy.current.owners, rollout_policy.new.owners
    assert sorted(current) == [1, 2, 3] and sorted(new) == [2, 3, 4]  # each asked only while it covers accounts
    rank = rollout_rank(5000)
    for quarter, moved in ((1, 0), (2, 1667), (3, 3333), (4, 5000)):  # round(k / 3 x 5000)
        side = rank < moved
        assert side.sum() == moved
        if moved:
            assert np.array_equal(owners[quarter][side], new[quarter][side])
        if moved < 5000:
            assert np.array_equal(owners[quarter][~side], current[quarter][~side])
        if 0 < moved < 5000:
            # On each side, hundreds of accounts have different owners in the two plans: the checks tell them apart.
            differ = new[quarter] != current[quarter]
            assert differ[side].sum() > 200 and differ[~side].sum() > 200


def test_a_phased_rollout_interleaves_the_two_models_tasks_each_in_its_model_s_order():
    # unstructured's priorities run about 0 to 3, the standard priority's 10 to 31: merged as they were, no task
    # of an account not yet moved came before the median task of a moved one (0 of 70 here), and a stress trial's
    # phased rollout paid for it (20.2M behind a big-bang one; 14.9M with the tasks interleaved).
    from sim.policies.rollout import on_scale_of

    new = np.array([31.0, 10.0, 20.0, 30.0, 0.0, 20.5])  # one declined: its scale is 10, 20, 20.5, 30, 31
    current = np.array([0.2, 3.0, 0.5, -1.0, 0.9, 0.5])  # one declined: standings 1/5, 5/5, 3/5, -, 4/5, 3/5
    assert on_scale_of(current, new).tolist() == [10.0, 31.0, 20.5, -1.0, 30.0, 20.5]
    assert on_scale_of(new, new).tolist() == new.tolist()  # the same priorities: left as they are
    assert on_scale_of(current, np.zeros(6)).tolist() == current.tolist()  # nothing on the scale: as they are
    s = scenario([rollout(quarter=2, quarters=3, current={"name": "unstructured"})], quarters=2)
    model = CoverageModel(s, make_policy("segment_tiers"), 1)
    asked, seen = model.policy.prioritise, []

    def recorded(view, rng):
        out = asked(view, rng)
        seen.append((np.array(view.tasks.customer), out))
        return out

    model.policy.prioritise = recorded
    try:
        model.run(14)  # the first week of quarter 2, a third of the accounts moved
    finally:
        model.release()
    customer, priority = seen[-1]
    moved, taken = rollout_rank(5000)[customer] < 1667, priority > 0
    new, current = priority[moved & taken], priority[~moved & taken]
    assert new.size > 50 and current.size > 50
    assert 0.3 < (current > np.median(new)).mean() < 0.8


def test_a_big_bang_rollout_moves_every_account_at_once():
    s = scenario([rollout(quarter=2, quarters=1)], quarters=3)
    owners, model = plans_in_force(s, Regions(), 1)
    current, new = model.policy.current.owners, model.policy.new.owners
    assert sorted(current) == [1] and sorted(new) == [2, 3]
    assert np.array_equal(owners[1], current[1])
    assert np.array_equal(owners[2], new[2]) and np.array_equal(owners[3], new[3])


def test_the_rollout_order_is_the_account_number_alone_and_mixes_the_segments():
    rank = rollout_rank(5000)
    assert np.array_equal(np.sort(rank), np.arange(5000))
    # The same order of the first 5,000 accounts in a population of 20,000: it does not depend on the size.
    assert np.array_equal(np.argsort(rollout_rank(20_000)[:5000]), np.argsort(rank))
    model = CoverageModel(scenario(), make_policy("unstructured"), 1)
    segment = model.population.segment
    model.release()
    first = rank < 1667
    # Accounts are generated segment by segment; the first third in the order holds each segment in about
    # its share (binomial: 4 standard deviations of a share p among 1,667 accounts).
    for seg, share in enumerate((0.02, 0.18, 0.80)):
        assert abs((segment[first] == seg).mean() - share) < 4 * math.sqrt(share * (1 - share) / 1667)


def test_before_the_rollout_the_run_is_the_current_policys_own():
    shocked = run(scenario([rollout(quarter=2, current={"name": "random_books"})]), make_policy("territories"), 5)
    alone = run(scenario(), make_policy("random_books"), 5)
    assert shocked.policy == "territories"  # the run is labelled by the policy under test

    def quarter(result, q):
        m = result.metrics
        return m[m.quarter == q][["segment", "metric", "value"]].reset_index(drop=True)

    assert quarter(shocked, 1).equals(quarter(alone, 1))
    assert not quarter(shocked, 2).equals(quarter(alone, 2))
    w = lambda r: r.weekly[r.weekly.week < 13][["week", "metric", "value"]].reset_index(drop=True)  # noqa: E731
    assert w(shocked).equals(w(alone))


@pytest.mark.parametrize("model", ["hunter_farmer", "segment_tiers", "pooled"])
def test_a_phased_rollout_merges_two_plans_of_one_model_into_that_model_s_own_run(model):
    # The two sides pool the same inside team: one queue answers both models' leads (the current side's
    # pooled leads went to a queue no seat answered, and 135 were missed for want of an owner). The new side
    # is a subclass, so the rollout really merges two policies' answers; these three draw no random numbers.
    twin = type(f"Twin{model}", (type(make_policy(model)),), {})()
    shocked = run(scenario([rollout(quarter=2, quarters=2, current={"name": model})], quarters=4), twin, 1)
    alone = run(scenario(quarters=4), make_policy(model), 1)
    columns = ["quarter", "segment", "metric", "value"]
    pd.testing.assert_frame_equal(shocked.metrics[columns], alone.metrics[columns])


@pytest.mark.parametrize("kind", ["phased", "big_bang"])
def test_a_rollout_of_the_model_in_force_changes_nothing_even_for_a_model_that_draws(kind):
    # unstructured draws random numbers: asked on both sides of a rollout it drew twice as many, and a rollout
    # of it onto itself "gained" profit in a stress test. The same class with the same parameters is no rollout.
    quarters = {"quarters": 2} if kind == "phased" else {}
    current = {"name": "unstructured"}
    shocked = run(
        scenario([rollout(quarter=2, current=current, **quarters)], quarters=4), make_policy("unstructured"), 1
    )
    alone = run(scenario(quarters=4), make_policy("unstructured"), 1)
    columns = ["quarter", "segment", "metric", "value"]
    pd.testing.assert_frame_equal(shocked.metrics[columns], alone.metrics[columns])
    # Other parameters are another model: that is a rollout.
    other = run(
        scenario(
            [rollout(quarter=2, current={"name": "unstructured", "params": {"notice": 0.3}}, **quarters)], quarters=4
        ),
        make_policy("unstructured"),
        1,
    )
    assert not other.metrics[columns].equals(alone.metrics[columns])


def test_a_phased_rollout_from_a_model_that_pools_nobody_runs():
    # unstructured plans no pool: the current side's queues are none (an empty map of them was indexed).
    shocked = scenario([rollout(quarter=2, quarters=2, current={"name": "unstructured"})], quarters=3)
    result = run(shocked, make_policy("segment_tiers"), 1)
    assert result.metrics.query("metric == 'opps_won' and quarter == 2").value.sum() > 0


def handed_over(warm, new):
    """A big-bang rollout from random_books to ``new`` at quarter 2 on seed 1: the quarter-2 tallies and, for
    the accounts that changed hands at its start and saw no work in its first week, their personal stock
    before and after that week, and whether the hand-off rule let them go warm."""
    s = scenario([rollout(quarter=2, current={"name": "random_books"}, warm=warm)])
    model = CoverageModel(s, new, 1)
    try:
        model.run(13)
        before, holder, filled = model.population.personal.copy(), model.population.holder.copy(), model.team.filled()
        model.step()  # the rollout, then week 13
        owner = model.plan.owner
        moved = (owner >= 0) & (holder >= 0) & (owner != holder)
        worth = s.activities.call_stock * s.relationship.personal_share  # what a warm hand-off needs to be worth
        can_be_warm = moved & (before >= worth) & filled[np.maximum(holder, 0)] & filled[np.maximum(owner, 0)]
        quiet = moved & (model.recorder.touches == 0) & model.team.filled()[np.maximum(owner, 0)]
        after = model.population.personal
        tally = model.recorder.tally
        return before[quiet], after[quiet], can_be_warm[quiet], can_be_warm.sum(), tally, model.decay
    finally:
        model.release()


def test_a_rollout_pays_the_hand_off_rule_warm_keeps_more_and_costs_hours():
    handoff = scenario().relationship.handoff
    # Cold, even though the new policy would hand its changes over warm: the rollout's flag decides.
    before, after, _, _, cold, decay = handed_over(False, Territories(handoff="warm"))
    assert before.size > 50
    assert after == pytest.approx(before * handoff.cold_carry * decay, rel=1e-12)
    assert cold.handoff_hours.sum() == 0.0
    before, after, can_be_warm, warm_moves, warm, decay = handed_over(True, Territories())
    assert can_be_warm.sum() > 10 and (~can_be_warm).sum() > 10  # both rules are seen
    carry = np.where(can_be_warm, handoff.warm_carry, handoff.cold_carry)
    assert after == pytest.approx(before * carry * decay, rel=1e-12)
    # Each warm change costs both reps warm_hours; the warm rollout loses less of the personal relationship.
    assert warm.handoff_hours.sum() == pytest.approx(2 * handoff.warm_hours * warm_moves)
    assert warm.personal_lost.sum() < cold.personal_lost.sum()


def test_a_rollout_runs_through_the_experiment_worker_as_through_run():
    s = scenario([rollout(quarter=2, quarters=2, current={"name": "random_books"})])
    output = execute(RunSpec("k", s.model_dump_json(), "segment_tiers", {}, 3))
    assert output.status == "done", output.error
    columns = ["quarter", "segment", "metric", "value"]
    worker = pd.DataFrame(output.metrics, columns=columns)
    assert worker.equals(run(s, make_policy("segment_tiers"), 3).metrics[columns])
    # The rollout is in it: quarter 1 is random_books' own, not segment_tiers'.
    calm = run(scenario(), make_policy("segment_tiers"), 3).metrics[columns]
    assert not worker[worker.quarter == 1].reset_index(drop=True).equals(calm[calm.quarter == 1].reset_index(drop=True))


def test_a_phased_rollout_keeps_the_policy_contract():
    from sim.policies.contract import check_policy
    from sim.shocks import ModelRollout

    shock = ModelRollout(kind="rollout", quarter=2, quarters=2)
    with warnings.catch_warnings():
        # A rollout passes its policies' specialist offers on: none of these has one of its own to warn about.
        warnings.simplefilter("error")
        for current, new in (
            ("random_books", "segment_tiers"),
            ("pooled", "hunter_farmer"),
            ("overlay", "value_based"),
        ):
            assert check_policy(lambda c=current, n=new: Rollout.of(make_policy(c), make_policy(n), shock)) == []


# ---- validation of a rollout -------------------------------------------------------------------------------


def test_a_scenario_has_at_most_one_rollout_and_each_key_is_checked():
    assert problems([rollout(), rollout(quarter=2, quarters=2)]) == [
        "test: shocks.1: a scenario has at most one rollout (shocks.0 is one)"
    ]
    assert problems([{**rollout(), "quarters": 0, "quarter": 9}]) == [
        "test: shocks.0.quarters: Input should be greater than or equal to 1, not 0"
    ]


@pytest.mark.parametrize(
    ("current", "line"),
    [
        ({"name": "nope"}, "shocks.0.current.name: unknown policy 'nope'"),
        ({"name": "random_books", "params": {"bogus": 1}}, "shocks.0.current.params.bogus: unknown parameter"),
        (
            {"name": "segment_tiers", "params": {"field_segments": "giants"}},
            "shocks.0.current.params.field_segments: unknown segment 'giants' (the scenario's: enterprise, "
            "mid_market, smb)",
        ),
    ],
)
def test_the_current_model_is_checked_before_any_run_in_one_line(current, line):
    s = scenario([rollout(current=current)])
    with pytest.raises(InputError) as e:
        current_policy(s, "test: ")
    assert len(e.value.problems) == 1 and e.value.problems[0].startswith(f"test: {line}")
    with pytest.raises(InputError) as e:
        CoverageModel(s, make_policy("territories"), 1)  # the library path: before any simulated week
    assert e.value.problems[0].startswith(line)


def test_covsim_validate_and_run_name_a_bad_current_model(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        SMALL.read_text()
        + '\n[[shocks]]\nkind = "rollout"\nquarter = 2\ncurrent = { name = "random_books", params = { bogus = 1 } }\n'
    )
    line = f"{path}: shocks.0.current.params.bogus: unknown parameter"
    assert_bad_input(covsim("validate", str(path)), line)
    assert_bad_input(covsim("run", str(path), "--policy", "territories"), line)


def test_a_vacant_seat_s_book_goes_dark_under_keep_and_is_covered_under_cover():
    # A stress trial's quits left each vacated book dark for its vacancy: with books = "cover" the plan deals the
    # team's books over the seats filled at the quarter's start, and the leads of those accounts are not missed
    # as vacancy.
    quits = {"kind": "rep_attrition", "quarter": 2, "seats": 1, "role": "full_cycle"}
    world = scenario([quits], quarters=2)
    missed = {}
    for books in ("keep", "cover"):
        result = run(world, make_policy("segment_tiers", {"books": books}), seed=4)
        m = result.metrics[(result.metrics.segment == "all") & (result.metrics.metric == "missed_vacancy")]
        missed[books] = m.set_index("quarter").value
    assert missed["keep"][1] == missed["cover"][1] == 0  # before the quits: the same run, no vacancy
    assert missed["keep"][2] == 7 and missed["cover"][2] == 0  # the quitter's book: 7 leads missed, or none
