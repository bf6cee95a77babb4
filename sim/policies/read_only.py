"""Arrays lent to policies read-only: every array a view holds is one of these (``read_only``)."""

from __future__ import annotations

import numpy as np


def read_only(a: np.ndarray) -> np.ndarray:
    """A view of ``a`` that raises on write, and cannot be made writeable again: its memory is lent through a
    read-only buffer, so ``setflags(write=True)``, what a search for "assignment destination is read-only"
    suggests, raises too (on a plain read-only view it succeeds, and the policy writes the engine's arrays).
    As cheap as a view: no copy."""
    try:
        return np.asarray(memoryview(a).toreadonly())  # type: ignore[arg-type]  # an ndarray is a buffer
    except (TypeError, ValueError, NotImplementedError):  # a dtype the buffer protocol has no format for
        v = a.view()
        v.flags.writeable = False
        return v
