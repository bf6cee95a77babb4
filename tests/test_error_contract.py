"""The error contract of every command (README, "When something goes wrong").

Bad input: one line per problem, exit 2, nothing run or written. A failure of
the system or of covsim itself: one line, exit 1, no traceback, and no set of
output files left half-written. Output folders are checked before any work.
"""

from __future__ import annotations

import re
import signal
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import sim.plots
import sim.policies.rules
import sim.run_tables
from sim.cli import main
from sim.errors import InputError, PolicyError
from sim.files import atomic_write_all, unwritable
from sim.policies.unstructured import Unstructured
from sim.run import run
from sim.scenario import load_scenario
from tests.conftest import ROOT, SMALL, user_module

RUN = ["run", str(SMALL), "--quarters", "1"]


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def lines_of(stderr: str) -> list[str]:
    return stderr.strip().splitlines()


@pytest.mark.parametrize(
    "command",
    [
        RUN,
        ["compare", str(SMALL), "--policy", "unstructured", "--policy", "segment_tiers", "--replications", "2"],
        ["experiment", str(Path(__file__).parents[1] / "experiments" / "hunter_vs_farmer.toml")],
    ],
    ids=["run", "compare", "experiment"],
)
def test_an_out_folder_under_a_file_is_refused_before_any_run(tmp_path, command):
    (tmp_path / "notes.txt").write_text("x")
    result = invoke(*command, "--out", str(tmp_path / "notes.txt" / "results"))
    assert result.exit_code == 2, result.output
    assert lines_of(result.stderr) == [
        f"error: --out {tmp_path / 'notes.txt' / 'results'}: {tmp_path / 'notes.txt'} is not a folder; nothing was run"
    ]
    assert "running" not in result.output and "runs done" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize(
    "command",
    [
        RUN,
        ["compare", str(SMALL), "--policy", "unstructured", "--replications", "2"],
        ["stress", str(SMALL), "--policy", "unstructured", "--quarters", "2"],
        ["experiment", str(ROOT / "experiments" / "hunter_vs_farmer.toml")],
        ["backtest", "--accounts", "a", "--pipeline", "p", "--teams", "t", "--cutoff", "2017-05-01"],
    ],
    ids=["run", "compare", "stress", "experiment", "backtest"],
)
def test_an_out_folder_that_is_a_file_is_refused_in_the_words_of_the_other_out_problems(tmp_path, command):
    # click said "Invalid value for '--out': Directory 'notes.txt' is a file." (see: covsim run --help)
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    result = invoke(*command, "--out", str(notes))
    assert result.exit_code == 2, result.output
    assert f"error: --out {notes}: {notes} is not a folder; nothing was run" in lines_of(result.stderr)
    assert notes.read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_calibrate_out_naming_a_folder_asks_for_the_scenario_file(tmp_path):
    # click said "Invalid value for '--out': File 'x' is a directory."
    (tmp_path / "results").mkdir()
    out = tmp_path / "results"
    result = invoke("calibrate", "--accounts", "a", "--pipeline", "p", "--teams", "t", "--out", str(out))
    assert result.exit_code == 2
    assert f"error: --out {out}: a folder; name the scenario file to write (as {out / 'crm.toml'})" in lines_of(
        result.stderr
    )
    assert list(out.iterdir()) == []


def test_an_out_that_is_a_pipe_or_device_is_refused_and_left_as_it_is(tmp_path):
    # A helper's trial: calibrate --out fifo.toml (or /dev/full, as root) replaced the pipe or device node with an
    # ordinary file and said "wrote".
    import os
    import stat

    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    result = invoke("calibrate", "--accounts", "a", "--pipeline", "p", "--teams", "t", "--out", str(fifo))
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        f"error: --out {fifo}: a named pipe, not a file; name the scenario file to write; nothing was read"
    ]
    # run --out writes metrics.csv and three more: a pipe in one's place is named before any run.
    os.mkfifo(tmp_path / "metrics.csv")
    result = invoke(*RUN, "--out", str(tmp_path))
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        f"error: --out {tmp_path}: metrics.csv in it is a named pipe, where a file goes; nothing was run"
    ]
    assert all(stat.S_ISFIFO(p.lstat().st_mode) for p in (fifo, tmp_path / "metrics.csv"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo.toml", "metrics.csv"]
    # A link to a device (as /dev/stdout is) would be replaced by a file: refused too, the link left as it is.
    link = tmp_path / "link.toml"
    link.symlink_to("/dev/null")
    result = invoke("calibrate", "--accounts", "a", "--pipeline", "p", "--teams", "t", "--out", str(link))
    assert lines_of(result.stderr) == [
        f"error: --out {link}: a device, not a file; name the scenario file to write; nothing was read"
    ]
    assert link.is_symlink() and os.readlink(link) == "/dev/null"


def test_a_read_only_file_system_is_refused_before_any_run():
    # /proc refuses new files even to root, so this holds whoever runs the tests.
    result = invoke(*RUN, "--out", "/proc/covsim-results")
    assert result.exit_code == 2
    (line,) = lines_of(result.stderr)
    # Its "No such file or directory" would read as if /proc were missing.
    assert line == "error: --out /proc/covsim-results: cannot write in /proc (it takes no new files); nothing was run"


def test_calibrate_checks_where_it_will_write_before_reading_the_export(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    missing = str(tmp_path / "missing.csv")
    out = tmp_path / "notes.txt" / "crm.toml"
    result = invoke("calibrate", "--accounts", missing, "--pipeline", missing, "--teams", missing, "--out", str(out))
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        f"error: --out {out.parent}: {tmp_path / 'notes.txt'} is not a folder; nothing was read"
    ]


@pytest.mark.parametrize(
    "command",
    [
        RUN,
        ["compare", str(SMALL), "--policy", "unstructured"],
        ["stress", str(SMALL), "--policy", "unstructured"],
        ["experiment", str(ROOT / "experiments" / "hunter_vs_farmer.toml")],
        ["calibrate", "--accounts", "a", "--pipeline", "p", "--teams", "t"],
        ["backtest", "--accounts", "a", "--pipeline", "p", "--teams", "t", "--cutoff", "2017-05-01"],
    ],
    ids=["run", "compare", "stress", "experiment", "calibrate", "backtest"],
)
def test_an_empty_out_is_refused_not_read_as_the_current_folder(tmp_path, monkeypatch, command):
    # run --out "" wrote four files into the folder it was run from; calibrate said "--out .:  in it is a folder".
    monkeypatch.chdir(tmp_path)
    for out in (["--out", ""], ["--out="]):
        result = invoke(*command, *out)
        assert result.exit_code == 2
        assert lines_of(result.stderr) == [
            "error: --out: the name is empty (it would be the current folder); name where to write"
        ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["calibrate", "backtest"])
def test_calibrate_and_backtest_say_every_bad_option_at_once_before_reading(tmp_path, command):
    # A bad --column hid a bad --date-format (found only when the dates were read), --param, --policy and --out.
    missing = str(tmp_path / "missing.csv")
    (tmp_path / "a_file").write_text("x")
    args = ["--accounts", missing, "--pipeline", missing, "--teams", missing, "--cutoff", "2017-05-01"]
    args += ["--column", "x", "--date-format", "%", "--out", str(tmp_path / "a_file" / "out")]
    backtest = command == "backtest"
    args += ["--param", "y", "--policy", "nope"] if backtest else []
    result = invoke(command, *args)
    assert result.exit_code == 2
    # calibrate's --out is the file to write, backtest's the folder: each names the folder it cannot write in.
    out, spared = (tmp_path / "a_file" / "out", "run") if backtest else (tmp_path / "a_file", "read")
    assert [x.split(" (built-in")[0] for x in lines_of(result.stderr)] == [
        "error: --column 'x': expected FILE_KIND.FIELD=NAME, e.g. pipeline.close_value=amount",
        "error: --date-format: '%' is no date pattern: stray % in format '%'",
        *(["error: --param 'y': expected KEY=VALUE", "error: --policy: unknown policy 'nope'"] if backtest else []),
        f"error: --out {out}: {tmp_path / 'a_file'} is not a folder; nothing was {spared}",
    ]


def test_a_full_disk_while_writing_leaves_no_file_of_the_set_and_says_so_in_one_line(tmp_path, monkeypatch):
    def disk_full(metrics, title, path, shocks=()):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(sim.plots, "write_summary_png", disk_full)
    out = tmp_path / "results" / "small"
    result = invoke(*RUN, "--out", str(out))
    assert result.exit_code == 1
    (line,) = lines_of(result.stderr)[-1:]
    assert line == (
        f"error: {out}/summary.png: No space left on device; none of metrics.csv, weekly.csv, seats.csv, summary.png was written"
    )
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # not metrics.csv, not weekly.csv, not even the folders


def test_an_unexpected_failure_is_one_line_with_exit_1_and_the_traceback_on_request(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("index 7 is out of bounds\nfor axis\x1b[2K 0")

    # Patched where only the command reads it (a module importing it meanwhile would keep the fake).
    monkeypatch.setattr(sim.run_tables, "quarter_table", broken)
    result = invoke(*RUN)
    assert result.exit_code == 1
    assert lines_of(result.stderr)[-1] == (
        "error: covsim failed unexpectedly (RuntimeError: index 7 is out of bounds for axis\\x1b[2K 0); "
        "rerun with COVSIM_TRACEBACK=1 to see where, and please report it"
    )
    handlers = [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)]
    shown = invoke(*RUN, env={"COVSIM_TRACEBACK": "1"})
    assert isinstance(shown.exception, RuntimeError)
    # The caller's process goes on with its own stop handlers (covsim's had stayed: a later SIGTERM to a test
    # runner raised KeyboardInterrupt).
    assert [signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)] == handlers


def test_a_report_that_cannot_be_written_names_what_is_stored_and_how_to_write_it(tmp_path, monkeypatch):
    import sim.experiment.report as report

    def disk_full(store, out_dir, step, across=None):
        raise OSError(28, "No space left on device", str(out_dir / "report.md"))

    monkeypatch.setattr(report, "write_report", disk_full)
    args = ["compare", str(SMALL), "--policy", "unstructured", "--policy", "segment_tiers"]

    def compared(folder: str) -> tuple[Result, Path]:
        out = tmp_path / folder
        return invoke(*args, "--replications", "2", "--quarters", "1", "--executor", "serial", "--out", str(out)), out

    result, out = compared("cmp")
    assert result.exit_code == 1
    assert lines_of(result.stderr)[-1] == (
        f"error: the report could not be written ({out / 'report.md'}: No space left on device); "
        f"4 runs stored in {out}; write it with: covsim report {out}"
    )
    assert (out / "store.sqlite").exists()
    assert sorted(f.name for f in out.glob("store.sqlite*")) == ["store.sqlite"]  # closed: no -wal, -shm
    # Ctrl-C while it is written: it said "interrupted: nothing half-written is left", and not that the runs
    # were all stored and one command writes the report.

    def raising(error: BaseException) -> Callable[..., None]:
        def fail(*_: object) -> None:
            raise error

        return fail

    def ends(folder: str, code: int) -> tuple[str, Path]:
        """The last line of a compare into ``folder``, which exits with ``code``."""
        result, out = compared(folder)
        assert result.exit_code == code, result.stderr
        return lines_of(result.stderr)[-1], out

    monkeypatch.setattr(report, "write_report", raising(KeyboardInterrupt()))
    line, out = ends("cmp2", 130)
    assert line == f"interrupted while writing the report; 4 runs stored in {out}; write it with: covsim report {out}"
    # SQLite's side files stayed beside a store whose report was stopped: copying store.sqlite alone then
    # missed what they held. The store is closed on the way out, as after a finished command.
    assert sorted(f.name for f in out.glob("store.sqlite*")) == ["store.sqlite"]
    result = invoke("report", str(out))
    assert result.exit_code == 130 and lines_of(result.stderr)[-1] == "interrupted: nothing half-written is left"
    assert sorted(f.name for f in out.glob("store.sqlite*")) == ["store.sqlite"]
    # Ctrl-C after the runs, while the terminal's statistics were drawn: it said only "interrupted: nothing
    # half-written is left", and not how to write the report of the runs all stored.
    import sim.cli.batch as batch

    monkeypatch.setattr(batch, "_summary", raising(KeyboardInterrupt()))
    line, out = ends("cmp3", 130)
    assert (
        line == f"interrupted before the report was written; 4 runs stored in {out}; write it with: covsim report {out}"
    )
    assert not (out / "report.md").exists()
    # A terminal that cannot be written to (> /dev/full) was said as the report's failure.
    monkeypatch.setattr(batch, "_summary", raising(OSError(28, "No space left on device")))
    line, out = ends("cmp4", 1)
    assert line == (
        "error: the summary to the terminal could not be written (No space left on device); 4 runs stored in "
        f"{out}; write it with: covsim report {out}"
    )


def test_unwritable_finds_the_nearest_existing_folder_and_creates_nothing(tmp_path):
    assert unwritable(tmp_path / "a" / "b" / "c") is None
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "f").write_text("")
    assert unwritable(tmp_path / "f" / "b") == f"{tmp_path / 'f'} is not a folder"
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert unwritable(tmp_path / "dangling" / "x") == f"{tmp_path / 'dangling'} is not a folder"


