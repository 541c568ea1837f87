"""Compute the label counts of the example corpus and write them into transcripts/README.md (between the
counts markers).  `python bench/corpus_stats.py` — the test suite checks that the README is current."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, copy_project
from qualkit.corpus import ingest
from qualkit.project import Project, open_project
from qualkit.status import project_status
from qualkit.units import unit_labels

START, END = "<!-- counts:start -->", "<!-- counts:end -->"


def counts_markdown(project: Project) -> str:
    st = project_status(project)
    lab = unit_labels(project, rule="all")  # per coder: both reliability coders
    cb = project.codebook
    lines = [f"- Interviews: {st['sources']['interview']['documents']} transcripts, "
             f"{st['sources']['interview']['units']} turns, {st['sources']['interview']['words']:,} words",
             f"- Survey: {st['respondents']['total']} respondents, {st['respondents']['with_answers']} with open "
             f"answers, {st['sources'].get('survey', {}).get('documents', 0)} answers, "
             f"{st['respondents']['no_answer_markers']} 'no answer' markers",
             "- Reference codings: " + ", ".join(f"coder {k}: {v}" for k, v in sorted(st["coders"].items())), "",
             "| code | dimension | units coder A | units coder B |", "|---|---|---|---|"]
    for name, code in cb.codes.items():
        if code.dimension == "importiert":
            continue
        sel = lab[(lab.code == name) | (lab.root == name)] if code.parent is None else lab[lab.code == name]
        a = sel[sel.coder == "A"].unit_id.nunique()
        b = sel[sel.coder == "B"].unit_id.nunique()
        indent = "&nbsp;&nbsp;&nbsp;" if code.parent else ""
        lines.append(f"| {indent}{name} | {code.dimension} | {a} | {b} |")
    return "\n".join(lines)


def main() -> None:
    project = open_project(copy_project())
    ingest(project)
    md = counts_markdown(project)
    readme = REPO / "transcripts/README.md"
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{md}\n{END}{tail}", encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()
