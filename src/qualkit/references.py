"""Reference coding files (``[codings] files``): re-read only when they changed, and then merged with what
researchers did since the last read, never silently replaced.

``reference_rows`` in the store remembers each file's rows as last read, with the coding each became.  On a
re-read: a row still in the file is left alone (a memo the file changed is taken over unless the coding was
edited in qualkit: the edit wins, with a note); a row new in the file is added; a row gone from the file is
removed (``unload``) unless the coding was edited (kept, with a note); a coding deleted in qualkit is not
loaded again.  Every change goes through the store and its log.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .store import Store

__all__ = ["INGEST_CODER", "merge_reference_rows"]

INGEST_CODER = "qualkit-ingest"   # who the log names for changes ingest makes (re-anchoring, reference files)

# -- reference codings ----------------------------------------------------------------------------
_Key = tuple[str, int, int, str, str]


def merge_reference_rows(store: Store, con: sqlite3.Connection, src: str, rows: list[dict[str, Any]],
                         warnings: list[str]) -> int:
    """Bring the codings of a changed reference coding file in line with it, keeping what researchers did
    since the last read: a coding they edited (code, memo or span) or deleted stays as they left it, with
    a note; rows new in the file are added, rows gone from it are removed (``unload``) unless edited.

    ``reference_rows`` remembers what was read last time (row key → coding id)."""
    prev: dict[_Key, tuple[str, int | None]] = {
        (r[0], r[1], r[2], r[3], r[4]): (r[5], r[6]) for r in con.execute(
            'SELECT document_id, start, "end", code, coder, memo, coding_id FROM reference_rows WHERE source_file=?',
            (src,))}
    if not prev:  # a store from before schema 3: its loaded codings are the previous read
        prev = {(r[0], r[1], r[2], r[3], r[4]): (r[5], r[6]) for r in con.execute(
            'SELECT c.document_id, c.start, c."end", k.name, c.coder, c.memo, c.id FROM codings c '
            "JOIN codes k ON k.id=c.code_id WHERE c.source_file=? AND c.origin='imported'", (src,))}
    new: dict[_Key, dict[str, Any]] = {}
    for r in rows:
        new.setdefault((r["document"], r["start"], r["end"], r["code"], r["coder"]), r)
    ids = [cid for _, cid in prev.values() if cid is not None]
    alive = {int(r[0]) for r in con.execute(
        f"SELECT id FROM codings WHERE id IN ({','.join('?' * len(ids))})", ids)} if ids else set()
    edited = {int(r[0]) for r in con.execute(
        f"SELECT DISTINCT coding_id FROM coding_log WHERE action='update' AND coder != ? "
        f"AND coding_id IN ({','.join('?' * len(ids))})", [INGEST_CODER, *ids])} if ids else set()
    keep: dict[_Key, int | None] = {}
    deleted = 0
    for key in prev.keys() - new.keys():  # gone from the file
        cid = prev[key][1]
        if cid in alive and cid in edited:
            warnings.append(f"{src}: the row {key[0]} {key[1]}..{key[2]} {key[3]!r} ({key[4]}) is gone from "
                                   f"the file, but coding {cid} was edited in qualkit since: kept as edited")
        elif cid in alive:
            store.delete_codings([cid], by=INGEST_CODER, action="unload", con=con)
    gone_edited = [(key, prev[key][1]) for key in prev.keys() - new.keys()
                   if prev[key][1] in alive and prev[key][1] in edited]
    to_add: list[dict[str, Any]] = []
    for key, r in new.items():
        if key in prev:
            memo_then, cid = prev[key]
            keep[key] = cid
            if cid not in alive:
                deleted += 1
            elif r["memo"] != memo_then:
                if cid in edited:
                    warnings.append(f"{src}, line {r['line']}: the memo changed in the file, but coding {cid} "
                                           "was edited in qualkit since: the edit wins")
                else:
                    store.update_coding(int(cid), coder=INGEST_CODER, memo=r["memo"], con=con)
            continue
        twin = next((cid for k, cid in gone_edited if k[0] == key[0] and k[4] == key[4]
                     and k[1] < key[2] and key[1] < k[2]), None)
        if twin is not None:  # the file changed a row a researcher had edited: the edit wins
            keep[key] = twin
            warnings.append(f"{src}, line {r['line']}: this row replaces one whose coding {twin} was edited in "
                                   "qualkit since: the edit wins, the row is not loaded")
            continue
        to_add.append({**r, "origin": "imported", "status": "active", "source_file": src})
    for key, cid in zip([(r["document"], r["start"], r["end"], r["code"], r["coder"]) for r in to_add],
                        store.add_codings(to_add, action="ingest", con=con), strict=True):
        keep[key] = cid
    if deleted:
        warnings.append(f"{src}: {deleted} row(s) whose coding was deleted in qualkit are not loaded again")
    con.execute("DELETE FROM reference_rows WHERE source_file=?", (src,))
    con.executemany('INSERT INTO reference_rows(source_file, document_id, start, "end", code, coder, memo, coding_id) '
                    "VALUES (?,?,?,?,?,?,?,?)", [(src, *key, new[key]["memo"], cid) for key, cid in keep.items()])
    return len(to_add)
