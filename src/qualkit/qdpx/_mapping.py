"""Mapping a REFI-QDA project onto qualkit's terms: codes with unique names, source texts normalised (NFC,
``\\n``) with every selection's positions carried onto the normalised text, users as coders, notes as memos.

The result, :class:`Content`, is plain data: :mod:`._importing` writes it into the store, :mod:`qualkit.merge`
compares it with a project.  Nothing here touches a project.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from ..errors import QdpxError
from ._archive import NS, Archive


@dataclass
class MappedCoding:
    """A coding of a source, positions in the normalised text."""

    start: int
    end: int
    code: str
    coder: str
    origin: str = "imported"
    status: str = "active"
    memo: str = ""


@dataclass
class MappedSource:
    guid: str
    name: str
    text: str
    kind: str = "other"              # qualkit's own kind on a round trip (interview, survey, other)
    encoding: str = "utf-8"          # of its text file, detected as for transcripts
    question: str | None = None
    codings: list[MappedCoding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Content:
    """A REFI-QDA project in qualkit's terms.  ``skipped``: what cannot be mapped; ``notes``: what was
    mapped with an assumption."""

    codes: list[dict[str, Any]] = field(default_factory=list)   # name, parent, colour, description, notes
    sources: list[MappedSource] = field(default_factory=list)
    cases: list[tuple[str, str, dict[str, str], list[str]]] = field(default_factory=list)  # name, kind, vars, guids
    project_notes: list[str] = field(default_factory=list)
    coders: set[str] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


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


def map_positions(raw: str, spans: list[tuple[int, int]]) -> tuple[str, list[int], bool]:
    """The normalised text, the position map, and whether positions count CRLF as one character (decided by
    which reading puts the selection boundaries on word boundaries)."""
    text, posmap = _normalise_with_map(raw)
    if "\r" in raw:
        lf_raw = raw.replace("\r\n", "\n").replace("\r", "\n")
        if _boundary_score(lf_raw, spans) > _boundary_score(raw, spans):
            lf_text, lf_map = _normalise_with_map(lf_raw)
            return lf_text, lf_map, True
    return text, posmap, False


def colour(c: str | None) -> str:
    if not c:
        return "#888888"
    c = c.strip()
    if re.fullmatch(r"#[0-9A-Fa-f]{3}", c):
        c = "#" + "".join(ch * 2 for ch in c[1:])
    return c.upper() if re.fullmatch(r"#[0-9A-Fa-f]{6}", c) else "#888888"


def read_codes(codes_el: Any, ns: str, notes: list[str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Codes in document order (names unique: a repeated name gets its parent's name in brackets) and a map
    GUID → name."""
    out: list[dict[str, Any]] = []
    by_guid: dict[str, str] = {}
    seen: set[str] = set()

    def walk(el: Any, parent: str | None) -> None:
        for c in el.findall(f"{{{ns}}}Code"):
            name = (c.get("name") or "").strip() or "(ohne Namen)"
            if name in seen:
                alt = f"{name} ({parent})" if parent else f"{name} (2)"
                i = 2
                while alt in seen:
                    i += 1
                    alt = f"{name} ({parent or ''} {i})"
                notes.append(f"code {name!r} appears more than once; imported as {alt!r}")
                name = alt
            seen.add(name)
            by_guid[c.get("guid")] = name
            out.append({"name": name, "parent": parent, "colour": colour(c.get("color")),
                        "description": c.findtext(f"{{{ns}}}Description") or "",
                        "notes": [n.get("targetGUID") for n in c.findall(f"{{{ns}}}NoteRef")]})
            walk(c, name)

    if codes_el is not None:
        walk(codes_el, None)
    return out, by_guid


_DESC = re.compile(r"qualkit:(manual|auto|imported):(active|pending|accepted|rejected)$")


def _position(archive: Archive, sel: Any, attr: str) -> int:
    v = sel.get(attr, "0")
    try:
        return int(v)
    except ValueError:
        raise QdpxError(archive.path, f"selection {sel.get('guid')}: {attr}={v!r} is not a whole number",
                        line=sel.sourceline, hint="positions count characters; export the project again") from None


