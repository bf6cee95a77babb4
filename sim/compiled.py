"""Compiling a loop with numba, on first use and cached on disk; numba is imported only then.

Some steps of the week are sequential by nature (a rep's dispatch) or cost
more in calls than in arithmetic (a scatter of a few thousand touches over
the accounts): a loop compiled by numba does them in one call. numba takes
about half a second to import, so nothing imports it until a kernel first
runs, and ``covsim --help`` never does. The kernels use plain IEEE
arithmetic in the order numpy would (numba contracts nothing into fused
multiply-adds unless asked for fastmath), so their results are those of the
numpy code they replace, bit for bit (the golden test pins them). A kernel
may call the other kernels of its own module by name (``sim.spend.won_deals``
runs ``add_value`` and ``renew_spend``), which stay plain functions until
compiled.
"""

from __future__ import annotations

import functools
import os
import types
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

    kernel = _calling_compiled_helpers(function)
    try:
        return numba.njit(cache=True, nogil=True)(kernel)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(nogil=True)(kernel)


#: Kernels whose helpers are being found: a helper calling back into one is not wrapped again (no endless
#: recursion; numba refuses such a cycle when it compiles).
_WRAPPING: set[Callable[..., Any]] = set()


def _calling_compiled_helpers(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` calling the compiled versions of the plain functions of its own module that it calls
    (numba calls only compiled functions), so that one kernel may run others. Its own module's only:
    numba's cache judges a kernel's machine code stale by the kernel's own file, so a helper in another
    file could change unseen."""
    assert isinstance(function, types.FunctionType)
    _WRAPPING.add(function)
    try:
        helpers = {
            name: compiled(helper)
            for name in function.__code__.co_names
            if isinstance(helper := function.__globals__.get(name), types.FunctionType)
            and helper not in _WRAPPING  # itself, or a kernel calling back (numba then says so when it compiles)
            and helper.__module__ == function.__module__
        }
    finally:
        _WRAPPING.discard(function)
    if not helpers:
        return function
    kernel = types.FunctionType(
        function.__code__, {**function.__globals__, **helpers}, function.__name__, function.__defaults__
    )
    kernel.__qualname__, kernel.__module__, kernel.__doc__ = (
        function.__qualname__,
        function.__module__,
        function.__doc__,
    )
    return kernel
