"""Scenario files: TOML validated once, at the edge, into frozen typed objects.

A scenario is everything about the world a coverage policy is tried in: the customer population, the sales
team, how relationships and responses behave, service levels, the digital channel and scheduled shocks. Every
field, its unit, default and source is documented in ``docs/scenario-format.md``.

Validation is strict (``"500"`` is not an integer, unknown keys are errors) and follows JSON's types
(``sim.strict``), so TOML arrays become tuples and TOML integers are accepted where a float is expected, but
nothing else is coerced.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import tomli_w

from sim.clock import WEEKS_PER_QUARTER
from sim.codes import ROLES
from sim.config import (
    Name,
    NonNegative,
    PolicyConfig,
    Positive,
    Probability,
    locate,
    read_toml,
    refuse_removed,
    require_kind,
    validate_strict,
)
from sim.errors import InputError
from sim.scenario_checks import scenario_problems
from sim.selling import Activities, Digital, Relationship, Service
from sim.shocks import Shock
from sim.strict import Field, Problems, Strict, model_validator
from sim.strict_types import INVALID

Role = Literal["hunter", "farmer", "full_cycle", "sdr", "inside", "specialist", "partner"]


#: The largest amount a scenario may name (a median wallet, a seat's cost), currency units a year [A]:
#: a trillion, beyond any account or seat, so that sums over millions of accounts stay finite.
MAX_AMOUNT = 1e12
#: The most customers (accounts, or buying units) a scenario may hold [A]: 500 times the 100,000 of DESIGN's world.
MAX_CUSTOMERS = 50_000_000
#: The largest lognormal spread a scenario may name [A]: exp(5 z) already spans a factor of e^20 between
#: z = -2 and 2; a larger one overflows the draws (1e308 gave infinite revenue).
MAX_SIGMA = 5.0
#: The largest value_share a deal may name [A]: above 1 is a deal worth more than the untapped wallet, which a
#: calibration with buying units gives (--units divides the wallet, not the deal), so the bound is far beyond
#: it: a million times the wallet is a typing error, and 1e308 overflowed the revenue to infinity and the profit
#: to NaN.
MAX_VALUE_SHARE = 1e6
#: The most industries, regions, segments or product lines a scenario may name [A]: accounts and opportunities
#: store each as an int8 code, and 100 of any is far beyond a sales org or a CRM's sector list.
MAX_CATEGORIES = 100
#: The largest distance a region may spread over, km [A]: half the earth's circumference; a larger one is a
#: typing error (1e308 overflowed the location draws).
MAX_KM = 20_000.0
#: The highest opportunity rate a year [A]: 100 a week at the median potential, 55 times the CRM export's busiest
#: segment; arrivals are a Poisson count a week, so 1e7 would raise millions of opportunities a week, not refuse.
MAX_RATE = 5_200.0


class OpportunityKind(Strict):
    """One kind of opportunity raised at a rate (new logo or expansion) in one segment."""

    rate_per_year: Annotated[float, Field(ge=0.0, le=MAX_RATE)]
    """Opportunities per account-year of median potential with no relationship; scales with potential."""
    effort_hours: Positive
    """Median rep hours needed after the first response to bring it to a decision (each deal draws its own)."""
    cycle_weeks: Annotated[int, Field(ge=1, le=104)]
    """Median planned sales cycle, weeks (each deal draws its own): the effort is delivered in equal weekly
    parts over it."""
    win_probability: Probability
    """Win probability for an average account (responsiveness 0.5, no relationship, skill 1, answered at once)."""
    value_share: Annotated[float, Field(ge=0.0, le=MAX_VALUE_SHARE)]
    """Won value as a share of the untapped wallet, potential - spend."""


class RenewalKind(Strict):
    """Renewals in one segment: they come due on each customer's contract date, not at a rate."""

    effort_hours: Positive
    """Median rep hours to work a renewal after the first response."""
    cycle_weeks: Annotated[int, Field(ge=1, le=104)]
    """Median weeks of work a renewal needs; the work must be done by the renewal date."""
    value_share: Annotated[float, Field(ge=0.0, le=MAX_VALUE_SHARE)] = 1.0
    """Renewed contract value as a share of current spend when a rep wins the renewal."""

    @model_validator(mode="before")
    @classmethod
    def _earlier_format(cls, data: Any) -> Any:
        return refuse_removed(
            data,
            {
                "rate_per_year": "renewals come due on contract dates (set the segment's contract_term_weeks)",
                "win_probability": "a renewal's chance follows from the segment's churn_per_year (docs/ODD.md)",
            },
        )


