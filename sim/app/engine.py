"""The what-if page's comparison engine: a paired comparison planned, run and summarised as ``covsim compare`` does.

The page calls :func:`compare` and nothing else runs a model: the experiment is
``covsim compare``'s (``sim.experiment.comparison.comparison``: every policy on the
same replication seeds, the first the baseline), with the policies' parameters
the page set; the runs go to warm worker processes (``sim.experiment.pool``)
and into an in-memory store; the statistics are those of the terminal summary
(``stats.describe`` and ``stats.paired_differences`` over the headline metrics,
and the answer sentence). So, for the same scenario, policies, replications and
seed, every number the page shows is the number ``covsim compare`` prints.

A run is a pure function of what its run key hashes (the resolved scenario,
the policy, its parameters, the seed: ``sim.experiment.design.plan_runs``), so
the page keeps its finished runs in a :class:`RunCache` and a comparison runs
only those it does not hold: the ones it holds are recorded in the batch's
store first, and ``run_batch`` skips them as it skips the runs of a resumed
store. Their rows are the very ones the run gave, so the numbers are those of
a fresh comparison.
"""

from __future__ import annotations

import json
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.answer_layout import with_finding
from sim.codes import CAUSES
from sim.config import parse_toml
from sim.experiment.batch import Batch, open_batch, user_policy_fingerprints
from sim.experiment.comparison import comparison
from sim.experiment.jobs import RunOutput, RunSpec
from sim.experiment.pool import WorkerPool
from sim.experiment.report.answer import answer, units_caution
from sim.experiment.report.assumed import assumed_by_point
from sim.experiment.report.export import tidy_table
from sim.experiment.runner import BatchOutcome, package_versions, run_batch
from sim.experiment.spec import Experiment, PolicyEntry
from sim.experiment.stats import describe, paired_against, run_values
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
    # Customers won and lost: a director read the headline's fall in customers as churn, where it was fewer new
    # logos and the split churned less, and the page showed no churn.
    "new_logos",
    "churned",
    "renewal_rate",
)


#: The scenario a worker's warm-up run shrinks, by its path among the samples.
WARM_UP = "scenarios/small.toml"

#: The page's run cache holds at most this many bytes of finished runs (each kept pickled). A run of the
#: 8-quarter baseline pickles to about 90 KB (its quarterly metrics, weekly series and Lorenz curves; 45 KB for
#: the 4-quarter small world), so 64 MiB keeps some 700 such runs: the runs of the last several comparisons
#: (10 at 2 policies x 5 replications, 400 at 4 policies x the page's most of 100 replications), which is what
#: a user changing one setting at a time comes back to, while the page's process stays small over a long
#: session. The bound is on bytes rather than on a count of runs because a run's rows grow with its horizon
#: (up to 400 quarters).
CACHE_BYTES = 64 * 2**20


@dataclass(frozen=True)
class PolicyChoice:
    """A policy to compare: a built-in name (or ``package.module:ClassName``) and the parameters set on it
    (only those that differ from its defaults)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


class Cancelled(Exception):
    """A comparison stopped at the page's request; nothing of it is shown (the runs it finished stay in the
    page's :class:`RunCache`, if it was given one, for the next comparison)."""


#: A run's key in a :class:`RunCache`: its run key and the hash of its user policy's source ("" for a built-in).
CacheKey = tuple[str, str]


