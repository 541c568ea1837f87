"""The data every chapter shares, computed once per report run: units, which codings count, pseudonymised
texts, attribution, and the tables the chapters show (DataFrames; no German prose, no figures).

:class:`ReportSettings` says what a run counts and how it attributes quotes; :class:`ReportData` holds the
units (with ``ptext``, the pseudonymised and own-place-masked text) and their labels under the project's
counting rule (:func:`qualkit.units.unit_labels`).  Duplicate survey submissions are left out of all counts.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from .blocks import Block
from .findings import FindingsFile, load_findings
from .nlp import GermanPipeline
from .privacy import Attribution, Pseudonymizer, own_place_masker
from .project import Project
from .quotes import QuotePicker, coded_excerpt
from .reidentify import Guard
from .units import (
    MISSING,
    _unit_labels,
    _unit_table,
    case_batches,
    first_submissions,
    in_list,
    quotable,
    submission_keys,
    unit_labels,
    unit_table,
    with_missing,
)

__all__ = ["MISSING", "ReportData", "ReportPart", "ReportSettings", "choice_counts", "choice_variable", "contrasts",
           "counts_by", "duplicate_submissions", "subcode_table"]

# MISSING ("(fehlt)"), the one label of a missing variable value in tables, and the rule that applies it
# (with_missing) are qualkit.units'; the k rule (qualkit.privacy) counts groups by the same label

_KINDS = ("interview", "survey")  # the kinds of units the report reads
BATCH_UNITS = 10_000  # units per batch of ReportData.streamed (whole cases: more where a case has more)


@dataclass
class ReportSettings:
    """What a report counts and how it attributes quotes.

    ``mode``: ``"draft"`` shows draft findings and pending quotes, each visibly marked; ``"release"`` (the run
    for the steering group) shows approved findings and recommendations only.
    """

    origins: tuple[str, ...] = ("manual", "imported", "auto-accepted")
    coders: tuple[str, ...] = ()
    attribution: tuple[str, ...] = ()
    survey_attribution: tuple[str, ...] = ()
    k: int = 3
    min_theme_size: int = 5
    seed: int = 0
    n_quotes: int = 2
    mode: str = "draft"

    @classmethod
    def from_project(cls, project: Project, **overrides: Any) -> ReportSettings:
        cfg = project.config["report"]
        s = cls(origins=tuple(cfg["origins"]), coders=tuple(cfg["coders"]), attribution=tuple(cfg["attribution"]),
                survey_attribution=tuple(cfg.get("survey_attribution", ())), k=int(cfg["k"]),
                min_theme_size=int(cfg["min_theme_size"]), seed=project.seed)
        for k, v in overrides.items():
            if v is not None:
                setattr(s, k, tuple(v) if isinstance(v, list) else v)
        if s.mode not in ("draft", "release"):
            raise ValueError(f"report mode {s.mode!r}: 'draft' or 'release'")
        return s


@dataclass(frozen=True)
class ReportPart:
    """The rows of one output's units (:meth:`ReportData.partition`): counted units, their labels, the
    duplicate submissions among them and where each counted unit stood in the unit table."""

    units: pd.DataFrame
    labels: pd.DataFrame
    duplicates: pd.DataFrame
    counted_rows: np.ndarray


@dataclass
class ReportData:
    """Everything the chapters share, computed once per run."""

    project: Project
    settings: ReportSettings
    units: pd.DataFrame = field(init=False)
    labels: pd.DataFrame = field(init=False)

    @staticmethod
    def read_tables(project: Project, settings: ReportSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The unit table and the counted labels the report data starts from, read from the store (and kept by
        it until the store changes: a report reads them early, while the name search finishes)."""
        return (unit_table(project),
                unit_labels(project, origins=settings.origins, coders=settings.coders or None))

    def __post_init__(self) -> None:
        self._setup()
        with self.project.store.handing_over():  # the store's kept tables become these (not copies, held beside)
            units, labels = self.read_tables(self.project, self.settings)
        part = self._prepared(units, labels)
        del units, labels
        self._take(part)
        self._duplicate_of = dict(zip(part.duplicates.case_id, part.duplicates.duplicate_of.astype(str)))
        self._categories = _Merged.categories_of(part)
        del part
        self._compute_bases()

    @classmethod
    def streamed(cls, project: Project, settings: ReportSettings, visit: Callable[[ReportData], None] | None = None,
                 *, batch: int = BATCH_UNITS) -> ReportData:
        """The report data of a corpus without holding its units: the documents are read in batches of whole
        cases (about ``batch`` units), one batch's units and labels at a time, and every base is summed up
        over the batches (equal to the whole's: persons, answers and duplicate submissions lie within their
        case's batch).  ``visit`` is called with each batch's report data (its units, labels and own bases), for
        what the caller takes from each (the units each output reads, the texts to analyse).

        The result holds no unit (its units are empty); it answers every base, and an output's part is read from
        the store (:meth:`read_part`) and given to :meth:`restricted`."""
        data = cls.__new__(cls)
        data.project, data.settings = project, settings
        data._setup()
        data.findings  # noqa: B018 - read once: every batch's copy shares them (its outputs' units cite them)
        # the duplicate rule compares every respondent's answers: a first pass over the survey's cases, with a
        # digest per respondent
        keys = [submission_keys(_unit_table(project, ("survey",), documents=docs, duplicates={}))
                for docs in case_batches(project, ("survey",), batch)]
        data._duplicate_of = first_submissions(pd.concat(keys)) if keys else {}
        del keys
        merged = _Merged()
        for docs in case_batches(project, _KINDS, batch):
            part = data._read(docs, None)
            one = copy.copy(data)
            one._bases = {}
            one._take(part)
            one._compute_bases(pairs=False)
            merged.add(one, part)
            if visit is not None:
                visit(one)
            del one, part
        data._categories = merged.categories
        data._bases = merged.bases(data)
        data._take(data._read([], data._categories))
        data._part = True  # every base was computed: one not computed would be counted on no unit
        return data

    def _read(self, documents: Sequence[str], categories: dict[str, dict[str, pd.CategoricalDtype]] | None,
              unit_ids: Sequence[int] | None = None) -> ReportPart:
        """The units (of ``unit_ids`` only, if given) and labels of ``documents`` as :meth:`_prepared` makes
        them."""
        s = self.settings
        units = _unit_table(self.project, _KINDS, documents=documents, duplicates=self._duplicate_of)
        labels = _unit_labels(self.project, s.origins, s.coders or None, True, "count", documents=documents)
        if unit_ids is not None:
            units = units[units.unit_id.isin(unit_ids)].reset_index(drop=True)
            labels = labels[labels.unit_id.isin(unit_ids)].reset_index(drop=True)
        return self._prepared(units, labels, categories)

    def read_part(self, unit_ids: Iterable[int]) -> ReportPart:
        """The part of the units ``unit_ids`` read from the store: the rows :meth:`partition` gives of the whole
        report data (with their own index), without the whole: what a worker of a :meth:`streamed` run reads
        for its output."""
        ids = sorted({int(i) for i in unit_ids})
        cond, params = in_list("id", ids)
        docs = [str(r[0]) for r in self.project.store.query(
            f"SELECT DISTINCT document_id FROM units WHERE {cond} ORDER BY 1", params)]
        return self._read(docs, self._categories, ids)

    def _setup(self) -> None:
        """What the report data holds besides the units: codebook, case variables, pseudonymiser, the k rule's
        attribution and the re-identification guard."""
        p = self.project
        self.pseudo = Pseudonymizer.for_project(p)
        self._units_with: dict[tuple[tuple[str, ...], tuple[str, ...]], pd.DataFrame] = {}
        self._bases: dict[tuple[str, ...], Any] = {}
        self.pipe = GermanPipeline(cache_dir=p.cache_dir)
        self.cb = p.codebook
        self.primary = list(self.cb.primary.codes)
        cv = p.store.case_variables()
        self.cases = cv.set_index("case_id") if not cv.empty else cv
        s = self.settings
        # the one k rule (qualkit.privacy.Attribution) and the re-identification guard, for every quote and table
        self.attributor = Attribution(p, interview=s.attribution, survey=s.survey_attribution, k=s.k)
        self.groups = {kind: (self.attributor.variables[kind], self.attributor.groups(kind)
                              if self.attributor.variables[kind] else None) for kind in ("interview", "respondent")}
        self.guard = Guard(p, attribution=s.attribution)

    def _prepared(self, units: pd.DataFrame, labels: pd.DataFrame,
                  categories: dict[str, dict[str, pd.CategoricalDtype]] | None = None) -> ReportPart:
        """The rows of a unit table (:func:`qualkit.units.unit_table`, whole or of some documents) and its labels
        as the report holds them: duplicate submissions apart, the counted units with ``ptext``.  With
        ``categories`` (by table and column) the columns of repeated strings take the whole table's categories,
        as the rows of the whole table have them."""
        # every column of repeated strings as categories, before any selection: an integer code per row instead
        # of a pointer (case variables, kinds, codes, coders held 47 of the report data's 200 MB at ×100 as
        # pointers); and the selections share one set of texts, so selecting a chapter's units copies integer
        # codes instead of writing the reference count of each of their texts (which in a forked worker copies
        # the page each text lies on, and a chapter's texts are scattered over nearly every page of the
        # client's texts)
        _as_categories(units, keep=_ID_COLUMNS, like=None if categories is None else categories["units"])
        _as_categories(labels, keep=_ID_COLUMNS, like=None if categories is None else categories["labels"])
        # a duplicate submission (the same answers under a second respondent id) is counted once; the unit
        # table with them (all_units) is not kept whole beside the counted units, only where each row was
        counted = units.duplicate_of.isna().to_numpy()
        duplicates = units[~counted]
        counted_rows = np.flatnonzero(counted)
        units = units[counted].reset_index(drop=True)
        if categories is not None:  # a part's counted units and its duplicate submissions each hold their own texts
            units, duplicates = _own_texts(units), _own_texts(duplicates)
        if "person_id" not in units.columns:
            units["person_id"] = units.case_id
        units["ptext"] = self._masked(units, _each_distinct(units.text, self.pseudo.pseudonymise))
        return ReportPart(units=units, labels=labels, duplicates=duplicates, counted_rows=counted_rows)

    def _take(self, part: ReportPart) -> None:
        """Hold ``part``'s units and labels, with a quote picker on them."""
        self.units, self.labels, self.duplicates, self._counted_rows = (part.units, part.labels, part.duplicates,
                                                                        part.counted_rows)
        self._units_with = {}
        self.quote_picker = QuotePicker(self.project, part.units, part.labels, self.pseudo, self.attributor,
                                        self.guard, mode=self.settings.mode, pipe=self.pipe)

    def _compute_bases(self, *, pairs: bool = True) -> None:
        """The bases every output shares, computed once: an output then selects no more than its own units
        (a forked worker that selected all units of a kind would copy the pages of every one of them)."""
        for kind in ("interview", "survey"):
            self.total(kind)
            self.unit_count(kind)
            for var in self.compared_variables(kind):
                self.persons_by(kind, var)
                self.base_counts(kind, var)
        self.coded_codes("survey")
        for code in self.primary:
            self.mentions(code)
        if pairs:
            self.primary_pairs  # noqa: B018 - computed here, with every label
        self.forget_selections()
        duplicate_submissions(self)

    def _masked(self, units: pd.DataFrame, ptext: pd.Series) -> pd.Series:
        """``ptext`` (the pseudonymised texts of ``units``) with, in the configured sources (default:
        interviews), neither the speaker's own Kommune nor its districts: with the attribution by
        Funktionsgruppe, "bei uns in <Ort>" would identify the person."""
        var = self.project.config["privacy"]["place_variable"]
        if self.cases.empty or var not in self.cases.columns:
            return ptext
        mask = own_place_masker(self.project, self.settings.attribution)
        own = self.cases[var]
        texts = ptext.cat.categories.tolist()
        done: dict[tuple[int, str, Any], str] = {}  # a text is masked once per kind and place
        masked: list[Any] = []
        for code, case_id, kind in zip(ptext.cat.codes.tolist(), units.case_id, units.kind, strict=True):
            if code < 0:  # a missing text stays missing
                masked.append(np.nan)
                continue
            place = own.get(case_id)
            key = (code, kind, place)
            if key not in done:
                done[key] = mask(texts[code], kind, place)
            masked.append(done[key])
        return pd.Series(masked, index=units.index, dtype="category")

    @property
    def all_units(self) -> pd.DataFrame:
        """The unit table with the duplicate submissions (the counted units without ``ptext``, and
        :attr:`duplicates`), in its order: built when asked for (the report asks for it in the overview only,
        for intercoder agreement)."""
        counted = self.units[list(self.duplicates.columns)].set_axis(self._counted_rows)
        return pd.concat([counted, self.duplicates]).sort_index().reset_index(drop=True)

    def coded_units(self, code: str) -> pd.DataFrame:
        """The units coded with ``code`` or a code below it, duplicate submissions included (what a code's themes
        are found in; :func:`qualkit.themes.find_themes` takes them as its ``units``)."""
        lab = self.labels
        ids = set(lab.unit_id[lab.code.isin(self.cb.descendants(code))])  # find_themes' own selection
        return pd.concat([self.units.loc[self.units.unit_id.isin(ids), list(self.duplicates.columns)],
                          self.duplicates[self.duplicates.unit_id.isin(ids)]], ignore_index=True)

    def attribution(self, case_id: str) -> tuple[str, bool]:
        """(label, coarsened) for a quote by ``case_id``; see :class:`qualkit.privacy.Attribution`."""
        return self.attributor.label(case_id)

    def begin_chapter(self, name: str) -> None:
        """No unit is quoted twice within a chapter; see :meth:`qualkit.quotes.QuotePicker.begin_chapter`."""
        self.quote_picker.begin_chapter(name)

    def units_with(self, codes: Sequence[str], *, kinds: Sequence[str] = ("interview", "survey")) -> pd.DataFrame:
        """The counted units coded with any of ``codes`` (or their subcodes), of the given kinds (a copy: the
        chapters ask for the same codes many times, so the selection is kept)."""
        key = (tuple(codes), tuple(kinds))
        if key not in self._units_with:
            ids = set(self.labels.unit_id[self.labels.code.isin(codes) | self.labels.root.isin(codes)])
            self._units_with[key] = self.units[self.units.unit_id.isin(ids) & self.units.kind.isin(kinds)]
        return self._units_with[key].copy()

    def forget_selections(self) -> None:
        """Drop the selections :meth:`units_with` kept for one output (the next output asks for other codes)."""
        self._units_with.clear()

    def _kept(self, key: tuple[str, ...], compute: Any) -> Any:
        if key not in self._bases:
            if self._part:  # a part of the units would give a part's base, silently wrong
                raise RuntimeError(f"report data {key!r} was not computed before the units were partitioned: "
                                   "compute it in ReportData.__post_init__")
            self._bases[key] = compute()
        return self._bases[key]

    # -- partitions -------------------------------------------------------------------------------------------
    _part = False  # True in report data restricted to an output's part (restricted)

    def partition(self, unit_ids: Iterable[int]) -> ReportPart:
        """The rows of the units ``unit_ids`` (counted or duplicate submissions) and their labels: what one output
        reads (an output names its units in :func:`qualkit.reports._units_for`).  Rows keep their order and
        index; the texts keep only their own categories, so a part holds only its own texts."""
        ids = set(int(i) for i in unit_ids)
        mine = self.units.unit_id.isin(ids).to_numpy()
        return ReportPart(units=_own_texts(self.units[mine]),
                          labels=self.labels[self.labels.unit_id.isin(ids)].copy(),
                          duplicates=_own_texts(self.duplicates[self.duplicates.unit_id.isin(ids)]),
                          counted_rows=self._counted_rows[mine])

    def shared_state(self) -> dict[str, Any]:
        """Everything but the units and what is built from them (:data:`_PER_UNIT`): what every output of a
        run shares, whichever part of the units it reads."""
        return {k: v for k, v in self.__dict__.items() if k not in _PER_UNIT}

    def restricted(self, part: ReportPart) -> ReportData:
        """This report data holding only ``part``'s units and labels (:meth:`partition`), for one output: the
        bases and everything else shared stay (a base not computed before raises instead of counting the part);
        the quote picker is built anew on the part's units."""
        data = copy.copy(self)
        data.units, data.labels, data.duplicates, data._counted_rows = (part.units, part.labels, part.duplicates,
                                                                        part.counted_rows)
        data._units_with = {}
        data._part = True
        data.quote_picker = QuotePicker(self.project, part.units, part.labels, self.pseudo, self.attributor,
                                        self.guard, mode=self.settings.mode, pipe=self.pipe)
        return data

    def _of_kind(self, kind: str, *columns: str) -> pd.DataFrame:
        """``columns`` of the counted units of ``kind`` (only those: the rest of each row is not copied)."""
        return self.units.loc[self.units.kind == kind, list(columns)]

    def compared_variables(self, kind: str) -> list[str]:
        """The variables persons of ``kind`` are compared by (contrasts): the attribution variables of the
        interviews or of the survey, then the place variable."""
        s = self.settings
        return list(dict.fromkeys([*(s.attribution if kind == "interview" else s.survey_attribution),
                                   self.place_variable]))

    def persons_by(self, kind: str, variable: str) -> pd.Series | None:
        """Each person with a counted unit of ``kind``: the value of ``variable`` (:data:`MISSING` for none),
        indexed by ``person_id``; None if the units have no such variable (computed once per run)."""
        def compute() -> pd.Series | None:
            if variable not in self.units.columns:
                return None
            base = self._of_kind(kind, "person_id", variable)
            return None if base.empty else with_missing(base.groupby("person_id")[variable].first())
        return self._kept(("persons_by", kind, variable), compute)

    def base_counts(self, kind: str, variable: str) -> pd.Series | None:
        """Persons with a counted unit of ``kind`` per value of ``variable`` (:data:`MISSING` for none), sorted by
        value: the base of every share by group; None if the units have no such variable (computed once)."""
        def compute() -> pd.Series | None:
            if variable not in self.units.columns:
                return None
            base = self._of_kind(kind, "person_id", variable)
            return base.groupby(with_missing(base[variable])).person_id.nunique()
        return self._kept(("base_counts", kind, variable), compute)

    def unit_count(self, kind: str) -> int:
        """Counted units of ``kind`` (statements, answers; computed once per run)."""
        return int(self._kept(("unit_count", kind), lambda: int((self.units.kind == kind).sum())))

    def mentions(self, code: str) -> tuple[int, int, int, int]:
        """Of the counted units coded with ``code`` or a code below it: ``(interview persons, statements,
        respondents, answers)`` (computed once per run for the primary dimension's codes)."""
        def compute() -> tuple[int, int, int, int]:
            u = self.units_with([code])
            return (self.persons(u, "interview"), int((u.kind == "interview").sum()), self.persons(u, "survey"),
                    int((u.kind == "survey").sum()))
        return tuple(self._kept(("mentions", code), compute))

    def coded_codes(self, kind: str) -> frozenset[str]:
        """The codes that count in at least one unit of ``kind`` (computed once per run)."""
        return self._kept(("coded_codes", kind), lambda: frozenset(
            self.labels.code[self.labels.unit_id.isin(set(self._of_kind(kind, "unit_id").unit_id))]))

    def quotes(self, units: pd.DataFrame, n: int, *, max_chars: int = 340, codes: Sequence[str] | None = None,
               within: pd.DataFrame | None = None) -> list[Block]:
        """The n most typical quotes among ``units`` as quote blocks: the coded span of ``codes`` (default: any
        counted coding), masked, attributed and released as :mod:`qualkit.quotes` describes.  ``units`` being a
        part of ``within`` (a field's units by target group), they are sought among those of the pool of
        ``within`` (:meth:`~qualkit.quotes.QuotePicker.pool`): a field's quotes by group then cost no more than
        its own, however large the corpus."""
        units = quotable(units)
        if within is not None:
            units = units[units.unit_id.isin(self.quote_picker.pool(quotable(within)).unit_id)]
        return [q.block() for q in self.quote_picker.pick(units, n, codes=codes, max_chars=max_chars)]

    def theme_quotes(self, members: Sequence[Any], terms: Sequence[str], n: int = 3, *, code: str | None = None,
                     more: Sequence[int] = ()) -> list[Block]:
        """Up to n quotes of a theme: its most typical ``members`` (unit rows) first, then the units ``more``
        (so a release run finds approved ones further down); see :meth:`QuotePicker.pick_ordered`."""
        ids = list(dict.fromkeys([*(int(m.name) for m in members), *(int(i) for i in more)]))
        return [q.block() for q in self.quote_picker.pick_ordered(ids, n, codes=[code] if code else None,
                                                                  terms=list(terms))]

    @property
    def primary_pairs(self) -> pd.DataFrame:
        """Co-occurrence of the primary dimension's codes in units (:func:`qualkit.analysis.cooccurrence`;
        computed once per run)."""
        from .analysis import cooccurrence
        s = self.settings
        return self._kept(("primary_pairs",), lambda: cooccurrence(
            self.project, dimension=self.cb.primary.key, origins=s.origins, coders=s.coders or None,
            labels=self.labels))

    @cached_property
    def findings(self) -> dict[str, FindingsFile]:
        """The researchers' findings files by code (read and checked once per run)."""
        return {ff.code: ff for ff in load_findings(self.project)}

    def persons(self, units: pd.DataFrame, kind: str) -> int:
        """Distinct persons (interviewees, group-discussion participants, respondents) among ``units``."""
        return int(units[units.kind == kind].person_id.nunique())

    def total(self, kind: str) -> int:
        """Persons with at least one counted unit of ``kind`` (the base of every share; computed once)."""
        return int(self._kept(("total", kind), lambda: self.persons(self.units, kind)))

    @property
    def place_variable(self) -> str:
        return str(self.project.config["privacy"]["place_variable"])

    def plural(self, word: str) -> str:
        from .prose import plural_of
        return plural_of(word, self.project.config["report"].get("plurals"))

    def span_quote(self, document_id: str, start: int, end: int, *, max_chars: int = 420) -> tuple[str, str] | None:
        """(excerpt, person_id) of the span extended to sentence boundaries inside its unit ("…" where cut),
        pseudonymised and masked by the re-identification guard like every quote; None if no counted unit holds
        it or nothing is left after masking."""
        u = self.units[(self.units.document_id == document_id) & (self.units.start < end) & (self.units.end > start)]
        if u.empty:
            return None
        r = u.iloc[0]
        _s, _e, excerpt = coded_excerpt(str(r.text), start - int(r.start), end - int(r.start), max_chars=max_chars)
        place = self.cases[self.place_variable].get(r.case_id) if self.place_variable in self.cases.columns else None
        text, _found = self.guard.clean_quote(self.pseudo.pseudonymise(excerpt), kind=str(r.kind), place=place)
        return None if text is None else (text, str(r.person_id))  # the participant, in a group discussion


