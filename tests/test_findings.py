"""Findings files: reading and checking, drafts, evidence that survives re-ingest, draft vs release chapters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qualkit.chapters import chapter_blocks
from qualkit.corpus import ingest
from qualkit.drafts import add_drafts
from qualkit.errors import InputFileError
from qualkit.findings import Evidence, approve, findings_records, load_findings, resolve_passage
from qualkit.overview import summary_blocks
from qualkit.project import Project
from qualkit.reportdata import ReportData, ReportSettings

from .conftest import run_cli, write_project

CODE = "Bildung und Sprache"
FILE = """code: Bildung und Sprache
memo:
  title: Kitaplätze
  author: A
  for_report: true
  text: Das Memo der Forschenden.
findings:
  - id: BS-B1
    status: approved
    author: A
    text: In beiden Interviews fehlen Kitaplätze und Sprachkurse.
    evidence:
      - document: A1
        quote: fehlen vor allem Kitaplätze
        cite: true
      - document: B2
        quote: das ist ein Problem für die Sprachkurse
  - id: BS-B2
    status: draft
    text: Ein Entwurf, der nur im Entwurfslauf erscheint.
    evidence:
      - code: Bildung und Sprache
recommendations:
  - id: BS-E1
    status: approved
    text: Der Kreis sollte Kitaplätze schaffen.
    findings: [BS-B1]
