"""The coverage-policy protocol: what a policy sees, decides and returns.

A policy makes three decisions; the engine does everything else (enforces
capacity, applies work, records outcomes):

1. ``plan`` at each quarter boundary: who owns each account (a seat or -1),
   at which service level, with how many planned touches per quarter.
2. ``route`` each week: which seat answers each opportunity that has no
   handler yet (-1: nobody this week), or which pool's shared queue it waits
   in (``queue(pool)``: the next rep of the pool with free time answers it).
   Called again every week until answered.
3. ``prioritise`` each week: a priority per candidate task. Each seat works its
   tasks in descending priority until its hours run out; a task with priority
   <= 0 (or NaN) is declined.

Views hold read-only arrays: a policy that writes to one fails at once. A
policy draws randomness only from the generator it is given. Codes in the
arrays (status, kind, stage, service level, task kind) are the enumerations of
``sim.codes``. What a policy returns is checked here (``checked_plan``,
``checked_route``, ``checked_priority``) before the engine uses it.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import tomli_w

from sim.codes import Service, Stage
from sim.compiled import compiled
from sim.distinct import distinct
from sim.errors import InputError, PolicyError
from sim.policies.views import (
    Accounts,
    CoveragePlan,
    Opportunities,
    Pending,
    PlanView,
    RouteView,
    Selling,
    Tasks,
    TaskView,
    TeamView,
    pool_of,
    queue,
    read_only,
)
from sim.strict import FieldInfo, Strict, ValidationError

if TYPE_CHECKING:
    from sim.scenario import Scenario

#: The policy API: import what a policy sees and returns from here.
__all__ = [
    "Accounts",
    "CoveragePlan",
    "NoParams",
    "Opportunities",
    "Pending",
    "PlanView",
    "Policy",
    "RouteView",
    "Selling",
    "TaskView",
    "Tasks",
    "TeamView",
    "checked_plan",
    "checked_priority",
    "checked_route",
    "checked_touches",
    "pool_of",
    "queue",
    "read_only",
    "read_only_plan",
]


class NoParams(Strict):
    """A policy without parameters."""


class Policy:
    """Base class of coverage policies (built-in and user-defined).

    Subclasses set ``name``, a ``Params`` model (a :class:`sim.strict.Strict`:
    strict, frozen, unknown keys refused) and implement ``plan``, ``route``
    and ``prioritise``. Parameters are validated once, at construction, and
    shown in ``repr``.
    """

    name: ClassVar[str] = "policy"
    Params: ClassVar[type[Strict]] = NoParams

    params: Strict

    def __init__(self, **params: Any) -> None:
        self.params = self.Params(**params)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.model_dump().items())
        return f"{type(self).__name__}({args})"

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        raise NotImplementedError

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def touches(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        """Accounts whose owner is offered a touch this week beyond any cadence (default: none).

        Each week, after ``route``: account indices. An offered account whose
        owner is in its seat gets a touch task, which ``prioritise`` scores like
        any other, so a policy can choose touches where they pay (a value-based
        plan) instead of promising a cadence and declining touches.
        """
        return _NO_ACCOUNTS

    def problems(self, scenario: Scenario) -> list[str]:
        """What in the parameters names nothing in ``scenario`` (a segment it lacks, say), one line each
        as ``parameter: message``; checked before any run (default: nothing)."""
        return []

    @classmethod
    def from_config(cls, params: dict[str, Any], where: str = "policy.params") -> Policy:
        """Build from scenario or command-line parameters, or raise InputError.

        A parameter the policy's ``Params`` does not declare is refused here,
        with the closest declared name: a mistyped ``--param`` must not be
        ignored silently.
        """
        known = list(cls.parameters())
        problems = []
        try:
            policy = cls(**{k: v for k, v in params.items() if k in known})
        except ValidationError as e:
            problems += [f"{param_at(where, '.'.join(map(str, err['loc'])))}: {err['msg']}" for err in e.errors()]
        except Exception as e:  # a user's constructor: its fault, named, not covsim's
            problems.append(f"{where}: building policy {cls.name!r} raised {type(e).__name__}: {e}")
        problems += [
            f"{param_at(where, k)}: unknown parameter{did_you_mean(k, known)}" for k in params if k not in known
        ]
        if problems:
            raise InputError(problems)
        return policy

    @classmethod
    def parameters(cls) -> dict[str, FieldInfo]:
        """The parameters by name, with their defaults and constraints."""
        return cls.Params.model_fields

    @classmethod
    def describe(cls) -> str:
        """First paragraph of the docstring and the parameters with defaults, written as a scenario's
        ``[policy.params]`` and ``--param`` take them (``true``, ``"keep"``)."""
        doc = inspect.getdoc(cls) or ""
        lines = [f"{cls.name}: {doc.split(chr(10) + chr(10))[0]}"]
        for field, info in cls.parameters().items():
            lines.append(f"    {tomli_w.dumps({field: info.default}).strip()}  {info.description or ''}".rstrip())
        return "\n".join(lines)


def ask(policy: Policy, method: str, view: Any, rng: np.random.Generator) -> Any:
    """``policy.<method>(view, rng)``; whatever the policy raises, or a ``sys.exit`` in it, as a PolicyError
    naming the policy and the method (the engine adds the quarter and week)."""
    try:
        return getattr(policy, method)(view, rng)
    except PolicyError:
        raise
    except (Exception, SystemExit) as e:
        raise PolicyError(f"policy {policy.name}: {method}() raised {type(e).__name__}: {e}") from e


def param_at(where: str, key: str) -> str:
    """Where parameter ``key`` is given: in a table (``policy.params``: ``policy.params.KEY``), or on the
    command line (``--param``: ``--param KEY``, as the option is typed)."""
    return f"{where} {key}" if where == "--param" else f"{where}.{key}"


def did_you_mean(name: str, known: list[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the known name closest to a mistyped ``name``, or "" if none is within
    ``cutoff`` (difflib's similarity ratio)."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


def read_only_plan(plan: CoveragePlan) -> CoveragePlan:
    """The checked ``plan`` with every array read-only (the plan in force, as policies see it)."""
    assert plan.warm is not None and plan.seat_pool is not None  # checked_plan fills them in
    arrays = {f.name: getattr(plan, f.name) for f in dataclasses.fields(plan)}
    return dataclasses.replace(plan, **{k: read_only(a) for k, a in arrays.items() if a is not None})


def checked_plan(plan: object, accounts: int, seats: int, policy: str, lines: int = 1) -> CoveragePlan:
    """The plan a policy returned, as owned arrays of the engine's dtypes, or PolicyError naming what is wrong."""
    if not isinstance(plan, CoveragePlan):
        raise PolicyError(f"policy {policy}: plan() must return a CoveragePlan, got {type(plan).__name__}")
    out = {}
    if plan.warm is None:
        plan = dataclasses.replace(plan, warm=np.zeros(accounts, dtype=bool))
    pools = np.full(seats, -1) if plan.seat_pool is None else np.asarray(plan.seat_pool)
    if pools.shape != (seats,):
        raise PolicyError(f"policy {policy}: plan.seat_pool has shape {pools.shape}, expected ({seats},): one per seat")
    if pools.size and (not np.issubdtype(pools.dtype, np.integer) or pools.min() < -1):
        raise PolicyError(f"policy {policy}: plan.seat_pool must hold pool numbers 0, 1, ... or -1 (none)")
    # Each field's kind is checked before it is cast: a cast would truncate a float owner (2.7 -> seat 2) or
    # wrap a service level (257 -> 1, pooled) into something valid, and the fault would change results unseen.
    fields = (
        ("owner", np.int64, "integer seat indices"),
        ("service", np.int8, "integer service levels"),
        ("cadence", np.float64, "numbers"),
        ("coordinated", bool, "booleans"),
        ("warm", bool, "booleans"),
    )
    for field, dtype, kind in fields:
        a = np.asarray(getattr(plan, field))
        if a.shape != (accounts,):
            raise PolicyError(f"policy {policy}: plan.{field} has shape {a.shape}, expected ({accounts},)")
        if a.size and not _of_kind(a, dtype):
            raise PolicyError(f"policy {policy}: plan.{field} must hold {kind}, got dtype {a.dtype}")
        if field == "owner" and (a.min(initial=0) < -1 or a.max(initial=-1) >= seats):
            raise PolicyError(f"policy {policy}: plan.owner holds a seat outside -1..{seats - 1}")
        if field == "service" and not ((a >= 0) & (a < len(Service.names()))).all():
            raise PolicyError(f"policy {policy}: plan.service must be 0 (digital), 1 (pooled) or 2 (high touch)")
        out[field] = a.astype(dtype, copy=True)
    if not (np.isfinite(out["cadence"]).all() and (out["cadence"] >= 0).all()):
        raise PolicyError(f"policy {policy}: plan.cadence must be finite and >= 0")
    overlay = _checked_overlay(plan, accounts, seats, lines, policy)
    team = out["owner"] >= 0
    if overlay["specialist"] is not None:
        for column in overlay["specialist"].T:  # a line at a time: any(axis=1) over 3 lines took 1.2 ms at 100k
            team |= column >= 0
    if (out["coordinated"] & ~team).any():
        raise PolicyError(
            f"policy {policy}: plan.coordinated marks accounts with no owner and no specialist: coordination is "
            "an account plan of the reps who cover the account"
        )
    return CoveragePlan(**out, seat_pool=pools.astype(np.int64, copy=True), **overlay)


