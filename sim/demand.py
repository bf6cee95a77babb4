"""Demand: each account's weekly intensity of opportunities and chance of churning, and the draws of both.

``Demand`` owns the per-account intensities (recomputed when an account's
status, a segment's demand or a potential changes) and the thinned draws that
turn them into arrivals and churn each week. ``SegmentTerms`` holds the
scenario's segment x opportunity-kind tables the engine reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.clock import WEEKS_PER_YEAR
from sim.codes import OPPORTUNITY_KINDS, Draw, Kind, Status
from sim.compiled import compiled
from sim.errors import InputError
from sim.numpy_exact import power
from sim.population import Population
from sim.randomness import Thinning, account_week, keyed_uniform
from sim.response import churn_relief, weekly_hazard
from sim.scenario import Scenario
from sim.selling import Adbudg


@dataclass(frozen=True)
class SegmentTerms:
    """The scenario's segment tables: (segment, kind) arrays unless noted.

    rate: opportunities per account-year at median potential, no relationship
    (renewals: 0, they come due on contract dates); effort: median rep hours
    after the first response; cycle: median planned weeks; base_win: win
    probability of an average account (renewal: the chance that a customer
    nobody covers renews, from the segment's churn); value_share: won value as
    a share of the untapped wallet (renewal: of spend). By segment:
    value_sigma: lognormal spread of won value; deal_sigma: lognormal spread
    of a deal's effort and cycle; median_potential, potential_exponent: rates
    scale with (potential / median) ** exponent; base_hazard: weekly churn
    probability between renewals with no relationship. By kind: speed_half_life (business days), speed_floor: the
    speed-to-lead curve.
    """

    rate: np.ndarray
    effort: np.ndarray
    cycle: np.ndarray
    base_win: np.ndarray
    value_share: np.ndarray
    value_sigma: np.ndarray
    deal_sigma: np.ndarray
    median_potential: np.ndarray
    potential_exponent: np.ndarray
    base_hazard: np.ndarray
    speed_half_life: np.ndarray
    speed_floor: np.ndarray

    @classmethod
    def of(cls, scenario: Scenario) -> SegmentTerms:
        segs = scenario.population.segments

        def table(attr: str, renewal: np.ndarray | None = None) -> np.ndarray:
            t = np.array([[getattr(getattr(s, k), attr, 0.0) for k in OPPORTUNITY_KINDS] for s in segs], dtype=float)
            if renewal is not None:
                t[:, Kind.RENEWAL] = renewal
            return t

        curves = scenario.service.speed_to_lead
        churn = np.array([s.churn_per_year for s in segs])
        mid_share = np.array([s.mid_term_churn_share for s in segs])
        term = np.array([s.contract_term_weeks for s in segs], dtype=np.int64)
        return cls(
            rate=table("rate_per_year"),
            effort=table("effort_hours"),
            cycle=table("cycle_weeks"),
            base_win=table("win_probability", 1.0 - renewal_churn(churn, mid_share, term)),
            value_share=table("value_share"),
            value_sigma=np.array([s.value_sigma for s in segs]),
            deal_sigma=np.array([s.deal_sigma for s in segs]),
            median_potential=np.array([s.potential_median for s in segs]),
            potential_exponent=np.array([s.potential_exponent for s in segs]),
            base_hazard=weekly_hazard(1.0 - (1.0 - churn) ** mid_share),
            speed_half_life=np.array([getattr(curves, k).half_life_days for k in OPPORTUNITY_KINDS]),
            speed_floor=np.array([getattr(curves, k).floor for k in OPPORTUNITY_KINDS]),
        )


def renewal_churn(churn_per_year: np.ndarray, mid_term_share: np.ndarray, term_weeks: np.ndarray) -> np.ndarray:
    """Chance that a customer nobody covers leaves at a renewal date.

    An uncovered customer survives a year with probability ``1 - churn``; the
    part ``(1 - churn) ** mid_term_share`` of that survival is spent between
    renewals and the rest over the ``52 / term`` renewals of the year, so
    ``(1 - p) ** (52 / term) = (1 - churn) ** (1 - mid_term_share)``.
    """
    keep = (1.0 - churn_per_year) ** ((1.0 - mid_term_share) * term_weeks / WEEKS_PER_YEAR)
    return 1.0 - keep


class Demand:
    """Every account's weekly opportunity intensity and churn hazard, and their draws.

    lifted_rate: weekly intensity that the relationship lifts (new logo for a
    prospect, expansion for a customer); hazard0: weekly churn probability
    between renewals with no relationship; factor: (segment, kind) multiplier
    from demand shocks; regional: (region, segment, kind) multiplier from
    demand shocks on one region, on top of ``factor`` (None until the first
    such shock: the weekly refreshes of converted accounts then skip it).
    Renewals do not arrive at a rate: they come due on contract dates
    (``Population.renewals_opening``).
    """

    def __init__(self, scenario: Scenario, terms: SegmentTerms, pop: Population) -> None:
        self._terms = terms
        self._response = scenario.relationship.response
        self._relationship = scenario.relationship
        self._segment_names = scenario.segment_names
        n = pop.size
        self.factor = np.ones((len(scenario.population.segments), len(OPPORTUNITY_KINDS)))
        self.regional: np.ndarray | None = None
        self.lifted_rate = np.zeros(n)
        self.hazard0 = np.zeros(n)
        self._churn_draws = Thinning.by_group(pop.segment, terms.base_hazard)
        self.refresh(pop)

    def scale(self, factor: np.ndarray, pop: Population) -> None:
        """A demand shock: multiply the (segment, kind) rates by ``factor``."""
        self.factor *= factor
        self.refresh(pop)

    def scale_regions(self, factor: np.ndarray, pop: Population) -> None:
        """A demand shock on one region: multiply the (region, segment, kind) rates by ``factor``."""
        self.regional = factor.copy() if self.regional is None else self.regional * factor
        self.refresh(pop)

    def refresh(self, pop: Population, idx: np.ndarray | None = None) -> None:
        """Recompute intensities and base hazards of ``idx`` (all when None) after their status changed.

        A full refresh (at the start, after a demand or potential shock) also
        rebuilds the arrival draws' bounds, which depend on the scenario alone,
        never on what a policy did.
        """
        if idx is not None and idx.size == 0:
            return
        t = self._terms
        r = t.rate * self.factor / WEEKS_PER_YEAR
        regional = self.regional is not None
        fn = self._response
        # Whatever its status and relationship, an account's weekly intensity is at most its top rate times this.
        top_lift = max(fn.a, fn.b) if isinstance(fn, Adbudg) else fn.cap
        most, peak, at = compiled(_intensities)(
            np.empty(0, dtype=np.int64) if idx is None else idx.astype(np.int64, copy=False),
            idx is None,
            pop.segment,
            pop.status,
            pop.region,
            pop.potential,
            t.median_potential,
            t.potential_exponent,
            r,
            self.regional if regional else _NO_REGIONS,
            regional,
            t.base_hazard,
            top_lift,
            self.lifted_rate,
            self.hazard0,
        )
        if idx is None:
            if peak > MOST_INTENSITY:  # refused before a run draws it, whatever the seed and policy
                s = int(pop.segment[at])
                raise InputError(
                    [
                        f"population.segments.{s} ({self._segment_names[s]}): an account's weekly opportunity "
                        f"intensity reaches {peak:.3g} at the relationship's top lift (rate_per_year / 52 x "
                        f"(potential / potential_median) ^ potential_exponent x {top_lift:g}, and any demand or "
                        f"potential shock), more than {MOST_INTENSITY:,} a week: lower its rate, potential_sigma "
                        "or potential_exponent"
                    ]
                )
            # The arrival draws' bounds depend on the scenario alone, never on what a policy did.
            self._arrival_draws = Thinning.by_bound(most)

    def silence(self, customers: np.ndarray) -> None:
        """Churned accounts: nothing arrives, nothing more to lose (what ``refresh`` gives them, cheaper)."""
        self.lifted_rate[customers] = 0.0
        self.hazard0[customers] = 0.0

    def arrivals(
        self, pop: Population, rng: np.random.Generator, key: np.uint64, week: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """This week's new opportunities (a new logo for a prospect, an expansion for a customer): the account
        of each, once per opportunity, and its place among the account's opportunities of the week (0 for the
        first), as a Poisson process at each account's intensity gives them.

        Whether an account has any is drawn from ``rng`` (thinned: ``1 - exp(-rate x lift)``), how many it has
        then by a keyed draw (``Draw.ARRIVALS``: a zero-truncated Poisson count), so the first arrivals are
        the same draws as when the model raised at most one an account and week (until 6 December 2026)."""
        c, bound, u = self._arrival_draws.candidates(rng)
        fn = self._response
        # (adbudg, a, b, shape, d, z, cap) of either response.
        response = (
            (True, fn.a, fn.b, fn.c, fn.d, 0.0, 0.0)
            if isinstance(fn, Adbudg)
            else (False, 0.0, fn.b, fn.e, 0.0, fn.z, fn.cap)
        )
        # One compiled pass over the candidates (``_arrived``) where numpy took a dozen calls.
        kept, intensity, exceeded = compiled(_arrived)(
            c, bound, u, pop.ever_touched, pop.stock, pop.responsiveness, self.lifted_rate, *response
        )
        if exceeded:
            raise RuntimeError("an arrival probability exceeded its bound (an engine bug)")
        if kept.size == 0:
            return kept, np.zeros(0, dtype=np.int64)
        more = keyed_uniform(key, account_week(kept, week), Draw.ARRIVALS)
        accounts, place, most = compiled(_counted)(kept, intensity, more, MOST_ARRIVALS)
        if most:  # intensities are bounded by MOST_INTENSITY as a run starts (refresh), where a scenario is told
            raise RuntimeError("an account's weekly count passed the draw ids' room (an engine bug)")
        return accounts, place

    def churning(self, pop: Population, rng: np.random.Generator) -> np.ndarray:
        """Customers who leave this week, at a hazard the relationship relieves."""
        c, bound, u = self._churn_draws.candidates(rng)
        hazard = self.hazard0[c] * churn_relief(pop.stock[c], self._relationship)
        return c[u * bound < hazard]


#: ``_intensities``' regional factors when no shock has set any (a 1 x 1 x 1 array it does not read).
_NO_REGIONS = np.ones((1, 1, 1))
_PROSPECT, _CUSTOMER = int(Status.PROSPECT), int(Status.CUSTOMER)
_NEW_LOGO, _EXPANSION = int(Kind.NEW_LOGO), int(Kind.EXPANSION)


def _intensities(
    idx: np.ndarray,
    every: bool,
    segment: np.ndarray,
    status: np.ndarray,
    region: np.ndarray,
    potential: np.ndarray,
    median_potential: np.ndarray,
    potential_exponent: np.ndarray,
    rate: np.ndarray,
    regional: np.ndarray,
    is_regional: bool,
    base_hazard: np.ndarray,
    top_lift: float,
    lifted_rate: np.ndarray,
    hazard0: np.ndarray,
) -> tuple[np.ndarray, float, int]:
    """``Demand.refresh`` of the accounts ``idx`` (of every account if ``every``), in place of their
    ``lifted_rate`` and ``hazard0``; with ``every``, returns each account's bound on its weekly arrival
    probability, ``1 - exp(-top rate x top_lift)`` widened by 1e-9 of itself (empty otherwise), and the largest
    top intensity ``top rate x top_lift`` with its account (0 and 0 otherwise).

    A prospect's rate is its segment's new-logo rate, a customer's the expansion rate (times the regional
    factor once a shock set one), scaled by ``(potential / median) ** exponent``; a churned account has
    none. Compiled (``sim.compiled``) in numpy's order of operations, with the C library's ``pow`` and
    ``expm1`` as numpy's below AVX-512, so the numbers are numpy's bit for bit (tests/test_kernels.py),
    where numpy made some fifteen arrays of the accounts' size (at ten million accounts, 80 MB each).
    """
    count = segment.size if every else idx.size
    most = np.empty(count if every else 0)
    peak, at = 0.0, 0
    for j in range(count):
        i = j if every else idx[j]
        s = segment[i]
        scale = (potential[i] / median_potential[s]) ** potential_exponent[s]
        new_logo, expansion = rate[s, _NEW_LOGO], rate[s, _EXPANSION]
        if is_regional:
            new_logo = new_logo * regional[region[i], s, _NEW_LOGO]
            expansion = expansion * regional[region[i], s, _EXPANSION]
        st = status[i]
        lifted_rate[i] = (new_logo if st == _PROSPECT else (expansion if st == _CUSTOMER else 0.0)) * scale
        hazard0[i] = base_hazard[s] if st == _CUSTOMER else 0.0
        if every:
            # np.maximum, not max: a NaN rate (a zero rate times an infinite shock) stays NaN, as in numpy.
            top = np.maximum(new_logo, expansion) * scale * top_lift
            most[j] = -np.expm1(-top) * (1.0 + 1e-9)
            if top > peak:  # an infinite one too; a NaN one (0 x an infinite shock) is no larger
                peak, at = top, j
    return most, peak, at


def _arrived(
    c: np.ndarray,
    bound: np.ndarray,
    u: np.ndarray,
    ever_touched: np.ndarray,
    stock: np.ndarray,
    responsiveness: np.ndarray,
    lifted_rate: np.ndarray,
    adbudg: bool,
    a: float,
    b: float,
    shape: float,
    d: float,
    z: float,
    cap: float,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The candidates ``c`` (picked at their ``bound``) whose uniform ``u`` keeps them at their arrival
    probability ``1 - exp(-rate * lift)``, the intensity ``rate * lift`` of each kept, and whether any
    probability exceeded its bound (an engine bug).

    The lift is the response's base ``b`` for an account never touched (no stock to lift it), else
    ``sim.response.demand_lift`` of its stock: ADBUDG ``b + (a - b) x^shape / (d + x^shape)`` or power
    ``min(cap, b + z x^shape)``, realised by its responsiveness. Compiled by numba (``sim.compiled``), in
    numpy's order of operations and with its shortcuts for some powers, so every draw is the one
    numpy gave (tests/test_kernels.py).
    """
    # The candidates' columns gathered first, every load independent of the others, so that the processor
    # has many in flight: scattered over the accounts, each is a cache miss. Stock and responsiveness only
    # of the accounts ever touched (most are not: their lift is the base).
    n = c.size
    touched, held, realised, rate = np.empty(n, dtype=np.bool_), np.zeros(n), np.zeros(n), np.empty(n)
    for j in range(n):
        i = c[j]
        touched[j], rate[j] = ever_touched[i], lifted_rate[i]
    for j in range(n):
        if touched[j]:
            held[j], realised[j] = stock[c[j]], responsiveness[c[j]]
    keep = np.zeros(n, dtype=np.bool_)
    lam = np.empty(n)
    count = 0
    exceeded = False
    for j in range(n):
        lift = b
        if touched[j]:
            xs = power(max(held[j], 0.0), shape)  # as numpy raises an array to a scalar power
            y = b + (a - b) * xs / (d + xs) if adbudg else min(cap, b + z * xs)
            lift = b + realised[j] * (y - b)
        lam[j] = rate[j] * lift
        # 1 - exp(-r) <= r, and the C library's expm1 is within an ulp: a uniform well above r x (1 + 1e-12)
        # is above p too (and so is the bound, u < 1), so the draw is decided without the exponential (most are).
        if u[j] * bound[j] > rate[j] * lift * (1.0 + 1e-12):
            continue
        p = -np.expm1(-rate[j] * lift)
        if p > bound[j]:
            exceeded = True
        if u[j] * bound[j] < p:
            keep[j] = True
            count += 1
    out, intensity = np.empty(count, dtype=np.int64), np.empty(count)
    k = 0
    for j in range(c.size):
        if keep[j]:
            out[k], intensity[k] = c[j], lam[j]
            k += 1
    return out, intensity, exceeded


