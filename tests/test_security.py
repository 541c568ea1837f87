"""Hostile and broken input: markup, formulas, names in file names, file modes, interrupted and concurrent
reports, folders where files belong.  Each case is one the reliability probe found (docs/security-probe.md)."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest

from qualkit.corpus import ingest
from qualkit.errors import QualkitError
from qualkit.project import Project, open_project

from .conftest import REPO, run_cli, write_project

# every payload sets a different flag when it runs; the browser test asserts that none is set
XSS = {
    "code": "Betreuung <img src=x onerror=window.__xss1=1>",
    "code2": "Wohnen</title><script>window.__xss2=1</script>",
    "project": "Testprojekt <svg onload=window.__xss3=1>",
    "answer": "<img src=x onerror=window.__xss4=1> Mehr Kitaplätze",
    "memo": "<script>window.__xss5=1</script>",
    "file": "B2 <img src=x onerror=window.__xss6=1>",
}
FORMULAS = ["=HYPERLINK(\"http://example.org\",\"klick\")", "=cmd|' /C calc'!A0", "+1+2", "-2+3", "@SUM(A1)",
            "\t=1+1", "\r=1+1"]

HOSTILE_CODEBOOK = f"""name: Testcodebuch
dimensions:
  - key: thema
    name: Themen
    singular: Thema
    article: das
    autocode: true
    codes:
      - name: {json.dumps(XSS["code"])}
        colour: "#336699"
        definition: Aussagen über Betreuungsangebote.
        indicators: [Kita, Betreuung]
      - name: {json.dumps(XSS["code2"])}
        colour: "#993366"
        definition: Aussagen über Wohnungen.
        indicators: [Wohnung]
"""


def hostile_project(root: Path) -> Project:
    """The tiny project with markup and formulas in every place data can reach: code names, the project name,
    survey answers, memos, a transcript file name; and a person's name in another file name."""
    write_project(root)
    (root / "codebooks/handlungsfelder.yaml").write_text(HOSTILE_CODEBOOK, encoding="utf-8")
    cfg = (root / "qualkit.toml").read_text(encoding="utf-8")
    (root / "qualkit.toml").write_text(cfg.replace('name = "Testprojekt"', f"name = {json.dumps(XSS['project'])}"),
                                       encoding="utf-8")
    interviews = root / "transcripts/interviews"
    (interviews / "B2.txt").rename(interviews / f"{XSS['file']}.txt")
    (interviews / "A1.txt").rename(interviews / "A1_Özdemir.txt")  # "Frau Özdemir" is in the text
    meta = (root / "transcripts/interviews.csv").read_text(encoding="utf-8")
    (root / "transcripts/interviews.csv").write_text(
        meta.replace("A1,", "A1_Özdemir,").replace("B2,", f"\"{XSS['file']}\","), encoding="utf-8")
    survey = root / "transcripts/survey/export.csv"
    rows = survey.read_text(encoding="utf-8")
    quoted = '"' + FORMULAS[0].replace('"', '""') + '"'
    rows = rows.replace("Mehr Kitaplätze!", XSS["answer"]).replace("Mehr Geld für Projekte", quoted)
    survey.write_text(rows, encoding="utf-8")
    project = open_project(root)
    ingest(project)
    s = project.store
    memos = [*FORMULAS, XSS["memo"]]
    i = 0
    for doc in s.documents().id:
        u = s.units(doc)
        for r in u[u.role != "interviewer"].itertuples():
            s.add_coding(doc, int(r.start), int(r.end), XSS["code"], coder="a", memo=memos[i % len(memos)])
            s.add_coding(doc, int(r.start), int(r.end), XSS["code2"], coder="b", memo=memos[(i + 3) % len(memos)])
            i += 1
    assert i + 3 >= len(memos)  # every memo is used by one of the two codes
    return project


