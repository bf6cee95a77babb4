"""``value_based``: CALLPLAN-style call planning, touches where the marginal response per hour is highest."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np

from sim.clock import QUARTERS_PER_YEAR, WEEKS_PER_QUARTER
from sim.codes import Kind, Service, Status
from sim.compiled import compiled
from sim.policies.protocol import Accounts, CoveragePlan, PlanView, Policy, RouteView, Selling, TaskView
from sim.policies.rules import (
    HandoffRule,
    empty_plan,
    field_closers,
    nearest_seat_in_region,
    rest_pools,
    route_owner_then_rest,
    standard_priority,
)
from sim.strict import Field, Strict


class ValueBasedParams(Strict):
    max_cadence: Annotated[
        int, Field(ge=0, le=WEEKS_PER_QUARTER, description="most planned touches per quarter of one account [A]")
    ] = 6
    planned_share: Annotated[
        float,
        Field(
            ge=0.0,
            le=1.0,
            description="share of each owner's quarterly selling hours planned for touches; the rest is left "
            "for its accounts' demand [A]",
        ),
    ] = 0.5
    rest: Annotated[Literal["pooled", "digital"], Field(description="service level of accounts given no touch")] = (
        "pooled"
    )
    handoff: HandoffRule = "cold"


@dataclass(frozen=True)
class CallPlan:
    """What the greedy allocation decided, for one quarter (``call_plan``).

    Per candidate account (``account``: live accounts with a seat to cover
    them): rep, its seat; hours, of one touch by that seat (travel included);
    cadence, touches planned a quarter. Per seat: budget, hours a quarter
    planned for touches. Per increment of the concave envelope of an
    account its seat could reach (``inc_*``, the account's candidate row, the touches it goes from and to,
    its hours, value per hour in currency per hour, and whether it was given
    in full): what the greedy chose from. An increment refused in part is
    the one the budget ended in (``cadence`` says how many of its touches
    were given).
    """

    account: np.ndarray
    rep: np.ndarray
    hours: np.ndarray
    cadence: np.ndarray
    budget: np.ndarray
    inc_row: np.ndarray
    inc_from: np.ndarray
    inc_to: np.ndarray
    inc_hours: np.ndarray
    inc_rate: np.ndarray
    inc_given: np.ndarray


class ValueBased(Policy):
    """Call frequencies set where the marginal response per hour of rep time is highest (CALLPLAN).

    The real-world model is Lodish (1971), "CALLPLAN: An Interactive
    Salesman's Call Planning System", Management Science 18(4, Part II):
    each rep chooses each account's call frequency so that the last
    hour given to any account returns as much as the last hour given to any
    other, under the rep's hours.

    Each live account is a candidate of the nearest generalist closer (the
    field seats when the team has any, since a visit builds more stock than
    a call), in its own region where that has one. A touch by that seat costs
    a visit and the travel to it, or a call (``Selling.touch_hours``). For n
    = 0 .. ``max_cadence`` touches a quarter the account's expected
    quarterly value is ``V(n) = lift(s(n)) x quarterly rate x win x value
    share x wallet``, from what the organisation knows of its segment
    (``Selling``): new logos for a prospect, expansions for a customer; s(n)
    the steady-state stock that n touches a quarter keep (``steady_stock``).
    The ADBUDG response is S-shaped, so V is not concave in n: as Lodish
    does, each account's upper concave envelope over hours is taken, and its
    segments are the increments a rep can buy. Each seat then buys, best
    value per hour first, the increments of its candidates until
    ``planned_share`` of its quarterly selling hours is spent; the increment
    the budget ends in is given in part (as many whole touches as fit). This
    greedy marginal analysis is exact for the continuous relaxation of the
    separable concave knapsack, and the integer plan is at most that one
    increment away from the integer optimum, per rep.

    An account given a touch is owned by its seat (high touch, its cadence);
    the others are ``rest``: a shared queue answered by the next free inside
    rep or SDR (every generalist closer without them), its qualified deals
    dealt to closers by capacity, as ``random_books`` does; or digital.

    What the plan leaves out, and why: a touch also lifts the win
    probability and relieves churn, which this plan does not count (it values
    the opportunity rate alone, the response Lodish estimated); and it plans
    the steady state, not the path there from today's stock. It keeps no
    books: each quarter's plan is made afresh, so an account whose value
    moved (a prospect won, a wallet tapped) or whose seat changed (a
    vacancy, a ramp) may change hands and lose its personal stock (on the
    baseline 7.7% of the owned accounts a quarter on average, 0.6% to 28% in
    single quarters: docs/policies.md's comparison).
    """

    name = "value_based"
    Params = ValueBasedParams
    params: ValueBasedParams

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        acc, team, prm = view.accounts, view.team, self.params
        plan = empty_plan(acc.size, Service.POOLED if prm.rest == "pooled" else Service.DIGITAL)
        plan.service[acc.status == Status.CHURNED] = Service.DIGITAL
        calls = call_plan(view, prm.max_cadence, prm.planned_share)
        touched = calls.cadence > 0
        named = calls.account[touched]
        plan.owner[named] = calls.rep[touched]
        plan.service[named] = Service.HIGH_TOUCH
        plan.cadence[named] = calls.cadence[touched]
        return dataclasses.replace(plan, warm=np.full(acc.size, prm.handoff == "warm"), seat_pool=rest_pools(team))

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        return route_owner_then_rest(view)

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        return standard_priority(view.tasks, view.accounts)


def call_plan(view: PlanView, max_cadence: int, planned_share: float) -> CallPlan:
    """The quarter's touches: each live account's seat and cadence, by greedy marginal analysis per seat."""
    acc, team, selling = view.accounts, view.team, view.selling
    r = selling.weekly_retention
    seats = field_closers(team, filled_only=True)
    account = np.flatnonzero(acc.status != Status.CHURNED) if seats.size else np.empty(0, dtype=np.int64)
    rep = nearest_seat_in_region(acc, team, account, seats)
    km = np.hypot(acc.x[account] - team.x[rep], acc.y[account] - team.y[rep])
    hours = selling.touch_hours(team.field[rep], km)
    # An account's value at each level is its base value times a lift that depends only on its segment and
    # on whether its seat visits or calls: the lifts, and their concave envelopes (unchanged by a positive
    # factor), are worked out once per (segment, visits) and gathered.
    levels = np.arange(max_cadence + 1)
    stock = steady_stock(levels[None, :] * np.array([[selling.call_stock], [selling.visit_stock]]), r)
    segments = np.arange(selling.responsiveness_mean.size)
    lift = selling.lift(stock[None, :, :], segments[:, None, None]).reshape(-1, levels.size)
    kind = acc.segment[account].astype(np.int64) * 2 + team.field[rep]
    base = base_value(acc, selling, account)
    env_frm, env_to = concave_envelope(lift)
    budget = planned_share * WEEKS_PER_QUARTER * team.capacity.astype(float)
    # An account's first increment has its best rate; a seat's greedy ends at or above any rate under which
    # its first increments alone fill its budget, so accounts whose first increment is below that cannot
    # be reached, and the increments are worked out only for the others (a small part of the live ones).
    f0, t0 = env_frm[kind, 0], env_to[kind, 0]
    first_hours = (t0 - f0) * hours
    with np.errstate(divide="ignore", invalid="ignore"):
        first_rate = np.where(t0 > f0, (lift[kind, t0] * base - lift[kind, f0] * base) / first_hours, -np.inf)
    some = np.flatnonzero(first_rate > 0.0)
    sub = some[reachable(rep[some], first_rate[some], first_hours[some], budget)]
    value = lift[kind[sub]] * base[sub, None]
    frm, to = env_frm[kind[sub]], env_to[kind[sub]]
    rows = np.arange(sub.size)[:, None]
    gain = value[rows, to] - value[rows, frm]
    inc_hours = (to - frm) * hours[sub, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(to > frm, gain / inc_hours, -np.inf)
    # The envelope's slopes fall from one increment to the next; rounding must not reorder them.
    rate = np.minimum.accumulate(rate, axis=1)
    row, col = np.nonzero(rate > 0.0)
    given, taken = greedy(rep[sub[row]], rate[row, col], inc_hours[row, col], hours[sub[row]], budget)
    # The level each account reaches after its increments given in full (a prefix of its envelope's).
    reached = np.concatenate([np.zeros((sub.size, 1), dtype=np.int64), to], axis=1)
    cadence = np.zeros(account.size, dtype=np.int64)
    cadence[sub] = reached[rows[:, 0], np.bincount(row[given], minlength=sub.size)]
    cadence[sub[row[taken > 0]]] += taken[taken > 0]  # the increment the budget ended in, in part
    return CallPlan(
        account=account,
        rep=rep,
        hours=hours,
        cadence=cadence,
        budget=budget,
        inc_row=sub[row],
        inc_from=frm[row, col],
        inc_to=to[row, col],
        inc_hours=inc_hours[row, col],
        inc_rate=rate[row, col],
        inc_given=given,
    )


def steady_stock(touches_stock: np.ndarray, weekly_retention: float) -> np.ndarray:
    """Mean relationship stock (touch-equivalents) over the 13 weeks of a quarter in the steady state of
    touches adding ``touches_stock`` a quarter, spread evenly, as demand sees it each week.

    The engine decays the stock at the start of a week, draws demand, then
    works the touches: in the steady state the mean stock before the week's
    touches is ``r A / (1 - r)`` with A the stock added in a week and r the
    weekly retention (the sum of the periodic path is the same each quarter).
    """
    r = weekly_retention
    return r * (touches_stock / WEEKS_PER_QUARTER) / (1.0 - r)


def base_value(accounts: Accounts, selling: Selling, customers: np.ndarray) -> np.ndarray:
    """Expected value won a quarter from each of ``customers`` with no relationship (lift 1), currency.

    A prospect's new logos or a customer's expansions: the segment's
    quarterly rate, scaled by potential, times its win probability and value
    share, times the wallet a deal draws from (``expected_wallet``).
    """
    # One compiled pass (``_base_value``) where numpy took some fifteen passes over the live accounts.
    return compiled(_base_value)(
        accounts.segment[customers],
        accounts.status[customers],
        accounts.potential[customers],
        selling.potential_median,
        selling.potential_exponent,
        selling.rate_per_year,
        selling.win_probability,
        selling.value_share,
        expected_wallet(accounts, customers),
    )


_PROSPECT, _CHURNED = int(Status.PROSPECT), int(Status.CHURNED)
_NEW_LOGO, _EXPANSION = int(Kind.NEW_LOGO), int(Kind.EXPANSION)


def _base_value(
    segment: np.ndarray,
    status: np.ndarray,
    potential: np.ndarray,
    median: np.ndarray,
    exponent: np.ndarray,
    rate: np.ndarray,
    win: np.ndarray,
    share: np.ndarray,
    wallet: np.ndarray,
) -> np.ndarray:
    """:func:`base_value` of each account (compiled, ``sim.compiled``), in the order of operations of the
    numpy it replaced: ``rate / 4 * (potential / median) ** exponent * (win * share) * wallet``, 0 for a
    churned account; the power is the C library's ``pow``, as numpy's of two arrays (tests/test_kernels.py)."""
    out = np.empty(segment.size)
    for i in range(segment.size):
        if status[i] == _CHURNED:
            out[i] = 0.0
            continue
        s = segment[i]
        k = _NEW_LOGO if status[i] == _PROSPECT else _EXPANSION
        scale = (potential[i] / median[s]) ** exponent[s]
        out[i] = rate[s, k] / QUARTERS_PER_YEAR * scale * (win[s, k] * share[s, k]) * wallet[i]
    return out


def expected_wallet(accounts: Accounts, customers: np.ndarray) -> np.ndarray:
    """The untapped wallet (currency a year) a deal of each of ``customers`` draws its value from, averaged
    over the product line it sells: a new logo's line in proportion to the line's share of the wallet, an
    expansion's to its untapped wallet (as the engine draws them, ``sim.outcomes.arrival_columns``)."""
    share, spend = accounts.line_share, accounts.line_spend
    if share.shape[1] == 1:
        # One line (the usual world): each sum over the lines below is its one term, the same number without
        # numpy's passes along rows of one (a quarter of value_based's plan on the baseline).
        share = share[customers, 0]
        untapped = np.maximum(accounts.potential[customers] * share - spend[customers, 0], 0.0)
        total, squares, by_share = untapped, untapped**2, share * untapped
    else:
        untapped = np.maximum(accounts.potential[customers, None] * share[customers] - spend[customers], 0.0)
        total, squares = untapped.sum(axis=1), (untapped**2).sum(axis=1)
        by_share = (share[customers] * untapped).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        by_untapped = np.where(total > 0, squares / total, 0.0)
    return np.where(accounts.status[customers] == Status.PROSPECT, by_share, by_untapped)


def concave_envelope(value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The upper concave envelope of each row of ``value`` (accounts x touch levels 0..N) over the levels.

    Hours grow in proportion to the level (one touch costs an account the
    same hours each time), so the envelope over hours is that over levels.
    Returns (from, to), each accounts x N: the levels each segment of the
    envelope goes from and to, in order; a row's segments end at N, after
    which from = to = N (no increment). Built by gift wrapping: from a
    vertex, the next is the level of steepest slope (the nearest of equal
    ones, so collinear levels stay steps of their own).
    """
    m, levels = value.shape
    steps = levels - 1
    frm = np.full((m, steps), steps, dtype=np.int64)
    to = np.full((m, steps), steps, dtype=np.int64)
    cur = np.zeros(m, dtype=np.int64)
    rows = np.arange(m)
    level = np.arange(levels)
    for k in range(steps):
        ahead = level[None, :] > cur[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = (value - value[rows, cur][:, None]) / (level[None, :] - cur[:, None])
        nxt = np.argmax(np.where(ahead, slope, -np.inf), axis=1)
        open_ = cur < steps
        frm[open_, k] = cur[open_]
        to[open_, k] = nxt[open_]
        cur = np.where(open_, nxt, cur)
    return frm, to


def greedy(
    rep: np.ndarray, rate: np.ndarray, hours: np.ndarray, per_touch: np.ndarray, budget: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Marginal analysis per seat: each seat's increments, best value per hour first, until its budget ends.

    ``rep``, ``rate`` (value per hour), ``hours``, ``per_touch`` (hours of
    one of its touches): one entry per increment; an account's increments
    have falling rates, so they are bought in order. ``budget``: hours per
    seat. Returns (given: bought in full; taken: of the one increment per
    seat that the budget ends in, the whole touches that still fit, 0
    elsewhere). Of equal rates the earlier entry goes first.
    """
    # Best rate first, then grouped by seat: two stable sorts keep equal rates in entry order (one lexsort of
    # the three keys takes several times longer), and only of the entries a seat may reach.
    order = np.flatnonzero(reachable(rep, rate, hours, budget))
    order = order[np.argsort(-rate[order], kind="stable")]
    order = order[np.argsort(rep[order], kind="stable")]
    r, h = rep[order], hours[order]
    first = np.searchsorted(r, r, side="left") == np.arange(r.size)  # each seat's first entry
    # Hours of the seat's increments up to and with this one, summed seat by seat: a sum over every seat's,
    # less the seats' before, rounds by the others' hours, so leaving some out (``reachable``) could move it.
    within = np.empty_like(h)
    bounds = [*np.flatnonzero(first).tolist(), r.size]
    for a, b in itertools.pairwise(bounds):
        within[a:b] = np.cumsum(h[a:b])
    fits = within <= budget[r] + 1e-9
    # The seat's first refused entry: the budget ends in it, and what is left of it buys whole touches.
    ends = ~fits & (first | np.roll(fits, 1))
    left = budget[r[ends]] - (within[ends] - h[ends])
    given, taken = np.zeros(rep.size, dtype=bool), np.zeros(rep.size, dtype=np.int64)
    given[order] = fits
    touches = np.rint(h[ends] / per_touch[order[ends]])
    taken[order[ends]] = np.minimum(np.floor(left / per_touch[order[ends]] + 1e-9), touches - 1).astype(np.int64)
    return given, taken


def reachable(rep: np.ndarray, rate: np.ndarray, hours: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """A mask of the increments that hold every one a seat's greedy can reach: a seat's at or above a rate
    at or above which the seat has its budget's hours of increments, less 1e-9 (all of them if it has not).
    For increments of finite rates and hours above 1e-9 and budgets >= 0, as ``call_plan`` gives them.

    A seat buys in falling rate and ends within its budget, so it never
    reaches below such a rate. The rates are sought among the best 1/256,
    1/64, 1/16, 1/4 of the increments, each seat taking the highest at which
    it has enough, then all: sorting half a million increments when a seat
    buys a hundred is most of a plan's time on the baseline. (One rate for
    every seat, the one the neediest seat takes, kept the first increments
    of a quarter of the baseline's accounts; a rate per seat keeps about 4,500
    of 100,000, seed 1.)
    """
    need = np.minimum(budget, np.bincount(rep, weights=hours, minlength=budget.size)) - 1e-9
    bar = np.full(budget.size, -np.inf)
    unsettled = np.ones(budget.size, dtype=bool)
    for share in (1 / 256, 1 / 64, 1 / 16, 1 / 4):
        k = int(rate.size * share)
        if k == 0:
            continue
        level = np.partition(rate, rate.size - k)[rate.size - k]
        keep = rate >= level
        enough = np.bincount(rep[keep], weights=hours[keep], minlength=budget.size) >= need
        bar[unsettled & enough] = level
        unsettled &= ~enough
        if not unsettled.any():
            break
    return rate >= bar[rep]
