"""Report runs on a small project: manifest, reproducibility, failure path, leak guard."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest

from qualkit.corpus import ingest
from qualkit.errors import LeakError, ReportError
from qualkit.project import Project
from qualkit.reports import run_report

from .conftest import REPO, add_config

pytestmark = pytest.mark.slow


@pytest.fixture
def report_project(tiny_project: Project) -> Project:
    shutil.copytree(REPO / "notebooks", tiny_project.root / "notebooks", dirs_exist_ok=True)
    ingest(tiny_project)
    s = tiny_project.store
    for doc in ("A1", "B2"):
        u = s.units(doc)
        for r in u[u.role == "respondent"].itertuples():
            s.add_coding(doc, int(r.start), int(r.end), "Frühkindliche Bildung", coder="a")
            s.add_coding(doc, int(r.start), int(r.end), "Bedarf/Lücke", coder="a")
    s.add_coding("S1-F1", 0, 16, "Frühkindliche Bildung", coder="a")
    return tiny_project


def _normalised(run_dir: Path) -> dict[str, bytes]:
    """Every output that must be identical between two runs (timestamps and run ids normalised)."""
    out: dict[str, bytes] = {}
    for p in sorted(run_dir.rglob("*")):
        rel = p.relative_to(run_dir).as_posix()
        if not p.is_file() or rel == "manifest.json":
            continue
        if p.suffix == ".ipynb":
            nb = nbformat.read(str(p), as_version=4)
            nb.metadata.pop("papermill", None)
            for c in nb.cells:
                c.metadata.pop("papermill", None)
                c.metadata.pop("execution", None)
            out[rel] = nbformat.writes(nb).replace(str(run_dir), "RUN").encode()
        elif p.suffix == ".docx":
            out[rel] = zipfile.ZipFile(p).read("word/document.xml")
        else:
            out[rel] = p.read_bytes().replace(str(run_dir).encode(), b"RUN")
    return out


def test_reports_manifest_and_outputs(report_project: Project) -> None:
    run = run_report(report_project, only=["Bildung und Sprache"], jobs=2, run_id="run-a")
    m = json.loads((run.run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert m["status"] == "complete"
    assert set(m["inputs"]) >= {"qualkit.toml", "codebooks/handlungsfelder.yaml", "transcripts/interviews/A1.txt",
                                "notebooks/chapter.ipynb"}
    assert m["codebook_sha256"] == report_project.codebook.sha256 and len(m["store_snapshot_sha256"]) == 64
    assert m["parameters"]["only"] == ["Bildung und Sprache"] and m["seeds"]["project"] == report_project.seed
    assert {"pandas", "spacy", "scikit-learn", "python"} <= set(m["versions"])
    for rel, digest in m["outputs"].items():
        import hashlib
        assert hashlib.sha256((run.run_dir / rel).read_bytes()).hexdigest() == digest
    assert {"bericht.html", "bericht.docx", "html/02-bildung-und-sprache.html", "html/00-ueberblick.html",
            "html/01-befragung.html"} <= set(m["outputs"])
    html = (run.run_dir / "html/02-bildung-und-sprache.html").read_text(encoding="utf-8")
    assert "Handlungsfeld „Bildung und Sprache“" in html and "chapter_for_notebook" not in html  # code hidden
    assert "Özdemir" not in (run.run_dir / "bericht.html").read_text(encoding="utf-8")


def test_reports_two_runs_identical(report_project: Project) -> None:
    a = run_report(report_project, only=["Bildung und Sprache"], run_id="run-1")
    shutil.rmtree(report_project.cache_dir / "report")  # the second run recomputes everything
    b = run_report(report_project, only=["Bildung und Sprache"], run_id="run-2")
    assert not b.manifest["cache_used"]
    na, nb_ = _normalised(a.run_dir), _normalised(b.run_dir)
    assert na.keys() == nb_.keys()
    diff = [k for k in na if na[k] != nb_[k]]
    assert diff == []
    c = run_report(report_project, only=["Bildung und Sprache"], run_id="run-3")
    assert c.manifest["cache_used"] and _normalised(c.run_dir) == na


def test_reports_failing_chapter_names_notebook_and_cell(report_project: Project, tmp_path: Path) -> None:
    nbdir = tmp_path / "nbs"
    shutil.copytree(report_project.root / "notebooks", nbdir)
    nb = nbformat.read(str(nbdir / "chapter.ipynb"), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('Absturz im Kapitel')"))
    nbformat.write(nb, str(nbdir / "chapter.ipynb"))
    with pytest.raises(ReportError) as exc:
        run_report(report_project, only=["Bildung und Sprache"], notebooks_dir=nbdir, run_id="run-fail")
    # the index counts the parameters cell papermill injects, as in the executed notebook
    assert exc.value.notebook == "02-bildung-und-sprache" and exc.value.cell == len(nb.cells)
    assert "Absturz im Kapitel" in str(exc.value)
    run_dir = report_project.outputs_dir / "run-fail"
    assert (run_dir / "UNVOLLSTÄNDIG.txt").exists() and not (run_dir / "bericht.html").exists()
    assert json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["status"] == "failed"


def test_reports_leak_guard_refuses_planted_name(report_project: Project, tmp_path: Path) -> None:
    nbdir = tmp_path / "nbs"
    shutil.copytree(report_project.root / "notebooks", nbdir)
    nb = nbformat.read(str(nbdir / "overview.ipynb"), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("print('Gespräch mit Frau Özdemir')"))
    nbformat.write(nb, str(nbdir / "overview.ipynb"))
    with pytest.raises(LeakError) as exc:
        run_report(report_project, only=["Bildung und Sprache"], notebooks_dir=nbdir, run_id="run-leak")
    assert "Özdemir" not in str(exc.value) and "[Person" in exc.value.label
    run_dir = report_project.outputs_dir / "run-leak"
    assert (run_dir / "UNVOLLSTÄNDIG.txt").exists()
    assert json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["status"] == "leak"


def test_reports_example_corpus_all_chapters_reproducible(example_project: Project) -> None:
    """The main job on the shipped corpus: nine chapters, HTML and Word, identical when recomputed."""
    a = run_report(example_project, run_id="full-1", settings_overrides={"mode": "release"})
    assert a.status == "complete" and len(a.chapters) == 10
    assert (a.run_dir / "bericht.html").exists() and (a.run_dir / "bericht.docx").exists()
    assert {p.stem for p in (a.run_dir / "html").glob("*.html")} >= {"00-ueberblick", "01-befragung",
                                                                     "05-bildung-und-sprache"}
    shutil.rmtree(example_project.cache_dir / "report")
    b = run_report(example_project, run_id="full-2", settings_overrides={"mode": "release"})
    na, nb_ = _normalised(a.run_dir), _normalised(b.run_dir)
    assert na.keys() == nb_.keys() and [k for k in na if na[k] != nb_[k]] == []
    # interview quotes do not name the speaker's own town (one mayor per town: the town would name the mayor)
    chapter = (a.run_dir / "html" / "05-bildung-und-sprache.html").read_text(encoding="utf-8")
    assert "[eigene Kommune]" in chapter or "[Stadtteil]" in chapter
    # every code: at least 4 approved findings with evidence from 2 documents and 2 recommendations linked to
    # findings and workshop measures; approved texts stand verbatim in the chapter of their code
    from qualkit.findings import findings_records, slug
    records = findings_records(example_project)
    summary = (a.run_dir / "html" / "00-zusammenfassung.html").read_text(encoding="utf-8")
    for i, code in enumerate(example_project.codebook.primary.codes):
        mine = [r for r in records if r["code"] == code and r["status"] == "approved"]
        findings = [r for r in mine if r["type"] == "finding"]
        recs = [r for r in mine if r["type"] == "recommendation"]
        assert len(findings) >= 4 and len(recs) >= 2, code
        assert all(len({e["document"] for e in f["evidence"]}) >= 2 and not f["lost"] for f in findings), code
        assert all(r["findings"] and r["measures"] for r in recs), code
        html = (a.run_dir / "html" / f"{i + 2:02d}-{slug(code)}.html").read_text(encoding="utf-8")
        for r in mine:
            assert r["text"] in html, r["id"]
        assert findings[0]["text"].split(":")[0].split(". ")[0][:30] in summary
    # the summary is short enough for two printed pages
    from qualkit.blocks import blocks_from_json
    words = sum(len(b.text.split()) for b in blocks_from_json(a.run_dir / "_data" / "00-zusammenfassung.json"))
    assert 200 < words <= 900


def test_reports_cache_follows_privacy_settings(report_project: Project) -> None:
    """A name added to the deny list must reach the chapters: the cached chapter data is not reused."""
    a = run_report(report_project, only=["Bildung und Sprache"], run_id="p-1")
    again = run_report(report_project, only=["Bildung und Sprache"], run_id="p-2")
    assert again.manifest["cache_used"]
    add_config(report_project.root, '[privacy]\ndeny = ["Kitaplätze"]\n')
    from qualkit.project import open_project
    b = run_report(open_project(report_project.root), only=["Bildung und Sprache"], run_id="p-3")
    assert not b.manifest["cache_used"]
    html = (b.run_dir / "html" / "02-bildung-und-sprache.html").read_text(encoding="utf-8")
    assert "Kitaplätze" not in html
    assert "Kitaplätze" in (a.run_dir / "html" / "02-bildung-und-sprache.html").read_text("utf-8")


CUSTOM_CODEBOOK = """\
name: Jugendhilfe
version: "0.1"
language: de
description: Ein kleines Kategoriensystem für die Jugendhilfe.
dimensions:
  - key: thema
    name: Themen
    autocode: true
    codes:
      - name: Betreuung
        colour: "#336699"
        definition: Aussagen über Betreuungsangebote.
        indicators: [Kita, Betreuung]
      - name: Wohnen
        colour: "#993366"
        definition: Aussagen über Wohnungen.
        indicators: [Wohnung]
"""


def test_reports_speak_the_projects_own_codebook(tiny_project: Project) -> None:
    """A project with its own codebook gets chapters in its own terms: no Handlungsfeld, no Forschungsfragen."""
    (tiny_project.root / "codebooks" / "handlungsfelder.yaml").write_text(CUSTOM_CODEBOOK, encoding="utf-8")
    shutil.copytree(REPO / "notebooks", tiny_project.root / "notebooks", dirs_exist_ok=True)
    from qualkit.project import open_project
    project = open_project(tiny_project.root)
    ingest(project)
    for doc in ("A1", "B2"):
        u = project.store.units(doc)
        for r in u[u.role == "respondent"].itertuples():
            project.store.add_coding(doc, int(r.start), int(r.end), "Betreuung", coder="a")
    run = run_report(project, only=["Betreuung"], run_id="custom")
    html = (run.run_dir / "html" / "02-betreuung.html").read_text(encoding="utf-8")
    overview = (run.run_dir / "html" / "00-ueberblick.html").read_text(encoding="utf-8")
    assert "Kategorie „Betreuung“" in html and "Wo und von wem die Kategorie angesprochen wurde" in html
    for text in (html, overview):
        assert "Handlungsfeld" not in text and "Forschungsfrage" not in text
