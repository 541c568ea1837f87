"""Merging another copy of the same project: ``qualkit merge OTHER``.

Two coders work on two machines, each on a copy of the project; ``merge`` brings the other copy's codings
(a project folder, or a ``.qdpx`` exported from it) into this one.  Documents are matched by content: the
same id with the same text, else the one document here with exactly that text.  A document whose text
differs is reported with where it differs, never guessed; codings keep their coder, origin, status and
memo; a coding that is already here (same document, span, code and coder) is not added again, so a second
merge changes nothing.  Everything is written in one transaction and logged as ``merge``.
"""

from __future__ import annotations

import difflib
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import QualkitError
from .project import Project, open_project

__all__ = ["MergeReport", "merge"]


@dataclass
class MergeReport:
    """What a merge did.  ``added``: new codings per coder; ``differing``: document → where its text differs;
    ``missing``: documents of the other copy that are not here; ``unknown_codes``: code → codings skipped."""

    source: str
    matched: int = 0
    by_content: dict[str, str] = field(default_factory=dict)    # other id -> id here
    differing: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    added: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    unknown_codes: dict[str, int] = field(default_factory=dict)

    @property
    def codings(self) -> int:
        return sum(self.added.values())

    def summary(self) -> str:
        lines = [f"merged {self.source}: {self.matched} document(s) matched"
                 + (f" ({len(self.by_content)} by their text under another id)" if self.by_content else ""),
                 f"{self.codings} coding(s) added" + (" (" + ", ".join(f"{c}: {n}" for c, n in sorted(self.added.items()))
                                                      + ")" if self.added else ""),
                 f"{self.duplicates} coding(s) already here, not added again"]
        for other, here in sorted(self.by_content.items()):
            lines.append(f"  {other} matched {here} by its text")
        for did, where in sorted(self.differing.items()):
            lines.append(f"  {did}: the text differs ({where}); its codings were not merged")
        if self.missing:
            lines.append(f"  not in this project (codings not merged): {', '.join(self.missing)}")
        for code, n in sorted(self.unknown_codes.items()):
            lines.append(f"  code {code!r} is not in this codebook: {n} coding(s) not merged (add the code, merge again)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "matched": self.matched, "by_content": self.by_content,
                "differing": self.differing, "missing": self.missing, "added": self.added,
                "duplicates": self.duplicates, "unknown_codes": self.unknown_codes}


def _where(a: str, b: str) -> str:
    """A short description of where two texts differ."""
    i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    ratio = difflib.SequenceMatcher(None, a, b, autojunk=False).quick_ratio()
    line = a.count("\n", 0, i) + 1
    j = i
    while j > 0 and i - j < 20 and a[j - 1].isalnum():  # show the word the difference is in
        j -= 1
    return (f"first difference at character {i} (line {line}): here {a[j:i + 30]!r}, there {b[j:i + 30]!r}; "
            f"{ratio:.0%} similar")


def _read_other(project: Project, other: Path) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """Documents ``(id, text)`` and codings (``document, start, end, code, coder, origin, status, memo,
    source_file``) of the other copy."""
    if other.is_dir():
        op = open_project(other)
        if op.root.resolve() == project.root.resolve():
            raise QualkitError(f"{other}: this is the project itself", hint="name the other copy's folder")
        path = op.state_dir / "store.sqlite"
        if not path.is_file():
            raise QualkitError(f"{other}: the copy has no store yet", hint="run `qualkit ingest` there first")
        # read-only: merging never changes (or migrates) the other copy
        con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            docs = [(r[0], r[1]) for r in con.execute("SELECT id, text FROM documents ORDER BY id")]
            rows = [{"document": r[0], "start": int(r[1]), "end": int(r[2]), "code": r[3], "coder": r[4],
                     "origin": r[5], "status": r[6], "memo": r[7] or "", "score": r[8], "explanation": r[9],
                     "source_file": r[10]}
                    for r in con.execute('SELECT c.document_id, c.start, c."end", k.name, c.coder, c.origin, c.status, '
                                         "c.memo, c.score, c.explanation, c.source_file FROM codings c "
                                         "JOIN codes k ON k.id = c.code_id ORDER BY c.id")]
        except sqlite3.DatabaseError as e:
            raise QualkitError(f"{path}: cannot read the other copy's store ({e})",
                               hint="open that project once with this qualkit version (`qualkit status`)") from e
        finally:
            con.close()
        return docs, rows
    if other.suffix.lower() == ".qdpx" or other.is_file():
        from .qdpx import Archive, Limits, read_content
        with Archive(other, Limits.from_config(project.config)) as archive:
            content = read_content(archive)
        docs = [(s.name, s.text) for s in content.sources]
        rows = [{"document": s.name, "start": c.start, "end": c.end, "code": c.code, "coder": c.coder,
                 "origin": c.origin, "status": c.status, "memo": c.memo, "source_file": other.name}
                for s in content.sources for c in s.codings]
        return docs, rows
    raise QualkitError(f"{other}: no such project folder or .qdpx file",
                       hint="give the other copy's project folder, or a .qdpx exported from it")


def merge(project: Project, other: str | Path) -> MergeReport:
    """Merge the codings of another copy of this project (a folder or a ``.qdpx``) into ``project``.

    Returns a :class:`MergeReport`; nothing of the other copy is changed.
    """
    other = Path(other)
    docs, rows = _read_other(project, other)
    report = MergeReport(source=str(other))
    store = project.store
    here = {r[0]: r[1] for r in store.query("SELECT id, text FROM documents")}
    by_text: dict[str, list[str]] = {}
    for did, text in here.items():
        by_text.setdefault(text, []).append(did)
    target: dict[str, str] = {}
    for did, text in docs:
        if did in here and here[did] == text:
            target[did] = did
        elif did in here:
            report.differing[did] = _where(here[did], text)
            continue
        elif len(by_text.get(text, [])) == 1:
            target[did] = by_text[text][0]
            report.by_content[did] = target[did]
        else:
            report.missing.append(did)
            continue
        report.matched += 1
    known = {r[0] for r in store.query("SELECT name FROM codes")}
    have = {(r[0], r[1], r[2], r[3], r[4]) for r in store.query(
        'SELECT c.document_id, c.start, c."end", k.name, c.coder FROM codings c JOIN codes k ON k.id=c.code_id')}
    new: list[dict[str, Any]] = []
    unknown: Counter[str] = Counter()
    for r in rows:
        did = target.get(r["document"])
        if did is None:
            continue
        if r["code"] not in known:
            unknown[r["code"]] += 1
            continue
        key = (did, r["start"], r["end"], r["code"], r["coder"])
        if key in have:
            report.duplicates += 1
            continue
        have.add(key)
        new.append({**r, "document": did})
    report.unknown_codes = dict(unknown)
    with store.transaction() as con:
        store.add_codings(new, action="merge", con=con)
    report.added = dict(Counter(r["coder"] for r in new))
    return report
