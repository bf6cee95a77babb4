"""How an opportunity turns out: what each arrival is, its chance to win and the value won.

Pure functions of the scenario's segment terms, the accounts and the draws
keyed to each opportunity (``sim.randomness.keyed_uniforms``), so an
opportunity's fate does not depend on what else happened in the week.
"""

from __future__ import annotations

import numpy as np

from sim.clock import BUSINESS_DAYS_PER_WEEK as DAYS
from sim.codes import WHOLE_CONTRACT, Cause, Kind, Service, Stage, Status
from sim.demand import SegmentTerms
from sim.population import Population
from sim.randomness import box_muller
from sim.response import speed_multiplier, win_probability
from sim.scenario import Scenario


def arrival_columns(
    scenario: Scenario,
    terms: SegmentTerms,
    pop: Population,
    service: np.ndarray,
    week: int,
    c: np.ndarray,
    key: np.ndarray,
    u: np.ndarray,
) -> dict[str, np.ndarray]:
    """The book's columns of this week's new-logo and expansion opportunities (one per account ``c``).

    ``service``: each account's service level; ``u``: uniform draws (day,
    capture, deal size, deal size, and with several product lines the line)
    per opportunity. A prospect's opportunity is a new logo, a customer's an
    expansion; its product line is drawn in proportion to the account's
    wallet on each line (an expansion: its untapped wallet, or the wallet
    where nothing is untapped); the arrival day is uniform over the week; a
    digital account's opportunity goes to self-service with probability
    ``capture``.
    """
    u_day, u_capture, u1, u2 = u[:4]
    kind = np.where(pop.status[c] == Status.PROSPECT, Kind.NEW_LOGO, Kind.EXPANSION)
    line = np.zeros(c.size, dtype=np.int64)
    if pop.lines > 1:
        untapped = np.maximum(pop.wallet(c) - pop.line_spend[c], 0.0)
        room = (kind == Kind.EXPANSION) & (untapped.sum(axis=1) > 0)
        weight = np.where(room[:, None], untapped, pop.line_share[c]).cumsum(axis=1)
        line = (weight < (u[4] * weight[:, -1])[:, None]).sum(axis=1)
    day = DAYS * (week + u_day)
    dig, sv = scenario.digital, scenario.service
    digital = (service == Service.DIGITAL) & dig.enabled & (u_capture < dig.capture)
    window = np.where(service == Service.HIGH_TOUCH, sv.high_touch_window_days, sv.pooled_window_days)
    return _columns(terms, pop, week, c, key, kind, line, day, window, digital, np.full(c.size, NO_DUE), u1, u2)


def renewal_columns(
    scenario: Scenario,
    terms: SegmentTerms,
    pop: Population,
    service: np.ndarray,
    week: int,
    c: np.ndarray,
    key: np.ndarray,
    u: np.ndarray,
) -> dict[str, np.ndarray]:
    """The book's columns of the renewal opportunities opening this week (one per customer ``c``).

    ``u``: uniform draws (day, deal size, deal size). The first response may
    come until the renewal needs its work to start: ``notice - cycle`` weeks
    after opening, at least the service window and at most the renewal date;
    the work must be done by the renewal date (``due``).
    """
    u_day, u1, u2 = u
    seg = pop.segment[c].astype(np.int64)
    kind = np.full(c.size, Kind.RENEWAL)
    due = pop.renewal_week[c]
    day = DAYS * (week + u_day)
    sv = scenario.service
    window = np.where(service == Service.HIGH_TOUCH, sv.high_touch_window_days, sv.pooled_window_days)
    lead_days = DAYS * (pop.notice_weeks[seg] - terms.cycle[seg, Kind.RENEWAL])
    window = np.minimum(np.maximum(window, lead_days), np.maximum(DAYS * due - day, 0.0))
    line = np.full(c.size, WHOLE_CONTRACT)
    return _columns(terms, pop, week, c, key, kind, line, day, window, np.zeros(c.size, dtype=bool), due, u1, u2)


