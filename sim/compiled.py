"""Compiling a loop with numba, on first use and cached on disk; numba is imported only then.

Some steps of the week are sequential by nature (a rep's dispatch) or cost
more in calls than in arithmetic (a scatter of a few thousand touches over
the accounts): a loop compiled by numba does them in one call. numba takes
about half a second to import, so nothing imports it until a kernel first
runs, and ``covsim --help`` never does. The kernels use plain IEEE
arithmetic in the order numpy would (numba contracts nothing into fused
multiply-adds unless asked for fastmath), so their results are those of the
numpy code they replace, bit for bit (the golden test pins them).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any


@functools.cache
def compiled(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` compiled by numba, imported on first use (it takes about half a second).

    ``cache=True`` keeps the machine code in ``sim/__pycache__``, or if that is
    read-only in numba's user-wide cache (``~/.cache/numba``, or
    ``NUMBA_CACHE_DIR``), so that later processes load it instead of
    compiling it (``benchmarks/kernel.py`` measures both). With no writable
    cache at all, numba refuses ``cache=True``; each process then compiles.
    """
    # Intel's SVML, when installed, would vectorise pow and exp with routines whose last bits differ from
    # the C library's that numpy's numbers (and the golden pins) rest on.
    os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")
    import numba

    try:
        return numba.njit(cache=True, nogil=True)(function)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(nogil=True)(function)
