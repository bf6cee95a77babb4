"""What a lead may rest on that the model assumes [A]: the cost of conflicting engagement, the hours of account
plans, and the lifts a relationship gives an account's opportunities and win odds.

The Why of an answer (``sim.experiment.report.why``) says each of these beside the lead it helps explain, with the
``--set`` that compares without it, where the world compared has it: on a world calibrated from the shared CRM
export, ``named_accounts``' profit lead over ``unstructured`` (+0.9M) fell to +346k without the conflicts' cost and
vanished (-55k, not distinguishable) without the relationship's lifts as well, where the answer had named the
conflicts' cost alone (an analyst's trial; docs/validation.md, "Relationship lifts").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.errors import InputError
from sim.experiment.design import scenario_at
from sim.experiment.report.markdown import amount, finite
from sim.experiment.spec import Factor
from sim.format import difference_interval, money
from sim.selling import Adbudg, Power, Relationship

#: Two or more closing reps of one account working it in one week with no account plan (docs/metrics.md): the
#: overlay's mechanism, which a VP's Why left out beside 379 fewer of them; and the deals decided under its
#: penalty, by which its part of a lead is sized (a VP's 18.4M lead was said to be 12 more conflicts, which
#: decided 18 deals).
CONFLICTS, IN_CONFLICT, PLANS = "conflicting_engagements", "opps_decided_in_conflict", "coordination_hours"
#: The opportunities that arose, the deals won and those of them the digital channel won with no rep.
CREATED, WON, DIGITAL_WON = "opps_created", "opps_won", "digital_won"


@dataclass(frozen=True)
class Assumed:
    """The assumed mechanisms of the world compared that can decide a comparison: whether conflicting engagement
    costs anything (:func:`conflicts_cost`), and the ``--set`` arguments that switch off the lift a
    relationship gives an account's opportunities (``arrival_off``) and its win odds (``win_off``); "" where the
    world has no such lift; ``falls``: the opportunities' curve falls with the relationship (an ADBUDG ``a`` below
    its ``b``)."""

    conflicts_cost: bool = True
    arrival_off: str = ""
    win_off: str = ""
    falls: bool = False


#: What a Why assumes of a world it is told nothing of: conflicts cost (their default) and no lift is said.
UNSAID = Assumed()


def assumed(relationship: Mapping[str, Any], targets: Iterable[str]) -> Assumed:
    """The :class:`Assumed` of a world of this ``relationship`` table (a scenario's, as a mapping or a model's
    ``vars``; a key it lacks has its default) under a design whose factors set ``targets`` (``scenario.<path>``):
    a lift a factor sets is taken to be there (some points may have it)."""
    targets = list(targets)
    set_by = {k: _set_by(targets, k) for k in ("response", "win_weight")}
    response = relationship.get("response", Relationship.model_fields["response"].default)
    fields = dict(response) if isinstance(response, Mapping) else vars(response)
    model = Power if fields.get("kind") == "power" else Adbudg
    shape = {k: fields.get(k, f.default) for k, f in model.model_fields.items()}
    falls = False
    if model is Power:  # y = b + z x^e: flat where z is 0
        arrival = "--set relationship.response.z=0" if shape["z"] != 0 or set_by["response"] else ""
    else:  # y = b + (a - b) x^c / (d + x^c): flat where a is b (a must stay above 0: a curve from 0 has no --set)
        lifts = shape["a"] != shape["b"] or set_by["response"]
        arrival = f"--set relationship.response.a={_number(shape['b'])}" if lifts and shape["b"] > 0 else ""
        falls = shape["a"] < shape["b"]
    weight = float(relationship.get("win_weight", Relationship.model_fields["win_weight"].default))
    win = "--set relationship.win_weight=0" if weight != 0 or set_by["win_weight"] else ""
    return Assumed(conflicts_cost(relationship, targets), arrival, win, falls)


def assumed_by_point(
    scenario: Mapping[str, Any], factors: Iterable[Factor], points: pd.DataFrame
) -> dict[int, Assumed]:
    """Each design point's :class:`Assumed` (``points``: the design, a ``point`` column and one per factor name): of
    the relationship table of the ``scenario`` data (as read from TOML, or a model's JSON dump) with the ``factors``
    applied there as the plan applies them (a researcher's answer at ``win_weight = 0`` had named the win-odds lift
    and a --set that changed nothing). Where a point's table cannot be made, what :func:`assumed` presumes of the
    factors' targets (a lift a factor sets is there)."""
    factors = [f for f in factors if f.target.startswith("scenario.")]
    # The relationship table alone is copied at each point: the whole scenario's copy took ten times as long (0.16
    # ms), seconds over a sampled design's thousands of points; a factor elsewhere finds nothing in it to change.
    base = {"relationship": scenario.get("relationship", {})}
    presumed = assumed(base["relationship"], [f.target for f in factors])
    out = {}
    for row in points.to_dict("records"):
        try:
            data = scenario_at(base, factors, row) if factors else base
            out[int(row["point"])] = assumed(data["relationship"], [])
        except (KeyError, TypeError, ValueError, InputError):  # a value the table cannot hold: presumed
            out[int(row["point"])] = presumed
    return out


def conflicts_cost(relationship: Mapping[str, Any], targets: Iterable[str]) -> bool:
    """Whether a conflicting engagement costs anything in a world of this ``relationship`` table (as
    :func:`assumed` reads it) under a design whose factors set ``targets``: False only where ``conflict_penalty``
    and ``conflict_stock_loss`` are both 0 and no factor sets either."""
    keys = ("conflict_penalty", "conflict_stock_loss")
    targets = list(targets)
    if any(_set_by(targets, k) for k in keys):
        return True
    return any(float(relationship.get(k, Relationship.model_fields[k].default)) != 0 for k in keys)


def _set_by(targets: list[str], key: str) -> bool:
    """Whether a factor of ``targets`` (``scenario.<path>``, ``*`` any key) sets ``relationship.<key>``, a field of it
    or the table that holds it."""
    parts = ["scenario", "relationship", *key.split(".")]
    return any(all(a in ("*", b) for a, b in zip(t.split("."), parts, strict=False)) for t in targets)


def _number(x: float) -> str:
    """``x`` as a --set value that reads back as the same float (1 for 1.0; ``:g`` had rounded 1.23456789)."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def mean_difference(d: pd.DataFrame, metric: str) -> float:
    """The paired mean difference of ``metric`` in ``d`` (NaN: not there)."""
    return float(d.at[metric, "mean_diff"]) if metric in d.index else float("nan")


def clearly_more(d: pd.DataFrame, metric: str) -> bool:
    """Whether the leader has at least one more of ``metric`` than the policy behind in ``d`` (paired differences,
    the leader minus the other), its interval above 0."""
    return metric in d.index and d.at[metric, "low"] > 0 and d.at[metric, "mean_diff"] >= 1


def relationship_lifts(
    d: pd.DataFrame, winner: str, other: str, quote: Callable[[str], str], lifts: Assumed, there: str = ""
) -> str:
    """That ``winner``'s lead may rest on what a relationship does, an account's opportunities and win odds moved by
    assumed curves, with the ``--set`` that compares without them, from ``d`` (``winner`` minus ``other``, in one
    segment or all; ``there``: its words, such as "in `enterprise`, "): where the world has such a lift and
    ``winner`` has clearly more opportunities arising, or clearly more deals won with no more of them by the digital
    channel (which wins with no relationship); the opportunities said first, where clear; else ""."""
    parts = [
        (off, words)
        for off, words in (
            (lifts.arrival_off, f"opportunities ({quote('relationship.response')})"),
            (lifts.win_off, f"win odds ({quote('relationship.win_weight')})"),
        )
        if off
    ]
    by_reps = clearly_more(d, WON) and not mean_difference(d, DIGITAL_WON) > 0
    if not parts or not (clearly_more(d, CREATED) or by_reps):
        return ""
    said = ""
    if clearly_more(d, CREATED):
        low, high = (float(d.at[CREATED, k]) for k in ("low", "high"))
        said = (
            f"{there}under {quote(winner)}, {amount(CREATED, mean_difference(d, CREATED))} more opportunities arise than "
            f"under {quote(other)} {difference_interval(CREATED, low, high, signed=False)} (paired 95% interval), and "
        )
    switched = " ".join(off for off, _ in parts)
    return said + (
        f"the lead may rest on what a relationship does: it {'changes' if lifts.falls else 'raises'} an account's "
        + " and ".join(words for _, words in parts)
        + f" by amounts assumed [A], which a CRM export cannot calibrate ({quote(switched)} compares without "
        + ("it" if len(parts) == 1 else "them")
        + "; docs/validation.md, Relationship lifts)"
    )


def conflicts(d: pd.DataFrame, winner: str, other: str, quote: Callable[[str], str], worth: float, lead: float) -> str:
    """``other`` has N more conflicting engagements than ``winner`` [paired 95% interval], and what each costs,
    from ``d`` (``winner`` minus ``other``, segment all) when the interval is below 0 and N at least one; else ""
    (the leader having more is no reason for its lead). With ``worth`` (the leader's mean value per won deal) and
    ``lead`` (in money), the most the extra deals decided in conflict could come to, as a share of the lead."""
    if CONFLICTS not in d.index or not (d.at[CONFLICTS, "high"] < 0 and d.at[CONFLICTS, "mean_diff"] <= -1):
        return ""
    more, low, high = (-float(d.at[CONFLICTS, k]) for k in ("mean_diff", "high", "low"))
    said = (
        f"{quote(other)} has {amount(CONFLICTS, more)} more conflicting engagements than {quote(winner)} "
        f"{difference_interval(CONFLICTS, low, high, signed=False)} (paired 95% interval): two reps of one account "
        "working it in one week with no account plan, which costs the deals open on it wins and relationship "
        f"(by {quote('relationship.conflict_penalty')}, an assumption [A] that can turn such a comparison: "
        f"{quote('--set relationship.conflict_penalty=0 --set relationship.conflict_stock_loss=0')} compares "
        "without it; docs/validation.md, Overlays)"
    )
    decided = -mean_difference(d, IN_CONFLICT)
    if finite(decided) and decided >= 1:
        said += f"; {amount(IN_CONFLICT, decided)} more of its deals were decided in conflict"
        if finite(worth, lead) and lead > 0:
            said += (
                f": even had the conflict cost it every one, at {quote(winner)}'s mean value per won deal, "
                f"{money(worth)}, they would come to about {money(decided * worth)}, "
                f"{decided * worth / lead:.0%} of the lead (a deal on an account two reps work may be worth more)"
            )
    # What avoiding them cost, where the leader coordinates accounts: hours of an assumed size too (a VP's trial).
    planned = mean_difference(d, PLANS)
    if finite(planned) and planned >= 1:
        said += (
            f"; {quote(winner)} spent {amount(PLANS, planned)} more hours on account plans, which keep "
            f"an account's reps coordinated (by {quote('relationship.coordination_hours')}, an assumption [A] too)"
        )
    return said
