"""Report runs on a small project: manifest, reproducibility, failure path, leak guard."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
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
    assert "openblas" in m["versions"]["blas"]  # the processor's BLAS kernels (qualkit._blas)
    for rel, digest in m["outputs"].items():
        import hashlib
        assert hashlib.sha256((run.run_dir / rel).read_bytes()).hexdigest() == digest
    assert {"bericht.html", "bericht.docx", "html/02-bildung-und-sprache.html", "html/00-ueberblick.html",
            "html/01-befragung.html"} <= set(m["outputs"])
    html = (run.run_dir / "html/02-bildung-und-sprache.html").read_text(encoding="utf-8")
    assert "Handlungsfeld „Bildung und Sprache“" in html and "chapter_for_notebook" not in html  # code hidden
    assert "Özdemir" not in (run.run_dir / "bericht.html").read_text(encoding="utf-8")


def test_reports_snapshot_hash_reads_the_store_a_row_at_a_time(tiny_project: Project, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The manifest's store hash is the same for the same material in another store (row ids and time stamps
    differ), changes with a coding, and is computed from rows as they are read: a query that fetches a whole
    table (every document's text at once) is never asked (issue 17)."""
    from qualkit.project import open_project
    from qualkit.reports import store_snapshot_hash
    from qualkit.store import Store
    twin = open_project(shutil.copytree(tiny_project.root, tmp_path / "twin"))
    ingest(tiny_project)
    ingest(twin)

    def whole(self: Store, sql: str, params: object = ()) -> object:
        raise AssertionError(f"fetched whole: {sql}")
    monkeypatch.setattr(Store, "query", whole)
    first = store_snapshot_hash(tiny_project)
    assert store_snapshot_hash(twin) == first and len(first) == 64
    monkeypatch.undo()
    doc = twin.store.units("A1")
    r = doc[doc.role == "respondent"].iloc[0]
    twin.store.add_coding("A1", int(r.start), int(r.end), next(iter(twin.codebook.primary.codes)), coder="A")
    assert store_snapshot_hash(twin) != first


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
    # the guard runs while the PDF is printed: the printer is stopped and no combined report is left
    assert not any((run_dir / f"bericht.{ext}").exists() for ext in ("html", "pdf", "docx"))


def _check_public_body_form(run_dir: Path) -> None:
    """What issue 16 asks of every report: German, self-contained, unique ids, A4 print, Word and PDF form."""
    pages = [run_dir / "bericht.html", *sorted((run_dir / "html").glob("*.html"))]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert '<html lang="de">' in text, page.name
        # nothing loaded from elsewhere: no script, no stylesheet link, no http(s) source, no CSS import
        assert not re.search(r"""<(script|link|iframe|object|embed)\b""", text, re.I), page.name
        assert not re.search(r"""(src|href|srcset)\s*=\s*["']?\s*(https?:)?//""", text, re.I), page.name
        assert not re.search(r"""url\(\s*["']?(https?:)?//|@import""", text, re.I), page.name
        ids = re.findall(r"""\sid=["']([^"']*)["']""", text)
        assert len(ids) == len(set(ids)), (page.name, [i for i in ids if ids.count(i) > 1][:5])
        assert re.search(r"@page\s*\{[^}]*size:\s*A4", text), page.name
        for img in re.findall(r"<img\b[^>]*>", text):
            assert re.search(r'alt="[^"]{10,}"', img), (page.name, img[:80])
        assert "<caption>" in text or "<table" not in text
    with zipfile.ZipFile(run_dir / "bericht.docx") as z:
        doc = z.read("word/document.xml").decode("utf-8")
        styles = z.read("word/styles.xml").decode("utf-8")
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert re.search(r'<w:pgSz w:w="1190[0-9]" w:h="1683[0-9]"', doc)  # A4 in twentieths of a point
    assert 'w:lang w:val="de-DE"' in styles and "en-US" not in styles
    assert 'TOC \\o "1-3"' in doc
    pictures = re.findall(r"<wp:docPr [^>]*>", doc)
    assert pictures and all(re.search(r'descr="[^"]{10,}"', p) for p in pictures)
    assert re.search(r"Abbildung \d+|SEQ Abbildung", doc) and "<w:tblHeader" in doc
    from pypdf import PdfReader
    pdf = PdfReader(run_dir / "bericht.pdf")
    assert len(pdf.pages) > 10
    for page in pdf.pages:
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(w - 595.28) < 1 and abs(h - 841.89) < 1  # A4 in points


