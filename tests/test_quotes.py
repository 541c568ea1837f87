from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualkit.chapters import ReportData, ReportSettings
from qualkit.corpus import ingest
from qualkit.project import Project, open_project
from qualkit.quotes import coded_excerpt, decide

from .conftest import add_config, run_cli, write_project

FIELD = "Bildung und Sprache"
SUB = "Schule und Seiteneinstieg"

# five interviewees of one Funktionsgruppe (k = 3 holds); each speaks one long turn
TURNS = {
    "C1": ("Guten Tag. Ich bin Bürgermeisterin der Stadt Gladbeck, in der zweiten Amtszeit jetzt. "
           "Die Schulen haben zu wenige Plätze für Seiteneinsteiger, viele Kinder warten monatelang. "
           "Das Wetter war übrigens schön."),
    "C2": ("Zuerst etwas zum Verkehr, der Bus fährt selten. Die Schulen haben zu wenige Plätze für "
           "Seiteneinsteiger, die Kinder warten sehr lange. Danach kommt noch etwas anderes."),
    "C3": ("Wir sind eine Stadt mit sechzigtausend Einwohnern. In den Schulen fehlen Lehrkräfte für die "
           "Seiteneinsteiger, das merken alle Eltern sofort."),
    "C4": ("Die Schulen haben zu wenige Plätze für Seiteneinsteiger, die Familien warten oft ein halbes Jahr "
           "darauf. Wir als Kreissportbund helfen mit Sportangeboten am Nachmittag."),
    "C5": "Ja.",
}


def _project(root: Path) -> Project:
    write_project(root, survey=False)
    meta = "id,Kommune,Funktion,Funktionsgruppe\n" + "".join(
        f"{c},{'Gladbeck' if c in ('C1', 'C2') else 'Marl'},Leitung,Verwaltung\n" for c in TURNS)
    (root / "transcripts/interviews.csv").write_text(meta, encoding="utf-8")
    for f in ("A1.txt", "B2.txt"):
        (root / "transcripts/interviews" / f).unlink()
    for c, turn in TURNS.items():
        (root / f"transcripts/interviews/{c}.txt").write_text(f"I: Wie ist die Lage?\n\nB: {turn}\n", encoding="utf-8")
    add_config(root, '[privacy]\nunique_organisations = ["Kreissportbund"]\n'
                     '[privacy.places]\n"Gladbeck" = ["Brauck"]\n"Marl" = ["Hüls"]\n')
    project = open_project(root)
    ingest(project)
    for c, turn in TURNS.items():
        text = project.store.document_text(c)
        s = text.index(turn)
        # code the sentence about schools only (C5: the whole short turn)
        i = turn.find("Schulen")
        a = s + (turn.rfind(". ", 0, i) + 2 if i > 0 and turn.rfind(". ", 0, i) >= 0 else 0)
        e = s + (turn.find(".", i) + 1 if i >= 0 else len(turn))
        project.store.add_coding(c, a, e, SUB, coder="ab")
        project.store.add_coding(c, a, e, "Bedarf/Lücke", coder="ab")
    return project


@pytest.fixture
def quote_project(tmp_path: Path) -> Project:
    return _project(tmp_path / "q")


def _data(project: Project, **kw: object) -> ReportData:
    return ReportData(project, ReportSettings.from_project(project, **kw))


@pytest.mark.parametrize(("start", "end", "expected"), [
    (0, 5, "Erste Aussage hier. …"),                       # first sentence: no leading mark
    (25, 30, "… Zweite Aussage über Öfen. …"),             # a word in the middle: the whole sentence
    (22, 60, "… Zweite Aussage über Öfen. Dritte Aussage zum Schluss."),
])
def test_quotes_coded_excerpt_extends_to_sentences(start: int, end: int, expected: str) -> None:
    text = "Erste Aussage hier. Zweite Aussage über Öfen. Dritte Aussage zum Schluss."
    s, e, excerpt = coded_excerpt(text, start, end)
    assert excerpt == expected
    assert excerpt.strip("… ") == text[s:e]


def test_quotes_coded_excerpt_cuts_long_span_at_sentences() -> None:
    text = " ".join(f"Satz {i} handelt von {'Kitas' if i == 7 else 'Wetter'} und mehr." for i in range(12))
    s, e, excerpt = coded_excerpt(text, 0, len(text), max_chars=80, terms=["Kita"])
    assert excerpt.startswith("… Satz 7 handelt von Kitas") and excerpt.endswith(" …")
    assert len(text[s:e]) <= 80


