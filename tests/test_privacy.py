from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qualkit.corpus import ingest
from qualkit.errors import LeakError
from qualkit.privacy import Pseudonymizer, attribute, attribution_groups, detect, guard_outputs, pseudonymise_project
from qualkit.project import Project

from .conftest import add_config, run_cli


def _types(text: str) -> dict[str, str]:
    return {e.text: e.type for e in detect(text)}


@pytest.mark.parametrize(("text", "expected"), [
    ("Ich habe mit Frau Kowalczyk gesprochen.", {"Kowalczyk": "Person"}),
    ("Der Herr Demir vom Kulturverein", {"Demir": "Person"}),
    ("Frau Dr. Yıldız hat das übernommen.", {"Yıldız": "Person"}),
    ("Bürgermeisterin Müller-Lüdenscheidt war da.", {"Müller-Lüdenscheidt": "Person"}),
    ("unsere Kollegin Anna-Lena Brüggemann", {"Anna-Lena Brüggemann": "Person"}),
    ("Ali Yılmaz und Fatma Şahin kamen.", {"Ali Yılmaz": "Person", "Fatma Şahin": "Person"}),
    ("Mohammed Al-Hassan hilft beim Übersetzen.", {"Mohammed Al-Hassan": "Person"}),
    ("Oksana Kovalenko aus Charkiw", {"Oksana Kovalenko": "Person"}),
    ("Die Grundschule am Mühlenbach und die Willy-Brandt-Gesamtschule",
     {"Grundschule am Mühlenbach": "Schule", "Willy-Brandt-Gesamtschule": "Schule"}),
    ("in der Kita Sonnenblume", {"Kita Sonnenblume": "Kita"}),
    ("Die Lessingschule und das Goethegymnasium", {"Lessingschule": "Schule", "Goethegymnasium": "Schule"}),
    ("Er lernt beim Elektrobetrieb Hansen.", {"Elektrobetrieb Hansen": "Unternehmen"}),
    ("Ich sprach mit Nur Yılmaz.", {"Nur Yılmaz": "Person"}),
    ("Amina kam mit ihrer Tochter.", {"Amina": "Person"}),
    ("Der Kulturverein Prietenie und der Boxclub Phönix", {"Kulturverein Prietenie": "Verein",
                                                           "Boxclub Phönix": "Verein"}),
    ("Sie wohnt Am Hasenkamp 3, Tel. 0 23 62 / 66 41 19", {"Am Hasenkamp 3": "Adresse",
                                                           "0 23 62 / 66 41 19": "Telefon"}),
    ("Die Wohnungen von Kampmann Immobilien", {"Kampmann Immobilien": "Unternehmen"}),
    ("beim SV Blau-Weiß Ickern", {"SV Blau-Weiß Ickern": "Verein"}),
    ("der Deutsch-Türkische Kulturverein Brauck", {"Deutsch-Türkische Kulturverein Brauck": "Verein"}),
    ("bei der Spedition Hülsmann", {"Spedition Hülsmann": "Unternehmen"}),
    ("wohnt in der Bergstraße 14", {"Bergstraße 14": "Adresse"}),
    ("Mail an a.brinkhoff@stadt-marl.de", {"a.brinkhoff@stadt-marl.de": "E-Mail"}),
    ("Ruf an: 02365 / 99 12 34", {"02365 / 99 12 34": "Telefon"}),
])
def test_privacy_detectors(text: str, expected: dict[str, str]) -> None:
    assert _types(text) == expected


@pytest.mark.parametrize("text", [
    "Herr der Lage sind wir nicht.", "Frau Bürgermeisterin hat zugesagt.", "Das KI in Recklinghausen und das KIM.",
    "Der Kreis Recklinghausen und die Stadt Marl.", "Im Jahr 2021 um 10:30 Uhr am 12.03.2022.",
    "Die Integrationsagentur der Caritas und das Jobcenter.", "Unsere Grundschule hat zu wenig Platz.",
    "Frau Integrationsbeauftragte, danke.", "Die Ehrenamtlichen in Haltern am See.",
    "Es gibt kein Angebot. Nur Kirche und Schützenverein.", "Die Volkshochschule und die Berufsschule helfen.",
    "Der Arbeitskreis Migration tagt.", "Das Bildungsmonitoring auf dem Schulweg.", "Ernst gemeint war das nicht.",
    "Der Sportverein und die Logistik.",
])
def test_privacy_common_nouns_and_public_bodies_are_not_names(text: str) -> None:
    assert detect(text) == []


