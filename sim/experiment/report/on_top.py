"""The stress report's words and table for what a stress's other shocks add on top of its rollout
(``sim.experiment.on_top``: the stress against its rollout plan alone, paired by replication)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.experiment.report.markdown import code, md_table
from sim.experiment.stats import MIN_REPLICATIONS
from sim.experiment.stress import DECISION_METRIC, Findings
from sim.format import (
    clear_words,
    counted,
    difference,
    difference_interval,
    difference_with_interval,
    joined,
    no_spread_words,
    pct,
)


def _verdict(r: pd.Series) -> str:
    """Whether a row's difference is clear: ``a clear loss``, ``not clear``, or why there is no test."""
    if r["constant"] and r["diff"] == 0:  # 20% of a two-seat role rounds to no seat: say so, not "identical"
        return "the other shocks changed nothing in any run"
    if r["constant"]:
        return f"{no_spread_words(r['diff'], int(r['n']))}, no test"
    return clear_words(r["low"], r["high"]) or (
        f"no interval with {counted(int(r['n']), 'paired replication')} (one needs {MIN_REPLICATIONS})"
    )


def _rows(f: Findings, policies: list[str]) -> list[tuple[str, str, list[pd.Series]]]:
    """Per stress with its plan beneath it, in the suite's order: its name, the plan and its rows in the
    policies' order."""
    order = {p: i for i, p in enumerate(policies)}
    out = []
    # Not the model in force: nothing is rolled out for it, and its row is the other shocks alone (a VP's answer
    # had said what quits add "on top of rolling out" for the model that stays).
    added = f.added[~f.added.policy.isin(f.in_force)]
    for stress in (s for s in f.stresses if s in set(added.shock)):
        at = added[added.shock == stress]
        rows = [r for _, r in sorted(at.iterrows(), key=lambda x: order.get(x[1]["policy"], len(order)))]
        out.append((stress, str(at["plan"].iloc[0]), rows))
    return out


def _beside(r: pd.Series, impact: pd.Series, q: Callable[[str], str]) -> str:
    """`` (-135.4k on their own, as `quits`)``: the other shocks' profit impact on their own, against the unshocked
    run, where the suite has them alone (whether they cost more or less while the rollout runs, on the means)."""
    alone = str(r["alone"])
    x = impact.get((alone, r["policy"]), np.nan) if alone else np.nan
    return f" ({difference(DECISION_METRIC, x)} on their own, as {q(alone)})" if np.isfinite(x) else ""


def on_top_sentences(f: Findings, policies: list[str], q: Callable[[str], str]) -> list[str]:
    """One sentence per stress of a rollout and other shocks whose plan alone the suite holds: what the other
    shocks cost each policy on top of the rollout."""
    out = []
    alone_impact = f.impacts[f.impacts.metric == DECISION_METRIC].set_index(["shock", "policy"])["impact"]
    for stress, plan, rows in _rows(f, policies):
        others = joined([k.replace("_", " ") for k in dict.fromkeys(f.kinds.get(stress, [])) if k != "rollout"])
        each = "; ".join(
            f"{q(str(r['policy']))} {difference_with_interval(DECISION_METRIC, r['diff'], r['low'], r['high'])}, "
            f"{_verdict(r)}{_beside(r, alone_impact, q)}"
            for r in rows
        )
        # The intervals' level only where there is one (a stress of one replication has none).
        level = " (each on its own 95% interval)" if any(np.isfinite(r["low"]) for r in rows) else ""
        out.append(
            f"On top of rolling out as {q(plan)}, the other shocks of {q(stress)} ({others}) change profit, against "
            f"{q(plan)} alone on the same seeds from quarter {int(rows[0]['first'])} on, by: {each}{level}."
        )
    return out


def on_top_section(f: Findings, policies: list[str]) -> list[str]:
    """The table of what each stress adds on top of its rollout plan alone."""
    table = [
        [
            code(stress),
            code(plan),
            str(r["policy"]),
            difference(DECISION_METRIC, r["diff"]),
            difference_interval(DECISION_METRIC, r["low"], r["high"]) or "-",
            pct(r["relative"]),
            str(int(r["n"])),
        ]
        for stress, plan, rows in _rows(f, policies)
        for r in rows
    ]
    if not table:
        return []
    return [
        "## On top of a rollout",
        "",
        "A stress of a rollout and other shocks is read, as every stress is, against the unshocked run. Against "
        "its rollout plan alone (the suite's stress of the same rollout and nothing else), on the same seeds "
        "replication by replication, it says what the other shocks cost beside the rollout: profit from the "
        "first quarter any of its shocks acts in, the stress less the plan (relative: of the plan's profit), with "
        "a 95% t interval per row, not adjusted for the rows. Not for the model in force, for which nothing is "
        "rolled out.",
        "",
        md_table(["stress", "plan alone", "policy", "profit on top", "95% CI", "relative", "pairs"], table, "lllrrrr"),
    ]
