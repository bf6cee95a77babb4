"""How an opportunity turns out: what each arrival is, its chance to win and the value won.

Pure functions of the scenario's segment terms, the accounts and the draws
keyed to each opportunity (``sim.randomness.keyed_uniforms``), so an
opportunity's fate does not depend on what else happened in the week.
"""

from __future__ import annotations

import numpy as np

from sim.clock import BUSINESS_DAYS_PER_WEEK as DAYS
from sim.codes import Cause, Kind, Service, Stage, Status
from sim.demand import SegmentTerms
from sim.population import Population
from sim.randomness import box_muller
from sim.response import win_probability
from sim.scenario import Scenario


def arrival_columns(
    scenario: Scenario,
    terms: SegmentTerms,
    pop: Population,
    service: np.ndarray,
    week: int,
    c: np.ndarray,
    key: np.ndarray,
    lifted: np.ndarray,
    flat: np.ndarray,
    u: np.ndarray,
) -> dict[str, np.ndarray]:
    """The book's columns of this week's new opportunities (one per account ``c``).

    ``service``: each account's service level; ``lifted``, ``flat``: its
    intensities this week; ``u``: uniform draws (kind, day, capture) per
    opportunity. A renewal is drawn in proportion to the flat intensity; the
    arrival day is uniform over the week; a digital account's opportunity goes
    to self-service with probability ``capture``.
    """
    seg = pop.segment[c].astype(np.int64)
    u_kind, u_day, u_capture = u
    renewal = u_kind * (lifted + flat) < flat
    kind = np.where(pop.status[c] == Status.PROSPECT, Kind.NEW_LOGO, np.where(renewal, Kind.RENEWAL, Kind.EXPANSION))
    day = DAYS * (week + u_day)
    dig, sv = scenario.digital, scenario.service
    digital = (service == Service.DIGITAL) & dig.enabled & (u_capture < dig.capture)
    window = np.where(service == Service.HIGH_TOUCH, sv.high_touch_window_days, sv.pooled_window_days)
    effort, cycle = terms.effort[seg, kind], terms.cycle[seg, kind]
    return {
        "key": key,
        "customer": c,
        "segment": seg,
        "kind": kind,
        "stage": np.where(digital, Stage.IN_WORK, Stage.AWAITING_RESPONSE),
        "digital": digital,
        "day": day,
        "sla_deadline": day + window,
        "effort_left": np.where(digital, 0.0, effort),
        "chunk": effort / cycle,
        "work_deadline": np.where(digital, week + cycle, -1).astype(np.int64),
        "handler": np.full(c.size, -1),
        "blocked": np.full(c.size, Cause.NO_OWNER),
        "expected_value": terms.base_win[seg, kind] * terms.value_estimate(pop, c, kind),
        "responded": np.full(c.size, -1),
    }


def win_chance(
    scenario: Scenario,
    terms: SegmentTerms,
    pop: Population,
    c: np.ndarray,
    seg: np.ndarray,
    kind: np.ndarray,
    digital: np.ndarray,
    skill: np.ndarray,
    conflict: np.ndarray,
) -> np.ndarray:
    """Win probability of deals on accounts ``c``: the segment's base (lower through self-service),
    moved by relationship, responsiveness, the closer's ``skill`` and an uncoordinated ``conflict``."""
    dig = scenario.digital
    factor = np.where(kind == Kind.RENEWAL, dig.renewal_win_factor, dig.win_factor)
    base = terms.base_win[seg, kind] * np.where(digital, factor, 1.0)
    return win_probability(
        base, pop.stock[c], pop.responsiveness[c], skill, conflict.astype(np.float64), scenario.relationship
    )


def won_value(
    scenario: Scenario,
    terms: SegmentTerms,
    pop: Population,
    c: np.ndarray,
    seg: np.ndarray,
    kind: np.ndarray,
    digital: np.ndarray,
    u1: np.ndarray,
    u2: np.ndarray,
) -> np.ndarray:
    """Value of won deals (currency): the expected value times mean-one lognormal noise from ``u1``, ``u2``
    (renewals keep their spend exactly); self-service new logos and expansions are worth ``value_factor``."""
    sigma = terms.value_sigma[seg]
    noise = np.exp(sigma * box_muller(u1, u2) - sigma**2 / 2)
    value = terms.value_estimate(pop, c, kind) * np.where(kind == Kind.RENEWAL, 1.0, noise)
    value *= np.where(digital & (kind != Kind.RENEWAL), scenario.digital.value_factor, 1.0)
    return value
