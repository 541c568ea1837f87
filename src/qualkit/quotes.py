"""Choosing quotes for findings chapters, and their release (Zitatfreigabe).

A quote is the **coded span** of a unit (not the start of a long turn), extended to sentence boundaries and
marked with "…" where it is cut (:func:`coded_excerpt`).  A span longer than a quote is quoted from the sentences
with the indicator terms of the codes a section is about, and without those of the unit's other codes of the
same dimension: a turn coded with three fields at once is quoted, for each field, where it speaks of it
(:meth:`QuotePicker._window_terms`).  An excerpt the research team decided on keeps its window.

The selection rule (:data:`SELECTION_RULE`, stated in every chapter's method note):

1. candidates are the German units of a section whose excerpt has at least 40 characters;
2. they are ranked by how typical they are for the section (cosine similarity of the excerpt's TF-IDF vector
   to the section's mean), or in the theme's own order for theme quotes;
3. quotes in which the re-identification guard (:class:`qualkit.reidentify.Guard`) had to mask something come
   after those it left alone; a quote with too little left after masking is not used;
4. at most one quote per person per section, no unit twice in a chapter, and an answer submitted word for
   word more than once is quoted once;
5. excluded quotes are never used; a release run uses approved quotes only, a draft run also pending ones,
   visibly marked.

Release decisions are stored in the project store (``quote_decisions``, logged in ``quote_log``) under a
stable key: document, span and a hash of the quoted original text, so they survive re-runs and lapse when
the text changes.  ``qualkit quotes`` and ``notebooks/quotes.ipynb`` list what a report would quote.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._text import wording
from .blocks import Block
from .errors import ConfigError
from .privacy import Attribution, Pseudonymizer
from .project import Project, current_coder
from .prose import num
from .reidentify import Guard

if TYPE_CHECKING:
    from .nlp import GermanPipeline

__all__ = ["MODES", "SELECTION_RULE", "Quote", "QuotePicker", "coded_excerpt", "decide", "quote_key",
           "report_quotes"]

MODES = ("draft", "release")
MAX_POOL = 1_000  # units a code's typical quotes are sought among; more are sampled (QuotePicker.pick)
PENDING_MARK = "Entwurf: Zitat noch nicht freigegeben"
SELECTION_RULE = (
    "Zitate zeigen den codierten Abschnitt einer Aussage, auf ganze Sätze erweitert; „…“ markiert Kürzungen. "
    "Ist er länger als ein Zitat, zeigt es die Sätze mit den Indikatorbegriffen der Kategorie des Abschnitts und "
    "möglichst ohne die anderer Kategorien derselben Dimension, mit denen die Aussage ebenfalls codiert ist. "
    "Je Abschnitt werden die deutschsprachigen Aussagen zitiert, die dem Inhalt aller Aussagen des Abschnitts am "
    "nächsten sind (bei Themen: die dem Thema am nächsten sind), höchstens ein Zitat je Person und Abschnitt, "
    f"keine Aussage zweimal im Kapitel und wortgleiche Mehrfacheinsendungen nur einmal (bei mehr als "
    f"{num(MAX_POOL)} Aussagen: unter einer festen Zufallsstichprobe von {num(MAX_POOL)}, aus der auch die Zitate "
    "zu seinen Teilgruppen stammen). Jedes Zitat wird vor der "
    "Verwendung geprüft: Selbstbeschreibungen (Rolle, Amtszeit, Arbeitgeber), der eigene Ort der zitierten "
    "Person, Selbstbezüge auf nur einmal vorhandene Organisationen, Einwohnerzahlen und markante Orte werden "
    "maskiert; bleibt danach keine Aussage übrig, wird das Zitat nicht verwendet. Jedes Zitat wird vom "
    "Forschungsteam freigegeben, bevor es das Projekt verlässt.")

_BOUNDARY = re.compile(r"(?<=[.!?…])[\"“”»«)]*\s+|\n+")


@dataclass(frozen=True)
class Quote:
    """A quote as a report would show it.  ``text`` is pseudonymised and masked; ``context`` is the whole
    unit, pseudonymised and masked (for the release review); ``warnings`` are the guard's findings."""

    key: str
    unit_id: int
    document_id: str
    case_id: str
    kind: str
    start: int
    end: int
    text: str
    attribution: str
    coarsened: bool
    status: str
    warnings: tuple[str, ...] = ()
    context: str = ""
    chapter: str = ""

    def block(self) -> Block:
        label = self.attribution if self.status == "approved" else f"{self.attribution} · {PENDING_MARK}"
        return Block("quote", text=self.text, attribution=label, flagged=self.coarsened)