def _of_kind(a: np.ndarray, dtype: Any) -> bool:
    """Whether ``a`` holds what a field of ``dtype`` takes: integers for integers, booleans for booleans,
    and real numbers (integers or floats; not booleans, not complex) for floats."""
    if dtype is bool:
        return a.dtype == np.bool_
    if np.issubdtype(np.dtype(dtype), np.integer):
        return bool(np.issubdtype(a.dtype, np.integer))
    return bool(np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer))


def _checked_overlay(plan: CoveragePlan, accounts: int, seats: int, lines: int, policy: str) -> dict[str, Any]:
    """The plan's specialists and their cadence as owned arrays (None: no overlay), or PolicyError."""
    if plan.specialist is None:
        if plan.specialist_cadence is not None:
            raise PolicyError(f"policy {policy}: plan.specialist_cadence is given without plan.specialist")
        return {"specialist": None, "specialist_cadence": None}
    shape = (accounts, lines)
    seat = np.asarray(plan.specialist)
    if seat.shape != shape or (seat.size and not np.issubdtype(seat.dtype, np.integer)):
        raise PolicyError(f"policy {policy}: plan.specialist must be seats of shape {shape} (accounts x lines)")
    if seat.min(initial=0) < -1 or seat.max(initial=-1) >= seats:
        raise PolicyError(f"policy {policy}: plan.specialist holds a seat outside -1..{seats - 1}")
    cadence = np.zeros(shape) if plan.specialist_cadence is None else np.asarray(plan.specialist_cadence, float)
    if cadence.shape != shape or not (np.isfinite(cadence).all() and (cadence >= 0).all()):
        raise PolicyError(f"policy {policy}: plan.specialist_cadence must be finite, >= 0, of shape {shape}")
    return {"specialist": seat.astype(np.int64, copy=True), "specialist_cadence": cadence.astype(np.float64)}


