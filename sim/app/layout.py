"""The what-if page's layout (Dash components): the settings on the left, and the place of the results on the
right (``sim.app.results`` draws them).

Every field that can hold bad input has an error line beside it, a
``html.Div`` with the id ``{"type": "error", "field": KEY}`` (keys from
``sim.app.form``); the callbacks fill them. Ids are plain strings where the
field is fixed, so a browser test finds each one by its id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import dcc, html

from sim.app import form
from sim.format import counted
from sim.policies import BUILT_IN, policy_class
from sim.policies.protocol import policy_summary
from sim.scenario import Scenario

#: The policies ticked when the page opens: the no-model baseline and the segment model.
DEFAULT_POLICIES = ["unstructured", "segment_tiers"]

LABEL = {"display": "block", "fontWeight": 600, "marginTop": "10px"}
HINT = {"color": "#666", "fontSize": "12px"}
UNIT = {"color": "#888", "fontSize": "11px"}
NUMBER = {"width": "80px", "marginRight": "8px"}
INLINE = {"display": "inline-block", "width": "190px", "fontWeight": 600}
ERROR = {"color": "#b00020", "fontSize": "13px", "whiteSpace": "pre-wrap"}
SECTION = {"borderTop": "1px solid #ddd", "paddingTop": "6px", "marginTop": "10px"}
#: Separate borders, as a sticky cell keeps only its own; each cell draws its right and bottom lines, the
#: table its top and the first column its left, so that neighbours share one line, not two.
TABLE = {
    "borderCollapse": "separate",
    "borderSpacing": "0",
    "borderTop": "1px solid #ddd",
    "fontSize": "13px",
    "marginBottom": "14px",
}
#: Each column scrolls on its own, so the results stay in view beside a long list of settings.
SCROLL = {"overflowY": "auto", "height": "100%"}
CELL = {
    "borderRight": "1px solid #ddd",
    "borderBottom": "1px solid #ddd",
    "padding": "3px 8px",
    "textAlign": "right",
    "whiteSpace": "nowrap",
}
#: A table's first column, held in place while the rest scrolls sideways.
STICKY = {"position": "sticky", "left": "0", "background": "#fff", "zIndex": "1", "borderLeft": "1px solid #ddd"}


def error(key: str) -> html.Div:
    """The error line of field ``key``."""
    return html.Div(id={"type": "error", "field": key}, style=ERROR, className="field-error")


def number(id_: Any, value: Any, placeholder: str = "") -> dcc.Input:
    return dcc.Input(id=id_, type="number", value=value, placeholder=placeholder, style=NUMBER, debounce=False)


def page(scenario_options: list[str], initial: str | None, kept: dict[str, Any] | None = None) -> html.Div:
    """The whole page; ``initial`` is the shipped scenario chosen when it opens, or None and ``kept`` the
    scenario it opens with (as ``callbacks.stored`` keeps it)."""
    settings = html.Div(
        style={"width": "440px", "flex": "none", "paddingRight": "14px", "borderRight": "1px solid #ddd", **SCROLL},
        children=[
            html.H3("Scenario", style={"margin": "0 0 4px 0"}),
            dcc.RadioItems(id="scenario-choice", options=scenario_options, value=initial),
            dcc.Upload(
                id="upload",
                # No ``accept``: a file it refused (a CRM export's .csv) was dropped without a word; read_upload says why.
                children=html.Button("Upload a scenario file (.toml) ..."),
                max_size=-1,
                style={"marginTop": "6px"},
            ),
            html.Div("any valid scenario, one covsim calibrate wrote from a CRM export too", style=HINT),
            html.Div(id="scenario-error", style=ERROR, className="field-error"),
            html.Div(id="scenario-summary", style={**HINT, "marginTop": "6px"}),
            error(form.SCENARIO),
            html.Div(style=SECTION, children=[html.H3("Team", style={"margin": "0"}), html.Div(id="team")]),
            error(form.TEAM),
            html.Div(
                style=SECTION,
                children=[
                    html.Div([html.Span("Quarters simulated ", style=INLINE), number("quarters", None)]),
                    error(form.QUARTERS),
                    html.Div(
                        [
                            html.Span("Replications per policy ", style=INLINE),
                            number("replications", form.DEFAULT_REPLICATIONS),
                        ]
                    ),
                    error(form.REPLICATIONS),
                    html.Div(
                        [
                            html.Span("Root seed ", style=INLINE),
                            # Text, not a number field: a browser's number field shows "1e" and sends nothing, which
                            # read as empty, the scenario's seed, without a word (form.seed_value reads the text).
                            dcc.Input(id="seed", type="text", inputMode="numeric", style=NUMBER, debounce=False),
                            html.Span("empty: the scenario's", style=HINT),
                        ]
                    ),
                    error(form.SEED),
                ],
            ),
            html.Div(style=SECTION, children=policy_fields()),
            html.Div(style=SECTION, children=[html.H3("Shocks", style={"margin": "0"}), *shock_fields()]),
        ],
    )
    actions = html.Div(
        style={"display": "flex", "gap": "8px", "flexWrap": "wrap", "alignItems": "center"},
        children=[
            html.Button("Run comparison", id="run", style={"fontWeight": 700}),
            html.Button("Cancel", id="cancel"),
            html.Button("Download scenario (.toml)", id="download-scenario-button"),
            html.Button("Download results (.csv)", id="download-results-button", disabled=True),
            html.Progress(id="progress", value="0", max="1", style={"width": "220px"}),
            html.Span(id="progress-text", style=HINT),
        ],
    )
    results = html.Div(
        style={"flex": "1", "paddingLeft": "18px", "minWidth": "0", **SCROLL},
        children=[
            actions,
            html.Div(id="run-problems", style=ERROR, className="field-error"),
            html.Div(id="stale", style={**HINT, "color": "#8a5a00"}),
            html.Div(
                id="results",
                style=FRESH,
                # Said so that it is true while a first comparison runs too (it read "Set up a comparison on the
                # left and run it." beside "running: 10 of 24 runs").
                children=html.P(
                    "The results show here once a comparison has run: set one up on the left and press Run comparison.",
                    style=HINT,
                ),
            ),
        ],
    )
    return html.Div(
        style={"fontFamily": "system-ui, sans-serif", "margin": "12px 18px"},
        children=[
            html.H2("covsim: what-if page", style={"margin": "0 0 4px 0"}),
            html.Div(
                "Compare coverage models on one scenario: every policy runs on the same random numbers "
                "(replication r of each policy sees the same world), and the differences are paired.",
                style=HINT,
            ),
            html.Div(
                style={"display": "flex", "marginTop": "10px", "height": "calc(100vh - 80px)"},
                children=[settings, results],
            ),
            dcc.Store(id="scenario-store", data=kept),
            dcc.Store(id="job"),
            dcc.Store(id="finished"),
            dcc.Store(id="run-settings"),
            dcc.Interval(id="tick", interval=250, disabled=True),
            dcc.Download(id="download-scenario"),
            dcc.Download(id="download-results"),
        ],
    )


def shock_fields() -> list[Any]:
    """Rep attrition (share of filled seats, quarter) and a demand shock (factor, quarter), both off at first."""
    return [
        dcc.Checklist(id="attrition-on", options=[{"label": " rep attrition", "value": "on"}], value=[]),
        html.Div(
            [
                html.Span("share leaving ", style=HINT),
                number("attrition-share", 0.2),
                html.Span("at quarter ", style=HINT),
                number("attrition-quarter", 2),
            ]
        ),
        error(form.ATTRITION),
        dcc.Checklist(id="demand-on", options=[{"label": " demand shock", "value": "on"}], value=[]),
        html.Div(
            [
                html.Span("opportunity rates x ", style=HINT),
                number("demand-factor", 0.7),
                html.Span("from quarter ", style=HINT),
                number("demand-quarter", 3),
            ]
        ),
        error(form.DEMAND),
    ]


def policy_fields() -> list[Any]:
    """The policies to compare, the baseline among them, each policy's parameters (shown when ticked), and a
    field to add a user policy by its import path."""
    return [
        html.H3("Policies to compare", style={"margin": "0"}),
        dcc.Checklist(id="policies", options=policy_options(()), value=DEFAULT_POLICIES, inline=True),
        error(form.POLICIES),
        html.Div(
            style={"marginTop": "6px"},
            children=[
                dcc.Input(
                    id="policy-path",
                    type="text",
                    placeholder="package.module:ClassName",
                    style={"width": "260px", "marginRight": "8px"},
                ),
                html.Button("Add policy", id="add-policy"),
                html.Div("your own policy, by its import path from the folder covsim app runs in", style=HINT),
                html.Div(id="add-policy-error", style=ERROR, className="field-error"),
            ],
        ),
        dcc.Store(id="added-policies", data=[]),
        html.Label("Baseline (the others are compared with it)", style=LABEL),
        dcc.RadioItems(id="baseline", options=DEFAULT_POLICIES, value=DEFAULT_POLICIES[0], inline=True),
        html.Div(id="param-blocks", children=[params_block(name, name in DEFAULT_POLICIES) for name in BUILT_IN]),
    ]


def policy_options(added: Sequence[str]) -> list[dict[str, Any]]:
    """The policies offered (``form.offered``), each labelled by its name or import path, its docstring's first
    paragraph as the tooltip."""
    return [
        {
            "label": html.Span(f" {name}", title=policy_summary(policy_class(name))),
            "value": name,
        }
        for name in form.offered(added)
    ]


def params_block(policy: str, shown: bool, scenario: Scenario | None = None) -> html.Details:
    """A policy's parameter fields under one heading (``{"type": "params", "policy": NAME}``), shown or not, each
    at its default, or at what ``scenario``'s file sets if it is the scenario's own policy (:func:`param_values`)."""
    fields = form.param_fields(policy)
    values = param_values(scenario, [{"policy": policy, "name": f.name} for f in fields])
    return html.Details(
        id={"type": "params", "policy": policy},
        style=params_style(shown),
        children=[
            html.Summary(f"{policy} parameters"),
            *[param_input(policy, f, v) for f, v in zip(fields, values, strict=True)],
        ],
    )


def params_style(shown: bool) -> dict[str, str]:
    return {"display": "block" if shown else "none", "marginTop": "4px"}


def param_input(policy: str, f: form.ParamField, value: Any) -> html.Div:
    """One parameter's field, ``value`` (as :func:`param_value` gives it) in place, its description as the
    hint."""
    id_ = {"type": "param", "policy": policy, "name": f.name}
    field: Any
    if f.kind == "bool":
        field = dcc.Checklist(id=id_, options=[{"label": " on", "value": "on"}], value=value)
    elif f.kind == "choice":
        field = dcc.RadioItems(id=id_, options=list(f.choices), value=value, inline=True)
    elif f.kind in ("int", "float"):
        field = number(id_, value)
    else:
        field = dcc.Input(id=id_, type="text", value=value, style={"width": "200px"})
    return html.Div(
        style={"marginLeft": "12px"},
        children=[
            html.Label(f.name, style={**LABEL, "fontWeight": 500, "marginTop": "4px"}),
            field,
            html.Div(f.description, style=HINT),
            error(form.param_field(policy, f.name)),
        ],
    )


def param_value(f: form.ParamField, value: Any) -> Any:
    """What parameter ``f``'s field holds for ``value``: a tick list for a switch, text for a choice or text."""
    if f.kind == "bool":
        return ["on"] if value else []
    return value if f.kind in ("int", "float") else str(value)


