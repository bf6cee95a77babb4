"""Codes held in arrays: names in code order, plain integers, no gaps."""

from __future__ import annotations

import pytest

from sim.codes import CAUSES, OPPORTUNITY_KINDS, Cause, Codes, Kind, Status


def test_names_follow_the_codes():
    assert OPPORTUNITY_KINDS == ("new_logo", "expansion", "renewal")
    assert CAUSES[Cause.STALLED] == "stalled" and CAUSES.index("no_owner") == Cause.NO_OWNER
    assert Status.names() == ("prospect", "customer", "churned")


def test_codes_are_plain_integers():
    # numpy compares arrays with a plain int several times faster than with an IntEnum member.
    assert type(Kind.RENEWAL) is int


def test_a_set_of_codes_with_a_gap_is_refused():
    with pytest.raises(TypeError, match="without gaps"):

        class Broken(Codes):
            FIRST = 0
            THIRD = 2
