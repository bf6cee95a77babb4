"""What a policy sees (sim.policies.views): every view attribute a policy reads is what the engine uses."""

from __future__ import annotations

import numpy as np
import pytest

from sim.codes import Kind, Stage, Status, TaskKind
from sim.model import CoverageModel
from sim.policies.protocol import NO_CONTRACT, CoveragePlan, PlanView, Policy, RouteView, TaskView
from sim.policies.rules import empty_plan, standard_priority
from sim.policies.segment_tiers import SegmentTiers
from sim.response import demand_lift
from tests.conftest import SMALL, kind, tiny


class Recording(SegmentTiers):
    """Segment tiers, checking each view it is shown against the others."""

    name = "recording"

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.weeks_checked = 0
        self.free_below_capacity = 0
        self.renewal_deals = 0
        self.task_kinds: set[int] = set()
        self.responses_costed = 0
        self.longest_notice = 0  # weeks: the scenario's longest renewal notice

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        o, p, team = view.opportunities, view.pending, view.team
        assert np.array_equal(o.customer[p.opportunity], p.customer)
        assert np.array_equal(o.stage[p.opportunity], p.stage)
        assert np.array_equal(o.effort_left[p.opportunity], p.effort_left)
        # Free hours: capacity less the weekly parts of the deals each seat works, by the opportunities view.
        working = (o.stage == Stage.IN_WORK) & (o.handler >= 0) & (o.effort_left > 1e-9) & (o.responded < view.week)
        seat = o.handler[working]
        hours = np.minimum(o.part[working], o.effort_left[working]) / team.skill[seat]
        committed = np.bincount(seat, weights=hours, minlength=team.size)
        assert view.free == pytest.approx(np.maximum(team.capacity - committed, 0.0), abs=1e-9)
        self.free_below_capacity += int((view.free < team.capacity - 1e-9).sum())
        # Contract dates: a live customer's is this week or later (a date reached is renewed or ended that week),
        # and a renewal deal's account is inside its notice.
        a = view.accounts
        left, customer = a.weeks_to_renewal(view.week), a.status == Status.CUSTOMER
        assert np.all(left[customer] >= 0) and np.all(left[customer] < np.inf) and np.all(left[~customer] == np.inf)
        assert np.all(a.renewal_week[~customer] == NO_CONTRACT)
        assert np.array_equal(a.weeks_to_renewal(view.week, p.customer), left[p.customer])
        renewing = o.customer[o.kind == Kind.RENEWAL]
        assert np.all(left[renewing] <= self.longest_notice)
        self.renewal_deals += renewing.size
        return super().route(view, rng)

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        t, o = view.tasks, view.opportunities
        deal = t.opportunity >= 0
        assert np.array_equal(deal, t.kind != TaskKind.TOUCH)
        assert np.array_equal(o.customer[t.opportunity[deal]], t.customer[deal])
        assert np.all(o.handler[t.opportunity[t.kind == TaskKind.WORK]] == t.rep[t.kind == TaskKind.WORK])
        kind = view.opportunity_kind()
        assert np.array_equal(kind[deal], o.kind[t.opportunity[deal]]) and np.all(kind[~deal] == -1)
        self.task_kinds |= set(kind.tolist())
        # A first response costs what the view says it does.
        response = t.kind == TaskKind.RESPONSE
        assert np.all(t.cost[response] == view.selling.response_hours)
        self.responses_costed += int(response.sum())
        self.weeks_checked += 1
        return super().prioritise(view, rng)


def test_views_agree_with_each_other_and_free_hours_are_capacity_less_committed_work():
    from sim.scenario import load_scenario

    policy = Recording()
    scenario = load_scenario(SMALL)
    policy.longest_notice = max(s.renewal_notice_weeks for s in scenario.population.segments)
    model = CoverageModel(scenario, policy, 3)
    model.run()
    model.release()
    assert policy.weeks_checked == model.weeks
    assert policy.free_below_capacity > 50  # deals in work do take hours: the check is not vacuous
    assert policy.renewal_deals > 50
    assert policy.task_kinds == {-1, Kind.NEW_LOGO, Kind.EXPANSION, Kind.RENEWAL}  # touches and every kind of deal
    assert policy.responses_costed > 100