def _word_lists(run_dir: Path) -> dict[str, list[str]]:
    """Every theme label and word list term of the chapters, by chapter."""
    out: dict[str, list[str]] = {}
    for p in sorted((run_dir / "_data").glob("*.json")):
        if p.stem == "quotes":  # the run's quote release summary, not a chapter
            continue
        terms: list[str] = []
        for b in json.loads(p.read_text(encoding="utf-8")):
            if b["kind"] == "table":
                for col in ("Begriff", "Kennzeichnende Begriffe"):
                    if col in b["columns"]:
                        terms += [str(r[b["columns"].index(col)]) for r in b["rows"]]
            elif b["kind"] == "heading" and re.match(r"Thema \d+: ", b["text"]):
                terms.append(b["text"].split(": ", 1)[1])
        out[p.stem] = terms
    return out


def _check_word_lists(project: Project, run_dir: Path) -> None:
    """No stop word, no fragment (a compound part, a cut stem, a short non-noun) and no placeholder in any
    theme label or word list."""
    from qualkit.nlp import stop_words
    from qualkit.units import unit_table
    from qualkit.words import SPOKEN, _ends_in_e_lemma
    tokens = {t.lower() for text in unit_table(project).text for t in re.findall(r"[^\W\d_]+", text)}
    stops = stop_words() | SPOKEN
    lists = _word_lists(run_dir)
    assert sum(len(v) for v in lists.values()) > 50
    bad = []
    for chapter, terms in lists.items():
        for term in terms:
            for w in re.split(r"\s+·\s+|\s+", term):
                low = w.lower()
                # a whole word of the material: written so, or the lemma of a form of it (Sprachkurs/Sprachkurse),
                # but no stem the lemma table cut ("letzt" for "letzte", "Wochenend" for "Wochenende")
                cut = low + "e" in tokens and (w[:1].islower() or _ends_in_e_lemma(w + "e"))
                whole = low in tokens or (not cut and any(t.startswith(low) and len(t) - len(low) <= 3 for t in tokens))
                short = len(w) < 4 and not (w[:1].isupper() and len(w) == 3) and not (w.isupper() and len(w) >= 2)
                if low in stops or short or not whole or "[" in w or "]" in w:
                    bad.append((chapter, term, w))
    assert bad == [], bad


