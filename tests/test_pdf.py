"""The PDF printer: a warm process started ahead of its page, the cache, failures."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

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
