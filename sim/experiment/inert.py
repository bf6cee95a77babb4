"""Which stresses changed nothing: a stress whose every run is its unshocked partner, number for number (or,
repeating another, that stress's run).

A rollout of the model a policy is, or a shock that touches nothing in this
world (a hiring freeze with no vacancy), leaves the runs as they were: such
a stress is no comparison of its own, and for a policy it leaves untouched
no rollout plan to choose. Pure functions of the stored results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.experiment.suite import UNSHOCKED


def _with_setting(tagged: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """``tagged`` with ``setting``: the design point's factor values as one text (an experiment file may vary
    factors beside its suite), which pairs each stressed run with the unshocked run of the same settings."""
    factors = [c for c in points.columns if c not in ("point", "block", "row", "shock")]
    setting = points.set_index("point")[factors].astype(str).agg("|".join, axis=1) if factors else None
    return tagged.assign(setting=tagged["point"].map(setting) if setting is not None else "")


#: The columns that name one value of a run, the stress aside.
_KEY = ["setting", "policy", "replication", "quarter", "segment", "metric"]


def same_runs(tagged: pd.DataFrame, points: pd.DataFrame, last: list[str] | None = None) -> dict[str, str]:
    """Each stress whose every run is, number for number, the run of an earlier stress of the suite (not the
    unshocked run: :func:`inert_stresses`), mapped to that stress: in this world the two are one shock (10% and
    20% of a team of 7 both round to one seat), and one world counted twice in the regret (a trial's "best under
    8 of 11"). The stresses of ``last`` count as later than the others (a rollout with quits is the quits alone
    for the model in force, not the other way round)."""
    tagged = _with_setting(tagged, points)
    seen: dict[int, str] = {}
    out = {}
    groups = dict(list(tagged[tagged.shock != UNSHOCKED].groupby("shock", sort=False)))
    later = set(last or ())
    for shock in sorted(groups, key=lambda s: s in later):  # stable: the suite's order otherwise
        ordered = groups[shock].sort_values(_KEY)
        digest = int(pd.util.hash_pandas_object(ordered[[*_KEY, "value"]], index=False).sum())
        if digest in seen and _equal(ordered, groups[seen[digest]].sort_values(_KEY)):
            out[str(shock)] = seen[digest]
        else:
            seen.setdefault(digest, str(shock))
    return out


def _equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two stresses' runs, sorted by :data:`_KEY`, hold the same values (a hash's match, confirmed)."""
    if len(a) != len(b) or not (a[_KEY].to_numpy() == b[_KEY].to_numpy()).all():
        return False
    x, y = a["value"].to_numpy(dtype=float), b["value"].to_numpy(dtype=float)
    return bool(((x == y) | (np.isnan(x) & np.isnan(y))).all())


def inert_stresses(tagged: pd.DataFrame, points: pd.DataFrame) -> list[str]:
    """The stresses whose every run is its unshocked partner, number for number: the shock changed nothing
    in this world. ``tagged``: tidy results with ``shock``; ``points``: the design, whose factor columns (an
    experiment file may vary factors beside its suite) pair each stressed run with the unshocked run of the
    same settings."""
    tagged = _with_setting(tagged, points)
    base = tagged[tagged.shock == UNSHOCKED].set_index(_KEY)["value"]
    inert = []
    for shock, g in tagged[tagged.shock != UNSHOCKED].groupby("shock", sort=False):
        v = g.set_index(_KEY)["value"]
        b = base.reindex(v.index)
        if len(v) and bool(((v == b) | (v.isna() & b.isna())).all()):
            inert.append(str(shock))
    return inert


def inert_by_policy(tagged: pd.DataFrame, points: pd.DataFrame) -> dict[str, list[str]]:
    """Per policy, the stresses none of whose runs of it the shock changed (:func:`inert_stresses` of its runs):
    a rollout of the model it is, say, which other policies' runs it moves."""
    return {str(policy): inert_stresses(g, points) for policy, g in tagged.groupby("policy", sort=False)}


def inert_of_all(tagged: pd.DataFrame, inert: dict[str, list[str]]) -> list[str]:
    """The stresses that changed none of the runs, from each policy's (:func:`inert_by_policy`): those run by some
    policy and inert for every policy that ran them (as :func:`inert_stresses` of all runs, in one pass)."""
    ran = tagged.groupby("policy", sort=False).shock.unique()
    stresses = [str(s) for s in tagged.shock.unique() if s != UNSHOCKED]
    return [s for s in stresses if all(s in inert[str(p)] for p, shocks in ran.items() if s in set(shocks))]


def in_force(tagged: pd.DataFrame, inert: dict[str, list[str]], rollouts: list[str]) -> list[str]:
    """The policies none of whose runs the ``rollouts`` stresses changed, number for number (``inert``:
    :func:`inert_by_policy`): each is the model those rollouts start from (a rollout of the model in force is no
    rollout, ``sim.policies.rollout.in_force``; another model would differ in the quarters before the rollout at
    least)."""
    out = []
    for policy, g in tagged.groupby("policy", sort=False):
        ran = set(rollouts) & set(g.shock)
        if ran and ran <= set(inert[str(policy)]):
            out.append(str(policy))
    return out


#: Why a stress whose shocks are all of one kind can change nothing in a world, by that kind.
INERT_REASONS = {
    "rep_attrition": "a share of a small team can round to no seat, and its role or region may have none filled",
    "hiring_freeze": "no seat fell vacant to be filled in its quarters, so the freeze held no hire back",
    "realignment": "it moves accounts that have an owner, and there were none, or too few for its share to round to one",
}


def why_inert(kinds: list[str]) -> str:
    """Why a stress of shocks of these ``kinds`` may have changed nothing, in words."""
    reasons = {INERT_REASONS.get(k) for k in kinds}
    return str(reasons.pop()) if len(reasons) == 1 and None not in reasons else "its shocks found nothing to change"
