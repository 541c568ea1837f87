"""Transparent, reproducible auto-coding suggestions.

:class:`AutoCoder` (a scikit-learn estimator) combines (a) the codebook's indicator terms, matched on lemmas
and compound parts with the exclusion terms honoured, and (b) one logistic regression per code over German
text features (:class:`qualkit._features.GermanFeatures`: TF-IDF over lemmas, compound parts, lemma bigrams
and character n-grams, plus the rule hits), trained on the human codings in the store and on the codebook's
own definitions and anchor examples, and stacked with the rule hits so that with little coding the rules
carry the score.  Every suggestion carries a score in [0, 1], its evidence (the indicator terms that fired
and the words that weighed most) and, in long texts, the span of sentences that carries the code.

Suggestions are stored with origin ``auto`` and status ``pending``; they never touch a human coding and
are never suggested twice for the same unit and code (a rejected suggestion stays rejected).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ._features import GermanFeatures, Rules, _texts, analyse
from .codebook import Codebook
from .errors import AutocodeError
from .nlp import Analysis

__all__ = ["AutoCoder", "Suggestion", "best_span"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Suggestion:
    """One suggested code for a text: ``start``/``end`` are offsets into the text (the whole text, or the
    sentences that carry the code); ``evidence`` the indicator terms and weighty words behind it."""

    code: str
    score: float
    explanation: str
    start: int = 0
    end: int = 0
    evidence: tuple[str, ...] = ()


MODEL_VERSION = "5"  # bump when features or model change: saved models are retrained
_MODES = ("combined", "classifier", "rules")


class _LabelModel:
    """One code's classifier: a logistic regression on the features, stacked with the code's rule feature.

    The stacker is a two-input logistic regression fitted on out-of-fold scores of the base model and the
    rule hits, so with little coding it leans on the codebook's rules and with more on the classifier; its
    output is a calibrated probability."""

    def __init__(self, base: Any, meta: Any) -> None:
        self.base = base
        self.meta = meta

    def proba(self, x: Any, rule: np.ndarray) -> np.ndarray:
        z = np.column_stack([self.base.decision_function(x), rule])
        return np.asarray(self.meta.predict_proba(z)[:, 1])


class AutoCoder(ClassifierMixin, BaseEstimator):
    """Multi-label auto-coder following scikit-learn's estimator contract.

    ``X`` is a sequence of texts; ``y`` a ``(n_samples, n_classes)`` 0/1 indicator matrix in the order of
    :meth:`class_names` (or a sequence of label sets).  After ``fit``: ``classes_`` (the code names),
    ``predict_proba`` returns an ``(n_samples, n_classes)`` array, ``predict`` the 0/1 matrix; explanations
    come from :meth:`explain`, suggestions with scores, evidence and spans from :meth:`suggest`.

    Parameters
    ----------
    codebook : the codebook whose codes are suggested (required by ``fit``).
    dimensions : codebook dimension keys to suggest (top-level codes only; default: the first dimension).
    mode : ``"combined"`` (classifier with rule features, stacked with the rules), ``"classifier"`` or
        ``"rules"`` (keyword baseline).
    random_state : seed for the cross-validation folds of the stacking.
    cache_dir : folder of the German pipeline's disk cache.
    rule_threshold : keyword score from which a rules-only code is suggested.
    threshold : probability from which a classifier code is suggested.  The F1-optimal threshold of a
        calibrated probability is half the attainable F1 (Lipton et al. 2014), so about 0.4 here.
    C : inverse regularisation strength of the logistic regressions.
    rule_weight : scale of the rule features beside the TF-IDF features (``"combined"`` mode).
    codebook_examples : add each code's definition, inclusion rules and anchor examples (and its subcodes')
        as labelled training texts.
    span_min_chars : texts at least this long get span suggestions (the sentences that carry the code).
    span_tau : a sentence joins the span around the best one while it scores at least about this share of the
        best (see :func:`best_span`).
    """

    def __init__(self, *, codebook: Codebook | None = None, dimensions: Sequence[str] | None = None,
                 mode: str = "combined", random_state: int = 0, cache_dir: str | Path | None = None,
                 rule_threshold: float = 0.35, threshold: float = 0.4, C: float = 10.0,
                 rule_weight: float = 0.3, codebook_examples: bool = True, span_min_chars: int = 400,
                 span_tau: float = 0.3) -> None:
        self.codebook = codebook
        self.dimensions = dimensions
        self.mode = mode
        self.random_state = random_state
        self.cache_dir = cache_dir
        self.rule_threshold = rule_threshold
        self.threshold = threshold
        self.C = C
        self.rule_weight = rule_weight
        self.codebook_examples = codebook_examples
        self.span_min_chars = span_min_chars
        self.span_tau = span_tau

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.classifier_tags.multi_label = True
        return tags

    # -- parameters ------------------------------------------------------------------------------
    def class_names(self) -> list[str]:
        """The codes this estimator suggests (top-level codes of its dimensions), before fitting."""
        if not isinstance(self.codebook, Codebook):
            raise ValueError("AutoCoder needs codebook=<Codebook>")
        dims = tuple(self.dimensions) if self.dimensions else (self.codebook.primary.key,)
        return [c for d in dims for c in self.codebook.dimension(d).codes]

    def _validate(self) -> None:
        if self.mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {self.mode!r}")
        for name in ("threshold", "rule_threshold", "span_tau"):
            v = getattr(self, name)
            if not 0.0 < float(v) < 1.0:
                raise ValueError(f"{name} must lie in (0, 1), got {v!r}")
        if not float(self.C) > 0:
            raise ValueError(f"C must be positive, got {self.C!r}")
        if float(self.rule_weight) < 0:
            raise ValueError(f"rule_weight must not be negative, got {self.rule_weight!r}")

    @property
    def labels_(self) -> list[str]:
        """The code names, as a list (``classes_`` as an array)."""
        check_is_fitted(self, "classes_")
        return [str(c) for c in self.classes_]

    def _codebook_texts(self, labels: Sequence[str]) -> tuple[list[str], np.ndarray]:
        assert self.codebook is not None
        texts, rows = [], []
        for j, label in enumerate(labels):
            for name in self.codebook.descendants(label):
                code = self.codebook.codes[name]
                for t in (code.definition, *code.include, *code.anchors):
                    if t.strip():
                        row = np.zeros(len(labels), dtype=int)
                        row[j] = 1
                        texts.append(t)
                        rows.append(row)
        return texts, np.asarray(rows, dtype=int).reshape(len(rows), len(labels))

    # -- fitting ---------------------------------------------------------------------------------
    def fit(self, X: Sequence[str], y: Any, *, unlabelled: Sequence[str] = ()) -> AutoCoder:
        """Train on texts ``X`` and their codes ``y``; ``unlabelled`` texts of the project widen the
        vocabulary (the TF-IDF weights are learnt from all texts, the classifiers from the labelled ones)."""
        self._validate()
        labels = self.class_names()
        texts = _texts(X)
        Y = _indicator(y, labels, len(texts))
        self._start(labels, len(texts))
        if self.mode == "rules":
            return self
        if not texts:
            raise AutocodeError("there are no human codings to learn from",
                                hint="code some material first, or load a reference coding")
        features = self.make_features().fit(self.vocabulary_texts([*texts, *_texts(unlabelled)]))
        analyses = analyse(texts, self.cache_dir)
        return self.fit_transformed(features, features.transform_analyses(analyses), self.rules_.features(analyses), Y)

    def _start(self, labels: Sequence[str], n: int) -> None:
        self.classes_ = np.asarray(labels, dtype=object)
        self.rules_ = Rules(self.codebook, labels, self.cache_dir)  # type: ignore[arg-type]
        self.models_: dict[str, _LabelModel] = {}
        self.thresholds_ = {label: float(self.rule_threshold) for label in labels}
        self.n_train_ = n

    def make_features(self) -> GermanFeatures:
        """The (unfitted) feature transformer this estimator uses."""
        return GermanFeatures(codebook=self.codebook, labels=self.class_names(), cache_dir=self.cache_dir,
                              rule_weight=float(self.rule_weight) if self.mode == "combined" else 0.0)

    def vocabulary_texts(self, texts: Sequence[str]) -> list[str]:
        """The texts the features' vocabulary and IDF weights are learnt from: ``texts`` (the project's,
        coded or not) and the codebook's own texts, each once, sorted.  Codings do not change them, so a
        project fits its transformer once and reuses it while the coding grows."""
        extra = self._codebook_texts(self.class_names())[0] if self.codebook_examples else []
        return sorted(set(_texts(texts)) | set(extra))

    def fit_transformed(self, features: GermanFeatures, x: Any, rule_x: np.ndarray, Y: np.ndarray) -> AutoCoder:
        """Fit on rows already transformed by a fitted ``features`` (see :meth:`make_features` and
        :meth:`vocabulary_texts`): ``x`` the feature matrix, ``rule_x`` the rule features of the codes
        (``rules_.features``), ``Y`` the 0/1 codes.  Same model as :meth:`fit`, without transforming
        texts again: the coding view keeps the matrix of every unit and refits from rows of it."""
        from scipy.sparse import vstack
        self._validate()
        labels = self.class_names()
        if not hasattr(self, "classes_") or list(self.classes_) != labels:
            self._start(labels, len(Y))
        self.n_train_ = len(Y)
        self.features_ = features
        if self.mode == "rules":
            return self
        if self.codebook_examples:
            ex, ex_rule, ex_y = self.codebook_rows()
            x, rule_x, Y = vstack([x, ex]).tocsr(), np.vstack([rule_x, ex_rule]), np.vstack([Y, ex_y])
        return self._fit_matrix(x, rule_x, Y)

    def codebook_rows(self) -> tuple[Any, np.ndarray, np.ndarray]:
        """The codebook's definitions, inclusion rules and anchor examples as labelled training rows
        (features, rule features, 0/1 codes), computed once per fitted transformer."""
        cached = getattr(self, "_codebook_rows", None)
        if cached is not None and cached[0] is self.features_:
            return cached[1]
        texts, Y = self._codebook_texts(self.labels_)
        an = analyse(texts, self.cache_dir)
        rows = (self.features_.transform_analyses(an), self.rules_.features(an), Y)
        self._codebook_rows = (self.features_, rows)
        return rows

    def _fit_matrix(self, x: Any, rule_x: np.ndarray, Y: np.ndarray, *, quick: bool = False,
                    only: Sequence[str] | None = None) -> AutoCoder:
        """Fit the per-code models on a feature matrix of the fitted ``features_`` (the coding view refits
        on rows of a matrix it computed once; see :class:`qualkit.suggestions.LiveSuggestions`).

        ``quick`` refits only each code's base regression and keeps its stacker: one fit per code instead of
        four, for refreshing after a coding.  ``only`` refits just these codes and keeps the others' models
        (the codes whose column of ``Y`` changed)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold
        previous = dict(getattr(self, "models_", {}))
        todo = set(self.labels_) if only is None else set(only)
        self.models_ = {k: v for k, v in previous.items() if k not in todo}
        if only is None:
            self.thresholds_ = {label: float(self.rule_threshold) for label in self.labels_}
        for j, label in enumerate(self.labels_):
            if label not in todo:
                continue
            self.thresholds_[label] = float(self.rule_threshold)
            yj = Y[:, j]
            pos, neg = int(yj.sum()), int(len(yj) - yj.sum())
            if pos < 3 or neg < 3:
                log.info("too few examples for %r (%d); it is suggested by rules only", label, pos)
                continue
            old = previous.get(label) if quick else None
            if old is not None:
                self.models_[label] = _LabelModel(self._regression().fit(x, yj), old.meta)
                self.thresholds_[label] = float(self.threshold)
                continue
            folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=self.random_state)
            oof = np.zeros(len(yj))
            for tr, te in folds.split(x, yj):
                oof[te] = self._regression().fit(x[tr], yj[tr]).decision_function(x[te])
            base = self._regression().fit(x, yj)
            meta = LogisticRegression(C=1.0, max_iter=1000).fit(np.column_stack([oof, rule_x[:, j]]), yj)
            self.models_[label] = _LabelModel(base, meta)
            self.thresholds_[label] = float(self.threshold)
        return self

    def _regression(self) -> Any:
        """One code's base regression.  liblinear's coordinate descent: on few, separable examples and many
        features lbfgs runs to its iteration limit (minutes per fit on a shared machine), liblinear does not."""
        from sklearn.linear_model import LogisticRegression
        # the dual problem: with far more features than examples it reaches the same regression in far fewer
        # operations (docs/benchmarks/autocode-refresh.md: a refresh after a coding)
        return LogisticRegression(C=self.C, solver="liblinear", dual=True, class_weight="balanced", max_iter=1000,
                                  random_state=self.random_state)  # liblinear shuffles in the dual

    # -- prediction ------------------------------------------------------------------------------
    def _scores(self, analyses: Sequence[Analysis]) -> np.ndarray:
        if not analyses:
            return np.zeros((0, len(self.labels_)))
        x = self.features_.transform_analyses(analyses) if self.models_ else None
        return self.scores_transformed(x, self.rules_.features(analyses), self.rules_.scores(analyses),
                                       np.array([not a.terms for a in analyses], dtype=bool))

    def scores_transformed(self, x: Any, rule_x: np.ndarray, rule_scores: np.ndarray, empty: np.ndarray
                           ) -> np.ndarray:
        """Scores of rows already transformed (as :meth:`predict_proba`): ``x`` rows of the features'
        matrix, ``rule_x``/``rule_scores`` the rules' features and keyword scores, ``empty`` True for texts
        without a word (they score 0)."""
        out = np.array(rule_scores, dtype=float, copy=True)
        for j, label in enumerate(self.labels_):
            if label in self.models_:
                out[:, j] = self.models_[label].proba(x, rule_x[:, j])
        out[np.asarray(empty, dtype=bool), :] = 0.0
        return out

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Scores in [0, 1], shape ``(n_samples, n_classes)``, columns in the order of ``classes_``."""
        check_is_fitted(self, "classes_")
        return self._scores(analyse(_texts(X), self.cache_dir))

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """0/1 matrix ``(n_samples, n_classes)``: the codes whose score reaches their threshold."""
        p = self.predict_proba(X)
        t = np.array([self.thresholds_[label] for label in self.labels_])
        return (p >= t).astype(int)

    def explain(self, X: Sequence[str]) -> list[dict[str, dict[str, list[str]]]]:
        """Per text and code: ``indicators`` (rule terms found), ``exclusions`` (veto terms found) and
        ``words`` (the text's words with the largest positive weight for the code)."""
        check_is_fitted(self, "classes_")
        out = []
        for a in analyse(_texts(X), self.cache_dir):
            m = self.rules_.match(a)
            out.append({label: {"indicators": m[label][0], "exclusions": m[label][1],
                                "words": self._top_terms(a.terms, label)} for label in self.labels_})
        return out

    def _top_terms(self, text_terms: Sequence[str], label: str, n: int = 4) -> list[str]:
        model = self.models_.get(label)
        if model is None:
            return []
        vocab = self.features_.term_vectorizer_.vocabulary_
        coef = model.base.coef_[0]
        weights = {t: coef[vocab[t]] for t in set(text_terms) if t in vocab}
        return [t for t, w in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:n] if w > 0]

    def suggest(self, texts: Sequence[str], *, spans: bool = False, scores: np.ndarray | None = None
                ) -> list[list[Suggestion]]:
        """Suggestions per text: the codes whose score reaches the threshold, with their evidence
        (``scores``: the texts' scores if already computed, see :meth:`scores_transformed`).

        With ``spans``, a text of at least ``span_min_chars`` characters gets, for each code, the contiguous
        sentences that carry it (``start``/``end`` offsets into the text; see :func:`best_span`)."""
        check_is_fitted(self, "classes_")
        texts = _texts(texts)
        analyses = analyse(texts, self.cache_dir)
        scores = self._scores(analyses) if scores is None else np.asarray(scores)
        out: list[list[Suggestion]] = []
        for i, a in enumerate(analyses):
            row: list[Suggestion] = []
            m = self.rules_.match(a)
            for j, label in enumerate(self.labels_):
                s = float(scores[i, j])
                if s < self.thresholds_[label]:
                    continue
                hits, excl = m[label]
                top = self._top_terms(a.terms, label)
                row.append(Suggestion(label, round(s, 4), _explanation(hits, excl, top, s, label in self.models_),
                                      0, len(texts[i]), tuple(hits[:6]) + tuple(t for t in top if t not in hits)))
            out.append(sorted(row, key=lambda x: -x.score))
        if spans:
            out = self._with_spans(texts, analyses, out)
        return out

    def _with_spans(self, texts: Sequence[str], analyses: Sequence[Analysis], sugg: list[list[Suggestion]]
                    ) -> list[list[Suggestion]]:
        long = [i for i, (t, a, s) in enumerate(zip(texts, analyses, sugg))
                if s and len(t) >= self.span_min_chars and len(a.sentences) >= 3]
        sents = {i: list(analyses[i].sentences) for i in long}
        flat = [texts[i][s:e] for i in long for s, e in sents[i]]
        sent_an = analyse(flat, self.cache_dir)
        sent_scores = self._scores(sent_an) if flat else np.zeros((0, len(self.labels_)))
        out = [list(s) for s in sugg]
        k = 0
        for i in long:
            n = len(sents[i])
            block, block_an = sent_scores[k:k + n], sent_an[k:k + n]
            k += n
            for pos, sg in enumerate(out[i]):
                j = self.labels_.index(sg.code)
                a, b = best_span(block[:, j], tau=float(self.span_tau))
                start, end = sents[i][a][0], sents[i][b - 1][1]
                hits: list[str] = []
                for an in block_an[a:b]:
                    hits += [h for h in self.rules_.match(an)[sg.code][0] if h not in hits]
                words = [w for w in sg.evidence if w not in hits and w.lower() in texts[i][start:end].lower()]
                out[i][pos] = Suggestion(sg.code, sg.score, sg.explanation + f"; Stelle: Sätze {a + 1}–{b} von {n}",
                                         start, end, tuple(hits[:6]) + tuple(words))
        return out


