"""``hunter_farmer`` acts like a split sales force: hunters win new logos, farmers grow the base, and a won
account is handed over; ``division = "full_cycle"`` is the same heads and accounts without the split."""

from __future__ import annotations

import numpy as np
import pytest

from sim.codes import Status
from sim.model import CoverageModel
from sim.policies import make_policy
from sim.run import run
from sim.scenario import load_scenario
from tests.conftest import ROOT

WORLD = ROOT / "scenarios" / "hunter_vs_farmer.toml"
SEEDS = (1, 2, 3)


def _totals(seed: int, **params: object) -> dict[str, float]:
    scenario = load_scenario(WORLD).with_overrides("hunter-farmer", quarters=4)
    metrics = run(scenario, make_policy("hunter_farmer", dict(params)), seed).metrics
    whole = metrics[metrics.segment == "all"].groupby("metric").value.sum()
    return {m: float(whole[m]) for m in ("new_logos", "won_value_expansion", "personal_stock_lost")}


@pytest.mark.parametrize("seed", SEEDS)
def test_more_hunters_win_more_new_logos_and_less_expansion_of_the_installed_base(seed):
    few, many = _totals(seed, hunter_share=1 / 6), _totals(seed, hunter_share=1 / 2)
    assert many["new_logos"] > 1.3 * few["new_logos"]
    # Fewer farmers: fewer customers with an owner who touches them and works their expansions.
    assert many["won_value_expansion"] < few["won_value_expansion"]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_split_hands_won_accounts_over_and_loses_personal_relationship_that_full_cycle_keeps(seed):
    split = _totals(seed, hunter_share=1 / 3)
    full = _totals(seed, hunter_share=1 / 3, division="full_cycle")
    assert split["personal_stock_lost"] > full["personal_stock_lost"]


def test_full_cycle_names_the_same_accounts_in_mixed_books_and_keeps_what_it_wins():
    scenario = load_scenario(WORLD).with_overrides("hunter-farmer", quarters=3)
    plans = {}
    for division in ("split", "full_cycle"):
        model = CoverageModel(scenario, make_policy("hunter_farmer", {"division": division}), 1)
        try:
            model.run(1)
            first, status = model.plan.owner.copy(), model.population.status.copy()
            model.run(26)  # into quarter 3
            plans[division] = (first, status, model.plan.owner.copy(), model.population.status.copy())
        finally:
            model.release()
    split, full = plans["split"][0], plans["full_cycle"][0]
    assert np.array_equal(split >= 0, full >= 0)  # the same accounts named
    status = plans["full_cycle"][1]
    for seat in np.unique(full[full >= 0]):
        book = status[full == seat]
        assert (book == Status.PROSPECT).any() and (book == Status.CUSTOMER).any()  # every book is mixed
    # Prospects in a book at quarter 1 that were won by quarter 3: full cycle keeps each with its owner.
    for division in ("split", "full_cycle"):
        first, before, second, after = plans[division]
        won = (first >= 0) & (before == Status.PROSPECT) & (after == Status.CUSTOMER)
        assert won.sum() >= 5
        kept = (second[won] == first[won]).mean()
        if division == "full_cycle":
            assert kept == 1.0
        else:
            assert kept < 0.5  # a hunter's won account leaves its book for a farmer's or the pool


def test_full_cycle_promises_touches_only_to_accounts_it_gives_an_owner():
    # Unequal book sizes can leave a region's mixed books full: an account they cannot take has no owner,
    # so it must not be promised a touch nobody will make.
    scenario = load_scenario(WORLD).with_overrides("hunter-farmer", quarters=1)
    params = {"division": "full_cycle", "hunter_accounts": 90, "farmer_accounts": 10, "hunter_share": 0.5}
    model = CoverageModel(scenario, make_policy("hunter_farmer", params), 1)
    try:
        model.run(1)
        plan = model.plan
    finally:
        model.release()
    assert (plan.owner >= 0).sum() > 1000
    assert not ((plan.cadence > 0) & (plan.owner < 0)).any()


