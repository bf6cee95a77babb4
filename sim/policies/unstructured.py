"""``unstructured``: the no-coverage-model baseline."""

from __future__ import annotations

from typing import Annotated

import numpy as np

from sim.codes import Service, Stage, TaskKind
from sim.compiled import compiled
from sim.numpy_exact import median, pairwise_sum, power
from sim.policies.protocol import CoveragePlan, PlanView, Policy, RouteView, TaskView
from sim.policies.rules import empty_plan
from sim.strict import Field, Strict


class UnstructuredParams(Strict):
    notice: Annotated[
        float,
        Field(
            ge=0.0,
            le=1.0,
            description="[A] chance a week that one rep with its whole week free notices (and takes) an unanswered "
            "opportunity of typical size",
        ),
    ] = 0.14
    follow_through: Annotated[
        float, Field(ge=0.0, le=10.0, description="added priority of work on deals already started (0: none)")
    ] = 0.5
    size_bias: Annotated[
        float, Field(ge=0.0, le=5.0, description="noticing and attention grow with (potential / median) ** size_bias")
    ] = 0.5
    habit_spread: Annotated[
        float,
        Field(
            ge=0.0,
            le=3.0,
            description="spread (sd of the log) of each rep's own eagerness to answer new leads; 0: all alike",
        ),
    ] = 1.0


class Unstructured(Policy):
    """No territories, no owners, no cadence: whoever has free hours and happens to see it picks up.

    Every account is in one shared pool. Each week every rep with free hours
    may notice each unanswered opportunity, independently of the others: seat
    ``s`` notices opportunity ``i`` with chance
    ``q_is = min(1, notice * (potential_i / median) ** size_bias) * free_s / capacity_s``
    (the median over this week's pending opportunities: big names get noticed;
    ``free_s / capacity_s`` the share of the seat's week not yet taken by its
    deals, 0 for a vacant seat or a full week). The opportunity is picked up
    when at least one rep noticed it, with chance ``1 - prod_s (1 - q_is)``, so
    the more reps have free hours, the fewer opportunities go unanswered; its
    handler is drawn among the seats in proportion to their chances of having
    noticed it (that is, to the free share of their week). A first response
    may be picked up by any seat; a responded deal waiting for a closer only by
    a seat that can close. A rep then works its tasks in an order biased to
    big names but otherwise random, with ``follow_through`` added to the
    priority of deals already started, so follow-up is inconsistent and nobody
    is promised a touch.

    With no common process each rep keeps its own habits: a rep's eagerness to
    answer new leads (drawn once per seat, lognormal with ``habit_spread``)
    multiplies the priority of its first responses, so how fast a lead is
    answered depends on who happened to pick it up.

    The default ``notice`` [A] keeps the pickup of a typical lead in the
    42-rep baseline (``scenarios/baseline.toml``) near the former fixed weekly
    chance of 0.5. There the four SDRs have no deals of their own, so their
    week is whole free when routing, and alone they pick up a typical lead with
    ``1 - (1 - 0.14) ** 4 = 0.45`` a week; the 38 closers' weeks are mostly
    taken by their deals (about 3% free on average), which adds about 0.05:
    measured, 0.50 a week on average over the baseline's 8 quarters (seed 1;
    0.42 to 0.62 by quarter). A responded deal waiting for a closer is picked
    up with about 0.11 a week there (below ``1 - (1 - 0.14 x 0.03) ** 38 = 0.15``,
    as the closers' free hours are uneven; ``tests/test_policy_library.py``
    measures both). Both move with the team's free hours, as a fixed chance
    did not.
    """

    name = "unstructured"
    Params = UnstructuredParams
    params: UnstructuredParams

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self._eagerness = np.empty(0)

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        if view.quarter == 1:  # a new run: its reps are met afresh
            self._eagerness = np.empty(0)
        new = view.team.size - self._eagerness.size
        if new > 0:  # seats never met before (the first quarter, an overlay launch) bring their own habits
            self._eagerness = np.concatenate([self._eagerness, rng.lognormal(0.0, self.params.habit_spread, new)])
        return empty_plan(view.accounts.size, Service.POOLED)

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        p, team = view.pending, view.team
        if p.size == 0:
            return np.full(0, -1, dtype=np.int64)
        u = rng.random(p.size)
        # Who notices what (``_picked_up``), then who of the seats that may take it does (``_handlers``): one
        # draw each of the picked, first responses then deals waiting for a closer, as ``weighted_draw`` took
        # them group by group (one call of their total size gives the same numbers as one call per group).
        first, first_seats, first_share, deal, closers, closer_share = compiled(_picked_up)(
            view.accounts.potential,
            p.customer,
            p.stage == Stage.IN_WORK,
            u,
            view.free,
            team.capacity,
            team.filled,
            team.can_close,
            self.params.notice,
            self.params.size_bias,
        )
        r = rng.random(first.size + deal.size)
        return compiled(_handlers)(p.size, first, first_seats, first_share, deal, closers, closer_share, r)

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        tasks = view.tasks
        if tasks.size == 0:
            return np.empty(0)
        if tasks.rep.max() >= self._eagerness.size:  # the kernel does not check its reads
            raise IndexError(f"a task of seat {tasks.rep.max()}, but habits of {self._eagerness.size} seats")
        u = rng.random(tasks.size)
        pot = view.accounts.potential[tasks.customer]
        p = self.params
        return compiled(_priorities)(u, pot, tasks.kind, tasks.rep, self._eagerness, p.size_bias, p.follow_through)


