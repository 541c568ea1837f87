"""Coding in JupyterLab: :class:`CodingView` and :class:`RetrievalView` (anywidget).

The widgets are thin (style lesson 13): state lives in synced traitlets, every action the page asks for
arrives as a ``request`` dict and is carried out by the store (:mod:`qualkit.store`), so all logic is
tested without a browser.  Offsets are code points into the stored text; a selection is snapped to whole
words, and a selection across turns becomes one coding per turn (labels and blank lines excluded).  A
selection that reaches from a respondent's turn into the interviewer's question codes only the respondent's
text; the interviewer's turn is coded only when nothing else is selected.

Each browser codes under its own name: requests carry a client id (kept in the browser) and the name typed
there.  The first browser that talks to a project in a kernel codes under the kernel's coder
(:func:`qualkit.current_coder`); any other browser is asked who is coding before its first action.  Changes
made in a popup carry the values the popup was opened with and are refused if another coder changed the
coding meanwhile (compare-and-set in the store); the answer to each request goes back in ``reply``.

The page is kept up to date by deltas: after each request the view reads the store's log from where it last
looked (its own action and whatever other coders did meanwhile) and puts into the reply only what changed
(the codings of the open document added, changed or removed, the counts of the codes touched, the progress
of the documents touched).  Whole lists are sent only when a document is opened or the view is reloaded;
``revision`` tells the page to take them whole.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anywidget
import pandas as pd
import traitlets

from .blind import mark_done, visible_codings
from .changes import changes_since, last_entry
from .errors import CodingConflictError, QualkitError
from .history import History
from .navigation import coding_progress, search_documents, uncoded_units
from .project import Project, current_coder, open_project
from .retrieval_view import RetrievalView
from .selection import selection_spans, snap_to_words

__all__ = ["CodingView", "RetrievalView", "selection_spans", "snap_to_words"]

_STATIC = Path(__file__).parent / "static"


class _NeedCoder(QualkitError):
    """A second browser acts before saying who codes there."""


class _Browsers:
    """Which browser (client id) codes under which name, for one project in one kernel."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.first = ""

    def coder(self, client: str, name: str, default: str) -> str:
        if name:
            self.names[client] = name
            self.first = self.first or client
            return name
        if not client:
            return default
        if client in self.names:
            return self.names[client]
        if self.first in ("", client):
            self.first = client
            return default
        raise _NeedCoder("another browser already codes in this notebook",
                         hint="type your coder name into the view")


