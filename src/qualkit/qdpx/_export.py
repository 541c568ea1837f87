"""Writing REFI-QDA: ``.qdpx`` projects and ``.qdc`` codebooks.

Export writes ``project.qde`` (users, codebook with hierarchy/colours/descriptions, variables, cases, text
sources with their selections and codings, notes) plus ``sources/<guid>.txt`` (UTF-8, no BOM, ``\\n`` line
ends).  GUIDs are derived from the objects (uuid5), so exporting the same project twice gives the same
file apart from timestamps; a document imported from REFI-QDA keeps its source's GUID.  Positions are
Unicode code points, end exclusive (REFI-QDA §10.2).
"""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from .. import __version__
from ..project import Project
from ._archive import NS, NS_CB

_NAMESPACE = uuid.UUID("6f1b4c52-7f0e-4c36-9a57-7a1b0d6f2e11")


def _guid(*parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join(str(p) for p in parts)))


def _q(tag: str, ns: str = NS) -> str:
    return f"{{{ns}}}{tag}"


def _ts() -> str:
    return datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- export ----------------------------------------------------------------------------------------
def _codes_xml(parent: Any, codebook_codes: list[dict[str, Any]], by_parent: dict[Any, list[dict[str, Any]]],
               ns: str, key: Any) -> None:
    for c in by_parent.get(key, []):
        el = etree.SubElement(parent, _q("Code", ns), guid=_guid("code", c["name"]), name=c["name"],
                              isCodable="true", color=c["colour"])
        if c.get("definition"):
            etree.SubElement(el, _q("Description", ns)).text = c["definition"]
        for nid in c.get("notes", []):
            etree.SubElement(el, _q("NoteRef", ns), targetGUID=nid)
        _codes_xml(el, codebook_codes, by_parent, ns, c["id"])


def _store_codes(project: Project) -> tuple[list[dict[str, Any]], dict[Any, list[dict[str, Any]]]]:
    rows = [dict(r) for r in project.store.query(
        "SELECT id, name, parent_id, colour, definition FROM codes ORDER BY position, id")]
    by_parent: dict[Any, list[dict[str, Any]]] = {}
    for r in rows:
        by_parent.setdefault(r["parent_id"], []).append(r)
    return rows, by_parent


