from __future__ import annotations

from pathlib import Path

import pytest

from qualkit.project import open_project
from qualkit.reidentify import Guard, eigen, mask_own_place, self_disclosure

from .conftest import add_config, write_project


@pytest.fixture
def guard(tmp_path: Path) -> Guard:
    root = tmp_path / "g"
    write_project(root, survey=False)
    add_config(root, '[privacy]\nunique_organisations = ["Kreissportbund", '
                     '"Arbeitgeberservice"]\nlandmarks = ["Chemiepark"]\n[privacy.places]\n"Haltern am See" = '
                     '["Sythen"]\n"Marl" = ["Hüls"]\n')
    return Guard(open_project(root))


POINT = "Es fehlen Sprachkurse mit Kinderbetreuung, vor allem für Mütter mit kleinen Kindern."


@pytest.mark.parametrize("identifying", [
    "Ich bin Bürgermeisterin der Stadt, in der zweiten Amtszeit jetzt.",       # role and tenure
    "Ich bin Sozialarbeiterin und seit Februar dieses Jahres im Team.",        # profession, start
    "Ich bin seit 2014 Integrationsbeauftragter hier, volle Stelle.",          # tenure and role
    "Ich bin beim Kreissportbund hauptamtlich für Sportentwicklung zuständig.",  # employer
    "Ich leite die Kita seit vielen Jahren.",                                  # position
    "Wir sind der einzige Verein hier, der Boxen anbietet.",                   # uniqueness
    "Unser Helferkreis hat 2015 mit vierzig Leuten angefangen.",                # founding year
    # a role that is not a compound: these were never found (the role's letters were matched in lower case)
    "Ich bin Lehrerin an der Gesamtschule, Deutsch und Politik.",
    "Ich bin Leiterin des Jugendamts, das sind fünf Abteilungen.",
    "Und ich bin Geschäftsführung des Integrationsrates, das macht viel aus.",
    "Ich war lange Vorsitzende des Integrationsrats.",
    "Ich bin von Beruf Erzieherin.",
    "Ich bin Diplom-Pädagogin, das hilft bei der Arbeit.",
    "Angesiedelt bin ich im Fachbereich Jugend und Soziales.",                 # position
    "Ich hab vorher in der Frauenberatung gearbeitet.",                        # career
    "Ich bin, äh, wie soll ich sagen, der halbe Integrationsbeauftragte hier.",  # a role after a hesitation
    "Ich hab eine volle Stelle, aber die ist geteilt.",                        # the post
    "Ich bin also auch noch für den Jugendtreff mit zuständig.",
    "Wir sind ja vor allem für Kinder zuständig in meiner Abteilung.",
])
def test_reidentify_self_descriptions_are_cut(guard: Guard, identifying: str) -> None:
    assert self_disclosure(identifying)
    text, found = guard.clean_quote(f"{identifying} {POINT}")
    assert text == f"[…] {POINT}"
    assert [f.kind for f in found] == ["Selbstbeschreibung"]


@pytest.mark.parametrize("harmless", [
    "Ich bin der Meinung, dass die Schulen mehr Geld brauchen.", "Ich bin da noch nicht festgelegt.",
    "Ich bin froh, dass die Leitung das mitträgt.", "Ich bin mit der Lehrerin meines Sohnes zufrieden.",
    "Ich bin, ehrlich gesagt, mit dem Trainer zufrieden.", "Das Land ist dafür zuständig, nicht wir.",
    "Es fehlen Sprachkurse mit Kinderbetreuung.", "Seit Jahren fehlt eine Beratung für Familien.",
])
def test_reidentify_opinions_are_not_self_descriptions(harmless: str) -> None:
    assert not self_disclosure(harmless)


