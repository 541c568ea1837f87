from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qualkit import corpus as ingest_mod
from qualkit.corpus import ingest, reanchor
from qualkit.errors import IngestErrors
from qualkit.project import Project, open_project
from qualkit.status import project_status

from .conftest import run_cli


def test_ingest_loads_interviews_survey_and_variables(tiny_project: Project) -> None:
    report = ingest(tiny_project)
    st = project_status(tiny_project)
    assert st["sources"]["interview"]["documents"] == 2
    assert st["sources"]["interview"]["units"] == 7
    assert st["sources"]["survey"]["documents"] == 3  # 1:F1, 2:F1, 2:F2; markers are no answers
    assert st["respondents"] == {"total": 3, "with_answers": 2, "no_answer_markers": 2}
    # variables are counted per person, not per answer (respondent 2 has two answers)
    assert st["by_variable"]["survey"]["Kommune"] == {"Herten": 1, "Marl": 1, "Waltrop": 1}
    assert sum(st["by_variable"]["interview"]["Kommune"].values()) == 2
    cv = tiny_project.store.case_variables().set_index("case_id")
    assert cv.loc["A1", "Kommune"] == "Gladbeck"
    assert cv.loc["S2", "finished"] == "no" and cv.loc["S1", "finished"] == "yes"
    assert sorted(report.added)[:2] == ["A1", "B2"]
    units = tiny_project.store.units("B2")
    assert list(units.speaker) == ["I", "B1", "B2"]
    assert units.time_end.tolist()[-1] == 31_900


def test_ingest_is_idempotent(tiny_project: Project, store_digest: Callable[[Path], str]) -> None:
    ingest(tiny_project)
    path = tiny_project.store.path
    before = store_digest(path)
    report = ingest(tiny_project)
    assert report.added == [] and report.updated == []
    # only the ingested_at timestamps in 'files' may change
    assert tiny_project.store.documents().shape[0] == 5
    assert store_digest(path) != "absent" and before