def test_a_set_of_files_is_written_all_or_none(tmp_path):
    (tmp_path / "kept.csv").write_text("old")

    def fails(path: Path) -> None:
        path.write_text("half")
        raise ValueError("cannot draw")

    with pytest.raises(ValueError):
        atomic_write_all(tmp_path, {"kept.csv": lambda p: p.write_text("new"), "figure.png": fails})
    assert [p.name for p in tmp_path.iterdir()] == ["kept.csv"]
    assert (tmp_path / "kept.csv").read_text() == "old"

    atomic_write_all(tmp_path, {"kept.csv": lambda p: p.write_text("new"), "figure.png": lambda p: p.write_text("ok")})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure.png", "kept.csv"]
    assert (tmp_path / "kept.csv").read_text() == "new"


def test_a_policy_parameter_naming_a_segment_the_scenario_lacks_is_refused_before_any_run() -> None:
    result = invoke(*RUN, "--policy", "segment_tiers", "--param", "field_segments=enterprise,nosuch")
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        "error: --param field_segments: unknown segment 'nosuch' (the scenario's: enterprise, mid_market, smb)"
    ]
    both = invoke(*RUN, "--policy", "segment_tiers", "--param", "pooled_segments=enterprise")
    assert lines_of(both.stderr) == [
        "error: --param pooled_segments: 'enterprise' is also a field segment (name it in one of the two)"
    ]


def test_an_experiment_whose_policy_names_a_missing_segment_at_a_design_point_runs_nothing(tmp_path):
    experiment = tmp_path / "e.toml"
    experiment.write_text(
        f'name = "e"\nscenario = "{SMALL}"\nreplications = 3\n'
        '[[policies]]\nname = "segment_tiers"\n'
        '[[factors]]\nname = "field"\ntarget = "policy.field_segments"\nvalues = ["enterprise", "large"]\n'
    )
    result = invoke("experiment", str(experiment), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        f"error: {experiment}: policies.0 (segment_tiers) at design point 1: params.field_segments: "
        "unknown segment 'large' (the scenario's: enterprise, mid_market, smb) (set to 'large' by factor field)"
    ]
    assert not (tmp_path / "out").exists()


def test_an_experiment_s_mistakes_of_every_stage_are_listed_at_once(tmp_path):
    # A misspelt key, a metric of no product line, a factor aimed at no value and a policy parameter out of its
    # choices: one run shows them all, where each fix used to reveal the next.
    experiment = tmp_path / "e.toml"
    experiment.write_text(
        f'name = "e"\nscenario = "{SMALL}"\nreplicatons = 3\n'
        'metrics = ["revenue_captured", "won_value_line:security"]\n'
        '[[policies]]\nname = "segment_tiers"\nparams = { lead_routing = "assign" }\n'
        '[[factors]]\nname = "inside"\ntarget = "scenario.reps.9.count"\nvalues = [1, 2]\n'
    )
    result = invoke("experiment", str(experiment), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        f"error: {experiment}: replicatons: unknown key (did you mean 'replications'?)",
        f"error: {experiment}: metrics.1: 'won_value_line:security' names no product line of the scenario (it has one)",
        f"error: {experiment}: factors.0.target: 'scenario.reps.9.count' matches no value of the resolved scenario "
        "(scenario.reps has 3 entries, 0..2; scenario.reps.* sets every one)",
        f"error: {experiment}: policies.0 (segment_tiers) at design point 0: params.lead_routing: Input "
        "should be 'queue' or 'assigned', not 'assign' (did you mean 'assigned'?)",
    ]
    assert not (tmp_path / "out").exists()


