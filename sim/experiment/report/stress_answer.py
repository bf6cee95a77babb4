"""The stress report's answer: the safer rollout and why, what hurts most, what does not recover, the better plan."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.answer_layout import answer_text
from sim.experiment.inert import why_inert
from sim.experiment.report.hurts_most import hurts_most
from sim.experiment.report.markdown import amount, code
from sim.experiment.report.on_top import on_top_sentences
from sim.experiment.report.stay_put import against_staying, rollouts_pick, safer_pick
from sim.experiment.rollout_plans import RolloutChoice
from sim.experiment.stats import MIN_REPLICATIONS
from sim.experiment.stress import (
    DECISION_METRIC,
    MISS_CAUSES,
    NOT_BACK,
    RECOVERY_CONFIRMED,
    RECOVERY_TOLERANCE,
    UNCLEAR,
    Findings,
    impact_gap,
)
from sim.experiment.suite import UNSHOCKED
from sim.format import after_colon, counted, difference, difference_interval, joined, money, no_spread_words


def stress_answer(f: Findings, policies: list[str], markdown: bool = True) -> str:
    """The sentences the report and the terminal open with: the safer rollout and why, the stress that hurts
    most, what does not recover, the better rollout plan, and what shocks add on top of a rollout."""
    q: Callable[[str], str] = code if markdown else (lambda s: s)
    lead = "**Answer:** " if markdown else "Answer: "
    profit = f.impacts[(f.impacts.metric == DECISION_METRIC) & (f.impacts.n > 0)]
    if profit.empty:  # none paired by replication (an interrupted batch can leave each side different ones)
        return lead + "none yet: no stressed run has a finished unshocked partner."
    out = [u] if (u := _unfinished(f, policies, q)) else []
    if f.ranking is not None:
        t = f.ranking.table
        safe = f.ranking.robust
        others = [p for p in t.index if p != safe]
        worst_other = max(others, key=lambda p: t.at[p, "max_regret"])
        behind = (
            f"{q(worst_other)} falls up to {money(t.at[worst_other, 'max_regret'])} behind the best "
            f"({_under(str(t.at[worst_other, 'max_regret_world']), q=q)})"
        )
        clear, gap = _clear_gap(f, safe, worst_other, q)
        # Safer needs a clear lead over every other (a VP's tiers-or-pool choice read so once unstructured came in).
        nearer = sorted((p for p in others if p != worst_other), key=lambda p: t.at[p, "max_regret"])
        gaps = {p: _clear_gap(f, safe, p, q) for p in nearer}
        if named := next((p for p in nearer if not gaps[p][0]), nearer[0] if nearer else None):
            clear = clear and all(c for c, _ in gaps.values())
            which = "the policy nearest it" if named == nearer[0] else "not clearly behind it"
            # Not clear against either, over the same stresses: a trial read it twice, word for word.
            unclear = f"{q(safe)}'s lead over"
            if (
                gap.startswith(unclear)
                and gaps[named][1].startswith(unclear)
                and (gaps[named][1].partition(": ")[2] == gap.partition(": ")[2])
            ):
                gap += f" Against {q(named)}, {which}, the same holds."
            else:
                gap += f" Against {q(named)}, {which}: {after_colon(gaps[named][1])}"
        # The verdict as strong as the intervals allow: on the means alone the pick only looks safer. Where the
        # rollouts alone pick another, the whole suite's pick is the safer model, not rollout.
        turned = rollouts_pick(f, safe, q)
        is_safer = safer_pick(
            safe, f.in_force, clear, q, "the safer model over the whole suite" if turned else "the safer rollout"
        )
        if not _has_interval(f, worst_other):  # a VP read the pick of 2 replications, and another of 5
            is_safer = f"Too few replications to tell yet; {is_safer[0].lower()}{is_safer[1:]}"
        # "Every stress" only when every one is ranked: a stress a policy has no result under is left out.
        every = (
            "under every stress (and without one)"
            if f.ranking.worlds == len(f.stresses) - len(f.inert) - len(f.same_as)
            else "under every stress that every policy finished"
        )
        if t["max_regret"].max() <= 0:  # every policy the best everywhere: the same profits, nothing to rank
            out.append(
                f"{joined([q(p) for p in t.index])} make the same mean profit {every}: "
                f"{'neither' if len(t.index) == 2 else 'none'} is safer."
            )
        elif t.at[safe, "max_regret"] <= 0:
            out.append(f"{is_safer}: it has the best profit {every}; {behind}.")
        else:
            out.append(
                f"{is_safer}: {every} its profit stays within "
                f"{money(t.at[safe, 'max_regret'])} of the best policy's (its largest shortfall "
                f"{_under(str(t.at[safe, 'max_regret_world']), q=q)}), while {behind}."
            )
        if t["max_regret"].max() > 0:
            why = _mechanism(f, safe, worst_other, str(t.at[worst_other, "max_regret_world"]), q)
            out += [why, gap] if why else [gap]
        if turned:  # after the why, whose "that gap" is the opening sentence's
            out.append(turned)
    elif len(policies) == 1:
        out.append(f"With one policy, {q(policies[0])}, there is no choice of policy to rank.")
    else:
        ran = [q(p) for p in policies if p in set(profit.policy)]
        out.append(
            f"No stress has a replication that every policy finished, so the policies are not ranked; here is "
            f"what hurts {joined(ran)}."
        )
    out = [" ".join(out)]  # the choice of policy and why, the answer's first item (``answer_text``)
    if stay := against_staying(f, policies, q):
        out.append(stay)
    if worst := hurts_most(f, profit, policies, q):
        out.append(worst)
    if f.in_force:
        its, it_is = ("its", "it is") if len(f.in_force) == 1 else ("their", "each is")
        out.append(
            f"Rolling out {joined([q(p) for p in f.in_force])} changes none of {its} runs: the rollouts start from "
            f"the model in force, and {it_is} that model, so there is no rollout plan to choose."
        )
    explained = set(f.rollout_stresses) if set(policies) <= set(f.in_force) else set()
    if set(f.inert) - explained:
        empty = [s for s in f.inert if s not in explained]
        said = [f"{q(s)} ({why_inert(f.kinds.get(s, []))})" for s in empty]
        out.append(
            f"{joined(said)} changed nothing in any run: in this world {'it is' if len(empty) == 1 else 'they are'} "
            f"empty, so read no safety into {'it' if len(empty) == 1 else 'them'}."
        )
    if f.same_as:
        repeats = joined([f"{q(s)} ran as {q(t)}" for s, t in f.same_as.items()])
        out.append(
            f"In this world {repeats} in every run, number for number: "
            f"{'the two are one shock' if len(f.same_as) == 1 else 'each pair is one shock'}, counted once in the "
            "ranking and the recovery."
        )
    for stress in (s for s in f.stresses if s not in f.inert and s not in f.rollout_stresses):
        # Empty for some policies only: a realignment moves no account of a policy that owns none (a VP's suite).
        if unmoved := [q(p) for p in policies if stress in f.inert_of.get(p, ())]:
            out.append(
                f"{q(stress)} changed nothing for {joined(unmoved)} ({why_inert(f.kinds.get(stress, []))}): "
                f"{'its' if len(unmoved) == 1 else 'their'} rows are the unshocked run, so read no safety into them."
            )
    # A policy's runs that repeat another stress's are said once, under the first (a trial read "under
    # big_bang_plus_quits for unstructured; under quits for unstructured" of the model in force's same runs).
    repeated = {(p, s) for p, same in f.same_of.items() for s in same}
    live = f.recovery[~f.recovery.shock.isin(f.inert)]
    live = live.loc[np.array([(p, s) not in repeated for p, s in zip(live.policy, live.shock, strict=True)], bool)]
    present = [p for p in policies if p in set(f.recovery.policy)]
    never = _which(live[live.verdict == NOT_BACK], present, f.stresses, q)
    if never:
        out.append(
            f"Revenue stays short of the unshocked run's at the horizon's end {never} (a quarter's revenue, not the "
            f"run's profit above): the paired 95% interval of its last quarter not back "
            f"lies wholly below -{RECOVERY_TOLERANCE:.0%} of the unshocked revenue, and fewer than "
            f"{RECOVERY_CONFIRMED} quarters back within {RECOVERY_TOLERANCE:.0%} follow it (each policy and stress on "
            "its own interval, not adjusted for the others: among many, one such by chance is likely)."
        )
    unclear = _which(live[live.verdict == UNCLEAR], present, f.stresses, q)
    n = int(f.draws.replication.nunique()) if not f.draws.empty else 0  # the replications the impacts are over
    if unclear and n < MIN_REPLICATIONS:
        out.append(
            f"Whether revenue came back within {RECOVERY_TOLERANCE:.0%} of the unshocked run cannot be told with "
            f"{counted(n, 'replication')} ({unclear}): the quarters' paired intervals need at least "
            f"{MIN_REPLICATIONS}."
        )
    elif unclear:
        out.append(
            f"Whether revenue came back within {RECOVERY_TOLERANCE:.0%} of the unshocked run cannot be told at this "
            f"replication count ({unclear}): the paired 95% intervals of the last quarters straddle "
            f"-{RECOVERY_TOLERANCE:.0%}, so more replications are needed to say."
        )
    rollouts = sorted(f.rollouts, key=lambda c: policies.index(c.policy) if c.policy in policies else len(policies))
    plans = {(c.better, c.worse) for c in rollouts}
    if rollouts and (partial := [f"{q(s)} {k}" for s, k in f.unfinished.items()]):
        # A plan compared over a rollout not finished compares part of it (a VP's two quarters: a third moved).
        out.append(
            f"By the horizon not every account has moved to the new model: {joined(partial)} of them, so the rollout "
            "plans are compared over a rollout not finished."
        )

    def interval(c: RolloutChoice) -> str:  # the plan's lead's interval, where there is one
        return f" {difference_interval(DECISION_METRIC, c.low, c.high, signed=False)}" if np.isfinite(c.low) else ""

    def unclear_why(c: RolloutChoice) -> str:  # why a plan's lead is not clear
        if c.constant:
            return f"it is {no_spread_words(c.diff, c.n)}, so there is no test"
        if np.isfinite(c.low):
            return "its interval includes 0"
        return f"with {counted(c.n, 'paired replication')} there is no interval (one needs at least {MIN_REPLICATIONS})"

    if rollouts and len(plans) == 1 and all(c.constant for c in rollouts):
        better, worse = plans.pop()
        if all(c.diff == 0 for c in rollouts):
            out.append(
                f"Rolling out as {q(better)} or as {q(worse)} gives the same profit in every paired replication."
            )
        else:
            each = ", ".join(f"{money(c.diff)} for {q(c.policy)}" for c in rollouts)
            out.append(
                f"No rollout plan is clearly better: {q(better)} leads {q(worse)} in profit ({each}), by the same in "
                "every paired replication, so there is no test: the choice rests on the means."
            )
    elif rollouts and len(plans) == 1 and not any(c.clear for c in rollouts):
        better, worse = plans.pop()
        each = ", ".join(f"{money(c.diff)}{interval(c)} for {q(c.policy)}" for c in rollouts)
        reasons = {unclear_why(c) for c in rollouts}
        why = "no interval excludes 0" if len(reasons) > 1 else reasons.pop()
        why = "every paired 95% interval includes 0" if why == "its interval includes 0" else why
        out.append(
            f"No rollout plan is clearly better: {q(better)} leads {q(worse)} in profit ({each}), but {why}, so more "
            "replications are needed before choosing."
        )
    elif len(plans) == 1 and len(rollouts) > 1:
        better, worse = plans.pop()
        each = ", ".join(
            f"{money(c.diff)} more profit{interval(c)} for {q(c.policy)}" + ("" if c.clear else f" ({unclear_why(c)})")
            for c in rollouts
        )
        # "Whichever policy, roll out as X" only where every policy's lead is clear; else the means' word.
        clear = all(c.clear for c in rollouts)
        verb = "Whichever policy, roll out as" if clear else "On the means, every policy does better rolled out as"
        out.append(f"{verb} {q(better)} rather than {q(worse)}: {each}.")
    else:
        for c in rollouts:
            since = f", rolling out from {q(c.rolled_from)}" if f.plans_from_several else ""
            out.append(
                f"For {q(c.policy)}{since}, roll out as {q(c.better)} rather than {q(c.worse)}: "
                f"{money(c.diff)} more profit{interval(c)}{'' if c.clear else f' ({unclear_why(c)}: no clear difference)'}."
            )
    return answer_text(lead, out + on_top_sentences(f, policies, q), markdown)


def _unfinished(f: Findings, policies: list[str], q: Callable[[str], str]) -> str:
    """The runs with no result (failed, or not run yet) and what the ranking does without them; "" for none."""
    v = f.values[(f.values.metric == DECISION_METRIC) & f.values.value.notna()]
    done = len(v[["point", "policy", "replication"]].drop_duplicates())
    if done >= f.expected_runs:
        return ""
    have = set(zip(v.shock, v.policy, strict=True))
    none = {p: [q(s) for s in f.stresses if (s, p) not in have] for p in policies}
    gone = "; ".join(f"{q(p)} has none under {joined(none[p])}" for p in policies if none[p])
    missing = f.expected_runs - done
    return (
        f"Not every run finished ({missing} of {f.expected_runs} {'has' if missing == 1 else 'have'} no result"
        f"{': ' + gone if gone else ''}), so the ranking uses the replications every policy finished, and leaves "
        "out a stress with none."
    )


def _which(rows: pd.DataFrame, present: list[str], stresses: list[str], q: Callable[[str], str]) -> str:
    """The stresses of ``rows`` (a recovery table's), for every policy of ``present`` or for those named: ``under
    `a` and `b` for every policy; under `c` for `p```; "" for no row. (It read "`c` (`p`)", a fragment, with no
    stress for every policy.)"""
    if rows.empty:
        return ""
    names = sorted(set(rows.shock), key=stresses.index)
    who = {s: [p for p in present if p in set(rows[rows.shock == s].policy)] for s in names}
    everyone = [q(s) for s in names if who[s] == present]
    parts = [f"under {joined(everyone)}" + (" for every policy" if len(present) > 1 else "")] if everyone else []
    parts += [f"under {q(s)} for {joined([q(p) for p in who[s]])}" for s in names if who[s] != present]
    return "; ".join(parts)


def _clear_gap(f: Findings, safe: str, other: str, q: Callable[[str], str]) -> tuple[bool, str]:
    """Whether ``safe``'s profit lead over ``other`` is clear under some stress (and under none the other's), and
    the sentence that says so: by the paired intervals of their profit difference under each stress, the
    unshocked run included, Bonferroni-adjusted over those stresses (``stress.policy_differences``: of 11
    unadjusted 95% intervals, at least one excludes 0 by chance alone 43% of the time, 1 - 0.95^11, when the two
    policies do not differ)."""
    v = f.versus[f.versus.other == other]
    m = int(v["family"].max()) if not v.empty else 0
    flat = v[v.constant.astype(bool)]
    if m == 0 and not flat.empty:  # every difference with enough pairs is the same in every replication
        where = _under(*map(str, flat.shock), q=q)
        if (flat["diff"] == 0).all():
            return (
                False,
                f"{q(safe)} and {q(other)} make the same profit in every paired replication {where}: neither is safer.",
            )
        return False, (
            f"Their profit difference is {_same_in_every(flat)} {where} (no spread, so no test, as in `covsim "
            "compare`): the pick rests on the means."
        )
    if not _has_interval(f, other):  # too few replications with both policies' runs
        both = f.values[(f.values.metric == DECISION_METRIC) & f.values.policy.isin([safe, other])].dropna()
        n = int((both.groupby(["shock", "replication"]).policy.nunique() == 2).groupby("shock").sum().max())
        return False, (
            f"With {counted(n, 'paired replication')} the two policies' profit difference has no interval (one needs at "
            f"least {MIN_REPLICATIONS}), so whether {q(safe)} is safer cannot be judged yet."
        )
    tested = set(v.shock[np.isfinite(v.low_adj.astype(float))])
    adjusted = f"Bonferroni-adjusted 95% intervals over the {m} stress{'' if m == 1 else 'es'} compared" + (
        ", the unshocked run included" if UNSHOCKED in tested else ""
    )
    clear, said = _clear_or_not(v, safe, other, adjusted, q)
    if not flat.empty:  # no test there, said as such rather than left out unseen
        where = _under(*map(str, flat.shock), q=q)
        said += f" {where[0].upper()}{where[1:]} the difference is {_same_in_every(flat)} (no spread, so no test)."
    return clear, said


def _has_interval(f: Findings, other: str) -> bool:
    """Whether the pick's profit difference from ``other`` has an interval, or no spread, under some stress."""
    v = f.versus[f.versus.other == other]
    return not v.empty and (int(v["family"].max()) > 0 or bool(v.constant.astype(bool).any()))


