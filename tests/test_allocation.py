"""The week's dispatch (sim.allocation): by hand, and against a slow reference of its stated semantics."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.allocation import allocate_hours
from tests.conftest import ROOT

NAN = math.nan


def reference(
    rep: list[int], cost: list[float], priority: list[float], capacity: list[float], release: list[float]
) -> tuple[list[bool], list[float], list[bool]]:
    """The dispatch exactly as specified, one rep and one decision at a time, in plain Python."""
    n = len(rep)
    accepted, start = [False] * n, [NAN] * n
    declined = [not (p > 0) for p in priority]
    for r, week in enumerate(capacity):
        pending = [i for i in range(n) if rep[i] == r and not declined[i]]
        t = 0.0
        while pending:
            ready = [i for i in pending if release[i] <= t + 1e-9]
            if not ready:
                arrival = min(release[i] for i in pending)
                if arrival >= week:
                    break
                t = arrival  # idle until the next task exists
                continue
            best = max(ready, key=lambda i: (priority[i], -i))  # ties: the order given
            pending.remove(best)
            if t + cost[best] <= week + 1e-9:
                accepted[best], start[best] = True, t
                t += cost[best]
    return accepted, start, declined


def allocate(
    tasks: list[tuple[int, float, float, float]], capacity: list[float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``allocate_hours`` on tasks given as (rep, cost, priority, release): (accepted, start, declined, rep, cost)."""
    rep = np.array([t[0] for t in tasks], dtype=np.int64)
    cost = np.array([t[1] for t in tasks], dtype=np.float64)
    priority = np.array([t[2] for t in tasks], dtype=np.float64)
    release = np.array([t[3] for t in tasks], dtype=np.float64)
    a = allocate_hours(rep, cost, priority, np.array(capacity, dtype=np.float64), release=release)
    return a.accepted, a.start, a.declined, rep, cost


def test_a_lead_arriving_while_the_rep_is_busy_waits_for_the_task_in_hand():
    # 9 h from 0, then 3 h from 9 to 12; the lead (top priority) arrives at 10 and is
    # answered at 12, before the 2 h task of lower priority, which starts at 13.
    accepted, start, _, _, _ = allocate(
        [(0, 9.0, 2.0, 0.0), (0, 3.0, 1.0, 0.0), (0, 1.0, 5.0, 10.0), (0, 2.0, 0.5, 0.0)], [40.0]
    )
    assert accepted.tolist() == [True] * 4
    assert start.tolist() == [0.0, 9.0, 12.0, 13.0]


def test_a_rep_with_nothing_to_do_idles_until_the_lead_arrives():
    accepted, start, _, _, _ = allocate([(0, 0.5, 1.0, 20.0), (1, 2.0, 1.0, 0.0)], [30.0, 30.0])
    assert accepted.tolist() == [True, True]
    assert start.tolist() == [20.0, 0.0]


def test_the_rep_does_not_wait_for_a_better_task_still_to_come():
    # No look-ahead: at hour 0 only the 5 h task exists, so the rep starts it; the
    # more urgent lead, there from hour 1, waits until hour 5.
    accepted, start, _, _, _ = allocate([(0, 5.0, 1.0, 0.0), (0, 2.0, 9.0, 1.0)], [10.0])
    assert accepted.tolist() == [True, True]
    assert start.tolist() == [0.0, 5.0]


def test_a_task_that_does_not_fit_is_skipped_and_a_smaller_one_taken():
    # 5 h: the 4 h task at 0; the 3 h one no longer fits and is skipped for the week
    # (not declined); the 1 h one of lower priority fills the last hour.
    accepted, start, declined, _, _ = allocate([(0, 4.0, 3.0, 0.0), (0, 3.0, 2.0, 0.0), (0, 1.0, 1.0, 0.0)], [5.0])
    assert accepted.tolist() == [True, False, True]
    assert declined.tolist() == [False, False, False]
    assert start[[0, 2]].tolist() == [0.0, 4.0]
    assert math.isnan(start[1])


def test_a_lead_arriving_once_the_week_is_full_is_not_answered():
    # Rep 0: a 10 h task fills its 10 h; the lead arriving at 3 finds no hour left.
    # Rep 1: a lead arriving at 12, after its 10 h week.
    accepted, start, declined, _, _ = allocate(
        [(0, 10.0, 1.0, 0.0), (0, 1.0, 5.0, 3.0), (1, 0.5, 5.0, 12.0), (1, 0.5, 5.0, 10.0)], [10.0, 10.0]
    )
    assert accepted.tolist() == [True, False, False, False]
    assert start[0] == 0.0 and np.isnan(start[1:]).all()
    assert not declined.any()


def test_hours_are_compared_with_a_little_slack():
    # 0.1 + 0.2 > 0.3 in floating point, yet the two tasks fill a 0.3 h week; and the
    # clock at 0.7 + 0.1 < 0.8 finds the lead of hour 0.8 already there.
    accepted, start, _, _, _ = allocate([(0, 0.1, 2.0, 0.0), (0, 0.2, 1.0, 0.0)], [0.3])
    assert accepted.tolist() == [True, True]
    accepted, start, _, _, _ = allocate(
        [(0, 0.7, 3.0, 0.0), (0, 0.1, 2.0, 0.0), (0, 1.0, 9.0, 0.8), (0, 1.0, 1.0, 0.0)], [10.0]
    )
    assert 0.7 + 0.1 < 0.8
    assert start.tolist() == [0.0, 0.7, 0.7 + 0.1, 0.7 + 0.1 + 1.0]


