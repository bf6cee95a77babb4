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

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


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


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser: a bijective 64-bit mixer (Steele et al., 2014)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def keyed_uniform(key: np.uint64, ids: np.ndarray, purpose: int) -> np.ndarray:
    """Uniform(0, 1) draws that depend only on (key, id, purpose).

    ``ids`` are non-negative integers naming the thing drawn for (for example
    ``customer * weeks + week``); ``purpose`` separates independent draws for
    the same thing (win, value, arrival day, ...).
    """
    with np.errstate(over="ignore"):
        x = ids.astype(np.uint64) * np.uint64(0xD1B54A32D192ED03)
        x = x ^ (key + np.uint64(purpose) * np.uint64(0x8CB92BA72F3D8DD7))
        x = _splitmix64(_splitmix64(x))
    # The top 53 bits give a double in [0, 1) with full precision.
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def keyed_normal(key: np.uint64, ids: np.ndarray, purpose: int) -> np.ndarray:
    """Standard normal draws keyed like :func:`keyed_uniform` (Box-Muller)."""
    u1 = keyed_uniform(key, ids, purpose)
    u2 = keyed_uniform(key, ids, purpose + 1_000_003)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)
