"""Morris elementary-effects screening: one-at-a-time trajectories on a p-level grid, and mu*, mu and sigma.

Morris (1991), "Factorial Sampling Plans for Preliminary Computational
Experiments", Technometrics 33(2):161-174: r trajectories, each of k + 1 points
of the unit cube [0, 1]^k on the grid {0, 1/(p - 1), ..., 1}. A trajectory
starts at a random grid point and moves one factor at a time, in a random
order, by Delta = p / (2 (p - 1)) (up or down, whichever stays in the cube),
so that each of its k steps gives one elementary effect of the factor moved:

    EE_i = (y(x + Delta e_i) - y(x)) / Delta

(a step down from x to x - Delta e_i gives (y(x) - y(x - Delta e_i)) / Delta:
the same quantity). Per factor, over the r trajectories: mu* = mean |EE|
(Campolongo, Cariboni & Saltelli 2007, "An effective screening design for
sensitivity analysis of large models", Environmental Modelling & Software
22(10):1509-1518), mu = mean EE (Morris 1991) and sigma = sd of EE (Morris
1991; n - 1 in the denominator). Factors are ranked by mu*: a large mu* is an
influential factor, a large sigma one whose effect depends on where the others
are (non-linear or interacting).

Units: the unit cube stands for each factor's [low, high] (``sim.experiment.design``
maps u to low + u (high - low)), so an elementary effect is in units of the
output per whole range of the factor: the change in y a straight line through
the two points would give over [low, high]. mu*, mu and sigma are in the same
units, comparable across factors. A factor rounded to whole numbers does not
always step by Delta of its range (low 1, high 5, p = 4: 1 -> 3.67 runs as
1 -> 4, 0.75 of the range): its effect is divided by the step it made.

With an even p, every start level l (of 0..p-1) can move by p/2 levels up
(l < p/2) or down (l >= p/2) and stay on the grid; the start is uniform over
the p^k grid points. This is Morris' construction B* = (J x* + (Delta/2)
((2B - J) D* + J)) P* with x* uniform on the lower p/2 levels, D* random
signs and P* a random order.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import t as t_dist

from sim.experiment.stats import residual_variance, t_cdf, t_density

#: Columns of the screening table (``morris.csv``).
COLUMNS = (
    "factor",
    "metric",
    "comparison",
    "mu_star",
    "mu",
    "sigma",
    "rank",
    "effects",
    "noise_floor",
    "replication_min",
    "replication_max",
    "mu_p",
)
#: The share of designs of pure noise in which no factor's mu* passes its noise floor (:func:`noise_floor`).
NOISE_CONFIDENCE = 0.95
#: Draws of the noise floor's null distribution per factor, at most [A] (20,000: some 100 of them above the 99.5th
#: percentile that ten factors ask for), fewer for a design of many trajectories (at most 4 million normal draws a
#: factor), and their seed (fixed: a report is reproducible to the digit).
NOISE_SIMULATIONS = 20_000
NOISE_DRAWS = 4_000_000
NOISE_SEED = 20260102


def delta(levels: int) -> float:
    """Morris' step in the unit cube, Delta = p / (2 (p - 1)): 2/3 for p = 4, 1 for p = 2."""
    if levels < 2 or levels % 2:
        raise ValueError(f"levels: {levels} must be an even number of at least 2")
    return levels / (2 * (levels - 1))


def distinct_trajectories(factors: int, levels: int) -> int:
    """How many different Morris trajectories a grid has: p^k start points times k! orders of the moves."""
    return levels**factors * math.factorial(factors)


