"""``qualkit pseudonymize``."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from .._text import read_text
from ..cli import project_arg
from ..errors import ConfigError
from ..privacy import Pseudonymizer, guard_outputs, pseudonymise_project
from ..project import open_project


def _pseudonymize(args: argparse.Namespace) -> int:
    if args.files:
        if not args.out:
            raise ConfigError("give --out DIR for the pseudonymised copies")
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        if args.mapping:
            p = Pseudonymizer(args.mapping)
        else:
            project = open_project(args.project)
            cfg = project.config["privacy"]
            p = Pseudonymizer(project.private_dir / "pseudonyms.json", allow=cfg["allow"], deny=cfg["deny"])
        if p.path and out.resolve() in p.path.resolve().parents:
            raise ConfigError("the mapping must not be written into the output folder",
                              hint="choose another --mapping or --out")
        texts = {f: read_text(f)[0] for f in args.files}
        p.learn(texts.values())
        p.save()
        written = []
        for f, text in texts.items():
            target = out / Path(f).name
            target.write_text(p.pseudonymise(text), encoding="utf-8")
            written.append(target)
        print(f"{len(written)} pseudonymised file(s) in {out}; mapping (keep private): {p.path}")
        if not args.mapping:
            guard_outputs(open_project(args.project), written)
        return 0
    project = open_project(args.project)
    p = pseudonymise_project(project)
    counts = Counter(v["type"] for v in p.mapping.values() if v.get("primary", "1") == "1")
    print("pseudonyms: " + (", ".join(f"{t} {n}" for t, n in sorted(counts.items())) or "none"))
    print(f"mapping (keep private, never share): {p.path}")
    print("add missed names to [privacy] deny and false alarms to [privacy] allow in qualkit.toml, then re-run")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("pseudonymize", aliases=["pseudonymise"],
                       help="detect names and build the pseudonym mapping; or write pseudonymised copies of files")
    project_arg(p)
    p.add_argument("files", nargs="*", metavar="FILE")
    p.add_argument("--out", metavar="DIR", help="folder for pseudonymised copies of FILEs")
    p.add_argument("--mapping", metavar="FILE", help="mapping file (default: the project's .qualkit/private/)")
    p.set_defaults(func=_pseudonymize)
