from __future__ import annotations

import io
import sys

import pytest

from qualkit.adjudication import consensus_coder, decide, decisions, default_coders, disagreements
from qualkit.corpus import ingest
from qualkit.errors import CodingError, QualkitError
from qualkit.project import Project

from .conftest import run_cli
from .test_store import _assert_log_replays


def _code(project: Project, doc: str, quote: str, code: str, coder: str) -> int:
    text = project.store.document_text(doc)
    i = text.index(quote)
    return project.store.add_coding(doc, i, i + len(quote), code, coder=coder)


@pytest.fixture
def two_coders(tiny_project: Project) -> Project:
    """Coders A and B on A1 and B2: one agreement and one disagreement of each kind."""
    ingest(tiny_project)
    p = tiny_project
    for coder in ("A", "B"):  # agree
        _code(p, "A1", "das läuft gut", "Bildung und Sprache", coder)
    _code(p, "A1", "fehlen vor allem Kitaplätze", "Frühkindliche Bildung", "A")  # boundaries
    _code(p, "A1", "Kitaplätze", "Frühkindliche Bildung", "B")
    _code(p, "A1", "Die Wohnungssuche ist schlimm", "Wohnraum und Wohnungsmarkt", "A")  # code
    _code(p, "A1", "Die Wohnungssuche ist schlimm", "Bildung und Sprache", "B")
    _code(p, "B2", "Die Busse fahren in Lembeck kaum", "Bildung und Sprache", "A")  # only A here
    _code(p, "B2", "da kommt keiner nach", "Engagierte Bürgerinnen und Bürger", "B")  # only B here
    return p


def test_adjudication_lists_disagreements_by_kind(two_coders: Project) -> None:
    items = disagreements(two_coders, ("A", "B"))
    assert [(d.document_id, d.kind) for d in items] == [("A1", "boundaries"), ("A1", "code"), ("B2", "missing"),
                                                        ("B2", "missing")]
    boundaries = items[0]
    assert boundaries.text == "fehlen vor allem Kitaplätze" and boundaries.before.endswith("Gladbeck ")
    assert [c["code"] for c in boundaries.first] == [c["code"] for c in boundaries.second] == ["Frühkindliche Bildung"]
    assert [bool(d.first) for d in items[2:]] == [True, False]
    assert default_coders(two_coders) == ("A", "B")
    two_coders.config["coding"] = {"primary_coder": "B"}
    assert default_coders(two_coders) == ("B", "A")


def test_adjudication_decisions_become_linked_consensus_codings(two_coders: Project) -> None:
    store = two_coders.store
    items = disagreements(two_coders, ("A", "B"))
    first = decide(two_coders, items[0], "first", by="team")
    assert len(first) == 1
    row = store.coding(first[0])
    assert (row["coder"], row["origin"], row["quote"]) == ("konsens", "manual", "fehlen vor allem Kitaplätze")
    assert decide(two_coders, items[1], "none", by="team", note="kein Handlungsfeld") == []
    custom = decide(two_coders, items[2], "custom", by="team", code="Politische Teilhabe")
    both = decide(two_coders, items[3], "second", by="team")
    assert store.coding(custom[0])["code"] == "Politische Teilhabe" and len(both) == 1
    assert disagreements(two_coders, ("A", "B")) == []  # everything decided
    assert len(disagreements(two_coders, ("A", "B"), include_decided=True)) == 4
    recorded = decisions(two_coders)
    assert [(d["document_id"], d["kind"], d["decision"]) for d in recorded] == [
        ("A1", "boundaries", "first"), ("A1", "agreement", "both"), ("A1", "code", "none"), ("B2", "missing", "custom"),
        ("B2", "missing", "second")]
    assert recorded[0]["resolves"] == sorted(c["id"] for c in items[0].first + items[0].second)
    assert recorded[0]["consensus"] == first and recorded[2]["note"] == "kein Handlungsfeld"
    # what both coders coded identically in A1 ("das läuft gut") became consensus with the first decision there
    agreed = store.coding(recorded[1]["consensus"][0])
    assert (agreed["quote"], agreed["coder"]) == ("das läuft gut", "konsens") and len(recorded[1]["resolves"]) == 2
    assert sorted(store.codings().query("coder == 'konsens'").quote) == [
        "Die Busse fahren in Lembeck kaum", "da kommt keiner nach", "das läuft gut", "fehlen vor allem Kitaplätze"]
    log = store.log()
    assert list(log.action.iloc[-3:]) == ["consensus"] * 3 and set(log.coder.iloc[-3:]) == {"team"}
    _assert_log_replays(store)
    with pytest.raises(CodingError, match="unknown decision"):
        decide(two_coders, items[0], "vielleicht", by="team")
    two_coders.config["coding"] = {"consensus_coder": "einig"}
    assert consensus_coder(two_coders) == "einig"
    again = disagreements(two_coders, ("A", "B"), include_decided=True)
    assert store.coding(decide(two_coders, again[0], "second", by="team")[0])["coder"] == "einig"


