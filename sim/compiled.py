"""Compiling a loop with numba, on first use and cached on disk; numba is imported only then.

Some steps of the week are sequential by nature (a rep's dispatch) or cost
more in calls than in arithmetic (a scatter of a few thousand touches over
the accounts): a loop compiled by numba does them in one call. numba takes
about half a second to import, so nothing imports it until a kernel first
runs, and ``covsim --help`` never does. The kernels use plain IEEE
arithmetic in the order numpy would (numba contracts nothing into fused
multiply-adds unless asked for fastmath), so their results are those of the
numpy code they replace, bit for bit (the golden test pins them). They
are compiled with numba's ``error_model="numpy"``: a division by zero gives
numpy's inf or NaN rather than raising, which spares every division a test
and lets numba vectorise the loops that divide. Every divisor in a kernel
is either a constant, guarded where it is used, or a parameter the
scenario's validation holds positive (skill at least 0.1, medians, half
lives and speeds above 0): a division by zero there would now give a NaN
where it raised.

A kernel may call, by name, the plain functions of its own package that it
sees as globals (``sim.spend.won_deals`` runs ``add_value`` and
``renew_spend`` of its module; a kernel imports a shared helper from another
module as it would any function), which stay plain functions until compiled.
numba's disk cache judges a kernel fresh by its own file alone, and the
machine code of the helpers it calls is part of the kernel's, as are the
options it is compiled with (``OPTIONS``), which numba's cache does not
look at: every kernel is cached with a stamp of its files, its helpers',
and the options (``_stamped_locator``), so that a change to any of them
recompiles the kernels it concerns.
"""

from __future__ import annotations

import functools
import hashlib
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

    _announce_compiling()
    kernel, files = _calling_compiled_helpers(function)
    _FILES[function] = files
    # numba keys its cache by the kernel's code alone, not by the options below: every kernel is cached
    # with a stamp of its files and of the options (``_stamped_locator``), so that a change of either
    # compiles it again.
    cache = not getattr(numba.config, "CACHE_LOCATOR_CLASSES", "")  # if set, numba asks only the locators named
    if cache:
        _stamped_locator()
        _STAMPED[kernel] = files
    try:
        dispatcher = numba.njit(cache=cache, **OPTIONS)(kernel)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        dispatcher = numba.njit(**OPTIONS)(kernel)
    _DISPATCHERS.append(dispatcher)
    return dispatcher


#: Every kernel ``compiled`` made in this process.
_DISPATCHERS: list[Any] = []


def kernels_loaded() -> int:
    """How many kernels (one per argument types) this process has compiled or loaded from the cache so far: a
    run after which it is higher paid for loading them (about half a second the first time in a process)."""
    return sum(len(d.signatures) for d in _DISPATCHERS)


#: What stderr is told when a process first compiles a loop (rather than loading it from numba's cache).
COMPILING = (
    "compiling covsim's loops for this machine (after an install or an update, half a minute to a minute and a "
    "half; a loop first met in a later run, seconds; later runs load them from the cache in under a second) ..."
)


#: Whether this process says when it compiles (``quiet_compiling``).
_announcing = [True]


def quiet_compiling() -> None:
    """This process never says it compiles: a worker of a pool whose first worker does (one line a batch, not
    one a worker)."""
    _announcing[0] = False


#: Set to 0, a process does not say it compiles where stderr is no terminal (the test suite sets it: a line a
#: test comparing what a command writes does not expect, in a fresh clone's first compile only).
NOTICE_VARIABLE = "COVSIM_COMPILING_NOTICE"


@functools.cache
def _announce_compiling() -> None:
    """``COMPILING`` on stderr when this process first compiles a loop: numba announces compiling
    (``numba:compile``), not loading from its cache, so the line shows only when it is true. A first run that
    took half a minute would otherwise look like the model's own time, on a terminal or in a log (a VP's and a
    researcher's logs had a minute of silence); not where ``NOTICE_VARIABLE`` is 0 and stderr no terminal."""
    import sys

    if os.environ.get(NOTICE_VARIABLE) == "0" and not sys.stderr.isatty():
        return
    from numba.core import event

    class FirstCompile(event.Listener):
        said = False

        def on_start(self, ev: event.Event) -> None:
            if not self.said and _announcing[0]:
                self.said = True
                print(COMPILING, file=sys.stderr, flush=True)

        def on_end(self, ev: event.Event) -> None:
            pass

    event.register("numba:compile", FirstCompile())


