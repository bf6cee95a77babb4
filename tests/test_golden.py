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
        "cdb2869bb2fb0ad4c1dea0d172b4382785508d033ac2daacbd18ad346366aba4",
        "528a030448c72a5bb2a16bf033c91085f1e60b5870dada253e3caf974426896d",
    ),
    ("hunter_farmer", 2): (
        "9fd01af9bca6fe38ad3be66dce54865dfcdcbc407ecfdcbb0dc5c2c98fee5e8e",
        "3cde71f5a52d3ceb44650d3da7aa398a5916b53e364f397b2f5fd5cface7dde8",
    ),
    ("named_accounts", 1): (
        "bfb782383e4c34ce3eea7f7c740d3a9dacae57001d119514992a5a8e259810ba",
        "a3f48f765e9859fe69932346016549ea68f96f38e5004cd2012b978bd16b4617",
    ),
    ("named_accounts", 2): (
        "e2cac49fcfd3eda78c35cff505b67ec3d8e031000a8564bf47e75fbf293da46b",
        "768a1ff6b24d6371418e9266b13e17decdcf1b0584dda9bdfd1ea1415e350964",
    ),
    ("pooled", 1): (
        "5200c8867aef8d441e4d47ca3d04f8711490611477c11b632d97fff277d89f83",
        "b024dd732741d422c36807fb70b120aa36f0ed04e3c6ba0becc2ab532f072c41",
    ),
    ("pooled", 2): (
        "52939a7074d8d7e2344fa076d14a0a2b2042091cb56583bea7364cc90c86bd9a",
        "d69135fa8f422f207778b5157045e7eae4cdcc292cdb5d00b49e0e2a01ef139f",
    ),
    ("random_books", 1): (
        "3b129ca435f6d48f0a7c1d12228adcb860d4b2fa95850cc2b0ffca2ea47837cd",
        "e48528955607966ba0456701f8e2c9591ff428f93423b08aa7a172a2b670606c",
    ),
    ("random_books", 2): (
        "8cdbee5cc4c68d9aef0add3f1598d334c5797173cf83263408acf7e6fcab382d",
        "e9254908363c00a0f4026640769854841172695d92ce76640138e3b16feabdb9",
    ),
    ("segment_tiers", 1): (
        "9d2c213a49dbfb0c1f753897ba9ed6272a733a445a91b1c904513db578b1e7c0",
        "c7eff7fc9e1bfbc0c2a5baabbd4a01c1dde43ee3e6df2e2aef502283d9b5f0c2",
    ),
    ("segment_tiers", 2): (
        "547ee778afed9fd6d2ba94082fd962e1cee41682378faf87d8bf80e667e2ffdf",
        "17daad4bd507cb4afcdfa7d2ca4271eb96708c5e67dd60380468b53e859178de",
    ),
    ("territories", 1): (
        "601ed1f359a4cef8a1d25e39770c7e4055a03afb989e68bd03829f8f72c8dff4",
        "2d6e9df60145ea65bc1a8cba9d574396deb3aa880e82f0d73e95b2e7b2c068e8",
    ),
    ("territories", 2): (
        "dd617285e3ad2919b9bb1d3fff911b538f9bbcc4099eac1e6355deb905efcdc3",
        "5f14baa884361869f6d91deae6ac5973172ebf6a93583a389acb1e6888282917",
    ),
    ("unstructured", 1): (
        "c53cc0a26310d88532b61b5cedfd0741ff1edb8ee21ee1918d7ff01e2d704ed9",
        "4be33e7b4ec0f045dec2fd9d910ec7ddd66676055c1741f4e05f9b85d4f75fea",
    ),
    ("unstructured", 2): (
        "1a6b398953ac7db34cbef6dd89db1b89b0f7e5039c6ec725b0ca3ddaae6535ee",
        "be86b3c9d97de4c1faccf332fbb9d889b11e45c7dfe2369ebd9fc4ab1a00cece",
    ),
    ("overlay", 1): (
        "574f21c65c1a8af0e46cb5264073c7d5e63c3461915e935942d31910b6730144",
        "117acbdcb894928381b774d26622a5444980e84f058c35d1fdb3ca99d0cb5017",
    ),
    ("overlay", 2): (
        "a4aa71935a670a3318d88a53988746a64fac3e45134eacd213b22dd5a65b1aee",
        "b3bc4d9d8bc59305807da0537f4420197b4f933ab78139524af28dd0a26dd9fd",
    ),
    ("value_based", 1): (
        "49c8fc2fbcea86338e96d678e653d86e75383b02e14b0b7762dadbb6d4f14ba9",
        "bf0c193ecaba1b9edfc42fbf340ca2b9557d7124549a28bf7cee932205fda710",
    ),
    ("value_based", 2): (
        "c90d23847a00a860c81688198f6601c705652cddc6694115387c11104c586428",
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
        "8671bd7bfa6b9cb139e1765a0b9b86b24d8b8a60f75bdc840d78c2253e1f617b",
        "453abdbcb0bb9ad2265c8a867d27563a7fc030e71390404f37974d2ff11e125b",
    ),
    ("pooled", "hunter_farmer", 2): (
        "9d5f16c2519d2e7d4ec23ddce6fde28a53072a4548ab56ef0d4ce841401529d7",
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
