"""Report content as blocks (heading, paragraph, table, figure, quote, note) and their renderers.

Chapters are computed once as a list of blocks; the same blocks are shown in the notebooks, written to
the combined HTML and to the Word document, so the three never disagree.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["Block", "blocks_from_json", "blocks_to_docx", "blocks_to_html", "blocks_to_json", "display_blocks"]


@dataclass
class Block:
    """``kind``: heading (level 1-3), para, table (``rows``/``columns``), figure (``path``), quote
    (``text``, ``attribution``, ``flagged``), note."""

    kind: str
    text: str = ""
    level: int = 2
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    path: str = ""
    attribution: str = ""
    flagged: bool = False

    @staticmethod
    def table(df: pd.DataFrame, caption: str = "") -> Block:
        clean = df.copy()
        for c in clean.columns:
            if pd.api.types.is_float_dtype(clean[c]):
                clean[c] = clean[c].round(3)
        rows = [[None if (isinstance(v, float) and pd.isna(v)) else (v.item() if hasattr(v, "item") else v)
                 for v in r] for r in clean.itertuples(index=False)]
        return Block("table", text=caption, columns=[str(c) for c in clean.columns], rows=rows)


def blocks_to_json(blocks: list[Block], path: str | Path) -> None:
    Path(path).write_text(json.dumps([asdict(b) for b in blocks], ensure_ascii=False, indent=1), encoding="utf-8")


def blocks_from_json(path: str | Path) -> list[Block]:
    return [Block(**b) for b in json.loads(Path(path).read_text(encoding="utf-8"))]


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.2f}".replace(".", ",")
    return str(v)


CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;max-width:60rem;margin:2rem auto;line-height:1.5;color:#222;padding:0 1rem}
h1{border-bottom:3px solid #2E86AB;padding-bottom:.3rem} h2{margin-top:2rem;color:#1b4f72}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
th{background:#eef3f7} caption{caption-side:top;text-align:left;font-weight:bold;padding:.3rem 0}
blockquote{border-left:4px solid #2E86AB;margin:1rem 0;padding:.4rem 1rem;background:#f6f9fb}
blockquote footer{font-size:.85rem;color:#555;margin-top:.3rem} .flag{color:#b03a2e}
.note{font-size:.85rem;color:#555} figure{margin:1rem 0} figure img{max-width:100%} figcaption{font-size:.85rem;color:#555}
nav ul{columns:2}
"""


def blocks_to_html(blocks: list[Block], *, base: Path | None = None, embed: bool = True) -> str:
    """HTML fragments for the blocks; figures embedded as data URIs when ``embed``."""
    out: list[str] = []
    for b in blocks:
        e = html.escape
        if b.kind == "heading":
            anchor = e(b.text.lower().replace(" ", "-"))
            out.append(f'<h{b.level} id="{anchor}">{e(b.text)}</h{b.level}>')
        elif b.kind == "para":
            out.append(f"<p>{e(b.text)}</p>")
        elif b.kind == "note":
            out.append(f'<p class="note">{e(b.text)}</p>')
        elif b.kind == "quote":
            flag = ' <span class="flag">(Zuordnung vergröbert)</span>' if b.flagged else ""
            out.append(f"<blockquote><p>„{e(b.text)}“</p><footer>{e(b.attribution)}{flag}</footer></blockquote>")
        elif b.kind == "table":
            head = "".join(f"<th>{e(c)}</th>" for c in b.columns)
            body = "".join("<tr>" + "".join(f"<td>{e(_fmt(v))}</td>" for v in r) + "</tr>" for r in b.rows)
            cap = f"<caption>{e(b.text)}</caption>" if b.text else ""
            out.append(f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif b.kind == "figure":
            p = (base / b.path) if base else Path(b.path)
            src = ("data:image/png;base64," + base64.b64encode(p.read_bytes()).decode()) if embed else b.path
            out.append(f'<figure><img src="{src}" alt="{e(b.text)}"><figcaption>{e(b.text)}</figcaption></figure>')
    return "\n".join(out)


def html_page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="de"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{CSS}</style></head><body>\n{body}\n</body></html>\n")


def blocks_to_docx(chapters: list[tuple[str, list[Block]]], path: str | Path, *, base: Path, title: str) -> None:
    """A Word document with one section per chapter (python-docx)."""
    import docx
    from docx.shared import Cm, Pt
    d = docx.Document()
    style = d.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(10.5)
    d.add_heading(title, level=0)
    for i, (_, blocks) in enumerate(chapters):
        if i:
            d.add_page_break()
        for b in blocks:
            if b.kind == "heading":
                d.add_heading(b.text, level=min(b.level, 3))
            elif b.kind == "para":
                d.add_paragraph(b.text)
            elif b.kind == "note":
                p = d.add_paragraph()
                r = p.add_run(b.text)
                r.italic = True
                r.font.size = Pt(9)
            elif b.kind == "quote":
                p = d.add_paragraph(style="Quote") if "Quote" in [s.name for s in d.styles] else d.add_paragraph()
                p.add_run(f"„{b.text}“")
                a = d.add_paragraph()
                r = a.add_run(f"— {b.attribution}" + (" (Zuordnung vergröbert)" if b.flagged else ""))
                r.font.size = Pt(9)
            elif b.kind == "table":
                if b.text:
                    cap = d.add_paragraph()
                    cap.add_run(b.text).bold = True
                t = d.add_table(rows=1, cols=len(b.columns))
                t.style = "Light Grid Accent 1"
                for j, c in enumerate(b.columns):
                    t.rows[0].cells[j].text = c
                for row in b.rows:
                    cells = t.add_row().cells
                    for j, v in enumerate(row):
                        cells[j].text = _fmt(v)
            elif b.kind == "figure":
                d.add_picture(str(base / b.path), width=Cm(15))
                cap = d.add_paragraph()
                cap.add_run(b.text).italic = True
    d.core_properties.author = "qualkit"
    d.save(str(path))


def display_blocks(blocks: list[Block], *, base: Path | None = None) -> None:
    """Show blocks in a notebook (as HTML, figures embedded)."""
    from IPython.display import HTML, display
    display(HTML(f"<style>{CSS.replace('body', '.qk')}</style><div class='qk'>" + blocks_to_html(blocks, base=base)
                 + "</div>"))