# what holds or is built from the units (ReportData.partition / restricted give an output its own of each)
_PER_UNIT = ("units", "labels", "duplicates", "_counted_rows", "quote_picker", "_units_with")


def _own_texts(rows: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``rows`` whose text columns keep only the categories (texts) the rows use."""
    rows = rows.copy()
    for c in _TEXT_COLUMNS:
        if c in rows.columns:
            rows[c] = rows[c].cat.remove_unused_categories()
    return rows


# the columns of ids that stay strings: nearly one distinct value per row, where a category saves nothing;
# ``language`` stays a string because it is filled with a value it may not hold ("de" for an unknown one)
_ID_COLUMNS = ("document_id", "case_id", "person_id", "language")
_TEXT_COLUMNS = ("text", "ptext")  # categories of their own in each part: a part holds its own texts only


def _as_categories(df: pd.DataFrame, *, keep: Sequence[str], like: dict[str, pd.CategoricalDtype] | None = None
                   ) -> None:
    """Turn every string column of ``df`` but ``keep`` into a categorical one, in place, a column at a time; with
    ``like``, the columns it names into its types (the whole table's categories) and no other (the texts keep
    their own: :func:`_own_texts`)."""
    for c in df.columns:
        dtype = df[c].dtype
        if like is not None:
            if c in like:
                df[c] = df[c].astype(like[c])
            elif c in _TEXT_COLUMNS:
                df[c] = df[c].astype("category")
        elif c not in keep and pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
            df[c] = df[c].astype("category")


def _each_distinct(texts: pd.Series, fn: Any) -> pd.Series:
    """``fn`` of each text of a categorical column, as a categorical column: ``fn`` runs once per distinct text,
    and equal results are one string (a corpus repeats many texts: the same answer, a copied survey)."""
    cats = texts.cat.categories.tolist()
    done = np.asarray([fn(t) for t in cats] + [np.nan], dtype=object)  # code -1 (a missing text) stays missing
    return pd.Series(done[texts.cat.codes.to_numpy()], index=texts.index).astype("category")


class _Merged:
    """The bases of :meth:`ReportData.streamed`, summed up over its batches, and the categories of the whole
    table's columns of repeated strings (the union of the batches')."""

    def __init__(self) -> None:
        self.parts: dict[tuple[str, ...], list[Any]] = {}
        self.categories: dict[str, dict[str, pd.CategoricalDtype]] = {"units": {}, "labels": {}}
        self.n: Counter[str] = Counter()
        self.both: Counter[tuple[str, str]] = Counter()

    @staticmethod
    def categories_of(part: ReportPart) -> dict[str, dict[str, pd.CategoricalDtype]]:
        """The types of ``part``'s categorical columns but the texts (which each part keeps its own of)."""
        out: dict[str, dict[str, pd.CategoricalDtype]] = {"units": {}, "labels": {}}
        for table, frames in (("units", (part.units, part.duplicates)), ("labels", (part.labels,))):
            for frame in frames:
                if frame.empty:  # no row, no category (and an empty frame's columns have no types of their own)
                    continue
                for c in frame.columns:
                    dtype = frame[c].dtype
                    if isinstance(dtype, pd.CategoricalDtype) and c not in _TEXT_COLUMNS:
                        out[table][c] = _union(out[table].get(c), dtype)
        return out

    def add(self, one: ReportData, part: ReportPart) -> None:
        from .analysis import cooccurrence_counts
        for key, value in one._bases.items():
            self.parts.setdefault(key, []).append(value)
        for table, types in self.categories_of(part).items():
            for c, dtype in types.items():
                self.categories[table][c] = _union(self.categories[table].get(c), dtype)
        n, both = cooccurrence_counts(one.project, one.labels, dimension=one.cb.primary.key)
        self.n.update(n)
        self.both.update(both)

    def bases(self, data: ReportData) -> dict[tuple[str, ...], Any]:
        from .analysis import pairs_from_counts
        out: dict[tuple[str, ...], Any] = {}
        for key, values in self.parts.items():
            what = key[0]
            if what in ("total", "unit_count"):
                out[key] = sum(values)
            elif what == "mentions":
                out[key] = tuple(int(sum(v[i] for v in values)) for i in range(4))
            elif what == "coded_codes":
                out[key] = frozenset().union(*values)
            elif what == "persons_by":
                series = [v for v in values if v is not None]
                out[key] = _concat(series).sort_index(kind="stable") if series else None
            elif what == "base_counts":
                series = [v for v in values if v is not None]
                out[key] = _concat(series).groupby(level=0).sum() if series else None
            elif what == "duplicate_submissions":
                frames = [v for v in values if len(v)]
                out[key] = values[0] if not frames else pd.concat(frames, ignore_index=True).sort_values(
                    "case_id", kind="stable").reset_index(drop=True).astype(
                    {"duplicate_of": self.categories["units"]["duplicate_of"]})
            else:
                raise RuntimeError(f"report data {key!r}: no rule to add it up over batches (ReportData.streamed)")
        out[("primary_pairs",)] = pairs_from_counts(data.project, self.n, self.both)
        return out


