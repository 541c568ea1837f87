"""Scale: a cold `qualkit report` on the example project ×1, ×10, ×30, ×100 (`_common.scale_project`), on local
processes (`--jobs 2`) and on a 2-worker Dask LocalCluster (`--scheduler local --jobs 2`): wall time, time per
stage, peak memory (proportional set size of the whole process tree: client, workers, kernels, sampled every
second, and of its largest single process), and the store (size, rows, time to read every unit).  Writes
docs/benchmarks/scale.md; results of earlier runs of other factors are kept, so factors can be run one at a time:

    python bench/scale_bench.py 1 10 30          # then, when the machine is free:
    python bench/scale_bench.py 100
    python bench/scale_bench.py 1 --modes serial # --jobs 1, for the speed-up of --jobs 2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DOCS, commit, host_speed, machine, scale_project, write_result
from qualkit.prepare import MIN_UNITS
from qualkit.quotes import MAX_POOL
from qualkit.themes import MAX_FIT

MODES = {"serial": ["--jobs", "1"], "local": ["--jobs", "2"], "dask": ["--jobs", "2", "--scheduler", "local"]}


def child(root: str, args: list[str]) -> None:
    """Runs in a subprocess: one cold report, its timings as JSON on the last line of stdout."""
    from qualkit.project import open_project
    from qualkit.reports import run_report
    jobs = int(args[args.index("--jobs") + 1])
    scheduler = args[args.index("--scheduler") + 1] if "--scheduler" in args else None
    t = time.perf_counter()
    started = time.time()
    run = run_report(open_project(root), jobs=jobs, scheduler=scheduler, run_id="scale")
    out = {k: round(v, 2) for k, v in run.timings.items() if not k.startswith("notebook:")}
    out["wall"] = round(time.perf_counter() - t, 2)
    out["started"] = started  # for the memory of each stage (cold_run)
    # what comes back from the workers: chapter data and figures, NLP analyses (the cache holds exactly those)
    out["results_mb"] = round(sum(f.stat().st_size for d in ("_data", "figures") for f in (run.run_dir / d).iterdir())
                              / 2**20, 2)
    nlp = Path(root) / ".qualkit" / "cache" / "nlp.sqlite"
    out["nlp_mb"] = round(nlp.stat().st_size / 2**20, 1) if nlp.exists() else 0
    print(json.dumps(out), flush=True)


def _sample(pid: int, peaks: dict[str, Any], stop: threading.Event) -> None:
    """Peak memory of the process tree of ``pid``: resident memory of its largest process every 0.25 s (cheap:
    /proc/<pid>/statm), the tree's proportional set size once a second (smaps_rollup walks every page of a
    process, about 20 ms per GB: four times a second for every process of the tree took a fifth of the
    machine's two cores from the run it measured)."""
    import psutil
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    last_pss = 0.0
    while not stop.is_set():
        try:
            procs = [root, *root.children(recursive=True)]
            rss = []
            for p in procs:
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    rss.append(p.memory_info().rss)
            peaks["largest"] = max(peaks.get("largest", 0), max(rss, default=0))
            if time.monotonic() - last_pss >= 1.0:
                last_pss = time.monotonic()
                pss = {}
                for p in procs:
                    with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                        # PSS: a page shared by n processes (forked workers share the client's data) counts 1/n
                        # in each, so the sum is the memory the tree really occupies; RSS would count it n times
                        pss[p.pid] = p.memory_full_info().pss
                if {q.pid for q in root.children(recursive=True)} != {q.pid for q in procs[1:]}:
                    # a process forked or ended during the pass: a parent read before a fork and its child read
                    # after it count the pages they share twice, so the sample is dropped and taken again at the
                    # next tick
                    last_pss = 0.0
                else:
                    peaks["total"] = max(peaks.get("total", 0), sum(pss.values()))
                    # and the client's own (the root: the report runs in it): what grows with the corpus, not
                    # with the largest partition (the workers' part)
                    peaks.setdefault("series", []).append((time.time(), sum(pss.values()), pss.get(root.pid, 0)))
        except psutil.NoSuchProcess:
            return
        stop.wait(0.25)


