from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

import qualkit

from .conftest import REPO


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_project_environment_yml_in_step_with_pyproject() -> None:
    py = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    deps = {_name(d): d.replace(" ", "") for d in py["project"]["dependencies"]}
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    conda = {_name(d): d.replace(" ", "") for d in env["dependencies"] if isinstance(d, str)
             and not d.startswith(("python=", "pip"))}
    assert conda == deps


def test_project_constraints_pin_every_dependency() -> None:
    py = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    pins = {_name(line) for line in (REPO / "constraints.txt").read_text().splitlines()
            if "==" in line}
    reqs = py["project"]["dependencies"] + py["project"]["optional-dependencies"]["test"]
    missing = {_name(d) for d in reqs} - pins
    assert not missing


def test_project_public_api_sorted_and_complete() -> None:
    assert qualkit.__all__ == sorted(qualkit.__all__)
    for name in qualkit.__all__:
        assert getattr(qualkit, name) is not None


def test_project_layout() -> None:
    for p in ("notebooks", "src/qualkit", "transcripts", "codebooks", "outputs", "environment.yml", "tests",
              "README.md", "Makefile", ".ci/run", "src/qualkit/py.typed"):
        assert (REPO / p).exists(), p


def _example_places() -> set[str]:
    """The example's towns and districts (its qualkit.toml) and the towns of its interview metadata."""
    import csv
    cfg = tomllib.loads((REPO / "qualkit.toml").read_text(encoding="utf-8"))
    places = set(cfg["privacy"]["places"]) | {d for ds in cfg["privacy"]["places"].values() for d in ds}
    with (REPO / "transcripts" / "interviews.csv").open(encoding="utf-8-sig") as f:
        places |= {row["Kommune"] for row in csv.DictReader(f)}
    # a town of several words is also called by its first ("Haltern" for "Haltern am See")
    places |= {p.split()[0] for p in places if " " in p}
    # "Kreis" (the district level as a Kommune value) is also a common word; "Kreis Recklinghausen" is checked
    return (places - {"Kreis"}) | {"Recklinghausen", "Kreis Recklinghausen"}


def _library_files() -> list[Any]:
    src = REPO / "src" / "qualkit"
    return sorted(p for p in src.rglob("*") if p.is_file() and "data" not in p.relative_to(src).parts
                  and p.suffix in (".py", ".js", ".css", ".ipynb", ".toml", ".yaml"))


@pytest.mark.parametrize("path", _library_files(), ids=lambda p: p.relative_to(REPO / "src").as_posix())
def test_project_library_names_no_place_of_the_example(path: Path) -> None:
    places = _example_places()
    assert len(places) > 50  # the lists were found
    text = path.read_text(encoding="utf-8")
    found = sorted(p for p in places if re.search(r"(?<![\w-])" + re.escape(p) + r"(?![\w-])", text))
    assert not found, f"{path.relative_to(REPO)} names the example's places {found}: they belong in qualkit.toml"


def test_project_init_is_neutral_and_documents_every_section(tmp_path: Path) -> None:
    from qualkit.project import _DEFAULTS, init_project
    project = init_project(tmp_path / "neu", name='Studie "Nord"')
    cfg = (project.root / "qualkit.toml").read_text(encoding="utf-8")
    blocks = {m.group(1): m.group(2) for m in re.finditer(r"(?ms)^\[([\w.]+)\][^\n]*\n(.*?)(?=^\[|\Z)", cfg)}
    for section, keys in _DEFAULTS.items():  # every section and key is there, with a comment
        assert section in blocks, section
        for key in keys:
            line = next((ln for ln in blocks[section].splitlines() if ln.startswith(f"{key} =")), None) or \
                next((ln for ln in cfg.splitlines() if ln.startswith(f"[{section}.{key}]")), None)
            assert line is not None and "#" in line, (section, key)
    assert project.name == 'Studie "Nord"' and project.config == {
        **_DEFAULTS, "project": {**_DEFAULTS["project"], "name": 'Studie "Nord"'}}
    assert [d.key for d in project.codebook.dimensions] == ["thema"] and len(project.codebook.codes) == 5
    places = _example_places()
    for f in (project.root / "qualkit.toml", project.root / "codebooks" / "codebook.yaml"):
        text = f.read_text(encoding="utf-8")
        assert not [p for p in places if p in text] and "Handlungsfeld" not in text


def test_project_init_example_gives_the_handlungsfeld_example(tmp_path: Path) -> None:
    from qualkit.project import init_project
    project = init_project(tmp_path / "bsp", example=True)
    assert project.codebook.primary.key == "handlungsfeld" and len(project.codebook.primary.codes) == 7
    assert project.config["report"]["attribution"] == ["Funktionsgruppe"]
    assert project.config["privacy"]["place_variable"] == "Kommune" and "Gladbeck" in project.config["privacy"]["places"]
    assert project.config["survey"]["files"] == [] and project.config["codings"]["files"] == []
