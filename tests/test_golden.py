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
    {"kind": "realignment", "quarter": 3, "share": 0.3, "stock_lost": 0.8},
    {"kind": "overlay_launch", "quarter": 3, "specialists": 2, "expansion_lift": 1.3},
    {"kind": "key_account_loss", "quarter": 4, "accounts": 3},
]

PINNED = {
    # (policy, seed): (sha256 of metrics.csv, sha256 of weekly.csv)
    ("hunter_farmer", 1): (
        "db3760c5729cb08a0aafe3071b494fe8ee28d104deeed28f391f1993d901692e",
        "f80a913f2831e90929d820e3c31aeeb8341e17753339e12c5ad20f3322b90b29",
    ),
    ("hunter_farmer", 2): (
        "057878c70256beb4154856daa3f4ef9134829fd9e6ecb041b9c4c8b6abe5ee43",
        "9f0088b4fb147c64a3c8e8e9ac883c375ffc16d88621ca6a8727e7d9bb2c0b6a",
    ),
    ("segment_tiers", 1): (
        "9767ab46c9d30b4a93003621d67fb82ddba7296f22ed12bdd58080ec635bace7",
        "4468dd874a03882f028dc758d57db809dbc74c585122f46e14df9c477cbb62e0",
    ),
    ("segment_tiers", 2): (
        "dc368000ba96a24cd72cbd5ad038504c9c75b35c80987a8fd71b5a95c8a6d685",
        "86eb033e0e3c3a47959f22269f020b4c532eef93609639d4d82cc822b9021d76",
    ),
    ("unstructured", 1): (
        "c94cc75ff6a4fffe081d22b91297f62de07e2cd356d10b2d1d12c28cf34df537",
        "070d60f932397292e01585ce061b85315446e64fab6525fc1d6dd23c25d026ea",
    ),
    ("unstructured", 2): (
        "f50ab3f6d0f0884b0bf1bbb02e075b2318e72405e072bd6a6e89e42a4822954b",
        "41044c0222e02299c345e690ff34f733eeb65ecd2585f067ca0eb6800253d222",
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
