"""The project store: one SQLite file per project.

Discipline (see ARCHITECTURE.md): ``PRAGMA foreign_keys=ON`` on every connection, WAL journal, a
schema version with forward migrations (the file is backed up before migrating), every write inside
one transaction (:meth:`Store.transaction`), and an append-only ``coding_log`` of who changed what.

Offsets (``start``/``end``) are Unicode code points into the NFC text of the document, end exclusive.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ._files import private_file
from .errors import CodingError, StoreError

__all__ = ["ORIGINS", "STATUSES", "Store"]

log = logging.getLogger(__name__)
ORIGINS = ("manual", "auto", "imported")
STATUSES = ("active", "pending", "accepted", "rejected")
SCHEMA_VERSION = 2

_SCHEMA_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (
    path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, kind TEXT NOT NULL, ingested_at TEXT NOT NULL);
CREATE TABLE cases (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('interview', 'respondent', 'other')));
CREATE TABLE variables (
    case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    name TEXT NOT NULL, value TEXT, PRIMARY KEY (case_id, name));
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    case_id TEXT REFERENCES cases(id) ON DELETE SET NULL,
    kind TEXT NOT NULL CHECK (kind IN ('interview', 'survey', 'other')),
    question TEXT,
    text TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    source_file TEXT,
    encoding TEXT,
    language TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE units (
    id INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    speaker TEXT, role TEXT, time_start INTEGER, time_end INTEGER,
    UNIQUE (document_id, idx), CHECK (start <= "end"));
CREATE TABLE missing_answers (
    case_id TEXT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    question TEXT NOT NULL, raw TEXT NOT NULL, PRIMARY KEY (case_id, question));
CREATE TABLE coders (id TEXT PRIMARY KEY, name TEXT, created_at TEXT NOT NULL);
CREATE TABLE codes (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
    parent_id INTEGER REFERENCES codes(id) ON DELETE SET NULL,
    dimension TEXT NOT NULL, colour TEXT NOT NULL, shortcut TEXT, definition TEXT,
    position INTEGER NOT NULL DEFAULT 0);
CREATE TABLE codings (
    id INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    code_id INTEGER NOT NULL REFERENCES codes(id),
    coder TEXT NOT NULL REFERENCES coders(id),
    origin TEXT NOT NULL CHECK (origin IN ('manual', 'auto', 'imported')),
    status TEXT NOT NULL CHECK (status IN ('active', 'pending', 'accepted', 'rejected')),
    quote TEXT NOT NULL,
    memo TEXT NOT NULL DEFAULT '',
    score REAL, explanation TEXT,
    anchor TEXT NOT NULL DEFAULT 'ok' CHECK (anchor IN ('ok', 'moved', 'fuzzy', 'lost')),
    source_file TEXT,
    decided_by TEXT, decided_at TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    CHECK (start < "end"));
CREATE INDEX codings_doc ON codings(document_id, start);
CREATE INDEX codings_code ON codings(code_id);
CREATE TABLE memos (
    id INTEGER PRIMARY KEY,
    document_id TEXT REFERENCES documents(id) ON DELETE CASCADE,
    code_id INTEGER REFERENCES codes(id) ON DELETE CASCADE,
    coding_id INTEGER REFERENCES codings(id) ON DELETE CASCADE,
    author TEXT NOT NULL, title TEXT NOT NULL DEFAULT '', text TEXT NOT NULL,
    for_report INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE coding_log (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, coder TEXT NOT NULL, action TEXT NOT NULL,
    coding_id INTEGER, payload TEXT NOT NULL);
"""

# Forward migrations: version -> SQL that brings version-1 to version.
_MIGRATIONS: dict[int, str] = {
    2: "CREATE INDEX units_doc ON units(document_id, start);"
       "CREATE INDEX codings_status ON codings(origin, status);",
}


def now() -> str:
    """The current UTC time as ISO 8601 text (seconds)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


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
            # switching a new file to WAL needs a moment of exclusive access: a second process opening the same
            # new project waits here (busy timeout) and is told who holds the lock, never "not a store"
            self._locked_call(con, lambda: con.execute("PRAGMA journal_mode=WAL"))
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

    def frame(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> pd.DataFrame:
        cur = self.con.execute(sql, params)
        cols = [d[0] for d in cur.description]
        return pd.DataFrame.from_records(cur.fetchall(), columns=cols)

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
            con.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
                        (str(SCHEMA_VERSION),))

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
        con.execute("INSERT INTO coding_log(at, coder, action, coding_id, payload) VALUES (?,?,?,?,?)",
                    (now(), coder, action, coding_id, json.dumps(payload, ensure_ascii=False)))

    def add_coding(self, document_id: str, start: int, end: int, code: str, *, coder: str,
                   origin: str = "manual", status: str | None = None, memo: str = "",
                   score: float | None = None, explanation: str | None = None,
                   source_file: str | None = None, con: sqlite3.Connection | None = None) -> int:
        """Add a coding and return its id.  Offsets are checked against the document text."""
        if origin not in ORIGINS:
            raise ValueError(f"origin must be one of {ORIGINS}")
        status = status or ("pending" if origin == "auto" else "active")
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
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
            code_id = self.code_id(code)
            self.ensure_coder(coder, c)
            t = now()
            cur = c.execute(
                'INSERT INTO codings(document_id, start, "end", code_id, coder, origin, status, quote, memo,'
                ' score, explanation, source_file, created_at, updated_at)'
                ' VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
                (document_id, start, end, code_id, coder, origin, status, text[start:end], memo, score,
                 explanation, source_file, t, t))
            cid = int(cur.lastrowid or 0)
            self._log(c, coder, "add", cid, {"document": document_id, "start": start, "end": end,
                                             "code": code, "origin": origin, "status": status})
            return cid

    def coding(self, coding_id: int) -> sqlite3.Row:
        row = self.con.execute(
            'SELECT c.*, k.name AS code FROM codings c JOIN codes k ON k.id=c.code_id WHERE c.id=?',
            (coding_id,)).fetchone()
        if row is None:
            raise CodingError(f"no coding with id {coding_id}",
                              hint="`qualkit review` lists suggestion ids; in Python, project.store.codings()")
        return row

    def update_coding(self, coding_id: int, *, coder: str, code: str | None = None,
                      memo: str | None = None, start: int | None = None, end: int | None = None) -> None:
        """Change a coding's code, memo or span; the change is logged with ``coder``."""
        with self.transaction() as c:
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
            if changes:
                c.execute("UPDATE codings SET updated_at=? WHERE id=?", (now(), coding_id))
                self._log(c, coder, "update", coding_id, changes)

    def delete_coding(self, coding_id: int, *, coder: str) -> None:
        with self.transaction() as c:
            row = self.coding(coding_id)
            self.ensure_coder(coder, c)
            c.execute("DELETE FROM codings WHERE id=?", (coding_id,))
            self._log(c, coder, "delete", coding_id, dict(row))

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
                      {"from": row["status"], "to": status})

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

    def log(self) -> pd.DataFrame:
        """The append-only coding log: ``id, at, coder, action, coding_id, payload``."""
        return self.frame("SELECT * FROM coding_log ORDER BY id")


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
