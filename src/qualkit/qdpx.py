"""REFI-QDA exchange: ``.qdpx`` projects and ``.qdc`` codebooks (the open standard of MAXQDA, ATLAS.ti,
NVivo and QualCoder), read and written with lxml.

Export writes ``project.qde`` (users, codebook with hierarchy/colours/descriptions, variables, cases, text
sources with their selections and codings, notes) plus ``sources/<guid>.txt`` (UTF-8, no BOM, ``\\n`` line
ends).  GUIDs are derived from the objects (uuid5), so exporting the same project twice gives the same
file apart from timestamps.  Positions are Unicode code points, end exclusive (REFI-QDA §10.2).

Import accepts what real tools write (see ``../shared/refi-qda/SOURCE.md``): ``project.qde`` or a single
``<Name>.qde``, ``sources/`` or ``Sources/``, ``internal://``, ``relative://`` and scheme-less paths, a
leading BOM, CRLF line ends counted as one or two characters (decided per source by which reading puts
selection boundaries on word boundaries), decomposed umlauts, and NVivo's near-empty ``.txt`` companions
next to ``.docx`` sources.  What cannot be mapped (PDF, audio, picture sources; selections outside the
text) is reported, never silently dropped.
"""

from __future__ import annotations

import io
import re
import unicodedata
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from lxml import etree

from . import __version__
from .errors import QdpxError
from .project import Project
from .store import now

__all__ = ["ImportReport", "export_codebook", "export_qdpx", "import_codebook", "import_qdpx", "validate_qde"]

NS = "urn:QDA-XML:project:1.0"
NS_CB = "urn:QDA-XML:codebook:1.0"
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
    docs = [dict(r) for r in store.query("SELECT id, case_id, kind, question, text, created_at FROM documents "
                                         "ORDER BY id")]
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
                etree.SubElement(el, _q("SourceRef"), targetGUID=_guid("source", did))
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
        sguid = _guid("source", d["id"])
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
        from .corpus import _sync_codes
        with project.store.transaction() as con:
            _sync_codes(con, project.codebook)
        codes, by_parent = _store_codes(project)
    root = etree.Element(_q("CodeBook", NS_CB), nsmap={None: NS_CB}, origin=f"qualkit {__version__}")
    _codes_xml(etree.SubElement(root, _q("Codes", NS_CB)), codes, by_parent, NS_CB, None)
    out = Path(path)
    out.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
    return out


# -- import ----------------------------------------------------------------------------------------
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
    merged: list[str] = field(default_factory=list)      # sources whose text was already a document
    duplicates: int = 0                                  # codings already in the store, not added again
    coding_memos: int = 0

    def summary(self) -> str:
        s = (f"{len(self.sources)} new source(s), {len(self.merged)} merged into existing documents, "
             f"{len(self.codes_added)} new code(s), {len(self.codes_merged)} merged by name, {self.codings} "
             f"coding(s) ({self.coding_memos} with memo), {self.duplicates} duplicate coding(s) skipped, "
             f"{self.memos} other memo(s), {self.cases} case(s)")
        if self.skipped:
            s += f"; not mapped: {len(self.skipped)}\n" + "\n".join(f"  - {x}" for x in self.skipped)
        return s


def _normalise_with_map(raw: str) -> tuple[str, list[int]]:
    """NFC + LF text and a map from every raw position (0..len) to the normalised position."""
    out: list[str] = []
    pos = [0] * (len(raw) + 1)
    i = n = 0
    while i < len(raw):
        j = i + 1
        if raw[i] == "\r" and j < len(raw) and raw[j] == "\n":
            j += 1
        else:
            while j < len(raw) and unicodedata.combining(raw[j]):
                j += 1
        chunk = raw[i:j]
        norm = "\n" if chunk in ("\r\n", "\r") else unicodedata.normalize("NFC", chunk)
        for k in range(i, j):
            pos[k] = n
        out.append(norm)
        n += len(norm)
        i = j
    pos[len(raw)] = n
    return "".join(out), pos


def _boundary_score(text: str, spans: Iterable[tuple[int, int]]) -> int:
    score = 0
    for s, e in spans:
        if 0 <= s < e <= len(text):
            score += (s == 0 or not text[s - 1].isalnum()) + (e == len(text) or not text[e].isalnum())
            score += text[s].isalnum() or text[s] in "„\"'(-"
    return score


