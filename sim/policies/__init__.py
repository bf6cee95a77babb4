"""Coverage policies: the protocol, the built-ins, loading by name or import path, and choosing a run's."""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import InputError, raised
from sim.format import joined
from sim.policies.hints import closest, did_you_mean, import_hint, mistake_hint
from sim.policies.hunter_farmer import HunterFarmer
from sim.policies.named_accounts import NamedAccounts
from sim.policies.overlay import Overlay
from sim.policies.pooled import Pooled
from sim.policies.protocol import (
    NAME_PATTERN,
    Policy,
    defaults_checked,
    defaults_faults,
    param_at,
    policy_label,
)
from sim.policies.random_books import RandomBooks
from sim.policies.segment_tiers import SegmentTiers
from sim.policies.territories import Territories
from sim.policies.unstructured import Unstructured
from sim.policies.value_based import ValueBased
from sim.strict import Strict, ValidationError

if TYPE_CHECKING:
    from sim.scenario import Scenario

BUILT_IN: dict[str, type[Policy]] = {
    p.name: p
    for p in (
        Unstructured,
        RandomBooks,
        NamedAccounts,
        SegmentTiers,
        HunterFarmer,
        Territories,
        Pooled,
        Overlay,
        ValueBased,
    )
}


def policy_class(name: str, where: str = "policy.name") -> type[Policy]:
    """A built-in policy by name, or a user policy as ``package.module:ClassName``."""
    if name in BUILT_IN:
        return BUILT_IN[name]
    if ":" not in name:
        known = ", ".join(sorted(BUILT_IN))
        module_name, dot, attr = name.rpartition(".")
        hint = (  # module.Class: the dot where the colon goes
            f" (did you mean {module_name}:{attr}?)"
            if dot and module_name and attr[:1].isupper()
            # a module of the user's named alone: its class is wanted too
            else f" ({name} is a module: name its policy class, {name}:ClassName)"
            if all(name.split(".")) and Path(*name.split(".")).with_suffix(".py").is_file()
            else did_you_mean(name, list(BUILT_IN))
        )
        raise InputError([f"{where}: unknown policy {name!r}{hint} (built-in: {known}; or package.module:ClassName)"])
    module_name, _, attr = name.partition(":")
    # A user's policy module usually sits in the folder they run covsim from: searched last, so that a file there
    # named as a module covsim or Python uses (timeit.py, html.py) does not replace that module for the whole run.
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    if not module_name or not attr:
        raise InputError([f"{where}: {name!r} is not package.module:ClassName"])
    key, equals, value = attr.partition("=")
    if module_name in BUILT_IN and equals:  # segment_tiers:accounts_per_rep=50, read as a module and a class
        raise InputError(
            [
                f"{where}: {name!r}: a policy's parameters are given apart from its name: --param {key}={value} on "
                "the command line, params in a file"
            ]
        )
    if module_name.endswith(".py") or "/" in module_name or module_name.startswith("."):  # a file, not a module
        path = module_name.removesuffix(".py")
        if path.startswith(("/", "..")):  # outside the folder covsim runs in: run it from the file's
            folder, _, stem = path.rpartition("/")
            how = f"run covsim from {folder or '/'} and name it {stem}:{attr}"
        else:
            how = f"name its module, from the folder covsim runs in: {path.strip('./').replace('/', '.')}:{attr}"
        raise InputError([f"{where}: {name!r} names a file; {how}"])
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name is None or not (module_name == e.name or module_name.startswith(f"{e.name}.")):  # it imports one
            raise InputError([f"{where}: cannot import {module_name!r}: {raised(e)}{import_hint(e)}"]) from None
        if module_name in BUILT_IN:  # pooled:Pooled, where no module of the user's is named so
            raise InputError([f"{where}: {name!r}: a built-in policy is named alone: {module_name}"]) from None
        # A misspelt file of the folder covsim runs in (a policy author's 'tierd_sla' for tiered_sla.py).
        here = closest(module_name, sorted(f.stem for f in Path.cwd().glob("*.py"))) if "." not in module_name else None
        mean = f"; did you mean {here!r}?" if here else ""
        raise InputError(
            [
                f"{where}: cannot import {module_name!r}: {e} (covsim looks on the Python path, then in the folder "
                f"it runs in{mean})"
            ]
        ) from None
    except (Exception, SystemExit) as e:  # any import failure is the user's module, reported in one line
        raise InputError([f"{where}: cannot import {module_name!r}: {raised(e)}{import_hint(e)}"]) from None
    cls = getattr(module, attr, None)
    if cls is None:
        file = getattr(module, "__file__", None)  # none for a module built into the interpreter (time, sys)
        hidden = _hidden_file(module_name, file)
        if hidden is not None:
            raise InputError(
                [
                    f"{where}: {module_name!r} is the module {f'at {file}' if file else 'built into Python'}, found "
                    f"before your {hidden} (a module Python or an installed package already has that name): rename "
                    "your file"
                ]
            )
        policies = [k for k, v in vars(module).items() if isinstance(v, type) and issubclass(v, Policy)]
        # Else the policy classes it defines (not those it imports), so that a mistyped name finds the right one.
        own = [k for k in policies if getattr(module, k).__module__ == module.__name__]
        hint = did_you_mean(attr, policies) or (f" (its policies: {', '.join(own)})" if own else "")
        if file and re.search(rf"^\s*class\s+{re.escape(attr)}\b", _text(file), re.M):
            # The what-if page holds a module as it first read it: a class added since is in the file, not in it.
            hint = f" as read when this process first loaded {file}; the file defines it now: restart to read it"
        raise InputError([f"{where}: {module_name!r} has no {attr!r}{hint}"])
    return checked_class(cls, where, name)


