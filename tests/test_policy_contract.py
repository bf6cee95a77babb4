"""The public policy contract: every built-in passes it, and it catches broken policies."""

from __future__ import annotations

import dataclasses
import sys
import time
import warnings
from typing import Annotated, Literal

import numpy as np
import pytest

from examples.nearest_rep import NearestRep
from sim.codes import Status, TaskKind
from sim.errors import InputError, PolicyError
from sim.policies import BUILT_IN, make_policy, policies_for, policy_class
from sim.policies.contract import CHECKS, _assert_kept, check_policy, parametrize_with_checks, policy_checks
from sim.policies.protocol import CoveragePlan, Policy, checked_plan, checked_touches, queue
from sim.policies.rules import empty_plan
from sim.policies.segment_tiers import SegmentTiers
from sim.policies.unstructured import Unstructured
from sim.scenario import load_scenario
from sim.strict import Field, Strict, ValidationError, model_validator
from tests.conftest import SMALL, user_module


@parametrize_with_checks([*(BUILT_IN[name] for name in sorted(BUILT_IN)), NearestRep])
def test_built_in_and_example_policies_keep_the_contract(policy, check):
    check()


class Nobody(Policy):
    """Valid but useless: nobody owns or answers anything."""

    name = "nobody"

    def plan(self, view, rng):
        return empty_plan(view.accounts.size)

    def route(self, view, rng):
        return np.full(view.pending.size, -1)

    def prioritise(self, view, rng):
        return np.ones(view.tasks.size)


class WrongShape(Nobody):
    def route(self, view, rng):
        return np.full(view.pending.size + 1, -1)


class RoutesNone(Nobody):
    def route(self, view, rng):
        return None


class TouchesTheUnowned(Nobody):
    def touches(self, view, rng):
        return np.flatnonzero(view.plan.owner < 0)[:3]


class CadenceForNobody(Nobody):
    def plan(self, view, rng):
        plan = super().plan(view, rng)
        plan.cadence[plan.owner < 0] = 1.0
        return plan


class TouchesASet(Nobody):
    def touches(self, view, rng):
        return {1, 2}


class FloatSeats(Nobody):
    def route(self, view, rng):
        return np.full(view.pending.size, -1.0)


class BadSeat(Nobody):
    def route(self, view, rng):
        return np.full(view.pending.size, view.team.size + 5)


class SdrCloses(Nobody):
    def route(self, view, rng):
        sdr = np.flatnonzero(view.team.role == "sdr")
        return np.full(view.pending.size, sdr[0])


class QueueNobodyAnswers(Nobody):
    def route(self, view, rng):
        return np.full(view.pending.size, queue(0))


class ClosersInAQueue(Nobody):
    """An SDR answers the queue; the deals it qualifies are put in the queue again, to wait for a closer."""

    def plan(self, view, rng):
        seat_pool = np.where(view.team.role == "sdr", 0, -1)
        return dataclasses.replace(super().plan(view, rng), seat_pool=seat_pool)

    def route(self, view, rng):
        return np.full(view.pending.size, queue(0))


class BadSeatPool(Nobody):
    def plan(self, view, rng):
        return dataclasses.replace(super().plan(view, rng), seat_pool=np.zeros(view.team.size + 1, dtype=np.int64))


class TouchesNowhere(Nobody):
    def touches(self, view, rng):
        return np.array([view.accounts.size])  # one past the last account


class SpecialistNobodyKeeps(Nobody):
    """Offers a specialist's touch in a world with one product line and no specialists."""

    def specialist_touches(self, view, rng):
        return np.array([[0, 0]])


class Mutates(Nobody):
    def plan(self, view, rng):
        potential = view.accounts.potential
        potential.flags.writeable = True  # works around the read-only view on purpose
        potential *= 2
        return super().plan(view, rng)


class WritesReadOnly(Nobody):
    def prioritise(self, view, rng):
        view.tasks.cost[:] = 0
        return np.ones(view.tasks.size)


class BadPlan(Nobody):
    def plan(self, view, rng):
        plan = super().plan(view, rng)
        return CoveragePlan(plan.owner, np.full(view.accounts.size, 7), plan.cadence, plan.coordinated)


class NoPriorities(Nobody):
    def prioritise(self, view, rng):
        return np.ones(view.tasks.size + 2)


class NanPriorities(Unstructured):
    """0 / 0 where a value was meant: every priority NaN (on a policy that answers leads, so there are tasks)."""

    name = "nan_priorities"

    def prioritise(self, view, rng):
        return np.zeros(view.tasks.size) / np.zeros(view.tasks.size)


class InfinitePriorities(Unstructured):
    """A value over no hours where a finite priority was meant: deal work at +inf, the rest as the built-in."""

    name = "infinite_priorities"

    def prioritise(self, view, rng):
        priority = super().prioritise(view, rng)
        return np.where(view.tasks.kind == TaskKind.WORK, np.inf, priority)


class DeclinesWithMinusInf(Unstructured):
    """-inf is 0 or less: a way to decline (here every deal's work), accepted."""

    name = "declines_with_minus_inf"

    def prioritise(self, view, rng):
        priority = super().prioritise(view, rng)
        return np.where(view.tasks.kind == TaskKind.WORK, -np.inf, priority)


class QueueBelowAny(Unstructured):
    """The smallest int64 as a handler: an array sized by its queue's pool, -2 - h, asked for exabytes."""

    name = "queue_below_any"

    def route(self, view, rng):
        return np.full(view.pending.size, np.iinfo(np.int64).min)


class WrappingSeat(Unstructured):
    """2**64 - 1 as an unsigned seat: cast to int64, it read as -1 (no handler) without a word."""

    name = "wrapping_seat"

    def route(self, view, rng):
        return np.full(view.pending.size, np.iinfo(np.uint64).max, dtype=np.uint64)


class Unbuildable(Nobody):
    def __init__(self):
        raise RuntimeError("needs a licence key")


class CountsCalls(Nobody):
    """Deterministic, but keeps a counter between calls."""

    def __init__(self, **params):
        super().__init__(**params)
        self.calls = 0

    def route(self, view, rng):
        self.calls += 1
        closers = np.flatnonzero(view.team.can_close & view.team.filled)
        return np.full(view.pending.size, closers[0] if self.calls % 2 and closers.size else -1)


class UsesGlobalRandom(Nobody):
    def route(self, view, rng):
        closers = np.flatnonzero(view.team.can_close)
        return np.random.default_rng().choice(closers, size=view.pending.size)


