"""What a policy's own code most likely got wrong, said beside what it raised.

A policy that raises stops its run with a one-line ``PolicyError`` quoting
the exception. For an ``AttributeError`` the line adds the likely mistake: a
Params class that does not extend the one its parent's code reads, or a
mistyped name of a view or an array (``'Pending' object has no attribute
'custmer' (did you mean 'customer'?)``), which Python's own message leaves to
the traceback a user of the command line does not see.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from sim.strict import Strict
from sim.strict_types import closest


def raised_at(e: BaseException) -> str:
    """`` (at FILE line N, in FUNCTION)``: the last line of a policy author's own code that ``e`` passed through
    (not covsim's, the standard library's or an installed package's), its file relative to the working folder
    when it is in it; "" when none did. The command line shows no traceback, so this is where to look."""
    import site  # here, not at start-up: only a policy's fault needs them
    import sysconfig
    import traceback

    # Where the code that is not the author's lives: covsim's package, the standard library, installed packages
    # (the environment's, the user's, a distribution's dist-packages).
    installed = [sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")]
    places = {str(Path(__file__).parents[1]), *installed, *site.getsitepackages(), site.getusersitepackages()}
    not_theirs = tuple(str(Path(p).resolve()) + os.sep for p in places)
    for frame in reversed(traceback.extract_tb(e.__traceback__)):
        path = Path(frame.filename).resolve()
        if frame.filename.startswith("<") or str(path).startswith(not_theirs):
            continue
        shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
        return f" (at {shown} line {frame.lineno}, in {frame.name})"
    return ""


def import_hint(e: BaseException) -> str:
    """Where a policy's module failed as it was imported (:func:`raised_at`), and for a name its ``from ... import``
    misspelt, the closest the module has (`` (did you mean 'nearest_seat'?)``): the line had named neither, and
    Python's own message covsim's file instead of the user's."""
    hint = ""
    found = re.match(r"cannot import name '(\w+)' from '([\w.]+)'", str(e)) if isinstance(e, ImportError) else None
    if found and (module := sys.modules.get(found[2])) is not None:
        hint = did_you_mean(found[1], [n for n in dir(module) if not n.startswith("_")])
    return hint + raised_at(e)


def did_you_mean(name: str, known: list[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the known name closest to a mistyped ``name``, or "" if none is within
    ``cutoff`` (difflib's similarity ratio)."""
    close = closest(name, known, cutoff)
    return f" (did you mean {close!r}?)" if close else ""


def mistake_hint(cls: type, e: BaseException) -> str:
    """The hint for ``e``, raised by the code of policy class ``cls`` (a ``sim.policies.Policy``, not named here:
    its module imports this one): :func:`params_hint`, else
    :func:`attribute_hint`, else :func:`read_only_hint`, else ""."""
    return params_hint(cls, e) or attribute_hint(e) or read_only_hint(e)


def read_only_hint(e: BaseException) -> str:
    """`` (what a policy is shown is read-only: ...)`` for numpy's refusal to write into a view's array (a policy
    that set ``view.free[0] = 0`` was told only "assignment destination is read-only"), else ""."""
    if isinstance(e, ValueError) and "read-only" in str(e):
        # numpy does not say which array: a policy writing view.plan.owner had been pointed at view.free.
        return " (every array a policy is shown is read-only: change a copy of it, as np.array(...) makes)"
    return ""


def params_hint(cls: type, e: BaseException) -> str:
    """`` (its Params lacks ...: declare class Params(XParams))`` when ``e`` is a parameter missing from the Params
    of a subclass of a policy whose own Params has it (a user's Params that does not extend the built-in's, whose
    methods read it), else ""."""
    if not (isinstance(e, AttributeError) and isinstance(e.obj, getattr(cls, "Params", ()))):
        return ""
    for base in cls.__mro__[1:]:
        params = vars(base).get("Params")
        if isinstance(params, type) and issubclass(params, Strict) and e.name in params.model_fields:
            return (
                f" (its Params lacks {e.name}, which {base.__name__}, that it extends, reads: declare its Params "
                f"as a subclass of {params.__name__})"
            )
    return ""


def attribute_hint(e: BaseException) -> str:
    """`` (did you mean 'x'?)`` for an AttributeError of an object with a public attribute close to the name asked
    for, else "" (one raised by hand names no object)."""
    if not isinstance(e, AttributeError) or not isinstance(e.name, str) or e.obj is None:
        return ""
    try:
        # Not the name itself: one raised inside a property of the object is there already.
        known = [name for name in dir(e.obj) if not name.startswith("_") and name != e.name]
    except Exception:  # an object of the policy's own whose __dir__ fails: no hint, the error stands
        return ""
    return did_you_mean(e.name, known)
