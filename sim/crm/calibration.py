"""Calibrating a scenario's numbers from a cleaned CRM export, with a note per choice made.

Accounts are put in size segments by revenue quantile; each segment's
potentials, opportunity rate, win rate, cycle and deal sizes are fitted from
its accounts and their opportunities, falling back on team-level figures where
a segment has no data of its own. Figures the export cannot give are
assumptions [A], each stated in the written scenario.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date

import numpy as np
import pandas as pd

from sim.crm.cleaning import Cleaned
from sim.crm.cycle_fit import CycleFit, cycle_notes, fit_cycle, seen_until
from sim.crm.fits import FEW_CLOSED, Calibration, Office, SegmentFit, TeamFit, wilson
from sim.crm.late_closes import closes_logged_from
from sim.crm.names import identifier, unique_names
from sim.crm.notes import name_list
from sim.crm.rate_trend import rates_counted_from, trend_note
from sim.crm.shared_accounts import shared_weeks
from sim.errors import InputError
from sim.format import counted
from sim.scenario import MAX_CATEGORIES, MAX_CUSTOMERS, MAX_VALUE_SHARE
from sim.selling import Adbudg

#: Assumed share of an account's annual wallet that the company wins [A].
SHARE_OF_WALLET = 0.3
#: Assumed mean rep hours per deal of a segment whose median cycle is the team's [A]; scaled by a segment's
#: median cycle. The scenario names the median deal's hours, the mean / exp(deal_sigma^2 / 2) (lognormal).
EFFORT_HOURS = 10.0
#: Segments by account revenue, largest first: enterprise above the 0.8 quantile of revenue (top 20%),
#: mid_market above the 0.4 quantile (next 40%), smb the rest (bottom 40%); the cut points are [A].
SEGMENTS = ("enterprise", "mid_market", "smb")
SEGMENT_QUANTILES = (0.4, 0.8)
#: Smallest potential_sigma fitted: a segment whose potentials (nearly) agree still varies a little [A].
MIN_SIGMA = 0.1
#: Annual churn of an untouched customer: not in the export; the baseline scenario's assumption [A].
CHURN_PER_YEAR = {"enterprise": 0.05, "mid_market": 0.08, "smb": 0.12}
DEFAULT_CHURN = 0.08
DAYS_PER_YEAR = 365.25


def calibrate(
    cleaned: Cleaned, customers: int | None = None, units: int = 1, rates_from: date | None = None
) -> Calibration:
    """Segment the accounts and fit every scenario number from the cleaned export.

    ``units`` models each account as that many buying units (independent
    accounts of the scenario, as the divisions of a group buying apart):
    opportunity rates and potentials are divided among them, value shares
    multiplied so that deal sizes stay those of the data.
    ``customers`` is the accounts of the scenario (None: the file's), each of
    ``units`` buying units: the scenario's customers are their product.
    ``rates_from`` counts opportunity rates from that day (None: the first
    engage date), as after a CRM's adoption; other yearly figures keep the whole span.
    """
    if units < 1:
        raise InputError([f"--units: must be at least 1, got {units}"])
    notes: list[str] = []
    pipe = cleaned.pipeline
    files = cleaned.files
    if not pipe["known"].any():
        raise InputError(
            [
                f"{cleaned.paths['pipeline']}: account: no opportunity names an account of "
                f"{cleaned.paths['accounts']} (the column is blank or holds other names; map another with --column "
                "pipeline.account=NAME): nothing to calibrate the segments on"
            ]
        )
    end, logged_from = seen_until(pipe, cleaned.cutoff), closes_logged_from(pipe)  # sim.crm.cycle_fit

    def cycle_of(deals: pd.DataFrame) -> CycleFit | None:
        return fit_cycle(deals, end, logged_from)

    team, team_deal_mean = _team_fit(pipe, cleaned.paths, cleaned.cutoff, (end, logged_from), rates_from)
    acc, (q_lo, q_hi) = _account_figures(cleaned.accounts, pipe, team.won_years)
    overall_ratio = _median(acc["ratio"].dropna())
    segment_of = pipe["account"].map(dict(zip(acc["account"], acc["segment"], strict=True)))

    n_total = len(acc)
    fits = []
    for seg_name in SEGMENTS:
        members = acc[acc["segment"] == seg_name]
        if members.empty:
            notes.append(f"segment {seg_name}: no account in its revenue band: left out of the scenario")
            continue
        fit, fit_notes = _fit_segment(
            seg_name,
            members,
            pipe[segment_of == seg_name],
            n_total,
            units,
            team,
            team_deal_mean,
            overall_ratio,
            cycle_of,
        )
        fits.append(fit)
        notes += fit_notes
    notes.append(
        f"segments by account revenue ({files['accounts']}): enterprise above {q_hi:,.2f} (top 20%), mid_market "
        f"above {q_lo:,.2f} (next 40%), smb the rest (bottom 40%): "
        + ", ".join(f"{f.name} {f.accounts}" for f in fits)
        + (" account" if sum(f.accounts for f in fits) == 1 else " accounts")
    )
    if team.lost == 0:
        # A "Closed Won" report exported by mistake gives exactly this, and a model that wins every deal it works.
        notes.append(
            f"caution: every closed deal of {files['pipeline']} was won ({team.won:,} won, none lost): the scenario "
            "wins every deal a rep completes (win rate 100%); if the export is a report of won deals only, export "
            "the lost ones too"
        )
    if all(f.customer_share == 1.0 for f in fits):
        notes.append(
            f"every account of {files['accounts']} has won a deal: the scenario has customers and no prospects "
            "(customer_share 1 in every segment), so a run has no new-logo opportunity and hunters have nobody to "
            "hunt; to study hunting, set a lower customer_share in the scenario"
        )
    accounts = n_total if customers is None else customers
    if units > 1:
        notes.append(
            f"--units {units}: each account is modelled as {units} buying units (population {accounts:,} x {units} = "
            f"{accounts * units:,}): opportunity rates, potentials and renewal effort / {units}, value shares x "
            f"{units}, so each account's opportunities, wallet, deal sizes and renewal effort are those of the data "
            f"and its one contract; a run's customers and accounts count buying units ({accounts * units:,}), not "
            "the export's accounts, and so do a policy's books and touches: a comparison of policies moves with "
            "--units (docs/scenario-format.md, 8.5)"
        )
    # The export's rates are of accounts as its team served them; the model lifts an account's rate with the
    # relationship it builds, so a calibrated world raised 1.4-1.65 times the export's expansions (an analyst's trial).
    notes.append(
        "opportunity rates (rate_per_year) are the export's observed ones, which the model reads as an account's "
        "rate with no relationship: the relationship a team builds lifts it, up to "
        f"{Adbudg.model_fields['a'].default:g} times (relationship.response.a [A]), so a run raises more than the "
        "export did, the more so the more a policy covers (on the shared export 1.4 to 1.65 times its expansions "
        "over four quarters, by policy; `covsim backtest` says how many a run raises; docs/scenario-format.md 8.5)"
    )
    counted_from = pd.Timestamp(team.rates_from)
    at_account = pipe.loc[pipe["known"] & (pipe["engage_date"] >= counted_from), "engage_date"]
    notes += trend_note(at_account, counted_from, pd.Timestamp(team.last_engage), files["pipeline"])
    notes += cycle_notes(team.cycle, files["pipeline"])
    notes += shared_weeks(pipe, files["pipeline"])
    industries, note = industry_names(acc["sector"])
    notes += note
    if accounts != n_total:
        notes.append(
            f"--customers {accounts:,}: the population is scaled from the {n_total} accounts of {files['accounts']} "
            f"to {accounts:,}, keeping the segment shares and per-account rates"
        )
    return Calibration(
        files=files,
        cutoff=cleaned.cutoff,
        units=units,
        accounts=accounts,
        accounts_in_file=n_total,
        thresholds=(q_lo, q_hi),
        segments=tuple(fits),
        team=team,
        offices=_offices(cleaned),
        industries=industries,
        countries=cleaned.countries,
        notes=tuple(notes),
    )


def check_population(cal: Calibration) -> None:
    """InputError when the scenario's customers, its accounts x buying units, pass the most a scenario holds,
    said of the two options that make them and before any file is written (the scenario's own check names its
    ``population.customers``, which the user never typed). Apart from :func:`calibrate`, which studies such a
    world's numbers all the same (a test takes value shares past their bound with millions of units)."""
    if cal.customers > MAX_CUSTOMERS:
        raise InputError(
            [
                f"--customers {cal.accounts:,} x --units {cal.units}: {cal.customers:,} buying units, more than a "
                f"scenario holds ({MAX_CUSTOMERS:,}); give fewer accounts or units"
            ]
        )


def _team_fit(
    pipe: pd.DataFrame,
    paths: dict[str, str],
    cutoff: date | None,
    seen: tuple[pd.Timestamp, pd.Timestamp | None],
    rates_from: date | None,
) -> tuple[TeamFit, float]:
    """The team-level figures of every opportunity kept (as of ``cutoff``), and the mean won deal (currency);
    InputError, naming the pipeline's path (``paths``), when the export gives no time span (no engage date), win
    rate, sales cycle or deal size, or ``rates_from`` lies outside its engage dates. ``seen``: the last day the
    export saw (``seen_until``) and the day its closes start where they start late (``closes_logged_from``)."""
    # The time span yearly figures are computed over (rates from --rates-from, won value from a late first close).
    engaged = pipe[pipe["engage_date"].notna()]
    if engaged.empty:
        raise InputError([f"{paths['pipeline']}: no opportunity has an engage_date: no time span to calibrate rates"])
    first, last = engaged["engage_date"].min(), engaged["engage_date"].max()
    span_days = int((last - first).days) + 1
    counted_from = rates_counted_from(first, last, rates_from, cutoff)

    # Over the deals the segments' are fitted from, so that a segment's effort scales by its cycle's ratio to theirs.
    end, logged_from = seen
    cycle = fit_cycle(pipe[pipe["known"]], end, logged_from)
    won_valued = pipe[(pipe["status"] == "won") & pipe["close_value"].notna()]
    deal_median = _median(won_valued["close_value"])
    deal_mean = float(won_valued["close_value"].mean()) if len(won_valued) else math.nan
    won = int((pipe["status"] == "won").sum())
    lost = int((pipe["status"] == "lost").sum())
    if won + lost == 0:  # with a cut-off, the deals closed on or after it count as open
        raise InputError(
            [
                f"--cutoff {cutoff}: no deal of {paths['pipeline']} closed (won or lost) before it: no win rate to "
                "calibrate (choose a later cut-off)"
                if cutoff is not None
                else f"{paths['pipeline']}: no closed (won or lost) deal: no win rate to calibrate"
            ]
        )
    if cycle is None:
        raise InputError([f"{paths['pipeline']}: no closed deal with engage and close dates: no sales cycle"])
    if math.isnan(deal_median):
        raise InputError([f"{paths['pipeline']}: no won deal with a close_value: no deal size to calibrate"])
    with_account = int((pipe["account"] != "").sum())
    team = TeamFit(
        opportunities=len(pipe),
        with_account=with_account,
        without_account=len(pipe) - with_account,
        engaged=len(engaged),
        won=won,
        lost=lost,
        open=int((pipe["status"] == "open").sum()),
        win_rate=won / (won + lost),
        cycle=cycle,
        deal_median=deal_median,
        won_value=float(won_valued["close_value"].sum()),
        first_engage=str(first.date()),
        last_engage=str(last.date()),
        span_days=span_days,
        span_years=span_days / DAYS_PER_YEAR,
        # Over the days wins were logged: the engage span had understated the shared export's potentials by a third.
        won_years=span_days / DAYS_PER_YEAR if logged_from is None else ((end - logged_from).days + 1) / DAYS_PER_YEAR,
        rates_from=str(counted_from.date()),
        rate_years=((last - counted_from).days + 1) / DAYS_PER_YEAR,
    )
    return team, deal_mean


def _account_figures(
    accounts: pd.DataFrame, pipe: pd.DataFrame, span_years: float
) -> tuple[pd.DataFrame, tuple[float, float]]:
    """The accounts with their ``segment`` (by revenue quantile), annual won value (``annual_won``),
    ``customer`` (has a won deal), won value per unit of revenue (``ratio``) and, when they have a won
    deal (``from_won``), ``potential``; and the two revenue thresholds between the segments."""
    acc = accounts.copy()
    revenue = acc["revenue"].to_numpy(dtype=float)
    q_lo, q_hi = (float(np.quantile(revenue, q)) for q in SEGMENT_QUANTILES)
    acc["segment"] = np.where(revenue > q_hi, "enterprise", np.where(revenue > q_lo, "mid_market", "smb"))
    known = pipe[pipe["known"]]
    won = known[known["status"] == "won"]
    won_value = won.groupby("account")["close_value"].sum(min_count=1)
    acc["won_value"] = acc["account"].map(won_value).astype(float).fillna(0.0)
    acc["annual_won"] = acc["won_value"] / span_years
    acc["customer"] = acc["account"].isin(set(won["account"]))
    acc["ratio"] = np.where(acc["annual_won"] > 0, acc["annual_won"] / acc["revenue"], np.nan)
    acc["potential"] = np.where(acc["annual_won"] > 0, acc["annual_won"] / SHARE_OF_WALLET, np.nan)
    acc["from_won"] = acc["annual_won"] > 0
    return acc, (q_lo, q_hi)


def _fit_segment(
    name: str,
    members: pd.DataFrame,
    seg_pipe: pd.DataFrame,
    accounts_total: int,
    units: int,
    team: TeamFit,
    team_deal_mean: float,
    overall_ratio: float,
    cycle_of: Callable[[pd.DataFrame], CycleFit | None],
) -> tuple[SegmentFit, list[str]]:
    """One segment's figures from its accounts (``members``, see :func:`_account_figures`) and their
    opportunities, and a note per team-level fallback: the segment has no won deal, closed deal, dated
    closed deal or valued won deal of its own. ``overall_ratio``: the median won value per unit of
    revenue of all accounts; ``cycle_of``: the export's cycle fit (``sim.crm.cycle_fit``) of a set of deals."""
    notes = []
    n = len(members)
    ratio = _median(members["ratio"].dropna())
    if math.isnan(ratio):
        ratio = overall_ratio
        notes.append(
            f"segment {name}: no account with a won deal: potentials from the median won-value-per-revenue "
            f"of all accounts ({overall_ratio:.4g})"
        )
    # An account without a won deal has the wallet its revenue suggests, at the segment's won value per revenue.
    fallback = ~members["from_won"]
    pot = members["potential"].to_numpy(dtype=float).copy()
    pot[fallback.to_numpy()] = ratio * members.loc[fallback, "revenue"].to_numpy(dtype=float) / SHARE_OF_WALLET
    if fallback.any():
        notes.append(
            f"segment {name}: {counted(int(fallback.sum()), 'account')} without a won deal: potential = "
            f"{ratio:.4g} (median annual won value per unit of revenue in the segment) x revenue / "
            f"{SHARE_OF_WALLET} ({name_list(list(members.loc[fallback, 'account']))})"
        )
    good = pot[np.isfinite(pot) & (pot > 0)]
    if good.size == 0:
        # Every account here has a positive revenue (cleaning sets the others aside): no won value anywhere is why.
        raise InputError(
            [
                f"segment {name}: no account gets a positive potential: it comes from the value of an account's won "
                "deals (pipeline close_value), or, with none, from its revenue at the won value per unit of revenue "
                "of the accounts with some, and no won deal of the export is worth more than 0"
            ]
        )
    p_median = float(np.median(good))
    sigma = float(np.std(np.log(good), ddof=1)) if good.size > 1 else 0.0

    engaged = seg_pipe[seg_pipe["engage_date"].notna()]
    in_rate = engaged[engaged["engage_date"] >= pd.Timestamp(team.rates_from)]  # those the rate counts
    if in_rate.empty and not engaged.empty:
        notes.append(
            f"segment {name}: none of its {counted(len(engaged), 'engaged opportunity', 'engaged opportunities')} "
            f"was engaged from --rates-from {team.rates_from}: its rate is 0, a segment with no demand"
        )
    closed = seg_pipe[seg_pipe["status"] != "open"]
    n_won = int((closed["status"] == "won").sum())
    if len(closed):
        win, win_source = n_won / len(closed), "segment"
        if len(closed) < FEW_CLOSED:  # said where the backtest and the scenario file say the calibration's notes
            low, high = wilson(n_won, len(closed))
            notes.append(
                f"segment {name}: caution: its win rate {win:.1%} rests on {n_won:,} won of "
                f"{counted(len(closed), 'closed deal')}: its 95% interval is {low:.0%} to {high:.0%} (Wilson); a "
                "later --cutoff or a longer export gives it more"
            )
    else:
        win, win_source = team.win_rate, "team"
        notes.append(f"segment {name}: no closed deal: team-level win rate {team.win_rate:.1%} used")
    cycle, cycle_source = cycle_of(seg_pipe), "segment"
    if cycle is None or cycle.unfitted or cycle.closed < FEW_CLOSED:  # 3 deals had fitted a spread of 4.5 (a review)
        why = cycle.unfitted if cycle and cycle.unfitted else f"fewer than {FEW_CLOSED} closed deals with dates [A]"
        notes.append(
            f"segment {name}: {why}: the team's cycle used (median {team.cycle.median_days:.0f} days, spread "
            f"{team.cycle.sigma:.2f})"
        )
        cycle, cycle_source = team.cycle, "team"
    won_valued = closed[(closed["status"] == "won") & closed["close_value"].notna()]
    deal = _median(won_valued["close_value"])
    deal_mean = float(won_valued["close_value"].mean()) if len(won_valued) else math.nan
    if math.isnan(deal):
        deal, deal_mean = team.deal_median, team_deal_mean
        notes.append(
            f"segment {name}: no won deal with a value: team-level median and mean deal "
            f"{team.deal_median:,.0f} and {team_deal_mean:,.0f} used"
        )
    # A lognormal value draw with this sigma around the mean has the data's median.
    value_sigma = math.sqrt(2 * math.log(deal_mean / deal)) if deal > 0 and deal_mean > deal else 0.0
    dates = engaged["engage_date"]
    shares = {
        "new_logo": deal_mean / (p_median / units),
        "expansion": deal_mean / (p_median / units * (1 - SHARE_OF_WALLET)),
    }
    for kind, share in shares.items():
        if share > MAX_VALUE_SHARE:  # a scenario may name no more (a typing error's bound, far past any real one)
            notes.append(
                f"segment {name}: {kind} value_share {share:,.0f} (mean won deal / untapped wallet) is above the most "
                f"a scenario may name: {MAX_VALUE_SHARE:,.0f} written"
            )
            shares[kind] = MAX_VALUE_SHARE
    fit = SegmentFit(
        name=name,
        accounts=n,
        share=n / accounts_total,
        revenue_min=float(members["revenue"].min()),
        revenue_max=float(members["revenue"].max()),
        customers=int(members["customer"].sum()),
        customer_share=float(members["customer"].mean()),
        potential_median=p_median / units,
        potential_sigma=max(MIN_SIGMA, sigma),
        potentials_from_won=int((~fallback).sum()),
        potentials_from_revenue=int(fallback.sum()),
        won_per_revenue=ratio,
        engaged=len(in_rate),
        rate_per_year=len(in_rate) / (n * team.rate_years) / units,
        closed=len(closed),
        won=n_won,
        win_probability=win,
        win_source=win_source,
        cycle=cycle,
        cycle_source=cycle_source,
        cycle_weeks=max(1, round(cycle.median_days / 7)),
        won_values=len(won_valued),
        deal_median=deal,
        deal_mean=deal_mean,
        value_sigma=value_sigma,
        value_share_new=shares["new_logo"],
        value_share_expansion=shares["expansion"],
        effort_hours=EFFORT_HOURS * cycle.median_days / team.cycle.median_days * math.exp(-(cycle.sigma**2) / 2),
        churn_per_year=CHURN_PER_YEAR.get(name, DEFAULT_CHURN),
        first_engage=str(dates.min().date()) if len(dates) else "-",
        last_engage=str(dates.max().date()) if len(dates) else "-",
    )
    return fit, notes


def _offices(cleaned: Cleaned) -> tuple[Office, ...]:
    """The regional offices of the teams file in order of first appearance, each a region of the scenario."""
    teams = cleaned.teams
    office_names = list(dict.fromkeys(teams["regional_office"]))
    regions = unique_names([identifier(o, "office") for o in office_names])
    opp_by_agent = Counter(cleaned.pipeline["sales_agent"])
    offices = []
    for office, region in zip(office_names, regions, strict=True):
        agents = list(teams.loc[teams["regional_office"] == office, "sales_agent"])
        offices.append(
            Office(
                name=office,
                region=region,
                agents=len(agents),
                agents_without_deals=sum(1 for a in agents if a in cleaned.no_deal_agents),
                opportunities=sum(opp_by_agent[a] for a in agents),
            )
        )
    return tuple(offices)


def _median(values: Iterable[float]) -> float:
    """The median, NaN when there are no values."""
    arr = np.asarray(list(values), dtype=float)
    return float(np.median(arr)) if arr.size else math.nan


def industry_names(sectors: Iterable[str]) -> tuple[tuple[str, ...], list[str]]:
    """The scenario's industries from the accounts' sectors, most frequent first, and a note when they are cut.

    A scenario names at most ``MAX_CATEGORIES``: beyond that, the most
    frequent less one and ``other`` (no model process reads an industry).
    """
    counts = Counter(s for s in sectors if s)
    names = list(dict.fromkeys(identifier(s.casefold(), "other") for s, _ in counts.most_common()))
    if len(names) <= MAX_CATEGORIES:
        return tuple(names) or ("unknown",), []
    kept = [n for n in names if n != "other"][: MAX_CATEGORIES - 1]
    return (*kept, "other"), [
        f"{len(names)} sectors: the scenario names the {MAX_CATEGORIES - 1} most frequent and 'other' (a scenario "
        f"names at most {MAX_CATEGORIES} industries)"
    ]
