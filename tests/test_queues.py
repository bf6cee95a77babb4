"""Shared queues in the week's dispatch (sim.allocation.Queues): by hand, against a slow reference of the
stated semantics, and against the Erlang C formula for a pool of reps serving Poisson arrivals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.allocation import Queues, allocate_hours

NAN = math.nan
EPS = 1e-9


def reference(
    tasks: list[tuple[int, int, float, float, float]], capacity: list[float], seat_pool: list[int]
) -> tuple[list[bool], list[float], list[int]]:
    """The dispatch as specified, in plain Python: tasks are (rep, pool, cost, priority, release), where
    release is hours for a rep's own task (pool -1) and a share of the week for a queue task (rep -1).
    Returns (accepted, start, seat)."""
    n = len(tasks)
    accepted, start = [False] * n, [NAN] * n
    seat = [t[0] for t in tasks]
    live = [i for i in range(n) if tasks[i][3] > 0]
    clock = [0.0] * len(capacity)
    idle_since = [0.0] * len(capacity)
    reached = [0.0] * len(capacity)  # share of the week reached (an idle rep: the share it idles to)
    off_queue = [False] * len(capacity)
    own = {r: [i for i in live if tasks[i][0] == r] for r in range(len(capacity))}
    queue = [i for i in live if tasks[i][1] >= 0]
    active = {r for r in range(len(capacity)) if capacity[r] > 0 or own[r]}

    def best(items: list[int]) -> int | None:
        return max(items, key=lambda i: (tasks[i][3], -i)) if items else None

    while active:
        # Whoever is furthest behind in its week decides next (ties: the one idle longest, then the lowest seat).
        r = min(active, key=lambda s: (reached[s], idle_since[s], s))
        week, t = capacity[r], clock[r]
        mine = own[r]
        theirs = [i for i in queue if tasks[i][1] == seat_pool[r]] if seat_pool[r] >= 0 and not off_queue[r] else []
        ready_own = best([i for i in mine if tasks[i][4] <= t + EPS])
        ready_queue = best([i for i in theirs if tasks[i][4] * week <= t + EPS])
        if ready_own is None and ready_queue is None:
            upcoming = [tasks[i][4] for i in mine] + [tasks[i][4] * week for i in theirs]
            if not upcoming or min(upcoming) >= week:
                active.remove(r)
            else:
                clock[r] = min(upcoming)
                reached[r] = min([tasks[i][4] / week for i in mine] + [tasks[i][4] for i in theirs])
            continue
        if ready_queue is not None and (ready_own is None or tasks[ready_queue][3] > tasks[ready_own][3]):
            i = ready_queue
            if t + tasks[i][2] <= week + EPS:
                queue.remove(i)
                accepted[i], start[i], seat[i] = True, t, r
                clock[r] = t + tasks[i][2]
                idle_since[r] = reached[r] = clock[r] / week
            else:
                off_queue[r] = True
        else:
            i = ready_own
            mine.remove(i)
            if t + tasks[i][2] <= week + EPS:
                accepted[i], start[i] = True, t
                clock[r] = t + tasks[i][2]
                idle_since[r] = reached[r] = clock[r] / week
    return accepted, start, seat


def allocate(
    tasks: list[tuple[int, int, float, float, float]], capacity: list[float], seat_pool: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``allocate_hours`` on tasks given as in ``reference``: (accepted, start, seat)."""
    rep, pool, cost, priority, release = (np.array([t[k] for t in tasks]) for k in range(5))
    queued = pool >= 0
    a = allocate_hours(
        rep.astype(np.int64),
        cost.astype(np.float64),
        priority.astype(np.float64),
        np.array(capacity, dtype=np.float64),
        release=np.where(queued, 0.0, release).astype(np.float64),
        queues=Queues(
            pool=pool.astype(np.int64),
            arrival=np.where(queued, release, 0.0).astype(np.float64),
            seat_pool=np.array(seat_pool, dtype=np.int64),
        ),
    )
    return a.accepted, a.start, a.seat


