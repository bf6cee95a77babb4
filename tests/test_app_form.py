"""The what-if page's fields: a scenario and policies from them, or the command line's lines beside each field."""

from __future__ import annotations

import base64
import functools
import socket
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from sim.app import field_errors, form
from sim.app.engine import Cancelled, PolicyChoice
from sim.app.jobs import Busy, Jobs
from sim.errors import InputError
from sim.scenario import load_scenario
from tests.conftest import ROOT, SMALL

SOURCE = "scenarios/small.toml"


#: How the command line ends a line about each rep group of small.toml: by its role (beside its field, the page drops it).
BLOCKS = [
    ' (in the block of "full_cycle" seats)',
    ' (in the block of "inside" seats)',
    ' (in the block of "sdr" seats)',
]


def settings(**changes) -> form.Settings:
    """The page as it opens on the small scenario (counts 2, 2, 1; 4 quarters), with ``changes``."""
    base = {
        "counts": (2, 2, 1),
        "quarters": 4,
        "policies": ("unstructured", "segment_tiers"),
        "baseline": "unstructured",
    }
    return form.Settings(**{**base, **changes})


def problems(call) -> list[str]:
    with pytest.raises(InputError) as e:
        call()
    return e.value.problems


def upload(text: str) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(text.encode()).decode()


def test_left_as_it_opens_the_plan_is_the_file_and_covsim_compares_defaults():
    small = load_scenario(SMALL)
    plan = form.plan(small, SOURCE, settings())
    assert plan.scenario == small  # same name, same runs as covsim compare on the file
    assert plan.policies == [PolicyChoice("unstructured"), PolicyChoice("segment_tiers")]
    assert (plan.replications, plan.seed) == (form.DEFAULT_REPLICATIONS, None)


def test_team_horizon_shocks_and_parameters_reach_the_scenario_and_policies():
    small = load_scenario(SMALL)
    s = settings(
        counts=(3, 2, 0),
        quarters=6,
        attrition=form.Shock(True, 0.25, 2),
        demand=form.Shock(True, 0.7, 3),
        policies=("hunter_farmer", "unstructured", "segment_tiers"),
        baseline="segment_tiers",
        params={"segment_tiers": {"cadence_a": 3.0, "tier_a_share": 0.5}, "hunter_farmer": {"hunter_share": 0.5}},
        replications=4,
        seed=11,
    )
    plan = form.plan(small, SOURCE, s)
    assert [g.count for g in plan.scenario.reps] == [3, 2, 0]
    assert plan.scenario.quarters == 6
    assert [(x.kind, x.quarter) for x in plan.scenario.shocks] == [("rep_attrition", 2), ("demand", 3)]
    assert plan.scenario.shocks[0].share == 0.25 and plan.scenario.shocks[1].factor == 0.7
    assert plan.scenario.name.startswith("small-")  # a variant is named apart from its file
    # and says what the page changed (a downloaded file had kept "5 reps ... over 4 quarters" beside 6 quarters)
    assert plan.scenario.description == (
        f"{small.description}. Changed on the what-if page: full_cycle seats 2 -> 3, "
        "sdr seats 1 -> 0, quarters 4 -> 6, a rep attrition shock, a demand shock."
    )
    # the baseline first, then the others in the built-in order; only parameters away from their defaults
    assert plan.policies == [
        PolicyChoice("segment_tiers", {"tier_a_share": 0.5}),
        PolicyChoice("unstructured"),
        PolicyChoice("hunter_farmer", {"hunter_share": 0.5}),
    ]
    assert (plan.replications, plan.seed) == (4, 11)
    # The file Download gives holds that seed: compare on it alone makes these runs (it had kept the file's 7).
    file = form.downloaded(small, SOURCE, s)
    assert file.seed == 11 and file.quarters == 6 and file.description == plan.scenario.description
    assert form.downloaded(small, SOURCE, settings()).seed == small.seed
    # The seed alone set: a variant named apart, not the shipped scenario's name over another seed (a trial).
    only_seed = form.downloaded(small, SOURCE, settings(seed=11))
    assert only_seed.seed == 11 and only_seed.name.startswith("small-") and only_seed.quarters == small.quarters
    assert only_seed.description == f"{small.description}. Changed on the what-if page: seed 7 -> 11."