def test_an_unknown_policy_is_said_once_by_its_key_and_a_shock_by_the_file_it_is_in(tmp_path):
    from sim.experiment.loading import load_experiment
    from sim.scenario_file import ROLLOUT_KEPT

    experiment = tmp_path / "e.toml"
    head = f'name = "e"\nscenario = "{SMALL}"\nquarters = 1\n'
    policies = '[[policies]]\nname = "unstructred"\n[[policies]]\nname = "segment_tiers"\n'
    good = policies.replace("unstructred", "unstructured")
    factor = '[[factors]]\nname = "books"\ntarget = "policy.accounts_per_rep"\nvalues = [40, 80]\n'
    experiment.write_text(head + policies + factor)
    result = invoke("experiment", str(experiment), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    (line,) = lines_of(result.stderr)  # not again at every design point, nor under another key
    assert line.startswith(f"error: {experiment}: policies.0.name: unknown policy 'unstructred' (did you mean ")
    # A shock of the experiment's past its horizon: the experiment file, its shock's own number.
    shocked = tmp_path / "shocked.toml"
    shocked.write_text(SMALL.read_text() + '\n[[shocks]]\nkind = "demand"\nquarter = 1\nfactor = 0.9\n')
    shock = '[[shocks]]\nkind = "demand"\nquarter = 5\nfactor = 0.7\n'
    experiment.write_text(head.replace(str(SMALL), str(shocked)).replace("quarters = 1", "quarters = 2") + good + shock)
    result = invoke("experiment", str(experiment), "--out", str(tmp_path / "out"))
    assert lines_of(result.stderr) == [f"error: {experiment}: shocks.0.quarter: 5 is after the last quarter (2)"]
    # A shock of the scenario's own past the experiment's horizon is left out of its runs, with a note naming the
    # scenario file and the horizon, as covsim compare --quarters leaves one out (a researcher's file was refused);
    # a mistake of the scenario's is still said at that horizon, its shocks numbered as in the file.
    shocked.write_text(SMALL.read_text() + '\n[[shocks]]\nkind = "demand"\nquarter = 3\nfactor = 0.9\n')
    experiment.write_text(head.replace(str(SMALL), str(shocked)) + good)
    note = f"note: {shocked}: shocks.0: demand in quarter 3 is after the run's last quarter (quarters = 1 of {experiment}): left out of it"
    result = invoke("validate", str(experiment))
    assert result.exit_code == 0 and lines_of(result.stderr)[0] == note
    _, base = load_experiment(experiment)
    assert base.quarters == 1 and base.shocks == ()
    result = invoke("experiment", str(experiment), "--out", str(tmp_path / "ran"), "--executor", "serial")
    assert result.exit_code == 0 and note in lines_of(result.stderr)
    # ... and its report opens by saying so (the note is gone once the report is read).
    assert (tmp_path / "ran" / "report.md").read_text().split("\n\n")[1] == (
        f"Left out of every run, after the runs' last quarter (quarters = 1 of {experiment}): `shocks.0` (demand in "
        f"quarter 3) of `{shocked}`."
    )
    shocked.write_text(shocked.read_text().replace("factor = 0.9", "factor = -1"))
    result = invoke("validate", str(experiment))
    assert result.exit_code == 2 and lines_of(result.stderr) == [
        f"error: {shocked} (with quarters = 1 of {experiment}): shocks.0.factor: Input should be greater than or equal to 0, not -1.0"
    ]
    # With shocks of the experiment's own, or a factor on a scenario shock, none is left out (both count the
    # file's shocks, which leaving some out would renumber: a review's factor on shocks.1 set the file's shocks.2):
    # each past the horizon is refused, said in its file.
    shocked.write_text(shocked.read_text().replace("factor = -1", "factor = 0.9"))
    experiment.write_text(head.replace(str(SMALL), str(shocked)) + good + shock)
    result = invoke("experiment", str(experiment), "--out", str(tmp_path / "out"))
    assert lines_of(result.stderr) == [
        f"error: {shocked} (with quarters = 1 of {experiment}): shocks.0.quarter: 3 is after the last quarter (1)",
        f"error: {experiment}: shocks.0.quarter: 5 is after the last quarter (1)",
    ]
    on_shock = '[[factors]]\nname = "f"\ntarget = "scenario.shocks.0.factor"\nvalues = [0.8, 0.9]\n'
    experiment.write_text(head.replace(str(SMALL), str(shocked)) + good + on_shock)
    result = invoke("experiment", str(experiment), "--out", str(tmp_path / "out"))
    assert lines_of(result.stderr) == [
        f"error: {shocked} (with quarters = 1 of {experiment}): shocks.0.quarter: 3 is after the last quarter (1)"
    ]
    # A rollout of the scenario's past it is refused: its quarters before the new model run the current one.
    rolled = '[[shocks]]\nkind = "rollout"\nquarter = 3\ncurrent = { name = "random_books" }\n'
    shocked.write_text(SMALL.read_text() + "\n" + rolled)
    experiment.write_text(head.replace(str(SMALL), str(shocked)) + good)
    result = invoke("experiment", str(experiment), "--out", str(tmp_path / "out"))
    assert lines_of(result.stderr) == [
        f"error: {shocked} (with quarters = 1 of {experiment}): shocks.0.quarter: 3 is after the last quarter (1): "
        + ROLLOUT_KEPT
    ]
    rollout = '[[shocks]]\nkind = "rollout"\nquarter = 2\ncurrent = { name = "random_books" }\n'
    shocked.write_text(SMALL.read_text() + "\n" + rollout)
    experiment.write_text(
        head.replace(str(SMALL), str(shocked)).replace("quarters = 1", "quarters = 2") + good + rollout
    )
    result = invoke("experiment", str(experiment), "--out", str(tmp_path / "out"))
    assert lines_of(result.stderr) == [
        f"error: {experiment}: shocks.0: a scenario has at most one rollout (shocks.0 of {shocked} is one)"
    ]
    assert not (tmp_path / "out").exists()


def test_a_mistake_found_past_a_mended_key_joins_the_first_and_a_mended_key_s_own_is_not_said_twice(tmp_path):
    experiment = tmp_path / "e.toml"
    head = '[[policies]]\nname = "segment_tiers"\n'
    # A misspelt key and a metric no catalogue has: both, at once.
    experiment.write_text(f'name = "e"\nscenaro = "{SMALL}"\nmetrics = ["revenue_capturd"]\n{head}')
    result = invoke("experiment", str(experiment), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    lines = lines_of(result.stderr)
    assert lines[0] == f"error: {experiment}: scenaro: unknown key (did you mean 'scenario'?)"
    assert len(lines) == 2 and lines[1].startswith(f"error: {experiment}: metrics.0: ")
    # A misspelt key whose value is wrong too: the misspelling is the one problem said, not the key it resembles.
    experiment.write_text(f'name = "e"\nscenario = "{SMALL}"\nreplicatons = "ten"\n{head}')
    result = invoke("experiment", str(experiment), "--out", str(tmp_path / "out"))
    assert lines_of(result.stderr) == [f"error: {experiment}: replicatons: unknown key (did you mean 'replications'?)"]
    assert not (tmp_path / "out").exists()


def test_keys_an_experiment_does_not_know_or_of_a_wrong_value_are_mended_where_a_default_stands_in():
    from sim.experiment.spec import Experiment
    from sim.strict import without_bad_keys

    data = {"name": "e", "scenario": "s.toml", "replicatons": 3, "policies": [{"name": "x", "zzz": "y"}]}
    assert without_bad_keys(Experiment, data) == (
        {
            "name": "e",
            "scenario": "s.toml",
            "replications": 3,  # its "did you mean"
            "policies": [{"name": "x"}],  # no field resembles it: left out
        },
        ["replications"],
    )
    assert data["replicatons"] == 3  # the caller's data is unchanged
    # A wrong value of a key with a default: left out, the default stands in, and its path is said.
    mended = without_bad_keys(Experiment, {**data, "seed": "many", "design": {"kind": "gird"}})
    assert mended is not None and mended[1] == ["seed", "design.kind", "replications"]
    assert "seed" not in mended[0] and mended[0]["design"] == {}
    assert without_bad_keys(Experiment, {**data, "scenario": 3}) is None  # required: nothing stands in
    assert without_bad_keys(Experiment, {**data, "metrics": ["profit", 3]}) is None  # an item of a list
    assert without_bad_keys(Experiment, {"name": "e", "scenario": "s.toml", "replications": 3}) is None


def test_a_wrong_value_no_longer_hides_the_other_mistakes_of_an_experiment_file(tmp_path):
    # A new user's design.kind typo hid the misspelt metric and the unknown policy until it was fixed.
    experiment = tmp_path / "e.toml"
    experiment.write_text(
        f'name = "e"\nscenario = "{SMALL}"\nmetrics = ["revenue_capturd"]\n[design]\nkind = "gird"\n'
        '[[policies]]\nname = "unstructurd"\n'
    )
    result = invoke("experiment", str(experiment), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    lines = lines_of(result.stderr)
    assert (
        lines[0]
        == f"error: {experiment}: design.kind: Input should be 'grid', 'lhs', 'sobol' or 'morris', not 'gird' (did "
        "you mean 'grid'?)"
    )
    assert lines[1].startswith(f"error: {experiment}: metrics.0: unknown metric 'revenue_capturd' (did you mean")
    assert lines[2].startswith(f"error: {experiment}: policies.0.name: unknown policy 'unstructurd' (did you mean")
    assert len(lines) == 3
    # What the default that stood in would make of the rest is not said: an lhs misspelt, its factor's low and
    # high would read as "a grid design needs values", which the file does not have to fix.
    experiment.write_text(
        f'name = "e"\nscenario = "{SMALL}"\n[design]\nkind = "lhss"\nsamples = 4\n[[policies]]\nname = "unstructured"\n'
        '[[factors]]\nname = "f"\ntarget = "policy.notice"\nlow = 0.1\nhigh = 0.3\n'
    )
    result = invoke("experiment", str(experiment), "--out", str(tmp_path / "out"))
    assert lines_of(result.stderr) == [
        f"error: {experiment}: design.kind: Input should be 'grid', 'lhs', 'sobol' or 'morris', not 'lhss' (did you mean 'lhs'?)"
    ]
    # A value listed twice (a check of the whole file, which no mending passes) no longer hides a misspelt policy.
    experiment.write_text(
        f'name = "e"\nscenario = "{SMALL}"\n[[policies]]\nname = "random_book"\n'
        '[[factors]]\nname = "f"\ntarget = "scenario.reps.*.count"\nmode = "scale"\nvalues = [1, 2, 2]\n'
    )
    lines = lines_of(invoke("experiment", str(experiment), "--out", str(tmp_path / "out")).stderr)
    assert lines[0].startswith(f"error: {experiment}: factors.0.values: 2 is listed more than once")
    assert lines[1].startswith(f"error: {experiment}: policies.0.name: unknown policy 'random_book' (did you mean")
    assert len(lines) == 2
    # A misspelt key of a wrong value no longer hides an unknown policy.
    experiment.write_text(f'name = "e"\nscenario = "{SMALL}"\nreplicatons = "x"\n[[policies]]\nname = "nosuch"\n')
    lines = lines_of(invoke("experiment", str(experiment), "--out", str(tmp_path / "out")).stderr)
    assert lines[0] == f"error: {experiment}: replicatons: unknown key (did you mean 'replications'?)"
    assert lines[1].startswith(f"error: {experiment}: policies.0.name: unknown policy 'nosuch'") and len(lines) == 2
    # Nor does a misspelt key, or a wrong value, beside a baseline no label names (a researcher's misspelt policy
    # came out only once both were mended).
    for first, said in (
        ("replicatons = 3", "replicatons: unknown key (did you mean 'replications'?)"),
        ("replications = -3", "replications: Input should be greater than or equal to 1, not -3"),
    ):
        experiment.write_text(
            f'name = "e"\nscenario = "{SMALL}"\n{first}\nbaseline = "unstructurd"\n[[policies]]\n'
            'name = "unstructured"\n[[policies]]\nname = "segment_tier"\n'
        )
        lines = lines_of(invoke("experiment", str(experiment), "--out", str(tmp_path / "out")).stderr)
        assert lines[:2] == [
            f"error: {experiment}: {said}",
            f"error: {experiment}: baseline: 'unstructurd' is not a policy label (unstructured, segment_tier)",
        ]
        assert lines[2].startswith(f"error: {experiment}: policies.1.name: unknown policy 'segment_tier' (did you mean")
        assert len(lines) == 3
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("potential_median", "1e308", "Input should be less than or equal to 1000000000000, not 1e+308"),
        ("potential_sigma", "1e308", "Input should be less than or equal to 5, not 1e+308"),
    ],
)
def test_amounts_and_spreads_that_would_overflow_are_refused(tmp_path, key, value, message):
    text, replaced = re.subn(rf"\n{key} = [^\n]*", f"\n{key} = {value}", SMALL.read_text(), count=1)
    assert replaced == 1  # the first segment sets it
    scenario = tmp_path / "huge.toml"
    scenario.write_text(text)
    result = invoke("validate", str(scenario))
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        f'error: {scenario}: population.segments.0.{key}: {message} (in the block named "enterprise")'
    ]


