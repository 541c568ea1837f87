"""Transparent, reproducible auto-coding suggestions.

:class:`AutoCoder` combines (a) the codebook's indicator terms, matched on lemmas and compound parts with
the exclusion terms honoured, and (b) a supervised one-vs-rest classifier (TF-IDF over lemmas, compound
parts and lemma bigrams, plus the rule hits as features; logistic regression calibrated with sigmoid
cross-validation) trained on the human codings in the store.  Every suggestion carries a score in [0, 1]
and an explanation: the indicator terms that fired and the words that weighed most for the code.

Suggestions are stored with origin ``auto`` and status ``pending``; they never touch a human coding and
are never suggested twice for the same unit and code (a rejected suggestion stays rejected).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .codebook import Codebook
from .errors import AutocodeError, InputFileError
from .nlp import PIPELINE_VERSION, Analysis, GermanPipeline
from .project import Project
from .units import HUMAN_ORIGINS, unit_labels, unit_table

__all__ = ["AUTOCODER", "AutoCoder", "Suggestion", "autocode_project", "autocode_texts", "load_or_train",
           "pending_suggestions", "review_decide", "training_data"]

log = logging.getLogger(__name__)
AUTOCODER = "qualkit-autocode"  # the coder name of suggestions


@dataclass(frozen=True)
class Suggestion:
    code: str
    score: float
    explanation: str


class _Rules:
    """Indicator terms of each code, as lemma sequences, with the code's exclusion terms."""

    def __init__(self, codebook: Codebook, labels: Sequence[str], pipeline: GermanPipeline) -> None:
        self.labels = list(labels)
        self.indicators: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        self.excludes: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for label in self.labels:
            terms: list[str] = []
            excl: list[str] = []
            for name in codebook.descendants(label):
                code = codebook.codes[name]
                terms.extend(code.indicators)
                excl.extend(code.exclude_terms)
            self.indicators[label] = self._prepare(sorted(set(terms)), pipeline)
            self.excludes[label] = self._prepare(sorted(set(excl)), pipeline)

    @staticmethod
    def _prepare(terms: Sequence[str], pipeline: GermanPipeline) -> list[tuple[str, tuple[str, ...]]]:
        out = []
        for term, a in zip(terms, pipeline.analyse(terms)):
            seq = tuple(x.lower() for x, tok in zip(a.lemmas, a.tokens) if tok.strip() and tok[:1].isalnum())
            if seq:
                out.append((term, seq))
        return out

    @staticmethod
    def _hits(a: Analysis, patterns: list[tuple[str, tuple[str, ...]]]) -> list[str]:
        lemmas = [x.lower() for x in a.lemmas]
        bag = set(lemmas) | set(a.terms)
        hits = []
        for term, seq in patterns:
            if len(seq) == 1:
                if seq[0] in bag:
                    hits.append(term)
            else:
                n = len(seq)
                if any(tuple(lemmas[i:i + n]) == seq for i in range(len(lemmas) - n + 1)):
                    hits.append(term)
        return hits

    def match(self, a: Analysis) -> dict[str, tuple[list[str], list[str]]]:
        """label -> (indicator hits, exclusion hits)."""
        return {label: (self._hits(a, self.indicators[label]), self._hits(a, self.excludes[label]))
                for label in self.labels}

    def features(self, analyses: Sequence[Analysis]) -> np.ndarray:
        rows = []
        for a in analyses:
            m = self.match(a)
            row = []
            for label in self.labels:
                hits, excl = m[label]
                row.append(0.0 if excl else math.log1p(len(hits)))
            rows.append(row)
        return np.asarray(rows, dtype=float).reshape(len(analyses), len(self.labels))

    @staticmethod
    def score(hits: Sequence[str], excl: Sequence[str]) -> float:
        """Keyword-only score: 1 hit 0.39, 2 hits 0.63, 3 hits 0.78; 0 when an exclusion term is present."""
        return 0.0 if excl else 1.0 - math.exp(-len(set(hits)) / 2.0)


MODEL_VERSION = "3"  # bump when features or model change: saved models are retrained


