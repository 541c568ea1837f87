"""A project folder: ``qualkit.toml``, ``transcripts/``, ``codebooks/``, ``outputs/`` and the store.

:func:`open_project` reads and validates the config; :func:`init_project` creates an empty project
with the default codebook.  The store lives in ``.qualkit/store.sqlite`` and caches in
``.qualkit/cache/``; pseudonymisation mappings in ``.qualkit/private/`` (never under ``outputs/``).
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from ._files import private_dir
from .codebook import Codebook, load_codebook
from .errors import ConfigError
from .store import Store

__all__ = ["Project", "current_coder", "init_project", "open_project", "set_coder"]

CONFIG_NAME = "qualkit.toml"
_DEFAULTS: dict[str, Any] = {
    "project": {"name": "qualkit-Projekt", "language": "de", "codebook": "codebooks/handlungsfelder.yaml",
                "seed": 20211108},
    "interviews": {"folder": "transcripts/interviews", "metadata": "transcripts/interviews.csv",
                   "id_column": "id", "interviewer_labels": [], "group_variable": "Funktion"},
    "survey": {"files": [], "id_column": "id", "open_questions": {}, "variables": {}, "no_answer": [],
               "complete_column": "", "id_prefix": "S", "invited": 0, "sampling": ""},
    "codings": {"files": []},
    # which codings count in analyses and reports (units.unit_labels): per document the consensus coding where
    # one exists, else the primary coder's ("" = the coder with the most codings), never the sum of coders
    "coding": {"primary_coder": "", "consensus_coder": "konsens"},
    "workshops": {"folder": "transcripts/workshops"},
    "findings": {"folder": "findings"},
    "report": {"attribution": ["Funktionsgruppe"], "survey_attribution": ["Organisationstyp"], "k": 3, "coders": [],
               "origins": ["manual", "imported", "auto-accepted"], "min_theme_size": 5,
               # plurals of variable names the chapters use where the German rule guesses wrong
               "plurals": {}},
    "privacy": {"allow": [], "deny": [], "place_variable": "Kommune", "mask_own_place": ["interview"], "places": {}},
}
_KNOWN = {k: set(v) for k, v in _DEFAULTS.items()}

_TEMPLATE = """\
# qualkit project configuration (see docs/project-config.md)
[project]
name = "{name}"
language = "de"
codebook = "codebooks/handlungsfelder.yaml"
seed = 20211108

[interviews]
folder = "transcripts/interviews"       # .txt (f4/f5), .docx, .vtt, .srt; file stem = interview id
metadata = "transcripts/interviews.csv" # column 'id' + one column per case variable

[survey]
files = []                               # e.g. ["transcripts/survey/export.csv"]
id_column = "id"                         # LimeSurvey: id, SoSci Survey: CASE
open_questions = {{}}                      # column = "question text"
variables = {{}}                           # column = "case variable name"

[codings]
files = []                               # reference codings to load (document,start,end,code,coder,quote)

[coding]
primary_coder = ""                       # whose codings count where there is no consensus ("" = most codings)
consensus_coder = "konsens"              # coder name of consensus codings after adjudication

