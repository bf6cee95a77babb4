"""Where a stress's money went: the paired change of each segment's recurring revenue, and of the bookings by
kind of deal, over the quarters the stress acts in.

A stress's profit change is ``gross_margin`` times its change of recurring
revenue less its change of cost of sales (docs/metrics.md, ``profit``):
recurring revenue, split by segment, says whose spend went, and the bookings
(``revenue_captured``'s parts) which deals were won less. The totals can
point another way than the missed opportunities: a few lost enterprise
renewals outweigh many missed small leads. Means of the paired differences
over the replications of which both runs finished, as ``sim.experiment.stress``
pairs them; the report's Impact section gives the totals with intervals.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from sim.catalogue import REVENUE_PARTS
from sim.experiment.suite import UNSHOCKED
from sim.format import money

#: The customers' spend recognised, per quarter (by segment: whose spend a stress took).
SPEND = "recurring_revenue"
#: The parts of the bookings (``revenue_captured``), by kind of deal, as the report names them.
BOOKINGS = dict(zip(REVENUE_PARTS, ("new logos", "expansion", "renewals won"), strict=True))
#: The columns of :func:`money_sources`.
SOURCE_COLUMNS = ["shock", "policy", "segment", "metric", "impact"]


def money_sources(tagged: pd.DataFrame, first_quarter: dict[str, int]) -> pd.DataFrame:
    """Mean paired change per (shock, policy, segment, metric) of recurring revenue and each part of the
    bookings, in every segment but ``all``, over each stress's quarters from its ``first_quarter`` on (as
    ``stress.acting_impacts`` reads them). ``tagged``: tidy results with ``shock``."""
    wanted = tagged[(tagged.segment != "all") & tagged.metric.isin([SPEND, *BOOKINGS])]
    blocks = []
    for shock, quarter in first_quarter.items():
        acting = wanted[wanted.shock.isin([UNSHOCKED, shock]) & (wanted.quarter >= quarter)]
        runs = acting.pivot_table(
            index=["policy", "segment", "metric", "replication"], columns="shock", values="value", aggfunc="sum"
        )
        if not {UNSHOCKED, shock} <= set(runs.columns):
            continue
        pairs = runs[[UNSHOCKED, shock]].dropna()
        d = (pairs[shock] - pairs[UNSHOCKED]).groupby(level=["policy", "segment", "metric"]).mean()
        block = d.rename("impact").reset_index()
        block.insert(0, "shock", shock)
        blocks.append(block)
    return pd.concat(blocks, ignore_index=True)[SOURCE_COLUMNS] if blocks else pd.DataFrame(columns=SOURCE_COLUMNS)


def money_parts(
    sources: pd.DataFrame, impacts: pd.DataFrame, shock: str, policy: str
) -> tuple[pd.Series, pd.Series, float]:
    """``policy``'s mean paired changes under ``shock``: recurring revenue by segment, the bookings by kind of deal
    (named as :data:`BOOKINGS` names them, in its order, 0 for a kind with none), and cost of sales (from
    ``impacts``, ``stress.impacts``'s table; NaN without it)."""
    s = sources[(sources.shock == shock) & (sources.policy == policy)]
    spend = s[s.metric == SPEND].groupby("segment")["impact"].sum()
    booked = s[s.metric.isin(list(BOOKINGS))].groupby("metric")["impact"].sum()
    c = impacts[(impacts.shock == shock) & (impacts.policy == policy) & (impacts.metric == "cost_of_sales")]
    cost = float(c["impact"].iloc[0]) if len(c) else float("nan")
    return spend, booked.reindex(list(BOOKINGS), fill_value=0.0).rename(index=BOOKINGS), cost


def where_it_went(
    sources: pd.DataFrame, impacts: pd.DataFrame, shock: str, policy: str, q: Callable[[str], str]
) -> str:
    """Where ``policy``'s money went under ``shock``, on the means, as a sentence: the fall of its recurring
    revenue and the segment most of it is in, the fall of its bookings and the kind of deal most of it is in,
    and the rise of its cost of sales (:func:`money_parts`); "" when none of them hurt."""
    spend, booked, cost = money_parts(sources, impacts, shock, policy)
    parts = []
    if money(spend.sum()).startswith("-"):
        parts.append(f"recurring revenue -{money(-spend.sum())} ({_most(spend)})")
    if money(booked.sum()).startswith("-"):
        parts.append(f"bookings -{money(-booked.sum())} ({_most(booked)})")
    if cost > 0 and money(cost) != "0":
        parts.append(f"cost of sales +{money(cost)}")
    return f"Where the money went, on the means, for {q(policy)} under {q(shock)}: {'; '.join(parts)}." if parts else ""


def _most(parts: pd.Series) -> str:
    """The part that fell most of a fall of ``parts.sum()`` (< 0), in words: ``4.5M of it in enterprise``, ``nearly
    all of it in enterprise`` (the same at the precision shown), or, when the others rose, ``more than all of it in
    enterprise, as the others rose 0.2M`` (its own fall, rounded apart, had not added up with the two others
    shown: a total of -2.3M, "enterprise -2.4M, the others up 4.8k")."""
    name = str(parts.idxmin())
    most, total = float(parts[name]), float(parts.sum())
    if most < total and money(total - most) != "0" and money(most) != money(total):  # a rise that shows
        return f"more than all of it in {name}, as the others rose {money(total - most)}"
    share = "all" if most == total else "nearly all" if money(most) == money(total) else money(-most)
    return f"{share} of it in {name}"
