"""The figures a calibration fits from a CRM export (per segment, team, office) and their summary table.

Amounts (revenue, potentials, deal values) are in the export's currency;
rates and potentials are per buying unit (``Calibration.units`` per account)
and year; cycles are in days unless named in weeks; engage dates are
``YYYY-MM-DD`` text ("-" when a segment has none).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from sim.crm.cycle_fit import CycleFit
from sim.format import counted


@dataclass(frozen=True)
class SegmentFit:
    """The calibrated figures of one segment, with the counts they come from."""

    name: str
    accounts: int
    share: float
    revenue_min: float
    revenue_max: float
    customers: int
    customer_share: float
    potential_median: float
    potential_sigma: float
    potentials_from_won: int
    potentials_from_revenue: int
    won_per_revenue: float
    engaged: int  # engaged opportunities the rate counts (from TeamFit.rates_from)
    rate_per_year: float
    closed: int
    won: int
    win_probability: float
    win_source: str
    cycle: CycleFit
    cycle_source: str  # segment: its own deals'; team: too few of them, the team's
    cycle_weeks: int
    won_values: int
    deal_median: float
    deal_mean: float
    value_sigma: float
    value_share_new: float
    value_share_expansion: float
    effort_hours: float
    churn_per_year: float
    first_engage: str
    last_engage: str

    @property
    def cycle_whose(self) -> str:
        """Whose fitted cycle this is, in words: its own, or the team's (too few closed deals of its own)."""
        return "fitted" if self.cycle_source == "segment" else "the team's fitted"


@dataclass(frozen=True)
class TeamFit:
    """Team-level figures (every opportunity, with an account or not; the cycle of those at an account of the
    accounts file, which the segments' are fitted from)."""

    opportunities: int
    with_account: int
    without_account: int
    engaged: int
    won: int
    lost: int
    open: int
    win_rate: float
    cycle: CycleFit
    deal_median: float
    won_value: float
    first_engage: str
    last_engage: str
    span_days: int
    span_years: float
    won_years: float  # what won value a year is over: the span, or from the first close where closes start late
    rates_from: str  # the first day opportunity rates count (the first engage date, or --rates-from)
    rate_years: float  # from it to the last engage date


@dataclass(frozen=True)
class Office:
    """A regional office of the teams file: its region's name in the scenario, its agents and their opportunities."""

    name: str
    region: str
    agents: int
    agents_without_deals: int
    opportunities: int


@dataclass(frozen=True)
class Calibration:
    """Everything the written scenario needs, and the notes of the calibration itself."""

    files: dict[str, str]
    cutoff: date | None
    units: int  # buying units per account
    accounts: int  # the scenario's (--customers, or the file's), each of ``units`` buying units
    accounts_in_file: int
    thresholds: tuple[float, float]
    segments: tuple[SegmentFit, ...]
    team: TeamFit
    offices: tuple[Office, ...]
    industries: tuple[str, ...]
    countries: dict[str, int]
    notes: tuple[str, ...]

    @property
    def customers(self) -> int:
        """The scenario's customers: its buying units, ``accounts`` x ``units``."""
        return self.accounts * self.units


#: What a calibrated world's levels are worth, said after every calibration (an analyst's runs won a third of the
#: export's deals, which only the backtest's part of docs/validation.md said).
LEVELS = (
    "Read its runs for how coverage models compare more than as a forecast: on the public export's backtest "
    "(docs/validation.md) the calibrated world wins fewer deals than the export did after the cut-off; "
    "`covsim backtest` measures it on yours."
)


def calibration_answer(cal: Calibration) -> str:
    """The calibration in a sentence, before its data checks and table: the world it makes, the team's figures
    it rests on, and the notes to read before running it (the cautions; a base of customers only)."""
    t = cal.team
    seats = sum(o.agents for o in cal.offices)
    said = (
        f"Calibrated {counted(cal.accounts_in_file, 'account')} in {counted(len(cal.segments), 'segment')} and "
        f"{counted(seats, 'rep')}, on a "
        f"{t.win_rate:.1%} win rate, a {'' if t.cycle.unfitted else 'fitted '}{t.cycle.median_days / 7:.1f}-week median "
        f"cycle and a median won deal of "
        f"{t.deal_median:,.0f} ({t.won:,} won of {counted(t.won + t.lost, 'closed deal')})."
    )
    cautions = sum(0 < sg.closed < FEW_CLOSED for sg in cal.segments)  # the calibration's caution notes
    if cautions:
        said += f" {counted(cautions, 'segment')} with few closed deals: read the caution{'s' if cautions > 1 else ''}."
    if t.lost == 0:
        said += " No closed deal was lost: read the caution before running it (Data checks)."
    if cal.segments and all(sg.customer_share >= 1.0 for sg in cal.segments):
        said += " Every account is a customer: the scenario has no prospects to hunt (Data checks)."
    return said + f" {LEVELS}"


