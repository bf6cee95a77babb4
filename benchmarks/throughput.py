"""Runner throughput: a batch of small-scenario runs on 1 and on 2 workers.

Run by benchmarks/run.py in a fresh process (worker processes are spawned, so
this module keeps its work under ``if __name__ == "__main__"``). Prints JSON:
the batch on 1, 2, 2 and 1 workers, in that order, so that a machine whose
speed drifts over the minute of the four favours neither side.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def batch_seconds(runs: int, workers: int) -> dict[str, float]:
    # Imported here, as covsim's command line does, so that spawned workers,
    # which import this module as __main__, load only what a run needs.
    from sim.experiment.batch import execute_batch, open_batch
    from sim.experiment.spec import Experiment, PolicyEntry
    from sim.scenario import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / "small.toml")
    experiment = Experiment(
        name="throughput",
        scenario="small.toml",
        seed=1,
        replications=runs,
        policies=(PolicyEntry(name="segment_tiers"),),
    )
    batch = open_batch(experiment, scenario, None)  # an in-memory store: the runner's own work included
    start = time.perf_counter()
    outcome = execute_batch(batch, "processes", workers)
    wall = time.perf_counter() - start
    run_seconds = float(batch.store.ledger().seconds.sum())
    batch.store.close()
    assert outcome.done == runs, outcome
    return {"workers": workers, "runs": runs, "wall": wall, "run_seconds": run_seconds}


if __name__ == "__main__":
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    print(json.dumps([batch_seconds(runs, w) for w in (1, 2, 2, 1)]))
