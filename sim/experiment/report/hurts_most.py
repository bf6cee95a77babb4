"""The stress answer's sentences on what stresses do to profit: the stress that hurts most, the stress and policy
with the largest loss of profit among the stresses that roll no model out, with every policy's relative impact under
it and how sure the loss is; and a gain a stress gives by the seats it leaves empty (definitions in
``sim.experiment.stress`` and docs/stress-testing.md)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.experiment.stats import CONFIDENCE, t_interval
from sim.experiment.stress import DECISION_METRIC, Findings
from sim.experiment.stress_sources import money_parts, where_it_went
from sim.format import counted, difference_interval, joined, money, pct


def hurts_most(f: Findings, profit: pd.DataFrame, policies: list[str], q: Callable[[str], str]) -> str:
    """``The stress that hurts most is X (profit ...)``, or that no stress lowers profit, from the paired profit
    impacts ``profit`` (``f.impacts`` of the decision metric with pairs); "" when every stress rolls a model out.
    A rollout's impact is against the policy in place from the first quarter, which no rollout can have (a VP's
    one-policy suite had opened "the stress that hurts most is phased", and a trial's "big_bang_plus_quits", most
    of whose -13.8% was the rollout's): what a rollout costs is the rollout plan's and against-staying's to say,
    what other shocks add to it the on-top sentence's."""
    # A stress that repeats another's runs is that stress again: not a pair of its own in the family.
    profit = profit[~profit.shock.isin([*f.rollout_stresses, *f.same_as])]
    if profit.empty:
        return ""
    # By the profit it costs: stresses that start in other quarters act over other spans, so their relative
    # impacts (each of the unshocked profit over its own quarters) do not rank them.
    worst = profit.loc[profit["impact"].astype(float).fillna(np.inf).idxmin()]
    by_policy = profit[profit.shock == worst.shock].set_index("policy")
    each = ", ".join(
        f"{pct(by_policy.at[p, 'relative'])} for {q(p)}" + (" (a gain)" if by_policy.at[p, "relative"] > 0 else "")
        for p in policies
        if p in by_policy.index
    )
    gain = seats_saved(f, profit, q)
    if not worst.impact < 0:
        said = f"No stress lowers profit on average: the least favourable, {q(str(worst.shock))}, gives {each}."
        return f"{said} {gain}".strip()
    # Picked as the worst of every (stress, policy) pair that is a test, so judged at the Bonferroni level
    # over them: on its own 95% interval the worst of 20 pairs with no true effect looked a clear loss in about
    # one suite in six (a researcher's audit). A pair with no spread (a stress that changed nothing) is none.
    pairs = int((profit["high"].astype(float) - profit["low"].astype(float) > 0).sum())
    d = f.draws
    x = d[(d.shock == worst.shock) & (d.policy == worst.policy) & (d.metric == DECISION_METRIC)]["d"]
    high = t_interval(x.to_numpy(dtype=float), 1 - (1 - CONFIDENCE) / max(pairs, 1))[1]
    adjusted = (
        f", Bonferroni-adjusted over the {pairs} stress and policy pairs it is the worst of," if pairs > 1 else ""
    )
    if not np.isfinite(worst.high):
        unsure = f"; with {counted(int(worst.n), 'replication')} there is no interval to say how sure"
    elif high < 0:
        unsure = ""
    else:
        # Every replication a loss is said beside it: a VP read "not clearly a loss" where each of 5 lost 1-3M.
        # "Not clearly a loss" read as doubt that it was one; it is the replications that are too few to say.
        every = ", though it fell in every one of them" if (x < 0).all() else ""
        # The table's interval is the pair's alone: a VP read "not shown beyond the noise" beside a table's
        # [-2.8M, -0.5M] as a contradiction.
        alone = (
            f" (the report's impact table gives this pair alone "
            f"{difference_interval(DECISION_METRIC, worst.low, worst.high)}"
            f", which excludes 0; picked as the worst of {pairs}, the loss is held to the wider one)"
            if adjusted and worst.high < 0
            else ""
        )
        unsure = (
            f"; the paired 95% interval of {q(str(worst.policy))}'s change{adjusted} includes 0{alone}: at "
            f"{counted(x.size, 'replication')} the loss is not shown beyond the noise{every} (more replications "
            "narrow the interval)"
        )
    went = where_it_went(f.sources, f.impacts, str(worst.shock), str(worst.policy), q)
    return " ".join(
        x for x in (f"The stress that hurts most is {q(str(worst.shock))} (profit {each}){unsure}.", went, gain) if x
    )


#: The kinds of shock that leave seats empty, whose pay the model then saves.
EMPTYING = frozenset({"rep_attrition", "hiring_freeze"})


def seats_saved(f: Findings, profit: pd.DataFrame, q: Callable[[str], str]) -> str:
    """``Under X, P's profit rises on the means (+1.2%): ...``: of the stresses that leave seats empty (``EMPTYING``),
    the largest profit gain on the means (``profit``: as :func:`hurts_most` reads it) that the pay saved on those
    seats makes, its cost of sales falling by more than the gain, with what the model leaves out of a vacancy's
    cost, then every other such gain by its stress, policy and share; "" for none. A VP saw a policy gain under rep attrition and a hiring freeze, and no answer said why."""
    emptying = [s for s, kinds in f.kinds.items() if EMPTYING & set(kinds)]
    gains = profit[profit.shock.isin(emptying) & (profit["impact"].astype(float) > 0)]
    saved = []  # (row, recurring revenue's change, cost of sales' change) of each gain the pay saved makes
    for _, r in gains.sort_values("impact", ascending=False).iterrows():
        spend, _, cost = money_parts(f.sources, f.impacts, str(r.shock), str(r.policy))
        if np.isfinite(cost) and -cost > float(r.impact):
            saved.append((r, float(spend.sum()), cost))
    if not saved:
        return ""
    (r, revenue, cost), rest = saved[0], saved[1:]
    # Every such gain is said, the largest in full: an analyst's attrition_30 +1.0% had stood unexplained in the
    # table beside the hiring freeze's, which alone was said, and read as "attrition is free".
    also = [f"{q(str(x.shock))} for {q(str(x.policy))} ({pct(x.relative)})" for x, *_ in rest]
    return (
        f"Under {q(str(r.shock))}, {q(str(r.policy))}'s profit rises on the means ({pct(r.relative)}): its cost "
        f"of sales falls {money(-cost)}, the pay of the seats the stress leaves empty, while its recurring "
        f"revenue {'falls ' + money(-revenue) if revenue < 0 else 'rises ' + money(revenue)}; the model "
        "counts no cost of a vacancy beyond the pay it saves and the sales it loses (no recruiting, severance or "
        "managers' time [A]), so such a gain is what it leaves out, not a reason to lose reps."
        + (f" The same pay saved lifts profit under {joined(also)}." if also else "")
    )
