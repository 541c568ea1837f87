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

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .nlp import Analysis, GermanPipeline, lemma, stop_words
from .project import Project
from .units import HUMAN_ORIGINS, unit_labels, unit_table
from .words import content_words

__all__ = ["ThemeResult", "cluster_texts", "find_themes", "representative_excerpt", "theme_terms"]


@dataclass
class ThemeResult:
    """Themes of one code.

    ``themes``: ``theme, label, terms, size, documents, places, quotes`` (``places``: how many values of the
    project's place variable, ``[privacy] place_variable``, the theme's units come from; 0 without one)
    (quotes: list of dicts with
    ``unit_id, document_id, text``), largest theme first.  ``assignments``: ``unit_id, document_id,
    theme, similarity``.  ``set_aside``: units not clustered (``unit_id, language, reason``).
    ``k_scores``: the criterion's score (coherence or silhouette) per candidate k.
    """

    code: str
    k: int
    method: str
    themes: pd.DataFrame
    assignments: pd.DataFrame
    set_aside: pd.DataFrame
    k_scores: dict[int, float] = field(default_factory=dict)


def _identity(x: object) -> object:
    return x


def _display_forms(analyses: Sequence[Analysis]) -> dict[str, str]:
    """Lemma (lower case) -> how it is shown, for the whole words of the texts (compound parts are no words)."""
    from .words import _display, _is_content
    stops = stop_words()
    spellings: dict[str, Counter[str]] = {}
    surfaces: dict[str, Counter[str]] = {}
    for a in analyses:
        for tok, lem in zip(a.tokens, a.lemmas):
            if _is_content(tok, lem, stops):
                spellings.setdefault(lem.lower(), Counter())[lem] += 1
                surfaces.setdefault(lem.lower(), Counter())[tok] += 1
    return {k: _display(v, surfaces[k]) for k, v in spellings.items()}


def _phrases(analyses: Sequence[Analysis]) -> dict[str, str]:
    """Two whole content words written next to each other ("offener Ganztag"): lemma pair -> the most
    frequent way it is written.  A bigram of compound parts ("fuß ball") is no phrase."""
    from .words import _is_content
    stops = stop_words()
    seen: dict[str, Counter[str]] = {}
    for a in analyses:
        ok = [_is_content(t, lem, stops) for t, lem in zip(a.tokens, a.lemmas)]
        for i in range(len(a.tokens) - 1):
            if ok[i] and ok[i + 1]:
                key = f"{a.lemmas[i].lower()} {a.lemmas[i + 1].lower()}"
                seen.setdefault(key, Counter())[f"{a.tokens[i]} {a.tokens[i + 1]}"] += 1
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
    """Mean NPMI topic coherence of the k themes: for each theme its ``top`` terms by mean TF-IDF, and for
    each pair of them log(P(a,b) / P(a)P(b)) / -log P(a,b) over the texts (-1 for pairs never together)."""
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
    return float(np.mean(values))


