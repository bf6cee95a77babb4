"""The report of a stored experiment: Markdown with tables and figures, CSV and Parquet exports.

Everything is read from the store (and ``manifest.json`` beside it when
present), so ``covsim report DIR`` rebuilds the same report from a finished or
interrupted batch. Every file is written through ``sim.writing.atomic_write``:
a reader sees the previous file or the new one, never a torn one.

Files written into ``out_dir``:

- ``report.md``: what was run, the ledger, means with 95% t and bootstrap
  intervals, paired differences against the baseline, sensitivity tables for
  sampled designs, the figures with captions, methods and reproducibility;
- ``results.csv`` and ``results.parquet``: the tidy results of finished runs
  joined with the factor values of their design point;
- ``figures/*.png``: the figures embedded in the report.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; no display is needed or assumed

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from sim.errors import InputError
from sim.experiment import stats
from sim.experiment.spec import Experiment
from sim.experiment.store import Store
from sim.experiment.summary import STYLE, fmt
from sim.metrics import ALL, run_aggregate, run_totals
from sim.opportunities import CAUSES
from sim.plots import CAUSE_COLOURS
from sim.scenario import WEEKS_PER_QUARTER
from sim.summary import money, share
from sim.writing import atomic_write, atomic_write_text

REPORT = "report.md"
RESULTS_CSV = "results.csv"
RESULTS_PARQUET = "results.parquet"
FIGURES = "figures"

#: Design points shown one by one in the tables; beyond this, the first point only.
MAX_POINTS_IN_TABLES = 6
#: Headline metrics shown in the factor-response and Sobol' figures.
MAX_RESPONSE_METRICS = 4
#: Failed runs listed one by one in the ledger section.
MAX_FAILED_LISTED = 100
#: Metrics where more is better, for the stress-test regret table.
HIGHER_IS_BETTER = ("revenue_captured", "recurring_revenue")
DPI = 120
#: Figures with fixed names (besides response_<factor>.png).
FIGURE_NAMES = ("policy_comparison", "missed_by_cause", "lorenz_attention", "weekly_series", "sobol_indices")
TIDY_COLUMNS = ["point", "policy", "replication", "seed", "quarter", "segment", "metric", "value"]


# ---- reading the store ---------------------------------------------------------


@dataclass
class _Context:
    """Everything the report is built from."""

    experiment: Experiment
    scenario: dict[str, Any]
    results: pd.DataFrame
    points: pd.DataFrame
    cells: pd.DataFrame
    weekly: pd.DataFrame
    lorenz: pd.DataFrame
    manifest: dict[str, Any] | None
    config_hash: str | None
    policies: list[str] = field(default_factory=list)
    factors: list[str] = field(default_factory=list)
    colours: dict[str, str] = field(default_factory=dict)

    @property
    def baseline(self) -> str:
        return self.experiment.baseline_label

    @property
    def metrics(self) -> list[str]:
        return list(self.experiment.metrics)

    @property
    def first_point(self) -> int:
        return int(self.results["point"].min()) if not self.results.empty else int(self.points["point"].min())

    def point_label(self, point: int) -> str:
        if not self.factors:
            return ""
        row = self.points.set_index("point").loc[point]
        return ", ".join(f"{f} = {_value(row[f])}" for f in self.factors)


def _load(store: Store, out_dir: Path) -> _Context:
    raw = store.meta("experiment")
    if raw is None:
        raise InputError([f"{out_dir}: the store records no experiment; rerun the batch"])
    experiment = Experiment.model_validate_json(raw)
    scenario = json.loads(store.meta("scenario") or "{}")
    manifest = None
    path = out_dir / "manifest.json"
    if path.exists():
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = None  # a damaged manifest only costs the reproducibility section
    cells = store.frame(
        "SELECT c.point, c.policy, c.replication, c.run_key, r.status, r.error, r.seconds "
        "FROM cells c JOIN runs r ON r.run_key = c.run_key ORDER BY c.point, c.policy, c.replication"
    )
    ctx = _Context(
        experiment=experiment,
        scenario=scenario,
        results=store.results(),
        points=store.points(),
        cells=cells,
        weekly=store.weekly(),
        lorenz=store.lorenz(),
        manifest=manifest,
        config_hash=store.meta("experiment_hash"),
    )
    ctx.policies = [p.key for p in experiment.policies]
    ctx.factors = [f.name for f in experiment.factors]
    palette = plt.get_cmap("tab10")(np.arange(10))
    ctx.colours = {p: matplotlib.colors.to_hex(palette[i % len(palette)]) for i, p in enumerate(ctx.policies)}
    return ctx


# ---- formatting ----------------------------------------------------------------


def _value(v: Any) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        return str(v)
    if isinstance(v, (int, np.integer)) or float(v).is_integer():
        return f"{int(v):,}"
    return f"{float(v):.4g}"


def _finite(*values: float) -> bool:
    return all(isinstance(v, (int, float, np.floating)) and math.isfinite(v) for v in values)


def _ci(metric: str, low: float, high: float, show: Callable[[str, float], str] = fmt) -> str:
    return f"[{show(metric, low)}, {show(metric, high)}]" if _finite(low, high) else "-"


def _diff(metric: str, v: float) -> str:
    """A difference: shares in percentage points, others in the metric's own format, signed."""
    if not _finite(v):
        return "-"
    if STYLE.get(metric) is share:
        return f"{100 * v:+.1f} pp"
    text = fmt(metric, v)
    return f"+{text}" if v > 0 and not text.startswith("+") else text


