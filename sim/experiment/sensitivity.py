"""Sensitivity of sampled designs: Sobol' indices (sobol designs), Spearman rank correlations (lhs designs), and
the share of the variance across a design's points that is its replications' own spread; of each policy, and of
each policy's paired difference from the baseline (:func:`with_differences`).

Each is computed per policy and metric (docs/experiments.md, Statistics).
Under common random numbers replication r has the same seed at every point,
but the draws a seed gives change with the factors (more leads draw other
arrivals; another team size leaves other seats): what is left of a point's
mean beyond the factors' effects moves from point to point. Rank correlations
of the point means rest on it; the Sobol' indices read one half of the
replications against the other, so that it does not bias them
(:func:`_sobol`). :func:`noise_shares` says how large it is.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from sim.experiment.stats import BOOTSTRAP_MIN_REPLICATIONS, CONFIDENCE, residual_variance

#: The bootstrap resamples of a Sobol' design's rows behind each index's interval.
SOBOL_RESAMPLES = 999


def sobol_indices(values: pd.DataFrame, points: pd.DataFrame, factors: list[str], seed: int) -> pd.DataFrame:
    """First-order (Saltelli et al. 2010) and total (Jansen 1999) Sobol' indices, with bootstrap CIs.

    Computed per policy and metric on the design points of a Saltelli design
    (blocks A, B and AB_i): with one replication on its runs' values; with two
    or more, on the means of each half of the replications, read against each
    other (:func:`_sobol`). The intervals are NaN for a base sample of fewer
    than ``BOOTSTRAP_MIN_REPLICATIONS`` rows. A (policy, metric) whose design is
    incomplete (a failed run), whose points do not vary, or whose halves show no
    variance of the factors' own has none.
    """
    values = values if "replication" in values else values.assign(replication=0)
    values = values.merge(points[["point", "block", "row"]], on="point")
    rows = []
    d = len(factors)
    needed = ["A", "B", *[f"AB{i}" for i in range(d)]]
    for (policy, metric), g in values.groupby(["policy", "metric"], sort=True):
        replications = sorted(g["replication"].unique())
        half = len(replications) // 2
        halves = [replications[:half], replications[half:]] if half else [replications]
        tables = [g[g.replication.isin(h)].pivot_table(index="row", columns="block", values="value") for h in halves]
        if any(b not in t.columns for t in tables for b in needed) or any(t[needed].isna().any().any() for t in tables):
            continue  # an incomplete design (failed runs): no indices rather than wrong ones
        if len({len(t) for t in tables}) > 1:
            continue
        f_a = np.stack([t["A"].to_numpy() for t in tables])
        f_b = np.stack([t["B"].to_numpy() for t in tables])
        f_ab = np.stack([np.stack([t[f"AB{i}"].to_numpy() for t in tables]) for i in range(d)])
        if np.var(np.r_[f_a.ravel(), f_b.ravel()]) == 0:
            continue
        point = _sobol(f_a, f_b, f_ab)
        if not np.isfinite(point).all():
            continue  # no variance of the factors' own between the halves: nothing to divide

        def statistic(
            sample: np.ndarray, f_a: np.ndarray = f_a, f_b: np.ndarray = f_b, f_ab: np.ndarray = f_ab
        ) -> np.ndarray:
            return _sobol(f_a[:, sample], f_b[:, sample], f_ab[..., sample])

        if f_a.shape[1] < BOOTSTRAP_MIN_REPLICATIONS:
            # A bootstrap of so few rows covers less than it says (as of so few replications); at 2 rows it has 3
            # distinct resamples, and its "intervals" had come out of zero width.
            low = high = np.full(2 * d, np.nan)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # scipy's SobolResult.bootstrap takes no generator, so its intervals changed from run to run:
                # the same BCa bootstrap over the design's rows, drawn from the experiment's seed.
                low, high = stats.bootstrap(
                    [np.arange(f_a.shape[1])],
                    statistic=statistic,
                    method="BCa",
                    n_resamples=SOBOL_RESAMPLES,
                    confidence_level=CONFIDENCE,
                    vectorized=False,
                    rng=np.random.default_rng(seed),
                ).confidence_interval
        for i, factor in enumerate(factors):
            rows.append(
                {
                    "policy": policy,
                    "metric": metric,
                    "factor": factor,
                    "first_order": float(point[i]),
                    "first_low": float(low[i]),
                    "first_high": float(high[i]),
                    "total": float(point[d + i]),
                    "total_low": float(low[d + i]),
                    "total_high": float(high[d + i]),
                }
            )
    return pd.DataFrame(rows)


def _sobol(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray) -> np.ndarray:
    """First-order then total indices of each factor from the Saltelli blocks, of shapes (h, n), (h, n) and
    (d, h, n): h = 1, the runs' values (one replication), or h = 2, the means of two halves of the replications.

    With one: the estimators scipy.stats.sobol_indices uses by default,
    Saltelli et al. (2010) Table 2 (b) ``mean(f_B (f_ABi - f_A)) / V`` and, for
    the total index, (f) (Jansen 1999) ``mean((f_A - f_ABi)^2) / 2V``, V the
    variance over blocks A and B; as scipy does, the mean of f over A and B is
    first taken off every block (Sobol' & Levitan 1999): the first-order
    estimator is not invariant to a constant added to f, and a metric far from
    0 relative to its spread (revenue, customers) gave first-order indices of 3
    to 10 for a factor that explained most of it.

    With two halves, each factor read from one half against the other: under
    common random numbers B and AB_i run on the same seeds with factor i at the
    same value, so the part of a run's value its seed gives, which changes with
    a factor that changes the draws (demand), is shared by the two, and the
    first-order estimator credited its variance to that factor (a researcher's
    first-order index of demand on a paired profit, 0.88, was 0.32 read across
    seeds). The halves' seeds are apart, so that part averages out of the
    products: ``f_B`` of one half times ``f_ABi - f_A`` of the other (and the
    reverse, averaged), ``(f_A - f_ABi)`` of one half times that of the other,
    and ``V`` the covariance of the halves over A and B, each half less its own
    mean over A and B (a replication's constant, shared by its points, is none
    of the factors'). They estimate the indices of the mean response, not of
    one seed's.
    """
    if f_a.shape[0] == 1:
        centre = np.mean([f_a, f_b])
        f_a, f_b, f_ab = f_a - centre, f_b - centre, f_ab - centre
        var = np.var([f_a, f_b], axis=(0, -1))
        first = np.mean(f_b * (f_ab - f_a), axis=-1) / var
        total = 0.5 * np.mean((f_a - f_ab) ** 2, axis=-1) / var
        return np.r_[np.ravel(first), np.ravel(total)]
    centre = np.concatenate([f_a, f_b], axis=1).mean(axis=1, keepdims=True)  # each half's own
    a, b, ab = f_a - centre, f_b - centre, f_ab - centre
    var = float(np.mean(np.concatenate([a[0] * a[1], b[0] * b[1]])))
    if var <= 0:
        return np.full(2 * f_ab.shape[0], np.nan)
    first = 0.5 * (np.mean(b[0] * (ab[:, 1] - a[1]), axis=-1) + np.mean(b[1] * (ab[:, 0] - a[0]), axis=-1)) / var
    total = 0.5 * np.mean((a[0] - ab[:, 0]) * (a[1] - ab[:, 1]), axis=-1) / var
    return np.r_[first, total]


def rank_correlations(values: pd.DataFrame, points: pd.DataFrame, factors: list[str]) -> pd.DataFrame:
    """Spearman rank correlation of each factor with each metric (Latin hypercube designs)."""
    means = values.groupby(["point", "policy", "metric"], as_index=False)["value"].mean().merge(points, on="point")
    rows = []
    for (policy, metric), g in means.groupby(["policy", "metric"], sort=True):
        for factor in factors:
            x, y = g[factor].to_numpy(dtype=float), g["value"].to_numpy(dtype=float)
            ok = np.isfinite(x) & np.isfinite(y)
            if ok.sum() < 3 or np.all(y[ok] == y[ok][0]):
                continue
            rho, p = stats.spearmanr(x[ok], y[ok])
            rows.append({"policy": policy, "metric": metric, "factor": factor, "spearman": float(rho), "p": float(p)})
    return pd.DataFrame(rows)


def noise_shares(values: pd.DataFrame) -> pd.DataFrame:
    """Per policy and metric: the share of the variance of the replication means across the design's points that
    is the replications' own spread, ``noise_share`` (NaN with one replication, or points that do not vary).

    With R replications at each of P points, ``y[p, r]``: each replication's
    constant part (its seed's, shared by every point under common random
    numbers, and so no part of the points' spread) is taken off first, as the
    Morris noise floor does (``stats.residual_variance``, ``s2``), and a point's
    mean has ``s2 / R``; the share is that over the variance of the point means
    (``ddof = 1``): an estimate, above 1 where the point means spread no more
    than the noise alone would make them. Points with a failed run are left out.
    """
    rows = []
    for (policy, metric), g in values.groupby(["policy", "metric"], sort=True):
        y = g.pivot_table(index="point", columns="replication", values="value").dropna().to_numpy(dtype=float)
        p, r = y.shape
        share = float("nan")
        if p >= 2 and r >= 2 and (spread := float(np.var(y.mean(axis=1), ddof=1))) > 0:
            share = residual_variance(y) / r / spread
        rows.append({"policy": policy, "metric": metric, "noise_share": share})
    return pd.DataFrame(rows, columns=["policy", "metric", "noise_share"])


def with_differences(values: pd.DataFrame, policies: list[str], baseline: str) -> pd.DataFrame:
    """``values`` (one per point, policy, replication and metric) and, for each policy of ``policies`` but
    ``baseline``, its paired difference from the baseline as a policy named ``"<policy> - <baseline>"`` (each
    replication's two runs, on the same seed; none where either failed). A researcher's question is how the
    factors move the choice between policies, which each policy's own indices do not say (Morris screens the
    same differences)."""
    if baseline not in set(values.policy) or len(policies) < 2:
        return values
    wide = values.pivot_table(index=["point", "replication", "metric"], columns="policy", values="value")
    parts = [values]
    for p in policies:
        if p != baseline and p in wide.columns:
            d = (wide[p] - wide[baseline]).dropna().rename("value").reset_index()
            parts.append(d.assign(policy=f"{p} - {baseline}")[list(values.columns)])
    return pd.concat(parts, ignore_index=True)
