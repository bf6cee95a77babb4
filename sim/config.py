"""Strict configuration: TOML read safely and validated once, at the edge, into frozen objects.

Every file covsim reads (scenarios, experiments, calibration output) goes
through here, into the strict models of :mod:`sim.strict`. Validation is
strict (``"500"`` is not an integer, unknown keys are errors) and follows
JSON's types, so TOML arrays become tuples and TOML integers are accepted
where a float is expected, but nothing else is coerced. A bad file raises
:class:`~sim.errors.InputError` with one line per problem:
``source: key.path: message``.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Annotated, Any, TypeVar

from sim.errors import InputError
from sim.key_homes import where_it_belongs
from sim.strict import Field, Problems, Strict, ValidationError

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(gt=0.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Quarter = Annotated[int, Field(ge=1)]
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")]


#: A policy parameter's value, as a TOML scalar.
PolicyParam = bool | int | float | str


class PolicyConfig(Strict):
    """A coverage policy by built-in name or ``package.module:ClassName``, with its parameters (validated by the
    policy itself, before any run): a scenario's ``[policy]``, and the model a rollout shock starts from."""

    name: str = "unstructured"
    params: dict[str, PolicyParam] = Field(default_factory=dict)


def format_validation_error(
    source: str, error: ValidationError, data: Any = None, model: type[Strict] | None = None
) -> list[str]:
    """One line per problem: ``source: key.path: message``.

    A model's own check names a problem's key path under the model at the
    head of its message (``"reps.0.region: unknown region 'x'"``).
    Where the path runs through a block of an array of tables that has a
    name in ``data`` (as read from TOML), the line ends with it
    (``population.segments.1.renewal: Field required (in the block named
    "mid")``), since a reader finds a block by its name, not its position.
    An unknown key with no close name says where ``model`` has a key of that
    name (``sim.key_homes``).
    """
    lines: list[str] = []
    for loc, message in error.problems:
        if message == "unknown key" and model is not None and loc:
            message += where_it_belongs(model, tuple(loc[:-1]), str(loc[-1]))
        path = ".".join(_key_text(p) for p in loc)
        head, _, rest = message.partition(":")
        if rest and " " not in head:
            where = ".".join(filter(None, [path, head]))
            lines.append(f"{source}: {where}:{rest}{_block_name(data, where)}")
        else:
            lines.append(f"{source}: {path or '(top)'}: {message}{_block_name(data, path)}")
    return lines


#: The longest key a problem's line quotes whole; a longer one is cut to its first LONG_KEY_SHOWN characters [A].
LONG_KEY = 60
LONG_KEY_SHOWN = 40


def _key_text(part: object) -> str:
    """A key of a problem's path as its line shows it: one longer than LONG_KEY (a pasted paragraph, 50,000
    characters once) cut, with its length."""
    text = str(part)
    return text if len(text) <= LONG_KEY else f"{text[:LONG_KEY_SHOWN]}... ({len(text):,} characters)"


def _block_name(data: Any, path: str) -> str:
    """`` (in the block named "x")`` for the innermost named table of an array on ``path`` in ``data``, ``(in the
    block of "farmer" seats)`` for a rep group's (which has a role, no name: a VP read ``reps.1`` as the first),
    or ""."""
    node, said = data, ""
    for part in path.split(".") if path else []:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            if isinstance(node, dict) and isinstance(node.get("name"), str):
                said = f' (in the block named "{node["name"]}")'
            elif isinstance(node, dict) and isinstance(node.get("role"), str) and path.startswith("reps."):
                said = (
                    ""
                    if path.endswith(".role")
                    else f' (in the {_nth(data, int(part))}block of "{node["role"]}" seats)'
                )
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            break
    return said


#: The ordinal words of a rep group among the groups of its role; a later one by its number.
ORDINALS = ("first", "second", "third", "fourth", "fifth")


def _nth(data: Any, index: int) -> str:
    """``"second "`` for the second of two or more rep groups with one role (each group's block was named by role
    alone, two "field" blocks alike), else ""."""
    groups = data.get("reps") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        return ""
    role = groups[index].get("role")
    same = [i for i, g in enumerate(groups) if isinstance(g, dict) and g.get("role") == role]
    if len(same) < 2:
        return ""
    k = same.index(index)
    return f"{ORDINALS[k] if k < len(ORDINALS) else f'{k + 1}th'} "


