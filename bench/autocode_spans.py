"""Span suggestions inside long turns, against known passage boundaries.

The example's reference coding (coder A) codes whole turns, so it cannot say where inside a turn a code
begins.  This benchmark builds long multi-topic turns whose passages are known: held-out units (5 folds
grouped by interview / respondent) coded with exactly one Handlungsfeld are joined, three with three
different codes, into one turn (at least ``span_min_chars`` long); each passage's code and offsets are the
reference.  The model of the fold (trained on the other folds) suggests with spans; measured:

- **span overlap** (character level): precision = share of the suggested span's characters inside a passage of
  that code, recall = share of the code's passage covered, micro over every (turn, code); beside it the same
  figures for suggestions that cover the whole turn (what qualkit did before spans);
- **boundaries**: share of suggested spans whose start and end both fall on the passage's own boundaries;
- **passage-level F1**: each passage gets the codes whose suggested span covers at least half of it, scored
  against its code (micro-F1 over the seven Handlungsfelder); beside it the passages suggested alone, one by
  one (how well the model codes short passages by themselves).

Writes docs/benchmarks/autocode-spans.md.  Command: ``nice python bench/autocode_spans.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import example_matrix, machine, prf, write_result
from qualkit.suggestions import _template

PER_TURN = 3
TAUS = (0.3, 0.15, 0.5)  # the shipped span_tau first, then the alternatives tried


def composites(df: Any, test: np.ndarray, rng: np.random.Generator, min_chars: int
               ) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """Turns joined from held-out single-code units: (text, [(start, end, code) per passage])."""
    single = [i for i in test if len(df.labels.iloc[i]) == 1]
    by_code: dict[str, list[int]] = {}
    for i in rng.permutation(single):
        by_code.setdefault(df.labels.iloc[i][0], []).append(int(i))
    out = []
    while sum(len(v) > 0 for v in by_code.values()) >= PER_TURN:
        codes = sorted((c for c in by_code if by_code[c]), key=lambda c: -len(by_code[c]))[:PER_TURN]
        parts = [by_code[c].pop() for c in rng.permutation(codes)]
        text, spans = "", []
        for i in parts:
            t = df.text.iloc[i].strip()
            if t[-1:] not in ".!?":
                t += "."
            start = len(text) + (1 if text else 0)
            text = f"{text} {t}" if text else t
            spans.append((start, start + len(t), df.labels.iloc[i][0]))
        if len(text) >= min_chars:
            out.append((text, spans))
    return out


def evaluate(p: Any, df: Any, matrix: Any, rows: np.ndarray, y: np.ndarray, primary: list[str], tau: float
             ) -> dict[str, Any]:
    from sklearn.model_selection import GroupKFold
    rng = np.random.default_rng(p.seed)
    n = {"span": np.zeros(3), "whole": np.zeros(3)}  # inside, suggested, reference characters
    exact = spans_total = 0
    ptruth: list[list[bool]] = []
    ppred: list[list[bool]] = []
    palone: list[list[bool]] = []
    n_turns = 0
    for train, test in GroupKFold(n_splits=5).split(df, groups=df.case_id):
        m = _template(p).set_params(span_tau=tau)
        m.fit_transformed(matrix.features, matrix.x[rows[train]], matrix.rule_x[rows[train]], y[train])
        turns = composites(df, test, rng, m.span_min_chars)
        n_turns += len(turns)
        sugg = m.suggest([t for t, _ in turns], spans=True)
        alone = m.suggest([t[s:e] for t, ps in turns for s, e, _ in ps])
        k = 0
        for (text, passages), ss in zip(turns, sugg):
            got = {s.code: (s.start, s.end) for s in ss if s.code in primary}
            ref = {c: (s, e) for s, e, c in passages}
            for code in set(got) | set(ref):
                gs, ge = got.get(code, (0, 0))
                rs, re_ = ref.get(code, (0, 0))
                inside = max(0, min(ge, re_) - max(gs, rs))
                n["span"] += (inside, ge - gs, re_ - rs)
                whole = (0, len(text)) if code in got else (0, 0)
                n["whole"] += (max(0, min(whole[1], re_) - max(whole[0], rs)), whole[1] - whole[0], re_ - rs)
                if code in got and code in ref:
                    spans_total += 1
                    exact += abs(gs - rs) <= 1 and abs(ge - re_) <= 1
            for s, e, code in passages:
                covered = {c for c, (gs, ge) in got.items() if max(0, min(ge, e) - max(gs, s)) >= 0.5 * (e - s)}
                ptruth.append([c == code for c in primary])
                ppred.append([c in covered for c in primary])
                palone.append([c in {x.code for x in alone[k]} for c in primary])
                k += 1
    res: dict[str, Any] = {"turns": n_turns, "passages": len(ptruth), "tau": tau}
    for name, (inside, sugg_chars, ref_chars) in n.items():
        prec, rec = inside / sugg_chars, inside / ref_chars
        res[name] = {"precision": round(prec, 3), "recall": round(rec, 3), "f1": round(2 * prec * rec / (prec + rec), 3)}
    res["exact_boundaries"] = round(exact / spans_total, 3) if spans_total else 0.0
    t, pr, al = np.array(ptruth), np.array(ppred), np.array(palone)
    res["passage_f1_from_spans"] = round(prf(t.ravel(), pr.ravel())[2], 3)
    res["passage_f1_alone"] = round(prf(t.ravel(), al.ravel())[2], 3)
    res["passage_macro_f1_from_spans"] = round(float(np.mean([prf(t[:, j], pr[:, j])[2] for j in range(t.shape[1])])), 3)
    res["passage_macro_f1_alone"] = round(float(np.mean([prf(t[:, j], al[:, j])[2] for j in range(t.shape[1])])), 3)
    return res


def main() -> None:
    t0 = time.perf_counter()
    ex = example_matrix()
    p, df, matrix, rows, y, primary = ex.project, ex.df, ex.matrix, ex.rows, ex.y, ex.primary
    df["labels"] = [tuple(c for c in ls if c in primary) for ls in df.labels]
    runs = {tau: evaluate(p, df, matrix, rows, y, primary, tau) for tau in TAUS}
    res = runs[TAUS[0]]
    lines = ["# Span suggestions inside long turns", "",
             f"Machine: {machine()}. Command: `nice python bench/autocode_spans.py`. Wall time "
             f"{time.perf_counter() - t0:.0f} s. {res['turns']} turns joined from {res['passages']} held-out passages "
             f"(coder A's units with exactly one Handlungsfeld, {PER_TURN} different codes per turn, 5 folds grouped "
             "by interview / respondent; the reference codes whole turns, so passages with known boundaries are "
             "built from them).", "",
             "| suggestion covers | span precision | span recall | span F1 (characters) |", "|---|---|---|---|",
             f"| the sentences that carry the code (spans) | {res['span']['precision']:.3f} | "
             f"{res['span']['recall']:.3f} | **{res['span']['f1']:.3f}** |",
             f"| the whole turn (no spans) | {res['whole']['precision']:.3f} | {res['whole']['recall']:.3f} | "
             f"{res['whole']['f1']:.3f} |", "",
             f"Suggested spans whose start and end both fall on the passage's boundaries (±1 character): "
             f"**{res['exact_boundaries']:.0%}** of the spans for a code the turn holds.", "",
             "| passage-level | micro-F1 | macro-F1 |", "|---|---|---|",
             f"| passages coded by the spans of their turn | {res['passage_f1_from_spans']:.3f} | "
             f"{res['passage_macro_f1_from_spans']:.3f} |",
             f"| the same passages suggested alone | {res['passage_f1_alone']:.3f} | "
             f"{res['passage_macro_f1_alone']:.3f} |", "",
             "## The span's extent (`span_tau`)", "",
             "| span_tau | span precision | span recall | span F1 | exact boundaries | passage micro-F1 from spans |",
             "|---|---|---|---|---|---|",
             *[f"| {tau}{' (shipped)' if tau == TAUS[0] else ''} | {r['span']['precision']:.3f} | "
               f"{r['span']['recall']:.3f} | {r['span']['f1']:.3f} | {r['exact_boundaries']:.0%} | "
               f"{r['passage_f1_from_spans']:.3f} |" for tau, r in sorted(runs.items())], "",
             "## Reading", "",
             "- Spans are precise but short: most of what a span marks belongs to the passage of its code, but it "
             "often covers only the passage's strongest sentences, so the researcher extends it; a whole-turn "
             "suggestion has the opposite fault.",
             "- A code is suggested for a long turn only if the whole turn scores it: in a turn of three topics each "
             "is diluted, so codes are missed that the passages alone would get (whole-turn recall above)."]
    write_result("autocode-spans", "\n".join(lines) + "\n", {**res, "by_tau": {str(k): v for k, v in runs.items()}})


if __name__ == "__main__":
    main()
