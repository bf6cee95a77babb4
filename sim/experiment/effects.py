"""A full factorial's effects on one metric: how each factor moves it under each policy (main effects), and
how it moves each policy's difference from the baseline (the policy x factor interaction).

Each effect is a contrast taken within a replication and then read across the replications. Common random
numbers make a replication a block (every policy at every design point of it meets the same draws), so the
contrasts are paired, and their t interval over the replications assumes nothing about how the runs of one
replication correlate, as a repeated-measures ANOVA's F test would (its sphericity). A factor's level is the
mean over the design points at that level: in a full factorial each level meets every setting of the other
factors once, so the other factors are averaged out alike at every level. The change is from the factor's first
level to its last, as the experiment file lists them; the means at every level are given beside it, so a curve
that turns back between them is seen.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.experiment.stats import CONFIDENCE, MIN_REPLICATIONS, difference_limits, read_pairs, t_interval

#: The columns of :func:`factor_effects`' table.
COLUMNS = ["kind", "factor", "policy", "levels", "by_level", "n", "change", "low", "high", "constant", "family"]


def factor_effects(
    values: pd.DataFrame, points: pd.DataFrame, factors: Sequence[str], baseline: str, metric: str
) -> pd.DataFrame:
    """The effects of each factor of a full factorial on ``metric``, one row per (kind, factor, policy).

    ``values``: one value per (point, policy, replication, metric) (``stats.run_values``); ``points``: the
    design, a ``point`` column and one per factor. A policy with no value of ``metric`` at some point (its runs
    there pending or failed, or the metric undefined) is left out; of the others, only the replications in which
    each has one at every point are used (``n`` of them), so each contrast is of the same runs.

    - ``kind == "main"``, one row per factor and policy: ``by_level``, the policy's mean of ``metric`` at each
      of the factor's ``levels``; ``change``, the mean over replications of (last level - first level).
    - ``kind == "interaction"``, one row per factor and policy other than ``baseline``: ``by_level``, the mean
      difference policy - baseline at each level; ``change``, how much that difference moves from the first
      level to the last (a difference of differences).
    - ``kind == "policy"``, one row per policy other than ``baseline`` (``factor`` empty, ``levels`` ``["all"]``):
      the policy's main effect, its difference from the baseline averaged over every design point within each
      replication, as ``change`` (a researcher's paper reports it; the answer cites the weakest point).

    ``low``/``high``: the change's t interval, Bonferroni-adjusted over the ``family`` of rows of its kind that
    are tests (fewer than 3 replications, or a change the same in every replication, ``constant``, is none);
    NaN where there is no test. Empty where the baseline has no complete replication or no factor has two
    levels."""
    v = values[(values.metric == metric) & np.isfinite(values["value"].to_numpy(dtype=float))]
    wide = v.pivot_table(index="replication", columns=["policy", "point"], values="value", aggfunc="first")
    design = points.set_index("point")
    wide = wide[[c for c in wide.columns if c[1] in design.index]]
    full = [p for p in dict.fromkeys(wide.columns.get_level_values(0)) if wide[p].shape[1] == len(design)]
    wide = wide[full].dropna(how="any") if full else wide.iloc[:0]
    if baseline not in full or wide.empty:
        return pd.DataFrame(columns=COLUMNS)
    others = [p for p in full if p != baseline]
    rows: list[dict[str, object]] = []
    for factor in factors:
        levels = list(dict.fromkeys(design[factor].tolist()))
        if len(levels) < 2:
            continue
        at = [design.index[design[factor] == level].to_list() for level in levels]
        # Per policy, replications x levels: the mean over the level's points in each replication.
        means = {p: np.column_stack([wide[p][pts].to_numpy(dtype=float).mean(axis=1) for pts in at]) for p in full}
        for p in full:
            rows.append(_row("main", factor, p, levels, means[p]))
        for p in others:
            scale = np.maximum(np.abs(means[p]), np.abs(means[baseline]))  # round-off is of the larger side
            rows.append(_row("interaction", factor, p, levels, means[p] - means[baseline], scale))
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    for p in others:  # the policy's main effect: its difference from the baseline, over every point alike
        mine, base = wide[p].to_numpy(dtype=float), wide[baseline].to_numpy(dtype=float)
        scale = np.maximum(np.abs(mine), np.abs(base))
        rows.append(_row("policy", "", p, ["all"], (mine - base).mean(axis=1, keepdims=True), scale, averaged=True))
    return _intervals(pd.DataFrame(rows), metric)


def _row(
    kind: str,
    factor: str,
    policy: str,
    levels: list[object],
    y: np.ndarray,
    scale: np.ndarray | None = None,
    averaged: bool = False,
) -> dict[str, object]:
    """A row of the table from ``y`` (replications x levels); ``scale``: the values ``y`` is differences of,
    which decide whether its change has no spread beyond round-off (``y`` itself where None); ``averaged``: the
    row's figure is ``y``'s one level itself (a policy's main effect), not a change between levels."""
    contrast = y[:, 0] if averaged else y[:, -1] - y[:, 0]
    contrast, constant = read_pairs(contrast, float(np.abs(y if scale is None else scale).max(initial=0.0)))
    return {
        "kind": kind,
        "factor": factor,
        "policy": policy,
        "levels": levels,
        "by_level": y.mean(axis=0).tolist(),
        "n": int(y.shape[0]),
        "change": float(contrast.mean()),
        "contrast": contrast,
        "constant": constant,
    }


def _intervals(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Each row's Bonferroni-adjusted t interval over the tests of its kind (``family``)."""
    table = table.copy()
    limits = difference_limits(metric)
    table["low"], table["high"], table["family"] = np.nan, np.nan, 0
    for _, g in table.groupby("kind", sort=False):
        tests = [i for i in g.index if not table.at[i, "constant"] and g.at[i, "n"] >= MIN_REPLICATIONS]
        for i in tests:
            lo, hi = t_interval(table.at[i, "contrast"], 1 - (1 - CONFIDENCE) / len(tests), limits)
            table.loc[i, ["low", "high"]] = lo, hi
        table.loc[g.index, "family"] = len(tests)
    return table.drop(columns="contrast")[COLUMNS]