def locate(data: Any, path: str) -> list[tuple[Any, Any]]:
    """The ``(container, key)`` of every value a dotted ``path`` names in data as read from TOML.

    Each part of the path is a key of a table or, as a number, an index into
    an array (``reps.0.count``); ``*`` is every key or index. Under a ``*``,
    branches that lack the rest of the path are passed over. A path that names
    nothing gives an empty list, for the caller to report.
    """
    return _locate(data, path.split("."))


def value_paths(data: Any) -> list[str]:
    """Every dotted path to a value (not a table or an array) in data as read from TOML, an array's items by
    index and by ``*``: what :func:`locate` can name, for suggesting the path a mistyped one meant."""
    out: set[str] = set()

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, f"{prefix}{key}.")
        elif isinstance(node, list) and any(isinstance(x, dict | list) for x in node):
            for i, child in enumerate(node):
                walk(child, f"{prefix}{i}.")
                walk(child, f"{prefix}*.")
        elif prefix:
            out.add(prefix[:-1])

    walk(data, "")
    return sorted(out)


def _locate(node: Any, parts: list[str]) -> list[tuple[Any, Any]]:
    head, rest = parts[0], parts[1:]
    keys: list[Any]
    if isinstance(node, list):
        keys = (
            list(range(len(node))) if head == "*" else [int(head)] if head.isdigit() and int(head) < len(node) else []
        )
    elif isinstance(node, dict):
        keys = list(node) if head == "*" else [head] if head in node else []
    else:
        return []
    if not rest:
        return [(node, k) for k in keys]
    return [place for k in keys for place in _locate(node[k], rest)]


M = TypeVar("M", bound=Strict)


def refuse_removed(data: Any, reasons: dict[str, str]) -> Any:
    """Refuse keys of an earlier file format, each with the reason it went (for a "before" model validator)."""
    if isinstance(data, dict):
        gone = [f"{key}: {why}" for key, why in reasons.items() if key in data]
        if gone:
            raise Problems(gone)
    return data


#: Each kind of covsim file, and the command it is given to, for a file given to the wrong one.
_FILE_KINDS = {
    "scenario": ("a scenario file", "run it with covsim run, compare or stress, or name it in an experiment file"),
    "experiment": ("an experiment file", "run it with covsim experiment"),
    "suite": ("a stress suite", "give it to covsim stress SCENARIO --suite"),
}


def file_kind(data: dict[str, Any]) -> str | None:
    """The one kind of covsim file (``scenario``, ``experiment``, ``suite``) whose marks ``data`` bears; None with
    none, or with those of two kinds (one of them with a mistake, which its own schema says)."""
    marks = {
        "scenario": "population" in data or "reps" in data,
        "experiment": "policies" in data or isinstance(data.get("scenario"), str),
        "suite": isinstance(data.get("stress"), list | dict),
    }
    found = [k for k, marked in marks.items() if marked]
    return found[0] if len(found) == 1 else None


def require_kind(data: dict[str, Any], kind: str, source: str) -> None:
    """InputError in one line when ``data`` is plainly a file of another kind than ``kind`` (``scenario``,
    ``experiment``, ``suite``), which its schema would refuse key by key, none of them the mistake."""
    found = file_kind(data)
    if found is not None and found != kind:
        raise InputError([f"{source}: {_FILE_KINDS[found][0]}, not {_FILE_KINDS[kind][0]}: {_FILE_KINDS[found][1]}"])


def validate_strict(model: type[M], data: dict[str, Any], source: str) -> M:
    """Validate a mapping (as read from TOML) into ``model``, strictly, or raise InputError.

    A TOML date or time is no JSON type, and so the wrong type for every field (one line, as any other).
    """
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise InputError(format_validation_error(source, e, data, model)) from None


#: The largest file :func:`read_toml` reads. Real scenarios and experiments are a few kilobytes; the cap
#: refuses a wrong file (a data dump, a disk image) before it is read into memory.
MAX_FILE_BYTES = 16 * 1024 * 1024
_TOML_FILE = "a scenario or experiment"