@pytest.mark.parametrize(("text", "expected", "kind"), [
    ("Wir als Kreissportbund vermitteln Übungsleiter an die Vereine im ganzen Kreis.",
     "Wir als [eigene Organisation] vermitteln", "Organisation"),
    ("Über unseren Arbeitgeberservice kommen viele Geflüchtete in Praktika bei Betrieben.",
     "Über [eigene Organisation] kommen", "Organisation"),
    ("Für eine Stadt mit knapp 75.000 Einwohnern sind das viel zu wenige Stellen in der Beratung.",
     "Für eine Stadt mit [Zahl] Einwohnern", "Einwohnerzahl"),
    ("Wir sind knapp dreißigtausend Einwohner, da kennt man sich und hilft sich bei allem.",
     "Wir sind [Zahl] Einwohner,", "Einwohnerzahl"),
    ("Wir sind die kleinste Stadt im Kreis, die Wege zu den Ämtern sind trotzdem lang.",
     "Wir sind die [Ortsangabe],", "Ortsangabe"),
    ("Beim Chemiepark gibt es Arbeit, aber nur für Leute mit guten Deutschkenntnissen.",
     "Beim [Ort] gibt es Arbeit", "Ortsangabe"),
])
def test_reidentify_organisations_population_and_places_are_masked(guard: Guard, text: str, expected: str,
                                                                   kind: str) -> None:
    out, found = guard.clean_quote(text)
    assert out is not None and out.startswith(expected)
    assert [f.kind for f in found] == [kind]


def test_reidentify_own_place_and_demonyms(guard: Guard) -> None:
    out, found = guard.clean_quote("Ich bin auch Halternerin. In Sythen und in Haltern fehlen Kitaplätze für "
                                   "zugewanderte Familien, das sagen alle.", kind="interview", place="Haltern am See")
    assert out == ("Ich bin auch [eigene Kommune]. In [Stadtteil] und in [eigene Kommune] fehlen Kitaplätze für "
                   "zugewanderte Familien, das sagen alle.")
    assert [f.kind for f in found] == ["eigener Ort"]
    # survey answers keep their places (the example masks interviews only)
    out, _ = guard.clean_quote("In Haltern fehlen Kitaplätze für zugewanderte Familien, das sagen alle.",
                               kind="survey", place="Haltern am See")
    assert out is not None and "Haltern" in out


@pytest.mark.parametrize(("place_word", "placeholder"), [
    ("Kommune", "[eigene Kommune]"), ("Stadtteil", "[eigener Stadtteil]"), ("Quartier", "[eigenes Quartier]"),
])
def test_reidentify_placeholders_take_the_projects_words(place_word: str, placeholder: str) -> None:
    assert f"[{eigen(place_word)}]" == placeholder
    assert mask_own_place("Bei uns in Hassel ist das so.", "Hassel", place_word=place_word) == \
        f"Bei uns in {placeholder} ist das so."


def test_reidentify_place_variable_stadtteil_in_project(tmp_path: Path) -> None:
    root = tmp_path / "s"
    write_project(root, survey=False)
    meta = root / "transcripts/interviews.csv"
    meta.write_text(meta.read_text(encoding="utf-8").replace("Kommune", "Stadtteil"), encoding="utf-8")
    add_config(root, '[privacy]\nplace_variable = "Stadtteil"\n')
    g = Guard(open_project(root))
    out, _ = g.clean_quote("Bei uns in Gladbeck fehlen vor allem Kitaplätze und Sprachkurse für Eltern.",
                           kind="interview", place="Gladbeck")
    assert out == "Bei uns in [eigener Stadtteil] fehlen vor allem Kitaplätze und Sprachkurse für Eltern."


def test_reidentify_labels_and_headings_lose_places(guard: Guard) -> None:
    assert guard.clean_label("Moscheegemeinde · Marl · treffen") == "Moscheegemeinde · treffen"
    assert guard.clean_label("Flüchtlingshilfe · Ehrenamt · Halter") == "Flüchtlingshilfe · Ehrenamt"
    assert guard.clean_label("Verein · Marler · Sythen") == "Verein"
    assert guard.clean_label("Schule · Kita · Eltern") == "Schule · Kita · Eltern"


def test_reidentify_nothing_left_means_no_quote(guard: Guard) -> None:
    assert guard.clean_quote("Ich bin Bürgermeisterin hier. Das war es.")[0] is None


def test_reidentify_is_project_data_not_library_constants(tmp_path: Path) -> None:
    # without the project's lists nothing local is masked: organisations and landmarks are configuration
    from qualkit.project import init_project
    g = Guard(init_project(tmp_path / "neutral"))
    text = "Wir als Kreissportbund sind beim Chemiepark mit vielen Angeboten für Jugendliche aktiv."
    assert g.clean_quote(text)[0] == text