def _zip_members(z: zipfile.ZipFile, path: str) -> tuple[str, dict[str, str]]:
    names = z.namelist()
    qde = [n for n in names if n.lower().endswith(".qde") and "/" not in n.strip("/")]
    if "project.qde" in names:
        main = "project.qde"
    elif len(qde) == 1:
        main = qde[0]
    else:
        raise QdpxError(path, f"expected one .qde file at the top of the archive, found {len(qde)}",
                        hint="is this a REFI-QDA project exported by MAXQDA, ATLAS.ti, NVivo or QualCoder?")
    lower = {n.lower(): n for n in names}
    return main, lower


def _source_bytes(z: zipfile.ZipFile, lower: dict[str, str], ref: str | None) -> bytes | None:
    if not ref:
        return None
    for scheme in ("internal://", "relative://", "absolute://"):
        if ref.startswith(scheme):
            ref = ref[len(scheme):]
    name = PurePosixPath(ref.replace("\\", "/")).name
    for cand in (f"sources/{name}", name, ref):
        real = lower.get(cand.lower())
        if real is not None:
            return z.read(real)
    return None


def _docx_text(data: bytes) -> str:
    import docx
    d = docx.Document(io.BytesIO(data))
    return "\n".join(p.text for p in d.paragraphs)


def _unique_id(store: Any, wanted: str) -> str:
    base = re.sub(r"[^\w\-. äöüÄÖÜß]", "_", wanted).strip() or "Quelle"
    cand, i = base, 2
    while store.query("SELECT 1 FROM documents WHERE id=?", (cand,)):
        cand, i = f"{base}-{i}", i + 1
    return cand


