"""A factor's scenario target: whether it names values of a scenario, and what it may have meant if not."""

from __future__ import annotations

import difflib
from typing import Any

from sim.config import locate, value_paths
from sim.policies.hints import did_you_mean


def missed_target(data: dict[str, Any], target: str) -> str:
    """``'scenario.x' matches no value of the resolved scenario (did you mean ...?)``: what is said of a factor's
    scenario ``target`` that names no value of the scenario ``data`` (its JSON dump): the array it indexes past
    the end, or the paths it is spelt most like."""
    return f"{target!r} matches no value of the resolved scenario" + path_hint(data, target.removeprefix("scenario."))


def path_hint(data: dict[str, Any], path: str, prefix: str = "scenario.") -> str:
    """What a dotted ``path`` that names no value of the scenario ``data`` may have meant, each path written with
    ``prefix``: an array's entry named by its name or role (or a misspelling of it) where its number goes, the
    array it indexes past the end, or the paths it is spelt most like; "" if none is close (a notebook's
    ``with_overrides`` of "population.customer" had been given no hint)."""
    named = _by_name(data, path)
    if named is not None:
        meant, entry = named
        if locate(data, meant):
            return f" (an entry is named by its number: {prefix}{meant} for {entry!r})"
        path = meant  # the rest of it misspelt too: the hint is of the path with the entry's number
    candidates = [p for p in value_paths(data) if _same_indices(p, path)]
    wild = [w for p in candidates if (w := _wild_as_typed(p, path)) is not None]
    paths = [f"{prefix}{p}" for p in dict.fromkeys([*wild, *candidates])]
    return _past_the_end(data, path, prefix) or did_you_mean(f"{prefix}{path}", paths)


def _wild_as_typed(candidate: str, typed: str) -> str | None:
    """``candidate`` with a ``*`` wherever ``typed`` has one before its last part, where the two have as many
    parts (else None): a researcher's misspelt ``segments.*.*.rate_per_yaer`` (every kind of demand) had been
    offered ``segments.*.new_logo.rate_per_year`` alone, which ``validate`` accepts and which varies new-logo
    demand alone, unsaid. Offered beside the candidates as they are, it wins only where it is the closer."""
    parts, typed_parts = candidate.split("."), typed.split(".")
    if len(parts) != len(typed_parts) or "*" not in typed_parts[:-1]:
        return None
    return ".".join("*" if t == "*" else p for p, t in zip(parts[:-1], typed_parts[:-1], strict=True)) + f".{parts[-1]}"


def _by_name(data: Any, path: str) -> tuple[str, str] | None:
    """``path`` with the array entry it names by its ``name`` or ``role`` (or one spelt most like it) given by its
    number, and that entry's name; None where it names none so: a researcher's "population.segments.enterprise..."
    had been offered another segment's number, spelt most like it, and a review's "reps.inside..." the SDRs'."""
    parts = path.split(".")
    for k, part in enumerate(parts):
        if isinstance(data, list) and not part.isdigit() and part != "*":
            names = [str(x.get("name", x.get("role", ""))) if isinstance(x, dict) else "" for x in data]
            close = part if part in names else next(iter(difflib.get_close_matches(part, names, 1, 0.75)), None)
            if close is None:
                return None
            return ".".join([*parts[:k], str(names.index(close)), *parts[k + 1 :]]), close
        data = _child(data, part)
        if data is _NONE:
            return None
    return None


def _same_indices(candidate: str, typed: str) -> bool:
    """Whether ``candidate`` (a path of :func:`sim.config.value_paths`) keeps the array indices ``typed`` gives:
    a suggestion for ``reps.9.count`` (no group 9) is ``reps.*.count``, not another group's ``reps.2.count``; nor
    is a number put where a word was typed (a review's "segments.nothing" had been offered segment 2)."""
    a, b = candidate.split("."), typed.split(".")
    return all(not x.isdigit() or x == y for x, y in zip(a, b, strict=False))


def _past_the_end(data: Any, path: str, prefix: str = "scenario.") -> str:
    """`` (scenario.population.segments has 3 entries, 0..2; scenario.population.segments.* sets every one)`` where
    ``path`` indexes an array past its
    end, else "": a researcher's segments.5 was offered segments.*, which would vary every segment."""
    at: list[str] = []
    for part in path.split("."):
        if isinstance(data, list) and part.isdigit() and int(part) >= len(data):
            where, n = ".".join(at), len(data)
            size = f"{n} entries, 0..{n - 1}" if n else "no entries"
            return f" ({prefix}{where} has {size}; {prefix}{where}.* sets every one)"
        data = _child(data, part)
        if data is _NONE:
            return ""
        at.append(part)
    return ""


#: What :func:`_child` gives where a path's part names nothing.
_NONE = object()


def _child(data: Any, part: str) -> Any:
    """The entry of an array (``part`` a number in range) or the value of a table ``part`` names, else ``_NONE``."""
    if isinstance(data, list) and part.isdigit() and int(part) < len(data):
        return data[int(part)]
    if isinstance(data, dict) and part in data:
        return data[part]
    return _NONE
