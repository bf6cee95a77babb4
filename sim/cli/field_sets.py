"""``--set PATH=VALUE``: a scenario field changed for one command (``run``, ``compare``, ``stress``, ``backtest``,
``experiment``),
as an experiment's factor changes it, without editing the file (an analyst testing an assumed number, the
conflict penalty of a calibrated world say, had to copy and edit the file for each try)."""

from __future__ import annotations

import tomllib
from typing import TYPE_CHECKING, Any

import click

from sim.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sim.experiment.spec import Factor
    from sim.scenario import Scenario

set_option = click.option(
    "--set",
    "set_pairs",
    multiple=True,
    metavar="PATH=VALUE",
    help=(
        "A scenario field for this command only (repeatable), by its dotted path in the file, e.g. "
        "relationship.conflict_penalty=0 or population.segments.*.churn_per_year=0.05 (docs/scenario-format.md)."
    ),
)

#: Fields ``run``, ``compare`` and ``stress`` set with an option of their own: one way to say a thing.
OWN_OPTION = {"quarters": "--quarters", "seed": "--seed", "policy": "--policy and --param"}
#: Fields an experiment file sets for its scenario.
EXPERIMENT_OWN = {
    "quarters": "the experiment file's quarters",
    "seed": "the experiment file's seed",
    "policy": "the experiment file's [[policies]]",
    "shocks": "the experiment file's [[shocks]] or [[suite]]",
}
#: Why ``--set`` does not set the variant's name: named by its changes, its results never pass for the file's.
NAMED = "a variant is named by its changes (the file's name and a hash), so that its results never pass for the file's"


def parsed_pairs(pairs: tuple[str, ...], option: str) -> tuple[dict[str, Any], list[str]]:
    """``KEY=VALUE`` pairs of ``option``, VALUE read as a TOML value (42, 0.5, true, "text") or else as text; and a
    line for each malformed one (no ``=``, a key given twice)."""
    values: dict[str, Any] = {}
    problems = []
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(f"{option} {pair!r}: expected KEY=VALUE")
            continue
        if key in values:
            problems.append(f"{option} {key}: given twice (once is enough; the last would silently win)")
            continue
        try:
            values[key] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            values[key] = raw
    return values, problems


def parse_sets(pairs: tuple[str, ...], own: dict[str, str] = OWN_OPTION) -> dict[str, Any]:
    """The ``--set`` pairs by path; InputError with a line for each malformed one, one that ``own`` (top-level
    field: the command's option for it) says an option of the command sets, and one naming the variant (one that
    writes a value an earlier one writes is :func:`with_sets`' to find, in the scenario)."""
    sets, problems = parsed_pairs(pairs, "--set")
    for path in sets:
        head = path.split(".")[0]
        if head in own:
            problems.append(f"--set {path}: give {own[head]} instead")
        elif head == "name":
            problems.append(f"--set {path}: {NAMED}")
    if problems:
        raise InputError(problems)
    return sets


def with_sets(
    scenario: Scenario,
    sets: dict[str, Any],
    source: str,
    factors: Sequence[Factor] = (),
    said_as: Mapping[str, str] | None = None,
) -> Scenario:
    """``scenario`` with the ``--set`` fields changed and validated again (InputError: one ``--set PATH: ...`` line
    per problem, a path an experiment's ``factors`` write too among them), and a line on stderr naming each field's
    value in ``source`` and the one the command runs with.

    The variant is named ``<name>-<8 hex digits>`` (``Scenario.with_overrides``): its results never pass for
    the file's. ``said_as``: a path as the command line gave it, where it names the field otherwise (a shock's
    place in the file, where --quarters leaves shocks out)."""
    if not sets:
        return scenario
    from sim.config import locate
    from sim.format import toml_text

    data = scenario.model_dump(mode="json")
    places = {path: locate(data, path) for path in sets}
    # Two paths writing one value: which wins would depend on their order, which the variant's name does not.
    paths = list(sets)
    if clashes := [f"--set {b}: writes a value --set {a} writes too" for i, b in enumerate(paths) for a in paths[:i]
                   if _write_together(places[a], places[b])]:  # fmt: skip
        raise InputError(clashes)
    # A factor's value would win at every design point, and the --set change nothing: said beside the values' own.
    targets = [(f, locate(data, f.target.partition(".")[2])) for f in factors if f.target.startswith("scenario.")]
    shadowed = [
        f"--set {path}: factor {f.name} sets it at every design point ({f.target}): vary it there, or drop the factor"
        for path in sets
        for f, written in targets
        if _write_together(places[path], written)
    ]
    # Each value the path names, in the file's order ("2, 2, 1" for reps.*.count), once where all are one.
    before = {path: [toml_text(c[k]) for c, k in places[path]] for path in sets}
    try:
        variant = scenario.with_overrides("--set", **sets)
    except InputError as e:
        raise InputError([*shadowed, *e.problems]) from None
    if shadowed:
        raise InputError(shadowed)
    changes = [
        f"{(said_as or {}).get(path, path)} {v[0] if len(set(v)) == 1 else ', '.join(v)} -> {toml_text(value)}"
        for path, value in sets.items()
        if (v := before[path])
    ]
    click.echo(f"--set: {source} run as {variant.name}, with {'; '.join(changes)}", err=True)
    return variant


def _write_together(a: list[tuple[Any, Any]], b: list[tuple[Any, Any]]) -> bool:
    """Whether two paths' places (``locate``'s (container, key) pairs) share one, or one's value holds the other's
    container (a table set whole beside a value in it)."""

    def inside(value: Any) -> set[int]:  # the ids of every table and list within a value, itself included
        if isinstance(value, dict | list):
            items = value.values() if isinstance(value, dict) else value
            return {id(value)}.union(*(inside(v) for v in items))
        return set()

    mine = {(id(c), k) for c, k in a}
    if any((id(c), k) in mine for c, k in b):
        return True
    held_a, held_b = set().union(*(inside(c[k]) for c, k in a)), set().union(*(inside(c[k]) for c, k in b))
    return any(id(c) in held_a for c, _ in b) or any(id(c) in held_b for c, _ in a)


def as_options(set_pairs: tuple[str, ...]) -> str:
    """The ``--set`` pairs as the command line gives them: ``--set a=1 --set b=2``."""
    return " ".join(f"--set {pair}" for pair in set_pairs)


def sets_said(set_pairs: tuple[str, ...], source: str) -> str:
    """The sentence a batch's report opens with when ``--set`` changed its scenario (a report had named the file
    alone, as if its values had run)."""
    if not set_pairs:
        return ""
    given = ", ".join(f"`{pair.strip()}`" for pair in set_pairs)
    return f"Run with scenario fields set on the command line over the values in `{source}`: --set {given}."