class ClockSeeded(Nobody):
    """Draws its own generator from the clock."""

    def route(self, view, rng):
        closers = np.flatnonzero(view.team.can_close & view.team.filled)
        own = np.random.default_rng(time.time_ns())
        return own.choice(closers, size=view.pending.size) if closers.size else np.full(view.pending.size, -1)


class SetOrder(Nobody):
    """Deals its leads in the order of a set of strings: an order that follows the process's hash seed."""

    def route(self, view, rng):
        closers = np.flatnonzero(view.team.can_close & view.team.filled)
        if not closers.size:
            return np.full(view.pending.size, -1)
        # Many strings, so that two hash seeds all but never give one order.
        order = [int(name[5:]) for name in {f"lead-{i}" for i in range(view.pending.size)}]
        handler = np.empty(view.pending.size, dtype=np.int64)
        handler[order] = closers[np.arange(len(order)) % closers.size]
        return handler


class FailsInQuarterTwo(Nobody):
    def plan(self, view, rng):
        if view.quarter >= 2:
            raise RuntimeError("no plan for a second quarter")
        return super().plan(view, rng)


class DropsChurned(Nobody):
    """Plans only the accounts still live: one entry short per churned account."""

    def plan(self, view, rng):
        plan = super().plan(view, rng)
        live = view.accounts.status != Status.CHURNED
        return CoveragePlan(plan.owner[live], plan.service[live], plan.cadence[live], plan.coordinated[live])


def test_a_useless_but_valid_policy_passes():
    assert check_policy(Nobody) == []


def test_minus_inf_declines_a_task_and_passes():
    assert check_policy(DeclinesWithMinusInf) == []


@pytest.mark.parametrize(
    ("cls", "failing", "expected", "also"),
    [
        (WrongShape, "check_route_valid", "route() returned shape", ()),
        # Not "returned shape ()", "got 0-d object": what a policy returned, said as Python names it.
        (RoutesNone, "check_route_valid", "route() returned NoneType None, expected shape (", ()),
        (
            TouchesASet,
            "check_touches_valid",
            "touches() must return a 1-d array of account indices, got set {1, 2}",
            (),
        ),
        (BadSeat, "check_route_valid", "seat outside", ()),
        (FloatSeats, "check_route_valid", "route() must return integer seat indices, got dtype float64", ()),
        (
            QueueBelowAny,
            "check_route_valid",
            "queue of pool 9223372036854775806 (-9223372036854775808: queue(p) is -2 - p), which no seat answers",
            (),
        ),
        (WrappingSeat, "check_route_valid", "returned 18446744073709551615, which is no seat index", ()),
        (SdrCloses, "check_route_valid", "cannot close", ()),
        (QueueNobodyAnswers, "check_route_valid", "which no seat answers", ()),
        (
            ClosersInAQueue,
            "check_route_valid",
            "put a responded deal in the queue of pool 0 (-2: queue(p) is -2 - p; -1 is nobody)",
            (),
        ),
        (BadSeatPool, "check_plan_valid", "plan.seat_pool has shape", ()),
        (TouchesNowhere, "check_touches_valid", "touches() returned an account outside", ()),
        (
            SpecialistNobodyKeeps,
            "check_touches_valid",
            "specialist_touches() offered 1 touch of (account, line) cells with no specialist in the plan",
            (),
        ),
        (BadPlan, "check_plan_valid", "plan.service must be", ()),
        (CadenceForNobody, "check_plan_valid", "plan.cadence promises 5000 accounts with no owner touches", ()),
        (NoPriorities, "check_priorities_valid", "prioritise() returned shape", ()),
        (NanPriorities, "check_priorities_valid", "prioritise() returned NaN for", ()),
        (InfinitePriorities, "check_priorities_valid", "prioritise() returned +inf for", ()),
        # Its view's arrays cannot be made writeable again: the run stops, naming why.
        (Mutates, "check_runs", "cannot set WRITEABLE flag to True of this array", ()),
        (
            WritesReadOnly,
            "check_runs",
            "read-only (every array a policy is shown is read-only: change a copy of it, as np.array(...) makes)",
            (),
        ),
        (UsesGlobalRandom, "check_deterministic_call", "route() is not deterministic", ("check_deterministic_run",)),
        (Unbuildable, "check_constructs", "cannot construct", ()),
        (
            ClockSeeded,
            "check_deterministic_run",
            "draws on something besides its generator",
            ("check_deterministic_call",),
        ),
        (SetOrder, "check_deterministic_run", "draws on something besides its generator", ()),
        (FailsInQuarterTwo, "check_runs", "RuntimeError: no plan for a second quarter", ()),
        (DropsChurned, "check_plan_valid", "plan.owner has shape", ()),
    ],
)
def test_each_broken_policy_fails_its_named_check(cls, failing, expected, also):
    results = {name: check() for name, check in policy_checks(cls)}
    assert set(results) == set(CHECKS)
    assert any(expected in p for p in results[failing]), results
    assert {name for name, problems in results.items() if problems} == {failing, *also}
    again = check_policy(cls)
    assert any(expected in p for p in again), again


def test_a_view_that_could_be_made_writeable_again_would_be_caught_changed(monkeypatch):
    # A view's arrays lend their memory through a read-only buffer, so Mutates cannot write them at all. Where
    # the buffer protocol has no format for a dtype, read_only falls back to a plain read-only view, which a
    # policy can make writeable: then check_view_unchanged catches the change (and the run it changes).
    import sim.policies.read_only as lending

    def no_buffer(_: object) -> memoryview:
        raise TypeError("no buffer format")

    monkeypatch.setattr(lending, "memoryview", no_buffer, raising=False)
    results = {name: check() for name, check in policy_checks(Mutates)}
    assert any("plan() changed its view: accounts.potential" in p for p in results["check_view_unchanged"]), results
    assert {name for name, problems in results.items() if problems} == {
        "check_view_unchanged",
        "check_deterministic_run",
    }


def test_a_view_array_cannot_be_made_writeable_again() -> None:
    from sim.policies.read_only import read_only

    engine = np.arange(5.0)
    view = read_only(engine)
    for write in (lambda: view.__setitem__(0, 9.0), lambda: view.setflags(write=True)):
        with pytest.raises(ValueError):
            write()
    assert np.shares_memory(view, engine) and view.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_a_check_failure_names_the_policy_and_the_check():
    [check] = [c for name, c in policy_checks(BadSeat) if name == "check_route_valid"]
    with pytest.raises(AssertionError, match="BadSeat fails check_route_valid: policy BadSeat: route"):
        _assert_kept("BadSeat", "check_route_valid", check)


