"""``qualkit status``: what is in the store, by source and by case variable."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._text import count_words
from .project import Project

__all__ = ["project_status"]


def project_status(project: Project) -> dict[str, Any]:
    """Counts of documents, units, words and codings.

    Returns a JSON-able dict with keys ``project``, ``codebook``, ``sources`` (per document kind:
    documents, cases, persons (the participants of a group discussion each count), units, words),
    ``respondents`` (survey cases, with and without answers),
    ``codings`` (by origin and status), ``coders`` (codings per coder), ``flagged`` (codings whose
    anchor is fuzzy or lost, with their ids) and ``by_variable`` (documents per value of each case
    variable, per kind).
    """
    store = project.store
    docs = store.frame("SELECT id, case_id, kind, text FROM documents")
    units = store.frame("SELECT document_id, role FROM units")
    sources: dict[str, Any] = {}
    from .units import unit_table
    persons = unit_table(project, kinds=tuple(sorted(set(docs.kind)))).groupby("kind").person_id.nunique() \
        if not docs.empty else pd.Series(dtype=int)
    for kind, g in docs.groupby("kind"):
        u = units[units.document_id.isin(g.id)]
        sources[str(kind)] = {"documents": len(g), "cases": int(g.case_id.nunique()),
                              "persons": int(persons.get(kind, 0)),
                              "units": len(u), "respondent_units": int((u.role != "interviewer").sum()),
                              "words": int(sum(count_words(t) for t in g.text))}
    resp = store.query("SELECT count(*) FROM cases WHERE kind='respondent'")[0][0]
    answered = store.query("SELECT count(DISTINCT case_id) FROM documents WHERE kind='survey'")[0][0]
    missing = store.query("SELECT count(*) FROM missing_answers")[0][0]
    cod = store.frame("SELECT origin, status, coder, anchor, id FROM codings")
    by_origin = {f"{o}/{s}": int(n) for (o, s), n in cod.groupby(["origin", "status"]).size().items()} \
        if not cod.empty else {}
    flagged = cod[cod.anchor.isin(["fuzzy", "lost"])] if not cod.empty else cod
    by_var: dict[str, dict[str, dict[str, int]]] = {}
    cv = store.case_variables()
    if not cv.empty:
        # counted per case (interviewee / respondent), not per document: a respondent has several answers
        skip = {"case_id", "case_kind", "Befragten-ID"}
        for case_kind, g in cv.groupby("case_kind"):
            if case_kind == "other":
                continue  # a group discussion as a whole: its participants are counted as persons
            kind = "survey" if case_kind == "respondent" else case_kind
            for col in cv.columns:
                if col in skip or g[col].isna().all():
                    continue
                vals = g[col].replace("", pd.NA).fillna("(fehlt)")  # one missing category
                if vals.nunique() > 40:
                    continue
                by_var.setdefault(str(kind), {})[col] = {str(k): int(v) for k, v in
                                                         vals.value_counts().sort_index().items()}
    cb = project.codebook
    return {
        "project": project.name,
        "codebook": {"name": cb.name, "codes": len(cb.codes),
                     "dimensions": {d.key: len(d.codes) for d in cb.dimensions}},
        "sources": sources,
        "respondents": {"total": int(resp), "with_answers": int(answered), "no_answer_markers": int(missing)},
        "codings": {"total": len(cod), "by_origin_status": by_origin},
        "coders": {str(k): int(v) for k, v in cod.groupby("coder").size().items()} if not cod.empty else {},
        "flagged": {"count": len(flagged), "ids": [int(i) for i in flagged.id]},
        "by_variable": by_var,
    }


def format_status(st: dict[str, Any]) -> str:
    """Human-readable text of :func:`project_status`."""
    lines = [f"Project: {st['project']}",
             f"Codebook: {st['codebook']['name']} ({st['codebook']['codes']} codes; " +
             ", ".join(f"{k}: {v}" for k, v in st['codebook']['dimensions'].items()) + ")"]
    if not st["sources"]:
        lines.append("No documents yet: put transcripts in transcripts/ and run `qualkit ingest`.")
    for kind, s in st["sources"].items():
        lines.append(f"{kind:10s} {s['documents']:5d} documents  {s['persons']:5d} persons  {s['units']:6d} units  "
                     f"{s['words']:8d} words")
    r = st["respondents"]
    if r["total"]:
        lines.append(f"survey     {r['total']} respondents, {r['with_answers']} with open answers, "
                     f"{r['no_answer_markers']} 'no answer' markers")
    c = st["codings"]
    lines.append(f"codings    {c['total']} total: " +
                 (", ".join(f"{k} {v}" for k, v in sorted(c["by_origin_status"].items())) or "none"))
    if st["coders"]:
        lines.append("coders     " + ", ".join(f"{k} {v}" for k, v in sorted(st["coders"].items())))
    if st["flagged"]["count"]:
        ids = ", ".join(map(str, st["flagged"]["ids"][:20]))
        lines.append(f"FLAGGED    {st['flagged']['count']} coding(s) could not be re-anchored exactly "
                     f"after a transcript changed: {ids}")
    for kind, variables in st["by_variable"].items():
        for var, counts in variables.items():
            df = pd.Series(counts)
            lines.append(f"{kind}/{var}: " + ", ".join(f"{k} {v}" for k, v in df.items()))
    return "\n".join(lines)
