from __future__ import annotations

import pytest

from qualkit.blind import assign_blind, blind_documents, mark_done, visible_codings
from qualkit.corpus import ingest
from qualkit.errors import CodingError
from qualkit.project import Project
from qualkit.widgets import CodingView

from .conftest import run_cli


@pytest.fixture
def coded(tiny_project: Project) -> Project:
    ingest(tiny_project)
    s = tiny_project.store
    text = s.document_text("A1")
    i = text.index("Kitaplätze")
    s.add_coding("A1", i, i + 10, "Frühkindliche Bildung", coder="A")
    s.add_coding("A1", i, i + 10, "Bildung und Sprache", coder="qualkit-autocode", origin="auto", score=0.9)
    s.add_coding("B2", 60, 70, "Bildung und Sprache", coder="A")
    return tiny_project


def test_blind_view_hides_other_coders_and_suggestions_until_done(coded: Project) -> None:
    assert assign_blind(coded, "yb", ["A1"], by="lead") == 1
    assert assign_blind(coded, "yb", ["A1"], by="lead") == 0
    view = CodingView(coded, document="A1", coder="yb")
    assert view.codings == []  # neither A's coding nor the machine's suggestion reaches the page
    view.request = {"action": "code", "start": 40, "end": 60, "code": "Bildung und Sprache"}
    assert {c["coder"] for c in view.codings} == {"yb"}
    view.request = {"action": "open", "document": "B2"}  # not assigned blind: everything is shown
    assert {c["coder"] for c in view.codings} == {"A"}
    other = CodingView(coded, document="A1", coder="A")  # the other coder is not blind
    assert {c["coder"] for c in other.codings} == {"A", "qualkit-autocode", "yb"}
    view.request = {"action": "open", "document": "A1"}
    view.request = {"action": "blind_done"}
    assert "fertig" in view.message
    assert {c["coder"] for c in view.codings} == {"A", "qualkit-autocode", "yb"}
    assert blind_documents(coded, "yb") == set()
    with pytest.raises(CodingError, match="not an open blind assignment"):
        mark_done(coded, "yb", "A1")


def test_blind_assignment_checks_documents_and_filters_frames(coded: Project) -> None:
    with pytest.raises(CodingError, match="unknown document"):
        assign_blind(coded, "yb", ["A1", "Z9"], by="lead")
    assert blind_documents(coded, "yb") == set()
    assign_blind(coded, "yb", ["A1"], by="lead")
    df = coded.store.codings(document_id="A1")
    assert visible_codings(coded, "yb", "A1", df).empty and len(visible_codings(coded, "A", "A1", df)) == 2


def test_blind_cli(coded: Project) -> None:
    root = str(coded.root)
    code, out, _ = run_cli("blind", "assign", "yb", "A1", "B2", "--project", root)
    assert code == 0 and "2 document(s) assigned to yb" in out
    code, out, _ = run_cli("blind", "done", "yb", "B2", "--project", root)
    assert code == 0
    code, out, _ = run_cli("blind", "list", "--project", root)
    assert "yb\tA1\topen" in out and "yb\tB2\tdone" in out
    code, _, err = run_cli("blind", "done", "yb", "B2", "--project", root)
    assert code == 1 and "not an open blind assignment" in err
