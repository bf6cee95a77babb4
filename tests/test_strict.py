"""The strict models (sim.strict): pydantic's strict JSON rules and wording, kept without pydantic."""

from __future__ import annotations

import json
import pickle
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.config import PolicyParam
from sim.errors import InputError
from sim.experiment.spec import Design
from sim.scenario import Scenario, load_scenario, parse_scenario
from sim.strict import Field, Strict, ValidationError, model_validator
from sim.strict_types import INVALID


class Curve(Strict):
    kind: Literal["curve"] = "curve"
    steep: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0


class Line(Strict):
    kind: Literal["line"] = "line"
    slope: float = 0.0


class Thing(Strict):
    name: Annotated[str, Field(min_length=1, max_length=5, pattern=r"^[a-z]+$")]
    count: Annotated[int, Field(ge=0)] = 1
    share: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    on: bool = True
    mode: Literal["a", "b", "c"] = "a"
    pair: tuple[float, float] = (1.0, 2.0)
    items: Annotated[tuple[int, ...], Field(max_length=3)] = ()
    params: dict[str, PolicyParam] = Field(default_factory=dict)
    low: float | None = None
    shape: Annotated[Curve | Line, Field(discriminator="kind")] = Curve()

    @model_validator(mode="before")
    @classmethod
    def _gone(cls, data: Any) -> Any:
        if isinstance(data, dict) and "old" in data:
            raise ValueError("old: removed (use count)")
        return data

    @model_validator(mode="after")
    def _check(self) -> Thing:
        if self.count > 100 and not self.on:
            raise ValueError("count: more than 100 only when on")
        return self


def problems(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as e:
        Thing.model_validate(data)
    return e.value.problems


def test_defaults_and_types_as_stored():
    t = Thing.model_validate({"name": "ab", "share": 1, "pair": [3, 4], "items": [1, 2], "low": 2})
    assert (t.count, t.share, t.on, t.mode, t.pair, t.items, t.low) == (1, 1.0, True, "a", (3.0, 4.0), (1, 2), 2.0)
    assert type(t.share) is float and type(t.pair[0]) is float  # an integer where a float is expected becomes one
    assert t.shape == Curve() and t.params == {}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("count", "5", "Input should be a valid integer, not '5'"),
        ("count", 5.0, "Input should be a valid integer, not 5.0"),
        ("count", True, "Input should be a valid integer, not true"),
        ("count", -1, "Input should be greater than or equal to 0, not -1"),
        ("share", "0.5", "Input should be a valid number, not '0.5'"),
        ("share", True, "Input should be a valid number, not true"),
        ("share", float("nan"), "Input should be a finite number"),
        ("share", float("inf"), "Input should be a finite number"),
        ("share", 10**400, "Input should be a finite number"),
        ("share", 1.5, "Input should be less than or equal to 1, not 1.5"),
        ("on", 1, "Input should be true or false, not 1"),
        ("on", "True", "Input should be true or false, not 'True'"),
        ("mode", "d", "Input should be 'a', 'b' or 'c', not 'd'"),
        ("name", "", "String should have at least 1 character"),
        ("name", "abcdef", "String should have at most 5 characters"),
        ("name", "A", "String should match pattern '^[a-z]+$'"),  # a pattern with no words: as it is
        ("name", 3, "Input should be a valid string"),
        ("items", "1", "Input should be a list ([...]), not '1'"),
        ("items", {"a": 1}, "Input should be a list ([...]), not a table"),  # of numbers: no [[items]] to write
        ("items", [1, 2, 3, 4], "Tuple should have at most 3 items after validation, not 4"),
        ("pair", [1, 2, 3], "Tuple should have at most 2 items after validation, not 3"),
        ("params", [1], "Input should be a table ({ key = value, ... }), not a list"),
        ("low", "x", "Input should be a valid number, not 'x'"),
        ("shape", 3, "Input should be a table ({ key = value, ... }), not 3"),
    ],
)  # fmt: skip
def test_each_wrong_value_gets_pydantic_s_message_at_its_key(key, value, message):
    assert problems({"name": "ab", key: value}) == [((key,), message)]


