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
   <= 0 is declined (NaN is refused).

Views hold read-only arrays: a policy that writes to one fails at once. A
policy draws randomness only from the generator it is given. Codes in the
arrays (status, kind, stage, service level, task kind) are the enumerations of
``sim.codes``. What a policy returns is checked before the engine uses it:
here (``checked_route``, ``checked_priority``), the plan in
``sim.policies.plan_check`` (``checked_plan``) and the touches offered in
``sim.policies.touch_check`` (``checked_touches``, ``checked_specialist_touches``),
each imported from here too.
"""

from __future__ import annotations

import inspect
import re
import typing
import weakref
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import tomli_w

from sim.codes import Stage
from sim.compiled import compiled
from sim.errors import InputError, PolicyError, interrupted, raised
from sim.policies.hints import did_you_mean, mistake_hint, raised_at
from sim.policies.plan_check import checked_plan, read_only_plan
from sim.policies.touch_check import NO_ACCOUNTS, checked_specialist_touches, checked_touches, what_returned
from sim.policies.views import (
    NO_CONTRACT,
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
    "NO_CONTRACT",
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
    "checked_specialist_touches",
    "checked_touches",
    "pool_of",
    "queue",
    "read_only",
    "read_only_plan",
]


#: What ``specialist_touches`` offers by default: nothing (``touches``': ``NO_ACCOUNTS``).
_NO_CELLS = read_only(np.empty((0, 2), dtype=np.int64))


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
        defaults_checked(self.Params)
        self.params = self.Params(**params)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.model_dump().items())
        return f"{type(self).__name__}({args})"

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        raise NotImplementedError

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        """One priority per task of ``view.tasks``: each rep takes its highest first. 0 or less (-inf too)
        declines a task; NaN and +inf are refused, as what arithmetic gives by mistake."""
        raise NotImplementedError

    def touches(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        """Accounts whose owner is offered a touch this week beyond any cadence (default: none).

        Each week, after ``route``: account indices. An offered account whose
        owner is in its seat gets a touch task, which ``prioritise`` scores like
        any other, so a policy can choose touches where they pay (a value-based
        plan) instead of promising a cadence and declining touches.
        """
        return NO_ACCOUNTS

    def specialist_touches(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        """(account, line) cells whose specialist is offered a touch this week beyond its cadence (default: none).

        Each week, after ``touches``: an integer array of shape (k, 2), one row
        (account, product line) per cell, each with a specialist in the plan
        (``view.plan.specialist[account, line] >= 0``). As ``touches`` for the
        owners, the touch is a task ``prioritise`` scores like any other.
        """
        return _NO_CELLS

    def problems(self, scenario: Scenario) -> list[str]:
        """What in the parameters names nothing in ``scenario`` (a segment it lacks, say), one line each
        as ``parameter: message``; checked before any run (default: nothing)."""
        return []

    def notes(self, scenario: Scenario) -> list[str]:
        """What the parameters make of ``scenario`` that a reader would otherwise have to work out (how many
        seats a share makes, say), one line each; said with a run's results (default: nothing)."""
        return []

    @classmethod
    def from_config(cls, params: dict[str, Any], where: str = "policy.params", named: str | None = None) -> Policy:
        """Build from scenario or command-line parameters, or raise InputError.

        A parameter the policy's ``Params`` does not declare is refused here,
        with the closest declared name: a mistyped ``--param`` must not be
        ignored silently. ``where`` names where the parameters were given;
        ``named``, where the policy was (a constructor that raises is said
        there; default: ``where``).
        """
        built = f"{named or where}: building policy {policy_label(cls)!r}"
        known = list(cls.parameters())
        problems = []
        try:
            defaults_checked(cls.Params)
        except ValidationError as e:  # the class's fault, not the parameters given (policy_class says so first)
            raise InputError(defaults_faults(f"{where}: policy {policy_label(cls)!r}", e)) from None
        try:
            policy = cls(**{k: v for k, v in params.items() if k in known})
        except ValidationError as e:
            problems += [f"{param_at(where, '.'.join(map(str, err['loc'])))}: {err['msg']}" for err in e.errors()]
        except Exception as e:  # a user's constructor: its fault, named, not covsim's
            if interrupted(e):
                raise KeyboardInterrupt from e
            problems.append(f"{built} raised {raised(e)}")
        problems += [
            f"{param_at(where, k)}: unknown parameter{did_you_mean(k, known)}" for k in params if k not in known
        ]
        if not problems and not isinstance(getattr(policy, "params", None), cls.Params):
            problems.append(f"{built}: {NO_PARAMS}")
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
        ``[policy.params]`` and ``--param`` take them (``true``, ``"keep"``), each with its bounds."""
        lines = [f"{policy_label(cls)}: {policy_summary(cls) or '(its class has no docstring)'}"]
        for field, info in cls.parameters().items():
            bounds = ", ".join(
                f"{words} {int(limit) if float(limit).is_integer() else limit}"
                for words, limit in (
                    ("at least", info.ge),
                    ("above", info.gt),
                    ("at most", info.le),
                    ("below", info.lt),
                )
                if limit is not None
            )
            choices = (
                [str(c) for c in typing.get_args(info.annotation)]
                if typing.get_origin(info.annotation) is Literal
                else []
            )
            if choices and not all(c in (info.description or "") for c in choices):  # not every one said already
                bounds = "one of " + ", ".join(choices)
            about = "; ".join(x for x in (info.description or "", bounds) if x)
            default = info.default
            # A default such as 1/3 is written as TOML writes it (exact, to paste), and read as its fraction.
            near = Fraction(default).limit_denominator(100) if isinstance(default, float) else None
            exact = near is not None and near.denominator > 1 and float(near) == default and len(repr(default)) > 8
            fraction = f" (= {near})" if exact else ""
            lines.append(f"    {tomli_w.dumps({field: default}).strip()}{fraction}  {about}".rstrip())
        return "\n".join(lines)


def defaults_faults(where: str, e: ValidationError) -> list[str]:
    """The lines of an InputError for the bad defaults of a policy's Params (``defaults_checked``'s error)."""
    return [
        f"{where}: the defaults of its Params are invalid: {'.'.join(map(str, loc)) or 'Params'}: {msg}"
        for loc, msg in e.problems
    ]


def defaults_checked(params: type[Strict]) -> None:
    """ValidationError if a default of ``params`` breaks its own rule (``Strict.default_problems``): a strict
    model fills defaults in unchecked, so a policy would run with it. Once per class."""
    if params in _DEFAULTS_FINE:
        return
    problems = params.default_problems()
    if problems:
        raise ValidationError(f"the defaults of {params.__qualname__}", problems)
    _DEFAULTS_FINE.add(params)


#: The parameter models whose defaults keep their rules (weakly held: a policy class may be made and dropped).
_DEFAULTS_FINE: weakref.WeakSet[type[Strict]] = weakref.WeakSet()


def not_default(params: Strict) -> dict[str, Any]:
    """A policy's parameters that differ from their defaults, as JSON values: what a run is keyed by (those given
    only at their defaults are no parameters given) and what a progress line names."""
    held, default = params.model_dump(mode="json"), type(params)().model_dump(mode="json")
    return {k: v for k, v in held.items() if v != default[k]}


def policy_label(cls: type[Policy]) -> str:
    """What results and messages call a policy of class ``cls``, in ``covsim run``, ``compare``, ``stress`` and the
    page alike: the ``name`` the class sets itself, or its class name when it sets none (a subclass of a built-in
    that sets no name is not that built-in)."""
    return cls.name if "name" in vars(cls) else cls.__name__


#: A policy's name may hold only these, as a label of results may (``sim.experiment.spec.PolicyEntry.label``).
NAME_PATTERN = r"^[A-Za-z0-9_\-.]+$"


def ask(policy: Policy, method: str, view: Any, rng: np.random.Generator) -> Any:
    """``policy.<method>(view, rng)``; whatever the policy raises, or a ``sys.exit`` in it, as a PolicyError
    naming the policy and the method (the engine adds the quarter and week)."""
    try:
        return getattr(policy, method)(view, rng)
    except PolicyError as e:
        if re.match(r"policy [^\s:]+: ", str(e)):  # named already (a rollout's side, or a check of its answer)
            raise
        # A view's own check, or a helper's (route_to_queue refusing its rows): where the policy's code called it.
        raise PolicyError(f"policy {policy_label(type(policy))}: {method}(): {e}{raised_at(e)}") from e
    except BaseException as e:  # an Exception, a sys.exit, or a class of the policy's own made a BaseException
        if interrupted(e):  # Ctrl-C, or one that landed in a compiled loop the policy called: a stop, not its fault
            raise KeyboardInterrupt from e
        if isinstance(e, GeneratorExit):
            raise
        hint = mistake_hint(type(policy), e) + raised_at(e)
        raise PolicyError(f"policy {policy_label(type(policy))}: {method}() raised {raised(e)}{hint}") from e


def policy_summary(cls: type) -> str:
    """The first paragraph of a policy class's own docstring, or "" (``inspect.getdoc`` would fall back on a
    parent's, which describes another policy)."""
    return inspect.cleandoc(vars(cls).get("__doc__") or "").split("\n\n")[0]


