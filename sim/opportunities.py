"""Open opportunities: a struct of arrays holding only what is still open.

Closed opportunities leave the book the week they close; what they were is kept
in the recorder's tallies, so the book stays small however long the run.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

# Stages of an open opportunity.
AWAITING_RESPONSE, IN_WORK = 0, 1

# Why an opportunity was missed: exactly one cause each.
NO_OWNER, OWNER_AT_CAPACITY, VACANCY, SLA_EXPIRED, STALLED = range(5)
CAUSES = ("no_owner", "owner_at_capacity", "vacancy", "sla_expired", "stalled")

# Purposes of keyed draws for an opportunity (see sim.randomness.keyed_uniform).
DRAW_KIND, DRAW_DAY, DRAW_CAPTURE, DRAW_WIN, DRAW_VALUE, DRAW_RENEWAL_CHURN = range(6)


@dataclass
class OpportunityBook:
    """Open opportunities, one entry per opportunity.

    key: customer * weeks + arrival week (unique: at most one arrival per
    customer-week), names its keyed random draws; day: arrival in business days
    since week 0; sla_deadline: last business day a first response counts;
    effort_left, chunk: hours still needed and hours asked for per week;
    work_deadline: last week the effort may be delivered before it stalls;
    handler: seat working it (-1 none); responded: week of the first
    response (-1 before); blocked: the cause it would be missed
    for if its response window closed now.
    """

    key: np.ndarray
    customer: np.ndarray
    segment: np.ndarray
    kind: np.ndarray
    stage: np.ndarray
    digital: np.ndarray
    day: np.ndarray
    sla_deadline: np.ndarray
    effort_left: np.ndarray
    chunk: np.ndarray
    work_deadline: np.ndarray
    handler: np.ndarray
    blocked: np.ndarray
    expected_value: np.ndarray
    responded: np.ndarray

    @classmethod
    def empty(cls) -> OpportunityBook:
        dtypes = {
            "key": np.int64,
            "customer": np.int64,
            "segment": np.int8,
            "kind": np.int8,
            "stage": np.int8,
            "digital": bool,
            "day": np.float64,
            "sla_deadline": np.float64,
            "effort_left": np.float64,
            "chunk": np.float64,
            "work_deadline": np.int64,
            "handler": np.int64,
            "blocked": np.int8,
            "expected_value": np.float64,
            "responded": np.int64,
        }
        return cls(**{name: np.empty(0, dtype=dt) for name, dt in dtypes.items()})

    def __len__(self) -> int:
        return int(self.key.size)

    def add(self, **columns: np.ndarray) -> None:
        """Append new opportunities; every column must be given."""
        for f in fields(self):
            old = getattr(self, f.name)
            setattr(self, f.name, np.concatenate([old, np.asarray(columns[f.name], dtype=old.dtype)]))

    def keep(self, mask: np.ndarray) -> None:
        """Drop the opportunities where ``mask`` is False (they have closed)."""
        idx = np.flatnonzero(mask)  # taking by index is about twice as fast as by mask, per column
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name).take(idx))