def test_every_problem_is_the_command_lines_line_and_names_its_field():
    small = load_scenario(SMALL)
    s = settings(
        counts=(-1, 2.5, None),
        quarters=0,
        attrition=form.Shock(True, 1.5, 2),
        demand=form.Shock(True, -1, None),
        policies=("unstructured", "segment_tiers"),
        params={"segment_tiers": {"cadence_a": 20, "field_segments": "nope"}},
        replications=0,
        seed=-3,
    )
    lines = problems(lambda: form.plan(small, SOURCE, s))
    assert lines == [
        f"{SOURCE}: quarters: Input should be greater than or equal to 1, not 0",
        f"{SOURCE}: reps.0.count: Input should be greater than or equal to 0, not -1" + BLOCKS[0],
        f"{SOURCE}: reps.1.count: Input should be a valid integer, not 2.5" + BLOCKS[1],
        f"{SOURCE}: reps.2.count: Input should be a valid integer" + BLOCKS[2],
        f"{SOURCE}: shocks.0.share: Input should be less than or equal to 1, not 1.5",
        f"{SOURCE}: shocks.1.quarter: Input should be a valid integer",
        f"{SOURCE}: shocks.1.factor: Input should be greater than or equal to 0, not -1.0",
        "segment_tiers.params.cadence_a: Input should be less than or equal to 13, not 20.0",
        "replications: 0 is not a whole number from 1 to 100",
        "seed: -3 is not a whole number, 0 or more (empty: the scenario's seed)",
    ]
    fields = [field_errors.field_of(line, SOURCE, len(small.shocks), s) for line in lines]
    assert fields == [
        "quarters",
        "team-0",
        "team-1",
        "team-2",
        "attrition",
        "demand",
        "demand",
        "param-segment_tiers-cadence_a",
        "replications",
        "seed",
    ]
    # Beside its field a line says the field's words, not the file's key (an analyst read "reps.0.count" beside
    # the first team field); a line no field holds keeps its file and key.
    beside, rest = field_errors.placed(lines, [*dict.fromkeys(fields)], SOURCE, len(small.shocks), s)
    assert beside == [
        "quarters: Input should be greater than or equal to 1, not 0",
        "seats: Input should be greater than or equal to 0, not -1",
        "seats: Input should be a valid integer, not 2.5",
        "seats: empty: a whole number is needed",  # an empty field, not a value of the wrong type
        "share leaving: Input should be less than or equal to 1, not 1.5",
        "quarter: empty: a whole number is needed\nopportunity rates x: Input should be greater than or equal to 0, "
        "not -1.0",
        "cadence_a: Input should be less than or equal to 13, not 20.0",
        "replications: 0 is not a whole number from 1 to 100",
        "seed: -3 is not a whole number, 0 or more (empty: the scenario's seed)",
    ]
    assert rest == ""
    empty = form.Settings(**{**vars(s), "replications": None, "seed": None})
    assert problems(lambda: form.check_run(empty)) == ["replications: empty: a whole number from 1 to 100 is needed"]
    assert field_errors.placed(lines[:1], ["seed"], SOURCE, 0, s) == ([""], lines[0])


def test_beside_its_field_a_line_drops_the_block_it_names_whichever_of_its_role() -> None:
    # Two groups of one role are named "the first/second block of ... seats"; beside the seats field, as for one.
    for block in (BLOCKS[1], ' (in the second block of "inside" seats)', ' (in the block named "west")'):
        line = f"{SOURCE}: reps.1.count: Input should be a valid integer, not 2.5{block}"
        assert field_errors.worded(line, "team-1", SOURCE) == "seats: Input should be a valid integer, not 2.5"


def test_a_mended_field_loses_its_line_at_once_and_the_line_under_the_buttons_counts_those_left():
    # An analyst mended the quarters and the red line beside them stayed until Run was pressed again.
    small = load_scenario(SMALL)
    fields = ["quarters", "replications"]
    bad = settings(quarters=0, replications=0)
    shown, _ = field_errors.checked(small, SOURCE, fields, bad)
    under = field_errors.nothing_ran(shown)
    assert under == "nothing ran: 2 problems are shown in red beside their fields on the left"
    mended = replace(bad, quarters=2)
    assert field_errors.after_change(shown, under, small, SOURCE, fields, mended) == (
        ["", "replications: 0 is not a whole number from 1 to 100"],
        "nothing ran: a problem is shown in red beside its field on the left",
    )
    # A field still wrong keeps its line, in the words its new value gets (-1 typed over as -2 had lost it).
    team = ["team-0"]
    shown_team, _ = field_errors.checked(small, SOURCE, team, settings(counts=(-1, 2, 1)))
    assert field_errors.after_change(shown_team, "", small, SOURCE, team, settings(counts=(-2, 2, 1))) == (
        ["seats: Input should be greater than or equal to 0, not -2"],
        "",
    )
    # Nothing new is said while typing: a field made wrong is said at the next Run.
    worse = replace(mended, seed=-3)
    kept = ["", shown[1], ""]
    assert field_errors.after_change(kept, "", small, SOURCE, [*fields, "seed"], worse) == (kept, "")
    assert field_errors.after_change(shown, under, small, SOURCE, fields, replace(mended, replications=3)) == (
        ["", ""],
        "",
    )


