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
        "e3e0c1d3dad1a03e35414ad98c4ffe570b8973d375eb6398f5b89f71ab0be7ed",
        "ab7cd1473257900a595f3d9ba49c550447809a7140fbd8268e39e643e15def88",
    ),
    ("hunter_farmer", 2): (
        "14db0d45f98f2b3822ee697ed2ee5b8c0ae966baea512556571cfe486658a3e5",
        "fe9f33def890a649f256700197b39322747f83f8274f23a8cc783aa63a6a7cdd",
    ),
    ("segment_tiers", 1): (
        "9e27a8e1aedb17a147349abecc76b20583b5e1a9e015a55cd09da67a7c2747ec",
        "e445e5d254353b804c383b8ef2f71c93b8e584fecba55fd598c614adeb930967",
    ),
    ("segment_tiers", 2): (
        "518371424c377eec8fcd1dce7356ebda5da9ba5e6e1b55254dd1c45942233beb",
        "70bc92451ba5b208ae30724e55a1d75f1e04db0475cec0e0354fb400adc017cb",
    ),
    ("unstructured", 1): (
        "1999e48484ba5019d769c951ff73d477fde33e774ad93982dc6a692a7dd3f48f",
        "25d4ba08180fbf8f461c80c20be729026cea018f99db5bec2980ac295d030021",
    ),
    ("unstructured", 2): (
        "baaf1600ee4e514fe2dc8dbdc68cd593d5e3ff43cef95121f939f4479e37a926",
        "e0115aa6ae393e1bf633e2acc45499bc7e57150efc0066d7e0892bc1904408cc",
    ),
    ("overlay", 1): (
        "a8fa3783982d2cbd0008bbbe3b930918949af0d044951f2677da18f86affcd37",
        "4b41f5b5285032e780ebb06def404a84a1b8c068d833f27ecb9d317f3c253eeb",
    ),
    ("overlay", 2): (
        "65818d2e4ef1659358d22627689046a3cd608866b6024d387af3064f6f6ee036",
        "c48d693976190c2cea4749027414398ce9a0c83b2cade0bb3613f48b4f72d4cb",
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
