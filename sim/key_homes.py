"""Where a key belongs: for an "unknown key" in one table of a configuration file, the tables of the same model
that do have a field of that name, so that a key written in the wrong table is said so.

An analyst wrote ``contract_term_weeks`` under ``[population]`` and was told
only "unknown key"; it is a key of each segment (``population.segments.*``).
A key under a policy's table (``[policy]``), which holds only ``name`` and
``params``, is taken for a parameter that belongs in its ``params``.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator

from sim.strict import Strict

#: At most this many tables are named for one key [A].
MOST_HOMES = 3


def _models(annotation: object) -> Iterator[type[Strict]]:
    """The configuration models an annotation holds (itself, or inside an optional, a tuple, a list or a union)."""
    if isinstance(annotation, type) and issubclass(annotation, Strict):
        yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from _models(arg)


def _is_list(annotation: object) -> bool:
    """Whether a field holds a list of tables (an array of tables in TOML: its items' paths take ``*``)."""
    origin = typing.get_origin(annotation)
    if origin in (list, tuple):
        return True
    return any(_is_list(arg) for arg in typing.get_args(annotation) if typing.get_origin(arg) is not None)


def _homes(model: type[Strict]) -> dict[str, tuple[str, ...]]:
    """Every field name of ``model`` and the models it holds, with the dotted tables that have it (``*`` for an
    item of an array of tables; "" for the top); made once a model."""
    if model in _HOMES:
        return _HOMES[model]
    out: dict[str, list[str]] = {}

    def walk(m: type[Strict], at: str, seen: frozenset[type[Strict]]) -> None:
        for name, spec in m.model_fields.items():
            out.setdefault(name, [])
            if at not in out[name]:
                out[name].append(at)
            inner = ".".join(filter(None, [at, name])) + (".*" if _is_list(spec.annotation) else "")
            for sub in _models(spec.annotation):
                if sub not in seen:  # a model that holds itself (none yet) is walked once
                    walk(sub, inner, seen | {sub})

    walk(model, "", frozenset({model}))
    made = _HOMES[model] = {name: tuple(tables) for name, tables in out.items()}
    return made


_HOMES: dict[type[Strict], dict[str, tuple[str, ...]]] = {}


def _models_at(model: type[Strict], loc: tuple[object, ...]) -> list[type[Strict]]:
    """The models the table at ``loc`` (a problem's path to it) may be: every member of a union on the way that
    has the path's next key (a rollout shock's ``current``, not the first shock kind's); none off the models."""
    current = [model]
    for part in loc:
        if isinstance(part, int):
            continue  # an item of an array of tables: the same models
        specs = [m.model_fields[str(part)] for m in current if str(part) in m.model_fields]
        current = list(dict.fromkeys(sub for spec in specs for sub in _models(spec.annotation)))
    return current


def where_it_belongs(model: type[Strict], loc: tuple[object, ...], key: str) -> str:
    """`` (a key of population.segments.*)``: the tables of ``model`` other than the one at ``loc`` that have a
    field ``key``, or another kind of the table at ``loc`` (a shock of another kind); for a policy's table
    (``name`` and ``params``), that its parameters go under ``params``; "" when none."""
    here = ".".join(str(p) for p in loc)
    tables_here = _models_at(model, loc)
    if any({"name", "params"} <= set(t.model_fields) for t in tables_here):
        return f" (a policy's parameters go in its params table: {'.'.join(filter(None, [here, 'params', key]))})"
    starred = ".".join("*" if isinstance(p, int) else str(p) for p in loc)
    if any(key in t.model_fields for t in tables_here):  # a member of a union at loc that is not this one
        return f" (a key of another kind of {starred}, not of this one)"
    tables = [t for t in _homes(model).get(key, ()) if t != starred]
    if not tables:
        return ""
    named = [t or "the top of the file" for t in tables[:MOST_HOMES]]
    more = f" and {len(tables) - MOST_HOMES} more" if len(tables) > MOST_HOMES else ""
    return f" (a key of {', '.join(named)}{more}, not of {here or 'the top of the file'})"
