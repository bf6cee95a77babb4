"""The documentation must not fall behind the code.

docs/scenario-format.md documents every field of the scenario models (key path,
type, default, range, source) and its TOML examples must validate;
docs/metrics.md defines every metric a run emits, with the segments it is
reported for and how a run summarises it.
"""

from __future__ import annotations

import dataclasses
import math
import re
import subprocess
import sys
import types
import typing
from functools import cache
from pathlib import Path

import pytest

import sim.scenario as scn
from sim.catalogue import CATALOGUE
from sim.codes import ACTIVITIES, CAUSES, ROLES
from sim.errors import InputError
from sim.metrics import ALL
from sim.policies import make_policy
from sim.run import run
from sim.scenario import Scenario, load_scenario, parse_scenario
from sim.strict import FieldInfo, Strict

ROOT = Path(__file__).resolve().parents[1]
SCENARIO_DOC = ROOT / "docs" / "scenario-format.md"
METRICS_DOC = ROOT / "docs" / "metrics.md"
COLUMNS = ["Key", "Type", "Unit", "Default", "Range", "Source", "Meaning"]
#: Defaults whose source is the design brief (selling hours, retention, ramp, horizon).
DESIGN_SOURCED = {
    ("RepGroup", "weekly_hours"),
    ("RepGroup", "selling_share"),
    ("Workforce", "ramp"),
    ("Relationship", "monthly_retention"),
    ("Scenario", "quarters"),
}


# ---- scenario models --------------------------------------------------------------


