"""What the answer adds after its first sentence: the policies clearly better or worse than the baseline, a rough
guide to the replications a difference would need, and where profit stands (``answer.answer``; what it says of the
team is ``team_notes``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import t as student_t

from sim.catalogue import CATALOGUE
from sim.experiment import stats
from sim.experiment.report.markdown import amount
from sim.format import counted, difference, difference_interval, difference_with_interval, no_spread_words

#: Beyond this many replications the rough guide says only that the difference may well be nothing.
MOST_REPLICATIONS_SUGGESTED = 10_000


def replications_needed(diff: float, sd: float, n: int, family: int) -> str:
    """`` With about N paired replications ...``: the fewest replications at which a difference of ``diff``,
    with the standard deviation ``sd`` of the ``n`` paired differences of the run (one comparison of
    ``family``), would be at the edge of clear: its adjusted interval's half-width, the t quantile at the new
    count included, just below ``|diff|``. The spread is the differences' own, not one read back from the
    interval, which is cut at the metric's limits (a share's to +-1) and so understated it. At that count a
    true difference of this size gives a clear result about half the time (and the best mean's difference,
    picked for being best, is likely smaller than it looks): a rough guide to what to ask for next, not a
    power calculation."""
    if not diff or not sd > 0 or n < stats.MIN_REPLICATIONS:
        return ""
    q = 1 - (1 - stats.CONFIDENCE) / (2 * max(family, 1))  # the adjusted interval's upper quantile
    counts = np.arange(n + 1, MOST_REPLICATIONS_SUGGESTED + 1)
    edge = np.flatnonzero(student_t.ppf(q, counts - 1) * sd / np.sqrt(counts) < abs(diff))
    if edge.size == 0:
        return (
            f" A difference this small against its spread would need more than {MOST_REPLICATIONS_SUGGESTED:,} "
            "replications to be clear: it may well be nothing."
        )
    return (
        f" With about {int(counts[edge[0]]):,} paired replications a difference of this size would be at the edge "
        "of clear (about an even chance, if it and its spread stay as they are: a rough guide)."
    )


def clear_at(values: pd.DataFrame, lead_at: pd.Series, metric: str, sign: float, winner: str, baseline: str) -> str:
    """``; its lead over the baseline is clear at K of the N points ...``: at how many design points the winner's
    lead is clear, of those where it is tested (an interval there: enough pairs, some spread; "" if none is),
    for each (point, policy compared) of ``lead_at``
    (``answer._lead``), whether its paired difference on ``metric``, within that point's whole family as the
    paired-differences table gives it, has a Bonferroni interval on the winner's side of 0. The point where
    the mean lead is smallest need not be the least clear (a researcher's Morris answer cited a clear lead
    there, where 11 of its 16 points had none)."""
    clear = tested = 0
    # One call: its families are per point already (every comparison at a point), as each point's table has them.
    every = stats.paired_against(values, baseline)
    every = every[every.metric == metric].set_index(["point", "policy"])
    for point, other in lead_at.index:
        if (point, other) not in every.index:
            continue
        low, high = (float(every.at[(point, other), k]) for k in ("low_adj", "high_adj"))
        if not (np.isfinite(low) and np.isfinite(high)):
            continue
        tested += 1
        # The winner's side: above 0 in the direction of better, for it against the baseline; for the baseline,
        # the other policy's difference against it below 0.
        side = sign if winner != baseline else -sign
        clear += bool(low > 0 if side > 0 else high < 0)
    if not tested:
        return ""
    points = counted(tested, "point") + (" tested" if tested < len(lead_at) else "")
    over = "the closest policy" if winner == baseline else "the baseline"
    return (
        f"; its lead over {over} is clear at {clear} of the {points} (each point's Bonferroni interval, not adjusted "
        "across points)"
    )


def clearly_apart(
    family: pd.DataFrame,
    metric: str,
    sign: float,
    named: set[str],
    quote: Callable[[str], str],
    better: bool = True,
    untested: tuple[str, str] | None = None,
) -> list[str]:
    """``Clearly better than the baseline: ...``, ``Clearly worse than the baseline: ...``, each a finding: the policies
    not ``named`` already whose paired difference from the baseline on ``metric`` has its adjusted interval excluding 0,
    best first (when the policy with the best mean is not clearly ahead, the better are the answer a reader is after;
    the worse had gone unsaid beside a best mean not clearly ahead, a policy 28.0M behind in profit among them); the
    better left out unless ``better``; none when there are none. ``untested``: the policy of the best mean and how to
    make it the baseline, said not tested against the clearly better (a VP read "Clearly better than the baseline:
    `hunter_farmer`" beside the best mean not clearly ahead as "pick hunter_farmer")."""
    d = _adjusted(family, metric)
    d = d[~d.policy.isin(named)].assign(better=lambda x: sign * x["mean_diff"]).sort_values("better", ascending=False)
    above, below = (d["low_adj"] > 0, d["high_adj"] < 0) if sign > 0 else (d["high_adj"] < 0, d["low_adj"] > 0)
    out = {
        word: f"Clearly {word} than the baseline, at the same adjustment: {_each(rows, metric, quote)}."
        for word, rows in (("better", d[above] if better else d[above].iloc[:0]), ("worse", d[below]))
        if not rows.empty
    }
    if "better" in out and untested:  # beside the better, of which it speaks, not after the worse
        best, rebase = untested
        out["better"] += f" The comparison {_not_tested(best, ', the best mean,', len(d[above]), quote, rebase)}."
    return list(out.values())


def not_clearly_behind(
    family: pd.DataFrame,
    metric: str,
    sign: float,
    named: set[str],
    baseline: str,
    quote: Callable[[str], str],
    where: str,
) -> str:
    """`` Not clearly behind `a`, at the same adjustment: ...``: when the baseline has the best mean and the
    closest policy is clearly behind it, the other policies (not ``named``) whose paired difference from the
    baseline on ``metric`` is not clearly worse (its adjusted interval holds 0, or there is none), least behind
    first: a policy further behind in mean but noisier is not beaten for being further behind. ``where`` opens
    the sentence (``At that design point, ``). "" when every one is clearly behind."""
    d = family[(family.metric == metric) & ~family.policy.isin(named)]
    behind = (d["high_adj"].astype(float) < 0) if sign > 0 else (d["low_adj"].astype(float) > 0)  # NaN: not behind
    d = d[~behind.to_numpy()]
    if d.empty:
        return ""
    d = d.assign(better=sign * d["mean_diff"]).sort_values("better", ascending=False)
    each = [
        f"{quote(str(r.policy))} {_against(r, metric)}"
        if np.isfinite(float(r.low_adj))
        else f"{quote(str(r.policy))} (no test)"
        for r in d.itertuples()
    ]
    opening = f"{where}not" if where else "Not"
    return f" {opening} clearly behind {quote(baseline)}, at the same adjustment: {'; '.join(each)}."


def also_ahead(
    family: pd.DataFrame, metric: str, sign: float, winner: str, quote: Callable[[str], str], rebase: str, where: str
) -> str:
    """`` `b` ... and `c` ... are clearly ahead of the baseline too ...``: when ``winner`` (not the baseline) is
    clearly ahead of the baseline, the other policies that are too (adjusted interval excluding 0 in the better
    direction), best first, and that the winner is not tested against them, nor they against one another
    (each is compared with the baseline only); ``rebase`` says how to make the winner the baseline, ``where``
    opens the sentence (``At that design point, ``). "" when no other policy is clearly ahead."""
    d = _adjusted(family, metric)
    d = d[(d.policy != winner) & ((d["low_adj"] > 0) if sign > 0 else (d["high_adj"] < 0))]
    if d.empty:
        return ""
    d = d.assign(better=sign * d["mean_diff"]).sort_values("better", ascending=False)
    each = [f"{quote(str(r.policy))} ({_against(r, metric)})" for r in d.itertuples()]
    listed = each[0] if len(each) == 1 else ", ".join(each[:-1]) + " and " + each[-1]
    one = len(each) == 1
    return (
        f" {where}{listed} {'is' if one else 'are'} clearly ahead of the baseline too, at the same adjustment; the "
        f"comparison {_not_tested(winner, '', len(each), quote, rebase)}."
    )


def _not_tested(policy: str, said: str, others: int, quote: Callable[[str], str], rebase: str) -> str:
    """``does not test `a` against it (to do so, make `a` the baseline: ...)``: each policy of a comparison is
    tested against the baseline only (``said``: what follows the name; ``others``: how many it is not tested
    against; ``rebase``: how to make it the baseline)."""
    return (
        f"does not test {quote(policy)}{said} against {'it' if others == 1 else 'them'} (to do so, make "
        f"{quote(policy)} the baseline: {rebase})"
    )


def _against(r: Any, metric: str) -> str:
    """A difference from the baseline with its adjusted interval (``r``: a row of the paired differences)."""
    return difference_with_interval(metric, float(r.mean_diff), float(r.low_adj), float(r.high_adj))


def _adjusted(family: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The rows of ``family`` (paired differences against the baseline) on ``metric`` with a defined
    adjusted interval."""
    d = family[family.metric == metric]
    return d[np.isfinite(d["low_adj"].astype(float)) & np.isfinite(d["high_adj"].astype(float))]


def untested(row: pd.Series) -> str:
    """Why a comparison without an interval has no test, as the end of a sentence: too few paired replications,
    or differences with no spread (``constant``: identical, or the same in every replication)."""
    n = int(row["n"])
    if bool(row.get("constant", False)):
        return f"{no_spread_words(float(row['mean_diff']), n)} (no spread, so no test)"
    return (
        f"with {counted(n, 'paired replication')} a difference cannot be tested (a test needs at least "
        f"{stats.MIN_REPLICATIONS})"
    )


def _each(rows: pd.DataFrame, metric: str, quote: Callable[[str], str]) -> str:
    """``rows``' policies, each with its difference from the baseline and adjusted interval, in order."""
    return "; ".join(f"{quote(str(r.policy))} {_against(r, metric)}" for r in rows.itertuples())


#: The bottom line a lead on another metric is checked against, and what it is (``sim.catalogue``).
BOTTOM_LINE = "profit"
PROFIT_IS = "the gross margin on recurring revenue less the cost of sales"


def _adjustment(r: Any, own: bool, at: str = "") -> str:
    """How a profit interval beside an answer is adjusted, said after it (a researcher could not tell): at the
    answer's adjustment (profit a headline metric), else over profit's own family of comparisons (``own``), at
    the one design point the answer cites (``at``), not across the design's points, as the answer says of its own:
    a researcher read "behind" at the worst of 160 points, from a paired 95% t interval, as a finding."""
    if not own:
        return ", at the answer's adjustment"
    m = int(r.family)
    said = f", Bonferroni-adjusted over the {m} comparisons on profit" if m > 1 else ", a paired 95% t interval"
    return said + (" at that point alone, not adjusted across points" if at else "")


def _untested_profit(family: pd.DataFrame, policy: str, quote: Callable[[str], str], at: str = "") -> str:
    """``policy``'s profit difference from the baseline where it has no interval (too few replications, or no
    spread), with why it is not tested: it had been left out, and the answer then gave revenue alone."""
    rows = family[(family.metric == BOTTOM_LINE) & (family.policy == policy)]
    if rows.empty:
        return ""
    r = rows.iloc[0]
    gap = difference(BOTTOM_LINE, float(r.mean_diff))
    return f" On {quote(BOTTOM_LINE)}{at} ({PROFIT_IS}), {quote(policy)} is {gap} against the baseline; {untested(r)}."


def on_profit(
    family: pd.DataFrame,
    metric: str,
    winner: str,
    baseline: str,
    quote: Callable[[str], str],
    other: str,
    clear: bool = True,
    at: str = "",
    own: bool = False,
) -> str:
    """Where profit stands, at the same adjustment (``own``: in a family of its own), when the answer's metric is not profit, so that a lead is
    never read without the bottom line beside it: a caution when profit says otherwise (the winner clearly
    behind the baseline on profit, or, the baseline winning, another policy clearly ahead of it), else the
    profit difference of the pair the answer compared (the winner and the baseline; the baseline winning, it and
    ``other``, the closest), clearly ahead too or not distinguishable; "" without one. A policy that captures
    more revenue by spending more, by losing customers, or by counting renewals a rep won that would have
    renewed on their own, is not the one to roll out on revenue alone; and a lead of 7.1M in revenue captured
    had been repeated where profit differed by 0.3M (a sales leader's trial). ``clear``: the answer's lead is
    clear; where it is not, a clear profit difference is said as the one clear difference (a VP's compare left
    out a clear 16.9M of profit beside a revenue lead not distinguishable). ``at``: the design point it is at,
    in words (`` at x = 1``), where an answer spans several (a VP read a profit lead at one point as the grid's)."""
    if metric == BOTTOM_LINE:
        return ""
    d = _adjusted(family, BOTTOM_LINE)
    if winner != baseline:
        mine = d[d.policy == winner]
        if mine.empty:
            return _untested_profit(family, winner, quote, at)
        r = mine.iloc[0]
        gap = _against(r, BOTTOM_LINE) + _adjustment(r, own, at)
        if r.high_adj < 0:
            return (
                f" But on {quote(BOTTOM_LINE)}{at}, {quote(winner)} is behind the baseline: {gap} "
                f"({PROFIT_IS}: look at both before choosing)."
            )
        if r.low_adj <= 0:
            return (
                f" On {quote(BOTTOM_LINE)}{at} ({PROFIT_IS}), {quote(winner)} is not distinguishable from the baseline: "
                f"{gap}."
            )
        state = "is ahead too" if clear else "is clearly ahead of the baseline"
        return f" On {quote(BOTTOM_LINE)}{at} ({PROFIT_IS}), {quote(winner)} {state}: {gap}."
    ahead = d[d["low_adj"] > 0].sort_values("mean_diff", ascending=False)
    if not ahead.empty:
        each = _each(ahead, BOTTOM_LINE, quote) + _adjustment(ahead.iloc[0], own, at)
        # The baseline best across points may be behind at the point said (an overlay's answer had said "But"
        # of profit agreeing with the revenue lead just given): then it is behind "too", not "but".
        m = _adjusted(family, metric)
        sign = 1.0 if CATALOGUE[metric].higher_is_better else -1.0
        if (
            other in set(ahead.policy)
            and ((m.policy == other) & (sign * m.low_adj > 0) & (sign * m.high_adj > 0)).any()
        ):
            return f" On {quote(BOTTOM_LINE)}{at}, the baseline {quote(baseline)} is clearly behind too: {each} ({PROFIT_IS})."
        return (
            f" But on {quote(BOTTOM_LINE)}{at}, the baseline {quote(baseline)} is clearly behind: {each} ({PROFIT_IS})."
        )
    closest = d[d.policy == other]
    if closest.empty:
        return _untested_profit(family, other, quote, at)
    r = closest.iloc[0]
    behind = "is behind the baseline too" if clear else "is clearly behind the baseline"
    state = behind if r.high_adj < 0 else "is not distinguishable from the baseline"
    return f" On {quote(BOTTOM_LINE)}{at} ({PROFIT_IS}), {quote(other)} {state}: {_against(r, BOTTOM_LINE)}{_adjustment(r, own, at)}."


#: The most metrics "clear beside it" names [A].
MOST_BESIDE = 3


def beside_the_answer(
    bottom: pd.DataFrame,
    family: pd.DataFrame,
    metric: str,
    winner: str,
    baseline: str,
    quote: Callable[[str], str],
    other: str,
    clear: bool,
    at: str = "",
) -> list[str]:
    """What the answer has beside it, each a finding of its own: where profit stands (:func:`on_profit`, of ``bottom``)
    and, where the lead is not clear, the other headline metrics on which the pair it compares (the winner and the
    baseline; the baseline winning, ``other`` and it) differs clearly at the same adjustment, those with a direction of
    better first, then largest first by how far the interval lies from 0, at most ``MOST_BESIDE`` (and how many more): a
    VP's answer at one hunter share said revenue and profit were not distinguishable, and left unsaid 47 fewer new logos
    and 103 more units of relationship lost, both clear."""
    said = on_profit(bottom, metric, winner, baseline, quote, other, clear, at, own=bottom is not family)
    if clear:
        return [said]
    pair = winner if winner != baseline else other
    shown = {metric, BOTTOM_LINE} if said else {metric}  # what the answer has said of the pair already
    d = family[(family.policy == pair) & ~family.metric.isin(shown)]
    d = d[np.isfinite(d["low_adj"].astype(float)) & ((d["low_adj"] > 0) | (d["high_adj"] < 0))]
    if d.empty:
        return [said]
    # Outcomes with a direction of better first (a VP's led with utilisation, neither way better, and left out
    # 9 more customers), then the clearest; how many more there are is said, not left to a reader to guess.
    directed = [CATALOGUE[m].higher_is_better is not None if m in CATALOGUE else False for m in d.metric]
    d = d.assign(apart=np.minimum(d["low_adj"].abs(), d["high_adj"].abs()) / d["mean_diff"].abs(), directed=directed)
    rows = d.sort_values(["directed", "apart"], ascending=False).head(MOST_BESIDE)
    each = "; ".join(
        f"{quote(str(r.metric))} {_against(r, str(r.metric))}{_which_way(str(r.metric), float(r.mean_diff))}"
        for r in rows.itertuples()
    )
    more = f"; {len(d) - len(rows)} more in the paired-differences table" if len(d) > len(rows) else ""
    return [said, f"Clear beside it{at}, {quote(pair)} against the baseline at the same adjustment: {each}{more}."]


def _which_way(metric: str, diff: float) -> str:
    """`` (better)`` or `` (worse)``: a difference of a metric with a direction of better, as the policy it is of
    fares (a VP read "opps_missed +333" beside the answer as good news); else ""."""
    higher = CATALOGUE[metric].higher_is_better if metric in CATALOGUE else None
    return "" if higher is None or diff == 0 else " (better)" if (diff > 0) == higher else " (worse)"


def points_on_profit(
    results: pd.DataFrame | None,
    values: pd.DataFrame,
    metric: str,
    reference: int,
    compared: int,
    names: tuple[str, str],
    quote: Callable[[str], str],
) -> str:
    """Where profit stands between the two design points one policy's answer compares (``compared`` against the
    first, ``reference``; ``names``: how the answer names them, the compared first) when the answer's metric is
    not profit: their paired difference at the adjustment of the paired-differences table when profit is a
    headline metric (in ``values``), else in a family of its own (every point against the first, on profit), or
    why it has no test; "" without profit's results (the one-policy answer had given none: a researcher's
    trial)."""
    if metric == BOTTOM_LINE or results is None or not (results.metric == BOTTOM_LINE).any():
        return ""
    headline = (values.metric == BOTTOM_LINE).any()
    family = stats.point_differences(values if headline else stats.run_values(results, [BOTTOM_LINE]), reference)
    rows = family[family.point == compared]
    if rows.empty:
        return ""
    r, (it, first) = rows.iloc[0], names
    on = f" On {quote(BOTTOM_LINE)} ({PROFIT_IS}), {it}"
    if not (np.isfinite(float(r.low_adj)) and np.isfinite(float(r.high_adj))):
        return f"{on} is {difference(BOTTOM_LINE, float(r.mean_diff))} against {first}; {untested(r)}."
    state = "behind" if r.high_adj < 0 else "not distinguishable from" if r.low_adj <= 0 else "ahead of"
    return f"{on} is {state} {first}: {_against(r, BOTTOM_LINE)}{_adjustment(r, not headline)}."


def gap_words(metric: str, diff: float, low: float, high: float, defined: bool) -> str:
    """The other's difference from the best (``diff``: the other minus the best, ``[low, high]`` its interval):
    as an amount "lower" or "higher" with its interval as amounts in that direction where the interval excludes 0
    (``9.3M lower [5.5M, 10.8M]``); signed as the paired-differences table has it where it holds 0 (``-10.6M
    [-32.9M, +11.6M]``, where ``10.6M lower [-32.9M, +11.6M]`` read as up to 32.9M higher); in words alone
    without an interval."""
    if defined and low <= 0 <= high:
        return difference_with_interval(metric, diff, low, high)
    word = "lower" if diff < 0 else "higher" if diff > 0 else "level with it"
    size = "" if diff == 0 else amount(metric, abs(diff)) + " "
    ends = (-high, -low) if diff < 0 else (low, high)
    return size + word + (f" {difference_interval(metric, *ends, signed=False)}" if defined else "")
