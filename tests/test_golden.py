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
        "bb0b1fd0ad336f48d93642a9a29079297a6cdbbe74d0ef891812960a274db5c6",
        "2b5fa4e4d7939f71be11c17101746514ec4ba6662aa66eb361041b5f34a5e97d",
    ),
    ("hunter_farmer", 2): (
        "66d0d84818e1d4de5ec82df1bf3b92c96f116dc8ec367211da65985d60ad3dce",
        "f76a185fc336a8d5e3bb500a79b3e2f6365ef0abd3bce19ac95f90b3d00a2645",
    ),
    ("segment_tiers", 1): (
        "ec49a4da1817680f21a35ea04a47dc6dadb905cc93f7e23a7b44d5e6316939fc",
        "99807f11cb02b6551f2ea975c4c1fcf941c5349d45cd95f4c4b9cc4bf30c4177",
    ),
    ("segment_tiers", 2): (
        "c6793e166e50c449ce7e811dfd42cea9b34e603118a1f48b4c9b400265b5589f",
        "6fcb9ab84469b05df14fa6a574493b1285b02c8cc415f4a866dd7f524bdba5e1",
    ),
    ("unstructured", 1): (
        "4c2fd18a2ce362e4a6a82dab791de084ec49796f5b1600fc9a3da2df27ab18c7",
        "5da133b419997ffeecd29225e7e7932f127b1c833ad8827dee7e605f056953cf",
    ),
    ("unstructured", 2): (
        "00c74c6fdf6f73c177883edd64a6b5bad60633ec6fc7eb49911d559c725aa60c",
        "9ad28abde406e111916e02fa84fad2d2f15945160fb42eb6c97dde2e156673f5",
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