def test_quotes_coded_excerpt_avoids_the_terms_of_other_topics() -> None:
    text = ("Zuerst die Schule, die Kita ist voll. Die Schule hat keine Plätze. Dann die Arbeit im Betrieb. "
            "Und die Nachbarn treffen sich nie.")
    # the window of the sentences without the avoided terms, though none holds a term sought
    _s, _e, excerpt = coded_excerpt(text, 0, len(text), max_chars=40, terms=["Begegnung"],
                                    avoid=["Schule", "Kita", "Arbeit", "Betrieb"])
    assert excerpt == "… Und die Nachbarn treffen sich nie."
    # every window holds an avoided term: the earliest of those with the fewest, not the first
    _s, _e, excerpt = coded_excerpt(text, 0, len(text), max_chars=40, avoid=["Schule", "Kita", "Nachbar", "Arbeit"])
    assert excerpt == "… Die Schule hat keine Plätze. …"
    # terms sought outweigh nothing: as before, the first window
    assert coded_excerpt(text, 0, len(text), max_chars=40)[2] == "Zuerst die Schule, die Kita ist voll. …"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="abcäöü ", min_size=1, max_size=15), min_size=1, max_size=6),
       st.integers(0, 200), st.integers(1, 60))
def test_quotes_coded_excerpt_covers_the_coded_span(words: list[str], a: int, n: int) -> None:
    text = ". ".join(w.strip() or "x" for w in words) + "."
    start = min(a, len(text) - 1)
    end = min(len(text), start + n)
    s, e, excerpt = coded_excerpt(text, start, end, max_chars=10_000)
    if text[start:end].strip():  # whole sentences around the span
        assert s <= start + len(text[start:end]) - len(text[start:end].lstrip()) and e >= end - 1
    assert text[s:e] in excerpt


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(["Schule", "Kita", "Wohnung", "Arbeit", "Nachbar", "Wetter", "und", "heute"]),
                min_size=1, max_size=40),
       st.lists(st.sampled_from(["Schule", "Kita", "Wohnung", "Arbeit", "Nachbar"]), max_size=3),
       st.lists(st.sampled_from(["Schule", "Kita", "Wohnung", "Arbeit", "Nachbar"]), max_size=3),
       st.integers(0, 60), st.integers(1, 400), st.integers(40, 120))
def test_quotes_coded_excerpt_window_stays_inside_the_span(words: list[str], terms: list[str], avoid: list[str],
                                                           a: int, n: int, max_chars: int) -> None:
    # sentences of one to four words: a window of whole sentences inside the coded span, at most max_chars long
    text = " ".join(" ".join(words[i:i + 4]) + "." for i in range(0, len(words), 4))
    start = min(a, len(text) - 1)
    end = min(len(text), start + n)
    s, e, excerpt = coded_excerpt(text, start, end, max_chars=max_chars, terms=terms, avoid=avoid)
    plain = coded_excerpt(text, start, end, max_chars=max_chars)
    assert text[s:e] in excerpt and e - s <= max(max_chars, len(plain[2]))
    sentences = [(m.start(), m.end()) for m in re.finditer(r"[^.]+\.", text)]
    inside = [(x, y) for x, y in sentences if x < end and start < y]
    if inside and text[start:end].strip(" ."):
        assert s >= inside[0][0] and e <= inside[-1][1]  # never a sentence outside the coded span
    if not terms and not avoid:
        assert (s, e, excerpt) == plain


def test_quotes_show_the_coded_part_not_the_start_of_the_turn(quote_project: Project) -> None:
    data = _data(quote_project)
    data.begin_chapter(FIELD)
    units = data.units_with([FIELD])
    texts = [b.text for b in data.quotes(units, 5, codes=[FIELD])]
    assert texts and all("Schulen" in t for t in texts)
    assert not any(t.startswith("Zuerst etwas zum Verkehr") for t in texts)
    assert any(t.startswith("… Die Schulen haben zu wenige Plätze") for t in texts)


