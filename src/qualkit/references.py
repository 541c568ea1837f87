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

# a row is known by what it says, not where: (document, code, coder, quote), so re-anchoring after a transcript
# edit (new offsets in a regenerated file) does not make it a different row
_Key = tuple[str, str, str, str]


def _key(r: dict[str, Any]) -> _Key:
    return (r["document"], r["code"], r["coder"], r["quote"])


def _ids_sql(ids: list[int]) -> str:
    return ",".join("?" * len(ids))


def merge_reference_rows(store: Store, con: sqlite3.Connection, src: str, rows: list[dict[str, Any]],
                         warnings: list[str]) -> int:
    """Bring the codings of a changed reference coding file in line with it, keeping what researchers did
    since the last read (see the module docstring).  Returns the number of codings added."""
    prev: dict[_Key, tuple[str, int | None]] = {
        (r[0], r[1], r[2], r[3]): (r[4], r[5]) for r in con.execute(
            "SELECT document_id, code, coder, quote, memo, coding_id FROM reference_rows WHERE source_file=?", (src,))}
    if not prev:  # a store from before schema 3: its loaded codings are the previous read
        prev = {(r[0], r[1], r[2], r[3]): (r[4], r[5]) for r in con.execute(
            "SELECT c.document_id, k.name, c.coder, c.quote, c.memo, c.id FROM codings c "
            "JOIN codes k ON k.id=c.code_id WHERE c.source_file=? AND c.origin='imported'", (src,))}
    new: dict[_Key, dict[str, Any]] = {}
    for r in rows:
        new.setdefault(_key(r), r)
    ids = [int(cid) for _, cid in prev.values() if cid is not None]
    alive = {int(r[0]): (int(r[1]), int(r[2])) for r in con.execute(
        f'SELECT id, start, "end" FROM codings WHERE id IN ({_ids_sql(ids)})', ids)} if ids else {}
    edited = {int(r[0]) for r in con.execute(
        f"SELECT DISTINCT coding_id FROM coding_log WHERE action='update' AND coder != ? "
        f"AND coding_id IN ({_ids_sql(ids)})", [INGEST_CODER, *ids])} if ids else set()
    gone_edited: list[tuple[_Key, int]] = []
    for key in sorted(prev.keys() - new.keys()):  # rows gone from the file
        cid = prev[key][1]
        if cid in alive and cid in edited:
            gone_edited.append((key, cid))
            warnings.append(f"{src}: the row {key[0]} {key[1]!r} ({key[2]}) {key[3][:40]!r} is gone from the file, "
                            f"but coding {cid} was edited in qualkit since: kept as edited")
        elif cid in alive:
            store.delete_codings([cid], by=INGEST_CODER, action="unload", con=con)
    keep: dict[_Key, int | None] = {}
    to_add: list[dict[str, Any]] = []
    deleted = 0
    for key, r in new.items():
        if key in prev:
            memo_then, cid = prev[key]
            keep[key] = cid
            if cid not in alive:
                deleted += 1
            elif r["memo"] != memo_then:
                if cid in edited:
                    warnings.append(f"{src}, line {r['line']}: the memo changed in the file, but coding {cid} was "
                                    "edited in qualkit since: the edit wins")
                else:
                    store.update_coding(int(cid), coder=INGEST_CODER, memo=r["memo"], con=con)
            continue
        twin = next((cid for k, cid in gone_edited if k[0] == key[0] and k[2] == key[2]
                     and alive[cid][0] < r["end"] and r["start"] < alive[cid][1]), None)
        if twin is not None:  # the file changed a row a researcher had edited: the edit wins
            keep[key] = twin
            warnings.append(f"{src}, line {r['line']}: this row replaces one whose coding {twin} was edited in "
                            "qualkit since: the edit wins, the row is not loaded")
            continue
        to_add.append(r)
    # the rows as loaded codings, made one at a time as add_codings takes them (not a copy of every row at once)
    loaded = ({**r, "origin": "imported", "status": "active", "source_file": src} for r in to_add)
    for r, cid in zip(to_add, store.add_codings(loaded, action="ingest", con=con), strict=True):
        keep[_key(r)] = cid
    if deleted:
        warnings.append(f"{src}: {deleted} row(s) whose coding was deleted in qualkit since are not loaded again")
    con.execute("DELETE FROM reference_rows WHERE source_file=?", (src,))
    con.executemany("INSERT INTO reference_rows(source_file, document_id, code, coder, quote, memo, coding_id) "
                    "VALUES (?,?,?,?,?,?,?)", [(src, *key, new[key]["memo"], cid) for key, cid in keep.items()])
    return len(to_add)
