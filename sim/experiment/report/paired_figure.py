"""The report's figure of the paired differences: each policy minus the baseline on each headline metric, with the
Bonferroni-adjusted interval the answer and the paired table read.

The policy comparison figure draws each policy's own interval, and two policies' intervals can overlap almost
wholly where their paired difference is clear (common random numbers take out the replications' shared noise): a
VP read "no difference" from it beside an answer that called a +4.9M lead clear. This figure draws the difference
itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.catalogue import CATALOGUE, title
from sim.experiment import stats
from sim.experiment.report.context import ReportContext
from sim.experiment.report.figures import FIGURES, ReportFigure, axis_scale, no_data, panel_grid, point_note, save
from sim.experiment.report.markdown import finite
from sim.format import counted
from sim.units import Unit


def paired_figure(ctx: ReportContext, values: pd.DataFrame, point: int, path: Path) -> ReportFigure | None:
    """One panel a headline metric: each policy's mean paired difference from the baseline at ``point`` (a dot) and
    its Bonferroni-adjusted 95% interval over the comparisons there (a bar; none with too few replications or no
    spread), beside a dashed line at 0. None where there is no pair to draw (one policy, or no baseline run)."""
    at = values[values.point == point]
    if ctx.baseline not in set(at["policy"]) or len(ctx.policies) < 2:
        return None
    paired = stats.paired_against(at, ctx.baseline)
    others = [p for p in ctx.policies if p != ctx.baseline and p in set(paired.get("policy", ()))]
    if paired.empty or not others:
        return None
    fig, axes = panel_grid(len(ctx.metrics), width=4.2, height=0.55 * len(others) + 1.6)
    cols = min(len(axes), 4)  # panel_grid's
    few = False  # a comparison with too few pairs for an interval, drawn as an open dot
    for i, (ax, metric) in enumerate(zip(axes, ctx.metrics, strict=True)):
        rows = paired[paired.metric == metric].set_index("policy")
        cell = {
            k: np.array([rows.at[p, k] if p in rows.index else np.nan for p in others], dtype=float)
            for k in ("mean_diff", "low_adj", "high_adj", "n")
        }
        mean, low, high, pairs = cell["mean_diff"], cell["low_adj"], cell["high_adj"], cell["n"]
        ax.set_title(title(metric), fontsize=10)
        # The comparisons named once a row of panels, at its left (repeated, they took the panels' width), a panel
        # with no data too: its row's names had gone with it.
        names = [f"{p} - {ctx.baseline}" for p in others] if i % cols == 0 else [""] * len(others)
        if not np.isfinite(mean).any():
            no_data(ax)  # which clears the ticks
        ax.set_yticks(range(len(others)), names, fontsize=8)
        ax.set_ylim(len(others) - 0.5, -0.5)  # the first policy on top, as in the tables
        if not np.isfinite(mean).any():
            continue
        divisor, label = axis_scale(metric, np.r_[mean, low, high])
        entry = CATALOGUE.get(metric)
        if entry is not None and entry.unit is Unit.SHARE:
            label = label.replace("%", "percentage points", 1)  # a difference of shares
        for row, p in enumerate(others):
            if not np.isfinite(mean[row]):
                continue
            m = mean[row] / divisor
            if finite(low[row], high[row]):
                err = [[m - low[row] / divisor], [high[row] / divisor - m]]
                ax.errorbar(m, row, xerr=err, fmt="o", color=ctx.colours[p], capsize=4, markersize=6, lw=1.6)
            elif pairs[row] < stats.MIN_REPLICATIONS:
                few = True
                ax.plot(m, row, "o", color=ctx.colours[p], markersize=6, fillstyle="none")
            else:  # the same difference in every replication: no interval, and no doubt
                ax.plot(m, row, "o", color=ctx.colours[p], markersize=6)
        ax.axvline(0.0, color="0.35", lw=1, ls="--")
        ax.set_xlabel(label, fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    # Pairs can differ by comparison where runs failed or are pending: the range, not the largest alone.
    counts = paired.loc[paired["n"] > 0, "n"]
    low_n, n = int(counts.min()), int(counts.max())
    over = counted(n, "replication") if low_n == n else f"{low_n} to {n} replications"
    bars = n >= stats.MIN_REPLICATIONS
    fig.suptitle(
        f"Paired differences against {ctx.baseline}: mean of {over}"
        + (" with Bonferroni-adjusted 95% intervals" if bars else " (too few for intervals)")
        + point_note(ctx, point),
        fontsize=12,
    )
    save(fig, path)
    drawn = (
        "with its Bonferroni-adjusted 95% interval over the comparisons at this design point (bars), as the answer "
        "and the paired table read it: a bar clear of the dashed line at 0 is a clear difference, whatever the "
        "policy comparison figure's own intervals show; a dot with no bar is the same difference in every "
        "replication"
        + (
            f"; an open dot, a comparison with fewer than {stats.MIN_REPLICATIONS} paired replications (the table's "
            "pairs column), which has no interval"
            if few
            else ""
        )
        if bars
        else f"no interval: one needs at least {stats.MIN_REPLICATIONS} replications"
    )
    return ReportFigure(
        f"{FIGURES}/{path.name}",
        f"Paired differences against the baseline {ctx.baseline}",
        f"Each policy minus the baseline {ctx.baseline} on each headline metric, paired by replication (common "
        f"random numbers), over {over}{point_note(ctx, point)}: the mean difference (dots) {drawn}.",
    )
