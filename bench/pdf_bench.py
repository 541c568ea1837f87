"""The cost of bericht.pdf: the combined page of a finished report run rebuilt from its chapter data with the
current code, then printed by WeasyPrint three times in this process (wall and CPU seconds, pages), with the
machine's load average, since a shared machine inflates the wall time.  Also the Word file's cost for scale.
Usage: ``python bench/pdf_bench.py outputs/<run>``.  Writes docs/benchmarks/pdf.md."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pypdf import PdfReader

from _common import machine, write_result
from qualkit.appendix import method_appendix
from qualkit.blocks import blocks_from_json, report_html
from qualkit.pdf import html_to_pdf
from qualkit.worddoc import blocks_to_docx


def main() -> None:
    run = Path(sys.argv[1])
    names = sorted(p.stem for p in (run / "_data").glob("*.json") if (run / "html" / f"{p.stem}.html").exists())
    chapters = [(n, blocks_from_json(run / "_data" / f"{n}.json")) for n in names]
    out = Path(tempfile.mkdtemp(prefix="qk-pdf-"))
    t = time.perf_counter()
    page = report_html(chapters, base=run, title="Bericht", appendix=method_appendix())
    (out / "bericht.html").write_text(page, encoding="utf-8")
    html_s = time.perf_counter() - t
    t, c = time.perf_counter(), time.process_time()
    blocks_to_docx(chapters, out / "bericht.docx", base=run, title="Bericht", appendix=method_appendix())
    docx_s, docx_cpu = time.perf_counter() - t, time.process_time() - c
    walls, cpus = [], []
    for _ in range(3):
        t, c = time.perf_counter(), time.process_time()
        html_to_pdf(out / "bericht.html", out / "bericht.pdf")
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    pages = len(PdfReader(out / "bericht.pdf").pages)
    load = os.getloadavg()[0]
    res = {"chapters": len(chapters), "pages": pages, "html_s": round(html_s, 2), "docx_s": round(docx_s, 2),
           "docx_cpu_s": round(docx_cpu, 2),
           "pdf_wall_s": round(statistics.median(walls), 2), "pdf_cpu_s": round(statistics.median(cpus), 2),
           "load_average": round(load, 1)}
    lines = ["# PDF benchmark", "", f"Machine: {machine()}, load average {res['load_average']} while measuring. "
             f"Command: `python bench/pdf_bench.py outputs/<run>` on a run of the example project.", "",
             "| what | result |", "|---|---|",
             f"| combined page | {res['chapters']} chapters + method appendix, {res['html_s']} s |",
             f"| Word file | {res['docx_s']} s wall, {res['docx_cpu_s']} s CPU |",
             f"| PDF (WeasyPrint, median of 3) | {res['pages']} A4 pages, {res['pdf_wall_s']} s wall, "
             f"{res['pdf_cpu_s']} s CPU |", "",
             "CPU seconds are the cost on an idle core; a report run prints the PDF in a separate process while the "
             "notebooks execute and keeps it in the cache by the page's hash (a warm run copies it)."]
    write_result("pdf", "\n".join(lines) + "\n", res)


if __name__ == "__main__":
    main()
