"""The store's schema as SQL text: version 1 and the table rebuild of version 3 (see :mod:`qualkit.store`,
whose ``_MIGRATIONS`` lists every step), and the closed set of coding-log actions."""

from __future__ import annotations

__all__ = ["ACTIONS", "CHANGE_ACTIONS", "CREATE_ACTIONS", "REMOVE_ACTIONS"]

# The closed set of actions in ``coding_log``.  Each one creates, changes or removes a coding, and its
# payload holds enough to replay it (:meth:`Store.replay`): a creation holds the full row, a change the old
# and new values, a removal the full row as it was.
# a person / ingest / REFI-QDA / merge / adjudication / the coding view's undo of a delete
CREATE_ACTIONS = ("add", "ingest", "import", "merge", "consensus", "restore")
CHANGE_ACTIONS = ("update", "reanchor", "accept", "reject", "reopen")  # reopen: undo of a decision
REMOVE_ACTIONS = ("delete", "unload")                                 # a person / a reference file dropped the row
ACTIONS = CREATE_ACTIONS + CHANGE_ACTIONS + REMOVE_ACTIONS

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

_CODING_COLUMNS = ('id, document_id, start, "end", code_id, coder, origin, status, quote, memo, score, explanation, '
                   "anchor, source_file, decided_by, decided_at, created_at, updated_at")

# 3: coding ids are never reused (AUTOINCREMENT, seeded above every id the log ever named); the log's actions
# are a closed set and every coding that predates the log gets its ``add`` entry; documents keep the GUID of
# the REFI-QDA source they came from; blind assignments, adjudications with their consensus links, and the
# rows last read from each reference coding file (so a re-read merges instead of replacing).
_MIGRATION_3 = f"""
CREATE TABLE codings_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO codings_new({_CODING_COLUMNS}) SELECT {_CODING_COLUMNS} FROM codings;
DROP TABLE codings;
ALTER TABLE codings_new RENAME TO codings;
CREATE INDEX codings_doc ON codings(document_id, start);
CREATE INDEX codings_code ON codings(code_id);
CREATE INDEX codings_status ON codings(origin, status);
CREATE TABLE coding_log_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, coder TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ({", ".join(f"'{a}'" for a in ACTIONS)})),
    coding_id INTEGER, payload TEXT NOT NULL);
INSERT INTO coding_log_new(id, at, coder, action, coding_id, payload)
    SELECT id, at, coder, action, coding_id, payload FROM coding_log;
DROP TABLE coding_log;
ALTER TABLE coding_log_new RENAME TO coding_log;
CREATE INDEX coding_log_coding ON coding_log(coding_id);
INSERT INTO coding_log(at, coder, action, coding_id, payload)
    SELECT c.created_at, c.coder, 'add', c.id, json_object(
        'document', c.document_id, 'start', c.start, 'end', c."end", 'code', k.name, 'coder', c.coder,
        'origin', c.origin, 'status', c.status, 'memo', c.memo, 'source_file', c.source_file, 'backfilled', 1)
    FROM codings c JOIN codes k ON k.id = c.code_id
    WHERE NOT EXISTS (SELECT 1 FROM coding_log l WHERE l.coding_id = c.id) ORDER BY c.id;
DELETE FROM sqlite_sequence WHERE name IN ('codings', 'codings_new');
INSERT INTO sqlite_sequence(name, seq) VALUES ('codings', max(
    coalesce((SELECT max(id) FROM codings), 0), coalesce((SELECT max(coding_id) FROM coding_log), 0)));
ALTER TABLE documents ADD COLUMN guid TEXT;
CREATE TABLE blind_assignments (
    coder TEXT NOT NULL REFERENCES coders(id),
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    assigned_by TEXT NOT NULL, assigned_at TEXT NOT NULL, done_at TEXT,
    PRIMARY KEY (coder, document_id));
CREATE TABLE adjudications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('code', 'boundaries', 'missing', 'agreement')),
    decision TEXT NOT NULL CHECK (decision IN ('first', 'second', 'both', 'none', 'custom')),
    coders TEXT NOT NULL, decided_by TEXT NOT NULL, decided_at TEXT NOT NULL, note TEXT NOT NULL DEFAULT '');
CREATE TABLE consensus_links (
    adjudication_id INTEGER NOT NULL REFERENCES adjudications(id) ON DELETE CASCADE,
    coding_id INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('resolves', 'consensus')),
    PRIMARY KEY (adjudication_id, coding_id, role));
CREATE INDEX consensus_links_coding ON consensus_links(coding_id);
CREATE TABLE reference_rows (
    source_file TEXT NOT NULL, document_id TEXT NOT NULL, code TEXT NOT NULL, coder TEXT NOT NULL,
    quote TEXT NOT NULL, memo TEXT NOT NULL DEFAULT '', coding_id INTEGER,
    PRIMARY KEY (source_file, document_id, code, coder, quote));
"""
