"""How a value is shown in text: money, shares and counts, and a metric's value in its catalogue unit.

A value that is NaN (an undefined metric) is shown as ``-``; an interval with
an undefined end is left out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping

from sim.catalogue import CATALOGUE
from sim.units import Unit

#: Suffixes of large amounts of money and what they divide by, largest first.
MONEY_SCALES = (("M", 1e6), ("k", 1e3))


def money(v: float) -> str:
    """Currency in k and M with no false precision: ``1.9M``, ``702.7k``, ``640``; past a billion still in M with
    thousands separators (``1,023.4M``), so that two totals of a billion or so that differ by millions do not
    read alike, as they did as ``1.0bn``."""
    if not math.isfinite(v):
        return "-"
    for suffix, scale in MONEY_SCALES:
        # As it rounds in the unit below: 999,997 is 1.0M, not 1,000.0k; 999.6 is 1.0k, not 1000.
        if abs(v) >= scale - (0.05 * scale / 1e3 if scale > 1e3 else 0.5):
            return f"{v / scale:,.1f}{suffix}"
    return f"{round(v)}"  # round, not :.0f, which shows -0.4 as "-0"


def recovery_words(verdict: str, quarters: float | None, short: bool = False) -> str:
    """How long a stressed policy's revenue took to come back (``stress.recovery_of``'s verdict and quarters), in
    words: ``never hurt``, ``1 quarter``, ``not shown hurt: back for good after 2 quarters, none clearly hurt
    before``, ``not within the horizon``, ``cannot tell at this replication count``; ``short``, for a terminal
    table's cell: ``1 q``, ``no clear hurt``, ``not back``, ``unclear``."""
    if verdict == "never hurt":
        return "never hurt"
    if verdict == "back" and quarters is not None and math.isfinite(quarters):
        return f"{int(quarters)} q" if short else counted(int(quarters), "quarter")
    if verdict == "not shown hurt" and quarters is not None and math.isfinite(quarters):
        # Of the quarters before it is back for good, none is hurt; some may be back already (not all unclear).
        after = counted(int(quarters), "quarter")
        return "no clear hurt" if short else f"not shown hurt: back for good after {after}, none clearly hurt before"
    if verdict == "not back":
        return "not back" if short else "not within the horizon"
    return "unclear" if short else "cannot tell at this replication count"


def counted(n: int, noun: str, plural: str = "") -> str:
    """``n`` and ``noun``, plural but for one: ``1 run``, ``3 runs``; ``plural`` for a noun that does not take an
    s (``counted(2, "stress", "stresses")``)."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def joined(items: list[str]) -> str:
    """Items as a list in words: ``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def share(v: float) -> str:
    """A share in [0, 1] as a percentage with one decimal: ``0.467`` -> ``46.7%``."""
    # + 0.0 turns the -0.0 a tiny negative rounds to into 0.0, so that it is not shown as "-0.0%".
    return "-" if not math.isfinite(v) else f"{round(100 * v, 1) + 0.0:.1f}%"


def pct(v: float) -> str:
    """A relative change ``v`` (a fraction) as a signed percentage to one decimal: ``+3.0%``, ``-20.2%``; one that
    rounds to nothing is ``0.0%``, not ``-0.0%``; ``-`` when it is undefined."""
    if not math.isfinite(v):
        return "-"
    shown = round(100 * v, 1) + 0.0
    return f"{shown:+.1f}%" if shown else "0.0%"


def number(v: float, digits: int = 0) -> str:
    """A number with thousands separators and ``digits`` decimals."""
    return "-" if not math.isfinite(v) else f"{v:,.{digits}f}"


def _decimals(digits: int) -> Callable[[float], str]:
    """:func:`number` with ``digits`` decimals."""
    return lambda v: number(v, digits)


#: Decimals a value of each unit is shown to: counts whole, days and weeks to 2 decimals, statistics in [0, 1] to 3
#: (money and shares have their own formats).
_DIGITS: dict[Unit, int] = {
    Unit.OPPORTUNITIES: 0,
    Unit.ACCOUNTS: 0,
    Unit.HOURS: 0,
    Unit.BUSINESS_DAYS: 2,
    Unit.WEEKS: 2,
    Unit.GINI: 3,
    Unit.PROBABILITY_SD: 3,
    Unit.RATIO: 3,
    Unit.STOCK: 1,
    Unit.TOUCHES: 0,
    Unit.SEATS: 0,
}

#: How a value of each unit is shown.
_SHOW: dict[Unit, Callable[[float], str]] = {
    Unit.CURRENCY: money,
    Unit.SHARE: share,
    **{unit: _decimals(digits) for unit, digits in _DIGITS.items()},
}


