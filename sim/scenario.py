"""Scenario files: TOML validated once, at the edge, into frozen typed objects.

A scenario is everything about the world a coverage policy is tried in: the
customer population, the sales team, how relationships and responses behave,
service levels, the digital channel and scheduled shocks. Every field, its unit,
default and source is documented in ``docs/scenario-format.md``.

Validation is strict (``"500"`` is not an integer, unknown keys are errors) and
runs in pydantic's JSON mode, so TOML arrays become tuples and TOML integers are
accepted where a float is expected, but nothing else is coerced.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import tomli_w
from pydantic import Field, model_validator

from sim.clock import WEEKS_PER_QUARTER
from sim.codes import OPPORTUNITY_KINDS, ROLES
from sim.config import Name, NonNegative, Positive, Probability, Strict, locate, read_toml, validate_strict
from sim.errors import InputError
from sim.shocks import HiringFreeze, Shock

Role = Literal["hunter", "farmer", "full_cycle", "sdr", "inside", "specialist", "partner"]


class OpportunityKind(Strict):
    """One kind of opportunity (new logo, expansion or renewal) in one segment."""

    rate_per_year: NonNegative
    """Opportunities per account-year with no relationship; new-logo and expansion rates are for an
    account of median potential and scale with potential, renewal rates do not."""
    effort_hours: Positive
    """Rep hours needed after the first response to bring it to a decision."""
    cycle_weeks: Annotated[int, Field(ge=1, le=104)]
    """Planned sales cycle, weeks: the effort is delivered in equal weekly parts over it."""
    win_probability: Probability
    """Win probability for an average account (responsiveness 0.5, no relationship, skill 1)."""
    value_share: NonNegative
    """Won value as a share of the untapped wallet, potential - spend (new logo, expansion), or of spend (renewal)."""


class Segment(Strict):
    """A customer segment: its size, wallet, responsiveness and opportunity kinds."""

    name: Name
    share: Annotated[float, Field(gt=0.0, le=1.0)]
    """Share of the population in this segment."""
    potential_median: Positive
    """Median annual wallet, currency units per year (lognormal)."""
    potential_sigma: NonNegative = 1.0
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
    """Annual churn probability of a customer nobody has touched (the base hazard)."""
    value_sigma: NonNegative = 0.5
    """Lognormal spread of won value around its expected share (mean preserved)."""
    new_logo: OpportunityKind
    expansion: OpportunityKind
    renewal: OpportunityKind


class Region(Strict):
    """A sales region: customers are scattered around its centre (kilometres)."""

    name: Name
    x_km: float = 0.0
    y_km: float = 0.0
    radius_km: NonNegative = 80.0
    """Standard deviation of customer locations around the centre, km."""
    share: Annotated[float, Field(gt=0.0, le=1.0)]
    """Share of customers located in this region."""


def _default_regions() -> tuple[Region, ...]:
    return (
        Region(name="north", x_km=0.0, y_km=400.0, share=0.25),
        Region(name="south", x_km=0.0, y_km=-400.0, share=0.25),
        Region(name="east", x_km=400.0, y_km=0.0, share=0.25),
        Region(name="west", x_km=-400.0, y_km=0.0, share=0.25),
    )


class Population(Strict):
    """The potential customers: how many and how they are distributed."""

    customers: Annotated[int, Field(ge=1, le=50_000_000)]
    industries: tuple[Name, ...] = (
        "software",
        "manufacturing",
        "retail",
        "healthcare",
        "finance",
        "services",
    )
    regions: tuple[Region, ...] = Field(default_factory=_default_regions)
    segments: tuple[Segment, ...]

    @model_validator(mode="after")
    def _check(self) -> Population:
        _shares_sum_to_one(self.segments, "segments")
        _shares_sum_to_one(self.regions, "regions")
        _unique_names(self.segments, "segments")
        _unique_names(self.regions, "regions")
        if not self.industries:
            raise ValueError("industries: at least one industry is needed")
        return self


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
    skill_sd: NonNegative = 0.1
    cost_per_year: NonNegative = 150_000.0
    """Fully loaded cost of a seat, currency units per year (set 0 for a channel partner, paid by its margin)."""
    margin: Probability = 0.0
    """Share of won revenue a channel partner keeps (partners only)."""
    region: str = ""
    """Home region of the seats; empty spreads them evenly over all regions."""

    @model_validator(mode="after")
    def _check(self) -> RepGroup:
        if self.margin > 0 and self.role != "partner":
            raise ValueError("margin: only a channel partner keeps a margin")
        return self


class Workforce(Strict):
    """How seats are filled over time."""

    ramp: tuple[Probability, ...] = (0.33, 0.66, 1.0)
    """Productivity of a new hire by quarter of tenure; the last value holds afterwards."""
    attrition_per_year: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.15
    """Probability that a rep leaves within a year."""
    backfill_weeks: Annotated[int, Field(ge=1, le=520)] = 12
    """Weeks a seat stays vacant before its replacement starts (at the start of the ramp)."""
    travel_speed_kmh: Positive = 60.0
    """Average travel speed for field visits, km per hour (one way from the home base: visits are chained)."""

    @model_validator(mode="after")
    def _check(self) -> Workforce:
        if not self.ramp:
            raise ValueError("ramp: at least one value is needed")
        return self


class Activities(Strict):
    """What each activity costs in hours and adds to the relationship stock."""

    visit_hours: Positive = 2.0
    """A field visit on site, hours (travel is added by distance)."""
    call_hours: Positive = 0.5
    """A phone or video touch, hours."""
    response_hours: Positive = 0.5
    """The first response to a new opportunity, hours."""
    visit_stock: NonNegative = 1.0
    """Relationship stock added by one visit."""
    call_stock: NonNegative = 0.4
    """Relationship stock added by one call (and by a first response)."""
    work_stock_per_hour: NonNegative = 0.05
    """Relationship stock added per hour of opportunity work."""


class Adbudg(Strict):
    """ADBUDG response: y = b + (a - b) x^c / (d + x^c); S-shaped for c > 1."""

    kind: Literal["adbudg"] = "adbudg"
    a: Positive = 2.5
    """Multiplier at saturation."""
    b: NonNegative = 1.0
    """Multiplier at zero relationship."""
    c: Positive = 1.5
    """Shape: S-shaped above 1, concave at or below 1."""
    d: Positive = 2.0
    """Half-saturation constant: y = (a + b) / 2 at x = d ** (1 / c)."""


class Power(Strict):
    """Power response: y = b + z x^e (e is the selling-effort elasticity of the lift)."""

    kind: Literal["power"] = "power"
    b: NonNegative = 1.0
    z: NonNegative = 0.6
    e: Annotated[float, Field(gt=0.0, le=1.0)] = 0.3
    cap: Positive = 4.0
    """Upper bound on the multiplier, so a large stock cannot produce unbounded demand."""

    @model_validator(mode="after")
    def _check(self) -> Power:
        if self.cap < self.b:
            raise ValueError("cap: must be at least b (the multiplier at zero relationship)")
        return self


class Relationship(Strict):
    """Relationship stock: carry-over, its effect on demand, wins and churn."""

    monthly_retention: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.84
    """Share of the stock left after one month without touches."""
    response: Annotated[Adbudg | Power, Field(discriminator="kind")] = Adbudg()
    win_weight: NonNegative = 1.0
    """Log-odds added to the win probability by a saturated relationship."""
    win_half_stock: Positive = 2.0
    """Stock at which half of win_weight is realised."""
    responsiveness_win_weight: NonNegative = 1.0
    """Log-odds per unit of (responsiveness - 0.5)."""
    skill_win_weight: NonNegative = 2.0
    """Log-odds per unit of (rep skill - 1)."""
    conflict_penalty: NonNegative = 0.5
    """Log-odds removed when two or more reps worked the account in the same quarter."""
    churn_floor: Probability = 0.3
    """Churn hazard of a fully engaged customer, as a share of the base hazard."""
    churn_half_stock: Positive = 1.5
    """Stock at which the hazard has fallen half-way from the base to the floor."""


class Service(Strict):
    """Service-level windows and how long a worked opportunity may stall."""

    high_touch_window_days: Positive = 3.0
    """First-response window for high-touch accounts, business days."""
    pooled_window_days: Positive = 5.0
    """First-response window for pooled accounts, business days."""
    stall_factor: Annotated[float, Field(ge=1.0, le=10.0)] = 1.5
    """An opportunity stalls when its effort is not delivered within cycle x this factor."""
    missed_renewal_churn: Probability = 0.5
    """Probability that a customer whose renewal is missed leaves (otherwise it auto-renews)."""


class Digital(Strict):
    """The self-service channel for accounts on the digital service level."""

    enabled: bool = True
    capture: Probability = 0.7
    """Share of a digital account's opportunities the channel can take with no rep."""
    win_factor: Probability = 0.6
    """Multiplies the base win probability of a self-service new logo or expansion."""
    renewal_win_factor: Probability = 0.95
    """Multiplies the base win probability of a self-service renewal."""
    value_factor: Probability = 0.5
    """Won value of a new logo or expansion relative to a rep-worked one (renewals keep their spend)."""


