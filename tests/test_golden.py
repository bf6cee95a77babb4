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
        "a5109ab16dae2caba43ab7d9a3921c4b7e92c0f03a88abac08a66cf8a1c93845",
        "97a64e7d8bac1a664dec19c6cf4b998c7068f7f2074316add0fef771e41f2963",
    ),
    ("hunter_farmer", 2): (
        "f6e21ecfa5e721ea06771f33a26616d3f8a690c1b1c39f2168e630299ae6eca4",
        "f1411c352cfd4b50110909f464990fa2e98981b0b77543ffb954ecec3c7009fb",
    ),
    ("named_accounts", 1): (
        "1b3dddae9103082a515a03007b9f38406f8d5f2ad13126fc0d7d4c15a1a0d0a3",
        "22a808ab90426d676e0b04a812d08632794bd7cb4b3c3ea2a18560a504d3c5a4",
    ),
    ("named_accounts", 2): (
        "d97c9b7589fb68d4c63349130fcea019d79d0f1c04813c965a173eb33a7d13ff",
        "ac02d2f7d478e983072c91782ac77ee12b7ad7a6ca7f590db8feedb9b3718dd9",
    ),
    ("pooled", 1): (
        "5e24f79b9e0ffc58981ded7d85b2d5619659bb0760ffa46b990be97bfd944bd1",
        "b024dd732741d422c36807fb70b120aa36f0ed04e3c6ba0becc2ab532f072c41",
    ),
    ("pooled", 2): (
        "0261f89b9e44a331943498cf6679c39b39c862f98e52df89cd12f95bf5cceb3b",
        "d69135fa8f422f207778b5157045e7eae4cdcc292cdb5d00b49e0e2a01ef139f",
    ),
    ("random_books", 1): (
        "a2d5913e4a24832360dad1d4c56b544021421f3c34acefbd8e7f86bbb7ff8fd6",
        "523de0b15f76b0f64d335cbc5400beca6c4fed7aa8ba7da30f42370641d219da",
    ),
    ("random_books", 2): (
        "a2946cbaaf7bd8a7dbd106c75f7b4d5c4188ddb48ec521987dd1511510973c06",
        "af54641ff84b29682a68aa175c771edf47dc971ff75cd101fa4161625c27ed39",
    ),
    ("segment_tiers", 1): (
        "d6dbd059e8b8bb64dfa485421206def277ea3f7605bde696389afc44fcb35c51",
        "71fe5e6afaed5d25f8347cccd9bf83fa5b232c1f348dafe3b1d38d81e4e8d8b9",
    ),
    ("segment_tiers", 2): (
        "adc327ee3fc746a30d011691c63692aa621d58153246846a2dc08071a9b99b32",
        "d10793bfce2f329b2d22067a65241334c9fc3c4cc41f254e7bdac3b6151d9334",
    ),
    ("territories", 1): (
        "ffb47dff2550fed4fb182f0f67fd6d2300ba3f88631cdeb8640541fca4c55520",
        "f58a61030f1b7449a4d4549bdea48c75c5ed60af1ea0285e54aea7509da4e252",
    ),
    ("territories", 2): (
        "01dd986a740817b3d465abd4cdd1e982f3bbbd12dfcf1f64a7b7cb323142eadb",
        "c28b5367a5ead3cb512574f69b78e13fd5088e1fff1cb767cf393c31910b4567",
    ),
    ("unstructured", 1): (
        "0cef5ebdc3e275ea3dd0404e489165d98e5054db5029f59ed06bc62faf91a216",
        "4be33e7b4ec0f045dec2fd9d910ec7ddd66676055c1741f4e05f9b85d4f75fea",
    ),
    ("unstructured", 2): (
        "77ca5236bb2401dc15878bb75244415674c1d4c3e0c6deb7b8b01d116add373b",
        "be86b3c9d97de4c1faccf332fbb9d889b11e45c7dfe2369ebd9fc4ab1a00cece",
    ),
    ("overlay", 1): (
        "553b61dadc38a8e16c2ff56033c3bbb4d75d42a51193d999c559f410106ec355",
        "a600d29ae77b271b7025b66e216550de7aa8b7d62abd78e3afabf567accbf038",
    ),
    ("overlay", 2): (
        "c962f4a11c00f45d1bea438521da5d2bc6b632d0a8a41f39a7fe659c8d29e321",
        "0da1299177f4a4648d19fe85472fc5794d56e3bb62ba681a08bed0d7bf991696",
    ),
    ("value_based", 1): (
        "51ad2cb7a6ca38fffe3911b026e28567aacbc0cbc920b22718e33a9486ceb381",
        "45b81f95d9f720e4d0dd21afc5888502e05f99f7d9a28bd9257e1b506ec1d883",
    ),
    ("value_based", 2): (
        "591f66f5ed9483c8c171bfd7e67a677984341d90cf029ab8d4ae799c01f51028",
        "f865c59680b888aaa5fd2bc25b5a566513a001f0e5d86b74ae469f7807a547db",
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
        "67a70f0a8939a1dd46a649fb7a7b3d1b7ad9405d3492344c832ee48894a686db",
        "9ff006c4d88aca3fa51ee13aae2884d6730be0962caa03772fe7ffde258bbf6b",
    ),
    ("pooled", "hunter_farmer", 2): (
        "5c36dad6592b58b71f94b2914e43d5003ba51016550a0a26945c22ff76c10255",
        "f901553ea39772a0055df5a56c5b0c6dc83d67176e011a7a1146132425ef92e4",
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