def test_the_next_free_rep_takes_the_head_of_the_queue():
    # Two inside reps of pool 0, 10 h each. Rep 0 is busy until hour 3 with its own task (of
    # higher priority than the leads); rep 1 is free, so it takes the two leads there at the
    # start, one after the other; the third lead, arriving at 0.25 of the week (hour 2.5), goes
    # to whoever is free first: rep 1, free again at hour 2, takes it as it arrives.
    accepted, start, seat = allocate(
        [(0, -1, 3.0, 9.0, 0.0), (-1, 0, 1.0, 5.0, 0.0), (-1, 0, 1.0, 4.0, 0.0), (-1, 0, 1.0, 3.0, 0.25)],
        [10.0, 10.0],
        [0, 0],
    )
    assert accepted.tolist() == [True, True, True, True]
    assert seat.tolist() == [0, 1, 1, 1]
    assert start.tolist() == [0.0, 0.0, 1.0, 2.5]


def test_a_lead_of_no_arrival_time_never_arrives_and_blocks_no_other():
    # A NaN arrival compares false with every clock: the lead never exists, and the queue's order of
    # arrival puts it last, so the leads behind it in priority are taken as they come (hours 4 and 12).
    accepted, start, seat = allocate(
        [(-1, 0, 1.0, 1.0, 0.3), (-1, 0, 1.0, 2.0, NAN), (-1, 0, 1.0, 3.0, 0.1)], [40.0], [0]
    )
    assert accepted.tolist() == [True, False, True]
    assert start[[0, 2]].tolist() == [12.0, 4.0] and math.isnan(start[1])
    assert seat.tolist() == [0, -1, 0]


def test_a_queue_task_waits_for_a_rep_with_the_time_it_needs():
    # Rep 0 has 0.5 h left after its own task and will not take the 1 h lead (nor, after that,
    # anything else from the queue that week); rep 1, busy until hour 4, takes it then.
    accepted, start, seat = allocate(
        [(0, -1, 4.5, 9.0, 0.0), (1, -1, 4.0, 9.0, 0.0), (-1, 0, 1.0, 5.0, 0.0), (-1, 0, 0.25, 1.0, 0.0)],
        [5.0, 8.0],
        [0, 0],
    )
    assert accepted.tolist() == [True, True, True, True]
    assert seat.tolist() == [0, 1, 1, 1]
    assert start.tolist() == [0.0, 0.0, 4.0, 5.0]


def test_reps_of_other_pools_and_of_none_do_not_take_from_a_queue():
    accepted, _, seat = allocate([(-1, 1, 1.0, 5.0, 0.0), (-1, 0, 1.0, 5.0, 0.0)], [10.0, 10.0, 10.0], [-1, 1, -1])
    assert accepted.tolist() == [True, False]
    assert seat.tolist() == [1, -1]


def test_own_tasks_win_ties_and_a_declined_queue_task_is_never_taken():
    accepted, start, seat = allocate(
        [(-1, 0, 1.0, 2.0, 0.0), (0, -1, 1.0, 2.0, 0.0), (-1, 0, 1.0, 0.0, 0.0)], [10.0], [0]
    )
    assert accepted.tolist() == [True, True, False]
    assert start.tolist()[:2] == [1.0, 0.0]
    assert seat.tolist() == [0, 0, -1]


def test_reps_waiting_for_the_same_lead_go_longest_idle_first_whatever_their_hours():
    # Three idle reps of one pool wait for a lead arriving 0.7 of the way through the week. They
    # reach it together (0.7 x 3 h / 3 h is not exactly 0.7 in floating point, which must not
    # decide), so the tie goes to the lowest seat: seat 0 answers it, 0.7 x 30.8 h into its week.
    tasks = [(-1, 0, 0.1, 1.0, 0.7)]
    accepted, start, seat = allocate(tasks, [30.8, 7.0, 3.0], [0, 0, 0])
    assert accepted.tolist() == [True] and seat.tolist() == [0] and start[0] == pytest.approx(0.7 * 30.8)
    assert reference(tasks, [30.8, 7.0, 3.0], [0, 0, 0])[2] == [0]


def test_bad_queues_are_refused():
    one = (np.array([0]), np.array([1.0]), np.array([1.0]), np.array([10.0]))
    with pytest.raises(ValueError, match="rep -1"):
        allocate_hours(*one, queues=Queues(np.array([0]), np.array([0.0]), np.array([0])))
    with pytest.raises(ValueError, match="seat_pool"):
        allocate_hours(*one, queues=Queues(np.array([-1]), np.array([0.0]), np.array([0, 0])))
    with pytest.raises(ValueError, match="shape"):
        allocate_hours(*one, queues=Queues(np.array([-1, -1]), np.array([0.0]), np.array([0])))


