"""German sentence templates: articles, numbers, plurals."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from qualkit.prose import (
    Term,
    coverage_sentence,
    date_de,
    evidence_sentence,
    join_de,
    noun,
    num,
    number_word,
    plural_of,
    share_phrase,
)


@pytest.mark.parametrize(("article", "singular", "nom", "dat", "gen", "another"), [
    ("das", "Handlungsfeld", "das Handlungsfeld", "im Handlungsfeld", "des Handlungsfelds", "ein weiteres Handlungsfeld"),
    ("die", "Kategorie", "die Kategorie", "in der Kategorie", "der Kategorie", "eine weitere Kategorie"),
    ("der", "Bereich", "der Bereich", "im Bereich", "des Bereichs", "einen weiteren Bereich"),
])
def test_prose_term_articles(article: str, singular: str, nom: str, dat: str, gen: str, another: str) -> None:
    t = Term.of(SimpleNamespace(singular=singular, article=article, name=f"{singular}er"))
    assert (t.nom, t.dat, t.gen, t.another_acc) == (nom, dat, gen, another)
    assert t.acc == ("den Bereich" if article == "der" else nom)
    assert t.cap(t.nom)[0].isupper()


@pytest.mark.parametrize(("n", "word"), [(1, "eine"), (8, "acht"), (12, "zwölf"), (13, "13"), (1234, "1.234")])
def test_prose_number_words(n: int, word: str) -> None:
    assert number_word(n) == word


def test_prose_singular_and_plural() -> None:
    assert noun(1, "Antwort", "Antworten") == "1 Antwort"
    assert noun(2, "Antwort", "Antworten") == "2 Antworten"
    assert num(0.97) == "0,97" and num(1234) == "1.234" and num(None) == "–"
    assert date_de("2022-05-17") == "17.05.2022" and date_de("Mai 2022") == "Mai 2022"
    assert join_de(["a"]) == "a" and join_de(["a", "b", "c"]) == "a, b und c"


@pytest.mark.parametrize(("word", "plural"), [("Kommune", "Kommunen"), ("Stadtteil", "Stadtteile"),
                                              ("Organisationstyp", "Organisationstypen"), ("Funktion", "Funktionen"),
                                              ("Einrichtung", "Einrichtungen"), ("Träger", "Träger")])
def test_prose_plural_of_variable_names(word: str, plural: str) -> None:
    assert plural_of(word) == plural
    assert plural_of(word, {word: "Xe"}) == "Xe"


def test_prose_shares_only_with_base_and_never_side_by_side() -> None:
    assert share_phrase(7, 10) == "7 von 10"  # small base: no percentage
    assert share_phrase(112, 440, "Befragten") == "112 von 440 Befragten (25 %)"
    t = Term("Handlungsfeld", "Handlungsfelder", "das")
    s = coverage_sentence(t, "Wohnen", persons=9, persons_total=10, turns=1, answers=1, respondents=30,
                          respondents_total=400)
    assert "9 von 10 Interviews" in s and "%" not in s.split(".")[0]  # the interview base is small
    assert "1 Aussage " in s and "1 Antwort." in s and "30 von 400 Befragten mit offenen Antworten (8 %)" in s
    assert "Das Handlungsfeld „Wohnen“" in s


def test_prose_evidence_sentence_numbers() -> None:
    s = evidence_sentence(statements=14, persons=9, documents=9, places=1, place="Kommune",
                          groups={"Funktionsgruppe": 4, "Organisationstyp": 1})
    assert s == "Belegt durch 14 Aussagen von 9 Personen aus 1 Kommune, 4 Funktionsgruppen und 1 Organisationstyp."
    assert evidence_sentence(statements=0, persons=0, documents=0) == "Keine auffindbaren Belege."


def test_prose_dative_plural_after_aus() -> None:
    s = evidence_sentence(statements=4, persons=4, documents=4, places=2, place="Stadtteil", groups={"Träger": 3})
    assert s == "Belegt durch 4 Aussagen von 4 Personen aus 2 Stadtteilen und 3 Trägern."


def test_prose_a_share_that_is_not_all_never_reads_as_all() -> None:
    from qualkit.blocks import number_de
    from qualkit.prose import num, pct
    # an agreement of 346 in 347 is not complete: one more decimal, not "1,00"
    assert num(346 / 347) == "0,997" and number_de(346 / 347) == "0,997"
    assert num(1.0) == "1,00" and number_de(0.0) == "0,00" and num(0.97) == "0,97" and num(-0.9996) == "-0,9996"
    assert number_de(0.004) == "0,004" and number_de(2.999) == "3,00"  # only 0 and 1 are kept from showing
    assert pct(346, 347) == "> 99 %" and pct(1, 400) == "< 1 %" and pct(0, 5) == "0 %" and pct(5, 5) == "100 %"
    assert pct(29, 30) == "97 %" and pct(1, 2) == "50 %" and pct(3, 0) == "–"