def test_privacy_consistent_across_documents_and_surnames(tmp_path: Path) -> None:
    p = Pseudonymizer(tmp_path / "map.json")
    p.learn(["Unsere Kollegin Anja Brinkhoff koordiniert das.", "Frau Kowalczyk vom Jobcenter."])
    a = p.pseudonymise("Anja Brinkhoff und Frau Kowalczyk")
    b = p.pseudonymise("Später sagte Brinkhoff, Kowalczyk sei krank.")
    assert a == "[Person 1] und Frau [Person 2]"
    assert b == "Später sagte [Person 1], [Person 2] sei krank."
    p.save()
    again = Pseudonymizer(tmp_path / "map.json")
    again.learn(["Herr Demir kam dazu."])
    assert again.pseudonymise("Brinkhoff, Demir") == "[Person 1], [Person 3]"


def test_privacy_allow_and_deny_lists(tiny_project: Project) -> None:
    ingest(tiny_project)
    m = pseudonymise_project(tiny_project)
    assert "Özdemir" in m.mapping
    add_config(tiny_project.root, '[privacy]\nallow = ["Özdemir"]\ndeny = ["Lembeck", "Schule: Grundschule Nord"]\n')
    from qualkit.project import open_project
    p2 = open_project(tiny_project.root)
    m2 = pseudonymise_project(p2)
    assert "Özdemir" not in m2.mapping and m2.mapping["Lembeck"]["type"] == "Person"
    assert m2.pseudonymise("die Grundschule Nord") == "die [Schule 1]"


