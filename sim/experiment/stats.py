"""Statistics over replications: means with t and bootstrap CIs, paired differences.

Every formula is named in docs/experiments.md. The unit of analysis is one
run's whole-run value of a metric for segment ``all`` (see
``sim.metrics.run_totals``): quarters within a run are not independent.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from functools import cache

import numpy as np
import pandas as pd
from scipy import stats

from sim.catalogue import CATALOGUE
from sim.errors import InputError
from sim.metrics import run_totals
from sim.policies.hints import did_you_mean

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20260101  # fixed, so a report is reproducible to the digit


def absent_metrics(metrics: Sequence[str], results: pd.DataFrame) -> list[str]:
    """Of ``metrics``, those no run of ``results`` (tidy results) has a value of (a role's, a line's or a
    channel's the runs do not have); none before any run finished."""
    if results.empty:
        return []
    present = set(results.loc[results["value"].notna(), "metric"].unique())  # a row of NaN is no value
    return [m for m in metrics if m not in present]


def run_values(results: pd.DataFrame, metrics: list[str] | tuple[str, ...], segment: str = "all") -> pd.DataFrame:
    """One value per (point, policy, replication, metric): the run total of segment ``segment``, of the metrics the
    runs have (a metric of the catalogue that no run recorded, of a line or a role the scenario lacks, has no row);
    InputError for a name that is no metric of the catalogue (a notebook's misspelt "proft" had given an empty
    frame, unsaid), for ``metrics`` given as one str, and for ``results`` that are no batch's."""
    if isinstance(metrics, str):  # iterated, a name is its letters: "unknown metric 'p'", six times over
        raise InputError([f"metrics: a list of metric names is needed, not the str {metrics!r} (write [{metrics!r}])"])
    if not isinstance(results, pd.DataFrame) or "point" not in results.columns:
        raise InputError(
            [
                "run_values: results has no column 'point': a batch's results are needed (batch.store.results()); "
                "a run's RunResult.metrics is summed over its quarters by sim.metrics.run_totals"
            ]
        )
    if unknown := [m for m in metrics if m not in CATALOGUE]:
        raise InputError([f"metrics: unknown metric {m!r}{did_you_mean(m, list(CATALOGUE))}" for m in unknown])
    r = results[(results.segment == segment) & results.metric.isin(metrics)]
    # Looked for only where nothing was found, not on every call: a notebook's misspelt "enterprize" had given an
    # empty frame, unsaid.
    if r.empty and not results.empty and segment not in (segments := results["segment"].unique()):
        raise InputError([f"segment: no segment {segment!r} in these results{did_you_mean(segment, sorted(segments))}"])
    totals = run_totals(r, by=("point", "policy", "replication"))
    return totals.drop(columns="segment").sort_values(["point", "policy", "metric", "replication"], ignore_index=True)


#: The fewest replications an interval or a p-value is given for. With two, a 95% t interval is the mean
#: +- 12.7 standard errors (t with one degree of freedom) and a bootstrap has two values to resample: an
#: "interval" that tells nothing, so the tables show none and the report says why.
MIN_REPLICATIONS = 3


def t_interval(
    x: np.ndarray, confidence: float = CONFIDENCE, limits: tuple[float | None, float | None] = (None, None)
) -> tuple[float, float]:
    """mean +- t_{(1+c)/2, n-1} s / sqrt(n), cut to ``limits`` (the values the mean can take: a metric's
    ``Metric.limits``); NaN with fewer than ``MIN_REPLICATIONS`` values.

    Cutting keeps the interval's coverage, since the true mean lies within the
    limits: a share's interval of [-0.02, 0.31] says no more than [0, 0.31]
    (Mandelkern, M. (2002), "Setting confidence intervals for bounded
    parameters", Statistical Science 17(2)).
    """
    x = x[np.isfinite(x)]
    if x.size < MIN_REPLICATIONS:
        return float("nan"), float("nan")
    half = half_width(float(x.std(ddof=1)), x.size, confidence)
    lowest, highest = limits
    low, high = float(x.mean() - half), float(x.mean() + half)
    return (low if lowest is None else max(low, lowest)), (high if highest is None else min(high, highest))


def half_width(sd: float, n: int, confidence: float = CONFIDENCE) -> float:
    """The half-width of :func:`t_interval` for ``n`` values of standard deviation ``sd``:
    ``t_{(1+c)/2, n-1} sd / sqrt(n)`` (where only a summary of the values is at hand)."""
    return _t_quantile((1 + confidence) / 2, n - 1) * sd / np.sqrt(n)


def difference_limits(metric: str) -> tuple[float | None, float | None]:
    """The values a difference of two runs' ``metric`` can take: -(highest - lowest) to +(highest - lowest) when
    both limits are known (a share's difference in [-1, 1]), else unbounded."""
    lowest, highest = metric_limits(metric)
    if lowest is None or highest is None:
        return None, None
    return lowest - highest, highest - lowest


def metric_limits(metric: str) -> tuple[float | None, float | None]:
    """The values a run's ``metric`` can take (``sim.catalogue.Metric.limits``; none known: unbounded)."""
    entry = CATALOGUE.get(metric)
    return (None, None) if entry is None else entry.limits


@cache
def _t_quantile(q: float, df: int) -> float:
    # scipy's ppf costs about 0.4 ms a call, and a comparison asks for the same few quantiles again and again.
    return float(stats.t.ppf(q, df))


def t_cdf(x: np.ndarray, df: int) -> np.ndarray:
    """Student t's distribution function on ``df`` (a whole number >= 1) degrees of freedom at ``x``, in closed
    form (Abramowitz, M. and Stegun, I. A. (1964), *Handbook of Mathematical Functions*, 26.7.3 and 26.7.4):
    scipy's ``stdtr`` to about 1e-15 (1e-11 on 1 degree of freedom), five times as fast from 3 degrees on,
    where it sums an incomplete beta function."""
    theta = np.arctan(x / np.sqrt(df))
    sin, cos2 = np.sin(theta), np.cos(theta) ** 2
    term = np.cos(theta) if df % 2 else np.ones_like(theta)
    total = term.copy() if df > 1 else np.zeros_like(theta)
    for k in range(3 if df % 2 else 2, df - 1, 2):  # the series' next term: its last times cos^2 (k - 1) / k
        term = term * cos2 * ((k - 1) / k)
        total += term
    return 0.5 + (theta + sin * total) / np.pi if df % 2 else 0.5 + 0.5 * sin * total


def t_density(x: np.ndarray | float, df: int) -> np.ndarray:
    """Student t's density on ``df`` degrees of freedom at ``x``: Gamma((df + 1) / 2) / (sqrt(df pi) Gamma(df /
    2)) (1 + x^2 / df)^(-(df + 1) / 2), without scipy's per-call cost."""
    scale = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    return scale * (1.0 + np.square(x) / df) ** (-(df + 1) / 2)


#: The fewest replications a bootstrap interval is given for [A]. Below it a 95% BCa interval of the mean covers
#: the true mean less often than 95%, and less often than the t interval beside it: in 4,000 samples each of n
#: normal values, 84%, 90%, 92% and 92% at n = 5, 10, 15 and 20 (the t interval 95%); from 30, within about a
#: point of the t interval (94% and 95%; docs/experiments.md, Statistics).
BOOTSTRAP_MIN_REPLICATIONS = 30


def bootstrap_interval(x: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """BCa bootstrap interval of the mean (percentile when BCa is undefined); NaN below
    ``BOOTSTRAP_MIN_REPLICATIONS`` values."""
    x = x[np.isfinite(x)]
    if x.size < BOOTSTRAP_MIN_REPLICATIONS:
        return float("nan"), float("nan")
    if np.all(x == x[0]):
        return float(x[0]), float(x[0])
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ci = stats.bootstrap(
                (x,),
                np.mean,
                confidence_level=confidence,
                n_resamples=BOOTSTRAP_RESAMPLES,
                method=method,
                rng=np.random.default_rng(BOOTSTRAP_SEED),
            ).confidence_interval
        if np.isfinite(ci.low) and np.isfinite(ci.high):
            return float(ci.low), float(ci.high)
    return float("nan"), float("nan")


def describe(values: pd.DataFrame, bootstrap: bool = True) -> pd.DataFrame:
    """Per (point, policy, metric): n, mean, sd, t CI (cut to the metric's limits), ``constant`` (at least
    ``MIN_REPLICATIONS`` values, the same in every replication but for round-off (:func:`no_spread`): the t
    interval is then the mean itself, which says nothing of the runs not made, so the tables say it in words) and
    (``bootstrap``) bootstrap CI (a mean of resampled values, within the limits of itself).

    The bootstrap takes most of the time (a few milliseconds a metric): the
    terminal's tables and the page, which show t intervals only, leave it out
    (no ``boot_low`` and ``boot_high`` columns). InputError where ``values`` is not :func:`run_values`' frame
    (:func:`check_values`).
    """
    check_values(values, "describe")
    rows = []
    for (point, policy, metric), g in values.groupby(["point", "policy", "metric"], sort=True):
        x = g["value"].to_numpy(dtype=float)
        finite = x[np.isfinite(x)]
        t_lo, t_hi = t_interval(x, limits=metric_limits(metric))
        row = {
            "point": point,
            "policy": policy,
            "metric": metric,
            "n": finite.size,
            "mean": finite.mean() if finite.size else np.nan,
            "sd": finite.std(ddof=1) if finite.size > 1 else np.nan,
            "t_low": t_lo,
            "t_high": t_hi,
            "constant": finite.size >= MIN_REPLICATIONS and no_spread(finite, float(np.abs(finite).max())),
        }
        if bootstrap:
            row["boot_low"], row["boot_high"] = bootstrap_interval(x)
        rows.append(row)
    return pd.DataFrame(rows)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1)."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    order = np.argsort(p[ok])
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[ok][order])
    values = np.empty(m)
    values[order] = np.minimum(adjusted, 1.0)
    out[ok] = values
    return out