def _text(file: str) -> str:
    """A module's source as it is on disk now; "" where it cannot be read."""
    try:
        return Path(file).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def checked_class(cls: object, where: str, name: str) -> type[Policy]:
    """``cls`` if it is a policy class covsim can run (a subclass of Policy writing its three methods, with strict,
    typed, defaulted and valid Params and a name that can label results), or InputError naming each fault at
    ``where``, the class as ``name``."""
    if not (isinstance(cls, type) and issubclass(cls, Policy)):
        raise InputError([f"{where}: {name!r} is not a subclass of sim.policies.Policy"])
    if not (isinstance(cls.Params, type) and issubclass(cls.Params, Strict)):
        raise InputError([f"{where}: {name!r}: Params must be a strict model (a subclass of sim.strict.Strict)"])
    try:
        fields = cls.parameters()
    except (TypeError, NameError) as e:  # a Params class the strict models cannot read
        raise InputError([f"{where}: {name!r}: Params: {raised(e)}"]) from None
    # A class attribute with no type is no parameter: the strict models leave it out, and a --param of it is
    # refused as unknown, which reads as if the declaration were not there.
    untyped = sorted(
        k
        for k, v in vars(cls.Params).items()
        if not k.startswith(("_", "model_"))
        and k not in fields
        and not callable(v)
        and not isinstance(v, classmethod | staticmethod | property)
    )
    if untyped:
        raise InputError(
            [
                f"{where}: {name!r}: Params.{k} has no type, so it is no parameter (write {k}: int = ..., say)"
                for k in untyped
            ]
        )
    required = [p for p, info in fields.items() if info.required]
    if required:
        raise InputError(
            [
                f"{where}: {name!r}: parameter {', '.join(required)} has no default (every parameter needs one: a "
                "policy is run, listed and offered on the page with the parameters it is not given at their defaults)"
            ]
        )
    try:
        defaults_checked(cls.Params)
    except ValidationError as e:  # a default that breaks its own field's rule would run unchecked
        raise InputError(defaults_faults(f"{where}: {name!r}", e)) from None
    missing = [m for m in ("plan", "route", "prioritise") if getattr(cls, m) is getattr(Policy, m)]
    if missing:
        raise InputError([f"{where}: {name!r} does not implement {', '.join(missing)} (a policy must write all three)"])
    if not isinstance(policy_label(cls), str) or not re.match(NAME_PATTERN, policy_label(cls)):  # it labels results
        raise InputError(
            [
                f"{where}: {name!r}: name {policy_label(cls)!r} may hold only letters, digits, _, - and . (it labels results)"
            ]
        )
    return cls


def _hidden_file(module_name: str, file: str | None) -> Path | None:
    """The file or package in the current folder named ``module_name`` that the module imported by that name (from
    ``file``; None: built into the interpreter), found elsewhere on the path first, hides; or None."""
    here = Path.cwd().joinpath(*module_name.split("."))
    found = Path(file).resolve() if file else None
    for mine in (here.with_suffix(".py"), here / "__init__.py"):
        if mine.is_file() and mine.resolve() != found:
            return mine
    return None


