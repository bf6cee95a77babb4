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
        "804ab23be9c908ebb023e16156de5254aeb2ba449a5bf740372d0350ad9ebf46",
        "ab7cd1473257900a595f3d9ba49c550447809a7140fbd8268e39e643e15def88",
    ),
    ("hunter_farmer", 2): (
        "25dc90f0a51746bfd6548f5b0e6559a64c1a2262ad7ca2c3e9b2bac4e315118a",
        "fe9f33def890a649f256700197b39322747f83f8274f23a8cc783aa63a6a7cdd",
    ),
    ("named_accounts", 1): (
        "4bfea3a7657bcf669c727d36a25a1bdffd6afac1016002860b80a7d1ac53169b",
        "5d46a6d7c0ff04ea84c9cc21d8119e50c7812131aa478c26c09fbdc1d4be2926",
    ),
    ("named_accounts", 2): (
        "5a368cce6728449881f6c3f4ee49a6c119970cc4ba2915a09217bf0b83a42e07",
        "d405a882cf24a9d8b8c1df396913dcea00de480e543c88ab19cfd97f95cd2e72",
    ),
    ("pooled", 1): (
        "a5bf0402237e6a1fe2175b9ecd859681f1eab3e3f31b673014e889b71134dbfb",
        "fb7430080db18c8a168a9fb9d78656122b998c3d9915938d9ea3c3ecb40f2d01",
    ),
    ("pooled", 2): (
        "9856556ae595904081f254e19997903f600038c2a0cbd2dd144dda84c559e6fe",
        "3f6d8ae5da0b996210767eb4dec4c7a1101aef40fc6817a48c87584abfd1508d",
    ),
    ("random_books", 1): (
        "fb4e66a1b80704f4e318cf7760d94164219344d403267269fa1f428bc84a592a",
        "58e62768e23963f3556d33048bc8c9d1a6f5420b8e10bfd743b7beea65882e7e",
    ),
    ("random_books", 2): (
        "c3b62eaea782c9eb28d214538edbc426561b08c5ed450be2e6130b94a522d8a7",
        "351547e2f475ba9851e807ec41d4dda983183cb6eb2a44356bde3ef6f130e2ec",
    ),
    ("segment_tiers", 1): (
        "88e3f1bf7962458e2e77c91e3193bdadca49d3b6a67827714d948d190d6b6594",
        "e445e5d254353b804c383b8ef2f71c93b8e584fecba55fd598c614adeb930967",
    ),
    ("segment_tiers", 2): (
        "a636d346beb3f6385fc4a1bec36cf62998e232f7beeadd66bfdfa7c15a17082d",
        "70bc92451ba5b208ae30724e55a1d75f1e04db0475cec0e0354fb400adc017cb",
    ),
    ("territories", 1): (
        "98fa0ac8f73d75a9e63756774e0064cdeda1eeb46a2a2744b859649c984e200a",
        "6e92754dac32ce79200f2565f98fee70f5dbdd01ffda267536b5f55c52970c9f",
    ),
    ("territories", 2): (
        "b5a3b0d8b7a5b63a967247481687368ff4a6f118fd5059a842e8942829a30b29",
        "fce87d3594cc0b143c26709dffee7d31b965108fc2cda84a47e688dc36b3d2f4",
    ),
    ("unstructured", 1): (
        "b2ac14c1a4a52bb0ed9d9eaf7d1ee255228ad8d43ea548564e8809bfb73fa51a",
        "bc66802a35fc7f9042c747dca3d2730ce85d128f30caa080ad163ae7d7262a59",
    ),
    ("unstructured", 2): (
        "7490801bc60cfea4ce900e221bc43488025968c74e972952b937369b654d7885",
        "a6842c7ae48282fdba3673bf423ba00cd545d53866473a57a4b70055d7ea3fed",
    ),
    ("overlay", 1): (
        "32c7f970983be7d83ba4b9c92b3ee2d0501b1eadcbdf80422164f05dede51798",
        "4b41f5b5285032e780ebb06def404a84a1b8c068d833f27ecb9d317f3c253eeb",
    ),
    ("overlay", 2): (
        "b2a48aba5ca6595daf59b9de1849efcacd7d8c89e1f5635fa91fadf6c8c90f7c",
        "c48d693976190c2cea4749027414398ce9a0c83b2cade0bb3613f48b4f72d4cb",
    ),
    ("value_based", 1): (
        "904bdca3370d922b67a62f76e099dacb788c637a008f2aeda3096f181a249293",
        "5761feb83a0d191503024672629b2280448f999f01025c6559a54b5cd17b1785",
    ),
    ("value_based", 2): (
        "25498c044a31c10322fff1c32312978cef9e312dd9c7a2de28f36d96fd5c84bb",
        "c4dd2e0a7348bf579b2757c47adb674067ec06b1828853203e883b57e214fdde",
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
        "5eb7ff82d77184758d5a55ad86d0328e649ceaa06bbf4a52fbea0a6952846404",
        "0d9c4707cb0ac0c9dd53a6a383eb9386abbdf970746ebf51c18513a7c3fa938e",
    ),
    ("pooled", "hunter_farmer", 2): (
        "66ee210ed170f9a9c914bd216873f6c0813c4eaebad30cf3c6e208eedcf9a0f2",
        "0886823581e042810d8964bd307fb853e1840e7865e39936c15384ca06a314f9",
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