def param_at(where: str, key: str) -> str:
    """Where parameter ``key`` is given: in a table (``policy.params``: ``policy.params.KEY``), or on the
    command line (``--param``: ``--param KEY``, as the option is typed)."""
    return f"{where} {key}" if where == "--param" else f"{where}.{key}"


def _vector(a: object, n: int, what: str, policy: str, integer: bool) -> np.ndarray:
    arr = np.asarray(a)
    if arr.shape != (n,):
        raise PolicyError(f"policy {policy}: {what}() returned {what_returned(a, arr)}, expected shape ({n},)")
    if integer and arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise PolicyError(f"policy {policy}: {what}() must return integer seat indices, got dtype {arr.dtype}")
    if integer and arr.dtype == np.uint64 and arr.size and arr.max() > np.iinfo(np.int64).max:
        # Cast to int64 it would wrap round: 2**64 - 1 read as -1, no handler, without a word.
        raise PolicyError(f"policy {policy}: {what}() returned {int(arr.max())}, which is no seat index")
    if not integer and arr.size and not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise PolicyError(f"policy {policy}: {what}() must return numbers, not {arr.dtype} ({arr.flat[0]!r}, ...)")
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
        said = _ROUTE_FAULTS[fault].format(pool=pool, code=-2 - pool, last=team.size - 1)
        if fault in (1, 5):  # the first such opportunity, as a plan's faults name the first account
            wrong = (
                h >= team.size if fault == 1 else (pending.stage == _IN_WORK) & (h >= 0) & ~team.can_close[h.clip(0)]
            )
            i = int(np.flatnonzero(wrong)[0])
            said += f" (the first: pending opportunity {i}, seat {int(h[i])})"
        raise PolicyError(f"policy {policy}: route() {said}")
    return h


