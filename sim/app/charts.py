"""The what-if page's charts of a comparison (Plotly figures): the report's figures, drawn for a browser.

Each policy keeps one colour in every chart and every comparison (Plotly's
default sequence, the ten colours of the report's matplotlib figures, where a
policy's colour follows its place in the experiment). Means are over
replications of whole-run values (segment ``all``), with 95% t intervals as
error bars, the intervals of the results table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from sim.app.engine import Comparison
from sim.catalogue import title
from sim.clock import WEEKS_PER_QUARTER
from sim.codes import CAUSES
from sim.experiment.report.figures import axis_scale, mean_curves
from sim.experiment.stats import MIN_REPLICATIONS
from sim.metrics import run_totals
from sim.plots import CAUSE_COLOURS
from sim.policies import BUILT_IN
from sim.records import ALL

PALETTE = qualitative.D3
MARGIN = {"l": 60, "r": 20, "t": 50, "b": 50}
LAYOUT = {"margin": MARGIN, "height": 360, "template": "plotly_white"}


def colours(policies: list[str]) -> dict[str, str]:
    """Each policy's colour: a built-in's by its place among the built-ins, the same in every comparison (a
    reader compares one run with the next by colour); another's (a user policy's) after them, in order."""
    order = {name: i % len(PALETTE) for i, name in enumerate(BUILT_IN)}
    out = {p: PALETTE[order[p]] for p in policies if p in order}
    # The others take the colours this comparison's built-ins leave, those no built-in has first.
    free = sorted(set(range(len(PALETTE))) - {order[p] for p in out}, key=lambda i: (i in order.values(), i))
    free = free or list(range(len(PALETTE)))  # ten built-ins in one comparison: the others share
    others = [p for p in policies if p not in order]
    out.update({p: PALETTE[free[k % len(free)]] for k, p in enumerate(others)})
    return {p: out[p] for p in policies}


def wrapped(text: str, width: int = 22) -> str:
    """``text`` in lines of about ``width`` characters (Plotly's ``<br>``): a panel's title no wider than its
    panel, where neighbouring titles ran into each other."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def means_figure(c: Comparison, metrics: tuple[str, ...], heading: str) -> go.Figure:
    """One panel per metric: each policy's mean whole-run value (bar) with its 95% t interval; ``heading``, with
    what its whiskers are (none below ``MIN_REPLICATIONS``: a heading of "95% t intervals" over bars with none
    read as intervals of no width)."""
    means = pd.concat([c.means, c.detail_means])
    shown = [m for m in metrics if not means.empty and m in set(means.metric)]
    titles = [wrapped(title(m)) for m in shown]
    fig = make_subplots(rows=1, cols=max(len(shown), 1), subplot_titles=titles)
    colour = colours(c.policies)
    for i, metric in enumerate(shown, start=1):
        rows = means[means.metric == metric].set_index("policy").reindex(c.policies)
        divisor, unit = axis_scale(metric, rows["mean"].to_numpy(dtype=float))
        for p in c.policies:
            r = rows.loc[p]
            fig.add_bar(
                x=[p],
                y=[r["mean"] / divisor],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [(r["t_high"] - r["mean"]) / divisor],
                    "arrayminus": [(r["mean"] - r["t_low"]) / divisor],
                },
                marker_color=colour[p],
                name=p,
                showlegend=i == 1,
                row=1,
                col=i,
            )
        # Wrapped: a long unit ran over the bars of the panel to its left (the rep lottery's).
        fig.update_yaxes(title_text=wrapped(unit, 26), title_font={"size": 10}, row=1, col=i)
        values = rows["mean"].to_numpy(dtype=float)
        axis = "" if i == 1 else str(i)
        if not (np.abs(values[np.isfinite(values)]) > 0).any():
            # An empty panel on a -1..1 axis said nothing (accounts that changed owner, under policies of no owners).
            undefined = [p for p, v in zip(c.policies, values, strict=True) if not np.isfinite(v)]
            said = (
                "undefined in every run"
                if len(undefined) == len(c.policies)
                else ("0 under every policy" if not undefined else f"0, and undefined for {', '.join(undefined)}")
            )
            fig.add_annotation(text=said, xref=f"x{axis} domain", yref=f"y{axis} domain", x=0.5, y=0.5, showarrow=False)
        else:  # a policy with no bar is undefined there, not 0 (a trial read "promised a touch" of none as 0%)
            for p, v in zip(c.policies, values, strict=True):
                if not np.isfinite(v):
                    fig.add_annotation(text="undefined", x=p, y=0, xref=f"x{axis}", yref=f"y{axis}", showarrow=False,
                                       yshift=10, textangle=-90)  # fmt: skip
    fig.update_annotations(font_size=12)
    n = c.experiment.replications
    whiskers = (
        "95% t intervals" if n >= MIN_REPLICATIONS else f"no intervals: they need {MIN_REPLICATIONS} replications"
    )
    # Room for the panels' titles under the heading, as many lines as the longest has (a third line had run into
    # the heading).
    lines = max((t.count("<br>") + 1 for t in titles), default=1)
    fig.update_layout(**{**LAYOUT, "margin": {**MARGIN, "t": 50 + 23 * lines}}, title=f"{heading} ({whiskers})")
    return fig