def test_capacity_check_reads_the_hours_each_seat_worked(monkeypatch):
    # The engine spends the hours, so no policy can break capacity: break the engine instead.
    import sim.model
    from sim.allocation import Allocation

    def everything_accepted(rep, cost, priority, capacity, release=None, queues=None):
        n = rep.size
        seat = np.maximum(rep, 0)  # a queue task, if any, to the first seat
        return Allocation(np.ones(n, dtype=bool), np.zeros(n), np.zeros(n, dtype=bool), seat)

    monkeypatch.setattr(sim.model, "allocate_hours", everything_accepted)
    [problems] = [check() for name, check in policy_checks(BUILT_IN["segment_tiers"]) if name == "check_capacity"]
    assert problems and "more than its capacity" in problems[0]


def test_a_policy_that_keeps_state_deterministically_passes():
    assert check_policy(CountsCalls) == []


def test_user_policy_by_import_path_and_unknown_names():
    assert policy_class("examples.nearest_rep:NearestRep") is NearestRep
    with pytest.raises(InputError, match="unknown policy 'nope'"):
        policy_class("nope")
    with pytest.raises(InputError, match="cannot import 'no_such_module'"):
        policy_class("no_such_module:X")
    with pytest.raises(InputError, match="not a subclass"):
        policy_class("sim.scenario:Scenario")


def test_a_policy_name_that_cannot_label_results_is_refused_in_one_line(tmp_path, monkeypatch):
    # A name with spaces reached the experiment's label check as a raw ValidationError.
    user_module(
        tmp_path,
        monkeypatch,
        "spaced",
        ("from sim.policies.segment_tiers import SegmentTiers\nclass Mine(SegmentTiers):\n    name = 'tiers (mine)'\n"),
    )
    with pytest.raises(InputError) as e:
        policy_class("spaced:Mine", where="--policy")
    assert e.value.problems == [
        "--policy: 'spaced:Mine': name 'tiers (mine)' may hold only letters, digits, _, - and . (it labels results)"
    ]


def test_a_policy_error_of_the_policy_s_own_is_named_with_the_policy():
    from sim.errors import PolicyError
    from sim.policies.protocol import ask

    class Strict(Nobody):
        name = "strict"

        def route(self, view, rng):
            raise PolicyError("policy weights must sum to 1")  # its own words, not a name

    line = Strict.route.__code__.co_firstlineno + 1
    at = rf" \(at tests/test_policy_contract\.py line {line}, in route\)"
    with pytest.raises(PolicyError, match=rf"^policy strict: route\(\): policy weights must sum to 1{at}$"):
        ask(Strict(), "route", None, np.random.default_rng(0))


def test_policy_parameters_are_validated_and_shown():
    p = make_policy("segment_tiers", {"accounts_per_rep": 25})
    assert "accounts_per_rep=25" in repr(p)
    with pytest.raises(InputError) as e:
        make_policy("segment_tiers", {"accounts_per_rep": "25", "colour": "red"})
    assert e.value.problems == [
        "policy.params.accounts_per_rep: Input should be a valid integer, not '25'",
        "policy.params.colour: unknown parameter",
    ]


def test_a_default_that_breaks_its_own_rule_is_refused_when_the_policy_is_built_in_python():
    # The command line refused the class (policy_class); built in Python it ran with the default unchecked.
    class Reach(Strict):
        cadence: Annotated[float, Field(le=13.0)] = 20.0
        top_n: int  # no default: the caller's to give, not a fault of the defaults

    class Eager(Unstructured):
        Params = Reach

    with pytest.raises(ValidationError) as e:
        Eager(top_n=3)
    assert e.value.problems == [(("cadence",), "Input should be less than or equal to 13, not 20.0")]
    assert "the defaults of" in str(e.value)
    with pytest.raises(ValidationError):  # every time, not only the first
        Eager(top_n=3, cadence=4.0)

    class Fine(Strict):
        cadence: Annotated[float, Field(le=13.0)] = 6.0
        top_n: int

    class Steady(Unstructured):
        Params = Fine

    assert Steady(top_n=3).params.cadence == 6.0

    # A model check that needs the caller's parameter does not see the defaults alone (it raised KeyError).
    class Checked(Strict):
        top_n: int
        cadence: Annotated[float, Field(le=13.0)] = 6.0

        @model_validator(mode="before")
        @classmethod
        def needs_top_n(cls, data):
            if data["top_n"] < 1:
                raise ValueError("top_n must be at least 1")
            return data

    class Careful(Unstructured):
        Params = Checked

    assert Careful(top_n=3).params.top_n == 3


def test_a_nested_default_that_breaks_its_rule_is_refused_in_python_and_on_the_command_line(tmp_path, monkeypatch):
    # A nested model's default instance was taken as it was, unchecked, by both.
    user_module(
        tmp_path,
        monkeypatch,
        "nested_default",
        (
            "from typing import Annotated\nfrom sim.policies.unstructured import Unstructured\n"
            "from sim.strict import Field, Strict\n"
            "class Tier(Strict):\n    share: Annotated[float, Field(le=1.0)] = 2.0\n"
            "class Q(Strict):\n    tier: Tier = Tier()\n"
            "class P(Unstructured):\n    Params = Q\n"
        ),
    )
    with pytest.raises(InputError) as e:
        policy_class("nested_default:P")
    assert e.value.problems == [
        "policy.name: 'nested_default:P': the defaults of its Params are invalid: tier.share: Input should be less "
        "than or equal to 1, not 2.0"
    ]
    cls = __import__("nested_default").P
    with pytest.raises(ValidationError, match=r"tier\.share: Input should be less than or equal to 1, not 2.0"):
        cls()
    with pytest.raises(InputError) as e:  # not "--param tier.share": no parameter was given
        cls.from_config({}, "--param")
    assert e.value.problems == [
        "--param: policy 'P': the defaults of its Params are invalid: tier.share: Input should be less than or equal "
        "to 1, not 2.0"
    ]