def _union(old: pd.CategoricalDtype | None, new: pd.CategoricalDtype) -> pd.CategoricalDtype:
    """The categories of ``old`` and ``new`` together, sorted as a column's own are; an empty side (a column of
    no value, whose categories have no type of their own) adds nothing."""
    if old is None or not len(old.categories):
        return new
    if not len(new.categories):
        return old
    return pd.CategoricalDtype(old.categories.union(new.categories))


def _concat(series: list[pd.Series]) -> pd.Series:
    """``series`` one after another, of the type of those that are not plain objects (a batch without a value
    has a column of objects where the whole table has strings)."""
    out = pd.concat(series)
    typed = [s for s in series if s.dtype != object]
    if typed and out.dtype == object:
        out = out.astype(typed[0].dtype)
    typed_index = [s.index for s in series if s.index.dtype != object]
    if typed_index and out.index.dtype == object:
        out.index = out.index.astype(typed_index[0].dtype)
    return out


def counts_by(data: ReportData, units: pd.DataFrame, kind: str, variable: str) -> pd.DataFrame:
    """Persons with a counted unit among ``units`` per value of ``variable``, with the base.

    Columns: ``<variable>, n, total`` (persons with a mention, persons of that value in all)."""
    total = data.base_counts(kind, variable)
    if total is None:
        return pd.DataFrame()
    hit = units[units.kind == kind]
    got = hit.groupby(with_missing(hit[variable])).person_id.nunique()
    df = pd.DataFrame({"n": got, "total": total}).fillna(0).astype(int)
    return df.rename_axis(variable).reset_index().sort_values(variable, kind="stable").reset_index(drop=True)


