"""A scenario file as the command line and the what-if page read it: every mistake at once, its policy's name too.

``sim.scenario.load_scenario`` checks the file against the scenario's schema; the ``[policy]`` name is a policy's
only once the policies are loaded, which the scenario does not do (the policies read scenarios). Here a file with
mistakes is said with its policy's name among them, not that name after the rest are mended (a new user's
"pooledd", said last and alone).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.config import read_toml
from sim.errors import InputError
from sim.policies import policy_class
from sim.scenario import Scenario, load_scenario

#: What a CSV file given as a scenario is told (the what-if page says as much of an uploaded one).
CSV_NOT_SCENARIO = (
    "a CSV file, not a scenario file (TOML); a CRM export is made into a scenario with covsim calibrate "
    "(docs/scenario-format.md, section 8)"
)


def load_scenario_file(path: Path | str, quarters: int | None = None) -> Scenario:
    """``load_scenario``, or InputError with the file's problems and, where its ``[policy]`` names no policy, that
    one beside them."""
    try:
        return load_scenario(path, quarters)
    except InputError as e:
        data = read_scenario_toml(path)  # a file that does not read (its syntax, say): that is its one problem
        raise InputError([*e.problems, *_policy_problems(data, str(path))]) from None


def read_scenario_toml(path: Path | str) -> dict[str, Any]:
    """``read_toml`` of a file given as a scenario; a CSV file that does not read is told where a CRM export goes
    (an analyst's ``covsim run accounts.csv`` had been told of a TOML syntax error)."""
    try:
        return read_toml(path)
    except InputError:
        if Path(path).suffix.lower() == ".csv" and Path(path).is_file():  # a missing one is said to be missing
            raise InputError([f"{path}: {CSV_NOT_SCENARIO}"]) from None
        raise


def _policy_problems(data: dict[str, Any], source: str) -> list[str]:
    """The problem of the ``[policy]`` name of a file's ``data``, if it is a name and no policy's."""
    table = data.get("policy")
    name = table.get("name") if isinstance(table, dict) else None
    if not isinstance(name, str):
        return []
    try:
        policy_class(name, f"{source}: policy.name")
    except InputError as e:
        return e.problems
    return []
