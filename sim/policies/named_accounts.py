"""``named_accounts``: the largest accounts have a named owner; everything else is served digitally."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import numpy as np

from sim.codes import Service, Status
from sim.policies.protocol import CoveragePlan, PlanView, Policy, RouteView, TaskView
from sim.policies.rules import (
    BookRule,
    HandoffRule,
    empty_plan,
    generalist_closers,
    name_largest,
    route_to_owner,
    standard_priority,
)
from sim.strict import Field, Strict


class NamedAccountsParams(Strict):
    accounts_per_rep: Annotated[
        int, Field(ge=0, le=100_000, description="named accounts in each closer's book, largest potential first")
    ] = 40
    cadence: Annotated[float, Field(ge=0.0, le=13.0, description="planned touches per quarter, named account")] = 2.0
    books: BookRule = "keep"
    handoff: HandoffRule = "cold"


class NamedAccounts(Policy):
    """Top accounts by potential get a named owner (high touch); the rest are digital.

    The accounts with the largest potential, in every segment, are dealt region
    by region into books of ``accounts_per_rep`` for every seat that can close
    and is paid on every line and kind (an SDR qualifies, it does not own; a
    line specialist works only its lane). An owner touches its accounts
    ``cadence`` times a quarter and answers their demand; every other account
    is on the digital channel, where a lead that needs a human waits for
    nobody. With ``books = "keep"`` an account stays with its owner from
    quarter to quarter while it stays among the largest.
    """

    name = "named_accounts"
    Params = NamedAccountsParams
    params: NamedAccountsParams

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        acc, prm = view.accounts, self.params
        plan = empty_plan(acc.size, Service.DIGITAL)
        # An owner answers every kind of demand on every line: the closers paid on everything own the books.
        live = np.flatnonzero(acc.status != Status.CHURNED)
        name_largest(plan, view, live, generalist_closers(view.team), prm.accounts_per_rep, prm.books, prm.cadence)
        return dataclasses.replace(plan, warm=np.full(acc.size, prm.handoff == "warm"))

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        return route_to_owner(view)

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        return standard_priority(view.tasks, view.accounts)
