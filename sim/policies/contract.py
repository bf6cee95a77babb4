"""The public contract every coverage policy must keep (built-in or user-defined), as named checks.

    from sim.policies.contract import check_policy
    problems = check_policy(MyPolicy)          # [] when the policy keeps the contract

or, one pytest test per check (ids ``MyPolicy-check_route_valid`` ...)::

    from sim.policies.contract import parametrize_with_checks

    @parametrize_with_checks([MyPolicy])
    def test_contract(policy, check):
        check()

The checks, each on a small scenario run for two quarters (the second opens
with a fifth of the seats vacated and demand up by half, and customers churn
throughout, so a plan is made over a changed world):

- ``check_constructs``: the policy builds with its default parameters;
- ``check_runs``: a whole run finishes without the policy raising;
- ``check_plan_valid``: ``plan`` returns a CoveragePlan with one owner (seat
  or -1), service level and cadence (0 to 13 touches a quarter) per account;
- ``check_route_valid``: ``route`` returns one seat (or -1) per pending
  opportunity, and never gives a deal that needs a closer to a seat that
  cannot close;
- ``check_priorities_valid``: ``prioritise`` returns one number per task, none NaN;
- ``check_touches_valid``: ``touches`` returns account indices in range, each
  with an owner, and ``specialist_touches`` (account, line) rows, each with a
  specialist;
- ``check_view_unchanged``: the policy does not write to what it is shown
  (every array of every view is the same after the call as before);
- ``check_deterministic_call``: the same view and a generator in the same
  state give the same answer;
- ``check_deterministic_run``: two whole runs with the same seed in this
  process give identical metrics, and, when the policy is a class importable
  by ``module:Class``, so does a third in a fresh process with another
  string hash seed, so a policy that draws from the clock, from Python's or
  numpy's global generator, keeps state from one run to the next, or orders
  by iterating a ``set`` of strings shows it;
- ``check_capacity``: no rep works more hours in a week than it has, read
  from the hours the run recorded per seat.
"""

from __future__ import annotations

import copy
import inspect
import os
import pickle
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError, PolicyError, raised
from sim.policies.protocol import (
    NO_PARAMS,
    PlanView,
    Policy,
    RouteView,
    TaskView,
    checked_plan,
    checked_priority,
    checked_route,
    checked_specialist_touches,
    checked_touches,
    policy_label,
)
from sim.scenario import Scenario, load_scenario

SMALL_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "small.toml"

PolicyFactory = Callable[[], Policy] | type[Policy]


def _arrays(view: Any) -> dict[str, np.ndarray]:
    """Every array reachable from a view, by dotted name, copied."""
    out: dict[str, np.ndarray] = {}

    def walk(obj: Any, prefix: str) -> None:
        if isinstance(obj, np.ndarray):
            out[prefix] = obj.copy()
        elif is_dataclass(obj):
            for f in fields(obj):
                walk(getattr(obj, f.name), f"{prefix}.{f.name}" if prefix else f.name)

    walk(view, "")
    return out


def _equal(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc" and b.dtype.kind in "fc"))


def _same(a: Any, b: Any) -> bool:
    if is_dataclass(a) and is_dataclass(b):
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))
    return _equal(a, b)


@dataclass
class _Findings:
    """What the contract runs of one policy found, by check name (first problem of each kind kept once)."""

    problems: dict[str, list[str]] = field(default_factory=dict)

    def add(self, check: str, message: str) -> None:
        found = self.problems.setdefault(check, [])
        if message not in found:
            found.append(message)


_VALIDATE = {
    "plan": (
        "check_plan_valid",
        lambda result, view, name: checked_plan(
            result, view.accounts.size, view.team.size, name, len(view.accounts.line_names), view.team
        ),
    ),
    "route": (
        "check_route_valid",
        lambda result, view, name: checked_route(result, view.pending, view.team, view.plan.seat_pool, name),
    ),
    "prioritise": ("check_priorities_valid", lambda result, view, name: checked_priority(result, view.tasks, name)),
    "touches": (
        "check_touches_valid",
        lambda result, view, name: checked_touches(result, view.plan.owner, name),
    ),
    "specialist_touches": (
        "check_touches_valid",
        lambda result, view, name: checked_specialist_touches(result, view.plan, len(view.accounts.line_names), name),
    ),
}


