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
        "0b2d41752f3a6cb365f100be795594ba24328d013bd2000b3d4967354565a8e4",
        "ab7cd1473257900a595f3d9ba49c550447809a7140fbd8268e39e643e15def88",
    ),
    ("hunter_farmer", 2): (
        "693b7510719ea2d201bae51ae508270b3d16b16540a827fc1d8c9d5420060014",
        "fe9f33def890a649f256700197b39322747f83f8274f23a8cc783aa63a6a7cdd",
    ),
    ("segment_tiers", 1): (
        "950a5959e101f6211d3cfcce290902687510525f4148cbfd581aa9533da686e9",
        "e445e5d254353b804c383b8ef2f71c93b8e584fecba55fd598c614adeb930967",
    ),
    ("segment_tiers", 2): (
        "100720f91fd4f3d8f22dd5af0a1320c24ffd8b94539339ed1e8b1be3c95cd036",
        "70bc92451ba5b208ae30724e55a1d75f1e04db0475cec0e0354fb400adc017cb",
    ),
    ("unstructured", 1): (
        "6a3bc6ee42d008d4abe98ae2aa8ee8da25d343a23d7071d948806f866b205594",
        "25d4ba08180fbf8f461c80c20be729026cea018f99db5bec2980ac295d030021",
    ),
    ("unstructured", 2): (
        "10d1ff93936b4ff770870fd789a97afbbf754ed10d8717cbaad5808ccd78d45f",
        "e0115aa6ae393e1bf633e2acc45499bc7e57150efc0066d7e0892bc1904408cc",
    ),
    ("overlay", 1): (
        "3ee9c6f572b22aa8de5fb3f85254a030a7e9608e221dc9a3ff977c32bbcb6c33",
        "4b41f5b5285032e780ebb06def404a84a1b8c068d833f27ecb9d317f3c253eeb",
    ),
    ("overlay", 2): (
        "d77baa4ff07167208b93d7fb1052d1ac692e79d3f5bc11be947c82f74af49c72",
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
