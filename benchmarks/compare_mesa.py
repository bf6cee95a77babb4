"""covsim against the same model written agent-per-customer in plain Mesa.

``python benchmarks/compare_mesa.py`` (two to three minutes on 2 cores):

1. Timing: the baseline scenario scaled to 1,000, 10,000 and 100,000 customers
   (42 reps per 100,000, each rep group scaled and rounded, at least 1 seat),
   104 weeks, the same seed, under ``unstructured``; covsim's engine against
   ``benchmarks/mesa_baseline.py``. Each case runs in a fresh process so its
   peak memory is its own. Times are the simulation proper, model construction
   included (covsim's ``RunResult.seconds``; the same span for Mesa), each
   side the median of its runs. The 100,000-customer Mesa case is run only if
   the 10,000 one projects (linearly) to under two minutes (and did not time
   out); a Mesa case with a process that timed out has no time at all. The
   Mesa model runs 3 times: below 100,000 customers in one process, at
   100,000 in three, one run each (a run is its process's first, as a user's would be), because its
   run time there moves by a third from one minute to the next (13.7-32.6 s
   for the same code, on machines of the same kind, over two days) where
   covsim's moves by a tenth. covsim's runs bracket each Mesa process: 3 in
   a process just before it and 3 just after, the median of all of them
   taken, so the two sides are measured over the same minutes (one side
   measured only before the other's minute-long run gave ratios from 75x to
   102x for the same code). Each covsim process first makes one untimed run:
   a process's first run also loads the compiled kernels (0.65-0.74 s in make bench at f9a5611, once
   per process), which ``make bench`` reports on its own line
   (``benchmarks/kernel.py``) rather than inside the median. The Mesa model
   has nothing to load.
2. Statistics: both implementations at 10,000 customers, 5 seeds, 4 quarters;
   per whole-run total, the two means, the Welch t-test p-value, its Holm
   adjustment over the metrics (``make bench`` judges the agreement by the
   smallest) and the relative difference. The two share no random numbers: agreement is of
   distributions, not of individual runs.

Prints both as Markdown tables and returns them from ``main()`` as a dict.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.mesa_baseline import METRICS, compare  # noqa: E402
from sim.scenario import Scenario, load_scenario, parse_scenario  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.toml"
SIZES = (1_000, 10_000, 100_000)
WEEKS = 104
SEED = 1
MESA_BUDGET_S = 120.0  # the largest Mesa case runs only if projected under this (about 60 s at 100k)
MESA_RUNS_AT_100K = 3  # one process each: its run time moves by a third from one minute to the next
STAT_CUSTOMERS, STAT_SEEDS, STAT_QUARTERS = 10_000, (1, 2, 3, 4, 5), 4

CASE = r"""
import json, resource, statistics, sys
from benchmarks.compare_mesa import scaled_scenario
from benchmarks.mesa_baseline import run_mesa_baseline
from sim.policies import make_policy
from sim.run import run
which, customers, seed, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
scenario = scaled_scenario(customers, quarters=8)
times = []
if which == "covsim":  # the first run also loads the compiled kernels (reported apart: benchmarks/kernel.py)
    run(scenario, make_policy("unstructured"), seed)
for _ in range(repeats):
    if which == "covsim":
        times.append(run(scenario, make_policy("unstructured"), seed).seconds)
    else:
        times.append(run_mesa_baseline(scenario, seed)["seconds"])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"times": times, "peak": peak, "reps": sum(g.count for g in scenario.reps)}))
