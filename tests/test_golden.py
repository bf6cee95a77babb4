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
        "b957490345a76c9abfe904d438abdc31becdd12c2a7429b19d66c40c0547135a",
        "27cda35636e66050521089696107d9fab7c77c2199ea7ee2708df5178ad0e900",
    ),
    ("hunter_farmer", 2): (
        "389778bb89fd5eb2562c12199a42cc2eb777603927a6fa74b1d0e0555d8ef85e",
        "1ccb2e877fcd0b0952df6d3ceade700497d1d130a8ac305c0a8ed0b0f4f97a15",
    ),
    ("named_accounts", 1): (
        "538a06bc51dad57e0fcb6dc83fe3b0924e1d0ff94d4a7116fb401e14ae073af6",
        "ef869b94ab9b5bd7a899eb8a880180e22230b02b17869da5cb805ad100f8c0aa",
    ),
    ("named_accounts", 2): (
        "dd963ecf6de9a28f1082b2a7f5a53dda9285af2c39dafafccd51ea01b9210b2c",
        "901b1e13dc413e7eb35c44f8c0c34de031eac0b3b6802c1d1f66d5b3824cfb5d",
    ),
    ("pooled", 1): (
        "915a502fb487a640743c1c157dea330f732882b64c32b73f807ad5004e70657d",
        "6bdcaa02020a80ca3562ccc472f3664c53ed33f7777738ad21eecb29d24e8589",
    ),
    ("pooled", 2): (
        "1bc5b38046e5ee926ef5a6bc5bd15a4deabf102fe285bc5ee548dbb36d127aba",
        "80cba15c83befc2b8005ffba9fc9717229e2c9ef36d6dffe70bb42fc7476ddc6",
    ),
    ("random_books", 1): (
        "2041d40519316f79fa690fcbcdce24891200aa0ff0cbed51195e9dea634aa906",
        "5d3ade7030a7766bc80350491aaa695201c2ad631bef40b876ecf771e6ed6368",
    ),
    ("random_books", 2): (
        "c0c4a35462a50aebfd40f8359faffd3de853af03b81da867fbe99c5f2073fb51",
        "d8c68e58a3bd208ea084d8994c447753c9a2b7a0ef9cc813432c0d68415e5a2a",
    ),
    ("segment_tiers", 1): (
        "83a2573898be1f858e1ccda62d24a2c91b92e0f23c6a2cda1d05d42790c19927",
        "8cfb8bbf62b36752ec6db7d4e55e87274594461af9d53561ca36b5130a0ac2d0",
    ),
    ("segment_tiers", 2): (
        "f7d1d300b26c1a5ba639419be237a736043c5341c3ef91d78aafbf2ed28451a1",
        "8dc742c22db98298b96fb93e0caaf4c2f36f8473628dd07d6a1e4f6eff2c9eba",
    ),
    ("territories", 1): (
        "ef29120ee25570b2ab5ccacd0f9e081137444f6a9c217b1ebc74bba04f67e10a",
        "17782ef6677579b11d67930ee157f8c7274eed9b10763fda590dbbcfe95e6605",
    ),
    ("territories", 2): (
        "056ec108394dd70c8235dc1770a804dc38b9e1758d0593f7718df2aac3fe3f1e",
        "39cc5a6f96385be386b74990f6ceff63e6dac3baa87a5ab245159b7924f67a6d",
    ),
    ("unstructured", 1): (
        "20041dc8cb106bfbc846ebb117b4a3ba07d7ab9797da2ccd89e6443bd2f75c06",
        "5eb32c408e4793de198622813bd9e7d87d0e93a134f0562cccd14de3998fb4e3",
    ),
    ("unstructured", 2): (
        "e47f69e5475c4da14cbc2a498284e07d73f178aa8d972d35bd603699a819f23c",
        "0f3388ad004339414857af324a7d834ba85d70adeee26aaea8cf91a564b1ec87",
    ),
    ("overlay", 1): (
        "79d0974f1db60cfe20fcef30f9e0b7cc3a70c80e9fa61658014604668f7dd92a",
        "842e2899c64263cad57fae8a689661022674ee669401513f29089e2e824b49b5",
    ),
    ("overlay", 2): (
        "a67584477df51051d591c928fed73507192ce4075bc3f8b93bb3a1529bcff8db",
        "267913828555898a2d9cf478265fbf8cbd87ce32457f26b9e6dd895adf4d9982",
    ),
    ("value_based", 1): (
        "1ff99f0e36fef6b90f5346b6edd4a24d9395c6a4efb65dd018486ae6df742fde",
        "2328d64e3fda13747adaa03f73cb29418c6cdbded0937bf8a988fd33678ee723",
    ),
    ("value_based", 2): (
        "3e07d8143336ccd0874cfe7706cfa766fae1e9e1d51c72e1493db63f9e16ba8e",
        "1d1cebd872b7547099ae2377db52e6f8ae05fdcc073f1f5ecf5204f0838a6ddf",
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
        "634ede7bd2d75aea01fae6ff23a4d7f9c7717ffe018073194a01157f21e91868",
        "6db015bdec6cd6baedcffaa10752a3c2f5f472ab6f9369b4577ce85d1fe56d0f",
    ),
    ("pooled", "hunter_farmer", 2): (
        "2ebd8bba831a05868030a7de4c80ad8ab47efa7a579bcc99ce67059b89e8dcf7",
        "e63ca01f41c54b62c4f2dfb2c001108f8226e0c1815648e746400c5dd23ff0ae",
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
