"""The report client's own memory: holding the report data whole against reading it in batches.

Issue 17 asks that the preparation's peak memory grow with its largest partition, not with the corpus.  The
workers' side is `partition_bench.py`; this is the client's (the process that runs the report and writes the
store).  For each corpus ×F of `_common.scale_project` (ingested and pseudonymised) it runs, each in a fresh
process, what the client does before the outputs' tasks start:

* ``whole`` (the baseline, what a client below `prepare.MIN_UNITS` units does): build the report data
  (`ReportData`), list each output's units and the texts to analyse;
* ``streamed`` (what a larger corpus gets): `ReportData.streamed` with the same visit per batch as
  `prepare._prepare_streamed` (each output's units, the texts the NLP cache lacks).

and measures the Python memory it allocates (tracemalloc: the data, not the libraries): its peak, and what it
still holds at the end (what it keeps while the outputs run).  Seconds are under tracemalloc (slower than a
real run; `scale.md` has real times).  Writes docs/benchmarks/client.md:

    python bench/client_bench.py 1 10 100
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import commit, host_speed, machine, scale_project, write_result

MODES = ("whole", "streamed")


def child(root: str, mode: str) -> None:
    """Runs in a subprocess: one client's work, its memory as JSON on the last line of stdout."""
    import tracemalloc

    from qualkit.prepare import _agreement_documents, _nlp_texts
    from qualkit.project import open_project
    from qualkit.reportdata import ReportData, ReportSettings
    from qualkit.reports import _chapter_names, _units_for
    project = open_project(root)
    settings = ReportSettings.from_project(project)
    names = [(name, params.get("code", "")) for name, _nb, params in _chapter_names(project, None)]
    tracemalloc.start()
    t = time.perf_counter()
    batches = 0
    if mode == "whole":
        data = ReportData(project, settings)
        data.findings  # noqa: B018 - as prepare_outputs reads them
        project.store.forget_frames()
        for name, code in names:
            _units_for(data, name, code)
        data.pipe.missing(_nlp_texts(data))
        units = len(data.units) + len(data.duplicates)
    else:
        agree: set[str] | None = None
        counted = [0]

        def visit(one: Any) -> None:
            nonlocal agree, batches
            batches += 1
            if agree is None:
                agree = _agreement_documents(one)
            for name, code in names:
                _units_for(one, name, code, agree)
            one.pipe.missing(_nlp_texts(one))
            counted[0] += len(one.units) + len(one.duplicates)

        data = ReportData.streamed(project, settings, visit)
        units = counted[0]
    held, peak = tracemalloc.get_traced_memory()
    seconds = time.perf_counter() - t
    persons = int(project.store.query("SELECT count(*) FROM cases")[0][0])
    print(json.dumps({"peak_mb": round(peak / 2**20, 1), "held_mb": round(held / 2**20, 1), "units": units,
                      "persons": persons, "batches": batches, "seconds": round(seconds, 1)}))


def _measure(root: Path, mode: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", str(root), mode], capture_output=True, text=True,
                         check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _growth(rows: dict[str, dict[str, Any]], mode: str, what: str, per: str) -> str:
    """KB of ``what`` per ``per`` (units, persons) between the smallest and the largest corpus of ``mode``."""
    mine = sorted((int(k.split("|")[0]), r) for k, r in rows.items() if k.endswith(f"|{mode}"))
    if len(mine) < 2:
        return "–"
    (_fa, a), (_fb, b) = mine[0], mine[-1]
    return f"{(b[what] - a[what]) * 1024 / max(b[per] - a[per], 1):,.2f}"


def table(results: dict[str, Any]) -> str:
    lines = ["# The report client's memory: whole or in batches", "",
             f"Machine: {machine()}. Command: `python bench/client_bench.py 1 10 100`. What the report's client "
             "allocates (tracemalloc, Python's own count: the data, without the libraries loaded) before the "
             "outputs' tasks start: `whole` builds the report data (every unit, its texts and labels) as a client "
             "below 5,000 units does; `streamed` reads it in batches of whole cases (`ReportData.streamed`) as a "
             "larger corpus is read, with the same work per batch as `prepare._prepare_streamed`. *peak* is the "
             "most it held at once, *held* what it still holds at the end (while the outputs run). Seconds are "
             "under tracemalloc, which slows Python down; `scale.md` has the real times.", "",
             "| corpus | client | units | persons (cases) | batches | peak MB | held MB | s (traced) | host s | commit |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for key in sorted(results, key=lambda k: (int(k.split("|")[0]), MODES.index(k.split("|")[1]))):
        r = results[key]
        f, mode = key.split("|")
        lines.append(f"| ×{f} | {mode} | {r['units']:,} | {r['persons']:,} | {r['batches'] or '–'} | {r['peak_mb']} | "
                     f"{r['held_mb']} | {r['seconds']} | {r.get('host_s', '–')} | {r.get('commit', '?')} |")
    lines += ["", "From the smallest to the largest corpus measured, per unit (KB): the whole client's peak grew by "
              f"{_growth(results, 'whole', 'peak_mb', 'units')}, what it holds by "
              f"{_growth(results, 'whole', 'held_mb', 'units')}; the streamed client's peak by "
              f"{_growth(results, 'streamed', 'peak_mb', 'units')} (its peak is what it holds and one batch: a batch "
              "holds about 10,000 units however large the corpus) and what it holds by "
              f"{_growth(results, 'streamed', 'held_mb', 'units')}, that is "
              f"{_growth(results, 'streamed', 'held_mb', 'persons')} KB per person: the shared state every output "
              "reads (each person's case variables and group per compared variable), which grows with the persons, "
              "not with what they said.", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("factors", nargs="*", type=int, default=[1, 10, 100])
    ap.add_argument("--child", nargs=2)
    ap.add_argument("--table-only", action="store_true", help="only rewrite client.md from client.json")
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    from _common import DOCS
    if args.table_only:
        results = json.loads((DOCS / "client.json").read_text(encoding="utf-8"))
        write_result("client", table(results), results)
        return
    from qualkit.corpus import ingest
    from qualkit.privacy import pseudonymise_project
    from qualkit.project import open_project
    path = DOCS / "client.json"
    results: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for f in args.factors:
        root = scale_project(f)
        try:
            project = open_project(root)
            ingest(project)
            pseudonymise_project(project)
            project.store.close()
            for mode in MODES:
                host = host_speed()
                r = _measure(root, mode)
                results[f"{f}|{mode}"] = {**r, "host_s": round(host, 2), "commit": commit()}
                print(f"×{f} {mode}: {r}", flush=True)
        finally:
            shutil.rmtree(root.parent, ignore_errors=True)
    write_result("client", table(results), results)


if __name__ == "__main__":
    main()
