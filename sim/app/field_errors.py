"""Where the what-if page shows a refused run's problems, and in what words.

A problem is the line the command line prints for the same value in a file
(``FILE: reps.0.count: Input should be ...``). :func:`field_of` says which
field it belongs beside, and there the file and its key give way to the
field's own words (``seats: Input should be ...``): the page's user typed in a
field, not a file's key. A line no field holds is shown under the buttons as
it is. While lines are shown, each change of a field or of the scenario keeps
those a run would write again and drops the mended (:func:`after_change`).
"""

from __future__ import annotations

import re

from sim.app.form import (
    ATTRITION,
    DEMAND,
    NO_SCENARIO,
    POLICIES,
    QUARTERS,
    REPLICATIONS,
    SCENARIO,
    SEED,
    TEAM,
    Settings,
    param_field,
    plan,
    team_field,
)
from sim.errors import InputError
from sim.policies import BUILT_IN
from sim.scenario import Scenario

#: The block a problem's key runs through, as the command line ends its line (``sim.config``).
BLOCK = re.compile(r' \(in the (\w+ )?block (named "[^"]*"|of "[^"]*" seats)\)$')
#: The words of a shock's numbers, as the page labels them (the key's last part: ``shocks.1.factor``).
SHOCK_WORDS = {"share": "share leaving", "quarter": "quarter", "factor": "opportunity rates x"}


def field_of(problem: str, source: str, base_shocks: int, settings: Settings) -> str:
    """The field key a problem line belongs beside (:data:`SCENARIO` when no narrower field holds it).

    ``base_shocks`` is the number of the file's own shocks: ``shocks.<i>``
    beyond them are the page's (rep attrition first when it is on).
    """
    text = problem.removeprefix(f"{source}: ")
    for name in settings.added:  # a user policy's import path holds a colon: ``pkg.mod:Class.params.NAME: ...``
        if text.startswith((f"{name}.", f"{name}: ")):
            rest = text[len(name) + 1 :].split(":", 1)[0].split(".")
            return param_field(name, rest[1]) if len(rest) >= 2 and rest[0] == "params" else POLICIES
    path = text.split(":", 1)[0]
    parts = path.split(".")
    if len(parts) >= 3 and parts[0] == "reps" and parts[1].isdigit() and parts[2] == "count":
        return team_field(int(parts[1]))
    if path == "reps":
        return TEAM
    if parts[0] == "quarters":
        return QUARTERS
    if parts[0] == "shocks" and len(parts) > 1 and parts[1].isdigit():
        index = int(parts[1]) - base_shocks
        if index < 0:  # the file's own shock, valid in the file: the horizon set on the page cut it off
            return QUARTERS
        return ATTRITION if settings.attrition.on and index == 0 else DEMAND
    if len(parts) >= 3 and parts[1] == "params" and parts[0] in BUILT_IN:
        return param_field(parts[0], parts[2])
    if parts[0] in BUILT_IN:
        return POLICIES
    if parts[0] in (POLICIES, REPLICATIONS, SEED):
        return parts[0]
    return SCENARIO


def worded(problem: str, field: str, source: str) -> str:
    """``problem`` as shown beside ``field``: the field's words in place of the file and its key. A line about
    the scenario, or a file's own shock cut off by the page's horizon (beside the quarters), is the file's and
    keeps both; the policies', the replications' and the seed's name no file."""
    key, colon, message = problem.removeprefix(f"{source}: ").partition(": ")
    message = BLOCK.sub("", message)  # the field places it: ``(in the block of "inside" seats)`` says it again
    if not colon or field in (SCENARIO, POLICIES, REPLICATIONS, SEED) or (field == QUARTERS and key != QUARTERS):
        return problem
    last = key.rsplit(".", 1)[-1]
    if field.startswith("team-"):
        word = "seats"
    elif field in (ATTRITION, DEMAND):
        word = SHOCK_WORDS.get(last, last)
    elif field.startswith("param-"):  # the parameter's name as labelled, and the part of it named
        word = key.split(".params.", 1)[-1]
    else:  # the team as a whole, the quarters
        word = field
    # A value missing is an empty field on the page, not an input of the wrong type (a director's empty seats
    # field read "Input should be a valid integer").
    message = EMPTY.get(message, message)
    return f"{word}: {message}"


#: What the strict models say of a value missing (no ", not ..."), as a page's empty field is said.
EMPTY = {
    "Input should be a valid integer": "empty: a whole number is needed",
    "Input should be a valid number": "empty: a number is needed",
}


def placed(
    problems: list[str], fields: list[str], source: str, base_shocks: int, settings: Settings
) -> tuple[list[str], str]:
    """Each field's problems (one line each, :func:`worded`) in the order of ``fields``, and those no field on
    the page holds, as they are."""
    beside: dict[str, list[str]] = {f: [] for f in fields}
    rest: list[str] = []
    for line in problems:
        key = field_of(line, source, base_shocks, settings)
        if key in beside:
            beside[key].append(worded(line, key, source))
        else:
            rest.append(line)
    return ["\n".join(beside[f]) for f in fields], "\n".join(rest)


#: How :func:`nothing_ran`'s line starts.
NOTHING_RAN = "nothing ran:"


def nothing_ran(beside: list[str]) -> str:
    """What a refused run says under its button when every problem is beside its field (one may be out of
    sight, further down the form): that nothing ran, and where to look; "" with none."""
    held = sum(len(text.splitlines()) for text in beside)
    if not held:
        return ""
    which = "a problem is" if held == 1 else f"{held} problems are"
    return f"{NOTHING_RAN} {which} shown in red beside {'its field' if held == 1 else 'their fields'} on the left"


def checked(base: Scenario | None, source: str, fields: list[str], settings: Settings) -> tuple[list[str], str]:
    """What a run refused now writes beside each of ``fields`` and under the buttons (all empty: it would start);
    ``base`` None: no scenario is loaded, and that is all it says."""
    if base is None:
        return [""] * len(fields), NO_SCENARIO
    try:
        plan(base, source, settings)
    except InputError as e:
        return placed(e.problems, fields, source, len(base.shocks), settings)
    return [""] * len(fields), ""


def after_change(
    shown: list[str | None],
    shown_rest: str | None,
    base: Scenario | None,
    source: str,
    fields: list[str],
    settings: Settings,
) -> tuple[list[str], str]:
    """The error lines still shown once a field or the scenario changed (``base``, the scenario now loaded;
    None: an upload failed): of the lines ``shown`` beside ``fields`` and under the buttons (``shown_rest``),
    those a run would write again (:func:`checked`): a field that showed lines shows what a run would write
    beside it now; the others were mended, or were about a scenario left (its team, horizon, shocks, a parameter
    it lacked, that none was loaded), and go; a field that showed none stays so while it is typed in. The line
    saying that nothing ran counts the problems still shown.
    """
    now, rest = checked(base, source, fields, settings)

    def kept(old: str | None, new: str) -> str:
        still = set(new.splitlines())
        return "\n".join(line for line in (old or "").splitlines() if line in still)

    # A field still wrong keeps its line, in the words its value now gets (-1 typed over as -2 had lost it).
    beside = [n if o else "" for o, n in zip(shown, now, strict=True)]
    under = kept(shown_rest, rest).splitlines()
    if any(line.startswith(NOTHING_RAN) for line in (shown_rest or "").splitlines()) and nothing_ran(beside):
        under.append(nothing_ran(beside))
    return beside, "\n".join(under)
