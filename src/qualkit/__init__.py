"""qualkit: an open workbench for qualitative research in Jupyter.

The public API is listed in ``__all__``; heavy parts (NLP, widgets, reports) are imported on first use,
so ``import qualkit`` stays fast.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:  # the version lives in one place, pyproject.toml; installed metadata carries it
    __version__ = version("qualkit")
except PackageNotFoundError:  # pragma: no cover - a source tree on sys.path without installation
    __version__ = "0+unknown"

# public name -> module that defines it
_LAZY = {
    "AdjudicationView": "adjudication_view",
    "Codebook": "codebook",
    "CodingView": "widgets",
    "Project": "project",
    "QualkitError": "errors",
    "RetrievalView": "widgets",
    "Store": "store",
    "current_coder": "project",
    "findings_table": "findings",
    "ingest": "corpus",
    "init_project": "project",
    "load_codebook": "codebook",
    "load_findings": "findings",
    "open_project": "project",
    "project_status": "status",
    "set_coder": "project",
}

__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'qualkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"qualkit.{mod}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