def _identity(x: Any) -> Any:
    return x


class AutoCoder:
    """Multi-label auto-coder (scikit-learn conventions: ``fit`` returns self, learned attributes end in _).

    Parameters
    ----------
    codebook : the codebook whose codes are suggested.
    dimensions : codebook dimension keys to suggest (top-level codes only; default: the first dimension).
    mode : ``"combined"`` (classifier with rule features), ``"classifier"`` or ``"rules"`` (keyword baseline).
    random_state : seed for the cross-validation folds of calibration.
    threshold : calibrated score from which a classifier code is suggested.  The F1-optimal threshold of a
        calibrated probability is half the attainable F1 (Lipton et al. 2014), so about 0.4 here.
    C : inverse regularisation strength of the logistic regressions.
    rule_weight : scale of the rule features beside the TF-IDF features (``"combined"`` mode).
    """

    def __init__(self, *, codebook: Codebook, dimensions: Sequence[str] | None = None,
                 mode: str = "combined", random_state: int = 0, cache_dir: str | Path | None = None,
                 rule_threshold: float = 0.35, threshold: float = 0.4, C: float = 10.0,
                 rule_weight: float = 0.3) -> None:
        if mode not in ("combined", "classifier", "rules"):
            raise ValueError("mode must be 'combined', 'classifier' or 'rules'")
        self.codebook = codebook
        self.dimensions = tuple(dimensions) if dimensions else (codebook.primary.key,)
        self.mode = mode
        self.random_state = random_state
        self.cache_dir = cache_dir
        self.rule_threshold = rule_threshold
        self.threshold = threshold
        self.C = C
        self.rule_weight = rule_weight

    # -- helpers ---------------------------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        return [c for d in self.dimensions for c in self.codebook.dimension(d).codes]

    def _pipeline(self) -> GermanPipeline:
        if not hasattr(self, "_pipe"):
            self._pipe = GermanPipeline(cache_dir=self.cache_dir)
        return self._pipe

    def _docs(self, analyses: Sequence[Analysis]) -> list[list[str]]:
        out = []
        for a in analyses:
            terms = list(a.terms)
            out.append(terms + [f"{x}_{y}" for x, y in zip(terms, terms[1:])])
        return out

    def _matrix(self, analyses: Sequence[Analysis], fit: bool = False) -> Any:
        from scipy.sparse import csr_matrix, hstack
        docs = self._docs(analyses)
        # character n-grams of the tokens catch what lemmas miss: inflection the lookup table does not know,
        # compounds the splitter leaves whole and the typos of survey answers (+0.04 micro-F1, docs/autocode.md)
        chars = [" ".join(a.tokens).lower() for a in analyses]
        if fit:
            blocks = [self.vectorizer_.fit_transform(docs), self.char_vectorizer_.fit_transform(chars)]
        else:
            blocks = [self.vectorizer_.transform(docs), self.char_vectorizer_.transform(chars)]
        if self.mode == "combined":
            blocks.append(csr_matrix(self.rules_.features(analyses) * self.rule_weight))
        return hstack(blocks).tocsr()

    # -- fitting ---------------------------------------------------------------------------------
    def fit(self, texts: Sequence[str], labels: Sequence[set[str]]) -> AutoCoder:
        """Train on texts and their sets of top-level codes."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold
        if len(texts) != len(labels):
            raise ValueError("texts and labels differ in length")
        pipe = self._pipeline()
        self.rules_ = _Rules(self.codebook, self.labels, pipe)
        self.labels_ = self.labels
        if self.mode == "rules":
            self.models_: dict[str, Any] = {}
            self.thresholds_ = {label: self.rule_threshold for label in self.labels_}
            return self
        if not texts:
            raise AutocodeError("there are no human codings to learn from",
                                hint="code some material first, or load a reference coding")
        analyses = pipe.analyse(texts)
        self.vectorizer_ = TfidfVectorizer(analyzer=_identity, min_df=2, sublinear_tf=True, max_df=0.5)
        self.char_vectorizer_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True,
                                                max_features=60000, dtype=np.float32)
        x = self._matrix(analyses, fit=True)
        self.models_ = {}
        self.thresholds_ = {}
        for label in self.labels_:
            y = np.array([label in ls for ls in labels], dtype=int)
            if y.sum() < 3 or (len(y) - y.sum()) < 3:
                log.warning("too few examples for %r (%d); it is suggested by rules only", label, int(y.sum()))
                continue
            folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=self.random_state)
            base = LogisticRegression(C=self.C, max_iter=3000, class_weight="balanced")
            model = CalibratedClassifierCV(base, method="sigmoid", cv=folds)
            model.fit(x, y)
            self.models_[label] = model
            self.thresholds_[label] = self.threshold
        return self

    def _check(self) -> None:
        if not hasattr(self, "labels_"):
            raise AutocodeError("the auto-coder is not trained", hint="call fit() or qualkit.autocode.load_or_train")

    def predict_proba(self, texts: Sequence[str]) -> tuple[pd.DataFrame, list[dict[str, tuple[list[str], list[str]]]]]:
        """Scores (texts × labels, in [0, 1]) and the rule matches of each text."""
        self._check()
        analyses = self._pipeline().analyse(texts)
        matches = [self.rules_.match(a) for a in analyses]
        scores = pd.DataFrame(0.0, index=range(len(texts)), columns=self.labels_)
        if self.mode != "rules" and analyses:
            x = self._matrix(analyses)
            for label, model in self.models_.items():
                scores[label] = model.predict_proba(x)[:, 1]
        for label in self.labels_:
            if label not in self.models_:
                scores[label] = [_Rules.score(*m[label]) for m in matches]
        empty = [not a.terms for a in analyses]
        scores.loc[empty, :] = 0.0
        return scores, matches

    def _top_terms(self, text_terms: Sequence[str], label: str, n: int = 4) -> list[str]:
        model = self.models_.get(label)
        if model is None:
            return []
        vocab = self.vectorizer_.vocabulary_
        coef = np.mean([c.estimator.coef_[0] for c in model.calibrated_classifiers_], axis=0)
        weights = {t: coef[vocab[t]] for t in set(text_terms) if t in vocab}
        return [t for t, w in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:n] if w > 0]

    def suggest(self, texts: Sequence[str]) -> list[list[Suggestion]]:
        """Suggestions per text: codes whose score reaches the threshold, with explanations."""
        scores, matches = self.predict_proba(texts)
        analyses = self._pipeline().analyse(texts)
        out: list[list[Suggestion]] = []
        for i, a in enumerate(analyses):
            row: list[Suggestion] = []
            for label in self.labels_:
                s = float(scores.at[i, label])
                if s < self.thresholds_.get(label, 0.5):
                    continue
                hits, excl = matches[i][label]
                parts = []
                if hits:
                    parts.append("Indikatoren: " + ", ".join(hits[:6]))
                if excl:
                    parts.append("Ausschluss: " + ", ".join(excl[:3]))
                top = self._top_terms(a.terms, label) if self.mode != "rules" else []
                if top:
                    parts.append("gewichtige Wörter: " + ", ".join(top))
                parts.append(f"Score {s:.2f} ({'Regeln' if label not in self.models_ else 'Klassifikator'})")
                row.append(Suggestion(label, round(s, 4), "; ".join(parts)))
            out.append(sorted(row, key=lambda x: -x.score))
        return out


# -- the project side -----------------------------------------------------------------------------
def training_data(project: Project, *, coder: str | None = None, dimensions: Sequence[str] | None = None
                  ) -> pd.DataFrame:
    """Units with their human top-level labels, for training.

    Units count if their document holds at least one human coding by the training coder (so an
    uncoded unit in a coded document is a negative example).  ``coder`` defaults to the human coder
    with the most codings.  Columns: ``unit_id, document_id, case_id, kind, text, labels`` (a sorted
    tuple of top-level codes).
    """
    labels = unit_labels(project, origins=HUMAN_ORIGINS, rule="all")
    if labels.empty:
        raise AutocodeError("there are no human codings in the store to learn from",
                            hint="code some units first, or list a reference coding under [codings] and ingest")
    if coder is None:
        coder = str(labels.groupby("coder").coding_id.nunique().sort_values(ascending=False, kind="stable").index[0])
    labels = labels[labels.coder == coder]
    dims = set(dimensions) if dimensions else {project.codebook.primary.key}
    labels = labels[labels.dimension.isin(dims)]
    docs = set(labels.document_id)
    units = unit_table(project)
    units = units[units.document_id.isin(docs)].copy()
    per_unit = labels.groupby("unit_id")["root"].apply(lambda s: tuple(sorted(set(s))))
    units["labels"] = units.unit_id.map(per_unit).apply(lambda v: v if isinstance(v, tuple) else ())
    units.attrs["coder"] = coder
    return units[["unit_id", "document_id", "case_id", "kind", "text", "labels"]].reset_index(drop=True)


def _training_hash(df: pd.DataFrame, codebook: Codebook, coder: str) -> str:
    h = hashlib.sha256()
    h.update(f"{PIPELINE_VERSION}|{MODEL_VERSION}|{codebook.sha256}|{coder}|{version('scikit-learn')}".encode())
    for text, labels in sorted(zip(df.text, df.labels)):
        h.update(text.encode("utf-8"))
        h.update(("|".join(labels) + "\n").encode())
    return h.hexdigest()


def _model_paths(project: Project) -> tuple[Path, Path]:
    d = project.state_dir / "models"
    d.mkdir(parents=True, exist_ok=True)
    return d / "autocode.joblib", d / "autocode.json"


def load_or_train(project: Project, *, retrain: bool = False, coder: str | None = None) -> AutoCoder:
    """The project's current auto-coder: loaded from ``.qualkit/models`` if its training data hash matches
    the store, else trained on the human codings and saved with that hash."""
    import joblib
    dims = [d.key for d in project.codebook.dimensions if d.autocode] or [project.codebook.primary.key]
    df = training_data(project, coder=coder, dimensions=dims)
    digest = _training_hash(df, project.codebook, df.attrs["coder"])
    model_path, meta_path = _model_paths(project)
    if not retrain and model_path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("training_hash") == digest:
            model: AutoCoder = joblib.load(model_path)
            model.codebook = project.codebook
            model.cache_dir = project.cache_dir
            return model
    model = AutoCoder(codebook=project.codebook, dimensions=dims, random_state=project.seed,
                      cache_dir=project.cache_dir)
    model.fit(list(df.text), [set(x) for x in df.labels])
    pipe = model.__dict__.pop("_pipe", None)
    if pipe is not None:
        pipe.close()
    joblib.dump(model, model_path)
    meta_path.write_text(json.dumps({
        "training_hash": digest, "coder": df.attrs["coder"], "units": len(df), "dimensions": dims,
        "codebook_sha256": project.codebook.sha256, "pipeline": PIPELINE_VERSION,
        "scikit_learn": version("scikit-learn"), "random_state": project.seed,
        "label_counts": {k: int(sum(k in ls for ls in df.labels)) for k in model.labels_},
    }, ensure_ascii=False, indent=2), encoding="utf-8")
    return model


def autocode_project(project: Project, *, retrain: bool = False) -> pd.DataFrame:
    """Suggest codes for every unit that has no human coding; store them as pending suggestions.  Units of
    unfinished survey cases get none when the ``[survey] unfinished`` rule does not say ``coded``.

    Returns the new suggestions: ``coding_id, document_id, unit_id, code, score, explanation``.
    """
    model = load_or_train(project, retrain=retrain)
    units = unit_table(project)
    human = unit_labels(project, origins=HUMAN_ORIGINS, rule="all")
    units = units[~units.unit_id.isin(set(human.unit_id)) & units.codable]
    units = units[units.language.fillna("de").isin(["de", "und"]) & units.text.str.strip().astype(bool)]
    previous = unit_labels(project, origins=("auto",), rule="all")
    rejected = project.store.frame(
        "SELECT u.id AS unit_id, k.name AS code FROM codings c JOIN codes k ON k.id=c.code_id JOIN units u "
        "ON u.document_id=c.document_id AND u.start < c.\"end\" AND c.start < u.\"end\" "
        "WHERE c.origin='auto' AND c.status='rejected'")
    done = set(zip(previous.unit_id, previous.code)) | set(zip(rejected.unit_id, rejected.code))
    sugg = model.suggest(list(units.text)) if len(units) else []
    rows = []
    with project.store.transaction() as con:
        for (_, u), suggestions in zip(units.iterrows(), sugg):
            for s in suggestions:
                if (u.unit_id, s.code) in done:
                    continue
                cid = project.store.add_coding(u.document_id, int(u.start), int(u.end), s.code, coder=AUTOCODER,
                                               origin="auto", score=s.score, explanation=s.explanation, con=con)
                rows.append((cid, u.document_id, int(u.unit_id), s.code, s.score, s.explanation))
    return pd.DataFrame(rows, columns=["coding_id", "document_id", "unit_id", "code", "score", "explanation"])


def autocode_texts(project: Project, texts: pd.DataFrame) -> pd.DataFrame:
    """Code arbitrary texts (columns ``id, text``) with the project's current model.

    Returns ``id, code, score``: one row per Handlungsfeld assigned (top-level codes of the primary
    dimension); texts with none, empty texts and non-German texts get no row.
    """
    from ._lang import detect_language
    model = load_or_train(project)
    primary = set(project.codebook.primary.codes)
    texts = texts.copy()
    texts["text"] = texts["text"].fillna("").astype(str)
    ok = texts.text.str.strip().astype(bool) & texts.text.map(lambda t: detect_language(t) in ("de", "und"))
    rows: list[tuple[str, str, float]] = []
    subset = texts[ok]
    if len(subset):
        for tid, suggestions in zip(subset["id"], model.suggest(list(subset.text))):
            rows.extend((str(tid), s.code, s.score) for s in suggestions if s.code in primary)
    return pd.DataFrame(rows, columns=["id", "code", "score"])


def read_input_csv(path: str | Path) -> pd.DataFrame:
    """Read an ``id,text`` CSV (UTF-8) for :func:`autocode_texts`, with clear errors."""
    import csv
    import io
    p = Path(path)
    data = p.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise InputFileError(p, f"not UTF-8 (byte 0x{data[e.start]:02X})", line=line,
                             hint="save the file as UTF-8 CSV") from e
    reader = csv.DictReader(io.StringIO(text))
    cols = [c.strip() for c in (reader.fieldnames or [])]
    missing = [c for c in ("id", "text") if c not in cols]
    if missing:
        raise InputFileError(p, f"missing column(s) {', '.join(missing)}; found {', '.join(cols) or 'none'}", line=1,
                             hint="the input needs a header line 'id,text'")
    try:
        rows = [{k.strip(): v for k, v in r.items() if k is not None} for r in reader]
    except csv.Error as e:
        raise InputFileError(p, f"broken CSV: {e}", line=reader.line_num, hint="check quoting") from e
    return pd.DataFrame(rows, columns=cols)[["id", "text"]] if rows else pd.DataFrame(columns=["id", "text"])


def pending_suggestions(project: Project) -> pd.DataFrame:
    """Pending suggestions: ``id, document_id, start, end, code, score, explanation, quote``."""
    return project.store.frame(
        'SELECT c.id, c.document_id, c.start, c."end", k.name AS code, c.score, c.explanation, c.quote '
        "FROM codings c JOIN codes k ON k.id=c.code_id WHERE c.origin='auto' AND c.status='pending' "
        "ORDER BY c.score DESC, c.id")


def review_decide(project: Project, coding_id: int, *, accept: bool, coder: str, force: bool = False) -> None:
    """Accept or reject a suggestion; records who decided.  A decided one changes only with ``force``."""
    project.store.decide(coding_id, accept=accept, coder=coder, force=force)
