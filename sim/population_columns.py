"""A new population's columns worked out from its random draws and its segments' and regions' parameters.

Each is one compiled pass (``sim.compiled``) where numpy built a column from
a gather of the parameter by segment or region and a few element-wise steps,
each a fresh array of the population's size: at ten million accounts a
dozen temporaries of 40-80 MB each, whose fresh pages the kernel faulted in
and zeroed, took most of a population's draw (`Population.generate`). The
passes write into the draws they consume where the type allows, and
otherwise into arrays the caller makes with numpy (which asks the kernel for
huge pages on large arrays; numba's own arrays fault in 4 KB at a time). The
arithmetic is numpy's, step for step and in its order (no fused
multiply-add; the C library's ``exp``, as numpy's below AVX-512, sim/simd.py),
so every column is the one numpy gave, bit for bit (tests/test_kernels.py).
"""

from __future__ import annotations

import numpy as np

from sim.codes import Status

_PROSPECT, _CUSTOMER = int(Status.PROSPECT), int(Status.CUSTOMER)


def located(z: np.ndarray, region: np.ndarray, centre: np.ndarray, radius: np.ndarray, out: np.ndarray) -> None:
    """One coordinate into ``out`` (km, float32): the region's ``centre`` plus its ``radius`` times the
    standard normal ``z``, worked in float64 and rounded once, as ``(centre[region] + radius[region] *
    z).astype(float32)``."""
    for i in range(z.size):
        r = region[i]
        out[i] = np.float32(centre[r] + radius[r] * z[i])


def potentials(z: np.ndarray, segment: np.ndarray, median: np.ndarray, sigma: np.ndarray) -> None:
    """Annual potential, lognormal, in place of its standard normal ``z``: ``median[segment] *
    exp(sigma[segment] * z)``."""
    for i in range(z.size):
        s = segment[i]
        z[i] = median[s] * np.exp(sigma[s] * z[i])


def contracts(
    u: np.ndarray,
    segment: np.ndarray,
    customer_share: np.ndarray,
    wallet: np.ndarray,
    potential: np.ndarray,
    customer: np.ndarray,
    status: np.ndarray,
) -> None:
    """Who is a customer (``customer``: its uniform ``u`` below the segment's ``customer_share``), its
    ``Status`` (``status``), and in place of ``u`` its spend: the segment's share of ``wallet`` of its
    potential (0 for a prospect)."""
    for i in range(u.size):
        s = segment[i]
        c = u[i] < customer_share[s]
        customer[i] = c
        status[i] = _CUSTOMER if c else _PROSPECT
        u[i] = potential[i] * wallet[s] if c else 0.0


def renewal_dates(
    week: np.ndarray,
    customer: np.ndarray,
    segment: np.ndarray,
    notice_weeks: np.ndarray,
    no_date: int,
    renewal: np.ndarray,
    opens: np.ndarray,
) -> None:
    """A customer's renewal week (``renewal``: its draw ``week``) and the week its renewal opens
    (``opens``: ``notice_weeks`` of its segment before); ``no_date`` for a prospect."""
    for i in range(week.size):
        if customer[i]:
            renewal[i] = week[i]
            opens[i] = np.int32(week[i]) - notice_weeks[segment[i]]
        else:
            renewal[i] = no_date
            opens[i] = no_date
