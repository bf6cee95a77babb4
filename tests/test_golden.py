"""Golden runs: pinned hashes of the tidy results of fixed runs.

A refactor must not change any result. These runs cover every built-in policy,
two seeds and every shock kind on the small scenario (plus a channel-partner
group, so the partner paths run too); the rollout shock, which came later, in
runs of its own. When a change alters results on
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
        "98b10f871311b9e5c6c530ee88730a87e6815c12478a9c943208d239bcc587cf",
        "528a030448c72a5bb2a16bf033c91085f1e60b5870dada253e3caf974426896d",
    ),
    ("hunter_farmer", 2): (
        "e51798d845b4609e96a8d15698dfb8da1c15f5c7a79255679ccada7aeb2799ee",
        "3cde71f5a52d3ceb44650d3da7aa398a5916b53e364f397b2f5fd5cface7dde8",
    ),
    ("named_accounts", 1): (
        "0aedeb891c0150e14ad5bd909786f67119ee3804fbcf42e88ad1930e61fec48d",
        "a3f48f765e9859fe69932346016549ea68f96f38e5004cd2012b978bd16b4617",
    ),
    ("named_accounts", 2): (
        "4cbeb2059e245791d93b3ba9b6a4dcdb9cd69d7d4f8fc5d28be13430b15e9e97",
        "768a1ff6b24d6371418e9266b13e17decdcf1b0584dda9bdfd1ea1415e350964",
    ),
    ("pooled", 1): (
        "3edae2efadb91500d4a7bcd8323934026a99534bcb80e5d0734c952b08d28792",
        "b024dd732741d422c36807fb70b120aa36f0ed04e3c6ba0becc2ab532f072c41",
    ),
    ("pooled", 2): (
        "ad6e554a0d3d35a6141c36b512b227f675281b1c0c832c49a834dc78e83a52c9",
        "d69135fa8f422f207778b5157045e7eae4cdcc292cdb5d00b49e0e2a01ef139f",
    ),
    ("random_books", 1): (
        "5de8164c51aea9ef2dc91e5e22d065e72afe22aafa5ebfb3dd8a74330df8bc83",
        "e48528955607966ba0456701f8e2c9591ff428f93423b08aa7a172a2b670606c",
    ),
    ("random_books", 2): (
        "65fdaaf8bf8f60ad6a23138da24759407b8e9c3246e93674a18e5d016fe1a6a2",
        "e9254908363c00a0f4026640769854841172695d92ce76640138e3b16feabdb9",
    ),
    ("segment_tiers", 1): (
        "db32b6864b27a979c210ed3147e0749979a62135cf55c40505b227da08bb9ec9",
        "c7eff7fc9e1bfbc0c2a5baabbd4a01c1dde43ee3e6df2e2aef502283d9b5f0c2",
    ),
    ("segment_tiers", 2): (
        "0b3c1440cc5604845020858a0c76d9319f2b90e375981f00eea1eea2510aa9bd",
        "17daad4bd507cb4afcdfa7d2ca4271eb96708c5e67dd60380468b53e859178de",
    ),
    ("territories", 1): (
        "b41882e7f2d72b06f54b9abf9dcfac55105c3424286ef1e6a685fa116aca861b",
        "2d6e9df60145ea65bc1a8cba9d574396deb3aa880e82f0d73e95b2e7b2c068e8",
    ),
    ("territories", 2): (
        "768c34702728caf3152a76722d71ae49bca356b8eeec9ede89102d87e12a04a4",
        "5f14baa884361869f6d91deae6ac5973172ebf6a93583a389acb1e6888282917",
    ),
    ("unstructured", 1): (
        "1f0ba536bc5b6bbd35abe4fcda5aeb9a1ed3e903538712678f27c87718ec501f",
        "4be33e7b4ec0f045dec2fd9d910ec7ddd66676055c1741f4e05f9b85d4f75fea",
    ),
    ("unstructured", 2): (
        "f139eca6d354656eb379cee29d0356a776140307eb8a309ec3cf7d6ad8a3da09",
        "be86b3c9d97de4c1faccf332fbb9d889b11e45c7dfe2369ebd9fc4ab1a00cece",
    ),
    ("overlay", 1): (
        "72112ddeb980f037d71c19b53d734dd3ebff25936ab6652248a4c6d0a9f54746",
        "117acbdcb894928381b774d26622a5444980e84f058c35d1fdb3ca99d0cb5017",
    ),
    ("overlay", 2): (
        "f7f181282e2b36b5e100a012ea085db89a16f1f82b239b0a065483e5b8d3e37d",
        "b3bc4d9d8bc59305807da0537f4420197b4f933ab78139524af28dd0a26dd9fd",
    ),
    ("value_based", 1): (
        "e5a98178e483de83a95708428ab8424d19718b449bb7f04351aee6b4af74ad0a",
        "bf0c193ecaba1b9edfc42fbf340ca2b9557d7124549a28bf7cee932205fda710",
    ),
    ("value_based", 2): (
        "a7be3a4e3e17061f55420e275871d1c0e55f0fb9697d3f0353b06f4d3a87e0fb",
        "65f87c451097987f95d6d70e33e6a504f7cdfc386b39552b4fd0adf6f3b7fdb5",
    ),
}


def golden_scenario() -> Scenario:
    data = small_data()
    data["name"] = "golden"
    data["shocks"] = SHOCKS
    data["reps"].append({"role": "partner", "count": 1, "cost_per_year": 0, "margin": 0.2})
    data["workforce"] = {"attrition_per_year": 0.3, "backfill_weeks": 6}
    return parse_scenario(data, "golden")


# The rollout shock came after the pins above, and a scenario without one must keep them: it has its own
# golden runs, the golden scenario with a phased, warm rollout added, from a current model to a new one (the
# second pair has shared queues on both sides).
ROLLOUTS = (("random_books", "segment_tiers", 1), ("pooled", "hunter_farmer", 2))

ROLLOUT_PINNED = {
    # (current, new, seed): (sha256 of metrics.csv, sha256 of weekly.csv)
    ("random_books", "segment_tiers", 1): (
        "02c5b2b52abc2aeabe25d2ad8a1281214f1263af70bfe5f6720c7c203f782ee6",
        "453abdbcb0bb9ad2265c8a867d27563a7fc030e71390404f37974d2ff11e125b",
    ),
    ("pooled", "hunter_farmer", 2): (
        "7def8233226d4e54b4bfa77081727b47a16bbc4ac996891c9f02181d623499a2",
        "49507ad371591577fe2e18c993823c682f5542c39f8c6bf0bd865ce9d83c92f5",
    ),
}


def rollout_scenario(current: str) -> Scenario:
    rollout = {"kind": "rollout", "quarter": 2, "quarters": 2, "current": {"name": current}, "warm": True}
    return golden_scenario().with_overrides("golden rollout", name="golden_rollout", shocks=[*SHOCKS, rollout])


def _sha(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def golden_hashes(policy: str, seed: int, scenario: Scenario | None = None) -> tuple[str, str]:
    result = run(scenario or golden_scenario(), make_policy(policy), seed=seed)
    return _sha(result.metrics), _sha(result.weekly)


@pytest.mark.parametrize(("policy", "seed"), [(p, s) for p in sorted(BUILT_IN) for s in SEEDS])
def test_golden_run_unchanged(policy, seed):
    assert (policy, seed) in PINNED, f"no pin for {policy}, seed {seed}: run python -m tests.test_golden"
    assert golden_hashes(policy, seed) == PINNED[(policy, seed)]


@pytest.mark.parametrize(("current", "new", "seed"), ROLLOUTS)
def test_golden_rollout_run_unchanged(current, new, seed):
    assert (current, new, seed) in ROLLOUT_PINNED, f"no pin for {current} to {new}: run python -m tests.test_golden"
    assert golden_hashes(new, seed, rollout_scenario(current)) == ROLLOUT_PINNED[(current, new, seed)]


def test_golden_scenario_switches_on_every_shock_kind():
    from typing import get_args

    from sim.shocks import Shock

    union = get_args(Shock)[0]
    kinds = {get_args(c.model_fields["kind"].annotation)[0] for c in get_args(union)}
    assert {s.kind for s in (*golden_scenario().shocks, *rollout_scenario("unstructured").shocks)} == kinds


if __name__ == "__main__":
    for p in sorted(BUILT_IN):
        for s in SEEDS:
            print(f"    ({p!r}, {s}): {golden_hashes(p, s)!r},")
    for c, n, s in ROLLOUTS:
        print(f"    ({c!r}, {n!r}, {s}): {golden_hashes(n, s, rollout_scenario(c))!r},")
