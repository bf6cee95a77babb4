"""The checks across a scenario's tables: the names a rep group or a shock gives that the population or the
team must hold, shocks after the run's end, and what the shocks together may not do.

They are given each table as checked (``INVALID`` where it has a problem of its own), so that a scenario's
problems come in one report: an unknown region in ``reps`` is said beside a population field's typo, not
after it is mended. A check that needs a table with a problem of its own is left out.
"""

from __future__ import annotations

import math
from typing import Any

from sim.codes import CLOSING_ROLES, FIELD_ROLES, OPPORTUNITY_KINDS, ROLES
from sim.shocks import MAX_SHIFT, HiringFreeze, ModelRollout, OverlayLaunch, PotentialShift, RepAttrition
from sim.strict_types import INVALID

Names = tuple[str, ...] | None


def scenario_problems(fields: dict[str, Any], regions: Names, segments: Names, lines: Names) -> list[str]:
    """The problems across a scenario's ``reps``, ``shocks`` and ``quarters`` (checked values; of ``reps`` and
    ``shocks`` a list with INVALID for an item with a problem of its own) and its population's ``regions``,
    ``segments`` and ``lines`` names (None: not known, that table has a problem of its own)."""
    listed, shocks, quarters = (fields[k] for k in ("reps", "shocks", "quarters"))
    problems: list[str] = []
    # The team is known only with every group: the seats' hours and roles are of them all.
    reps = listed if listed is not INVALID and all(g is not INVALID for g in listed) else INVALID
    if reps is not INVALID and sum(g.count * g.selling_hours for g in reps) <= 0:
        problems.append("reps: at least one rep with selling hours is needed")
    for i, g in enumerate([] if listed is INVALID else listed):
        if g is INVALID:
            continue
        if g.region and regions is not None and g.region not in regions:
            problems.append(f"reps.{i}.region: {_unknown('region', g.region, regions)}")
        if g.line and lines is not None and g.line not in lines:
            problems.append(f"reps.{i}.line: {_unknown('product line', g.line, lines)}")
    if shocks is not INVALID:  # each INVALID where it has a problem of its own
        problems += _shock_problems(dict(enumerate(shocks)), reps, quarters, regions, segments, lines)
    return problems


def _unknown(what: str, name: str, known: tuple[str, ...]) -> str:
    """``unknown region 'DACH' (the scenario's: dach, benelux)``, as a policy's parameter says a segment."""
    return f"unknown {what} {name!r} (the scenario's: {', '.join(known)})"


