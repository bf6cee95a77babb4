"""Random streams: one SeedSequence per run, spawned into named sub-streams.

Common random numbers: every policy run with the same seed draws its
population, arrivals and churn from the same streams in the same amounts, and
each seat's events by keyed draws (``sim.reps``: a team of another size keeps
the seats it shares), so differences between policies are differences of
policy, not of luck.

Draws whose number depends on the policy (the outcome of an opportunity, its
value, its arrival day) come instead from :func:`keyed_uniform`, a
counter-based generator: the draw for opportunity kind k of customer i in week w
is a fixed function of (stream key, i, w, k, purpose), whatever else happened.
The id of an (account, week) pair is :func:`account_week`, with a stride fixed
for every run (:data:`KEY_WEEK_STRIDE`), not the run's horizon: the draws of a
week do not depend on how many weeks the run will go on, so a 4-quarter run and
the first 4 quarters of an 8-quarter run of the same scenario, policy and seed
are the same.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field

import numpy as np

from sim.compiled import compiled

#: Weeks an account's draw ids leave room for: the id of (account, week) is
#: ``account * KEY_WEEK_STRIDE + week`` (:func:`account_week`). Every week of
#: any run must be below it, or two accounts' ids would meet. A run has at most
#: 400 quarters (5,200 weeks: ``Scenario.quarters`` and ``covsim experiment
#: --quarters`` are bounded there), far below 2**20; and at the largest population a
#: scenario allows (50 million accounts, ``Population.customers``) the largest key,
#: ``2 * (account * KEY_WEEK_STRIDE + week) + 1``, is about 1.05e14, far inside
#: int64 (9.2e18), so the cast to uint64 in :func:`keyed_uniforms` is exact.
#: A seat's ids (``sim.reps``) use it too: ``(group * 2**17 + place) * KEY_WEEK_STRIDE + week``, under
#: ``groups * 2**37``, as far inside int64. A constant, not the run's horizon, so that a run's draws do not
#: depend on how long it will go on (common random numbers across horizons). Changing it changes every result.
KEY_WEEK_STRIDE = 2**20

#: The draw id of an account's second, third, ... opportunity of a week: the first's plus its place (1, 2, ...)
#: times this (``sim.outcomes.new_opportunities``). Above every first arrival's and renewal's id
#: (``2 * account_week + 1`` < 1.05e14 < 2**47, above), and 65,535 places
#: (``sim.demand.MOST_ARRIVALS``) stay inside int64.
ARRIVAL_PLACE_STRIDE = 2**47

STREAMS = ("population", "arrivals", "churn", "reps", "policy", "outcomes", "mesa")


@dataclass(frozen=True)
class Streams:
    """The named generators of one run and the key for counter-based draws."""

    population: np.random.Generator
    arrivals: np.random.Generator
    churn: np.random.Generator
    reps: np.random.Generator
    policy: np.random.Generator
    mesa: np.random.Generator
    outcome_key: np.uint64

    @classmethod
    def from_seed(cls, seed: int) -> Streams:
        children = np.random.SeedSequence(seed).spawn(len(STREAMS))
        named = dict(zip(STREAMS, children, strict=True))
        key = named.pop("outcomes").generate_state(1, dtype=np.uint64)[0]
        generators = {name: np.random.default_rng(ss) for name, ss in named.items()}
        return cls(outcome_key=np.uint64(key), **generators)


def keyed_generator(key: np.uint64, purpose: int, index: int) -> np.random.Generator:
    """A generator of its own for draw ``purpose`` number ``index`` of the run keyed by ``key``: what it draws
    depends on nothing else the run drew, where draws from a shared stream shift with the number drawn
    before them."""
    return np.random.default_rng(np.random.SeedSequence(int(key), spawn_key=(purpose, index)))


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_ID_MULT = np.uint64(0xD1B54A32D192ED03)
_PURPOSE_MULT = 0x8CB92BA72F3D8DD7


def account_week(accounts: np.ndarray, week: int) -> np.ndarray:
    """The draw ids of ``accounts`` in ``week``: ``account * KEY_WEEK_STRIDE + week`` (int64).

    The same for a week whatever the run's horizon. A week at or past the
    stride is a ValueError (it would give another account's id), and so is a
    week that is not a whole number."""
    week = operator.index(week)  # 3.5 would name no week, and make the ids floats
    if not 0 <= week < KEY_WEEK_STRIDE:
        raise ValueError(f"week {week} is outside the draw ids' range [0, {KEY_WEEK_STRIDE})")
    return np.asarray(accounts, dtype=np.int64) * KEY_WEEK_STRIDE + week


def keyed_uniform(key: np.uint64, ids: np.ndarray, purpose: int) -> np.ndarray:
    """Uniform(0, 1) draws that depend only on (key, id, purpose).

    ``ids`` are non-negative integers naming the thing drawn for (for example
    ``account_week(customers, week)``); ``purpose`` separates independent draws for
    the same thing (win, value, arrival day, ...).
    """
    return keyed_uniforms(key, ids, (purpose,))[0]


def keyed_uniforms(key: np.uint64, ids: np.ndarray, purposes: tuple[int, ...]) -> np.ndarray:
    """``keyed_uniform`` for several purposes at once: row j holds the draws for ``purposes[j]``.

    The same numbers as one call per purpose, for the cost of one call.
    """
    salts = np.array([(int(key) + p * _PURPOSE_MULT) & 0xFFFFFFFFFFFFFFFF for p in purposes], dtype=np.uint64)
    return compiled(_keyed)(np.asarray(ids).astype(np.uint64), salts)


def _keyed(ids: np.ndarray, salts: np.ndarray) -> np.ndarray:
    """The draws of ``keyed_uniforms``, one row per salt. Compiled by numba (``sim.compiled``): one pass,
    where numpy made about a dozen over the ids per call. Integer arithmetic, and a 53-bit integer scaled
    to [0, 1) exactly, so the draws are the same as numpy's, bit for bit (tests/test_kernels.py)."""
    out = np.empty((salts.size, ids.size))
    for j in range(salts.size):
        for i in range(ids.size):
            x = (ids[i] * _ID_MULT) ^ salts[j]
            for _ in range(2):
                # The SplitMix64 finaliser, a bijective 64-bit mixer (Steele et al., 2014); uint64 wraps.
                x = x + _GOLDEN
                x = x ^ (x >> _S30)
                x = x * _MIX1
                x = x ^ (x >> _S27)
                x = x * _MIX2
                x = x ^ (x >> _S31)
            # The top 53 bits give a double in [0, 1) with full precision.
            out[j, i] = np.float64(x >> _S11) * (1.0 / 9007199254740992.0)
    return out


def keyed_normal(key: np.uint64, ids: np.ndarray, purpose: int) -> np.ndarray:
    """Standard normal draws keyed like :func:`keyed_uniform` (Box-Muller)."""
    return box_muller(*keyed_uniforms(key, ids, normal_purposes(purpose)))


def normal_purposes(purpose: int) -> tuple[int, int]:
    """The two uniforms' purposes behind ``keyed_normal(key, ids, purpose)``."""
    return purpose, purpose + 1_000_003


def box_muller(u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    """Standard normals from two independent Uniform(0, 1) arrays."""
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def shuffled_categories(n: int, shares: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Category (int8) of each of ``n`` items with exact counts (largest remainder), shuffled."""
    raw = shares / shares.sum() * n
    counts = np.floor(raw).astype(np.int64)
    rest = n - counts.sum()
    counts[np.argsort(-(raw - counts), kind="stable")[:rest]] += 1
    # Shuffled as int8, not int64: the same permutation (the draws do not depend on the dtype) for an
    # eighth of the memory traffic, a third less time at ten million accounts.
    labels = np.repeat(np.arange(shares.size, dtype=np.int8), counts)
    rng.shuffle(labels)
    return labels


def geometric(rng: np.random.Generator, p: float, size: int) -> np.ndarray:
    """Geometric(p) draws on {1, 2, ...}, for 1e-6 <= p < 1: ``ceil(E / -log(1 - p))``, E standard exponential.

    Exact (inversion). It is also how numpy's ``Generator.geometric`` draws for
    p < 1/3, so the numbers are the same as its, at a fraction of the cost.
    """
    return np.ceil(rng.standard_exponential(size) / -math.log1p(-p)).astype(np.int64)


def _chunk(n: int, p: float) -> int:
    """Gaps drawn at once for ``n`` items at ``p``: enough to pass ``n`` but in about 1e-9 of draws."""
    return int(n * p + 6.0 * math.sqrt(n * p * (1.0 - p))) + 16


_TINY = 1e-6  # below this, bernoulli_positions draws a binomial count instead of gaps


def bernoulli_positions(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """Sorted positions in ``range(n)``, each included independently with probability ``p``.

    Exact, in O(n p) rather than O(n): the gaps between included positions are
    geometric. For tiny ``p`` (where geometric gaps could overflow 64 bits) a
    Binomial(n, p) count of positions chosen uniformly without replacement is
    used instead, which is the same distribution. The draws depend only on
    (n, p) and the generator's state, so common random numbers are kept.
    """
    if n <= 0 or p <= 0.0:
        return np.empty(0, dtype=np.int64)
    if p >= 1.0:
        return np.arange(n, dtype=np.int64)
    if p < _TINY:
        k = int(rng.binomial(n, p))
        return np.sort(rng.choice(n, size=k, replace=False)).astype(np.int64)
    ends = _past(rng, np.cumsum(geometric(rng, p, _chunk(n, p))) - 1, n, p)
    return ends[: np.searchsorted(ends, n)]


def _past(rng: np.random.Generator, ends: np.ndarray, n: int, p: float) -> np.ndarray:
    """Sorted positions ``ends``, with more geometric gaps drawn after the last until one reaches ``n``."""
    while ends[-1] < n:
        ends = np.concatenate([ends, ends[-1] + np.cumsum(geometric(rng, p, _chunk(n, p)))])
    return ends


@dataclass(frozen=True)
class _Slots:
    """Every bucket's gaps laid end to end, so one week's draw is one call for the exponentials and one
    compiled pass (``_picks``).

    Bucket ``k`` has the slots ``starts[k]`` to ``last[k]``; ``scale``, ``n``, ``offset`` and ``bound``
    give, per bucket, -log(1 - b_k), the bucket's size, where its members start in ``members``, and b_k.
    """

    members: np.ndarray
    starts: np.ndarray  # first slot of each bucket
    last: np.ndarray  # last slot of each bucket
    scale: np.ndarray
    n: np.ndarray
    offset: np.ndarray
    bound: np.ndarray

    @classmethod
    def of(cls, flat: np.ndarray, members: tuple[np.ndarray, ...], bounds: tuple[float, ...]) -> _Slots | None:
        """The layout for buckets ``members`` (views of ``flat``, in order), or None where a
        bucket needs the general path (bound 1 or tiny)."""
        if not members or not all(_TINY <= b < 1.0 for b in bounds):
            return None
        sizes = np.array([m.size for m in members], dtype=np.int64)
        chunks = np.array([_chunk(m.size, b) for m, b in zip(members, bounds, strict=True)], dtype=np.int64)
        ends = np.cumsum(chunks)
        return cls(
            members=flat,
            starts=ends - chunks,
            last=ends - 1,
            scale=-np.array([math.log1p(-x) for x in bounds]),
            n=sizes,
            offset=np.cumsum(sizes) - sizes,
            bound=np.array(bounds),
        )

    def picks(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """Each slot's position in its bucket (positions at or past the bucket's size are not picks), the
        items picked and their buckets' bounds, and whether a bucket's gaps ended before its last item."""
        # geometric() for every slot, then one compiled pass (``_picks``) where numpy took ten calls.
        return compiled(_picks)(
            rng.standard_exponential(int(self.last[-1]) + 1),
            self.scale,
            self.starts,
            self.last,
            self.n,
            self.offset,
            self.members,
            self.bound,
        )


def _picks(
    exponential: np.ndarray,
    scale: np.ndarray,
    starts: np.ndarray,
    last: np.ndarray,
    n: np.ndarray,
    offset: np.ndarray,
    members: np.ndarray,
    bound: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """``_Slots.picks`` from the slots' standard exponentials: a slot's gap is ``ceil(exponential / scale)``
    (a geometric draw), its position the running sum of its bucket's gaps less one. Compiled
    (``sim.compiled``)."""
    pos = np.empty(exponential.size, dtype=np.int64)
    short = False
    kept = 0
    for k in range(starts.size):
        at = -1
        for j in range(starts[k], last[k] + 1):
            at += math.ceil(exponential[j] / scale[k])
            pos[j] = at
            if at < n[k]:
                kept += 1
        short |= at < n[k]
    ids = np.empty(kept, dtype=members.dtype)
    bounds = np.empty(kept)
    i = 0
    for k in range(starts.size):
        for j in range(starts[k], last[k] + 1):
            if pos[j] < n[k]:
                ids[i] = members[offset[k] + pos[j]]
                bounds[i] = bound[k]
                i += 1
    return pos, ids, bounds, short


@dataclass(frozen=True)
class Thinning:
    """Exact Bernoulli(p_i) draws for many items, at a cost proportional to the draws.

    Items are grouped in buckets, each with a bound on its items' probabilities.
    A week's draw picks each item of bucket k with the bucket's bound b_k
    (:func:`bernoulli_positions`), then keeps a picked item i with probability
    p_i / b_k, which is exactly Bernoulli(p_i) overall. Buckets and bounds come
    from the scenario alone (not from state a policy changes), so every policy
    sees the same candidates and the same uniforms.
    """

    members: tuple[np.ndarray, ...]
    bounds: tuple[float, ...]
    _slots: _Slots | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # One array holds every bucket's members; the buckets are views of it (at 10 million
        # accounts a second copy for the batched draw would be 80 MB per Thinning).
        flat = np.concatenate(self.members) if self.members else np.empty(0, dtype=np.int64)
        views = tuple(np.split(flat, np.cumsum([m.size for m in self.members])[:-1])) if self.members else ()
        object.__setattr__(self, "members", views)
        object.__setattr__(self, "_slots", _Slots.of(flat, self.members, self.bounds))

    @classmethod
    def by_bound(cls, bound: np.ndarray) -> Thinning:
        """Buckets by powers of two of each item's own bound (each item kept with probability >= 1/2 of its bound)."""
        bound = np.asarray(bound, dtype=np.float64)
        positive = bound > 0
        # Every item, usually (none has churned at the start): no list of them to make, gather and sort by.
        live = None if positive.all() else np.flatnonzero(positive)
        # ceil(log2(min(b, 1))), at least -60, worked in place in one array (at ten million accounts each
        # step's own array of 80 MB was a tenth of a second, mostly the kernel handing out fresh pages).
        x = bound.copy() if live is None else bound[live]
        np.minimum(x, 1.0, out=x)
        np.log2(x, out=x)
        np.ceil(x, out=x)
        np.maximum(x, -60.0, out=x)
        level = x.astype(np.int8)
        del x
        # The buckets in level order, each's members ascending: one stable sort (a radix sort on int8), where a
        # pass per level over every item took a second at ten million accounts.
        order = np.argsort(level, kind="stable")
        ids, cuts = order if live is None else live[order], np.flatnonzero(np.diff(level[order])) + 1
        members = np.split(ids, cuts)
        most = np.maximum.reduceat(bound[ids], np.concatenate([[0], cuts])) if ids.size else np.empty(0)
        return cls(tuple(members) if ids.size else (), tuple(float(min(1.0, b)) for b in most))

    @classmethod
    def by_group(cls, group: np.ndarray, bound: np.ndarray) -> Thinning:
        """One bucket per group value g, with bound ``bound[g]``."""
        members, bounds = [], []
        for g, b in enumerate(np.asarray(bound, dtype=np.float64)):
            ids = np.flatnonzero(group == g)
            if b > 0 and ids.size:
                members.append(ids)
                bounds.append(float(min(1.0, b)))
        return cls(tuple(members), tuple(bounds))

    def candidates(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(items picked at their bucket bound, those bounds, a uniform each), bucket by bucket.

        The same draws as :func:`bernoulli_positions` bucket after bucket: with
        every bound in [1e-6, 1) all buckets' gaps are drawn in one go. In the
        rare week where a bucket's gaps fall short of its size, the short
        buckets draw more gaps after all the others (the same distribution).
        """
        s = self._slots
        buckets = list(zip(self.members, self.bounds, strict=True))
        if s is None:
            return self._by_bucket(rng, [m[bernoulli_positions(rng, m.size, b)] for m, b in buckets])
        pos, ids, bound, short = s.picks(rng)
        if short:
            # Rare: a bucket's gaps ended before its last item.
            ends = [_past(rng, pos[s.starts[k] : s.last[k] + 1], m.size, b) for k, (m, b) in enumerate(buckets)]
            return self._by_bucket(rng, [m[e[e < m.size]] for (m, _b), e in zip(buckets, ends, strict=True)])
        return ids, bound, rng.random(ids.size)

    def _by_bucket(
        self, rng: np.random.Generator, picked: list[np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``candidates`` from each bucket's picked items."""
        ids = np.concatenate(picked) if picked else np.empty(0, dtype=np.int64)
        bound = np.repeat(np.array(self.bounds), [p.size for p in picked]) if picked else np.empty(0)
        return ids, bound, rng.random(ids.size)
