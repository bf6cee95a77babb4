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
        "7fedb89a80fc478e3d0e7b3ebc95f281703e5635db759b1cb78bf426ee72b1df",
        "acffe5a00da875b8e5c17d55a5cce4d33b02b85113bc9fa3de7c9f49d83d9b48",
    ),
    ("hunter_farmer", 2): (
        "e32b312b08e58986fb3fef9d6a6493a6714d040f35a2f3bc3a4479693f432d78",
        "54be679715e6648a1e8e0c0b08673edf73a675ea51be88634fa692d96b6e0efa",
    ),
    ("named_accounts", 1): (
        "3f8f8ad5bc6293c33ddab99886e31fa024c48fc325cff32f27f717ad12f160eb",
        "22a808ab90426d676e0b04a812d08632794bd7cb4b3c3ea2a18560a504d3c5a4",
    ),
    ("named_accounts", 2): (
        "c5b83d205a4a323543edb747e8105478fd936cb08f5d245045e6ab0b31e6c4fe",
        "ac02d2f7d478e983072c91782ac77ee12b7ad7a6ca7f590db8feedb9b3718dd9",
    ),
    ("pooled", 1): (
        "c110724fd6208064ea4c657888e0d636442daf7792ecc7b895cb040401edcb5e",
        "1967cfec4bc59353cf8dc24ddb2b969c706efea2a302498e77bd9594a3981755",
    ),
    ("pooled", 2): (
        "50f4a741c4d5c47d43f6cf9209c0defe599c4b368a5907f8cfc9eaa90fe55f44",
        "194c23fe8a7fc140a257735b6d18e3ecf7ce94f8d4fbb4fe5457ded35f7e13c5",
    ),
    ("random_books", 1): (
        "3adc4708fc0b2cb7bcffb12f419180cd37d95babd92bb51faece76d48dcb85d8",
        "f974a0a1d22c1f60b458e30de2f7710ad9e2ae2e29ba6de2c941c225d07be2fe",
    ),
    ("random_books", 2): (
        "7dba6f989f3819bdcf840856ab10d84dc5f3083516318d34c271833ac9c7973b",
        "4182b3ab8fbcecd807d54353492391d53d0f81d6cfed1caa57965826c359bb5f",
    ),
    ("segment_tiers", 1): (
        "3ea8750f6be7ffe6e307cde11eabd3f222de3ef035d95156ae4413c1730079d6",
        "60e5fbea9f76ddc7977371298eb3e8fc6f0a407b761be3953e7bbabc68be92fe",
    ),
    ("segment_tiers", 2): (
        "edf8c024dcc039f74fba2a8413c9b2d6ed35ce5fb9f3b3bf8b6b6f60203b30a4",
        "175d350288e54a357d2f9dc275d0906b81ad880fef6edbb0933ff138bc4752d0",
    ),
    ("territories", 1): (
        "7cb5cc15cd9fba67b5bff72c16d59150c519857211fb98a8beba30c4d800e80c",
        "1359e868d3cd6c53aea3647ece9554419b6b4edd6ffb57fc20558373c77b1ff9",
    ),
    ("territories", 2): (
        "858fdf91531b122da62c9d6dbb2071b2587a1e9e73437ce783915f1c5d103887",
        "707b2e43561e5edbedb07a74697e4396f3f81b335b73d69b59db202aded91691",
    ),
    ("unstructured", 1): (
        "3126204fae25b9eeb3c3a65f3a33fe69443e5a1c0aa1c443e7b6bca1ae69ff97",
        "f451b70fec2f5706fa5b44859bfd01c43dc4e5fcf47333155229dad6e8484cf2",
    ),
    ("unstructured", 2): (
        "c6fa916df6e5208e9157a203ba40bfc801ee145a31dafa90267391f749545177",
        "e13c030a63f1b078bdcfd3d50a7e9d8a5fb899ca8ac353a7885ab790c1f29eca",
    ),
    ("overlay", 1): (
        "f4b7ae4d4e8e49af7db9841396453c3a0394d146c040d527f9cae3b6f2643edd",
        "e8873be4d9997d28201708b7281f857f39245de6850055a0b88e85595cd6f1b6",
    ),
    ("overlay", 2): (
        "16750470affa5156c711037acf7b516ead93594b61c82b931785f2d01a3d8f1b",
        "70f4dd6f5ad018fd222144456ca194731be3e4152eeaa793de01e7097f8df894",
    ),
    ("value_based", 1): (
        "0b5b7ac0589eac19310ada23328afb5678d1cbd9e814f0ceaabb94100d67113c",
        "4eb19ff1300a14ced55b7f2f8c49a92ce9d39263a478bb549c527a536f30f882",
    ),
    ("value_based", 2): (
        "39449076cd895883aa32e533f69a452c973bf5953c1d7b1dbe845c981edc8ed5",
        "df5cac7801c9bcccd06afd7d20ac23bbf1b4cae1ac026457e43119bf326d3de6",
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
        "12053c77d77341bedee9d9b1025261356e2130cbcf3448705d5951e31af28a82",
        "e31f20c38601f925964b84f84a11c253e4f5832813a53ebab3405c10e1baebaa",
    ),
    ("pooled", "hunter_farmer", 2): (
        "88b5940bd462dbdfcf82880d9f2a0d34cb5bf301b0b76f6cbe4c86e0923b4db6",
        "92f47c193c1bedc7fb73b2a539186e42648d6a9d81d265d8cbcd2f6e0117256e",
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
