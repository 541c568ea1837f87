"""``qualkit report``: the main job."""

from __future__ import annotations

import argparse
import os
import sys
import time

from ..cli import project_arg
from ..project import open_project
from ..reports import run_report


def _report(args: argparse.Namespace) -> int:
    project = open_project(args.project)
    start = time.perf_counter()

    def progress(msg: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f}s] {msg}", file=sys.stderr, flush=True)

    run = run_report(project, only=args.only, jobs=args.jobs, progress=progress, scheduler=args.scheduler,
                     settings_overrides={"mode": "release" if args.release else "draft"})
    print(f"chapters: {len(run.chapters)}; combined report: {run.run_dir / 'bericht.html'} and "
          f"{run.run_dir / 'bericht.docx'}; manifest: {run.run_dir / 'manifest.json'}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("report", help="run every notebook and build the findings report (HTML, Word)")
    project_arg(p)
    p.add_argument("--only", action="append", metavar="CODE",
                   help="only the chapter of this top-level code of the first dimension (repeatable)")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="processes for the preparation (NLP batches, one task per chapter) and notebooks run at once; "
                        "with --scheduler local: the workers of the local Dask cluster")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the preparation on Dask: 'local' (a LocalCluster of --jobs workers) or a running "
                        "scheduler's address such as tcp://10.0.0.5:8786 (workers must see the project folder)")
    p.add_argument("--release", action="store_true",
                   help="the run for the steering group: approved findings, recommendations and quotes only (default: a "
                        "draft run that shows drafts, marked as such)")
    p.set_defaults(func=_report)
