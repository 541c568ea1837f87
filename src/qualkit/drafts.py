"""Drafts of findings: what the coded material shows about a code, stated as counts with their evidence.

:func:`draft_findings` proposes one draft per subcode raised, per theme, per clear contrast between groups or
places (:func:`qualkit.reportdata.contrasts`) and for the survey's share and closed item; a draft never
interprets.  :func:`add_drafts` writes them into the code's findings file, once per ``draft_key``, so that
researchers start from a list and edit, merge and approve there.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pandas as pd

from .findings import (
    Evidence,
    Finding,
    FindingsFile,
    _items,
    evidence_stats,
    findings_path,
    load_findings,
    save_findings_file,
)
from .project import Project

if TYPE_CHECKING:
    from .reportdata import ReportData

__all__ = ["add_drafts", "draft_findings"]


def _prefix(code: str) -> str:
    letters = [w[0] for w in re.findall(r"[A-Za-zÄÖÜäöü]+", code) if len(w) > 3]
    return ("".join(letters[:3]) or "F").upper().translate(str.maketrans("ÄÖÜ", "AOU"))


def _passages(data: ReportData, units: pd.DataFrame, n: int = 3) -> list[Evidence]:
    """Up to ``n`` passages from different documents, German, mid-length first (deterministic)."""
    u = units[units.language.fillna("de").isin(["de", "und"]) & (units.text.str.len() >= 60)]
    u = u.assign(_d=(u.text.str.len() - 220).abs()).sort_values(["_d", "unit_id"], kind="stable")
    out: list[Evidence] = []
    seen: set[str] = set()
    for r in u.itertuples():
        if r.document_id in seen:
            continue
        seen.add(r.document_id)
        text = str(r.text)
        cut = text[:200].rsplit(" ", 1)[0] if len(text) > 200 else text
        out.append(Evidence(document=str(r.document_id), quote=cut, start=int(r.start), cite=len(out) < 2))
        if len(out) == n:
            break
    return out


def draft_findings(data: ReportData, code: str, *, themes: Any = None) -> list[Finding]:
    """Candidate findings for ``code`` from the coded material, each with its evidence; they state counts only.

    One draft per subcode raised, per theme (``themes``: a :class:`qualkit.themes.ThemeResult`), per clear
    contrast between groups (:func:`qualkit.reportdata.contrasts`) and for the survey's share and closed item."""
    from .prose import evidence_sentence, join_de, noun, share_phrase
    from .reportdata import choice_counts, choice_variable, contrasts
    out: list[Finding] = []

    def add(key: str, text: str, evidence: list[Evidence]) -> None:
        out.append(Finding(id="", code=code, text=text, status="draft", origin="draft", evidence=evidence,
                           draft_key=key))

    def stats_text(units: pd.DataFrame) -> str:
        st = evidence_stats(data, units)
        return evidence_sentence(**st)

    for sub in data.cb.children(code):
        u = data.units_with([sub.name])
        if u.empty:
            continue
        add(f"subcode:{sub.name}", f"Unterkategorie „{sub.name}“: {stats_text(u)}",
            [Evidence(code=sub.name), *_passages(data, u)])
    if themes is not None and not themes.themes.empty and themes.k >= 2:
        for r in themes.themes.itertuples():
            members = set(themes.assignments[themes.assignments.theme == r.theme].unit_id)
            u = data.units[data.units.unit_id.isin(members)]
            add(f"theme:{r.label}", f"Thema „{r.label}“: {stats_text(u)}", _passages(data, u))
    subs = [code, *[c.name for c in data.cb.children(code)]]
    for kind, var in [(k, v) for k in ("interview", "survey") for v in data.compared_variables(k)]:
        c = contrasts(data, subs, kind, var, min_base=max(3, data.settings.k))
        for r in c.head(3).itertuples():
            who = "Interviewten" if kind == "interview" else "Befragten"
            more = "häufiger" if r.direction == "more" else "seltener"
            add(f"contrast:{kind}:{var}:{r.value}:{r.code}",
                f"„{r.code}“ wird von {who} mit {var} „{r.value}“ {more} angesprochen: "
                f"{share_phrase(r.n, r.total, who)} gegenüber {share_phrase(r.rest_n, r.rest_total)} "
                f"bei den übrigen {who}.",
                [Evidence(code=r.code, where={var: [str(r.value)]}, kind=kind),
                 *_passages(data, data.units_with([r.code], kinds=(kind,))[
                     lambda d, var=var, r=r: d[var].astype(str) == str(r.value)], 2)])
    sv_total = data.total("survey")
    u = data.units_with([code], kinds=("survey",))
    if sv_total and not u.empty:
        qs = u.groupby("question").person_id.nunique().sort_values(ascending=False, kind="stable")
        add("survey:share", f"Online-Befragung: {share_phrase(data.persons(u, 'survey'), sv_total, 'Befragten')} "
            f"äußerten sich zu „{code}“, am häufigsten bei der Frage „{qs.index[0]}“ "
            f"({noun(int(qs.iloc[0]), 'Person', 'Personen')}).",
            [Evidence(code=code, kind="survey"), *_passages(data, u, 2)])
    choice = choice_variable(data)
    if choice:
        counts = choice_counts(data, choice)
        n = int(counts.get(code, 0))
        add(f"choice:{choice}", f"{share_phrase(n, int(counts.sum()), 'Befragten')} wählten „{code}“ bei „{choice}“"
            f" (häufigste Wahl: {join_de(list(counts.head(1).index))}).", [])
    return out


def add_drafts(project: Project, code: str, data: ReportData, *, themes: Any = None) -> list[Finding]:
    """Add the drafts of :func:`draft_findings` to the code's findings file; a draft whose ``draft_key`` is
    already in the file (as draft, edited or approved) is not added again.  Returns the drafts added."""
    ff = next((f for f in load_findings(project) if f.code == code), None) or \
        FindingsFile(code=code, path=findings_path(project, code))
    have = {f.draft_key for f in ff.findings if f.draft_key}
    used = {i.id for f2 in load_findings(project) for i in _items(f2)}
    prefix = _prefix(code)
    added = []
    n = 1
    for d in draft_findings(data, code, themes=themes):
        if d.draft_key in have:
            continue
        while f"{prefix}-D{n}" in used:
            n += 1
        d.id = f"{prefix}-D{n}"
        used.add(d.id)
        ff.findings.append(d)
        added.append(d)
    if added:
        save_findings_file(ff)
    return added
