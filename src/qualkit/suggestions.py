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
from ._files import private_file
from .autocode import MODEL_VERSION, AutoCoder, Suggestion
from .codebook import Codebook
from .errors import AutocodeError, InputFileError
from .nlp import PIPELINE_VERSION, Analysis, GermanPipeline
from .project import Project
from .units import AUTOCODER, HUMAN_ORIGINS, unit_labels, unit_table

__all__ = ["AUTOCODER", "LiveSuggestions", "UnitMatrix", "autocode_project", "autocode_texts", "load_or_train",
           "next_units", "pending_suggestions", "propose", "read_input_csv", "review_decide", "suggest_partitioned",
           "training_data", "unit_matrix"]

log = logging.getLogger(__name__)


def training_data(project: Project, *, coder: str | None = None, dimensions: Sequence[str] | None = None
                  ) -> pd.DataFrame:
    """Units with their human top-level labels, for training.

    Units count if their document holds at least one human coding by the training coder, up to the
    coder's last coded unit in it (so an uncoded unit before it is a negative example; the units after it
    are not yet seen).  ``coder`` defaults to the human coder
    with the most codings.  Columns: ``unit_id, document_id, case_id, kind, text, labels`` (a sorted
    tuple of top-level codes).
    """
    return _training_frame(project, unit_labels(project, origins=HUMAN_ORIGINS, rule="all"), unit_table(project),
                           coder=coder, dimensions=dimensions)


def _training_frame(project: Project, labels: pd.DataFrame, units: pd.DataFrame, *, coder: str | None,
                    dimensions: Sequence[str] | None) -> pd.DataFrame:
    if labels.empty:
        raise AutocodeError("there are no human codings in the store to learn from",
                            hint="code some units first, or list a reference coding under [codings] and ingest")
    if coder is None:
        coder = str(labels.groupby("coder").coding_id.nunique().sort_values(ascending=False, kind="stable").index[0])
    labels = labels[labels.coder == coder]
    dims = set(dimensions) if dimensions else {project.codebook.primary.key}
    labels = labels[labels.dimension.isin(dims)]
    # a unit after the coder's last coded unit of its document is not yet seen (the coding view codes in
    # order): only the units up to it are examples, uncoded ones among them negatives
    last = units[units.unit_id.isin(set(labels.unit_id))].groupby("document_id").idx.max()
    units = units[units.idx <= units.document_id.map(last)].copy()
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


class UnitMatrix:
    """The project's texts transformed once: the fitted :class:`~qualkit._features.GermanFeatures`
    (vocabulary and IDF weights from every German unit and the codebook's texts, which a new coding does
    not change) and, per distinct text, its feature row, rule features, keyword scores and whether it is
    empty.  Saved in ``.qualkit/models/features.joblib`` under a hash of the texts, the codebook and the
    versions, so a session (or the coding view) transforms nothing it transformed before."""

    def __init__(self, features: Any, texts: Sequence[str], x: Any, rule_x: np.ndarray, rule_scores: np.ndarray,
                 empty: np.ndarray, digest: str) -> None:
        self.features, self.texts, self.x = features, list(texts), x
        self.rule_x, self.rule_scores, self.empty, self.digest = rule_x, rule_scores, empty, digest
        self.row = {t: i for i, t in enumerate(self.texts)}

    @classmethod
    def transform(cls, model: AutoCoder, features: Any, texts: Sequence[str], digest: str = "") -> UnitMatrix:
        """Transform ``texts`` with the fitted ``features`` and ``model``'s rules."""
        from ._features import Rules
        analyses = analyse(list(texts), model.cache_dir)
        rules = Rules(model.codebook, model.class_names(), model.cache_dir)  # type: ignore[arg-type]
        empty = np.array([not a.terms for a in analyses], dtype=bool)
        return cls(features, texts, features.transform_analyses(analyses), rules.features(analyses),
                   rules.scores(analyses), empty, digest)

    def rows(self, texts: Sequence[str], model: AutoCoder) -> np.ndarray:
        """Row numbers of ``texts``; a text not yet in the matrix is transformed and added."""
        missing = sorted({t for t in texts if t not in self.row})
        if missing:
            from scipy.sparse import vstack
            more = UnitMatrix.transform(model, self.features, missing)
            self.x = vstack([self.x, more.x]).tocsr()
            self.rule_x = np.vstack([self.rule_x, more.rule_x])
            self.rule_scores = np.vstack([self.rule_scores, more.rule_scores])
            self.empty = np.concatenate([self.empty, more.empty])
            for t in missing:
                self.row[t] = len(self.texts)
                self.texts.append(t)
        return np.array([self.row[t] for t in texts], dtype=int)


