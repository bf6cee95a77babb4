"""Checking the coverage plan a policy returns (``checked_plan``) and holding it read-only (``read_only_plan``).

A plan comes back from a policy once a quarter with an entry per account; it
is checked field by field, in the order named in ``checked_plan``, and copied
into arrays the engine owns, so that a policy holding on to what it returned
cannot change the plan in force.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from sim.clock import WEEKS_PER_QUARTER
from sim.codes import Service
from sim.compiled import compiled
from sim.errors import PolicyError
from sim.policies.views import CoveragePlan, TeamView, read_only


def read_only_plan(plan: CoveragePlan) -> CoveragePlan:
    """The checked ``plan`` with every array read-only (the plan in force, as policies see it)."""
    assert plan.warm is not None and plan.seat_pool is not None  # checked_plan fills them in
    arrays: dict[str, Any] = {f.name: getattr(plan, f.name) for f in dataclasses.fields(plan)}
    held: dict[str, Any] = {k: read_only(a) for k, a in arrays.items() if isinstance(a, np.ndarray)}
    return dataclasses.replace(plan, **held)


def checked_plan(
    plan: object, accounts: int, seats: int, policy: str, lines: int = 1, team: TeamView | None = None
) -> CoveragePlan:
    """The plan a policy returned, as owned arrays of the engine's dtypes, or PolicyError naming what is wrong;
    ``team``: the seats the plan was made for, by which its specialists are checked (None: not checked)."""
    if not isinstance(plan, CoveragePlan):
        raise PolicyError(f"policy {policy}: plan() must return a CoveragePlan, got {type(plan).__name__}")
    out = {}
    if plan.warm is None:
        plan = dataclasses.replace(plan, warm=np.zeros(accounts, dtype=bool))
    pools = np.full(seats, -1) if plan.seat_pool is None else np.asarray(plan.seat_pool)
    if pools.shape != (seats,):
        raise PolicyError(f"policy {policy}: plan.seat_pool has shape {pools.shape}, expected ({seats},): one per seat")
    if pools.size and (not np.issubdtype(pools.dtype, np.integer) or pools.min() < -1):
        raise PolicyError(f"policy {policy}: plan.seat_pool must hold pool numbers 0, 1, ... or -1 (none)")
    # Each field's kind is checked before it is cast: a cast would truncate a float owner (2.7 -> seat 2) or
    # wrap a service level (257 -> 1, pooled) into something valid, and the fault would change results unseen.
    fields = (
        ("owner", np.int64, "integer seat indices"),
        ("service", np.int8, "integer service levels"),
        ("cadence", np.float64, "numbers"),
        ("coordinated", bool, "booleans"),
        ("warm", bool, "booleans"),
    )
    # The range each number must lie in (a NaN lies in none; the largest float bounds the finite ones).
    ranges = {"owner": (-1, seats - 1), "service": (0, len(Service.names()) - 1), "cadence": (0, _MOST)}
    faults = {
        "owner": f"holds a seat outside -1..{seats - 1}",
        "service": "must be 0 (digital), 1 (pooled) or 2 (high touch)",
        "cadence": _CADENCE,
    }
    cadence_fine = True
    for field, dtype, kind in fields:
        a = np.asarray(getattr(plan, field))
        if a.shape != (accounts,):
            raise PolicyError(f"policy {policy}: plan.{field} has shape {a.shape}, expected ({accounts},)")
        if a.size and not _of_kind(a, dtype):
            raise PolicyError(f"policy {policy}: plan.{field} must hold {kind}, got dtype {a.dtype}")
        if field not in ranges:
            out[field] = a.astype(dtype, copy=True)
            continue
        low, high = ranges[field]
        if a.dtype == dtype and a.flags.writeable and a.flags.c_contiguous:  # the usual case: one compiled pass
            out[field], fine = compiled(_copied_within)(a, float(low), float(high))
        else:  # read-only or strided (each a numba version of its own), or of another dtype: numpy's
            out[field] = a.astype(dtype, copy=True)
            # An integer field is checked before its cast, which could make a fault valid (257 -> service 1);
            # a cadence after it (to float64, which keeps every number's sign and finiteness).
            b = a if dtype is not np.float64 else out[field]
            fine = bool(((b >= low) & (b <= high)).all())
        if field == "cadence":
            cadence_fine = fine
        elif not fine:
            raise PolicyError(f"policy {policy}: plan.{field} {faults[field]}{_first_outside(a, low, high)}")
    if not cadence_fine:
        raise PolicyError(
            f"policy {policy}: plan.cadence {faults['cadence']}{_first_outside(out['cadence'], 0, _MOST)}"
        )
    if (unowned := np.flatnonzero((out["cadence"] > 0) & (out["owner"] < 0))).size:  # had been dropped unsaid
        raise PolicyError(
            f"policy {policy}: plan.cadence promises {unowned.size} account{'' if unowned.size == 1 else 's'} with "
            f"no owner touches (the first: account {int(unowned[0])}); a cadence is its owner's to keep: set one "
            "only where owner >= 0"
        )
    overlay = _checked_overlay(plan, accounts, seats, lines, policy, team)
    if overlay["specialist"] is None:
        alone = compiled(_coordinated_alone)(out["coordinated"], out["owner"])
    elif not out["coordinated"].any():  # an uncoordinated overlay: nothing to look for, over every line
        alone = False
    else:
        alone = bool((out["coordinated"] & ~_covered(out["owner"], overlay["specialist"])).any())
    if alone:  # said with how many and the first: the fast checks above say only whether
        lone = np.flatnonzero(out["coordinated"] & ~_covered(out["owner"], overlay["specialist"]))
        raise PolicyError(
            f"policy {policy}: plan.coordinated marks {lone.size} account{'' if lone.size == 1 else 's'} with no "
            f"owner and no specialist (the first: account {int(lone[0])}): coordination is an account plan of the "
            "reps who cover the account"
        )
    if not isinstance(plan.lanes_join, bool | np.bool_):
        raise PolicyError(
            f"policy {policy}: plan.lanes_join must be True or False (whether seats paid on their own line join a "
            f"coordinated account's plan), got {type(plan.lanes_join).__name__}"
        )
    return CoveragePlan(**out, seat_pool=pools.astype(np.int64, copy=True), **overlay, lanes_join=bool(plan.lanes_join))


#: The most touches a quarter a cadence can ask: the engine lists at most one touch an account (or an account's
#: line) a week, so a larger one (52, a year's weekly touches) would be kept as 13 unsaid.
_MOST = float(WEEKS_PER_QUARTER)
_CADENCE = f"must be from 0 to {WEEKS_PER_QUARTER} (touches a quarter, at most one a week)"


def _first_outside(a: np.ndarray, low: float, high: float) -> str:
    """`` (the first: account 7, 12)``: the first entry of ``a`` outside ``[low, high]`` (a NaN is), and its value."""
    i = int(np.flatnonzero(~((a >= low) & (a <= high)))[0])
    return f" (the first: account {i}, {a[i].item()!r})"


def _copied_within(a: np.ndarray, low: float, high: float) -> tuple[np.ndarray, bool]:
    """A copy of ``a`` and whether each entry lies in ``[low, high]`` (a NaN does not): ``checked_plan``'s
    copy of a field and its check in one compiled pass (``sim.compiled``), where numpy took four a field."""
    out = np.empty_like(a)
    fine = True
    for i in range(a.size):
        x = a[i]
        out[i] = x
        fine &= (x >= low) & (x <= high)
    return out, fine


def _coordinated_alone(coordinated: np.ndarray, owner: np.ndarray) -> bool:
    """Whether a coordinated account has no owner (a plan with no specialists), compiled."""
    alone = False
    for i in range(owner.size):
        alone |= coordinated[i] & (owner[i] < 0)
    return alone


def _of_kind(a: np.ndarray, dtype: Any) -> bool:
    """Whether ``a`` holds what a field of ``dtype`` takes: integers for integers, booleans for booleans,
    and real numbers (integers or floats; not booleans, not complex) for floats."""
    if dtype is bool:
        return a.dtype == np.bool_
    if np.issubdtype(np.dtype(dtype), np.integer):
        return bool(np.issubdtype(a.dtype, np.integer))
    return bool(np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer))


def _checked_overlay(
    plan: CoveragePlan, accounts: int, seats: int, lines: int, policy: str, team: TeamView | None
) -> dict[str, Any]:
    """The plan's specialists and their cadence as owned arrays (None: no overlay), or PolicyError: each field's
    shape, kind and range as the owner's and the cadence's are checked, a cadence only where a specialist is,
    and, given the ``team``, a specialist that can close a deal and is paid on its line (an SDR, or a seat of
    another line's lane, had been taken, and its line's leads then declined unseen)."""
    if plan.specialist is None:
        if plan.specialist_cadence is not None:
            raise PolicyError(f"policy {policy}: plan.specialist_cadence is given without plan.specialist")
        return {"specialist": None, "specialist_cadence": None}
    shape = (accounts, lines)
    where = f"policy {policy}: plan.specialist"
    seat = np.asarray(plan.specialist)
    if seat.shape != shape:
        raise PolicyError(f"{where} has shape {seat.shape}, expected {shape}: accounts x product lines")
    if seat.size and not _of_kind(seat, np.int64):
        raise PolicyError(f"{where} must hold integer seat indices, got dtype {seat.dtype}")
    cadence = np.zeros(shape) if plan.specialist_cadence is None else np.asarray(plan.specialist_cadence)
    # Every seat fit for each line (a closer paid on it); without the team, every seat.
    unfit = np.zeros((seats, lines), dtype=bool) if team is None else ~(team.can_close[:, None] & team.lane_lines)
    usual = cadence.shape == shape and all(
        a.dtype == t and a.flags.writeable and a.flags.c_contiguous for a, t in ((seat, np.int64), (cadence, float))
    )
    if usual:  # one compiled pass copies both and checks all below (some 3.6 ms a quarter in numpy at 100k)
        copied, cadence_copied, fine = compiled(_overlay_copied)(seat, cadence, seats, _MOST, unfit)
        if fine:
            return {"specialist": copied, "specialist_cadence": cadence_copied}
    # numpy's checks, in this order, to say what fails
    if not (inside := (seat >= -1) & (seat < seats)).all():  # not min() and max(): -1 is no unsigned integer
        raise PolicyError(f"{where} holds a seat outside -1..{seats - 1}{_first_cell(seat, ~inside)}")
    if cadence.shape != shape:
        raise PolicyError(f"{where}_cadence has shape {cadence.shape}, expected {shape}: accounts x product lines")
    if cadence.size and not _of_kind(cadence, np.float64):
        raise PolicyError(f"{where}_cadence must hold numbers, got dtype {cadence.dtype}")
    cadence = cadence.astype(np.float64)
    if not (inside := (cadence >= 0) & (cadence <= _MOST)).all():  # a NaN is neither
        raise PolicyError(f"{where}_cadence {_CADENCE}{_first_cell(cadence, ~inside)}")
    if ((cadence > 0) & (seat < 0)).any():  # a touch nobody keeps, dropped unsaid
        alone = np.argwhere((cadence > 0) & (seat < 0))
        raise PolicyError(
            f"{where}_cadence promises {len(alone)} (account, line) cells with no specialist touches (the first: "
            f"account {int(alone[0, 0])}, line {int(alone[0, 1])}); set one only where plan.specialist >= 0"
        )
    if team is not None:
        for column in range(lines):  # a line at a time: a gather per line, not per cell
            named = seat[:, column]
            if unfit[:, column].any() and (wrong := (named >= 0) & unfit[np.maximum(named, 0), column]).any():
                account = int(np.flatnonzero(wrong)[0])
                first = int(named[account])
                why = "cannot close a deal" if not team.can_close[first] else "is not paid on that line (its lane)"
                raise PolicyError(
                    f"{where} names for {int(wrong.sum())} accounts of line {column} a seat that cannot work it (the "
                    f"first: account {account}: seat {first}, {team.role[first]}, {why}); a line's specialist is a seat "
                    "that closes deals and is paid on the line"
                )
    return {"specialist": seat.astype(np.int64, copy=True), "specialist_cadence": cadence}


def _covered(owner: np.ndarray, specialist: np.ndarray | None) -> np.ndarray:
    """Whether each account has an owner or a specialist: a team to coordinate."""
    covered = owner >= 0
    for column in () if specialist is None else specialist.T:  # a line at a time: any(axis=1) took 1.2 ms at 100k
        covered |= column >= 0
    return covered


def _first_cell(a: np.ndarray, wrong: np.ndarray) -> str:
    """`` (the first: account 7, line 1, 52.0)``: the first (account, line) cell of ``a`` marked ``wrong``."""
    account, line = (int(x) for x in np.argwhere(wrong)[0])
    return f" (the first: account {account}, line {line}, {a[account, line].item()!r})"


def _overlay_copied(
    seat: np.ndarray, cadence: np.ndarray, seats: int, most: float, unfit: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Copies of a plan's ``specialist`` and ``specialist_cadence`` (accounts x lines) and whether every cell
    passes ``_checked_overlay``'s checks: a seat from -1 to ``seats`` - 1, not ``unfit`` (seats x lines) for
    its line; a cadence from 0 to ``most`` (a NaN is not), and none without a seat. Compiled (``sim.compiled``);
    where a cell fails, numpy's checks find it and say which."""
    copied, cadence_copied = np.empty_like(seat), np.empty_like(cadence)
    fine = True
    for i in range(seat.shape[0]):
        for line in range(seat.shape[1]):
            s, c = seat[i, line], cadence[i, line]
            copied[i, line], cadence_copied[i, line] = s, c
            fine &= (s >= -1) & (s < seats) & (c >= 0.0) & (c <= most) & ((s >= 0) | ~(c > 0.0))
            if 0 <= s < seats:
                fine &= ~unfit[s, line]
    return copied, cadence_copied, fine
