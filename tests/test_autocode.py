from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from qualkit.autocode import AutoCoder, autocode_project, autocode_texts, pending_suggestions, read_input_csv
from qualkit.codebook import load_codebook
from qualkit.corpus import ingest
from qualkit.errors import CodingError, InputFileError
from qualkit.project import Project

from .conftest import REPO, run_cli

CB = load_codebook(REPO / "codebooks/handlungsfelder.yaml")

TRAIN = [
    ("Es fehlen Kitaplätze, die Wartelisten in den Kitas sind lang.", {"Bildung und Sprache"}),
    ("Die Sprachkurse sind voll, Integrationskurse haben Wartezeiten.", {"Bildung und Sprache"}),
    ("Seiteneinsteiger warten monatelang auf einen Schulplatz.", {"Bildung und Sprache"}),
    ("Die Schulen brauchen mehr Lehrer für Deutsch als Zweitsprache.", {"Bildung und Sprache"}),
    ("Eltern kommen ins Elterncafé der Grundschule.", {"Bildung und Sprache"}),
    ("Wohnungen sind knapp und die Mieten steigen.", {"Wohnen und Mobilität"}),
    ("Vermieter lehnen Familien mit ausländischen Namen bei der Wohnungssuche ab.", {"Wohnen und Mobilität"}),
    ("Der Bus fährt am Wochenende nicht, die Ortsteile sind schlecht angebunden.", {"Wohnen und Mobilität"}),
    ("In der Unterkunft leben zu viele Menschen auf engem Raum.", {"Wohnen und Mobilität"}),
    ("Die Quartiere mit Schrottimmobilien brauchen Quartiersmanagement.", {"Wohnen und Mobilität"}),
    ("Die Sportvereine bieten Schwimmkurse für Kinder an.", {"Gesundheit und Sport"}),
    ("Es gibt zu wenige Therapieplätze für traumatisierte Geflüchtete.", {"Gesundheit und Sport"}),
    ("Ohne Krankenversicherung gehen viele nicht zum Arzt.", {"Gesundheit und Sport"}),
    ("Die Pflege älterer Migranten braucht kultursensible Pflegedienste.", {"Gesundheit und Sport"}),
    ("Beim Fußballtraining im Verein lernen die Jungs schnell Deutsch.", {"Gesundheit und Sport", "Bildung und Sprache"}),
    ("Das Wetter war schön und wir haben gegrillt.", set()),
    ("Vielen Dank für das Gespräch.", set()),
    ("Das weiß ich nicht genau, da müssten Sie jemand anderen fragen.", set()),
]


def _fit(mode: str = "combined") -> AutoCoder:
    return AutoCoder(codebook=CB, mode=mode, random_state=1).fit([t for t, _ in TRAIN], [ls for _, ls in TRAIN])


def test_autocode_rules_match_lemmas_and_compound_parts() -> None:
    model = _fit("rules")
    scores, matches = model.predict_proba(["Uns fehlen Sprachkursangebote und Kitaplätze."])
    hits, excl = matches[0]["Bildung und Sprache"]
    assert {"Kita", "Sprachkurs"} <= set(hits) and excl == []
    assert scores.loc[0, "Bildung und Sprache"] >= 0.6
    s = model.suggest(["Uns fehlen Sprachkursangebote und Kitaplätze."])[0]
    assert [x.code for x in s] == ["Bildung und Sprache"] and "Indikatoren" in s[0].explanation


def test_autocode_exclusion_terms_veto() -> None:
    model = _fit("rules")
    _, m = model.predict_proba(["Diskriminierung bei Vermietern auf dem Wohnungsmarkt"])
    hits, excl = m[0]["Zusammenleben und Teilhabe"]
    assert "Diskriminierung" in hits and excl  # Wohnungsmarkt sends it to Wohnen und Mobilität
    codes = [s.code for s in model.suggest(["Diskriminierung bei Vermietern auf dem Wohnungsmarkt"])[0]]
    assert "Zusammenleben und Teilhabe" not in codes and "Wohnen und Mobilität" in codes


def test_autocode_scores_in_unit_interval_and_deterministic() -> None:
    texts = ["Die Kitas haben lange Wartelisten.", "Der Bus fährt selten.", "", "Hello, this is English text.",
             "x" * 20000 + " Kitaplätze fehlen"]
    a, b = _fit(), _fit()
    sa, sb = a.predict_proba(texts)[0], b.predict_proba(texts)[0]
    assert ((sa >= 0) & (sa <= 1)).all().all()
    pd.testing.assert_frame_equal(sa, sb)
    assert a.suggest(texts) == b.suggest(texts)
    assert a.suggest([""]) == [[]]


def _coded_project(p: Project) -> Project:
    ingest(p)
    s = p.store
    for doc, code in (("A1", "Frühkindliche Bildung"), ("B2", "Mobilität und ÖPNV")):
        u = s.units(doc)
        for r in u[u.role == "respondent"].itertuples():
            s.add_coding(doc, int(r.start), int(r.end), code, coder="ref")
    with s.transaction() as con:  # more training material as survey-like documents
        for i, (text, labels) in enumerate(TRAIN):
            did = f"T{i}"
            con.execute("INSERT INTO cases(id, kind) VALUES (?, 'other')", (did,))
            con.execute("INSERT INTO documents(id, case_id, kind, text, sha256, created_at, updated_at, language) "
                        "VALUES (?,?,?,?,?,?,?,?)", (did, did, "survey", text, "x", "t", "t", "de"))
            con.execute('INSERT INTO units(document_id, idx, start, "end", role) VALUES (?,0,0,?,?)',
                        (did, len(text), "answer"))
            for lab in labels or {"Bedarf/Lücke"}:
                s.add_coding(did, 0, len(text), lab, coder="ref", con=con)
    return p


