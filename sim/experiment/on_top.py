"""What a stress's other shocks add on top of its rollout: the stress against its rollout plan alone.

A stress of a rollout and other shocks (quits in the rollout's quarter, say) is read, as every stress is,
against the unshocked run: its impact is the rollout's and the other shocks' together. Where the suite also
holds that rollout alone (a plan: a stress whose shocks are exactly the rollout), the paired difference of the
two, replication by replication on the same seeds, is what the other shocks add on top of the rollout: "what
do the quits cost us if they come while we roll out?".

Read from the first quarter any of the stress's shocks acts in: the two runs are the same, number for number,
before it, and the same model runs in both at every quarter (the model in force before the rollout, the
rollout's mix after it), so every quarter compares like with like. Each row answers its own question, as an
impact does: its 95% t interval is not adjusted for the number of rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.experiment.stats import read_pairs, run_values, t_interval
from sim.experiment.suite import Stress, is_rollout_plan, model_in_force
from sim.shocks import ModelRollout

#: The columns of :func:`on_top`.
ON_TOP_COLUMNS = [
    "shock",
    "plan",
    "first",
    "policy",
    "metric",
    "n",
    "plan_mean",
    "diff",
    "low",
    "high",
    "relative",
    "constant",
    "alone",
]


def plans_beneath(suite: Sequence[Stress]) -> dict[str, str]:
    """Per stress of a rollout and other shocks, the suite's plan of that rollout alone, where there is one:
    ``{"big_bang_plus_quits": "big_bang"}``. Rollouts are the same with the same model in force (a parameter
    given at its default is the same model) and the same other settings."""

    def rollout(s: Stress) -> tuple[str, ...]:  # as JSON (a model's params are a dict), the model by its name
        named = (x.model_copy(update={"current": model_in_force(x)}) for x in s.shocks if isinstance(x, ModelRollout))
        return tuple(x.model_dump_json() for x in named)

    rollouts = {s.name: rollout(s) for s in suite}
    plans = {rollouts[s.name]: s.name for s in suite if is_rollout_plan(x.kind for x in s.shocks)}
    return {s.name: plans[r] for s in suite if (r := rollouts[s.name]) and len(r) < len(s.shocks) and r in plans}


def shocks_alone(suite: Sequence[Stress]) -> dict[str, str]:
    """Per stress of :func:`plans_beneath`, the suite's stress of its other shocks alone, with no rollout, where
    there is one: ``{"big_bang_plus_quits": "quits"}`` (its impact beside what they add on top of the rollout says
    whether they cost more or less while it runs)."""

    def others(s: Stress) -> tuple[str, ...]:
        return tuple(x.model_dump_json() for x in s.shocks if not isinstance(x, ModelRollout))

    alone = {others(s): s.name for s in suite if len(others(s)) == len(s.shocks)}
    beneath = plans_beneath(suite)
    return {s.name: alone[others(s)] for s in suite if s.name in beneath and others(s) in alone}


def on_top(tagged: pd.DataFrame, suite: Sequence[Stress], metric: str) -> pd.DataFrame:
    """Per (stress, policy) of :func:`plans_beneath`: the paired difference of ``metric`` (segment ``all``,
    over the quarters from the stress's first shock on: flows summed, stocks at the last) of the stress less its
    plan alone, as ``diff`` (mean) with its 95% t interval ``low``, ``high`` and ``n`` paired replications;
    ``plan_mean`` the plan's mean and ``relative`` the difference over its magnitude. A difference the same in
    every replication, round-off aside (``constant``: the other shocks moved nothing, say), is no test
    (``stats.read_pairs``): no interval. ``first``: the quarter read from; ``alone``: the suite's stress of the
    other shocks alone (:func:`shocks_alone`), or "". ``tagged``: tidy results with ``shock``."""
    rows = []
    wanted = tagged[(tagged.segment == "all") & (tagged.metric == metric)]
    beneath, alone = plans_beneath(suite), shocks_alone(suite)
    for stress in suite:
        plan = beneath.get(stress.name)
        if plan is None:
            continue
        first = min(x.quarter for x in stress.shocks)
        both = wanted[wanted.shock.isin([stress.name, plan]) & (wanted.quarter >= first)]
        if both.empty:
            continue
        values = run_values(both, [metric]).merge(both[["point", "shock"]].drop_duplicates(), on="point")
        wide = values.pivot_table(index=["policy", "replication"], columns="shock", values="value")
        if not {stress.name, plan} <= set(wide.columns):
            continue
        for policy, pairs in wide[[plan, stress.name]].dropna().groupby(level="policy", sort=False):
            x = pairs.to_numpy(dtype=float)
            d, constant = read_pairs(x[:, 1] - x[:, 0], float(np.abs(x).max(initial=0.0)))
            low, high = (np.nan, np.nan) if constant else t_interval(d)
            base, mean = float(x[:, 0].mean()), float(d.mean())
            relative = mean / abs(base) if base else np.nan
            row = [stress.name, plan, first, policy, metric, d.size, base, mean, low, high, relative, constant]
            rows.append([*row, alone.get(stress.name, "")])
    return pd.DataFrame(rows, columns=ON_TOP_COLUMNS)
