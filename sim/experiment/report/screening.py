"""The report's Morris screening: ``morris.csv`` and its section (Morris designs only).

The computation is :func:`sim.experiment.morris.screening`; this module feeds
it the store's design points and run totals, writes the table and says in one
sentence which factor the comparison of the first policy with the baseline
hangs on most.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.catalogue import CATALOGUE
from sim.experiment import morris
from sim.experiment.design import morris_positions, morris_unit
from sim.experiment.report.context import ReportContext
from sim.experiment.report.markdown import code, finite, md_table
from sim.files import atomic_write
from sim.format import counted, difference, fmt, joined, number, p_value
from sim.units import Unit

MORRIS_CSV = "morris.csv"
#: The metric whose paired difference the section's first sentence is about, when the experiment has it.
LEAD_METRIC = "profit"


def morris_screening(ctx: ReportContext, values: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The screening table (:data:`sim.experiment.morris.COLUMNS`), or an empty one and the reason it failed."""
    try:
        table = morris.screening(
            values,
            ctx.points,
            morris_unit(ctx.experiment),
            ctx.factors,
            ctx.experiment.design.morris_levels,
            ctx.policies,
            ctx.baseline,
            morris_positions(ctx.experiment),
        )
    except (ArithmeticError, IndexError, ValueError) as e:  # a failing statistic must not sink the report
        return pd.DataFrame(columns=list(morris.COLUMNS)), f"{type(e).__name__}: {e}"
    return table, ""


def write_morris_csv(table: pd.DataFrame, out_dir: Path) -> None:
    atomic_write(out_dir / MORRIS_CSV, lambda p: table.to_csv(p, index=False))


def _effect(metric: str, v: float, signed: bool = False) -> str:
    """An elementary-effect statistic in the metric's unit (shares in percentage points)."""
    if not finite(v):
        return "-"
    entry = CATALOGUE.get(metric)
    if entry is not None and entry.unit is Unit.SHARE:
        return f"{100 * v:+.1f} pp" if signed else f"{100 * v:.1f} pp"
    return difference(metric, v) if signed else fmt(metric, v)


def _comparisons(ctx: ReportContext) -> list[str]:
    """Paired comparisons (policy - baseline) first, then each policy alone, in the experiment's order."""
    paired = [f"{p} - {ctx.baseline}" for p in ctx.policies if p != ctx.baseline]
    return paired + list(ctx.policies)


def morris_lead(ctx: ReportContext, table: pd.DataFrame) -> str:
    """The screening's finding in a sentence: the factors that stand out from the noise in the first comparison
    (the paired difference in profit, or the first policy), the largest and the next two, those whose mu* is
    above their noise floor (``morris.noise_floor``), and the largest of the others; with one replication, which
    gives no floor, the ranking with a warning that it may be noise; "" without effects."""
    ranked = table[np.isfinite(table["mu_star"].to_numpy(dtype=float))] if not table.empty else table
    if ranked.empty:
        return ""
    comparisons = [c for c in _comparisons(ctx) if c in set(ranked["comparison"])]
    metrics = [m for m in ctx.metrics if m in set(ranked["metric"])]
    m = LEAD_METRIC if LEAD_METRIC in metrics else metrics[0]
    lead = comparisons[0]
    top = ranked[(ranked.comparison == lead) & (ranked.metric == m)].sort_values("rank")
    if top.empty:
        return ""
    what = f"the paired difference {code(lead)}" if " - " in lead else f"{code(lead)}"
    at = f"at {counted(ctx.experiment.replications, 'replication')} a point"
    if not np.isfinite(top["noise_floor"].to_numpy(dtype=float)).any():
        # A researcher's interrupted screening of 4 replications had been told to run 2 or more.
        why, tell = (
            ("With one replication a point", "run 2 or more replications to tell")
            if ctx.experiment.replications < 2
            else (
                "Without a trajectory whose every replication has run (runs failed or pending)",
                "rerun the same command to finish the pending runs and retry the failed ones, then report, to tell",
            )
        )
        return (
            f"In {code(m)}, {_ranking(m, what, top, floors=False)}"
            f". {why} the noise floor cannot be estimated (it is the spread between replications): this ranking "
            f"may be noise alone; {tell}."
        )
    top = top[np.isfinite(top["noise_floor"].to_numpy(dtype=float))]  # a factor with no floor is judged by none
    above = top[top.mu_star > top.noise_floor]
    within = top[~(top.mu_star > top.noise_floor)]
    if above.empty:
        first = within.iloc[0]
        return (
            f"In {code(m)}, no factor stands out from the noise in {what}: every factor's mu* is within its noise "
            f"floor ({FLOOR_IS}; the largest, {code(str(first.factor))}'s {_effect(m, float(first.mu_star))}, "
            f"against {_effect(m, float(first.noise_floor))}), so mu* tells none from noise {at}"
            + (_signed(m, within, top) or ".")
        )
    said = f"In {code(m)}, {_ranking(m, what, above, floors=True)}"
    if within.empty:
        return f"{said}; every factor's mu* is above its noise floor ({FLOOR_IS})."
    first = within.iloc[0]
    one = len(within) == 1
    others = "the other factor's mu* is" if one else f"the other {len(within)} factors' mu* are"
    return (
        f"{said}; {others} within {'its noise floor' if one else 'their noise floors'} ({FLOOR_IS}; the largest, {code(str(first.factor))}'s "
        f"{_effect(m, float(first.mu_star))}, against {_effect(m, float(first.noise_floor))}): mu* does not tell "
        f"{'it' if one else 'them'} from noise {at}" + (_signed(m, within, top) or ".")
    )


