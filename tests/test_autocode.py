from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qualkit.autocode import AutoCoder, best_span
from qualkit.codebook import load_codebook
from qualkit.corpus import ingest
from qualkit.errors import CodingError, InputFileError
from qualkit.project import Project
from qualkit.suggestions import autocode_project, autocode_texts, pending_suggestions, read_input_csv
from qualkit.units import unit_labels

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
    scores = model.predict_proba(["Uns fehlen Sprachkursangebote und Kitaplätze."])
    ev = model.explain(["Uns fehlen Sprachkursangebote und Kitaplätze."])[0]["Bildung und Sprache"]
    assert {"Kita", "Sprachkurs"} <= set(ev["indicators"]) and ev["exclusions"] == []
    assert scores[0, list(model.classes_).index("Bildung und Sprache")] >= 0.6
    s = model.suggest(["Uns fehlen Sprachkursangebote und Kitaplätze."])[0]
    assert [x.code for x in s] == ["Bildung und Sprache"] and "Indikatoren" in s[0].explanation


def test_autocode_exclusion_terms_veto() -> None:
    model = _fit("rules")
    ev = model.explain(["Diskriminierung bei Vermietern auf dem Wohnungsmarkt"])[0]["Zusammenleben und Teilhabe"]
    assert "Diskriminierung" in ev["indicators"] and ev["exclusions"]  # Wohnungsmarkt: Wohnen und Mobilität
    codes = [s.code for s in model.suggest(["Diskriminierung bei Vermietern auf dem Wohnungsmarkt"])[0]]
    assert "Zusammenleben und Teilhabe" not in codes and "Wohnen und Mobilität" in codes


def test_autocode_scores_in_unit_interval_and_deterministic() -> None:
    texts = ["Die Kitas haben lange Wartelisten.", "Der Bus fährt selten.", "", "Hello, this is English text.",
             "x" * 20000 + " Kitaplätze fehlen"]
    a, b = _fit(), _fit()
    sa, sb = a.predict_proba(texts), b.predict_proba(texts)
    assert sa.shape == (len(texts), len(CB.primary.codes)) and ((sa >= 0) & (sa <= 1)).all()
    np.testing.assert_array_equal(sa, sb)
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


# -- the scikit-learn contract ---------------------------------------------------------------------
@pytest.mark.parametrize("check", ["check_no_attributes_set_in_init", "check_parameters_default_constructible",
                                   "check_get_params_invariance", "check_set_params", "check_estimator_cloneable",
                                   "check_estimator_repr", "check_estimators_unfitted", "check_mixin_order",
                                   "check_do_not_raise_errors_in_init_or_set_params", "check_valid_tag_types",
                                   "check_estimator_tags_renamed"])
def test_autocode_estimator_checks(check: str) -> None:
    from sklearn.utils import estimator_checks

    from qualkit._features import GermanFeatures
    for est in (AutoCoder(codebook=CB), GermanFeatures(codebook=CB)):
        if check == "check_estimators_unfitted" and isinstance(est, GermanFeatures):
            continue  # a classifier check
        getattr(estimator_checks, check)(type(est).__name__, est)


def test_autocode_fit_contract_clone_and_check_is_fitted() -> None:
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted
    model = AutoCoder(codebook=CB, random_state=1, C=5.0)
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    with pytest.raises(NotFittedError):
        model.predict_proba(["Kitaplätze fehlen."])
    texts = [t for t, _ in TRAIN]
    y = np.array([[c in ls for c in CB.primary.codes] for _, ls in TRAIN], dtype=int)
    assert model.fit(texts, y) is model  # indicator matrix in, self out
    check_is_fitted(model)
    assert list(model.classes_) == list(CB.primary.codes)
    proba = model.predict_proba(texts)
    assert proba.shape == (len(texts), len(CB.primary.codes))
    assert model.predict(texts).shape == proba.shape and set(np.unique(model.predict(texts))) <= {0, 1}
    twin = clone(model)
    assert twin.get_params() == model.get_params() and not hasattr(twin, "classes_")
    with pytest.raises(NotFittedError):
        check_is_fitted(twin)
    np.testing.assert_allclose(twin.fit(texts, [ls for _, ls in TRAIN]).predict_proba(texts), proba)
    bad = AutoCoder(codebook=CB, mode="magic")  # parameters are validated in fit, not in __init__
    with pytest.raises(ValueError, match="mode must be"):
        bad.fit(texts, y)
    with pytest.raises(ValueError, match="threshold"):
        AutoCoder(codebook=CB, threshold=1.5).fit(texts, y)
    with pytest.raises(ValueError, match="y has shape"):
        AutoCoder(codebook=CB).fit(texts, y[:3])


