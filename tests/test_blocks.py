"""Blocks and their renderers: numbering, references, ids, German numbers, self-contained HTML, Word."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qualkit.blocks import Block, Numbering, blocks_to_html, german_dates, html_page, number_de, report_html, resolve
from qualkit.worddoc import blocks_to_docx, fix_zip_timestamps

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _png(path: Path) -> None:
    from matplotlib.figure import Figure
    fig = Figure(figsize=(2, 1))
    fig.add_subplot().bar([1, 2], [3, 4])
    fig.savefig(path, dpi=50, metadata={"Software": None})


@pytest.fixture
def chapter(tmp_path: Path) -> list[Block]:
    (tmp_path / "figures").mkdir()
    _png(tmp_path / "figures" / "a.png")
    df = pd.DataFrame({"Gruppe": ["Schule", "Verwaltung"], "Personen": [3, 12345], "Anteil": [0.971, 0.5]})
    return [Block("heading", text="Kapitel „Eins“", level=1),
            Block("para", text="Am 2022-05-17 wurde gesprochen."),
            Block.table(df, "Personen nach Gruppe"),
            Block("heading", text="Bild"),
            Block("para", text="Wie [[bild]] zeigt, ist es so"),
            Block("figure", text="Anteil je Gruppe", alt="Balken: Verwaltung 50 %", path="figures/a.png", key="bild"),
            Block("heading", text="Bild")]


def test_blocks_german_numbers_and_dates() -> None:
    assert number_de(0.97) == "0,97" and number_de(12345) == "12.345" and number_de(2022) == "2022"
    assert number_de(12345.5) == "12.345,50" and number_de(-0.5) == "-0,50"
    assert german_dates("Workshop W1 (2022-05-17)") == "Workshop W1 (17.05.2022)"


def test_blocks_resolve_numbers_cites_and_references(chapter: list[Block]) -> None:
    num = Numbering()
    r = resolve(chapter, num, prefix="k1")
    table, fig = r[2], r[5]
    assert (table.number, fig.number) == (1, 1)
    assert table.caption == "Tabelle 1: Personen nach Gruppe" and fig.caption == "Abbildung 1: Anteil je Gruppe"
    # the uncited table is cited by the paragraph before it; the figure is cited by its key
    assert r[1].block.text == "Am 17.05.2022 wurde gesprochen (Tabelle 1)."
    assert r[4].block.text == "Wie Abbildung 1 zeigt, ist es so"
    # numbering runs on through the next chapter; ids never repeat
    r2 = resolve(chapter, num, prefix="k1")
    assert r2[2].number == 2 and r2[5].number == 2
    ids = [x.id for x in r + r2 if x.id]
    assert len(ids) == len(set(ids))
    assert chapter[1].text == "Am 2022-05-17 wurde gesprochen."  # the input blocks are not changed


@given(st.lists(st.sampled_from(["Thema 1", "thema-1", "Thema 1!", "Ärger", "aerger", "", "Inhalt"]), max_size=12))
def test_blocks_ids_unique_for_any_headings(texts: list[str]) -> None:
    num = Numbering()
    html_ = blocks_to_html([Block("heading", text=t) for t in texts], numbering=num) + \
        blocks_to_html([Block("heading", text=t) for t in texts], numbering=num)
    ids = re.findall(r'id="([^"]*)"', html_)
    assert len(ids) == len(set(ids)) == 2 * len(texts)


def test_blocks_html_self_contained_german_accessible(chapter: list[Block], tmp_path: Path) -> None:
    page = report_html([("k1", chapter), ("k2", chapter)], base=tmp_path, title="Bericht <Test>")
    assert page.startswith('<!DOCTYPE html>\n<html lang="de">')
    assert not re.search(r'(src|href)\s*=\s*"https?:', page) and "<script" not in page and "@import" not in page
    assert "Bericht &lt;Test&gt;" in page
    ids = re.findall(r'\bid="([^"]*)"', page)
    assert len(ids) == len(set(ids))
    for href in re.findall(r'href="#([^"]*)"', page):
        assert href in ids
    assert '<th scope="col">Gruppe</th>' in page and '<th scope="col" class="num">Personen</th>' in page
    assert '<td class="num">12.345</td>' in page and '<td class="num">0,97</td>' in page
    assert page.count("<caption>Tabelle ") == 2 and "<caption>Tabelle 2: Personen nach Gruppe</caption>" in page
    assert 'alt="Balken: Verwaltung 50 %"' in page and "<figcaption>Abbildung 2: Anteil je Gruppe</figcaption>" in page
    assert "size:A4" in page and "counter(page)" in page and "text-align:left" in page


def test_blocks_html_escapes_everything() -> None:
    bad = "<img src=x onerror=alert(1)>"
    out = blocks_to_html([Block("heading", text=bad), Block("para", text=bad),
                          Block("table", text=bad, columns=[bad], rows=[[bad]]),
                          Block("quote", text=bad, attribution=bad)])
    assert "<img" not in out
    assert "<img" not in html_page(bad, "")


def _docx_xml(path: Path, member: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(member).decode("utf-8")


def test_blocks_word_a4_german_toc_captions_alt_text(chapter: list[Block], tmp_path: Path) -> None:
    out = tmp_path / "b.docx"
    blocks_to_docx([("k1", chapter), ("k2", chapter)], out, base=tmp_path, title="Bericht")
    doc = _docx_xml(out, "word/document.xml")
    assert re.search(r'<w:pgSz w:w="11906" w:h="16838"', doc) or re.search(r'w:w="1190[0-9]" w:h="1683[0-9]"', doc)
    assert 'TOC \\o "1-3"' in doc and 'w:fldCharType="begin"' in doc
    assert doc.count("SEQ Tabelle") == 2 and doc.count("SEQ Abbildung") == 2
    assert "Am 17.05.2022 wurde gesprochen (Tabelle 2)." in doc and "Wie Abbildung 2 zeigt" in doc
    descr = re.findall(r'<wp:docPr [^>]*descr="([^"]*)"', doc)
    assert descr == ["Balken: Verwaltung 50 %"] * 2
    assert doc.count("<w:tblHeader") == 2
    styles = _docx_xml(out, "word/styles.xml")
    assert 'w:lang w:val="de-DE"' in styles and 'w:val="en-US"' not in styles
    core = _docx_xml(out, "docProps/core.xml")
    assert "<dc:language>de-DE</dc:language>" in core and "created" not in core and "python-docx" not in core
    with zipfile.ZipFile(out) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_blocks_word_identical_bytes(chapter: list[Block], tmp_path: Path) -> None:
    a, b = tmp_path / "a.docx", tmp_path / "b.docx"
    blocks_to_docx([("k1", chapter)], a, base=tmp_path, title="Bericht")
    blocks_to_docx([("k1", chapter)], b, base=tmp_path, title="Bericht")
    assert a.read_bytes() == b.read_bytes()


def test_blocks_zip_timestamps_fixed(tmp_path: Path) -> None:
    p = tmp_path / "x.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("b.txt", "2")
        z.writestr("a.txt", "1")
    fix_zip_timestamps(p)
    with zipfile.ZipFile(p) as z:
        assert [i.filename for i in z.infolist()] == ["b.txt", "a.txt"] and z.read("a.txt") == b"1"
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_blocks_print_tables_have_fixed_widths_from_their_text() -> None:
    """Every printed table, wide crosstabs too, is laid out with column widths estimated from its text (the
    automatic layout measured every cell and was a third of the PDF's cost): the widths fill the line, and a
    column's share follows the longest word it must hold."""
    narrow = Block("table", text="Antworten", columns=["Handlungsfeld", "Antworten"],
                   rows=[["Institution und Professionalisierung", 93], ["Bildung und Sprache", 111]])
    fields = ["Zusammenleben und Teilhabe", "Bildung und Sprache", "Wohnen und Mobilität", "Gesundheit und Sport",
              "Wirtschaft und Arbeitsmarkt", "Institution und Professionalisierung"]
    wide = Block("table", text="Kreuztabelle", columns=["Organisationstyp", *fields],
                 rows=[["Migrantenselbstorganisation", 14, 6, 2, 6, 1, 9], ["Kita", 0, 27, 2, 1, 2, 5]])
    page = blocks_to_html([narrow, wide], embed=False)
    tables = re.findall(r"<table[^>]*>.*?</table>", page, flags=re.S)
    assert len(tables) == 2 and 'class="wide"' in tables[1] and 'class="wide"' not in tables[0]
    for table, block in zip(tables, (narrow, wide)):
        widths = [float(w) for w in re.findall(r'<col style="--w:([\d.]+)%">', table)]
        assert len(widths) == len(block.columns)
        assert abs(sum(widths) - 100) < 0.5
        if block is narrow:
            assert widths[0] > 2 * widths[1]  # the long field names, not the counts
        else:  # "Professionalisierung" is the longest heading word, "Sprache" among the shortest
            assert max(widths) == widths[-1] and widths[2] < widths[-1] / 1.5
