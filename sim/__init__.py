"""covsim: an agent-based simulator of sales coverage models."""

from sim.simd import keep_numpy_below_avx512

__version__ = "0.1.0"

# Before anything imports numpy: the same numbers on every x86-64 machine (sim/simd.py).
keep_numpy_below_avx512()
