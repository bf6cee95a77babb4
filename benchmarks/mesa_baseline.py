"""covsim's ``unstructured`` world written the way a typical Mesa 3.3.1 user would write it.

This is the comparison baseline behind the claim that covsim's vectorized
engine is much faster than "the same model in plain Mesa". Every customer is a
``mesa.Agent`` with Python attributes (segment, potential, responsiveness,
status, spend, contract date, relationship stock and its personal part and
holder, and a list of open opportunities, each a small Python object); every
rep seat is a ``mesa.Agent``; customers are activated each week with
``AgentSet.shuffle_do``; a ``mesa.DataCollector`` records model-level
reporters every week; all randomness comes from the Mesa model's own
``self.random`` seeded with the run seed.

The mechanics are those of ``sim.model.CoverageModel`` under
``sim.policies.unstructured.Unstructured`` (every account pooled, no owners, no
cadence, so there are no planned touches, no planned hand-offs and the digital
channel is never used). A week, in the engine's order:

1. quarter start: nothing to plan (all pooled); "closers this quarter" restart;
2. reps begin the week in seat order: tenure, attrition at
   ``workforce.attrition_per_year``, backfill after ``backfill_weeks`` at the
   bottom of the ramp with a fresh skill (normal, ``skill_mean``,
   ``skill_sd``, at least 0.1); capacity = weekly_hours x selling_share x ramp.
   A leaver's deals wait for another closer, and every account whose personal
   relationship it held loses it but for ``handoff.cold_carry``, which stays
   as company stock;
3. + 4. customers (``shuffle_do("step")``): stock and its personal part decay
   by ``monthly_retention ** (12/52)``; a Poisson count of arrivals (at least
   one with probability ``1 - exp(-lambda)``, then how many by a second draw),
   lambda = rate/52 x (potential/median)^potential_exponent
   x ``b + rho (y(x) - b)``, new logos for a prospect, expansions for a
   customer; then a customer's renewal opens ``renewal_notice_weeks`` before
   its renewal date (in week 0 every renewal already inside its notice opens,
   but for those due in week 0 itself). Renewal dates: initial customers
   uniformly over one ``contract_term_weeks``, a new logo one term after the
   week it was won. Every new opportunity draws its size z: effort and cycle
   are the segment's medians x ``exp(deal_sigma z)``, it asks for
   ``effort / max(cycle, 1)`` hours a week, and arrives on a uniform day of
   the week. Its response window is ``pooled_window_days``; a renewal's is
   ``max(window, notice - median cycle weeks)``, ending no later than the date;
5. routing: each opportunity still awaiting a first response, and each responded
   deal without a closer, may be noticed by each filled seat (closing seats
   only for a deal), independently, with chance
   ``min(1, notice (potential / median) ^ size_bias) x free / capacity``, the
   median taken over the potentials of this week's pending opportunities and
   ``free`` the seat's capacity less the weekly parts of its deals responded
   before this week (at least 0); it is picked up when at least one seat
   noticed it, ``1 - prod (1 - chance)``, by a seat drawn in proportion to the
   free share of its week;
6. work (``shuffle_do("work")``): each rep's tasks are the responses routed to
   it this week and effort on its deals responded before this week; priority
   ``(u + 1e-6) (potential / median) ^ size_bias``, times the seat's
   eagerness (lognormal, ``habit_spread``, drawn once per seat) for a
   response, plus ``follow_through`` for work, the median over the potentials
   of every task of the week. A work task costs ``min(chunk, effort left) /
   skill`` hours and delivers hours x skill of effort. The rep's week is a
   clock from 0 to its capacity, run as ``sim.allocation.allocate_hours``:
   whenever free it takes the best task that already exists (a lead that
   arrived this week exists from the share of the week gone at its arrival x
   capacity), skips one that no longer fits, and with nothing there waits for
   the next lead. A response costs ``response_hours`` and touches the account
   with ``call_stock``; it is made on business day ``5 (week + start /
   capacity)``, past the window it is missed (sla_expired), otherwise the deal
   moves to work with its delay (days from arrival), the rep as closer (an SDR
   hands off: no closer) and a work deadline ``w + ceil(cycle x stall_factor)``
   on the deal's own cycle, for a renewal no later than its date; a deal left
   fewer weeks than that asks for ``effort / weeks left`` a week. Work touches
   the account with ``work_stock_per_hour`` per rep hour. A touch adds
   ``personal_share`` of its stock to the personal part, held with that rep (no
   account has an owner); a rep who did not hold it takes it over, keeping
   ``cold_carry`` of it. A deal whose effort is complete is decided at once:
   log-odds win probability (``sim.response.win_probability``) with the
   closer's skill and the conflict penalty when two or more closing seats
   engaged the account this quarter, times the speed-to-lead multiplier of its
   delay (``sim.response.speed_multiplier``, the kind's curve); a renewal's
   base is the chance that a customer nobody covers renews at its date, ``1 -
   sim.demand.renewal_churn``. Won value ``value_share x (potential - spend)``
   with mean-one lognormal noise (new logo, expansion) or ``value_share x
   spend`` (renewal: the term is secured); a lost renewal ends the contract at its date;
7. expiry: unanswered opportunities whose window has ended are missed with the
   cause last recorded (no_owner, owner_at_capacity); deals whose effort was not
   delivered by their work deadline are missed (stalled). A missed renewal
   does nothing yet: its contract is decided at its date;
8. customers (``do("settle")``): churn between renewals at the weekly hazard of
   ``1 - (1 - churn_per_year) ^ mid_term_churn_share`` times ``floor + (1 -
   floor) 2^(-x / churn_half_stock)``; then a customer at its renewal date
   whose renewal a rep lost ends, and one whose renewal no rep won or lost renews with probability ``win_probability`` of
   that renewal base, its stock, responsiveness 0.5 and skill 1
   (``sim.outcomes.unattended_renewal``), at ``unattended_renewal_value`` of
   its spend, or ends; either way the next term starts. A churned customer's
   open opportunities are lost; recurring revenue spend/52 is added up;
9. the ``DataCollector`` collects the week.

How closely it matches (covsim at commit 8cbd7a1, 2 December 2026; default
``unstructured`` parameters; whole-run totals of segment ``all``; relative
difference of means, Mesa - covsim, and Welch p). Reproduced by
``compare(scenario, seeds, 4, metrics=...)`` below with the totals' names:

- small.toml (5,000 customers, 5 seats), 4 quarters, seeds 1-300 each:
  created -0.1% (p 0.80), won -1.0% (0.46), lost -0.5% (0.68), missed +0.5%
  (0.54; no_owner +0.1%, owner_at_capacity +4.1% of 2.5 a run, sla_expired
  +1.7%, stalled +1.2%, all p > 0.29), revenue captured +0.4% (0.82; new
  logo +2.6%, expansion +0.8%, renewals -0.3%, all p > 0.4), recurring
  revenue -0.5% (0.67), customers -0.1% (0.78), churned +0.4% (0.75),
  renewal dates reached -0.1% (0.81), contracts ended at renewal +0.1%
  (0.93), hours 0.0% (0.96) on capacity -0.2%; open at the end -0.9% (0.21).
- baseline.toml at 10,000 customers (5 seats), 4 quarters, seeds 1-360 each:
  created -0.1% (0.57), won -2.4% (0.15), lost -0.5% (0.73), missed +0.3%
  (0.39; every cause within 2.5%, all p > 0.2), new logos -3.1% (0.19),
  revenue captured -3.5% (0.04; new logo -4.6%, expansion -2.0%, renewals
  -3.5% at p 0.05), recurring revenue -1.4% (0.10), customers -0.3% (0.28),
  churned -0.6% (0.49), renewal dates reached -0.2% (0.49), contracts ended
  at renewal -0.2% (0.86), hours +0.4% (0.43) on capacity +0.4%. The value
  gap sits in seeds 1-120 and is the starting book's draws, not a mechanism:
  on those seeds this model's initial spend (same distributions, its own
  draws) is 2.9% below covsim's (p 0.035), on seeds 121-520 0.2% (p 0.77);
  on seeds 121-360 alone revenue captured is -1.5% (0.49) and recurring
  revenue -0.1% (0.90). Wins run 1-3% lower here on both halves (p 0.15
  together), the direction that difference (a) below would give (a deal
  decided in the middle of a rep's week sees less of that week's
  relationship stock); not tested further.
- Per kind (small.toml, 40 seeds, attrition and deal spread off, every
  seat's eagerness 1; measured on commit 554d6bc with the former routing,
  a fixed weekly pickup chance, and not since): of about 40 counts
  compared (opportunities created, decided, won, lost and missed by cause,
  work tasks offered and done, work hours, stock and response delay at
  decisions), two have p < 0.05: hours of new-logo work +3.2% (p 0.02, on
  +1.1% of such tasks done) and the summed stock at expansion decisions
  -5.5% (p 0.04); the rest have p > 0.1 (renewals decided -1.0%, won
  -0.8%, stalled +9%, p 0.31).

Remaining differences from the engine:

- Random streams: this model draws everything from one ``random.Random``
  seeded with the run seed; the engine draws from named numpy streams, exact
  thinned Bernoulli draws (``sim.randomness.Thinning``) for arrivals and churn,
  keyed SplitMix64 draws for each opportunity's day, capture, deal size,
  outcome and value and for each contract's unattended renewal, and the
  policy's stream for the seats' eagerness. Same distributions, different
  realisations: agreement is statistical, never per seed. (Value noise is
  drawn here only for won deals; the engine draws it for every decided deal.
  No effect on distributions.)
- Population: segment sizes are exact (largest remainder, as in the engine);
  potential, responsiveness, customer status and initial renewal week are
  drawn per agent from the same distributions. Industry, region and location
  are not modelled: under ``unstructured`` there are no planned touches, so
  nobody visits or travels.
- Within a week the engine first allocates every rep's hours (all reps at
  once), then applies all responses, then all work, then decides every deal
  finished this week. Here reps act one after another in shuffled order, each
  dispatching its tasks on its clock and applying each at once. So (a) a
  decision here sees the account's stock and its "two closing seats this
  quarter" conflict flag as they stand at that moment, where the engine's sees
  every task of the week; (b) a task whose opportunity closed earlier in the
  same week (its customer churned after another rep lost its renewal) is
  skipped here and costs no hours, where the engine still spends the hours;
  (c) when two reps touch one account in the same week, here the personal
  relationship changes hands at each touch, in the order the reps act, where
  the engine hands it over once per batch of touches (responses, then work)
  to the last of them. All need two tasks on one account done by different
  reps in the same week.
- Seats: tenure is a counter incremented each filled week (the engine
  records hiring and vacating weeks); for attrition and backfill the two give
  the same capacity week by week. The seat's eagerness is drawn with the seat
  and kept through backfills, as the policy keeps it per seat.
- Not implemented (``run_mesa_baseline`` refuses a scenario that needs them):
  shocks and channel partners (their own priorities and margins). Not needed
  under ``unstructured``: cadence touches, visits and travel, owners and so
  planned hand-offs (warm or cold, and the hours a warm one takes), an owner's
  versus another rep's touches (nobody owns an account, so every touch is the
  holder's or takes the relationship over), coordination flags, the digital
  channel and its renewals (every account is on the pooled service level),
  high-touch windows, each opportunity's expected value (no unstructured rule
  reads it), the quarterly tidy metrics (this model returns run totals and a
  weekly ``DataCollector`` frame).
- Performance choices, so the timing is fair to Mesa rather than a straw man:
  each customer caches its (potential / median) ^ exponent; counters on the
  model (customers, opportunities, revenue) replace weekly scans of the
  agents by the ``DataCollector``; churn, renewal dates and recurring revenue
  are a second, unshuffled pass over the customers (``do("settle")``) so that
  they come after the week's work as in the engine (folding it into ``step``
  would move them before the work). A leaver's relationships are found by a
  scan of the customers (a rare event: a few per run).
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from typing import Any

import sim  # noqa: F401  (before numpy: numpy's AVX-512 loops off, as in every covsim process; sim/simd.py)

# isort: split
import mesa
import numpy as np
from scipy import stats

from sim.clock import BUSINESS_DAYS_PER_WEEK, WEEKS_PER_QUARTER, WEEKS_PER_YEAR
from sim.codes import CLOSING_ROLES, OPPORTUNITY_KINDS
from sim.demand import renewal_churn
from sim.experiment.stats import holm
from sim.policies.unstructured import UnstructuredParams
from sim.response import speed_multiplier, weekly_decay, weekly_hazard, win_probability
from sim.scenario import Scenario
from sim.selling import Adbudg

DAYS = BUSINESS_DAYS_PER_WEEK
PROSPECT, CUSTOMER, CHURNED = 0, 1, 2
NEW_LOGO, EXPANSION, RENEWAL = 0, 1, 2
AWAITING_RESPONSE, IN_WORK = 0, 1
RESPONSE, WORK = 0, 1
CAUSES = ("no_owner", "owner_at_capacity", "vacancy", "sla_expired", "stalled")
NO_OWNER, OWNER_AT_CAPACITY, VACANCY, SLA_EXPIRED, STALLED = range(5)
EPS = 1e-9  # slack on comparisons of hours (as sim.allocation)

#: Whole-run totals compared with covsim (flows summed over the run; customers at the end).
METRICS = (
    "opps_created",
    "opps_won",
    "opps_lost",
    "opps_missed",
    "revenue_captured",
    "recurring_revenue",
    "customers",
    "churned",
)
#: revenue_captured by kind of opportunity: new logo, expansion, renewal.
VALUE_METRICS = ("won_value_new_logo", "won_value_expansion", "retained_spend")
#: Contracts that reached their renewal date, and those that ended there (renewal lost or not renewed).
RENEWAL_METRICS = ("renewals_due", "churned_at_renewal")


@dataclass(eq=False)
class Opportunity:
    """One opportunity: a small Python object, as a Mesa user would keep it."""

    customer: Customer
    kind: int
    day: float  # arrival, business days since week 0
    sla_deadline: float
    effort_left: float
    chunk: float  # effort asked for per week
    cycle: float  # this deal's planned weeks
    due: int | None = None  # a renewal's date: its work must be done by then
    stage: int = AWAITING_RESPONSE
    handler: SalesRep | None = None
    responded: int = -1
    delay: float = 0.0  # business days from arrival to the first response
    work_deadline: int = -1
    blocked: int = NO_OWNER  # the cause it would be missed for if its window closed now
    closed: bool = False


def count_given_one(lam: float, u: float) -> int:
    """A Poisson(``lam``) count given that it is at least one, picked by the uniform ``u`` from its
    distribution function (``sim.demand._counted``, written again as one agent's draw)."""
    caught = -math.expm1(-lam)
    k, cdf = 1, math.exp(math.log(lam) - lam) / caught
    while u >= cdf:
        k += 1
        step = math.exp(k * math.log(lam) - lam - math.lgamma(k + 1.0)) / caught
        if k > lam and step * (k + 1.0) / (k + 1.0 - lam) <= cdf * 2.0**-53:
            return k - 1  # u fell in the rounding gap above the summed tail: the last count that could move it
        cdf += step
    return k


class Customer(mesa.Agent):
    """One account: prospect, customer or churned."""

    def __init__(
        self,
        model: MesaCoverageModel,
        segment: int,
        potential: float,
        responsiveness: float,
        status: int,
        renewal_week: int | None,
    ) -> None:
        super().__init__(model)
        seg = model.scenario.population.segments[segment]
        self.segment = segment
        self.potential = potential
        self.responsiveness = responsiveness
        self.status = status
        self.spend = potential * seg.share_of_wallet if status == CUSTOMER else 0.0
        self.renewal_week = renewal_week  # the contract's next renewal date (None: no contract)
        # The week its renewal opens, renewal_notice_weeks before the date; in week 0 every renewal already
        # inside its notice opens, but for those due in week 0 itself (no work could reach them in time).
        notice = seg.renewal_notice_weeks
        self.renewal_opens = max(renewal_week - notice, 0) if renewal_week is not None and renewal_week > 0 else None
        self.renewal_won = False  # a rep won this term's renewal ahead of the date
        self.renewal_lost = False  # a rep lost it: the contract ends at its date
        self.stock = 0.0  # relationship stock: company and personal together
        self.personal = 0.0  # the part of it held with one rep ...
        self.holder: SalesRep | None = None  # ... this one
        self.opportunities: list[Opportunity] = []
        # Opportunity rates grow with size: (potential / median) ** potential_exponent.
        self.size_factor = (potential / seg.potential_median) ** seg.potential_exponent
        self.closers: set[int] = set()  # closing seats that engaged the account this quarter
        self.closers_quarter = 0

    def step(self) -> None:
        """Relationship carry-over, this week's new opportunities, and a renewal opening."""
        if self.status == CHURNED:
            return
        model = self.model
        self.stock *= model.decay
        self.personal *= model.decay
        kind = NEW_LOGO if self.status == PROSPECT else EXPANSION
        lam = model.weekly_rates[self.segment][kind] * self.size_factor
        lam *= model.demand_lift(self.stock, self.responsiveness)
        if self.random.random() < -math.expm1(-lam):
            for _ in range(count_given_one(lam, self.random.random())):
                model.new_opportunity(self, kind)
        if self.renewal_opens == model.week:
            model.new_opportunity(self, RENEWAL)

    def settle(self) -> None:
        """End of the week: the customer may leave, or reach its renewal date; what it spends is recognised."""
        if self.status != CUSTOMER:
            return
        model = self.model
        rel = model.scenario.relationship
        relief = rel.churn_floor + (1.0 - rel.churn_floor) * 2.0 ** (-self.stock / rel.churn_half_stock)
        if self.random.random() < model.base_hazard[self.segment] * relief:
            model.churn(self)
            return
        if self.renewal_week == model.week:
            model.renewal_date(self)
        model.week_recurring += self.spend / WEEKS_PER_YEAR

    def engage(self, rep: SalesRep) -> None:
        """Remember closing seats that worked the account this quarter (conflicting engagement)."""
        if not rep.can_close:
            return
        if self.closers_quarter != self.model.quarter:
            self.closers = set()
            self.closers_quarter = self.model.quarter
        self.closers.add(rep.unique_id)

    def touch(self, rep: SalesRep, amount: float) -> None:
        """Rep work adds stock. Nobody owns an account, so the rep holds the personal part; a rep who
        did not hold it takes it over with no hand-off, keeping ``cold_carry`` of it."""
        rel = self.model.scenario.relationship
        if self.holder is not rep:
            lost = self.personal * (1.0 - rel.handoff.cold_carry)
            self.stock -= lost
            self.personal -= lost
            self.holder = rep
        self.stock += amount
        self.personal += amount * rel.personal_share

    def holder_left(self) -> None:
        """The holder of the personal relationship left: all but ``cold_carry`` of it goes; that stays
        with the company."""
        self.stock -= self.personal * (1.0 - self.model.scenario.relationship.handoff.cold_carry)
        self.personal = 0.0
        self.holder = None

    @property
    def conflicted(self) -> bool:
        return self.closers_quarter == self.model.quarter and len(self.closers) >= 2


class SalesRep(mesa.Agent):
    """One seat of the sales team."""

    def __init__(self, model: MesaCoverageModel, group: Any) -> None:
        super().__init__(model)
        self.role = group.role
        self.can_close = group.role in CLOSING_ROLES
        self.weekly_hours = group.weekly_hours
        self.selling_share = group.selling_share
        self.skill_mean, self.skill_sd = group.skill_mean, group.skill_sd
        self.skill = max(0.1, self.skill_mean + self.skill_sd * self.random.gauss(0.0, 1.0))
        # The seat's own eagerness to answer new leads: multiplies the priority of its first responses.
        self.eagerness = self.random.lognormvariate(0.0, model.params.habit_spread)
        self.tenure_weeks = WEEKS_PER_QUARTER * len(model.scenario.workforce.ramp)  # fully ramped
        self.filled = True
        self.vacant_weeks_left = 0
        self.capacity = 0.0
        self.inbox: list[Opportunity] = []  # first responses routed to this seat this week
        self.deals: list[Opportunity] = []  # responded deals this seat is closing
        self.tasks: list[tuple[int, Opportunity]] = []

    def begin_week(self) -> None:
        """Tenure, attrition, backfill; this week's selling hours."""
        wf = self.model.scenario.workforce
        if self.filled:
            self.tenure_weeks += 1
            if self.random.random() < self.model.weekly_attrition:
                self.filled = False
                self.vacant_weeks_left = max(1, wf.backfill_weeks)
                for opp in self.deals:  # deals wait for another closer
                    opp.handler = None
                self.deals = []
                for customer in self.model.customer_list:  # the leaver's personal relationships go
                    if customer.holder is self:
                        customer.holder_left()
        else:
            if self.vacant_weeks_left > 0:
                self.vacant_weeks_left -= 1
            if self.vacant_weeks_left == 0:
                self.filled = True
                self.tenure_weeks = 0
                self.skill = max(0.1, self.skill_mean + self.skill_sd * self.random.gauss(0.0, 1.0))
        if self.filled:
            ramp = wf.ramp[min(self.tenure_weeks // WEEKS_PER_QUARTER, len(wf.ramp) - 1)]
            self.capacity = self.weekly_hours * self.selling_share * ramp
        else:
            self.capacity = 0.0

    def free_share(self, week: int) -> float:
        """The share of this week's selling hours not taken by the weekly parts of deals responded before it."""
        if self.capacity <= 0:
            return 0.0
        committed = sum(
            min(o.chunk, o.effort_left) / self.skill
            for o in self.deals
            if not o.closed and o.effort_left > 1e-9 and o.responded < week
        )
        return max(self.capacity - committed, 0.0) / self.capacity

    def list_tasks(self) -> None:
        """This week's candidate tasks: routed first responses and deals responded before this week."""
        w = self.model.week
        self.deals = [o for o in self.deals if not o.closed]
        self.tasks = [(RESPONSE, o) for o in self.inbox] + [
            (WORK, o) for o in self.deals if o.effort_left > 1e-9 and o.responded < w
        ]
        self.inbox = []

    def work(self) -> None:
        """The week's tasks in a random order biased to big names (deals started first), dispatched on the
        rep's clock: whenever free, the rep takes the best task that already exists (a lead exists from
        its arrival); a task that no longer fits is skipped; with nothing there the rep waits for the
        next lead. As ``sim.allocation.allocate_hours``."""
        if not self.tasks:
            return
        model = self.model
        params = model.params
        median = model.task_median + 1e-9
        week_hours = self.capacity
        ranked = []
        for kind, opp in self.tasks:
            priority = (self.random.random() + 1e-6) * (opp.customer.potential / median) ** params.size_bias
            if kind == WORK:
                priority += params.follow_through
                cost = min(opp.chunk, opp.effort_left) / self.skill  # a skilled rep needs fewer hours
                release = 0.0
            else:
                priority *= self.eagerness  # the rep's own habit
                cost = model.scenario.activities.response_hours
                # A lead that arrived this week exists from that point of the rep's week.
                release = min(max(opp.day / DAYS - model.week, 0.0), 1.0) * week_hours
            ranked.append((priority, kind, opp, cost, release))
        ranked.sort(key=lambda t: -t[0])
        clock = 0.0
        while ranked:
            pick = -1
            arrival = math.inf
            for i, task in enumerate(ranked):
                if task[4] <= clock + EPS:
                    pick = i
                    break
                arrival = min(arrival, task[4])
            if pick < 0:
                if arrival >= week_hours:  # nothing more arrives this week
                    break
                clock = arrival  # idle until it does
                continue
            _priority, kind, opp, cost, _release = ranked.pop(pick)
            if opp.closed:  # its customer churned earlier this week
                continue
            if clock + cost <= week_hours + EPS:
                self.do_task(kind, opp, cost, start=clock)
                clock += cost
        for kind, opp in self.tasks:  # first responses the rep did not reach
            if kind == RESPONSE and opp.stage == AWAITING_RESPONSE and not opp.closed:
                opp.blocked = OWNER_AT_CAPACITY

    def do_task(self, kind: int, opp: Opportunity, cost: float, start: float) -> None:
        model, act = self.model, self.model.scenario.activities
        model.hours += cost
        customer = opp.customer
        customer.engage(self)
        if kind == RESPONSE:
            customer.touch(self, act.call_stock)  # a late answer still contacts the account
            model.respond(opp, self, start)
        else:
            opp.effort_left -= cost * self.skill
            customer.touch(self, act.work_stock_per_hour * cost)
            if opp.effort_left <= 1e-9:
                model.decide(opp)


class MesaCoverageModel(mesa.Model):
    """The ``unstructured`` coverage world with one agent per customer."""

    def __init__(self, scenario: Scenario, seed: int, params: UnstructuredParams | None = None) -> None:
        super().__init__(seed=seed)
        if scenario.shocks:
            raise ValueError("the Mesa baseline does not implement shocks")
        if any(g.role == "partner" and g.count for g in scenario.reps):
            raise ValueError("the Mesa baseline does not implement channel partners")
        self.scenario = scenario
        self.params = params or UnstructuredParams()
        self.week = 0
        self.quarter = 0
        self.decay = weekly_decay(scenario.relationship.monthly_retention)
        self.weekly_attrition = 1.0 - (1.0 - scenario.workforce.attrition_per_year) ** (1.0 / WEEKS_PER_YEAR)
        segments = scenario.population.segments
        self.kinds = [[getattr(s, k) for k in OPPORTUNITY_KINDS] for s in segments]
        self.weekly_rates = [
            [s.new_logo.rate_per_year / WEEKS_PER_YEAR, s.expansion.rate_per_year / WEEKS_PER_YEAR] for s in segments
        ]
        # Churn between renewals, and the chance that a customer nobody covers renews at its date.
        self.base_hazard = [
            float(weekly_hazard(1.0 - (1.0 - s.churn_per_year) ** s.mid_term_churn_share)) for s in segments
        ]
        self.renewal_base = [
            1.0 - float(renewal_churn(s.churn_per_year, s.mid_term_churn_share, s.contract_term_weeks))
            for s in segments
        ]
        self.base_win = [
            [s.new_logo.win_probability, s.expansion.win_probability, b]
            for s, b in zip(segments, self.renewal_base, strict=True)
        ]
        self.term = [s.contract_term_weeks for s in segments]
        self.notice = [s.renewal_notice_weeks for s in segments]
        curves = scenario.service.speed_to_lead
        self.speed = [(getattr(curves, k).half_life_days, getattr(curves, k).floor) for k in OPPORTUNITY_KINDS]

        # Counters read by the DataCollector (cumulative over the run, except week_recurring).
        self.opps_created = self.opps_won = self.opps_lost = self.opps_missed = 0
        self.missed_by_cause = [0] * len(CAUSES)
        self.revenue_captured = 0.0
        self.won_value = [0.0] * len(OPPORTUNITY_KINDS)
        self.recurring_revenue = 0.0
        self.week_recurring = 0.0
        self.churned = 0
        self.renewals_due = 0
        self.churned_at_renewal = 0
        self.new_logos = 0
        self.hours = 0.0
        self.capacity_hours = 0.0
        self.customers = 0
        self.open_opportunities: list[Opportunity] = []
        self.task_median = 0.0

        pop = scenario.population
        shares = [s.share for s in segments]
        for s, count in enumerate(_segment_counts(pop.customers, shares)):
            seg = segments[s]
            for _ in range(count):
                potential = seg.potential_median * math.exp(seg.potential_sigma * self.random.gauss(0.0, 1.0))
                responsiveness = self.random.betavariate(*seg.responsiveness)
                status = CUSTOMER if self.random.random() < seg.customer_share else PROSPECT
                # Contracts signed before week 0 come up for renewal evenly over one term.
                renewal_week = self.random.randrange(seg.contract_term_weeks) if status == CUSTOMER else None
                self.customers += status == CUSTOMER
                Customer(self, s, potential, responsiveness, status, renewal_week)
        for group in scenario.reps:
            for _ in range(group.count):
                SalesRep(self, group)
        self.customer_list = list(self.agents_by_type[Customer])
        self.reps = list(self.agents_by_type[SalesRep])  # seat order

        self.datacollector = mesa.DataCollector(
            model_reporters={
                "opps_created": "opps_created",
                "opps_won": "opps_won",
                "opps_lost": "opps_lost",
                "opps_missed": "opps_missed",
                "revenue_captured": "revenue_captured",
                "recurring_revenue": "week_recurring",
                "customers": "customers",
                "churned": "churned",
            }
        )

    # ---- the week ---------------------------------------------------------------

    def step(self) -> None:
        if self.week % WEEKS_PER_QUARTER == 0:
            self.quarter += 1  # customers' "closers this quarter" restart lazily
        self.agents_by_type[SalesRep].do("begin_week")  # seat order
        self.agents_by_type[Customer].shuffle_do("step")  # decay, arrivals, renewals opening
        self.capacity_hours += sum(r.capacity for r in self.reps)
        self.route()
        reps = self.agents_by_type[SalesRep]
        reps.do("list_tasks")
        potentials = [o.customer.potential for r in self.reps for _kind, o in r.tasks]
        self.task_median = statistics.median(potentials) if potentials else 0.0
        reps.shuffle_do("work")
        self.expire()
        self.week_recurring = 0.0
        self.agents_by_type[Customer].do("settle")  # churn, renewal dates, recurring revenue
        self.recurring_revenue += self.week_recurring
        self.open_opportunities = [o for o in self.open_opportunities if not o.closed]
        self.datacollector.collect(self)
        self.week += 1

    def demand_lift(self, x: float, rho: float) -> float:
        """``b + rho (y(x) - b)`` of the scenario's response function (ADBUDG or power)."""
        fn = self.scenario.relationship.response
        if isinstance(fn, Adbudg):
            xc = x**fn.c
            y = fn.b + (fn.a - fn.b) * xc / (fn.d + xc)
        else:
            y = min(fn.cap, fn.b + fn.z * x**fn.e)
        return fn.b + rho * (y - fn.b)

    def new_opportunity(self, customer: Customer, kind: int) -> None:
        """A new logo or expansion arriving, or a renewal opening; each deal draws its own size."""
        seg = self.scenario.population.segments[customer.segment]
        k = self.kinds[customer.segment][kind]
        day = DAYS * (self.week + self.random.random())
        size = math.exp(seg.deal_sigma * self.random.gauss(0.0, 1.0))  # scales effort and cycle together
        effort, cycle = k.effort_hours * size, k.cycle_weeks * size
        window = self.scenario.service.pooled_window_days  # every account is pooled
        due = None
        if kind == RENEWAL:
            # The first response may come until the work must start (notice - cycle), not after the date.
            due = customer.renewal_week
            window = min(max(window, DAYS * (seg.renewal_notice_weeks - k.cycle_weeks)), max(DAYS * due - day, 0.0))
        opp = Opportunity(
            customer=customer,
            kind=kind,
            day=day,
            sla_deadline=day + window,
            effort_left=effort,
            chunk=effort / max(cycle, 1.0),  # a deal shorter than a week is worked in one week
            cycle=cycle,
            due=due,
        )
        customer.opportunities.append(opp)
        self.open_opportunities.append(opp)
        self.opps_created += 1

    def route(self) -> None:
        """Whoever has free hours and happens to notice picks up: bigger names more often."""
        pending = [
            o for o in self.open_opportunities if not o.closed and (o.stage == AWAITING_RESPONSE or o.handler is None)
        ]
        if not pending:
            return
        median = statistics.median([o.customer.potential for o in pending]) + 1e-9
        seats = [r for r in self.reps if r.filled]
        shares = [r.free_share(self.week) for r in seats]
        closers = [r for r in seats if r.can_close]
        closer_shares = [r.free_share(self.week) for r in closers]
        p = self.params
        for opp in pending:
            look = min(1.0, p.notice * (opp.customer.potential / median) ** p.size_bias)
            group, weights = (seats, shares) if opp.stage == AWAITING_RESPONSE else (closers, closer_shares)
            unseen = math.prod(1.0 - look * f for f in weights)
            picked = self.random.random() < 1.0 - unseen
            if opp.stage == AWAITING_RESPONSE:
                if picked and sum(weights) > 0:
                    self.random.choices(group, weights)[0].inbox.append(opp)
                else:
                    opp.blocked = NO_OWNER
            elif picked and sum(weights) > 0:
                rep = self.random.choices(group, weights)[0]
                opp.handler = rep
                rep.deals.append(opp)

    def respond(self, opp: Opportunity, rep: SalesRep, start: float) -> None:
        """A first response begun ``start`` hours into the rep's week: on time it becomes a deal."""
        when = DAYS * (self.week + start / rep.capacity)  # the rep's hours spread evenly over the days
        if when > opp.sla_deadline:
            self.miss(opp, SLA_EXPIRED)
            return
        opp.stage = IN_WORK
        opp.responded = self.week
        opp.delay = when - opp.day
        opp.work_deadline = self.week + math.ceil(opp.cycle * self.scenario.service.stall_factor)
        if opp.due is not None:  # a renewal's work must be done by its date
            opp.work_deadline = min(opp.work_deadline, opp.due)
        # A deal left fewer weeks than its cycle (a renewal answered late) asks for its effort faster.
        opp.chunk = max(opp.chunk, opp.effort_left / max(opp.work_deadline - self.week, 1))
        if rep.can_close:
            opp.handler = rep
            rep.deals.append(opp)
        # an SDR hands off: the deal waits for a closer

    def decide(self, opp: Opportunity) -> None:
        """Win or lose a deal whose effort is complete."""
        if opp.closed:
            return
        c = opp.customer
        k = self.kinds[c.segment][opp.kind]
        skill = opp.handler.skill if opp.handler is not None else 1.0
        p = float(
            win_probability(
                np.float64(self.base_win[c.segment][opp.kind]),
                np.float64(c.stock),
                np.float64(c.responsiveness),
                np.float64(skill),
                np.float64(c.conflicted),
                self.scenario.relationship,
            )
        )
        half_life, floor = self.speed[opp.kind]
        p *= float(speed_multiplier(np.float64(opp.delay), np.float64(half_life), np.float64(floor)))
        won = self.random.random() < p
        self._close(opp)
        if not won:
            self.opps_lost += 1
            if opp.kind == RENEWAL and c.status == CUSTOMER:
                c.renewal_lost = True  # the contract runs to its date and ends there
            return
        self.opps_won += 1
        if opp.kind == RENEWAL:
            value = k.value_share * c.spend
        else:
            sigma = self.scenario.population.segments[c.segment].value_sigma
            noise = math.exp(sigma * self.random.gauss(0.0, 1.0) - sigma**2 / 2)
            value = k.value_share * max(c.potential - c.spend, 0.0) * noise
        # A won deal counts the value of the term it secures, at most a year (sim.recorder: term_share).
        counted = value * min(self.term[c.segment], 52) / 52
        self.revenue_captured += counted
        self.won_value[opp.kind] += counted
        if opp.kind == NEW_LOGO and c.status != CHURNED:
            if c.status == PROSPECT:
                self.new_logos += 1
                self.customers += 1
                c.renewal_week = self.week + self.term[c.segment]
                c.renewal_opens = c.renewal_week - self.notice[c.segment]
            c.status = CUSTOMER
            c.spend = min(c.spend + value, c.potential)
        elif opp.kind == EXPANSION and c.status == CUSTOMER:
            c.spend = min(c.spend + value, c.potential)
        elif opp.kind == RENEWAL and c.status == CUSTOMER:
            c.spend = min(value, c.potential)
            c.renewal_won = True

    def renewal_date(self, customer: Customer) -> None:
        """The contract reaches its date: renewed by a rep already, ended if a rep lost its renewal, or
        decided with no rep: renewed at ``unattended_renewal_value`` of its spend or ended
        (``sim.outcomes.unattended_renewal``)."""
        self.renewals_due += 1
        if customer.renewal_lost:
            self.churned_at_renewal += 1
            self.churn(customer)
            return
        if not customer.renewal_won:
            p = float(
                win_probability(
                    np.float64(self.renewal_base[customer.segment]),
                    np.float64(customer.stock),
                    np.float64(0.5),
                    np.float64(1.0),
                    np.float64(0.0),
                    self.scenario.relationship,
                )
            )
            if self.random.random() >= p:
                self.churned_at_renewal += 1
                self.churn(customer)
                return
            value = customer.spend * self.scenario.service.unattended_renewal_value
            customer.spend = min(value, customer.potential)
        customer.renewal_week += self.term[customer.segment]
        customer.renewal_opens = customer.renewal_week - self.notice[customer.segment]
        customer.renewal_won = customer.renewal_lost = False

    def miss(self, opp: Opportunity, cause: int) -> None:
        """Missed: a missed renewal's contract is decided on its date, with no rep."""
        self._close(opp)
        self.opps_missed += 1
        self.missed_by_cause[cause] += 1

    def churn(self, customer: Customer) -> None:
        """The customer leaves; its open opportunities are lost."""
        if customer.status != CUSTOMER:
            return
        customer.status = CHURNED
        customer.spend = 0.0
        customer.renewal_week = customer.renewal_opens = None
        self.churned += 1
        self.customers -= 1
        for opp in list(customer.opportunities):
            self._close(opp)
            self.opps_lost += 1

    def _close(self, opp: Opportunity) -> None:
        opp.closed = True
        opp.customer.opportunities.remove(opp)

    def expire(self) -> None:
        """Response windows that ended this week; deals whose effort is late."""
        end_day = DAYS * (self.week + 1)
        for opp in self.open_opportunities:
            if not opp.closed and opp.stage == AWAITING_RESPONSE and opp.sla_deadline <= end_day:
                self.miss(opp, opp.blocked)
        for opp in self.open_opportunities:
            if not opp.closed and opp.stage == IN_WORK and opp.effort_left > 1e-9 and opp.work_deadline <= self.week:
                self.miss(opp, STALLED)

    def release(self) -> None:
        """Drop Mesa's class-level reference to this model (DESIGN §7: Agent._ids)."""
        mesa.Agent._ids.pop(self, None)


def _segment_counts(n: int, shares: list[float]) -> list[int]:
    """Exact segment sizes by largest remainder (as sim.population does)."""
    total = sum(shares)
    raw = [s / total * n for s in shares]
    counts = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: -(raw[i] - counts[i]))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return counts


def run_mesa_baseline(
    scenario: Scenario, seed: int, quarters: int | None = None, params: dict[str, Any] | None = None
) -> dict[str, float]:
    """Run the Mesa baseline and return whole-run totals and its wall time.

    Totals: opps_created, opps_won, opps_lost, opps_missed (and missed_<cause>),
    opps_open at the end, revenue_captured (won value of new logos and
    expansions plus the value of renewals a rep won), recurring_revenue,
    customers at the end, churned, renewals_due, churned_at_renewal, new_logos,
    hours, capacity_hours; ``seconds``: model construction and the
    weeks (the same span as covsim's ``RunResult.seconds``).
    """
    quarters = scenario.quarters if quarters is None else quarters
    start = time.perf_counter()
    model = MesaCoverageModel(scenario, seed, UnstructuredParams(**(params or {})))
    try:
        for _ in range(quarters * WEEKS_PER_QUARTER):
            model.step()
        seconds = time.perf_counter() - start
        weekly = model.datacollector.get_model_vars_dataframe()
        out: dict[str, float] = {
            "opps_created": model.opps_created,
            "opps_won": model.opps_won,
            "opps_lost": model.opps_lost,
            "opps_missed": model.opps_missed,
            **{f"missed_{c}": n for c, n in zip(CAUSES, model.missed_by_cause, strict=True)},
            "opps_open": len(model.open_opportunities),
            "revenue_captured": model.revenue_captured,
            **dict(zip(VALUE_METRICS, model.won_value, strict=True)),
            "recurring_revenue": float(weekly["recurring_revenue"].sum()),
            "customers": model.customers,
            "churned": model.churned,
            "renewals_due": model.renewals_due,
            "churned_at_renewal": model.churned_at_renewal,
            "new_logos": model.new_logos,
            "hours": model.hours,
            "capacity_hours": model.capacity_hours,
            "seconds": seconds,
        }
        return {k: float(v) for k, v in out.items()}
    finally:
        model.release()


def covsim_totals(scenario: Scenario, seed: int, quarters: int | None = None) -> dict[str, float]:
    """The same totals from a covsim run under ``unstructured`` (segment ``all``).

    Flows are summed over the run's quarters; customers and open opportunities
    are those of the last quarter. ``seconds`` is covsim's own RunResult.seconds.
    """
    from sim.policies import make_policy
    from sim.run import run

    result = run(scenario, make_policy("unstructured"), seed, quarters)
    m = result.metrics
    m = m[m.segment == "all"]
    last = m.quarter.max()
    flows = m.groupby("metric")["value"].sum()
    at_end = m[m.quarter == last].set_index("metric")["value"]
    names = (
        *METRICS,
        *VALUE_METRICS,
        *RENEWAL_METRICS,
        *(f"missed_{c}" for c in CAUSES),
        "new_logos",
        "hours_total",
        "capacity_hours",
    )
    out = {k: float(flows[k]) for k in names}
    out["hours"] = out.pop("hours_total")
    out["customers"] = float(at_end["customers"])
    out["opps_open"] = float(at_end["opps_open"])
    out["seconds"] = result.seconds
    return out


def compare(
    scenario: Scenario, seeds: list[int] | range, quarters: int | None = None, metrics: tuple[str, ...] = METRICS
) -> dict[str, dict[str, float]]:
    """Run covsim and the Mesa baseline on the same seeds and compare totals.

    For each metric: the two means over seeds, the Welch t-test p-value
    (``scipy.stats.ttest_ind(equal_var=False)``) and its Holm adjustment over
    the metrics (``p_holm``: the agreement is judged on all of them at once),
    the relative difference
    (Mesa - covsim) / covsim and its standard error (the standard error of the
    difference of means over the covsim mean: how large a difference the seeds'
    noise alone makes). The two never share random numbers, so this is a test
    of the two models' distributions, not of identical runs.
    """
    cov = [covsim_totals(scenario, s, quarters) for s in seeds]
    mes = [run_mesa_baseline(scenario, s, quarters) for s in seeds]
    out: dict[str, dict[str, float]] = {}
    for metric in metrics:
        a = np.array([r[metric] for r in cov])
        b = np.array([r[metric] for r in mes])
        if np.ptp(a) == 0 and np.ptp(b) == 0:
            p = 1.0 if a[0] == b[0] else 0.0
        else:
            p = float(stats.ttest_ind(b, a, equal_var=False).pvalue)
        mean_a, mean_b = float(a.mean()), float(b.mean())
        se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size) if min(a.size, b.size) > 1 else math.nan
        out[metric] = {
            "covsim": mean_a,
            "mesa": mean_b,
            "p_value": p,
            "rel_diff": (mean_b - mean_a) / mean_a if mean_a else math.nan,
            "rel_se": se / abs(mean_a) if mean_a else math.nan,
        }
    adjusted = holm(np.array([out[m]["p_value"] for m in metrics]))
    for metric, p_holm in zip(metrics, adjusted, strict=True):
        out[metric]["p_holm"] = float(p_holm)
    out["seconds"] = {
        "covsim": float(np.mean([r["seconds"] for r in cov])),
        "mesa": float(np.mean([r["seconds"] for r in mes])),
        "p_value": math.nan,
        "p_holm": math.nan,
        "rel_diff": math.nan,
        "rel_se": math.nan,
    }
    return out


__all__ = ["METRICS", "MesaCoverageModel", "compare", "covsim_totals", "run_mesa_baseline"]