def test_autocode_project_suggests_only_uncoded_and_never_touches_human(tiny_project: Project) -> None:
    p = _coded_project(tiny_project)
    human_before = p.store.codings()
    new = autocode_project(p)
    assert set(new.document_id) <= {"S1-F1", "S2-F1", "S2-F2"}  # the only uncoded units
    assert (new.score.between(0, 1)).all() and new.explanation.str.len().gt(0).all()
    after = p.store.codings()
    cols = ["id", "document_id", "start", "end", "code", "coder", "origin", "status", "quote", "memo", "updated_at"]
    pd.testing.assert_frame_equal(after[after.origin != "auto"][cols].reset_index(drop=True), human_before[cols])
    assert autocode_project(p).empty  # nothing suggested twice
    pend = pending_suggestions(p)
    if len(pend):
        cid = int(pend.id.iloc[0])
        code, _out, _ = run_cli("review", "--project", str(p.root), "--reject", str(cid), "--coder", "zoe")
        assert code == 0 and p.store.coding(cid)["status"] == "rejected"
        assert p.store.coding(cid)["decided_by"] == "zoe"
        assert autocode_project(p).empty  # a rejected suggestion is not made again
    human_id = int(human_before.id.iloc[0])
    with pytest.raises(CodingError):
        p.store.decide(human_id, accept=False, coder="zoe")
    assert (p.state_dir / "models/autocode.json").exists()


def test_autocode_cli_contract(tiny_project: Project, tmp_path: Path) -> None:
    p = _coded_project(tiny_project)
    inp = tmp_path / "in.csv"
    pd.DataFrame({"id": ["a", "b", "c", "d"], "text": [
        "Es fehlen Kitaplätze und Sprachkurse für Eltern.", "", "The weather is nice today.",
        "Die Busse fahren in Lembeck am Wochenende nicht."]}).to_csv(inp, index=False)
    out = tmp_path / "out.csv"
    code, _stdout, err = run_cli("autocode", str(inp), "--out", str(out), "--project", str(p.root))
    assert code == 0, err
    res = pd.read_csv(out, dtype={"id": str})
    assert list(res.columns) == ["id", "code", "score"]
    assert set(res.code) <= set(CB.primary.codes)
    assert "Bildung und Sprache" in set(res[res.id == "a"].code)
    assert not set(res.id) & {"b", "c"}  # empty and English texts get no row
    again = tmp_path / "again.csv"
    run_cli("autocode", str(inp), "--out", str(again), "--project", str(p.root))
    assert again.read_text() == out.read_text()


def test_autocode_bad_input_csv(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("id,body\n1,hallo\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="missing column"):
        read_input_csv(p)
    p.write_bytes("id,text\n1,Grüße\n".encode("cp1252"))
    with pytest.raises(InputFileError, match="not UTF-8") as exc:
        read_input_csv(p)
    assert exc.value.line == 2
    code, _, _err = run_cli("autocode", str(p), "--out", str(tmp_path / "o.csv"), "--project", str(tmp_path))
    assert code == 1
    assert autocode_texts  # imported for the contract


def test_review_decision_changes_only_with_force(tiny_project: Project) -> None:
    ingest(tiny_project)
    s = tiny_project.store
    text = s.document_text("S1-F1")
    cid = s.add_coding("S1-F1", 0, len(text), "Bildung und Sprache", coder="qualkit-autocode", origin="auto",
                       status="pending", score=0.8, explanation="Indikatoren: Kita")
    code, out, _ = run_cli("review", "--project", str(tiny_project.root), "--accept", str(cid), "--coder", "ab")
    assert code == 0 and "accepted" in out
    code, _, err = run_cli("review", "--project", str(tiny_project.root), "--reject", str(cid), "--coder", "cd")
    assert code != 0 and "already accepted by ab" in err and "--force" in err
    assert s.coding(cid)["status"] == "accepted" and s.coding(cid)["decided_by"] == "ab"
    code, _, _ = run_cli("review", "--project", str(tiny_project.root), "--reject", str(cid), "--coder", "cd",
                         "--force")
    assert code == 0 and s.coding(cid)["status"] == "rejected" and s.coding(cid)["decided_by"] == "cd"
    assert list(s.log().action)[-2:] == ["accept", "reject"]


@pytest.mark.slow
def test_autocode_partitioned_suggestions_equal_one_piece(tiny_project: Project) -> None:
    """Scoring in batches on 2 processes gives exactly the suggestions of one call, in order; and
    `qualkit autocode --jobs 2` stores what a plain run stores (its three units fit one batch)."""
    from qualkit.autocode import suggest_partitioned
    model = _fit()
    texts = [t for t, _ in TRAIN] + ["Die Kitas haben lange Wartelisten.", "", "Der Bus fährt selten."]
    assert suggest_partitioned(model, texts, jobs=2, batch=4) == model.suggest(texts)
    p = _coded_project(tiny_project)
    code, _out, err = run_cli("autocode", "--project", str(p.root), "--jobs", "2")
    assert code == 0, err
    parallel = pending_suggestions(p)[["document_id", "code", "score", "explanation"]]
    with p.store.transaction() as con:
        con.execute("DELETE FROM codings WHERE origin='auto'")
    serial = autocode_project(p)
    assert len(parallel) == len(serial) > 0
    pd.testing.assert_frame_equal(parallel.sort_values(["document_id", "code"]).reset_index(drop=True),
                                  serial[["document_id", "code", "score", "explanation"]]
                                  .sort_values(["document_id", "code"]).reset_index(drop=True))
