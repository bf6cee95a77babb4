"""Sales districting: partition accounts into compact territories balanced on several measures.

The method is the classic location-allocation model of sales districting
(Hess, S. W. and Samuels, S. A. (1971) "Experiences with a sales districting
model: criteria and implementation", Management Science 18(4, Part II)):
accounts are grouped into small geographic basic units, and the
units are assigned to territory centres by a transportation linear program
that minimises the account-weighted distance to the centre, subject to each
territory's share of every balanced measure lying within a tolerance of an
equal share. Here the centres are the reps' home bases (a rep lives in their
territory), and the program is solved by HiGHS through
``scipy.optimize.linprog``.

A basic solution of the program splits at most a few units between
territories (one per binding balance constraint, roughly); the accounts of a
split unit are dealt to its territories in proportion to the program's
fractions, spread over the unit's accounts ranked by size so that each share
of the unit carries its share of every measure.
"""

from __future__ import annotations

import math

import numpy as np

#: Basic units per territory [A]: fine enough that a unit is a small part of a territory (so balance is
#: reachable and splits are small), coarse enough that the program stays small at millions of accounts.
UNITS_PER_TERRITORY = 12

#: Share of the tolerance the program may use [A]: the rest is headroom for dealing the split units, whose
#: accounts come in whole pieces.
PROGRAM_SHARE = 0.75

#: Territory centres each unit may be assigned to, nearest first [A]; all of them if the program has no
#: solution within these.
NEAREST_CENTRES = 12


def basic_units(x: np.ndarray, y: np.ndarray, units: int) -> np.ndarray:
    """A unit number per point: about ``units`` cells of equal count, by strips of x and then y quantiles."""
    n = x.size
    g = max(1, math.ceil(math.sqrt(units)))
    by_x = np.argsort(x, kind="stable")
    strip = np.empty(n, dtype=np.int64)
    strip[by_x] = np.arange(n) * g // max(n, 1)
    order = np.lexsort((y, strip))  # by strip, then y within the strip
    first = np.searchsorted(strip[order], np.arange(g))
    size = np.diff(np.append(first, n))
    rank = np.arange(n) - np.repeat(first, size)
    cell = np.empty(n, dtype=np.int64)
    cell[order] = strip[order] * g + rank * g // np.maximum(np.repeat(size, size), 1)
    return np.unique(cell, return_inverse=True)[1].astype(np.int64)


def balanced_districts(
    x: np.ndarray,
    y: np.ndarray,
    measures: np.ndarray,
    centre_x: np.ndarray,
    centre_y: np.ndarray,
    tolerance: float,
) -> np.ndarray:
    """The territory (index into the centres) of each point.

    ``x``, ``y``: points, km; ``measures``: (m, points), non-negative, each
    balanced over the territories within ``tolerance`` of an equal share
    (0.1: within 10%) as far as the lumpiness of single points allows (the
    program splits units fractionally; a single point holding more than a
    territory's share of a measure cannot be split);
    ``centre_x``, ``centre_y``: the territories' centres, km. Compact: the
    program minimises the points' total distance to their centre.
    """
    k, n = centre_x.size, x.size
    if k == 1 or n == 0:
        return np.zeros(n, dtype=np.int64)
    unit = basic_units(x, y, UNITS_PER_TERRITORY * k)
    units = int(unit.max()) + 1
    count = np.bincount(unit, minlength=units).astype(float)
    ux = np.bincount(unit, x, units) / count
    uy = np.bincount(unit, y, units) / count
    sums = np.stack([np.bincount(unit, w, units) for w in measures])
    dist = np.hypot(ux[:, None] - centre_x[None, :], uy[:, None] - centre_y[None, :])
    # Every unit split equally over all centres meets any balance, so the program over all of them always
    # has a solution; the one over the nearest few usually has one and is much smaller.
    share = _assign_units(count, dist, sums, min(NEAREST_CENTRES, k), PROGRAM_SHARE * tolerance)
    if share is None:
        share = _assign_units(count, dist, sums, k, PROGRAM_SHARE * tolerance)
    if share is None:
        raise RuntimeError("the districting program over all centres found no solution, which always exists")
    return _deal_points(unit, share, measures)


def _assign_units(
    count: np.ndarray, dist: np.ndarray, sums: np.ndarray, near: int, tolerance: float
) -> np.ndarray | None:
    """Fractions (units x centres) of each unit per territory from the transportation program, or None
    when no assignment to each unit's ``near`` nearest centres meets the balance. ``count``: points per
    unit; ``dist``: units x centres, km; ``sums``: (measures, units)."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix, vstack

    units, k = dist.shape
    m = sums.shape[0]
    cand = np.argsort(dist, axis=1, kind="stable")[:, :near]  # units x near: the candidate centres
    u = np.repeat(np.arange(units), near)
    c = cand.ravel()
    v = np.arange(u.size)
    # Each unit wholly assigned: sum over its candidates of its fractions = 1.
    a_eq = coo_matrix((np.ones(v.size), (u, v)), shape=(units, v.size)).tocsr()
    # Each territory's total of each measure within [1 - t, 1 + t] of an equal share: two rows each, in
    # units of an equal share so that every row is of order one whatever the measure's scale.
    equal = sums / (sums.sum(axis=1, keepdims=True) / k)
    rows = (np.arange(m)[:, None] * k + c[None, :]).ravel()
    a_bal = coo_matrix((equal[:, u].ravel(), (rows, np.tile(v, m))), shape=(m * k, v.size)).tocsr()
    target = np.ones(m * k)
    res = linprog(
        count[u] * dist[u, c],  # the points' total distance to their centre
        A_ub=vstack([a_bal, -a_bal]),
        b_ub=np.concatenate([target * (1 + tolerance), -target * (1 - tolerance)]),
        A_eq=a_eq,
        b_eq=np.ones(units),
        bounds=(0.0, 1.0),
        method="highs",
    )
    if res.status != 0:
        return None
    share = np.zeros((units, k))
    np.add.at(share, (u, c), np.clip(res.x, 0.0, 1.0))
    return share / share.sum(axis=1, keepdims=True)


def _deal_points(unit: np.ndarray, share: np.ndarray, measures: np.ndarray) -> np.ndarray:
    """Each point's territory: a whole unit's, or for a split unit, dealt in proportion to its fractions."""
    whole = share.max(axis=1) > 1.0 - 1e-9
    out = np.argmax(share, axis=1)[unit]
    split = np.flatnonzero(~whole)
    if split.size == 0:
        return out
    size = measures.sum(axis=0)
    in_split = np.flatnonzero(np.isin(unit, split))
    # Within each split unit, rank its points by size and deal the ranks by a low-discrepancy sequence:
    # each territory's share of the unit then takes its share of the unit's large and small points alike.
    order = in_split[np.lexsort((-size[in_split], unit[in_split]))]
    first = np.searchsorted(unit[order], split)
    count = np.diff(np.append(first, order.size))
    rank = np.arange(order.size) - np.repeat(first, count)
    golden = (math.sqrt(5.0) - 1.0) / 2.0
    draw = np.modf((rank + 0.5) * golden)[0]
    cumulative = np.cumsum(share[split], axis=1)
    row = np.repeat(np.arange(split.size), count)
    taken = (cumulative[row] <= draw[:, None]).sum(axis=1)
    out[order] = np.minimum(taken, share.shape[1] - 1)
    return out
