"""Open a planned experiment on its store and run what is not yet stored."""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import sys
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sim.errors import FailedRuns, InputError
from sim.experiment.design import plan_runs, replication_seeds
from sim.experiment.jobs import RunSpec
from sim.experiment.runner import BatchOutcome, Executor, git_commit, package_versions, run_batch
from sim.experiment.spec import Experiment, content_hash
from sim.experiment.store import Store
from sim.files import atomic_write_text
from sim.format import counted
from sim.policies import policy_class
from sim.scenario import Scenario

MANIFEST = "manifest.json"


@dataclass
class Batch:
    """A planned experiment bound to its store."""

    experiment: Experiment
    scenario: Scenario
    store: Store
    specs: dict[str, RunSpec]
    cells: int
    replications_stored: int  # replications the store held finished runs of before this plan (0: none)

    def __repr__(self) -> str:
        # Short: each run's spec holds its whole scenario, and a notebook cell showing a batch printed tens of kB.
        where = self.store.folder or "memory"
        return (
            f"Batch({self.experiment.name!r}: {self.cells:,} cells, {len(self.specs):,} distinct runs, store in "
            f"{where})"
        )


def experiment_hash(experiment: Experiment, scenario: Scenario, identity: dict[str, object] | None = None) -> str:
    """What an experiment's results are a function of: the experiment, its scenario, the engine's code and
    the code of any user policy it runs (the manifest's and the report's config hash, which counts the
    replications, the headline metrics and the policies' order that the store's identity leaves out);
    ``identity``: those inputs
    (``_identity``) when they have been read already."""
    identity = _identity(experiment, scenario) if identity is None else identity
    reported = {
        "replications": experiment.replications,
        "metrics": list(experiment.metrics),
        "trajectories": experiment.design.morris_trajectories if experiment.design.kind == "morris" else None,
    }
    order = {"policies": [p.key for p in experiment.policies], "baseline": experiment.baseline_label}
    return content_hash({**identity, **reported, "order": order})


#: What a reader calls each input of a store's identity (``_identity``'s keys but the experiment, which is named
#: key by key, ``EXPERIMENT_NAMES``, and the user policies, file by file: ``user_policy_parts``), in a refusal
#: that names the ones that changed.
IDENTITY_NAMES = {
    "scenario": "the scenario",
    "engine": "covsim's code",
}

#: What a reader calls each key of the experiment in such a refusal: a compare or a stress test has no experiment
#: file of its own, and "the experiment file changed" did not say that other policies were given.
EXPERIMENT_NAMES = {
    "policies": "the policies or their parameters",
    "suite": "the stress suite",
    "baseline": "the baseline",
    "factors": "the factors",
    "design": "the design",
    "shocks": "the shocks",
    "seed": "the seed",
}


def _identity(
    experiment: Experiment, scenario: Scenario, files: dict[str, list[tuple[str, str]]] | None = None
) -> dict[str, object]:
    """What a store's runs are a function of: ``experiment_hash``'s inputs but the number of replications,
    since replication ``r``'s seed does not depend on it (``replication_seeds``): a store opened with more
    replications keeps the runs it holds and makes only the new ones, and with fewer uses the first ones; but
    the headline metrics, the name and the descriptions (the experiment's, each stress's), which a run does not
    depend on (it stores every metric), so that another choice of them reports on the stored runs (a reworded
    stress had asked a researcher to discard 240 runs); and but the order of the policies and which is the baseline, which no run
    depends on either (every policy runs on the same seeds), so that the same policies, another first,
    report on the stored runs (as the answer, naming a better policy, tells a reader to rerun); and but a Morris
    design's number of trajectories, since they are drawn in turn from the seed (``morris.trajectory_levels``):
    a store opened with more keeps the trajectories it holds and runs only the new ones; and but a Sobol' design's
    base sample, since a scrambled Sobol' sequence drawn from the seed begins with the points of a smaller one:
    a store opened with the base sample doubled keeps the runs of the rows it holds (a researcher's 640 runs at
    N = 32 had been refused at N = 64)."""
    plan = experiment.model_dump(mode="json")
    # The horizon is the resolved scenario's (its quarters): --quarters 4 on a scenario of 4 quarters makes the
    # same runs as none, and was refused as "a different experiment" naming nothing. No run reads the description.
    del plan["replications"], plan["metrics"], plan["baseline"], plan["quarters"], plan["description"], plan["name"]
    # Nor the scenario file's path: its content is the identity's (a researcher's absolute path to the same file
    # had been refused as "the scenario file's path changed since its runs").
    del plan["scenario"]
    for stress in plan["suite"]:
        del stress["description"]
    if plan["design"]["kind"] == "morris":
        del plan["design"]["trajectories"]
    if plan["design"]["kind"] == "sobol":
        del plan["design"]["samples"]
    plan["policies"] = sorted(plan["policies"], key=lambda p: json.dumps(p, sort_keys=True))
    return {
        "experiment": plan,
        "scenario": scenario.model_dump(mode="json"),
        "engine": engine_fingerprint(),
        "user_policies": user_policy_fingerprints(experiment, files),
    }


