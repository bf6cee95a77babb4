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


def load_scenario_file(path: Path | str, quarters: int | None = None) -> Scenario:
    """``load_scenario``, or InputError with the file's problems and, where its ``[policy]`` names no policy, that
    one beside them."""
    try:
        return load_scenario(path, quarters)
    except InputError as e:
        try:
            data = read_toml(path)
        except InputError:  # the file does not read (its syntax, say): that is its one problem
            raise e from None
        raise InputError([*e.problems, *_policy_problems(data, str(path))]) from None


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
