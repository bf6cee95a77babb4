"""Shared fixtures: the shipped scenarios and a builder for tiny hand-made ones."""

from __future__ import annotations

import copy
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from sim.compiled import NOTICE_VARIABLE
from sim.config import read_toml
from sim.scenario import Scenario, load_scenario, parse_scenario

# A fresh clone compiles the loops in whichever test first runs a model: the notice a log gets then would be a
# line that test, and the commands it starts, do not expect (tests/test_compiled.py checks the notice itself).
os.environ[NOTICE_VARIABLE] = "0"

# Property tests draw their examples from a fixed seed: the same examples on every run, so that a
# submission's test run is reproducible.
settings.register_profile("covsim", derandomize=True)
settings.load_profile("covsim")

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "small.toml"
BASELINE = ROOT / "scenarios" / "baseline.toml"


@pytest.fixture(scope="session")
def small() -> Scenario:
    return load_scenario(SMALL)


def small_data() -> dict[str, Any]:
    """The small scenario as a mutable mapping, for tests that change it."""
    return copy.deepcopy(read_toml(SMALL))


def kind(rate: float, effort: float = 1.0, cycle: int = 1, win: float = 0.5, value: float = 0.5) -> dict[str, Any]:
    return {
        "rate_per_year": rate,
        "effort_hours": effort,
        "cycle_weeks": cycle,
        "win_probability": win,
        "value_share": value,
    }


def renewal(effort: float = 1.0, cycle: int = 1, value: float = 1.0) -> dict[str, Any]:
    """A segment's renewal table (renewals come due on contract dates: no rate, no win probability)."""
    return {"effort_hours": effort, "cycle_weeks": cycle, "value_share": value}


def tiny(**overrides: Any) -> Scenario:
    """A one-segment, one-region scenario with no randomness in sizes or values.

    Keyword arguments replace top-level keys; ``segment`` (a dict) updates the
    single segment.
    """
    segment = {
        "name": "only",
        "share": 1.0,
        "potential_median": 10_000.0,
        "potential_sigma": 0.0,
        "value_sigma": 0.0,
        "customer_share": 0.0,
        "share_of_wallet": 0.5,
        "churn_per_year": 0.0,
        "new_logo": kind(0.5),
        "expansion": kind(0.5),
        "renewal": renewal(),
    }
    segment.update(overrides.pop("segment", {}))
    data: dict[str, Any] = {
        "name": "tiny",
        "seed": 11,
        "quarters": 1,
        "population": {
            "customers": overrides.pop("customers", 1000),
            "regions": [{"name": "here", "share": 1.0, "radius_km": 10.0}],
            "segments": [segment],
        },
        "reps": [{"role": "full_cycle", "count": 1}],
        "workforce": {"attrition_per_year": 0.0},
    }
    data.update(overrides)
    return parse_scenario(data, "tiny")


@pytest.fixture(scope="session", autouse=True)
def _kernels_compiled_once() -> None:
    """Compile every kernel a run uses in this process before any test starts a command or a worker.

    On a cold cache (a fresh clone, as CI runs) each process would otherwise compile them itself, several
    at once (a page's two workers, a batch's), about 40 s each on this 2-core machine; compiled here, they
    load from numba's cache in about a second. A one-line world and the overlay world's three lines take
    different versions of some kernels; both are made.
    """
    from sim.policies import make_policy
    from sim.run import run

    worlds = (
        ("scenarios/small.toml", "pooled"),
        ("scenarios/small.toml", "unstructured"),
        ("scenarios/overlay.toml", "overlay"),
    )
    for path, policy in worlds:
        world = load_scenario(ROOT / path).with_overrides("warm-up", quarters=1, **{"population.customers": 500})
        run(world, make_policy(policy), seed=0)


def ctrl_c_as_at_a_terminal() -> None:
    """``preexec_fn`` of a process a test stops with Ctrl-C (SIGINT): the default a terminal gives it, whatever
    this process has. A shell runs a background job with SIGINT ignored (``make test &``, ``nohup``), a child
    inherits that, and Python started so keeps ignoring it, as a Ctrl-C to such a job should be."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def user_module(tmp_path, monkeypatch, name: str, source: str) -> None:
    """A user's policy module ``name`` of ``source``, importable for the test."""
    (tmp_path / f"{name}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))


def tiny_two_factor_experiment(name: str, design: Any) -> Any:
    """An experiment of ``unstructured`` on :func:`tiny` over two scenario factors (personal share, deal sigma),
    one replication, profit: a design whose store is extended (more Morris trajectories, a larger Sobol' sample)."""
    from sim.experiment.spec import Experiment, Factor, PolicyEntry

    return Experiment(
        name=name,
        scenario="tiny",
        seed=4,
        replications=1,
        policies=(PolicyEntry(name="unstructured"),),
        metrics=("profit",),
        factors=(
            Factor(name="personal_share", target="scenario.relationship.personal_share", low=0.4, high=0.9),
            Factor(name="deal_sigma", target="scenario.population.segments.*.deal_sigma", low=0.2, high=1.0),
        ),
        design=design,
    )


def batch_into(experiment: Any, folder: Path) -> tuple[int, int, Any]:
    """Run ``experiment`` on :func:`tiny` into the store in ``folder``: the runs made, those found stored, and the
    store's results."""
    from sim.experiment.batch import execute_batch, open_batch

    batch = open_batch(experiment, tiny(), folder)
    try:
        outcome = execute_batch(batch, "serial")
        return outcome.done, outcome.skipped, batch.store.results()
    finally:
        batch.store.close()


@pytest.fixture
def first_arrivals_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each account's first new opportunity of a week only, its others dropped: with a certain rate
    (``tests.test_hand_checked.CERTAIN``) exactly one a week, as the hand-checked worlds count. The engine
    raises a Poisson count (50 a week at that rate); these worlds are about what follows one lead a week."""
    from sim.demand import Demand

    arrivals = Demand.arrivals

    def first(self: Demand, pop: Any, rng: Any, key: Any, week: int) -> tuple[Any, Any]:
        accounts, place = arrivals(self, pop, rng, key, week)
        return accounts[place == 0], place[place == 0]

    monkeypatch.setattr(Demand, "arrivals", first)
