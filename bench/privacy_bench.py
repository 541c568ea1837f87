"""Name detection on the example corpus against the names its authors planted (tests/data/planted_names.csv).

Recall: share of planted strings that no longer occur anywhere in the pseudonymised texts.  Precision:
share of mapping entries that are (part of) a planted string.  Plus the time to learn the mapping and to
pseudonymise every document.  Writes docs/benchmarks/privacy.md."""

from __future__ import annotations

import csv
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, copy_project, machine, write_result
from qualkit.corpus import ingest
from qualkit.privacy import Pseudonymizer
from qualkit.project import open_project


def main() -> None:
    project = open_project(copy_project())
    ingest(project)
    texts = [r[0] for r in project.store.query("SELECT text FROM documents ORDER BY id")]
    planted = [r for r in csv.DictReader((REPO / "tests/data/planted_names.csv").open(encoding="utf-8"))]
    planted = [r for r in planted if any(r["string"] in t for t in texts)]
    t = time.perf_counter()
    p = Pseudonymizer()
    p.learn(texts)
    learn_s = time.perf_counter() - t
    t = time.perf_counter()
    out = [p.pseudonymise(x) for x in texts]
    apply_s = time.perf_counter() - t
    joined = "\n".join(out)
    missed = [r for r in planted if re.search(r"(?<!\w)" + re.escape(r["string"]) + r"(?!\w)", joined)]
    by_type = Counter(r["type"] for r in planted)
    miss_type = Counter(r["type"] for r in missed)
    planted_strings = [r["string"] for r in planted]
    tp = [k for k in p.mapping if any(k in s or s in k for s in planted_strings)]
    fp = sorted(set(p.mapping) - set(tp))
    recall = 1 - len(missed) / max(len(planted), 1)
    precision = len(tp) / max(len(p.mapping), 1)
    words = sum(len(x.split()) for x in texts)
    lines = ["# Pseudonymisation benchmark", "", f"Machine: {machine()}. Command: `python bench/privacy_bench.py`.", "",
             f"- planted identifying strings found in the corpus: {len(planted)}",
             f"- recall (planted strings gone from the pseudonymised text): **{recall:.3f}**",
             f"- precision (mapping entries that are planted strings or parts of them): **{precision:.3f}** "
             f"({len(tp)} of {len(p.mapping)})",
             f"- learning the mapping: {learn_s:.2f} s; pseudonymising {len(texts)} documents ({words:,} words): "
             f"{apply_s:.2f} s", "", "| type | planted | missed | recall |", "|---|---|---|---|"]
    for typ, n in sorted(by_type.items()):
        lines.append(f"| {typ} | {n} | {miss_type.get(typ, 0)} | {1 - miss_type.get(typ, 0) / n:.2f} |")
    lines += ["", "False alarms (mapping entries not planted; a researcher adds them to `[privacy] allow`):", ""]
    lines += [f"- {x} ({p.mapping[x]['type']})" for x in fp[:40]]
    if len(fp) > 40:
        lines.append(f"- … and {len(fp) - 40} more")
    lines += ["", "Missed (add to `[privacy] deny`):", ""] + [f"- {r['string']} ({r['type']})" for r in missed[:40]]
    write_result("privacy", "\n".join(lines) + "\n", {"recall": recall, "precision": precision, "planted": len(planted),
                                                    "missed": len(missed), "learn_s": learn_s, "apply_s": apply_s})


if __name__ == "__main__":
    main()
