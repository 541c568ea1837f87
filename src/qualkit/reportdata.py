"""The data every chapter shares, computed once per report run: units, which codings count, pseudonymised
texts, attribution, and the tables the chapters show (DataFrames; no German prose, no figures).

:class:`ReportSettings` says what a run counts and how it attributes quotes; :class:`ReportData` holds the
units (with ``ptext``, the pseudonymised and own-place-masked text) and their labels under the project's
counting rule (:func:`qualkit.units.unit_labels`).  Duplicate survey submissions are left out of all counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from .blocks import Block
from .findings import FindingsFile, load_findings
from .nlp import GermanPipeline
from .privacy import Pseudonymizer, attribution_groups, own_place_masker, self_disclosure
from .project import Project
from .themes import representative_excerpt
from .units import unit_labels, unit_table

__all__ = ["MISSING", "ReportData", "ReportSettings", "choice_counts", "choice_variable", "contrasts", "counts_by",
           "duplicate_submissions", "subcode_table"]

MISSING = "(fehlt)"  # the one label of a missing variable value in tables


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


@dataclass
class ReportData:
    """Everything the chapters share, computed once per run."""

    project: Project
    settings: ReportSettings
    units: pd.DataFrame = field(init=False)
    labels: pd.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        p = self.project
        self.pseudo = Pseudonymizer.for_project(p)
        self.pipe = GermanPipeline(cache_dir=p.cache_dir)
        units = unit_table(p)
        # a duplicate submission (the same answers under a second respondent id) is counted once
        self.duplicates = units[units.duplicate_of.notna()]
        self.units = units[units.duplicate_of.isna()].reset_index(drop=True)
        if "person_id" not in self.units.columns:
            self.units["person_id"] = self.units.case_id
        self.units["ptext"] = [self.pseudo.pseudonymise(t) for t in self.units.text]
        self.labels = unit_labels(p, origins=self.settings.origins, coders=self.settings.coders or None)
        self.cb = p.codebook
        self.primary = list(self.cb.primary.codes)
        self._attr_cache: dict[str, tuple[str, bool]] = {}
        cv = p.store.case_variables()
        self.cases = cv.set_index("case_id") if not cv.empty else cv
        self.groups = {
            "interview": self._groups("interview", self.settings.attribution),
            "respondent": self._groups("respondent", self.settings.survey_attribution),
        }
        self._mask_own_places()

    def _mask_own_places(self) -> None:
        """In the configured sources (default: interviews) a quote names neither the speaker's own Kommune nor
        its districts: with the attribution by Funktionsgruppe, "bei uns in <Ort>" would identify the person."""
        var = self.project.config["privacy"]["place_variable"]
        if self.cases.empty or var not in self.cases.columns:
            return
        mask = own_place_masker(self.project, self.settings.attribution)
        own = self.cases[var]
        self.units["ptext"] = [mask(text, kind, own.get(case_id)) for case_id, kind, text in
                               zip(self.units.case_id, self.units.kind, self.units.ptext, strict=True)]

    def _groups(self, kind: str, variables: Sequence[str]) -> tuple[list[str], pd.DataFrame | None]:
        cols = [v for v in variables if not self.cases.empty and v in self.cases.columns]
        if not cols:
            return [], None
        return cols, attribution_groups(self.project, cols, k=self.settings.k, kind=kind)

    def attribution(self, case_id: str) -> tuple[str, bool]:
        """(label, coarsened) for a quote by ``case_id``; see :func:`qualkit.privacy.attribute`."""
        if case_id in self._attr_cache:
            return self._attr_cache[case_id]
        row = self.cases.loc[case_id]
        kind = "interview" if row.case_kind == "interview" else "respondent"
        source = "Interview" if kind == "interview" else "Umfrage"
        cols, groups = self.groups[kind]
        out: tuple[str, bool] = (source, False)
        if groups is not None:
            sel = groups
            for v in cols:
                sel = sel[sel[v] == (row[v] if pd.notna(row[v]) else "(fehlt)")]
            if sel.empty or bool(sel.too_small.iloc[0]):
                out = (source, True)
            else:
                out = (f"{source}, {', '.join(str(row[v]) for v in cols)}", False)
        self._attr_cache[case_id] = out
        return out

    def units_with(self, codes: Sequence[str], *, kinds: Sequence[str] = ("interview", "survey")) -> pd.DataFrame:
        ids = set(self.labels[self.labels.code.isin(codes) | self.labels.root.isin(codes)].unit_id)
        u = self.units[self.units.unit_id.isin(ids) & self.units.kind.isin(kinds)]
        return u

    def quotes(self, units: pd.DataFrame, n: int, *, max_chars: int = 340) -> list[Block]:
        """The n most representative German units (closest to the TF-IDF centroid), as quote blocks."""
        u = units[units.language.fillna("de").isin(["de", "und"]) & (units.ptext.str.len() >= 40)]
        if "quotable" in u.columns:  # the [survey] unfinished rule may keep unfinished cases from being quoted
            u = u[u.quotable.astype(bool)]
        if u.empty:
            return []
        u = u.sort_values("unit_id")
        analyses = self.pipe.analyse(list(u.ptext))
        from sklearn.feature_extraction.text import TfidfVectorizer
        docs = [" ".join(a.terms) for a in analyses]
        try:
            x = TfidfVectorizer(min_df=1, sublinear_tf=True).fit_transform(docs)
        except ValueError:
            return []
        centroid = np.asarray(x.mean(axis=0)).ravel()
        sims = x @ centroid
        lengths = u.ptext.str.len().to_numpy()
        score = np.asarray(sims).ravel() * np.where(lengths > 900, 0.7, 1.0)
        # a speaker describing their own position ("ich leite die Kita in …") is quoted last
        disclosing = np.array([self_disclosure(t) for t in u.ptext])
        order = np.lexsort((u.unit_id.to_numpy(), -score, disclosing))
        picked: list[Block] = []
        seen_cases: set[str] = set()
        seen_texts: set[str] = set()  # the same answer submitted twice is quoted once
        terms = next(t for t, _ in sorted(zip(docs, score), key=lambda x: -x[1])[:1]).split()[:8] if docs else []
        for i in order:
            r = u.iloc[i]
            key = " ".join(r.ptext.lower().split())
            if r.case_id in seen_cases or key in seen_texts:
                continue
            seen_cases.add(r.case_id)
            seen_texts.add(key)
            label, flagged = self.attribution(r.person_id if "person_id" in u.columns else r.case_id)
            picked.append(Block("quote", text=representative_excerpt(r.ptext, terms, max_chars=max_chars),
                                attribution=label, flagged=flagged))
            if len(picked) == n:
                break
        return picked

    def theme_quotes(self, members: Sequence[Any], terms: Sequence[str], n: int = 3) -> list[Block]:
        """Quotes of a theme's most typical members, self-descriptions of the speaker last."""
        out = []
        for row in sorted(members, key=lambda m: self_disclosure(m.ptext))[:n]:
            label, flagged = self.attribution(row.person_id)
            out.append(Block("quote", text=representative_excerpt(row.ptext, terms), attribution=label,
                             flagged=flagged))
        return out

    @cached_property
    def findings(self) -> dict[str, FindingsFile]:
        """The researchers' findings files by code (read and checked once per run)."""
        return {ff.code: ff for ff in load_findings(self.project)}

    def persons(self, units: pd.DataFrame, kind: str) -> int:
        """Distinct persons (interviewees, group-discussion participants, respondents) among ``units``."""
        return int(units[units.kind == kind].person_id.nunique())

    def total(self, kind: str) -> int:
        """Persons with at least one counted unit of ``kind`` (the base of every share)."""
        return self.persons(self.units, kind)

    @property
    def place_variable(self) -> str:
        return str(self.project.config["privacy"]["place_variable"])

    def plural(self, word: str) -> str:
        from .prose import plural_of
        return plural_of(word, self.project.config["report"].get("plurals"))

    def span_quote(self, document_id: str, start: int, end: int, *, max_chars: int = 420) -> tuple[str, str] | None:
        """(excerpt, person_id) of the span extended to sentence boundaries inside its unit ("…" where cut),
        pseudonymised and own-place-masked like every quote; None if no counted unit holds it."""
        u = self.units[(self.units.document_id == document_id) & (self.units.start < end) & (self.units.end > start)]
        if u.empty:
            return None
        r = u.iloc[0]
        text = str(r.text)
        a, b = max(0, start - int(r.start)), min(len(text), end - int(r.start))
        while a > 0 and text[a - 1] not in ".!?\n":
            a -= 1
        while b < len(text) and text[b - 1] not in ".!?":
            b += 1
        excerpt = text[a:b].strip()
        if len(excerpt) > max_chars:
            excerpt = excerpt[: max_chars - 1].rsplit(" ", 1)[0] + " …"
        excerpt = ("… " if a > 0 else "") + excerpt + (" …" if b < len(text) and not excerpt.endswith("…") else "")
        masked = self.pseudo.pseudonymise(excerpt)
        place = self.cases[self.place_variable].get(r.case_id) if self.place_variable in self.cases.columns else None
        mask = own_place_masker(self.project, self.settings.attribution)
        return mask(masked, r.kind, place), str(r.person_id)  # the participant, in a group discussion




