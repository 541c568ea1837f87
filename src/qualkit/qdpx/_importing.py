"""Importing REFI-QDA into a project: one store transaction, and the codebook file replaced atomically only
after that transaction committed, so a failed import leaves store and codebook file as they were.

Sources are matched by GUID (a qualkit export's GUIDs are derived from the document ids), never by text:
different respondents who wrote the same words stay different documents.  Importing the same file again
changes nothing.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from .._text import sha256_text
from ..codebook import Codebook, parse_codebook
from ..errors import QdpxError
from ..project import Project
from ..store import now
from ._archive import NS_CB, Archive, Limits
from ._export import _guid
from ._mapping import Content, colour, read_content

CODEBOOK_MODES = ("auto", "replace", "append")


@dataclass
class ImportReport:
    """What an import did and what it could not map."""

    sources: list[str] = field(default_factory=list)
    codes_added: list[str] = field(default_factory=list)
    codes_merged: list[str] = field(default_factory=list)
    codings: int = 0
    memos: int = 0
    cases: int = 0
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)      # sources recognised (by GUID) as existing documents
    differing: list[str] = field(default_factory=list)   # recognised, but the text differs: codings not imported
    duplicates: int = 0                                  # codings already in the store, not added again
    coding_memos: int = 0
    codebook: str = "merged"                             # merged | replaced | appended

    def summary(self) -> str:
        cb = {"merged": "codes merged by name into the codebook",
              "replaced": "the file's codes became the project's codebook",
              "appended": "new codes appended to the codebook as the dimension 'importiert'"}[self.codebook]
        s = (f"{len(self.sources)} new source(s), {len(self.merged)} recognised as existing documents, "
             f"{len(self.codes_added)} new code(s), {len(self.codes_merged)} merged by name ({cb}), {self.codings} "
             f"coding(s) ({self.coding_memos} with memo), {self.duplicates} duplicate coding(s) skipped, "
             f"{self.memos} other memo(s), {self.cases} case(s)")
        if self.differing:
            s += (f"; {len(self.differing)} document(s) with a different text, their codings not imported: "
                  + ", ".join(self.differing))
        if self.skipped:
            s += f"; not mapped: {len(self.skipped)}\n" + "\n".join(f"  - {x}" for x in self.skipped)
        return s


# -- codebook file ---------------------------------------------------------------------------------
def codebook_text(project: Project, new_codes: list[dict[str, Any]], *, replace: bool = False) -> str:
    """The project's codebook YAML with imported codes (and their hierarchy) appended as the dimension
    ``importiert``, or (``replace``) as the codebook's only dimension."""
    import yaml
    path = project.path(project.config["project"]["codebook"])
    names = {c["name"] for c in new_codes}

    def tree(parent: str | None) -> list[dict[str, Any]]:
        out = []
        for c in new_codes:
            if c["parent"] == parent or (parent is None and c["parent"] is not None and c["parent"] not in names):
                node: dict[str, Any] = {"name": c["name"], "colour": c["colour"]}
                if c["description"]:
                    node["definition"] = c["description"]
                kids = tree(c["name"])
                if kids:
                    node["subcodes"] = kids
                out.append(node)
        return out

    top = tree(None)  # codes whose parent is an existing code are attached at the top of the new dimension
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if replace:
        data["dimensions"] = [{"key": "codes", "name": "Codes", "singular": "Code", "article": "der",
                               "autocode": True, "codes": top}]
        data["name"] = "Importiertes Kategoriensystem"
        data["description"] = "Aus einem REFI-QDA-Projekt (.qdpx) übernommenes Kategoriensystem."
    else:
        dims = data.setdefault("dimensions", [])
        existing = next((d for d in dims if d.get("key") == "importiert"), None)
        if existing is None:
            dims.append({"key": "importiert", "name": "Importierte Codes", "autocode": False, "codes": top})
        else:
            existing["codes"].extend(top)
    header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)


def replace_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file in the same folder, then rename)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _sync(con: Any, codebook: Codebook) -> None:
    from ..corpus import _sync_codes
    _sync_codes(con, codebook)


