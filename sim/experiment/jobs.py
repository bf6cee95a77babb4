"""What travels between the batch and its workers: a run's spec and its output.

Kept free of heavy imports, so a worker process starts quickly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs to execute one run (picklable, small)."""

    run_key: str
    scenario_json: str
    policy: str
    params: dict[str, Any]
    seed: int


@dataclass(frozen=True)
class RunOutput:
    """What a worker sends back: the ledger fields and the rows of one run."""

    run_key: str
    status: str  # "done" or "failed"
    error: str
    started: float
    finished: float
    seconds: float
    metrics: list[tuple[int, str, str, float]]
    weekly: list[tuple[int, str, float]]
    lorenz: list[tuple[str, float, float]]
