"""The draws behind arrivals and churn: geometric gaps, Bernoulli positions, thinning, keyed draws."""

from __future__ import annotations

import numpy as np
import pytest

import sim.randomness as randomness
from sim.randomness import (
    Streams,
    Thinning,
    bernoulli_positions,
    box_muller,
    geometric,
    keyed_normal,
    keyed_uniform,
    keyed_uniforms,
    normal_purposes,
)


@pytest.mark.parametrize("p", [1e-6, 0.002, 0.0625, 0.3])
def test_geometric_is_numpys_geometric_below_a_third(p: float) -> None:
    ours = geometric(np.random.default_rng(7), p, 5_000)
    assert ours.dtype == np.int64
    assert np.array_equal(ours, np.random.default_rng(7).geometric(p, 5_000))


def test_geometric_above_a_third_has_the_geometric_law() -> None:
    # numpy searches instead of inverting here; ours still inverts, so check the law itself.
    g = geometric(np.random.default_rng(3), 0.5, 200_000)
    assert g.min() == 1
    for k in (1, 2, 3):
        assert np.mean(g == k) == pytest.approx(0.5**k, abs=0.005)


def test_bernoulli_positions_are_independent_draws_at_p() -> None:
    rng = np.random.default_rng(11)
    counts, halves = [], []
    for _ in range(400):
        pos = bernoulli_positions(rng, 10_000, 0.01)
        assert np.all(np.diff(pos) > 0) and pos.min(initial=0) >= 0 and pos.max(initial=0) < 10_000
        counts.append(pos.size)
        halves.append(np.mean(pos < 5_000) if pos.size else 0.5)
    # Binomial(10000, 0.01): mean 100, sd 9.95; 400 draws give the mean to +-0.5.
    assert np.mean(counts) == pytest.approx(100.0, abs=2.5)
    assert np.std(counts) == pytest.approx(9.95, rel=0.15)
    assert np.mean(halves) == pytest.approx(0.5, abs=0.01)


def _buckets() -> Thinning:
    rng = np.random.default_rng(5)
    ids = rng.permutation(30_000)
    return Thinning((np.sort(ids[:5_000]), np.sort(ids[5_000:25_000]), np.sort(ids[25_000:])), (0.003, 0.031, 0.12))


def test_thinning_draws_all_buckets_at_once_as_bucket_after_bucket() -> None:
    th = _buckets()
    for seed in range(20):
        ids, bound, u = th.candidates(np.random.default_rng(seed))
        rng = np.random.default_rng(seed)
        picked = [m[bernoulli_positions(rng, m.size, b)] for m, b in zip(th.members, th.bounds, strict=True)]
        assert np.array_equal(ids, np.concatenate(picked))
        assert np.array_equal(bound, np.repeat(th.bounds, [p.size for p in picked]))
        assert np.array_equal(u, rng.random(ids.size))


def _check_rates(th: Thinning, draws: int) -> None:
    rng = np.random.default_rng(2)
    per_bucket = np.zeros(len(th.members))
    for _ in range(draws):
        ids, bound, _u = th.candidates(rng)
        assert np.unique(ids).size == ids.size
        for k, (m, b) in enumerate(zip(th.members, th.bounds, strict=True)):
            mine = ids[bound == b]
            assert np.isin(mine, m).all() and np.all(np.diff(mine) > 0)
            per_bucket[k] += mine.size
    for k, (m, b) in enumerate(zip(th.members, th.bounds, strict=True)):
        expected = draws * m.size * b
        assert per_bucket[k] == pytest.approx(expected, abs=5 * np.sqrt(expected))


def test_thinning_is_exact_when_gaps_fall_short(monkeypatch: pytest.MonkeyPatch) -> None:
    # One gap per bucket: every week takes the rare path that draws more gaps.
    monkeypatch.setattr(randomness, "_chunk", lambda n, p: 1)
    _check_rates(_buckets(), 300)


def test_thinning_with_a_certain_or_tiny_bucket_draws_bucket_by_bucket() -> None:
    th = Thinning((np.arange(0, 50), np.arange(50, 20_050), np.arange(20_050, 30_000)), (1.0, 0.02, 1e-7))
    ids, bound, _u = th.candidates(np.random.default_rng(1))
    assert np.array_equal(ids[:50], np.arange(50)) and np.all(bound[:50] == 1.0)
    _check_rates(th, 300)