def param_values(scenario: Scenario | None, ids: list[dict[str, Any]]) -> list[Any]:
    """The values of the parameter fields ``ids`` (``{"policy": NAME, "name": PARAMETER}``) for ``scenario``: its
    own policy's (``[policy]``) as its file sets them, every other its default, as ``covsim compare`` gives them
    (with no scenario, every one its default)."""
    own = scenario.policy.params if scenario is not None else {}
    fields = {(p, f.name): f for p in {i["policy"] for i in ids} for f in form.param_fields(p)}
    values = []
    for i in ids:
        f = fields[i["policy"], i["name"]]
        given = scenario is not None and i["policy"] == scenario.policy.name and f.name in own
        values.append(param_value(f, own[f.name] if given else f.default))
    return values


def team_inputs(scenario: Scenario) -> list[Any]:
    """A head-count field per rep group of ``scenario`` (``reps.<i>.count``), named by role, region and line."""
    rows = []
    for i, g in enumerate(scenario.reps):
        extra = ", ".join(x for x in (g.region and f"region {g.region}", g.line and f"line {g.line}") if x)
        name = g.role.replace("_", " ") + (f" ({extra})" if extra else "")
        rows.append(
            html.Div(
                children=[
                    html.Span(f"{name} ", style={**INLINE, "fontWeight": 400}),
                    number({"type": "count", "index": i}, g.count),
                    html.Span(f"seats, {g.weekly_hours:g} h a week", style=HINT),
                    error(form.team_field(i)),
                ],
                style={"marginTop": "4px"},
            )
        )
    return rows


def summary(scenario: Scenario, source: str) -> str:
    """One line on the scenario chosen, as its file has it (the team's fields below change the run's): where
    from, accounts, seats, quarters, seed, the file's own shocks."""
    seats = sum(g.count for g in scenario.reps)
    shocks = f", {counted(len(scenario.shocks), 'shock')} of its own" if scenario.shocks else ""
    return (
        # "in the file": an analyst read this line's 5 seats as the run's after setting 9 in the fields.
        f"{source}: {scenario.name}, {scenario.population.size_words()}, {seats:,} seats in the file, "
        f"{counted(scenario.quarters, 'quarter')}, seed {scenario.seed}{shocks}"
    )


#: The results' style: as drawn, and dimmed once the form's settings are no longer those they came from.
FRESH: dict[str, str] = {"marginTop": "10px"}
STALE: dict[str, str] = {**FRESH, "opacity": "0.45"}
STALE_NOTE = "The settings changed since these results were made: run the comparison again to see theirs."
FOLLOWED_NOTE = (
    "These results are from a comparison started earlier, with its own settings (they may not be the form's): "
    "run the comparison again to see the form's."
)
