"""Word lists: whole words in their proper form, no stop word, spoken contraction, fragment or placeholder."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

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


_WORDS = ["Kita", "Kitas", "kita", "Sprachkurs", "Sprachkurse", "und", "Amt", "KI", "hab", "Wochenende", "Wochenend",
          "letzten", "letzt", "Bus", "der", "3", "Ganztag", "offener", "offen"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.sampled_from(_WORDS), st.sampled_from(_WORDS)), max_size=12), max_size=6))
def test_words_counted_forms_equal_a_token_by_token_count(texts: list[list[tuple[str, str]]]) -> None:
    """Counting (token, lemma) pairs first and judging each distinct pair once gives the lemmas, counts, display
    forms and phrases, in the same order, that judging every token in turn gives."""
    from collections import Counter

    from qualkit.nlp import Analysis
    from qualkit.themes import _phrases
    from qualkit.words import _content_forms, _display, _is_content
    analyses = [Analysis("", tuple(t for t, _ in x), tuple(lem for _, lem in x), (), ()) for x in texts]
    stops = stop_words()
    counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    surfaces: dict[str, Counter[str]] = {}
    seen: dict[str, Counter[str]] = {}
    for a in analyses:
        ok = [_is_content(t, lem, stops) for t, lem in zip(a.tokens, a.lemmas)]
        for i, (tok, lem) in enumerate(zip(a.tokens, a.lemmas)):
            if ok[i]:
                counts[lem.lower()] += 1
                spellings.setdefault(lem.lower(), Counter())[lem] += 1
                surfaces.setdefault(lem.lower(), Counter())[tok] += 1
            if i + 1 < len(a.tokens) and ok[i] and ok[i + 1]:
                key = f"{lem.lower()} {a.lemmas[i + 1].lower()}"
                seen.setdefault(key, Counter())[f"{tok} {a.tokens[i + 1]}"] += 1
    got_counts, got_forms = _content_forms(analyses)
    assert list(got_counts.items()) == list(counts.items())
    assert list(got_forms.items()) == [(k, _display(v, surfaces[k])) for k, v in spellings.items()]
    assert list(_phrases(analyses).items()) == [(k, max(v.items(), key=lambda kv: (kv[1], kv[0]))[0])
                                                for k, v in seen.items()]
