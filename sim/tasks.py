"""The week's candidate tasks: first responses, deal work and planned touches, with their hours.

A pure function of the book, the plan and the team this week: it lists what
each seat could do, and the engine then lets the policy prioritise and
spends each seat's hours (``sim.allocation``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.allocation import Queues
from sim.clock import BUSINESS_DAYS_PER_WEEK as DAYS
from sim.clock import WEEKS_PER_QUARTER, week_in_quarter
from sim.codes import WHOLE_CONTRACT, Stage, Status, TaskKind
from sim.opportunities import OpportunityBook
from sim.policies.protocol import CoveragePlan, Tasks, pool_of, read_only
from sim.population import Population
from sim.reps import SeatWeek
from sim.scenario import Scenario


@dataclass(frozen=True)
class TaskList:
    """This week's candidate tasks (``tasks``, as policies see them) and what the engine needs besides.

    opportunity: book index of a response or work task (-1 for a touch);
    travel: hours of the cost spent travelling; release: hours into the
    rep's week before which the task does not exist (a lead arriving
    mid-week; 0 for the rest and for queue tasks); queues: the shared
    queues, with each queue task's arrival as a share of the week; engages:
    the task engages its account (not a pool's work on a request from its
    queue: pooled reps answer, and work, whatever comes); unowned,
    vacant: opportunities awaiting a response that nobody will answer this
    week (no handler, or the handler's seat is vacant).
    """

    tasks: Tasks
    opportunity: np.ndarray
    travel: np.ndarray
    release: np.ndarray
    queues: Queues
    engages: np.ndarray
    unowned: np.ndarray
    vacant: np.ndarray


def at_seat(per_seat: np.ndarray, seat: np.ndarray, default: float | bool) -> np.ndarray:
    """``per_seat[seat]`` where a seat is given (>= 0), ``default`` where not (-1); safe for an empty team."""
    out = np.full(seat.shape, default, dtype=per_seat.dtype)
    given = seat >= 0
    out[given] = per_seat[seat[given]]
    return out


def week_tasks(
    week: int,
    book: OpportunityBook,
    handlers: np.ndarray,
    seats: SeatWeek,
    pop: Population,
    plan: CoveragePlan,
    cadenced: np.ndarray,
    offered: np.ndarray,
    touches: np.ndarray,
    scenario: Scenario,
    specialist_cells: np.ndarray,
    line_touches: np.ndarray | None,
) -> TaskList:
    """Every task a seat could do in ``week``.

    Responses: opportunities awaiting a first response, with a handler in a
    filled seat, or waiting in a pool's shared queue (rep -1). Work:
    responded deals with a closer and effort outstanding, from the week after
    the response, costing the rep ``chunk / skill`` hours (a skilled rep
    needs fewer). Touches: planned cadence of the accounts ``cadenced`` that
    is behind schedule (``touches`` done this quarter), and the accounts the
    policy ``offered`` a touch this week whatever their cadence (among
    ``cadenced``), for owners in filled seats; and the overlay's: each
    (account, line) of ``specialist_cells`` (flat indices into the plan's
    specialist arrays) whose specialist, in a filled seat, is behind its own
    cadence (``line_touches`` this quarter, None: none yet). A field seat
    visits (travel by distance), the others call.
    """
    b, activities = book, scenario.activities
    open_ = ~b.closed & ~b.digital
    resp = np.flatnonzero(open_ & (b.stage == Stage.AWAITING_RESPONSE))
    h = handlers[resp]
    vacant = (h >= 0) & ~at_seat(seats.filled, h, False)
    unowned, vacant_idx = resp[h == -1], resp[vacant]
    resp = resp[(h >= 0) & ~vacant | (h <= -2)]
    work = b.workable(week)
    c = cadenced
    owner = plan.owner[c]
    due = (owner >= 0) & (pop.status[c] != Status.CHURNED)
    due &= at_seat(seats.filled, owner, False)
    # A specialist's touches serve its own cadence, not the owner's.
    got = touches[c] if line_touches is None else touches[c] - line_touches[c].sum(axis=1)
    behind = _behind(got, plan.cadence[c], week)
    due &= (behind | np.isin(c, offered)) if offered.size else behind
    c, owner = c[due], owner[due]
    touch_line = np.full(c.size, WHOLE_CONTRACT, dtype=np.int64)
    if specialist_cells.size:
        assert plan.specialist is not None and plan.specialist_cadence is not None
        sc, sl = np.divmod(specialist_cells, pop.lines)
        sp = plan.specialist[sc, sl]
        done = line_touches[sc, sl] if line_touches is not None else 0
        on = (sp >= 0) & (pop.status[sc] != Status.CHURNED) & at_seat(seats.filled, sp, False)
        on &= _behind(done, plan.specialist_cadence[sc, sl], week)
        c, owner, touch_line = (
            np.concatenate([c, sc[on]]),
            np.concatenate([owner, sp[on]]),
            np.concatenate([touch_line, sl[on]]),
        )
    field = seats.field[owner]
    distance = np.hypot(pop.x[c] - seats.x[owner], pop.y[c] - seats.y[owner])
    travel = np.where(field, distance / scenario.workforce.travel_speed_kmh, 0.0)
    touch_cost = np.where(field, activities.visit_hours, activities.call_hours) + travel

    kind = np.concatenate(
        [np.full(resp.size, TaskKind.RESPONSE), np.full(work.size, TaskKind.WORK), np.full(c.size, TaskKind.TOUCH)]
    ).astype(np.int8)
    closer = b.handler[work]
    answer = handlers[resp]
    pool = pool_of(answer)
    queued = pool >= 0
    answer = np.where(queued, -1, answer)
    rep = np.concatenate([answer, closer, owner]).astype(np.int64)
    customer = np.concatenate([b.customer[resp], b.customer[work], c]).astype(np.int64)
    work_hours = b.week_hours(work, seats.skill)
    cost = np.concatenate([np.full(resp.size, activities.response_hours), work_hours, touch_cost])
    # A lead that arrives mid-week exists from that point of the rep's week (its hours spread evenly over the days).
    share_gone = np.clip(b.day[resp] / DAYS - week, 0.0, 1.0)
    own_release = np.where(queued, 0.0, share_gone * at_seat(seats.capacity, answer, 0.0))
    release = np.concatenate([own_release, np.zeros(work.size + c.size)])
    rest = np.full(work.size + c.size, -1)
    days_left = np.concatenate(
        [b.sla_deadline[resp] - DAYS * week, DAYS * (b.work_deadline[work] + 1 - week), np.full(c.size, np.inf)]
    )
    value = np.concatenate([b.expected_value[resp], b.expected_value[work], np.zeros(c.size)])
    opportunity = np.concatenate([resp, work, np.full(c.size, -1)])
    # Each deal's place among the open deals outside the digital channel (the policies' ``opportunities``).
    place = np.cumsum(open_) - 1
    tasks = Tasks(
        rep=read_only(rep),
        pool=read_only(np.concatenate([pool, rest])),
        opportunity=read_only(np.concatenate([place[resp], place[work], np.full(c.size, -1)])),
        kind=read_only(kind),
        line=read_only(np.concatenate([b.line[resp], b.line[work], touch_line]).astype(np.int64)),
        customer=read_only(customer),
        segment=read_only(pop.segment[customer]),
        cost=read_only(cost),
        expected_value=read_only(value),
        days_left=read_only(days_left),
    )
    return TaskList(
        tasks=tasks,
        opportunity=opportunity,
        travel=np.concatenate([np.zeros(resp.size + work.size), travel]),
        release=release,
        queues=Queues(
            pool=tasks.pool,
            arrival=np.concatenate([np.where(queued, share_gone, 0.0), np.zeros(rest.size)]),
            seat_pool=plan.seat_pool if plan.seat_pool is not None else np.full(seats.size, -1),
        ),
        engages=np.concatenate([~queued, ~b.pooled[work], np.ones(c.size, dtype=bool)]),
        unowned=unowned,
        vacant=vacant_idx,
    )


def _behind(done: np.ndarray | int, cadence: np.ndarray, week: int) -> np.ndarray:
    """Whether ``done`` touches this quarter fall short of a ``cadence`` a quarter, spread evenly, by the
    end of ``week``."""
    return done < cadence * (week_in_quarter(week) + 1) / WEEKS_PER_QUARTER


def answer_day(week: int, start: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Business day of first responses made in ``week``, from each task's ``start`` on its rep's clock.

    The rep's ``capacity`` hours are spread evenly over the week's business
    days, so ``start`` hours into them is ``start / capacity`` of the way
    through the week. The allocation starts a response no earlier than its
    lead arrived and only when the rep is free (``sim.allocation``), so there
    is no look-ahead.
    """
    return DAYS * (week + start / np.maximum(capacity, 1e-9))