_MATRICES: dict[str, UnitMatrix] = {}  # the session's matrix (one project at a time)


def unit_matrix(project: Project, model: AutoCoder) -> UnitMatrix:
    """The project's :class:`UnitMatrix` for ``model``'s codes and feature parameters: from memory, from
    ``.qualkit/models/features.joblib``, or fitted and transformed now (and saved)."""
    import joblib
    texts = sorted(set(_german_units(project).text))
    h = hashlib.sha256()
    h.update(f"{PIPELINE_VERSION}|{MODEL_VERSION}|{project.codebook.sha256}|{version('scikit-learn')}|"
             f"{model.class_names()}|{model.mode}|{model.rule_weight}|{model.codebook_examples}".encode())
    for t in texts:
        h.update(t.encode("utf-8") + b"\0")
    digest = h.hexdigest()
    key = f"{project.root}|{digest}"
    if key in _MATRICES:
        return _MATRICES[key]
    path = project.state_dir / "models" / "features.joblib"
    path.parent.mkdir(parents=True, exist_ok=True)
    matrix = None
    if path.exists():
        try:
            loaded = joblib.load(path)
        except Exception as e:  # a broken cache is rebuilt, never fatal
            log.warning("rebuilding %s: %s", path, e)
            loaded = None
        if isinstance(loaded, UnitMatrix) and loaded.digest == digest:
            matrix = loaded
            matrix.features.set_params(codebook=project.codebook, cache_dir=project.cache_dir)
    if matrix is None:
        features = model.make_features().fit(model.vocabulary_texts(texts))
        matrix = UnitMatrix.transform(model, features, texts, digest)
        joblib.dump(matrix, private_file(path))
    _MATRICES.clear()
    _MATRICES[key] = matrix
    return matrix


def _template(project: Project) -> AutoCoder:
    return AutoCoder(codebook=project.codebook, dimensions=_dimensions(project), random_state=project.seed,
                     cache_dir=project.cache_dir)


def _indicator_of(df: pd.DataFrame, labels: Sequence[str]) -> np.ndarray:
    return np.array([[c in ls for c in labels] for ls in df.labels], dtype=int).reshape(len(df), len(labels))


def load_or_train(project: Project, *, retrain: bool = False, coder: str | None = None,
                  data: pd.DataFrame | None = None) -> AutoCoder:
    """The project's current auto-coder: loaded from ``.qualkit/models`` if its training data hash matches
    the store, else trained on the human codings and saved.  The features (vocabulary from all the
    project's units) come from :func:`unit_matrix`, so training after new codings fits only the models.
    ``data``: the :func:`training_data` if already at hand."""
    import joblib
    dims = _dimensions(project)
    model = _template(project)
    df = training_data(project, coder=coder, dimensions=dims) if data is None else data
    matrix = unit_matrix(project, model)
    digest = _training_hash(df, project.codebook, df.attrs["coder"], [matrix.digest])
    model_path, meta_path = _model_paths(project)
    if not retrain and model_path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("training_hash") == digest:
            loaded: AutoCoder = joblib.load(model_path)
            loaded.set_params(codebook=project.codebook, cache_dir=project.cache_dir)
            loaded.features_ = matrix.features  # the saved model's transformer, shared with the matrix
            return loaded
    rows = matrix.rows(list(df.text), model)
    model.fit_transformed(matrix.features, matrix.x[rows], matrix.rule_x[rows], _indicator_of(df, model.class_names()))
    model.__dict__.pop("_codebook_rows", None)
    features, model.features_ = model.features_, None  # type: ignore[assignment]  # saved once, with the matrix (features.joblib)
    try:
        joblib.dump(model, private_file(model_path))
    finally:
        model.features_ = features
    meta_path.write_text(json.dumps({
        "training_hash": digest, "coder": df.attrs["coder"], "units": len(df), "dimensions": dims,
        "codebook_sha256": project.codebook.sha256, "pipeline": PIPELINE_VERSION,
        "scikit_learn": version("scikit-learn"), "random_state": project.seed,
        "label_counts": {k: int(sum(k in ls for ls in df.labels)) for k in model.labels_},
    }, ensure_ascii=False, indent=2), encoding="utf-8")
    return model


