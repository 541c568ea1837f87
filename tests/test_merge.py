from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from qualkit.corpus import ingest
from qualkit.errors import QualkitError
from qualkit.merge import merge
from qualkit.project import Project, open_project
from qualkit.qdpx import export_qdpx

from .conftest import run_cli
from .test_store import _assert_log_replays


def copy_of(project: Project, dest: Path) -> Project:
    """A second copy of a project folder, as a coder would have it on another machine."""
    project.store.con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copytree(project.root, dest, ignore=shutil.ignore_patterns("outputs", "cache"))
    return open_project(dest)


def code_turns(project: Project, coder: str, document: str, n: int, code: str = "Bildung und Sprache") -> None:
    units = project.store.units(document)
    units = units[units.role != "interviewer"].head(n)
    for u in units.itertuples():
        project.store.add_coding(document, int(u.start), int(u.end), code, coder=coder, memo=f"{coder} {u.idx}")


def _coders(root: Path) -> dict[str, int]:
    code, out, _ = run_cli("status", "--json", "--project", str(root))
    assert code == 0
    return json.loads(out)["coders"]


def test_merge_two_coders_on_two_copies_of_the_example(example_project: Project, tmp_path: Path,
                                                         store_digest: Callable[[Path], str]) -> None:
    c1 = copy_of(example_project, tmp_path / "laptop1")
    c2 = copy_of(example_project, tmp_path / "laptop2")
    code_turns(c1, "xa", "I01", 5)
    code_turns(c2, "yb", "I02", 4)
    code_turns(c2, "yb", "I01", 1)  # the same passage and code as xa's first: a different coder, so both count
    code_turns(c2, "yb", "S1-F1", 1, code="Politische Teilhabe")
    own1, own2 = _coders(c1.root), _coders(c2.root)
    c2.store.con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    other_before = store_digest(c2.store.path)
    code, out, _ = run_cli("merge", str(c2.root), "--project", str(c1.root))
    assert store_digest(c2.store.path) == other_before  # the other copy is only read
    assert code == 0 and "6 coding(s) added (yb: 6)" in out
    merged = _coders(c1.root)
    assert merged["xa"] == own1["xa"] == 5 and merged["yb"] == own2["yb"] == 6
    assert {k: v for k, v in merged.items() if k not in ("xa", "yb")} == \
        {k: v for k, v in own1.items() if k != "xa"}  # the reference coders are in both copies: not doubled
    assert len(c1.store.codings(document_id="I01").query("coder in ['xa', 'yb']")) == 6
    _assert_log_replays(c1.store)
    assert set(c1.store.log().action.iloc[-6:]) == {"merge"}
    # a second merge changes nothing
    before = store_digest(c1.store.path)
    again = merge(c1, c2.root)
    assert again.codings == 0 and again.duplicates == len(c2.store.codings(include_rejected=True))
    assert store_digest(c1.store.path) == before
    # the other way round, from a .qdpx exported on the first laptop
    back = merge(c2, export_qdpx(c1, tmp_path / "laptop1.qdpx"))
    assert back.added == {"xa": 5} and back.matched == len(c2.store.documents())
    assert _coders(c2.root) == merged


def test_merge_reports_texts_that_differ_and_documents_it_lacks(tiny_project: Project, tmp_path: Path) -> None:
    ingest(tiny_project)
    other = copy_of(tiny_project, tmp_path / "other")
    a1 = other.root / "transcripts/interviews/A1.txt"
    a1.write_text(a1.read_text(encoding="utf-8").replace("Kitaplätze", "Krippenplätze"), encoding="utf-8")
    (other.root / "transcripts/interviews/C3.txt").write_text("I: Frage?\n\nB: Antwort hier.\n", encoding="utf-8")
    ingest(other)
    code_turns(other, "yb", "A1", 2)
    code_turns(other, "yb", "B2", 1)
    code_turns(other, "yb", "C3", 1)
    report = merge(tiny_project, other.root)
    assert report.added == {"yb": 1}
    assert "A1" in report.differing and "'Kitaplätze" in report.differing["A1"]
    assert report.missing == ["C3"]
    assert "the text differs" in report.summary() and "not in this project" in report.summary()
    with pytest.raises(QualkitError, match="no such project folder"):
        merge(tiny_project, tmp_path / "nowhere")
    with pytest.raises(QualkitError, match="the project itself"):
        merge(tiny_project, tiny_project.root)
