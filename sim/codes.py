"""Codes held in arrays: every enumeration the engine, metrics and policies share.

Arrays hold a code's integer; code compares against its name
(``status == Status.CUSTOMER``), never a bare integer. The names tuples give
each code's name in tables and files, in code order.

The codes are plain ``int`` class attributes rather than ``enum.IntEnum``
members: numpy compares an array with an ``IntEnum`` member about five times
slower than with an ``int`` (some 9 microseconds a call, measured here), and
the engine makes about a hundred such comparisons a week.
"""

from __future__ import annotations

from typing import ClassVar


class Codes:
    """A set of named integer codes, 0, 1, 2, ... (subclasses declare them as upper-case ``int`` attributes)."""

    _names: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        codes = {k: v for k, v in vars(cls).items() if k.isupper() and isinstance(v, int)}
        if sorted(codes.values()) != list(range(len(codes))):
            raise TypeError(f"{cls.__name__}: codes must be 0, 1, 2, ... without gaps")
        cls._names = tuple(k.lower() for k, _ in sorted(codes.items(), key=lambda kv: kv[1]))

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The lower-case names in code order (``Kind.names()`` -> ``("new_logo", "expansion", "renewal")``)."""
        return cls._names


class Status(Codes):
    """Lifecycle status of an account."""

    PROSPECT = 0
    CUSTOMER = 1
    CHURNED = 2


class Kind(Codes):
    """Kind of opportunity."""

    NEW_LOGO = 0
    EXPANSION = 1
    RENEWAL = 2


class Service(Codes):
    """Service level of an account in a coverage plan."""

    DIGITAL = 0  # no rep time: the self-service channel
    POOLED = 1  # a shared queue of reps
    HIGH_TOUCH = 2  # a named owner with a planned cadence


class Stage(Codes):
    """Stage of an open opportunity."""

    AWAITING_RESPONSE = 0
    IN_WORK = 1


class Cause(Codes):
    """Why an opportunity was missed: exactly one cause each."""

    NO_OWNER = 0
    OWNER_AT_CAPACITY = 1
    VACANCY = 2
    SLA_EXPIRED = 3
    STALLED = 4
    QUEUE_WAIT = 5  # waited in a pool's shared queue and no rep of the pool took it in time


class TaskKind(Codes):
    """Kind of a candidate task in a rep's week."""

    RESPONSE = 0  # first response to an opportunity
    WORK = 1  # effort on a responded opportunity
    TOUCH = 2  # a planned touch of an owned account


class Activity(Codes):
    """What rep hours are recorded as."""

    RESPONSE = 0
    WORK = 1
    VISIT = 2
    CALL = 3
    TRAVEL = 4


class Draw(Codes):
    """Purposes of keyed random draws (see ``sim.randomness.keyed_uniform``): an opportunity's, a
    contract's at its renewal date (``UNATTENDED_RENEWAL``), an account's place in the order a
    rollout moves accounts (``ROLLOUT``), a realignment's own generator (``REALIGNMENT``), and a seat's
    (``sim.reps``, keyed by the team's own key): its home base and first holder's skill (``SEAT_X``,
    ``SEAT_Y``, ``SKILL``: normals), each week whether its holder leaves and a new holder's skill (``LEAVE``,
    ``NEW_SKILL``), and its place in the order an attrition shock vacates seats (``SHOCK_LEAVE``); and how many
    opportunities an account that has one this week has (``ARRIVALS``)."""

    DAY = 0
    CAPTURE = 1
    WIN = 2
    VALUE = 3
    DEAL = 4
    UNATTENDED_RENEWAL = 5
    LINE = 6
    ROLLOUT = 7
    REALIGNMENT = 8
    SEAT_X = 9
    SEAT_Y = 10
    SKILL = 11
    LEAVE = 12
    NEW_SKILL = 13
    SHOCK_LEAVE = 14
    ARRIVALS = 15


#: ``line`` of a renewal: it covers the whole contract, every product line.
WHOLE_CONTRACT = -1


OPPORTUNITY_KINDS = Kind.names()
CAUSES = Cause.names()
ACTIVITIES = Activity.names()
SERVICES = Service.names()

#: Where a plan puts an account at each service level, in words (the ``accounts_<service>`` metrics).
SERVICE_MEANINGS = {
    "digital": "left to the digital channel",
    "pooled": "in a shared queue of reps",
    "high_touch": "in a named rep's book",
}

#: What each miss cause means, in a line (docs/metrics.md says each precisely).
CAUSE_MEANINGS = {
    "no_owner": "unanswered, routed to nobody",
    "owner_at_capacity": "unanswered, its rep's hours ran out on work of higher priority",
    "vacancy": "unanswered, routed to a seat whose rep had left",
    "sla_expired": "answered after its response window, or declined by its rep",
    "stalled": "answered in time, but its effort was not delivered before its deadline",
    "queue_wait": "unanswered, left in a shared queue no rep of its pool reached",
}

#: Rep roles; seats hold them as names.
ROLES = ("hunter", "farmer", "full_cycle", "sdr", "inside", "specialist", "partner")
#: ``ROLES``' index of a channel partner (``SeatWeek.role_index``: a compare of small integers, not of names).
PARTNER = ROLES.index("partner")
#: Roles that meet customers in person (visits cost travel); the others work by phone.
FIELD_ROLES = frozenset({"hunter", "farmer", "full_cycle", "specialist", "partner"})
#: Roles that may work an opportunity to a close; an SDR qualifies and hands off.
CLOSING_ROLES = frozenset(set(ROLES) - {"sdr"})
