"""qualkit as an installed package: the wheel carries notebooks, starter and example data, and runs the main job.

The slow test builds the wheel from a copy of the source, installs it (without dependencies, from the local
wheel only) into a fresh virtual environment that borrows the test environment's third-party packages through a
``.pth`` line (so it runs offline), and runs ``qualkit init`` + ``ingest`` + ``report`` on a small new project
from a folder outside the repository.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from .conftest import QUARTIER, REPO

SRC = REPO / "src" / "qualkit"


def test_packaging_notebooks_in_the_package_match_the_repository() -> None:
    shipped = sorted(p.name for p in (SRC / "notebooks").glob("*.ipynb"))
    assert shipped == sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    for name in shipped:  # researchers open notebooks/; the wheel carries src/qualkit/notebooks/
        assert (SRC / "notebooks" / name).read_bytes() == (REPO / "notebooks" / name).read_bytes(), name


def test_packaging_example_config_and_codebook_match_the_example() -> None:
    example = tomllib.loads((REPO / "qualkit.toml").read_text(encoding="utf-8"))
    shipped = tomllib.loads((SRC / "data" / "example.toml").read_text(encoding="utf-8"))
    example["survey"]["files"], example["codings"]["files"] = [], []  # `init --example` has no data files yet
    assert shipped == example
    assert (SRC / "data" / "handlungsfelder.yaml").read_bytes() == (REPO / "codebooks" / "handlungsfelder.yaml").read_bytes()


def test_packaging_version_from_one_place() -> None:
    import qualkit
    py = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert qualkit.__version__ == py["project"]["version"]
    assert not re.search(r"__version__\s*=\s*['\"]\d+\.\d+", (SRC / "__init__.py").read_text(encoding="utf-8"))


def test_packaging_no_repository_paths_in_the_library() -> None:
    for p in SRC.rglob("*.py"):
        assert "parents[2]" not in p.read_text(encoding="utf-8"), p


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(args)} failed:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}"
    return r


@pytest.mark.slow
def test_packaging_wheel_installs_and_runs_init_ingest_report(tmp_path: Path) -> None:
    # build from a copy: the repository stays free of build/ and egg-info
    src = tmp_path / "src-copy"
    src.mkdir()
    for item in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / item, src / item)
    shutil.copytree(REPO / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(src)], tmp_path, env)
    (wheel,) = (tmp_path / "dist").glob("qualkit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("qualkit/notebooks/chapter.ipynb", "qualkit/notebooks/coding.ipynb", "qualkit/data/starter.toml",
                   "qualkit/data/starter_codebook.yaml", "qualkit/data/example.toml", "qualkit/py.typed",
                   "qualkit/static/coding.js"):
        assert needed in names, needed

    venv = tmp_path / "fresh"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, env)
    py = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q", str(wheel)],
         tmp_path, env)
    # third-party packages from the test environment, after the fresh site-packages (qualkit comes from the wheel)
    fresh_site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                     capture_output=True, text=True, check=True).stdout.strip())
    (fresh_site / "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")

    work = tmp_path / "elsewhere"  # no repository around: nothing to find through the source tree
    work.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    env = {**env, "HOME": str(home), "JUPYTER_DATA_DIR": str(home / "jupyter"), "JUPYTER_CONFIG_DIR": str(home / "jc"),
           "IPYTHONDIR": str(home / "ipython"), "MPLCONFIGDIR": str(home / "mpl"), "PYTHONNOUSERSITE": "1",
           # the borrowed packages' data files (nbconvert's templates) live under the test environment's prefix
           "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter"),
           "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", "QUALKIT_CODER": "test"}
    env.pop("PYTHONPATH", None)
    where = _run([str(py), "-c", "import qualkit; print(qualkit.__file__, qualkit.__version__)"], work, env).stdout
    assert str(fresh_site) in where and "0+unknown" not in where
    qualkit = str(venv / "bin" / "qualkit")
    _run([qualkit, "init", "studie"], work, env)
    project = work / "studie"
    assert (project / "notebooks" / "chapter.ipynb").exists() and (project / "codebooks" / "codebook.yaml").exists()
    # the researcher's material: the small study of tests/data/quartier
    shutil.rmtree(project / "transcripts")
    shutil.copytree(QUARTIER / "transcripts", project / "transcripts")
    shutil.copytree(QUARTIER / "codebooks", project / "codebooks", dirs_exist_ok=True)
    shutil.copy2(QUARTIER / "qualkit.toml", project / "qualkit.toml")
    out = _run([qualkit, "ingest", "--project", str(project)], work, env).stdout
    assert "7 document(s) added" in out
    shutil.rmtree(project / "notebooks")  # the report finds its notebooks in the installed package
    _run([qualkit, "report", "--project", str(project), "--jobs", "1"], work, env, timeout=900)
    (run,) = [p for p in (project / "outputs").iterdir() if p.is_dir()]
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "complete", manifest.get("error")
    assert manifest["versions"]["qualkit"] == where.split()[-1]
    html = (run / "bericht.html").read_text(encoding="utf-8")
    assert "Nachbarschaft" in html and "Wirkungsbereich" in html


@pytest.mark.slow
def test_packaging_new_project_report_speaks_the_projects_words(quartier) -> None:  # type: ignore[no-untyped-def]
    """The small study of tests/data/quartier through the main job: its own codebook, variables and formats in
    the text, none of the example's words."""
    import html as html_lib

    from qualkit.project import open_project
    from qualkit.reports import run_report
    cfg = quartier.root / "qualkit.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("[interviews]\n",
                                                           '[interviews]\ninterviewer_labels = ["Jana Roth"]\n'),
                   encoding="utf-8")
    run = run_report(open_project(quartier.root), run_id="words", jobs=1)
    assert run.status == "complete"
    raw = (run.run_dir / "bericht.html").read_text(encoding="utf-8")
    raw = re.sub(r"(?s)<(style|script)\b.*?</\1>", " ", raw)
    text = re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", raw)))
    for own in ("Wirkungsbereich", "Nachbarschaft", "Stadtteil", "Rolle",
                "2 leitfadengestützte Interviews und 1 Gruppendiskussion mit 3 Teilnehmenden"):
        assert own in text, own
    for foreign in ("Handlungsfeld", "Kommune", "Funktion", "Organisationstyp", "Recklinghausen", "Kreis"):
        hits = [text[max(0, m.start() - 60):m.end() + 60] for m in re.finditer(foreign, text)]
        assert not hits, (foreign, hits[:3])
