"""Themes inside a code: clustering the units coded with, e.g., „Bildung und Sprache".

Features are TF-IDF weights over lemmas, compound parts and lemma bigrams from the German pipeline,
reduced with truncated SVD (latent semantic analysis) and L2-normalised; the clusterer is scikit-learn's
NMF on the TF-IDF matrix (default: it matched the subcodes of the reference coding best,
docs/benchmarks/themes.md), KMeans on the SVD vectors, or agglomerative clustering.  The number of themes
is the k in ``k_range`` whose themes are most coherent (mean NPMI of each theme's top ten terms over the
texts; Aletras & Stevenson 2013, Röder et al. 2015) among the k whose every theme holds at least
``min_size`` units.  On short texts the silhouette, the other criterion offered, rises with k and picks
the top of the range; coherence matched the subcodes better (docs/benchmarks/themes.md).  Non-German units
are set aside and counted, never clustered as noise.
Everything is seeded by ``random_state``: the same input gives the same themes.
"""

from __future__ import annotations

import logging
import re
import sys
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ._text import wording
from .nlp import Analysis, GermanPipeline, lemma, stop_words
from .project import Project
from .units import HUMAN_ORIGINS, quotable, unit_labels, unit_table
from .words import _content_forms_of, _token_lemmas, content_words

log = logging.getLogger(__name__)

__all__ = ["ThemeClusterer", "ThemeResult", "cluster_texts", "find_themes", "representative_excerpt", "theme_terms"]

MAX_FIT = 2_000  # texts a code's themes are fitted on; more are sampled (ThemeClusterer's max_fit)
_NMF_ITERATIONS = 500  # NMF's iterations per candidate k (scikit-learn's max_iter)
MAX_TERMS = 5_000  # terms (words and word pairs) a code's themes are described by: the most frequent (max_terms)


@dataclass
class ThemeResult:
    """Themes of one code.

    ``themes``: ``theme, label, terms, size, documents, places, quotes`` (``places``: how many values of the
    project's place variable, ``[privacy] place_variable``, the theme's units come from; 0 without one)
    (quotes: list of dicts with
    ``unit_id, document_id, text``), largest theme first.  ``assignments``: ``unit_id, document_id,
    theme, similarity``.  ``set_aside``: units not clustered (``unit_id, language, reason``).
    ``k_scores``: the criterion's score (coherence or silhouette) per candidate k.  ``unconverged``: the
    candidate k for which NMF stopped at its iteration limit (see :class:`ThemeClusterer`).
    """

    code: str
    k: int
    method: str
    themes: pd.DataFrame
    assignments: pd.DataFrame
    set_aside: pd.DataFrame
    k_scores: dict[int, float] = field(default_factory=dict)
    unconverged: list[int] = field(default_factory=list)


class _Termed(Protocol):
    """What the clusterer reads of a text's analysis (:class:`~qualkit.nlp.Analysis` has it)."""

    @property
    def terms(self) -> Sequence[str]: ...


def _short(texts: pd.Series) -> list[bool]:
    """Which texts have fewer than six words (a bare keyword says little as a theme's quote).  One text's words
    at a time: ``.str.split()`` of a theme's members held them all at once (80 MB at ×100)."""
    return [isinstance(t, str) and len(t.split()) < 6 for t in texts]


def _said_before(texts: pd.Series) -> pd.Series:
    """True for a text whose :func:`~qualkit._text.wording` an earlier one of ``texts`` has."""
    return pd.Series([wording(t) if isinstance(t, str) else t for t in texts], index=texts.index).duplicated()


def _terms_and_bigrams(terms: Sequence[str]) -> list[str]:
    """A text's features for the theme vectors: its terms, then each pair of neighbouring terms."""
    t = list(terms)
    return t + [f"{x} {y}" for x, y in zip(t, t[1:])]


def _pseudonymised_words(project: Project) -> frozenset[str]:
    """The names the project's pseudonyms replace, as single lower-case words (a surname, a first name found on its
    own, a club's own name: each is a key of the mapping; a multi-word original also has its telling word as a
    key, so "Kita" of "Kita Sonnenschein" stays a word)."""
    from .privacy import Pseudonymizer
    return frozenset(orig.lower() for orig, _ in Pseudonymizer.for_project(project).originals() if " " not in orig)


