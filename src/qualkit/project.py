"""A project folder: ``qualkit.toml``, ``transcripts/``, ``codebooks/``, ``outputs/`` and the store.

:func:`open_project` reads and validates the config; :func:`init_project` creates an empty project
with a neutral starter codebook (or, with ``example=True``, the example's configuration and codebook).
The store lives in ``.qualkit/store.sqlite`` and caches in
``.qualkit/cache/``; pseudonymisation mappings in ``.qualkit/private/`` (never under ``outputs/``).
"""

from __future__ import annotations

import getpass
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from ._files import private_dir
from .codebook import Codebook, load_codebook
from .errors import ConfigError
from .store import Store

__all__ = ["Project", "current_coder", "init_project", "open_project", "set_coder"]

CONFIG_NAME = "qualkit.toml"
# Neutral defaults: nothing here names a variable, place or code of any particular study.
_DEFAULTS: dict[str, Any] = {
    "project": {"name": "qualkit-Projekt", "language": "de", "codebook": "codebooks/codebook.yaml",
                "seed": 20211108},
    "interviews": {"folder": "transcripts/interviews", "metadata": "transcripts/interviews.csv",
                   "id_column": "id", "interviewer_labels": [], "group_variable": "", "participants": ""},
    "survey": {"files": [], "id_column": "id", "open_questions": {}, "variables": {}, "no_answer": [],
               "complete_column": "", "unfinished": ["counted", "coded", "quoted"], "id_prefix": "S",
               "label_files": [], "labels": {}, "invited": 0, "sampling": ""},
    "codings": {"files": []},
    # which codings count in analyses and reports (units.unit_labels): per document the consensus coding where
    # one exists, else the primary coder's ("" = the coder with the most codings), never the sum of coders
    "coding": {"primary_coder": "", "consensus_coder": "konsens"},
    "workshops": {"folder": "transcripts/workshops"},
    "findings": {"folder": "findings"},
    "report": {"attribution": [], "survey_attribution": [], "k": 3, "coders": [],
               "origins": ["manual", "imported", "auto-accepted"], "min_theme_size": 5,
               # plurals of variable names the chapters use where the German rule guesses wrong
               "plurals": {}},
    "privacy": {"allow": [], "deny": [], "place_variable": "", "mask_own_place": ["interview"], "places": {},
                "public": [], "unique_organisations": [], "landmarks": [], "subplace": "Ortsteil"},
    # limits on untrusted REFI-QDA archives (qualkit.qdpx.Limits): raise them for a trusted, very large project
    "qdpx": {"max_uncompressed_mb": 512, "max_members": 100_000, "max_ratio": 200},
}
_KNOWN = {k: set(v) for k, v in _DEFAULTS.items()}
UNFINISHED_RULES = ("counted", "coded", "quoted")


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
    rule = out["survey"]["unfinished"]
    if not isinstance(rule, list) or set(rule) - set(UNFINISHED_RULES):
        raise ConfigError(f"{path}: [survey] unfinished = {rule!r} is not a list of {', '.join(UNFINISHED_RULES)}",
                          hint='e.g. unfinished = ["counted"] to count unfinished cases but neither code nor quote '
                               "them, or [] to leave them out entirely")
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
        # the configured labels (a named interviewer in a Teams VTT) in addition to the usual I, Int …
        return re.compile("^(" + "|".join(re.escape(x) for x in labels) + ")$|" + DEFAULT_INTERVIEWER.pattern,
                          re.I)


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


def init_project(root: str | Path, *, name: str | None = None, example: bool = False) -> Project:
    """Create an empty, valid project in ``root``.

    A neutral project gets the small starter codebook (``codebooks/codebook.yaml``) and a commented
    ``qualkit.toml`` listing every section; ``example=True`` gives the configuration and codebook of
    qualkit's example project (the Handlungsfelder of an integration concept) instead.  The thin
    notebooks come along, so ``jupyter lab notebooks/coding.ipynb`` works.
    """
    r = Path(root)
    if (r / CONFIG_NAME).exists():
        raise ConfigError(f"{r}: already a qualkit project", hint="open it with --project instead")
    for sub in ("transcripts/interviews", "transcripts/survey", "transcripts/workshops", "codebooks",
                "outputs", "notebooks"):
        (r / sub).mkdir(parents=True, exist_ok=True)
    data = resources.files("qualkit").joinpath("data")
    title = name or r.resolve().name
    if example:
        (r / "codebooks" / "handlungsfelder.yaml").write_text(
            data.joinpath("handlungsfelder.yaml").read_text(encoding="utf-8"), encoding="utf-8")
        cfg = data.joinpath("example.toml").read_text(encoding="utf-8")
        if name:
            cfg = re.sub(r'(?m)^name = .*$', lambda _: f"name = {json.dumps(name, ensure_ascii=False)}", cfg, count=1)
    else:
        (r / "codebooks" / "codebook.yaml").write_text(
            data.joinpath("starter_codebook.yaml").read_text(encoding="utf-8"), encoding="utf-8")
        cfg = Template(data.joinpath("starter.toml").read_text(encoding="utf-8")).substitute(
            name=json.dumps(title, ensure_ascii=False))  # a JSON string is a valid TOML basic string
    (r / "transcripts" / "interviews.csv").write_text("id\n", encoding="utf-8")
    (r / CONFIG_NAME).write_text(cfg, encoding="utf-8")
    (r / ".gitignore").write_text(".qualkit/\n", encoding="utf-8")
    for nb in sorted(resources.files("qualkit").joinpath("notebooks").iterdir(), key=lambda t: t.name):
        if nb.name.endswith(".ipynb"):
            (r / "notebooks" / nb.name).write_bytes(nb.read_bytes())
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
