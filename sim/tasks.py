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
from sim.codes import Stage, Status, TaskKind
from sim.compiled import compiled
from sim.distinct import distinct
from sim.lane_queues import lane_queues, narrow_lane_pooled
from sim.opportunities import OpportunityBook
from sim.policies.protocol import CoveragePlan, Tasks, read_only
from sim.population import Population
from sim.reps import SeatWeek
from sim.scenario import Scenario
from sim.specialist_due import due_cells


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
    week (no handler, or the handler's seat is vacant); unstaffed: per task,
    waiting in the queue of a lane of its pool with no filled seat this
    week (``sim.lane_queues``: a vacancy too).
    """

    tasks: Tasks
    opportunity: np.ndarray
    travel: np.ndarray
    release: np.ndarray
    queues: Queues
    engages: np.ndarray
    unowned: np.ndarray
    vacant: np.ndarray
    unstaffed: np.ndarray


def at_seat(per_seat: np.ndarray, seat: np.ndarray, default: float | bool) -> np.ndarray:
    """``per_seat[seat]`` where a seat is given (>= 0), ``default`` where not (negative); safe for an empty
    team. ``seat`` is 1-d; a seat past ``per_seat`` is an IndexError. One compiled pass (``_at_seat``), where
    numpy's five calls took some twenty microseconds."""
    return compiled(_at_seat)(per_seat, seat, per_seat.dtype.type(default))


def _at_seat(per_seat: np.ndarray, seat: np.ndarray, default: float | bool) -> np.ndarray:
    """``at_seat``, compiled (``sim.compiled``)."""
    out = np.full(seat.size, default)
    for i in range(seat.size):
        s = seat[i]
        if s >= per_seat.size:
            raise IndexError("a seat past the team")
        if s >= 0:
            out[i] = per_seat[s]
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
    owner_touches: np.ndarray,
    scenario: Scenario,
    specialist_cells: np.ndarray,
    offered_cells: np.ndarray,
    line_touches: np.ndarray | None,
) -> TaskList:
    """Every task a seat could do in ``week``.

    Responses: opportunities awaiting a first response, with a handler in a
    filled seat, or waiting in a pool's shared queue (rep -1). Work:
    responded deals with a closer and effort outstanding, from the week after
    the response, costing the rep ``chunk / skill`` hours (a skilled rep
    needs fewer). Touches: planned cadence of the accounts ``cadenced`` that
    is behind schedule (``owner_touches``: each one's this quarter, those of
    its specialists left out), and the accounts the
    policy ``offered`` a touch this week whatever their cadence (among
    ``cadenced``), for owners in filled seats; and the overlay's: each
    (account, line) of ``specialist_cells`` (flat indices into the plan's
    specialist arrays) whose specialist, in a filled seat, is behind its own
    cadence (``line_touches`` this quarter, None: none yet), or of
    ``offered_cells`` (the policy's offer this week, whatever the cadence). A
    field seat visits (travel by distance), the others call.
    """
    b, activities = book, scenario.activities
    c = cadenced
    extra_c = extra_seat = extra_line = np.empty(0, dtype=np.int64)
    cells = specialist_cells if offered_cells.size == 0 else distinct(np.concatenate([specialist_cells, offered_cells]))
    if cells.size:
        extra_c, extra_seat, extra_line = due_cells(
            week, cells, offered_cells, pop.lines, plan, pop.status, seats.filled, line_touches
        )
    # One compiled pass over the book and the touches (``_assemble``) where numpy took some eighty calls.
    (
        opportunity,
        unowned,
        vacant,
        rep,
        pool,
        place,
        kind,
        line,
        customer,
        segment,
        cost,
        value,
        days_left,
        travel,
        release,
        arrival,
        engages,
    ) = compiled(_assemble)(
        week,
        week_in_quarter(week) + 1,
        b.closed,
        b.digital,
        b.stage,
        handlers,
        b.handler,
        b.customer,
        b.day,
        b.pooled,
        b.sla_deadline,
        b.work_deadline,
        b.expected_value,
        b.line,
        b.chunk,
        b.effort_left,
        b.responded,
        seats.filled,
        seats.capacity,
        seats.skill,
        seats.field,
        seats.x,
        seats.y,
        pop.status,
        pop.segment,
        pop.x,
        pop.y,
        np.asarray(c, dtype=np.int64),
        np.asarray(owner_touches, dtype=np.int64),
        plan.cadence,
        plan.owner,
        offered if offered.flags.writeable else offered.copy(),  # one compiled version, whoever offered it
        extra_c,
        extra_seat,
        extra_line,
        activities.response_hours,
        activities.visit_hours,
        activities.call_hours,
        scenario.workforce.travel_speed_kmh,
    )
    tasks = Tasks(
        rep=read_only(rep),
        pool=read_only(pool),
        opportunity=read_only(place),
        kind=read_only(kind),
        line=read_only(line),
        customer=read_only(customer),
        segment=read_only(segment),
        cost=read_only(cost),
        expected_value=read_only(value),
        days_left=read_only(days_left),
    )
    queues = Queues(
        pool=tasks.pool,
        arrival=arrival,
        seat_pool=plan.seat_pool if plan.seat_pool is not None else np.full(seats.size, -1),
    )
    unstaffed = np.zeros(rep.size, dtype=bool)
    if plan.seat_pool is not None and narrow_lane_pooled(plan.seat_pool, seats.lane_lines, seats.lane_kinds):
        # Reps of one pool but different lanes answer a queue each (sim.lane_queues).
        deal = opportunity >= 0
        deal_kind = np.zeros(opportunity.size, dtype=np.int64)
        deal_kind[deal] = b.kind[opportunity[deal]]
        queues, unstaffed = lane_queues(
            queues, line, deal_kind, seats.lane_lines, seats.lane_kinds, seats.filled, seats.capacity
        )
    return TaskList(
        tasks=tasks,
        opportunity=opportunity,
        travel=travel,
        release=release,
        queues=queues,
        engages=engages,
        unowned=unowned,
        vacant=vacant,
        unstaffed=unstaffed,
    )


