"""Analysis functions on a hand-built store where every answer is known."""

from __future__ import annotations

import pytest

from qualkit.analysis import (
    code_document_matrix,
    code_frequencies,
    cooccurrence,
    cooccurrence_matrix,
    crosstab,
    retrieve,
)
from qualkit.corpus import ingest
from qualkit.errors import QualkitError, UnknownNameError
from qualkit.project import Project


@pytest.fixture
def coded(tiny_project: Project) -> Project:
    """A1 (Gladbeck) turn 1: Frühkindliche Bildung + Sprachkurse; turn 3: Leistung + Wohnraum (overlapping).
    B2 (Dorsten) turn 1: Mobilität; turn 2: Gewinnung.  Survey S1-F1 (Marl): Frühkindliche Bildung.
    Coder 'b' codes A1 turn 1 with Wohnraum only.  A pending auto suggestion on S2-F1."""
    ingest(tiny_project)
    s = tiny_project.store
    t = s.document_text("A1")
    u = s.units("A1").set_index("idx")
    s.add_coding("A1", int(u.loc[1, "start"]), int(u.loc[1, "end"]), "Frühkindliche Bildung", coder="a")
    s.add_coding("A1", t.index("Sprachkurse"), t.index("Sprachkurse") + 11, "Sprachkurse für Erwachsene", coder="a")
    s.add_coding("A1", t.index("Das KI"), t.index("das läuft gut.") + 14, "Leistung Kreis/KI", coder="a", memo="KI lobt")
    s.add_coding("A1", t.index("die Seiteneinsteiger"), int(u.loc[3, "end"]), "Wohnraum und Wohnungsmarkt", coder="a")
    b = s.units("B2").set_index("idx")
    s.add_coding("B2", int(b.loc[1, "start"]), int(b.loc[1, "end"]), "Mobilität und ÖPNV", coder="a")
    s.add_coding("B2", int(b.loc[2, "start"]), int(b.loc[2, "end"]), "Gewinnung neuer Engagierter", coder="a")
    s.add_coding("S1-F1", 0, len(s.document_text("S1-F1")), "Frühkindliche Bildung", coder="a")
    s.add_coding("A1", int(u.loc[1, "start"]), int(u.loc[1, "end"]), "Wohnraum und Wohnungsmarkt", coder="b")
    s.add_coding("S2-F1", 0, 5, "Bildung und Sprache", coder="qualkit-autocode", origin="auto", score=0.9)
    return tiny_project


def test_analysis_frequencies_counts_units_documents_cases(coded: Project) -> None:
    f = code_frequencies(coded, dimension="handlungsfeld", coders=["a"])
    iv = f[f.kind == "interview"].set_index("code")
    assert iv.loc["Bildung und Sprache", "units"] == 1  # two codings in one unit count once
    assert iv.loc["Wohnen und Mobilität", "units"] == 2  # A1 turn 3 and B2 turn 1
    assert iv.loc["Wohnen und Mobilität", "cases"] == 2
    assert iv.loc["Wohnen und Mobilität", "units_total"] == 4  # respondent units in interviews
    assert iv.loc["Wohnen und Mobilität", "share_units"] == pytest.approx(0.5)
    sv = f[f.kind == "survey"].set_index("code")
    assert list(sv.index) == ["Bildung und Sprache"] and sv.loc["Bildung und Sprache", "cases"] == 1
    # pending auto suggestions are not counted by default, but can be
    f2 = code_frequencies(coded, dimension="handlungsfeld", origins=["auto-pending"])
    assert f2.units.sum() == 1


def test_analysis_frequencies_by_variable(coded: Project) -> None:
    f = code_frequencies(coded, dimension="handlungsfeld", by="Kommune", coders=["a"])
    row = f[(f.code == "Bildung und Sprache") & (f.Kommune == "Marl")].iloc[0]
    assert (row.units, row.cases_total) == (1, 1)