def test_policies_for_a_run_share_out_the_command_line_params(small):
    scenario = small.with_overrides(policy={"name": "segment_tiers", "params": {"accounts_per_rep": 25}})
    # Without --param the scenario's policy keeps its file's parameters; another takes its defaults.
    tiers, unstructured = policies_for(["segment_tiers", "unstructured"], {}, scenario, "s.toml")
    assert tiers.params.accounts_per_rep == 25
    assert unstructured.params == Unstructured.Params()
    assert [p.name for p in policies_for([], {}, scenario, "s.toml")] == ["segment_tiers"]
    # Each --param goes to the policies that have it; the scenario's policy keeps the file's others.
    unstructured, hunter = policies_for(["unstructured", "hunter_farmer"], {"hunter_share": 0.5}, scenario, "s.toml")
    assert hunter.params.hunter_share == 0.5 and unstructured.params == Unstructured.Params()
    (tiers,) = policies_for([], {"cadence_a": 2.0}, scenario, "s.toml")
    assert tiers.params.cadence_a == 2.0 and tiers.params.accounts_per_rep == 25
    (tiers,) = policies_for([], {"accounts_per_rep": 30}, scenario, "s.toml")
    assert tiers.params.accounts_per_rep == 30 and tiers.params.cadence_a == SegmentTiers.Params().cadence_a


@pytest.mark.parametrize(
    ("names", "params", "problems"),
    [
        (
            ["unstructured", "hunter_farmer"],
            {"colour": 1},
            ["--param colour: none of the policies (unstructured, hunter_farmer) has this parameter"],
        ),
        (
            ["segment_tiers"],
            {"accounts_per_rep": -1, "shoe": 9},
            [
                "--param accounts_per_rep: Input should be greater than or equal to 0, not -1",
                "--param shoe: segment_tiers has no such parameter",
            ],
        ),
        (
            ["segment_tiers", "territories"],
            {"handoff": "lukewarm", "cadenze": 2},
            [
                # Both refuse it: one line, naming them.
                "--param handoff: Input should be 'cold' or 'warm', not 'lukewarm' (policies segment_tiers and "
                "territories)",
                "--param cadenze: none of the policies (segment_tiers, territories) has this parameter "
                "(did you mean 'cadence'?)",
            ],
        ),
        (
            # One of two refuses it: which one (a policy writer's --param cadence=20 named neither).
            ["segment_tiers", "pooled"],
            {"accounts_per_rep": -1},
            ["--param accounts_per_rep: Input should be greater than or equal to 0, not -1 (policy segment_tiers)"],
        ),
        (
            ["nope"],
            {"notice": 0.5},
            [
                "--policy: unknown policy 'nope' (built-in: hunter_farmer, named_accounts, overlay, pooled, random_books, segment_tiers, territories, unstructured, value_based; or package.module:ClassName)"
            ],
        ),
        (
            ["nope"],
            {},
            [
                "--policy: unknown policy 'nope' (built-in: hunter_farmer, named_accounts, overlay, pooled, random_books, segment_tiers, territories, unstructured, value_based; or package.module:ClassName)"
            ],
        ),
    ],
)
def test_policies_for_a_run_name_the_bad_option(small, names, params, problems):
    with pytest.raises(InputError) as e:
        policies_for(names, params, small, "s.toml")
    assert e.value.problems == problems


def test_policies_for_a_run_name_the_scenario_file_for_its_policy(small):
    scenario = small.with_overrides(policy={"name": "segment_tiers", "params": {"shoe": 9}})
    with pytest.raises(InputError) as e:
        policies_for([], {}, scenario, "s.toml")
    assert e.value.problems == ["s.toml: policy.params.shoe: unknown parameter"]


def _plan(**changes: np.ndarray) -> CoveragePlan:
    n = 4
    fields = {
        "owner": np.array([0, 1, -1, -1]),
        "service": np.array([2, 2, 1, 0], dtype=np.int8),
        "cadence": np.array([2.0, 1.0, 0.0, 0.0]),
        "coordinated": np.zeros(n, bool),
    }
    return CoveragePlan(**(fields | changes))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("owner", np.array([0.0, 1.7, -1.0, -1.0]), "plan.owner must hold integer seat indices, got dtype float64"),
        (
            "service",
            np.array([2, 2, 1, 257]),
            "plan.service must be 0 (digital), 1 (pooled) or 2 (high touch) (the first: account 3, 257)",
        ),
        ("service", np.array([2.0, 2.0, 1.9, 0.0]), "plan.service must hold integer service levels, got dtype float64"),
        ("coordinated", np.array([0, 0, 0, 1]), "plan.coordinated must hold booleans, got dtype int64"),
        ("cadence", np.array([True, False, False, False]), "plan.cadence must hold numbers, got dtype bool"),
    ],
)
def test_a_plan_value_a_cast_would_silently_change_is_refused(field, value, message):
    assert checked_plan(_plan(), 4, 2, "p").owner.tolist() == [0, 1, -1, -1]  # the valid plan passes
    with pytest.raises(PolicyError) as e:
        checked_plan(_plan(**{field: value}), 4, 2, "p")
    assert str(e.value) == f"policy p: {message}"


#: What a cadence out of range is told.
CADENCE = "plan.cadence must be from 0 to 13 (touches a quarter, at most one a week)"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("owner", np.array([0, 2, -1, -1]), "plan.owner holds a seat outside -1..1"),
        ("owner", np.array([0, 1, -2, -1]), "plan.owner holds a seat outside -1..1"),
        ("owner", np.array([0, 1, -2, -1], dtype=np.int32), "plan.owner holds a seat outside -1..1"),
        (
            "service",
            np.array([2, 3, 1, 0], dtype=np.int8),
            "plan.service must be 0 (digital), 1 (pooled) or 2 (high touch)",
        ),
        (
            "service",
            np.array([2, -1, 1, 0], dtype=np.int8),
            "plan.service must be 0 (digital), 1 (pooled) or 2 (high touch)",
        ),
        ("cadence", np.array([2.0, np.nan, 0.0, 0.0]), CADENCE),
        ("cadence", np.array([2.0, np.inf, 0.0, 0.0]), CADENCE),
        ("cadence", np.array([2.0, -0.5, 0.0, 0.0]), CADENCE),
        ("cadence", np.array([2, -1, 0, 0]), CADENCE),
        # A cadence of weekly touches a year (52) would have been kept as 13, one a week, unsaid.
        ("cadence", np.array([2.0, 52.0, 0.0, 0.0]), CADENCE),
        ("cadence", np.array([2, 14, 0, 0]), CADENCE),
        (
            "coordinated",
            np.array([False, False, True, False]),
            "plan.coordinated marks 1 account with no owner and no specialist (the first: account 2)",
        ),
        ("owner", np.array([0, 2, 1, 1], dtype=np.int32), "plan.owner holds a seat outside -1..1"),
        ("owner", np.array([0, 2, 1, 1], dtype=np.uint64), "plan.owner holds a seat outside -1..1"),
        ("cadence", np.array([2.0, np.nan, 0.0, 0.0], dtype=np.float32), CADENCE),
        ("cadence", np.array([2.0, np.inf, 0.0, 0.0], dtype=np.float32), CADENCE),
    ],
)
@pytest.mark.parametrize("layout", ["as given", "read-only", "strided"])
def test_a_plan_value_out_of_range_is_refused_whatever_its_dtype(field, value, message, layout):
    if layout == "strided":
        value = np.repeat(value, 2)[::2]
    elif layout == "read-only":
        value = value.copy()
        value.flags.writeable = False
    with pytest.raises(PolicyError) as e:
        checked_plan(_plan(**{field: value}), 4, 2, "p")
    assert str(e.value).startswith(f"policy p: {message}")


