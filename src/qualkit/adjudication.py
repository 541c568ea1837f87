"""Adjudication: from two coders' work to one agreed (consensus) coding.

:func:`disagreements` lists, per document both coders coded, the segments where they differ: a different
code on overlapping text (``code``), the same code with different boundaries (``boundaries``), or a coding
only one of them made (``missing``).  Identical codings agree and are not listed; segments already decided
are not listed again.  :func:`decide` records the team's decision as consensus codings (coder
``[coding] consensus_coder``, default ``konsens``, origin ``manual``) in ``adjudications`` and
``consensus_links`` (which codings it resolves, which it created), logged as ``consensus``.  Which codings
count in analyses is decided in one place, :mod:`qualkit.units`: per document the consensus where it exists,
else the primary coder.  So the first decision in a document also takes over what both coders coded
identically there (an ``agreement`` adjudication), and the consensus of an adjudicated document is complete
once its open disagreements are decided (until then they count for neither coder).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import CodingError, QualkitError
from .project import Project
from .store import now
from .units import AUTOCODER

__all__ = ["DECISIONS", "Disagreement", "consensus_coder", "decide", "decisions", "default_coders", "disagreements"]

DECISIONS = ("first", "second", "both", "none", "custom")


def consensus_coder(project: Project) -> str:
    """The coder name of consensus codings: ``[coding] consensus_coder`` (default ``konsens``)."""
    return str(project.config.get("coding", {}).get("consensus_coder", "konsens"))


@dataclass
class Disagreement:
    """One segment the two coders coded differently.  ``first``/``second``: their codings there (``id,
    start, end, code, memo``); ``text``: the segment, ``before``/``after``: context."""

    id: str
    document_id: str
    start: int
    end: int
    kind: str
    coders: tuple[str, str]
    first: list[dict[str, Any]] = field(default_factory=list)
    second: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""
    before: str = ""
    after: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["coders"] = list(self.coders)
        return d


def default_coders(project: Project) -> tuple[str, str]:
    """The two human coders to compare: ``[coding] primary_coder`` first if set, then the coders with the
    most codings (consensus and machine excluded)."""
    skip = {consensus_coder(project), AUTOCODER}
    counts = [r[0] for r in project.store.query(
        "SELECT coder, count(*) AS n FROM codings WHERE status='active' GROUP BY coder ORDER BY n DESC, coder")
        if r[0] not in skip]
    primary = project.config.get("coding", {}).get("primary_coder")
    if primary in counts:
        counts.remove(primary)
        counts.insert(0, primary)
    if len(counts) < 2:
        raise QualkitError(f"adjudication needs two coders with codings; found {', '.join(counts) or 'none'}",
                           hint="merge the second coder's copy first (`qualkit merge OTHER`)")
    return counts[0], counts[1]


def _codings(project: Project, coder: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in project.store.query(
            'SELECT c.id, c.document_id, c.start, c."end", k.name, c.memo FROM codings c JOIN codes k ON k.id=c.code_id '
            "WHERE c.coder=? AND (c.status='active' OR (c.origin='auto' AND c.status='accepted')) "
            "ORDER BY c.document_id, c.start, c.\"end\", c.id", (coder,)):
        out.setdefault(r[1], []).append({"id": int(r[0]), "start": int(r[2]), "end": int(r[3]), "code": r[4],
                                         "memo": r[5] or ""})
    return out


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> int:
    return max(0, min(a["end"], b["end"]) - max(a["start"], b["start"]))


def _pairs(a: list[dict[str, Any]], b: list[dict[str, Any]], same_code: bool) -> list[tuple[int, int]]:
    """Greedy pairing of overlapping codings, largest overlap first."""
    cand = sorted(((_overlap(x, y), i, j) for i, x in enumerate(a) for j, y in enumerate(b)
                   if _overlap(x, y) > 0 and (x["code"] == y["code"]) == same_code), reverse=True)
    used_a: set[int] = set()
    used_b: set[int] = set()
    out = []
    for _, i, j in cand:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            out.append((i, j))
    return out


def disagreements(project: Project, coders: tuple[str, str] | None = None, *, documents: list[str] | None = None,
                  context: int = 150, include_decided: bool = False) -> list[Disagreement]:
    """The segments two coders coded differently, in the documents both coded (the reliability sample),
    ordered by document and position."""
    first, second = coders or default_coders(project)
    a_all, b_all = _codings(project, first), _codings(project, second)
    resolved = {int(r[0]) for r in project.store.query("SELECT coding_id FROM consensus_links WHERE role='resolves'")}
    docs = sorted(set(a_all) & set(b_all))
    if documents is not None:
        docs = [d for d in docs if d in set(documents)]
    out: list[Disagreement] = []
    for did in docs:
        text = project.store.document_text(did)
        a, b = list(a_all[did]), list(b_all[did])
        same = {(x["start"], x["end"], x["code"]) for x in a} & {(y["start"], y["end"], y["code"]) for y in b}
        a = [x for x in a if (x["start"], x["end"], x["code"]) not in same]
        b = [y for y in b if (y["start"], y["end"], y["code"]) not in same]
        items: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]]]] = []
        for kind, same_code in (("boundaries", True), ("code", False)):
            pairs = _pairs(a, b, same_code)
            items += [(kind, [a[i]], [b[j]]) for i, j in pairs]
            ia, ib = {i for i, _ in pairs}, {j for _, j in pairs}
            a = [x for i, x in enumerate(a) if i not in ia]
            b = [y for j, y in enumerate(b) if j not in ib]
        items += [("missing", [x], []) for x in a] + [("missing", [], [y]) for y in b]
        for kind, xa, xb in items:
            ids = {c["id"] for c in xa + xb}
            if not include_decided and ids <= resolved:
                continue
            s = min(c["start"] for c in xa + xb)
            e = max(c["end"] for c in xa + xb)
            out.append(Disagreement(id=f"{did}:{s}-{e}:{'+'.join(str(i) for i in sorted(ids))}", document_id=did,
                                    start=s, end=e, kind=kind, coders=(first, second), first=xa, second=xb,
                                    text=text[s:e], before=text[max(0, s - context):s], after=text[e:e + context]))
    out.sort(key=lambda d: (d.document_id, d.start, d.end, d.id))
    return out


def decide(project: Project, item: Disagreement, decision: str, *, by: str, code: str | None = None,
           start: int | None = None, end: int | None = None, note: str = "") -> list[int]:
    """Record the team's decision on a disagreement and return the ids of the consensus codings it created.

    ``decision``: ``first`` / ``second`` (take that coder's codings), ``both``, ``none`` (no coding
    applies: recorded, nothing counted), or ``custom`` (``code`` with ``start``/``end``, default the
    segment).  ``by`` is who recorded it.  One transaction; the consensus codings are logged as ``consensus``.
    """
    if decision not in DECISIONS:
        raise CodingError(f"unknown decision {decision!r}", hint=f"choose one of {', '.join(DECISIONS)}")
    store = project.store
    chosen: list[dict[str, Any]] = []
    if decision in ("first", "both"):
        chosen += item.first
    if decision in ("second", "both"):
        chosen += item.second
    if decision == "custom":
        if not code:
            raise CodingError("a custom decision needs a code", hint="give code=… (and start/end if not the segment)")
        chosen = [{"start": item.start if start is None else start, "end": item.end if end is None else end,
                   "code": code, "memo": ""}]
    if decision in ("first", "second") and not chosen:
        raise CodingError(f"{item.coders[0 if decision == 'first' else 1]} has no coding in this segment",
                          hint="choose 'none' to record that no coding applies, or take the other coder's")
    target = consensus_coder(project)
    seen: set[tuple[int, int, str]] = set()
    rows = []
    for c in chosen:
        key = (int(c["start"]), int(c["end"]), str(c["code"]))
        if key not in seen:
            seen.add(key)
            rows.append({"document": item.document_id, "start": key[0], "end": key[1], "code": key[2],
                         "coder": target, "origin": "manual", "memo": c.get("memo", "")})
    with store.transaction() as con:
        store.ensure_coder(by, con)
        cur = con.execute('INSERT INTO adjudications(document_id, start, "end", kind, decision, coders, decided_by, '
                          "decided_at, note) VALUES (?,?,?,?,?,?,?,?,?)",
                          (item.document_id, item.start, item.end, item.kind, decision, json.dumps(list(item.coders)),
                           by, now(), note))
        adj = int(cur.lastrowid or 0)
        ids = store.add_codings(rows, action="consensus", by=by, con=con)
        con.executemany("INSERT OR IGNORE INTO consensus_links(adjudication_id, coding_id, role) VALUES (?,?,?)",
                        [(adj, c["id"], "resolves") for c in item.first + item.second]
                        + [(adj, i, "consensus") for i in ids])
        _adopt_agreements(project, con, item.document_id, item.coders, target, by)
    return ids


def _adopt_agreements(project: Project, con: Any, document_id: str, coders: tuple[str, str], target: str,
                      by: str) -> None:
    """Give the consensus every coding both coders made identically in the document (once)."""
    store = project.store
    rows = con.execute('SELECT c.id, c.start, c."end", k.name, c.coder, c.memo FROM codings c '
                       "JOIN codes k ON k.id=c.code_id WHERE c.document_id=? AND c.coder IN (?,?,?) "
                       "AND (c.status='active' OR (c.origin='auto' AND c.status='accepted'))",
                       (document_id, *coders, target)).fetchall()
    by_key: dict[tuple[int, int, str], dict[str, list[Any]]] = {}
    for r in rows:
        by_key.setdefault((int(r[1]), int(r[2]), str(r[3])), {}).setdefault(r[4], []).append(r)
    agreed = [(key, v) for key, v in sorted(by_key.items())
              if coders[0] in v and coders[1] in v and target not in v]
    if not agreed:
        return
    cur = con.execute('INSERT INTO adjudications(document_id, start, "end", kind, decision, coders, decided_by, '
                      "decided_at, note) VALUES (?,?,?,?,?,?,?,?,?)",
                      (document_id, min(k[0] for k, _ in agreed), max(k[1] for k, _ in agreed), "agreement", "both",
                       json.dumps(list(coders)), by, now(), "identical codings of both coders"))
    adj = int(cur.lastrowid or 0)
    ids = store.add_codings([{"document": document_id, "start": k[0], "end": k[1], "code": k[2], "coder": target,
                              "origin": "manual", "memo": v[coders[0]][0][5] or ""} for k, v in agreed],
                            action="consensus", by=by, con=con)
    con.executemany("INSERT OR IGNORE INTO consensus_links(adjudication_id, coding_id, role) VALUES (?,?,?)",
                    [(adj, int(r[0]), "resolves") for _, v in agreed for c in coders for r in v[c]]
                    + [(adj, i, "consensus") for i in ids])


def decisions(project: Project) -> list[dict[str, Any]]:
    """The recorded decisions with the codings they resolve and created."""
    out = []
    for r in project.store.query('SELECT id, document_id, start, "end", kind, decision, coders, decided_by, decided_at, '
                                 "note FROM adjudications ORDER BY id"):
        links = project.store.query("SELECT coding_id, role FROM consensus_links WHERE adjudication_id=? "
                                    "ORDER BY role, coding_id", (r[0],))
        out.append({"id": r[0], "document_id": r[1], "start": r[2], "end": r[3], "kind": r[4], "decision": r[5],
                    "coders": json.loads(r[6]), "decided_by": r[7], "decided_at": r[8], "note": r[9],
                    "resolves": [int(x[0]) for x in links if x[1] == "resolves"],
                    "consensus": [int(x[0]) for x in links if x[1] == "consensus"]})
    return out