def subcode_table(data: ReportData, code: str) -> pd.DataFrame:
    """The subcodes of ``code``: ``subcode, interview_persons, statements, respondents, answers, asked``.

    ``asked`` is False where the subcode was never coded in any survey answer while the survey has coded
    answers: then "0 respondents" is an artefact of the questionnaire, not a finding."""
    survey_codes = data.coded_codes("survey")
    rows = []
    for sub in data.cb.children(code):
        su = data.units_with([sub.name])
        rows.append((sub.name, data.persons(su, "interview"), int((su.kind == "interview").sum()),
                     data.persons(su, "survey"), int((su.kind == "survey").sum()),
                     not survey_codes or bool({sub.name, *data.cb.descendants(sub.name)} & survey_codes)))
    return pd.DataFrame(rows, columns=["subcode", "interview_persons", "statements", "respondents", "answers",
                                       "asked"])


def contrasts(data: ReportData, codes: Sequence[str], kind: str, variable: str, *, min_base: int = 3,
              min_gap: float = 0.25, max_p: float = 0.1) -> pd.DataFrame:
    """Where ``codes`` are raised much more or less often in one group than in all others.

    For every value of ``variable`` with at least ``min_base`` persons: persons mentioning (``n``) of all
    persons of that value (``total``), the same for everyone else (``rest_n``, ``rest_total``), the gap in
    shares and Fisher's exact test (two-sided).  Kept where the gap is at least ``min_gap`` and p < ``max_p``;
    ``direction`` is ``more`` or ``less``.  Sorted by p, then the size of the gap."""
    from scipy.stats import fisher_exact
    cols = ["code", "variable", "value", "n", "total", "rest_n", "rest_total", "gap", "p", "direction"]
    persons = data.persons_by(kind, variable)
    if persons is None:
        return pd.DataFrame(columns=cols)
    groups = [(value, persons.index.isin(list(in_group))) for value, in_group in persons.groupby(persons).groups.items()]
    rows = []
    for code in codes:
        hit = set(data.units_with([code], kinds=(kind,)).person_id)
        mentioned = persons.index.isin(list(hit))
        for value, g in groups:
            n, k = int(g.sum()), int((g & mentioned).sum())
            rn, rk = int((~g).sum()), int((~g & mentioned).sum())
            if n < min_base or rn < min_base or value == MISSING:
                continue
            gap = k / n - rk / rn
            if abs(gap) < min_gap:
                continue
            p = float(fisher_exact([[k, n - k], [rk, rn - rk]])[1])
            if p < max_p:
                rows.append((code, variable, value, k, n, rk, rn, gap, p, "more" if gap > 0 else "less"))
    out = pd.DataFrame(rows, columns=cols)
    if out.empty:
        return out
    out["abs_gap"] = out.gap.abs()
    return out.sort_values(["p", "abs_gap", "code", "value"], ascending=[True, False, True, True],
                           kind="stable").drop(columns="abs_gap").reset_index(drop=True)


