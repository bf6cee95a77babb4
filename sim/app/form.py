"""What the what-if page's fields hold, turned into a scenario and policies to compare, or the problems.

A scenario comes from a shipped file or an upload; the page's settings change
it through ``Scenario.with_overrides`` (team size and mix, horizon, shocks
added after the file's own) and name the policies with their parameters. Every
problem is the line the command line prints for the same value in a file or
on a policy (``FILE: reps.0.count: Input should be ...``);
``field_errors`` says which field of the page it belongs beside. A user's own
policy is offered once :func:`add_policy` accepts its import path. Nothing
here imports Dash: the page calls these with plain values.
"""

from __future__ import annotations

import base64
import binascii
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from sim.app.engine import PolicyChoice, non_default
from sim.config import parse_toml
from sim.errors import InputError
from sim.experiment.spec import content_hash
from sim.policies import BUILT_IN, make_policy, policy_class, policy_label
from sim.policies.rollout import check_scenario_policies
from sim.sample_files import samples
from sim.scenario import Scenario, parse_scenario

#: The most replications the page runs per policy [A]: 100 runs of the 100,000-account baseline take about
#: 45 s on 2 cores; more belongs in an experiment file (``covsim experiment``), which resumes if stopped.
MAX_REPLICATIONS = 100
#: Replications per policy the page starts with.
DEFAULT_REPLICATIONS = 5

#: Field keys: where a problem is shown on the page.
SCENARIO, TEAM, QUARTERS, ATTRITION, DEMAND, POLICIES, REPLICATIONS, SEED = (
    "scenario",
    "team",
    "quarters",
    "attrition",
    "demand",
    "policies",
    "replications",
    "seed",
)

#: What a run says when no scenario is loaded (an upload failed and none was chosen since).
NO_SCENARIO = "scenario: choose a shipped scenario or upload a valid one"


def team_field(group: int) -> str:
    """The field key of the head count of rep group ``group`` (``reps.<group>.count``)."""
    return f"team-{group}"


def param_field(policy: str, name: str) -> str:
    """The field key of parameter ``name`` of ``policy``."""
    return f"param-{policy}-{name}"


def shipped_scenarios() -> list[str]:
    """The sample scenarios by their path as the docs name them (``scenarios/small.toml``, ...)."""
    return [name for name in samples() if name.startswith("scenarios/")]


def load_shipped(name: str) -> Scenario:
    """A shipped scenario by its path (:func:`shipped_scenarios`), or InputError naming it."""
    files = samples()
    if name not in files:
        raise InputError([f"{name}: not a shipped scenario ({', '.join(shipped_scenarios())})"])
    return parse_scenario(parse_toml(files[name].read_bytes(), name), name)


def read_upload(contents: str, filename: str) -> Scenario:
    """An uploaded scenario file: ``contents`` as a browser sends it (a ``data:`` URL, base64), validated with
    the messages ``covsim validate FILE`` prints, each naming ``filename``."""
    if not isinstance(contents, str):  # a browser sends text; a crafted request may not (it ended in HTTP 500)
        raise InputError([f"{filename}: cannot read: the upload is not base64 data"])
    if not filename.lower().endswith(".toml"):
        raise InputError(
            [
                f"{filename}: not a scenario file (.toml); a CRM export is made into one with covsim calibrate "
                "(docs/scenario-format.md, section 8), and that file is uploaded here"
            ]
        )
    _, _, encoded = contents.partition(",")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InputError([f"{filename}: cannot read: the upload is not base64 data"]) from None
    scenario = parse_scenario(parse_toml(raw, filename), filename)
    check_scenario_policies(scenario, f"{filename}: ")  # what ``covsim validate`` refuses, the page refuses
    return scenario


def offered(added: Sequence[str]) -> list[str]:
    """The policies the page offers, in its order: the built-ins, then the user's policies in the order added."""
    return [*BUILT_IN, *(p for p in added if p not in BUILT_IN)]


def label(policy: str) -> str:
    """A policy's label in the results, as ``covsim compare`` gives it (``sim.policies.policy_label``); a path
    that does not import is labelled by its class name, for the message that says so."""
    try:
        return policy_label(policy_class(policy))
    except InputError:
        return policy.rpartition(":")[2]