class RunCache:
    """The finished runs of the page's session, by what determines them; the least recently used are dropped
    first once they hold more than ``max_bytes`` (see :data:`CACHE_BYTES`).

    A run's key is its run key (``plan_runs``: the hash of the resolved
    scenario's content, the policy, its parameters and the seed; not its
    place in a design, nor a policy's label or order) and, for a user policy
    (``package.module:ClassName``), the hash of its source file, so that an
    edited policy runs again. The engine's own code is that of this process,
    the same for every entry. Only runs that finished are kept: a failed run
    is run again. Safe to use from several threads.
    """

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._runs: OrderedDict[CacheKey, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(spec: RunSpec, code: Mapping[str, str]) -> CacheKey:
        """``spec``'s key; ``code``: the hash of each user policy's source (``user_policy_fingerprints``)."""
        return spec.run_key, code.get(spec.policy, "")

    def __len__(self) -> int:
        return len(self._runs)

    @property
    def nbytes(self) -> int:
        """The bytes the kept runs take (pickled)."""
        return self._bytes

    def get(self, key: CacheKey) -> RunOutput | None:
        """The finished run under ``key`` (now the most recently used), or None."""
        with self._lock:
            data = self._runs.get(key)
            if data is None:
                return None
            self._runs.move_to_end(key)
        out: RunOutput = pickle.loads(data)
        return out

    def put(self, key: CacheKey, out: RunOutput) -> None:
        """Keep ``out`` under ``key`` if it finished (and fits in the bound on its own)."""
        if out.status != "done":
            return
        data = pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            old = self._runs.pop(key, None)
            self._bytes -= len(old) if old is not None else 0
            if len(data) > self.max_bytes:
                return
            self._runs[key] = data
            self._bytes += len(data)
            while self._bytes > self.max_bytes:
                _, dropped = self._runs.popitem(last=False)
                self._bytes -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._runs.clear()
            self._bytes = 0


@dataclass(frozen=True)
class Comparison:
    """A finished comparison: the experiment run, its tidy results and the statistics the page shows.

    ``means`` and ``paired`` are ``stats.describe`` (t intervals only, as the
    page shows) and ``stats.paired_differences`` of the headline metrics (the family
    ``covsim compare`` prints); ``detail_means`` and ``detail_paired`` the same
    over :data:`DETAIL_METRICS`, a family of their own. ``failures`` holds (run
    key, one-line error) of runs that failed; ``seconds`` is the wall time
    from planning to statistics; ``reused`` counts the runs taken from the
    page's :class:`RunCache` rather than run.
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
    reused: int = 0

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
    runs: RunCache | None = None,
) -> Comparison:
    """Run ``policies`` on ``scenario`` (named ``source`` in messages) over ``replications`` paired seeds.

    ``seed``: the root seed (None: the scenario's). Runs go to ``pool``'s
    workers (None: this process, one after another), except those ``runs``
    (the page's cache; None: none) already holds, which are reused, and each
    run that finishes is added to it. ``on_run(finished, total)`` is called
    once the runs are planned (reused runs counted as finished), then as each
    run is stored; when ``cancelled()`` turns true the comparison stops with
    :class:`Cancelled`, at once with a ``pool`` (its runs still out are
    abandoned, their workers replaced), else after the run under way. Bad
    input (a policy, a parameter that names nothing in the scenario) is an
    InputError, raised before any run.
    """
    start = time.perf_counter()
    experiment = experiment_for(scenario, source, policies, replications, seed)
    batch = open_batch(experiment, scenario, None)
    code = user_policy_fingerprints(experiment) if runs is not None else {}
    keys = {run_key: RunCache.key(spec, code) for run_key, spec in batch.specs.items()}

    def after_run(outcome: BatchOutcome, out: RunOutput) -> None:
        if runs is not None:
            runs.put(keys[out.run_key], out)
        if on_run is not None:
            on_run(outcome.skipped + outcome.done + outcome.failed, outcome.total)
        if cancelled():
            raise Cancelled

    try:
        reused = reuse(batch, runs, keys) if runs is not None else 0
        if on_run is not None:
            on_run(reused, len(batch.specs))
        outcome = run_batch(
            batch.store, batch.specs, "serial", progress=False, pool=pool, on_run=after_run, stop=cancelled
        )
        if cancelled():  # the pool stopped the batch, a run still out (one that may never end)
            raise Cancelled
        return summarise(batch, outcome.errors, start, reused)
    finally:
        batch.store.close()


def reuse(batch: Batch, runs: RunCache, keys: Mapping[str, CacheKey]) -> int:
    """Record in ``batch``'s store each of its runs that ``runs`` holds (``keys``: each run key's cache key),
    as the run itself would be recorded, so that ``run_batch`` skips it as it skips the finished runs of a
    resumed store; how many."""
    versions = None
    found = 0
    for run_key in sorted(batch.specs):
        out = runs.get(keys[run_key])
        if out is None:
            continue
        versions = versions or json.dumps(package_versions(), sort_keys=True)
        batch.store.record(out, versions)
        found += 1
    return found


def summarise(batch: Batch, failures: list[tuple[str, str]], start: float, reused: int = 0) -> Comparison:
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
        means=describe(values, bootstrap=False) if not values.empty else empty,
        paired=paired_against(values, exp.baseline_label) if not values.empty else empty,
        detail_means=describe(details, bootstrap=False) if not details.empty else empty,
        detail_paired=paired_against(details, exp.baseline_label) if not details.empty else empty,
        answer=with_finding(
            answer(
                values,
                exp.metrics,
                order,
                exp.baseline_label,
                points,
                [],
                markdown=False,
                results=results,
                rebase="the Baseline choice on this page",
                worlds=assumed_by_point(batch.scenario.model_dump(mode="json"), (), points),
            ),
            units_caution(batch.scenario.population.buying_units, len(order), str),
            markdown=False,
        ),
        failures=failures,
        seconds=time.perf_counter() - start,
        reused=reused,
    )
