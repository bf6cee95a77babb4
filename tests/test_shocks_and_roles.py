"""Stress-test events and the special roles each have the effect they promise."""

from __future__ import annotations

import numpy as np
import pytest

from sim.codes import PARTNER, Kind, Status
from sim.model import CoverageModel
from sim.policies import make_policy
from sim.run import run
from sim.scenario import load_scenario, parse_scenario
from tests.conftest import SMALL, small_data


def scenario(**changes):
    data = small_data()
    data["quarters"] = 2
    data.update(changes)
    return parse_scenario(data)


def value(result, metric, quarter, segment="all"):
    m = result.metrics
    return float(m[(m.metric == metric) & (m.quarter == quarter) & (m.segment == segment)].value.iloc[0])


def test_rep_attrition_and_hiring_freeze_leave_seats_empty():
    calm = run(scenario(), make_policy("segment_tiers"), seed=1)
    shocked = run(
        scenario(
            shocks=[
                {"kind": "rep_attrition", "quarter": 2, "share": 1.0},
                {"kind": "hiring_freeze", "quarter": 2, "until_quarter": 2},
            ]
        ),
        make_policy("segment_tiers"),
        seed=1,
    )
    assert value(shocked, "capacity_hours", 2) == 0
    assert value(shocked, "hours_total", 2) == 0
    assert value(shocked, "opps_won", 2) < value(calm, "opps_won", 2)
    assert value(shocked, "missed_vacancy", 2) > 0  # named accounts routed to empty seats
    # Quarter 1 is untouched by a quarter-2 shock (common random numbers).
    q1 = lambda r: r.metrics[r.metrics.quarter == 1].value.to_numpy()  # noqa: E731
    assert np.array_equal(q1(calm), q1(shocked), equal_nan=True)


def test_attrition_of_one_role_only():
    model = CoverageModel(
        scenario(shocks=[{"kind": "rep_attrition", "quarter": 1, "share": 1.0, "role": "inside"}]),
        make_policy("unstructured"),
        1,
    )
    try:
        model.step()
        assert {r.role for r in model.team.seats if not r.filled} == {"inside"}
        assert all(r.filled for r in model.team.seats if r.role != "inside")
    finally:
        model.release()


