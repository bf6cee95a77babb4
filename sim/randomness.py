"""Random streams: one SeedSequence per run, spawned into named sub-streams.

Common random numbers: every policy run with the same seed draws its
population, arrivals, churn and rep events from the same streams in the same
amounts, so differences between policies are differences of policy, not of luck.

Draws whose number depends on the policy (the outcome of an opportunity, its
value, its arrival day) come instead from :func:`keyed_uniform`, a
counter-based generator: the draw for opportunity kind k of customer i in week w
is a fixed function of (stream key, i, w, k, purpose), whatever else happened.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STREAMS = ("population", "arrivals", "churn", "reps", "policy", "outcomes", "shocks", "mesa")


@dataclass(frozen=True)
class Streams:
    """The named generators of one run and the key for counter-based draws."""

    population: np.random.Generator
    arrivals: np.random.Generator
    churn: np.random.Generator
    reps: np.random.Generator
    policy: np.random.Generator
    shocks: np.random.Generator
    mesa: np.random.Generator
    outcome_key: np.uint64

    @classmethod
    def from_seed(cls, seed: int) -> Streams:
        children = np.random.SeedSequence(seed).spawn(len(STREAMS))
        named = dict(zip(STREAMS, children, strict=True))
        key = named.pop("outcomes").generate_state(1, dtype=np.uint64)[0]
        generators = {name: np.random.default_rng(ss) for name, ss in named.items()}
        return cls(outcome_key=np.uint64(key), **generators)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_ID_MULT = np.uint64(0xD1B54A32D192ED03)
_PURPOSE_MULT = 0x8CB92BA72F3D8DD7


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser, in place: a bijective 64-bit mixer (Steele et al., 2014).

    Array arithmetic on uint64 wraps modulo 2**64 silently, as the mixer needs.
    """
    x += _GOLDEN
    x ^= x >> _S30
    x *= _MIX1
    x ^= x >> _S27
    x *= _MIX2
    x ^= x >> _S31
    return x


def keyed_uniform(key: np.uint64, ids: np.ndarray, purpose: int) -> np.ndarray:
    """Uniform(0, 1) draws that depend only on (key, id, purpose).

    ``ids`` are non-negative integers naming the thing drawn for (for example
    ``customer * weeks + week``); ``purpose`` separates independent draws for
    the same thing (win, value, arrival day, ...).
    """
    salt = np.uint64((int(key) + purpose * _PURPOSE_MULT) & 0xFFFFFFFFFFFFFFFF)
    x = ids.astype(np.uint64)  # a copy: the mixing below is in place
    x *= _ID_MULT
    x ^= salt
    x = _splitmix64(_splitmix64(x))
    # The top 53 bits give a double in [0, 1) with full precision.
    return (x >> _S11).astype(np.float64) * (1.0 / 9007199254740992.0)


def keyed_normal(key: np.uint64, ids: np.ndarray, purpose: int) -> np.ndarray:
    """Standard normal draws keyed like :func:`keyed_uniform` (Box-Muller)."""
    u1 = keyed_uniform(key, ids, purpose)
    u2 = keyed_uniform(key, ids, purpose + 1_000_003)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


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
    if p < 1e-6:
        k = int(rng.binomial(n, p))
        return np.sort(rng.choice(n, size=k, replace=False)).astype(np.int64)
    chunk = int(n * p + 6.0 * np.sqrt(n * p * (1.0 - p))) + 16
    ends = np.cumsum(rng.geometric(p, size=chunk)) - 1
    while ends[-1] < n:
        ends = np.concatenate([ends, ends[-1] + np.cumsum(rng.geometric(p, size=chunk))])
    return ends[: np.searchsorted(ends, n)]


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

    @classmethod
    def by_bound(cls, bound: np.ndarray) -> Thinning:
        """Buckets by powers of two of each item's own bound (each item kept with probability >= 1/2 of its bound)."""
        bound = np.asarray(bound, dtype=np.float64)
        live = np.flatnonzero(bound > 0)
        level = np.ceil(np.log2(np.minimum(bound[live], 1.0))).astype(np.int64)
        level = np.maximum(level, -60)
        members, bounds = [], []
        for k in np.unique(level):
            ids = live[level == k]
            members.append(ids)
            bounds.append(float(min(1.0, bound[ids].max())))
        return cls(tuple(members), tuple(bounds))

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
        """(items picked at their bucket bound, those bounds, a uniform each), bucket by bucket."""
        picked = [m[bernoulli_positions(rng, m.size, b)] for m, b in zip(self.members, self.bounds, strict=True)]
        ids = np.concatenate(picked) if picked else np.empty(0, dtype=np.int64)
        bound = np.repeat(np.array(self.bounds), [p.size for p in picked]) if picked else np.empty(0)
        return ids, bound, rng.random(ids.size)