def _run_user_policy(tmp_path, monkeypatch, module: str, source: str, policy: str, quarters: int):
    """``covsim run`` of the small scenario under ``module:policy``, written from ``source`` into a folder on
    the import path; returns the result and the --out folder."""
    (tmp_path / f"{module}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "out"
    return invoke(
        "run", str(SMALL), "--quarters", str(quarters), "--policy", f"{module}:{policy}", "--out", str(out)
    ), out


def test_a_policy_that_raises_is_named_with_its_quarter_and_week_and_exit_2(tmp_path, monkeypatch):
    source = (
        "from sim.policies.unstructured import Unstructured\n\n"
        "class Raises(Unstructured):\n"
        "    name = 'raises'\n"
        "    def route(self, view, rng):\n"
        "        if view.week > 20:\n"
        "            raise KeyError('account 12')\n"
        "        return super().route(view, rng)\n"
    )
    result, out = _run_user_policy(tmp_path, monkeypatch, "faulty_policies", source, "Raises", 2)
    assert result.exit_code == 2
    # Where in the user's file (no traceback is shown), and the week as the policy's code counts it too.
    assert lines_of(result.stderr)[-1] == (
        f"error: policy raises: route() raised KeyError: 'account 12' (at {tmp_path / 'faulty_policies.py'} line 7, "
        "in route) (quarter 2, week 9 of 13; view.week 21)"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    "numerator, shown",
    [("np.zeros", "NaN"), ("np.ones", r"\+inf")],
    ids=["nan", "inf"],
)
def test_a_policy_whose_priorities_are_nan_or_infinite_is_refused_with_exit_2(tmp_path, monkeypatch, numerator, shown):
    source = (
        "import numpy as np\n"
        "from sim.policies.unstructured import Unstructured\n\n"
        "class OverZero(Unstructured):\n"
        "    name = 'over_zero'\n"
        "    def prioritise(self, view, rng):\n"
        f"        return {numerator}(view.tasks.size) / np.zeros(view.tasks.size)\n"
    )
    module = numerator.replace(".", "_")  # a module each: one imported stays imported
    result, out = _run_user_policy(tmp_path, monkeypatch, module, source, "OverZero", 1)
    assert result.exit_code == 2
    (line,) = [x for x in lines_of(result.stderr) if x.startswith("error:")]
    assert re.fullmatch(
        rf"error: policy over_zero: prioritise\(\) returned {shown} for (\d+) of \1 tasks \(the first: task 0\); "
        r"return a finite number, 0 or less to decline a task \(quarter 1, week 1 of 13; view.week 0\)",
        line,
    ), line
    assert not out.exists()


@pytest.mark.parametrize(
    "args, line",
    [
        (["run", str(SMALL), "--quarters", "0"], "Invalid value for '--quarters': 0 is not in the range 1<=x<=400."),
        (
            ["report", "/nonexistent-folder"],
            "Invalid value for 'OUT_DIR': Directory '/nonexistent-folder' does not exist.",
        ),
        (["nosuch"], "No such command 'nosuch'."),
        (["no\x1b[2Ksuch"], "No such command 'no\\x1b[2Ksuch'."),  # escaped, as every error line is
    ],
)
def test_clicks_own_usage_errors_are_one_error_line_too(args, line):
    result = invoke(*args)
    assert result.exit_code == 2
    (only,) = lines_of(result.stderr)
    assert only.startswith(f"error: {line} (see: ")


def test_a_parameter_given_twice_is_refused_not_last_wins():
    result = invoke(*RUN, "--param", "notice=0.1", "--param", "notice=0.2")
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        "error: --param notice: given twice (once is enough; the last would silently win)"
    ]


