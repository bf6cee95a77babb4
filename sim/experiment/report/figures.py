"""The report's figures of one design point: policies compared, misses by cause, attention, weekly series (the
paired differences' is ``sim.experiment.report.paired_figure``).

Also what every figure shares: the figure record the report embeds, saving,
panel grids, and axis units and scales from the metric catalogue. Figures are
PNG files under ``figures/``, written atomically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.catalogue import CATALOGUE, title
from sim.clock import WEEKS_PER_QUARTER
from sim.codes import CAUSES
from sim.experiment import stats
from sim.experiment.report.context import ReportContext
from sim.experiment.report.markdown import finite
from sim.files import atomic_write
from sim.format import MONEY_SCALES, counted
from sim.metric_record import WHOLE_RUN
from sim.metrics import run_totals
from sim.plots import CAUSE_COLOURS, fit_text
from sim.records import ALL
from sim.units import Unit

FIGURES = "figures"
DPI = 120
#: Figures with fixed names (besides response_<factor>.png).
FIGURE_NAMES = (
    "policy_comparison",
    "paired_differences",
    "missed_by_cause",
    "lorenz_attention",
    "weekly_series",
    "sobol_indices",
)


@dataclass(frozen=True)
class ReportFigure:
    """A figure file as the report embeds it."""

    path: str  # relative to out_dir
    title: str
    caption: str


def save(fig: plt.Figure, path: Path, bottom: float = 0.0) -> None:
    """Fit ``fig``'s texts (``sim.plots.fit_text``), lay it out (``bottom``: the share of its height kept below the
    panels, for what a figure draws there), write it to ``path`` as PNG (atomically) and close it."""
    try:
        fit_text(fig)
        fig.tight_layout(rect=(0, bottom, 1, 1))
        _below_title(fig)
        atomic_write(path, lambda p: fig.savefig(p, dpi=DPI, format="png"))
    finally:
        plt.close(fig)


#: The least space between a figure's title and its panels' titles, inches: on a tall figure (eight policies'
#: paired differences) tight_layout left them a few points apart.
TITLE_GAP = 0.15


def _below_title(fig: plt.Figure) -> None:
    """Lower the panels until ``TITLE_GAP`` separates their tops (titles included) from the figure's own texts
    above them (its ``suptitle``; a note below the panels is not moved past)."""
    boxes = [b for ax in fig.axes if ax.get_visible() and (b := ax.get_tightbbox()) is not None]
    if not boxes:
        return
    top = max(b.y1 for b in boxes)
    above = [e.y0 for t in fig.texts if t.get_text() and (e := t.get_window_extent()).y0 + e.y1 > 2 * top]
    short = TITLE_GAP * fig.dpi - (min(above) - top) if above else 0.0
    if short > 0:
        fig.subplots_adjust(top=fig.subplotpars.top - short / fig.bbox.height)


def no_data(ax: plt.Axes) -> None:
    """Mark an empty panel."""
    ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="0.5")
    ax.set_xticks([])
    ax.set_yticks([])


def panel_grid(n: int, width: float = 3.6, height: float = 3.0, max_cols: int = 4) -> tuple[plt.Figure, list[plt.Axes]]:
    """A figure of ``n`` panels of ``width`` x ``height`` inches, at most ``max_cols`` a row; unused cells hidden."""
    cols = max(1, min(max_cols, n))
    rows = max(1, math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows + 0.6), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def point_note(ctx: ReportContext, point: int) -> str:
    """`` at design point N (factor values)`` for titles and captions; empty without factors."""
    label = ctx.point_label(point)
    return f" at design point {point} ({label})" if label else ""


def _money_scale(values: np.ndarray) -> tuple[float, str]:
    """Divisor and suffix (k or M) that show money ``values`` by their largest finite size; 1 and none below 1k."""
    sizes = np.abs(values[np.isfinite(values)])
    top = float(sizes.max()) if sizes.size else 0.0
    return next(((divisor, suffix) for suffix, divisor in MONEY_SCALES if top >= divisor), (1.0, ""))


def axis_scale(metric: str, values: np.ndarray) -> tuple[float, str]:
    """Divisor and y-axis label (unit, and how the run total is formed) for ``values`` of ``metric``.

    Shares are shown in %, money in k or M by the largest value.
    """
    entry = CATALOGUE.get(metric)
    how = WHOLE_RUN[entry.aggregate if entry else "sum"]
    unit = entry.unit if entry else None
    if unit is Unit.SHARE:
        return 0.01, f"% ({how})"
    if unit is Unit.CURRENCY:
        divisor, suffix = _money_scale(values)
        if suffix:
            return divisor, f"{unit}, {suffix} ({how})"
    return 1.0, f"{unit or 'value'} ({how})"


def policy_figure(ctx: ReportContext, described: pd.DataFrame, point: int, path: Path) -> ReportFigure:
    """Each headline metric's mean per policy with its 95% t interval (``described``), one panel a metric."""
    metrics = ctx.metrics
    fig, axes = panel_grid(len(metrics))
    d = described[described.point == point]
    present = [p for p in ctx.policies if p in set(d["policy"])]
    for ax, metric in zip(axes, metrics, strict=True):
        rows = d[d.metric == metric].set_index("policy")
        means = np.array([rows.at[p, "mean"] if p in rows.index else np.nan for p in present], dtype=float)
        if not np.isfinite(means).any():
            no_data(ax)
            ax.set_title(title(metric), fontsize=10)
            continue
        lows = np.array([rows.at[p, "t_low"] if p in rows.index else np.nan for p in present], dtype=float)
        highs = np.array([rows.at[p, "t_high"] if p in rows.index else np.nan for p in present], dtype=float)
        divisor, ylabel = axis_scale(metric, np.r_[means, lows, highs])
        for i, p in enumerate(present):
            m = means[i] / divisor
            if not math.isfinite(m):
                ax.annotate("n/a", (i, 0.5), xycoords=("data", "axes fraction"), ha="center", color="0.5", fontsize=8)
                continue
            if finite(lows[i], highs[i]):
                yerr = [[m - lows[i] / divisor], [highs[i] / divisor - m]]
                ax.errorbar(i, m, yerr=yerr, fmt="o", color=ctx.colours[p], capsize=5, markersize=7, lw=1.8)
            else:
                ax.plot(i, m, "o", color=ctx.colours[p], markersize=7)
        ax.set_xticks(range(len(present)), present, rotation=20 if max(map(len, present)) > 10 else 0, ha="right")
        ax.set_xlim(-0.6, len(present) - 0.4)
        ax.set_title(title(metric), fontsize=10)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    n = int(d["n"].max()) if not d.empty else 0
    # Below the count a t interval needs there are no bars, and the figure does not claim them.
    bars = n >= stats.MIN_REPLICATIONS
    fig.suptitle(
        f"Policy comparison: mean of {counted(n, 'replication')}"
        + (" with 95% t intervals" if bars else " (too few for intervals)")
        + point_note(ctx, point),
        fontsize=12,
    )
    save(fig, path)
    if not bars:
        return ReportFigure(
            f"{FIGURES}/{path.name}",
            "Policy comparison",
            f"Mean whole-run value of each headline metric per policy (dots) over {counted(n, 'replication')}"
            f"{point_note(ctx, point)}; no interval: one needs at least {stats.MIN_REPLICATIONS} replications.",
        )
    return ReportFigure(
        f"{FIGURES}/{path.name}",
        "Policy comparison with 95% confidence intervals",
        f"Mean whole-run value of each headline metric per policy (dots) with its 95% t confidence interval "
        f"(bars) over {counted(n, 'replication')}{point_note(ctx, point)}; overlapping bars do not by themselves mean "
        "no difference: see the paired table.",
    )


