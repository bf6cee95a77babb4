"""Building blocks that several policies share: books, routing rules, priorities.

Each is a plain function of a view (and a generator where it draws), so a
policy reads as a composition of named rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np

from sim.codes import Service, Stage, TaskKind
from sim.compiled import compiled
from sim.numpy_exact import median
from sim.policies.protocol import Accounts, CoveragePlan, PlanView, RouteView, Tasks, TeamView, queue
from sim.policies.views import seat_indices
from sim.strict import Field, Strict

if TYPE_CHECKING:
    from sim.scenario import Scenario

BOOK_RULES = (
    "keep: accounts stay with their previous owner where it can, a vacant seat's too; redeal: books dealt afresh; "
    "cover: as keep, but a seat vacant at the plan gets no book (its accounts dealt over the filled seats)"
)
#: A policy parameter: whether books are kept from quarter to quarter (``keep_owners``) or dealt afresh, and
#: a vacant seat's (``BOOK_RULES``, as ``covsim policies`` says them).
BookRule = Annotated[Literal["keep", "redeal", "cover"], Field(description=BOOK_RULES)]

QUEUE_ORDERS = (
    "order of a shared queue: deadline (earliest service deadline first, so first come first served within one "
    "service window) or value (highest expected value first)"
)
#: A policy parameter: the order in which a pool's shared queue is answered.
QueueOrder = Annotated[Literal["deadline", "value"], Field(description=QUEUE_ORDERS)]

#: A policy parameter: how an account that changes owner is handed over (``CoveragePlan.warm``).
HANDOFFS = "how an account that changes owner is handed over: warm (an introduction) or cold"
HandoffRule = Annotated[Literal["cold", "warm"], Field(description=HANDOFFS)]


def generalist_closers(team: TeamView, filled_only: bool = False) -> np.ndarray:
    """Seats that can close and are paid on every line and kind (``filled_only``: with a holder this week)."""
    mask = team.can_close & team.paid_on_everything
    return np.flatnonzero(mask & team.filled if filled_only else mask)


def lineless_specialists(team: TeamView) -> np.ndarray:
    """Per seat: a specialist with no product line of its own (an overlay launch's, by default), which a policy
    that gives specialists only their line's accounts would leave idle."""
    return np.asarray((team.role == "specialist") & (team.line < 0))


def paid_on(view: RouteView, seats: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Whether each of ``seats`` is paid on (its lane) each of the pending opportunities ``idx``: seats x items."""
    p = view.pending
    return np.asarray(view.team.pursues(seats[:, None], p.line[idx][None, :], p.kind[idx][None, :]))


def field_closers(team: TeamView, filled_only: bool = False) -> np.ndarray:
    """The generalist closers who visit (``generalist_closers``), or every generalist closer if none does:
    the seats that own geographic books (``filled_only``: with a holder this week)."""
    closers = generalist_closers(team, filled_only)
    field = closers[team.field[closers]]
    return field if field.size else closers


def segment_names(csv: str) -> list[str]:
    """The segment names of a comma-separated policy parameter, blanks dropped."""
    return [s.strip() for s in csv.split(",") if s.strip()]


def unknown_segments(scenario: Scenario, policy: Strict, *keys: str) -> list[str]:
    """``Policy.problems`` lines for the segments the parameters ``keys`` of ``policy`` name and ``scenario``
    lacks, one line each as ``key: message``."""
    known = [s.name for s in scenario.population.segments]
    return [
        f"{key}: unknown segment {name!r} (the scenario's: {', '.join(known)})"
        for key in keys
        for name in segment_names(getattr(policy, key))
        if name not in known
    ]


def empty_plan(n: int, service: int = Service.DIGITAL) -> CoveragePlan:
    """Nobody owns anything; every account on ``service``; no cadence."""
    return CoveragePlan(
        owner=np.full(n, -1, dtype=np.int64),
        service=np.full(n, service, dtype=np.int8),
        cadence=np.zeros(n),
        coordinated=np.zeros(n, dtype=bool),
        warm=np.zeros(n, dtype=bool),
    )


def assign_books(
    accounts: Accounts,
    team: TeamView,
    candidates: np.ndarray,
    seats: np.ndarray,
    book_size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Deal ranked accounts to seats, region by region, ``book_size`` each.

    ``candidates`` are account indices, best first. Accounts go to seats based in
    their region (all ``seats`` when the region has none) in turn, so every
    seat's book has a similar mix. Returns (accounts assigned, their seats).
    """
    empty, seats = np.empty(0, dtype=np.int64), seat_indices(seats, team.x.size, "assign_books")
    if seats.size == 0 or candidates.size == 0 or book_size <= 0:
        return empty, empty
    cand_region = accounts.region[candidates]
    seat_region = team.region[seats]
    owner = np.full(candidates.size, -1, dtype=np.int64)
    homeless = np.zeros(candidates.size, dtype=bool)
    for g in np.unique(cand_region):
        local = seats[seat_region == g]
        pos = np.flatnonzero(cand_region == g)
        if local.size == 0:
            homeless[pos] = True
            continue
        take = pos[: local.size * book_size]
        owner[take] = local[np.arange(take.size) % local.size]
    if homeless.any():
        # Accounts of regions without a seat of their own go to whoever has room, in turn.
        used = np.bincount(np.searchsorted(np.sort(seats), owner[owner >= 0]), minlength=seats.size)
        room = np.maximum(book_size - used, 0)
        slots = np.repeat(np.sort(seats), room)
        turn = np.concatenate([np.arange(r) for r in room]) if slots.size else empty
        slots = slots[np.argsort(turn, kind="stable")]
        pos = np.flatnonzero(homeless)[: slots.size]
        owner[pos] = slots[: pos.size]
    keep = owner >= 0
    return candidates[keep], owner[keep]


def keep_owners(
    named: np.ndarray, owner: np.ndarray, previous: np.ndarray, seats: np.ndarray, book_size: int
) -> np.ndarray:
    """Owners for the accounts ``named`` (best first) that keep each account with its previous owner.

    ``owner`` is a fresh dealing of the same accounts (``assign_books``);
    ``previous`` the previous plan's owner of every account. An account whose
    previous owner is still one of ``seats`` stays with it, up to
    ``book_size`` accounts a seat (the best first); the others take their
    fresh owner where it has room, else the seat with the most room. A
    coverage model that keeps its books changes owners only where it must.
    """
    prev = previous[named]
    kept = np.isin(prev, seats)
    # The n-th kept account of a seat, counted best first: over book_size it must move.
    order = np.argsort(np.where(kept, prev, -1), kind="stable")
    sorted_prev = np.where(kept, prev, -1)[order]
    first = np.searchsorted(sorted_prev, sorted_prev)
    nth = np.empty(named.size, dtype=np.int64)
    nth[order] = np.arange(named.size) - first
    kept &= nth < book_size
    result = np.where(kept, prev, -1)
    room = book_size - np.bincount(np.searchsorted(seats, result[kept]), minlength=seats.size)
    # Each account that moves depends on the room the ones before it left: a loop, compiled (a Python loop
    # took a second at ten million accounts, where every named account moves in the first quarter).
    compiled(_seat_movers)(result, kept, np.asarray(owner, dtype=np.int64), np.asarray(seats, dtype=np.int64), room)
    return result


def _seat_movers(result: np.ndarray, kept: np.ndarray, owner: np.ndarray, seats: np.ndarray, room: np.ndarray) -> None:
    """``keep_owners``' accounts not ``kept``, in order: each takes its fresh ``owner`` if that seat (of the
    sorted ``seats``) has ``room``, else the seat with the most room (the first of them); written into
    ``result``. Compiled by numba (``sim.compiled``)."""
    for i in range(result.size):
        if kept[i]:
            continue
        at = np.searchsorted(seats, owner[i])
        if room[at] <= 0:
            at = np.argmax(room)
        room[at] -= 1
        result[i] = seats[at]


def deal_books(
    accounts: Accounts,
    team: TeamView,
    candidates: np.ndarray,
    seats: np.ndarray,
    book_size: int,
    rule: str,
    previous: CoveragePlan | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Books by ``assign_books``; under the ``rule`` "keep", accounts stay with their ``previous`` owners where
    they can (``keep_owners``); under "cover" too, over the seats filled at the plan only (as a manager covers a
    departed rep's territory, rather than leave it dark). Returns (accounts assigned, their seats)."""
    seats = seat_indices(seats, team.x.size, "deal_books")
    seats = seats[team.filled[seats]] if rule == "cover" and team.filled[seats].any() else seats
    named, owner = assign_books(accounts, team, candidates, seats, book_size)
    if rule in ("keep", "cover") and previous is not None:
        owner = keep_owners(named, owner, previous.owner, seats, book_size)
    return named, owner


def name_largest(
    plan: CoveragePlan,
    view: PlanView,
    candidates: np.ndarray,
    seats: np.ndarray,
    book_size: int,
    rule: str,
    cadence: float,
) -> np.ndarray:
    """Deal the ``candidates`` with the largest potential into books of ``seats`` (``deal_books``), writing
    their owners, high touch and ``cadence`` into ``plan``; returns the candidates ranked, largest first."""
    ranked = candidates[np.argsort(-view.accounts.potential[candidates], kind="stable")]
    named, owner = deal_books(view.accounts, view.team, ranked, seats, book_size, rule, view.previous)
    plan.owner[named] = owner
    plan.service[named] = Service.HIGH_TOUCH
    plan.cadence[named] = cadence
    return ranked


def distance_km(accounts: Accounts, team: TeamView, customers: np.ndarray, seats: np.ndarray) -> np.ndarray:
    """Straight-line km from each of ``seats``' home bases to each of ``customers`` (customers x seats)."""
    seats = seat_indices(seats, team.x.size, "distance_km")
    dx = accounts.x[customers][:, None] - team.x[seats][None, :]
    dy = accounts.y[customers][:, None] - team.y[seats][None, :]
    return np.hypot(dx, dy)


def nearest_seat(accounts: Accounts, team: TeamView, customers: np.ndarray, seats: np.ndarray) -> np.ndarray:
    """The seat of ``seats`` nearest to each of ``customers`` (ties: the first)."""
    seats = seat_indices(seats, team.x.size, "nearest_seat")
    return _nearest_of(accounts, team, customers, np.zeros(customers.size, dtype=np.int64), [seats], seats)


def nearest_seat_in_region(accounts: Accounts, team: TeamView, customers: np.ndarray, seats: np.ndarray) -> np.ndarray:
    """The seat of ``seats`` nearest to each of ``customers``, among those of its region where it has one,
    else (or for an account of no region, < 0) among all (ties: the first)."""
    seats = seat_indices(seats, team.x.size, "nearest_seat_in_region")
    region = accounts.region[customers].astype(np.int64)
    at = team.region[seats]
    local = [seats[at == g] for g in range(int(region.max(initial=-1)) + 1)]
    group = np.where(region >= 0, region, len(local))  # the last group: every seat
    return _nearest_of(accounts, team, customers, group, [*(g if g.size else seats for g in local), seats], seats)


def _nearest_of(
    accounts: Accounts,
    team: TeamView,
    customers: np.ndarray,
    group: np.ndarray,
    candidates: list[np.ndarray],
    seats: np.ndarray,
) -> np.ndarray:
    """The nearest to each of ``customers`` of the seats ``candidates[group]`` (each a part of ``seats``)."""
    if customers.size == 0:
        return np.empty(0, dtype=np.int64)
    if seats.size == 0:
        raise ValueError("nearest_seat: no seats to choose from")
    # One compiled pass (``_nearest``), where numpy built a customers x seats matrix of squared distances in
    # blocks (a tenth of value_based's quarterly plan at 100,000 accounts), and value_based a pass per region.
    listed = np.concatenate(candidates).astype(np.int64)
    bounds = np.concatenate([[0], np.cumsum([c.size for c in candidates])]).astype(np.int64)
    return compiled(_nearest)(
        accounts.x[customers],
        accounts.y[customers],
        np.array(team.x[listed], dtype=np.float64),
        np.array(team.y[listed], dtype=np.float64),
        listed,
        group,
        bounds,
    )


def _nearest(
    x: np.ndarray,
    y: np.ndarray,
    seat_x: np.ndarray,
    seat_y: np.ndarray,
    seats: np.ndarray,
    group: np.ndarray,
    bounds: np.ndarray,
) -> np.ndarray:
    """For each point (``x``, ``y``; float32, as the accounts keep them), the seat of its group's seats
    (``seats[bounds[g]:bounds[g + 1]]``, g = ``group[i]``) whose home (``seat_x``, ``seat_y``) is nearest
    by squared distance, the first of equals, as numpy's ``argmin`` over ``dx * dx + dy * dy`` in float64
    picks it (a NaN distance, first, wins as there). Compiled by numba (``sim.compiled``);
    tests/test_kernels.py checks it against that numpy."""
    out = np.empty(x.size, dtype=np.int64)
    for i in range(x.size):
        lo, hi = bounds[group[i]], bounds[group[i] + 1]
        best, arg = np.inf, lo
        for j in range(lo, hi):
            dx = np.float64(x[i]) - seat_x[j]
            dy = np.float64(y[i]) - seat_y[j]
            d = dx * dx + dy * dy
            if d != d:
                arg = j
                break
            if d < best:
                best, arg = d, j
        out[i] = seats[arg]
    return out


def route_to_owner(view: RouteView) -> np.ndarray:
    """Each pending opportunity goes to its account's owner (vacant seats included).

    An opportunity that needs a closer is not given to a seat that cannot close.
    """
    p = view.pending
    owner = view.plan.owner[p.customer].astype(np.int64)
    has = owner >= 0
    needs_closer = p.stage == Stage.IN_WORK
    bad = has & needs_closer & ~view.team.can_close[np.where(has, owner, 0)]
    owner[bad] = -1
    return owner


def pools_of_roles(team: TeamView, *pools: tuple[str, ...]) -> np.ndarray:
    """``CoveragePlan.seat_pool`` where the seats of the roles ``pools[k]`` answer the queue of pool k."""
    seat_pool = np.full(team.size, -1, dtype=np.int64)
    for k, roles in enumerate(pools):
        seat_pool[np.isin(team.role, roles) & (seat_pool < 0)] = k
    return seat_pool


def route_to_queue(view: RouteView, which: np.ndarray, pool: int, handler: np.ndarray) -> None:
    """The first responses among ``which`` wait in the shared queue of ``pool``, if a seat answers it.

    The next rep of the pool with free time answers each (``sim.allocation``; reps of
    different lanes answer a queue each, ``sim.lane_queues``); an answer not made this
    week is asked for again next week, the opportunity keeping its place by its
    arrival. A lead none of the pool's seats is paid on is left to the caller. While
    every seat of the pool is vacant the leads go to its first seat instead, so that
    they are missed for the vacancy, not for a wait in a queue nobody answers.
    ``which``: a mask of ``view.pending``'s rows or their indices. Writes into ``handler``.
    """
    seat_pool = view.plan.seat_pool
    seats = np.empty(0, dtype=np.int64) if seat_pool is None else np.flatnonzero(seat_pool == pool)
    if seats.size == 0:
        return
    first = view.pending.rows(which, "route_to_queue") & (view.pending.stage == Stage.AWAITING_RESPONSE)
    if not view.team.paid_on_everything[seats].all():
        # A lead none of the pool's seats is paid on is not theirs (their lanes; sim.lane_queues splits the rest).
        at = np.flatnonzero(first)
        first[at[~paid_on(view, seats, at).any(axis=0)]] = False
    handler[first] = queue(pool) if view.team.filled[seats].any() else seats[0]


def queue_priority(priority: np.ndarray, tasks: Tasks, order: str) -> np.ndarray:
    """``priority`` with the shared queues' first responses in ``order`` (``QueueOrder``): by deadline as
    ``standard_priority`` gives them, or by expected value (still above every other task)."""
    if order == "value":
        queued = tasks.pool >= 0
        priority = priority.copy()
        priority[queued] = 30.0 + _unit(tasks.expected_value[queued])
    return priority


def route_to_pool(view: RouteView, which: np.ndarray, seats: np.ndarray, handler: np.ndarray) -> None:
    """Share the pending opportunities in ``which`` over ``seats`` by capacity.

    The most urgent opportunity goes first; seat loads end up proportional to
    their capacity this week: a manager dealing out the week's work, each item
    to one seat before the week starts (for a queue answered by whoever is
    free, see ``route_to_queue``). Dealing by ``RouteView.free`` instead would
    deal nothing when every seat's deals already fill its week, and leave
    the deals to stall unseen. An item goes only to seats paid on it (their
    lanes): items that the same seats are paid on are dealt over those, and
    one no seat is paid on is left. ``which``: a mask of ``view.pending``'s rows
    or their indices. Writes into ``handler`` (the policy's own output array).
    """
    seats = seat_indices(seats, view.team.capacity.size, "route_to_pool")
    idx = np.flatnonzero(view.pending.rows(which, "route_to_pool"))
    if idx.size == 0 or view.team.paid_on_everything[seats].all():
        _deal(view, idx, seats, handler)
        return
    groups, group = np.unique(paid_on(view, seats, idx).T, axis=0, return_inverse=True)
    for g, mask in enumerate(groups):
        _deal(view, idx[group.ravel() == g], seats[mask], handler)


def _deal(view: RouteView, idx: np.ndarray, seats: np.ndarray, handler: np.ndarray) -> None:
    """``route_to_pool``'s dealing of the pending opportunities ``idx`` over ``seats``, all paid on them."""
    cap = view.team.capacity[seats]
    if idx.size == 0 or seats.size == 0 or cap.sum() <= 0:
        return
    idx = idx[np.argsort(view.pending.days_left[idx], kind="stable")]
    share = np.cumsum(cap) / cap.sum()
    slot = np.searchsorted(share, (np.arange(idx.size) + 0.5) / idx.size, side="right")
    # Interleave so the most urgent items are spread over seats, not stacked on one.
    order = np.argsort(np.arange(idx.size) % max(1, seats.size), kind="stable")
    handler[idx[order]] = seats[np.minimum(slot, seats.size - 1)]


def rest_pools(team: TeamView) -> np.ndarray:
    """``CoveragePlan.seat_pool`` for accounts in no book: the inside reps and SDRs answer the shared queue
    (pool 0), or every closer paid on everything when the team has neither."""
    inside = ("inside", "sdr")
    if np.isin(team.role, inside).any():
        return pools_of_roles(team, inside)
    seat_pool = np.full(team.size, -1, dtype=np.int64)
    seat_pool[generalist_closers(team)] = 0
    return seat_pool


def route_owner_then_rest(view: RouteView) -> np.ndarray:
    """Each pending opportunity to its account's owner; a pooled account's first response to the shared
    queue of pool 0 (the plan's ``seat_pool``, as ``rest_pools`` makes it: with none, it goes to nobody); a
    qualified deal of no book, or of an owner that cannot close (an SDR), to any filled closer by capacity
    (the inside closers and those paid on everything): nobody planned who works it."""
    handler = route_to_owner(view)
    p, team = view.pending, view.team
    pooled = (handler < 0) & (view.plan.service[p.customer] == Service.POOLED)
    route_to_queue(view, pooled, 0, handler)
    closers = np.union1d(team.seats("inside", closers=True), generalist_closers(team, filled_only=True))
    # An owned deal route_to_owner left without a handler is one whose owner cannot close.
    no_closer = (handler < 0) & (view.plan.owner[p.customer] >= 0)
    route_to_pool(view, (pooled | no_closer) & (p.stage == Stage.IN_WORK), closers, handler)
    return handler


def standard_priority(tasks: Tasks, accounts: Accounts) -> np.ndarray:
    """Answer new demand first (most urgent first), then work deals by value per
    hour, then planned touches by account potential.
    """
    pr = np.zeros(tasks.size)
    urgency = 1.0 / (1.0 + np.maximum(tasks.days_left, 0.0))
    value_rate = tasks.expected_value / np.maximum(tasks.cost, 1e-9)
    pot = accounts.potential[tasks.customer]
    r, w, t = tasks.kind == TaskKind.RESPONSE, tasks.kind == TaskKind.WORK, tasks.kind == TaskKind.TOUCH
    pr[r] = 30.0 + urgency[r]
    pr[w] = 20.0 + _unit(value_rate[w])
    pr[t] = 10.0 + _unit(pot[t])
    return pr


def _unit(v: np.ndarray) -> np.ndarray:
    """Map non-negative values monotonically into [0, 1)."""
    return v / (v + median(v) + 1e-9) if v.size else v


def weighted_draw(rng: np.random.Generator, items: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """``size`` draws from ``items`` with replacement, each in proportion to its (non-negative) weight.

    By inverse CDF: the same numbers as ``rng.choice(items, size, p=weights / weights.sum())``
    without its checks, which cost more than the draw for a few dozen seats.
    """
    cdf = (weights / weights.sum()).cumsum()
    cdf /= cdf[-1]
    return items[cdf.searchsorted(rng.random(size), side="right")]
