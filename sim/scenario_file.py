"""A scenario file as the command line and the what-if page read it: every mistake at once, its policy's name too.

``sim.scenario.load_scenario`` checks the file against the scenario's schema; the ``[policy]`` name is a policy's
only once the policies are loaded, which the scenario does not do (the policies read scenarios). Here a file with
mistakes is said with its policy's name among them, not that name after the rest are mended (a new user's
"pooledd", said last and alone).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.config import read_toml_not_csv
from sim.errors import InputError
from sim.policies import policy_class
from sim.scenario import Scenario, load_scenario, parse_scenario

#: What a CSV file given as a scenario is told (the what-if page says as much of an uploaded one).
CSV_NOT_SCENARIO = (
    "a CSV file, not a scenario file (TOML); a CRM export is made into a scenario with covsim calibrate "
    "(docs/scenario-format.md, section 8)"
)


def load_scenario_file(path: Path | str, quarters: int | None = None, horizon: str = "") -> Scenario:
    """``load_scenario``, or InputError with the file's problems and, where its ``[policy]`` names no policy, that
    one beside them. Over ``quarters`` (``--quarters``) shorter than the file's shocks reach, the shocks after it
    are left out of the run (``shocks_left_out`` says which), a rollout's excepted: its quarters before the new
    model run the current one, which leaving it out would not. The whole file is checked first, at the run's
    horizon, so that each problem names a shock by its place in the file. ``horizon``: what set ``quarters``, in the
    words of each problem's source (default ``--quarters N``; an experiment's ``quarters = N of FILE``)."""
    try:
        if quarters is None:
            return load_scenario(path)
        data, source = read_scenario_toml(path), f"{path} (with {_set_by(quarters, horizon)})"
        past = shocks_left_out(data, quarters)
        try:  # every shock, numbered as in the file, at the run's horizon: all but the left-out ones' quarters
            whole = parse_scenario({**data, "quarters": quarters}, source)  # as load_scenario, the file read once
        except InputError as e:
            if faults := [
                p for p in e.problems if not any(p.startswith(f"{source}: shocks.{i}.quarter: ") for i in past)
            ]:
                raise InputError([_rollout_kept(p, data, source) for p in faults]) from None
        if not past:
            return whole
        kept = [s for i, s in enumerate(data["shocks"]) if i not in past]
        return parse_scenario({**data, "quarters": quarters, "shocks": kept}, source)
    except InputError as e:
        data = read_scenario_toml(path)  # a file that does not read (its syntax, say): that is its one problem
        raise InputError([*e.problems, *_policy_problems(data, str(path))]) from None


def _rollout_kept(problem: str, data: dict[str, Any], source: str) -> str:
    """``problem`` with why a rollout past a shortened horizon is refused where another shock is left out (a trial
    was told one and not the other, with no reason)."""
    shocks = data.get("shocks")
    listed = shocks if isinstance(shocks, list) else []
    rollouts = [i for i, s in enumerate(listed) if isinstance(s, dict) and s.get("kind") == "rollout"]
    if not any(problem.startswith(f"{source}: shocks.{i}.quarter: ") for i in rollouts):
        return problem
    return f"{problem}: {ROLLOUT_KEPT}"


#: Why a rollout past a shortened horizon is refused, where another shock is left out.
ROLLOUT_KEPT = (
    "a rollout is not left out, as other shocks are, since the quarters before it run the model in force, which "
    "leaving it out would not; give more quarters, or run the current model alone"
)


def shocks_left_out(data: dict[str, Any], quarters: int) -> dict[int, int]:
    """The shocks of a scenario file's ``data`` (by their place in the file) that a run of ``quarters`` leaves out,
    each with its quarter: those after its last quarter (:func:`shocks_past`), but a rollout (refused there). A
    file's own horizon holds its shocks (checked), so that only a shorter ``--quarters`` leaves any out: an
    analyst's quick look at two quarters of a file with a freeze in the third had been refused until the file was
    edited."""
    return {i: q for i, q in shocks_past(data, quarters).items() if data["shocks"][i].get("kind") != "rollout"}


def shocks_past(data: dict[str, Any], quarters: int) -> dict[int, int]:
    """The shocks of a scenario file's ``data`` (by their place in the file) after the last of ``quarters``, each
    with its quarter."""
    shocks = data.get("shocks")
    if not isinstance(shocks, list) or not isinstance(quarters, int):
        return {}
    return {
        i: s["quarter"]
        for i, s in enumerate(shocks)
        if isinstance(s, dict)
        and isinstance(s.get("quarter"), int)
        and not isinstance(s.get("quarter"), bool)
        and s["quarter"] > quarters
    }


def sets_in_run(sets: dict[str, Any], past: dict[int, int]) -> tuple[dict[str, Any], dict[str, str]]:
    """``--set`` values by path with each ``shocks.N...`` path, which counts the file's shocks, counting the run's
    (the ``past`` ones left out: ``shocks_left_out``), and each such path's as given; or InputError for one that
    sets a shock left out (a review's ``--set shocks.1.factor`` had changed the file's shocks.2 under --quarters)."""
    out, given, problems = {}, {}, []
    for path, value in sets.items():
        head, _, rest = path.partition(".")
        place, _, tail = rest.partition(".")
        if head != "shocks" or not place.isdigit() or not past:
            out[path] = value
        elif int(place) in past:
            problems.append(f"--set {path}: shocks.{place} is after the run's last quarter: left out of it")
        else:
            moved = ".".join(x for x in (head, str(int(place) - sum(i < int(place) for i in past)), tail) if x)
            out[moved], given[moved] = value, path
    if problems:
        raise InputError(problems)
    return out, given


def left_out(data: dict[str, Any], quarters: int, source: str, horizon: str = "") -> tuple[list[str], str]:
    """Of each shock of the scenario file ``source`` (its ``data``) a run over ``quarters`` leaves out, a note for
    the terminal (``SOURCE: shocks.2: hiring_freeze in quarter 3 is after the run's last quarter (--quarters 2):
    left out of it``), and the sentence a batch's report opens with of them, or "" (the notes are gone once the
    report is read). ``horizon``: what set ``quarters``, as :func:`load_scenario_file` takes it."""
    past, by = shocks_left_out(data, quarters), _set_by(quarters, horizon)
    if not past:
        return [], ""
    kind = {i: data["shocks"][i].get("kind", "shock") for i in past}
    notes = [
        f"{source}: shocks.{i}: {kind[i]} in quarter {q} is after the run's last quarter ({by}): left out of it"
        for i, q in past.items()
    ]
    each = "; ".join(f"`shocks.{i}` ({kind[i]} in quarter {q})" for i, q in past.items())
    return notes, f"Left out of every run, after the runs' last quarter ({by}): {each} of `{source}`."


def _set_by(quarters: int, horizon: str) -> str:
    """What set a run's ``quarters``, in words: ``horizon`` (an experiment's ``quarters = N of FILE``), or
    ``--quarters N``."""
    return horizon or f"--quarters {quarters}"


def read_scenario_toml(path: Path | str) -> dict[str, Any]:
    """``read_toml`` of a file given as a scenario; a CSV file is told where a CRM export goes (an analyst's
    ``covsim run accounts.csv`` had been told of a TOML syntax error)."""
    return read_toml_not_csv(path, CSV_NOT_SCENARIO)


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
