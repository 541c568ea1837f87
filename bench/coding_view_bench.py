"""The Python side of the coding view's actions on the example project (reference codings loaded), and what
each answer sends to the page.

Opens the longest interview I13 in a :class:`CodingView` with a linked :class:`RetrievalView` (as
notebooks/coding.ipynb does) and drives it with the page's messages: code (keys 1-7: the seven top-level codes,
one of them the retrieval view's), memo, change of code, delete, undo, redo, accept a suggestion, and a poll
with nothing new.  For each action: the time from the message to the answer (``reply``) in Python, the time the
retrieval view needed afterwards when the change touched its code (in a kernel it runs once the coder pauses,
never before the answer), and the bytes of JSON the answer sends: the reply with its delta, against the whole
lists (codings of the document, document list, code counts) that every action sent before.  The browser's view
of the same actions (round trip and drawing) is measured by ``tests/test_browser.py`` in
docs/benchmarks/coding-view.md.  Writes docs/benchmarks/coding-view-python.md.  Usage:
``python bench/coding_view_bench.py [repetitions]`` (default 7).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import copy_project, machine, write_result
from qualkit.corpus import ingest
from qualkit.project import open_project
from qualkit.widgets import CodingView, RetrievalView

DOCUMENT = "I13"


def main(reps: int = 7) -> dict[str, Any]:
    project = open_project(copy_project())
    ingest(project)
    store = project.store
    view = CodingView(project, document=DOCUMENT, coder="bench")
    retrieval = RetrievalView(project, project.codebook.first_code(), coding_view=view)
    follow: list[float] = []
    real_refresh = retrieval.refresh

    def timed_refresh() -> None:
        t = time.perf_counter()
        real_refresh()
        follow.append(time.perf_counter() - t)
    retrieval.refresh = timed_refresh  # type: ignore[method-assign]
    answered: list[float] = []
    view.observe(lambda _: answered.append(time.perf_counter()), names="reply")
    whole = len(json.dumps({"codings": view.codings, "documents": view.documents, "code_counts": view.code_counts},
                           ensure_ascii=False).encode())
    rows: dict[str, list[tuple[float, float, int]]] = {}
    nonce = 0

    def send(**req: Any) -> dict[str, Any]:
        nonlocal nonce
        nonce += 1
        follow.clear()
        t0 = time.perf_counter()
        view._on_msg(view, {**req, "client": "bench-page", "nonce": f"b:{nonce}"}, [])
        reply = dict(view.reply)
        size = len(json.dumps(reply, ensure_ascii=False).encode())
        rows.setdefault(str(req["action"]), []).append((answered[-1] - t0, sum(follow), size))
        return reply

    units = store.units(DOCUMENT)
    todo = units[units.role != "interviewer"]
    tops = [c.name for c in project.codebook.codes.values() if not c.parent][:7]
    for i in range(reps):
        u = todo.iloc[i]
        send(action="code", start=int(u.start), end=int(u.start) + 30, code=tops[i % len(tops)])
        mine = view.reply
        cid = next(c["id"] for c in view.codings if c["coder"] == "bench" and c["start"] == int(u.start))
        row = next(c for c in view.codings if c["id"] == cid)
        send(action="memo", id=cid, memo=f"Memo {i}", expect={"code": row["code"], "memo": ""})
        send(action="recode", id=cid, code=tops[(i + 1) % len(tops)], expect={"code": row["code"], "memo": f"Memo {i}"})
        send(action="delete", id=cid, expect={})
        send(action="undo")
        send(action="redo")
        auto = store.add_coding(DOCUMENT, int(u.start), int(u.start) + 20, tops[(i + 2) % len(tops)],
                                coder="qualkit-autocode", origin="auto", score=0.7, explanation="bench")
        send(action="poll")  # picks up the suggestion (made outside the view, like another kernel's)
        send(action="accept", id=auto)
        send(action="poll")
        assert mine["ok"]
    # what every action did before the deltas, after its store change: reload the document's codings, counts,
    # coders and progress, and run the retrieval again, all before answering (a lower bound: sending and
    # drawing the whole lists came on top)
    before = []
    for _ in range(reps):
        t = time.perf_counter()
        view.refresh()
        real_refresh()
        before.append(time.perf_counter() - t)
    before_ms = round(statistics.median(before) * 1000, 1)
    table = {a: {"n": len(v), "answer_ms": round(statistics.median(x[0] for x in v) * 1000, 1),
                 "answer_max_ms": round(max(x[0] for x in v) * 1000, 1),
                 "retrieval_runs": sum(1 for x in v if x[1] > 0),
                 "retrieval_ms": round(statistics.median([x[1] for x in v if x[1] > 0] or [0]) * 1000, 1),
                 "reply_bytes": int(statistics.median(x[2] for x in v))} for a, v in sorted(rows.items())}
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    n_codings = len(view.codings)
    lines = ["# Coding view: the Python side of each action", "",
             f"`bench/coding_view_bench.py`: the example project with its reference codings, interview {DOCUMENT}",
             f"({n_codings} codings shown) in a `CodingView` with a linked `RetrievalView`, {reps} rounds of each",
             "action sent as the page sends them.  *answer*: message in → `reply` set (Python, median and",
             "maximum); *retrieval*: how often the retrieval view ran again afterwards (only when the change",
             "touched its code) and its median time (in a kernel after the answer, once the coder pauses);",
             "*reply bytes*: JSON of the answer with its delta.  Before, every action sent the whole lists",
             f"as well: {whole:,} bytes (codings of the document, document list, code counts), and reloaded",
             "them and ran the retrieval again before answering: that work alone (reload + retrieval, without",
             f"sending and drawing) takes {before_ms} ms (median) on the same store.", "",
             f"Machine: {machine()}; load average {load} (1, 5, 15 min).", "",
             "| action | n | answer median ms | answer max ms | retrieval runs | retrieval median ms | reply bytes |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {a} | {r['n']} | {r['answer_ms']} | {r['answer_max_ms']} | {r['retrieval_runs']} | "
              f"{r['retrieval_ms'] if r['retrieval_runs'] else '–'} | {r['reply_bytes']} |" for a, r in table.items()]
    data = {"document": DOCUMENT, "codings_shown": n_codings, "whole_lists_bytes": whole, "reps": reps,
            "before_reload_and_retrieval_ms": before_ms,
            "load": load, "actions": table}
    write_result("coding-view-python", "\n".join(lines) + "\n", data)
    return data


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
