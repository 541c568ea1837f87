from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from qualkit.corpus import ingest
from qualkit.errors import IngestError
from qualkit.project import Project
from qualkit.workshops import workshop_measures

from .conftest import add_config, run_cli


def test_exports_xlsx_for_steering_group(tiny_project: Project, tmp_path: Path) -> None:
    ingest(tiny_project)
    s = tiny_project.store
    text = s.document_text("A1")
    i = text.index("Gerne.")
    s.add_coding("A1", i, text.index("Sprachkurse.") + 12, "Frühkindliche Bildung", coder="a", memo="siehe Özdemir")
    s.add_coding("B2", 40, 80, "Mobilität und ÖPNV", coder="a")
    out = tmp_path / "steuerung.xlsx"
    code, _stdout, err = run_cli("export", "xlsx", str(out), "--project", str(tiny_project.root))
    assert code == 0, err
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "Übersicht"
    assert "Bildung und Sprache" in wb.sheetnames and "Wohnen und Mobilität" in wb.sheetnames
    ws = wb["Bildung und Sprache"]
    header = [c.value for c in ws[1]]
    assert header == ["Quelle", "Dokument", "Funktionsgruppe", "Organisationstyp", "Code", "Textstelle",
                      "Codiert von", "Memo"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    # one integration officer in the project: below k = 3, so the group is not named (as in the chapters)
    assert len(rows) == 1 and rows[0][0] == "Interview" and rows[0][2] in (None, "")
    assert "Kitaplätze" in rows[0][5] and rows[0][7] == "siehe [Person 1]"
    assert ws.auto_filter.ref == "A1:H2" and ws.column_dimensions["F"].width > 20
    assert len(list(wb["Wohnen und Mobilität"].iter_rows(min_row=2))) == 1
    summary = [c.value for c in wb["Übersicht"][1]]
    assert summary[0] == "Handlungsfeld"
    add_config(tiny_project.root, "[report]\nk = 1\n")
    code, _stdout, err = run_cli("export", "xlsx", str(out), "--project", str(tiny_project.root))
    assert code == 0, err
    row = next(openpyxl.load_workbook(out)["Bildung und Sprache"].iter_rows(min_row=2, values_only=True))
    assert row[2] == "Integrationsbeauftragte"


def test_workshops_read_measures(tiny_project: Project) -> None:
    folder = tiny_project.path("transcripts/workshops")
    (folder / "workshops.csv").write_text("workshop;handlungsfeld;datum;ort;teilnehmende\n"
                                          "BS-1;Bildung und Sprache;2022-05-10;Marl;14\n", encoding="utf-8")
    (folder / "BS-1.csv").write_bytes("Nr;Maßnahme;Beschreibung;Zuständigkeit;Punkte;Rang\n"
                                      "1;Sprachkurse mit Kinderbetreuung;…;KI, Träger;12;1\n"
                                      "2;Elterncafés ausbauen;;Schulen;7;2\n".encode("cp1252", errors="replace"))
    df = workshop_measures(tiny_project, "Bildung und Sprache")
    assert list(df["Maßnahme"]) == ["Sprachkurse mit Kinderbetreuung", "Elterncafés ausbauen"]
    assert list(df.Punkte) == [12, 7]
    (folder / "workshops.csv").write_text("workshop;handlungsfeld\nXY;Bildung und Sprache\n", encoding="utf-8")
    with pytest.raises(IngestError, match="XY"):
        workshop_measures(tiny_project)


def test_export_xlsx_hides_the_speakers_own_town(tiny_project: Project, tmp_path: Path) -> None:
    from qualkit.exports import export_xlsx
    ingest(tiny_project)
    text = tiny_project.store.document_text("A1")
    i = text.index("Also bei uns in Gladbeck")
    tiny_project.store.add_coding("A1", i, i + len("Also bei uns in Gladbeck fehlen vor allem Kitaplätze"),
                                  "Frühkindliche Bildung", coder="ab")
    out = export_xlsx(tiny_project, tmp_path / "s.xlsx")
    ws = openpyxl.load_workbook(out)["Bildung und Sprache"]
    cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value]
    assert "Also bei uns in [eigene Kommune] fehlen vor allem Kitaplätze" in cells
    assert not any("Gladbeck" in c for c in cells)
