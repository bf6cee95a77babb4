"""Where a stress's money went: recurring revenue by segment, bookings by kind of deal, cost of sales."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.experiment.stress_sources import money_sources, where_it_went


def tidy(values: dict[tuple[str, int, int, str, str], float]) -> pd.DataFrame:
    """Results of one policy ``p``: (shock, replication, quarter, segment, metric) -> value."""
    rows = [
        {
            "shock": k[0],
            "policy": "p",
            "replication": k[1],
            "quarter": k[2],
            "segment": k[3],
            "metric": k[4],
            "value": v,
        }
        for k, v in values.items()
    ]
    return pd.DataFrame(rows)


def test_sources_are_the_mean_paired_changes_over_the_stress_s_quarters_by_segment() -> None:
    values = {}
    for r, (before, ent, smb) in enumerate([(100.0, 60.0, 30.0), (120.0, 50.0, 40.0)]):
        for shock, cut in (("none", 0.0), ("loss", 1.0)):
            # Quarter 1 is before the stress (the same in both runs, or not: it must not count).
            values[(shock, r, 1, "enterprise", "recurring_revenue")] = before + 7 * cut
            values[(shock, r, 2, "enterprise", "recurring_revenue")] = before - ent * cut
            values[(shock, r, 2, "smb", "recurring_revenue")] = before - smb * cut
            values[(shock, r, 2, "all", "recurring_revenue")] = 2 * before  # "all" is not a segment's part
            values[(shock, r, 2, "enterprise", "retained_spend")] = before - 2 * ent * cut
    values[("loss", 2, 2, "enterprise", "recurring_revenue")] = 0.0  # no unshocked partner: left out
    s = money_sources(tidy(values), {"loss": 2}).set_index(["segment", "metric"])["impact"]
    assert s[("enterprise", "recurring_revenue")] == pytest.approx(-55.0)
    assert s[("smb", "recurring_revenue")] == pytest.approx(-35.0)
    assert s[("enterprise", "retained_spend")] == pytest.approx(-110.0)
    assert "all" not in set(s.index.get_level_values("segment"))


def sources(spend: dict[str, float], booked: dict[str, float]) -> pd.DataFrame:
    rows = [("recurring_revenue", g, v) for g, v in spend.items()] + [(m, "smb", v) for m, v in booked.items()]
    return pd.DataFrame([{"shock": "s", "policy": "p", "segment": g, "metric": m, "impact": v} for m, g, v in rows])


def cost(v: float) -> pd.DataFrame:
    return pd.DataFrame([{"shock": "s", "policy": "p", "metric": "cost_of_sales", "impact": v}])


def went(spend: dict[str, float], booked: dict[str, float], cost_change: float = 0.0) -> str:
    return where_it_went(sources(spend, booked), cost(cost_change), "s", "p", str)


def test_where_the_money_went_names_the_segment_and_the_kind_of_deal_most_of_a_fall_is_in() -> None:
    said = went(
        {"enterprise": -4.5e6, "smb": -0.2e6},
        {"won_value_new_logo": -0.9e6, "won_value_expansion": -0.6e6, "retained_spend": -2.0e6},
    )
    assert said == (
        "Where the money went, on the means, for p under s: recurring revenue -4.7M (4.5M of it in enterprise); "
        "bookings -3.5M (2.0M of it in renewals won)."
    )


def test_where_the_money_went_says_nearly_all_more_than_all_and_a_rise_of_cost() -> None:
    said = went(
        {"enterprise": -1.71e6, "smb": -0.004e6},
        {"won_value_new_logo": 0.3e6, "won_value_expansion": -0.1e6, "retained_spend": -0.6e6},
        cost_change=0.25e6,
    )
    assert said == (
        "Where the money went, on the means, for p under s: recurring revenue -1.7M (nearly all of it in "
        "enterprise); bookings -400.0k (more than all of it in renewals won, as the others rose 200.0k); cost of "
        "sales +250.0k."
    )
    # Its own fall is not shown apart: rounded on its own it did not add up with the total and the others' rise.
    assert went({"enterprise": -2.3547e6, "smb": 4.8e3}, {}).endswith(
        "recurring revenue -2.3M (more than all of it in enterprise, as the others rose 4.8k)."
    )
    # Others that rose by less than the precision shown: nearly all, not "more than all ... the others up 3".
    assert went({"enterprise": -1e6, "smb": 3.0}, {}).endswith(
        "recurring revenue -1.0M (nearly all of it in enterprise)."
    )
    # What did not fall (or rounds to 0) is not said; a stress that hurt nothing says nothing.
    assert went({"enterprise": -0.2}, {"retained_spend": 1e6}) == ""
    assert went({"enterprise": -1e6, "smb": 0.0}, {"retained_spend": 0.0}).endswith(
        "recurring revenue -1.0M (all of it in enterprise)."
    )
