"""The project store: one SQLite file per project.

Discipline (see ARCHITECTURE.md): ``PRAGMA foreign_keys=ON`` on every connection, WAL journal, a
schema version with forward migrations (the file is backed up before migrating), every write inside
one transaction (:meth:`Store.transaction`), and an append-only ``coding_log`` of who changed what.

Offsets (``start``/``end``) are Unicode code points into the NFC text of the document, end exclusive.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._files import private_file
from ._schema import _MIGRATION_3, _SCHEMA_V1, ACTIONS, CREATE_ACTIONS, REMOVE_ACTIONS
from .errors import CodingConflictError, CodingError, StoreError

__all__ = ["ACTIONS", "ORIGINS", "STATUSES", "Store"]

log = logging.getLogger(__name__)
ORIGINS = ("manual", "auto", "imported")
STATUSES = ("active", "pending", "accepted", "rejected")
SCHEMA_VERSION = 4
QUOTE_DECISIONS = ("approved", "excluded")
# Forward migrations: version -> SQL that brings version-1 to version.
_MIGRATIONS: dict[int, str] = {
    2: "CREATE INDEX units_doc ON units(document_id, start);"
       "CREATE INDEX codings_status ON codings(origin, status);",
    3: _MIGRATION_3,
    # quote release (Zitatfreigabe): one decision per quote, keyed by document, span and a hash of its text, so a
    # decision survives re-runs and lapses when the quoted text changes; every decision is logged
    4: "CREATE TABLE quote_decisions (quote_key TEXT PRIMARY KEY, document_id TEXT NOT NULL, start INTEGER NOT NULL,"
       ' "end" INTEGER NOT NULL, decision TEXT NOT NULL CHECK (decision IN (\'approved\', \'excluded\')),'
       " coder TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', decided_at TEXT NOT NULL);"
       "CREATE TABLE quote_log (id INTEGER PRIMARY KEY, at TEXT NOT NULL, coder TEXT NOT NULL, quote_key TEXT NOT NULL,"
       " decision TEXT NOT NULL, note TEXT NOT NULL DEFAULT '');",
}


def now() -> str:
    """The current UTC time as ISO 8601 text (seconds)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


_ADD_PART = 20_000  # rows of :meth:`Store.add_codings` checked and written at a time