def test_a_parameter_naming_nothing_in_the_scenario_and_too_few_policies_are_refused():
    small = load_scenario(SMALL)
    s = settings(params={"segment_tiers": {"field_segments": "nope"}})
    (line,) = problems(lambda: form.plan(small, SOURCE, s))
    assert (
        line
        == "segment_tiers.params.field_segments: unknown segment 'nope' (the scenario's: enterprise, mid_market, smb)"
    )
    assert field_errors.field_of(line, SOURCE, 0, s) == "param-segment_tiers-field_segments"
    one = settings(policies=("segment_tiers",))
    assert problems(lambda: form.plan(small, SOURCE, one)) == ["policies: choose two or more policies to compare"]
    assert field_errors.field_of("policies: choose two or more policies to compare", SOURCE, 0, one) == "policies"


def test_no_seats_left_and_a_files_shock_cut_off_by_the_horizon_name_the_team_and_the_quarters():
    small = load_scenario(SMALL)
    s = settings(counts=(0, 0, 0))
    (line,) = problems(lambda: form.configure(small, SOURCE, s))
    assert line == f"{SOURCE}: reps: at least one rep with selling hours is needed"
    assert field_errors.field_of(line, SOURCE, 0, s) == "team"
    shocked = small.with_overrides("x", name="small", shocks=[{"kind": "demand", "quarter": 4, "factor": 0.5}])
    cut = settings(quarters=2)
    (line,) = problems(lambda: form.configure(shocked, SOURCE, cut))
    assert line == f"{SOURCE}: shocks.0.quarter: 4 is after the last quarter (2)"
    assert field_errors.field_of(line, SOURCE, 1, cut) == "quarters"


def test_switching_the_scenario_clears_the_errors_it_made_stale_and_keeps_those_a_run_would_write_again():
    small = load_scenario(SMALL)
    fields = ["quarters", "attrition", "replications", "team-0"]
    bad = settings(counts=(-1, 2, 1), quarters=0, attrition=form.Shock(True, 1.5, 2), replications=0)
    shown, rest = field_errors.checked(small, SOURCE, fields, bad)
    assert all(shown) and rest == ""
    # A run refused so says, under its button, where its problems are (a field may be out of sight).
    assert field_errors.nothing_ran(shown) == "nothing ran: 4 problems are shown in red beside their fields on the left"
    assert (
        field_errors.nothing_ran(["", "x: one", ""])
        == "nothing ran: a problem is shown in red beside its field on the left"
    )
    assert field_errors.nothing_ran(["", ""]) == ""
    # another shipped scenario: the fields it resets (team, quarters) hold its values
    other, source = form.load_shipped("scenarios/baseline.toml"), "scenarios/baseline.toml"
    now = replace(bad, counts=tuple(g.count for g in other.reps), quarters=other.quarters)
    after, after_rest = field_errors.after_change(shown, rest, other, source, fields, now)
    assert dict(zip(fields, after, strict=True)) == {
        "quarters": "",  # about small.toml's horizon, reset
        "attrition": "share leaving: Input should be less than or equal to 1, not 1.5",  # the field still holds it
        "replications": "replications: 0 is not a whole number from 1 to 100",  # the field still holds 0
        "team-0": "",  # small.toml's team, replaced
    }
    assert after_rest == ""
    # a parameter naming a segment the new scenario lacks too: still applies
    nope = settings(params={"segment_tiers": {"field_segments": "nope"}})
    key = ["param-segment_tiers-field_segments"]
    shown_nope, _ = field_errors.checked(small, SOURCE, key, nope)
    assert shown_nope[0].startswith("field_segments: unknown segment 'nope'")
    moved = replace(nope, counts=tuple(g.count for g in other.reps), quarters=other.quarters)
    assert field_errors.after_change(shown_nope, "", other, source, key, moved) == (shown_nope, "")
    # an upload that fails: no scenario, so nothing about one stays; a run says none is loaded
    assert field_errors.after_change(shown, "", None, "", fields, now) == ([""] * len(fields), "")
    assert field_errors.after_change([None] * 4, form.NO_SCENARIO, None, "", fields, now) == (
        [""] * 4,
        form.NO_SCENARIO,
    )
    # ... until a valid one is loaded
    assert field_errors.after_change([None] * 4, form.NO_SCENARIO, other, source, fields, now)[1] == ""
    # an error that still applies to the newly loaded file stays: mine.toml again, edited, 4 quarters still
    late = settings(demand=form.Shock(True, 0.5, 6))
    shown, _ = field_errors.checked(small, "mine.toml", ["quarters", "demand"], late)
    assert shown == ["", "quarter: 6 is after the last quarter (4)"]
    edited = form.read_upload(
        upload(SMALL.read_text(encoding="utf-8").replace("customers = 5000", "customers = 3000")), "mine.toml"
    )
    assert field_errors.after_change(shown, "", edited, "mine.toml", ["quarters", "demand"], late) == (shown, "")