def _unwrap(annotation: object) -> tuple[list[type[Strict]], bool]:
    """The strict models an annotation holds, and whether it is an array of them."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _unwrap(args[0])
    if origin in (typing.Union, types.UnionType):
        models = [m for a in args for m in _unwrap(a)[0]]
        return models, False
    if origin is tuple:
        models = [m for a in args if a is not Ellipsis for m in _unwrap(a)[0]]
        return models, bool(models)
    if isinstance(annotation, type) and issubclass(annotation, Strict):
        return [annotation], False
    return [], False


def _walk(
    model: type[Strict], prefix: str = "", seen: set | None = None
) -> typing.Iterator[tuple[type[Strict], str, FieldInfo, str]]:
    """(model, field name, field, TOML key path) for every field, recursively.

    Arrays of tables get ``[]`` (``reps[].count``); the three opportunity kinds
    of a segment share one documented path, ``population.segments[].<kind>.x``.
    """
    seen = set() if seen is None else seen
    for name, field in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        yield model, name, field, path
        submodels, is_array = _unwrap(field.annotation)
        for sub in submodels:
            # The three opportunity kinds of a segment share one documented path.
            child = f"{prefix}.<kind>" if sub is scn.OpportunityKind else f"{path}[]" if is_array else path
            if (sub, child) not in seen:
                seen.add((sub, child))
                yield from _walk(sub, child, seen)


FIELDS = list(_walk(Scenario))
MODELS = {m.__name__: m for m, *_ in FIELDS} | {"Scenario": Scenario}


@cache
def _scenario_doc() -> str:
    return SCENARIO_DOC.read_text(encoding="utf-8")


@cache
def _key_rows() -> dict[tuple[str, str], list[dict[str, str]]]:
    """Rows of the field tables, by (model name, key path).

    A field table belongs to the model last named in backticks on a line
    outside a table (``Fields of `Workforce`:``, ``### 5.1 Top level (`Scenario`)``).
    """
    rows: dict[tuple[str, str], list[dict[str, str]]] = {}
    current: str | None = None
    header: list[str] | None = None
    for line in _scenario_doc().splitlines():
        if not line.startswith("|"):
            header = None
            for name in re.findall(r"`(\w+)`", line):
                if name in MODELS:
                    current = name
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if header != COLUMNS or set(line) <= set("|- "):
            continue
        key = re.fullmatch(r"`([^`]+)`", cells[0])
        if key and current is not None:
            rows.setdefault((current, key.group(1)), []).append(dict(zip(COLUMNS, cells, strict=True)))
    return rows


def _row(model: type[Strict], path: str) -> dict[str, str]:
    found = _key_rows().get((model.__name__, path), [])
    assert len(found) == 1, f"{SCENARIO_DOC.name}: expected one row for `{path}` in the `{model.__name__}` table"
    return found[0]


def _numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", text.replace(",", "").replace("_", ""))]


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _interval(specs: list[FieldInfo]) -> tuple[str, float, float, str] | None:
    lo = hi = None
    lo_b, hi_b = "[", "]"
    for m in specs:
        if m.ge is not None:
            lo, lo_b = m.ge, "["
        if m.gt is not None:
            lo, lo_b = m.gt, "("
        if m.le is not None:
            hi, hi_b = m.le, "]"
        if m.lt is not None:
            hi, hi_b = m.lt, ")"
    if lo is None and hi is None:
        return None
    if hi is None:
        hi, hi_b = math.inf, ")"
    return (lo_b, float(lo if lo is not None else -math.inf), float(hi), hi_b)


def _intervals_in(text: str) -> list[tuple[str, float, float, str]]:
    found = re.findall(r"([\[(])\s*(-?[\d_.]+|-∞)\s*,\s*(-?[\d_.]+|∞)\s*([\])])", text)
    return [
        (
            a,
            -math.inf if lo == "-∞" else float(lo.replace("_", "")),
            math.inf if hi == "∞" else float(hi.replace("_", "")),
            b,
        )
        for a, lo, hi, b in found
    ]


def _inner_metadata(annotation: object) -> list[FieldInfo]:
    """Constraints on the elements of a tuple field (``ramp``: each in [0, 1])."""
    if typing.get_origin(annotation) is not tuple:
        return []
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Annotated:
            return [info for info in typing.get_args(arg)[1:] if isinstance(info, FieldInfo)]
    return []


def test_walk_reaches_every_model_and_shock_variant() -> None:
    names = {m.__name__ for m, *_ in FIELDS}
    shocks = set(typing.get_args(typing.get_args(scn.Shock)[0]))
    expected = {
        "Scenario", "Population", "Region", "ProductLine", "Segment", "OpportunityKind", "RepGroup", "Workforce",
        "Activities", "Adbudg", "Power", "Relationship", "Service", "Digital", "PolicyConfig",
        "MetricsConfig", "RenewalKind", "Handoff", "SpeedToLead", "SpeedCurve",
    } | {s.__name__ for s in shocks}  # fmt: skip
    assert len(shocks) == 8
    assert names == expected


@pytest.mark.parametrize(("model", "name", "field", "path"), FIELDS, ids=[f"{m.__name__}.{n}" for m, n, _, _ in FIELDS])
def test_every_field_is_documented(model: type[Strict], name: str, field: FieldInfo, path: str) -> None:
    doc = _scenario_doc()
    # The field name appears as the last part of a key path in backticks ...
    assert re.search(rf"`(?:[\w<>\[\].]*\.)?{re.escape(name)}`", doc), f"field {name!r} is not in {SCENARIO_DOC.name}"
    # ... and its full key path has exactly one row in its model's table.
    row = _row(model, path)
    assert row["Meaning"] and row["Unit"], f"`{path}`: empty meaning or unit"


@pytest.mark.parametrize(("model", "name", "field", "path"), FIELDS, ids=[f"{m.__name__}.{n}" for m, n, _, _ in FIELDS])
def test_documented_type_default_range_and_source_match_the_code(
    model: type[Strict], name: str, field: FieldInfo, path: str
) -> None:
    row = _row(model, path)
    where = f"{SCENARIO_DOC.name}: `{path}`"
    annotation = field.annotation
    submodels, is_array = _unwrap(annotation)

    # Type.
    if typing.get_origin(annotation) is typing.Literal:
        for value in typing.get_args(annotation):
            assert f'"{value}"' in row["Type"], f"{where}: type should list {value!r}"
    elif submodels:
        assert ("array of tables" if is_array else "table") in row["Type"], f"{where}: type"
    else:
        words: dict[object, str] = {bool: "boolean", int: "integer", float: "float", str: "string"}
        word = words.get(annotation) or ("table" if typing.get_origin(annotation) is dict else "array")
        assert word in row["Type"], f"{where}: type should say {word!r}, says {row['Type']!r}"

    # Default.
    required = field.required
    cell = row["Default"]
    if required:
        assert cell == "required", f"{where}: required, but the default column says {cell!r}"
    else:
        default = field.default
        assert cell != "required", f"{where}: has a default in the code"
        if isinstance(default, Strict) or (isinstance(default, tuple) and default and isinstance(default[0], Strict)):
            pass  # a table of defaults, documented in its own table
        elif isinstance(default, (bool, str)):
            assert _toml(default) in cell, f"{where}: default {_toml(default)} not in {cell!r}"
        elif isinstance(default, (int, float)):
            assert float(default) in _numbers(cell), f"{where}: default {default} not in {cell!r}"
        elif isinstance(default, tuple):
            if not default:
                assert "[]" in cell, f"{where}: default is empty, expected []"
            for item in default:
                if isinstance(item, str):
                    assert _toml(item) in cell, f"{where}: default item {item!r} not in {cell!r}"
                else:
                    assert float(item) in _numbers(cell), f"{where}: default item {item} not in {cell!r}"
        elif isinstance(default, dict):
            assert cell == "`{}`" and not default, f"{where}: default {default!r}"
        else:  # pragma: no cover - a new kind of default needs a rule here
            pytest.fail(f"{where}: no rule to check a default of type {type(default).__name__}")

    # Range: the interval enforced by Field(...) constraints, on the field or its elements.
    rng = row["Range"]
    interval = _interval([field]) or _interval(_inner_metadata(annotation))
    if interval is not None:
        assert interval in _intervals_in(rng), f"{where}: range should contain {interval}, says {rng!r}"
    elif annotation in (int, float):
        assert "any" in rng, f"{where}: unconstrained number, range should say 'any', says {rng!r}"
    if field.pattern:
        assert field.pattern in rng, f"{where}: range should give the pattern {field.pattern}"

    # Source.
    source = row["Source"]
    if required:
        assert source == "—", f"{where}: a required field has no default, so its source is '—'"
    elif submodels:
        # A table: its own fields carry the sources; a source for the whole default is optional.
        assert source == "—" or re.search(r"\[[DLA]\]", source), f"{where}: source is {source!r}"
    else:
        assert re.search(r"\[[DLA]\]", source), f"{where}: source should be [D], [L] or [A], is {source!r}"
    if (model.__name__, name) in DESIGN_SOURCED:
        assert "[D]" in source, f"{where}: this default comes from the design brief [D]"


def test_no_documented_key_is_stale() -> None:
    known = {(m.__name__, path) for m, _, _, path in FIELDS}
    stale = sorted(set(_key_rows()) - known)
    assert not stale, f"{SCENARIO_DOC.name} documents keys the code does not have: {stale}"


def test_every_tagged_kind_is_documented() -> None:
    doc = _scenario_doc()
    kinds = [
        typing.get_args(s.model_fields["kind"].annotation)[0] for s in typing.get_args(typing.get_args(scn.Shock)[0])
    ]
    kinds += ["adbudg", "power"]
    for kind in kinds:
        assert f'kind = "{kind}"' in doc, f'{SCENARIO_DOC.name}: kind {kind!r} not shown as kind = "{kind}"'


def test_toml_examples_validate() -> None:
    import tomllib

    blocks = re.findall(r"```toml\n(.*?)```", _scenario_doc(), flags=re.S)
    assert len(blocks) >= 2, "expected a minimal and a full example"
    for i, block in enumerate(blocks):
        if block.startswith("# bad.toml"):  # the error-format example: its errors are checked where it is run
            with pytest.raises(InputError):
                parse_scenario(tomllib.loads(block), "bad.toml")
            continue
        scenario = parse_scenario(tomllib.loads(block), f"example {i}")
        assert scenario.reps and scenario.population.segments


def test_documented_role_list_matches_the_code() -> None:
    row = _row(scn.RepGroup, "reps[].role")
    assert re.findall(r'"(\w+)"', row["Type"]) == list(ROLES)


# ---- metrics -------------------------------------------------------------------------


@cache
def _result():
    return run(load_scenario(ROOT / "scenarios" / "small.toml"), make_policy("segment_tiers"), seed=1, quarters=1)


@cache
def _metrics_doc() -> str:
    return METRICS_DOC.read_text(encoding="utf-8")


@cache
def _metric_entries() -> dict[str, str]:
    """The text of each ``#### `metric` `` entry, families expanded to their members."""
    parts = re.split(r"^#### `([^`]+)`\s*$", _metrics_doc(), flags=re.M)
    entries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        body = re.split(r"^#{1,3} ", body, flags=re.M)[0]
        if "<role>" in name:
            for role in ROLES:
                member = name.replace("<role>", role)
                assert f"`{member}`" in body, f"{METRICS_DOC.name}: family {name} does not list `{member}`"
                entries[member] = body
        else:
            assert name not in entries, f"{METRICS_DOC.name}: {name} defined twice"
            entries[name] = body
    return entries


def _whole_word(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w<]){re.escape(name)}(?![\w>])", text) is not None


