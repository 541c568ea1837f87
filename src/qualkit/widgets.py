"""Coding in JupyterLab: :class:`CodingView` and :class:`RetrievalView` (anywidget).

The widgets are thin (style lesson 13): state lives in synced traitlets, every action the page asks for
arrives as a ``request`` dict and is carried out by the store (:mod:`qualkit.store`), so all logic is
tested without a browser.  Offsets are code points into the stored text; a selection is snapped to whole
words, and a selection across turns becomes one coding per turn (labels and blank lines excluded).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anywidget
import pandas as pd
import traitlets

from .errors import QualkitError
from .project import Project, current_coder, open_project

__all__ = ["CodingView", "RetrievalView", "selection_spans", "snap_to_words"]

_STATIC = Path(__file__).parent / "static"
_WORD = re.compile(r"\w", re.U)


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Extend a selection to whole words and trim surrounding white space and punctuation-only edges."""
    start, end = max(0, min(start, end)), min(len(text), max(start, end))
    while 0 < start < len(text) and _WORD.match(text[start - 1]) and _WORD.match(text[start]):
        start -= 1
    while end < len(text) and end > 0 and _WORD.match(text[end - 1]) and _WORD.match(text[end]):
        end += 1
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def selection_spans(text: str, units: pd.DataFrame, start: int, end: int) -> list[tuple[int, int]]:
    """The spans to code for a selection: snapped to words and split at unit (turn) borders; parts outside
    any unit (speaker labels, blank lines) are dropped."""
    s, e = snap_to_words(text, start, end)
    spans = []
    for u in units.itertuples():
        a, b = max(s, int(u.start)), min(e, int(u.end))
        if a < b:
            a, b = snap_to_words(text, a, b)
            if a < b:
                spans.append((a, b))
    return spans


