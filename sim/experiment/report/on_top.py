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
    if r["constant"]:
        return f"{no_spread_words(r['diff'], int(r['n']))}, no test"
    if not np.isfinite(r["low"]):
        return f"no interval with {counted(int(r['n']), 'paired replication')} (one needs {MIN_REPLICATIONS})"
    if r["high"] < 0:
        return "a clear loss"
    return "a clear gain" if r["low"] > 0 else "not clear"


def _rows(f: Findings, policies: list[str]) -> list[tuple[str, str, list[pd.Series]]]:
    """Per stress with its plan beneath it, in the suite's order: its name, the plan and its rows in the
    policies' order."""
    order = {p: i for i, p in enumerate(policies)}
    out = []
    for stress in (s for s in f.stresses if s in set(f.added.shock)):
        at = f.added[f.added.shock == stress]
        rows = [r for _, r in sorted(at.iterrows(), key=lambda x: order.get(x[1]["policy"], len(order)))]
        out.append((stress, str(at["plan"].iloc[0]), rows))
    return out


def on_top_sentences(f: Findings, policies: list[str], q: Callable[[str], str]) -> list[str]:
    """One sentence per stress of a rollout and other shocks whose plan alone the suite holds: what the other
    shocks cost each policy on top of the rollout."""
    out = []
    for stress, plan, rows in _rows(f, policies):
        others = joined([q(k) for k in dict.fromkeys(f.kinds.get(stress, [])) if k != "rollout"])
        each = "; ".join(
            f"{q(str(r['policy']))} {difference_with_interval(DECISION_METRIC, r['diff'], r['low'], r['high'])}, "
            f"{_verdict(r)}"
            for r in rows
        )
        out.append(
            f"On top of rolling out as {q(plan)}, the rest of {q(stress)} ({others}) changes profit, against "
            f"{q(plan)} alone on the same seeds from quarter {int(rows[0]['first'])} on, by: {each} (each on its own "
            "95% interval)."
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
        "replication by replication, it says what the other shocks cost while the rollout runs: profit from the "
        "first quarter any of its shocks acts in, the stress less the plan (relative: of the plan's profit).",
        "",
        md_table(["stress", "plan alone", "policy", "profit on top", "95% CI", "relative", "pairs"], table, "lllrrrr"),
    ]