def test_reports_example_corpus_all_chapters_reproducible(example_project: Project) -> None:
    """The main job on the shipped corpus: all chapters, HTML, Word and PDF in the form a German public body
    expects, every output a reader gets identical when everything is recomputed."""
    a = run_report(example_project, run_id="full-1", settings_overrides={"mode": "release"})
    assert a.status == "complete" and len(a.chapters) == 10
    assert (a.run_dir / "bericht.html").exists() and (a.run_dir / "bericht.docx").exists()
    assert {p.stem for p in (a.run_dir / "html").glob("*.html")} >= {"00-ueberblick", "01-befragung",
                                                                     "05-bildung-und-sprache"}
    _check_public_body_form(a.run_dir)
    _check_word_lists(example_project, a.run_dir)
    shutil.rmtree(example_project.cache_dir / "report")
    shutil.rmtree(example_project.cache_dir / "pdf")  # the PDF is printed again too
    b = run_report(example_project, run_id="full-2", settings_overrides={"mode": "release"})
    assert not b.manifest["cache_used"] and not b.manifest["pdf_cache_used"]
    na, nb_ = _normalised(a.run_dir), _normalised(b.run_dir)
    assert na.keys() == nb_.keys() and [k for k in na if na[k] != nb_[k]] == []
    # a release run quotes released quotes only: none are in the example's fresh store, so the run says how many
    # are pending (that interview quotes hide the speaker's own town is checked on the draft in test_privacy)
    assert a.manifest["quotes"]["approved"] == 0 and a.manifest["quotes"]["pending"] > 0
    # byte-identical: every output but the executed notebooks, which the manifest says differ and why
    differ = a.manifest["expected_to_differ"]
    assert set(differ) == {"notebooks/*.ipynb", "manifest.json"}
    ha = {k: v for k, v in a.manifest["outputs"].items() if not k.startswith("notebooks/")}
    hb = {k: v for k, v in b.manifest["outputs"].items() if not k.startswith("notebooks/")}
    assert {"bericht.pdf", "bericht.docx", "bericht.html"} <= set(ha)
    assert ha == hb
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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priorities are Linux's")
def test_reports_notebook_kernels_run_behind_the_rest() -> None:
    """A notebook thread lowers its own priority, and the kernel it starts inherits it, so kernels use only the
    cores the preparation and the PDF leave idle; the main thread and what it starts keep theirs."""
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    from qualkit.reports import _behind_the_rest

    def nice_of_a_child(lower: bool) -> int:
        if lower:
            _behind_the_rest()
        return int(subprocess.run(["nice"], capture_output=True, text=True, check=True).stdout)

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(nice_of_a_child, True).result() == 19
    assert nice_of_a_child(False) == os.nice(0) == 0


def test_reports_notebook_validation_without_the_iri_grammar() -> None:
    """papermill is imported without jsonschema's IRI grammar (2 s of CPU per run), and notebooks still validate."""
    code = ("import sys; from qualkit.reports import _skip_iri_grammar; _skip_iri_grammar(); import papermill, nbformat; "
            f"nbformat.validate(nbformat.read({str(REPO / 'notebooks/chapter.ipynb')!r}, as_version=4)); "
            "print(sys.modules.get('rfc3987_syntax'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "None"


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


_HANG_ONCE = """
import pathlib, time
marker = pathlib.Path({marker!r})
if not marker.exists():
    marker.write_text("the first kernel waits")
    {hang}
"""
# the cell itself waits; or the cell answers and the kernel then blocks, so the request papermill sends after
# the last cell (kernel info) is the one never answered
_IN_CELL = "time.sleep(300)"
_AFTER_CELL = "import asyncio; asyncio.get_event_loop().call_soon(time.sleep, 300)"


@pytest.mark.parametrize("hang", [_IN_CELL, _AFTER_CELL], ids=["in-a-cell", "after-the-last-cell"])
def test_reports_kernel_that_stops_answering_gets_one_more_kernel(tmp_path: Path, hang: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """nbclient would wait for ever on a kernel that is alive but does not answer: the report gives it
    KERNEL_TIMEOUT seconds, then runs the notebook again in a new kernel."""
    from qualkit import reports
    monkeypatch.setattr(reports, "KERNEL_TIMEOUT", 8)
    marker = tmp_path / "first"
    nb = _notebook(tmp_path / "in.ipynb", "print('fertig')", _HANG_ONCE.format(marker=str(marker), hang=hang))
    reports._execute(nb, tmp_path / "out.ipynb", {}, tmp_path)
    assert marker.exists()  # the first kernel ran the waiting cell
    out = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
    assert out.cells[0].outputs[0]["text"] == "fertig\n"


def test_reports_kernel_that_never_answers_fails_the_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    from qualkit import reports
    monkeypatch.setattr(reports, "KERNEL_TIMEOUT", 8)
    nb = _notebook(tmp_path / "kapitel.ipynb", "import time; time.sleep(300)")
    with pytest.raises(ReportError, match="did not answer within 8 s, twice") as exc:
        reports._execute(nb, tmp_path / "02-kapitel.ipynb", {}, tmp_path)
    assert exc.value.notebook == "02-kapitel"
