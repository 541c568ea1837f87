"""``qualkit merge``, ``qualkit adjudicate``, ``qualkit blind`` and ``qualkit log``: team coding."""

from __future__ import annotations

import argparse
import json
import sys

from ..cli import project_arg
from ..project import current_coder, open_project


def _merge(args: argparse.Namespace) -> int:
    from ..merge import merge
    report = merge(open_project(args.project), args.other)
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if args.json else report.summary())
    return 0


_CHOICES = {"1": "first", "2": "second", "b": "both", "k": "none"}


def _adjudicate(args: argparse.Namespace) -> int:
    from ..adjudication import consensus_coder, decide, default_coders, disagreements
    from ..agreement import agreement
    project = open_project(args.project)
    coders = tuple(args.coders) if args.coders else default_coders(project)
    items = disagreements(project, (coders[0], coders[1]), documents=args.documents)
    if args.json:
        print(json.dumps([d.to_dict() for d in items], ensure_ascii=False, indent=2))
        return 0
    res = agreement(project, coders=list(coders), level="unit")
    print(f"Agreement before adjudication ({', '.join(coders)}; {res.documents} documents coded by both, "
          f"unit level): " + ", ".join(f"{k} {v}" for k, v in res.overall.items() if k != "code"))
    print(f"{len(items)} open disagreement(s); decisions become codings of {consensus_coder(project)!r}")
    if args.list:
        for d in items:
            print(f"{d.id}\t{d.kind}\t{_codes(d.first)}\t{_codes(d.second)}\t{d.text[:60]!r}")
        return 0
    by = args.coder or current_coder()
    decided = 0
    for n, d in enumerate(items, 1):
        if args.take:
            if args.id and d.id not in args.id:
                continue
            decide(project, d, args.take, by=by)
            decided += 1
            continue
        print(f"\n[{n}/{len(items)}] {d.document_id} {d.start}..{d.end} ({d.kind})")
        print(f"  …{d.before[-80:]}[[{d.text}]]{d.after[:80]}…")
        print(f"  1 {coders[0]}: {_codes(d.first)}")
        print(f"  2 {coders[1]}: {_codes(d.second)}")
        answer = ""
        while answer not in (*_CHOICES, "s", "q"):
            print("  [1] take 1  [2] take 2  [b] both  [k] none applies  [s] skip  [q] quit: ", end="", flush=True)
            answer = (sys.stdin.readline() or "q").strip().lower()
        if answer == "q":
            break
        if answer != "s":
            decide(project, d, _CHOICES[answer], by=by)
            decided += 1
    print(f"{decided} decision(s) recorded")
    return 0


def _codes(codings: list[dict[str, object]]) -> str:
    return "; ".join(f"{c['code']} [{c['start']}..{c['end']}]" for c in codings) or "(no coding)"


def _blind(args: argparse.Namespace) -> int:
    from ..blind import assign_blind, mark_done
    project = open_project(args.project)
    if args.action == "assign":
        n = assign_blind(project, args.coder, args.documents, by=current_coder())
        print(f"{n} document(s) assigned to {args.coder} for blind coding")
    elif args.action == "done":
        for d in args.documents:
            mark_done(project, args.coder, d)
        print(f"{len(args.documents)} document(s) marked done; {args.coder} now sees the other codings there")
    else:
        for r in project.store.query("SELECT coder, document_id, assigned_at, done_at FROM blind_assignments "
                                     "ORDER BY coder, document_id"):
            print(f"{r[0]}\t{r[1]}\t{'done ' + r[3] if r[3] else 'open'}")
    return 0


def _log(args: argparse.Namespace) -> int:
    project = open_project(args.project)
    log = project.store.log(args.coding)
    if args.coding is not None and log.empty:
        from ..errors import CodingError
        raise CodingError(f"the log has no entry for coding {args.coding}",
                          hint="`qualkit log` lists all entries with their coding ids")
    rows = [{**r, "payload": json.loads(r["payload"])} for r in log.to_dict("records")]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for r in rows[-args.tail:] if args.tail and args.coding is None else rows:
            p = r["payload"]
            what = (f"{p.get('document')} {p.get('start')}..{p.get('end')} {p.get('code')} ({p.get('coder')})"
                    if "document" in p else ", ".join(f"{k}: {v[0]} → {v[1]}" for k, v in p.items()
                                                      if isinstance(v, list) and len(v) == 2))
            print(f"{r['id']}\t{r['at']}\t{r['coder']}\t{r['action']}\t{r['coding_id']}\t{what}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("merge", help="bring another copy of this project (folder or .qdpx) into this one")
    project_arg(p)
    p.add_argument("other", help="the other copy's project folder, or a .qdpx exported from it")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_merge)
    p = sub.add_parser("adjudicate", help="walk through two coders' disagreements and record consensus codings")
    project_arg(p)
    p.add_argument("--coders", nargs=2, metavar=("FIRST", "SECOND"), help="default: the two coders with most codings")
    p.add_argument("--documents", nargs="+", metavar="DOC", help="only these documents")
    p.add_argument("--list", action="store_true", help="list the open disagreements and stop")
    p.add_argument("--json", action="store_true", help="print the open disagreements as JSON")
    p.add_argument("--take", choices=["first", "second", "both", "none"],
                   help="decide without asking (all open disagreements, or those named with --id)")
    p.add_argument("--id", nargs="+", help="disagreement ids (from --list) for --take")
    p.add_argument("--coder", help="who records the decisions (default: your coder name)")
    p.set_defaults(func=_adjudicate)
    p = sub.add_parser("blind", help="assign documents for blind coding, mark them done, list assignments")
    s = p.add_subparsers(dest="action", required=True)
    for action, helptext in (("assign", "CODER DOC…: code these blind"), ("done", "CODER DOC…: finished")):
        x = s.add_parser(action, help=helptext)
        project_arg(x)
        x.add_argument("coder")
        x.add_argument("documents", nargs="+")
        x.set_defaults(func=_blind)
    x = s.add_parser("list", help="all assignments")
    project_arg(x)
    x.set_defaults(func=_blind)
    p = sub.add_parser("log", help="the coding log: who changed which coding when")
    project_arg(p)
    p.add_argument("--coding", type=int, metavar="ID", help="the history of one coding")
    p.add_argument("--json", action="store_true")
    p.add_argument("--tail", type=int, default=50, help="show the last N entries (default 50; 0: all)")
    p.set_defaults(func=_log)