def _p(p: float) -> str:
    """``p=0.012`` or ``p<0.001``, as the paired tables write a p."""
    said = p_value(float(p))
    return f"p{'' if said.startswith('<') else '='}{said}"


def sign_level(rows: pd.DataFrame) -> tuple[float, int]:
    """The p below which a factor's mu is called clear by its t test (``morris.screening``'s ``mu_p``): 5% over
    the k factors of ``rows`` that have a test (Sidak's 1 - 0.95^(1/k)), as the floors hold 95% over them; and k."""
    k = int(np.isfinite(rows["mu_p"].to_numpy(dtype=float)).sum())
    return (1.0 - 0.95 ** (1.0 / k) if k else 0.0), k


def _signed(metric: str, within: pd.DataFrame, rows: pd.DataFrame) -> str:
    """``; yet the t test of mu ... finds `x`'s (...) mean effect clear ...`` for the factors within their floor
    whose mean effect the test calls clear at ``sign_level`` over ``rows`` (a researcher's factor of one sign in
    every replication sat within its mu* floor: mu* is a size, not a test of the mean); "" for none."""
    level, tested = sign_level(rows)
    clear = within[within["mu_p"].to_numpy(dtype=float) < level]
    if clear.empty:
        return ""
    named = joined(
        [
            f"{code(str(r.factor))}'s ({_effect(metric, float(r.mu), signed=True)}, {_p(r.mu_p)})"
            for r in clear.itertuples()
        ]
    )
    return (
        f"; yet the t test of mu over the replications finds {named} mean effect{'s' if len(clear) > 1 else ''} "
        f"clear (p below {level:.4f}, 5% over the {tested} factors): of a size mu* does not tell from noise, but of "
        "one sign, over these trajectories."
    )