def best_span(scores: np.ndarray, *, tau: float = 0.3) -> tuple[int, int]:
    """The contiguous run of sentences ``[a, b)`` that carries a code: it holds the best-scoring sentence
    and extends left and right as far as that raises the sum of ``score - τ·best`` (so neighbours scoring at
    least ``tau`` times the best join, and a weak sentence joins only between strong ones).  Ties go to the
    shorter run.  ``tau`` 0.3 is the best of 0.15, 0.3 and 0.5 in docs/benchmarks/autocode-spans.md (0.5 cut
    passages short: span recall 0.35)."""
    v = np.asarray(scores, dtype=float)
    if v.size == 0:
        return 0, 0
    m = int(v.argmax())
    g = v - tau * float(v[m])
    a, best, run = m, 0.0, 0.0
    for i in range(m - 1, -1, -1):
        run += g[i]
        if run > best + 1e-12:
            a, best = i, run
    b, best, run = m + 1, 0.0, 0.0
    for i in range(m + 1, len(g)):
        run += g[i]
        if run > best + 1e-12:
            b, best = i + 1, run
    return a, b


def _explanation(hits: Sequence[str], excl: Sequence[str], top: Sequence[str], score: float, model: bool) -> str:
    parts = []
    if hits:
        parts.append("Indikatoren: " + ", ".join(hits[:6]))
    if excl:
        parts.append("Ausschluss: " + ", ".join(excl[:3]))
    if top:
        parts.append("gewichtige Wörter: " + ", ".join(top))
    parts.append(f"Score {score:.2f} ({'Klassifikator' if model else 'Regeln'})")
    return "; ".join(parts)


def _indicator(y: Any, labels: Sequence[str], n: int) -> np.ndarray:
    if isinstance(y, np.ndarray) and y.ndim == 2:
        if y.shape != (n, len(labels)):
            raise ValueError(f"y has shape {y.shape}, expected ({n}, {len(labels)})")
        return y.astype(int)
    y = list(y)
    if len(y) != n:
        raise ValueError(f"X has {n} texts but y has {len(y)} label sets")
    index = {label: j for j, label in enumerate(labels)}
    out = np.zeros((n, len(labels)), dtype=int)
    for i, ls in enumerate(y):
        if isinstance(ls, str):
            raise ValueError("each y entry must be a set of codes, not a string")
        for label in ls:
            if label in index:
                out[i, index[label]] = 1
    return out


_MOVED = {"AUTOCODER", "autocode_project", "autocode_texts", "load_or_train", "pending_suggestions", "read_input_csv",
          "review_decide", "training_data"}


def __getattr__(name: str) -> Any:
    """The project side moved to :mod:`qualkit.suggestions`; its names stay importable from here."""
    if name in _MOVED:
        from . import suggestions
        return getattr(suggestions, name)
    raise AttributeError(f"module 'qualkit.autocode' has no attribute {name!r}")