def user_policy_files(experiment: Experiment) -> dict[str, list[tuple[str, str]]]:
    """The source files of each user policy (``package.module:ClassName``) the experiment runs
    (:func:`_policy_files`), each by its name and the hash of its content: read once, for the store's identity
    and for the refusal that names a file that changed."""
    return {
        name: [
            (label, hashlib.sha256(path.read_bytes()).hexdigest()) for label, path in _policy_files(policy_class(name))
        ]
        for name in user_policy_names(experiment)
    }


def user_policy_names(experiment: Experiment) -> list[str]:
    """The user policies (``package.module:ClassName``) the experiment runs, each once, in name order."""
    return sorted({p.name for p in experiment.policies if ":" in p.name})


def user_policy_fingerprints(
    experiment: Experiment, files: dict[str, list[tuple[str, str]]] | None = None
) -> dict[str, str]:
    """A hash of the source of each user policy the experiment runs (``files``: :func:`user_policy_files`, read
    when not given): every file of its top-level package (a plain module: it and the modules beside it that it
    imported), and the file of each class it inherits from outside covsim. A helper module or base class it calls
    changes its runs as its own file does (a new user's compare reused stored runs after editing one). Each file
    is named in the hash by its place in its package (or its module's name), not by where the folder is: the same
    code in a moved project or a colleague's checkout resumes the same store."""
    files = user_policy_files(experiment) if files is None else files
    return {name: content_hash(hashed) if hashed else "no source file" for name, hashed in files.items()}


