"""`make bench`: time full runs of the baseline scenario and write benchmarks/results.md.

Each case runs in a fresh process so its peak memory is its own. Figures are
the median of several repeats of the whole run (population, 104 weeks, all
metrics); model construction is included, interpreter start-up is not.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.md"

CASE = r"""
import json, resource, sys, time
from sim.scenario import load_scenario
from sim.policies import make_policy
from sim.run import run
scenario = load_scenario(sys.argv[1])
customers, policy, repeats = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
if customers != scenario.population.customers:
    scale = customers / scenario.population.customers
    data = scenario.model_dump(mode="json")
    data["population"]["customers"] = customers
    for g in data["reps"]:
        g["count"] = max(1, round(g["count"] * scale))
    from sim.scenario import parse_scenario
    scenario = parse_scenario(data)
times = []
for _ in range(repeats):
    start = time.perf_counter()
    result = run(scenario, make_policy(policy))
    times.append(time.perf_counter() - start)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"times": times, "peak": peak, "rows": len(result.metrics), "reps": sum(g.count for g in scenario.reps)}))
"""


def case(customers: int, policy: str, repeats: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CASE, str(ROOT / "scenarios" / "baseline.toml"), str(customers), policy, str(repeats)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout)


def main() -> None:
    rows = []
    plan = [(100_000, p, 5) for p in ("unstructured", "segment_tiers", "hunter_farmer")] + [
        (10_000, "segment_tiers", 5)
    ]
    for customers, policy, repeats in plan:
        r = case(customers, policy, repeats)
        rows.append(
            {
                "case": f"baseline, {policy}",
                "customers": customers,
                "reps": r["reps"],
                "weeks": 104,
                "median_s": statistics.median(r["times"]),
                "min_s": min(r["times"]),
                "peak_mb": r["peak"] / 2**20,
            }
        )
        print(f"  {rows[-1]['case']:<32} {customers:>9,} customers  {rows[-1]['median_s']:.3f} s", file=sys.stderr)

    header = f"| {'case':<30} | {'customers':>9} | {'reps':>4} | {'weeks':>5} | {'median s':>8} | {'min s':>6} | {'peak MB':>7} |"
    rule = "|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|"
    lines = [header, rule]
    for r in rows:
        lines.append(
            f"| {r['case']:<30} | {r['customers']:>9,} | {r['reps']:>4} | {r['weeks']:>5} | "
            f"{r['median_s']:>8.3f} | {r['min_s']:>6.3f} | {r['peak_mb']:>7.0f} |"
        )
    table = "\n".join(lines)
    print(table)

    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "throughput.py"), "200"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    one, two = json.loads(out.stdout)
    overhead_ms = 1000 * (one["wall"] - one["run_seconds"]) / one["runs"]
    speedup = one["wall"] / two["wall"]
    throughput = (
        f"| {'batch of 200 small runs':<30} | {'1 worker':>9} | {'2 workers':>9} | {'speed-up':>8} | {'runner ms/run':>13} |\n"
        f"|{'-' * 32}|{'-' * 11}|{'-' * 11}|{'-' * 10}|{'-' * 15}|\n"
        f"| {'wall time, s':<30} | {one['wall']:>9.2f} | {two['wall']:>9.2f} | {speedup:>7.2f}x | {overhead_ms:>13.1f} |"
    )
    print()
    print(throughput)

    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    versions = ", ".join(f"{p} {version(p)}" for p in ("covsim", "mesa", "numpy", "pandas"))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    RESULTS.write_text(
        "# Benchmark results\n\n"
        f"Written by `make bench` on {dt.date.today().isoformat()}; machine: {machine}; {versions}; "
        f"commit {commit or 'none'}.\n\n"
        "A full run is the whole of `sim.run.run`: population, 8 quarters of 13 weeks, all metrics. "
        "Median of 5 runs in one process; peak memory is the process's maximum resident size "
        "(interpreter and libraries included).\n\n"
        f"{table}\n\n"
        "Runner throughput: 200 runs of `scenarios/small.toml` (segment_tiers, 4 quarters) through "
        "`covsim`'s experiment runner with an in-memory store; `runner ms/run` is the 1-worker wall time "
        "not spent inside runs, per run (planning, sending, storing). 2 workers are this process and one "
        "spawned worker.\n\n"
        f"{throughput}\n"
    )
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
