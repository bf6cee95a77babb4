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
        "09ef79aa12b5809904414b680a45e894b9099e53a77e05bd3c6f02472b752424",
        "97a64e7d8bac1a664dec19c6cf4b998c7068f7f2074316add0fef771e41f2963",
    ),
    ("hunter_farmer", 2): (
        "468d8035cbe61a599e0a7b4c61642a24cff2b87ab89d8285d505b44f572a3635",
        "f1411c352cfd4b50110909f464990fa2e98981b0b77543ffb954ecec3c7009fb",
    ),
    ("named_accounts", 1): (
        "d3ebf4bc6d7a6ea4a7d14d92d4ce3d19826407a69a5e7024499497699ec68a83",
        "22a808ab90426d676e0b04a812d08632794bd7cb4b3c3ea2a18560a504d3c5a4",
    ),
    ("named_accounts", 2): (
        "eca9c4f3e76ca6583eaa91f84373765474aca0894cb253e293b7066495125525",
        "ac02d2f7d478e983072c91782ac77ee12b7ad7a6ca7f590db8feedb9b3718dd9",
    ),
    ("pooled", 1): (
        "7b8c847fa14b2abcdb18efa3035bd1815b7722b1c19cb413ff09d86cd74d3a92",
        "b024dd732741d422c36807fb70b120aa36f0ed04e3c6ba0becc2ab532f072c41",
    ),
    ("pooled", 2): (
        "e8439c3be777d4d02b5670af91b861299e6eb4eca1b2e95f96dea0de3500adae",
        "d69135fa8f422f207778b5157045e7eae4cdcc292cdb5d00b49e0e2a01ef139f",
    ),
    ("random_books", 1): (
        "01ea6f8cf612604e8a2a5c95c8d414e796f32605e912f18a4228663e21149034",
        "523de0b15f76b0f64d335cbc5400beca6c4fed7aa8ba7da30f42370641d219da",
    ),
    ("random_books", 2): (
        "b550848f8ca3f3453a27345ba3ce8a28eeec0470cdd3faf4ac11e269c7b383c6",
        "af54641ff84b29682a68aa175c771edf47dc971ff75cd101fa4161625c27ed39",
    ),
    ("segment_tiers", 1): (
        "15626b03402fffb5215f1611e876c1db8ff45dfeb86a9fedd6a157a3e1a535b8",
        "71fe5e6afaed5d25f8347cccd9bf83fa5b232c1f348dafe3b1d38d81e4e8d8b9",
    ),
    ("segment_tiers", 2): (
        "37caec0121aaa68bf0f72b5fe83fd76bf42593689ac2aa659cae313cfd205d31",
        "d10793bfce2f329b2d22067a65241334c9fc3c4cc41f254e7bdac3b6151d9334",
    ),
    ("territories", 1): (
        "6b1ff18c44dfdbfb35bf8048a13d976cf04020b35df565358eb10c1c14277a61",
        "f58a61030f1b7449a4d4549bdea48c75c5ed60af1ea0285e54aea7509da4e252",
    ),
    ("territories", 2): (
        "67c61c3a204d8d4017a5a5830347691b0077de5d9f5f002fd2a31454b957d520",
        "c28b5367a5ead3cb512574f69b78e13fd5088e1fff1cb767cf393c31910b4567",
    ),
    ("unstructured", 1): (
        "8dedf33d9c050f316a5c62fe8f37c0c452369399fd2ed278c801d69f2953dd51",
        "4be33e7b4ec0f045dec2fd9d910ec7ddd66676055c1741f4e05f9b85d4f75fea",
    ),
    ("unstructured", 2): (
        "68eb6219d5a4ca58ab0ec3cef0efd3a49c347f6b186ce8cd0ab723e302812a9d",
        "be86b3c9d97de4c1faccf332fbb9d889b11e45c7dfe2369ebd9fc4ab1a00cece",
    ),
    ("overlay", 1): (
        "ae29781880cff01c94b9be0cefa560494c0da679f9fa776f257ce7c856310ad0",
        "a600d29ae77b271b7025b66e216550de7aa8b7d62abd78e3afabf567accbf038",
    ),
    ("overlay", 2): (
        "6c4b2dcc138d52b0a157582e1ac9f55713fd4dfb5c8535fe6eb5fedfeba9d669",
        "0da1299177f4a4648d19fe85472fc5794d56e3bb62ba681a08bed0d7bf991696",
    ),
    ("value_based", 1): (
        "e3f8cbbacde0a8c97d06d56873f6a584bb11f85595824106004b7bfb81aa3fd6",
        "45b81f95d9f720e4d0dd21afc5888502e05f99f7d9a28bd9257e1b506ec1d883",
    ),
    ("value_based", 2): (
        "626be700e6d1fe08ccbacd9178933b3b3d1b42a06c0ac2bccb7ca65a1ee9a172",
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
        "e2546ac5fb814638ccdadc1675164213f5e544ef0a1203b8b181f8f3b212a55e",
        "9ff006c4d88aca3fa51ee13aae2884d6730be0962caa03772fe7ffde258bbf6b",
    ),
    ("pooled", "hunter_farmer", 2): (
        "37a5878094713d56a8382dc3d2f91677dfe2b94aa0bba58331183b850b4ba12b",
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
