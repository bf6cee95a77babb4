"""The results area of a finished comparison on the what-if page: the answer, the two tables and the charts, as
``covsim compare`` prints them (``sim.app.layout`` holds the settings on the left and the shared styles)."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from sim.answer_layout import FINDING, SUB_FINDING
from sim.app.engine import DETAIL_METRICS, Comparison
from sim.app.glossary import glossary
from sim.app.layout import CELL, ERROR, HINT, STICKY, TABLE, UNIT
from sim.catalogue import CATALOGUE
from sim.experiment.stats import HOLM_ALONE, MIN_REPLICATIONS, holm_alone
from sim.format import counted
from sim.shocks import shock_text


def table(c: Comparison, detail: bool, id_: str) -> html.Div:
    """The results side by side: each policy's mean [95% t CI], then each paired difference against the
    baseline [Bonferroni-adjusted CI] with its Holm-adjusted p, as ``covsim compare`` prints them. A table
    wider than the panel scrolls on its own, its metric column held in place (the differences, last, were
    out of sight behind the whole panel's scroll bar)."""
    others = [p for p in c.policies if p != c.baseline]
    head = ["metric", *c.policies, *(f"{p} - {c.baseline}" for p in others)]
    header = html.Tr(
        [
            html.Th(h, style={**CELL, **(STICKY if i == 0 else {}), "textAlign": "center", "background": "#f4f4f4"})
            for i, h in enumerate(head)
        ]
    )
    body = [
        html.Tr(
            [html.Td(_metric_cell(row[0]), style={**CELL, **STICKY, "textAlign": "left"})]
            + [html.Td(cell, style=CELL, className="value") for cell in row[1:]],
            id=f"{id_}-{row[0]}",
        )
        for row in c.rows(detail)
    ]
    paired = c.detail_paired if detail else c.paired
    # The corrections' disagreement is said under the table, as compare prints it (a director read p=0.039 beside
    # an interval that includes 0 as a clear difference).
    note = [html.P(HOLM_ALONE, className="holm-alone", style=HINT)] if holm_alone(paired) else []
    drawn = html.Table([html.Thead(header), html.Tbody(body)], id=id_, style=TABLE)
    return html.Div([html.Div(drawn, style={"overflowX": "auto"}), *note])


def _metric_cell(metric: str) -> list[Any]:
    """A table's first cell: the metric's name and, under it, its unit (a director read bare 8.1M, 0.14 and 99.9
    with the units only in the glossary below)."""
    entry = CATALOGUE.get(metric)
    return [metric, *([html.Div(str(entry.unit), className="unit", style=UNIT)] if entry is not None else [])]


#: Failed runs whose error the results name, the first ones; the count says how many failed in all.
FAILURES_SHOWN = 3


def answer_block(answer: str) -> Any:
    """The answer as the terminal prints it: its first line, then each other finding as an item of a list (a
    paragraph of them had read as a wall)."""
    first, *findings = answer.split(FINDING)
    items = [html.Li(_with_parts(f.split(SUB_FINDING))) for f in findings]
    return html.Div(
        [html.P(first, style={"marginTop": "0"}), *([html.Ul(items)] if items else [])],
        id="answer",
        style={"fontSize": "15px", "maxWidth": "1000px"},
    )


def _with_parts(parts: list[str]) -> Any:
    """A finding's item: its first part, and the others as a list nested under it (the Why's pieces)."""
    first, *rest = parts
    return [first, html.Ul([html.Li(p) for p in rest])] if rest else first


def results(c: Comparison, graphs: dict[str, Any]) -> list[Any]:
    """The results area of a finished comparison: the answer, the two tables, the charts."""
    n = c.experiment.replications
    failed = []
    if c.failures:
        shown = f", the first {FAILURES_SHOWN}" if len(c.failures) > FAILURES_SHOWN else ""
        lines = "; ".join(e for _, e in c.failures[:FAILURES_SHOWN])
        failed = [html.P(f"{counted(len(c.failures), 'run')} failed{shown}: {lines}", style=ERROR)]
    # With no run finished the report's "none yet" would read as still running: every one failed.
    every_failed = len(c.failures) == n * len(c.policies)
    answer = "Answer: none: every run failed (below)." if every_failed else c.answer
    world = c.scenario
    shocks = "; ".join(shock_text(x) for x in world.shocks) or "none"
    # What reproduces the runs beside the scenario: the root seed and each policy's parameters set on the page
    # (a downloaded scenario and a compare of it gave other numbers, the seed and parameters unsaid).
    params = "; ".join(
        f"{p.key}: " + ", ".join(f"{k} = {v}" for k, v in sorted(p.params.items()))
        for p in c.experiment.policies
        if p.params
    )
    head = [
        # The sentence opens with "Answer:", as compare prints it: no heading above it says so again.
        answer_block(answer),
        *failed,
        html.Div(
            f"{len(c.policies)} policies x {counted(n, 'replication')} on {world.name} ({world.population.size_words()}, "
            f"{sum(g.count for g in world.reps):,} seats, {counted(world.quarters, 'quarter')}; "
            f"shocks: {shocks}), root seed {c.experiment.seed}"
            + (f", parameters set: {params}" if params else "")
            + f", in {c.seconds:.1f} s",
            id="run-summary",
            style=HINT,
        ),
    ]
    if every_failed:  # no table of headers only, no empty chart (a trial met both)
        return head
    return [
        *head,
        html.H4(
            # As the command line says it: with 1 or 2 replications there are no intervals (a trial read the
            # heading's intervals over cells that had none), and a cut interval is said to be cut.
            f"Means over {counted(n, 'replication')} (those a metric is defined in), "
            + (
                "95% t intervals (cut at each metric's limits; whole run, segment all); paired differences (common "
                "random numbers), Bonferroni-adjusted 95% CI and Holm-adjusted p over the comparisons shown; "
                if n >= MIN_REPLICATIONS
                else f"whole run, segment all, with no intervals or p-values: they need at least {MIN_REPLICATIONS} "
                "replications; paired differences (common random numbers); "
            )
            + "'-' is undefined for that policy (in a paired row, for it or the baseline), or an interval too few "
            "runs give",
            style={"marginBottom": "4px"},
        ),
        table(c, False, "headline"),
        html.H4(
            "Misses by cause, response time, continuity, and customers won and lost (a family of comparisons of "
            "their own)",
            style={"marginBottom": "4px"},
        ),
        table(c, True, "detail"),
        glossary([*c.experiment.metrics, *DETAIL_METRICS]),
        *[dcc.Graph(id=f"chart-{name}", figure=fig, config={"displaylogo": False}) for name, fig in graphs.items()],
    ]
