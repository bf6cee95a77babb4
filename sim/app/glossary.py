"""What each metric of the what-if page's tables means, in the catalogue's words."""

from __future__ import annotations

from collections.abc import Sequence

from dash import html

from sim.catalogue import CATALOGUE, better
from sim.metric_record import WHOLE_RUN


def glossary(metrics: Sequence[str]) -> html.Details:
    """What each metric of the tables means, in the catalogue's words (a reader meets ``missed_stalled`` or
    ``rep_lottery`` there without docs/metrics.md at hand)."""
    items = []
    for m in dict.fromkeys(metrics):
        entry = CATALOGUE.get(m)
        if entry is None:  # not a metric of the catalogue (a product line's are: titled with their line)
            continue
        # As the command line's legend says it: a metric with no direction says so (it had said nothing); and
        # the run total the tables give (docs/metrics.md, section 2: a trial read a whole run's revenue by a
        # definition that says "in the quarter").
        items += [
            html.Dt(f"{m}: {entry.title}"),
            html.Dd(
                f"{entry.definition} [{entry.unit}]. {better(m).capitalize()}. In the tables: {WHOLE_RUN[entry.aggregate]}."
            ),
        ]
    return html.Details(
        [html.Summary("What each metric means"), html.Dl(items, style={"fontSize": "13px"})],
        id="glossary",
        style={"margin": "8px 0 16px 0"},
    )
