"""The customer population: one numpy array per attribute, changed by named methods.

Customers are not Mesa agents: one Python object per customer would cost more
than the whole weekly step (see docs/performance.md). Every change of state goes
through a method below, so the places that change customers can be listed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.codes import Status
from sim.policies.protocol import Accounts, read_only
from sim.scenario import Scenario


@dataclass
class Population:
    """All customers (prospects, customers and churned accounts) of one run.

    Units: potential and spend in currency units per year; x, y in km;
    stock in touch-equivalents (one field visit adds 1).
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
    stock: np.ndarray  # float64 relationship stock
    ever_touched: np.ndarray  # bool: a rep has worked the account since week 0
    segment_spend: np.ndarray  # float64 total spend by segment, kept up to date by the methods below
    segment_potential: np.ndarray  # float64 total potential by segment, recounted when potential changes

    @property
    def size(self) -> int:
        return int(self.segment.size)

    @classmethod
    def generate(cls, scenario: Scenario, rng: np.random.Generator) -> Population:
        """Draw a population from the scenario (the only randomness: ``rng``)."""
        pop = scenario.population
        n = pop.customers
        seg_shares = np.array([s.share for s in pop.segments])
        segment = _allocate(n, seg_shares, rng).astype(np.int8)
        industry = rng.integers(0, len(pop.industries), n).astype(np.int8)
        reg_shares = np.array([r.share for r in pop.regions])
        region = _allocate(n, reg_shares, rng).astype(np.int8)
        cx = np.array([r.x_km for r in pop.regions])[region]
        cy = np.array([r.y_km for r in pop.regions])[region]
        radius = np.array([r.radius_km for r in pop.regions])[region]
        x = (cx + radius * rng.standard_normal(n)).astype(np.float32)
        y = (cy + radius * rng.standard_normal(n)).astype(np.float32)

        median = np.array([s.potential_median for s in pop.segments])[segment]
        sigma = np.array([s.potential_sigma for s in pop.segments])[segment]
        potential = median * np.exp(sigma * rng.standard_normal(n))
        a = np.array([s.responsiveness[0] for s in pop.segments])[segment]
        b = np.array([s.responsiveness[1] for s in pop.segments])[segment]
        responsiveness = rng.beta(a, b)

        customer_share = np.array([s.customer_share for s in pop.segments])[segment]
        is_customer = rng.random(n) < customer_share
        status = np.where(is_customer, Status.CUSTOMER, Status.PROSPECT).astype(np.int8)
        wallet = np.array([s.share_of_wallet for s in pop.segments])[segment]
        spend = np.where(is_customer, potential * wallet, 0.0)
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
            ever_touched=np.zeros(n, dtype=bool),
            segment_spend=np.bincount(segment, weights=spend, minlength=len(pop.segments)),
            segment_potential=np.bincount(segment, weights=potential, minlength=len(pop.segments)),
        )

    def view(self, segment_names: tuple[str, ...]) -> Accounts:
        """What policies see of the accounts: read-only views, current as the arrays change in place."""
        return Accounts(
            segment=read_only(self.segment),
            segment_names=segment_names,
            region=read_only(self.region),
            x=read_only(self.x),
            y=read_only(self.y),
            potential=read_only(self.potential),
            status=read_only(self.status),
            spend=read_only(self.spend),
            stock=read_only(self.stock),
        )

    def decay(self, factor: float) -> None:
        """Carry-over: every relationship stock keeps ``factor`` of itself for another week."""
        self.stock *= factor

    def touch(self, customers: np.ndarray, amount: np.ndarray | float) -> None:
        """Add relationship stock from rep work (customers may repeat)."""
        np.add.at(self.stock, customers, amount)
        self.ever_touched[customers] = True

    def reset_relationships(self, customers: np.ndarray, share_lost: float) -> None:
        """Lose part of the stock (an owner change after realignment)."""
        self.stock[customers] *= 1.0 - share_lost

    def convert(self, customers: np.ndarray, value: np.ndarray) -> None:
        """Won new logos become customers; won value adds to spend, up to the potential."""
        self.status[customers] = Status.CUSTOMER
        self.expand(customers, value)

    def expand(self, customers: np.ndarray, value: np.ndarray) -> None:
        """Won expansion adds to spend, capped at the account's potential (accounts may repeat)."""
        if customers.size == 0:
            return
        accounts, inverse = np.unique(customers, return_inverse=True)
        added = np.bincount(inverse, weights=value, minlength=accounts.size)
        self._set_spend(accounts, np.minimum(self.spend[accounts] + added, self.potential[accounts]))

    def renew(self, customers: np.ndarray, value: np.ndarray) -> None:
        """A won renewal sets spend to the renewed contract value, capped at the potential.

        If an account renews twice in one call, the later value holds.
        """
        if customers.size == 0:
            return
        accounts, last = np.unique(customers[::-1], return_index=True)
        value = np.asarray(value)[::-1][last]
        self._set_spend(accounts, np.minimum(value, self.potential[accounts]))

    def churn(self, customers: np.ndarray) -> None:
        """Customers leave: they stop spending and generate nothing more."""
        self.status[customers] = Status.CHURNED
        self._set_spend(customers, np.zeros(customers.size))

    def scale_potential(self, customers: np.ndarray, factor: float) -> None:
        """A potential shift; spend above the new potential is cut to it."""
        self.potential[customers] *= factor
        self.segment_potential[:] = np.bincount(
            self.segment, weights=self.potential, minlength=self.segment_potential.size
        )
        self._set_spend(customers, np.minimum(self.spend[customers], self.potential[customers]))

    def recount_spend(self) -> None:
        """Recompute the segment spend totals from scratch."""
        self.segment_spend[:] = np.bincount(self.segment, weights=self.spend, minlength=self.segment_spend.size)

    def _set_spend(self, customers: np.ndarray, new: np.ndarray) -> None:
        # Distinct accounts only: the segment totals move by the change of each.
        np.add.at(self.segment_spend, self.segment[customers], new - self.spend[customers])
        self.spend[customers] = new


def _allocate(n: int, shares: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Category of each of ``n`` items with exact counts (largest remainder), shuffled."""
    raw = shares / shares.sum() * n
    counts = np.floor(raw).astype(np.int64)
    rest = n - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:rest]] += 1
    labels = np.repeat(np.arange(shares.size), counts)
    rng.shuffle(labels)
    return labels
