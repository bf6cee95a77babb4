"""The rollout of a new coverage model from the current one: a policy made of two policies (a ``rollout`` shock).

During a rollout each account follows one of two coverage models: the
current one until its turn comes, then the new one, the run's own policy.
Which accounts have moved by a quarter is ``sim.shocks.rollout_count`` of
them, first in ``sim.shocks.rollout_rank``'s order, fixed by the account
number alone. ``Rollout`` asks both policies each time the engine asks it
and takes each account's answer from the side the account is on; the engine
sees one policy, named as the new one, and pays for every change of owner
by its hand-off rule, as for any other plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sim import shocks
from sim.clock import quarter_of
from sim.errors import InputError
from sim.policies import make_policy, policy_label
from sim.policies.protocol import (
    CoveragePlan,
    PlanView,
    Policy,
    RouteView,
    TaskView,
    ask,
    checked_plan,
    checked_priority,
    checked_route,
    checked_specialist_touches,
    checked_touches,
    read_only,
)

if TYPE_CHECKING:
    from sim.scenario import Scenario


#: One side's offer (``Rollout._offered``, ``Rollout._specialist_offered``): flat indices, checked.
Offered = Callable[[Policy, RouteView, np.random.Generator, "np.ndarray | None"], np.ndarray]


class Rollout(Policy):
    """A new coverage model (``new``) rolled out from the one in force (``current``), as ``shock`` schedules.

    Before the rollout's first quarter only the current policy is asked, so
    the run is the current policy's own; once every account has moved, only
    the new one. In between both are asked, the current one first, each with
    the generator the engine gives (so a run stays a function of its seed),
    and each account takes the answers of its side:

    - ``plan``: owner, service, cadence, coordinated, warm, and the overlay's
      specialists and their cadence, per account from its side's plan. The
      accounts that join the new model this quarter are warm if the shock's
      ``warm`` is true, cold otherwise, whatever either plan said for them (a
      realignment's rule). A seat answers the queue the new plan gives it,
      else the one the current plan gives it. A pool of the current plan
      that shares seats with the new plan's pools is one queue with the
      new pool holding most of them (a shared inside team answers both
      models' leads, and its seats the current plan alone pools join it);
      the current plan's other pools are numbered after the new plan's.
      Each policy is shown the pools it planned, and its own numbers.
    - ``route``: each pending opportunity's handler from the side of its
      account; ``prioritise``: each task's priority from the side of its
      account (``tasks.customer``); ``touches``: each side's offers, kept for
      its own accounts; ``problems``: both policies'. The two models'
      priorities are on scales of their own (the standard priority's 10 to
      31, ``unstructured``'s mostly below 6 with a tail above 31): taken as
      they are, almost every task of a moved account came before every task
      of one not yet moved. The current model's are put on the new one's
      scale (:func:`on_scale_of`), so that a seat working accounts of both
      models interleaves its two lists, each in its model's order, and a
      channel partner's tasks (on the standard priority, whatever the
      policy) compare with the new model's as in its own runs.

    Both policies see the plan in force (the merged one) and, when planning,
    the previous merged plan. Build it with :meth:`of`, which names it as the
    new policy: the run is labelled by the policy under test.
    """

    name = "rollout"

    def __init__(self, current: Policy, new: Policy, shock: shocks.ModelRollout) -> None:
        self.current, self.new, self.shock = current, new, shock
        self.params = new.params
        self._rank = np.empty(0, dtype=np.int64)  # rollout_rank of the accounts, made on first use
        self._queue = np.empty(0, dtype=np.int64)  # each current pool's queue in the plan in force
        self._pools = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))  # current's and new's seat_pool

    @classmethod
    def of(cls, current: Policy, new: Policy, shock: shocks.ModelRollout) -> Rollout:
        """A rollout named as ``new``: the name is a class attribute of a policy, so a subclass carries it."""
        named: type[Rollout] = type(cls.__name__, (cls,), {"name": policy_label(type(new)), "__doc__": cls.__doc__})
        return named(current, new, shock)

    def __repr__(self) -> str:
        s = self.shock
        when = f"quarter={s.quarter}, quarters={s.quarters}, warm={s.warm}"
        return f"Rollout(current={self.current!r}, new={self.new!r}, {when})"

    # ---- which side an account is on ---------------------------------------------------------------------

    def _moved(self, quarter: int, accounts: int) -> int:
        """How many accounts, first in the rollout order, follow the new model in ``quarter``."""
        return shocks.rollout_count(self.shock, quarter, accounts)

    def _rank_of(self, accounts: np.ndarray, size: int) -> np.ndarray:
        """The rollout order's place of each of ``accounts`` (indices into ``size`` accounts)."""
        if self._rank.size != size:
            self._rank = shocks.rollout_rank(size)
        return self._rank[accounts]

    # ---- the policy -------------------------------------------------------------------------------------

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        n, quarter = view.accounts.size, view.quarter
        moved = self._moved(quarter, n)
        self._queue = np.empty(0, dtype=np.int64)
        if moved == 0:
            return self._planned(self.current, view, rng)
        current = None if moved == n else self._planned(self.current, view, rng)
        new = self._planned(self.new, view, rng)
        rank = self._rank_of(np.arange(n), n)
        joined = (rank < moved) & (rank >= self._moved(quarter - 1, n))  # the accounts moved this quarter
        new_warm, new_pools = _filled(new)
        if current is None:
            return dataclasses.replace(new, warm=np.where(joined, self.shock.warm, new_warm))
        current_warm, current_pools = _filled(current)
        side = rank < moved
        specialist, specialist_cadence = _overlay(new, current, side, len(view.accounts.line_names))
        self._queue, self._pools = _queues(current_pools, new_pools), (current_pools, new_pools)
        pooled_by_current = np.full(current_pools.size, -1, dtype=np.int64)
        pooled_by_current[current_pools >= 0] = self._queue[current_pools[current_pools >= 0]]
        return CoveragePlan(
            owner=np.where(side, new.owner, current.owner),
            service=np.where(side, new.service, current.service),
            cadence=np.where(side, new.cadence, current.cadence),
            coordinated=np.where(side, new.coordinated, current.coordinated),
            warm=np.where(joined, self.shock.warm, np.where(side, new_warm, current_warm)),
            seat_pool=np.where(new_pools >= 0, new_pools, pooled_by_current),
            specialist=specialist,
            specialist_cadence=specialist_cadence,
            # One rule a team's pay: the new model's from its first quarter (a review found it reset to True).
            lanes_join=new.lanes_join,
        )

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        moved, n = self._moved(quarter_of(view.week), view.accounts.size), view.accounts.size
        if moved in (0, n):
            return self._routed(self.new if moved else self.current, view, rng)
        current_view, new_view = self._route_views(view)
        current = self._routed(self.current, current_view, rng)
        # Its queue(p) is the queue its pool p answers in the plan in force.
        queued = current <= -2
        current[queued] = -2 - self._queue[-2 - current[queued]]
        new = self._routed(self.new, new_view, rng)
        return np.where(self._rank_of(view.pending.customer, n) < moved, new, current)

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        moved, n = self._moved(quarter_of(view.week), view.accounts.size), view.accounts.size
        if moved in (0, n):
            return self._prioritised(self.new if moved else self.current, view, rng)
        current_view, new_view = self._task_views(view)
        current = self._prioritised(self.current, current_view, rng)
        new = self._prioritised(self.new, new_view, rng)
        return np.where(self._rank_of(view.tasks.customer, n) < moved, new, on_scale_of(current, new))

    def touches(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        return self._offers(view, rng, self._offered, 1)

    def specialist_touches(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        cells = self._offers(view, rng, self._specialist_offered, len(view.accounts.line_names))
        return np.column_stack(np.divmod(cells, len(view.accounts.line_names)))  # as (account, line) rows

    def problems(self, scenario: Scenario) -> list[str]:
        return [*self.new.problems(scenario), *self.current.problems(scenario)]

    # ---- asking one side --------------------------------------------------------------------------------

    def _plans(self, plan: CoveragePlan) -> tuple[CoveragePlan, CoveragePlan]:
        """The plan in force as the current and as the new policy see it: each with the pools it planned."""
        current, new = (read_only(p) for p in self._pools)
        return dataclasses.replace(plan, seat_pool=current), dataclasses.replace(plan, seat_pool=new)

    def _route_views(self, view: RouteView) -> tuple[RouteView, RouteView]:
        current, new = self._plans(view.plan)
        return dataclasses.replace(view, plan=current), dataclasses.replace(view, plan=new)

    def _task_views(self, view: TaskView) -> tuple[TaskView, TaskView]:
        """As ``_route_views``; the current policy's queue tasks also carry its own pool numbers (of a queue two
        of its pools share, the first; the other side's keep theirs: their priorities from this side go unused)."""
        current, new = self._plans(view.plan)
        own = np.full(int(max(self._queue.max(initial=0), view.tasks.pool.max(initial=0))) + 1, -1)
        queues, first = np.unique(self._queue, return_index=True)
        own[queues] = first  # each queue's first current pool
        pool = view.tasks.pool
        theirs = own[np.maximum(pool, 0)]  # the current policy's own number of each task's queue, -1: none
        tasks = dataclasses.replace(view.tasks, pool=read_only(np.where((pool >= 0) & (theirs >= 0), theirs, pool)))
        return dataclasses.replace(view, plan=current, tasks=tasks), dataclasses.replace(view, plan=new)

    @staticmethod
    def _planned(policy: Policy, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        plan = ask(policy, "plan", view, rng)
        return checked_plan(
            plan,
            view.accounts.size,
            view.team.size,
            policy_label(type(policy)),
            len(view.accounts.line_names),
            view.team,
        )

    @staticmethod
    def _routed(policy: Policy, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        handlers = ask(policy, "route", view, rng)
        return checked_route(handlers, view.pending, view.team, view.plan.seat_pool, policy_label(type(policy)))

    @staticmethod
    def _prioritised(policy: Policy, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        return checked_priority(ask(policy, "prioritise", view, rng), view.tasks, policy_label(type(policy)))

    def _offers(self, view: RouteView, rng: np.random.Generator, offered: Offered, per_account: int) -> np.ndarray:
        """What each side ``offered`` (flat indices, ``per_account`` of them an account: 1 for accounts, the
        product lines for (account, line) cells), each kept on the accounts its model covers."""
        moved, n = self._moved(quarter_of(view.week), view.accounts.size), view.accounts.size
        if moved in (0, n):
            return offered(self.new if moved else self.current, view, rng, None)
        current_view, new_view = self._route_views(view)
        ahead = self._rank_of(np.arange(n), n) < moved  # the accounts the new model covers
        current = offered(self.current, current_view, rng, ~ahead)
        new = offered(self.new, new_view, rng, ahead)
        return np.union1d(current[~ahead[current // per_account]], new[ahead[new // per_account]])

    # An offer is checked on the side's own accounts only (``mine``; None: all of them): an account the other
    # model covers is dropped from it, not refused for an owner or a specialist the other model's plan gave it (a
    # new model's offer of the cells of its own plan had stopped a phased rollout).

    @staticmethod
    def _offered(policy: Policy, view: RouteView, rng: np.random.Generator, mine: np.ndarray | None) -> np.ndarray:
        owner = view.plan.owner if mine is None else np.where(mine, view.plan.owner, 0)
        return checked_touches(ask(policy, "touches", view, rng), owner, policy_label(type(policy)))

    @staticmethod
    def _specialist_offered(
        policy: Policy, view: RouteView, rng: np.random.Generator, mine: np.ndarray | None
    ) -> np.ndarray:
        cells, plan = ask(policy, "specialist_touches", view, rng), view.plan
        if mine is not None and plan.specialist is not None:
            plan = dataclasses.replace(plan, specialist=np.where(mine[:, None], plan.specialist, 0))
        lines = len(view.accounts.line_names)
        return checked_specialist_touches(cells, plan, lines, policy_label(type(policy)))


def _filled(plan: CoveragePlan) -> tuple[np.ndarray, np.ndarray]:
    """A checked plan's ``warm`` and ``seat_pool`` (``checked_plan`` fills both in)."""
    assert plan.warm is not None and plan.seat_pool is not None
    return plan.warm, plan.seat_pool


def _queues(current_pools: np.ndarray, new_pools: np.ndarray) -> np.ndarray:
    """Each pool of the current plan's queue in the plan in force: the new plan's pool holding most of its seats
    (ties: the lower), or, sharing none, its own number after every pool of the new plan."""
    offset = int(new_pools.max(initial=-1)) + 1
    queue = np.arange(int(current_pools.max(initial=-1)) + 1) + offset
    for p in range(queue.size):
        shared = new_pools[(current_pools == p) & (new_pools >= 0)]
        if shared.size:
            queue[p] = int(np.bincount(shared).argmax())
    return queue


def _overlay(
    new: CoveragePlan, current: CoveragePlan, side: np.ndarray, lines: int
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The specialists and their cadence per account from its side's plan (None when neither plan has an
    overlay; a side without one has no specialist on its accounts)."""
    if new.specialist is None and current.specialist is None:
        return None, None
    n = side.size

    def of(plan: CoveragePlan) -> tuple[np.ndarray, np.ndarray]:
        if plan.specialist is None or plan.specialist_cadence is None:
            return np.full((n, lines), -1, dtype=np.int64), np.zeros((n, lines))
        return plan.specialist, plan.specialist_cadence

    (new_seat, new_cadence), (current_seat, current_cadence) = of(new), of(current)
    return np.where(side[:, None], new_seat, current_seat), np.where(side[:, None], new_cadence, current_cadence)


def rollout_of(scenario: Scenario) -> tuple[int, shocks.ModelRollout] | None:
    """The scenario's rollout shock and its place in ``shocks`` (a scenario has at most one), or None."""
    for i, shock in enumerate(scenario.shocks):
        if isinstance(shock, shocks.ModelRollout):
            return i, shock
    return None


def current_policy(scenario: Scenario, source: str = "") -> Policy | None:
    """The coverage model in force before the scenario's rollout (its ``current``), built and checked against
    the scenario; None without a rollout. An unknown name or a bad parameter is an InputError line
    ``<source>shocks.<i>.current.name: ...`` or ``<source>shocks.<i>.current.params.<key>: ...``."""
    found = rollout_of(scenario)
    if found is None:
        return None
    i, shock = found
    return make_policy(shock.current.name, dict(shock.current.params), f"{source}shocks.{i}.current", scenario)


def check_scenario_policies(scenario: Scenario, source: str = "") -> None:
    """InputError unless the scenario's own policy and its rollout's model in force are policies that run on it,
    with every problem of both, each named as ``covsim validate`` names it (``<source>policy.params.KEY: ...``)."""
    problems = []
    policy = scenario.policy
    for check in (
        lambda: make_policy(policy.name, dict(policy.params), f"{source}policy", scenario),
        lambda: current_policy(scenario, source),
    ):
        try:
            check()
        except InputError as e:
            problems += e.problems
    if problems:
        raise InputError(problems)


def with_rollout(policy: Policy, scenario: Scenario) -> Policy:
    """``policy`` as the new model of the scenario's rollout (a :class:`Rollout` from its ``current``), or
    ``policy`` itself when the scenario has no rollout or rolls out the model already in force (the same class
    and parameters: nothing changes, so the run is the policy's own); InputError for a bad ``current``."""
    found, current = rollout_of(scenario), current_policy(scenario)
    if found is None or current is None or in_force(current, policy):
        return policy
    return Rollout.of(current, policy, found[1])


def in_force(current: Policy, new: Policy) -> bool:
    """Whether rolling ``new`` out from ``current`` changes nothing: the same class with the same parameters.
    (Asking one model twice would not: a policy that draws random numbers would draw them twice as often.)"""
    return type(current) is type(new) and current.params == new.params


def on_scale_of(priority: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``priority`` (one policy's, of the week's tasks) put on the scale of ``reference`` (another's, of the same
    tasks): each task it does not decline (priority > 0) takes the value that stands as high among
    ``reference``'s non-declined priorities as it stands among its own (the k-th lowest of n takes the
    ceil(k m / n)-th lowest of m), so its order is kept and ties stay tied; a declined task keeps its priority,
    and with nothing ``reference`` does not decline ``priority`` is kept as it is. Two policies that give the same
    priorities leave them as they are (the k-th of n takes the k-th)."""
    out, take = priority.astype(float), priority > 0
    scale = np.sort(reference[reference > 0])
    if scale.size == 0 or not take.any():
        return out
    own = priority[take]
    k = np.searchsorted(np.sort(own), own, side="right")  # how many of its own are at or below each (1 .. n)
    out[take] = scale[(k * scale.size + own.size - 1) // own.size - 1]
    return out
