"""The compiled kernels' cost per process: importing numba, and their first use with a cold and a warm cache.

    python benchmarks/kernel.py [rounds]

The engine's loops compiled by numba (``sim.compiled``: the allocation's
dispatch and order, the touch, expansion and per-account tallies, the
keyed draws, and ``unstructured``'s pickup chance) are compiled on first use
and kept in numba's on-disk cache. A process pays once
for each: with a cold cache it compiles it, with a warm one it loads it. Two
figures: the allocation kernel alone (its first call), and every kernel a run
uses (a tiny run's first time in a process, less its second). Each case is a fresh process pointed at its own cache directory
(``NUMBA_CACHE_DIR``); the figure of each is its median over ``rounds``
(default 3). Prints JSON: the medians in seconds, and one steady-state call.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FIRST_CALL = """
import json, time
from sim.allocation import allocate_hours
import numpy as np
rng = np.random.default_rng(1)
n, seats = 4000, 42
args = (rng.integers(0, seats, n), rng.uniform(0.5, 3, n), rng.uniform(0, 1, n), np.full(seats, 30.8), rng.uniform(0, 5, n))
t = time.perf_counter()
allocate_hours(*args)
first = time.perf_counter() - t
t = time.perf_counter()
for _ in range(100):
    allocate_hours(*args)
print(json.dumps({"first": first, "steady": (time.perf_counter() - t) / 100}))
"""

FIRST_RUN = """
import json, time
from sim.app.engine import warm_up_spec
from sim.experiment.worker import execute
spec = warm_up_spec()  # one quarter of the small world at 200 accounts
t = time.perf_counter()
execute(spec)
first = time.perf_counter() - t
t = time.perf_counter()
execute(spec)
print(json.dumps({"first": first - (time.perf_counter() - t)}))
"""

IMPORT_NUMBA = (
    "import json, time; t = time.perf_counter(); import numba; print(json.dumps({'first': time.perf_counter() - t}))"
)


def _once(code: str, cache: str) -> dict[str, float]:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, env=env)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def measure(rounds: int = 3) -> dict[str, float]:
    imports, cold, warm, steady, run_cold, run_warm = [], [], [], [], [], []
    for _ in range(rounds):
        imports.append(_once(IMPORT_NUMBA, tempfile.mkdtemp())["first"])
        cache = tempfile.mkdtemp()
        cold.append(_once(FIRST_CALL, cache)["first"])  # an empty cache: compiles
        w = _once(FIRST_CALL, cache)  # the same cache, now filled: loads
        warm.append(w["first"])
        steady.append(w["steady"])
        cache = tempfile.mkdtemp()
        run_cold.append(_once(FIRST_RUN, cache)["first"])
        run_warm.append(_once(FIRST_RUN, cache)["first"])
    return {
        "import_numba": statistics.median(imports),
        "first_call_cold": statistics.median(cold),
        "first_call_warm": statistics.median(warm),
        "steady_call": statistics.median(steady),
        "first_run_cold": statistics.median(run_cold),
        "first_run_warm": statistics.median(run_warm),
    }


def table(k: dict[str, float]) -> str:
    rows = [
        ("import numba", k["import_numba"]),
        ("first allocation, cold cache (compiles the kernel)", k["first_call_cold"]),
        ("first allocation, warm cache (loads it)", k["first_call_warm"]),
        ("one allocation after that (4,000 tasks, 42 reps)", k["steady_call"]),
        ("every kernel a run uses, cold cache (a first tiny run less its second)", k["first_run_cold"]),
        ("every kernel a run uses, warm cache (loads them; numba's import included)", k["first_run_warm"]),
    ]
    lines = ["| once per process | seconds |", "|------------------|--------:|"]
    lines += [f"| {name} | {value:.4f} |" for name, value in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 3)))
