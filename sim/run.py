"""Run one scenario under one policy and seed: the library's main entry point."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from sim.clock import WEEKS_PER_QUARTER
from sim.errors import InputError
from sim.model import CoverageModel
from sim.policies import Policy, make_policy, policy_label
from sim.scenario import Scenario


@dataclass(frozen=True)
class RunResult:
    """The outcome of one run.

    metrics: tidy table (policy, seed, quarter, segment, metric, value);
    weekly: weekly time series (policy, seed, week, metric, value);
    lorenz: Lorenz curves of rep attention over the run (segment, share_of_accounts, share_of_hours);
    seats: each seat's load by quarter (policy, seed, quarter, seat, role, weeks_filled, capacity_hours, hours,
    utilisation);
    seconds: wall-clock time of the simulation;
    policy_seconds: the part of it in the policy's own calls (its plan, route, touches and prioritise).
    """

    scenario: str
    policy: str
    seed: int
    metrics: pd.DataFrame
    weekly: pd.DataFrame
    lorenz: pd.DataFrame
    seats: pd.DataFrame
    seconds: float
    policy_seconds: float


def run(
    scenario: Scenario,
    policy: Policy | None = None,
    seed: int | None = None,
    quarters: int | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> RunResult:
    """Simulate ``scenario`` under ``policy`` (default: the scenario's own) with ``seed``.

    A run is a pure function of (scenario, policy, seed): the same arguments
    give an identical result, in any process. A policy whose parameters name
    what the scenario lacks (``Policy.problems``: a segment it does not have)
    is refused with an InputError, as the command line refuses it. ``progress``, if given, is called after
    each quarter with the quarters done and the seconds since the run started (stepping a quarter at a time
    changes no result).
    """
    if quarters is not None and quarters != scenario.quarters:
        scenario = scenario.with_overrides(f"{scenario.name} (quarters={quarters})", quarters=quarters)
    if policy is None:
        policy = make_policy(scenario.policy.name, dict(scenario.policy.params), scenario=scenario)
    else:
        problems = policy.problems(scenario)
        if problems:
            raise InputError([f"policy {policy_label(type(policy))}: params.{p}" for p in problems])
    start = time.perf_counter()
    model = CoverageModel(scenario, policy, seed)
    try:
        if progress is None:
            model.run()
        else:
            for done in range(1, scenario.quarters + 1):
                model.run(WEEKS_PER_QUARTER)
                progress(done, time.perf_counter() - start)
        seconds = time.perf_counter() - start
        return RunResult(
            scenario=scenario.name,
            policy=model.label,
            seed=model.seed_used,
            metrics=model.metrics_frame(),
            weekly=model.weekly_frame(),
            lorenz=model.lorenz_frame(),
            seats=model.seats_frame(),
            seconds=seconds,
            policy_seconds=model.policy_seconds,
        )
    finally:
        model.release()
