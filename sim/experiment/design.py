"""Design points and the runs they call for.

A *cell* is (design point, policy label, replication); a *run* is what the
simulator executes, keyed by the hash of its full configuration (resolved
scenario, policy, parameters, seed). Cells whose configuration is identical
(a factor a policy does not have, say) share one run.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import qmc

from sim.config import locate, value_paths
from sim.errors import InputError
from sim.experiment import morris
from sim.experiment.jobs import RunSpec
from sim.experiment.spec import Experiment, Factor, content_hash, finite_number
from sim.experiment.suite import UNSHOCKED
from sim.experiment.targets import missed_target
from sim.format import joined, toml_text
from sim.policies import BUILT_IN, make_policy, policy_class
from sim.policies.hints import did_you_mean
from sim.policies.protocol import not_default
from sim.policies.rollout import current_policy
from sim.scenario import Scenario, parse_scenario


@dataclass(frozen=True)
class DesignPoint:
    """One combination of factor values.

    For Sobol' designs, ``block`` is ``A``, ``B`` or ``AB<i>`` (column i from B)
    and ``row`` the sample index; for Morris designs, ``block`` is ``T<t>``
    (trajectory t) and ``row`` the point's step j along it (0 to the number of
    factors); both are empty / -1 otherwise.
    """

    index: int
    values: dict[str, Any]
    block: str = ""
    row: int = -1


@dataclass(frozen=True)
class Cell:
    point: int
    policy: str  # label
    replication: int
    run_key: str


def replication_seeds(root: int, replications: int) -> list[int]:
    """One 63-bit seed per replication, spawned from the root seed."""
    children = np.random.SeedSequence(root).spawn(replications)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


def design_points(exp: Experiment) -> list[DesignPoint]:
    """The experiment's design points; with a stress suite, each factor setting once unshocked and once under
    each stress (the value of ``shock``), in that order."""
    points = _factor_points(exp)
    if not exp.suite:
        return points
    names = [UNSHOCKED, *(s.name for s in exp.suite)]
    return [
        DesignPoint(i * len(names) + j, {**p.values, "shock": name}, p.block, p.row)
        for i, p in enumerate(points)
        for j, name in enumerate(names)
    ]


def _factor_points(exp: Experiment) -> list[DesignPoint]:
    factors = exp.factors
    if not factors:
        return [DesignPoint(0, {})]
    if exp.design.kind == "grid":
        # An integer factor that sets its values is labelled by what it sets: 2.5 ran 2 reps, labelled 2.5.
        shown = [[_rounded(f, v) for v in f.values] for f in factors]
        combos = itertools.product(*shown)
        return [
            DesignPoint(i, {f.name: v for f, v in zip(factors, combo, strict=True)}) for i, combo in enumerate(combos)
        ]
    d, n = len(factors), exp.design.samples
    if exp.design.kind == "morris":
        # Morris (1991): r trajectories of d + 1 points on a p-level grid, one factor moving per step.
        unit = morris_unit(exp)
        return [
            DesignPoint(t * (d + 1) + j, _scaled(factors, u), f"T{t}", j)
            for t, trajectory in enumerate(unit)
            for j, u in enumerate(trajectory)
        ]
    if exp.design.kind == "lhs":
        unit = qmc.LatinHypercube(d=d, rng=np.random.default_rng(exp.seed)).random(n)
        return [DesignPoint(i, _scaled(factors, u)) for i, u in enumerate(unit)]
    # Saltelli's scheme: A and B from one 2d-dimensional scrambled Sobol' sequence;
    # AB_i is A with column i taken from B.
    unit = qmc.Sobol(d=2 * d, scramble=True, rng=np.random.default_rng(exp.seed)).random_base2(int(np.log2(n)))
    a, b = unit[:, :d], unit[:, d:]
    points: list[DesignPoint] = []
    blocks = [("A", a), ("B", b)]
    for i in range(d):
        ab = a.copy()
        ab[:, i] = b[:, i]
        blocks.append((f"AB{i}", ab))
    for block, matrix in blocks:
        for row, u in enumerate(matrix):
            points.append(DesignPoint(len(points), _scaled(factors, u), block, row))
    return points


def morris_unit(exp: Experiment) -> np.ndarray:
    """The trajectories of a Morris design in the unit cube, shape (r, factors + 1, factors), from the root seed.

    Design point ``t (factors + 1) + j`` is point j of trajectory t, scaled to
    each factor's [low, high].
    """
    d = exp.design
    return morris.trajectories(len(exp.factors), d.morris_trajectories, d.morris_levels, exp.seed)


def morris_positions(exp: Experiment) -> np.ndarray:
    """The points of :func:`morris_unit` as they run, in the unit cube: ``(value - low) / (high - low)`` of each
    factor's value at the point. A rounded (integer) factor's step can differ from Delta: low 1, high 5, p = 4
    runs 1 + 2/3 x 4 = 3.67 as 4, a step of 0.75 of the range, not 0.667 (``morris.elementary_effects``)."""
    unit = morris_unit(exp)
    out = unit.copy()
    for t, trajectory in enumerate(unit):
        for j, u in enumerate(trajectory):
            values = _scaled(exp.factors, u)
            for i, f in enumerate(exp.factors):
                assert f.low is not None and f.high is not None
                out[t, j, i] = (values[f.name] - f.low) / (f.high - f.low)
    return out


def _rounded(factor: Factor, value: Any) -> Any:
    """A grid value as it is set: rounded for an integer factor that sets its values (a number)."""
    return round(value) if factor.integer and factor.mode == "set" and finite_number(value) else value


def _scaled(factors: tuple[Factor, ...], unit: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f, u in zip(factors, unit, strict=True):
        assert f.low is not None and f.high is not None
        v = f.low + float(u) * (f.high - f.low)
        out[f.name] = round(v) if f.integer else v
    return out


def _factored(current: Any, value: Any, factor: Factor, where: str) -> Any:
    """What ``factor`` makes of ``current`` with its ``value``: set or scaled, and rounded for an integer factor;
    or InputError at ``where`` (its values' key) when that has no whole number (inf, nan), with how it was made
    (``2 x 1e+308 is inf``)."""
    new = current * value if factor.mode == "scale" else value
    if not factor.integer:
        return new
    if not math.isfinite(new):
        made = f"{current!r} x {value!r}" if factor.mode == "scale" else repr(value)
        raise InputError([f"{where}: {made} is {new}, which has no whole number to round to (is the value too large?)"])
    return round(new)


def _apply(data: dict[str, Any], path: str, factor: Factor, value: Any, where: str) -> int:
    """Set (or scale) every value ``path`` names in the scenario data; returns how many changed.

    ``path`` is read by :func:`sim.config.locate` (``*`` matches every list item
    or key); ``scale`` passes over values that are not numbers; ``where``: the factor's values' key, which a
    value an integer factor cannot round is said at.
    """
    changed = 0
    for container, key in locate(data, path):
        current = container[key]
        is_number = isinstance(current, int | float) and not isinstance(current, bool)
        if factor.mode == "scale" and not is_number:
            continue
        container[key] = _factored(current, value, factor, where)
        changed += 1
    return changed


def scenario_at(base: dict[str, Any], factors: Sequence[Factor], values: Mapping[str, Any]) -> dict[str, Any]:
    """The scenario data ``base`` with each ``scenario.*`` factor's value at a design point (``values``, by factor
    name) set or scaled as the plan sets it, wildcards, values that are not numbers and integer rounding alike
    (InputError: a value an integer factor cannot round)."""
    data = copy.deepcopy(base)
    for i, f in enumerate(factors):
        section, _, path = f.target.partition(".")
        if section == "scenario":
            _apply(data, path, f, values[f.name], f"factors.{i}.values")
    return data


def apply_point(
    base: dict[str, Any], exp: Experiment, point: DesignPoint, unknown: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], list[str]]:
    """The scenario data and the per-policy parameter overrides at a design point, and the problems of the
    factors that could not be applied there (one line each; such a factor may be applied in part, so the
    data serve only to find the point's other problems: a plan with any problem is refused). ``unknown``:
    the names of policies that cannot be loaded (said apart), whose parameters no factor is checked against."""
    data = copy.deepcopy(base)
    overrides: dict[str, dict[str, Any]] = {p.key: {} for p in exp.policies}
    problems: list[str] = []
    stress = point.values.get("shock", UNSHOCKED)
    if stress != UNSHOCKED:
        (shocks,) = (s.shocks for s in exp.suite if s.name == stress)
        data["shocks"] = [*data.get("shocks", []), *(s.model_dump(mode="json") for s in shocks)]
    for i, f in enumerate(exp.factors):
        value = point.values[f.name]
        section, _, path = f.target.partition(".")
        try:
            if section == "scenario":
                held = [container[key] for container, key in locate(data, path)]
                if held and all(isinstance(h, dict | list) for h in held):
                    # Said of the target, once, not of each design point's value ("relationship: Input should be
                    # a table ..., not 0.8", as if the value were wrong).
                    inside = [f"scenario.{p}" for p in value_paths(data) if p.startswith(f"{path}.")]
                    shown = ", ".join(inside[:3]) + (", ..." if len(inside) > 3 else "")
                    problems.append(
                        f"factors.{i}.target: {f.target!r} names a {'table' if isinstance(held[0], dict) else 'list'}"
                        f", not a value; a factor sets values in it ({shown})"
                    )
                    continue
                if _apply(data, path, f, value, f"factors.{i}.values") == 0:
                    problems.append(f"factors.{i}.target: {missed_target(data, f.target)}")
                continue
            known = [p for p in exp.policies if p.name not in unknown]
            takers = [p for p in known if path in policy_class(p.name).parameters()]
            if not takers and len(known) == len(exp.policies):
                every = sorted({k for p in known for k in policy_class(p.name).parameters()})
                # A built-in's parameter named for a policy not in the file: say whose it is (a researcher's
                # hunter_share had been offered 'tier_a_share').
                owners = [n for n, c in BUILT_IN.items() if path in c.parameters()]
                one = len(owners) == 1
                hint = (
                    f" ({joined(owners)} {'has' if one else 'have'} it: add {'it' if one else 'one'} to policies)"
                    if owners
                    else did_you_mean(path, every)
                )
                problems.append(f"factors.{i}.target: no policy in the experiment has a parameter {path!r}{hint}")
            for p in takers:
                declared = policy_class(p.name).parameters()[path]
                current = p.params.get(path, declared.default)
                # By the declared type: a number given wrongly ("half") is the policy check's problem, not this.
                if f.mode == "scale" and declared.annotation not in (int, float):
                    problems.append(
                        f"factors.{i}.mode: policy {p.key}'s {path} is {toml_text(current)}, not a number a scale "
                        "factor can multiply (set it instead)"
                    )
                    continue
                if f.mode == "scale" and (isinstance(current, bool) or not isinstance(current, int | float)):
                    continue  # a number given wrongly: the policy's own check says so ("half" x 1.5 crashed)
                overrides[p.key][path] = _factored(current, value, f, f"factors.{i}.values")
        except InputError as e:
            problems += e.problems
    return data, overrides, problems


def _set_by(problem: str, overrides: dict[str, Any], exp: Experiment) -> str:
    """`` (set to -5 by factor book)`` when ``problem`` (``params.<key>: ...``) is of a parameter a policy factor
    set at the design point: the factor's value is the mistake, not the policy's own parameters."""
    key = problem.removeprefix("params.").partition(":")[0]
    if not problem.startswith("params.") or key not in overrides:
        return ""
    by = [f for f in exp.factors if f.target == f"policy.{key}"]
    if not by:
        return ""
    return f" (set to {toml_text(overrides[key])} by factor {by[0].name}{_drawn(by[0])}{_rounding(problem, by[0])})"


def _drawn(factor: Factor) -> str:
    """``, drawn from its range 0.6 to 1.5: narrow it`` for a factor a sampled or Morris design draws values of (a
    researcher's high of 1.5 for a retention below 1 was said at a design point, as if the point were wrong)."""
    if factor.low is None or factor.high is None:
        return ""
    return f", drawn from its range {factor.low:g} to {factor.high:g}: narrow it"


def _rounding(problem: str, factor: Factor) -> str:
    """``; add integer = true ...`` where ``problem`` is a whole number's that ``factor`` made a float of."""
    if factor.integer or "valid integer" not in problem:
        return ""
    return "; add integer = true to the factor to round what it makes"


def _scenario_problems(problems: list[str], at: str, point: DesignPoint, exp: Experiment) -> list[str]:
    """The scenario's ``problems`` at a design point (each ``<at>: reps.0.count: ...``), each of a value a factor
    set (or scaled) there with `` (set to -3 by factor team, factors.0.values.1)``: the factor's value is the
    mistake, not the scenario file; of one factor, the first and how many more (a researcher's demand of -0.5 had
    given six lines, one a rate it scaled, none naming the value's place in the file)."""
    out: list[str] = []
    by_factor: dict[int, list[str]] = {}
    for problem in problems:
        key = problem.removeprefix(f"{at}: ").partition(":")[0]
        i = next((i for i, f in enumerate(exp.factors) if _sets(f, key)), None)
        if i is None:
            out.append(problem)
        elif i not in by_factor:
            by_factor[i] = [problem]
            out.append(problem)
        else:
            by_factor[i].append(problem)
    for i, (first, *more) in by_factor.items():
        f = exp.factors[i]
        listed = value = point.values[f.name]
        if f.mode == "set" and f.integer and isinstance(value, float):  # as it was applied: -3.4 set -3
            value = round(value)
        made = "scaled by" if f.mode == "scale" else "set to"
        # The value as the file lists it (an integer factor's -3.4 is the point's -3); a drawn one: its range.
        j = next((j for j, v in enumerate(f.values) if v == listed or (f.integer and _rounds_to(v, listed))), None)
        place = f", factors.{i}.values.{j}" if j is not None else ""
        others = f"; {len(more)} more values it {made.split()[0]} are refused too" if more else ""
        said = f" ({made} {toml_text(value)} by factor {f.name}{place}{_drawn(f)}{others}{_rounding(first, f)})"
        out[out.index(first)] = first + said
    return out


def _rounds_to(listed: object, value: object) -> bool:
    """Whether a factor's ``listed`` value rounds to the design point's ``value`` (``integer = true``)."""
    return isinstance(listed, float) and math.isfinite(listed) and round(listed) == value


def _sets(factor: Factor, key: str) -> bool:
    """Whether ``factor`` sets (or scales) the scenario value at dotted ``key``."""
    pattern = factor.target.removeprefix("scenario.")
    return factor.target.startswith("scenario.") and bool(
        re.fullmatch(re.escape(pattern).replace(r"\*", r"[^.]+"), key)
    )


def plan_runs(exp: Experiment, base: Scenario) -> tuple[list[DesignPoint], list[Cell], dict[str, RunSpec]]:
    """All cells of the experiment and the distinct runs they need, or InputError."""
    # A policy that cannot be loaded, once by its key (not again at every design point), with the rest.
    unknown: list[str] = []
    unloaded: set[str] = set()
    for i, entry in enumerate(exp.policies):
        try:
            policy_class(entry.name, f"policies.{i}.name")
        except InputError as e:
            unknown += e.problems
            unloaded.add(entry.name)
    points = design_points(exp)
    seeds = replication_seeds(exp.seed, exp.replications)
    base_data = base.model_dump(mode="json")
    cells: list[Cell] = []
    specs: dict[str, RunSpec] = {}
    for point in points:
        # Every problem at the first point that has any, in one round: the factors', then the scenario's
        # there (or, if it is valid, every policy's), not the first found alone.
        data, overrides, problems = apply_point(base_data, exp, point, frozenset(unloaded))
        problems = [*unknown, *problems]
        values = ", ".join(f"{name} = {toml_text(v)}" for name, v in point.values.items())
        at = f"design point {point.index} ({values})" if values else f"design point {point.index}"
        try:
            scenario = parse_scenario(data, at)
            current_policy(scenario, f"design point {point.index}: ")  # a rollout shock's model in force before it
        except InputError as e:
            raise InputError([*problems, *_scenario_problems(e.problems, at, point, exp)]) from None
        scenario_json = json.dumps(scenario.model_dump(mode="json"), sort_keys=True)
        for i, entry in enumerate(exp.policies):
            if entry.name in unloaded:
                continue
            params = {**entry.params, **overrides[entry.key]}
            try:
                policy = make_policy(entry.name, params, scenario=scenario, params_at="params")  # policies.N.params
            except InputError as e:
                at = f"policies.{i} ({entry.key}) at design point {point.index}"
                problems += [f"{at}: {p}{_set_by(p, overrides[entry.key], exp)}" for p in e.problems]
                continue
            # Keyed by what the policy holds, not how the file wrote it: a default written out is the same run.
            held = {"scenario": scenario_json, "policy": entry.name, "params": not_default(policy.params)}
            for r, seed in enumerate(seeds):
                key = content_hash({**held, "seed": seed})
                cells.append(Cell(point.index, entry.key, r, key))
                if key not in specs:
                    specs[key] = RunSpec(key, scenario_json, entry.name, params, seed)
        if problems:
            raise InputError(problems)
    if exp.design.kind == "grid":
        _distinct_points(points, cells)
    return points, cells, specs


def _distinct_points(points: list[DesignPoint], cells: list[Cell]) -> None:
    """InputError when two points of a grid make the same runs for every policy and replication: one world run
    twice and reported as two (an analyst's team scaled by 1 and 1.02 was 35 reps at both)."""
    runs: dict[int, list[str]] = {}
    for cell in cells:
        runs.setdefault(cell.point, []).append(cell.run_key)
    seen: dict[tuple[str, ...], DesignPoint] = {}
    for point in points:
        first = seen.setdefault(tuple(runs.get(point.index, [])), point)
        if first is not point:
            shown = [", ".join(f"{k} = {toml_text(v)}" for k, v in p.values.items()) for p in (first, point)]
            # Two stresses of a suite alike in all but their names are the suite's to mend, not the factors'.
            suite = first.values.get("shock") != point.values.get("shock")
            raise InputError(
                [
                    f"{'suite' if suite else 'factors'}: design points {first.index} ({shown[0]}) and {point.index} "
                    f"({shown[1]}) make the same runs, one world twice: their "
                    + (
                        "stresses make the same shocks; drop one"
                        if suite
                        else "values set the same scenario and parameters (an integer factor rounds what it sets or "
                        "scales; a factor none of the policies reads changes nothing); drop one"
                    )
                ]
            )


def unread_rows(experiment: Experiment, held: int) -> str:
    """What a store holds runs of past the design's own rows (a Sobol' base sample's rows or a Morris design's
    trajectories, ``held`` of them), in words, and what to ask for to use them, or "": a store with a larger base
    sample than asked reported on the first rows without a word, where replications said so."""
    design = experiment.design
    if design.kind == "sobol" and held > design.samples:
        return (
            f"runs of a base sample of {held}, and these results use its first {design.samples} rows (ask for "
            f"samples = {held} to use them all)"
        )
    if design.kind == "morris" and held > design.morris_trajectories:
        return (
            f"runs of {held} trajectories, and these results use the first {design.morris_trajectories} (ask for "
            f"trajectories = {held} to use them all)"
        )
    return ""
