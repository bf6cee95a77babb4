"""Overlays and lanes (Mechanics II, item 2): product lines in the wallet and on opportunities, line
specialists who touch and work their line, conflicting engagement week by week with its penalties,
coordination as an account plan that costs hours, and lanes (what a rep is paid on) deciding what it
pursues."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.codes import WHOLE_CONTRACT, Cause, Kind, Service, Stage, TaskKind
from sim.compiled import compiled
from sim.engagement import _sorted, conflicting_accounts
from sim.errors import InputError, PolicyError
from sim.metrics import run_totals
from sim.model import CoverageModel
from sim.policies import make_policy
from sim.policies.overlay import Overlay
from sim.policies.protocol import (
    CoveragePlan,
    PlanView,
    Policy,
    RouteView,
    TaskView,
    checked_plan,
    checked_specialist_touches,
)
from sim.policies.rollout import with_rollout
from sim.policies.rules import empty_plan
from sim.population import Population
from sim.run import run
from sim.scenario import load_scenario
from tests.conftest import ROOT, SMALL, kind, tiny

LINES = [
    {"name": "core", "wallet_share": 0.6},
    {"name": "security", "wallet_share": 0.25},
    {"name": "analytics", "wallet_share": 0.15},
]
SPECIALISTS = [
    {"role": "specialist", "count": 2, "line": "security", "lane": "own_line"},
    {"role": "specialist", "count": 2, "line": "analytics", "lane": "own_line"},
]


def overlay_world(lane: str = "own_line", **changes: Any):
    """The small world (5,000 accounts, 2 field, 2 inside, 1 SDR) with three lines and four specialists."""
    base = load_scenario(SMALL)
    reps = [g.model_dump(mode="json") for g in base.reps] + [{**g, "lane": lane} for g in SPECIALISTS]
    return base.with_overrides("overlay", **{"population.lines": LINES, "reps": reps, **changes})


def totals(scenario, policy: str, seeds=(1, 2, 3), **params) -> dict[str, float]:
    """Run totals over ``seeds`` (segment all), summed."""
    out: dict[str, float] = {}
    for seed in seeds:
        t = run_totals(run(scenario, make_policy(policy, params), seed).metrics)
        for metric, value in t[t.segment == "all"].set_index("metric").value.items():
            out[metric] = out.get(metric, 0.0) + value
    return out


# ---- product lines ----------------------------------------------------------------


def test_overlay_lines_split_every_wallet_and_spend_sums_over_them():
    world = overlay_world()
    pop = Population.generate(world, np.random.default_rng(5))
    assert pop.lines == 3
    np.testing.assert_allclose(pop.line_share.sum(axis=1), 1.0)
    np.testing.assert_allclose(pop.line_spend.sum(axis=1), pop.spend)
    # Each account draws its own split; the mean split is the scenario's (Dirichlet mean; 5,000 accounts:
    # the standard error of a mean share is under 0.003).
    np.testing.assert_allclose(pop.line_share.mean(axis=0), [0.6, 0.25, 0.15], atol=0.01)
    assert pop.line_share[:, 1].std() > 0.05


def won_expansions(pop: Population, customers: np.ndarray, value: np.ndarray, line: np.ndarray) -> None:
    """Expansions won on ``customers`` (customers already), as the engine applies them."""
    pop.won(customers, np.full(customers.size, Kind.EXPANSION, dtype=np.int8), value, line, week=0)


def test_overlay_one_line_keeps_spend_and_line_spend_the_same_memory():
    pop = Population.generate(load_scenario(SMALL), np.random.default_rng(5))
    assert pop.lines == 1 and np.shares_memory(pop.line_spend, pop.spend)
    c = np.flatnonzero(pop.spend > 0)[:3]
    before = pop.spend[c].copy()
    won_expansions(pop, c, np.array([10.0, 20.0, 30.0]), np.zeros(3, np.int64))
    np.testing.assert_allclose(pop.spend[c], np.minimum(before + np.array([10.0, 20.0, 30.0]), pop.potential[c]))


def test_overlay_expansion_fills_its_own_line_up_to_that_lines_wallet():
    pop = Population.generate(overlay_world(), np.random.default_rng(5))
    c = int(np.flatnonzero(pop.spend > 0)[0])
    wallet = pop.potential[c] * pop.line_share[c]
    core, security = pop.line_spend[c, 0], pop.line_spend[c, 1]
    won_expansions(pop, np.array([c, c]), np.array([1.0, 2.0]), np.array([1, 1]))
    assert pop.line_spend[c, 1] == pytest.approx(security + 3.0)
    assert pop.line_spend[c, 0] == core
    won_expansions(pop, np.array([c]), np.array([1e12]), np.array([1]))
    assert pop.line_spend[c, 1] == pytest.approx(wallet[1])
    assert pop.spend[c] == pytest.approx(pop.line_spend[c].sum())
    assert pop.segment_spend.sum() == pytest.approx(pop.spend.sum())


def test_overlay_renewal_churn_and_potential_shift_move_every_line_with_the_total():
    pop = Population.generate(overlay_world(), np.random.default_rng(5))
    c = np.flatnonzero(pop.spend > 0)[:4]
    split = pop.line_spend[c] / pop.spend[c, None]
    pop.renew(c, pop.spend[c] * 0.5)
    np.testing.assert_allclose(pop.line_spend[c] / pop.spend[c, None], split)  # renewed at half: same split
    pop.scale_potential(c[:2], 0.01)
    assert (pop.line_spend[c[:2]] <= pop.potential[c[:2], None] * pop.line_share[c[:2]] + 1e-9).all()
    pop.renew(c[2:3], pop.potential[c[2:3]] * 5.0)  # renewed far above the wallet: each line stops at its own
    wallet = pop.potential[c[2], None] * pop.line_share[c[2]]
    assert (pop.line_spend[c[2]] <= wallet + 1e-9).all() and pop.spend[c[2]] <= pop.potential[c[2]] + 1e-9
    pop.churn(c[2:])
    assert (pop.line_spend[c[2:]] == 0).all() and (pop.spend[c[2:]] == 0).all()
    np.testing.assert_allclose(pop.line_spend.sum(axis=1), pop.spend)
    assert pop.segment_spend.sum() == pytest.approx(pop.spend.sum())


def test_overlay_opportunities_sell_one_line_each_in_proportion_to_the_wallet_and_renewals_the_contract():
    model = CoverageModel(overlay_world(quarters=1), make_policy("overlay"), 3)
    lines, kinds = [], []
    for _ in range(13):
        model.step()
        lines.append(model.book.line.copy())
        kinds.append(model.book.kind.copy())
    model.release()
    line, kind_ = np.concatenate(lines), np.concatenate(kinds)
    assert (line[kind_ == Kind.RENEWAL] == WHOLE_CONTRACT).all()
    new = line[kind_ == Kind.NEW_LOGO]
    share = np.bincount(new, minlength=3) / new.size
    # Prospects buy a line in proportion to their wallet split (mean 0.6 / 0.25 / 0.15); open deals are
    # counted once a week while open, so allow 4 binomial standard errors of the smallest count.
    tolerance = 4 * np.sqrt(0.25 * 0.75 / (new.size / 8))
    np.testing.assert_allclose(share, [0.6, 0.25, 0.15], atol=tolerance)


def test_overlay_scenario_errors_name_the_line_problems():
    with pytest.raises(InputError) as e:
        overlay_world().with_overrides("x", **{"reps.4.line": "hardware"})
    assert "reps.4.line: unknown product line 'hardware'" in str(e.value)
    with pytest.raises(InputError) as e:
        load_scenario(SMALL).with_overrides("x", **{"population.lines": [{"name": "a", "wallet_share": 0.5}]})
    assert "lines: shares sum to 0.5, not 1" in str(e.value)
    with pytest.raises(InputError) as e:
        load_scenario(SMALL).with_overrides("x", **{"reps.0.lane": "own_line"})
    assert "lane: own_line needs the seats' line" in str(e.value)


# ---- conflicting engagement ---------------------------------------------------------


def test_overlay_conflicts_are_two_distinct_seats_on_an_account_in_one_week():
    customer = np.array([5, 5, 7, 7, 9, 9, 9])
    seat = np.array([1, 1, 1, 2, 3, 4, 3])
    coordinated = np.zeros(10, dtype=bool)
    # Account 5: one seat twice (no conflict); 7: two seats; 9: two seats, one of them twice.
    assert conflicting_accounts(customer, seat, coordinated).tolist() == [7, 9]
    coordinated[9] = True
    assert conflicting_accounts(customer, seat, coordinated).tolist() == [7]
    assert conflicting_accounts(customer[:1], seat[:1], coordinated).size == 0
    # Seat 4 keeps out of account plans (paid on its own line, a plan that does not bind it): 9 clashes again.
    joins = np.array([True, True, True, True, False])
    assert conflicting_accounts(customer, seat, coordinated, joins).tolist() == [7, 9]
    coordinated[7] = True  # seats 1 and 2 both join: 7 is coordinated
    assert conflicting_accounts(customer, seat, coordinated, joins).tolist() == [9]
    assert coordinated.tolist() == [False] * 7 + [True, False, True]  # the plan's own mask left as it was


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.integers(1, 60), st.integers(1, 8))
def test_overlay_conflicts_are_those_of_distinct_pairs(seed, n, accounts, seats):
    # The compiled pass against the plain definition: accounts with two or more distinct seats, not coordinated.
    rng = np.random.default_rng(seed)
    customer, seat = rng.integers(0, accounts, n), rng.integers(-2, seats, n)  # any seat numbers, -1 and -2 too
    coordinated = rng.random(accounts) < 0.2
    pairs = {(int(c), int(s)) for c, s in zip(customer, seat, strict=True)}
    seats_of = {c: sum(1 for a, _ in pairs if a == c) for c, _ in pairs}
    expected = sorted(c for c, k in seats_of.items() if k >= 2 and not coordinated[c])
    got = conflicting_accounts(customer, seat, coordinated)
    assert got.dtype == np.int64 and got.tolist() == expected
    # With seats that keep out of plans: a coordinated account is exempt only if every seat that worked it joins.
    seat = np.abs(seat)
    joins = rng.random(seats + 2) < 0.5
    pairs = {(int(c), int(s)) for c, s in zip(customer, seat, strict=True)}
    expected = sorted(
        c
        for c in {a for a, _ in pairs}
        if len(on := [s for a, s in pairs if a == c]) >= 2 and not (coordinated[c] and all(joins[s] for s in on))
    )
    assert conflicting_accounts(customer, seat, coordinated, joins).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 3000), st.integers(0, 62))
def test_conflicts_radix_sort_orders_keys_of_any_width_as_np_sort(seed, n, bits):
    # Keys of 0 to 62 bits: no pass (all zero) to eight passes, bytes shared by every key included.
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 2**bits, n, dtype=np.int64) if bits else np.zeros(n, dtype=np.int64)
    keys[: n // 4] = keys[0] if n else 0  # a run of equal keys
    got = compiled(_sorted)(keys)
    assert got.dtype == np.int64 and got.tobytes() == np.sort(keys).tobytes()


def test_overlay_an_uncoordinated_overlay_makes_conflicts_that_cost_relationship_and_wins():
    # Plans of half an hour a quarter, which every seat has the hours for (at 2 h a ramping specialist's third of
    # a week's hours cannot plan all of its 40 accounts: test_overlay_coordination_keeps_only_the_plans...).
    world = overlay_world(**{"relationship.coordination_hours": 0.5})
    loose = totals(world, "overlay")
    tight = totals(world, "overlay", coordinated=True)
    assert loose["conflicting_engagements"] > 20
    assert tight["conflicting_engagements"] == 0
    # The same worlds and draws (common random numbers): the uncoordinated team wins less of what it works.
    assert loose["opps_won"] / (loose["opps_won"] + loose["opps_lost"]) < tight["opps_won"] / (
        tight["opps_won"] + tight["opps_lost"]
    )
    assert loose["coordination_hours"] == 0 and tight["coordination_hours"] > 0
    assert loose["opps_decided_in_conflict"] > 0 and tight["opps_decided_in_conflict"] == 0
    # The relationship the conflicts cost is reported (it showed in no metric: a policy writer's trial).
    assert loose["conflict_stock_lost"] > 0 and tight["conflict_stock_lost"] == 0


def test_lane_a_specialist_paid_on_its_own_line_joins_an_account_plan_only_where_the_plan_binds_it():
    """Pay decides who coordinates (DESIGN §2): an account plan that does not bind the specialists paid on their own
    line leaves their work beside the owner a conflicting engagement, at the owner's plan hours alone; specialists
    paid on every line join it either way."""
    world = overlay_world(**{"relationship.coordination_hours": 0.5})
    bound = totals(world, "overlay", coordinated=True)
    loose = totals(world, "overlay")
    apart = totals(world, "overlay", coordinated=True, lanes_join=False)
    assert bound["conflicting_engagements"] == 0 and loose["conflicting_engagements"] > 20
    # The specialists are the second seat on every clash of this world: not binding them leaves the clashes
    # (the same worlds and draws, the same work up to what the plans' hours take).
    assert apart["conflicting_engagements"] >= 0.8 * loose["conflicting_engagements"]
    assert apart["opps_decided_in_conflict"] > 0 and apart["conflict_stock_lost"] > 0
    # Only the owners plan: each coordinated account costs one seat's hours, not its whole team's.
    assert 0 < apart["coordination_hours"] < 0.6 * bound["coordination_hours"]
    # Paid on every line, the specialists join the plan whether or not it binds them.
    paid_on_all = overlay_world("all_lines", **{"relationship.coordination_hours": 0.5})
    joined = totals(paid_on_all, "overlay", coordinated=True, lanes_join=False)
    assert pd.Series(joined).equals(pd.Series(totals(paid_on_all, "overlay", coordinated=True)))  # NaN as NaN
    assert joined["conflicting_engagements"] == 0


def test_lane_a_phased_rollout_keeps_the_new_model_s_lanes_join_and_a_team_that_joins_nothing_has_no_plan():
    # A review's: a phased rollout merged the two plans into one with lanes_join True, whatever both said.
    apart = {"name": "overlay", "params": {"coordinated": True, "lanes_join": False}}
    rollout = {"kind": "rollout", "quarter": 2, "quarters": 3, "current": apart}
    world = overlay_world(quarters=4, shocks=[rollout], **{"relationship.coordination_hours": 0.5})
    policy = with_rollout(make_policy("overlay", {"coordinated": True, "lanes_join": False}), world)
    model = CoverageModel(world, policy, seed=1)
    for _ in range(4):
        model.run(13)
        assert model.plan.lanes_join is False
    model.release()
    # Specialists who own books (owners = everyone) and keep to their lanes: an account whose team is theirs alone
    # has no plan in force, coordinated or not (it had stayed marked coordinated, planned by nobody).
    model = CoverageModel(
        overlay_world(quarters=1),
        make_policy("overlay", {"coordinated": True, "lanes_join": False, "owners": "everyone"}),
        1,
    )
    model.step()
    plan, paid = model.plan, model.team.paid_on_every_line()
    team = np.column_stack([plan.owner, plan.specialist])
    nobody = ((team < 0) | ~paid[np.maximum(team, 0)]).all(axis=1)
    assert (nobody & (plan.specialist >= 0).any(axis=1)).any()  # such accounts exist in this world
    assert not plan.coordinated[nobody].any()
    assert plan.coordinated[~nobody & (plan.specialist >= 0).any(axis=1) & (plan.owner >= 0)].all()
    model.release()


def test_lane_a_plan_s_lanes_join_must_be_a_truth_value():
    model = CoverageModel(overlay_world(quarters=1), make_policy("overlay", {"coordinated": True}), 3)
    plan = model.plan
    with pytest.raises(PolicyError, match=r"plan.lanes_join must be True or False .* got str"):
        checked_plan(_with(plan, lanes_join="no"), plan.owner.size, len(model.team), "p", 3)
    assert (
        checked_plan(_with(plan, lanes_join=np.bool_(False)), plan.owner.size, len(model.team), "p", 3).lanes_join
        is False
    )
    model.release()


def test_overlay_a_conflicting_week_strains_the_relationship():
    pop = Population.generate(overlay_world(), np.random.default_rng(5))
    pop.stock[:3], pop.personal[:3] = 2.0, 1.0
    lost = pop.strain(np.array([0, 2]), 0.9)
    assert lost.tolist() == pytest.approx([0.2, 0.2])  # what conflict_stock_lost counts
    assert pop.stock[:3].tolist() == pytest.approx([1.8, 2.0, 1.8])
    assert pop.personal[:3].tolist() == pytest.approx([0.9, 1.0, 0.9])


# ---- coordination -------------------------------------------------------------------


def test_overlay_coordination_costs_each_team_seat_its_hours_every_quarter():
    world = overlay_world(quarters=1, **{"relationship.coordination_hours": 2.6})
    model = CoverageModel(world, make_policy("overlay", {"coordinated": True}), 3)
    model.step()
    plan = model.plan
    coordinated = np.flatnonzero(plan.coordinated)
    assert plan.specialist is not None and coordinated.size > 0
    # Only accounts with a specialist beside the owner have a team to coordinate.
    assert (plan.specialist[coordinated] >= 0).any(axis=1).all()
    team = np.concatenate([plan.owner[coordinated], *plan.specialist[coordinated].T])
    owed = np.bincount(team[team >= 0], minlength=len(model.team)) * 2.6 / 13
    seats = model.team.week(0)
    hours = seats.capacity + seats.handoff + seats.coordination
    np.testing.assert_allclose(seats.coordination, np.minimum(owed, 0.5 * hours - seats.handoff))
    # A vacant seat spends nothing on account plans, and the metric counts the hours taken.
    specialist = int(plan.specialist[coordinated[0]].max())
    model.team.vacate(np.array([specialist]), 1)
    taken = [float(seats.coordination.sum())]
    end_week = model.recorder.end_week

    def seen(week, spend, seats, open_):  # the team each week's work used
        assert seats.coordination[specialist] == 0.0
        taken.append(float(seats.coordination.sum()))
        end_week(week, spend, seats, open_)

    model.recorder.end_week = seen
    model.run(12)
    assert model.recorder.tally.coordination_hours == pytest.approx(sum(taken))
    assert sum(taken) < 13 * owed.sum()  # the vacant specialist's share was not spent
    model.release()


def test_overlay_coordination_keeps_only_the_plans_its_seats_have_hours_for():
    # Half a week's hours a quarter pay for 5 plans of 40 h a seat: asked for more, a seat had made what its hours
    # allowed and every account still counted as coordinated, so no conflict cost anything (an audit).
    world = overlay_world(quarters=1, **{"relationship.coordination_hours": 40.0})
    asked = make_policy("overlay", {"coordinated": True})
    model = CoverageModel(world, asked, 3)
    model.step()
    plan, pop = model.plan, model.population
    team = np.column_stack([plan.owner, plan.specialist])
    wanted = (team >= 0).any(axis=1) & (plan.specialist >= 0).any(axis=1)  # what the policy marks coordinated
    kept = plan.coordinated
    assert kept.sum() > 0 and (wanted & ~kept).sum() > 0 and not (kept & ~wanted).any()
    # The plans asked for and not made are reported, by segment (only the plan in force had told a policy writer).
    unmade = model.recorder.tally.plans_unmade
    assert unmade.sum() == (wanted & ~kept).sum()
    np.testing.assert_array_equal(unmade, np.bincount(pop.segment[wanted & ~kept], minlength=unmade.size))
    plans = np.floor(model.team.plan_budget(0) / 40.0 + 1e-9)
    per_seat = np.bincount(team[kept][team[kept] >= 0], minlength=len(model.team))
    assert (per_seat <= plans).all()
    # Every plan kept is made in full (none cut by the week's cap), so a coordinated account costs its hours.
    seats = model.team.week(0)
    np.testing.assert_allclose(seats.coordination, per_seat * 40.0 / 13)
    # Of the accounts a full seat could not plan, none is larger than every account it plans.
    for seat in np.flatnonzero(per_seat == plans):
        mine = (team == seat).any(axis=1)
        if (mine & wanted & ~kept).any():
            assert pop.potential[mine & kept].max() >= pop.potential[mine & wanted & ~kept].max()
    model.release()
    # What is not planned is worked as uncoordinated: conflicts come back, fewer than with no plans at all.
    few, none = totals(world, "overlay", coordinated=True), totals(world, "overlay")
    assert 0 < few["conflicting_engagements"] < none["conflicting_engagements"]


def test_overlay_a_seat_owing_hand_offs_keeps_the_plans_its_first_week_leaves_room_for():
    # Plans are spread evenly and a week's unmade plan hours are not carried: the first week, where owed hand-offs
    # go first, binds (a budget of the quarter's half-weeks less the hand-offs left plans unmade in weeks 1-2).
    from sim.engagement import planned_accounts

    model = CoverageModel(overlay_world(quarters=1), make_policy("overlay", {"coordinated": True}), 3)
    team = model.team
    week = team.week(0)
    half = 0.5 * (week.capacity + week.handoff + week.coordination)
    team.owe_handoffs(np.array([0, 0, 1]), 6.0)  # seat 0 owes 12 h, seat 1 6 h
    owed = np.bincount([0, 0, 1], minlength=half.size) * 6.0
    budget = team.plan_budget(0)
    np.testing.assert_allclose(budget, 13 * np.maximum(half - owed, 0.0))
    plans = np.floor(budget / 2.0 + 1e-9).astype(np.int64)
    team.plan_coordination(np.repeat(np.arange(half.size), plans), 2.0)
    np.testing.assert_allclose(team.week(0).coordination, plans * 2.0 / 13)  # made in full, hand-offs and all
    model.release()
    # A team whose every seat is vacant plans nothing: its account is not coordinated for free.
    kept = planned_accounts(np.array([[-1, -1], [0, -1], [0, 1]]), np.array([1.0, 0.0]))
    assert kept.tolist() == [False, True, False]


def test_overlay_a_seat_in_two_places_of_one_team_plans_the_account_once():
    world = overlay_world(quarters=1)
    model = CoverageModel(world, _OwnerIsAlsoSpecialist(), 3)
    model.step()
    owed = np.array([r.coordination_weekly for r in model.team.seats])
    model.release()
    # Account 0 is coordinated, owned by seat 0 which is also its security and analytics specialist.
    np.testing.assert_allclose(owed, np.r_[2.0 / 13, np.zeros(owed.size - 1)])


class _OwnerIsAlsoSpecialist(Policy):
    name = "owner_is_also_specialist"

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        import dataclasses

        plan = empty_plan(view.accounts.size, Service.POOLED)
        plan.owner[0], plan.coordinated[0] = 0, True
        specialist = np.full((view.accounts.size, 3), -1)
        specialist[0, 1:] = 0
        return dataclasses.replace(plan, specialist=specialist)

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        return np.full(view.pending.size, -1, dtype=np.int64)

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        return np.ones(view.tasks.size)


class _CoordinatesNobody(Policy):
    name = "coordinates_nobody"

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        plan = empty_plan(view.accounts.size, Service.POOLED)
        plan.coordinated[0] = True
        return plan


def test_overlay_coordination_needs_an_account_team_and_specialists_are_checked():
    plan = _CoordinatesNobody().plan(_plan_view(), np.random.default_rng(0))
    with pytest.raises(
        PolicyError, match=r"coordinated marks 1 account with no owner and no specialist \(the first: account 0\)"
    ):
        checked_plan(plan, 10, 2, "p", 3)
    ok = CoveragePlan(
        owner=np.full(10, -1), service=np.zeros(10, np.int8), cadence=np.zeros(10), coordinated=np.zeros(10, bool)
    )
    # Each fault said as the owner's are (one message had stood for a wrong shape and a wrong dtype alike).
    for changes, said in (
        ({"specialist": np.full((10, 2), -1)}, r"plan\.specialist has shape \(10, 2\), expected \(10, 3\)"),
        ({"specialist": np.full((3, 10), -1)}, r"has shape \(3, 10\), expected \(10, 3\): accounts x product lines"),
        ({"specialist": np.full((10, 3), 1.0)}, "plan.specialist must hold integer seat indices, got dtype float64"),
        ({"specialist": np.full((10, 3), 2)}, r"outside -1\.\.1 \(the first: account 0, line 0, 2\)"),
        (
            {"specialist": np.full((10, 3), 1), "specialist_cadence": -np.ones((10, 3))},
            r"plan.specialist_cadence must be from 0 to 13 \(touches a quarter, at most one a week\)",
        ),
        (
            {"specialist": np.full((10, 3), 1), "specialist_cadence": np.full((10, 3), 13.5)},
            r"plan.specialist_cadence must be from 0 to 13 \(touches a quarter.*\(the first: account 0, line 0, 13.5\)",
        ),
        (  # cast to 1.0 and accepted, where plan.cadence refuses booleans
            {"specialist": np.full((10, 3), 1), "specialist_cadence": np.ones((10, 3), bool)},
            "plan.specialist_cadence must hold numbers, got dtype bool",
        ),
        (
            {"specialist": np.full((10, 3), 1), "specialist_cadence": 1.0},
            r"plan\.specialist_cadence has shape \(\), expected \(10, 3\)",
        ),
        (  # dropped without a word, where the owner's is refused
            {"specialist": np.full((10, 3), -1), "specialist_cadence": np.ones((10, 3))},
            r"promises 30 \(account, line\) cells with no specialist touches \(the first: account 0, line 0\)",
        ),
        ({"specialist_cadence": np.ones((10, 3))}, r"without plan\.specialist"),
    ):
        with pytest.raises(PolicyError, match=said):
            checked_plan(_with(ok, **changes), 10, 2, "p", 3)
    specialist = np.full((10, 3), -1)
    specialist[0, 1] = 1
    checked = checked_plan(_with(ok, specialist=specialist, coordinated=np.arange(10) == 0), 10, 2, "p", 3)
    assert checked.specialist is not None and checked.specialist[0, 1] == 1


def test_overlay_a_specialist_must_close_deals_and_be_paid_on_its_line():
    # An SDR, or a specialist of another line, was taken as a line's specialist, and its leads declined unseen.
    scenario = load_scenario(ROOT / "scenarios" / "overlay.toml").with_overrides("small overlay", quarters=1)
    model = CoverageModel(scenario.with_overrides("fewer", population={**scenario.population.model_dump(mode="json"),
                                                                    "customers": 300}), make_policy("overlay"), 1)  # fmt: skip
    team = model.team.week(0).view
    lines = len(model._accounts.line_names)
    model.release()
    ok = CoveragePlan(
        owner=np.full(300, -1), service=np.zeros(300, np.int8), cadence=np.zeros(300), coordinated=np.zeros(300, bool)
    )
    own = [int(s) for s in np.flatnonzero(team.role == "specialist") if not team.lane_lines[s].all()]
    assert own, "the overlay world has specialists paid on their own line"
    seat = own[0]
    line = int(np.flatnonzero(team.lane_lines[seat, :lines])[0])
    other = (line + 1) % lines
    right = np.full((300, lines), -1)
    right[:, line] = seat
    checked_plan(_with(ok, specialist=right), 300, team.size, "p", lines, team)  # its own line: fine
    wrong = np.full((300, lines), -1)
    wrong[5:, other] = seat
    with pytest.raises(PolicyError, match=rf"names for 295 accounts of line {other} a seat that cannot work it \(the "
                       rf"first: account 5: seat {seat}, specialist, is not paid on that line \(its lane\)\)"):  # fmt: skip
        checked_plan(_with(ok, specialist=wrong), 300, team.size, "p", lines, team)
    sdr = np.flatnonzero(team.role == "sdr")
    assert sdr.size, "the overlay world has SDRs"
    by_sdr = np.full((300, lines), -1)
    by_sdr[0, line] = int(sdr[0])
    with pytest.raises(PolicyError, match="sdr, cannot close a deal"):
        checked_plan(_with(ok, specialist=by_sdr), 300, team.size, "p", lines, team)
    checked_plan(_with(ok, specialist=wrong), 300, team.size, "p", lines)  # no team given: not checked


def test_in_segments_refuses_a_segment_the_scenario_has_not():
    # "mid_market_x" as a string selected every mid_market account; ["corporate"] none, without a word.
    accounts = _plan_view().accounts
    names = accounts.segment_names
    assert accounts.in_segments(names[0]).sum() == accounts.in_segments([names[0]]).sum()
    with pytest.raises(PolicyError, match=rf"in_segments: no segment 'corporate' \(the scenario's: {names[0]}"):
        accounts.in_segments(["corporate"])
    with pytest.raises(PolicyError, match=f"no segment '{names[0]}_x'"):
        accounts.in_segments(f"{names[0]}_x")


def _with(plan: CoveragePlan, **changes: Any) -> CoveragePlan:
    import dataclasses

    return dataclasses.replace(plan, **changes)


def _plan_view() -> PlanView:
    model = CoverageModel(tiny(customers=10), make_policy("unstructured"), 1)
    view = PlanView(1, model._accounts, model.team.week(0).view, None, model.selling)
    model.release()
    return view


# ---- specialists and lanes ----------------------------------------------------------


def test_overlay_specialists_touch_and_work_their_own_line():
    world = overlay_world()
    on = totals(world, "overlay", seeds=(1,))
    no_touches = totals(world, "overlay", seeds=(1,), specialist_cadence=0.0)
    unused = totals(world, "overlay", seeds=(1,), specialist_accounts=0)
    assert unused["hours_role_specialist"] == 0
    # Their cadence is real work: visits to their accounts, on top of the leads of their line they answer.
    assert on["hours_role_specialist"] > no_touches["hours_role_specialist"] > 100
    assert on["hours_line:security"] > unused["hours_line:security"]
    assert on["hours_line:analytics"] > unused["hours_line:analytics"]


def test_lane_a_specialist_paid_on_its_own_line_neglects_the_other_lines():
    # Specialists own the named accounts (the point of contact for every line): paid on their own line
    # they leave the core and the renewals unanswered, paid on the account they work them.
    focused = totals(overlay_world("own_line"), "overlay", owners="everyone")
    broad = totals(overlay_world("all_lines"), "overlay", owners="everyone")
    assert focused["opps_missed_line:core"] > broad["opps_missed_line:core"]
    assert focused["won_value_line:core"] < 0.8 * broad["won_value_line:core"]
    assert focused["hours_line:core"] < broad["hours_line:core"]


class _EverythingToSeatZero(Policy):
    """Every lead to seat 0, an analytics specialist paid on its own line."""

    name = "everything_to_seat_zero"

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        return empty_plan(view.accounts.size, Service.POOLED)

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        return np.zeros(view.pending.size, dtype=np.int64)

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        return np.ones(view.tasks.size)


def analytics_specialists(count: int) -> Any:
    """200 accounts with core and analytics lines, new logos at 2 a year, and ``count`` analytics specialists
    paid on their own line alone."""
    return tiny(
        customers=200,
        segment={"new_logo": kind(2.0)},
        reps=[{"role": "specialist", "count": count, "line": "analytics", "lane": "own_line"}],
        digital={"enabled": False},
        population={
            "customers": 200,
            "regions": [{"name": "here", "share": 1.0, "radius_km": 10.0}],
            "segments": [tiny().population.segments[0].model_dump(mode="json") | {"new_logo": kind(2.0)}],
            "lines": [{"name": "core", "wallet_share": 0.5}, {"name": "analytics", "wallet_share": 0.5}],
        },
    )


def test_lane_the_engine_declines_work_outside_a_reps_lane_whatever_the_policy_asks():
    world = analytics_specialists(1)
    model = CoverageModel(world, _EverythingToSeatZero(), 2)
    answered = {0: 0, 1: 0}
    created: dict[int, set[int]] = {0: set(), 1: set()}  # the keys of the leads of each line seen in the book
    for _ in range(13):
        model.step()
        b = model.book
        for line in (0, 1):
            mine = b.line == line
            created[line].update(b.key[mine].tolist())
            answered[line] += int(((b.responded == model.week - 1) & mine).sum())
    missed = model.recorder.tally.missed
    model.release()
    assert created[0] and created[1]
    assert answered[0] == 0 and answered[1] > 0
    assert missed[Cause.SLA_EXPIRED].sum() > 0  # a lead out of its lane is declined: its window runs out


def test_overlay_experiments_ship_and_name_line_metrics_the_catalogue_knows():
    from sim.catalogue import CATALOGUE

    for name in ("overlay.toml", "lanes.toml"):
        assert (ROOT / "experiments" / "mechanisms" / name).exists()
    assert CATALOGUE["won_value_line:security"].title == "won value (security)"
    assert "won_value_line:<line>" in CATALOGUE


class _EverythingInOnePool(_EverythingToSeatZero):
    """Every seat answers one shared queue, and every lead waits in it."""

    name = "everything_in_one_pool"

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        import dataclasses

        plan = empty_plan(view.accounts.size, Service.POOLED)
        return dataclasses.replace(plan, seat_pool=np.zeros(view.team.size, dtype=np.int64))

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        from sim.policies.protocol import queue

        return np.where(view.pending.stage == Stage.AWAITING_RESPONSE, queue(0), -1).astype(np.int64)


def test_lane_a_pool_of_reps_of_different_lanes_answers_a_queue_per_lane():
    # One pool of every seat: the generalists, and specialists paid on their own line. Each lead waits in the
    # queue of the narrowest lane paid on it, so a specialist answers only its line's leads.
    world = overlay_world(quarters=1)
    model = CoverageModel(world, _EverythingInOnePool(), 1)
    answered: dict[str, set[int]] = {"specialist": set(), "other": set()}
    specialist = model.team.week(0).view.role == "specialist"
    for _ in range(13):
        model.step()
        b = model.book
        now = b.responded == model.week - 1
        for i in np.flatnonzero(now & (b.handler >= 0)):
            answered["specialist" if specialist[b.handler[i]] else "other"].add(int(b.line[i]))
    model.release()
    lines = {name: i for i, name in enumerate(world.line_names)}
    assert answered["specialist"] == {lines["security"], lines["analytics"]}
    assert lines["core"] in answered["other"]


def test_lane_a_lead_no_seat_of_its_pool_is_paid_on_is_refused():
    # Every seat of the pool is paid on analytics alone: a core lead queued for it is nobody's to answer.
    world = analytics_specialists(2)
    with pytest.raises(PolicyError, match="queued for pool 0 a lead that no seat of the pool is paid on"):
        run(world, _EverythingInOnePool(), 1)
    run(overlay_world("all_lines", quarters=1), _EverythingInOnePool(), 1)  # paid on everything: fine


def test_lane_queues_split_a_pool_by_lane_and_send_each_lead_to_the_narrowest_one_with_hours():
    from sim.allocation import Queues
    from sim.lane_queues import lane_queues

    # Seats 0-1 inside (paid on everything), seat 2 an SDR paid on new logos, seat 3 in no pool. One line and
    # renewals; kinds new_logo 0, expansion 1, renewal 2.
    lane_lines = np.ones((4, 2), dtype=bool)
    lane_kinds = np.array([[1, 1, 1], [1, 1, 1], [1, 0, 0], [1, 1, 1]], dtype=bool)
    seat_pool = np.array([0, 0, 0, -1])
    queues = Queues(pool=np.array([0, 0, 0, -1]), arrival=np.zeros(4), seat_pool=seat_pool)
    line, kind = np.array([0, 0, -1, 0]), np.array([0, 1, 2, 0])
    filled, hours = np.ones(4, dtype=bool), np.full(4, 30.0)
    split, unstaffed = lane_queues(queues, line, kind, lane_lines, lane_kinds, filled, hours)
    assert split.seat_pool.tolist() == [0, 0, 1, -1]  # the SDR's lane is a queue of its own, numbered past pool 0
    assert split.pool.tolist() == [1, 0, 0, -1]  # the new logo to the SDR, the expansion and renewal to inside
    assert not unstaffed.any()
    # the SDR's seat vacant this week: its new-logo lead waits for the inside reps instead
    vacant, unstaffed = lane_queues(
        queues, line, kind, lane_lines, lane_kinds, np.array([True, True, False, True]), hours
    )
    assert vacant.pool.tolist() == [0, 0, 0, -1] and not unstaffed.any()
    # the SDR hired this week at a ramp that starts at 0: no hours yet, so the inside reps take its lead too
    new_hire = np.array([30.0, 30.0, 0.0, 30.0])
    ramping, unstaffed = lane_queues(queues, line, kind, lane_lines, lane_kinds, filled, new_hire)
    assert ramping.pool.tolist() == [0, 0, 0, -1] and not unstaffed.any()
    # every seat of the pool without hours: the lead waits in its own lane's queue (missed as queue_wait)
    idle = lane_queues(queues, line, kind, lane_lines, lane_kinds, filled, np.array([0.0, 0.0, 0.0, 30.0]))
    assert idle[0].pool.tolist() == [1, 0, 0, -1] and not idle[1].any()
    # the inside reps vacant: the expansion and the renewal have no filled seat paid on them, a vacancy
    gone, unstaffed = lane_queues(
        queues, line, kind, lane_lines, lane_kinds, np.array([False, False, True, True]), hours
    )
    assert gone.pool.tolist() == [1, 0, 0, -1] and unstaffed.tolist() == [False, True, True, False]
    # a pool of one lane is left as it is
    same, unstaffed = lane_queues(queues, line, kind, lane_lines, np.ones((4, 3), dtype=bool), filled, hours)
    assert same is queues and not unstaffed.any()
    # a team of no seats (a direct caller's): nothing to split
    empty = Queues(pool=np.full(2, -1), arrival=np.zeros(2), seat_pool=np.empty(0, dtype=np.int64))
    nobody = np.empty((0, 2), dtype=bool)
    none, unstaffed = lane_queues(
        empty, line[:2], kind[:2], nobody, np.empty((0, 3), dtype=bool), nobody[:, 0], np.empty(0)
    )
    assert none is empty and not unstaffed.any()


def test_overlay_an_experiment_naming_a_line_the_scenario_lacks_is_refused(tmp_path):
    from sim.experiment.loading import load_experiment

    text = (ROOT / "experiments" / "mechanisms" / "overlay.toml").read_text()
    path = tmp_path / "exp.toml"
    path.write_text(
        text.replace("../../scenarios/overlay.toml", str(ROOT / "scenarios" / "overlay.toml")).replace(
            '"won_value_line:security"', '"won_value_line:securty"'
        )
    )
    with pytest.raises(InputError, match="'won_value_line:securty' names no product line of the scenario"):
        load_experiment(path)
    load_experiment(ROOT / "experiments" / "mechanisms" / "overlay.toml")


def test_overlay_specialists_an_overlay_launch_adds_work_their_line_from_that_quarter():
    world = load_scenario(SMALL).with_overrides(
        "launch",
        quarters=3,
        shocks=[{"kind": "overlay_launch", "quarter": 2, "specialists": 2, "line": "security"}],
        **{"population.lines": LINES},
    )
    m = run(world, make_policy("overlay"), 1).metrics
    hours = m[(m.metric == "hours_role_specialist") & (m.segment == "all")].set_index("quarter").value
    security = m[(m.metric == "hours_line:security") & (m.segment == "all")].set_index("quarter").value
    assert hours.get(1, 0.0) == 0.0  # no specialist seat before the launch
    assert hours[2] > 0 and hours[3] > hours[2]  # new hires ramp up
    assert security[3] > security[1]


def test_overlay_segment_tiers_without_inside_reps_pools_only_seats_paid_on_everything():
    # No inside rep or SDR: any closer answers the pooled queue, but not a specialist paid on its own line.
    reps = [{"role": "full_cycle", "count": 2}, *SPECIALISTS]
    world = overlay_world(quarters=1, reps=reps)
    model = CoverageModel(world, make_policy("segment_tiers"), 1)
    model.run()
    pools, roles = model.plan.seat_pool, model.team.roles()
    model.release()
    assert (pools[roles == "full_cycle"] == 0).all() and (pools[roles == "specialist"] == -1).all()


@pytest.mark.usefixtures("first_arrivals_only")
def test_overlay_a_deal_decided_in_the_week_of_a_conflict_is_decided_with_the_penalty():
    # The hand-checked two-seat world: account 0 is answered by seat 0 in even weeks and seat 1 in odd ones,
    # and each deal is worked and decided the week after its answer, by its own seat, while the other seat
    # answers the next lead: from week 1 every week conflicts. The deal that arrived in week 0 is decided in
    # week 1, the first conflicting week: it pays the penalty too (conflicts are settled before decisions),
    # as do the deals that arrived in the weeks of later conflicts.
    from tests.test_hand_checked import CERTAIN, _TwoSeatsOnAccountZero

    world = tiny(
        customers=2,
        segment={"new_logo": kind(CERTAIN, win=1.0), "expansion": kind(CERTAIN, win=1.0)},
        reps=[{"role": "full_cycle", "count": 2}],
        digital={"enabled": False},
    )
    m = run(world, _TwoSeatsOnAccountZero()).metrics
    t = m[(m.segment == "all") & (m.quarter == 1)].set_index("metric").value
    assert t["conflicting_engagements"] == 1
    assert t["opps_decided_in_conflict"] == 12  # account 0's deals decided in weeks 1 .. 12


@pytest.mark.parametrize("lane", [{"reps.2.paid_on_kinds": ["new_logo"]}, {"reps.1.lane": "own_line"}])
def test_lane_a_pooled_team_with_a_lane_of_its_own_answers_only_its_lane_under_every_built_in(lane, monkeypatch):
    # SDRs paid on new logos alone, or inside reps paid on one line: the built-ins pool them with the others, and
    # every first response is made by a seat paid on it, from a queue or dealt (a route to one queue for the
    # whole pool was refused: 7 of the 9 stopped; leads dealt by capacity went to seats that declined them).
    from sim.codes import TaskKind
    from sim.policies import BUILT_IN

    answered: list[np.ndarray] = []
    respond = CoverageModel._respond

    def spy(self, w, seats, todo, rep, alloc):
        r = alloc.accepted & (todo.tasks.kind == TaskKind.RESPONSE)
        ri, rr = todo.opportunity[r], rep[r]
        answered.append(seats.view.pursues(rr, self.book.line[ri], self.book.kind[ri]))
        return respond(self, w, seats, todo, rep, alloc)

    monkeypatch.setattr(CoverageModel, "_respond", spy)
    overrides: dict[str, Any] = {"population.lines": LINES, "quarters": 1, **lane}
    if "reps.1.lane" in lane:
        overrides["reps.1.line"] = "security"
    world = load_scenario(SMALL).with_overrides("lanes", **overrides)
    runs = [(name, {}) for name in BUILT_IN] + [("segment_tiers", {"lead_routing": "assigned"})]
    for name, params in runs:
        answered.clear()
        run(world, make_policy(name, params, scenario=world), 1)
        made = np.concatenate(answered)
        assert made.size > 20 and made.all(), (name, params, made.size, int((~made).sum()))


def test_overlay_specialists_an_overlay_launch_adds_with_no_line_work_under_every_built_in():
    # Paid on everything, they are generalists: segment_tiers and overlay give them named accounts, hunter_farmer
    # makes them farmers (they sat idle under those three, their cost counted).
    from sim.policies import BUILT_IN

    launch = {"kind": "overlay_launch", "quarter": 2, "specialists": 2}
    world = load_scenario(SMALL).with_overrides("launch", quarters=3, shocks=[launch])
    for name in BUILT_IN:
        hours = totals(world, name, seeds=(1,))["hours_role_specialist"]
        assert hours > 50, (name, hours)  # territories, the least: 73 hours


def test_lane_a_lead_whose_lane_has_no_filled_seat_is_missed_for_the_vacancy():
    # The inside team leaves in quarter 2 (a freeze keeps the seats empty); the SDR, paid on new logos only,
    # stays. The mid-market's expansions and renewals have no filled seat paid on them: a vacancy, as when the
    # whole pool is vacant, not a wait in a queue (they were 47 queue_wait misses).
    shocks = [
        {"kind": "rep_attrition", "quarter": 2, "share": 1.0, "role": "inside"},
        {"kind": "hiring_freeze", "quarter": 2, "until_quarter": 2},
    ]
    world = load_scenario(SMALL).with_overrides(
        "inside gone", quarters=2, shocks=shocks, **{"reps.2.paid_on_kinds": ["new_logo"]}
    )
    m = run(world, make_policy("segment_tiers", scenario=world), 1).metrics
    q2 = m[(m.quarter == 2) & (m.segment == "mid_market")].set_index("metric").value
    assert q2["missed_vacancy"] > 20 and q2["missed_queue_wait"] == 0


def test_lane_a_team_with_a_lane_and_an_empty_book_runs():
    # No deals at all (no demand, no customers) but touches: the tasks' deal kinds were read from an empty book.
    overrides: dict[str, Any] = {"quarters": 1, "reps.2.paid_on_kinds": ["new_logo"]}
    for i in range(3):
        overrides[f"population.segments.{i}.new_logo.rate_per_year"] = 0.0
        overrides[f"population.segments.{i}.expansion.rate_per_year"] = 0.0
        overrides[f"population.segments.{i}.customer_share"] = 0.0
    world = load_scenario(SMALL).with_overrides("empty book", **overrides)
    hours = run(world, make_policy("segment_tiers", scenario=world), 1).metrics.query(
        "segment == 'all' and metric == 'hours_role_full_cycle'"
    )
    assert hours.value.sum() > 100  # the field reps' planned touches


def test_lane_dealing_leads_by_capacity_gives_each_only_to_seats_paid_on_it():
    from types import SimpleNamespace

    from sim.policies.rules import route_to_pool
    from sim.policies.views import Pending

    def pending_of(kind: np.ndarray, days_left: np.ndarray) -> Pending:
        zero = np.zeros(kind.size, dtype=np.int64)
        return Pending(zero, zero, zero, kind, zero, zero, np.zeros(kind.size), days_left, np.zeros(kind.size))

    # Seats 0-1 paid on everything, seat 2 on new logos only (kinds: new logo 0, expansion 1, renewal 2).
    lane_kinds = np.array([[1, 1, 1], [1, 1, 1], [1, 0, 0]], dtype=bool)
    team = SimpleNamespace(
        capacity=np.array([10.0, 10.0, 10.0]),
        paid_on_everything=lane_kinds.all(axis=1),
        pursues=lambda seat, line, kind: lane_kinds[seat, kind],
    )
    kind = np.array([1, 1, 1, 1, 2, 2, 0, 0, 0])
    pending = pending_of(kind, np.arange(kind.size))
    handler = np.full(kind.size, -1)
    route_to_pool(SimpleNamespace(team=team, pending=pending), np.ones(kind.size, dtype=bool), np.arange(3), handler)
    assert set(handler[kind != 0]) <= {0, 1}  # expansions and renewals only to the seats paid on them
    assert set(handler[kind == 0]) == {0, 1, 2}  # new logos over all three, by capacity
    nobody = np.full(2, -1)
    expansions = pending_of(np.array([1, 1]), np.zeros(2))
    route_to_pool(SimpleNamespace(team=team, pending=expansions), np.ones(2, dtype=bool), np.array([2]), nobody)
    assert nobody.tolist() == [-1, -1]  # no seat paid on them: left to the caller


# ---- touches a policy offers a specialist beyond its cadence ------------------------------------------------


SECURITY = 1  # the line of LINES the offering policy below touches


class _OfferingSecurity(Overlay):
    """The overlay with no specialist cadence, offering each week a touch of every account's security line that
    has a specialist in the plan it made (``specialist_touches``); counts the touch tasks it is asked to rank, by
    line, and keeps the accounts of the security touches."""

    name = "offering_security"

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.ranked = np.zeros(len(LINES), dtype=np.int64)
        self.touched: list[np.ndarray] = []
        self.own: np.ndarray | None = None

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        made = super().plan(view, rng)
        self.own = made.specialist
        return made

    def specialist_touches(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        assert self.own is not None
        accounts = np.flatnonzero(self.own[:, SECURITY] >= 0)
        return np.column_stack([accounts, np.full(accounts.size, SECURITY)])

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        touch = (view.tasks.kind == TaskKind.TOUCH) & (view.tasks.line >= 0)
        self.ranked += np.bincount(view.tasks.line[touch], minlength=len(LINES))
        self.touched.append(view.tasks.customer[touch & (view.tasks.line == SECURITY)])
        return super().prioritise(view, rng)


def test_overlay_a_policy_offers_specialists_touches_with_no_cadence():
    # A value-based overlay had to promise its specialists a cadence and decline the touches it did not want:
    # only the owner could be offered one (``touches``).
    world = overlay_world()
    offering = _OfferingSecurity(specialist_cadence=0.0)
    offered = run_totals(run(world, offering, 1).metrics).query("segment == 'all'").set_index("metric").value
    plain = run_totals(run(world, Overlay(specialist_cadence=0.0), 1).metrics).query("segment == 'all'")
    plain = plain.set_index("metric").value
    assert offering.ranked[SECURITY] > 1000 and offering.ranked[[0, 2]].tolist() == [0, 0]
    assert offered["hours_line:security"] > plain["hours_line:security"] + 100
    assert offered["hours_role_specialist"] > plain["hours_role_specialist"] + 100
    # The touches made are counted by line (a researcher had turned visit hours into visits by hand): security's
    # alone, at most those offered; with no cadence and no offer, none.
    touches = [f"specialist_touches_line:{line['name']}" for line in LINES]
    made = offered[touches].to_numpy()
    assert made[[0, 2]].tolist() == [0, 0] and 500 < made[SECURITY] <= offering.ranked[SECURITY]
    assert plain[touches].tolist() == [0, 0, 0]
    # The same count as the engine's own by account (Recorder.line_touches), in the quarter it holds.
    model = CoverageModel(world, _OfferingSecurity(specialist_cadence=0.0), 1)
    model.run()
    last = model.metrics_frame().query("segment == 'all' and quarter == quarter.max()").set_index("metric").value
    assert last[touches].tolist() == model.recorder.line_touches.sum(axis=0).tolist()
    model.release()


def test_overlay_offered_specialist_touches_follow_a_rollout_account_by_account():
    # Half the accounts move to the offering overlay in quarter 2 of 4, all of them in quarter 3, from a model with
    # no specialists. The overlay offers the cells of the plan it made, half of them on accounts the current model
    # still covers, where the plan in force names no specialist: dropped, not refused (a reviewer's rollout had
    # stopped in quarter 2), and every security touch is on an account the overlay covers.
    from sim.shocks import rollout_count, rollout_rank

    rollout = {"kind": "rollout", "quarter": 2, "quarters": 2, "current": {"name": "unstructured"}}
    world = overlay_world(quarters=4, shocks=[rollout])
    offering = _OfferingSecurity(specialist_cadence=0.0)
    model = CoverageModel(world, with_rollout(offering, world), seed=1)
    rank, shock = rollout_rank(world.population.customers), world.shocks[0]
    for quarter in range(1, 5):
        offering.touched.clear()
        for _ in range(13):
            model.step()
        touched = np.concatenate([np.empty(0, dtype=np.int64), *offering.touched])
        moved = rollout_count(shock, quarter, world.population.customers)
        assert moved == (0, 2500, 5000, 5000)[quarter - 1]
        assert (touched.size == 0) == (moved == 0), quarter
        assert (rank[touched] < moved).all(), quarter
    model.release()


@pytest.mark.parametrize(
    ("offer", "said"),
    [
        (
            np.array([1, 2]),
            r"must return an integer array of \(account, line\) rows, shape \(k, 2\), got int64 of shape",
        ),
        (
            np.array([[1.0, 1.0]]),
            r"must return an integer array of \(account, line\) rows, shape \(k, 2\), got float64 of shape \(1, 2\)",
        ),
        ({(1, 1)}, r"must return an integer array of \(account, line\) rows, shape \(k, 2\), got set \{\(1, 1\)\}"),
        (np.array([[10, 1]]), r"returned an account outside 0\.\.9 \(10, at index 0\)$"),
        (
            np.array([[1, 1], [1, 3], [2, -1]]),
            r"returned a line outside 0\.\.2 \(the scenario's product lines\) \(2 of them; the first: 3, at index 1\)$",
        ),
        (
            np.array([[1, 1], [4, 2], [5, 2]]),
            r"offered 2 touches of \(account, line\) cells with no specialist in the plan \(the first: account 4, "
            r"line 2\); a line's touch is its specialist's task",
        ),
    ],
)
def test_overlay_offered_specialist_touches_are_checked(offer, said):
    specialist = np.full((10, 3), -1)
    specialist[:, 1] = 0  # every account's line 1 has seat 0; no other cell has a specialist
    plan = CoveragePlan(
        owner=np.zeros(10, int),
        service=np.zeros(10, np.int8),
        cadence=np.zeros(10),
        coordinated=np.zeros(10, bool),
        specialist=specialist,
    )
    with pytest.raises(PolicyError, match=r"^policy p: specialist_touches\(\) " + said):
        checked_specialist_touches(offer, plan, 3, "p")
    # A plan with no specialists takes no offer; an empty one is nothing offered, whatever its shape.
    with pytest.raises(PolicyError, match=r"with no specialist in the plan \(the first: account 1, line 1\)"):
        checked_specialist_touches(np.array([[1, 1]]), dataclasses.replace(plan, specialist=None), 3, "p")
    assert checked_specialist_touches([], plan, 3, "p").size == 0
    assert checked_specialist_touches(np.array([[3, 1], [1, 1], [3, 1]]), plan, 3, "p").tolist() == [4, 10]


def test_overlay_a_run_refuses_an_offered_touch_nobody_keeps_naming_the_week():
    class OfferingAnalytics(Overlay):
        def specialist_touches(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
            return np.array([[0, 2]]) if view.week == 3 else np.empty((0, 2), dtype=np.int64)

    world = overlay_world()
    with pytest.raises(PolicyError, match=r"account 0, line 2\).*\(quarter 1, week 4 of 13; view\.week 3\)"):
        run(world, OfferingAnalytics(specialist_accounts=0), 1)


def test_specialists_a_policy_gives_no_work_change_no_result() -> None:
    # A VP priced the overlay against the same scenario without its specialists under segment_tiers (which gives
    # them no work): drawn in seat order, the six idle seats moved revenue by -4.8M to +9.4M; keyed by seat, by 0.
    from sim.scenario import load_scenario
    from tests.conftest import ROOT

    with_them = load_scenario(ROOT / "scenarios" / "overlay.toml", quarters=2)
    groups = [i for i, g in enumerate(with_them.reps) if g.role == "specialist"]
    assert len(groups) == 2
    without = with_them.with_overrides("no-specialists", **{f"reps.{i}.count": 0 for i in groups})
    figures = []
    for scenario in (with_them, without):
        totals = run_totals(run(scenario, make_policy("segment_tiers"), seed=4).metrics)
        figures.append(totals[totals.segment == "all"].set_index("metric")["value"])
    assert figures[0]["revenue_captured"] > 0
    shared = [m for m in figures[1].index if not m.startswith(("cost", "utilisation", "revenue_per_rep", "profit"))]
    shared = [m for m in shared if m not in ("capacity_hours",) and not m.startswith("hours_role_specialist")]
    assert figures[0][shared].equals(figures[1][shared])


def test_covsim_run_of_one_policy_in_a_world_of_product_lines_shows_its_whole_run_overlay_rows(tmp_path) -> None:
    # A policy author's one-policy run of the overlay world showed no overlay figure: they are whole-run rows.
    import subprocess
    import sys

    from tests.conftest import ROOT

    r = subprocess.run(
        [sys.executable, "-m", "sim.cli", "run", "scenarios/overlay.toml", "--policy", "overlay", "--quarters", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "Whole run (1 quarter, segment all):" in lines and "Overlay and product lines" in lines
    small = subprocess.run(
        [sys.executable, "-m", "sim.cli", "run", "scenarios/small.toml", "--quarters", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert small.returncode == 0 and "Whole run" not in small.stdout  # one line, one policy: the quarters say all


def test_covsim_run_s_table_has_the_overlay_s_rows_in_a_world_with_product_lines() -> None:
    # A VP comparing an overlay had the conflicts alone on screen; the coordination hours, the deals decided in
    # conflict and each line's value and specialist touches had to be asked for metric by metric.
    from sim.format import fmt
    from sim.run_tables import comparison_table, whole_run
    from sim.scenario import load_scenario
    from tests.conftest import ROOT, SMALL

    world = load_scenario(ROOT / "scenarios" / "overlay.toml", quarters=1)
    metrics = pd.concat(
        [
            run(world, make_policy(p, {"coordinated": True} if p == "overlay" else None), seed=2).metrics
            for p in ("segment_tiers", "overlay")
        ]
    )
    totals, order = whole_run(metrics)
    table = comparison_table(totals, order).splitlines()
    start = table.index("Overlay and product lines")
    rows = {line[:44].strip(): line[44:].split() for line in table[start + 1 :]}
    assert rows["account-plan (coordination) hours (sum)"] == [
        fmt("coordination_hours", totals[("coordination_hours", p)]) for p in order
    ]
    assert (
        float(totals[("coordination_hours", "overlay")]) > 0 == float(totals[("coordination_hours", "segment_tiers")])
    )
    for line in ("analytics", "core", "security"):
        assert rows[f"won value, {line}"] == [
            fmt("revenue_captured", totals[(f"won_value_line:{line}", p)]) for p in order
        ]
        assert rows[f"specialist touches made, {line}"] == [
            fmt(f"specialist_touches_line:{line}", totals[(f"specialist_touches_line:{line}", p)]) for p in order
        ]
        assert rows[f"specialist touches planned, {line}"] == [
            fmt(f"specialist_touches_planned_line:{line}", totals[(f"specialist_touches_planned_line:{line}", p)])
            for p in order
        ]
        assert f"missed, {line}" in rows
    assert table[-1] == (
        "won value and missed by line: new logos and expansions; a renewal is in no line (docs/metrics.md)"
    )
    # a world with no product lines has none of them
    small = run(load_scenario(SMALL, quarters=1), make_policy("segment_tiers"), seed=2).metrics
    assert "Overlay and product lines" not in (plain := comparison_table(*whole_run(small))) and "by line:" not in plain


def test_the_touches_the_plan_asks_of_each_line_s_specialists_are_counted_beside_those_made() -> None:
    # A VP's coordinated overlay made 344 of its security specialists' touches over 8 quarters, where the plan asked
    # for 1,440, and nothing on screen said so.
    from sim.codes import Status
    from sim.scenario import load_scenario
    from tests.conftest import ROOT

    world = load_scenario(ROOT / "scenarios" / "overlay.toml", quarters=1)
    model = CoverageModel(world, make_policy("overlay", {"coordinated": True}), 3)
    try:
        live = model.population.status != Status.CHURNED  # at the quarter's start: no week has run
        model.run()
        plan, lines = model.plan, world.line_names
        metrics = model.metrics_frame()
    finally:
        model.release()
    assert plan.specialist is not None and plan.specialist_cadence is not None
    got = metrics[(metrics.segment == "all") & (metrics.quarter == 1)].set_index("metric")["value"]
    for i, line in enumerate(lines):
        asked = float(plan.specialist_cadence[live & (plan.specialist[:, i] >= 0), i].sum())
        assert got[f"specialist_touches_planned_line:{line}"] == asked
        if line != "core":  # the overlay's specialists are of the add-on lines
            assert asked > 0 and got[f"specialist_touches_line:{line}"] > 0
