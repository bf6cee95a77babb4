"""What a stress test finds: each stress's paired impact, recovery, worst case, regret and the rollout plan.

Pure functions of the stored results of a stress experiment (a design point
per stress, ``shock`` naming it; ``none`` is the unshocked run). Replication r
of every stress and policy uses the same seed as replication r of the
unshocked run (common random numbers), so each stress's effect is measured as
a paired difference per replication: ``d_r = x_r(stress) - x_r(none)``.

- **Impact**: the mean of ``d_r`` over replications with its 95% t interval
  (per comparison; not adjusted for the number of stresses and policies: each
  row answers its own question), and relative to the unshocked mean.
- **Recovery**: per quarter, the relative gap ``g_q = mean_r d_r,q /
  mean_r x_r,q(none)`` of :data:`RECOVERY_METRIC` with its 95% t interval
  (that of the mean ``d``, over the same unshocked mean); a quarter is *hurt*
  when its interval lies wholly below ``-RECOVERY_TOLERANCE``, *back* when it
  lies wholly above, and *unclear* otherwise (noise the replications cannot
  tell from a 2% gap). See :func:`recovery_of` for the verdicts: never hurt,
  back after N quarters, not back within the horizon, or cannot tell at this
  replication count.
- **Inert stresses**: a stress whose every run is the unshocked run, number
  for number (10% of a five-seat team rounds to no seat, say), is reported as
  changing nothing rather than as "never hurt".
- **Worst case**: the worst replication's impact, and each policy's worst stress.
- **Regret** against the best policy under each stress (``sim.experiment.robustness``),
  and the safer rollout: the policy of smallest maximum regret over the stresses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.catalogue import CATALOGUE
from sim.codes import CAUSES
from sim.experiment import robustness
from sim.experiment.inert import in_force, inert_by_policy, inert_of_all, same_runs
from sim.experiment.on_top import on_top
from sim.experiment.rollout_plans import RolloutChoice, rollout_choices
from sim.experiment.stats import CONFIDENCE, read_pairs, run_values, t_interval
from sim.experiment.stress_sources import money_sources
from sim.experiment.suite import UNSHOCKED, Stress, is_rollout_plan
from sim.shocks import ModelRollout

#: The metric a stress test decides on: profit over the horizon (currency units).
DECISION_METRIC = "profit"
#: The metric recovery is read from, quarter by quarter: the quarter's sales result (won value and retained
#: spend), which answers "how long until we are back to plan?".
RECOVERY_METRIC = "revenue_captured"
#: A quarter is back when its revenue is within this share of the unshocked run's [A].
RECOVERY_TOLERANCE = 0.02
#: Quarters a recovery must last to count (a single quarter back at the horizon's end shows no recovery: one
#: quarter's revenue moves by more than the tolerance with the deals that happen to close in it) [A].
RECOVERY_CONFIRMED = 2
#: The causes of a missed opportunity, as metrics (docs/metrics.md).
MISS_CAUSES = tuple(f"missed_{c}" for c in CAUSES)
#: What a stress test records and reports, whole run, segment ``all``.
STRESS_METRICS = (
    DECISION_METRIC,
    RECOVERY_METRIC,
    "recurring_revenue",
    "opps_missed",
    *MISS_CAUSES,
    "customers",
    "churned",
    "owner_changed_share",
    "personal_stock_lost",
    "handoff_hours",
    "cost_of_sales",
)


def with_shock(frame: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (with a ``point`` column) with the stress of each point as ``shock``."""
    return frame.merge(points[["point", "shock"]], on="point", how="left")


#: The columns of :func:`impacts`.
IMPACT_COLUMNS = ["shock", "policy", "metric", "n", "unshocked", "impact", "low", "high", "relative", "worst"]


#: The columns of :func:`impact_draws`.
DRAW_COLUMNS = ["shock", "policy", "metric", "replication", "d"]


