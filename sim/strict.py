"""Strict models: frozen, typed configuration objects validated from data read as JSON or TOML.

The configuration objects of covsim (scenarios, experiments, stress suites,
policy parameters) are classes of :class:`Strict`, declared as annotated
fields in the way of pydantic and dataclasses::

    class Region(Strict):
        name: Name
        radius_km: Annotated[float, Field(ge=0.0, le=20_000.0)] = 80.0

and validated with ``Region.model_validate(data)`` (or ``Region(**data)``),
which checks every field and raises :class:`ValidationError` listing each
problem with its location. covsim used pydantic for this; this module keeps
the names covsim used (``Field``, ``model_validator``, ``model_dump``,
``model_fields``, and pydantic's error messages) for the part of it covsim
needs, because pydantic's import alone (0.1 s) is more than a command's whole
start-up may add to the libraries it runs on.

The rules are those of pydantic's strict JSON mode, which covsim used:

- ``int``: an integer, not a boolean and not ``2.0``; ``float``: an integer or
  a float, finite, and stored as a float; ``str`` and ``bool`` only
  themselves; a ``Literal`` one of its values.
- ``tuple[X, ...]`` and ``tuple[X, Y]`` from a list (or tuple); ``dict[str,
  X]`` from a table; a nested model from a table, or an instance of it.
- A union takes the member whose type the value has, else the first that
  validates; a union of models marked ``Field(discriminator="kind")`` the
  member named by the value's ``kind``.
- Unknown keys are errors, missing keys without a default are errors; every
  problem of a file is reported, not only the first.
- ``model_validator(mode="before")`` functions see the raw table first,
  ``mode="after"`` ones the validated object (only when its fields are all
  valid); a ``ValueError`` they raise is a problem at the model's location
  (:class:`Problems`, several). ``mode="table"`` ones see the raw table
  once its fields are checked, valid or not, and return the messages of the
  problems across fields they find there: a table's problems come in one
  report, not in stages (a share sum after a field's typo is mended).
  ``mode="fields"`` ones are given the fields' checked values at the same
  point (``INVALID`` where a field has a problem of its own, the default
  where one is left out), and the raw table, and return their messages
  likewise: checks across nested tables (a name one table gives that another
  must hold) that need the values as checked. ``field_value`` reads one field
  of a nested table that has problems elsewhere.

Instances are frozen (setting a field raises), compare and hash by their
field values, and print as ``Name(field=value, ...)``. A class's fields are
read from its annotations on first use, not at import.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import typing
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Literal, TypeVar

from sim.strict_types import (
    INVALID,
    MISSING,
    Check,
    Field,
    FieldInfo,
    Loc,
    Problem,
    check_for,
    closest,
    not_a_table,
    unwrap,
)

__all__ = ["Field", "FieldInfo", "Problems", "Strict", "ValidationError", "model_validator"]


class Problems(ValueError):
    """Several problems a model check found at once, each a message of its own (``"reps.0.region: unknown
    region 'x'"``): raised as one, reported as many, whatever the messages quote."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("\n".join(messages))


class ValidationError(ValueError):
    """Data that does not validate: ``problems`` holds ``(location, message)`` pairs, in the order found."""

    def __init__(self, title: str, problems: list[Problem]) -> None:
        self.title = title
        self.problems = problems
        lines = [f"{'.'.join(str(p) for p in loc) or '(top)'}: {msg}" for loc, msg in problems]
        super().__init__(f"{len(problems)} problem(s) validating {title}:\n" + "\n".join(lines))

    def errors(self) -> list[dict[str, Any]]:
        """The problems as ``{"loc": ..., "msg": ...}`` mappings (pydantic's shape)."""
        return [{"loc": loc, "msg": msg} for loc, msg in self.problems]


def model_validator(*, mode: Literal["before", "after", "table", "fields"]) -> Callable[[Any], Any]:
    """Mark a method as a model check: ``before`` (a classmethod given the raw data, returning it) or
    ``after`` (given the validated object, returning it), either raising ValueError for a problem; or
    ``table`` (a classmethod given the raw data once its fields are checked, valid or not, returning the
    messages of the problems across fields it finds there), or ``fields`` (the same, given each field's checked
    value, INVALID where the field has a problem of its own, and the raw data)."""

    if mode not in ("before", "after", "table", "fields"):
        raise ValueError(f"a model check runs 'before', 'after', 'table' or 'fields', not {mode!r}")

    def mark(fn: Any) -> Any:
        if mode != "after" and not isinstance(fn, classmethod):
            raise TypeError(f"{fn.__qualname__}: a {mode!r} check is a classmethod (it sees the data, not an object)")
        target: Any = fn.__func__ if isinstance(fn, classmethod) else fn
        target.__strict_check__ = mode
        return fn

    return mark


class _Schema:
    """A model class's fields and checks, read from its annotations on first use."""

    def __init__(self, cls: type[Strict]) -> None:
        names: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            names.update(vars(klass).get("_Strict__names_where_defined", {}))
        hints = typing.get_type_hints(cls, localns=names or None, include_extras=True)
        self.fields: dict[str, FieldInfo] = {}
        self.checks: dict[str, Check] = {}
        for name, hint in hints.items():
            if name.startswith("_") or typing.get_origin(hint) is ClassVar:
                continue
            if hasattr(Strict, name):
                raise TypeError(f"{cls.__name__}.{name}: a field cannot take the name of a method of Strict")
            inner, spec = unwrap(hint, FieldInfo())
            # The default of the class that declares the field last: a subclass that declares it again
            # without one makes it required.
            default = next(
                vars(k).get(name, MISSING) for k in cls.__mro__ if name in vars(k).get("__annotations__", {})
            )
            if isinstance(default, FieldInfo):
                spec = spec._merged(default)
            elif default is not MISSING:
                spec._default = default
            spec.name, spec.annotation = name, inner
            self.fields[name] = spec
            self.checks[name] = check_for(inner, spec)
        self.before = _checks_of(cls, "before")
        self.after = _checks_of(cls, "after")
        self.table = _checks_of(cls, "table")
        self.across = _checks_of(cls, "fields")


def _checks_of(cls: type, mode: str) -> list[Callable[..., Any]]:
    found: list[Callable[..., Any]] = []
    seen: set[str] = set()
    for klass in reversed(cls.__mro__):
        for key, value in vars(klass).items():
            fn = value.__func__ if isinstance(value, classmethod) else value
            if getattr(fn, "__strict_check__", None) == mode and key not in seen:
                seen.add(key)
                found.append(getattr(cls, key))
    return found


M = TypeVar("M", bound="Strict")


class _FieldsOf:
    """``Model.model_fields``: the fields by name, in declaration order."""

    def __get__(self, obj: Any, cls: type[Strict]) -> dict[str, FieldInfo]:
        return cls._schema().fields


class Strict:
    """Base of every configuration object: strict, frozen, unknown keys rejected."""

    model_fields: ClassVar[dict[str, FieldInfo]] = _FieldsOf()  # type: ignore[assignment]
    __strict_schema: ClassVar[_Schema | None] = None
    __names_where_defined: ClassVar[dict[str, Any]] = {}  # a model's defined in a function: that function's names

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Annotations are read on first use. A model defined inside a function may name that function's
        # other classes, gone by then (a NameError): keep the function's names, as pydantic does.
        frame = sys._getframe(1)
        while frame.f_code.co_name == "__init_subclass__" and frame.f_back is not None:
            frame = frame.f_back
        if frame.f_locals is not frame.f_globals:
            cls.__names_where_defined = dict(frame.f_locals)

    def __init__(self, **data: Any) -> None:
        made = type(self).model_validate(data)
        object.__setattr__(self, "__dict__", made.__dict__)

    @classmethod
    def _schema(cls) -> _Schema:
        schema = cls.__dict__.get("_Strict__strict_schema")
        if schema is None:
            schema = _Schema(cls)
            cls.__strict_schema = schema
        return schema

    @classmethod
    def _validate(cls, data: Any, loc: Loc, problems: list[Problem]) -> Any:
        """The check of a value of this model (``sim.strict_types``): an instance, or INVALID."""
        return _validate_model(cls, data, loc, problems)

    @classmethod
    def model_validate(cls: type[M], data: Any) -> M:
        """An instance from a mapping (or an instance), or ValidationError listing every problem."""
        problems: list[Problem] = []
        out = _validate_model(cls, data, (), problems)
        if problems:
            raise ValidationError(cls.__name__, problems)
        return out

    @classmethod
    def field_value(cls, data: Any, name: str) -> Any:
        """Field ``name`` of the table ``data`` as its own rule checks it (its default where left out), whatever
        the table's other fields hold; INVALID where it has a problem of its own, or where ``data`` is no table
        or the class changes its tables before their fields are checked (a ``before`` check)."""
        schema = cls._schema()
        if not isinstance(data, dict) or schema.before:
            return INVALID
        if name not in data:
            spec = schema.fields[name]
            return INVALID if spec.required else spec.default
        return schema.checks[name](data[name], (name,), [])

    @classmethod
    def items_value(cls, data: Any, name: str) -> Any:
        """Each item of the list field ``name`` of the table ``data`` as the field's rule checks it alone: a list,
        INVALID for an item with a problem of its own (the others' checks across tables still run beside it: a
        share out of range in one shock had hidden another's quarter past the horizon); INVALID as
        :meth:`field_value` is, or where the field is no list."""
        schema = cls._schema()
        if not isinstance(data, dict) or schema.before or not isinstance(data.get(name, []), list | tuple):
            return INVALID
        if name not in data:  # a required list left out is its own "Field required", not an empty list
            return INVALID if schema.fields[name].required else list(schema.fields[name].default)
        check = schema.checks[name]
        alone = (check([item], (name,), []) for item in data.get(name, []))
        return [INVALID if one is INVALID else one[0] for one in alone]

    @classmethod
    def default_problems(cls) -> list[Problem]:
        """What is wrong with the class's own defaults, which validation fills in unchecked: each default by its
        field's rule, a default model instance by its own class's fields and after-checks (before-checks are
        about what a caller typed, which a default is not); then, when every field has a default, what
        building the class with none given (``cls()``) finds."""
        problems = list[Problem]()
        schema = cls._schema()
        for name, spec in schema.fields.items():
            if not spec.required:
                _default_problems(schema, name, spec.default, (name,), problems)
        if not problems and not any(spec.required for spec in schema.fields.values()):
            _validate_model(cls, {}, (), problems)
        return problems

    @classmethod
    def model_validate_json(cls: type[M], raw: str | bytes) -> M:
        """An instance from JSON text."""
        return cls.model_validate(json.loads(raw))

    def model_dump(self, *, mode: Literal["python", "json"] = "python") -> dict[str, Any]:
        """The fields as a mapping, nested models as mappings; in ``json`` mode tuples become lists."""
        return {name: _dump(getattr(self, name), mode) for name in type(self).model_fields}

    def model_dump_json(self) -> str:
        """The JSON mode dump as compact JSON text."""
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"), allow_nan=False, ensure_ascii=False)

    def model_copy(self: M, *, update: dict[str, Any] | None = None) -> M:
        """A copy with ``update``'s fields replaced, not validated again."""
        out = object.__new__(type(self))
        object.__setattr__(out, "__dict__", {**self.__dict__, **(update or {})})
        return out

    def _values(self) -> tuple[Any, ...]:
        return tuple(self.__dict__[name] for name in type(self).model_fields)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: {name} cannot be set")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: {name} cannot be deleted")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        """The fields as ``(name, value)`` pairs: ``dict(model)`` is a shallow dump."""
        return iter(self.__dict__.items())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"