def add_policy(path: str | None, added: Sequence[str]) -> tuple[str, ...]:
    """``added`` with the user policy ``path`` (``package.module:ClassName``) after them, or InputError with
    the one line ``policy_class`` raises for it (cannot import, not a Policy subclass, ...).

    A policy already offered (a built-in's name too) is not added twice; a
    class whose label (:func:`label`) another policy offered already has is
    refused, since the results would show the two under one name.
    """
    path = (path or "").strip()
    if not path:  # it had been "unknown policy ''", and the built-ins' list
        raise InputError(["policy.name: type your policy's import path in the field, package.module:ClassName"])
    if path in offered(added):
        return tuple(added)
    policy_class(path)
    same = [p for p in offered(added) if label(p) == label(path)]
    if same:
        raise InputError([f"policy.name: {path!r} would be labelled {label(path)!r} in the results, as {same[0]!r} is"])
    return (*added, path)


@dataclass(frozen=True)
class ParamField:
    """A policy parameter as a page field: its kind of input, default, the choices of a Literal, its meaning."""

    name: str
    kind: Literal["bool", "int", "float", "choice", "text"]
    default: Any
    description: str
    choices: tuple[str, ...] = ()


def param_fields(policy: str) -> list[ParamField]:
    """The parameters of a policy (``policy_class(name).parameters()``) as page fields."""
    out = []
    for name, info in policy_class(policy).parameters().items():
        annotation = info.annotation
        choices: tuple[str, ...] = ()
        kind: Literal["bool", "int", "float", "choice", "text"]
        if annotation is bool:
            kind = "bool"
        elif annotation is int:
            kind = "int"
        elif annotation is float:
            kind = "float"
        elif typing.get_origin(annotation) is Literal:
            kind, choices = "choice", tuple(str(c) for c in typing.get_args(annotation))
        else:
            kind = "text"
        out.append(ParamField(name, kind, info.default, info.description or "", choices))
    return out


@dataclass(frozen=True)
class Shock:
    """A shock the page adds: on or off, its size (a share of seats, or a demand factor) and its quarter."""

    on: bool = False
    size: Any = None
    quarter: Any = None


@dataclass(frozen=True)
class Settings:
    """What the page's fields hold, as the browser sent it (numbers may be None when a field is empty).

    ``counts``: head count of each rep group, in the scenario's order;
    ``policies``: the policies ticked, the ``baseline`` among them compared
    with the others; ``params``: per policy, its parameters' values;
    ``added``: the user policies added to those offered (import paths, in
    the order added).
    """

    counts: tuple[Any, ...] = ()
    quarters: Any = None
    attrition: Shock = Shock()
    demand: Shock = Shock()
    policies: tuple[str, ...] = ()
    baseline: str = ""
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    replications: Any = DEFAULT_REPLICATIONS
    seed: Any = None
    added: tuple[str, ...] = ()


def configure(base: Scenario, source: str, settings: Settings) -> Scenario:
    """``base`` with the page's team, horizon and shocks, validated again; InputError naming ``source``.

    Only what differs from ``base`` is changed: left as it is, the scenario is
    the file's (same name, same runs). The shocks are added after the file's:
    rep attrition (a share of every role's filled seats) then a demand shock
    (every segment and kind). A changed scenario's description says what the
    page changed (the downloaded file had kept "5 reps ... over 4 quarters"
    beside 6 seats and 6 quarters).
    """
    changes: dict[str, Any] = {}
    said = []
    for i, (group, count) in enumerate(zip(base.reps, settings.counts, strict=False)):
        if count != group.count:
            changes[f"reps.{i}.count"] = count
            said.append(f"{group.role} seats {group.count} -> {_shown(count)}")
    if settings.quarters != base.quarters:
        changes["quarters"] = settings.quarters
        said.append(f"quarters {base.quarters} -> {_shown(settings.quarters)}")
    added = []
    if settings.attrition.on:
        added.append({"kind": "rep_attrition", "quarter": settings.attrition.quarter, "share": settings.attrition.size})
        said.append("a rep attrition shock")
    if settings.demand.on:
        added.append({"kind": "demand", "quarter": settings.demand.quarter, "factor": settings.demand.size})
        said.append("a demand shock")
    if added:
        changes["shocks"] = [*(s.model_dump(mode="json") for s in base.shocks), *added]
    if changes:
        was = f"{base.description.rstrip('.')}. " if base.description else ""
        changes["description"] = f"{was}Changed on the what-if page: {', '.join(said)}."
    return base.with_overrides(source, **changes)