class Segment(Strict):
    """A customer segment: its size, wallet, responsiveness and opportunity kinds."""

    name: Name
    share: Annotated[float, Field(gt=0.0, le=1.0)]
    """Share of the population in this segment."""
    potential_median: Annotated[float, Field(gt=0.0, le=MAX_AMOUNT)]
    """Median annual wallet, currency units per year (lognormal)."""
    potential_sigma: Annotated[float, Field(ge=0.0, le=MAX_SIGMA)] = 1.0
    """Lognormal shape (standard deviation of log potential)."""
    potential_exponent: NonNegative = 0.5
    """Opportunity rates scale with (potential / median) ** this exponent."""
    responsiveness: tuple[Positive, Positive] = (2.0, 2.0)
    """Beta(a, b) parameters of responsiveness to sales effort (0 = indifferent, 1 = fully)."""
    customer_share: Probability
    """Share of accounts that are already customers at week 0."""
    share_of_wallet: Annotated[float, Field(gt=0.0, le=1.0)]
    """Initial spend of a customer as a share of its potential."""
    churn_per_year: Annotated[float, Field(ge=0.0, lt=1.0)]
    """Annual churn probability of a customer nobody covers (no rep time at all): at renewals and between."""
    mid_term_churn_share: Probability = 0.2
    """Share of that churn that happens between renewals; the rest happens at the renewal date."""
    contract_term_weeks: Annotated[int, Field(ge=4, le=520)] = 52
    """Contract term, weeks: a customer's contract comes up for renewal this often."""
    renewal_notice_weeks: Annotated[int, Field(ge=1, le=52)] = 8
    """Weeks before the renewal date that the renewal opportunity opens."""
    value_sigma: Annotated[float, Field(ge=0.0, le=MAX_SIGMA)] = 0.5
    """Lognormal spread of won value around its expected share (mean preserved)."""
    deal_sigma: Annotated[float, Field(ge=0.0, le=MAX_SIGMA)] = 0.6
    """Lognormal spread of each deal's effort hours and cycle weeks around the segment's medians (one draw
    scales both: a bigger deal takes more hours and more weeks)."""
    new_logo: OpportunityKind
    expansion: OpportunityKind
    renewal: RenewalKind

    @model_validator(mode="after")
    def _check(self) -> Segment:
        if self.renewal_notice_weeks >= self.contract_term_weeks:
            # An analyst's contract_term_weeks = 8 was refused by a notice the file never set (its default, 8).
            default = type(self).model_fields["renewal_notice_weeks"].default
            raise ValueError(
                f"renewal_notice_weeks: must be shorter than contract_term_weeks ({self.renewal_notice_weeks} weeks, "
                f"not less than {self.contract_term_weeks}; the notice is {default} weeks where it is not set)"
            )
        return self


class Region(Strict):
    """A sales region: customers are scattered around its centre (kilometres)."""

    name: Name
    x_km: Annotated[float, Field(ge=-MAX_KM, le=MAX_KM)] = 0.0
    y_km: Annotated[float, Field(ge=-MAX_KM, le=MAX_KM)] = 0.0
    radius_km: Annotated[float, Field(ge=0.0, le=MAX_KM)] = 80.0
    """Standard deviation of customer locations around the centre, km."""
    share: Annotated[float, Field(gt=0.0, le=1.0)]
    """Share of customers located in this region."""


class ProductLine(Strict):
    """A product line: part of every account's wallet, sold by generalists and by its own specialists."""

    name: Name
    wallet_share: Annotated[float, Field(gt=0.0, le=1.0)]
    """Mean share of an account's potential (annual wallet) that this line is (each account draws its own split)."""