def _same_in_every(flat: pd.DataFrame) -> str:
    """``the same in every one of the 5 paired replications`` (or ``identical ...``) of the profit differences
    with no spread of ``flat`` (rows of ``Findings.versus``), the count left out when it differs between them."""
    n = set(flat["n"].astype(int))
    return no_spread_words(0.0 if (flat["diff"] == 0).all() else 1.0, n.pop() if len(n) == 1 else None)


def _clear_or_not(v: pd.DataFrame, safe: str, other: str, adjusted: str, q: Callable[[str], str]) -> tuple[bool, str]:
    """:func:`_clear_gap`'s verdict from the intervals of ``v`` (``adjusted``: which they are)."""
    ahead = v[v.low_adj > 0].sort_values("diff", ascending=False)
    behind = v[v.high_adj < 0]
    if not ahead.empty and behind.empty:
        top, least = ahead.iloc[0], ahead.iloc[-1]

        def kept(r: pd.Series) -> str:
            interval = difference_interval(DECISION_METRIC, r.low_adj, r.high_adj, signed=False)
            return f"{money(r['diff'])} more profit {interval}"

        tested = int(np.isfinite(v.low_adj.astype(float)).sum())
        if list(ahead.shock) == [UNSHOCKED] and tested > 1:
            # Clear only where nothing is stressed: no sign that it is safer under a stress (a VP read it so).
            none = f"none of the {tested - 1} stresses tested does the paired interval exclude 0"
            none = "the one stress tested the paired interval includes 0" if tested == 2 else none
            return False, (
                f"The gap is clear only without a stress: {q(safe)} keeps {kept(top)} than {q(other)} there, but under "
                f"{none} (paired, same seeds; {adjusted}), so that it is safer under stress rests on the means."
            )
        if len(ahead) == 1:
            of = "" if tested == 1 else f" (1 of the {tested} compared)"
            return True, (
                f"The gap is clear{of}: {_under(str(top.shock), q=q)} {q(safe)} keeps {kept(top)} than {q(other)} "
                f"(paired, same seeds; {adjusted})."
            )
        # A pick by worst case: the least it keeps is said with the most (a VP read the largest gap, under a
        # boom, as the margin of safety; under a fall in demand it was a third of it).
        compared = counted(len(v), "stress", "stresses")
        return True, (
            f"The gap is clear under {len(ahead)} of the {compared} compared: {q(safe)} keeps from {kept(least)} "
            f"({_under(str(least.shock), q=q)}) to {kept(top)} ({_under(str(top.shock), q=q)}) than {q(other)} "
            f"(paired, same seeds; {adjusted})."
        )
    if ahead.empty and behind.empty:
        return False, (
            f"{q(safe)}'s lead over {q(other)} is not clear: under no stress does the paired interval of the two "
            "policies' profit "
            f"difference exclude 0 ({adjusted}), so more replications are needed before calling {q(safe)} safer."
        )
    if ahead.empty:
        return False, (
            f"Where the gap is clear, {q(other)} does better: it is clearly ahead of {q(safe)} "
            f"{_under(*map(str, behind.shock), q=q)}, while {q(safe)} is clearly ahead under none of the stresses, "
            f"nor without one (paired intervals of the profit difference, {adjusted}), so the pick by worst case is "
            "not borne out."
        )
    return False, (
        f"Neither dominates: {q(safe)} is clearly ahead {_under(*map(str, ahead.shock), q=q)} and clearly behind "
        f"{_under(*map(str, behind.shock), q=q)} (paired intervals of the profit difference, {adjusted})."
    )