def trajectory_levels(factors: int, trajectories: int, levels: int, seed: int) -> np.ndarray:
    """Grid levels (integers 0..p-1) of ``trajectories`` Morris trajectories, shape (r, k + 1, k).

    Drawn from ``numpy.random.default_rng(seed)`` only (no global random state):
    the same arguments give the same trajectories. Point j + 1 of a trajectory
    differs from point j in one factor, by exactly p/2 levels (Delta in the
    unit cube); every factor moves once per trajectory. No two are the same: a
    trajectory drawn again is redrawn (a repeat adds runs but no information, and
    counts one path twice in mu*), so r may not exceed :func:`distinct_trajectories`.
    """
    if factors < 1 or trajectories < 1:
        raise ValueError("factors and trajectories must be at least 1")
    delta(levels)  # checks that p is even
    if trajectories > distinct_trajectories(factors, levels):
        raise ValueError(
            f"{trajectories} trajectories, but a {levels}-level grid of {factors} factors has only "
            f"{distinct_trajectories(factors, levels)} different ones"
        )
    half = levels // 2
    rng = np.random.default_rng(seed)
    out = np.empty((trajectories, factors + 1, factors), dtype=np.int64)
    seen: set[bytes] = set()
    t = 0
    while t < trajectories:
        base = rng.integers(0, levels - half, size=factors)  # x*: a level from which +p/2 stays on the grid
        up = rng.integers(0, 2, size=factors).astype(bool)  # D*: the direction of each factor's move
        order = rng.permutation(factors)  # P*: the order in which the factors move
        point = np.where(up, base, base + half)
        out[t, 0] = point
        for j, i in enumerate(order):
            point = point.copy()
            point[i] += half if up[i] else -half
            out[t, j + 1] = point
        key = out[t].tobytes()
        if key not in seen:
            seen.add(key)
            t += 1
    return out


def trajectories(factors: int, trajectories: int, levels: int, seed: int) -> np.ndarray:
    """The trajectories of :func:`trajectory_levels` in the unit cube (level / (p - 1)), shape (r, k + 1, k)."""
    return trajectory_levels(factors, trajectories, levels, seed) / (levels - 1)


def elementary_effects(unit: np.ndarray, y: np.ndarray, levels: int, positions: np.ndarray | None = None) -> np.ndarray:
    """Elementary effects EE[t, i] of factor i on trajectory t, shape (r, k) (and ``y``'s further axes).

    ``unit``: trajectories in the unit cube, shape (r, k + 1, k) (as
    :func:`trajectories` gives); ``y``: the output at each point, shape
    (r, k + 1), or (r, k + 1, R) for R outputs at each point (one per
    replication, say: effects (r, k, R)). EE = (y after - y before) / Delta for
    a step up, and (y before - y after) / Delta for a step down, in units of y
    per whole range of the factor. ``positions``: the points as they ran, in
    the unit cube (``design.morris_positions``: an integer factor's values
    rounded), shape of ``unit``; given, each effect is divided by the step the
    factor really made (signed), not Delta, and a step that rounding took to
    nothing has no effect (NaN). An effect whose two outputs are not both
    finite (a failed run) is NaN.
    """
    unit = np.asarray(unit, dtype=float)
    y = np.asarray(y, dtype=float)
    r, steps, k = unit.shape
    if steps != k + 1 or y.shape[:2] != (r, k + 1):
        raise ValueError(f"shapes: trajectories {unit.shape} and outputs {y.shape} do not match (r, k + 1, k)")
    d = delta(levels)
    step = np.diff(unit, axis=1)  # (r, k steps, k factors)
    count = (step != 0).sum(axis=2)
    bad = np.argwhere(count != 1)
    if bad.size:
        t0, j0 = bad[0]
        raise ValueError(f"trajectory {t0}, step {j0}: {count[t0, j0]} factors move; a Morris step moves one")
    moved = np.argmax(step != 0, axis=2)  # the factor each step moves
    t, j = np.indices((r, k))
    if positions is None:
        made = np.sign(step[t, j, moved]) * d
    else:
        made = np.diff(np.asarray(positions, dtype=float), axis=1)[t, j, moved]
    made = np.where(made != 0, made, np.nan).reshape((*made.shape, *(1,) * (y.ndim - 2)))
    out = np.full((r, k, *y.shape[2:]), np.nan)
    out[t, moved] = np.diff(y, axis=1) / made
    return out


