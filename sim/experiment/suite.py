"""Stress suites: named sets of shocks, each run against the unshocked world on common random numbers.

A suite is the list of stresses ``covsim stress`` puts a coverage model
through. Each stress names one or more shocks (``sim.shocks``); the unshocked
run, named ``none``, is always added first as the reference every stress is
paired with. The default suite is the one of the design brief (attrition, a
hiring freeze, demand down and up, key-account loss, a potential shift and a
rollout big-bang or phased); its sizes depend on the scenario where they must
(how many key accounts, which segments), as :func:`default_suite` documents.
A suite file holds ``[[stress]]`` tables::

    [[stress]]
    name = "attrition_20"
    description = "a fifth of the reps leave at the start of quarter 2"
    shocks = [{ kind = "rep_attrition", quarter = 2, share = 0.2 }]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.config import Name, read_toml_not_csv, require_kind, validate_strict
from sim.errors import InputError
from sim.format import params_text, toml_text
from sim.policies import make_policy, policy_class
from sim.policies.rollout import rollout_of
from sim.scenario import Scenario
from sim.shocks import ModelRollout, Shock, attributed, shock_text
from sim.strict import Strict, ValidationError, model_validator
from sim.strict_types import INVALID

#: The name of the unshocked reference run, which every suite has first.
UNSHOCKED = "none"

#: The quarter the default suite's shocks start in (the brief's "20% of reps leave in Q2").
SHOCK_QUARTER = 2
#: Quarters a default hiring freeze lasts, from the shock quarter on [A].
FREEZE_QUARTERS = 4
#: The default key-account loss takes this share of the customers the scenario starts with, the largest by
#: spend [A].
KEY_ACCOUNT_SHARE = 0.01
#: The default potential shift moves this share of the potential of the segment with the most accounts into
#: the other segment with the highest median potential [A].
POTENTIAL_SHIFT = 0.2
#: Quarters a default phased rollout takes: a third of the accounts join the new model each quarter [A].
PHASED_QUARTERS = 3


class Stress(Strict):
    """One stress of a suite: a name and the shocks added to the scenario for it."""

    name: Name
    description: str = ""
    shocks: tuple[Shock, ...]

    @model_validator(mode="after")
    def _some(self) -> Stress:
        # Checked here, not as a minimum length, for a message that says what is needed.
        if not self.shocks:
            raise ValueError("shocks: at least one shock is needed")
        return self

    @property
    def quarter(self) -> int:
        """The first quarter its impact is read from: the first any of its shocks acts in, or, with a rollout (a
        stress has one at most), the rollout's: before it the model in force runs, not the policy, and a quarter
        of the model in force under an earlier shock against the policy unshocked is two models apart."""
        rollout = [s.quarter for s in self.shocks if isinstance(s, ModelRollout)]
        return rollout[0] if rollout else min(s.quarter for s in self.shocks)

    @property
    def what(self) -> str:
        """What it does: its description, or else its shocks: kind, quarter and the settings not left at their
        defaults (a model in force by its policy's name)."""
        if self.description:
            return self.description
        return "; ".join(shock_text(shock) for shock in self.shocks)

    @property
    def rolled_from(self) -> str:
        """The model in force its rollout starts from, by its policy's name and the parameters given ("" without a
        rollout): plans from different models answer different questions."""
        return next((model_in_force(x) for x in self.shocks if isinstance(x, ModelRollout)), "")


def model_in_force(rollout: ModelRollout) -> str:
    """The model a rollout starts from, by its policy's name and the parameters given off their defaults, as TOML
    has them: ``random_books (accounts_per_rep = 80)``; a parameter given at its default is the same model."""
    try:
        declared = policy_class(rollout.current.name).parameters()
    except InputError:  # a suite not yet checked: as given
        declared = {}
    params = rollout.current.params
    given = sorted((k, v) for k, v in params.items() if k not in declared or v != declared[k].default)
    shown = ", ".join(f"{k} = {toml_text(v)}" for k, v in given)
    return f"{rollout.current.name} ({shown})" if shown else rollout.current.name


class SuiteFile(Strict):
    """A validated suite file: its stresses and what it is for (``description``, the report's opening line)."""

    description: str = ""
    stress: tuple[Stress, ...] = ()  # none: the check below says what is needed, not "Field required"

    @model_validator(mode="after")
    def _some(self) -> SuiteFile:
        if not self.stress:
            raise ValueError("stress: at least one [[stress]] table is needed")
        return self


def is_rollout_plan(kinds: Iterable[str]) -> bool:
    """Whether a stress of shocks of these ``kinds`` is a rollout plan: rollouts alone (one with another shock,
    quits in the same quarter say, is a plan in a harder world, not a plan to choose)."""
    return set(kinds) == {"rollout"}


def load_suite_file(path: Path | str) -> SuiteFile:
    """A suite file, or InputError (one line per problem, naming the key path)."""
    return _validated(_read(path), str(path))


def _validated(data: dict[str, Any], source: str) -> SuiteFile:
    """A suite file's tables as a SuiteFile, or InputError with its problems located by stress (:func:`_by_stress`)."""
    try:
        return validate_strict(SuiteFile, data, source)
    except InputError as e:
        raise InputError(_by_stress(e.problems, source)) from None


def _by_stress(problems: list[str], source: str) -> list[str]:
    """A stress's own problems located as its problems on the scenario are (``stress.0 (x): shocks.0.share:
    ...``), not by the schema's words (``stress.0.shocks.0.share: ... (in the block named "x")``): one suite's
    errors had been said both ways."""
    schema = re.compile(re.escape(source) + r': stress\.(\d+)\.(.+) \(in the block named "(.+)"\)$')
    return [schema.sub(lambda m: f"{source}: stress.{m[1]} ({m[3]}): {m[2]}", p) for p in problems]


def _read(path: Path | str) -> dict[str, Any]:
    """A suite file's tables, or InputError for a file that is no TOML or of another kind (a CSV file said as
    one: an analyst's CRM export given as a suite had been told of a TOML syntax error on its header)."""
    data = read_toml_not_csv(path, "a CSV file, not a stress suite (a TOML file: docs/stress-testing.md)")
    require_kind(data, "suite", str(path))
    return data


def checked_suite(
    path: Path | str, scenario: Scenario, scenario_file: str | None = None, horizon: str = ""
) -> SuiteFile:
    """A suite file that fits ``scenario``, or InputError with every problem at once, in the order of the
    stresses: each malformed stress's (a share of 1.5) and each well-formed one's on the scenario
    (:func:`suite_problems`), so that a format mistake in one stress does not hide a repeated name or a
    quarter after the horizon in another until it is mended."""
    source, data = str(path), _read(path)
    try:
        suite = _validated(data, source)
    except InputError as e:
        tables = data.get("stress")
        tables = tables if isinstance(tables, list) else []
        formed = {i: stress for i, stress in enumerate(map(_well_formed, tables)) if stress is not None}
        names = [t.get("name") if isinstance(t, dict) else None for t in tables]
        problems = [*e.problems, *suite_problems(formed, scenario, source, scenario_file, horizon, names)]
        raise InputError(sorted(problems, key=lambda p: _stress_number(p, source))) from None
    problems = suite_problems(suite.stress, scenario, source, scenario_file, horizon)
    if problems:
        raise InputError(problems)
    return suite


#: What stands in for a malformed shock of a stress whose other shocks are checked on the scenario: a shock
#: that holds at any horizon and names nothing, so that no check across the tables reads it.
_STAND_IN = {"kind": "demand", "quarter": 1, "factor": 1.0}


def _well_formed(table: object) -> Stress | None:
    """A suite file's ``[[stress]]`` table as a Stress; where only some of its shocks have problems of their own,
    the stress with a stand-in for each of them (its other shocks keep their numbers, and are checked on the
    scenario beside those problems: a share of 1.5 had hidden a quarter past the horizon in the next shock);
    None where it has other problems of its own."""
    try:
        return Stress.model_validate(table)
    except ValidationError:
        shocks = Stress.items_value(table, "shocks")
        if shocks is INVALID or all(s is INVALID for s in shocks):
            return None
        stand_in = Stress.model_validate({"name": "stand_in", "shocks": [_STAND_IN]}).shocks[0]
        assert isinstance(table, dict)  # items_value reads only a table
        try:
            return Stress.model_validate({**table, "shocks": [stand_in if s is INVALID else s for s in shocks]})
        except ValidationError:
            return None


def _stress_number(problem: str, source: str) -> int:
    """The number of the stress a problem of ``source`` is in (its horizon's words aside); -1 for the file's."""
    found = re.match(re.escape(source) + r"(?: \([^)]*\))?: stress\.(\d+)", problem)
    return int(found.group(1)) if found else -1


def load_suite(path: Path | str) -> tuple[Stress, ...]:
    """The stresses of a suite file (:func:`load_suite_file`)."""
    return load_suite_file(path).stress


def starting_customers(scenario: Scenario) -> float:
    """The customers the scenario expects at week 0: accounts x each segment's share x customer share."""
    pop = scenario.population
    return pop.customers * sum(s.share * s.customer_share for s in pop.segments)


def default_suite(scenario: Scenario, current: str, current_params: dict[str, Any] | None = None) -> tuple[Stress, ...]:
    """The default suite for ``scenario``; rollouts start from the policy ``current`` (the model in force).

    Every shock starts in quarter 2. A scenario with one segment has no
    potential shift (there is no other segment to shift into), and one with
    a rollout of its own (in every run) no rollout stress (a scenario has at
    most one rollout). The sizes are
    the brief's (attrition 10/20/30%, demand -30% and +30%) or marked ``[A]``
    at the constants above.
    """
    q = SHOCK_QUARTER
    thaw = min(q + FREEZE_QUARTERS - 1, scenario.quarters)  # the freeze's last quarter, within the horizon
    segments = scenario.population.segments
    keys = max(1, round(KEY_ACCOUNT_SHARE * starting_customers(scenario)))
    seats = sum(g.count for g in scenario.reps)  # each leaving share is of the seats filled then: these, when all are
    rollout = {"kind": "rollout", "quarter": q, "current": {"name": current, "params": current_params or {}}}
    # The model in force with the parameters the file gives it (a VP could not tell which overlay it was).
    given = params_text(current_params or {})
    current = f"{current} ({given})" if given else current
    entries: list[dict[str, Any]] = [
        *(
            {
                "name": f"attrition_{round(100 * share)}",
                "description": f"{share:.0%} of the reps leave at the start of quarter {q} ({round(share * seats)} of "
                f"{seats} seats when all are filled; backfilled as usual)",
                "shocks": [{"kind": "rep_attrition", "quarter": q, "share": share}],
            }
            for share in (0.1, 0.2, 0.3)
        ),
        {
            "name": "hiring_freeze",
            "description": f"no seat is backfilled {f'in quarter {q}' if thaw == q else f'from quarter {q} to {thaw}'}",
            "shocks": [{"kind": "hiring_freeze", "quarter": q, "until_quarter": thaw}],
        },
        {
            "name": "demand_down_30",
            "description": f"new-logo and expansion demand 30% lower from quarter {q} on",
            "shocks": [{"kind": "demand", "quarter": q, "factor": 0.7}],
        },
        {
            "name": "demand_up_30",
            "description": f"new-logo and expansion demand 30% higher from quarter {q} on",
            "shocks": [{"kind": "demand", "quarter": q, "factor": 1.3}],
        },
        {
            "name": "key_account_loss",
            "description": f"the {keys:,} largest customers by spend leave at the start of quarter {q}",
            "shocks": [{"kind": "key_account_loss", "quarter": q, "accounts": keys}],
        },
    ]
    if len(segments) > 1:
        source = max(segments, key=lambda s: s.share)
        target = max((s for s in segments if s is not source), key=lambda s: s.potential_median)
        entries.append(
            {
                "name": "potential_shift",
                "description": f"{POTENTIAL_SHIFT:.0%} of {source.name}'s potential moves to {target.name} in "
                f"quarter {q}",
                "shocks": [
                    {
                        "kind": "potential_shift",
                        "quarter": q,
                        "segment": source.name,
                        "factor": 1 - POTENTIAL_SHIFT,
                        "into": target.name,
                    }
                ],
            }
        )
    if rollout_of(scenario) is not None:
        # The scenario's own rollout is in every run, and a scenario has at most one: no rollout stress here.
        return validate_strict(SuiteFile, {"stress": entries}, "default suite").stress
    entries += [
        {
            "name": "rollout_big_bang",
            "description": f"the model replaces {current} for every account at once in quarter {q}",
            "shocks": [{**rollout, "quarters": 1}],
        },
        {
            "name": "rollout_phased",
            "description": f"the model replaces {current} for a further 1/{PHASED_QUARTERS} of the accounts each "
            f"quarter from quarter {q}",
            "shocks": [{**rollout, "quarters": PHASED_QUARTERS}],
        },
    ]
    return validate_strict(SuiteFile, {"stress": entries}, "default suite").stress


#: A shock's quarter that ``Scenario`` refuses (after the last quarter), as its problem names the key.
_PAST_HORIZON = re.compile(r": shocks\.\d+\.quarter: ")


def suite_problems(
    stresses: Sequence[Stress] | Mapping[int, Stress],
    scenario: Scenario,
    source: str,
    scenario_file: str | None = None,
    horizon: str = "",
    names: Sequence[object] | None = None,
) -> list[str]:
    """What is wrong with ``stresses`` on ``scenario`` (of ``scenario_file``), one line each naming ``source`` and
    the stress: a reserved or repeated name, shocks the scenario refuses (a quarter after its horizon, a
    segment it lacks), or a rollout's model in force that cannot be made, each shock by its number in its own
    file. ``horizon`` (``with --quarters 2``) says what set the scenario's horizon, beside the source of a shock
    after it only. ``stresses`` by their numbers in the file (some of a file's, the others malformed) has the
    ``names`` of all of them, in order, for the repeated-name check, which names a malformed stress too (said
    only once its own fault was mended, before)."""
    problems = []
    numbered = dict(stresses) if isinstance(stresses, Mapping) else dict(enumerate(stresses))
    names = [s.name for s in numbered.values()] if names is None else names
    for i, stress in numbered.items():
        where = f"{source}: stress.{i} ({stress.name})"
        if stress.name == UNSHOCKED:
            problems.append(_reserved(where))
        elif names.index(stress.name) != i:
            problems.append(_twice(source, i, stress.name))
        shocks = [s.model_dump(mode="json") for s in (*scenario.shocks, *stress.shocks)]
        own, file = len(scenario.shocks), scenario_file or scenario.name
        try:
            scenario.with_overrides(where, shocks=shocks)
        except InputError as e:
            said = [attributed(p, where, own, file, file) for p in e.problems]
            if horizon:  # "3 is after the last quarter (2)" of a file that says 4 quarters
                after = f"{source} ({horizon}): stress.{i} ({stress.name})"
                said = [after + p.removeprefix(where) if _PAST_HORIZON.search(p) else p for p in said]
            problems += said
        # A rollout's model in force too, with the suite's other problems (not at the plan's design point, nor
        # only once the stress's quarters are right).
        for j, shock in enumerate(stress.shocks):
            if isinstance(shock, ModelRollout):
                try:
                    make_policy(
                        shock.current.name, dict(shock.current.params), f"{where}: shocks.{j}.current", scenario
                    )
                except InputError as e:
                    problems += e.problems
    malformed = [i for i, name in enumerate(names) if i not in numbered and isinstance(name, str)]
    for i in malformed:  # said beside the stress's own fault, not only once it is mended (a misspelt key had hid it)
        if names[i] == UNSHOCKED:
            problems.append(_reserved(f"{source}: stress.{i} ({UNSHOCKED})"))
        elif names.index(names[i]) != i:
            problems.append(_twice(source, i, str(names[i])))
    return problems


def _reserved(where: str) -> str:
    return f"{where}: name {UNSHOCKED!r} is the unshocked reference run; name the stress otherwise"


def _twice(source: str, i: int, name: str) -> str:
    """The line of stress ``i``, named ``name`` as an earlier one is."""
    return f"{source}: stress.{i} ({name}): name {name!r} is used twice"
