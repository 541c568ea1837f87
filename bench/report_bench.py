"""Wall time of `qualkit report` on the example project, cold (empty NLP, chapter and PDF caches) and warm, split
into ingest, preparation (shared computation), the combined report (HTML + Word, PDF started in the
background), notebook execution (kernel start-up + rendering), conversion of the chapter pages and the wait
for the PDF; the PDF's own cost (printing bericht.html alone, wall and CPU); and cold on the project ×10.
Writes docs/benchmarks/report.md."""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DOCS, copy_project, machine, scale_project, write_result
from qualkit.project import open_project
from qualkit.reports import run_report


def _cpu() -> float:
    """CPU seconds of this process and its finished children (notebook kernels, the PDF process)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(root: Path, label: str, jobs: int = 2) -> dict[str, float]:
    t, c = time.perf_counter(), _cpu()
    run = run_report(open_project(root), jobs=jobs, run_id=f"bench-{label}")
    total = time.perf_counter() - t
    out = {k: round(v, 2) for k, v in run.timings.items() if ":" not in k}
    out["wall"] = round(total, 2)
    out["cpu"] = round(_cpu() - c, 1)
    out["load"] = round(os.getloadavg()[0], 1)
    kernels = [v for k, v in run.timings.items() if k.startswith("notebook:")]
    out["notebooks_run"] = len(kernels)
    out["mean_notebook_s"] = round(sum(kernels) / max(len(kernels), 1), 2)
    print(label, out, flush=True)
    return out


def pdf_cost(html: Path) -> dict[str, float]:
    """Printing the combined page to PDF alone, in this process: wall and CPU seconds, pages."""
    from pypdf import PdfReader

    from qualkit.pdf import html_to_pdf
    out = html.with_name("bench.pdf")
    t, c = time.perf_counter(), time.process_time()
    html_to_pdf(html, out)
    res = {"wall": round(time.perf_counter() - t, 2), "cpu": round(time.process_time() - c, 2),
           "pages": len(PdfReader(out).pages)}
    out.unlink()
    return res


def render(data: dict[str, Any]) -> str:
    """The markdown table of the results (``data`` as written to report.json)."""
    rows = [(k, v) for k, v in data.items() if k != "pdf"]
    cold, pdf = data["example, cold"], data.get("pdf")
    lines = ["# Report benchmark", "", f"Machine: {machine()}. Command: `python bench/report_bench.py` (`--no-x10` "
             "leaves out the scaled corpus; `--table-only` rewrites this page from report.json). "
             f"{cold['notebooks_run']} notebooks (summary, overview, survey, one chapter per code), `--jobs 2` "
             "unless noted. *CPU s* is the processor time of the run and its child processes (notebook kernels, "
             "the PDF); it hardly depends on the machine's load, while the wall times do: *load* is the 1-minute "
             "load average when the run ended (on 2 cores, a load above 2 stretches the wall time).", "",
             "| run | total s | CPU s | load | ingest s | prepare s | combined s | notebooks s | mean per notebook s "
             "| convert s | PDF wait s | leak guard s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in rows:
        lines.append(f"| {name} | {r['wall']} | {r.get('cpu', '–')} | {r.get('load', '–')} | {r.get('ingest', 0)} "
                     f"| {r.get('prepare', 0)} | {r.get('combined', 0)} | {r.get('notebooks', 0)} "
                     f"| {r['mean_notebook_s']} | {r.get('convert', 0)} | {r.get('pdf_wait', 0)} "
                     f"| {r.get('leak_guard', 0)} |")
    if pdf:
        share = round(100 * pdf["cpu"] / cold["cpu"]) if cold.get("cpu") else None
        lines += ["", f"PDF alone (bericht.html of the cold run printed once more by WeasyPrint in this process): "
                  f"{pdf['wall']} s wall, {pdf['cpu']} s CPU, {pdf['pages']} A4 pages"
                  + (f", {share} % of the cold run's CPU seconds." if share else ".")]
    lines += ["", "How a run spends its time: `ingest` reads the project into the store and pseudonymises; "
              "`prepare` computes every output's data once (NLP, themes, quotes, figures) on forked workers — "
              "each notebook starts as soon as its chapter's data is written, its kernel at the lowest priority, "
              "so kernels run in the moments the workers and later the PDF leave a core idle (`notebooks` is what "
              "is left of them afterwards); a printing process loads WeasyPrint and the hyphenation patterns "
              "meanwhile. `combined` writes bericht.html, hands it to that process (the PDF), then writes "
              "bericht.docx; `convert` turns the executed notebooks into chapter pages; the leak guard scans "
              "every output while the PDF is printed; `PDF wait` is what is left of the PDF after that. A warm run "
              "copies the chapter data and the PDF from the project cache (keyed by their inputs), so it runs the "
              "notebooks only.",
              "", "Targets: ≤ 15 s warm, ≤ 30 s cold on 2 cores (an idle machine: the wall time of a run is at "
              "least its CPU seconds / 2)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    if "--table-only" in sys.argv:
        data = json.loads((DOCS / "report.json").read_text(encoding="utf-8"))
        (DOCS / "report.md").write_text(render(data), encoding="utf-8")
        return
    root = copy_project()
    cold = timed(root, "cold")  # first run: store, NLP cache, chapter cache and PDF cache are empty
    pdf = pdf_cost(root / "outputs" / "bench-cold" / "bericht.html")
    print("pdf", pdf, flush=True)
    warm = timed(root, "warm")
    shutil.rmtree(root / ".qualkit/cache/report")
    shutil.rmtree(root / ".qualkit/cache/pdf")
    warm_nlp = timed(root, "warm-nlp-only")  # NLP cached, chapters and PDF recomputed
    one = timed(root, "warm-jobs1", jobs=1)
    rows = [("example, cold", cold), ("example, warm (all caches)", warm), ("example, NLP cached, chapters "
            "recomputed", warm_nlp), ("example, warm, --jobs 1", one)]
    if "--no-x10" not in sys.argv:
        rows.append(("example ×10, cold", timed(scale_project(10), "x10-cold")))
    data = {**dict(rows), "pdf": pdf}
    write_result("report", render(data), data)


if __name__ == "__main__":
    main()
