"""The ``territories`` partition at 1,000,000 accounts: how long drawing the territories takes.

Run by benchmarks/run.py in a fresh process; prints JSON. The baseline world
scaled to 1M accounts and 420 reps (280 field closers in four regions, some
200,000 accounts of the field segments); the time is that of
``draw_territories`` alone, the first draw in a process (scipy's import
included, as a run pays it), then the median of three more.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(customers: int) -> dict[str, float]:
    from sim.codes import Status  # sim before numpy: numpy's AVX-512 loops off (sim/simd.py)

    # isort: split
    import numpy as np

    from sim.model import CoverageModel
    from sim.policies import make_policy
    from sim.policies.protocol import PlanView
    from sim.policies.rules import field_closers
    from sim.policies.territories import draw_territories
    from sim.scenario import load_scenario

    base = load_scenario(ROOT / "scenarios" / "baseline.toml")
    scale = customers / base.population.customers
    changes = {"population.customers": customers, "quarters": 1}
    changes.update({f"reps.{i}.count": max(1, round(g.count * scale)) for i, g in enumerate(base.reps)})
    scenario = base.with_overrides("territories-bench", **changes)
    model = CoverageModel(scenario, make_policy("territories"), 1)
    try:
        acc, team = model._accounts, model.team.week(0).view
        view = PlanView(quarter=1, accounts=acc, team=team, previous=None, selling=model.selling)
        mine = np.flatnonzero((acc.status != Status.CHURNED) & acc.in_segments(["enterprise", "mid_market"]))
        seats = field_closers(team)
        times = []
        for _ in range(4):
            start = time.perf_counter()
            draw_territories(view, mine, seats, 0.1)
            times.append(time.perf_counter() - start)
    finally:
        model.release()
    return {
        "customers": customers,
        "accounts": int(mine.size),
        "territories": int(seats.size),
        "first_s": times[0],
        "median_s": statistics.median(times[1:]),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)))