def _priorities(
    u: np.ndarray,
    potential: np.ndarray,
    kind: np.ndarray,
    rep: np.ndarray,
    eagerness: np.ndarray,
    size_bias: float,
    follow_through: float,
) -> np.ndarray:
    """``prioritise``'s ``(u + 1e-6) x eagerness (a response's) x (potential / median) ** size_bias``, plus
    ``follow_through`` for work, in numpy's order of operations, with its median and its powers (``sim.numpy_exact``).
    Compiled (``sim.compiled``), where numpy took a dozen calls a week."""
    n = u.size
    scale = median(potential) + 1e-9
    out = np.empty(n)
    for i in range(n):
        xs = power(potential[i] / scale, size_bias)
        eager = eagerness[rep[i]] if kind[i] == _RESPONSE else 1.0
        out[i] = (u[i] + 1e-6) * eager * xs + follow_through * (1.0 if kind[i] == _WORK else 0.0)
    return out


_RESPONSE, _WORK = int(TaskKind.RESPONSE), int(TaskKind.WORK)


def free_shares(free: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Per seat, the share of its week still free (``free / capacity``, in [0, 1]; 0 for a seat with no hours)."""
    return compiled(_free_shares)(np.asarray(free, dtype=float), np.asarray(capacity, dtype=float))


def _free_shares(free: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """``free_shares``, compiled: ``np.clip(free / capacity, 0, 1)`` (a NaN stays NaN), 0 where there are no
    hours."""
    share = np.zeros(capacity.size)
    for s in range(capacity.size):
        if capacity[s] > 0:
            x = free[s] / capacity[s]
            share[s] = 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)
    return share


def pickup_chance(free_share: np.ndarray, relative_size: np.ndarray, notice: float, size_bias: float) -> np.ndarray:
    """Per opportunity, the chance that at least one seat notices it this week: ``1 - prod_s (1 - q_s)``.

    Seat ``s`` notices an opportunity of ``relative_size`` (potential over the
    week's median) with ``q_s = min(1, notice * relative_size ** size_bias) * free_share[s]``,
    independently of the other seats. Seats sharing a free share are counted
    together, so the cost grows with the distinct shares, not with the team.
    """
    rel = np.asarray(relative_size, dtype=float)
    return compiled(_chance)(rel, np.asarray(free_share, dtype=float), notice, size_bias)


def _picked_up(
    potential: np.ndarray,
    customer: np.ndarray,
    in_work: np.ndarray,
    u: np.ndarray,
    free: np.ndarray,
    capacity: np.ndarray,
    filled: np.ndarray,
    can_close: np.ndarray,
    notice: float,
    size_bias: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Of the pending opportunities (``customer``, ``in_work``: responded, waiting for a closer), the
    positions picked up this week, first responses by any filled seat, then deals by the filled closers
    (``can_close``), with those seats and their ``free_shares``: (picked, seats, shares) of each. An
    opportunity is picked up when its uniform ``u`` falls below its ``pickup_chance``, its size relative to
    the median potential of all pending. Compiled (``sim.compiled``), with numpy's arithmetic and median,
    where numpy took some thirty calls a week."""
    n = customer.size
    pot = np.empty(n)
    for j in range(n):
        pot[j] = potential[customer[j]]
    scale = median(pot) + 1e-9
    share = _free_shares(free, capacity)
    out = []
    for closers in (False, True):
        seats = np.flatnonzero(filled & can_close) if closers else np.flatnonzero(filled)
        f = share[seats]
        which = np.flatnonzero(in_work == closers)
        picked = np.empty(0, dtype=np.int64)
        if which.size > 0 and (f > 0).any():
            chance = _chance(pot[which] / scale, f, notice, size_bias)
            picked = which[u[which] < chance]
        out.append((picked, seats, f))
    return out[0][0], out[0][1], out[0][2], out[1][0], out[1][1], out[1][2]


def _handlers(
    n: int,
    first: np.ndarray,
    first_seats: np.ndarray,
    first_share: np.ndarray,
    deal: np.ndarray,
    closers: np.ndarray,
    closer_share: np.ndarray,
    r: np.ndarray,
) -> np.ndarray:
    """The handler of each of ``n`` pending opportunities (-1: not picked up): each picked one's seat drawn
    in proportion to the seats' free shares by its uniform of ``r`` (the first responses' first), as
    ``sim.policies.rules.weighted_draw`` draws it: the shares over their sum (numpy's pairwise sum), their
    running sum over its last, the first entry above the uniform."""
    handler = np.full(n, -1, dtype=np.int64)
    k = 0
    for picked, seats, weights in ((first, first_seats, first_share), (deal, closers, closer_share)):
        if picked.size == 0:
            continue
        total = 0.0 + pairwise_sum(weights, 0, weights.size)
        cdf = np.empty(weights.size)
        running = 0.0
        for s in range(weights.size):
            running = weights[s] / total if s == 0 else running + weights[s] / total
            cdf[s] = running
        last = cdf[-1]
        for s in range(weights.size):
            cdf[s] = cdf[s] / last
        for j in range(picked.size):
            handler[picked[j]] = seats[np.searchsorted(cdf, r[k], side="right")]
            k += 1
    return handler


def _chance(rel: np.ndarray, free_share: np.ndarray, notice: float, size_bias: float) -> np.ndarray:
    """``pickup_chance``, compiled (``power``, then ``_noticed``)."""
    look = np.empty(rel.size)
    for i in range(rel.size):
        y = notice * power(rel[i], size_bias)
        look[i] = 1.0 if y > 1.0 else y  # np.minimum(1.0, y): a NaN stays NaN (and is never picked up)
    return _noticed(look, free_share)


def _noticed(look: np.ndarray, free_share: np.ndarray) -> np.ndarray:
    """``1 - prod_k (1 - look_i * share_k) ** seats_k`` per opportunity ``i``, over the distinct positive free
    shares ``share_k`` of the seats, ascending, each held by ``seats_k`` seats (the power taken only for a
    share held by more than one: a share held by one seat is its own power).

    Compiled by numba: the distinct shares counted as ``np.unique`` counts them, then one pass over the
    opportunities per share, where numpy built the opportunities-by-shares matrix three times over (at a
    million accounts, thousands by hundreds). Each opportunity's product still runs over the shares in
    order, left to right, as ``np.prod`` over a row does, so the numbers are numpy's, bit for bit
    (tests/test_kernels.py); the opportunities, independent, go through the inner loop together, which the
    compiler runs several at a time.
    """
    shares = np.sort(free_share)
    unseen = np.ones(look.size)
    k = 0
    while k < shares.size:
        s, seats = shares[k], 1
        while k + seats < shares.size and shares[k + seats] == s:
            seats += 1
        k += seats
        if not s > 0:
            continue
        if seats > 1:
            times = float(seats)
            for i in range(look.size):
                unseen[i] *= (1.0 - look[i] * s) ** times  # a float power: libm's pow, as numpy's
        else:
            for i in range(look.size):
                unseen[i] *= 1.0 - look[i] * s
    return 1.0 - unseen
