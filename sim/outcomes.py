"""How an opportunity turns out: what each arrival is, its chance to win and the value won.

Pure functions of the scenario's segment terms, the accounts and the draws
keyed to each opportunity (``sim.randomness.keyed_uniforms``), so an
opportunity's fate does not depend on what else happened in the week.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.clock import BUSINESS_DAYS_PER_WEEK as DAYS
from sim.codes import Cause, Draw, Kind, Service, Stage, Status
from sim.compiled import compiled
from sim.demand import SegmentTerms
from sim.opportunities import NEW_COLUMNS, OpportunityBook
from sim.population import Population
from sim.randomness import ARRIVAL_PLACE_STRIDE, account_week, keyed_uniforms, normal_purposes
from sim.scenario import Scenario

#: ``due`` of an opportunity with no fixed date (new logos and expansions).
NO_DUE = 2**40


def new_opportunities(
    scenario: Scenario,
    terms: SegmentTerms,
    pop: Population,
    service: np.ndarray,
    week: int,
    arrived: np.ndarray,
    place: np.ndarray,
    renewing: np.ndarray,
    outcome_key: np.uint64,
) -> dict[str, np.ndarray]:
    """The book's columns of this week's new opportunities: a new-logo or expansion opportunity on each
    account ``arrived`` (an account once per opportunity, ``place`` its place among them: 0, 1, ...), then a
    renewal opportunity on each customer ``renewing`` (``service``: every account's service level).

    A prospect's opportunity is a new logo, a customer's an expansion; its product line is drawn in
    proportion to the account's wallet on each line (an expansion: its untapped wallet, or the wallet where
    nothing is untapped); the arrival day is uniform over the week; a digital account's opportunity goes to
    self-service with probability ``capture``. A renewal's first response may come until the renewal needs
    its work to start: ``notice - cycle`` weeks after opening, at least the service window and at most the
    renewal date; its work must be done by the renewal date (``due``). Every opportunity's effort and cycle
    scale together around the segment's medians (lognormal, ``deal_sigma``).

    The draws are keyed to the account and week (even keys: arrivals; odd: renewals; an account's later
    arrivals of the week the first's key plus ``place x ARRIVAL_PLACE_STRIDE``), so they do not depend on
    what else happened in the week. One compiled pass (``_opened``) where numpy took some sixty
    calls, in numpy's order of operations (tests/test_kernels.py).
    """
    line = (Draw.LINE,) if pop.lines > 1 else ()
    key_a = 2 * account_week(arrived, week)
    if place.any():
        key_a += place * ARRIVAL_PLACE_STRIDE
    key_r = 2 * account_week(renewing, week) + 1
    u_a = keyed_uniforms(outcome_key, key_a, (Draw.DAY, Draw.CAPTURE, *normal_purposes(Draw.DEAL), *line))
    u_r = keyed_uniforms(outcome_key, key_r, (Draw.DAY, *normal_purposes(Draw.DEAL)))
    dig, sv = scenario.digital, scenario.service
    columns = compiled(_opened)(
        week,
        arrived,
        renewing,
        u_a,
        u_r,
        service,
        pop.status,
        pop.segment,
        pop.potential,
        *_lines_of(pop),
        pop.spend,
        pop.renewal_week,
        pop.notice_weeks,
        terms.deal_sigma,
        terms.effort,
        terms.cycle,
        terms.base_win,
        terms.value_share,
        dig.enabled,
        dig.capture,
        sv.high_touch_window_days,
        sv.pooled_window_days,
    )
    # ``_opened`` returns the columns in the book's order, after the key.
    return dict(zip(NEW_COLUMNS, (np.concatenate([key_a, key_r]), *columns), strict=True))


def _lines_of(pop: Population) -> tuple[int, np.ndarray, np.ndarray]:
    """The product lines, ``pop.line_share`` and ``pop.line_spend`` for a kernel, as ``Population.spend_arrays``
    gives them (in a one-line world, 1 x 1 arrays the kernel does not read)."""
    lines, _, line_spend, _, line_share, _, _ = pop.spend_arrays()
    return lines, line_share, line_spend


_PROSPECT, _NEW_LOGO, _EXPANSION = int(Status.PROSPECT), int(Kind.NEW_LOGO), int(Kind.EXPANSION)
_RENEWAL = int(Kind.RENEWAL)
_DIGITAL, _HIGH_TOUCH = int(Service.DIGITAL), int(Service.HIGH_TOUCH)
_AWAITING, _IN_WORK, _NO_OWNER = int(Stage.AWAITING_RESPONSE), int(Stage.IN_WORK), int(Cause.NO_OWNER)


def _opened(
    week: int,
    arrived: np.ndarray,
    renewing: np.ndarray,
    u_a: np.ndarray,
    u_r: np.ndarray,
    service: np.ndarray,
    status: np.ndarray,
    segment: np.ndarray,
    potential: np.ndarray,
    lines: int,
    line_share: np.ndarray,
    line_spend: np.ndarray,
    spend: np.ndarray,
    renewal_week: np.ndarray,
    notice_weeks: np.ndarray,
    deal_sigma: np.ndarray,
    effort: np.ndarray,
    cycle: np.ndarray,
    base_win: np.ndarray,
    value_share: np.ndarray,
    digital_enabled: bool,
    capture: float,
    high_touch_window: float,
    pooled_window: float,
) -> tuple[np.ndarray, ...]:
    """The columns of ``new_opportunities`` after the key. Compiled by numba (``sim.compiled``)."""
    na, n = arrived.size, arrived.size + renewing.size
    customer = np.empty(n, dtype=np.int64)
    seg_out = np.empty(n, dtype=np.int8)
    kind_out = np.empty(n, dtype=np.int8)
    line_out = np.empty(n, dtype=np.int8)
    stage = np.empty(n, dtype=np.int8)
    digital = np.zeros(n, dtype=np.bool_)
    day = np.empty(n)
    sla_deadline = np.empty(n)
    effort_left = np.empty(n)
    chunk = np.empty(n)
    cycle_out = np.empty(n)
    due = np.empty(n, dtype=np.int64)
    work_deadline = np.empty(n, dtype=np.int64)
    expected = np.empty(n)
    weight = np.empty(lines)
    # The accounts' columns gathered first, every load independent (each a cache miss), then the arithmetic.
    service_of, status_of, potential_of, spend_of = np.empty(n, np.int8), np.empty(n, np.int8), np.empty(n), np.empty(n)
    share_of, line_spend_of = np.empty((n, lines)), np.empty((n, lines))  # the rows of the line arrays
    for j in range(n):
        c = renewing[j - na] if j >= na else arrived[j]
        customer[j], seg_out[j], service_of[j], status_of[j] = c, segment[c], service[c], status[c]
        potential_of[j], spend_of[j] = potential[c], spend[c]
        if lines > 1:
            for q in range(lines):
                share_of[j, q], line_spend_of[j, q] = line_share[c, q], line_spend[c, q]
    for j in range(n):
        renewal = j >= na
        c, sg, sv = customer[j], seg_out[j], service_of[j]
        window = high_touch_window if sv == _HIGH_TOUCH else pooled_window
        ln = -1
        if renewal:
            k = _RENEWAL
            d = DAYS * (week + u_r[0, j - na])
            due[j] = renewal_week[c]
            lead_days = DAYS * (notice_weeks[sg] - cycle[sg, k])
            window = min(max(window, lead_days), max(DAYS * renewal_week[c] - d, 0.0))
            u1, u2 = u_r[1, j - na], u_r[2, j - na]
        else:
            k = _NEW_LOGO if status_of[j] == _PROSPECT else _EXPANSION
            d = DAYS * (week + u_a[0, j])
            due[j] = NO_DUE
            digital[j] = sv == _DIGITAL and digital_enabled and u_a[1, j] < capture
            u1, u2 = u_a[2, j], u_a[3, j]
            ln = 0
            if lines > 1:
                # Drawn in proportion to the untapped wallet on each line (an expansion with some), else the wallet.
                room = False
                for q in range(lines):
                    weight[q] = max(potential_of[j] * share_of[j, q] - line_spend_of[j, q], 0.0)
                    room = room or weight[q] > 0
                room = room and k == _EXPANSION
                total = 0.0
                for q in range(lines):
                    total += weight[q] if room else share_of[j, q]
                    weight[q] = total
                for q in range(lines):
                    if weight[q] < u_a[4, j] * total:
                        ln += 1
        size = np.exp(deal_sigma[sg] * (np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)))
        e, cy = effort[sg, k] * size, cycle[sg, k] * size
        kind_out[j], line_out[j] = k, ln
        stage[j] = _IN_WORK if digital[j] else _AWAITING
        day[j] = d
        sla_deadline[j] = d + window
        effort_left[j] = 0.0 if digital[j] else e
        chunk[j] = e / max(cy, 1.0)  # a deal shorter than a week is worked in one week
        cycle_out[j] = cy
        work_deadline[j] = int(week + np.ceil(cy)) if digital[j] else -1
        # The base win chance times the value estimate: a share of the untapped wallet of the deal's line, or of
        # spend for a renewal.
        lc = max(ln, 0)
        wallet, spent = (
            (potential_of[j] * share_of[j, lc], line_spend_of[j, lc]) if lines > 1 else (potential_of[j], spend_of[j])
        )
        base = spend_of[j] if k == _RENEWAL else max(wallet - spent, 0.0)
        expected[j] = base_win[sg, k] * (value_share[sg, k] * base)
    return (
        customer,
        seg_out,
        kind_out,
        line_out,
        stage,
        digital,
        day,
        sla_deadline,
        effort_left,
        chunk,
        cycle_out,
        due,
        work_deadline,
        np.full(n, -1, dtype=np.int64),
        np.full(n, _NO_OWNER, dtype=np.int8),
        expected,
        np.full(n, -1, dtype=np.int64),
        np.zeros(n),
        np.zeros(n, dtype=np.bool_),
    )


def unattended_renewal(scenario: Scenario, terms: SegmentTerms, pop: Population, c: np.ndarray) -> np.ndarray:
    """Chance that customers ``c`` renew on their own (no rep worked the renewal, or self-service):
    the uncovered renewal chance, raised by the relationship they still have with the company."""
    rel = scenario.relationship
    return compiled(_unattended)(
        c,
        pop.segment,
        pop.stock,
        terms.base_win,
        rel.win_weight,
        rel.win_half_stock,
        rel.responsiveness_win_weight,
        rel.skill_win_weight,
        rel.conflict_penalty,
    )


def _unattended(
    c: np.ndarray,
    segment: np.ndarray,
    stock: np.ndarray,
    base_win: np.ndarray,
    win_weight: float,
    win_half_stock: float,
    responsiveness_win_weight: float,
    skill_win_weight: float,
    conflict_penalty: float,
) -> np.ndarray:
    """``unattended_renewal``: ``sim.response.win_probability`` of the renewal base with responsiveness 0.5,
    skill 1 and no conflict, in its order of operations (its zero terms added, as it adds them). Compiled
    (``sim.compiled``), where numpy took fifteen calls a week."""
    p = np.empty(c.size)
    for j in range(c.size):
        base = min(max(base_win[segment[c[j]], _RENEWAL], 1e-9), 1 - 1e-9)
        x = stock[c[j]]
        logit = np.log(base / (1.0 - base))
        logit = logit + win_weight * x / (x + win_half_stock)
        logit = logit + responsiveness_win_weight * (0.5 - 0.5)
        logit = logit + skill_win_weight * (1.0 - 1.0)
        logit = logit - conflict_penalty * 0.0
        p[j] = 1.0 / (1.0 + np.exp(-logit))
    return p


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
        *_lines_of(pop),
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
    lines: int,
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
    # The accounts' columns gathered first, every load independent (each a cache miss), then the arithmetic.
    conflicted, held, realised = np.empty(n, np.int64), np.empty(n), np.empty(n)
    potential_of, spend_of = np.empty(n), np.empty(n)
    for j in range(n):
        c = customer[idx[j]]
        c_out[j], conflicted[j], held[j], realised[j] = c, last_conflict[c], stock[c], responsiveness[c]
        potential_of[j], spend_of[j] = potential[c], spend[c]
    for j in range(n):
        i = idx[j]
        c, sg, k, ln, dg, h = c_out[j], segment[i], kind[i], line[i], digital[i], handler[i]
        seg_out[j], kind_out[j], line_out[j], dig_out[j], h_out[j] = sg, k, ln, dg, h
        # A conflicting week on the account while the deal was open (from its arrival week) counts against it.
        conflict[j] = conflicted[j] >= np.floor(day[i] / DAYS)
        # The win probability on the log-odds scale (sim.response.win_probability), then speed-to-lead
        # (sim.response.speed_multiplier).
        base = base_win[sg, k] * (win_factor if dg else 1.0)
        base = min(max(base, 1e-9), 1 - 1e-9)
        logit = np.log(base / (1.0 - base))
        logit = logit + win_weight * held[j] / (held[j] + win_half_stock)
        logit = logit + responsiveness_win_weight * (realised[j] - 0.5)
        logit = logit + skill_win_weight * ((skill[h] if h >= 0 else 1.0) - 1.0)
        logit = logit - conflict_penalty * (1.0 if conflict[j] else 0.0)
        p = 1.0 / (1.0 + np.exp(-logit))
        p = p * (floor[k] + (1.0 - floor[k]) * np.exp2(-max(delay[i], 0.0) / half_life[k]))
        won[j] = u[0, j] < p
        if not won[j]:
            continue
        # The expected value (as new_opportunities estimates it) times mean-one lognormal noise (Box-Muller).
        lc = max(ln, 0)
        wallet, spent = (
            (potential_of[j] * line_share[c, lc], line_spend[c, lc]) if lines > 1 else (potential_of[j], spend_of[j])
        )
        untapped = max(wallet - spent, 0.0)
        v = value_share[sg, k] * (spend_of[j] if k == _RENEWAL else untapped)
        if k != _RENEWAL:
            sigma = value_sigma[sg]
            normal = np.sqrt(-2.0 * np.log1p(-u[1, j])) * np.cos(2.0 * np.pi * u[2, j])
            v = v * np.exp(sigma * normal - sigma * sigma / 2)
            if dg:
                v = v * value_factor
        value[j] = v
        margin[j] = (seat_margin[h] if h >= 0 else 0.0) * v
    return c_out, seg_out, kind_out, line_out, dig_out, h_out, conflict, won, value, margin