def test_a_plan_value_out_of_range_names_the_first_account_and_its_value():
    # A territory planner's "plan.owner holds a seat outside -1..4" named no account to look at.
    for field, value, said in (
        ("owner", np.array([0, 1, -2, 7]), "plan.owner holds a seat outside -1..1 (the first: account 2, -2)"),
        ("service", np.array([2, 2, 1, 257]), "or 2 (high touch) (the first: account 3, 257)"),
        (
            "cadence",
            np.array([2.0, 1.0, np.nan, -1.0]),
            "plan.cadence must be from 0 to 13 (touches a quarter, at most one a week) (the first: account 2, nan)",
        ),
    ):
        with pytest.raises(PolicyError) as e:
            checked_plan(_plan(**{field: value}), 4, 2, "p")
        assert str(e.value).endswith(said), str(e.value)
    # One account promised a cadence with no owner is one account.
    with pytest.raises(PolicyError, match=r"promises 1 account with no owner touches \(the first: account 3\)"):
        checked_plan(_plan(cadence=np.array([2.0, 1.0, 0.0, 1.0])), 4, 2, "p")


@pytest.mark.parametrize("layout", ["read-only", "strided"])
def test_a_plan_of_read_only_or_strided_arrays_is_copied_as_given(layout):
    fields = {"owner": np.array([0, 1, 0, -1]), "cadence": np.array([2.0, 1.0, 0.5, 0.0])}
    if layout == "strided":
        fields = {k: np.repeat(v, 2)[::2] for k, v in fields.items()}
    else:
        for v in fields.values():
            v.flags.writeable = False
    checked = checked_plan(_plan(**fields), 4, 2, "p")
    assert checked.owner.tolist() == [0, 1, 0, -1] and checked.cadence.tolist() == [2.0, 1.0, 0.5, 0.0]
    assert checked.owner.flags.c_contiguous and checked.owner.flags.writeable


def test_unsigned_seats_are_checked_not_refused_by_an_overflow():
    plan = _plan(owner=np.array([0, 1, 1, 0], dtype=np.uint8))
    assert checked_plan(plan, 4, 2, "p").owner.tolist() == [0, 1, 1, 0]
    with_specialists = dataclasses.replace(plan, specialist=np.ones((4, 3), dtype=np.uint16))
    assert checked_plan(with_specialists, 4, 2, "p", 3).specialist.tolist() == [[1, 1, 1]] * 4
    with pytest.raises(PolicyError, match=r"plan\.specialist holds a seat outside -1\.\.1"):
        checked_plan(dataclasses.replace(plan, specialist=np.full((4, 3), 2, dtype=np.uint16)), 4, 2, "p", 3)


def test_a_plan_s_checks_copy_the_values_and_name_the_first_fault_in_field_order():
    plan = _plan(
        owner=np.array([0, 1, 0, -1]),
        cadence=np.array([2.0, 1.0, 0.5, 0.0]),
        coordinated=np.array([True, False, False, False]),
    )
    checked = checked_plan(plan, 4, 2, "p")
    assert checked.cadence.tolist() == [2.0, 1.0, 0.5, 0.0] and checked.coordinated.tolist() == [1, 0, 0, 0]
    assert checked.owner.dtype == np.int64 and checked.service.dtype == np.int8
    plan.owner[0] = 1  # the policy's arrays are not the plan in force
    assert checked.owner[0] == 0
    # An owner and a cadence out of range, a service too: the owner is named (the fields' order), then the service.
    bad = {"owner": np.array([5, 1, -1, -1]), "cadence": np.array([-1.0, 0, 0, 0]), "service": np.array([9, 2, 1, 0])}
    with pytest.raises(PolicyError, match=r"plan\.owner holds"):
        checked_plan(_plan(**bad), 4, 2, "p")
    with pytest.raises(PolicyError, match=r"plan\.service must be"):
        checked_plan(_plan(**(bad | {"owner": np.array([0, 1, -1, -1])})), 4, 2, "p")
    # A cadence out of range is named after every field's shape and kind: here the coordinated flags' kind.
    with pytest.raises(PolicyError, match=r"plan\.coordinated must hold booleans"):
        checked_plan(_plan(cadence=np.array([-1.0, 0, 0, 0]), coordinated=np.array([0, 0, 0, 1])), 4, 2, "p")


def test_a_mistyped_parameter_is_refused_with_the_closest_name():
    from sim.strict import Strict

    class ReachParams(Strict):
        reach: float = 1.0

    class Lax(Unstructured):
        name = "lax"
        Params = ReachParams

    with pytest.raises(InputError) as e:
        Lax.from_config({"raech": 2.0}, "--policy.params")
    assert e.value.problems == ["--policy.params.raech: unknown parameter (did you mean 'reach'?)"]
    with pytest.raises(InputError) as e:
        make_policy("hunter_farmer", {"huntr_share": 0.5, "zzz": 1}, where="--policy")
    assert e.value.problems == [
        "--policy.params.huntr_share: unknown parameter (did you mean 'hunter_share'?)",
        "--policy.params.zzz: unknown parameter",
    ]


def test_two_policies_of_one_name_are_refused_not_merged(tmp_path, monkeypatch):
    user_module(
        tmp_path,
        monkeypatch,
        "twin_policies",
        (
            "from sim.policies.unstructured import Unstructured\n\n"
            "class A(Unstructured):\n    name = 'mine'\n\n"
            "class B(Unstructured):\n    name = 'mine'\n"
        ),
    )
    scenario = load_scenario(SMALL)
    with pytest.raises(InputError) as e:
        policies_for(("twin_policies:A", "twin_policies:B"), {}, scenario, "small.toml")
    assert e.value.problems == [
        "--policy: twin_policies:A and twin_policies:B are both named 'mine'; give each policy class its own `name`"
    ]


def test_a_policy_class_that_implements_nothing_is_refused_by_name():
    with pytest.raises(InputError) as e:
        policy_class("sim.policies:Policy", "--policy.name")
    assert e.value.problems == [
        "--policy.name: 'sim.policies:Policy' does not implement plan, route, prioritise (a policy must write all three)"
    ]