_AWAITING, _IN_WORK, _CHURNED = int(Stage.AWAITING_RESPONSE), int(Stage.IN_WORK), int(Status.CHURNED)
_RESPONSE, _WORK, _TOUCH = int(TaskKind.RESPONSE), int(TaskKind.WORK), int(TaskKind.TOUCH)


def _assemble(
    week: int,
    weeks_into_quarter: int,
    closed: np.ndarray,
    digital: np.ndarray,
    stage: np.ndarray,
    handlers: np.ndarray,
    handler: np.ndarray,
    customer: np.ndarray,
    day: np.ndarray,
    pooled: np.ndarray,
    sla_deadline: np.ndarray,
    work_deadline: np.ndarray,
    expected_value: np.ndarray,
    line: np.ndarray,
    chunk: np.ndarray,
    effort_left: np.ndarray,
    responded: np.ndarray,
    filled: np.ndarray,
    capacity: np.ndarray,
    skill: np.ndarray,
    field: np.ndarray,
    seat_x: np.ndarray,
    seat_y: np.ndarray,
    status: np.ndarray,
    segment: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    cadenced: np.ndarray,
    got: np.ndarray,
    cadence: np.ndarray,
    owner: np.ndarray,
    offered: np.ndarray,
    extra_c: np.ndarray,
    extra_seat: np.ndarray,
    extra_line: np.ndarray,
    response_hours: float,
    visit_hours: float,
    call_hours: float,
    speed: float,
) -> tuple[np.ndarray, ...]:
    """The arrays of ``week_tasks``: first responses (book order), then deal work (book order), then touches
    (the owners' of ``cadenced`` behind their cadence or ``offered`` a touch, in that order, then the
    ``extra`` ones, a specialist's). Compiled by numba (``sim.compiled``), with numpy's arithmetic in its
    order, so each number is the one the vectorized code gave (tests/test_kernels.py).

    Returns per task its book index (-1: a touch); the responses nobody will answer (no handler) and those
    whose handler's seat is vacant; then per task: rep, pool, place among the open deals outside the
    digital channel (-1: a touch), kind, line, customer, its segment, cost, expected value, business days
    left, travel hours, release hours, arrival in a queue (the share of the week gone when the lead came;
    0 for a rep's own task) and whether it engages the account (all but a pool's answers and its deals).
    """
    n = closed.size
    place = np.empty(n, dtype=np.int64)
    is_resp = np.zeros(n, dtype=np.bool_)
    is_work = np.zeros(n, dtype=np.bool_)
    opened = n_resp = n_work = n_unowned = n_vacant = 0
    for i in range(n):
        if closed[i] or digital[i]:
            continue
        place[i] = opened
        opened += 1
        if stage[i] == _AWAITING:
            h = handlers[i]
            if h == -1:
                n_unowned += 1
            elif h >= 0 and not filled[h]:
                n_vacant += 1
            elif h >= 0 or h <= -2:
                is_resp[i] = True
                n_resp += 1
        elif stage[i] == _IN_WORK and handler[i] >= 0 and effort_left[i] > 1e-9 and responded[i] < week:
            is_work[i] = True
            n_work += 1
    due = np.zeros(cadenced.size, dtype=np.bool_)
    n_touch = extra_c.size
    for j in range(cadenced.size):
        a = cadenced[j]
        o = owner[a]
        if o < 0 or status[a] == _CHURNED or not filled[o]:
            continue
        behind = got[j] < cadence[a] * weeks_into_quarter / WEEKS_PER_QUARTER
        if not behind and offered.size:
            k = np.searchsorted(offered, a)
            behind = k < offered.size and offered[k] == a
        if behind:
            due[j] = True
            n_touch += 1

    unowned = np.empty(n_unowned, dtype=np.int64)
    vacant = np.empty(n_vacant, dtype=np.int64)
    total = n_resp + n_work + n_touch
    rep = np.empty(total, dtype=np.int64)
    pool = np.full(total, -1, dtype=np.int64)
    at = np.full(total, -1, dtype=np.int64)
    kind = np.empty(total, dtype=np.int8)
    task_line = np.empty(total, dtype=np.int64)
    task_customer = np.empty(total, dtype=np.int64)
    cost = np.empty(total)
    value = np.zeros(total)
    days_left = np.empty(total)
    travel = np.zeros(total)
    release = np.zeros(total)
    opportunity = np.full(total, -1, dtype=np.int64)
    arrival = np.zeros(total)
    engages = np.ones(total, dtype=np.bool_)
    r = w = u = v = 0
    for i in range(n):
        if closed[i] or digital[i] or stage[i] != _AWAITING:
            continue
        h = handlers[i]
        if h == -1:
            unowned[u] = i
            u += 1
        elif h >= 0 and not filled[h]:
            vacant[v] = i
            v += 1
        elif is_resp[i]:
            opportunity[r] = i
            # A lead that arrives mid-week exists from that point of the rep's week (its hours spread evenly
            # over the days), or in its pool's queue from that point of the week.
            gone = min(max(day[i] / DAYS - week, 0.0), 1.0)
            if h <= -2:
                pool[r] = -2 - h
                rep[r] = -1
                arrival[r] = gone
                engages[r] = False
            else:
                rep[r] = h
                release[r] = gone * capacity[h]
            at[r] = place[i]
            kind[r] = _RESPONSE
            task_line[r] = line[i]
            task_customer[r] = customer[i]
            cost[r] = response_hours
            value[r] = expected_value[i]
            days_left[r] = sla_deadline[i] - DAYS * week
            r += 1
    for i in range(n):
        if not is_work[i]:
            continue
        t = n_resp + w
        opportunity[t] = i
        engages[t] = not pooled[i]
        closer = handler[i]
        rep[t] = closer
        at[t] = place[i]
        kind[t] = _WORK
        task_line[t] = line[i]
        task_customer[t] = customer[i]
        cost[t] = min(chunk[i], effort_left[i]) / skill[closer]
        value[t] = expected_value[i]
        days_left[t] = DAYS * (work_deadline[i] + 1 - week)
        w += 1
    t = n_resp + n_work
    for j in range(cadenced.size + extra_c.size):
        if j < cadenced.size:
            if not due[j]:
                continue
            a, o, ln = cadenced[j], owner[cadenced[j]], -1
        else:
            a, o, ln = extra_c[j - cadenced.size], extra_seat[j - cadenced.size], extra_line[j - cadenced.size]
        rep[t] = o
        kind[t] = _TOUCH
        task_line[t] = ln
        task_customer[t] = a
        days_left[t] = np.inf
        if field[o]:
            travel[t] = np.hypot(x[a] - seat_x[o], y[a] - seat_y[o]) / speed
            cost[t] = visit_hours + travel[t]
        else:
            cost[t] = call_hours + 0.0
        t += 1
    task_segment = np.empty(total, dtype=segment.dtype)
    for t in range(total):
        task_segment[t] = segment[task_customer[t]]
    return (
        opportunity,
        unowned,
        vacant,
        rep,
        pool,
        at,
        kind,
        task_line,
        task_customer,
        task_segment,
        cost,
        value,
        days_left,
        travel,
        release,
        arrival,
        engages,
    )


def answer_day(week: int, start: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Business day of first responses made in ``week``, from each task's ``start`` on its rep's clock.

    The rep's ``capacity`` hours are spread evenly over the week's business
    days, so ``start`` hours into them is ``start / capacity`` of the way
    through the week. The allocation starts a response no earlier than its
    lead arrived and only when the rep is free (``sim.allocation``), so there
    is no look-ahead.
    """
    return DAYS * (week + start / np.maximum(capacity, 1e-9))