#: Differences of a comparison whose range is at most this share of the largest magnitude of the values compared
#: have no spread [A]: a t-test is undefined for them. Round-off of sums over quarters and segments leaves
#: differences of a few units in the 16th digit (5.5e-17 on a share of 0.3) where two policies are identical;
#: 1e-9 is far above that and far below a difference anyone would act on (one currency unit in a billion).
NO_SPREAD_RTOL = 1e-9


def no_spread(d: np.ndarray, scale: float) -> bool:
    """Whether differences ``d`` have no spread beyond round-off: their range is at most ``NO_SPREAD_RTOL``
    times ``scale``, the largest magnitude of the values they are differences of."""
    return bool(d.size and np.ptp(d) <= NO_SPREAD_RTOL * scale)


def read_pairs(d: np.ndarray, scale: float) -> tuple[np.ndarray, bool]:
    """Paired differences ``d`` as a test reads them, and whether they are no test for want of spread
    (``constant``: at least ``MIN_REPLICATIONS`` of them, the same in every replication but for round-off, by
    :func:`no_spread` against ``scale``); all within round-off of 0, they come back exactly 0 (the two sides
    identical)."""
    constant = d.size >= MIN_REPLICATIONS and no_spread(d, scale)
    if constant and no_spread(np.r_[d, 0.0], scale):
        return np.zeros_like(d), True
    return d, constant