def downloaded(base: Scenario, source: str, settings: Settings) -> Scenario:
    """The scenario the page's Download gives: :func:`configure`'s, with the page's root seed as its ``seed`` when
    one is set, so that ``covsim compare`` on the file alone makes the page's runs (it had kept the file's seed);
    InputError as :func:`configure` and :func:`check_run` give."""
    scenario = configure(base, source, settings)
    _, seed = check_run(settings)
    if seed is None or seed == scenario.seed:
        return scenario
    if scenario.name == base.name:  # the seed alone changed: not the shipped scenario under its own name (a trial)
        said = f"{base.description}. Changed on the what-if page: seed {base.seed} -> {seed}."
        return scenario.with_overrides(source, seed=seed, description=said)
    return scenario.model_copy(update={"seed": seed})


def policy_choices(settings: Settings, scenario: Scenario | None) -> list[PolicyChoice]:
    """The ticked policies, the baseline first and the others in the page's order (:func:`offered`), each with the
    parameters set away from its defaults; InputError (lines ``POLICY.params.NAME: ...``, checked against
    ``scenario`` when it is valid)."""
    problems = []
    names = [p for p in offered(settings.added) if p in settings.policies]  # in the order the page lists them
    if len(names) < 2:
        problems.append(f"{POLICIES}: choose two or more policies to compare")
    baseline = settings.baseline if settings.baseline in names else (names[0] if names else "")
    ordered = [baseline, *(n for n in names if n != baseline)] if baseline else []
    choices = []
    for name in ordered:
        params = non_default(name, dict(settings.params.get(name, {})))
        try:
            make_policy(name, params, where=name, scenario=scenario)
        except InputError as e:
            problems += e.problems
            continue
        choices.append(PolicyChoice(name, params))
    if problems:
        raise InputError(problems)
    return choices


def check_run(settings: Settings) -> tuple[int, int | None]:
    """The replications and the root seed (None: the scenario's), or InputError."""
    problems = []
    r, seed = settings.replications, settings.seed
    if r is None:
        problems.append(f"{REPLICATIONS}: empty: a whole number from 1 to {MAX_REPLICATIONS} is needed")
    elif not _whole(r) or not 1 <= r <= MAX_REPLICATIONS:
        problems.append(f"{REPLICATIONS}: {r!r} is not a whole number from 1 to {MAX_REPLICATIONS}")
    if seed is not None and (not _whole(seed) or seed < 0):
        problems.append(f"{SEED}: {seed!r} is not a whole number, 0 or more (empty: the scenario's seed)")
    if problems:
        raise InputError(problems)
    return int(r), None if seed is None else int(seed)


def seed_value(text: Any) -> Any:
    """The seed field's text as the number it holds: empty is None (the scenario's seed), a whole number its int,
    anything else the text itself, for :func:`check_run` to refuse in words."""
    if not isinstance(text, str):
        return text
    text = text.strip()
    if not text:
        return None
    if not text.isascii() or "_" in text:  # int() and Decimal() take "1_000" and other scripts' digits
        return text
    try:
        number = Decimal(text)  # exactly: 1e3 and 12.0 are whole, 12345678901234567.0 stays itself
    except InvalidOperation:
        return text
    if number.is_finite() and number == number.to_integral_value():
        return int(number)
    return float(number)


def _whole(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer()


def _shown(v: Any) -> str:
    return "nothing" if v is None else repr(v)


@dataclass(frozen=True)
class Plan:
    """A comparison ready to run: the configured scenario, the policies (baseline first), replications, seed."""

    scenario: Scenario
    policies: list[PolicyChoice]
    replications: int
    seed: int | None


def plan(base: Scenario, source: str, settings: Settings) -> Plan:
    """Everything the page's fields set, validated together: a Plan, or one InputError with the problems of the
    scenario's fields, the policies' and the run's at once. Checks that need a valid scenario (a shock after the
    horizon, a parameter naming a segment) wait for its fields' problems to be mended, as ``covsim validate``'s
    do."""
    problems: list[str] = []
    scenario: Scenario | None = None
    try:
        scenario = configure(base, source, settings)
    except InputError as e:
        problems += e.problems
    choices: list[PolicyChoice] = []
    try:
        choices = policy_choices(settings, scenario)
    except InputError as e:
        problems += e.problems
    try:
        replications, seed = check_run(settings)
    except InputError as e:
        problems += e.problems
    if problems or scenario is None:
        raise InputError(problems)
    return Plan(scenario, choices, replications, seed)


def settings_key(*inputs: Any) -> str:
    """A digest of the page's setting inputs as Dash gives them (the scenario loaded, the team, every field):
    equal exactly when the settings are, so that results can be told from the form's."""
    return content_hash(list(inputs))
