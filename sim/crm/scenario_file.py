"""The calibrated scenario as a TOML file with a comment above every number saying where it came from.

:func:`scenario_toml` writes the text (and the same data as a mapping);
:func:`check_scenario_text` reads it back and validates it as a scenario.
Figures that are neither in the export nor in the calibration are assumptions
[A], stated where they are written.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

import tomli_w

from sim.crm.calibration import EFFORT_HOURS, MIN_SIGMA, SHARE_OF_WALLET
from sim.crm.fits import Calibration, Office, SegmentFit, cycle_words
from sim.format import printable
from sim.scenario import MetricsConfig, RepGroup, Scenario, Segment, parse_scenario

#: The written scenario's horizon, seed and policy [A]: a year, the first seed, and the coverage with no structure
#: (the export records no coverage model); each is a line of the file to change.
QUARTERS = 4
SEED = 0
POLICY = "unstructured"
#: Regional offices are placed evenly on a circle of this radius (km) [A]; the export has no geography.
OFFICE_RING_KM = 400.0


class _Writer:
    """TOML text with a comment above every number, and the same data as a mapping."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, *texts: str) -> None:
        """Comment lines, one per line of each text (an empty text is an empty comment line).

        A control character (a name in the export may hold one) is written as
        its ``\\xNN`` escape: TOML allows none in a comment but the tab.
        """
        for text in texts:
            for line in text.splitlines() or [""]:
                self.lines.append(printable(f"# {line}".rstrip()))

    def blank(self) -> None:
        """An empty line."""
        self.lines.append("")

    def header(self, text: str) -> None:
        """A table header line, e.g. ``[population]``."""
        self.lines.append(text)

    def key(self, target: dict[str, Any], key: str, value: Any, *comments: str) -> None:
        """``key = value`` below its comments, and the same pair set in ``target``."""
        self.comment(*comments)
        rendered = tomli_w.dumps({key: value}).strip()
        self.lines.append(rendered)
        target[key] = value

    def text(self) -> str:
        """The file's text so far."""
        return "\n".join(self.lines) + "\n"


def _n(x: float) -> str:
    """An amount as the comments write it: whole, with thousands separators."""
    return f"{x:,.0f}"


def _sig(x: float, digits: int = 4) -> float:
    """x rounded to ``digits`` significant digits (0 stays 0)."""
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def scenario_toml(
    cal: Calibration, notes: Sequence[str] = (), name: str = "crm", command: str = ""
) -> tuple[str, dict[str, Any]]:
    """The calibrated scenario as commented TOML text, and the same data as a mapping.

    ``notes`` (the cleaning notes, then the calibration's) go into the header.
    Each part of the file is written by its own function, in the file's order.
    """
    w = _Writer()
    _write_header(w, cal, notes, command)
    _write_assumptions(w, cal)
    data = _write_top_level(w, cal, name)
    pop = data["population"] = _write_population(w, cal)
    pop["regions"] = [_write_region(w, cal, i) for i in range(len(cal.offices))]
    pop["segments"] = [_write_segment(w, cal, s) for s in cal.segments]
    data["reps"] = [_write_rep_group(w, cal, office) for office in cal.offices]
    data["policy"] = _write_policy(w)
    return w.text(), data


def _per_unit(cal: Calibration) -> str:
    """The comments' note that rates and potentials are per buying unit ("" with one unit per account)."""
    return f" / {cal.units} buying units per account (--units)" if cal.units > 1 else ""


def _window(cal: Calibration) -> str:
    """The engage dates the calibration spans, ``first..last``."""
    return f"{cal.team.first_engage}..{cal.team.last_engage}"


#: How a scenario file covsim calibrate wrote begins: the one file --out may replace.
WRITTEN_BY = "# Calibrated by `covsim calibrate`"


def _write_header(w: _Writer, cal: Calibration, notes: Sequence[str], command: str) -> None:
    """The header comments: the files and command the scenario came from, the span used, and the data checks."""
    t = cal.team
    cut = f", engaged before --cutoff {cal.cutoff}" if cal.cutoff else ""
    late = f" from {t.rates_from} ({t.rate_years:.3f} years)" if t.rates_from != t.first_engage else ""
    w.comment(
        f"{WRITTEN_BY.removeprefix('# ')} from a CRM export: {', '.join(cal.files.values())}.",
        *([f"Command: {command}"] if command else []),
        f"Opportunities read: {t.opportunities:,}{cut}, {sum(s.engaged for s in cal.segments):,} of them engaged at an "
        f"account of the file, which the rates count{late}; engage dates {_window(cal)} ({t.span_days} days = "
        f"{t.span_years:.3f} years, the span a yearly figure is computed over where its comment names no other).",
        "",
        "Data checks (what was fixed, inferred or set aside, and why):",
    )
    for note in notes:
        w.comment(f"  - {note}")