# -- spreadsheets -------------------------------------------------------------------------------------------
def _sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_security_xlsx_cells_are_never_formulas(tmp_path: Path) -> None:
    import openpyxl

    from qualkit.exports import export_xlsx
    project = hostile_project(tmp_path / "p")
    out = export_xlsx(project, tmp_path / "steuerung.xlsx")
    assert "<f>" not in _sheet_xml(out) and "<f " not in _sheet_xml(out)
    wb = openpyxl.load_workbook(out)
    texts = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [c.coordinate for c in texts if c.data_type == "f"]
    risky = [c for c in texts if c.value.startswith(("=", "+", "-", "@", "\t", "\r"))]
    memos = {c.value for c in risky}
    assert {"=cmd|' /C calc'!A0", "+1+2", "@SUM(A1)"} <= memos  # the text itself is kept, unchanged
    assert all(c.quotePrefix for c in risky)


def test_security_csv_fields_are_text(tmp_path: Path) -> None:
    import pandas as pd

    from qualkit.exports import write_csv
    df = pd.DataFrame({"text": [*FORMULAS, "normal", "a=b"], "n": list(range(len(FORMULAS) + 2))})
    write_csv(df, tmp_path / "x.csv")
    back = pd.read_csv(tmp_path / "x.csv", keep_default_na=False)
    assert all(v.startswith("'") for v in back.text[:len(FORMULAS)])
    assert list(back.text[-2:]) == ["normal", "a=b"] and back.n.tolist() == list(range(len(FORMULAS) + 2))


# -- names in file names ------------------------------------------------------------------------------------
def test_security_file_name_with_a_name_never_reaches_the_export(tmp_path: Path) -> None:
    from qualkit.exports import export_xlsx
    from qualkit.privacy import pseudonymise_project
    project = hostile_project(tmp_path / "p")
    pseudonymise_project(project)
    out = export_xlsx(project, tmp_path / "steuerung.xlsx")
    with zipfile.ZipFile(out) as z:
        text = " ".join(z.read(n).decode("utf-8") for n in z.namelist())
    assert "Özdemir" not in text and "A1_[Person" in text


def test_security_guard_sees_names_joined_by_underscore(tmp_path: Path) -> None:
    from qualkit.errors import LeakError
    from qualkit.privacy import guard_outputs, pseudonymise_project
    project = write_project(tmp_path / "p", survey=False)
    ingest(project)
    pseudonymise_project(project)
    leak = tmp_path / "out.txt"
    leak.write_text("siehe I39_Özdemir.txt", encoding="utf-8")
    with pytest.raises(LeakError):
        guard_outputs(project, [leak])


