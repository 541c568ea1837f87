"""The PDF report: the combined HTML page printed to A4 by WeasyPrint (CSS paged media, Debian's pango).

The page's own print stylesheet (``data/report.css``) sets A4, margins, page numbers and page breaks, so
the PDF shows exactly the content of ``bericht.html``.  Only ``data:`` URIs are loaded (the page embeds
everything it needs); the PDF is tagged (structure for screen readers), carries no creation date and no
file identifier, so the same page gives the same bytes.

Printing ~90 pages takes WeasyPrint about 10 s of CPU.  A report run therefore starts it in a separate
process (:func:`start_pdf`) as soon as the combined page exists, while the notebooks run, and keeps the
result in the project's cache keyed by the page's hash: an unchanged report is not printed again.  The cost
is measured in ``bench/report_bench.py`` (docs/benchmarks/report.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from .errors import ReportError

__all__ = ["PdfJob", "html_to_pdf", "start_pdf", "warm_printer"]

log = logging.getLogger(__name__)
_HINT = ("install the Debian packages libpango-1.0-0 and libharfbuzz-subset0 (apt-get install libpango-1.0-0 "
         "libharfbuzz-subset0) and qualkit's dependencies (make report)")


def html_to_pdf(html_path: str | Path, pdf_path: str | Path) -> None:
    """Print a self-contained HTML page to an A4 PDF (see the module docstring).

    Raises
    ------
    ReportError
        WeasyPrint or the system libraries it needs (pango) are missing.
    """
    try:
        import weasyprint
    except (ImportError, OSError) as e:  # OSError: pango's shared libraries are not installed
        raise ReportError(f"the PDF cannot be written: {e}", hint=_HINT) from e
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    _memoise_page_references()
    fetcher = weasyprint.URLFetcher(allowed_protocols=("data",))
    doc = weasyprint.HTML(filename=str(html_path), url_fetcher=fetcher, encoding="utf-8")
    doc.write_pdf(str(pdf_path), pdf_tags=True, pdf_identifier=False)


_PAGE_REFERENCES: Any = None


def _memoise_page_references() -> None:
    """pydyf's ``PDF.page_references`` builds the tuple of every page's reference anew on each call, and
    WeasyPrint's tagging asks it once per tagged element: 14,500 calls × 134 pages, about 1.5 s of a report's
    PDF.  The tuple only changes when a page is added (``Kids`` grows), so it is kept until then; the PDF's
    bytes are the same (``tests/test_pdf.py``)."""
    import pydyf  # type: ignore[import-untyped]
    global _PAGE_REFERENCES
    if getattr(pydyf.PDF, "_qualkit_memo", False):
        return
    _PAGE_REFERENCES = pydyf.PDF.__dict__["page_references"]  # the original, for the test that compares bytes

    def page_references(self: Any) -> tuple[bytes, ...]:
        kids = self.pages["Kids"]
        memo = self.__dict__.get("_qualkit_refs")
        if memo is None or memo[0] != len(kids):
            memo = (len(kids), tuple(f"{n} 0 R".encode("ascii") for n in kids[::3]))
            self.__dict__["_qualkit_refs"] = memo
        return memo[1]

    pydyf.PDF.page_references = property(page_references)
    pydyf.PDF._qualkit_memo = True


def _key(html_path: Path) -> str:
    h = hashlib.sha256(html_path.read_bytes())
    h.update(version("weasyprint").encode())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()[:32]


@dataclass
class PdfJob:
    """A PDF being printed in the background (or already copied from the cache)."""

    pdf_path: Path
    cached: Path | None
    process: subprocess.Popen[bytes] | None = None

    def wait(self) -> bool:
        """Wait for the PDF; returns True when it came from the cache.  Raises :class:`ReportError` if
        printing failed."""
        if self.process is None:
            return True
        _, err = self.process.communicate()
        if self.process.returncode != 0:
            raise ReportError(f"the PDF could not be written: {err.decode('utf-8', 'replace').strip()[-800:]}",
                              hint=_HINT)
        if self.cached is not None:
            self.cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cached.with_suffix(".tmp")
            shutil.copyfile(self.pdf_path, tmp)
            tmp.replace(self.cached)
        return False

    def cancel(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def warm_printer() -> PdfJob:
    """A printing process started ahead of its page: it loads WeasyPrint, the fonts and the hyphenation
    dictionary (about 1.5 s of CPU) while the report is still being prepared, then waits for
    :func:`start_pdf` to name the page.  :meth:`PdfJob.cancel` ends it unused."""
    return PdfJob(Path(), None, _printer_process())


def _printer_process() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "qualkit.pdf", "--serve"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def start_pdf(html_path: str | Path, pdf_path: str | Path, *, cache_dir: str | Path | None = None,
              printer: PdfJob | None = None) -> PdfJob:
    """Start printing ``html_path`` to ``pdf_path`` in a separate process (``printer``, a
    :func:`warm_printer`, if given); a page printed before is copied from ``cache_dir`` at once."""
    html_path, pdf_path = Path(html_path), Path(pdf_path)
    cached = Path(cache_dir) / f"{_key(html_path)}.pdf" if cache_dir else None
    if cached is not None and cached.exists():
        if printer is not None:
            printer.cancel()
        shutil.copyfile(cached, pdf_path)
        return PdfJob(pdf_path, cached)
    proc = printer.process if printer is not None and printer.process is not None else None
    if proc is None or proc.poll() is not None or proc.stdin is None:
        proc = _printer_process()
    assert proc.stdin is not None
    proc.stdin.write(json.dumps([str(html_path), str(pdf_path)]).encode() + b"\n")
    proc.stdin.flush()  # not closed: PdfJob.wait's communicate() closes it
    return PdfJob(pdf_path, cached, proc)


def _warm_up() -> None:
    """Lay out a small page with the report's stylesheet: loads WeasyPrint, fontconfig and the German
    hyphenation patterns (about 2 s of CPU on their own; WeasyPrint loads them only when a line must break, so
    the words stand in a narrow box)."""
    from importlib import resources

    import weasyprint
    css = resources.files("qualkit").joinpath("data/report.css").read_text(encoding="utf-8")
    weasyprint.HTML(string=f'<html lang="de"><style>{css}</style><h1>Bericht</h1><p style="width:15mm">'
                           "Integrationsbeauftragte Verwaltungsvereinfachung</p><table><tr><th>Spalte</th></tr>"
                           "<tr><td>1</td></tr></table></html>").render()


def _serve() -> None:
    """``python -m qualkit.pdf --serve`` (the one way qualkit starts it): warm up, then print the page named on
    standard input (a JSON pair ``[html, pdf]``); end quietly when the input closes without one."""
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    _warm_up()
    line = sys.stdin.readline()
    if not line.strip():
        return
    html_path, pdf_path = json.loads(line)
    html_to_pdf(html_path, pdf_path)


if __name__ == "__main__":
    _serve()