def test_the_teams_arrays_follow_its_agents_week_by_week():
    """Team reads its agents' state into arrays only after a change (``Team._state``): every week of a run
    with attrition, backfills and warm hand-offs (books dealt again every quarter), the arrays a week
    sees are the agents'."""
    world = load_scenario(SMALL).with_overrides(
        **{"reps.0.count": 6, "workforce.attrition_per_year": 0.6, "workforce.backfill_weeks": 3}
    )
    model = CoverageModel(world, make_policy("hunter_farmer", {"books": "redeal", "handoff": "warm"}), 3)
    try:
        vacant = owing = ramping = 0
        ramp = world.workforce.ramp
        for _ in range(model.weeks):
            model.step()
            seats, week = model.team.seats, model.team.week(model.week)
            owed = np.array([r.handoff_owed for r in seats])
            assert np.array_equal(week.filled, [r.filled for r in seats])
            assert np.array_equal(week.skill, [r.skill for r in seats])
            assert np.array_equal(week.handoff, np.minimum(0.5 * (week.capacity + week.handoff), owed))
            # A week's hours follow each holder's ramp, quarter by quarter of its tenure, though the team's
            # arrays are reused for as long as nothing changes.
            tenure = [min((model.week - r.hired_week) // 13, len(ramp) - 1) for r in seats]
            paid = [
                r.weekly_hours * r.selling_share * ramp[t] if r.filled else 0.0
                for r, t in zip(seats, tenure, strict=True)
            ]
            assert np.allclose(week.capacity + week.handoff + week.coordination, paid)
            # Its totals, worked out once per SeatWeek, are this week's, whichever week made it.
            totals = week.totals
            assert totals.filled == week.filled.sum() and totals.capacity == week.capacity.sum()
            assert totals.cost_per_year == week.cost_per_year[week.filled].sum()
            assert totals.coordination == week.coordination.sum()
            assert totals.own_filled == (week.filled & (week.role_index != PARTNER)).sum()
            ramping += any(r.filled and t < len(ramp) - 1 for r, t in zip(seats, tenure, strict=True))
            vacant += not week.filled.all()
            owing += owed.any()
        # Seats did empty and fill, new holders ramped up, and hand-offs were owed and made.
        assert vacant > 10 and owing > 10 and ramping > 10
    finally:
        model.release()


def test_demand_shock_zero_stops_new_demand_in_one_segment():
    model = CoverageModel(
        scenario(shocks=[{"kind": "demand", "quarter": 2, "factor": 0.0, "segment": "smb"}]),
        make_policy("unstructured"),
        2,
    )
    smb, mid = 2, 1
    try:
        model.run(13)
        assert model.recorder.tally.created[: Kind.RENEWAL, smb].sum() > 0
        model.run(13)
        # New logos and expansions stop; renewals still come due on their contract dates.
        assert model.recorder.tally.created[: Kind.RENEWAL, smb].sum() == 0
        assert model.recorder.tally.created[Kind.RENEWAL, smb] > 0
        assert model.recorder.tally.created[: Kind.RENEWAL, mid].sum() > 0
    finally:
        model.release()


def test_potential_shift_scales_potential():
    base = CoverageModel(scenario(), make_policy("unstructured"), 3)
    shifted = CoverageModel(
        scenario(shocks=[{"kind": "potential_shift", "quarter": 1, "factor": 0.5, "segment": "enterprise"}]),
        make_policy("unstructured"),
        3,
    )
    try:
        base.step()
        shifted.step()
        ent = base.population.segment == 0
        assert np.allclose(shifted.population.potential[ent], 0.5 * base.population.potential[ent])
        assert np.array_equal(shifted.population.potential[~ent], base.population.potential[~ent])
        assert np.all(shifted.population.spend <= shifted.population.potential)
        # The segment totals the metrics read follow the shift (the engine does not recount them each quarter).
        pop = shifted.population
        assert pop.segment_potential[0] == pytest.approx(0.5 * base.population.segment_potential[0], rel=1e-12)
        assert np.array_equal(pop.segment_potential, np.bincount(pop.segment, weights=pop.potential))
    finally:
        base.release()
        shifted.release()


def test_continuity_realignment_deals_owned_accounts_again_and_they_keep_only_the_cold_carry():
    shock = [{"kind": "realignment", "quarter": 2, "share": 1.0}]
    models = [CoverageModel(scenario(shocks=sh), make_policy("segment_tiers"), 4) for sh in (shock, [])]
    realigned, calm = models
    try:
        for m in models:
            m.run(13)
        before = realigned.population.personal.copy()
        for m in models:
            m.step()  # quarter 2 starts: the same plan, then every owned account is dealt again
        owner, plan_owner = realigned.plan.owner, calm.plan.owner
        assert np.array_equal(np.bincount(owner[owner >= 0]), np.bincount(plan_owner[plan_owner >= 0]))
        moved = (owner >= 0) & (owner != plan_owner)
        # A shuffle among k owners of equal books leaves about 1 / k of the accounts with their owner.
        k = np.unique(owner[owner >= 0]).size
        assert moved.sum() > 0.7 * (1 - 1 / k) * (owner >= 0).sum()
        quiet = moved & (realigned.recorder.touches == 0) & (before > 0)
        assert quiet.sum() > 5
        carry = realigned.scenario.relationship.handoff.cold_carry
        assert realigned.population.personal[quiet] == pytest.approx(before[quiet] * carry * realigned.decay)
        assert np.array_equal(realigned.population.holder[quiet], owner[quiet])
    finally:
        for m in models:
            m.release()


def test_a_realignment_leaves_later_shocks_draws_alike_under_every_policy():
    # A realignment draws as many as the policy owns accounts; on the shared shock stream that changed which
    # seats a later attrition vacated from policy to policy (no common random numbers). It draws from a
    # generator of its own: the seats that leave are those of the same world with no realignment.
    data = small_data()
    data["population"]["customers"] = 2000
    data["workforce"] = {"attrition_per_year": 0.0}
    data["reps"] = [{"role": "full_cycle", "count": 6}]
    attrition = {"kind": "rep_attrition", "quarter": 3, "share": 0.5}
    realigned = parse_scenario({**data, "shocks": [{"kind": "realignment", "quarter": 2, "share": 0.5}, attrition]})
    calm = parse_scenario({**data, "shocks": [attrition]})
    left = {}
    for name in ("segment_tiers", "random_books", "territories", "unstructured"):
        for world in (realigned, calm):
            model = CoverageModel(world, make_policy(name, {}, scenario=world), 7)
            try:
                model.run(27)  # into quarter 3
                left[name, world is calm] = [seat for seat, filled in enumerate(model.team.filled()) if not filled]
            finally:
                model.release()
    assert len({tuple(seats) for seats in left.values()}) == 1, left
    assert len(left["unstructured", True]) == 3


def test_overlay_launch_adds_specialists_and_expansion_demand():
    s = scenario(shocks=[{"kind": "overlay_launch", "quarter": 2, "specialists": 2, "expansion_lift": 3.0}])
    r = run(s, make_policy("unstructured"), seed=5)
    calm = run(scenario(), make_policy("unstructured"), seed=5)
    assert "hours_role_specialist" in set(r.metrics.metric)
    assert value(r, "won_value_expansion", 2) + value(r, "opps_created", 2) > value(calm, "opps_created", 2)


def test_key_account_loss_churns_the_largest_customers():
    s = scenario(shocks=[{"kind": "key_account_loss", "quarter": 1, "accounts": 5}])
    model = CoverageModel(s, make_policy("unstructured"), 6)
    try:
        spend = model.population.spend.copy()
        top = np.argsort(-spend)[:5]
        model.step()
        assert np.all(model.population.status[top] == 2)
        assert model.recorder.tally.churned.sum() >= 5
    finally:
        model.release()


def test_channel_partner_keeps_its_margin():
    data = small_data()
    data["quarters"] = 2
    data["reps"] = [
        {"role": "partner", "count": 3, "margin": 0.25, "cost_per_year": 0.0},
        {"role": "inside", "count": 1},
    ]
    r = run(parse_scenario(data), make_policy("unstructured"), seed=1)
    margin = sum(value(r, "partner_margin", q) for q in (1, 2))
    assert margin > 0
    assert value(r, "cost_of_sales", 1) == pytest.approx(
        110_000 * 0 + 150_000 * 13 / 52 + value(r, "partner_margin", 1)
    )
    # The team's own seats are counted without the partners' (seat-weeks, cost per own seat).
    model = CoverageModel(parse_scenario(data), make_policy("unstructured"), 1)
    try:
        model.step()
        totals = model.team.week(model.week).totals
        assert (totals.filled, totals.own_filled, totals.cost_per_year) == (4.0, 1.0, 150_000.0)
    finally:
        model.release()


def test_sdr_hands_off_to_a_closer():
    data = small_data()
    data["quarters"] = 1
    data["reps"] = [{"role": "sdr", "count": 2}, {"role": "inside", "count": 2}]
    r = run(parse_scenario(data), make_policy("segment_tiers"), seed=2)
    assert value(r, "hours_role_sdr", 1) > 0
    assert value(r, "hours_work", 1) > 0 and value(r, "opps_won", 1) > 0
    # SDR time is responses only: all work hours are the closers'.
    assert value(r, "hours_role_sdr", 1) <= value(r, "hours_response", 1) + 1e-9


def test_field_reps_travel_and_inside_reps_do_not():
    field = run(scenario(), make_policy("segment_tiers"), seed=1)
    assert value(field, "hours_travel", 1) > 0
    data = small_data()
    data["reps"] = [{"role": "inside", "count": 3}]
    inside = run(parse_scenario(data), make_policy("segment_tiers"), seed=1)
    assert value(inside, "hours_travel", 1) == 0


def test_customers_start_with_spend_and_prospects_without():
    model = CoverageModel(scenario(), make_policy("unstructured"), 1)
    try:
        pop = model.population
        assert np.all((pop.spend > 0) == (pop.status == Status.CUSTOMER))
    finally:
        model.release()
