"""What the answer says of the team and the work it is given (``answer.answer``): the seats a policy leaves idle,
where the accounts in no rep's book are served, and when every policy misses most of its opportunities or makes a
loss."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.codes import ROLES, SERVICES
from sim.experiment import stats
from sim.experiment.suite import UNSHOCKED
from sim.format import fmt, joined
from sim.tables import every_loss, missing_most


def idle_seats(
    results: pd.DataFrame | None, point: int, policies: list[str], quote: Callable[[str], str], where: str = ""
) -> str:
    """`` `a` gives no specialist seat any work ...``: the policies that leave a role's seats idle at ``point``
    (no hours in any run, though the seats are there: their utilisation is defined) while another policy works
    them, and some seats of a role it never gives an hour of work all run (:func:`_idle_of_a_role`); else "".
    Those seats count in the idle policy's cost of sales and utilisation all the same, which a sales leader reads
    as a mechanism only when told (a compare of an overlay showed segment_tiers 11.7 pp less utilised, its six
    specialists idle, with nothing to say why)."""
    if results is None or results.empty:
        return ""
    names = [f"{kind}_{r}" for r in ROLES for kind in ("hours_role", "utilisation")]
    at = results[(results.point == point) & results.metric.isin(names)]
    said = [] if at.empty else _idle_roles(stats.run_values(at, names), policies, quote)
    said += _idle_of_a_role(results, point, policies, quote)
    if not said:
        return ""
    return (
        f" Idle seats{where}: {'; '.join(said)}. They are paid all the same: in the cost of sales and the utilisation of "
        "the policy that leaves them idle."
    )


def unshocked_idle(
    results: pd.DataFrame, points: pd.DataFrame, policies: list[str], quote: Callable[[str], str]
) -> str:
    """:func:`idle_seats` of a stress test, in its runs without a stress: an analyst's stress of a hunter/farmer
    split on a calibrated team said nothing of its 12 hunters with no prospects to hunt; "" for none."""
    unshocked = points.point[points["shock"] == UNSHOCKED] if "shock" in points else pd.Series(dtype=int)
    return "" if unshocked.empty else idle_seats(results, int(unshocked.iloc[0]), policies, quote, " without a stress")


def _idle_roles(v: pd.DataFrame, policies: list[str], quote: Callable[[str], str]) -> list[str]:
    """The roles whose every seat one policy leaves without an hour in any run while another works them (``v``:
    run values of ``hours_role_*`` and ``utilisation_*``)."""
    said = []
    for role in ROLES:
        hours = v[v.metric == f"hours_role_{role}"].groupby("policy")["value"]
        seated = (
            v[v.metric == f"utilisation_{role}"].groupby("policy")["value"].apply(lambda x: bool(np.isfinite(x).any()))
        )
        worked = [p for p in policies if p in hours.groups and hours.get_group(p).max() > 0]
        idle = [p for p in policies if seated.get(p, False) and p in hours.groups and hours.get_group(p).max() == 0]
        if worked and idle:
            # "no ... seat any work": one seat or several (a trial read "its sdr seats" of small.toml's one).
            gives = "gives" if len(idle) == 1 else "give"
            works = "works" if len(worked) == 1 else "work"
            said.append(
                f"{joined([quote(p) for p in idle])} {gives} no {role} seat any work (no hours in any run; "
                f"{joined([quote(p) for p in worked])} {works} the role)"
            )
    return said


def _idle_of_a_role(results: pd.DataFrame, point: int, policies: list[str], quote: Callable[[str], str]) -> list[str]:
    """`` `b` gives 12 of its 35 full_cycle seats no work all run (means over the replications)``: per policy, the
    roles of which it leaves some seats, not all, without an hour of work since the run's start (``idle_seats_*``
    of ``seats_*``, at least one on the mean). A calibrated team's 12 hunters with no prospects to hunt were said
    by ``covsim run`` and by no compare or stress answer, which a VP would read as a fair test of the split."""
    names = [f"{kind}_{r}" for r in ROLES for kind in ("seats", "idle_seats")]
    at = results[(results.point == point) & results.metric.isin(names)]
    if at.empty:
        return []
    mean = stats.run_values(at, names).groupby(["policy", "metric"])["value"].mean()
    said = []
    for policy in policies:
        parts = []
        for role in ROLES:
            seats, idle = (float(mean.get((policy, f"{kind}_{role}"), np.nan)) for kind in ("seats", "idle_seats"))
            if np.isfinite(seats) and np.isfinite(idle) and 1 <= idle < seats:
                parts.append(f"{_mean_count(idle)} of its {_mean_count(seats)} {role} seat{'s' * (seats != 1)}")
        if parts:
            said.append(f"{quote(policy)} gives {joined(parts)} no work all run (means over the replications)")
    return said


def _mean_count(count: float) -> str:
    """A mean count of seats: ``12``, or ``34.8`` where the replications differ (rounded, 34.75 of 35 had read
    "about 35 of its 35")."""
    return f"{count:,.0f}" if count == round(count) else f"{count:,.1f}"


#: Policies are said to serve the accounts in no book differently when the shares of them they leave to the digital
#: channel (the rest queued for reps) differ by this much or more [A]: a tenth of them a VP would want named.
SERVICE_GAP = 0.1


def no_book_service(results: pd.DataFrame | None, point: int, policies: list[str], quote: Callable[[str], str]) -> str:
    """`` Where the live accounts are served ...``: when the policies at ``point`` leave shares of the accounts in
    no rep's book to the digital channel (of those and the ones queued for reps) that differ by ``SERVICE_GAP`` or
    more, where each puts the live accounts (``accounts_<service>``) and what the digital channel won
    (``digital_won``), means over the replications; else "". A VP had read the misses of hunter_farmer's queue as
    the split's, against named_accounts, which left the same accounts to the digital channel. Of the accounts in
    no book only: policies that differ by the size of their books alone differ by their books."""
    names = [f"accounts_{s}" for s in reversed(SERVICES)]
    at = None if results is None else results[(results.point == point) & results.metric.isin([*names, "digital_won"])]
    if at is None or at.empty or not at.metric.isin(names).any():  # a store written before these metrics were
        return ""
    means = stats.run_values(at, [*names, "digital_won"]).groupby(["policy", "metric"])["value"].mean().unstack()
    means = means.reindex(index=[p for p in policies if p in means.index], columns=[*names, "digital_won"])
    means = means.dropna(subset=names)
    outside = means["accounts_digital"] + means["accounts_pooled"]
    digital = (means["accounts_digital"] / outside)[outside > 0]
    if digital.size < 2 or not digital.max() - digital.min() >= SERVICE_GAP:
        return ""
    each = "; ".join(
        f"{quote(p)} "
        + ", ".join(
            f"{fmt(m, float(means.loc[p, m]))} {w}" for m, w in zip(names, ("named", "queued", "digital"), strict=True)
        )
        for p in means.index
    )
    won = means["digital_won"].fillna(0.0)
    channel = (
        "the digital channel costs no rep hours and won "
        + ", ".join(
            f"{fmt('digital_won', float(won[p]))}{' of their deals' if i == 0 else ''} under {quote(p)}"
            for i, p in enumerate(means.index)
        )
        if (won > 0).any()
        else "the digital channel won none of their deals here (it is off, or wins nothing in this world)"
    )
    return (
        " Where the live accounts are served (named: in a rep's book; queued: in a shared queue of reps; digital: "
        f"left to the digital channel; means over the replications): {each}. A shared queue costs rep hours and "
        f"misses what its reps cannot reach; {channel}: part of the differences is where each policy puts the "
        "accounts in no rep's book, not its books."
    )


def team_notes(results: pd.DataFrame | None, point: int, policies: list[str], quote: Callable[[str], str]) -> list[str]:
    """What the answer says of the team at ``point`` and the work it is given, each a finding of its own (one
    answer's list item had held two): its idle seats (:func:`idle_seats`), where the accounts in no book are served
    (:func:`no_book_service`), when every policy misses most of its opportunities, whether for want of hours or
    with hours to spare (``sim.tables.missing_most``), and when every policy makes a loss
    (``sim.tables.every_loss``)."""
    said = [idle_seats(results, point, policies, quote), no_book_service(results, point, policies, quote)]
    at = None if results is None else results[(results.point == point) & results.metric.isin(_TEAM_METRICS)]
    if at is None or at.empty:
        return [s for s in said if s]
    means = stats.run_values(at, _TEAM_METRICS).groupby(["policy", "metric"])["value"].mean().unstack()
    means = means.reindex(index=[p for p in policies if p in means.index], columns=_TEAM_METRICS)
    if means.shape[0] < len(policies):
        return [s for s in said if s]
    rates, used, profit = (means[m].tolist() for m in _TEAM_METRICS)
    names = [quote(p) for p in policies]
    said += [missing_most(rates, used, names, "means over the replications"), every_loss(profit, names)]
    return [s for s in said if s]


#: What :func:`team_notes` reads of each policy to say it misses most of its opportunities, and why, and that
#: every policy makes a loss.
_TEAM_METRICS = ["miss_rate", "utilisation", "profit"]
