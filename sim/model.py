"""The coverage model: a Mesa model whose reps are agents and customers are arrays.

One ``step`` is one week. The order of events is written out in ``step`` and
is the same every week; policies replan at quarter boundaries.
"""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd

from sim.allocation import allocate_hours
from sim.errors import PolicyError
from sim.metrics import ALL, lorenz_curve, quarter_rows
from sim.opportunities import (
    AWAITING_RESPONSE,
    DRAW_CAPTURE,
    DRAW_DAY,
    DRAW_KIND,
    DRAW_RENEWAL_CHURN,
    DRAW_VALUE,
    DRAW_WIN,
    IN_WORK,
    NO_OWNER,
    OWNER_AT_CAPACITY,
    SLA_EXPIRED,
    STALLED,
    VACANCY,
    OpportunityBook,
)
from sim.policies.protocol import (
    DIGITAL,
    EXPANSION,
    HIGH_TOUCH,
    NEW_LOGO,
    RENEWAL,
    RESPONSE,
    TOUCH,
    WORK,
    Accounts,
    CoveragePlan,
    Pending,
    PlanView,
    Policy,
    RouteView,
    Tasks,
    TaskView,
    Team,
    read_only,
)
from sim.policies.rules import standard_priority
from sim.population import CHURNED, CUSTOMER, PROSPECT, Population
from sim.randomness import Streams, Thinning, box_muller, keyed_uniform, keyed_uniforms, normal_purposes
from sim.recorder import ACTIVITIES, AccountQuarter, QuarterTally
from sim.reps import Rep, seat_constants, seat_state, weekly_attrition
from sim.response import churn_relief, demand_lift, weekly_decay, weekly_hazard, win_probability
from sim.scenario import (
    BUSINESS_DAYS_PER_WEEK,
    OPPORTUNITY_KINDS,
    WEEKS_PER_QUARTER,
    WEEKS_PER_YEAR,
    Adbudg,
    RepGroup,
    Scenario,
)
from sim.shocks import apply_quarter_shocks, apply_realignments, frozen_hiring

DAYS = BUSINESS_DAYS_PER_WEEK
_VISIT, _CALL, _TRAVEL = ACTIVITIES.index("visit"), ACTIVITIES.index("call"), ACTIVITIES.index("travel")