def test_quotes_guard_masks_self_descriptions_organisations_and_population(quote_project: Project) -> None:
    data = _data(quote_project)
    picker = data.quote_picker
    by_doc = data.units.set_index("document_id")
    q1 = picker.candidate(int(by_doc.loc["C1", "unit_id"]), max_chars=1000)
    whole = quote_project.store.document_text("C1")
    s = whole.index("Guten Tag")
    quote_project.store.add_coding("C1", s, s + len(TURNS["C1"]), FIELD, coder="ab")
    q1 = _data(quote_project).quote_picker.candidate(int(by_doc.loc["C1", "unit_id"]), codes=[FIELD], max_chars=1000)
    assert q1 is not None
    assert "Bürgermeisterin" not in q1.text and "Amtszeit" not in q1.text and "Gladbeck" not in q1.text
    assert "[…]" in q1.text and "Seiteneinsteiger" in q1.text
    assert any(w.startswith("Selbstbeschreibung") for w in q1.warnings)
    g = data.guard
    text, found = g.clean_quote("Wir sind eine Stadt mit sechzigtausend Einwohnern, und die Schulen sind voll, "
                                "das ist seit Jahren so.", kind="survey")
    assert text is not None and "sechzigtausend" not in text and "[Zahl] Einwohnern" in text
    text, found = g.clean_quote("Wir als Kreissportbund machen Sportangebote für alle Kinder am Nachmittag.")
    assert text is not None and "Kreissportbund" not in text and "[eigene Organisation]" in text
    assert [f.kind for f in found] == ["Organisation"]
    text, _ = g.clean_quote("Ich bin Bürgermeisterin hier.")
    assert text is None  # nothing is left to quote


def test_quotes_theme_labels_and_headings_drop_places(quote_project: Project) -> None:
    g = _data(quote_project).guard
    assert g.clean_label("Moscheegemeinde · Marl · treffen") == "Moscheegemeinde · treffen"
    assert g.clean_label("Gladbecker · Schule") == "Schule"
    assert g.clean_label("Brauck · Hüls") == "(ohne Ortsangabe)"


def test_quotes_no_unit_twice_in_a_chapter_and_duplicates_once(quote_project: Project) -> None:
    data = _data(quote_project)
    data.begin_chapter(FIELD)
    units = data.units_with([FIELD])
    first = data.quotes(units, 5, codes=[FIELD])
    again = data.quotes(units, 5, codes=[FIELD])
    assert first and again == []  # every unit was used in this chapter already
    data.begin_chapter("next")
    assert [b.text for b in data.quotes(units, 5, codes=[FIELD])] == [b.text for b in first]


def test_quotes_one_quote_per_identical_answer(tiny_project: Project) -> None:
    # two respondents submitted the same answer: it is quoted once
    csv = tiny_project.root / "transcripts/survey/export.csv"
    answer = "Es fehlen Kitaplätze und Sprachkurse mit Kinderbetreuung für die Eltern im Stadtteil."
    csv.write_text("id,submitdate,Kommune,OrgTyp,F1,F2\n" + "".join(
        f"{i},2021-11-20 10:00:00,Marl,Kita,{answer},k.A.\n" for i in (1, 2)), encoding="utf-8")
    ingest(tiny_project)
    for doc in ("S1-F1", "S2-F1"):
        tiny_project.store.add_coding(doc, 0, len(answer), FIELD, coder="ab")
    data = _data(tiny_project)
    data.begin_chapter("Befragung")
    picked = data.quotes(data.units[data.units.kind == "survey"], 3)
    assert [b.text for b in picked] == [answer]


# one long turn that speaks of three fields in turn, coded as a whole with all three (as coders do)
THREE_FIELDS = ("Also, ganz oben steht bei mir die Bildung. In den Kitas fehlen Plätze, und die Schulen nehmen kaum "
                "Seiteneinsteiger auf, weil die Klassen voll sind. Das Zweite ist die Arbeit: Die Betriebe suchen "
                "Leute, aber die Anerkennung der Abschlüsse dauert ewig. Und das Dritte ist das Wohnen. Große "
                "Familien finden keine Wohnung, und die Miete übersteigt, was das Amt zahlt.")
FIELDS = ("Bildung und Sprache", "Wirtschaft und Arbeitsmarkt", "Wohnen und Mobilität")