def test_analysis_crosstab_cells(coded: Project) -> None:
    ct = crosstab(coded, by="Kommune", dimension="handlungsfeld", count="cases", coders=["a"])
    assert ct.loc["Wohnen und Mobilität", "Dorsten"] == 1
    assert ct.loc["Wohnen und Mobilität", "Gladbeck"] == 1
    assert ct.loc["Bildung und Sprache", "Marl"] == 1
    assert ct.loc["Bildung und Sprache", "Dorsten"] == 0
    assert next(iter(ct.index)) == "Engagierte Bürgerinnen und Bürger"  # codebook order
    sub = crosstab(coded, "Kommune", level="code", coders=["a"])
    assert sub.loc["Gewinnung neuer Engagierter", "Dorsten"] == 1


def test_analysis_code_document_matrix(coded: Project) -> None:
    m = code_document_matrix(coded, dimension="handlungsfeld", coders=["a"])
    assert list(m.columns) == ["A1", "B2"]
    assert m.loc["Wohnen und Mobilität"].tolist() == [1, 1]
    assert m.loc["Bildung und Sprache"].tolist() == [1, 0]


def test_analysis_cooccurrence_unit_and_overlap(coded: Project) -> None:
    pairs = cooccurrence(coded, level="code", coders=["a"])
    p = pairs[(pairs.code_a == "Frühkindliche Bildung") & (pairs.code_b == "Sprachkurse für Erwachsene")].iloc[0]
    # Frühkindliche Bildung in 2 units (A1 t1, S1), Sprachkurse in 1 (A1 t1): Jaccard 1/2
    assert (p.n_both, p.n_a, p.n_b) == (1, 2, 1) and p.jaccard == pytest.approx(0.5)
    ov = cooccurrence(coded, level="code", mode="overlap", coders=["a"])
    pair = ov[(ov.code_a == "Leistung Kreis/KI") & (ov.code_b == "Wohnraum und Wohnungsmarkt")]
    assert pair.n_both.tolist() == [1]
    m = cooccurrence_matrix(pairs)
    assert m.loc["Sprachkurse für Erwachsene", "Frühkindliche Bildung"] == pytest.approx(0.5)


def test_analysis_retrieve_filters_and_context(coded: Project) -> None:
    r = retrieve(coded, "Bildung und Sprache", coders=["a"], context=10)
    assert list(r.code) == ["Frühkindliche Bildung", "Sprachkurse für Erwachsene", "Frühkindliche Bildung"]
    assert r.text.iloc[1] == "Sprachkurse" and r.before.iloc[1].endswith("ähm, und ")
    assert r.Kommune.tolist() == ["Gladbeck", "Gladbeck", "Marl"]
    only = retrieve(coded, "Bildung und Sprache", coders=["a"], filters={"Kommune": "Marl"})
    assert only.document_id.tolist() == ["S1-F1"]
    # a combination never joins two coders' codings unless the researcher names both coders
    assert retrieve(coded, ["Bildung und Sprache", "Wohnen und Mobilität"], mode="all").empty
    both = retrieve(coded, ["Bildung und Sprache", "Wohnen und Mobilität"], mode="all", coders=["a", "b"])
    assert set(both.document_id) == {"A1"} and set(both.coder) == {"a", "b"}
    memo = retrieve(coded, "Leistung Kreis/KI")
    assert memo.memo.tolist() == ["KI lobt"]


def test_analysis_unknown_dimension_and_variable_name_what_exists(coded: Project) -> None:
    with pytest.raises(UnknownNameError, match="valid dimension names: handlungsfeld, forschungsfrage, zielgruppe"):
        code_frequencies(coded, dimension="thema")
    with pytest.raises(UnknownNameError, match=r"valid case variable names: .*Kommune") as e:
        crosstab(coded, by="Stadtteil")
    assert e.value.name == "Stadtteil" and "Funktionsgruppe" in e.value.valid and "unit_id" not in e.value.valid
    with pytest.raises(UnknownNameError, match="valid case variable names"):
        code_frequencies(coded, by="Stadtteil")
    with pytest.raises(UnknownNameError, match="valid case variable names"):
        retrieve(coded, "Bildung und Sprache", filters={"Stadtteil": "Nord"})
    with pytest.raises(UnknownNameError, match="root, code"):
        cooccurrence(coded, level="segment")
    with pytest.raises(QualkitError, match="unknown code 'Bildung'"):
        retrieve(coded, "Bildung")
    # a qualkit error (the CLI and the coding view print it) that is still a KeyError for older callers
    assert issubclass(UnknownNameError, QualkitError) and issubclass(UnknownNameError, KeyError)

