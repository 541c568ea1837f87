"""Findings (Befunde), recommendations (Handlungsempfehlungen) and the research memo of each code.

Researchers keep them in one YAML file per code of the primary dimension (``findings/<code-slug>.yaml``;
format: ``docs/findings-format.md``), where they can be read, diffed and reviewed.  qualkit reads them
(:func:`load_findings`), checks them (ids, links, codes, measures), resolves their evidence against the
current store (:func:`resolve_evidence`: a passage is anchored by its words, so it survives re-ingest, and a
passage that cannot be found any more is ``lost``, never silently dropped), drafts candidate findings from
the coded material (:mod:`qualkit.drafts`: they say only what the data shows) and writes approvals back
(:func:`approve`).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from ._limits import load_yaml
from .errors import InputFileError, QualkitError
from .project import Project

if TYPE_CHECKING:
    from .reportdata import ReportData

__all__ = ["Evidence", "Finding", "FindingsFile", "Memo", "Recommendation", "approve",
           "evidence_stats", "evidence_table", "findings_citing", "findings_path",
           "findings_records", "findings_table", "load_findings", "merge", "resolve_evidence", "save_findings_file", "slug"]

STATUSES = ("draft", "approved")


def slug(name: str) -> str:
    """File-name form of a code name: "Bildung und Sprache" → "bildung-und-sprache"."""
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
    return re.sub(r"[^a-z0-9]+", "-", name.translate(table).lower()).strip("-")


@dataclass
class Evidence:
    """One piece of evidence: a passage (``document`` + verbatim ``quote``) or all counted units of a ``code``
    (optionally only cases whose variables are in ``where``, only one ``kind`` of material)."""

    document: str = ""
    quote: str = ""
    start: int | None = None
    end: int | None = None
    cite: bool = False
    code: str = ""
    where: dict[str, list[str]] = field(default_factory=dict)
    kind: str = ""

    def to_yaml(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in asdict(self).items():
            if v not in ("", None, False, {}):
                out[k] = v
        return out


@dataclass
class Finding:
    id: str
    code: str
    text: str
    status: str = "draft"
    author: str = ""
    origin: str = "researcher"
    evidence: list[Evidence] = field(default_factory=list)
    measures: list[str] = field(default_factory=list)
    draft_key: str = ""
    summary: str = ""

    @property
    def headline(self) -> str:
        """The finding in one line for the report's summary: ``summary`` if the researchers wrote one, else
        the text up to its first colon or full stop."""
        if self.summary:
            return self.summary
        m = re.match(r"(.{30,}?)(?::\s|\.\s|\.$|;\s)", self.text)
        return (m.group(1) + ".") if m else self.text


@dataclass
class Recommendation:
    id: str
    code: str
    text: str
    status: str = "draft"
    author: str = ""
    findings: list[str] = field(default_factory=list)
    measures: list[str] = field(default_factory=list)


@dataclass
class Memo:
    title: str = ""
    text: str = ""
    author: str = ""
    for_report: bool = False


Item = Finding | Recommendation


@dataclass
class FindingsFile:
    """The content of one findings file."""

    code: str
    path: Path
    memo: Memo | None = None
    findings: list[Finding] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)


def _items(ff: FindingsFile) -> list[Item]:
    return [*ff.findings, *ff.recommendations]


def findings_path(project: Project, code: str) -> Path:
    """Where the findings of ``code`` live: ``<[findings] folder>/<slug>.yaml``."""
    return project.path(project.config["findings"]["folder"]) / f"{slug(code)}.yaml"


# -- reading -------------------------------------------------------------------------------------------------

def _line_of(text: str, needle: str) -> int | None:
    i = text.find(needle)
    return text.count("\n", 0, i) + 1 if i >= 0 else None


def _str_list(value: Any, path: Path, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise InputFileError(path, f"{what} must be a list of ids", hint="write e.g. [BS-B1, BS-B2]")
    return [str(v) for v in value]


def _evidence(raw: Any, path: Path, owner: str, text: str) -> Evidence:
    if not isinstance(raw, dict):
        raise InputFileError(path, f"{owner}: an evidence entry must be a mapping", line=_line_of(text, owner),
                             hint="give `document:` and `quote:`, or `code:`")
    unknown = set(raw) - {f for f in Evidence.__dataclass_fields__}
    if unknown:
        raise InputFileError(path, f"{owner}: unknown evidence key(s) {', '.join(sorted(unknown))}",
                             line=_line_of(text, owner), hint="keys: document, quote, start, end, cite, code, where, kind")
    ev = Evidence(**{k: v for k, v in raw.items()})
    ev.document, ev.quote, ev.code, ev.kind = (str(ev.document or ""), str(ev.quote or ""), str(ev.code or ""),
                                               str(ev.kind or ""))
    ev.where = {str(k): [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in (ev.where or {}).items()}
    if bool(ev.document) != bool(ev.quote) or not (ev.document or ev.code):
        raise InputFileError(path, f"{owner}: evidence needs `document` with `quote`, or `code`",
                             line=_line_of(text, owner), hint="quote a verbatim stretch of the document's text")
    if ev.kind not in ("", "interview", "survey"):
        raise InputFileError(path, f"{owner}: kind {ev.kind!r}", line=_line_of(text, owner),
                             hint="kind is interview or survey")
    return ev


def _read_file(path: Path, codebook: Any) -> FindingsFile:
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = load_yaml(text, path) or {}  # aliases bounded, a duplicate key is an error (qualkit._limits)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputFileError(path, f"not valid YAML ({getattr(e, 'problem', e)})",
                             line=mark.line + 1 if mark else None, hint="check indentation and quotes there") from e
    if not isinstance(data, dict) or "code" not in data:
        raise InputFileError(path, "a findings file starts with `code:`", line=1,
                             hint="see docs/findings-format.md")
    code = str(data["code"])
    if code not in codebook.primary.codes:
        raise InputFileError(path, f"code {code!r} is not a code of the primary dimension", line=1,
                             hint=f"valid: {', '.join(codebook.primary.codes)}")
    unknown = set(data) - {"code", "memo", "findings", "recommendations"}
    if unknown:
        raise InputFileError(path, f"unknown key(s) {', '.join(sorted(unknown))}",
                             line=_line_of(text, sorted(unknown)[0]), hint="keys: code, memo, findings, recommendations")
    ff = FindingsFile(code=code, path=path)
    if data.get("memo"):
        m = data["memo"]
        ff.memo = Memo(title=str(m.get("title", "")), text=str(m.get("text", "")).strip(),
                       author=str(m.get("author", "")), for_report=bool(m.get("for_report", False)))
    for kind, cls in (("findings", Finding), ("recommendations", Recommendation)):
        for raw in data.get(kind) or []:
            if not isinstance(raw, dict) or not raw.get("id") or not str(raw.get("text", "")).strip():
                raise InputFileError(path, f"every entry of `{kind}` needs `id` and `text`",
                                     line=_line_of(text, str(raw.get("id", ""))) if isinstance(raw, dict) else None,
                                     hint="see docs/findings-format.md")
            rid = str(raw["id"])
            status = str(raw.get("status", "draft"))
            if status not in STATUSES:
                raise InputFileError(path, f"{rid}: status {status!r}", line=_line_of(text, rid),
                                     hint="status is draft or approved")
            body, author = " ".join(str(raw["text"]).split()), str(raw.get("author", ""))
            measures = _str_list(raw.get("measures"), path, f"{rid}: measures")
            if cls is Finding:
                ff.findings.append(Finding(
                    id=rid, code=code, text=body, status=status, author=author, measures=measures,
                    origin=str(raw.get("origin", "researcher")), draft_key=str(raw.get("draft_key", "")),
                    summary=" ".join(str(raw.get("summary", "")).split()),
                    evidence=[_evidence(e, path, rid, text) for e in raw.get("evidence") or []]))
            else:
                ff.recommendations.append(Recommendation(
                    id=rid, code=code, text=body, status=status, author=author, measures=measures,
                    findings=_str_list(raw.get("findings"), path, f"{rid}: findings")))
    return ff


def load_findings(project: Project) -> list[FindingsFile]:
    """Every findings file of the project, checked: known codes, one file per code, ids unique across the
    project, recommendations that name existing findings, measures that exist in the workshop files.

    Raises
    ------
    InputFileError
        with the file, the line and what to do.
    """
    folder = project.path(project.config["findings"]["folder"])
    if not folder.is_dir():
        return []
    files: list[FindingsFile] = []
    seen_codes: dict[str, Path] = {}
    seen_ids: dict[str, Path] = {}
    for path in sorted(folder.glob("*.yaml")):
        ff = _read_file(path, project.codebook)
        if ff.code in seen_codes:
            raise InputFileError(path, f"a second findings file for {ff.code!r} (the first: {seen_codes[ff.code].name})",
                                 line=1, hint="keep one file per code")
        seen_codes[ff.code] = path
        for item in _items(ff):
            if item.id in seen_ids:
                raise InputFileError(path, f"id {item.id} is used twice (also in {seen_ids[item.id].name})",
                                     line=_line_of(path.read_text(encoding="utf-8"), item.id),
                                     hint="give every finding and recommendation its own id")
            seen_ids[item.id] = path
        files.append(ff)
    finding_ids = {f.id for ff in files for f in ff.findings}
    measures = _measure_ids(project)
    for ff in files:
        text = ff.path.read_text(encoding="utf-8")
        for r in ff.recommendations:
            for fid in r.findings:
                if fid not in finding_ids:
                    raise InputFileError(ff.path, f"{r.id} follows from {fid}, which is no finding",
                                         line=_line_of(text, r.id), hint=f"known findings: {', '.join(sorted(finding_ids))}")
        for item in _items(ff):
            for m in item.measures:
                if m not in measures:
                    raise InputFileError(ff.path, f"{item.id} names the measure {m}, which no workshop file has",
                                         line=_line_of(text, item.id),
                                         hint="measures are <workshop>/<Nr>, e.g. "
                                              f"{next(iter(sorted(measures)), 'WS-1/1')}")
    return files


def _measure_ids(project: Project) -> set[str]:
    from .workshops import workshop_measures
    ws = workshop_measures(project)
    return set(ws.measure_id) if "measure_id" in ws.columns else set()


# -- writing -------------------------------------------------------------------------------------------------

def _item_yaml(item: Finding | Recommendation) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.id, "status": item.status}
    if item.author:
        out["author"] = item.author
    if isinstance(item, Finding):
        out["origin"] = item.origin
        if item.draft_key:
            out["draft_key"] = item.draft_key
    out["text"] = item.text
    if isinstance(item, Finding) and item.summary:
        out["summary"] = item.summary
    if isinstance(item, Finding):
        out["evidence"] = [e.to_yaml() for e in item.evidence]
    else:
        out["findings"] = list(item.findings)
    if item.measures:
        out["measures"] = list(item.measures)
    return out


def save_findings_file(ff: FindingsFile) -> None:
    """Write ``ff`` to its path atomically (a temporary file renamed over the old one)."""
    data: dict[str, Any] = {"code": ff.code}
    if ff.memo:
        data["memo"] = {"title": ff.memo.title, "author": ff.memo.author, "for_report": ff.memo.for_report,
                        "text": ff.memo.text}
    data["findings"] = [_item_yaml(f) for f in ff.findings]
    data["recommendations"] = [_item_yaml(r) for r in ff.recommendations]
    body = ("# Befunde, Handlungsempfehlungen und Forschungsmemo (format: docs/findings-format.md)\n"
            + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110))
    ff.path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=ff.path.parent, prefix=f".{ff.path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(body)
        os.replace(tmp, ff.path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def approve(project: Project, ids: Iterable[str], *, author: str = "") -> list[str]:
    """Set findings or recommendations to ``approved`` (their files are rewritten); returns the ids changed.

    Raises
    ------
    QualkitError
        if an id is unknown.
    """
    wanted = set(ids)
    files = load_findings(project)
    known = {i.id for ff in files for i in _items(ff)}
    missing = wanted - known
    if missing:
        raise QualkitError(f"no finding or recommendation {', '.join(sorted(missing))}",
                           hint="`qualkit findings` lists the ids")
    changed = []
    for ff in files:
        touched = False
        for item in _items(ff):
            if item.id in wanted and item.status != "approved":
                item.status = "approved"
                item.author = item.author or author
                changed.append(item.id)
                touched = True
        if touched:
            save_findings_file(ff)
    return changed


def merge(project: Project, ids: Sequence[str]) -> Finding:
    """Merge findings of one code into the first of ``ids``: texts joined, evidence and measures united (each
    once), status back to ``draft`` (the merged text needs approving); recommendations that followed from a
    merged finding now follow from the kept one.  Returns the kept finding.

    Raises
    ------
    QualkitError
        for fewer than two ids, unknown ids, or findings of different codes.
    """
    if len(ids) < 2:
        raise QualkitError("merging needs at least two findings", hint="qualkit findings merge ID1 ID2 [ID3 …]")
    files = load_findings(project)
    by_id = {f.id: (ff, f) for ff in files for f in ff.findings}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise QualkitError(f"no finding {', '.join(missing)}", hint="`qualkit findings` lists the ids")
    ff, keep = by_id[ids[0]]
    if any(by_id[i][0] is not ff for i in ids[1:]):
        raise QualkitError("findings of different codes cannot be merged",
                           hint="merge findings of one code; link the others through a recommendation")
    for i in ids[1:]:
        other = by_id[i][1]
        keep.text = f"{keep.text} {other.text}"
        keep.evidence += [e for e in other.evidence if e not in keep.evidence]
        keep.measures += [m for m in other.measures if m not in keep.measures]
        ff.findings.remove(other)
    keep.status = "draft"
    keep.summary = ""
    for r in ff.recommendations:
        r.findings = list(dict.fromkeys(ids[0] if fid in ids else fid for fid in r.findings))
    save_findings_file(ff)
    return keep


# -- evidence ------------------------------------------------------------------------------------------------

@dataclass
class ResolvedPassage:
    """Where a passage stands in the current text: ``status`` ok (found where it was, or found once),
    moved (found elsewhere or only with white space folded) or lost."""

    document: str
    start: int
    end: int
    status: str


def resolve_passage(text: str | None, ev: Evidence) -> ResolvedPassage:
    """Find ``ev.quote`` in ``text`` (the document's stored text)."""
    if text is None:
        return ResolvedPassage(ev.document, 0, 0, "lost")
    hits = [m.start() for m in re.finditer(re.escape(ev.quote), text)]
    if hits:
        hint = ev.start
        at = min(hits, key=lambda i: abs(i - hint)) if hint is not None else hits[0]
        moved = ev.start is not None and at != ev.start
        return ResolvedPassage(ev.document, at, at + len(ev.quote), "moved" if moved else "ok")
    words = ev.quote.split()
    if words:
        m = re.search(r"\s+".join(re.escape(w) for w in words), text)
        if m:
            return ResolvedPassage(ev.document, m.start(), m.end(), "moved")
    return ResolvedPassage(ev.document, 0, 0, "lost")


def resolve_evidence(data: ReportData, finding: Finding, *, units_only: bool = False
                     ) -> tuple[pd.DataFrame, list[tuple[Evidence, ResolvedPassage]]]:
    """The counted units a finding rests on (a :attr:`ReportData.units` frame) and its passages as they stand.

    Units come from passages (the units they overlap) and code evidence (all counted units of the code, its
    subcodes included, restricted by ``where`` and ``kind``).  With ``units_only`` (for a caller that asks for
    the units alone) a passage in a document none of ``data``'s units are in is neither resolved nor listed: it
    gives no unit (report data read in batches asks every batch)."""
    units = data.units
    parts: list[pd.DataFrame] = []
    passages: list[tuple[Evidence, ResolvedPassage]] = []
    texts: dict[str, str | None] = {}
    present: set[str] | None = None
    for ev in finding.evidence:
        if ev.document and units_only:
            if present is None:
                present = set(units.document_id.unique().tolist())
            if ev.document not in present:
                continue
        if ev.document:
            if ev.document not in texts:
                rows = data.project.store.query("SELECT text FROM documents WHERE id=?", (ev.document,))
                texts[ev.document] = str(rows[0]["text"]) if rows else None
            rp = resolve_passage(texts[ev.document], ev)
            passages.append((ev, rp))
            if rp.status != "lost":
                parts.append(units[(units.document_id == ev.document) & (units.start < rp.end) & (units.end > rp.start)])
        if ev.code:
            if ev.code not in data.cb.codes:
                continue
            u = data.units_with([ev.code], kinds=(ev.kind,) if ev.kind else ("interview", "survey"))
            for var, values in ev.where.items():
                u = u[u[var].astype(str).isin(values)] if var in u.columns else u.iloc[0:0]
            parts.append(u)
    found = pd.concat(parts).drop_duplicates("unit_id") if parts else units.iloc[0:0]
    return found, passages


def evidence_stats(data: ReportData, units: pd.DataFrame) -> dict[str, Any]:
    """How much evidence ``units`` are: statements, persons, documents, places, and groups per kind of material
    (the first attribution variable of interviews and of the survey)."""
    place = data.place_variable
    groups: dict[str, int] = {}
    for kind, attr in (("interview", data.settings.attribution), ("survey", data.settings.survey_attribution)):
        if attr and attr[0] in units.columns:
            n = int(units[units.kind == kind][attr[0]].dropna().nunique())
            if n:
                groups[attr[0]] = n
    places = units[place].dropna() if place in units.columns else pd.Series(dtype=str)
    known = data.project.config["privacy"]["places"]
    if known:  # count the places of the project (towns), not "county-wide" or "(missing)"
        places = places[places.isin(list(known))]
    return {"statements": len(units), "persons": int(units.person_id.nunique()) if len(units) else 0,
            "documents": int(units.document_id.nunique()) if len(units) else 0,
            "places": int(places.nunique()), "place": place, "groups": groups,
            "plurals": data.project.config["report"].get("plurals")}


def findings_records(project: Project, data: ReportData | None = None) -> list[dict[str, Any]]:
    """Findings and recommendations as plain records (the JSON of ``qualkit findings --json``).

    Every record has ``id, type, code, status, author, text``; findings have ``evidence`` (objects with at
    least ``document``; code evidence is listed per document it reaches), ``lost`` (passages not found any
    more), ``statements, persons, documents, places`` and ``measures``; recommendations ``findings`` and
    ``measures``."""
    files = load_findings(project)
    if data is None and any(ff.findings for ff in files):
        from .reportdata import ReportData, ReportSettings
        data = ReportData(project, ReportSettings.from_project(project))
    out: list[dict[str, Any]] = []
    for ff in files:
        for f in ff.findings:
            assert data is not None
            units, passages = resolve_evidence(data, f)
            ev: list[dict[str, Any]] = []
            for e, rp in passages:
                ev.append({"document": e.document, "quote": e.quote, "start": rp.start, "end": rp.end,
                           "status": rp.status, "cite": e.cite})
            for e in f.evidence:
                if e.code:
                    docs = units[units.unit_id.isin(set(data.units_with([e.code]).unit_id))].document_id
                    ev.extend({"document": d, "code": e.code, "status": "ok"} for d in sorted(set(docs)))
            st = evidence_stats(data, units)
            out.append({"id": f.id, "type": "finding", "code": f.code, "status": f.status, "author": f.author,
                        "origin": f.origin, "text": f.text, "evidence": ev,
                        "lost": [e.quote for e, rp in passages if rp.status == "lost"],
                        "statements": st["statements"], "persons": st["persons"], "documents": st["documents"],
                        "places": st["places"], "measures": f.measures, "file": ff.path.name})
        for r in ff.recommendations:
            out.append({"id": r.id, "type": "recommendation", "code": r.code, "status": r.status, "author": r.author,
                        "text": r.text, "findings": r.findings, "measures": r.measures, "file": ff.path.name})
    return out


# -- the notebook view -----------------------------------------------------------------------------------------

def findings_table(project: Project, code: str | None = None) -> pd.DataFrame:
    """Findings and recommendations as a table for the notebook view: ``id, type, code, status, text,
    statements, persons, documents, lost, measures, findings``."""
    recs = findings_records(project)
    df = pd.DataFrame(recs, columns=["id", "type", "code", "status", "text", "statements", "persons", "documents",
                                     "lost", "measures", "findings"])
    df["lost"] = [len(x) if isinstance(x, list) else 0 for x in df["lost"]]
    return df[df.code == code].reset_index(drop=True) if code else df


def evidence_table(project: Project, finding_id: str, *, context: int = 120) -> pd.DataFrame:
    """The evidence of one finding, passage by passage, with the words around it and where it stands now
    (``document, status, cite, before, passage, after, start, end``); open a passage in the coding view
    with ``qualkit.CodingView(project, document=...)``."""
    from .reportdata import ReportData, ReportSettings
    data = ReportData(project, ReportSettings.from_project(project))
    f = next((f for ff in load_findings(project) for f in ff.findings if f.id == finding_id), None)
    if f is None:
        raise QualkitError(f"no finding {finding_id}", hint="`qualkit findings` lists the ids")
    _units, passages = resolve_evidence(data, f)
    rows = []
    for ev, rp in passages:
        text = project.store.document_text(ev.document) if rp.status != "lost" else ""
        rows.append((ev.document, rp.status, ev.cite, text[max(0, rp.start - context):rp.start],
                     text[rp.start:rp.end] if text else ev.quote, text[rp.end:rp.end + context], rp.start, rp.end))
    return pd.DataFrame(rows, columns=["document", "status", "cite", "before", "passage", "after", "start", "end"])


def findings_citing(project: Project, document: str) -> pd.DataFrame:
    """The way back: findings whose evidence reaches ``document`` (``id, code, status, text``)."""
    recs = [r for r in findings_records(project) if r["type"] == "finding"
            and any(e.get("document") == document for e in r["evidence"])]
    return pd.DataFrame(recs, columns=["id", "code", "status", "text"])
