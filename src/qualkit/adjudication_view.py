"""The adjudication view in JupyterLab (anywidget): walk through two coders' disagreements and record the
team's decisions (:mod:`qualkit.adjudication` does the work; the view only shows and asks)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from .adjudication import Disagreement, decide, default_coders, disagreements
from .errors import QualkitError
from .project import Project, current_coder, open_project

__all__ = ["AdjudicationView"]

_STATIC = Path(__file__).parent / "static"


class AdjudicationView(anywidget.AnyWidget):  # type: ignore[misc,unused-ignore]
    """Disagreements of two coders, one at a time, with both codings and context; buttons record the
    decision as consensus codings.  Agreement before adjudication is shown on top.

    Parameters
    ----------
    project : a :class:`Project` or a project folder.
    coders : the two coders (default: :func:`qualkit.adjudication.default_coders`).
    by : who records the decisions (default: :func:`qualkit.current_coder`).
    documents : only these documents.
    """

    _esm = _STATIC / "adjudication.js"
    _css = _STATIC / "adjudication.css"

    item = traitlets.Dict().tag(sync=True)
    position = traitlets.Int(0).tag(sync=True)
    total = traitlets.Int(0).tag(sync=True)
    summary = traitlets.Unicode("").tag(sync=True)
    codes: traitlets.List[Any] = traitlets.List().tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)
    request = traitlets.Dict().tag(sync=True)

    def __init__(self, project: Project | str | Path = ".", *, coders: tuple[str, str] | None = None,
                 by: str | None = None, documents: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.project = project if isinstance(project, Project) else open_project(project)
        self.pair = coders or default_coders(self.project)
        self.by = by or current_coder()
        self.documents = documents
        self.codes = list(self.project.codebook.codes)
        self.summary = self._agreement()
        self.items: list[Disagreement] = []
        self.reload()
        self.observe(self._on_request, names="request")

    def _agreement(self) -> str:
        from .agreement import agreement
        try:
            res = agreement(self.project, coders=list(self.pair), level="unit")
        except QualkitError as e:
            return f"Übereinstimmung: {e.message}"
        o = res.overall

        def num(v: Any, fmt: str) -> str:
            return "–" if v is None else format(v, fmt).replace(".", ",")

        docs = f"{res.documents} Dokument" + ("" if res.documents == 1 else "e")
        return (f"Übereinstimmung vor der Konsensbildung ({' / '.join(self.pair)}, {docs}, Ebene Einheiten): "
                f"{num(o.get('percent_agreement'), '.0%').replace('%', ' %')}, κ = {num(o.get('cohen_kappa'), '.2f')}, "
                f"α = {num(o.get('krippendorff_alpha'), '.2f')}")

    def reload(self) -> None:
        """Read the open disagreements again (decisions made elsewhere drop out)."""
        self.items = disagreements(self.project, self.pair, documents=self.documents)
        self.total = len(self.items)
        self.show(min(self.position, max(self.total - 1, 0)))

    def show(self, position: int) -> None:
        self.position = position
        self.item = self.items[position].to_dict() if self.items else {}

    def _on_request(self, change: Mapping[str, Any]) -> None:
        req = dict(change["new"] or {})
        action = req.get("action")
        try:
            if action == "decide" and self.items:
                current = self.items[self.position]
                ids = decide(self.project, current, str(req["decision"]), by=self.by, code=req.get("code"))
                self.message = f"Entscheidung gespeichert: {len(ids)} Konsens-Codierung(en)"
                self.reload()
            elif action == "skip" and self.items:
                self.show((self.position + 1) % len(self.items))
        except QualkitError as e:
            self.message = f"Fehler: {e.message}"
