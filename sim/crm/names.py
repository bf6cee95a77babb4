"""Names in a CRM export: matching spellings of one name, and making scenario names of labels.

- matching: :func:`fold` (a name as compared) and :func:`fix_categories` (the
  repairs of a categorical column: case and spacing variants, misspellings);
- identifiers: :func:`identifier`, :func:`scenario_name` and
  :func:`unique_names` turn labels from the data (offices, sectors, a file
  name) into the names a scenario file allows;
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Sequence

import pandas as pd

from sim.format import counted

# ---- matching ------------------------------------------------------------------------


def fold(text: str) -> str:
    """A name folded for matching: lower case, no spaces, hyphens, underscores or dots."""
    return re.sub(r"[\s\-_.]+", "", text).casefold()


def fix_categories(
    values: pd.Series, where: str, unit: str, vocabulary: Sequence[str] = ()
) -> tuple[dict[str, str], list[str]]:
    """Repairs for a categorical column: {written value: value to use}, and the notes.

    Three rules, in order: (1) spellings that differ only in case or spacing take
    the most frequent spelling; (2) a value not in ``vocabulary`` but within two
    edits (difflib ratio >= 0.8) of a word in it takes that word; (3) a rare value
    (at most half as frequent) within two edits of a more frequent one takes it.
    Values in ``vocabulary`` are never changed by rule 3.
    """
    counts = Counter(v for v in values if v != "")
    fixes: dict[str, str] = {}
    notes: list[str] = []
    by_fold: dict[str, list[str]] = {}
    for v, _ in counts.most_common():
        by_fold.setdefault(fold(v), []).append(v)
    for variants in by_fold.values():
        for v in variants[1:]:
            fixes[v] = variants[0]
            notes.append(
                f"{where}: {unit} {v!r} ({counts[v]:,}) read as {variants[0]!r}: same name but for case or spacing"
            )
    merged: Counter[str] = Counter()
    for v, c in counts.items():
        merged[fixes.get(v, v)] += c
    vocab = [w.casefold() for w in vocabulary]
    for v, c in merged.most_common():
        low = v.casefold()
        if not vocab or low in vocab:
            continue
        match = _close(low, vocab)
        if match is not None:
            target = match if v == low else match.title() if v == v.title() else match
            _redirect(fixes, v, target)
            notes.append(
                f"{where}: {unit} {v!r} ({c:,}) read as {target!r}: a misspelling "
                f"({counted(_edit_distance(low, match), 'edit')} from a known {unit} name)"
            )
    merged = Counter()
    for v, c in counts.items():
        merged[fixes.get(v, v)] += c
    ranked = merged.most_common()
    for v, c in reversed(ranked):
        if v.casefold() in vocab:
            continue
        frequent = [w for w, n in ranked if n >= 2 * c and w != v]
        match = _close(v, frequent)
        if match is not None:
            _redirect(fixes, v, match)
            notes.append(
                f"{where}: {unit} {v!r} ({c:,}) read as {match!r} ({merged[match]:,}): a rare value "
                f"{counted(_edit_distance(v, match), 'edit')} from a more frequent one"
            )
    return fixes, notes


def _edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): a transposition is one edit."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def _close(value: str, candidates: Sequence[str]) -> str | None:
    """The candidate a value is most likely a misspelling of: difflib ratio >= 0.8 and at most 2 edits.

    Values shorter than 5 characters are never matched ("East" is not a misspelling of "West").
    """
    if len(value) < 5:
        return None
    for match in difflib.get_close_matches(value, candidates, n=3, cutoff=0.8):
        if match != value and _edit_distance(value, match) <= 2:
            return match
    return None


def _redirect(fixes: dict[str, str], old: str, new: str) -> None:
    """Make ``old`` read as ``new``, and so every value already read as ``old`` (no chains of fixes)."""
    for k, v in list(fixes.items()):
        if v == old:
            fixes[k] = new
    fixes[old] = new


# ---- identifiers ---------------------------------------------------------------------


def identifier(text: str, fallback: str) -> str:
    """A scenario name (letters, digits, _ and -) for a label from the data; ``fallback`` if none is left."""
    name = re.sub(r"[^A-Za-z0-9_\-]+", "_", text.strip()).strip("_")
    return name or fallback


def scenario_name(text: str) -> str:
    """A valid scenario name from a file name ("crm-2017.toml" -> "crm-2017")."""
    return identifier(text, "crm")


def unique_names(names: Sequence[str]) -> list[str]:
    """The names in order, a repeated one numbered from its second occurrence ("East", "East_2")."""
    seen: Counter[str] = Counter()
    out = []
    for n in names:
        seen[n] += 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out
