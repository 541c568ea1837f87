"""Wall time of `qualkit report` on the example project, cold (empty NLP and chapter caches) and warm, split
into ingest, preparation (shared computation), notebook execution (kernel start-up + rendering) and
conversion; and cold on the project ×10.  Writes docs/benchmarks/report.md."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import copy_project, machine, scale_project, write_result
from qualkit.project import open_project
from qualkit.reports import run_report


def timed(root: Path, label: str, jobs: int = 2) -> dict[str, float]:
    t = time.perf_counter()
    run = run_report(open_project(root), jobs=jobs, run_id=f"bench-{label}")
    total = time.perf_counter() - t
    out = {k: round(v, 2) for k, v in run.timings.items() if ":" not in k}
    out["wall"] = round(total, 2)
    kernels = [v for k, v in run.timings.items() if k.startswith("notebook:")]
    out["notebooks_run"] = len(kernels)
    out["mean_notebook_s"] = round(sum(kernels) / max(len(kernels), 1), 2)
    print(label, out, flush=True)
    return out


def main() -> None:
    root = copy_project()
    cold = timed(root, "cold")  # first run: store, NLP cache and chapter cache are empty
    warm = timed(root, "warm")
    shutil.rmtree(root / ".qualkit/cache/report")
    warm_nlp = timed(root, "warm-nlp-only")  # NLP cached, chapters recomputed
    one = timed(root, "warm-jobs1", jobs=1)
    big = scale_project(10)
    x10 = timed(big, "x10-cold")
    rows = [("example, cold", cold), ("example, warm (all caches)", warm), ("example, NLP cached, chapters "
            "recomputed", warm_nlp), ("example, warm, --jobs 1", one), ("example ×10, cold", x10)]
    lines = ["# Report benchmark", "", f"Machine: {machine()}. Command: `python bench/report_bench.py`. "
             "9 notebooks (overview, survey, 7 chapters), `--jobs 2` unless noted.", "",
             "| run | total s | ingest s | prepare s | notebooks s | mean per notebook s | convert s | leak guard s |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in rows:
        lines.append(f"| {name} | {r['wall']} | {r.get('ingest', 0)} | {r.get('prepare', 0)} | {r.get('notebooks', 0)} "
                     f"| {r['mean_notebook_s']} | {r.get('convert', 0)} | {r.get('leak_guard', 0)} |")
    lines += ["", "Targets: ≤ 15 s warm, ≤ 30 s cold on 2 cores. `prepare` is the shared heavy work (NLP, themes, "
              "agreement, figures) done once per run; `notebooks` is papermill (kernel start-up and display of the "
              "precomputed blocks, two at a time); `convert` is in-process nbconvert plus the combined HTML and Word "
              "files."]
    write_result("report", "\n".join(lines) + "\n", dict(rows))


if __name__ == "__main__":
    main()
