"""Export and unit texts in linear time: one transcript grown from the example's size (×1) to 100 MB.

For each size: ingest, reference codings on every 10th respondent turn (loaded by ingest from a coding file, as
a researcher's would be), then the time of ``unit_table`` (all unit texts), ``retrieve`` of one code (the coded
segments) and ``export_xlsx`` (the whole Excel export, leak guard included).  Up to 2 MB the old way of cutting
unit texts, one SQL ``substr`` per unit, is timed on the same store for comparison.  Writes
docs/benchmarks/export.md.  Usage: ``python bench/export_bench.py [MB ...]`` (default: ×1 1 2 5 10 100).
"""

from __future__ import annotations

import csv
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, machine, write_result
from qualkit.analysis import retrieve
from qualkit.corpus import ingest
from qualkit.exports import export_xlsx
from qualkit.project import init_project, open_project
from qualkit.units import unit_table

CODE = "Bildung und Sprache"


def build(root: Path, megabytes: float) -> Path:
    """A project with one interview ``I01`` of about ``megabytes`` MB: the example's I01 repeated (×1: as is)."""
    init_project(root, name="Export-Benchmark")
    source = (REPO / "transcripts/interviews/I01.txt").read_text(encoding="utf-8").strip() + "\n\n"
    copies = max(1, round(megabytes * 2**20 / len(source.encode("utf-8")))) if megabytes else 1
    with (root / "transcripts/interviews/I01.txt").open("w", encoding="utf-8") as f:
        for _ in range(copies):
            f.write(source)
    (root / "transcripts/interviews.csv").write_text("id,Funktionsgruppe\nI01,Verwaltung\n", encoding="utf-8")
    return root


def add_codings(root: Path) -> int:
    project = open_project(root)
    ingest(project)
    units = project.store.units("I01")
    units = units[units.role == "respondent"].iloc[::10]
    text = project.store.document_text("I01")
    path = root / "transcripts/codings.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["document", "start", "end", "code", "coder", "quote"])
        for r in units.itertuples():
            w.writerow(["I01", r.start, r.end, CODE, "ref", text[int(r.start):int(r.end)]])
    cfg = root / "qualkit.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("files = []                               # reference",
                                                           'files = ["transcripts/codings.csv"]  # reference'),
                   encoding="utf-8")
    return len(units)


def old_unit_texts(root: Path) -> float:
    """The replaced way: one SQL ``substr`` per unit (each walks the document's UTF-8 text from its start)."""
    project = open_project(root)
    t = time.perf_counter()
    project.store.query('SELECT substr(d.text, u.start + 1, u."end" - u.start) FROM units u JOIN documents d '
                        "ON d.id = u.document_id WHERE u.role != 'interviewer'")
    return time.perf_counter() - t


def main(sizes: tuple[float, ...] = (0, 1, 2, 5, 10, 100)) -> None:
    rows = []
    for mb in sizes:
        root = build(Path(tempfile.mkdtemp(prefix="qk-export-")) / "proj", mb)
        n_codings = add_codings(root)
        project = open_project(root)
        t = time.perf_counter()
        ingest(project)
        t_ingest = time.perf_counter() - t
        size = len(project.store.document_text("I01").encode("utf-8"))
        t = time.perf_counter()
        units = unit_table(project)
        t_units = time.perf_counter() - t
        t = time.perf_counter()
        seg = retrieve(project, CODE)
        t_retrieve = time.perf_counter() - t
        assert len(seg) == n_codings, (len(seg), n_codings)
        t = time.perf_counter()
        export_xlsx(project, root / "outputs" / "steuerung.xlsx")
        t_export = time.perf_counter() - t
        old = round(old_unit_texts(root), 2) if size <= 2.5 * 2**20 else None
        rows.append({"label": "×1 (example I01)" if not mb else f"{mb:g} MB", "mb": round(size / 2**20, 2),
                     "units": len(units), "codings": n_codings, "ingest_s": round(t_ingest, 2),
                     "unit_table_s": round(t_units, 2), "retrieve_s": round(t_retrieve, 2),
                     "export_xlsx_s": round(t_export, 2), "old_substr_unit_texts_s": old})
        print(rows[-1], flush=True)
    base = next((r for r in rows if r["mb"] >= 0.9), rows[-1])
    lines = ["# Export benchmark: unit texts and the Excel export are linear in transcript size", "",
             f"Machine: {machine()} (shared with other work while measured). Command: `python bench/export_bench.py`.",
             "", "One interview, the example's `I01` repeated; a reference coding on every 10th respondent turn. "
             "Times in seconds; \"per MB\" is the export time per MB relative to the first size of at least 1 MB "
             "(1.0 = linear; below 1 the fixed costs still dominate). \"ingest\" loads the coding file.", "",
             "| transcript | MB | units | codings | ingest | unit_table | retrieve | export_xlsx | export per MB vs 1 MB "
             "| old: unit texts by SQL substr |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        per_mb = (r["export_xlsx_s"] / r["mb"]) / (base["export_xlsx_s"] / base["mb"])
        old = "–" if r["old_substr_unit_texts_s"] is None else r["old_substr_unit_texts_s"]
        lines.append(f"| {r['label']} | {r['mb']} | {r['units']:,} | {r['codings']:,} | {r['ingest_s']} | "
                     f"{r['unit_table_s']} | {r['retrieve_s']} | {r['export_xlsx_s']} | {per_mb:.2f} | {old} |")
    lines += ["", "Unit texts are cut in Python from one read of each document (`qualkit.units.slice_texts`), and "
              "codings are matched to units by binary search; before, each unit's text was one SQL `substr` "
              "call (which walks the UTF-8 text from its start, so the cost grew with the square of the "
              "transcript) and each coded segment fetched the whole document text once more. "
              "The last column times only that old query on the same store, for sizes up to 2 MB (it grows with the "
              "square of the size: 10 MB would take minutes)."]
    write_result("export", "\n".join(lines) + "\n", rows)


if __name__ == "__main__":
    main(tuple(float(x) for x in sys.argv[1:]) or (0, 1, 2, 5, 10, 100))
