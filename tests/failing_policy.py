"""A policy that fails in some runs (for tests of failure isolation)."""

from __future__ import annotations

import time

import numpy as np

from sim.policies.segment_tiers import SegmentTiers


class SometimesFails(SegmentTiers):
    """segment_tiers, except that about half of all runs fail when planning quarter 1."""

    name = "sometimes_fails"

    def plan(self, view, rng: np.random.Generator):
        if view.quarter == 1 and rng.random() < 0.5:
            raise RuntimeError("planning failed on purpose")
        return super().plan(view, rng)


class NeverPlans(SegmentTiers):
    """segment_tiers, except that planning never ends (a policy stuck in a loop)."""

    name = "never_plans"

    def plan(self, view, rng: np.random.Generator):
        while True:
            time.sleep(1)


class NeverPlansEither(NeverPlans):
    """The same, under another name: a comparison of two, neither of whose runs ends."""

    name = "never_plans_either"


class AlwaysFails(SegmentTiers):
    """segment_tiers, except that every run fails when planning quarter 1."""

    name = "always_fails"

    def plan(self, view, rng: np.random.Generator):
        raise RuntimeError(f"planning failed on purpose in quarter {view.quarter}")


class AlwaysFailsToo(AlwaysFails):
    """The same, under another name: a comparison of two whose every run fails."""

    name = "always_fails_too"