def _vector(a: object, n: int, what: str, policy: str, integer: bool) -> np.ndarray:
    arr = np.asarray(a)
    if arr.shape != (n,):
        raise PolicyError(f"policy {policy}: {what}() returned shape {arr.shape}, expected ({n},)")
    if integer and arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise PolicyError(f"policy {policy}: {what}() must return integer seat indices")
    return arr.astype(np.int64 if integer else np.float64)


def checked_route(
    handlers: object, pending: Pending, team: TeamView, seat_pool: np.ndarray | None, policy: str
) -> np.ndarray:
    """The seats (or queues) a policy routed the pending opportunities to, or PolicyError.

    Each is a seat, -1, or the queue of a pool that the plan gave seats
    (``seat_pool``); only a first response waits in a queue, and a deal that
    needs a closer (responded) goes to a seat that can close.
    """
    h = _vector(handlers, pending.size, "route", policy, integer=True)
    # A copy (writable, as the other is): a read-only one would compile the check once more.
    pools = np.full(team.size, -1, dtype=np.int64) if seat_pool is None else np.array(seat_pool, dtype=np.int64)
    # Every check in one compiled pass (``_route_fault``): numpy's some thirty calls a week were a third of
    # routing's time. The first fault found, in the order written there, is the one named.
    fault, pool = compiled(_route_fault)(
        h, team.size, pending.stage, pending.line, pending.kind, pools, team.can_close, team.lane_lines, team.lane_kinds
    )
    if fault:
        raise PolicyError(f"policy {policy}: route() " + _ROUTE_FAULTS[fault].format(pool=pool, last=team.size - 1))
    return h