def import_qdpx(project: Project, path: str | Path, *, coder_prefix: str = "",
                replace_codebook: bool = False) -> ImportReport:
    """Import a ``.qdpx`` into the project: codes merged by name (new ones appended to the codebook under
    the dimension ``importiert``), sources as documents (paragraphs as units), cases with variables,
    codings (origin ``imported``) with their exact positions, notes as memos.  One transaction.

    With ``replace_codebook`` (for a project that has no codings yet, e.g. just created with ``qualkit
    init``) the imported codes become the project's codebook instead of being added to the default one."""
    p = Path(path)
    if replace_codebook and not project.store.codings(include_rejected=True).empty:
        raise QdpxError(p, "the project already has codings; its codebook cannot be replaced",
                        hint="import without --replace-codebook to merge the codes by name")
    try:
        z = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, FileNotFoundError) as e:
        raise QdpxError(p, f"not a readable .qdpx (zip) file ({e.__class__.__name__})",
                        hint="export the project again from the other tool") from e
    main, lower = _zip_members(z, str(p))
    try:
        root = etree.fromstring(z.read(main), parser=etree.XMLParser(resolve_entities=False, no_network=True,
                                                                      huge_tree=False))
    except etree.XMLSyntaxError as e:
        raise QdpxError(p, f"{main} is not well-formed XML: {e.msg}", line=e.lineno) from e
    ns = root.nsmap.get(None, NS)

    def q(tag: str) -> str:
        return f"{{{ns}}}{tag}"

    # GUIDs may come with braces or in upper case ({AAAA-...}); compare them normalised
    for el in root.iter():
        for attr in ("guid", "targetGUID", "creatingUser", "modifyingUser", "creatingUserGUID"):
            v = el.get(attr)
            if v:
                el.set(attr, v.strip("{}").lower())
    report = ImportReport()
    users = {u.get("guid"): (coder_prefix + (u.get("name") or u.get("id") or "unbekannt"))
             for u in root.iter(q("User"))}
    notes = {n.get("guid"): "".join(n.findtext(q("PlainTextContent")) or "") for n in root.iter(q("Note"))}
    # codes (names must be unique in qualkit: a repeated name gets its parent's name in brackets)
    codes: dict[str, dict[str, Any]] = {}
    seen_names: set[str] = set()

    def walk(el: Any, parent: str | None) -> None:
        for c in el.findall(q("Code")):
            name = (c.get("name") or "").strip() or "(ohne Namen)"
            if name in seen_names:
                alt = f"{name} ({parent})" if parent else f"{name} (2)"
                i = 2
                while alt in seen_names:
                    i += 1
                    alt = f"{name} ({parent or ''} {i})"
                report.notes.append(f"code {name!r} appears more than once; imported as {alt!r}")
                name = alt
            seen_names.add(name)
            codes[c.get("guid")] = {"name": name, "parent": parent, "colour": _colour(c.get("color")),
                                    "description": c.findtext(q("Description")) or "",
                                    "notes": [n.get("targetGUID") for n in c.findall(q("NoteRef"))]}
            walk(c, name)

    cbel = root.find(q("CodeBook"))
    if cbel is not None and cbel.find(q("Codes")) is not None:
        walk(cbel.find(q("Codes")), None)
    variables = {v.get("guid"): v.get("name") for v in root.iter(q("Variable"))}
    store = project.store
    existing_codes = {} if replace_codebook else store.code_ids()
    new_codes = [c for c in codes.values() if c["name"] not in existing_codes and
                 (replace_codebook or c["name"] not in project.codebook.codes)]
    report.codes_merged = sorted({c["name"] for c in codes.values()} - {c["name"] for c in new_codes})
    report.codes_added = [c["name"] for c in new_codes]
    if new_codes or replace_codebook:
        _append_codebook(project, new_codes, replace=replace_codebook)
    from .corpus import _sync_codes
    source_ids: dict[str, str] = {}
    with store.transaction() as con:
        _sync_codes(con, project.codebook)
        code_id = {r[1]: r[0] for r in con.execute("SELECT id, name FROM codes")}
        for u in users.values():
            con.execute("INSERT OR IGNORE INTO coders(id, name, created_at) VALUES (?,?,?)", (u, u, now()))
        sources = root.find(q("Sources"))
        for src in (list(sources) if sources is not None else []):
            tag = etree.QName(src).localname
            name = str(src.get("name") or src.get("guid"))
            if tag != "TextSource":
                report.skipped.append(f"{tag} {name!r}: only text sources can be imported")
                continue
            raw_bytes = _source_bytes(z, lower, src.get("plainTextPath"))
            raw: str | None = None
            if raw_bytes is not None:
                raw = raw_bytes.decode("utf-8-sig", errors="replace").lstrip("\ufeff")
            inline = src.findtext(q("PlainTextContent"))
            if (raw is None or len(raw.strip()) <= 1) and inline:
                raw = inline
            if raw is None or len(raw.strip()) <= 1:
                rich = _source_bytes(z, lower, src.get("richTextPath"))
                rp = (src.get("richTextPath") or "").lower()
                if rich is not None and rp.endswith(".docx"):
                    raw = _docx_text(rich)
                    if raw.strip():
                        report.notes.append(f"{name!r}: text taken from the .docx (the .txt was empty)")
                elif rich is not None and rp.endswith(".pdf"):
                    report.skipped.append(f"PDF source {name!r}: no plain text representation to import")
                    continue
            if raw is None or not raw.strip():
                report.skipped.append(f"TextSource {name!r}: empty (its plain text and rich text hold no text)")
                continue
            sels = list(src.findall(q("PlainTextSelection")))
            spans = [(int(s.get("startPosition", 0)), int(s.get("endPosition", 0))) for s in sels]
            text, posmap = _normalise_with_map(raw)
            if "\r" in raw:  # do positions count CRLF as one character (ATLAS.ti) or two?
                lf_raw = raw.replace("\r\n", "\n").replace("\r", "\n")
                lf_text, lf_map = _normalise_with_map(lf_raw)
                if _boundary_score(lf_raw, spans) > _boundary_score(raw, spans):
                    text, posmap = lf_text, lf_map
                    report.notes.append(f"{name!r}: positions count line ends as one character")
            t = now()
            # a source whose text is already in the project (a second import, or a round trip back into the
            # project it came from) is merged: its codings join the existing document, exact duplicates are dropped
            same = con.execute("SELECT id FROM documents WHERE length(text)=? AND text=? ORDER BY id",
                               (len(text), text)).fetchone()
            if same is not None:
                did = same[0]
                report.notes.append(f"{name!r}: same text as document {did}; codings merged into it")
                report.merged.append(did)
            else:
                did = _unique_id(store, str(name))
                con.execute("INSERT INTO documents(id, case_id, kind, question, text, sha256, source_file, "
                            "encoding, language, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                            (did, None, "other", None, text, _sha(text), f"{p.name}:{src.get('guid')}", "utf-8",
                             None, t, t))
                _paragraph_units(con, did, text)
                report.sources.append(did)
            source_ids[src.get("guid")] = did
            for sel, (s0, e0) in zip(sels, spans):
                if not (0 <= s0 < e0 <= len(posmap) - 1):
                    report.skipped.append(f"selection {sel.get('guid')} in {name!r}: positions {s0}..{e0} outside "
                                          f"the text ({len(posmap) - 1} characters)")
                    continue
                ns_, ne_ = posmap[s0], posmap[e0]
                memo = "\n".join(notes.get(n.get("targetGUID"), "") for n in sel.findall(q("NoteRef"))).strip()
                desc = sel.findtext(q("Description")) or ""
                origin, status = "imported", "active"
                m = re.match(r"qualkit:(manual|auto|imported):(active|pending|accepted|rejected)$", desc)
                if m:
                    origin, status = m.group(1), m.group(2)
                for cod in sel.findall(q("Coding")):
                    ref = cod.find(q("CodeRef"))
                    target = codes.get(ref.get("targetGUID")) if ref is not None else None
                    if target is None:
                        report.skipped.append(f"coding {cod.get('guid')}: unknown code")
                        continue
                    coder = users.get(cod.get("creatingUser") or sel.get("creatingUser"), "importiert")
                    con.execute("INSERT OR IGNORE INTO coders(id, name, created_at) VALUES (?,?,?)",
                                (coder, coder, t))
                    if con.execute('SELECT 1 FROM codings WHERE document_id=? AND start=? AND "end"=? AND code_id=? '
                                   "AND coder=?", (did, ns_, ne_, code_id[target["name"]], coder)).fetchone():
                        report.duplicates += 1
                        continue
                    con.execute('INSERT INTO codings(document_id, start, "end", code_id, coder, origin, status, '
                                "quote, memo, source_file, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                                (did, ns_, ne_, code_id[target["name"]], coder, origin, status, text[ns_:ne_], memo,
                                 p.name, t, t))
                    report.codings += 1
                    report.coding_memos += bool(memo)
            for n in src.findall(q("NoteRef")):
                if n.get("targetGUID") in notes and not con.execute(
                        "SELECT 1 FROM memos WHERE document_id=? AND text=?", (did, notes[n.get("targetGUID")])
                ).fetchone():
                    con.execute("INSERT INTO memos(document_id, author, title, text, created_at, updated_at) "
                                "VALUES (?,?,?,?,?,?)", (did, "importiert", "Memo", notes[n.get("targetGUID")], t, t))
                    report.memos += 1
        for c in codes.values():
            for nid in c["notes"]:
                if nid in notes:
                    con.execute("INSERT INTO memos(code_id, author, title, text, created_at, updated_at) "
                                "VALUES (?,?,?,?,?,?)", (code_id[c["name"]], "importiert", c["name"], notes[nid],
                                                          now(), now()))
                    report.memos += 1
        for n in root.findall(q("NoteRef")):
            if n.get("targetGUID") in notes:
                con.execute("INSERT INTO memos(author, title, text, created_at, updated_at) VALUES (?,?,?,?,?)",
                            ("importiert", "Projekt", notes[n.get("targetGUID")], now(), now()))
                report.memos += 1
        cases = root.find(q("Cases"))
        for case in (list(cases) if cases is not None else []):
            cname = str(case.get("name") or case.get("guid"))
            desc = case.findtext(q("Description")) or ""
            kind = desc.split(":", 1)[1] if desc.startswith("qualkit:") else "other"
            cid = str(cname)
            con.execute("INSERT OR IGNORE INTO cases(id, kind) VALUES (?, ?)",
                        (cid, kind if kind in ("interview", "respondent") else "other"))
            for vv in case.findall(q("VariableValue")):
                ref = vv.find(q("VariableRef"))
                vname = variables.get(ref.get("targetGUID")) if ref is not None else None
                value = next((x.text for x in vv if etree.QName(x).localname.endswith("Value")), None)
                if vname:
                    con.execute("INSERT OR REPLACE INTO variables(case_id, name, value) VALUES (?,?,?)",
                                (cid, vname, value or ""))
            for sref in case.findall(q("SourceRef")):
                sdid = source_ids.get(sref.get("targetGUID"))
                if sdid:
                    con.execute("UPDATE documents SET case_id=? WHERE id=?", (cid, sdid))
            report.cases += 1
        # restore qualkit's own kinds and questions on a round trip
        for src in (list(sources) if sources is not None else []):
            desc = src.findtext(q("Description")) or ""
            rid = source_ids.get(src.get("guid"))
            if rid and desc.startswith("qualkit:"):
                kind, _, question = desc[len("qualkit:"):].partition("|")
                if kind in ("interview", "survey", "other"):
                    con.execute("UPDATE documents SET kind=?, question=? WHERE id=?", (kind, question or None, rid))
                    if kind == "survey":
                        con.execute("DELETE FROM units WHERE document_id=?", (rid,))
                        text = con.execute("SELECT text FROM documents WHERE id=?", (rid,)).fetchone()[0]
                        con.execute('INSERT INTO units(document_id, idx, start, "end", role) VALUES (?,0,0,?,?)',
                                    (rid, len(text), "answer"))
    return report