def read_toml(path: Path | str) -> dict[str, Any]:
    """Read a TOML file, or raise InputError with one line naming the file (and line and column, for syntax).

    Only a regular file of at most :data:`MAX_FILE_BYTES` is read: a directory,
    a pipe or a device (``/dev/stdin``, ``/dev/zero``) is refused at once, and
    a file nested too deeply for the parser or too large for memory is one
    error line, not a traceback.
    """
    path = Path(path)
    # stat first, so that a FIFO is refused without being opened (opening one blocks until a writer comes).
    require_regular_file(path, MAX_FILE_BYTES, _TOML_FILE)
    try:
        raw = _read_regular(path)
    except OSError as e:
        raise InputError([f"{path}: cannot read: {e.strerror or e}"]) from None
    except MemoryError:
        raise InputError([f"{path}: not enough memory to read it"]) from None
    return parse_toml(raw, str(path))


def read_toml_not_csv(path: Path | str, csv_is: str) -> dict[str, Any]:
    """``read_toml``, where a CSV file (an existing ``.csv`` that does not read) is said in one line as ``csv_is``
    (a CRM export given as a scenario or a suite had been told of a TOML syntax error on its header; a missing
    file is said to be missing)."""
    try:
        return read_toml(path)
    except InputError:
        if Path(path).suffix.lower() == ".csv" and Path(path).is_file():
            raise InputError([f"{path}: {csv_is}"]) from None
        raise


def parse_toml(raw: bytes, source: str) -> dict[str, Any]:
    """The tables of TOML text given as bytes (a file's, or an upload's), or InputError with one line naming
    ``source`` (and line and column, for syntax): the same lines :func:`read_toml` gives for a file."""
    _require_small(Path(source), len(raw), MAX_FILE_BYTES, _TOML_FILE)
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))  # a byte-order mark, as some editors write, is no error
    except tomllib.TOMLDecodeError as e:
        raise InputError([f"{source}: TOML syntax error: {e}{_line_of(raw, str(e))}"]) from None
    except UnicodeDecodeError as e:
        # Said by line, and UTF-16 for what it is (an analyst's "invalid start byte at byte 110" named no line).
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise InputError([f"{source}: UTF-16 text, not UTF-8: save it as UTF-8"]) from None
        at = e.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)  # utf-8-sig counts from after the mark
        line = raw[:at].count(b"\n") + 1
        raise InputError(
            [
                f"{source}: line {line}: not UTF-8 text (byte 0x{raw[at]:02x}, as in a file saved as Latin-1 "
                "or Windows-1252): save it as UTF-8"
            ]
        ) from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively.
        raise InputError([f"{source}: arrays or tables nested too deeply to read"]) from None
    except MemoryError:
        raise InputError([f"{source}: not enough memory to read it"]) from None


def _line_of(raw: bytes, message: str) -> str:
    """``: the line: 'renewal = { ... }'``, the text of the line a TOML syntax error names (its first 80
    characters), or "": "Cannot overwrite a value (at line 22, column 23)" had named no key."""
    found = re.search(r"at line (\d+), column \d+", message)
    lines = raw.decode("utf-8-sig", errors="replace").splitlines()
    if found is None or not 0 < int(found[1]) <= len(lines):
        return ""
    text = lines[int(found[1]) - 1].strip()
    said = f": the line: {text[:80] + ('...' if len(text) > 80 else '')!r}" if text else ""
    return said + _syntax_hint(text, message)


#: What to write instead, for the TOML slips a spreadsheet's habits make, each found by the line's text ({0} and
#: {1}: the match's first two groups), and whether it answers only the error of a table declared twice.
_SYNTAX_HINTS = (
    (r"=\s*-?[\d.]+\s*%", "a share is written 0.1 for 10%, with no % sign", False),
    (r"=\s*-?\d{1,3}(,\d{3})+\b", "a number takes no thousands commas: 20000 or 20_000", False),
    # The tables the files hold a list of (scenarios, experiments, stress suites): [[reps]] for each, where a
    # single table such as [policy] is declared once (an analyst told to write [[policy]] was then refused it).
    (
        r"^\[(reps|shocks|population\.segments|population\.regions|population\.lines|policies|factors|stress)\]$",
        "a list of them is written [[{0}]] for each",
        True,
    ),
    (r"^\[([^\[\]]+)\]$", "declare [{0}] once, merging the two", True),
    (r"=\s*\{[^}]*$", "an inline table {{ ... }} stays on one line: split it into a [table] instead", False),
    (r"=\s*(True|False|TRUE|FALSE)\s*(#.*)?$", "TOML writes true and false in lower case", False),
    (r"^([\w.-]+)\s*=\s*([A-Za-z_][\w-]*)\s*(#.*)?$", 'a text value is quoted: {0} = "{1}"', False),
)


