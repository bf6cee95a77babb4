"""Which rollout plan costs a policy less: the paired difference between two rollout stresses of a stress test.

A plan is a stress of rollouts alone (``suite.is_rollout_plan``): big-bang,
phased over some quarters, warm or cold. Replication r of every plan has the
same seed (common random numbers), so two plans are compared by their paired
difference per replication, with its 95% t interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.experiment.stats import read_pairs, t_interval


@dataclass(frozen=True)
class RolloutChoice:
    """Which rollout plan costs a policy less: the paired difference of ``metric`` between two rollout stresses.

    better, worse: the stresses; diff, low, high: mean of ``x(better) - x(worse)`` over replications with its
    95% t interval (positive: ``better`` keeps more); clear: the interval excludes 0. constant: the difference
    is the same in every replication (round-off aside), which is no test (no interval), as in ``covsim compare``.
    """

    policy: str
    better: str
    worse: str
    diff: float
    low: float
    high: float
    n: int  # the replications paired
    constant: bool = False
    rolled_from: str = ""  # the model in force both plans start from (``Stress.rolled_from``)

    @property
    def clear(self) -> bool:
        return bool(self.low > 0)


def rollout_choices(
    values: pd.DataFrame,
    rollouts: list[str],
    metric: str,
    inert: dict[str, list[str]] | None = None,
    rolled_from: dict[str, str] | None = None,
) -> list[RolloutChoice]:
    """For each policy, the best of the ``rollouts`` stresses (plans) on ``metric`` against the next best, paired;
    of those that change its runs (``inert``, per policy: :func:`inert_by_policy`), as a rollout of the model a
    policy is is no plan for it. Plans are ranked only against plans from the same model in force
    (``rolled_from``, per plan): which model is in force is no choice (a stress trial's suite had one plan from
    ``unstructured`` "lead" one from ``random_books``)."""
    origin = rolled_from or {}
    out = []
    for start in dict.fromkeys(origin.get(s, "") for s in rollouts):
        group = [s for s in rollouts if origin.get(s, "") == start]
        r = values[(values.metric == metric) & values.shock.isin(group)] if len(group) > 1 else values[:0]
        for policy, g in r.groupby("policy", sort=False):
            g = g[~g.shock.isin((inert or {}).get(str(policy), []))]
            wide = g.pivot_table(index="replication", columns="shock", values="value").dropna()
            if wide.shape[1] < 2 or wide.empty:
                continue
            order = wide.mean().sort_values(ascending=False).index
            pair = wide[[order[0], order[1]]].to_numpy()
            d, flat = read_pairs(pair[:, 0] - pair[:, 1], float(np.abs(pair).max()))
            lo, hi = (np.nan, np.nan) if flat else t_interval(d)
            mean = float(d.mean())
            out.append(RolloutChoice(str(policy), str(order[0]), str(order[1]), mean, lo, hi, d.size, flat, start))
    return out