def _write_assumptions(w: _Writer, cal: Calibration) -> None:
    """The header comments listing the assumptions [A]: what the export does not say and how it was filled in."""
    t = cal.team
    cost = RepGroup.model_fields["cost_per_year"].default
    margin = MetricsConfig.model_fields["gross_margin"].default
    w.comment(
        "",
        "Assumptions (not in the export):",
        f"  [A] share of wallet {SHARE_OF_WALLET}: an account's annual wallet (potential) is its annualised won value",
        f"      / {SHARE_OF_WALLET}; accounts with no won deal: segment median (won value per revenue) x revenue / {SHARE_OF_WALLET}.",
        f"  [A] effort: {EFFORT_HOURS:g} rep hours a deal on average at the team's median cycle ({t.cycle.median_days:.1f} days), scaled by",
        "      the segment's median cycle; effort_hours is the median deal's, the mean / exp(deal_sigma^2 / 2)",
        "      (the export records no activity or time).",
        "  [A] churn_per_year: the baseline scenario's values (the export shows no churn).",
        "  The export has no new-logo / expansion / renewal field: accounts with a won deal are customers, and",
        "  new_logo (prospects) and expansion (customers) share the segment's rate, win rate and cycle.",
        "  [A] renewals and contracts: the export has no renewals and no contract dates. Renewals take the",
        "      expansion's effort (with --units, divided among an account's buying units, each renewing its share",
        "      of the one contract) and cycle and renew the whole spend (value_share 1.0); contract_term_weeks,",
        "      renewal_notice_weeks and mid_term_churn_share are the model's defaults: a run has",
        "      renewals the export does not show, taking rep hours (`covsim backtest` leaves them out).",
        f"  [A] money: the export has no costs. A rep costs {cost:,.0f} a year and gross_margin is {margin:g} (defaults): profit is",
        f"      {margin:g} x recurring revenue less the team's cost; set [[reps]] cost_per_year and [metrics] gross_margin",
        "      for your own money (the team costs the same under every policy: they move a lead, not its sign).",
        "  [A] the digital channel is on ([digital], defaults): the export shows no self-service channel; with",
        "      none, add [digital] enabled = false (a policy that leaves accounts to it is judged with it).",
        "  Reps: one full_cycle group per regional office; the regions are those offices with equal customer",
        "  shares (the accounts file has countries, not offices). Quarters 4, seed 0, policy unstructured (the",
        "  CRM shows no coverage model). Every key not written here takes its default (docs/scenario-format.md).",
    )
    w.blank()


def _write_top_level(w: _Writer, cal: Calibration, name: str) -> dict[str, Any]:
    """The top-level keys (name, description, seed, quarters); returns them as the scenario's mapping."""
    data: dict[str, Any] = {}
    t = cal.team
    pipe, accf, teamf = cal.files["pipeline"], cal.files["accounts"], cal.files["teams"]
    w.key(data, "name", name)
    desc = f"Calibrated from {pipe} ({t.opportunities:,} opportunities, {_window(cal)}), {accf} and {teamf}" + (
        f", cut-off {cal.cutoff}" if cal.cutoff else ""
    )
    w.key(data, "description", desc)
    w.key(data, "seed", SEED, "[A] fixed seed; `covsim run --seed` overrides it")
    w.key(data, "quarters", QUARTERS, "[A] one year: about the span of the export")
    w.blank()
    return data


