"""The coverage model: a Mesa model whose reps are agents and customers are arrays.

One ``step`` is one week, its phases written out in order; each phase is
short and delegates to the owner of the state it changes: the population
(customers), the team (seats), the book (open opportunities), demand
(intensities and their draws) and the recorder (tallies). Policies replan at
quarter boundaries.
"""

from __future__ import annotations

import time
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim import shocks, stopping
from sim.allocation import Allocation, allocate_hours
from sim.clock import BUSINESS_DAYS_PER_WEEK as DAYS
from sim.clock import WEEKS_PER_QUARTER, ends_quarter, quarter_of, starts_quarter, week_in_quarter
from sim.codes import PARTNER, Cause, Draw, Kind, Service, Stage, Status, TaskKind
from sim.demand import Demand, SegmentTerms
from sim.distinct import distinct
from sim.engagement import conflicting_accounts
from sim.errors import PolicyError
from sim.opportunities import OpportunityBook
from sim.outcomes import decisions, new_opportunities, unattended_renewal
from sim.policies.protocol import (
    Policy,
    RouteView,
    Selling,
    Tasks,
    TaskView,
    ask,
    checked_plan,
    checked_priority,
    checked_route,
    checked_specialist_touches,
    checked_touches,
    policy_label,
    read_only,
    read_only_plan,
)
from sim.policies.rollout import with_rollout
from sim.policies.rules import empty_plan, standard_priority
from sim.population import Population
from sim.quarter_start import start_quarter
from sim.randomness import Streams, account_week, keyed_uniform
from sim.recorder import Recorder
from sim.reps import SeatWeek, Team
from sim.response import weekly_decay
from sim.scenario import Scenario
from sim.tasks import TaskList, answer_day, at_seat, week_tasks