"""


def scaled_scenario(customers: int, quarters: int | None = None, path: Path = BASELINE) -> Scenario:
    """The scenario at ``customers`` accounts, rep groups scaled like benchmarks/run.py (at least 1 each)."""
    scenario = load_scenario(path)
    data = scenario.model_dump(mode="json")
    scale = customers / scenario.population.customers
    data["population"]["customers"] = customers
    for g in data["reps"]:
        g["count"] = max(1, round(g["count"] * scale))
    if quarters is not None:
        data["quarters"] = quarters
    return parse_scenario(data, str(path))


def time_case(which: str, customers: int, repeats: int, timeout: float | None = None) -> dict[str, Any] | None:
    """Median simulation seconds and peak memory of one implementation in a fresh process (None on timeout)."""
    try:
        out = subprocess.run(
            [sys.executable, "-c", CASE, which, str(customers), str(SEED), str(repeats)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None
    r = json.loads(out.stdout)
    return {
        "seconds": statistics.median(r["times"]),
        "times": r["times"],
        "peak_mb": r["peak"] / 2**20,
        "reps": r["reps"],
    }


def timing() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    mesa_10k: float | None = None
    mesa_gave_up = False  # a Mesa case timed out: the larger ones would too
    for customers in SIZES:
        projected = None if mesa_10k is None else mesa_10k * customers / 10_000
        if mesa_gave_up or (projected is not None and projected > MESA_BUDGET_S):
            cov, mes = covsim_case(customers), None
            why = "skipped (a smaller case timed out)" if mesa_gave_up else "skipped (projected over budget)"
        else:
            cov, mes = bracketed(customers)
            mesa_gave_up, why = mes is None, f"timed out (over {3 * MESA_BUDGET_S:.0f} s)"
        if customers == 10_000 and mes is not None:
            mesa_10k = mes["seconds"]
        rows.append(
            {
                "customers": customers,
                "reps": cov["reps"],
                "weeks": WEEKS,
                "covsim_s": cov["seconds"],
                "mesa_s": mes["seconds"] if mes else float("nan"),
                "mesa_runs": mes["times"] if mes else [],
                "speedup": mes["seconds"] / cov["seconds"] if mes else float("nan"),
                "covsim_peak_mb": cov["peak_mb"],
                "mesa_peak_mb": mes["peak_mb"] if mes else float("nan"),
            }
        )
        done = f"{rows[-1]['mesa_s']:.2f} s" if mes else why
        print(f"  {customers:>9,} customers: covsim {cov['seconds']:.3f} s, Mesa {done}", file=sys.stderr)
    return rows


def bracketed(customers: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """covsim's and the Mesa model's times at ``customers``, over the same minutes: covsim's 3 runs before
    and after each Mesa process (below 100,000 customers one process of 3 runs, at 100,000 three processes
    of one, each its process's first run), each side the median of its runs. Mesa's is None if any of its
    processes timed out: a median of fewer runs than said would pass for one of all."""
    processes, repeats = (1, 3) if customers < 100_000 else (MESA_RUNS_AT_100K, 1)
    cov, mesa = [covsim_case(customers)], []
    for _ in range(processes):
        m = time_case("mesa", customers, repeats, timeout=3 * MESA_BUDGET_S)
        if m is None:
            mesa = []
            break
        mesa.append(m)
        cov.append(covsim_case(customers))
    covsim = {
        "seconds": statistics.median(t for c in cov for t in c["times"]),
        "peak_mb": max(c["peak_mb"] for c in cov),
        "reps": cov[0]["reps"],
    }
    if not mesa:
        return covsim, None
    times = [t for m in mesa for t in m["times"]]
    return covsim, {"seconds": statistics.median(times), "times": times, "peak_mb": max(m["peak_mb"] for m in mesa)}


def covsim_case(customers: int) -> dict[str, Any]:
    """covsim's 3 runs at ``customers`` in a fresh process (it has no timeout)."""
    r = time_case("covsim", customers, 3)
    assert r is not None
    return r


def timing_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| customers | reps | weeks | covsim s | Mesa s | Mesa / covsim | covsim peak MB | Mesa peak MB |",
        "|----------:|-----:|------:|---------:|-------:|--------------:|---------------:|-------------:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['customers']:,} | {r['reps']} | {r['weeks']} | {r['covsim_s']:.3f} | {r['mesa_s']:.2f} | "
            f"{r['speedup']:.0f}x | {r['covsim_peak_mb']:.0f} | {r['mesa_peak_mb']:.0f} |"
        )
    return "\n".join(lines)


def statistics_table(result: dict[str, dict[str, float]]) -> str:
    lines = [
        "| metric (whole run) | covsim mean | Mesa mean | relative difference | its s.e. (seed noise) | Welch p "
        "| Holm p |",
        "|--------------------|------------:|----------:|--------------------:|----------------------:|--------:"
        "|-------:|",
    ]
    for metric in METRICS:
        r = result[metric]
        lines.append(
            f"| {metric} | {r['covsim']:,.1f} | {r['mesa']:,.1f} | {r['rel_diff']:+.1%} | {r['rel_se']:.1%} | "
            f"{r['p_value']:.2f} | {r['p_holm']:.2f} |"
        )
    return "\n".join(lines)


def disagreement(result: dict[str, dict[str, float]]) -> tuple[float, str]:
    """The smallest Holm-adjusted p over the metrics and its metric: below 0.05, the two models' results differ
    clearly somewhere (with 5 seeds only gross differences show: agreement is not shown equivalence)."""
    tested = [m for m in METRICS if math.isfinite(result[m]["p_holm"])]
    if not tested:
        return math.nan, "none tested"
    metric = min(tested, key=lambda m: result[m]["p_holm"])
    return result[metric]["p_holm"], metric


def main() -> dict[str, Any]:
    start = time.perf_counter()
    rows = timing()
    scenario = scaled_scenario(STAT_CUSTOMERS)
    check = compare(scenario, STAT_SEEDS, STAT_QUARTERS)
    print(
        f"\n## Timing: baseline scenario under unstructured, {WEEKS} weeks, seed {SEED}\n\n"
        "Simulation seconds (model construction and the weeks): Mesa's median of 3 runs (at 100,000 three "
        "processes of one run each; below, one process of three; none if one timed out); covsim's median of its "
        "runs in processes of 3 just before and after each Mesa process (6 runs below 100,000, 12 at it: this "
        "machine's speed drifts from minute to minute), each process's first run, which also loads the compiled "
        "kernels, left out (that load is reported with the kernels); peak resident memory of the process running "
        "the case.\n"
    )
    print(timing_table(rows))
    print(
        f"\n## Statistical check: {STAT_CUSTOMERS:,} customers, seeds {list(STAT_SEEDS)}, "
        f"{STAT_QUARTERS} quarters\n\nMeans over seeds of whole-run totals (segment all; flows summed over "
        "quarters, customers at the end). Relative difference: (Mesa - covsim) / covsim.\n"
    )
    print(statistics_table(check))
    print(f"\n(total {time.perf_counter() - start:.0f} s)")
    return {"timing": rows, "statistics": check}


if __name__ == "__main__":
    main()
