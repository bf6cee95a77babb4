"""Why a policy leads: its lead split by segment and, for revenue, by kind of deal, and the miss cause behind it.

A clear lead on the answer's metric (``sim.experiment.report.answer``) is
explained at the answer's design point, from run values by segment
(:func:`why_values`), paired by replication between the leader and the policy
it leads (paired means; the answer's own figure is the whole population's):

- **by segment**, when the metric adds up over segments (its run total is a
  sum) and the scenario has two or more: the leader's difference in each,
  largest lead first, so that a lead made in one segment and given back in
  another shows; for profit, which has no value by segment, the difference
  in recurring revenue, on which its margin is made (``LOCATED_BY``);
- **by kind**, for ``revenue_captured``, in the segment with the largest lead: new-logo value, expansion value
  and renewals a rep won (``retained_spend``), which add up to it. A lead in renewals a rep won can be partly how
  revenue is counted: a contract that renews on its own (the digital channel's, or one nobody covered) counts in
  recurring revenue, not in revenue captured; a lead in new-logo value comes with the new logos and new-logo leads
  the policy behind has fewer of (``NEW_LOGOS``); and the difference in recurring revenue in all, beside it;
- **the miss cause** by which the policy behind misses most more opportunities
  than the leader there (its paired 95% t interval, Bonferroni-adjusted over
  the causes tested, above 0; at least one opportunity), when it also misses
  more in all there (``opps_missed``): a cause it misses more by could
  otherwise be offset by another. Last, how many more renewals it misses
  (``opps_missed_renewal``) beside its extra misses by every cause, when at
  least one: a missed renewal's contract still renews on its own by chance. Of a lead in
  revenue captured, those misses are said to be too few to explain it when,
  each worth the leader's mean revenue per won deal there (more than a missed opportunity
  is worth on average: not every one would be won), they come to less than
  ``SMALL_PART`` of the lead;
- else, **the deals won**: how many more the leader wins there (its paired 95%
  t interval above 0, at least one), and how many of them its reps win and how
  many the digital channel (``digital_won``): a lead made by reps winning deals
  a digital channel wins fewer of is a mechanism a sales leader knows, where
  the segments alone had been said;
- where more is better, **the segment the leader gives back** at least ``GIVEN_BACK`` of its best segment's lead in:
  its bookings by kind there, the new logos it wins fewer of and the miss cause it misses more by;
- where more is better and a relationship lifts an account's opportunities or win odds, that it does, by assumed
  curves (``assumed.relationship_lifts``), beside the opportunities the leader's accounts raise more of, when it
  has clearly more of them or of the deals won in the segment of its largest lead, or else in all;
- where conflicts cost anything, the conflicting engagements the policy behind has more of, and the deals decided
  under their penalty; of a lead in revenue captured, what they would come to at the leader's mean value per won
  deal, against the lead (an estimate: a deal on an account two reps work may be worth more);
- last, where the policy behind keeps customers clearly better though behind (fewer lost to churn, a higher
  renewal rate: ``KEPT``), that it does, which the rest outweighs.

A profit lead is located by its recurring revenue by segment, and its bookings (revenue captured) by kind are
said there beside it, as "bookings: new-logo value ...", with the new-logo clause. Of one run each (``covsim
run``), the miss cause and what the policy behind keeps better are said untested (``one_run``), and no other
piece that needs an interval.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from sim.answer_layout import SUB_FINDING
from sim.catalogue import CATALOGUE, REVENUE_PARTS
from sim.experiment import stats
from sim.experiment.report import one_run
from sim.experiment.report.assumed import (
    CONFLICTS,
    CREATED,
    IN_CONFLICT,
    PLANS,
    UNSAID,
    Assumed,
    clearly_more,
    conflicts,
    mean_difference,
    relationship_lifts,
)
from sim.experiment.report.markdown import amount, finite
from sim.experiment.stress import MISS_CAUSES
from sim.format import difference, difference_interval, difference_with_interval, money
from sim.metrics import run_totals
from sim.records import ALL

#: The parts a metric is the sum of, each with what it is in words.
PARTS = {
    "revenue_captured": tuple(
        zip(REVENUE_PARTS, ("new-logo value", "expansion value", "renewals a rep won"), strict=True)
    )
}
RENEWALS_WON = PARTS["revenue_captured"][2][1]
#: Revenue captured, as a profit lead's Why calls it beside its recurring revenue: the deals won, by kind.
BOOKINGS = "revenue_captured"
#: Why a lead in renewals a rep won may be partly how revenue is counted.
ON_THEIR_OWN = "a contract that renews without a rep counts in recurring revenue, not in revenue captured"
#: Beside a lead in revenue captured, the recurring revenue it comes to, which counts contracts that renew without
#: a rep too (a VP's +393M of revenue captured was +93M of recurring revenue, three quarters of it renewals a rep
#: won that would have renewed anyway).
RECURRING = "recurring_revenue"
#: What locates the lead of a metric with no value by segment: profit's margin is made on recurring revenue (a
#: VP's profit lead, made in enterprise, was explained by misses in smb, where it made nothing).
LOCATED_BY = {"profit": (RECURRING, "on recurring revenue, on which profit's margin is made")}
#: The misses in all, by cause, and the renewals among them.
RENEWALS_MISSED = "opps_missed_renewal"
MISSES = ("opps_missed", *MISS_CAUSES, RENEWALS_MISSED)
#: What a missed renewal leaves, beside a cause whose extra misses may be mostly renewals (a VP's cause, 859 more
#: stalled, was ~96% renewals, most of which renewed with no rep).
RENEWALS_DECIDED = "whose contracts are decided on their date with no rep"
RENEWALS_LEAVE = f"{RENEWALS_DECIDED}: what renews on its own counts in recurring revenue, not in revenue captured"
#: The deals won, and those the digital channel won with no rep.
WON = ("opps_won", "digital_won")
#: Of a lead in new-logo value: the prospects won as customers, and the new-logo leads that arose, by which a
#: shortfall of new logos is told apart as fewer leads or fewer of them won (a VP's Why gave the value alone).
NEW_LOGOS = ("new_logos", "opps_created_new_logo")
#: What the policy behind may keep better though it is behind: customers lost to churn and the renewal rate (a
#: VP's hunter/farmer split was behind on profit with 230 fewer customers lost to churn, which its Why left out:
#: the very mechanism the split is sold on).
KEPT = ("churned", "renewal_rate")
#: Where the reps' hours went, by activity (segment all), in words: a policy author's field reps had spent their
#: hours on queue deals, not on the visits to their books, and no Why said so.
HOURS = {"hours_response": "first responses", "hours_work": "deal work", "hours_visit": "visits", "hours_call": "calls"}
#: A shift of hours below this share of the team's hours is not said [A].
HOURS_SAID = 0.05
#: A segment where the leader falls behind by at least this share of its lead in its best segment is explained too
#: [A]: a lead made in one segment and half given back in another is two mechanisms, not one.
GIVEN_BACK = 0.5
#: Below this share of a lead in money, the misses of a cause are too few to explain it [A] (an analyst's answer
#: explained a 2.7M lead by 3 missed deals).
SMALL_PART = 0.1


def why_values(results: pd.DataFrame, metric: str | None) -> pd.DataFrame:
    """Run values of what explains a lead on ``metric`` (the answer's; None: the misses alone): it, its parts and
    the misses, one per (point, policy, replication, segment, metric), segment ``all`` included."""
    wanted = [*([metric] if metric else []), *(m for m, _ in PARTS.get(metric or "", ())), *MISSES, *WON]
    wanted += [CONFLICTS, IN_CONFLICT, PLANS, CREATED, *NEW_LOGOS, *KEPT, *HOURS, "hours_total"]
    wanted += [RECURRING] if metric in ("revenue_captured", *LOCATED_BY) else []
    wanted += [BOOKINGS, *(m for m, _ in PARTS[BOOKINGS])] if metric in LOCATED_BY else []
    return run_totals(results[results.metric.isin(wanted)], by=("point", "policy", "replication"))


def why(
    values: pd.DataFrame,
    metric: str,
    point: int,
    winner: str,
    other: str,
    where: str,
    quote: Callable[[str], str],
    world: Assumed = UNSAID,
) -> str:
    """`` Why (paired means at ...): ...``: ``winner``'s lead over ``other`` on ``metric`` at ``point`` by segment and
    by kind, and the miss cause behind it (module docstring); "" when none of them has anything to say. ``values``:
    :func:`why_values`; ``world``: its assumptions (``assumed.assumed``); one run each: ``Why (one seed each)``."""
    at = values[(values.point == point) & values.policy.isin([winner, other])]
    if at.empty:
        return ""
    sign = 1.0 if CATALOGUE[metric].higher_is_better else -1.0
    pieces, top, leads = [], ALL, {}
    segments = [s for s in dict.fromkeys(at.segment) if s != ALL]
    split, located = LOCATED_BY.get(metric, (metric, ""))
    if CATALOGUE[split].aggregate == "sum" and len(segments) >= 2:
        leads = {s: mean_difference(_paired(at, s, winner, other), split) for s in segments}
        leads = {s: v for s, v in leads.items() if finite(v)}
        if leads:
            order = sorted(leads, key=lambda s: -sign * leads[s])
            top = order[0]
            pieces.append(
                f"{quote(winner)} against {quote(other)}, "
                + (f"{located}, " if located else "")
                + ", ".join(f"{difference(split, leads[s])} in {quote(s)}" for s in order)
            )
    in_all = _paired(at, ALL, winner, other)  # the recurring revenue and the conflicts are read from it too
    there = in_all if top == ALL else _paired(at, top, winner, other)
    # Of a profit lead, the bookings by kind beside its recurring revenue: the deals behind it (profit, the default
    # answer, had been explained by segment and misses alone).
    booked = BOOKINGS if metric in LOCATED_BY else metric
    kinds = [(words, mean_difference(there, m)) for m, words in PARTS.get(booked, ())]
    kinds = [(words, v) for words, v in kinds if finite(v)]
    if kinds:
        inside = ("" if top == ALL else f"in {quote(top)}, ") + ("bookings: " if booked != metric else "")
        pieces.append(inside + ", ".join(f"{words} {difference(booked, v)}" for words, v in kinds))
        largest = max(kinds, key=lambda k: sign * k[1])[0]
        if largest == RENEWALS_WON:
            pieces[-1] += f" ({ON_THEIR_OWN})"
        elif largest == PARTS["revenue_captured"][0][1] and sign > 0:
            mine = at[(at.segment == top) & (at.policy == winner)].groupby("metric")["value"].mean()
            pieces[-1] += _new_logos(there, mine, other, quote)
    recurring = mean_difference(in_all, RECURRING) if metric == "revenue_captured" else float("nan")
    if finite(recurring):
        pieces.append(
            f"in recurring revenue, which counts contracts that renew without a rep too, "
            f"{difference(RECURRING, recurring)} in all"
        )
    place = "" if top == ALL else f"in {quote(top)}, " if finite(recurring) or not kinds else "there, "
    # A won deal's mean revenue to the leader there and in all, for a lead in revenue captured (profit nets costs,
    # retained_spend is of renewals only: no bound of a deal).
    worth, worth_all = (
        _worth(at, segment, winner) if metric == "revenue_captured" else float("nan") for segment in (top, ALL)
    )
    lead = sign * mean_difference(there, metric)
    missed = _cause(there, other, winner, place, quote, worth, lead, top != ALL, metric == "revenue_captured")
    if not missed and sign > 0:  # a lead no miss cause explains: the deals won, by reps and by the digital channel
        missed = _won_more(there, winner, other, place, quote)
    if missed:
        pieces.append(missed)
    if back := _given_back(at, leads if top != ALL else {}, winner, other, booked, sign, quote):
        pieces.append(back)
    # Read where the lead is made first: a lead made in enterprise on accounts a relationship lifts can come with
    # fewer opportunities in all (small.toml's segment_tiers: 16 more in enterprise, 212 fewer in all, and its
    # +0.59M lead +175k with the lifts off), where the Why had said nothing of them.
    if sign > 0 and (
        lifted := (relationship_lifts(there, winner, other, quote, world, f"in {quote(top)}, ") if top != ALL else "")
        or relationship_lifts(in_all, winner, other, quote, world)
    ):
        pieces.append(lifted)
    if world.conflicts_cost and (
        clash := conflicts(in_all, winner, other, quote, worth_all, sign * mean_difference(in_all, metric))
    ):
        pieces.append(clash)
    if pieces and (hours := _hours(in_all, at, winner, other, quote)):
        pieces.append(hours)
    if pieces and metric not in KEPT and (kept := _kept_better(in_all, winner, other, quote)):
        pieces.append(kept)
    heading = "one seed each" if (in_all["n"] == 1).all() else f"paired means at {where}"
    # Each piece after the first under it, a nested item: a sales leader reads a mechanism a line.
    return f" Why ({heading}): " + f";{SUB_FINDING}".join(pieces) + "." if pieces else ""


def _given_back(
    at: pd.DataFrame,
    leads: dict[str, float],
    winner: str,
    other: str,
    booked: str,
    sign: float,
    quote: Callable[[str], str],
) -> str:
    """``in `smb`, where it gives 9.4M back, bookings: ...``: the segment where ``winner`` falls furthest behind
    ``other`` (``leads``: its paired mean difference by segment, on a metric where higher is better), when that is
    at least ``GIVEN_BACK`` of its lead in its best segment: its bookings by kind there, the new logos it wins
    fewer of, and the miss cause it misses more by (a new user's pooled queue, ahead on profit, gave 9.4M back in
    smb, winning 953 fewer new logos, which the Why had named only as a segment's figure); else ""."""
    if sign < 0 or len(leads) < 2 or booked not in PARTS:
        return ""
    best, back = max(leads, key=leads.__getitem__), min(leads, key=leads.__getitem__)
    if not (leads[best] > 0 > leads[back] and -leads[back] >= GIVEN_BACK * leads[best]):  # a lead to give back
        return ""
    d = _paired(at, back, other, winner)  # there ``other`` leads
    kinds = [(words, -mean_difference(d, m)) for m, words in PARTS[booked] if finite(mean_difference(d, m))]
    said = ", ".join(f"{words} {difference(booked, v)}" for words, v in kinds)
    if kinds and kinds[0][0] == PARTS[booked][0][1] and kinds[0][1] == min(v for _, v in kinds):  # new logos most
        mine = at[(at.segment == back) & (at.policy == other)].groupby("metric")["value"].mean()
        said += _new_logos(d, mine, winner, quote)
    missed = _cause(d, winner, other, "there, " if said else "", quote)
    if not said + missed:  # nothing to say of it beyond its figure
        return ""
    return f"in {quote(back)}, where {quote(winner)} gives {money(-leads[back])} back, " + "; ".join(
        x for x in (f"bookings: {said}" if said else "", missed) if x
    )


def _worth(at: pd.DataFrame, segment: str, policy: str) -> float:
    """``policy``'s mean revenue captured per won deal in ``segment`` (NaN: none won)."""
    mine = at[(at.segment == segment) & (at.policy == policy)].groupby("metric")["value"].mean()
    return (
        float(mine.get("revenue_captured", float("nan")) / mine["opps_won"])
        if mine.get("opps_won", 0) > 0
        else float("nan")
    )


def _kept_better(d: pd.DataFrame, winner: str, other: str, quote: Callable[[str], str]) -> str:
    """``though behind, `other` loses N fewer customers to churn [interval] and renews ... (paired 95% intervals)``
    from ``d`` (``winner`` minus ``other``, segment all), for each of ``KEPT`` clearly in ``other``'s favour (its
    interval excluding 0; at least one customer); "" for none."""
    if "n" in d.columns and (d["n"] == 1).all():  # one run each (covsim run): no test
        return one_run.kept_better(d, other, quote, KEPT)
    said = []
    churned, rate = KEPT
    if clearly_more(d, churned):
        low, high = (float(d.at[churned, k]) for k in ("low", "high"))
        fewer = amount(churned, float(d.at[churned, "mean_diff"]))
        said.append(f"loses {fewer} fewer customers to churn {difference_interval(churned, low, high, signed=False)}")
    if rate in d.index and d.at[rate, "high"] < 0:
        low, high = (-float(d.at[rate, k]) for k in ("high", "low"))
        said.append(f"has a renewal rate {difference_with_interval(rate, -float(d.at[rate, 'mean_diff']), low, high)}")
    if not said:
        return ""
    return (
        f"though behind, {quote(other)} churns less: it {' and '.join(said)} (paired 95% "
        f"interval{'s' if len(said) > 1 else ''}), which the rest outweighs"
    )


def _hours(d: pd.DataFrame, at: pd.DataFrame, winner: str, other: str, quote: Callable[[str], str]) -> str:
    """``where `other`'s reps spend their hours otherwise: 12,103 more on deal work [10,538, 13,667], 8,354 fewer
    on visits [..] (hours; paired 95% intervals)``: of the activities (``HOURS``) whose hours differ clearly
    (interval excluding 0) by at least ``HOURS_SAID`` of ``winner``'s hours in all (``at``: its values), the
    largest rise and the largest fall of ``other``'s against ``winner``'s (``d``: ``winner`` minus ``other``,
    segment all); "" for none."""
    total = at[(at.policy == winner) & (at.segment == ALL) & (at.metric == "hours_total")]["value"].mean()
    shifts = [
        (words, -float(d.at[m, "mean_diff"]), -float(d.at[m, "high"]), -float(d.at[m, "low"]))
        for m, words in HOURS.items()
        if m in d.index and (d.at[m, "low"] > 0 or d.at[m, "high"] < 0)
    ]
    shifts = [x for x in shifts if finite(total) and abs(x[1]) >= HOURS_SAID * total]
    rise = max((x for x in shifts if x[1] > 0), key=lambda x: x[1], default=None)
    fall = min((x for x in shifts if x[1] < 0), key=lambda x: x[1], default=None)
    said = []
    for words, diff, low, high in (x for x in (rise, fall) if x is not None):
        ends = (low, high) if diff > 0 else (-high, -low)
        gap = difference_interval("hours_total", *ends, signed=False)
        said.append(f"{amount('hours_total', abs(diff))} {'more' if diff > 0 else 'fewer'} on {words} {gap}")
    if not said:
        return ""
    return f"{quote(other)}'s reps spend their hours otherwise: {', '.join(said)} (hours; paired 95% intervals)"


def _new_logos(d: pd.DataFrame, mine: pd.Series, other: str, quote: Callable[[str], str]) -> str:
    """`` (`other` wins N fewer new logos [interval], P% fewer, where new-logo leads were Q% fewer: -M [interval])``,
    from ``d`` (the leader minus ``other``) and ``mine`` (the leader's means), when it wins clearly fewer (the
    interval above 0, at least one); else "". The two shares tell a shortfall of leads from one of leads won."""
    won, leads = NEW_LOGOS
    if not clearly_more(d, won):
        return ""
    fewer = float(d.at[won, "mean_diff"])
    said = (
        f" ({quote(other)} wins {amount(won, fewer)} fewer new logos "
        f"{difference_interval(won, float(d.at[won, 'low']), float(d.at[won, 'high']), signed=False)}"
    )
    if mine.get(won, 0) > 0:
        said += f", {fewer / mine[won]:.0%} fewer"
    x = float(d.at[leads, "mean_diff"]) if leads in d.index else float("nan")
    if finite(x) and mine.get(leads, 0) > 0:
        low, high = -float(d.at[leads, "high"]), -float(d.at[leads, "low"])
        share = f"{abs(x) / mine[leads]:.0%} {'fewer' if x > 0 else 'more'}"
        # "where", not "from": a 5% shortfall of leads beside 38% fewer logos read as their cause (a VP's).
        said += f", where new-logo leads were {share}: {difference(leads, -x)} {difference_interval(leads, low, high)}"
    return said + "; paired 95% intervals)"


def why_between_points(
    results: pd.DataFrame | None,
    metric: str,
    winner: int,
    other: int,
    label: Callable[[int], str],
    quote: Callable[[str], str],
) -> str:
    """The Why of one policy's clear lead at design point ``winner`` over point ``other`` (the answer across a
    grid's points): :func:`why` with the two points in the place of two policies, each named by its ``label``. A
    VP's lanes grid led by 20.6M of revenue, 17.1M of it renewals a rep won, and had no Why to say so."""
    if results is None or results.empty:
        return ""
    names = {winner: label(winner), other: label(other)}
    v = why_values(results[results.point.isin(list(names))], metric)
    v = v.assign(policy=v.point.map(names), point=0)
    return why(v, metric, 0, names[winner], names[other], "the two design points", quote)


def _paired(at: pd.DataFrame, segment: str, winner: str, other: str) -> pd.DataFrame:
    """``winner`` minus ``other`` in ``segment``, paired by replication, one row per metric."""
    d = stats.paired_against(at[at.segment == segment].drop(columns="segment"), other)
    return d[d.policy == winner].set_index("metric") if not d.empty else d


def _won_more(d: pd.DataFrame, winner: str, other: str, there: str, quote: Callable[[str], str]) -> str:
    """``winner`` wins N more deals than ``other`` [paired 95% interval], N1 by its reps and N2 by the digital
    channel, from ``d`` (``winner`` minus ``other``): when the interval is above 0 and N at least one; else ""."""
    if not clearly_more(d, "opps_won"):
        return ""
    more, low, high = (float(d.at["opps_won", k]) for k in ("mean_diff", "low", "high"))
    said = (
        f"{there}{quote(winner)} wins {amount('opps_won', more)} more deals than {quote(other)} "
        f"{difference_interval('opps_won', low, high, signed=False)} (paired 95% interval)"
    )
    digital = mean_difference(d, "digital_won")
    if finite(digital) and abs(digital) >= 1:
        reps = more - digital
        said += (
            f": {amount('opps_won', abs(reps))} {'more' if reps > 0 else 'fewer'} by its reps, "
            f"{amount('digital_won', abs(digital))} {'more' if digital > 0 else 'fewer'} by the digital channel"
        )
    return said


def _cause(
    d: pd.DataFrame,
    other: str,
    winner: str,
    there: str,
    quote: Callable[[str], str],
    worth: float = float("nan"),
    lead: float = float("nan"),
    in_segment: bool = False,
    captured: bool = False,
) -> str:
    """``other`` misses N more opportunities (cause) than ``winner`` [interval]: the cause of the most, from ``d``
    (``winner`` minus ``other``), when ``other`` misses more in all too; else "". ``worth``: the leader's mean
    value per won deal there, and ``lead`` its lead in money, by which a cause too small to explain it is said so
    (``SMALL_PART``); ``in_segment``: all of it is of one segment; ``captured``: the lead is in revenue captured,
    beside which what a missed renewal leaves is said in full (of another metric, a renewals lead's above all, where
    revenue captured is not in question, its first half)."""
    if "opps_missed" in d.index and d.at["opps_missed", "n"] == 1:  # one run each (covsim run): no test
        return one_run.more_misses(d, other, winner, there, quote)
    if "opps_missed" not in d.index or not d.at["opps_missed", "high"] < 0:
        return ""
    # The cause is picked among the causes for the most misses, so each is judged at the Bonferroni level over
    # those tested, as the stress answer's cause is (unadjusted, one of six causes would look clear by chance
    # far more often than one time in twenty).
    tested = d[d.index.isin(MISS_CAUSES) & (d["sd"] > 0) & (d["n"] >= stats.MIN_REPLICATIONS)]
    m = len(tested)
    level = 1 - (1 - stats.CONFIDENCE) / max(m, 1)
    half = [stats.half_width(float(sd), int(n), level) for sd, n in zip(tested["sd"], tested["n"], strict=True)]
    tested = tested.assign(low=tested["mean_diff"] - half, high=tested["mean_diff"] + half)
    causes = tested[(tested["high"] < 0) & (tested["mean_diff"] <= -1)]
    if causes.empty:
        return ""
    cause = str(causes["mean_diff"].idxmin())
    top = causes.loc[cause]
    words = one_run.cause_words(cause)
    adjusted = f"Bonferroni-adjusted 95% interval over the {m} causes" if m > 1 else "paired 95% interval"
    said = (
        f"{there}{quote(other)} misses {amount(cause, -float(top.mean_diff))} more opportunities ({words}) than "
        f"{quote(winner)} {difference_interval(cause, -float(top.high), -float(top.low), signed=False)} "
        f"({adjusted}; every cause is in results.csv)"
    )
    at_most = -float(top.mean_diff) * worth
    if finite(at_most, lead) and lead > 0 and at_most < SMALL_PART * lead:
        said += (
            f", too few to explain the lead: at {quote(winner)}'s mean value per won deal"
            f"{' there' if in_segment else ''}, {money(worth)}, "
            f"they are worth at most {money(at_most)}"
        )
    # Last, so that "they" above stays the cause's misses; the renewals as counted, which may exceed the extra
    # misses in all (the policy behind missing fewer new logos).
    extra, renewals = -float(d.at["opps_missed", "mean_diff"]), -mean_difference(d, RENEWALS_MISSED)
    if finite(renewals) and renewals >= 1:
        said += (
            f"; it misses {amount(RENEWALS_MISSED, renewals)} more renewals ({amount('opps_missed', extra)} more "
            f"opportunities by every cause), {RENEWALS_LEAVE if captured else RENEWALS_DECIDED}"
        )
    return said
