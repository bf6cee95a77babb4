"""A compiled kernel's disk cache follows every file compiled into it, its helpers' in other modules too, and
the options it is compiled with."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

RUN = """
import json, sys
sys.path.insert(0, sys.argv[1])
from sim.compiled import compiled
from kernelpkg import kernel
k = compiled(kernel.scaled)
value = k(1)
print(json.dumps({"value": value, "loaded": sum(k.stats.cache_hits.values()), "compiled": sum(k.stats.cache_misses.values())}))
"""


def _run(folder) -> dict:
    out = subprocess.run([sys.executable, "-c", RUN, str(folder)], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_kernel_is_compiled_again_when_a_helper_in_another_file_changes(tmp_path):
    """numba judges a cached kernel fresh by its own file; the helper it runs from another module is part
    of its machine code, so a change there must compile it again (a stale one would give 20 below)."""
    pkg = tmp_path / "kernelpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helper.py").write_text("def offset(x):\n    return x + 1\n")
    (pkg / "kernel.py").write_text(
        "from kernelpkg.helper import offset\n\n\ndef scaled(x):\n    return offset(x) * 10\n"
    )
    assert _run(tmp_path) == {"value": 20, "loaded": 0, "compiled": 1}
    assert _run(tmp_path) == {"value": 20, "loaded": 1, "compiled": 0}  # the disk cache serves it
    (pkg / "helper.py").write_text("def offset(x):\n    return x + 2  # changed\n")
    assert _run(tmp_path) == {"value": 30, "loaded": 0, "compiled": 1}  # the kernel's own file is unchanged
    assert _run(tmp_path) == {"value": 30, "loaded": 1, "compiled": 0}


OPTIONS_RUN = """
import json, sys
sys.path.insert(0, sys.argv[1])
import sim.compiled
if sys.argv[2] != "numpy":
    sim.compiled.OPTIONS["error_model"] = sys.argv[2]
from kernelpkg import ratio
k = sim.compiled.compiled(ratio.ratio)
try:
    value = str(k(1.0, 0.0))
except ZeroDivisionError:
    value = "raised"
print(json.dumps({"value": value, "loaded": sum(k.stats.cache_hits.values())}))
"""


def test_a_kernel_is_compiled_again_when_its_options_change(tmp_path):
    """numba keys its cache by the code alone; the error model decides what a division by zero does, so a
    kernel cached under one model must not be served under the other."""
    pkg = tmp_path / "kernelpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "ratio.py").write_text("def ratio(x, y):\n    return x / y\n")

    def run(model: str) -> dict:
        cmd = [sys.executable, "-c", OPTIONS_RUN, str(tmp_path), model]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
        return json.loads(out.stdout.strip().splitlines()[-1])

    assert run("numpy") == {"value": "inf", "loaded": 0}  # numpy's division: no raise
    assert run("numpy") == {"value": "inf", "loaded": 1}
    assert run("python") == {"value": "raised", "loaded": 0}
    assert run("numpy") == {"value": "inf", "loaded": 0}


def _on_a_terminal(folder) -> str:
    """What ``RUN`` writes to stderr when stderr is a terminal (a pseudo-terminal here)."""
    import os
    import pty

    main, other = pty.openpty()
    try:
        subprocess.run(
            [sys.executable, "-c", RUN, str(folder)], stdout=subprocess.DEVNULL, stderr=other, check=True, cwd=ROOT
        )
    finally:
        os.close(other)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal's other end is closed: all is read
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    return b"".join(chunks).decode()


def test_a_terminal_is_told_when_loops_are_compiled_and_not_when_they_are_loaded(tmp_path):
    # A first run that compiles takes half a minute or more, which would otherwise read as the model's own time.
    import os

    from sim.compiled import COMPILING, NOTICE_VARIABLE

    pkg = tmp_path / "kernelpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helper.py").write_text("def offset(x):\n    return x + 1\n")
    (pkg / "kernel.py").write_text("from kernelpkg.helper import offset\n\n\ndef scaled(x):\n    return offset(x)\n")
    assert _on_a_terminal(tmp_path).splitlines() == [COMPILING]  # once, for the kernel and its helper
    assert _on_a_terminal(tmp_path) == ""  # loaded from the disk cache
    # In a log too (a first run's minute of silence had read as the model's own time), but where the test suite
    # asks for quiet (NOTICE_VARIABLE 0, set by conftest for every test and the commands they start).
    (pkg / "helper.py").write_text("def offset(x):\n    return x + 2\n")
    out = subprocess.run([sys.executable, "-c", RUN, str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert json.loads(out.stdout.strip().splitlines()[-1])["compiled"] == 1 and out.stderr == ""
    (pkg / "helper.py").write_text("def offset(x):\n    return x + 3\n")
    logged = {k: v for k, v in os.environ.items() if k != NOTICE_VARIABLE}
    out = subprocess.run(
        [sys.executable, "-c", RUN, str(tmp_path)], capture_output=True, text=True, cwd=ROOT, env=logged
    )
    assert json.loads(out.stdout.strip().splitlines()[-1])["compiled"] == 1 and out.stderr.splitlines() == [COMPILING]


QUIET_RUN = """
import sys
sys.path.insert(0, sys.argv[1])
from sim.compiled import compiled, quiet_compiling
from kernelpkg import kernel
quiet_compiling()
print(compiled(kernel.scaled)(1))
"""


def test_a_quiet_process_says_nothing_when_it_compiles_and_a_pool_lets_one_worker_speak(tmp_path, monkeypatch):
    import os
    import pty

    from sim.experiment import pool

    pkg = tmp_path / "kernelpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "kernel.py").write_text("def scaled(x):\n    return x * 3\n")
    main, other = pty.openpty()
    try:
        out = subprocess.run(
            [sys.executable, "-c", QUIET_RUN, str(tmp_path)], stdout=subprocess.PIPE, stderr=other, cwd=ROOT, text=True
        )
    finally:
        os.close(other)
    os.set_blocking(main, False)
    try:
        said = os.read(main, 4096)
    except OSError:  # nothing was written: the terminal has nothing to read
        said = b""
    os.close(main)
    assert out.stdout.strip() == "3" and said == b""  # it compiled (a fresh package), silently

    class Stopped:
        def send(self, _: object) -> None: ...

        def close(self) -> None: ...

        def join(self) -> None: ...

    asked: list[bool] = []

    def started(announce: bool = False) -> tuple[Stopped, Stopped]:
        asked.append(announce)
        return Stopped(), Stopped()

    monkeypatch.setattr(pool, "start_worker", started)
    pool.WorkerPool(3).close()
    assert asked == [True, False, False]


def test_kernels_loaded_counts_what_a_run_loads_and_a_repeat_loads_nothing(small):
    # covsim run says a run's time includes loading the compiled loops when this count rose during it.
    from sim.compiled import kernels_loaded
    from sim.policies import make_policy
    from sim.run import run

    run(small, make_policy("unstructured"), 1, quarters=1)
    loaded = kernels_loaded()
    assert loaded > 10  # every kernel of the week
    run(small, make_policy("unstructured"), 2, quarters=1)
    assert kernels_loaded() == loaded
