"""Variants of the auto-coder that were tried against the one qualkit ships, on the same held-out folds.

The shipped model scores a whole unit (interview turn or survey answer).  Two ideas that a reviewer will ask
about, measured here so the answer is a number:

- *sentences*: score windows of two sentences of a unit with the unit model and take the maximum (a long turn
  touches several fields);
- *subcodes*: train one model per subcode as well and let a Handlungsfeld score be the mean of its own score and
  the best subcode score (subcodes are more homogeneous classes than their fields).

Features and classifier are those of :class:`qualkit.autocode.AutoCoder` (lemma and character n-gram TF-IDF,
balanced logistic regression, C = 10), without calibration so the variants compare on the same footing.
Writes docs/benchmarks/autocode-variants.md.  Command: ``python bench/autocode_variants.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import copy_project, machine, prf, write_result
from qualkit.autocode import training_data
from qualkit.corpus import ingest
from qualkit.nlp import Analysis, GermanPipeline
from qualkit.project import open_project
from qualkit.units import unit_labels


def _features(analyses: list[Analysis]) -> tuple[list[list[str]], list[str]]:
    terms = [list(a.terms) + [f"{x}_{y}" for x, y in zip(a.terms, a.terms[1:])] for a in analyses]
    return terms, [" ".join(a.tokens).lower() for a in analyses]


def main() -> None:
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    project = open_project(copy_project())
    ingest(project)
    cb = project.codebook
    df = training_data(project, coder="A")
    roots = list(cb.primary.codes)
    y = np.array([[r in ls for r in roots] for ls in df.labels], dtype=bool)
    lab = unit_labels(project, coders=["A"], rule="all")
    lab = lab[lab.dimension == "handlungsfeld"]
    per_unit = lab.groupby("unit_id").code.apply(set)
    subs = sorted(c for c in set(lab.code) if cb.codes[c].parent)
    ys = np.array([[c in per_unit.get(u, set()) for c in subs] for u in df.unit_id], dtype=bool)
    pipe = GermanPipeline(cache_dir=project.cache_dir)
    analyses = pipe.analyse(list(df.text))
    terms, chars = _features(analyses)
    windows, owner = [], []
    for i, (text, a) in enumerate(zip(df.text, analyses, strict=True)):
        sents = [text[s:e] for s, e in a.sentences] or [text]
        for j in range(max(1, len(sents) - 1)):
            windows.append(" ".join(sents[j:j + 2]))
            owner.append(i)
    owner_a = np.array(owner)
    wterms, wchars = _features(pipe.analyse(windows))

    unit_p, sent_p, sub_p = (np.zeros(y.shape) for _ in range(3))
    for train, test in GroupKFold(n_splits=5).split(df, groups=df.case_id.to_numpy()):
        tv = TfidfVectorizer(analyzer=lambda x: x, min_df=2, sublinear_tf=True, max_df=0.5)
        cv = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True, max_features=60000)
        xtr = hstack([tv.fit_transform([terms[i] for i in train]), cv.fit_transform([chars[i] for i in train])]).tocsr()
        xte = hstack([tv.transform([terms[i] for i in test]), cv.transform([chars[i] for i in test])]).tocsr()
        widx = np.flatnonzero(np.isin(owner_a, test))
        xw = hstack([tv.transform([wterms[i] for i in widx]), cv.transform([wchars[i] for i in widx])]).tocsr()
        pos = {u: k for k, u in enumerate(test)}
        for j in range(len(roots)):
            m = LogisticRegression(C=10, max_iter=3000, class_weight="balanced").fit(xtr, y[train, j])
            unit_p[test, j] = m.predict_proba(xte)[:, 1]
            best = np.zeros(len(test))
            for o, v in zip(owner_a[widx], m.predict_proba(xw)[:, 1], strict=True):
                best[pos[o]] = max(best[pos[o]], v)
            sent_p[test, j] = best
        for j, code in enumerate(subs):
            if ys[train, j].sum() < 3:
                continue
            m = LogisticRegression(C=10, max_iter=3000, class_weight="balanced").fit(xtr, ys[train, j])
            r = roots.index(str(cb.codes[code].parent))
            sub_p[test, r] = np.maximum(sub_p[test, r], m.predict_proba(xte)[:, 1])

    interview = (df.kind == "interview").to_numpy()
    variants = {"unit (as shipped, uncalibrated)": unit_p, "sentence windows, max": sent_p,
                "unit and sentence windows, mean": (unit_p + sent_p) / 2, "subcodes, max": sub_p,
                "unit and subcodes, mean": (unit_p + sub_p) / 2}
    lines = ["# Auto-coding variants", "", f"Machine: {machine()}. Command: `python bench/autocode_variants.py`. "
             f"Coder A's {len(df)} units, 5 folds grouped by interview / respondent; micro-F1 over the seven "
             "Handlungsfelder at three thresholds.", "",
             "| variant | threshold | micro-F1 all | interviews | survey |", "|---|---|---|---|---|"]
    data = {}
    for name, p in variants.items():
        for t in (0.4, 0.5, 0.6):
            q = p >= t
            row = (prf(y, q)[2], prf(y[interview], q[interview])[2], prf(y[~interview], q[~interview])[2])
            data[f"{name} @ {t}"] = [round(v, 3) for v in row]
            lines.append(f"| {name} | {t} | {row[0]:.3f} | {row[1]:.3f} | {row[2]:.3f} |")
    best = max(data, key=lambda k: data[k][0])
    lines += ["", f"Best: {best} with micro-F1 {data[best][0]:.3f}. A variant is worth its cost (more models, "
              "sentence splitting at prediction time) only if it clearly beats the unit model."]
    write_result("autocode-variants", "\n".join(lines) + "\n", data)


if __name__ == "__main__":
    main()
