"""What changed in the store since a point of its log (``coding_log``): the coding view's deltas.

Every change of a coding is logged by the store (who, when, which coding, what); :func:`changes_since`
reads the log after a given entry and says which codings, documents, codes and coders it touched, with the
current rows of the touched codings that still exist.  The coding view sends the page only these (its own
action and whatever other coders did meanwhile) instead of whole lists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from .store import Store

__all__ = ["CODING_COLUMNS", "Changes", "changes_since", "last_entry"]

# the columns of :attr:`Changes.rows` (as :meth:`Store.codings` names them)
CODING_COLUMNS = ["id", "document_id", "start", "end", "code", "coder", "origin", "status", "memo", "score",
                  "explanation", "anchor"]
_ROWS = ('SELECT c.id, c.document_id, c.start, c."end", k.name AS code, c.coder, c.origin, c.status, c.memo,'
         " c.score, c.explanation, c.anchor FROM codings c JOIN codes k ON k.id = c.code_id")


@dataclass
class Changes:
    """The log entries after ``since`` up to ``last``: ``entries`` of them, touching ``coding_ids``
    (deleted ones included), ``documents``, ``codes`` (before and after a change of code) and ``coders`` (who
    changed something, and whose codings were touched).  ``rows`` holds the touched codings that still exist,
    as they are now (columns :data:`CODING_COLUMNS`)."""

    since: int
    last: int
    entries: int = 0
    coding_ids: list[int] = field(default_factory=list)
    documents: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)
    coders: set[str] = field(default_factory=set)
    rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CODING_COLUMNS))


def last_entry(store: Store) -> int:
    """The id of the store's last log entry (0 for an empty log)."""
    return int(store.query("SELECT coalesce(max(id), 0) FROM coding_log")[0][0])


def changes_since(store: Store, since: int, *, limit: int | None = None) -> Changes:
    """What the log entries after entry ``since`` changed.  With ``limit``, more entries than that are only
    counted (``entries``; nothing else is read): a bulk change is better reloaded whole."""
    log = store.query("SELECT id, coder, coding_id, payload FROM coding_log WHERE id > ? ORDER BY id", (since,))
    if not log:
        return Changes(since, since)
    out = Changes(since, int(log[-1][0]), entries=len(log))
    if limit is not None and len(log) > limit:
        return out
    out.coding_ids = sorted({int(r[2]) for r in log if r[2] is not None})
    out.coders = {str(r[1]) for r in log}
    for r in log:
        payload = json.loads(r[3] or "{}")
        doc = payload.get("document") or payload.get("document_id")  # created / deleted codings say where
        if doc:
            out.documents.add(str(doc))
        code = payload.get("code")  # a name; [old, new] when an update changed it
        if isinstance(code, list):
            out.codes.update(str(c) for c in code)
        elif code:
            out.codes.add(str(code))
    if out.coding_ids:
        out.rows = store.frame(_ROWS + f" WHERE c.id IN ({','.join('?' * len(out.coding_ids))})",
                               tuple(out.coding_ids))
        out.documents.update(out.rows.document_id)
        out.codes.update(out.rows.code)
        out.coders.update(out.rows.coder)
    return out