def fmt(metric: str, v: float) -> str:
    """``v`` shown in the unit of ``metric``; to 3 decimals for a metric the catalogue does not hold."""
    entry = CATALOGUE.get(metric)
    return _SHOW[entry.unit](v) if entry else number(v, 3)


#: The most decimals beyond :func:`fmt`'s that values set side by side take to show apart (:func:`fmt_apart`) [A].
MORE_DECIMALS = 3


def fmt_apart(metric: str, values: list[float]) -> list[str]:
    """``values`` set side by side (a factor's means by level), as :func:`fmt` shows them, or with up to
    ``MORE_DECIMALS`` more decimals where it shows two that differ alike (money in the unit of the largest): a
    researcher's table read ``0.7: 6.6M; 0.84: 6.6M; 0.95: 6.6M`` beside a change of +61.5k. Values that even
    those do not tell apart are shown as :func:`fmt` shows them."""
    shown = [fmt(metric, v) for v in values]
    finite = [v for v in values if math.isfinite(v)]
    entry = CATALOGUE.get(metric)
    unit = entry.unit if entry else None
    top = max((abs(v) for v in finite), default=0.0)
    suffix, scale = next(((s, d) for s, d in MONEY_SCALES if top >= d), ("", 1.0))

    def more(v: float, extra: int) -> str:
        if not math.isfinite(v):
            return "-"
        if unit is Unit.CURRENCY:
            return f"{v / scale:,.{1 + extra}f}{suffix}" if suffix else number(v, extra)
        if unit is Unit.SHARE:
            return f"{100 * v:.{1 + extra}f}%"
        return number(v, (3 if unit is None else _DIGITS[unit]) + extra)

    apart = len(set(finite))
    for extra in range(MORE_DECIMALS + 1):
        out = shown if extra == 0 else [more(v, extra) for v in values]
        if len({x for x, v in zip(out, values, strict=True) if math.isfinite(v)}) == apart:
            return out
    return shown


def difference(metric: str, v: float, ends: tuple[float, ...] | None = None) -> str:
    """A difference, signed: of shares in percentage points (``+9.8 pp``, not a relative ``+9.8%``), of
    others in the metric's own format, but to two significant digits where that would show a difference that is
    not zero as 0 (``+0.25`` opportunities, not ``+0``); money to the currency unit. ``ends``: the interval ``v``
    is an end of (:func:`difference_interval`), whose ends take one number of decimals (and the value shown beside
    them, a third); an end that is not 0 but shows as 0 at them keeps its sign (``[-0.00, +4.00]`` holds 0,
    ``[+0.00, +4.00]`` does not)."""
    if not math.isfinite(v):
        return "-"
    entry = CATALOGUE.get(metric)
    share = entry is not None and entry.unit is Unit.SHARE
    digits = 1 if share else 3 if entry is None else _DIGITS.get(entry.unit)
    if digits is None and ends is not None:  # money in an interval: both ends in the larger end's unit
        return _money_end(v, ends)
    if digits is None:  # money: its own format
        text = fmt(metric, v)
        return f"+{text}" if v > 0 and not text.startswith("+") else text
    scale = 100.0 if share else 1.0
    x = scale * v
    shown = _shown_decimals(x, digits) if ends is None else _common_decimals([scale * e for e in ends], digits)
    rounded = round(x, shown) + 0.0  # + 0.0: what rounds to nothing is 0, not -0
    text = f"{rounded:+,.{shown}f}" if rounded else f"{0.0:.{shown}f}"
    if not rounded and x and ends is not None:
        # An end of an interval that rounds to 0 keeps its sign, which says whether the interval holds 0:
        # [0.00, +4.00] read the same for -0.004 and +0.004, though only the first is no clear difference.
        text = f"{'+' if x > 0 else '-'}{text}"
    return f"{text} pp" if share else text


def _money_end(v: float, ends: tuple[float, ...]) -> str:
    """An end ``v`` of an interval of money ``ends``, in the unit (M, k or none) of the larger end, to one decimal
    in M or k, or up to three where the interval is narrower than a tenth of one (``[-0.8M, +1.1M]``, where
    ``[-830.0k, +1.1M]`` read as of two precisions; ``[+1.00M, +1.05M]``) or where an end would show as 0
    (``[-0.02M, +1.08M]``, where ``[0.0M, +1.1M]`` hid that [-16k, +1.1M] includes 0). An end not 0 that even
    three decimals show as 0 is shown in its own unit (``[-16, +1.1M]``), below one to a significant digit
    (``[-0.3, +5.0M]``): its sign says which side of 0 it is."""
    top = max(abs(e) for e in ends)
    suffix, scale = next(((s, d) for s, d in MONEY_SCALES if top >= d), ("", 1.0))
    if not suffix:
        rounded = round(v) + 0
        return f"{rounded:+,d}" if rounded else f"{v:+.1g}" if v else "0"
    width = abs(ends[1] - ends[0]) / scale
    decimals = 1 if width >= 0.1 or not width else min(3, -math.floor(math.log10(width)))
    for e in ends:  # a digit more for an end that would show as 0, as far as three decimals show it
        if e and not round(e / scale, decimals) and (need := -math.floor(math.log10(abs(e) / scale))) <= 3:
            decimals = max(decimals, need)
    x = round(v / scale, decimals) + 0.0
    if not x and v:
        return _money_end(v, (v, v))
    return f"{x:+,.{decimals}f}{suffix}" if x else f"{0.0:.{decimals}f}{suffix}"