def make_policy(
    name: str,
    params: dict[str, Any] | None = None,
    where: str = "policy",
    scenario: Scenario | None = None,
    params_at: str | None = None,
) -> Policy:
    """Build a policy from its name and parameters, validating both; ``where`` prefixes errors, and
    ``params_at`` those of the parameters (default ``where.params``; ``--param`` for the command line).

    With a ``scenario``, the parameters must also name only what it has (``Policy.problems``: a segment
    it lacks is an InputError ``where.params.KEY: ...``).
    """
    at = f"{where}.params" if params_at is None else params_at
    if not isinstance(name, str):  # a researcher's make_policy(3) had raised "int is not iterable"
        raise InputError([f"{where}: a policy's name is needed (a built-in's, or module:Class), not {name!r}"])
    if params is not None and not isinstance(params, Mapping):
        raise InputError([f"{at}: a mapping of parameter names to values is needed (a dict), not {params!r}"])
    # On the command line a policy is named by --policy itself; in a file, by its table's ``name``.
    # A constructor that raises is said where the command line named the policy (--policy raising:P), or where a
    # file gave its parameters (the key a file names it by differs: policy.name, policies.N.name).
    on_command_line = where.startswith("--")
    named = where if on_command_line else f"{where}.name"
    policy = policy_class(name, named).from_config(params or {}, at, f"{where} {name}" if on_command_line else None)
    if scenario is None:
        return policy
    try:
        problems = policy.problems(scenario)
    except Exception as e:  # a user's check that raises: its fault, named, not covsim's
        raise InputError(
            [
                f"{where}: policy {policy_label(type(policy))}: problems() raised {raised(e)}"
                f"{mistake_hint(type(policy), e)}"
            ]
        ) from None
    if not isinstance(problems, list | tuple) or not all(isinstance(p, str) for p in problems):
        raise InputError(
            [
                f"{where}: policy {policy_label(type(policy))}: problems() must return a list of strings, not {problems!r:.60}"
            ]
        )
    if problems:
        raise InputError([_placed(p, at, name, params or {}, where) for p in problems])
    return policy


def policy_notes(policy: Policy, scenario: Scenario) -> list[str]:
    """``policy.notes(scenario)``, checked as ``problems()`` is: a list of strings, or InputError naming the
    policy (a string returned had been printed a character a line)."""
    label = policy_label(type(policy))
    try:
        notes = policy.notes(scenario)
    except Exception as e:  # a user's notes that raise: its fault, named, not covsim's
        raise InputError([f"policy {label}: notes() raised {raised(e)}{mistake_hint(type(policy), e)}"]) from None
    if not isinstance(notes, list | tuple) or not all(isinstance(n, str) for n in notes):
        raise InputError([f"policy {label}: notes() must return a list of strings, not {notes!r:.60}"])
    return list(notes)


def _placed(problem: str, at: str, name: str, given: dict[str, Any], where: str) -> str:
    """A policy's ``problem`` with one of its parameters (``KEY: ...``), named where the parameter was given;
    one left at its default (a segment name of the baseline scenario, say) is said to be the default, with
    where to set it."""
    key, sep, rest = problem.partition(": ")
    cls = policy_class(name)
    parameters = cls.parameters()
    if not sep or key.partition(".")[0] not in parameters:  # not about a parameter
        return f"{where}: policy {policy_label(cls)}: {problem}"
    if key in given or key not in parameters:
        return param_at(at, problem)
    if where == "--current":  # --param sets the policies under test, not the model in force
        return (
            f"{where} {name}: parameter {key}, left at its default: {rest} (a suite file sets a model in force's "
            f'parameters: current = {{ name = "{name}", params = {{ {key} = ... }} }})'
        )
    if where.startswith("--"):
        return f"{where} {name}: parameter {key}, left at its default: {rest} (set it with --param {key}=...)"
    return f"{param_at(at, key)}, left at {name}'s default: {rest}"


def policy_classes(names: Sequence[str], where: str = "--policy") -> dict[str, type[Policy]]:
    """The class of each of ``names`` (``policy_class``), or InputError naming every one that names no policy, at
    once, not the first alone."""
    classes: dict[str, type[Policy]] = {}
    unknown: list[str] = []
    for name in names:
        try:
            classes[name] = policy_class(name, where)
        except InputError as e:
            unknown += [p for p in e.problems if p not in unknown]
    if unknown:
        raise InputError(unknown)
    return classes


def policies_for(names: Sequence[str], params: dict[str, Any], scenario: Scenario, scenario_file: str) -> list[Policy]:
    """The policies ``covsim run`` runs ``scenario`` under: ``names`` (distinct; default: the scenario's).

    Each of ``params`` goes to the named policies that have it, as an
    experiment's policy factor does. The scenario's own policy keeps its
    parameters from ``scenario_file`` but for those ``params`` set; any other
    policy takes its defaults but for those. Problems are InputError lines
    naming where each value was given (``--policy``, ``--param KEY``, the
    file's ``policy.params.KEY``), every one at once: a value a policy
    refuses, and a parameter no policy has.
    """
    return [policy for policy, _ in _resolved(names, params, scenario, scenario_file)]


def policy_params(
    names: Sequence[str], params: dict[str, Any], scenario: Scenario, scenario_file: str
) -> dict[str, dict[str, Any]]:
    """The parameters each of ``names`` is given by ``policies_for``, checked as there, for ``covsim compare``
    and ``covsim stress``, which run the policies through an experiment."""
    return {
        name: given for name, (_, given) in zip(names, _resolved(names, params, scenario, scenario_file), strict=True)
    }