def _sha(text: str) -> str:
    import hashlib
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_LABEL = re.compile(r"^([A-ZÄÖÜ][\wÄÖÜäöüß.\- ]{0,30}?):\s+")


def _paragraph_units(con: Any, did: str, text: str) -> None:
    """Units of an imported text: one per paragraph; a ``Name:`` label sets speaker and role."""
    from .transcript import DEFAULT_INTERVIEWER
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


def _colour(c: str | None) -> str:
    if not c:
        return "#888888"
    c = c.strip()
    if re.fullmatch(r"#[0-9A-Fa-f]{3}", c):
        c = "#" + "".join(ch * 2 for ch in c[1:])
    return c.upper() if re.fullmatch(r"#[0-9A-Fa-f]{6}", c) else "#888888"


def _append_codebook(project: Project, new_codes: list[dict[str, Any]], *, replace: bool = False) -> None:
    """Append imported codes (with their hierarchy) to the project's codebook YAML as dimension 'importiert',
    or (``replace``) make them the codebook's only dimension."""
    import yaml
    path = project.path(project.config["project"]["codebook"])
    set(project.codebook.codes)
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
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
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
    text = path.read_text(encoding="utf-8")
    header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
    path.write_text(header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110), encoding="utf-8")
    project.__dict__.pop("codebook", None)