def _common_decimals(ends: list[float], digits: int) -> int:
    """The decimals both ends of an interval are shown to: as many as the end nearest 0 needs not to show as 0
    (:func:`_shown_decimals`) and as two ends that differ need not to show alike, but at most one more than two
    significant digits of the interval's width need (an end that is rounding noise, 1e-9 beside 2.0, is not shown
    to a millionth), and at least ``digits``."""
    low, high = ends[:2]  # and the value beside them, if given: none of them shown as 0
    need = max(_shown_decimals(e, digits) for e in ends)
    width = abs(high - low)
    if width > 0:
        cap = max(digits, 2 - math.floor(math.log10(width)))
        need = min(need, cap)
        # Two ends that differ are not shown alike: "-0.1 pp [-0.1 pp, -0.1 pp]" read as an interval of no width.
        while need < cap and round(low, need) == round(high, need):
            need += 1
    return max(need, _whole_decimals(low, high)) if digits == 0 else need


def _whole_decimals(low: float, high: float) -> int:
    """The decimals an interval ``[low, high]`` of a unit shown whole (opportunities, accounts, hours) is shown to:
    as few as keep its half-width at least one unit of the last digit (up to 3), so that a value at its middle
    shows strictly between its ends (``+1.4 [+0.7, +2.1]``, where ``+1 [+1, +2]`` put the mean on an end of its
    own interval); none from a width of 2 on."""
    width = abs(high - low) if math.isfinite(low) and math.isfinite(high) else 0.0
    return 0 if width >= 2 or width == 0 else min(3, math.ceil(math.log10(2 / width)))


def difference_beside(metric: str, v: float, low: float, high: float) -> str:
    """A difference shown beside its interval ``[low, high]``: to the interval's decimals (``+0.80 [-0.47,
    +2.07]``, where ``+1 [-0.47, +2.07]`` read as of another precision), and money in the interval's unit
    (``+0.74M [+0.03M, +1.45M]``, where ``+738.4k`` beside it read as of another scale), unless they would show
    it as 0; a difference whose interval is undefined as :func:`difference` shows it alone."""
    if v == 0 or not (math.isfinite(low) and math.isfinite(high)):
        return difference(metric, v)
    matched = difference(metric, v, (low, high, v))
    # Never a difference that is not zero shown as 0 (0.4 beside [-3.1, +3.9]): then to its own decimals.
    return matched if any(c in "123456789" for c in matched) else difference(metric, v)


