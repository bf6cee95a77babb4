"""The report's figures across design points: each factor's response, and the Sobol' indices."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.catalogue import title
from sim.experiment.report.context import ReportContext
from sim.experiment.report.figures import FIGURES, ReportFigure, axis_scale, no_data, panel_grid, save
from sim.experiment.report.markdown import code
from sim.experiment.report.sensitivity_notes import compared, noise_words

#: Headline metrics shown in the factor-response and Sobol' figures.
MAX_RESPONSE_METRICS = 4
#: Bins a sampled design's factor is cut into for its main effect [A]: enough for a shape, each a mean of many points.
MAIN_EFFECT_BINS = 8


def response_figure(ctx: ReportContext, per_point: pd.DataFrame, factor: str, path: Path) -> ReportFigure:
    """How the first headline metrics' per-point means (``per_point``) move with ``factor``, one colour per policy."""
    metrics = ctx.metrics[:MAX_RESPONSE_METRICS]
    fig, axes = panel_grid(len(metrics), width=5.0, height=3.6, max_cols=2)
    xs = ctx.points.set_index("point")[factor]
    numeric = pd.api.types.is_numeric_dtype(xs) and not pd.api.types.is_bool_dtype(xs)
    categories = list(dict.fromkeys(xs.tolist()))
    position = {v: i for i, v in enumerate(categories)}
    kind = ctx.experiment.design.kind
    connect = kind == "grid" and len(ctx.factors) == 1
    several = len(ctx.factors) > 1
    present = [p for p in ctx.policies if p in set(per_point["policy"])]
    # side by side, so that policies' intervals at the same factor value do not hide each other
    span = float(np.ptp(xs.to_numpy(dtype=float))) if numeric and len(xs) > 1 else 1.0
    dodge = 0.012 * span if numeric else 0.12
    offsets = np.linspace(-dodge, dodge, len(present)) if len(present) > 1 else np.zeros(len(present))
    for ax, metric in zip(axes, metrics, strict=True):
        d = per_point[per_point.metric == metric]
        if d.empty or not d["mean"].notna().any():
            no_data(ax)
            ax.set_title(title(metric), fontsize=10)
            continue
        divisor, ylabel = axis_scale(metric, d[["mean", "t_low", "t_high"]].to_numpy(dtype=float).ravel())
        for i, p in enumerate(present):
            g = d[d.policy == p].copy()
            g["x"] = g["point"].map(xs)
            g = g.sort_values("x", key=lambda s: s.map(position) if not numeric else s)
            x = (g["x"] if numeric else g["x"].map(position)).to_numpy(dtype=float) + offsets[i]
            m = g["mean"].to_numpy(dtype=float) / divisor
            if several:
                # Each point's interval would hide the others; the line is the factor's main effect.
                ax.plot(x, m, "o", color=ctx.colours[p], ms=3, alpha=0.35)
                mx, my = main_effect(g["x"], g["mean"] / divisor, numeric, kind)
                mx = (mx if numeric else mx.map(position)).to_numpy(dtype=float) + offsets[i]
                ax.plot(mx, my.to_numpy(dtype=float), "o-", color=ctx.colours[p], ms=6, lw=2, label=p)
                continue
            lo = g["t_low"].to_numpy(dtype=float) / divisor
            hi = g["t_high"].to_numpy(dtype=float) / divisor
            err = np.vstack([np.nan_to_num(m - lo), np.nan_to_num(hi - m)])
            ax.errorbar(
                x, m, yerr=err, fmt="o-" if connect else "o", color=ctx.colours[p], capsize=3, ms=5, lw=1.5, label=p
            )
        if not numeric:
            ax.set_xticks(range(len(categories)), [str(c) for c in categories])
        ax.set_xlabel(factor)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.set_title(title(metric), fontsize=10)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    if axes:
        handles, labels = axes[0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize=8)
    target = next(f for f in ctx.experiment.factors if f.name == factor).target
    shown = "main effect over all points" if several else "mean per design point with 95% t intervals"
    fig.suptitle(f"Response to factor {factor} ({target}): {shown}", fontsize=11)
    save(fig, path, bottom=0.05)
    if several:
        levels = "each level" if kind == "grid" else f"each of up to {MAIN_EFFECT_BINS} bins of equal count"
        how = (
            f"the line is the factor's main effect, the average of the design points' means at {levels} of "
            f"{code(factor)} over the other factors' values; each small dot is one design point's mean over "
            "replications"
        )
    else:
        # A capacity trial read a team size's overlapping bars as no effect, where its paired difference was clear.
        how = (
            "each marker is one design point's mean over replications with its 95% t interval (overlapping "
            "intervals do not by themselves mean no difference: the points run on the same seeds, and the paired "
            "differences say what is clear)"
        )
    return ReportFigure(
        f"{FIGURES}/{path.name}",
        f"Response to factor {factor}",
        (
            f"How the first {len(metrics)} headline metrics respond"
            if len(ctx.metrics) > len(metrics)
            else f"How the headline {'metric responds' if len(metrics) == 1 else 'metrics respond'}"
        )
        + f" to factor {code(factor)}: {how}, "
        "one colour per policy."
        + (
            f" The other {len(ctx.metrics) - len(metrics)} are in the tables (the figure draws the first "
            f"{MAX_RESPONSE_METRICS} of the experiment's `metrics`: list first the ones to see)."
            if len(ctx.metrics) > len(metrics)
            else ""
        ),
    )


