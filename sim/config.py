"""Strict configuration: TOML read safely and validated once, at the edge, into frozen objects.

Every file covsim reads (scenarios, experiments, calibration output) goes
through here. Validation is strict (``"500"`` is not an integer, unknown keys
are errors) and runs in pydantic's JSON mode, so TOML arrays become tuples and
TOML integers are accepted where a float is expected, but nothing else is
coerced. A bad file raises :class:`~sim.errors.InputError` with one line per
problem: ``source: key.path: message``.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.errors import InputError

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(gt=0.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Quarter = Annotated[int, Field(ge=1)]
Name = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_\-]+$")]

_SCALAR_TYPES = ("bool", "int", "float", "str")


class Strict(BaseModel):
    """Base of every configuration object: strict, frozen, unknown keys rejected."""

    # inf and nan are valid TOML floats but never a valid input here.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)


def _key_path(loc: tuple[Any, ...], data: Any) -> str:
    """The TOML key path of an error location, without pydantic's union-member tags.

    A tagged union (``kind = "demand"``) adds its tag to the location; it is
    found by walking the input: a tag stands where the mapping reached has that
    ``kind``.
    """
    parts: list[str] = []
    node = data
    for p in loc:
        if isinstance(node, dict) and isinstance(p, str) and node.get("kind") == p and parts:
            continue  # the union member's tag, not a key of the file
        parts.append(str(p))
        if isinstance(node, dict):
            node = node.get(p)
        elif isinstance(node, list | tuple) and isinstance(p, int) and 0 <= p < len(node):
            node = node[p]
        else:
            node = None
    return ".".join(parts)


def format_validation_error(source: str, error: ValidationError, data: Any = None) -> list[str]:
    """One line per problem: ``source: key.path: message`` (``data``: the input, to name union keys)."""
    lines: list[str] = []
    for e in error.errors():
        loc = tuple(e["loc"])
        if len(loc) >= 3 and loc[0] == "policy" and loc[1] == "params" and loc[-1] in _SCALAR_TYPES:
            line = f"{source}: {_key_path(loc[:-1], data)}: must be a boolean, integer, number or string"
            if line not in lines:
                lines.append(line)
            continue
        path = _key_path(loc, data)
        message = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            message = "unknown key"
        for part in message.split("; "):
            # A cross-field check names its own key path ("reps.0.region: ...").
            if ":" in part and " " not in part.split(":", 1)[0]:
                sub, msg = part.split(":", 1)
                lines.append(f"{source}: {'.'.join(filter(None, [path, sub]))}:{msg}")
            else:
                lines.append(f"{source}: {path or '(top)'}: {part}")
    return lines


M = TypeVar("M", bound=BaseModel)


def validate_strict(model: type[M], data: dict[str, Any], source: str) -> M:
    """Validate a mapping (as read from TOML) into ``model``, strictly, or raise InputError."""
    try:
        return model.model_validate_json(json.dumps(data), strict=True)
    except ValidationError as e:
        raise InputError(format_validation_error(source, e, data)) from None


def read_toml(path: Path | str) -> dict[str, Any]:
    """Read a TOML file, or raise InputError naming the file, line and column."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError([f"{path}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError([f"{path}: cannot read: {e}"]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError([f"{path}: TOML syntax error: {e}"]) from None
