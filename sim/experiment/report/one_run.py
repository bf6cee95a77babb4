"""What a Why says of one run of each policy (``covsim run``, one seed): differences taken as they are, untested,
where the paired Why (``why.why``) says only those its intervals call clear."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from sim.experiment.report.assumed import mean_difference
from sim.experiment.report.markdown import amount, finite
from sim.experiment.stress import MISS_CAUSES
from sim.format import difference


def more_misses(d: pd.DataFrame, other: str, winner: str, there: str, quote: Callable[[str], str]) -> str:
    """``other`` misses N more opportunities than ``winner``, the cause of the most more, and of the most fewer
    where it offsets part (a trial read "117 more, no owner above all: 135 more" as the whole story: "..., stalled
    44 fewer"), from ``d`` (``winner`` minus ``other``), when ``other`` misses more in all; else ""."""
    extra = -mean_difference(d, "opps_missed")
    more = -d["mean_diff"].reindex([c for c in MISS_CAUSES if c in d.index]).dropna()
    if more.empty or not (finite(extra) and extra >= 1 and more.max() >= 1):
        return ""
    most, least = str(more.idxmax()), str(more.idxmin())
    said = f"{there}{quote(other)} misses {amount('opps_missed', extra)} more opportunities than {quote(winner)}, "
    said += f"{cause_words(most)} above all: {amount(most, more[most])} more"
    return said + (f", {cause_words(least)} {amount(least, -more[least])} fewer" if more[most] > extra else "")


def kept_better(d: pd.DataFrame, other: str, quote: Callable[[str], str], kept: tuple[str, str]) -> str:
    """``though behind, `other` churns less: it loses N fewer customers to churn and has a renewal rate +x pp, which
    the rest outweighs``, from ``d`` (the leader minus ``other``, segment all), for each of ``kept`` (customers
    churned, the renewal rate) in ``other``'s favour (at least one customer; a rate higher as shown); else "". A
    VP's hunter/farmer split, behind on profit, churned 234 fewer customers, which the one-seed Why had left out:
    the mechanism the split is sold on."""
    churned, rate = kept
    said = []
    if finite(fewer := mean_difference(d, churned)) and fewer >= 1:
        said.append(f"loses {amount(churned, fewer)} fewer customers to churn")
    if finite(higher := -mean_difference(d, rate)) and higher > 0 and difference(rate, higher) != difference(rate, 0):
        said.append(f"has a renewal rate {difference(rate, higher)}")
    return (
        f"though behind, {quote(other)} churns less: it {' and '.join(said)}, which the rest outweighs" if said else ""
    )


def cause_words(cause: str) -> str:
    """A miss cause in words: ``missed_no_owner``, "no owner"."""
    return cause.removeprefix("missed_").replace("_", " ")