def test_autocode_german_features_inside_a_pipeline() -> None:
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import Pipeline

    from qualkit._features import GermanFeatures
    texts = [t for t, _ in TRAIN]
    y = np.array([[c in ls for c in ("Bildung und Sprache", "Wohnen und Mobilität")] for _, ls in TRAIN], dtype=int)
    pipe = Pipeline([("features", GermanFeatures(codebook=CB, min_df=1)),
                     ("clf", OneVsRestClassifier(LogisticRegression(C=10.0)))])
    pipe.fit(texts, y)
    p = pipe.predict_proba(["Die Kitaplätze und die Sprachkurse fehlen.", "Die Mieten steigen, Wohnungen fehlen."])
    assert p.shape == (2, 2) and p[0, 0] > p[0, 1] and p[1, 1] > p[1, 0]
    x = pipe.named_steps["features"].transform(texts)
    assert x.shape[0] == len(texts) and x.shape[1] == pipe.named_steps["features"].n_features_out_
    np.testing.assert_allclose(clone(pipe).fit(texts, y).predict_proba(texts), pipe.predict_proba(texts))


# -- spans -------------------------------------------------------------------------------------------
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30), st.sampled_from([0.15, 0.3, 0.5]))
def test_autocode_best_span_is_the_best_contiguous_run(scores: list[float], share: float) -> None:
    a, b = best_span(np.array(scores), tau=share)
    assert 0 <= a < b <= len(scores)
    best = int(np.argmax(scores))
    assert a <= best < b  # the best sentence is always inside
    tau = share * max(scores)
    gain = sum(s - tau for s in scores[a:b])
    assert all(sum(s - tau for s in scores[i:j]) <= gain + 1e-9  # no run through the best sentence gains more
               for i in range(best + 1) for j in range(best + 1, len(scores) + 1))


LONG_TURN = ("Also, ähm, bei uns ist vieles im Umbruch, und ich sage das ganz offen. "
             "Die Kitas haben lange Wartelisten, es fehlen Kitaplätze für Kinder. "
             "Die Sprachkurse für die Eltern sind voll, und die Schulen brauchen Lehrer für Deutsch als Zweitsprache. "
             "Das Wetter war übrigens schön, wir haben gegrillt, das war nett. "
             "Ganz anders ist es bei den Wohnungen: Die Mieten steigen und Wohnungen sind knapp. "
             "Vermieter lehnen Familien bei der Wohnungssuche ab, und der Bus fährt am Wochenende nicht. 😀 "
             "Vielen Dank, das wäre es von meiner Seite.")


def test_autocode_span_suggestions_mark_the_sentences_that_carry_the_code() -> None:
    model = _fit()
    plain = model.suggest([LONG_TURN])[0]
    spans = model.suggest([LONG_TURN], spans=True)[0]
    assert [s.code for s in plain] == [s.code for s in spans]
    by_code = {s.code: s for s in spans}
    assert {"Bildung und Sprache", "Wohnen und Mobilität"} <= set(by_code)
    for s in plain:
        assert (s.start, s.end) == (0, len(LONG_TURN))  # without spans: the whole text
    edu, home = by_code["Bildung und Sprache"], by_code["Wohnen und Mobilität"]
    assert "Kitaplätze" in LONG_TURN[edu.start:edu.end] and "Mieten" not in LONG_TURN[edu.start:edu.end]
    assert "Mieten" in LONG_TURN[home.start:home.end] and "Kitas" not in LONG_TURN[home.start:home.end]
    assert 0 < home.end - home.start < len(LONG_TURN) and "Stelle: Sätze" in home.explanation
    assert home.evidence and "Kita" not in home.evidence  # evidence from the span, not from the whole turn
    short = model.suggest(["Die Mieten steigen."], spans=True)[0]
    assert short and (short[0].start, short[0].end) == (0, len("Die Mieten steigen."))