_ROUTE_FAULTS = {
    1: "returned a seat outside -1..{last}",
    2: "put an opportunity in the queue of pool {pool}, which no seat answers (plan.seat_pool)",
    3: "put a responded deal in a queue; a closer is a seat",
    4: "queued for pool {pool} a lead that a seat of the pool is not paid on (its lane): a pool's reps answer "
    "whatever its queue holds",
    5: "gave a deal to a seat that cannot close (an SDR)",
}
_AWAITING = int(Stage.AWAITING_RESPONSE)
_IN_WORK = int(Stage.IN_WORK)


def _route_fault(
    h: np.ndarray,
    seats: int,
    stage: np.ndarray,
    line: np.ndarray,
    kind: np.ndarray,
    seat_pool: np.ndarray,
    can_close: np.ndarray,
    lane_lines: np.ndarray,
    lane_kinds: np.ndarray,
) -> tuple[int, int]:
    """The first fault of a route (a key of ``_ROUTE_FAULTS``, 0: none) and the pool it names. Compiled by
    numba (``sim.compiled``).

    In order: a seat past the team (1); a queue of a pool no seat answers (2, naming the highest pool
    queued); a responded deal in a queue (3); a lead queued for a pool a seat of which is not paid on its
    (line, kind) (4, naming the lowest such pool: whoever of a pool is free takes its queue's head); a deal
    needing a closer given to a seat that cannot close (5). Line -1 (a renewal) is the last column of
    ``lane_lines``.
    """
    n_pools = 0
    for s in range(seat_pool.size):
        n_pools = max(n_pools, seat_pool[s] + 1)
    highest, queued = -1, False
    for i in range(h.size):
        if h[i] >= seats:
            return 1, -1
        if h[i] <= -2:
            queued = True
            highest = max(highest, -2 - h[i])
    if not queued:
        for i in range(h.size):
            if stage[i] == _IN_WORK and h[i] >= 0 and not can_close[h[i]]:
                return 5, -1
        return 0, -1
    answered = np.zeros(max(n_pools, highest + 1), dtype=np.bool_)
    for s in range(seat_pool.size):
        if seat_pool[s] >= 0:
            answered[seat_pool[s]] = True
    for i in range(h.size):
        if h[i] <= -2 and not answered[-2 - h[i]]:
            return 2, highest
    for i in range(h.size):
        if h[i] <= -2 and stage[i] != _AWAITING:
            return 3, -1
    # What every seat of each pool is paid on: (pool, line + 1 with renewals last) and (pool, kind).
    lines, kinds = lane_lines.shape[1], lane_kinds.shape[1]
    paid_line = np.ones((n_pools, lines), dtype=np.bool_)
    paid_kind = np.ones((n_pools, kinds), dtype=np.bool_)
    for s in range(seat_pool.size):
        p = seat_pool[s]
        if p >= 0:
            for q in range(lines):
                paid_line[p, q] = paid_line[p, q] and lane_lines[s, q]
            for q in range(kinds):
                paid_kind[p, q] = paid_kind[p, q] and lane_kinds[s, q]
    unpaid = -1
    for i in range(h.size):
        if h[i] <= -2:
            p = -2 - h[i]
            ln = line[i] if line[i] >= 0 else lines - 1
            if not (paid_line[p, ln] and paid_kind[p, kind[i]]) and (unpaid < 0 or p < unpaid):
                unpaid = p
    if unpaid >= 0:
        return 4, unpaid
    for i in range(h.size):
        if stage[i] == _IN_WORK and h[i] >= 0 and not can_close[h[i]]:
            return 5, -1
    return 0, -1


def checked_touches(accounts: object, n: int, policy: str) -> np.ndarray:
    """The accounts a policy offered a touch (``Policy.touches``), unique and sorted, or PolicyError."""
    a = np.asarray(accounts)
    if a.size == 0:
        return _NO_ACCOUNTS
    if a.ndim != 1 or not np.issubdtype(a.dtype, np.integer):
        raise PolicyError(f"policy {policy}: touches() must return a 1-d array of account indices")
    if a.min() < 0 or a.max() >= n:
        raise PolicyError(f"policy {policy}: touches() returned an account outside 0..{n - 1}")
    return distinct(a.astype(np.int64))


_NO_ACCOUNTS = read_only(np.empty(0, dtype=np.int64))


def checked_priority(priority: object, tasks: Tasks, policy: str) -> np.ndarray:
    """One priority per task, as floats, or PolicyError."""
    return _vector(priority, tasks.size, "prioritise", policy, integer=False)