def _three_field_turns(root: Path) -> Project:
    write_project(root, survey=False)
    meta = "id,Kommune,Funktion,Funktionsgruppe\n" + "".join(f"T{i},Marl,Leitung,Verwaltung\n" for i in range(5))
    (root / "transcripts/interviews.csv").write_text(meta, encoding="utf-8")
    for f in ("A1.txt", "B2.txt"):
        (root / "transcripts/interviews" / f).unlink()
    for i in range(5):
        (root / f"transcripts/interviews/T{i}.txt").write_text(f"I: Was ist wichtig?\n\nB: {THREE_FIELDS}\n",
                                                              encoding="utf-8")
    project = open_project(root)
    ingest(project)
    for i in range(5):
        s = project.store.document_text(f"T{i}").index(THREE_FIELDS)
        for field in FIELDS if i < 4 else FIELDS[2:]:  # T4: coded with one field only
            project.store.add_coding(f"T{i}", s, s + len(THREE_FIELDS), field, coder="ab")
            project.store.add_coding(f"T{i}", s, s + len(THREE_FIELDS), "Bedarf/Lücke", coder="ab")
    return project


def test_quotes_a_turn_coded_with_several_fields_is_quoted_where_it_speaks_of_each(tmp_path: Path) -> None:
    project = _three_field_turns(tmp_path / "t")
    data = _data(project)
    picker = data.quote_picker
    unit = int(data.units.unit_id.iloc[0])
    first = {f: picker.candidate(unit, codes=[f], max_chars=150) for f in FIELDS}
    assert first["Bildung und Sprache"].text.startswith("Also, ganz oben steht bei mir die Bildung.")
    assert first["Wirtschaft und Arbeitsmarkt"].text.startswith("… Das Zweite ist die Arbeit")
    assert first["Wohnen und Mobilität"].text.startswith("… Und das Dritte ist das Wohnen.")
    assert "Kita" not in first["Wohnen und Mobilität"].text
    # the research question's section too quotes each field's part (the turn has one research question)
    both = picker.candidate(unit, codes=["Wohnen und Mobilität", "Bedarf/Lücke"], max_chars=150)
    assert both.text.startswith("… Und das Dritte ist das Wohnen.")
    # without codes (any counted coding), or a turn coded with one field only: the span's first sentences
    assert picker.candidate(unit, max_chars=150).text.startswith("Also, ganz oben")
    one = int(data.units.unit_id[data.units.document_id == "T4"].iloc[0])
    assert picker.candidate(one, codes=["Wohnen und Mobilität"], max_chars=150).text.startswith("Also, ganz oben")
    # a release decision taken on the first sentences (the rule before this one) keeps that excerpt for Wohnen
    from qualkit.quotes import quote_key
    doc = str(data.units.document_id.iloc[0])
    us = int(data.units.start.iloc[0])
    old_s, old_e, _old = coded_excerpt(THREE_FIELDS, 0, len(THREE_FIELDS), max_chars=150)
    decide(project, quote_key(doc, us + old_s, us + old_e, THREE_FIELDS[old_s:old_e]), "approved", coder="ab")
    again = _data(open_project(project.root), mode="release")
    pinned = again.quote_picker.candidate(unit, codes=["Wohnen und Mobilität"], max_chars=150)
    assert pinned.text.startswith("Also, ganz oben") and pinned.status == "approved"


def test_quotes_release_workflow(quote_project: Project) -> None:
    data = _data(quote_project)
    data.begin_chapter(FIELD)
    units = data.units_with([FIELD])
    draft = data.quotes(units, 3, codes=[FIELD])
    assert len(draft) == 3 and all("nicht freigegeben" in b.attribution for b in draft)
    table = data.quote_picker.table()
    assert set(table.status) == {"pending"} and data.quote_picker.summary()["pending"] == len(table)
    # nothing approved yet: a release run quotes nothing
    rel = _data(quote_project, mode="release")
    rel.begin_chapter(FIELD)
    assert rel.quotes(units, 3, codes=[FIELD]) == []
    keys = list(table.key)
    decide(quote_project, keys[0], "approved", coder="ab")
    decide(quote_project, keys[1], "excluded", coder="ab", note="Person erkennbar")
    again = open_project(quote_project.root)  # decisions live in the store: a new session sees them
    rel = _data(again, mode="release")
    rel.begin_chapter(FIELD)
    released = rel.quotes(units, 3, codes=[FIELD])
    assert [b.text for b in released] == [table.text[0]] and "nicht freigegeben" not in released[0].attribution
    dr = _data(again)
    dr.begin_chapter(FIELD)
    shown = [b.text for b in dr.quotes(units, 5, codes=[FIELD])]
    assert table.text[1] not in shown and table.text[0] in shown  # excluded: never; pick another instead
    log = again.store.quote_log()
    assert list(log.decision) == ["approved", "excluded"] and list(log.coder) == ["ab", "ab"]
    decide(again, keys[0], "pending", coder="ab")
    assert keys[0] not in again.store.quote_decisions() and len(again.store.quote_log()) == 3


