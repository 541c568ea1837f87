"""``qualkit quotes``: list the quotes a report would use, and release (approve) or exclude them."""

from __future__ import annotations

import argparse
import textwrap

from ..cli import project_arg
from ..project import current_coder, open_project
from ..quotes import decide, report_quotes


def _quotes(args: argparse.Namespace) -> int:
    project = open_project(args.project)
    decisions = [(k, "approved") for k in args.approve or []] + [(k, "excluded") for k in args.exclude or []] + \
        [(k, "pending") for k in args.reset or []]
    if decisions:
        coder = args.coder or current_coder()
        for key, decision in decisions:
            decide(project, key, decision, coder=coder, note=args.note or "")
            print(f"{decision}: {key}")
        return 0
    table = report_quotes(project, mode="release" if args.release else "draft", only=args.only)
    if args.json:
        print(table.drop(columns=[] if args.context else ["context"]).to_json(orient="records", force_ascii=False))
        return 0
    for r in table.itertuples():
        print(f"[{r.status}] {r.key}  ({r.chapter}; {r.document_id}; {r.attribution})")
        print(textwrap.indent(textwrap.fill(f"„{r.text}“", 100), "    "))
        if r.warnings:
            print(f"    guard: {r.warnings}")
        if args.context:
            print(textwrap.indent(textwrap.fill(f"context: {r.context}", 100), "    "))
    counts = table.status.value_counts().to_dict() if not table.empty else {}
    print(f"{len(table)} quote(s): " + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("approved", "pending",
                                                                                      "excluded")))
    print("release with --approve KEY, exclude with --exclude KEY (the report then picks another)")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("quotes", help="list the quotes a report would use; approve or exclude them (Zitatfreigabe)")
    project_arg(p)
    p.add_argument("--approve", action="append", metavar="KEY", help="release this quote (repeatable)")
    p.add_argument("--exclude", action="append", metavar="KEY", help="never use this quote (repeatable)")
    p.add_argument("--reset", action="append", metavar="KEY", help="withdraw a decision: pending again")
    p.add_argument("--note", help="reason, stored with the decision")
    p.add_argument("--coder", help="who decides (default: your coder name)")
    p.add_argument("--release", action="store_true", help="list as the release run would (approved quotes only)")
    p.add_argument("--only", action="append", metavar="CODE", help="only the chapter of this top-level code")
    p.add_argument("--context", action="store_true", help="show the whole turn or answer around each quote")
    p.add_argument("--json", action="store_true", help="print the list as JSON records")
    p.set_defaults(func=_quotes)
