"""How selling works in a scenario: what activities cost and add, relationships and hand-offs, the sales
response, service levels and speed-to-lead, and the digital channel.

Part of the scenario schema (``sim.scenario`` assembles it): frozen, strictly
validated configuration; every field's unit, default and source is in
``docs/scenario-format.md``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from sim.config import NonNegative, Positive, Probability, refuse_removed
from sim.strict import Field, Strict, model_validator

#: The most relationship stock one touch, or one hour of deal work, may add, in touch-equivalents (a visit's
#: default, 1.0) [A]: a call worth a thousand visits is a typing error; 1e308 overflowed the stock to infinity.
MAX_STOCK_STEP = 1000.0
StockStep = Annotated[float, Field(ge=0.0, le=MAX_STOCK_STEP)]


class Activities(Strict):
    """What each activity costs in hours and adds to the relationship stock."""

    visit_hours: Positive = 2.0
    """A field visit on site, hours (travel is added by distance)."""
    call_hours: Positive = 0.5
    """A phone or video touch, hours."""
    response_hours: Positive = 0.5
    """The first response to a new opportunity, hours."""
    visit_stock: StockStep = 1.0
    """Relationship stock added by one visit."""
    call_stock: StockStep = 0.4
    """Relationship stock added by one call (and by a first response)."""
    work_stock_per_hour: StockStep = 0.05
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


class Handoff(Strict):
    """What an account keeps of the personal relationship when its covering rep changes (whether a planned
    change is warm is the policy's choice: ``CoveragePlan.warm``)."""

    warm_carry: Probability = 0.6
    """Share of the personal stock a warm hand-off carries over to the new owner."""
    cold_carry: Probability = 0.1
    """Share carried over by a cold change (no introduction; also a rep who leaves, or another rep answering)."""
    warm_hours: NonNegative = 1.5
    """Hours a warm hand-off costs each of the two reps, per account."""


class Relationship(Strict):
    """Relationship stock: carry-over, its effect on demand, wins and churn.

    The stock of an account is the sum of a company part (brand, product use)
    and a personal part held with the rep covering it; both decay alike.
    """

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
    """Log-odds removed from a deal when, while it was open, its account had a week of conflicting engagement
    (two or more closing reps working it in the same week without coordination)."""
    conflict_stock_loss: Probability = 0.1
    """Share of the account's relationship stock (company and personal parts) lost in each week of
    conflicting engagement."""
    coordination_hours: NonNegative = 2.0
    """Hours a quarter that a coordinated account (an account plan) costs each seat of its account team:
    the owner and every specialist the plan gives it."""
    churn_floor: Probability = 0.3
    """Churn hazard of a fully engaged customer, as a share of the base hazard."""
    churn_half_stock: Positive = 1.5
    """Stock at which the hazard has fallen half-way from the base to the floor."""
    personal_share: Probability = 0.7
    """Share of the stock a touch by the covering rep adds to the personal part (the rest is company stock);
    a touch by another rep adds only its company part."""
    handoff: Handoff = Handoff()


class SpeedCurve(Strict):
    """How the chance to qualify and win falls with the first-response delay (speed-to-lead).

    Multiplier on the win probability: ``floor + (1 - floor) * 2 ** (-delay / half_life_days)``.
    """

    half_life_days: Positive
    """Business days of delay after which half of the loss down to the floor has happened."""
    floor: Probability
    """Multiplier left however late the first response (within the service window)."""


class SpeedToLead(Strict):
    """Speed-to-lead curves by opportunity kind: steep for inbound new logos, flat for renewals."""

    new_logo: SpeedCurve = SpeedCurve(half_life_days=1.0, floor=0.4)
    expansion: SpeedCurve = SpeedCurve(half_life_days=3.0, floor=0.7)
    renewal: SpeedCurve = SpeedCurve(half_life_days=20.0, floor=0.95)


class Service(Strict):
    """Service-level windows, speed-to-lead, how long a worked opportunity may stall, unattended renewals."""

    high_touch_window_days: Positive = 3.0
    """First-response window for high-touch accounts, business days."""
    pooled_window_days: Positive = 5.0
    """First-response window for pooled accounts, business days."""
    stall_factor: Annotated[float, Field(ge=1.0, le=10.0)] = 1.5
    """An opportunity stalls when its effort is not delivered within cycle x this factor."""
    speed_to_lead: SpeedToLead = SpeedToLead()
    unattended_renewal_value: Probability = 0.9
    """A contract renewed with no rep (renewal missed, or self-service) renews at this share of its spend."""

    @model_validator(mode="before")
    @classmethod
    def _earlier_format(cls, data: Any) -> Any:
        return refuse_removed(
            data,
            {
                "missed_renewal_churn": "a contract whose renewal no rep won is decided on its date by the segment's churn_per_year (docs/ODD.md)"
            },
        )


class Digital(Strict):
    """The self-service channel for accounts on the digital service level."""

    enabled: bool = True
    capture: Probability = 0.7
    """Share of a digital account's opportunities the channel can take with no rep."""
    win_factor: Probability = 0.6
    """Multiplies the base win probability of a self-service new logo or expansion."""
    value_factor: Probability = 0.5
    """Won value of a new logo or expansion relative to a rep-worked one (renewals: see
    ``service.unattended_renewal_value``)."""

    @model_validator(mode="before")
    @classmethod
    def _earlier_format(cls, data: Any) -> Any:
        return refuse_removed(data, {"renewal_win_factor": "a self-service renewal is decided as an unattended one"})
