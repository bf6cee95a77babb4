"""How many reps: a grid's factor on rep groups' counts, read as the decision it is.

Where a grid factor sets or scales ``scenario.reps.<i>.count`` (or ``*``),
each policy's profit is read at each of the factor's levels (its mean over the
replications, and over the other factors' points at that level, as the main
effects are), with the seats that level makes of the base scenario: the level
with the most profit, its paired difference from the next level on each side
(a paired 95% t interval over the replications, not adjusted across the
policies and levels: a guide to where the optimum lies, not a test), and
whether it is at an edge of the grid tried, beyond which a team may do better
still; then, where a level has the base scenario's own seats, each other
level against it, a cut or a hire, with its recurring revenue by segment
(who feels it: a capacity trial's finance team asked what a cut of six reps
loses and where, and the note had said only the best size). An analyst's team-size experiment had answered which policy was best,
at the point where it led least, and never named a team size; profit kept
rising as the team shrank, to the edge of the grid, unsaid.

Profit counts every seat's ``cost_per_year`` (an assumption of the scenario)
against the margin on recurring revenue: the note says so, as the answer
rests on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.experiment import stats
from sim.experiment.design import DesignPoint, apply_point
from sim.experiment.report.context import ReportContext
from sim.experiment.report.markdown import value_text
from sim.experiment.spec import Factor
from sim.format import difference, difference_with_interval, joined, no_spread_words
from sim.metrics import run_totals

#: A factor target that sets or scales rep groups' counts.
SEATS_TARGET = re.compile(r"^scenario\.reps\.(\d+|\*)\.count$")
#: A factor target that sets rep groups' costs.
COST_TARGET = re.compile(r"^scenario\.reps\.(\d+|\*)\.cost_per_year$")
#: What the note is read on: the bottom line, which counts the seats' cost.
METRIC = "profit"


def team_factor(ctx: ReportContext) -> Factor | None:
    """The first factor of a grid that sets or scales rep groups' counts, with two levels or more; else None."""
    exp = ctx.experiment
    if exp.design.kind != "grid" or exp.suite:
        return None
    return next((f for f in exp.factors if SEATS_TARGET.match(f.target) and len(set(f.values)) > 1), None)


def team_size_note(ctx: ReportContext, quote: Callable[[str], str]) -> str:
    """``On team size (...): `a` makes the most profit at team = 1.5 (52 seats), ...``; "" when the design has no
    team factor or no profit to read (module docstring)."""
    factor = team_factor(ctx)
    if factor is None or ctx.results.empty:
        return ""
    values = stats.run_values(ctx.results, [METRIC])
    if values.empty:
        return ""
    level_of = ctx.points.set_index("point")[factor.name]
    # By size, whatever order the file lists them in: neighbours and edges are of the team's size (a review's
    # [2, 1, 3] had set 1 beside 3).
    levels = sorted(set(level_of))
    teams = _teams(ctx, factor, levels)
    seats = {level: sum(team) for level, team in teams.items()}
    # The scenario's own team, where a level has its seats group by group (not only their total: 4 + 2 and 3 + 3
    # are both 6): what a cut or a hire is read against (a capacity trial's cut of 6 reps was said only beside the
    # best size, which was the larger team).
    base = tuple(int(g.get("count", 0)) for g in ctx.scenario.get("reps", []))
    own = next((i for i, level in enumerate(levels) if teams.get(level) == base), None)
    recurring = _by_segment(ctx, level_of)
    said = []
    for policy in ctx.policies:
        mine = values[values.policy == policy]
        # replications x levels: the mean over the level's points in each replication (every level present)
        wide = mine.assign(level=mine.point.map(level_of)).pivot_table(
            index="replication", columns="level", values="value", aggfunc="mean"
        )
        wide = wide.reindex(columns=levels).dropna(how="any")
        if wide.empty:
            continue
        best = int(np.argmax(wide.mean().to_numpy()))
        by_segment = recurring.get(policy, pd.DataFrame())
        if not by_segment.empty:  # the replications the profit figures rest on
            by_segment = by_segment.loc[by_segment.index.intersection(wide.index)]
        said.append(_policy_said(policy, wide, levels, best, own, seats, factor.name, quote, by_segment))
    if not said:
        return ""
    # A level of several points is their mean: a researcher read one level's profit as one world's.
    others = [f for f in ctx.factors if f != factor.name]
    many = int(level_of.value_counts().max()) if others else 1
    over = (
        f"; each size's profit the mean over its {many} design points, across {joined([quote(f) for f in others])}"
        if many > 1
        else ""
    )
    return (
        f"On team size ({quote(factor.name)}, on {quote(METRIC)}, which counts each seat's cost a year "
        f"({_costs(ctx, quote)}){over}; paired 95% t intervals over the replications, each its own, "
        "not adjusted across policies and levels as the answer's are, so narrower for the same pair: where the best "
        f"size lies and what a cut or a hire does, not a test): {' '.join(said)}"
    )


