"""Undo and redo of a coder's steps, carried out through the store and its log."""

from __future__ import annotations

import pytest

from qualkit.corpus import ingest
from qualkit.errors import CodingConflictError, CodingError
from qualkit.history import History
from qualkit.project import Project


def test_history_undo_redo_add_update_decide(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    h = History(store)
    cid = store.add_coding("A1", 30, 40, "Bildung und Sprache", coder="anna")
    h.added([cid], "add")
    store.update_coding(cid, coder="anna", code="Wohnen und Mobilität")
    h.updated(cid, {"code": "Bildung und Sprache"}, {"code": "Wohnen und Mobilität"}, "recode")
    sid = store.add_coding("A1", 50, 60, "Bildung und Sprache", coder="qualkit-autocode", origin="auto")
    store.decide(sid, accept=False, coder="anna")
    h.decided(sid, accept=False, label="reject")
    assert h.undo(coder="anna").label == "reject" and store.coding(sid)["status"] == "pending"
    assert h.undo(coder="anna").label == "recode" and store.coding(cid)["code"] == "Bildung und Sprache"
    h.undo(coder="anna")
    assert store.codings().id.tolist() == [sid]
    with pytest.raises(CodingError):
        h.undo(coder="anna")
    for _ in range(3):
        h.redo(coder="anna")
    assert store.coding(cid)["code"] == "Wohnen und Mobilität" and store.coding(sid)["status"] == "rejected"
    with pytest.raises(CodingError):
        h.redo(coder="anna")
    h.added([], "nothing")  # an action that coded nothing is no step
    assert len(h.undo_steps) == 3 and h.redo_steps == []


def test_history_undo_refuses_over_another_coders_change(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    h = History(store)
    cid = store.add_coding("A1", 30, 40, "Bildung und Sprache", coder="anna")
    store.update_coding(cid, coder="anna", memo="a")
    h.updated(cid, {"memo": ""}, {"memo": "a"}, "memo")
    store.update_coding(cid, coder="bert", memo="b")
    with pytest.raises(CodingConflictError):
        h.undo(coder="anna")
    assert store.coding(cid)["memo"] == "b" and len(h.undo_steps) == 1
    h2 = History(store)
    h2.added([cid], "add")
    store.delete_coding(cid, coder="bert")
    with pytest.raises(CodingConflictError) as e:
        h2.undo(coder="anna")
    assert e.value.by == "bert"
