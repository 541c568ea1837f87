"""The widgets' Python side: offset mapping, create/change/delete, suggestions, concurrent writers."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualkit.corpus import ingest
from qualkit.project import Project, open_project
from qualkit.widgets import CodingView


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


def _req(view: CodingView, **req: object) -> dict[str, object]:
    view.request = {**req, "nonce": f"{req.get('client', '')}:{len(view.project.store.log())}:{req['action']}"}
    return dict(view.reply)


def test_widgets_undo_redo_through_the_store_log(tiny_project: Project) -> None:
    ingest(tiny_project)
    view = CodingView(tiny_project, document="A1", coder="anna")
    store = tiny_project.store
    s = view.doc["text"].index("Kitaplätze")
    _req(view, action="code", start=s, end=s + 10, code="Frühkindliche Bildung", client="c1")
    cid = view.codings[0]["id"]
    _req(view, action="memo", id=cid, memo="fehlen", expect={"code": "Frühkindliche Bildung", "memo": ""}, client="c1")
    _req(view, action="undo", client="c1")
    assert store.coding(cid)["memo"] == ""
    _req(view, action="undo", client="c1")
    assert view.codings == [] and store.codings().empty
    _req(view, action="redo", client="c1")
    assert [c["id"] for c in view.codings] == [cid]  # the same coding comes back, with its id
    _req(view, action="redo", client="c1")
    assert store.coding(cid)["memo"] == "fehlen"
    reply = _req(view, action="delete", id=cid, expect={"code": "Frühkindliche Bildung", "memo": "fehlen"}, client="c1")
    assert reply["ok"] and reply["undo"] and view.codings == []
    _req(view, action="undo", client="c1")
    assert store.coding(cid)["memo"] == "fehlen"
    assert store.log().action.tolist() == ["add", "update", "update", "delete", "restore", "update", "delete",
                                           "restore"]
    assert not _req(view, action="redo", client="c2")["ok"]  # another browser has its own history


def test_widgets_same_code_twice_is_not_a_duplicate(tiny_project: Project) -> None:
    ingest(tiny_project)
    view = CodingView(tiny_project, document="A1", coder="anna")
    s = view.doc["text"].index("Kitaplätze")
    for _ in range(2):
        reply = _req(view, action="code", start=s, end=s + 10, code="Frühkindliche Bildung")
    assert len(view.codings) == 1 and reply["text"].startswith("Schon codiert")
    _req(view, action="code", start=s, end=s + 10, code="Bildung und Sprache")  # another code: fine
    view.show_document("S2-F1")
    for _ in range(2):
        reply = _req(view, action="code_unit", unit=0, code="Schule und Seiteneinstieg")
    assert len(view.codings) == 1 and reply["last"] == {"document": "S2-F1", "code": "Schule und Seiteneinstieg"}


def test_widgets_second_browser_is_asked_and_codes_under_its_name(tiny_project: Project) -> None:
    ingest(tiny_project)
    view = CodingView(tiny_project, document="A1", coder="anna")
    text = view.doc["text"]
    s = text.index("Kitaplätze")
    assert _req(view, action="hello", client="browser-1")["coder"] == "anna"
    asked = _req(view, action="code", start=s, end=s + 10, code="Frühkindliche Bildung", client="browser-2")
    assert asked["need_coder"] and not asked["ok"] and view.codings == []
    _req(view, action="code", start=s, end=s + 10, code="Frühkindliche Bildung", client="browser-2", coder="bert")
    _req(view, action="code", start=s, end=s + 10, code="Bildung und Sprache", client="browser-1")
    assert sorted((c["coder"], c["code"]) for c in view.codings) == [("anna", "Bildung und Sprache"),
                                                                     ("bert", "Frühkindliche Bildung")]
    # a later view of the same project in this kernel still knows both browsers
    other = CodingView(tiny_project, document="A1", coder="anna")
    assert _req(other, action="hello", client="browser-2")["coder"] == "bert"


def test_widgets_stale_popup_is_refused_and_keeps_the_text(tiny_project: Project) -> None:
    ingest(tiny_project)
    view = CodingView(tiny_project, document="A1", coder="anna")
    store = tiny_project.store
    s = view.doc["text"].index("Kitaplätze")
    cid = store.add_coding("A1", s, s + 10, "Frühkindliche Bildung", coder="anna")
    view.refresh()
    store.update_coding(cid, coder="bert", memo="von Bert")  # the other coder, after the popup opened
    reply = _req(view, action="memo", id=cid, memo="von Anna", expect={"code": "Frühkindliche Bildung", "memo": ""})
    assert not reply["ok"] and reply["conflict"] == {"id": cid, "field": "memo", "theirs": "von Bert", "by": "bert"}
    assert "bert" in reply["text"] and store.coding(cid)["memo"] == "von Bert"
    store.delete_coding(cid, coder="bert")
    reply = _req(view, action="memo", id=cid, memo="von Anna", expect={"code": "Frühkindliche Bildung", "memo": ""})
    assert reply["conflict"]["field"] == "deleted" and "gelöscht" in reply["text"]
    assert _req(view, action="delete", id=cid, expect={})["conflict"]["field"] == "deleted"


def test_widgets_navigation_progress_search_and_focus(tiny_project: Project) -> None:
    ingest(tiny_project)
    view = CodingView(tiny_project, document="A1", coder="anna")
    a1 = next(d for d in view.documents if d["id"] == "A1")
    assert (a1["coded"], a1["units"]) == (0, 2)  # two respondent turns, questions do not count
    t = view.doc["text"]
    s = t.index("Kitaplätze")
    _req(view, action="code", start=s, end=s + 10, code="Frühkindliche Bildung")
    assert next(d for d in view.documents if d["id"] == "A1")["coded"] == 1
    assert view.code_counts == {"Frühkindliche Bildung": 1}
    reply = _req(view, action="search", query="sprachkurse")
    assert [(h["document"], h["match"]) for h in view.hits] == [("A1", "Sprachkurse"), ("B2", "Sprachkurse"),
                                                                ("S2-F1", "Sprachkurse")]
    assert reply["text"] == "3 Treffer in 3 Dokument(en)"
    hit = view.hits[1]
    _req(view, action="open", document=hit["document"], start=hit["start"], end=hit["end"])
    assert view.doc["id"] == "B2" and view.doc["text"][view.focus["start"]:view.focus["end"]] == "Sprachkurse"
    view.show_document("A1")
    _req(view, action="step_uncoded", delta=1)  # A1 still has an uncoded turn, but B2 is next in the list
    assert view.doc["id"] == "B2"
    first = view.doc["units"][1]  # B2's first respondent turn
    assert (view.focus["start"], view.focus["end"]) == (first["start"], first["end"])


def test_widgets_page_messages_are_each_handled(tiny_project: Project) -> None:
    ingest(tiny_project)
    view = CodingView(tiny_project, document="A1", coder="anna")
    s = view.doc["text"].index("Kitaplätze")
    for i, code in enumerate(["Frühkindliche Bildung", "Bildung und Sprache"]):  # as custom messages from the page
        view._handle_custom_msg({"action": "code", "start": s, "end": s + 10, "code": code, "nonce": f"p:{i}"}, [])
    assert sorted(c["code"] for c in view.codings) == ["Bildung und Sprache", "Frühkindliche Bildung"]
    assert view.reply["nonce"] == "p:1"


def test_widgets_poll_shows_another_coders_delete(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    cid = store.add_coding("A1", 30, 40, "Bildung und Sprache", coder="bert")
    view = CodingView(tiny_project, document="A1", coder="anna")
    assert [c["id"] for c in view.codings] == [cid]
    _req(view, action="poll")
    store.delete_coding(cid, coder="bert")  # in another kernel
    _req(view, action="poll")
    assert view.codings == []


def _sent(view: CodingView) -> list[set[str]]:
    """Record the names of the synced values each message to the page carries."""
    out: list[set[str]] = []
    send = view.comm.send

    def record(data: dict[str, object] | None = None, **kw: object) -> None:
        state = (data or {}).get("state")
        if isinstance(state, dict):
            out.append(set(state))
        send(data=data, **kw)
    view.comm.send = record
    return out


def test_widgets_actions_send_only_a_delta(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    view = CodingView(tiny_project, document="A1", coder="anna")
    sent = _sent(view)
    s = view.doc["text"].index("Kitaplätze")
    reply = _req(view, action="code", start=s, end=s + 10, code="Frühkindliche Bildung", client="c1")
    cid = view.codings[0]["id"]
    assert reply["delta"] == {"document": "A1", "remove": [], "upsert": view.codings,
                              "counts": {"Frühkindliche Bildung": 1}, "progress": {"A1": [1, 2]}, "coders": ["anna"]}
    assert next(d for d in view.documents if d["id"] == "A1")["coded"] == 1
    assert view.code_counts == {"Frühkindliche Bildung": 1}
    reply = _req(view, action="memo", id=cid, memo="fehlen", expect={"code": "Frühkindliche Bildung", "memo": ""},
                 client="c1")
    assert [c["id"] for c in reply["delta"]["upsert"]] == [cid] and view.codings[0]["memo"] == "fehlen"
    assert "counts" not in reply["delta"] and "progress" not in reply["delta"]  # nothing else changed
    reply = _req(view, action="delete", id=cid, expect={}, client="c1")
    assert reply["delta"]["remove"] == [cid] and reply["delta"]["counts"] == {"Frühkindliche Bildung": 0}
    assert reply["delta"]["progress"] == {"A1": [0, 2]} and view.codings == [] and view.code_counts == {}
    assert "delta" not in _req(view, action="poll", client="c1")  # nothing new
    # the whole lists never went to the page: only the replies and the bar's message (the requests are the
    # test's own, set from Python)
    assert all(keys <= {"reply", "message", "request"} for keys in sent), sent
    # another coder's change in another kernel arrives with the next poll, as a delta
    other = store.add_coding("A1", s, s + 10, "Bildung und Sprache", coder="bert")
    reply = _req(view, action="poll", client="c1")
    assert [c["id"] for c in reply["delta"]["upsert"]] == [other] and reply["delta"]["coders"] == ["anna", "bert"]
    assert [c["id"] for c in view.codings] == [other]


def test_widgets_document_and_reload_send_lists_whole(tiny_project: Project) -> None:
    ingest(tiny_project)
    view = CodingView(tiny_project, document="A1", coder="anna")
    s = view.doc["text"].index("Kitaplätze")
    _req(view, action="code", start=s, end=s + 10, code="Frühkindliche Bildung")
    sent = _sent(view)
    rev = view.revision
    view.show_document("B2")
    assert view.codings == [] and view.revision == rev + 1
    assert {"codings", "doc", "revision"} <= sent[0]  # one message: the page draws the document with its codings
    _req(view, action="hello", client="new-view")  # a new view of the widget gets every list whole
    assert {"codings", "documents", "code_counts", "coders"} <= set().union(*sent[1:])


def test_widgets_bulk_change_reloads(tiny_project: Project) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    view = CodingView(tiny_project, document="A1", coder="anna")
    text = view.doc["text"]
    s = text.index("Kitaplätze")
    store.add_codings([{"document": "A1", "start": s, "end": s + 10, "code": "Frühkindliche Bildung",
                        "coder": f"c{i}"} for i in range(501)], action="import")
    rev = view.revision
    reply = _req(view, action="poll")
    assert "delta" not in reply and view.revision > rev and len(view.codings) == 501
    assert view.code_counts == {"Frühkindliche Bildung": 501}


def test_widgets_live_suggestions_follow_after_the_answer(tiny_project: Project,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    ingest(tiny_project)
    store = tiny_project.store
    view = CodingView(tiny_project, document="A1", coder="anna", live_suggestions=True)
    replies: list[dict[str, object]] = []
    view.observe(lambda ch: replies.append(dict(ch["new"])), names="reply")
    made: list[int] = []

    def refit() -> None:  # stands in for the auto-coder: one new suggestion in the open document
        assert replies and replies[-1]["action"] == "code"  # the coder already has the answer
        made.append(store.add_coding("A1", 175, 190, "Wohnen und Mobilität", coder="qualkit-autocode",
                                     origin="auto", score=0.6))
    monkeypatch.setattr(view, "update_suggestions", refit)
    s = view.doc["text"].index("Kitaplätze")
    _req(view, action="code", start=s, end=s + 10, code="Frühkindliche Bildung", client="c1")
    own, sync = replies
    assert own["client"] == "c1" and [c["code"] for c in own["delta"]["upsert"]] == ["Frühkindliche Bildung"]
    assert sync["client"] == "*" and [c["id"] for c in sync["delta"]["upsert"]] == made  # to every browser
    assert any(c["id"] == made[0] and c["status"] == "pending" for c in view.codings)


_CODES = ["Frühkindliche Bildung", "Bildung und Sprache", "Wohnen und Mobilität"]
_STEP = st.one_of(
    st.tuples(st.just("code"), st.integers(0, 3), st.integers(0, 40), st.sampled_from(_CODES)),
    st.tuples(st.just("memo"), st.integers(0, 9), st.sampled_from(["", "a", "b"])),
    st.tuples(st.just("recode"), st.integers(0, 9), st.sampled_from(_CODES)),
    st.tuples(st.just("delete"), st.integers(0, 9)),
    st.tuples(st.sampled_from(["undo", "redo", "poll"])),
    st.tuples(st.just("theirs"), st.integers(0, 3), st.sampled_from(_CODES)),  # another coder, another kernel
    st.tuples(st.just("suggest"), st.integers(0, 3)),  # the auto-coder, another kernel
    st.tuples(st.sampled_from(["accept", "reject"]), st.integers(0, 9)),
    st.tuples(st.just("gone"), st.integers(0, 9)),  # another coder deletes
    st.tuples(st.just("open"), st.sampled_from(["A1", "B2"])),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(_STEP, min_size=1, max_size=12))
def test_widgets_deltas_add_up_to_a_fresh_load(ingested: Project, steps: list[tuple[object, ...]]) -> None:
    """Invariant: after every request the view's lists, kept by deltas, equal a fresh load from the store, and
    so does a page that applies the replies' deltas as coding.js does."""
    store = ingested.store
    view = CodingView(ingested, document="A1", coder="anna")
    page, rev = list(view.codings), view.revision
    for step in steps:
        kind = step[0]
        mine = list(view.codings)
        units = [u for u in view.doc["units"] if u["role"] != "interviewer"]
        req: dict[str, object] = {"action": kind}
        if kind == "code":
            u = units[int(step[1]) % len(units)]
            s = u["start"] + int(step[2]) % max(1, u["end"] - u["start"] - 2)
            req.update(start=s, end=min(u["end"], s + 5), code=step[3])
        elif kind in ("memo", "recode", "delete", "accept", "reject", "gone"):
            if not mine:
                continue
            c = mine[int(str(step[1])) % len(mine)]
            if kind == "gone":
                store.delete_coding(c["id"], coder="bert")
                req = {"action": "poll"}
            else:
                req.update(id=c["id"])
                if kind == "memo":
                    req.update(memo=step[2], expect={"code": c["code"], "memo": c["memo"]})
                elif kind == "recode":
                    req.update(code=step[2], expect={"code": c["code"], "memo": c["memo"]})
        elif kind in ("theirs", "suggest"):
            u = units[int(step[1]) % len(units)]
            if kind == "theirs":
                store.add_coding(view.doc["id"], u["start"], u["end"], str(step[2]), coder="bert")
            else:
                store.add_coding(view.doc["id"], u["start"], u["start"] + 3, "Bildung und Sprache",
                                 coder="qualkit-autocode", origin="auto", score=0.5)
            req = {"action": "poll"}
        elif kind == "open":
            req.update(document=step[1])
        reply = _req(view, **req, client="page")
        if view.revision != rev:  # lists sent whole: the page takes them
            page, rev = list(view.codings), view.revision
        elif reply.get("delta", {}).get("document") == view.doc["id"]:
            d = reply["delta"]
            gone = set(d["remove"]) | {c["id"] for c in d["upsert"]}
            page = sorted([c for c in page if c["id"] not in gone] + d["upsert"], key=lambda c: (c["start"], c["id"]))
        fresh = CodingView(ingested, document=view.doc["id"], coder="anna")
        assert view.codings == fresh.codings == page, (step, reply)
        assert view.code_counts == fresh.code_counts and view.coders == fresh.coders
        assert view.documents == fresh.documents


@pytest.fixture
def ingested(tiny_project: Project) -> Project:
    ingest(tiny_project)
    return tiny_project
