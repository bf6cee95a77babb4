"""The stress report's sections: impacts with intervals, extra misses by cause, recovery, worst cases, regret
and the rollout plan (definitions in ``sim.experiment.stress``; the answer: ``stress_answer``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.experiment.report.markdown import code, md_table, regret_rows
from sim.experiment.stress import (
    DECISION_METRIC,
    MISS_CAUSES,
    RECOVERY_CONFIRMED,
    RECOVERY_METRIC,
    RECOVERY_TOLERANCE,
    Findings,
)
from sim.experiment.stress_sources import BOOKINGS, SPEND, money_parts
from sim.experiment.suite import is_rollout_plan
from sim.format import difference, difference_beside, difference_interval, fmt, joined, money, pct, recovery_words


def impact_section(f: Findings, policies: list[str]) -> list[str]:
    """Paired impact of each stress on profit and revenue, with intervals, worst replication and recovery."""
    lines = [
        "## Impact of each stress",
        "",
        "Paired against the unshocked run on the same seeds, over the quarters from the stress's first on (before "
        "it a run is the unshocked run, or, for a rollout, the model in force: those quarters are left out, and a "
        "stress with a rollout is read from the rollout's quarter, whatever its other shocks; what that model "
        "leaves behind is what the rollout starts from): the mean difference over replications with its 95% "
        "t interval (per comparison; not adjusted for the number of rows), the same relative to the unshocked "
        f"mean over those quarters, the worst replication's difference, and, from quarter to quarter, "
        f"`{RECOVERY_METRIC}`'s deepest mean gap to the unshocked run with its paired 95% interval (marked within "
        f"noise when it includes 0) and the quarters until it is back within {RECOVERY_TOLERANCE:.0%} of it: a "
        f"quarter is hurt when its interval lies wholly below -{RECOVERY_TOLERANCE:.0%}, back when wholly above, "
        "and recovery is the quarters until every quarter to the horizon's end is back, at least "
        f'{RECOVERY_CONFIRMED} of them ("not shown hurt" when no quarter before them is hurt); when the last '
        f"quarters' intervals straddle -{RECOVERY_TOLERANCE:.0%}, the replications cannot tell.",
    ]
    rec = f.recovery.set_index(["shock", "policy"])
    for metric in (DECISION_METRIC, RECOVERY_METRIC):
        d = f.impacts[f.impacts.metric == metric].set_index(["shock", "policy"])
        rows = []
        for shock in f.stresses[1:]:
            for p in policies:
                if (shock, p) not in d.index:
                    continue
                r = d.loc[(shock, p)]
                row = [
                    code(shock),
                    p,
                    difference_beside(metric, r["impact"], r["low"], r["high"]),
                    difference_interval(metric, r["low"], r["high"], beside=r["impact"]) or "-",
                    pct(r["relative"]),
                    difference(metric, r["worst"]),
                ]
                if metric == DECISION_METRIC:
                    known = (shock, p) in rec.index
                    row.append(_trough(rec.loc[(shock, p)]) if known else "-")
                    said = (
                        recovery_words(rec.at[(shock, p), "verdict"], rec.at[(shock, p), "quarters"]) if known else "-"
                    )
                    row.append("changed nothing" if shock in f.inert_of.get(p, ()) else said)
                rows.append(row)
        header = ["stress", "policy", "impact", "95% CI", "relative", "worst replication"]
        if metric == DECISION_METRIC:
            header += ["deepest quarter", "recovery"]
        lines += [
            "",
            f"{code(metric)}, from each stress's first quarter:",
            "",
            md_table(header, rows, "ll" + "r" * (len(header) - 2)),
        ]
    return lines


def _trough(r: pd.Series) -> str:
    """The deepest quarter's gap with its 95% interval, ``-19.4% [-45.1%, +6.3%]``, marked when the interval
    includes 0 (within the noise of the replications)."""
    if not np.isfinite(r["trough"]):
        return "-"
    if not (np.isfinite(r["trough_low"]) and np.isfinite(r["trough_high"])):
        return f"{pct(r['trough'])} (no interval)"
    noise = " (within noise)" if r["trough_low"] <= 0 <= r["trough_high"] else ""
    return f"{pct(r['trough'])} [{pct(r['trough_low'])}, {pct(r['trough_high'])}]{noise}"


def sources_section(f: Findings, policies: list[str]) -> list[str]:
    """Where each stress's money went (``sim.experiment.stress_sources``): its mean paired change of recurring
    revenue, in all and by segment, of the bookings by kind of deal, and of cost of sales."""
    if f.sources.empty:
        return []
    segments = sorted(set(f.sources.segment[f.sources.metric == SPEND]))
    paired = set(zip(f.sources.shock, f.sources.policy, strict=True))
    rows = []
    for shock in f.stresses[1:]:
        for p in policies:
            if (shock, p) not in paired or shock in f.inert_of.get(p, ()):
                continue
            spend, booked, cost = money_parts(f.sources, f.impacts, shock, p)
            spend = spend.reindex(segments, fill_value=0.0)
            money_cells = [spend.sum(), *spend, *booked, cost]
            rows.append([code(shock), p, *(difference(SPEND, float(v)) for v in money_cells)])
    return [
        "## Where the money went",
        "",
        "Mean paired change over replications, from each stress's first quarter (as in the impacts above), of "
        f"`{SPEND}` in all and by segment (whose spend the stress took: profit is the gross margin times it, less "
        "cost of sales), of the bookings by kind of deal (`revenue_captured`'s parts: which deals were won less, "
        "renewals at their full renewed value) and of `cost_of_sales`. The misses below count opportunities, "
        "whatever their size: a few lost enterprise renewals can outweigh many missed small leads. A stress that "
        "changed none of a policy's runs has no row.",
        "",
        md_table(
            ["stress", "policy", "recurring revenue", *segments, *BOOKINGS.values(), "cost of sales"],
            rows,
            "ll" + "r" * (len(segments) + 5),
        ),
    ]


def misses_section(f: Findings, policies: list[str]) -> list[str]:
    """Extra missed opportunities per stress by cause (mean paired difference over replications)."""
    d = f.impacts[f.impacts.metric.isin(MISS_CAUSES)]
    causes = [c for c in MISS_CAUSES if c in set(d.metric) and (d[d.metric == c]["impact"].abs() >= 0.5).any()]
    if not causes:
        return ["## Extra missed opportunities", "", "No stress changed the missed opportunities of any cause."]
    wide = d.pivot_table(index=["shock", "policy"], columns="metric", values="impact")
    rows = []
    for shock in f.stresses[1:]:
        for p in policies:
            if (shock, p) in wide.index:
                # whole counts: a mean below half an opportunity is no change, not "+0" or "-0"
                rows.append([code(shock), p, *(difference(c, round(wide.at[(shock, p), c]) + 0.0) for c in causes)])
    return [
        "## Extra missed opportunities",
        "",
        "Mean paired difference over replications of the opportunities missed from each stress's first quarter, "
        "by cause (docs/metrics.md defines each cause).",
        "",
        md_table(
            ["stress", "policy", *(c.removeprefix("missed_").replace("_", " ") for c in causes)],
            rows,
            "ll" + "r" * len(causes),
        ),
    ]


def stress_regret_section(f: Findings) -> list[str]:
    """Each policy's profit, worst case and regret across the stresses (the unshocked run included)."""
    if f.ranking is None:
        return []
    rows = regret_rows(f.ranking, money, lambda w: code(str(w)))
    return [
        "## Regret against the best policy under each stress",
        "",
        "Per stress, each policy's mean profit over replications; its regret is the best policy's mean minus "
        "its own (0 where it is the best). Policies are ranked by their largest regret (minimax regret: the "
        "safer rollout never falls far behind whatever would have been best), then by mean."
        + (
            f" {joined([code(s) for s in f.inert])} changed nothing and {'is' if len(f.inert) == 1 else 'are'} left "
            "out: the unshocked run again, not a world of its own."
            if f.inert
            else ""
        )
        + "".join(
            f" {code(s)} ran as {code(t)}, number for number, and is left out: the same world again."
            for s, t in f.same_as.items()
        ),
        "",
        md_table(["policy", "mean profit", "worst case", "mean regret", "largest regret", "best under"], rows),
    ]


