"""How an answer is laid out as text: its sentence on a line of its own, then a finding a line, each finding's
parts after its first on lines under it. Light to import (``covsim run`` lays out its answer with it, and the
report package loads matplotlib and scipy)."""

from __future__ import annotations

from collections.abc import Sequence


def answer_text(lead: str, findings: Sequence[str], markdown: bool = True) -> str:
    """An answer: ``lead`` and its first finding, then each other finding on a line of its own (a list item in
    Markdown, an indented dash on a terminal; empty findings are left out): one paragraph of 550 words had read
    as a wall to a VP and an analyst alike."""
    first, *rest = [f.strip() for f in findings if f.strip()]
    text = lead + first
    for part in rest:
        text = with_finding(text, part, markdown)
    return text


#: What opens each finding after the first on a terminal (in Markdown: a list item, "- ").
FINDING = "\n  - "
#: What opens each part of a finding after its first, under it: an item of a list nested in the finding's, on a
#: terminal as in Markdown (where four spaces nest it). The Why of a lead, one item of up to 230 words, had read as
#: a wall of its own to a VP.
SUB_FINDING = "\n    - "


def with_finding(answer: str, finding: str, markdown: bool = True) -> str:
    """``answer`` (:func:`answer_text`) with ``finding`` on a line of its own after its others (an empty
    ``finding`` adds nothing)."""
    if not finding.strip():
        return answer
    if not markdown:
        return f"{answer}{FINDING}{finding.strip()}"
    gap = "\n" if "\n- " in answer else "\n\n"  # the list's first item has a blank line before it
    return f"{answer}{gap}- {finding.strip()}"
