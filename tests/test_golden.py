"""Golden runs: pinned hashes of the tidy results of fixed runs.

A refactor must not change any result. These runs cover every built-in policy,
two seeds and every shock kind on the small scenario (plus a channel-partner
group, so the partner paths run too). When a change alters results on
purpose, update the pins in the same commit and say why in its message:

    .venv/bin/python -m tests.test_golden     # prints the current hashes
"""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from sim.policies import BUILT_IN, make_policy
from sim.run import run
from sim.scenario import Scenario, parse_scenario
from tests.conftest import small_data

SEEDS = (1, 2)

# Every shock kind, at quarters where the small scenario's team still has seats to lose.
SHOCKS = [
    {"kind": "rep_attrition", "quarter": 2, "share": 0.4},
    {"kind": "hiring_freeze", "quarter": 2, "until_quarter": 3},
    {"kind": "demand", "quarter": 2, "factor": 0.7, "segment": "smb"},
    {"kind": "potential_shift", "quarter": 3, "factor": 1.2, "segment": "mid_market"},
    {"kind": "realignment", "quarter": 3, "share": 0.3, "warm": True},
    {"kind": "overlay_launch", "quarter": 3, "specialists": 2, "expansion_lift": 1.3},
    {"kind": "key_account_loss", "quarter": 4, "accounts": 3},
]

PINNED = {
    # (policy, seed): (sha256 of metrics.csv, sha256 of weekly.csv)
    ("hunter_farmer", 1): (
        "72f08d92df8b3c6084810352a1984c43294613af257d1ad2291ed987c6b5c0c3",
        "ab7cd1473257900a595f3d9ba49c550447809a7140fbd8268e39e643e15def88",
    ),
    ("hunter_farmer", 2): (
        "d5d267c932610ae74d5b1b7a9a41e3bad75a3b6cc40883c0a23666655f9b7f07",
        "fe9f33def890a649f256700197b39322747f83f8274f23a8cc783aa63a6a7cdd",
    ),
    ("segment_tiers", 1): (
        "635ad8ce2a636675545e15a92c204570d9d1fe64160e3269dbde9169ae9f9a39",
        "e445e5d254353b804c383b8ef2f71c93b8e584fecba55fd598c614adeb930967",
    ),
    ("segment_tiers", 2): (
        "9b241fa824d67f595560ce118ef39b4cb7b479105cee5451e790ab87a0646911",
        "70bc92451ba5b208ae30724e55a1d75f1e04db0475cec0e0354fb400adc017cb",
    ),
    ("unstructured", 1): (
        "6f0e421d1e4bb847f47d3e68226e7d320c654f6e9a46a71f3f1a1d524593e359",
        "b8f3d5ecc66843a921735a3f315fa446a64a709fc07be5c23a96acac5652984c",
    ),
    ("unstructured", 2): (
        "7cb9355825005dba584bc127e2f3b43a0edc1e94f6cb292e819eed061a9b07bb",
        "b0a66467340a4337c1aabdf69588062b07de8fd2c33590faab68b246bf1bdd83",
    ),
}


def golden_scenario() -> Scenario:
    data = small_data()
    data["name"] = "golden"
    data["shocks"] = SHOCKS
    data["reps"].append({"role": "partner", "count": 1, "cost_per_year": 0, "margin": 0.2})
    data["workforce"] = {"attrition_per_year": 0.3, "backfill_weeks": 6}
    return parse_scenario(data, "golden")


def _sha(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def golden_hashes(policy: str, seed: int) -> tuple[str, str]:
    result = run(golden_scenario(), make_policy(policy), seed=seed)
    return _sha(result.metrics), _sha(result.weekly)


@pytest.mark.parametrize(("policy", "seed"), [(p, s) for p in sorted(BUILT_IN) for s in SEEDS])
def test_golden_run_unchanged(policy, seed):
    assert (policy, seed) in PINNED, f"no pin for {policy}, seed {seed}: run python -m tests.test_golden"
    assert golden_hashes(policy, seed) == PINNED[(policy, seed)]


def test_golden_scenario_switches_on_every_shock_kind():
    from typing import get_args

    from sim.shocks import Shock

    union = get_args(Shock)[0]
    kinds = {get_args(c.model_fields["kind"].annotation)[0] for c in get_args(union)}
    assert {s.kind for s in golden_scenario().shocks} == kinds


if __name__ == "__main__":
    for p in sorted(BUILT_IN):
        for s in SEEDS:
            print(f"    ({p!r}, {s}): {golden_hashes(p, s)!r},")