def _write_population(w: _Writer, cal: Calibration) -> dict[str, Any]:
    """The ``[population]`` table's own keys (customers, industries); regions and segments follow it."""
    accf = cal.files["accounts"]
    pop: dict[str, Any] = {}
    w.header("[population]")
    each = f" x {cal.units} buying units each (--units)" if cal.units > 1 else ""
    if cal.accounts == cal.accounts_in_file:
        why = f"{accf}: {cal.accounts_in_file} accounts with a revenue{each or ' (default of --customers)'}"
    else:
        why = f"--customers {cal.accounts:,} accounts{each} ({accf} has {cal.accounts_in_file}; segment shares kept)"
    w.key(pop, "customers", cal.customers, why)
    if cal.units > 1:
        w.key(pop, "buying_units", cal.units, "--units: the buying units each account is modelled as (a label only)")
    w.key(
        pop,
        "industries",
        list(cal.industries),
        f"{accf}: sectors after spelling fixes, most frequent first (labels only: no process uses them)",
    )
    w.blank()
    return pop


def _write_region(w: _Writer, cal: Calibration, i: int) -> dict[str, Any]:
    """The ``[[population.regions]]`` table of the i-th regional office, placed on the ring of offices [A]."""
    office = cal.offices[i]
    teamf = cal.files["teams"]
    n_off = len(cal.offices)
    region: dict[str, Any] = {}
    w.comment(
        f"{teamf}: regional office {office.name!r}, {office.agents} agents. The accounts file has countries,",
        "not offices: customers are shared equally among the offices [A].",
    )
    w.header("[[population.regions]]")
    w.key(region, "name", office.region)
    angle = math.pi / 2 - 2 * math.pi * i / n_off
    x = 0.0 if n_off == 1 else round(OFFICE_RING_KM * math.cos(angle), 1)
    y = 0.0 if n_off == 1 else round(OFFICE_RING_KM * math.sin(angle), 1)
    w.key(region, "x_km", x, f"[A] offices evenly on a circle of {OFFICE_RING_KM:g} km (the export has no geography)")
    w.key(region, "y_km", y, "[A] (as x_km)")
    w.key(region, "share", 1.0 / n_off, f"equal shares: 1/{n_off}")
    w.blank()
    return region


def _write_segment(w: _Writer, cal: Calibration, s: SegmentFit) -> dict[str, Any]:
    """One ``[[population.segments]]`` table: its accounts, potentials and customers, then its opportunities."""
    seg = _write_segment_accounts(w, cal, s)
    _write_potentials(w, cal, s, seg)
    _write_customers(w, cal, s, seg)
    _write_contracts(w, seg, s, cal.files["pipeline"])
    seg["new_logo"] = _write_opportunities(w, cal, s, "new_logo")
    seg["expansion"] = _write_opportunities(w, cal, s, "expansion")
    seg["renewal"] = _write_renewal(w, cal, s)
    w.blank()
    return seg


def _write_segment_accounts(w: _Writer, cal: Calibration, s: SegmentFit) -> dict[str, Any]:
    """A segment's header, name and share of the accounts; returns the segment's mapping."""
    accf = cal.files["accounts"]
    seg: dict[str, Any] = {}
    w.comment(
        f"Segment {s.name}: {s.accounts} accounts of {accf} with revenue {s.revenue_min:,.2f}..{s.revenue_max:,.2f}"
    )
    w.header("[[population.segments]]")
    w.key(seg, "name", s.name)
    w.key(
        seg,
        "share",
        s.share,
        f"{accf}: {s.accounts} of {sum(x.accounts for x in cal.segments)} accounts "
        f"(revenue quantiles: top 20% / next 40% / bottom 40%)",
    )
    return seg


def _write_potentials(w: _Writer, cal: Calibration, s: SegmentFit, seg: dict[str, Any]) -> None:
    """A segment's potential_median and potential_sigma, from won values and revenue over the share of wallet [A]."""
    pipe = cal.files["pipeline"]
    fallback = (
        f"{s.potentials_from_revenue} without a won deal = {_sig(s.won_per_revenue)} (median annual won value per "
        f"unit of revenue in the segment) x revenue / {SHARE_OF_WALLET}"
        if s.potentials_from_revenue
        else f"(none without a won deal, for which revenue x median won value per revenue / {SHARE_OF_WALLET} is used)"
    )
    w.key(
        seg,
        "potential_median",
        round(s.potential_median),
        f"median of {s.accounts} account potentials, {s.potentials_from_won} of them each account's annual won "
        f"value / share of wallet {SHARE_OF_WALLET} [A]",
        f"({pipe}: sum of won close_value / {cal.team.won_years:.3f} years"
        + (", from the first close: none logged before it" if cal.team.won_years != cal.team.span_years else "")
        + f"); {fallback}{_per_unit(cal)}",
    )
    w.key(
        seg,
        "potential_sigma",
        _sig(s.potential_sigma, 3),
        f"standard deviation of log potential over the {s.accounts} accounts (at least {MIN_SIGMA})",
    )