def counts_by(data: ReportData, units: pd.DataFrame, kind: str, variable: str) -> pd.DataFrame:
    """Persons with a counted unit among ``units`` per value of ``variable``, with the base.

    Columns: ``<variable>, n, total`` (persons with a mention, persons of that value in all)."""
    base = data.units[data.units.kind == kind]
    if variable not in base.columns:
        return pd.DataFrame()
    total = base.groupby(base[variable].fillna(MISSING)).person_id.nunique()
    hit = units[units.kind == kind]
    got = hit.groupby(hit[variable].fillna(MISSING)).person_id.nunique()
    df = pd.DataFrame({"n": got, "total": total}).fillna(0).astype(int)
    return df.rename_axis(variable).reset_index().sort_values(variable, kind="stable").reset_index(drop=True)


def subcode_table(data: ReportData, code: str) -> pd.DataFrame:
    """The subcodes of ``code``: ``subcode, interview_persons, statements, respondents, answers, asked``.

    ``asked`` is False where the subcode was never coded in any survey answer while the survey has coded
    answers: then "0 respondents" is an artefact of the questionnaire, not a finding."""
    survey_codes = set(data.labels[data.labels.unit_id.isin(set(data.units[data.units.kind == "survey"].unit_id))].code)
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
    base = data.units[data.units.kind == kind]
    if variable not in base.columns or base.empty:
        return pd.DataFrame(columns=cols)
    persons = base.groupby("person_id")[variable].first().fillna(MISSING)
    rows = []
    for code in codes:
        hit = set(data.units_with([code], kinds=(kind,)).person_id)
        mentioned = persons.index.isin(list(hit))
        for value, in_group in persons.groupby(persons).groups.items():
            g = persons.index.isin(list(in_group))
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
    rs = rs[~rs.index.isin(list(data.duplicates.case_id))].dropna().astype(str).str.strip()
    rs = rs[(rs != "") & (rs != MISSING)]
    return rs.value_counts().sort_index().sort_values(ascending=False, kind="stable")


def duplicate_submissions(data: ReportData) -> pd.DataFrame:
    """Respondents left out as duplicate submissions: ``case_id, duplicate_of, answers``."""
    d = data.duplicates
    if d.empty:
        return pd.DataFrame(columns=["case_id", "duplicate_of", "answers"])
    return (d.groupby(["case_id", "duplicate_of"]).unit_id.count().rename("answers").reset_index()
            .sort_values("case_id", kind="stable").reset_index(drop=True))
