"""Accounts the export's agents worked side by side: the share of account-weeks in which two or more agents engaged
an account's opportunities, which the model reads as conflicting engagement unless an account plan coordinates
them (docs/scenario-format.md 8.5)."""

from __future__ import annotations

import pandas as pd

#: Calibrate says how often agents shared an account's week from this share of such weeks on [A].
SHARED_NOTED = 0.2


def shared_weeks(pipe: pd.DataFrame, where: str) -> list[str]:
    """A note when ``SHARED_NOTED`` or more of the account-weeks with an engagement (weeks counted from the first
    engage_date) had two or more agents engaging the account: the model counts two closing reps working one account
    in a week without an account plan as a conflicting engagement, at a cost it assumes (``conflict_penalty``,
    ``conflict_stock_loss`` [A]). On the shared export, 55% of such weeks, and under ``unstructured`` nearly every
    deal of a calibrated run is decided in conflict (98.6% over four quarters, seeds 1-3; none under segment_tiers)."""
    engaged = pipe[pipe["known"] & pipe["engage_date"].notna() & pipe["sales_agent"].notna()]
    if engaged.empty:
        return []
    week = (engaged["engage_date"] - engaged["engage_date"].min()).dt.days // 7
    agents = engaged.groupby([engaged["account"], week])["sales_agent"].nunique()
    shared = float((agents >= 2).mean())
    if shared < SHARED_NOTED:
        return []
    return [
        f"{where}: in {shared:.0%} of the {len(agents):,} account-weeks with an engagement, two or more agents engaged "
        f"the account (mean {agents.mean():.1f}): the model counts two closing reps working an account in one week "
        "without an account plan as a conflicting engagement, which costs its open deals win odds and relationship "
        "(relationship.conflict_penalty and conflict_stock_loss, assumptions [A]), so a policy whose reps work "
        "accounts so (unstructured, the scenario's own) pays for what this team did routinely, and that assumed cost "
        "can decide a comparison (on the shared export it does, at 10 replications: segment_tiers clearly ahead of "
        "unstructured with it, clearly behind without it, where 5 tell neither; docs/scenario-format.md 8.5): compare again with both set to 0 before reading a "
        "ranking (covsim compare ... --set relationship.conflict_penalty=0 --set relationship.conflict_stock_loss=0)"
    ]
