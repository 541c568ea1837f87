"""From a selection in the coding view to the spans to code: whole words, one span per turn, the
interviewer's question left out when the selection also holds an answer.  Offsets are code points into the
stored text, end exclusive."""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["selection_spans", "snap_to_words"]

_WORD = re.compile(r"\w", re.U)


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Extend a selection to whole words and trim surrounding white space and punctuation-only edges."""
    start, end = max(0, min(start, end)), min(len(text), max(start, end))
    while 0 < start < len(text) and _WORD.match(text[start - 1]) and _WORD.match(text[start]):
        start -= 1
    while end < len(text) and end > 0 and _WORD.match(text[end - 1]) and _WORD.match(text[end]):
        end += 1
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def selection_spans(text: str, units: pd.DataFrame, start: int, end: int) -> list[tuple[int, int]]:
    """The spans to code for a selection: snapped to words and split at unit (turn) borders; parts outside
    any unit (speaker labels, blank lines) are dropped, and so are interviewer turns when the selection also
    holds another speaker's text (a question is coded only when it is all that is selected)."""
    s, e = snap_to_words(text, start, end)
    parts = []
    for u in units.itertuples():
        a, b = max(s, int(u.start)), min(e, int(u.end))
        if a < b:
            a, b = snap_to_words(text, a, b)
            if a < b:
                parts.append((a, b, (getattr(u, "role", "") or "") == "interviewer"))
    if any(not asked for *_, asked in parts):
        parts = [p for p in parts if not p[2]]
    return [(a, b) for a, b, _ in parts]
