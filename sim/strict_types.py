"""How a strict model checks one value of a declared type: the rules of ``sim.strict``, one type at a time.

A check is built once per field, from its type and its :class:`FieldInfo` constraints, and called on each
value: it appends ``(location, message)`` problems (pydantic's wording, and the value given) to a list and
returns the value as stored, or :data:`INVALID`. Nested models are checked by their own ``_validate``.
"""

from __future__ import annotations

import copy
import math
import numbers
import re
import types
import typing
from collections.abc import Callable
from typing import Any, Literal

from sim.format import counted

#: A location: the keys and array indices leading to a value.
Loc = tuple[str | int, ...]
#: One problem: where, and what (pydantic's wording).
Problem = tuple[Loc, str]
#: Validates one value: the problems go to the list; the result is the value as stored, or INVALID.
Check = Callable[[Any, Loc, list[Problem]], Any]


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


#: What a check returns for a value that failed (its problems are in the list).
INVALID: Any = _Invalid()
#: The default of a field that has none (it is required).
MISSING: Any = object()


def Field(default: Any = MISSING, **settings: Any) -> Any:
    """A field's declaration, in ``Annotated[...]`` or as the default: ``Field(ge=0.0, le=1.0)``,
    ``Field(default_factory=dict)``; the settings are :class:`FieldInfo`'s."""
    return FieldInfo(default, **settings)


class FieldInfo:
    """A field's declaration: its default and constraints, in ``Annotated[...]`` or as the default.

    ``ge``, ``gt``, ``le``, ``lt`` bound a number; ``min_length`` and ``max_length`` a string's characters or a
    tuple's items; ``pattern`` is a regular expression a string must match (``re.search``); ``discriminator``
    names the key that picks a union's member. Read back from ``Model.model_fields``, ``annotation`` is the
    field's type (outer ``Annotated`` removed) and ``default`` its default, or ``required`` is true.
    """

    _CONSTRAINTS = ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern", "discriminator")

    def __init__(
        self,
        default: Any = MISSING,
        *,
        default_factory: Callable[[], Any] | None = None,
        ge: float | None = None,
        gt: float | None = None,
        le: float | None = None,
        lt: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        pattern: str | None = None,
        discriminator: str | None = None,
        description: str | None = None,
    ) -> None:
        self._default = default
        self.default_factory = default_factory
        self.ge, self.gt, self.le, self.lt = ge, gt, le, lt
        self.min_length, self.max_length = min_length, max_length
        self.pattern, self.discriminator = pattern, discriminator
        self.description = description
        self.name = ""
        self.annotation: Any = None

    @property
    def required(self) -> bool:
        return self._default is MISSING and self.default_factory is None

    @property
    def default(self) -> Any:
        """The default value (a fresh one, from ``default_factory``, where the field has one)."""
        if self.default_factory is not None:
            return self.default_factory()
        if self._default is MISSING:
            raise AttributeError(f"field {self.name!r} is required: it has no default")
        if isinstance(self._default, list | dict | set):  # each instance its own, as a default_factory gives
            return copy.deepcopy(self._default)
        return self._default

    def _merged(self, other: FieldInfo) -> FieldInfo:
        """This declaration with ``other``'s settings where it has them."""
        out = FieldInfo(self._default, default_factory=self.default_factory, description=self.description)
        for key in self._CONSTRAINTS:
            theirs = getattr(other, key)
            setattr(out, key, getattr(self, key) if theirs is None else theirs)
        if other._default is not MISSING or other.default_factory is not None:
            out._default, out.default_factory = other._default, other.default_factory
        out.description = other.description or self.description
        return out

    def __repr__(self) -> str:
        parts = [f"{k}={getattr(self, k)!r}" for k in self._CONSTRAINTS if getattr(self, k) is not None]
        return f"Field({self.name!r}{', ' if parts else ''}{', '.join(parts)})"


# ---- checks of one value, built once per field from its type ----------------------------------------------


def _number_text(x: float) -> str:
    """A bound as pydantic writes it: 0.0 as 0, 1e12 as 1000000000000."""
    return str(int(x)) if float(x).is_integer() else repr(x)


def _percent(bound: float, v: float, name: str, given: Any) -> str:
    """What a percentage written for a share (at most 1: 2 to 100, written whole below 5) or a factor is."""
    if bound == 1 and 2 <= v <= 100 and (v >= 5 or isinstance(given, int)):  # 3 for 3% was told the bound alone
        return " (a share is written 0.2 for 20%)"
    return " (a factor multiplies: 0.7 for 30% less, 1.3 for 30% more)" if name.endswith("factor") and v > bound else ""


