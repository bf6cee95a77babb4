"""The what-if page's callbacks (Dash): load a scenario, validate the settings, start, follow and show a comparison.

A comparison starts in the background (``sim.app.jobs``) and the page polls
its progress every quarter second, so the page stays responsive while it
runs. Bad input never starts one: each problem is written beside its field,
until a run, or a switch of scenario that makes it stale, clears it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from dash import ALL, Dash, Input, Output, Patch, State, ctx, dcc, no_update

from sim.app import charts, field_errors, form, layout, results
from sim.app.engine import RunCache, compare
from sim.app.jobs import Busy, Job, Jobs
from sim.errors import InputError
from sim.experiment.pool import WorkerPool
from sim.format import counted
from sim.scenario import Scenario, dump_scenario, parse_scenario

#: The policies' parameter fields, each ``{"type": "param", "policy": NAME, "name": PARAMETER}``.
PARAMS = {"type": "param", "policy": ALL, "name": ALL}
#: Each policy's block of parameter fields, ``{"type": "params", "policy": NAME}``, shown when it is ticked.
BLOCKS = {"type": "params", "policy": ALL}


def stored(scenario: Scenario, source: str) -> dict[str, Any]:
    """A scenario as the page keeps it in the browser: its resolved fields and the name its messages use."""
    return {"source": source, "scenario": scenario.model_dump(mode="json")}


def running_text(job: Job) -> str:
    """The progress line of a running comparison: its runs finished of all, the time so far and, once a run has
    finished, about how long the rest take at the pace so far (a director had no idea how long to wait)."""
    of = counted(job.total, "run") if job.total else "? runs"
    left = ""
    if 0 < job.finished < job.total:
        left = f", about {math.ceil(job.seconds / job.finished * (job.total - job.finished))} s left"
    return f"running: {job.finished} of {of}, {job.seconds:.1f} s{left}"


def done_text(job: Job) -> str:
    """The progress line of a finished comparison: its runs and time, and how many of them failed ("done" alone
    read as every run done well)."""
    failed = len(job.result.failures) if job.result is not None else 0
    note = f", {failed:,} of them failed (below)" if failed else ""
    return f"done: {counted(job.total, 'run')} in {job.seconds:.1f} s{note}"


def register(app: Dash, pool: WorkerPool | None, jobs: Jobs, runs: RunCache | None = None) -> None:
    """Wire the page's callbacks to ``pool`` (the warm workers; None: runs in this process), ``jobs`` and
    ``runs`` (the finished runs comparisons reuse; None: none)."""

    @app.callback(
        Output("scenario-store", "data"),
        Output("scenario-error", "children"),
        Output("scenario-summary", "children"),
        Output("team", "children"),
        Output("quarters", "value"),
        Output("seed", "placeholder"),
        Output("scenario-choice", "value"),
        # Emptied once read: the same file uploaded again (to undo edits) is a change Dash sees, where it had been
        # ignored without a word.
        Output("upload", "contents"),
        Output(PARAMS, "value"),
        Input("scenario-choice", "value"),
        Input("upload", "contents"),
        State("upload", "filename"),
        State("scenario-store", "data"),
    )
    def load(choice: str | None, contents: str | None, filename: str | None, current: dict | None) -> tuple:
        trigger = ctx.triggered_id
        unchanged = [no_update] * len(ctx.outputs_list[-1])  # the parameter fields (a wildcard output: a value each)
        try:
            if trigger == "upload":
                if not contents:
                    return (*(no_update,) * 8, unchanged)
                name = filename or "uploaded.toml"
                scenario, source, chosen = form.read_upload(contents, name), name, None
            elif choice:
                scenario, source, chosen = form.load_shipped(choice), choice, choice
            elif current:  # the scenario the page was opened with (``covsim app FILE``)
                scenario, source, chosen = (
                    parse_scenario(current["scenario"], current["source"]),
                    current["source"],
                    None,
                )
            else:
                return None, "", "", [], None, "", None, None, unchanged
        except InputError as e:
            if trigger == "upload" and current:
                # The scenario loaded before stays, and says so: an analyst's bad upload had emptied the page.
                kept = f"The upload was not loaded: {current['source']} still is."
                return no_update, "\n".join([*e.problems, kept]), *(no_update,) * 5, None, unchanged
            return None, "\n".join(e.problems), "", [], None, "", None, None, unchanged  # a run says none is loaded
        team = layout.team_inputs(scenario)
        text = layout.summary(scenario, source)
        # The policies' fields start where ``covsim compare`` starts them: the scenario's own policy as its file sets it.
        params = layout.param_values(scenario, [o["id"] for o in ctx.outputs_list[-1]])
        return stored(scenario, source), "", text, team, scenario.quarters, str(scenario.seed), chosen, None, params

    @app.callback(
        Output("baseline", "options"),
        Output("baseline", "value"),
        Output(BLOCKS, "style"),
        Input("policies", "value"),
        State("baseline", "value"),
        State("added-policies", "data"),
    )
    def choose(policies: list[str] | None, baseline: str | None, added: list[str] | None) -> tuple:
        ticked = [p for p in form.offered(added or ()) if p in (policies or [])]
        styles = [layout.params_style(o["id"]["policy"] in ticked) for o in ctx.outputs_list[2]]
        return ticked, baseline if baseline in ticked else (ticked[0] if ticked else None), styles

    @app.callback(
        Output("added-policies", "data"),
        Output("policies", "options"),
        Output("policies", "value"),
        Output("param-blocks", "children"),
        Output("policy-path", "value"),
        Output("add-policy-error", "children"),
        Input("add-policy", "n_clicks"),
        Input("policy-path", "n_submit"),
        State("policy-path", "value"),
        State("added-policies", "data"),
        State("policies", "value"),
        State("scenario-store", "data"),
        prevent_initial_call=True,
    )
    def add(
        _click: Any,
        _submit: Any,
        path: str | None,
        added: list[str] | None,
        ticked: list[str] | None,
        current: dict | None,
    ) -> tuple:
        # A policy added is offered as a built-in is, ticked, its parameters' fields shown; nothing else changes.
        before = tuple(added or ())
        try:
            now = form.add_policy(path, before)
        except InputError as e:
            return no_update, no_update, no_update, no_update, no_update, "\n".join(e.problems)
        # Its fields start as loading the scenario starts them: at what its file sets, if it is the file's policy.
        scenario = parse_scenario(current["scenario"], current["source"]) if current else None
        blocks: Any = Patch() if len(now) > len(before) else no_update
        for name in now[len(before) :]:
            blocks.append(layout.params_block(name, True, scenario))
        name = (path or "").strip()
        value = [*(ticked or []), *([name] if name not in (ticked or []) else [])]
        return list(now), layout.policy_options(now), value, blocks, "", ""

    settings_states = [
        State("scenario-store", "data"),
        State({"type": "count", "index": ALL}, "value"),
        State("quarters", "value"),
        State("attrition-on", "value"),
        State("attrition-share", "value"),
        State("attrition-quarter", "value"),
        State("demand-on", "value"),
        State("demand-factor", "value"),
        State("demand-quarter", "value"),
        State("policies", "value"),
        State("baseline", "value"),
        State(PARAMS, "value"),
        State("replications", "value"),
        State("seed", "value"),
        State("added-policies", "data"),
    ]

    params_at = next(i for i, s in enumerate(settings_states) if s.component_id == PARAMS)

    @app.callback(
        Output({"type": "error", "field": ALL}, "children"),
        Output("run-problems", "children"),
        Output("job", "data"),
        Output("tick", "disabled"),
        Output("download-scenario", "data"),
        Output("run-settings", "data"),
        Input("run", "n_clicks"),
        Input("download-scenario-button", "n_clicks"),
        *settings_states,
        prevent_initial_call=True,
    )
    def act(_run: Any, _download: Any, data: dict | None, counts: list, *values: Any) -> tuple:
        # The last output: what a comparison started runs on, for ``show`` to tell its results from the form's
        # (None: not known, a comparison followed after a reload).
        fields = [o["id"]["field"] for o in ctx.outputs_list[0]]
        if not data:
            return [""] * len(fields), form.NO_SCENARIO, no_update, no_update, no_update, no_update
        source = data["source"]
        base = parse_scenario(data["scenario"], source)
        settings = read_settings(counts, values, ctx.states_list[params_at])
        try:
            if ctx.triggered_id == "download-scenario-button":
                scenario = form.downloaded(base, source, settings)
                file = dcc.send_string(dump_scenario(scenario), f"{scenario.name}.toml")
                return [""] * len(fields), "", no_update, no_update, file, no_update
            plan = form.plan(base, source, settings)
        except InputError as e:
            beside, rest = field_errors.placed(e.problems, fields, source, len(base.shocks), settings)
            ran = ctx.triggered_id == "run"  # a refused download ran nothing either, and says only its problems
            return (
                beside,
                rest or (field_errors.nothing_ran(beside) if ran else ""),
                no_update,
                no_update,
                no_update,
                no_update,
            )

        def work(on_run: Callable[[int, int], None], cancelled: Callable[[], bool]) -> Any:
            return compare(
                plan.scenario, source, plan.policies, plan.replications, plan.seed, pool, on_run, cancelled, runs
            )

        key = form.settings_key(data, counts, *values)
        try:
            job = jobs.start(work, key)
        except Busy:
            earlier = jobs.running()
            if earlier is None:  # it ended meanwhile: run again
                return [""] * len(fields), "the earlier comparison has just ended: run again", *[no_update] * 4
            # Followed from here (Run pressed twice, or a reload, which forgets the job it started): its progress,
            # its results (the form's if its settings are), Cancel.
            busy = (
                "this comparison is already running: following it (Cancel stops it)"
                if earlier.settings == key
                else "a comparison started earlier is still running, with its own settings: following it (Cancel "
                "stops it)"
            )
            ran_on = key if earlier.settings == key else None  # None: its results say they may not be the form's
            return [""] * len(fields), busy, earlier.id, False, no_update, ran_on
        return [""] * len(fields), "", job.id, False, no_update, key

    @app.callback(
        Output({"type": "error", "field": ALL}, "children", allow_duplicate=True),
        Output("run-problems", "children", allow_duplicate=True),
        *[Input(s.component_id, s.component_property) for s in settings_states],
        State({"type": "error", "field": ALL}, "children"),
        State("run-problems", "children"),
        prevent_initial_call=True,
    )
    def rechecked(data: dict | None, counts: list, *inputs: Any) -> tuple:
        # A field mended, or another scenario loaded (its team and horizon in the fields): the lines mended or
        # about the scenario left go, those a run would write again stay (an analyst's mended field had kept
        # its red line until Run was pressed again).
        *values, shown, shown_rest = inputs
        if not any(shown) and not shown_rest:
            # A wildcard output takes a list, one per field (Dash refuses a bare no_update there).
            return [no_update] * len(ctx.outputs_list[0]), no_update
        fields = [o["id"]["field"] for o in ctx.outputs_list[0]]
        settings = read_settings(counts, tuple(values), ctx.inputs_list[params_at])
        source = data["source"] if data else ""
        base = parse_scenario(data["scenario"], source) if data else None
        return field_errors.after_change(shown, shown_rest, base, source, fields, settings)

    @app.callback(
        Output("progress", "value"),
        Output("progress", "max"),
        Output("progress-text", "children"),
        Output("tick", "disabled", allow_duplicate=True),
        Output("finished", "data"),
        Output("run-problems", "children", allow_duplicate=True),
        Input("tick", "n_intervals"),
        State("job", "data"),
        prevent_initial_call=True,
    )
    def follow(_tick: Any, job_id: str | None) -> tuple:
        # Quick by design: a reply slower than the tick would be overtaken by the next, and Dash drops
        # overtaken replies; the results are drawn once, by ``show``, when this names the finished job. A job
        # that ended takes the line "already running: following it" with it (it stayed beside "cancelled").
        job = jobs.get(job_id)
        if job is None:
            return no_update, no_update, "", True, no_update, no_update
        total = str(max(job.total, 1))
        if job.state == "running":
            text = running_text(job)
            return str(job.finished), total, text, False, no_update, no_update
        if job.state == "cancelled":
            return str(job.finished), total, "cancelled: nothing is shown", True, no_update, ""
        if job.state == "failed" or job.result is None:
            return "0", "1", "\n".join(job.problems), True, no_update, ""
        return total, total, done_text(job), True, job.id, no_update

    @app.callback(
        Output("results", "children"),
        Output("download-results-button", "disabled"),
        Output("stale", "children", allow_duplicate=True),
        Output("results", "style", allow_duplicate=True),
        Output("run-problems", "children", allow_duplicate=True),
        Input("finished", "data"),
        State("run-settings", "data"),
        *settings_states,
        prevent_initial_call=True,
    )
    def show(job_id: str | None, ran_on: str | None, data: dict | None, counts: list, *values: Any) -> tuple:
        job = jobs.get(job_id)
        if job is None or job.result is None:
            return no_update, True, no_update, no_update, no_update
        drawn = results.results(job.result, charts.figures(job.result))
        none = job.result.results.empty  # every run failed: no results to download (a header row had been)
        if ran_on is None:  # followed (a reload, or another's settings): its settings are not the form's
            return drawn, none, layout.FOLLOWED_NOTE, layout.STALE, ""
        if ran_on != form.settings_key(data, counts, *values):  # the form changed while it ran
            return drawn, none, layout.STALE_NOTE, layout.STALE, ""
        return drawn, none, "", layout.FRESH, ""

    @app.callback(
        Output("stale", "children", allow_duplicate=True),
        Output("results", "style", allow_duplicate=True),
        *[Input(s.component_id, s.component_property) for s in settings_states],
        State("finished", "data"),
        State("run-settings", "data"),
        prevent_initial_call=True,
    )
    def changed(*values: Any) -> tuple:
        # Results on screen from other settings than the form's now would be read as the form's; the form put
        # back to their settings, they are its own again (they had stayed dimmed).
        *settings, finished, ran_on = values
        if finished is None:  # no results shown yet
            return no_update, no_update
        if ran_on is not None and ran_on == form.settings_key(*settings):
            return "", layout.FRESH
        return layout.STALE_NOTE, layout.STALE

    @app.callback(Output("cancel", "n_clicks"), Input("cancel", "n_clicks"), State("job", "data"))
    def cancel(clicks: Any, job_id: str | None) -> Any:
        if clicks:
            jobs.cancel(job_id)
        return no_update

    @app.callback(
        Output("download-results", "data"),
        Input("download-results-button", "n_clicks"),
        State("finished", "data"),  # the comparison drawn, not a later one cancelled or failed
        prevent_initial_call=True,
    )
    def download_results(_clicks: Any, job_id: str | None) -> Any:
        job = jobs.get(job_id)
        if job is None or job.result is None:
            return no_update
        c = job.result
        return dcc.send_string(c.tidy_csv(), f"{c.scenario.name}-results.csv")


def read_settings(counts: list, values: tuple, param_states: list[dict]) -> form.Settings:
    """The page's fields as :class:`form.Settings` (``values``: the settings states after the counts)."""
    quarters, a_on, a_share, a_quarter, d_on, d_factor, d_quarter, policies, baseline, params, reps, seed, added = (
        values
    )
    added = tuple(added or ())
    kinds = {(p, f.name): f.kind for p in form.offered(added) for f in form.param_fields(p)}
    by_policy: dict[str, dict[str, Any]] = {}
    for state, value in zip(param_states, params, strict=True):
        policy, name = state["id"]["policy"], state["id"]["name"]
        kind = kinds.get((policy, name))
        by_policy.setdefault(policy, {})[name] = "on" in (value or []) if kind == "bool" else value
    return form.Settings(
        counts=tuple(counts),
        quarters=quarters,
        attrition=form.Shock("on" in (a_on or []), a_share, a_quarter),
        demand=form.Shock("on" in (d_on or []), d_factor, d_quarter),
        policies=tuple(policies or ()),
        baseline=baseline or "",
        params=by_policy,
        replications=reps,
        seed=form.seed_value(seed),
        added=added,
    )