def _p(p: float) -> str:
    if not _finite(p):
        return "-"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> str:
    align = align or "l" + "r" * (len(header) - 1)
    marks = {"l": "---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks[a] for a in align) + " |"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _code(text: str) -> str:
    return f"`{text}`"


# ---- units for axes ------------------------------------------------------------

_ACCOUNT_COUNTS = ("customers", "churned", "new_logos", "prospects", "never_contacted", "conflicting_engagements")


def _unit(metric: str) -> str:
    style = STYLE.get(metric)
    if style is money or metric.startswith(("won_value", "retained_spend", "partner_margin")):
        return "currency units"
    if style is share or metric.endswith("_share") or metric.startswith(("utilisation", "win_rate", "miss_rate")):
        return "%"
    if metric.startswith(("opps_", "missed_", "digital_won")):
        return "opportunities"
    if metric in _ACCOUNT_COUNTS:
        return "accounts"
    if metric.startswith("response_days"):
        return "business days"
    if metric.startswith("hours") or metric == "capacity_hours":
        return "hours"
    if metric == "rep_lottery":
        return "omega squared (0-1)"
    if metric == "touch_gini":
        return "Gini coefficient (0-1)"
    return "value"


def _scale(metric: str, values: np.ndarray) -> tuple[float, str]:
    """Divisor and y-axis label (unit, and how the run total is formed)."""
    unit = _unit(metric)
    how = {"sum": "total over the run", "last": "at the end of the run", "mean": "mean of quarters"}[
        run_aggregate(metric)
    ]
    if unit == "%":
        return 0.01, f"% ({how})"
    if unit == "currency units":
        finite = np.abs(values[np.isfinite(values)])
        top = float(finite.max()) if finite.size else 0.0
        for suffix, divisor in (("bn", 1e9), ("M", 1e6), ("k", 1e3)):
            if top >= divisor:
                return divisor, f"currency units, {suffix} ({how})"
    return 1.0, f"{unit} ({how})"


#: Panel titles a sales leader reads without the glossary (others: the name, spaced).
TITLES = {
    "revenue_captured": "revenue captured (won + renewed)",
    "recurring_revenue": "recurring revenue recognised",
    "opps_missed": "opportunities missed",
    "opps_won": "opportunities won",
    "miss_rate": "miss rate of closed opportunities",
    "promised_untouched_share": "promised a touch, got none",
    "response_days_p90": "response time, 90th percentile",
    "response_days_mean": "response time, mean",
    "rep_lottery": "rep lottery (who covers you matters)",
    "sla_breach_rate": "response window missed (SLA breach)",
    "utilisation": "rep utilisation",
    "customers": "customers at the end",
    "cost_of_sales": "cost of sales",
}


def _title(metric: str) -> str:
    return TITLES.get(metric, metric.replace("_", " "))


# ---- exports -------------------------------------------------------------------


def _tidy(ctx: _Context) -> pd.DataFrame:
    """Finished runs' results joined with their design point (block, row, one column per factor)."""
    points = ctx.points.copy()
    points["block"] = points["block"].replace("", None)
    clash = {c: f"factor_{c}" for c in points.columns if c in TIDY_COLUMNS and c != "point"}
    points = points.rename(columns=clash)
    for c in points.columns:
        if points[c].dtype == object and points[c].map(type).nunique() > 1:
            points[c] = points[c].astype(str)  # mixed types cannot be written to Parquet
    results = ctx.results if not ctx.results.empty else pd.DataFrame(columns=TIDY_COLUMNS)
    tidy = results.merge(points, on="point", how="left")
    front = ["point", *[c for c in points.columns if c != "point"]]
    return tidy[front + [c for c in TIDY_COLUMNS if c != "point"]]


def _export(ctx: _Context, out_dir: Path) -> None:
    tidy = _tidy(ctx)
    atomic_write(out_dir / RESULTS_CSV, lambda p: tidy.to_csv(p, index=False))
    atomic_write(out_dir / RESULTS_PARQUET, lambda p: tidy.to_parquet(p, index=False))


# ---- figures -------------------------------------------------------------------


@dataclass(frozen=True)
class _Figure:
    path: str  # relative to out_dir
    title: str
    caption: str


def _save(fig: plt.Figure, path: Path) -> None:
    try:
        atomic_write(path, lambda p: fig.savefig(p, dpi=DPI, format="png"))
    finally:
        plt.close(fig)


def _no_data(ax: plt.Axes) -> None:
    ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="0.5")
    ax.set_xticks([])
    ax.set_yticks([])


def _grid(n: int, width: float = 3.6, height: float = 3.0, max_cols: int = 4) -> tuple[plt.Figure, list[plt.Axes]]:
    cols = max(1, min(max_cols, n))
    rows = max(1, math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows + 0.6), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _point_note(ctx: _Context, point: int) -> str:
    label = ctx.point_label(point)
    return f" at design point {point} ({label})" if label else ""


