"""The quarter boundary of the coverage model: shocks, the policy's plan, realignments, changes of hands
and account plans, in that order (``CoverageModel.step`` calls them at the start of each quarter).

Functions of the model, kept in their own module; each delegates to the owner of the state it changes,
as the week's phases do.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

import numpy as np

from sim import shocks
from sim.codes import Draw, Status
from sim.compiled import compiled
from sim.demand import Demand
from sim.engagement import planned_accounts
from sim.handoffs import changes_of_hands
from sim.policies.protocol import (
    Accounts,
    CoveragePlan,
    PlanView,
    Policy,
    Selling,
    checked_plan,
    read_only_plan,
)
from sim.population import Population
from sim.randomness import Streams, keyed_generator
from sim.recorder import Recorder
from sim.reps import Team
from sim.scenario import Scenario


class CoverageModel(Protocol):
    """What the quarter's start reads and changes of ``sim.model.CoverageModel`` (named here, not imported:
    the model imports this module)."""

    scenario: Scenario
    streams: Streams
    policy: Policy
    label: str
    week: int
    population: Population
    team: Team
    demand: Demand
    recorder: Recorder
    selling: Selling
    plan: CoveragePlan
    _accounts: Accounts
    _cadenced: np.ndarray
    _specialist_cells: np.ndarray

    def _vacated(self, seats: np.ndarray) -> None: ...

    def _churn_accounts(self, customers: np.ndarray) -> None: ...

    def _change_hands(self, customers: np.ndarray, seats: np.ndarray, carry: float) -> None: ...

    def ask(self, method: str, view: Any) -> Any: ...


def start_quarter(model: CoverageModel, quarter: int) -> None:
    """The start of ``quarter``, in this order."""
    _open_quarter(model)  # fresh tallies
    _apply_shocks(model, quarter)  # attrition, demand, potential, overlay, key accounts
    previous = _plan(model, quarter)  # the policy's owners, service levels and cadences
    _realign(model, quarter)  # a realignment deals some accounts again among their owners
    _hand_over(model, previous)  # accounts that changed owner keep what the hand-off carries
    _coordinate(model)  # coordinated accounts' teams plan them, at a cost in hours


def _open_quarter(model: CoverageModel) -> None:
    model.population.recount_spend()  # bound the rounding drift of the running segment totals
    model.recorder.start_quarter(model.week)


def _apply_shocks(model: CoverageModel, quarter: int) -> None:
    """Every shock scheduled for the start of ``quarter``, in file order."""
    pop, segments = model.population, model.scenario.segment_names
    attritions = 0  # this quarter's attrition shocks so far: each draws apart, whatever other shocks the file has
    for shock in model.scenario.shocks:
        if shock.quarter != quarter:
            continue
        if isinstance(shock, shocks.RepAttrition):
            team, regions = model.team, model.scenario.region_names
            order = team.shock_order(model.week, attritions)
            attritions += 1
            seats = shocks.leaving_seats(shock, team.filled(), team.roles(), team.regions(), regions, order)
            model.team.vacate(seats, model.week)
            model._vacated(seats)
        elif isinstance(shock, shocks.DemandShock) and shock.region:
            regions = model.scenario.region_names
            model.demand.scale_regions(shocks.regional_demand_factors(shock, segments, regions), pop)
        elif isinstance(shock, shocks.DemandShock):
            model.demand.scale(shocks.demand_factors(shock, segments), pop)
        elif isinstance(shock, shocks.PotentialShift):
            for accounts, factor in shocks.potential_moves(shock, pop.potential, pop.segment, segments):
                pop.scale_potential(accounts, factor)
            model.demand.refresh(pop)
        elif isinstance(shock, shocks.OverlayLaunch):
            model.team.add_specialists(shock.specialists, shock.line, model.week)
            model.demand.scale(shocks.demand_factors(shock, segments), pop)
        elif isinstance(shock, shocks.KeyAccountLoss):
            model._churn_accounts(shocks.key_accounts(shock, pop.status, pop.spend, pop.segment, segments))
        # A hiring freeze acts through shocks.frozen_hiring() each week; a realignment after the plan.


def _plan(model: CoverageModel, quarter: int) -> np.ndarray:
    """The policy plans the quarter; returns the previous plan's owners."""
    previous = model.plan.owner
    team = model.team.week(model.week).view
    view = PlanView(quarter=quarter, accounts=model._accounts, team=team, previous=model.plan, selling=model.selling)
    plan = model.ask("plan", view)
    # The plan in force goes before the new one is checked and copied (its owners stay, for the hand-over): at
    # 10M accounts, its cadence, service levels and flags beside the policy's plan and the copy made a run's peak.
    del view, model.plan
    model.plan = read_only_plan(
        checked_plan(plan, model.population.size, len(model.team), model.label, model.population.lines, team)
    )
    model._cadenced = np.flatnonzero(model.plan.cadence > 0)
    cadence = model.plan.specialist_cadence
    model._specialist_cells = np.empty(0, dtype=np.int64) if cadence is None else np.flatnonzero(cadence > 0)
    return previous