def choice_variable(data: ReportData) -> str | None:
    """A closed survey item whose answers name codes of the primary dimension (such as "the most important
    field"), or None: the variable of respondents whose non-missing values are mostly (≥ 80 %) code names."""
    rs = data.cases[data.cases.case_kind == "respondent"] if not data.cases.empty else data.cases
    names = set(data.primary)
    for var in rs.columns:
        if var == "case_kind":
            continue
        vals = rs[var].dropna().astype(str)
        vals = vals[vals.str.strip() != ""]
        if len(vals) >= 5 and vals.isin(names).mean() >= 0.8:
            return str(var)
    return None


def choice_counts(data: ReportData, variable: str) -> pd.Series:
    """Respondents per answer of a closed item (the base: respondents who answered it, duplicate submissions
    left out), largest first."""
    rs = data.cases[data.cases.case_kind == "respondent"][variable]
    rs = rs[~rs.index.isin(list(duplicate_submissions(data).case_id))].dropna().astype(str).str.strip()
    rs = rs[(rs != "") & (rs != MISSING)]
    return rs.value_counts().sort_index().sort_values(ascending=False, kind="stable")


def duplicate_submissions(data: ReportData) -> pd.DataFrame:
    """Respondents left out as duplicate submissions: ``case_id, duplicate_of, answers`` (computed once)."""
    def compute() -> pd.DataFrame:
        d = data.duplicates
        if d.empty:
            return pd.DataFrame(columns=["case_id", "duplicate_of", "answers"])
        return (d.groupby(["case_id", "duplicate_of"]).unit_id.count().rename("answers").reset_index()
                .sort_values("case_id", kind="stable").reset_index(drop=True))
    return data._kept(("duplicate_submissions",), compute).copy()