def test_every_problem_is_reported_in_field_order_then_unknown_keys():
    found = problems({"count": -1, "zz": 1, "pair": [1], "items": [1, "x"], "shape": {"kind": "curve", "steep": 0}})
    assert found == [
        (("name",), "Field required"),
        (("count",), "Input should be greater than or equal to 0, not -1"),
        (("pair", 1), "Field required"),
        (("items", 1), "Input should be a valid integer, not 'x'"),
        (("shape", "steep"), "Input should be greater than 0, not 0.0"),
        (("zz",), "unknown key"),
    ]


def test_a_union_keeps_the_value_s_own_type_and_reports_a_bad_one_in_one_line():
    t = Thing.model_validate({"name": "ab", "params": {"b": True, "i": 1, "f": 1.5, "s": "x"}})
    assert [type(v) for v in t.params.values()] == [bool, int, float, str]
    assert problems({"name": "ab", "params": {"x": [1], "y": float("nan")}}) == [
        (("params", "x"), "must be a boolean, integer, finite number or string"),
        (("params", "y"), "must be a boolean, integer, finite number or string"),
    ]


def test_model_checks_run_before_on_the_data_and_after_on_a_valid_object():
    assert problems({"name": "ab", "old": 1}) == [((), "old: removed (use count)")]
    assert problems({"name": "ab", "count": 101, "on": False}) == [((), "count: more than 100 only when on")]
    assert problems({"name": "ab", "count": -5, "on": False}) == [  # no after-check on invalid fields
        (("count",), "Input should be greater than or equal to 0, not -5")
    ]


def test_a_value_with_a_semicolon_is_one_problem_and_several_problems_are_raised_as_a_list(tmp_path: Path) -> None:
    # Problems were joined with "; " and split back into lines, which cut a value holding "; " in two
    # ("... not 'Q3 plan" and a line "name: draft'").
    data = tomllib.loads((Path(__file__).parent.parent / "scenarios" / "small.toml").read_text())
    data["name"] = "Q3 plan; draft"
    data["reps"][0]["region"] = "a; b: c"
    data["population"]["segments"][0]["share"] = 0.5
    data["population"]["regions"][0]["share"] = 0.9
    data["reps"][1] |= {"margin": 0.1, "lane": "own_line"}
    with pytest.raises(InputError) as e:
        parse_scenario(data, "s.toml")
    # A table's own checks all come at once too (the population's and a rep group's stopped at their first).
    assert (
        e.value.problems
        == [
            "s.toml: name: String should be letters, digits, '_' and '-' only, not 'Q3 plan; draft'",
            "s.toml: population.segments: shares sum to 1.48, not 1",
            "s.toml: population.regions: shares sum to 0.9, not 1",
            's.toml: reps.1.margin: only a channel partner keeps a margin (in the block of "inside" seats)',
            's.toml: reps.1.lane: own_line needs the seats\' line (in the block of "inside" seats)',
            "s.toml: reps.0.region: unknown region 'a; b: c' (the scenario's: local) (in the block of \"full_cycle\" seats)",  # beside rep group 1's own
        ]
    )
    data["name"], data["population"]["segments"][0]["share"], data["population"]["regions"][0]["share"] = "q3", 0.02, 1
    data["reps"][1] = {"role": "inside", "count": 2, "region": "nope"}
    with pytest.raises(InputError) as e:
        parse_scenario(data, "s.toml")
    assert e.value.problems == [
        "s.toml: reps.0.region: unknown region 'a; b: c' (the scenario's: local) (in the block of \"full_cycle\" seats)",
        "s.toml: reps.1.region: unknown region 'nope' (the scenario's: local) (in the block of \"inside\" seats)",
    ]