# -- the project side: spans in the store, what to code next, following the coding view ---------------
def _add_doc(p: Project, did: str, text: str) -> None:
    with p.store.transaction() as con:
        con.execute("INSERT INTO cases(id, kind) VALUES (?, 'other')", (did,))
        con.execute("INSERT INTO documents(id, case_id, kind, text, sha256, created_at, updated_at, language) "
                    "VALUES (?,?,?,?,?,?,?,?)", (did, did, "survey", text, "x", "t", "t", "de"))
        con.execute('INSERT INTO units(document_id, idx, start, "end", role) VALUES (?,0,0,?,?)',
                    (did, len(text), "answer"))


def test_autocode_project_stores_span_suggestions_inside_long_turns(tiny_project: Project) -> None:
    p = _coded_project(tiny_project)
    _add_doc(p, "L", LONG_TURN)
    new = autocode_project(p)
    mine = new[new.document_id == "L"].set_index("code")
    assert "Wohnen und Mobilität" in mine.index
    w = mine.loc["Wohnen und Mobilität"]
    assert 0 <= w.start < w.end <= len(LONG_TURN) and w.end - w.start < len(LONG_TURN)
    stored = p.store.coding(int(w.coding_id))
    assert stored["status"] == "pending" and stored["quote"] == LONG_TURN[w.start:w.end] and "Mieten" in stored["quote"]


def test_autocode_next_units_proposes_uncoded_units(tiny_project: Project) -> None:
    from qualkit.suggestions import next_units, propose
    ingest(tiny_project)
    cold = next_units(tiny_project, 3)  # nothing coded: the rules stand in for the model
    assert len(cold) == 3 and cold.unit_id.is_unique and (cold.utility >= 0).all()
    p = _coded_project(tiny_project)
    _add_doc(p, "L", LONG_TURN)
    nxt = next_units(p, 50)
    coded = set(unit_labels(p, rule="all").unit_id)
    assert len(nxt) and not set(nxt.unit_id) & coded
    code, out, err = run_cli("autocode", "--next", "2", "--project", str(p.root))
    assert code == 0, err
    assert len(out.strip().splitlines()) == 2 and nxt.document_id.iloc[0] in out.splitlines()[0]
    # the ordering itself: the most uncertain item first, then diversity wins over a near-duplicate
    from scipy.sparse import csr_matrix
    v = csr_matrix(np.array([[1.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0]]))
    assert propose(np.array([1.0, 0.95, 0.6]), v, 3) == [0, 2, 1]
    assert propose(np.array([1.0, 0.95, 0.6]), v, 3, diversity=0.0) == [0, 1, 2]
    # groups: b (mean utility 0.9) first; then c, unlike b, before a, whose only unit is half of b
    assert propose(np.array([0.2, 0.9, 0.9, 0.1]), v[[0, 0, 1, 2]], 2, groups=["a", "b", "b", "c"]) == [1, 2]


def test_autocode_live_suggestions_follow_new_codings(tiny_project: Project) -> None:
    from qualkit.suggestions import LiveSuggestions
    from qualkit.widgets import CodingView
    p = _coded_project(tiny_project)
    _add_doc(p, "L", LONG_TURN)
    live = LiveSuggestions(p)
    first = live.refresh("L")
    assert len(first) and (first.end - first.start < len(LONG_TURN)).any() and live.last_seconds > 0
    assert live.refresh("L").empty  # nothing changed: nothing new, nothing deleted
    view = CodingView(p, document="L", coder="ab", live_suggestions=True)
    pending = [c for c in view.codings if c["origin"] == "auto" and c["status"] == "pending"]
    assert pending
    i = LONG_TURN.index("Die Kitas")
    view.request = {"action": "code", "start": i, "end": i + 30, "code": "Bildung und Sprache"}
    # the unit is now coded by a person: its pending suggestions are withdrawn at once, logged
    assert not [c for c in view.codings if c["origin"] == "auto" and c["status"] == "pending"]
    assert "delete" in set(p.store.log().action)
    view.suggest_next(2)
    assert len(view.next_units) == 2 and {"document", "start", "end", "utility", "text"} <= set(view.next_units[0])


