"""``qualkit autocode`` and ``qualkit review``."""

from __future__ import annotations

import argparse
import sys

from ..cli import project_arg
from ..exports import write_csv
from ..project import current_coder, open_project
from ..suggestions import autocode_project, autocode_texts, next_units, pending_suggestions, read_input_csv, review_decide


def _autocode(args: argparse.Namespace) -> int:
    project = open_project(args.project)
    if args.input:
        if not args.out:
            print("error: give --out OUT.csv for the results", file=sys.stderr)
            return 2
        df = read_input_csv(args.input)
        result = autocode_texts(project, df)
        write_csv(result, args.out, float_format="%.4f")
        print(f"{len(df)} text(s) coded: {len(result)} code assignment(s) written to {args.out}")
        return 0
    if args.next:
        nxt = next_units(project, args.next)
        if nxt.empty:
            print("every unit is coded")
        for r in nxt.itertuples():
            text = r.text.replace("\n", " ")
            print(f"{r.document_id} {r.start}-{r.end} (unit {r.unit_id}, {r.utility:.2f}): "
                  f"{text[:90]}{'…' if len(text) > 90 else ''}")
        return 0
    new = autocode_project(project, retrain=args.retrain, jobs=args.jobs, scheduler=args.scheduler)
    print(f"{len(new)} new suggestion(s) stored as pending; review them with `qualkit review`")
    return 0


def _review(args: argparse.Namespace) -> int:
    project = open_project(args.project)
    coder = args.coder or current_coder()
    if args.accept or args.reject:
        for cid in args.accept or []:
            review_decide(project, cid, accept=True, coder=coder, force=args.force)
            print(f"accepted suggestion {cid} (by {coder})")
        for cid in args.reject or []:
            review_decide(project, cid, accept=False, coder=coder, force=args.force)
            print(f"rejected suggestion {cid} (by {coder})")
        return 0
    df = pending_suggestions(project)
    if df.empty:
        print("no pending suggestions")
        return 0
    for r in df.head(args.limit).itertuples():
        quote = r.quote.replace("\n", " ")
        print(f"[{r.id}] {r.document_id} {r.code} ({r.score:.2f}): {quote[:90]}{'…' if len(quote) > 90 else ''}\n"
              f"      {r.explanation}")
    if len(df) > args.limit:
        print(f"… and {len(df) - args.limit} more (--limit)")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("autocode", help="suggest codes for uncoded units, or code a CSV of texts")
    project_arg(p)
    p.add_argument("input", nargs="?", help="optional id,text CSV to code with the project's model")
    p.add_argument("--out", help="output CSV (id,code,score) for INPUT")
    p.add_argument("--retrain", action="store_true", help="train the model again even if the codings did not change")
    p.add_argument("--jobs", type=int, default=1, help="processes scoring the units in batches (default 1)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="score the units on Dask: 'local' (a LocalCluster of --jobs workers) or a scheduler's address")
    p.add_argument("--next", type=int, metavar="N",
                   help="list the N uncoded units whose coding would teach the model most, and store nothing")
    p.set_defaults(func=_autocode)
    p = sub.add_parser("review", help="list, accept or reject pending suggestions")
    project_arg(p)
    p.add_argument("--accept", type=int, nargs="+", metavar="ID")
    p.add_argument("--reject", type=int, nargs="+", metavar="ID")
    p.add_argument("--coder", help="who decides (default: your configured coder name)")
    p.add_argument("--force", action="store_true", help="change a decision that was already made")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=_review)