def test_keyed_uniforms_are_keyed_uniform_per_purpose() -> None:
    key = Streams.from_seed(4).outcome_key
    ids = np.arange(1_000, 3_000)
    rows = keyed_uniforms(key, ids, (0, 5, 1_000_003))
    for row, purpose in zip(rows, (0, 5, 1_000_003), strict=True):
        assert np.array_equal(row, keyed_uniform(key, ids, purpose))
    assert np.array_equal(keyed_normal(key, ids, 5), box_muller(*keyed_uniforms(key, ids, normal_purposes(5))))
    # A pinned value: changing the generator changes every run's results.
    assert keyed_uniform(np.uint64(12345), np.array([0, 7]), 2).tolist() == pytest.approx(
        [0.16503689045508707, 0.38489284689567393], abs=0
    )


def test_thinning_keeps_one_copy_of_its_members() -> None:
    th = _buckets()
    flat = th.members[0].base
    assert flat is not None and all(m.base is flat for m in th.members)
    assert th._slots is not None and th._slots.members is flat


@pytest.mark.parametrize("kind", ["spread", "all zero", "some above one", "tiny", "powers of two"])
def test_buckets_by_bound_hold_each_item_once_in_its_power_of_two_with_the_bucket_maximum(kind):
    rng = np.random.default_rng(8)
    n = 20_000
    bound = {
        "spread": rng.uniform(0, 1, n) ** 6,
        "all zero": np.zeros(n),
        "some above one": rng.uniform(0, 2, n),
        "tiny": np.where(rng.random(n) < 0.5, 0.0, 1e-30 + rng.random(n) * 1e-20),
        "powers of two": np.ldexp(1.0, -rng.integers(0, 70, n)) * np.where(rng.random(n) < 0.5, 1.0, 1 + 2**-52),
    }[kind]
    th = Thinning.by_bound(bound)
    live = np.flatnonzero(bound > 0)
    level = np.maximum(np.ceil(np.log2(np.minimum(bound[live], 1.0))), -60)
    # One bucket per level present, lowest level first, members ascending, bound the largest of its members.
    assert len(th.members) == np.unique(level).size
    for ids, b, k in zip(th.members, th.bounds, np.unique(level), strict=True):
        assert ids.tolist() == live[level == k].tolist()
        assert b == min(1.0, float(bound[ids].max()))


def _seat_histories(scenario, quarters: int = 2):
    """Each seat's (vacated week, skill) after every week of ``quarters``, and the seats of an attrition shock."""
    from sim.model import CoverageModel
    from sim.policies import make_policy

    model = CoverageModel(scenario, make_policy("segment_tiers"), seed=5)
    try:
        team = model.team
        history = []
        for week in range(1, 13 * quarters + 1):
            team.begin_week(week, frozen=False)
            history.append([(r.filled, r.vacated_week, r.skill, r.x, r.y) for r in team.seats])
        return history, team.shock_order(3, 0)
    finally:
        model.release()  # else it stays in mesa.Agent._ids for the tests after it in this process


def test_the_seats_two_teams_share_have_the_same_history() -> None:
    # Drawn in seat order from one stream, one seat more had moved every later seat's departures: the overlay's
    # six specialists, who did no work under segment_tiers, moved its revenue by -4.8M to +9.4M over 8 seeds.
    from sim.scenario import load_scenario
    from tests.conftest import SMALL

    small = load_scenario(SMALL).with_overrides("often", **{"workforce.attrition_per_year": 0.9})
    more = small.with_overrides("more", **{"reps.0.count": small.reps[0].count + 3})
    fewer = small.with_overrides("fewer", **{"reps.0.count": 0})  # the first group gone: the others keep their ids
    base, order = _seat_histories(small)
    bigger, bigger_order = _seat_histories(more)
    smaller, smaller_order = _seat_histories(fewer)
    n0, n = small.reps[0].count, len(base[0])
    left = {r[1] for week in base for r in week if not r[0]}
    assert len(left) > 3  # seats did leave: the histories compared are not all "never"
    extra = slice(n0, n0 + 3)  # the three seats `more` adds at the end of the first group
    for week in range(len(base)):
        assert bigger[week][:n0] + bigger[week][n0 + 3 :] == base[week]
        assert smaller[week] == base[week][n0:]
    assert np.array_equal(np.delete(bigger_order, np.arange(n)[extra]), order)
    assert np.array_equal(smaller_order, order[n0:])


def test_an_attrition_shock_vacates_the_seats_of_the_lowest_draw_in_seat_order() -> None:
    from sim.shocks import RepAttrition, leaving_seats

    shock = RepAttrition(kind="rep_attrition", quarter=2, share=0.5, role="inside")
    filled = np.array([True, True, False, True, True, True])
    role = np.array(["inside", "inside", "inside", "inside", "field", "inside"])
    order = np.array([0.9, 0.1, 0.0, 0.5, 0.05, 0.3])
    # four filled inside seats (0, 1, 3, 5): half of them, the two lowest draws (1 and 5), in seat order
    assert leaving_seats(shock, filled, role, np.zeros(6, int), ("local",), order).tolist() == [1, 5]


