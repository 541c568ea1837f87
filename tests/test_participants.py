"""Persons: participants of a group discussion are persons of their own, in totals, shares and the k rule."""

from __future__ import annotations

import logging

import pytest

from qualkit.analysis import code_frequencies, crosstab
from qualkit.corpus import ingest
from qualkit.errors import IngestErrors
from qualkit.privacy import attribute, attribution_groups
from qualkit.project import Project, open_project
from qualkit.status import project_status
from qualkit.units import unit_table


def _named_interviewer(project: Project) -> Project:
    cfg = project.root / "qualkit.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('group_variable = "Format"',
                                                           'group_variable = "Format"\ninterviewer_labels = ["Jana Roth"]'),
                   encoding="utf-8")
    return open_project(project.root)


def test_participants_group_discussion_counts_each_participant(quartier: Project) -> None:
    project = _named_interviewer(quartier)
    ingest(project)
    units = unit_table(project, kinds=("interview",))
    g = units[units.document_id == "G01"]
    # "Alle: (lachen)", "Alle: Genau, das stimmt." and "TN2: (lacht)" are no statements; the moderator asks
    assert g.speaker.tolist() == ["TN1", "TN2", "TN3", "TN1", "TN3"]
    assert sorted(set(g.person_id)) == ["G01:TN1", "G01:TN2", "G01:TN3"]
    # the participant's own variables win over the document's metadata
    assert g.set_index("person_id").Rolle.to_dict() == {"G01:TN1": "Bewohnerschaft", "G01:TN2": "Bewohnerschaft",
                                                        "G01:TN3": "Gewerbe"}
    # one-person documents: the person is the case
    assert set(units[units.document_id != "G01"].person_id) == {"E01", "T01"}
    st = project_status(project)
    assert st["sources"]["interview"]["persons"] == 5 and st["sources"]["interview"]["documents"] == 3
    assert st["by_variable"]["interview"]["Rolle"] == {"Bewohnerschaft": 2, "Gewerbe": 1, "Träger": 1,
                                                       "Verwaltung": 1}


def test_participants_count_in_the_k_rule_and_attribution(quartier: Project) -> None:
    project = _named_interviewer(quartier)
    ingest(project)
    groups = attribution_groups(project, ["Rolle"], k=2).set_index("Rolle")
    # the group discussion as a whole is no person; its two residents are two persons
    assert groups.persons.to_dict() == {"Bewohnerschaft": 2, "Gewerbe": 1, "Träger": 1, "Verwaltung": 1}
    assert attribute(project, "G01:TN1", ["Rolle"], k=2) == ("Interview, Bewohnerschaft", False)
    assert attribute(project, "G01:TN3", ["Rolle"], k=2) == ("Interview", True)  # alone in the group


def test_participants_shares_are_of_persons(quartier: Project) -> None:
    project = _named_interviewer(quartier)
    ingest(project)
    s = project.store
    text = s.document_text("G01")
    for phrase in ("Treffpunkt im Hof", "heute helfen wir uns"):
        i = text.index(phrase)
        s.add_coding("G01", i, i + len(phrase), "Nachbarschaft", coder="ab")
    f = code_frequencies(project, kinds=("interview",)).set_index("code")
    assert f.loc["Nachbarschaft", "persons"] == 2 and f.loc["Nachbarschaft", "cases"] == 1
    assert f.loc["Nachbarschaft", "persons_total"] == 5
    assert f.loc["Nachbarschaft", "share_persons"] == pytest.approx(2 / 5)
    ct = crosstab(project, by="Rolle", kinds=("interview",))
    assert ct.loc["Nachbarschaft", "Bewohnerschaft"] == 2 and ct.loc["Nachbarschaft"].sum() == 2


def test_participants_table_problems_name_file_and_line(quartier: Project) -> None:
    table = quartier.root / "transcripts" / "teilnehmende.csv"
    table.write_text(table.read_text(encoding="utf-8") + "G01,TN1,Gewerbe,65+\n", encoding="utf-8")
    with pytest.raises(IngestErrors, match=r"teilnehmende.csv, line 5: participant 'TN1' of 'G01' listed twice"):
        ingest(quartier)


def test_participants_unknown_speaker_is_a_warning(quartier: Project, caplog: pytest.LogCaptureFixture) -> None:
    table = quartier.root / "transcripts" / "teilnehmende.csv"
    table.write_text(table.read_text(encoding="utf-8") + "G01,TN4,Gewerbe,65+\nG99,TN1,Gewerbe,65+\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="qualkit"):
        report = ingest(quartier)
    assert any("TN4" in w and "never speak" in w for w in report.warnings)
    assert any("'G99' but no transcript" in w for w in report.warnings)


def test_participants_formats_and_the_overview_names_them(quartier: Project, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from qualkit.overview import overview_blocks
    from qualkit.participants import formats
    from qualkit.reportdata import ReportData, ReportSettings
    project = _named_interviewer(quartier)
    ingest(project)
    assert formats(project) == {"interviews": 2, "group_discussions": 1, "participants": 3}
    data = ReportData(project, ReportSettings.from_project(project))
    text = " ".join(b.text or "" for b in overview_blocks(data, tmp_path))
    assert "2 leitfadengestützte Interviews und 1 Gruppendiskussion mit 3 Teilnehmenden" in text


def test_participants_in_retrieval_and_the_excel_export(quartier: Project, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    from qualkit.analysis import retrieve
    from qualkit.exports import export_xlsx
    project = _named_interviewer(quartier)
    ingest(project)
    s = project.store
    text = s.document_text("G01")
    for phrase in ("Treffpunkt im Hof", "heute helfen wir uns", "der Müll am Kanal"):
        i = text.index(phrase)
        s.add_coding("G01", i, i + len(phrase), "Nachbarschaft" if "Müll" not in phrase else "Sauberkeit", coder="ab")
    seg = retrieve(project, "Nachbarschaft")
    assert seg.person_id.tolist() == ["G01:TN1", "G01:TN2"] and seg.Rolle.tolist() == ["Bewohnerschaft"] * 2
    assert retrieve(project, "Sauberkeit").Rolle.tolist() == ["Gewerbe"]  # TN3's own variable
    out = export_xlsx(project, tmp_path / "x.xlsx", guard=False)
    rows = list(openpyxl.load_workbook(out)["Nachbarschaft"].iter_rows(values_only=True))
    assert rows[0][2] == "Rolle" and [r[2] for r in rows[1:]] == ["Bewohnerschaft", "Bewohnerschaft"]  # k = 2
    gew = list(openpyxl.load_workbook(out)["Sauberkeit"].iter_rows(values_only=True))
    assert gew[1][2] in ("", None)  # TN3 alone in the group Gewerbe: below k, not named