def test_an_upload_that_is_no_toml_file_is_named_for_what_it_is():
    # A CRM export picked on the page had been dropped without a word (the upload accepted .toml alone).
    assert problems(lambda: form.read_upload(upload("account,revenue\nAcme,1200\n"), "accounts.csv")) == [
        "accounts.csv: not a scenario file (.toml); a CRM export is made into one with covsim calibrate "
        "(docs/scenario-format.md, section 8), and that file is uploaded here"
    ]


def test_an_upload_is_read_with_covsim_validates_lines(tmp_path):
    good = form.read_upload(upload(SMALL.read_text(encoding="utf-8")), "mine.toml")
    assert good == load_scenario(SMALL)
    text = SMALL.read_text(encoding="utf-8").replace("customers = 5000", 'customers = "5000"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    expected = subprocess.run(
        [sys.executable, "-m", "sim.cli", "validate", "bad.toml"], capture_output=True, text=True, cwd=tmp_path
    ).stderr.splitlines()
    assert [f"error: {line}" for line in problems(lambda: form.read_upload(upload(text), "bad.toml"))] == expected
    assert problems(lambda: form.read_upload(upload("name = \n"), "broken.toml"))[0].startswith(
        "broken.toml: TOML syntax error: "
    )
    for crafted in ("data:,%%%", 7, ["a"], {"a": 1}):  # the last three from a request no browser sends
        assert problems(functools.partial(form.read_upload, crafted, "x.toml")) == [
            "x.toml: cannot read: the upload is not base64 data"
        ]
    # A file covsim validate refuses for its policies (its own, a rollout's model in force) was loaded without a
    # word, its unknown parameter dropped.
    text = SMALL.read_text(encoding="utf-8") + (
        '\n[policy]\nname = "segment_tiers"\nparams = { bogus = 1 }\n'
        '[[shocks]]\nkind = "rollout"\nquarter = 2\ncurrent = { name = "nosuch" }\n'
    )
    (tmp_path / "policies.toml").write_text(text, encoding="utf-8")
    expected = subprocess.run(
        [sys.executable, "-m", "sim.cli", "validate", "policies.toml"], capture_output=True, text=True, cwd=tmp_path
    ).stderr.splitlines()
    assert len(expected) == 2
    assert [f"error: {line}" for line in problems(lambda: form.read_upload(upload(text), "policies.toml"))] == expected
    r = covsim("app", str(tmp_path / "policies.toml"))
    assert r.returncode == 2 and [line.replace(f"{tmp_path}/", "") for line in r.stderr.splitlines()] == expected


def test_shipped_scenarios_and_policy_parameters_as_fields():
    assert form.shipped_scenarios() == [
        "scenarios/baseline.toml",
        "scenarios/hunter_vs_farmer.toml",
        "scenarios/overlay.toml",
        "scenarios/small.toml",
    ]
    assert problems(lambda: form.load_shipped("scenarios/none.toml"))[0].startswith(
        "scenarios/none.toml: not a shipped"
    )
    fields = {f.name: f for f in form.param_fields("segment_tiers")}
    assert fields["accounts_per_rep"].kind == "int" and fields["accounts_per_rep"].default == 40
    assert fields["cadence_a"].kind == "float" and fields["digital_overflow"].kind == "bool"
    assert fields["answer_leads"].kind == "choice" and fields["answer_leads"].choices == ("first", "last")
    assert fields["field_segments"].kind == "text"
    assert fields["cadence_a"].description == "planned touches per quarter, tier A"


