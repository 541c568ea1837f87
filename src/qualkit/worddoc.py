"""The Word report: blocks as a .docx a German public body files (python-docx).

A4 with German page margins, language de-DE throughout, a table of contents field (pre-filled with the
chapter titles; Word refreshes it on opening), numbered captions as ``SEQ`` fields ("Abbildung 3",
"Tabelle 5") cited in the text (:func:`qualkit.blocks.resolve`), alt text on every picture, table header
rows that repeat on the next page, and document properties that name no person or machine.  The file is
byte-identical for the same content: zip members carry a fixed timestamp and the core properties no date.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from .blocks import Block, Numbering, Resolved, _fmt, _numeric, caption_label, resolve

__all__ = ["blocks_to_docx", "fix_zip_timestamps"]

LANG = "de-DE"
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest zip timestamp: a constant, so the bytes depend on content only


def _el(tag: str, **attrs: str) -> Any:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    e = OxmlElement(tag)
    for k, v in attrs.items():
        e.set(qn(k), v)
    return e


def _set_language(doc: Any) -> None:
    from docx.oxml.ns import qn
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault")) if defaults is not None else None
    targets = [rpr_default.find(qn("w:rPr"))] if rpr_default is not None else []
    targets += [s.element.get_or_add_rPr() for s in doc.styles if s.type == 1]  # paragraph styles
    for rpr in targets:
        if rpr is None:
            continue
        for old in rpr.findall(qn("w:lang")):
            rpr.remove(old)
        rpr.append(_el("w:lang", **{"w:val": LANG, "w:eastAsia": LANG, "w:bidi": "ar-SA"}))
    settings = doc.settings.element
    for old in settings.findall(qn("w:themeFontLang")):
        settings.remove(old)
    settings.append(_el("w:themeFontLang", **{"w:val": LANG}))
    settings.append(_el("w:updateFields", **{"w:val": "true"}))  # Word refreshes the TOC on opening


def _field_run(paragraph: Any, kind: str, instr: str = "") -> None:
    from docx.oxml.ns import qn
    r = paragraph.add_run()
    if instr:
        t = _el("w:instrText")
        t.set(qn("xml:space"), "preserve")
        t.text = instr
        r._r.append(t)
    else:
        r._r.append(_el("w:fldChar", **{"w:fldCharType": kind}))


def _toc(doc: Any, entries: list[str]) -> None:
    """A TOC field over headings 1-3, its result pre-filled with ``entries`` (the chapter titles)."""
    doc.add_paragraph("Inhalt", style="TOC Heading" if "TOC Heading" in [s.name for s in doc.styles] else None)
    first = doc.add_paragraph()
    _field_run(first, "begin")
    _field_run(first, "", 'TOC \\o "1-3" \\h \\z \\u')
    _field_run(first, "separate")
    first.add_run(entries[0] if entries else "Inhaltsverzeichnis (in Word mit F9 aktualisieren)")
    last = first
    for title in entries[1:]:
        last = doc.add_paragraph(title)
    _field_run(last, "end")


def _para(doc: Any, sid: dict[str, str], style: str, text: str = "") -> Any:
    """A paragraph in the style named ``style`` (if the template has it), set by its id: python-docx's lookup
    by name scans every style each time."""
    p = doc.add_paragraph(text)
    if style in sid:
        p._p.style = sid[style]
    return p


def _caption(doc: Any, r: Resolved, sid: dict[str, str]) -> None:
    p = _para(doc, sid, "Caption")
    noun = caption_label(r.block.kind, r.number).split()[0]
    p.add_run(f"{noun} ")
    fld = _el("w:fldSimple", **{"w:instr": f" SEQ {noun} \\* ARABIC "})
    run = _el("w:r")
    t = _el("w:t")
    t.text = str(r.number)
    run.append(t)
    fld.append(run)
    p._p.append(fld)
    text = r.caption.split(": ", 1)[1] if ": " in r.caption else ""
    if text:
        p.add_run(f": {text}")
    if r.block.kind == "table":
        p.paragraph_format.keep_with_next = True


def _table(doc: Any, r: Resolved, sid: dict[str, str]) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    b = r.block
    _caption(doc, r, sid)
    t = doc.add_table(rows=1, cols=max(1, len(b.columns)))
    if "Light Grid Accent 1" in sid:
        t._tbl.tblStyle_val = sid["Light Grid Accent 1"]
    header = t.rows[0]
    trpr = header._tr.get_or_add_trPr()
    trpr.append(_el("w:tblHeader", **{"w:val": "true"}))  # repeats on every page the table spans
    for j, c in enumerate(b.columns):
        header.cells[j].text = c
    for row in b.rows:
        tr = t.add_row()
        tr._tr.get_or_add_trPr().append(_el("w:cantSplit", **{"w:val": "true"}))
        cells = tr.cells
        for j, v in enumerate(row):
            cell = cells[j]
            cell.text = _fmt(v)
            if _numeric(v):
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_paragraph()


def _figure(doc: Any, r: Resolved, base: Path, sid: dict[str, str]) -> None:
    from docx.shared import Cm
    p = doc.add_paragraph()
    p.paragraph_format.keep_with_next = True
    shape = p.add_run().add_picture(str(base / r.block.path), width=Cm(15))
    doc_pr = shape._inline.docPr
    doc_pr.set("descr", r.block.alt or r.block.text)
    doc_pr.set("title", caption_label("figure", r.number))
    _caption(doc, r, sid)


def _properties(doc: Any, title: str) -> None:
    from docx.oxml.ns import qn
    cp = doc.core_properties
    cp.title = title
    cp.author = ""
    cp.last_modified_by = ""
    cp.comments = ""
    cp.keywords = ""
    cp.language = LANG
    cp.revision = 1
    el = cp._element
    for tag in ("dcterms:created", "dcterms:modified", "cp:lastPrinted"):
        for node in el.findall(qn(tag)):
            el.remove(node)


def fix_zip_timestamps(path: str | Path) -> None:
    """Rewrite a zip archive (.docx) with every member at a fixed timestamp, order and content kept."""
    path = Path(path)
    with zipfile.ZipFile(path) as z:
        members = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    tmp = path.with_suffix(path.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    tmp.replace(path)


def blocks_to_docx(chapters: list[tuple[str, list[Block]]], path: str | Path, *, base: Path, title: str,
                   appendix: list[Block] | None = None) -> None:
    """A Word document: title, table of contents, one section per chapter (each on a new page)."""
    import docx
    from docx.shared import Mm, Pt
    d = docx.Document()
    sec = d.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.left_margin, sec.right_margin, sec.top_margin, sec.bottom_margin = Mm(25), Mm(20), Mm(20), Mm(20)
    style = d.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(10.5)
    _set_language(d)
    sid = {s.name: s.style_id for s in d.styles}
    _para(d, sid, "Title", title)
    parts = [*chapters, *([("anhang", appendix)] if appendix else [])]
    _toc(d, [b[0].text for _, b in parts if b and b[0].kind == "heading"])
    numbering = Numbering()
    for name, blocks in parts:
        d.add_page_break()
        for r in resolve(blocks, numbering, prefix=name):
            b = r.block
            if b.kind == "heading":
                _para(d, sid, f"Heading {min(max(b.level, 1), 3)}", b.text)
            elif b.kind == "para":
                d.add_paragraph(b.text)
            elif b.kind == "note":
                run = d.add_paragraph().add_run(b.text)
                run.italic = True
                run.font.size = Pt(9)
            elif b.kind == "quote":
                p = _para(d, sid, "Quote")
                p.add_run(f"„{b.text}“")
                a = d.add_paragraph()
                run = a.add_run(f"— {b.attribution}" + (" (Zuordnung vergröbert)" if b.flagged else ""))
                run.font.size = Pt(9)
            elif b.kind == "table":
                _table(d, r, sid)
            elif b.kind == "terms":
                for term, text in b.rows:
                    p = d.add_paragraph()
                    p.add_run(f"{term}: ").bold = True
                    p.add_run(str(text))
            elif b.kind == "figure":
                _figure(d, r, base, sid)
    _properties(d, title)
    d.save(str(path))
    fix_zip_timestamps(path)
