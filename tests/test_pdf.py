"""The PDF printer: a warm process started ahead of its page, the cache, failures."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

import qualkit.pdf
from qualkit.errors import ReportError
from qualkit.pdf import html_to_pdf, start_pdf, warm_printer

PAGE = ('<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>T</title>'
        "<style>@page{size:A4}</style></head><body><h1>Integrationskonzept</h1>"
        "<p>Sprachkurse mit Kinderbetreuung fehlen.</p></body></html>")


def _page(tmp_path: Path) -> Path:
    p = tmp_path / "bericht.html"
    p.write_text(PAGE, encoding="utf-8")
    return p


def test_pdf_warm_printer_prints_the_same_bytes(tmp_path: Path) -> None:
    html = _page(tmp_path)
    printer = warm_printer()
    job = start_pdf(html, tmp_path / "warm.pdf", cache_dir=tmp_path / "cache", printer=printer)
    assert job.process is printer.process  # the warm process printed it, no second one
    assert job.wait() is False
    html_to_pdf(html, tmp_path / "direct.pdf")
    assert (tmp_path / "warm.pdf").read_bytes() == (tmp_path / "direct.pdf").read_bytes()
    page = PdfReader(tmp_path / "warm.pdf").pages[0]
    assert round(float(page.mediabox.width) / 72 * 25.4) == 210  # A4
    assert "Kinderbetreuung" in page.extract_text()


def test_pdf_cached_page_ends_the_unused_printer(tmp_path: Path) -> None:
    html = _page(tmp_path)
    start_pdf(html, tmp_path / "a.pdf", cache_dir=tmp_path / "cache").wait()
    printer = warm_printer()
    job = start_pdf(html, tmp_path / "b.pdf", cache_dir=tmp_path / "cache", printer=printer)
    assert job.wait() is True
    assert printer.process is not None and printer.process.poll() is not None  # ended, not left waiting
    assert (tmp_path / "b.pdf").read_bytes() == (tmp_path / "a.pdf").read_bytes()


def test_pdf_printer_ends_when_nobody_names_a_page(tmp_path: Path) -> None:
    printer = warm_printer()
    assert printer.process is not None and printer.process.stdin is not None
    printer.process.stdin.close()  # the report run ended (or failed) before its page existed
    assert printer.process.wait(timeout=120) == 0


def test_pdf_failure_is_a_report_error(tmp_path: Path) -> None:
    job = start_pdf(tmp_path / "missing.html", tmp_path / "x.pdf", printer=warm_printer())
    with pytest.raises(ReportError, match="PDF could not be written"):
        job.wait()


def test_pdf_page_reference_memo_keeps_the_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """qualkit keeps pydyf's page references between pages instead of rebuilding them per tagged element: a
    tagged PDF of many pages, headings, tables and links comes out byte for byte as without it."""
    import pydyf
    body = "".join(f'<h2 id="k{i}">Kapitel {i}</h2><p>Sprachkurse mit Kinderbetreuung fehlen. <a href="#k{(i + 3) % 12}">'
                   f"Siehe Kapitel {(i + 3) % 12}</a></p><table><tr><th>Feld</th><th>Anzahl</th></tr>"
                   f"<tr><td>Bildung</td><td>{i}</td></tr></table><div style='break-after:page'></div>"
                   for i in range(12))
    html = tmp_path / "lang.html"
    html.write_text(f'<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>T</title></head>'
                    f"<body>{body}</body></html>", encoding="utf-8")
    html_to_pdf(html, tmp_path / "memo.pdf")
    assert pydyf.PDF._qualkit_memo  # type: ignore[attr-defined]
    monkeypatch.setattr(pydyf.PDF, "page_references", qualkit.pdf._PAGE_REFERENCES)
    monkeypatch.setattr(qualkit.pdf, "_memoise_page_references", lambda: None)
    html_to_pdf(html, tmp_path / "plain.pdf")
    assert len(PdfReader(tmp_path / "plain.pdf").pages) == 12
    assert (tmp_path / "memo.pdf").read_bytes() == (tmp_path / "plain.pdf").read_bytes()


def test_pdf_warm_up_loads_the_german_hyphenation() -> None:
    """The printer's warm-up must make WeasyPrint load the hyphenation patterns (it does only when a line breaks):
    they cost 2 s, which would otherwise fall on the report's critical path."""
    import pyphen
    pyphen.hdcache.clear()
    qualkit.pdf._warm_up()
    assert any("de" in Path(str(k)).name for k in pyphen.hdcache)
