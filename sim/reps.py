"""The sales team: rep seats as Mesa agents, and the Team that owns them.

A rep is a *seat*: when its holder leaves, the seat is vacant until a
replacement starts (after the backfill delay) at the bottom of the ramp.
Policies own customers by seat, so a vacancy leaves its accounts uncovered.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from dataclasses import field as dataclass_field
from functools import cached_property
from typing import NamedTuple

import mesa
import numpy as np

from sim.clock import WEEKS_PER_QUARTER, WEEKS_PER_YEAR
from sim.codes import CLOSING_ROLES, FIELD_ROLES, OPPORTUNITY_KINDS, PARTNER, ROLES, Draw
from sim.policies.protocol import TeamView, read_only
from sim.randomness import KEY_WEEK_STRIDE, box_muller, keyed_normal, keyed_uniforms, normal_purposes
from sim.scenario import RepGroup, Scenario


class Rep(mesa.Agent):
    """One seat of the sales team.

    weekly_hours: paid hours per week; selling_share: share available for
    customer work; skill: 1 = average (enters win probability); cost_per_year:
    fully loaded currency units; x, y: home base in km (travel starts there).
    Its state changes only through ``Team``, which reads it into arrays again after each change.
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
        line_names: tuple[str, ...],
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
        self.line = line_names.index(group.line) if group.line else -1
        # The lane: product lines (the last entry: renewals, the whole contract) and kinds it is paid on.
        own = group.lane == "own_line"
        self.lane_lines = (*(not own or i == self.line for i in range(len(line_names))), not own)
        self.lane_kinds = tuple(not group.paid_on_kinds or k in group.paid_on_kinds for k in OPPORTUNITY_KINDS)
        self.hired_week = hired_week  # week the holder started (negative: before the run)
        self.vacated_week = 0  # week the seat was last vacated
        self.filled = True
        self.handoff_owed = 0.0  # hours of warm hand-offs still to make (taken before other work)
        self.coordination_weekly = 0.0  # hours a week of the quarter's account plans (taken before other work)

    def fill(self, week: int, skill: float) -> None:
        """A new holder starts in ``week``, at the bottom of the ramp; ``skill`` is the seat's standard
        normal draw of that week, which sets the new holder's skill."""
        self.filled = True
        self.hired_week = week
        self.skill = max(0.1, self.skill_mean + self.skill_sd * skill)

    def vacate(self, week: int) -> None:
        """The holder leaves in ``week``: the seat is vacant from this week on."""
        self.filled = False
        self.vacated_week = week
        self.handoff_owed = 0.0  # a holder who left makes no more hand-offs


#: The most of a week's selling hours a seat spends on hand-offs it owes and account plans, together [A]:
#: introductions and planning meetings are booked around the rep's other work, so it keeps answering its
#: accounts meanwhile.
HANDOFF_SHARE_OF_WEEK = 0.5


def weekly_attrition(attrition_per_year: float) -> float:
    """Probability that a holder leaves in a given week, from the yearly rate."""
    return 1.0 - (1.0 - attrition_per_year) ** (1.0 / WEEKS_PER_YEAR)


@dataclass(frozen=True)
class SeatWeek:
    """The team in one week as arrays, one entry per seat.

    Constant per seat: role (name), role_index (into ``ROLES``), field,
    can_close, x, y (km), region, margin (share kept by a partner),
    cost_per_year (currency), line (product line it specialises in, -1
    none), lane_lines (seat x line+1: the lines it is paid on, the last
    column renewals, which cover the whole contract, so that a line of -1
    indexes it), lane_kinds (seat x kind: the kinds it is paid on). This week: filled, capacity (selling hours
    left for customer work after hand-offs and account plans), handoff
    (hours of warm hand-offs made), coordination (hours of account plans),
    skill (1 = average: wins more and needs fewer hours per deal
    above it). view: what a policy sees of it (read-only). One is shared by
    the weeks until the team changes (``Team.week``): nothing may write its
    arrays.
    """

    role: np.ndarray
    role_index: np.ndarray
    field: np.ndarray
    can_close: np.ndarray
    x: np.ndarray
    y: np.ndarray
    region: np.ndarray
    margin: np.ndarray
    cost_per_year: np.ndarray
    line: np.ndarray
    lane_lines: np.ndarray
    lane_kinds: np.ndarray
    filled: np.ndarray
    capacity: np.ndarray
    handoff: np.ndarray
    coordination: np.ndarray
    skill: np.ndarray
    view: TeamView = dataclass_field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "view", TeamView(**{k: read_only(getattr(self, k)) for k in _VIEW_FIELDS}))

    @property
    def size(self) -> int:
        return int(self.role.size)

    @cached_property
    def totals(self) -> WeekTotals:
        """The week's totals over the seats, worked out once for all the weeks that share this one."""
        filled = self.filled
        return WeekTotals(
            cost_per_year=float(self.cost_per_year[filled].sum()),
            coordination=float(self.coordination.sum()),
            own_filled=float((filled & (self.role_index != PARTNER)).sum()),
            capacity=float(self.capacity.sum()),
            filled=float(filled.sum()),
        )