def missed_figure(ctx: ReportContext, point: int, path: Path) -> ReportFigure | None:
    """Missed opportunities per policy stacked by cause, one panel a segment; None without results."""
    names = [f"missed_{c}" for c in CAUSES]
    r = ctx.results[(ctx.results.point == point) & ctx.results.metric.isin(names)]
    if r.empty:
        return None
    totals = run_totals(r, by=("point", "policy", "replication"))
    means = totals.groupby(["segment", "policy", "metric"])["value"].mean()
    order = [s["name"] for s in ctx.scenario.get("population", {}).get("segments", [])]
    segments = [ALL] + [s for s in order if s in set(totals["segment"])]
    segments += sorted(set(totals["segment"]) - set(segments))
    present = [p for p in ctx.policies if p in set(totals["policy"])]
    fig, axes = panel_grid(len(segments), width=3.2 + 0.45 * len(present), height=3.4, max_cols=2)
    for ax, segment in zip(axes, segments, strict=True):
        bottom = np.zeros(len(present))
        for cause, colour in zip(CAUSES, CAUSE_COLOURS, strict=True):
            v = np.array([means.get((segment, p, f"missed_{cause}"), np.nan) for p in present], dtype=float)
            v = np.nan_to_num(v)
            ax.bar(range(len(present)), v, bottom=bottom, color=colour, label=cause.replace("_", " "), width=0.6)
            bottom += v
        ax.set_xticks(range(len(present)), present, rotation=20 if max(map(len, present)) > 10 else 0, ha="right")
        ax.set_title("all segments" if segment == ALL else f"segment {segment}", fontsize=10)
        ax.set_ylabel("opportunities missed (total over the run)", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, title="cause of the miss", loc="lower center", ncol=len(CAUSES), fontsize=8)
    fig.suptitle(f"Missed opportunities by cause and segment (mean per run){point_note(ctx, point)}", fontsize=12)
    save(fig, path, bottom=0.06)
    return ReportFigure(
        f"{FIGURES}/{path.name}",
        "Missed opportunities by cause and segment",
        f"Opportunities missed over the whole run, mean over replications, split by cause of the miss, for all "
        f"accounts and for each segment{point_note(ctx, point)}.",
    )