[findings]
folder = "findings"                      # one file per code: findings, recommendations, research memo
"""


def _merge(defaults: dict[str, Any], data: dict[str, Any], path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for section, values in data.items():
        if section not in _KNOWN:
            raise ConfigError(f"{path}: unknown section [{section}]",
                              hint=f"valid sections: {', '.join(sorted(_KNOWN))}")
        unknown = set(values) - _KNOWN[section]
        if unknown:
            raise ConfigError(f"{path}: unknown key(s) {', '.join(sorted(unknown))} in [{section}]",
                              hint=f"valid keys: {', '.join(sorted(_KNOWN[section]))}")
    for section, values in defaults.items():
        out[section] = {**values, **data.get(section, {})}
    return out


@dataclass
class Project:
    """An opened project folder.  Use :func:`open_project`."""

    root: Path
    config: dict[str, Any] = field(repr=False)

    def path(self, rel: str | Path) -> Path:
        p = Path(rel)
        return p if p.is_absolute() else self.root / p

    @property
    def name(self) -> str:
        return str(self.config["project"]["name"])

    @property
    def seed(self) -> int:
        return int(self.config["project"]["seed"])

    @property
    def state_dir(self) -> Path:
        """``.qualkit/``: store, caches and the private mapping; created (and kept) ``0700``."""
        return private_dir(self.root / ".qualkit")

    @property
    def cache_dir(self) -> Path:
        d = self.state_dir / "cache"
        d.mkdir(parents=True, exist_ok=True)
        return d

    @property
    def private_dir(self) -> Path:
        """``.qualkit/private/``: the pseudonym mapping; ``0700``."""
        return private_dir(self.state_dir / "private")

    @property
    def outputs_dir(self) -> Path:
        return self.root / "outputs"

    @cached_property
    def store(self) -> Store:
        return Store(self.state_dir / "store.sqlite")

    @cached_property
    def codebook(self) -> Codebook:
        return load_codebook(self.path(self.config["project"]["codebook"]))

    def interviewer_pattern(self) -> re.Pattern[str]:
        from .transcript import DEFAULT_INTERVIEWER
        labels = self.config["interviews"]["interviewer_labels"]
        if not labels:
            return DEFAULT_INTERVIEWER
        return re.compile("^(" + "|".join(re.escape(x) for x in labels) + ")$")


def open_project(root: str | Path = ".") -> Project:
    """Open the project in ``root`` (a folder with ``qualkit.toml``).

    Raises
    ------
    ConfigError
        if the folder has no ``qualkit.toml`` or it is invalid.
    """
    r = Path(root).resolve()
    cfg = r / CONFIG_NAME
    if not cfg.is_file():
        raise ConfigError(f"{r}: no {CONFIG_NAME} here, so this is not a qualkit project",
                          hint="pass --project DIR, or create a project with `qualkit init DIR`")
    try:
        data = tomllib.loads(cfg.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{cfg}: not valid TOML ({e})", hint="check quotes and brackets in that line") from e
    return Project(root=r, config=_merge(_DEFAULTS, data, cfg))


def init_project(root: str | Path, *, name: str | None = None) -> Project:
    """Create an empty, valid project with the default codebook in ``root``."""
    r = Path(root)
    if (r / CONFIG_NAME).exists():
        raise ConfigError(f"{r}: already a qualkit project", hint="open it with --project instead")
    for sub in ("transcripts/interviews", "transcripts/survey", "transcripts/workshops", "codebooks",
                "outputs"):
        (r / sub).mkdir(parents=True, exist_ok=True)
    cb = resources.files("qualkit").joinpath("data/handlungsfelder.yaml").read_text(encoding="utf-8")
    (r / "codebooks" / "handlungsfelder.yaml").write_text(cb, encoding="utf-8")
    (r / "transcripts" / "interviews.csv").write_text("id\n", encoding="utf-8")
    (r / CONFIG_NAME).write_text(_TEMPLATE.format(name=name or r.resolve().name), encoding="utf-8")
    (r / ".gitignore").write_text(".qualkit/\n", encoding="utf-8")
    # the thin notebooks (coding view, chapters) come along, so `jupyter lab notebooks/coding.ipynb` works
    shipped = Path(__file__).resolve().parents[2] / "notebooks"
    if shipped.is_dir():
        (r / "notebooks").mkdir(exist_ok=True)
        for nb in sorted(shipped.glob("*.ipynb")):
            shutil.copy2(nb, r / "notebooks" / nb.name)
    return open_project(r)


_CODER: str | None = None


def set_coder(name: str) -> None:
    """Set the coder name used for codings made in this Python process."""
    global _CODER
    if not name.strip():
        raise ConfigError("the coder name is empty", hint="use your initials, e.g. set_coder('ab')")
    _CODER = name.strip()


def current_coder() -> str:
    """The coder: :func:`set_coder`, else ``$QUALKIT_CODER``, else ``~/.config/qualkit/coder``, else
    the login name."""
    if _CODER:
        return _CODER
    env = os.environ.get("QUALKIT_CODER", "").strip()
    if env:
        return env
    f = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "qualkit" / "coder"
    if f.is_file() and f.read_text(encoding="utf-8").strip():
        return f.read_text(encoding="utf-8").strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "coder"
