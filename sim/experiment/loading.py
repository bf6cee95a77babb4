"""Reading an experiment file: the experiment and its base scenario, or every mistake in it at once.

A file is refused with all the problems that can be found in one pass: past
misspelt keys (read as the keys they resemble), keys of a wrong value (left to
their defaults) and unknown metrics (read as a known one) the later checks
still run, so that a user fixes the file in one
round rather than one mistake a rerun.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.catalogue import CATALOGUE
from sim.config import locate, read_toml
from sim.errors import InputError
from sim.experiment.spec import HEADLINE_METRICS, Experiment, metric_faults, parse_experiment, resolve_base
from sim.experiment.targets import missed_target
from sim.policies import policy_class
from sim.scenario import Scenario, load_scenario
from sim.scenario_file import left_out as left_out_of_file
from sim.scenario_file import load_scenario_file, read_scenario_toml, shocks_past
from sim.strict import without_bad_keys


def load_experiment(path: Path | str, planner: Planner | None = None) -> tuple[Experiment, Scenario]:
    """Load an experiment file and its base scenario (with the experiment's shocks and horizon).

    A file with mistakes is refused with every one of them at once, as far as they can be found: past
    misspelt keys (taken as the key they resemble, or left out), keys of a wrong value (left to their defaults)
    and unknown metrics (taken as a known one),
    the metrics' product lines are checked too, and with a ``planner`` (``sim.experiment.design.plan_runs``,
    which ``open_batch`` runs again on a good file) each design point's factors and policy parameters."""
    path = Path(path)
    data = read_toml(path)
    try:
        experiment = parse_experiment(data, str(path))
    except InputError as e:
        mended = _mended(data, str(path))  # None: other mistakes, which later checks cannot pass
        later = (
            _later_problems(*mended, path, planner)
            if mended is not None
            else [*_policy_names(data, path), *_target_names(data, path)]
        )
        # A renamed key is at its path in the mended file; a dropped one is not.
        if mended is not None and any(not locate(mended[0], r) and r not in NO_BEARING for r in mended[1]):
            # A wrong value's default stood in: what the later checks find may be the default's, not the file's
            # ("a grid design needs values" of a misspelt lhs), so only the names they check are said.
            later = [p for p in later if _of_a_name(p, path)]
        raise InputError([*e.problems, *later]) from None
    try:
        scenario = _base_scenario(path, experiment.scenario, _leaving_out(experiment))
    except InputError as e:  # the policies' names need no scenario: said beside it
        raise InputError([*e.problems, *_policy_names(data, path)]) from None
    if "seed" not in data:  # the scenario's, as covsim compare's: a study as a file and as a compare is one study
        experiment = experiment.model_copy(update={"seed": scenario.seed})
    problems = _metric_problems(experiment, scenario, path)
    if problems:
        raise InputError([*problems, *_plan_problems(experiment, scenario, path, planner)])
    return experiment, resolve_base(experiment, scenario, str(path), str(path.parent / experiment.scenario))


def _mended(data: dict[str, Any], source: str) -> tuple[dict[str, Any], list[str]] | None:
    """``data`` with its misspelt keys read as the keys they resemble and its keys of a wrong value left to
    their defaults (or, its unknown metrics its only other mistake, those read as a known one), and the dotted
    paths of the keys renamed or left out, for the checks after the schema; None: other mistakes."""
    mended = without_bad_keys(Experiment, data)
    if mended is None and (known := _known_metrics(data)) is not data:
        try:
            parse_experiment(known, source)
        except InputError:
            return None
        return known, []
    return mended