def _one_line() -> tuple[ProductLine, ...]:
    return (ProductLine(name="core", wallet_share=1.0),)


def _default_regions() -> tuple[Region, ...]:
    return (
        Region(name="north", x_km=0.0, y_km=400.0, share=0.25),
        Region(name="south", x_km=0.0, y_km=-400.0, share=0.25),
        Region(name="east", x_km=400.0, y_km=0.0, share=0.25),
        Region(name="west", x_km=-400.0, y_km=0.0, share=0.25),
    )


class Population(Strict):
    """The potential customers: how many and how they are distributed."""

    customers: Annotated[int, Field(ge=1, le=MAX_CUSTOMERS)]
    industries: Annotated[tuple[Name, ...], Field(max_length=MAX_CATEGORIES)] = (
        "software",
        "manufacturing",
        "retail",
        "healthcare",
        "finance",
        "services",
    )
    regions: Annotated[tuple[Region, ...], Field(max_length=MAX_CATEGORIES)] = Field(default_factory=_default_regions)
    segments: Annotated[tuple[Segment, ...], Field(max_length=MAX_CATEGORIES)]
    lines: Annotated[tuple[ProductLine, ...], Field(max_length=MAX_CATEGORIES)] = Field(default_factory=_one_line)
    """Product lines; one line ("core") unless the scenario names several."""
    wallet_concentration: Positive = 10.0
    """How alike accounts split their wallet over the lines: each account's shares are Dirichlet with parameters
    ``wallet_concentration x wallet_share`` (higher: closer to the mean shares)."""
    buying_units: Annotated[int, Field(ge=1, le=MAX_CUSTOMERS)] = 1
    """Buying units each account of the source data is modelled as (``covsim calibrate --units``): ``customers``
    counts them. A label only: a run's header says buying units, not accounts, where it is over 1."""

    def size_words(self) -> str:
        """``5,000 accounts``; with buying units, ``3,740 buying units (44 an account)``."""
        if self.buying_units == 1:
            return f"{self.customers:,} accounts"
        return f"{self.customers:,} buying units ({self.buying_units:,} an account)"

    @model_validator(mode="table")
    @classmethod
    def _across(cls, population: dict[str, Any]) -> list[str]:
        """The problems across the population's tables (shares that do not sum to 1, names given twice, no
        industry), read from its data so that they come with its fields' problems: a table or value with a
        problem of its own is left to its field's rule, one left out to its default."""
        problems = []
        for key, share in (("segments", "share"), ("regions", "share"), ("lines", "wallet_share")):
            items = population.get(key)
            if not isinstance(items, list | tuple) or not all(isinstance(i, dict | Strict) for i in items):
                continue
            # An item may be given as data or as an object (a scenario built in Python).
            shares: list[Any] = [i.get(share) if isinstance(i, dict) else getattr(i, share) for i in items]
            if not items:
                problems.append(f"{key}: at least one is needed")
            elif (
                all(type(s) in (int, float) and 0 < s <= 1 for s in shares)  # one out of its range: its field's
                and abs((total := math.fsum(shares)) - 1.0) > 1e-6
            ):
                problems.append(f"{key}: shares sum to {total:.6g}, not 1")
            names = [i.get("name") if isinstance(i, dict) else i.name for i in items]
            if duplicates := sorted({n for n in names if isinstance(n, str) and names.count(n) > 1}):
                problems.append(f"{key}: duplicate names {', '.join(duplicates)}")
        if population.get("industries") in ([], ()):
            problems.append("industries: at least one industry is needed")
        return problems


