"""Coding units and their labels: the bridge between codings (spans) and unit-level analysis.

A *unit* is a respondent's turn in an interview or one survey answer.  :func:`unit_table` lists the
units with their text and case variables; :func:`unit_labels` says which codes each unit carries,
counting a coding for a unit when the two overlap (a turn-level coding, or a sentence inside the turn).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from .project import Project

__all__ = ["HUMAN_ORIGINS", "coding_filter_sql", "slice_texts", "unit_labels", "unit_table"]

# Which codings count as human: manual and imported codings, and auto suggestions a person accepted.
HUMAN_ORIGINS = ("manual", "imported", "auto-accepted")


def coding_filter_sql(origins: Sequence[str] = HUMAN_ORIGINS, coders: Iterable[str] | None = None,
                      alias: str = "c") -> tuple[str, list[str]]:
    """SQL condition and parameters selecting codings by origin (``manual``, ``imported``,
    ``auto-accepted``, ``auto-pending``, ``auto``) and coder."""
    parts = []
    for o in origins:
        if o == "auto-accepted":
            parts.append(f"({alias}.origin='auto' AND {alias}.status='accepted')")
        elif o == "auto-pending":
            parts.append(f"({alias}.origin='auto' AND {alias}.status='pending')")
        elif o == "auto":
            parts.append(f"({alias}.origin='auto' AND {alias}.status IN ('pending','accepted'))")
        elif o in ("manual", "imported"):
            parts.append(f"({alias}.origin='{o}' AND {alias}.status='active')")
        else:
            raise ValueError(f"unknown origin {o!r}")
    cond = "(" + " OR ".join(parts) + ")" if parts else "0"
    params: list[str] = []
    coders = list(coders or [])
    if coders:
        cond += f" AND {alias}.coder IN ({','.join('?' * len(coders))})"
        params.extend(coders)
    return cond, params


def slice_texts(project: Project, spans: pd.DataFrame) -> list[str]:
    """The text of each span (``document_id``, ``start``, ``end`` columns), cut in Python from one read of each
    document: linear in the size of the documents (one SQL ``substr`` per span re-reads a long text each time)."""
    out: list[str] = [""] * len(spans)
    if spans.empty:
        return out
    by_doc: dict[str, list[int]] = {}
    for i, d in enumerate(spans["document_id"]):
        by_doc.setdefault(str(d), []).append(i)
    starts, ends = spans["start"].tolist(), spans["end"].tolist()
    con = project.store.con
    for doc, rows in by_doc.items():
        row = con.execute("SELECT text FROM documents WHERE id=?", (doc,)).fetchone()
        text = str(row[0]) if row else ""
        for i in rows:
            out[i] = text[int(starts[i]):int(ends[i])]
    return out


def unit_table(project: Project, *, kinds: Sequence[str] = ("interview", "survey")) -> pd.DataFrame:
    """Respondent units with text and case variables.

    Columns: ``unit_id, document_id, case_id, kind, question, idx, start, end, speaker, language, text``
    followed by one column per case variable.
    """
    store = project.store
    df = store.frame(
        'SELECT u.id AS unit_id, u.document_id, d.case_id, d.kind, d.question, u.idx, u.start, u."end", '
        "u.speaker, d.language FROM units u JOIN documents d ON d.id = u.document_id "
        f"WHERE u.role != 'interviewer' AND d.kind IN ({','.join('?' * len(kinds))}) "
        "ORDER BY d.kind, u.document_id, u.idx", tuple(kinds))
    df["text"] = slice_texts(project, df)
    cv = store.case_variables()
    if not cv.empty:
        df = df.merge(cv.drop(columns=["case_kind"], errors="ignore"), on="case_id", how="left")
    return df


def unit_labels(project: Project, *, origins: Sequence[str] = HUMAN_ORIGINS, coders: Iterable[str] | None = None,
                rollup: bool = True) -> pd.DataFrame:
    """One row per (unit, code, coder) that a coding touches.

    Columns: ``unit_id, document_id, code, root, dimension, coder, origin, status, coding_id``.
    ``root`` is the top-level code (the Handlungsfeld of a subcode); with ``rollup`` a row for the root
    is not added separately — use ``root`` to count at the top level.
    """
    cond, params = coding_filter_sql(origins, coders)
    codings = project.store.frame(
        'SELECT c.id AS coding_id, c.document_id, c.start, c."end", k.name AS code, k.dimension, c.coder, c.origin, '
        f"c.status FROM codings c JOIN codes k ON k.id = c.code_id WHERE {cond} ORDER BY c.document_id, c.id",
        tuple(params))
    units = project.store.frame('SELECT id, document_id, start, "end" FROM units WHERE role != \'interviewer\' '
                                "ORDER BY document_id, start")
    # overlap of codings and units, per document by binary search over the (disjoint, ordered) units: a range
    # join in SQL scans every earlier unit for every coding, quadratic in a long transcript
    spans: dict[str, tuple[list[int], list[int], list[int]]] = {}
    for doc, g in units.groupby("document_id", sort=False):
        spans[str(doc)] = (g["start"].tolist(), g["end"].tolist(), g["id"].tolist())
    rows: list[tuple[Any, ...]] = []
    for r in codings.itertuples(index=False):
        found = spans.get(str(r.document_id))
        if found is None:
            continue
        starts, ends, ids = found
        lo = bisect.bisect_right(ends, r.start)   # first unit ending after the coding starts
        hi = bisect.bisect_left(starts, r.end)    # first unit starting at or after the coding ends
        for j in range(lo, hi):
            if starts[j] < r.end and ends[j] > r.start:
                rows.append((ids[j], r.document_id, r.code, r.dimension, r.coder, r.origin, r.status, r.coding_id))
    df = pd.DataFrame.from_records(rows, columns=["unit_id", "document_id", "code", "dimension", "coder", "origin",
                                                  "status", "coding_id"])
    cb = project.codebook
    roots = {name: cb.root(name) for name in cb.codes}
    df["root"] = df["code"].map(lambda n: roots.get(n, n))
    return df[["unit_id", "document_id", "code", "root", "dimension", "coder", "origin", "status", "coding_id"]]
