"""Chapter assembly: workshop measures with their evidence, quotes once, figures without pyplot state."""

from __future__ import annotations

from pathlib import Path

from qualkit.blocks import Block
from qualkit.chapters import _dedupe_quotes, chapter_blocks
from qualkit.project import Project
from qualkit.reportdata import ReportData, ReportSettings

from .test_findings import CODE, coded  # noqa: F401  (fixture)


def _with_workshops(p: Project) -> Project:
    folder = p.root / "transcripts/workshops"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "workshops.csv").write_text("workshop;handlungsfeld;datum;ort;teilnehmende\n"
                                          "BS-1;Bildung und Sprache;2022-05-24;Rathaus;21\n", encoding="utf-8")
    (folder / "BS-1.csv").write_text("Nr;Maßnahme;Beschreibung;Zuständigkeit;Punkte;Rang\n"
                                     "1;Kitaplätze schaffen;Brückenangebote für Kinder ohne Kitaplatz;Jugendämter;19;1\n"
                                     "2;Elterncafés;mehrsprachig;Schulen;7;2\n", encoding="utf-8")
    f = p.root / "findings/bildung-und-sprache.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("        quote: das ist ein Problem für die Sprachkurse\n",
                                                       "        quote: das ist ein Problem für die Sprachkurse\n"
                                                       "    measures: [BS-1/1]\n"), encoding="utf-8")
    return p


def test_chapters_workshop_measures_keep_description_participants_and_support(coded: Project) -> None:  # noqa: F811
    import matplotlib.pyplot as plt
    p = _with_workshops(coded)
    before = plt.get_fignums()
    blocks = chapter_blocks(ReportData(p, ReportSettings.from_project(p, mode="release")), CODE, p.cache_dir)
    assert plt.get_fignums() == before  # no figure left in a researcher's pyplot state
    table = next(b for b in blocks if b.kind == "table" and b.text.startswith("Workshop BS-1"))
    assert "am 24.05.2022" in table.text and "21 Teilnehmende" in table.text  # German date, participants kept
    rows = {r[1]: dict(zip(table.columns, r)) for r in table.rows}
    assert rows["Kitaplätze schaffen"]["Beschreibung"] == "Brückenangebote für Kinder ohne Kitaplatz"
    assert rows["Kitaplätze schaffen"]["Aufgegriffen in"] == "Befund 1"  # confirmed by the finding
    assert rows["Elterncafés"]["Aufgegriffen in"] == "–"
    note = blocks[-1].text
    assert "Konsenscodierung" in note and "Redebeitrag" in note
    assert (p.cache_dir / "bildung-und-sprache-wortwolke.png").exists()


def test_chapters_no_quote_twice() -> None:
    q = [Block("quote", text="Es fehlen Kitaplätze."), Block("para", text="x"),
         Block("quote", text="… es fehlen  KITAPLÄTZE. …")]
    assert [b.kind for b in _dedupe_quotes(q)] == ["quote", "para"]


def test_chapters_subcode_not_asked_in_survey_is_marked(coded: Project) -> None:  # noqa: F811
    blocks = chapter_blocks(ReportData(coded, ReportSettings.from_project(coded)), CODE, Path(coded.cache_dir))
    table = next(b for b in blocks if b.kind == "table" and b.text.startswith("Unterkategorien"))
    rows = {r[0]: r for r in table.rows}
    # the tiny project has no coded survey answers at all: nothing can be called "not asked"
    assert rows["Frühkindliche Bildung"][3] == "0"


def test_chapters_a_paragraph_cites_its_own_table(example_project: Project) -> None:
    """The sentence on the most named subcodes cites the subcode table (a later section), not the survey-by-place
    table that follows it; that table is cited by a paragraph of its own."""
    import re

    from qualkit.blocks import resolve
    from qualkit.privacy import pseudonymise_project
    pseudonymise_project(example_project)
    code = "Wohnen und Mobilität"
    data = ReportData(example_project, ReportSettings.from_project(example_project))
    resolved = resolve(chapter_blocks(data, code, example_project.cache_dir))
    number = {r.block.text: r.number for r in resolved if r.block.kind == "table"}
    by_place = next(n for t, n in number.items() if t.startswith("Online-Befragung nach Kommune"))
    subcodes = number["Unterkategorien: Personen und Aussagen"]
    paras = [r.block.text for r in resolved if r.block.kind == "para"]
    ranks = next(t for t in paras if "von den meisten Personen angesprochen" in t)
    assert re.search(rf"\(Tabelle {subcodes}\)\.$", ranks), ranks
    own = [t for t in paras if re.search(rf"\bTabelle {by_place}\b", t)]
    assert len(own) == 1 and own[0].startswith("In der Online-Befragung je Kommune") and "[[" not in ranks
