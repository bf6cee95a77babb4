"""The sample scenarios and experiments: shipped in the package, copied out by ``covsim examples``."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from sim.experiment.loading import load_experiment
from tests.conftest import ROOT
from tests.test_cli import assert_bad_input, covsim


def _checkout_samples() -> dict[str, bytes]:
    return {
        str(p.relative_to(ROOT)): p.read_bytes()
        for folder in ("scenarios", "experiments")
        for p in sorted((ROOT / folder).rglob("*.toml"))
    }


def _copied(dest: Path) -> dict[str, bytes]:
    return {str(p.relative_to(dest)): p.read_bytes() for p in sorted(dest.rglob("*.toml"))}


def test_examples_copies_every_sample_and_each_experiment_finds_its_scenario(tmp_path):
    dest = tmp_path / "mine"
    r = covsim("examples", str(dest))
    assert r.returncode == 0, r.stderr
    want = _checkout_samples()
    assert _copied(dest) == want
    assert len(want) >= 16 and "scenarios/small.toml" in want and "experiments/mechanisms/books.toml" in want
    assert f"copied {len(want)} files" in r.stdout
    # Run as python -m sim.cli: the hint names covsim (called by a path the shell's path does not find, that path)
    assert f"try:  covsim run {dest / 'scenarios' / 'small.toml'}" in r.stdout
    for path in dest.joinpath("experiments").rglob("*.toml"):
        load_experiment(path)  # its relative scenario path resolves in the copy


def test_examples_refuses_files_already_there_and_writes_nothing(tmp_path):
    dest = tmp_path / "mine"
    (dest / "scenarios").mkdir(parents=True)
    (dest / "scenarios" / "small.toml").write_text("# mine\n")
    assert_bad_input(
        covsim("examples", str(dest)),
        f"{dest}/scenarios/small.toml: already exists (choose another folder, or move it away)",
    )
    assert (dest / "scenarios" / "small.toml").read_text() == "# mine\n"
    assert sorted(p.name for p in dest.rglob("*") if p.is_file()) == ["small.toml"]


def test_examples_a_second_time_into_one_folder_is_one_line(tmp_path):
    # An analyst's second `covsim examples ex` printed 18 lines, one a file.
    dest = tmp_path / "ex"
    assert covsim("examples", str(dest)).returncode == 0
    n = len(_checkout_samples())
    first = sorted(p for p in dest.rglob("*.toml"))[0]
    assert_bad_input(
        covsim("examples", str(dest)),
        f"{dest}: holds {n} of the {n} sample files already (the first: {first}); choose another folder, or move "
        "them away",
    )


def test_examples_into_a_file_is_one_line_and_nothing_is_left(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert_bad_input(covsim("examples", str(blocker)), f"{blocker}: exists and is not a folder")
    # A folder that cannot be made (under a file): said as --out says it, before any write (it named the first
    # file it failed on, "cannot write it (Not a directory)").
    r = covsim("examples", str(blocker / "sub"))
    assert_bad_input(r, f"{blocker / 'sub'}: {blocker} is not a folder; nothing was copied")
    assert blocker.read_text() == "x" and sorted(tmp_path.iterdir()) == [blocker]


def test_every_subpackage_is_in_the_wheel_list():
    # pyproject.toml lists the packages by hand (the samples are mapped in from outside sim/), so a new
    # subpackage must be added there or an installed covsim would lack it.
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "sim").rglob("__init__.py")}
    assert found <= listed
    assert {"sim.samples.scenarios", "sim.samples.experiments", "sim.samples.experiments.mechanisms"} <= listed


def test_an_installed_covsim_carries_the_samples(tmp_path):
    # Build the wheel as pip would, install it alone into a folder, and run it from elsewhere: the samples
    # come from the package (sim/samples/), not from this checkout.
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    build = [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(wheels)]
    subprocess.run(build, check=True, capture_output=True, cwd=tmp_path)
    (wheel,) = wheels.glob("covsim-*.whl")
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)]
    subprocess.run(install, check=True, capture_output=True, cwd=tmp_path)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import sim.sample_files as s; "
        "assert s.__file__.startswith(sys.argv[1]), s.__file__; print(s.sample_root()); "
        "from sim.cli import main; main(['examples', 'out'])"
    )
    r = subprocess.run([sys.executable, "-c", code, str(site)], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == str(site / "sim" / "samples")
    assert _copied(tmp_path / "out") == _checkout_samples()
