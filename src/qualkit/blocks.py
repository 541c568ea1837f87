"""Report content as blocks (heading, paragraph, table, figure, quote, note, terms) and their HTML renderer.

Chapters are computed once as a list of blocks; the same blocks are shown in the notebooks, written to
the chapter pages, the combined HTML, the PDF (from that HTML) and the Word document (:mod:`qualkit.worddoc`),
so they never disagree.

Rendering numbers tables and figures through the whole document ("Tabelle 5", "Abbildung 3"), gives every
element a unique id, and resolves references: a paragraph may cite a table or figure by its ``key`` as
``[[key]]``; a table or figure that no paragraph cites is cited by the paragraph right before it
("… angesprochen (Tabelle 5)."), so every numbered caption is referenced in the text.  Numbers are written
the German way (0,97; 17.05.2022).  Pages are self-contained: figures are embedded, the stylesheet (screen
and A4 print) is inline, nothing is fetched when the page is viewed.
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import asdict, dataclass, field, replace
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .prose import shown_digits

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BLOCKS_MIME", "Block", "Numbering", "blocks_from_json", "blocks_to_html", "blocks_to_json",
           "display_blocks", "german_dates", "html_page", "number_de", "resolve"]

# the MIME type under which a notebook output carries its blocks, so the report re-renders them page-wide
BLOCKS_MIME = "application/vnd.qualkit.blocks+json"
_WIDE = 6     # a table with more columns is set smaller in print
_LONG = 12    # a table with more rows may break across pages (its header row repeats)


@dataclass
class Block:
    """``kind``: heading (level 1-3), para, table (``rows``/``columns``, caption in ``text``), figure
    (``path``, caption in ``text``, ``alt``: what the figure shows), quote (``text``, ``attribution``,
    ``flagged``), note, terms (``rows``: term/explanation pairs, a glossary).  ``key`` names a table or
    figure for ``[[key]]`` references in paragraphs."""

    kind: str
    text: str = ""
    level: int = 2
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    path: str = ""
    attribution: str = ""
    flagged: bool = False
    alt: str = ""
    key: str = ""

    @staticmethod
    def table(df: pd.DataFrame, caption: str = "", *, key: str = "") -> Block:
        import pandas as pd  # not at module level: a report notebook's kernel shows blocks without pandas
        clean = df.copy()
        for c in clean.columns:
            if pd.api.types.is_float_dtype(clean[c]):
                clean[c] = clean[c].round(3)
        rows = [[None if (isinstance(v, float) and pd.isna(v)) or v is pd.NA else (v.item() if hasattr(v, "item")
                                                                                    else v)
                 for v in r] for r in clean.itertuples(index=False)]
        return Block("table", text=caption, columns=[str(c) for c in clean.columns], rows=rows, key=key)


def blocks_to_json(blocks: list[Block], path: str | Path) -> None:
    Path(path).write_text(json.dumps([asdict(b) for b in blocks], ensure_ascii=False, indent=1), encoding="utf-8")


def blocks_from_json(path: str | Path) -> list[Block]:
    return [Block(**b) for b in json.loads(Path(path).read_text(encoding="utf-8"))]


_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def german_dates(text: str) -> str:
    """ISO dates written the German way: ``2022-05-17`` → ``17.05.2022``."""
    return _ISO_DATE.sub(lambda m: f"{m[3]}.{m[2]}.{m[1]}", text)


def number_de(v: float | int, decimals: int = 2) -> str:
    """A number in German notation: decimal comma, thousands point from 10.000 on (``12.345``, ``0,97``)."""
    if isinstance(v, bool):
        return "ja" if v else "nein"
    if isinstance(v, int) or (float(v).is_integer() and decimals == 0):
        n = int(v)
        return f"{n:,}".replace(",", ".") if abs(n) >= 10_000 else str(n)
    s = f"{v:,.{shown_digits(float(v), decimals)}f}"
    whole, _, frac = s.partition(".")
    whole = whole.replace(",", ".") if abs(v) >= 10_000 else whole.replace(",", "")
    return f"{whole},{frac}" if frac else whole


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "ja" if v else "nein"
    if isinstance(v, int | float):
        return number_de(v)
    return german_dates(str(v))


def _numeric(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int | float):
        return True
    return isinstance(v, str) and bool(re.fullmatch(r"[–-]|\d[\d.,]*( %)?", v.strip()))


def _slug(text: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
    return re.sub(r"[^a-z0-9]+", "-", text.lower().translate(table)).strip("-")[:60] or "abschnitt"


class Numbering:
    """Caption numbers and element ids for one document: tables and figures are numbered in order through
    all chapters rendered with the same instance, and no id is given twice."""

    def __init__(self) -> None:
        self.counts = {"table": 0, "figure": 0}
        self.keys: dict[str, tuple[str, int]] = {}
        self._ids: set[str] = set()

    def id(self, text: str) -> str:
        base = _slug(text)
        out, n = base, 1
        while out in self._ids:
            n += 1
            out = f"{base}-{n}"
        self._ids.add(out)
        return out

    def next(self, kind: str) -> int:
        self.counts[kind] += 1
        return self.counts[kind]


_NOUN = {"table": ("Tabelle", "Tabellen"), "figure": ("Abbildung", "Abbildungen")}


def caption_label(kind: str, number: int) -> str:
    return f"{_NOUN[kind][0]} {number}"


def _cite(items: list[tuple[str, int]]) -> str:
    """``Tabelle 3``, ``Tabellen 3 und 4``, ``Tabelle 3 und Abbildung 2``."""
    parts: list[str] = []
    for kind in ("table", "figure"):
        nums = [n for k, n in items if k == kind]
        if nums:
            words = ", ".join(str(n) for n in nums[:-1]) + (" und " if len(nums) > 1 else "") + str(nums[-1])
            parts.append(f"{_NOUN[kind][1 if len(nums) > 1 else 0]} {words}")
    return " und ".join(parts)


@dataclass
class Resolved:
    """A block ready to render: German dates and resolved references in its text, its caption number
    (tables and figures) and its element id."""

    block: Block
    number: int = 0
    id: str = ""

    @property
    def caption(self) -> str:
        b = self.block
        if b.kind not in _NOUN:
            return b.text
        label = caption_label(b.kind, self.number)
        text = re.sub(rf"^{_NOUN[b.kind][0]}:\s*", "", b.text)  # "Abbildung: …" is numbered, not doubled
        return f"{label}: {text}" if text else label


def resolve(blocks: list[Block], numbering: Numbering | None = None, *, prefix: str = "") -> list[Resolved]:
    """Number tables and figures, assign unique ids, resolve ``[[key]]`` references and cite every table or
    figure no paragraph refers to in the paragraph right before it.  ``prefix`` starts every id (the
    chapter's name in a combined report)."""
    num = numbering or Numbering()
    out: list[Resolved] = []
    for b in blocks:
        r = Resolved(replace(b, text=german_dates(b.text)))
        if b.kind in _NOUN:
            r.number = num.next(b.kind)
            r.id = num.id(f"{prefix}-{'tab' if b.kind == 'table' else 'abb'}-{r.number}")
            if b.key:
                num.keys[b.key] = (b.kind, r.number)
        elif b.kind == "heading":
            r.id = num.id(f"{prefix}-{b.text}" if prefix else b.text)
        out.append(r)
    cited = {m for r in out if r.block.kind == "para" for m in re.findall(r"\[\[([^\]]+)\]\]", r.block.text)}
    # uncited tables and figures: cite the run of them in the paragraph right before the run
    i = 0
    while i < len(out):
        if out[i].block.kind == "para":
            j, run = i + 1, []
            while j < len(out) and out[j].block.kind in _NOUN:
                if not (out[j].block.key and out[j].block.key in cited):
                    run.append((out[j].block.kind, out[j].number))
                j += 1
            if run:
                text = out[i].block.text.rstrip()
                end = text[-1] if text and text[-1] in ".:!?" else ""
                out[i].block.text = f"{text[:len(text) - len(end)]} ({_cite(run)}){end or '.'}"
            i = j
        else:
            i += 1

    def ref(m: re.Match[str]) -> str:
        hit = num.keys.get(m[1])
        return caption_label(*hit) if hit else m[0]

    for r in out:
        if r.block.kind == "para":
            r.block.text = re.sub(r"\[\[([^\]]+)\]\]", ref, r.block.text)
    return out


def report_css() -> str:
    """The report's stylesheet: screen, and A4 print with page numbers (``data/report.css``)."""
    return files("qualkit").joinpath("data/report.css").read_text(encoding="utf-8")


def _column_widths(columns: list[str], rows: list[list[Any]], avail: float = 100) -> list[float]:
    """Column widths in % of the printed table, from its text (CSS's automatic table layout, estimated in
    characters): every column gets its longest word, the rest of the line is shared by how much more each
    column's longest cell needs; when the longest words alone overfill the line, each column gets its share of
    them.  The print stylesheet lays tables out with these fixed widths, because measuring every cell (the
    automatic layout) was a third of the PDF's cost.  ``avail`` is the characters of an A4 text line in the
    table's type size (100 at 8.5 pt; wide tables are set at 7.5 pt)."""
    pad = 3.0  # a cell's padding in characters
    least, most = [], []
    for j, c in enumerate(columns):
        cells = [_fmt(row[j]) for row in rows if j < len(row)]
        head = max((len(w) for w in str(c).split()), default=1) * 1.2  # bold; headings are not hyphenated
        word = max((len(w) for cell in cells for w in cell.split()), default=1)
        least.append(max(head, min(word, 18)) + pad)  # longer words in cells are hyphenated
        most.append(max(len(str(c)) * 1.1, *(len(cell) for cell in cells), 1) + pad)
        most[-1] = max(min(most[-1], 60.0), least[-1])
    if sum(most) <= avail:
        w = most
    elif sum(least) >= avail:
        w = least
    else:
        extra = [m - n for m, n in zip(most, least)]
        share = (avail - sum(least)) / max(sum(extra), 1)
        w = [n + x * share for n, x in zip(least, extra)]
    total = sum(w)
    return [round(100 * x / total, 1) for x in w]


def _table_html(r: Resolved) -> str:
    e = html.escape
    b = r.block
    numeric = [bool(b.rows) and all(_numeric(row[j]) for row in b.rows if j < len(row)) for j in range(len(b.columns))]
    num = ' class="num"'
    head = "".join(f'<th scope="col"{num if numeric[j] else ""}>{e(c)}</th>' for j, c in enumerate(b.columns))
    body = "".join("<tr>" + "".join(f'<td{num if _numeric(v) else ""}>{e(_fmt(v))}</td>' for v in row) + "</tr>"
                   for row in b.rows)
    long = len(b.rows) > _LONG or sum(len(_fmt(v)) for row in b.rows for v in row) > 1500  # may span pages
    cls = " ".join(c for c, on in (("wide", len(b.columns) > _WIDE), ("long", long)) if on)
    cls_attr = f' class="{cls}"' if cls else ""
    # the widths as a custom property: print lays the table out with them (report.css), the screen ignores them
    cols = "".join(f'<col style="--w:{w}%">' for w in _column_widths(b.columns, b.rows, 113 if "wide" in cls else 100))
    return (f'<table id="{r.id}"{cls_attr}><caption>{e(r.caption)}</caption>{f"<colgroup>{cols}</colgroup>" if cols else ""}'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def render_html(resolved: list[Resolved], *, base: Path | None = None, embed: bool = True) -> str:
    """HTML for resolved blocks (:func:`resolve`); figures embedded as data URIs when ``embed``."""
    out: list[str] = []
    e = html.escape
    for r in resolved:
        b = r.block
        if b.kind == "heading":
            lv = min(max(b.level, 1), 6)
            out.append(f'<h{lv} id="{r.id}">{e(b.text)}</h{lv}>')
        elif b.kind == "para":
            out.append(f"<p>{e(b.text)}</p>")
        elif b.kind == "note":
            out.append(f'<p class="note">{e(b.text)}</p>')
        elif b.kind == "quote":
            flag = ' <span class="flag">(Zuordnung vergröbert)</span>' if b.flagged else ""
            out.append(f"<blockquote><p>„{e(b.text)}“</p><footer>{e(b.attribution)}{flag}</footer></blockquote>")
        elif b.kind == "table":
            out.append(_table_html(r))
        elif b.kind == "terms":
            out.append('<dl class="glossary">' + "".join(f"<dt>{e(str(t))}</dt><dd>{e(german_dates(str(x)))}</dd>"
                                                          for t, x in b.rows) + "</dl>")
        elif b.kind == "figure":
            p = (base / b.path) if base else Path(b.path)
            src = ("data:image/png;base64," + base64.b64encode(p.read_bytes()).decode()) if embed else b.path
            out.append(f'<figure id="{r.id}"><img src="{e(src)}" alt="{e(german_dates(b.alt or b.text))}">'
                       f"<figcaption>{e(r.caption)}</figcaption></figure>")
    return "\n".join(out)


def blocks_to_html(blocks: list[Block], *, base: Path | None = None, embed: bool = True,
                   numbering: Numbering | None = None, prefix: str = "") -> str:
    """HTML fragments for the blocks (see :func:`resolve` for numbering and ids)."""
    return render_html(resolve(blocks, numbering, prefix=prefix), base=base, embed=embed)


def html_page(title: str, body: str) -> str:
    """A complete, self-contained German HTML page (inline stylesheet, no script, nothing fetched)."""
    return (f'<!DOCTYPE html>\n<html lang="de"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{report_css()}</style></head><body>\n{body}\n</body></html>\n")


def display_blocks(blocks: list[Block], *, base: Path | None = None) -> None:
    """Show blocks in a notebook (as HTML, figures embedded).  The output also carries the blocks
    themselves, so a report renders them with document-wide numbers and ids."""
    from IPython.display import display
    screen = report_css().split("@page", 1)[0].replace("body{", ".qk{")
    display({"text/html": f"<style>{screen}</style><div class='qk'>" + blocks_to_html(blocks, base=base) + "</div>",
             BLOCKS_MIME: [asdict(b) for b in blocks]}, raw=True)


def report_html(chapters: list[tuple[str, list[Block]]], *, base: Path, title: str,
                appendix: list[Block] | None = None) -> str:
    """The combined report as one page: title, table of contents, the chapters (numbers and ids through the
    whole document), the appendix."""
    e = html.escape
    numbering = Numbering()
    parts = [*chapters, *([("anhang", appendix)] if appendix else [])]
    resolved = [(name, resolve(blocks, numbering, prefix=name)) for name, blocks in parts]
    toc = "".join(f'<li><a href="#{r[0].id}">{e(r[0].block.text)}</a></li>' for _, r in resolved
                  if r and r[0].block.kind == "heading")
    body = (f'<h1 class="doctitle" id="{numbering.id("bericht")}">{e(title)}</h1>'
            f'<nav class="toc" aria-label="Inhalt"><h2 id="{numbering.id("inhalt")}">Inhalt</h2><ul>{toc}</ul></nav>'
            + "".join(render_html(r, base=base) for _, r in resolved))
    return html_page(title, body)