def cold_run(root: Path, mode: str) -> dict[str, Any]:
    """A cold report (no store, no caches, no outputs) in a subprocess, with its peak memory."""
    shutil.rmtree(root / ".qualkit", ignore_errors=True)
    shutil.rmtree(root / "outputs", ignore_errors=True)
    (root / "outputs").mkdir()
    speed = host_speed()
    peaks: dict[str, Any] = {}
    stop = threading.Event()
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(root), *MODES[mode]], stdout=subprocess.PIPE,
                            text=True)
    th = threading.Thread(target=_sample, args=(proc.pid, peaks, stop), daemon=True)
    th.start()
    import resource
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out, _ = proc.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stop.set()
    th.join()
    if proc.returncode != 0:
        raise RuntimeError(f"report on {root} ({mode}) failed with exit code {proc.returncode}")
    res: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    # CPU seconds of the whole tree (every descendant is reaped by its parent, so RUSAGE_CHILDREN counts it):
    # unlike wall time, this hardly depends on what else the machine runs
    res["cpu_s"] = round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1)
    res["load"] = round(os.getloadavg()[0], 1)  # the machine's 1-minute load average at the end of the run
    res["commit"] = commit()
    res["host_s"] = round((speed + host_speed()) / 2, 2)  # before and after the run
    res["peak_total_gb"] = round(peaks.get("total", 0) / 2**30, 2)
    res["peak_process_gb"] = round(peaks.get("largest", 0) / 2**30, 2)
    # the peak while the files are read and stored, and while the chapters are prepared (stages run in turn)
    start = res.pop("started")
    series: list[tuple[float, float, float]] = peaks.get("series", [])
    for stage, (a, b) in {"ingest": (0, res.get("ingest", 0)),
                          "prepare": (res.get("ingest", 0), res.get("ingest", 0) + res.get("prepare", 0))}.items():
        inside = [(m, c) for at, m, c in series if start + a <= at < start + b]
        res[f"peak_{stage}_gb"] = round(max((m for m, _ in inside), default=0) / 2**30, 2)
        res[f"peak_{stage}_client_gb"] = round(max((c for _, c in inside), default=0) / 2**30, 2)
    return res


def store_stats(root: Path) -> dict[str, Any]:
    """Size of the store, its rows, and the time to read every unit with its text (what the report starts with)."""
    from qualkit.project import open_project
    from qualkit.units import unit_labels, unit_table
    p = open_project(root)
    path = p.store.path
    t = time.perf_counter()
    units = unit_table(p)
    labels = unit_labels(p)
    read = time.perf_counter() - t
    docs = p.store.query("SELECT count(*) FROM documents")[0][0]
    codings = p.store.query("SELECT count(*) FROM codings")[0][0]
    words = int(units.text.str.split().str.len().sum())
    return {"store_mb": round(path.stat().st_size / 2**20, 1), "documents": docs, "units": len(units),
            "codings": codings, "labels": len(labels), "words": words, "read_units_s": round(read, 2)}


