"""Shocks and events for stress tests: their schemas and pure choosers of what each one hits.

A shock is a frozen config object, part of a scenario. The functions below
choose what it affects (which seats leave, which accounts, by how much demand
moves) from plain arrays and a generator; the model applies the choices
through the named methods of the state's owners. Nothing here imports the
model or writes state.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

import numpy as np

from sim.codes import OPPORTUNITY_KINDS, Draw, Kind, Status
from sim.config import PolicyConfig, Probability, Quarter, refuse_removed
from sim.randomness import keyed_uniform
from sim.strict import Field, Problems, Strict, model_validator


class RepAttrition(Strict):
    """Seats are vacated at the start of a quarter: ``share`` of the filled seats of ``role`` in ``region``, or
    ``seats`` of them (no more than the team has, which the scenario's checks refuse; all that are filled, if a
    vacancy leaves fewer)."""

    kind: Literal["rep_attrition"]
    quarter: Quarter
    share: Probability = 0.0
    """The share of the filled seats that leave, rounded to whole seats."""
    seats: Annotated[int, Field(ge=0, le=100_000)] = 0
    """How many filled seats leave, instead of a share (a VP's five who quit: 0.18 of 25 filled seats rounded to 4
    where one of them was vacant already); 0: by ``share``."""
    role: str = ""
    """Only seats of this role; empty for all."""
    region: str = ""
    """Only seats whose home region is this one (a region of ``population.regions``); empty for all."""

    @model_validator(mode="table")
    @classmethod
    def _share_or_seats(cls, data: Any) -> list[str]:
        if not isinstance(data, dict):
            return []
        if "share" not in data and "seats" not in data:
            return ["share: give share (of the filled seats) or seats (how many leave)"]
        share, seats = data.get("share"), data.get("seats")
        # Both above 0, each valid on its own (a wrong one is its own problem); a resolved scenario holds both, the
        # one not given at 0.
        if isinstance(share, int | float) and isinstance(seats, int) and 0 < share <= 1 and seats > 0:
            return [f"seats: give share or seats, not both (share {share}, seats {seats})"]
        return []


class HiringFreeze(Strict):
    """Vacated seats are not backfilled from one quarter to another (inclusive)."""

    kind: Literal["hiring_freeze"]
    quarter: Quarter
    until_quarter: Quarter


#: The largest factor a demand shock or an overlay's expansion lift may multiply opportunity rates by [A]:
#: demand ten times higher from one quarter to the next is beyond any market shock, and a percentage typed as a
#: factor (70 for 70%) is refused, as a share of 60 is.
MAX_DEMAND_FACTOR = 10.0


class DemandShock(Strict):
    """Opportunity rates are multiplied by a factor from a quarter on (of a segment, a kind, a region, or all)."""

    kind: Literal["demand"]
    quarter: Quarter
    factor: Annotated[float, Field(ge=0.0, le=MAX_DEMAND_FACTOR)]
    segment: str = ""
    opportunity: str = ""
    """Only this opportunity kind (new_logo or expansion; renewals come due on contract dates); empty for
    both."""
    region: str = ""
    """Only accounts located in this region (a region of ``population.regions``); empty for all."""


#: The largest factor a potential shift may multiply potentials by [A]: a hundredfold shift of every wallet is a
#: typing error; 1e18 took potentials far past the largest a scenario may name (MAX_AMOUNT).
MAX_SHIFT = 100.0


class PotentialShift(Strict):
    """Potentials are multiplied by a factor from a quarter on; with ``into``, what the accounts of ``segment``
    lose is added to those of ``into`` (a shift between segments: the total potential is kept)."""

    kind: Literal["potential_shift"]
    quarter: Quarter
    factor: Annotated[float, Field(gt=0.0, le=MAX_SHIFT)]
    segment: str = ""
    into: str = ""
    """The segment whose accounts gain the potential ``segment``'s accounts lose, ``(1 - factor)`` of theirs,
    shared in proportion to their own potential; empty: nothing gains (the potential is gone)."""

    @model_validator(mode="after")
    def _between_segments(self) -> PotentialShift:
        problems = []
        if self.into and self.factor >= 1.0:
            problems.append(
                f"factor: must be below 1 when into is set (the share of its potential each account of "
                f"segment keeps, the rest moving into {self.into!r})"
            )
        if self.into and not self.segment:
            problems.append("segment: a shift into another segment needs the segment it comes from")
        elif self.into and self.into == self.segment:
            problems.append("into: must differ from segment")
        if problems:
            raise Problems(problems)
        return self


class Realignment(Strict):
    """Books are reshuffled, as in a reorganisation: a share of the accounts owned in the new plan are dealt again
    among their owners at random, with no regard to where they are (an account may go to a rep in another
    region), and those that change hands keep the personal relationship by the hand-off rule."""

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
    expansion_lift: Annotated[float, Field(gt=0.0, le=MAX_DEMAND_FACTOR)] = 1.5
    line: str = ""
    """The product line the new specialists sell and are paid on (their lane); empty: no line of their own,
    paid on every line."""


class KeyAccountLoss(Strict):
    """The largest customers by spend (of ``segment``, or of all) churn at the start of a quarter."""

    kind: Literal["key_account_loss"]
    quarter: Quarter
    accounts: Annotated[int, Field(ge=1)]
    segment: str = ""
    """Only customers of this segment; empty for all."""


class ModelRollout(Strict):
    """The rollout of a new coverage model, the run's policy, from the current one: before ``quarter`` every
    account follows ``current``; from it on, a further ``1 / quarters`` of the accounts each quarter follow the
    new model, in an order fixed by the account number alone (``rollout_rank``), all of them from
    ``quarter + quarters - 1`` on. Accounts whose owner changes keep the personal relationship by the
    hand-off rule."""

    kind: Literal["rollout"]
    quarter: Quarter
    """The first quarter in which the new model covers any account."""
    quarters: Annotated[int, Field(ge=1, le=400)] = 1
    """Quarters the rollout takes: 1 is a big-bang; n > 1 is phased, a further 1/n of the accounts each quarter."""
    current: PolicyConfig = PolicyConfig()
    """The coverage model in force before (a policy name and parameters, as ``[policy]``)."""
    warm: bool = False
    """Accounts that join the new model in a quarter and change owner are handed over warm (each old owner
    introduces the new); otherwise cold, whatever either policy planned for them."""


Shock = Annotated[
    RepAttrition
    | HiringFreeze
    | DemandShock
    | PotentialShift
    | Realignment
    | OverlayLaunch
    | KeyAccountLoss
    | ModelRollout,
    Field(discriminator="kind"),
]

#: The key of the rollout order's keyed draws: a constant, so that the order depends on the account numbers
#: alone, the same in every run, replication and policy (any fixed value would do; these are "ROLLOUT" in ASCII).
ROLLOUT_KEY = np.uint64(0x524F4C4C4F5554)


def frozen_hiring(shocks: Sequence[object], quarter: int) -> bool:
    """Whether a hiring freeze covers this (1-based) quarter."""
    return any(isinstance(s, HiringFreeze) and s.quarter <= quarter <= s.until_quarter for s in shocks)


def leaving_seats(
    shock: RepAttrition,
    filled: np.ndarray,
    role: np.ndarray,
    region: np.ndarray,
    regions: tuple[str, ...],
    order: np.ndarray,
) -> np.ndarray:
    """Seats whose holders leave: ``share`` of the filled seats (of ``role`` and in ``region``, if given; a seat's
    region is an index into ``regions``), or ``seats`` of them (all, if fewer are filled), those of the lowest
    ``order`` (a uniform per seat, ``Team.shock_order``: a random choice), in seat order."""
    mask = filled & ((role == shock.role) if shock.role else True)
    if shock.region:
        mask &= region == regions.index(shock.region)
    seats = np.flatnonzero(mask)
    n = min(shock.seats, seats.size) if shock.seats else round(shock.share * seats.size)
    return np.sort(seats[np.argsort(order[seats], kind="stable")[:n]])


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


def regional_demand_factors(shock: DemandShock, segments: tuple[str, ...], regions: tuple[str, ...]) -> np.ndarray:
    """Multipliers of the opportunity rates of the accounts of each region, (region, segment, kind): the
    shock's ``demand_factors`` in its region, 1 in the others."""
    factors = np.ones((len(regions), len(segments), len(OPPORTUNITY_KINDS)))
    factors[regions.index(shock.region)] = demand_factors(shock, segments)
    return factors


