"""Which of numpy's SIMD loops covsim lets numpy use, so that a run gives the same numbers on every x86-64 machine.

numpy chooses, when it is imported, loops for the processor it finds. Its
AVX-512 loops (numpy 2.4's dispatch targets ``X86_V4``, ``AVX512_ICL`` and
``AVX512_SPR``) compute float64 ``exp``, ``log``, ``power``, ``log1p``,
``expm1`` and others with numpy's own approximations, whose last bits can
differ from the C library's; below AVX-512 numpy calls the C library, as
covsim's compiled kernels (numba) always do. One last bit moves every later
number of a run, so the same scenario, policy and seed gave other numbers on
an AVX-512 machine (the golden pins of tests/test_golden.py failed there).

Importing ``sim`` therefore asks numpy, by its documented variable
``NPY_DISABLE_CPU_FEATURES``, not to use those targets. numpy reads the
variable once, at its own import: a process that imported numpy before
``sim`` keeps whatever loops it chose, and is warned if they are the AVX-512
ones. Processes started from this one (workers) inherit the variable.
"""

from __future__ import annotations

import os
import sys
import warnings

#: numpy's dispatch targets whose float64 transcendental loops are not the C library's.
AVX512_TARGETS = ("X86_V4", "AVX512_ICL", "AVX512_SPR")
VARIABLE = "NPY_DISABLE_CPU_FEATURES"


def keep_numpy_below_avx512() -> None:
    """Add the AVX-512 targets to ``NPY_DISABLE_CPU_FEATURES`` if numpy is not imported yet; else warn if
    numpy already uses them."""
    if "numpy" not in sys.modules:
        present = os.environ.get(VARIABLE, "").replace(",", " ").split()
        os.environ[VARIABLE] = " ".join([*present, *(t for t in AVX512_TARGETS if t not in present)])
        return
    active = avx512_in_use()
    if active:
        warnings.warn(
            f"numpy was imported before covsim and uses its AVX-512 loops ({', '.join(active)}): runs in this "
            "process can differ in the last digits from the same runs on other machines; import sim before "
            f'numpy, or set {VARIABLE}="{" ".join(AVX512_TARGETS)}" before starting Python',
            RuntimeWarning,
            stacklevel=3,
        )


def avx512_in_use() -> list[str]:
    """The AVX-512 targets numpy uses in this process (empty on a machine without AVX-512, or when disabled)."""
    from numpy._core._multiarray_umath import __cpu_features__

    return [t for t in AVX512_TARGETS if __cpu_features__.get(t)]
