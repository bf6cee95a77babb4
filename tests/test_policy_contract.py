"""The public policy contract: every built-in passes it, and it catches broken policies."""

from __future__ import annotations

import numpy as np
import pytest

from examples.nearest_rep import NearestRep
from sim.errors import InputError
from sim.policies import BUILT_IN, make_policy, policy_class
from sim.policies.contract import check_policy
from sim.policies.protocol import Policy
from sim.policies.rules import empty_plan


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_built_in_policies_keep_the_contract(name):
    assert check_policy(BUILT_IN[name]) == []


def test_example_user_policy_keeps_the_contract():
    assert check_policy(NearestRep) == []


class Nobody(Policy):
    """Valid but useless: nobody owns or answers anything."""

    name = "nobody"

    def plan(self, view, rng):
        return empty_plan(view.accounts.size)

    def route(self, view, rng):
        return np.full(view.pending.size, -1)

    def prioritise(self, view, rng):
        return np.ones(view.tasks.size)


class WrongShape(Nobody):
    def route(self, view, rng):
        return np.full(view.pending.size + 1, -1)


class BadSeat(Nobody):
    def route(self, view, rng):
        return np.full(view.pending.size, view.team.size + 5)


class SdrCloses(Nobody):
    def route(self, view, rng):
        sdr = np.flatnonzero(view.team.role == "sdr")
        return np.full(view.pending.size, sdr[0])


class Mutates(Nobody):
    def plan(self, view, rng):
        potential = view.accounts.potential
        potential.flags.writeable = True  # works around the read-only view on purpose
        potential *= 2
        return super().plan(view, rng)


class WritesReadOnly(Nobody):
    def prioritise(self, view, rng):
        view.tasks.cost[:] = 0
        return np.ones(view.tasks.size)


class UsesGlobalRandom(Nobody):
    def route(self, view, rng):
        closers = np.flatnonzero(view.team.can_close)
        return np.random.default_rng().choice(closers, size=view.pending.size)


def test_a_useless_but_valid_policy_passes():
    assert check_policy(Nobody) == []


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (WrongShape, "route() returned shape"),
        (BadSeat, "seat outside"),
        (SdrCloses, "cannot close"),
        (Mutates, "plan() changed its view: accounts.potential"),
        (WritesReadOnly, "read-only"),
        (UsesGlobalRandom, "not deterministic"),
    ],
)
def test_contract_catches_broken_policies(cls, expected):
    problems = check_policy(cls)
    assert any(expected in p for p in problems), problems


def test_user_policy_by_import_path_and_unknown_names():
    assert policy_class("examples.nearest_rep:NearestRep") is NearestRep
    with pytest.raises(InputError, match="unknown policy 'nope'"):
        policy_class("nope")
    with pytest.raises(InputError, match="cannot import 'no_such_module'"):
        policy_class("no_such_module:X")
    with pytest.raises(InputError, match="not a subclass"):
        policy_class("sim.scenario:Scenario")


def test_policy_parameters_are_validated_and_shown():
    p = make_policy("segment_tiers", {"accounts_per_rep": 25})
    assert "accounts_per_rep=25" in repr(p)
    with pytest.raises(InputError) as e:
        make_policy("segment_tiers", {"accounts_per_rep": "25", "colour": "red"})
    assert e.value.problems == [
        "policy.params.accounts_per_rep: Input should be a valid integer",
        "policy.params.colour: unknown parameter",
    ]
