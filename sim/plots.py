"""Figures a sales leader reads at a glance (matplotlib, written to PNG)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display is needed or assumed

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from sim.catalogue import CATALOGUE
from sim.codes import CAUSES
from sim.records import ALL

#: The miss causes' colours: pastels, not the policies' saturated ten, so that a cause is never read as a policy.
CAUSE_COLOURS = ("#c7c7c7", "#ff9896", "#c5b0d5", "#ffbb78", "#c49c94", "#9edae5")


#: A character's mean width in DejaVu Sans (matplotlib's default face), in ems, a little over: what a line of
#: text of a given size needs, so that a wrapped line fits.
_CHAR_EMS = 0.55


def fit_text(fig: plt.Figure) -> None:
    """Wrap the figure's own texts (its title) to its width, and each visible panel's title and x label to the
    panel's width and its y label to the panel's height, each at its own font size. Call it once every text is set,
    before the figure is laid out: a long metric unit ran into the panel above, a long title off the figure's
    two edges."""
    width, height = fig.get_size_inches()

    def fill(text: Text, inches: float) -> None:
        chars = max(12, int(inches * 72 / (_CHAR_EMS * float(text.get_fontsize()))))
        lines = text.get_text().split("\n")
        text.set_text("\n".join(textwrap.fill(line, chars) if line else line for line in lines))

    for text in fig.texts:
        fill(text, width * 0.96)
    for ax in fig.axes:
        spec = ax.get_subplotspec()
        if not ax.get_visible() or spec is None:
            continue
        # The panel's cell of the grid, less what a layout gives its ticks, its title and its x label.
        rows, cols = spec.get_gridspec().get_geometry()
        fill(ax.title, width * len(spec.colspan) / cols * 0.9)
        fill(ax.yaxis.label, height * len(spec.rowspan) / rows * 0.75)
        fill(ax.xaxis.label, width * len(spec.colspan) / cols * 0.75)


def _series(metrics: pd.DataFrame, metric: str) -> pd.DataFrame:
    m = metrics[(metrics["segment"] == ALL) & (metrics["metric"] == metric)]
    return m.pivot_table(index="quarter", columns="policy", values="value", aggfunc="mean", sort=False)


def _heading(metric: str) -> str:
    """A metric's catalogue title as a panel heading: ``rep utilisation`` -> ``Rep utilisation``."""
    text = CATALOGUE[metric].title
    return text[:1].upper() + text[1:]


#: The rows the labels of shocks in successive quarters take in turn, each below the last [A].
SHOCK_ROWS = 4