def _write_customers(w: _Writer, cal: Calibration, s: SegmentFit, seg: dict[str, Any]) -> None:
    """A segment's customers and their spend: customer_share, share_of_wallet [A], churn [A] and value_sigma."""
    pipe = cal.files["pipeline"]
    w.key(
        seg,
        "customer_share",
        _sig(s.customer_share),
        f"{pipe}: {s.customers} of {s.accounts} accounts have a won deal"
        + (f" closed before {cal.cutoff}" if cal.cutoff else "")
        + " (customers)",
    )
    w.key(
        seg,
        "share_of_wallet",
        SHARE_OF_WALLET,
        "[A] the assumed share of wallet that defines potential: a customer's spend = annual won value",
    )
    w.key(seg, "churn_per_year", s.churn_per_year, "[A] not in the export (no churn recorded): the baseline's value")
    spread = (
        ("with this sigma around the mean (the model's value draw) has that median: sqrt(2 ln(mean / median))",)
        if s.deal_mean > s.deal_median > 0
        # A mean at or below the median (few deals, one small outlier) is no lognormal's: its file had claimed one.
        else (
            "around its mean has a median below it, so none has these: 0, no spread (every deal of the segment is",
            f"drawn at the mean, {_n(s.deal_mean)}, not at the data's median)",
        )
    )
    w.key(
        seg,
        "value_sigma",
        _sig(s.value_sigma, 3),
        f"{pipe}: won deals of the segment have mean {_n(s.deal_mean)} and median {_n(s.deal_median)}; a lognormal",
        *spread,
    )


def _value_share(s: SegmentFit, kind: str) -> tuple[float, tuple[str, ...]]:
    """The value_share of new_logo or expansion deals in a segment, and the comment lines saying how it was found."""
    if kind == "new_logo":
        return _sig(s.value_share_new), (
            f"mean won deal {_n(s.deal_mean)} ({s.won_values:,} won deals) / potential_median "
            f"{_n(s.potential_median)} (a prospect's untapped wallet is its potential;",
            "the model's value draw keeps the mean, value_sigma gives the median)",
        )
    return _sig(s.value_share_expansion), (
        f"mean won deal {_n(s.deal_mean)} / (potential_median {_n(s.potential_median)} x (1 - "
        f"share_of_wallet {SHARE_OF_WALLET})):",
        "a customer's untapped wallet is potential - spend, so its deals match the data too",
    )


def _write_opportunities(w: _Writer, cal: Calibration, s: SegmentFit, kind: str) -> dict[str, Any]:
    """A segment's ``new_logo`` or ``expansion`` table: the segment's rate, effort, cycle, win rate; its value share."""
    t = cal.team
    pipe = cal.files["pipeline"]
    table: dict[str, Any] = {}
    who = "prospects" if kind == "new_logo" else "customers"
    w.header(f"[population.segments.{kind}]")
    w.key(
        table,
        "rate_per_year",
        _sig(s.rate_per_year),
        f"{pipe}: {s.engaged:,} engaged opportunities with an account in the segment from {t.rates_from} / "
        f"({s.accounts} accounts x {t.rate_years:.3f} years){_per_unit(cal)};",
        f"the export does not tell new logos from expansions: the same rate for {who}",
    )
    w.key(
        table,
        "effort_hours",
        _sig(s.effort_hours, 3),
        f"[A] {EFFORT_HOURS:g} h a deal on average x segment median cycle {s.cycle.median_days:.1f} days / team "
        f"median {t.cycle.median_days:.1f} days / exp(deal_sigma^2 / 2): the median deal's",
    )
    w.key(
        table,
        "cycle_weeks",
        s.cycle_weeks,
        f"{pipe}: {s.cycle_whose} median {s.cycle.median_days:.1f} days engage_date -> close_date, / 7, rounded "
        f"(at least 1): {cycle_words(s.cycle)} (sim/crm/cycle_fit.py)",
    )
    win_text = (
        f"{pipe}: {s.won:,} won of {s.closed:,} closed deals with an account in the segment "
        f"(of its opportunities engaged {s.first_engage}..{s.last_engage})"
        if s.win_source == "segment"
        else f"{pipe}: no closed deal in the segment: the team's {t.won:,} won of {t.won + t.lost:,}"
    )
    w.key(table, "win_probability", _sig(s.win_probability), win_text)
    vshare, vtext = _value_share(s, kind)
    w.key(table, "value_share", vshare, *vtext)
    return table