def _realign(model: CoverageModel, quarter: int) -> None:
    for i, shock in enumerate(model.scenario.shocks):
        if isinstance(shock, shocks.Realignment) and shock.quarter == quarter:
            # Its own generator: it draws as many as the policy owns accounts, which on the shared shock
            # stream would change a later shock's draws from policy to policy (no common random numbers).
            rng = keyed_generator(model.streams.outcome_key, Draw.REALIGNMENT, i)
            picked, owners = shocks.realigned_owners(shock, model.plan.owner, rng)
            owner = model.plan.owner.copy()
            owner[picked] = owners
            warm = np.array(model.plan.warm)  # the realignment's own rule for the accounts it moves
            warm[picked] = shock.warm
            model.plan = read_only_plan(dataclasses.replace(model.plan, owner=owner, warm=warm))


def _hand_over(model: CoverageModel, previous: np.ndarray) -> None:
    """Accounts whose new owner does not hold their personal relationship change hands, keeping
    ``warm_carry`` of it after a warm hand-off (which costs both reps hours), ``cold_carry`` else."""
    pop, plan, rel = model.population, model.plan, model.scenario.relationship
    assert plan.warm is not None  # checked_plan fills it in
    model.recorder.quarter_plan(pop.segment, pop.status != Status.CHURNED, previous, plan, model._specialist_cells)
    model.recorder.books(plan.owner, pop.status, len(model.team))
    worth = model.scenario.activities.call_stock * rel.personal_share  # at least one call's relationship
    moving, old, new, warm = changes_of_hands(
        pop.holder, pop.personal, plan.owner, plan.warm, model.team.filled(), worth
    )
    model._change_hands(moving[warm], new[warm], rel.handoff.warm_carry)
    model._change_hands(moving[~warm], new[~warm], rel.handoff.cold_carry)
    if warm.any():
        model.team.owe_handoffs(np.concatenate([old[warm], new[warm]]), rel.handoff.warm_hours)
        model.recorder.handoffs(pop.segment[moving[warm]], 2.0 * rel.handoff.warm_hours)


def _coordinate(model: CoverageModel) -> None:
    """Each coordinated account costs every distinct seat of its team (owner, specialists) that joins its plan
    (all, or with the plan's ``lanes_join`` False those paid on every line) ``coordination_hours`` over the
    quarter, a seat vacant at its start excepted. A seat keeps as many account
    plans as its hours for them pay for (``Team.plan_budget``), the accounts of highest potential first; an
    account a seat of its team has no hours left to plan is not coordinated this quarter (the plan in force
    says so), so that a plan is never made for nothing."""
    plan = model.plan
    c = np.flatnonzero(plan.coordinated)
    c = c[np.argsort(-model.population.potential[c], kind="stable")]
    team = plan.owner[c, None] if plan.specialist is None else np.column_stack([plan.owner[c], plan.specialist[c]])
    if not plan.lanes_join:  # a seat paid on its own line plans with no one: no hours, and no plan
        team[(team >= 0) & ~model.team.paid_on_every_line()[team]] = -1
        if not (joined := (team >= 0).any(axis=1)).all():  # nobody of the team joins: the account has no plan
            coordinated = np.array(plan.coordinated)
            coordinated[c[~joined]] = False
            model.plan = plan = read_only_plan(dataclasses.replace(plan, coordinated=coordinated))
        c, team = c[joined], team[joined]
    team = np.sort(team, axis=1)
    team[:, 1:][team[:, 1:] == team[:, :-1]] = -1  # a seat in two places of one team plans the account once
    team[(team >= 0) & ~model.team.filled()[team]] = -1  # a vacant seat works nothing: the others plan without it
    hours = model.scenario.relationship.coordination_hours
    if hours > 0 and c.size:
        plans = np.floor(model.team.plan_budget(model.week) / hours + 1e-9)
        kept = compiled(planned_accounts)(np.ascontiguousarray(team, dtype=np.int64), plans)
        if not kept.all():
            coordinated = np.array(plan.coordinated)
            coordinated[c[~kept]] = False
            model.recorder.plans_unmade(model.population.segment[c[~kept]])
            model.plan = read_only_plan(dataclasses.replace(plan, coordinated=coordinated))
            team = team[kept]
    model.team.plan_coordination(team[team >= 0], hours)
