"""The report's section on a full factorial (a grid design): whether each factor changes the policies'
comparison (policy x factor interaction) and how it moves each policy's result (main effects), on the answer's
metric (:mod:`sim.experiment.effects`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from sim.experiment.effects import factor_effects
from sim.experiment.report.context import ReportContext
from sim.experiment.report.markdown import code, md_table, value_text
from sim.experiment.stats import MIN_REPLICATIONS
from sim.format import difference, difference_beside, difference_interval, fmt


def factorial_section(ctx: ReportContext, values: pd.DataFrame, metric: str | None) -> tuple[list[str], str]:
    """The section's lines and its finding for the answer (the clear interactions in a sentence, "" when none
    is clear); nothing for a design that is not a grid of factors, or without a baseline to compare."""
    if ctx.experiment.design.kind != "grid" or not ctx.factors or metric is None:
        return [], ""
    effects = factor_effects(values, ctx.points, ctx.factors, ctx.baseline, metric)
    if effects.empty:
        return [], ""
    order = {p: i for i, p in enumerate(ctx.policies)}
    effects = effects.sort_values("policy", key=lambda s: s.map(order), kind="stable")
    effects = effects.sort_values("factor", key=lambda s: s.map(ctx.factors.index), kind="stable")
    n = int(effects["n"].iloc[0])
    lines = [
        "## Effects of the factors",
        "",
        f"On {code(metric)}, the answer's metric. A factor's level is the mean over the design points at that "
        "level (in a full factorial each level meets every setting of the other factors alike); a change is the "
        "last level's mean minus the first's, as the experiment file lists them, taken within each replication "
        f"(common random numbers pair them) and read over the {n} replications in which every policy has a value "
        "at every point, with a t interval Bonferroni-adjusted over the rows of its table. The means at every "
        "level are beside it, so a response that turns back between the ends is seen; the factors' figures draw "
        "every headline metric.",
    ]
    interaction = effects[effects.kind == "interaction"].to_dict("records")
    clear = [r for r in interaction if math.isfinite(r["low"]) and (r["low"] > 0 or r["high"] < 0)]
    finding = "; ".join(_moves(r, ctx.baseline, metric) for r in clear)
    if n < MIN_REPLICATIONS:
        lines += ["", f"With {n} such replications (fewer than {MIN_REPLICATIONS}), no change has an interval."]
    elif interaction:
        lead = _lead(finding, len(clear), len(interaction), ctx.baseline)
        lines += ["", f"**Does a factor change the comparison?** {lead}"]
    if interaction:
        lines += [
            "",
            f"Each policy's difference from the baseline {code(ctx.baseline)} at each level of each factor, and how "
            "much it changes from the first level to the last (the policy x factor interaction):",
            "",
            md_table(
                ["factor", "comparison", "difference by level", "change", "Bonferroni 95% CI"],
                [_row(r, f"{r['policy']} - {ctx.baseline}", metric, difference) for r in interaction],
                "lllrr",
            ),
        ]
    lines += [
        "",
        f"Each policy's {code(metric)} at each level of each factor, and its change from the first level to the "
        "last (the factor's main effect under that policy):",
        "",
        md_table(
            ["factor", "policy", "mean by level", "change", "Bonferroni 95% CI"],
            [_row(r, r["policy"], metric, fmt) for r in effects[effects.kind == "main"].to_dict("records")],
            "lllrr",
        ),
    ]
    return lines, finding


def _row(r: dict[str, Any], label: str, metric: str, show: Callable[[str, float], str]) -> list[str]:
    """A table's row: the factor, ``label``, the means at each level as ``show`` shows them, the change and its
    interval."""
    by_level = "; ".join(f"{value_text(v)}: {show(metric, m)}" for v, m in zip(r["levels"], r["by_level"], strict=True))
    change, low, high = r["change"], r["low"], r["high"]
    if r["constant"]:
        interval = "none (the same change in every replication)" if change else "none (no change in any replication)"
    else:
        interval = difference_interval(metric, low, high, beside=change) or "-"
    return [r["factor"], label, by_level, difference_beside(metric, change, low, high), interval]


def _moves(r: dict[str, Any], baseline: str, metric: str) -> str:
    """A clear interaction in words: ``segment_tiers``'s difference from ``unstructured`` changes with
    ``team_size``: +471.2k at team_size = 1, +204.4k at team_size = 3 (a change of -266.9k [-514.4k, -19.3k],
    Bonferroni-adjusted)."""
    levels, by_level, change, low, high = r["levels"], r["by_level"], r["change"], r["low"], r["high"]
    return (
        f"{code(r['policy'])}'s difference from {code(baseline)} changes with {code(r['factor'])}: "
        f"{difference(metric, by_level[0])} at {r['factor']} = {value_text(levels[0])}, "
        f"{difference(metric, by_level[-1])} at {r['factor']} = {value_text(levels[-1])} (a change of "
        f"{difference_beside(metric, change, low, high)} {difference_interval(metric, low, high, beside=change)}, "
        "Bonferroni-adjusted)"
    )


def _lead(finding: str, clear: int, rows: int, baseline: str) -> str:
    """The section's first sentence: the clear changes of a policy's difference and how many are not, or none."""
    if not finding:
        return (
            f"No: no change of a policy's difference from {code(baseline)} across a factor's levels is clear (each "
            "interval includes 0), so at these replications the comparison reads the same at every level."
        )
    rest = (
        f" The other {rows - clear} of the {rows} changes are not clear (each interval includes 0)."
        if rows > clear
        else ""
    )
    return f"Yes: {finding}.{rest}"