def test_one_comparison_runs_at_a_time_and_reports_its_progress_and_end():
    jobs = Jobs()

    def until_cancelled(on_run, cancelled):
        on_run(1, 2)
        while not cancelled():
            time.sleep(0.01)
        raise Cancelled

    job = jobs.start(until_cancelled)
    with pytest.raises(Busy):
        jobs.start(until_cancelled)
    assert jobs.running() is job
    jobs.cancel(job.id)
    done = jobs.wait(job.id, timeout=10)
    assert (done.state, done.finished, done.total) == ("cancelled", 1, 2)
    assert jobs.running() is None
    # A page reloaded mid-run no longer knows its job: its Cancel stops the one running.
    again = jobs.start(until_cancelled)
    jobs.cancel(None)
    assert jobs.wait(again.id, timeout=10).state == "cancelled"
    other = jobs.start(until_cancelled)  # another page's comparison
    jobs.cancel(job.id)  # a page whose own comparison ended stops nothing
    assert jobs.wait(other.id, timeout=0.3).state == "running"
    jobs.cancel(other.id)
    assert jobs.wait(other.id, timeout=10).state == "cancelled"

    def refused(on_run, cancelled):
        raise InputError(["a: one", "b: two"])

    failed = jobs.wait(jobs.start(refused).id, timeout=10)
    assert (failed.state, failed.problems, failed.result) == ("failed", ["a: one", "b: two"], None)


def covsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def test_covsim_app_refuses_a_bad_scenario_and_a_busy_port_in_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(SMALL.read_text(encoding="utf-8").replace("count = 2", "count = -2", 1), encoding="utf-8")
    r = covsim("app", str(bad))
    assert r.returncode == 2 and r.stderr.splitlines() == [
        f"error: {bad}: reps.0.count: Input should be greater than or equal to 0, not -2" + BLOCKS[0]
    ]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = covsim("app", "--port", str(port))
    assert r.returncode == 2
    assert r.stderr.startswith(f"error: --port {port}: cannot listen on 127.0.0.1:{port} (")
    assert r.stderr.rstrip().endswith("choose another with --port") and len(r.stderr.splitlines()) == 1


# ---- a user's own policy, added by its import path --------------------------

MINE = "examples.nearest_rep:NearestRep"


def test_a_user_policy_added_by_its_import_path_is_offered_and_planned_as_a_built_in_is():
    added = form.add_policy(f" {MINE} ", ())
    assert added == (MINE,)
    assert form.offered(added)[-1] == MINE and form.offered(added)[:-1] == list(form.BUILT_IN)
    assert form.add_policy(MINE, added) == added  # once only
    assert form.add_policy("segment_tiers", added) == added  # a built-in is offered already
    # its parameters as fields, from its strict Params model, as a built-in's are
    fields = {f.name: f for f in form.param_fields(MINE)}
    assert fields["cadence"].kind == "float" and fields["cadence"].default == 1.0
    assert fields["cadence"].description == "touches per quarter for the largest accounts"
    small = load_scenario(SMALL)
    s = settings(policies=(MINE, "unstructured"), baseline=MINE, added=added, params={MINE: {"cadence": 2.0}})
    assert form.plan(small, SOURCE, s).policies == [PolicyChoice(MINE, {"cadence": 2.0}), PolicyChoice("unstructured")]
    defaults = settings(policies=("unstructured", MINE), added=added, params={MINE: {"cadence": 1.0}})
    assert form.plan(small, SOURCE, defaults).policies == [PolicyChoice("unstructured"), PolicyChoice(MINE)]
    # a bad value: the command line's line, beside the parameter's field
    bad = settings(policies=("unstructured", MINE), added=added, params={MINE: {"cadence": 20.0}})
    (line,) = problems(lambda: form.plan(small, SOURCE, bad))
    assert line == f"{MINE}.params.cadence: Input should be less than or equal to 13, not 20.0"
    assert field_errors.field_of(line, SOURCE, 0, bad) == form.param_field(MINE, "cadence")
    # ticked but not added (the page forgot it): not offered, so not compared
    assert problems(lambda: form.plan(small, SOURCE, settings(policies=("unstructured", MINE)))) == [
        "policies: choose two or more policies to compare"
    ]


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (
            "no_such_module:Mine",
            "policy.name: cannot import 'no_such_module': No module named 'no_such_module' (covsim looks on the Python path, "
            "then in the folder it runs in)",
        ),
        (
            "examples.nearest_rep:Nearest",
            "policy.name: 'examples.nearest_rep' has no 'Nearest' (did you mean 'NearestRep'?)",
        ),
        (
            "examples.nearest_rep:NearestRepParams",
            "policy.name: 'examples.nearest_rep:NearestRepParams' is not a subclass of sim.policies.Policy",
        ),
        (
            "examples.nearest_rep",
            "policy.name: unknown policy 'examples.nearest_rep' (examples.nearest_rep is a module: name its policy "
            "class, examples.nearest_rep:ClassName) (built-in: ",
        ),
    ],
)
def test_a_path_that_is_not_a_policy_is_refused_in_policy_classs_one_line_and_nothing_is_added(path, line):
    from sim.policies import policy_class

    (got,) = problems(lambda: form.add_policy(path, (MINE,)))
    assert got == problems(lambda: policy_class(path))[0]
    assert got.startswith(line) and (got == line or line.endswith("(built-in: "))