class PrioritiesInWords(SegmentTiers):
    name = "priorities_in_words"

    def prioritise(self, view, rng):
        return np.array(["high"] * view.tasks.size)


class OwnInit(SegmentTiers):
    name = "own_init"

    def __init__(self, **params):  # forgets super().__init__
        self.books = "keep"


class ProblemsInOneString(SegmentTiers):
    name = "problems_in_one_string"

    def problems(self, scenario):
        return "top_n: too big"


class ProblemNotAboutAParameter(SegmentTiers):
    name = "free_text"

    def problems(self, scenario):
        return ["the scenario has too few accounts"]


def test_a_user_s_mistakes_are_named_as_the_user_s_not_covsim_s() -> None:
    # A new user's trial: each of these ended in "covsim failed unexpectedly" (exit 1) or garbled lines.
    from sim.run import run

    small = load_scenario(SMALL)
    with pytest.raises(PolicyError, match=r"policy priorities_in_words: prioritise\(\) must return numbers, not <U4"):
        run(small, PrioritiesInWords(), 1, quarters=1)
    with pytest.raises(InputError) as e:
        OwnInit.from_config({}, "--policy")
    assert e.value.problems == [
        "--policy: building policy 'own_init': its __init__ set no params (call super().__init__(**params) in it)"
    ]
    with pytest.raises(InputError) as e:
        make_policy(f"{__name__}:ProblemsInOneString", {}, "--policy", small)
    assert e.value.problems == [
        "--policy: policy problems_in_one_string: problems() must return a list of strings, not 'top_n: too big'"
    ]
    with pytest.raises(InputError) as e:
        make_policy(f"{__name__}:ProblemNotAboutAParameter", {}, "--policy", small)
    assert e.value.problems == ["--policy: policy free_text: the scenario has too few accounts"]


class NumberedName(SegmentTiers):
    name = 42  # type: ignore[assignment]


def test_a_name_that_is_not_text_is_refused_in_one_line() -> None:
    with pytest.raises(InputError, match="name 42 may hold only letters"):
        policy_class(f"{__name__}:NumberedName", "--policy")


class UntypedParams(SegmentTiers):
    name = "untyped_params"

    class Params(SegmentTiers.Params):
        top_n = 50  # no type: pydantic leaves it out of the fields


def test_a_parameter_declared_without_a_type_is_refused_not_dropped() -> None:
    # A new user's top_n ran as no parameter at all, and --param top_n=50 was refused as unknown.
    with pytest.raises(InputError) as e:
        policy_class(f"{__name__}:UntypedParams", "--policy")
    assert e.value.problems == [
        f"--policy: '{__name__}:UntypedParams': Params.top_n has no type, so it is no parameter (write top_n: int = "
        "..., say)"
    ]


@pytest.mark.parametrize(
    "answer, message",
    [
        (np.zeros(10, dtype=bool), "touches() returned a mask; return account indices (np.flatnonzero(mask))"),
        (np.array([1.0, 2.0]), "touches() must return a 1-d array of account indices, got 1-d float64"),
        (np.array([[1, 2]]), "touches() must return a 1-d array of account indices, got 2-d int64"),
    ],
)
def test_a_touches_answer_that_is_not_indices_says_what_it_was(answer, message):
    with pytest.raises(PolicyError) as e:
        checked_touches(answer, np.zeros(10, dtype=np.int64), "mine")
    assert str(e.value) == f"policy mine: {message}"


def test_touches_given_twice_are_one_offer_each():
    assert checked_touches(np.array([4, 1, 4]), np.zeros(10, dtype=np.int64), "mine").tolist() == [1, 4]


def test_a_touch_of_an_account_with_no_owner_is_refused_not_dropped():
    # A touch is its owner's task: a policy writer's touches of pooled accounts were dropped without a word, and
    # check_policy said the contract was kept.
    owner = np.array([0, -1, 2, -1, 1])
    assert checked_touches(np.array([4, 0]), owner, "mine").tolist() == [0, 4]
    with pytest.raises(PolicyError) as e:
        checked_touches(np.array([0, 3, 1]), owner, "mine")
    assert str(e.value) == (
        "policy mine: touches() offered 2 touches of accounts with no owner in the plan (the first: account 3); a "
        "touch is its owner's task: offer only accounts with view.plan.owner >= 0"
    )
    assert check_policy(TouchesTheUnowned) == [
        "policy TouchesTheUnowned: touches() offered 3 touches of accounts with no owner in the plan (the first: "
        "account 0); a touch is its owner's task: offer only accounts with view.plan.owner >= 0"
    ]


@pytest.mark.parametrize(
    "name, line",
    [
        (
            "nearest_rep.py:NearestRep",
            "'nearest_rep.py:NearestRep' names a file; name its module, from the folder "
            "covsim runs in: nearest_rep:NearestRep",
        ),
        (
            "./examples/nearest_rep.py:NearestRep",
            "'./examples/nearest_rep.py:NearestRep' names a file; name its "
            "module, from the folder covsim runs in: examples.nearest_rep:NearestRep",
        ),
        (
            "examples.nearest_rep.NearestRep",
            "unknown policy 'examples.nearest_rep.NearestRep' (did you mean "
            "examples.nearest_rep:NearestRep?) (built-in: hunter_farmer, named_accounts, overlay, pooled, random_books, "
            "segment_tiers, territories, unstructured, value_based; or package.module:ClassName)",
        ),
        ("examples.nearest_rep:nearestrep", "'examples.nearest_rep' has no 'nearestrep' (did you mean 'NearestRep'?)"),
        # Nothing close: the policies the module defines (not those it imports).
        ("examples.nearest_rep:Nope", "'examples.nearest_rep' has no 'Nope' (its policies: NearestRep)"),
        (
            "examples.nearest_rep",
            "unknown policy 'examples.nearest_rep' (examples.nearest_rep is a module: name its policy class, "
            "examples.nearest_rep:ClassName) (built-in: hunter_farmer, named_accounts, overlay, pooled, random_books, "
            "segment_tiers, territories, unstructured, value_based; or package.module:ClassName)",
        ),
        (
            "/home/me/policies/farmer.py:Farmer",
            "'/home/me/policies/farmer.py:Farmer' names a file; run covsim from /home/me/policies and name it "
            "farmer:Farmer",
        ),
        # It read "cannot import 'segment_tiers': No module named 'segment_tiers'".
        (
            "segment_tiers:accounts_per_rep=50",
            "'segment_tiers:accounts_per_rep=50': a policy's parameters are given apart from its name: --param "
            "accounts_per_rep=50 on the command line, params in a file",
        ),
        ("pooled:Pooled", "'pooled:Pooled': a built-in policy is named alone: pooled"),  # no module pooled here
    ],
)
def test_a_policy_path_written_as_a_file_or_with_a_dot_or_in_the_wrong_case_says_what_to_write(name, line):
    with pytest.raises(InputError) as e:
        policy_class(name, "--policy")
    assert e.value.problems == [f"--policy: {line}"]


