from __future__ import annotations

from pathlib import Path

import pytest

from qualkit.nlp import GermanPipeline, lemma, split_compound, stop_words


@pytest.mark.parametrize(("word", "expected"), [
    ("Kindern", "Kind"), ("Vereinen", "Verein"), ("Ämtern", "Amt"), ("Flüchtlinge", "Flüchtling"),
    ("Sprachkurse", "Sprachkurs"), ("Kitaplätze", "Kitaplatz"), ("Arbeitsplätze", "Arbeitsplatz"),
    ("Schulplätze", "Schulplatz"), ("Integrationskurse", "Integrationskurs"), ("Busverbindungen", "Busverbindung"),
    ("Kita-Plätze", "Kita-Platz"), ("Deutschkenntnisse", "Deutschkenntnis"),
    # nouns typed in lower case, as in quick survey answers; lower-case words stay what they are
    ("wohnungen", "Wohnung"), ("kitaplätze", "Kitaplatz"), ("fehlen", "fehlen"), ("teuer", "teuer"),
])
def test_nlp_lemma(word: str, expected: str) -> None:
    assert lemma(word) == expected


@pytest.mark.parametrize(("word", "parts"), [
    ("Sprachkurse", ("Sprache", "Kurs")), ("Kitaplatz", ("Kita", "Platz")), ("Wohnungssuche", ("Wohnung", "Suche")),
    ("Gesundheitsamt", ("Gesundheit", "Amt")), ("Ausländerbehörde", ("Ausländer", "Behörde")),
    ("Schwimmkurse", ("schwimmen", "Kurs")), ("Nachbarschaft", ("Nachbarschaft",)), ("Verwaltung", ("Verwaltung",)),
    ("Sprachkursangebot", ("Sprachkurs", "Angebot")),
])
def test_nlp_split_compound(word: str, parts: tuple[str, ...]) -> None:
    assert split_compound(word) == parts


def test_nlp_terms_drop_stop_words_and_fillers_keep_parts() -> None:
    a = GermanPipeline().analyse(["Also ähm, die Sprachkurse sind halt voll, und Kitaplätze fehlen."])[0]
    assert "ähm" not in a.terms and "halt" not in a.terms and "die" not in a.terms
    assert {"sprachkurs", "sprache", "kurs", "kitaplatz", "kita", "platz"} <= set(a.terms)
    assert len(a.sentences) == 1 and "ähm" in stop_words()


def test_nlp_cache_second_run_parses_nothing(tmp_path: Path) -> None:
    texts = ["Die Busse fahren in Lembeck kaum.", "Wir brauchen mehr Schulplätze in Waltrop.", "Die Busse fahren in "
             "Lembeck kaum."]
    first = GermanPipeline(cache_dir=tmp_path)
    a = first.analyse(texts)
    assert first.parsed == 2  # the duplicate is parsed once
    first.close()
    second = GermanPipeline(cache_dir=tmp_path)
    b = second.analyse(texts)
    assert second.parsed == 0 and second.cached == 3
    assert a == b
    assert second.analyse(["Neuer Text über Kitaplätze."]) and second.parsed == 1


def test_nlp_offsets_of_sentences_are_code_points() -> None:
    text = "Grüße aus Gladbeck 😀. Zweiter Satz über Ärzte."
    a = GermanPipeline().analyse([text])[0]
    assert [text[s:e] for s, e in a.sentences] == ["Grüße aus Gladbeck 😀.", "Zweiter Satz über Ärzte."]


def test_nlp_read_only_pipeline_never_writes_the_cache(tmp_path: Path) -> None:
    """A worker's pipeline reads the cache, keeps what it had to parse in ``new``; the writer adds it."""
    writer = GermanPipeline(cache_dir=tmp_path)
    writer.analyse(["Die Kitaplätze fehlen."])
    before = (tmp_path / "nlp.sqlite").read_bytes()
    worker = GermanPipeline(cache_dir=tmp_path, read_only=True)
    got = worker.analyse(["Die Kitaplätze fehlen.", "Sprachkurse sind voll.", "Sprachkurse sind voll."])
    assert worker.parsed == 1  # the repeated text is parsed once
    assert [a.sha256 for a in worker.new] == [got[1].sha256]
    assert (tmp_path / "nlp.sqlite").read_bytes() == before
    with pytest.raises(ValueError, match="read-only"):
        worker.add(worker.new)
    assert writer.missing(["Sprachkurse sind voll.", "Die Kitaplätze fehlen."]) == ["Sprachkurse sind voll."]
    assert writer.add(worker.new) == 1
    assert writer.missing(["Sprachkurse sind voll."]) == []
    assert GermanPipeline(cache_dir=tmp_path).analyse(["Sprachkurse sind voll."]) == [got[1]]
    # no cache file yet: a read-only worker parses in memory and creates nothing
    empty = GermanPipeline(cache_dir=tmp_path / "none", read_only=True)
    assert empty.analyse(["Wohnungen fehlen."])[0].terms
    assert not (tmp_path / "none").exists()


def test_nlp_analyse_in_parts_gives_the_analyses_in_order_a_part_at_a_time(tmp_path: Path) -> None:
    """analyse_in_parts yields what analyse returns, in order (repeated texts included), asking for one part
    at a time: nothing is analysed before the caller reads that far."""
    pipe = GermanPipeline(cache_dir=tmp_path)
    texts = ["Die Kita fehlt.", "Sprachkurse sind voll.", "Die Kita fehlt.", "Busse fahren selten.", "Gut."]
    whole = pipe.analyse(texts)
    asked: list[int] = []
    real = pipe.analyse

    def spy(part: list[str]) -> list[object]:
        asked.append(len(part))
        return real(part)  # type: ignore[return-value]
    pipe.analyse = spy  # type: ignore[method-assign,assignment]
    parts = pipe.analyse_in_parts(iter(texts), size=2)
    first = next(parts)
    assert asked == [2] and first == whole[0]
    assert [first, *parts] == whole and asked == [2, 2, 1]
