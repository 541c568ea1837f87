"""Memory by partition: what one report output costs a worker, against the units it works on.

Issue 17 asks that the preparation's peak memory grow with its largest partition, not with the corpus.  This
benchmark measures the part that decides it on one machine: a worker forked from the client (as `qualkit report
--jobs 2` does, :class:`qualkit.prepare._Forked`) computes one output; its private memory (USS: the pages it
no longer shares with the client, copied on write, plus what it allocates) is sampled every 0.2 s.  For each
corpus ×F of `_common.scale_project` and each output: the units of its partition (the code's counted units; all
counted units for the overview, the survey answers for the survey chapter), the worker's peak private memory and
its seconds; and the client's shared state (the report data every output reads).  Each output runs in a fresh
fork, so every row is one output's own cost.  Writes docs/benchmarks/partitions.md:

    python bench/partition_bench.py 1 10 100
    python bench/partition_bench.py 1 10 100 --no-preload   # the baseline: workers load their own libraries

`--no-preload` leaves out what `qualkit report` does before forking (:func:`qualkit.prepare._preload`: the
chapter modules, their libraries and the NLP tables loaded once in the client and shared by every worker).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DOCS, commit, host_speed, machine, scale_project, write_result


def _uss() -> float:
    import psutil
    return float(psutil.Process().memory_full_info().uss) / 2**20


def _in_worker(data: Any, name: str, code: str) -> dict[str, Any]:
    """Runs in the forked worker: one output, its peak private memory in MB and its seconds."""
    from qualkit import prepare
    prepare._forked_init()
    start = peak = _uss()
    stop = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not stop.wait(0.2):
            peak = max(peak, _uss())

    th = threading.Thread(target=watch, daemon=True)
    th.start()
    t = time.perf_counter()
    prepare.output_blocks(data, name, code)
    seconds = time.perf_counter() - t
    stop.set()
    th.join()
    return {"worker_mb": round(max(peak, _uss()) - start), "seconds": round(seconds, 1)}


def _fork(data: Any, name: str, code: str) -> dict[str, Any]:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: reports through the pipe and leaves without running the parent's clean-up
        os.close(r)
        try:
            out = json.dumps(_in_worker(data, name, code))
        except BaseException as e:  # reported to the parent, which fails the benchmark
            out = json.dumps({"error": repr(e)})
        os.write(w, out.encode())
        os._exit(0)
    os.close(w)
    chunks = []
    while chunk := os.read(r, 65536):
        chunks.append(chunk)
    os.close(r)
    os.waitpid(pid, 0)
    res = json.loads(b"".join(chunks))
    if "error" in res:
        raise RuntimeError(f"{name}: {res['error']}")
    return dict(res)


def _pickled_mb(obj: Any, data: Any) -> float:
    """Megabytes of ``obj`` pickled as the report's snapshot pickles it (prepare._StatePickler)."""
    import io

    from qualkit import prepare
    buf = io.BytesIO()
    prepare._StatePickler(buf, data).dump(obj)
    return round(buf.tell() / 2**20, 1)


def _snapshot_sizes(data: Any) -> dict[str, float]:
    """What a Dask or spawned worker reads: the shared state (once per worker), against the whole report data
    every worker read until commit 0ff6d75 (units, labels and the quote picker's arrays included)."""
    from qualkit import prepare
    state = {k: v for k, v in data.__dict__.items() if k not in prepare._STATE_SKIP}
    return {"whole_state_mb": _pickled_mb(state, data),
            "shared_state_mb": _pickled_mb({k: v for k, v in data.shared_state().items()
                                            if k not in prepare._STATE_SKIP}, data)}