def _done(project: Project, document_id: str | None = None) -> set[tuple[int, str]]:
    """(unit, code) pairs already suggested (pending or accepted) or rejected: never suggested again
    (in one document, or in all)."""
    where, params = ("AND c.document_id=?", (document_id,)) if document_id is not None else ("", ())
    done = project.store.query(
        "SELECT u.id, k.name FROM codings c JOIN codes k ON k.id=c.code_id JOIN units u "
        "ON u.document_id=c.document_id AND u.start < c.\"end\" AND c.start < u.\"end\" "
        f"WHERE c.origin='auto' AND c.status IN ('pending', 'accepted', 'rejected') {where}", params)
    return {(int(u), str(c)) for u, c in done}


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
    if not len(units):
        sugg: list[list[Suggestion]] = []
    elif jobs > 1 or scheduler:  # scored in batches on local processes or Dask; only this process writes
        sugg = suggest_partitioned(model, list(units.text), jobs=jobs, scheduler=scheduler, spans=spans)
    else:
        sugg = model.suggest(list(units.text), spans=spans, scores=_matrix_scores(project, model, units.text))
    return _store(project, units, sugg, _done(project))


def _matrix_scores(project: Project, model: AutoCoder, texts: Sequence[str]) -> np.ndarray:
    """``model``'s scores of project texts, from the rows of the project's :func:`unit_matrix`."""
    m = unit_matrix(project, model)
    r = m.rows(list(texts), model)
    return model.scores_transformed(m.x[r], m.rule_x[r], m.rule_scores[r], m.empty[r])


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
    if model.models_:  # a trained model: scores and term vectors from the rows of the project's matrix
        from sklearn.preprocessing import normalize
        matrix = unit_matrix(project, model)
        r = matrix.rows(list(units.text), model)
        proba = model.scores_transformed(matrix.x[r], matrix.rule_x[r], matrix.rule_scores[r], matrix.empty[r])
        vectors = normalize(matrix.x[r][:, :len(model.features_.term_vectorizer_.vocabulary_)])
    else:
        proba = model._scores(analyse(list(units.text), project.cache_dir))
        vectors = _vectors(model, units.text)
    util = uncertainty(proba, np.array([model.thresholds_[c] for c in model.labels_]))
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
_Examples = dict[str, tuple[frozenset[int], frozenset[int]]]


def _examples(rows: np.ndarray, y: np.ndarray, labels: Sequence[str]) -> _Examples:
    """Per code, the (positive, negative) example rows: what a code's model was (or would be) fitted on."""
    return {c: (frozenset(rows[y[:, j] == 1].tolist()), frozenset(rows[y[:, j] == 0].tolist()))
            for j, c in enumerate(labels)}


def _refit_plan(fitted: _Examples, now: _Examples, labels: Sequence[str], lazy: int) -> tuple[list[str], list[str]]:
    """Which codes to refit after codings changed: ``(now, stale)``.  A code whose positive examples changed
    is refitted now; of those that only gained or lost negatives, the first ``lazy`` (codebook order) too,
    the rest stay stale (they follow in the next refreshes)."""
    urgent = [c for c in labels if now[c][0] != fitted[c][0]]
    stale = [c for c in labels if c not in urgent and now[c][1] != fitted[c][1]]
    todo = [c for c in labels if c in urgent or c in stale[:lazy]]
    return todo, [c for c in stale if c not in todo]