def _bounded(check: Check, spec: FieldInfo) -> Check:
    """``check`` followed by the spec's bounds on a number."""
    bounds = [
        (b, op, text)
        for b, op, text in (
            (spec.ge, lambda v, b: v >= b, "greater than or equal to"),
            (spec.gt, lambda v, b: v > b, "greater than"),
            (spec.le, lambda v, b: v <= b, "less than or equal to"),
            (spec.lt, lambda v, b: v < b, "less than"),
        )
        if b is not None
    ]
    if not bounds:
        return check

    def bounded(value: Any, loc: Loc, problems: list[Problem]) -> Any:
        v = check(value, loc, problems)
        if v is INVALID:
            return v
        for bound, ok, text in bounds:
            if not ok(v, bound):  # the value given, as a type's problem quotes it
                hint = _percent(bound, v, spec.name or "", value)
                problems.append((loc, f"Input should be {text} {_number_text(bound)}{_not(v)}{hint}"))
                return INVALID
        return v

    return bounded


def _int(value: Any, loc: Loc, problems: list[Problem]) -> Any:
    if type(value) is int:
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):  # numpy's, from the Python API
        return int(value)
    problems.append((loc, f"Input should be a valid integer{_not(value)}"))
    return INVALID


def _float(value: Any, loc: Loc, problems: list[Problem]) -> Any:
    # A file holds Python floats and integers; through the Python API numpy's numbers come too.
    if type(value) is float or type(value) is int or (isinstance(value, numbers.Real) and not isinstance(value, bool)):
        try:
            v = float(value)
        except OverflowError:  # an integer beyond any float
            v = math.inf
        if math.isfinite(v):
            return v
        problems.append((loc, "Input should be a finite number"))
        return INVALID
    problems.append((loc, f"Input should be a valid number{_not(value)}"))  # not '1/3': a fraction is written 0.333
    return INVALID


def _exactly(kind: type, message: str, given: bool = False) -> Check:
    """The check that a value is of ``kind`` exactly, else ``message`` (``given``: and the value, where short)."""

    def check(value: Any, loc: Loc, problems: list[Problem]) -> Any:
        if type(value) is kind:
            return value
        problems.append((loc, f"{message}{_not(value) if given else ''}"))
        return INVALID

    return check


_SCALARS: dict[Any, Check] = {
    int: _int,
    float: _float,
    # TOML's words only: True, yes or 1 are a string or a number, and the message says which was given.
    bool: _exactly(bool, "Input should be true or false", given=True),
    str: _exactly(str, "Input should be a valid string"),
    type(None): _exactly(type(None), "Input should be None"),
}
#: How a union's message names each scalar member, in the order it lists them.
_SCALAR_WORDS = {bool: "boolean", int: "integer", float: "finite number", str: "string"}


def _string(spec: FieldInfo) -> Check:
    plain = _SCALARS[str]
    if spec.min_length is None and spec.max_length is None and spec.pattern is None:
        return plain
    pattern = None if spec.pattern is None else re.compile(_end_of_text(spec.pattern))

    def check(value: Any, loc: Loc, problems: list[Problem]) -> Any:
        v = plain(value, loc, problems)
        if v is INVALID:
            return v
        if spec.min_length is not None and len(v) < spec.min_length:
            problems.append((loc, f"String should have at least {counted(spec.min_length, 'character')}"))
            return INVALID
        if spec.max_length is not None and len(v) > spec.max_length:
            problems.append((loc, f"String should have at most {counted(spec.max_length, 'character')}"))
            return INVALID
        if pattern is not None and not pattern.search(v):
            words = _PATTERN_WORDS.get(str(spec.pattern))
            said = f"should be {words}{_not(v)}" if words else f"should match pattern '{spec.pattern}'"
            problems.append((loc, f"String {said}"))
            return INVALID
        return v

    return check


