"""A policy that leaves its process in chosen runs (for tests of fault isolation).

The runs and the ways out are named by the environment variable ``FAULTS``, a
JSON object from a run's seed to ``"sys_exit"`` (``sys.exit(3)``),
``"os_exit"`` (``os._exit(9)``), ``"keyboard_interrupt"`` (raised, not a Ctrl-C) or
``"sigkill"`` (the process kills itself with SIGKILL); or to ``"print"``, a line on standard output and a text with no end of line
on standard error, neither flushed, after which the run goes on; or to ``"ctrl_c_in_a_loop"``: the error
Python makes of a Ctrl-C whose handler ran as a compiled loop handed its result back (a SystemError caused
by the KeyboardInterrupt), which a new user's Ctrl-C met one time in three in a serial batch; or to ``"loop"``,
a policy stuck in a loop that never ends. The variable is outside the experiment file, so a test removes the
faults and resumes the same batch.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

import numpy as np

from sim.policies.segment_tiers import SegmentTiers

FAULTS = "COVSIM_TEST_FAULTS"


class LeavesTheProcess(SegmentTiers):
    """segment_tiers, except that the runs named in ``FAULTS`` leave the process when planning."""

    name = "leaves_the_process"

    def plan(self, view, rng: np.random.Generator):
        # The policy stream is spawned from the run's seed, which it keeps as its entropy.
        fault = json.loads(os.environ.get(FAULTS, "{}")).get(str(rng.bit_generator.seed_seq.entropy))
        if fault == "sys_exit":
            sys.exit(3)
        if fault == "os_exit":
            os._exit(9)
        if fault == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        if fault == "keyboard_interrupt":  # raised by the policy itself: no Ctrl-C
            raise KeyboardInterrupt
        if fault == "ctrl_c_in_a_loop":
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt as stop:
                raise SystemError("CPUDispatcher(<function _picks>) returned a result with an exception set") from stop
        if fault == "loop":
            while True:
                time.sleep(0.01)
        if fault == "print":
            print(f"a policy's own line (seed {rng.bit_generator.seed_seq.entropy})")
            print("and one on standard error, with no end of line", file=sys.stderr, end="")
        return super().plan(view, rng)