def test_adjudication_needs_two_coders(tiny_project: Project) -> None:
    ingest(tiny_project)
    _code(tiny_project, "A1", "das läuft gut", "Bildung und Sprache", "A")
    with pytest.raises(QualkitError, match="two coders"):
        default_coders(tiny_project)
    items = disagreements(tiny_project, ("A", "B"))
    assert items == []


def test_adjudication_cli_reports_agreement_then_asks(two_coders: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    root = str(two_coders.root)
    code, out, _ = run_cli("adjudicate", "--list", "--project", root)
    assert code == 0 and "Agreement before adjudication (A, B; 2 documents coded by both" in out
    assert "4 open disagreement(s)" in out and "boundaries" in out
    monkeypatch.setattr(sys, "stdin", io.StringIO("1\nx\nk\ns\nq\n"))
    code, out, _ = run_cli("adjudicate", "--coders", "A", "B", "--coder", "team", "--project", root)
    assert code == 0 and "2 decision(s) recorded" in out and "[[fehlen vor allem Kitaplätze]]" in out
    assert [d["decision"] for d in decisions(two_coders) if d["kind"] != "agreement"] == ["first", "none"]
    code, out, _ = run_cli("adjudicate", "--take", "both", "--coder", "team", "--project", root)
    assert code == 0 and "2 decision(s) recorded" in out
    code, out, _ = run_cli("adjudicate", "--json", "--project", root)
    assert code == 0 and out.strip() == "[]"


def test_adjudication_on_the_example_reliability_sample(example_project: Project, tmp_path_factory:
                                                        pytest.TempPathFactory) -> None:
    from .test_merge import copy_of
    project = copy_of(example_project, tmp_path_factory.mktemp("adj") / "proj")
    items = disagreements(project, ("A", "B"))
    sample = {r[0] for r in project.store.query(
        "SELECT document_id FROM codings WHERE coder='B' INTERSECT SELECT document_id FROM codings WHERE coder='A'")}
    assert items and {d.document_id for d in items} <= sample
    assert {d.kind for d in items} == {"code", "missing"}  # the example codes whole turns: no boundary disputes
    n = 0
    for d, choice in zip(items[:40], ["first", "second", "both", "none"] * 10, strict=False):
        if (choice == "first" and not d.first) or (choice == "second" and not d.second):
            choice = "both"
        n += len(decide(project, d, choice, by="team"))
    consensus = project.store.codings().query("coder == 'konsens'")
    agreed = sum(len(d["consensus"]) for d in decisions(project) if d["kind"] == "agreement")
    assert len(consensus) == n + agreed and n > 0 and set(consensus.origin) == {"manual"}
    assert len(disagreements(project, ("A", "B"))) == len(items) - 40
    _assert_log_replays(project.store)
    # the chapters count the consensus where it exists, else the primary coder, never both coders
    from qualkit.reportdata import ReportData, ReportSettings
    decided = {d["document_id"] for d in decisions(project)}
    for primary in ("A", "B"):
        project.config["coding"]["primary_coder"] = primary
        labels = ReportData(project, ReportSettings.from_project(project)).labels
        human = labels[labels.origin.isin(["manual", "imported"])]
        per_doc = human.groupby("document_id").coder.agg(set)
        assert all(per_doc[d] == {"konsens"} for d in decided if d in per_doc.index)
        assert all(c == {primary} for d, c in per_doc.items() if d in sample and d not in decided)
        konsens = human[human.coder == "konsens"]
        assert set(konsens.coding_id) <= set(consensus.id) and len(konsens) > 0


def test_adjudication_view_records_decisions(two_coders: Project) -> None:
    from qualkit import AdjudicationView
    view = AdjudicationView(two_coders, coders=("A", "B"), by="team")
    assert view.total == 4 and view.item["kind"] == "boundaries" and "Übereinstimmung vor" in view.summary
    view.request = {"action": "skip"}
    assert view.position == 1 and view.item["kind"] == "code"
    view.request = {"action": "decide", "decision": "custom", "code": "Politische Teilhabe", "n": 1}
    assert view.total == 3 and "1 Konsens-Codierung" in view.message
    view.request = {"action": "decide", "decision": "vielleicht", "n": 2}
    assert view.message.startswith("Fehler: unknown decision") and view.total == 3
    assert [d["decision"] for d in decisions(two_coders)] == ["custom", "both"]
    assert decisions(two_coders)[0]["document_id"] == "A1"
