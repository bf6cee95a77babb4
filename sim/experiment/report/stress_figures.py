"""The stress report's figures: the impact heatmap (stress x policy) and the quarterly series around each stress."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from sim.experiment.report.context import ReportContext
from sim.experiment.report.figures import FIGURES, ReportFigure, panel_grid, save
from sim.experiment.stress import DECISION_METRIC, RECOVERY_METRIC, RECOVERY_TOLERANCE
from sim.format import pct

#: Figures the stress report draws (fixed names).
STRESS_FIGURE_NAMES = ("stress_impact", "stress_series")


def impact_figure(
    ctx: ReportContext,
    impacts: pd.DataFrame,
    stresses: list[str],
    path: Path,
    rollouts: tuple[str, ...] = (),
    staying: str = "the answer says",
) -> ReportFigure | None:
    """A heatmap of each stress's mean relative impact on profit, per policy, annotated with the value; the
    ``rollouts`` stresses marked, as their impact is against having had the model from the first quarter (a trial
    read a red big-bang cell as the switch's loss, where the answer gave it +1.2M against staying); ``staying``:
    where the comparison with staying with the model in force is to be read."""
    d = impacts[impacts.metric == DECISION_METRIC]
    if d.empty:
        return None
    wide = d.pivot_table(index="shock", columns="policy", values="relative").reindex(
        index=[s for s in stresses if s in set(d.shock)], columns=[p for p in ctx.policies if p in set(d.policy)]
    )
    grid = 100 * wide.to_numpy(dtype=float)
    top = float(np.nanmax(np.abs(grid))) if np.isfinite(grid).any() else 1.0
    top = max(top, 0.5)
    fig, ax = plt.subplots(figsize=(1.6 + 1.5 * wide.shape[1], 0.9 + 0.42 * wide.shape[0]))
    image = ax.imshow(grid, cmap="RdBu", vmin=-top, vmax=top, aspect="auto")
    for (i, j), v in np.ndenumerate(grid):
        if np.isfinite(v):
            ax.text(
                j,
                i,
                pct(v / 100),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if abs(v) > 0.6 * top else "black",
            )
    ax.set_xticks(range(wide.shape[1]), list(wide.columns), fontsize=8)
    marked = [f"{w} *" if w in rollouts else str(w) for w in wide.index]
    ax.set_yticks(range(wide.shape[0]), marked, fontsize=8)
    ax.xaxis.tick_top()
    bar = fig.colorbar(image, ax=ax, fraction=0.05)
    bar.set_label("profit vs unshocked run, %", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    save(fig, path)
    return ReportFigure(
        f"{FIGURES}/{path.name}",
        "Impact of each stress on profit, by policy",
        "Mean paired difference of profit between the stressed and the unshocked run (same seeds), over the "
        "quarters from the stress's first on, as a percentage of the unshocked profit of those quarters; red is a "
        "loss, blue a gain. The intervals are in the impact table."
        + (
            " * A rollout: against having had each model from the first quarter, which no rollout can have; "
            f"against staying with the model in force, {staying}."
            if any(w in rollouts for w in wide.index)
            else ""
        ),
    )


def series_figure(
    ctx: ReportContext, gaps: pd.DataFrame, first_quarter: dict[str, int], stresses: list[str], path: Path
) -> ReportFigure | None:
    """One panel per stress: each policy's quarterly revenue gap to the unshocked run, the stress's first quarter
    marked and the recovery band shaded."""
    shown = [s for s in stresses if s in set(gaps.shock)]
    if not shown:
        return None
    fig, axes = panel_grid(len(shown), width=3.4, height=2.6)
    band = 100 * RECOVERY_TOLERANCE
    horizon = int(gaps.quarter.max())
    for ax, shock in zip(axes, shown, strict=True):
        # From the stress's first quarter: before it a run is the unshocked run, or, for a rollout, the model in
        # force, whose gap to the policy under test is no cost of the stress.
        g = gaps[(gaps.shock == shock) & (gaps.quarter >= first_quarter[shock])]
        for policy in [p for p in ctx.policies if p in set(g.policy)]:
            s = g[g.policy == policy].sort_values("quarter")
            ax.plot(s["quarter"], 100 * s["gap"], marker="o", ms=3, lw=1.5, color=ctx.colours[policy], label=policy)
            ax.fill_between(s["quarter"], 100 * s["low"], 100 * s["high"], color=ctx.colours[policy], alpha=0.15, lw=0)
        ax.axhspan(-band, band, color="0.85", zorder=0)
        ax.axhline(0, color="0.4", lw=0.8)
        ax.axvline(first_quarter[shock], color="0.3", ls="--", lw=0.8)
        ax.set_title(shock, fontsize=9)
        ax.set_xlabel("quarter", fontsize=8)
        ax.set_ylabel("revenue vs unshocked, %", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xlim(0.5, horizon + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("Quarterly revenue captured against the unshocked run, from each stress's first quarter", fontsize=11)
    save(fig, path)
    return ReportFigure(
        f"{FIGURES}/{path.name}",
        "Revenue around each stress, quarter by quarter",
        f"Mean paired difference of each quarter's `{RECOVERY_METRIC}` from the unshocked run, as a percentage of "
        f"the unshocked quarter, per policy, from the stress's first quarter (the dashed line; before it a run is "
        f"the unshocked run, or for a rollout the model in force, left out), with its paired 95% interval shaded. "
        f"The grey band is +-{band:g}%: a quarter is hurt when its interval lies wholly below the band's floor, back "
        "when wholly above it, and recovery is the quarters until every later quarter is back (the impact table).",
    )
