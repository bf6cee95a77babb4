"""Flat memory over a long batch: 1,000 runs in one worker process.

Runs the worker's own entry point (``sim.experiment.worker.execute``) on 1,000
distinct run specs of scenarios/small.toml (one quarter each) and reports the
resident memory after the first 10 runs and after all of them. Prints JSON.
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main(runs: int) -> dict[str, float]:
    from sim.experiment.batch import open_batch
    from sim.experiment.spec import Experiment, PolicyEntry
    from sim.experiment.worker import execute
    from sim.scenario import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / "small.toml").with_overrides("memory benchmark", quarters=1)
    experiment = Experiment(
        name="memory", scenario="small.toml", seed=2, replications=runs, policies=(PolicyEntry(name="hunter_farmer"),)
    )
    batch = open_batch(experiment, scenario, None)
    specs = list(batch.specs.values())
    batch.store.close()
    after_10 = 0.0
    for i, spec in enumerate(specs, start=1):
        out = execute(spec)
        assert out.status == "done", out.error
        if i == 10:
            gc.collect()
            after_10 = resident_mb()
    gc.collect()
    return {"runs": runs, "after_10_mb": after_10, "after_all_mb": resident_mb()}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)))