def _under(*shocks: str, q: Callable[[str], str]) -> str:
    """``under `a`, `b` and without a stress``: the stresses named, the unshocked run said as such."""
    named = [q(s) for s in shocks if s != UNSHOCKED]
    parts = ([f"under {joined(named)}"] if named else []) + (["without a stress"] if UNSHOCKED in shocks else [])
    return " and ".join(parts)


def _mechanism(f: Findings, safe: str, other: str, stress: str, q: Callable[[str], str]) -> str:
    """What ``stress``, where ``other`` falls furthest behind, has to do with that gap, as a sentence. Only a
    stress that changed the gap clearly explains it: the paired difference of the two policies' profit impacts
    (``stress.impact_gap``, Bonferroni-adjusted over the stresses, among which this one was picked for its gap)
    must exclude 0; else the sentence says the gap is about the one without the stress. A clear change is then
    put down to the miss cause whose extra misses differ most between them, when that difference is clear too
    (Bonferroni over the causes) and ``other`` has clearly more extra misses in all (else its misses would be
    read against its profit), or, failing that, to the personal relationship the stress cost it beyond
    ``safe`` (a clear difference of at least one touch-equivalent). "" for the unshocked run."""
    # Inert, or the same as another: no comparison of its own.
    stressed = [s for s in f.stresses[1:] if s in set(f.draws.shock) and s not in f.inert and s not in f.same_as]
    if stress not in stressed:
        return ""
    # The family: the stresses among which this one was picked whose change of the gap is a test at all.
    tested = sum(not impact_gap(f.draws, s, DECISION_METRIC, other, safe)["constant"] for s in stressed)
    g = impact_gap(f.draws, stress, DECISION_METRIC, other, safe, tested)
    adjusted = f"paired; Bonferroni-adjusted over the {counted(tested, 'stress', 'stresses')}"
    base = f.values[(f.values.shock == UNSHOCKED) & (f.values.metric == DECISION_METRIC)]
    wide = base.pivot_table(index="replication", columns="policy", values="value")
    gap = wide.reindex(columns=[safe, other]).dropna().mean()
    without = float(gap.get(safe, np.nan) - gap.get(other, np.nan))
    if not g["n"] or not np.isfinite(without):  # a batch stopped part way: no pair to read the change from
        return (
            f"Whether that gap is the stress's cannot be said yet: no replication has finished runs of both "
            f"policies with and without {q(stress)}."
        )
    if not (g["low"] > 0 or g["high"] < 0):
        change = difference(DECISION_METRIC, g["diff"])
        if np.isfinite(g["low"]):
            change += f" {difference_interval(DECISION_METRIC, g['low'], g['high'])}"
        how = "" if g["constant"] else f" ({adjusted})" if np.isfinite(g["low"]) else " (paired)"
        if g["constant"]:
            unsure = f"{no_spread_words(g['diff'], int(g['n']))}, so there is no test"
        elif np.isfinite(g["low"]):
            unsure = "an interval that includes 0"
        else:
            unsure = f"with {counted(int(g['n']), 'replication')} there is no interval to say more"
        # The change of a stress from a later quarter is of the quarters from then on: a VP added it to the run's gap.
        span = f" (from quarter {first} on)" if (first := f.first_quarter.get(stress, 1)) > 1 else ""
        return (
            f"That gap is not clearly the stress's: without it {q(other)} is {money(abs(without))} "
            f"{'behind' if without >= 0 else 'ahead of'} {q(safe)}, and the change {q(stress)} makes to the profit of "
            f"{q(other)}{span} differs from the change it makes to that of {q(safe)} by {change}{how}, {unsure}."
        )
    more, ends = ("more", (-g["high"], -g["low"])) if g["diff"] < 0 else ("less", (g["low"], g["high"]))
    said = (
        f"Under {q(stress)} the gap {'widens' if more == 'more' else 'narrows'}: the change the stress makes to the "
        f"profit of {q(other)} is {money(abs(g['diff']))} {'lower' if more == 'more' else 'higher'} than the change "
        f"it makes to that of {q(safe)} {difference_interval(DECISION_METRIC, *ends, signed=False)} ({adjusted})"
    )
    return said + _cause(f, safe, other, stress, q)


