"""What a policy sees: read-only views of the engine's state each time it is asked to decide.

A view holds read-only arrays (a policy that writes to one fails at once),
current when the policy is called. Codes in the arrays (status, kind, stage,
service level, task kind) are the enumerations of ``sim.codes``; units are
given per attribute. ``CoveragePlan`` is here because policies see the plan
in force (and, when planning, the previous one) as well as return one.
Import all of it from ``sim.policies.protocol``, the policy API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sim.clock import BUSINESS_DAYS_PER_WEEK as DAYS
from sim.clock import NO_DATE, quarter_of, week_in_quarter
from sim.codes import Stage
from sim.errors import PolicyError
from sim.policies.read_only import read_only
from sim.policies.selling_view import Selling


@dataclass(frozen=True)
class TeamView:
    """The seats of the team this week, one entry per seat (read-only arrays).

    role: role name; field: visits in person; can_close: may work an
    opportunity to a close (not an SDR); filled: a holder is in the seat;
    capacity: selling hours this week (0 when vacant, lower while ramping);
    skill: 1 = average; x, y: home base, km; region: index of home region;
    line: the product line the seat specialises in (index into
    ``Accounts.line_names``; -1: none); lane_lines (seat x line+1) and
    lane_kinds (seat x ``Kind``): its lane, the lines (the last column:
    renewals, the whole contract) and kinds it is paid on. A seat works only
    opportunities in its lane: the engine declines the rest (``pursues``).
    """

    role: np.ndarray
    field: np.ndarray
    can_close: np.ndarray
    filled: np.ndarray
    capacity: np.ndarray
    skill: np.ndarray
    x: np.ndarray
    y: np.ndarray
    region: np.ndarray
    line: np.ndarray
    lane_lines: np.ndarray
    lane_kinds: np.ndarray

    @property
    def size(self) -> int:
        return int(self.role.size)

    def pursues(self, seat: np.ndarray, line: np.ndarray, kind: np.ndarray) -> np.ndarray:
        """Whether each ``seat`` is paid on, and so pursues, an opportunity of ``line`` (-1: a renewal, the
        whole contract) and ``kind``."""
        return self.lane_lines[seat, line] & self.lane_kinds[seat, kind]

    @property
    def paid_on_everything(self) -> np.ndarray:
        """Per seat: paid on every line and every kind (no lane of its own: a generalist)."""
        return np.asarray(self.lane_lines.all(axis=1) & self.lane_kinds.all(axis=1))

    def seats(self, *roles: str, closers: bool = False) -> np.ndarray:
        """Indices of filled seats with one of ``roles`` (any role when none given)."""
        mask = self.filled.copy()
        if roles:
            mask &= np.isin(self.role, roles)
        if closers:
            mask &= self.can_close
        return np.flatnonzero(mask)


def seat_indices(seats: np.ndarray, n: int, what: str) -> np.ndarray:
    """``seats`` of a team of ``n`` seats as seat indices: given as them, or as a boolean mask of the seats; a
    PolicyError naming ``what`` was given it otherwise (a mask read as indices had given every account seats 0
    and 1)."""
    s = np.asarray(seats)
    if s.dtype == bool and s.shape == (n,):
        return np.flatnonzero(s)
    if s.size == 0:  # none, however given ([] is float64 to numpy)
        return np.empty(0, dtype=np.int64)
    if s.ndim == 1 and s.dtype.kind in "iu" and bool(((s >= 0) & (s < n)).all()):
        return s.astype(np.int64, copy=False)
    raise PolicyError(
        f"{what}: seats must be seat indices (0..{n - 1}) or a boolean mask of the team's {n} seats; "
        f"got {s.dtype} of shape {s.shape}"
    )


#: ``Accounts.renewal_week`` of an account with no contract (a prospect or a churned account).
NO_CONTRACT = NO_DATE


@dataclass(frozen=True)
class Accounts:
    """What a policy may see of every account (read-only arrays).

    segment: index into ``segment_names``; region: index of the scenario's
    region; x, y: location, km; potential, spend: currency units a year;
    status: ``Status``; stock: relationship stock (touch-equivalents: a visit
    adds ``Selling.visit_stock``), of which personal is held with the seat
    holder (-1: nobody); the rest belongs to the company. The holder is the
    previous owner who built the relationship: an owner change that does not
    give the account to its holder loses most of the personal part.
    line_share, line_spend (accounts x lines, lines named by ``line_names``):
    each product line's share of the potential, and the annual spend on it
    (its untapped wallet is ``potential x line_share - line_spend``).
    renewal_week: the week of the contract's next renewal date (0-based, as
    the views' ``week``; ``NO_CONTRACT`` for an account with no contract: a
    prospect or a churned account); a rep covering it gets its renewal
    opportunity the segment's ``renewal_notice_weeks`` before (a digital
    account renews on its own). Responsiveness is latent and not shown
    (``Selling`` gives its mean).
    """

    segment: np.ndarray
    segment_names: tuple[str, ...]
    line_names: tuple[str, ...]
    region: np.ndarray
    x: np.ndarray
    y: np.ndarray
    potential: np.ndarray
    status: np.ndarray
    spend: np.ndarray
    stock: np.ndarray
    personal: np.ndarray
    holder: np.ndarray
    line_share: np.ndarray
    line_spend: np.ndarray
    renewal_week: np.ndarray

    @property
    def size(self) -> int:
        return int(self.segment.size)

    def weeks_to_renewal(self, week: int, customers: np.ndarray | None = None) -> np.ndarray:
        """Weeks from ``week`` to each account's next renewal date (0: this week; no date is ever past, since
        a date reached is renewed or ended that week), of ``customers`` (indices) only, if given; infinite for
        an account with no contract, so that ``weeks_to_renewal(week) <= 4`` leaves prospects out."""
        date = self.renewal_week if customers is None else self.renewal_week[customers]
        return np.where(date == NO_CONTRACT, np.inf, date - float(week))

    def untapped(self, line: int | str, customers: np.ndarray | None = None) -> np.ndarray:
        """Each account's untapped wallet on product ``line`` (its index in ``line_names``, or its name; currency a
        year): its share of the potential less the spend on it; of ``customers`` (indices) only, if given. A
        researcher's ``untapped("security")`` had raised numpy's IndexError."""
        if isinstance(line, str):
            if line not in self.line_names:
                raise PolicyError(f"untapped: no product line {line!r} (the scenario's: {', '.join(self.line_names)})")
            line = self.line_names.index(line)
        if customers is None:
            return np.maximum(self.potential * self.line_share[:, line] - self.line_spend[:, line], 0.0)
        return np.maximum(
            self.potential[customers] * self.line_share[customers, line] - self.line_spend[customers, line], 0.0
        )

    def in_segments(self, names: str | tuple[str, ...] | list[str]) -> np.ndarray:
        """Boolean mask of accounts whose segment is one of ``names`` (several, or one name); a name the scenario
        has no segment of is a PolicyError (a typo had selected no account, and a name given as a string every
        segment whose name holds it)."""
        chosen = (names,) if isinstance(names, str) else tuple(names)
        if unknown := [n for n in chosen if n not in self.segment_names]:
            raise PolicyError(
                f"in_segments: no segment {', '.join(map(repr, unknown))} (the scenario's: "
                f"{', '.join(self.segment_names)})"
            )
        # A lookup by segment code: one gather, where np.isin would sort every account.
        wanted = np.array([n in chosen for n in self.segment_names], dtype=bool)
        return wanted[self.segment]


@dataclass(frozen=True)
class CoveragePlan:
    """A policy's quarterly decision, one entry per account.

    owner: seat index or -1; service: ``Service`` (digital, pooled, high touch);
    cadence: planned touches per quarter (> 0 means a touch is promised);
    coordinated: the account's team coordinates, so several reps working it
    is not a conflicting engagement; warm: if the account changes owner this
    quarter, the old owner hands it over warm (an introduction that keeps
    more of the personal relationship and costs both reps hours); None: all
    cold. seat_pool, one entry per *seat*: the pool whose shared queue the
    seat answers (0, 1, ...; -1: none; None: no pools), for opportunities
    that ``route`` puts in a queue (``queue(pool)``).

    An overlay: specialist (accounts x product lines) names the seat that
    covers each line of each account beside the owner (-1: none; None: no
    overlay), and specialist_cadence (same shape) its planned touches per
    quarter. The owner and the specialists are the account's team. A
    coordinated account's team keeps an account plan: working it in the
    same week is then no conflicting engagement, and the plan costs each
    distinct seat of the team ``relationship.coordination_hours`` a quarter; only an
    account with a team can be coordinated. Who joins an account plan is set by
    pay: a seat paid on every line (``reps.lane = "all_lines"``) joins it; a
    seat paid on its own line only (``"own_line"``, "focus on my own lane")
    joins only where the plan makes it, ``lanes_join`` (a scalar, True by
    default: the plan binds every seat of the team, as a shared account goal
    would). With ``lanes_join`` False such a seat keeps to its lane: it
    plans with no one and pays no plan hours, and its work on a coordinated
    account in a week another closing rep works it is a conflicting
    engagement all the same.
    """

    owner: np.ndarray
    service: np.ndarray
    cadence: np.ndarray
    coordinated: np.ndarray
    warm: np.ndarray | None = None
    seat_pool: np.ndarray | None = None
    specialist: np.ndarray | None = None
    specialist_cadence: np.ndarray | None = None
    lanes_join: bool = True


def queue(pool: int | np.ndarray) -> int | np.ndarray:
    """What ``route`` returns for an opportunity that waits in the shared queue of ``pool`` (-2 - pool)."""
    return -2 - pool


def pool_of(handler: np.ndarray) -> np.ndarray:
    """The pool of each routed handler that is a queue (``queue(pool)``), -1 where it is a seat or nobody."""
    return np.where(handler <= -2, -2 - handler, -1)


@dataclass(frozen=True)
class PlanView:
    quarter: int  # 1-based quarter about to start
    accounts: Accounts
    team: TeamView
    previous: CoveragePlan | None
    selling: Selling


class _BookColumn:
    """An attribute of ``Opportunities``: a column of the book at its rows, read-only, made on first read."""

    def __init__(self, column: str) -> None:
        self.column = column

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, view: Opportunities, owner: type | None = None) -> np.ndarray:
        view.check_current(self.name)
        value = read_only(view._columns[self.column][view._rows])
        view.__dict__[self.name] = value  # later reads find it there, not here
        return value


class Opportunities:
    """Every open opportunity that reps work (self-service ones excepted), as of the call (read-only arrays).

    customer, segment: the account and its segment; kind: ``Kind``; line:
    the product line, an index into ``Accounts.line_names`` (-1,
    ``WHOLE_CONTRACT``, for a renewal: the whole contract); stage:
    ``Stage`` (0 awaiting a first response, 1 responded); handler: the seat
    working it (-1: none: not yet answered, or waiting for a closer);
    effort_left: rep hours still needed to decide it (at skill 1); part:
    the hours of it asked for each week (at skill 1; a week's work is
    ``min(part, effort_left) / skill`` of the handler's hours); days_left: business days to its response deadline (stage 0) or to its
    stall deadline (stage 1); expected_value: the engine's estimate of win
    probability x value, currency units; arrived: business day of arrival
    (since week 0); responded: week of the first response (-1 before).
    ``Pending.opportunity`` and ``Tasks.opportunity`` index these rows. Each
    attribute is computed when first read, so a policy pays only for what it reads,
    from the book as the call finds it; an attribute first read after the book has
    taken or dropped deals (a view kept for a later week) raises ``PolicyError``:
    keep the arrays read, not the view.
    """

    def __init__(
        self, columns: Mapping[str, np.ndarray], rows: np.ndarray, week: int, changes: list[int] | None = None
    ) -> None:
        # ``changes``: the book's count of its changes of rows, shared; the view is good while it stands.
        self._columns, self._rows, self._week = columns, rows, week
        self._changes, self._seen = changes, None if changes is None else changes[0]

    def check_current(self, name: str) -> None:
        """PolicyError if the book's rows have changed since the view was made (``name``: what was read)."""
        if self._changes is not None and self._changes[0] != self._seen:
            raise PolicyError(
                f"opportunities.{name} read from a view made for week {week_in_quarter(self._week) + 1} of quarter "
                f"{quarter_of(self._week)} and kept past it: its rows are no longer the book's (keep the arrays "
                "read, not the view)"
            )

    @property
    def size(self) -> int:
        return int(self._rows.size)

    customer = _BookColumn("customer")
    segment = _BookColumn("segment")
    kind = _BookColumn("kind")
    line = _BookColumn("line")
    stage = _BookColumn("stage")
    handler = _BookColumn("handler")
    effort_left = _BookColumn("effort_left")
    part = _BookColumn("chunk")
    expected_value = _BookColumn("expected_value")
    arrived = _BookColumn("day")
    responded = _BookColumn("responded")

    @cached_property
    def days_left(self) -> np.ndarray:
        self.check_current("days_left")
        c, r, w = self._columns, self._rows, self._week
        answered = c["stage"][r] == Stage.IN_WORK
        return read_only(np.where(answered, DAYS * (c["work_deadline"][r] + 1 - w), c["sla_deadline"][r] - DAYS * w))


@dataclass(frozen=True)
class Pending:
    """Opportunities waiting for a handler this week (read-only arrays).

    opportunity: its row in the view's ``opportunities``; stage: ``Stage``
    (awaiting first response, or responded and waiting for a closer); kind:
    ``Kind``; expected_value: engine's estimate of win probability x value,
    currency units; days_left: business days to the response deadline
    (stage 0) or to the stall deadline (stage 1); effort_left: rep hours
    still needed after the first response; line: product line (as
    ``Opportunities.line``).
    """

    opportunity: np.ndarray
    customer: np.ndarray
    segment: np.ndarray
    kind: np.ndarray
    line: np.ndarray
    stage: np.ndarray
    expected_value: np.ndarray
    days_left: np.ndarray
    effort_left: np.ndarray

    @property
    def size(self) -> int:
        return int(self.customer.size)

    def rows(self, which: np.ndarray, what: str) -> np.ndarray:
        """``which`` of these rows as a boolean mask: given as one, or as the rows' indices; a PolicyError
        naming ``what`` was given it otherwise (an index array read as a mask had routed rows 0 and 1 for 5 and 7,
        and a mask of the wrong length its first rows)."""
        w, n = np.asarray(which), self.size
        if w.dtype == bool and w.shape == (n,):
            return w
        if w.size == 0:  # none, however given ([] is float64 to numpy)
            return np.zeros(n, dtype=bool)
        if w.ndim == 1 and w.dtype.kind in "iu" and bool(((w >= 0) & (w < n)).all()):
            mask = np.zeros(n, dtype=bool)
            mask[w] = True
            return mask
        raise PolicyError(
            f"{what}: which must be a boolean mask of view.pending's {n} rows, or indices of them (0..{n - 1}); "
            f"got {w.dtype} of shape {w.shape}"
        )


@dataclass(frozen=True)
class RouteView:
    """The week's routing: ``pending`` to route; ``free``, per seat, its selling hours this week not yet
    taken by the weekly parts of the deals it works (the first response of what it is routed comes on top)."""

    week: int
    accounts: Accounts
    team: TeamView
    plan: CoveragePlan
    pending: Pending
    free: np.ndarray
    opportunities: Opportunities
    selling: Selling


@dataclass(frozen=True)
class Tasks:
    """Candidate tasks this week (read-only arrays).

    rep: seat that would do it (-1 for a first response waiting in a shared
    queue: the rep of its pool who is free first takes it); pool: the pool
    whose queue holds it (-1: the task is its rep's own); kind:
    ``TaskKind``; customer and segment of the account; cost: hours including
    travel; expected_value: engine's estimate for the opportunity (0 for
    touches); days_left: business days to the deadline (inf for touches);
    opportunity: its row in the view's ``opportunities`` (-1 for a touch);
    line: the opportunity's product line, or the line of a specialist's
    touch (-1: a renewal, the whole contract, or the owner's touch of the
    account).
    """

    rep: np.ndarray
    pool: np.ndarray
    opportunity: np.ndarray
    kind: np.ndarray
    line: np.ndarray
    customer: np.ndarray
    segment: np.ndarray
    cost: np.ndarray
    expected_value: np.ndarray
    days_left: np.ndarray

    @property
    def size(self) -> int:
        return int(self.rep.size)


@dataclass(frozen=True)
class TaskView:
    week: int
    accounts: Accounts
    team: TeamView
    plan: CoveragePlan
    tasks: Tasks
    opportunities: Opportunities
    selling: Selling

    def opportunity_kind(self) -> np.ndarray:
        """Each task's opportunity's ``Kind`` (new logo, expansion, renewal), -1 for a touch, which has none:
        ``opportunities.kind[tasks.opportunity]`` would give a touch the last opportunity's kind."""
        t = self.tasks
        kind = np.full(t.size, -1, dtype=np.int64)
        deal = t.opportunity >= 0
        kind[deal] = self.opportunities.kind[t.opportunity[deal]]
        return kind
