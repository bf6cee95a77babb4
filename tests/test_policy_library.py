"""The built-in coverage models act like the real-world models they stand for (fixed seeds, the small world)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.codes import Service, Status
from sim.model import CoverageModel
from sim.policies import make_policy
from sim.run import run
from sim.scenario import load_scenario
from tests.conftest import SMALL

SEEDS = (1, 2, 3)


def _plans(policy: str, seed: int, quarters: int = 3) -> tuple[CoverageModel, list]:
    """The model after ``quarters`` quarters, and the plan in force in each of them."""
    scenario = load_scenario(SMALL).with_overrides("library", quarters=quarters)
    model = CoverageModel(scenario, make_policy(policy), seed)
    plans = []
    try:
        for _ in range(quarters):
            model.run(13)
            plans.append(model.plan)
    finally:
        model.release()
    return model, plans


def _whole_run(policy: str, seed: int, metric: str) -> float:
    metrics = run(load_scenario(SMALL).with_overrides("library", quarters=3), make_policy(policy), seed).metrics
    rows = metrics[(metrics.segment == "all") & (metrics.metric == metric) & (metrics.quarter > 1)]
    return float(rows.value.mean())


@pytest.mark.parametrize("seed", SEEDS)
def test_named_accounts_names_the_largest_accounts_keeps_their_owners_and_leaves_the_rest_digital(seed):
    model, plans = _plans("named_accounts", seed)
    pop = model.population
    for plan in plans:
        named = plan.owner >= 0
        assert named.sum() > 0
        assert (plan.service[named] == Service.HIGH_TOUCH).all()
        assert (plan.service[~named] == Service.DIGITAL).all()  # no pool: the rest is digital
    named = plans[-1].owner >= 0
    live = pop.status != Status.CHURNED
    # Named by potential: every named account is at least as large as every live account left out.
    assert pop.potential[named].min() >= pop.potential[live & ~named].max()
    assert _whole_run("named_accounts", seed, "owner_changed_share") < 0.02


@pytest.mark.parametrize("seed", SEEDS)
def test_random_books_are_dealt_without_regard_to_potential_and_stay_stable(seed):
    model, plans = _plans("random_books", seed)
    pop = model.population
    named = plans[-1].owner >= 0
    live = pop.status != Status.CHURNED
    # A random sample of the live accounts: its median potential is the population's, not the top's.
    ratio = np.median(pop.potential[named]) / np.median(pop.potential[live])
    assert 0.7 < ratio < 1.4, ratio
    tiers_model, tiers_plans = _plans("segment_tiers", seed)
    tiers_named = tiers_plans[-1].owner >= 0
    assert np.median(tiers_model.population.potential[tiers_named]) > 3 * np.median(pop.potential[live])
    # Books are stable: from one quarter to the next only churned accounts' places are dealt again.
    before, after = plans[-2].owner, plans[-1].owner
    kept = (before >= 0) & (pop.status != Status.CHURNED)
    assert (after[kept] == before[kept]).mean() > 0.97
    assert _whole_run("random_books", seed, "owner_changed_share") < 0.05


@pytest.mark.parametrize("seed", SEEDS)
def test_pooled_answers_from_one_queue_faster_than_named_owners_at_the_same_headcount(seed):
    # The same team: owners answer only their own books' demand; the pool answers everything with whoever is free.
    pooled = _whole_run("pooled", seed, "response_days_mean")
    named = _whole_run("named_accounts", seed, "response_days_mean")
    assert pooled < named
    model, plans = _plans("pooled", seed)
    live = model.population.status != Status.CHURNED
    assert (plans[-1].owner == -1).all()  # named_per_rep = 0: nobody owns anything
    assert (plans[-1].service[live] == Service.POOLED).all()
    assert set(plans[-1].seat_pool.tolist()) == {0}  # every seat of the small team answers the one queue