REPS = 4
costs = st.sampled_from([0.25, 0.5, 1.0, 2.0, 3.0, 8.0]) | st.floats(0.01, 12.0)
priorities = st.sampled_from([-1.0, 0.0, NAN, 1.0, 2.0, 3.0]) | st.floats(-2.0, 5.0)
own_tasks = st.tuples(
    st.integers(0, REPS - 1), st.just(-1), costs, priorities, st.sampled_from([0.0, 0.0, 3.0, 40.0]) | st.floats(0, 60)
)
queue_tasks = st.tuples(
    st.just(-1), st.integers(0, 1), costs, priorities, st.sampled_from([0.0, 0.0, 0.5]) | st.floats(0, 1)
)
capacities = st.sampled_from([0.0, 1.0, 5.0, 10.0, 30.8]) | st.floats(0.0, 40.0)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(own_tasks | queue_tasks, max_size=60),
    st.lists(capacities, min_size=REPS, max_size=REPS),
    st.lists(st.integers(-1, 1), min_size=REPS, max_size=REPS),
)
def test_the_kernel_is_the_reference_with_queues(tasks, capacity, seat_pool):
    accepted, start, seat = allocate(tasks, capacity, seat_pool)
    want = reference(tasks, capacity, seat_pool)
    assert accepted.tolist() == want[0]
    assert np.array_equal(start, np.array(want[1], dtype=np.float64), equal_nan=True)
    assert seat.tolist() == want[2]
    # Nobody works beyond its week, and a queue task is done once at most, by a rep of its pool.
    cost = np.array([t[2] for t in tasks])
    used = np.bincount(seat[accepted], weights=cost[accepted], minlength=REPS)
    assert np.all(used <= np.array(capacity) + 1e-6)
    pools = np.array([t[1] for t in tasks])
    taken = accepted & (pools >= 0)
    assert np.all(np.array(seat_pool)[seat[taken]] == pools[taken])


def erlang_c(servers: int, offered: float) -> float:
    """Probability that an arrival waits in an M/M/c queue (Erlang C), ``offered`` = arrival rate / service rate."""
    top = offered**servers / math.factorial(servers) * servers / (servers - offered)
    return top / (sum(offered**k / math.factorial(k) for k in range(servers)) + top)


def pool_waits(seed: int, servers: int, arrivals_per_hour: float, horizon: float) -> np.ndarray:
    """Waits (hours) of Poisson arrivals at a pool of ``servers`` reps with exponential service times of
    mean 1 h, served first come first served through the queue of ``allocate_hours`` over one long week of
    ``horizon`` hours; the arrivals of the middle of the horizon (after a warm-up, before the end)."""
    rng = np.random.default_rng(seed)
    arrive = np.cumsum(rng.exponential(1.0 / arrivals_per_hour, int(arrivals_per_hour * horizon * 1.2)))
    arrive = arrive[arrive < 0.9 * horizon]
    n = arrive.size
    a = allocate_hours(
        np.full(n, -1),
        rng.exponential(1.0, n),
        2.0 - np.arange(n) / n,  # first come, first served
        np.full(servers, horizon),
        queues=Queues(
            pool=np.zeros(n, dtype=np.int64), arrival=arrive / horizon, seat_pool=np.zeros(servers, np.int64)
        ),
    )
    middle = (arrive > 0.1 * horizon) & (arrive < 0.8 * horizon)
    assert a.accepted[middle].all()
    return (a.start - arrive)[middle]