_BROWSERS: dict[str, _Browsers] = {}


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
    code_counts = traitlets.Dict().tag(sync=True)
    coder = traitlets.Unicode("").tag(sync=True)
    coder_filter = traitlets.Unicode("").tag(sync=True)
    doc_filter = traitlets.Unicode("").tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)
    request = traitlets.Dict().tag(sync=True)
    reply = traitlets.Dict().tag(sync=True)
    focus = traitlets.Dict().tag(sync=True)
    hits: traitlets.List[Any] = traitlets.List().tag(sync=True)
    # suggestions that follow the coding (issue 19): after each change the model is refitted and the
    # document's pending suggestions replaced; ``next_units`` lists what to code next (suggest_next)
    live_suggestions = traitlets.Bool(False).tag(sync=True)
    next_units: traitlets.List[Any] = traitlets.List().tag(sync=True)
    # bumped whenever codings, documents or counts are sent whole: the page then drops its delta-applied copies
    revision = traitlets.Int(0).tag(sync=True)

    def __init__(self, project: Project | str | Path = ".", *, document: str | None = None,
                 coder: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.project = project if isinstance(project, Project) else open_project(project)
        self.coder = coder or current_coder()
        self._browsers = _BROWSERS.setdefault(str(self.project.store.path), _Browsers())
        self._histories: dict[str, History] = {}
        self._listeners: list[Callable[[set[str] | None], None]] = []
        self._touched: set[str] | None = set()  # codes changed since the followers were last told (None: any)
        self._follow_later: asyncio.TimerHandle | None = None
        self._syncs = 0  # deltas sent without a request (after the suggestions followed a change)
        self._seen_log = last_entry(self.project.store)
        self._focus_nonce = 0
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
        self.on_msg(self._on_msg)
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
        progress = coding_progress(self.project.store)
        self._send_whole(documents=[{"id": r.id, "kind": r.kind, "coded": progress.get(r.id, (0, 0))[0],
                                     "units": progress.get(r.id, (0, 0))[1]} for r in docs.itertuples()])

    def show_document(self, document_id: str, *, focus: tuple[int, int] | None = None) -> None:
        """Show a document; ``focus`` (start, end) scrolls to and marks that passage."""
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
        with self.hold_sync():  # codings and document reach the page in one message
            self.refresh(document_id)
            self.doc = {"id": document_id, "kind": row.kind, "question": question, "text": text,
                        "variables": variables,
                        "units": [{"idx": int(u.idx), "start": int(u.start), "end": int(u.end),
                                   "speaker": u.speaker or "", "role": u.role or "", "time": _fmt_time(u.time_end)}
                                  for u in units.itertuples()]}
        if focus is not None:
            self.mark(*focus)

    def mark(self, start: int, end: int) -> None:
        """Scroll the view to a passage of the open document and mark it."""
        self._focus_nonce += 1
        self.focus = {"document": self.doc.get("id", ""), "start": int(start), "end": int(end),
                      "nonce": self._focus_nonce}

    def refresh(self, document_id: str | None = None) -> None:
        """Reload codings (and coders, counts) from the store: shows what other coders saved meanwhile."""
        doc_id = document_id or self.doc.get("id")
        if not doc_id:
            return
        store = self.project.store
        df = store.codings(document_id=doc_id)
        df = visible_codings(self.project, self.coder, doc_id, df)  # blind coding hides the others'
        self._send_whole(codings=self._rows(df), coders=self._coders(), code_counts=self._counts())
        if any(d["id"] == doc_id for d in self.documents):
            units = store.units(doc_id) if doc_id != self.doc.get("id") else self._units
            todo = len([u for u in units.itertuples() if (u.role or "") != "interviewer"])
            coded = todo - len(uncoded_units(units, df))
            if any(d["id"] == doc_id and (d["coded"], d["units"]) != (coded, todo) for d in self.documents):
                self._send_whole(documents=[{**d, "coded": coded, "units": todo} if d["id"] == doc_id else d
                                            for d in self.documents])

    # -- keeping the page up to date -------------------------------------------------------------
    def on_change(self, callback: Callable[[set[str] | None], None]) -> None:
        """Call ``callback(codes)`` after changes of codings the view learns of (its own actions and other
        coders' changes), after the page has its answer (see :meth:`_follow`); ``codes`` names the codes touched
        (``None``: any)."""
        self._listeners.append(callback)

    def _rows(self, df: pd.DataFrame) -> list[dict[str, Any]]:
        colours = {c["name"]: c["colour"] for c in self.codes}
        return [{"id": int(r.id), "start": int(r.start), "end": int(r.end), "code": r.code,
                 "colour": colours.get(r.code, "#888888"), "coder": r.coder, "origin": r.origin,
                 "status": r.status, "memo": r.memo or "", "score": None if pd.isna(r.score) else float(r.score),
                 "explanation": r.explanation or "", "anchor": r.anchor} for r in df.itertuples()]

    def _coders(self) -> list[str]:
        return sorted({r[0] for r in self.project.store.query("SELECT id FROM coders")})

    def _counts(self, codes: Sequence[str] | None = None) -> dict[str, int]:
        """Project-wide counts of codings that count (not rejected, not pending), of ``codes`` or of all."""
        only = "" if codes is None else f" AND k.name IN ({','.join('?' * len(codes))})"
        return {r[0]: int(r[1]) for r in self.project.store.query(
            "SELECT k.name, COUNT(*) FROM codings c JOIN codes k ON k.id = c.code_id "
            f"WHERE c.status NOT IN ('rejected', 'pending'){only} GROUP BY k.name", tuple(codes or ()))}

    def _send_whole(self, **values: Any) -> None:
        """Set synced lists the page takes whole; if any changed, ``revision`` tells the page to drop the
        copies it kept up to date by deltas (they may differ from what it last received whole)."""
        changed = {k: v for k, v in values.items() if getattr(self, k) != v}
        if changed:
            with self.hold_sync():
                for k, v in changed.items():
                    setattr(self, k, v)
                self.revision += 1

    def _quietly(self, **values: Any) -> None:
        """Set synced values the page already holds (it applies the same delta from the reply): not sent."""
        for name, value in values.items():
            with self._lock_property(**{name: value}):
                setattr(self, name, value)

    def _catch_up(self) -> tuple[dict[str, Any], set[str] | None]:
        """Read the store's log since the view last looked and bring the view up to date.  Returns the delta
        for the page (``upsert``/``remove`` codings of ``document``, ``counts``, ``progress``, ``coders``; empty
        if nothing changed) and the codes touched (``None`` after a reload, when anything may have changed)."""
        store = self.project.store
        ch = changes_since(store, self._seen_log, limit=_RELOAD_AFTER)
        if not ch.entries:
            return {}, set()
        self._seen_log = ch.last
        if ch.entries > _RELOAD_AFTER:  # a bulk change (an import, an auto-coding run): reload whole
            self._apply_filter()
            self.refresh()
            return {}, None
        now, ids, docs, codes = ch.rows, ch.coding_ids, ch.documents, ch.codes
        doc_id = str(self.doc.get("id", ""))
        delta: dict[str, Any] = {}
        if doc_id in docs:
            here = now[(now.document_id == doc_id) & (now.status != "rejected")]
            up = self._rows(visible_codings(self.project, self.coder, doc_id, here))
            touched, shown = set(ids), {c["id"] for c in up}
            gone = [c["id"] for c in self.codings if c["id"] in touched and c["id"] not in shown]
            if up or gone:
                rows = [c for c in self.codings if c["id"] not in touched] + up
                self._quietly(codings=sorted(rows, key=lambda c: (c["start"], c["id"])))
                delta.update(document=doc_id, upsert=up, remove=gone)
        if codes:
            names = sorted(codes)
            got = self._counts(names)
            counts = {n: got.get(n, 0) for n in names if got.get(n, 0) != self.code_counts.get(n, 0)}
            if counts:
                self._quietly(code_counts={k: v for k, v in {**self.code_counts, **counts}.items() if v})
                delta["counts"] = counts
        listed = {d["id"] for d in self.documents}
        progress = {d: list(p) for d, p in coding_progress(store, sorted(docs & listed)).items()}
        progress = {d: p for d, p in progress.items()
                    if any(x["id"] == d and [x["coded"], x["units"]] != p for x in self.documents)}
        if progress:
            self._quietly(documents=[{**d, "coded": progress[d["id"]][0], "units": progress[d["id"]][1]}
                                     if d["id"] in progress else d for d in self.documents])
            delta["progress"] = progress
        if not ch.coders <= set(self.coders):
            self._quietly(coders=self._coders())
            delta["coders"] = self.coders
        return delta, codes

    def step(self, delta: int) -> None:
        ids = [d["id"] for d in self.documents]
        if not ids:
            return
        i = ids.index(self.doc["id"]) if self.doc.get("id") in ids else -1
        self.show_document(ids[max(0, min(len(ids) - 1, i + delta))])

    def step_uncoded(self, delta: int = 1) -> bool:
        """Open the next (``delta`` > 0) or previous document that has an uncoded unit and mark that unit."""
        ids = [d["id"] for d in self.documents if d["coded"] < d["units"]]
        here = [d["id"] for d in self.documents]
        pos = here.index(self.doc["id"]) if self.doc.get("id") in here else -1
        order = {d: i for i, d in enumerate(here)}
        cands = [d for d in ids if (order[d] > pos if delta > 0 else order[d] < pos)]
        if not cands:
            return False
        target = cands[0] if delta > 0 else cands[-1]
        self.show_document(target)
        todo = uncoded_units(self._units, self.project.store.codings(document_id=target))
        if todo:
            u = self._units[self._units.idx == (todo[0] if delta > 0 else todo[-1])].iloc[0]
            self.mark(int(u.start), int(u.end))
        return True

    # -- actions ---------------------------------------------------------------------------------
    def code_selection(self, start: int, end: int, code: str, *, coder: str | None = None) -> list[int]:
        """Code a selection (snapped to words, split at turns, see :func:`selection_spans`); returns the new
        coding ids.  A span this coder already coded with this code is not coded twice."""
        text = self.doc["text"]
        spans = selection_spans(text, self._units, start, end)
        if not spans:
            raise QualkitError("the selection holds no text of a turn", hint="select words inside a turn")
        return self._add(spans, code, coder or self.coder)

    def code_unit(self, unit_idx: int, code: str, *, coder: str | None = None) -> int | None:
        """Code a whole unit (quick coding of survey answers); ``None`` if it already has that coding."""
        u = self._units[self._units.idx == unit_idx].iloc[0]
        ids = self._add([(int(u.start), int(u.end))], code, coder or self.coder)
        return ids[0] if ids else None

    def _add(self, spans: Sequence[tuple[int, int]], code: str, coder: str) -> list[int]:
        store = self.project.store
        ids = []
        with store.transaction() as con:
            have = {(int(r[0]), int(r[1])) for r in con.execute(
                'SELECT start, "end" FROM codings WHERE document_id=? AND code_id=? AND coder=?',
                (self.doc["id"], store.code_id(code), coder))}
            for s, e in spans:
                if (s, e) not in have:
                    ids.append(store.add_coding(self.doc["id"], s, e, code, coder=coder, con=con))
        return ids

    def _history(self, client: str) -> History:
        return self._histories.setdefault(client, History(self.project.store))

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        # The page sends its requests as custom messages: unlike a synced trait, which the front end throttles
        # (two quick key presses could merge into one update), every message arrives, in order.
        if isinstance(content, dict) and content.get("action"):
            self._on_request({"new": content})

    def _on_request(self, change: Mapping[str, Any]) -> None:
        req = dict(change["new"] or {})
        if not req:
            return
        action = str(req.get("action", ""))
        client = str(req.get("client") or "")
        reply: dict[str, Any] = {"client": client, "nonce": req.get("nonce"), "action": action, "ok": True, "text": ""}
        try:
            coder = self._browsers.coder(client, str(req.get("coder") or "").strip(), self.coder)
            reply["coder"] = coder
            reply.update(self._dispatch(action, req, coder, self._history(client)))
        except _NeedCoder:
            reply.update(ok=False, need_coder=True, text="Wer codiert in diesem Browser? Bitte Namen eingeben.")
        except CodingConflictError as e:
            what = "gelöscht" if e.field == "deleted" else "geändert"
            reply.update(ok=False, conflict={"id": e.coding_id, "field": e.field, "theirs": e.theirs, "by": e.by},
                         text=f"Nicht gespeichert: die Codierung wurde inzwischen von {e.by or 'jemand anderem'} "
                              f"{what}. Ihr Text bleibt im Fenster; bitte neu öffnen.")
        except QualkitError as e:
            reply.update(ok=False, text=f"Fehler: {e.message}")
        delta, touched = self._catch_up()  # what changed since the page last heard: its own action, others'
        if delta:
            reply["delta"] = delta
        if reply["text"]:
            self.message = reply["text"]
        self.reply = reply
        if self.live_suggestions and action in _CHANGES and reply["ok"]:
            try:
                self.update_suggestions()  # the model follows the coding (issue 19), once the coder has the answer
            except QualkitError as e:
                self.message = f"Vorschläge nicht erneuert: {e.message}"
            more, again = self._catch_up()
            if more:  # suggestions withdrawn or renewed: to every browser, as a delta without an answer
                self._syncs += 1
                self.reply = {"client": "*", "nonce": f"sync:{self._syncs}", "action": "sync", "ok": True,
                              "text": "", "delta": more}
            touched = None if touched is None or again is None else touched | again
        if touched != set():
            self._follow(touched)

    def _follow(self, touched: set[str] | None) -> None:
        """Tell the followers (the retrieval view) what changed, after the answer went out and, in a kernel, once
        the coder pauses (:data:`_FOLLOW_AFTER` seconds without another change): a follower's work never delays
        an answer, and a burst of key presses is followed once."""
        if self._touched is not None:
            self._touched = None if touched is None else self._touched | touched
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a script, the tests): at once
            self._touched = set()
            for listener in self._listeners:
                listener(touched)
            return
        if self._follow_later is not None:
            self._follow_later.cancel()
        self._follow_later = loop.call_later(_FOLLOW_AFTER, self._follow_now)

    def _follow_now(self) -> None:
        touched, self._touched, self._follow_later = self._touched, set(), None
        for listener in self._listeners:
            listener(touched)

    def _dispatch(self, action: str, req: dict[str, Any], coder: str, history: History) -> dict[str, Any]:
        store = self.project.store
        expect = {k: v for k, v in dict(req.get("expect") or {}).items() if k in ("code", "memo")}
        if action == "code":
            ids = self.code_selection(int(req["start"]), int(req["end"]), str(req["code"]), coder=coder)
            history.added(ids, f"Codierung {req['code']}")
            if not ids:
                return {"text": f"Schon codiert: {req['code']}"}
            return {"text": f"{len(ids)} Codierung(en) gespeichert: {req['code']}", "ids": ids}
        if action == "code_unit":
            doc_id = self.doc["id"]
            cid = self.code_unit(int(req["unit"]), str(req["code"]), coder=coder)
            history.added([cid] if cid else [], f"Codierung {req['code']}")
            if req.get("advance"):
                self.step(1)
            return {"text": f"Antwort {doc_id} codiert: {req['code']}" if cid else f"Schon codiert: {req['code']}",
                    "last": {"document": doc_id, "code": str(req["code"])}}
        if action in ("recode", "memo"):
            cid = int(req["id"])
            key, value = ("code", str(req["code"])) if action == "recode" else ("memo", str(req["memo"]))
            exists = bool(store.query("SELECT 1 FROM codings WHERE id=?", (cid,)))
            old = store.coding(cid)[key] if exists else None
            if expect or not exists:
                store.update_coding_if(cid, coder=coder, expect=expect, **{key: value})
            elif key == "code":
                store.update_coding(cid, coder=coder, code=value)
            else:
                store.update_coding(cid, coder=coder, memo=value)
            history.updated(cid, {key: old}, {key: value}, "Code geändert" if key == "code" else "Memo")
            return {"text": "Code geändert" if key == "code" else "Memo gespeichert"}
        if action == "delete":
            cid = int(req["id"])
            with store.transaction():
                if not store.query("SELECT 1 FROM codings WHERE id=?", (cid,)):
                    raise CodingConflictError(cid, "deleted", by=store.last_changed_by(cid))
                gone = dict(store.coding(cid))
                for k, v in expect.items():
                    if gone[k] != v:
                        raise CodingConflictError(cid, k, theirs=str(gone[k]), by=store.last_changed_by(cid))
                store.delete_coding(cid, coder=coder)
            history.deleted(gone, f"Löschen von {gone['code']}")
            return {"text": f"Codierung gelöscht: {gone['code']}", "undo": True}
        if action in ("accept", "reject"):
            store.decide(int(req["id"]), accept=action == "accept", coder=coder)
            history.decided(int(req["id"]), accept=action == "accept", label="Entscheidung")
            return {"text": "Vorschlag angenommen" if action == "accept" else "Vorschlag abgelehnt"}
        if action in ("undo", "redo"):
            step = history.undo(coder=coder) if action == "undo" else history.redo(coder=coder)
            ids = [int(r["id"]) for r in step.rows] or [step.coding_id]
            return {"text": f"{'Rückgängig' if action == 'undo' else 'Wiederholt'}: {step.label}", "ids": ids}
        if action == "next":
            self.suggest_next(int(req.get("n", 10)))
            return {"text": f"{len(self.next_units)} Vorschläge, was als Nächstes zu codieren ist"}
        if action == "blind_done":
            mark_done(self.project, coder, self.doc["id"])
            self.refresh()  # the others' codings become visible: whole
            return {"text": "Blind codiert: fertig; die anderen Codierungen sind jetzt sichtbar"}
        if action == "open":
            focus = (int(req["start"]), int(req["end"])) if "start" in req and "end" in req else None
            self.show_document(str(req["document"]), focus=focus)
        elif action == "step":
            self.step(int(req["delta"]))
        elif action == "step_uncoded":
            if not self.step_uncoded(int(req.get("delta", 1))):
                return {"text": "Keine uncodierten Abschnitte mehr in der Dokumentliste"}
        elif action == "search":
            self.hits = search_documents(store, str(req.get("query", "")), documents=[d["id"] for d in self.documents])
            n_docs = len({h["document"] for h in self.hits})
            return {"text": f"{len(self.hits)} Treffer in {n_docs} Dokument(en)"}
        elif action == "refresh":
            self._all_docs = store.documents()
            self._apply_filter()
            self.refresh()
        elif action == "hello":  # a new view of this widget: its copies of the lists are the first ones sent
            self.send_state(["codings", "documents", "code_counts", "coders"])
            self.revision += 1
        elif action != "poll":
            raise ValueError(f"unknown action {action!r}")
        return {}

    def update_suggestions(self) -> None:
        """Refit the auto-coder on the current codings and renew this document's pending suggestions."""
        from .errors import AutocodeError
        from .suggestions import LiveSuggestions
        if getattr(self, "_live", None) is None:
            self._live = LiveSuggestions(self.project)
        try:
            self._live.refresh(self.doc["id"])
        except AutocodeError:  # nothing human-coded yet: nothing to learn from
            return

    def suggest_next(self, n: int = 10) -> None:
        """Fill ``next_units`` with the n uncoded units whose coding would teach the model most
        (:func:`qualkit.suggestions.next_units`); each with ``why``, the reason in the researcher's words."""
        from .suggestions import next_units
        df = next_units(self.project, n)
        self.next_units = [{"document": r.document_id, "start": int(r.start), "end": int(r.end),
                            "utility": float(r.utility), "why": _why(float(r.utility)), "text": r.text[:160]}
                           for r in df.itertuples()]


def _why(utility: float) -> str:
    """Why a unit is proposed: it is uncoded and the model is undecided about it (``utility`` sums, over the
    codes, how close the model's score is to the code's threshold: 1 per code at the threshold)."""
    return f"noch uncodiert; das Modell schwankt hier bei mehreren Codes (Unsicherheit {utility:.2f})".replace(".", ",")


_CHANGES = {"code", "code_unit", "recode", "delete", "accept", "reject"}
_FOLLOW_AFTER = 0.8  # seconds without a change before the followers (the retrieval view) run again
_RELOAD_AFTER = 500  # more log entries than this since the view last looked: reload whole instead of a delta


def _fmt_time(ms: Any) -> str:
    if ms is None or pd.isna(ms):
        return ""
    s = int(ms) // 1000
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"