def quote_key(document_id: str, start: int, end: int, original: str) -> str:
    """The stable key of a quote: ``document:start-end:hash`` (the hash of the original text, never shown)."""
    return f"{document_id}:{start}-{end}:{hashlib.sha256(original.encode('utf-8')).hexdigest()[:12]}"


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of ``text`` (offsets, end exclusive, without surrounding white space)."""
    out: list[tuple[int, int]] = []
    pos = 0
    for m in _BOUNDARY.finditer(text):
        if m.start() > pos:
            g = m.group()
            out.append((pos, m.start() + len(g) - len(g.lstrip("\"“”»«)"))))
        pos = m.end()
    if pos < len(text):
        out.append((pos, len(text)))
    spans = []
    for s, e in out:
        seg = text[s:e]
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg) - len(seg.rstrip())
        if e - trail > s + lead:
            spans.append((s + lead, e - trail))
    return spans


def coded_excerpt(text: str, start: int, end: int, *, max_chars: int = 340, terms: Sequence[str] = (),
                  avoid: Sequence[str] = ()) -> tuple[int, int, str]:
    """The coded span ``text[start:end]`` extended to whole sentences: ``(start, end, excerpt)``.

    ``text`` is the unit (offsets relative to it).  Where the excerpt does not begin at the unit's first or end
    at its last sentence it gets "… ".  Longer than ``max_chars``: the window of whole sentences inside the span
    with the most of ``terms`` and the fewest of ``avoid`` (each sentence counts the terms it holds, less those
    to avoid; on a tie the earliest), and a sentence longer than that is cut at a word with " …".  Terms match
    at the start of a word, as :func:`_stem` says.
    """
    start, end = max(0, start), min(len(text), end)
    sents = _sentences(text) or [(0, len(text))]
    inside = [i for i, (s, e) in enumerate(sents) if s < end and start < e] or \
        [next((i for i, (_s, e) in enumerate(sents) if e > start), len(sents) - 1)]  # a span of white space
    lo, hi = inside[0], inside[-1]
    sought, shunned = _term_patterns(tuple(terms)), _term_patterns(tuple(avoid))
    scores: dict[int, int] = {}  # a sentence is in many windows: its terms are sought once

    def score(i: int) -> int:
        if i not in scores:
            seg = text[sents[i][0]:sents[i][1]]
            scores[i] = sum(1 for p in sought if p.search(seg)) - sum(1 for p in shunned if p.search(seg))
        return scores[i]

    def width(a: int, b: int) -> int:
        return sents[b][1] - sents[a][0]

    if width(lo, hi) > max_chars:
        best_a, best = lo, None
        for a in range(lo, hi + 1):
            b = a
            while b + 1 <= hi and width(a, b + 1) <= max_chars:
                b += 1
            sc = (sum(score(i) for i in range(a, b + 1)), score(a), -a)
            if best is None or sc > best:
                best_a, best = a, sc
        lo = best_a
        hi = lo
        while hi + 1 <= inside[-1] and width(lo, hi + 1) <= max_chars:
            hi += 1
    s, e = sents[lo][0], sents[hi][1]
    body = text[s:e]
    cut = False
    if len(body) > max_chars:
        body = body[: max_chars - 2].rsplit(" ", 1)[0].rstrip(",;:")
        e = s + len(body)
        cut = True
    prefix = "… " if lo > 0 else ""
    suffix = " …" if cut or hi < len(sents) - 1 else ""
    return s, e, prefix + body + suffix


def _stem(term: str) -> str:
    """What :func:`coded_excerpt` looks for of a term, lower-case: a phrase of several words whole; a word of up
    to three letters (an acronym: KI, IQ) whole; a longer one without its last two letters (an inflection:
    Schule → Schulen, Wohnung → Wohnungen), but at least its first five."""
    words = term.lower().split()
    if len(words) != 1 or len(words[0]) <= 3:
        return " ".join(words)
    return words[0][:max(5, len(words[0]) - 2)]


@functools.lru_cache(maxsize=1_024)  # a section asks with the same terms for each of its candidates
def _term_patterns(terms: tuple[str, ...]) -> list[re.Pattern[str]]:
    """One pattern per distinct stem of ``terms`` (:func:`_stem`), found at the start of a word, in any case; an
    acronym or phrase only as a whole word."""
    out = []
    for stem in dict.fromkeys(_stem(t) for t in terms if t.strip()):
        end = r"(?!\w)" if len(stem) <= 3 or " " in stem else ""
        out.append(re.compile(r"(?<!\w)" + re.escape(stem) + end, re.IGNORECASE))
    return out


class _Rows:
    """A unit's row as a dict of ``columns`` (``rows[unit_id]``), built when asked for from the unit table's
    columns: a pandas row lookup per candidate cost more than the candidate itself, and a dict per unit built up
    front held about 1 KB per unit (84,000 of them at ×100), every one of them an object a forked worker's
    collector would touch.  Units are found by binary search in their sorted ids (a dict of every unit id held
    16 MB at ×100), and only the columns a quote reads are kept (each text column of the table was another
    array of a pointer per unit)."""

    def __init__(self, units: pd.DataFrame, columns: Sequence[str]) -> None:
        ids = units["unit_id"].to_numpy(dtype=np.int64)
        self._order = np.argsort(ids, kind="stable")
        self._ids = ids[self._order]
        self._columns = [(str(c), _Column(units[c])) for c in dict.fromkeys(columns) if c in units.columns]

    def __getitem__(self, unit_id: int) -> dict[str, Any]:
        at = int(np.searchsorted(self._ids, int(unit_id)))
        if at == len(self._ids) or int(self._ids[at]) != int(unit_id):
            raise KeyError(unit_id)
        i = int(self._order[at])
        return {c: col[i] for c, col in self._columns}


class _Column:
    """A column's values by row, as ``DataFrame.to_dict("records")`` gives them (numpy scalars as Python
    numbers); a categorical column is kept as its codes and categories (its values as an array would be a
    pointer per row)."""

    def __init__(self, values: pd.Series) -> None:
        if isinstance(values.dtype, pd.CategoricalDtype):
            self._codes: np.ndarray | None = values.cat.codes.to_numpy()
            self._values = np.append(values.cat.categories.to_numpy(dtype=object), np.nan)  # code -1: missing
        else:
            self._codes, self._values = None, values.to_numpy()

    def __getitem__(self, i: int) -> Any:
        v = self._values[i if self._codes is None else self._codes[i]]
        return v.item() if isinstance(v, np.generic) else v


@dataclass
class QuotePicker:
    """Chooses, masks, attributes and releases quotes for one report run (see the module docstring).

    ``units`` is :func:`qualkit.units.unit_table` (original text), ``labels`` :func:`qualkit.units.unit_labels`.
    """

    project: Project
    units: pd.DataFrame
    labels: pd.DataFrame
    pseudo: Pseudonymizer
    attribution: Attribution
    guard: Guard
    mode: str = "draft"
    pipe: GermanPipeline | None = None
    min_chars: int = 40
    shown: dict[str, Quote] = field(default_factory=dict)
    chapter: str = ""
    _used_units: set[int] = field(default_factory=set)
    _used_texts: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"unknown report mode {self.mode!r}", hint=f"use one of: {', '.join(MODES)}")
        self.decisions = self.project.store.quote_decisions()
        # the spans of the codings of its units and each unit's codings as sorted arrays, not dicts of tuples (at
        # ×100, 587,000 codings: a tuple and a dict entry each); a picker on a part of the units (a chapter's)
        # reads its own codings' spans only
        from .units import in_list
        cond, params = in_list("id", np.unique(self.labels.coding_id.to_numpy(dtype=np.int64)).tolist())
        spans = self.project.store.integers(f'SELECT id, start, "end" FROM codings WHERE {cond} ORDER BY id', params)
        self._span_ids, self._span_bounds = spans[:, 0], spans[:, 1:]
        place_var = self.project.config["privacy"]["place_variable"]
        self._place_var = place_var if place_var in self.units.columns else None
        self._rows = _Rows(self.units, ("document_id", "case_id", "kind", "start", "end", "text", place_var))
        self._cb = self.project.codebook
        lab = self.labels
        order = np.argsort(lab.unit_id.to_numpy(dtype=np.int64), kind="stable")  # a unit's codings in their order
        self._coded_units = lab.unit_id.to_numpy(dtype=np.int64)[order]
        self._unit_codings = (lab.coding_id.to_numpy(dtype=np.int64)[order], _Column(lab.code.take(order)),
                              _Column(lab.root.take(order)))
        self._desc: dict[str, set[str]] = {}
        self._memo: dict[tuple[Any, ...], Quote | None] = {}

    # -- chapters ----------------------------------------------------------------------------------
    def begin_chapter(self, name: str) -> None:
        """Start a chapter: no unit and no wording is quoted twice within it."""
        self.chapter = name
        self._used_units = set()
        self._used_texts = set()

    def _span(self, unit_id: int, codes: Sequence[str] | None) -> tuple[int, int]:
        """The coded span of a unit (document offsets) for ``codes``: the coding that overlaps most codings of
        the other codes asked for (the RQ × field intersection), else the first."""
        u = self._rows[int(unit_id)]
        us, ue = int(u["start"]), int(u["end"])
        wanted = self._wanted(codes) if codes else None
        spans = []
        coding_ids, code_of, root_of = self._unit_codings
        for at in self._codings_of(unit_id):
            coding_id, code, root = int(coding_ids[at]), str(code_of[at]), str(root_of[at])
            if wanted is not None and code not in wanted:
                continue
            s, e = self._coding_span(coding_id, us, ue)
            s, e = max(s, us), min(e, ue)
            if s < e:
                spans.append((s, e, root if root in (codes or ()) else code))
        if not spans:
            return us, ue

        def overlap(sp: tuple[int, int, str]) -> tuple[int, int]:
            n = sum(1 for o in spans if o[2] != sp[2] and o[0] < sp[1] and sp[0] < o[1])
            return (n, -sp[0])

        best = max(spans, key=overlap)
        return best[0], best[1]

    def _codings_of(self, unit_id: int) -> range:
        """Where the unit's codings stand in :attr:`_unit_codings`."""
        lo, hi = np.searchsorted(self._coded_units, [int(unit_id), int(unit_id) + 1])
        return range(int(lo), int(hi))

    def _wanted(self, codes: Sequence[str]) -> set[str]:
        """``codes`` and every code below them."""
        wanted: set[str] = set()
        for c in codes:
            if c not in self._desc:
                self._desc[c] = set(self._cb.descendants(c)) if c in self._cb.codes else {c}
            wanted |= self._desc[c]
        return wanted

    def _window_terms(self, unit_id: int, codes: Sequence[str]) -> tuple[list[str], list[str]]:
        """The terms a long coded span of ``codes`` is quoted by (:func:`coded_excerpt`), in the dimensions where
        the unit carries codes of more than one top-level code (a turn coded with three fields at once): the
        indicator terms of ``codes`` and the codes below them, and to avoid, those of the unit's other codes
        there and the codes above them.  None elsewhere: a turn of one field (or one research question) is
        quoted from its span's first sentences."""
        cb = self._cb
        carried = {str(self._unit_codings[1][at]) for at in self._codings_of(unit_id)} & set(cb.codes)
        roots_by_dim: dict[str, set[str]] = {}
        for c in carried:
            roots_by_dim.setdefault(cb.codes[c].dimension, set()).add(cb.root(c))
        wanted = {c for c in self._wanted(codes) if c in cb.codes
                  and len(roots_by_dim.get(cb.codes[c].dimension, ())) > 1}
        roots, dims = {cb.root(c) for c in wanted}, {cb.codes[c].dimension for c in wanted}
        others: list[str] = []
        for c in (c for c in cb.codes if c in carried):  # in codebook order
            code: str | None = c
            if cb.codes[c].dimension in dims and cb.root(c) not in roots:
                while code is not None:  # the code and the codes above it
                    others.append(code)
                    code = cb.codes[code].parent
        own = [t for c in cb.codes if c in wanted for t in cb.codes[c].indicators]  # in codebook order
        mine = {_stem(t) for t in own}
        avoid = [t for c in dict.fromkeys(others) for t in cb.codes[c].indicators
                 if t.strip() and _stem(t) not in mine]
        return list(dict.fromkeys(own)), list(dict.fromkeys(avoid))

    def _coding_span(self, coding_id: int, us: int, ue: int) -> tuple[int, int]:
        """A coding's (start, end), or the unit's when the coding is not in the store."""
        i = int(np.searchsorted(self._span_ids, coding_id))
        if i < len(self._span_ids) and int(self._span_ids[i]) == coding_id:
            s, e = self._span_bounds[i].tolist()
            return s, e
        return us, ue

    def candidate(self, unit_id: int, *, codes: Sequence[str] | None = None, max_chars: int = 340,
                  terms: Sequence[str] = ()) -> Quote | None:
        """The quote a unit would give, or None when too short or nothing is left after masking."""
        memo = (int(unit_id), tuple(codes or ()), max_chars, tuple(terms))
        if memo not in self._memo:
            self._memo[memo] = self._candidate(int(unit_id), codes=codes, max_chars=max_chars, terms=terms)
        q = self._memo[memo]
        return None if q is None else replace(q, chapter=self.chapter)

    def _candidate(self, unit_id: int, *, codes: Sequence[str] | None, max_chars: int, terms: Sequence[str]
                   ) -> Quote | None:
        u = self._rows[unit_id]
        us = int(u["start"])
        s, e = self._span(unit_id, codes)
        whole = str(u["text"])
        rs, re_, excerpt = coded_excerpt(whole, s - us, e - us, max_chars=max_chars, terms=terms)
        key = quote_key(str(u["document_id"]), us + rs, us + re_, whole[rs:re_])
        if codes and not terms and key not in self.decisions:
            # a long span is quoted from the sentences that speak of ``codes``; an excerpt the research team
            # already decided on (before this rule, the span's first sentences) keeps its decision and its window
            own, avoid = self._window_terms(unit_id, codes)
            if own or avoid:
                rs, re_, excerpt = coded_excerpt(whole, s - us, e - us, max_chars=max_chars, terms=own, avoid=avoid)
                key = quote_key(str(u["document_id"]), us + rs, us + re_, whole[rs:re_])
        place = u[self._place_var] if self._place_var else None
        text, found = self.guard.clean_quote(self.pseudo.pseudonymise(excerpt), kind=str(u["kind"]), place=place)
        if text is None or len(text) < self.min_chars:
            return None
        label, coarsened = self.attribution.label(str(u["case_id"]))
        return Quote(key=key, unit_id=int(unit_id), document_id=str(u["document_id"]), case_id=str(u["case_id"]),
                     kind=str(u["kind"]), start=us + rs, end=us + re_, text=text, attribution=label,
                     coarsened=coarsened, status=self.decisions.get(key, "pending"),
                     warnings=tuple(f"{f.kind}: {f.text}" for f in found))

    def _usable(self, q: Quote) -> bool:
        return q.status == "approved" or (self.mode == "draft" and q.status == "pending")

    def _take(self, cands: Sequence[Quote], n: int) -> list[Quote]:
        picked: list[Quote] = []
        persons: set[str] = set()
        for q in cands:
            norm = wording(q.text)
            if q.case_id in persons or q.unit_id in self._used_units or norm in self._used_texts:
                continue
            self.shown.setdefault(q.key, q)
            if not self._usable(q):
                continue
            persons.add(q.case_id)
            self._used_units.add(q.unit_id)
            self._used_texts.add(norm)
            picked.append(q)
            if len(picked) == n:
                break
        return picked

    def pick(self, units: pd.DataFrame, n: int, *, codes: Sequence[str] | None = None, max_chars: int = 340
             ) -> list[Quote]:
        """The ``n`` most typical quotes among ``units`` (rule in the module docstring), sought in their
        :meth:`pool`."""
        u = self.pool(units)
        cands = [q for q in (self.candidate(int(i), codes=codes, max_chars=max_chars) for i in u.unit_id)
                 if q is not None]
        if not cands:
            return []
        from sklearn.feature_extraction.text import TfidfVectorizer
        if self.pipe is not None:
            docs = [" ".join(a.terms) for a in self.pipe.analyse([q.text for q in cands])]
        else:
            docs = [q.text.lower() for q in cands]
        try:
            x = TfidfVectorizer(min_df=1, sublinear_tf=True).fit_transform(docs)
            score = np.asarray(x @ np.asarray(x.mean(axis=0)).ravel()).ravel()
        except ValueError:  # no terms at all
            score = np.zeros(len(cands))
        order = sorted(range(len(cands)), key=lambda i: (_masked(cands[i]), -round(float(score[i]), 12),
                                                         cands[i].unit_id))
        return self._take([cands[i] for i in order], n)

    def pool(self, units: pd.DataFrame) -> pd.DataFrame:
        """The units of ``units`` quotes are sought among, by ``unit_id``: the German ones (or those of unknown
        language); of more than :data:`MAX_POOL`, a seeded sample of that many, which always holds every unit of a
        document with a release decision (so a release run still finds its approved quotes)."""
        u = units[units.language.fillna("de").isin(["de", "und"])].sort_values("unit_id")
        if len(u) > MAX_POOL:
            decided = {key.rsplit(":", 2)[0] for key in self.decisions}
            has = u.document_id.isin(decided)
            rest = u[~has]
            take = min(len(rest), max(0, MAX_POOL - int(has.sum())))
            u = pd.concat([u[has], rest.sample(n=take, random_state=self.project.seed)]).sort_values("unit_id")
        return u

    def pick_ordered(self, unit_ids: Sequence[int], n: int, *, codes: Sequence[str] | None = None,
                     terms: Sequence[str] = (), max_chars: int = 360) -> list[Quote]:
        """Up to ``n`` quotes from ``unit_ids`` in their given order (theme quotes), guard-masked ones last."""
        ids = list(unit_ids)[: max(30, 10 * n)]  # the theme's closest members; enough for approved ones
        cands = [q for q in (self.candidate(int(i), codes=codes, terms=terms, max_chars=max_chars)
                             for i in ids) if q is not None]
        cands = sorted(cands, key=_masked)  # stable: the theme's order otherwise
        return self._take(cands, n)

    def context(self, q: Quote) -> str:
        """The whole unit around a quote, pseudonymised and masked like the quote (for the release review)."""
        u = self._rows[q.unit_id]
        place = u[self._place_var] if self._place_var else None
        text, _ = self.guard.clean_quote(self.pseudo.pseudonymise(str(u["text"])), kind=str(u["kind"]), place=place)
        return text or "[…]"

    def summary(self) -> dict[str, int]:
        """How many quotes a run considered, by release status."""
        out = {"approved": 0, "pending": 0, "excluded": 0}
        for q in self.shown.values():
            out[q.status] = out.get(q.status, 0) + 1
        return out

    def table(self) -> pd.DataFrame:
        """Every quote the run considered: ``key, status, chapter, document_id, case_id, attribution, text,
        warnings, context``, in order of appearance."""
        cols = ["key", "status", "chapter", "document_id", "case_id", "attribution", "text", "warnings", "context"]
        rows = [{**{c: asdict(q)[c] for c in cols if c not in ("warnings", "context")},
                 "warnings": "; ".join(q.warnings), "context": self.context(q)} for q in self.shown.values()]
        return pd.DataFrame(rows, columns=cols)