def test_every_emitted_metric_is_defined_in_the_docs() -> None:
    emitted = sorted(set(_result().metrics["metric"]))
    assert len(emitted) > 40  # a real run, not an empty table
    doc = _metrics_doc()
    missing = [m for m in emitted if not (_whole_word(m, doc) and f"`{m}`" in doc)]
    assert not missing, f"{METRICS_DOC.name} lacks metrics a run emits: {missing}"


def test_every_emitted_metric_is_in_the_catalogue() -> None:
    emitted = set(_result().metrics["metric"])
    assert emitted - set(CATALOGUE) == set(), "sim.catalogue has no record of metrics a run emits"


def test_every_catalogued_metric_is_in_the_docs() -> None:
    doc = _metrics_doc()
    missing = [m for m in CATALOGUE if f"`{m}`" not in doc]
    assert not missing, f"{METRICS_DOC.name} lacks: {missing}"


def test_metric_entries_match_the_catalogue_exactly() -> None:
    documented = set(_metric_entries())
    assert documented - set(CATALOGUE) == set(), f"{METRICS_DOC.name} defines metrics the catalogue does not have"
    assert set(CATALOGUE) - documented == set(), f"{METRICS_DOC.name} has no entry for some metrics"
    families = {f"hours_{a}" for a in ACTIVITIES} | {f"missed_{c}" for c in CAUSES}
    assert families <= documented