# -- import ----------------------------------------------------------------------------------------
def import_qdpx(project: Project, path: str | Path, *, coder_prefix: str = "", codebook: str = "auto",
                replace_codebook: bool = False, limits: Limits | None = None,
                on_selection: Callable[[], None] | None = None) -> ImportReport:
    """Import a ``.qdpx``: sources as documents (paragraphs as units), codings (origin ``imported``, or
    qualkit's own origin on a round trip) at their exact positions, cases with variables, notes as memos.

    ``codebook``: ``"append"`` adds codes the project does not know as the dimension ``importiert``;
    ``"replace"`` makes the file's codes the codebook (only for a project without codings); ``"auto"``
    (default) merges by name when the file brings no new code, replaces the codebook of a project that has
    no documents and no codings yet (a new project), and appends otherwise (the report says which).
    ``replace_codebook=True`` is ``codebook="replace"``.  ``limits`` bound the unpacking (default: the
    project's ``[qdpx]`` settings).

    Raises
    ------
    QdpxError
        for an unreadable, corrupt, oversized or foreign file; store and codebook file are unchanged.
    """
    p = Path(path)
    mode = "replace" if replace_codebook else codebook
    if mode not in CODEBOOK_MODES:
        raise ValueError(f"codebook must be one of {CODEBOOK_MODES}")
    store = project.store
    has_codings = bool(store.query("SELECT 1 FROM codings LIMIT 1"))
    if mode == "replace" and has_codings:
        raise QdpxError(p, "the project already has codings; its codebook cannot be replaced",
                        hint="import without --replace-codebook to merge the codes by name")
    with Archive(p, limits or Limits.from_config(project.config)) as archive:
        content = read_content(archive, coder_prefix=coder_prefix, on_selection=on_selection)
    report = ImportReport(skipped=list(content.skipped), notes=list(content.notes))
    known = set(project.codebook.codes)
    unknown = [c for c in content.codes if c["name"] not in known]
    if mode == "auto" and unknown:
        empty = not has_codings and not store.query("SELECT 1 FROM documents LIMIT 1")
        mode = "replace" if empty else "append"
    new_cb_text: str | None = None
    cb = project.codebook
    if mode == "replace":
        report.codebook = "replaced"
        report.codes_added = [c["name"] for c in content.codes]
        new_cb_text = codebook_text(project, content.codes, replace=True)
        report.notes.append(f"the project had no codings: its codebook is now the file's {len(content.codes)} code(s)"
                            if codebook == "auto" and not replace_codebook else
                            f"the codebook was replaced by the file's {len(content.codes)} code(s)")
    else:
        report.codes_added = [c["name"] for c in unknown]
        report.codes_merged = [c["name"] for c in content.codes if c["name"] in known]
        if unknown:
            report.codebook = "appended"
            new_cb_text = codebook_text(project, unknown)
    cb_path = project.path(project.config["project"]["codebook"])
    if new_cb_text is not None:
        cb = parse_codebook(new_cb_text, path=str(cb_path))
    with store.transaction() as con:
        _sync(con, cb)
        _write_content(project, con, content, report, label=p.name)
    if new_cb_text is not None:
        replace_file(cb_path, new_cb_text)
        project.__dict__.pop("codebook", None)
    return report


def _unique_id(con: Any, wanted: str) -> str:
    base = re.sub(r"[^\w\-. äöüÄÖÜß]", "_", wanted).strip() or "Quelle"
    cand, i = base, 2
    while con.execute("SELECT 1 FROM documents WHERE id=?", (cand,)).fetchone():
        cand, i = f"{base}-{i}", i + 1
    return cand


