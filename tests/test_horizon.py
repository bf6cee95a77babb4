"""A run does not depend on how long it will go on (common random numbers across horizons).

A run of Q quarters is the first Q quarters of a longer run of the same scenario, policy and seed:
``covsim run --quarters``, an experiment's ``quarters`` and the CRM backtest's ``--quarters`` shorten a
run without changing what happens in the weeks they keep. The keyed draws' ids use a fixed stride
(``sim.randomness.KEY_WEEK_STRIDE``), not the run's number of weeks; nothing else is drawn ahead in
an amount that depends on the horizon.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.clock import WEEKS_PER_QUARTER
from sim.policies import make_policy
from sim.randomness import KEY_WEEK_STRIDE, account_week
from sim.run import run
from sim.scenario import Population, Scenario
from tests.test_golden import golden_scenario, rollout_scenario

POLICIES = ("unstructured", "segment_tiers")


def _first(frame: pd.DataFrame, column: str, below: int) -> pd.DataFrame:
    return frame[frame[column] < below].reset_index(drop=True)


def _same_start(scenario: Scenario, policy: str, short: int, long: int, seed: int = 1) -> None:
    """The ``short``-quarter run's metrics and weekly series equal the first ``short`` quarters of the
    ``long``-quarter run's, exactly. Every row of the metrics table is a quarter's; the Lorenz table
    (attention over the whole run) is by definition the run's, so it is left out."""
    a = run(scenario, make_policy(policy), seed=seed, quarters=short)
    b = run(scenario, make_policy(policy), seed=seed, quarters=long)
    assert set(a.metrics.quarter) == set(range(1, short + 1))
    assert a.weekly.week.max() == short * WEEKS_PER_QUARTER - 1
    pd.testing.assert_frame_equal(a.metrics, _first(b.metrics, "quarter", short + 1), check_exact=True)
    pd.testing.assert_frame_equal(a.weekly, _first(b.weekly, "week", short * WEEKS_PER_QUARTER), check_exact=True)


@pytest.mark.parametrize("policy", POLICIES)
def test_two_quarters_are_the_first_two_of_four(small, policy):
    _same_start(small, policy, 2, 4)


@pytest.mark.parametrize("policy", POLICIES)
def test_with_every_shock_four_quarters_are_the_first_four_of_six(policy):
    # The golden scenario: every shock kind but the rollout, the last in quarter 4, so the short run has 4.
    _same_start(golden_scenario(), policy, 4, 6, seed=2)


def test_with_a_phased_rollout_four_quarters_are_the_first_four_of_six():
    _same_start(rollout_scenario("random_books"), "segment_tiers", 4, 6)


def _most(field: Any) -> int:
    """The upper bound (``le``) validation sets on a strict model's field."""
    return int(field.le)


def test_the_key_stride_leaves_room_for_every_horizon_and_population():
    quarters = _most(Scenario.model_fields["quarters"])  # covsim run/experiment/stress --quarters go through it
    customers = _most(Population.model_fields["customers"])
    weeks = quarters * WEEKS_PER_QUARTER
    assert weeks < KEY_WEEK_STRIDE  # a week never reaches the next account's ids
    # The largest key (a renewal's, the last account, the last week) fits int64, so the cast to uint64 is exact.
    # In Python integers, which do not wrap as int64 would, and account_week gives that same id.
    largest = (customers - 1) * KEY_WEEK_STRIDE + weeks - 1
    assert 2 * largest + 1 < 2**63
    assert int(account_week(np.array([customers - 1]), weeks - 1)[0]) == largest
    with pytest.raises(ValueError, match="outside the draw ids' range"):
        account_week(np.array([0]), KEY_WEEK_STRIDE)
