"""Learning curve of the auto-coder: how good are suggestions for the rest when a team has coded part?

Coder A's reference coding (Handlungsfelder) of the example.  For 5, 10, 25 and 50 % of the units coded
(whole interviews / survey respondents, as a team codes them), micro- and macro-F1 of the suggestions on the
units not yet coded, for two orders of coding: random (cases shuffled with the seed) and qualkit's proposed
order (:func:`qualkit.suggestions.propose`: uncertainty of the current model, the codebook's rules at the
start, and diversity; the model is retrained after every 2.5 % step up to 10 %, then every 5 %).  Beside them,
in the same run: the codebook's rules alone on the same rest, and coder B scored against coder A.  The 100 %
point is grouped 5-fold cross-validation (every unit held out once).  The features' vocabulary is learnt once
from all texts (unlabelled text, as the project has it); only the per-code models are refitted per point.
Writes docs/benchmarks/learning-curve.md.  Command: ``nice python bench/learning_curve.py [seeds]``.
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import copy_project, machine, prf, write_result
from qualkit._features import Rules, analyse
from qualkit.autocode import AutoCoder
from qualkit.corpus import ingest
from qualkit.project import open_project
from qualkit.suggestions import _german_units, propose, training_data, uncertainty

FRACTIONS = (0.05, 0.10, 0.25, 0.50)  # and 100 %: grouped 5-fold cross-validation
STEPS = (0.025, 0.05, 0.075, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50)
# QUICK=1: 5, 10 and 25 % only and no 100 % cross-validation (for a loaded machine)
if __import__("os").environ.get("QUICK"):
    FRACTIONS, STEPS = (0.05, 0.10, 0.25), (0.025, 0.05, 0.075, 0.10, 0.175, 0.25)


def _say(what: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self) -> None:
        from scipy.sparse import vstack
        from sklearn.preprocessing import normalize

        from qualkit._features import term_docs
        self.project = open_project(copy_project())
        ingest(self.project)
        p = self.project
        self.df = training_data(p, coder="A")
        self.labels = list(p.codebook.primary.codes)
        self.y = np.array([[c in ls for c in self.labels] for ls in self.df.labels], dtype=int)
        self.groups = self.df.case_id.to_numpy()
        texts = list(self.df.text)
        _say("ingested")
        t = time.perf_counter()
        self.template = AutoCoder(codebook=p.codebook, random_state=p.seed, cache_dir=p.cache_dir)
        # the vocabulary from all the project's texts, as the project fits it (qualkit.suggestions.unit_matrix):
        # it does not depend on the codings, so only the per-code models are refitted for every point below
        unlabelled = list(_german_units(p).text)
        features = self.template.make_features().fit(self.template.vocabulary_texts(unlabelled))
        an = analyse(texts, p.cache_dir)
        self.x = features.transform_analyses(an)
        rules = Rules(p.codebook, self.labels, p.cache_dir)
        self.rule_x = rules.features(an)
        self.rule_scores = rules.scores(an)
        self.template.fit_transformed(features, self.x[::10], self.rule_x[::10], self.y[::10])
        _say("features computed")
        self.empty = np.array([not a.terms for a in an])
        self.rule_scores[self.empty] = 0
        self.extra_x, self.extra_rule, self.extra_y = self.template.codebook_rows()
        self.vectors = normalize(self.template.features_.term_vectorizer_.transform(term_docs(an)))
        self.vstack = vstack
        self.setup_s = time.perf_counter() - t

    def fit_rows(self, rows: np.ndarray, seed: int) -> AutoCoder:
        m = copy.copy(self.template)
        m.random_state = seed
        x = self.vstack([self.x[rows], self.extra_x]).tocsr()
        return m._fit_matrix(x, np.vstack([self.rule_x[rows], self.extra_rule]), np.vstack([self.y[rows], self.extra_y]))

    def thresholds_of(self, m: AutoCoder) -> np.ndarray:
        """The fitted model's thresholds (a code with too few examples for a model is scored by its rules)."""
        return np.array([m.thresholds_[c] for c in self.labels])

    def scores(self, m: AutoCoder, rows: np.ndarray) -> np.ndarray:
        out = self.rule_scores[rows].copy()
        for j, c in enumerate(self.labels):
            if c in m.models_:
                out[:, j] = m.models_[c].proba(self.x[rows], self.rule_x[rows, j])
        out[self.empty[rows]] = 0
        return out

    def f1(self, rows: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
        y = self.y[rows].astype(bool)
        micro = prf(y.ravel(), pred.ravel())[2]
        macro = float(np.mean([prf(y[:, j], pred[:, j])[2] for j in range(len(self.labels))]))
        return micro, macro

    def point(self, coded: np.ndarray, seed: int, m: AutoCoder | None = None) -> dict[str, float]:
        _say(f"point at {coded.mean():.3f} (seed {seed})")
        rest = np.flatnonzero(~coded)
        m = m or self.fit_rows(np.flatnonzero(coded), seed)
        model = self.f1(rest, self.scores(m, rest) >= self.thresholds_of(m))
        rules = self.f1(rest, self.rule_scores[rest] >= self.template.rule_threshold)
        return {"micro": model[0], "macro": model[1], "rules_micro": rules[0], "rules_macro": rules[1],
                "coded": float(coded.mean())}

    def take_cases(self, coded: np.ndarray, order: list[Any], target: float) -> None:
        for g in order:
            if coded.mean() >= target:
                break
            coded |= self.groups == g

    def random_curve(self, seed: int) -> dict[float, dict[str, float]]:
        cases = sorted(set(self.groups))
        order = list(np.random.default_rng(seed).permutation(np.array(cases, dtype=object)))
        out = {}
        for f in FRACTIONS:
            coded = np.zeros(len(self.df), dtype=bool)
            self.take_cases(coded, order, f)
            out[f] = self.point(coded, seed)
        return out

    def proposed_curve(self, seed: int) -> dict[float, dict[str, float]]:
        coded = np.zeros(len(self.df), dtype=bool)
        out = {}
        proba = self.rule_scores  # nothing coded yet: the rules stand in for the model
        thresholds = np.full(len(self.labels), self.template.rule_threshold)
        for step in STEPS:
            cand = np.flatnonzero(~coded)
            util = uncertainty(proba[cand], thresholds)
            keys = self.groups[cand]
            order = propose(util, self.vectors[cand], min(len(set(keys)), 200), groups=keys,
                            known=self.vectors[coded] if coded.any() else None)
            uniq = list(dict.fromkeys(keys))
            self.take_cases(coded, [uniq[i] for i in order], step)
            _say(f"proposed step {step} reached {coded.mean():.3f}")
            m = self.fit_rows(np.flatnonzero(coded), seed)
            if any(abs(step - f) < 1e-9 for f in FRACTIONS):
                out[min(FRACTIONS, key=lambda f: abs(f - step))] = self.point(coded, seed, m)
            proba = np.zeros_like(self.rule_scores, dtype=float)
            proba[~coded] = self.scores(m, np.flatnonzero(~coded))
            thresholds = self.thresholds_of(m)
        return out

    def full_cv(self, seed: int) -> dict[str, float]:
        from sklearn.model_selection import GroupKFold
        pred = np.zeros_like(self.y, dtype=bool)
        for train, test in GroupKFold(n_splits=5).split(self.df, groups=self.groups):
            m = self.fit_rows(train, seed)
            pred[test] = self.scores(m, test) >= self.thresholds_of(m)
        allrows = np.arange(len(self.df))
        model = self.f1(allrows, pred)
        rules = self.f1(allrows, self.rule_scores >= self.template.rule_threshold)
        return {"micro": model[0], "macro": model[1], "rules_micro": rules[0], "rules_macro": rules[1]}

    def human(self) -> float:
        b = training_data(self.project, coder="B").set_index("unit_id")
        both = self.df.set_index("unit_id").merge(b[["labels"]], left_index=True, right_index=True,
                                                 suffixes=("", "_b"))
        ya = np.array([[c in ls for c in self.labels] for ls in both.labels], dtype=bool)
        yb = np.array([[c in ls for c in self.labels] for ls in both.labels_b], dtype=bool)
        return prf(ya.ravel(), yb.ravel())[2]


def _mean(runs: list[dict[float, dict[str, float]]], f: float, key: str) -> float:
    return float(np.mean([r[f][key] for r in runs]))


def main() -> None:
    seeds = [int(s) for s in sys.argv[1:]] or [0, 1, 2]
    t0 = time.perf_counter()
    b = Bench()
    rnd = [b.random_curve(s) for s in seeds]
    act = [b.proposed_curve(s) for s in seeds]
    quick = bool(__import__("os").environ.get("QUICK"))
    full = None if quick else b.full_cv(b.project.seed)
    human = b.human()
    total = time.perf_counter() - t0
    lines = ["# Learning curve of the auto-coder", "",
             f"Machine: {machine()}. Command: `nice python bench/learning_curve.py`. Coder A's coding of {len(b.df)} "
             f"units (Handlungsfelder); seeds {', '.join(map(str, seeds))} (the random order shuffles interviews and "
             "respondents; the proposed order is computed, the seed sets the model's internal folds). "
             "Scores are on the units not yet coded; the keyword rules are scored on the same units. "
             f"Wall time {total:.0f} s.", "",
             "| coded | order | micro-F1 | macro-F1 | rules alone micro-F1 | rules alone macro-F1 |",
             "|---|---|---|---|---|---|"]
    data: dict[str, Any] = {"seeds": seeds, "units": len(b.df), "points": {}, "human_f1": round(human, 3)}
    for f in FRACTIONS:
        for name, runs in (("random", rnd), ("proposed", act)):
            row = {k: round(_mean(runs, f, k), 3) for k in ("micro", "macro", "rules_micro", "rules_macro", "coded")}
            data["points"][f"{int(f * 100)}% {name}"] = row
            lines.append(f"| {int(f * 100)} % (actual {row['coded'] * 100:.1f} %) | {name} | {row['micro']:.3f} | "
                         f"{row['macro']:.3f} | {row['rules_micro']:.3f} | {row['rules_macro']:.3f} |")
    if full is not None:
        data["points"]["100% cv"] = {k: round(v, 3) for k, v in full.items()}
        lines.append(f"| 100 % (5-fold CV, grouped) | — | {full['micro']:.3f} | {full['macro']:.3f} | "
                     f"{full['rules_micro']:.3f} | {full['rules_macro']:.3f} |")
    else:
        lines += ["", "Run with QUICK=1 (the machine was shared): 5, 10 and 25 % only, no 100 % cross-validation."]
    pts = data["points"]
    beats = {f: pts[f"{f}% proposed"]["micro"] > pts[f"{f}% random"]["micro"] for f in (10, 25)}
    floor = all(v["micro"] >= v["rules_micro"] for v in pts.values())
    data.update({"proposed_beats_random": {str(k): v for k, v in beats.items()}, "never_below_rules": floor})
    lines += ["", f"Second human coder (B against A, {'same run'}): micro-F1 **{human:.2f}**.", "",
              "## Reading", "",
              f"- Proposed order better than random at 10 %: {'yes' if beats[10] else 'no'}; at 25 %: "
              f"{'yes' if beats[25] else 'no'}.",
              f"- Every point of the curve at or above the rules alone: {'yes' if floor else 'no'}.",
              "- Per-seed figures are in learning-curve.json.", "",
              "How fast suggestions follow a new coding: [autocode-refresh.md](autocode-refresh.md)."]
    data["per_seed"] = {"random": [{str(k): v for k, v in r.items()} for r in rnd],
                        "proposed": [{str(k): v for k, v in r.items()} for r in act]}
    write_result("learning-curve", "\n".join(lines) + "\n", data)


if __name__ == "__main__":
    main()
