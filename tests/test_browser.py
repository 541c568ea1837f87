"""End to end: a real JupyterLab driven by Debian's Chromium through Playwright (no browser download).

Starts JupyterLab on 127.0.0.1 with a token, opens notebooks/coding.ipynb, runs it, selects words of an
interview turn with the mouse, clicks a code, and checks the SQLite store; then adds a coding from Python,
refreshes, and checks the highlight; then accepts a pending suggestion by clicking it.  Screenshots go to
tests/artifacts/ (and to docs/img/ with QUALKIT_UPDATE_SCREENSHOTS=1).  Every wait is on a condition.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from qualkit.corpus import ingest
from qualkit.project import open_project

from .conftest import REPO, write_project

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "tests" / "artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until(cond: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[dict[str, Any]]:
    project = write_project(tmp_path / "proj")
    shutil.copytree(REPO / "notebooks", project.root / "notebooks", dirs_exist_ok=True)
    ingest(project)
    text = project.store.document_text("A1")
    i = text.index("Wohnungssuche")
    auto = project.store.add_coding("A1", i, i + len("Wohnungssuche ist schlimm."), "Wohnen und Mobilität",
                                    coder="qualkit-autocode", origin="auto", score=0.81,
                                    explanation="Indikatoren: Wohnung")
    home = tmp_path / "home"
    for d in ("config", "data", "ipython", "mpl", "runtime"):
        (home / d).mkdir(parents=True)
    settings = Path(sys.prefix) / "share/jupyter/lab/settings"
    settings.mkdir(parents=True, exist_ok=True)
    overrides = settings / "overrides.json"
    data = json.loads(overrides.read_text()) if overrides.exists() else {}
    data["@jupyterlab/apputils-extension:notification"] = {"fetchNews": "false", "checkForUpdates": False}
    overrides.write_text(json.dumps(data))
    port, token = _free_port(), "qualkit-test-token"
    env = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_DATA_DIR": str(home / "data"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "IPYTHONDIR": str(home / "ipython"), "MPLCONFIGDIR": str(home / "mpl"), "QUALKIT_CODER": "browser-test"}
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={project.root}", "--LabApp.news_url=None",
         "--LabApp.expose_app_in_browser=True", "--ServerApp.open_browser=False"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def up() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2) as r:
                return r.status == 200
        except OSError:
            return proc.poll() is not None and (_ for _ in ()).throw(AssertionError((tmp_path / "lab.log").read_text()))

    try:
        _until(up, 90, "JupyterLab to start")
        yield {"url": f"http://127.0.0.1:{port}", "token": token, "project": project.root, "auto": auto}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))
    if os.environ.get("QUALKIT_UPDATE_SCREENSHOTS"):
        (REPO / "docs/img").mkdir(parents=True, exist_ok=True)
        shutil.copy(ARTIFACTS / name, REPO / "docs/img" / name)


def test_browser_code_in_jupyterlab(lab: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright
    store = open_project(lab["project"]).store
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
            page.wait_for_selector(".jp-InputPrompt >> text=[1]:", timeout=90_000)
            turn = page.wait_for_selector(".qk-root .qk-turn[data-unit='1'] .qk-text", timeout=90_000)
            assert turn is not None
            # mouse selection of "fehlen vor allem Kitaplätze" in the respondent's first turn
            box = page.evaluate("""() => {
                const t = document.querySelector(".qk-root .qk-turn[data-unit='1'] .qk-text span");
                const node = t.firstChild, s = node.textContent.indexOf("fehlen vor allem Kitaplätze");
                const r = document.createRange();
                r.setStart(node, s); r.setEnd(node, s + 1); const a = r.getBoundingClientRect();
                r.setStart(node, s + 26); r.setEnd(node, s + 27); const b = r.getBoundingClientRect();
                return {x1: a.left + 1, y1: (a.top + a.bottom) / 2, x2: b.right - 1, y2: (b.top + b.bottom) / 2};
            }""")
            page.mouse.move(box["x1"], box["y1"])
            page.mouse.down()
            page.mouse.move(box["x2"], box["y2"], steps=8)
            page.mouse.up()
            page.click(".qk-root .qk-code[data-code='Frühkindliche Bildung']")
            row = _until(lambda: store.query("SELECT quote, coder, origin FROM codings WHERE coder='browser-test'"),
                         30, "the coding to reach the store")
            assert [tuple(r) for r in row] == [("fehlen vor allem Kitaplätze", "browser-test", "manual")]
            page.wait_for_selector(".qk-chip >> text=Frühkindliche Bildung", timeout=30_000)
            _shot(page, "coding-view.png")
            # a coding added from Python appears after refresh
            text = store.document_text("A1")
            s = text.index("Sprachkurse")
            cid = store.add_coding("A1", s, s + len("Sprachkurse"), "Sprachkurse für Erwachsene", coder="python")
            page.click(".qk-root .qk-refresh")
            hl = page.wait_for_selector(f".qk-hl[data-codings*='{cid}']", timeout=30_000)
            assert hl is not None and hl.inner_text() == "Sprachkurse"
            # accept the pending suggestion with one click on it, then one on "Annehmen"
            page.click(f".qk-chip.qk-pending[data-coding='{lab['auto']}']")
            page.click(f".qk-pop[data-coding='{lab['auto']}'] .qk-accept")
            decided = _until(lambda: store.query("SELECT status, decided_by FROM codings WHERE id=?", (lab["auto"],))
                             [0]["status"] == "accepted", 30, "the suggestion to be accepted")
            assert decided
            assert store.coding(lab["auto"])["decided_by"] == "browser-test"
            page.wait_for_selector(f".qk-chip[data-coding='{lab['auto']}']:not(.qk-pending)", timeout=30_000)
            _shot(page, "coding-view-after.png")
        except Exception:
            _shot(page, "coding-view-failure.png")
            raise
        finally:
            browser.close()
