"""The report's exports: ``results.csv`` and ``results.parquet``, the tidy results with their design points, and a
sampled design's ``sensitivity.csv``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.experiment.report.context import ReportContext
from sim.files import atomic_write

RESULTS_CSV = "results.csv"
RESULTS_PARQUET = "results.parquet"
SENSITIVITY_CSV = "sensitivity.csv"
#: The columns of ``sensitivity.csv``: one row per measure, comparison (a policy or ``policy - baseline``), metric and
#: factor (none for the replication noise), its value, interval (Sobol' indices) and p-value (rank correlations).
SENSITIVITY_COLUMNS = ["measure", "policy", "metric", "factor", "value", "low", "high", "p"]
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


def sensitivity_table(indices: pd.DataFrame, correlations: pd.DataFrame, noise: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``sensitivity.csv`` (``SENSITIVITY_COLUMNS``): a sampled design's Sobol' indices (measures
    ``first_order`` and ``total``), rank correlations (``spearman``) and replication noise (``noise_share``), as the
    report's tables have them but unrounded, for a researcher's own analysis (Morris designs have ``morris.csv``)."""
    parts = []
    for measure, low, high in (("first_order", "first_low", "first_high"), ("total", "total_low", "total_high")):
        if not indices.empty:
            i = indices.rename(columns={measure: "value", low: "low", high: "high"})
            parts.append(i.assign(measure=measure)[["measure", "policy", "metric", "factor", "value", "low", "high"]])
    if not correlations.empty:
        parts.append(correlations.rename(columns={"spearman": "value"}).assign(measure="spearman"))
    if not noise.empty:
        parts.append(noise.rename(columns={"noise_share": "value"}).assign(measure="noise_share", factor=""))
    if not parts:
        return pd.DataFrame(columns=SENSITIVITY_COLUMNS)
    return pd.concat(parts, ignore_index=True).reindex(columns=SENSITIVITY_COLUMNS)


def write_sensitivity_csv(table: pd.DataFrame, out_dir: Path) -> None:
    """Write ``table`` (:func:`sensitivity_table`) as ``sensitivity.csv`` in ``out_dir``."""
    atomic_write(out_dir / SENSITIVITY_CSV, lambda p: table.to_csv(p, index=False))