def _shock_problems(
    listed: dict[int, Any], reps: Any, quarters: Any, regions: Names, segments: Names, lines: Names
) -> list[str]:
    problems: list[str] = []
    shocks = {i: s for i, s in listed.items() if s is not INVALID}  # by their place in the file
    # Seats that exist at some point of the run: the reps' groups, and the specialists an overlay launches.
    roles = (
        None
        if reps is INVALID
        else {g.role for g in reps} | {"specialist" for s in shocks.values() if isinstance(s, OverlayLaunch)}
    )
    for i, s in shocks.items():
        where = f"shocks.{i}"
        if quarters is not INVALID and s.quarter > quarters:
            problems.append(f"{where}.quarter: {s.quarter} is after the last quarter ({quarters})")
        line = getattr(s, "line", "")
        if line and lines is not None and line not in lines:
            problems.append(f"{where}.line: {_unknown('product line', line, lines)}")
        for key in ("segment", "into"):
            segment = getattr(s, key, "")
            if segment and segments is not None and segment not in segments:
                problems.append(f"{where}.{key}: {_unknown('segment', segment, segments)}")
        region = getattr(s, "region", "")
        if region and regions is not None and region not in regions:
            problems.append(f"{where}.region: {_unknown('region', region, regions)}")
        opportunity = getattr(s, "opportunity", "")
        if opportunity == "renewal":
            problems.append(f"{where}.opportunity: renewals come due on contract dates, not at a rate to shock")
        elif opportunity and opportunity not in OPPORTUNITY_KINDS:
            rated = [k for k in OPPORTUNITY_KINDS if k != "renewal"]
            problems.append(f"{where}.opportunity: unknown kind {opportunity!r} (a rate's kinds: {', '.join(rated)})")
        role = getattr(s, "role", "")
        if role and role not in ROLES:
            # A sales leader names the reps by the segment they serve ("enterprise"); a shock names their role.
            serve = f"; {role!r} is a segment: name the role of its reps" if segments and role in segments else ""
            known = f"the scenario's: {', '.join(sorted(roles))}" if roles else f"the roles: {', '.join(ROLES)}"
            problems.append(f"{where}.role: unknown role {role!r} ({known}){serve}")
        elif role and roles is not None and role not in roles:
            problems.append(f"{where}.role: no group of reps has role {role!r}")
        known_region = not region or regions is None or region in regions  # an unknown one is said above
        if isinstance(s, RepAttrition) and s.seats and roles is not None and s.role in ("", *roles) and known_region:
            # Seats spread over every region may be in any: an upper bound, so that no possible case is refused.
            most = sum(g.count for g in reps if s.role in ("", g.role) and s.region in ("", g.region or s.region))
            most += sum(
                x.specialists for x in shocks.values() if isinstance(x, OverlayLaunch) and s.role in ("", "specialist")
            )
            if s.seats > most:
                of = " ".join(x for x in (s.role, "seat" if most == 1 else "seats") if x)
                place = f" in region {s.region!r}" if s.region else ""
                leave = "1 seat leaves" if s.seats == 1 else f"{s.seats} seats leave"
                problems.append(f"{where}.seats: {leave}, but the team has {most} {of}{place}")
        if isinstance(s, HiringFreeze) and s.until_quarter < s.quarter:
            problems.append(f"{where}.until_quarter: {s.until_quarter} is before the shock's quarter ({s.quarter})")
    rollouts = [i for i, s in shocks.items() if isinstance(s, ModelRollout)]
    for i in rollouts[1:]:
        problems.append(f"shocks.{i}: a scenario has at most one rollout (shocks.{rollouts[0]} is one)")
    if segments is not None:
        shift = {i: s for i, s in shocks.items() if isinstance(s, PotentialShift)}
        # A shift persists, so a segment's shifts multiply: together they keep MAX_SHIFT.
        for ids in sorted({tuple(i for i, s in shift.items() if s.segment in ("", g)) for g in segments}):
            if len(ids) > 1 and (product := math.prod(shift[i].factor for i in ids)) > MAX_SHIFT:
                problems.append(
                    f"shocks.{ids[-1]}.factor: the potential shifts {', '.join(map(str, ids))} multiply potentials "
                    f"by {product:,.4g} together, more than {MAX_SHIFT:g}"
                )
    return problems


#: The renewal value_share above which a scenario's note says it [A]: a renewal at more than twice the contract's
#: spend is growth, which is expansion's, or a percentage typed as a share; a price uplift (1.05) is neither.
RENEWAL_SHARE_NOTED = 2.0


def scenario_notes(scenario: Any) -> list[str]:
    """What a valid scenario holds that is most likely a slip, said beside it but not refused: a won deal's
    ``value_share`` above 1 (more than the untapped wallet; a renewal's above ``RENEWAL_SHARE_NOTED``), which a
    percentage typed as a share gives (20 for 0.2: revenue captured came out at several times the whole
    potential, unsaid) and ``covsim calibrate --units`` writes on purpose; a team with idle seats or no closer,
    and a region too wide to visit."""
    notes = []
    for i, s in enumerate(scenario.population.segments):
        for kind in ("new_logo", "expansion", "renewal"):
            share = getattr(s, kind).value_share
            if share > (RENEWAL_SHARE_NOTED if kind == "renewal" else 1.0):
                of = "the contract's spend" if kind == "renewal" else "the untapped wallet"
                notes.append(
                    f"population.segments.{i}.{kind}.value_share: {share:g} makes a won {kind.replace('_', '-')} "
                    f"worth {share:g} times {of} (a share is written 0.2 for 20%; calibrate --units writes shares "
                    "above 1 on purpose)"
                )
    return notes + _idle_teams(scenario) + _out_of_reach(scenario) + _flooded(scenario)