@pytest.mark.parametrize(
    "source, policy, line",
    [
        (
            "import sys\nsys.exit(5)\n",
            "leaves_at_import:X",
            "cannot import 'leaves_at_import': SystemExit: 5 (at PATH line 2, in <module>)",
        ),
        (
            "import numpy as np\nX = np.zeros(3)[5]\n",
            "fails_at_import:X",
            "cannot import 'fails_at_import': IndexError: index 5 is out of bounds for axis 0 with size 3 (at PATH "
            "line 2, in <module>)",
        ),
        (
            "from sim.policies.rules import nearest_seats\n",
            "misspells_an_import:X",
            "cannot import 'misspells_an_import': ImportError: cannot import name 'nearest_seats' from "
            "'sim.policies.rules' (RULES) (did you mean 'nearest_seat'?) (at PATH line 1, in <module>)",
        ),
        ("", "empty_module:Nope", "'empty_module' has no 'Nope'"),
        (
            "from sim.policies.unstructured import Unstructured\nclass P(Unstructured):\n    Params = int\n",
            "int_params:P",
            "'int_params:P': Params must be a strict model (a subclass of sim.strict.Strict)",
        ),
        (
            "from sim.policies.unstructured import Unstructured\nfrom sim.strict import Strict\n"
            "class Q(Strict):\n    reach: float\n"
            "class P(Unstructured):\n    Params = Q\n",
            "required_params:P",
            "'required_params:P': parameter reach has no default (every parameter needs one: a policy is run, "
            "listed and offered on the page with the parameters it is not given at their defaults)",
        ),
        (
            "from typing import Annotated\nfrom sim.policies.unstructured import Unstructured\n"
            "from sim.strict import Field, Strict\n"
            "class Q(Strict):\n    cadence: Annotated[float, Field(le=13.0)] = 20.0\n"
            "class P(Unstructured):\n    Params = Q\n",
            "bad_default:P",
            "'bad_default:P': the defaults of its Params are invalid: cadence: Input should be less than or equal to 13, not 20.0",
        ),
        (
            "from sim.policies.unstructured import Unstructured\nfrom sim.strict import Strict\n"
            "class Q(Strict):\n    names: list[str] = []\n"
            "class P(Unstructured):\n    Params = Q\n",
            "list_param:P",
            "'list_param:P': Params: TypeError: a strict model cannot hold list[str]",
        ),
    ],
)
def test_a_user_policy_that_cannot_be_loaded_is_named(tmp_path, monkeypatch, source, policy, line):
    path = tmp_path / f"{policy.split(':')[0]}.py"
    path.write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    result = invoke(*RUN, "--policy", policy)
    assert result.exit_code == 2
    # Where the module failed is named by its file and line (a module-level error had named neither).
    rules = Path(sim.policies.rules.__file__)
    assert lines_of(result.stderr) == [
        f"error: --policy: {line.replace('PATH', str(path)).replace('RULES', str(rules))}"
    ]


def test_a_policy_whose_constructor_raises_is_named_exit_2(tmp_path, monkeypatch):
    user_module(
        tmp_path,
        monkeypatch,
        "raising_init",
        "from sim.policies.unstructured import Unstructured\n"
        "class P(Unstructured):\n    name = 'p'\n"
        "    def __init__(self, **params):\n        raise ValueError('needs a licence key')\n",
    )
    # Said at "--policy.params", an option there is not, and by the class's name rather than what was typed.
    result = invoke(*RUN, "--policy", "raising_init:P")
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        "error: --policy raising_init:P: building policy 'p' raised ValueError: needs a licence key"
    ]
    scenario = tmp_path / "s.toml"
    scenario.write_text(SMALL.read_text() + '\n[policy]\nname = "raising_init:P"\n')
    result = invoke("validate", str(scenario))
    assert lines_of(result.stderr) == [
        f"error: {scenario}: policy.params: building policy 'p' raised ValueError: needs a licence key"
    ]


class _Stop(BaseException):
    """An exception class of a policy's own, made a BaseException."""


class _Unsayable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no words")


class _Stops(Unstructured):
    name = "stops"

    def prioritise(self, view, rng):
        raise _Stop("stopped")


class _Unsaid(Unstructured):
    name = "unsaid"

    def prioritise(self, view, rng):
        raise _Unsayable()


def test_what_a_policy_raises_is_its_fault_whatever_its_class():
    # A BaseException subclass printed a traceback (exit 1); an exception whose __str__ raised was "covsim failed
    # unexpectedly".
    small = load_scenario(SMALL)
    with pytest.raises(PolicyError, match=r"^policy stops: prioritise\(\) raised _Stop: stopped"):
        run(small, _Stops(), 1, quarters=1)
    with pytest.raises(
        PolicyError,
        match=r"^policy unsaid: prioritise\(\) raised _Unsayable: \(its message cannot be "
        r"shown: its __str__ raised RuntimeError\)",
    ):
        run(small, _Unsaid(), 1, quarters=1)


def test_tables_nested_thousands_deep_and_a_byte_order_mark(tmp_path):
    deep = tmp_path / "deep.toml"
    # Validation reads no deeper than the schema: an unknown key is refused whole, a table where a value
    # belongs is one wrong type, however deep it goes.
    deep.write_text(SMALL.read_text() + "\n[x." + ".".join(f"a{i}" for i in range(3000)) + "]\nk = 1\n")
    result = invoke("validate", str(deep))
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [f"error: {deep}: x: unknown key"]
    deep.write_text(SMALL.read_text() + "\n[policy.params." + ".".join(f"a{i}" for i in range(3000)) + "]\nk = 1\n")
    result = invoke("validate", str(deep))
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        f"error: {deep}: policy.params.a0: must be a boolean, integer, finite number or string"
    ]
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + SMALL.read_bytes())
    assert invoke("validate", str(bom)).exit_code == 0


def _experiment(tmp_path, body: str) -> Path:
    path = tmp_path / "e.toml"
    path.write_text(f'name = "e"\nscenario = "{SMALL}"\nreplications = 3\nquarters = 1\n' + body)
    return path


@pytest.mark.parametrize(
    "body, line",
    [
        ('metrics = []\n[[policies]]\nname = "unstructured"\n', "metrics: at least one is needed"),
        # An empty name was said only as the baseline naming no label ("(, segment_tiers)"), when one was set.
        (
            'baseline = "unstructured"\n[[policies]]\nname = ""\n[[policies]]\nname = "segment_tiers"\n',
            "policies.0.name: String should have at least 1 character",
        ),
        (
            '[[policies]]\nname = "unstructured"\n'
            + "".join(
                f'[[factors]]\nname = "f{i}"\ntarget = "scenario.seed"\nvalues = [{", ".join(map(str, range(50)))}]\n'
                for i in range(4)
            ),
            "design: a grid of 6,250,000 points",
        ),
        (
            '[[policies]]\nname = "unstructured"\n[[factors]]\nname = "n"\ntarget = "scenario.reps.*.count"\n'
            'mode = "scale"\ninteger = true\nvalues = [1e308]\n',
            "factors.0.values: 2 x 1e+308 is inf, which has no whole number to round to",
        ),
    ],
)
def test_experiments_that_could_only_fail_late_or_hang_are_refused_first(tmp_path, body, line):
    result = invoke("experiment", str(_experiment(tmp_path, body)), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert any(line in x for x in lines_of(result.stderr)), result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "old, new, key",
    [
        ("radius_km = 60", "radius_km = 1e308", "radius_km: Input should be less than or equal to 20000"),
        # Each gave an infinite revenue or stock, and a NaN profit, with exit 0 (a fuzz of every key).
        (
            "value_share = 0.25 }",
            "value_share = 1e308 }",
            "segments.0.new_logo.value_share: Input should be less than or equal to 1000000",
        ),
        (
            "quarters = 4",
            'quarters = 4\nshocks = [{ kind = "potential_shift", quarter = 2, factor = 1e18 }]',
            "shocks.0.factor: Input should be less than or equal to 100",
        ),
        (  # shifts persist and multiply: 160 of 100 each overflowed the potentials
            "quarters = 4",
            'quarters = 4\nshocks = [{ kind = "potential_shift", quarter = 2, factor = 50 }, '
            '{ kind = "potential_shift", quarter = 3, factor = 50, segment = "smb" }]',
            "shocks.1.factor: the potential shifts 0, 1 multiply potentials by 2,500 together, more than 100",
        ),
        (
            "cost_per_year = 80000",
            "cost_per_year = 80000\n\n[activities]\ncall_stock = 1e308",
            "activities.call_stock: Input should be less than or equal to 1000",
        ),
        ('name = "small"', 'name = "' + "n" * 101 + '"', "name: String should have at most 100 characters"),
    ],
)
def test_values_far_beyond_any_real_world_are_refused(tmp_path, old, new, key):
    text = SMALL.read_text()
    assert old in text
    scenario = tmp_path / "far.toml"
    scenario.write_text(text.replace(old, new, 1))
    result = invoke("validate", str(scenario))
    assert result.exit_code == 2
    assert any(key in x for x in lines_of(result.stderr)), result.stderr


