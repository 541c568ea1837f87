"""Word lists: whole words in their proper form, no stop word, spoken contraction, fragment or placeholder."""

from __future__ import annotations

from qualkit.nlp import GermanPipeline, stop_words
from qualkit.themes import theme_terms
from qualkit.words import strip_placeholders, word_counts

TEXTS = [
    "Jeden Samstag hab ich am Wochenende in [Stadtteil] Fußball gespielt, alle anderen auch.",
    "Am Wochenende gibt es in [eigene Kommune] keine Sprachkurse, sagt [Person 3] vom Amt.",
    "Die Sprachkurse am Wochenende sind voll, jede Woche.",
]


def test_words_placeholders_removed() -> None:
    assert strip_placeholders("in [Stadtteil] und [Person 12].") == "in   und  ."


def test_words_counts_whole_words_without_stop_words_or_placeholders() -> None:
    counts, forms = word_counts(GermanPipeline(), TEXTS)
    shown = {forms[k].most_common(1)[0][0]: n for k, n in counts.items()}
    assert shown["Wochenende"] == 3  # the lookup table's cut stem "Wochenend" is shown as written
    assert shown["Sprachkurs"] == 2 and shown["Fußball"] == 1 and shown["Amt"] == 1
    stops = stop_words()
    for word in shown:
        assert word.lower() not in stops and word not in ("jed", "all", "hab", "ander", "Wochenend")
        assert len(word) >= 4 or word[0].isupper()
    for placeholder in ("Stadtteil", "Kommune", "Person", "eigene"):
        assert placeholder not in shown  # only inside brackets in these texts


def test_words_theme_terms_never_fragments() -> None:
    forms = {"sprachkurs": "Sprachkurs", "fußball": "Fußball", "woche": "Woche"}
    phrases = {"offen ganztag": "offenen Ganztag"}
    vocab = ["kurs", "fuß ball", "sprachkurs", "ball", "halter", "offen ganztag", "woche"]
    # "kurs" becomes the compound it came from; the bigram of compound parts, a part with no compound among the
    # terms ("ball") and a part never written as a word ("halter") are dropped
    assert theme_terms(vocab, forms, phrases) == ["Sprachkurs", "offenen Ganztag", "Woche"]


def test_words_theme_terms_prefer_compound_a_part_mostly_belongs_to() -> None:
    from collections import Counter
    forms = {"fachkraft": "Fachkraft", "kraft": "Kraft", "fach": "Fach", "pflege": "Pflege", "kurs": "Kurs",
             "sprachkurs": "Sprachkurs"}
    counts = Counter({"fachkraft": 5, "kraft": 1, "fach": 1, "pflege": 4, "kurs": 6, "sprachkurs": 2})
    # "Kraft" and "Fach" are mostly written inside "Fachkraft"; "Kurs" mostly on its own
    assert theme_terms(["kraft", "fach", "pflege", "kurs"], forms, {}, counts) == ["Fachkraft", "Pflege", "Kurs"]


def test_words_display_cut_stems_as_written() -> None:
    counts, forms = word_counts(GermanPipeline(), ["Die letzten Sitzungen waren gut.", "Im letzten Jahr, ich weiß."])
    shown = {forms[k].most_common(1)[0][0] for k in counts}
    assert "letzt" not in shown and "weiß" not in shown
