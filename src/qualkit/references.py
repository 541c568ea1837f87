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
from collections.abc import Iterable, Iterator
from typing import Any

from .store import Store

__all__ = ["INGEST_CODER", "merge_reference_rows", "stage_reference_rows"]

INGEST_CODER = "qualkit-ingest"   # who the log names for changes ingest makes (re-anchoring, reference files)

# A row is known by what it says, not where: (document, code, coder, quote), so re-anchoring after a transcript
# edit (new offsets in a regenerated file) does not make it a different row.
#
# The rows of a file as read, and those of its previous read, are merged in temporary tables of the ingest's
# transaction, a part of _PART rows at a time: a coding file of a large corpus (587,000 rows at ×100) is never
# held in memory, and the temporary tables go with the transaction.
_PART = 20_000
_KEY = ("document", "code", "coder", "quote")
_SAME_KEY = " AND ".join(f"n.{k} = p.{k}" for k in _KEY)

# (line, document, start, end, code, coder, quote, memo): a checked row of a reference coding file
Row = tuple[int, str, int, int, str, str, str, str]


def stage_reference_rows(con: sqlite3.Connection, src: str, rows: Iterable[Row]) -> None:
    """Keep the checked rows of the reference coding file ``src`` for :func:`merge_reference_rows`, in the open
    transaction of ``con`` (they are read as they are checked, so an error found in a later row of any file
    still leaves nothing merged)."""
    con.execute("CREATE TEMP TABLE IF NOT EXISTS reference_read (source_file TEXT NOT NULL, line INTEGER NOT NULL, "
                'document TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, code TEXT NOT NULL, '
                "coder TEXT NOT NULL, quote TEXT NOT NULL, memo TEXT NOT NULL)")
    con.executemany("INSERT INTO temp.reference_read VALUES (?,?,?,?,?,?,?,?,?)", ((src, *r) for r in rows))


def _parts(con: sqlite3.Connection, sql: str) -> Iterator[list[Any]]:
    """The rows of ``SELECT rowid, … FROM <temp table> WHERE rowid > ? … ORDER BY rowid LIMIT ?`` a part at a
    time, each part read whole before the caller writes (the store is written while they are read)."""
    last = 0
    while part := con.execute(sql, (last, _PART)).fetchall():
        yield part
        last = int(part[-1][0])


