from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_survey_sosci_label_row_is_skipped_with_a_note(quartier) -> None:  # type: ignore[no-untyped-def]
    p = quartier.root / "transcripts/survey/sosci_export.csv"
    ex = read_survey(p, id_column="CASE", open_questions=["VB01_01"], variables={"ST01": "Stadtteil"},
                     complete_column="FINISHED")
    assert [r.id for r in ex.respondents] == ["31", "32", "33", "34", "35"]  # not 6: the label row is no respondent
    assert not any("Verbesserungen" in a for r in ex.respondents for a in r.answers.values())
    assert ex.notes == ["line 2 holds the variables' labels (SoSci Survey's second header row), not a respondent: "
                        "skipped"]
    assert ex.variable_labels["VB01_01"] == "Verbesserungen: [01]"


def test_survey_no_label_row_when_the_first_row_is_a_respondent(tmp_path: Path) -> None:
    p = tmp_path / "s.csv"
    p.write_text("CASE;ST01;A101\nR7;1;Kita\nR8;2;Schule\n", encoding="utf-8")
    ex = read_survey(p, id_column="CASE", open_questions=["A101"], variables={"ST01": "Stadtteil"})
    assert [r.id for r in ex.respondents] == ["R7", "R8"] and ex.notes == []


@pytest.mark.parametrize("header", ["F1. Was fehlt aus Ihrer Sicht?", "[F1] Was fehlt aus Ihrer Sicht?",
                                    "Was fehlt aus Ihrer Sicht?", "Was fehlt aus Ihrer…"])
def test_survey_limesurvey_question_text_headers(tmp_path: Path, header: str) -> None:
    p = tmp_path / "lime.csv"
    p.write_text(f'id,"{header}",Kommune\n1,Mehr Busse,1\n', encoding="utf-8")
    ex = read_survey(p, id_column="id", open_questions={"F1": "Was fehlt aus Ihrer Sicht?"},
                     variables={"Kommune": "Ort"})
    assert ex.respondents[0].answers == {"F1": "Mehr Busse"}
    assert len(ex.notes) == 1 and "read as 'F1'" in ex.notes[0] and "LimeSurvey" in ex.notes[0]


def test_survey_value_labels_from_a_sosci_values_file_and_one_missing_category(quartier) -> None:  # type: ignore[no-untyped-def]
    from qualkit.survey import read_value_labels
    root = quartier.root
    labels = read_value_labels(root / "transcripts/survey/values.csv")
    assert labels["ST01"] == {"1": "Am Kanal", "2": "Nordhang", "3": "Altes Dorf", "-9": ""}
    ex = read_survey(root / "transcripts/survey/sosci_export.csv", id_column="CASE", open_questions=["VB01_01"],
                     variables={"ST01": "Stadtteil", "RO01": "Rolle"}, value_labels=labels)
    assert [r.variables.get("Stadtteil") for r in ex.respondents] == ["Am Kanal", "Nordhang", None, "Am Kanal",
                                                                      "Altes Dorf"]
    assert ex.respondents[1].variables["Rolle"] == "Träger"


def test_survey_value_labels_from_limesurvey_structure_and_xlsx_numbers(tmp_path: Path) -> None:
    import openpyxl

    from qualkit.survey import read_value_labels
    lss = tmp_path / "struktur.txt"
    lss.write_text("class\ttype/scale\tname\trelevance\ttext\nG\t1\tAllgemein\t1\t\nQ\tL\tOrgTyp\t1\tOrganisation?\n"
                   "A\t0\t1\t\tVerein\nA\t0\t2\t\tSchule\nQ\tT\tF1\t1\tWas fehlt?\n", encoding="utf-8")
    labels = read_value_labels(lss)
    assert labels == {"OrgTyp": {"1": "Verein", "2": "Schule"}}
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "OrgTyp", "F1"])
    ws.append([1, 2.0, "Mehr Personal"])
    ws.append([2, "N/A", "Mehr Geld"])
    p = tmp_path / "s.xlsx"
    wb.save(p)
    ex = read_survey(p, id_column="id", open_questions=["F1"], variables={"OrgTyp": "Organisation"},
                     value_labels=labels)
    assert [r.variables for r in ex.respondents] == [{"Organisation": "Schule"}, {}]


def test_survey_unknown_variables_file_says_what_it_expects(tmp_path: Path) -> None:
    from qualkit.survey import read_value_labels
    p = tmp_path / "v.csv"
    p.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(IngestError, match="not a variables file") as e:
        read_value_labels(p)
    assert "VAR, RESPONSE, MEANING" in str(e.value)


def test_survey_project_tables_show_labels_and_one_missing_category(quartier) -> None:  # type: ignore[no-untyped-def]
    from qualkit.analysis import crosstab
    from qualkit.corpus import ingest
    from qualkit.units import MISSING
    ingest(quartier)
    s = quartier.store
    for doc in ("S31-VB01_01", "S33-VB01_01"):
        text = s.document_text(doc)
        s.add_coding(doc, 0, len(text), "Beteiligung" if doc == "S33-VB01_01" else "Sauberkeit", coder="ab")
    ct = crosstab(quartier, by="Stadtteil", kinds=("survey",))
    assert list(ct.columns) == [MISSING, "Am Kanal", "Nordhang"]  # labels, not codes; one missing (S35 did not answer)
    assert ct.loc["Beteiligung", MISSING] == 1 and ct.loc["Sauberkeit", "Am Kanal"] == 1