def mean_curves(frame: pd.DataFrame, x: str, y: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean of each replication's curve, interpolated on the union of their x values."""
    grid = np.unique(np.round(frame[x].to_numpy(dtype=float), 9))
    curves = []
    for _, g in frame.groupby("replication"):
        g = g.sort_values(x)
        curves.append(np.interp(grid, g[x].to_numpy(dtype=float), g[y].to_numpy(dtype=float)))
    return grid, np.mean(curves, axis=0)


def lorenz_figure(ctx: ReportContext, lorenz: pd.DataFrame, point: int, path: Path) -> ReportFigure | None:
    """Lorenz curves of rep hours over accounts per policy, and the most attended accounts' share; None without curves."""
    lz = lorenz[(lorenz.point == point) & (lorenz.segment == ALL)]
    if lz.empty:
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.6))
    ax1.plot([0, 100], [0, 100], ls="--", color="0.5", lw=1, label="equal attention")
    even = np.logspace(-2, 2, 200)
    ax2.plot(even, even, ls="--", color="0.5", lw=1, label="equal attention")
    for p in ctx.policies:
        g = lz[lz.policy == p]
        if g.empty:
            continue
        x, y = mean_curves(g, "share_of_accounts", "share_of_hours")
        ax1.plot(100 * x, 100 * y, color=ctx.colours[p], lw=2, label=p)
        top, hours = 100 * (1 - x[::-1]), 100 * (1 - y[::-1])  # the top top% of accounts get hours% of the hours
        keep = top > 0
        ax2.plot(top[keep], hours[keep], color=ctx.colours[p], lw=2, marker=".", label=p)
    ax1.set_xlabel("accounts, least attended first (% of accounts)")
    ax1.set_ylabel("cumulative rep hours (% of hours)")
    ax1.set_title("Lorenz curve of rep attention")
    ax1.set_xlim(0, 100)
    ax1.set_ylim(0, 100)
    ax1.legend(fontsize=8, loc="upper left")
    ax1.grid(alpha=0.3)
    ax2.set_xscale("log")
    ax2.set_xlim(0.01, 100)
    ax2.set_ylim(0, 100)
    ax2.set_xlabel("most attended accounts (% of accounts, log scale)")
    ax2.set_ylabel("their share of rep hours (%)")
    ax2.set_title("Where the hours go: the most attended accounts")
    ax2.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}%"))
    ax2.legend(fontsize=8, loc="upper left")
    ax2.grid(alpha=0.3, which="major")
    n = lz.groupby("policy")["replication"].nunique().max()
    fig.suptitle(f"Attention across accounts, whole run (mean of {counted(n, 'replication')}){point_note(ctx, point)}")
    save(fig, path)
    return ReportFigure(
        f"{FIGURES}/{path.name}",
        "Lorenz curves of rep attention",
        "How unevenly rep hours are spread over accounts (all segments, whole run, mean curve over replications): "
        "left, the Lorenz curve (the further below the diagonal, the more concentrated); right, the share of hours "
        f"received by the most attended accounts{point_note(ctx, point)}.",
    )