class Keeping(SegmentTiers):
    """Segment tiers that keeps its first week's opportunities view and reads it a week later."""

    name = "keeping"

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.kept: list = []

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        if not self.kept:
            self.kept.append(view.opportunities)
            assert self.kept[0].stage.size == view.opportunities.size  # read in its week: fine, and cached
        elif view.week == 1:
            assert self.kept[0].stage.size > 0  # read in its week, kept: the cached arrays stand
            self.kept[0].customer  # noqa: B018  (first read a week later)
        return super().route(view, rng)


def test_an_opportunities_view_kept_past_its_week_raises_when_first_read_later():
    """The book takes and drops deals in place between weeks: a kept view's rows are no longer the book's,
    and reading one afresh is the policy's error, not wrong numbers."""
    from sim.errors import PolicyError
    from sim.scenario import load_scenario

    model = CoverageModel(load_scenario(SMALL), Keeping(), 3)
    model.step()  # week 0: the view is made and read
    # Named, as every other fault of a policy is: several policies may run at once.
    with pytest.raises(PolicyError) as e:
        model.step()
    # Both weeks counted from 1 within their quarter, as the engine names the week the fault came in.
    assert str(e.value) == (
        "policy keeping: route(): opportunities.customer read from a view made for week 1 of quarter 1 and kept "
        "past it: its rows are no longer the book's (keep the arrays read, not the view) (at tests/test_views.py "
        f"line {Keeping.route.__code__.co_firstlineno + 6}, in route) (quarter 1, week 2 of 13; view.week 1)"
    )
    model.release()


def test_selling_lift_is_the_demand_lift_at_the_mean_responsiveness():
    from sim.scenario import load_scenario

    scenario = load_scenario(SMALL)
    model = CoverageModel(scenario, SegmentTiers(), 1)
    s = model.selling
    a, b = scenario.population.segments[1].responsiveness
    stock, segment = np.array([0.0, 0.5, 2.0, 8.0]), np.array([1, 1, 1, 1])
    want = demand_lift(stock + 1.0, np.full(4, a / (a + b)), scenario.relationship.response)
    assert s.lift(stock, segment, added=1.0) == pytest.approx(want)
    assert s.lift(np.array([0.0]), np.array([0]))[0] == pytest.approx(scenario.relationship.response.b)
    assert s.weekly_retention == pytest.approx(scenario.relationship.monthly_retention ** (12 / 52))
    model.release()


