"""How an opportunity turns out: what each arrival is, its chance to win and the value won.

Pure functions of the scenario's segment terms, the accounts and the draws
keyed to each opportunity (``sim.randomness.keyed_uniforms``), so an
opportunity's fate does not depend on what else happened in the week.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.clock import BUSINESS_DAYS_PER_WEEK as DAYS
from sim.codes import WHOLE_CONTRACT, Cause, Draw, Kind, Service, Stage, Status
from sim.compiled import compiled
from sim.demand import SegmentTerms
from sim.opportunities import OpportunityBook
from sim.population import Population
from sim.randomness import box_muller, keyed_uniforms, normal_purposes
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


def unattended_renewal(scenario: Scenario, terms: SegmentTerms, pop: Population, c: np.ndarray) -> np.ndarray:
    """Chance that customers ``c`` renew on their own (no rep worked the renewal, or self-service):
    the uncovered renewal chance, raised by the relationship they still have with the company."""
    base = terms.base_win[pop.segment[c], Kind.RENEWAL]
    neutral = np.full(c.size, 0.5)
    return win_probability(base, pop.stock[c], neutral, np.ones(c.size), np.zeros(c.size), scenario.relationship)


@dataclass(frozen=True)
class Decisions:
    """Deals decided at once, per deal: its book index (``idx``), account, segment, kind, line, whether it was
    self-service (``digital``), its handler (-1: none), whether an uncoordinated conflict on the account
    weighed on it, whether it was won, and, if won, its value and the partner's margin of it (currency)."""

    idx: np.ndarray
    customer: np.ndarray
    segment: np.ndarray
    kind: np.ndarray
    line: np.ndarray
    digital: np.ndarray
    handler: np.ndarray
    conflict: np.ndarray
    won: np.ndarray
    value: np.ndarray
    margin: np.ndarray


def decisions(
    scenario: Scenario,
    terms: SegmentTerms,
    pop: Population,
    book: OpportunityBook,
    idx: np.ndarray,
    skill: np.ndarray,
    seat_margin: np.ndarray,
    last_conflict: np.ndarray,
    outcome_key: np.uint64,
) -> Decisions:
    """Win or lose the open deals ``idx`` of the book (those closed already are left out), and value the won.

    The win probability is the segment's base (lower through self-service), moved on the log-odds scale by
    the relationship, the account's responsiveness, the closer's ``skill`` (per seat) and a conflict on
    the account while the deal was open (``last_conflict``: each account's last conflicting week), times the
    speed-to-lead multiplier of the first-response delay (``sim.response.win_probability`` and
    ``speed_multiplier``); a deal is won when its keyed uniform falls below it. A won deal is worth its
    expected value times mean-one lognormal noise (renewals: ``value_share`` of spend exactly); self-service
    new logos and expansions ``value_factor`` of that; a partner (``seat_margin``) keeps its margin.

    The draws are keyed to each deal, so a deal's fate does not depend on what else is decided with it.
    One compiled pass (``_decide``) where numpy took some eighty calls, with numpy's arithmetic in its order;
    its transcendental functions are the C library's, as numpy's are for float64 on this machine's
    instruction set (tests/test_kernels.py compares them bit for bit with the numpy functions they replaced).
    """
    idx = idx[~book.closed[idx]]  # a churn earlier this week may have closed some
    u = keyed_uniforms(outcome_key, book.key[idx], (Draw.WIN, *normal_purposes(Draw.VALUE)))
    rel, dig = scenario.relationship, scenario.digital
    out = compiled(_decide)(
        idx,
        u,
        book.customer,
        book.segment,
        book.kind,
        book.line,
        book.digital,
        book.handler,
        book.day,
        book.delay,
        pop.stock,
        pop.responsiveness,
        pop.potential,
        pop.line_share,
        pop.line_spend,
        pop.spend,
        skill,
        seat_margin,
        last_conflict,
        terms.base_win,
        terms.speed_half_life,
        terms.speed_floor,
        terms.value_sigma,
        terms.value_share,
        dig.win_factor,
        dig.value_factor,
        rel.win_weight,
        rel.win_half_stock,
        rel.responsiveness_win_weight,
        rel.skill_win_weight,
        rel.conflict_penalty,
    )
    return Decisions(idx, *out)


