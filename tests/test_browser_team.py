"""End to end in JupyterLab with Debian's Chromium (helpers and the JupyterLab fixture from test_browser):
blind coding hides the other coder's codings and the machine's suggestions until the coder marks the
document done, and the adjudication view records a decision as a consensus coding."""

from __future__ import annotations

import json
from typing import Any

import pytest

from qualkit.adjudication import decisions
from qualkit.blind import assign_blind, mark_done
from qualkit.project import open_project

from .test_browser import CHROMIUM, _shot, _until, lab  # noqa: F401  (lab is a fixture)

pytestmark = pytest.mark.slow
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]


def _open_and_run(page: Any, server: dict[str, Any], name: str) -> None:
    page.goto(f"{server['url']}/lab/tree/notebooks/{name}?reset&token={server['token']}")
    page.wait_for_selector(f".lm-TabBar-tab.jp-mod-current >> text={name}", timeout=90_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=30_000)
    page.wait_for_selector(".jp-StatusBar-Widget >> text=| Idle", timeout=90_000)
    page.click(".jp-NotebookPanel .jp-Cell >> nth=0")
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")


def test_browser_team_blind_coding_and_adjudication(lab: dict[str, Any]) -> None:  # noqa: F811
    from playwright.sync_api import sync_playwright
    project = open_project(lab["project"])
    store = project.store
    text = store.document_text("A1")
    i = text.index("fehlen vor allem Kitaplätze")
    other = store.add_coding("A1", i, i + 27, "Frühkindliche Bildung", coder="A")
    store.add_coding("A1", i, i + 27, "Bildung und Sprache", coder="B")
    assign_blind(project, "browser-test", ["A1"], by="lead")
    nb = lab["project"] / "notebooks" / "adjudication.ipynb"
    nb.write_text(nb.read_text(encoding="utf-8").replace('first_coder: str = \\"\\"', 'first_coder: str = \\"A\\"')
                  .replace('second_coder: str = \\"\\"', 'second_coder: str = \\"B\\"'), encoding="utf-8")
    assert '\\"A\\"' in nb.read_text(encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            # blind: A1 is assigned to browser-test, so A's and B's codings and the suggestion stay hidden
            _open_and_run(page, lab, "coding.ipynb")
            page.wait_for_selector(".qk-root .qk-turn[data-unit='1'] .qk-text", timeout=90_000)
            assert page.locator(".qk-root .qk-chip").count() == 0 and page.locator(".qk-root .qk-hl").count() == 0
            own = store.add_coding("A1", i, i + 6, "Frühkindliche Bildung", coder="browser-test")
            page.click(".qk-root .qk-refresh")
            page.wait_for_selector(f".qk-root .qk-chip[data-coding='{own}']", timeout=30_000)
            assert page.locator(".qk-root .qk-chip").count() == 1
            _shot(page, "blind-coding.png")
            # done: from now on the others' codings and the suggestion are shown
            mark_done(project, "browser-test", "A1")
            page.click(".qk-root .qk-refresh")
            page.wait_for_selector(f".qk-root .qk-chip[data-coding='{other}']", timeout=30_000)
            page.wait_for_selector(f".qk-root .qk-chip.qk-pending[data-coding='{lab['auto']}']", timeout=30_000)
            # adjudication: A and B gave different codes to the same passage
            _open_and_run(page, lab, "adjudication.ipynb")
            page.wait_for_selector(".qk-adj-pos >> text=Abweichung 1 von 1", timeout=90_000)
            assert "fehlen vor allem Kitaplätze" in page.inner_text(".qk-adj-seg")
            assert "Übereinstimmung vor der Konsensbildung" in page.inner_text(".qk-adj-summary")
            _shot(page, "adjudication-view.png")
            page.click(".qk-adj-btn[data-decision='second']")
            recorded = _until(lambda: decisions(project), 30, "the decision to reach the store")
            assert recorded[0]["decision"] == "second" and recorded[0]["decided_by"] == "browser-test"
            consensus = store.coding(recorded[0]["consensus"][0])
            assert (consensus["coder"], consensus["code"]) == ("konsens", "Bildung und Sprache")
            page.wait_for_selector(".qk-adj-done >> text=alles entschieden", timeout=30_000)
            assert json.loads(store.log(consensus["id"]).payload.iloc[0])["coder"] == "konsens"
        except Exception:
            _shot(page, "team-failure.png")
            raise
        finally:
            browser.close()
