"""The stress answer's sentence on rolling out against staying with the model in force.

A rollout stress measures each policy against having had it from the first quarter, which no one rolling out
can have; the question before a rollout is whether to make it at all. For each policy rolled out, its whole-run
profit under its better rollout plan less the model in force's under the same plan (a rollout of the model in
force changes none of its runs: it is the unshocked run), paired by replication on common random numbers.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.experiment.stats import CONFIDENCE, MIN_REPLICATIONS, read_pairs, t_interval
from sim.experiment.stress import DECISION_METRIC, Findings, stress_regret
from sim.experiment.suite import is_rollout_plan
from sim.format import (
    clear_words,
    counted,
    difference_beside,
    difference_interval,
    joined,
    money,
    no_spread_words,
)


def against_staying(f: Findings, policies: list[str], q: Callable[[str], str]) -> str:
    """The sentence, or "" without one model in force among the policies or without a rollout plan (a stress of
    rollouts alone) for a policy: ``Against staying with `unstructured`, the model in force, rolled out as
    `big_bang`, the better plan on the means, profit over the run: `segment_tiers` +1.2M [-0.3M, +2.6M], not clear;
    ...``."""
    plans = [s for s in f.stresses if is_rollout_plan(f.kinds.get(s, ()))]
    if len(f.in_force) != 1 or not plans:
        return ""
    current = f.in_force[0]
    better = {c.policy: c.better for c in f.rollouts}
    chosen = {p: better.get(p, plans[0] if len(plans) == 1 else "") for p in policies if p != current}
    profit = f.values[f.values.metric == DECISION_METRIC]
    pairs = {}
    for p, plan in chosen.items():
        wide = profit[profit.shock == plan].pivot_table(index="replication", columns="policy", values="value")
        if plan and {p, current} <= set(wide.columns):
            both = wide[[p, current]].dropna().to_numpy()
            if both.size:
                pairs[p] = (plan, *read_pairs(both[:, 0] - both[:, 1], float(np.abs(both).max(initial=0.0))))
    if not pairs:
        return ""
    # A policy's plan is the better of several on the means: the family holds every plan it was picked from.
    tests = sum(1 for _, d, flat in pairs.values() if d.size >= MIN_REPLICATIONS and not flat)
    family = tests * len(plans)
    same_plan = len({plan for plan, _, _ in pairs.values()}) == 1
    said = []
    for p, (plan, d, flat) in pairs.items():
        mean = float(d.mean())
        low, high = (np.nan, np.nan) if flat else t_interval(d, 1 - (1 - CONFIDENCE) / max(family, 1))
        interval = difference_interval(DECISION_METRIC, low, high, beside=mean)
        interval = interval or (f"({no_spread_words(mean, d.size)})" if flat else "")
        where = "" if same_plan else f" rolled out as {q(plan)}"
        said.append(
            f"{q(p)}{where} {difference_beside(DECISION_METRIC, mean, low, high)} {interval}".rstrip()
            + _verdict(low, high)
        )
    picked = ", the better plan on the means" if len(plans) > 1 else ""
    one = f", rolled out as {q(next(iter(pairs.values()))[0])}{picked}" if same_plan else ""
    over = [counted(n, *w) for n, w in ((tests, ("policy", "policies")), (len(plans), ("plan",))) if n > 1]
    # Whether to switch at all is its own question: its family is the plans and policies it was asked of, not the
    # stresses the ranking's intervals are adjusted over (a VP read both beside each other and asked which held).
    adjusted = (
        f"; Bonferroni-adjusted over the {' and '.join(over)}, not over the stresses as the ranking's intervals are: "
        "whether to switch at all is one question"
        if family > 1
        else "; not adjusted over the stresses as the ranking's intervals are: whether to switch at all is one question"
        if tests
        else ""  # no interval to adjust (too few replications, or no spread)
    )
    return (
        f"Against staying with {q(current)}, the model in force{one}, profit over the run: {'; '.join(said)} (paired, "
        f"same seeds{adjusted})."
    )


def _verdict(low: float, high: float) -> str:
    """``, a clear loss`` or ``, a clear gain`` where the interval ``[low, high]`` excludes 0, ``, not clear``
    where it includes it, "" where there is none: said in words, as a VP had read "-15.7M [-25.2M, -6.2M]" beside
    the ranking's "not clear" and could not tell which held."""
    return f", {words}" if (words := clear_words(low, high)) else ""


def safer_pick(
    policy: str, in_force: list[str], clear: bool, q: Callable[[str], str], noun: str = "the safer rollout"
) -> str:
    """How the stress answer opens on its safer pick: "``policy`` is the safer rollout", or, its lead not clear,
    "On the means, ``policy`` looks the safer rollout" (``noun``: what it is the safer of); the model in force,
    which is not rolled out, is the one to stay with ("Staying with ``policy``, the model in force, is safer", or
    "On the means, staying with ... looks safer": a stress trial's answer had "unstructured is the safer
    rollout")."""
    if policy in in_force:
        who = f"staying with {q(policy)}, the model in force,"
        return f"S{who[1:]} is safer" if clear else f"On the means, {who} looks safer"
    return f"{q(policy)} is {noun}" if clear else f"On the means, {q(policy)} looks {noun}"


def rollouts_pick(f: Findings, safe: str, q: Callable[[str], str]) -> str:
    """The sentence on the rollout stresses alone where their pick (least maximum regret among them) is not
    ``safe``, the whole suite's; else "". The other stresses run each model from the first quarter, which a
    switch next quarter cannot have: a stress trial's answer named the whole suite's pick "the safer rollout"
    where another policy made more profit under every rollout."""
    worlds = [s for s in f.rollout_stresses if s not in f.inert and s not in f.same_as]
    if not worlds:
        return ""
    try:
        ranking = stress_regret(f.values[f.values.shock.isin(worlds)])
    except ValueError:  # no rollout with a replication every policy finished
        return ""
    t, pick = ranking.table, ranking.robust
    if pick == safe or safe not in t.index:
        return ""
    shortfall = t.at[pick, "max_regret"]
    stays = (
        "it has the best profit under every one"
        if shortfall <= 0
        else f"its profit stays within {money(shortfall)} of the best policy's under each "
        f"(under {q(str(t.at[pick, 'max_regret_world']))} at most)"
    )
    # The model in force is not rolled out: staying with it is the pick (a reviewer's suite where it beat them).
    safer = (
        f"staying with {q(pick)}, the model in force, is safer"
        if pick in f.in_force
        else f"{q(pick)} is the safer rollout"
    )
    others = (
        "the other stresses run"
        if len(worlds) < len(f.stresses) - len(f.inert) - len(f.same_as) - 1
        else "the run without a stress runs"
    )
    return (
        f"Over the rollouts alone ({joined([q(w) for w in worlds])}: a switch from the model in force, where "
        f"{others} each model from the first quarter), {safer} on the means: {stays}, while {q(safe)} falls up "
        f"to {money(t.at[safe, 'max_regret'])} behind (under {q(str(t.at[safe, 'max_regret_world']))})."
    )