def _default_problems(schema: _Schema, name: str, value: Any, loc: Loc, problems: list[Problem]) -> None:
    """The problems of ``value``, the default of field ``name``: a model instance by its own class (its fields'
    values, then its after-checks), anything else by the field's rule, models inside it as data."""
    if not isinstance(value, Strict):
        schema.checks[name](_dump(value, "python"), loc, problems)
        return
    inner = type(value)._schema()
    found = len(problems)
    for field in inner.fields:
        _default_problems(inner, field, getattr(value, field), (*loc, field), problems)
    if len(problems) == found:
        _model_checks(inner.after, value, loc, problems)


def _dump(value: Any, mode: str) -> Any:
    if isinstance(value, Strict):
        return value.model_dump(mode=mode)  # type: ignore[arg-type]
    if isinstance(value, tuple | list):
        items = [_dump(v, mode) for v in value]
        return tuple(items) if mode == "python" and isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {k: _dump(v, mode) for k, v in value.items()}
    return value


def _validate_model(cls: type[Strict], data: Any, loc: Loc, problems: list[Problem]) -> Any:
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        problems.append((loc, not_a_table(data)))
        return INVALID
    schema = cls._schema()
    data = _model_checks(schema.before, data, loc, problems)
    if data is INVALID:
        return INVALID
    found = len(problems)
    # A misspelt key is one mistake, one line: its "did you mean" stands for the field it leaves missing.
    meant = {key: _closest(key, schema.fields, data) for key in data if key not in schema.fields}
    values: dict[str, Any] = {}
    for name, spec in schema.fields.items():
        if name in data:
            values[name] = schema.checks[name](data[name], (*loc, name), problems)
        elif spec.required and name not in meant.values():
            problems.append(((*loc, name), "Field required"))
        elif not spec.required:
            values[name] = spec.default
    for key, close in meant.items():  # [populaton] beside [[population.segments]]: the table written too
        twin = None if close else _twin(key, schema.fields, data)
        also = f" (did you mean {twin!r}, which the file writes too? move its keys there)" if twin else ""
        problems.append(((*loc, key), "unknown key" + (f" (did you mean {close!r}?)" if close else also)))
    problems += [(loc, message) for check in schema.table for message in check(data)]
    if schema.across:
        checked = {name: values.get(name, INVALID) for name in schema.fields}
        problems += [(loc, message) for check in schema.across for message in check(checked, data)]
    if len(problems) > found:
        return INVALID
    out = object.__new__(cls)
    object.__setattr__(out, "__dict__", values)
    return _model_checks(schema.after, out, loc, problems)


