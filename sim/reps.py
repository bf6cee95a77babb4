"""Rep agents: seats of the sales team, as Mesa agents.

A rep is a *seat*: when its holder leaves, the seat is vacant until a
replacement starts (after the backfill delay) at the bottom of the ramp.
Policies own customers by seat, so a vacancy leaves its accounts uncovered.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.scenario import CLOSING_ROLES, FIELD_ROLES, ROLES, WEEKS_PER_QUARTER, WEEKS_PER_YEAR, RepGroup


class Rep(mesa.Agent):
    """One seat of the sales team.

    weekly_hours: paid hours per week; selling_share: share available for
    customer work; skill: 1 = average (enters win probability); cost_per_year:
    fully loaded currency units; x, y: home base in km (travel starts there).
    """

    def __init__(
        self,
        model: mesa.Model,
        seat: int,
        group: RepGroup,
        skill: float,
        x: float,
        y: float,
        region: int,
        hired_week: int,
    ) -> None:
        super().__init__(model)
        self.seat = seat
        self.role = group.role
        self.field = group.role in FIELD_ROLES
        self.can_close = group.role in CLOSING_ROLES
        self.weekly_hours = group.weekly_hours
        self.selling_share = group.selling_share
        self.skill_mean = group.skill_mean
        self.skill_sd = group.skill_sd
        self.skill = skill
        self.cost_per_year = group.cost_per_year
        self.margin = group.margin
        self.x, self.y, self.region = x, y, region
        self.hired_week = hired_week  # week the holder started (negative: before the run)
        self.vacated_week = 0  # week the seat was last vacated
        self.filled = True

    def ramp_factor(self, ramp: tuple[float, ...], week: int) -> float:
        """Productivity by quarter of tenure in ``week`` (the last value holds afterwards)."""
        quarter = min((week - self.hired_week) // WEEKS_PER_QUARTER, len(ramp) - 1)
        return ramp[quarter]

    def begin_week(
        self, leave: float, skill: float, week: int, weekly_attrition: float, backfill_weeks: int, frozen: bool
    ) -> None:
        """Let the holder leave, or fill a seat vacant for ``backfill_weeks`` weeks (not while frozen).

        ``leave`` (uniform) and ``skill`` (standard normal) are this week's draws
        for the seat from the ``reps`` stream: the holder leaves when ``leave`` is
        below the weekly attrition probability; ``skill`` sets a new hire's skill.
        """
        if self.filled:
            if week > self.hired_week and leave < weekly_attrition:
                self.vacate(week)
            return
        if week - self.vacated_week >= backfill_weeks and not frozen:
            self.filled = True
            self.hired_week = week
            self.skill = max(0.1, self.skill_mean + self.skill_sd * skill)

    def vacate(self, week: int) -> None:
        """The holder leaves in ``week``: the seat is vacant from this week on."""
        self.filled = False
        self.vacated_week = week

    def capacity(self, ramp: tuple[float, ...], week: int) -> float:
        """Selling hours available in ``week``."""
        if not self.filled:
            return 0.0
        return self.weekly_hours * self.selling_share * self.ramp_factor(ramp, week)


def weekly_attrition(attrition_per_year: float) -> float:
    """Probability that a holder leaves in a given week, from the yearly rate."""
    return 1.0 - (1.0 - attrition_per_year) ** (1.0 / WEEKS_PER_YEAR)


def seat_constants(reps: list[Rep]) -> dict[str, np.ndarray]:
    """What never changes about the seats, as arrays (rebuilt only when seats are added)."""
    return {
        "role": np.array([r.role for r in reps], dtype=object),
        "role_index": np.array([ROLES.index(r.role) for r in reps], dtype=np.int64),
        "field": np.array([r.field for r in reps], dtype=bool),
        "can_close": np.array([r.can_close for r in reps], dtype=bool),
        "x": np.array([r.x for r in reps], dtype=np.float64),
        "y": np.array([r.y for r in reps], dtype=np.float64),
        "region": np.array([r.region for r in reps], dtype=np.int64),
        "margin": np.array([r.margin for r in reps], dtype=np.float64),
        "cost_per_year": np.array([r.cost_per_year for r in reps], dtype=np.float64),
    }


def seat_state(reps: list[Rep], ramp: tuple[float, ...], week: int) -> dict[str, np.ndarray]:
    """What changes week to week about the seats (holder, hours, skill), as arrays."""
    return {
        "filled": np.array([r.filled for r in reps], dtype=bool),
        "capacity": np.array([r.capacity(ramp, week) for r in reps], dtype=np.float64),
        "skill": np.array([r.skill for r in reps], dtype=np.float64),
    }