class CoverageModel(mesa.Model):
    """A sales team covering a customer population under one coverage policy.

    Build it with a validated scenario, a policy and a seed; call ``step`` once
    per week (or use :func:`sim.run.run`). Results accumulate in ``rows`` (the
    tidy quarterly metrics) and ``weekly`` (a weekly time series).
    """

    def __init__(self, scenario: Scenario, policy: Policy, seed: int | None = None) -> None:
        self.seed_used = scenario.seed if seed is None else seed
        self.streams = Streams.from_seed(self.seed_used)
        super().__init__(rng=self.streams.mesa)
        self.scenario = scenario
        self.policy = policy
        self.week = 0
        self.weeks = scenario.weeks
        self.response_fn = scenario.relationship.response
        self.decay = weekly_decay(scenario.relationship.monthly_retention)
        self.population = Population.generate(scenario, self.streams.population)
        self._accounts = self._read_only_accounts()
        n = self.population.size
        segs = scenario.population.segments
        self.n_segments = len(segs)

        # Segment x kind parameter tables.
        def table(attr: str) -> np.ndarray:
            return np.array([[getattr(getattr(s, k), attr) for k in OPPORTUNITY_KINDS] for s in segs], dtype=np.float64)

        self.rate = table("rate_per_year")
        self.effort = table("effort_hours")
        self.cycle = table("cycle_weeks")
        self.base_win = table("win_probability")
        self.value_share = table("value_share")
        self.value_sigma = np.array([s.value_sigma for s in segs])
        self.median_potential = np.array([s.potential_median for s in segs])
        self.potential_exponent = np.array([s.potential_exponent for s in segs])
        self.base_hazard = weekly_hazard(np.array([s.churn_per_year for s in segs]))
        self.demand = np.ones((self.n_segments, len(OPPORTUNITY_KINDS)))

        self.lifted_rate = np.zeros(n)  # weekly intensity lifted by the relationship (new logo / expansion)
        self.flat_rate = np.zeros(n)  # weekly intensity not lifted (renewal)
        self.hazard0 = np.zeros(n)  # weekly churn probability with no relationship
        self._account_mark = np.zeros(n, dtype=bool)  # scratch, all False between uses
        self._churn_draws = Thinning.by_group(self.population.segment, self.base_hazard)
        self.refresh_rates()
        q = scenario.metrics.low_value_quantile
        self.low_value = self.population.potential < np.quantile(self.population.potential, q)

        self.seats: list[Rep] = []
        for group in scenario.reps:
            self._add_seats(group, group.count, hired_week=-WEEKS_PER_QUARTER * len(scenario.workforce.ramp))
        self._seat_constants = seat_constants(self.seats)

        self.book = OpportunityBook.empty()
        self._closed = np.zeros(0, dtype=bool)
        self.plan = CoveragePlan(
            owner=np.full(n, -1, dtype=np.int64),
            service=np.zeros(n, dtype=np.int8),
            cadence=np.zeros(n),
            coordinated=np.zeros(n, dtype=bool),
        )
        self._cadenced = np.empty(0, dtype=np.int64)
        self.tally = QuarterTally(self.n_segments)
        self._reset_quarter_accounts()
        self.touch_hours_run = np.zeros(n)  # rep hours each account received over the whole run
        self.rows: list[tuple[int, str, str, float]] = []
        self.weekly: list[tuple[int, str, float]] = []
        self.team: Team | None = None

    # ---- the week ---------------------------------------------------------------

    def step(self) -> None:
        """One week, in this order (the same every week)."""
        w = self.week
        if w % WEEKS_PER_QUARTER == 0:
            self._start_quarter(w // WEEKS_PER_QUARTER + 1)  # shocks, then the policy's plan
        self._begin_week(w)  # reps: tenure, attrition, backfill; capacity
        self.population.decay(self.decay)  # relationship carry-over
        self._arrivals(w)  # new opportunities (digital ones go to self-service)
        handlers = self._route(w)  # the policy routes opportunities without a handler
        self._work(w, handlers)  # the policy prioritises; the engine spends each rep's hours
        self._expire(w)  # response windows and sales cycles that ran out; digital decisions
        self._churn(w)  # customers leave at a hazard relieved by the relationship
        self._end_week(w)  # recurring revenue, costs, weekly series; drop closed
        if (w + 1) % WEEKS_PER_QUARTER == 0:
            self._end_quarter(w // WEEKS_PER_QUARTER + 1)
        self.week += 1

    def run(self, weeks: int | None = None) -> None:
        for _ in range(self.weeks if weeks is None else weeks):
            self.step()

    def release(self) -> None:
        """Drop Mesa's class-level reference to this model (DESIGN §7: Agent._ids).

        Without this, every model ever built stays reachable through
        ``mesa.Agent._ids`` and a long batch in one process grows without bound.
        """
        self.remove_all_agents()
        mesa.Agent._ids.pop(self, None)

    # ---- quarter boundary -------------------------------------------------------

    def _start_quarter(self, quarter: int) -> None:
        self.population.recount_spend()  # bound the rounding drift of the running segment totals
        self.tally = QuarterTally(self.n_segments)
        self._reset_quarter_accounts()
        apply_quarter_shocks(self, quarter, self.streams.shocks)
        view = PlanView(quarter=quarter, accounts=self._accounts, team=self._team_view(), previous=self.plan)
        self.plan = self._checked_plan(self.policy.plan(view, self.streams.policy))
        p = self.plan
        self._plan_read_only = CoveragePlan(
            read_only(p.owner), read_only(p.service), read_only(p.cadence), read_only(p.coordinated)
        )
        self._cadenced = np.flatnonzero(self.plan.cadence > 0)
        apply_realignments(self, quarter, self.streams.shocks)

    def _reset_quarter_accounts(self) -> None:
        n = self.population.size
        self.touches_q = np.zeros(n, dtype=np.int64)
        self.touch_hours_q = np.zeros(n)
        self.coverer_q = np.full(n, -1, dtype=np.int64)
        self.closer_q = np.full(n, -1, dtype=np.int64)
        self.conflict_q = np.zeros(n, dtype=bool)
        self.won_value_q = np.zeros(n)

    def _checked_plan(self, plan: CoveragePlan) -> CoveragePlan:
        n, seats = self.population.size, len(self.seats)
        name = self.policy.name
        if not isinstance(plan, CoveragePlan):
            raise PolicyError(f"policy {name}: plan() must return a CoveragePlan, got {type(plan).__name__}")
        out = {}
        for field, dtype in (("owner", np.int64), ("service", np.int8), ("cadence", np.float64), ("coordinated", bool)):
            a = np.asarray(getattr(plan, field))
            if a.shape != (n,):
                raise PolicyError(f"policy {name}: plan.{field} has shape {a.shape}, expected ({n},)")
            out[field] = a.astype(dtype, copy=True)
        if out["owner"].min(initial=0) < -1 or out["owner"].max(initial=-1) >= seats:
            raise PolicyError(f"policy {name}: plan.owner holds a seat outside -1..{seats - 1}")
        if not ((out["service"] >= 0) & (out["service"] <= 2)).all():
            raise PolicyError(f"policy {name}: plan.service must be 0 (digital), 1 (pooled) or 2 (high touch)")
        if not (np.isfinite(out["cadence"]).all() and (out["cadence"] >= 0).all()):
            raise PolicyError(f"policy {name}: plan.cadence must be finite and >= 0")
        return CoveragePlan(**out)

    def _end_quarter(self, quarter: int) -> None:
        pop = self.population
        open_by_segment = np.bincount(self.book.segment, minlength=self.n_segments).astype(np.float64)
        accounts = AccountQuarter(
            segment=pop.segment,
            status=pop.status,
            potential=pop.potential,
            spend=pop.spend,
            ever_touched=pop.ever_touched,
            cadence=self.plan.cadence,
            touches=self.touches_q,
            touch_hours=self.touch_hours_q,
            coverer=self.coverer_q,
            conflict=self.conflict_q,
            won_value=self.won_value_q,
            segment_potential=pop.segment_potential,
            open_opportunities=open_by_segment,
        )
        rows = quarter_rows(self.tally, accounts, self.scenario.segment_names, self.scenario.metrics.gross_margin)
        for segment, metric, value in rows:
            self.rows.append((quarter, segment, metric, value))

    # ---- reps ---------------------------------------------------------------------

    def _add_seats(self, group: RepGroup, count: int, hired_week: int) -> None:
        regions = self.scenario.population.regions
        rng = self.streams.reps
        for i in range(count):
            r = [g.name for g in regions].index(group.region) if group.region else i % len(regions)
            reg = regions[r]
            x = reg.x_km + 0.5 * reg.radius_km * float(rng.standard_normal())
            y = reg.y_km + 0.5 * reg.radius_km * float(rng.standard_normal())
            skill = max(0.1, group.skill_mean + group.skill_sd * float(rng.standard_normal()))
            rep = Rep(self, len(self.seats), group, skill, x, y, r, hired_week)
            self.seats.append(rep)

    def add_specialists(self, count: int) -> None:
        """New overlay specialist seats (an overlay launch), starting at the bottom of the ramp."""
        self._add_seats(RepGroup(role="specialist", count=count), count, hired_week=self.week)

    def vacate_seat(self, rep: Rep) -> None:
        """The seat's holder leaves; deals it was working lose their handler."""
        rep.vacate(self.week)
        self._release_deals(rep.seat)

    def _release_deals(self, seat: int) -> None:
        """Deals a vacated seat was working wait for another closer."""
        b = self.book
        b.handler[(b.handler == seat) & (b.stage == IN_WORK)] = -1

    def _begin_week(self, w: int) -> None:
        wf = self.scenario.workforce
        n = len(self.seats)
        leave = self.streams.reps.random(n).tolist()
        skill = self.streams.reps.standard_normal(n).tolist()
        frozen = frozen_hiring(self.scenario, w // WEEKS_PER_QUARTER + 1)
        attrition = weekly_attrition(wf.attrition_per_year)
        for rep in self.seats:  # seat order, every week
            was_filled = rep.filled
            rep.begin_week(leave[rep.seat], skill[rep.seat], w, attrition, wf.backfill_weeks, frozen)
            if was_filled and not rep.filled:
                self._release_deals(rep.seat)
        self._seat_info = self._seat_arrays(w)
        self.team = self._team_view(self._seat_info)

    def _seat_arrays(self, week: int) -> dict[str, np.ndarray]:
        """The team in ``week`` as arrays, one entry per seat."""
        if len(self._seat_constants["role"]) != len(self.seats):
            self._seat_constants = seat_constants(self.seats)
        return {**self._seat_constants, **seat_state(self.seats, self.scenario.workforce.ramp, week)}

    def _team_view(self, a: dict[str, np.ndarray] | None = None) -> Team:
        if a is None:
            a = self._seat_arrays(self.week)
        return Team(
            **{
                k: read_only(a[k])
                for k in ("role", "field", "can_close", "filled", "capacity", "skill", "x", "y", "region")
            }
        )

    # ---- customers ----------------------------------------------------------------

    def refresh_rates(self, idx: np.ndarray | None = None) -> None:
        """Recompute arrival intensities and base hazards (after status, demand or potential changes).

        A full refresh (``idx`` None: at the start, after a demand or potential
        shock) also rebuilds the arrival draws' bounds, which depend on the
        scenario alone, never on what a policy did.
        """
        if idx is not None and idx.size == 0:
            return
        pop = self.population
        sel = slice(None) if idx is None else idx
        seg = pop.segment[sel]
        status = pop.status[sel]
        scale = (pop.potential[sel] / self.median_potential[seg]) ** self.potential_exponent[seg]
        r = self.rate * self.demand / WEEKS_PER_YEAR
        lifted = (
            np.where(status == PROSPECT, r[seg, NEW_LOGO], np.where(status == CUSTOMER, r[seg, EXPANSION], 0.0)) * scale
        )
        self.lifted_rate[sel] = lifted
        self.flat_rate[sel] = np.where(status == CUSTOMER, r[seg, RENEWAL], 0.0)
        self.hazard0[sel] = np.where(status == CUSTOMER, self.base_hazard[seg], 0.0)
        if idx is None:
            # Whatever its status and relationship, an account's weekly intensity is at most this.
            fn = self.response_fn
            top_lift = max(fn.a, fn.b) if isinstance(fn, Adbudg) else fn.cap
            most = np.maximum(r[seg, NEW_LOGO], r[seg, EXPANSION]) * scale * top_lift + r[seg, RENEWAL]
            self._arrival_draws = Thinning.by_bound(-np.expm1(-most) * (1.0 + 1e-9))

    def churn_accounts(self, customers: np.ndarray) -> None:
        """Customers leave; their open opportunities are lost."""
        if customers.size == 0:
            return
        if customers.size > 1:
            customers = np.unique(customers)
        customers = customers[self.population.status[customers] == CUSTOMER]
        if customers.size == 0:
            return
        self.population.churn(customers)
        self.tally.add(self.tally.churned, self.population.segment[customers])
        # What refresh_rates gives a churned account, without its work: nothing arrives, nothing to lose.
        self.lifted_rate[customers] = 0.0
        self.flat_rate[customers] = 0.0
        self.hazard0[customers] = 0.0
        b = self.book
        # A reusable mask over accounts: cheaper than np.isin's sort at millions of accounts.
        self._account_mark[customers] = True
        gone = np.flatnonzero(self._account_mark[b.customer] & ~self._closed)
        self._account_mark[customers] = False
        self._count_lost(gone)

    def _read_only_accounts(self) -> Accounts:
        """Read-only views of the population for policies (built once: its arrays change in place)."""
        pop = self.population
        return Accounts(
            segment=read_only(pop.segment),
            segment_names=self.scenario.segment_names,
            region=read_only(pop.region),
            x=read_only(pop.x),
            y=read_only(pop.y),
            potential=read_only(pop.potential),
            status=read_only(pop.status),
            spend=read_only(pop.spend),
            stock=read_only(pop.stock),
        )

    # ---- opportunities --------------------------------------------------------------

    def _arrivals(self, w: int) -> None:
        pop = self.population
        c, bound, u = self._arrival_draws.candidates(self.streams.arrivals)
        # Accounts never touched have no stock to lift them: the response's base level (most candidates).
        lift = np.full(c.size, self.response_fn.b)
        touched = np.flatnonzero(pop.ever_touched[c])
        lift[touched] = demand_lift(pop.stock[c[touched]], pop.responsiveness[c[touched]], self.response_fn)
        lifted = self.lifted_rate[c] * lift
        p = -np.expm1(-(lifted + self.flat_rate[c]))
        if np.any(p > bound):
            raise RuntimeError("an arrival probability exceeded its bound (an engine bug)")
        hit = u * bound < p
        c, lifted = c[hit], lifted[hit]
        if c.size == 0:
            return
        key = c * self.weeks + w
        seg = pop.segment[c].astype(np.int64)
        u_kind, u_day, u_capture = keyed_uniforms(self.streams.outcome_key, key, (DRAW_KIND, DRAW_DAY, DRAW_CAPTURE))
        flat = self.flat_rate[c]
        renewal = u_kind * (lifted + flat) < flat
        kind = np.where(pop.status[c] == PROSPECT, NEW_LOGO, np.where(renewal, RENEWAL, EXPANSION))
        day = DAYS * (w + u_day)
        service = self.plan.service[c]
        dig = self.scenario.digital
        digital = (service == DIGITAL) & dig.enabled & (u_capture < dig.capture)
        sv = self.scenario.service
        window = np.where(service == HIGH_TOUCH, sv.high_touch_window_days, sv.pooled_window_days)
        effort = self.effort[seg, kind]
        cycle = self.cycle[seg, kind]
        value = self._value_estimate(c, kind)
        self.book.add(
            key=key,
            customer=c,
            segment=seg,
            kind=kind,
            stage=np.where(digital, IN_WORK, AWAITING_RESPONSE),
            digital=digital,
            day=day,
            sla_deadline=day + window,
            effort_left=np.where(digital, 0.0, effort),
            chunk=effort / cycle,
            work_deadline=np.where(digital, w + cycle, -1).astype(np.int64),
            handler=np.full(c.size, -1),
            blocked=np.full(c.size, NO_OWNER),
            expected_value=self.base_win[seg, kind] * value,
            responded=np.full(c.size, -1),
        )
        self._closed = np.concatenate([self._closed, np.zeros(c.size, dtype=bool)])
        self.tally.count(self.tally.created, kind, seg)

    def _value_estimate(self, c: np.ndarray, kind: np.ndarray) -> np.ndarray:
        """Expected won value: a share of the untapped wallet (new logo, expansion) or of spend (renewal)."""
        pop = self.population
        untapped = np.maximum(pop.potential[c] - pop.spend[c], 0.0)
        base = np.where(kind == RENEWAL, pop.spend[c], untapped)
        return self.value_share[pop.segment[c], kind] * base

    def _route(self, w: int) -> np.ndarray:
        """This week's handler of every open opportunity (-1: none)."""
        b = self.book
        handlers = np.where(b.stage == IN_WORK, b.handler, -1)
        pending = np.flatnonzero(~b.digital & ~self._closed & ((b.stage == AWAITING_RESPONSE) | (b.handler < 0)))
        if pending.size == 0:
            return handlers
        stage = b.stage[pending]
        days_left = np.where(
            stage == AWAITING_RESPONSE,
            b.sla_deadline[pending] - DAYS * w,
            DAYS * (b.work_deadline[pending] + 1 - w),
        )
        pend = Pending(
            customer=read_only(b.customer[pending]),
            segment=read_only(b.segment[pending]),
            kind=read_only(b.kind[pending]),
            stage=read_only(stage),
            expected_value=read_only(b.expected_value[pending]),
            days_left=read_only(days_left),
        )
        assert self.team is not None
        view = RouteView(week=w, accounts=self._accounts, team=self.team, plan=self._plan_read_only, pending=pend)
        h = self._checked_vector(self.policy.route(view, self.streams.policy), pending.size, "route", integer=True)
        if h.min(initial=0) < -1 or h.max(initial=-1) >= len(self.seats):
            raise PolicyError(f"policy {self.policy.name}: route() returned a seat outside -1..{len(self.seats) - 1}")
        needs_closer = (stage == IN_WORK) & (h >= 0)
        if needs_closer.any() and not self.team.can_close[h[needs_closer]].all():
            raise PolicyError(f"policy {self.policy.name}: route() gave a deal to a seat that cannot close (an SDR)")
        handlers[pending] = h
        closer = pending[needs_closer & _at_seat(self.team.filled, h, False)]
        b.handler[closer] = handlers[closer]
        return handlers

    def _checked_vector(self, a: object, n: int, what: str, integer: bool) -> np.ndarray:
        arr = np.asarray(a)
        if arr.shape != (n,):
            raise PolicyError(f"policy {self.policy.name}: {what}() returned shape {arr.shape}, expected ({n},)")
        if integer and arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise PolicyError(f"policy {self.policy.name}: {what}() must return integer seat indices")
        return arr.astype(np.int64 if integer else np.float64)

    def _work(self, w: int, handlers: np.ndarray) -> None:
        assert self.team is not None
        b, pop, team, act = self.book, self.population, self.team, self.scenario.activities
        open_ = ~self._closed & ~b.digital
        # Response tasks: opportunities awaiting a first response, with a handler in a filled seat.
        resp = np.flatnonzero(open_ & (b.stage == AWAITING_RESPONSE))
        h = handlers[resp]
        b.blocked[resp[h < 0]] = NO_OWNER
        vacant = (h >= 0) & ~_at_seat(team.filled, h, False)
        b.blocked[resp[vacant]] = VACANCY
        resp = resp[(h >= 0) & ~vacant]
        # Work tasks: responded deals with a closer, effort outstanding, from the week after response.
        work = np.flatnonzero(
            open_ & (b.stage == IN_WORK) & (b.handler >= 0) & (b.effort_left > 1e-9) & (b.responded < w)
        )
        # Touch tasks: planned cadence that is behind schedule, for owners in filled seats.
        c = self._cadenced
        owner = self.plan.owner[c]
        wq = w % WEEKS_PER_QUARTER
        due = (owner >= 0) & (pop.status[c] != CHURNED)
        due &= _at_seat(team.filled, owner, False)
        due &= self.touches_q[c] < self.plan.cadence[c] * (wq + 1) / WEEKS_PER_QUARTER
        c, owner = c[due], owner[due]
        field = team.field[owner]
        distance = np.hypot(pop.x[c] - team.x[owner], pop.y[c] - team.y[owner])
        travel = np.where(field, distance / self.scenario.workforce.travel_speed_kmh, 0.0)
        touch_cost = np.where(field, act.visit_hours, act.call_hours) + travel

        kind = np.concatenate([np.full(resp.size, RESPONSE), np.full(work.size, WORK), np.full(c.size, TOUCH)]).astype(
            np.int8
        )
        opp = np.concatenate([resp, work, np.full(c.size, -1)])
        rep = np.concatenate([handlers[resp], b.handler[work], owner]).astype(np.int64)
        customer = np.concatenate([b.customer[resp], b.customer[work], c]).astype(np.int64)
        cost = np.concatenate(
            [np.full(resp.size, act.response_hours), np.minimum(b.chunk[work], b.effort_left[work]), touch_cost]
        )
        travel_all = np.concatenate([np.zeros(resp.size + work.size), travel])
        days_left = np.concatenate(
            [b.sla_deadline[resp] - DAYS * w, DAYS * (b.work_deadline[work] + 1 - w), np.full(c.size, np.inf)]
        )
        ev = np.concatenate([b.expected_value[resp], b.expected_value[work], np.zeros(c.size)])
        tasks = Tasks(
            rep=read_only(rep),
            kind=read_only(kind),
            customer=read_only(customer),
            segment=read_only(pop.segment[customer]),
            cost=read_only(cost),
            expected_value=read_only(ev),
            days_left=read_only(days_left),
        )
        view = TaskView(week=w, accounts=self._accounts, team=team, plan=self._plan_read_only, tasks=tasks)
        priority = self._checked_vector(
            self.policy.prioritise(view, self.streams.policy), rep.size, "prioritise", integer=False
        )
        partner = self._seat_info["role"][rep] == "partner"
        if partner.any():
            # A channel partner follows its own priorities, not the policy's.
            priority = np.where(partner, standard_priority(tasks, view.accounts), priority)
        capacity = self._seat_info["capacity"]
        alloc = allocate_hours(rep, cost, priority, capacity)
        done = alloc.accepted

        # Responses the rep could not reach, or chose not to make.
        r_mask = kind == RESPONSE
        b.blocked[opp[r_mask & ~done & ~alloc.declined]] = OWNER_AT_CAPACITY
        b.blocked[opp[r_mask & alloc.declined]] = SLA_EXPIRED
        self._record_effort(rep[done], customer[done], kind[done], cost[done], travel_all[done])

        # Responses made: on time, the deal moves to work; late, it is missed.
        r = done & r_mask
        ri, rr = opp[r], rep[r]
        # The rep's week is spread evenly over its business days, tasks in the order
        # taken; a deal that arrived this week is answered in the part after it arrived.
        position = alloc.start[r] / np.maximum(capacity[rr], 1e-9)
        week_start = float(DAYS * w)
        begin = np.maximum(b.day[ri], week_start)
        when = begin + (week_start + DAYS - begin) * position
        late = when > b.sla_deadline[ri]
        self._count_sla(ri, breached=late)
        pop.touch(b.customer[ri], act.call_stock)  # a late answer still contacts the account
        self._miss(ri[late], SLA_EXPIRED)
        ok, okr = ri[~late], rr[~late]
        self.tally.response_segment.append(b.segment[ok].astype(np.int64))
        self.tally.response_rep.append(okr)
        self.tally.response_days.append(when[~late] - b.day[ok])
        b.stage[ok] = IN_WORK
        b.responded[ok] = w
        cycles = self.cycle[b.segment[ok], b.kind[ok]]
        b.work_deadline[ok] = w + np.ceil(cycles * self.scenario.service.stall_factor).astype(np.int64)
        b.handler[ok] = np.where(team.can_close[okr], okr, -1)  # an SDR hands off to a closer

        # Work delivered; deals whose effort is complete are decided.
        wk = done & (kind == WORK)
        wi = opp[wk]
        b.effort_left[wi] -= cost[wk]
        pop.touch(b.customer[wi], act.work_stock_per_hour * cost[wk])
        finished = wi[b.effort_left[wi] <= 1e-9]
        self._decide(finished)

        # Planned touches.
        t = done & (kind == TOUCH)
        pop.touch(customer[t], np.where(team.field[rep[t]], act.visit_stock, act.call_stock))

    def _record_effort(
        self, rep: np.ndarray, customer: np.ndarray, kind: np.ndarray, cost: np.ndarray, travel: np.ndarray
    ) -> None:
        """Hours, attention and conflicts of the tasks done this week."""
        if rep.size == 0:
            return
        assert self.team is not None
        pop, t, team = self.population, self.tally, self.team
        seg = pop.segment[customer]
        field = team.field[rep]
        activity = np.where(kind == RESPONSE, 0, np.where(kind == WORK, 1, np.where(field, _VISIT, _CALL)))
        t.count(t.hours, activity, seg, cost - travel)
        t.count(t.hours, np.full(rep.size, _TRAVEL), seg, travel)
        t.add(t.hours_low_value, seg[self.low_value[customer]], cost[self.low_value[customer]])
        np.add.at(t.role_hours, self._seat_info["role_index"][rep], cost)
        np.add.at(self.touch_hours_q, customer, cost)
        np.add.at(self.touch_hours_run, customer, cost)
        np.add.at(self.touches_q, customer, 1)
        self.coverer_q[customer] = rep
        # Conflicting engagements: two or more closing seats on one account in the quarter.
        closing = team.can_close[rep]
        cc, cr = customer[closing], rep[closing]
        previous = self.closer_q[cc]
        self.closer_q[cc] = cr  # where an account has several tasks, one seat's write wins ...
        several = self.closer_q[cc] != cr  # ... so a task whose seat lost shares its account with another seat
        clash = several | ((previous >= 0) & (previous != cr))
        self.conflict_q[cc[clash & ~self.plan.coordinated[cc]]] = True

    def _count_sla(self, idx: np.ndarray, breached: np.ndarray | bool) -> None:
        seg = self.book.segment[idx]
        self.tally.add(self.tally.sla_due, seg)
        self.tally.add(self.tally.sla_breached, seg, np.asarray(breached, dtype=np.float64))

    def _miss(self, idx: np.ndarray, cause: np.ndarray | int) -> None:
        """Close opportunities as missed, each with exactly one cause.

        A customer whose renewal is missed leaves with probability
        ``missed_renewal_churn``; otherwise the contract renews on its own.
        """
        if idx.size == 0:
            return
        b = self.book
        self._closed[idx] = True
        self.tally.count(self.tally.missed, cause, b.segment[idx])
        renewals = idx[b.kind[idx] == RENEWAL]
        if renewals.size == 0:
            return
        u = keyed_uniform(self.streams.outcome_key, b.key[renewals], DRAW_RENEWAL_CHURN)
        self.churn_accounts(b.customer[renewals[u < self.scenario.service.missed_renewal_churn]])

    def _decide(self, idx: np.ndarray) -> None:
        """Win or lose opportunities whose effort is complete (or whose digital cycle ended)."""
        idx = idx[~self._closed[idx]]  # a churn earlier this week may have closed some
        if idx.size == 0:
            return
        assert self.team is not None
        b, pop, rel = self.book, self.population, self.scenario.relationship
        c, seg, kind, digital = (
            b.customer[idx],
            b.segment[idx].astype(np.int64),
            b.kind[idx].astype(np.int64),
            b.digital[idx],
        )
        handler = b.handler[idx]
        dig = self.scenario.digital
        skill = _at_seat(self._seat_info["skill"], handler, 1.0)
        factor = np.where(kind == RENEWAL, dig.renewal_win_factor, dig.win_factor)
        base = self.base_win[seg, kind] * np.where(digital, factor, 1.0)
        conflict = self.conflict_q[c] & ~self.plan.coordinated[c]
        p = win_probability(base, pop.stock[c], pop.responsiveness[c], skill, conflict.astype(np.float64), rel)
        u_win, *u_value = keyed_uniforms(self.streams.outcome_key, b.key[idx], (DRAW_WIN, *normal_purposes(DRAW_VALUE)))
        won = u_win < p
        self._count_lost(idx[~won])
        lost_renewals = c[~won & (kind == RENEWAL)]
        # Values are computed for the won deals only: nothing reads a lost deal's value.
        idx, c, seg, kind, digital, handler = idx[won], c[won], seg[won], kind[won], digital[won], handler[won]
        sigma = self.value_sigma[seg]
        noise = np.exp(sigma * box_muller(u_value[0][won], u_value[1][won]) - sigma**2 / 2)
        value = self._value_estimate(c, kind) * np.where(kind == RENEWAL, 1.0, noise)
        value *= np.where(digital & (kind != RENEWAL), dig.value_factor, 1.0)
        margin = _at_seat(self._seat_info["margin"], handler, 0.0) * value
        self._count_won(idx, value - margin, margin)
        self.tally.add(self.tally.digital_won, seg[digital])
        np.add.at(self.won_value_q, c, value - margin)
        new = (kind == NEW_LOGO) & (pop.status[c] != CHURNED)
        converted = np.unique(c[new & (pop.status[c] == PROSPECT)])
        self.tally.add(self.tally.new_logos, pop.segment[converted])
        pop.convert(c[new], value[new])
        exp = (kind == EXPANSION) & (pop.status[c] == CUSTOMER)
        pop.expand(c[exp], value[exp])
        ren = (kind == RENEWAL) & (pop.status[c] == CUSTOMER)
        pop.renew(c[ren], value[ren])
        self.refresh_rates(np.unique(c[new]))
        self.churn_accounts(lost_renewals)

    def _count_lost(self, idx: np.ndarray) -> None:
        b, t = self.book, self.tally
        self._closed[idx] = True
        t.count(t.lost, b.kind[idx].astype(np.int64), b.segment[idx].astype(np.int64))
        self._count_cycle(idx)

    def _count_cycle(self, idx: np.ndarray) -> None:
        """Weeks from arrival to close of deals won or lost this week (closed at the week's end)."""
        b = self.book
        self.tally.add(self.tally.cycle_weeks, b.segment[idx], (self.week + 1) - b.day[idx] / DAYS)

    def _count_won(self, idx: np.ndarray, value: np.ndarray, margin: np.ndarray) -> None:
        """Close won deals: ``value`` is what the company keeps, ``margin`` what a partner kept (currency)."""
        b, t = self.book, self.tally
        self._closed[idx] = True
        seg, kind = b.segment[idx].astype(np.int64), b.kind[idx].astype(np.int64)
        t.count(t.won, kind, seg)
        t.count(t.won_value, kind, seg, value)
        t.add(t.partner_margin, seg, margin)
        self._count_cycle(idx)

    def _expire(self, w: int) -> None:
        b = self.book
        open_ = ~self._closed
        end_day = DAYS * (w + 1)
        unanswered = np.flatnonzero(open_ & ~b.digital & (b.stage == AWAITING_RESPONSE) & (b.sla_deadline <= end_day))
        self._count_sla(unanswered, breached=True)
        self._miss(unanswered, b.blocked[unanswered].astype(np.int64))
        open_ = ~self._closed
        stalled = np.flatnonzero(
            open_ & ~b.digital & (b.stage == IN_WORK) & (b.effort_left > 1e-9) & (b.work_deadline <= w)
        )
        self._miss(stalled, STALLED)
        open_ = ~self._closed
        self._decide(np.flatnonzero(open_ & b.digital & (b.work_deadline <= w)))

    def _churn(self, w: int) -> None:
        pop = self.population
        c, bound, u = self._churn_draws.candidates(self.streams.churn)
        hazard = self.hazard0[c] * churn_relief(pop.stock[c], self.scenario.relationship)
        self.churn_accounts(c[u * bound < hazard])

    def _end_week(self, w: int) -> None:
        pop, t = self.population, self.tally
        weekly_spend = np.maximum(pop.segment_spend, 0.0) / WEEKS_PER_YEAR  # running sums may drift below 0 by 1e-12
        t.recurring += weekly_spend
        info = self._seat_info
        filled = info["filled"]
        own = filled & (info["role"] != "partner")
        t.seat_cost += float(info["cost_per_year"][filled].sum()) / WEEKS_PER_YEAR
        t.filled_seat_weeks += float(own.sum())
        np.add.at(t.role_capacity, info["role_index"], info["capacity"])
        self.weekly.append((w, "recurring_revenue", float(weekly_spend.sum())))
        self.weekly.append((w, "open_opportunities", float((~self._closed).sum())))
        self.weekly.append((w, "capacity_hours", float(info["capacity"].sum())))
        self.weekly.append((w, "filled_seats", float(filled.sum())))
        self.book.keep(~self._closed)
        self._closed = np.zeros(len(self.book), dtype=bool)

    # ---- results ----------------------------------------------------------------

    def metrics_frame(self, policy_label: str | None = None) -> pd.DataFrame:
        """The tidy table: policy, seed, quarter, segment, metric, value."""
        df = pd.DataFrame(self.rows, columns=["quarter", "segment", "metric", "value"])
        df.insert(0, "seed", self.seed_used)
        df.insert(0, "policy", policy_label or self.policy.name)
        return df

    def lorenz_frame(self) -> pd.DataFrame:
        """Lorenz curves of attention over the run: share of rep hours received by the
        least-attended share of accounts, per segment and for all (segment, share_of_accounts, share_of_hours)."""
        rows = []
        # Attention is concentrated on few accounts: sample the top tail finely.
        grid = np.unique(np.r_[np.linspace(0.0, 1.0, 21), 1.0 - np.logspace(-4, -1.5, 6)])
        names = self.scenario.segment_names
        for s, name in [*enumerate(names), (None, ALL)]:
            hours = self.touch_hours_run if s is None else self.touch_hours_run[self.population.segment == s]
            for share, value in zip(grid, lorenz_curve(hours, grid), strict=True):
                rows.append((name, float(share), float(value)))
        return pd.DataFrame(rows, columns=["segment", "share_of_accounts", "share_of_hours"])

    def weekly_frame(self, policy_label: str | None = None) -> pd.DataFrame:
        df = pd.DataFrame(self.weekly, columns=["week", "metric", "value"])
        df.insert(0, "seed", self.seed_used)
        df.insert(0, "policy", policy_label or self.policy.name)
        return df


def _at_seat(per_seat: np.ndarray, seat: np.ndarray, default: float | bool) -> np.ndarray:
    """``per_seat[seat]`` where a seat is given (>= 0), ``default`` where not (-1); safe for an empty team."""
    out = np.full(seat.shape, default, dtype=per_seat.dtype)
    given = seat >= 0
    out[given] = per_seat[seat[given]]
    return out