@pytest.mark.parametrize("servers, arrivals_per_hour", [(4, 3.0), (10, 8.5)])
def test_erlang_c_mean_wait_and_chance_of_waiting(servers, arrivals_per_hour):
    """The queue is an M/M/c queue: its mean wait is C(c, a) / (c mu - lambda) and the chance to wait C(c, a).

    The tolerance is derived, not guessed: the mean over each of 12 independent replications is one
    observation, and the formula's value must lie inside the 99.9% t interval of those means (a correct
    queue fails one time in a thousand, and the seeds are fixed); the interval must also be narrower than
    10% of the value, so that the check can fail.
    """
    offered = arrivals_per_hour / 1.0
    c = erlang_c(servers, offered)
    wait = c / (servers * 1.0 - arrivals_per_hour)
    runs = [pool_waits(seed, servers, arrivals_per_hour, horizon=40000.0) for seed in range(12)]
    for observed, expected in (([w.mean() for w in runs], wait), ([(w > EPS).mean() for w in runs], c)):
        mean, se = float(np.mean(observed)), float(np.std(observed, ddof=1) / math.sqrt(len(observed)))
        half = stats.t.ppf(0.9995, len(observed) - 1) * se
        assert abs(mean - expected) <= half, (mean, expected, half)
        assert half < 0.1 * expected


def mdc_wait(offered: float, servers: int) -> float:
    """The mean wait in queue of an M/D/c queue, in service times, at ``offered`` = arrival rate x service time
    < ``servers`` (Crommelin, 1932, "Delay probability formulas when the holding times are constant"): the mean
    queue length is (a^2 - c (c - 1)) / (2 (c - a)) + sum over the c - 1 roots z of z^c = exp(a (z - 1)) inside
    the unit circle, z != 1, of 1 / (1 - z), and the wait that over a (Little). Each root is the fixed point of
    z = w exp(a (z - 1) / c) for a c-th root of unity w != 1. With one server it is Pollaczek-Khinchine's
    a / (2 (1 - a)); ``test_erlang_the_mdc_wait_is_that_of_the_queue_simulated_directly`` checks it for more."""
    a, c = offered, servers
    length = (a * a - c * (c - 1)) / (2 * (c - a))
    for k in range(1, c):
        w, z = np.exp(2j * np.pi * k / c), 0j
        for _ in range(5000):
            z = w * np.exp(a * (z - 1) / c)
        length += (1 / (1 - z)).real
    return length / a


