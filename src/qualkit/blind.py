"""Blind coding: a coder codes assigned documents without seeing other coders' codings or the machine's
suggestions there, until they mark the document done.

Assignments live in the store (``blind_assignments``).  The hiding is done on the Python side: the coding
view receives only :func:`visible_codings`, so nothing hidden ever reaches the browser.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from .errors import CodingError
from .project import Project
from .store import now

__all__ = ["assign_blind", "blind_documents", "mark_done", "visible_codings"]


def assign_blind(project: Project, coder: str, documents: Iterable[str], *, by: str) -> int:
    """Assign documents to ``coder`` for blind coding; returns how many were newly assigned."""
    store = project.store
    docs = list(documents)
    known = {r[0] for r in store.query("SELECT id FROM documents")}
    unknown = [d for d in docs if d not in known]
    if unknown:
        raise CodingError(f"unknown document(s): {', '.join(unknown[:5])}",
                          hint="document ids are interview ids (I07) and survey answers (S17-F1); see `qualkit status`")
    with store.transaction() as con:
        store.ensure_coder(coder, con)
        before = con.total_changes
        con.executemany("INSERT OR IGNORE INTO blind_assignments(coder, document_id, assigned_by, assigned_at) "
                        "VALUES (?,?,?,?)", [(coder, d, by, now()) for d in docs])
        return con.total_changes - before


def mark_done(project: Project, coder: str, document_id: str) -> None:
    """The coder finished a blind document: from now on they see the other codings there."""
    with project.store.transaction() as con:
        cur = con.execute("UPDATE blind_assignments SET done_at=? WHERE coder=? AND document_id=? AND done_at IS NULL",
                          (now(), coder, document_id))
        if cur.rowcount == 0:
            raise CodingError(f"{document_id} is not an open blind assignment of {coder}",
                              hint="`qualkit blind list` shows the assignments")


def blind_documents(project: Project, coder: str) -> set[str]:
    """Documents ``coder`` is coding blind and has not marked done."""
    return {r[0] for r in project.store.query(
        "SELECT document_id FROM blind_assignments WHERE coder=? AND done_at IS NULL", (coder,))}


def visible_codings(project: Project, coder: str, document_id: str, codings: pd.DataFrame) -> pd.DataFrame:
    """The codings of ``document_id`` that ``coder`` may see: all of them, or only their own while the
    document is an open blind assignment (other coders' codings and suggestions hidden)."""
    if codings.empty or document_id not in blind_documents(project, coder):
        return codings
    return codings[codings.coder == coder]