def test_an_empty_policy_field_asks_for_an_import_path() -> None:
    # It had said "unknown policy ''" and listed the built-ins, which are ticked above the field.
    for path in ("", "   ", None):
        assert problems(lambda path=path: form.add_policy(path, ())) == [
            "policy.name: type your policy's import path in the field, package.module:ClassName"
        ]


def test_a_user_policy_labelled_as_one_offered_already_is_refused(tmp_path, monkeypatch):
    (tmp_path / "my_policies.py").write_text("from examples.nearest_rep import NearestRep\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert problems(lambda: form.add_policy("my_policies:NearestRep", (MINE,))) == [
        f"policy.name: 'my_policies:NearestRep' would be labelled 'nearest_rep' in the results, as {MINE!r} is"
    ]
    assert form.add_policy("my_policies:NearestRep", ()) == ("my_policies:NearestRep",)


def test_a_policy_added_after_its_scenario_is_loaded_starts_at_what_the_file_sets():
    # Loading a scenario sets its own policy's fields as its file sets them; a policy added by its path after
    # the load started at its defaults instead (1.0 and 0.01 where the file said 3.0 and 0.05), and the page's
    # comparison was not covsim compare's.
    from sim.app import layout

    own = load_scenario(SMALL).with_overrides("t", policy={"name": MINE, "params": {"cadence": 3.0, "top_share": 0.05}})

    def values(block) -> dict[str, object]:
        return {div.children[1].id["name"]: div.children[1].value for div in block.children[1:]}

    assert values(layout.params_block(MINE, True, own)) == {"cadence": 3.0, "top_share": 0.05}
    assert values(layout.params_block(MINE, True, load_scenario(SMALL))) == {"cadence": 1.0, "top_share": 0.01}
    assert values(layout.params_block(MINE, True)) == {"cadence": 1.0, "top_share": 0.01}


def test_the_scenario_line_counts_its_shocks_in_words():
    from sim.app import layout

    one = load_scenario(SMALL).with_overrides("t", shocks=[{"kind": "demand", "quarter": 2, "factor": 0.8}])
    assert layout.summary(one, "x.toml").endswith("seed 7, 1 shock of its own")  # "1 shocks of its own"
    two = one.with_overrides("t", shocks=[*[s.model_dump(mode="json") for s in one.shocks]] * 2)
    assert layout.summary(two, "x.toml").endswith("seed 7, 2 shocks of its own")
    assert layout.summary(load_scenario(SMALL), "x.toml").endswith("seed 7")


def test_the_seed_field_s_text_is_read_as_its_number_and_text_that_is_none_is_refused_in_words():
    # A browser's number field showed "1e" and sent nothing, which ran with the scenario's seed without a word.
    assert [form.seed_value(t) for t in ("", "  ", None, "12", " 7 ", "1e3", "12.0", "99999999999999999999")] == [
        None,
        None,
        None,
        12,
        7,
        1000,
        12,
        99999999999999999999,
    ]
    assert form.seed_value("12345678901234567.0") == 12345678901234567  # exactly, not through a float
    for text, shown in (
        ("1e", "'1e'"),
        ("abc", "'abc'"),
        ("-3", "-3"),
        ("2.5", "2.5"),
        ("inf", "inf"),
        ("1_000", "'1_000'"),
        ("١٢", "'١٢'"),
    ):
        assert problems(lambda text=text: form.check_run(settings(seed=form.seed_value(text)))) == [
            f"seed: {shown} is not a whole number, 0 or more (empty: the scenario's seed)"
        ]
