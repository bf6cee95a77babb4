"""DESIGN §7: Mesa 3.3.1 keeps every Model alive through Agent._ids unless released."""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import mesa
import numpy as np

from sim.policies import make_policy
from sim.run import run
from tests.conftest import tiny


def test_a_finished_run_leaves_nothing_behind():
    scenario = tiny(customers=50)
    refs = []
    from sim import model as model_module

    original = model_module.CoverageModel.release

    def tracking_release(self):
        refs.append(weakref.ref(self))
        original(self)

    model_module.CoverageModel.release = tracking_release
    try:
        run(scenario, make_policy("segment_tiers", {"field_segments": "only", "pooled_segments": ""}))
    finally:
        model_module.CoverageModel.release = original
    gc.collect()
    assert len(refs) == 1 and refs[0]() is None, "the model is still reachable after its run"
    assert not any(isinstance(k, model_module.CoverageModel) for k in mesa.Agent._ids)


def test_a_hundred_runs_keep_memory_flat():
    scenario = tiny(customers=200)
    policy = make_policy("hunter_farmer")
    tracemalloc.start()
    try:
        for _ in range(20):
            run(scenario, policy)
        gc.collect()
        after_20 = tracemalloc.get_traced_memory()[0]
        for _ in range(80):
            run(scenario, policy)
        gc.collect()
        after_100 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # Without the release, each model (population arrays, tallies, agents) stays
    # alive: about 200 kB a run here, some 16 MB over 80 runs. (make bench runs 1,000.)
    assert after_100 < after_20 * 1.2 + 200_000, (after_20, after_100)


def test_a_finished_run_s_arrays_go_at_once_not_at_the_next_garbage_collection():
    # Mesa's Model holds a bound method of itself, a cycle: the run's arrays waited for the garbage collector, and a
    # second 10M run in a process peaked at 5.2 GB where one alone takes 2.2 GB.
    from sim.model import CoverageModel

    model = CoverageModel(tiny(customers=50), make_policy("unstructured"), 1)
    model.run(2)
    arrays = [weakref.ref(model.population.potential), weakref.ref(model.book.customer)]
    gc.disable()
    try:
        model.release()
        assert len(model.weekly_frame()) > 0  # what it recorded is still there to read
        model.release()  # twice is harmless
        del model
        assert [a() for a in arrays] == [None, None]
    finally:
        gc.enable()


def test_the_plan_in_force_goes_before_the_next_is_checked_and_copied(monkeypatch):
    # At 10M accounts the plan in force (cadence, service levels, flags) beside the policy's new plan and its
    # checked copy made a run's peak memory: it is dropped first, only its owners kept for the hand-over.
    import sim.quarter_start
    from sim.model import CoverageModel

    policy = make_policy("segment_tiers", {"field_segments": "only", "pooled_segments": ""})
    model = CoverageModel(tiny(customers=50), policy, 1)
    model.run(13)
    in_force = [model.plan.cadence, model.plan.service, model.plan.coordinated]
    held = [weakref.ref(a) for a in in_force] + [weakref.ref(a.base) for a in in_force if a.base is not None]
    owners = weakref.ref(model.plan.owner)
    del in_force
    seen = []
    checked = sim.quarter_start.checked_plan

    def checking(*args, **kwargs):
        seen.append(([r() is None for r in held], owners() is not None))
        return checked(*args, **kwargs)

    monkeypatch.setattr(sim.quarter_start, "checked_plan", checking)
    gc.disable()
    try:
        model.run(1)
    finally:
        gc.enable()
        model.release()
    assert seen == [([True] * len(held), True)]


def test_a_model_whose_policy_failed_steps_no_more():
    # The plan in force goes before the new one is checked: a model whose new plan was refused has none, and
    # stepping it again had raised AttributeError (and before that, applied the quarter's shocks twice).
    import dataclasses

    import pytest

    from sim.errors import PolicyError
    from sim.model import CoverageModel
    from sim.policies.segment_tiers import SegmentTiers

    class SecondQuarterWrong(SegmentTiers):
        name = "second_quarter_wrong"

        def plan(self, view, rng):
            plan = super().plan(view, rng)
            if view.quarter == 2:
                plan = dataclasses.replace(plan, owner=np.full(view.accounts.size, 10**6))
            return plan

    model = CoverageModel(tiny(customers=50), SecondQuarterWrong(field_segments="only", pooled_segments=""), 1)
    model.run(13)
    fault = r"plan.owner holds a seat outside -1..\d+ \(the first: account 0, 1000000\) \(quarter 2, week 1 of 13"
    with pytest.raises(PolicyError, match=fault):
        model.step()
    with pytest.raises(PolicyError, match=fault + r".*; the run stopped there: build a new model"):
        model.step()
    assert model.week == 13
    model.release()