def test_a_hunter_share_that_rounds_to_no_hunter_or_no_farmer_is_refused():
    # 0.01 of 28 field closers quietly made a team of farmers (a new user's trial).
    from sim.errors import InputError

    scenario = load_scenario(WORLD)
    assert make_policy("hunter_farmer", {"hunter_share": 0.0}).problems(scenario) == []  # all farm: as asked
    assert make_policy("hunter_farmer", {"hunter_share": 1 / 28}).problems(scenario) == []  # one hunter
    one = scenario.with_overrides("one closer", reps=[{"role": "full_cycle", "count": 1}])
    assert make_policy("hunter_farmer").problems(one) == []  # the default is left alone: no split on one seat
    inside = scenario.with_overrides("no field", reps=[{"role": "inside", "count": 3}])
    assert make_policy("hunter_farmer").problems(inside) == []  # nor on none
    # A split asked of fewer than two seats: one was told a share above 0.5 and one below it, none nothing.
    for share in (0.4, 0.6):
        assert make_policy("hunter_farmer", {"hunter_share": share}).problems(one) == [
            "hunter_share: a split needs at least 2 field closing seats (hunter, farmer, full_cycle), and the "
            "scenario has 1 (leave hunter_share at its default for no split)"
        ]
    assert make_policy("hunter_farmer", {"hunter_share": 0.5}).problems(inside) == [
        "hunter_share: a split needs at least 2 field closing seats (hunter, farmer, full_cycle), and the scenario "
        "has 0: no account would be named, every deal going to the rest (leave hunter_share at its default for no "
        "split)"
    ]
    with pytest.raises(InputError) as e:
        make_policy("hunter_farmer", {"hunter_share": 0.01}, scenario=scenario)
    assert e.value.problems == [
        "policy.params.hunter_share: 0.01 of the 28 field closing seats rounds to no hunter (a hunter needs a share "
        "above 0.0179; 0 makes every seat a farmer)"
    ]
    # A new user's 0.99 was refused while 1 ran: the message says that 1 is how to ask for no farmer.
    assert make_policy("hunter_farmer", {"hunter_share": 0.99}).problems(scenario) == [
        "hunter_share: 0.99 of the 28 field closing seats rounds to no farmer (a farmer needs a share below 0.982; 1 "
        "makes every seat a hunter)"
    ]
    assert make_policy("hunter_farmer", {"hunter_share": 1.0}).problems(scenario) == []


def test_a_team_of_one_closer_runs_unsplit_its_farmer_answering_its_own_pool():
    # Its one farmer's pool (1) is past the team's one seat: a bound of the route's check by the seats refused it.
    one = load_scenario(ROOT / "scenarios" / "small.toml").with_overrides(
        "one closer", reps=[{"role": "full_cycle", "count": 1}], quarters=1
    )
    result = run(one, make_policy("hunter_farmer"), seed=3)
    won = result.metrics.query("segment == 'all' and metric == 'opps_won'").value.sum()
    assert won > 0


def test_its_notes_say_how_many_seats_hunt_and_which_of_the_scenarios_roles_they_are():
    # A VP found 0.15 and 0.25 of 10 field seats both made 2 hunters (Python rounds 2.5 to even), said nowhere,
    # and a share of 0.5 on a team of 3 hunter and 7 farmer seats set two farmer seats hunting.
    base = load_scenario(ROOT / "scenarios" / "small.toml")
    team = base.with_overrides(
        "x", reps=[{"role": "hunter", "count": 3}, {"role": "farmer", "count": 7}, {"role": "inside", "count": 2}]
    )
    notes = {s: make_policy("hunter_farmer", {"hunter_share": s}).notes(team) for s in (0.15, 0.25, 0.3, 0.5)}
    for share in (0.15, 0.25):
        assert notes[share] == [
            f"hunter_share {share}: 2 of the 10 field closing seats hunt, 8 farm (hunting: 2 hunter seats; farming: "
            "1 hunter seat and 7 farmer seats: the share decides, not the scenario's roles)"
        ]
    assert notes[0.3] == ["hunter_share 0.3: 3 of the 10 field closing seats hunt, 7 farm"]  # the roles agree
    assert notes[0.5] == [
        "hunter_share 0.5: 5 of the 10 field closing seats hunt, 5 farm (hunting: 3 hunter seats and 2 farmer "
        "seats; farming: 5 farmer seats: the share decides, not the scenario's roles)"
    ]
    # They are the seats the plan makes hunters: the pool of new-logo demand when no inside rep answers it.
    model = CoverageModel(
        team.with_overrides("y", reps=team.model_dump()["reps"][:2]),
        make_policy("hunter_farmer", {"hunter_share": 0.5}),
        1,
    )
    try:
        model.step()  # the first quarter's plan
        assert (model.plan.seat_pool == 0).sum() == 5
    finally:
        model.release()
    full = make_policy("hunter_farmer", {"hunter_share": 0.5, "division": "full_cycle"})
    assert full.notes(team) == ["hunter_share 0.5: the accounts 5 hunters and 5 farmers would own, dealt to all 10"]