#: Opportunities a week per selling hour of the team from which a scenario is said to be flooded [A]: the shipped
#: worlds raise 0.1-0.4, and the run's time and memory grow with the opportunities (2,000 accounts at the highest
#: rate a segment may have, 230 a selling hour, took 49 s and 0.7 GB a quarter; 100,000 ran out of memory).
FLOODED = 10.0


def _flooded(scenario: Any) -> list[str]:
    """A world that raises far more opportunities than its team has hours, which a rate typed per week, or per
    account where the file means per segment, gives: valid, but nearly every lead goes unanswered and the run
    takes minutes to hours where the same team with a sane rate takes seconds."""
    pop = scenario.population
    # Expected arrivals a week with no relationship: a segment's rate is per account-year of median potential,
    # scaled by (potential / median) ** potential_exponent, whose mean over the lognormal potential is
    # exp((exponent x sigma)^2 / 2); prospects raise new logos, customers expansions.
    weekly = sum(
        pop.customers
        * g.share
        * (g.customer_share * g.expansion.rate_per_year + (1 - g.customer_share) * g.new_logo.rate_per_year)
        * math.exp((g.potential_exponent * g.potential_sigma) ** 2 / 2)
        / 52
        for g in pop.segments
    )
    hours = sum(g.count * g.selling_hours for g in scenario.reps)
    if hours <= 0 or weekly / hours < FLOODED:
        return []
    return [
        f"population.segments: the opportunity rates raise about {weekly:,.0f} opportunities a week, "
        f"{weekly / hours:,.0f} for each of the team's {hours:,.0f} selling hours (the shipped worlds: under 1): "
        "nearly all go unanswered, and the run's time and memory grow with them (minutes to hours; rate_per_year "
        "is per account-year of median potential, not per segment)"
    ]


def _idle_teams(scenario: Any) -> list[str]:
    """Rep groups with seats but no selling hours, and a team of which no seat closes a deal: valid, but every
    lead then goes unworked or stalls (an analyst's team of 12 SDRs ran with no word of it)."""
    notes = [
        f"reps.{i}: {g.count} {g.role} seat{'' if g.count == 1 else 's'} with no selling hours a week (weekly_hours "
        f"{g.weekly_hours:g} x selling_share {g.selling_share:g}): they do no work"
        for i, g in enumerate(scenario.reps)
        if g.count and g.selling_hours == 0
    ]
    if not any(g.count and g.role in CLOSING_ROLES for g in scenario.reps):
        notes.append(
            "reps: no seat can close a deal (an sdr qualifies and hands on to a closer): every lead a rep answers "
            "stalls, and only the digital channel, where it is on, wins any"
        )
    return notes


#: The quantile of the distance from a field rep to an account of its region at which a visit is checked [A]: one
#: account in 20 lies farther.
FAR_QUANTILE = 0.95


def _out_of_reach(scenario: Any) -> list[str]:
    """A region where a field rep's visit to one account in 20 takes longer, with its travel, than the rep's
    selling week, so that such visits are never made (a territory planner's promised visits went unmade, unsaid).
    Accounts lie around the region's centre with sd ``radius_km`` each way, home bases with half of it
    (``sim.reps``), so the distance between them is Rayleigh with sd ``radius_km x sqrt(1.25)``."""
    notes = []
    visit, speed = scenario.activities.visit_hours, scenario.workforce.travel_speed_kmh
    for i, region in enumerate(scenario.population.regions):
        far = region.radius_km * math.sqrt(1.25) * math.sqrt(-2.0 * math.log(1.0 - FAR_QUANTILE))
        hours = visit + far / speed
        # A group with no selling hours is said by _idle_teams: its visits are not the region's distances' fault.
        groups = [g for g in scenario.reps if g.role in FIELD_ROLES and g.region in ("", region.name) and g.count]
        week = min((g.selling_hours for g in groups if g.selling_hours > 0), default=math.inf)
        if hours > week:
            notes.append(
                f"population.regions.{i}.radius_km: a field visit to one account in 20 of {region.name} (about "
                f"{far:,.0f} km from the rep) takes {hours:.1f} h with its travel, more than a field rep's "
                f"{week:.1f} selling hours a week: such visits are never made"
            )
    return notes