def import_codebook(project: Project, path: str | Path) -> ImportReport:
    """Merge a REFI-QDA ``.qdc`` codebook into the project's codebook (by name)."""
    p = Path(path)
    try:
        root = etree.parse(str(p), parser=etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    except (OSError, etree.XMLSyntaxError) as e:
        raise QdpxError(p, f"not a readable .qdc codebook ({e})", hint="export the codebook again") from e
    ns = root.nsmap.get(None, NS_CB)
    codes: list[dict[str, Any]] = []

    def walk(el: Any, parent: str | None) -> None:
        for c in el.findall(f"{{{ns}}}Code"):
            name = (c.get("name") or "").strip()
            codes.append({"name": name, "parent": parent, "colour": _colour(c.get("color")),
                          "description": c.findtext(f"{{{ns}}}Description") or ""})
            walk(c, name)

    cel = root.find(f"{{{ns}}}Codes")
    if cel is None:
        raise QdpxError(p, "no <Codes> element", hint="is this a REFI-QDA codebook (.qdc)?")
    walk(cel, None)
    report = ImportReport()
    known = set(project.codebook.codes)
    new = [c for c in codes if c["name"] not in known]
    report.codes_merged = [c["name"] for c in codes if c["name"] in known]
    report.codes_added = [c["name"] for c in new]
    if new:
        _append_codebook(project, new)
    from .corpus import _sync_codes
    with project.store.transaction() as con:
        _sync_codes(con, project.codebook)
    return report
