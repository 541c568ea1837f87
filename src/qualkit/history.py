"""Undo and redo of one coder's actions in the coding view.

A :class:`History` remembers what a coder did (add, delete, change, decide) and carries out the inverse
through the public :class:`~qualkit.store.Store` methods, so every undo and redo is one transaction and is
logged in ``coding_log`` like any other change.  Changes are undone with compare-and-set: if another coder
changed the coding since, the undo is refused with :class:`~qualkit.errors.CodingConflictError` and nothing
is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import CodingConflictError, CodingError
from .store import Store

__all__ = ["History", "Step"]


@dataclass
class Step:
    """One action of the coder.  ``kind`` is ``add``, ``delete``, ``update`` or ``decide``; ``rows`` hold the
    codings as :meth:`Store.coding` returned them (add/delete); ``before``/``after`` the changed fields (update)
    or ``{"accept": bool}`` (decide)."""

    kind: str
    label: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    coding_id: int = 0
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


class History:
    """The undo and redo stacks of one coder in one view (at most ``limit`` steps)."""

    def __init__(self, store: Store, *, limit: int = 200) -> None:
        self.store = store
        self.limit = limit
        self.undo_steps: list[Step] = []
        self.redo_steps: list[Step] = []

    # -- recording --------------------------------------------------------------------------------
    def _push(self, step: Step) -> None:
        self.undo_steps.append(step)
        del self.undo_steps[:-self.limit]
        self.redo_steps.clear()

    def added(self, ids: Iterable[int], label: str) -> None:
        rows = [dict(self.store.coding(i)) for i in ids]
        if rows:
            self._push(Step("add", label, rows=rows))

    def deleted(self, row: Mapping[str, Any], label: str) -> None:
        self._push(Step("delete", label, rows=[dict(row)]))

    def updated(self, coding_id: int, before: Mapping[str, Any], after: Mapping[str, Any], label: str) -> None:
        changed = [k for k in after if before.get(k) != after[k]]
        if changed:
            self._push(Step("update", label, coding_id=coding_id, before={k: before[k] for k in changed},
                            after={k: after[k] for k in changed}))

    def decided(self, coding_id: int, *, accept: bool, label: str) -> None:
        self._push(Step("decide", label, coding_id=coding_id, after={"accept": accept}))

    # -- undo / redo ------------------------------------------------------------------------------
    def undo(self, *, coder: str) -> Step:
        """Undo the last step; returns it.  Raises :class:`CodingError` if there is nothing to undo."""
        if not self.undo_steps:
            raise CodingError("nothing to undo", hint="undo takes back your own actions in this view")
        step = self.undo_steps[-1]
        self._apply(step, coder=coder, forward=False)
        self.redo_steps.append(self.undo_steps.pop())
        return step

    def redo(self, *, coder: str) -> Step:
        """Redo the last undone step; returns it."""
        if not self.redo_steps:
            raise CodingError("nothing to redo", hint="redo repeats what you undid")
        step = self.redo_steps[-1]
        self._apply(step, coder=coder, forward=True)
        self.undo_steps.append(self.redo_steps.pop())
        return step

    def _apply(self, step: Step, *, coder: str, forward: bool) -> None:
        store = self.store
        if step.kind in ("add", "delete"):
            remove = (step.kind == "add") != forward
            with store.transaction():
                for row in step.rows:
                    if remove:
                        self._check_exists(int(row["id"]))
                        store.delete_coding(int(row["id"]), coder=coder)
                    else:
                        row["id"] = store.restore_coding(row, coder=coder)
        elif step.kind == "update":
            old, new = (step.before, step.after) if forward else (step.after, step.before)
            store.update_coding_if(step.coding_id, coder=coder, expect=old, **new)
        elif step.kind == "decide":
            if forward:
                store.decide(step.coding_id, accept=bool(step.after["accept"]), coder=coder)
            else:
                self._check_exists(step.coding_id)
                store.reopen_suggestion(step.coding_id, coder=coder)
        else:  # pragma: no cover - steps are only made by the methods above
            raise ValueError(step.kind)

    def _check_exists(self, coding_id: int) -> None:
        if not self.store.query("SELECT 1 FROM codings WHERE id=?", (coding_id,)):
            raise CodingConflictError(coding_id, "deleted", by=self.store.last_changed_by(coding_id))
