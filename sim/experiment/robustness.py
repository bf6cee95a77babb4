"""Robustness of policies across worlds: mean, worst case and regret (pure functions).

A *world* is a design point of an experiment (a sampled setting of the
uncertain parameters) or a stress of a stress test. For a metric where more
is better, with ``v[w, p]`` policy p's mean over replications in world w:

- mean: the average of ``v[w, p]`` over the worlds;
- worst case: ``min_w v[w, p]``;
- regret: ``r[w, p] = max_q v[w, q] - v[w, p]``, how far p falls short of the
  best policy in that world (0 where it is the best);
- maximum regret: ``max_w r[w, p]``; the **minimax-regret** policy has the
  smallest. It is the robust choice of decision making under deep
  uncertainty (Savage 1951, "The theory of statistical decision", Journal of
  the American Statistical Association 46(253):55-67): whatever world comes,
  it never falls far behind what the best choice for that world would have
  given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def regret(wide: pd.DataFrame) -> pd.DataFrame:
    """Regret of each policy (column) in each world (row) of ``wide``, a table of means where more is better."""
    return (-wide).add(wide.max(axis=1), axis=0)  # max - x, so a best policy's regret is 0.0, not -0.0


@dataclass(frozen=True)
class Ranking:
    """Policies ranked by robustness on one metric across worlds.

    table: one row per policy (index) with ``mean``, ``worst`` (worst case),
    ``worst_world``, ``mean_regret``, ``max_regret``, ``max_regret_world`` and
    ``best_in`` (worlds where it is the best), sorted by maximum regret, then mean.
    """

    table: pd.DataFrame
    worlds: int

    @property
    def robust(self) -> str:
        """The minimax-regret policy."""
        return str(self.table.index[0])

    @property
    def best_mean(self) -> str:
        return str(self.table["mean"].idxmax())

    @property
    def best_worst_case(self) -> str:
        return str(self.table["worst"].idxmax())


def rank(wide: pd.DataFrame) -> Ranking:
    """Rank the policies (columns) of ``wide`` (worlds x policies, means where more is better; rows with a
    missing value are left out) by maximum regret, then mean."""
    wide = wide.dropna()
    if wide.empty or wide.shape[1] < 1:
        raise ValueError("no world has a value for every policy")
    r = regret(wide)
    best = r.to_numpy() == 0.0
    table = pd.DataFrame(
        {
            "mean": wide.mean(),
            "worst": wide.min(),
            "worst_world": wide.idxmin(),
            "mean_regret": r.mean(),
            "max_regret": r.max(),
            "max_regret_world": r.idxmax(),
            "best_in": pd.Series(best.sum(axis=0), index=wide.columns),
        }
    )
    order = np.lexsort((-table["mean"].to_numpy(), table["max_regret"].to_numpy()))
    return Ranking(table.iloc[order], len(wide))