def test_an_attrition_shock_of_a_count_of_seats_vacates_that_many_filled_seats_or_all() -> None:
    # A VP's "five hunters quit" as share 0.18 of 25 filled seats left 4 in a replication one was vacant in.
    from sim.shocks import RepAttrition, leaving_seats

    filled = np.array([True, True, False, True, True, True])
    role = np.array(["inside", "inside", "inside", "inside", "field", "inside"])
    order = np.array([0.9, 0.1, 0.0, 0.5, 0.05, 0.3])
    region = np.zeros(6, int)

    def leaving(seats: int) -> list[int]:
        shock = RepAttrition(kind="rep_attrition", quarter=2, seats=seats, role="inside")
        return leaving_seats(shock, filled, role, region, ("local",), order).tolist()

    # the filled inside seats 0, 1, 3, 5 by their draws: 1 (0.1), 5 (0.3), 3 (0.5), 0 (0.9); the vacant seat 2 never
    assert leaving(1) == [1]
    assert leaving(3) == [1, 3, 5]
    assert leaving(9) == [0, 1, 3, 5]  # more than are filled: all of them


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({}, "shocks.0.share: give share (of the filled seats) or seats (how many leave)"),
        ({"share": 0.2, "seats": 3}, "shocks.0.seats: give share or seats, not both (share 0.2, seats 3)"),
        ({"seats": -2}, "shocks.0.seats: Input should be greater than or equal to 0, not -2"),
    ],
)
def test_an_attrition_shock_gives_a_share_or_a_count_of_seats(given: dict[str, float], problem: str) -> None:
    from sim.errors import InputError
    from sim.scenario import parse_scenario
    from tests.conftest import small_data

    data = small_data()
    data["shocks"] = [{"kind": "rep_attrition", "quarter": 2, **given}]
    with pytest.raises(InputError) as e:
        parse_scenario(data, "s.toml")
    assert e.value.problems == [f"s.toml: {problem}"]


def test_two_attrition_shocks_in_one_week_draw_apart() -> None:
    # Keyed by the seat and the week alone, a second shock shared the first's draws and avoided the seats the first
    # had left, the high draws: of 10 hunters and 10 farmers, half the hunters then half of everyone left took 1.5
    # hunters in the second on average, where a uniform choice takes 2.7.
    from sim.model import CoverageModel
    from sim.policies import make_policy
    from sim.scenario import load_scenario
    from tests.conftest import SMALL

    model = CoverageModel(load_scenario(SMALL), make_policy("unstructured"), seed=5)
    try:
        first, second = model.team.shock_order(13, 0), model.team.shock_order(13, 1)
        assert first.shape == second.shape == (len(model.team),)
        assert not np.array_equal(first, second)
        assert np.array_equal(first, model.team.shock_order(13, 0))  # keyed: the same again
    finally:
        model.release()
    # the choice as a whole: over many keys, a second shock of half of everyone left takes hunters uniformly
    from sim.codes import Draw
    from sim.reps import SEATS_PER_GROUP, SHOCK_PURPOSES
    from sim.shocks import RepAttrition, leaving_seats

    role = np.array(["hunter"] * 10 + ["farmer"] * 10)
    ids = np.concatenate([np.arange(10), SEATS_PER_GROUP + np.arange(10)]) * randomness.KEY_WEEK_STRIDE + 13
    hunters = []
    for key in range(2000):
        u = keyed_uniforms(np.uint64(key), ids, (Draw.SHOCK_LEAVE, Draw.SHOCK_LEAVE + SHOCK_PURPOSES))
        filled = np.ones(20, dtype=bool)
        region = np.zeros(20, dtype=np.int64)
        out = leaving_seats(
            RepAttrition(kind="rep_attrition", quarter=2, share=0.5, role="hunter"), filled, role, region, ("r",), u[0]
        )
        filled[out] = False
        out = leaving_seats(
            RepAttrition(kind="rep_attrition", quarter=2, share=0.5), filled, role, region, ("r",), u[1]
        )
        hunters.append(int((role[out] == "hunter").sum()))
    # 15 seats left (5 hunters): 8 of them taken (7.5 rounds to even), 8 x 5 / 15 = 2.67 hunters on average
    assert abs(np.mean(hunters) - 8 * 5 / 15) < 0.1