#: The columns of :func:`run_values`' frame, which the paired comparisons read.
VALUE_COLUMNS = ("point", "policy", "replication", "metric", "value")


def check_values(values: pd.DataFrame, caller: str) -> None:
    """InputError naming ``caller`` where ``values`` is not a frame of :func:`run_values`' columns with one value per
    point, policy, replication and metric (a batch's tidy results, by quarter and segment, had been read by
    ``describe`` as 24 replications of a quarter's value: plausible, and wrong)."""
    if not isinstance(values, pd.DataFrame):
        had = "is no DataFrame"
    elif missing := [c for c in VALUE_COLUMNS if c not in values.columns]:
        had = f"has no column {', '.join(map(repr, missing))}"
    elif values.duplicated(list(VALUE_COLUMNS[:-1])).any():
        had = "holds more than one value per point, policy, replication and metric"
    else:
        return
    raise InputError([f"{caller}: values {had}: run_values(results, metrics) gives them, from a batch's results"])


def paired_differences(values: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """:func:`paired_against` for a caller's own values (the Python API): InputError where ``values`` is not a frame
    of :func:`run_values`' columns (:func:`check_values`), or ``baseline`` is no policy of it (a notebook's
    misspelt baseline had given an empty frame, read as no differences)."""
    check_values(values, "paired_differences")
    policies = sorted(set(values["policy"]))
    if not isinstance(baseline, str):
        raise InputError(
            [f"paired_differences: baseline: one policy's name is needed, not {type(baseline).__name__} {baseline!r}"]
        )
    if policies and baseline not in policies:
        raise InputError(
            [
                f"paired_differences: baseline {baseline!r} is no policy of these values"
                f"{did_you_mean(baseline, policies)} (theirs: {', '.join(policies)})"
            ]
        )
    return paired_against(values, baseline)


def paired_against(values: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Policy minus baseline, paired by (point, replication) (common random numbers); empty where ``baseline`` has
    no value (the report's own calls, on a point or a metric whose baseline runs are pending or failed).

    Per (point, policy, metric): mean difference, the standard deviation of the
    differences (``sd``, NaN where there is no test), its t CI, the paired t-test
    p-value, the Holm-adjusted p-value over the comparisons of the same point
    that have a p-value (``family``, their number: one with fewer than
    ``MIN_REPLICATIONS`` pairs is no test), and a Bonferroni-adjusted
    (simultaneous) CI at the same family size. A comparison with enough pairs
    whose differences have no spread (:func:`no_spread`: the same in every
    replication, round-off aside) is no test either: ``constant`` is True, its
    p-values and intervals are NaN, it is not in the family, and differences
    that are all 0 within round-off (the two policies identical on the metric)
    have a mean of exactly 0.
    Policies in name order, then points and metrics ascending; every (point,
    metric) of ``values`` has a row for every policy, ``n`` 0 where no
    replication has a finite value for both. ``values`` holds one value per
    (point, policy, metric, replication), as :func:`run_values` gives them.
    """
    policies = sorted(set(values["policy"]))
    if baseline not in policies:
        return pd.DataFrame()
    others = [p for p in policies if p != baseline]
    # Each value keyed by its cell (point, metric) and replication, so that a policy's values meet the
    # baseline's by one intersection of sorted keys: pandas' pivot and groupby took tens of milliseconds.
    points, point_code = np.unique(values["point"].to_numpy(), return_inverse=True)
    metrics, metric_code = np.unique(values["metric"].to_numpy(dtype=object), return_inverse=True)
    replications, replication_code = np.unique(values["replication"].to_numpy(), return_inverse=True)
    cells, width = points.size * metrics.size, replications.size
    key = (point_code * metrics.size + metric_code) * width + replication_code
    value, policy = values["value"].to_numpy(dtype=float), values["policy"].to_numpy(dtype=object)

    def keyed(name: str) -> tuple[np.ndarray, np.ndarray]:
        mine = policy == name
        k, v = key[mine], value[mine]
        order = np.argsort(k, kind="stable")
        return k[order], v[order]

    base_key, base_value = keyed(baseline)
    differences: list[np.ndarray] = []  # per row: policy-major, then cells; the finite differences, by replication
    scales: list[np.ndarray] = []  # the larger magnitude of the two values of each difference
    for name in others:
        k, v = keyed(name)
        common, mine, theirs = np.intersect1d(k, base_key, assume_unique=True, return_indices=True)
        with np.errstate(invalid="ignore"):  # inf - inf: not finite, left out below as any NaN
            d = v[mine] - base_value[theirs]
        finite = np.isfinite(d)
        bounds = np.searchsorted(common[finite] // width, np.arange(cells + 1))[1:-1]
        differences += np.split(d[finite], bounds)
        scales += np.split(np.maximum(np.abs(v[mine]), np.abs(base_value[theirs]))[finite], bounds)
    rows = len(differences)
    n = np.array([d.size for d in differences], dtype=np.int64)
    read = [read_pairs(d, float(s.max(initial=0.0))) for d, s in zip(differences, scales, strict=True)]
    differences = [d for d, _ in read]
    constant = np.array([flat for _, flat in read], dtype=bool)
    p = np.full(rows, np.nan)
    varied = [i for i, d in enumerate(differences) if d.size >= MIN_REPLICATIONS and not constant[i]]
    # One t-test per sample size over all rows of that size (rows of a 2-d array reduce as 1-d arrays do).
    for size in sorted({differences[i].size for i in varied}):
        same = [i for i in varied if differences[i].size == size]
        p[same] = stats.ttest_1samp(np.stack([differences[i] for i in same]), 0.0, axis=1).pvalue
    point_of = np.tile(np.repeat(points, metrics.size), len(others))
    # The family of a design point: its comparisons that are tests (enough pairs for a p-value), the same m
    # for Holm's p-values and the Bonferroni intervals; a comparison with too few pairs has neither.
    p_holm, family = np.empty(rows), np.zeros(rows, dtype=np.int64)
    for point in points:
        at = point_of == point
        p_holm[at] = holm(p[at])
        family[at] = np.isfinite(p[at]).sum()
    tested = [d if not same else d[:0] for d, same in zip(differences, constant, strict=True)]  # no interval
    # A difference of two values within a metric's limits lies within their span either way (+-1 for a share).
    span = [difference_limits(str(metrics[i % cells % metrics.size])) for i in range(rows)]
    interval = [t_interval(d, limits=lim) for d, lim in zip(tested, span, strict=True)]
    adjusted = [
        t_interval(d, 1 - (1 - CONFIDENCE) / max(int(m), 1), lim)
        for d, m, lim in zip(tested, family, span, strict=True)
    ]
    return pd.DataFrame(
        {
            "point": point_of,
            "policy": np.repeat(others, cells).tolist(),
            "metric": np.tile(metrics, points.size * len(others)).tolist(),
            "n": n,
            "mean_diff": [d.mean() if d.size else np.nan for d in differences],
            "sd": [float(d.std(ddof=1)) if d.size >= MIN_REPLICATIONS else np.nan for d in tested],
            "low": [lo for lo, _ in interval],
            "high": [hi for _, hi in interval],
            "p": p,
            "p_holm": p_holm,
            "low_adj": [lo for lo, _ in adjusted],
            "high_adj": [hi for _, hi in adjusted],
            "family": family,
            "constant": constant,
        }
    )


#: What a paired-differences table adds when a Holm p-value and its Bonferroni interval disagree (``holm_alone``).
HOLM_ALONE = (
    "Where a Holm p is below 0.05 but the Bonferroni interval includes 0, the two corrections disagree at the edge: "
    "Holm's, which steps down the family, is less strict than Bonferroni's intervals; a difference is called clear "
    "by its interval."
)


def holm_alone(paired: pd.DataFrame) -> bool:
    """Whether a comparison of ``paired`` (:func:`paired_differences`) has a Holm p below 0.05 and a Bonferroni
    interval that includes 0 (which a reader takes for a contradiction: ``HOLM_ALONE`` says why it is none)."""
    if paired.empty:
        return False
    edge = (paired["p_holm"] < 1 - CONFIDENCE) & (paired["low_adj"] <= 0) & (paired["high_adj"] >= 0)
    return bool(edge.any())


def point_differences(values: pd.DataFrame, reference: int) -> pd.DataFrame:
    """One policy's design points against design point ``reference``, paired by replication (replication r
    has the same seed at every point: common random numbers): :func:`paired_differences` with each point in
    the place of a policy, so the family of the Holm p and the Bonferroni interval is every comparison made
    (the other points x metrics that have a p-value). Rows: ``point`` (the one compared with ``reference``),
    metric, n, mean_diff, low, high, p, p_holm, low_adj, high_adj, family, constant. ``values`` as :func:`run_values` gives them, of one policy."""
    if values["policy"].nunique() > 1:
        raise ValueError("point_differences compares the design points of one policy")
    d = paired_against(values.assign(policy=values["point"].astype(str), point=0), str(reference))
    if d.empty:
        return d
    d = d.drop(columns="point").rename(columns={"policy": "point"}).astype({"point": np.int64})
    return d.sort_values("point", kind="stable", ignore_index=True)  # 2 before 10, not as the names sort


def residual_variance(y: np.ndarray) -> float:
    """The variance left in ``y`` (rows by replications, two or more of each) once each row's and each
    replication's mean are taken off: ``sum e^2 / ((n - 1)(r - 1))`` of ``e = y - ybar[row] - ybar[rep] + ybar``,
    the noise of a replication within a row beyond the constant its seed gives every row (common random numbers).
    The Morris noise floor and a sampled design's noise share read it."""
    n, r = y.shape
    residual = y - y.mean(axis=1, keepdims=True) - y.mean(axis=0) + y.mean()
    return float((residual**2).sum() / ((n - 1) * (r - 1)))