_RENEWAL = int(Kind.RENEWAL)


def _decide(
    idx: np.ndarray,
    u: np.ndarray,
    customer: np.ndarray,
    segment: np.ndarray,
    kind: np.ndarray,
    line: np.ndarray,
    digital: np.ndarray,
    handler: np.ndarray,
    day: np.ndarray,
    delay: np.ndarray,
    stock: np.ndarray,
    responsiveness: np.ndarray,
    potential: np.ndarray,
    line_share: np.ndarray,
    line_spend: np.ndarray,
    spend: np.ndarray,
    skill: np.ndarray,
    seat_margin: np.ndarray,
    last_conflict: np.ndarray,
    base_win: np.ndarray,
    half_life: np.ndarray,
    floor: np.ndarray,
    value_sigma: np.ndarray,
    value_share: np.ndarray,
    win_factor: float,
    value_factor: float,
    win_weight: float,
    win_half_stock: float,
    responsiveness_win_weight: float,
    skill_win_weight: float,
    conflict_penalty: float,
) -> tuple[np.ndarray, ...]:
    """The arrays of ``decisions`` after ``idx``. Compiled by numba (``sim.compiled``)."""
    n = idx.size
    c_out = np.empty(n, dtype=np.int64)
    seg_out = np.empty(n, dtype=np.int64)
    kind_out = np.empty(n, dtype=np.int64)
    line_out = np.empty(n, dtype=np.int64)
    dig_out = np.empty(n, dtype=np.bool_)
    h_out = np.empty(n, dtype=np.int64)
    conflict = np.empty(n, dtype=np.bool_)
    won = np.empty(n, dtype=np.bool_)
    value = np.zeros(n)
    margin = np.zeros(n)
    for j in range(n):
        i = idx[j]
        c, sg, k, ln, dg, h = customer[i], segment[i], kind[i], line[i], digital[i], handler[i]
        c_out[j], seg_out[j], kind_out[j], line_out[j], dig_out[j], h_out[j] = c, sg, k, ln, dg, h
        # A conflicting week on the account while the deal was open (from its arrival week) counts against it.
        conflict[j] = last_conflict[c] >= np.floor(day[i] / 5)
        # The win probability on the log-odds scale (sim.response.win_probability), then speed-to-lead
        # (sim.response.speed_multiplier).
        base = base_win[sg, k] * (win_factor if dg else 1.0)
        base = min(max(base, 1e-9), 1 - 1e-9)
        logit = np.log(base / (1.0 - base))
        logit = logit + win_weight * stock[c] / (stock[c] + win_half_stock)
        logit = logit + responsiveness_win_weight * (responsiveness[c] - 0.5)
        logit = logit + skill_win_weight * ((skill[h] if h >= 0 else 1.0) - 1.0)
        logit = logit - conflict_penalty * (1.0 if conflict[j] else 0.0)
        p = 1.0 / (1.0 + np.exp(-logit))
        p = p * (floor[k] + (1.0 - floor[k]) * np.exp2(-max(delay[i], 0.0) / half_life[k]))
        won[j] = u[0, j] < p
        if not won[j]:
            continue
        # The expected value (SegmentTerms.value_estimate) times mean-one lognormal noise (box_muller).
        lc = max(ln, 0)
        untapped = max(potential[c] * line_share[c, lc] - line_spend[c, lc], 0.0)
        v = value_share[sg, k] * (spend[c] if k == _RENEWAL else untapped)
        if k != _RENEWAL:
            sigma = value_sigma[sg]
            normal = np.sqrt(-2.0 * np.log1p(-u[1, j])) * np.cos(2.0 * np.pi * u[2, j])
            v = v * np.exp(sigma * normal - sigma * sigma / 2)
            if dg:
                v = v * value_factor
        value[j] = v
        margin[j] = (seat_margin[h] if h >= 0 else 0.0) * v
    return c_out, seg_out, kind_out, line_out, dig_out, h_out, conflict, won, value, margin
