"""Policies and workers that leave their process cannot take a batch down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.experiment.batch import execute_batch, open_batch
from sim.experiment.design import replication_seeds
from sim.experiment.loading import load_experiment
from sim.experiment.store import Store
from tests.conftest import ROOT, SMALL
from tests.leaving_policy import FAULTS

SEED, REPLICATIONS = 5, 4
LEAVING = "tests.leaving_policy:LeavesTheProcess"
EXPERIMENT = f"""
name = "faults"
scenario = "{SMALL}"
seed = {SEED}
replications = {REPLICATIONS}
quarters = 1
baseline = "unstructured"

[[policies]]
name = "unstructured"

[[policies]]
name = "{LEAVING}"
label = "leaving"
"""
EXITED = (
    "PolicyError: policy leaves_the_process: plan() raised SystemExit: 3 (at tests/leaving_policy.py line 38, in plan) "
    "(quarter 1, week 1 of 13)"
)


def faults(by_replication: dict[int, str]) -> str:
    """The value of ``FAULTS`` for faults in the leaving policy's runs of the given replications."""
    seeds = replication_seeds(SEED, REPLICATIONS)
    return json.dumps({str(seeds[r]): fault for r, fault in by_replication.items()})


def ledger_and_results(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    store = Store.existing(folder)
    try:
        return store.ledger(), store.results()
    finally:
        store.close()


def guilty(ledger: pd.DataFrame, replications: list[int]) -> pd.DataFrame:
    """The ledger rows of the leaving policy's runs of ``replications``."""
    seeds = [replication_seeds(SEED, REPLICATIONS)[r] for r in replications]
    return ledger[(ledger.policy == LEAVING) & ledger.seed.isin(seeds)]


def without(results: pd.DataFrame, replications: list[int]) -> pd.DataFrame:
    """``results`` less the leaving policy's cells of ``replications``."""
    drop = (results.policy == "leaving") & results.replication.isin(replications)
    return results[~drop].reset_index(drop=True)


@pytest.fixture(scope="module")
def experiment_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "faults.toml"
    path.write_text(EXPERIMENT)
    return path


@pytest.fixture(scope="module")
def clean(experiment_file) -> pd.DataFrame:
    """The results of the batch without faults."""
    assert FAULTS not in os.environ
    folder = experiment_file.parent / "clean"
    batch_to(folder, experiment_file, "serial", 1)
    return ledger_and_results(folder)[1]


def batch_to(folder: Path, path: Path, executor: str, workers: int):
    exp, scenario = load_experiment(path)
    batch = open_batch(exp, scenario, folder)
    try:
        return execute_batch(batch, executor, workers)  # type: ignore[arg-type]
    finally:
        batch.store.close()


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_a_policy_calling_sys_exit_fails_only_its_run(tmp_path, monkeypatch, experiment_file, clean, executor):
    monkeypatch.setenv(FAULTS, faults({0: "sys_exit", 2: "sys_exit"}))
    outcome = batch_to(tmp_path / "o", experiment_file, executor, 2)
    assert (outcome.done, outcome.failed) == (6, 2)
    ledger, results = ledger_and_results(tmp_path / "o")
    failed = ledger[ledger.status == "failed"]
    assert sorted(failed.run_key) == sorted(guilty(ledger, [0, 2]).run_key)
    assert (failed.error == EXITED).all() and sorted(outcome.errors) == sorted((k, EXITED) for k in failed.run_key)
    pd.testing.assert_frame_equal(results, without(clean, [0, 2]), check_exact=True)

    monkeypatch.delenv(FAULTS)
    again = batch_to(tmp_path / "o", experiment_file, executor, 2)
    assert (again.skipped, again.done, again.failed) == (6, 2, 0)
    pd.testing.assert_frame_equal(ledger_and_results(tmp_path / "o")[1], clean, check_exact=True)


def test_a_run_stuck_in_a_loop_is_stopped_at_the_run_timeout_and_the_batch_finishes(tmp_path, experiment_file, clean):
    # A user policy stuck in a loop held a batch forever: only a Ctrl-C stopped it, saying nothing of which run.
    env = {**os.environ, FAULTS: faults({1: "loop"})}
    cmd = [sys.executable, "-m", "sim.cli", "experiment", str(experiment_file), "--out", str(tmp_path / "o")]
    cmd += ["--executor", "processes", "--workers", "2", "--run-timeout", "20"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 1, r.stderr
    ledger, results = ledger_and_results(tmp_path / "o")
    failed = ledger[ledger.status == "failed"]
    assert failed.run_key.tolist() == guilty(ledger, [1]).run_key.tolist()
    assert failed.error.tolist() == ["stopped at its time limit, 20 s (--run-timeout)"]
    assert f"run {failed.run_key.item()[:12]} ({LEAVING}, seed " in r.stderr and "Traceback" not in r.stderr
    pd.testing.assert_frame_equal(results, without(clean, [1]), check_exact=True)
    # Only with worker processes: a run in this process, or on a Dask worker, cannot be stopped from here.
    serial = subprocess.run(
        [*cmd[:7], "--executor", "serial", "--run-timeout", "5"], cwd=ROOT, capture_output=True, text=True
    )
    assert serial.returncode == 2
    assert serial.stderr.strip() == (
        "error: --run-timeout: only with --executor processes (a run in this process or on a Dask worker cannot "
        "be stopped from here), not serial"
    )


def test_dead_workers_fail_only_their_runs_and_the_batch_finishes(tmp_path, experiment_file, clean):
    faulty = {0: "sys_exit", 1: "os_exit", 2: "sigkill", 3: "keyboard_interrupt"}
    env = {**os.environ, FAULTS: faults(faulty)}
    cmd = [sys.executable, "-m", "sim.cli", "experiment", str(experiment_file), "--out", str(tmp_path / "o")]
    cmd += ["--executor", "processes", "--workers", "2"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and "BrokenProcessPool" not in r.stderr
    expected = {
        0: EXITED,
        1: "the worker process died (exit code 9) while running this run",
        2: "the worker process died (signal 9, SIGKILL) while running this run",
        # It printed a worker's traceback and "the worker process died".
        3: "the run raised KeyboardInterrupt (no Ctrl-C: a worker ignores those; the policy or what it calls)",
    }
    ledger, results = ledger_and_results(tmp_path / "o")
    failed = ledger[ledger.status == "failed"].set_index("run_key").error
    assert len(failed) == 4 and (ledger.status != "pending").all()
    for replication, error in expected.items():
        row = guilty(ledger, [replication])
        key = row.run_key.item()
        assert failed[key] == error
        # Which policy and seed, beside the run's key (the key alone named nothing a user knows).
        assert f"error: run {key[:12]} ({LEAVING}, seed {row.seed.item()}): {error}\n" in r.stderr
    # The command as given, its executor's options with it (the hint had dropped them: a resume of a Dask
    # batch ran on this machine's cores).
    hint = f"covsim experiment {experiment_file} --out {tmp_path / 'o'} --executor processes --workers 2"
    assert (
        f"error: 4 runs failed; the others are stored. Fix the cause and resume with: {hint} (a fix in a user "
        f"policy's own code starts afresh: {hint} --fresh)\n"
    ) in r.stderr
    assert "Failed runs" in (tmp_path / "o" / "report.md").read_text()
    pd.testing.assert_frame_equal(results, without(clean, list(faulty)), check_exact=True)

    del env[FAULTS]
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    assert again.returncode == 0, again.stderr
    assert "4 runs done, 4 already stored, 0 failed" in again.stderr
    pd.testing.assert_frame_equal(ledger_and_results(tmp_path / "o")[1], clean, check_exact=True)


def test_a_ctrl_c_that_lands_in_a_compiled_loop_stops_the_batch_and_fails_no_run(tmp_path, experiment_file):
    """Python makes a SystemError of a Ctrl-C whose handler runs as a compiled loop hands back its result: a
    serial batch, whose runs are in the process Ctrl-C reaches (worker processes never see it), stops as for
    any Ctrl-C (exit 130), with no run recorded as failed and no policy blamed, and resumes."""
    env = {**os.environ, FAULTS: faults({1: "ctrl_c_in_a_loop"})}
    cmd = [sys.executable, "-m", "sim.cli", "experiment", str(experiment_file), "--out", str(tmp_path / "o")]
    cmd += ["--executor", "serial"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    assert r.returncode == 130, r.stderr
    assert "interrupted:" in r.stderr and "resume with: covsim experiment" in r.stderr
    assert "SystemError" not in r.stderr and "PolicyError" not in r.stderr and "Traceback" not in r.stderr
    ledger, _ = ledger_and_results(tmp_path / "o")
    assert (ledger.status != "failed").all() and (ledger.status == "pending").any()
    del env[FAULTS]
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    assert again.returncode == 0, again.stderr


def test_a_ctrl_c_that_lands_in_a_compiled_loop_is_a_stop_in_a_single_run(monkeypatch) -> None:
    """``covsim run``'s engine: the same SystemError out of a policy's method is a KeyboardInterrupt, not a
    PolicyError that would blame the policy (exit 2, "bad input")."""
    from sim.policies import make_policy
    from sim.run import run
    from sim.scenario import load_scenario

    scenario = load_scenario(SMALL)
    monkeypatch.setenv(FAULTS, json.dumps({str(scenario.seed): "ctrl_c_in_a_loop"}))
    with pytest.raises(KeyboardInterrupt):
        run(scenario, make_policy(LEAVING), scenario.seed, quarters=1)


def test_a_worker_leaves_at_the_batch_s_end_with_what_its_runs_printed(tmp_path, experiment_file):
    """Workers leave without the interpreter's teardown (sim.experiment.worker.serve): what a policy printed
    still reaches the terminal, and each worker exits with code 0."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # a pipe's output waits in a buffer
    env[FAULTS] = faults({1: "print", 3: "print"})
    cmd = [sys.executable, "-m", "sim.cli", "experiment", str(experiment_file), "--out", str(tmp_path / "o")]
    r = subprocess.run(
        [*cmd, "--executor", "processes", "--workers", "2"], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert r.returncode == 0, r.stderr
    seeds = replication_seeds(SEED, REPLICATIONS)
    for i in (1, 3):
        assert f"a policy's own line (seed {seeds[i]})" in r.stdout
    assert r.stderr.count("and one on standard error, with no end of line") == 2


def test_a_worker_told_to_stop_exits_with_code_0():
    from sim.experiment.pool import start_worker

    connection, process = start_worker()
    connection.send(None)
    process.join(timeout=60)
    assert process.exitcode == 0
    assert connection.poll() and _eof(connection)  # it sent nothing more and closed its end


def test_a_worker_whose_batch_process_is_gone_exits_with_code_0_and_no_traceback():
    # The batch process's end closes when it is gone (stopped by a signal, killed): the worker's wait for its
    # next run ends in EOF, which is no error of the worker's.
    script = (
        "from sim.experiment.pool import start_worker\n"
        "connection, process = start_worker()\n"
        "connection.close()\n"
        "process.join(timeout=60)\n"
        "print(process.exitcode)\n"
    )
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0"]
    assert "Traceback" not in r.stderr and "EOFError" not in r.stderr, r.stderr


def _eof(connection) -> bool:
    try:
        connection.recv()
    except EOFError:
        return True
    return False


def test_the_store_s_indexes_are_built_when_results_are_first_read(tmp_path, experiment_file, monkeypatch):
    monkeypatch.delenv(FAULTS, raising=False)
    batch_to(tmp_path / "o", experiment_file, "serial", 1)
    store = Store.existing(tmp_path / "o")
    try:
        names = "SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ('results_run', 'weekly_run')"
        assert store.db.execute(names).fetchall() == []  # not kept up to date run by run
        results = store.results()
        assert sorted(n for (n,) in store.db.execute(names)) == ["results_run", "weekly_run"]
        assert len(results) == store.db.execute("SELECT COUNT(*) FROM results").fetchone()[0] > 0
        pd.testing.assert_frame_equal(store.results(), results)
        store.db.executescript("DROP INDEX results_run; DROP INDEX weekly_run;")
        assert len(store.weekly()) > 0
        assert sorted(n for (n,) in store.db.execute(names)) == ["results_run", "weekly_run"]
    finally:
        store.close()


def test_a_ctrl_c_while_a_dask_cluster_starts_is_held_back_not_lost():
    """The cluster's processes are born with Ctrl-C blocked (they never see it); the batch gets it once they are
    up (it ran to the end: Ctrl-C was ignored while the cluster started), whichever of its threads the signal
    reaches (the command line has others: numpy's, tqdm's monitor)."""
    import signal
    import threading

    from sim.stopping import held

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)  # a thread that does not block Ctrl-C
    other.start()
    reached, masked = [], []
    try:
        with pytest.raises(KeyboardInterrupt), held():
            masked.append(signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set()))
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)  # time for it to be taken, by either thread
            reached.append("after the signal, inside")
    finally:
        stop.set()
        other.join()
    assert masked == [True]  # what a process started now inherits
    assert reached == ["after the signal, inside"]
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())


def test_a_sigterm_while_processes_start_is_given_to_its_handler_once_they_are_up():
    # Raised inside Process.start, it left the new process reading an empty pipe: "EOFError: Ran out of input"
    # under the what-if page's "stopped" line.
    import signal

    from sim.stopping import held

    taken: list[tuple[str, int]] = []

    def mine(signum: int, frame: object) -> None:
        taken.append(("handler", signum))

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        with held():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)  # time for it to be taken
            taken.append(("inside", 0))
        assert taken == [("inside", 0), ("handler", signal.SIGTERM)]
        assert signal.getsignal(signal.SIGTERM) is mine  # put back
    finally:
        signal.signal(signal.SIGTERM, previous)
    # Held from the default action, the process ends by it once the block is done (the default set here: the
    # test's runner may have been started with SIGTERM ignored, which a child inherits).
    code = (
        "import os, signal, sys, time; from sim.stopping import held\n"
        "signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
        "with held():\n    os.kill(os.getpid(), signal.SIGTERM); time.sleep(0.2); print('inside', flush=True)\n"
        "print('not reached')"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert (r.returncode, r.stdout) == (-signal.SIGTERM, "inside\n")


def test_held_gives_each_stop_once_and_raises_a_failure_its_handler_let_pass():
    # A handler that only notes a stop (a graceful-shutdown flag) returned, and the block's failure was dropped: a
    # Dask cluster that failed to start left `cluster` unset, a worker that never started was returned.
    import signal

    from sim.stopping import held

    taken: list[int] = []

    def note(signum: int, frame: object) -> None:
        taken.append(signum)

    previous = {s: signal.signal(s, note) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with pytest.raises(RuntimeError, match="did not start"), held():
            for s in (signal.SIGINT, signal.SIGTERM, signal.SIGINT):
                os.kill(os.getpid(), s)
            time.sleep(0.2)
            raise RuntimeError("did not start")
        assert sorted(taken) == [signal.SIGINT, signal.SIGTERM]  # each once (a Ctrl-C held in the mask comes later)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@pytest.mark.parametrize("where", ["main", "thread", "dask"])
def test_processes_started_while_held_are_born_with_ctrl_c_blocked(monkeypatch, where):
    # What a process inherits is the mask of the thread that starts it. multiprocessing's resource tracker, on
    # its first start, unblocks Ctrl-C in its thread: Dask's workers, started from its event loop's thread, had
    # been born with it unblocked. In a thread (the what-if page replacing a worker) the mask is held too.
    import signal
    import threading
    from multiprocessing import popen_spawn_posix, resource_tracker

    from sim.experiment.pool import start_worker

    masks = []
    launch = popen_spawn_posix.Popen._launch

    def recorded(self, process_obj):
        masks.append(signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set()))
        return launch(self, process_obj)

    monkeypatch.setattr(popen_spawn_posix.Popen, "_launch", recorded)
    # The tracker not yet running, as in a fresh process: stopped here, it is started again when needed.
    monkeypatch.setattr(resource_tracker._resource_tracker, "_fd", None)
    workers = []
    if where == "main":
        workers.append(start_worker())
    elif where == "thread":
        other = threading.Thread(target=lambda: workers.append(start_worker()))
        other.start()
        other.join()
    else:  # as the runner starts its cluster: its workers are started from Dask's event loop's thread
        import logging

        from dask.distributed import LocalCluster

        from sim.stopping import held

        with held():
            cluster = LocalCluster(
                n_workers=1, threads_per_worker=1, dashboard_address=None, silence_logs=logging.ERROR
            )
        cluster.close()
    for connection, process in workers:
        connection.send(None)  # the worker's end of its loop
        process.join(30)
    assert masks and all(masks), masks
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())  # this thread's, put back


def test_a_stop_landing_inside_a_worker_s_start_comes_once_the_worker_has_what_it_needs(monkeypatch):
    # Raised between the fork and the writing of the worker's preparation data, it left the worker reading an
    # empty pipe: "EOFError: Ran out of input", and exit code 1.
    import multiprocessing
    import signal
    from multiprocessing import popen_spawn_posix

    from sim import stopping
    from sim.experiment.pool import start_worker

    launch = popen_spawn_posix.Popen._launch

    def stopped_inside(self, process_obj):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)  # taken by now, by whichever thread
        return launch(self, process_obj)

    monkeypatch.setattr(popen_spawn_posix.Popen, "_launch", stopped_inside)
    before = set(multiprocessing.active_children())
    previous = signal.signal(signal.SIGTERM, stopping.ask)  # the command line's handler
    try:
        with pytest.raises(KeyboardInterrupt):
            start_worker()
    finally:
        signal.signal(signal.SIGTERM, previous)
        stopping.forget()
    (worker,) = set(multiprocessing.active_children()) - before
    worker.join(30)
    # It read what it needed, then left quietly as its batch's end of the pipe closed (an empty pipe: exit 1).
    assert worker.exitcode == 0


def test_a_dask_worker_stopped_with_ctrl_c_leaves_quietly():
    # Born with Ctrl-C held back, it is ended at once by the one given meanwhile, once its preload is loaded.
    code = (
        "import os, signal, sys; signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}); "
        "os.kill(os.getpid(), signal.SIGINT); import sim.experiment.dask_worker; "
        "print('not reached'); sys.exit(3)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == "" and "Traceback" not in r.stderr, (r.returncode, r.stderr)


def compare_in_memory(fault: str) -> subprocess.CompletedProcess[str]:
    """``covsim compare`` without --out (its store in memory), the leaving policy's replication 1 at fault."""
    env = {**os.environ, FAULTS: faults({1: fault})}
    cmd = [sys.executable, "-m", "sim.cli", "compare", str(SMALL), "--policy", "unstructured", "--policy", LEAVING]
    cmd += ["--replications", str(REPLICATIONS), "--seed", str(SEED), "--quarters", "1", "--executor", "serial"]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)


def test_an_interrupted_compare_without_out_says_nothing_was_kept():
    """Without --out nothing outlives the process: the message may not promise a resume that would rerun all."""
    r = compare_in_memory("ctrl_c_in_a_loop")
    assert r.returncode == 130, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("interrupted: ") and " of 8 runs finished, none kept (without --out" in last
    assert last.endswith("run it again with --out FOLDER to keep finished runs")
    assert "resume" not in r.stderr and "Traceback" not in r.stderr


def test_a_failed_run_of_a_compare_without_out_asks_for_a_rerun_not_a_resume():
    r = compare_in_memory("sys_exit")
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        "error: 1 run failed; fix the cause and run it again (with --out FOLDER, finished runs are kept for a resume)"
    )


def test_a_policy_whose_every_run_failed_is_named_where_the_paired_differences_would_be(tmp_path):
    # A researcher's compare said "(no paired comparisons: one policy, or too few replications)" of two policies
    # and 3 replications, every run of one of them failed.
    cmd = [sys.executable, "-m", "sim.cli", "compare", str(SMALL), "--policy", "unstructured"]
    cmd += ["--policy", "tests.failing_policy:AlwaysFails", "--replications", "3", "--quarters", "2"]
    cmd += ["--executor", "serial", "--out", str(tmp_path / "out")]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 1, r.stderr
    assert "(no paired comparisons: always_fails has no finished run)" in r.stdout, r.stdout
    # One fault said once, with the runs it failed (a policy author's bug had been said once a replication).
    said = [line for line in r.stderr.splitlines() if line.startswith("error: ") and "PolicyError" in line]
    assert len(said) == 1 and said[0].startswith("error: 3 runs ("), r.stderr
    assert (
        "(tests.failing_policy:AlwaysFails, seed " in said[0]
        and ", and 2 more): PolicyError: policy always_fails" in said[0]
    )


def test_one_fault_whose_first_row_differs_by_run_is_said_once(tmp_path):
    # A review's: the route fault names its first row, which differs from one seed to the next, and the grouping
    # of one fault over its runs said it once a run again.
    (tmp_path / "strays.py").write_text(
        "from sim.policies.segment_tiers import SegmentTiers\n\n\n"
        "class Strays(SegmentTiers):\n"
        "    name = 'strays'\n\n"
        "    def route(self, view, rng):\n"
        "        h = super().route(view, rng)\n"
        "        if h.size:\n"
        "            h[int(rng.integers(h.size))] = view.team.size\n"
        "        return h\n"
    )
    cmd = [sys.executable, "-m", "sim.cli", "compare", str(SMALL), "--policy", "unstructured", "--policy"]
    cmd += ["strays:Strays", "--replications", "3", "--quarters", "1", "--executor", "serial"]
    r = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, "PYTHONPATH": f"{ROOT}:{tmp_path}"},
    )
    assert r.returncode == 1, r.stderr
    said = [line for line in r.stderr.splitlines() if "route() returned a seat outside" in line]
    assert len(said) == 1 and said[0].startswith("error: 3 runs ("), r.stderr
    assert "(the first: pending opportunity " in said[0]  # the first run's own


def test_no_paired_comparisons_says_why():
    from sim.tables import no_paired

    assert no_paired(["a"], {"a"}) == "(no paired comparisons: one policy only)"
    assert no_paired(["a", "b", "c"], {"a"}) == "(no paired comparisons: b and c have no finished run)"
    assert no_paired(["a", "b"], {"a", "b"}) == (
        "(no paired comparisons: no replication has finished runs of both sides of a comparison)"
    )
    assert no_paired(["a", "b", "c"], {"a", "b"}) == (
        "(no paired comparisons: c has no finished run, and no replication has finished runs of both sides of a "
        "comparison of the others)"
    )
