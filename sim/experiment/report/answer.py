"""The answer the report and the terminal summary open with: which policy does best, by how much, and where.

The chosen metric is the first headline metric whose catalogue entry says
which way is better. At each design point the best policy (baseline included)
has the best mean of that metric's whole-run value (segment ``all``); the
policy best at the most points is named, with its paired difference against
the baseline (or, when it is the baseline, the gap to the closest other
policy) at the point where that difference is smallest. The difference, its
Bonferroni-adjusted 95% interval and its Holm-adjusted p-value are those of
the paired-differences table (``stats.paired_differences`` over the family of
every comparison at that design point); a difference whose interval includes
0 is not called a win. An experiment of one policy over the points of a grid
is answered across its points (``grid_answer``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from sim.answer_layout import answer_text
from sim.catalogue import CATALOGUE
from sim.experiment import stats
from sim.experiment.report.answer_notes import (
    BOTTOM_LINE,
    also_ahead,
    beside_the_answer,
    clear_at,
    clearly_apart,
    gap_words,
    not_clearly_behind,
    replications_needed,
    untested,
)
from sim.experiment.report.assumed import UNSAID, Assumed
from sim.experiment.report.family_check import default_family_note
from sim.experiment.report.grid_answer import compared_point, grid_answer
from sim.experiment.report.markdown import finite, point_labeller, test_words
from sim.experiment.report.team_notes import team_notes
from sim.experiment.report.why import why, why_values
from sim.format import counted, difference_beside, difference_interval, joined

#: Design points named one by one where another policy is best; beyond this, a count.
MAX_POINTS_NAMED = 3

NO_DIRECTION = "None of the headline metrics has a direction of better, so the report names no best policy."
NO_RUNS = "none yet: no run has finished."
NO_VALUES = "none of the headline metrics has a value in these runs, so there is nothing to compare."


def chosen_metric(metrics: Sequence[str]) -> str | None:
    """The first headline metric whose catalogue entry says whether more or less is better."""
    for metric in metrics:
        entry = CATALOGUE.get(metric)
        if entry is not None and entry.higher_is_better is not None:
            return metric
    return None


def answer(
    values: pd.DataFrame,
    metrics: Sequence[str],
    policies: Sequence[str],
    baseline: str,
    points: pd.DataFrame,
    factors: Sequence[str],
    markdown: bool = True,
    across_points: bool = False,
    results: pd.DataFrame | None = None,
    rebase: str = "",
    worlds: Mapping[int, Assumed] | None = None,
) -> str:
    """The answer sentence, from run values (``stats.run_values``) of every design point.

    ``points`` is the design (a ``point`` column and one column per factor);
    ``markdown`` marks names as code and the lead-in as bold, else plain text;
    ``across_points``: one policy over a grid (``Experiment.one_policy_grid``),
    answered across its points (a sampled design's points are not compared:
    its answer is the sensitivity section's); ``results``: the tidy results ``values`` come from, by
    segment, from which a clear lead is explained (``why.why``); ``rebase``: how a reader makes another policy
    the baseline (default: :func:`rebase_how`), said when other policies are clearly ahead of it too;
    ``worlds``: what the world compared assumes at each point (``assumed.assumed_by_point``), which a Why says
    beside a lead there.
    """
    quote: Callable[[str], str] = (lambda s: f"`{s}`") if markdown else (lambda s: s)
    rebase = rebase or rebase_how(quote)
    lead = "**Answer:** " if markdown else "Answer: "
    if values.empty:
        return lead + (NO_RUNS if results is None or results.empty else NO_VALUES)
    metric = chosen_metric(metrics)
    named = metric is not None
    if metric is None:
        if results is None or not (results.metric == BOTTOM_LINE).any():
            return lead + NO_DIRECTION
        # No headline metric says which policy is better: the bottom line does (a VP's compare named none), a
        # comparison of its own (the tables' family is the headline metrics').
        values = stats.run_values(results, [BOTTOM_LINE])
        metrics, metric = [*metrics, BOTTOM_LINE], BOTTOM_LINE
    higher = bool(CATALOGUE[metric].higher_is_better)
    sign = 1.0 if higher else -1.0
    head = f"on {quote(metric)} ({'higher' if higher else 'lower'} is better), "
    if skipped := list(metrics[: list(metrics).index(metric)]):  # named first, but with no direction of better
        has = "has" if len(skipped) == 1 else "have"
        head = (
            f"on {quote(metric)} ({'higher' if higher else 'lower'} is better; {joined([quote(m) for m in skipped])}, "
            + (
                f"named before it, {has}"
                if named
                else f"the headline {'metric' if len(skipped) == 1 else 'metrics'}, {has}"
            )
            + " no direction of better), "
        )
    present = [p for p in policies if p in set(values["policy"])]
    if len(policies) < 2:
        one = (values, metric, sign, policies[0], points, factors, quote, results)
        across = grid_answer(*one) if across_points else None
        first, *rest = across or [f"there is one policy only, {quote(policies[0])}: nothing to compare."]
        return answer_text(lead, [head + first, *rest], markdown)
    if baseline not in present:
        return lead + head + f"the baseline {quote(baseline)} has no finished run: no paired comparison, no answer."
    if len(present) < 2:  # every other policy's runs failed (or are pending)
        gone = [quote(p) for p in policies if p not in present]
        return (
            lead + head + f"{joined(gone)} {'has' if len(gone) == 1 else 'have'} no finished run: nothing to "
            f"compare with the baseline {quote(baseline)}."
        )

    repeats = repeated_points(points, factors)
    values = values[~values.point.isin(repeats)]
    v = values[(values.metric == metric) & np.isfinite(values["value"])]
    best = _best(v, sign, present)
    if best.empty and not v.empty:  # an unfinished store: each policy's runs in other replications
        return (
            lead + head + f"no replication has a run of every policy yet ({counted(len(v), 'run')} with a value of "
            "it): no policy is compared with another, and the report names no best policy. Resume the batch."
        )
    if best.empty:
        return lead + head + "no policy has a value of it: the report names no best policy."
    winner, alone_at = _winner(best)
    multi = len(points) > 1

    # the winner's paired difference (or the baseline's lead) at every point, on this metric alone ...
    paired = stats.paired_against(v, baseline)
    lead_at = _lead(paired, winner, baseline, sign)
    if lead_at.empty:
        return (
            lead + head + f"{quote(winner)}{' (the baseline)' if winner == baseline else ''} has the best mean, "
            "but no replication has a value for both it and the policy it would be compared with: no paired "
            "difference."
        )
    weakest = lead_at.idxmin()  # ... its weakest case ...
    point, other = int(weakest[0]), str(weakest[1])
    # ... and that point's comparison within its whole family, exactly as in the paired-differences table
    family = stats.paired_against(values[values.point == point], baseline)
    row = family[(family.policy == other) & (family.metric == metric)].iloc[0]
    where = "that design point" if multi else "the design point"
    label = point_labeller(points, factors)

    name = f"{quote(winner)}{' (the baseline)' if winner == baseline else ''}"
    diff, low, high = float(row["mean_diff"]), float(row["low_adj"]), float(row["high_adj"])
    defined = finite(low, high)
    clear = defined and (low > 0 or high < 0)  # the interval excludes 0
    ahead = sign * diff > 0 if winner != baseline else sign * diff < 0  # the winner leads in paired comparison
    stat = test_words(row, int(row["family"]), f"at {where}")
    p_holm = float(row["p_holm"])
    if defined and not clear and finite(p_holm) and p_holm < 0.05:
        stat += "; the Holm p is below 0.05 but the more conservative Bonferroni interval includes 0: borderline, which more replications settle"
    n = int(row["n"])
    undecided = "not distinguishable from the baseline at this replication count"
    no_test = "" if defined else untested(row)  # no test at all: too few pairs, or no spread (it says which)
    tail = "." if no_test else f" ({stat}), over {counted(n, 'paired replication')} (common random numbers)."

    # other policies clearly ahead of the baseline too, at that point: the winner is not tested against them
    opening = f"At {where}, " if multi else ""
    too = ""
    if clear and ahead:  # other policies clearly ahead too, or, the baseline best, not clearly behind it
        too = (
            also_ahead(family, metric, sign, winner, quote, rebase, opening)
            if winner != baseline
            else not_clearly_behind(family, metric, sign, {baseline, other}, baseline, quote, opening)
        )
    elif winner == baseline and defined:  # the closest not clearly behind: the others neither, if so (a VP missed one)
        too = not_clearly_behind(family, metric, sign, {baseline, other}, baseline, quote, opening)
    if winner != baseline:
        versus = f"{difference_beside(metric, diff, low, high)} against the baseline {quote(baseline)}"
        versus += f" {difference_interval(metric, low, high, beside=diff)}" if defined else ""
        if clear and ahead:
            if too:
                best_of = f"{name} has the best mean and is clearly ahead of the baseline"
            elif family[family.metric == metric].policy.nunique() > 1:  # the others are tested against the baseline
                best_of = f"{name} has the best mean and is the only policy clearly ahead of the baseline"
            else:
                best_of = f"{name} does best"
            single, several = f"{best_of}: {versus}", f"it is {versus}"
        elif clear:
            single = f"{name} has the best mean but is worse than the baseline in paired comparison: {versus}"
            several = f"it is worse than the baseline: {versus}"
        elif no_test:
            single, several = f"{name} has the best mean: {versus}; {no_test}", f"it is {versus}; {no_test}"
        else:
            single, several = f"{name} has the best mean but is {undecided}: {versus}", f"it is {undecided}: {versus}"
    else:
        # the gap to the closest other policy, as an amount "lower" or "higher"
        gap = gap_words(metric, diff, low, high, defined)
        if clear and ahead:
            several = f"the closest, {quote(other)}, is {gap}"
            single = f"{name} {'has the best mean' if too else 'does best'}; {several}"
        elif clear:
            several = f"{quote(other)} does better: it is {gap}"
            single = f"{name} has the best mean, but {quote(other)} does better in paired comparison: it is {gap}"
        elif lead_at[weakest] < 0:  # behind in the paired mean: another policy best there, or (one point, an
            # unfinished store) best over the replications every policy has but not over those it shares with one
            is_ = f"is {gap}; {no_test}" if no_test else f"is {undecided}: {gap}"
            several = f"{quote(other)} has the better mean: it {is_}"
            single = (
                f"{name} has the best mean over the replications every policy has; {quote(other)}, paired with it "
                f"over the {counted(n, 'replication')} the two have, {is_}"
            )
        elif no_test:
            several = f"the closest, {quote(other)}, is {gap}; {no_test}"
            single = f"{name} has the best mean; {several}"
        else:
            several = f"the closest, {quote(other)}, is {undecided}: {gap}"
            single = f"{name} has the best mean, but {several}"
    behind = baseline if winner != baseline else other  # the policy the winner's lead is measured against
    # A clear difference is explained either way: the winner's lead, or, where it does worst, the lead over it
    # (a policy best at most points and clearly behind at one had been left unexplained there).
    leader, trailer = (winner, behind) if ahead else (behind, winner)
    because = (
        why(
            why_values(results, metric), metric, point, leader, trailer, where, quote, (worlds or {}).get(point, UNSAID)
        )
        if clear and results is not None and not results.empty
        else ""
    )
    idle = team_notes(results, point, present, quote)
    # Profit beside the answer (at the point it is given for): beside a clear lead, where the sentence claims
    # something it could contradict; beside one not clear, where it may be the one clear difference.
    bottom, at = _bottom_line(family, results, point, baseline), f" at {label(point)}" if multi else ""
    caution = beside_the_answer(bottom, family, metric, winner, baseline, quote, other, clear and ahead, at)
    family_note = default_family_note(results, point, metrics, bottom, (other, baseline), quote, at)
    if not multi:
        # The baseline clearly best: every other policy is said not clearly behind it, or is clearly behind.
        said = {winner, baseline, other}
        also = (
            []
            if winner == baseline and clear and ahead
            else clearly_apart(
                family,
                metric,
                sign,
                said,
                quote,
                not (clear and ahead),
                (winner, rebase) if winner != baseline else None,
            )
        )
        more = replications_needed(diff, float(row["sd"]), n, int(row["family"])) if defined and not clear else ""
        findings = [head + single + tail, too, more, *also, because, *caution, family_note, *idle]
        return answer_text(lead, findings, markdown)
    shown = int(best.shape[0])
    distinct = len(points) - len(repeats)
    of = counted(shown, "distinct design point" if repeats else "design point")
    of += f" with results (of {distinct})" if shown < distinct else ""
    of += f" ({len(repeats)} more repeat one in another trajectory: counted once)" if repeats else ""
    worst = f"where its {'lead' if winner == baseline else 'difference'} is smallest"
    if lead_at[weakest] < 0:  # not a lead at all: behind another policy there
        worst = "where it does worst"
    alone = int(alone_at[winner])
    tied = [quote(p) for p in alone_at.index if p != winner and alone_at[p] == alone > 0]
    as_many = f", as many as {joined(tied)}" if tied else ""
    # A point where another policy's mean is the same is a tie, not a win (two identical policies at a point).
    level = best[best[winner] & (best.sum(axis=1) > 1)]
    with_ = [quote(p) for p in present if p != winner and p in level.columns and level[p].any()]
    ties = f", tied for best at {len(level)} (with {joined(with_)})" if len(level) else ""
    wins = f"best at {alone} of {of}" if alone else f"best alone at none of {of}"
    best_at = f"{name} is {wins}{ties}{as_many}{_others(best, winner, present, label, quote)}"
    best_at += clear_at(values, lead_at, metric, sign, winner, baseline)
    first = f"{head}{best_at}; {worst}, at {label(point)}, {several}{tail}"
    return answer_text(lead, [first, too, because, *caution, family_note, *idle], markdown)


def _bottom_line(family: pd.DataFrame, results: pd.DataFrame | None, point: int, baseline: str) -> pd.DataFrame:
    """The paired differences on profit at ``point``: the headline family's when profit is a headline metric,
    else a family of their own (one comparison a policy) from the stored ``results``, which hold every metric."""
    if (family.metric == BOTTOM_LINE).any() or results is None or results.empty:
        return family
    at = results[(results.point == point) & (results.metric == BOTTOM_LINE)]
    return stats.paired_against(stats.run_values(at, [BOTTOM_LINE]), baseline) if not at.empty else family


def repeated_points(points: pd.DataFrame, factors: Sequence[str]) -> set[int]:
    """The design points whose factor values an earlier point has: a point a Morris trajectory reaches again is
    the same world, run once, and counted once (a researcher's answer said "best at 24 of 24 design points" of
    12 worlds)."""
    if not factors or "point" not in points:
        return set()
    return {int(p) for p in points.point[points.duplicated(subset=list(factors))]}


def cited_point(
    values: pd.DataFrame,
    metrics: Sequence[str],
    policies: Sequence[str],
    baseline: str,
    across_points: bool = False,
    points: pd.DataFrame | None = None,
    factors: Sequence[str] = (),
) -> int | None:
    """The design point whose paired difference :func:`answer` gives, so that the tables can show it: for
    several policies, where the policy best at the most points does worst against the one it is compared with;
    for one policy over a grid (``across_points``), the point it compares with the first. None when the answer
    gives none. ``points`` and ``factors``, the design's, count a repeated point once, as the answer does."""
    if points is not None:
        values = values[~values.point.isin(repeated_points(points, factors))]
    metric = chosen_metric(metrics)
    if metric is None:
        return None
    sign = 1.0 if CATALOGUE[metric].higher_is_better else -1.0
    if across_points:
        return compared_point(values, metric, sign)[0]
    present = [p for p in policies if p in set(values["policy"])] if not values.empty else []
    if len(policies) < 2 or baseline not in present:
        return None
    v = values[(values.metric == metric) & np.isfinite(values["value"])]
    best = _best(v, sign, present)
    if best.empty:
        return None
    lead_at = _lead(stats.paired_against(v, baseline), _winner(best)[0], baseline, sign)
    return None if lead_at.empty else int(lead_at.idxmin()[0])


def _winner(best: pd.DataFrame) -> tuple[str, pd.Series]:
    """The policy best alone at the most design points (a tie is no win), then level at the most, then first in
    the experiment's order; and each policy's count of points where it is best alone."""
    alone = best[best.sum(axis=1) == 1].sum()
    shared = best.sum() - alone
    return str(max(best.columns, key=lambda p: (alone[p], shared[p]))), alone


def _best(v: pd.DataFrame, sign: float, present: list[str]) -> pd.DataFrame:
    """Per design point (rows) and policy (columns, in ``present``'s order): whether it has the best mean of
    ``v`` (run values of one metric; ``sign`` -1 when less is better) there, ties all best."""
    # Means over the replications every policy has a value for at a point (a policy with none anywhere, the
    # metric undefined for it, left out): on an unfinished store, a mean over fewer replications, other luck,
    # would be set against the others'.
    wide = v.pivot_table(index=["point", "replication"], columns="policy", values="value")
    wide = wide.reindex(columns=[p for p in present if p in wide.columns]).dropna(how="any")
    means = sign * wide.groupby(level="point").mean()
    return means.eq(means.max(axis=1), axis=0)


def units_caution(buying_units: int, policies: int, quote: Callable[[str], str]) -> str:
    """``Each account of this world is K buying units ...``, a finding of its own (``with_finding``) beside an
    answer comparing policies on a world of more than one buying unit an account (``covsim calibrate --units``),
    that the comparison moves with K; else "". An analyst's calibrated comparison gave segment tiers a profit lead
    of 280k at 44 units, 162k at 88; another had edited the label, which changes no run, and doubled the units with
    books of the same size, half of every unit left to the digital channel."""
    if buying_units <= 1 or policies < 2:
        return ""
    return (
        f"Each account of this world is {buying_units:,} buying units ({quote('population.buying_units')}, from "
        f"{quote('covsim calibrate --units')}): customers and churn count units, not accounts, and so do a policy's "
        "books, touches and conflicts, so this comparison moves with the units chosen (docs/scenario-format.md, "
        f"8.5): read it only where it holds at another number of units too, calibrated again with "
        f"{quote('--units')} (editing {quote('population.buying_units')} changes only its label) and with the "
        f"policies' book sizes ({quote('accounts_per_rep')}, in units) scaled alike."
    )


def rebase_how(quote: Callable[[str], str]) -> str:
    """How a reader makes another policy the baseline, on the command line and in an experiment file."""
    return f"the first {quote('--policy')} of {quote('covsim compare')}, or {quote('baseline')} in an experiment file"


def _lead(paired: pd.DataFrame, winner: str, baseline: str, sign: float) -> pd.Series:
    """Per (point, compared policy): the winner's advantage in the direction of better (negative: behind).

    For a winner other than the baseline, its paired difference against the
    baseline; for the baseline, minus the best other policy's difference.
    """
    if paired.empty:
        return pd.Series(dtype=float)
    d = paired[np.isfinite(paired["mean_diff"].astype(float))]
    if winner != baseline:
        d = d[d.policy == winner]
        return pd.Series((sign * d["mean_diff"]).to_numpy(), index=pd.MultiIndex.from_frame(d[["point", "policy"]]))
    rows = {}
    for point, g in d.groupby("point", sort=True):
        closest = g.loc[(sign * g["mean_diff"]).idxmax()]
        rows[(point, closest["policy"])] = -sign * float(closest["mean_diff"])
    return pd.Series(rows, dtype=float)


def _others(
    best: pd.DataFrame, winner: str, present: list[str], label: Callable[[int], str], quote: Callable[[str], str]
) -> str:
    """`` (`x` is best at a = 1 and a = 2; `y` at ...)``: the points where the winner is not best, and who is;
    a point of several factors in parentheses (``(a = 1, b = 2), (a = 2, b = 2) and 3 more points``), as its
    label holds commas."""
    lost = best[~best[winner]]
    if lost.empty:
        return ""
    by_policy: dict[str, list[int]] = {}
    for point, row in lost.iterrows():
        first = next(p for p in present if p in row.index and bool(row[p]))
        by_policy.setdefault(first, []).append(int(point))
    parts: list[str] = []
    for policy in [p for p in present if p in by_policy]:
        where = [f"({t})" if ", " in t else t for t in (label(p) for p in by_policy[policy])]
        if len(where) > MAX_POINTS_NAMED:
            where = [*where[:MAX_POINTS_NAMED], f"{counted(len(where) - MAX_POINTS_NAMED, 'more point')}"]
        listed = where[0] if len(where) == 1 else ", ".join(where[:-1]) + " and " + where[-1]
        parts.append(f"{quote(policy)}{' is best' if not parts else ''} at {listed}")
    return " (" + "; ".join(parts) + ")"
