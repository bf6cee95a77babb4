"""Start-up: how long a command takes before it does any work, against importing numpy and Mesa.

    python benchmarks/startup.py [rounds]

Each case is a fresh process, timed from launch to exit by this one. The
cases take turns, round after round, so that a busy machine slows them
alike; the figure of each is its median over ``rounds`` (default ROUNDS),
after one round, not counted, that fills the file cache and compiles the
bytecode. A command is judged against its reference within each round (its
time less Mesa's, or over numpy's, in the same round) and by the median of
those paired figures: this machine's speed drifts by more than the 0.1 s
being judged from one minute to the next, and a pair taken seconds apart
drifts little. Prints JSON: the cases' medians in seconds, and the paired
medians (``run_over_mesa`` in seconds, ``<command>_over_numpy`` ratios).

The references are the interpreter importing numpy, and Mesa (which brings
pandas, scipy and pyarrow with it). ``covsim run`` is timed to the point
where its model would start: the real command runs, with the library's
``sim.run.run`` replaced by an immediate exit, so the figure is everything
before the simulation (interpreter, imports, reading the scenario, building
the policies) and nothing of it. The replacement loads ``sim.run`` the way
the command loads its libraries (``loading_libraries``: the garbage
collector paused, what was loaded then frozen); loaded plainly, with the
collector on, it would cost about 0.1 s more than the command does. Its reference, Mesa's import, ends the same
way, the moment it is done: neither pays for tearing down what it loaded
(about a fifth of ``python -c "import mesa"``), which is no part of starting.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
COVSIM = str(Path(sys.executable).with_name("covsim"))
SCENARIO = "scenarios/small.toml"
ROUNDS = 11

#: The exit status of a ``covsim run`` stopped where its model starts, so that a stop that never came is noticed.
STOPPED = 17

RUN_UNTIL_THE_MODEL = f"""
import os
from sim.cli.common import loading_libraries

with loading_libraries():  # as the command loads it: the collector paused, then what was loaded frozen
    import sim.run

def stop(*args, **kwargs):
    os._exit({STOPPED})

sim.run.run = stop
from sim.cli import main
main(["run", "{SCENARIO}"], prog_name="covsim")
"""

#: The children's environment. An installed covsim runs from compiled bytecode; with PYTHONDONTWRITEBYTECODE set,
#: every process would compile each module of sim again, which is no user's start-up.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

CASES: dict[str, list[str]] = {
    "numpy": [sys.executable, "-c", "import numpy"],
    "mesa": [sys.executable, "-c", "import os, mesa; os._exit(0)"],
    "help": [COVSIM, "--help"],
    "validate": [COVSIM, "validate", SCENARIO],
    "policies": [COVSIM, "policies"],
    "run": [sys.executable, "-c", RUN_UNTIL_THE_MODEL],
}


def seconds(case: str) -> float:
    """Wall time of one fresh process running ``case``, launch to exit."""
    start = time.perf_counter()
    done = subprocess.run(CASES[case], capture_output=True, text=True, cwd=ROOT, env=ENV)
    elapsed = time.perf_counter() - start
    expected = STOPPED if case == "run" else 0
    if done.returncode != expected:
        raise RuntimeError(f"{case}: exit status {done.returncode}, expected {expected}: {done.stderr.strip()}")
    return elapsed


def measure(rounds: int = ROUNDS) -> dict[str, float]:
    """Median seconds of each case over ``rounds``."""
    for case in CASES:
        seconds(case)
    times: dict[str, list[float]] = {case: [] for case in CASES}
    for _ in range(rounds):
        for case in CASES:
            times[case].append(seconds(case))
    out = {case: statistics.median(t) for case, t in times.items()}
    out["run_over_mesa"] = statistics.median(r - m for r, m in zip(times["run"], times["mesa"], strict=True))
    for case in ("help", "validate", "policies"):
        out[f"{case}_over_numpy"] = statistics.median(c / n for c, n in zip(times[case], times["numpy"], strict=True))
    return out


def table(s: dict[str, Any]) -> str:
    """The medians, each command's against its reference."""
    rows = [
        ('`python -c "import numpy"`', s["numpy"], "reference"),
        ('`python -c "import mesa"`, to the end of the import', s["mesa"], f"{s['mesa'] / s['numpy']:.1f}x numpy"),
        ("`covsim --help`", s["help"], f"{s['help_over_numpy']:.1f}x numpy"),
        (f"`covsim validate {SCENARIO}`", s["validate"], f"{s['validate_over_numpy']:.1f}x numpy"),
        ("`covsim policies`", s["policies"], f"{s['policies_over_numpy']:.1f}x numpy"),
        (f"`covsim run {SCENARIO}`, to its model's start", s["run"], f"mesa {s['run_over_mesa']:+.2f} s"),
    ]
    lines = ["| process | median s | against (median of the rounds' pairs) |", "|---------|---------:|---------|"]
    lines += [f"| {name} | {value:.3f} | {against} |" for name, value, against in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS)))
