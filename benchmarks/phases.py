"""Where a run's time goes: wall time of each step of the week, summed over a run, and how much of it the
compiled loops take.

    python benchmarks/phases.py [customers] [policy]

Wraps each step method of CoverageModel with a timer (the wrappers add about
a microsecond per call), and every compiled loop (``sim.compiled``) with one
that adds its time to the step it runs in (about 0.2 microseconds a call,
some 6,000 calls a 100k run). Reports the fastest of five runs of the
baseline scaled to ``customers``, as JSON: total, model construction, each
step, and the compiled loops' part of each (``kernels_s``; construction's
under ``"construction"``). What is not in a compiled loop is numpy's and
Python's calls between them: the part that compiling whole phases would cut.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sim.compiled  # noqa: E402
import sim.model  # noqa: E402
from benchmarks.compare_mesa import scaled_scenario  # noqa: E402
from sim.model import CoverageModel  # noqa: E402
from sim.policies import make_policy  # noqa: E402

#: The steps of CoverageModel.step, in the order they run: the quarter's start (a function of
#: sim.quarter_start that the model calls), then the model's own methods.
QUARTER = "start_quarter"
STEPS = (
    "_begin_week",
    "_arrivals",
    "_route",
    "_work",
    "_expire",
    "_churn",
    "_renewal_dates",
    "_end_week",
    "_close_quarter",
)


CONSTRUCTION = "construction"


def profile(customers: int, policy: str, repeats: int = 5) -> dict[str, Any]:
    spent: Counter[str] = Counter()
    kernels: Counter[str] = Counter()
    step = [CONSTRUCTION]  # the step running now, which the compiled loops' time goes to
    originals = {name: getattr(CoverageModel, name) for name in STEPS}

    def timed(name: str, method: Any) -> Any:
        def wrapper(self: CoverageModel, *args: Any) -> Any:
            outer, step[0] = step[0], name
            start = time.perf_counter()
            try:
                return method(self, *args)
            finally:
                spent[name] += time.perf_counter() - start
                step[0] = outer

        return wrapper

    for name, method in originals.items():
        setattr(CoverageModel, name, timed(name, method))
    quarter = sim.model.start_quarter
    sim.model.start_quarter = timed(QUARTER, quarter)
    restore = _time_compiled_loops(kernels, step)
    try:
        scenario = scaled_scenario(customers)
        best: dict[str, Any] | None = None
        for _ in range(repeats):
            spent.clear()
            kernels.clear()
            step[0] = CONSTRUCTION
            start = time.perf_counter()
            model = CoverageModel(scenario, make_policy(policy), 1)
            built = time.perf_counter()
            model.run()
            total = time.perf_counter() - start
            model.release()
            if best is None or total < best["total_s"]:
                best = {
                    "total_s": total,
                    "construction_s": built - start,
                    "steps_s": dict(spent),
                    "kernels_s": dict(kernels),
                }
        assert best is not None
        return {"customers": customers, "policy": policy, "weeks": scenario.weeks, **best}
    finally:
        restore()
        sim.model.start_quarter = quarter
        for name, method in originals.items():
            setattr(CoverageModel, name, method)


def _time_compiled_loops(kernels: Counter[str], step: list[str]) -> Any:
    """Every ``sim`` module's ``compiled`` replaced by one whose loops add their time to ``kernels[step[0]]``;
    returns what puts the originals back. (Each module calls ``compiled(loop)`` where it runs the loop, under
    the name it imported.)"""
    original = sim.compiled.compiled

    @functools.cache
    def timing(function: Any) -> Any:
        loop = original(function)

        def timed_loop(*args: Any) -> Any:
            start = time.perf_counter()
            try:
                return loop(*args)
            finally:
                kernels[step[0]] += time.perf_counter() - start

        return timed_loop

    modules = [m for name, m in list(sys.modules.items()) if name.startswith("sim") and m is not None]
    # Not sim.compiled itself: it compiles a kernel's helpers by its own ``compiled``, and numba can call only
    # compiled functions, not the timing wrappers.
    patched = [m for m in modules if m is not sim.compiled and getattr(m, "compiled", None) is original]
    for module in patched:
        module.compiled = timing  # type: ignore[attr-defined]

    def restore() -> None:
        for module in patched:
            module.compiled = original  # type: ignore[attr-defined]

    return restore


def table(p: dict[str, Any]) -> str:
    lines = [
        "| step | ms per run | share | ms per week | of which compiled loops, ms |",
        "|------|-----------:|------:|------------:|----------------------------:|",
    ]
    kernels = p["kernels_s"]
    parts = [("model construction (population, seats)", p["construction_s"], kernels.get(CONSTRUCTION, 0.0))]
    parts += [
        (name.strip("_").replace("_", " "), p["steps_s"].get(name, 0.0), kernels.get(name, 0.0))
        for name in (QUARTER, *STEPS)
    ]
    rest = p["total_s"] - sum(seconds for _, seconds, _ in parts)
    parts.append(("the rest (relationship decay, the step's own calls)", max(rest, 0.0), 0.0))
    for name, seconds, compiled_s in sorted(parts, key=lambda x: -x[1]):
        lines.append(
            f"| {name} | {1000 * seconds:.1f} | {seconds / p['total_s']:.0%} | {1000 * seconds / p['weeks']:.2f} "
            f"| {1000 * compiled_s:.1f} |"
        )
    total_kernels = sum(kernels.values())
    lines.append(
        f"| **total** | {1000 * p['total_s']:.1f} | 100% | {1000 * p['total_s'] / p['weeks']:.2f} "
        f"| {1000 * total_kernels:.1f} |"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    pol = sys.argv[2] if len(sys.argv) > 2 else "unstructured"
    print(json.dumps(profile(n, pol)))
