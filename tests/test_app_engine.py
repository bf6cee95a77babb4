"""The what-if page's engine gives exactly what `covsim compare` gives for the same settings and seeds."""

from __future__ import annotations

import pickle
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.app.engine import Cancelled, PolicyChoice, RunCache, compare, experiment_for, non_default, warm_up_spec
from sim.errors import InputError
from sim.experiment.design import plan_runs
from sim.experiment.jobs import RunOutput, RunSpec
from sim.experiment.pool import WorkerPool
from sim.scenario import load_scenario
from tests.conftest import ROOT, SMALL

POLICIES = ("unstructured", "segment_tiers")


@pytest.fixture(scope="module")
def pool():
    with WorkerPool(2, warm_up_spec()) as workers:
        yield workers


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """`covsim compare` on the small scenario, 2 policies x 3 replications: its terminal output and folder."""
    out = tmp_path_factory.mktemp("compare")
    args = ["compare", "scenarios/small.toml", *[a for p in POLICIES for a in ("--policy", p)]]
    r = subprocess.run(
        [sys.executable, "-m", "sim.cli", *args, "--replications", "3", "--executor", "serial", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout, out


def test_the_engine_gives_the_numbers_covsim_compare_prints(pool, cli):
    stdout, out = cli
    scenario = load_scenario(SMALL)
    seen = []
    result = compare(
        scenario,
        "scenarios/small.toml",
        [PolicyChoice(p) for p in POLICIES],
        3,
        pool=pool,
        on_run=lambda *a: seen.append(a),
    )
    assert seen == [(i, 6) for i in range(7)]  # once planned, then 2 policies x 3 replications as each is stored
    assert result.failures == []
    lines = stdout.splitlines()
    assert f"\n{stdout}".count(f"\n{result.answer}\n") == 1 and "\n  - " in result.answer  # finding by finding
    # every row of the means and the differences tables, cell for cell as the terminal prints them
    means = [line for line in lines if line.startswith("revenue_captured ")]
    assert len(means) == 2
    row = dict((r[0], r[1:]) for r in result.rows())["revenue_captured"]
    assert means[0] == f"{'revenue_captured':<26}" + "".join(f"  {c:>28}" for c in row[:2])
    assert means[1] == f"{'revenue_captured':<26}" + f"  {row[2]:>38}"
    for metric, *cells in result.rows():
        assert f"{metric:<26}" + "".join(f"  {c:>28}" for c in cells[:2]) in lines, metric
        assert f"{metric:<26}" + f"  {cells[2]:>38}" in lines, metric
    # the tidy results, byte for byte as compare's results.csv
    assert result.tidy_csv() == (out / "results.csv").read_text(encoding="utf-8")
    # pinned: the small world's revenue under segment tiers, its root seed 7, 3 replications
    assert row[1] == "17.7M [8.2M, 27.2M]"


MINE = "examples.nearest_rep:NearestRep"  # a user's policy, by its import path (docs/app.md)


def test_a_user_policy_gives_the_numbers_covsim_compare_prints_for_its_import_path(pool, tmp_path):
    args = ["compare", "scenarios/small.toml", "--policy", "unstructured", "--policy", MINE, "--replications", "3"]
    r = subprocess.run(
        [sys.executable, "-m", "sim.cli", *args, "--executor", "serial", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    scenario = load_scenario(SMALL)
    choices = [PolicyChoice("unstructured"), PolicyChoice(MINE, non_default(MINE, {"cadence": 1.0}))]
    result = compare(scenario, "scenarios/small.toml", choices, 3, pool=pool, runs=RunCache())
    assert result.failures == [] and result.policies == ["unstructured", "nearest_rep"]
    lines = r.stdout.splitlines()
    assert f"\n{r.stdout}".count(f"\n{result.answer}\n") == 1
    for metric, *cells in result.rows():
        assert f"{metric:<26}" + "".join(f"  {c:>28}" for c in cells[:2]) in lines, metric
        assert f"{metric:<26}" + f"  {cells[2]:>38}" in lines, metric
    assert result.tidy_csv() == (tmp_path / "results.csv").read_text(encoding="utf-8")


def test_policy_parameters_change_the_runs_and_defaults_do_not(pool):
    scenario = load_scenario(SMALL).with_overrides("short", quarters=2)
    plain = compare(scenario, "s", [PolicyChoice("unstructured"), PolicyChoice("segment_tiers")], 2, pool=pool)
    same = compare(
        scenario,
        "s",
        [PolicyChoice("unstructured"), PolicyChoice("segment_tiers", non_default("segment_tiers", {"cadence_a": 3.0}))],
        2,
        pool=pool,
    )
    other = compare(
        scenario,
        "s",
        [PolicyChoice("unstructured"), PolicyChoice("segment_tiers", non_default("segment_tiers", {"cadence_a": 6.0}))],
        2,
        pool=pool,
    )
    assert same.tidy_csv() == plain.tidy_csv()
    assert other.tidy_csv() != plain.tidy_csv()
    assert other.experiment.policies[1].params == {"cadence_a": 6.0}


def test_a_cancelled_comparison_stops_and_the_pool_keeps_working(pool):
    scenario = load_scenario(SMALL).with_overrides("short", quarters=2)
    choices = [PolicyChoice("unstructured"), PolicyChoice("segment_tiers")]
    done = []
    with pytest.raises(Cancelled):
        compare(scenario, "s", choices, 3, pool=pool, on_run=lambda i, n: done.append(i), cancelled=lambda: 1 in done)
    assert done == [0, 1]
    again = compare(scenario, "s", choices, 3, pool=pool)
    serial = compare(scenario, "s", choices, 3)  # in this process: the same numbers
    assert again.tidy_csv() == serial.tidy_csv()


def test_a_comparison_whose_run_never_ends_is_cancelled_at_once_and_the_pool_keeps_working(pool):
    # Cancel waited for a run to finish: a policy stuck in a loop kept the page's one comparison running for good.
    # No run of these two ever ends, so only the pool's own asking can stop them.
    scenario = load_scenario(SMALL).with_overrides("short", quarters=1)
    stuck = [PolicyChoice("tests.failing_policy:NeverPlans"), PolicyChoice("tests.failing_policy:NeverPlansEither")]
    asked, ended = time.perf_counter() + 2, []

    def comparison():
        try:
            compare(scenario, "s", stuck, 2, pool=pool, cancelled=lambda: time.perf_counter() > asked)
        except Cancelled:
            ended.append(time.perf_counter() - asked)

    thread = threading.Thread(target=comparison, daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive() and len(ended) == 1 and ended[0] < 5  # within a few polls, the workers stopped
    fine = [PolicyChoice("unstructured"), PolicyChoice("segment_tiers")]
    assert compare(scenario, "s", fine, 2, pool=pool).tidy_csv() == compare(scenario, "s", fine, 2).tidy_csv()


def test_an_unknown_policy_is_refused_before_any_run():
    with pytest.raises(InputError) as e:
        experiment_for(load_scenario(SMALL), "s", [PolicyChoice("unstructured"), PolicyChoice("tiers")], 3)
    assert e.value.problems[0].startswith("comparison: policies: unknown policy 'tiers'")
    with pytest.raises(InputError) as e:
        experiment_for(load_scenario(SMALL), "s", [PolicyChoice("unstructured"), PolicyChoice("nowhere:Mine")], 3)
    assert e.value.problems == [
        "comparison: policies: cannot import 'nowhere': No module named 'nowhere' (covsim looks on the Python path, then in the "
        "folder it runs in)"
    ]


# ---- the page's run cache ---------------------------------------------------

A, B = PolicyChoice("unstructured"), PolicyChoice("segment_tiers")
B6 = PolicyChoice("segment_tiers", {"cadence_a": 6.0})  # B with one parameter changed


class Counting:
    """The module's warm pool, recording the run keys of the specs each comparison hands it."""

    def __init__(self, pool):
        self.pool = pool
        self.sent = []

    def map(self, specs, stop=None):
        specs = list(specs)
        self.sent.append(sorted(s.run_key for s in specs))
        yield from self.pool.map(specs, stop)


def short():
    return load_scenario(SMALL).with_overrides("short", quarters=2)


def run_keys(scenario, choices, replications, seed=None):
    return set(plan_runs(experiment_for(scenario, "s", choices, replications, seed), scenario)[2])


def assert_same(got, fresh):
    """Every table, figure source and line the page shows, exactly."""
    assert got.experiment == fresh.experiment
    for name in ("results", "points", "weekly", "lorenz", "means", "paired", "detail_means", "detail_paired"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(fresh, name), check_exact=True, obj=name)
    assert got.answer == fresh.answer
    assert got.rows() == fresh.rows() and got.rows(detail=True) == fresh.rows(detail=True)
    assert got.tidy_csv() == fresh.tidy_csv()
    assert sorted(got.failures) == sorted(fresh.failures)  # in the order runs finished, on any comparison


def test_a_second_comparison_runs_only_the_runs_it_does_not_hold_with_a_fresh_comparisons_numbers(pool):
    scenario, runs, counting = short(), RunCache(), Counting(pool)
    first = compare(scenario, "s", [A, B], 3, pool=counting, runs=runs)
    assert len(counting.sent[-1]) == 6 and first.reused == 0 and len(runs) == 6
    # B's parameter changed: only B's 3 runs go to the workers; A's are reused and counted done at once
    seen = []
    second = compare(scenario, "s", [A, B6], 3, pool=counting, on_run=lambda *a: seen.append(a), runs=runs)
    assert counting.sent[-1] == sorted(run_keys(scenario, [A, B6], 3) - run_keys(scenario, [A, B], 3))
    assert second.reused == 3
    assert seen == [(3, 6), (4, 6), (5, 6), (6, 6)]
    assert_same(second, compare(scenario, "s", [A, B6], 3, pool=pool))
    # keyed on what a run is, not on its place: the other policy the baseline, one more replication
    third = compare(scenario, "s", [B6, A], 4, pool=counting, runs=runs)
    assert len(counting.sent[-1]) == 2 and third.reused == 6  # the 4th replication of each policy
    assert_same(third, compare(scenario, "s", [B6, A], 4, pool=pool))
    # everything held: nothing reaches the workers
    seen.clear()
    again = compare(scenario, "s", [A, B], 3, pool=counting, on_run=lambda *a: seen.append(a), runs=runs)
    assert counting.sent[-1] == [] and again.reused == 6 and seen == [(6, 6)]
    assert_same(again, first)


def test_a_changed_parameter_seed_or_scenario_is_not_served_from_the_cache(pool):
    scenario, runs, counting = short(), RunCache(), Counting(pool)
    compare(scenario, "s", [A, B], 2, pool=counting, runs=runs)
    held = run_keys(scenario, [A, B], 2)
    other_seed = compare(scenario, "s", [A, B], 2, seed=8, pool=counting, runs=runs)
    assert other_seed.reused == 0 and len(counting.sent[-1]) == 4 and held.isdisjoint(counting.sent[-1])
    # the same name, other content (as an experiment's horizon keeps its file's name)
    longer = scenario.with_overrides("longer", name=scenario.name, quarters=3)
    assert longer.name == scenario.name
    other_scenario = compare(longer, "s", [A, B], 2, pool=counting, runs=runs)
    assert other_scenario.reused == 0 and len(counting.sent[-1]) == 4 and held.isdisjoint(counting.sent[-1])
    assert_same(other_scenario, compare(longer, "s", [A, B], 2, pool=pool))
    other_param = compare(scenario, "s", [A, B6], 2, pool=counting, runs=runs)
    assert other_param.reused == 2 and sorted(counting.sent[-1]) == sorted(run_keys(scenario, [B6], 2))


def test_failed_runs_run_again_and_a_cancelled_comparisons_finished_runs_are_kept(pool):
    scenario, runs, counting = short(), RunCache(), Counting(pool)
    flaky = [A, PolicyChoice("tests.failing_policy:SometimesFails")]
    first = compare(scenario, "s", flaky, 4, pool=counting, runs=runs)
    failed = sorted(key for key, _ in first.failures)
    assert 0 < len(failed) < 4  # the policy fails about half of its runs
    again = compare(scenario, "s", flaky, 4, pool=counting, runs=runs)
    assert counting.sent[-1] == failed and again.reused == 8 - len(failed)
    assert_same(again, first)
    runs, done = RunCache(), []  # (the cache above holds A's runs on these seeds)
    with pytest.raises(Cancelled):
        compare(
            scenario,
            "s",
            [A, B],
            3,
            pool=counting,
            on_run=lambda *a: done.append(a),
            cancelled=lambda: (1, 6) in done,
            runs=runs,
        )
    resumed = compare(scenario, "s", [A, B], 3, pool=counting, runs=runs)
    assert resumed.reused == 1 and len(counting.sent[-1]) == 5


def _output(key, rows):
    return RunOutput(key, "done", "", 0.0, 0.0, 0.0, [(1, "all", "m", float(i)) for i in range(rows)], [], [])


def test_the_cache_drops_the_least_recently_used_runs_past_its_bound():
    size = len(pickle.dumps(_output("a", 10), protocol=pickle.HIGHEST_PROTOCOL))
    cache = RunCache(max_bytes=2 * size + size // 2)  # room for two
    cache.put(("a", ""), _output("a", 10))
    cache.put(("b", ""), _output("b", 10))
    assert cache.get(("a", "")) == _output("a", 10)  # a is now the most recently used
    cache.put(("c", ""), _output("c", 10))
    assert cache.get(("b", "")) is None and len(cache) == 2 and cache.nbytes <= cache.max_bytes
    cache.put(("d", ""), RunOutput("d", "failed", "boom", 0.0, 0.0, 0.0, [], [], []))
    cache.put(("e", ""), _output("e", 1000))  # larger than the whole bound
    assert cache.get(("d", "")) is None and cache.get(("e", "")) is None
    assert cache.get(("a", "")) == _output("a", 10) and cache.get(("c", "")) == _output("c", 10)
    # a user policy's key carries its source's hash: an edited policy is another run
    spec = RunSpec("k", "{}", "pkg.mod:Mine", {}, 1)
    assert RunCache.key(spec, {"pkg.mod:Mine": "x"}) != RunCache.key(spec, {"pkg.mod:Mine": "y"})
    assert RunCache.key(RunSpec("k", "{}", "unstructured", {}, 1), {"pkg.mod:Mine": "x"}) == ("k", "")
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0


def test_the_page_stopped_by_sigterm_stops_as_by_ctrl_c_with_its_workers_and_no_traceback():
    import signal
    import socket
    import urllib.request

    pytest.importorskip("dash")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "app", str(SMALL), "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    assert r.status == 200
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "covsim app did not start"
                time.sleep(0.2)
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        assert len(children) >= 2  # the warm workers (and multiprocessing's resource tracker)
        server.send_signal(signal.SIGTERM)  # what a service manager sends
        output, _ = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == 0, output
    assert "Traceback" not in output and "EOFError" not in output, output
    # Its own two lines, where it is and that it stopped: not Dash's and Flask's banners beside them (a new user's).
    assert output.splitlines() == [
        f"covsim what-if page: http://127.0.0.1:{port}/ (Ctrl-C to stop)",
        "covsim what-if page: stopped",
    ], output

    def running(pid: str) -> bool:  # a zombie (exited, not yet reaped by whoever adopted it) is not running
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 10
    while any(running(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [c for c in children if running(c)], [Path(f"/proc/{c}/cmdline").read_text() for c in children]


def test_the_page_stopped_while_it_starts_stops_as_when_it_serves():
    # Before it serves (its libraries loading, its workers starting): exit 0 and its line, not 130 and "a batch
    # keeps the runs it finished".
    import signal
    import socket

    pytest.importorskip("dash")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "sim.cli", "app", "scenarios/small.toml", "--port", str(port), "--workers", "1"]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    # Stopped as its first worker process starts (not multiprocessing's resource tracker, started before it), not
    # after a fixed sleep: before covsim's command line catches SIGTERM, the interpreter's start-up has the
    # disposition it inherited, which ends the process at once (-15) or, where the test runner's environment
    # ignores SIGTERM, drops the stop so that the page served on (a CI run); and a stop before the command itself
    # runs (its options parsed) is any command's (130). A stop inside the start itself: test_batch_faults.
    def worker_started() -> bool:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        lines = [Path(f"/proc/{c}/cmdline") for c in children]
        return any("spawn_main" in line.read_text() for line in lines if line.exists())

    deadline = time.monotonic() + 60
    while not worker_started():
        assert server.poll() is None and time.monotonic() < deadline, "covsim app started no worker"
        time.sleep(0.002)
    server.send_signal(signal.SIGTERM)
    output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output
    assert output.splitlines()[-1] == "covsim what-if page: stopped"
    assert "Traceback" not in output
    assert "covsim what-if page: http" not in output  # stopped while it started, not once it served


def test_a_ctrl_c_that_python_wrapped_in_another_error_is_an_interrupt(monkeypatch):
    from click.testing import CliRunner

    import sim.scenario_file
    from sim.cli import main

    def wrapped(*_: object) -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as e:  # as Python wraps an error in a class's __set_name__
            raise RuntimeError("Error calling __set_name__") from e

    monkeypatch.setattr(sim.scenario_file, "load_scenario", wrapped)
    result = CliRunner().invoke(main, ["validate", "scenarios/small.toml"])
    assert result.exit_code == 130
    assert result.stderr.strip().startswith("interrupted: nothing half-written is left")


def test_a_policy_keeps_its_colour_from_one_comparison_to_the_next():
    # A trial saw segment_tiers orange in one comparison and territories orange in the next.
    from sim.app.charts import PALETTE, colours
    from sim.plots import CAUSE_COLOURS

    first = colours(["unstructured", "segment_tiers", "territories"])
    second = colours(["territories", "named_accounts", "segment_tiers", "my.module:Mine", "your.module:Yours"])
    assert first["segment_tiers"] == second["segment_tiers"] and first["territories"] == second["territories"]
    assert len(set(second.values())) == len(second)  # no two alike in one comparison of up to ten
    mixed = colours(["unstructured", "a.b:C", "d.e:F", "g.h:I"])
    assert len(set(mixed.values())) == 4 and mixed["unstructured"] == first["unstructured"]
    assert not {c.lower() for c in CAUSE_COLOURS} & {c.lower() for c in PALETTE}  # a cause never wears a policy's


def test_a_panel_title_is_wrapped_to_its_panel():
    from sim.app.charts import wrapped

    assert wrapped("rep lottery (who picks you up matters)") == "rep lottery (who picks<br>you up matters)"
    assert wrapped("customers") == "customers"


def test_the_results_say_what_each_metric_means():
    # A trial met missed_stalled and rep_lottery on the page with no definition there.
    from sim.app.glossary import glossary

    dl = glossary(["revenue_captured", "missed_stalled", "revenue_captured", "won_value_line:a"]).children[1]
    terms = [(dt.children, dd.children) for dt, dd in zip(dl.children[::2], dl.children[1::2], strict=True)]
    assert terms == [
        (
            "revenue_captured: revenue captured (won + renewals a rep won)",
            "won value of new logos and expansions plus retained renewal value, in the quarter (currency) "
            "[currency units]. Higher is better. In the tables: total over the run.",
        ),
        (
            "missed_stalled: missed stalled",
            "opportunities missed in the quarter: answered in time, but its effort was not delivered before its "
            "deadline (docs/metrics.md) [opportunities]. Lower is better. In the tables: total over the run.",
        ),
        (
            "won_value_line:a: won value (a)",
            "won value of the line's new logos and expansions in the quarter (currency) [currency units]. "
            "Higher is better. In the tables: total over the run.",
        ),
    ]
    # A metric with no direction says so, as the command line's legend does (an analyst read the silence as a gap).
    dl = glossary(["utilisation"]).children[1]
    assert dl.children[1].children.endswith(
        "[share]. Neither way is better in itself (an input, worth what it brings). In the tables: mean of quarters."
    )


def test_the_run_summary_names_each_shock_with_its_size():
    # The page's summary under the answer said "Q2 demand" whatever factor the form had set.
    from sim.app.results import results

    shocked = load_scenario(SMALL).with_overrides(
        "s", shocks=[{"kind": "demand", "quarter": 2, "factor": 0.7}], quarters=2
    )
    c = compare(shocked, "s", [PolicyChoice("unstructured"), PolicyChoice("pooled")], 3)
    (summary,) = [d for d in results(c, {}) if getattr(d, "id", None) == "run-summary"]
    assert "shocks: demand in quarter 2, factor 0.7), root seed 7, in " in summary.children
    # The seed and the parameters set, which reproduce the runs beside the scenario (an analyst could not).
    tuned = compare(shocked, "s", [PolicyChoice("unstructured"), PolicyChoice("pooled", {"named_per_rep": 30})], 3,
                    seed=11)  # fmt: skip
    (summary,) = [d for d in results(tuned, {}) if getattr(d, "id", None) == "run-summary"]
    assert "), root seed 11, parameters set: pooled: named_per_rep = 30, in " in summary.children
    # "Means over 3 replications" above a mean of fewer (a metric undefined in some), with no word of it or of '-'.
    (means,) = [d for d in results(c, {}) if str(getattr(d, "children", "")).startswith("Means over ")]
    assert means.children.startswith("Means over 3 replications (those a metric is defined in), 95% t intervals")
    assert means.children.endswith(
        "'-' is undefined for that policy (in a paired row, for it or the baseline), or an interval too few runs give"
    )


def test_the_progress_line_of_a_finished_comparison_says_how_many_runs_failed():
    # "done: 10 runs in 1.8 s" when 5 of them had failed.
    from sim.app.callbacks import done_text
    from sim.app.jobs import Job

    scenario = load_scenario(SMALL).with_overrides("short", quarters=1)
    flaky = compare(
        scenario, "s", [PolicyChoice("unstructured"), PolicyChoice("tests.failing_policy:SometimesFails")], 4
    )
    failed = len(flaky.failures)
    assert 0 < failed < 4
    job = Job("j", started=0.0, state="done", total=8, result=flaky, ended=1.25)
    assert done_text(job) == f"done: 8 runs in 1.2 s, {failed} of them failed (below)"
    fine = compare(scenario, "s", [PolicyChoice("unstructured"), PolicyChoice("segment_tiers")], 1)
    assert done_text(Job("k", started=0.0, state="done", total=2, result=fine, ended=0.5)) == "done: 2 runs in 0.5 s"


def test_a_pool_closed_while_a_comparison_runs_stops_its_workers_and_starts_none():
    # The page's server stopped mid-comparison: the comparison's thread went on and started a worker as the process
    # exited, which died in a traceback (EOFError in multiprocessing's spawn).
    import multiprocessing

    scenario = load_scenario(SMALL).with_overrides("short", quarters=1)
    choices = [PolicyChoice("unstructured"), PolicyChoice("tests.failing_policy:NeverPlans")]
    ended = []

    def comparison(workers):
        try:
            compare(scenario, "s", choices, 2, pool=workers)
        except RuntimeError as e:
            ended.append(str(e))

    before = set(multiprocessing.active_children())  # the module's pool's workers, say
    workers = WorkerPool(2, warm_up_spec())
    thread = threading.Thread(target=comparison, args=(workers,))
    thread.start()
    time.sleep(3)  # the stuck runs are out
    workers.close()
    thread.join(timeout=10)
    assert not thread.is_alive() and ended == ["the worker pool was closed while runs were out"]
    assert [p for p in multiprocessing.active_children() if p not in before] == []
    with pytest.raises(RuntimeError, match="closed"):  # and a comparison that starts now starts no worker
        compare(scenario, "s", choices, 2, pool=workers)
    assert [p for p in multiprocessing.active_children() if p not in before] == []


def test_a_comparison_whose_every_run_failed_says_so_and_counts_the_errors_it_shows():
    # The answer read "none yet: no run has finished", as if still running, and "4 runs failed:" named 3.
    from sim.app.results import answer_block, results

    scenario = load_scenario(SMALL).with_overrides("short", quarters=1)
    failing = [PolicyChoice("tests.failing_policy:AlwaysFails"), PolicyChoice("tests.failing_policy:AlwaysFailsToo")]
    c = compare(scenario, "s", failing, 2)
    assert len(c.failures) == 4
    drawn = results(c, {})
    assert [p.children for p in drawn[0].children] == ["Answer: none: every run failed (below)."]
    assert drawn[1].children.startswith("4 runs failed, the first 3: ")
    assert drawn[1].children.count("planning failed on purpose in quarter 1") == 3
    # Nothing more: no tables of headers only, no empty charts (a trial met both).
    assert len(drawn) == 3 and drawn[2].id == "run-summary" and c.results.empty
    # One failed run of four: the report's answer, and the one error named without "the first".
    flaky = compare(scenario, "s", [PolicyChoice("unstructured"), PolicyChoice("tests.failing_policy:AlwaysFails")], 1)
    drawn = results(flaky, {})
    assert not flaky.answer.startswith("Answer: none: every run") and "\n" not in flaky.answer  # one line
    assert drawn[0].id == "answer" and [p.children for p in drawn[0].children] == [flaky.answer]
    # An answer with findings: its first line, then a list of them, an item each, as the terminal prints them.
    block = answer_block("Answer: x.\n  - One.\n  - Two: a - b.")
    assert block.children[0].children == "Answer: x."
    assert [item.children for item in block.children[1].children] == ["One.", "Two: a - b."]
    # A finding's parts after its first (the Why's pieces): a list nested in its item, as the terminal indents them.
    block = answer_block("Answer: x.\n  - One.\n  - Why: a;\n    - b;\n    - c - d.")
    one, why = block.children[1].children
    assert one.children == "One." and why.children[0] == "Why: a;"
    assert [item.children for item in why.children[1].children] == ["b;", "c - d."]
    assert drawn[1].children.startswith("1 run failed: ")


def test_a_panel_with_nothing_to_draw_says_why():
    # "accounts that changed owner" under policies with no owners was an empty panel on a -1..1 axis.
    from sim.app.charts import means_figure

    s = load_scenario(SMALL).with_overrides("s", quarters=2)
    c = compare(s, "s", [PolicyChoice("unstructured"), PolicyChoice("pooled")], 3)
    fig = means_figure(c, ("owner_changed_share", "revenue_captured"), "h")
    notes = [(a.text, a.xref) for a in fig.layout.annotations if a.xref and a.xref.endswith("domain")]
    assert notes == [("undefined in every run", "x domain")]  # the first panel's; revenue is drawn


def test_a_policy_with_no_bar_in_a_panel_is_said_to_be_undefined_there_not_0():
    # "Promised a touch" has no value under unstructured (it promises nothing): its missing bar read as 0%.
    from sim.app.charts import means_figure

    s = load_scenario(SMALL).with_overrides("s", quarters=2)
    c = compare(s, "s", [PolicyChoice("unstructured"), PolicyChoice("segment_tiers")], 3)
    fig = means_figure(c, ("promised_untouched_share", "owner_changed_share"), "h")
    marks = [(a.text, a.x, a.xref) for a in fig.layout.annotations if a.text in ("undefined",) or "0" in a.text]
    assert ("undefined", "unstructured", "x") in marks
    # The second panel: segment_tiers keeps its books over these two quarters (0), unstructured has none.
    means = c.detail_means.set_index(["metric", "policy"])["mean"]
    assert means[("owner_changed_share", "segment_tiers")] == 0
    assert ("0, and undefined for unstructured", 0.5, "x2 domain") in marks


def test_a_table_names_each_metric_s_unit_and_says_when_holm_and_bonferroni_disagree():
    # A director read bare 8.1M and 0.14 with the units only in the glossary, and p=0.039 beside an interval that
    # includes 0 as a clear difference: compare says the corrections disagree at the edge, the page did not.
    import dataclasses

    from sim.app.results import table
    from sim.experiment.stats import HOLM_ALONE

    s = load_scenario(SMALL).with_overrides("s", quarters=2)
    c = compare(s, "s", [PolicyChoice("unstructured"), PolicyChoice("pooled")], 3)

    def drawn(c) -> tuple[dict[str, list], list[str]]:
        wrapper, *notes = table(c, False, "headline").children
        rows = wrapper.children.children[1].children
        return {r.id.removeprefix("headline-"): r.children[0].children for r in rows}, [n.children for n in notes]

    cells, _ = drawn(c)
    assert cells["profit"][0] == "profit" and cells["profit"][1].children == "currency units"
    # customers won and lost beside misses and continuity: a fall in customers had been read as churn
    detail = table(c, True, "detail").children[0].children.children[1].children
    assert [r.id.removeprefix("detail-") for r in detail][-3:] == ["new_logos", "churned", "renewal_rate"]
    assert cells["miss_rate"][1].children == "share"
    edge = c.paired.copy()
    edge.loc[edge.metric == "profit", ["p_holm", "low_adj", "high_adj"]] = (0.039, -1.0, 5.0)
    assert drawn(dataclasses.replace(c, paired=edge))[1] == [HOLM_ALONE]
    clear = c.paired.copy()
    clear["p_holm"], clear["low_adj"], clear["high_adj"] = 0.5, -1.0, 1.0  # nothing below 0.05: no note
    assert drawn(dataclasses.replace(c, paired=clear))[1] == []


def test_the_progress_line_of_a_running_comparison_says_about_how_long_is_left():
    # A director watching "running: 10 of 24 runs, 8.1 s" had no idea how long to wait.
    from sim.app.callbacks import running_text
    from sim.app.jobs import Job

    assert running_text(Job("j", started=0.0, total=24, finished=10, ended=8.1)) == (
        "running: 10 of 24 runs, 8.1 s, about 12 s left"  # 8.1 s / 10 runs x 14 runs = 11.3 s
    )
    assert running_text(Job("j", started=0.0, total=24, finished=0, ended=2.0)) == "running: 0 of 24 runs, 2.0 s"
    assert running_text(Job("j", started=0.0, total=0, ended=0.5)) == "running: 0 of ? runs, 0.5 s"  # not planned yet


def test_a_chart_heading_says_whether_its_bars_have_intervals_and_leaves_room_for_its_panels_titles():
    # "(95% t intervals)" over bars of one replication, which have none; a three-line panel title ran into the
    # heading, and the rep lottery's long unit over the bars of the panel to its left.
    from sim.app.charts import means_figure

    s = load_scenario(SMALL).with_overrides("s", quarters=1)
    metrics = ("response_days_p90", "rep_lottery")
    for n, said in ((1, "h (no intervals: they need 3 replications)"), (3, "h (95% t intervals)")):
        fig = means_figure(compare(s, "s", [PolicyChoice("unstructured"), PolicyChoice("pooled")], n), metrics, "h")
        assert fig.layout.title.text == said
    titles = [a.text for a in fig.layout.annotations if a.yref == "paper"]
    assert titles[0] == "response time, 90th<br>percentile (on-time<br>answers)"  # three lines
    assert fig.layout.margin.t == 50 + 23 * 3
    assert fig.layout.yaxis2.title.text == "standard deviation of a<br>probability, 0 to 0.5<br>(mean of quarters)"
