from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualkit.corpus import ingest
from qualkit.errors import CodingConflictError, CodingError, StoreError
from qualkit.project import Project
from qualkit.store import SCHEMA_VERSION, Store

from .conftest import run_cli
from .test_references import REF_ROWS, with_reference_file


def test_store_pragmas_and_schema_version(tmp_path: Path) -> None:
    s = Store(tmp_path / "s.sqlite")
    assert s.con.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert s.con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s.schema_version() == SCHEMA_VERSION


def test_store_migrates_forward_with_backup(tmp_path: Path) -> None:
    from qualkit import store as store_mod
    path = tmp_path / "s.sqlite"
    con = sqlite3.connect(path)
    for stmt in store_mod._split_sql(store_mod._SCHEMA_V1):
        con.execute(stmt)
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.commit()
    con.close()
    s = Store(path)
    assert s.schema_version() == SCHEMA_VERSION
    assert (tmp_path / "s.sqlite.v1.bak").exists()
    names = {r[0] for r in s.query("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "units_doc" in names


def test_store_refuses_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    Store(path).set_meta("schema_version", "99")
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_store_offsets_are_code_points(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    text = store.document_text("A1")
    start = text.index("Wohnungssuche")
    end = text.index("😀") + 1
    cid = store.add_coding("A1", start, end, "Wohnraum und Wohnungsmarkt", coder="ab")
    row = store.coding(cid)
    assert row["quote"] == "Wohnungssuche ist schlimm. 😀"
    assert row["end"] - row["start"] == len("Wohnungssuche ist schlimm. 😀")


def test_store_add_update_delete_are_logged(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    cid = store.add_coding("A1", 3, 12, "Bildung und Sprache", coder="ab")
    store.update_coding(cid, coder="cd", code="Frühkindliche Bildung", memo="Kita gemeint")
    row = store.coding(cid)
    assert (row["code"], row["memo"]) == ("Frühkindliche Bildung", "Kita gemeint")
    store.delete_coding(cid, coder="cd")
    with pytest.raises(CodingError):
        store.coding(cid)
    log = store.log()
    assert list(log.action) == ["add", "update", "delete"]
    assert list(log.coder) == ["ab", "cd", "cd"]


def test_store_rejects_bad_offsets_and_codes(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    n = len(store.document_text("A1"))
    with pytest.raises(CodingError, match="outside"):
        store.add_coding("A1", 5, n + 1, "Bildung und Sprache", coder="ab")
    with pytest.raises(CodingError, match="unknown code"):
        store.add_coding("A1", 0, 5, "Gibt es nicht", coder="ab")
    with pytest.raises(CodingError, match="start < end"):
        store.add_coding("A1", 50, 10, "Bildung und Sprache", coder="ab")
    with pytest.raises(CodingError, match="speaker label"):
        store.add_coding("A1", 0, 3, "Bildung und Sprache", coder="ab")  # "I: "
    assert store.codings().empty


def test_store_transaction_rolls_back_everything(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    with pytest.raises(RuntimeError), store.transaction():
        store.add_coding("A1", 0, 5, "Bildung und Sprache", coder="ab")
        store.add_coding("A1", 5, 9, "Bildung und Sprache", coder="ab")
        raise RuntimeError("crash")
    assert store.codings().empty
    assert store.log().empty


def test_store_decide_only_auto(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    manual = store.add_coding("A1", 0, 5, "Bildung und Sprache", coder="ab")
    with pytest.raises(CodingError, match="not an auto suggestion"):
        store.decide(manual, accept=True, coder="ab")
    auto = store.add_coding("A1", 6, 9, "Bildung und Sprache", coder="qualkit-autocode", origin="auto",
                            score=0.8, explanation="Kita")
    assert store.coding(auto)["status"] == "pending"
    store.decide(auto, accept=True, coder="cd")
    row = store.coding(auto)
    assert (row["status"], row["decided_by"]) == ("accepted", "cd")


def test_store_update_coding_if_compares_and_sets(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    cid = store.add_coding("A1", 30, 40, "Bildung und Sprache", coder="anna")
    store.update_coding_if(cid, coder="anna", expect={"memo": ""}, memo="eins")
    with pytest.raises(CodingConflictError) as e:
        store.update_coding_if(cid, coder="bert", expect={"memo": ""}, memo="zwei")
    assert (e.value.field, e.value.theirs, e.value.by) == ("memo", "eins", "anna")
    assert store.coding(cid)["memo"] == "eins" and len(store.log()) == 2  # nothing written, nothing logged
    store.delete_coding(cid, coder="bert")
    with pytest.raises(CodingConflictError) as e:
        store.update_coding_if(cid, coder="anna", expect={"memo": "eins"}, code="Wohnen und Mobilität")
    assert (e.value.field, e.value.by) == ("deleted", "bert")


def test_store_restore_coding_keeps_its_id_and_logs(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    cid = store.add_coding("A1", 30, 40, "Bildung und Sprache", coder="anna", memo="m")
    row = dict(store.coding(cid))
    store.delete_coding(cid, coder="anna")
    assert store.restore_coding(row, coder="bert") == cid
    back = store.coding(cid)
    assert (back["code"], back["coder"], back["memo"], back["quote"]) == ("Bildung und Sprache", "anna", "m", row["quote"])
    assert store.log().iloc[-1][["coder", "action"]].tolist() == ["bert", "restore"]
    _assert_log_replays(store)  # a restore is a creating log entry: the log alone gives the coding back


def test_store_reopen_suggestion(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    sid = store.add_coding("A1", 30, 40, "Bildung und Sprache", coder="qualkit-autocode", origin="auto")
    store.decide(sid, accept=True, coder="anna")
    store.reopen_suggestion(sid, coder="anna")
    assert (store.coding(sid)["status"], store.coding(sid)["decided_by"]) == ("pending", None)
    _assert_log_replays(store)
    with pytest.raises(CodingError):
        store.reopen_suggestion(sid, coder="anna")


# -- the log: every change, enough to replay --------------------------------------------------------
def _assert_log_replays(store: Store) -> None:
    """The codings table equals the log replayed from the start."""
    cols = ["id", "document_id", "start", "end", "code", "coder", "origin", "status", "memo"]
    actual = store.codings(include_rejected=True)[cols].sort_values("id").reset_index(drop=True)
    replayed = store.replay()
    assert len(actual) == len(replayed)
    assert actual.astype(str).values.tolist() == replayed[cols].astype(str).values.tolist()


def test_store_log_complete_after_ingest_and_reanchoring(tiny_project: Project) -> None:
    from qualkit.project import open_project
    with_reference_file(tiny_project, REF_ROWS)
    project = open_project(tiny_project.root)
    report = ingest(project)
    store = project.store
    assert report.codings_loaded == 3 and len(store.codings()) == 3
    log = store.log()
    assert list(log.action) == ["ingest"] * 3 and set(log.coder) == {"A", "B"}
    _assert_log_replays(store)
    # the transcript changes: the codings move, and each move is in the log (the file is not re-read)
    a1 = project.root / "transcripts/interviews/A1.txt"
    a1.write_text(a1.read_text(encoding="utf-8").replace("Gerne. Also", "Gerne, sehr gerne. Also"), encoding="utf-8")
    report = ingest(project)
    assert report.codings_loaded == 0 and report.reanchored.get("moved") == 2
    assert list(store.log().action[3:]) == ["reanchor", "reanchor"]
    assert set(store.log().coder[3:]) == {"qualkit-ingest"}
    _assert_log_replays(store)
    assert all(r.quote == store.document_text(r.document_id)[r.start:r.end] for r in store.codings().itertuples())


def test_store_coding_ids_are_never_reused(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    first = store.add_coding("A1", 3, 12, "Bildung und Sprache", coder="ab")
    store.delete_coding(first, coder="ab")
    second = store.add_coding("A1", 3, 12, "Bildung und Sprache", coder="ab")
    assert second > first
    assert list(store.log(first).action) == ["add", "delete"] and list(store.log(second).action) == ["add"]


def test_store_bulk_writes_log_in_the_same_transaction(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    rows = [{"document": "A1", "start": 3, "end": 12, "code": "Bildung und Sprache", "coder": "ab"},
            {"document": "A1", "start": 3, "end": 999, "code": "Bildung und Sprache", "coder": "ab"}]
    with pytest.raises(CodingError, match="outside"):
        store.add_codings(rows, action="import")
    assert store.codings().empty and store.log().empty
    with pytest.raises(ValueError, match="creating action"):
        store.add_codings(rows[:1], action="delete")
    with pytest.raises(sqlite3.IntegrityError), store.transaction() as con:  # a closed set in the schema too
        con.execute("INSERT INTO coding_log(at, coder, action, coding_id, payload) VALUES ('t','x','tidy',1,'{}')")


def test_store_bulk_writes_in_parts_are_one_transaction(tiny_project: Project,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """add_codings checks and writes its rows a part at a time (bounded memory): the ids still follow the rows'
    order across parts, every coding is logged, and a bad row in the last part undoes the parts before it."""
    import qualkit.store as store_module
    monkeypatch.setattr(store_module, "_ADD_PART", 2)
    ingest(tiny_project)
    store = tiny_project.store
    rows = [{"document": "A1", "start": s, "end": s + 5, "code": "Bildung und Sprache", "coder": "ab"}
            for s in (20, 3, 11, 7, 15)]
    ids = store.add_codings(iter(rows), action="import")  # a generator, as the reference rows come
    assert ids == sorted(ids) and len(set(ids)) == 5
    got = store.codings().set_index("id").loc[ids]
    assert list(got.start) == [20, 3, 11, 7, 15]
    assert sorted(store.log().coding_id.tolist()) == sorted(ids)
    before = len(store.codings())
    bad = [*rows, {"document": "A1", "start": 3, "end": 999, "code": "Bildung und Sprache", "coder": "ab"}]
    with pytest.raises(CodingError, match="outside"):
        store.add_codings(bad, action="import")  # parts of 2: the bad row comes after 3 written parts
    assert len(store.codings()) == before and len(store.log()) == 5


def test_store_migration_3_keeps_codings_and_memos_and_backfills_the_log(tmp_path: Path) -> None:
    from qualkit import store as store_mod
    path = tmp_path / "s.sqlite"
    con = sqlite3.connect(path)
    for stmt in store_mod._split_sql(store_mod._SCHEMA_V1) + store_mod._split_sql(store_mod._MIGRATIONS[2]):
        con.execute(stmt)
    con.executescript("""
        INSERT INTO meta VALUES ('schema_version', '2');
        INSERT INTO coders VALUES ('ab', 'ab', 't');
        INSERT INTO codes(id, name, dimension, colour) VALUES (1, 'K', 'd', '#000000');
        INSERT INTO documents VALUES ('D', NULL, 'other', NULL, 'Hallo Welt', 'x', NULL, NULL, NULL, 't', 't');
        INSERT INTO codings(id, document_id, start, "end", code_id, coder, origin, status, quote, created_at, updated_at)
            VALUES (7, 'D', 0, 5, 1, 'ab', 'imported', 'active', 'Hallo', 't', 't');
        INSERT INTO memos(coding_id, author, text, created_at, updated_at) VALUES (7, 'ab', 'Memo', 't', 't');
        INSERT INTO coding_log(at, coder, action, coding_id, payload) VALUES ('t', 'ab', 'delete', 9, '{}');
    """)
    con.commit()
    con.close()
    s = Store(path)
    assert s.schema_version() == SCHEMA_VERSION and (tmp_path / "s.sqlite.v2.bak").exists()
    assert s.query("SELECT count(*) FROM memos")[0][0] == 1  # rebuilding codings cascaded nowhere
    assert list(s.log(7).action) == ["add"]
    _assert_log_replays(s)
    assert s.add_coding("D", 6, 10, "K", coder="ab") == 10  # above every id the log ever named
    assert s.con.execute("PRAGMA foreign_keys").fetchone()[0] == 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["add", "update", "memo", "delete", "auto", "decide"]),
                          st.integers(0, 40), st.integers(1, 30)), max_size=25))
def test_store_replay_of_the_log_equals_the_codings(tmp_path_factory: pytest.TempPathFactory,
                                                    ops: list[tuple[str, int, int]]) -> None:
    s = Store(tmp_path_factory.mktemp("replay") / "s.sqlite")
    with s.transaction() as con:
        con.execute("INSERT INTO codes(name, dimension, colour) VALUES ('K', 'd', '#000000'), ('L', 'd', '#111111')")
        con.execute("INSERT INTO documents VALUES ('D', NULL, 'other', NULL, ?, 'x', NULL, NULL, NULL, 't', 't', NULL)",
                    ("Ein Text mit fünfzig Zeichen, ungefähr so viele 😀.",))
    for op, a, n in ops:
        ids = list(s.codings(include_rejected=True).id)
        if op in ("add", "auto"):
            s.add_coding("D", a, min(a + n, 50), "K", coder="ab", origin="manual" if op == "add" else "auto")
        elif ids and op == "update":
            s.update_coding(ids[a % len(ids)], coder="cd", code="L", start=a % 10, end=10 + n)
        elif ids and op == "memo":
            s.update_coding(ids[a % len(ids)], coder="cd", memo=f"m{n}")
        elif ids and op == "delete":
            s.delete_coding(ids[a % len(ids)], coder="cd")
        elif op == "decide":
            pending = s.codings()[s.codings().status == "pending"]
            if not pending.empty:
                s.decide(int(pending.id.iloc[0]), accept=n % 2 == 0, coder="cd")
    _assert_log_replays(s)


def test_store_log_cli(tiny_project: Project) -> None:
    import json
    ingest(tiny_project)
    cid = tiny_project.store.add_coding("A1", 3, 12, "Bildung und Sprache", coder="ab")
    tiny_project.store.update_coding(cid, coder="cd", memo="neu")
    code, out, _ = run_cli("log", "--coding", str(cid), "--json", "--project", str(tiny_project.root))
    entries = json.loads(out)
    assert code == 0 and [e["action"] for e in entries] == ["add", "update"]
    assert entries[1]["payload"]["memo"] == ["", "neu"] and entries[1]["coder"] == "cd"
    code, out, _ = run_cli("log", "--project", str(tiny_project.root))
    assert code == 0 and "\tupdate\t" in out and "memo:  → neu" in out
    code, _, err = run_cli("log", "--coding", "999", "--project", str(tiny_project.root))
    assert code == 1 and "no entry for coding 999" in err


def test_store_example_ingest_has_a_log_entry_for_every_coding(example_project: Project) -> None:
    store = example_project.store
    n = store.query("SELECT count(*) FROM codings")[0][0]
    assert n > 5000
    log = store.log()
    assert len(log) >= n and set(log.action) >= {"ingest"}
    _assert_log_replays(store)


def test_store_is_the_only_writer_of_codings() -> None:
    import re
    from pathlib import Path as P
    src = P(__file__).resolve().parents[1] / "src" / "qualkit"
    writes = re.compile(r"(INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+(codings|coding_log)\b", re.I)
    offenders = [p.relative_to(src).as_posix() for p in src.rglob("*.py")
                 if p.name not in ("store.py", "_schema.py") and writes.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_store_locked_waits_with_note_then_names_the_holder(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A store locked longer than the timeout: a visible note while waiting, then a StoreError that names the
    process holding the lock and what to do (not a raw sqlite3.OperationalError)."""
    import subprocess
    import sys
    path = tmp_path / "store.sqlite"
    Store(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time\n"
         f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\nc.execute('BEGIN IMMEDIATE')\n"
         "print('locked', flush=True)\ntime.sleep(60)\n"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        s = Store(path, timeout=1.5, notice_after=0.5)
        with caplog.at_level("WARNING", logger="qualkit"), pytest.raises(StoreError) as exc, \
                s.transaction() as con:
            con.execute("INSERT INTO meta(key, value) VALUES ('x', 'y')")
        assert f"process {holder.pid}" in str(exc.value) and f"kill {holder.pid}" in str(exc.value)
        assert any("waiting up to" in r.getMessage() and str(holder.pid) in r.getMessage() for r in caplog.records)
    finally:
        holder.kill()
        holder.wait()
    with Store(path, timeout=1.5).transaction() as con:  # the lock went with the process
        con.execute("INSERT INTO meta(key, value) VALUES ('x', 'y')")


def test_store_concurrent_first_use_of_a_new_project(tmp_path: Path) -> None:
    """Several processes opening one new store at the same moment: every one gets a valid store (no
    'table meta already exists', no 'this is not a qualkit store')."""
    import subprocess
    import sys
    import time
    for round_ in range(2):
        path = tmp_path / f"r{round_}" / "store.sqlite"
        start = time.time() + 1.5
        code = ("import sys, time\nfrom qualkit.store import Store\n"
                f"time.sleep(max(0, {start} - time.time()))\n"
                f"s = Store({str(path)!r})\nprint(s.schema_version())\n")
        procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(4)]
        results = [p.communicate(timeout=60) for p in procs]
        for p, (out, err) in zip(procs, results, strict=True):
            assert p.returncode == 0, err[-1500:]
            assert out.strip() == str(SCHEMA_VERSION)


def test_store_file_is_private_and_repaired(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import stat
    path = tmp_path / "s" / "store.sqlite"
    s = Store(path)
    with s.transaction() as con:
        con.execute("INSERT INTO meta(key, value) VALUES ('x', 'y')")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for extra in ("-wal", "-shm"):
        p = path.with_name(path.name + extra)
        assert not p.exists() or stat.S_IMODE(p.stat().st_mode) & 0o077 == 0
    s.close()
    path.chmod(0o644)
    with caplog.at_level("WARNING", logger="qualkit"):
        Store(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert any("readable by other users" in r.getMessage() for r in caplog.records)


def test_store_memo_recomputes_after_any_write(tiny_project: Project) -> None:
    """A memoised read is computed once while the store is unchanged, each caller gets its own copy, and a write
    by this connection, a commit by another connection, or a read inside a transaction never sees an old frame;
    a caller that takes the tables for good is handed them instead (``handing_over``)."""
    from qualkit.units import unit_labels, unit_table
    ingest(tiny_project)
    s = tiny_project.store
    calls: list[int] = []

    def compute() -> object:
        calls.append(1)
        return s.frame("SELECT count(*) AS n FROM codings")

    first = s.memo("n", compute)
    first["n"] = -1  # the caller's copy
    assert s.memo("n", compute).n.tolist() == [0] and len(calls) == 1
    doc, u = "A1", s.units("A1")
    u = u[u.role == "respondent"].reset_index(drop=True)
    s.add_coding(doc, int(u.start[0]), int(u.end[0]), "Frühkindliche Bildung", coder="a")
    assert s.memo("n", compute).n.tolist() == [1] and len(calls) == 2
    other = Store(s.path)  # another connection (as another process or kernel) commits
    other.add_coding(doc, int(u.start[0]), int(u.end[0]), "Bedarf/Lücke", coder="b")
    assert s.memo("n", compute).n.tolist() == [2] and len(calls) == 3
    with s.transaction():
        assert s.memo("n", compute).n.tolist() == [2] and len(calls) == 4
    s.memo("n", compute)
    calls.clear()
    s.forget_frames()  # what was kept is computed again
    assert s.memo("n", compute).n.tolist() == [2] and len(calls) == 1
    # the unit tables the report reads per chapter come from the memo, and follow new codings
    labels = unit_labels(tiny_project)
    assert unit_labels(tiny_project).equals(labels) and unit_table(tiny_project).equals(unit_table(tiny_project))
    other.add_coding(doc, int(u.start[0]), int(u.end[0]), "Frühkindliche Bildung", coder="b")
    assert len(unit_labels(tiny_project, rule="all")) == len(unit_labels(tiny_project, rule="all", coders=None))
    assert set(unit_labels(tiny_project, rule="all").coder) == {"a", "b"}
    # within handing_over the memo gives the frame it kept itself (not a copy) and keeps it no more, nor one it
    # computes then: the report's shared data takes the tables without holding them twice (issue 17)
    kept = s.memo("n", compute)
    inner = s._local.memo[1]["n"][1]  # the frame the store keeps
    calls.clear()
    with s.handing_over():
        taken = s.memo("n", compute)
        assert calls == [] and taken is inner and "n" not in s._local.memo[1]
        again = s.memo("n", compute)  # no longer kept: computed, and handed over too
        assert len(calls) == 1 and again is not taken
    assert s.memo("n", compute) is not s.memo("n", compute) and len(calls) == 2  # kept again, copies as before
    taken["n"] = -1  # the caller's own frame: nothing the store keeps changes
    assert s.memo("n", compute).n.tolist() == kept.n.tolist()


def _fresh(values: list[str | None]) -> st.SearchStrategy[str | None]:
    """Strings as SQLite gives them: each cell its own object, however often the value repeats."""
    return st.sampled_from(values).map(lambda v: None if v is None else "".join(list(v)))


_CELLS = st.one_of(st.none(), st.integers(-5, 5), st.sampled_from(["a", "b", "Bildung", "ä ö", ""]),
                   st.floats(allow_nan=False, allow_infinity=False, width=32))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_fresh(["ab", "cd", None, "efg"]), _CELLS, _fresh(["xy", "yz"]), st.integers(0, 3)),
                max_size=12), st.integers(1, 5))
def test_store_frame_shares_strings_without_changing_the_frame(rows: list[tuple[object, ...]], part: int) -> None:
    """Store.frame, reading a query ``part`` rows at a time, gives each repeated string once and every column
    its own array; the frame is otherwise the one DataFrame.from_records builds from all the rows at once
    (values, missing values, dtypes, column names)."""
    import types
    from unittest import mock

    import qualkit.store as store_module
    con = sqlite3.connect(":memory:")
    con.row_factory = sqlite3.Row
    con.execute("CREATE TABLE t (s, mixed, t, n)")  # no declared types: every cell keeps the type it was given
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    sql = "SELECT s, mixed, t, n, n AS n FROM t ORDER BY rowid"  # a repeated name, as a join can give
    expected = pd.DataFrame.from_records(con.execute(sql).fetchall(), columns=["s", "mixed", "t", "n", "n"])
    with mock.patch.object(store_module, "_FRAME_ROWS", part):
        got = Store.frame(types.SimpleNamespace(con=con), sql)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(got, expected)
    for c in ("s", "t"):
        values = [v for v in got[c].tolist() if isinstance(v, str)]
        assert len({id(v) for v in values}) == len(set(values))
