"""``qualkit findings``: list, draft and approve findings and recommendations (``findings/*.yaml``)."""

from __future__ import annotations

import argparse
import json
import sys

from ..cli import project_arg
from ..project import current_coder, open_project


def _list(args: argparse.Namespace) -> int:
    from ..corpus import ingest
    from ..findings import findings_records
    project = open_project(args.project)
    ingest(project)
    records = findings_records(project)
    if args.code:
        project.codebook.get(args.code)
        records = [r for r in records if r["code"] == args.code]
    if args.json:
        json.dump(records, sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        for r in records:
            mark = "" if r["status"] == "approved" else " [draft]"
            if r["type"] == "finding":
                gone = f"; {len(r['lost'])} passage(s) LOST" if r["lost"] else ""
                print(f"{r['id']}{mark} ({r['code']}): {r['text']}\n    evidence: {r['statements']} statement(s), "
                      f"{r['persons']} person(s), {r['documents']} document(s){gone}")
            else:
                print(f"{r['id']}{mark} ({r['code']}): {r['text']}\n    follows from {', '.join(r['findings']) or '-'}; "
                      f"measures {', '.join(r['measures']) or '-'}")
        if not records:
            print("no findings yet: `qualkit findings draft` writes drafts into findings/")
    lost = [r["id"] for r in records if r.get("lost")]
    if lost and args.check:
        print(f"error: evidence lost in {', '.join(lost)}: edit the passages in findings/", file=sys.stderr)
        return 1
    return 0


def _draft(args: argparse.Namespace) -> int:
    from ..corpus import ingest
    from ..drafts import add_drafts
    from ..privacy import pseudonymise_project
    from ..reportdata import ReportData, ReportSettings
    from ..themes import find_themes
    project = open_project(args.project)
    ingest(project)
    pseudonymise_project(project)
    codes = [project.codebook.get(c).name for c in args.code] if args.code else list(project.codebook.primary.codes)
    data = ReportData(project, ReportSettings.from_project(project))
    s = data.settings
    for code in codes:
        themes = find_themes(project, code, origins=s.origins, min_size=s.min_theme_size, random_state=s.seed,
                             pipeline=data.pipe, n_quotes=6)
        added = add_drafts(project, code, data, themes=themes)
        print(f"{code}: {len(added)} new draft(s)" + (f" ({', '.join(d.id for d in added)})" if added else ""))
    data.pipe.close()
    return 0


def _approve(args: argparse.Namespace) -> int:
    from ..findings import approve
    project = open_project(args.project)
    changed = approve(project, args.ids, author=current_coder())
    print(f"approved: {', '.join(changed) or 'nothing changed'}")
    return 0


def _merge(args: argparse.Namespace) -> int:
    from ..findings import merge
    project = open_project(args.project)
    kept = merge(project, args.ids)
    print(f"merged into {kept.id} (status draft: read and approve the merged text)")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("findings", help="list findings and recommendations (draft, approve: see subcommands)")
    project_arg(p)
    p.add_argument("--json", action="store_true", help="machine-readable list")
    p.add_argument("--code", help="only this code of the primary dimension")
    p.add_argument("--check", action="store_true", help="exit 1 if evidence of a finding was lost")
    p.set_defaults(func=_list)
    fsub = p.add_subparsers(dest="findings_command", metavar="SUBCOMMAND")
    d = fsub.add_parser("draft", help="add machine drafts (counts only) to findings/<code>.yaml")
    project_arg(d)
    d.add_argument("--code", action="append", help="only this code (repeatable)")
    d.set_defaults(func=_draft)
    a = fsub.add_parser("approve", help="mark findings or recommendations as approved")
    project_arg(a)
    a.add_argument("ids", nargs="+", metavar="ID")
    a.set_defaults(func=_approve)
    m = fsub.add_parser("merge", help="merge findings of one code into the first id (back to draft)")
    project_arg(m)
    m.add_argument("ids", nargs="+", metavar="ID")
    m.set_defaults(func=_merge)
