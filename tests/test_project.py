from __future__ import annotations

import re
import tomllib

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
