"""How fast do suggestions follow the coding, and does the fast refresh match a full fit?

Timing, as the coding view does it (:class:`qualkit.suggestions.LiveSuggestions`), on a copy of the example
in which coder A has coded every other document (the rest is still to code): a researcher opens an interview
not yet coded and codes its turns one by one; after each coding the document's suggestions are refreshed
(refit what changed, score the document's uncoded turns, spans, replace the pending suggestions in the store).

- first ever: nothing cached on disk (feature vocabulary, matrix of every unit and the models are built);
- cold session: a new Python process on the same project (features, matrix and model loaded from disk);
- warm: within the session, the first coding of a document (its units join the training data: every code is
  refitted) and the following codings (only the codes whose examples changed).

Quality: coder A's units, cases in three random orders; from 50 % coded (a full fit) codings arrive unit by
unit up to 60 %, each followed by the refit ``LiveSuggestions`` does (the codes with new positives, and two
with only new negatives; one regression each, stackers kept), against a full fit (every code with its
stacker) on the same codings; micro/macro-F1 on the 40 % not coded.

Writes docs/benchmarks/autocode-refresh.md.  Command: ``nice python bench/autocode_refresh.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import copy_project, example_matrix, machine, prf, write_result
from qualkit.corpus import ingest
from qualkit.project import Project, open_project
from qualkit.suggestions import LiveSuggestions, _examples, _refit_plan, _template

START, END = 0.5, 0.6  # the quality run: coded share at its start and end
CODE = "Wohnen und Mobilität"  # a code of the example's Handlungsfelder, for the timed codings


def half_coded() -> tuple[Project, str]:
    """A copy of the example in which coder A's codings of every other document are removed; returns it and
    an interview without A's codings (the one the researcher opens)."""
    p = open_project(copy_project())
    ingest(p)
    docs = sorted(r[0] for r in p.store.query("SELECT DISTINCT document_id FROM codings WHERE coder='A'"))
    drop = docs[1::2]
    with p.store.transaction() as con:
        for d in drop:
            con.execute("DELETE FROM codings WHERE coder='A' AND document_id=?", (d,))
    return p, next(d for d in drop if d.startswith("I"))


def code_turns(p: Project, doc: str, live: LiveSuggestions, n: int) -> list[dict[str, Any]]:
    units = p.store.units(doc)
    out = []
    for r in units[units.role == "respondent"].head(n).itertuples():
        p.store.add_coding(doc, int(r.start), int(r.end), CODE, coder="A")
        t, c = time.perf_counter(), time.process_time()
        new = live.refresh(doc)
        out.append({"seconds": round(time.perf_counter() - t, 3), "cpu_seconds": round(time.process_time() - c, 3),
                    "refitted": len(live.last_refitted), "new_suggestions": len(new)})
    return out


def cold_session(root: str, doc: str) -> None:
    """In a new process: seconds for imports and for the first refresh (printed as JSON)."""
    t = time.perf_counter()
    p = open_project(root)
    live = LiveSuggestions(p, coder="A")
    imports = time.perf_counter() - t
    t, c = time.perf_counter(), time.process_time()
    live.refresh(doc)
    print(json.dumps({"open_s": round(imports, 3), "first_refresh_s": round(time.perf_counter() - t, 3),
                      "first_refresh_cpu_s": round(time.process_time() - c, 3)}))


def timing() -> dict[str, Any]:
    p, doc = half_coded()
    live = LiveSuggestions(p, coder="A")
    t = time.perf_counter()
    live.refresh(doc)
    first = time.perf_counter() - t
    cmd = [sys.executable, __file__, "--cold", str(p.root), doc]
    cold = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    live = LiveSuggestions(p, coder="A")
    live.refresh(doc)  # this process's own cold start (not timed again)
    codings = code_turns(p, doc, live, 6)
    later = [c["seconds"] for c in codings[1:]]
    later_cpu = [c["cpu_seconds"] for c in codings[1:]]
    n_units = int((p.store.units(doc).role == "respondent").sum())
    return {"document_turns": n_units, "first_ever_s": round(first, 2), "cold": cold,
            "first_coding_of_document_s": codings[0]["seconds"], "first_coding_refitted": codings[0]["refitted"],
            "next_codings_median_s": round(float(np.median(later)), 3), "next_codings_max_s": max(later),
            "next_codings_median_cpu_s": round(float(np.median(later_cpu)), 3),
            "first_coding_of_document_cpu_s": codings[0]["cpu_seconds"],
            "next_codings_refitted": [c["refitted"] for c in codings[1:]], "codings": codings,
            "codes": len(live.model.labels_)}


