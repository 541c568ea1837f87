from __future__ import annotations

import json
import math
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from qualkit.agreement import (
    agreement,
    cohen_kappa,
    krippendorff_alpha_nominal,
    matrix_statistics,
    percent_agreement,
)
from qualkit.corpus import ingest
from qualkit.project import Project

from .conftest import add_config, run_cli

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers, 12 units.
K2011 = [  # rows = units, columns = observers A, B, C, D
    [1, 1, None, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
    [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [None, 5, 5, 5], [None, None, 1, 1], [None, 3, None, None],
]


def test_agreement_krippendorff_worked_example() -> None:
    assert krippendorff_alpha_nominal(K2011) == pytest.approx(0.743, abs=5e-4)


def test_agreement_kappa_matches_sklearn_example() -> None:
    a = ["x", "y", "y", "x", "z", "z", "x", "y"]
    b = ["x", "y", "x", "x", "z", "y", "x", "y"]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    assert percent_agreement(list(zip(a, b))) == pytest.approx(6 / 8)


_cell = st.one_of(st.none(), st.integers(min_value=0, max_value=3))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=2, max_size=25))
def test_agreement_alpha_equals_krippendorff_package(matrix: list[list[int | None]]) -> None:
    ours = krippendorff_alpha_nominal(matrix)
    data = np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float).T
    pairable = sum(1 for r in matrix if sum(v is not None for v in r) >= 2)
    values = {v for r in matrix for v in r if v is not None}
    if pairable == 0 or len(values) < 2:
        return  # the package raises where alpha is undefined; ours returns nan or 1
    theirs = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    if math.isnan(theirs):
        assert math.isnan(ours)
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=2, max_size=40))
def test_agreement_kappa_equals_sklearn(pairs: list[tuple[int, int]]) -> None:
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    theirs = cohen_kappa_score(a, b)
    ours = cohen_kappa(a, b)
    if math.isnan(theirs):
        assert math.isnan(ours) or ours == 1.0
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