class Store:
    """A project store.  Open with ``Store(path)``; the file and schema are created if missing.

    Each thread gets its own connection, so a widget callback and a notebook cell do not share one.
    """

    def __init__(self, path: str | Path, *, timeout: float = 30.0, notice_after: float = 2.0) -> None:
        self.path = Path(path)
        self._timeout = timeout
        self._notice_after = min(notice_after, timeout)
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # personal data: the store and its journal files are readable by their owner only
        try:
            private_file(self.path)
        except OSError as e:
            raise StoreError(f"{self.path}: cannot create the project store ({e.strerror})",
                             hint="check that the project folder is writable by you") from e
        for suffix in ("-wal", "-shm"):
            if self.path.with_name(self.path.name + suffix).exists():
                private_file(self.path.with_name(self.path.name + suffix))
        self._migrate()

    # -- connections ---------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None,
                                  check_same_thread=False)
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: cannot open the project store ({e})",
                             hint="check that the folder exists and is writable") from e
        con.row_factory = sqlite3.Row
        con.execute(f"PRAGMA busy_timeout={int(self._timeout * 1000)}")
        try:
            con.execute("PRAGMA foreign_keys=ON")
            self._use_wal(con)
        except sqlite3.OperationalError as e:
            con.close()
            raise StoreError(f"{self.path}: cannot open the project store ({e})",
                             hint="check that the folder is writable and the disk not full") from e
        except sqlite3.DatabaseError as e:
            con.close()
            raise StoreError(f"{self.path}: this is not a qualkit store ({e})",
                             hint="move the file away; qualkit creates a new store on the next ingest") from e
        except BaseException:
            con.close()
            raise
        con.execute("PRAGMA synchronous=NORMAL")
        return con

    def _use_wal(self, con: sqlite3.Connection) -> None:
        """Switch a new store to WAL.  The switch needs a moment of exclusive access: a second process opening the
        same new project waits (busy timeout) and is told who holds the lock, never "not a store".  Processes
        switching at the same moment could each hold what another waits for (four kernels opening a new project
        waited 30 s and failed), so on this machine they take turns: an advisory lock on the store's folder (not
        on the store file, whose SQLite locks a second descriptor's close would release)."""
        if str(con.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        try:
            import fcntl
        except ImportError:  # Windows: no advisory lock, the busy timeout alone
            self._locked_call(con, lambda: con.execute("PRAGMA journal_mode=WAL"))
            return
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            deadline = time.monotonic() + self._timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:  # the busy timeout below says who holds the store
                        break
                    time.sleep(0.02)
            self._locked_call(con, lambda: con.execute("PRAGMA journal_mode=WAL"))
        finally:
            os.close(fd)  # and with it the folder's lock

    def _locked_call(self, con: sqlite3.Connection, call: Callable[[], Any]) -> Any:
        """Run ``call`` (a statement that needs the write lock).  If the store stays locked longer than
        ``notice_after`` seconds a warning says so and names the process(es) holding it; after ``timeout``
        seconds a :class:`StoreError` says which process holds it and what to do."""
        con.execute(f"PRAGMA busy_timeout={int(self._notice_after * 1000)}")
        try:
            try:
                return call()
            except sqlite3.OperationalError as e:
                if not _is_locked(e):
                    raise
            holders = _holders(self.path)
            log.warning("%s is locked by %s; waiting up to %.0f s …", self.path, _describe(holders) or
                        "another program", self._timeout)
            con.execute(f"PRAGMA busy_timeout={int((self._timeout - self._notice_after) * 1000)}")
            try:
                return call()
            except sqlite3.OperationalError as e:
                if not _is_locked(e):
                    raise
                holders = _holders(self.path) or holders
                who = _describe(holders) or "another program (it could not be identified)"
                pids = " ".join(str(pid) for pid, _ in holders)
                raise StoreError(
                    f"{self.path}: the project store is still locked after {self._timeout:.0f} s; held by {who}",
                    hint="wait until that process has finished (an ingest, a report, or a notebook kernel that is "
                         "writing), or stop it" + (f" (kill {pids})" if pids else "") +
                         ", then run the command again; a lock is never left behind by a process that ended") from e
        finally:
            con.execute(f"PRAGMA busy_timeout={int(self._timeout * 1000)}")

    @property
    def con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._connect()
            self._local.con = con
        return con

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None
            self._local.memo = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``): all of it is committed, or none of it."""
        con = self.con
        if con.in_transaction:  # nested: join the outer transaction
            yield con
            return
        self._locked_call(con, lambda: con.execute("BEGIN IMMEDIATE"))
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        else:
            con.execute("COMMIT")

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return self.con.execute(sql, params).fetchall()

    def rows(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Iterator[sqlite3.Row]:
        """The rows of a query one at a time, as they are read (a table too large to hold, such as every
        document's text)."""
        yield from self.con.execute(sql, params)

    def integers(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> np.ndarray:
        """The rows of a query of integer columns as one array (rows × columns), read row by row: no Python
        object is kept per row (a list of every coding's span held a row object and its numbers per coding)."""
        cur = self.con.execute(sql, params)
        width = len(cur.description)
        return np.fromiter(itertools.chain.from_iterable(cur), dtype=np.int64).reshape(-1, width)

    def frame(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> pd.DataFrame:
        """The rows of a query as a frame, with the types ``DataFrame.from_records`` gives them; each text
        column's repeated values are one shared string (see :func:`_shared_column`)."""
        cur = self.con.execute(sql, params)
        cols = [d[0] for d in cur.description]
        parts: list[list[np.ndarray]] = [[] for _ in cols]
        shared: list[dict[str, str]] = [{} for _ in cols]
        while rows := cur.fetchmany(_FRAME_ROWS):
            for j, column in enumerate(zip(*rows, strict=True)):
                parts[j].append(_shared_column(column, shared[j]))
            del rows
        columns = [pd.Series(np.concatenate(p) if p else np.empty(0, dtype=object), copy=False).infer_objects()
                   for p in parts]
        df = pd.concat(columns, axis=1, ignore_index=True)  # a query has at least one column
        df.columns = pd.Index(cols)
        return df

    _MEMO_SIZE = 4  # results kept: a report asks for the same few tables (all units, their labels) per chapter

    def memo(self, key: Any, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """``compute()`` (a frame read from the store), computed once while the store is unchanged; every caller
        gets its own copy.  Unchanged means: no commit by any connection (``PRAGMA data_version``) and no write
        by this thread's connection (``total_changes``) since.  Inside a transaction nothing is kept (a rollback
        would undo what the frame shows).  ``key`` must name everything besides the store ``compute`` reads
        (arguments, configuration)."""
        con = self.con
        if con.in_transaction:
            return compute()
        kept = getattr(self._local, "memo", None)
        if kept is None or kept[0] is not con:
            kept = self._local.memo = (con, {})
        version = (con.execute("PRAGMA data_version").fetchone()[0], con.total_changes)
        table: dict[Any, tuple[Any, pd.DataFrame]] = kept[1]
        hit = table.pop(key, None)
        if hit is None or hit[0] != version:
            hit = (version, compute())
        if getattr(self._local, "handing_over", False):
            return hit[1]  # the frame itself, no longer kept (see handing_over)
        table[key] = hit  # most recently used last
        while len(table) > self._MEMO_SIZE:
            table.pop(next(iter(table)))
        return hit[1].copy()

    @contextmanager
    def handing_over(self) -> Iterator[None]:
        """Within this block, :meth:`memo` hands a frame it keeps to the caller instead of a copy, and keeps it
        no more (nor one it computes): for a caller that takes the tables for good (the report's shared data),
        so that they are not held twice while it is built."""
        self._local.handing_over = True
        try:
            yield
        finally:
            self._local.handing_over = False

    def forget_frames(self) -> None:
        """Drop the frames :meth:`memo` keeps for this thread (for a caller that has taken what it needs of them
        and will not ask again: the report's client, once its shared data is built)."""
        self._local.memo = None

    # -- schema ----------------------------------------------------------------------------------
    def schema_version(self) -> int:
        row = self.con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
        if row is None:
            return 0
        v = self.con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(v[0]) if v else 0

    def _migrate(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: store schema {version} is newer than this qualkit "
                             f"({SCHEMA_VERSION})", hint="upgrade qualkit (pip install -U qualkit)")
        if version == SCHEMA_VERSION:
            return
        if version > 0:
            backup = self.path.with_name(f"{self.path.name}.v{version}.bak")
            self.con.execute("PRAGMA wal_checkpoint(FULL)")
            shutil.copy2(self.path, backup)
        # a migration may rebuild a table (SQLite's recipe): foreign keys are off meanwhile, so dropping the
        # old table cascades nowhere, and checked before the commit
        self.con.execute("PRAGMA foreign_keys=OFF")
        try:
            with self.transaction() as con:
                # another process may have created or migrated the schema since we looked (first use of a new
                # project by two processes): decide again under the write lock
                version = self.schema_version()
                if version >= SCHEMA_VERSION:
                    return
                if version == 0:
                    for stmt in _split_sql(_SCHEMA_V1):
                        con.execute(stmt)
                    version = 1
                for v in range(version + 1, SCHEMA_VERSION + 1):
                    for stmt in _split_sql(_MIGRATIONS[v]):
                        con.execute(stmt)
                bad = con.execute("PRAGMA foreign_key_check").fetchall()
                if bad:
                    raise StoreError(f"{self.path}: the store's references are broken ({len(bad)} row(s), "
                                     f"first in table {bad[0][0]})",
                                     hint=f"restore the backup {self.path.name}.v{version}.bak and report this")
                con.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
                            (str(SCHEMA_VERSION),))
        finally:
            self.con.execute("PRAGMA foreign_keys=ON")

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.con.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as con:
            con.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # -- codes -----------------------------------------------------------------------------------
    def code_ids(self) -> dict[str, int]:
        return {r["name"]: r["id"] for r in self.query("SELECT id, name FROM codes")}

    def code_id(self, name: str) -> int:
        row = self.con.execute("SELECT id FROM codes WHERE name=?", (name,)).fetchone()
        if row is None:
            raise CodingError(f"unknown code {name!r}",
                              hint="the code must be in the project's codebook; run `qualkit ingest` "
                                   "after editing the codebook")
        return int(row[0])

    def ensure_coder(self, coder: str, con: sqlite3.Connection | None = None) -> None:
        if not coder or not coder.strip():
            raise CodingError("no coder given", hint="set your coder name, e.g. qualkit.set_coder('ab')")
        (con or self.con).execute("INSERT OR IGNORE INTO coders(id, name, created_at) VALUES (?, ?, ?)",
                                  (coder, coder, now()))

    # -- documents -------------------------------------------------------------------------------
    def document_text(self, document_id: str) -> str:
        row = self.con.execute("SELECT text FROM documents WHERE id=?", (document_id,)).fetchone()
        if row is None:
            raise CodingError(f"unknown document {document_id!r}",
                              hint="document ids are the interview file names (I07) and survey answers (S17-F1); "
                                   "`qualkit status` counts them")
        return str(row[0])

    def documents(self) -> pd.DataFrame:
        """Documents: ``id, case_id, kind, question, source_file, language, n_chars``."""
        return self.frame("SELECT id, case_id, kind, question, source_file, language, "
                          "length(text) AS n_chars FROM documents ORDER BY id")

    def units(self, document_id: str | None = None) -> pd.DataFrame:
        """Units: ``id, document_id, idx, start, end, speaker, role, time_start, time_end``."""
        sql = 'SELECT id, document_id, idx, start, "end", speaker, role, time_start, time_end FROM units'
        if document_id is None:
            return self.frame(sql + " ORDER BY document_id, idx")
        return self.frame(sql + " WHERE document_id=? ORDER BY idx", (document_id,))

    def case_variables(self) -> pd.DataFrame:
        """Wide table: one row per case, one column per variable (``case_id`` first)."""
        return self.memo(("case_variables",), self._case_variables)

    def _case_variables(self) -> pd.DataFrame:
        long = self.frame("SELECT case_id, name, value FROM variables")
        cases = self.frame("SELECT id AS case_id, kind AS case_kind FROM cases")
        if long.empty:
            return cases
        wide = long.pivot(index="case_id", columns="name", values="value").reset_index()
        wide.columns.name = None
        return cases.merge(wide, on="case_id", how="left")

    # -- codings ---------------------------------------------------------------------------------
    def _log(self, con: sqlite3.Connection, coder: str, action: str, coding_id: int | None,
             payload: dict[str, Any]) -> None:
        self._log_many(con, [(coder, action, coding_id, payload)])

    def _log_many(self, con: sqlite3.Connection, entries: list[tuple[str, str, int | None, dict[str, Any]]]) -> None:
        """Append log rows (``coder, action, coding_id, payload``) with one time stamp, in the caller's
        transaction."""
        for _, action, _, _ in entries:
            if action not in ACTIONS:
                raise ValueError(f"log action must be one of {ACTIONS}, got {action!r}")
        t = now()
        con.executemany("INSERT INTO coding_log(at, coder, action, coding_id, payload) VALUES (?,?,?,?,?)",
                        [(t, coder, action, cid, json.dumps(payload, ensure_ascii=False))
                         for coder, action, cid, payload in entries])

    def add_coding(self, document_id: str, start: int, end: int, code: str, *, coder: str,
                   origin: str = "manual", status: str | None = None, memo: str = "",
                   score: float | None = None, explanation: str | None = None,
                   source_file: str | None = None, con: sqlite3.Connection | None = None) -> int:
        """Add a coding and return its id.  Offsets are checked against the document text."""
        with self.transaction() as c:
            c = con or c
            text = self.document_text(document_id)
            if start >= end:
                raise CodingError(f"a coding needs start < end, got {start}..{end}",
                                  hint="offsets count characters of the stored text; `qualkit show` prints it")
            if not (start >= 0 and end <= len(text)):
                raise CodingError(f"offsets {start}..{end} are outside document {document_id!r} "
                                  f"(length {len(text)})", hint="select text inside the document")
            inside = c.execute('SELECT 1 FROM units WHERE document_id=? AND start < ? AND "end" > ? LIMIT 1',
                               (document_id, end, start)).fetchone()
            has_units = c.execute("SELECT 1 FROM units WHERE document_id=? LIMIT 1", (document_id,)).fetchone()
            if has_units and not inside:
                raise CodingError(f"offsets {start}..{end} of {document_id!r} hold no spoken text "
                                  f"({text[start:end]!r} is a speaker label or the space between turns)",
                                  hint="`qualkit show DOC --units` lists where each turn's text starts and ends")
            return self.add_codings([{"document": document_id, "start": start, "end": end, "code": code,
                                      "coder": coder, "origin": origin, "status": status, "memo": memo,
                                      "score": score, "explanation": explanation, "source_file": source_file}],
                                    action="add", con=c)[0]

    def add_codings(self, rows: Iterable[Mapping[str, Any]], *, action: str, by: str | None = None,
                    con: sqlite3.Connection | None = None) -> list[int]:
        """Add many codings in one transaction, each logged with ``action`` (one of the creating
        :data:`ACTIONS`); the log rows are written in bulk in the same transaction.

        A row holds ``document, start, end, code, coder`` and optionally ``origin`` (default ``manual``),
        ``status``, ``memo``, ``score``, ``explanation``, ``source_file``, ``anchor``.  Offsets are checked
        against the stored texts.  ``by`` is who made the change (default: each coding's coder).
        Returns the new ids in the order of ``rows``.
        """
        if action not in CREATE_ACTIONS:
            raise ValueError(f"a creating action must be one of {CREATE_ACTIONS}")
        with self.transaction() as c:
            c = con or c
            code_ids = self.code_ids() if con is None else {r[1]: r[0] for r in c.execute("SELECT id, name FROM codes")}
            t = now()
            coders: set[str] = set()
            ids: list[int] = []
            # in parts of _ADD_PART rows, all in this one transaction: the rows, their log entries and the texts
            # they are checked against are held for one part at a time (at ×100 the reference codings are 587,000
            # rows); an error in any part still undoes every part
            it = iter(rows)
            while part := list(itertools.islice(it, _ADD_PART)):
                ids += self._add_part(c, part, code_ids, coders, action=action, by=by, t=t)
            return ids

    def _add_part(self, c: sqlite3.Connection, rows: list[Mapping[str, Any]], code_ids: dict[str, int],
                  coders: set[str], *, action: str, by: str | None, t: str) -> list[int]:
        texts: dict[str, str] = {}
        values: list[tuple[Any, ...]] = []
        logged: list[tuple[str, dict[str, Any]]] = []  # who, and the coding's fields, for the log
        for r in rows:
            doc, s, e, code, coder = r["document"], int(r["start"]), int(r["end"]), r["code"], r["coder"]
            origin = r.get("origin") or "manual"
            if origin not in ORIGINS:
                raise ValueError(f"origin must be one of {ORIGINS}")
            status = r.get("status") or ("pending" if origin == "auto" else "active")
            if status not in STATUSES:
                raise ValueError(f"status must be one of {STATUSES}")
            if doc not in texts:
                row = c.execute("SELECT text FROM documents WHERE id=?", (doc,)).fetchone()
                if row is None:
                    raise CodingError(f"unknown document {doc!r}",
                                      hint="`qualkit status` counts the documents; ingest first")
                texts[doc] = str(row[0])
            text = texts[doc]
            if not 0 <= s < e <= len(text):
                raise CodingError(f"offsets {s}..{e} are outside document {doc!r} (length {len(text)}) "
                                  "or empty", hint="offsets count characters of the stored text")
            if code not in code_ids:
                self.code_id(code)  # raises the unknown-code error
            if coder not in coders:
                self.ensure_coder(coder, c)
                coders.add(coder)
            memo = r.get("memo") or ""
            values.append((doc, s, e, code_ids[code], coder, origin, status, text[s:e], memo, r.get("score"),
                           r.get("explanation"), r.get("anchor") or "ok", r.get("source_file"), t, t))
            logged.append((by or coder, {
                "document": doc, "start": s, "end": e, "code": code, "coder": coder, "origin": origin,
                "status": status, "memo": memo, "source_file": r.get("source_file")}))
        # one statement for the part's rows: in this transaction (the only writer) their ids are the next ones,
        # ascending in the order of the rows (AUTOINCREMENT never reuses an id)
        last = c.execute("SELECT coalesce(max(id), 0) FROM codings").fetchone()[0]
        c.executemany(
            'INSERT INTO codings(document_id, start, "end", code_id, coder, origin, status, quote, memo,'
            ' score, explanation, anchor, source_file, created_at, updated_at)'
            ' VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)', values)
        ids = [int(r[0]) for r in c.execute("SELECT id FROM codings WHERE id > ? ORDER BY id", (last,))]
        if len(ids) != len(values):  # pragma: no cover - would mean another writer inside our transaction
            raise StoreError("the new codings' ids could not be read back; nothing was written",
                             hint="close other programs that write to the store and try again")
        self._log_many(c, [(who, action, cid, fields) for (who, fields), cid in zip(logged, ids, strict=True)])
        return ids

    def move_codings(self, moves: Iterable[tuple[int, int, int, str, str]], *, by: str,
                     con: sqlite3.Connection | None = None) -> None:
        """Re-anchor codings after their document's text changed: ``(id, start, end, quote, anchor)`` each,
        logged as ``reanchor`` in bulk."""
        with self.transaction() as c:
            c = con or c
            t = now()
            entries: list[tuple[str, str, int | None, dict[str, Any]]] = []
            for cid, s, e, quote, anchor in moves:
                old = c.execute('SELECT start, "end", anchor FROM codings WHERE id=?', (cid,)).fetchone()
                c.execute('UPDATE codings SET start=?, "end"=?, quote=?, anchor=?, updated_at=? WHERE id=?',
                          (s, e, quote, anchor, t, cid))
                entries.append((by, "reanchor", cid, {"span": [[old[0], old[1]], [s, e]],
                                                      "anchor": [old[2], anchor]}))
            self._log_many(c, entries)

    def delete_codings(self, ids: Iterable[int], *, by: str, action: str = "delete",
                       con: sqlite3.Connection | None = None) -> None:
        """Delete codings, each logged with its full row (``delete`` by a person, ``unload`` when a
        reference coding file no longer holds it)."""
        if action not in REMOVE_ACTIONS:
            raise ValueError(f"a removing action must be one of {REMOVE_ACTIONS}")
        with self.transaction() as c:
            c = con or c
            entries: list[tuple[str, str, int | None, dict[str, Any]]] = []
            for cid in ids:
                row = c.execute('SELECT c.*, k.name AS code FROM codings c JOIN codes k ON k.id=c.code_id '
                                "WHERE c.id=?", (cid,)).fetchone()
                if row is None:
                    raise CodingError(f"no coding with id {cid}", hint="it was deleted meanwhile; refresh")
                c.execute("DELETE FROM codings WHERE id=?", (cid,))
                entries.append((by, action, cid, dict(row)))
            self._log_many(c, entries)

    def coding(self, coding_id: int) -> sqlite3.Row:
        row = self.con.execute(
            'SELECT c.*, k.name AS code FROM codings c JOIN codes k ON k.id=c.code_id WHERE c.id=?',
            (coding_id,)).fetchone()
        if row is None:
            raise CodingError(f"no coding with id {coding_id}",
                              hint="`qualkit review` lists suggestion ids; in Python, project.store.codings()")
        return row

    def update_coding(self, coding_id: int, *, coder: str, code: str | None = None,
                      memo: str | None = None, start: int | None = None, end: int | None = None,
                      con: sqlite3.Connection | None = None) -> None:
        """Change a coding's code, memo or span; the change is logged with ``coder``."""
        with self.transaction() as c:
            c = con or c
            row = self.coding(coding_id)
            self.ensure_coder(coder, c)
            changes: dict[str, Any] = {}
            if code is not None and code != row["code"]:
                c.execute("UPDATE codings SET code_id=? WHERE id=?", (self.code_id(code), coding_id))
                changes["code"] = [row["code"], code]
            if memo is not None and memo != row["memo"]:
                c.execute("UPDATE codings SET memo=? WHERE id=?", (memo, coding_id))
                changes["memo"] = [row["memo"], memo]
            if start is not None or end is not None:
                s = row["start"] if start is None else start
                e = row["end"] if end is None else end
                text = self.document_text(row["document_id"])
                if not (0 <= s < e <= len(text)):
                    raise CodingError(f"offsets {s}..{e} are outside the document")
                c.execute('UPDATE codings SET start=?, "end"=?, quote=?, anchor=\'ok\' WHERE id=?',
                          (s, e, text[s:e], coding_id))
                changes["span"] = [[row["start"], row["end"]], [s, e]]
                if row["anchor"] != "ok":
                    changes["anchor"] = [row["anchor"], "ok"]
            if changes:
                c.execute("UPDATE codings SET updated_at=? WHERE id=?", (now(), coding_id))
                self._log(c, coder, "update", coding_id, changes)

    def delete_coding(self, coding_id: int, *, coder: str) -> None:
        self.coding(coding_id)  # the unknown-id error
        with self.transaction() as c:
            self.ensure_coder(coder, c)
            self.delete_codings([coding_id], by=coder, con=c)

    def decide(self, coding_id: int, *, accept: bool, coder: str, force: bool = False) -> None:
        """Accept or reject a pending auto suggestion; records who decided and when.

        A suggestion that was already decided is only decided again with ``force`` (the log keeps both)."""
        with self.transaction() as c:
            row = self.coding(coding_id)
            if row["origin"] != "auto":
                raise CodingError(f"coding {coding_id} is not an auto suggestion (origin {row['origin']})",
                                  hint="only suggestions from `qualkit autocode` can be accepted or rejected")
            if row["status"] != "pending" and not force:
                raise CodingError(f"suggestion {coding_id} was already {row['status']} by {row['decided_by']} "
                                  f"at {row['decided_at']}",
                                  hint="use --force (review) or force=True to change the decision")
            self.ensure_coder(coder, c)
            status = "accepted" if accept else "rejected"
            c.execute("UPDATE codings SET status=?, decided_by=?, decided_at=?, updated_at=? WHERE id=?",
                      (status, coder, now(), now(), coding_id))
            self._log(c, coder, "accept" if accept else "reject", coding_id,
                      {"status": [row["status"], status]})

    # -- undo and optimistic checks (the coding view) --------------------------------------------
    def last_changed_by(self, coding_id: int) -> str:
        """Who made the last logged change to a coding ("" if the log has none)."""
        row = self.con.execute("SELECT coder FROM coding_log WHERE coding_id=? ORDER BY id DESC LIMIT 1",
                               (coding_id,)).fetchone()
        return str(row[0]) if row else ""

    def update_coding_if(self, coding_id: int, *, coder: str, expect: Mapping[str, Any], code: str | None = None,
                         memo: str | None = None) -> None:
        """Compare-and-set: change code or memo only if the coding still holds the values in ``expect``
        (``{"code": ..., "memo": ...}``, as the view showed them); otherwise raise
        :class:`CodingConflictError` and change nothing."""
        with self.transaction():
            row = self.con.execute(
                "SELECT c.*, k.name AS code FROM codings c JOIN codes k ON k.id=c.code_id WHERE c.id=?",
                (coding_id,)).fetchone()
            if row is None:
                raise CodingConflictError(coding_id, "deleted", by=self.last_changed_by(coding_id))
            for key, value in expect.items():
                if key not in ("code", "memo", "status"):
                    raise ValueError(f"cannot compare {key!r}")
                if row[key] != value:
                    raise CodingConflictError(coding_id, key, theirs=str(row[key]), by=self.last_changed_by(coding_id))
            self.update_coding(coding_id, coder=coder, code=code, memo=memo)

    def restore_coding(self, row: Mapping[str, Any], *, coder: str) -> int:
        """Bring back a deleted coding (a row as :meth:`coding` returned it, or the payload of its ``delete``
        log entry) with its id if that id is free; returns the id.  Logged as ``restore`` with ``coder``."""
        with self.transaction() as c:
            text = self.document_text(str(row["document_id"]))
            s, e = int(row["start"]), int(row["end"])
            if text[s:e] != row["quote"]:
                raise CodingError(f"coding {row['id']} cannot be restored: the text of {row['document_id']!r} "
                                  "changed at its place", hint="code the passage again")
            code_name = row.get("code") or c.execute("SELECT name FROM codes WHERE id=?",
                                                     (row["code_id"],)).fetchone()[0]
            code_id = self.code_id(str(code_name))
            self.ensure_coder(coder, c)
            self.ensure_coder(str(row["coder"]), c)
            taken = c.execute("SELECT 1 FROM codings WHERE id=?", (row["id"],)).fetchone()
            cols = ["document_id", "start", "end", "code_id", "coder", "origin", "status", "quote", "memo", "score",
                    "explanation", "anchor", "source_file", "decided_by", "decided_at", "created_at", "updated_at"]
            values = {**{k: row.get(k) for k in cols}, "code_id": code_id, "updated_at": now()}
            values["memo"] = values["memo"] or ""
            values["anchor"] = values["anchor"] or "ok"
            if not taken:
                cols, values = ["id", *cols], {"id": int(row["id"]), **values}
            cur = c.execute(f"INSERT INTO codings({', '.join(chr(34) + k + chr(34) for k in cols)}) "
                            f"VALUES ({', '.join('?' for _ in cols)})", [values[k] for k in cols])
            cid = int(cur.lastrowid or 0)
            # a creating entry: replay() rebuilds the coding from it
            self._log(c, coder, "restore", cid, {
                "from": int(row["id"]), "document": values["document_id"], "start": s, "end": e, "code": code_name,
                "coder": values["coder"], "origin": values["origin"], "status": values["status"],
                "memo": values["memo"]})
            return cid

    def reopen_suggestion(self, coding_id: int, *, coder: str) -> None:
        """Undo a decision: an accepted or rejected suggestion becomes pending again (logged)."""
        with self.transaction() as c:
            row = self.coding(coding_id)
            if row["origin"] != "auto" or row["status"] == "pending":
                raise CodingError(f"coding {coding_id} is not a decided suggestion")
            self.ensure_coder(coder, c)
            c.execute("UPDATE codings SET status='pending', decided_by=NULL, decided_at=NULL, updated_at=? "
                      "WHERE id=?", (now(), coding_id))
            self._log(c, coder, "reopen", coding_id, {"status": [row["status"], "pending"]})

    def codings(self, *, document_id: str | None = None, include_rejected: bool = False) -> pd.DataFrame:
        """Codings with code names: ``id, document_id, start, end, code, coder, origin, status, quote,
        memo, score, explanation, anchor, created_at, updated_at, decided_by``."""
        where = [] if include_rejected else ["c.status != 'rejected'"]
        params: list[Any] = []
        if document_id is not None:
            where.append("c.document_id = ?")
            params.append(document_id)
        sql = ('SELECT c.id, c.document_id, c.start, c."end", k.name AS code, c.coder, c.origin, c.status,'
               ' c.quote, c.memo, c.score, c.explanation, c.anchor, c.created_at, c.updated_at,'
               ' c.decided_by FROM codings c JOIN codes k ON k.id = c.code_id')
        if where:
            sql += " WHERE " + " AND ".join(where)
        return self.frame(sql + " ORDER BY c.document_id, c.start, c.id", tuple(params))

    # -- quote release -----------------------------------------------------------------------------
    def decide_quote(self, quote_key: str, decision: str, *, coder: str, document_id: str = "", start: int = 0,
                     end: int = 0, note: str = "") -> None:
        """Record a release decision for a quote (``approved``, ``excluded``, or ``pending`` to withdraw one);
        logged to ``quote_log``."""
        if decision not in (*QUOTE_DECISIONS, "pending"):
            raise CodingError(f"unknown quote decision {decision!r}",
                              hint=f"use one of: {', '.join((*QUOTE_DECISIONS, 'pending'))}")
        with self.transaction() as con:
            self.ensure_coder(coder, con)
            if decision == "pending":
                con.execute("DELETE FROM quote_decisions WHERE quote_key=?", (quote_key,))
            else:
                con.execute('INSERT OR REPLACE INTO quote_decisions(quote_key, document_id, start, "end", decision, '
                            "coder, note, decided_at) VALUES (?,?,?,?,?,?,?,?)",
                            (quote_key, document_id, start, end, decision, coder, note, now()))
            con.execute("INSERT INTO quote_log(at, coder, quote_key, decision, note) VALUES (?,?,?,?,?)",
                        (now(), coder, quote_key, decision, note))

    def quote_decisions(self) -> dict[str, str]:
        """``{quote_key: decision}`` for every decided quote."""
        return {r[0]: r[1] for r in self.query("SELECT quote_key, decision FROM quote_decisions")}

    def quote_log(self) -> pd.DataFrame:
        """The append-only log of quote decisions: ``id, at, coder, quote_key, decision, note``."""
        return self.frame("SELECT * FROM quote_log ORDER BY id")

    def log(self, coding_id: int | None = None) -> pd.DataFrame:
        """The append-only coding log: ``id, at, coder, action, coding_id, payload`` (JSON text); with
        ``coding_id`` the history of one coding."""
        if coding_id is None:
            return self.frame("SELECT * FROM coding_log ORDER BY id")
        return self.frame("SELECT * FROM coding_log WHERE coding_id=? ORDER BY id", (coding_id,))

    def replay(self) -> pd.DataFrame:
        """The codings as the log says they are: every entry applied in order.  Columns ``id, document_id,
        start, end, code, coder, origin, status, memo`` (sorted by id); equal to the codings table when the
        log is complete (a test checks this after ingest, import, merge and adjudication)."""
        state: dict[int, dict[str, Any]] = {}
        for r in self.con.execute("SELECT action, coding_id, payload, coder FROM coding_log ORDER BY id"):
            action, cid, p = r[0], int(r[1]), json.loads(r[2])
            if action in CREATE_ACTIONS:  # entries from before schema 3 name the coder only in the row
                state[cid] = {"id": cid, "document_id": p["document"], "start": p["start"], "end": p["end"],
                              "code": p["code"], "coder": p.get("coder", r[3]), "origin": p["origin"],
                              "status": p["status"], "memo": p.get("memo") or ""}
            elif action in REMOVE_ACTIONS:
                state.pop(cid, None)
            elif cid in state:
                row = state[cid]
                for key in ("code", "memo", "status"):
                    if key in p:
                        row[key] = p[key][1]
                if "to" in p:  # accept/reject entries written before schema 3
                    row["status"] = p["to"]
                if "span" in p:
                    row["start"], row["end"] = p["span"][1]
        cols = ["id", "document_id", "start", "end", "code", "coder", "origin", "status", "memo"]
        return pd.DataFrame([state[k] for k in sorted(state)], columns=cols)


def _is_locked(e: sqlite3.OperationalError) -> bool:
    text = str(e).lower()
    return "locked" in text or "busy" in text


def _holders(path: Path) -> list[tuple[int, str]]:
    """(pid, command line) of other processes that have the store (or its journal) open.  Linux only (reads
    ``/proc``); elsewhere, and for processes of other users, the list is empty."""
    try:
        targets = {str(path.resolve()) + s for s in ("", "-wal", "-shm", "-journal")}
    except OSError:
        return []
    out: list[tuple[int, str]] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return out
    for d in proc.iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            if any(os.readlink(fd) in targets for fd in (d / "fd").iterdir()):
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace").strip()
                out.append((int(d.name), cmd[:120]))
        except OSError:
            continue
    return sorted(out)


def _describe(holders: list[tuple[int, str]]) -> str:
    return ", ".join(f"process {pid} ({cmd or '?'})" for pid, cmd in holders)


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


_FRAME_ROWS = 10_000  # rows read from SQLite at a time by Store.frame


def _shared_column(column: tuple[Any, ...], shared: dict[str, str]) -> np.ndarray:
    """One column of a part of a query's rows as an array of objects of its own, each string the one ``shared``
    already holds for its value (else it becomes that one).

    :meth:`Store.frame` reads a query a part at a time, so the Python objects SQLite makes for every cell of a
    part are freed before the next part is read and the next part reuses their memory.  Reading every row first
    left each kept string (a document or case id) amid the freed objects of its rows: at ×100 the labels' few
    MB of strings kept about 330 MB of the allocator's arenas from being returned.  And SQLite gives every cell
    its own string, so a code name, a coder or a case id was otherwise held once per row."""
    values = np.empty(len(column), dtype=object)
    values[:] = column
    if len(values) and pd.api.types.infer_dtype(values, skipna=True) == "string":
        codes, uniques = pd.factorize(values)
        own = np.asarray([shared.setdefault(u, u) for u in uniques.tolist()], dtype=object)
        kept = own[codes]
        missing = codes < 0
        kept[missing] = values[missing]
        return kept
    return values