def misses_figure(c: Comparison) -> go.Figure:
    """Opportunities missed over the run, mean per replication, stacked by cause, per policy."""
    names = [f"missed_{cause}" for cause in CAUSES]
    r = c.results[(c.results.segment == ALL) & c.results.metric.isin(names)]
    totals = run_totals(r, by=("point", "policy", "replication"))
    means = totals.groupby(["policy", "metric"])["value"].mean()
    fig = go.Figure()
    for cause, colour in zip(CAUSES, CAUSE_COLOURS, strict=True):
        v = [float(means.get((p, f"missed_{cause}"), 0.0)) for p in c.policies]
        fig.add_bar(x=c.policies, y=v, name=cause.replace("_", " "), marker_color=colour)
    fig.update_layout(
        **LAYOUT,
        barmode="stack",
        title="Missed opportunities by cause (mean per run)",
        yaxis_title="opportunities missed over the run",
        legend_title_text="cause of the miss",
    )
    return fig


def lorenz_figure(c: Comparison) -> go.Figure:
    """Lorenz curve of rep hours over accounts (all segments, whole run), the mean curve over replications."""
    lz = c.lorenz[c.lorenz.segment == ALL]
    fig = go.Figure()
    fig.add_scatter(
        x=[0, 100], y=[0, 100], mode="lines", name="equal attention", line={"dash": "dash", "color": "#999"}
    )
    colour = colours(c.policies)
    for p in c.policies:
        g = lz[lz.policy == p]
        if g.empty:
            continue
        x, y = mean_curves(g, "share_of_accounts", "share_of_hours")
        fig.add_scatter(x=100 * x, y=100 * y, mode="lines", name=p, line={"color": colour[p], "width": 3})
    fig.update_layout(
        **LAYOUT,
        title="Lorenz curve of rep attention (the further below the diagonal, the more concentrated)",
        xaxis_title="accounts, least attended first (% of accounts)",
        yaxis_title="cumulative rep hours (% of hours)",
    )
    return fig


def weekly_figure(c: Comparison, metric: str) -> go.Figure:
    """A weekly series per policy: the mean over replications (line) and the 2.5-97.5 percentile band."""
    w = c.weekly[c.weekly.metric == metric]
    fig = go.Figure()
    colour = colours(c.policies)
    divisor, unit = (1.0, "open opportunities at the end of the week")
    if metric == "recurring_revenue":
        divisor, scale = axis_scale("revenue_captured", w["value"].to_numpy(dtype=float))
        unit = "recurring revenue per week, " + scale.split(" (")[0]
    for p in c.policies:
        g = w[w.policy == p].groupby("week")["value"]
        if not len(g):
            continue
        mean, low, high = g.mean() / divisor, g.quantile(0.025) / divisor, g.quantile(0.975) / divisor
        weeks = mean.index.to_numpy()
        fig.add_scatter(
            x=np.r_[weeks, weeks[::-1]],
            y=np.r_[high.to_numpy(), low.to_numpy()[::-1]],
            fill="toself",
            fillcolor=colour[p],
            opacity=0.15,
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
        )
        fig.add_scatter(x=weeks, y=mean.to_numpy(), mode="lines", name=p, line={"color": colour[p], "width": 2})
    last = int(w["week"].max()) if not w.empty else 0
    for q in range(WEEKS_PER_QUARTER, last + 1, WEEKS_PER_QUARTER):
        fig.add_vline(x=q - 0.5, line={"color": "#bbb", "width": 1, "dash": "dot"})
    heading = "Recurring revenue per week" if metric == "recurring_revenue" else "Open opportunities per week"
    fig.update_layout(
        **LAYOUT,
        title=f"{heading} (line: mean; band: 2.5-97.5 percentiles across replications)",
        xaxis_title=f"week of the run (dotted: quarter ends, {WEEKS_PER_QUARTER} weeks)",
        yaxis_title=unit,
    )
    return fig


def figures(c: Comparison) -> dict[str, go.Figure]:
    """Every chart of the page, by its name."""
    return {
        "revenue": means_figure(c, ("revenue_captured", "profit"), "Revenue captured and profit"),
        "misses": misses_figure(c),
        "response": means_figure(
            c,
            ("response_days_mean", "response_days_p90", "promised_untouched_share", "rep_lottery"),
            "Response times and consistency of treatment",
        ),
        "continuity": means_figure(
            c, ("owner_changed_share", "personal_stock_lost"), "Continuity: owners changed and relationship lost"
        ),
        "lorenz": lorenz_figure(c),
        "weekly_revenue": weekly_figure(c, "recurring_revenue"),
        "weekly_open": weekly_figure(c, "open_opportunities"),
    }