class RepGroup(Strict):
    """A group of identical rep seats."""

    role: Role
    count: Annotated[int, Field(ge=0, le=100_000)]
    weekly_hours: Annotated[float, Field(ge=0.0, le=80.0)] = 40.0
    """Paid hours per week."""
    selling_share: Probability = 0.77
    """Share of hours available for customer work (40 h x 52 x 0.77 = about 1,600 h a year)."""
    skill_mean: Positive = 1.0
    """Mean skill (1 = average; enters the win probability)."""
    skill_sd: NonNegative = 0.2
    """Spread of skill across the seats (each holder draws its own, at least 0.1)."""
    cost_per_year: Annotated[float, Field(ge=0.0, le=MAX_AMOUNT)] = 150_000.0
    """Fully loaded cost of a seat, currency units per year (set 0 for a channel partner, paid by its margin)."""
    margin: Probability = 0.0
    """Share of won revenue a channel partner keeps (partners only)."""
    region: str = ""
    """Home region of the seats; empty spreads them evenly over all regions."""
    line: str = ""
    """The product line the seats specialise in (an overlay specialist's line); empty: no line of their own."""
    lane: Literal["all_lines", "own_line"] = "all_lines"
    """The lane, the lines the seats are paid on and so pursue: all_lines (and renewals, which cover the
    whole contract), or own_line, only their ``line`` ("focus on my own lane")."""
    paid_on_kinds: tuple[Literal["new_logo", "expansion", "renewal"], ...] = ()
    """The lane: opportunity kinds the seats are paid on, and so pursue; empty: every kind."""

    @model_validator(mode="after")
    def _check(self) -> RepGroup:
        problems = [
            *(["margin: only a channel partner keeps a margin"] if self.margin > 0 and self.role != "partner" else []),
            *(["lane: own_line needs the seats' line"] if self.lane == "own_line" and not self.line else []),
        ]
        if problems:
            raise Problems(problems)
        return self

    @property
    def selling_hours(self) -> float:
        """Each seat's hours a week for customer work: ``weekly_hours x selling_share``."""
        return self.weekly_hours * self.selling_share


class Workforce(Strict):
    """How seats are filled over time."""

    ramp: tuple[Probability, ...] = (0.33, 0.66, 1.0)
    """Productivity of a new hire by quarter of tenure; the last value holds afterwards."""
    attrition_per_year: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.15
    """Probability that a rep leaves within a year."""
    backfill_weeks: Annotated[int, Field(ge=1, le=520)] = 12
    """Weeks a seat stays vacant before its replacement starts (at the start of the ramp)."""
    travel_speed_kmh: Positive = 60.0
    """Average travel speed for field visits, km per hour (one way from the home base, standing in for a trip
    that chains several visits and shares the way back)."""

    @model_validator(mode="after")
    def _check(self) -> Workforce:
        if not self.ramp:
            raise ValueError("ramp: at least one value is needed")
        if self.ramp[-1] <= 0:  # it holds for the rest of a rep's tenure: nobody would ever sell
            raise ValueError("ramp: the last value, which holds once a rep is ramped, must be above 0")
        return self


class MetricsConfig(Strict):
    low_value_quantile: Probability = 0.5
    """Accounts below this quantile of potential count as low-value (effort metrics)."""
    gross_margin: Probability = 0.7
    """Share of recurring revenue left after the cost of serving it (for the profit metric)."""


