"""Unit tests of the pure pieces: allocation, response functions, statistics, keyed draws."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.allocation import allocate_hours
from sim.metrics import (
    POTENTIAL_BANDS,
    between_rep_sd,
    explained_sd,
    explained_sd_by_part,
    gini,
    potential_bands,
    quantile,
)
from sim.policies.rules import median, weighted_draw
from sim.randomness import Streams, keyed_normal, keyed_uniform
from sim.response import churn_relief, half_life_weeks, response_multiplier, weekly_decay, win_probability
from sim.selling import Adbudg, Power, Relationship


def test_allocation_by_hand():
    # Rep 0 (4 h): tasks of 2 h (priority 3), 3 h (2), 1 h (1): takes the 2 h, skips
    # the 3 h that no longer fits, then fits the 1 h. Rep 1 (5 h): 1 h first, then 5 h no.
    a = allocate_hours(
        rep=np.array([0, 0, 0, 1, 1, 1]),
        cost=np.array([2.0, 3.0, 1.0, 5.0, 1.0, 1.0]),
        priority=np.array([3.0, 2.0, 1.0, 1.0, 2.0, 0.0]),
        capacity=np.array([4.0, 5.0]),
    )
    assert a.accepted.tolist() == [True, False, True, False, True, False]
    assert a.declined.tolist() == [False] * 5 + [True]
    assert a.start[[0, 2, 4]].tolist() == [0.0, 2.0, 0.0]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.floats(0, 10), st.floats(-1, 5)), max_size=60),
    st.lists(st.floats(0, 40), min_size=5, max_size=5),
)
def test_allocation_never_exceeds_capacity_and_respects_priority(tasks, capacity):
    rep = np.array([t[0] for t in tasks], dtype=np.int64)
    cost = np.array([t[1] for t in tasks])
    priority = np.array([t[2] for t in tasks])
    cap = np.array(capacity)
    a = allocate_hours(rep, cost, priority, cap)
    used = np.bincount(rep[a.accepted], weights=cost[a.accepted], minlength=5)
    assert np.all(used <= cap + 1e-6)
    assert not np.any(a.accepted & a.declined)
    assert np.array_equal(a.declined, ~(priority > 0))
    for i in np.flatnonzero(~a.accepted & ~a.declined):
        r = rep[i]
        # Left undone only because it no longer fitted in what the rep had left...
        assert cost[i] > cap[r] - used[r] - 1e-9
        # ...so anything of lower priority the rep did instead was shorter.
        later = a.accepted & (rep == r) & (priority < priority[i])
        assert np.all(cost[later] <= cost[i] + 1e-9)


def test_adbudg_defining_points():
    f = Adbudg(a=3.0, b=1.0, c=2.0, d=4.0)
    assert response_multiplier(np.array([0.0]), f)[0] == 1.0  # y(0) = b
    half = f.d ** (1 / f.c)
    assert response_multiplier(np.array([half]), f)[0] == pytest.approx((f.a + f.b) / 2)
    assert response_multiplier(np.array([1e6]), f)[0] == pytest.approx(f.a, rel=1e-6)
    # S-shaped for c > 1: marginal response rises, then falls.
    x = np.linspace(0, 10, 1001)
    slope = np.diff(response_multiplier(x, f))
    assert slope[10] < slope[150] and slope[-1] < slope[150]
    concave = Adbudg(a=3.0, b=1.0, c=1.0, d=4.0)
    assert np.all(np.diff(np.diff(response_multiplier(x, concave))) <= 1e-12)


def test_power_defining_points_and_elasticity():
    f = Power(b=0.0, z=2.0, e=0.3, cap=1e9)
    assert response_multiplier(np.array([0.0]), f)[0] == 0.0
    assert response_multiplier(np.array([1.0]), f)[0] == pytest.approx(2.0)
    y1, y2 = response_multiplier(np.array([10.0, 11.0]), f)
    assert math.log(y2 / y1) / math.log(11 / 10) == pytest.approx(0.3)
    assert response_multiplier(np.array([1e12]), Power(cap=4.0))[0] == 4.0


def test_relationship_decay_half_life():
    # Monthly retention 0.84: after 52/12 weeks, 84% is left.
    d = weekly_decay(0.84)
    assert d ** (52 / 12) == pytest.approx(0.84)
    assert d ** half_life_weeks(0.84) == pytest.approx(0.5)
    assert half_life_weeks(0.84) == pytest.approx(17.23, abs=0.01)


def test_churn_relief_and_win_probability():
    rel = Relationship(churn_floor=0.3, churn_half_stock=2.0)
    assert churn_relief(np.array([0.0, 2.0, 1e9]), rel).tolist() == pytest.approx([1.0, 0.65, 0.3])
    one = np.ones(1)
    p = win_probability(one * 0.25, one * 0, one * 0.5, one, one * 0, Relationship())
    assert p[0] == pytest.approx(0.25)
    better = win_probability(one * 0.25, one * 2.0, one * 0.5, one, one * 0, Relationship())
    assert better[0] > 0.25
    conflicted = win_probability(one * 0.25, one * 0, one * 0.5, one, one, Relationship())
    assert conflicted[0] < 0.25


def test_gini_and_explained_sd_by_hand():
    assert gini(np.array([1.0, 1.0, 1.0, 1.0])) == 0.0
    assert gini(np.array([0.0, 0.0, 0.0, 4.0])) == pytest.approx(0.75)  # (n - 1) / n
    assert math.isnan(gini(np.zeros(3)))
    # Groups explain everything: SSb = 1, MSw = 0, n = 4 -> sqrt(1 / 4).
    assert explained_sd(np.array([0.0, 0.0, 1.0, 1.0]), np.array([0, 0, 1, 1])) == pytest.approx(0.5)
    # Identical group means: nothing explained (clipped at 0).
    assert explained_sd(np.array([0.0, 1.0, 0.0, 1.0]), np.array([0, 0, 1, 1])) == 0.0
    # Worked example: groups {1,2,3} and {4,5,6}: SSb = 13.5, SSw = 4, MSw = 1, n = 6.
    assert explained_sd(np.arange(1.0, 7.0), np.array([0, 0, 0, 1, 1, 1])) == pytest.approx(math.sqrt(12.5 / 6))
    # Cells: reps differ only in cell 0 (SSb = 1, SSw = 0, 8 items) -> sqrt(1 / 8); without the cells the
    # reps' mixes differ too: SSb = 0.5, SSw = 1, MSw = 1 / 6 -> sqrt((0.5 - 1 / 6) / 8).
    y, rep, cell = (
        np.array(v) for v in ([0.0, 0, 1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 0, 0, 1, 1], [0, 0, 0, 0, 1, 1, 1, 1])
    )
    assert explained_sd(y, rep, cell) == pytest.approx(math.sqrt(1 / 8))
    assert explained_sd(y, rep) == pytest.approx(math.sqrt((0.5 - 1 / 6) / 8))
    assert math.isnan(explained_sd(y, np.zeros(8, dtype=np.int64)))  # one group: nothing to compare
    # By part, each cell its own part: cell 0's reps differ (sqrt(1 / 4)), cell 1's do not (0).
    by_part, overall = explained_sd_by_part(y, rep, cell, cell, 2)
    assert by_part.tolist() == [0.5, 0.0] and overall == pytest.approx(math.sqrt(1 / 8))
    assert between_rep_sd(np.array([0, 0, 0, 1, 1, 1, 2]), np.array([1.0, 1, 1, 3, 3, 3, 9])) == pytest.approx(
        np.std([1.0, 3.0], ddof=1)
    )


def explained_sd_reference(outcome: np.ndarray, group: np.ndarray, cell: np.ndarray) -> float:
    """``explained_sd`` as it was before ``explained_sd_by_part`` (467be79), for comparison."""
    from sim.distinct import distinct_inverse

    if outcome.size == 0:
        return float("nan")
    cell = cell.astype(np.int64)
    width = int(group.max()) + 1
    keys, inverse, counts = distinct_inverse(cell * width + group)
    cells, cell_inverse, cell_counts = distinct_inverse(cell)
    k, n = keys.size, outcome.size
    df_between = k - cells.size
    if df_between < 1 or n - k <= 0:
        return float("nan")
    group_means = np.bincount(inverse, weights=outcome) / counts
    cell_means = np.bincount(cell_inverse, weights=outcome) / cell_counts
    group_cell = np.searchsorted(cells, keys // width)
    ss_between = float(np.sum(counts * (group_means - cell_means[group_cell]) ** 2))
    ss_within = float(np.sum((outcome - group_means[inverse]) ** 2))
    ms_within = ss_within / (n - k)
    return float(np.sqrt(max(0.0, ss_between - df_between * ms_within) / n))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 60), st.integers(1, 4), st.integers(1, 6), st.booleans())
def test_explained_sd_by_part_is_each_part_alone_to_the_last_bit(seed, n, parts, groups, binary):
    # Cells nest in parts (cell // 3 is the part), as comparable accounts nest in segments.
    rng = np.random.default_rng(seed)
    cell = rng.integers(0, 3 * parts, n)
    part = cell // 3
    group = rng.integers(0, groups, n)
    y = rng.integers(0, 2, n).astype(float) if binary else rng.normal(size=n)
    by_part, overall = explained_sd_by_part(y, group, cell, part, parts)
    assert by_part.shape == (parts,)
    assert np.array_equal([overall], [explained_sd_reference(y, group, cell)], equal_nan=True)
    assert np.array_equal([explained_sd(y, group, cell)], [overall], equal_nan=True)
    alone = [explained_sd_reference(y[part == s], group[part == s], cell[part == s]) for s in range(parts)]
    assert np.array_equal(by_part, alone, equal_nan=True)


def test_keyed_draws_are_uniform_and_stable():
    key = Streams.from_seed(1).outcome_key
    ids = np.arange(200_000)
    u = keyed_uniform(key, ids, 3)
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    assert np.array_equal(u[:10], keyed_uniform(key, ids[:10], 3))
    assert abs(np.corrcoef(u, keyed_uniform(key, ids, 4))[0, 1]) < 0.01
    z = keyed_normal(key, ids, 0)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    assert not np.array_equal(u, keyed_uniform(Streams.from_seed(2).outcome_key, ids, 3))


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=40))
@settings(max_examples=200, deadline=None)
def test_median_is_numpys_median(values: list[float]) -> None:
    v = np.array(values)
    assert median(v) == np.median(v)


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False) | st.integers(0, 5).map(float), min_size=1, max_size=40),
    st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9, 0.95, 1.0]) | st.floats(0.0, 1.0),
)
@settings(max_examples=300, deadline=None)
def test_quantile_is_numpys_quantile_to_the_last_bit(values: list[float], q: float) -> None:
    v = np.array(values)
    assert quantile(v, q) == np.quantile(v, q)
    assert quantile(v, 0.9) == np.percentile(v, 90)  # the quarter's response_days_p90
    assert np.array_equal(v, np.array(values))  # the caller's array is left as it was


def test_quantile_of_a_nan_is_nan_as_numpys() -> None:
    v = np.array([3.0, np.nan, 1.0, 2.0])
    assert math.isnan(quantile(v, 0.9)) and math.isnan(np.quantile(v, 0.9))
    assert quantile(np.array([7.5]), 0.9) == 7.5


def test_weighted_draw_is_numpys_choice() -> None:
    items, weights = np.array([3, 8, 9, 20]), np.array([4.0, 0.0, 10.5, 1.5])
    drawn = weighted_draw(np.random.default_rng(6), items, weights, 2_000)
    assert np.array_equal(drawn, np.random.default_rng(6).choice(items, size=2_000, p=weights / weights.sum()))
    assert 8 not in drawn
    assert np.mean(drawn == 9) == pytest.approx(10.5 / 16, abs=0.03)


def test_every_unit_has_a_format():
    # A metric in a unit without a format crashed the experiment summary (a KeyError after every run).
    from sim.catalogue import Unit
    from sim.format import _SHOW

    assert set(_SHOW) == set(Unit)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.sampled_from([1.0, 2.0, 2.0, 7.5]) | st.floats(0.01, 1e6)),
        min_size=1,
        max_size=80,
    )
)
def test_potential_bands_are_fifths_by_rank_within_the_segment(accounts) -> None:
    segment = np.array([a[0] for a in accounts], dtype=np.int8)
    potential = np.array([a[1] for a in accounts])
    band = potential_bands(segment, potential, 3)
    for s in range(3):
        members = [i for i in range(len(accounts)) if segment[i] == s]
        ranked = sorted(members, key=lambda i: (potential[i], i))  # ties in account order
        for rank, i in enumerate(ranked):
            assert band[i] == rank * POTENTIAL_BANDS // len(members)


def test_recovery_in_words_long_for_the_report_and_short_for_the_terminal():
    from sim.experiment.stress import BACK, NEVER_HURT, NOT_BACK, NOT_SHOWN_HURT, UNCLEAR
    from sim.format import recovery_words as recovery

    verdicts = [(NEVER_HURT, 0), (BACK, 1), (BACK, 3.0), (NOT_SHOWN_HURT, 3), (NOT_BACK, None), (UNCLEAR, None)]
    assert [recovery(v, q) for v, q in verdicts] == [
        "never hurt",
        "1 quarter",
        "3 quarters",
        "not shown hurt: back for good after 3 quarters, none clearly hurt before",
        "not within the horizon",
        "cannot tell at this replication count",
    ]
    assert [recovery(v, q, short=True) for v, q in verdicts] == [
        "never hurt",
        "1 q",
        "3 q",
        "no clear hurt",
        "not back",
        "unclear",
    ]


def test_a_count_of_one_is_singular() -> None:
    from sim.format import counted

    assert [counted(n, "run") for n in (0, 1, 2, 1200)] == ["0 runs", "1 run", "2 runs", "1,200 runs"]
    assert counted(1, "distinct run") == "1 distinct run"
    assert [counted(n, "stress", "stresses") for n in (1, 2)] == ["1 stress", "2 stresses"]


def test_money_keeps_billions_apart_that_differ_by_millions() -> None:
    from sim.format import money

    # 1,023M and 1,017M both read "1.0bn" (a new user's 12-quarter comparison of two policies).
    values = (1.0234e9, 1.0166e9, -2.5e9, 645.6e6, 702.7e3, 640.0)
    assert [money(v) for v in values] == ["1,023.4M", "1,016.6M", "-2,500.0M", "645.6M", "702.7k", "640"]


def test_money_that_rounds_up_to_the_next_unit_is_shown_in_it() -> None:
    from sim.format import money

    # A review: a fall of 999,997 read "1,000.0k" beside "1.0M"; 999.6 read "1000".
    values = (999_997.0, -999_950.0, 999_949.0, 999.6, 999.5, 999.4)
    assert [money(v) for v in values] == ["1.0M", "-1.0M", "999.9k", "1.0k", "1.0k", "999"]


def test_a_tiny_negative_amount_or_share_is_not_shown_as_minus_zero() -> None:
    from sim.format import money, share

    # An analyst read "-0.0%" in a stress table for a change that rounds to nothing.
    assert [money(v) for v in (-0.4, -0.6, 0.4)] == ["0", "-1", "0"]
    assert [share(v) for v in (-0.0004, 0.0004, -0.0123, 0.4674999)] == ["0.0%", "0.0%", "-1.2%", "46.7%"]
    from sim.format import pct

    # A stress's relative change: signed, but one that rounds to nothing is neither "-0.0%" nor "+0.0%".
    assert [pct(v) for v in (-0.0004, 0.0004, 0.03, -0.202, float("nan"))] == ["0.0%", "0.0%", "+3.0%", "-20.2%", "-"]


def test_a_difference_that_is_not_zero_is_not_shown_as_zero() -> None:
    from sim.experiment.report.markdown import amount
    from sim.format import difference

    # A mean difference of a quarter of a missed opportunity read "+0", and in the answer "0 higher".
    assert difference("missed_queue_wait", 0.25) == "+0.25" and amount("missed_queue_wait", 0.25) == "0.25"
    assert [difference("opps_missed", v) for v in (-0.04, 3.6, 0.0, -0.6)] == ["-0.040", "+4", "0", "-1"]
    assert difference("response_days_mean", 0.0004) == "+0.00040"  # shown to 2 decimals: 0.00
    assert difference("rep_lottery", 0.0023) == "+0.002"  # shown to 3 decimals, not 0
    assert difference("revenue_captured", 0.2) == "+0"  # money: a fifth of a currency unit is nothing to show


def test_covsim_run_names_a_tie_for_the_most_profit_as_a_tie() -> None:
    import pandas as pd

    from sim.run_tables import run_answer

    totals = pd.Series(
        {("profit", "a"): 1e6, ("profit", "b"): 1e6, ("revenue_captured", "a"): 6.3e6, ("revenue_captured", "b"): 6.3e6}
    )
    text = run_answer(totals, ["a", "b"])
    assert text.startswith("Answer: over the run, a and b made the same profit, the most: a 1.0M; b 1.0M (0 against a)")
    totals[("profit", "b")] = 1.1e6
    assert run_answer(totals, ["a", "b"]).startswith("Answer: over the run, b made the most profit: a 1.0M")
    three = pd.Series({("profit", p): 1e6 for p in "abc"})
    assert run_answer(three, ["a", "b", "c"]).startswith("Answer: over the run, a, b and c made the same profit")
    nothing = pd.Series({("profit", p): float("nan") for p in "ab"})
    assert run_answer(nothing, ["a", "b"]).startswith("Answer: over the run, a made the most profit: a -")
    # More revenue captured and less profit: the two are told apart, not left to read as a contradiction.
    assert "; the most revenue" not in run_answer(totals, ["a", "b"])  # the same revenue: nothing to tell apart
    totals[("revenue_captured", "a")] = 6.5e6
    assert run_answer(totals, ["a", "b"]) == (
        "Answer: over the run, b made the most profit: a 1.0M; b 1.1M (+100.0k against a). Revenue captured: a 6.5M, "
        "b 6.3M; the most revenue captured is a's, not b's: profit is the margin on all recurring revenue less the "
        "cost of sales, revenue captured counts the new logos and expansions won and the renewals reps won (a renewal "
        "a rep touched at its whole value, though it might have renewed without one). One seed each, so no interval: "
        "`covsim compare` pairs replications and says which differences are more than noise."
    )
    totals[("revenue_captured", "a")] = 6.304e6  # more, but printed as b's is, 6.3M: nothing to tell apart
    assert "; the most revenue" not in run_answer(totals, ["a", "b"])
    # A loss is said as one: "made a profit of -2.5M" and "made the most profit: a -2.5M" misread.
    losses = pd.Series({("profit", "a"): -2.5e6, ("profit", "b"): -3e6, **{("revenue_captured", p): 1e6 for p in "ab"}})
    assert run_answer(losses, ["a", "b"]).startswith("Answer: over the run, a lost the least: a -2.5M; b -3.0M (")
    assert run_answer(losses, ["b"]).startswith("Answer: over the run, b made a loss of 3.0M, the margin on all ")
    # One policy: its profit and revenue, not "a made the most profit" of one.
    assert run_answer(totals, ["a"]) == (
        "Answer: over the run, a made a profit of 1.0M, the margin on all recurring revenue less the cost of sales; "
        "it captured 6.3M of revenue (the new logos and expansions won, by reps, partners or the digital channel, and "
        "the renewals reps won). One seed, so no interval: `covsim compare` replicates and compares policies."
    )
    # With the parts it adds up to (a CRM analyst's revenue was 60% renewals reps won, which it had not said).
    parts = ("won_value_new_logo", "won_value_expansion", "retained_spend")
    for metric, value in zip(parts, (0.0, 2.5e6, 3.8e6), strict=True):
        totals[(metric, "a")] = value
    assert run_answer(totals, ["a"]) == (
        "Answer: over the run, a made a profit of 1.0M, the margin on all recurring revenue less the cost of sales; "
        "it captured 6.3M of revenue: new logos 0 and expansions 2.5M won (by reps, partners or the digital "
        "channel), renewals reps won 3.8M. One seed, so no interval: `covsim compare` replicates and compares policies."
    )


def test_a_cause_that_rounds_to_0_percent_is_no_main_cause_of_misses() -> None:
    import pandas as pd

    from sim.run_tables import _main_causes

    # 1 queue wait in 400 misses printed "queue wait 0%" as the second main cause.
    row = pd.Series({"missed_stalled": 399.0, "missed_queue_wait": 1.0})
    assert _main_causes(row) == "stalled 100%"
    row["missed_queue_wait"] = 2.0  # 0.5%: "0%" as shown (half to even), so no main cause either
    assert _main_causes(row) == "stalled 100%"
    row["missed_queue_wait"] = 3.0  # 0.75%: it rounds to 1%
    assert _main_causes(row) == "stalled 99%, queue wait 1%"


def test_two_ends_of_an_interval_that_differ_are_not_shown_alike() -> None:
    # A VP's 8-replication compare printed "sla_breach_rate -0.1 pp [-0.1 pp, -0.1 pp]": an interval of no width.
    from sim.format import difference_with_interval

    assert difference_with_interval("sla_breach_rate", -0.001, -0.0012, -0.0008) == "-0.10 pp [-0.12 pp, -0.08 pp]"
    # wide enough already: as before
    assert difference_with_interval("sla_breach_rate", -0.05, -0.09, -0.01) == "-5.0 pp [-9.0 pp, -1.0 pp]"
    # as many as tell them apart, however narrow
    assert (
        difference_with_interval("miss_rate", 0.1, 0.0999999, 0.1000001) == "+10.00000 pp [+9.99999 pp, +10.00001 pp]"
    )


def test_means_set_side_by_side_show_their_differences() -> None:
    # A researcher's effects table read "0.7: 6.6M; 0.84: 6.6M; 0.95: 6.6M" beside a change of +61.5k.
    from sim.format import fmt_apart

    assert fmt_apart("profit", [6_580_100.0, 6_610_400.0, 6_641_600.0]) == ["6.58M", "6.61M", "6.64M"]
    assert fmt_apart("profit", [6_580_100.0, 6_581_400.0]) == ["6.580M", "6.581M"]
    assert fmt_apart("profit", [11.5e6, 11.5e6]) == ["11.5M", "11.5M"]  # the same: as fmt shows them
    assert fmt_apart("profit", [12.5e6, 14.55e6]) == ["12.5M", "14.6M"]  # apart at fmt's precision already
    assert fmt_apart("profit", [1_000.0, 1_000.04]) == ["1.0k", "1.0k"]  # 3 more decimals show them alike: as fmt
    assert fmt_apart("profit", [999.0, 2_000_400.0]) == ["999", "2.0M"]
    assert fmt_apart("miss_rate", [0.6251, 0.6254]) == ["62.51%", "62.54%"]
    assert fmt_apart("opps_missed", [34_788.2, 34_788.4]) == ["34,788.2", "34,788.4"]
    assert fmt_apart("profit", [float("nan"), 2e6, 2.04e6]) == ["-", "2.00M", "2.04M"]


def test_a_p_value_beside_0_05_is_shown_to_the_digit_that_says_its_side() -> None:
    # A researcher's answer: "Holm-adjusted p = 0.050 ...; the Holm p is below 0.05" of 0.0496.
    from sim.format import p_value

    shown = [p_value(p) for p in (0.04959, 0.0504, 0.04996, 0.05, 0.0449, 0.5, 0.0009, float("nan"))]
    assert shown == ["0.0496", "0.0504", "0.04996", "0.050", "0.045", "0.500", "<0.001", "-"]
    # Within 5e-9 of 0.05 (a reviewer's 0.0500000001 had read 0.05000000): its side alone.
    assert (p_value(0.0500000001), p_value(0.0499999999)) == (">0.05", "<0.05")
