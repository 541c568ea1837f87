"""End to end: a span suggestion inside a long interview turn, made by ``autocode_project``, is drawn dashed
over just its sentences in the coding view and accepted with two clicks (helpers of tests/test_browser.py)."""

from __future__ import annotations

from typing import Any

import pytest

from qualkit.corpus import ingest
from qualkit.project import open_project
from qualkit.suggestions import autocode_project

from .test_browser import CHROMIUM, _shot, _until, lab  # noqa: F401  (lab is the JupyterLab fixture)

pytestmark = pytest.mark.slow

LONG = ("Bei uns ist vieles im Umbruch, das sage ich ganz offen, und man weiß oft nicht, wo man anfangen soll. "
        "Die Kitas haben lange Wartelisten, es fehlen Kitaplätze, und die Sprachkurse für die Eltern sind voll. "
        "Das Wetter war übrigens schön, wir haben neulich gegrillt, das war wirklich nett mit allen zusammen. "
        "Ganz anders bei den Wohnungen: Die Mieten steigen, Wohnungen sind knapp, die Wohnungssuche dauert Monate. "
        "Vermieter lehnen Familien ab, und der Bus fährt am Wochenende nicht in die Ortsteile. "
        "Mehr fällt mir dazu im Moment nicht ein, vielen Dank.")


def test_browser_autocode_span_suggestion_accepted(lab: dict[str, Any]) -> None:  # noqa: F811
    from playwright.sync_api import sync_playwright
    project = open_project(lab["project"])
    f = project.root / "transcripts/interviews/A1.txt"
    f.write_text(f.read_text(encoding="utf-8") + f"\nI: Und sonst? #00:00:45-0#\n\nB: {LONG} #00:01:30-0#\n",
                 encoding="utf-8")
    ingest(project)
    store = project.store
    b2 = store.units("B2")
    u = b2[b2.role == "respondent"].iloc[0]
    store.add_coding("B2", int(u.start), int(u.end), "Mobilität und ÖPNV", coder="ref")  # something to learn from
    new = autocode_project(project)
    text = store.document_text("A1")
    turn = text.index(LONG)
    span = new[(new.document_id == "A1") & (new.code == "Wohnen und Mobilität") & (new.start >= turn)]
    assert len(span) == 1
    cid, start, end = int(span.coding_id.iloc[0]), int(span.start.iloc[0]), int(span.end.iloc[0])
    assert turn <= start < end <= turn + len(LONG) and end - start < len(LONG)  # sentences inside the turn
    quote = text[start:end]
    assert "Mieten" in quote and "Kitaplätze" not in quote
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{lab['url']}/lab/tree/notebooks/coding.ipynb?reset&token={lab['token']}")
            page.wait_for_selector(".lm-TabBar-tab.jp-mod-current >> text=coding.ipynb", timeout=90_000)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
            page.wait_for_function("() => window.jupyterapp !== undefined", timeout=30_000)
            page.wait_for_selector(".jp-StatusBar-Widget >> text=| Idle", timeout=90_000)
            page.click(".jp-NotebookPanel .jp-Cell >> nth=0")
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            # the suggestion is drawn over its sentences only, dashed (pending)
            hl = page.wait_for_selector(f".qk-hl[data-codings*='{cid}']", timeout=120_000)
            assert hl is not None
            drawn = page.evaluate(f"""() => Array.from(document.querySelectorAll(".qk-hl"))
                .filter(e => (e.dataset.codings || "").split(/[ ,]/).includes("{cid}"))
                .map(e => e.textContent).join("")""")
            assert drawn.split() == quote.split()
            page.click(f".qk-chip.qk-pending[data-coding='{cid}']")
            page.click(f".qk-pop[data-coding='{cid}'] .qk-accept")
            assert _until(lambda: store.coding(cid)["status"] == "accepted", 30, "the span suggestion to be accepted")
            assert store.coding(cid)["decided_by"] == "browser-test" and store.coding(cid)["quote"] == quote
            page.wait_for_selector(f".qk-chip[data-coding='{cid}']:not(.qk-pending)", timeout=30_000)
            _shot(page, "coding-view-span-suggestion.png")
        except Exception:
            _shot(page, "coding-view-span-failure.png")
            raise
        finally:
            browser.close()