class _Audited(Policy):
    """Wraps a policy: validates each answer, and checks each call for mutation and determinism."""

    def __init__(self, inner: Policy, findings: _Findings) -> None:
        self.inner, self.findings = inner, findings
        self.params = inner.params

    def _call(self, method: str, view: PlanView | RouteView | TaskView, rng: np.random.Generator) -> Any:
        before = _arrays(view)
        twin = copy.deepcopy(rng)
        clone = copy.deepcopy(self.inner)  # before the call, so a policy that keeps state is compared fairly
        first = getattr(self.inner, method)(view, rng)
        changed = [k for k, v in _arrays(view).items() if not _equal(before[k], v)]
        if changed:
            self.findings.add("check_view_unchanged", f"{method}() changed its view: {', '.join(changed)}")
        check, validate = _VALIDATE[method]
        try:
            validate(first, view, self.name)
        except PolicyError as e:
            self.findings.add(check, str(e))
        again = getattr(clone, method)(view, twin)
        if not _same(first, again):
            self.findings.add("check_deterministic_call", f"{method}() is not deterministic for a fixed generator")
        return first

    def plan(self, view: PlanView, rng: np.random.Generator) -> Any:
        return self._call("plan", view, rng)

    def route(self, view: RouteView, rng: np.random.Generator) -> Any:
        return self._call("route", view, rng)

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> Any:
        return self._call("prioritise", view, rng)

    def touches(self, view: RouteView, rng: np.random.Generator) -> Any:
        return self._call("touches", view, rng)

    def specialist_touches(self, view: RouteView, rng: np.random.Generator) -> Any:
        return self._call("specialist_touches", view, rng)


#: What the default contract world adds to the small scenario: its second quarter opens changed.
CONTRACT_SHOCKS = (
    {"kind": "rep_attrition", "quarter": 2, "share": 0.2},
    {"kind": "demand", "quarter": 2, "factor": 1.5},
)


def _contract_world(scenario: Scenario | None, quarters: int) -> Scenario:
    """The scenario the checks run: the given one, or the small one with CONTRACT_SHOCKS, over ``quarters``, its
    shocks after them left out (CONTRACT_SHOCKS' at quarter 2 had refused ``quarters=1`` as bad input)."""
    world = load_scenario(SMALL_SCENARIO) if scenario is None else scenario
    shocks = [*(s.model_dump(mode="json") for s in world.shocks), *(CONTRACT_SHOCKS if scenario is None else ())]
    kept = [s for s in shocks if s["quarter"] <= quarters]
    return world.with_overrides("contract check", quarters=quarters, shocks=kept)


def _import_path(policy: PolicyFactory) -> str | None:
    """``module:Class`` for a policy class another process can import, else None (a factory, a local class)."""
    if not isinstance(policy, type):
        return None
    module, name = policy.__module__, policy.__qualname__
    return None if module == "__main__" or "<locals>" in name else f"{module}:{name}"


_ELSEWHERE = """
import pickle, sys
from sim.model import CoverageModel
from sim.policies import policy_class
from sim.scenario import parse_scenario

path, seed, scenario = pickle.load(sys.stdin.buffer)
model = CoverageModel(parse_scenario(scenario, "contract check"), policy_class(path)(), seed)
try:
    model.run()
    sys.stdout.buffer.write(pickle.dumps(model.metrics_frame()))
finally:
    model.release()
"""