def _phrases(analyses: Iterable[Analysis]) -> dict[str, str]:
    """Two whole content words written next to each other ("offener Ganztag"): lemma pair -> the most
    frequent way it is written.  A bigram of compound parts ("fuß ball") is no phrase."""
    bigrams: Counter[tuple[str, str, str, str]] = Counter()  # counted in C
    for a in analyses:
        bigrams.update(_bigrams(a))
    return _phrases_of(bigrams)


def _bigrams(a: Analysis) -> Iterator[tuple[str, str, str, str]]:
    """What :func:`_phrases` counts of one text: (token, lemma, next token, its lemma)."""
    return zip(a.tokens, a.lemmas, a.tokens[1:], a.lemmas[1:])


def _phrases_of(bigrams: Counter[tuple[str, str, str, str]]) -> dict[str, str]:
    """:func:`_phrases` of the counted (token, lemma, next token, its lemma) of some analyses."""
    from .words import _is_content
    stops = stop_words()
    seen: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for (tok, lem, tok2, lem2), n in bigrams.items():
        if _is_content(tok, lem, stops) and _is_content(tok2, lem2, stops):
            seen[f"{lem.lower()} {lem2.lower()}"][f"{tok} {tok2}"] += n
    return {k: max(v.items(), key=lambda kv: (kv[1], kv[0]))[0] for k, v in seen.items()}


def theme_terms(vocab_terms: Sequence[str], forms: dict[str, str], phrases: dict[str, str],
                counts: Counter[str] | None = None) -> list[str]:
    """The characteristic terms of a theme as a person writes them: whole words and phrases of the texts, no
    term repeated inside another ("Kind" beside "Kinderbetreuung").  A term the theme's texts use more often
    inside compounds than as a word of its own ("Kraft" in "Fachkraft", "Kurs" in "Sprachkurs") is shown as
    its most frequent compound; a compound part never written alone is dropped.  ``counts``: how often each
    whole word (lemma, lower case) occurs in the theme's texts."""
    counts = counts if counts is not None else Counter()
    out: list[str] = []
    for t in vocab_terms:
        if " " in t:
            shown = phrases.get(t)
        else:
            comps = [(n, w) for w, n in counts.items() if w in forms and len(w) > len(t)
                     and (w.startswith(t) or w.endswith(t) or (len(t) >= 5 and t in w))]
            inside = sum(n for n, _ in comps)
            if t in forms and counts.get(t, 0) >= inside:
                shown = forms[t]
            elif comps:
                shown = forms[max(comps)[1]]
            else:
                shown = None
        if not shown:
            continue
        low = shown.lower()
        if any(low in o.lower() or o.lower() in low for o in out):
            continue
        out.append(shown)
    return out


def _coherence(x: Any, labels: np.ndarray, k: int, top: int = 10) -> float:
    """Mean NPMI topic coherence of the k themes (see :func:`_theme_coherence`)."""
    return float(np.mean(_theme_coherence(x, labels, k, top)))


def _theme_coherence(x: Any, labels: np.ndarray, k: int, top: int = 10) -> list[float]:
    """NPMI topic coherence of each of the k themes: its ``top`` terms by mean TF-IDF, and for each pair of
    them log(P(a,b) / P(a)P(b)) / -log P(a,b) over the texts (-1 for pairs never together)."""
    b = (x > 0).astype(np.float64).tocsc()
    n = b.shape[0]
    df = np.asarray(b.sum(axis=0)).ravel()
    values = []
    for c in range(k):
        mean = np.asarray(x[labels == c].mean(axis=0)).ravel()
        terms = [t for t in np.argsort(-mean, kind="stable")[:top] if mean[t] > 0]
        sub = b[:, terms]
        together = (sub.T @ sub).toarray()  # texts holding both terms, for every pair at once
        pairs = []
        for i, a in enumerate(terms):
            for j in range(i + 1, len(terms)):
                both, t = float(together[i, j]), terms[j]
                if both == 0:
                    pairs.append(-1.0)
                    continue
                pab = both / n
                pairs.append(float(np.log(pab / ((df[a] / n) * (df[t] / n))) / -np.log(pab)) if pab < 1 else 1.0)
        values.append(float(np.mean(pairs)) if pairs else -1.0)
    return values