def _ranking(metric: str, what: str, rows: pd.DataFrame, floors: bool) -> str:
    """``what is most sensitive to `a`: mu* = ... (mu = ...), then `b` (...), `c` (...)``, from ``rows`` in rank
    order; with ``floors`` (the rows those above their noise floors), each with its floor, and said as the factors
    that stand out from the noise, not as the ones it is most sensitive to: a factor within its floor may have the
    larger effect, undetected (a researcher's screening named the 9th factor by mu* "most sensitive")."""
    first = rows.iloc[0]
    floor = (
        f", noise floor {_effect(metric, float(first.noise_floor))}; its replications' mean effects "
        f"{_spread(metric, first)}"
        if floors
        else ""
    )
    runners_up = rows.iloc[1:3]
    rest = ", ".join(
        f"{code(str(r.factor))} ({_effect(metric, float(r.mu_star))}"
        + (f", floor {_effect(metric, float(r.noise_floor))}" if floors else "")
        + ")"
        for r in runners_up[runners_up.mu_star > 0].itertuples()
    )
    above = int(first["rank"]) - 1
    # The factors ranked above it are within their floors: said, so that its rank does not read as a slip.
    ranked = (
        f"; rank {above + 1} by mu*, "
        + ("the factor above it within its floor" if above == 1 else f"the {above} factors above it within theirs")
        if floors and above > 0
        else ""
    )
    if not floors:
        said = f"{what} is most sensitive to {code(str(first.factor))}"
    elif len(rows) == 1:
        said = f"one factor alone stands out from the noise in {what}: {code(str(first.factor))}"
    else:
        said = f"{len(rows)} factors stand out from the noise in {what}, the largest {code(str(first.factor))}"
    return (
        f"{said}: mu* = "
        f"{_effect(metric, float(first.mu_star))} per whole range of the factor (mu = "
        f"{_effect(metric, float(first.mu), signed=True)}{floor}{ranked})" + (f", then {rest}" if rest else "")
    )


def _spread(metric: str, row: pd.Series) -> str:
    """The smallest and largest of a factor's replications' mean effects, ``+7.4k to +27.6k``."""
    low, high = float(row["replication_min"]), float(row["replication_max"])
    return f"{_effect(metric, low, signed=True)} to {_effect(metric, high, signed=True)}"


def _apart(metric: str, a: float, b: float) -> tuple[str, str]:
    """``a`` and ``b`` shown so that they differ when they do: with every digit where the metric's own
    rounding shows them alike (a mu* just above its floor)."""
    shown = _effect(metric, a), _effect(metric, b)
    if shown[0] != shown[1] or a == b or not finite(a, b):
        return shown
    entry = CATALOGUE.get(metric)
    if entry is not None and entry.unit is Unit.SHARE:
        return f"{100 * a:.4f} pp", f"{100 * b:.4f} pp"
    return number(a), number(b)


#: What a noise floor is, in a sentence's parenthesis.
FLOOR_IS = "the mu* below which replication noise alone keeps every factor in 95% of designs"


def _noise_paragraph(ctx: ReportContext) -> str:
    """What the noise floor is, and what it means here (one replication: none)."""
    if ctx.experiment.replications < 2:
        return (
            "**Noise floor:** none, with one replication a point. Replication noise alone gives a factor with no "
            "effect a mu* of about 0.8 times the noise of one effect, and only the spread between replications "
            "measures that noise: run 2 or more replications before reading the ranking."
        )
    few = (
        " With 2 replications the seed's shared part rests on one degree of freedom and the floors are wide: "
        "run 4 or more."
        if ctx.experiment.replications == 2
        else ""
    )
    return (
        "**Noise floor:** per factor, the mu* below which replication noise alone keeps every factor in 95% of "
        "designs (`morris.noise_floor`). A replication runs on one seed at every point, so its noise can move a "
        "factor's effect alike on every trajectory: the floor takes that shared part from the spread of the "
        "replications' mean effects (Student t, replications - 1 degrees of freedom) and each trajectory's own "
        "part from the rest of the spread, and takes the quantile of the mu* they give with no effect at a "
        "level that allows for the number of factors (Sidak 1967). A factor whose mu* is not above its floor is "
        "not told from noise by mu* at this replication count: its rank says nothing (mu's t test, the last "
        "column, says whether its mean effect is clear all the same). The floor takes the "
        "noise as normal and the seed as moving every trajectory alike; a skewed seed effect, or one that moves "
        "trajectories in different directions, passes it far more often than 5% (docs/experiments.md): read a "
        "factor above its floor as a lead to check with another seed, and look at its replications' mean effects "
        "over the trajectories (the column before the last: one seed far from the others, or both signs, is the "
        "warning). "
        "More replications lower the floors. **mu's t test:** Student's t of the replications' mean effects "
        "against 0 (replications - 1 degrees of freedom), a test of the mean effect over these trajectories "
        "where mu* is a size: `clear` below the p that holds 5% over the factors with a test (Sidak), as the "
        "floors do; a factor within its floor with a clear mu moves the metric by less than the floor, but in "
        "one direction."
        f"{few}"
    )