def versus_section(f: Findings) -> list[str]:
    """The minimax-regret policy's paired profit difference from each other policy under each stress, with the intervals
    the answer reads (a researcher could not check "under no stress does the interval exclude 0" from the
    report)."""
    if f.ranking is None or f.versus.empty:
        return []

    def interval(r: Any, low: float, high: float) -> str:
        if r.constant:
            return "no test (no spread)"
        return difference_interval(DECISION_METRIC, low, high) if np.isfinite(low) else "no test (under 3 pairs)"

    rows = [
        [
            code(str(r.shock)),
            code(str(r.other)),
            str(int(r.n)),
            difference(DECISION_METRIC, float(r.diff)) if int(r.n) else "-",
            interval(r, r.low, r.high),
            interval(r, r.low_adj, r.high_adj),
        ]
        for r in f.versus.itertuples()
    ]
    # Named by how it was picked, not "the safer rollout", which the answer says only of a clear gap.
    return [
        f"## The minimax-regret policy, {code(f.ranking.robust)}, against the others under each stress",
        "",
        f"Per stress (the unshocked run included), the paired difference of profit, {code(f.ranking.robust)} minus "
        "the policy compared, over the replications both have (same seeds), with its 95% t interval and the "
        "interval Bonferroni-adjusted over the stresses compared with that policy, which the answer reads: the gap "
        "is clear under a stress whose adjusted interval excludes 0.",
        "",
        md_table(["stress", "compared with", "n", "difference", "95% interval", "adjusted interval"], rows, "llrrrr"),
    ]