def measure(factor: int, preload: bool) -> dict[str, Any]:
    from qualkit import prepare
    from qualkit.project import open_project
    from qualkit.reportdata import ReportData, ReportSettings
    from qualkit.reports import _chapter_names, _units_for
    root = scale_project(factor)
    try:
        # ingested in another process, so that what this one holds when it forks is what a report's client holds
        # (and the shared data's size is not hidden by memory the ingest freed)
        import subprocess
        subprocess.run([sys.executable, "-c", "import sys; from qualkit.corpus import ingest; "
                        "from qualkit.project import open_project; ingest(open_project(sys.argv[1]))", str(root)],
                       check=True)
        project = open_project(root)
        before = _uss()
        data = ReportData(project, ReportSettings.from_project(project))
        data.findings  # noqa: B018 - as prepare_outputs reads them before forking
        project.store.forget_frames()  # as prepare_outputs does: the store's copies of the tables are not kept
        gc.collect()
        shared = _uss() - before
        rows = []
        sizes = _snapshot_sizes(data)
        parts = {name: _units_for(data, name, params.get("code", "")) for name, _nb, params in
                 _chapter_names(project, None)}
        part_mb = {name: _pickled_mb(data.partition(ids), data) for name, ids in parts.items()}
        gc.collect()
        prepare._FORKED = data
        if preload:
            prepare._preload()  # as prepare._Forked does before forking
        gc.freeze()  # as prepare._Processes does
        try:
            for name, _nb, params in _chapter_names(project, None):
                code = params.get("code", "")
                rows.append({"output": code or name, "units": len(parts[name]), "part_mb": part_mb[name],
                             **_fork(data, name, code)})
        finally:
            gc.unfreeze()
            prepare._FORKED = None
        return {"factor": factor, "preload": preload, "corpus_units": len(data.units), "shared_mb": round(shared),
                "outputs": rows, "host_s": host_speed(), **sizes}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _order(key: str) -> tuple[int, int]:
    return int(key.split("|")[0]), "|" in key


def _run(r: dict[str, Any]) -> str:
    return "preloaded" if r.get("preload", True) else "own libraries"