def summary_figure(metrics: pd.DataFrame, title: str, shocks: Sequence[tuple[int, str]] = ()) -> plt.Figure:
    """Six panels: revenue, misses by cause, customers, promises kept, response time, utilisation; each
    quarterly panel marks the start of every quarter a shock acts in (``shocks``: (quarter, kind))."""
    policies = list(dict.fromkeys(metrics["policy"]))
    marked: dict[int, list[str]] = {}
    for quarter, kind in shocks:
        marked.setdefault(quarter, []).append(kind.replace("_", " "))
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5), constrained_layout=True)
    fig.suptitle(title, fontsize=13)

    def lines(ax: plt.Axes, metric: str, ylabel: str, scale: float = 1.0, percent: bool = False) -> None:
        s = _series(metrics, metric)
        for p in policies:
            if p in s:
                ax.plot(s.index, s[p] * (100 if percent else 1) / scale, marker="o", label=p)
        ax.set_xlabel("quarter")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        middle = (s.index.min() + s.index.max()) / 2 if len(s.index) else 0.0
        for i, (quarter, kinds) in enumerate(sorted(marked.items())):  # a shock acts from its quarter's first week
            ax.axvline(quarter - 0.5, color="#555555", lw=1, ls="--")
            # Right of its line in the first half, left of it in the second: a late quarter's ran past the panel.
            left = quarter - 0.5 > middle
            ax.annotate(
                ", ".join(kinds),
                (quarter - 0.5, 1.0),
                xycoords=("data", "axes fraction"),
                # Each one a line below the last: a VP's shocks in quarters 3 and 4 were printed over each other.
                xytext=(-3 if left else 3, -3 - 9 * (i % SHOCK_ROWS)),
                textcoords="offset points",
                ha="right" if left else "left",
                va="top",
                fontsize=7,
                color="#555555",
            )

    lines(axes[0, 0], "revenue_captured", "revenue captured (M)", scale=1e6)
    axes[0, 0].set_title("Revenue captured per quarter")
    axes[0, 0].legend(fontsize=8)

    ax = axes[0, 1]
    totals = metrics[(metrics["segment"] == ALL) & metrics["metric"].isin([f"missed_{c}" for c in CAUSES])]
    totals = totals.groupby(["policy", "metric"], sort=False)["value"].sum()
    bottom = np.zeros(len(policies))
    for cause, colour in zip(CAUSES, CAUSE_COLOURS, strict=True):
        v = np.array([totals.get((p, f"missed_{cause}"), 0.0) for p in policies])
        ax.bar(policies, v, bottom=bottom, color=colour, label=cause.replace("_", " "))
        bottom += v
    ax.set_title("Missed opportunities by cause (whole run)")
    ax.set_ylabel("opportunities")
    # The causes' legend in rows above the tallest bar, not over the bars (it stood on the first and the third).
    ax.set_ylim(0, max(float(bottom.max()), 1.0) * 1.4)
    ax.legend(fontsize=7, ncol=3, loc="upper center", frameon=False)
    ax.tick_params(axis="x", labelsize=8)
    if len(policies) > 2 or max(map(len, policies)) > 12:  # side by side, long names ran into each other
        plt.setp(ax.get_xticklabels(), rotation=20, ha="right", rotation_mode="anchor")

    lines(axes[0, 2], "customers", "customers at quarter end")
    axes[0, 2].set_title("Installed base")

    lines(axes[1, 0], "sla_breach_rate", "% of opportunities", percent=True)
    axes[1, 0].set_title(_heading("sla_breach_rate"))

    lines(axes[1, 1], "response_days_p90", "business days")
    axes[1, 1].set_title(_heading("response_days_p90"))

    lines(axes[1, 2], "utilisation", "% of selling hours", percent=True)
    axes[1, 2].set_title(_heading("utilisation"))
    fit_text(fig)
    return fig


def write_summary_png(metrics: pd.DataFrame, title: str, path: Path, shocks: Sequence[tuple[int, str]] = ()) -> None:
    fig = summary_figure(metrics, title, shocks)
    try:
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


def write_backtest_png(table: pd.DataFrame, simulated: pd.DataFrame, title: str, path: Path) -> None:
    """Each measure's simulated seeds relative to the actual value (1 = what happened).

    ``table``: :meth:`sim.backtest.Backtest.table`; ``simulated``: one row per
    seed, one column per measure.
    """
    fig, ax = plt.subplots(figsize=(8, 4.2))
    try:
        measures = list(table["measure"])
        ratios = [simulated[m].to_numpy() / a for m, a in zip(measures, table["actual"], strict=True)]
        ax.boxplot(ratios, vert=False, whis=(2.5, 97.5), showfliers=True)
        ax.set_yticks(range(1, len(measures) + 1), [m.replace("_", " ") for m in measures])
        ax.invert_yaxis()  # the first measure on top
        ax.axvline(1.0, color="#d62728", lw=1.5)
        # Named above the plot, not in a legend box, which stood on a measure's box (cycle weeks).
        ax.text(1.0, 1.01, "actual", transform=ax.get_xaxis_transform(), ha="center", va="bottom", color="#d62728")
        ax.set_xlabel("simulated / actual (box: quartiles of the seeds; whiskers: 95%)")
        ax.set_title(title, fontsize=10, pad=16)  # room for "actual" above the line
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