def test_the_command_line_starts_without_the_heavy_libraries():
    import subprocess
    import sys

    code = "import sys, sim.cli; print(sorted({'pandas', 'mesa', 'scipy', 'matplotlib'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_covsim_run_starts_its_model_without_the_report_package():
    # The report package loads matplotlib, scipy and pyarrow: a run that laid out its answer with it had started
    # 0.65 s later than importing Mesa (make bench: "covsim run - import mesa", bound 0.1 s).
    import subprocess
    import sys

    code = (
        "import os, sys, sim.run\n"
        "def stop(*args, **kwargs):\n"
        "    print(sorted({'matplotlib', 'sim.experiment.report'} & set(sys.modules)), flush=True)\n"
        "    os._exit(0)\n"
        "sim.run.run = stop\n"
        "from sim.cli import main\n"
        f"main(['run', {str(SMALL)!r}], prog_name='covsim')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_an_out_folder_with_a_name_too_long_for_the_file_system_is_refused_before_any_run(tmp_path):
    result = invoke(*RUN, "--out", str(tmp_path / ("x" * 300)))
    assert result.exit_code == 2
    (line,) = lines_of(result.stderr)
    assert "a name in it is longer than the 255 bytes a file system allows" in line
    assert list(tmp_path.iterdir()) == []


def test_a_store_on_a_full_disk_says_what_is_kept_and_how_to_resume(capsys):
    import sqlite3

    from sim.cli.common import unexpected_errors

    with pytest.raises(SystemExit) as e, unexpected_errors():
        raise sqlite3.OperationalError("database or disk is full")
    assert e.value.code == 1
    assert capsys.readouterr().err == (
        "error: the disk is full: the experiment's store keeps every run it finished; free some space and run "
        "the same command again to resume\n"
    )


def test_a_value_that_may_be_any_scalar_fails_in_one_line_not_four(tmp_path):
    body = (
        '[[policies]]\nname = "unstructured"\n[[factors]]\nname = "f"\ntarget = "policy.notice"\nvalues = [nan, 0.5]\n'
    )
    experiment = _experiment(tmp_path, body)
    result = invoke("experiment", str(experiment), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        f"error: {experiment}: factors.0.values.0: must be a boolean, integer, finite number or string"
        ' (in the block named "f")'
    ]


def test_an_unreachable_dask_scheduler_is_refused_before_any_folder_is_made(tmp_path):
    import socket

    with socket.socket() as s:  # a port nothing listens on once this closes
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    experiment = Path(__file__).parents[1] / "experiments" / "mechanisms" / "books.toml"
    address = f"tcp://127.0.0.1:{port}"
    out = tmp_path / "out"
    result = invoke("experiment", str(experiment), "--executor", "dask", "--scheduler", address, "--out", str(out))
    assert result.exit_code == 2
    (line,) = lines_of(result.stderr)
    assert line.startswith(f"error: --scheduler {address}: cannot reach it (")
    assert not out.exists()


@pytest.mark.parametrize("table", ["segments", "regions"])
def test_more_than_a_hundred_segments_or_regions_are_refused_before_the_per_account_codes_overflow(table):
    # Accounts hold their segment and region as int8 codes: the 128th would wrap to a negative code.
    from sim.scenario import parse_scenario

    data = tomllib.loads(SMALL.read_text())
    template = data["population"][table][0]
    data["population"][table] = [{**template, "name": f"x{i}", "share": 1 / 101} for i in range(101)]
    with pytest.raises(InputError) as e:
        parse_scenario(data, "many.toml")
    assert e.value.problems == [
        f"many.toml: population.{table}: Tuple should have at most 100 items after validation, not 101"
    ]


def test_an_out_folder_whose_store_is_not_a_store_is_refused_and_left_as_it_was(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "store.sqlite").write_text("not a database, a note someone left\n")
    result = invoke("compare", str(SMALL), "--policy", "unstructured", "--quarters", "1", "--out", str(out))
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        f"error: {out / 'store.sqlite'}: not a covsim store (file is not a database); rerun with --fresh to replace "
        "it, or use another --out"
    ]
    assert (out / "store.sqlite").read_text() == "not a database, a note someone left\n"
    # Nothing of covsim's is left beside it, its lock file included (an analyst found .covsim.lock there).
    assert sorted(p.name for p in out.iterdir()) == ["store.sqlite"]


def test_a_store_reused_with_other_policies_names_the_policies_not_an_experiment_file(tmp_path):
    # Before, a compare's --out reused for other policies said "the experiment file changed": a compare has none.
    out = tmp_path / "out"
    args = ("compare", str(SMALL), "--quarters", "1", "--replications", "1", "--executor", "serial", "--out", str(out))
    assert invoke(*args, "--policy", "unstructured").exit_code == 0
    result = invoke(*args, "--policy", "unstructured", "--policy", "segment_tiers")
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        f"error: {out}: holds results of a different experiment (the policies or their parameters changed since "
        "its runs); rerun with --fresh to discard them, or use another --out"
    ]
    other = [a if a != "1" or i != args.index("--quarters") + 1 else "2" for i, a in enumerate(args)]
    result = invoke(*other, "--policy", "unstructured")
    # --quarters sets the scenario's horizon too, but the scenario did not change: the quarters alone are named.
    assert "different experiment (the quarters changed since its runs)" in result.stderr


def test_quarters_written_out_as_the_scenario_s_own_horizon_reuse_the_stored_runs(tmp_path):
    # small.toml runs 4 quarters: --quarters 4 makes the same runs as none, and was refused as "a different
    # experiment (the file, its scenario or covsim's code changed)", naming nothing that had.
    out = tmp_path / "out"
    args = ("compare", str(SMALL), "--policy", "unstructured", "--replications", "1", "--executor", "serial")
    assert invoke(*args, "--out", str(out)).exit_code == 0
    result = invoke(*args, "--quarters", "4", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert "0 runs done, 1 already stored" in result.stderr


def test_the_same_policies_in_another_order_report_on_the_stored_runs(tmp_path):
    # The answer tells a reader to make a better policy the baseline, the first --policy; that rerun had been
    # refused as a different experiment, though no run depends on the order (common random numbers).
    out = tmp_path / "out"
    args = ("compare", str(SMALL), "--quarters", "1", "--replications", "2", "--executor", "serial", "--out", str(out))
    first = invoke(*args, "--policy", "unstructured", "--policy", "segment_tiers")
    assert first.exit_code == 0, first.stderr
    again = invoke(*args, "--policy", "segment_tiers", "--policy", "unstructured")
    assert again.exit_code == 0, again.stderr
    assert again.stderr.startswith("0 runs done, 4 already stored, 0 failed"), again.stderr
    assert "against the baseline segment_tiers" in again.stdout or "segment_tiers (the baseline)" in again.stdout
    assert "baseline `segment_tiers`" in (out / "report.md").read_text()


@pytest.mark.parametrize(
    "command, folder",
    [
        (RUN, "weekly.csv"),
        (["compare", str(SMALL), "--policy", "unstructured", "--quarters", "1", "--replications", "2"], "report.md"),
        (["compare", str(SMALL), "--policy", "unstructured", "--quarters", "1", "--replications", "2"], "store.sqlite"),
        (
            ["compare", str(SMALL), "--policy", "unstructured", "--quarters", "1", "--replications", "2"],
            "manifest.json",
        ),
        (["compare", str(SMALL), "--policy", "unstructured", "--quarters", "1", "--replications", "2"], "morris.csv"),
        (["compare", str(SMALL), "--policy", "unstructured", "--quarters", "1", "--replications", "2"], ".covsim.lock"),
    ],
)
def test_a_folder_where_an_output_file_goes_is_refused_before_any_run(tmp_path, command, folder):
    # It ran, then wrote part of the set (metrics.csv without weekly.csv; a report's figures without report.md).
    out = tmp_path / "out"
    (out / folder).mkdir(parents=True)
    result = invoke(*command, "--out", str(out))
    assert result.exit_code == 2
    (line,) = lines_of(result.stderr)
    assert line.startswith("error: ") and folder in line and "folder" in line, line
    assert sorted(p.name for p in out.iterdir() if p.name != ".covsim.lock" or folder == p.name) == [folder]
    assert not any((out / folder).iterdir())


@pytest.mark.parametrize("kind", ["file", "dangling link"])
def test_a_file_where_the_report_s_figures_go_is_refused_before_any_run(tmp_path, kind):
    out = tmp_path / "out"
    out.mkdir()
    if kind == "file":
        (out / "figures").write_text("a note")
    else:
        (out / "figures").symlink_to(tmp_path / "gone")
    result = invoke("compare", str(SMALL), "--policy", "unstructured", "--quarters", "1", "--out", str(out))
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        f"error: --out {out}: figures in it is a file, where a folder goes; nothing was run"
    ]
    assert sorted(p.name for p in out.iterdir()) == ["figures"]