def _end_of_text(pattern: str) -> str:
    """``pattern`` with a final ``$`` as ``\\Z``: in pydantic's patterns ``$`` matches only at the end of the
    text, in Python's also before a final newline (``"small\\n"`` would pass ``^[a-z]+$``)."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + "\\Z"
    return pattern


def _either(words: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``: the choices as a message lists them."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _literal(options: tuple[Any, ...]) -> Check:
    expected = _either([repr(o) for o in options])

    def check(value: Any, loc: Loc, problems: list[Problem]) -> Any:
        for o in options:
            if type(value) is type(o) and value == o:
                return o
        meant = closest(value, [o for o in options if isinstance(o, str)]) if isinstance(value, str) else None
        problems.append((loc, f"Input should be {expected}{_not(value)}{f' (did you mean {meant!r}?)' * bool(meant)}"))
        return INVALID

    return check


def _not(value: Any) -> str:
    """``, not 'gird'``: the value given, where it is short enough to quote (a table or a list is not)."""
    if isinstance(value, bool):
        return f", not {str(value).lower()}"
    if isinstance(value, numbers.Real) and type(value) not in (int, float):  # numpy's (float64 is a float): plain
        value = int(value) if isinstance(value, numbers.Integral) else float(value)
    if isinstance(value, int | float) or (isinstance(value, str) and len(value) <= 40):
        return f", not {value!r}"
    return ""


#: The string patterns of covsim's files in words, for a message a reader of a TOML file can act on (a regular
#: expression is not one); a pattern not here is named as it is.
_PATTERN_WORDS = {
    r"^[A-Za-z0-9_\-]+$": "letters, digits, '_' and '-' only",
    r"^[A-Za-z0-9_\-.]*$": "letters, digits, '_', '-' and '.' only",
    r"^(scenario|policy)\.[A-Za-z0-9_.*]+$": "'scenario.' or 'policy.' and a dotted key path",
}


def not_a_table(value: Any) -> str:
    """What a value that should be a table (a model, a mapping) is said to be instead, in TOML's words."""
    return f"Input should be a table ({{ key = value, ... }}){_not_a(value)}"


def _not_a(value: Any) -> str:
    """``, not a list``, ``, not a table`` or ``, not 'x'``: what was given instead of the kind expected."""
    return ", not a table" if isinstance(value, dict) else ", not a list" if isinstance(value, list) else _not(value)


def _tuple(args: tuple[Any, ...], spec: FieldInfo) -> Check:
    # Whether its items are tables (strict models, or a union of them: the shocks), which [[name]] writes.
    item_types = [unwrap(a, FieldInfo())[0] for a in args if a is not Ellipsis]
    tables = all(
        hasattr(t, "_validate") or any(hasattr(u, "_validate") for u in typing.get_args(t)) for t in item_types
    )
    if len(args) == 2 and args[1] is Ellipsis:
        item = check_for(args[0], None)

        def items(value: list[Any] | tuple[Any, ...], loc: Loc, problems: list[Problem]) -> list[Any]:
            return [item(v, (*loc, i), problems) for i, v in enumerate(value)]

    else:
        fixed = [check_for(a, None) for a in args]

        def items(value: list[Any] | tuple[Any, ...], loc: Loc, problems: list[Problem]) -> list[Any]:
            if len(value) > len(fixed):
                most = counted(len(fixed), "item")
                problems.append((loc, f"Tuple should have at most {most} after validation, not {len(value)}"))
                return []
            out = [c(v, (*loc, i), problems) for i, (c, v) in enumerate(zip(fixed, value, strict=False))]
            problems += [((*loc, i), "Field required") for i in range(len(value), len(fixed))]
            return out

    def check(value: Any, loc: Loc, problems: list[Problem]) -> Any:
        if not isinstance(value, list | tuple):
            # A single [name] table where [[name]] tables were meant is the likely slip in a TOML file.
            hint = f" (a list of tables is written [[{loc[-1]}]], each)" if tables and isinstance(value, dict) else ""
            problems.append((loc, f"Input should be a list ([...]){_not_a(value)}{hint}"))
            return INVALID
        if spec.max_length is not None and len(value) > spec.max_length:  # too long: its items are not read
            most = counted(spec.max_length, "item")
            problems.append((loc, f"Tuple should have at most {most} after validation, not {len(value)}"))
            return INVALID
        found = len(problems)
        out = items(value, loc, problems)
        if len(problems) > found:
            return INVALID
        if spec.min_length is not None and len(out) < spec.min_length:
            problems.append(
                (
                    loc,
                    "at least one is needed"
                    if spec.min_length == 1
                    else f"at least {spec.min_length} are needed, not {len(out)}",
                )
            )
            return INVALID
        return tuple(out)

    return check