#: numba's options for every kernel (part of each kernel's cache stamp).
OPTIONS: dict[str, Any] = {"nogil": True, "error_model": "numpy"}


#: Kernels whose helpers are being found: a helper calling back into one is not wrapped again (no endless
#: recursion; numba refuses such a cycle when it compiles).
_WRAPPING: set[Callable[..., Any]] = set()
#: The source files compiled into each function given to ``compiled``: its own and its helpers', all the way down.
_FILES: dict[Callable[..., Any], frozenset[str]] = {}
#: The functions handed to numba, with the files compiled into each (``_stamped_locator``).
_STAMPED: dict[Callable[..., Any], frozenset[str]] = {}


def _calling_compiled_helpers(function: Callable[..., Any]) -> tuple[Callable[..., Any], frozenset[str]]:
    """``function`` calling the compiled versions of the plain functions of its own package that it calls
    (numba calls only compiled functions), so that one kernel may run others; and the source files of it
    and of every helper it runs, all the way down."""
    assert isinstance(function, types.FunctionType)
    package = function.__module__.partition(".")[0]
    _WRAPPING.add(function)
    try:
        helpers = {
            name: compiled(helper)
            for name in function.__code__.co_names
            if isinstance(helper := function.__globals__.get(name), types.FunctionType)
            and helper not in _WRAPPING  # itself, or a kernel calling back (numba then says so when it compiles)
            and helper.__module__.partition(".")[0] == package
        }
        originals = [function.__globals__[name] for name in helpers]
    finally:
        _WRAPPING.discard(function)
    files = frozenset({function.__code__.co_filename}.union(*(_FILES[h] for h in originals)))
    if not helpers:
        return function, files
    kernel = types.FunctionType(
        function.__code__, {**function.__globals__, **helpers}, function.__name__, function.__defaults__
    )
    kernel.__qualname__, kernel.__module__, kernel.__doc__ = (
        function.__qualname__,
        function.__module__,
        function.__doc__,
    )
    return kernel, files


@functools.cache
def _stamped_locator() -> type:
    """numba's cache locator for the kernels of ``_STAMPED``, first in the list numba asks: the place and
    name numba would give the kernel, with a source stamp of every file compiled into it and of
    ``OPTIONS`` (numba's own stamp is a hash of the kernel's file alone). A stale stamp makes numba compile
    the kernel again and overwrite its cache. Other functions are left to numba's own locators."""
    from numba.core import caching

    class StampedLocator(caching._CacheLocator):
        def __init__(self, inner: Any, files: frozenset[str]) -> None:
            self._inner, self._files = inner, sorted(files)

        def ensure_cache_path(self) -> None:
            self._inner.ensure_cache_path()

        def get_cache_path(self) -> str:
            return str(self._inner.get_cache_path())

        def get_disambiguator(self) -> str:
            return str(self._inner.get_disambiguator())

        def get_source_stamp(self) -> Any:
            options = repr(sorted(OPTIONS.items()))
            return (self._inner.get_source_stamp(), options, *(_file_hash(f) for f in self._files))

        @classmethod
        def from_function(cls, py_func: Any, py_file: str) -> Any:
            files = _STAMPED.get(py_func)
            if files is None:
                return None
            locators: list[Any] = caching.CacheImpl._locator_classes
            for other in locators:
                if other is not cls and (inner := other.from_function(py_func, py_file)) is not None:
                    return cls(inner, files)
            return None

    caching.CacheImpl._locator_classes.insert(0, StampedLocator)
    return StampedLocator


def _file_hash(path: str) -> tuple[str, bytes]:
    """A file's path and the sha256 of its bytes (read again when its size or time changes)."""
    st = os.stat(path)
    return path, _hashed(path, st.st_mtime_ns, st.st_size)


@functools.cache
def _hashed(path: str, mtime_ns: int, size: int) -> bytes:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).digest()