def test_a_report_is_written_again_whatever_stands_where_the_batch_s_manifest_was(tmp_path):
    out = tmp_path / "out"
    args = ["compare", str(SMALL), "--policy", "unstructured", "--quarters", "1", "--replications", "2"]
    assert invoke(*args, "--executor", "serial", "--out", str(out)).exit_code == 0
    (out / "manifest.json").unlink()
    (out / "manifest.json").mkdir()  # the report does not write it, and reads it only if it can
    result = invoke("report", str(out))
    assert result.exit_code == 0, result.stderr


def test_a_folder_in_a_file_s_place_replaces_no_file_of_the_set_and_is_named(tmp_path):
    (tmp_path / "a.csv").write_text("old")
    (tmp_path / "b.csv").mkdir()
    with pytest.raises(OSError) as e:
        atomic_write_all(tmp_path, {"a.csv": lambda p: p.write_text("new"), "b.csv": lambda p: p.write_text("x")})
    assert e.value.filename == str(tmp_path / "b.csv")
    assert "none of a.csv, b.csv was written" in str(e.value)
    assert (tmp_path / "a.csv").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv"]


def test_a_store_that_cannot_be_made_on_a_full_disk_is_a_system_failure_and_leaves_nothing(tmp_path, monkeypatch):
    import errno
    import sqlite3

    from sim.experiment.store import Store

    real = sqlite3.connect

    class Full:
        """A connection whose first statement finds the disk full, as SQLite says it."""

        def __init__(self, *args, **kwargs):
            self.db = real(*args, **kwargs)

        def execute(self, *_):
            e = sqlite3.OperationalError("database or disk is full")
            e.sqlite_errorcode = sqlite3.SQLITE_FULL
            raise e

        def close(self):
            self.db.close()

    monkeypatch.setattr(sqlite3, "connect", Full)
    out = tmp_path / "new" / "out"
    with pytest.raises(OSError) as e:
        Store(out, "identity")
    assert e.value.errno == errno.ENOSPC and e.value.filename == str(out / "store.sqlite")
    assert list(tmp_path.iterdir()) == []  # not a store to replace with --fresh: nothing of it is left


def test_examples_on_a_full_disk_is_a_system_failure_and_leaves_no_folder(tmp_path, monkeypatch):
    import errno

    import sim.sample_files

    real, calls = sim.sample_files.atomic_write_text, []

    def fills_up(path: Path, text: str) -> None:
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, text)

    monkeypatch.setattr(sim.sample_files, "atomic_write_text", fills_up)
    result = invoke("examples", str(tmp_path / "ex"))
    assert result.exit_code == 1
    (line,) = lines_of(result.stderr)
    assert line.startswith(f"error: {calls[-1]}: No space left on device") and line.endswith("nothing was copied")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args, line",
    [
        (["examples", ""], "FOLDER: the name is empty (it would be the current folder); name where to write"),
        (["validate", ""], "SCENARIO_FILE: the name is empty (it would be the current folder); name the file to read"),
        (
            ["experiment", ""],
            "EXPERIMENT_FILE: the name is empty (it would be the current folder); name the file to read",
        ),
        (
            ["stress", str(SMALL), "--policy", "unstructured", "--suite", ""],
            "--suite '': no such file, and not the built-in suite ('default')",
        ),
        (["report", ""], "OUT_DIR: the name is empty (it would be the current folder); name the experiment's folder"),
        (
            ["calibrate", "--accounts", "", "--pipeline", "p", "--teams", "t", "--out", "x.toml"],
            "--accounts: the name is empty (it would be the current folder); name the file to read",
        ),
    ],
)
def test_an_empty_path_is_refused_not_read_as_the_current_folder(tmp_path, monkeypatch, args, line):
    # covsim examples "" copied its 18 files into the folder it was run from; validate "" said ".: not a regular file".
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [f"error: {line}"]
    assert list(tmp_path.iterdir()) == []


def test_a_host_the_page_cannot_listen_on_is_said_of_the_host_not_the_port():
    from sim.app.server import check_port

    with pytest.raises(InputError) as e:
        check_port("nosuchhost.invalid", 18655)
    (line,) = e.value.problems
    assert line.startswith("--host nosuchhost.invalid: cannot listen on it (")


def test_a_run_and_a_compare_do_not_write_into_one_folder(tmp_path):
    # An analyst's `covsim run --out out/compare` put a run's metrics.csv beside the compare's report.md.
    compare = tmp_path / "compare"
    args = ("compare", str(SMALL), "--policy", "unstructured", "--quarters", "1", "--replications", "1")
    assert invoke(*args, "--executor", "serial", "--out", str(compare)).exit_code == 0
    before = sorted(p.name for p in compare.iterdir())
    result = invoke("run", str(SMALL), "--quarters", "1", "--out", str(compare))
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        f"error: --out {compare}: holds the store of a compare, stress test or experiment; write these files to "
        "another folder, so that the two are not read as one; nothing was run"
    ]
    assert sorted(p.name for p in compare.iterdir()) == before
    single = tmp_path / "single"
    assert invoke("run", str(SMALL), "--quarters", "1", "--out", str(single)).exit_code == 0
    result = invoke(*args, "--executor", "serial", "--out", str(single))
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        f"error: --out {single}: holds the files of a single run (metrics.csv, weekly.csv, seats.csv, summary.png); "
        "write these to another folder, so that the two are not read as one; nothing was run"
    ]
    assert sorted(p.name for p in single.iterdir()) == ["metrics.csv", "seats.csv", "summary.png", "weekly.csv"]
    # A backtest likewise, both ways (an analyst's backtest --out out/cmp mixed its files with a compare's).
    data = ROOT.parent / "shared" / "data" / "crm-sales-opportunities"
    crm = [
        f"--{k}={data / f}"
        for k, f in (("accounts", "accounts.csv"), ("pipeline", "sales_pipeline.csv"), ("teams", "sales_teams.csv"))
    ]
    result = invoke("backtest", *crm, "--cutoff", "2017-06-30", "--out", str(compare))
    assert result.exit_code == 2 and "holds the store of a compare, stress test or experiment" in result.stderr
    backtest = tmp_path / "backtest"
    backtest.mkdir()
    (backtest / "backtest.csv").write_text("measure,actual\n")
    for command in (args, ("run", str(SMALL), "--quarters", "1")):
        result = invoke(*command, "--out", str(backtest))
        assert result.exit_code == 2
        assert lines_of(result.stderr) == [
            f"error: --out {backtest}: holds the files of a backtest (backtest.csv); write these to another folder, "
            "so that the two are not read as one; nothing was run"
        ]


def test_a_key_with_control_characters_or_of_a_paragraph_s_length_is_one_readable_line(tmp_path):
    # A line break in a key split its line in two; an escape sequence was sent to the terminal raw, which then
    # showed the valid key "seed"; a 50,000-character key was quoted whole.
    keys = '"quarters\\n" = 7\n"se\\u001b[2Ked" = 7\n"' + "k" * 5000 + '" = 1\n'
    scenario = tmp_path / "keys.toml"
    scenario.write_text(keys + SMALL.read_text())
    result = invoke("validate", str(scenario))
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        f"error: {scenario}: quarters\\x0a: unknown key",
        f"error: {scenario}: se\\x1b[2Ked: unknown key",
        f"error: {scenario}: {'k' * 40}... (5,000 characters): unknown key",
    ]
    from sim.format import printable

    # C1 controls (\x9b starts a terminal's control sequence as ESC [ does) and the Unicode line separators too.
    assert printable("a\x9bb\x85c\u2028d\u2029e\tf") == "a\\x9bb\\x85c\\u2028d\\u2029e\tf"