class CodingView(anywidget.AnyWidget):  # type: ignore[misc,unused-ignore]
    """Code a document of the project: select text, click a code (or press its key).

    Parameters
    ----------
    project : a :class:`Project` or a project folder.
    document : document id to open (default: the first document).
    coder : who codes (default: :func:`qualkit.current_coder`).
    """

    _esm = _STATIC / "coding.js"
    _css = _STATIC / "coding.css"

    doc = traitlets.Dict().tag(sync=True)
    codes: traitlets.List[Any] = traitlets.List().tag(sync=True)
    codings: traitlets.List[Any] = traitlets.List().tag(sync=True)
    documents: traitlets.List[Any] = traitlets.List().tag(sync=True)
    coders: traitlets.List[Any] = traitlets.List().tag(sync=True)
    coder = traitlets.Unicode("").tag(sync=True)
    coder_filter = traitlets.Unicode("").tag(sync=True)
    doc_filter = traitlets.Unicode("").tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)
    request = traitlets.Dict().tag(sync=True)

    def __init__(self, project: Project | str | Path = ".", *, document: str | None = None,
                 coder: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.project = project if isinstance(project, Project) else open_project(project)
        self.coder = coder or current_coder()
        cb = self.project.codebook
        dims = {d.key: d.name for d in cb.dimensions}
        self.codes = [{"name": c.name, "colour": c.colour, "shortcut": c.shortcut or "", "parent": c.parent or "",
                       "dimension": dims.get(c.dimension, c.dimension), "definition": c.definition}
                      for c in cb.codes.values()]
        self._all_docs = self.project.store.documents()
        self._cases = self.project.store.case_variables()
        self._apply_filter()
        first = document or (self.documents[0]["id"] if self.documents else None)
        if first is not None:
            self.show_document(first)
        self.observe(self._on_request, names="request")
        self.observe(lambda _: self._apply_filter(), names="doc_filter")

    # -- navigation ------------------------------------------------------------------------------
    def _apply_filter(self) -> None:
        docs = self._all_docs.merge(self._cases, on="case_id", how="left") if not self._cases.empty else self._all_docs
        f = self.doc_filter.strip()
        if f:
            if "=" in f:
                var, _, val = f.partition("=")
                var, val = var.strip(), val.strip()
                docs = docs[docs[var].astype(str) == val] if var in docs.columns else docs.iloc[0:0]
            else:
                docs = docs[docs.id.str.contains(re.escape(f), case=False)]
        self.documents = [{"id": r.id, "kind": r.kind} for r in docs.itertuples()]

    def show_document(self, document_id: str) -> None:
        """Show a document."""
        store = self.project.store
        text = store.document_text(document_id)
        row = self._all_docs[self._all_docs.id == document_id].iloc[0]
        variables: dict[str, str] = {}
        if not self._cases.empty and row.case_id in set(self._cases.case_id):
            c = self._cases[self._cases.case_id == row.case_id].iloc[0]
            variables = {k: str(v) for k, v in c.items() if k not in ("case_id", "case_kind") and pd.notna(v)}
        units = store.units(document_id)
        self._units = units
        question = row.question if isinstance(row.question, str) else ""
        self.doc = {"id": document_id, "kind": row.kind, "question": question, "text": text,
                    "variables": variables,
                    "units": [{"idx": int(u.idx), "start": int(u.start), "end": int(u.end), "speaker": u.speaker or "",
                               "role": u.role or "", "time": _fmt_time(u.time_end)} for u in units.itertuples()]}
        self.refresh()

    def refresh(self) -> None:
        """Reload codings (and coders) from the store: shows what other coders saved meanwhile."""
        if not self.doc:
            return
        store = self.project.store
        df = store.codings(document_id=self.doc["id"])
        colours = {c["name"]: c["colour"] for c in self.codes}
        self.codings = [{"id": int(r.id), "start": int(r.start), "end": int(r.end), "code": r.code,
                         "colour": colours.get(r.code, "#888888"), "coder": r.coder, "origin": r.origin,
                         "status": r.status, "memo": r.memo or "", "score": None if pd.isna(r.score) else float(r.score),
                         "explanation": r.explanation or "", "anchor": r.anchor} for r in df.itertuples()]
        self.coders = sorted({r[0] for r in store.query("SELECT id FROM coders")})

    def step(self, delta: int) -> None:
        ids = [d["id"] for d in self.documents]
        if not ids:
            return
        i = ids.index(self.doc["id"]) if self.doc.get("id") in ids else -1
        self.show_document(ids[max(0, min(len(ids) - 1, i + delta))])

    # -- actions ---------------------------------------------------------------------------------
    def code_selection(self, start: int, end: int, code: str) -> list[int]:
        """Code a selection (snapped to words, split at turns); returns the new coding ids."""
        text = self.doc["text"]
        spans = selection_spans(text, self._units, start, end)
        if not spans:
            raise QualkitError("the selection holds no text of a turn", hint="select words inside a turn")
        ids = []
        store = self.project.store
        with store.transaction() as con:
            for s, e in spans:
                ids.append(store.add_coding(self.doc["id"], s, e, code, coder=self.coder, con=con))
        return ids

    def code_unit(self, unit_idx: int, code: str) -> int:
        """Code a whole unit (quick coding of survey answers)."""
        u = self._units[self._units.idx == unit_idx].iloc[0]
        return self.project.store.add_coding(self.doc["id"], int(u.start), int(u.end), code, coder=self.coder)

    def _on_request(self, change: Mapping[str, Any]) -> None:
        req = dict(change["new"] or {})
        if not req:
            return
        action = req.get("action")
        store = self.project.store
        try:
            if action == "code":
                ids = self.code_selection(int(req["start"]), int(req["end"]), str(req["code"]))
                self.message = f"{len(ids)} Codierung(en) gespeichert: {req['code']}"
            elif action == "code_unit":
                self.code_unit(int(req["unit"]), str(req["code"]))
                self.message = f"Antwort codiert: {req['code']}"
                if req.get("advance"):
                    self.step(1)
            elif action == "recode":
                store.update_coding(int(req["id"]), coder=self.coder, code=str(req["code"]))
                self.message = "Code geändert"
            elif action == "memo":
                store.update_coding(int(req["id"]), coder=self.coder, memo=str(req["memo"]))
                self.message = "Memo gespeichert"
            elif action == "delete":
                store.delete_coding(int(req["id"]), coder=self.coder)
                self.message = "Codierung gelöscht"
            elif action in ("accept", "reject"):
                store.decide(int(req["id"]), accept=action == "accept", coder=self.coder)
                self.message = "Vorschlag angenommen" if action == "accept" else "Vorschlag abgelehnt"
            elif action == "open":
                self.show_document(str(req["document"]))
            elif action == "step":
                self.step(int(req["delta"]))
            elif action == "refresh":
                self._all_docs = store.documents()
                self._apply_filter()
            self.refresh()
        except QualkitError as e:
            self.message = f"Fehler: {e.message}"


def _fmt_time(ms: Any) -> str:
    if ms is None or pd.isna(ms):
        return ""
    s = int(ms) // 1000
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


class RetrievalView(anywidget.AnyWidget):  # type: ignore[misc,unused-ignore]
    """All segments coded with a code (or a combination), filterable by case variables and coder, with
    context on demand and a jump into a linked :class:`CodingView`."""

    _esm = _STATIC / "retrieval.js"
    _css = _STATIC / "coding.css"

    rows: traitlets.List[Any] = traitlets.List().tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    request = traitlets.Dict().tag(sync=True)

    def __init__(self, project: Project | str | Path = ".", codes: Sequence[str] | str = (), *, mode: str = "any",
                 filters: Mapping[str, str | Sequence[str]] | None = None, coders: Sequence[str] | None = None,
                 context: int = 200, coding_view: CodingView | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        from .analysis import retrieve
        self.project = project if isinstance(project, Project) else open_project(project)
        self.coding_view = coding_view
        self.frame = retrieve(self.project, codes, mode=mode, filters=filters, coders=coders, context=context)
        cfg = self.project.config
        shown = [cfg["privacy"]["place_variable"], *cfg["report"]["attribution"], *cfg["report"]["survey_attribution"],
                 cfg["interviews"]["group_variable"]]  # the project's own variables, each once
        variables = [c for c in dict.fromkeys(shown) if c and c in self.frame.columns]
        self.title = f"{len(self.frame)} Segmente: {codes if isinstance(codes, str) else ' + '.join(codes)}"
        self.rows = [{"document": r["document_id"], "start": int(r["start"]), "code": r["code"], "coder": r["coder"],
                      "text": r["text"], "before": r["before"], "after": r["after"], "memo": r["memo"] or "",
                      "vars": ", ".join(f"{v}: {r[v]}" for v in variables if pd.notna(r[v]))}
                     for _, r in self.frame.iterrows()]
        self.observe(self._on_request, names="request")

    def _on_request(self, change: Mapping[str, Any]) -> None:
        req = dict(change["new"] or {})
        if req.get("action") == "open" and self.coding_view is not None:
            self.coding_view.show_document(str(req["document"]))
