"""Shared fixtures: tiny projects built from inline data in tmp_path."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qualkit.project import Project, init_project

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

F4_A = """I: Guten Tag, Frau Özdemir, danke für Ihre Zeit. #00:00:03-1#

B: Gerne. Also bei uns in Gladbeck fehlen vor allem Kitaplätze, ähm, und Sprachkurse. #00:00:15-4#

I: Und was macht der Kreis schon? #00:00:19-0#

B: Das KI hat die Seiteneinsteigerberatung übernommen, das läuft gut. Die Wohnungssuche ist schlimm. 😀 #00:00:41-7#
"""

F4_B = """I: Wie ist die Lage in Dorsten? #00:00:02-0#

B1: Schwierig. Die Busse fahren in Lembeck kaum, (unv.) das ist ein Problem für die Sprachkurse. #00:00:20-2#

B2: Und die Ehrenamtlichen werden älter, da kommt keiner nach. #00:00:31-9#
"""

META = "id,Kommune,Funktion,Funktionsgruppe\nA1,Gladbeck,Integrationsbeauftragte/r,Integrationsbeauftragte\n" \
       "B2,Dorsten,Sozialdezernent/in,Sozialdezernate\n"

SURVEY = (
    "id,submitdate,Kommune,OrgTyp,F1,F2\n"
    "1,2021-11-20 10:00:00,Marl,Kita,Mehr Kitaplätze!,k.A.\n"
    "2,,Herten,Schule,\"- Schulplätze\n- Sprachkurse für Eltern\",Mehr Geld für Projekte\n"
    "3,2021-11-21 09:00:00,Waltrop,Sportverein,,/\n"
)

CONFIG_EXTRA = """
[survey]
files = ["transcripts/survey/export.csv"]
id_column = "id"
complete_column = "submitdate"

[survey.open_questions]
F1 = "Was fehlt?"
F2 = "Welche Unterstützung?"

[survey.variables]
Kommune = "Kommune"
OrgTyp = "Organisationstyp"
"""


def add_config(root: Path, text: str) -> None:
    """Add ``[section]`` lines to a project's qualkit.toml: into the section where it exists (replacing keys
    of the same name), else appended.  Tests use it to change one setting of a project made by ``init``."""
    import re
    cfg = root / "qualkit.toml"
    lines = cfg.read_text(encoding="utf-8").splitlines()
    for m in re.finditer(r"(?ms)^\[([\w.]+)\]\n(.*?)(?=^\[|\Z)", text.strip() + "\n"):
        section, body = m.group(1), [ln for ln in m.group(2).splitlines() if ln.strip()]
        keys = {ln.split("=", 1)[0].strip() for ln in body}
        heads = [i for i, ln in enumerate(lines) if ln.split("#", 1)[0].strip() == f"[{section}]"]
        if not heads:
            lines += ["", f"[{section}]", *body]
            continue
        start = heads[0] + 1
        end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
        kept: list[str] = []
        depth = 0  # inside a multi-line array of a replaced key: its continuation lines go too
        for ln in lines[start:end]:
            code = ln.split("#", 1)[0]
            if depth:
                depth += code.count("[") - code.count("]")
                continue
            if "=" in ln and ln.split("=", 1)[0].strip() in keys:
                depth = max(0, code.count("[") - code.count("]"))
                continue
            kept.append(ln)
        lines[start:end] = body + kept
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_project(root: Path, *, survey: bool = True) -> Project:
    """A small but complete project in the example's configuration: two f4 interviews, metadata, a survey
    export."""
    init_project(root, name="Testprojekt", example=True)
    (root / "transcripts/interviews/A1.txt").write_text(F4_A, encoding="utf-8")
    (root / "transcripts/interviews/B2.txt").write_text(F4_B, encoding="utf-8")
    (root / "transcripts/interviews.csv").write_text(META, encoding="utf-8")
    if survey:
        (root / "transcripts/survey/export.csv").write_text(SURVEY, encoding="utf-8")
        cfg = (root / "qualkit.toml").read_text(encoding="utf-8")
        cfg = cfg.split("[survey]")[0] + CONFIG_EXTRA + "\n[codings]" + cfg.split("[codings]", 1)[1]
        (root / "qualkit.toml").write_text(cfg, encoding="utf-8")
    # the example's settings, but no primary coder: tiny projects name their coders themselves
    cfg = (root / "qualkit.toml").read_text(encoding="utf-8")
    (root / "qualkit.toml").write_text(cfg.replace('primary_coder = "A"', 'primary_coder = ""'), encoding="utf-8")
    from qualkit.project import open_project
    return open_project(root)


@pytest.fixture
def tiny_project(tmp_path: Path) -> Project:
    return write_project(tmp_path / "proj")


@pytest.fixture
def store_digest() -> Callable[[Path], str]:
    """A digest of a store's full content (all tables, all rows), to prove it is unchanged."""
    def digest(path: Path) -> str:
        if not path.exists():
            return "absent"
        con = sqlite3.connect(path)
        h = hashlib.sha256()
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
            for row in con.execute(f'SELECT * FROM "{name}" ORDER BY 1'):
                h.update(repr(row).encode())
        con.close()
        return h.hexdigest()
    return digest


@pytest.fixture(scope="session")
def example_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A copy of the shipped example project, ingested once per test session."""
    from qualkit.corpus import ingest
    from qualkit.project import open_project
    root = tmp_path_factory.mktemp("example") / "proj"
    root.mkdir()
    for item in ("qualkit.toml", "transcripts", "codebooks", "notebooks", "findings"):
        src = REPO / item
        if src.is_dir():
            shutil.copytree(src, root / item)
        elif src.exists():
            shutil.copy2(src, root / item)
    (root / "outputs").mkdir()
    project = open_project(root)
    ingest(project)
    return project


def run_cli(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    """Run the qualkit CLI in-process; return (exit code, stdout, stderr)."""
    import contextlib
    import io

    from qualkit.cli import main
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as e:
                code = int(e.code or 0)
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


QUARTIER = Path(__file__).resolve().parent / "data" / "quartier"


@pytest.fixture
def quartier(tmp_path: Path) -> Project:
    """A study qualkit never saw (tests/data/quartier): its own codebook, a SoSci export with label row and value
    labels, a group discussion with a participants table, a Teams VTT whose interviewer is a named person."""
    from qualkit.project import open_project
    root = tmp_path / "quartier"
    shutil.copytree(QUARTIER, root)
    return open_project(root)


@pytest.fixture
def executors_used(monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict[str, object], str]]:
    """Every :func:`qualkit.prepare.executor` opened during the test, as (its arguments, the kind it chose)."""
    from qualkit import prepare
    used: list[tuple[dict[str, object], str]] = []
    real = prepare.executor

    @contextlib.contextmanager
    def recording(**kw: object) -> Iterator[object]:
        with real(**kw) as ex:  # type: ignore[arg-type]
            used.append((kw, ex.name))
            yield ex
    monkeypatch.setattr(prepare, "executor", recording)
    return used
