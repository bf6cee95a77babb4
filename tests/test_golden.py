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
        "46bff32b322b891529ddbd6a0b92c0626a9028d036e26c0f128b3ec8b61b1eb2",
        "528a030448c72a5bb2a16bf033c91085f1e60b5870dada253e3caf974426896d",
    ),
    ("hunter_farmer", 2): (
        "debb71c0099b50503a063a60bc526609fe2dc11c0f9a4d2e5c388fe267226d0f",
        "3cde71f5a52d3ceb44650d3da7aa398a5916b53e364f397b2f5fd5cface7dde8",
    ),
    ("named_accounts", 1): (
        "77fb0a529245061b294f26a502b5c110eb0c02925b7aeb3f47269a57d1f4ce23",
        "a3f48f765e9859fe69932346016549ea68f96f38e5004cd2012b978bd16b4617",
    ),
    ("named_accounts", 2): (
        "b152a53b886673fdaec7dc0dc8c3422e78febf910010ec9c59d9e8a9ec11a2cd",
        "768a1ff6b24d6371418e9266b13e17decdcf1b0584dda9bdfd1ea1415e350964",
    ),
    ("pooled", 1): (
        "5de09ab2913729114d3ab4d1ed65dd5c4dc10e90026083bf120f57616e7bafda",
        "b024dd732741d422c36807fb70b120aa36f0ed04e3c6ba0becc2ab532f072c41",
    ),
    ("pooled", 2): (
        "94dc60328fcb5a35ce35c65e4851f291a272b20a6877cc0b71001d003a27d3d5",
        "d69135fa8f422f207778b5157045e7eae4cdcc292cdb5d00b49e0e2a01ef139f",
    ),
    ("random_books", 1): (
        "0b5df953c7e0382349f567068a0db4aa64a90cb8a82347d1ebd58e660711acdc",
        "e48528955607966ba0456701f8e2c9591ff428f93423b08aa7a172a2b670606c",
    ),
    ("random_books", 2): (
        "4e44e390ce81e9f54353586226791a80e08023ad8c7a81c658375d9b46075d96",
        "e9254908363c00a0f4026640769854841172695d92ce76640138e3b16feabdb9",
    ),
    ("segment_tiers", 1): (
        "bc7d4d3acc744e2cc8845bde22ee584468c9001bb6a6a6c10e27015a0a1f4083",
        "c7eff7fc9e1bfbc0c2a5baabbd4a01c1dde43ee3e6df2e2aef502283d9b5f0c2",
    ),
    ("segment_tiers", 2): (
        "66648a28175f6936f128ea2c9305ae5b228c65485b0984f1428c82f57c43a0b6",
        "17daad4bd507cb4afcdfa7d2ca4271eb96708c5e67dd60380468b53e859178de",
    ),
    ("territories", 1): (
        "e5db854578a6720fc4839fda3c3d994e7c3d519d84c0e7d7be8e42b5b81f6324",
        "2d6e9df60145ea65bc1a8cba9d574396deb3aa880e82f0d73e95b2e7b2c068e8",
    ),
    ("territories", 2): (
        "72e031661ca678e678320172bb46526d4dcaaffb8f12f3f9fcb06585c9a1a0fa",
        "5f14baa884361869f6d91deae6ac5973172ebf6a93583a389acb1e6888282917",
    ),
    ("unstructured", 1): (
        "4578ba26cb7dc657fb833e6ad2ac5bcc6ba8852cdf7e07887b848d8ee4ff6926",
        "4be33e7b4ec0f045dec2fd9d910ec7ddd66676055c1741f4e05f9b85d4f75fea",
    ),
    ("unstructured", 2): (
        "8746984c3d0791132bba9ab95abe9282360269246ced22290a62a7c860f4d225",
        "be86b3c9d97de4c1faccf332fbb9d889b11e45c7dfe2369ebd9fc4ab1a00cece",
    ),
    ("overlay", 1): (
        "d7bba55b7b2d00f2c2b57b5b851841bc2ce1a481a5cd8cce3037071f2fcaaa64",
        "117acbdcb894928381b774d26622a5444980e84f058c35d1fdb3ca99d0cb5017",
    ),
    ("overlay", 2): (
        "ff3200768d1b42b9fd066632007a407d90be0d3538e7b5108c23471ee412e5f0",
        "b3bc4d9d8bc59305807da0537f4420197b4f933ab78139524af28dd0a26dd9fd",
    ),
    ("value_based", 1): (
        "4b997896d94dd47ce5a1040d80fd11a38b45523c4becc6b4c6ad659f3c7ffa7d",
        "bf0c193ecaba1b9edfc42fbf340ca2b9557d7124549a28bf7cee932205fda710",
    ),
    ("value_based", 2): (
        "2ce15154d98d9b5415d1e5b4a343806651e5cb4abfd25ed1f13ea956c95d045d",
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
        "1cbb52d69fdaf7d301a02194c2994425aaa3d18e9c8f7ce7f4fb604308e638be",
        "453abdbcb0bb9ad2265c8a867d27563a7fc030e71390404f37974d2ff11e125b",
    ),
    ("pooled", "hunter_farmer", 2): (
        "4bd69513c23f3a152fd31b71d1c0f78e83d5769168456c202fb49738369bf41a",
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
