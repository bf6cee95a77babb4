"""The accounts at a run's end, one row each (``run(..., accounts=True)``): where each stands and how much of the
reps' time it had, for a researcher who asks which accounts a policy left behind (the run's other tables are
totals by segment)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.codes import Service, Status

if TYPE_CHECKING:
    from sim.model import CoverageModel

#: The columns of :func:`accounts_frame`, in order.
ACCOUNT_COLUMNS = (
    "policy",
    "seed",
    "account",
    "segment",
    "status_at_start",
    "status",
    "owner",
    "service",
    "potential",
    "spend",
    "relationship",
    "personal",
    "rep_hours",
    "last_conflict_week",
)


def accounts_frame(model: CoverageModel, status_at_start: np.ndarray) -> pd.DataFrame:
    """One row per account of ``model`` after its run (``status_at_start``: every account's status before it).

    ``account``: its index (as a policy's view numbers it); ``segment``;
    ``status_at_start`` and ``status`` (``prospect``, ``customer``,
    ``churned``); ``owner``: its seat in the last quarter's plan (-1: none);
    ``service``: ``digital``, ``pooled`` or ``high_touch`` in that plan;
    ``potential`` and ``spend``: a year's, in currency units, at the end;
    ``relationship``: the stock at the end, in touch-equivalents, and
    ``personal`` its part with the covering rep; ``rep_hours``: hours of rep
    work done on it over the run (touches, first responses and deal work);
    ``last_conflict_week``: the last week two closing reps worked it without
    coordination (-1: never).
    """
    pop, plan, rec = model.population, model.plan, model.recorder

    def named(codes: np.ndarray, names: tuple[str, ...]) -> pd.Categorical:
        return pd.Categorical.from_codes(codes.astype(np.int64), categories=list(names))

    columns = {
        "policy": model.label,
        "seed": model.seed_used,
        "account": np.arange(pop.size),
        "segment": named(pop.segment, model.scenario.segment_names),
        "status_at_start": named(status_at_start, Status.names()),
        "status": named(pop.status, Status.names()),
        "owner": plan.owner.astype(np.int64),
        "service": named(plan.service, Service.names()),
        "potential": pop.potential.copy(),
        "spend": pop.spend.copy(),
        "relationship": pop.stock.copy(),
        "personal": pop.personal.copy(),
        "rep_hours": rec.touch_hours_run.copy(),
        "last_conflict_week": rec.last_conflict.astype(np.int64),
    }
    return pd.DataFrame(columns, columns=list(ACCOUNT_COLUMNS))
