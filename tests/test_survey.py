from __future__ import annotations

from pathlib import Path

import pytest

from qualkit.errors import IngestError
from qualkit.survey import read_survey

from .conftest import SURVEY

KW = {"id_column": "id", "open_questions": ["F1", "F2"], "variables": {"Kommune": "Kommune", "OrgTyp": "Organisationstyp"},
      "complete_column": "submitdate"}


def test_survey_csv_answers_and_no_answer_markers(tmp_path: Path) -> None:
    p = tmp_path / "s.csv"
    p.write_text(SURVEY, encoding="utf-8")
    ex = read_survey(p, **KW)
    assert [r.id for r in ex.respondents] == ["1", "2", "3"]
    r1, r2, r3 = ex.respondents
    assert r1.answers == {"F1": "Mehr Kitaplätze!"} and r1.missing == {"F2": "k.A."}
    assert r2.answers["F1"] == "- Schulplätze\n- Sprachkurse für Eltern"
    assert r2.variables == {"Kommune": "Herten", "Organisationstyp": "Schule"}
    assert [r.finished for r in ex.respondents] == [True, False, True]
    assert r3.answers == {} and r3.missing == {"F2": "/"}
    assert r2.line == 3 and r3.line == 5  # the multi-line answer spans two lines


def test_survey_semicolon_cp1252_soscì_style(tmp_path: Path) -> None:
    p = tmp_path / "sosci.csv"
    p.write_bytes("CASE;Kommune;OrgTyp;F1;F2\n7;Marl;Kita;Mehr Kitaplätze für Kinder;Dolmetscherpool\n"
                  .encode("cp1252"))
    ex = read_survey(p, id_column="CASE", open_questions=["F1", "F2"],
                     variables={"Kommune": "Kommune", "OrgTyp": "Organisationstyp"})
    assert ex.encoding == "cp1252"
    assert ex.respondents[0].answers["F1"] == "Mehr Kitaplätze für Kinder"


def test_survey_xlsx(tmp_path: Path) -> None:
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "submitdate", "Kommune", "OrgTyp", "F1", "F2"])
    ws.append([1, "2021-11-20", "Marl", "Kita", "Sprachkurse mit Kinderbetreuung", None])
    ws.append([2, None, "Datteln", "Schule", "-", "Mehr Personal"])
    p = tmp_path / "s.xlsx"
    wb.save(p)
    ex = read_survey(p, **KW)
    assert [r.id for r in ex.respondents] == ["1", "2"]
    assert ex.respondents[0].answers == {"F1": "Sprachkurse mit Kinderbetreuung"}
    assert ex.respondents[1].missing == {"F1": "-"}


def test_survey_missing_id_column(tmp_path: Path) -> None:
    p = tmp_path / "s.csv"
    p.write_text("respid,Kommune,OrgTyp,F1,F2,submitdate\n1,Marl,Kita,a,b,x\n", encoding="utf-8")
    with pytest.raises(IngestError) as exc:
        read_survey(p, **KW)
    assert exc.value.line == 1 and "'id'" in exc.value.reason and "respid" in str(exc.value)


def test_survey_duplicate_respondent_ids_name_both_lines(tmp_path: Path) -> None:
    p = tmp_path / "s.csv"
    p.write_text("id,submitdate,Kommune,OrgTyp,F1,F2\n1,x,Marl,Kita,a,b\n2,x,Marl,Kita,a,b\n1,x,Marl,Kita,c,d\n",
                 encoding="utf-8")
    with pytest.raises(IngestError) as exc:
        read_survey(p, **KW)
    assert exc.value.line == 4 and "first in line 2" in exc.value.reason


def test_survey_sosci_finished_zero_and_minus_nine_are_missing(tmp_path: Path) -> None:
    p = tmp_path / "sosci.csv"
    p.write_text("CASE;Kommune;FINISHED;A101\n1;Marl;1;Mehr Busse\n2;-9;0;-9\n", encoding="utf-8")
    ex = read_survey(p, id_column="CASE", open_questions=["A101"], variables={"Kommune": "Kommune"},
                     complete_column="FINISHED")
    r1, r2 = ex.respondents
    assert r1.variables == {"Kommune": "Marl"} and r1.finished
    assert r2.variables == {} and not r2.finished  # -9 leaves the variable unset: one missing category
    assert r2.answers == {} and r2.missing == {"A101": "-9"}


@pytest.mark.parametrize("body, line, what", [
    ("id,Kommune,F1,F2\n1,Marl,gut,schlecht\n2,Herten,zu viele,Felder,hier\n", 3, "5 fields"),
    ("id,Kommune,F1,F2\n1,Marl,gut\n", 2, "3 fields"),
    ('id,Kommune,F1,F2\n1,Marl,"offenes Zitat,x\n2,Herten,a,b\n3,Gladbeck,c,d\n', 2, "unexpected end"),
    ('id,Kommune,F1,F2\n1,Marl,"offen\n2,Herten,a,b\n3,Gladbeck,c",d\n', 3, "whole rows"),
])
def test_survey_broken_rows_are_errors_with_line(tmp_path: Path, body: str, line: int, what: str) -> None:
    p = tmp_path / "s.csv"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(IngestError) as e:
        read_survey(p, id_column="id", open_questions=["F1", "F2"], variables={"Kommune": "Kommune"})
    assert e.value.line == line and what in str(e.value) and "s.csv" in str(e.value)
