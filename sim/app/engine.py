"""The what-if page's comparison engine: a paired comparison planned, run and summarised as ``covsim compare`` does.

The page calls :func:`compare` and nothing else runs a model: the experiment is
``covsim compare``'s (``sim.experiment.spec.comparison``: every policy on the
same replication seeds, the first the baseline), with the policies' parameters
the page set; the runs go to warm worker processes (``sim.experiment.pool``)
and into an in-memory store; the statistics are those of the terminal summary
(``stats.describe`` and ``stats.paired_differences`` over the headline metrics,
and the answer sentence). So, for the same scenario, policies, replications and
seed, every number the page shows is the number ``covsim compare`` prints.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.codes import CAUSES
from sim.config import parse_toml
from sim.experiment.batch import Batch, open_batch
from sim.experiment.jobs import RunSpec
from sim.experiment.pool import WorkerPool
from sim.experiment.report.answer import answer
from sim.experiment.report.export import tidy_table
from sim.experiment.runner import BatchOutcome, run_batch
from sim.experiment.spec import Experiment, PolicyEntry, comparison
from sim.experiment.stats import describe, paired_differences, run_values
from sim.policies import policy_class
from sim.sample_files import samples
from sim.scenario import Scenario, parse_scenario
from sim.tables import difference_cell, mean_cell

#: The second table's metrics, a family of its own (so the headline table's adjusted intervals stay those of
#: ``covsim compare``): misses by cause, the mean response time, and continuity of ownership.
DETAIL_METRICS: tuple[str, ...] = (
    *(f"missed_{c}" for c in CAUSES),
    "response_days_mean",
    "owner_changed_share",
    "personal_stock_lost",
)


#: The scenario a worker's warm-up run shrinks, by its path among the samples.
WARM_UP = "scenarios/small.toml"


@dataclass(frozen=True)
class PolicyChoice:
    """A policy to compare: a built-in name (or ``package.module:ClassName``) and the parameters set on it
    (only those that differ from its defaults)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


class Cancelled(Exception):
    """A comparison stopped at the page's request; the runs it finished are discarded with it."""


@dataclass(frozen=True)
class Comparison:
    """A finished comparison: the experiment run, its tidy results and the statistics the page shows.

    ``means`` and ``paired`` are ``stats.describe`` and
    ``stats.paired_differences`` of the headline metrics (the family
    ``covsim compare`` prints); ``detail_means`` and ``detail_paired`` the same
    over :data:`DETAIL_METRICS`, a family of their own. ``failures`` holds (run
    key, one-line error) of runs that failed; ``seconds`` is the wall time
    from planning to statistics.
    """

    experiment: Experiment
    scenario: Scenario
    results: pd.DataFrame
    points: pd.DataFrame
    weekly: pd.DataFrame
    lorenz: pd.DataFrame
    means: pd.DataFrame
    paired: pd.DataFrame
    detail_means: pd.DataFrame
    detail_paired: pd.DataFrame
    answer: str
    failures: list[tuple[str, str]]
    seconds: float

    @property
    def policies(self) -> list[str]:
        """Policy labels in the experiment's order, the baseline first."""
        return [p.key for p in self.experiment.policies]

    @property
    def baseline(self) -> str:
        return self.experiment.baseline_label

    def tidy_csv(self) -> str:
        """The tidy results as ``covsim compare --out`` writes them to ``results.csv``."""
        return str(tidy_table(self.results, self.points).to_csv(index=False))

    def rows(self, detail: bool = False) -> list[list[str]]:
        """The results table, one row per metric: the metric, each policy's mean and 95% t interval, then each
        other policy's paired difference against the baseline (Bonferroni-adjusted CI, Holm-adjusted p), each
        cell as the terminal's means and differences tables print it; ``-`` where there is none."""
        means, paired = (self.detail_means, self.detail_paired) if detail else (self.means, self.paired)
        metrics = DETAIL_METRICS if detail else self.experiment.metrics
        others = [p for p in self.policies if p != self.baseline]
        out = []
        for metric in metrics:
            m = means[means.metric == metric].set_index("policy") if not means.empty else means
            d = paired[paired.metric == metric].set_index("policy") if not paired.empty else paired
            if m.empty:
                continue
            cells = [mean_cell(metric, m.loc[p]) if p in m.index else "-" for p in self.policies]
            cells += [difference_cell(metric, d.loc[p]) if p in d.index else "-" for p in others]
            out.append([metric, *cells])
        return out