PolicyParam = bool | int | float | str


class PolicyConfig(Strict):
    """Which coverage policy runs, by built-in name or ``package.module:ClassName``."""

    name: str = "unstructured"
    params: dict[str, PolicyParam] = Field(default_factory=dict)


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

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        capacity = sum(g.count * g.weekly_hours * g.selling_share for g in self.reps)
        if capacity <= 0:
            raise ValueError("reps: at least one rep with selling hours is needed")
        regions = {r.name for r in self.population.regions}
        segments = {s.name for s in self.population.segments}
        problems: list[str] = []
        for i, g in enumerate(self.reps):
            if g.region and g.region not in regions:
                problems.append(f"reps.{i}.region: unknown region {g.region!r}")
        for i, s in enumerate(self.shocks):
            where = f"shocks.{i}"
            if s.quarter > self.quarters:
                problems.append(f"{where}.quarter: {s.quarter} is after the last quarter ({self.quarters})")
            segment = getattr(s, "segment", "")
            if segment and segment not in segments:
                problems.append(f"{where}.segment: unknown segment {segment!r}")
            opportunity = getattr(s, "opportunity", "")
            if opportunity and opportunity not in OPPORTUNITY_KINDS:
                problems.append(f"{where}.opportunity: unknown kind {opportunity!r}")
            role = getattr(s, "role", "")
            if role and role not in ROLES:
                problems.append(f"{where}.role: unknown role {role!r}")
            if isinstance(s, HiringFreeze) and s.until_quarter < s.quarter:
                problems.append(f"{where}.until_quarter: before quarter")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def weeks(self) -> int:
        return self.quarters * WEEKS_PER_QUARTER

    @property
    def segment_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.population.segments)

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
        if not changes:
            return self
        data = self.model_dump(mode="json")
        unknown = []
        for path, value in changes.items():
            places = locate(data, path)
            if not places:
                unknown.append(f"{source}: {path}: names no field of the scenario")
            for container, key in places:
                container[key] = value
        if unknown:
            raise InputError(unknown)
        if "name" not in changes:
            digest = hashlib.sha256(json.dumps(changes, sort_keys=True, default=str).encode()).hexdigest()
            data["name"] = f"{self.name}-{digest[:8]}"
        return parse_scenario(data, source)


def _shares_sum_to_one(items: tuple[Any, ...], where: str) -> None:
    if not items:
        raise ValueError(f"{where}: at least one is needed")
    total = math.fsum(i.share for i in items)
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"{where}: shares sum to {total:.6g}, not 1")


def _unique_names(items: tuple[Any, ...], where: str) -> None:
    names = [i.name for i in items]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{where}: duplicate names {', '.join(duplicates)}")


def parse_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a mapping (as read from TOML) into a Scenario, or raise InputError."""
    return validate_strict(Scenario, data, source)


def load_scenario(path: Path | str) -> Scenario:
    """Load and validate a scenario file."""
    return parse_scenario(read_toml(path), str(path))


def dump_scenario(scenario: Scenario) -> str:
    """The resolved scenario, with every default filled in, as TOML."""
    return tomli_w.dumps(scenario.model_dump(mode="json"))