def rollout_section(f: Findings, policies: list[str]) -> list[str]:
    """Big-bang against phased: the paired difference between the rollout plans, per policy."""
    if not f.rollouts:
        return []
    order = {p: i for i, p in enumerate(policies)}
    rows = [
        [
            c.policy + (f" (from {c.rolled_from})" if f.plans_from_several else ""),
            code(c.better),
            code(c.worse),
            difference(DECISION_METRIC, c.diff),
            difference_interval(DECISION_METRIC, c.low, c.high) or "-",
            "no test (no spread)" if c.constant else "yes" if c.clear else "no",
        ]
        for c in sorted(f.rollouts, key=lambda c: order.get(c.policy, len(order)))
    ]
    continuity = f.impacts[f.impacts.metric.isin(["personal_stock_lost", "handoff_hours"])]
    extra = []
    if not continuity.empty:
        wide = continuity.pivot_table(index=["shock", "policy"], columns="metric", values="impact")
        # Every plan (a stress of rollouts alone), not only the two the table above compares, in the suite's
        # order and the policies' (the pivot sorts them by name): a VP's phased plan with hand-offs was left out.
        for shock in (s for s in f.stresses if is_rollout_plan(f.kinds.get(s, ()))):
            # Not for a policy the plan left as it was (the model in force): its rows would be zeros.
            for p in (p for p in policies if (shock, p) in wide.index and shock not in f.inert_of.get(p, ())):
                r = wide.loc[(shock, p)]
                extra.append(
                    [code(shock), p] + [fmt(m, r.get(m, np.nan)) for m in ("personal_stock_lost", "handoff_hours")]
                )
    lines = [
        "## Rollout plan",
        "",
        "Each rollout stress covers every account with the model in force before it (the rollout's `current` "
        "policy) and moves accounts to the policy under test from its first quarter: all at once (big-bang) or "
        "a share each quarter (phased). Accounts that change owner keep the personal relationship the hand-off "
        "rule says. The paired difference of whole-run profit between the two plans:",
        "",
        md_table(["policy", "better plan", "than", "more profit", "95% CI", "clear"], rows, "lllrrl"),
    ]
    if extra:
        lines += [
            "",
            "What the change of hands cost, against the unshocked run (mean paired difference): personal "
            "relationship stock lost and hours of warm hand-offs (a figure below 0: less than the unshocked run "
            "lost or spent over the same quarters).",
            "",
            md_table(["stress", "policy", "stock lost (touch-equivalents)", "hand-off hours"], extra, "llrr"),
        ]
    return lines


def suite_section(f: Findings) -> list[str]:
    """The stresses run, with what each does."""
    rows = [[code(s), str(f.first_quarter.get(s, "-")), f.description.get(s, "")] for s in f.stresses]
    return ["## The suite", "", md_table(["stress", "read from quarter", "what happens"], rows, "lrl")]
