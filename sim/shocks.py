"""Shocks and events for stress tests: their schemas and pure choosers of what each one hits.

A shock is a frozen config object, part of a scenario. The functions below
choose what it affects (which seats leave, which accounts, by how much demand
moves) from plain arrays and a generator; the model applies the choices
through the named methods of the state's owners. Nothing here imports the
model or writes state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from sim.codes import OPPORTUNITY_KINDS, Kind, Status
from sim.config import NonNegative, Positive, Probability, Quarter, Strict, refuse_removed


class RepAttrition(Strict):
    """A share of seats is vacated at the start of a quarter."""

    kind: Literal["rep_attrition"]
    quarter: Quarter
    share: Probability
    role: str = ""
    """Only seats of this role; empty for all."""


class HiringFreeze(Strict):
    """Vacated seats are not backfilled from one quarter to another (inclusive)."""

    kind: Literal["hiring_freeze"]
    quarter: Quarter
    until_quarter: Quarter


class DemandShock(Strict):
    """Opportunity rates are multiplied by a factor from a quarter on."""

    kind: Literal["demand"]
    quarter: Quarter
    factor: NonNegative
    segment: str = ""
    opportunity: str = ""
    """Only this opportunity kind (new_logo or expansion; renewals come due on contract dates); empty for
    both."""


class PotentialShift(Strict):
    """Potentials are multiplied by a factor from a quarter on."""

    kind: Literal["potential_shift"]
    quarter: Quarter
    factor: Positive
    segment: str = ""


class Realignment(Strict):
    """Territories are redrawn: a share of the accounts owned in the new plan are dealt again among
    their owners, and those that change hands keep the personal relationship by the hand-off rule."""

    kind: Literal["realignment"]
    quarter: Quarter
    share: Probability
    warm: bool = False
    """The moved accounts are handed over warm (each old owner introduces the new); otherwise cold."""

    @model_validator(mode="before")
    @classmethod
    def _earlier_format(cls, data: Any) -> Any:
        return refuse_removed(
            data, {"stock_lost": "what an account keeps now follows the hand-off rule (relationship.handoff)"}
        )


class OverlayLaunch(Strict):
    """A new offering: specialist seats join and expansion demand rises."""

    kind: Literal["overlay_launch"]
    quarter: Quarter
    specialists: Annotated[int, Field(ge=0, le=100_000)]
    expansion_lift: Positive = 1.5
    line: str = ""
    """The product line the new specialists sell and are paid on (their lane); empty: no line of their own,
    paid on every line."""


class KeyAccountLoss(Strict):
    """The largest customers by spend churn at the start of a quarter."""

    kind: Literal["key_account_loss"]
    quarter: Quarter
    accounts: Annotated[int, Field(ge=1)]


Shock = Annotated[
    RepAttrition | HiringFreeze | DemandShock | PotentialShift | Realignment | OverlayLaunch | KeyAccountLoss,
    Field(discriminator="kind"),
]


def frozen_hiring(shocks: Sequence[object], quarter: int) -> bool:
    """Whether a hiring freeze covers this (1-based) quarter."""
    return any(isinstance(s, HiringFreeze) and s.quarter <= quarter <= s.until_quarter for s in shocks)


def leaving_seats(shock: RepAttrition, filled: np.ndarray, role: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Seats whose holders leave: ``share`` of the filled seats (of ``role``, if given), in seat order."""
    seats = np.flatnonzero(filled & ((role == shock.role) if shock.role else True))
    n = round(shock.share * seats.size)
    return seats[np.sort(rng.choice(seats.size, size=n, replace=False))]


def demand_factors(shock: DemandShock | OverlayLaunch, segments: tuple[str, ...]) -> np.ndarray:
    """Multipliers of the opportunity rates, (segment, kind): the shock's factor where it applies, else 1."""
    factors = np.ones((len(segments), len(OPPORTUNITY_KINDS)))
    if isinstance(shock, OverlayLaunch):
        factors[:, Kind.EXPANSION] = shock.expansion_lift
        return factors
    rows = [segments.index(shock.segment)] if shock.segment else slice(None)
    cols = [OPPORTUNITY_KINDS.index(shock.opportunity)] if shock.opportunity else slice(None)
    factors[np.ix_(np.arange(len(segments))[rows], np.arange(len(OPPORTUNITY_KINDS))[cols])] = shock.factor
    return factors


def shifted_accounts(shock: PotentialShift, segment: np.ndarray, segments: tuple[str, ...]) -> np.ndarray:
    """Accounts whose potential the shift scales: its segment's, or all."""
    if not shock.segment:
        return np.arange(segment.size)
    return np.flatnonzero(segment == segments.index(shock.segment))


def key_accounts(shock: KeyAccountLoss, status: np.ndarray, spend: np.ndarray) -> np.ndarray:
    """The ``accounts`` largest customers by spend (ties by account order)."""
    customers = np.flatnonzero(status == Status.CUSTOMER)
    return customers[np.argsort(-spend[customers], kind="stable")[: shock.accounts]]


def realigned_owners(shock: Realignment, owner: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``share`` of the accounts owned in the new plan (sorted), and their new owners: the same owners
    shuffled among them, so each owner keeps its number of accounts (some may draw their own again)."""
    owned = np.flatnonzero(owner >= 0)
    picked = np.sort(rng.choice(owned, size=round(shock.share * owned.size), replace=False))
    return picked, rng.permutation(owner[picked])
