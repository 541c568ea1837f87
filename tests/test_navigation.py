"""Uncoded units, progress and search across documents."""

from __future__ import annotations

from qualkit.corpus import ingest
from qualkit.navigation import coding_progress, search_documents, uncoded_units
from qualkit.project import Project


def test_navigation_uncoded_units_skip_questions_and_pending(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    units = store.units("A1")
    assert uncoded_units(units, store.codings(document_id="A1")) == [1, 3]
    second = units[units.idx == 3].iloc[0]
    store.add_coding("A1", int(second.start), int(second.start) + 3, "Bildung und Sprache", coder="qualkit-autocode",
                     origin="auto")
    assert uncoded_units(units, store.codings(document_id="A1")) == [1, 3]  # a pending suggestion is no coding
    store.add_coding("A1", int(second.start), int(second.start) + 3, "Bildung und Sprache", coder="anna")
    assert uncoded_units(units, store.codings(document_id="A1")) == [1]
    progress = coding_progress(store)
    assert progress["A1"] == (1, 2) and progress["B2"] == (0, 2) and progress["S2-F1"] == (0, 1)


def test_navigation_search_is_case_insensitive_with_context(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    hits = search_documents(store, "ÄHM", context=5)
    text = store.document_text("A1")
    assert [(h["document"], text[h["start"]:h["end"]]) for h in hits] == [("A1", "ähm")]
    assert hits[0]["before"] == text[hits[0]["start"] - 5:hits[0]["start"]]
    hits = search_documents(store, "gut. die", documents=["A1"])
    assert [text[h["start"]:h["end"]] for h in hits] == ["gut. Die"]
    assert search_documents(store, "Sprachkurse", limit=1)[0]["document"] == "A1"
    assert search_documents(store, "  ") == []