def _masked(q: Quote) -> bool:
    """True if the guard had to mask more than the speaker's own place (which every interview quote may need)."""
    return any(not w.startswith("eigener Ort") for w in q.warnings)


def report_quotes(project: Project, *, mode: str = "draft", only: Sequence[str] | None = None,
                  **settings: Any) -> pd.DataFrame:
    """The quotes a report would use (and the candidates it skipped for their release status), computed as a
    report run computes them.  Columns as :meth:`QuotePicker.table`."""
    from .chapters import ReportData, ReportSettings, chapter_blocks
    from .corpus import ingest
    from .overview import survey_blocks
    from .privacy import pseudonymise_project
    ingest(project)
    pseudonymise_project(project)
    data = ReportData(project, ReportSettings.from_project(project, mode=mode, **settings))
    fields = [f for f in project.codebook.primary.codes if not only or f in only]
    with tempfile.TemporaryDirectory() as tmp:
        if not only:
            survey_blocks(data, Path(tmp))
        for f in fields:
            chapter_blocks(data, f, Path(tmp))
    data.pipe.close()
    return data.quote_picker.table()


def decide(project: Project, key: str, decision: str, *, coder: str | None = None, note: str = "") -> None:
    """Approve (``approved``), exclude (``excluded``) or reset (``pending``) a quote by its key."""
    doc, _, rest = key.partition(":")
    span = rest.split(":")[0]
    start, _, end = span.partition("-")
    if not doc or not start.isdigit() or not end.isdigit():
        raise ConfigError(f"not a quote key: {key!r}", hint="copy the key from `qualkit quotes` (document:start-end:hash)")
    project.store.decide_quote(key, decision, coder=coder or current_coder(), document_id=doc, start=int(start),
                               end=int(end), note=note)