def _write_renewal(w: _Writer, cal: Calibration, s: SegmentFit) -> dict[str, Any]:
    """A segment's ``renewal`` table [A]: the export has no renewals, so the expansion's effort and cycle, the
    effort divided among an account's buying units, each of which has a contract: so an account's renewal effort
    is one renewal's whatever the units (at the full effort each, a comparison of policies turned on ``--units``);
    each unit's renewal still takes its own first response (docs/scenario-format.md, 8.5)."""
    renewal: dict[str, Any] = {}
    w.header("[population.segments.renewal]")
    w.comment(
        "[A] the export has no renewals: these are assumptions. Renewals still come due on the contract dates",
        "(contract_term_weeks above), so a simulated world has renewals the export does not show.",
    )
    effort, said = _sig(s.effort_hours, 3), "[A] as expansion (no renewal in the export)"
    if cal.units > 1:  # each buying unit renews its share of the account's one contract
        effort, said = (
            _sig(effort / cal.units, 3),
            f"{said} / {cal.units} buying units: one renewal's effort an account",
        )
    w.key(renewal, "effort_hours", effort, said)
    w.key(renewal, "cycle_weeks", s.cycle_weeks, "[A] as expansion (no renewal in the export)")
    w.key(renewal, "value_share", 1.0, "[A] a renewal a rep wins renews the whole spend")
    return renewal


def _write_contracts(w: _Writer, seg: dict[str, Any], s: SegmentFit, pipe: str) -> None:
    """A segment's contract keys, the model's defaults [A] (the export has no contract dates), and its deal
    spread, the fitted cycle's."""
    no_dates = "[A] the model's default: the export has no contract dates"
    comments: dict[str, tuple[str, ...]] = {
        "contract_term_weeks": (f"{no_dates} (a contract comes up for renewal this often)",),
        "renewal_notice_weeks": (f"{no_dates} (a renewal opportunity opens this long before the date)",),
        "mid_term_churn_share": (f"{no_dates} (share of churn_per_year that happens between renewal dates)",),
    }
    for key, lines in comments.items():
        w.key(seg, key, Segment.model_fields[key].default, *lines)
    spread = f"{pipe}: the spread of the {s.cycle_whose} cycle: {cycle_words(s.cycle)} (sim/crm/cycle_fit.py);"
    w.key(seg, "deal_sigma", _sig(s.cycle.sigma, 3), spread, "[A] a deal's hours scale with its weeks")


def _write_rep_group(w: _Writer, cal: Calibration, office: Office) -> dict[str, Any]:
    """The ``[[reps]]`` group of one regional office: its agents, all full-cycle [A]."""
    group: dict[str, Any] = {}
    w.header("[[reps]]")
    w.key(group, "role", "full_cycle", "[A] the export records no roles: every agent sells the full cycle")
    idle = (
        f", {office.agents_without_deals} of them with no opportunity (kept as seats)"
        if office.agents_without_deals
        else ""
    )
    w.key(
        group,
        "count",
        office.agents,
        f"{cal.files['teams']}: {office.agents} agents in regional office {office.name!r}{idle}; "
        f"{office.opportunities:,} opportunities in {cal.files['pipeline']}",
    )
    w.key(group, "region", office.region)
    w.blank()
    return group


def _write_policy(w: _Writer) -> dict[str, Any]:
    """The ``[policy]`` table: the no-model baseline [A]."""
    policy: dict[str, Any] = {}
    w.header("[policy]")
    w.key(policy, "name", POLICY, "[A] the CRM shows no coverage model: the no-model baseline")
    return policy


def check_scenario_text(text: str, data: Mapping[str, Any], source: str) -> Scenario:
    """The written text must read back as the intended data and validate as a scenario."""
    parsed = tomllib.loads(text)
    if parsed != data:  # pragma: no cover - a bug in the writer, not in the data
        raise AssertionError("the commented TOML does not read back as the calibrated data")
    return parse_scenario(parsed, source)