def test_the_run_total_lists_name_every_metric_that_is_not_a_sum() -> None:
    """Section 2's lists of stocks (``last``) and of rates (``mean``) name each such metric of the catalogue,
    a role's as its family (``utilisation_<role>``), and none of another kind."""
    section = _metrics_doc().split("## 2.")[1].split("Each metric entry below")[0]
    for aggregate in ("last", "mean"):
        listed = section.split(f"- **{aggregate}**")[1].split("- **")[0]
        named = {m.replace("<role>", r) for m in re.findall(r"`([\w<>]+)`", listed) for r in ROLES}
        wanted = {m for m, entry in CATALOGUE.items() if entry.aggregate == aggregate}
        assert wanted - named == set(), f"{METRICS_DOC.name} section 2 lacks {aggregate}: {sorted(wanted - named)}"
        assert named & set(CATALOGUE) <= wanted, f"{METRICS_DOC.name} section 2 lists under {aggregate} others"


@pytest.mark.parametrize("metric", sorted(CATALOGUE))
def test_metric_entry_has_unit_definition_and_run_total(metric: str) -> None:
    body = _metric_entries()[metric]
    fields = dict(re.findall(r"^- \*\*([\w ]+):\*\*\s*(.+)$", body, flags=re.M))
    for key in ("Unit", "Segments", "Run total", "Definition"):
        assert fields.get(key, "").strip(), f"{METRICS_DOC.name}: `{metric}` has no {key}"
    aggregate = CATALOGUE[metric].aggregate
    assert fields["Run total"].strip() == aggregate, (
        f"{METRICS_DOC.name}: `{metric}` run total is {aggregate!r} in sim.catalogue"
    )


def test_documented_segments_match_a_run() -> None:
    m = _result().metrics
    segments = m.groupby("metric")["segment"].agg(set)
    entries = _metric_entries()
    for metric, seen in segments.items():
        line = re.search(r"^- \*\*Segments:\*\*\s*(.+)$", entries[metric], flags=re.M)
        assert line, metric
        all_only = line.group(1).strip() == f"`{ALL}` only"
        assert all_only == (seen == {ALL}), f"{METRICS_DOC.name}: `{metric}` is reported for {sorted(seen)}"


def test_tidy_and_weekly_columns_and_weekly_metrics_are_documented() -> None:
    result = _result()
    doc = _metrics_doc()
    tidy = re.search(r"## 1\. The tidy table(.*?)\n## ", doc, flags=re.S)
    assert tidy
    assert re.findall(r"^\| `(\w+)` \|", tidy.group(1), flags=re.M) == list(result.metrics.columns)
    weekly, seats = doc.split("## 9.", 1)[1].split("## 10.", 1)
    assert all(f"`{c}`" in weekly for c in result.weekly.columns)
    documented = set(re.findall(r"^\| `(\w+)` \|", weekly, flags=re.M))
    assert documented == set(result.weekly["metric"])
    columns = re.findall(r"^\| `(\w+)`(?:, `(\w+)`)? \|", seats, flags=re.M)
    assert [c for pair in columns for c in pair if c] == list(result.seats.columns)


def test_the_worked_custom_policy_in_docs_policies_is_the_example_file_verbatim() -> None:
    doc = (ROOT / "docs" / "policies.md").read_text(encoding="utf-8")
    shown = re.search(r"```python\n(.*?)```", doc, re.S)
    assert shown is not None
    assert shown.group(1) == (ROOT / "examples" / "untapped_wallet.py").read_text(encoding="utf-8")