def table(results: dict[str, Any]) -> str:
    out = ["| corpus | workers' libraries | counted units | client's shared report data MB | output | its units | "
           "worker's private memory MB | MB per 1,000 of its units | s | its part pickled MB | commit |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for key in sorted(results, key=_order):
        r = results[key]
        for o in r["outputs"]:
            per = f"{o['worker_mb'] / o['units'] * 1000:.1f}" if o["units"] else "–"
            out.append(f"| ×{r['factor']} | {_run(r)} | {r['corpus_units']:,} | {r['shared_mb']} | {o['output']} | "
                       f"{o['units']:,} | {o['worker_mb']} | {per} | {o['seconds']} | {o.get('part_mb', '–')} | "
                       f"{r.get('commit', '?')} |")
    return "\n".join(out)


def snapshot_table(results: dict[str, Any]) -> str:
    """What a Dask or spawned worker reads, per corpus: the shared state once, one part per output."""
    out = ["| corpus | whole report data pickled MB (every worker, until 0ff6d75) | shared state MB (once per worker) | "
           "largest part MB (its output) | all parts MB | commit |", "|---|---|---|---|---|---|"]
    for key in sorted(results, key=_order):
        r = results[key]
        if "shared_state_mb" not in r:
            continue
        big = max(r["outputs"], key=lambda o: o.get("part_mb", 0))
        out.append(f"| ×{r['factor']} | {r['whole_state_mb']} | {r['shared_state_mb']} | {big['part_mb']} "
                   f"({big['output']}) | {sum(o['part_mb'] for o in r['outputs']):.1f} | {r.get('commit', '?')} |")
    return "\n".join(out)


def _chapters(r: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in r["outputs"] if o["units"] and not o["output"].startswith("0")]


def replaced_shared(r: dict[str, Any]) -> str:
    """What the client's shared data took in the rows ``r`` replaced, oldest first, as a parenthesis ("" if
    none); scale.md says it too."""
    history = r.get("shared_history", [])
    return (" (in the rows this one replaced: " + ", ".join(f"{mb} MB at commit {at}" for mb, at in history) + ")"
            if history else "")


def summary(results: dict[str, Any]) -> str:
    """Issue 17's point 1 in numbers: does a worker grow with its partition or with the corpus?  Compared for the
    code chapters, whose partitions differ in size within one corpus, and across corpora."""
    lines = []
    for key in sorted(results, key=_order):
        r = results[key]
        ch = _chapters(r)
        if len(ch) < 2:
            continue
        small, large = min(ch, key=lambda o: o["units"]), max(ch, key=lambda o: o["units"])
        lines.append(f"- ×{r['factor']}, {_run(r)}: the smallest chapter ({small['units']:,} units) took "
                     f"{small['worker_mb']} MB, the largest ({large['units']:,} units, "
                     f"{large['units'] / small['units']:.2f} times as many) {large['worker_mb']} MB "
                     f"({large['worker_mb'] / max(1, small['worker_mb']):.2f} times); the corpus has "
                     f"{r['corpus_units']:,} units, the client's shared report data takes {r['shared_mb']} MB"
                     f"{replaced_shared(r)}.")
    for key in sorted(results, key=_order):
        base = results.get(f"{key}|no preload")
        if "|" in key or base is None:
            continue
        r = results[key]
        a, b = max(o["worker_mb"] for o in base["outputs"]), max(o["worker_mb"] for o in r["outputs"])
        if base.get("commit") == r.get("commit"):
            lines.append(f"- ×{r['factor']}: loading the libraries once in the client takes the largest worker from "
                         f"{a} to {b} MB (both at commit {r.get('commit', '?')}).")
        else:
            lines.append(f"- ×{r['factor']}: the largest worker took {a} MB with its own libraries (commit "
                         f"{base.get('commit', '?')}) and {b} MB preloaded (commit {r.get('commit', '?')}; the "
                         "commits between them changed more than the preloading).")
    keys = [k for k in sorted(results, key=_order) if "|" not in k and _chapters(results[k])]
    if len(keys) >= 2:
        a, b = results[keys[0]], results[keys[-1]]
        wa, wb = max(o["worker_mb"] for o in _chapters(a)), max(o["worker_mb"] for o in _chapters(b))
        ua, ub = max(o["units"] for o in _chapters(a)), max(o["units"] for o in _chapters(b))
        lines.append(f"- From ×{a['factor']} to ×{b['factor']} (preloaded) the largest chapter's worker grew "
                     f"{wb / max(1, wa):.1f} times ({wa} → {wb} MB), its units {ub / ua:.0f} times, the corpus "
                     f"{b['corpus_units'] / a['corpus_units']:.0f} times.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("factors", nargs="*", type=int, default=[1, 10, 100])
    ap.add_argument("--no-preload", action="store_true", help="workers load their own libraries (the baseline)")
    ap.add_argument("--render", action="store_true", help="measure nothing: write the page from partitions.json")
    args = ap.parse_args()
    if args.render:
        args.factors = []
    path = DOCS / "partitions.json"
    at = commit()
    mine = {(f"{f}|no preload" if args.no_preload else str(f)): {**measure(f, not args.no_preload), "commit": at}
            for f in args.factors}
    # read only now: the two modes may run at the same time, each adding its own rows
    results: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["results"] if path.exists() else {}
    for key, r in mine.items():  # what the shared data took in the rows this one replaces, oldest first
        old = results.get(key)
        if old:
            r["shared_history"] = list(old.get("shared_history", []))
            if old.get("commit") != r["commit"]:
                r["shared_history"].append([old["shared_mb"], old.get("commit", "?")])
    results.update(mine)
    md = "\n".join([
        "# Memory by partition (issue 17, point 1)", "",
        f"Machine: {machine()}. Written by `bench/partition_bench.py`.", "",
        "Each output of the report computed in a worker forked from the client after the shared report data is "
        "built, as `qualkit report --jobs 2` does; *worker's private memory* is the peak of what the worker no "
        "longer shares with the client (copied on write, or allocated), sampled every 0.2 s. An output's units: "
        "those of its part (`reports._units_for`: its code's units, duplicate submissions and the units its "
        "findings cite for a chapter, the survey answers for the survey chapter, the units of the documents both "
        "coders coded for the overview, whose agreement reads them); in rows of commits before 0ff6d75: the "
        "counted units of its code, the survey answers, every coded unit for the overview.", "",
        table(results), "", "## What it shows", "", summary(results), "",
        "A worker's memory follows its partition where the chapters at one scale differ as their units do, and "
        "grows with the corpus where they cost about the same whatever their size. Selecting a chapter's units "
        "from the shared table writes the reference count of every Python object of those rows, and each write "
        "copies the page the object lies on: a partition scattered across the corpus touches most pages of the "
        "corpus's per-row objects. The report data keeps its texts as categories, so a text's page is copied only "
        "when the text is read; the ids are still objects. See scale.md for the whole run's peak.", "",
        "## What a Dask or spawned worker reads", "",
        "Such a worker does not share the client's memory: it reads the shared state once (case variables, "
        "attribution, the bases every output shares; no unit) and, per task, the part of its output "
        "(`ReportData.partition`, `reports._units_for`: a chapter's code's units and what its findings cite, the "
        "survey's answers, the units of the documents both coders coded for the overview, none for the summary). "
        "Sizes pickled as the snapshot pickles them; in memory they take more. `scale_project` repeats the "
        "example's texts, so the texts weigh little here; in a corpus of distinct texts they are most of a part.",
        "", snapshot_table(results), ""])
    write_result("partitions", md, {"results": results})


if __name__ == "__main__":
    main()
