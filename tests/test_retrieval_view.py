"""The retrieval view's Python side: the list, live after changes in the linked coding view, and the jump."""

from __future__ import annotations

import pytest

from qualkit.corpus import ingest
from qualkit.project import Project
from qualkit.retrieval_view import RetrievalView
from qualkit.widgets import CodingView

from .test_widgets import _req


def test_retrieval_view_jumps(tiny_project: Project) -> None:
    ingest(tiny_project)
    tiny_project.store.add_coding("B2", 40, 60, "Mobilität und ÖPNV", coder="a")
    cv = CodingView(tiny_project, document="A1", coder="a")
    rv = RetrievalView(tiny_project, "Wohnen und Mobilität", coding_view=cv, context=20)
    assert len(rv.rows) == 1 and rv.rows[0]["document"] == "B2" and "Kommune: Dorsten" in rv.rows[0]["vars"]
    rv.request = {"action": "open", "document": "B2"}
    assert cv.doc["id"] == "B2"


def test_retrieval_view_is_live_and_marks(tiny_project: Project) -> None:
    ingest(tiny_project)
    cv = CodingView(tiny_project, document="A1", coder="a")
    rv = RetrievalView(tiny_project, "Bildung und Sprache", coding_view=cv, context=20)
    assert rv.rows == []
    s = cv.doc["text"].index("Kitaplätze")
    _req(cv, action="code", start=s, end=s + 10, code="Frühkindliche Bildung")
    assert [r["text"] for r in rv.rows] == ["Kitaplätze"]  # a subcode of the chosen code, live
    rv.chosen = ["Frühkindliche Bildung", "Wohnen und Mobilität"]
    rv.mode = "all"
    assert rv.rows == []
    rv.mode = "any"
    assert len(rv.rows) == 1 and "Kommune: Gladbeck" in rv.rows[0]["vars"]
    cv.show_document("B2")
    r = rv.rows[0]
    rv.request = {"action": "open", "document": r["document"], "start": r["start"], "end": r["end"], "n": 1}
    assert cv.doc["id"] == "A1" and (cv.focus["start"], cv.focus["end"]) == (s, s + 10)


def test_retrieval_view_follows_only_its_codes_after_the_reply(tiny_project: Project,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    ingest(tiny_project)
    cv = CodingView(tiny_project, document="A1", coder="a")
    rv = RetrievalView(tiny_project, "Bildung und Sprache", coding_view=cv, context=20)
    runs: list[object] = []
    real = rv.refresh
    monkeypatch.setattr(rv, "refresh", lambda: (runs.append(cv.reply.get("nonce")), real())[1])
    s = cv.doc["text"].index("Kitaplätze")
    _req(cv, action="code", start=s, end=s + 10, code="Wohnen und Mobilität")
    assert runs == [] and rv.rows == []  # another code: the retrieval is not run again
    reply = _req(cv, action="code", start=s, end=s + 10, code="Frühkindliche Bildung")
    assert runs == [reply["nonce"]]  # run once, after the page had its answer
    assert [r["text"] for r in rv.rows] == ["Kitaplätze"]