def merge_reference_rows(store: Store, con: sqlite3.Connection, src: str, warnings: list[str]) -> int:
    """Bring the codings of a changed reference coding file in line with its rows kept by
    :func:`stage_reference_rows`, keeping what researchers did since the last read (see the module docstring).
    Returns the number of codings added."""
    for t in ("reference_new", "reference_prev"):
        con.execute(f"DROP TABLE IF EXISTS temp.{t}")
    # the previous read: one row per key (the last, as a store from before schema 3 may repeat one)
    con.execute("CREATE TEMP TABLE reference_prev (document TEXT, code TEXT, coder TEXT, quote TEXT, memo TEXT, "
                "coding_id INTEGER, alive INTEGER, start INTEGER, \"end\" INTEGER, edited INTEGER, "
                "PRIMARY KEY (document, code, coder, quote))")
    prev = con.execute("INSERT OR REPLACE INTO temp.reference_prev(document, code, coder, quote, memo, coding_id) "
                       "SELECT document_id, code, coder, quote, memo, coding_id FROM reference_rows "
                       "WHERE source_file=?", (src,)).rowcount
    if not prev:  # a store from before schema 3: its loaded codings are the previous read
        prev = con.execute("INSERT OR REPLACE INTO temp.reference_prev(document, code, coder, quote, memo, "
                           "coding_id) SELECT c.document_id, k.name, c.coder, c.quote, c.memo, c.id FROM codings c "
                           "JOIN codes k ON k.id=c.code_id WHERE c.source_file=? AND c.origin='imported' "
                           "ORDER BY c.rowid", (src,)).rowcount
    con.execute("UPDATE temp.reference_prev SET "
                "alive = EXISTS (SELECT 1 FROM codings c WHERE c.id = reference_prev.coding_id), "
                "start = (SELECT c.start FROM codings c WHERE c.id = reference_prev.coding_id), "
                '"end" = (SELECT c."end" FROM codings c WHERE c.id = reference_prev.coding_id), '
                "edited = EXISTS (SELECT 1 FROM coding_log l WHERE l.coding_id = reference_prev.coding_id "
                "AND l.action = 'update' AND l.coder != ?)", (INGEST_CODER,))
    # the file's rows: the first of each key, in the file's order
    con.execute('CREATE TEMP TABLE reference_new (line INTEGER, document TEXT, start INTEGER, "end" INTEGER, '
                "code TEXT, coder TEXT, quote TEXT, memo TEXT, known INTEGER, coding_id INTEGER, added INTEGER)")
    con.execute('INSERT INTO temp.reference_new(line, document, start, "end", code, coder, quote, memo) '
                'SELECT line, document, start, "end", code, coder, quote, memo FROM temp.reference_read '
                "WHERE rowid IN (SELECT min(rowid) FROM temp.reference_read WHERE source_file=? "
                "GROUP BY document, code, coder, quote) ORDER BY rowid", (src,))
    if prev:  # a first read has nothing to look up
        con.execute("CREATE INDEX temp.reference_new_key ON reference_new(document, code, coder, quote)")

    gone_edited: list[tuple[str, str, int, int, int]] = []  # document, coder, coding, its start and end
    gone = con.execute("SELECT document, code, coder, quote, coding_id, alive, edited, start, \"end\" "
                       f"FROM temp.reference_prev p WHERE NOT EXISTS (SELECT 1 FROM temp.reference_new n "
                       f"WHERE {_SAME_KEY}) ORDER BY document, code, coder, quote").fetchall()
    for doc, code, coder, quote, cid, alive, edited, s, e in gone:  # rows gone from the file
        if alive and edited:
            gone_edited.append((doc, coder, int(cid), int(s), int(e)))
            warnings.append(f"{src}: the row {doc} {code!r} ({coder}) {quote[:40]!r} is gone from the file, "
                            f"but coding {cid} was edited in qualkit since: kept as edited")
        elif alive:
            store.delete_codings([int(cid)], by=INGEST_CODER, action="unload", con=con)
    del gone

    deleted = 0
    # rows new in the file are loaded, unless they replace a row a researcher edited (only then is each looked at)
    join = "LEFT JOIN" if gone_edited else "JOIN"
    if not gone_edited:
        con.execute("UPDATE temp.reference_new AS n SET added = 1 WHERE NOT EXISTS (SELECT 1 FROM "
                    f"temp.reference_prev p WHERE {_SAME_KEY})")
    for part in _parts(con, 'SELECT n.rowid, n.line, n.document, n.start, n."end", n.coder, n.memo, p.rowid, '
                            f"p.memo, p.coding_id, p.alive, p.edited FROM temp.reference_new n {join} "
                            f"temp.reference_prev p ON {_SAME_KEY} WHERE n.rowid > ? ORDER BY n.rowid LIMIT ?"):
        known, added = [], []
        for rid, line, doc, s, e, coder, memo, prev, memo_then, cid, alive, edited in part:
            if prev is not None:
                known.append((cid, rid))
                if not alive:
                    deleted += 1
                elif memo != memo_then:
                    if edited:
                        warnings.append(f"{src}, line {line}: the memo changed in the file, but coding {cid} was "
                                        "edited in qualkit since: the edit wins")
                    else:
                        store.update_coding(int(cid), coder=INGEST_CODER, memo=memo, con=con)
                continue
            twin = next((g[2] for g in gone_edited if g[0] == doc and g[1] == coder and g[3] < e and s < g[4]),
                        None)
            if twin is not None:  # the file changed a row a researcher had edited: the edit wins
                known.append((twin, rid))
                warnings.append(f"{src}, line {line}: this row replaces one whose coding {twin} was edited in "
                                "qualkit since: the edit wins, the row is not loaded")
                continue
            added.append(rid)
        con.executemany("UPDATE temp.reference_new SET known = 1, coding_id = ? WHERE rowid = ?", known)
        con.executemany("UPDATE temp.reference_new SET added = 1 WHERE rowid = ?", [(r,) for r in added])

    # the new rows as loaded codings, in the file's order, a part at a time as add_codings takes them
    order: list[int] = []

    def loaded() -> Iterator[dict[str, Any]]:
        for part in _parts(con, 'SELECT rowid, document, start, "end", code, coder, quote, memo '
                                "FROM temp.reference_new WHERE added = 1 AND rowid > ? ORDER BY rowid LIMIT ?"):
            for rid, doc, s, e, code, coder, quote, memo in part:
                order.append(rid)
                yield {"document": doc, "start": s, "end": e, "code": code, "coder": coder, "quote": quote,
                       "memo": memo, "origin": "imported", "status": "active", "source_file": src}

    ids = store.add_codings(loaded(), action="ingest", con=con)
    con.executemany("UPDATE temp.reference_new SET coding_id = ? WHERE rowid = ?", zip(ids, order, strict=True))
    if deleted:
        warnings.append(f"{src}: {deleted} row(s) whose coding was deleted in qualkit since are not loaded again")
    con.execute("DELETE FROM reference_rows WHERE source_file=?", (src,))
    con.execute("INSERT INTO reference_rows(source_file, document_id, code, coder, quote, memo, coding_id) "
                "SELECT ?, document, code, coder, quote, memo, coding_id FROM temp.reference_new "
                "WHERE known = 1 OR added = 1 ORDER BY added IS NOT NULL, rowid", (src,))
    for t in ("reference_new", "reference_prev"):
        con.execute(f"DROP TABLE temp.{t}")
    con.execute("DELETE FROM temp.reference_read WHERE source_file=?", (src,))
    if not con.execute("SELECT 1 FROM temp.reference_read LIMIT 1").fetchone():  # the ingest's last file
        con.execute("DROP TABLE temp.reference_read")
    return len(ids)