def user_policy_parts(files: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    """The files of each user policy (``files``: :func:`user_policy_files`) as a store's refusal names them:
    ``mypol/helpers.py, a file of mypol.near_top:NearTop`` with the hash of its content, and ``which files make up
    mypol.near_top:NearTop`` with the hash of their names (a file added beside it: "a user policy's code
    changed" had named none)."""
    out = {}
    for name, hashed in files.items():
        out[f"which files make up {name}"] = content_hash([label for label, _ in hashed])
        out |= {f"{label}, a file of {name}": digest for label, digest in hashed}
    return out


def _policy_files(cls: type) -> list[tuple[str, Path]]:
    """The source files a user policy class's runs depend on, as far as covsim can tell (see
    :func:`user_policy_fingerprints`), each with the name it has wherever its folder is, in order."""
    package = Path(__file__).resolve().parents[1]  # covsim's own: in the engine's fingerprint
    named = {Path(f).resolve(): c.__module__ for c in cls.__mro__ if (f := _source(c)) is not None}
    top_name = cls.__module__.partition(".")[0]
    module = sys.modules.get(cls.__module__)
    top = sys.modules.get(top_name)
    if top is not None and getattr(top, "__path__", None):  # a package: all of it
        for entry in top.__path__:
            root = Path(entry).resolve()
            named |= {p.resolve(): f"{top_name}/{p.relative_to(root).as_posix()}" for p in root.rglob("*.py")}
    elif module is not None and (own := _source(module)) is not None:  # a plain module: the ones beside it it uses
        folder = Path(own).resolve().parent
        named |= {
            Path(f).resolve(): Path(f).name
            for m in list(sys.modules.values())
            if (f := _source(m)) and Path(f).resolve().parent == folder
        }
    return sorted((label, f) for f, label in named.items() if package not in f.parents)


def _typed_in(name: str) -> bool:
    """Whether a user policy's class was typed in, its module without a file (``python -c``, a notebook's cell) or
    with a made-up one (``<stdin>``); not one compiled or in a zip, a file all the same. Its own code is in no
    fingerprint, whatever base class of a file it inherits from."""
    file = getattr(sys.modules.get(policy_class(name).__module__), "__file__", None)
    return file is None or Path(str(file)).name.startswith("<")


def _source(obj: object) -> str | None:
    """The source file of a class or module, None for one without (built in, compiled, or typed in: a class of
    ``python -c`` or of a notebook's cell, whose "file" is ``<stdin>`` or none, had ended a batch in a traceback)."""
    try:
        found = inspect.getsourcefile(obj)  # type: ignore[arg-type]
    except (TypeError, OSError):
        return None
    return found if found is not None and Path(found).is_file() else None


@functools.cache
def engine_fingerprint() -> str:
    """A hash of covsim's source, so that a store is never resumed by different code: a run is a pure
    function of its scenario, policy and seed only for one version of the engine."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def open_batch(
    experiment: Experiment, scenario: Scenario, out: Path | str | None, fresh: bool = False, source: str = ""
) -> Batch:
    """Plan the runs (validating every design point first), open the store in the folder ``out`` (None: in
    memory), record the plan.

    ``source``, the experiment file, is named in front of each problem the plan finds at a design point.
    """
    out = None if out is None else Path(out)  # a notebook's "out/q1" had failed on its first "/"
    if experiment.quarters is not None and experiment.quarters != scenario.quarters:  # ran the scenario's, unsaid
        raise InputError(
            [
                f"open_batch: the experiment asks for {counted(experiment.quarters, 'quarter')} and the scenario "
                f"runs {scenario.quarters}: give it sim.experiment.spec.resolve_base(experiment, scenario), which sets "
                "them"
            ]
        )
    try:
        points, cells, specs = plan_runs(experiment, scenario)
    except InputError as e:
        if not source:
            raise
        raise InputError([f"{source}: {problem}" for problem in e.problems]) from None
    # The inputs read once (a user policy's package is hashed file by file): the config hash, the store's
    # identity and a hash of each input, by what a reader calls it, all from them.
    files = user_policy_files(experiment)
    if out is not None and (typed := [n for n in files if _typed_in(n)]):
        # A store in a folder is resumed only by the same code: code with no file cannot be told apart.
        raise InputError(
            [
                f"policy {name}: its code is in no file (typed in a notebook or at a prompt), so a store in a folder "
                "could not tell when it changes: put the class in a module (my_policies.py, then "
                f"'my_policies:{name.partition(':')[2]}'), or run the batch in memory (out = None)"
                for name in typed
            ]
        )
    identity = _identity(experiment, scenario, files)
    digest = experiment_hash(experiment, scenario, identity)
    plan = identity["experiment"]
    assert isinstance(plan, dict)
    parts = {EXPERIMENT_NAMES.get(k, f"the {k}"): content_hash(v) for k, v in plan.items()}
    # A user policy's code by file, so that a refusal names the file that changed (or that one came or went).
    parts |= {IDENTITY_NAMES["engine"]: content_hash(identity["engine"]), **user_policy_parts(files)}
    # The horizon is named as the quarters alone, the runs' own: --quarters sets the experiment's and the
    # scenario's, and a refusal had said the scenario changed too.
    parts |= {
        "the quarters": content_hash(experiment.quarters or scenario.quarters),
        IDENTITY_NAMES["scenario"]: content_hash({**scenario.model_dump(mode="json"), "quarters": None}),
    }
    store = Store(out, content_hash(identity), fresh, parts)
    stored = store.register(points, cells, specs, experiment.replications)
    store.set_meta("config_hash", digest)
    store.set_meta("experiment", json.dumps(experiment.model_dump(mode="json"), sort_keys=True))
    store.set_meta("scenario", json.dumps(scenario.model_dump(mode="json"), sort_keys=True))
    if out is not None:
        manifest = {
            "experiment": experiment.name,
            "config_hash": digest,
            "root_seed": experiment.seed,
            "replication_seeds": replication_seeds(experiment.seed, experiment.replications),
            "design": experiment.design.kind,
            "points": len(points),
            "cells": len(cells),
            "runs": len(specs),
            "versions": package_versions(),
            # The whole package, the engine's modules too: sim/experiment alone missed a changed model.py.
            "git_commit": git_commit(Path(__file__).resolve().parents[1]),
            # The source itself, hashed: a commit marked modified does not say which code made the runs.
            "engine_fingerprint": engine_fingerprint(),
            "written": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return Batch(experiment, scenario, store, specs, len(cells), stored)


def execute_batch(
    batch: Batch,
    executor: Executor = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    run_timeout: float | None = None,
) -> BatchOutcome:
    """Run what is not yet stored. Ctrl-C stops cleanly: finished runs stay stored. A policy typed in (at a
    prompt, in a notebook's cell) runs in this process only: a worker cannot import it (a review's runs had each
    failed in a worker, unsaid)."""
    typed = [n for n in user_policy_names(batch.experiment) if _typed_in(n)]
    if typed and executor != "serial":
        raise InputError(
            [
                f"policy {name}: typed in, so a worker process cannot import it: run the batch with "
                "executor='serial', or put the class in a module"
                for name in typed
            ]
        )
    outcome = run_batch(batch.store, batch.specs, executor, workers, scheduler, run_timeout=run_timeout)
    if outcome.failed:
        first = outcome.errors[0][1] if outcome.errors else ""
        warnings.warn(
            f"{outcome.failed:,} of {outcome.total:,} runs failed, and their cells have no result (the first: "
            f"{first}); BatchOutcome.errors holds each",
            FailedRuns,
            stacklevel=2,
        )
    return outcome