class ThemeClusterer:
    """Clusters analysed texts into themes (scikit-learn's estimator contract: ``__init__`` stores the
    parameters, :meth:`fit` learns and returns ``self``, learned attributes end in ``_``).

    Parameters
    ----------
    k_range : the smallest and largest number of themes tried.
    min_size : every theme must hold at least this many texts.
    method : ``nmf`` (NMF on the TF-IDF matrix), ``kmeans`` or ``agglomerative`` (on the SVD vectors).
    random_state : seed of the SVD, NMF and KMeans.
    n_components : dimensions of the SVD vectors (latent semantic analysis).
    criterion : how k is chosen: ``coherence`` (NPMI topic coherence of the themes' top terms) or
        ``silhouette`` (cosine silhouette of the SVD vectors).
    max_fit : above this many texts, k is chosen and the themes are fitted on a seeded sample of ``max_fit``
        texts (the SVD vectors too), and every text is then assigned to its theme (NMF: the theme of its largest
        weight given the fitted terms; k-means: the nearest centre; agglomerative: the nearest theme centroid).
        Theme finding then costs about the same at any corpus size; the example's codes (at most 640 units) are
        fitted whole.  ``bench/themes_bench.py`` measures how close themes fitted on a sample stay.
    max_terms : the TF-IDF vocabulary keeps the ``max_terms`` most frequent terms (words and word pairs) that pass
        the document-frequency limits.  A larger corpus has more rare terms, which shape no theme but make
        every fit slower; the example's codes have fewer (3,000 at most).

    Attributes
    ----------
    labels_ : theme of each text (0 = largest theme; ties by first occurrence).
    similarity_ : cosine similarity of each text to its theme's centroid (0 for a text without direction).
    tfidf_ : the TF-IDF matrix (texts × terms, sparse); ``vocabulary_`` its terms.
    k_ : the number of themes chosen.
    k_scores_ : the criterion's score per candidate k whose every theme held ``min_size`` texts.
    unconverged_ : the candidate k (ascending) for which NMF stopped at its iteration limit before it
        converged; their themes are used as they stand (seeded: the same every run).
    score_ : the criterion's score of the chosen k (``nan`` if no k was scored: one theme).
    theme_scores_ : the NPMI coherence of each chosen theme's top terms, in the order of ``labels_``.
    silhouette_ : the cosine silhouette of the chosen themes on the SVD vectors (``nan`` for one theme).
    """

    unconverged_: list[int]

    def __init__(self, *, k_range: tuple[int, int] = (2, 8), min_size: int = 5, method: str = "nmf",
                 random_state: int = 0, n_components: int = 60, criterion: str = "coherence",
                 max_fit: int = MAX_FIT, max_terms: int | None = MAX_TERMS) -> None:
        self.k_range = k_range
        self.min_size = min_size
        self.method = method
        self.random_state = random_state
        self.n_components = n_components
        self.criterion = criterion
        self.max_fit = max_fit
        self.max_terms = max_terms

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("k_range", "min_size", "method", "random_state", "n_components",
                                              "criterion", "max_fit", "max_terms")}

    def __repr__(self) -> str:
        return f"ThemeClusterer({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"

    def _one_theme(self, n: int, x: Any, vocab: list[str], scores: dict[int, float]) -> ThemeClusterer:
        self.labels_, self.similarity_ = np.zeros(n, dtype=int), np.ones(n)
        self.tfidf_, self.vocabulary_, self.k_scores_, self.k_ = x, vocab, scores, 1
        self.score_ = float("nan")
        self.__dict__["silhouette_"] = float("nan")
        self.theme_scores_ = [float("nan")]
        return self

    def _converging(self, k: int, fit: Any, x: Any) -> Any:
        """``fit(x)``, noting ``k`` in ``unconverged_`` where NMF stopped at its iteration limit instead of
        printing scikit-learn's warning: the result is used as it stands (seeded, the same every run)."""
        from sklearn.exceptions import ConvergenceWarning
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            out = fit(x)
        for w in caught:
            if issubclass(w.category, ConvergenceWarning):
                self.unconverged_ = sorted({*self.unconverged_, k})
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return out

    def fit(self, analyses: Sequence[_Termed], y: None = None) -> ThemeClusterer:
        """Cluster ``analyses`` (German pipeline analyses of the texts, or anything with their ``terms``);
        returns ``self``."""
        from sklearn.cluster import AgglomerativeClustering, KMeans
        from sklearn.decomposition import NMF, TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.metrics import silhouette_score
        from sklearn.preprocessing import normalize

        if self.method not in ("kmeans", "nmf", "agglomerative"):
            raise ValueError("method must be 'kmeans', 'nmf' or 'agglomerative'")
        if self.criterion not in ("coherence", "silhouette"):
            raise ValueError("criterion must be 'coherence' or 'silhouette'")
        min_size, random_state = self.min_size, self.random_state
        self.unconverged_ = []
        n = len(analyses)
        small = n < 10
        vec = TfidfVectorizer(analyzer=_terms_and_bigrams, min_df=1 if small else 2, max_df=1.0 if small else 0.6,
                              sublinear_tf=True, max_features=self.max_terms)
        try:
            # one text's features at a time: a list of every text's terms and bigrams was the largest thing a
            # chapter held (at ×100, 130 MB for the largest chapter's code)
            x = vec.fit_transform(a.terms for a in analyses)
        except ValueError:  # no term survives the document-frequency limits: one theme
            from scipy.sparse import csr_matrix
            return self._one_theme(n, csr_matrix((n, 0)), [], {})
        vocab = list(vec.get_feature_names_out())
        kmax = max(1, min(self.k_range[1], n // max(min_size, 1)))
        kmin = min(self.k_range[0], kmax)
        if kmax < 2 or x.shape[1] < 2:
            return self._one_theme(n, x, vocab, {})
        dims = max(2, min(self.n_components, x.shape[1] - 1, n - 1))
        svd = TruncatedSVD(n_components=dims, random_state=random_state)
        # texts none of whose terms survive the frequency limits have no direction: they are clustered by no
        # method (cosine is undefined) and join the largest theme with similarity 0
        termed = np.flatnonzero(x.getnnz(axis=1) > 0)
        fit_rows = None  # rows of x the themes are fitted on (None: all)
        if len(termed) > self.max_fit:  # the SVD too is fitted on the sample, then every text projected
            rng = np.random.default_rng(random_state)
            fit_rows = termed[np.sort(rng.choice(len(termed), size=self.max_fit, replace=False))]
            z_all = normalize(svd.fit(x[fit_rows]).transform(x))
        else:
            z_all = normalize(svd.fit_transform(x))
        keep = np.abs(z_all).sum(axis=1) > 0
        z, xk = z_all[keep], x[keep]
        if z.shape[0] < 2 * max(min_size, 1):
            return self._one_theme(n, x, vocab, {})
        # the sampled rows' places among the kept ones (a text with terms but no direction is left out)
        sample = None if fit_rows is None else np.flatnonzero(np.isin(np.flatnonzero(keep), fit_rows))
        zs, xs = (z, xk) if sample is None else (z[sample], xk[sample])
        scores: dict[int, float] = {}
        best: tuple[float, int, np.ndarray, list[float] | None, Any] | None = None
        for k in range(max(2, kmin), kmax + 1):
            model: Any
            if self.method == "kmeans":
                model = KMeans(n_clusters=k, n_init=10, random_state=random_state)
                labels = model.fit_predict(zs)
            elif self.method == "agglomerative":
                model = None
                labels = AgglomerativeClustering(n_clusters=k, metric="cosine", linkage="average").fit_predict(zs)
            else:
                model = NMF(n_components=k, init="nndsvda", random_state=random_state, max_iter=_NMF_ITERATIONS)
                labels = self._converging(k, model.fit_transform, xs).argmax(axis=1)
            if len(set(labels)) < 2 or min(Counter(labels.tolist()).values()) < min_size:
                continue  # every theme must hold min_size units
            per_theme = _theme_coherence(xs, labels, k) if self.criterion == "coherence" else None
            if per_theme is not None:
                s = float(np.mean(per_theme))
            else:
                s = float(silhouette_score(zs, labels, metric="cosine"))
            scores[k] = round(s, 4)
            if best is None or s > best[0] + 1e-9:
                best = (s, k, labels, per_theme, model)
        if best is None:
            return self._one_theme(n, x, vocab, scores)
        labels, per_theme = best[2], best[3]
        if sample is not None:  # every text to its theme (see max_fit); the coherence is that of all of them
            if self.method == "nmf":
                labels = self._converging(best[1], best[4].transform, xk).argmax(axis=1)
            elif self.method == "kmeans":
                labels = best[4].predict(z)
            else:
                cents = normalize(np.vstack([zs[best[2] == c].mean(axis=0) for c in range(best[1])]))
                labels = (z @ cents.T).argmax(axis=1)
            per_theme = None
            if len(set(labels.tolist())) < 2:
                return self._one_theme(n, x, vocab, scores)
        # renumber by size (largest theme = 0), ties by first occurrence, for stable output
        sizes = Counter(labels.tolist())
        order = sorted(sizes, key=lambda c: (-sizes[c], list(labels).index(c)))
        remap = {c: i for i, c in enumerate(order)}
        labels = np.array([remap[c] for c in labels])
        cent = np.vstack([z[labels == c].mean(axis=0) for c in range(len(order))])
        sim_k = np.einsum("ij,ij->i", z, normalize(cent)[labels])
        full, sim = np.zeros(n, dtype=int), np.zeros(n)
        full[keep], sim[keep] = labels, sim_k
        self.labels_, self.similarity_, self.tfidf_, self.vocabulary_ = full, sim, x, vocab
        self.k_, self.k_scores_, self.score_ = len(order), scores, float(best[0])
        self.theme_scores_ = ([round(per_theme[c], 4) for c in order] if per_theme is not None
                              else [round(v, 4) for v in _theme_coherence(xk, labels, len(order))])
        self._z, self._z_labels = z, labels
        self.__dict__.pop("silhouette_", None)
        return self

    @property
    def silhouette_(self) -> float:
        """The cosine silhouette of the chosen themes on the SVD vectors (``nan`` for one theme), computed when
        first asked for: over at most 5,000 texts, a seeded sample of them beyond (it is quadratic in texts)."""
        if "silhouette_" in self.__dict__:
            return float(self.__dict__["silhouette_"])
        from sklearn.metrics import silhouette_score
        z, labels = self._z, self._z_labels
        value = float(silhouette_score(z, labels, metric="cosine", sample_size=min(len(labels), 5_000),
                                       random_state=self.random_state))
        self.__dict__["silhouette_"] = value
        return value

    def fit_predict(self, analyses: Sequence[_Termed], y: None = None) -> np.ndarray:
        """:meth:`fit` and return ``labels_``."""
        return self.fit(analyses).labels_


def cluster_texts(analyses: Sequence[Analysis], *, k_range: tuple[int, int] = (2, 8), min_size: int = 5,
                  method: str = "nmf", random_state: int = 0, n_components: int = 60, criterion: str = "coherence"
                  ) -> ThemeClusterer:
    """A :class:`ThemeClusterer` with these parameters, fitted on ``analyses``."""
    return ThemeClusterer(k_range=k_range, min_size=min_size, method=method, random_state=random_state,
                          n_components=n_components, criterion=criterion).fit(analyses)


def _column_mean(x: Any, rows: np.ndarray) -> np.ndarray:
    """The mean of the selected rows of a (sparse) matrix per column, as a dense vector."""
    sub = x[rows]
    total = np.asarray(sub.sum(axis=0), dtype=np.float64).ravel()
    return total / max(int(rows.sum()), 1)


def representative_excerpt(text: str, terms: Iterable[str], *, max_chars: int = 360) -> str:
    """The sentence(s) of ``text`` richest in ``terms``, at most ``max_chars`` long (…-marked if cut)."""
    if len(text) <= max_chars:
        return text
    sents = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    terms = [t.lower() for t in terms]

    def score(s: str) -> int:
        low = s.lower()
        return sum(t.split()[0][:5] in low for t in terms if t)

    best = max(range(len(sents)), key=lambda i: (score(sents[i]), -i))
    out = sents[best]
    j = best + 1
    while j < len(sents) and len(out) + len(sents[j]) + 1 <= max_chars:
        out += " " + sents[j]
        j += 1
    if len(out) > max_chars:
        out = out[: max_chars - 1].rsplit(" ", 1)[0] + " …"
    prefix = "… " if best > 0 else ""
    suffix = " …" if j < len(sents) and not out.endswith("…") else ""
    return prefix + out + suffix


@dataclass(frozen=True)
class _Read:
    """What a code's themes need of one text's analysis: its terms (the features) and content words (a theme's
    own word counts); the tokens, lemmas and sentences of every text are not kept (see :func:`_read_analyses`)."""

    terms: tuple[str, ...]
    content: tuple[str, ...]


@dataclass
class _Analyses:
    """A code's texts as :func:`find_themes` reads them: one :class:`_Read` per text (one object per distinct
    text), and the counts :func:`qualkit.words._content_forms` and :func:`_phrases` make of the texts with
    terms."""

    texts: list[_Read] = field(default_factory=list)
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    bigrams: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)


def _read_analyses(pipe: GermanPipeline, texts: Iterable[str]) -> _Analyses:
    """The analyses of ``texts`` read a part at a time (:meth:`GermanPipeline.analyse_in_parts`) and reduced to
    what the themes use as they are read: a large code's analyses were the largest thing its chapter held."""
    out = _Analyses()
    kept: dict[str, _Read] = {}
    for a in pipe.analyse_in_parts(texts):
        r = kept.get(a.sha256)
        if r is None:
            r = kept[a.sha256] = _Read(a.terms, tuple(map(sys.intern, content_words(a))))
        out.texts.append(r)
        if a.terms:  # the texts without terms are set aside: they count towards no form and no phrase
            out.pairs.update(_token_lemmas(a))
            out.bigrams.update(_bigrams(a))
    return out


def find_themes(project: Project, code: str, *, kinds: Sequence[str] = ("interview", "survey"),
                k_range: tuple[int, int] = (2, 8), min_size: int = 5, method: str = "nmf",
                origins: Sequence[str] = HUMAN_ORIGINS, coders: Iterable[str] | None = None,
                random_state: int | None = None, n_quotes: int = 3, pipeline: GermanPipeline | None = None,
                criterion: str = "coherence", labels: pd.DataFrame | None = None,
                units: pd.DataFrame | None = None) -> ThemeResult:
    """Find themes among the units coded with ``code`` (and its subcodes).  See the module docstring.

    ``labels`` (a :func:`~qualkit.units.unit_labels` frame for ``origins``/``coders``) and ``units`` (a
    :func:`~qualkit.units.unit_table`) may be passed when the caller has them already (a report run finds the
    themes of every code from one read of the store)."""
    cb = project.codebook
    cb.get(code)
    seed = project.seed if random_state is None else random_state
    lab = unit_labels(project, origins=origins, coders=coders) if labels is None else labels
    ids = set(lab[lab.code.isin(cb.descendants(code))].unit_id)
    units = unit_table(project, kinds=kinds) if units is None else units[units.kind.isin(kinds)]
    units = units[units.unit_id.isin(ids)].sort_values("unit_id").reset_index(drop=True)
    lang = units.language.fillna("de")
    aside = units[~lang.isin(["de", "und"])]
    set_aside = pd.DataFrame({"unit_id": aside.unit_id, "language": aside.language,
                              "reason": "nicht deutschsprachig"}).reset_index(drop=True)
    units = units[lang.isin(["de", "und"])].reset_index(drop=True)
    pipe = pipeline or GermanPipeline(cache_dir=project.cache_dir)
    read = _read_analyses(pipe, units.text)
    analyses = read.texts
    empty = [not a.terms for a in analyses]
    if any(empty):
        extra = units[empty]
        set_aside = pd.concat([set_aside, pd.DataFrame({"unit_id": extra.unit_id, "language": extra.language,
                                                        "reason": "ohne Inhaltswörter"})], ignore_index=True)
        keep = [not e for e in empty]
        units = units[keep].reset_index(drop=True)
        analyses = [a for a, k in zip(analyses, keep) if k]
    cols = ["theme", "label", "terms", "size", "documents", "places", "quotes"]
    if len(units) == 0:
        return ThemeResult(code, 0, method, pd.DataFrame(columns=cols),
                           pd.DataFrame(columns=["unit_id", "document_id", "theme", "similarity"]), set_aside)
    model = ThemeClusterer(k_range=k_range, min_size=min_size, method=method, random_state=seed,
                           criterion=criterion).fit(analyses)
    labels, sim, x, vocab, scores = model.labels_, model.similarity_, model.tfidf_, model.vocabulary_, model.k_scores_
    forms = _content_forms_of(read.pairs)[1]  # lemma -> how it is shown (whole words only: no compound parts)
    phrases = _phrases_of(read.bigrams)
    del read
    hidden = _pseudonymised_words(project)
    place = project.config["privacy"]["place_variable"]  # the "Kommunen" a theme spans
    kommune = place if place in units.columns else None
    # names of places are shown as written: the lemma table would make a town named like a plural noun into its singular
    places = dict(project.config["privacy"].get("places", {}))
    names = {*places, *(d for ds in places.values() for d in ds),
             *(units[kommune].dropna().astype(str) if kommune else ())}
    for word in {w for name in names for w in re.split(r"[\s-]+", str(name)) if w.isalpha() and len(w) >= 4}:
        if lemma(word).lower() != word.lower():
            forms[lemma(word).lower()] = word
    # column means straight from the sparse matrix: a dense copy of a large code's TF-IDF matrix (units × terms)
    # was the report's peak memory; summing rows in order gives the same floats as the dense mean
    overall = _column_mean(x, np.ones(x.shape[0], dtype=bool))
    rows = []
    k = int(labels.max()) + 1
    place = project.config["privacy"]["place_variable"]  # the places a theme spans
    place_col = place if place and place in units.columns else None
    for c in range(k):
        mask = labels == c
        if vocab:
            lift = _column_mean(x, mask) - overall
            top = [vocab[i] for i in np.argsort(-lift, kind="stable")[:8] if lift[i] > 0]
        else:
            top = []
        # a name the pseudonyms replace is never a theme's term (it is a term of the texts, which are the originals)
        candidates = [vocab[i] for i in np.argsort(-lift, kind="stable")[:40]
                      if lift[i] > 0 and not hidden.intersection(vocab[i].split())] if vocab else []
        own = Counter(w for a, m in zip(analyses, mask) if m for w in a.content)
        # ... nor shown as the compound a term stands for ("alt" written in "Althoff")
        shown = [t for t in theme_terms(candidates, forms, phrases, own) if not hidden.intersection(t.lower().split())][:8]
        label_terms = shown[:3]
        members = units[mask].assign(similarity=sim[mask]).sort_values(["similarity", "unit_id"],
                                                                         ascending=[False, True])
        # representative quotes: closest to the theme first, but a bare keyword ("Seiteneinsteigerberatung")
        # says little, and an answer given word for word by several respondents is quoted once
        cands = members.assign(short=_short(members.text))
        cands = cands.sort_values(["short", "similarity", "unit_id"], ascending=[True, False, True])
        cands = cands[~_said_before(cands.text)]
        cands = quotable(cands)
        quotes = [{"unit_id": int(r.unit_id), "document_id": r.document_id,
                   "text": representative_excerpt(r.text, top)} for r in cands.head(n_quotes).itertuples()]
        rows.append({"theme": c + 1, "label": " · ".join(label_terms) or f"Thema {c + 1}", "terms": shown,
                     "size": int(mask.sum()), "documents": int(members.document_id.nunique()),
                     "places": int(members[place_col].nunique()) if place_col else 0, "quotes": quotes})
    assignments = pd.DataFrame({"unit_id": units.unit_id, "document_id": units.document_id,
                                "theme": labels + 1, "similarity": np.round(sim, 4)})
    unconverged = model.unconverged_
    if unconverged:
        log.info("themes of %r: NMF stopped at its limit of %d iterations for k = %s before it converged; their "
                 "themes are used as they stand (seeded: the same every run)", code, _NMF_ITERATIONS,
                 ", ".join(map(str, unconverged)))
    return ThemeResult(code, k, method, pd.DataFrame(rows, columns=cols), assignments, set_aside, scores,
                       unconverged)


def theme_blocks(project: Project, result: ThemeResult) -> list[Any]:
    """Blocks showing each theme with its pseudonymised quotes (for notebooks)."""
    from .blocks import Block
    from .privacy import Pseudonymizer, attribute
    pseudo = Pseudonymizer.for_project(project)
    units = unit_table(project).set_index("unit_id")
    place = project.config["privacy"]["place_variable"]
    out = [Block("heading", text=f"Themen in „{result.code}“", level=2)]
    for r in result.themes.itertuples():
        where = f", {place}: {r.places}" if place and r.places else ""
        out.append(Block("heading", text=f"Thema {r.theme}: {r.label} ({r.size} Aussagen, {r.documents} Dokumente"
                                         f"{where})", level=3))
        for q in r.quotes:
            label, flagged = attribute(project, units.loc[q["unit_id"], "person_id"])
            out.append(Block("quote", text=pseudo.pseudonymise(q["text"]), attribution=label, flagged=flagged))
    return out


def show_themes(project: Project, result: ThemeResult) -> None:
    """Display the themes of :func:`find_themes` in a notebook."""
    from .blocks import display_blocks
    display_blocks(theme_blocks(project, result))