def test_a_built_in_s_subclass_whose_params_drop_the_built_in_s_says_which_to_extend(tmp_path, monkeypatch, small):
    # It read "problems() raised AttributeError: 'MyParams' object has no attribute 'field_segments'", blaming a
    # method the user never wrote.
    user_module(
        tmp_path,
        monkeypatch,
        "narrow_params",
        (
            "from sim.policies.segment_tiers import SegmentTiers\nfrom sim.strict import Strict\n"
            "class MyParams(Strict):\n    weeks_ahead: int = 4\n"
            "class Farm(SegmentTiers):\n    name = 'farm'\n    Params = MyParams\n"
        ),
    )
    hint = (
        "'MyParams' object has no attribute 'field_segments' (its Params lacks field_segments, which SegmentTiers, "
        "that it extends, reads: declare its Params as a subclass of SegmentTiersParams)"
    )
    with pytest.raises(InputError) as e:
        make_policy("narrow_params:Farm", {}, "--policy", small)
    assert e.value.problems == [f"--policy: policy farm: problems() raised AttributeError: {hint}"]
    from sim.model import CoverageModel

    model = CoverageModel(small, make_policy("narrow_params:Farm"), 1)
    with pytest.raises(PolicyError) as run_error:
        model.step()
    model.release()
    assert f"policy farm: plan() raised AttributeError: {hint}" in str(run_error.value)


def test_a_mistyped_attribute_of_a_view_is_said_with_the_name_it_most_resembles(tmp_path, monkeypatch, small):
    # "route() raised AttributeError: 'Pending' object has no attribute 'custmer'", with no word of 'customer'
    # (Python suggests it only in a traceback, which the command line does not show).
    user_module(
        tmp_path,
        monkeypatch,
        "typo_policy",
        (
            "import numpy as np\nfrom sim.policies.segment_tiers import SegmentTiers\n"
            "class Typo(SegmentTiers):\n    name = 'typo'\n"
            "    def route(self, view, rng):\n        return view.plan.owner[view.pending.custmer]\n"
            "class Raises(SegmentTiers):\n    name = 'raises'\n"
            "    def route(self, view, rng):\n        raise AttributeError('custmer')\n"
        ),
    )
    from sim.model import CoverageModel

    for path, said, line in (
        ("typo_policy:Typo", "'Pending' object has no attribute 'custmer' (did you mean 'customer'?)", 6),
        ("typo_policy:Raises", "custmer", 10),  # raised by hand, naming no object: nothing to suggest
    ):
        model = CoverageModel(small, make_policy(path), 1)
        with pytest.raises(PolicyError) as e:
            model.step()
        model.release()
        at = f"(at {tmp_path / 'typo_policy.py'} line {line}, in route)"
        assert f"route() raised AttributeError: {said} {at} (quarter 1, week 1 of 13; view.week 0)" in str(e.value)


@pytest.mark.parametrize(
    ("classes", "policy", "key", "said"),
    [
        (  # a new user forgot Params = ForgotParams
            "class ForgotParams(SegmentTiersParams):\n    weeks_ahead: int = 4\n"
            "class Forgot(SegmentTiers):\n    name = 'forgot'\n",
            "Forgot",
            "weeks_ahead",
            "weeks_ahead is declared in ForgotParams, which is not forgot's Params: set Params = ForgotParams in the "
            "class",
        ),
        (  # a researcher's subclass had Params of its own: its parent had been told to take them
            "class Base(SegmentTiers):\n    name = 'base'\n"
            "class UrgentParams(SegmentTiersParams):\n    urgency: float = 1.0\n"
            "class Urgent(Base):\n    name = 'urgent'\n    Params = UrgentParams\n",
            "Base",
            "urgency",
            "urgency is a parameter of {}:Urgent, in UrgentParams",
        ),
    ],
)
def test_a_parameter_declared_elsewhere_in_the_module_says_where(
    tmp_path, monkeypatch, small, classes, policy, key, said
):
    imports = "from sim.policies.segment_tiers import SegmentTiers, SegmentTiersParams\n"
    module = f"params_elsewhere_{key}"  # a module of its own per case: an imported one is kept
    user_module(tmp_path, monkeypatch, module, imports + classes)
    with pytest.raises(InputError) as e:
        policies_for([f"{module}:{policy}"], {key: 3}, small, "s.toml")
    assert e.value.problems == [f"--param {key}: {module}:{policy} has no such parameter ({said.format(module)})"]


def test_a_module_that_imports_a_missing_one_is_not_said_to_be_missing_itself(tmp_path, monkeypatch):
    user_module(tmp_path, monkeypatch, "imports_missing", "import no_such_package_xyz\n")
    with pytest.raises(InputError) as e:
        policy_class("imports_missing:P", "--policy")
    assert e.value.problems == [
        "--policy: cannot import 'imports_missing': ModuleNotFoundError: No module named 'no_such_package_xyz' (at "
        f"{tmp_path / 'imports_missing.py'} line 1, in <module>)"
    ]


def test_a_policy_s_description_gives_whole_number_bounds_whole_and_its_choices():
    class Wide(Strict):
        top_n: Annotated[int, Field(ge=1, le=1_000_000)] = 10
        share: Annotated[float, Field(gt=0.0, le=0.5)] = 0.25
        mode: Literal["keep", "redeal"] = "keep"
        # One choice named in the words: the others are listed still (overlay's line_leads hid "owner").
        leads: Annotated[Literal["specialist", "owner"], Field(description="who a specialist's lead goes to")] = (
            "specialist"
        )
        # Every choice named in the words: no list.
        order: Annotated[Literal["deadline", "value"], Field(description="deadline first, or value first")] = "deadline"

    class Described(Unstructured):
        """A policy with wide bounds."""

        name = "described"
        Params = Wide

    assert Described.describe().splitlines()[1:] == [
        "    top_n = 10  at least 1, at most 1000000",
        "    share = 0.25  above 0, at most 0.5",
        '    mode = "keep"  one of keep, redeal',
        '    leads = "specialist"  who a specialist\'s lead goes to; one of specialist, owner',
        '    order = "deadline"  deadline first, or value first',
    ]
    assert Described.describe().splitlines()[0] == "described: A policy with wide bounds."

    class Undescribed(Described):
        name = "undescribed"

    # Not its parent's words, which describe another policy (inspect.getdoc falls back on them).
    assert Undescribed.describe().splitlines()[0] == "undescribed: (its class has no docstring)"