def _policy_figure(ctx: _Context, described: pd.DataFrame, point: int, path: Path) -> _Figure:
    metrics = ctx.metrics
    fig, axes = _grid(len(metrics))
    d = described[described.point == point]
    present = [p for p in ctx.policies if p in set(d["policy"])]
    for ax, metric in zip(axes, metrics, strict=True):
        rows = d[d.metric == metric].set_index("policy")
        means = np.array([rows.at[p, "mean"] if p in rows.index else np.nan for p in present], dtype=float)
        if not np.isfinite(means).any():
            _no_data(ax)
            ax.set_title(_title(metric), fontsize=10)
            continue
        lows = np.array([rows.at[p, "t_low"] if p in rows.index else np.nan for p in present], dtype=float)
        highs = np.array([rows.at[p, "t_high"] if p in rows.index else np.nan for p in present], dtype=float)
        divisor, ylabel = _scale(metric, np.r_[means, lows, highs])
        for i, p in enumerate(present):
            m = means[i] / divisor
            if not math.isfinite(m):
                ax.annotate("n/a", (i, 0.5), xycoords=("data", "axes fraction"), ha="center", color="0.5", fontsize=8)
                continue
            if _finite(lows[i], highs[i]):
                yerr = [[m - lows[i] / divisor], [highs[i] / divisor - m]]
                ax.errorbar(i, m, yerr=yerr, fmt="o", color=ctx.colours[p], capsize=5, markersize=7, lw=1.8)
            else:
                ax.plot(i, m, "o", color=ctx.colours[p], markersize=7)
        ax.set_xticks(range(len(present)), present, rotation=20 if max(map(len, present)) > 10 else 0, ha="right")
        ax.set_xlim(-0.6, len(present) - 0.4)
        ax.set_title(_title(metric), fontsize=10)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    n = int(d["n"].max()) if not d.empty else 0
    fig.suptitle(
        f"Policy comparison: mean of {n} replications with 95% t intervals{_point_note(ctx, point)}", fontsize=12
    )
    fig.tight_layout()
    _save(fig, path)
    return _Figure(
        f"{FIGURES}/{path.name}",
        "Policy comparison with 95% confidence intervals",
        f"Mean whole-run value of each headline metric per policy (dots) with its 95% t confidence interval "
        f"(bars) over {n} replications{_point_note(ctx, point)}; overlapping bars do not by themselves mean "
        "no difference: see the paired table.",
    )


def _missed_figure(ctx: _Context, point: int, path: Path) -> _Figure | None:
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
    fig, axes = _grid(len(segments), width=3.2 + 0.45 * len(present), height=3.4, max_cols=2)
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
    fig.suptitle(f"Missed opportunities by cause and segment (mean per run){_point_note(ctx, point)}", fontsize=12)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    _save(fig, path)
    return _Figure(
        f"{FIGURES}/{path.name}",
        "Missed opportunities by cause and segment",
        f"Opportunities missed over the whole run, mean over replications, split by cause of the miss, for all "
        f"accounts and for each segment{_point_note(ctx, point)}.",
    )


def _mean_curves(frame: pd.DataFrame, x: str, y: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean of each replication's curve, interpolated on the union of their x values."""
    grid = np.unique(np.round(frame[x].to_numpy(dtype=float), 9))
    curves = []
    for _, g in frame.groupby("replication"):
        g = g.sort_values(x)
        curves.append(np.interp(grid, g[x].to_numpy(dtype=float), g[y].to_numpy(dtype=float)))
    return grid, np.mean(curves, axis=0)


def _lorenz_figure(ctx: _Context, lorenz: pd.DataFrame, point: int, path: Path) -> _Figure | None:
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
        x, y = _mean_curves(g, "share_of_accounts", "share_of_hours")
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
    ax2.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}%"))
    ax2.legend(fontsize=8, loc="upper left")
    ax2.grid(alpha=0.3, which="major")
    n = lz.groupby("policy")["replication"].nunique().max()
    fig.suptitle(f"Attention across accounts, whole run (mean of {n} replications){_point_note(ctx, point)}")
    fig.tight_layout()
    _save(fig, path)
    return _Figure(
        f"{FIGURES}/{path.name}",
        "Lorenz curves of rep attention",
        "How unevenly rep hours are spread over accounts (all segments, whole run, mean curve over replications): "
        "left, the Lorenz curve (the further below the diagonal, the more concentrated); right, the share of hours "
        f"received by the most attended accounts{_point_note(ctx, point)}.",
    )