class Atlas(Strict):
    places: tuple[Thing, ...]
    visits: tuple[str, ...] = ()

    @model_validator(mode="fields")
    @classmethod
    def _visited(cls, fields: dict[str, Any], data: dict[str, Any]) -> list[str]:
        seen.append(fields)
        places, visits = fields["places"], fields["visits"]
        if places is INVALID or visits is INVALID:
            return []
        return [f"visits: unknown place {v!r}" for v in visits if v not in {p.name for p in places}]


seen: list[dict[str, Any]] = []


def test_a_fields_check_sees_each_field_as_checked_and_reports_with_the_fields_problems():
    ok = {"places": [{"name": "rome"}], "visits": ["rome"]}
    assert Atlas.model_validate(ok).visits == ("rome",)
    with pytest.raises(ValidationError) as e:
        Atlas.model_validate({"places": [{"name": "rome", "count": -1}, {"name": "oslo"}], "visits": ["paris"]})
    assert e.value.problems == [(("places", 0, "count"), "Input should be greater than or equal to 0, not -1")]
    with pytest.raises(ValidationError) as e:
        Atlas.model_validate({"places": [{"name": "oslo"}], "visits": ["paris"], "colour": 1})
    assert e.value.problems == [(("colour",), "unknown key"), ((), "visits: unknown place 'paris'")]
    with pytest.raises(ValidationError) as e:
        Atlas.model_validate({"places": [{"name": "Rome"}], "visits": ["rome", 3]})
    # Both fields have problems of their own: each is INVALID to the check, which finds nothing more.
    assert [loc for loc, _ in e.value.problems] == [("places", 0, "name"), ("visits", 1)]
    assert seen[-1] == {"places": INVALID, "visits": INVALID}
    with pytest.raises(ValidationError) as e:
        Atlas.model_validate({"visits": ["rome"]})
    assert seen[-1] == {"places": INVALID, "visits": ("rome",)}  # a required field left out is INVALID
    assert e.value.problems == [(("places",), "Field required")]


def test_field_value_reads_one_field_of_a_table_whatever_its_other_fields_hold():
    table = {"places": [{"name": "oslo", "pair": [3, 4]}], "visits": [5], "colour": 1}
    assert Atlas.field_value(table, "places") == (Thing(name="oslo", pair=(3.0, 4.0)),)
    assert Atlas.field_value(table, "visits") is INVALID  # a problem of its own
    assert Atlas.field_value({"places": []}, "visits") == ()  # left out: its default
    assert Atlas.field_value({}, "places") is INVALID  # required, left out
    assert Atlas.field_value([1], "places") is INVALID  # no table
    # A class that changes its tables before their fields are checked: their raw fields are not its.
    assert Thing.field_value({"name": "ab"}, "name") is INVALID


def test_instances_are_frozen_comparable_hashable_and_picklable():
    t = Thing(name="ab", items=(1, 2))
    with pytest.raises(AttributeError, match="frozen"):
        t.count = 3  # type: ignore[misc]
    assert t == Thing.model_validate({"name": "ab", "items": [1, 2]}) and t != Thing(name="ac")
    assert hash(Curve(steep=2.0)) == hash(Curve.model_validate({"steep": 2}))
    assert pickle.loads(pickle.dumps(t)) == t
    assert repr(Curve()) == "Curve(kind='curve', steep=1.0)"
    assert Thing(name="ab", shape=Line(slope=1.0)).shape == Line(slope=1.0)  # an instance is taken as it is
    with pytest.raises(ValidationError):
        Thing(name="ab", count="1")


