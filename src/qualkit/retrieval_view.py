"""Retrieval in JupyterLab: :class:`RetrievalView` (anywidget), the coded segments of chosen codes, live.

The list is :func:`qualkit.analysis.retrieve`'s; the view follows a linked :class:`~qualkit.widgets.CodingView`
(it runs again when a change there touched one of its codes) and jumps into it (the coding view opens the
document, scrolls to the segment and marks it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import pandas as pd
import traitlets

from .project import Project, open_project

if TYPE_CHECKING:
    from .widgets import CodingView

__all__ = ["RetrievalView"]

_STATIC = Path(__file__).parent / "static"


class RetrievalView(anywidget.AnyWidget):  # type: ignore[misc,unused-ignore]
    """All segments coded with a code (or a combination), filterable by case variables and coder, with
    context on demand and a jump into a linked :class:`CodingView` that scrolls to and marks the segment.

    The codes and the combination (``mode`` ``any``/``all``) can be chosen in the view; the list follows the
    linked coding view's changes (and ``refresh()``)."""

    _esm = _STATIC / "retrieval.js"
    _css = _STATIC / "coding.css"

    rows: traitlets.List[Any] = traitlets.List().tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    request = traitlets.Dict().tag(sync=True)
    all_codes: traitlets.List[Any] = traitlets.List().tag(sync=True)
    chosen: traitlets.List[Any] = traitlets.List().tag(sync=True)
    mode = traitlets.Unicode("any").tag(sync=True)

    def __init__(self, project: Project | str | Path = ".", codes: Sequence[str] | str = (), *, mode: str = "any",
                 filters: Mapping[str, str | Sequence[str]] | None = None, coders: Sequence[str] | None = None,
                 context: int = 200, coding_view: CodingView | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.project = project if isinstance(project, Project) else open_project(project)
        self.coding_view = coding_view
        self._filters, self._coders, self._context = filters, coders, context
        self.all_codes = [{"name": c.name, "parent": c.parent or "", "colour": c.colour}
                          for c in self.project.codebook.codes.values()]
        self.mode = mode
        self.chosen = [codes] if isinstance(codes, str) else list(codes)
        self.refresh()
        self.observe(lambda _: self.refresh(), names=["chosen", "mode"])
        self.observe(self._on_request, names="request")
        self.on_msg(lambda _w, content, _b: self._on_request({"new": content}) if isinstance(content, dict) else None)
        if coding_view is not None:
            coding_view.on_change(self._follow)

    def _follow(self, codes: set[str] | None) -> None:
        """A change in the linked coding view: run the retrieval again if it touched a chosen code (or any).
        A change of another code can, rarely, change which coder counts in a document (the counting rule of
        :mod:`qualkit.units`: the coder with the most codings there, when neither consensus nor the primary
        coder coded it); ↻ (``refresh``) runs the retrieval again whatever changed."""
        cb = self.project.codebook
        wanted = {d for c in self.chosen if c in cb.codes for d in cb.descendants(c)}
        if codes is None or codes & wanted:
            self.refresh()

    def refresh(self) -> None:
        """Run the retrieval again (the store may have changed)."""
        from .analysis import retrieve
        codes = [c for c in self.chosen if c]
        if not codes:
            self.frame = pd.DataFrame()
            self.title, self.rows = "Codes wählen", []
            return
        self.frame = retrieve(self.project, codes, mode=self.mode, filters=self._filters, coders=self._coders,
                              context=self._context)
        cfg = self.project.config
        wanted = [cfg["privacy"]["place_variable"], cfg["interviews"]["group_variable"],
                  *cfg["report"]["attribution"], *cfg["report"]["survey_attribution"]]
        variables = [c for c in dict.fromkeys(wanted) if c in self.frame.columns]
        joiner = " + " if self.mode == "all" else " | "
        self.title = f"{len(self.frame)} Segmente: {joiner.join(codes)}"
        self.rows = [{"document": r["document_id"], "start": int(r["start"]), "end": int(r["end"]),
                      "id": int(r["coding_id"]), "code": r["code"], "coder": r["coder"],
                      "text": r["text"], "before": r["before"], "after": r["after"], "memo": r["memo"] or "",
                      "vars": ", ".join(f"{v}: {r[v]}" for v in variables if pd.notna(r[v]))}
                     for _, r in self.frame.iterrows()]

    def _on_request(self, change: Mapping[str, Any]) -> None:
        req = dict(change["new"] or {})
        if req.get("action") == "open" and self.coding_view is not None:
            focus = (int(req["start"]), int(req["end"])) if "start" in req and "end" in req else None
            self.coding_view.show_document(str(req["document"]), focus=focus)
        elif req.get("action") == "refresh":
            self.refresh()
