"""Experiment files: a base scenario, policies, factors, a design, replications, a root seed.

Validated like scenario files (strict, unknown keys rejected, one line per
problem naming the key path). Factors are kept apart from policies (EMA
workbench style): a factor with target ``scenario.<path>`` is an uncertainty of
the world, one with target ``policy.<param>`` a lever of the policies that have
that parameter.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from collections.abc import Sequence
from typing import Annotated, Any, Literal, TypeGuard

from sim.catalogue import CATALOGUE
from sim.codes import ROLES
from sim.config import Name, PolicyParam, require_kind, validate_strict
from sim.errors import InputError
from sim.experiment.suite import UNSHOCKED, Stress
from sim.format import toml_text
from sim.policies import policy_class, policy_label
from sim.policies.hints import did_you_mean
from sim.scenario import Scenario
from sim.shocks import Shock, attributed
from sim.strict import Field, Problems, Strict, model_validator

#: Metrics summarised with confidence intervals unless the file names others; the answer is on the first,
#: profit, the bottom line. Revenue captured (bookings) had led: it counts a renewal a rep touched at its whole
#: value though it might have renewed without one, and it ranked policies opposite to profit (an analyst's and a
#: VP's trials: no coverage at all "captured 1.1M" beside a profit of 30.0M).
HEADLINE_METRICS = (
    "profit",
    "revenue_captured",
    "recurring_revenue",
    "opps_missed",
    "miss_rate",
    "promised_untouched_share",
    "response_days_p90",
    "rep_lottery",
    "sla_breach_rate",
    "utilisation",
    "customers",
    "cost_of_sales",
)


#: Targets a factor may not vary, and why: varying them would silently duplicate or mislabel runs.
FIXED_TARGETS = {
    "scenario.seed": "a run's seed comes from the experiment's seed and the replication (vary replications instead)",
    "scenario.name": "the name labels the scenario and changes no result",
    "scenario.policy.name": "the policies to compare are listed under policies, not varied by a factor",
    "policy.name": "the policies to compare are listed under policies, not varied by a factor",
}

#: Column names of the stored results and design points, which a factor may not take.
RESERVED_FACTOR_NAMES = frozenset(
    {"point", "block", "row", "policy", "replication", "seed", "quarter", "segment", "metric", "value", "shock"}
)


class PolicyEntry(Strict):
    """A policy to run, under a label (the same policy may appear with other parameters)."""

    name: Annotated[str, Field(min_length=1)]
    label: Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-.]*$")] = ""
    params: dict[str, PolicyParam] = Field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.label or self.name


class Factor(Strict):
    """Something varied across design points.

    target: ``scenario.<dotted.path>`` (``*`` matches every list item or key) or
    ``policy.<parameter>``; mode: ``set`` the value or ``scale`` the current one.
    Grid designs use ``values``; sampled designs draw within [low, high].
    """

    name: Name
    target: Annotated[str, Field(pattern=r"^(scenario|policy)\.[A-Za-z0-9_.*]+$")]
    mode: Literal["set", "scale"] = "set"
    values: tuple[float | int | bool | str, ...] = ()
    low: float | None = None
    high: float | None = None
    integer: bool = False
    """Round sampled (or scaled) values to whole numbers."""


def _value_faults(where: str, f: Factor) -> list[str]:
    """What is wrong with a factor's listed values, one line each: a scale factor multiplies, and an integer one
    rounds, numbers only (``true`` or a word is neither), and a value listed twice would run one point twice."""
    out = []
    if f.mode == "scale" or f.integer:
        does = "a scale factor multiplies by" if f.mode == "scale" else "an integer factor rounds"
        for j, v in enumerate(f.values):
            if isinstance(v, bool | str):
                out.append(f"{where}.values.{j}: {does} a number, not {toml_text(v)}")
    # 1, 1.0 are one value, as true and 1 are not (a bool sets a switch, a number a quantity); so are 0.1 and 0.2
    # of an integer factor that sets them, which both round to 0.
    rounds = f.integer and f.mode == "set"
    keys = [(isinstance(v, bool), round(v) if rounds and finite_number(v) else v) for v in f.values]
    for j, (k, v) in enumerate(zip(keys, f.values, strict=True)):
        if keys.count(k) > 1 and keys.index(k) == j:
            first, other = v, f.values[keys.index(k, j + 1)]
            if rounds and first != other:
                out.append(
                    f"{where}.values: {toml_text(first)} and {toml_text(other)} both round to {k[1]}, one design point "
                    "(an integer factor rounds its values)"
                )
            else:
                out.append(f"{where}.values: {toml_text(v)} is listed more than once (each value is one design point)")
    return out


def _overlap(a: str, b: str) -> bool:
    """Whether targets ``a`` and ``b`` write a value in common (``*`` matches every list item or key)."""
    x, y = a.split("."), b.split(".")
    return len(x) == len(y) and all(p == q or "*" in (p, q) for p, q in zip(x, y, strict=True))


def finite_number(v: Any) -> TypeGuard[int | float]:
    """Whether ``v`` is a finite number (not a bool), which an integer factor rounds."""
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


#: The most points a grid design may have, as for a sampled design's samples [A]: a grid of millions of
#: points would spend minutes planning before saying anything.
MAX_GRID_POINTS = 1_000_000

#: Morris designs: trajectories r and grid levels p when the file gives none.
MORRIS_TRAJECTORIES = 10
MORRIS_LEVELS = 4
#: Largest r and p a Morris design may ask for (r (k + 1) points; p levels per factor).
MORRIS_MAX_TRAJECTORIES = 10_000
MORRIS_MAX_LEVELS = 1_000
#: The smallest Sobol' base sample whose indices docs/experiments.md advises reading as estimates [A]: below it
#: ``covsim experiment`` says so before its runs, and the report beside the indices.
SOBOL_ADVISED = 64


class Design(Strict):
    """How factor values are combined into design points."""

    kind: Literal["grid", "lhs", "sobol", "morris"] = "grid"
    samples: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    """lhs: number of points; sobol: base sample N (a power of 2; N x (factors + 2) points)."""
    trajectories: int | None = None
    """morris: number of trajectories r (default 10; r (factors + 1) points)."""
    levels: int | None = None
    """morris: levels p of the grid each factor takes (even, default 4; step Delta = p / (2 (p - 1)))."""

    @property
    def morris_trajectories(self) -> int:
        return MORRIS_TRAJECTORIES if self.trajectories is None else self.trajectories

    @property
    def morris_levels(self) -> int:
        return MORRIS_LEVELS if self.levels is None else self.levels

    def model_dump(self, *, mode: Literal["python", "json"] = "python") -> dict[str, Any]:
        # Morris settings left unset are not written: the dump of a grid, lhs or sobol design (and so the
        # hash of its experiment, which a store checks on resume) is what it was before Morris designs.
        data = super().model_dump(mode=mode)
        for key in ("trajectories", "levels"):
            if data.get(key) is None:
                data.pop(key, None)
        return data

    def problems(self) -> list[str]:
        """What is wrong with the Morris settings (trajectories, levels, samples), one line each."""
        out = []
        r, p = self.trajectories, self.levels
        if self.kind != "morris":
            for key, value in (("trajectories", r), ("levels", p)):
                if value is not None:
                    out.append(f"design.{key}: only a morris design has {key} (this one is {self.kind})")
            if self.kind == "grid" and self.samples:  # the report had said "grid, base sample 8"
                out.append("design.samples: a grid design runs every combination of its values, no sample")
            return out
        if self.samples:
            out.append("design.samples: a morris design has no samples (give trajectories r and levels p)")
        if r is not None and not 2 <= r <= MORRIS_MAX_TRAJECTORIES:
            out.append(
                f"design.trajectories: must be from 2 to {MORRIS_MAX_TRAJECTORIES:,}, not {r:,} "
                "(sigma is a standard deviation over trajectories)"
            )
        if p is not None and (not 2 <= p <= MORRIS_MAX_LEVELS or p % 2):
            out.append(
                f"design.levels: must be an even number from 2 to {MORRIS_MAX_LEVELS:,}, not {p:,} "
                "(only an even p keeps every step of Delta = p / (2 (p - 1)) on the grid)"
            )
        return out


class Experiment(Strict):
    """A validated experiment file."""

    name: Name
    description: str = ""
    scenario: str
    """Base scenario file, relative to the experiment file."""
    seed: Annotated[int, Field(ge=0)] = 0
    """Root seed: replication r of every design point and policy uses the same streams. An experiment file without
    one takes its base scenario's (``loading.load_experiment``), as ``covsim compare`` does."""
    replications: Annotated[int, Field(ge=1, le=100_000)] = 10
    quarters: Annotated[int, Field(ge=1, le=400)] | None = None
    policies: Annotated[tuple[PolicyEntry, ...], Field(min_length=1)]
    baseline: str = ""
    """Label of the policy others are compared with (default: the first)."""
    factors: tuple[Factor, ...] = ()
    design: Design = Design()
    shocks: tuple[Shock, ...] = ()
    """Added to the base scenario's shocks."""
    metrics: Annotated[tuple[str, ...], Field(min_length=1)] = HEADLINE_METRICS
    suite: tuple[Stress, ...] = ()
    """A stress test's suite: every design point is run unshocked (``shock = "none"``) and under each stress,
    on the same seeds (``covsim stress`` writes it; see sim.experiment.suite)."""

    @model_validator(mode="after")
    def _check(self) -> Experiment:
        problems = []
        labels = [p.key for p in self.policies]
        for dup in sorted({x for x in labels if labels.count(x) > 1}):
            problems.append(f"policies: label {dup!r} is used twice (give each a distinct label)")
        if self.baseline and self.baseline not in labels:
            problems.append(f"baseline: {self.baseline!r} is not a policy label ({', '.join(labels)})")
        names = [f.name for f in self.factors]
        for reserved in sorted(set(names) & RESERVED_FACTOR_NAMES):
            problems.append(f"factors: {reserved!r} is a column of the results (name the factor otherwise)")
        for dup in sorted({x for x in names if names.count(x) > 1}):
            problems.append(f"factors: name {dup!r} is used twice")
        # Two factors writing one value: the second overwrote the first at every point, whose results were still
        # labelled with the first's value (a researcher's team = 1 ran with 2 reps, scaled by another factor).
        for j, later in enumerate(self.factors):
            for i, f in enumerate(self.factors[:j]):
                if _overlap(f.target, later.target):
                    problems.append(
                        f"factors.{j}.target: {later.target} writes a value factors.{i} ({f.name!r}, {f.target}) "
                        "writes too: one would overwrite the other at every point (vary each value by one factor)"
                    )
        problems += [f"metrics.{i}: {fault}" for i, fault in metric_faults(self.metrics)]
        for i, m in enumerate(self.metrics):
            if m in self.metrics[:i]:  # each would be tabled twice
                problems.append(f"metrics.{i}: {m!r} is listed more than once")
        for i, f in enumerate(self.factors):
            where = f"factors.{i}"
            if f.target in FIXED_TARGETS or f.target.startswith("scenario.policy."):
                reason = FIXED_TARGETS.get(f.target, "policy parameters are varied as policy.<parameter>")
                problems.append(f"{where}.target: {f.target} cannot be a factor: {reason}")
            if self.design.kind == "grid" and not f.values:
                problems.append(f"{where}.values: a grid design needs values")
            if self.design.kind == "grid":  # a grid runs the values listed: a range beside them was said nowhere
                for key in ("low", "high"):
                    if getattr(f, key) is not None:
                        problems.append(f"{where}.{key}: a grid design runs the values listed, not a range")
            problems += _value_faults(where, f)
            if self.design.kind != "grid":
                design = "a morris design" if self.design.kind == "morris" else "a sampled design"
                # A bound left out is named as such (a missing low had read as "needs low < high"); values given
                # instead of both are one slip, said once below (it had been three lines).
                missing = [key for key in ("low", "high") if getattr(f, key) is None]
                if missing and not (f.values and len(missing) == 2):
                    problems += [f"{where}.{key}: {design} needs low and high" for key in missing]
                elif f.low is not None and f.high is not None and not f.low < f.high:
                    spans = " (the factor's grid spans them)" if self.design.kind == "morris" else ""
                    problems.append(f"{where}: {design} needs low < high, not {f.low:g} and {f.high:g}{spans}")
                if f.values:
                    problems.append(f"{where}.values: {design} draws values between low and high: give those instead")
                elif f.integer and f.low is not None and f.high is not None and f.low < f.high:
                    # Rounded, the design's values collapse onto the whole numbers of the range: too few of
                    # them and the factor never changes (or a Morris step rounds to nothing), so its indices
                    # would measure nothing.
                    if self.design.kind == "morris":
                        # Every step (p/2 levels of the grid) must move the rounded value; levels may round alike
                        # (low 1, high 2, p = 4: 1, 1, 2, 2, where both steps go 1 -> 2, each measured by the step
                        # its rounded values make), which had been refused as "too few distinct whole numbers".
                        p_ = self.design.morris_levels
                        level = [round(f.low + k * (f.high - f.low) / (p_ - 1)) for k in range(p_)] if p_ > 1 else []
                        half = p_ // 2
                        have = sum(level[k] != level[k + half] for k in range(half)) if p_ > 1 else 0
                        needed, fault = (
                            half,
                            (
                                f"needs every one of its {half} steps (each p/2 levels of its grid) to move its rounded "
                                f"value, not {have} (a step that rounds to no change measures nothing)"
                            ),
                        )
                    else:
                        # floor and ceil, not round, which rounds halves to even: [0.5, 1.5] holds one, not three.
                        have = max(math.floor(f.high) - math.ceil(f.low) + 1, 0)
                        needed, fault = (
                            2,
                            (
                                f"needs at least 2 whole numbers in [low, high], not {have} (its values would round onto "
                                "fewer and its effect could not be measured)"
                            ),
                        )
                    if have < needed:
                        problems.append(f"{where}: an integer factor of a {self.design.kind} design {fault}")
        if self.design.kind == "grid" and self.factors:
            points = math.prod(max(len(f.values), 1) for f in self.factors)
            if points > MAX_GRID_POINTS:
                problems.append(
                    f"design: a grid of {points:,} points (the product of the factors' values) is more than "
                    f"{MAX_GRID_POINTS:,}; use fewer values, or a sampled design (lhs, sobol, morris)"
                )
        problems += self.design.problems()
        if self.suite and self.design.kind != "grid":
            problems.append("suite: a stress suite runs on a grid design (or none), not a sampled one")
        stress_names = [s.name for s in self.suite]
        if UNSHOCKED in stress_names:
            problems.append(f"suite: {UNSHOCKED!r} is the unshocked reference run; name the stress otherwise")
        for dup in sorted({x for x in stress_names if stress_names.count(x) > 1}):
            problems.append(f"suite: stress {dup!r} is named twice")
        if self.design.kind != "grid" and not self.factors:
            problems.append("design.kind: a sampled design needs factors")
        if self.design.kind == "morris" and self.factors and not self.design.problems():
            from sim.experiment.morris import distinct_trajectories  # pandas: loaded only for a morris design

            levels = self.design.morris_levels
            most = distinct_trajectories(len(self.factors), levels)
            if self.design.morris_trajectories > most:
                problems.append(
                    f"design.trajectories: {self.design.morris_trajectories:,} asked for, but a {levels}-level grid "
                    f"of {len(self.factors)} factor(s) has only {most:,} different trajectories (use fewer, or more "
                    "levels)"
                )
        if self.design.kind in ("lhs", "sobol"):  # a morris design has no samples (design.problems)
            n = self.design.samples
            if n < 2:
                problems.append("design.samples: at least 2 are needed for a sampled design")
            elif self.design.kind == "sobol" and n & (n - 1):
                problems.append(f"design.samples: {n} is not a power of 2 (Sobol' designs need one)")
        if problems:
            raise Problems(problems)
        return self

    @property
    def baseline_label(self) -> str:
        return self.baseline or self.policies[0].key

    @property
    def one_policy_grid(self) -> bool:
        """One policy over the points of a grid (factors only): its points are compared with one another,
        paired by replication, where other experiments compare policies (``stats.point_differences``)."""
        return len(self.policies) == 1 and self.design.kind == "grid"