def _syntax_hint(line: str, message: str) -> str:
    """`` (what to write instead)`` of the TOML slip on ``line`` (its error ``message``), or "" (a word TOML
    knows, true or inf, is no slip; a table is said twice only where the message says so)."""
    for pattern, hint, twice in _SYNTAX_HINTS:
        found = re.search(pattern, line)
        if found is None or twice != ("twice" in message):
            continue
        if not re.search(r"=\s*(true|false|[+-]?(inf|nan))\s*(#.*)?$", line):
            return f" ({hint.format(*(g or '' for g in found.groups()))})"
    return ""


def _close_names(path: Path, most: int = 1000) -> list[str]:
    """The name of a file beside ``path`` spelt almost as it is (``sales_pipeline.csv`` for ``sales_pipeline.cs``),
    looked for among the first ``most`` entries of its folder; none where there is none or no folder."""
    try:
        names = [p.name for _, p in zip(range(most), path.parent.iterdir(), strict=False) if p.is_file()]
    except OSError:
        return []
    return difflib.get_close_matches(path.name, names, n=1, cutoff=0.8)


def require_regular_file(path: Path, cap: int, what: str) -> None:
    """InputError (one line naming ``path``) unless it is a regular file of at most ``cap`` bytes.

    It stats without opening, so a FIFO is refused without waiting for a
    writer and a device (``/dev/zero``) without reading it: ``what`` names what
    the file should be, in the size message.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        # A name given without its suffix (scenarios/small for scenarios/small.toml): the file beside, named.
        near = [f"{path}{suffix}" for suffix in (".toml", ".csv") if Path(f"{path}{suffix}").is_file()]
        near = near or [str(path.parent / name) for name in _close_names(path)]
        raise InputError([f"{path}: file not found" + (f" (did you mean {near[0]}?)" if near else "")]) from None
    except OSError as e:
        raise InputError([f"{path}: cannot read: {e.strerror or e}"]) from None
    _require_regular(path, info, cap, what)


def _require_regular(path: Path, info: os.stat_result, cap: int, what: str) -> None:
    """InputError unless ``info`` is that of a regular file of at most ``cap`` bytes."""
    if stat.S_ISDIR(info.st_mode):  # a results folder given for a scenario: said as one, not "not a regular file"
        raise InputError([f"{path}: a folder, not {what} (name the file in it)"])
    if not stat.S_ISREG(info.st_mode):
        raise InputError([f"{path}: not a regular file"])
    _require_small(path, info.st_size, cap, what)


def _require_small(path: Path, size: int, cap: int, what: str) -> None:
    if size > cap:
        raise InputError(
            [
                # Rounded up, so that a file just over the cap never reads as "16.0 MB, larger than the 16 MB".
                f"{path}: file is {math.ceil(size * 10 / 2**20) / 10:.1f} MB, larger than the "
                f"{cap // 2**20} MB {what} may be"
            ]
        )


def _read_regular(path: Path) -> bytes:
    """The bytes of a file already stat'ed as regular, checked again on the open descriptor.

    The path may have been swapped for a FIFO or a growing file since the
    stat: O_NONBLOCK makes opening a FIFO return at once (it does nothing to a
    regular file), and reading one byte past the cap catches growth.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as f:
        _require_regular(path, os.fstat(fd), MAX_FILE_BYTES, _TOML_FILE)
        raw = f.read(MAX_FILE_BYTES + 1)
    _require_small(path, len(raw), MAX_FILE_BYTES, _TOML_FILE)
    return raw