def potential_moves(
    shock: PotentialShift, potential: np.ndarray, segment: np.ndarray, segments: tuple[str, ...]
) -> list[tuple[np.ndarray, float]]:
    """The shift as (accounts, factor) pairs, each scaling those accounts' potentials, in order.

    Without ``into``: the accounts of ``segment`` (or all) by ``factor``. With it: those by ``factor``, then
    the accounts of ``into`` by ``1 + lost / theirs``, where ``lost = (1 - factor) x`` the first group's
    potential and ``theirs`` the second's, so each gains in proportion to its potential and the total is
    kept. When ``into`` has no accounts, nothing moves (no pairs).
    """
    losing = np.arange(segment.size) if not shock.segment else np.flatnonzero(segment == segments.index(shock.segment))
    if not shock.into:
        return [(losing, shock.factor)]
    gaining = np.flatnonzero(segment == segments.index(shock.into))
    theirs = float(potential[gaining].sum())
    if theirs <= 0.0:
        return []
    lost = (1.0 - shock.factor) * float(potential[losing].sum())
    return [(losing, shock.factor), (gaining, 1.0 + lost / theirs)]


def key_accounts(
    shock: KeyAccountLoss, status: np.ndarray, spend: np.ndarray, segment: np.ndarray, segments: tuple[str, ...]
) -> np.ndarray:
    """The ``accounts`` largest customers by spend (of ``segment``, if given), ties by account order."""
    mine = status == Status.CUSTOMER
    if shock.segment:
        mine &= segment == segments.index(shock.segment)
    customers = np.flatnonzero(mine)
    return customers[np.argsort(-spend[customers], kind="stable")[: shock.accounts]]


