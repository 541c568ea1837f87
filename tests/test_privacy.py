from __future__ import annotations

import json
import re
from pathlib import Path

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


def test_privacy_chapter_quotes_prefer_statements_that_do_not_describe_the_speaker(tiny_project: Project) -> None:
    import pandas as pd

    from qualkit.chapters import ReportData, ReportSettings
    ingest(tiny_project)
    data = ReportData(tiny_project, ReportSettings.from_project(tiny_project))
    units = pd.DataFrame({
        "unit_id": [1, 2], "case_id": ["A1", "B2"], "language": ["de", "de"],
        "ptext": ["Ich leite die Kita am Markt, und uns fehlen Kitaplätze und Erzieherinnen für die Kinder.",
                  "Es fehlen Kitaplätze und Erzieherinnen, die Kinder warten ein Jahr auf einen Platz."]})
    picked = data.quotes(units, 1)
    assert len(picked) == 1 and picked[0].text.startswith("Es fehlen Kitaplätze")
