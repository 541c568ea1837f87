"""``qualkit export xlsx``."""

from __future__ import annotations

import argparse

from ..cli import project_arg
from ..exports import export_xlsx
from ..privacy import pseudonymise_project
from ..project import open_project


def _export(args: argparse.Namespace) -> int:
    project = open_project(args.project)
    pseudonymise_project(project)
    path = export_xlsx(project, args.out)
    print(f"Excel workbook for the steering group: {path}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("export", help="exports for sharing (xlsx)")
    s = p.add_subparsers(dest="format", required=True)
    x = s.add_parser("xlsx", help="one sheet per top-level code with coded segments, plus a summary")
    project_arg(x)
    x.add_argument("out", metavar="OUT.xlsx")
    x.set_defaults(func=_export)
