"""What the store's log says changed since a point: the codings, documents, codes and coders touched."""

from __future__ import annotations

from qualkit.changes import changes_since, last_entry
from qualkit.corpus import ingest
from qualkit.project import Project


def test_changes_since_names_what_was_touched(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    start = last_entry(store)
    assert changes_since(store, start).entries == 0
    a = store.add_coding("A1", 60, 70, "Frühkindliche Bildung", coder="anna")
    b = store.add_coding("B2", 40, 60, "Mobilität und ÖPNV", coder="bert")
    mid = last_entry(store)
    store.update_coding(a, coder="carl", code="Bildung und Sprache")
    store.delete_coding(b, coder="bert")
    ch = changes_since(store, mid)
    assert (ch.since, ch.last, ch.entries) == (mid, last_entry(store), 2)
    assert ch.coding_ids == [a, b] and ch.documents == {"A1", "B2"}  # the deleted one's document from the log
    assert ch.codes == {"Frühkindliche Bildung", "Bildung und Sprache", "Mobilität und ÖPNV"}  # before and after
    assert ch.coders == {"anna", "bert", "carl"}
    assert ch.rows.id.tolist() == [a] and ch.rows.code.tolist() == ["Bildung und Sprache"]  # as it is now
    everything = changes_since(store, start)
    assert everything.entries == 4 and everything.coding_ids == [a, b]


def test_changes_since_only_counts_beyond_the_limit(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    start = last_entry(store)
    store.add_codings([{"document": "A1", "start": 60, "end": 70, "code": "Frühkindliche Bildung", "coder": f"c{i}"}
                       for i in range(5)], action="import")
    ch = changes_since(store, start, limit=3)
    assert ch.entries == 5 and ch.last == last_entry(store) and ch.coding_ids == [] and ch.rows.empty