def test_every_unknown_policy_and_a_bad_metric_beside_them_are_said_at_once(tmp_path):
    # run said the first unknown policy only; compare said an unknown metric, and the unknown policy after a rerun.
    result = invoke("run", str(SMALL), "--policy", "nope", "--policy", "alsonope", "--quarters", "1")
    assert result.exit_code == 2
    assert [x.split(" (built-in")[0] for x in lines_of(result.stderr)] == [
        "error: --policy: unknown policy 'nope'",
        "error: --policy: unknown policy 'alsonope'",
    ]
    out = tmp_path / "out"
    result = invoke(
        "compare", str(SMALL), "--policy", "unstructured", "--policy", "nope", "--metric", "proffit", "--out", str(out)
    )
    assert result.exit_code == 2
    assert [x.split(" (")[0] for x in lines_of(result.stderr)] == [
        "error: --metric proffit: unknown metric 'proffit'",
        "error: --policy: unknown policy 'nope'",
    ]
    assert not out.exists()


@pytest.mark.parametrize("design", ["", '[design]\nkind = "gird"\n'])
def test_an_experiment_s_missing_scenario_is_said_at_its_key_beside_its_unknown_policy(tmp_path, design):
    # The line named the missing file alone, not the experiment or its key; an unknown policy was not said beside
    # it; with a mistake in the file too, the missing scenario was not said either.
    experiment = tmp_path / "e.toml"
    experiment.write_text(
        'name = "e"\nscenario = "nosuch.toml"\n[[policies]]\nname = "unstructured"\n[[policies]]\n'
        'name = "segment_tierz"\n' + design
    )
    result = invoke("experiment", str(experiment), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert [x.split(" (did you")[0] for x in lines_of(result.stderr)] == [
        *(
            [f"error: {experiment}: design.kind: Input should be 'grid', 'lhs', 'sobol' or 'morris', not 'gird'"]
            * bool(design)
        ),
        f"error: {experiment}: scenario: {tmp_path / 'nosuch.toml'}: file not found",
        f"error: {experiment}: policies.1.name: unknown policy 'segment_tierz'",
    ]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["run", "compare", "stress"])
def test_a_scenario_s_mistake_is_said_beside_the_command_line_s_own(tmp_path, command):
    # A share that did not sum to 1 hid the unknown policies and the malformed --param until it was mended.
    scenario = tmp_path / "shares.toml"
    scenario.write_text(SMALL.read_text().replace("share = 0.80", "share = 0.70", 1))
    result = invoke(command, str(scenario), "--policy", "segment_tierz", "--param", "bogus", "--policy", "pooledd")
    assert result.exit_code == 2
    assert [x.split(" (")[0] for x in lines_of(result.stderr)] == [
        f"error: {scenario}: population.segments: shares sum to 0.9, not 1",
        "error: --policy: unknown policy 'segment_tierz'",
        "error: --policy: unknown policy 'pooledd'",
        "error: --param 'bogus': expected KEY=VALUE",
    ]


@pytest.mark.parametrize("command", ["run", "compare", "stress"])
def test_a_malformed_param_is_said_beside_the_well_formed_ones_wrong_values(command):
    # The wrong value of books was said only once --param noequals was mended.
    result = invoke(command, str(SMALL), "--policy", "segment_tiers", "--param", "noequals", "--param", "books=redealx")
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        "error: --param 'noequals': expected KEY=VALUE",
        "error: --param books: Input should be 'keep', 'redeal' or 'cover', not 'redealx' (did you mean 'redeal'?)",
    ]


def test_a_report_with_no_store_beside_it_is_not_replaced_without_fresh(tmp_path):
    # A stress test into a compare's folder whose store was gone replaced its report and deleted its figures.
    out = tmp_path / "compare"
    args = ("compare", str(SMALL), "--policy", "unstructured", "--quarters", "1", "--replications", "1")
    assert invoke(*args, "--executor", "serial", "--out", str(out)).exit_code == 0
    (out / "store.sqlite").unlink()
    report = (out / "report.md").read_text()
    result = invoke("stress", str(SMALL), "--policy", "unstructured", "--quarters", "2", "--out", str(out))
    assert result.exit_code == 2
    assert lines_of(result.stderr) == [
        f"error: --out {out}: holds a report (report.md, results.csv, results.parquet, manifest.json) with no store "
        "of runs beside it; write to another folder, or add --fresh to replace it; nothing was run"
    ]
    assert (out / "report.md").read_text() == report


def test_fresh_discards_the_old_report_with_the_old_store(tmp_path):
    # Interrupted after --fresh, a batch left the old report beside the new store, read as its runs'.
    from sim.cli.batch import opened_batch
    from sim.experiment.comparison import comparison

    out = tmp_path / "compare"
    args = ("compare", str(SMALL), "--policy", "unstructured", "--quarters", "1", "--replications", "1")
    assert invoke(*args, "--executor", "serial", "--out", str(out)).exit_code == 0
    assert (out / "report.md").exists() and list((out / "figures").iterdir())
    scenario = load_scenario(SMALL).with_overrides("one quarter", quarters=1, name="small")  # as compare runs it
    batch = opened_batch(comparison(scenario, str(SMALL), ["segment_tiers"], 1, quarters=1), scenario, out, True)
    batch.store.close()
    assert not [name for name in ("report.md", "results.csv", "results.parquet", "figures") if (out / name).exists()]
    assert (out / "store.sqlite").exists() and (out / "manifest.json").exists()


def test_the_progress_line_names_a_policy_as_its_results_do_whatever_its_repr(tmp_path, monkeypatch):
    # A multi-line repr was printed raw; one that raised was "covsim failed unexpectedly"; a researcher's line said
    # NextFreeRep() of results labelled next_free_rep. Now the policy's label, with the parameters it was given.
    user_module(
        tmp_path,
        monkeypatch,
        "reprs",
        "from sim.policies.unstructured import Unstructured\n\n"
        "class Lines(Unstructured):\n    name = 'lines'\n\n"
        "    def __repr__(self):\n        return 'Lines(\\n  a=1,\\x1b[31m\\n)'\n\n"
        "class NoRepr(Unstructured):\n    name = 'no_repr'\n\n"
        "    def __repr__(self):\n        raise RuntimeError('repr boom')\n",
    )
    result = invoke(*RUN, "--policy", "reprs:Lines", "--policy", "reprs:NoRepr", "--param", "notice=0.3")
    assert result.exit_code == 0, result.output
    running = [line for line in lines_of(result.stderr) if line.startswith("running ")]
    assert running == ["running small under lines (notice = 0.3) ...", "running small under no_repr (notice = 0.3) ..."]


def test_executor_options_that_would_go_unused_are_refused_before_any_folder_is_made(tmp_path, monkeypatch):
    # A researcher's --executor serial --workers 2 ran on one core without a word; a Dask scheduler's --workers
    # named nothing the cluster used.
    experiment = Path(__file__).parents[1] / "experiments" / "mechanisms" / "books.toml"
    out = tmp_path / "out"
    serial = ["--executor", "serial", "--workers", "2", "--out", str(out)]
    for args in (
        ["compare", str(SMALL), "--policy", "unstructured", *serial],
        ["stress", str(SMALL), "--policy", "unstructured", *serial],
        ["experiment", str(experiment), *serial],
    ):
        result = invoke(*args)
        assert result.exit_code == 2, result.stderr
        assert lines_of(result.stderr) == [
            "error: --workers: not with --executor serial, which runs every run in this process"
        ]
    monkeypatch.chdir(tmp_path)  # without --out, an experiment's folder is out/<name> here
    scheduler = ["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"]
    result = invoke("experiment", str(experiment), *scheduler)
    assert lines_of(result.stderr) == ["error: --scheduler: only with --executor dask"]
    result = invoke("experiment", str(experiment), "--executor", "dask", *scheduler)
    assert lines_of(result.stderr) == [
        "error: --workers: not with --scheduler: the Dask cluster's own workers run the batch"
    ]
    assert list(tmp_path.iterdir()) == []
