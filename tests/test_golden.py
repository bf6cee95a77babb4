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
        "3bda8e907f893d200246c3a6c2afb384cd73e01d149a6ec2c2e2af7f530408fe",
        "01b081474acf56b1fc291d0bc2d04d70be15692585c8c6d829ee27ec0f089a31",
    ),
    ("hunter_farmer", 2): (
        "34184b36893cdf99c438035c515668e57121fbc77da749d012a1450df3245a7c",
        "5359c98b807f6823b4ffa75fb460d29c119db594e913c09329144426adfbdd35",
    ),
    ("named_accounts", 1): (
        "b47f5cf197f57d11a25121921c1ae57f672e64ea841a112bab0d3ea6488ec570",
        "0a77e7aa39354a6dcdbca811627bb613721f5d3681f401c1be0a691027043d6f",
    ),
    ("named_accounts", 2): (
        "606b554168c6fc4191c76b2f6751ca6803295f85ff5735e132f9bc2d5b097ba6",
        "ac287f5809cf91590226f7c95bbe4139a024d6992db44684f98a436f9db53ab5",
    ),
    ("pooled", 1): (
        "7dec0b21fd60acb1fca08266445534fe60a5c521019b2acc17e08709264a3304",
        "2c544a4fd68248fd62cd22ec626cf612708d02b6aa9c5fabc087d816b620116b",
    ),
    ("pooled", 2): (
        "3b611b42a4532eeba7f23e4c1f34bbc11c51349afa41ebc635b515cf7bb05986",
        "ebd34289916bc0ef071c765ab0817d4c076c7eaa211bfa5e57ab8cf2bc937b45",
    ),
    ("random_books", 1): (
        "35c0fd565888ed01bb31d15dda50be803d19fcec91aa590679ed72d49b35df78",
        "fb6cd1910a3c14d3716501c139b681c1bd8bd8ea04a46f0a9070dcc7b9d44c06",
    ),
    ("random_books", 2): (
        "14c0ead417418f29f7ea90e4417f1969db2aed4253e2d62807649c7839f7706c",
        "95246bf34e8db32d035c2740cc533b873b4ab00b553d4155e3de27c9ad3eccc9",
    ),
    ("segment_tiers", 1): (
        "c2d1cbc97950cddb25701244468588d4f8f0f87bbadf4ee824162161ac0699c9",
        "c14175d23223af5c1113efa0e443817bce47a4ff1d161f6baa576d98005a681b",
    ),
    ("segment_tiers", 2): (
        "8c075e8df2d35a84e4300b753fb239f812c2ce6d5cd9bee81bd5d584d58a825d",
        "c4c0d324bd6aa9cfc5c91fe7303b74b43648297c27a5ae196531cbc5d7b71068",
    ),
    ("territories", 1): (
        "46948f077ccba498873c5235e87932b40d32b4a8cd97a5354029dfecc8cc9feb",
        "e0d82cd8e98bce5c68de6fd201bb5ce04b98a07177ef05679857a271b26b2399",
    ),
    ("territories", 2): (
        "4eb25aff3df6aeb8ee56422865cfa7c64f121f8331d8b179261e0d775841ccf0",
        "8f7f4fb471d82e3f54fb3ccb834828cdd4bc8346b32674675bbf1488555c7a86",
    ),
    ("unstructured", 1): (
        "3ba4910b5da9e1e248e5ee0cb7d84b20bf922dde320e082a4d3cc6599ad1e070",
        "7eceddf8e149bdecb0531f8d19cc498c9969277b25fb0a671606b7a4dc830adf",
    ),
    ("unstructured", 2): (
        "2d72338ad062a2a49a547f185d39cc6848edc21936aad1f4563776eda7179632",
        "fa44ffd02ab43df31d1e68b1c654241a2cca8bb4fc452627555f6e55b06f207c",
    ),
    ("overlay", 1): (
        "a65f92a16c7bd8714a6964bb11df11cb2b0efe8224b728b13b0996cc48a78b2b",
        "50bde4f9f627dce173ce266bc43837fe3acd78913eb137beb4945cc792185c5e",
    ),
    ("overlay", 2): (
        "c26c3ce32caa76b7d3e12369fdc4711cd3d4b7b5fec1c49dc2bd68170e2d2a33",
        "f56483d2bd618033c62739e0773ba9fe47919abd970bad16d27b074b69f3b4ef",
    ),
    ("value_based", 1): (
        "d121c3a3a923ac732b141635ebe165337e4fc4ffdfc0e02677c364249ac81221",
        "fe019b8a0027c192af70508749db107afa9318ef24357a60ceea41980b9cd733",
    ),
    ("value_based", 2): (
        "91dd0d96efe1c132e71aad916d293006a5793d0cda5de1865d9a89fbf2396af5",
        "2ca778aa77d14a16a916a80399ccbbc1f2156f7a724b24f4d01da3f92053c866",
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
        "c520b006f4cca4af581ceaba36db8c2f33dcf9b30978eb141707120d25124ca1",
        "864da88e24c9ef7469674857f6fb70cad4811bdbd36bac3188d785bdbc85920a",
    ),
    ("pooled", "hunter_farmer", 2): (
        "5ee8d5984f4cd14277edc9dc4e03ad915098168e0afc4f7ee6d41f8926be9710",
        "fc1951e135d1d045f2fccf5ad63ba516ff400da4d00cf8ac93696cfd5ccbdf8c",
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