def weekly_figure(ctx: ReportContext, weekly: pd.DataFrame, point: int, path: Path) -> ReportFigure | None:
    """Weekly recurring revenue and open opportunities per policy with a band across replications; None without series."""
    w = weekly[(weekly.point == point) & weekly.metric.isin(["recurring_revenue", "open_opportunities"])]
    if w.empty:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    panels = [
        ("recurring_revenue", "Recurring revenue recognised per week", "currency units per week"),
        ("open_opportunities", "Open opportunities at the end of each week", "open opportunities"),
    ]
    last_week = int(w["week"].max())
    for ax, (metric, heading, unit) in zip(axes, panels, strict=True):
        m = w[w.metric == metric]
        if m.empty:
            no_data(ax)
            ax.set_title(heading, fontsize=10)
            continue
        divisor, suffix = 1.0, ""
        if metric == "recurring_revenue":
            divisor, scale = _money_scale(m["value"].to_numpy(dtype=float))
            suffix = f", {scale}" if scale else ""
        for p in ctx.policies:
            g = m[m.policy == p]
            if g.empty:
                continue
            by_week = g.groupby("week")["value"]
            mean = by_week.mean() / divisor
            lo = by_week.quantile(0.025) / divisor
            hi = by_week.quantile(0.975) / divisor
            ax.plot(mean.index, mean.to_numpy(), color=ctx.colours[p], lw=2, label=p)
            ax.fill_between(mean.index, lo.to_numpy(), hi.to_numpy(), color=ctx.colours[p], alpha=0.13, lw=0)
        for q in range(WEEKS_PER_QUARTER, last_week + 1, WEEKS_PER_QUARTER):
            ax.axvline(q - 0.5, color="0.6", lw=0.8, ls=":")
        ax.set_title(heading, fontsize=10)
        ax.set_xlabel(f"week of the run (dotted lines: quarter ends, {WEEKS_PER_QUARTER} weeks)")
        ax.set_ylabel(unit + suffix)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    n = w.groupby("policy")["replication"].nunique().max()
    fig.suptitle(
        f"Weekly series: mean of {counted(n, 'replication')}, band = 2.5-97.5 percentiles across replications"
        f"{point_note(ctx, point)}",
        fontsize=11,
    )
    save(fig, path)
    return ReportFigure(
        f"{FIGURES}/{path.name}",
        "Weekly recurring revenue and open opportunities",
        "Recurring revenue recognised each week and opportunities open at the end of each week, mean per policy "
        f"(line) with the 2.5-97.5 percentile range across replications (band){point_note(ctx, point)}.",
    )
