"""Selections to spans: whole words (umlauts, emoji), one span per turn, the question left out."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from qualkit.corpus import ingest
from qualkit.project import Project
from qualkit.selection import selection_spans, snap_to_words


def test_selection_snap_to_words_umlauts_and_emoji() -> None:
    text = "Die Wohnungssuche ist schlimm. 😀 Ärger!"
    s = text.index("hnungs")
    assert text[slice(*snap_to_words(text, s, s + 3))] == "Wohnungssuche"
    s = text.index("rger")
    assert text[slice(*snap_to_words(text, s, s + 2))] == "Ärger"
    a, b = snap_to_words(text, text.index("ist") - 1, text.index("😀") + 1)
    assert text[a:b] == "ist schlimm. 😀"


@given(st.text(alphabet=st.sampled_from(list("abäß ü😀.,")), min_size=1, max_size=30), st.integers(0, 30),
       st.integers(0, 30))
def test_selection_snap_stays_inside_text(text: str, a: int, b: int) -> None:
    s, e = snap_to_words(text, min(a, len(text)), min(b, len(text)))
    assert 0 <= s <= e <= len(text)
    if s < e:
        assert not text[s].isspace() and not text[e - 1].isspace()


def test_selection_across_turns_splits_at_turns_without_the_question(tiny_project: Project) -> None:
    ingest(tiny_project)
    text = tiny_project.store.document_text("A1")
    units = tiny_project.store.units("A1")
    start = text.index("Sprachkurse")
    end = text.index("Das KI hat") + 6
    spans = selection_spans(text, units, start, end)
    assert [text[s:e] for s, e in spans] == ["Sprachkurse.", "Das KI"]  # the interviewer's question is left out
    q = text.index("Und was macht")
    assert [text[s:e] for s, e in selection_spans(text, units, q, q + 9)] == ["Und was macht"]  # asked for alone