def _dict(args: tuple[Any, ...]) -> Check:
    key, item = check_for(args[0], None), check_for(args[1], None)

    def check(value: Any, loc: Loc, problems: list[Problem]) -> Any:
        if not isinstance(value, dict):
            problems.append((loc, not_a_table(value)))
            return INVALID
        found = len(problems)
        out = {key(k, (*loc, k), problems): item(v, (*loc, k), problems) for k, v in value.items()}
        return INVALID if len(problems) > found else out

    return check


def _union(members: tuple[Any, ...]) -> Check:
    checks = [(m, check_for(m, None)) for m in members]
    # A file cannot hold None, so the problem of a value that fits no member is told without it.
    described = [m for m in _SCALAR_WORDS if m in members] + [m for m in members if m not in _SCALAR_WORDS]
    described = [m for m in described if m is not type(None)]
    only = check_for(described[0], None) if len(described) == 1 else None
    expected = _either([_SCALAR_WORDS.get(m) or str(getattr(m, "__name__", m)) for m in described])
    message = f"must be {'an' if expected[0] in 'aeiou' else 'a'} {expected}"

    def check(value: Any, loc: Loc, problems: list[Problem]) -> Any:
        # The member of the value's own type first (as pydantic's smart mode: 1 stays an integer in
        # ``float | int``), then the others in order.
        for _, c in sorted(checks, key=lambda mc: type(value) is not mc[0]):
            attempt: list[Problem] = []
            v = c(value, loc, attempt)
            if not attempt:
                return v
        if only is not None:  # ``X | None``: the problem is X's
            return only(value, loc, problems)
        problems.append((loc, message))
        return INVALID

    return check


def _tagged(members: tuple[Any, ...], tag: str) -> Check:
    by_tag: dict[Any, Any] = {}
    for m in members:
        for value in typing.get_args(m.model_fields[tag].annotation):  # ``Literal["a", "b"]``: both name m
            by_tag[value] = m
    expected = _either([repr(t) for t in by_tag])

    def check(value: Any, loc: Loc, problems: list[Problem]) -> Any:
        if isinstance(value, tuple(by_tag.values())):
            return value
        if not isinstance(value, dict):
            problems.append((loc, not_a_table(value)))
            return INVALID
        # The tag is a key like any other: missing, or none of its values, it is named (pydantic named only
        # the table: "Unable to extract tag using discriminator 'kind'").
        if tag not in value:
            problems.append(((*loc, tag), "Field required"))
            return INVALID
        key = value[tag]
        model = by_tag.get(key) if isinstance(key, str) else None
        if model is None:
            meant = closest(key, [str(k) for k in by_tag])
            problems.append(
                ((*loc, tag), f"Input should be {expected}" + (f" (did you mean {meant!r}?)" if meant else ""))
            )
            return INVALID
        return model._validate(value, loc, problems)

    return check


def closest(key: Any, known: list[str], cutoff: float = 0.75) -> str | None:
    """The name of ``known`` a mistyped ``key`` most resembles (difflib, at a similarity of at least ``cutoff``),
    or None: the "did you mean" of a misspelt key or tag."""
    import difflib  # only for a file with a mistake

    close = difflib.get_close_matches(str(key), known, n=1, cutoff=cutoff)
    return close[0] if close else None


def unwrap(tp: Any, spec: FieldInfo) -> tuple[Any, FieldInfo]:
    """``tp`` without an outer ``Annotated``, and ``spec`` with the declarations it carried."""
    if typing.get_origin(tp) is not typing.Annotated:
        return tp, spec
    inner, *meta = typing.get_args(tp)
    for m in meta:
        if isinstance(m, FieldInfo):
            spec = spec._merged(m)
    return inner, spec


def check_for(tp: Any, spec: FieldInfo | None) -> Check:
    """The check of a value of type ``tp`` (``spec``: the field's constraints)."""
    tp, spec = unwrap(tp, spec or FieldInfo())
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if spec.discriminator is not None:
            return _tagged(args, spec.discriminator)
        return _union(args)
    if origin is Literal:
        return _literal(args)
    if origin is tuple:
        return _tuple(args, spec)
    if origin is dict:
        return _dict(args)
    if tp is str:
        return _string(spec)
    if tp in _SCALARS:
        return _bounded(_SCALARS[tp], spec)
    if isinstance(tp, type) and hasattr(tp, "_validate"):  # a strict model (sim.strict imports this module)
        return tp._validate
    raise TypeError(f"a strict model cannot hold {tp!r}")
