"""The report's section on a full factorial (a grid design): whether each factor changes the policies'
comparison (policy x factor interaction) and how it moves each policy's result (main effects), on the answer's
metric (:mod:`sim.experiment.effects`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from sim.experiment.effects import factor_effects
from sim.experiment.report.context import ReportContext
from sim.experiment.report.markdown import code, md_table, value_text
from sim.experiment.stats import MIN_REPLICATIONS
from sim.format import (
    counted,
    difference,
    difference_beside,
    difference_interval,
    difference_with_interval,
    fmt_apart,
    joined,
)


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
    # The policies' main effects (no factor) first, then each factor's rows in the file's order.
    effects = effects.sort_values(
        "factor", key=lambda s: s.map(lambda f: ctx.factors.index(f) if f else -1), kind="stable"
    )
    n = int(effects["n"].iloc[0])
    had = set(values.loc[values.metric == metric, "policy"])
    left_out = [code(p) for p in ctx.policies if p in had and p not in set(effects.policy)]
    lines = [
        "## Effects of the factors",
        "",
        f"On {code(metric)}, the answer's metric. A factor's level is the mean over the design points at that "
        "level (in a full factorial each level meets every setting of the other factors alike); a change is the "
        "last level's mean minus the first's, as the experiment file lists them, taken within each replication "
        f"(common random numbers pair them) and read over the {n} replications in which every policy compared has "
        "a value at every point, with a t interval Bonferroni-adjusted over the rows of its table. The means at "
        "every level are beside it, so a response that turns back between the ends is seen; the factors' figures "
        "draw every headline metric.",
    ]
    if left_out:
        lines[-1] += (
            f" Left out: {joined(left_out)}, with no value at some design point (runs pending or failed there, or "
            "the metric undefined)."
        )
    lines += _over_the_design(effects[effects.kind == "policy"].to_dict("records"), ctx, metric)
    interaction = effects[effects.kind == "interaction"].to_dict("records")
    # A change the same in every replication and not 0 is no test, but no doubt either: said with the clear ones.
    clear = [r for r in interaction if (r["constant"] and r["change"]) or (r["low"] > 0 or r["high"] < 0)]
    finding = "; ".join(_moves(r, ctx.baseline, metric) for r in clear) + ("." if clear else "")
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
                [_row(r, f"{r['policy']} - {ctx.baseline}", metric, differences) for r in interaction],
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
            [_row(r, r["policy"], metric, fmt_apart) for r in effects[effects.kind == "main"].to_dict("records")],
            "lllrr",
        ),
    ]
    return lines, finding


def _over_the_design(rows: list[dict[str, Any]], ctx: ReportContext, metric: str) -> list[str]:
    """``**Over the whole design** (...): `a` +419.6k [+330.2k, +509.0k]; ...``: each policy's difference from the
    baseline averaged over every design point within a replication (its main effect), with its interval."""
    if not rows:
        return []
    each = "; ".join(
        f"{code(r['policy'])} "
        + (
            f"{difference(metric, r['change'])}, the same in every replication"
            if r["constant"]
            else difference_with_interval(metric, r["change"], r["low"], r["high"])
        )
        for r in rows
    )
    family, n = int(rows[0]["family"]), int(rows[0]["n"])
    intervals = (
        f"95% t intervals, Bonferroni-adjusted over the {family} policies"
        if family > 1
        else "95% t interval"
        if family
        else f"no interval with {counted(n, 'replication')}"
        if n < MIN_REPLICATIONS
        else "no test: each the same in every replication"
    )
    return [
        "",
        f"**Over the whole design** (each policy's difference from {code(ctx.baseline)} averaged over the "
        f"{counted(len(ctx.points), 'design point')} within each replication, its main effect; {intervals}): "
        f"{each}.",
    ]


def differences(metric: str, values: list[float]) -> list[str]:
    """Differences by level, each as :func:`sim.format.difference` shows it."""
    return [difference(metric, v) for v in values]


def _row(r: dict[str, Any], label: str, metric: str, show: Callable[[str, list[float]], list[str]]) -> list[str]:
    """A table's row: the factor, ``label``, the values at each level as ``show`` shows them, the change and its
    interval."""
    by_level = "; ".join(f"{value_text(v)}: {m}" for v, m in zip(r["levels"], show(metric, r["by_level"]), strict=True))
    change, low, high = r["change"], r["low"], r["high"]
    if r["constant"]:
        interval = "none (the same change in every replication)" if change else "none (no change in any replication)"
    else:
        interval = difference_interval(metric, low, high, beside=change) or "-"
    return [r["factor"], label, by_level, difference_beside(metric, change, low, high), interval]


#: A clear interaction's levels said one by one up to this many; beyond, the first and the last.
MAX_LEVELS_SAID = 4


def _moves(r: dict[str, Any], baseline: str, metric: str) -> str:
    """A clear interaction in words: ``segment_tiers``'s difference from ``unstructured`` changes with
    ``customers``: +1.0M at customers = 300, +2.0M at customers = 500, +3.0M at customers = 800 (a change of
    +2.0M [+1.2M, +2.9M], from the first level to the last, Bonferroni-adjusted over the 2 changes tested)."""
    levels, by_level, change, low, high = r["levels"], r["by_level"], r["change"], r["low"], r["high"]
    # Adjusted over its table's tests, or said to be the only one (a researcher's one test read "Bonferroni-adjusted"
    # as a correction made); the change is from the first level to the last, the levels between said beside it.
    family = int(r["family"])
    adjusted = f"Bonferroni-adjusted over the {family} changes tested" if family > 1 else "the only change tested"
    how = (
        f"{difference(metric, change)}, the same in every replication"
        if r["constant"]
        else f"{difference_beside(metric, change, low, high)} {difference_interval(metric, low, high, beside=change)}, "
        f"from the first level to the last, {adjusted}"
    )
    shown = range(len(levels)) if len(levels) <= MAX_LEVELS_SAID else (0, len(levels) - 1)
    at = ", ".join(f"{difference(metric, by_level[i])} at {r['factor']} = {value_text(levels[i])}" for i in shown)
    moves = f"{code(r['policy'])}'s difference from {code(baseline)} changes with {code(r['factor'])}"
    return f"{moves}: {at} (a change of {how})"


def _lead(finding: str, clear: int, rows: int, baseline: str) -> str:
    """The section's first sentence: the clear changes of a policy's difference and how many are not, or none."""
    if not finding:
        return (
            f"Not shown at these replications: no policy's difference from {code(baseline)} changes clearly from a "
            "factor's first level to its last (no interval excludes 0), which is no evidence that none does."
        )
    rest = f" The other {rows - clear} of the {rows} changes are not clear." if rows > clear else ""
    return f"Yes: {finding}{rest}"
