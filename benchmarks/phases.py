"""Where a run's time goes: wall time of each step of the week, summed over a run.

    python benchmarks/phases.py [customers] [policy]

Wraps each step method of CoverageModel with a timer (the wrappers add about
a microsecond per call) and reports the fastest of five runs of the baseline
scaled to ``customers``, as JSON: total, model construction, and each step.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

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


def profile(customers: int, policy: str, repeats: int = 5) -> dict[str, Any]:
    spent: Counter[str] = Counter()
    originals = {name: getattr(CoverageModel, name) for name in STEPS}

    def timed(name: str, method: Any) -> Any:
        def wrapper(self: CoverageModel, *args: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(self, *args)
            finally:
                spent[name] += time.perf_counter() - start

        return wrapper

    for name, method in originals.items():
        setattr(CoverageModel, name, timed(name, method))
    quarter = sim.model.start_quarter
    sim.model.start_quarter = timed(QUARTER, quarter)
    try:
        scenario = scaled_scenario(customers)
        best: dict[str, Any] | None = None
        for _ in range(repeats):
            spent.clear()
            start = time.perf_counter()
            model = CoverageModel(scenario, make_policy(policy), 1)
            built = time.perf_counter()
            model.run()
            total = time.perf_counter() - start
            model.release()
            if best is None or total < best["total_s"]:
                best = {"total_s": total, "construction_s": built - start, "steps_s": dict(spent)}
        assert best is not None
        return {"customers": customers, "policy": policy, "weeks": scenario.weeks, **best}
    finally:
        sim.model.start_quarter = quarter
        for name, method in originals.items():
            setattr(CoverageModel, name, method)


def table(p: dict[str, Any]) -> str:
    lines = ["| step | ms per run | share | ms per week |", "|------|-----------:|------:|------------:|"]
    parts = [("model construction (population, seats)", p["construction_s"])]
    parts += [(name.strip("_").replace("_", " "), p["steps_s"].get(name, 0.0)) for name in (QUARTER, *STEPS)]
    rest = p["total_s"] - sum(seconds for _, seconds in parts)
    parts.append(("the rest (relationship decay, the step's own calls)", max(rest, 0.0)))
    for name, seconds in sorted(parts, key=lambda x: -x[1]):
        lines.append(
            f"| {name} | {1000 * seconds:.1f} | {seconds / p['total_s']:.0%} | {1000 * seconds / p['weeks']:.2f} |"
        )
    lines.append(f"| **total** | {1000 * p['total_s']:.1f} | 100% | {1000 * p['total_s'] / p['weeks']:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    pol = sys.argv[2] if len(sys.argv) > 2 else "unstructured"
    print(json.dumps(profile(n, pol)))