def test_quotes_bad_mode_and_key_are_refused(quote_project: Project) -> None:
    from qualkit.errors import QualkitError
    with pytest.raises((QualkitError, ValueError), match="report mode"):
        _data(quote_project, mode="final")
    with pytest.raises(QualkitError, match="not a quote key"):
        decide(quote_project, "nonsense", "approved", coder="ab")
    with pytest.raises(QualkitError, match="quote decision"):
        decide(quote_project, "C1:1-5:abc", "maybe", coder="ab")


def test_quotes_cli_lists_and_decides(quote_project: Project) -> None:
    root = str(quote_project.root)
    code, out, err = run_cli("quotes", "--project", root, "--json")
    assert code == 0, err
    rows = pd.read_json(__import__("io").StringIO(out))
    assert len(rows) and set(rows.status) == {"pending"}
    key = rows.key.iloc[0]
    code, out, err = run_cli("quotes", "--project", root, "--approve", key, "--coder", "ab")
    assert code == 0, err and "approved" in out
    code, out, err = run_cli("quotes", "--project", root, "--json")
    rows = pd.read_json(__import__("io").StringIO(out))
    assert rows.set_index("key").status[key] == "approved"
    code, out, err = run_cli("quotes", "--project", root)
    assert code == 0 and "pending" in out and key in out