def experiment_for(
    scenario: Scenario, source: str, policies: Sequence[PolicyChoice], replications: int, seed: int | None = None
) -> Experiment:
    """``covsim compare``'s experiment for ``policies`` on ``scenario`` (named ``source``), with each policy's
    parameters; the first policy is the baseline. InputError for an unknown policy name."""
    base = comparison(scenario, source, [p.name for p in policies], replications, seed)
    entries = tuple(
        PolicyEntry(name=p.name, label=entry.label, params=p.params)
        for p, entry in zip(policies, base.policies, strict=True)
    )
    return Experiment(**{**dict(base), "policies": entries})


def warm_up_spec(scenario: Scenario | None = None) -> RunSpec:
    """A tiny run that loads everything a run needs in a fresh worker (imports, the numba kernel): one quarter
    of ``scenario`` (default: the shipped small one) shrunk to 200 accounts, without its shocks, under the
    no-model baseline."""
    if scenario is None:
        files = samples()
        scenario = parse_scenario(parse_toml(files[WARM_UP].read_bytes(), WARM_UP), WARM_UP)
    tiny = scenario.with_overrides("warm-up", quarters=1, **{"population.customers": 200, "shocks": []})
    return RunSpec("warm-up", json.dumps(tiny.model_dump(mode="json"), sort_keys=True), "unstructured", {}, 0)


def non_default(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` without those equal to the policy's defaults (so that a policy left as it is runs exactly
    as ``covsim compare`` runs it, under the same run keys)."""
    fields = policy_class(name).parameters()
    return {k: v for k, v in params.items() if k not in fields or fields[k].default != v}


def compare(
    scenario: Scenario,
    source: str,
    policies: Sequence[PolicyChoice],
    replications: int,
    seed: int | None = None,
    pool: WorkerPool | None = None,
    on_run: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Comparison:
    """Run ``policies`` on ``scenario`` (named ``source`` in messages) over ``replications`` paired seeds.

    ``seed``: the root seed (None: the scenario's). Runs go to ``pool``'s
    workers (None: this process, one after another). ``on_run(finished,
    total)`` is called as each run is stored; when ``cancelled()`` turns true
    the comparison stops with :class:`Cancelled`. Bad input (a policy, a
    parameter that names nothing in the scenario) is an InputError, raised
    before any run.
    """
    start = time.perf_counter()
    experiment = experiment_for(scenario, source, policies, replications, seed)
    batch = open_batch(experiment, scenario, None)

    def after_run(outcome: BatchOutcome) -> None:
        if on_run is not None:
            on_run(outcome.done + outcome.failed, outcome.total)
        if cancelled():
            raise Cancelled

    try:
        outcome = run_batch(batch.store, batch.specs, "serial", progress=False, pool=pool, on_run=after_run)
        return summarise(batch, outcome.errors, start)
    finally:
        batch.store.close()


def summarise(batch: Batch, failures: list[tuple[str, str]], start: float) -> Comparison:
    """The statistics of a finished batch, as ``covsim compare`` prints them (its one design point)."""
    exp = batch.experiment
    results = batch.store.results()
    order = [p.key for p in exp.policies]
    values = run_values(results, exp.metrics)
    details = run_values(results, DETAIL_METRICS)
    points = batch.store.points()
    empty = pd.DataFrame()
    return Comparison(
        experiment=exp,
        scenario=batch.scenario,
        results=results,
        points=points,
        weekly=batch.store.weekly(),
        lorenz=batch.store.lorenz(),
        means=describe(values) if not values.empty else empty,
        paired=paired_differences(values, exp.baseline_label) if not values.empty else empty,
        detail_means=describe(details) if not details.empty else empty,
        detail_paired=paired_differences(details, exp.baseline_label) if not details.empty else empty,
        answer=answer(values, exp.metrics, order, exp.baseline_label, points, [], markdown=False),
        failures=failures,
        seconds=time.perf_counter() - start,
    )
