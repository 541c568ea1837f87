"""``qualkit init``, ``qualkit ingest``, ``qualkit status``, ``qualkit show``."""

from __future__ import annotations

import argparse
import json

from ..cli import project_arg
from ..corpus import PARALLEL_FILES, ingest
from ..project import init_project, open_project
from ..status import format_status, project_status


def _init(args: argparse.Namespace) -> int:
    p = init_project(args.dir, name=args.name, example=args.example)
    what = "with the example's configuration and codebook" if args.example else "with a starter codebook"
    print(f"created an empty qualkit project {what} in {p.root}")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    project = open_project(args.project)
    # its warnings reach stderr through logging, once
    report = ingest(project, force=args.force, jobs=args.jobs, scheduler=args.scheduler)
    print(report.summary())
    if not args.quiet:
        print(format_status(project_status(project)))
    return 0


def _status(args: argparse.Namespace) -> int:
    st = project_status(open_project(args.project))
    if args.json:
        print(json.dumps(st, ensure_ascii=False, indent=2))
    else:
        print(format_status(st))
    return 0


def _show(args: argparse.Namespace) -> int:
    """The stored text of a document with the offsets a coding file refers to."""
    project = open_project(args.project)
    store = project.store
    text = store.document_text(args.document)
    units = store.units(args.document)
    if args.units:
        print("idx\tstart\tend\tspeaker\ttext")
        for u in units.itertuples():
            snippet = text[u.start:u.end].replace("\n", " ")
            print(f"{u.idx}\t{u.start}\t{u.end}\t{u.speaker or ''}\t{snippet[:70]}{'…' if len(snippet) > 70 else ''}")
    else:
        print(text)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("init", help="create an empty project with a starter codebook and a commented qualkit.toml")
    p.add_argument("dir")
    p.add_argument("--name", default=None)
    p.add_argument("--example", action="store_true",
                   help="take the configuration and codebook of qualkit's example project instead")
    p.set_defaults(func=_init)
    p = sub.add_parser("ingest", help="read transcripts, metadata, survey exports and codings into the store")
    project_arg(p)
    p.add_argument("--force", action="store_true", help="re-read files even if unchanged")
    p.add_argument("-q", "--quiet", action="store_true", help="do not print the status afterwards")
    p.add_argument("--jobs", type=int, default=1,
                   help=f"processes reading the transcripts in partitions, when {PARALLEL_FILES} or more changed "
                        "(default 1); with --scheduler local: the workers of the local Dask cluster")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="read the transcripts on Dask: 'local' (a LocalCluster of --jobs workers) or a running "
                        "scheduler's address such as tcp://10.0.0.5:8786 (workers must see the project folder)")
    p.set_defaults(func=_ingest)
    p = sub.add_parser("status", help="counts of documents, units, words and codings")
    project_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_status)
    p = sub.add_parser("show", help="print a document's stored text (the text coding offsets count in)")
    project_arg(p)
    p.add_argument("document", help="document id, e.g. I07 or S17-F1")
    p.add_argument("--units", action="store_true", help="list the units with their start and end offsets")
    p.set_defaults(func=_show)