def _metrics_elsewhere(path: str, scenario: Scenario, seed: int) -> pd.DataFrame | str:
    """The run's metrics from a fresh process with another string hash seed, or why there are none."""
    env = {**os.environ, "PYTHONHASHSEED": "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)  # the parent's modules, the policy's too
    payload = pickle.dumps((path, seed, scenario.model_dump(mode="json")))
    done = subprocess.run([sys.executable, "-c", _ELSEWHERE], input=payload, capture_output=True, env=env)
    if done.returncode != 0:
        last = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        return f"the run in another process failed: {last[0]}"
    frame: pd.DataFrame = pickle.loads(done.stdout)
    return frame


class _ContractRuns:
    """The runs every check of one policy reads, made once, on first use."""

    def __init__(self, policy: PolicyFactory, scenario: Scenario | None, seed: int, quarters: int) -> None:
        self.policy, self.seed = policy, seed
        self.scenario = _contract_world(scenario, quarters)
        self._findings: _Findings | None = None

    def findings(self) -> _Findings:
        if self._findings is None:
            self._findings = self._run()
        return self._findings

    def _run(self) -> _Findings:
        from sim.model import CoverageModel
        from sim.policies import checked_class

        found = _Findings()
        tables = []
        path = _import_path(self.policy)
        if isinstance(self.policy, Policy):  # an instance: "'X' object is not callable" had said nothing of what to do
            name = type(self.policy).__name__
            found.add(
                "check_constructs",
                f"given a {name} object: give the class, {name}, or a factory such as "
                f"lambda: {name}(...), as each run needs a fresh policy",
            )
            return found
        if isinstance(self.policy, type):  # what covsim refuses to load by name, said as the command line says it
            try:
                checked_class(self.policy, "the class", self.policy.__qualname__)
            except InputError as e:
                for problem in e.problems:
                    found.add("check_constructs", problem)
                return found
        for attempt in range(2):
            try:
                instance = self.policy()
            except Exception as e:
                found.add("check_constructs", f"cannot construct the policy with defaults: {raised(e)}")
                return found
            if not isinstance(instance, Policy):
                found.add(
                    "check_constructs", f"the factory gave an object of type {type(instance).__name__}, not a Policy"
                )
                return found
            if getattr(instance, "params", None) is None:  # a wrapper (a rollout) may hold another class's
                found.add("check_constructs", NO_PARAMS)
                return found
            if attempt == 0:
                # Labelled as the policy, so the engine's messages and tables name it.
                instance = type("Audited", (_Audited,), {"name": policy_label(type(instance))})(instance, found)
            model = CoverageModel(self.scenario, instance, self.seed)
            try:
                model.run()
            except PolicyError as e:
                if not found.problems:  # else the audited policy has named the broken answer under its check
                    found.add("check_runs", str(e))
                return found
            except Exception as e:
                found.add("check_runs", f"the policy raised {raised(e)}")
                return found
            finally:
                model.release()
            if isinstance(instance, _Audited):
                _warn_untried(instance, self.scenario)
            if model.recorder.most_over_capacity > 1e-6:
                found.add(
                    "check_capacity",
                    f"a rep worked {model.recorder.most_over_capacity:.3g} hours more than its capacity in a week",
                )
            tables.append(model.metrics_frame())
        # A third run in a fresh process (another hash seed, later on the clock, no state left by the first two).
        if path is not None and tables[0].equals(tables[1]):
            elsewhere = _metrics_elsewhere(path, self.scenario, self.seed)
            if isinstance(elsewhere, str):
                found.add("check_deterministic_run", elsewhere)
                return found
            tables.append(elsewhere)
        if any(not tables[0].equals(t) for t in tables[1:]):
            found.add(
                "check_deterministic_run",
                "two runs with the same seed gave different metrics: the policy draws on something besides its "
                "generator (the clock, a global generator, the order of a set, state kept from an earlier run)",
            )
        return found


def _warn_untried(audited: _Audited, world: Scenario) -> None:
    """Warns that the policy has a ``specialist_touches`` of its own but the world checked has no specialist, so
    the contract says nothing of it (a researcher's overlay policy was "contract kept" on the small scenario,
    where its offers could only be empty). A rollout's is its two policies' (it passes their offers on)."""
    from sim.policies.rollout import Rollout

    def own(policy: Policy) -> bool:
        if isinstance(policy, Rollout):
            return own(policy.new) or own(policy.current)
        return type(policy).specialist_touches is not Policy.specialist_touches

    if own(audited.inner) and "specialist" not in world.seat_roles:
        frame, level = inspect.currentframe(), 1
        while frame is not None and frame.f_code.co_filename == __file__:  # said at the first caller outside
            frame, level = frame.f_back, level + 1
        warnings.warn(
            f"{audited.name}.specialist_touches() was not put to the test: the world checked has no line "
            "specialist, so the contract says nothing of it; check it in one that has: "
            'check_policy(MyPolicy, load_scenario("scenarios/overlay.toml"))',
            UserWarning,
            stacklevel=level,
        )


CHECKS = (
    "check_constructs",
    "check_runs",
    "check_plan_valid",
    "check_route_valid",
    "check_priorities_valid",
    "check_touches_valid",
    "check_view_unchanged",
    "check_deterministic_call",
    "check_deterministic_run",
    "check_capacity",
)


def _problems_of(runs: _ContractRuns, check: str) -> list[str]:
    return list(runs.findings().problems.get(check, []))


def policy_checks(
    policy: PolicyFactory, scenario: Scenario | None = None, seed: int = 3, quarters: int = 2
) -> Iterator[tuple[str, Callable[[], list[str]]]]:
    """Each check of the contract by name, as a function returning the problems it found ([] when kept).

    ``policy`` is a class or a zero-argument factory, so each run gets a fresh
    instance. The checks share one set of runs, made when the first is called.
    """
    runs = _ContractRuns(policy, scenario, seed, quarters)
    for check in CHECKS:
        yield check, partial(_problems_of, runs, check)


def check_policy(
    policy: PolicyFactory, scenario: Scenario | None = None, seed: int = 3, quarters: int = 2
) -> list[str]:
    """Run every check; returns the problems found (empty when the policy keeps the contract)."""
    return [problem for _, check in policy_checks(policy, scenario, seed, quarters) for problem in check()]


def parametrize_with_checks(policies: Sequence[PolicyFactory], scenario: Scenario | None = None) -> Any:
    """A pytest decorator: one test per policy and check, with arguments ``policy`` and ``check``; ``scenario``:
    the world they are checked in, as :func:`check_policy` takes it (an overlay's policy needs one with lines and
    specialists, which the default has not).

    ``check()`` raises AssertionError naming the policy, the check and what broke.
    """
    import pytest

    cases = []
    for policy in policies:
        label = getattr(policy, "__name__", repr(policy))
        for name, problems in policy_checks(policy, scenario):
            cases.append(pytest.param(policy, partial(_assert_kept, label, name, problems), id=f"{label}-{name}"))
    return pytest.mark.parametrize(("policy", "check"), cases)


def _assert_kept(label: str, name: str, problems: Callable[[], list[str]]) -> None:
    found = problems()
    assert not found, f"{label} fails {name}: " + "; ".join(found)