def morris_section(ctx: ReportContext, table: pd.DataFrame, problem: str = "") -> list[str]:
    """The lead sentence (top factor for the paired difference in profit), then the screening table."""
    lines = ["## Sensitivity", ""]
    if problem:
        return [*lines, f"The Morris screening could not be computed ({code(problem)})."]
    ranked = table[np.isfinite(table["mu_star"].to_numpy(dtype=float))] if not table.empty else table
    if ranked.empty:
        return [*lines, "No elementary effects: the design has no pair of consecutive points with finished runs."]
    design = ctx.experiment.design
    r, p, k = design.morris_trajectories, design.morris_levels, len(ctx.factors)
    comparisons = [c for c in _comparisons(ctx) if c in set(ranked["comparison"])]
    metrics = [m for m in ctx.metrics if m in set(ranked["metric"])]
    lead_sentence = morris_lead(ctx, table)
    if lead_sentence:
        lines += [lead_sentence, ""]
    lines.append(
        f"Morris elementary-effects screening (Morris 1991): {r} trajectories of {k + 1} points on a {p}-level grid, "
        f"each moving one factor at a time by Delta = {morris.delta(p):.3g} of its range. An elementary effect is "
        "the change in a metric over one step on each replication (one seed at both points; for `policy - "
        "baseline`, in the paired difference, common random numbers), divided by Delta (for a factor rounded to "
        "whole numbers, by the step its rounded values make) and averaged over the replications: units of the "
        "metric per whole range of the factor. mu* is the mean absolute effect (Campolongo, Cariboni & Saltelli "
        "2007), which ranks "
        "the factors (rank 1: most influential); mu the mean effect (its sign: the direction); sigma the "
        "standard deviation of the effects (large against mu*: a non-linear effect, one that depends on the "
        "other factors, or the noise between replications, which sigma carries too: the sigma of a factor within "
        f"its noise floor tells nothing apart). Every row is in `{MORRIS_CSV}`."
    )
    lines += ["", _noise_paragraph(ctx)]
    if int(ranked["effects"].min()) < r:
        lines.append(
            "Some effects are missing (failed or pending runs): the effects column counts those computed, of "
            f"{r} per factor."
        )
    rows = []
    for comparison in comparisons:
        for metric in metrics:
            g = ranked[(ranked.comparison == comparison) & (ranked.metric == metric)].sort_values("rank")
            level, _ = sign_level(g)
            for _, row in g.iterrows():
                mu_star, floor = _apart(metric, float(row.mu_star), float(row.noise_floor))
                rows.append(
                    [
                        comparison,
                        code(metric),
                        str(row["rank"]),
                        str(row.factor),
                        mu_star,
                        _effect(metric, float(row.mu), signed=True),
                        _effect(metric, float(row.sigma)),
                        str(row.effects),
                        floor,
                        # A factor that moved no run at all is said so, not "below" a floor of 0 (a researcher's
                        # speed-to-lead floor, which no segment_tiers run reads).
                        "no effect in any run"
                        if row.mu_star == 0 and row.sigma == 0
                        else "-"
                        if not finite(row.noise_floor)
                        else "yes"
                        if row.mu_star > row.noise_floor
                        else "no",
                        _spread(metric, row),
                        "-" if not finite(row.mu_p) else _p(float(row.mu_p)) + (", clear" if row.mu_p < level else ""),
                    ]
                )
    lines += [
        "",
        md_table(
            [
                "comparison",
                "metric",
                "rank",
                "factor",
                "mu*",
                "mu",
                "sigma",
                "effects",
                "noise floor",
                "above it",
                "replications' mean effects",
                "mu's t test",
            ],
            rows,
            "llrlrrrrrlrl",
        ),
    ]
    return lines
