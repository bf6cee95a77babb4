"""The report's exports: ``results.csv`` and ``results.parquet``, the tidy results with their design points."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.experiment.report.context import ReportContext
from sim.files import atomic_write

RESULTS_CSV = "results.csv"
RESULTS_PARQUET = "results.parquet"
TIDY_COLUMNS = ["point", "policy", "replication", "seed", "quarter", "segment", "metric", "value"]


def tidy_results(ctx: ReportContext) -> pd.DataFrame:
    """Finished runs' results joined with their design point (block, row, one column per factor)."""
    return tidy_table(ctx.results, ctx.points)


def tidy_table(results: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """``results`` (``Store.results``) joined with their design ``points`` (``Store.points``): the rows of
    ``results.csv``."""
    points = points.copy()
    points["block"] = points["block"].replace("", None)
    clash = {c: f"factor_{c}" for c in points.columns if c in TIDY_COLUMNS and c != "point"}
    points = points.rename(columns=clash)
    for c in points.columns:
        if points[c].dtype == object and points[c].map(type).nunique() > 1:
            points[c] = points[c].astype(str)  # mixed types cannot be written to Parquet
    results = results if not results.empty else pd.DataFrame(columns=TIDY_COLUMNS)
    tidy = results.merge(points, on="point", how="left")
    front = ["point", *[c for c in points.columns if c != "point"]]
    return tidy[front + [c for c in TIDY_COLUMNS if c != "point"]]


def export_results(ctx: ReportContext, out_dir: Path) -> None:
    """Write the tidy results to ``out_dir`` as CSV and Parquet (pandas writes Parquet through pyarrow)."""
    tidy = tidy_results(ctx)
    atomic_write(out_dir / RESULTS_CSV, lambda p: tidy.to_csv(p, index=False))
    atomic_write(out_dir / RESULTS_PARQUET, lambda p: tidy.to_parquet(p, index=False))
