"""How often noise alone passes some factor's Morris noise floor: the table of docs/experiments.md.

    python docs/scripts/noise_floor_calibration.py [designs]   (1,000 designs a cell: about 25 minutes on 2 cores)

Pure-noise designs of experiments/screening.toml's shape: 9 trajectories, 10
factors, each factor's effects with a noise sd of its own (0.5 to 5), a share
of its variance common to a replication's trajectories (its seed) and the
rest each trajectory's own. For 2, 3, 4 and 8 replications and a shared share
of 0, 1/2, 9/10, 1 and one rising from 0 to 1 over the factors, it prints the
share of designs in which some factor's mu* is above its floor
(``sim.experiment.morris.noise_floor``); the floor promises at most about 5%.
"""

# ruff: noqa: I001  (sim is imported before numpy on purpose)
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import sim  # noqa: F401  (before numpy, whose loops sim chooses: the same numbers on every machine)
from sim.experiment import morris

import numpy as np

SHARED = {"none": 0.0, "half": 0.5, "nine-tenths": 0.9, "all": 1.0, "by factor": None}


def passed(replications: int, share: np.ndarray, rng: np.random.Generator) -> bool:
    """One pure-noise design: whether some factor's mu* is above its floor."""
    own = rng.normal(0.0, 1.0, (9, 10, replications)) * np.sqrt(1 - share)[None, :, None]
    seed = rng.normal(0.0, 1.0, (1, 10, replications)) * np.sqrt(share)[None, :, None]
    effects = (own + seed) * np.linspace(0.5, 5.0, 10)[None, :, None]
    return bool((np.abs(effects.mean(axis=2)).mean(axis=0) > morris.noise_floor(effects)).any())


def main(designs: int) -> None:
    print("| replications | " + " | ".join(SHARED) + " |")
    for replications in (2, 3, 4, 8):
        cells = []
        for i, shared in enumerate(SHARED.values()):
            share = np.full(10, shared) if shared is not None else np.linspace(0.0, 1.0, 10)
            rng = np.random.default_rng([2026, replications, i])
            hits = sum(passed(replications, share, rng) for _ in range(designs))
            cells.append(f"{100 * hits / designs:.1f}%")
        print(f"| {replications} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000)