def test_ingest_reanchors_codings_after_edit(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    text = store.document_text("A1")
    s = text.index("Das KI hat")
    exact = store.add_coding("A1", s, s + len("Das KI hat die Seiteneinsteigerberatung übernommen"),
                             "Leistung Kreis/KI", coder="ab")
    s2 = text.index("Die Wohnungssuche ist schlimm.")
    fuzzy = store.add_coding("A1", s2, s2 + len("Die Wohnungssuche ist schlimm."), "Wohnraum und Wohnungsmarkt",
                             coder="ab")
    s3 = text.index("Kitaplätze")
    lost = store.add_coding("A1", s3, s3 + len("Kitaplätze"), "Frühkindliche Bildung", coder="ab")
    f = tiny_project.path("transcripts/interviews/A1.txt")
    edited = (f.read_text(encoding="utf-8")
              .replace("I: Guten Tag", "I: Hallo und guten Tag")
              .replace("Die Wohnungssuche ist schlimm.", "Die Wohnungssuche ist echt schlimm.")
              .replace("vor allem Kitaplätze", "vor allem Plätze in Tageseinrichtungen"))
    f.write_text(edited, encoding="utf-8")
    report = ingest(tiny_project)
    assert report.updated == ["A1"]
    new = store.document_text("A1")
    c1, c2, c3 = store.coding(exact), store.coding(fuzzy), store.coding(lost)
    assert c1["anchor"] == "moved" and new[c1["start"]:c1["end"]] == c1["quote"]
    assert c2["anchor"] == "fuzzy" and new[c2["start"]:c2["end"]] == "Die Wohnungssuche ist echt schlimm."
    assert c3["anchor"] == "lost" and c3["quote"] == "Kitaplätze"  # kept, never dropped
    st = project_status(tiny_project)
    assert st["flagged"]["count"] == 2 and set(st["flagged"]["ids"]) == {fuzzy, lost}
    code, out, _ = run_cli("status", "--project", str(tiny_project.root))
    assert code == 0 and "FLAGGED" in out


def test_reanchor_unit() -> None:
    assert reanchor("abc Haus xyz", "abc Haus xyz", 4, 8, "Haus") == (4, 8, "ok")
    assert reanchor("abc Haus xyz", "neu abc Haus xyz", 4, 8, "Haus") == (8, 12, "moved")


def _bad(project: Project, rel: str, content: str | bytes) -> None:
    p = project.path(rel)
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")


BAD_CASES = [
    ("empty", "transcripts/interviews/C3.txt", b"", "C3.txt", "empty", None),
    ("binary", "transcripts/interviews/C3.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "C3.txt", "binary", 3),
    ("no label", "transcripts/interviews/C3.txt", "I: Frage? #00:00:01-0#\n\nB: Antwort.\n\nohne Label hier\n",
     "C3.txt", "without a speaker label", 5),
    ("duplicate interview id", "transcripts/interviews.csv",
     "id,Kommune\nA1,Gladbeck\nB2,Dorsten\nA1,Marl\n", "interviews.csv", "duplicate interview id", 4),
    ("survey id column", "transcripts/survey/export.csv", "respondent,Kommune,OrgTyp,F1,F2,submitdate\n1,a,b,c,d,e\n",
     "export.csv", "respondent id column", 1),
    ("duplicate respondent", "transcripts/survey/export.csv",
     "id,submitdate,Kommune,OrgTyp,F1,F2\n5,x,Marl,Kita,a,b\n5,x,Marl,Kita,c,d\n", "export.csv", "duplicate respondent", 3),
    ("codebook", "codebooks/handlungsfelder.yaml", "name: x\ndimensions:\n  - key: a\n    codes: [\n",
     "handlungsfelder.yaml", "not valid YAML", None),
]


@pytest.mark.parametrize(("case", "rel", "content", "fname", "reason", "line"), BAD_CASES,
                         ids=[c[0] for c in BAD_CASES])
def test_ingest_bad_input_exits_nonzero_and_keeps_store(tiny_project: Project, store_digest: Callable[[Path], str],
                                                        case: str, rel: str, content: str | bytes, fname: str,
                                                        reason: str, line: int | None) -> None:
    ingest(tiny_project)
    tiny_project.store.add_coding("A1", 3, 12, "Bildung und Sprache", coder="ab")
    tiny_project.store.close()
    before = store_digest(tiny_project.store.path)
    _bad(tiny_project, rel, content)
    code, _out, err = run_cli("ingest", "--project", str(tiny_project.root))
    assert code == 1
    assert fname in err and reason in err
    if line is not None:
        assert f"line {line}" in err
    assert "→" in err  # says what to do
    assert store_digest(tiny_project.store.path) == before


def test_ingest_metadata_mismatch_warns_not_crash(tiny_project: Project) -> None:
    _bad(tiny_project, "transcripts/interviews.csv", "id,Kommune\nA1,Gladbeck\nZ9,Marl\n")
    code, _out, err = run_cli("ingest", "--project", str(tiny_project.root))
    assert code == 0
    assert "metadata for 'Z9' but no transcript" in err
    assert "no metadata row for transcript 'B2'" in err


def test_ingest_crash_midway_leaves_store_intact(tiny_project: Project, store_digest: Callable[[Path], str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    ingest(tiny_project)
    # a second survey wave with more rows; the writer dies after half of the documents
    rows = "".join(f"{i},2021-12-01,Marl,Kita,Antwort Nummer {i} über Kitaplätze,\n" for i in range(10, 30))
    _bad(tiny_project, "transcripts/survey/export.csv", "id,submitdate,Kommune,OrgTyp,F1,F2\n" + rows)
    tiny_project.store.close()
    before = store_digest(tiny_project.store.path)
    real = ingest_mod._write_document
    calls = {"n": 0}

    def dying(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] > 10:
            raise OSError("disk full (simulated)")
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest_mod, "_write_document", dying)
    with pytest.raises(OSError):
        ingest(open_project(tiny_project.root))
    assert calls["n"] == 11
    assert store_digest(tiny_project.store.path) == before
    monkeypatch.setattr(ingest_mod, "_write_document", real)
    ingest(open_project(tiny_project.root))
    assert project_status(open_project(tiny_project.root))["sources"]["survey"]["documents"] == 20


def test_ingest_collects_all_errors(tiny_project: Project) -> None:
    _bad(tiny_project, "transcripts/interviews/C3.txt", b"")
    _bad(tiny_project, "transcripts/interviews/C4.txt", "kein Label\n")
    with pytest.raises(IngestErrors) as exc:
        ingest(tiny_project)
    assert len(exc.value.errors) == 2


def test_cli_init_status_json(tmp_path: Path) -> None:
    code, out, _ = run_cli("init", str(tmp_path / "neu"))
    assert code == 0
    assert (tmp_path / "neu/notebooks/coding.ipynb").exists() and (tmp_path / "neu/notebooks/chapter.ipynb").exists()
    code, out, _ = run_cli("ingest", "--project", str(tmp_path / "neu"), "-q")
    assert code == 0
    code, out, _ = run_cli("status", "--project", str(tmp_path / "neu"), "--json")
    st = json.loads(out)
    assert st["codebook"]["dimensions"] == {"thema": 5}  # the neutral starter codebook, not the example's
    assert st["codings"]["total"] == 0
    code, out, _ = run_cli("init", "--example", str(tmp_path / "bsp"))
    assert code == 0 and "example" in out
    code, out, _ = run_cli("status", "--project", str(tmp_path / "bsp"), "--json")
    assert json.loads(out)["codebook"]["dimensions"]["handlungsfeld"] == 7


def test_cli_not_a_project(tmp_path: Path) -> None:
    code, _, err = run_cli("status", "--project", str(tmp_path))
    assert code == 1 and "qualkit init" in err


def test_ingest_rereads_survey_when_its_settings_change(tiny_project: Project) -> None:
    ingest(tiny_project)
    assert "S1-F1" in set(tiny_project.store.documents().id)
    cfg = tiny_project.root / "qualkit.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('[survey]\n', '[survey]\nid_prefix = "R"\n'),
                   encoding="utf-8")
    project = open_project(tiny_project.root)
    ingest(project)  # the export is unchanged, its [survey] settings are not
    ids = set(project.store.documents().id)
    assert "R1-F1" in ids and "S1-F1" not in ids


def test_ingest_metadata_row_with_wrong_field_count_is_an_error(tiny_project: Project) -> None:
    meta = tiny_project.root / "transcripts" / "interviews.csv"
    lines = meta.read_text(encoding="utf-8").splitlines()
    lines[1] += ",überzählig"
    meta.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(IngestErrors) as e:
        ingest(tiny_project)
    assert "interviews.csv, line 2" in str(e.value) and "fields" in str(e.value)


def test_cli_show_prints_stored_text_and_unit_offsets(tiny_project: Project) -> None:
    ingest(tiny_project)
    code, out, _ = run_cli("show", "A1", "--project", str(tiny_project.root))
    assert code == 0 and out.rstrip("\n") == tiny_project.store.document_text("A1")
    code, out, _ = run_cli("show", "A1", "--units", "--project", str(tiny_project.root))
    text = tiny_project.store.document_text("A1")
    rows = [line.split("\t") for line in out.splitlines()[1:]]
    assert rows and all(text[int(r[1]):int(r[2])].startswith(r[4].rstrip("…")[:20]) for r in rows)
    code, _, err = run_cli("show", "Z9", "--project", str(tiny_project.root))
    assert code == 1 and "unknown document 'Z9'" in err


def test_ingest_warns_about_codings_of_a_code_removed_from_the_codebook(tiny_project: Project) -> None:
    ingest(tiny_project)
    text = tiny_project.store.document_text("A1")
    tiny_project.store.add_coding("A1", 0, 5, "Politische Teilhabe", coder="ab")
    cb = tiny_project.root / "codebooks" / "handlungsfelder.yaml"
    cb.write_text(cb.read_text(encoding="utf-8").replace("name: Politische Teilhabe", "name: Politische Mitwirkung"),
                  encoding="utf-8")
    code, _out, err = run_cli("ingest", "--project", str(tiny_project.root), "-q")
    assert code == 0 and "1 coding(s) use the code 'Politische Teilhabe'" in err
    assert len(open_project(tiny_project.root).store.codings()) == 1 and text


def test_ingest_warns_when_a_transcript_has_only_interviewer_turns(tiny_project: Project) -> None:
    (tiny_project.root / "transcripts/interviews/C3.txt").write_text("I: Hallo?\n\nI: Hört mich jemand?\n",
                                                                      encoding="utf-8")
    code, _out, err = run_cli("ingest", "--project", str(tiny_project.root), "-q")
    assert code == 0 and "C3.txt: every turn is by an interviewer (I)" in err


def test_ingest_says_which_header_lines_it_skipped(tiny_project: Project) -> None:
    (tiny_project.root / "transcripts/interviews/C3.txt").write_text(
        "Interview C3, 12.01.2022\n\nI: Wie geht es?\n\nB: Gut.\n", encoding="utf-8")
    code, _out, err = run_cli("ingest", "--project", str(tiny_project.root), "-q")
    assert code == 0 and "C3.txt: 1 line(s) above the first speaker" in err and "Interview C3, 12.01.2022" in err


@pytest.mark.parametrize("how", ["forked", "spawned", "dask"])
def test_ingest_reads_transcripts_in_partitions_with_the_same_store(
        tiny_project: Project, tmp_path: Path, store_digest: Callable[[Path], str],
        monkeypatch: pytest.MonkeyPatch, how: str, executors_used: list[tuple[dict[str, object], str]]) -> None:
    """Many transcripts are read in partitions on local processes (forked, or spawned where the system cannot
    fork) or on Dask, and only this process writes: the store has the same content as after a plain ingest, and
    a bad file's error comes back from the worker whole (file, line, what to do)."""
    import shutil

    from qualkit import prepare
    if how == "dask":
        pytest.importorskip("distributed")
    twin = open_project(shutil.copytree(tiny_project.root, tmp_path / "twin"))
    ingest(tiny_project)
    monkeypatch.setattr(ingest_mod, "PARALLEL_FILES", 0)
    monkeypatch.setattr(ingest_mod, "_FILES_PER_TASK", 1)  # one task per file: the order must be restored
    monkeypatch.setattr(prepare, "_can_fork", lambda: how == "forked")
    ingest(twin, jobs=2, scheduler="local" if how == "dask" else None)
    assert [name for _, name in executors_used] == [{"forked": "fork", "spawned": "processes", "dask": "dask"}[how]]
    tiny_project.store.close()
    twin.store.close()
    # the stores differ only by their time stamps and the folder the project lies in
    for table in ("documents", "units", "cases", "codings"):
        assert (tiny_project.store.query(f"SELECT count(*) FROM {table}")[0][0]
                == twin.store.query(f"SELECT count(*) FROM {table}")[0][0]), table
    assert (tiny_project.store.query("SELECT id, text, kind FROM documents ORDER BY id")
            == twin.store.query("SELECT id, text, kind FROM documents ORDER BY id"))
    assert (tiny_project.store.query('SELECT document_id, idx, start, "end", speaker, role FROM units ORDER BY 1, 2')
            == twin.store.query('SELECT document_id, idx, start, "end", speaker, role FROM units ORDER BY 1, 2'))
    (twin.root / "transcripts/interviews/C3.txt").write_text(
        "I: Frage? #00:00:01-0#\n\nB: Antwort.\n\nohne Label hier\n", encoding="utf-8")
    with pytest.raises(IngestErrors) as exc:
        ingest(twin, jobs=2, scheduler="local" if how == "dask" else None)
    (err,) = exc.value.errors
    assert err.path.endswith("C3.txt") and err.line == 5 and "speaker label" in err.reason and err.hint


def test_cli_ingest_takes_jobs_and_scheduler(tiny_project: Project) -> None:
    root = str(tiny_project.root)
    code, _out, err = run_cli("ingest", "--project", root, "--jobs", "2", "-q")
    assert code == 0, err
    assert open_project(root).store.query("SELECT count(*) FROM documents")[0][0] > 0
    code, _, err = run_cli("ingest", "--project", root, "--scheduler", "no-such-scheduler", "--force", "-q")
    assert code != 0 and "scheduler" in err.lower() and "Traceback" not in err


@given(st.lists(st.sampled_from(["a", "b,c", '"', "\n", "\r", "\r\n", ";", "ä", " "]), max_size=30).map("".join))
def test_csv_lines_are_those_of_a_text_stream(text: str) -> None:
    import csv
    import io

    from qualkit._text import _lines, iter_csv_table
    from qualkit.errors import IngestError
    assert list(_lines(text)) == list(io.StringIO(text))
    # the table is what the csv module reads from a text stream, with the same delimiter
    delim = max([",", ";", "\t"], key=text.split("\n", 1)[0].count)
    try:
        want = list(csv.reader(io.StringIO(text), delimiter=delim, strict=True))
    except csv.Error:
        with pytest.raises(IngestError):  # the first problem: a broken quote, or a row of another width before it
            list(iter_csv_table("t.csv", text)[1])
        return
    if not want:
        with pytest.raises(IngestError, match="empty"):
            iter_csv_table("t.csv", text)
        return
    header, rows = iter_csv_table("t.csv", text)
    assert header == [c.strip() for c in want[0]]
    width = len(want[0])
    try:
        got = list(rows)
    except IngestError as e:  # a row of another width, or a quoted field swallowing rows: the strict checks
        assert "fields" in str(e) or "spans lines" in str(e)
        return
    assert [cells for _line, cells in got] == [r[:width] + [""] * (width - len(r)) for r in want[1:]
                                               if any(c.strip() for c in r)]


def test_ingest_lists_a_late_bad_coding_row_with_every_other_problem_and_writes_nothing(
        tiny_project: Project, store_digest: Callable[[Path], str]) -> None:
    from .test_references import with_reference_file
    path = with_reference_file(tiny_project, [("A1", "fehlen vor allem Kitaplätze", "Frühkindliche Bildung", "A")] * 3)
    project = open_project(tiny_project.root)
    before = store_digest(project.store.path)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("Kitaplätze", "Kitaplatz")  # the last row's quote is wrong
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tiny_project.root / "transcripts/interviews/A1.txt").write_text(
        (tiny_project.root / "transcripts/interviews/A1.txt").read_text(encoding="utf-8") + "\nB: Noch etwas.\n",
        encoding="utf-8")
    _bad(tiny_project, "transcripts/interviews/C4.txt", "kein Label\n")
    with pytest.raises(IngestErrors) as exc:
        ingest(project)
    assert [Path(e.path).name for e in exc.value.errors] == ["C4.txt", "ref.csv"]
    assert "ref.csv, line 4" in str(exc.value)
    project.store.close()
    assert store_digest(project.store.path) == before  # A1's new text, written before the codings were read, is undone


_TEXTS = st.lists(st.sampled_from(["a", "ä", "\n", "\r", "\r\n", "\ufeff", "e\u0301", "\u0301", "Ã¤", "\x07", "gŠs",
                                   "„“", ",", " ", "ß"]), max_size=25).map("".join)


_BYTES = st.one_of(st.tuples(_TEXTS, st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"])).map(
    lambda te: te[0].encode(te[1], errors="replace")), st.binary(max_size=24))


@given(_BYTES, st.integers(1, 7))
def test_decode_lines_is_decode_a_line_at_a_time(data: bytes, chunk: int) -> None:
    from qualkit import _text
    from qualkit.errors import IngestError
    try:
        want: tuple[str, str] | str = _text.decode(data, "t.csv")
    except IngestError as e:
        want = str(e)
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        mp.setattr(_text, "_CHUNK", chunk)  # chunks of a few bytes: characters and line ends split across them
        path = Path(tmp) / "t.csv"
        path.write_bytes(data)
        for source in (data, path):  # the bytes, or the file read a chunk at a time
            try:
                lines, got_enc = _text.decode_lines(source, "t.csv")
                got: tuple[str, str] | str = ("".join(lines), got_enc)
                assert all(line.count("\n") <= 1 for line in _text.decode_lines(source, "t.csv")[0])
            except IngestError as e:
                got = str(e)
            assert got == want
        assert _text.sha256_file(path, suffix=b"\0x") == _text.sha256_bytes(data + b"\0x")


def test_decode_lines_of_a_file_that_changes_while_it_is_read(tmp_path: Path) -> None:
    from qualkit import _text
    from qualkit.errors import IngestError
    path = tmp_path / "t.csv"
    path.write_bytes("a,b\nKöln,1\n".encode())
    lines, enc = _text.decode_lines(path, path)
    assert enc == "utf-8"
    path.write_bytes(b"a,b\nK\xf6ln,1\n")  # saved meanwhile as Windows-1252: no longer the UTF-8 it was checked as
    with pytest.raises(IngestError, match="changed while it was read") as exc:
        list(lines)
    assert exc.value.path == str(path)


def test_ingest_reads_a_coding_file_a_chunk_at_a_time(tiny_project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """The coding file of a large corpus is hashed and read in chunks, never held whole (issue 17)."""
    from qualkit import _limits, _text

    from .test_references import REF_ROWS, with_reference_file
    path = with_reference_file(tiny_project, REF_ROWS * 20)
    monkeypatch.setattr(_text, "_CHUNK", 64)
    reads: list[int] = []
    chunks_of = _limits._chunks_of

    def counted(p: Path, f: object, size: int) -> object:
        for chunk in chunks_of(p, f, size):  # type: ignore[arg-type]
            if p == path:
                reads.append(len(chunk))
            yield chunk
    monkeypatch.setattr(_limits, "_chunks_of", counted)
    report = ingest(open_project(tiny_project.root))
    assert report.codings_loaded == 3  # the repeated rows are one coding each
    size = path.stat().st_size
    assert size > 20 * 64 and max(reads) == 64
    assert sum(reads) >= 3 * size  # hashed once, then read twice: checked, then iterated


def test_ingest_holds_a_document_only_while_it_is_read_or_written(tiny_project: Project,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A document read is kept on disk, in a private file no other process can find, until the transaction
    writes it; it is then read back and held only until it is written (issue 17: the ingest of a large corpus
    does not hold every text while the rest is read, nor while the codings are merged)."""
    import gc
    import stat
    import weakref
    read: list[weakref.ref[object]] = []
    spools: list[ingest_mod._Spool] = []
    real_add = ingest_mod._Spool.add

    def add(self: ingest_mod._Spool, doc: object) -> None:
        spools.append(self)
        read.append(weakref.ref(doc))
        real_add(self, doc)  # type: ignore[arg-type]
    monkeypatch.setattr(ingest_mod._Spool, "add", add)
    held: list[int] = []
    texts: list[str] = []

    def on_read(it: Iterator[str], chars: int) -> None:
        gc.collect()
        held.append(sum(r() is not None for r in read))
        spool = spools[0]
        mode = stat.S_IMODE(os.fstat(spool._file.fileno()).st_mode)
        assert mode == 0o600 and os.listdir(tiny_project.cache_dir) == before  # no name in the folder
        texts.extend(it)
        assert chars == sum(map(len, texts))
    before = os.listdir(tiny_project.cache_dir)
    report = ingest(tiny_project, on_read=on_read)
    assert len(read) == len(report.added) == 5 and held == [0]  # each was on disk once read
    stored = dict(tiny_project.store.query("SELECT id, text FROM documents ORDER BY rowid"))
    assert list(stored) == report.added and sorted(texts) == sorted(stored.values())
    with pytest.raises(ValueError):  # the ingest closed its file
        spools[0]._file.fileno()
    assert os.listdir(tiny_project.cache_dir) == before


@given(st.lists(st.text(max_size=40), max_size=12), st.lists(st.booleans(), max_size=40))
def test_ingest_spool_gives_every_reader_the_documents_in_order(texts: list[str], turns: list[bool]) -> None:
    """The spool's readers (the transaction, the name search in its own thread) each get every document in the
    order added, however their reads interleave; a reader goes on after the ingest has closed the spool, and
    the file is closed once the last reader is let go of."""
    import gc
    docs = [ingest_mod._Doc(id=f"D{i}", case_id="C", kind="survey", question=None, text=t, source="s.csv",
                            encoding="utf-8", units=[(0, 0, len(t), None, "answer", None, None)])
            for i, t in enumerate(texts)]
    with tempfile.TemporaryDirectory() as folder:
        spool = ingest_mod._Spool(Path(folder))
        spool.take(list(docs))
        assert spool.sources == [(d.id, "s.csv") for d in docs] and spool.chars == sum(map(len, texts))
        writer, search = iter(spool), spool.texts()
        written: list[object] = []
        searched: list[str] = []
        for turn in turns:
            if turn:
                written.append(next(writer, None))
            else:
                searched.append(next(search, None))
        written += list(writer)
        spool.close()  # the ingest is done; the search goes on
        del writer
        gc.collect()
        searched += list(search)
        assert not spool._file.closed  # the search still holds it
        del search
        gc.collect()
        assert spool._file.closed
        assert [d for d in written if d is not None] == docs and os.listdir(folder) == []
        assert [t for t in searched if t is not None] == texts


def test_ingest_lets_go_of_a_document_once_it_is_written(tiny_project: Project,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Each document read back from disk is held only until it is written (issue 17)."""
    import gc
    import weakref
    written: list[weakref.ref[object]] = []
    alive: list[int] = []
    real = ingest_mod._write_document

    def spy(store: object, con: object, doc: object, report: object) -> None:
        gc.collect()
        alive.append(sum(r() is not None for r in written))
        written.append(weakref.ref(doc))
        real(store, con, doc, report)  # type: ignore[arg-type]
    monkeypatch.setattr(ingest_mod, "_write_document", spy)
    report = ingest(tiny_project)
    assert len(written) == len(report.added) == 5 and alive == [0] * 5
    assert [r[0] for r in tiny_project.store.query("SELECT id FROM documents ORDER BY rowid")] == report.added