def export_qdpx(project: Project, path: str | Path) -> Path:
    """Write the project as a REFI-QDA ``.qdpx`` file (original texts: an exchange format between
    researchers, not a file for the steering group).  Returns the path."""
    store = project.store
    out = Path(path)
    users = sorted({r[0] for r in store.query("SELECT coder FROM codings")} |
                   {r[0] for r in store.query("SELECT author FROM memos")} | {"qualkit"})
    user_guid = {u: _guid("user", u) for u in users}
    root = etree.Element(_q("Project"), nsmap={None: NS, "xsi": "http://www.w3.org/2001/XMLSchema-instance"},
                         name=project.name, origin=f"qualkit {__version__}", creationDateTime=_ts(),
                         creatingUserGUID=user_guid["qualkit"])
    ue = etree.SubElement(root, _q("Users"))
    for u in users:
        etree.SubElement(ue, _q("User"), guid=user_guid[u], name=u, id=u)
    memos = [dict(r) for r in store.query("SELECT m.*, k.name AS code FROM memos m LEFT JOIN codes k "
                                          "ON k.id = m.code_id ORDER BY m.id")]
    code_notes: dict[int, list[str]] = {}
    for m in memos:
        if m["code_id"] is not None and m["coding_id"] is None:
            code_notes.setdefault(m["code_id"], []).append(_memo_guid(m))
    codes, by_parent = _store_codes(project)
    for c in codes:
        c["notes"] = code_notes.get(c["id"], [])
    cb = etree.SubElement(etree.SubElement(root, _q("CodeBook")), _q("Codes"))
    _codes_xml(cb, codes, by_parent, NS, None)
    variables = sorted({r[0] for r in store.query("SELECT DISTINCT name FROM variables")})
    if variables:
        ve = etree.SubElement(root, _q("Variables"))
        for v in variables:
            etree.SubElement(ve, _q("Variable"), guid=_guid("variable", v), name=v, typeOfVariable="Text")
    docs = [dict(r) for r in store.query("SELECT id, case_id, kind, question, text, guid, created_at FROM documents "
                                         "ORDER BY id")]
    # a document keeps the GUID of the REFI-QDA source it came from, so the other tool recognises it
    src_guid = {d["id"]: d["guid"] or _guid("source", d["id"]) for d in docs}
    cases = [dict(r) for r in store.query("SELECT id, kind FROM cases ORDER BY id")]
    if cases:
        ce = etree.SubElement(root, _q("Cases"))
        vals: dict[str, list[tuple[str, str]]] = {}
        for r in store.query("SELECT case_id, name, value FROM variables ORDER BY case_id, name"):
            vals.setdefault(r[0], []).append((r[1], r[2] or ""))
        docs_of: dict[str, list[str]] = {}
        for d in docs:
            if d["case_id"]:
                docs_of.setdefault(d["case_id"], []).append(d["id"])
        for c in cases:
            el = etree.SubElement(ce, _q("Case"), guid=_guid("case", c["id"]), name=c["id"])
            etree.SubElement(el, _q("Description")).text = f"qualkit:{c['kind']}"
            for name, value in vals.get(c["id"], []):
                vv = etree.SubElement(el, _q("VariableValue"))
                etree.SubElement(vv, _q("VariableRef"), targetGUID=_guid("variable", name))
                etree.SubElement(vv, _q("TextValue")).text = value
            for did in docs_of.get(c["id"], []):
                etree.SubElement(el, _q("SourceRef"), targetGUID=src_guid[did])
    se = etree.SubElement(root, _q("Sources"))
    codings = [dict(r) for r in store.query(
        'SELECT c.id, c.document_id, c.start, c."end", k.name AS code, c.coder, c.origin, c.status, c.memo, '
        "c.created_at FROM codings c JOIN codes k ON k.id=c.code_id WHERE c.status != 'rejected' "
        "AND NOT (c.origin='auto' AND c.status='pending') ORDER BY c.document_id, c.start, c.\"end\", c.id")]
    doc_notes: dict[str, list[str]] = {}
    for m in memos:
        if m["document_id"] and m["coding_id"] is None and m["code_id"] is None:
            doc_notes.setdefault(m["document_id"], []).append(_memo_guid(m))
    files: dict[str, str] = {}
    notes_out: list[tuple[str, str, str, str]] = []  # guid, name, text, author
    for d in docs:
        sguid = src_guid[d["id"]]
        files[f"sources/{sguid}.txt"] = d["text"]
        el = etree.SubElement(se, _q("TextSource"), guid=sguid, name=d["id"], plainTextPath=f"internal://{sguid}.txt",
                              creatingUser=user_guid["qualkit"], creationDateTime=_ts())
        desc = f"qualkit:{d['kind']}" + (f"|{d['question']}" if d["question"] else "")
        etree.SubElement(el, _q("Description")).text = desc
        for c in (c for c in codings if c["document_id"] == d["id"]):
            sguid_sel = _guid("selection", d["id"], c["start"], c["end"], c["code"], c["coder"])
            sel = etree.SubElement(el, _q("PlainTextSelection"), guid=sguid_sel,
                                   name=d["text"][c["start"]:c["end"]][:60], startPosition=str(c["start"]),
                                   endPosition=str(c["end"]), creatingUser=user_guid[c["coder"]],
                                   creationDateTime=_ts())
            etree.SubElement(sel, _q("Description")).text = f"qualkit:{c['origin']}:{c['status']}"
            cod = etree.SubElement(sel, _q("Coding"), guid=_guid("coding", d["id"], c["start"], c["end"], c["code"],
                                                                        c["coder"]),
                                   creatingUser=user_guid[c["coder"]])
            etree.SubElement(cod, _q("CodeRef"), targetGUID=_guid("code", c["code"]))
            if c["memo"]:
                nguid = _guid("coding-memo", d["id"], c["start"], c["end"], c["code"], c["coder"])
                etree.SubElement(sel, _q("NoteRef"), targetGUID=nguid)
                notes_out.append((nguid, f"Memo {c['code']}", c["memo"], c["coder"]))
        for nid in doc_notes.get(d["id"], []):
            etree.SubElement(el, _q("NoteRef"), targetGUID=nid)
    for m in memos:
        if m["coding_id"] is None:
            notes_out.append((_memo_guid(m), m["title"] or "Memo", m["text"], m["author"]))
    if notes_out:
        ne = etree.SubElement(root, _q("Notes"))
        for nguid, name, text, author in notes_out:
            n = etree.SubElement(ne, _q("Note"), guid=nguid, name=name, creatingUser=user_guid.get(author,
                                 user_guid["qualkit"]), creationDateTime=_ts())
            etree.SubElement(n, _q("PlainTextContent")).text = text
    project_notes = [_memo_guid(m) for m in memos
                     if m["document_id"] is None and m["code_id"] is None and m["coding_id"] is None]
    for nid in project_notes:
        etree.SubElement(root, _q("NoteRef"), targetGUID=nid)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", xml)
        for name, text in files.items():
            z.writestr(name, text.encode("utf-8"))
    return out


def _memo_guid(m: dict[str, Any]) -> str:
    return _guid("memo", m["document_id"], m.get("code"), m["title"], m["text"])


def validate_qde(xml: bytes, xsd_path: str | Path) -> list[str]:
    """Validate ``project.qde`` (or a ``.qdc``) against an XSD; returns the error messages (empty = valid)."""
    schema = etree.XMLSchema(etree.parse(str(xsd_path)))
    doc = etree.parse(io.BytesIO(xml))
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def export_codebook(project: Project, path: str | Path) -> Path:
    """Write the project's codebook as a REFI-QDA ``.qdc`` file."""
    codes, by_parent = _store_codes(project)
    if not codes:
        from ..corpus import _sync_codes
        with project.store.transaction() as con:
            _sync_codes(con, project.codebook)
        codes, by_parent = _store_codes(project)
    root = etree.Element(_q("CodeBook", NS_CB), nsmap={None: NS_CB}, origin=f"qualkit {__version__}")
    _codes_xml(etree.SubElement(root, _q("Codes", NS_CB)), codes, by_parent, NS_CB, None)
    out = Path(path)
    out.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
    return out
