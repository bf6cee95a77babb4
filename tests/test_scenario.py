"""Scenario files: strict validation at the edge, one line per problem naming where it is."""

from __future__ import annotations

import pytest
import tomli_w

from sim.errors import InputError
from sim.scenario import dump_scenario, load_scenario, parse_scenario
from tests.conftest import BASELINE, SMALL, small_data


def problems(data, source="s.toml") -> list[str]:
    with pytest.raises(InputError) as e:
        parse_scenario(data, source)
    return e.value.problems


def test_shipped_scenarios_load():
    baseline = load_scenario(BASELINE)
    assert baseline.population.customers == 100_000
    assert sum(g.count for g in baseline.reps) == 42
    assert baseline.segment_names == ("enterprise", "mid_market", "smb")
    assert load_scenario(SMALL).quarters == 4


def test_resolved_dump_round_trips_with_defaults(small):
    text = dump_scenario(small)
    assert "monthly_retention = 0.84" in text
    assert "high_touch_window_days" in text
    import tomllib

    assert parse_scenario(tomllib.loads(text)) == small


def test_string_is_not_an_integer():
    d = small_data()
    d["population"]["customers"] = "500"
    assert problems(d) == ["s.toml: population.customers: Input should be a valid integer"]


def test_integer_is_accepted_for_a_float():
    d = small_data()
    d["population"]["segments"][0]["potential_median"] = 400000
    assert parse_scenario(d).population.segments[0].potential_median == 400000.0


def test_negative_count_and_unknown_key_each_get_a_line():
    d = small_data()
    d["reps"][0]["count"] = -3
    d["reps"][1]["colour"] = "blue"
    d["workforce"] = {"backfil_weeks": 3}
    assert problems(d) == [
        "s.toml: reps.0.count: Input should be greater than or equal to 0",
        "s.toml: reps.1.colour: unknown key",
        "s.toml: workforce.backfil_weeks: unknown key",
    ]


def test_missing_required_key():
    d = small_data()
    del d["population"]["segments"][1]["renewal"]
    assert problems(d) == ["s.toml: population.segments.1.renewal: Field required"]


def test_cross_field_checks():
    d = small_data()
    d["population"]["segments"][0]["share"] = 0.5
    assert problems(d) == ["s.toml: population.segments: shares sum to 1.48, not 1"]
    d = small_data()
    d["reps"][0]["region"] = "atlantis"
    d["shocks"] = [{"kind": "demand", "quarter": 9, "factor": 0.7, "segment": "giants"}]
    assert problems(d) == [
        "s.toml: reps.0.region: unknown region 'atlantis'",
        "s.toml: shocks.0.quarter: 9 is after the last quarter (4)",
        "s.toml: shocks.0.segment: unknown segment 'giants'",
    ]
    d = small_data()
    for g in d["reps"]:
        g["count"] = 0
    assert problems(d) == ["s.toml: reps: at least one rep with selling hours is needed"]


def test_unknown_shock_kind_and_response_kind():
    d = small_data()
    d["shocks"] = [{"kind": "meteor", "quarter": 1}]
    d["relationship"] = {"response": {"kind": "logistic"}}
    lines = problems(d)
    assert len(lines) == 2
    assert lines[0].startswith("s.toml: relationship.response: ")
    assert lines[1].startswith("s.toml: shocks.0: ")
    assert "meteor" in lines[1]


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match=r"nope\.toml: file not found"):
        load_scenario(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\npopulation = {customers = 5\n')
    with pytest.raises(InputError) as e:
        load_scenario(bad)
    (line,) = e.value.problems
    assert line.startswith(f"{bad}: TOML syntax error:") and "line 2" in line and "column" in line


def test_written_file_validates(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text(tomli_w.dumps(small_data()))
    assert load_scenario(path).name == "small"


def test_inf_and_nan_are_rejected():
    d = small_data()
    d["population"]["segments"][0]["potential_median"] = float("inf")
    d["population"]["regions"][0]["x_km"] = float("nan")
    assert problems(d) == [
        "s.toml: population.regions.0.x_km: Input should be a finite number",
        "s.toml: population.segments.0.potential_median: Input should be a finite number",
    ]


def test_union_members_do_not_appear_in_key_paths():
    d = small_data()
    d["shocks"] = [{"kind": "demand", "quarter": 1, "factor": -1.0}]
    d["relationship"] = {"response": {"kind": "power", "e": 2.0}}
    d["policy"] = {"name": "unstructured", "params": {"pickup": [1, 2]}}
    assert problems(d) == [
        "s.toml: relationship.response.e: Input should be less than or equal to 1",
        "s.toml: shocks.0.factor: Input should be greater than or equal to 0",
        "s.toml: policy.params.pickup: must be a boolean, integer, number or string",
    ]
