"""Codes held in arrays: every enumeration the engine, metrics and policies share.

Arrays hold the integer value of an ``IntEnum`` member; code compares against
the member (``status == Status.CUSTOMER``), never a bare integer. The names
tuples give each code's name in tables and files, in code order.
"""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    """Lifecycle status of an account."""

    PROSPECT = 0
    CUSTOMER = 1
    CHURNED = 2


class Kind(IntEnum):
    """Kind of opportunity."""

    NEW_LOGO = 0
    EXPANSION = 1
    RENEWAL = 2


class Service(IntEnum):
    """Service level of an account in a coverage plan."""

    DIGITAL = 0  # no rep time: the self-service channel
    POOLED = 1  # a shared queue of reps
    HIGH_TOUCH = 2  # a named owner with a planned cadence


class Stage(IntEnum):
    """Stage of an open opportunity."""

    AWAITING_RESPONSE = 0
    IN_WORK = 1


class Cause(IntEnum):
    """Why an opportunity was missed: exactly one cause each."""

    NO_OWNER = 0
    OWNER_AT_CAPACITY = 1
    VACANCY = 2
    SLA_EXPIRED = 3
    STALLED = 4


class TaskKind(IntEnum):
    """Kind of a candidate task in a rep's week."""

    RESPONSE = 0  # first response to an opportunity
    WORK = 1  # effort on a responded opportunity
    TOUCH = 2  # a planned touch of an owned account


class Activity(IntEnum):
    """What rep hours are recorded as."""

    RESPONSE = 0
    WORK = 1
    VISIT = 2
    CALL = 3
    TRAVEL = 4


class Draw(IntEnum):
    """Purposes of an opportunity's keyed random draws (see ``sim.randomness.keyed_uniform``)."""

    KIND = 0
    DAY = 1
    CAPTURE = 2
    WIN = 3
    VALUE = 4
    RENEWAL_CHURN = 5


def names(codes: type[IntEnum]) -> tuple[str, ...]:
    """The lower-case names of an enumeration, in code order (``Kind`` -> ``("new_logo", ...)``)."""
    return tuple(m.name.lower() for m in sorted(codes))


STATUS_NAMES = names(Status)
OPPORTUNITY_KINDS = names(Kind)
SERVICE_LEVELS = names(Service)
CAUSES = names(Cause)
TASK_KINDS = names(TaskKind)
ACTIVITIES = names(Activity)

#: Rep roles; seats hold them as names.
ROLES = ("hunter", "farmer", "full_cycle", "sdr", "inside", "specialist", "partner")
#: Roles that meet customers in person (visits cost travel); the others work by phone.
FIELD_ROLES = frozenset({"hunter", "farmer", "full_cycle", "specialist", "partner"})
#: Roles that may work an opportunity to a close; an SDR qualifies and hands off.
CLOSING_ROLES = frozenset(set(ROLES) - {"sdr"})