def test_autocode_live_suggestions_learn_from_codings_in_the_view(tiny_project: Project) -> None:
    """Suggestions follow the coding with no command run: after three codings in the coding view, the
    document's later answers, which share their words but no indicator term, are suggested that code."""
    from qualkit.widgets import CodingView
    p = _coded_project(tiny_project)
    answers = [f"Der Glockenturm und der Nachtwächter {w} am Marktbrunnen." for w in
               ("treffen sich", "warten", "singen", "stehen", "reden", "lachen")]
    text = " ".join(answers)
    with p.store.transaction() as con:
        con.execute("INSERT INTO cases(id, kind) VALUES ('N', 'other')")
        con.execute("INSERT INTO documents(id, case_id, kind, text, sha256, created_at, updated_at, language) "
                    "VALUES ('N','N','survey',?,'x','t','t','de')", (text,))
        start = 0
        for i, a in enumerate(answers):
            con.execute('INSERT INTO units(document_id, idx, start, "end", role) VALUES (?,?,?,?,?)',
                        ("N", i, start, start + len(a), "answer"))
            start += len(a) + 1
    code = "Gesundheit und Sport"

    def suggested() -> set[int]:
        units = p.store.units("N")
        return {int(u.idx) for u in units.itertuples() for c in view.codings
                if c["origin"] == "auto" and c["status"] == "pending" and c["code"] == code
                and u.start <= c["start"] < u.end}

    view = CodingView(p, document="N", coder="ref", live_suggestions=True)
    before = p.store.frame("SELECT count(*) AS n FROM codings WHERE origin='auto'").n.iloc[0]
    units = p.store.units("N")
    for u in units.head(3).itertuples():
        view.request = {"action": "code", "start": int(u.start), "end": int(u.end), "code": code}
    assert view._live.last_seconds > 0
    assert {3, 4, 5} <= suggested()  # learnt from the three codings: the later answers are suggested the code
    assert not suggested() & {0, 1, 2}  # the coded answers get no suggestion
    assert p.store.frame("SELECT count(*) AS n FROM codings WHERE origin='auto'").n.iloc[0] > before
    # the last coding gave one code a positive example (refitted at once) and the others a negative one
    # (refitted a few per refresh): never every code after one coding
    live = view._live
    assert code in live.last_refitted and len(live.last_refitted) <= 1 + live.lazy_per_refresh
    assert set(live.stale) and not set(live.stale) & set(live.last_refitted)


def test_autocode_unit_matrix_is_fitted_once_and_kept_private(tiny_project: Project) -> None:
    """New codings retrain the models on the project's matrix; the vocabulary is fitted once and saved 0600."""
    from qualkit import suggestions
    from qualkit.suggestions import load_or_train, unit_matrix
    p = _coded_project(tiny_project)
    first = load_or_train(p)
    path = p.state_dir / "models" / "features.joblib"
    assert path.exists() and path.stat().st_mode & 0o077 == 0
    u = p.store.units("B2")
    r = u[u.role == "respondent"].iloc[0]
    p.store.add_coding("B2", int(r.start), int(r.end), "Gesundheit und Sport", coder="ref")
    second = load_or_train(p)
    assert second is not first and second.features_ is first.features_  # models refitted, features kept
    suggestions._MATRICES.clear()  # a new session: the matrix comes from disk, the same vocabulary
    again = unit_matrix(p, second)
    assert again.features is not first.features_
    assert again.features.term_vectorizer_.vocabulary_ == first.features_.term_vectorizer_.vocabulary_
    texts = ["Die Mieten steigen.", "Kitaplätze fehlen."]
    np.testing.assert_allclose(AutoCoder.predict_proba(load_or_train(p), texts), second.predict_proba(texts))


def test_autocode_refit_plan_refits_new_positives_at_once_and_negatives_a_few_at_a_time() -> None:
    from qualkit.suggestions import _examples, _refit_plan
    labels = ["a", "b", "c", "d"]
    y = np.array([[1, 0, 0, 0], [0, 1, 0, 0]])
    before = _examples(np.array([0, 1]), y, labels)
    assert _refit_plan(before, before, labels, 2) == ([], [])  # nothing changed, nothing refitted
    # a new unit coded "c": c gains a positive, a, b and d a negative
    now = _examples(np.array([0, 1, 2]), np.vstack([y, [0, 0, 1, 0]]), labels)
    assert _refit_plan(before, now, labels, 2) == (["a", "b", "c"], ["d"])
    assert _refit_plan(before, now, labels, 0) == (["c"], ["a", "b", "d"])


@pytest.mark.slow
def test_autocode_partitioned_suggestions_equal_one_piece(tiny_project: Project) -> None:
    """Scoring in batches on 2 processes gives exactly the suggestions of one call, in order; and
    `qualkit autocode --jobs 2` stores what a plain run stores (its three units fit one batch)."""
    from qualkit.suggestions import suggest_partitioned
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