_HEAD = ["| corpus | run | total s | ingest s | prepare s | of which: data / snapshot / NLP / outputs s | "
         "notebooks s | convert + leak guard s | CPU s | peak memory GB (largest process) | "
         "peak while ingesting / preparing GB (of it, the client's) | load | host s | commit |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]


def _order(key: str) -> tuple[int, int]:
    return int(key.split("|")[0]), list(MODES).index(key.split("|")[1])


def _row(key: str, r: dict[str, Any]) -> str:
    factor, mode = key.split("|")
    stages = " / ".join(str(r.get(f"prepare:{s}", "–")) for s in ("data", "snapshot", "nlp", "outputs"))
    return (f"| ×{factor} | {mode} | {r['wall']} | {r.get('ingest', 0)} | {r.get('prepare', 0)} | {stages} | "
            f"{r.get('notebooks', 0)} | {round(r.get('convert', 0) + r.get('leak_guard', 0), 2)} | "
            f"{r.get('cpu_s', '–')} | {r['peak_total_gb']} ({r['peak_process_gb']}) | "
            f"{r.get('peak_ingest_gb', '–')} / {r.get('peak_prepare_gb', '–')}{_client(r)} | "
            f"{r.get('load', '–')} | {r.get('host_s', '–')} | {r.get('commit', '–')} |")


def _client(r: dict[str, Any]) -> str:
    """The client's own peaks while ingesting and preparing, as a parenthesis (rows before commit e58f17a have
    none)."""
    if "peak_prepare_client_gb" not in r:
        return ""
    return f" ({r['peak_ingest_client_gb']} / {r['peak_prepare_client_gb']})"


def earlier(history: list[dict[str, Any]]) -> str:
    """The rows later runs replaced, newest first: how the same corpus ran on other commits and hosts."""
    if not history:
        return ""
    rows = sorted(history, key=lambda r: (str(r.get("replaced", "")), _order(r["key"])), reverse=True)[:24]
    lines = ["", "## Earlier rows", "",
             "Rows a later run of the same corpus and mode replaced, newest first (from `history` in `scale.json`). "
             "Compare times only between rows of about the same *host s*.", "", *_HEAD, *(_row(r["key"], r) for r in rows)]
    return "\n".join(lines) + "\n"


def host_note(results: dict[str, Any], history: list[dict[str, Any]]) -> str:
    """The current rows against the rows they replaced, in CPU seconds per host second (a host that runs the fixed
    loop of `_common.host_speed` three times slower takes about three times the CPU seconds for the same work)."""
    pairs = []
    for key in sorted(results, key=_order):
        before = [r for r in history if r["key"] == key and r.get("host_s") and r.get("cpu_s")]
        now = results[key]
        if before and now.get("host_s") and now.get("cpu_s"):
            b = before[-1]
            pairs.append(f"×{key.replace('|', ' ')} {now['cpu_s'] / now['host_s']:,.0f} against "
                         f"{b['cpu_s'] / b['host_s']:,.0f} ({b.get('commit', '?')})")
    if not pairs:
        return ""
    return ("\n*Host.* Rows of different *host s* compare in CPU seconds per host second, now against the row each "
            "replaced: " + "; ".join(pairs) + ".\n")


def table(results: dict[str, Any]) -> str:
    lines = ["# Scale benchmark", "",
             f"Machine: {machine()}. Command: `python bench/scale_bench.py 1 10 30 100` (the example project "
             "repeated with `bench/_common.scale_project`). Every run is cold: no store, no NLP or chapter cache. "
             "`local` is `qualkit report --jobs 2` (preparation on 2 local processes, notebooks 2 at a time); "
             "`dask` is `--jobs 2 --scheduler local` (preparation on a Dask LocalCluster of 2 single-threaded "
             "workers); `serial` is `--jobs 1`. Peak memory is the memory the whole process tree occupies (client, "
             "workers, notebook kernels: the sum of their proportional set sizes, PSS, so pages forked workers share "
             "with the client count once), sampled every second (a sample during which a process of the tree "
             "started or ended is dropped and taken again, in rows of commit 116427c and later: a parent read before a "
             "fork and its child read after it counted their shared pages twice; in rows of commit 1070e61 and "
             "older: every 0.25 s, "
             "which took about a fifth of the machine's CPU from the run); *largest process* is the resident memory "
             "of the biggest single one, sampled every 0.25 s; *of it, the client's* is the PSS of the process "
             "that runs the report and writes the store (what the workers and kernels add is theirs: it grows with "
             "their partitions); rows before commit e58f17a lack it. Rows before commit b049824 summed resident memory, "
             "which counts shared pages in "
             "every process. "
             "*load* is the machine's 1-minute load average when the run ended: the machine is shared, and on 2 cores "
             "a load above 2 stretches every time in the row by about load / 2. *CPU s* is the processor time of the "
             "whole process tree, which hardly depends on the load: on an idle machine the wall time of a run is at "
             "least CPU s / 2. *of which* splits the preparation: *data* is reading the report data (for a corpus read "
             "in batches, from commit 4ab68ab on, with the NLP running on the workers meanwhile), *snapshot* the copy "
             "of the store the workers read, *NLP* the NLP batches (for a corpus read in batches, the wait for the "
             "last of them), *outputs* the tasks of the chapters. Rows come from the commit in their last column: "
             "a factor is re-measured on its own "
             "(`python bench/scale_bench.py 10`), so rows of older commits stay until they are run again. *host s* "
             "is how slow the host was around the run: the seconds a fixed Python loop took (`_common.host_speed`, "
             "best of three, before and after); times of rows with different host seconds differ by about as much.",
             "", *_HEAD]
    for key in sorted(results, key=_order):
        lines.append(_row(key, results[key]))
    lines += ["", _targets(results)]
    missing = [f for f in (1, 10, 30, 100) if not any(k.startswith(f"{f}|") for k in results)]
    if missing:
        lines += ["", "Not measured yet: " + ", ".join(f"×{f}" for f in missing) + " (run `python bench/scale_bench.py "
                  + " ".join(map(str, missing)) + "` on a machine nobody else is using)."]
    stores = {k.split("|")[0]: v["store"] for k, v in results.items() if "store" in v}
    lines += ["", "## The store", "",
              "| corpus | documents | units | words | codings | store MB | read all units and labels s |",
              "|---|---|---|---|---|---|---|"]
    for f in sorted(stores, key=int):
        s = stores[f]
        lines.append(f"| ×{f} | {s['documents']:,} | {s['units']:,} | {s['words']:,} | {s['codings']:,} | "
                     f"{s['store_mb']} | {s['read_units_s']} |")
    return "\n".join(lines) + "\n"


# issue 17's targets for a cold report on 2 cores: (factor, seconds, GB of peak memory or None)
TARGETS = ((100, 300.0, 4.0), (10, 40.0, None))


def _targets(results: dict[str, dict]) -> str:
    """Whether the latest local rows meet the targets, with the host speed they were measured at."""
    said = []
    for factor, seconds, gb in TARGETS:
        r = results.get(f"{factor}|local")
        if r is None:
            said.append(f"×{factor}: not measured")
            continue
        wall, peak = r["wall"], r.get("peak_total_gb")
        time_ok = "met" if wall < seconds else "missed"
        part = f"×{factor} < {seconds:g} s: {time_ok} ({wall} s at host s {r.get('host_s', '?')})"
        if gb is not None:
            part += f"; ×{factor} < {gb:g} GB: {'met' if peak is not None and peak < gb else 'missed'} ({peak} GB)"
        said.append(part)
    return ("*Targets* (cold report, `local`, issue 17): " + "; ".join(said) + ". Times depend on the host: "
            "compare *host s* before comparing seconds.")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("factors", nargs="*", type=int, default=[1, 10, 30, 100])
    ap.add_argument("--modes", default="local,dask")
    ap.add_argument("--table-only", action="store_true", help="only rewrite scale.md from scale.json")
    ap.add_argument("--child", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    if a.child:
        child(a.child[0], a.child[1:])
        return
    old = DOCS / "scale.json"
    saved = json.loads(old.read_text(encoding="utf-8")) if old.exists() else {}
    results: dict[str, Any] = saved.get("runs", {})
    history: list[dict[str, Any]] = saved.get("history", [])

    def write() -> None:
        write_result("scale", table(results) + notes(results) + host_note(results, history) + earlier(history),
                     {"machine": machine(), "runs": results, "history": history})

    if a.table_only:  # rewrite scale.md from scale.json
        write()
        return
    for factor in a.factors:
        root = scale_project(factor)
        for mode in a.modes.split(","):
            r = cold_run(root, mode)
            r["store"] = store_stats(root)
            key = f"{factor}|{mode}"
            if key in results:  # the row it replaces stays in the history
                history.append({"key": key, "replaced": time.strftime("%Y-%m-%d %H:%M"),
                                **{k: v for k, v in results[key].items() if k != "series"}})
            results[key] = r
            print(factor, mode, r, flush=True)
            write()
        shutil.rmtree(root.parent, ignore_errors=True)


def _client_note(factor: int) -> str:
    """What the client's shared report data took at ``factor`` by `bench/partition_bench.py`, and in the rows
    that one replaced (from partitions.json), as a sentence; empty if it has not measured it."""
    path = DOCS / "partitions.json"
    if not path.exists():
        return ""
    r = json.loads(path.read_text(encoding="utf-8"))["results"].get(str(factor))
    if not r:
        return ""
    from partition_bench import replaced_shared
    return (f" At ×{factor} the client's shared report data takes {r['shared_mb']} MB{replaced_shared(r)}, measured by "
            f"`bench/partition_bench.py` at commit {r.get('commit', '?')}.")


def _client_growth(local: dict[int, dict[str, Any]]) -> str:
    """How the client's own peak while preparing grew between the smallest and the largest corpus measured with
    it, per counted unit, and extrapolated to ×1,000 ("" without two such rows)."""
    # from ×10 on the corpus is read in batches (above prepare.MIN_UNITS units); ×1 is held whole, another path
    rows = {f: r for f, r in local.items() if "peak_prepare_client_gb" in r and r["store"]["units"] >= MIN_UNITS}
    if len(rows) < 2:
        return ""
    a, b = min(rows), max(rows)
    ga, gb = rows[a]["peak_prepare_client_gb"], rows[b]["peak_prepare_client_gb"]
    ua, ub = rows[a]["store"]["units"], rows[b]["store"]["units"]
    per_unit = (gb - ga) * 2**30 / max(ub - ua, 1)
    at_1000 = ga + (gb - ga) * (ub / b * 1000 - ua) / max(ub - ua, 1)
    return (f" The client's own peak while preparing (its whole process, libraries included) went from {ga} GB at "
            f"×{a} to {gb} GB at ×{b}, both read in batches, about {per_unit / 1024:,.2f} KB per unit, so about "
            f"{at_1000:,.1f} GB at ×1,000 if it went on so: what it holds besides its libraries is the shared state "
            "(case variables, each person's group per compared variable: per person, not per unit), one batch and "
            "one finished output, and what the allocator keeps of the batches it freed. What the workers add grows "
            "with the largest partition (`partitions.md`), not with the corpus.")


def _client_bench() -> str:
    """What `client_bench.py` measured of the client's own allocations at its largest corpus ("" if not run)."""
    path = DOCS / "client.json"
    if not path.exists():
        return ""
    rows = json.loads(path.read_text(encoding="utf-8"))
    f = max(int(k.split("|")[0]) for k in rows)
    whole, streamed = rows.get(f"{f}|whole"), rows.get(f"{f}|streamed")
    if not whole or not streamed:
        return ""
    return (f" Of that, the data the client allocates (tracemalloc, without its libraries: `client.md`, "
            f"`bench/client_bench.py`) peaked at ×{f} at {streamed['peak_mb']} MB read in batches and held "
            f"{streamed['held_mb']} MB while the outputs ran, against {whole['peak_mb']} and {whole['held_mb']} MB "
            "for the whole report data.")


def notes(results: dict[str, Any]) -> str:
    """The ×1,000 paragraph, its numbers extrapolated linearly from the largest measured corpus."""
    local = {int(k.split("|")[0]): v for k, v in results.items() if k.endswith("|local")}
    if not local:
        return ""
    f = max(local)
    r, st = local[f], local[f]["store"]
    f1 = min(local)
    m1 = local[f1]["peak_total_gb"]
    k = 1000 / f

    def x(v: float) -> str:
        return f"{v * k:,.0f}"

    return "\n".join([
        "", f"## ×1,000 (extrapolated linearly from ×{f}, the largest corpus measured)", "",
        f"About {x(st['documents'])} documents, {x(st['units'])} units and {x(st['words'])} words; the store would be "
        f"about {x(st['store_mb'] / 1024)} GB and reading every unit with its labels (what the report starts "
        f"with) about {x(st['read_units_s'])} s (read time measured at load {r.get('load', '?')}). The whole run used "
        f"{r.get('cpu_s', '?')} CPU seconds here, so about {r.get('cpu_s', 0) * k / 3600:,.1f} CPU hours at ×1,000 "
        f"(at least half that in hours on 2 cores), and peak memory grew from "
        f"{m1} GB at ×{f1} to {r['peak_total_gb']} GB at ×{f} (linearly about "
        f"{m1 + (r['peak_total_gb'] - m1) * (1000 - f1) / max(f - f1, 1):,.0f} GB at ×1,000). A district's corpus "
        "(below 5,000 units: the example, 1,885) is held whole by the client, and its forked workers share it. A "
        "larger one (every factor from ×10 here), and any on Dask, is never held whole (`prepare._prepare_streamed`, "
        "since commit 4ab68ab): the client copies the store, reads the copy in batches of whole cases of about "
        "10,000 units (`ReportData.streamed`), adds up over the batches the bases every output shares (persons per "
        "group and kind, totals, mentions, co-occurrence counts, duplicate submissions: equal to the whole's, as "
        "`tests/test_reportdata.py` checks), writes the ids of the units each output reads to a file per output "
        "and hands the texts still to analyse to the workers as NLP tasks while it reads (column *NLP s* is the "
        "wait for the last of them). Each output's task then reads only its own units from the copy "
        "(`ReportData.read_part`, `reports._units_for`): a chapter its code's units and the units its findings "
        "cite, the survey chapter the answers, the overview the documents both coders coded, the summary none "
        "(until commit 0ff6d75 every worker unpickled every unit; until commit 4ab68ab the client held every "
        "unit's text and labels and pickled each output's part)."
        f"{_client_growth(local)}{_client_bench()}", "",
        f"*Where the memory goes.* At ×{f} the peak while ingesting was {r.get('peak_ingest_gb', '?')} GB and while "
        f"preparing {r.get('peak_prepare_gb', '?')} GB (columns *peak while ingesting / preparing*). The ingest "
        "writes everything in one transaction (a rejected file leaves the store as it was). It reads a reference "
        "coding file a row at a time: each row is checked against the texts as the transaction leaves them and "
        "kept in a temporary table of the transaction, and the merge with the previous read and the writing of "
        "the codings go a part of 20,000 rows at a time (`qualkit.references`, `qualkit.store._ADD_PART`), so no "
        "coding file is held as rows; nor as bytes: it is hashed, checked and decoded from the disk a chunk of "
        "1 MB at a time (`_limits.read_chunks`, `_text.sha256_file`, `_text.decode_lines`; until commit "
        "f61cb76 its bytes were held whole, and twice at once, while it was hashed and while it was checked). "
        "Every file is read and checked before the store is locked; the documents read from the transcripts and "
        "survey exports wait meanwhile on disk, in a private temporary file of the project's `.qualkit/` that has "
        "no name in the folder (`corpus._Spool`), and the transaction reads them back one at a time, each held "
        "until it is written; transcripts read on workers come back in order as each part is read (until commit "
        "e58f17a every document read was held in memory until the transaction started). The name search that "
        "runs meanwhile is on a spawned worker, which reads the texts from that file as it takes them, with at "
        "most one batch more than it has workers on its way (until commit e58f17a every batch was queued at once, "
        "so every text was held until it was searched), and keeps a digest of each, not the text (until commit "
        "c022d55 it was forked, and so kept every page of the client as it was at the fork, every document "
        "read); pseudonymisation then reads the store's texts in parts of 32 million characters "
        "(`privacy._LEARN_CHARS`). So what the ingest holds whole is one input file (the survey export being "
        "read) and the index of what was read (ids, case variables); for a corpus held whole the client's peak "
        "while ingesting is reached at its end, when the report reads the unit table and labels while the name "
        "search finishes (a larger corpus is read later, in batches). A client that holds the report data whole "
        "holds the unit table and the counted labels once: the report data takes the "
        "tables the store kept since they were read, not copies of them (`Store.handing_over`; until commit "
        "3d5b81a both were held while it was built), the labels are joined to the units as two numbers per "
        "(coding, unit) pair, the coding's columns then taken by row (`units._unit_labels`; until commit "
        "f0c88b1 a tuple per pair held the columns a second time), and the manifest's hash of the store reads "
        "rows as they come (until commit e191702 it fetched each table whole, every document's text at once). "
        "`Store.frame` reads a query "
        "10,000 rows at a time, so the Python objects SQLite makes for one part's cells are freed, and their "
        "memory reused, before the next part is read: read whole, the strings a table keeps (ids, codes) lay "
        "amid the freed objects of every row and kept the allocator from returning any of that memory. Repeated "
        "strings (ids, codes, coders, case variables, texts) are one object each, and in the report data every "
        "column of them but the ids is a category, an integer code per row instead of a pointer (until commit "
        "870c9d7 only the texts were: at ×100 the report data took 51 MB more at rest); a text is pseudonymised and "
        "masked once per distinct text (`reportdata._each_distinct`); the quote picker keeps the columns a quote "
        "reads and sorted arrays instead of a dict per unit and per coding; the store's own copies of the tables "
        "are dropped once the report data holds its copies (`Store.forget_frames`); the memory the ingest and "
        "the reading of the tables freed is given back to the system before the report data is read and again "
        "before the workers are forked (`_memory.release_memory`: glibc's allocator keeps freed memory for reuse, "
        "and the forked workers would share, and may copy, its pages); and what the workers inherit "
        "is frozen out of the garbage collector before they are forked (`gc.freeze`), so a collection in a "
        "worker does not copy the pages it shares with the client. The bases every output shares (persons per "
        "group and kind, totals) are computed once, before the workers are forked, and the chapter modules, their "
        "libraries and the NLP tables are loaded in the client then, so the workers share them instead of loading "
        f"their own (`prepare._preload`).{_client_note(f)} What still grows with the corpus: in the client, the "
        "shared state (per person, not per unit) and the NLP cache on disk; and in each worker, its chapter's units "
        "and what their "
        "NLP analyses give its themes (the analyses are read a part of 2,000 texts at a time and reduced, as they "
        "are read, to each distinct text's terms and content words and the counts of forms and phrases: "
        "`themes._read_analyses`; until commit 4847821 a chapter held the whole analyses of its code's units, "
        "tokens, lemmas and sentences), besides the pages of the client's memory it writes to. Selecting rows "
        "of a table of Python objects writes the reference count of each object, "
        "which copies the page it lies on, and a chapter's units are scattered over the whole table; the texts "
        "are therefore kept as categories (selecting copies integer codes; a text is touched only when read). "
        "`partitions.md` measures a worker's memory per output (`bench/partition_bench.py`).", "",
        "*What runs where.* The client (the machine with the store) reads the files, writes the store, reads its copy "
        "in batches (the bases, each output's unit ids, the NLP batches' inputs) and writes every result; workers "
        "read transcripts in partitions (`qualkit ingest --jobs`), "
        "search names, do the NLP batches (pure functions of text, spread evenly) and one task per chapter. A "
        f"code's themes and typical quotes are found in seeded samples of at most {MAX_FIT:,} and {MAX_POOL:,} "
        "units, so their cost stops growing there; counts, contrasts and word lists read every unit of the code. "
        "A worker holds the shared state (case variables, attribution groups, the bases every output shares) and "
        "the part of the output it computes, so the largest part (the survey's answers, or the largest code's "
        "units) sets what a worker needs, and that part still grows with the corpus. Beyond that, a chapter must "
        "become several tasks (its counts and word lists per document batch, combined on the client).", "",
        "*What moves over the network.* To the workers: the texts of the NLP batches (the corpus once, original and "
        "pseudonymised) and the snapshot they read from the shared file system: the store copy and the shared "
        "state once per worker, and each output's unit ids once per task; the worker reads those units from the "
        "store copy (a unit is read by every output that reads it). Back: the NLP analyses and the chapters' data "
        "and figures "
        f"({r.get('results_mb', '?')} MB at ×{f}, about the same at ×1: it grows with the number of codes, not of "
        f"documents). The NLP cache holds {local[f1].get('nlp_mb', '?')} MB for the distinct texts of the example "
        f"({local[f1]['store']['words']:,} words); a real corpus ×1,000 has that many times more distinct "
        f"text, about {1000 * local[f1].get('nlp_mb', 0) / 1024:,.0f} GB of analyses.", "",
        "*Caveat of this benchmark.* `scale_project` repeats the example's texts under new ids, so the NLP cache "
        "(keyed by the text) parses the example's interviews once and the NLP stage grows with the factor only "
        "by the survey answers (a survey copy's first long answer ends with its copy number, "
        "`_common._survey_copy`); counts, themes, quotes, the store and memory grow with the factor. Rows of "
        "commits before 4c6bc37 (the earlier rows below) were measured with copies whose answers were the "
        "original's: the report counted them as duplicate submissions of it, so at ×100 it counted 84,242 of "
        "the 188,500 units.", "",
        "*What the store must become.* SQLite stays right for the coding work (one file, one writer, WAL). It stops "
        "being enough for the report when every worker reads all of it: the read time above grows linearly with "
        "the corpus and is paid once per worker, and SQLite over a network file system has no reliable locking. "
        "At ×1,000 the report should read a columnar export of the snapshot (Parquet, partitioned by document "
        "batch) that workers read in parts, with the SQLite store as the single writer that produces it.", ""])

if __name__ == "__main__":
    main()
