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
        "daa76d1555225a72d26d86f661821c900fd98a878db997fbede8fa05bc4cf307",
        "445fe48e7e7a63f7e4e5df381b9d4610f9b6fe39a9e90cc8e3529abd8fc95675",
    ),
    ("hunter_farmer", 2): (
        "dc392cdf220c2dbe53e495f88f50cb0eec8161cb3a008cf197692e638fb5aef9",
        "f863dc22fe34612c7d1a62e581ab1378911e21d536ff5331259be4e79241297c",
    ),
    ("named_accounts", 1): (
        "02de7105060bbc975d1e4738eb4e45b38430a6df35fb43b2cefc1ab4e4cbcd6b",
        "22a808ab90426d676e0b04a812d08632794bd7cb4b3c3ea2a18560a504d3c5a4",
    ),
    ("named_accounts", 2): (
        "faf7b461cf8c9fc893fdffcd58c9111c1ea3919435bb1cf9de084a2a90869e4d",
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
        "0ae733878899e14a631a37f45d4c1be01413aedc0d2eecfab0056746b53aec87",
        "f974a0a1d22c1f60b458e30de2f7710ad9e2ae2e29ba6de2c941c225d07be2fe",
    ),
    ("random_books", 2): (
        "11794282ae8433d67cd970c0dbced7be8121eaf1a358a005ae1344cfcfb074ce",
        "4182b3ab8fbcecd807d54353492391d53d0f81d6cfed1caa57965826c359bb5f",
    ),
    ("segment_tiers", 1): (
        "965437cc03ca826b05515952aa879adc59fcdafe8938e7acb1cf368393e1e33a",
        "e519eb36668d1c8f57affdb4224bb59a9ba0547a995369235d7ae59bced1b00a",
    ),
    ("segment_tiers", 2): (
        "aa2ea89f0b1df15a0842be293f8ded2137c55b3084bffab525e926f50b9329dc",
        "e4a57a33eeb8fb6ed2c4de9f10a690fd356e9045a89ea46d0d5f569a208d786f",
    ),
    ("territories", 1): (
        "c567d28de6fc7f28c3fadfc61b3dd3b8871afbf26bbfcebfe812a2df59e0b655",
        "1359e868d3cd6c53aea3647ece9554419b6b4edd6ffb57fc20558373c77b1ff9",
    ),
    ("territories", 2): (
        "5b93d3785031babaa0c3c66ba743af16c78aaf660bde274b968944d0b7d05ad3",
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
        "34b8d683ae7153082d795246b10ffbcd6af55e3a46fc545cb8ac839ed3df8241",
        "b041a769107156ecc0fa35be4dcb1c6483cd0baa73d8ea43fe7b3c9b9fca7e35",
    ),
    ("overlay", 2): (
        "655022b511e563d406dd6225dbe495680c11c610ebe93559fb4b850eb3f9c32e",
        "6f797f5e21bc6eb6f6ee38e501e27aad22674f9cdff69812808d7585ac6ba852",
    ),
    ("value_based", 1): (
        "1143a77663e2b1598689571f624a754581000986ea4ffa14c5839cb73304fe04",
        "4eb19ff1300a14ced55b7f2f8c49a92ce9d39263a478bb549c527a536f30f882",
    ),
    ("value_based", 2): (
        "a5797d16662f15c4a03650ed0446c382cec03104ed7c847a17bde3268ab76d68",
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
        "ca1a38491864b54247917bd13331f9f7cbc15894fdf43160387a52dc060ec7b0",
        "63e630956a9ac34ba377003cffaa1197702bf056e5e86a4d031cb9fda0840a4d",
    ),
    ("pooled", "hunter_farmer", 2): (
        "cc7e946146cb85dd3c2cf1629c6791f14e6f2ab2bacb9f4a4f472289d9ec2747",
        "6d8ac2eb89d3017a4696751b2093af17bc1106ebdef984893db774ad97e2d8af",
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