def cluster_texts(analyses: Sequence[Analysis], *, k_range: tuple[int, int] = (2, 8), min_size: int = 5,
                  method: str = "nmf", random_state: int = 0, n_components: int = 60, criterion: str = "coherence"
                  ) -> tuple[np.ndarray, np.ndarray, Any, list[str], dict[int, float]]:
    """Cluster analysed texts.  Returns labels (0 = largest cluster), cosine similarity to the own
    centroid, the TF-IDF matrix, its vocabulary, and the criterion's score per candidate k (``coherence``:
    NPMI topic coherence of the themes' top terms; ``silhouette``: cosine silhouette)."""
    from sklearn.cluster import AgglomerativeClustering, KMeans
    from sklearn.decomposition import NMF, TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import normalize

    docs = []
    for a in analyses:
        t = list(a.terms)
        docs.append(t + [f"{x} {y}" for x, y in zip(t, t[1:])])
    n = len(docs)
    small = n < 10
    vec = TfidfVectorizer(analyzer=_identity, min_df=1 if small else 2, max_df=1.0 if small else 0.6,
                          sublinear_tf=True)
    try:
        x = vec.fit_transform(docs)
    except ValueError:  # no term survives the document-frequency limits: one theme
        from scipy.sparse import csr_matrix
        return np.zeros(n, dtype=int), np.ones(n), csr_matrix((n, 0)), [], {}
    vocab = list(vec.get_feature_names_out())
    kmax = max(1, min(k_range[1], n // max(min_size, 1)))
    kmin = min(k_range[0], kmax)
    if kmax < 2 or x.shape[1] < 2:
        return np.zeros(n, dtype=int), np.ones(n), x, vocab, {}
    dims = max(2, min(n_components, x.shape[1] - 1, n - 1))
    svd = TruncatedSVD(n_components=dims, random_state=random_state)
    z_all = normalize(svd.fit_transform(x))
    # texts none of whose terms survive the frequency limits have no direction: they are clustered by no method
    # (cosine is undefined) and join the largest theme with similarity 0
    keep = np.abs(z_all).sum(axis=1) > 0
    z, xk = z_all[keep], x[keep]
    if z.shape[0] < 2 * max(min_size, 1):
        return np.zeros(n, dtype=int), np.ones(n), x, vocab, {}
    scores: dict[int, float] = {}
    best: tuple[float, int, np.ndarray] | None = None
    for k in range(max(2, kmin), kmax + 1):
        if method == "kmeans":
            labels = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit_predict(z)
        elif method == "agglomerative":
            labels = AgglomerativeClustering(n_clusters=k, metric="cosine", linkage="average").fit_predict(z)
        elif method == "nmf":
            w = NMF(n_components=k, init="nndsvda", random_state=random_state, max_iter=500).fit_transform(xk)
            labels = w.argmax(axis=1)
        else:
            raise ValueError("method must be 'kmeans', 'nmf' or 'agglomerative'")
        if len(set(labels)) < 2 or min(Counter(labels.tolist()).values()) < min_size:
            continue  # every theme must hold min_size units
        if criterion == "coherence":
            s = _coherence(xk, labels, k)
        elif criterion == "silhouette":
            s = float(silhouette_score(z, labels, metric="cosine"))
        else:
            raise ValueError("criterion must be 'coherence' or 'silhouette'")
        scores[k] = round(s, 4)
        if best is None or s > best[0] + 1e-9:
            best = (s, k, labels)
    if best is None:
        return np.zeros(n, dtype=int), np.ones(n), x, vocab, scores
    labels = best[2]
    # renumber by size (largest theme = 0), ties by first occurrence, for stable output
    sizes = Counter(labels.tolist())
    order = sorted(sizes, key=lambda c: (-sizes[c], list(labels).index(c)))
    remap = {c: i for i, c in enumerate(order)}
    labels = np.array([remap[c] for c in labels])
    cent = np.vstack([z[labels == c].mean(axis=0) for c in range(len(order))])
    sim_k = np.einsum("ij,ij->i", z, normalize(cent)[labels])
    full, sim = np.zeros(n, dtype=int), np.zeros(n)
    full[keep], sim[keep] = labels, sim_k
    return full, sim, x, vocab, scores


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
    analyses = pipe.analyse(list(units.text))
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
    labels, sim, x, vocab, scores = cluster_texts(analyses, k_range=k_range, min_size=min_size, method=method,
                                                     random_state=seed, criterion=criterion)
    forms = _display_forms(analyses)
    phrases = _phrases(analyses)
    place = project.config["privacy"]["place_variable"]  # the "Kommunen" a theme spans
    kommune = place if place in units.columns else None
    # names of places are shown as written: the lemma table would make a town named like a plural noun into its singular
    places = dict(project.config["privacy"].get("places", {}))
    names = {*places, *(d for ds in places.values() for d in ds),
             *(units[kommune].dropna().astype(str) if kommune else ())}
    for word in {w for name in names for w in re.split(r"[\s-]+", str(name)) if w.isalpha() and len(w) >= 4}:
        if lemma(word).lower() != word.lower():
            forms[lemma(word).lower()] = word
    xd = x.toarray() if hasattr(x, "toarray") else np.asarray(x)
    overall = xd.mean(axis=0)
    rows = []
    k = int(labels.max()) + 1
    place = project.config["privacy"]["place_variable"]  # the places a theme spans
    place_col = place if place and place in units.columns else None
    for c in range(k):
        mask = labels == c
        if vocab:
            lift = xd[mask].mean(axis=0) - overall
            top = [vocab[i] for i in np.argsort(-lift, kind="stable")[:8] if lift[i] > 0]
        else:
            top = []
        candidates = [vocab[i] for i in np.argsort(-lift, kind="stable")[:40] if lift[i] > 0] if vocab else []
        own = Counter(w for a, m in zip(analyses, mask) if m for w in content_words(a))
        shown = theme_terms(candidates, forms, phrases, own)[:8]
        label_terms = shown[:3]
        members = units[mask].assign(similarity=sim[mask]).sort_values(["similarity", "unit_id"],
                                                                         ascending=[False, True])
        # representative quotes: closest to the theme first, but a bare keyword ("Seiteneinsteigerberatung")
        # says little, and an answer given word for word by several respondents is quoted once
        cands = members.assign(short=members.text.str.split().str.len() < 6)
        cands = cands.sort_values(["short", "similarity", "unit_id"], ascending=[True, False, True])
        cands = cands[~cands.text.str.lower().str.split().str.join(" ").duplicated()]
        cands = cands[cands.quotable.astype(bool)] if "quotable" in cands.columns else cands
        quotes = [{"unit_id": int(r.unit_id), "document_id": r.document_id,
                   "text": representative_excerpt(r.text, top)} for r in cands.head(n_quotes).itertuples()]
        rows.append({"theme": c + 1, "label": " · ".join(label_terms) or f"Thema {c + 1}", "terms": shown,
                     "size": int(mask.sum()), "documents": int(members.document_id.nunique()),
                     "places": int(members[place_col].nunique()) if place_col else 0, "quotes": quotes})
    assignments = pd.DataFrame({"unit_id": units.unit_id, "document_id": units.document_id,
                                "theme": labels + 1, "similarity": np.round(sim, 4)})
    return ThemeResult(code, k, method, pd.DataFrame(rows, columns=cols), assignments, set_aside, scores)


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
