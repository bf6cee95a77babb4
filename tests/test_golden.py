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
        "2a397902ee83a26b2086dabc3360c96309fc6fc084de9c9ec3a5cdbb1740748a",
        "01b081474acf56b1fc291d0bc2d04d70be15692585c8c6d829ee27ec0f089a31",
    ),
    ("hunter_farmer", 2): (
        "6bca3f047568cc851282b8fca2f2c3ac8f2112c87b7f5e8658d069c375703272",
        "5359c98b807f6823b4ffa75fb460d29c119db594e913c09329144426adfbdd35",
    ),
    ("named_accounts", 1): (
        "297f1a4d5e7bb75393586542891b0c3f92d385dc88288d22678bc76b5b3615cb",
        "0a77e7aa39354a6dcdbca811627bb613721f5d3681f401c1be0a691027043d6f",
    ),
    ("named_accounts", 2): (
        "ab29318f43e32fc7c12abb4158e94f0471257c9db2773b66e5e614991217b7b4",
        "ac287f5809cf91590226f7c95bbe4139a024d6992db44684f98a436f9db53ab5",
    ),
    ("pooled", 1): (
        "1dfa9ab677331bb866f35eb7a19266d6f91f12ce536b7b375986fb580c1624ff",
        "2c544a4fd68248fd62cd22ec626cf612708d02b6aa9c5fabc087d816b620116b",
    ),
    ("pooled", 2): (
        "158fb31cc00087a13cd8ca0cff2e72512ce3a7d63353309958d9fa04b1d9998b",
        "ebd34289916bc0ef071c765ab0817d4c076c7eaa211bfa5e57ab8cf2bc937b45",
    ),
    ("random_books", 1): (
        "af8a2e3d1ebfb6358e76acc47932668f6b9029b7fc5243e543e4a0b1181b677a",
        "fb6cd1910a3c14d3716501c139b681c1bd8bd8ea04a46f0a9070dcc7b9d44c06",
    ),
    ("random_books", 2): (
        "e5b87e78f435596bc578e7ebb7a890fbfc3ee8e91b894ac54c33b72b0e604833",
        "95246bf34e8db32d035c2740cc533b873b4ab00b553d4155e3de27c9ad3eccc9",
    ),
    ("segment_tiers", 1): (
        "41919f6345a3feca0f3f400b1e9690bcb5a20d8e4f2c06e0d1c8423d95d1e947",
        "c14175d23223af5c1113efa0e443817bce47a4ff1d161f6baa576d98005a681b",
    ),
    ("segment_tiers", 2): (
        "d920995f1e66ebe0f1ed5b49873c9bbe58da3f4ecfb2295f39b3e9ee55b2b791",
        "c4c0d324bd6aa9cfc5c91fe7303b74b43648297c27a5ae196531cbc5d7b71068",
    ),
    ("territories", 1): (
        "0988fba5cfdefa505ed32b80b33e3a74efc0c12d084e5205aaa92b79b20ae0fc",
        "e0d82cd8e98bce5c68de6fd201bb5ce04b98a07177ef05679857a271b26b2399",
    ),
    ("territories", 2): (
        "202dba1b52e2a95b8f5699da360496d3c71c267f812dc0e55a0b8702eedfb0b3",
        "8f7f4fb471d82e3f54fb3ccb834828cdd4bc8346b32674675bbf1488555c7a86",
    ),
    ("unstructured", 1): (
        "7523633ee6ecf594128851c7e2bae1a374643a0dc3a23dfe5141fe2f40eb5bb2",
        "7eceddf8e149bdecb0531f8d19cc498c9969277b25fb0a671606b7a4dc830adf",
    ),
    ("unstructured", 2): (
        "8907fffeda2bd591f24e81712a079e478b0914bcba40925f3818ef32a15bd8a3",
        "fa44ffd02ab43df31d1e68b1c654241a2cca8bb4fc452627555f6e55b06f207c",
    ),
    ("overlay", 1): (
        "376aa235fac2c9a369fb9cd21302f4eac66e92486528cf036b4278048e74ed70",
        "50bde4f9f627dce173ce266bc43837fe3acd78913eb137beb4945cc792185c5e",
    ),
    ("overlay", 2): (
        "eae76f0d0053822c090280d3e1b389d7964c0ea6fbbe2b4919001f3203ede187",
        "f56483d2bd618033c62739e0773ba9fe47919abd970bad16d27b074b69f3b4ef",
    ),
    ("value_based", 1): (
        "e6e72caba74f45a4fcc44c863350cd40ca6a7eb17bd07f57e9fc8ed0ed429776",
        "fe019b8a0027c192af70508749db107afa9318ef24357a60ceea41980b9cd733",
    ),
    ("value_based", 2): (
        "542a499b1c8fd02a2ee8e64e99ec47420c5634de505572a04083431e28f24809",
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
        "4c45f869b22f3ce9c660c6da493cf9619bddcf2ad70a68e995d25a9f4e361a1a",
        "864da88e24c9ef7469674857f6fb70cad4811bdbd36bac3188d785bdbc85920a",
    ),
    ("pooled", "hunter_farmer", 2): (
        "0b483741383a4f87c96aa239310fa22156f86f24e362fcbd5ea8c866531ad230",
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