def paired_impacts(values: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`impacts` and :func:`impact_draws` of ``values`` in one pass."""
    wide = values.pivot_table(index=["policy", "metric", "replication"], columns="shock", values="value")
    rows, blocks = [], []
    for shock in [c for c in wide.columns if c != UNSHOCKED and UNSHOCKED in wide.columns]:
        pairs = wide[[UNSHOCKED, shock]].dropna()
        d = (pairs[shock] - pairs[UNSHOCKED]).rename("d")
        block = d.reset_index()
        block.insert(0, "shock", shock)
        blocks.append(block)
        base = pairs[UNSHOCKED].groupby(level=["policy", "metric"], sort=False)
        by = d.groupby(level=["policy", "metric"], sort=False)
        # Every (policy, metric) of the design has a row, one with no pair of runs too (n = 0, NaN).
        for policy, metric in wide.index.droplevel("replication").unique():
            x = by.get_group((policy, metric)).to_numpy() if (policy, metric) in by.groups else np.array([])
            b = base.get_group((policy, metric)).to_numpy() if x.size else np.array([])
            lo, hi = t_interval(x)
            mean_base = float(b.mean()) if b.size else np.nan
            mean = float(x.mean()) if x.size else np.nan
            rows.append(
                {
                    "shock": shock,
                    "policy": policy,
                    "metric": metric,
                    "n": int(x.size),
                    "unshocked": mean_base,
                    "impact": mean,
                    "low": lo,
                    "high": hi,
                    "relative": mean / abs(mean_base) if mean_base else np.nan,
                    "worst": float(x.min()) if x.size else np.nan,
                }
            )
    draws = pd.concat(blocks, ignore_index=True)[DRAW_COLUMNS] if blocks else pd.DataFrame(columns=DRAW_COLUMNS)
    return pd.DataFrame(rows, columns=IMPACT_COLUMNS), draws


def impact_draws(values: pd.DataFrame) -> pd.DataFrame:
    """Per (shock, policy, metric, replication): ``d = x(stress) - x(none)``, of the replications with both.
    ``values`` as :func:`impacts` takes them."""
    return paired_impacts(values)[1]


def impact_gap(draws: pd.DataFrame, shock: str, metric: str, policy: str, other: str, family: int = 1) -> pd.Series:
    """How much more ``shock`` costs ``policy`` than ``other`` on ``metric``: per replication, ``policy``'s
    impact minus ``other``'s (``draws`` as :func:`impact_draws` gives them), as ``diff`` (mean), ``low`` and
    ``high`` (the t interval at 95%, Bonferroni-adjusted over ``family`` comparisons: ``1 - 0.05 / family``)
    and ``n``. A stress that changes the gap between two policies is one whose interval excludes 0. Differences
    the same in every replication (``constant``) are no test (``stats.read_pairs``): no interval."""
    d = draws[(draws.shock == shock) & (draws.metric == metric)]
    wide = d.pivot_table(index="replication", columns="policy", values="d")
    pair = wide[[policy, other]].dropna().to_numpy() if {policy, other} <= set(wide.columns) else np.empty((0, 2))
    both, flat = read_pairs(pair[:, 0] - pair[:, 1], float(np.abs(pair).max(initial=0.0)))
    low, high = (np.nan, np.nan) if flat else t_interval(both, 1 - (1 - CONFIDENCE) / max(family, 1))
    mean = float(both.mean()) if both.size else np.nan
    return pd.Series({"diff": mean, "low": low, "high": high, "n": both.size, "constant": flat})


def impacts(values: pd.DataFrame) -> pd.DataFrame:
    """Paired impact of each stress per (shock, policy, metric). ``values``: run values with ``shock``, ``policy``,
    ``replication``, ``metric``, ``value``. Returns shock, policy, metric, n (paired replications), unshocked (its
    mean), impact (mean of d), low, high (95% t), relative (impact / |unshocked|), worst (the smallest d)."""
    return paired_impacts(values)[0]


#: The verdicts of :func:`recovery_of`.
NEVER_HURT, BACK, NOT_BACK, UNCLEAR, NOT_SHOWN_HURT = "never hurt", "back", "not back", "unclear", "not shown hurt"


def recovery_of(
    low: np.ndarray,
    high: np.ndarray,
    first: int,
    tolerance: float = RECOVERY_TOLERANCE,
    confirmed: int = RECOVERY_CONFIRMED,
) -> tuple[str, int | None]:
    """The recovery verdict, and its quarters, from the 95% intervals ``[low, high]`` of the relative gaps of
    quarters 1, 2, ... (NaN: no interval), from quarter ``first`` (1-based) on. A quarter is back when its
    interval lies wholly above ``-tolerance``, hurt when wholly below it, and unclear otherwise.

    - ``NEVER_HURT``, 0: every quarter from ``first`` on is back;
    - ``BACK``, N: the quarters from ``first`` on are back from the N-th after ``first`` to the horizon's end,
      at least ``confirmed`` of them, and one before them is hurt (back within N quarters);
    - ``NOT_SHOWN_HURT``, N: as ``BACK``, but none of the N quarters before is hurt (a surge of leads whose first
      quarters' intervals straddled -2% had read "back in 3 q" to a VP as three quarters of damage);
    - ``NOT_BACK``, None: the last quarter not back is hurt, and fewer than ``confirmed`` quarters follow it;
    - ``UNCLEAR``, None: the last quarter not back is unclear, and fewer than ``confirmed`` quarters follow
      it: the replications cannot tell whether revenue came back within the tolerance."""
    low, high = np.asarray(low, dtype=float)[first - 1 :], np.asarray(high, dtype=float)[first - 1 :]
    back = low > -tolerance  # NaN compares False: no interval is not back
    if back.all():
        return NEVER_HURT, 0
    last = int(np.flatnonzero(~back)[-1])  # counted from quarter ``first``
    if back.size - (last + 1) >= confirmed:
        return (BACK if (high[: last + 1] < -tolerance).any() else NOT_SHOWN_HURT), last + 1
    return (NOT_BACK if high[last] < -tolerance else UNCLEAR), None


#: The columns of :func:`quarterly_gaps`.
GAP_COLUMNS = ["shock", "policy", "quarter", "diff", "unshocked", "gap", "low", "high"]


def quarterly_gaps(results: pd.DataFrame, metric: str = RECOVERY_METRIC) -> pd.DataFrame:
    """Per (shock, policy, quarter): the mean paired difference of ``metric`` (segment all) from the unshocked
    run and that difference relative to the unshocked mean, as ``diff``, ``unshocked`` and ``gap``, with the
    95% t interval of the difference relative to the same mean, ``low`` and ``high`` (NaN with fewer than
    ``stats.MIN_REPLICATIONS`` pairs; a quarter with no unshocked value on average is 0 when no pair differs),
    ``low`` cut at -100% for a metric no run takes below 0 (a researcher's report read -169.1%).

    ``results``: tidy results with ``shock``."""
    r = results[(results.segment == "all") & (results.metric == metric)]
    wide = r.pivot_table(index=["policy", "quarter", "replication"], columns="shock", values="value")
    rows = []
    for shock in [c for c in wide.columns if c != UNSHOCKED and UNSHOCKED in wide.columns]:
        pair = wide[[UNSHOCKED, shock]].dropna()
        d = (pair[shock] - pair[UNSHOCKED]).groupby(level=["policy", "quarter"])
        ends = d.apply(lambda x: t_interval(x.to_numpy(dtype=float)))
        base = pair[UNSHOCKED].groupby(level=["policy", "quarter"]).mean()
        low, high = ends.map(lambda e: e[0]), ends.map(lambda e: e[1])
        frame = pd.DataFrame({"diff": d.mean(), "unshocked": base, "low": low, "high": high}).reset_index()
        scale = frame["unshocked"].abs()
        for column, value in (("gap", "diff"), ("low", "low"), ("high", "high")):
            same = (frame[value] == 0) & (scale == 0)  # nothing in either run: no gap
            frame[column] = (frame[value] / scale.where(scale != 0)).where(~same, 0.0)
        if CATALOGUE[metric].limits[0] == 0:  # a shocked run's value is no less than 0: its mean gap no less than -100%
            frame["low"] = frame["low"].where(~(frame["unshocked"] > 0), frame["low"].clip(lower=-1.0))
        frame.insert(0, "shock", shock)
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)[GAP_COLUMNS] if rows else pd.DataFrame(columns=GAP_COLUMNS)


#: The columns of :func:`recovery`.
RECOVERY_COLUMNS = ["shock", "policy", "verdict", "quarters", "trough", "trough_low", "trough_high"]


def recovery(gaps: pd.DataFrame, first_quarter: dict[str, int]) -> pd.DataFrame:
    """Per (shock, policy): the recovery ``verdict`` and its ``quarters`` (:func:`recovery_of`), and the
    deepest quarterly mean gap from each stress's ``first_quarter``, ``trough``, with its 95% interval
    (``trough_low``, ``trough_high``)."""
    rows = []
    for (shock, policy), g in gaps.groupby(["shock", "policy"], sort=False):
        g = g.sort_values("quarter")
        first = first_quarter[shock]
        verdict, quarters = recovery_of(g["low"].to_numpy(), g["high"].to_numpy(), first)
        acting = g[g.quarter >= first].dropna(subset=["gap"])
        deepest = acting.loc[acting["gap"].idxmin()] if not acting.empty else None
        rows.append(
            {
                "shock": shock,
                "policy": policy,
                "verdict": verdict,
                "quarters": quarters,
                "trough": float(deepest["gap"]) if deepest is not None else np.nan,
                "trough_low": float(deepest["low"]) if deepest is not None else np.nan,
                "trough_high": float(deepest["high"]) if deepest is not None else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=RECOVERY_COLUMNS)


def stress_regret(values: pd.DataFrame, metric: str = DECISION_METRIC) -> robustness.Ranking:
    """Policies ranked by their regret on ``metric`` across the stresses (the unshocked run included): in each
    stress, the best policy's mean minus each policy's mean, over the replications every policy finished (on
    common random numbers: a failed run takes its replication out for every policy; a stress with none is out)."""
    r = values[values.metric == metric].dropna(subset=["value"])
    r = r[r.groupby(["shock", "replication"]).policy.transform("nunique") == r.policy.nunique()]
    wide = r.pivot_table(index="shock", columns="policy", values="value", aggfunc="mean")
    return robustness.rank(wide)


#: The columns of :func:`policy_differences`.
VERSUS_COLUMNS = ["shock", "other", "diff", "low", "high", "low_adj", "high_adj", "family", "constant", "n"]


def policy_differences(values: pd.DataFrame, policy: str, metric: str = DECISION_METRIC) -> pd.DataFrame:
    """Per (shock, other policy): the paired difference ``x(policy) - x(other)`` of ``metric`` over replications
    (every policy runs on the same seeds), as ``diff``, ``low``, ``high`` (95% t), and ``low_adj``,
    ``high_adj``: Bonferroni-adjusted over ``family``, the stresses (the unshocked run included) with an
    interval for that other policy, as the answer reads "clear" across them. Differences with no spread (the
    same in every replication, round-off aside: ``constant``) are no test, as in ``covsim compare``
    (``stats.read_pairs``): no interval, and not in the family. ``n``: the replications paired."""
    r = values[values.metric == metric]
    wide = r.pivot_table(index=["shock", "replication"], columns="policy", values="value")
    rows = []
    for other in [c for c in wide.columns if c != policy]:
        each = {}
        for shock, g in wide.groupby(level="shock", sort=False):
            pair = g[[policy, other]].dropna().to_numpy()
            each[shock] = read_pairs(pair[:, 0] - pair[:, 1], float(np.abs(pair).max(initial=0.0)))
        unadjusted = {shock: (np.nan, np.nan) if flat else t_interval(d) for shock, (d, flat) in each.items()}
        family = sum(np.isfinite(lo) for lo, _ in unadjusted.values())
        for shock, (d, flat) in each.items():
            lo, hi = unadjusted[shock]
            lo_adj, hi_adj = (np.nan, np.nan) if flat else t_interval(d, 1 - (1 - CONFIDENCE) / max(family, 1))
            mean = float(d.mean()) if d.size else np.nan
            rows.append([shock, other, mean, lo, hi, lo_adj, hi_adj, family, flat, d.size])
    return pd.DataFrame(rows, columns=VERSUS_COLUMNS)


@dataclass(frozen=True)
class Findings:
    """Everything a stress test found, from its stored results.

    stresses: the stresses in suite order (``none`` first); first_quarter and
    description per stress; values: run values with ``shock``; impacts,
    draws (the impacts per replication, :func:`impact_draws`), gaps, recovery:
    as the functions above, over each stress's quarters; ranking: policies by regret
    across the stresses (None with one policy); versus: the paired profit differences of the minimax-regret
    policy from each other policy under each stress (``policy_differences``); rollouts: the rollout plan
    each policy does best with among those that change its runs (empty without two), but for the policies
    ``in_force`` (:func:`in_force`); inert: the stresses that changed nothing in any run (:func:`inert_of_all`),
    inert_of: per policy, those that changed none of its runs (:func:`inert_by_policy`: a rollout of the model it
    is, say); same_as: each stress whose runs are an earlier one's, number for number, and that one
    (:func:`same_runs`: out of the ranking as a world of its own), and same_of the same per policy (a rollout
    with quits is the quits alone for the model in force);
    rollout_stresses: the stresses that roll a model out; unfinished: those whose rollout has not reached every
    account by the horizon, with the share it has (``1/3``); kinds: the kinds of each stress's shocks;
    expected_runs: the runs the design asks for; sources: where the money went (``stress_sources``); added: what
    each stress of a rollout and other shocks costs on top of its plan alone, where the suite has it (``on_top``).
    """

    stresses: list[str]
    first_quarter: dict[str, int]
    description: dict[str, str]
    values: pd.DataFrame
    impacts: pd.DataFrame
    draws: pd.DataFrame
    gaps: pd.DataFrame
    recovery: pd.DataFrame
    ranking: robustness.Ranking | None
    versus: pd.DataFrame
    rollouts: list[RolloutChoice]
    inert: list[str]
    inert_of: dict[str, list[str]]
    same_as: dict[str, str]
    same_of: dict[str, dict[str, str]]
    rollout_stresses: list[str]
    unfinished: dict[str, str]
    kinds: dict[str, list[str]]
    in_force: list[str]
    expected_runs: int
    sources: pd.DataFrame
    added: pd.DataFrame

    @property
    def plans_from_several(self) -> bool:
        """Whether the rollout plans ranked start from more than one model in force (each is then named with it)."""
        return len({c.rolled_from for c in self.rollouts}) > 1


def acting_impacts(
    tagged: pd.DataFrame, points: pd.DataFrame, first_quarter: dict[str, int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`impacts` of each stress over the quarters it acts in, from its first quarter on, against the
    unshocked run over the same quarters. Before a stress a run is the unshocked run, number for number, but
    for a rollout, where the model in force runs: those quarters, the difference between two models, are left
    out (what the model in force leaves behind at the rollout, its customers, deals and relationships, is what
    the rollout starts from, and stays in). ``tagged``: tidy results with ``shock``; ``points``: the design,
    with ``shock``. A stress with no stressed or no unshocked run yet has no row. With them, the same impacts
    per replication (:func:`impact_draws`)."""
    wanted = tagged[(tagged.segment == "all") & tagged.metric.isin(STRESS_METRICS)]
    blocks, draws = [], []
    for shock, quarter in first_quarter.items():
        acting = wanted[wanted.shock.isin([UNSHOCKED, shock]) & (wanted.quarter >= quarter)]
        if (acting.shock == shock).any() and (acting.shock == UNSHOCKED).any():
            values = with_shock(run_values(acting.drop(columns="shock"), list(STRESS_METRICS)), points)
            impact, draw = paired_impacts(values)
            blocks.append(impact)
            draws.append(draw)
    if not blocks:
        return pd.DataFrame(columns=IMPACT_COLUMNS), pd.DataFrame(columns=DRAW_COLUMNS)
    return pd.concat(blocks, ignore_index=True), pd.concat(draws, ignore_index=True)


def analyse(
    results: pd.DataFrame, points: pd.DataFrame, suite: tuple[Stress, ...], policies: int = 0, replications: int = 0
) -> Findings:
    """The findings of a stress test from its tidy ``results`` and design ``points`` (with ``shock``), of
    ``policies`` policies in ``replications`` replications each (0: as many as have results)."""
    tagged = with_shock(results, points)
    values = with_shock(run_values(results, list(STRESS_METRICS)), points)
    first = {s.name: s.quarter for s in suite}
    horizon = int(results.quarter.max()) if not results.empty else 0
    rollouts = [s.name for s in suite if any(x.kind == "rollout" for x in s.shocks)]
    # Plans: stresses of rollouts alone (one with quits is a plan in a harder world, and moves the model in force).
    plans = [s.name for s in suite if is_rollout_plan(x.kind for x in s.shocks) and s.name in set(values.shock)]
    gaps = quarterly_gaps(tagged)
    acting, draws = acting_impacts(tagged, points, first)
    inert_of = inert_by_policy(tagged, points)
    inert = inert_of_all(tagged, inert_of)
    unmoved = in_force(tagged, inert_of, plans)  # a rollout of the model in force: nothing to choose between
    same = {s: t for s, t in same_runs(tagged, points, rollouts).items() if s not in inert}
    same_of = {str(p): same_runs(g, points, rollouts) for p, g in tagged.groupby("policy", sort=False)}
    # A stress that changed nothing is the unshocked run again: no comparison of its own in a family, and no world
    # of its own in the regret (it had counted the unshocked run twice in "best under"); one that repeats another's
    # runs is that stress again.
    live = values[~values.shock.isin([*inert, *same])]
    try:
        ranking = stress_regret(live) if values.policy.nunique() > 1 else None
    except ValueError:  # no stress has a replication every policy finished
        ranking = None
    return Findings(
        stresses=[UNSHOCKED, *(s.name for s in suite)],
        first_quarter=first,
        description={UNSHOCKED: "no stress: the scenario as it is", **{s.name: s.what for s in suite}},
        values=values,
        impacts=acting,
        draws=draws,
        gaps=gaps,
        recovery=recovery(gaps, first),
        ranking=ranking,
        versus=policy_differences(live, ranking.robust) if ranking is not None else pd.DataFrame(),
        rollouts=rollout_choices(
            values[~values.policy.isin(unmoved)],
            plans,
            DECISION_METRIC,
            inert=inert_of,
            rolled_from={s.name: s.rolled_from for s in suite},
        ),
        inert=inert,
        inert_of=inert_of,
        same_as=same,
        same_of=same_of,
        rollout_stresses=rollouts,
        unfinished={
            s.name: f"{k}/{x.quarters}"
            for s in suite
            for x in s.shocks
            if isinstance(x, ModelRollout) and (k := max(0, min(horizon - x.quarter + 1, x.quarters))) < x.quarters
        },
        kinds={s.name: [x.kind for x in s.shocks] for s in suite},
        in_force=unmoved,
        expected_runs=len(points)
        * (policies or results.policy.nunique())
        * (replications or results.replication.nunique()),
        sources=money_sources(tagged, first),
        added=on_top(tagged, suite, DECISION_METRIC),
    )