# -- private modes ------------------------------------------------------------------------------------------
def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_security_private_modes_created_and_repaired(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from qualkit.privacy import pseudonymise_project
    project = write_project(tmp_path / "p", survey=False)
    ingest(project)
    pseudonymise_project(project)
    state, private = project.root / ".qualkit", project.root / ".qualkit/private"
    mapping, store = private / "pseudonyms.json", state / "store.sqlite"
    assert (_mode(state), _mode(private), _mode(mapping), _mode(store)) == (0o700, 0o700, 0o600, 0o600)
    project.store.close()
    for p, m in ((state, 0o755), (private, 0o755), (mapping, 0o644), (store, 0o644)):
        p.chmod(m)
    with caplog.at_level("WARNING", logger="qualkit"):
        again = open_project(project.root)
        ingest(again)
        pseudonymise_project(again)
    assert (_mode(state), _mode(private), _mode(mapping), _mode(store)) == (0o700, 0o700, 0o600, 0o600)
    notes = [r.getMessage() for r in caplog.records if "readable by other users" in r.getMessage()]
    assert len(notes) >= 4 and any("pseudonyms.json" in n for n in notes)


# -- run folders --------------------------------------------------------------------------------------------
def test_security_concurrent_runs_get_their_own_folders(tmp_path: Path) -> None:
    from qualkit.reports import _new_run_dir
    got: list[Path] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        got.append(_new_run_dir(tmp_path / "outputs", "run-20261201-230000"))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({p.name for p in got}) == 8 and all(p.is_dir() for p in got)


# -- folders where files belong, and other user errors ------------------------------------------------------
@pytest.mark.parametrize("where", ["metadata", "survey", "codebook", "transcript"])
def test_security_folder_instead_of_file_is_a_qualkit_error(tmp_path: Path, where: str) -> None:
    project = write_project(tmp_path / "p")
    target = {"metadata": "transcripts/interviews.csv", "survey": "transcripts/survey/export.csv",
              "codebook": "codebooks/handlungsfelder.yaml", "transcript": "transcripts/interviews/C3.txt"}[where]
    p = project.root / target
    if p.exists():
        p.unlink()
    p.mkdir()
    (p / "inside.txt").write_text("x", encoding="utf-8")
    code, _, err = run_cli("ingest", "--project", str(project.root))
    assert code == 1 and "Traceback" not in err
    assert target.split("/")[-1] in err and "folder" in err


def test_security_unreadable_file_is_a_qualkit_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A transcript the user may not read (file mode; simulated, since tests may run as root)."""
    project = write_project(tmp_path / "p")
    real = Path.open
    denied = project.root / "transcripts/interviews/A1.txt"

    def open_(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == denied:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_)
    code, _, err = run_cli("ingest", "--project", str(project.root))
    assert code == 1 and "A1.txt" in err and "Permission denied" in err and "Traceback" not in err


# -- HTML: nothing from the data runs as script -------------------------------------------------------------
@pytest.mark.slow
def test_security_report_html_runs_no_script_and_hides_names(tmp_path: Path) -> None:
    """The hostile project through a whole report run, then every HTML page opened in Chromium: no payload runs,
    the manifest carries no name, the run is complete."""
    from playwright.sync_api import sync_playwright

    from qualkit.reports import run_report
    project = hostile_project(tmp_path / "p")
    shutil.copytree(REPO / "notebooks", project.root / "notebooks", dirs_exist_ok=True)
    before = os.getcwd()
    run = run_report(project, run_id="hostile")  # every chapter: both hostile code names
    assert os.getcwd() == before  # parallel notebooks leave the working folder where it was
    pages = [run.run_dir / "bericht.html", *sorted((run.run_dir / "html").glob("*.html"))]
    body = pages[0].read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=window.__xss1=1&gt;" in body  # shown as text, in the heading and the TOC
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        try:
            page = browser.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            for html in pages:
                page.goto(html.as_uri(), wait_until="load")
                page.wait_for_timeout(300)  # onerror of a broken image fires after load
                flags: dict[str, Any] = page.evaluate(
                    "() => Object.fromEntries([1,2,3,4,5,6].map(i => ['__xss' + i, window['__xss' + i]]))")
                assert not any(flags.values()), (html.name, flags)
            assert not dialogs
        finally:
            browser.close()
    texts = [pg.read_text(encoding="utf-8") for pg in pages]
    assert not any(re.search(r"<script>window\.__xss\d", t) for t in texts)
    assert not any(re.search(r"<img src=x onerror", t) for t in texts)
    manifest = (run.run_dir / "manifest.json").read_text(encoding="utf-8")
    assert "Özdemir" not in manifest and json.loads(manifest)["status"] == "complete"
    assert not (run.run_dir / "UNVOLLSTÄNDIG.txt").exists()


@pytest.mark.slow
def test_security_interrupted_report_never_looks_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A report killed after the combined report is written but before the leak guard finished: the folder is
    marked UNVOLLSTÄNDIG and its manifest does not say complete."""
    import qualkit.privacy
    from qualkit.reports import run_report
    project = write_project(tmp_path / "p")
    shutil.copytree(REPO / "notebooks", project.root / "notebooks", dirs_exist_ok=True)
    ingest(project)
    s = project.store
    u = s.units("A1")
    for r in u[u.role == "respondent"].itertuples():
        s.add_coding("A1", int(r.start), int(r.end), "Frühkindliche Bildung", coder="a")

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(qualkit.privacy, "guard_outputs", killed)
    with pytest.raises(KeyboardInterrupt):
        run_report(project, only=["Bildung und Sprache"], run_id="killed")
    run_dir = project.root / "outputs" / "killed"
    assert (run_dir / "bericht.html").exists()  # written, but …
    assert (run_dir / "UNVOLLSTÄNDIG.txt").exists()
    assert json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["status"] != "complete"


def test_security_qualkit_error_root() -> None:
    from qualkit.errors import LimitError
    assert issubclass(LimitError, QualkitError)