def main_effect(x: pd.Series, y: pd.Series, numeric: bool, kind: str) -> tuple[pd.Series, pd.Series]:
    """A factor's main effect: the mean of ``y`` (per-point means) at each level of ``x`` (its values).

    A grid design (or a factor that is not a number) has levels: the values it
    takes, each met by every combination of the other factors in a full
    factorial. A sampled design's values are all distinct, so they are cut into
    up to :data:`MAIN_EFFECT_BINS` bins of equal count, each at its mean value.
    Returns (level, mean) sorted by level.
    """
    if numeric and kind != "grid" and x.nunique() > MAIN_EFFECT_BINS:
        bins = pd.qcut(x.rank(method="first"), MAIN_EFFECT_BINS, labels=False)
        grouped = pd.DataFrame({"x": x.to_numpy(), "y": y.to_numpy(), "bin": bins.to_numpy()}).groupby("bin")
        return grouped["x"].mean(), grouped["y"].mean()
    grouped = pd.DataFrame({"x": x.to_numpy(), "y": y.to_numpy()}).groupby("x", sort=numeric)["y"].mean()
    return pd.Series(grouped.index, index=grouped.index), grouped


def sobol_figure(ctx: ReportContext, indices: pd.DataFrame, noise: pd.DataFrame, path: Path) -> ReportFigure | None:
    """First-order and total Sobol' indices per comparison (each policy, then each paired difference from the
    baseline, the table's rows) and headline metric, each panel titled with its replication ``noise`` share where
    there is one (a researcher's figure had shown the policies alone, and no noise); None without indices."""
    if indices.empty:
        return None
    metrics = [m for m in ctx.metrics if m in set(indices["metric"])][:MAX_RESPONSE_METRICS]
    present = [p for p in compared(ctx) if p in set(indices["policy"])]
    shares = {(p, m): v for p, m, v in zip(noise.policy, noise.metric, noise.noise_share, strict=True)}
    fig, axes = plt.subplots(
        len(present), len(metrics), figsize=(3.6 * len(metrics) + 0.4, 3.0 * len(present) + 0.9), squeeze=False
    )
    x = np.arange(len(ctx.factors))
    width = 0.38
    intervals = bool(np.isfinite(indices[["first_low", "first_high"]].to_numpy(dtype=float)).any())
    shown = "with 95% bootstrap intervals" if intervals else "(no intervals: too small a base sample)"
    for r, p in enumerate(present):
        for c, metric in enumerate(metrics):
            ax = axes[r, c]
            g = indices[(indices.policy == p) & (indices.metric == metric)].set_index("factor")
            if g.empty:
                no_data(ax)
            else:
                g = g.reindex(ctx.factors)
                for k, (col, label, colour) in enumerate(
                    (("first_order", "first order", "#1f77b4"), ("total", "total", "#ff7f0e"))
                ):
                    prefix = "first" if col == "first_order" else "total"
                    v = g[col].to_numpy(dtype=float)
                    lo = np.clip(np.nan_to_num(v - g[f"{prefix}_low"].to_numpy(dtype=float)), 0, None)
                    hi = np.clip(np.nan_to_num(g[f"{prefix}_high"].to_numpy(dtype=float) - v), 0, None)
                    ax.bar(x + (k - 0.5) * width, v, width, color=colour, label=label)
                    if intervals:
                        ax.errorbar(x + (k - 0.5) * width, v, yerr=[lo, hi], fmt="none", ecolor="0.2", capsize=3, lw=1)
                ax.axhline(0, color="0.3", lw=0.8)
                ax.set_xticks(x, ctx.factors, fontsize=8)
            share = shares.get((p, metric), np.nan)
            # As the noise table says it: past 100%, no spread of the factors' own (a review's 196% read bare)
            said = f"\nreplication noise {noise_words(share)}" if np.isfinite(share) else ""
            ax.set_title(f"{title(metric)}: {p}{said}", fontsize=9)
            if c == 0:
                ax.set_ylabel("Sobol' index (share of variance)", fontsize=8)
            ax.tick_params(labelsize=8)
            ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8)
    fig.suptitle(f"Sobol' sensitivity indices {shown}", fontsize=11)
    save(fig, path, bottom=0.05)
    return ReportFigure(
        f"{FIGURES}/{path.name}",
        "Sobol' sensitivity indices",
        "Share of the variance of each metric across design points explained by each factor alone (first order) "
        "and with its interactions (total), per policy and per paired difference from the baseline, each panel "
        "titled with its replication noise (the share of that variance that is the replications' own spread), "
        + (
            "with 95% bootstrap intervals; small base samples give wide intervals."
            if intervals
            else "without intervals (a base sample too small for them, as the table says)."
        ),
    )
