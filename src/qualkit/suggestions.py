"""Suggestions for a project: training on the store's human codings, storing pending suggestions (spans
inside long turns), coding a CSV of texts, proposing what to code next, and following the coding view.

The estimator itself is :class:`qualkit.autocode.AutoCoder`; this module is the project side of it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._features import analyse
from .autocode import MODEL_VERSION, AutoCoder, Suggestion
from .codebook import Codebook
from .errors import AutocodeError, InputFileError
from .nlp import PIPELINE_VERSION, Analysis, GermanPipeline
from .project import Project
from .units import HUMAN_ORIGINS, unit_labels, unit_table

__all__ = ["AUTOCODER", "LiveSuggestions", "autocode_project", "autocode_texts", "load_or_train", "next_units",
           "pending_suggestions", "propose", "read_input_csv", "review_decide", "suggest_partitioned", "training_data"]

log = logging.getLogger(__name__)
AUTOCODER = "qualkit-autocode"  # the coder name of suggestions


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


def _german_units(project: Project) -> pd.DataFrame:
    units = unit_table(project)
    return units[units.language.fillna("de").isin(["de", "und"]) & units.text.str.strip().astype(bool)]


def _training_hash(df: pd.DataFrame, codebook: Codebook, coder: str, unlabelled: Sequence[str]) -> str:
    h = hashlib.sha256()
    h.update(f"{PIPELINE_VERSION}|{MODEL_VERSION}|{codebook.sha256}|{coder}|{version('scikit-learn')}".encode())
    for text, labels in sorted(zip(df.text, df.labels)):
        h.update(text.encode("utf-8"))
        h.update(("|".join(labels) + "\n").encode())
    for text in sorted(unlabelled):
        h.update(b"u" + text.encode("utf-8"))
    return h.hexdigest()


def _model_paths(project: Project) -> tuple[Path, Path]:
    d = project.state_dir / "models"
    d.mkdir(parents=True, exist_ok=True)
    return d / "autocode.joblib", d / "autocode.json"


def _dimensions(project: Project) -> list[str]:
    return [d.key for d in project.codebook.dimensions if d.autocode] or [project.codebook.primary.key]


def load_or_train(project: Project, *, retrain: bool = False, coder: str | None = None) -> AutoCoder:
    """The project's current auto-coder: loaded from ``.qualkit/models`` if its training data hash matches
    the store, else trained on the human codings (vocabulary from all the project's units) and saved."""
    import joblib
    dims = _dimensions(project)
    df = training_data(project, coder=coder, dimensions=dims)
    unlabelled = sorted(set(_german_units(project).text))
    digest = _training_hash(df, project.codebook, df.attrs["coder"], unlabelled)
    model_path, meta_path = _model_paths(project)
    if not retrain and model_path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("training_hash") == digest:
            model: AutoCoder = joblib.load(model_path)
            model.set_params(codebook=project.codebook, cache_dir=project.cache_dir)
            model.features_.set_params(codebook=project.codebook, cache_dir=project.cache_dir)
            return model
    model = AutoCoder(codebook=project.codebook, dimensions=dims, random_state=project.seed,
                      cache_dir=project.cache_dir)
    model.fit(list(df.text), [set(x) for x in df.labels], unlabelled=unlabelled)
    joblib.dump(model, model_path)
    meta_path.write_text(json.dumps({
        "training_hash": digest, "coder": df.attrs["coder"], "units": len(df), "dimensions": dims,
        "codebook_sha256": project.codebook.sha256, "pipeline": PIPELINE_VERSION,
        "scikit_learn": version("scikit-learn"), "random_state": project.seed,
        "label_counts": {k: int(sum(k in ls for ls in df.labels)) for k in model.labels_},
    }, ensure_ascii=False, indent=2), encoding="utf-8")
    return model


def _done(project: Project) -> set[tuple[int, str]]:
    """(unit, code) pairs already suggested (pending or accepted) or rejected: never suggested again."""
    previous = unit_labels(project, origins=("auto",), rule="all")
    rejected = project.store.frame(
        "SELECT u.id AS unit_id, k.name AS code FROM codings c JOIN codes k ON k.id=c.code_id JOIN units u "
        "ON u.document_id=c.document_id AND u.start < c.\"end\" AND c.start < u.\"end\" "
        "WHERE c.origin='auto' AND c.status='rejected'")
    return set(zip(previous.unit_id, previous.code)) | set(zip(rejected.unit_id, rejected.code))


def _store(project: Project, units: pd.DataFrame, sugg: Sequence[Sequence[Suggestion]],
           done: set[tuple[int, str]]) -> pd.DataFrame:
    rows = []
    with project.store.transaction() as con:
        for (_, u), suggestions in zip(units.iterrows(), sugg):
            for s in suggestions:
                if (u.unit_id, s.code) in done:
                    continue
                start, end = int(u.start) + s.start, int(u.start) + (s.end or len(u.text))
                cid = project.store.add_coding(u.document_id, start, end, s.code, coder=AUTOCODER,
                                               origin="auto", score=s.score, explanation=s.explanation, con=con)
                rows.append((cid, u.document_id, int(u.unit_id), s.code, s.score, start, end, s.explanation))
    return pd.DataFrame(rows, columns=["coding_id", "document_id", "unit_id", "code", "score", "start", "end",
                                       "explanation"])


def _suggest_task(model: AutoCoder, start: int, texts: list[str], spans: bool
                  ) -> tuple[int, list[list[Suggestion]], list[Analysis]]:
    """Suggestions for one batch on a worker: the NLP cache is read, never written (the client adds ``new``)."""
    from . import _features
    key = str(model.cache_dir or "")
    pipe = GermanPipeline(cache_dir=model.cache_dir, read_only=True)
    before = _features._PIPES.get(key)
    _features._PIPES[key] = pipe
    try:
        return start, model.suggest(texts, spans=spans), list(pipe.new)
    finally:
        pipe.close()
        if before is None:
            _features._PIPES.pop(key, None)
        else:
            _features._PIPES[key] = before


def suggest_partitioned(model: AutoCoder, texts: Sequence[str], *, jobs: int = 1, scheduler: str | None = None,
                        batch: int = 2_000, spans: bool = False) -> list[list[Suggestion]]:
    """``model.suggest(texts, spans=spans)`` in batches of ``batch`` texts on ``jobs`` local processes or a Dask
    cluster (``scheduler``: ``"local"`` or an address; see :func:`qualkit.prepare.executor`).  Every text is
    scored on its own, so the result is the same as in one piece.  Workers never write the NLP cache: the
    analyses they made come back and this process stores them."""
    if (jobs <= 1 and not scheduler) or len(texts) <= batch:
        return model.suggest(texts, spans=spans)
    from .prepare import executor
    parts: dict[int, list[list[Suggestion]]] = {}
    writer = GermanPipeline(cache_dir=model.cache_dir)
    try:
        with executor(jobs=jobs, scheduler=scheduler) as ex:
            calls = [(model, i, list(texts[i:i + batch]), spans) for i in range(0, len(texts), batch)]
            for start, sugg, new in ex.run(_suggest_task, calls):
                parts[start] = sugg
                writer.add(new)
    finally:
        writer.close()
    return [s for i in sorted(parts) for s in parts[i]]


def autocode_project(project: Project, *, retrain: bool = False, spans: bool = True, jobs: int = 1,
                     scheduler: str | None = None) -> pd.DataFrame:
    """Suggest codes for every unit that has no human coding; store them as pending suggestions.  In long
    turns a suggestion covers the sentences that carry the code (``spans``), else the whole unit.  The scoring
    runs in batches on ``jobs`` processes or on a Dask cluster (``scheduler``); only this process writes.

    Returns the new suggestions: ``coding_id, document_id, unit_id, code, score, start, end, explanation``.
    """
    model = load_or_train(project, retrain=retrain)
    units = _german_units(project)
    human = unit_labels(project, origins=HUMAN_ORIGINS, rule="all")
    # unfinished survey cases get no suggestions unless the [survey] unfinished rule says "coded"
    units = units[~units.unit_id.isin(set(human.unit_id)) & units.codable]
    sugg = (suggest_partitioned(model, list(units.text), jobs=jobs, scheduler=scheduler, spans=spans)
            if len(units) else [])
    return _store(project, units, sugg, _done(project))


def autocode_texts(project: Project, texts: pd.DataFrame) -> pd.DataFrame:
    """Code arbitrary texts (columns ``id, text``) with the project's current model.

    Returns ``id, code, score``: one row per top-level code of the primary dimension assigned; texts with
    none, empty texts and non-German texts get no row.
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


# -- what to code next ---------------------------------------------------------------------------
def uncertainty(proba: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """How undecided the model is about each text: per code 1 at its threshold and 0 at certainty
    (``1 - |p - t| / max(t, 1 - t)``), summed over the codes."""
    t = np.asarray(thresholds, dtype=float)
    return np.asarray((1 - np.abs(proba - t) / np.maximum(t, 1 - t)).sum(axis=1))


def propose(utility: np.ndarray, vectors: Any, n: int, *, groups: Sequence[Any] | None = None,
            known: Any = None, diversity: float = 0.5) -> list[int]:
    """Order items (units, or groups of units such as interviews) so that coding them first teaches the
    model most: greedily the item with the highest ``utility`` (normalised to [0, 1]) minus ``diversity``
    times its largest cosine similarity to what is already chosen or ``known`` (rows of coded units).

    ``vectors`` are L2-normalised rows (one per unit).  With ``groups`` (one key per unit) the items are the
    groups: a group's utility is its units' mean, its vector their normalised mean.  Returns the indices of
    the first ``n`` items (units, or groups in order of first appearance); ties go to the earlier item.
    """
    from scipy.sparse import csr_matrix, issparse, vstack
    from sklearn.preprocessing import normalize
    u = np.asarray(utility, dtype=float)
    v = csr_matrix(vectors) if not issparse(vectors) else vectors.tocsr()
    if groups is not None:
        keys = list(dict.fromkeys(groups))
        pos = {k: i for i, k in enumerate(keys)}
        g = np.array([pos[k] for k in groups])
        member = csr_matrix((np.ones(len(g)), (g, np.arange(len(g)))), shape=(len(keys), len(g)))
        sizes = np.asarray(member.sum(axis=1)).ravel()
        u = np.asarray(member @ u).ravel() / sizes
        v = normalize(member @ v)
    top = float(u.max()) if u.size else 0.0
    u = u / top if top > 0 else u
    sim = np.zeros(len(u))
    if known is not None and known.shape[0]:
        sim = np.asarray((v @ vstack([known]).T).max(axis=1).todense()).ravel()
    order: list[int] = []
    left = np.ones(len(u), dtype=bool)
    for _ in range(min(n, len(u))):
        score = np.where(left, u - diversity * sim, -np.inf)
        i = int(np.argmax(score))
        order.append(i)
        left[i] = False
        sim = np.maximum(sim, np.asarray((v @ v[i].T).todense()).ravel())
    return order


def next_units(project: Project, n: int = 10, *, coder: str | None = None) -> pd.DataFrame:
    """The ``n`` uncoded units whose coding would teach the model most (uncertainty and diversity).

    With no human coding yet the codebook's rules stand in for the model.  Columns: ``unit_id,
    document_id, start, end, utility, text``, in the proposed order.
    """
    units = _german_units(project).reset_index(drop=True)
    coded = set(unit_labels(project, origins=HUMAN_ORIGINS, rule="all").unit_id)
    try:
        model = load_or_train(project, coder=coder)
    except AutocodeError:
        model = AutoCoder(codebook=project.codebook, dimensions=_dimensions(project), mode="rules",
                          cache_dir=project.cache_dir).fit([], [])
    analyses = analyse(list(units.text), project.cache_dir)
    proba = model._scores(analyses)
    util = uncertainty(proba, np.array([model.thresholds_[c] for c in model.labels_]))
    vectors = _vectors(model, units.text)
    is_coded = units.unit_id.isin(coded).to_numpy()
    cand = np.flatnonzero(~is_coded)
    order = propose(util[cand], vectors[cand], n, known=vectors[is_coded] if is_coded.any() else None)
    picked = units.iloc[cand[order]]
    return pd.DataFrame({"unit_id": picked.unit_id.to_numpy(), "document_id": picked.document_id.to_numpy(),
                         "start": picked.start.astype(int).to_numpy(), "end": picked.end.astype(int).to_numpy(),
                         "utility": np.round(util[cand[order]], 4), "text": picked.text.to_numpy()})


def _vectors(model: AutoCoder, texts: Sequence[str]) -> Any:
    """L2-normalised lemma TF-IDF rows (the model's vocabulary, or one learnt from ``texts``)."""
    from sklearn.preprocessing import normalize

    from ._features import GermanFeatures
    feats = getattr(model, "features_", None)
    if feats is None:
        feats = GermanFeatures(char_ngrams=False, rule_weight=0.0, cache_dir=model.cache_dir).fit(list(texts))
    from ._features import term_docs
    return normalize(feats.term_vectorizer_.transform(term_docs(analyse(list(texts), model.cache_dir))))


# -- following the coding view --------------------------------------------------------------------
class LiveSuggestions:
    """Keeps a document's pending suggestions in step with the coding: after a new coding, :meth:`refresh`
    refits the per-code models on the current human codings (the features of every unit are computed once
    per session, the vocabulary is the saved model's) and replaces the document's pending suggestions that
    changed.  ``last_seconds`` is how long the last refresh took."""

    def __init__(self, project: Project, *, coder: str | None = None) -> None:
        self.project = project
        self.coder = coder
        self.last_seconds = 0.0
        self._ready = False

    def _prepare(self) -> None:
        p = self.project
        self.model = load_or_train(p, coder=self.coder)
        self.units = _german_units(p).reset_index(drop=True)
        self.row = {int(u): i for i, u in enumerate(self.units.unit_id)}
        analyses = analyse(list(self.units.text), p.cache_dir)
        self.x = self.model.features_.transform_analyses(analyses)
        self.rule_x = self.model.rules_.features(analyses)
        extra, self.extra_y = self.model._codebook_texts(self.model.labels_) if self.model.codebook_examples \
            else ([], np.zeros((0, len(self.model.labels_)), dtype=int))
        ea = analyse(extra, p.cache_dir)
        self.extra_x = self.model.features_.transform_analyses(ea) if extra else None
        self.extra_rule = self.model.rules_.features(ea) if extra else np.zeros((0, len(self.model.labels_)))
        self._ready = True

    def refit(self) -> AutoCoder:
        """Refit the per-code models on the store's current human codings."""
        from scipy.sparse import vstack
        if not self._ready:
            self._prepare()
        m = self.model
        df = training_data(self.project, coder=self.coder, dimensions=_dimensions(self.project))
        keep = [i for i, u in enumerate(df.unit_id) if int(u) in self.row]
        rows = [self.row[int(df.unit_id.iloc[i])] for i in keep]
        index = {c: j for j, c in enumerate(m.labels_)}
        y = np.zeros((len(rows), len(index)), dtype=int)
        for r, i in enumerate(keep):
            for c in df.labels.iloc[i]:
                if c in index:
                    y[r, index[c]] = 1
        x, rule_x = self.x[rows], self.rule_x[rows]
        if self.extra_x is not None:
            x, rule_x, y = vstack([x, self.extra_x]).tocsr(), np.vstack([rule_x, self.extra_rule]), \
                np.vstack([y, self.extra_y])
        return m._fit_matrix(x, rule_x, y, quick=True)

    def refresh(self, document_id: str) -> pd.DataFrame:
        """Refit, then re-suggest the document's uncoded units; returns the new suggestions (as
        :func:`autocode_project`).  Pending suggestions that no longer hold are deleted (logged)."""
        t = time.perf_counter()
        self.refit()
        store = self.project.store
        human = unit_labels(self.project, origins=HUMAN_ORIGINS, rule="all")
        units = self.units[(self.units.document_id == document_id) & ~self.units.unit_id.isin(set(human.unit_id))]
        sugg = self.model.suggest(list(units.text), spans=True) if len(units) else []
        wanted = {(int(u.start) + s.start, int(u.start) + (s.end or len(u.text)), s.code)
                  for (_, u), ss in zip(units.iterrows(), sugg) for s in ss}
        pending = store.frame('SELECT c.id, c.start, c."end", k.name AS code FROM codings c JOIN codes k '
                              "ON k.id=c.code_id WHERE c.document_id=? AND c.origin='auto' AND c.status='pending'",
                              (document_id,))
        with store.transaction():  # one transaction: stale suggestions out, new ones in
            for r in pending.itertuples():
                if (int(r.start), int(r.end), r.code) not in wanted:
                    store.delete_coding(int(r.id), coder=AUTOCODER)
            new = _store(self.project, units, sugg, _done(self.project))
        self.last_seconds = time.perf_counter() - t
        return new
