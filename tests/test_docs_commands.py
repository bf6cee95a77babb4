"""Every command in the README and docs/ runs as written, and says what it is documented to say.

Commands are the lines of the ```sh and ```console blocks (```text blocks are
synopses with placeholders). They run in document order, one working folder
per document holding the repository's sample folders, as a reader who ran
`make demo` would run them from the repository root: with `.venv/bin` first on
the PATH, which is what `. .venv/bin/activate` does, and which each document
that writes bare `covsim` must say. In a ```console block the lines after a
command are its output: each must appear, in order (a line with `...` need
only begin as written; a line `...` stands for any lines), and `$ echo $?`
gives the exit code expected of the command before it (else 0).

The longest experiments (most of a minute or more each here: the screening,
the stylised facts, the robustness experiment, the stress test of the
baseline, docs/policies.md's comparison of all nine built-ins, and the
README's hunter-and-farmer experiment with the commands that read its
output) run only with
``COVSIM_DOCS_LONG=1`` (`make docs-check`); here they are checked for what
can be checked at once: every run count the documents give for an experiment
file is the number of runs that file plans.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.experiment.design import plan_runs
from sim.experiment.loading import load_experiment
from sim.experiment.spec import resolve_base
from tests.conftest import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHARED = ROOT.parent / "shared"
#: Taken by the working folder from the repository, as the commands name them.
SAMPLES = ("scenarios", "experiments", "examples", "README.md")
ACTIVATE = "`. .venv/bin/activate`"
#: The longest commands (most of a minute or more each): run by `make docs-check`, not by `make test`.
LONG = (
    "experiments/screening.toml",
    "experiments/stylised_facts.toml",
    "experiments/robustness.toml",
    "stress scenarios/baseline.toml",
    "--out out/policies",
    "out/hvf",  # the hunter-and-farmer experiment (60 runs of the 100,000-account world) and the commands on its output
)
LONG_VARIABLE = "COVSIM_DOCS_LONG"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


@dataclass(frozen=True)
class Command:
    """One documented command: where it is, its text, the exit code and output lines the document gives it."""

    document: Path
    line: int
    text: str
    exit_code: int = 0
    output: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.document.name}:{self.line}"


def _blocks(document: Path) -> list[tuple[str, int, list[str]]]:
    """(language, line number of the block's first line, its lines) for every fenced block."""
    text = document.read_text(encoding="utf-8")
    return [(m.group(1), text.count("\n", 0, m.start(2)) + 1, m.group(2).splitlines()) for m in BLOCK.finditer(text)]


def _joined(lines: list[str], i: int) -> tuple[str, int]:
    """The command starting at ``lines[i]`` with its ``\\`` continuations, and the index after it."""
    parts = [lines[i]]
    while parts[-1].rstrip().endswith("\\") and i + 1 < len(lines):
        i += 1
        parts.append(lines[i])
    return "\n".join(parts), i + 1


def commands_of(document: Path) -> list[Command]:
    commands: list[Command] = []
    for language, first, lines in _blocks(document):
        i = 0
        while i < len(lines):
            line = lines[i]
            if language == "sh" and line.strip() and not line.lstrip().startswith("#"):
                text, after = _joined(lines, i)
                commands.append(Command(document, first + i, text))
                i = after
            elif language == "console" and line.startswith("$ "):
                text, after = _joined(lines, i)
                text = text[2:]
                output = []
                while after < len(lines) and not lines[after].startswith("$ "):
                    output.append(lines[after])
                    after += 1
                if text.strip() == "echo $?":
                    last = commands.pop()
                    commands.append(Command(last.document, last.line, last.text, int(output[0]), last.output))
                else:
                    commands.append(Command(document, first + i, text, 0, tuple(output)))
                i = after
            else:
                i += 1
    return commands


def files_of(document: Path) -> dict[str, str]:
    """The ```toml blocks a document names as files (first line ``# NAME.toml: ...``), by name."""
    files = {}
    for language, _, lines in _blocks(document):
        named = re.match(r"# ([\w-]+\.toml):", lines[0]) if language == "toml" and lines else None
        if named:
            files[named.group(1)] = "\n".join(lines) + "\n"
    return files


COMMANDS = [c for d in DOCUMENTS for c in commands_of(d)]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A working folder per document, made on first use, as a reader's checkout looks after `make demo`."""
    made: dict[Path, Path] = {}

    def folder_for(document: Path) -> Path:
        if document not in made:
            base = tmp_path_factory.mktemp(document.stem)
            work = base / "covsim"
            work.mkdir()
            for name in SAMPLES:
                (work / name).symlink_to(ROOT / name)
            (work / ".venv").symlink_to(Path(sys.executable).parent.parent)
            if SHARED.exists():
                (base / "shared").symlink_to(SHARED)
            for name, text in files_of(document).items():
                (work / name).write_text(text, encoding="utf-8")
            made[document] = work
        return made[document]

    return folder_for


def _matches(expected: tuple[str, ...], actual: list[str]) -> str | None:
    """None if every expected line appears in ``actual`` in order, else the first that does not."""
    at = 0
    for line in expected:
        if line.strip() == "...":
            continue
        head, sep, _ = line.partition("...")
        for j in range(at, len(actual)):
            if actual[j].startswith(head.rstrip()) if sep else actual[j].rstrip() == line.rstrip():
                at = j + 1
                break
        else:
            return line
    return None


#: The files documented commands write from the shared CRM export (their ``--out``): a command naming one needs it too.
FROM_SHARED = {out for c in COMMANDS if "../shared/" in c.text for out in re.findall(r"--out\s+(\S+)", c.text)}


def needs_shared(text: str) -> bool:
    """Whether a command reads the shared CRM export, itself or through a file another command writes from it."""
    return "../shared/" in text or not FROM_SHARED.isdisjoint(text.split())


@pytest.mark.parametrize("command", COMMANDS, ids=[c.id for c in COMMANDS])
def test_documented_command_runs_as_written(command: Command, folders) -> None:
    if command.text.startswith("make "):
        pytest.skip("the set-up itself: CI runs `make test`, which builds what `make demo` builds")
    if any(name in command.text for name in LONG) and os.environ.get(LONG_VARIABLE) != "1":
        pytest.skip(f"one of the longest experiments: run with {LONG_VARIABLE}=1 (make docs-check)")
    if needs_shared(command.text) and not SHARED.exists():
        pytest.skip("the shared CRM export (or a file made from it) is not beside this checkout")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("COVSIM_TRACEBACK", None)
    result = subprocess.run(
        ["bash", "-c", command.text],
        cwd=folders(command.document),
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    said = f"{command.id}: {command.text}\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    assert result.returncode == command.exit_code, said
    assert "Traceback" not in result.stderr, said
    missing = _matches(command.output, (result.stdout + result.stderr).splitlines())
    assert missing is None, f"documented output line not printed: {missing!r}\n{said}"


def test_documents_that_write_bare_covsim_say_how_to_activate_the_environment() -> None:
    for document in DOCUMENTS:
        bare = [c for c in commands_of(document) if re.match(r"\s*covsim\b", c.text)]
        assert not bare or ACTIVATE in document.read_text(encoding="utf-8"), document.name


def test_the_command_reader_finds_commands_output_and_exit_codes() -> None:
    # A reader that found nothing would let every document pass.
    assert len(COMMANDS) >= 20
    by_id = {c.id: c for c in COMMANDS}
    bad = [c for c in COMMANDS if c.text == "covsim validate bad.toml"]
    assert len(bad) == 1 and bad[0].exit_code == 2 and len(bad[0].output) == 3
    assert any(c.text.startswith(".venv/bin/covsim run") and "\\\n" in c.text for c in by_id.values())
    assert _matches(("a", "...", "c ... d"), ["a", "b", "c 12 d"]) is None
    assert _matches(("b", "a"), ["a", "b"]) == "a"  # order matters


def _documented_run_counts() -> list[tuple[str, Path, int]]:
    """(where, experiment file, runs) for every line of the docs, README and experiment files giving a run count."""
    sources = [*DOCUMENTS, *sorted((ROOT / "experiments").rglob("*.toml"))]
    found = []
    for source in sources:
        for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
            names = re.findall(r"([\w/]+\.toml)", line)
            counts = re.findall(r"(\d[\d,]*) runs\b", line)
            if len(counts) != 1 or not names:
                continue
            path = _experiment_file(names[0])
            if path is not None:
                found.append((f"{source.relative_to(ROOT)}:{number}", path, int(counts[0].replace(",", ""))))
    return found


def _experiment_file(name: str) -> Path | None:
    """The experiment file a line names (by its path, or by its name in a table of experiments/mechanisms/)."""
    for candidate in (ROOT / name, ROOT / "experiments" / name, ROOT / "experiments" / "mechanisms" / name):
        if candidate.is_file() and "experiments" in candidate.relative_to(ROOT).parts:
            return candidate
    return None


RUN_COUNTS = _documented_run_counts()


@pytest.mark.parametrize("where, path, runs", RUN_COUNTS, ids=[w for w, _, _ in RUN_COUNTS])
def test_documented_run_counts_are_what_the_experiment_plans(where: str, path: Path, runs: int) -> None:
    experiment, scenario = load_experiment(path)
    _, _, specs = plan_runs(experiment, resolve_base(experiment, scenario))
    assert len(specs) == runs, f"{where} says {runs} runs; {path.relative_to(ROOT)} plans {len(specs)}"


def test_run_counts_are_found_for_every_shipped_experiment_named_with_one() -> None:
    named = {path.name for _, path, _ in RUN_COUNTS}
    assert {"hunter_vs_farmer.toml", "screening.toml", "stylised_facts.toml", "books.toml"} <= named


def test_the_readme_s_contract_test_runs_in_a_user_s_pytest_without_a_warning(tmp_path: Path) -> None:
    """The README's own-test-suite snippet, as a user's test file: every check passes, and covsim's warning of
    numpy imported first does not come (the example policy imports covsim before numpy, as sim/simd.py asks)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (snippet,) = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "parametrize_with_checks" in b]
    (tmp_path / "test_my_policy.py").write_text(snippet, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"}  # a fresh user's shell
    env["PYTHONPATH"] = str(ROOT)
    pytest_args = ["-q", "-p", "no:cacheprovider", "-W", "error::RuntimeWarning", "test_my_policy.py"]
    r = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    # A RuntimeWarning would have failed it (-W error::RuntimeWarning); dash's own pytest plugin may still warn.
    assert re.search(r"\b10 passed\b", r.stdout) and "RuntimeWarning" not in r.stdout, r.stdout


def test_the_python_api_page_s_example_runs_as_written() -> None:
    """docs/python-api.md's comparison, run from the repository root: it runs, and prints what its tables list."""
    doc = (ROOT / "docs" / "python-api.md").read_text(encoding="utf-8")
    snippet, table, again = re.findall(r"```python\n(.*?)```", doc, re.S)
    r = subprocess.run(
        [sys.executable, "-c", snippet], cwd=ROOT, capture_output=True, text=True, timeout=300, env=os.environ
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "10 0", r.stdout  # 2 policies x 5 replications, none failed
    assert re.search(r"segment_tiers\s+miss_rate\s+5\s", r.stdout) and "p_holm" in r.stdout, r.stdout
    # The third: one replication of a batch run again by its seed gives the batch's figure, and its seats.
    r = subprocess.run(
        [sys.executable, "-c", again], cwd=ROOT, capture_output=True, text=True, timeout=300, env=os.environ
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "True" and "utilisation" in r.stdout, r.stdout
    # The accounts' table, as the page says: 35 churned in all, by segment.
    r = subprocess.run(
        [sys.executable, "-c", table], cwd=ROOT, capture_output=True, text=True, timeout=300, env=os.environ
    )
    assert r.returncode == 0, r.stderr
    churned = [int(line.split()[-1]) for line in r.stdout.splitlines() if "churned" in line]
    assert len(churned) == 3 and sum(churned) == 35, r.stdout
    # Every column the page's tables name for the statistics is one the functions give.
    import pandas as pd

    from sim.experiment.stats import describe, paired_differences

    frame = pd.DataFrame(
        [(0, p, r, "profit", float(r + (p == "b"))) for p in "ab" for r in range(3)],
        columns=["point", "policy", "replication", "metric", "value"],
    )
    for function, row in ((describe, "describe(values)"), (paired_differences, "paired_differences(values")):
        line = next(x for x in doc.splitlines() if x.startswith(f"| `sim.experiment.stats.{row}"))
        cells = line.split(" | ")[1]
        named = set(re.findall(r"`(\w+)`", cells)) - {"baseline", "policy", "run_values"}
        columns = set((function(frame, "a") if function is paired_differences else function(frame)).columns)
        assert named <= columns, named - columns


def test_the_readme_s_python_example_runs_as_written() -> None:
    """The README's "From Python" block, run from the repository root as a user would: it runs, and prints the
    figures it says (a variant's name and size, the paired differences' columns)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (snippet,) = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "from sim.run import run" in b]
    r = subprocess.run(
        [sys.executable, "-c", snippet], cwd=ROOT, capture_output=True, text=True, timeout=300, env=os.environ
    )
    assert r.returncode == 0, r.stderr
    assert re.search(r"^small-[0-9a-f]{8} 8000$", r.stdout, re.M), r.stdout
    assert re.search(r"segment_tiers\s+profit\s", r.stdout) and "high_adj" in r.stdout, r.stdout
    # A variant named as one chooses, and what a paper's reproducibility statement needs (a researcher found
    # neither documented).
    assert re.search(r"^small-8000$", r.stdout, re.M), r.stdout
    assert re.search(r"^\d+\.\d+\.\d+ [0-9a-f]{12} \d+\.\d+\.\d+ \S", r.stdout, re.M), r.stdout