def _weekly_figure(ctx: _Context, weekly: pd.DataFrame, point: int, path: Path) -> _Figure | None:
    w = weekly[(weekly.point == point) & weekly.metric.isin(["recurring_revenue", "open_opportunities"])]
    if w.empty:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    panels = [
        ("recurring_revenue", "Recurring revenue recognised per week", "currency units per week"),
        ("open_opportunities", "Open opportunities at the end of each week", "open opportunities"),
    ]
    last_week = int(w["week"].max())
    for ax, (metric, title, unit) in zip(axes, panels, strict=True):
        m = w[w.metric == metric]
        if m.empty:
            _no_data(ax)
            ax.set_title(title, fontsize=10)
            continue
        divisor, suffix = 1.0, ""
        if metric == "recurring_revenue":
            top = float(np.nanmax(np.abs(m["value"].to_numpy(dtype=float)))) if m["value"].notna().any() else 0.0
            for s, d in (("bn", 1e9), ("M", 1e6), ("k", 1e3)):
                if top >= d:
                    divisor, suffix = d, f", {s}"
                    break
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
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(f"week of the run (dotted lines: quarter ends, {WEEKS_PER_QUARTER} weeks)")
        ax.set_ylabel(unit + suffix)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    n = w.groupby("policy")["replication"].nunique().max()
    fig.suptitle(
        f"Weekly series: mean of {n} replications, band = 2.5-97.5 percentiles across replications"
        f"{_point_note(ctx, point)}",
        fontsize=11,
    )
    fig.tight_layout()
    _save(fig, path)
    return _Figure(
        f"{FIGURES}/{path.name}",
        "Weekly recurring revenue and open opportunities",
        "Recurring revenue recognised each week and opportunities open at the end of each week, mean per policy "
        f"(line) with the 2.5-97.5 percentile range across replications (band){_point_note(ctx, point)}.",
    )


def _point_stats(values: pd.DataFrame) -> pd.DataFrame:
    """Per (point, policy, metric): n, mean and 95% t interval (no bootstrap: fast)."""
    rows = []
    for (point, policy, metric), g in values.groupby(["point", "policy", "metric"], sort=False):
        x = g["value"].to_numpy(dtype=float)
        finite = x[np.isfinite(x)]
        lo, hi = stats.t_interval(x)
        mean = float(finite.mean()) if finite.size else np.nan
        rows.append({"point": point, "policy": policy, "metric": metric, "mean": mean, "t_low": lo, "t_high": hi})
    return pd.DataFrame(rows, columns=["point", "policy", "metric", "mean", "t_low", "t_high"])


