"""``qualkit qdpx export|import`` and ``qualkit codebook export|import|show``."""

from __future__ import annotations

import argparse

from ..cli import project_arg
from ..project import open_project
from ..qdpx import export_codebook, export_qdpx, import_codebook, import_qdpx


def _qdpx(args: argparse.Namespace) -> int:
    project = open_project(args.project)
    if args.action == "export":
        print(f"REFI-QDA project written to {export_qdpx(project, args.file)}")
    else:
        mode = "replace" if args.replace_codebook else "append" if args.append_codebook else "auto"
        report = import_qdpx(project, args.file, codebook=mode)
        print(report.summary())
        for n in report.notes:
            print(f"note: {n}")
    return 0


def _codebook(args: argparse.Namespace) -> int:
    project = open_project(args.project)
    if args.action == "export":
        print(f"REFI-QDA codebook written to {export_codebook(project, args.file)}")
    elif args.action == "import":
        print(import_codebook(project, args.file).summary())
    else:
        cb = project.codebook
        for d in cb.dimensions:
            print(f"{d.name} ({d.key})")
            for name in d.codes:
                code = cb.codes[name]
                print(f"  {code.shortcut or ' '} {name} {code.colour}")
                for sub in cb.children(name):
                    print(f"      {sub.name}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("qdpx", help="REFI-QDA project exchange (MAXQDA, ATLAS.ti, NVivo, QualCoder)")
    s = p.add_subparsers(dest="action", required=True)
    for action, helptext in (("export", "write OUT.qdpx"), ("import", "read IN.qdpx into the project")):
        x = s.add_parser(action, help=helptext)
        project_arg(x)
        x.add_argument("file")
        if action == "import":
            g = x.add_mutually_exclusive_group()
            g.add_argument("--replace-codebook", action="store_true",
                           help="make the imported codes the codebook (a project without codings; the default for "
                                "a new project without documents)")
            g.add_argument("--append-codebook", action="store_true",
                           help="add codes the codebook lacks as the dimension 'importiert' (the default for a "
                                "project with documents)")
        x.set_defaults(func=_qdpx, replace_codebook=False, append_codebook=False)
    p = sub.add_parser("codebook", help="show the codebook, or exchange it as REFI-QDA .qdc")
    s = p.add_subparsers(dest="action", required=True)
    for action, helptext in (("export", "write OUT.qdc"), ("import", "merge IN.qdc by code name")):
        x = s.add_parser(action, help=helptext)
        project_arg(x)
        x.add_argument("file")
        x.set_defaults(func=_codebook)
    x = s.add_parser("show", help="list dimensions and codes")
    project_arg(x)
    x.set_defaults(func=_codebook)