def test_erlang_the_mdc_wait_is_that_of_the_queue_simulated_directly():
    # Poisson arrivals, three servers, a service time of 1, first come first served, each arrival to the server
    # free first (the Kiefer-Wolfowitz recursion): the formula inside the 99.9% t interval of 8 runs' means.
    import heapq

    def mean_wait(seed: int, offered: float, servers: int, n: int = 200_000) -> float:
        arrive = np.cumsum(np.random.default_rng(seed).exponential(1.0 / offered, n))
        free, waits = [0.0] * servers, np.empty(n)
        for i, t in enumerate(arrive.tolist()):
            start = max(t, heapq.heappop(free))
            waits[i] = start - t
            heapq.heappush(free, start + 1.0)
        return float(waits[n // 10 :].mean())  # after a warm-up

    assert mdc_wait(0.6, 1) == pytest.approx(0.6 / (2 * 0.4))
    for offered, servers in ((2.0, 3), (4.0, 5)):
        means = [mean_wait(seed, offered, servers) for seed in range(8)]
        mean, se = float(np.mean(means)), float(np.std(means, ddof=1) / math.sqrt(len(means)))
        half = stats.t.ppf(0.9995, len(means) - 1) * se
        assert abs(mean - mdc_wait(offered, servers)) <= half < 0.1 * mdc_wait(offered, servers)


@pytest.mark.parametrize("servers", [1, 3])
def test_erlang_engine_pool_is_an_mdc_queue_across_weeks(monkeypatch, servers):
    """In the engine, a pool of SDRs answering Poisson leads is an M/D/c queue across weeks.

    Leads arrive at uniformly random moments of each week, a Poisson count per account and week (40,000
    accounts at 0.5 a year for each SDR, over 16 quarters: the same load on each); each first response costs
    ``response_hours`` of an SDR's hours, spread evenly over its 5 business days, so its service time is
    deterministic, and the next SDR free answers the queue's first lead. The mean wait is then the M/D/c
    queue's (``mdc_wait``; with one server Pollaczek-Khinchine's rho s / (2 (1 - rho)), which is Erlang C's wait
    for one server scaled by (1 + cs^2) / 2 with cs = 0). The queue carries over weeks: a lead unanswered at a
    week's end is answered next week, keeping its place. A response does not straddle two weeks (one that
    does not fit in the hours left waits for the next week), which the formula does not know: with 0.05 h
    responses that costs a negligible 0.2% of the week (docs/model.md gives its effect at the default 0.5 h).
    The tolerance is the 99.9% t interval of the means of 10 independent runs; the demand lift is switched
    off (a = b = 1), so answering a lead does not change the arrival rate. (The arrival rate is the Poisson
    count's mean, per_year / 52 an account and week: the chance of at least one lead, 1 - exp(-per_year /
    52), which an earlier version of this test used, is 0.5% less at one SDR, 1.4% at three.)
    """
    import sim.recorder
    from sim.model import CoverageModel
    from sim.policies import make_policy
    from tests.conftest import kind, tiny

    waits: list[np.ndarray] = []
    monkeypatch.setattr(
        sim.recorder.Recorder, "responded", lambda self, segment, kind, rep, days: waits.append(np.asarray(days))
    )
    customers, per_year = 40_000, 0.5 * servers
    scenario = tiny(
        customers=customers,
        quarters=16,
        segment={"new_logo": kind(per_year, win=0.0), "expansion": kind(0.0)},
        reps=[{"role": "sdr", "count": servers}, {"role": "full_cycle", "count": 1}],
        relationship={"response": {"kind": "adbudg", "a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0}},
        service={"pooled_window_days": 500.0},
        activities={"response_hours": 0.05},
        policy={"name": "segment_tiers", "params": {"field_segments": "", "pooled_segments": "only"}},
    )
    arrivals_per_day = customers * per_year / 52 / 5
    service_days = scenario.activities.response_hours / (40.0 * 0.77 / 5)
    rho = arrivals_per_day * service_days / servers
    expected = mdc_wait(arrivals_per_day * service_days, servers) * service_days
    means = []
    for seed in range(10):
        waits.clear()
        model = CoverageModel(scenario, make_policy("segment_tiers", dict(scenario.policy.params)), seed)
        model.run()
        model.release()
        means.append(float(np.concatenate(waits).mean()))
    mean, se = float(np.mean(means)), float(np.std(means, ddof=1) / math.sqrt(len(means)))
    half = stats.t.ppf(0.9995, len(means) - 1) * se
    assert 0.3 < rho < 0.8
    assert abs(mean - expected) <= half, (mean, expected, half)
    assert half < 0.1 * expected


# ---- the queue in the engine --------------------------------------------------------


def _pool_world(sdr_hours: float, **overrides: object):
    """One segment served by one SDR's queue (its weekly hours given), one closer; every lead lost, no lift."""
    from tests.conftest import kind, tiny

    return tiny(
        customers=overrides.pop("customers", 2000),
        segment={"new_logo": kind(overrides.pop("per_year", 0.5), win=0.0), "expansion": kind(0.0)},
        reps=[
            {"role": "sdr", "count": 1, "weekly_hours": sdr_hours, "selling_share": 1.0},
            {"role": "full_cycle", "count": 1},
        ],
        relationship={"response": {"kind": "adbudg", "a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0}},
        policy={"name": "segment_tiers", "params": {"field_segments": "", "pooled_segments": "only"}},
        **overrides,
    )


def test_erlang_a_lead_left_in_the_queue_is_answered_next_week_first_come_first_served(monkeypatch):
    # About 19 leads a week and 5 hours of SDR (10 answers): the queue carries over weeks. The one server answers
    # in order of arrival (one service window: deadline order is arrival order), and no lead is
    # answered before it arrives.
    from sim.model import CoverageModel
    from sim.opportunities import OpportunityBook
    from sim.policies import make_policy

    answered: list[tuple[np.ndarray, np.ndarray]] = []
    first_responses = OpportunityBook.first_responses

    def recording(self, idx, when, *args):  # type: ignore[no-untyped-def]
        late, delay = first_responses(self, idx, when, *args)
        answered.append((self.day[idx[~late]].copy(), self.day[idx[~late]] + delay))
        return late, delay

    monkeypatch.setattr(OpportunityBook, "first_responses", recording)
    scenario = _pool_world(5.0, service={"pooled_window_days": 100.0})
    model = CoverageModel(scenario, make_policy("segment_tiers", dict(scenario.policy.params)), 2)
    model.run()
    model.release()
    arrival, when = (np.concatenate(x) for x in zip(*answered, strict=True))
    assert arrival.size > 100
    order = np.argsort(arrival, kind="stable")
    assert np.all(np.diff(when[order]) >= -1e-9)  # first come, first served
    assert np.all(when >= arrival)
    assert (when - arrival).max() > 5.0  # some waited into a later week
    week_of = np.floor(arrival / 5)
    assert np.any(np.floor(when / 5) > week_of)


def test_erlang_pooled_waits_grow_as_the_pool_shrinks_and_past_the_window_they_are_missed():
    # The small world under segment tiers, paired on common random numbers: with one inside rep
    # fewer the mid-market's first responses wait longer, every seed; with a window a tenth of a
    # business day, a queue too small for its demand misses leads as `queue_wait`.
    from sim.metrics import run_totals
    from sim.policies import make_policy
    from sim.run import run
    from tests.conftest import SMALL

    base = __import__("sim.scenario", fromlist=["load_scenario"]).load_scenario(SMALL)

    def mean_wait(inside: int, seed: int, **changes: object) -> tuple[float, float]:
        scenario = base.with_overrides("pool", **{"reps.1.count": inside, "reps.2.count": 0, **changes})
        r = run(scenario, make_policy("segment_tiers"), seed=seed)
        m = r.metrics
        waits = m[(m.metric == "response_days_mean") & (m.segment == "mid_market")].value.mean()
        t = run_totals(m)
        return float(waits), float(t[(t.segment == "all") & (t.metric == "missed_queue_wait")].value.iloc[0])

    for seed in (1, 2, 3):
        two, one = mean_wait(2, seed)[0], mean_wait(1, seed)[0]
        assert one > two > 0
    tight = {"service.pooled_window_days": 0.1}
    assert mean_wait(1, 1, **tight)[1] > mean_wait(2, 1, **tight)[1]


def test_erlang_answers_from_a_queue_are_no_conflicting_engagement():
    # Two inside closers share one queue of four accounts' leads, each lead won and worked: whoever is
    # free answers, so both work each account, yet the pool is no conflict. Routed to the two seats in
    # turn instead (each lead to a named seat), the same accounts are conflicts.
    import dataclasses as dc

    from sim.policies.protocol import Policy, queue
    from sim.policies.rules import empty_plan
    from sim.run import run
    from tests.conftest import kind, tiny

    class Pooled(Policy):
        name = "pooled_pair"

        def plan(self, view, rng):  # type: ignore[no-untyped-def]
            return dc.replace(empty_plan(view.accounts.size, 1), seat_pool=np.zeros(view.team.size, dtype=np.int64))

        def route(self, view, rng):  # type: ignore[no-untyped-def]
            return np.where(view.pending.stage == 0, queue(0), -1)

        def prioritise(self, view, rng):  # type: ignore[no-untyped-def]
            return np.ones(view.tasks.size)

    class InTurn(Pooled):
        name = "in_turn_pair"

        def route(self, view, rng):  # type: ignore[no-untyped-def]
            return np.where(view.pending.stage == 0, (view.pending.customer + view.week) % 2, -1)

    certain = 52 * 4.0  # four leads a week an account (at least one in 98% of its weeks)
    scenario = tiny(
        customers=4,
        segment={"new_logo": kind(certain, win=1.0), "expansion": kind(certain, win=1.0)},
        reps=[{"role": "inside", "count": 2}],
        digital={"enabled": False},
    )
    pooled, in_turn = (run_totals_all(run(scenario, p())) for p in (Pooled, InTurn))
    assert pooled["opps_won"] > 40 and in_turn["opps_won"] > 40
    assert pooled["conflicting_engagements"] == 0
    assert in_turn["conflicting_engagements"] == 4


def run_totals_all(result) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from sim.metrics import run_totals

    t = run_totals(result.metrics)
    return t[t.segment == "all"].set_index("metric").value.to_dict()


def test_erlang_a_pool_whose_seats_are_all_vacant_misses_its_leads_for_the_vacancy():
    # Every inside rep and SDR leaves at the start of the second quarter (no backfill within the run):
    # the mid-market's leads are missed as vacancy, not as a wait in a queue nobody answers.
    from sim.codes import Cause
    from sim.model import CoverageModel
    from sim.policies import make_policy
    from sim.scenario import load_scenario
    from tests.conftest import SMALL

    world = load_scenario(SMALL).with_overrides(
        "vacant pool",
        quarters=2,
        shocks=[
            {"kind": "rep_attrition", "quarter": 2, "share": 1.0, "role": "inside"},
            {"kind": "rep_attrition", "quarter": 2, "share": 1.0, "role": "sdr"},
        ],
        **{"workforce.backfill_weeks": 52, "workforce.attrition_per_year": 0.0},  # the shock's vacancies alone
    )
    model = CoverageModel(world, make_policy("segment_tiers"), 3)
    model.run(13)
    assert model.recorder.tally.missed[Cause.VACANCY].sum() == 0
    model.run(13)
    missed = model.recorder.tally.missed
    model.release()
    assert missed[Cause.VACANCY].sum() > 10
    assert missed[Cause.QUEUE_WAIT].sum() == 0


def test_a_route_s_first_fault_is_named_with_the_pool_at_fault():
    """``checked_route``'s checks in their order, and the pool each names: the highest queued of pools no
    seat answers; the lowest of pools no seat of which is paid on a lead queued there."""
    from types import SimpleNamespace

    from sim.errors import PolicyError
    from sim.policies.protocol import checked_route

    # Seats 0-1 answer pool 0 (seat 1 paid on new logos only: a pool of two lanes), seat 2 pool 2 (paid on new
    # logos only); seat 3 is an SDR of no pool. Lanes: lines (one line, renewals last) and kinds (new logo, expansion, renewal).
    team = SimpleNamespace(
        size=4,
        can_close=np.array([True, True, True, False]),
        lane_lines=np.ones((4, 2), dtype=bool),
        lane_kinds=np.array([[1, 1, 1], [1, 0, 0], [1, 0, 0], [1, 1, 1]], dtype=bool),
    )
    seat_pool = np.array([0, 0, 2, -1])
    awaiting, in_work = 0, 1

    def fault(handlers, stage, kind, pools=seat_pool):
        n = len(handlers)
        pending = SimpleNamespace(
            size=n, stage=np.array(stage, np.int8), line=np.zeros(n, np.int8), kind=np.array(kind, np.int8)
        )
        try:
            checked_route(np.array(handlers), pending, team, pools, "p")
        except PolicyError as e:
            return str(e).removeprefix("policy p: route() ")
        return None

    queue = lambda pool: -2 - pool  # noqa: E731
    assert fault([queue(0), queue(2), 1, 3], [awaiting, awaiting, in_work, awaiting], [1, 0, 0, 0]) is None
    # The first fault's row and seat named, as a plan's faults name the first account (a policy author's wish).
    assert fault([1, 4, queue(5)], [awaiting] * 3, [0, 0, 0]) == (
        "returned a seat outside -1..3 (the first: pending opportunity 1, seat 4)"
    )
    assert fault([queue(1), queue(3), queue(0)], [awaiting] * 3, [0, 0, 0]).startswith(
        "put an opportunity in the queue of pool 3 (-5: queue(p) is -2 - p),"
    )
    assert fault([queue(1)], [awaiting], [0], None).startswith(
        "put an opportunity in the queue of pool 1 (-3: queue(p) is -2 - p),"
    )
    assert (
        fault([queue(0), queue(2)], [awaiting, in_work], [0, 0])
        == "put a responded deal in the queue of pool 2 (-4: queue(p) is -2 - p; -1 is nobody); a closer is a seat"
    )
    assert fault([queue(0), queue(2)], [awaiting] * 2, [1, 1]) == (
        "queued for pool 2 a lead that no seat of the pool is paid on (their lanes)"
    )
    # pool 0 paid on new logos alone too: the lower of the two pools is named
    team.lane_kinds = np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 1, 1]], dtype=bool)
    assert fault([queue(2), queue(0)], [awaiting] * 2, [1, 1]).startswith("queued for pool 0 a lead that no seat")
    team.lane_kinds = np.array([[1, 1, 1], [1, 0, 0], [1, 0, 0], [1, 1, 1]], dtype=bool)
    assert fault([queue(0), 3], [awaiting, in_work], [0, 0]) == (
        "gave a deal to a seat that cannot close (an SDR) (the first: pending opportunity 1, seat 3)"
    )
    assert fault([queue(2), 3], [awaiting, in_work], [2, 0]).startswith("queued for pool 2")  # lanes come first