def _response_figure(ctx: _Context, per_point: pd.DataFrame, factor: str, path: Path) -> _Figure:
    metrics = ctx.metrics[:MAX_RESPONSE_METRICS]
    fig, axes = _grid(len(metrics), width=5.0, height=3.6, max_cols=2)
    xs = ctx.points.set_index("point")[factor]
    numeric = pd.api.types.is_numeric_dtype(xs) and not pd.api.types.is_bool_dtype(xs)
    categories = list(dict.fromkeys(xs.tolist()))
    position = {v: i for i, v in enumerate(categories)}
    connect = ctx.experiment.design.kind == "grid" and len(ctx.factors) == 1
    present = [p for p in ctx.policies if p in set(per_point["policy"])]
    # side by side, so that policies' intervals at the same factor value do not hide each other
    span = float(np.ptp(xs.to_numpy(dtype=float))) if numeric and len(xs) > 1 else 1.0
    dodge = 0.012 * span if numeric else 0.12
    offsets = np.linspace(-dodge, dodge, len(present)) if len(present) > 1 else np.zeros(len(present))
    for ax, metric in zip(axes, metrics, strict=True):
        d = per_point[per_point.metric == metric]
        if d.empty or not d["mean"].notna().any():
            _no_data(ax)
            ax.set_title(_title(metric), fontsize=10)
            continue
        divisor, ylabel = _scale(metric, d[["mean", "t_low", "t_high"]].to_numpy(dtype=float).ravel())
        for i, p in enumerate(present):
            g = d[d.policy == p].copy()
            g["x"] = g["point"].map(xs)
            g = g.sort_values("x", key=lambda s: s.map(position) if not numeric else s)
            x = (g["x"] if numeric else g["x"].map(position)).to_numpy(dtype=float) + offsets[i]
            m = g["mean"].to_numpy(dtype=float) / divisor
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
        ax.set_title(_title(metric), fontsize=10)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    if axes:
        handles, labels = axes[0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize=8)
    target = next(f for f in ctx.experiment.factors if f.name == factor).target
    fig.suptitle(f"Response to factor {factor} ({target}): mean per design point with 95% t intervals", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    _save(fig, path)
    spread = " (other factors vary between points)" if len(ctx.factors) > 1 else ""
    return _Figure(
        f"{FIGURES}/{path.name}",
        f"Response to factor {factor}",
        f"How the first {len(metrics)} headline metrics respond to factor {_code(factor)}: each marker is one design "
        f"point's mean over replications with its 95% t interval, one colour per policy{spread}.",
    )


def _sobol_figure(ctx: _Context, indices: pd.DataFrame, path: Path) -> _Figure | None:
    if indices.empty:
        return None
    metrics = [m for m in ctx.metrics if m in set(indices["metric"])][:MAX_RESPONSE_METRICS]
    present = [p for p in ctx.policies if p in set(indices["policy"])]
    fig, axes = plt.subplots(
        len(present), len(metrics), figsize=(3.6 * len(metrics) + 0.4, 3.0 * len(present) + 0.9), squeeze=False
    )
    x = np.arange(len(ctx.factors))
    width = 0.38
    for r, p in enumerate(present):
        for c, metric in enumerate(metrics):
            ax = axes[r, c]
            g = indices[(indices.policy == p) & (indices.metric == metric)].set_index("factor")
            if g.empty:
                _no_data(ax)
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
                    ax.errorbar(x + (k - 0.5) * width, v, yerr=[lo, hi], fmt="none", ecolor="0.2", capsize=3, lw=1)
                ax.axhline(0, color="0.3", lw=0.8)
                ax.set_xticks(x, ctx.factors, fontsize=8)
            ax.set_title(f"{_title(metric)}: {p}", fontsize=9)
            if c == 0:
                ax.set_ylabel("Sobol' index (share of variance)", fontsize=8)
            ax.tick_params(labelsize=8)
            ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8)
    fig.suptitle("Sobol' sensitivity indices with 95% bootstrap intervals", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    _save(fig, path)
    return _Figure(
        f"{FIGURES}/{path.name}",
        "Sobol' sensitivity indices",
        "Share of the variance of each metric across design points explained by each factor alone (first order) "
        "and with its interactions (total), per policy, with 95% bootstrap intervals; small base samples give "
        "wide intervals.",
    )


# ---- report sections -----------------------------------------------------------


def _what_was_run(ctx: _Context) -> list[str]:
    exp, sc, m = ctx.experiment, ctx.scenario, ctx.manifest
    lines = ["## What was run", ""]
    quarters = sc.get("quarters", exp.quarters)
    lines.append(
        f"- **Base scenario:** {_code(str(sc.get('name', exp.scenario)))} (file {_code(exp.scenario)})"
        + (f", {quarters} quarters" if quarters else "")
        + (f'; the scenario file describes it as "{sc["description"]}"' if sc.get("description") else "")
    )
    lines.append(f"- **Policies** (in this order; baseline {_code(ctx.baseline)}):")
    for p in exp.policies:
        params = ", ".join(f"{k} = {_value(v)}" for k, v in sorted(p.params.items())) or "default parameters"
        name = f" (policy {_code(p.name)})" if p.key != p.name else ""
        lines.append(f"    - {_code(p.key)}{name}: {params}")
    lines.append(
        f"- **Design:** {exp.design.kind}" + (f", base sample {exp.design.samples}" if exp.design.samples else "")
    )
    if exp.factors:
        lines.append("- **Factors:**")
        for f in exp.factors:
            span = ", ".join(_value(v) for v in f.values) if f.values else f"[{_value(f.low)}, {_value(f.high)}]"
            extra = ", rounded to whole numbers" if f.integer else ""
            lines.append(f"    - {_code(f.name)}: {f.mode} {_code(f.target)} to {span}{extra}")
    else:
        lines.append("- **Factors:** none (one design point)")
    if exp.shocks:
        lines.append(f"- **Shocks added to the scenario:** {len(exp.shocks)}")
    points = len(ctx.points)
    lines.append(
        f"- **Replications:** {exp.replications} per design point and policy, {points} design point"
        f"{'s' if points != 1 else ''}, {len(ctx.cells)} cells from {ctx.cells['run_key'].nunique()} distinct runs"
    )
    lines.append(f"- **Root seed:** {exp.seed} (replication seeds are spawned from it)")
    if m is not None and m.get("replication_seeds"):
        seeds = m["replication_seeds"]
        shown = ", ".join(str(s) for s in seeds[:5]) + (", ..." if len(seeds) > 5 else "")
        lines.append(f"- **Replication seeds:** {shown}")
    lines.append(f"- **Headline metrics:** {', '.join(_code(x) for x in exp.metrics)}")
    return lines


def _ledger(ctx: _Context) -> list[str]:
    lines = ["## Ledger", ""]
    runs = ctx.cells.drop_duplicates("run_key")
    counts = runs["status"].value_counts()
    done, failed = int(counts.get("done", 0)), int(counts.get("failed", 0))
    pending = len(runs) - done - failed
    cells_done = int((ctx.cells["status"] == "done").sum())
    lines.append(
        f"{done} runs done, {failed} failed, {pending} pending, of {len(runs)} distinct runs "
        f"({cells_done} of {len(ctx.cells)} cells have results)."
    )
    seconds = runs.loc[runs.status == "done", "seconds"].dropna()
    if not seconds.empty:
        lines.append(f"Run time: {seconds.sum():.1f} s in total, {seconds.median():.2f} s median per run.")
    if failed:
        lines += ["", "Failed runs (fix the cause and rerun the same command to resume):", ""]
        failures = ctx.cells[ctx.cells.status == "failed"].groupby("run_key", sort=False)
        for shown, (key, g) in enumerate(failures):
            if shown == MAX_FAILED_LISTED:
                lines.append(f"- ... and {failed - shown} more: every error is in the `runs` table of the store.")
                break
            where = "; ".join(f"point {r.point}, {r.policy}, replication {r.replication}" for r in g.itertuples())
            error = str(g["error"].iloc[0] or "no error message").replace("`", "'")
            lines.append(f"- run {_code(str(key)[:12])} ({where}): {_code(error)}")
    if pending:
        lines += ["", "Pending runs have not been executed yet: rerun the same command to resume the batch."]
    return lines


def _table_points(ctx: _Context, values: pd.DataFrame) -> tuple[list[int], bool]:
    points = sorted(values["point"].unique().tolist())
    if len(points) <= MAX_POINTS_IN_TABLES:
        return points, False
    return points[:1], True


def _means_section(ctx: _Context, described: pd.DataFrame, points: list[int], truncated: bool) -> list[str]:
    lines = [
        "## Means and 95% confidence intervals",
        "",
        "Whole-run value per run, segment `all`; mean over replications with the 95% t interval and the 95% BCa "
        "bootstrap interval (`-`: too few replications, or no defined value).",
    ]
    if truncated:
        lines.append(
            f"The design has {len(ctx.points)} points: the table shows the first; every point is in `{RESULTS_CSV}`."
        )
    for point in points:
        d = described[described.point == point]
        if len(points) > 1 or ctx.factors:
            lines += ["", f"### Design point {point}" + (f": {ctx.point_label(point)}" if ctx.factors else "")]
        rows = []
        for metric in ctx.metrics:
            g = d[d.metric == metric].set_index("policy")
            if g.empty:
                rows.append([_code(metric), "(no values recorded)", "0", "-", "-", "-"])
            for p in ctx.policies:
                if p not in g.index:
                    continue
                r = g.loc[p]
                rows.append(
                    [
                        _code(metric),
                        p,
                        str(int(r["n"])),
                        fmt(metric, float(r["mean"])),
                        _ci(metric, r["t_low"], r["t_high"]),
                        _ci(metric, r["boot_low"], r["boot_high"]),
                    ]
                )
        lines += ["", _md_table(["metric", "policy", "n", "mean", "95% t CI", "95% bootstrap CI"], rows, "llrrrr")]
    return lines


def _paired_section(ctx: _Context, values: pd.DataFrame, points: list[int], truncated: bool) -> list[str]:
    lines = ["## Paired differences against the baseline", ""]
    present = [p for p in ctx.policies if p in set(values["policy"])]
    if len(ctx.policies) < 2:
        return [*lines, "One policy only: there is nothing to compare."]
    if ctx.baseline not in present:
        return [*lines, f"The baseline {_code(ctx.baseline)} has no finished run: no paired comparison."]
    paired = stats.paired_differences(values[values.point.isin(points)], ctx.baseline)
    if paired.empty:
        return [*lines, "No policy other than the baseline has a finished run: no paired comparison."]
    lines.append(
        f"Policy minus baseline {_code(ctx.baseline)}, paired by replication (common random numbers). Differences "
        "of shares are in percentage points (pp). The Holm-adjusted p-value and the Bonferroni-adjusted "
        "(simultaneous) 95% interval correct for every comparison at the same design point."
    )
    if truncated:
        lines.append(f"The first of {len(ctx.points)} design points is shown; every run is in `{RESULTS_CSV}`.")
    for point in points:
        d = paired[paired.point == point]
        if d.empty:
            continue
        family = len(d)
        defined = int(d["p"].notna().sum())
        compared = d["policy"].nunique()
        heading = f"### Design point {point}: {ctx.point_label(point)}" if ctx.factors else ""
        if heading:
            lines += ["", heading]
        note = f"; {defined} with a defined p-value" if defined < family else ""
        lines += [
            "",
            f"Family: {family} comparisons ({compared} polic{'ies' if compared != 1 else 'y'} x "
            f"{d['metric'].nunique()} metrics{note}).",
        ]
        rows = []
        for metric in ctx.metrics:
            g = d[d.metric == metric].set_index("policy")
            for p in ctx.policies:
                if p not in g.index:
                    continue
                r = g.loc[p]
                show: Callable[[str, float], str] = _diff
                rows.append(
                    [
                        _code(metric),
                        f"{p} - {ctx.baseline}",
                        str(int(r["n"])),
                        _diff(metric, float(r["mean_diff"])),
                        _ci(metric, r["low"], r["high"], show),
                        _p(float(r["p_holm"])),
                        _ci(metric, r["low_adj"], r["high_adj"], show),
                    ]
                )
        lines += [
            "",
            _md_table(
                ["metric", "comparison", "pairs", "mean difference", "95% CI", "Holm p", "Bonferroni 95% CI"],
                rows,
                "llrrrrr",
            ),
        ]
    return lines


def _regret_section(ctx: _Context, per_point: pd.DataFrame) -> list[str]:
    """Stress test: how far each policy falls short of the best policy at each design point."""
    metrics = [m for m in HIGHER_IS_BETTER if m in ctx.metrics]
    if len(ctx.points) < 2 or len(ctx.policies) < 2 or not metrics or per_point.empty:
        return []
    lines = [
        "## Stress-test regret across design points",
        "",
        "At each design point, a policy's regret is the best policy's mean minus its own mean (0 when it is the "
        "best); points where a policy has no finished run are left out.",
    ]
    for metric in metrics:
        wide = per_point[per_point.metric == metric].pivot_table(index="point", columns="policy", values="mean")
        wide = wide[[p for p in ctx.policies if p in wide.columns]].dropna()
        if wide.empty or wide.shape[1] < 2:
            continue
        regret = wide.max(axis=1).to_numpy()[:, None] - wide.to_numpy()
        best = wide.to_numpy() == wide.max(axis=1).to_numpy()[:, None]
        rows = [
            [
                p,
                fmt(metric, float(regret[:, i].mean())),
                fmt(metric, float(regret[:, i].max())),
                f"{int(best[:, i].sum())} of {len(wide)}",
            ]
            for i, p in enumerate(wide.columns)
        ]
        lines += ["", f"{_code(metric)} (more is better):", ""]
        lines.append(_md_table(["policy", "mean regret", "worst regret", "best at"], rows))
    return lines


def _sobol(ctx: _Context, values: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Sobol' indices, or none and the reason: a failing statistic must not sink the rest of the report."""
    try:
        return stats.sobol_indices(values, ctx.points, ctx.factors, seed=ctx.experiment.seed), ""
    except (ArithmeticError, IndexError, ValueError) as e:
        return pd.DataFrame(), f"{type(e).__name__}: {e}"


def _sensitivity_section(
    ctx: _Context, values: pd.DataFrame, indices: pd.DataFrame | None, figure: _Figure | None, problem: str = ""
) -> list[str]:
    kind = ctx.experiment.design.kind
    if kind == "grid" or not ctx.factors:
        return []
    lines = ["## Sensitivity", ""]
    if kind == "sobol":
        assert indices is not None
        if problem:
            return [*lines, f"Sobol' indices could not be computed ({_code(problem)})."]
        if indices.empty:
            return [
                *lines,
                "No Sobol' indices: the design is incomplete (failed or pending runs) or the metrics do not vary.",
            ]
        lines.append(
            "Sobol' indices of each headline metric (replication means per design point): first order (Saltelli "
            "2010) and total (Jansen 1999), with 95% bootstrap intervals (999 resamples)."
        )
        rows = []
        for p in ctx.policies:
            for metric in ctx.metrics:
                g = indices[(indices.policy == p) & (indices.metric == metric)].set_index("factor")
                for factor in ctx.factors:
                    if factor not in g.index:
                        continue
                    r = g.loc[factor]
                    rows.append(
                        [
                            p,
                            _code(metric),
                            factor,
                            f"{r['first_order']:.2f}",
                            _ci("", r["first_low"], r["first_high"], lambda _m, v: f"{v:.2f}"),
                            f"{r['total']:.2f}",
                            _ci("", r["total_low"], r["total_high"], lambda _m, v: f"{v:.2f}"),
                        ]
                    )
        lines += [
            "",
            _md_table(["policy", "metric", "factor", "first order", "95% CI", "total", "95% CI"], rows, "lllrrrr"),
        ]
        if figure is not None:
            lines += ["", "The figure of these indices is with the others below."]
        return lines
    corr = stats.rank_correlations(values, ctx.points, ctx.factors)
    if corr.empty:
        return [*lines, "No rank correlations: too few design points with finished runs, or metrics that do not vary."]
    lines.append(
        "Spearman rank correlation of each factor with each headline metric across design points (replication "
        "means), with its p-value; |rho| near 1 means the metric moves steadily with the factor."
    )
    for p in ctx.policies:
        c = corr[corr.policy == p]
        if c.empty:
            continue
        rows = []
        for metric in ctx.metrics:
            g = c[c.metric == metric].set_index("factor")
            if g.empty:
                continue
            rows.append(
                [_code(metric)]
                + [f"{g.at[f, 'spearman']:+.2f} (p {_p(g.at[f, 'p'])})" if f in g.index else "-" for f in ctx.factors]
            )
        lines += ["", f"### {p}", "", _md_table(["metric", *ctx.factors], rows)]
    return lines


def _methods(ctx: _Context) -> list[str]:
    lines = [
        "## Definitions and methods",
        "",
        "Every metric is defined in `docs/metrics.md`; designs and statistics in `docs/experiments.md` "
        "(covsim repository).",
        "",
        "- **Unit of analysis:** one run's whole-run value of a metric for segment `all` (flows summed, stocks at "
        "the end, rates averaged over quarters: `sim.metrics.run_totals`); quarters within a run are not treated "
        "as independent.",
        "- **Common random numbers:** replication r of every policy and design point uses the same seed, spawned "
        "from the root seed, so policies are compared paired, replication by replication.",
        "- **t interval:** mean ± t(0.975, n-1) · s / sqrt(n), s the sample standard deviation of the n run values.",
        f"- **Bootstrap interval:** BCa bootstrap of the mean, {stats.BOOTSTRAP_RESAMPLES} resamples, fixed seed "
        f"{stats.BOOTSTRAP_SEED} (percentile interval when BCa is undefined; needs 3 or more replications).",
        "- **Multiple comparisons:** Holm's step-down correction of the paired t-test p-values, and Bonferroni "
        "intervals at level 1 - 0.05/m, over the m comparisons (policies x metrics) at one design point.",
    ]
    if ctx.experiment.design.kind == "sobol":
        lines.append(
            "- **Sobol' indices:** Saltelli's A/B/AB design; first order by Saltelli (2010), total by Jansen "
            "(1999), on replication means, with bootstrap intervals (999 resamples)."
        )
    if ctx.experiment.design.kind == "lhs":
        lines.append("- **Rank correlation:** Spearman's rho between factor values and replication means.")
    return lines


def _reproducibility(ctx: _Context) -> list[str]:
    lines = ["## Reproducibility", ""]
    m = ctx.manifest
    if m is None:
        lines.append("No `manifest.json` beside the store; the store's own record:")
        lines.append("")
        lines.append(f"- **Config hash:** `{ctx.config_hash or '-'}`")
        lines.append(f"- **Root seed:** {ctx.experiment.seed}")
        return lines
    lines.append(f"- **Config hash** (experiment and resolved scenario): `{m.get('config_hash', ctx.config_hash)}`")
    lines.append(f"- **Root seed:** {m.get('root_seed', ctx.experiment.seed)}")
    versions = m.get("versions") or {}
    if versions:
        lines.append("- **Versions:** " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    lines.append(f"- **Git commit:** `{m.get('git_commit') or 'unknown (not a git checkout)'}`")
    if m.get("written"):
        lines.append(f"- **Batch planned:** {m['written']}")
    lines.append(
        "- Runs are pure functions of their configuration and seed: the same experiment file, scenario and "
        "versions give the same results, bit for bit, on any executor."
    )
    return lines


def _figure_lines(number: int, figure: _Figure) -> list[str]:
    return ["", f"![Figure {number}: {figure.title}]({figure.path})", "", f"*Figure {number}. {figure.caption}*"]


# ---- the report ----------------------------------------------------------------


def _clean_leftovers(out_dir: Path) -> None:
    """Remove temporaries a killed report left behind (hidden ``.<name>.*`` beside our own files)."""
    names = [REPORT, RESULTS_CSV, RESULTS_PARQUET]
    for name in names:
        for tmp in out_dir.glob(f".{name}.*"):
            tmp.unlink(missing_ok=True)
    figures = out_dir / FIGURES
    if figures.is_dir():
        for tmp in figures.glob(".*.png.*"):
            tmp.unlink(missing_ok=True)


def write_report(store: Store, out_dir: Path) -> Path:
    """Write report.md, figures/*.png, results.csv and results.parquet into ``out_dir``; return report.md's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    owned = store.folder is not None and store.folder.resolve() == out_dir.resolve()
    if owned:
        _clean_leftovers(out_dir)  # we hold the store's lock: no other covsim process writes here
    ctx = _load(store, out_dir)
    _export(ctx, out_dir)

    exp = ctx.experiment
    lines = [f"# {exp.name}", ""]
    if exp.description:
        lines += [exp.description.strip(), ""]
    lines += _what_was_run(ctx)
    lines += ["", *_ledger(ctx)]

    produced: list[str] = []
    if ctx.results.empty:
        lines += [
            "",
            "## Results",
            "",
            "No finished runs yet: there is nothing to summarise. Run (or resume) the batch, then rebuild this "
            "report with `covsim report` on this folder.",
        ]
    else:
        sections, produced = _results_sections(ctx, out_dir)
        lines += sections
    if owned:
        _remove_stale_figures(out_dir, produced)

    lines += ["", *_methods(ctx), "", *_reproducibility(ctx), ""]
    atomic_write_text(out_dir / REPORT, "\n".join(lines))
    return out_dir / REPORT


def _remove_stale_figures(out_dir: Path, produced: list[str]) -> None:
    """Figures of an earlier report that this one did not draw (after --fresh, say) would mislead: remove them."""
    keep = {Path(p).name for p in produced}
    for path in (out_dir / FIGURES).glob("*.png"):
        if path.name not in keep and (path.stem in FIGURE_NAMES or path.stem.startswith("response_")):
            path.unlink(missing_ok=True)


def _results_sections(ctx: _Context, out_dir: Path) -> tuple[list[str], list[str]]:
    figures_dir = out_dir / FIGURES
    values = stats.run_values(ctx.results, ctx.metrics)
    points, truncated = _table_points(ctx, values)
    first = ctx.first_point
    shown = sorted({*points, first})
    described = stats.describe(values[values.point.isin(shown)])
    if not described.empty:
        described = described.astype({"n": int})

    lines = ["", *_means_section(ctx, described, points, truncated)]
    lines += ["", *_paired_section(ctx, values, points, truncated)]

    per_point = _point_stats(values) if len(ctx.points) > 1 else pd.DataFrame()
    regret = _regret_section(ctx, per_point)
    if regret:
        lines += ["", *regret]

    sobol_figure = None
    indices = None
    sobol_problem = ""
    if ctx.experiment.design.kind == "sobol" and ctx.factors:
        indices, sobol_problem = _sobol(ctx, values)
        sobol_figure = _sobol_figure(ctx, indices, figures_dir / "sobol_indices.png")
    sensitivity = _sensitivity_section(ctx, values, indices, sobol_figure, sobol_problem)
    if sensitivity:
        lines += ["", *sensitivity]

    figures: list[_Figure | None] = [
        _policy_figure(ctx, described, first, figures_dir / "policy_comparison.png"),
        _missed_figure(ctx, first, figures_dir / "missed_by_cause.png"),
        _lorenz_figure(ctx, ctx.lorenz, first, figures_dir / "lorenz_attention.png"),
        _weekly_figure(ctx, ctx.weekly, first, figures_dir / "weekly_series.png"),
    ]
    if ctx.factors and not per_point.empty:
        for factor in ctx.factors:
            figures.append(_response_figure(ctx, per_point, factor, figures_dir / f"response_{factor}.png"))
    figures.append(sobol_figure)
    drawn = [f for f in figures if f is not None]
    lines += ["", "## Figures"]
    for number, figure in enumerate(drawn, start=1):
        lines += _figure_lines(number, figure)
    lines += ["", f"All results, one row per run, quarter, segment and metric: `{RESULTS_CSV}`, `{RESULTS_PARQUET}`."]
    return lines, [f.path for f in drawn]