def cycle_words(c: CycleFit) -> str:
    """What a cycle was fitted from, in words."""
    if c.unfitted:
        return f"median of {counted(c.closed, 'closed deal')} ({c.unfitted}), the model's default spread [A]"
    late = f", {c.late:,} engaged before the first logged close entered late" if c.late else ""
    return f"lognormal fit over {counted(c.closed, 'closed deal')}, {c.censored:,} open censored{late}"


def summary_lines(cal: Calibration) -> list[str]:
    """A short table of the calibrated numbers per segment, and the team-level figures."""
    t = cal.team
    cut = f", engaged before {cal.cutoff}" if cal.cutoff else ""
    lines = [
        f"team: {counted(t.opportunities, 'opportunity', 'opportunities')}{cut} ({t.with_account:,} with an account, "
        f"{t.without_account:,} without), {t.won:,} won / {t.won + t.lost:,} closed = {t.win_rate:.1%} win rate, "
        f"{t.open:,} open; cycle: fitted median {t.cycle.median_days:.0f} days ({t.cycle.median_days / 7:.1f} weeks), "
        f"spread {t.cycle.sigma:.2f} (at an account: {cycle_words(t.cycle)}; product-limit median "
        f"{f'{t.cycle.product_limit_days:.0f} days' if math.isfinite(t.cycle.product_limit_days) else 'none'}); "
        f"median won deal {t.deal_median:,.0f}; engage dates "
        f"{t.first_engage}..{t.last_engage} ({t.span_years:.3f} years)"
        + (f"; rates counted from {t.rates_from} ({t.rate_years:.3f} years)" if t.rates_from != t.first_engage else ""),
        f"seats: {sum(o.agents for o in cal.offices)} agents in {len(cal.offices)} regions ("
        + ", ".join(f"{o.region} {o.agents}" for o in cal.offices)
        + f"); population {cal.customers:,} "
        + (
            f"buying units ({counted(cal.accounts, 'account')} x {cal.units} each; the export has "
            f"{counted(cal.accounts_in_file, 'account')} with a revenue)"
            if cal.units > 1
            else "accounts"
        ),
        "",
        f"{'segment':<11} {'accounts':>8} {'share':>6} {'customers':>9} {'potential':>10} {'sigma':>6} "
        f"{'opps/yr':>8} {'win':>6} {'cycle wk':>8} {'spread':>6} {'deal med':>8} {'deal mean':>9} {'value share':>11} "
        f"{'effort h':>8}",
    ]
    for s in cal.segments:
        lines.append(
            f"{s.name:<11} {s.accounts:>8} {s.share:>6.1%} {s.customer_share:>9.1%} {s.potential_median:>10,.0f} "
            f"{s.potential_sigma:>6.2f} {s.rate_per_year:>8.2f} {s.win_probability:>6.1%} {s.cycle_weeks:>8} "
            f"{s.cycle.sigma:>6.2f} {s.deal_median:>8,.0f} {s.deal_mean:>9,.0f} {s.value_share_new:>11.5f} {s.effort_hours:>8.1f}"
        )
    closed = sum(s.closed for s in cal.segments)
    won = sum(s.won for s in cal.segments)
    if closed:
        lines.append(
            f"{'(weighted)':<11} {'':>8} {'':>6} {'':>9} {'':>10} {'':>6} {'':>8} {won / closed:>6.1%}  "
            f"= {won:,} won / {counted(closed, 'closed deal')} with an account"
        )
    if cal.units > 1:
        lines.append(
            f"accounts: the export's, by segment; potential and opps/yr are per buying unit (each account "
            f"is {cal.units} in the scenario)."
        )
    # Measured and assumed columns side by side had read alike to an analyst.
    lines.append(
        "[A] effort h (the median deal's rep hours, from an assumed mean: the export records no effort) and "
        "potential (a year's wallet: annual won value / an assumed share of wallet), with the value share from it: "
        "assumptions, each number in the written file's header; the other columns are the export's (deals in the "
        "export's currency). Assumed too, in the header: churn, renewals and contracts, rep costs and margin, and "
        "the digital channel (on, as by default: the export shows none)."
    )
    return lines


#: Below this many closed deals a segment's win rate is said to rest on few [A].
FEW_CLOSED = 30


def wilson(won: int, closed: int, z: float = 1.959964) -> tuple[float, float]:
    """The 95% score interval of a win rate of ``won`` in ``closed`` (Wilson, E. B. (1927), "Probable
    inference, the law of succession, and statistical inference", Journal of the American Statistical
    Association 22(158): 209-212): unlike the normal one it stays in [0, 1] and is not empty at 10 of 10."""
    p, n = won / closed, closed
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