def _cause(f: Findings, safe: str, other: str, stress: str, q: Callable[[str], str]) -> str:
    """The miss cause, or failing it the relationships, behind a clear change of the gap under ``stress``
    (:func:`_mechanism`), as the end of its sentence; "" when none is clear."""
    total = impact_gap(f.draws, stress, "opps_missed", other, safe)
    causes = [c for c in MISS_CAUSES if c in set(f.draws.metric)]
    gaps = {c: impact_gap(f.draws, stress, c, other, safe, len(causes)) for c in causes}
    clear = {c: g for c, g in gaps.items() if g["low"] > 0 and g["diff"] >= 1}
    if clear and total["low"] > 0:
        cause = max(clear, key=lambda c: clear[c]["diff"])
        g = clear[cause]
        words = cause.removeprefix("missed_").replace("_", " ")
        return (
            f"; the difference is in the misses: {q(other)} misses {amount(cause, g['diff'])} more ({words}) than "
            f"{q(safe)} under it {difference_interval(cause, g['low'], g['high'], signed=False)} (Bonferroni over the "
            f"{len(causes)} causes), and more in all."
        )
    lost = impact_gap(f.draws, stress, "personal_stock_lost", other, safe)
    if lost["low"] > 0 and lost["diff"] >= 1:
        return (
            f"; the difference is in the relationships: the stress costs {q(other)} "
            f"{amount('personal_stock_lost', lost['diff'])} more "
            f"touch-equivalents of personal relationship (accounts changing hands) than {q(safe)} "
            f"{difference_interval('personal_stock_lost', lost['low'], lost['high'], signed=False)}, and the deals "
            "those relationships win."
        )
    return "; no miss cause or loss of relationships tells the two apart clearly."