class WeekTotals(NamedTuple):
    """A ``SeatWeek``'s totals: cost per year of its filled seats (currency), hours of account plans, filled
    seats that are not channel partners, selling hours, filled seats."""

    cost_per_year: float
    coordination: float
    own_filled: float
    capacity: float
    filled: float


#: Apart the purposes of two shocks' seat draws are (``Team.shock_order``): beyond every other purpose of the
#: team's key, a normal's second uniform's offset (``randomness.normal_purposes``) included.
SHOCK_PURPOSES = 10_000_000

#: Seats a group's draw ids leave room for: a seat's id is ``group * SEATS_PER_GROUP + place`` (a group has at most
#: 100,000 seats, ``RepGroup.count``).
SEATS_PER_GROUP = 2**17

_VIEW_FIELDS = tuple(f.name for f in fields(TeamView))


class Team:
    """Every seat of the sales team; the only writer of the seats' state.

    Seats are added (at the start, by an overlay launch) and never removed, so
    a seat index names the same seat for the whole run.
    """

    def __init__(self, model: mesa.Model, scenario: Scenario, rng: np.random.Generator) -> None:
        self._model = model
        self._regions = scenario.population.regions
        self._lines = scenario.line_names
        self._workforce = scenario.workforce
        self._ramp = np.asarray(scenario.workforce.ramp, dtype=np.float64)
        self._attrition = weekly_attrition(scenario.workforce.attrition_per_year)
        # A seat's draws are keyed by its group and its place in the group, not drawn in seat order from a
        # stream: a team of another size (a factor, an overlay's specialists or not) keeps the history of the
        # seats it shares with this one (drawn in order, one more seat moved every later seat's leaving week).
        self._key = np.uint64(rng.integers(0, 2**63, dtype=np.uint64))
        self.seats: list[Rep] = []
        self._ids = np.empty(0, dtype=np.int64)  # each seat's draw id
        self._groups = 0  # groups added: the file's, then each overlay launch's
        self._constants_changed()
        for group in scenario.reps:
            self.add(group, group.count, hired_week=-WEEKS_PER_QUARTER * len(scenario.workforce.ramp))

    def __len__(self) -> int:
        return len(self.seats)

    def add(self, group: RepGroup, count: int, hired_week: int) -> None:
        """``count`` new seats of ``group``, holders hired in ``hired_week``, placed in their region."""
        names = [g.name for g in self._regions]
        ids = self._groups * SEATS_PER_GROUP + np.arange(count, dtype=np.int64)  # the group's number, the place
        self._groups += 1
        dx, dy, z = (keyed_normal(self._key, ids, p) for p in (Draw.SEAT_X, Draw.SEAT_Y, Draw.SKILL))
        for i in range(count):
            r = names.index(group.region) if group.region else i % len(self._regions)
            reg = self._regions[r]
            x = reg.x_km + 0.5 * reg.radius_km * float(dx[i])
            y = reg.y_km + 0.5 * reg.radius_km * float(dy[i])
            skill = max(0.1, group.skill_mean + group.skill_sd * float(z[i]))
            self.seats.append(Rep(self._model, len(self.seats), group, skill, x, y, r, hired_week, self._lines))
        self._ids = np.concatenate([self._ids, ids])
        self._constants_changed()

    def _constants_changed(self) -> None:
        """The seats' constants as arrays, after seats were added."""
        self._constants = _seat_constants(self.seats, len(self._lines))
        self._gathered: _SeatState | None = None
        # The last week's team and what it was made of (state, tenure by quarter): most weeks nothing changes.
        self._last_week: tuple[_SeatState, bytes, SeatWeek] | None = None
        self._paid_hours = np.array([r.weekly_hours * r.selling_share for r in self.seats], dtype=np.float64)

    def add_specialists(self, count: int, line: str, week: int) -> None:
        """New overlay specialist seats of ``line`` and paid on it (an overlay launch; "": no line of their
        own), starting at the bottom of the ramp."""
        group = RepGroup(role="specialist", count=count, line=line, lane="own_line" if line else "all_lines")
        self.add(group, count, hired_week=week)

    def week_ids(self, week: int) -> np.ndarray:
        """Each seat's draw id in ``week`` (``sim.randomness.KEY_WEEK_STRIDE``): the same seat of a team of another
        size has the same."""
        return self._ids * KEY_WEEK_STRIDE + week

    def shock_order(self, week: int, shock: int) -> np.ndarray:
        """A uniform per seat, keyed by the seat, ``week`` and the shock's place among the attrition shocks of
        that week (``shock``, 0 for the first), by which an attrition shock picks the seats it vacates (the lowest
        first): a team of another size loses the same seats of those it shares, as far as the share allows; a
        second shock in the same week draws afresh (sharing the first's draws, it had avoided the seats the
        first left); and a shock of another kind before it changes nothing."""
        return keyed_uniforms(self._key, self.week_ids(week), (Draw.SHOCK_LEAVE + SHOCK_PURPOSES * shock,))[0]

    def vacate(self, seats: np.ndarray, week: int) -> None:
        """The holders of ``seats`` leave in ``week``."""
        for seat in seats.tolist():
            self.seats[seat].vacate(week)
        self._gathered = None

    def owe_handoffs(self, seats: np.ndarray, hours: float) -> None:
        """Each of ``seats`` (repeats add up) owes ``hours`` of warm hand-off, made before other work (at most
        ``HANDOFF_SHARE_OF_WEEK`` of a week's hours)."""
        owed = np.bincount(seats, minlength=len(self.seats)) * hours
        for seat in np.flatnonzero(owed).tolist():
            self.seats[seat].handoff_owed += float(owed[seat])
        self._gathered = None

    def plan_coordination(self, seats: np.ndarray, hours: float) -> None:
        """This quarter's account plans: each of ``seats`` (repeats add up) spends ``hours`` on each, spread
        evenly over the quarter's weeks (replacing last quarter's)."""
        weekly = np.bincount(seats, minlength=len(self.seats)) * hours / WEEKS_PER_QUARTER
        for rep, h in zip(self.seats, weekly.tolist(), strict=True):
            rep.coordination_weekly = h
        self._gathered = None

    def plan_budget(self, week: int) -> np.ndarray:
        """Per seat, the hours its account plans may take in the quarter starting in ``week`` and all be made:
        plans are spread evenly over the weeks and a week's unmade plan hours are not carried, so the first week
        binds, where the warm hand-offs it owes go first: 13 x (``HANDOFF_SHARE_OF_WEEK`` of its hours as they
        are in ``week``, less those hand-offs, at least 0; a vacant seat has none)."""
        w = self.week(week)
        half = HANDOFF_SHARE_OF_WEEK * (w.capacity + w.handoff + w.coordination)
        return WEEKS_PER_QUARTER * np.maximum(half - self._state().handoff_owed, 0.0)

    def made_handoffs(self, hours: np.ndarray) -> None:
        """The week's hand-off ``hours`` (per seat, from :meth:`week`) are made."""
        made = np.flatnonzero(hours).tolist()
        for seat in made:
            self.seats[seat].handoff_owed = max(0.0, self.seats[seat].handoff_owed - float(hours[seat]))
        if made:
            self._gathered = None

    def _state(self) -> _SeatState:
        """The seats' changing state as arrays, read from the agents again only after a change: every week
        reads it twice, and eight reads a week of every agent cost more than the rest of the team's week."""
        if self._gathered is None:
            seats = self.seats
            self._gathered = _SeatState(
                filled=np.array([r.filled for r in seats], dtype=bool),
                hired_week=np.array([r.hired_week for r in seats], dtype=np.int64),
                vacated_week=np.array([r.vacated_week for r in seats], dtype=np.int64),
                handoff_owed=np.array([r.handoff_owed for r in seats], dtype=np.float64),
                coordination_weekly=np.array([r.coordination_weekly for r in seats], dtype=np.float64),
                skill=np.array([r.skill for r in seats], dtype=np.float64),
            )
        return self._gathered

    def filled(self) -> np.ndarray:
        """Whether each seat has a holder now (the caller's own array)."""
        return self._state().filled.copy()

    def paid_on_every_line(self) -> np.ndarray:
        """Whether each seat is paid on every product line (its lane ``all_lines``): it joins the plan of a
        coordinated account it works, whatever the plan's ``lanes_join``."""
        return np.asarray(self._constants["lane_lines"].all(axis=1))

    def roles(self) -> np.ndarray:
        """Each seat's role name."""
        return self._constants["role"]

    def regions(self) -> np.ndarray:
        """Each seat's home region, an index into ``population.regions``."""
        return self._constants["region"]

    def begin_week(self, week: int, frozen: bool) -> np.ndarray:
        """Holders leave at the weekly attrition rate; seats vacant for the backfill delay are filled (not
        while ``frozen``); a seat that empties this week is not filled in the same week.

        Returns the seats whose holder left this week. Draws two numbers per
        seat every week, whatever happens, keyed by the seat and the week
        (:meth:`week_ids`): a uniform (the holder leaves when it is below the
        weekly attrition probability) and a standard normal (a new holder's skill).
        """
        u = keyed_uniforms(self._key, self.week_ids(week), (Draw.LEAVE, *normal_purposes(Draw.NEW_SKILL)))
        leave, skill = u[0], box_muller(u[1], u[2])
        # The seats' state read as arrays, and only the seats that change touched: a call per seat and week
        # cost thousands of calls a week at thousands of seats.
        state = self._state()
        left = np.flatnonzero(state.filled & (state.hired_week < week) & (leave < self._attrition))
        for seat in left.tolist():
            self.seats[seat].vacate(week)
        backfilled: list[int] = []
        if not frozen:
            backfilled = np.flatnonzero(
                ~state.filled & (week - state.vacated_week >= self._workforce.backfill_weeks)
            ).tolist()
            for seat in backfilled:
                self.seats[seat].fill(week, float(skill[seat]))
        if left.size or backfilled:
            self._gathered = None
        return left

    def week(self, week: int) -> SeatWeek:
        """The team in ``week`` as arrays; hand-offs owed, then account plans, take up to half of each seat's
        hours (what account plans ask beyond that is not made)."""
        state = self._state()
        # Productivity by quarter of tenure (the ramp's last value holds afterwards); a vacant seat has none.
        tenure = np.minimum((week - state.hired_week) // WEEKS_PER_QUARTER, self._ramp.size - 1)
        last, key = self._last_week, tenure.tobytes()
        if last is not None and last[0] is state and last[1] == key:
            return last[2]  # the same seats in the same state at the same point of their ramps
        hours = np.where(state.filled, self._paid_hours * self._ramp[tenure], 0.0)
        handoff = np.minimum(HANDOFF_SHARE_OF_WEEK * hours, state.handoff_owed)
        coordination = np.minimum(HANDOFF_SHARE_OF_WEEK * hours - handoff, state.coordination_weekly)
        seat_week = SeatWeek(
            **self._constants,
            filled=state.filled,
            capacity=hours - handoff - coordination,
            handoff=handoff,
            coordination=coordination,
            skill=state.skill,
        )
        self._last_week = (state, key, seat_week)
        return seat_week


@dataclass(frozen=True)
class _SeatState:
    """What changes about the seats, as arrays (``Team._state``): shared by the weeks until the next change,
    so that nothing may write them."""

    filled: np.ndarray
    hired_week: np.ndarray
    vacated_week: np.ndarray
    handoff_owed: np.ndarray
    coordination_weekly: np.ndarray
    skill: np.ndarray


def _seat_constants(reps: list[Rep], lines: int) -> dict[str, np.ndarray]:
    """What never changes about the seats, as arrays (rebuilt only when seats are added)."""
    kinds = len(OPPORTUNITY_KINDS)
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
        "line": np.array([r.line for r in reps], dtype=np.int64),
        "lane_lines": np.array([r.lane_lines for r in reps], dtype=bool).reshape(len(reps), lines + 1),
        "lane_kinds": np.array([r.lane_kinds for r in reps], dtype=bool).reshape(len(reps), kinds),
    }