#: ``due`` of an opportunity with no fixed date (new logos and expansions).
NO_DUE = 2**40


def _columns(
    terms: SegmentTerms,
    pop: Population,
    week: int,
    c: np.ndarray,
    key: np.ndarray,
    kind: np.ndarray,
    line: np.ndarray,
    day: np.ndarray,
    window: np.ndarray,
    digital: np.ndarray,
    due: np.ndarray,
    u1: np.ndarray,
    u2: np.ndarray,
) -> dict[str, np.ndarray]:
    """Columns common to every new opportunity; its effort and cycle scale together around the medians."""
    seg = pop.segment[c].astype(np.int64)
    size = np.exp(terms.deal_sigma[seg] * box_muller(u1, u2))
    effort, cycle = terms.effort[seg, kind] * size, terms.cycle[seg, kind] * size
    return {
        "key": key,
        "customer": c,
        "segment": seg,
        "kind": kind,
        "line": line,
        "stage": np.where(digital, Stage.IN_WORK, Stage.AWAITING_RESPONSE),
        "digital": digital,
        "day": day,
        "sla_deadline": day + window,
        "effort_left": np.where(digital, 0.0, effort),
        "chunk": effort / np.maximum(cycle, 1.0),  # a deal shorter than a week is worked in one week
        "cycle": cycle,
        "due": due,
        "work_deadline": np.where(digital, week + np.ceil(cycle), -1).astype(np.int64),
        "handler": np.full(c.size, -1),
        "blocked": np.full(c.size, Cause.NO_OWNER),
        "expected_value": terms.base_win[seg, kind] * terms.value_estimate(pop, c, kind, line),
        "responded": np.full(c.size, -1),
        "delay": np.zeros(c.size),
        "pooled": np.zeros(c.size, dtype=bool),
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
    delay: np.ndarray,
) -> np.ndarray:
    """Win probability of deals on accounts ``c``: the segment's base (lower through self-service),
    moved by relationship, responsiveness, the closer's ``skill`` and an uncoordinated ``conflict``,
    times the speed-to-lead multiplier of the first-response ``delay`` (business days)."""
    base = terms.base_win[seg, kind] * np.where(digital, scenario.digital.win_factor, 1.0)
    p = win_probability(
        base, pop.stock[c], pop.responsiveness[c], skill, conflict.astype(np.float64), scenario.relationship
    )
    return p * speed_multiplier(delay, terms.speed_half_life[kind], terms.speed_floor[kind])


def unattended_renewal(scenario: Scenario, terms: SegmentTerms, pop: Population, c: np.ndarray) -> np.ndarray:
    """Chance that customers ``c`` renew on their own (no rep worked the renewal, or self-service):
    the uncovered renewal chance, raised by the relationship they still have with the company."""
    base = terms.base_win[pop.segment[c], Kind.RENEWAL]
    neutral = np.full(c.size, 0.5)
    return win_probability(base, pop.stock[c], neutral, np.ones(c.size), np.zeros(c.size), scenario.relationship)


def won_value(
    scenario: Scenario,
    terms: SegmentTerms,
    pop: Population,
    c: np.ndarray,
    seg: np.ndarray,
    kind: np.ndarray,
    line: np.ndarray,
    digital: np.ndarray,
    u1: np.ndarray,
    u2: np.ndarray,
) -> np.ndarray:
    """Value of won deals (currency): the expected value times mean-one lognormal noise from ``u1``, ``u2``
    (renewals: ``value_share`` of spend exactly); self-service new logos and expansions are worth
    ``value_factor``."""
    sigma = terms.value_sigma[seg]
    noise = np.exp(sigma * box_muller(u1, u2) - sigma**2 / 2)
    value = terms.value_estimate(pop, c, kind, line) * np.where(kind == Kind.RENEWAL, 1.0, noise)
    value *= np.where(digital & (kind != Kind.RENEWAL), scenario.digital.value_factor, 1.0)
    return value