#: Most opportunities one account may have in a week: the arrivals' draw ids leave room for this many
#: (``sim.randomness.ARRIVAL_PLACE_STRIDE``); an intensity that gives more is a scenario error, not a draw.
MOST_ARRIVALS = 65_535
#: The largest weekly intensity an account may reach at the relationship's top lift, refused when a run starts:
#: half of MOST_ARRIVALS, which a Poisson count of that mean passes with a chance far below a double's precision.
MOST_INTENSITY = MOST_ARRIVALS // 2


def _counted(kept: np.ndarray, intensity: np.ndarray, u: np.ndarray, most: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Each account of ``kept`` once per opportunity it has this week, and each opportunity's place among its
    account's (0 for the first): given at least one, a Poisson(``intensity``) count is zero-truncated, and the
    uniform ``u`` picks it by its distribution function, ``P(k) = exp(k ln l - l - ln k!) / (1 - exp(-l))``.
    Also whether some count would pass ``most``. Compiled by numba (``sim.compiled``).

    At the usual intensities (0.01 a week) 1 is picked at the first comparison: ``P(1) = l / (exp(l) - 1)``."""
    n = kept.size
    count = np.ones(n, dtype=np.int64)
    over = False
    for j in range(n):
        lam = intensity[j]
        if not lam < math.inf:  # refused when the run starts (MOST_INTENSITY); never drawn as one
            over = True
            continue
        caught = -np.expm1(-lam)  # P(at least one)
        k = 1
        cdf = math.exp(math.log(lam) - lam) / caught
        while u[j] >= cdf and k < most:
            k += 1
            step = math.exp(k * math.log(lam) - lam - math.lgamma(k + 1.0)) / caught
            # Past the mode the tail from k on is at most step x (k + 1) / (k + 1 - lam): once that cannot move the
            # sum, u fell in rounding's gap above it, and the count is the last that could.
            if k > lam and step * (k + 1.0) / (k + 1.0 - lam) <= cdf * 2.0**-53:
                k -= 1
                break
            cdf += step
        if u[j] >= cdf and k >= most:
            over = True
        count[j] = k
    total = 0
    for j in range(n):
        total += count[j]
    accounts, place = np.empty(total, dtype=np.int64), np.empty(total, dtype=np.int64)
    at = 0
    for j in range(n):
        for i in range(count[j]):
            accounts[at], place[at] = kept[j], i
            at += 1
    return accounts, place, over