def test_declined_tasks_are_never_accepted():
    accepted, start, declined, _, _ = allocate(
        [(0, 1.0, 0.0, 0.0), (0, 1.0, -2.0, 0.0), (0, 1.0, NAN, 0.0), (0, 1.0, 1e-12, 0.0)], [40.0]
    )
    assert declined.tolist() == [True, True, True, False]
    assert accepted.tolist() == [False, False, False, True]
    assert np.isnan(start[:3]).all() and start[3] == 0.0


def test_ties_in_the_order_given_and_release_defaults_to_the_start_of_the_week():
    rep = np.array([1, 0, 1, 0, 1])
    cost = np.array([2.0, 1.0, 3.0, 1.0, 1.0])
    priority = np.array([1.0, 2.0, 1.0, 2.0, 4.0])
    capacity = np.array([1.5, 10.0])
    a = allocate_hours(rep, cost, priority, capacity)
    assert a.accepted.tolist() == [True, True, True, False, True]
    assert a.start[[0, 1, 2, 4]].tolist() == [1.0, 0.0, 3.0, 0.0]
    b = allocate_hours(rep, cost, priority, capacity, release=np.zeros(5))
    assert np.array_equal(a.accepted, b.accepted) and np.array_equal(a.start, b.start, equal_nan=True)


def test_no_tasks_and_bad_seats():
    a = allocate_hours(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.array([40.0]))
    assert a.accepted.size == a.start.size == a.declined.size == 0
    with pytest.raises(ValueError, match="seat"):
        allocate_hours(np.array([2]), np.array([1.0]), np.array([1.0]), np.array([40.0, 40.0]))
    with pytest.raises(ValueError, match=r"seat numbers -3\.\.5 outside the 2 seats"):  # declined ones aside
        allocate_hours(np.array([1, -3, 5, 9]), np.ones(4), np.array([1.0, 2.0, 1.0, 0.0]), np.array([40.0, 40.0]))
    with pytest.raises(ValueError, match="release"):
        allocate_hours(np.array([0]), np.array([1.0]), np.array([1.0]), np.array([40.0]), np.zeros(2))
    with pytest.raises(ValueError, match="release"):  # the former ``passes``, given by position
        allocate_hours(np.array([0]), np.array([1.0]), np.array([1.0]), np.array([40.0]), 3)  # type: ignore[arg-type]


REPS = 4
costs = st.sampled_from([0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 8.0]) | st.floats(0.01, 12.0)
priorities = st.sampled_from([-1.0, 0.0, NAN, 1.0, 2.0, 3.0]) | st.floats(-2.0, 5.0)
releases = st.sampled_from([0.0, 0.0, 0.0, 0.5, 3.0, 7.5, 40.0, 100.0]) | st.floats(0.0, 60.0)
capacities = st.sampled_from([0.0, 1.0, 5.0, 10.0, 30.8]) | st.floats(0.0, 40.0)
task_lists = st.lists(st.tuples(st.integers(0, REPS - 1), costs, priorities, releases), max_size=60)


@settings(max_examples=500, deadline=None)
@given(task_lists, st.lists(capacities, min_size=REPS, max_size=REPS))
def test_the_kernel_is_the_reference(tasks, capacity):
    accepted, start, declined, _, _ = allocate(tasks, capacity)
    want_accepted, want_start, want_declined = reference(
        [t[0] for t in tasks], [t[1] for t in tasks], [t[2] for t in tasks], capacity, [t[3] for t in tasks]
    )
    assert accepted.tolist() == want_accepted
    assert np.array_equal(start, np.array(want_start, dtype=np.float64), equal_nan=True)
    assert declined.tolist() == want_declined


@settings(max_examples=300, deadline=None)
@given(task_lists, st.lists(capacities, min_size=REPS, max_size=REPS))
def test_no_rep_works_beyond_its_week_or_before_a_task_exists(tasks, capacity):
    accepted, start, declined, rep, cost = allocate(tasks, capacity)
    release = np.array([t[3] for t in tasks], dtype=np.float64)
    cap = np.array(capacity)
    used = np.bincount(rep[accepted], weights=cost[accepted], minlength=REPS)
    assert np.all(used <= cap + 1e-6)
    assert not np.any(accepted & declined)
    assert np.array_equal(np.isnan(start), ~accepted)
    assert np.all(start[accepted] >= release[accepted] - 1e-9)
    for r in range(REPS):
        # One task at a time, each ending within the week.
        mine = np.flatnonzero(accepted & (rep == r))
        mine = mine[np.argsort(start[mine], kind="stable")]
        end = start[mine] + cost[mine]
        assert np.all(end <= cap[r] + 1e-9)
        assert np.all(start[mine][1:] >= end[:-1] - 1e-9)


def test_the_kernel_is_the_reference_on_a_busy_week():
    # A few hundred tasks a rep, a tenth of them leads arriving during the week.
    rng = np.random.default_rng(7)
    n, reps = 900, 3
    rep = rng.integers(0, reps, n)
    cost = rng.choice([0.25, 0.5, 1.0, 2.0, 3.5], n)
    priority = np.where(rng.random(n) < 0.05, 0.0, rng.integers(1, 20, n).astype(np.float64))
    release = np.where(rng.random(n) < 0.1, rng.uniform(0, 35, n), 0.0)
    capacity = np.array([30.8, 15.0, 120.0])
    a = allocate_hours(rep, cost, priority, capacity, release=release)
    want = reference(rep.tolist(), cost.tolist(), priority.tolist(), capacity.tolist(), release.tolist())
    assert a.accepted.tolist() == want[0]
    assert np.array_equal(a.start, np.array(want[1]), equal_nan=True)
    assert a.declined.tolist() == want[2]
    assert 0 < a.accepted.sum() < n


def test_importing_the_allocation_does_not_import_numba():
    # numba takes about half a second to import; covsim --help must not pay for it.
    code = "import sys, sim.allocation; assert 'numba' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
