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
        "3921742ece9d9b8bd7e87aa24b071834ad60291dda8ff4c3f1447e12ab6f4178",
        "528a030448c72a5bb2a16bf033c91085f1e60b5870dada253e3caf974426896d",
    ),
    ("hunter_farmer", 2): (
        "6e3802904fc90dfd0052c8d66480cb5f916a79f3aa671c1e50a906331128b447",
        "3cde71f5a52d3ceb44650d3da7aa398a5916b53e364f397b2f5fd5cface7dde8",
    ),
    ("named_accounts", 1): (
        "19a864555d8393c944ebfa62b7905b6983ca173f30b91ad51fc0c06399faaec9",
        "a3f48f765e9859fe69932346016549ea68f96f38e5004cd2012b978bd16b4617",
    ),
    ("named_accounts", 2): (
        "9209a7887047c69872a14e9353984383649f8e8eac9fbcef5a7c439113022c09",
        "768a1ff6b24d6371418e9266b13e17decdcf1b0584dda9bdfd1ea1415e350964",
    ),
    ("pooled", 1): (
        "7c53a2a04ebeb2561e9947825e17d4cf5808c250e11c4299a975cdc8710aa3d2",
        "b024dd732741d422c36807fb70b120aa36f0ed04e3c6ba0becc2ab532f072c41",
    ),
    ("pooled", 2): (
        "256ffb431b82ea0908413457f317649460c3f5b0b0f445f5f13a4b3482745d04",
        "d69135fa8f422f207778b5157045e7eae4cdcc292cdb5d00b49e0e2a01ef139f",
    ),
    ("random_books", 1): (
        "2258c9486908fe7303b473defc9020a0988fbd7905a3c69d9c8db6e74405efe4",
        "e48528955607966ba0456701f8e2c9591ff428f93423b08aa7a172a2b670606c",
    ),
    ("random_books", 2): (
        "f9e31ef1e732a9dfc59b25df91989497fc20f2c414b294119c374f2cccb95997",
        "e9254908363c00a0f4026640769854841172695d92ce76640138e3b16feabdb9",
    ),
    ("segment_tiers", 1): (
        "0ff87659d9c206c5fe3130d88e8a1c8a523d93983aa5a414cc0006c9c53b4d50",
        "c7eff7fc9e1bfbc0c2a5baabbd4a01c1dde43ee3e6df2e2aef502283d9b5f0c2",
    ),
    ("segment_tiers", 2): (
        "b90a2d9782e6e5a411a535cfc68fc2ac4a3dc2d8b012178fbda55a14c6d70e32",
        "17daad4bd507cb4afcdfa7d2ca4271eb96708c5e67dd60380468b53e859178de",
    ),
    ("territories", 1): (
        "75b753351f851f97e08f9ef66f6155181394988658482f32e1981f6b6f970446",
        "2d6e9df60145ea65bc1a8cba9d574396deb3aa880e82f0d73e95b2e7b2c068e8",
    ),
    ("territories", 2): (
        "d3d989e8832133407f53c097b5d62ea2bbeb811e4d26ee7770e6b7b7e499fe5e",
        "5f14baa884361869f6d91deae6ac5973172ebf6a93583a389acb1e6888282917",
    ),
    ("unstructured", 1): (
        "20eb7caef4135c87334025277a056f349663fed34588e7b48493705f0d95ccc6",
        "4be33e7b4ec0f045dec2fd9d910ec7ddd66676055c1741f4e05f9b85d4f75fea",
    ),
    ("unstructured", 2): (
        "49e0f59ad8de4a69b83a4d774b64fe47e396c87a1da73254986d4161442b79b2",
        "be86b3c9d97de4c1faccf332fbb9d889b11e45c7dfe2369ebd9fc4ab1a00cece",
    ),
    ("overlay", 1): (
        "b5370ef1878b125cdf0839ad1efea4b915b16f693c999dc3a80d9d80e78d3f56",
        "117acbdcb894928381b774d26622a5444980e84f058c35d1fdb3ca99d0cb5017",
    ),
    ("overlay", 2): (
        "61da74a6d11a238756b50e772da7ca4c22965c78c0e8298d54296629f2d4dad1",
        "b3bc4d9d8bc59305807da0537f4420197b4f933ab78139524af28dd0a26dd9fd",
    ),
    ("value_based", 1): (
        "e159a0bacba6faf34e0756bce3267aac18c03f28bf6b0f0684da2bee17a98996",
        "bf0c193ecaba1b9edfc42fbf340ca2b9557d7124549a28bf7cee932205fda710",
    ),
    ("value_based", 2): (
        "eb8f5e38e40f0f044762d7fc885296b383cf4bd1670f529b4d046e4409a63c36",
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
        "41d500d757e88faf426aca2963392615dd43031b3068056e374ed17bb912b9e2",
        "453abdbcb0bb9ad2265c8a867d27563a7fc030e71390404f37974d2ff11e125b",
    ),
    ("pooled", "hunter_farmer", 2): (
        "273beaa43651ff44396c3f3f0db8e66c6bb990496a8bb7c4b62d679c56a8ca2c",
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