class CoverageModel(mesa.Model):
    """A sales team covering a customer population under one coverage policy.

    Build it with a validated scenario, a policy and a seed; call ``step`` once
    per week (or use :func:`sim.run.run`). Results accumulate in the recorder
    (``metrics_frame``, ``weekly_frame``, ``lorenz_frame``).
    """

    def __init__(self, scenario: Scenario, policy: Policy, seed: int | None = None) -> None:
        self.seed_used = scenario.seed if seed is None else seed
        self.streams = Streams.from_seed(self.seed_used)
        super().__init__(rng=self.streams.mesa)
        self.scenario = scenario
        self.policy = with_rollout(policy, scenario)  # the new model of a rollout shock, else as given
        self.label: str = policy_label(type(self.policy))  # what results and messages call it
        self.week = 0
        self.weeks = scenario.weeks
        self.decay = weekly_decay(scenario.relationship.monthly_retention)
        self.population = Population.generate(scenario, self.streams.population)
        self.terms = SegmentTerms.of(scenario)
        self.demand = Demand(scenario, self.terms, self.population)
        self.team = Team(self, scenario, self.streams.reps)
        self.book = OpportunityBook.empty()
        self.recorder = Recorder(
            self.population, scenario.segment_names, scenario.metrics.low_value_quantile, scenario.reported_lines
        )
        n = self.population.size
        # Before the first quarter: nobody owns anything.
        self.plan = read_only_plan(checked_plan(empty_plan(n), n, len(self.team), "(none yet)"))
        self._cadenced = np.empty(0, dtype=np.int64)
        self._specialist_cells = np.empty(0, dtype=np.int64)  # flat (account, line) with a specialist cadence
        self._accounts = self.population.view(scenario.segment_names, scenario.line_names)
        self._account_mark = np.zeros(n, dtype=bool)  # scratch, all False between uses
        self.selling = Selling.of(scenario, self.decay)
        self.policy_seconds = 0.0  # wall-clock seconds in the policy's own calls (all of its methods)
        self._fault, self._asked = "", ""  # the policy's fault that stopped the run, if one did; its method last asked

    def ask(self, method: str, view: Any) -> Any:
        """The policy's answer to ``method`` on ``view`` (``sim.policies.protocol.ask``), its time counted."""
        start, self._asked = time.perf_counter(), method  # the method whose answer a fault is in
        try:
            return ask(self.policy, method, view, self.streams.policy)
        finally:
            self.policy_seconds += time.perf_counter() - start

    # ---- the week ---------------------------------------------------------------

    def step(self) -> None:
        """One week; a policy's fault is a PolicyError that names the quarter and week it came in, and the model
        steps no more (its week was left half done: shocks applied, say, and a new plan refused)."""
        if self._fault:
            raise PolicyError(f"{self._fault}; the run stopped there: build a new model")
        try:
            self._week()
        except PolicyError as e:
            w = self.week  # and view.week, as a policy's own code counts weeks (0 on), but in plan(): its view has none
            seen = "" if self._asked == "plan" else f"; view.week {w}"
            self._fault = f"{e} (quarter {quarter_of(w)}, week {week_in_quarter(w) + 1} of {WEEKS_PER_QUARTER}{seen})"
            raise PolicyError(self._fault) from e

    def _week(self) -> None:
        """One week, in this order (the same every week)."""
        w, q = self.week, quarter_of(self.week)
        if starts_quarter(w):
            start_quarter(self, q)  # shocks, the policy's plan, realignments, hand-offs, account plans
        seats = self._begin_week(w)  # reps: tenure, attrition, backfill; this week's team
        self.population.decay(self.decay)  # relationship carry-over
        self._arrivals(w)  # new opportunities (digital ones go to self-service); renewals opening
        handlers, extra, cells = self._route(w, seats)  # the policy routes opportunities without a handler
        self._work(w, seats, handlers, extra, cells)  # the policy prioritises; the engine spends each rep's hours
        self._expire(w, seats)  # response windows and sales cycles that ran out; digital decisions
        self._churn()  # customers leave at a hazard relieved by the relationship
        self._renewal_dates(w)  # contracts at their date: renewed by a rep, on their own, or ended
        self._end_week(w, seats)  # drop closed opportunities; recurring revenue, costs, weekly series
        if ends_quarter(w):
            self._close_quarter(q)  # the quarter's metrics
        self.week += 1

    def run(self, weeks: int | None = None) -> None:
        for _ in range(self.weeks if weeks is None else weeks):
            self.step()
            stopping.raise_if_asked()  # a Ctrl-C that numba's compiler swallowed

    def release(self) -> None:
        """Drop Mesa's class-level reference to this model (DESIGN §7: Agent._ids) and the references that make it
        a cycle; it cannot step after.

        Without this, every model ever built stays reachable through
        ``mesa.Agent._ids`` and a long batch in one process grows without bound.
        """
        self.remove_all_agents()
        mesa.Agent._ids.pop(self, None)
        # Mesa's Model holds bound methods of itself (its step, wrapped) and the team holds the model: cycles only
        # the garbage collector frees, so the run's arrays stayed held after it, and a second run in a process
        # peaked at twice one run's memory (5.2 GB at 10M accounts). Without them the model, and all it holds, goes
        # as soon as its last reference does; what it recorded can still be read until then.
        for cycle in ("step", "_user_step", "team"):
            self.__dict__.pop(cycle, None)

    # ---- quarter boundary -------------------------------------------------------

    def _change_hands(self, customers: np.ndarray, seats: np.ndarray, carry: float) -> None:
        c, lost = self.population.hand_over(customers, seats, carry)
        self.recorder.personal_lost(self.population.segment[c], lost)

    def _close_quarter(self, quarter: int) -> None:
        margin = self.scenario.metrics.gross_margin
        self.recorder.end_quarter(quarter, self.population, self.plan, self.book.segment.astype(np.int64), margin)

    # ---- reps -------------------------------------------------------------------

    def _begin_week(self, w: int) -> SeatWeek:
        left = self.team.begin_week(w, shocks.frozen_hiring(self.scenario.shocks, quarter_of(w)))
        self._vacated(left)
        seats = self.team.week(w)
        self.team.made_handoffs(seats.handoff)
        return seats

    def _vacated(self, seats: np.ndarray) -> None:
        """Holders of ``seats`` left: their deals wait for another closer; their personal relationships go,
        but for what a cold change of hands carries (notes in the CRM)."""
        if seats.size == 0:
            return
        self.book.release(seats)
        held = self.population.held_by(seats)
        self._change_hands(held, np.full(held.size, -1), self.scenario.relationship.handoff.cold_carry)

    def _touch(self, customers: np.ndarray, seats: np.ndarray, amount: np.ndarray | float) -> None:
        """Rep work adds relationship stock (personal with the covering rep; see ``Population.touch``)."""
        rel, plan = self.scenario.relationship, self.plan
        c, lost = self.population.touch(
            customers, seats, amount, plan.owner, rel.personal_share, rel.handoff.cold_carry, plan.specialist
        )
        self.recorder.personal_lost(self.population.segment[c], lost)

    # ---- customers --------------------------------------------------------------

    def _churn_accounts(self, customers: np.ndarray) -> None:
        """Customers leave; their open opportunities are lost."""
        if customers.size == 0:
            return
        if customers.size > 1:
            customers = distinct(customers)
        pop = self.population
        customers = customers[pop.status[customers] == Status.CUSTOMER]
        if customers.size == 0:
            return
        pop.churn(customers)
        self.recorder.churned(pop.segment[customers])
        self.demand.silence(customers)
        # A reusable mask over accounts: cheaper than np.isin's sort at millions of accounts.
        self._account_mark[customers] = True
        gone = self.book.open_of(self._account_mark)
        self._account_mark[customers] = False
        self._lose(gone)

    def _churn(self) -> None:
        self._churn_accounts(self.demand.churning(self.population, self.streams.churn))

    # ---- opportunities ----------------------------------------------------------

    def _arrivals(self, w: int) -> None:
        """New-logo and expansion opportunities at the accounts' intensities, and renewals opening on
        contract dates (except on digital accounts, whose contracts renew by themselves)."""
        pop, scenario, plan = self.population, self.scenario, self.plan
        arrived, place = self.demand.arrivals(pop, self.streams.arrivals, self.streams.outcome_key, w)
        renewing = pop.renewals_opening(w)
        renewing = renewing[~((plan.service[renewing] == Service.DIGITAL) & scenario.digital.enabled)]
        if arrived.size == 0 and renewing.size == 0:
            return
        columns = new_opportunities(
            scenario, self.terms, pop, plan.service, w, arrived, place, renewing, self.streams.outcome_key
        )
        self.book.add(**columns)
        self.recorder.created(columns["kind"], columns["segment"])

    def _route(self, w: int, seats: SeatWeek) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """This week's handler of every open opportunity (-1: none), the accounts whose owner the policy offers
        a touch beyond their cadence, and the (account, line) cells whose specialist it offers one (flat)."""
        b = self.book
        handlers = np.where(b.stage == Stage.IN_WORK, b.handler, -1)
        rows, opportunities = b.worked(w)
        pending, pend = b.pending(w, rows)
        free = np.maximum(seats.capacity - b.committed(w, seats.skill), 0.0)
        view = RouteView(w, self._accounts, seats.view, self.plan, pend, read_only(free), opportunities, self.selling)
        if pending.size:
            h = checked_route(self.ask("route", view), pend, seats.view, self.plan.seat_pool, self.label)
            handlers[pending] = h
            closer = pending[(pend.stage == Stage.IN_WORK) & (h >= 0) & at_seat(seats.filled, h, False)]
            b.assign(closer, handlers[closer])
        extra = checked_touches(self.ask("touches", view), self.plan.owner, self.label)
        lines = self.population.lines
        return (
            handlers,
            extra,
            checked_specialist_touches(self.ask("specialist_touches", view), self.plan, lines, self.label),
        )

    def _work(self, w: int, seats: SeatWeek, handlers: np.ndarray, extra: np.ndarray, cells: np.ndarray) -> None:
        """The policy prioritises the week's tasks (``extra``: accounts offered an owner's touch beyond their
        cadence; ``cells``: flat (account, line) cells offered a specialist's); the engine spends each rep's
        hours on them, in that order."""
        b = self.book
        _, opportunities = b.worked(w)
        touch = self._cadenced if extra.size == 0 else distinct(np.concatenate([self._cadenced, extra]))
        rec = self.recorder
        todo = week_tasks(
            w,
            b,
            handlers,
            seats,
            self.population,
            self.plan,
            touch,
            extra,
            rec.owner_touches(touch),
            self.scenario,
            self._specialist_cells,
            cells,
            rec.line_touches,
        )
        b.block(todo.unowned, Cause.NO_OWNER)
        b.block(todo.vacant, Cause.VACANCY)
        tasks = todo.tasks
        view = TaskView(w, self._accounts, seats.view, self.plan, tasks, opportunities, self.selling)
        answer = self.ask("prioritise", view)
        priority = checked_priority(answer, tasks, self.label)
        partners = seats.role_index == PARTNER
        partner = at_seat(partners, tasks.rep, False) if partners.any() else None
        if partner is not None and partner.any():
            # A channel partner follows its own priorities, not the policy's.
            priority = np.where(partner, standard_priority(tasks, view.accounts), priority)
        if not (seats.lane_lines.all() and seats.lane_kinds.all()):
            # A rep pursues only what it is paid on (its lane), whatever the policy asks.
            deal = (todo.opportunity >= 0) & (tasks.rep >= 0)
            lane = seats.view.pursues(tasks.rep[deal], tasks.line[deal], b.kind[todo.opportunity[deal]])
            priority[np.flatnonzero(deal)[~lane]] = 0.0
        alloc = allocate_hours(tasks.rep, tasks.cost, priority, seats.capacity, todo.release, todo.queues)
        # Responses the rep could not reach, or chose not to make; in a queue, that no rep of the pool took.
        response, queued = tasks.kind == TaskKind.RESPONSE, tasks.pool >= 0
        untaken = response & ~alloc.accepted & ~alloc.declined
        b.block(todo.opportunity[untaken & ~queued], Cause.OWNER_AT_CAPACITY)
        b.block(todo.opportunity[untaken & queued & ~todo.unstaffed], Cause.QUEUE_WAIT)
        b.block(todo.opportunity[untaken & todo.unstaffed], Cause.VACANCY)
        b.block(todo.opportunity[response & alloc.declined], Cause.SLA_EXPIRED)
        done, rep = alloc.accepted, alloc.seat  # who did each task: a queue task's rep is the one that took it
        rec.effort(seats, self.population.segment, tasks, rep, done, todo.travel)
        # Conflicts first: the week's clash weighs on every deal open on the account, those decided now too.
        clash = self._conflicts(w, seats, tasks, rep, done & todo.engages)
        self._respond(w, seats, todo, rep, alloc)
        self._deliver(seats, todo, rep, done)
        touched = done & (tasks.kind == TaskKind.TOUCH)
        act, reps = self.scenario.activities, rep[touched]
        self._touch(tasks.customer[touched], reps, np.where(seats.field[reps], act.visit_stock, act.call_stock))
        overlay = touched & (tasks.line >= 0)
        rec.specialist_touched(tasks.customer[overlay], tasks.line[overlay])
        # The clash costs the account part of its relationship, what the week's work added included.
        lost = self.population.strain(clash, 1.0 - self.scenario.relationship.conflict_stock_loss)
        rec.conflict_strain(self.population.segment[clash], lost)

    def _conflicts(self, w: int, seats: SeatWeek, tasks: Tasks, rep: np.ndarray, engaged: np.ndarray) -> np.ndarray:
        """Accounts two or more closing reps worked this week without coordination (recorded: their open
        deals are decided with ``conflict_penalty``); returns them."""
        engaged &= seats.can_close[np.maximum(rep, 0)]
        joins = None if self.plan.lanes_join else np.all(seats.lane_lines, axis=1)  # paid on every line: joins
        clash = conflicting_accounts(tasks.customer[engaged], rep[engaged], self.plan.coordinated, joins)
        self.recorder.conflicted(clash, w)
        return clash

    def _respond(self, w: int, seats: SeatWeek, todo: TaskList, rep: np.ndarray, alloc: Allocation) -> None:
        """First responses made this week (by ``rep``): on time, the deal moves to work; late, it is missed."""
        b, tasks = self.book, todo.tasks
        r = alloc.accepted & (tasks.kind == TaskKind.RESPONSE)
        ri, rr = todo.opportunity[r], rep[r]
        when = answer_day(w, alloc.start[r], seats.capacity[rr])
        stall = self.scenario.service.stall_factor
        late, delay = b.first_responses(ri, when, rr, seats.can_close, tasks.pool[r] >= 0, w, stall)
        self.recorder.sla(b.segment[ri], breached=late)
        self.recorder.treated(b.customer[ri], rr, ~late)
        self._touch(b.customer[ri], rr, self.scenario.activities.call_stock)  # a late answer still contacts
        self._miss(ri[late], Cause.SLA_EXPIRED)
        on_time = ri[~late]
        self.recorder.responded(b.segment[on_time], b.kind[on_time], rr[~late], delay)

    def _deliver(self, seats: SeatWeek, todo: TaskList, rep: np.ndarray, done: np.ndarray) -> None:
        """Effort delivered on deals in work (a rep's hours count times its skill); complete deals are decided."""
        tasks = todo.tasks
        worked = done & (tasks.kind == TaskKind.WORK)
        idx, hours, reps = todo.opportunity[worked], tasks.cost[worked], rep[worked]
        finished = self.book.deliver(idx, hours * seats.skill[reps])
        self._touch(self.book.customer[idx], reps, self.scenario.activities.work_stock_per_hour * hours)
        self._decide(finished, seats)

    def _miss(self, idx: np.ndarray, cause: np.ndarray | int) -> None:
        """Close opportunities as missed, each with exactly one cause (a missed renewal's contract is
        decided on its date, with no rep: ``_renewal_dates``)."""
        if idx.size == 0:
            return
        b = self.book
        b.close(idx)
        self.recorder.missed(cause, b.segment[idx], b.line[idx])

    def _cycle_weeks(self, idx: np.ndarray) -> np.ndarray:
        """Weeks from arrival to close of deals decided this week (closed at the week's end)."""
        return (self.week + 1) - self.book.day[idx] / DAYS

    def _lose(self, idx: np.ndarray) -> None:
        b = self.book
        b.close(idx)
        kind, segment = b.kind[idx].astype(np.int64), b.segment[idx].astype(np.int64)
        self.recorder.lost(kind, segment, self._cycle_weeks(idx), b.digital[idx])

    def _decide(self, idx: np.ndarray, seats: SeatWeek) -> None:
        """Win or lose opportunities whose effort is complete (or whose digital cycle ended)."""
        if idx.size == 0:  # half the calls under a policy with no digital channel
            return
        b, pop = self.book, self.population
        d = decisions(
            self.scenario,
            self.terms,
            pop,
            b,
            idx,
            seats.skill,
            seats.margin,
            self.recorder.last_conflict,
            self.streams.outcome_key,
        )
        if d.idx.size == 0:
            return
        b.close(d.idx)
        self.recorder.decided(d, self._cycle_weeks(d.idx))
        converted, new_logos = pop.won(d.customer[d.won], d.kind[d.won], d.value[d.won], d.line[d.won], self.week)
        self.recorder.new_logos(pop.segment[converted])
        self.demand.refresh(pop, new_logos)
        # A lost renewal's contract runs to its date and ends there (``_renewal_dates``), as a contract does.
        pop.renewal_refused(d.customer[~d.won & (d.kind == Kind.RENEWAL)])

    def _renewal_dates(self, w: int) -> None:
        """Contracts at their renewal date run another term if a rep won their renewal, and end if a rep
        lost it; the others are decided with no rep: renewed at ``unattended_renewal_value`` of their spend,
        or ended."""
        pop = self.population
        due = pop.renewals_due(w)
        if due.size == 0:
            return
        self.recorder.renewals_due(pop.segment[due])
        refused = pop.renewal_lost[due]
        alone = due[~pop.renewal_won[due] & ~refused]
        u = keyed_uniform(self.streams.outcome_key, account_week(alone, w), Draw.UNATTENDED_RENEWAL)
        stay = u < unattended_renewal(self.scenario, self.terms, pop, alone)
        kept = alone[stay]
        pop.renew(kept, pop.spend[kept] * self.scenario.service.unattended_renewal_value)
        pop.next_term(due)
        ended = np.union1d(due[refused], alone[~stay])
        self.recorder.ended_at_renewal(pop.segment[ended])
        self._churn_accounts(ended)

    def _expire(self, w: int, seats: SeatWeek) -> None:
        b = self.book
        unanswered, stalled, decided = b.expiring(w)
        self.recorder.sla(b.segment[unanswered], breached=True)
        c = b.customer[unanswered]
        self.recorder.treated(c, self.plan.owner[c], False)
        self._miss(unanswered, b.blocked[unanswered].astype(np.int64))
        self._miss(stalled, Cause.STALLED)
        self._decide(decided, seats)

    def _end_week(self, w: int, seats: SeatWeek) -> None:
        self.book.drop_closed()  # first: the book's size is then the open opportunities
        self.recorder.end_week(w, self.population.segment_spend, seats, len(self.book))

    # ---- results ----------------------------------------------------------------

    def metrics_frame(self, policy_label: str | None = None) -> pd.DataFrame:
        """The tidy table: policy, seed, quarter, segment, metric, value."""
        return self.recorder.metrics_frame(policy_label or self.label, self.seed_used)

    def seats_frame(self, policy_label: str | None = None) -> pd.DataFrame:
        """Each seat's load by quarter: policy, seed, quarter, seat, role, weeks_filled, capacity_hours, hours,
        utilisation."""
        return self.recorder.seats_frame(policy_label or self.label, self.seed_used)

    def weekly_frame(self, policy_label: str | None = None) -> pd.DataFrame:
        """The weekly series: policy, seed, week, metric, value."""
        return self.recorder.weekly_frame(policy_label or self.label, self.seed_used)

    def lorenz_frame(self, policy_label: str | None = None) -> pd.DataFrame:
        """Lorenz curves of rep attention over the run: policy, seed, segment, share_of_accounts, share_of_hours."""
        return self.recorder.lorenz_frame(self.population.segment, policy_label or self.label, self.seed_used)
