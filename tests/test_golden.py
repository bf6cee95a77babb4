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
        "b2264e6fcb96f75cee06525281ed69305b26803ce4360ddad336c935f1deb177",
        "528a030448c72a5bb2a16bf033c91085f1e60b5870dada253e3caf974426896d",
    ),
    ("hunter_farmer", 2): (
        "4513fdf201c6d2e35961eb5bd872ed3add0405576f5022a385ef9452822b1029",
        "3cde71f5a52d3ceb44650d3da7aa398a5916b53e364f397b2f5fd5cface7dde8",
    ),
    ("named_accounts", 1): (
        "74b870d6fdfb3c6cc8b30e3d9a4e9d7187cd2deac7c9c3567c8aa7716fdebc9c",
        "a3f48f765e9859fe69932346016549ea68f96f38e5004cd2012b978bd16b4617",
    ),
    ("named_accounts", 2): (
        "6204d3fa3e793904f51824a7a2af2d2ef709d88ab235eec199a4290259521c50",
        "768a1ff6b24d6371418e9266b13e17decdcf1b0584dda9bdfd1ea1415e350964",
    ),
    ("pooled", 1): (
        "9fd2933b23d007d6acafa62c4b9ed00c570aca6914bde77e27ec26bc6e011f55",
        "b024dd732741d422c36807fb70b120aa36f0ed04e3c6ba0becc2ab532f072c41",
    ),
    ("pooled", 2): (
        "4a04efd0280750c6f5a8146831a892a68ba830dba75100c33c07396638bfcf83",
        "d69135fa8f422f207778b5157045e7eae4cdcc292cdb5d00b49e0e2a01ef139f",
    ),
    ("random_books", 1): (
        "de9b9105b05bc3f0bded9556624c89e9e7651bb538e158c30bf8896c4d039c45",
        "e48528955607966ba0456701f8e2c9591ff428f93423b08aa7a172a2b670606c",
    ),
    ("random_books", 2): (
        "0ef71cc550471cd6849e66aa247a29adb55bfe2c324a973bc04958ab13f7fbe1",
        "e9254908363c00a0f4026640769854841172695d92ce76640138e3b16feabdb9",
    ),
    ("segment_tiers", 1): (
        "abd52131ee9920450ecb86e4d00b395023a8b48e397567e455a0de78cf5f769f",
        "c7eff7fc9e1bfbc0c2a5baabbd4a01c1dde43ee3e6df2e2aef502283d9b5f0c2",
    ),
    ("segment_tiers", 2): (
        "875eb60a06ffff6b05e83e6993c680893f88770204ac1a2c333ddd912a719d0f",
        "17daad4bd507cb4afcdfa7d2ca4271eb96708c5e67dd60380468b53e859178de",
    ),
    ("territories", 1): (
        "219c0d11167445e02e1d84e0197246a4dddf1664d174099d37b5641f05cc90df",
        "2d6e9df60145ea65bc1a8cba9d574396deb3aa880e82f0d73e95b2e7b2c068e8",
    ),
    ("territories", 2): (
        "b02bb753649db730dcadc0ea6053d803fa7c83e158d47995928b0087b3d1891f",
        "5f14baa884361869f6d91deae6ac5973172ebf6a93583a389acb1e6888282917",
    ),
    ("unstructured", 1): (
        "2f832b2ffdcbf32bc697c2252805076686b01a43f606a36cde74aaf3b058e532",
        "4be33e7b4ec0f045dec2fd9d910ec7ddd66676055c1741f4e05f9b85d4f75fea",
    ),
    ("unstructured", 2): (
        "97d64a09bd6fd9646a98b4efef38b22fd87e4a6bef177a7c52d362c6917b23eb",
        "be86b3c9d97de4c1faccf332fbb9d889b11e45c7dfe2369ebd9fc4ab1a00cece",
    ),
    ("overlay", 1): (
        "5886b3c3707cf1ad769f228d8e32956557b5d7713109a4a6bc780d35c07e846e",
        "117acbdcb894928381b774d26622a5444980e84f058c35d1fdb3ca99d0cb5017",
    ),
    ("overlay", 2): (
        "325ec85233959293e384bb3239627c629d7a03c678ac8e7692bf9b6742d5b28d",
        "b3bc4d9d8bc59305807da0537f4420197b4f933ab78139524af28dd0a26dd9fd",
    ),
    ("value_based", 1): (
        "dff65cd97846777c2b17c5122872afd8208e23eda772e0ed669062e16c305126",
        "bf0c193ecaba1b9edfc42fbf340ca2b9557d7124549a28bf7cee932205fda710",
    ),
    ("value_based", 2): (
        "0008040cdc5c74c0a3f4f9931529dcbc8be809d99360e7228eae85628c676350",
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
        "1c391882cdd72116e6c60163aa70ddee063af288d699bebacd14d5da7e3d31b7",
        "453abdbcb0bb9ad2265c8a867d27563a7fc030e71390404f37974d2ff11e125b",
    ),
    ("pooled", "hunter_farmer", 2): (
        "74aed3f14c6f042d17c9892b331521bc088bbc10fe7fffd5ad82d06f7029605a",
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