def test_dumps_copies_and_fields():
    t = Thing(name="ab", pair=(1.0, 2.5), items=(3,))
    assert t.model_dump()["pair"] == (1.0, 2.5) and t.model_dump(mode="json")["pair"] == [1.0, 2.5]
    assert json.loads(t.model_dump_json())["shape"] == {"kind": "curve", "steep": 1.0}
    assert Thing.model_validate_json(t.model_dump_json()) == t
    assert t.model_copy(update={"count": 7}).count == 7 and t.count == 1  # not validated again
    fields = Thing.model_fields
    assert list(fields)[:3] == ["name", "count", "share"]
    assert fields["name"].required and not fields["count"].required
    assert (fields["share"].ge, fields["share"].le, fields["count"].default) == (0.0, 1.0, 1)
    assert fields["params"].default == {} and fields["params"].default is not fields["params"].default


def test_a_design_dump_leaves_out_unset_morris_settings():
    # An experiment's hash, checked when a store is resumed, is what it was before Morris designs.
    assert Design().model_dump(mode="json") == {"kind": "grid", "samples": 0}
    assert Design(kind="morris", levels=6).model_dump(mode="json") == {"kind": "morris", "samples": 0, "levels": 6}


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return load_scenario("scenarios/baseline.toml")


@given(quarters=st.integers(1, 400), seed=st.integers(0, 2**63), churn=st.floats(0.0, 0.999))
def test_a_scenario_dumped_and_read_back_is_the_same(baseline, quarters, seed, churn):
    changed = baseline.with_overrides(quarters=quarters, seed=seed, **{"population.segments.*.churn_per_year": churn})
    again = Scenario.model_validate_json(json.dumps(changed.model_dump(mode="json")))
    assert again == changed and again.model_dump(mode="json") == changed.model_dump(mode="json")


def test_a_pattern_s_end_is_the_end_of_the_text_not_a_final_newline():
    assert problems({"name": "ab\n"}) == [(("name",), "String should match pattern '^[a-z]+$'")]


def test_numbers_from_numpy_are_taken_through_the_python_api_and_stored_as_python_numbers():
    np = pytest.importorskip("numpy")
    t = Thing(name="ab", count=np.int64(3), share=np.float64(0.25), pair=(np.float32(1.5), 2))
    assert (t.count, t.share, t.pair) == (3, 0.25, (1.5, 2.0))
    assert (type(t.count), type(t.share), type(t.pair[0])) == (int, float, float)
    assert problems({"name": "ab", "count": np.float64(2.0)}) == [
        (("count",), "Input should be a valid integer, not 2.0")
    ]


def test_a_toml_date_is_one_wrong_type_line_not_a_traceback():
    import datetime

    from sim.config import validate_strict
    from sim.errors import InputError

    with pytest.raises(InputError) as e:
        validate_strict(Thing, {"name": datetime.date(1979, 5, 27)}, "f.toml")
    assert e.value.problems == ["f.toml: name: Input should be a valid string"]


def test_a_too_long_array_is_one_line_however_bad_its_items():
    assert problems({"name": "ab", "items": ["x", "y", "z", "w"]}) == [
        (("items",), "Tuple should have at most 3 items after validation, not 4")
    ]


def test_defaults_are_not_shared_and_dumps_keep_lists():
    class Weights(Strict):
        weights: dict[str, float] = {}  # noqa: RUF012 - the mistake a user makes, which must not share it
        tags: tuple[str, ...] = ()

    first = Weights()
    first.weights["x"] = 1.0
    assert Weights().weights == {}
    assert Weights().model_copy(update={"tags": ["a"]}).model_dump()["tags"] == ["a"]  # a list stays a list


class Base(Strict):
    size: int = 1
    label: str = "x"


class Required(Base):
    size: int  # declared again without a default: required here


class TwoTags(Strict):
    kind: Literal["a", "aa"] = "a"


class Holder(Strict):
    item: Annotated[TwoTags | Curve, Field(discriminator="kind")]
    number: int | float = 0