def summarise(effects: np.ndarray) -> dict[str, np.ndarray]:
    """Per factor (column) of ``effects`` (r, k): mu_star = mean |EE|, mu = mean EE, sigma = sd of EE, effects = n.

    NaN effects (failed runs) are left out; sigma uses n - 1 and is NaN below
    two effects, mu and mu_star below one.
    """
    effects = np.asarray(effects, dtype=float)
    ok = np.isfinite(effects)
    n = ok.sum(axis=0)
    filled = np.where(ok, effects, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = filled.sum(axis=0) / n
        mu_star = np.abs(filled).sum(axis=0) / n
        sigma = np.sqrt(np.where(ok, (effects - mu) ** 2, 0.0).sum(axis=0) / (n - 1))
    mu = np.where(n >= 1, mu, np.nan)
    mu_star = np.where(n >= 1, mu_star, np.nan)
    sigma = np.where(n >= 2, sigma, np.nan)
    return {"mu_star": mu_star, "mu": mu, "sigma": sigma, "effects": n}


def noise_floor(effects: np.ndarray) -> np.ndarray:
    """Per factor, the mu* above which it is distinguishable from replication noise: noise alone keeps every
    factor's mu* at or below its floor in 95% of designs. ``effects``: elementary effects per replication, shape
    (r, k, R) (NaN: missing), whose mean over replications is the effect the screening shows; the floors, shape
    (k,), are NaN for a factor without two replications of one trajectory's effect.

    Replication R runs on one seed at every point, so its noise can move a factor's effect alike on every
    trajectory: per factor, an effect is e_tR = mu_t + a_R + b_tR, a_R (sd sigma_a) shared by the trajectories
    of replication R and b_tR (sd sigma_b) its own. The mean over replications, whose mean |.| over trajectories
    is mu*, is then mu_t + c + d_t, with c = a-bar + b-bar (sd sigma_1 / sqrt(R), sigma_1^2 = sigma_a^2 +
    sigma_b^2 / r) and d_t = b-bar_t - b-bar (the trajectories' own part, summing to 0), independent of each
    other. The two-way table of effects (trajectory x replication) estimates each part apart: s_1, the sd over
    replications of their mean over trajectories (R - 1 degrees of freedom), and s_2, the residual sd of the
    two-way layout ((r - 1)(R - 1)). With no effect, c / (s_1 / sqrt(R)) is Student t with R - 1 degrees of
    freedom and d / (s_2 / sqrt(R)) a normal vector over the chi root of its degrees: the floor is the
    quantile of M = mean_t |s_1 / sqrt(R) T + s_2 / sqrt(R) D_t / sqrt(V)| at the level 0.95^(1/k) of Sidak
    (1967, "Rectangular confidence regions for the means of multivariate normal distributions", JASA
    62(318):626-633) over the k factors with a floor (not one whose effect is 0 in every run). Its distribution is
    integrated over T exactly and over (D, V) by ``NOISE_SIMULATIONS`` draws from ``NOISE_SEED`` (:func:`_floor`):
    T's long tail (Cauchy's, at 2
    replications) no longer rests on the few draws past the quantile. With no noise of the trajectories' own
    (s_2 = 0), it is Student t's quantile itself. Only a factor's trajectories with every replication of its
    effect take part. The shared part has R - 1 degrees of freedom, so with 2 replications its floor is wide
    (docs/experiments.md, which also says what the floor assumes: normal noise, a seed moving every trajectory
    alike)."""
    e = np.asarray(effects, dtype=float)
    r, k, reps = e.shape
    complete = np.isfinite(e).all(axis=-1)  # (r, k): trajectories with every replication of the effect
    usable = complete.any(axis=0) if reps >= 2 else np.zeros(k, dtype=bool)
    out = np.full(k, np.nan)
    if not usable.any():
        return out
    sims = int(np.clip(NOISE_DRAWS // r, 200, NOISE_SIMULATIONS))
    # A factor whose effect is 0 in every run cannot pass its floor (0): it is no comparison the level allows for.
    moved = np.array([bool(np.any(e[complete[:, i], i, :] != 0.0)) for i in range(k)])
    level = NOISE_CONFIDENCE ** (1.0 / max(int((usable & moved).sum()), 1))
    t_quantile = float(t_dist.ppf((1.0 + level) / 2.0, reps - 1))
    for i in np.flatnonzero(usable):
        x = e[complete[:, i], i, :]  # (trajectories, replications)
        n = x.shape[0]
        s1 = x.mean(axis=0).std(ddof=1)
        s2 = 0.0
        if n >= 2:
            s2 = np.sqrt(residual_variance(x))
        if s2 <= 1e-12 * s1:  # no noise of the trajectories' own: mu* is |c|, whose quantile is Student t's
            out[i] = s1 * t_quantile / np.sqrt(reps)
        else:
            kinks, means = _null_draws(int(i), n, reps, sims)
            if s1 <= 1e-12 * s2:  # no shared noise (a paired difference's may be 0 but for round-off): M is d's
                out[i] = s2 * np.quantile(np.abs(kinks).mean(axis=1), level) / np.sqrt(reps)
            else:
                out[i] = s1 * _floor(kinks, means, s2 / s1, reps - 1, level, t_quantile) / np.sqrt(reps)
    return out


def _floor(kinks: np.ndarray, means: np.ndarray, ratio: float, df: int, level: float, t_quantile: float) -> float:
    """The ``level`` quantile of M / s_1 = mean_t |T + ratio D_t / sqrt(V)| (``noise_floor``), T Student t on
    ``df`` degrees of freedom: the m with E_(D,V)[P(mean_t |T - ratio K_t| <= m)] = level, ``kinks``
    K = -D / sqrt(V) of each draw, ascending (they sum to 0), and ``means`` the mean |K_j - K_t| over t at
    each kink K_j, the draws ordered by the larger of the first's and the last's.

    Given a draw, h(T) = mean_t |T - ratio K_t| is convex and piecewise linear, and |T| itself beyond the
    kinks (slope -1 before the first, +1 past the last), so {h <= m} is an interval whose ends follow from h
    at the kinks (``ratio`` x ``means``), and its probability is exact in Student t's distribution function:
    F(m) - F(-m) for every draw whose h at its first and last kinks is at most m. The average over draws
    rises with m, and lies between level at m = Student t's quantile (h >= |T|, by Jensen's inequality) and
    past it at that quantile plus the largest mean |K| x ratio (h <= |T| + mean |K|); its root is found to
    1e-7 of the quantile (far within the draws' own error) by Newton's method, with its slope from Student t's
    density."""
    k, h = ratio * kinks, ratio * means
    edge = np.maximum(h[:, 0], h[:, -1])  # ascending (the draws' order)
    rows = np.arange(k.shape[0])
    last = k.shape[1] - 1

    def excess(m: float) -> tuple[float, float]:
        """The average probability less ``level`` at ``m``, and its slope in m."""
        near = slice(int(np.searchsorted(edge, m, side="right")), None)  # draws whose interval ends among kinks
        kn, hn, r = k[near], h[near], rows[: k.shape[0] - near.start]
        inside = hn <= m
        lo_j = np.argmax(inside, axis=1)  # the first kink inside (h convex: those inside are consecutive)
        hi_j = last - np.argmax(inside[:, ::-1], axis=1)  # and the last
        # Between the last kink inside and the next, and the first and the one before, h is linear.
        nxt, prv = np.minimum(hi_j + 1, last), np.maximum(lo_j - 1, 0)
        rise_k, rise_h = kn[r, nxt] - kn[r, hi_j], hn[r, nxt] - hn[r, hi_j]
        fall_k, fall_h = kn[r, lo_j] - kn[r, prv], hn[r, prv] - hn[r, lo_j]
        past = np.divide(rise_k, rise_h, out=np.ones_like(rise_k), where=rise_h > 0)
        before = np.divide(fall_k, fall_h, out=np.ones_like(fall_k), where=fall_h > 0)
        high = kn[r, hi_j] + (m - hn[r, hi_j]) * past
        low = kn[r, lo_j] - (m - hn[r, lo_j]) * before
        some = inside.any(axis=1)
        p = np.where(some, t_cdf(high, df) - t_cdf(low, df), 0.0)
        slope = np.where(some, t_density(high, df) * past + t_density(low, df) * before, 0.0)
        value = (near.start * (2.0 * float(t_cdf(np.array([m]), df)[0]) - 1.0) + p.sum()) / k.shape[0] - level
        return float(value), float((near.start * 2.0 * float(t_density(m, df)) + slope.sum()) / k.shape[0])

    # Newton's method from the quantile, kept within the bracket (bisection where a step would leave it): the
    # average rises, and in the tail it is concave, where Newton's steps approach the root from below.
    low, high = t_quantile, t_quantile + float(np.abs(k).mean(axis=1).max())
    m, tolerance = t_quantile, 1e-7 * t_quantile
    for _ in range(200):
        value, slope = excess(m)
        if value >= 0.0 and m == t_quantile:  # every draw's kinks within the quantile: the floor is the quantile
            return t_quantile
        low, high = (m, high) if value < 0.0 else (low, m)
        step = m - value / slope if slope > 0.0 else math.nan
        step = step if low < step < high else 0.5 * (low + high)
        if abs(step - m) <= tolerance or high - low <= tolerance:
            return float(step)
        m = step
    return float(m)


@functools.lru_cache(maxsize=32)
def _null_draws(factor: int, trajectories: int, replications: int, sims: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`noise_floor`'s draws of the trajectories' own noise for one factor, standardised, as
    :func:`_floor` reads them: each draw's kinks K = -D_t / sqrt(V), ascending (sims, trajectories), and the
    mean |K_j - K_t| over t at each, the draws ordered by the larger of that mean at the first and last kinks
    (at least 2 trajectories: with one there is no own noise, and no draw). Each factor has its own generator, so
    its draws do not depend on the other factors'. Cached, read-only: a report asks for the same shapes for every
    metric and comparison."""
    rng = np.random.default_rng([NOISE_SEED, factor])
    df = (trajectories - 1) * (replications - 1)
    z = rng.standard_normal((sims, trajectories))
    kinks = np.sort(-(z - z.mean(axis=1, keepdims=True)) / np.sqrt(rng.chisquare(df, (sims, 1)) / df), axis=1)
    # Mean |K_j - K_t| over t from prefix sums: (j K_j - S_j + (S_n - S_j) - (n - j) K_j) / n, S_j the sum of
    # the j kinks below K_j.
    n = trajectories
    below = np.cumsum(kinks, axis=1) - kinks
    j = np.arange(n)
    means = (j * kinks - below + (kinks.sum(axis=1, keepdims=True) - below - kinks) - (n - 1 - j) * kinks) / n
    order = np.argsort(np.maximum(means[:, 0], means[:, -1]), kind="stable")
    kinks, means = kinks[order], means[order]
    kinks.flags.writeable = means.flags.writeable = False
    return kinks, means


def ranks(mu_star: np.ndarray) -> np.ndarray:
    """Rank of each factor by mu* (1 = largest; ties keep the factors' order; NaN last)."""
    key = np.where(np.isfinite(mu_star), -np.asarray(mu_star, dtype=float), np.inf)
    order = np.argsort(key, kind="stable")
    out = np.empty(len(order), dtype=np.int64)
    out[order] = np.arange(1, len(order) + 1)
    return out


def _mu_p(by_replication: np.ndarray) -> np.ndarray:
    """Per factor (rows of ``by_replication``, its replications' mean effects, NaN: missing), the two-sided p of
    Student's t test of their mean against 0; NaN with fewer than 2 values or all 0, and 0 where every one is the
    same other value (no spread: the clearest case, not one with no test)."""
    out = np.full(by_replication.shape[0], np.nan)
    for i, x in enumerate(by_replication):
        x = x[np.isfinite(x)]
        if x.size < 2 or not x.any():
            continue
        sd = float(np.std(x, ddof=1))
        out[i] = 2.0 * float(t_dist.sf(abs(float(np.mean(x))) / (sd / np.sqrt(x.size)), x.size - 1)) if sd > 0 else 0.0
    return out


def screening(
    values: pd.DataFrame,
    points: pd.DataFrame,
    unit: np.ndarray,
    factors: Sequence[str],
    levels: int,
    policies: Sequence[str],
    baseline: str,
    positions: np.ndarray | None = None,
) -> pd.DataFrame:
    """The screening table: mu*, mu, sigma and rank per factor, metric and comparison.

    ``values``: one value per (point, policy, replication, metric), the run
    totals of ``sim.experiment.stats.run_values``; ``points``: the design
    points with ``block`` ``T<t>`` (trajectory t) and ``row`` (its step j, point
    j of the trajectory); ``unit``: the trajectories in the unit cube (r, k + 1,
    k). A comparison is a policy (y = its run value) or ``policy - baseline``
    (y = the paired difference, common random numbers); a step's effect is the
    mean over replications of each replication's effect, from its own two runs
    (with every run finished, the effect of the points' replication means);
    ``positions``: the points as they ran (:func:`elementary_effects`).
    ``noise_floor``: each factor's, from the effects of each replication
    (:func:`noise_floor`); ``replication_min`` and ``replication_max``: the
    smallest and largest of the replications' mean effects over the
    trajectories (one seed far from the others, or effects of both signs, is
    what the floor's assumptions miss); ``mu_p``: the two-sided p of Student's t test that the mean effect is 0,
    on the replications' mean effects (R - 1 degrees of freedom; NaN with fewer than 2 replications or none
    apart): a test of mu over these trajectories, where mu* is a size with a floor (a researcher's factor of one
    sign in every replication, p = 0.007, sat within its mu* floor). Columns: :data:`COLUMNS`.
    """
    unit = np.asarray(unit, dtype=float)
    r, steps, _k = unit.shape
    where = {
        int(p.point): (int(str(p.block)[1:]), int(p.row))
        for p in points.itertuples()
        if str(p.block).startswith("T") and str(p.block)[1:].isdigit()
    }
    rows: list[dict[str, object]] = []
    if values.empty:
        return pd.DataFrame(rows, columns=list(COLUMNS))
    wide = values.pivot_table(index=["metric", "point", "replication"], columns="policy", values="value", dropna=False)
    present = [p for p in policies if p in wide.columns]
    series: list[tuple[str, str, pd.Series]] = []  # (metric, comparison, value per point and replication)
    for metric in wide.index.get_level_values("metric").unique():
        m = wide.xs(metric, level="metric")
        for p in present:
            series.append((str(metric), p, m[p]))
        if baseline in present:
            for p in present:
                if p != baseline:
                    series.append((str(metric), f"{p} - {baseline}", m[p] - m[baseline]))
    for metric, comparison, each in series:
        by_replication = each.unstack("replication")
        y = np.full((r, steps, by_replication.shape[1]), np.nan)
        for point, value in by_replication.iterrows():
            t, j = where.get(int(point), (-1, -1))
            if 0 <= t < r and 0 <= j < steps:
                y[t, j] = value.to_numpy(dtype=float)
        # Each replication's effect from its own two runs (one seed), then their mean: a failed run leaves its
        # replication out of that step alone, where a mean of each point's replications would set one
        # replication's seed against another's. With every run finished, the effect of the points' means.
        per_replication = elementary_effects(unit, y, levels, positions)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a step with no replication: a mean of nothing
            summary = summarise(np.nanmean(per_replication, axis=2))
            by_replication = np.nanmean(per_replication, axis=0)  # (k, R): each replication's mean effect
            lowest, highest = np.nanmin(by_replication, axis=1), np.nanmax(by_replication, axis=1)
        floor = noise_floor(per_replication)
        mu_p = _mu_p(by_replication)
        rank = ranks(summary["mu_star"])
        for i, factor in enumerate(factors):
            rows.append(
                {
                    "factor": factor,
                    "metric": metric,
                    "comparison": comparison,
                    "mu_star": float(summary["mu_star"][i]),
                    "mu": float(summary["mu"][i]),
                    "sigma": float(summary["sigma"][i]),
                    "rank": int(rank[i]),
                    "effects": int(summary["effects"][i]),
                    "noise_floor": float(floor[i]),
                    "replication_min": float(lowest[i]),
                    "replication_max": float(highest[i]),
                    "mu_p": float(mu_p[i]),
                }
            )
    return pd.DataFrame(rows, columns=list(COLUMNS))
