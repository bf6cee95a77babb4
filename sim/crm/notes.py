"""Notes: the lines cleaning and calibration write about the data, and the report a cleaning keeps.

A note says what was fixed, inferred or set aside, and why, with counts; the
helpers here name what it is about (accounts, stages, rows), shortened to a few
items.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Report:
    """What one cleaning did: its notes, in order, and the rows it set aside by reason."""

    notes: list[str] = field(default_factory=list)
    set_aside: dict[str, int] = field(default_factory=dict)

    def note(self, *texts: str) -> None:
        """Add notes, in order."""
        self.notes.extend(texts)

    def set_aside_rows(self, reason: str, rows: int) -> None:
        """Record that ``rows`` rows were set aside for ``reason`` (a key of ``Cleaned.set_aside``)."""
        self.set_aside[reason] = rows


def name_list(items: Sequence[str], limit: int = 8) -> str:
    """The first ``limit`` items, comma-separated, and how many more there are."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def count_list(counter: Mapping[str, int]) -> str:
    """Each name with its count ("Won 4,238"), most frequent first (ties by name), comma-separated."""
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def row_list(frame: pd.DataFrame, limit: int = 8) -> str:
    """The spreadsheet row numbers (column ``row``) of a frame's first ``limit`` rows, and how many more."""
    rows = [str(r) for r in frame["row"]]
    return name_list(rows, limit)


def rows_named(frame: pd.DataFrame) -> str:
    """``row 3`` or ``rows 3, 5, ...``: :func:`row_list` with its noun, singular for one row."""
    return f"row{'' if len(frame) == 1 else 's'} {row_list(frame)}"
