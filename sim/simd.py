"""Which of numpy's SIMD loops covsim lets numpy use, so that a run gives the same numbers on every x86-64 machine.

numpy chooses, when it is imported, loops for the processor it finds. Its
AVX-512 loops (numpy 2.4's dispatch targets ``X86_V4``, ``AVX512_ICL`` and
``AVX512_SPR``) compute float64 ``exp``, ``log``, ``power``, ``log1p`` and
``expm1`` with numpy's own approximations, whose last bits can differ from
the C library's; below AVX-512 numpy calls the C library for these, as
covsim's compiled kernels (numba) always do. One last bit moves every later
number of a run, so the same scenario, policy and seed gave other numbers on
an AVX-512 machine (the golden pins of tests/test_golden.py failed there).

Importing ``sim`` on x86-64 therefore asks numpy, by its documented variable
``NPY_DISABLE_CPU_FEATURES``, not to use those targets. numpy reads the
variable once, at its own import: a process that imported numpy before
``sim`` keeps whatever loops it chose, and is warned as its first run starts
if they are the AVX-512 ones; processes started from this one (workers) inherit the variable either
way. Left alone: other processors (the names are x86's, and numpy warns of
names it does not dispatch), and a process given ``NPY_ENABLE_CPU_FEATURES``
(numpy refuses both variables at once), which has chosen its loops itself.
Runs are the same across machines with the same C library (glibc version):
the kernels' ``exp``, ``log`` and ``pow`` are its.
"""

from __future__ import annotations

import os
import platform
import sys
import warnings

#: numpy's dispatch targets whose float64 transcendental loops are not the C library's.
AVX512_TARGETS = ("X86_V4", "AVX512_ICL", "AVX512_SPR")
#: numpy's dispatch targets known to give the C library's numbers for the functions covsim uses.
C_LIBRARY_TARGETS = ("X86_V3",)
VARIABLE, ENABLE = "NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES"


def keep_numpy_below_avx512() -> None:
    """Add the AVX-512 targets to ``NPY_DISABLE_CPU_FEATURES`` on x86-64 (unless the process sets
    ``NPY_ENABLE_CPU_FEATURES``); note if numpy, imported already, uses them, for :func:`warn_if_avx512`."""
    if platform.machine().lower() not in ("x86_64", "amd64") or ENABLE in os.environ:
        return
    present = os.environ.get(VARIABLE, "").replace(",", " ").split()
    os.environ[VARIABLE] = " ".join([*present, *(t for t in AVX512_TARGETS if t not in present)])
    if "numpy" in sys.modules:
        _CHOSEN_BEFORE.extend(avx512_in_use())


#: The AVX-512 targets numpy had chosen when ``sim`` was imported after it (empty: imported first, or none), said
#: once a run starts in this process (:func:`warn_if_avx512`): a script that only reads results runs nothing that
#: they could change, and a researcher's had been warned all the same.
_CHOSEN_BEFORE: list[str] = []
_WARNED: list[bool] = []


def warn_if_avx512() -> None:
    """Warn, once, as a run starts in a process whose numpy chose its AVX-512 loops before ``sim`` was imported."""
    if _CHOSEN_BEFORE and not _WARNED:
        _WARNED.append(True)
        warnings.warn(
            f"numpy was imported before covsim and uses its AVX-512 loops ({', '.join(_CHOSEN_BEFORE)}): runs in "
            "this process can differ in the last digits from the same runs on other machines (worker processes "
            f'started from it will not use them); import sim before numpy, or set {VARIABLE}="'
            f'{" ".join(AVX512_TARGETS)}" before starting Python',
            RuntimeWarning,
            stacklevel=3,
        )


def avx512_in_use() -> list[str]:
    """The AVX-512 targets numpy uses in this process (empty on a machine without AVX-512, or when disabled)."""
    from numpy._core._multiarray_umath import __cpu_features__

    return [t for t in AVX512_TARGETS if __cpu_features__.get(t)]
