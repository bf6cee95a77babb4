"""Scenario files: strict validation at the edge, one line per problem naming where it is."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Any

import pytest
import tomli_w

import sim.config
from sim.config import MAX_FILE_BYTES, read_toml
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
    assert problems(d) == ["s.toml: population.customers: Input should be a valid integer, not '500'"]


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
        's.toml: reps.0.count: Input should be greater than or equal to 0, not -3 (in the block of "full_cycle" seats)',
        's.toml: reps.1.colour: unknown key (in the block of "inside" seats)',
        "s.toml: workforce.backfil_weeks: unknown key (did you mean 'backfill_weeks'?)",
    ]


def test_two_rep_groups_of_one_role_are_told_apart_by_their_order():
    # Two "inside" blocks (one per region, say) had each been "the block of "inside" seats": which one?
    d = small_data()
    d["reps"].append({**d["reps"][1], "count": -1})
    d["reps"][1]["colour"] = "blue"
    assert problems(d) == [
        's.toml: reps.1.colour: unknown key (in the first block of "inside" seats)',
        's.toml: reps.3.count: Input should be greater than or equal to 0, not -1 (in the second block of "inside" '
        "seats)",
    ]


def test_a_key_in_the_wrong_table_is_said_where_it_belongs():
    # An analyst's keys, each a real key of another table, had been told "unknown key" alone.
    d = small_data()
    d["population"]["contract_term_weeks"] = 52
    d["workforce"] = {"cost_per_year": 90_000}
    d["policy"] = {"name": "segment_tiers", "field_segments": "enterprise"}
    d["reps"][0]["quarter"] = 2
    assert problems(d) == [
        "s.toml: population.contract_term_weeks: unknown key (a key of population.segments.*, not of population)",
        's.toml: reps.0.quarter: unknown key (a key of shocks.*, not of reps.0) (in the block of "full_cycle" seats)',
        "s.toml: workforce.cost_per_year: unknown key (a key of reps.*, not of workforce)",
        "s.toml: policy.field_segments: unknown key (a policy's parameters go in its params table: "
        "policy.params.field_segments)",
    ]
    # A shock's key of another kind of shock, and a parameter in a rollout's current policy (a union's member past
    # the first), are said so.
    d = small_data()
    d["shocks"] = [
        {"kind": "hiring_freeze", "quarter": 2, "until_quarter": 3, "segment": "smb"},
        {"kind": "rollout", "quarter": 2, "current": {"name": "segment_tiers", "field_segments": "enterprise"}},
    ]
    assert problems(d) == [
        "s.toml: shocks.0.segment: unknown key (a key of another kind of shocks.*, not of this one)",
        "s.toml: shocks.1.current.field_segments: unknown key (a policy's parameters go in its params table: "
        "shocks.1.current.params.field_segments)",
    ]
    # A close name stays the hint (workforce.backfil_weeks, above), and a key no table has is told nothing more.
    d = small_data()
    d["population"]["colour"] = "blue"
    assert problems(d) == ["s.toml: population.colour: unknown key"]


def test_missing_required_key():
    d = small_data()
    del d["population"]["segments"][1]["renewal"]
    # The block's name closes the line: a reader finds a segment by its name, not by its place.
    assert problems(d) == ['s.toml: population.segments.1.renewal: Field required (in the block named "mid_market")']


def test_cross_field_checks():
    d = small_data()
    d["population"]["segments"][0]["share"] = 0.5
    assert problems(d) == ["s.toml: population.segments: shares sum to 1.48, not 1"]
    d = small_data()
    d["reps"][0]["region"] = "atlantis"
    d["shocks"] = [{"kind": "demand", "quarter": 9, "factor": 0.7, "segment": "giants"}]
    assert problems(d) == [
        "s.toml: reps.0.region: unknown region 'atlantis' (the scenario's: local) (in the block of \"full_cycle\" seats)",
        "s.toml: shocks.0.quarter: 9 is after the last quarter (4)",
        "s.toml: shocks.0.segment: unknown segment 'giants' (the scenario's: enterprise, mid_market, smb)",
    ]
    d = small_data()
    for g in d["reps"]:
        g["count"] = 0
    assert problems(d) == ["s.toml: reps: at least one rep with selling hours is needed"]


def test_a_population_s_problems_across_tables_come_with_its_fields_problems():
    # A share sum came only once a segment's typo was mended: two rounds for one file.
    d = small_data()
    segments = d["population"]["segments"]
    segments[0]["share"] = 0.5
    segments[1]["customer_share"] = 1.5
    segments[2]["name"] = segments[0]["name"]
    d["population"]["regions"] = [{"name": "a", "share": 0.6}, {"name": "b", "share": "0.4"}]
    d["population"]["industries"] = []
    name = segments[0]["name"]
    assert problems(d) == [
        "s.toml: population.regions.1.share: Input should be a valid number, not '0.4' (in the block named \"b\")",
        "s.toml: population.segments.1.customer_share: Input should be less than or equal to 1, not 1.5 (in the block named "
        '"mid_market")',
        "s.toml: population.segments: shares sum to 1.48, not 1",
        f"s.toml: population.segments: duplicate names {name}",
        "s.toml: population.industries: at least one industry is needed",
    ]
    # A share out of its range is its field's problem alone, not a sum's too.
    d = small_data()
    d["population"]["segments"][0]["share"] = 1.5
    assert problems(d) == [
        's.toml: population.segments.0.share: Input should be less than or equal to 1, not 1.5 (in the block named "enterprise")'
    ]
    # A scenario built in Python is checked the same way.
    from sim.scenario import Population, Region

    with pytest.raises(ValueError, match=r"regions: shares sum to 0\.9, not 1"):
        Population(
            customers=10,
            segments=parse_scenario(small_data()).population.segments,
            regions=(Region(name="a", share=0.5), Region(name="b", share=0.4)),
        )


def test_a_scenario_s_names_across_tables_are_checked_beside_its_tables_own_problems():
    # An unknown region waited until the population's typo was mended: two rounds for one file.
    d = small_data()
    d["population"]["customers"] = "many"
    d["population"]["segments"][0]["share"] = 0.5
    d["reps"][0]["region"] = "atlantis"
    d["shocks"] = [{"kind": "demand", "quarter": 9, "factor": 0.7, "segment": "giants"}]
    d["quarters"] = 4
    assert problems(d) == [
        "s.toml: population.customers: Input should be a valid integer, not 'many'",
        "s.toml: population.segments: shares sum to 1.48, not 1",
        "s.toml: reps.0.region: unknown region 'atlantis' (the scenario's: local) (in the block of \"full_cycle\" seats)",
        "s.toml: shocks.0.quarter: 9 is after the last quarter (4)",
        "s.toml: shocks.0.segment: unknown segment 'giants' (the scenario's: enterprise, mid_market, smb)",
    ]
    # A shock with a problem of its own: the others are checked across tables beside it, by their own numbers.
    d["shocks"] = [
        {"kind": "rep_attrition", "quarter": 2, "share": 1.5},
        {"kind": "demand", "quarter": 9, "factor": 0.7},
        {"kind": "rollout", "quarter": 2, "current": {"name": "pooled"}},
        {"kind": "rollout", "quarter": 3, "current": {"name": "pooled"}},
    ]
    assert problems(d)[2:] == [
        "s.toml: shocks.0.share: Input should be less than or equal to 1, not 1.5",
        "s.toml: reps.0.region: unknown region 'atlantis' (the scenario's: local) (in the block of \"full_cycle\" seats)",
        "s.toml: shocks.1.quarter: 9 is after the last quarter (4)",
        "s.toml: shocks.3: a scenario has at most one rollout (shocks.2 is one)",
    ]
    d["shocks"] = [{"kind": "demand", "quarter": 9, "factor": 0.7, "segment": "giants"}]
    # A rep group with a problem of its own does not hide another group's unknown region.
    two = small_data()
    two["reps"][0]["weekly_hours"] = 400
    two["reps"][1]["region"] = "DACH"
    assert problems(two) == [
        's.toml: reps.0.weekly_hours: Input should be less than or equal to 80, not 400.0 (in the block of "full_cycle" seats)',
        "s.toml: reps.1.region: unknown region 'DACH' (the scenario's: local) (in the block of \"inside\" seats)",
    ]
    # A freeze that ends before it starts says both quarters.
    d["shocks"] = [{"kind": "hiring_freeze", "quarter": 3, "until_quarter": 2}]
    assert "s.toml: shocks.0.until_quarter: 2 is before the shock's quarter (3)" in problems(d)
    # A table with no names is a problem of its own, not an unknown name in each rep group that names one.
    d["shocks"] = []
    d["population"]["regions"] = []
    assert [p for p in problems(d) if "region" in p] == ["s.toml: population.regions: at least one is needed"]
    d["shocks"] = [{"kind": "demand", "quarter": 9, "factor": 0.7, "segment": "giants"}]
    # Names a table with a problem of its own holds are not known: nothing is said of them.
    d["population"]["regions"] = [{"name": "a", "share": "1"}]
    d["population"]["segments"][1]["name"] = 7
    d["quarters"] = "four"
    lines = problems(d)
    assert not any("reps.0.region" in line or "shocks.0" in line for line in lines), lines


def test_unknown_shock_kind_and_response_kind():
    d = small_data()
    d["shocks"] = [{"kind": "meteor", "quarter": 1}]
    d["relationship"] = {"response": {"kind": "logistic"}}
    lines = problems(d)
    assert lines == [
        "s.toml: relationship.response.kind: Input should be 'adbudg' or 'power'",
        "s.toml: shocks.0.kind: Input should be 'rep_attrition', 'hiring_freeze', 'demand', 'potential_shift', "
        "'realignment', 'overlay_launch', 'key_account_loss' or 'rollout'",
    ]


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match=r"nope\.toml: file not found"):
        load_scenario(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\npopulation = {customers = 5\n')
    with pytest.raises(InputError) as e:
        load_scenario(bad)
    (line,) = e.value.problems
    assert line.startswith(f"{bad}: TOML syntax error:") and "line 2" in line and "column" in line
    assert line.endswith(
        ": the line: 'population = {customers = 5' (an inline table { ... } stays on one line: split it into a "
        "[table] instead)"
    )
    # A key given twice: the line names it (Python's words, "Cannot overwrite a value", named no key).
    bad.write_text('name = "x"\n[population]\ncustomers = 5\ncustomers = 6\n')
    with pytest.raises(InputError) as e:
        load_scenario(bad)
    assert e.value.problems == [
        f"{bad}: TOML syntax error: Cannot overwrite a value (at line 4, column 14): the line: 'customers = 6'"
    ]


def test_written_file_validates(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text(tomli_w.dumps(small_data()))
    assert load_scenario(path).name == "small"


def test_inf_and_nan_are_rejected():
    d = small_data()
    d["population"]["segments"][0]["potential_median"] = float("inf")
    d["population"]["regions"][0]["x_km"] = float("nan")
    assert problems(d) == [
        's.toml: population.regions.0.x_km: Input should be a finite number (in the block named "local")',
        's.toml: population.segments.0.potential_median: Input should be a finite number (in the block named "enterprise")',
    ]


def test_union_members_do_not_appear_in_key_paths():
    d = small_data()
    d["shocks"] = [{"kind": "demand", "quarter": 1, "factor": -1.0}]
    d["relationship"] = {"response": {"kind": "power", "e": 2.0}}
    d["policy"] = {"name": "unstructured", "params": {"notice": [1, 2]}}
    assert problems(d) == [
        "s.toml: relationship.response.e: Input should be less than or equal to 1, not 2.0",
        "s.toml: shocks.0.factor: Input should be greater than or equal to 0, not -1.0",
        "s.toml: policy.params.notice: must be a boolean, integer, finite number or string",
    ]


def read_problems_within(path: Path | str, seconds: float = 10.0) -> list[str]:
    """The lines of the InputError ``read_toml(path)`` raises; fails, rather than hangs, if it blocks."""
    outcome: dict[str, Any] = {}

    def read() -> None:
        try:
            outcome["data"] = read_toml(path)
        except InputError as e:
            outcome["problems"] = e.problems

    # A daemon thread: should a regression block it, the test fails and the process can still exit.
    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"read_toml({path}) was still blocked after {seconds} s"
    assert "problems" in outcome, f"read_toml({path}) returned {outcome.get('data')!r}"
    return outcome["problems"]


def test_a_folder_is_not_read(tmp_path):
    assert read_problems_within(tmp_path) == [
        f"{tmp_path}: a folder, not a scenario or experiment (name the file in it)"
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "scenario.toml"
    os.mkfifo(fifo)
    try:
        assert read_problems_within(fifo) == [f"{fifo}: not a regular file"]
    finally:
        # Should a regression have opened the pipe to read, a writer's arrival releases it.
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs a character device")
def test_a_device_is_refused():
    # /dev/null, not /dev/zero: should the check regress, it reads as an empty file rather than filling memory.
    assert read_problems_within("/dev/null") == ["/dev/null: not a regular file"]


def test_a_file_over_the_size_cap_is_refused_and_one_at_it_is_read(tmp_path):
    big = tmp_path / "big.toml"
    with big.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: no 16 MB written to disk
    assert read_problems_within(big) == [
        f"{big}: file is 16.1 MB, larger than the 16 MB a scenario or experiment may be"
    ]
    at_cap = tmp_path / "at_cap.toml"
    with at_cap.open("wb") as f:
        f.truncate(MAX_FILE_BYTES)
    (line,) = read_problems_within(at_cap)
    assert line.startswith(f"{at_cap}: TOML syntax error:")  # read and parsed: NUL bytes are not TOML


@pytest.mark.parametrize(
    "nested",
    ["a = " + "[" * 100_000 + "]" * 100_000, "a = " + "{b = " * 100_000 + "}" * 100_000],
    ids=["arrays", "inline-tables"],
)
def test_a_pathologically_nested_file_is_one_line(tmp_path, nested):
    deep = tmp_path / "deep.toml"
    deep.write_text(nested)
    assert read_problems_within(deep) == [f"{deep}: arrays or tables nested too deeply to read"]


def test_running_out_of_memory_while_parsing_is_one_line(tmp_path, monkeypatch):
    def exhausted(text: str) -> dict[str, Any]:
        raise MemoryError

    path = tmp_path / "s.toml"
    path.write_text('name = "s"\n')
    monkeypatch.setattr(sim.config.tomllib, "loads", exhausted)
    assert read_problems_within(path) == [f"{path}: not enough memory to read it"]


def test_overrides_reach_nested_fields_and_array_items(small):
    changed = small.with_overrides(
        "bigger",
        **{"population.customers": 800, "relationship.monthly_retention": 0.8, "reps.1.count": 4},
    )
    assert changed.population.customers == 800
    assert changed.relationship.monthly_retention == 0.8
    assert [g.count for g in changed.reps] == [2, 4, 1]
    # Everything else, and the base, as it was.
    assert changed.population.segments == small.population.segments
    assert small.population.customers == 5000 and [g.count for g in small.reps] == [2, 2, 1]


def test_an_override_with_a_star_changes_every_item(small):
    changed = small.with_overrides("sticky", **{"population.segments.*.churn_per_year": 0.01})
    assert [s.churn_per_year for s in changed.population.segments] == [0.01] * len(small.population.segments)


def test_an_override_path_that_names_nothing_is_an_error(small):
    with pytest.raises(InputError) as e:
        small.with_overrides(
            "x",
            **{"population.customerz": 5, "reps.7.count": 1, "quarters": 2, "population.segments.smb.share": 0.5},
        )
    # With what each may have meant, as a factor's target says it (a notebook's misspelling had no hint, and a
    # segment named in place of its number none either).
    assert e.value.problems == [
        "x: population.customerz: names no field of the scenario (did you mean 'population.customers'?)",
        "x: reps.7.count: names no field of the scenario (reps has 3 entries, 0..2; reps.* sets every one)",
        "x: population.segments.smb.share: names no field of the scenario (an entry is named by its number: "
        f"population.segments.{[g.name for g in small.population.segments].index('smb')}.share for 'smb')",
    ]
    # An entry's name misspelt, a rep group by its role, the rest of the path misspelt too, a word that is no
    # entry: never another entry's number (a review's "enterprize" had been offered smb's, "inside" the SDRs').
    names = [g.name for g in small.population.segments]
    for path, hint in [
        (
            "population.segments.enterprize.share",
            f"an entry is named by its number: population.segments.{names.index('enterprise')}.share for 'enterprise'",
        ),
        (
            "population.segments.mid-market.share",
            f"an entry is named by its number: population.segments.{names.index('mid_market')}.share for 'mid_market'",
        ),
        (
            "reps.inside.count",
            f"an entry is named by its number: reps.{[g.role for g in small.reps].index('inside')}.count for 'inside'",
        ),
        ("population.segments.smb.shar", f"did you mean 'population.segments.{names.index('smb')}.share'?"),
        ("population.segments.nothing.share", "did you mean 'population.segments.*.share'?"),
    ]:
        with pytest.raises(InputError) as e:
            small.with_overrides("x", **{path: 0.5})
        assert e.value.problems == [f"x: {path}: names no field of the scenario ({hint})"]


def test_an_override_is_validated_again(small):
    with pytest.raises(InputError) as e:
        small.with_overrides("x", **{"reps.0.count": -1, "relationship.monthly_retention": "high"})
    assert e.value.problems == [
        'x: reps.0.count: Input should be greater than or equal to 0, not -1 (in the block of "full_cycle" seats)',
        "x: relationship.monthly_retention: Input should be a valid number, not 'high'",
    ]


def test_an_overridden_scenario_is_named_apart_from_its_base(small):
    two = small.with_overrides("a", quarters=2)
    three = small.with_overrides("b", quarters=3)
    assert len({small.name, two.name, three.name}) == 3
    assert two.name.startswith("small-")
    assert small.with_overrides("c", quarters=2).name == two.name  # the same changes, the same name
    assert small.with_overrides("d", quarters=2, name="short").name == "short"
    assert small.with_overrides("e") is small  # no change, no new scenario


def test_a_ramp_that_ends_at_zero_is_refused():
    # Its last value holds once a rep is ramped: with 0 nobody ever sells (a run of no hours at all).
    for ramp in ([0.0], [0.5, 0.0]):
        d = small_data()
        d["workforce"] = {"ramp": ramp}
        assert problems(d) == [
            "s.toml: workforce.ramp: the last value, which holds once a rep is ramped, must be above 0"
        ]
    d = small_data()
    d["workforce"] = {"ramp": [0.0, 1.0]}
    parse_scenario(d, "s.toml")  # a first quarter of no selling is a ramp


def test_a_population_of_buying_units_is_said_so_where_a_run_counts_its_accounts():
    small = load_scenario(SMALL)
    assert small.population.buying_units == 1 and small.population.size_words() == "5,000 accounts"
    units = small.with_overrides("test", population={**small.population.model_dump(), "buying_units": 44})
    assert units.population.size_words() == "5,000 buying units (44 an account)"


def test_a_percentage_written_for_a_share_or_a_factor_is_said_so():
    # An analyst's 22 for 22% was told how a share is written, but 3 for 3% and 2 for a win chance were told
    # only the bound, and a demand factor of 80 (for 80%) only "less than or equal to 10". 1.5 may be a slip of
    # another kind: no hint.
    d = small_data()
    d["population"]["segments"][0]["churn_per_year"] = 3
    d["population"]["segments"][1]["new_logo"]["win_probability"] = 2
    d["population"]["segments"][2]["churn_per_year"] = 150  # no percentage: no hint
    d["shocks"] = [{"kind": "demand", "quarter": 2, "factor": 80}]
    share = " (a share is written 0.2 for 20%)"
    assert problems(d) == [
        "s.toml: population.segments.0.churn_per_year: Input should be less than 1, not 3.0" + share
        + ' (in the block named "enterprise")',
        "s.toml: population.segments.1.new_logo.win_probability: Input should be less than or equal to 1, not 2.0"
        + share + ' (in the block named "mid_market")',
        "s.toml: population.segments.2.churn_per_year: Input should be less than 1, not 150.0"
        ' (in the block named "smb")',
        "s.toml: shocks.0.factor: Input should be less than or equal to 10, not 80.0 (a factor multiplies: 0.7 for 30% "
        "less, 1.3 for 30% more)",
    ]  # fmt: skip


def test_a_renewal_notice_not_shorter_than_the_term_gives_both_and_the_default():
    # An analyst's contract_term_weeks = 8 was refused by renewal_notice_weeks, a key the file never set.
    d = small_data()
    d["population"]["segments"][0]["contract_term_weeks"] = 8
    assert problems(d) == [
        "s.toml: population.segments.0.renewal_notice_weeks: must be shorter than contract_term_weeks (8 weeks, not "
        'less than 8; the notice is 8 weeks where it is not set) (in the block named "enterprise")'
    ]


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("churn_per_year = 10%", "(a share is written 0.1 for 10%, with no % sign)"),
        ("customers = 20,000", "(a number takes no thousands commas: 20000 or 20_000)"),
        ("name = acme", '(a text value is quoted: name = "acme")'),
        ("enabled = True", "(TOML writes true and false in lower case)"),  # not told to quote it
        ("x = { a = 1,\n b = 2 }", "(an inline table { ... } stays on one line: split it into a [table] instead)"),
        ("[reps]\na = 1\n[reps]", "(a list of them is written [[reps]] for each)"),
        (
            "[[population.segments]]\n[population.segments]",
            "(a list of them is written [[population.segments]] for each)",
        ),
        # A single table is declared once: an analyst told to write [[policy]] was then refused a list of them.
        ("[policy]\na = 1\n[policy]", "(declare [policy] once, merging the two)"),
        ("[workforce]\n[workforce]", "(declare [workforce] once, merging the two)"),
        ("[stress]\n[stress]", "(a list of them is written [[stress]] for each)"),  # a suite's
    ],
)
def test_a_toml_slip_says_what_to_write_instead(line, said):
    # An analyst's 10%, 20,000, unquoted name, split inline table and [reps] twice were located but never told
    # what to write instead.
    from sim.config import parse_toml

    with pytest.raises(InputError) as e:
        parse_toml(f'kind = "scenario"\n{line}\n'.encode(), "s.toml")
    (problem,) = e.value.problems
    assert problem.startswith("s.toml: TOML syntax error: ") and problem.endswith(said), problem


def test_a_misspelt_choice_is_offered_the_closest():
    # An analyst's role "fullcycle" and a researcher's design kind "morriss" got the list alone, where a misspelt
    # key, policy or metric gets a "did you mean".
    d = small_data()
    d["reps"][0]["role"] = "fullcycle"
    d["reps"][1]["role"] = "closer"  # nothing close: the list alone
    assert problems(d) == [
        "s.toml: reps.0.role: Input should be 'hunter', 'farmer', 'full_cycle', 'sdr', 'inside', 'specialist' or "
        "'partner', not 'fullcycle' (did you mean 'full_cycle'?)",
        "s.toml: reps.1.role: Input should be 'hunter', 'farmer', 'full_cycle', 'sdr', 'inside', 'specialist' or "
        "'partner', not 'closer'",
    ]


def test_a_missing_team_is_one_line():
    # An analyst's file with no [[reps]] was told "Field required" and "at least one rep with selling hours is
    # needed", one mistake twice.
    d = small_data()
    del d["reps"]
    assert problems(d) == ["s.toml: reps: Field required"]


def test_an_opportunity_rate_past_a_hundred_a_week_is_refused_and_a_flood_of_one_account_is_said():
    # Arrivals are a Poisson count a week: a rate of 1e7 a year (a slip of units) would have raised some 190,000
    # opportunities a week an account, not refused. Within the bound, an account's tail of potential can still
    # pass what the draw ids leave room for in a week: one line naming the segment and what to lower, as the run
    # starts (whatever its seed and policy), not "failed unexpectedly" in some week.
    from sim.model import CoverageModel
    from sim.policies import make_policy

    d = small_data()
    d["population"]["segments"][0]["new_logo"]["rate_per_year"] = 1e7
    assert problems(d) == [
        "s.toml: population.segments.0.new_logo.rate_per_year: Input should be less than or equal to 5200, not "
        '10000000.0 (in the block named "enterprise")'
    ]
    d["population"]["segments"][0]["new_logo"]["rate_per_year"] = 5200
    d["population"]["segments"][0].update(potential_sigma=5.0, potential_exponent=3.0, customer_share=0.0)
    with pytest.raises(InputError) as e:
        CoverageModel(parse_scenario(d, "flood"), make_policy("unstructured"), 1)
    (line,) = e.value.problems
    assert line.startswith("population.segments.0 (enterprise): an account's weekly opportunity intensity reaches ")
    assert line.endswith("more than 32,767 a week: lower its rate, potential_sigma or potential_exponent")
    # An exponent so large that an intensity is infinite is refused too (it had been drawn as one a week).
    d["population"]["segments"][0].update(
        potential_sigma=1.0, potential_exponent=1e6, new_logo=d["population"]["segments"][1]["new_logo"]
    )
    with pytest.raises(InputError, match="intensity reaches inf"):
        CoverageModel(parse_scenario(d, "infinite"), make_policy("unstructured"), 1)


def test_a_file_that_is_not_utf8_is_said_by_its_line_and_utf16_for_what_it_is():
    # An analyst's Latin-1 scenario was said "not UTF-8 text (invalid start byte at byte 110)", naming no line.
    from sim.config import parse_toml

    with pytest.raises(InputError) as e:
        parse_toml('kind = "scenario"\nname = "Acme"\ndescription = "caf\u00e9"\n'.encode("latin-1"), "s.toml")
    assert e.value.problems == [
        "s.toml: line 3: not UTF-8 text (byte 0xe9, as in a file saved as Latin-1 or Windows-1252): save it as UTF-8"
    ]
    with pytest.raises(InputError) as e:
        parse_toml('kind = "scenario"\n'.encode("utf-16"), "s.toml")
    assert e.value.problems == ["s.toml: UTF-16 text, not UTF-8: save it as UTF-8"]
    # After a byte-order mark (a review's: counted from after it, the line and byte were another's).
    with pytest.raises(InputError) as e:
        parse_toml(b"\xef\xbb\xbfa = 1\nb = 2\n\xe9\n", "s.toml")
    assert e.value.problems[0].startswith("s.toml: line 3: not UTF-8 text (byte 0xe9,")