def _odd_policy_rows() -> dict[tuple[str, str], str]:
    """The ODD's table of policy parameters (7.5): (policy, key) -> the default cell's value for that key."""
    doc = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    table = doc[doc.index("### 7.5 ") : doc.index("### 7.6 ")]
    rows: dict[tuple[str, str], str] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) != 5 or not cells[0].startswith("`") or cells[1] == "scenario":
            continue
        keys = re.findall(r"`(\w+)`", cells[0])
        defaults = cells[2].split(", ") if len(keys) > 1 else [cells[2]]
        assert len(defaults) == len(keys), line
        for policy in cells[1].split(", "):
            for key, default in zip(keys, defaults, strict=True):
                assert (policy, key) not in rows, f"ODD.md 7.5 lists {policy}'s {key} twice"
                rows[(policy, key)] = default
    return rows


def _shown_default(value: object) -> str:
    """A default as the ODD's table writes it: strings quoted in code, booleans lower case, 1/3 as a fraction."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'`"{value}"`'
    return "1/3" if value == 1 / 3 else str(value)


def test_the_odd_lists_every_built_in_policy_parameter_with_its_default() -> None:
    # The table once covered three of the nine built-ins, and said no built-in marks accounts coordinated.
    from sim.policies import BUILT_IN

    rows = _odd_policy_rows()
    code = {
        (name, key): _shown_default(field.default)
        for name, cls in BUILT_IN.items()
        for key, field in cls.parameters().items()
    }
    assert rows == code


def _slug(heading: str) -> str:
    """A Markdown heading's anchor as GitHub makes it: lower case, punctuation but hyphens and underscores
    dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    """The anchors of ``path``'s headings (outside code blocks), a repeated one numbered as GitHub does."""
    times: dict[str, int] = {}  # how often each slug came before
    anchors = set()
    fenced = False
    for line in path.read_text().splitlines():
        fenced ^= line.startswith("```")
        if not fenced and (m := re.match(r"#+ (.+)", line)):
            slug = _slug(m[1])
            anchors.add(f"{slug}-{times[slug]}" if slug in times else slug)
            times[slug] = times.get(slug, 0) + 1
    return anchors


def test_every_link_between_the_docs_reaches_its_file_and_heading() -> None:
    # A link to scenario-format.md#shocks led nowhere: the heading is "5.9 Shocks: [[shocks]]".
    broken = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
            if re.match(r"[a-z]+:", target):  # a web address
                continue
            file, _, anchor = target.partition("#")
            path = (doc.parent / file).resolve() if file else doc
            if not path.exists():
                broken.append(f"{doc.name}: {target}: no such file")
            elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
                broken.append(f"{doc.name}: {target}: no such heading")
    assert broken == []


def test_the_worked_queue_example_in_docs_model_prints_what_it_says() -> None:
    # It had printed waits of 0.005 against 0.006 days, read by a researcher as the queue doing nothing: what a
    # smaller pool costs is the stalled work, which the example now prints, and the text quotes.
    doc = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    (snippet,) = [b for b in re.findall(r"```python\n(.*?)```", doc, re.S) if '"reps.1.count": inside' in b]
    r = subprocess.run([sys.executable, "-c", snippet], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines == [
        "2 inside reps: mean first response 0.005 business days; 75 deals stalled",
        "1 inside reps: mean first response 0.006 business days; 148 deals stalled",
        "0 inside reps: mean first response 0.011 business days; 233 deals stalled",
    ]
    assert "It prints `2 inside reps: mean first response 0.005 business days; 75 deals stalled`" in " ".join(
        doc.split()
    )
    assert "then 0.006 and 148 with one, 0.011 and 233 with none" in " ".join(doc.split())


def test_every_policy_building_block_is_in_docs_model_with_its_signature():
    # A policy author read five of them from source: their arguments were nowhere in the docs. The table in
    # docs/model.md gives each public function of sim.policies.rules with its signature as the code has it.
    import inspect

    import sim.policies.rules as rules
    from sim.policies.views import CoveragePlan

    text = (ROOT / "docs" / "model.md").read_text()
    for name, f in inspect.getmembers(rules, inspect.isfunction):
        if f.__module__ != rules.__name__ or name.startswith("_"):
            continue
        signature = re.sub(r"'([^']*)'", r"\1", str(inspect.signature(f))).replace(" | None", " \\| None")
        assert f"| `{name}{signature}` |" in text, f"docs/model.md: no row for {name}{signature}"
    fields = ", ".join(
        f.name if f.default is dataclasses.MISSING else f"{f.name}={f.default!r}"
        for f in dataclasses.fields(CoveragePlan)
    )
    assert f"`CoveragePlan({fields})`" in " ".join(text.split()), fields
