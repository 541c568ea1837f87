"""Finding one's way through a project in the coding view: uncoded units, progress, search.

The rules are written here once and mirrored by ``static/coding.js`` (which applies them to the document on
screen without a round trip):

* a unit (turn, answer) is *to be coded* unless it is an interviewer's turn;
* it is *coded* when a counted coding overlaps it: any coding except rejected ones and pending suggestions.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

import pandas as pd

from .store import Store

__all__ = ["coding_progress", "search_documents", "uncoded_units"]

INTERVIEWER = "interviewer"


def uncoded_units(units: pd.DataFrame, codings: pd.DataFrame) -> list[int]:
    """The ``idx`` of the units of one document that are to be coded and carry no counted coding, in order."""
    spans = [] if codings.empty else [
        (int(s), int(e)) for s, e, st in zip(codings["start"], codings["end"], codings["status"])
        if st not in ("rejected", "pending")]
    out = []
    for idx, start, end, role in zip(units["idx"], units["start"], units["end"], units["role"]):
        if (role or "") == INTERVIEWER:
            continue
        if not any(s < end and e > start for s, e in spans):
            out.append(int(idx))
    return out


def coding_progress(store: Store, documents: Sequence[str] | None = None) -> dict[str, tuple[int, int]]:
    """Per document: (units coded, units to be coded), by the rule in the module docstring.  ``documents``
    restricts the count to those ids (the coding view recounts only the documents a change touched)."""
    only = ""
    params: tuple[str, ...] = ()
    if documents is not None:
        params = tuple(dict.fromkeys(documents))
        if not params:
            return {}
        only = f" AND u.document_id IN ({','.join('?' * len(params))})"
    total = store.query("SELECT u.document_id, COUNT(*) FROM units u WHERE coalesce(u.role, '') != ?"
                        f"{only} GROUP BY u.document_id", (INTERVIEWER, *params))
    coded = store.query(
        "SELECT u.document_id, COUNT(DISTINCT u.id) FROM units u JOIN codings c ON c.document_id = u.document_id"
        ' AND c.start < u."end" AND c."end" > u.start'
        f" WHERE coalesce(u.role, '') != ? AND c.status NOT IN ('rejected', 'pending'){only} GROUP BY u.document_id",
        (INTERVIEWER, *params))
    done = {r[0]: int(r[1]) for r in coded}
    return {r[0]: (done.get(r[0], 0), int(r[1])) for r in total}


def search_documents(store: Store, query: str, *, documents: Sequence[str] | None = None, context: int = 40,
                     limit: int = 200) -> list[dict[str, Any]]:
    """Every occurrence of ``query`` (case-insensitive, NFC) in the stored texts, in document order.

    Returns dicts ``document, start, end, before, match, after`` (offsets: code points, end exclusive), at most
    ``limit`` of them.  ``documents`` restricts the search to those ids."""
    q = unicodedata.normalize("NFC", query).strip().lower()
    if not q:
        return []
    rows = store.query("SELECT id, text FROM documents ORDER BY id")
    keep = None if documents is None else set(documents)
    hits: list[dict[str, Any]] = []
    for doc_id, text in rows:
        if keep is not None and doc_id not in keep:
            continue
        low = text.lower()
        if len(low) != len(text):  # a rare letter whose lower case is longer (İ): offsets must stay true
            low = text
        i = low.find(q)
        while i >= 0:
            j = i + len(q)
            hits.append({"document": doc_id, "start": i, "end": j, "before": text[max(0, i - context):i],
                         "match": text[i:j], "after": text[j:j + context]})
            if len(hits) >= limit:
                return hits
            i = low.find(q, j)
    return hits