def difference_interval(metric: str, low: float, high: float, signed: bool = True, beside: float | None = None) -> str:
    """``[low, high]`` of a difference, each end as :func:`difference` shows it, both to one number of decimals
    (``[-0.070 pp, -0.020 pp]``, not ``[-0.1 pp, -0.020 pp]``, whose lower end read as wider than it is), and to
    those of the difference ``beside`` them (:func:`difference_beside`: ``+0.20 [-1.00, +1.00]``, not ``+0.20
    [-1, +1]``); as unsigned amounts unless ``signed``; "" when either end is undefined."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    ends = (low, high) if beside is None or not math.isfinite(beside) or beside == 0 else (low, high, beside)
    a, b = (difference(metric, x, ends) for x in (low, high))
    return f"[{a}, {b}]" if signed else f"[{a.lstrip('+')}, {b.lstrip('+')}]"


def difference_with_interval(metric: str, v: float, low: float, high: float) -> str:
    """``v`` and its interval ``[low, high]`` as they are shown side by side (:func:`difference_beside`,
    :func:`difference_interval`): ``-10.6M [-32.9M, +11.6M]``."""
    value, shown = difference_beside(metric, v, low, high), difference_interval(metric, low, high, beside=v)
    return f"{value} {shown}" if shown else value  # "" where there is no interval


def p_value(p: float) -> str:
    """A p-value to 3 decimals (more where 3 would show 0.050 of a p on either side of it), ``<0.001`` below that;
    ``-`` when undefined (the report's tables, its answer and the terminal's alike: the terminal wrote p=1 and
    p=7.79e-05 beside the answer's p = 1.000)."""
    if not math.isfinite(p):
        return "-"
    if p < 0.001:
        return "<0.001"
    # Beside 0.05 the digits that say which side it is on (a researcher read "p = 0.050 ...; the Holm p is below
    # 0.05" of 0.0496).
    digits = 3
    while digits < 8 and p != 0.05 and float(f"{p:.{digits}f}") == 0.05:
        digits += 1
    shown = f"{p:.{digits}f}"
    if float(shown) == 0.05 and p != 0.05:  # within 5e-9 of it: its side alone
        return "<0.05" if p < 0.05 else ">0.05"
    return shown


def no_spread_words(diff: float, replications: int | None = None) -> str:
    """What a paired comparison whose differences have no spread is (``stats.paired_differences``' ``constant``,
    for which no test is made): ``identical`` when its difference is 0, else ``the same in every replication``;
    given the count of ``replications``, ``identical in every one of the 5 paired replications``, or ``the
    same ...``."""
    if replications is None:
        return "identical" if diff == 0 else "the same in every replication"
    return f"{'identical' if diff == 0 else 'the same'} in every one of the {replications} paired replications"


def _shown_decimals(v: float, digits: int) -> int:
    """``digits``, or more where ``digits`` decimals would show ``v``, not 0, as 0 (0.5 too, which rounds half to
    even: a churn difference of 0.5 had shown as 0): two significant digits, down to a millionth."""
    if v == 0.0 or round(abs(v), digits) != 0:
        return digits
    return min(6, 1 - math.floor(math.log10(abs(v))))


def interval(metric: str, low: float, high: float) -> str:
    """``[low, high]`` in the unit of ``metric``, a unit shown whole to the decimals a narrow interval needs
    (``[0.0, 1.3]``, where ``[0, 1]`` put a mean of 0.6 shown as 1 on its end); empty when either end is
    undefined."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    return f"[{value_beside(metric, low, low, high)}, {value_beside(metric, high, low, high)}]"


def value_beside(metric: str, v: float, low: float, high: float) -> str:
    """``v`` shown beside its interval ``[low, high]`` (:func:`interval`): to the interval's decimals for a unit
    shown whole, else as :func:`fmt` shows it."""
    entry = CATALOGUE.get(metric)
    decimals = _whole_decimals(low, high) if entry is not None and _DIGITS.get(entry.unit) == 0 else 0
    return number(v, decimals) if decimals else fmt(metric, v)


def not_shown(absent: list[str], quote: Callable[[str], str] = str) -> str:
    """What the terminal and the report say of headline metrics no run has a value of (``absent``, each written
    by ``quote``): ``x: no run has a value of it (a metric of a role, ...)``."""
    them = "it" if len(absent) == 1 else "them"
    return (
        f"{', '.join(quote(m) for m in absent)}: no run has a value of {them} (a metric of a role, a product line "
        "or a channel these runs do not have, or a share of nothing in every run)"
    )


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """``text`` with every control character but the tab (C0, DEL, C1, and the line and paragraph separators)
    as its ``\\xNN`` or ``\\uNNNN`` escape.

    A name in an export or a key in a file may hold one (a bell, an escape
    sequence, a line break): printed raw it would drive the terminal, split a
    message's line, or hide what it names; and TOML allows none in a comment.
    """
    return _CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}", text
    )


def after_colon(sentence: str) -> str:
    """A sentence to follow a colon: its first word in lower case where it is a common word (``The gap is clear``
    -> ``the gap is clear``), as it is where it is a name (a policy's, which may be upper case)."""
    first, _, rest = sentence.partition(" ")
    return f"{first.lower()} {rest}" if first in ("The", "Where", "Neither", "With", "Their") else sentence


def clear_words(low: float, high: float) -> str:
    """Whether a difference's interval ``[low, high]`` excludes 0, in words: ``a clear loss``, ``a clear gain`` or
    ``not clear``; "" where there is no interval."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return ""
    return "a clear loss" if high < 0 else "a clear gain" if low > 0 else "not clear"


def toml_text(v: object) -> str:
    """A value as a TOML file writes it: ``true``, ``'keep'``, ``2.5``."""
    return str(v).lower() if isinstance(v, bool) else repr(v)


def params_text(params: Mapping[str, object]) -> str:
    """Policy parameters as a run names them, ``books = redeal, coordinated = false``: a truth value as TOML and
    ``--param`` write it (a new user's coordinated=true had come back as "True"), anything else as it prints."""
    return ", ".join(f"{k} = {str(v).lower() if isinstance(v, bool) else v}" for k, v in params.items())