def test_subclasses_unions_and_after_checks_as_pydantic_has_them():
    assert Required.model_fields["size"].required and Base().size == 1
    assert Required(size=2).label == "x"
    assert Holder.model_validate({"item": {"kind": "aa"}}).item == TwoTags(kind="aa")
    assert Holder.model_validate({"item": {"kind": "curve"}, "number": 2}).number == 2  # an int stays one
    with pytest.raises(ValidationError) as e:
        Holder.model_validate({"item": {"kind": "a"}, "number": "2"})
    assert e.value.problems == [(("number",), "must be an integer or finite number")]

    class Forgetful(Strict):
        n: int = 0

        @model_validator(mode="after")
        def _check(self) -> None:  # no ``return self``: the object is kept
            pass

    assert Forgetful(n=3).n == 3


def test_models_that_cannot_work_are_refused_when_declared_or_first_used():
    with pytest.raises(ValueError, match="'before', 'after', 'table' or 'fields'"):
        model_validator(mode="wrap")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="a 'before' check is a classmethod"):

        class Plain(Strict):
            @model_validator(mode="before")
            def _fix(cls, data: Any) -> Any:
                return data

    class Clash(Strict):
        model_dump: int = 0  # type: ignore[assignment]

    with pytest.raises(TypeError, match="cannot take the name of a method of Strict"):
        Clash.model_validate({})

    class Fine(Strict):
        model_name: str = "a"  # a name that only starts like Strict's own

    assert Fine(model_name="b").model_name == "b"


def test_every_built_in_policy_s_defaults_keep_their_own_rules():
    from sim.policies import BUILT_IN

    for cls in BUILT_IN.values():
        defaults = {p: info.default for p, info in cls.parameters().items()}
        assert cls.Params.model_validate(defaults) == cls.Params(), cls.name


def test_a_tagged_union_names_its_tag_key_when_it_is_missing_or_unknown():
    assert problems({"name": "ab", "shape": {"steep": 2.0}}) == [(("shape", "kind"), "Field required")]
    assert problems({"name": "ab", "shape": {"kind": "arc"}}) == [
        (("shape", "kind"), "Input should be 'curve' or 'line'")
    ]
    data = tomllib.loads(Path("scenarios/small.toml").read_text(encoding="utf-8"))
    data["shocks"] = [{"kind": "rep_attrtion", "quarter": 2, "share": 0.1}, {"quarter": 2}]
    with pytest.raises(InputError) as e:
        parse_scenario(data, "s.toml")
    assert e.value.problems == [
        "s.toml: shocks.0.kind: Input should be 'rep_attrition', 'hiring_freeze', 'demand', 'potential_shift', "
        "'realignment', 'overlay_launch', 'key_account_loss' or 'rollout' (did you mean 'rep_attrition'?)",
        "s.toml: shocks.1.kind: Field required",
    ]


def test_a_misspelt_key_is_offered_the_field_it_resembles():
    data = tomllib.loads(Path("scenarios/small.toml").read_text(encoding="utf-8"))
    segment = data["population"]["segments"][0]
    segment["churn_per_yr"] = segment.pop("churn_per_year")
    data["zzz"] = 1
    with pytest.raises(InputError) as e:
        parse_scenario(data, "s.toml")
    # One mistake, one line: no "churn_per_year: Field required" beside the key that misspells it.
    assert e.value.problems == [
        "s.toml: population.segments.0.churn_per_yr: unknown key (did you mean 'churn_per_year'?)"
        ' (in the block named "enterprise")',
        "s.toml: zzz: unknown key",
    ]
    del data["population"]["customers"]  # a required field missing with no key resembling it is still named
    with pytest.raises(InputError) as e:
        parse_scenario(data, "s.toml")
    assert "s.toml: population.customers: Field required" in e.value.problems