def command_line_params(
    name: str, params: dict[str, Any], scenario: Scenario, where: str = "--policy"
) -> dict[str, Any]:
    """The parameters the command line gives policy ``name`` (``where`` names it: an unknown one is an
    InputError there; the values are not checked): the scenario's ``[policy] params`` if it is the scenario's
    own policy, and each of ``params`` (``--param``) it has."""
    accepted = policy_class(name, where).parameters()
    own = dict(scenario.policy.params) if name == scenario.policy.name else {}
    return {**own, **{k: v for k, v in params.items() if k in accepted}}


def _resolved(
    names: Sequence[str], params: dict[str, Any], scenario: Scenario, scenario_file: str
) -> list[tuple[Policy, dict[str, Any]]]:
    """``policies_for``'s policies, each with the parameters it was given, in the order of ``names``."""
    if not names:  # the file's policy: a mistake in its name is the file's, not --policy's
        policy_class(scenario.policy.name, f"{scenario_file}: policy.name")
    names = tuple(names) or (scenario.policy.name,)
    accepted = {name: cls.parameters() for name, cls in policy_classes(names).items()}
    policies: list[tuple[Policy, dict[str, Any]]] = []
    refused: dict[str, list[str]] = {}  # each problem, with the policies that gave it
    for name in names:
        merged = command_line_params(name, params, scenario)
        overridden = [k for k in params if k in accepted[name]]
        try:
            if name == scenario.policy.name:
                # The file's values that stay are checked on their own first, so that a problem in one is named
                # there; with none overridden, that is the policy.
                kept = {k: v for k, v in merged.items() if k not in overridden}
                from_file = make_policy(name, kept, f"{scenario_file}: policy", scenario)
                if not overridden:
                    policies.append((from_file, merged))
                    continue
            policy = make_policy(name, merged, "--policy", scenario, params_at="--param" if params else None)
            policies.append((policy, merged))
        except InputError as e:
            for p in e.problems:  # a value two policies refuse: one line
                refused.setdefault(p, []).append(name)
    # A --param goes to every policy that has it: with several, the line says which refused it.
    problems = [
        f"{p} ({'policies' if len(who) > 1 else 'policy'} {joined(who)})"
        if p.startswith("--param ") and len(names) > 1
        else p
        for p, who in refused.items()
    ]
    known = sorted({k for fields in accepted.values() for k in fields})
    nobody = (
        f"{names[0]} has no such parameter"
        if len(names) == 1
        else f"none of the policies ({', '.join(names)}) has this parameter"
    )
    problems += [
        f"--param {k}: {nobody}{_declared_elsewhere(names, k) or did_you_mean(k, known)}"
        for k in params
        if k not in known
    ]
    if problems:
        raise InputError(problems)
    # The tables label results by a policy's name: two policies of one name would be summed as one.
    first: dict[str, str] = {}
    twins = []
    for typed, (policy, _) in zip(names, policies, strict=True):
        label = policy_label(type(policy))
        if label in first:
            twins.append(
                f"--policy: {first[label]} and {typed} are both named {label!r}; give each policy class its own `name`"
            )
        first.setdefault(label, typed)
    if twins:
        raise InputError(twins)
    return policies


def _declared_elsewhere(names: Sequence[str], key: str) -> str:
    """`` (key is declared in XParams, which is not P's Params: ...)`` when a user policy's module declares ``key``
    in a strict model that the policy does not use as its Params (a new user forgot ``Params = XParams``)."""
    for name in names:
        if ":" not in name:
            continue
        cls = policy_class(name)
        module = sys.modules.get(cls.__module__)
        for model in vars(module).values() if module is not None else ():
            if isinstance(model, type) and issubclass(model, Strict) and model is not cls.Params:
                try:
                    fields = model.model_fields
                except (TypeError, NameError):  # a model the strict models cannot read: not this one
                    continue
                if key not in fields:
                    continue
                # Another policy of the module that has it: named, not the advice to take its Params (a
                # researcher's subclass with Params of its own had its parent told to take them).
                users = [
                    c
                    for c in vars(module).values()
                    if isinstance(c, type) and issubclass(c, Policy) and c is not cls and c.Params is model
                ]
                if users:
                    return f" ({key} is a parameter of {users[0].__module__}:{users[0].__name__}, in {model.__name__})"
                return (
                    f" ({key} is declared in {model.__name__}, which is not {policy_label(cls)}'s Params: set "
                    f"Params = {model.__name__} in the class)"
                )
    return ""


__all__ = [
    "BUILT_IN",
    "Policy",
    "command_line_params",
    "make_policy",
    "policies_for",
    "policy_class",
    "policy_params",
]