def _known_metrics(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with each metric the catalogue does not know read as one it does and the list does not name, in
    place (the others keep their index in the problems later checks find; one stand-in for all, or one the list
    names, made a metric listed twice, which hid the file's later problems); ``data`` itself when it names none."""
    metrics = data.get("metrics")
    if not isinstance(metrics, list) or all(not isinstance(m, str) or m in CATALOGUE for m in metrics):
        return data
    # Headline metrics, which every scenario has (a role's or a line's would be checked against it); past them
    # (more unknown metrics than those), one stands in twice, and the checks after it go unsaid.
    spare = iter([m for m in HEADLINE_METRICS if m not in metrics])
    return {
        **data,
        "metrics": [
            m if not isinstance(m, str) or m in CATALOGUE else next(spare, HEADLINE_METRICS[0]) for m in metrics
        ],
    }


#: What plans an experiment's runs on its base scenario, raising InputError (``sim.experiment.design.plan_runs``;
#: passed in, since that module builds on this one).
Planner = Callable[[Experiment, Scenario], object]


#: Keys of an experiment no later check reads: a default standing in for a wrong value of one hides nothing.
NO_BEARING = frozenset({"name", "description", "seed", "replications"})


def _policy_names(data: dict[str, Any], path: Path) -> list[str]:
    """The policy names of ``data`` that name no policy, as the plan would say them: a check that needs nothing
    else of the file, so that it is said beside mistakes no mending passes (a value listed twice hid a misspelt
    policy)."""
    problems = []
    policies = data.get("policies")
    for i, entry in enumerate(policies if isinstance(policies, list) else []):
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str) and name:
            try:
                policy_class(name, f"policies.{i}.name")
            except InputError as e:
                problems += [f"{path}: {p}" for p in e.problems]
    return problems


def _target_names(data: dict[str, Any], path: Path) -> list[str]:
    """The factors' scenario targets of ``data`` that name no value of the file's scenario, as the plan says them:
    a check that needs only the targets and the scenario, said beside mistakes no mending passes (a bound the
    wrong way round hid a misspelt target till the next round)."""
    factors, named = data.get("factors"), data.get("scenario")
    if not isinstance(factors, list) or not isinstance(named, str):
        return []
    try:
        base = _base_scenario(path, named).model_dump(mode="json")
    except InputError:  # said when the file is read again, mended
        return []
    problems = []
    for i, factor in enumerate(factors):
        target = factor.get("target") if isinstance(factor, dict) else None
        if (
            isinstance(target, str)
            and target.startswith("scenario.")
            and not locate(base, target.removeprefix("scenario."))
        ):
            problems.append(f"{path}: factors.{i}.target: {missed_target(base, target)}")
    return problems


def _of_a_name(problem: str, path: Path) -> bool:
    """Whether ``problem`` is of a name the file gives (a metric, a policy, the scenario), which no default stands
    in for, or of another file (the scenario's own)."""
    return (
        not problem.startswith(f"{path}: ")
        or re.match(r"(metrics\.\d+|policies\.\d+\.name|scenario): ", problem.removeprefix(f"{path}: ")) is not None
    )


def _later_problems(data: dict[str, Any], renamed: list[str], path: Path, planner: Planner | None) -> list[str]:
    """What the checks after the schema find in ``data``, whose misspelt keys were read as the ``renamed``
    ones they resemble: the file's other mistakes, but none of a renamed key's (the misspelling is its
    problem, already said); past unknown metrics, the checks after them too."""
    found: list[str] = []
    try:
        experiment = parse_experiment(data, str(path))
    except InputError as e:
        found = [p for p in e.problems if not any(p.startswith((f"{path}: {r}:", f"{path}: {r}.")) for r in renamed)]
        # The names that need nothing else of the file, said beside what keeps it from parsing (a misspelt key
        # and a baseline no label names had hidden a misspelt policy until both were mended).
        names = [*_policy_names(data, path), *_target_names(data, path)]
        if (known := _known_metrics(data)) is data:
            return [*found, *names]
        try:
            experiment = parse_experiment(known, str(path))
        except InputError:
            return [*found, *names]
    try:
        scenario = _base_scenario(path, experiment.scenario, _leaving_out(experiment))
    except InputError as e:  # the policies' names need no scenario: said beside it
        return [*found, *e.problems, *_policy_names(data, path)]
    return [*found, *_metric_problems(experiment, scenario, path), *_plan_problems(experiment, scenario, path, planner)]


def _base_scenario(path: Path, named: str, quarters: int | None = None) -> Scenario:
    """The scenario the experiment file at ``path`` names; one it cannot read as a file (missing, a folder, a
    name too long) is said at the experiment's key that names it, the scenario's own mistakes in its lines. Over the
    experiment's ``quarters`` (``quarters``: None where :func:`_leaving_out` refuses), shorter than the scenario's
    own shocks reach, those after it are left out, as ``--quarters`` leaves them out of ``covsim compare``
    (:func:`left_out`); an experiment's own shocks are not."""
    where = path.parent / named
    try:
        if quarters is None or not shocks_past(read_scenario_toml(where), quarters):
            return load_scenario(where)
        return load_scenario_file(where, quarters, _horizon(path, quarters))
    except InputError as e:
        if os.path.isfile(where):
            raise
        raise InputError([f"{path}: scenario: {p}" for p in e.problems]) from None


def left_out(path: Path | str, experiment: Experiment) -> tuple[list[str], str]:
    """``SCENARIO: shocks.0: hiring_freeze in quarter 3 is after the run's last quarter (quarters = 2 of FILE): left
    out of it``, for each of the scenario's own shocks the experiment file at ``path`` leaves out by its
    ``quarters`` (a note, as ``covsim compare --quarters`` says one: a researcher's file had been refused), and the
    sentence its report opens with of them (``scenario_file.left_out``; "" for none)."""
    if (quarters := _leaving_out(experiment)) is None:
        return [], ""
    where = Path(path).parent / experiment.scenario
    return left_out_of_file(read_scenario_toml(where), quarters, str(where), _horizon(path, quarters))


def _leaving_out(experiment: Experiment) -> int | None:
    """The experiment's ``quarters`` where the scenario's shocks past it may be left out; None where they are
    refused: with shocks of the experiment's own, or a factor on a scenario shock, both numbered by the file's
    shocks, which leaving some out would renumber (a review's factor on shocks.1 had set the file's shocks.2)."""
    own = experiment.shocks or any(f.target.startswith("scenario.shocks") for f in experiment.factors)
    return None if own else experiment.quarters


def _horizon(path: Path | str, quarters: int) -> str:
    return f"quarters = {quarters} of {path}"


def _metric_problems(experiment: Experiment, scenario: Scenario, path: Path) -> list[str]:
    # An unknown metric is the experiment's own check's (``Experiment``); a line or role the scenario lacks, this one's.
    faults = metric_faults(experiment.metrics, scenario.reported_lines, scenario.seat_roles)
    return [f"{path}: metrics.{i}: {fault}" for i, fault in faults if experiment.metrics[i] in CATALOGUE]


def _plan_problems(experiment: Experiment, scenario: Scenario, path: Path, planner: Planner | None) -> list[str]:
    if planner is None:
        return []
    try:
        base = resolve_base(experiment, scenario, str(path), str(path.parent / experiment.scenario))
    except InputError as e:  # each line names its file already
        return e.problems
    try:
        planner(experiment, base)
    except InputError as e:
        return [f"{path}: {problem}" for problem in e.problems]
    return []