def realigned_owners(shock: Realignment, owner: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``share`` of the accounts owned in the new plan (sorted), and their new owners: the same owners
    shuffled among them, so each owner keeps its number of accounts (some may draw their own again)."""
    owned = np.flatnonzero(owner >= 0)
    picked = np.sort(rng.choice(owned, size=round(shock.share * owned.size), replace=False))
    return picked, rng.permutation(owner[picked])


def rollout_rank(accounts: int) -> np.ndarray:
    """Each account's place (0 first) in the order a rollout moves accounts to the new model: the account
    numbers sorted by a keyed uniform draw of the number alone (``ROLLOUT_KEY``), so every run, policy and
    replication moves the same account numbers in the same quarter (common random numbers), and the order
    of any two accounts does not depend on how many there are."""
    u = keyed_uniform(ROLLOUT_KEY, np.arange(accounts), Draw.ROLLOUT)
    rank = np.empty(accounts, dtype=np.int64)
    rank[np.argsort(u, kind="stable")] = np.arange(accounts)
    return rank


def rollout_count(shock: ModelRollout, quarter: int, accounts: int) -> int:
    """How many of ``accounts``, the first in the rollout order, follow the new model in (1-based) ``quarter``:
    none before ``shock.quarter``; ``round((k + 1) / quarters x accounts)`` (halves up) in its k-th quarter
    (k = 0, 1, ...); all from its last on."""
    if quarter < shock.quarter:
        return 0
    k = min(quarter - shock.quarter, shock.quarters - 1)
    return ((k + 1) * 2 * accounts + shock.quarters) // (2 * shock.quarters)


def shock_text(shock: Shock) -> str:
    """A shock in a line: its kind, quarter and the settings not left at their defaults (a model in force by its
    policy's name)."""
    fields = type(shock).model_fields
    settings = "".join(
        f", {k}" if v is True else f", not {k}" if v is False else f", {k} {getattr(v, 'name', v)}"  # a policy by name
        for k, v in vars(shock).items()
        if k not in ("kind", "quarter") and v != getattr(fields[k], "default", None)
    )
    return f"{shock.kind} in quarter {shock.quarter}{settings}"


_SHOCK_KEY = re.compile(r"shocks\.(\d+)")


def attributed(problem: str, named: str, own: int, scenario_where: str, scenario_file: str) -> str:
    """``problem`` (``named: ...``, of the list of the scenario's ``own`` shocks and then the experiment's) said of
    the file its shock is in, ``scenario_where`` or ``named``, each shock by its number in its own file."""
    body = problem.removeprefix(f"{named}: ")
    first = _SHOCK_KEY.match(body)
    if body == problem or first is None:
        return problem
    mine = int(first[1]) >= own  # the experiment's

    def number(m: re.Match[str]) -> str:
        k = int(m[1])
        if (k >= own) == mine:
            return f"shocks.{k - own if mine else k}"
        return f"shocks.{k - own} of {named}" if k >= own else f"shocks.{k} of {scenario_file}"

    return f"{named if mine else scenario_where}: {_SHOCK_KEY.sub(number, body)}"