def test_privacy_codings_quotes_stay_correct(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    text = store.document_text("A1")
    s = text.index("Guten Tag")
    cid = store.add_coding("A1", s, s + len("Guten Tag, Frau Özdemir"), "Politische Teilhabe", coder="a")
    p = pseudonymise_project(tiny_project)
    assert store.document_text("A1") == text  # the stored text never changes
    row = store.coding(cid)
    assert text[row["start"]:row["end"]] == row["quote"] == "Guten Tag, Frau Özdemir"
    assert p.pseudonymise(row["quote"]) == "Guten Tag, Frau [Person 1]"
    mapping = json.loads((tiny_project.private_dir / "pseudonyms.json").read_text(encoding="utf-8"))
    assert "outputs" not in str(tiny_project.private_dir) and "Özdemir" in mapping["mapping"]


def test_privacy_leak_guard_fails_on_planted_name(tiny_project: Project, tmp_path: Path) -> None:
    ingest(tiny_project)
    pseudonymise_project(tiny_project)
    out = tiny_project.outputs_dir / "x"
    out.mkdir(parents=True)
    (out / "ok.html").write_text("<p>Frau [Person 1] sagt</p>", encoding="utf-8")
    guard_outputs(tiny_project, [out])
    bad = out / "bad.html"
    bad.write_text("<p>Frau &Ouml;zdemir sagt</p>", encoding="utf-8")  # HTML entities are decoded first
    with pytest.raises(LeakError) as exc:
        guard_outputs(tiny_project, [out])
    assert exc.value.path == str(bad) and exc.value.label == "[Person 1]" and "Özdemir" not in str(exc.value)
    assert not bad.exists()
    phone = out / "t.txt"
    phone.write_text("Telefon 0209 / 123 45 67", encoding="utf-8")
    with pytest.raises(LeakError, match=r"\[Telefon\]"):
        guard_outputs(tiny_project, [phone])


def test_privacy_k_attribution_rule(tiny_project: Project) -> None:
    ingest(tiny_project)
    g = attribution_groups(tiny_project, ["Kommune", "Funktion"])
    assert g.too_small.all()  # each of the two interviewees is alone in their group
    label, flagged = attribute(tiny_project, "A1", ["Kommune", "Funktion"])
    assert (label, flagged) == ("Interview", True)
    label, flagged = attribute(tiny_project, "A1", ["Kommune"], k=1)
    assert (label, flagged) == ("Interview, Gladbeck", False)


def test_privacy_cli_files(tmp_path: Path, tiny_project: Project) -> None:
    f = tmp_path / "notiz.txt"
    f.write_text("Termin mit Frau Kowalczyk, Tel. 02361 123456.", encoding="utf-8")
    code, _out, err = run_cli("pseudonymize", str(f), "--out", str(tmp_path / "pseudo"), "--project",
                             str(tiny_project.root))
    assert code == 0, err
    assert (tmp_path / "pseudo/notiz.txt").read_text(encoding="utf-8") == "Termin mit Frau [Person 1], Tel. [Telefon 1]."


@given(st.lists(st.text(alphabet="abAB .ä", min_size=1, max_size=5), min_size=1, max_size=8),
       st.text(alphabet="abAB .ä@", max_size=40))
def test_privacy_trie_pattern_matches_like_longest_first_alternation(words: list[str], text: str) -> None:
    from qualkit.privacy import _trie_pattern
    naive = re.compile(r"(?<![\w@.])(" + "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
                       + r")(?![\w@])")
    trie = re.compile(r"(?<![\w@.])(" + _trie_pattern(words) + r")(?![\w@])")
    assert [m.span() for m in trie.finditer(text)] == [m.span() for m in naive.finditer(text)]


def test_privacy_mask_own_place_town_adjective_and_districts() -> None:
    from qualkit.privacy import mask_own_place
    text = "Bei uns in Gladbeck, in Brauck, die Gladbecker Schulen; in Marl ist das anders. Der Kreis hilft."
    assert mask_own_place(text, "Gladbeck", ["Brauck"]) == (
        "Bei uns in [eigene Kommune], in [Stadtteil], die [eigene Kommune] Schulen; in Marl ist das anders. "
        "Der Kreis hilft.")
    assert mask_own_place("Halterner Vereine in Haltern am See", "Haltern am See") == \
        "[eigene Kommune] Vereine in [eigene Kommune]"
    assert mask_own_place("nichts", None) == "nichts"


def test_privacy_report_quotes_do_not_name_the_speakers_own_town(tiny_project: Project) -> None:
    from qualkit.chapters import ReportData, ReportSettings
    ingest(tiny_project)
    data = ReportData(tiny_project, ReportSettings.from_project(tiny_project))
    a1 = data.units[data.units.document_id == "A1"].ptext.tolist()
    assert any("bei uns in [eigene Kommune]" in t for t in a1) and not any("Gladbeck" in t for t in a1)
    survey = data.units[data.units.kind == "survey"].ptext.tolist()
    assert survey == data.units[data.units.kind == "survey"].text.tolist()  # survey answers keep their places


@pytest.mark.parametrize(("text", "expected"), [
    ("Ich leite eine Grundschule in Habinghorst.", True),
    ("Wir sind der einzige Verein hier, der Boxen anbietet.", True),
    ("Als Vorsitzende sehe ich das anders.", True),
    ("Ich bin seit 2019 Leiterin der Kita.", True),
    ("Es fehlen Sprachkurse mit Kinderbetreuung.", False),
    ("Ich bin der Meinung, dass die Schulen mehr Geld brauchen.", False),
])
def test_privacy_self_disclosure(text: str, expected: bool) -> None:
    from qualkit.privacy import self_disclosure
    assert self_disclosure(text) is expected


@pytest.mark.parametrize(("text", "name"), [
    ("Malak hat Asthma und wartet auf einen Termin.", "Malak"),          # Arabic, alone
    ("Gestern kam Zeynep mit ihrer Schwester.", "Zeynep"),               # Turkish
    ("Mit Oksana waren wir beim Jobcenter.", "Oksana"),                  # Ukrainian
    ("Agnieszka arbeitet in der Pflege.", "Agnieszka"),                  # Polish
    ("Berivan hat den Kurs abgeschlossen.", "Berivan"),                  # Kurdish
    ("Ich habe Yonas beim Fußball kennengelernt.", "Yonas"),             # Tigrinya
])
def test_privacy_first_names_alone_from_the_name_resource(text: str, name: str) -> None:
    assert [(e.text, e.type) for e in detect(text)] == [(name, "Person")]


@pytest.mark.parametrize("text", [
    "Die Art der Fachstelle ist neu.", "Sie Bescheid zu geben, dauert.", "Der Kurs war gut, die Hoffnung groß.",
    "Im Frühjahr beginnt der Kurs.", "Solange das so bleibt, geht es.",
])
def test_privacy_large_name_resource_does_not_flag_german_words(text: str) -> None:
    assert detect(text) == []


@pytest.mark.parametrize(("text", "street"), [
    ("Die Wohnungen in der Dorstener Straße sind schlecht.", "Dorstener Straße"),
    ("Das Büro ist in der Emscherstr. im zweiten Stock.", "Emscherstr."),
    ("In der Hertener Str. 12 gibt es Beratung.", "Hertener Str. 12"),
    ("Die Familie wohnt in der Kampstraße.", "Kampstraße"),
])
def test_privacy_streets_without_number_and_abbreviated(text: str, street: str) -> None:
    assert [(e.text, e.type) for e in detect(text)] == [(street, "Adresse")]


def test_privacy_club_and_firm_names_alone_and_genitive() -> None:
    p = Pseudonymizer()
    p.learn(["Der Frauenverein Köprü trifft sich montags.", "Bei der Spedition Hülsmann arbeiten viele.",
             "Anja Brinkhoff koordiniert das."])
    assert p.pseudonymise("Köprü hilft, Hülsmanns Fahrer auch, Brinkhoffs Team ebenso.") == \
        "[Verein 1] hilft, [Unternehmen 1] Fahrer auch, [Person 1] Team ebenso."


def test_privacy_project_words_are_never_names(tiny_project: Project) -> None:
    add_config(tiny_project.root, '[privacy]\npublic = ["Emir"]\n[privacy.places]\n"Gladbeck" = ["Rentfort"]\n')
    from qualkit.project import open_project
    p = Pseudonymizer.for_project(open_project(tiny_project.root))
    p.learn(["Emir kam aus Rentfort.", "Zeynep kam auch."])
    assert "Emir" not in p.mapping and "Rentfort" not in p.mapping and "Zeynep" in p.mapping


def test_privacy_attribution_one_rule_missing_values(tiny_project: Project) -> None:
    from qualkit.privacy import MISSING, Attribution
    meta = tiny_project.root / "transcripts/interviews.csv"
    rows = ["id,Kommune,Funktion,Funktionsgruppe"] + [f"V{i},Marl,Leitung,Verwaltung" for i in range(3)] + \
        ["M1,Marl,Leitung,", "M2,Marl,Leitung,", "M3,Marl,Leitung,", "A1,Gladbeck,Leitung,Politik"]
    meta.write_text("\n".join(rows) + "\n", encoding="utf-8")
    for i in ["V0", "V1", "V2", "M1", "M2", "M3"]:
        (tiny_project.root / f"transcripts/interviews/{i}.txt").write_text("I: Frage?\n\nB: Antwort.\n",
                                                                           encoding="utf-8")
    ingest(tiny_project)
    a = Attribution(tiny_project, interview=["Funktionsgruppe"], k=3)
    g = a.groups("interview").set_index("Funktionsgruppe")
    assert g.persons.to_dict() == {MISSING: 4, "Politik": 1, "Verwaltung": 3}  # B2 has no metadata row
    assert a.label("V0") == ("Interview, Verwaltung", False)
    assert a.label("M1") == ("Interview", False)      # a missing value counts as a group and is never shown
    assert a.label("A1") == ("Interview", True)       # a group of one: coarsened
    assert a.values("V0") == {"Funktionsgruppe": "Verwaltung"} and a.values("A1") == {} and a.values("M1") == {}
    assert attribute(tiny_project, "A1", ["Funktionsgruppe"]) == a.label("A1")


def test_privacy_small_counts_in_tables() -> None:
    import pandas as pd

    from qualkit.privacy import small_counts
    t = pd.DataFrame({"Kommune": ["gesamtstädtisch", "Marl"], "Fachkräfte": [1, 4], "Ehrenamt": [0, 2]})
    out = small_counts(t, ["Fachkräfte", "Ehrenamt"], k=3)
    assert out.to_dict("list") == {"Kommune": ["gesamtstädtisch", "Marl"], "Fachkräfte": ["< 3", 4],
                                   "Ehrenamt": [0, "< 3"]}
    g = pd.DataFrame({"Gruppe": ["A", "B"], "Personen mit Nennung": [1, 2], "Personen gesamt": [2, 9],
                      "Anteil": ["50 %", "22 %"]})
    out = small_counts(g, [], k=3, total="Personen gesamt", also=["Personen mit Nennung", "Anteil"])
    assert out.iloc[0].tolist() == ["A", "< 3", "< 3", "< 3"] and out.iloc[1].tolist() == ["B", 2, 9, "22 %"]


def test_privacy_chapter_tables_follow_the_k_rule(tiny_project: Project, tmp_path: Path) -> None:
    from qualkit.chapters import ReportData, ReportSettings, chapter_blocks
    from qualkit.overview import overview_blocks
    ingest(tiny_project)
    text = tiny_project.store.document_text("A1")
    i = text.index("Gerne.")
    tiny_project.store.add_coding("A1", i, text.index("Sprachkurse.") + 12, "Frühkindliche Bildung", coder="a")
    data = ReportData(tiny_project, ReportSettings.from_project(tiny_project))
    tables = {b.text: b for b in overview_blocks(data, tmp_path) if b.kind == "table"}
    # one interviewee per Funktionsgruppe: the method tables show "< 3", never a 1 that names a person
    assert [r[1] for r in tables["Interviews nach Funktionsgruppe"].rows] == ["< 3", "< 3"]
    assert [r[1] for r in tables["Zuordnungsgruppen der Interviews"].rows] == ["< 3", "< 3"]
    chapter = {b.text: b for b in chapter_blocks(data, "Bildung und Sprache", tmp_path) if b.kind == "table"}
    rows = chapter["Interviews nach Funktionsgruppe"].rows
    assert rows and all(v == "< 3" for r in rows for v in r[1:])  # what a group of one said is not shown


@pytest.mark.slow
def test_privacy_example_planted_names_absent_from_chapters_and_export(example_project: Project,
                                                                       tmp_path: Path) -> None:
    import csv

    from qualkit.chapters import ReportData, ReportSettings, chapter_blocks
    from qualkit.exports import export_xlsx
    from qualkit.overview import overview_blocks, survey_blocks
    from qualkit.privacy import _file_text
    pseudonymise_project(example_project)
    data = ReportData(example_project, ReportSettings.from_project(example_project))
    blocks = overview_blocks(data, tmp_path) + survey_blocks(data, tmp_path)
    for f in example_project.codebook.primary.codes:
        blocks += chapter_blocks(data, f, tmp_path)
    text = "\n".join(f"{b.text} {b.attribution} {b.columns} {b.rows}" for b in blocks)
    xlsx = _file_text(export_xlsx(example_project, tmp_path / "x.xlsx"))
    planted = [r["string"] for r in csv.DictReader((Path(__file__).parent / "data/planted_names.csv").open(
        encoding="utf-8"))]
    for where, t in (("chapters", text), ("export", xlsx)):
        leaked = [s for s in planted if re.search(r"(?<!\w)" + re.escape(s) + r"(?!\w)", t)]
        assert leaked == [], where
    quotes = [b for b in blocks if b.kind == "quote"]
    # interview quotes do not name the speaker's own town (one mayor per town: the town would name the mayor)
    assert any("[eigene Kommune]" in b.text or "[Stadtteil]" in b.text for b in quotes)
    assert quotes and not any(re.search(r"\b(?:Amtszeit|[Ii]ch bin (?:die |der )?\w*(?:meister|beauftragte))", b.text)
                              for b in quotes)
    headings = [b.text for b in blocks if b.kind == "heading" and b.text.startswith("Thema")]
    places = set(example_project.config["privacy"]["places"])
    assert headings and not any(p in h.split(" · ") or f"{p} ·" in h for h in headings for p in places)


@given(st.text(alphabet=st.sampled_from(list("ab .!?:;„\"\n(•-\t \u2003")), max_size=30), st.data())
def test_privacy_sentence_mark_check_equals_the_whole_prefix_search(text: str, data: st.DataObject) -> None:
    """The name detector asks whether a word pair starts a sentence by looking at the end of the text before it
    only; the answer is the one the search over the whole prefix gave (which was quadratic in a transcript)."""
    from qualkit._names import _after_sentence_mark
    i = data.draw(st.integers(min_value=0, max_value=len(text)))
    assert _after_sentence_mark(text, i) == bool(re.search(r"(^|[.!?:;„\"\n(•\-]\s*)$", text[:i]))


def test_privacy_names_searched_ahead_of_the_store_give_the_same_mapping(tiny_project: Project,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The report searches the new documents for names on forked workers while the store is written
    (``ingest(on_read=…)``, :func:`search_names_ahead`); the mapping is the one a search after the ingest gives,
    and documents the search ahead did not see (a memo, an unchanged document) are searched then."""
    import shutil

    from qualkit import privacy
    from qualkit.project import open_project
    monkeypatch.setattr(privacy, "_PARALLEL_CHARS", 0)
    monkeypatch.setattr(privacy, "_BATCH_CHARS", 200)
    twin = tiny_project.root.parent / "twin"
    shutil.copytree(tiny_project.root, twin)
    ingest(tiny_project)
    plain = pseudonymise_project(tiny_project).mapping
    project = open_project(twin)
    searches: list[privacy.NameSearch] = []
    seen: list[list[str]] = []

    def on_read(read: Iterator[str], chars: int) -> None:
        texts = list(read)
        assert chars == sum(map(len, texts))
        texts = texts[1:]  # one document is left to the search after the ingest
        seen.append(texts)
        search = privacy.search_names_ahead(project, iter(texts), jobs=2, chars=chars)
        assert search is not None
        # spawned: a forked searcher would keep the pages of every document this process lets go once written
        assert search._pool.pool._mp_context.get_start_method() == "spawn"
        searches.append(search)
    ingest(project, on_read=on_read)
    assert seen and len(seen[0]) == project.store.query("SELECT count(*) FROM documents")[0][0] - 1
    asked: list[int] = []
    real = privacy._detections

    def spy(texts: object, *a: object, **kw: object) -> object:
        texts = list(texts)  # type: ignore[call-overload]
        asked.append(len(texts))
        return real(texts, *a, **kw)  # type: ignore[arg-type]
    monkeypatch.setattr(privacy, "_detections", spy)
    monkeypatch.setattr(privacy, "_LEARN_CHARS", 150)  # the store's texts are learnt a few at a time
    ahead = pseudonymise_project(project, jobs=2, ahead=searches[0]).mapping
    assert sum(asked) == 1 and len(asked) > 2  # only the document the search ahead did not see, in parts
    import gc  # neither the ingest nor the search keeps the texts (only this test's list does)
    assert all(gc.get_referrers(t) == [seen[0]] for t in seen[0])
    assert ahead == plain and list(ahead) == list(plain) and len(plain) >= 3
    assert privacy.search_names_ahead(project, seen[0], jobs=1) is None  # one process: searched after the ingest


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "spawned"])
def test_privacy_names_searched_on_processes_give_the_same_mapping(tiny_project: Project,
                                                                   monkeypatch: pytest.MonkeyPatch, fork: bool,
                                                                   executors_used: list[tuple[dict[str, object], str]]
                                                                   ) -> None:
    """A large corpus is searched for names on local processes, in batches (forked where the system can fork,
    else spawned); the pseudonyms (which depend on the order names are first seen) are those of one search in
    this process."""
    from qualkit import privacy
    ingest(tiny_project)
    texts = [r[0] for r in tiny_project.store.query("SELECT text FROM documents ORDER BY kind, id")] * 3
    texts += ["Frau Dr. Anja Brinkhoff leitet das.", "Herr Kowalczyk kam mit Amina zur Kita Sonnenschein.",
              "Die Brinkhoffs wohnen in der Lindenstraße 4.", "Herr Kowalczyk und Frau Petra Hülsmann."] * 2
    serial = Pseudonymizer()
    serial.learn(texts)
    monkeypatch.setattr(privacy, "_PARALLEL_CHARS", 0)
    monkeypatch.setattr(privacy, "_BATCH_CHARS", 200)
    from qualkit import prepare
    monkeypatch.setattr(prepare, "_can_fork", lambda: fork)
    parallel = Pseudonymizer()
    parallel.learn(texts, jobs=2)
    assert executors_used == [({"jobs": 2, "scheduler": None, "fork": True}, "fork" if fork else "processes")]
    assert parallel.mapping == serial.mapping and len(serial.mapping) >= 3
    assert list(parallel.mapping) == list(serial.mapping)  # same order: the same numbers in the labels
    monkeypatch.setattr(privacy, "_LEARN_CHARS", 300)  # a part of the texts at a time, each on its own workers
    parts = Pseudonymizer()
    parts.learn(iter(texts), jobs=2)
    assert list(parts.mapping.items()) == list(serial.mapping.items()) and len(executors_used) > 2


def test_privacy_a_run_that_fails_after_the_files_are_read_ends_its_name_search(tiny_project: Project,
                                                                               monkeypatch: pytest.MonkeyPatch
                                                                               ) -> None:
    """The name search starts on forked workers once the files are read; when writing the store then fails,
    the report ends the search: no worker is left running and the garbage collector is whole again."""
    import gc
    import multiprocessing

    from qualkit import corpus, privacy
    from qualkit.reports import run_report
    monkeypatch.setattr(privacy, "_PARALLEL_CHARS", 0)
    started: list[privacy.NameSearch | None] = []
    real = privacy.search_names_ahead

    def spy(*a: Any, **kw: Any) -> privacy.NameSearch | None:
        started.append(real(*a, **kw))
        return started[-1]

    def broken(*a: Any, **kw: Any) -> None:
        raise RuntimeError("the disk is full")
    monkeypatch.setattr(privacy, "search_names_ahead", spy)
    monkeypatch.setattr(corpus, "_write_document", broken)
    with pytest.raises(RuntimeError, match="disk is full"):
        run_report(tiny_project, jobs=2)
    assert started and started[0] is not None  # the search had started
    assert multiprocessing.active_children() == [] and gc.get_freeze_count() == 0
    assert tiny_project.store.query("SELECT count(*) FROM documents")[0][0] == 0  # and nothing was written


def test_privacy_name_search_ahead_reads_its_texts_as_the_workers_take_them(monkeypatch: pytest.MonkeyPatch
                                                                            ) -> None:
    """The search ahead reads the ingest's texts (from disk) only as its workers take them: at most one batch
    more than there are workers is on its way at a time, so the texts are never all held at once (issue 17).
    The pool here hands out its work when the test says so; what it finds is the search's own."""
    import time
    from concurrent.futures import Future

    from qualkit import prepare, privacy
    from qualkit._names import detect
    monkeypatch.setattr(privacy, "_BATCH_CHARS", 10)  # a text per batch
    work: list[tuple[Future[Any], Any, tuple[Any, ...]]] = []
    in_flight: list[int] = []

    class Pool:
        def submit(self, fn: Any, *args: Any) -> Future[Any]:
            in_flight.append(sum(not f.done() for f, _, _ in work) + 1)
            work.append((Future(), fn, args))
            return work[-1][0]

    class Processes:
        def __init__(self, workers: int, fork: bool) -> None:
            assert workers == 1 and not fork
            self.pool = Pool()

        def close(self) -> None:
            pass
    monkeypatch.setattr(prepare, "_Processes", Processes)
    texts = [f"Dann sagte Frau Anna Schmidt aus Nummer {i} etwas." for i in range(12)]
    taken: list[str] = []

    def reading() -> Iterator[str]:
        for t in texts:
            taken.append(t)
            yield t

    def settled(n: int) -> None:  # waits until the search has submitted n batches and stopped reading
        deadline = time.monotonic() + 20
        while len(work) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
    search = privacy.NameSearch(reading(), frozenset(), None, workers=1)
    settled(2)
    assert len(work) == 2 and len(taken) == 3  # two batches on their way, the third read and waiting for room
    done = 0
    while done < len(texts):
        fut, fn, args = work[done]
        fut.set_result(fn(*args))
        done += 1
        settled(min(done + 2, len(texts)))
        assert len(taken) <= done + 3
    found = search.found()
    assert max(in_flight) == 2 and len(work) == len(texts)
    assert found == {privacy._text_key(t): detect(t) for t in texts} and any(found.values())


@given(st.lists(st.text(max_size=6), max_size=30), st.integers(1, 12))
def test_privacy_learn_parts_keep_every_text_in_order(texts: list[str], chars: int) -> None:
    from qualkit.privacy import _parts
    parts = list(_parts(iter(texts), chars))
    assert [t for p in parts for t in p] == texts and all(parts)
    assert all(sum(map(len, p)) >= chars for p in parts[:-1])  # only the last part may be short
    assert all(sum(map(len, p[:-1])) < chars for p in parts)  # a part ends with the text that fills it