@pytest.mark.slow
def test_quotes_notebook_lists_quotes(quote_project: Project, tmp_path: Path) -> None:
    import papermill as pm
    nb = Path(__file__).resolve().parents[1] / "notebooks/quotes.ipynb"
    out = tmp_path / "q.ipynb"
    pm.execute_notebook(str(nb), str(out), parameters={"project_dir": str(quote_project.root), "only": FIELD},
                        kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    text = out.read_text(encoding="utf-8")
    assert "pending" in text and "Die Schulen haben zu wenige Plätze" in text


@pytest.mark.slow
def test_quotes_release_run_uses_approved_quotes_only(quote_project: Project) -> None:
    import shutil

    from qualkit.reports import run_report

    from .conftest import REPO
    shutil.copytree(REPO / "notebooks", quote_project.root / "notebooks", dirs_exist_ok=True)
    said: list[str] = []
    draft = run_report(quote_project, only=[FIELD], run_id="draft", progress=said.append)
    assert draft.manifest["quotes"]["pending"] > 0 and draft.manifest["quotes"]["approved"] == 0
    assert any("pending" in s for s in said)
    assert "noch nicht freigegeben" in (draft.run_dir / "bericht.html").read_text(encoding="utf-8")
    table = report_quotes_table(quote_project)
    decide(quote_project, table.key.iloc[0], "approved", coder="ab")
    rel = run_report(quote_project, only=[FIELD], run_id="release", settings_overrides={"mode": "release"})
    html = (rel.run_dir / "bericht.html").read_text(encoding="utf-8")
    assert rel.manifest["parameters"]["mode"] == "release" and rel.manifest["quotes"]["approved"] == 1
    assert "noch nicht freigegeben" not in html and html.count("<blockquote>") == 1


def report_quotes_table(project: Project) -> pd.DataFrame:
    from qualkit.quotes import report_quotes
    return report_quotes(project, only=[FIELD])


def test_quotes_many_units_are_sought_in_a_sample_that_keeps_decided_documents(
        quote_project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """Among more than MAX_POOL units the typical quotes are sought in a seeded sample of that many; the units of
    a document with a release decision are always in it, so a release run still finds its approved quote."""
    from qualkit import quotes
    data = _data(quote_project, mode="release")
    picker = data.quote_picker
    units = data.units_with([SUB])
    assert len(units) == 5
    c4 = int(units[units.document_id == "C4"].unit_id.iloc[0])
    quote = picker.candidate(c4, codes=[SUB])
    assert quote is not None
    approved = quote.key
    decide(quote_project, approved, "approved", coder="ab")
    picker.decisions = quote_project.store.quote_decisions()
    picker._memo.clear()  # the candidate above was memoised before the decision
    monkeypatch.setattr(quotes, "MAX_POOL", 2)
    seen: list[int] = []
    real = picker.candidate

    def spy(unit_id: int, **kw: object) -> object:
        seen.append(int(unit_id))
        return real(unit_id, **kw)  # type: ignore[arg-type]
    monkeypatch.setattr(picker, "candidate", spy)
    picked = picker.pick(units, 1, codes=[SUB])
    assert len(seen) == 2  # the pool: C4's unit (decided) and one more of the other four, by the seed
    assert c4 in seen and [q.key for q in picked] == [approved]
    again: list[int] = []
    monkeypatch.setattr(picker, "candidate", lambda unit_id, **kw: again.append(int(unit_id)) or real(unit_id, **kw))
    picker.begin_chapter("zwei")
    picker.pick(units, 1, codes=[SUB])
    assert again == seen  # the same sample every time


def test_quotes_of_a_part_are_sought_in_the_pool_of_the_whole(quote_project: Project,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A field's quotes by target group (``within``) come from the field's pool: however many units the group
    has, only those the field's own quotes are sought among are candidates."""
    from qualkit import quotes
    data = _data(quote_project)
    whole = data.units_with([SUB])
    part = whole.iloc[1:]
    monkeypatch.setattr(quotes, "MAX_POOL", 2)
    pool = set(data.quote_picker.pool(whole).unit_id)
    assert len(pool) == 2
    seen: list[int] = []
    real = data.quote_picker.candidate
    monkeypatch.setattr(data.quote_picker, "candidate",
                        lambda unit_id, **kw: seen.append(int(unit_id)) or real(unit_id, **kw))
    data.quotes(part, 3, codes=[SUB], within=whole)
    assert seen and set(seen) <= pool & set(part.unit_id)
    seen.clear()
    data.quotes(part, 3, codes=[SUB])  # on its own, the part has a pool of its own
    assert len(seen) == 2 and set(seen) <= set(part.unit_id)


def test_quotes_rows_and_codings_of_a_unit_are_read_as_the_tables_hold_them(example_project: Project) -> None:
    """The picker keeps the unit table and the labels as columns and sorted arrays, not a dict per unit and per
    coding: every unit's row is what DataFrame.to_dict gives, with the same types, and a unit's coded span is
    found from its own codings in the labels (a unit without codings has its whole span); only the columns
    asked for are kept, in their order, and an id that is no unit's is a KeyError."""
    from qualkit.quotes import _Rows
    data = ReportData(example_project, ReportSettings.from_project(example_project))
    units = data.units.sample(frac=1.0, random_state=1)  # ids in no order
    rows = _Rows(units, list(units.columns))
    for expected in units.to_dict("records"):
        got = rows[expected["unit_id"]]
        assert list(got) == list(expected)
        for col, value in expected.items():
            assert type(got[col]) is type(value) and (got[col] == value or (value != value and got[col] != got[col]))
    few = _Rows(units, ["text", "nonesuch", "kind", "text"])
    assert all(few[u] == {"text": t, "kind": k} for u, t, k in zip(units.unit_id, units.text, units.kind, strict=True))
    for missing in (int(units.unit_id.max()) + 1, int(units.unit_id.min()) - 1):
        with pytest.raises(KeyError):
            few[missing]
    picker = data.quote_picker
    spans = {int(cid): (int(s), int(e)) for cid, s, e in
             example_project.store.query('SELECT id, start, "end" FROM codings')}
    labels = data.labels
    for unit_id, group in list(labels.groupby("unit_id"))[:200]:
        u = rows[unit_id]
        codes = [str(group.code.iloc[0])]
        s, e = picker._span(int(unit_id), codes)
        own = [spans[int(c)] for c, code in zip(group.coding_id, group.code, strict=True) if code == codes[0]]
        clipped = [(max(a, u["start"]), min(b, u["end"])) for a, b in own]
        assert (s, e) in clipped
    uncoded = units[~units.unit_id.isin(labels.unit_id)]
    if len(uncoded):
        u = uncoded.iloc[0]
        assert picker._span(int(u.unit_id), ["no such code"]) == (int(u.start), int(u.end))