def _write_content(project: Project, con: Any, content: Content, report: ImportReport, *, label: str) -> None:
    store = project.store
    t = now()
    by_guid = {r[2] or _guid("source", r[0]): (r[0], r[1]) for r in con.execute("SELECT id, text, guid FROM documents")}
    source_ids: dict[str, str] = {}
    created: set[str] = set()
    code_id = {r[1]: r[0] for r in con.execute("SELECT id, name FROM codes")}
    for src in content.sources:
        hit = by_guid.get(src.guid)
        if hit is not None and hit[1] != src.text:
            report.differing.append(hit[0])
            report.notes.append(f"{src.name!r}: the same source as document {hit[0]}, but its text differs; its "
                                "codings are not imported (compare the texts, then ingest or re-import)")
            continue
        if hit is not None:
            did = hit[0]
            report.merged.append(did)
        else:
            did = _unique_id(con, src.name)
            con.execute("INSERT INTO documents(id, case_id, kind, question, text, sha256, source_file, encoding, "
                        "language, guid, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        (did, None, src.kind, src.question, src.text, sha256_text(src.text), f"{label}:{src.guid}",
                         src.encoding, None, src.guid, t, t))
            if src.kind == "survey":
                con.execute('INSERT INTO units(document_id, idx, start, "end", role) VALUES (?,0,0,?,?)',
                            (did, len(src.text), "answer"))
            else:
                _paragraph_units(con, did, src.text)
            report.sources.append(did)
            created.add(did)
        source_ids[src.guid] = did
        have = {(r[0], r[1], r[2], r[3]) for r in con.execute(
            'SELECT start, "end", code_id, coder FROM codings WHERE document_id=?', (did,))}
        rows = []
        for c in src.codings:
            key = (c.start, c.end, code_id[c.code], c.coder)
            if key in have:
                report.duplicates += 1
                continue
            have.add(key)
            rows.append({"document": did, "start": c.start, "end": c.end, "code": c.code, "coder": c.coder,
                         "origin": c.origin, "status": c.status, "memo": c.memo, "source_file": label})
            report.coding_memos += bool(c.memo)
        store.add_codings(rows, action="import", con=con)
        report.codings += len(rows)
        for note in src.notes:
            if not con.execute("SELECT 1 FROM memos WHERE document_id=? AND text=?", (did, note)).fetchone():
                con.execute("INSERT INTO memos(document_id, author, title, text, created_at, updated_at) "
                            "VALUES (?,?,?,?,?,?)", (did, "importiert", "Memo", note, t, t))
                report.memos += 1
    for code in content.codes:
        for note in code["notes"]:
            if not con.execute("SELECT 1 FROM memos WHERE code_id=? AND coding_id IS NULL AND text=?",
                               (code_id[code["name"]], note)).fetchone():
                con.execute("INSERT INTO memos(code_id, author, title, text, created_at, updated_at) "
                            "VALUES (?,?,?,?,?,?)", (code_id[code["name"]], "importiert", code["name"], note, t, t))
                report.memos += 1
    for note in content.project_notes:
        if not con.execute("SELECT 1 FROM memos WHERE document_id IS NULL AND code_id IS NULL AND coding_id IS NULL "
                           "AND text=?", (note,)).fetchone():
            con.execute("INSERT INTO memos(author, title, text, created_at, updated_at) VALUES (?,?,?,?,?)",
                        ("importiert", "Projekt", note, t, t))
            report.memos += 1
    for cname, kind, values, guids in content.cases:
        con.execute("INSERT OR IGNORE INTO cases(id, kind) VALUES (?, ?)", (cname, kind))
        for vname, value in values.items():
            con.execute("INSERT OR IGNORE INTO variables(case_id, name, value) VALUES (?,?,?)", (cname, vname, value))
        for g in guids:
            if source_ids.get(g) in created:
                con.execute("UPDATE documents SET case_id=? WHERE id=?", (cname, source_ids[g]))
        report.cases += 1


_LABEL = re.compile(r"^([A-ZÄÖÜ][\wÄÖÜäöüß.\- ]{0,30}?):\s+")


def _paragraph_units(con: Any, did: str, text: str) -> None:
    """Units of an imported text: one per paragraph; a ``Name:`` label sets speaker and role."""
    from ..transcript import DEFAULT_INTERVIEWER
    idx = 0
    for m in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text):
        block = m.group()
        if not block.strip():
            continue
        start, end = m.start(), m.end()
        lab = _LABEL.match(block)
        speaker = lab.group(1).strip() if lab else None
        if lab:
            start += lab.end()
        role = "interviewer" if speaker and DEFAULT_INTERVIEWER.match(speaker) else "respondent"
        if start >= end:
            continue
        con.execute('INSERT INTO units(document_id, idx, start, "end", speaker, role) VALUES (?,?,?,?,?,?)',
                    (did, idx, start, end, speaker, role))
        idx += 1


def import_codebook(project: Project, path: str | Path) -> ImportReport:
    """Merge a REFI-QDA ``.qdc`` codebook into the project's codebook (by name)."""
    p = Path(path)
    try:
        root = etree.parse(str(p), parser=etree.XMLParser(resolve_entities=False, no_network=True,
                                                          load_dtd=False)).getroot()
    except (OSError, etree.XMLSyntaxError) as e:
        raise QdpxError(p, f"not a readable .qdc codebook ({e})", hint="export the codebook again") from e
    ns = root.nsmap.get(None, NS_CB)
    cel = root.find(f"{{{ns}}}Codes")
    if cel is None:
        raise QdpxError(p, "no <Codes> element", hint="is this a REFI-QDA codebook (.qdc)?")
    from ._mapping import read_codes
    report = ImportReport()
    codes, _ = read_codes(cel, ns, report.notes)
    for c in codes:
        c["colour"] = colour(c["colour"])
    known = set(project.codebook.codes)
    new = [c for c in codes if c["name"] not in known]
    report.codes_merged = [c["name"] for c in codes if c["name"] in known]
    report.codes_added = [c["name"] for c in new]
    cb = project.codebook
    text = None
    if new:
        report.codebook = "appended"
        cb_path = project.path(project.config["project"]["codebook"])
        text = codebook_text(project, new)
        cb = parse_codebook(text, path=str(cb_path))
    with project.store.transaction() as con:
        _sync(con, cb)
    if text is not None:
        replace_file(project.path(project.config["project"]["codebook"]), text)
        project.__dict__.pop("codebook", None)
    return report
