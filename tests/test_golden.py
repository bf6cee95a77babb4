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
        "e15aab3b0fb3fc2037dbbb30197b5a95729ec10834146d77776b0db470b751ed",
        "00ed9df096e95de09e4d3d4ba5b4a5c182a2240ed906165680f41c2cb5fb0382",
    ),
    ("hunter_farmer", 2): (
        "0d353a4c7f0b6161d21f63f2dd9cdacbf5701193ac0864c79f097a2385a2fe9a",
        "2c50269bc791b970dc50777a83eb3de9162246be9c092124aafada5bc3a1e710",
    ),
    ("segment_tiers", 1): (
        "7484cbf352a949611287b9b09e5113cf2d8ce8b1119aab3e2fd9dde90d0a23b5",
        "a87cedd7a03c6ff2e7e491e2e4d8246d3cbcefcb51f3a6b6ba6da2ea5d5c648e",
    ),
    ("segment_tiers", 2): (
        "b44e63220bf4783f3a56195751095d500f78e2241e206ed9b34d695200bd456a",
        "22ad4c7a7211b0548192f7da89e173e71b724a99b447e3431c23663074b0139b",
    ),
    ("unstructured", 1): (
        "69c747344c7ca553b40b65c26fdcaabd6203b317ac4c71321090ff4b1c6e8421",
        "b8f3d5ecc66843a921735a3f315fa446a64a709fc07be5c23a96acac5652984c",
    ),
    ("unstructured", 2): (
        "55297b656685087ee62164c3a302dea96cb0fac31bf274a9d4ae1a5d9020a027",
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
