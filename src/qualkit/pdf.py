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
import logging
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from .errors import ReportError

__all__ = ["PdfJob", "html_to_pdf", "start_pdf"]

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
    fetcher = weasyprint.URLFetcher(allowed_protocols=("data",))
    doc = weasyprint.HTML(filename=str(html_path), url_fetcher=fetcher, encoding="utf-8")
    doc.write_pdf(str(pdf_path), pdf_tags=True, pdf_identifier=False)


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


def start_pdf(html_path: str | Path, pdf_path: str | Path, *, cache_dir: str | Path | None = None) -> PdfJob:
    """Start printing ``html_path`` to ``pdf_path`` in a separate process; a page printed before is copied
    from ``cache_dir`` at once."""
    html_path, pdf_path = Path(html_path), Path(pdf_path)
    cached = Path(cache_dir) / f"{_key(html_path)}.pdf" if cache_dir else None
    if cached is not None and cached.exists():
        shutil.copyfile(cached, pdf_path)
        return PdfJob(pdf_path, cached)
    proc = subprocess.Popen([sys.executable, "-m", "qualkit.pdf", str(html_path), str(pdf_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return PdfJob(pdf_path, cached, proc)


if __name__ == "__main__":
    html_to_pdf(sys.argv[1], sys.argv[2])