"""


@pytest.fixture
def coded(tmp_path: Path) -> Project:
    p = write_project(tmp_path / "p")
    ingest(p)
    for doc in ("A1", "B2"):
        u = p.store.units(doc)
        r = u[u.role != "interviewer"].iloc[0]
        p.store.add_coding(doc, int(r.start), int(r.end), "Frühkindliche Bildung", coder="A")
    (p.root / "findings").mkdir()
    (p.root / "findings/bildung-und-sprache.yaml").write_text(FILE, encoding="utf-8")
    return p


def _data(p: Project, mode: str = "draft") -> ReportData:
    return ReportData(p, ReportSettings.from_project(p, mode=mode))


def test_findings_records_with_evidence_from_two_documents(coded: Project) -> None:
    recs = {r["id"]: r for r in findings_records(coded)}
    b1 = recs["BS-B1"]
    assert b1["type"] == "finding" and b1["code"] == CODE and b1["status"] == "approved"
    assert {e["document"] for e in b1["evidence"]} == {"A1", "B2"}
    assert b1["persons"] == 2 and b1["statements"] == 2 and b1["lost"] == []
    assert recs["BS-E1"]["type"] == "recommendation" and recs["BS-E1"]["findings"] == ["BS-B1"]
    assert all(e["document"] for e in recs["BS-B2"]["evidence"])  # code evidence is listed per document
    code, out, _ = run_cli("findings", "--json", "--project", str(coded.root))
    assert code == 0 and {r["id"] for r in json.loads(out)} == {"BS-B1", "BS-B2", "BS-E1"}


def test_findings_evidence_survives_reingest_and_is_flagged_when_lost(coded: Project) -> None:
    t = coded.root / "transcripts/interviews/A1.txt"
    # an edit before the passage moves it: still found
    t.write_text(t.read_text(encoding="utf-8").replace("Guten Tag", "Guten Tag und herzlich willkommen"),
                 encoding="utf-8")
    ingest(coded)
    b1 = {r["id"]: r for r in findings_records(coded)}["BS-B1"]
    assert b1["lost"] == [] and b1["persons"] == 2
    # the passage itself is edited away: flagged, not dropped
    t.write_text(t.read_text(encoding="utf-8").replace("fehlen vor allem Kitaplätze", "gibt es genug Kitaplätze"),
                 encoding="utf-8")
    ingest(coded)
    b1 = {r["id"]: r for r in findings_records(coded)}["BS-B1"]
    assert b1["lost"] == ["fehlen vor allem Kitaplätze"] and b1["persons"] == 1
    code, _, err = run_cli("findings", "--check", "--project", str(coded.root))
    assert code == 1 and "BS-B1" in err
    blocks = chapter_blocks(_data(coded), CODE, coded.cache_dir)
    assert any("nicht mehr auffindbar" in b.text for b in blocks)


def test_findings_resolve_passage_white_space_and_hint() -> None:
    text = "eins zwei drei. eins zwei drei."
    assert resolve_passage(text, Evidence(document="d", quote="eins zwei")).start == 0
    assert resolve_passage(text, Evidence(document="d", quote="eins zwei", start=16)).start == 16
    assert resolve_passage(text, Evidence(document="d", quote="zwei   drei")).status == "moved"
    assert resolve_passage(text, Evidence(document="d", quote="vier")).status == "lost"
    assert resolve_passage(None, Evidence(document="d", quote="vier")).status == "lost"


def test_findings_draft_run_shows_drafts_marked_release_run_approved_only(coded: Project) -> None:
    draft = chapter_blocks(_data(coded, "draft"), CODE, coded.cache_dir)
    texts = [b.text for b in draft]
    assert "Befund 1: In beiden Interviews fehlen Kitaplätze und Sprachkurse." in texts
    assert any(t.startswith("Befund 2 (Entwurf") for t in texts)
    assert "Empfehlung 1: Der Kreis sollte Kitaplätze schaffen." in texts
    assert any(t == "Kitaplätze: Das Memo der Forschenden." for t in texts)
    assert any(b.kind == "quote" and "Kitaplätze" in b.text for b in draft)
    release = [b.text for b in chapter_blocks(_data(coded, "release"), CODE, coded.cache_dir)]
    assert "Befund 1: In beiden Interviews fehlen Kitaplätze und Sprachkurse." in release
    assert not any("Entwurf, der nur" in t for t in release)
    summary = [b.text for b in summary_blocks(_data(coded, "release"))]
    assert "In beiden Interviews fehlen Kitaplätze und Sprachkurse." in " ".join(summary)


def test_findings_drafts_state_counts_and_are_not_added_twice(coded: Project) -> None:
    data = _data(coded)
    added = add_drafts(coded, CODE, data)
    assert added and all(f.status == "draft" and f.origin == "draft" for f in added)
    sub = next(f for f in added if f.draft_key == "subcode:Frühkindliche Bildung")
    assert sub.text.startswith("Unterkategorie „Frühkindliche Bildung“: Belegt durch 2 Aussagen von 2 Personen")
    assert {e.document for e in sub.evidence if e.document} == {"A1", "B2"}
    assert add_drafts(coded, CODE, _data(coded)) == []  # the same keys are not drafted again
    approve(coded, [sub.id], author="A")
    again = {f.id: f for ff in load_findings(coded) for f in ff.findings}
    assert again[sub.id].status == "approved" and again["BS-B1"].text.startswith("In beiden")


@pytest.mark.parametrize(("bad", "message"), [
    (FILE.replace("findings: [BS-B1]", "findings: [BS-B9]"), "BS-E1 follows from BS-B9"),
    (FILE.replace("id: BS-B2", "id: BS-B1"), "id BS-B1 is used twice"),
    (FILE.replace("status: draft", "status: fertig"), "status 'fertig'"),
    (FILE.replace("code: Bildung und Sprache", "code: Bildung"), "not a code of the primary dimension"),
    (FILE.replace("        cite: true\n", "        cite: true\n        zitat: ja\n"), "unknown evidence key"),
])
def test_findings_bad_files_name_file_and_line(coded: Project, bad: str, message: str) -> None:
    f = coded.root / "findings/bildung-und-sprache.yaml"
    f.write_text(bad, encoding="utf-8")
    with pytest.raises(InputFileError, match=message) as e:
        load_findings(coded)
    assert e.value.path == str(f) and e.value.line
    code, _, err = run_cli("findings", "--project", str(coded.root))
    assert code == 1 and "bildung-und-sprache.yaml" in err


@pytest.mark.slow
def test_findings_notebook_goes_from_finding_to_evidence_and_back(coded: Project, tmp_path: Path) -> None:
    import papermill as pm
    repo = Path(__file__).resolve().parents[1]
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(repo / "notebooks/findings.ipynb"), str(out), kernel_name="python3",
                        parameters={"project_dir": str(coded.root), "finding": "BS-B1"}, progress_bar=False,
                        cwd=str(coded.root))
    text = out.read_text(encoding="utf-8")
    assert "fehlen vor allem Kitaplätze" in text  # the passage in its context
    assert "In beiden Interviews fehlen Kitaplätze" in text  # and back: the finding that document A1 supports


def test_findings_merge_unites_evidence_and_relinks_recommendations(coded: Project) -> None:
    code, out, _ = run_cli("findings", "merge", "BS-B1", "BS-B2", "--project", str(coded.root))
    assert code == 0 and "BS-B1" in out
    (ff,) = load_findings(coded)
    assert [f.id for f in ff.findings] == ["BS-B1"]
    kept = ff.findings[0]
    assert kept.status == "draft" and kept.text.endswith("Ein Entwurf, der nur im Entwurfslauf erscheint.")
    assert {e.document for e in kept.evidence if e.document} == {"A1", "B2"} and any(e.code for e in kept.evidence)
    assert ff.recommendations[0].findings == ["BS-B1"]
    code, _, err = run_cli("findings", "merge", "BS-B1", "XX-1", "--project", str(coded.root))
    assert code == 1 and "no finding XX-1" in err