def test_agreement_matrix_cli_json(tmp_path: Path) -> None:
    p = tmp_path / "m.csv"
    rows = ["A,B,C,D"] + [",".join("" if v is None else str(v) for v in r) for r in K2011]
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out, _ = run_cli("agreement", "--matrix", str(p), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["krippendorff_alpha_nominal"] == pytest.approx(0.743, abs=5e-4)
    assert "cohen_kappa" not in data and data["percent_agreement"] is not None
    two = tmp_path / "two.csv"
    two.write_text("ann,bob\nja,ja\nnein,ja\nja,ja\n,nein\nnein,nein\n", encoding="utf-8")
    code, out, _ = run_cli("agreement", "--matrix", str(two), "--json")
    data = json.loads(out)
    assert data["cohen_kappa"] == pytest.approx(cohen_kappa_score(["ja", "nein", "ja", "nein"],
                                                                 ["ja", "ja", "ja", "nein"]))
    assert data == matrix_statistics([["ja", "ja"], ["nein", "ja"], ["ja", "ja"], [None, "nein"],
                                      ["nein", "nein"]], ["ann", "bob"])


@pytest.fixture
def two_coders(tiny_project: Project) -> Project:
    """A1 respondent turns u1, u3; B2 respondent turns u1, u2.
    Coder a: A1u1 Bildung, A1u3 Wohnen, B2u1 Wohnen.   Coder b: A1u1 Bildung, A1u3 Bildung, B2u2 Wohnen
    (b's A1u1 span covers only 60 % of a's)."""
    ingest(tiny_project)
    s = tiny_project.store
    ua = s.units("A1").set_index("idx")
    ub = s.units("B2").set_index("idx")

    def span(u: object, i: int) -> tuple[int, int]:
        return int(u.loc[i, "start"]), int(u.loc[i, "end"])  # type: ignore[attr-defined]

    a1u1, a1u3, b2u1, b2u2 = span(ua, 1), span(ua, 3), span(ub, 1), span(ub, 2)
    s.add_coding("A1", *a1u1, "Frühkindliche Bildung", coder="a")
    s.add_coding("A1", *a1u3, "Wohnraum und Wohnungsmarkt", coder="a")
    s.add_coding("B2", *b2u1, "Mobilität und ÖPNV", coder="a")
    short = a1u1[0] + int((a1u1[1] - a1u1[0]) * 0.6)
    s.add_coding("A1", a1u1[0], short, "Sprachkurse für Erwachsene", coder="b")
    s.add_coding("A1", *a1u3, "Bildung und Sprache", coder="b")
    s.add_coding("B2", *b2u2, "Wohnraum und Wohnungsmarkt", coder="b")
    return tiny_project


def test_agreement_unit_level_by_hand(two_coders: Project) -> None:
    res = agreement(two_coders, coders=["a", "b"], level="unit")
    pc = res.per_code.set_index("code")
    # 4 units; Bildung: a {A1u1}, b {A1u1, A1u3} -> agree on 3 of 4
    assert pc.loc["Bildung und Sprache", "n"] == 4
    assert pc.loc["Bildung und Sprache", "agreements"] == 3
    assert pc.loc["Bildung und Sprache", "percent_agreement"] == pytest.approx(0.75)
    assert pc.loc["Bildung und Sprache", "cohen_kappa"] == pytest.approx(cohen_kappa_score([1, 0, 0, 0],
                                                                                         [1, 1, 0, 0]))
    # Wohnen: a {A1u3, B2u1}, b {B2u2} -> agree only on A1u1
    assert pc.loc["Wohnen und Mobilität", "agreements"] == 1
    assert set(res.disagreements.unit_id) == {int(two_coders.store.units("A1").id[3]),
                                             int(two_coders.store.units("B2").id[1]),
                                             int(two_coders.store.units("B2").id[2])}


def test_agreement_reads_the_unit_table_it_is_given(two_coders: Project) -> None:
    """A report passes the unit table it holds: the same result as the one read from the store, and the
    disagreements show the text of the table given (the table is read, not the store again)."""
    from qualkit.units import unit_table
    units = unit_table(two_coders)
    for level in ("unit", "document"):
        own, given_ = agreement(two_coders, coders=["a", "b"], level=level), \
            agreement(two_coders, coders=["a", "b"], level=level, units=units)
        assert own.per_code.equals(given_.per_code) and own.disagreements.equals(given_.disagreements)
    marked = units.assign(text="(markiert) " + units.text)
    res = agreement(two_coders, coders=["a", "b"], level="unit", units=marked)
    assert len(res.disagreements) == 3 and res.disagreements.text.str.startswith("(markiert) ").all()


def test_agreement_document_level_by_hand(two_coders: Project) -> None:
    res = agreement(two_coders, coders=["a", "b"], level="document")
    pc = res.per_code.set_index("code")
    assert pc.loc["Bildung und Sprache", "agreements"] == 2  # A1 both yes, B2 both no
    assert pc.loc["Wohnen und Mobilität", "agreements"] == 1  # A1: a yes, b no; B2 both yes
    assert res.documents == 2


def test_agreement_segment_level_threshold(two_coders: Project) -> None:
    res = agreement(two_coders, coders=["a", "b"], level="segment", threshold=0.9)
    pc = res.per_code.set_index("code")
    # Bildung: a's A1u1 vs b's 60 % span -> no match at 90 %; b's A1u3 has no partner: 0 agreements
    assert pc.loc["Bildung und Sprache", "agreements"] == 0
    assert pc.loc["Bildung und Sprache", "disagreements"] == 3
    loose = agreement(two_coders, coders=["a", "b"], level="segment", threshold=0.5).per_code.set_index("code")
    assert loose.loc["Bildung und Sprache", "agreements"] == 2  # the pair matches from both sides


def test_agreement_excel_disagreements(two_coders: Project, tmp_path: Path) -> None:
    import openpyxl
    res = agreement(two_coders, coders=["a", "b"], level="unit")
    res.to_excel(tmp_path / "icr.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "icr.xlsx")
    assert wb.sheetnames == ["Übereinstimmung", "Dissens"]
    assert wb["Dissens"].max_row == len(res.disagreements) + 1


def test_agreement_default_coders_leave_out_accepted_suggestions(two_coders: Project) -> None:
    s = two_coders.store
    u = s.units("B2").set_index("idx")
    cid = s.add_coding("B2", int(u.loc[1, "start"]), int(u.loc[1, "end"]), "Bildung und Sprache",
                       coder="qualkit-autocode", origin="auto", status="pending", score=0.9, explanation="x")
    s.decide(cid, accept=True, coder="a")
    assert agreement(two_coders, level="unit").coders == ["a", "b"]


def test_agreement_cli_xlsx_is_pseudonymised_and_guarded(two_coders: Project, tmp_path: Path) -> None:
    """The disagreement list quotes transcripts: in the workbook a name is replaced by its pseudonym."""
    import zipfile
    add_config(two_coders.root, '[privacy]\ndeny = ["Seiteneinsteigerberatung"]\n')
    out = tmp_path / "icr.xlsx"
    code, _, err = run_cli("agreement", "--project", str(two_coders.root), "--coders", "a", "b", "--level", "unit",
                           "--xlsx", str(out))
    assert code == 0, err
    with zipfile.ZipFile(out) as z:
        text = " ".join(z.read(n).decode("utf-8") for n in z.namelist())
    assert "Seiteneinsteigerberatung" not in text and "[Person" in text


def _segment_by_hand(codings: list[tuple[str, str, str, int, int]], coders: list[str], threshold: float
                     ) -> tuple[dict[str, int], dict[str, int]]:
    """Segment agreement from its definition, pair by pair: a coding agrees if another coder's coding of the same
    code in the same document overlaps it with intersection over union ≥ threshold."""
    agree: dict[str, int] = {}
    disagree: dict[str, int] = {}
    for c in coders:
        for coder, doc, code, s, e in codings:
            if coder != c:
                continue
            hit = False
            for o_coder, o_doc, o_code, os_, oe in codings:
                if o_coder != c and o_coder in coders and (o_doc, o_code) == (doc, code):
                    inter = len(set(range(s, e)) & set(range(os_, oe)))
                    union = len(set(range(s, e)) | set(range(os_, oe)))
                    hit = hit or inter / union >= threshold
            target = agree if hit else disagree
            target[code] = target.get(code, 0) + 1
    return agree, disagree


@pytest.mark.parametrize("threshold", [0.5, 0.9])
def test_agreement_segment_level_equals_its_definition(tiny_project: Project, threshold: float) -> None:
    """Many overlapping codings of two coders (seeded): the segment level counts what the definition, applied
    pair by pair over character sets, counts."""
    import random
    ingest(tiny_project)
    s = tiny_project.store
    rng = random.Random(7)
    codes = ["Bildung und Sprache", "Wohnen und Mobilität"]
    codings = []
    for doc in ("A1", "B2"):
        u = s.units(doc)
        first = u[u.role == "respondent"].iloc[0]  # codings crowd into one turn, so that many overlap
        for _ in range(25):
            start = rng.randrange(int(first.start), int(first.end) - 1)
            end = min(int(first.end), start + rng.randrange(1, 30))
            coder, code = rng.choice(["a", "b"]), rng.choice(codes)
            if codings and codings[-1][1] == doc and rng.random() < 0.4:  # the other coder, about the same span
                last = codings[-1]
                coder, code = "b" if last[0] == "a" else "a", last[2]
                start, end = last[3], max(last[3] + 1, last[4] - rng.choice([0, 1, 5]))
            s.add_coding(doc, start, end, code, coder=coder)
            codings.append((coder, doc, code, start, end))
    res = agreement(tiny_project, coders=["a", "b"], level="segment", threshold=threshold)
    agree, disagree = _segment_by_hand(codings, ["a", "b"], threshold)
    pc = res.per_code.set_index("code")
    for code in codes:
        assert (pc.loc[code, "agreements"], pc.loc[code, "disagreements"]) == (agree.get(code, 0),
                                                                                disagree.get(code, 0))
    assert sum(agree.values()) > 0 and sum(disagree.values()) > 0  # both outcomes occur
    assert len(res.disagreements) == sum(disagree.values())
    # each disagreement shows its coding's quote (read for the disagreements only)
    quotes = {r["quote"] for r in s.query("SELECT quote FROM codings")}
    assert set(res.disagreements.text) <= quotes and res.disagreements.text.str.len().gt(0).all()


def test_agreement_reads_only_the_documents_its_coders_share(two_coders: Project) -> None:
    """Named coders: the labels read are theirs, of the documents all of them coded (the rest of the store is
    not read), and the agreement is the one computed over every label."""
    from qualkit.units import unit_labels
    s = two_coders.store
    s.add_coding("S1-F1", 0, 16, "Bildung und Sprache", coder="a")  # a document only a coded
    s.add_coding("S1-F1", 0, 16, "Bildung und Sprache", coder="c")  # a third coder
    full = unit_labels(two_coders, rule="all")
    shared = unit_labels(two_coders, coders=["a", "b"], rule="all", coded_by_all=["a", "b"])
    assert "S1-F1" in set(full.document_id) and set(shared.document_id) == {"A1", "B2"}
    expected = full[full.coder.isin(["a", "b"]) & full.document_id.isin(["A1", "B2"])].reset_index(drop=True)
    assert shared.reset_index(drop=True).equals(expected)
    for level in ("document", "unit", "segment"):
        assert agreement(two_coders, coders=["a", "b"], level=level).documents == 2
        assert agreement(two_coders, coders=["a", "b", "c"], level=level).documents == 0  # no document of all three
    assert agreement(two_coders, coders=["a", "b"], level="unit").per_code.equals(
        _unit_level_over_every_label(two_coders))


def _unit_level_over_every_label(project: Project) -> object:
    """The unit level computed as it was before it read the named coders' shared documents only."""
    from unittest import mock

    from qualkit import agreement as mod
    real = mod.unit_labels

    def every(p: Project, **kw: object) -> object:  # ignore the restriction: read every label, as before
        kw.pop("coded_by_all", None)
        kw.pop("coders", None)
        return real(p, **kw)

    with mock.patch.object(mod, "unit_labels", every):
        return mod.agreement(project, coders=["a", "b"], level="unit").per_code
