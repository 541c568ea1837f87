from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from qualkit.corpus import ingest
from qualkit.errors import CodingError, StoreError
from qualkit.project import Project
from qualkit.store import SCHEMA_VERSION, Store


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