def test_a_policy_file_named_as_a_module_python_has_is_said_to_be_hidden(tmp_path, monkeypatch):
    # "'random' has no 'Mine'", with no word that Python's own random had been imported in its place.
    (tmp_path / "random.py").write_text("from sim.policies import Policy\n\nclass Mine(Policy):\n    pass\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as e:
        policy_class("random:Mine", "--policy")
    (line,) = e.value.problems
    assert line.startswith("--policy: 'random' is the module at ") and line.endswith(
        f"found before your {tmp_path / 'random.py'} (a module Python or an installed package already has that "
        "name): rename your file"
    )
    # A module built into the interpreter has no file: it was "covsim failed unexpectedly (AttributeError)".
    (tmp_path / "time.py").write_text("from sim.policies import Policy\n")
    with pytest.raises(InputError) as e:
        policy_class("time:Mine", "--policy")
    assert e.value.problems == [
        f"--policy: 'time' is the module built into Python, found before your {tmp_path / 'time.py'} (a module "
        "Python or an installed package already has that name): rename your file"
    ]
    (tmp_path / "time.py").unlink()
    with pytest.raises(InputError, match=r"^--policy: 'time' has no 'Mine'$"):
        policy_class("time:Mine", "--policy")


class _NoSuperInit(Unstructured):
    name = "no_super_init"

    def __init__(self, **params):
        pass


class _NotAPolicy:
    pass


class _LooseParams(Unstructured):
    name = "loose_params"

    class Params:
        pass


def test_the_contract_says_what_the_command_line_says_of_a_class_it_cannot_run():
    # check_policy raised AttributeError on each, where the command line named the fault in one line.
    assert check_policy(_NoSuperInit) == ["its __init__ set no params (call super().__init__(**params) in it)"]
    assert check_policy(_NotAPolicy) == ["the class: '_NotAPolicy' is not a subclass of sim.policies.Policy"]
    assert check_policy(_LooseParams) == [
        "the class: '_LooseParams': Params must be a strict model (a subclass of sim.strict.Strict)"
    ]
    assert check_policy(lambda: 3) == ["the factory gave an object of type int, not a Policy"]


def test_a_user_module_named_like_a_built_in_policy_is_imported(tmp_path, monkeypatch):
    # A review: territories.py:MyTerritories in the user's folder was refused as "a built-in policy is named
    # alone", where it had run.
    (tmp_path / "territories.py").write_text(
        "from sim.policies.territories import Territories\n\nclass MyTerritories(Territories):\n    name = 'mine'\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "territories", raising=False)
    assert policy_class("territories:MyTerritories", "--policy").name == "mine"


class _OneLineOnly(Unstructured):
    """A policy that breaks in a world of several product lines."""

    def plan(self, view, rng):  # type: ignore[no-untyped-def]
        if len(view.accounts.line_names) > 1:
            return None
        return super().plan(view, rng)


def test_parametrize_with_checks_checks_in_the_scenario_given():
    # An overlay policy's overlay was never exercised: the checks ran in small.toml, one line and no specialists.
    overlay = load_scenario(SMALL.parent / "overlay.toml")
    data = overlay.model_dump(mode="json")
    data["population"]["customers"] = 2000
    from sim.scenario import parse_scenario

    world = parse_scenario(data)

    def plan_check(mark):  # type: ignore[no-untyped-def]
        (case,) = [c for c in mark.args[1] if c.id.endswith("-check_plan_valid")]
        return case.values[1]

    plan_check(parametrize_with_checks([_OneLineOnly]))()  # small.toml: kept
    with pytest.raises(AssertionError, match="_OneLineOnly fails check_plan_valid"):
        plan_check(parametrize_with_checks([_OneLineOnly], world))()
    assert check_policy(_OneLineOnly, world) == ["policy _OneLineOnly: plan() must return a CoveragePlan, got NoneType"]
    assert check_policy(_OneLineOnly) == []
    # One quarter of the default world, whose shocks come later: checked without them, not refused as bad input.
    assert check_policy(_OneLineOnly, quarters=1) == []


def test_a_class_added_to_a_policy_file_this_process_already_read_is_said_to_need_a_restart(tmp_path, monkeypatch):
    # The what-if page holds a module as it first read it: a class added since had been "has no 'Boom2' (did you
    # mean 'Boom'?)", though the file defines it.
    source = "from sim.policies.segment_tiers import SegmentTiers\n\nclass Boom(SegmentTiers):\n    name = 'boom'\n"
    (tmp_path / "trialpol_added.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "trialpol_added", raising=False)
    assert policy_class("trialpol_added:Boom").__name__ == "Boom"
    (tmp_path / "trialpol_added.py").write_text(source + "\n\nclass Boom2(Boom):\n    name = 'boom2'\n")
    with pytest.raises(InputError) as e:
        policy_class("trialpol_added:Boom2", "--policy")
    assert e.value.problems == [
        f"--policy: 'trialpol_added' has no 'Boom2' as read when this process first loaded "
        f"{tmp_path / 'trialpol_added.py'}; the file defines it now: restart to read it"
    ]
    monkeypatch.delitem(sys.modules, "trialpol_added")


class _OffersNothing(SegmentTiers):
    """A policy with a specialist_touches of its own (offering nothing), to be checked where it is put to the test."""

    def specialist_touches(self, view, rng):
        return np.empty((0, 2), dtype=np.int64)


def test_a_policy_s_own_specialist_touches_checked_in_a_world_without_specialists_is_said_untried() -> None:
    # A researcher's overlay policy read "contract kept" on the small scenario, where no specialist could be offered.
    with pytest.warns(
        UserWarning, match=r"specialist_touches\(\) was not put to the test: the world checked has no"
    ) as said:
        assert check_policy(_OffersNothing) == []
    assert [w.filename for w in said] == [__file__]  # said where check_policy was called, not inside covsim
    overlay = load_scenario(SMALL.parent / "overlay.toml").with_overrides("test", **{"population.customers": 3000})
    assert "specialist" in overlay.seat_roles
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_policy(_OffersNothing, overlay) == []
