"""The public contract every coverage policy must pass (built-in or user-defined).

    from sim.policies.contract import check_policy
    problems = check_policy(MyPolicy)          # [] when the policy keeps the contract

Checks, on a small scenario run for one quarter:

1. ``plan`` returns a valid plan: one owner (seat or -1), service level and a
   finite non-negative cadence per account;
2. ``route`` returns one valid seat (or -1) per pending opportunity and never
   gives a deal that needs a closer to a seat that cannot close;
3. ``prioritise`` returns one number per task;
4. the policy does not write to what it is shown (every array of every view is
   the same after the call as before);
5. it is deterministic for a fixed generator: the same view and a generator in
   the same state give the same answer, and two whole runs give identical
   metrics;
6. the engine keeps every rep within its hours under it (capacity).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import PolicyError
from sim.policies.protocol import Policy
from sim.scenario import Scenario, load_scenario

SMALL_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "small.toml"


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


class _Audited(Policy):
    """Wraps a policy; checks each call for mutation and determinism."""

    def __init__(self, inner: Policy, problems: list[str]) -> None:
        self.inner, self.problems = inner, problems
        self.params = inner.params

    def _call(self, method: str, view: Any, rng: np.random.Generator) -> Any:
        before = _arrays(view)
        twin = copy.deepcopy(rng)
        first = getattr(self.inner, method)(view, rng)
        after = _arrays(view)
        changed = [k for k in before if not _equal(before[k], after[k])]
        if changed:
            self._report(f"{method}() changed its view: {', '.join(changed)}")
        again = getattr(copy.deepcopy(self.inner), method)(view, twin)
        if not _same(first, again):
            self._report(f"{method}() is not deterministic for a fixed generator")
        return first

    def _report(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)

    def plan(self, view: Any, rng: np.random.Generator) -> Any:
        return self._call("plan", view, rng)

    def route(self, view: Any, rng: np.random.Generator) -> Any:
        return self._call("route", view, rng)

    def prioritise(self, view: Any, rng: np.random.Generator) -> Any:
        return self._call("prioritise", view, rng)


def check_policy(
    policy: Callable[[], Policy] | type[Policy],
    scenario: Scenario | None = None,
    seed: int = 3,
    quarters: int = 1,
) -> list[str]:
    """Run the contract checks; returns the problems found (empty when it passes).

    ``policy`` is a class or a zero-argument factory, so each run gets a fresh
    instance.
    """
    from sim import model as model_module
    from sim.model import CoverageModel

    scenario = scenario or load_scenario(SMALL_SCENARIO)
    scenario = scenario.with_overrides("contract check", quarters=quarters)
    problems: list[str] = []

    original = model_module.allocate_hours

    def audited_allocation(rep: np.ndarray, cost: np.ndarray, priority: np.ndarray, capacity: np.ndarray) -> Any:
        result = original(rep, cost, priority, capacity)
        used = np.bincount(rep[result.accepted], weights=cost[result.accepted], minlength=capacity.size)
        if np.any(used > capacity + 1e-6):
            problems.append("a rep worked more hours than its capacity")
        return result

    tables = []
    for attempt in range(2):
        try:
            instance = policy()
        except Exception as e:
            return [f"cannot construct the policy with defaults: {type(e).__name__}: {e}"]
        if attempt == 0:
            # Same name as the policy, so the engine's messages name it.
            audited = type("Audited", (_Audited,), {"name": instance.name})(instance, problems)
        model = CoverageModel(scenario, audited if attempt == 0 else instance, seed)
        model_module.allocate_hours = audited_allocation  # type: ignore[assignment]
        try:
            model.run()
        except PolicyError as e:
            problems.append(str(e))
            return problems
        except Exception as e:
            problems.append(f"the policy raised {type(e).__name__}: {e}")
            return problems
        finally:
            model_module.allocate_hours = original
            model.release()
        tables.append(model.metrics_frame())
    if not tables[0].equals(tables[1]):
        problems.append("two runs with the same seed gave different metrics")
    return problems