def read_content(archive: Archive, *, coder_prefix: str = "",
                 on_selection: Callable[[], None] | None = None) -> Content:
    """Everything of ``archive`` that qualkit can represent.  ``on_selection`` is called once per mapped
    selection (tests inject faults there)."""
    root = archive.root

    def q(tag: str) -> str:
        return f"{{{NS}}}{tag}"

    content = Content()
    users = {u.get("guid"): coder_prefix + (u.get("name") or u.get("id") or "unbekannt") for u in root.iter(q("User"))}
    notes = {n.get("guid"): "".join(n.findtext(q("PlainTextContent")) or "") for n in root.iter(q("Note"))}
    cb = root.find(q("CodeBook"))
    codes, code_names = read_codes(cb.find(q("Codes")) if cb is not None else None, NS, content.notes)
    for c in codes:
        c["notes"] = [notes[n] for n in c["notes"] if n in notes]
    content.codes = codes
    sources = root.find(q("Sources"))
    for src in (list(sources) if sources is not None else []):
        if not isinstance(src.tag, str):
            continue
        tag = etree.QName(src).localname
        name = str(src.get("name") or src.get("guid"))
        if tag != "TextSource":
            content.skipped.append(f"{tag} {name!r}: only text sources can be imported")
            continue
        raw = archive.source_text(src.get("plainTextPath"))
        inline = src.findtext(q("PlainTextContent"))
        if (raw is None or len(raw.strip()) <= 1) and inline:
            raw = inline
        if raw is None or len(raw.strip()) <= 1:
            rp = (src.get("richTextPath") or "").lower()
            if rp.endswith(".docx") and archive.member_for(src.get("richTextPath")):
                raw = archive.docx_text(src.get("richTextPath"))
                if raw and raw.strip():
                    content.notes.append(f"{name!r}: text taken from the .docx (the .txt was empty)")
            elif rp.endswith(".pdf") and archive.member_for(src.get("richTextPath")):
                content.skipped.append(f"PDF source {name!r}: no plain text representation to import")
                continue
        if raw is None and src.get("plainTextPath") and not inline:
            content.skipped.append(f"TextSource {name!r}: its text file {src.get('plainTextPath')!r} is not in the "
                                   "archive")
            continue
        if raw is None or not raw.strip():
            content.skipped.append(f"TextSource {name!r}: empty (its plain text and rich text hold no text)")
            continue
        sels = list(src.findall(q("PlainTextSelection")))
        spans = [(_position(archive, s, "startPosition"), _position(archive, s, "endPosition")) for s in sels]
        text, posmap, lf = map_positions(raw, spans)
        if lf:
            content.notes.append(f"{name!r}: positions count line ends as one character")
        desc = src.findtext(q("Description")) or ""
        ms = MappedSource(guid=src.get("guid"), name=name, text=text)
        member = archive.member_for(src.get("plainTextPath"))
        if member in archive.encodings:
            ms.encoding = archive.encodings[member]
            if ms.encoding not in ("utf-8", "utf-8-sig"):
                content.notes.append(f"{name!r}: its text file is not UTF-8; read as {ms.encoding}")
        if desc.startswith("qualkit:"):
            kind, _, question = desc[len("qualkit:"):].partition("|")
            if kind in ("interview", "survey", "other"):
                ms.kind, ms.question = kind, question or None
        for sel, (s0, e0) in zip(sels, spans, strict=True):
            if not (0 <= s0 < e0 <= len(posmap) - 1):
                content.skipped.append(f"selection {sel.get('guid')} in {name!r}: positions {s0}..{e0} outside the "
                                       f"text ({len(posmap) - 1} characters)")
                continue
            if on_selection is not None:
                on_selection()
            memo = "\n".join(notes.get(n.get("targetGUID"), "") for n in sel.findall(q("NoteRef"))).strip()
            m = _DESC.match(sel.findtext(q("Description")) or "")
            origin, status = (m.group(1), m.group(2)) if m else ("imported", "active")
            for cod in sel.findall(q("Coding")):
                ref = cod.find(q("CodeRef"))
                code = code_names.get(ref.get("targetGUID")) if ref is not None else None
                if code is None:
                    content.skipped.append(f"coding {cod.get('guid')}: unknown code")
                    continue
                coder = users.get(cod.get("creatingUser") or sel.get("creatingUser"), "importiert")
                content.coders.add(coder)
                ms.codings.append(MappedCoding(posmap[s0], posmap[e0], code, coder, origin, status, memo))
        ms.notes = [notes[n.get("targetGUID")] for n in src.findall(q("NoteRef")) if n.get("targetGUID") in notes]
        content.sources.append(ms)
    variables = {v.get("guid"): v.get("name") for v in root.iter(q("Variable"))}
    cases = root.find(q("Cases"))
    for case in (list(cases) if cases is not None else []):
        if not isinstance(case.tag, str):
            continue
        cname = str(case.get("name") or case.get("guid"))
        desc = case.findtext(q("Description")) or ""
        kind = desc.split(":", 1)[1] if desc.startswith("qualkit:") else "other"
        values: dict[str, str] = {}
        for vv in case.findall(q("VariableValue")):
            ref = vv.find(q("VariableRef"))
            vname = variables.get(ref.get("targetGUID")) if ref is not None else None
            value = next((x.text for x in vv if isinstance(x.tag, str) and etree.QName(x).localname.endswith("Value")),
                         None)
            if vname:
                values[vname] = value or ""
        content.cases.append((cname, kind if kind in ("interview", "respondent") else "other", values,
                              [s.get("targetGUID") for s in case.findall(q("SourceRef"))]))
    content.project_notes = [notes[n.get("targetGUID")] for n in root.findall(q("NoteRef"))
                             if n.get("targetGUID") in notes]
    return content