def _policy_said(
    policy: str,
    wide: pd.DataFrame,
    levels: list[object],
    best: int,
    own: int | None,
    seats: dict[object, int],
    name: str,
    quote: Callable[[str], str],
    by_segment: pd.DataFrame,
) -> str:
    """One policy's sentence: its best level, the differences from its neighbours (but the scenario's own team's),
    an edge said, then each other level against the scenario's own team (``own``, when a level has its seats),
    with its recurring revenue by segment (``by_segment``: replications x (level, segment))."""

    def at(i: int) -> str:
        count = seats.get(levels[i])
        return f"{name} = {value_text(levels[i])}" + (f" ({count:,} seats)" if count is not None else "")

    def paired(i: int, j: int) -> str:
        mean, low, high = _paired_t(wide[levels[i]].to_numpy(dtype=float), wide[levels[j]].to_numpy(dtype=float))
        said = difference_with_interval(METRIC, mean, low, high)
        if np.isfinite(low) or not np.isfinite(mean):
            return said
        # No interval: say why, as the tables do (a seat's cost alone, the same in every replication, read bare).
        few = len(wide) < stats.MIN_REPLICATIONS
        return f"{said} ({'no interval: too few replications' if few else no_spread_words(mean)})"

    # Beside the best, its neighbours; the scenario's own team is said against every level below instead.
    near = [] if best == own else [j for j in (best - 1, best + 1) if 0 <= j < len(levels) and j != own]
    against = [f"{quote(METRIC)} {paired(best, j)} against {at(j)}" for j in near]
    where = f"the scenario's own team, {at(best)}" if best == own else at(best)
    said = f"{quote(policy)} makes the most at {where}" + (f": {joined(against)}" if against else "")
    if best in (0, len(levels) - 1):  # the levels are in order of size
        smallest = best == 0
        said += f"; it is the {'smallest' if smallest else 'largest'} team tried, and a "
        said += f"{'smaller' if smallest else 'larger'} one may do better still"
    if own is None:
        return said + "."
    each = []
    for j in range(len(levels)):
        if j != own:
            segments = _segments_said(by_segment, levels[j], levels[own], quote)
            each.append(f"at {at(j)}, {quote(METRIC)} {paired(j, own)}" + (f" ({segments})" if segments else ""))
    head = "against it" if best == own else f"against the scenario's own team, {at(own)}"
    return f"{said}; {head}: {'; '.join(each)}."


def _by_segment(ctx: ReportContext, level_of: pd.Series) -> dict[str, pd.DataFrame]:
    """Per policy, recurring revenue by segment: replications x (level, segment), each the mean over the level's
    points in a replication; {} where the results have no segment but ``all``."""
    r = ctx.results[(ctx.results.metric == "recurring_revenue") & (ctx.results.segment != "all")]
    if r.empty:
        return {}
    totals = run_totals(r, by=("point", "policy", "replication"))
    totals = totals.assign(level=totals.point.map(level_of))
    return {
        str(p): g.pivot_table(index="replication", columns=["level", "segment"], values="value", aggfunc="mean")
        for p, g in totals.groupby("policy")
    }


def _segments_said(by_segment: pd.DataFrame, level: object, own: object, quote: Callable[[str], str]) -> str:
    """``recurring revenue -10.1M in enterprise, 0 in smb``: ``level`` less ``own``, paired means over the
    replications, by segment, largest change first; "" without segments."""
    if by_segment.empty or level not in by_segment.columns.get_level_values(0):
        return ""
    d = (by_segment[level] - by_segment[own]).dropna(how="all").mean()
    if d.empty:
        return ""
    d = d.reindex(d.abs().sort_values(ascending=False).index)
    return "recurring revenue " + ", ".join(f"{difference('recurring_revenue', v)} in {quote(k)}" for k, v in d.items())


def _costs(ctx: ReportContext, quote: Callable[[str], str]) -> str:
    """Each role's ``cost_per_year`` in the base scenario (``full_cycle 180,000, inside 110,000: assumptions of
    the scenario``), and the factors that set some of them at the design's points (a review's second factor on a
    group's cost had been left unsaid beside the base's figures)."""
    groups = ctx.scenario["reps"]
    setters = {
        i: [quote(f.name) for f in ctx.experiment.factors if _sets_cost(f.target, i)] for i in range(len(groups))
    }
    costs = dict.fromkeys(
        (str(g.get("role", "")), float(g.get("cost_per_year", 0.0)), ", ".join(setters[i]))
        for i, g in enumerate(groups)
    )
    said = ", ".join(
        f"{role} {cost:,.0f}" + (f" (set by {by} at the design's points)" if by else "") for role, cost, by in costs
    )
    return f"{said}: assumptions of the scenario" if said else "`cost_per_year`"


def _sets_cost(target: str, group: int) -> bool:
    """Whether a factor's ``target`` sets the ``cost_per_year`` of rep group ``group``."""
    found = COST_TARGET.match(target)
    return found is not None and found[1] in ("*", str(group))


def _paired_t(best: np.ndarray, other: np.ndarray) -> tuple[float, float, float]:
    """The mean of the paired differences ``best - other`` and its 95% t interval, read as every paired test is
    (``stats.read_pairs``: NaN ends with fewer than 3 pairs, or with no spread beyond round-off)."""
    d, constant = stats.read_pairs(best - other, float(np.abs(np.r_[best, other]).max(initial=0.0)))
    low, high = (float("nan"), float("nan")) if constant else stats.t_interval(d, 0.95)
    return float(d.mean()), float(low), float(high)


def _teams(ctx: ReportContext, factor: Factor, levels: list[object]) -> dict[object, tuple[int, ...]]:
    """The seats of each group of the base scenario's reps at each level of ``factor``, the other factors at their
    first values; none where another factor sets the counts too (its points at one level of this one have several
    teams). A factor on the groups' costs leaves the seats as they are."""
    exp = ctx.experiment
    if any(f is not factor and SEATS_TARGET.match(f.target) for f in exp.factors):
        return {}
    others = {f.name: f.values[0] for f in exp.factors if f is not factor}
    out: dict[object, tuple[int, ...]] = {}
    for level in levels:
        point = DesignPoint(0, {**others, factor.name: level})
        data, _, problems = apply_point(ctx.scenario, exp, point)
        if not problems:
            out[level] = tuple(int(g.get("count", 0)) for g in data.get("reps", []))
    return out