class Scenario(Strict):
    """A complete, validated scenario."""

    name: Name
    description: str = ""
    seed: Annotated[int, Field(ge=0)] = 0
    """Root seed; a run is a pure function of scenario, policy and seed."""
    quarters: Annotated[int, Field(ge=1, le=400)] = 8
    population: Population
    reps: tuple[RepGroup, ...]
    workforce: Workforce = Workforce()
    activities: Activities = Activities()
    relationship: Relationship = Relationship()
    service: Service = Service()
    digital: Digital = Digital()
    shocks: tuple[Shock, ...] = ()
    policy: PolicyConfig = PolicyConfig()
    metrics: MetricsConfig = MetricsConfig()

    @model_validator(mode="fields")
    @classmethod
    def _across(cls, fields: dict[str, Any], data: dict[str, Any]) -> list[str]:
        names = {}
        for key in ("regions", "segments", "lines"):
            # The names stand where the population has a problem elsewhere: an unknown region is said beside it.
            population = fields["population"]
            items = (
                Population.field_value(data.get("population"), key)
                if population is INVALID
                else getattr(population, key)
            )
            # None (not known) for a table with no names, a problem of its own: not an unknown name in each rep group.
            names[key] = None if items is INVALID or not items else tuple(i.name for i in items)
        for key in ("reps", "shocks"):  # the well-formed groups and shocks are checked across tables beside the rest
            if fields[key] is INVALID:
                fields = {**fields, key: cls.items_value(data, key)}
        return scenario_problems(fields, **names)

    @property
    def weeks(self) -> int:
        return self.quarters * WEEKS_PER_QUARTER

    @property
    def segment_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.population.segments)

    @property
    def region_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.population.regions)

    @property
    def line_names(self) -> tuple[str, ...]:
        return tuple(line.name for line in self.population.lines)

    @property
    def reported_lines(self) -> tuple[str, ...]:
        """The product lines a run reports metrics for (``won_value_line:<line>`` ...): every line when the
        scenario has several, none with one (its line's figures are the whole run's)."""
        names = self.line_names
        return names if len(names) > 1 else ()

    @property
    def seat_roles(self) -> tuple[str, ...]:
        """The roles a run's seats can have, in ``ROLES`` order: the rep groups', and a specialist's where an
        overlay launch adds some (a run reports ``utilisation_<role>`` of these only)."""
        roles = {g.role for g in self.reps} | {"specialist" for s in self.shocks if s.kind == "overlay_launch"}
        return tuple(r for r in ROLES if r in roles)

    def with_overrides(self, source: str = "override", **changes: Any) -> Scenario:
        """A copy with the named fields replaced, validated again; ``source`` names it in error messages.

        A field is named by its dotted path in the scenario file, with numbers
        for array items and ``*`` for every item::

            small.with_overrides("bigger", quarters=2)
            small.with_overrides("bigger", **{"population.customers": 500, "reps.0.count": 4})
            small.with_overrides("stickier", **{"population.segments.*.churn_per_year": 0.05})

        A value is given as in the file (a table as a dict); to add a key to a
        free-form table such as ``policy.params``, replace the whole table. A
        path that names nothing, or a result that no longer validates, raises
        InputError with one ``source: path: message`` line per problem.

        Unless the changes set ``name``, the copy is named ``<name>-<8 hex
        digits>``, the digits a hash of the changes: a variant never shares its
        base's name, and the same changes to the same scenario give the same name.
        """
        if not isinstance(source, str):  # with_overrides({"quarters": 3}) had given the scenario back unchanged
            raise InputError(
                [
                    f"with_overrides: the first argument names where the variant's errors are said (a string, not its name), not {source!r:.40}: "
                    'give the changes as keywords, with_overrides("label", **{"quarters": 3})'
                ]
            )
        if not changes:
            return self
        data = self.model_dump(mode="json")
        unknown = []
        for path, value in changes.items():
            places = locate(data, path)
            if not places:
                from sim.experiment.targets import path_hint  # on the error's path only

                unknown.append(f"{source}: {path}: names no field of the scenario{path_hint(data, path, '')}")
            for container, key in places:
                container[key] = value
        if unknown:
            raise InputError(unknown)
        if "name" not in changes:
            digest = hashlib.sha256(json.dumps(changes, sort_keys=True, default=str).encode()).hexdigest()
            data["name"] = f"{self.name}-{digest[:8]}"
        return parse_scenario(data, source)


def parse_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a mapping (as read from TOML) into a Scenario, or raise InputError."""
    require_kind(data, "scenario", source)
    return validate_strict(Scenario, data, source)


def load_scenario(path: Path | str, quarters: int | None = None) -> Scenario:
    """Load and validate a scenario file; over ``quarters`` (``--quarters``) instead of its own horizon when given,
    set before it is validated: a shock of the file in a quarter past its own horizon but not past ``quarters``
    is the file's to hold, and one past ``quarters`` is said as past the horizon --quarters set."""
    data = read_toml(path)
    if quarters is None:
        return parse_scenario(data, str(path))
    return parse_scenario({**data, "quarters": quarters}, f"{path} (with --quarters {quarters})")


def dump_scenario(scenario: Scenario) -> str:
    """The resolved scenario, with every default filled in, as TOML."""
    return tomli_w.dumps(scenario.model_dump(mode="json"))
