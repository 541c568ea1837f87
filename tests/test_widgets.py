"""The widgets' Python side: offset mapping, create/change/delete, suggestions, concurrent writers."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qualkit.corpus import ingest
from qualkit.project import Project, open_project
from qualkit.widgets import CodingView, RetrievalView, selection_spans, snap_to_words


def test_widgets_snap_to_words_umlauts_and_emoji() -> None:
    text = "Die Wohnungssuche ist schlimm. 😀 Ärger!"
    s = text.index("hnungs")
    assert text[slice(*snap_to_words(text, s, s + 3))] == "Wohnungssuche"
    s = text.index("rger")
    assert text[slice(*snap_to_words(text, s, s + 2))] == "Ärger"
    a, b = snap_to_words(text, text.index("ist") - 1, text.index("😀") + 1)
    assert text[a:b] == "ist schlimm. 😀"


@given(st.text(alphabet=st.sampled_from(list("abäß ü😀.,")), min_size=1, max_size=30), st.integers(0, 30),
       st.integers(0, 30))
def test_widgets_snap_stays_inside_text(text: str, a: int, b: int) -> None:
    s, e = snap_to_words(text, min(a, len(text)), min(b, len(text)))
    assert 0 <= s <= e <= len(text)
    if s < e:
        assert not text[s].isspace() and not text[e - 1].isspace()


def test_widgets_selection_across_turns_splits_at_turns_without_the_question(tiny_project: Project) -> None:
    ingest(tiny_project)
    text = tiny_project.store.document_text("A1")
    units = tiny_project.store.units("A1")
    start = text.index("Sprachkurse")
    end = text.index("Das KI hat") + 6
    spans = selection_spans(text, units, start, end)
    assert [text[s:e] for s, e in spans] == ["Sprachkurse.", "Das KI"]  # the interviewer's question is left out
    q = text.index("Und was macht")
    assert [text[s:e] for s, e in selection_spans(text, units, q, q + 9)] == ["Und was macht"]  # asked for alone


def test_widgets_coding_view_create_change_delete_accept(tiny_project: Project) -> None:
    ingest(tiny_project)
    view = CodingView(tiny_project, document="A1", coder="anna")
    assert view.doc["id"] == "A1" and view.doc["variables"]["Kommune"] == "Gladbeck"
    assert [u["role"] for u in view.doc["units"]] == ["interviewer", "respondent", "interviewer", "respondent"]
    text = view.doc["text"]
    s = text.index("Kitaplätze")
    view.request = {"action": "code", "start": s + 2, "end": s + 5, "code": "Frühkindliche Bildung", "nonce": 1}
    assert [c["code"] for c in view.codings] == ["Frühkindliche Bildung"]
    c = view.codings[0]
    assert text[c["start"]:c["end"]] == "Kitaplätze" and c["coder"] == "anna" and c["colour"] == "#2E86AB"
    view.request = {"action": "recode", "id": c["id"], "code": "Bildung und Sprache", "nonce": 2}
    view.request = {"action": "memo", "id": c["id"], "memo": "Plätze fehlen", "nonce": 3}
    assert (view.codings[0]["code"], view.codings[0]["memo"]) == ("Bildung und Sprache", "Plätze fehlen")
    auto = tiny_project.store.add_coding("A1", s, s + 10, "Frühkindliche Bildung", coder="qualkit-autocode",
                                         origin="auto", score=0.7)
    view.refresh()
    assert any(x["status"] == "pending" for x in view.codings)
    view.request = {"action": "accept", "id": auto, "nonce": 4}
    assert tiny_project.store.coding(auto)["decided_by"] == "anna"
    view.request = {"action": "delete", "id": c["id"], "nonce": 5}
    assert [x["id"] for x in view.codings] == [auto]
    view.request = {"action": "code", "start": 0, "end": 2, "code": "Bildung und Sprache", "nonce": 6}
    assert view.message.startswith("Fehler")  # a selection of the speaker label alone holds no turn text


def test_widgets_survey_quick_keyboard_coding_advances(tiny_project: Project) -> None:
    ingest(tiny_project)
    view = CodingView(tiny_project, document="S1-F1", coder="bert")
    view.doc_filter = "Kommune=Marl"
    assert [d["id"] for d in view.documents] == ["S1-F1"]
    view.doc_filter = "S2"
    assert [d["id"] for d in view.documents] == ["S2-F1", "S2-F2"]
    view.show_document("S2-F1")
    view.request = {"action": "code_unit", "unit": 0, "code": "Schule und Seiteneinstieg", "advance": True, "nonce": 1}
    assert view.doc["id"] == "S2-F2"
    coded = tiny_project.store.codings(document_id="S2-F1")
    assert coded.quote.tolist() == [tiny_project.store.document_text("S2-F1")]


def test_widgets_retrieval_view_jumps(tiny_project: Project) -> None:
    ingest(tiny_project)
    tiny_project.store.add_coding("B2", 40, 60, "Mobilität und ÖPNV", coder="a")
    cv = CodingView(tiny_project, document="A1", coder="a")
    rv = RetrievalView(tiny_project, "Wohnen und Mobilität", coding_view=cv, context=20)
    assert len(rv.rows) == 1 and rv.rows[0]["document"] == "B2" and "Kommune: Dorsten" in rv.rows[0]["vars"]
    rv.request = {"action": "open", "document": "B2"}
    assert cv.doc["id"] == "B2"


def _writer(root: str, coder: str, n: int) -> None:
    project = open_project(root)
    store = project.store
    first = store.units("A1").iloc[0]  # spans inside the first turn's text
    for i in range(n):
        s = int(first.start) + i % (int(first.end) - int(first.start) - 3)
        store.add_coding("A1", s, s + 3, "Bildung und Sprache", coder=coder)


def test_widgets_two_coders_two_processes_lose_nothing(tiny_project: Project) -> None:
    ingest(tiny_project)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tiny_project.root), c, 60)) for c in ("anna", "bert")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    counts = tiny_project.store.codings().groupby("coder").size().to_dict()
    assert counts == {"anna": 60, "bert": 60}
    # a view opened before sees the other coder's work on refresh
    view = CodingView(tiny_project, document="A1", coder="anna")
    tiny_project.store.add_coding("A1", 3, 8, "Bildung und Sprache", coder="bert")
    before = len(view.codings)
    view.refresh()
    assert len(view.codings) == before + 1


def test_widgets_notebook_is_thin_with_parameters() -> None:
    import nbformat
    root = Path(__file__).resolve().parents[1] / "notebooks"
    for path in sorted(root.glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, path.name
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        assert all("def " not in src and "class " not in src for src in code), path.name
        assert sum(len(src.splitlines()) for src in code) <= 25, path.name


@pytest.mark.parametrize("name", ["chapter.ipynb", "overview.ipynb", "survey.ipynb", "themes.ipynb", "coding.ipynb"])
def test_widgets_notebooks_exist(name: str) -> None:
    assert (Path(__file__).resolve().parents[1] / "notebooks" / name).exists()