_UNKNOWN = re.compile(r"unknown key(?: \(did you mean '(?P<meant>[^']+)'\?\))?$")


def without_bad_keys(model: type[Strict], data: Any) -> tuple[Any, list[str]] | None:
    """``data`` with every key ``model`` does not know renamed to the field its error suggests ("did you
    mean") or dropped, and every key whose value is wrong dropped, its field's default standing in (a renamed
    key's too: its problem is the misspelling), so that checks past those mistakes can be made on the rest;
    and the dotted paths of the keys renamed or dropped for a wrong value (whose own problems are said
    already). None when ``data`` has a problem no such mending passes too (a wrong item of a list, a required
    field's wrong value, a whole model's check), or none at all."""
    try:
        model.model_validate(data)
    except ValidationError as e:
        problems = e.problems
    else:
        return None
    fixed, said, handled = copy.deepcopy(data), [], set()
    for attempt in range(2):  # the file's mistakes, then a renamed key's wrong value
        for loc, message in problems:
            if attempt and loc not in handled:
                continue  # a problem of the rest, which the caller's later checks say
            if not loc or isinstance(loc[-1], int):
                return None
            *path, key = loc
            table = fixed
            try:
                for part in path:
                    table = table[part]
            except (KeyError, IndexError, TypeError):
                return None
            if not isinstance(table, dict) or key not in table:  # a required field missing: nothing stands in
                if loc in handled and not attempt:
                    continue  # two problems of one value
                return None
            value = table.pop(key)
            handled.add(loc)
            match = _UNKNOWN.match(message)
            if attempt:
                continue  # a renamed key's value: dropped, its path said already
            if match is None:
                said.append(_dotted(loc))
            elif match["meant"]:
                table[match["meant"]] = value
                handled.add((*path, match["meant"]))
                said.append(_dotted((*path, match["meant"])))
        try:
            model.model_validate(fixed)
        except ValidationError as e:
            problems = e.problems
        else:
            break
    return fixed, said


def _dotted(loc: Loc) -> str:
    return ".".join(str(p) for p in loc)


def _closest(key: Any, fields: dict[str, FieldInfo], data: dict[str, Any]) -> str | None:
    """The field not given that an unknown key most resembles, or None."""
    return closest(key, [name for name in fields if name not in data])


def _twin(key: Any, fields: dict[str, FieldInfo], data: dict[str, Any]) -> str | None:
    """The table field given that an unknown table ``key`` most resembles (a VP's [populaton] had no hint)."""
    tables = [name for name in fields if name in data and isinstance(data[name], dict)]
    return closest(key, tables) if isinstance(data.get(key), dict) else None


def _model_checks(checks: list[Callable[..., Any]], value: Any, loc: Loc, problems: list[Problem]) -> Any:
    """``value`` through a model's checks in turn, or INVALID at the first that raises ValueError. An
    ``after`` check that returns nothing (a forgotten ``return self``) keeps the object."""
    for check in checks:
        try:
            result = check(value)
        except Problems as e:
            problems += [(loc, message) for message in e.messages]
            return INVALID
        except ValueError as e:
            problems.append((loc, str(e)))
            return INVALID
        if result is not None or not isinstance(value, Strict):
            value = result
    return value