def quality(seeds: list[int]) -> dict[str, Any]:
    ex = example_matrix()
    p, df, matrix, rows, labels, y = ex.project, ex.df, ex.matrix, ex.rows, ex.labels, ex.y
    cols = [labels.index(c) for c in ex.primary]
    groups = df.case_id.to_numpy()
    from scipy.sparse import vstack
    out: dict[str, Any] = {"live": [], "full": [], "coded": [], "refit_s": [], "refitted": []}

    def fit(r: np.ndarray) -> Any:
        return _template(p).fit_transformed(matrix.features, matrix.x[rows[r]], matrix.rule_x[rows[r]], y[r])

    def f1(m: Any, rest: np.ndarray) -> tuple[float, float]:
        s = m.scores_transformed(matrix.x[rows[rest]], matrix.rule_x[rows[rest]], matrix.rule_scores[rows[rest]],
                                 matrix.empty[rows[rest]])
        t = np.array([m.thresholds_[c] for c in labels])
        pred, truth = (s >= t)[:, cols], y[rest][:, cols].astype(bool)
        return prf(truth.ravel(), pred.ravel())[2], float(np.mean([prf(truth[:, j], pred[:, j])[2]
                                                                   for j in range(len(cols))]))

    lazy = LiveSuggestions(p).lazy_per_refresh
    for seed in seeds:
        cases = list(np.random.default_rng(seed).permutation(np.array(sorted(set(groups)), dtype=object)))
        coded = np.zeros(len(df), dtype=bool)
        order = iter(cases)
        while coded.mean() < START:
            coded |= groups == next(order)
        live = fit(np.flatnonzero(coded))
        fitted = _examples(rows[coded], y[coded], labels)
        ex, ex_rule, ex_y = live.codebook_rows()
        while coded.mean() < END:  # codings arrive unit by unit (case by case), each followed by the live refit
            for i in np.flatnonzero(groups == next(order)):
                coded[i] = True
                r = np.flatnonzero(coded)
                now = _examples(rows[r], y[r], labels)
                todo, _ = _refit_plan(fitted, now, labels, lazy)
                t = time.perf_counter()
                if todo:
                    live._fit_matrix(vstack([matrix.x[rows[r]], ex]).tocsr(),
                                     np.vstack([matrix.rule_x[rows[r]], ex_rule]), np.vstack([y[r], ex_y]),
                                     quick=True, only=todo)
                    fitted.update({c: now[c] for c in todo})
                out["refit_s"].append(time.perf_counter() - t)
                out["refitted"].append(len(todo))
        rest = np.flatnonzero(~coded)
        out["live"].append(f1(live, rest))
        out["full"].append(f1(fit(np.flatnonzero(coded)), rest))
        out["coded"].append(float(coded.mean()))
    out["codes"] = labels
    return out


def main() -> None:
    if sys.argv[1:2] == ["--cold"]:
        cold_session(sys.argv[2], sys.argv[3])
        return
    import os
    t0 = time.perf_counter()
    tm = timing()
    load = round(os.getloadavg()[0], 1)
    q = quality([0, 1, 2])
    live, full = np.mean(q["live"], axis=0), np.mean(q["full"], axis=0)
    lines = ["# Refreshing suggestions after a new coding", "",
             f"Machine: {machine()}. Command: `nice python bench/autocode_refresh.py`. Wall time "
             f"{time.perf_counter() - t0:.0f} s; load average {load} when the timing ended (the machine is shared: "
             "other jobs slow every figure). The example with coder A's codings of every other document "
             f"(the rest still to code); {tm['codes']} codes (the dimensions marked for auto-coding). A researcher "
             f"opens an interview not yet coded ({tm['document_turns']} turns) and codes its turns one by one; "
             "after each coding `LiveSuggestions.refresh` refits, scores the document's uncoded turns (with spans) "
             "and replaces its pending suggestions in the store.", "",
             "| situation | seconds from a new coding to refreshed suggestions | CPU seconds of this process |",
             "|---|---|---|",
             f"| first ever (no cache: vocabulary, matrix of every unit, every model) | {tm['first_ever_s']:.1f} | |",
             f"| cold session (new process; features, matrix and model from disk) | "
             f"{tm['cold']['first_refresh_s']:.2f} | {tm['cold']['first_refresh_cpu_s']:.2f} |",
             f"| warm, first coding of the document ({tm['first_coding_refitted']} codes refitted) | "
             f"{tm['first_coding_of_document_s']:.2f} | {tm['first_coding_of_document_cpu_s']:.2f} |",
             f"| warm, next codings in it (median; codes refitted: "
             f"{', '.join(map(str, tm['next_codings_refitted']))}) | **{tm['next_codings_median_s']:.2f}** "
             f"(max {tm['next_codings_max_s']:.2f}) | {tm['next_codings_median_cpu_s']:.2f} |", "",
             "Wall seconds include waiting for the shared CPU; CPU seconds are what the refresh itself costs.", "",
             "## Quality of the fast refresh", "",
             f"Coder A's units, seeds 0–2 (cases shuffled). From {START:.0%} coded (full fit), codings arrive unit by "
             f"unit, case by case, up to {float(np.mean(q['coded'])):.0%}, each followed by the refit "
             f"`LiveSuggestions` does ({len(q['refit_s'])} refits, median {float(np.median(q['refit_s'])):.2f} s, "
             f"median {int(np.median(q['refitted']))} of {len(q['codes'])} codes refitted); scored on the cases not "
             "coded, Handlungsfelder.", "",
             "| model | micro-F1 | macro-F1 |", "|---|---|---|",
             f"| live refresh (changed codes only, one regression each, stackers kept) | {live[0]:.3f} | {live[1]:.3f} |",
             f"| full fit on the same codings (every code with its stacker) | {full[0]:.3f} | {full[1]:.3f} |", "",
             "Per seed (micro-F1, fast / full): " + "; ".join(
                 f"{a[0]:.3f} / {b[0]:.3f}" for a, b in zip(q["live"], q["full"])) + "."]
    write_result("autocode-refresh", "\n".join(lines) + "\n", {"timing": tm, "quality": {
        "live": q["live"], "full": q["full"], "coded": q["coded"],
        "refit_s_median": float(np.median(q["refit_s"])), "refitted_median": float(np.median(q["refitted"])),
        "live_mean": live.tolist(), "full_mean": full.tolist()}, "load_average": load})


if __name__ == "__main__":
    main()
