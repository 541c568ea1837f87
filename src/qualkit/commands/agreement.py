"""``qualkit agreement``."""

from __future__ import annotations

import argparse
import json

from ..agreement import agreement, matrix_statistics, read_reliability_matrix
from ..cli import project_arg
from ..project import open_project


def _agreement(args: argparse.Namespace) -> int:
    if args.matrix:
        coders, matrix = read_reliability_matrix(args.matrix)
        stats = matrix_statistics(matrix, coders)
        if args.json:
            print(json.dumps(stats, ensure_ascii=False))
        else:
            for k, v in stats.items():
                print(f"{k}: {v}")
        return 0
    project = open_project(args.project)
    res = agreement(project, coders=args.coders, level=args.level, dimension=args.dimension or None,
                    rollup=not args.subcodes, threshold=args.threshold)
    if args.json:
        print(json.dumps({"level": res.level, "coders": res.coders, "documents": res.documents,
                          "overall": res.overall, "per_code": res.per_code.to_dict("records")},
                         ensure_ascii=False, indent=2))
    else:
        print(f"level {res.level}, coders {', '.join(res.coders)}, {res.documents} documents coded by all")
        print(res.per_code.to_string(index=False))
        print("overall: " + ", ".join(f"{k} {v}" for k, v in res.overall.items() if k != "code"))
        print(f"{len(res.disagreements)} disagreement(s)")
    if args.xlsx:
        # the disagreement list quotes the transcripts: pseudonymised and checked like every other output
        from ..privacy import Pseudonymizer, guard_outputs, pseudonymise_project
        pseudonymise_project(project)
        pseudo = Pseudonymizer.for_project(project)
        d = res.disagreements
        for col in ("text", "document_id"):
            if col in d.columns:
                d[col] = [pseudo.pseudonymise(str(v)) for v in d[col]]
        res.to_excel(args.xlsx)
        guard_outputs(project, [args.xlsx])
        print(f"agreement and disagreement list written to {args.xlsx}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("agreement", help="intercoder agreement (kappa, Krippendorff's alpha) at three levels")
    project_arg(p)
    p.add_argument("--matrix", metavar="FILE.csv", help="compute for a reliability data matrix instead")
    p.add_argument("--json", action="store_true")
    p.add_argument("--coders", nargs="+")
    p.add_argument("--level", choices=["document", "unit", "segment"], default="unit")
    p.add_argument("--dimension", default="primary",
                   help="codebook dimension key (default: the codebook's first; '' for all)")
    p.add_argument("--subcodes", action="store_true", help="compare subcodes instead of top-level codes")
    p.add_argument("--threshold", type=float, default=0.9, help="segment overlap needed (default 0.9)")
    p.add_argument("--xlsx", metavar="OUT.xlsx", help="write the table and the disagreement list")
    p.set_defaults(func=_agreement)