def parse_experiment(data: dict[str, Any], source: str = "<experiment>") -> Experiment:
    """Validate a mapping (as read from TOML) into an Experiment, or raise InputError."""
    require_kind(data, "experiment", source)
    return validate_strict(Experiment, _labelled(data), source)


def _labelled(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with each user policy (``package.module:ClassName``) given no label labelled as ``covsim run`` and
    ``compare`` label it (its class's ``name``: ``sim.policies.policy_label``), and a ``baseline`` naming it by
    its path read as that label. A name that loads no policy is left as it is, for the plan's checks to say."""
    policies, baseline = data.get("policies"), data.get("baseline")
    if not isinstance(policies, list):
        return data
    entries = []
    for entry in policies:
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(entry, dict) and isinstance(name, str) and ":" in name and not entry.get("label"):
            with contextlib.suppress(InputError):
                label = policy_label(policy_class(name))
                baseline = label if baseline == name else baseline
                entry = {**entry, "label": label}
        entries.append(entry)
    return {**data, "policies": entries} | ({"baseline": baseline} if "baseline" in data else {})


#: An unknown metric's message lists the metrics with its word in their names up to this many [A].
MOST_NAMED = 8


def metric_faults(
    metrics: Sequence[str], lines: Sequence[str] | None = None, roles: Sequence[str] | None = None
) -> list[tuple[int, str]]:
    """(position, what is wrong) of each of ``metrics`` that is no metric, with its nearest spelling, that names a
    product line (``name:line``) not among a scenario's reported ``lines``, or that is a role's (``utilisation_sdr``)
    of none of its seats' ``roles`` (``Scenario.seat_roles``): such a metric has no value in any run (None: not
    checked)."""
    faults = []
    role_of = {f"{kind}_{r}": r for r in ROLES for kind in ("utilisation", "hours_role")}
    for i, metric in enumerate(metrics):
        if metric not in CATALOGUE:
            # A near-spelling ("winrate"), else, as many metrics share a word ("revenue" is several of them), the
            # metrics that have it in their names, up to a few.
            word = metric.partition(":")[0]
            close = did_you_mean(word, list(CATALOGUE), cutoff=0.75)
            # Its words in another order (a policy author's specialist_utilisation for utilisation_specialist).
            if not close and (turned := [m for m in CATALOGUE if sorted(m.split("_")) == sorted(word.split("_"))]):
                close = f" (did you mean {turned[0]!r}?)"
            named = [m for m in CATALOGUE if ":" not in m and word and word.lower() in m]
            if not close and 0 < len(named) <= MOST_NAMED:
                close = f" (metrics with {word!r} in their names: {', '.join(named)})"
            faults.append((i, f"unknown metric {metric!r}{close} (docs/metrics.md lists every metric)"))
        elif lines is not None and ":" in metric and metric.split(":", 1)[1] not in lines:
            faults.append((i, f"{metric!r} names no product line of the scenario ({', '.join(lines) or 'it has one'})"))
        elif roles is not None and metric in role_of and role_of[metric] not in roles:
            faults.append(
                (i, f"{metric!r} is of {role_of[metric]} seats, and the scenario has none ({', '.join(roles)})")
            )
    return faults


def resolve_base(
    experiment: Experiment, scenario: Scenario, experiment_file: str | None = None, scenario_file: str | None = None
) -> Scenario:
    """The scenario every run of the experiment starts from: the file's, at the experiment's horizon and shocks.

    It keeps the file's name: the experiment already names the variant, and
    the name is part of the store's experiment hash and of every run key. Its
    problems come together, each said where it is: one of a shock of the
    scenario's own, of the scenario file (``scenario_file``) with the
    experiment's quarters; one of the experiment's shocks, of the experiment
    file (``experiment_file``), by its number there.
    """
    named = experiment_file or f"experiment {experiment.name}"
    changes: dict[str, Any] = {}
    if experiment.quarters is not None:
        changes["quarters"] = experiment.quarters
    if experiment.shocks:
        changes["shocks"] = [s.model_dump(mode="json") for s in (*scenario.shocks, *experiment.shocks)]
    if not changes:
        return scenario
    try:
        return scenario.with_overrides(named, name=scenario.name, **changes)
    except InputError as e:
        own = len(scenario.shocks)
        where = scenario_file or scenario.name
        if experiment.quarters is not None:
            where += f" (with quarters = {experiment.quarters} of {named})"
        raise InputError(
            [attributed(p, named, own, where, scenario_file or scenario.name) for p in e.problems]
        ) from None


def content_hash(obj: Any) -> str:
    """SHA-256 of the canonical JSON of ``obj`` (sorted keys, no whitespace)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
