"""The experiments the ``compare`` and ``stress`` commands run: policies named on the command line over one
scenario file, paired on common random numbers (and, for a stress test, under each stress of a suite)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sim.config import format_validation_error
from sim.errors import InputError
from sim.experiment.spec import HEADLINE_METRICS, Experiment, PolicyEntry
from sim.experiment.suite import Stress
from sim.policies import make_policy, policy_class, policy_label
from sim.run import scenario_problems
from sim.scenario import Scenario
from sim.strict import ValidationError


def comparison(
    scenario: Scenario,
    scenario_file: str,
    policies: Sequence[str],
    replications: int,
    seed: int | None = None,
    quarters: int | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    metrics: Sequence[str] = (),
    description: str = "",
) -> Experiment:
    """The experiment ``covsim compare`` runs: ``policies``, paired, summarised on ``metrics`` (none:
    ``HEADLINE_METRICS``; checked by ``spec.metric_faults``), its report opening with ``description``. The runs are of the Scenario given to ``open_batch``
    with it (``scenario`` here gives the seed and name); ``scenario_file`` is the name the report and manifest give
    its file, a label only (a researcher read that the file's scenario runs, not a variant made in code).

    Each policy runs with its entry of ``params`` (none: its defaults; the command line's are resolved and
    checked by ``sim.policies.policy_params``) and is labelled by ``sim.policies.policy_label`` (a user policy by
    its ``name``, as ``covsim run`` labels it); the first is the baseline. The root seed is ``seed`` or else the scenario's; ``quarters``
    (None: the scenario's) is recorded as the horizon. A name that is not a policy is an InputError naming
    ``comparison: policies`` (the command line checks its ``--policy`` names before).
    """
    # Arguments of the wrong kind, from the Python API, said as run() says them (a notebook's path for a Scenario
    # had given an AttributeError, a str of policies "unknown policy 's'").
    if problems := scenario_problems(scenario, "comparison"):
        raise InputError(problems)
    if isinstance(policies, str):
        raise InputError([f"comparison: policies: a list of names is needed, not the str {policies!r}"])
    labels = {n: policy_label(policy_class(n, "comparison: policies")) for n in policies}
    for name in policies:  # a user policy that cannot be built with its defaults, before any run
        make_policy(name, {}, where="comparison: policies")
    given = dict(params or {})
    # Keyed by a policy's name or by its label (the name every result gives it); a key of neither had been dropped.
    # Both a policy's name and its label given: one would be dropped, unsaid.
    twice = [
        f"comparison: params: {n!r} and {b!r} name one policy: give one"
        for n, b in labels.items()
        if n != b and n in given and b in given
    ]
    if twice:
        raise InputError(twice)
    if stray := [k for k in given if k not in labels and k not in labels.values()]:
        raise InputError(
            [
                f"comparison: params: {k!r} is no policy compared (key each by its name or label: "
                f"{', '.join(dict.fromkeys([*labels, *labels.values()]))})"
                for k in stray
            ]
        )
    try:
        return Experiment(
            name=f"compare-{scenario.name}",
            scenario=scenario_file,
            seed=scenario.seed if seed is None else seed,
            replications=replications,
            quarters=quarters,
            policies=tuple(
                PolicyEntry(name=n, label=labels[n], params=dict(given.get(n, given.get(labels[n], {}))))
                for n in policies
            ),
            metrics=tuple(metrics) or HEADLINE_METRICS,
            description=description,
        )
    except ValidationError as e:  # replications "3", a seed below 0: one line each, as the command line says them
        raise InputError(format_validation_error("comparison", e)) from None


def stress_experiment(
    scenario: Scenario,
    scenario_file: str,
    policies: Sequence[str],
    suite: tuple[Stress, ...],
    replications: int,
    seed: int | None = None,
    quarters: int | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    description: str = "",
) -> Experiment:
    """The experiment ``covsim stress`` runs: ``policies`` on the scenario of ``scenario_file``, unshocked and
    under each stress of ``suite``, on common random numbers (see :func:`comparison` for the rest), described as
    the suite file describes itself (``description``)."""
    from sim.experiment.stress import STRESS_METRICS

    base = comparison(scenario, scenario_file, policies, replications, seed, quarters, params)
    changes = {"name": f"stress-{scenario.name}", "suite": suite, "metrics": STRESS_METRICS, "description": description}
    return Experiment(**{**dict(base), **changes})
