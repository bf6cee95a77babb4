"""What the report says beside a sampled design's sensitivity measures (Sobol' indices, rank correlations): what
they are of and how they read the runs, when to read them as rough, and the replications' own spread under them
(``sim.experiment.sensitivity``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.experiment import stats
from sim.experiment.report.context import ReportContext
from sim.experiment.report.markdown import code, md_table
from sim.experiment.sensitivity import SOBOL_RESAMPLES
from sim.experiment.spec import SOBOL_ADVISED
from sim.format import counted, joined

#: From this share of a metric's variance across the design being its replications' own spread, the report says
#: so beside the sensitivity measures [A] (a researcher's 2-replication Sobol' design: 85% of it for profit, whose
#: first-order index of demand, 1.06, a binned main effect put at about 0.12).
NOISE_SAID = 0.2


def rough(indices: pd.DataFrame, n: int) -> str:
    """``**Read these as rough:** ...`` where the base sample ``n`` is under ``SOBOL_ADVISED`` or the estimates
    break what true indices obey: each in [0, 1], a first-order index no more than its total, a (policy, metric)'s
    first-order indices summing to no more than 1 (a researcher's 1.06 above its total of 0.78, and 1.35 in all,
    had gone unsaid), each said where it happens; "" where none of it holds."""
    # As the table shows them, to two decimals (-0.004 reads -0.00 and is not counted).
    shown = indices.assign(**{k: indices[k].map(lambda v: float(f"{v:.2f}")) for k in ("first_order", "total")})
    first, total = shown["first_order"], shown["total"]
    outside = int(((first < 0) | (first > 1) | (total < 0) | (total > 1)).sum())
    above = int((first > total).sum())
    sums = shown.groupby(["policy", "metric"], sort=False)["first_order"].sum().round(2)
    over = [f"{p}'s {code(str(m))}" for (p, m), v in sums.items() if v > 1]
    rows, broken = f"of the {len(indices)} rows below", []
    if outside:
        broken.append(f"{outside} {rows} {'has' if outside == 1 else 'have'} an index outside [0, 1]")
    if above:
        some = f"{above} {'' if outside else rows + ' '}{'has' if above == 1 else 'have'}"
        broken.append(f"{some} a first-order index above its total")
    if over:
        broken.append(f"the first-order indices of {few(over)} sum to more than 1")
    if not broken and n >= SOBOL_ADVISED:
        return ""
    advised = f"with a base sample of {n} (docs/experiments.md advises {SOBOL_ADVISED} or more)"
    if not broken:
        return f"**Read these as rough:** {advised}, indices are noisy even where they look possible."
    bootstrap = n >= stats.BOOTSTRAP_MIN_REPLICATIONS
    return (
        f"**Read these as rough:** {advised if n < SOBOL_ADVISED else f'with a base sample of {n}'}, "
        f"{'; '.join(broken)}, where no true indices can: "
        f"{'those, and intervals wider than the range,' if bootstrap else 'those'} are the estimators' noise, not "
        "effects. Raise `design.samples` for indices to rank the factors by."
    )


def without_interval(indices: pd.DataFrame, n: int) -> str:
    """What a '-' in an interval column of the Sobol' table means where a base sample of ``n`` rows has intervals:
    some bootstrap resamples gave no index (the halves' shared variance not positive), and the bootstrap gives
    none then (a researcher read the table's least certain indices, with no interval, as its most precise)."""
    if n < stats.BOOTSTRAP_MIN_REPLICATIONS or indices.empty:
        return ""
    lost = int((indices["first_low"].isna() | indices["total_low"].isna()).sum())
    if not lost:
        return ""
    return (
        f"'-' in an interval column ({counted(lost, 'row')}): in some of the {SOBOL_RESAMPLES} bootstrap resamples of "
        "the design's rows the index was undefined (the variance it is a share of was not positive; with several replications, "
        "what their two halves share), or the resamples gave the bootstrap nothing to form an interval from, so "
        "none is given: read such an index as very uncertain, not as precise (more replications, or a larger "
        "`design.samples`)."
    )


def few(names: list[str], most: int = 3) -> str:
    """``names`` in words, the first ``most`` and how many more."""
    return joined(names) if len(names) <= most else f"{', '.join(names[:most])} and {len(names) - most} more"


def noise_said(noise: pd.DataFrame, replications: int, measures: str = "indices") -> str:
    """What the replications' own spread does to the sensitivity ``measures`` (indices or correlations): where it
    is at least ``NOISE_SAID`` of a metric's variance across the design, what it does to them and how many
    replications would bring it below; with one replication, that it cannot be told; else ""."""
    if replications < 2:
        return (
            f"With one replication the replications' own spread cannot be told from the factors' effects: the "
            f"{measures} include it unseen (docs/experiments.md, Statistics)."
        )
    noisy = noise[noise.noise_share >= NOISE_SAID]
    if noisy.empty:
        return ""
    largest = noisy.loc[noisy.noise_share.idxmax()]
    q = float(largest.noise_share)
    # The share is (s2/R) / (V + s2/R): s2/R falls as 1/R, the share more slowly, and most slowly where it is
    # large (a review: 85% at R = 2 is 68% at R = 8, not 21%).
    if q < 1:
        enough = math.ceil(replications * q * (1 - NOISE_SAID) / ((1 - q) * NOISE_SAID))
        need = f"below {NOISE_SAID:.0%} there needs about R = {enough}"
    else:
        need = "it is as large as the points' own spread there: far more are needed"
    # The Sobol' indices read one half of the replications against the other (sensitivity._sobol): the spread
    # does not bias them, it widens them; a rank correlation of the point means has no such reading.
    effect = (
        "The indices read one half of the replications against the other, so that spread is not credited to the "
        "factors, but it makes them noisier than their intervals over the design's rows alone would be"
        if measures == "indices"
        else "The correlations are of the point means, that spread and all (a seed's draws change with the "
        "factors: common random numbers pair the runs, they do not hold their draws alike): a correlation there "
        "rests on that spread as much as on the factors"
    )
    return (
        f"**Replication noise:** in {len(noisy)} of the {noise.noise_share.notna().sum()} (policy, metric) pairs, "
        f"{NOISE_SAID:.0%} or more of the variance of the point means across the design is the replications' own "
        f"spread (the most, {min(q, 1.0):.0%}, for {largest.policy}'s {code(str(largest.metric))}; table below). "
        f"{effect}. More replications shrink it: a point mean's noise variance falls as 1/R, the share more slowly "
        f"(here R = {replications}; {need}, if the rest stays as it is)."
    )


def read_as(replications: int) -> str:
    """How the Sobol' indices read the runs (``sensitivity._sobol``)."""
    if replications < 2:
        return "each design point's run"
    return (
        "the means of one half of the replications at each design point read against the other half's: under "
        "common random numbers a seed's part of a run that changes with a factor would otherwise be credited to it"
    )


def compared(ctx: ReportContext) -> list[str]:
    """What the sensitivity tables are of: each policy, then each other policy's paired difference from the
    baseline (``sensitivity.with_differences``)."""
    others = [f"{p} - {ctx.baseline}" for p in ctx.policies if p != ctx.baseline]
    return [*ctx.policies, *others] if len(ctx.policies) > 1 else list(ctx.policies)


def of_what(ctx: ReportContext) -> str:
    """`` of each policy and of each other policy's paired difference from the baseline (...)`` where there are
    differences (:func:`compared`), else ""."""
    if len(ctx.policies) < 2:
        return ""
    return (
        f", of each policy and of each other's paired difference from the baseline (`policy - {ctx.baseline}`, "
        "each replication's two runs on one seed: how the factors move the choice between them)"
    )


def noise_words(share: float) -> str:
    """A replication noise share in words: ``34%``, ``196% (no spread of the factors' own seen)``, or ``-``."""
    if not np.isfinite(share):
        return "-"
    return f"{share:.0%}" + (" (no spread of the factors' own seen)" if share >= 1 else "")


def noise_table(noise: pd.DataFrame, ctx: ReportContext) -> str:
    """Each (policy, metric)'s share of the variance of its point means that is the replications' own spread."""
    rows = [
        [p, code(m), noise_words(v)]
        for p in compared(ctx)
        for m in ctx.metrics
        for v in noise[(noise.policy == p) & (noise.metric == m)].noise_share
    ]
    return md_table(["policy", "metric", "replication noise (share of the variance across points)"], rows, "llr")


def unestimated(measures: pd.DataFrame, noise: pd.DataFrame, kind: str = "sobol") -> str:
    """A line naming the (comparison, metric) pairs with run values (rows of ``noise``) but no Sobol' indices or
    rank correlations (``kind`` "sobol" or "lhs"), and why, or "": a review found a paired difference's cost of
    sales left out of the table without a word."""
    have = set(zip(measures.policy, measures.metric, strict=True)) if not measures.empty else set()
    left = [f"{p}'s {code(str(m))}" for p, m in zip(noise.policy, noise.metric, strict=True) if (p, m) not in have]
    if not left:
        return ""
    if kind == "sobol":
        return (
            f"Not in the table: {few(left)}, whose indices cannot be estimated (it does not vary across the design, "
            "or its two halves of replications do not vary together: its points' spread is the noise's)."
        )
    return (
        f"Not in the tables: {few(left)}: no rank correlation, for want of spread across the design's points (or "
        "of three points with finished runs)."
    )
