"""What the report reads from the store: the experiment, its scenario, results, design points and ledger.

Everything comes from the store (and ``manifest.json`` beside it when present),
so the same store always gives the same report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.experiment.batch import MANIFEST
from sim.experiment.design import unread_rows
from sim.experiment.report.markdown import value_text
from sim.experiment.spec import Experiment
from sim.experiment.stats import absent_metrics
from sim.experiment.store import Store
from sim.policies import make_policy, policy_class, policy_notes
from sim.scenario import Scenario, parse_scenario


@dataclass
class ReportContext:
    """Everything the report is built from, with each policy's colour in every figure."""

    experiment: Experiment
    scenario: dict[str, Any]  # the resolved scenario as stored
    results: pd.DataFrame  # tidy results of finished runs
    points: pd.DataFrame  # design points: point, block, row, one column per factor
    cells: pd.DataFrame  # the ledger: one row per cell with its run's status, error and seconds
    weekly: pd.DataFrame
    lorenz: pd.DataFrame
    manifest: dict[str, Any] | None
    config_hash: str | None
    replications_held: int = 0  # replications the store holds finished runs of (more than asked: the first used)
    design_rows_held: int = 0  # likewise a Sobol' design's base sample rows, a Morris design's trajectories
    policies: list[str] = field(default_factory=list)  # policy labels, in the experiment's order
    factors: list[str] = field(default_factory=list)
    colours: dict[str, str] = field(default_factory=dict)  # policy label -> hex colour

    @property
    def rows_unread(self) -> str:
        """The store's runs of a larger design than this report reads, and what to ask for (``unread_rows``)."""
        return unread_rows(self.experiment, self.design_rows_held)

    @property
    def baseline(self) -> str:
        return self.experiment.baseline_label

    @property
    def metrics(self) -> list[str]:
        """The headline metrics that have a value in the runs (all of them before any run finished), in the
        experiment's order."""
        return [m for m in self.experiment.metrics if m not in self.absent_metrics]

    @cached_property
    def absent_metrics(self) -> list[str]:
        """The headline metrics no finished run has (a role's, a line's or a channel's the runs do not have)."""
        return absent_metrics(self.experiment.metrics, self.results)

    @property
    def first_point(self) -> int:
        """The design point the single-point tables and figures show: the first with results."""
        return int(self.results["point"].min()) if not self.results.empty else int(self.points["point"].min())

    @cached_property
    def base_scenario(self) -> Scenario:
        """The stored scenario, parsed once."""
        return parse_scenario(self.scenario, "the stored scenario")

    def policy_notes(self, index: int) -> list[str]:
        """What policy ``index``'s parameters make of the scenario (``Policy.notes``: how many seats hunt, say),
        with one design point only (a factor may change what they make at each); none for a user policy this
        process cannot load."""
        if self.experiment.factors or self.experiment.suite:
            return []
        entry = self.experiment.policies[index]
        try:
            return policy_notes(make_policy(entry.name, entry.params), self.base_scenario)
        except InputError:
            return []

    @staticmethod
    def parameters_of(name: str) -> set[str]:
        """The parameters of policy ``name``; none for a user policy this process cannot load."""
        try:
            return set(policy_class(name).parameters())
        except InputError:
            return set()

    def point_label(self, point: int) -> str:
        """The factor values of a design point (``demand = 0.8, attrition = 0.2``); empty without factors."""
        if not self.factors:
            return ""
        row = self.points.set_index("point").loc[point]
        return ", ".join(f"{f} = {value_text(row[f])}" for f in self.factors)


def load_context(store: Store, out_dir: Path) -> ReportContext:
    """Read everything the report needs from ``store`` and ``out_dir/manifest.json``."""
    raw = store.meta("experiment")
    if raw is None:
        raise InputError([f"{out_dir}: the store records no experiment; rerun the batch"])
    experiment = Experiment.model_validate_json(raw)
    scenario = json.loads(store.meta("scenario") or "{}")
    manifest = None
    path = out_dir / MANIFEST
    if path.exists():
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = None  # a damaged manifest only costs the reproducibility section
    cells = store.frame(
        "SELECT c.point, c.policy, c.replication, c.run_key, r.status, r.error, r.seconds "
        "FROM cells c JOIN runs r ON r.run_key = c.run_key ORDER BY c.point, c.policy, c.replication"
    )
    ctx = ReportContext(
        experiment=experiment,
        scenario=scenario,
        results=store.results(),
        points=store.points(),
        cells=cells,
        weekly=store.weekly(),
        lorenz=store.lorenz(),
        manifest=manifest,
        config_hash=store.meta("config_hash") or store.meta("experiment_hash"),
        replications_held=int(store.meta("replications_held") or 0),
        design_rows_held=int(store.meta("design_rows_held") or 0),
    )
    ctx.policies = [p.key for p in experiment.policies]
    ctx.factors = [f.name for f in experiment.factors]
    palette = matplotlib.colormaps["tab10"](np.arange(10))
    ctx.colours = {p: matplotlib.colors.to_hex(palette[i % len(palette)]) for i, p in enumerate(ctx.policies)}
    return ctx
