"""Run one scenario under one policy and seed: the library's main entry point."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral

import pandas as pd

from sim.account_table import accounts_frame
from sim.clock import WEEKS_PER_QUARTER
from sim.errors import InputError
from sim.model import CoverageModel
from sim.policies import Policy, make_policy, policy_label
from sim.scenario import Scenario
from sim.simd import warn_if_avx512


@dataclass(frozen=True)
class RunResult:
    """The outcome of one run.

    metrics: tidy table (policy, seed, quarter, segment, metric, value);
    weekly: weekly time series (policy, seed, week, metric, value);
    lorenz: Lorenz curves of rep attention over the run (policy, seed, segment, share_of_accounts, share_of_hours);
    seats: each seat's load by quarter (policy, seed, quarter, seat, role, owned_accounts, owned_customers,
    weeks_filled, capacity_hours, hours, utilisation);
    seconds: wall-clock time of the simulation;
    policy_seconds: the part of it in the policy's own calls (its plan, route, touches and prioritise);
    accounts: one row per account at the run's end (``sim.account_table``), when asked for, else None.
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
    accounts: pd.DataFrame | None = None


def run(
    scenario: Scenario,
    policy: Policy | None = None,
    seed: int | None = None,
    quarters: int | None = None,
    progress: Callable[[int, float], None] | None = None,
    accounts: bool = False,
) -> RunResult:
    """Simulate ``scenario`` under ``policy`` (default: the scenario's own) with ``seed`` (default: the
    scenario's own, ``scenario.seed``), over ``quarters`` (default: the scenario's).

    A run is a pure function of (scenario, policy, seed): the same arguments
    give an identical result, in any process. Arguments of the wrong kind (a file name for the scenario, a
    policy's name or class for the policy, a seed that is no whole number from 0 to 2**63 - 1) are an
    InputError naming each. A policy whose parameters name
    what the scenario lacks (``Policy.problems``: a segment it does not have)
    is refused with an InputError, as the command line refuses it. ``progress``, if given, is called after
    each quarter with the quarters done and the seconds since the run started (stepping a quarter at a time
    changes no result). ``accounts``: keep one row per account at the run's end (``RunResult.accounts``; a
    table of the accounts' size, so not by default).
    """
    if problems := argument_problems(scenario, policy, seed):
        raise InputError(problems)
    if not isinstance(accounts, bool):  # "no", a non-empty string, had kept the table
        raise InputError([f"run: accounts: True or False, not {_kind(accounts)}"])
    warn_if_avx512()
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
    at_start = model.population.status.copy() if accounts else None
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
            accounts=accounts_frame(model, at_start) if at_start is not None else None,
        )
    finally:
        model.release()


#: The largest seed a run takes: results store it as a 64-bit integer (2**70 had made the seed column objects).
MAX_SEED = 2**63 - 1


def argument_problems(scenario: object, policy: object, seed: object) -> list[str]:
    """What is wrong with :func:`run`'s arguments, a line each (a researcher's ``run("small.toml", ...)`` had
    raised AttributeError from deep inside the engine)."""
    problems = scenario_problems(scenario, "run")
    if isinstance(policy, type) and issubclass(policy, Policy):
        problems.append(
            f"run: policy: a policy object is needed, not the class {policy.__name__} (build one: "
            f"{policy.__name__}(), or sim.policies.make_policy(name, params))"
        )
    elif policy is not None and not isinstance(policy, Policy):
        problems.append(
            f"run: policy: a policy object is needed (sim.policies.make_policy(name, params) builds one), not "
            f"{_kind(policy)}"
        )
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, Integral) or not 0 <= int(seed) <= MAX_SEED
    ):
        problems.append(f"run: seed: a whole number from 0 to 2**63 - 1 (or None: the scenario's), not {_kind(seed)}")
    return problems


def scenario_problems(scenario: object, where: str) -> list[str]:
    """The line said where ``where`` (``run``, ``comparison``) is given something other than a Scenario (a
    researcher's file name), else none."""
    if isinstance(scenario, Scenario):
        return []
    return [
        f"{where}: scenario: a Scenario is needed (sim.scenario.load_scenario(path) reads one from a file), not "
        f"{_kind(scenario)}"
    ]


def _kind(x: object) -> str:
    """``str 'small.toml'``: a value's type and, shortened, the value."""
    shown = repr(x)
    return f"{type(x).__name__} {shown if len(shown) <= 60 else shown[:57] + '...'}"