#: What a policy whose ``__init__`` skipped ``Policy.__init__`` is told.
NO_PARAMS = "its __init__ set no params (call super().__init__(**params) in it)"

_ROUTE_FAULTS = {
    1: "returned a seat outside -1..{last}",
    2: (
        "put an opportunity in the queue of pool {pool} ({code}: queue(p) is -2 - p), which no seat answers "
        "(plan.seat_pool)"
    ),
    3: "put a responded deal in the queue of pool {pool} ({code}: queue(p) is -2 - p; -1 is nobody); a closer is a seat",
    4: "queued for pool {pool} a lead that no seat of the pool is paid on (their lanes)",
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
    queued); a responded deal in a queue (3, naming its pool); a lead queued for a pool no seat of which is paid on its
    (line, kind) (4, naming the lowest such pool: the pool's reps of each lane answer what it is paid on,
    ``sim.lane_queues``); a deal needing a closer given to a seat that cannot close (5). Line -1 (a
    renewal) is the last column of ``lane_lines``.
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
    # Sized by the plan's pools, not the highest queued: -2 - h of -2**63 asked for exabytes.
    answered = np.zeros(n_pools, dtype=np.bool_)
    for s in range(seat_pool.size):
        if seat_pool[s] >= 0:
            answered[seat_pool[s]] = True
    for i in range(h.size):
        if h[i] <= -2 and (-2 - h[i] >= n_pools or not answered[-2 - h[i]]):
            return 2, highest
    for i in range(h.size):
        if h[i] <= -2 and stage[i] != _AWAITING:
            return 3, -2 - h[i]
    # Whether any seat of each pool is paid on (line + 1 with renewals last, kind): a pool's seats of different
    # lanes answer a queue each (sim.lane_queues), so a lead needs one seat of its pool paid on it.
    lines, kinds = lane_lines.shape[1], lane_kinds.shape[1]
    paid = np.zeros((n_pools, lines, kinds), dtype=np.bool_)
    for s in range(seat_pool.size):
        p = seat_pool[s]
        if p >= 0:
            for q in range(lines):
                for k in range(kinds):
                    paid[p, q, k] = paid[p, q, k] or (lane_lines[s, q] and lane_kinds[s, k])
    unpaid = -1
    for i in range(h.size):
        if h[i] <= -2:
            p = -2 - h[i]
            ln = line[i] if line[i] >= 0 else lines - 1
            if not paid[p, ln, kind[i]] and (unpaid < 0 or p < unpaid):
                unpaid = p
    if unpaid >= 0:
        return 4, unpaid
    for i in range(h.size):
        if stage[i] == _IN_WORK and h[i] >= 0 and not can_close[h[i]]:
            return 5, -1
    return 0, -1


def checked_priority(priority: object, tasks: Tasks, policy: str) -> np.ndarray:
    """One priority per task, as floats, or PolicyError. A NaN or +inf is refused: it is what a policy's
    arithmetic gives by mistake (0 / 0, a value over no hours, a missing value), and +inf would tie every such
    task first, in no order the policy chose. A task is declined by a priority of 0 or less (-inf too)."""
    p = _vector(priority, tasks.size, "prioritise", policy, integer=False)
    for bad, what in ((np.isnan(p), "NaN"), (p == np.inf, "+inf")):
        if bad.any():
            raise PolicyError(
                f"policy {policy}: prioritise() returned {what} for {int(bad.sum())} of {p.size} tasks (the first: "
                f"task {int(np.argmax(bad))}); return a finite number, 0 or less to decline a task"
            )
    return p