@pytest.mark.parametrize(("rule", "respondents", "codable", "quotable"), [
    (["counted", "coded", "quoted"], 5, True, True),
    (["counted"], 5, False, False),
    (["counted", "coded"], 5, True, False),
    ([], 4, None, None),
])
def test_survey_unfinished_rule(quartier, rule: list[str], respondents: int, codable: bool | None,  # type: ignore[no-untyped-def]
                                quotable: bool | None) -> None:
    from qualkit.corpus import ingest
    from qualkit.project import open_project
    from qualkit.units import unit_table
    cfg = quartier.root / "qualkit.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('unfinished = ["counted"]', f"unfinished = {rule!r}"
                                                           .replace("'", '"')), encoding="utf-8")
    project = open_project(quartier.root)
    report = ingest(project)
    assert project.store.query("SELECT count(*) FROM cases WHERE kind='respondent'")[0][0] == respondents
    units = unit_table(project, kinds=("survey",)).set_index("case_id")
    if codable is None:
        assert "S34" not in units.index and any("left out entirely" in w for w in report.warnings)
    else:
        assert units.loc["S34", "finished"] == "no"
        assert bool(units.loc["S34", "codable"]) is codable and bool(units.loc["S34", "quotable"]) is quotable
        assert units.drop(index="S34").codable.all() and units.drop(index="S34").quotable.all()


def test_survey_unfinished_rule_is_validated(quartier) -> None:  # type: ignore[no-untyped-def]
    from qualkit.errors import ConfigError
    from qualkit.project import open_project
    cfg = quartier.root / "qualkit.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('unfinished = ["counted"]', 'unfinished = ["zitiert"]'),
                   encoding="utf-8")
    with pytest.raises(ConfigError, match="unfinished"):
        open_project(quartier.root)


@settings(max_examples=40, deadline=None)
@given(ids=st.lists(st.integers(min_value=1, max_value=99999), min_size=1, max_size=12, unique=True),
       answers=st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüß .,!?", min_size=3, max_size=30)
                        .filter(lambda t: t.strip(" .!?") and t.strip().lower() not in ("na", "ka", "x")),
                        min_size=12, max_size=12),
       label_row=st.booleans())
def test_survey_label_row_never_becomes_a_respondent_and_no_respondent_is_lost(
        tmp_path_factory: pytest.TempPathFactory, ids: list[int], answers: list[str], label_row: bool) -> None:
    rows = ["CASE;ST01;VB01_01"] + (["Interview-Nummer (fortlaufend);Stadtteil;Verbesserungen: [01]"] if label_row else [])
    rows += [f"{i};1;{a}" for i, a in zip(ids, answers)]
    p = tmp_path_factory.mktemp("s") / "sosci.csv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    ex = read_survey(p, id_column="CASE", open_questions=["VB01_01"], variables={"ST01": "Stadtteil"})
    assert [r.id for r in ex.respondents] == [str(i) for i in ids]
    assert len(ex.notes) == int(label_row)


def test_survey_changed_value_labels_are_read_again(quartier) -> None:  # type: ignore[no-untyped-def]
    from qualkit.corpus import ingest
    ingest(quartier)
    values = quartier.root / "transcripts/survey/values.csv"
    values.write_text(values.read_text(encoding="utf-8").replace("Altes Dorf", "Altdorf"), encoding="utf-8")
    ingest(quartier)  # the export is unchanged, its labels are not
    assert quartier.store.case_variables().set_index("case_id").loc["S35", "Stadtteil"] == "Altdorf"


def _detect_language_as_it_was(text: str) -> str:
    """The guess before it counted in C (kept here as the reference the faster one must equal)."""
    from qualkit._lang import _STOP, _WORD
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "und"
    if sum("\u0600" <= c <= "\u06ff" for c in letters) / len(letters) > 0.3:
        return "ar"
    if sum("\u0400" <= c <= "\u04ff" for c in letters) / len(letters) > 0.3:
        return "uk" if any(c in "іїєґІЇЄҐ" for c in letters) else "ru"
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return "und"
    scores = {lang: sum(w in stop for w in words) for lang, stop in _STOP.items()}
    if any(c in "ğşıİ" for c in text):
        scores["tr"] += 2
    if any(c in "äöüß" for c in text.lower()):
        scores["de"] += 2
    best = max(scores, key=lambda k: scores[k])
    return "de" if scores[best] == 0 or scores[best] <= scores["de"] else best


@given(st.lists(st.sampled_from(["Sprachkurs", "fehlt", "und", "the", "language", "ve", "çok", "بيت", "،", "٣",
                                 "дом", "і", "ї", "мова", "и", "½", "²", "42", " ", ".", "ğ", "ß", "Ä", "ẞ", "İ"]),
                max_size=30),
       st.text(max_size=20))
def test_survey_language_guess_equals_the_reference(words: list[str], noise: str) -> None:
    from qualkit._lang import detect_language
    text = " ".join(words) + noise
    assert detect_language(text) == _detect_language_as_it_was(text)
