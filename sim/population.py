"""The customer population: one numpy array per attribute, changed by named methods.

Customers are not Mesa agents: one Python object per customer would cost more
than the whole weekly step (see docs/performance.md). Every change of state goes
through a method below, so the places that change customers can be listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.clock import NO_DATE
from sim.codes import Status
from sim.compiled import compiled
from sim.date_index import DateIndex
from sim.marks import marked_positions
from sim.policies.protocol import Accounts, read_only
from sim.population_columns import contracts, located, potentials, renewal_dates
from sim.randomness import shuffled_categories
from sim.scenario import Scenario
from sim.spend import SpendArrays, line_totals, renew_spend, segment_totals, set_spend, won_deals


@dataclass
class Population:
    """All customers (prospects, customers and churned accounts) of one run.

    Units: potential and spend in currency units per year; x, y in km;
    stock in touch-equivalents (one field visit adds 1); weeks since week 0.

    The relationship stock is company stock plus a personal part held with
    one rep (``holder``): when the account changes hands the personal part is
    lost except the share the hand-off carries (:meth:`hand_over`).

    The wallet is split over the scenario's product lines: ``line_share``
    (accounts x lines) is each line's share of the potential and
    ``line_spend`` the spend on each line, whose sum is ``spend``. With one
    line both are views (a broadcast 1 and ``spend`` itself), so a
    one-line world costs no memory for them.
    """

    segment: np.ndarray  # int8, index into scenario segments
    industry: np.ndarray  # int8, index into population.industries
    region: np.ndarray  # int8, index into population.regions
    x: np.ndarray  # float32 km
    y: np.ndarray  # float32 km
    potential: np.ndarray  # float64 annual wallet
    responsiveness: np.ndarray  # float64 in [0, 1]
    status: np.ndarray  # int8 Status
    spend: np.ndarray  # float64 current annual spend (customers only)
    stock: np.ndarray  # float64 relationship stock, company and personal together
    personal: np.ndarray  # float64 the part of the stock held with the rep ``holder``
    holder: np.ndarray  # int32 seat holding the personal stock (-1: none)
    renewal_week: np.ndarray  # int32 week of the contract's next renewal date (customers; else NO_DATE)
    renewal_opens: np.ndarray  # int32 week its renewal opportunity opens: renewal_week - notice (else NO_DATE)
    renewal_won: np.ndarray  # bool: a rep has won this term's renewal ahead of the date
    renewal_lost: np.ndarray  # bool: a rep has lost it: the contract ends at its date
    ever_touched: np.ndarray  # bool: a rep has worked the account since week 0
    segment_spend: np.ndarray  # float64 total spend by segment, kept up to date by the methods below
    segment_potential: np.ndarray  # float64 total potential by segment, recounted when potential changes
    term_weeks: np.ndarray  # int32 contract term by segment
    notice_weeks: np.ndarray  # int32 renewal notice by segment
    line_share: np.ndarray  # float64 (accounts, lines): each line's share of the potential; rows sum to 1
    line_spend: np.ndarray  # float64 (accounts, lines): annual spend on each line; rows sum to spend
    _due: DateIndex = field(init=False, repr=False)  # the accounts by renewal_week, to find a week's without a scan
    _opening: DateIndex = field(init=False, repr=False)  # ... and by renewal_opens

    def __post_init__(self) -> None:
        self._due = DateIndex.of(self.renewal_week)
        self._opening = DateIndex.of(self.renewal_opens)

    @property
    def size(self) -> int:
        return int(self.segment.size)

    @property
    def lines(self) -> int:
        return int(self.line_share.shape[1])

    def wallet(self, customers: np.ndarray, line: np.ndarray | None = None) -> np.ndarray:
        """Annual wallet of ``customers`` on each product line (customers x lines), or on ``line`` (one per
        customer): the potential times the line's share."""
        if line is None:
            return self.potential[customers, None] * self.line_share[customers]
        return self.potential[customers] * self.line_share[customers, line]

    @classmethod
    def generate(cls, scenario: Scenario, rng: np.random.Generator) -> Population:
        """Draw a population from the scenario (the only randomness: ``rng``)."""
        pop = scenario.population
        n = pop.customers
        seg_shares = np.array([s.share for s in pop.segments])
        segment = shuffled_categories(n, seg_shares, rng)
        industry = rng.integers(0, len(pop.industries), n).astype(np.int8)
        reg_shares = np.array([r.share for r in pop.regions])
        region = shuffled_categories(n, reg_shares, rng)
        # Each column in one compiled pass over the draws (sim/population_columns.py), in the draws' order.
        radius = np.array([r.radius_km for r in pop.regions])
        x, y = np.empty(n, dtype=np.float32), np.empty(n, dtype=np.float32)
        compiled(located)(rng.standard_normal(n), region, np.array([r.x_km for r in pop.regions]), radius, x)
        compiled(located)(rng.standard_normal(n), region, np.array([r.y_km for r in pop.regions]), radius, y)
        potential = rng.standard_normal(n)
        median, sigma = (
            np.array([getattr(s, k) for s in pop.segments]) for k in ("potential_median", "potential_sigma")
        )
        compiled(potentials)(potential, segment, median, sigma)
        a = np.array([s.responsiveness[0] for s in pop.segments])[segment]
        b = np.array([s.responsiveness[1] for s in pop.segments])[segment]
        responsiveness = rng.beta(a, b)
        del a, b  # 80 MB each at ten million accounts, not needed past the draw
        spend, is_customer, status = rng.random(n), np.empty(n, dtype=bool), np.empty(n, dtype=np.int8)
        share, wallet = (np.array([getattr(s, k) for s in pop.segments]) for k in ("customer_share", "share_of_wallet"))
        compiled(contracts)(spend, segment, share, wallet, potential, is_customer, status)
        # Contracts signed before week 0 come up for renewal evenly over one term.
        term_weeks = np.array([s.contract_term_weeks for s in pop.segments], dtype=np.int32)
        notice_weeks = np.array([s.renewal_notice_weeks for s in pop.segments], dtype=np.int32)
        renewal_week, renewal_opens = np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int32)
        compiled(renewal_dates)(
            rng.integers(0, term_weeks[segment]),
            is_customer,
            segment,
            notice_weeks,
            NO_DATE,
            renewal_week,
            renewal_opens,
        )
        segment_spend, segment_potential = np.empty(len(pop.segments)), np.empty(len(pop.segments))
        compiled(segment_totals)(segment, spend, segment_spend)
        compiled(segment_totals)(segment, potential, segment_potential)
        lines = pop.lines
        if len(lines) == 1:
            line_share = np.broadcast_to(np.float64(1.0), (n, 1))
            line_spend = spend[:, None]  # the same memory: writing one writes the other
        else:
            mean = np.array([line.wallet_share for line in lines])
            line_share = rng.dirichlet(pop.wallet_concentration * mean, n)
            line_spend = spend[:, None] * line_share
        return cls(
            segment=segment,
            industry=industry,
            region=region,
            x=x,
            y=y,
            potential=potential,
            responsiveness=responsiveness,
            status=status,
            spend=spend,
            stock=np.zeros(n),
            personal=np.zeros(n),
            holder=np.full(n, -1, dtype=np.int32),
            renewal_week=renewal_week,
            renewal_opens=renewal_opens,
            renewal_won=np.zeros(n, dtype=bool),
            renewal_lost=np.zeros(n, dtype=bool),
            ever_touched=np.zeros(n, dtype=bool),
            segment_spend=segment_spend,
            segment_potential=segment_potential,
            term_weeks=term_weeks,
            notice_weeks=notice_weeks,
            line_share=line_share,
            line_spend=line_spend,
        )

    def view(self, segment_names: tuple[str, ...], line_names: tuple[str, ...]) -> Accounts:
        """What policies see of the accounts: read-only views, current as the arrays change in place."""
        return Accounts(
            segment=read_only(self.segment),
            segment_names=segment_names,
            line_names=line_names,
            region=read_only(self.region),
            x=read_only(self.x),
            y=read_only(self.y),
            potential=read_only(self.potential),
            status=read_only(self.status),
            spend=read_only(self.spend),
            stock=read_only(self.stock),
            personal=read_only(self.personal),
            holder=read_only(self.holder),
            line_share=read_only(self.line_share),
            line_spend=read_only(self.line_spend),
            renewal_week=read_only(self.renewal_week),
        )

    def decay(self, factor: float) -> None:
        """Carry-over: every relationship stock keeps ``factor`` of itself for another week."""
        self.stock *= factor
        self.personal *= factor

    def strain(self, customers: np.ndarray, keep: float) -> np.ndarray:
        """Distinct ``customers`` keep only ``keep`` of their relationship stock, both parts (a week of
        conflicting engagement); returns the stock each lost."""
        lost = self.stock[customers] * (1.0 - keep)
        self.stock[customers] *= keep
        self.personal[customers] *= keep
        return lost

    def touch(
        self,
        customers: np.ndarray,
        seats: np.ndarray,
        amount: np.ndarray | float,
        owner: np.ndarray,
        personal_share: float,
        carry: float,
        specialists: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Add relationship stock from rep work by ``seats`` on ``customers`` (which may repeat).

        ``owner``: each account's planned owner (-1: none), indexed by account. An owner's touch,
        or any rep's on an account nobody owns, adds ``personal_share`` of the
        stock to the personal part, held with that rep (so an SDR's or a pooled
        responder's, under the built-ins, whose pooled accounts have no owner); a rep who is
        not the owner (one still working a deal it took before the account changed hands, a
        specialist) adds the company part only, unless it is one of the account's ``specialists`` (the plan's
        seat per account and line, -1: none; None: no specialists): a specialist's whole touch builds the company part
        (a personal stock per specialist is not kept, so a specialist's
        relationship survives a change of owner). On an unowned account a new
        rep takes over the personal relationship with no hand-off (``carry``). Returns each account's
        personal stock lost that way (indexed like the unique accounts that
        changed hands: see :meth:`hand_over`), as (accounts, lost).
        """
        if owner.shape != self.holder.shape:  # the kernel reads it by account: a per-touch copy would misread
            raise ValueError(f"touch: owner holds {owner.shape}, expected one per account ({self.holder.size},)")
        amount = np.asarray(amount, dtype=np.float64)
        if amount.ndim == 0:
            amount = np.full(customers.shape, amount)
        c, lost = compiled(_touch)(
            customers.astype(np.int64, copy=False),
            seats.astype(np.int64, copy=False),
            amount,
            owner.astype(np.int64, copy=False),
            _NO_SPECIALISTS if specialists is None else specialists.astype(np.int64, copy=False),
            personal_share,
            carry,
            self.holder,
            self.stock,
            self.personal,
            self.ever_touched,
        )
        return c, lost

    def hand_over(self, customers: np.ndarray, seats: np.ndarray, carry: float) -> tuple[np.ndarray, np.ndarray]:
        """Distinct ``customers`` change hands to ``seats`` (-1: nobody), keeping ``carry`` of the personal stock.

        The share carried stays personal with the new holder; with nobody to
        hold it (the rep left) it stays with the company (notes in the CRM).
        Returns (customers, personal stock lost by each).
        """
        lost = self.personal[customers] * (1.0 - carry)
        self.stock[customers] -= lost
        self.personal[customers] = np.where(seats >= 0, self.personal[customers] - lost, 0.0)
        self.holder[customers] = seats
        return customers, lost

    def held_by(self, seats: np.ndarray) -> np.ndarray:
        """Accounts whose personal relationship is held by one of ``seats``."""
        if seats.size == 0:
            return np.empty(0, dtype=np.int64)
        if seats.size == 1 and seats[0] >= 0:  # one leaver, the usual case: a comparison numpy vectorizes
            return np.flatnonzero(self.holder == seats[0])
        held = np.zeros(int(seats.max()) + 1, dtype=bool)
        held[seats] = True
        return marked_positions(self.holder, held)

    def renewals_due(self, week: int) -> np.ndarray:
        """Customers whose contract comes up for renewal in ``week`` (ascending; once a week, in order)."""
        return self._due.take(week, self.renewal_week)

    def renewals_opening(self, week: int) -> np.ndarray:
        """Customers whose renewal opportunity opens in ``week``: their notice before the date.

        In week 0 the renewals already inside their notice period open too,
        except those due in week 0 itself: no work can reach them in time.
        """
        if week == 0:
            return np.flatnonzero((self.renewal_opens <= 0) & (self.renewal_week > 0))
        return self._opening.take(week, self.renewal_opens)

    def next_term(self, customers: np.ndarray) -> None:
        """The contracts of ``customers`` run another term from their renewal date."""
        term = self.term_weeks[self.segment[customers]]
        self.renewal_week[customers] += term
        self.renewal_opens[customers] += term
        self.renewal_won[customers] = False
        self.renewal_lost[customers] = False
        self._due.add(customers, self.renewal_week[customers])
        self._opening.add(customers, self.renewal_opens[customers])

    def won(
        self, customers: np.ndarray, kind: np.ndarray, value: np.ndarray, line: np.ndarray, week: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Deals won on ``customers`` (accounts may repeat), each of ``kind`` worth ``value`` on ``line``.

        A won new logo makes a prospect a customer on a contract of its
        segment's term from ``week`` (none on a churned account); its value,
        as an expansion's on a customer, adds to the spend on its line, up to
        the line's wallet; a won renewal sets the spend to the renewed value
        (the later, if an account renewed twice), capped at the potential, and
        secures the term ahead of its date. Returns the prospects that became
        customers and the accounts of every new logo won (both distinct,
        ascending). One compiled pass (``sim.spend.won_deals``).
        """
        newly, converted, new_logos = compiled(won_deals)(
            customers,
            kind,
            np.asarray(value, dtype=np.float64),
            line,
            week,
            self.status,
            self.term_weeks,
            self.notice_weeks,
            self.renewal_week,
            self.renewal_opens,
            self.renewal_won,
            self.spend_arrays(),
        )
        self._due.add(newly, self.renewal_week[newly])
        self._opening.add(newly, self.renewal_opens[newly])
        return converted, new_logos

    def renew(self, customers: np.ndarray, value: np.ndarray) -> None:
        """A won renewal sets spend to the renewed contract value, capped at the potential.

        If an account renews twice in one call, the later value holds.
        """
        if customers.size == 0:
            return
        compiled(renew_spend)(
            customers.astype(np.int64, copy=False),
            np.asarray(value, dtype=np.float64),
            self.spend_arrays(),
        )

    def renewal_refused(self, customers: np.ndarray) -> None:
        """A rep lost the renewal of ``customers``: each contract runs to its date, and ends there."""
        self.renewal_lost[customers] = True

    def churn(self, customers: np.ndarray) -> None:
        """Customers leave: they stop spending and generate nothing more."""
        self.status[customers] = Status.CHURNED
        self.renewal_week[customers] = NO_DATE
        self.renewal_opens[customers] = NO_DATE
        self._set_spend(customers, np.zeros(customers.size))

    def scale_potential(self, customers: np.ndarray, factor: float) -> None:
        """A potential shift; spend above the new wallet (of each line) is cut to it."""
        self.potential[customers] *= factor
        compiled(segment_totals)(self.segment, self.potential, self.segment_potential)
        if self.lines > 1:
            self.line_spend[customers] = np.minimum(self.line_spend[customers], self.wallet(customers))
            accounts = customers.astype(np.int64, copy=False)
            compiled(line_totals)(accounts, self.spend, self.line_spend, self.segment, self.segment_spend)
            return
        self._set_spend(customers, np.minimum(self.spend[customers], self.potential[customers]))

    def recount_spend(self) -> None:
        """Recompute the segment spend totals from scratch."""
        compiled(segment_totals)(self.segment, self.spend, self.segment_spend)

    def _set_spend(self, customers: np.ndarray, new: np.ndarray) -> None:
        """Set the total spend of distinct ``customers``; with several lines, each line's spend moves in
        proportion (split by the wallet shares where the account spent nothing), capped at the line's wallet."""
        compiled(set_spend)(
            customers.astype(np.int64, copy=False),
            np.asarray(new, dtype=np.float64),
            self.spend_arrays(),
        )

    def spend_arrays(self) -> SpendArrays:
        """The accounts' spend as the kernels of ``sim.spend`` take it; in a one-line world, whose wallet is
        the potential and whose line spend the spend, 1 x 1 arrays for the lines, not read (the views a
        one-line world keeps would each compile the kernels again, for their layout)."""
        if self.lines > 1:
            line_spend, line_share = self.line_spend, self.line_share
        else:
            line_spend = line_share = _ONE_LINE
        return self.lines, self.spend, line_spend, self.potential, line_share, self.segment, self.segment_spend


#: The lines of a one-line world as ``sim.spend``'s kernels take them (not read).
_ONE_LINE = np.ones((1, 1))


#: ``Population.touch``'s specialists when the plan has none.
_NO_SPECIALISTS = np.zeros((0, 0), dtype=np.int64)


def _touch(
    customers: np.ndarray,
    seats: np.ndarray,
    amount: np.ndarray,
    owner: np.ndarray,
    specialists: np.ndarray,
    personal_share: float,
    carry: float,
    holder: np.ndarray,
    stock: np.ndarray,
    personal: np.ndarray,
    ever_touched: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The loop of :meth:`Population.touch`, compiled (``sim.compiled``): a few thousand touches a week
    cost one call instead of some twenty numpy calls.

    In the order the vectorized version took: the touches that move an
    account's personal relationship (by its owner, or by anyone on an account
    nobody owns, to a rep other than its holder, as the holders stood before
    these touches) hand each such account, once, to the last of them
    (:meth:`Population.hand_over`, accounts in ascending order); then each
    touch adds its stock, in the order given: all of it to the company part
    by anyone else but one of an account's ``specialists`` (its row of seats; no rows: none).
    """
    n = customers.size
    mine = np.empty(n, dtype=np.bool_)  # by the owner, or on an account nobody owns: builds the personal part
    moved = np.empty(n, dtype=np.bool_)
    for i in range(n):
        o = owner[customers[i]]
        mine[i] = o < 0 or seats[i] == o
        moved[i] = mine[i] and holder[customers[i]] != seats[i]
    which = np.flatnonzero(moved)
    order = which[np.argsort(customers[which], kind="mergesort")]  # by account, ties in the order given
    last = np.zeros(order.size, dtype=np.bool_)
    for k in range(order.size):
        last[k] = k + 1 == order.size or customers[order[k + 1]] != customers[order[k]]
    changed = order[last]
    accounts = customers[changed]
    lost = np.empty(accounts.size)
    for k in range(accounts.size):
        a, seat = accounts[k], seats[changed[k]]
        lost[k] = personal[a] * (1.0 - carry)
        stock[a] -= lost[k]
        personal[a] = personal[a] - lost[k] if seat >= 0 else 0.0
        holder[a] = seat
    for i in range(n):
        partial = not mine[i]
        if partial and specialists.shape[0] > 0:
            for line in range(specialists.shape[1]):
                partial = partial and specialists[customers[i], line] != seats[i]
        stock[customers[i]] += amount[i] * (1.0 - personal_share) if partial else amount[i]
    for i in range(n):
        if mine[i]:
            personal[customers[i]] += amount[i] * personal_share
        ever_touched[customers[i]] = True
    return accounts, lost
