"""A full factorial's effects: the contrasts of sim.experiment.effects by hand, and the report's section on them."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.experiment.effects import factor_effects
from sim.experiment.spec import Factor
from tests.test_report import ANSWER_METRICS, M, experiment, opening, stored

#: A 2 x 3 grid: factor a (1, 2) by factor b ("x", "y", "z"), points in the grid's order.
POINTS = pd.DataFrame(
    [(i, a, b) for i, (a, b) in enumerate(itertools.product((1, 2), ("x", "y", "z")))], columns=["point", "a", "b"]
)
#: Per replication, how much more than 2 the policy's lead grows from a = 1 to a = 2.
GROWTH = (0.0, 0.5, -0.5, 0.2)


def value(point: int, policy: str, rep: int) -> float:
    """The baseline: 10 + rep + the index of b; the policy: 1 more at a = 1, 3 + GROWTH[rep] more at a = 2."""
    a, b = POINTS.loc[point, ["a", "b"]]
    base = 10.0 + rep + "xyz".index(b)
    return base + (0.0 if policy == "base" else 1.0 if a == 1 else 3.0 + GROWTH[rep])


def values(reps: int = 4, drop: tuple[int, str, int] | None = None) -> pd.DataFrame:
    rows = [
        (point, policy, rep, "revenue_captured", value(point, policy, rep))
        for point in POINTS.point
        for policy in ("base", "p")
        for rep in range(reps)
        if (point, policy, rep) != drop
    ]
    return pd.DataFrame(rows, columns=["point", "policy", "replication", "metric", "value"])


def row(table: pd.DataFrame, kind: str, factor: str, policy: str) -> pd.Series:
    hit = table[(table.kind == kind) & (table.factor == factor) & (table.policy == policy)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_the_interaction_is_the_change_of_the_difference_paired_by_replication() -> None:
    t = factor_effects(values(), POINTS, ["a", "b"], "base", "revenue_captured")
    r = row(t, "interaction", "a", "p")
    assert r.levels == [1, 2]
    # The difference at a = 2 is 3 + GROWTH[rep]: its mean over the replications 3.05; at a = 1, 1.
    assert r.by_level == pytest.approx([1.0, 3.05])
    change = 2.0 + np.array(GROWTH)
    assert r.change == pytest.approx(change.mean()) and r.n == 4
    # b does not move the difference (it is the same at every b): its change is none in every replication, no
    # test, so the family of interactions is a's alone (1) and a's interval is the plain 95% one.
    b = row(t, "interaction", "b", "p")
    assert b.constant and b.change == 0.0 and np.isnan(b.low) and b.by_level == pytest.approx([2.025] * 3)
    assert r.family == 1 and not r.constant
    half = stats.t.ppf(0.975, 3) * change.std(ddof=1) / 2
    assert (r.low, r.high) == pytest.approx((change.mean() - half, change.mean() + half))


def test_the_main_effect_is_each_policy_s_change_bonferroni_adjusted_over_its_table() -> None:
    t = factor_effects(values(), POINTS, ["a", "b"], "base", "revenue_captured")
    # The baseline's level means: b moves it by its index, a not at all.
    base_b = row(t, "main", "b", "base")
    assert base_b.levels == ["x", "y", "z"] and base_b.by_level == pytest.approx([11.5, 12.5, 13.5])
    assert base_b.constant and base_b.change == pytest.approx(2.0)  # the same +2 in every replication
    assert row(t, "main", "a", "base").change == 0.0
    # The policy's a: +2 + GROWTH[rep], a test; its b: +2 in every replication, none. One test in the family.
    pa = row(t, "main", "a", "p")
    assert pa.family == 1 and pa.change == pytest.approx(2.05)
    assert set(t.kind) == {"main", "interaction", "policy"} and len(t) == 2 * 2 + 2 * 1 + 1


def test_a_policy_s_main_effect_is_its_difference_from_the_baseline_averaged_over_the_design() -> None:
    # A researcher's paper reports the policy effect over the whole design; the answer cites the weakest point.
    t = factor_effects(values(), POINTS, ["a", "b"], "base", "revenue_captured")
    r = row(t, "policy", "", "p")
    # Per replication: 1 at the three points of a = 1, 3 + GROWTH at the three of a = 2: mean 2 + GROWTH / 2.
    d = 2.0 + np.array(GROWTH) / 2
    half = stats.t.ppf(0.975, 3) * d.std(ddof=1) / 2
    assert r.levels == ["all"] and r.n == 4 and r.family == 1 and not r.constant
    assert r.change == pytest.approx(d.mean()) and r.by_level == pytest.approx([d.mean()])
    assert (r.low, r.high) == pytest.approx((d.mean() - half, d.mean() + half))


def test_a_replication_with_a_value_missing_at_one_point_is_left_out_of_every_contrast() -> None:
    t = factor_effects(values(drop=(4, "base", 1)), POINTS, ["a", "b"], "base", "revenue_captured")
    r = row(t, "interaction", "a", "p")
    kept = 2.0 + np.array(GROWTH)[[0, 2, 3]]
    assert r.n == 3 and r.change == pytest.approx(kept.mean())
    half = stats.t.ppf(0.975, 2) * kept.std(ddof=1) / np.sqrt(3)
    assert (r.low, r.high) == pytest.approx((kept.mean() - half, kept.mean() + half))


def test_no_table_without_the_baseline_or_with_factors_of_one_level() -> None:
    assert factor_effects(values(), POINTS, ["a"], "other", "revenue_captured").empty
    one = POINTS.assign(c=5)
    assert factor_effects(values(), one, ["c"], "base", "revenue_captured").empty
    # A policy with no value at one point is not compared; the baseline's main effects remain.
    partial = values()
    partial = partial[~((partial.policy == "p") & (partial.point == 0))]
    t = factor_effects(partial, POINTS, ["a"], "base", "revenue_captured")
    assert list(t.policy) == ["base"] and list(t.kind) == ["main"]


def test_the_report_of_a_grid_says_which_factor_changes_the_comparison(tmp_path: Path) -> None:
    exp = experiment(
        replications=4,
        metrics=ANSWER_METRICS,
        policies=experiment().policies[:2],  # unstructured, segment_tiers
        factors=(Factor(name="customers", target="scenario.population.customers", values=(300, 800)),),
    )
    noise = (0.0, 0.5, -0.5, 0.2)

    def revenue(point: int, policy: str, rep: int) -> float:
        # segment_tiers leads by 1M at 300 customers and by 3M + noise at 800.
        lead = 0.0 if policy == "unstructured" else 1.0 if point == 0 else 3.0 + noise[rep]
        return (10 + rep + lead) * M

    text = stored(exp, tmp_path, revenue)
    section = text[text.index("## Effects of the factors") : text.index("## Figures")]
    # the change: 2 + noise = 2.0, 2.5, 1.5, 2.2 (M); mean 2.05, sd 0.4123; one test: t(0.975, 3) = 3.182,
    # so 2.05 +- 0.656 = [+1.39M, +2.71M]
    said = (
        "`segment_tiers`'s difference from `unstructured` changes with `customers`: +1.0M at customers = 300, "
        "+3.0M at customers = 800 (a change of +2.0M [+1.4M, +2.7M], from the first level to the last, the only "
        "change tested)"
    )
    assert f"**Does a factor change the comparison?** Yes: {said}." in section
    # Over the design: 1M at 300 and 3M + noise at 800, averaged: 2M + noise / 2 (mean 2.025M, sd 0.206M).
    assert (
        "**Over the whole design** (each policy's difference from `unstructured` averaged over the 2 design points "
        "within each replication, its main effect; 95% t interval): `segment_tiers` +2.0M [+1.7M, +2.4M]."
    ) in section
    assert "| customers | segment_tiers - unstructured | 300: +1.0M; 800: +3.0M | +2.0M | [+1.4M, +2.7M] |" in section
    assert "| customers | unstructured | 300: 11.5M; 800: 11.5M | 0 | none (no change in any replication) |" in section
    assert opening(text).endswith(f"\n- Across the design: {said}.")


def test_a_clear_change_says_its_levels_between_and_the_family_it_is_adjusted_over(tmp_path: Path) -> None:
    # A researcher's pooled-queue answer gave the first and last of three levels, and "Bonferroni-adjusted" for an
    # interval adjusted over one test: no correction was made.
    exp = experiment(
        replications=4,
        metrics=ANSWER_METRICS,
        factors=(Factor(name="customers", target="scenario.population.customers", values=(300, 500, 800)),),
    )

    def revenue(point: int, policy: str, rep: int) -> float:
        # segment_tiers leads by 1M, 2M and 3M + noise at the three levels; hunter_farmer by 0.5M, + noise about
        # 0 at the last (a second change tested, not clear)
        lead = {"unstructured": 0.0, "segment_tiers": 1.0 + point + (point == 2) * GROWTH[rep]}
        return (10 + rep + lead.get(policy, 0.5 + (point == 2) * (1.0, -1.0, 0.5, -0.5)[rep])) * M

    text = stored(exp, tmp_path, revenue)
    section = text[text.index("## Effects of the factors") : text.index("## Figures")]
    # the change 2 + noise = 2.0, 2.5, 1.5, 2.2; two changes tested: t(1 - 0.05/4, 3) = 4.177, 2.05 +- 0.861
    half = stats.t.ppf(1 - 0.05 / 4, 3) * np.std([2.0, 2.5, 1.5, 2.2], ddof=1) / 2
    assert (round(2.05 - half, 1), round(2.05 + half, 1)) == (1.2, 2.9)
    said = (
        "`segment_tiers`'s difference from `unstructured` changes with `customers`: +1.0M at customers = 300, "
        "+2.0M at customers = 500, +3.0M at customers = 800 (a change of +2.0M [+1.2M, +2.9M], from the first level "
        "to the last, Bonferroni-adjusted over the 2 changes tested)"
    )
    assert said in section, section


def test_a_grid_whose_comparison_no_factor_changes_says_so_and_other_designs_have_no_section(tmp_path: Path) -> None:
    exp = experiment(
        replications=3,
        metrics=ANSWER_METRICS,
        factors=(Factor(name="customers", target="scenario.population.customers", values=(300, 800)),),
    )
    noise = (0.0, 0.5, -0.5)
    # segment_tiers leads by 1M at 300 customers and by 1M + noise at 800: a change of 0 on average. hunter_farmer's
    # runs at 800 customers are pending: it has no value there, so it is left out, and said to be.
    lead = {"unstructured": lambda p, r: 0.0, "segment_tiers": lambda p, r: 1.0 + p * noise[r]}
    lead["hunter_farmer"] = lead["segment_tiers"]
    text = stored(
        exp,
        tmp_path / "grid",
        lambda p, policy, rep: (10 + rep + lead[policy](p, rep)) * M,
        pending=lambda p, policy, rep: policy == "hunter_farmer" and p == 1,
    )
    section = text[text.index("## Effects of the factors") : text.index("## Figures")]
    assert (
        "**Does a factor change the comparison?** Not shown at these replications: no policy's difference from "
        "`unstructured` changes clearly from a factor's first level to its last (no interval excludes 0), which is "
        "no evidence that none does."
    ) in section
    assert " Left out: `hunter_farmer`, with no value at some design point (runs pending or failed there" in section
    assert "hunter_farmer" not in section.split("Left out:")[1].split("\n", 1)[1]  # in no table
    assert "Across the design" not in opening(text)
    # A change the same in every replication (no spread) is no test, and no doubt either: it is said.
    exp = experiment(replications=3, metrics=ANSWER_METRICS, policies=experiment().policies[:2], factors=exp.factors)
    text = stored(
        exp, tmp_path / "exact", lambda p, policy, rep: (10 + rep + (policy != "unstructured") * (1 + 2 * p)) * M
    )
    assert (
        "Yes: `segment_tiers`'s difference from `unstructured` changes with `customers`: +1.0M at customers = 300, "
        "+3.0M at customers = 800 (a change of +2.0M, the same in every replication)."
    ) in text
    plain = stored(experiment(replications=3, metrics=ANSWER_METRICS), tmp_path / "plain", lambda *_: 10 * M)
    assert "## Effects of the factors" not in plain


def test_a_team_size_factor_says_where_each_policy_makes_the_most_profit_and_an_edge(tmp_path: Path) -> None:
    # An analyst's "how many reps" experiment named the best policy, never a team size, and its profit rose to the
    # edge of the grid unsaid.
    exp = experiment(
        replications=4,
        metrics=("profit", "revenue_captured"),
        policies=experiment().policies[:2],  # unstructured, segment_tiers
        factors=(Factor(name="full_cycle", target="scenario.reps.0.count", values=(1, 2, 3), integer=True),),
    )
    noise = (0.0, 0.2, -0.2, 0.1)
    # unstructured: profit rises with the seats (10, 11, 12 M); segment_tiers: best at 2 (10, 12, 11 M)
    profit = {"unstructured": (10.0, 11.0, 12.0), "segment_tiers": (10.0, 12.0, 11.0)}

    def revenue(point: int, policy: str, rep: int) -> float:
        return 20 * M

    def misses(point: int, policy: str, rep: int) -> dict[str, float]:
        return {"profit": (profit[policy][point] + rep + noise[rep] * point) * M}

    said = opening(stored(exp, tmp_path, revenue, misses))
    note = said[said.index("On team size") :]
    # small.toml's groups: 2 full-cycle, 2 inside, 1 sdr seats; the factor sets the first to 1, 2, 3
    # Each seat's cost a year is said; the scenario's own team (5 seats, full_cycle = 2) is what every other level
    # is read against, a cut or a hire (a capacity trial's cut was said only beside the best size).
    assert note.startswith(
        "On team size (`full_cycle`, on `profit`, which counts each seat's cost a year (full_cycle 180,000, inside "
        "110,000, sdr 80,000: assumptions of the scenario); paired 95% t intervals over the replications, each its "
        "own, not adjusted across policies and levels as the answer's are, so narrower for the same pair: where the "
        "best size lies and what a cut or a hire does, not a test): `unstructured` makes the most at full_cycle = 3 "
        "(6 seats); it is the largest team tried, and a larger one may do better still; against the scenario's own "
        "team, full_cycle = 2 (5 seats): at full_cycle = 1 (4 seats), `profit` -1.0M ["
    ), note
    from sim.format import difference_with_interval

    def shown(d: np.ndarray) -> str:
        half = stats.t.ppf(0.975, 3) * d.std(ddof=1) / 2
        return difference_with_interval("profit", d.mean() * M, (d.mean() - half) * M, (d.mean() + half) * M)

    n = np.array(noise)
    assert f"; at full_cycle = 3 (6 seats), `profit` {shown(1.0 + n)}. `segment_tiers`" in note
    # segment_tiers' best is the scenario's own team, inside the grid: every other level against it, no edge
    assert note.endswith(
        "`segment_tiers` makes the most at the scenario's own team, full_cycle = 2 (5 seats); against it: at "
        f"full_cycle = 1 (4 seats), `profit` {shown(-2.0 - n)}; at full_cycle = 3 (6 seats), `profit` {shown(-1.0 + n)}."
    ), note


def test_team_sizes_listed_out_of_order_are_read_by_size_and_another_count_factor_drops_the_seats(
    tmp_path: Path,
) -> None:
    # A review's grid [2, 1, 3], best at 1, had set 1 beside 3 and not said it was the smallest team tried; and with
    # a second factor writing the counts, a level's seats were those at that factor's first value alone.
    exp = experiment(
        replications=4,
        metrics=("profit", "revenue_captured"),
        policies=experiment().policies[:1],  # unstructured
        factors=(
            Factor(name="full_cycle", target="scenario.reps.0.count", values=(2, 1, 3), integer=True),
            Factor(name="inside", target="scenario.reps.1.count", values=(2, 4), integer=True),
        ),
    )
    # points: full_cycle (2, 1, 3) x inside (2, 4); profit falls with the full-cycle seats
    level = {0: 2, 1: 2, 2: 1, 3: 1, 4: 3, 5: 3}

    def misses(point: int, policy: str, rep: int) -> dict[str, float]:
        return {"profit": (20 - level[point] + rep + 0.1 * (rep % 2) * level[point]) * M}

    note = opening(stored(exp, tmp_path, lambda *_: 20 * M, misses))
    note = note[note.index("On team size") :]
    assert "`unstructured` makes the most at full_cycle = 1: `profit` +" in note, note  # labelled, as against its own
    assert "against full_cycle = 2; it is the smallest team tried, and a smaller one may do better still." in note
    assert "seats" not in note.split("): ", 1)[1]  # the counts the other factor sets vary within a level
    # A size's profit is the mean over its points: a researcher read one level's as one world's.
    assert "; each size's profit the mean over its 2 design points, across `inside`; paired 95% t" in note, note


def test_a_cut_from_the_scenario_s_own_team_says_its_recurring_revenue_by_segment_largest_first() -> None:
    # A capacity trial's finance team asked which customers feel a cut of reps; the note named no segment.
    from types import SimpleNamespace

    from sim.experiment.report.team_size import _by_segment, _segments_said

    rows = []
    for point in (0, 1):  # 42 seats, then 36
        for rep in range(3):
            for segment, value in (("enterprise", 10.0 - 4 * point), ("smb", 5.0), ("mid_market", 8.0 - point)):
                for quarter in (1, 2):  # a flow: summed over the quarters
                    rows.append(
                        {"point": point, "policy": "a", "replication": rep, "quarter": quarter, "segment": segment}
                        | {"metric": "recurring_revenue", "value": (value + rep) * M / 2}
                    )
            rows.append(
                {"point": point, "policy": "a", "replication": rep, "quarter": 1, "segment": "all"}
                | {"metric": "recurring_revenue", "value": 0.0}
            )
    ctx = SimpleNamespace(results=pd.DataFrame(rows))
    by = _by_segment(ctx, pd.Series({0: 42, 1: 36}))  # type: ignore[arg-type]
    assert _segments_said(by["a"], 36, 42, lambda s: f"`{s}`") == (
        "recurring revenue -4.0M in `enterprise`, -1.0M in `mid_market`, 0 in `smb`"
    )
    assert _segments_said(pd.DataFrame(), 36, 42, str) == ""


def test_a_cost_factor_beside_the_team_size_keeps_its_seats_and_is_said_and_a_fixed_difference_says_so(
    tmp_path: Path,
) -> None:
    # A review: a second factor on a group's cost (the one the docs advise) dropped the seats and the own-team
    # comparison, and the note quoted the base's costs as if every point ran at them; and a difference the same in
    # every replication (a seat's cost alone) was printed bare, with no word why it has no interval.
    exp = experiment(
        replications=3,
        metrics=("profit", "revenue_captured"),
        policies=experiment().policies[:1],  # unstructured
        factors=(
            Factor(name="full_cycle", target="scenario.reps.0.count", values=(2, 3), integer=True),
            Factor(name="fc_cost", target="scenario.reps.0.cost_per_year", values=(180000, 120000)),
        ),
    )
    # points: full_cycle (2, 3) x fc_cost (180k, 120k); one more seat costs 1.0M in every replication

    def misses(point: int, policy: str, rep: int) -> dict[str, float]:
        return {"profit": (20 + rep - (point >= 2)) * M}

    note = opening(stored(exp, tmp_path, lambda *_: 20 * M, misses))
    note = note[note.index("On team size") :]
    assert (
        "each seat's cost a year (full_cycle 180,000 (set by `fc_cost` at the design's points), inside 110,000, sdr "
        "80,000: assumptions of the scenario)" in note
    )
    assert note.endswith(
        "`unstructured` makes the most at the scenario's own team, full_cycle = 2 (5 seats); it is the smallest team "
        "tried, and a smaller one may do better still; against it: at full_cycle = 3 (6 seats), `profit` -1.0M (the "
        "same in every replication)."
    ), note


def test_over_the_whole_design_a_difference_with_no_spread_is_said_to_be_no_test(tmp_path: Path) -> None:
    # A review's: a policy the same as the baseline but for a constant had read "no interval with 3 replications".
    exp = experiment(
        replications=4,
        metrics=ANSWER_METRICS,
        policies=experiment().policies[:2],
        factors=(Factor(name="customers", target="scenario.population.customers", values=(300, 800)),),
    )
    text = stored(exp, tmp_path, lambda point, policy, rep: (10 + rep + (policy != "unstructured")) * M)
    assert (
        "its main effect; no test: each the same in every replication): `segment_tiers` +1.0M, the same in every "
        "replication."
    ) in text