def test_a_model_defined_inside_a_function_may_name_that_function_s_other_models():
    # This file's annotations are postponed (strings) and read on first use, after ``define`` returned.
    def define() -> type[Strict]:
        class Calm(Strict):
            kind: Literal["calm"] = "calm"

        class Storm(Strict):
            kind: Literal["storm"]
            force: Annotated[int, Field(ge=1)] = 3

        class Weather(Strict):
            days: int = 1
            sky: Annotated[Calm | Storm, Field(discriminator="kind")] = Calm()

        return Weather

    weather = define()
    assert weather.model_validate({"sky": {"kind": "storm"}}).model_dump() == {
        "days": 1,
        "sky": {"kind": "storm", "force": 3},
    }
    with pytest.raises(ValidationError) as e:
        weather.model_validate({"sky": {"kind": "fog"}, "days": "2"})
    assert e.value.problems == [
        (("days",), "Input should be a valid integer, not '2'"),
        (("sky", "kind"), "Input should be 'calm' or 'storm'"),
    ]


def test_default_problems_check_each_default_by_its_own_rule_and_a_default_model_by_its_own_class():
    class Tier(Strict):
        share: Annotated[float, Field(le=1.0)] = 0.5

    class Special(Tier):
        extra: int = 1

    class Either(Strict):
        a: int | None = None
        b: int | None = None

        @model_validator(mode="before")
        @classmethod
        def one(cls, data):
            if data.get("a") is not None and data.get("b") is not None:
                raise ValueError("a or b, not both")
            return data

    class Fine(Strict):
        tier: Tier = Special()  # an instance of a subclass, as validation takes one
        either: Either = Either(a=1)  # a before-check sees what a caller typed, which a default is not

    assert Fine.default_problems() == []

    class Bad(Strict):
        share: Annotated[float, Field(ge=0.0)] = -1.0
        nested: Tier = Special().model_copy(update={"share": 2.0})  # built unchecked, as a default may be

    assert Bad.default_problems() == [
        (("share",), "Input should be greater than or equal to 0, not -1.0"),
        (("nested", "share"), "Input should be less than or equal to 1, not 2.0"),
    ]

    class Ordered(Strict):
        low: float = 2.0
        high: float = 1.0

        @model_validator(mode="after")
        def ordered(self):
            if self.low > self.high:
                raise ValueError("low is above high")
            return self

    assert Ordered.default_problems() == [((), "low is above high")]  # what Ordered() itself would say


def test_a_misspelt_table_beside_the_table_it_means_is_said_with_that_table():
    # [populaton] over the population's own keys, with [[population.segments]] below it: the file writes
    # population too, so "did you mean" had nothing to offer, and a VP saw only "population.customers: Field
    # required" beside "populaton: unknown key".
    from sim.errors import InputError
    from sim.scenario import parse_scenario
    from tests.conftest import small_data

    data = small_data()
    data["populaton"] = {"customers": data["population"].pop("customers")}
    with pytest.raises(InputError) as e:
        parse_scenario(data, "s.toml")
    assert e.value.problems == [
        "s.toml: population.customers: Field required",
        "s.toml: populaton: unknown key (did you mean 'population', which the file writes too? move its keys there)",
    ]
    # A key that is no table keeps the plain words: nothing to move.
    data = small_data()
    data["populaton"] = 3
    with pytest.raises(InputError) as e:
        parse_scenario(data, "s.toml")
    assert e.value.problems == ["s.toml: populaton: unknown key"]


def test_a_rep_group_that_is_no_table_is_said_so_not_a_crash():
    # Naming a rep group's block by its role had read .get of a 1 given for the table.
    from sim.errors import InputError
    from sim.scenario import parse_scenario
    from tests.conftest import small_data

    data = small_data()
    data["reps"] = [1, {"role": "inside", "count": -1}]
    with pytest.raises(InputError) as e:
        parse_scenario(data, "s.toml")
    assert e.value.problems[:2] == [
        "s.toml: reps.0: Input should be a table ({ key = value, ... }), not 1",
        's.toml: reps.1.count: Input should be greater than or equal to 0, not -1 (in the block of "inside" seats)',
    ]