class LiveSuggestions:
    """Keeps a document's pending suggestions in step with the coding.

    The first :meth:`refresh` of a session loads (or trains) the project's model and its
    :class:`UnitMatrix` (every unit transformed once, kept on disk).  After that a refresh reads the store's
    human codings and refits, each with one regression on rows of the matrix and its stacker kept, the codes
    whose positive examples changed, and of the codes that only gained (or lost) negative examples the
    first ``lazy_per_refresh`` in codebook order (the others keep their model a little longer and follow in
    the next refreshes); then it scores the document's uncoded units from their rows and replaces its pending
    suggestions that changed.  ``last_seconds`` is how long the last refresh took, ``last_refitted`` which
    codes it refitted, ``stale`` the codes still waiting for their new negative examples."""

    def __init__(self, project: Project, *, coder: str | None = None, lazy_per_refresh: int = 2) -> None:
        self.project = project
        self.coder = coder
        self.lazy_per_refresh = lazy_per_refresh
        self.last_seconds = 0.0
        self.last_refitted: list[str] = []
        self.stale: list[str] = []
        self._ready = False

    def _prepare(self) -> None:
        p = self.project
        self._unit_table = unit_table(p)
        df = self._training(unit_labels(p, origins=HUMAN_ORIGINS, rule="all"))
        self.model = load_or_train(p, coder=self.coder, data=df)
        self.matrix = unit_matrix(p, self.model)
        self.units = _german_units(p).reset_index(drop=True)
        self._fitted = _examples(self.matrix.rows(list(df.text), self.model), _indicator_of(df, self.model.labels_),
                                self.model.labels_)
        self._ready = True

    def _training(self, labels: pd.DataFrame) -> pd.DataFrame:
        return _training_frame(self.project, labels, self._unit_table, coder=self.coder,
                               dimensions=_dimensions(self.project))

    def refit(self, labels: pd.DataFrame | None = None) -> AutoCoder:
        """Refit the codes whose training data changed (see the class) on the store's human codings
        (``labels``: :func:`qualkit.units.unit_labels` of the human codings, if at hand)."""
        from scipy.sparse import vstack
        if not self._ready:
            self._prepare()
        m = self.model
        if labels is None:
            labels = unit_labels(self.project, origins=HUMAN_ORIGINS, rule="all")
        df = self._training(labels)
        rows = self.matrix.rows(list(df.text), m)
        y = _indicator_of(df, m.labels_)
        now = _examples(rows, y, m.labels_)
        todo, self.stale = _refit_plan(self._fitted, now, m.labels_, self.lazy_per_refresh)
        self.last_refitted = todo
        if todo:
            x, rule_x = self.matrix.x[rows], self.matrix.rule_x[rows]
            if m.codebook_examples:
                ex, ex_rule, ex_y = m.codebook_rows()
                x, rule_x, y = vstack([x, ex]).tocsr(), np.vstack([rule_x, ex_rule]), np.vstack([y, ex_y])
            m._fit_matrix(x, rule_x, y, quick=True, only=todo)
            self._fitted.update({c: now[c] for c in todo})
        return m

    def refresh(self, document_id: str) -> pd.DataFrame:
        """Refit, then re-suggest the document's uncoded units; returns the new suggestions (as
        :func:`autocode_project`).  Pending suggestions that no longer hold are deleted (logged)."""
        t = time.perf_counter()
        human = unit_labels(self.project, origins=HUMAN_ORIGINS, rule="all")
        self.refit(human)
        store = self.project.store
        units = self.units[(self.units.document_id == document_id) & ~self.units.unit_id.isin(set(human.unit_id))
                           & self.units.codable]
        sugg = self.model.suggest(list(units.text), spans=True, scores=self._scores(units.text)) if len(units) else []
        wanted = {(int(u.start) + s.start, int(u.start) + (s.end or len(u.text)), s.code)
                  for (_, u), ss in zip(units.iterrows(), sugg) for s in ss}
        pending = store.frame('SELECT c.id, c.start, c."end", k.name AS code FROM codings c JOIN codes k '
                              "ON k.id=c.code_id WHERE c.document_id=? AND c.origin='auto' AND c.status='pending'",
                              (document_id,))
        with store.transaction():  # one transaction: stale suggestions out, new ones in
            for r in pending.itertuples():
                if (int(r.start), int(r.end), r.code) not in wanted:
                    store.delete_coding(int(r.id), coder=AUTOCODER)
            new = _store(self.project, units, sugg, _done(self.project, document_id))
        self.last_seconds = time.perf_counter() - t
        return new

    def _scores(self, texts: Sequence[str]) -> np.ndarray:
        r = self.matrix.rows(list(texts), self.model)
        return self.model.scores_transformed(self.matrix.x[r], self.matrix.rule_x[r], self.matrix.rule_scores[r],
                                             self.matrix.empty[r])