class OfferedTouches(Policy):
    """Owns accounts 0-9 from seat 0 with no cadence, and offers accounts 0-4 a touch in week 3 only."""

    name = "offered_touches"

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        plan = empty_plan(view.accounts.size, 2)
        plan.owner[:10] = 0
        return plan

    def route(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        return np.full(view.pending.size, -1)

    def touches(self, view: RouteView, rng: np.random.Generator) -> np.ndarray:
        return np.arange(5) if view.week == 3 else np.arange(0)

    def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
        return standard_priority(view.tasks, view.accounts)


def test_touches_offered_without_a_cadence_are_made_by_the_owner_and_build_its_relationship():
    scenario = tiny(customers=20, segment={"new_logo": kind(0.0), "expansion": kind(0.0)})
    model = CoverageModel(scenario, OfferedTouches(), 1)
    for _ in range(3):
        model.step()
    assert model.recorder.touches.sum() == 0  # no cadence, nothing offered yet
    model.step()  # week 3
    assert model.recorder.touches[:5].tolist() == [1] * 5
    assert model.recorder.touches[5:].sum() == 0
    accounts = model._accounts
    assert (accounts.holder[:10] == 0).all() and (accounts.holder[10:] == -1).all()  # the owner holds them
    assert (accounts.personal[:5] > 0).all() and (accounts.personal[:5] <= accounts.stock[:5]).all()
    assert (accounts.personal[5:] == 0).all()
    with pytest.raises(ValueError, match="read-only"):
        accounts.holder[0] = 1
    model.release()


def test_untapped_wallet_of_some_accounts_is_theirs_of_every_accounts():
    from sim.policies import make_policy
    from sim.scenario import load_scenario

    model = CoverageModel(load_scenario("scenarios/overlay.toml"), make_policy("overlay"), 2)
    model.run(20)  # wins have spent some lines' wallets
    acc = model.population.view(("a",) * 4, ("l",) * 3)
    named = model.population.view(("a",) * 4, ("core", "security", "analytics"))
    model.release()
    from sim.errors import PolicyError

    # A line by its name is the line of that index; a name the scenario has not is a PolicyError naming them.
    assert np.array_equal(named.untapped("security"), acc.untapped(1))
    with pytest.raises(PolicyError, match=r"^untapped: no product line 'Security' \(the scenario's: core, security, "):
        named.untapped("Security")
    some = np.array([7, 3, 7, 99_999, 0])
    for line in range(3):
        every = acc.untapped(line)
        assert (every >= 0).all() and (every < acc.potential * acc.line_share[:, line] + 1e-9).all()
        assert np.array_equal(acc.untapped(line, some), every[some])
    assert (acc.untapped(0) < acc.potential * acc.line_share[:, 0]).sum() > 100  # some accounts spent on line 0


#: Public names of the view classes that are the engine's, not a policy's: how a view checks it is current,
#: and how the engine builds the selling tables.
NOT_FOR_POLICIES = {("Opportunities", "check_current"), ("Selling", "of")}


@pytest.mark.parametrize(
    "name",
    [
        "Accounts",
        "TeamView",
        "Opportunities",
        "Pending",
        "Tasks",
        "RouteView",
        "TaskView",
        "PlanView",
        "Selling",
        "CoveragePlan",
    ],
)
def test_every_public_attribute_of_what_a_policy_sees_is_documented_in_docs_model_md(name):
    import dataclasses

    import sim.policies.protocol as protocol
    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    cls = getattr(protocol, name)
    public = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    for base in cls.__mro__:
        if base.__module__.startswith("sim"):
            public |= {k for k in vars(base) if not k.startswith("_")}
    undocumented = sorted(
        a for a in public if (name, a) not in NOT_FOR_POLICIES and f"`{a}`" not in doc and f"`{a}(" not in doc
    )
    assert not undocumented, f"{name}: {undocumented} not in docs/model.md"


def test_the_renewal_first_priority_of_docs_policies_md_runs_as_written():
    import re
    from pathlib import Path

    from sim.scenario import load_scenario

    doc = (Path(__file__).resolve().parents[1] / "docs" / "policies.md").read_text()
    [source] = [b for b in re.findall(r"```python\n(.*?)```", doc, re.S) if "weeks_to_renewal" in b]
    names: dict[str, object] = {}
    exec(source, names)
    raised: list[int] = []

    class Watched(names["RenewalsFirst"]):  # type: ignore[misc,valid-type]
        def prioritise(self, view: TaskView, rng: np.random.Generator) -> np.ndarray:
            before = SegmentTiers.prioritise(self, view, np.random.default_rng(0))
            after = super().prioritise(view, np.random.default_rng(0))
            up = after != before
            # Only live renewal deals within four weeks of their date go up, and nothing goes down.
            left = view.accounts.weeks_to_renewal(view.week, view.tasks.customer)
            kind = view.opportunity_kind()
            assert np.all((kind[up] == Kind.RENEWAL) & (left[up] <= 4) & (before[up] > 0))
            assert np.all(after >= before)
            raised.append(int(up.sum()))
            return after

    model = CoverageModel(load_scenario(SMALL), Watched(), 3)
    model.run(26)
    model.release()
    assert len(raised) == 26 and sum(raised) > 20  # renewals near their dates were put first, week after week


def test_the_routing_helpers_take_a_mask_or_row_indices_and_refuse_anything_else(small, monkeypatch):
    # A policy writer passed row indices: route_to_pool read [5, 7] as a mask and routed rows 0 and 1, and a mask
    # of the wrong length routed the first rows, with no word.
    import pandas as pd

    from sim.errors import PolicyError
    from sim.policies import make_policy, pooled, rules
    from sim.run import run

    by_mask = run(small, make_policy("pooled"), seed=2).metrics
    to_queue, to_pool = rules.route_to_queue, rules.route_to_pool
    monkeypatch.setattr(pooled, "route_to_queue", lambda v, w, *a: to_queue(v, np.flatnonzero(w), *a))
    monkeypatch.setattr(pooled, "route_to_pool", lambda v, w, *a: to_pool(v, np.flatnonzero(w), *a))
    pd.testing.assert_frame_equal(run(small, make_policy("pooled"), seed=2).metrics, by_mask)
    assert by_mask["value"].abs().sum() > 0

    for wrong, said in (
        (lambda w: w[:-1], r"got bool of shape \(\d+,\)"),
        (lambda w: np.flatnonzero(w).astype(float), r"got float64 of shape"),
        (lambda w: np.array([w.size]), r"got int64 of shape \(1,\)"),
    ):
        monkeypatch.setattr(pooled, "route_to_queue", lambda v, w, *a, wrong=wrong: to_queue(v, wrong(w), *a))
        with pytest.raises(
            PolicyError,
            match=r"route\(\): route_to_queue: which must be a boolean mask of view\."
            r"pending's \d+ rows, or indices of them \(0\.\.\d+\); " + said,
        ):
            run(small, make_policy("pooled"), seed=2)


def test_pending_rows_reads_a_mask_indices_or_none_and_refuses_the_rest():
    from sim.errors import PolicyError
    from sim.policies.views import Pending

    zero = np.zeros(4, dtype=np.int64)
    pending = Pending(zero, zero, zero, zero, zero, zero, np.zeros(4), np.zeros(4), np.zeros(4))
    assert pending.rows(np.array([True, False, True, False]), "h").tolist() == [True, False, True, False]
    assert pending.rows(np.array([3, 0]), "h").tolist() == [True, False, False, True]
    assert pending.rows([], "h").tolist() == [False] * 4  # an empty list is float64 to numpy: still none
    with pytest.raises(PolicyError, match=r"^h: which must be a boolean mask of view\.pending's 4 rows"):
        pending.rows(np.array([4]), "h")


class Seeing(SegmentTiers):
    """Segment tiers that keeps the first plan view it is shown."""

    name = "seeing"

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.seen: list[PlanView] = []

    def plan(self, view: PlanView, rng: np.random.Generator) -> CoveragePlan:
        self.seen.append(view)
        return super().plan(view, rng)


def test_the_book_helpers_take_seats_as_indices_or_a_mask_and_refuse_anything_else():
    from sim.errors import PolicyError
    from sim.policies.rules import deal_books, distance_km, nearest_seat, nearest_seat_in_region
    from sim.scenario import load_scenario

    policy = Seeing()
    model = CoverageModel(load_scenario(SMALL), policy, 5)
    model.step()
    view = policy.seen[0]
    acc, team = view.accounts, view.team
    inside = team.can_close & ~team.field  # the inside reps: seats 2 and 3, not 0 and 1 as a mask read as indices
    seats = np.flatnonzero(inside)
    assert seats.tolist() == [2, 3]
    customers = np.arange(200)
    for helper in (nearest_seat, nearest_seat_in_region, distance_km):
        by_mask, by_index = helper(acc, team, customers, inside), helper(acc, team, customers, seats)
        assert np.array_equal(by_mask, by_index)
    assert set(nearest_seat(acc, team, customers, inside).tolist()) == {2, 3}
    named, owner = deal_books(acc, team, customers, inside, 50, "keep", None)
    assert named.size == 100 and np.bincount(owner, minlength=5).tolist() == [0, 0, 50, 50, 0]
    # A seat vacant at the plan: "keep" leaves it its book, dark until it is filled again; "cover" deals the team's
    # books over the filled seats, the best-ranked accounts first (a stress trial's quits left a book dark for the
    # vacancy), keeping owners where they can.
    import dataclasses

    previous = empty_plan(acc.size)
    previous.owner[named] = owner
    vacant = dataclasses.replace(team, filled=team.filled & (np.arange(team.filled.size) != 3))
    kept, by_keep = deal_books(acc, vacant, customers, seats, 50, "keep", previous)
    assert np.array_equal(by_keep[np.argsort(kept)], owner[np.argsort(named)])  # seat 3, vacant, keeps its 50
    covered, by_cover = deal_books(acc, vacant, customers, seats, 50, "cover", previous)
    assert np.bincount(by_cover, minlength=5).tolist() == [0, 0, 50, 0, 0]
    assert sorted(covered) == list(range(50))  # the best-ranked 50 of the 100 named, whoever held them
    everyone_vacant = dataclasses.replace(team, filled=np.zeros_like(team.filled))
    assert np.array_equal(deal_books(acc, everyone_vacant, customers, seats, 50, "cover", previous)[1], by_keep)
    for wrong, said in ((inside[:-1], r"bool of shape \(4,\)"), (seats.astype(float), "float64"), ([7], "int64")):
        with pytest.raises(PolicyError, match=rf"^nearest_seat: seats must be seat indices \(0\.\.4\) .*got {said}"):
            nearest_seat(acc, team, customers, np.asarray(wrong))
    model.release()
