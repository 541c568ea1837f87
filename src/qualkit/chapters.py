"""The content of the findings chapters (German), computed from the store.

:class:`ReportData` computes what every chapter needs once (units, labels, pseudonymised texts, NLP);
:func:`chapter_blocks`, :func:`overview_blocks` and :func:`survey_blocks` turn it into blocks.  Numbers
and quotes come from the data only; quotes are the pseudonymised text of the coded units, attributed at
the configured level (default: Funktionsgruppe), coarsened where a group has fewer than k persons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .analysis import cooccurrence
from .blocks import Block
from .nlp import GermanPipeline
from .privacy import Pseudonymizer, attribution_groups, masked_sources, own_place_masker, self_disclosure
from .project import Project
from .themes import find_themes, representative_excerpt
from .survey import FINISHED
from .units import unit_labels, unit_table
from .workshops import workshop_measures

__all__ = ["RQ_SECTIONS", "ReportData", "ReportSettings", "chapter_blocks", "overview_blocks", "survey_blocks"]

RQ_SECTIONS = [
    ("Leistung Kreis/KI", "Was der Kreis und das KI bereits leisten"),
    ("Schwerpunkt vor Ort", "Schwerpunkte vor Ort"),
    ("Bedarf/Lücke", "Was aus Sicht der Befragten fehlt"),
    ("Unterstützungswunsch", "Gewünschte Unterstützung durch Kreis und KI"),
    ("Netzwerk/Kooperation", "Bestehende Netzwerke und Kooperationen"),
    ("Gute Praxis", "Beispiele guter Praxis"),
]
_SOURCE = {"interview": "Interview", "survey": "Umfrage"}


@dataclass(frozen=True)
class _Term:
    """How the chapters name a code of the primary dimension, with German articles (from the codebook's
    ``singular`` and ``article``): "das Handlungsfeld", "im Handlungsfeld"; default "die Kategorie"."""

    singular: str
    plural: str
    article: str

    @classmethod
    def of(cls, cb: Any) -> _Term:
        d = cb.primary
        return cls(d.singular, d.name if d.singular != "Kategorie" else "Kategorien", d.article)

    @property
    def nom(self) -> str:  # das Handlungsfeld / die Kategorie
        return f"{self.article} {self.singular}"

    @property
    def this_dat(self) -> str:  # diesem Handlungsfeld / dieser Kategorie
        return f"{'dieser' if self.article == 'die' else 'diesem'} {self.singular}"

    @property
    def gen(self) -> str:  # des Handlungsfelds / der Kategorie
        return f"der {self.singular}" if self.article == "die" else f"des {self.singular}s"

    @property
    def indef(self) -> str:  # ein Handlungsfeld / eine Kategorie
        return f"{'eine' if self.article == 'die' else 'ein'} {self.singular}"


@dataclass
class ReportSettings:
    """What a report counts and how it attributes quotes."""

    origins: tuple[str, ...] = ("manual", "imported", "auto-accepted")
    coders: tuple[str, ...] = ()
    attribution: tuple[str, ...] = ("Funktionsgruppe",)
    survey_attribution: tuple[str, ...] = ("Organisationstyp",)
    k: int = 3
    min_theme_size: int = 5
    seed: int = 20211108
    n_quotes: int = 2

    @classmethod
    def from_project(cls, project: Project, **overrides: Any) -> ReportSettings:
        cfg = project.config["report"]
        s = cls(origins=tuple(cfg["origins"]), coders=tuple(cfg["coders"]), attribution=tuple(cfg["attribution"]),
                survey_attribution=tuple(cfg.get("survey_attribution", ("Organisationstyp",))), k=int(cfg["k"]),
                min_theme_size=int(cfg["min_theme_size"]), seed=project.seed)
        for k, v in overrides.items():
            if v is not None:
                setattr(s, k, tuple(v) if isinstance(v, list) else v)
        return s


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.0f} %" if b else "–"


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
        self.units = unit_table(p)
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
            label, flagged = self.attribution(r.person_id)
            picked.append(Block("quote", text=representative_excerpt(r.ptext, terms, max_chars=max_chars),
                                attribution=label, flagged=flagged))
            if len(picked) == n:
                break
        return picked

    def persons(self, units: pd.DataFrame, kind: str) -> int:
        return int(units[units.kind == kind].case_id.nunique())


def _counts_by(data: ReportData, units: pd.DataFrame, kind: str, variable: str) -> pd.DataFrame:
    base = data.units[data.units.kind == kind]
    if variable not in base.columns:
        return pd.DataFrame()
    total = base.groupby(base[variable].fillna("(fehlt)")).case_id.nunique()
    hit = units[units.kind == kind]
    got = hit.groupby(hit[variable].fillna("(fehlt)")).case_id.nunique()
    df = pd.DataFrame({"Personen mit Nennung": got, "Personen gesamt": total}).fillna(0).astype(int)
    df["Anteil"] = [_pct(a, b) for a, b in zip(df["Personen mit Nennung"], df["Personen gesamt"])]
    return df.reset_index().rename(columns={"index": variable}).sort_values(variable)


def _bar_figure(df: pd.DataFrame, label_col: str, colour: str, title: str, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    vals = df["Personen mit Nennung"] / df["Personen gesamt"].replace(0, np.nan) * 100
    fig, ax = plt.subplots(figsize=(7, 0.45 * max(len(df), 3) + 1))
    ax.barh(df[label_col].astype(str), vals.fillna(0), color=colour)
    ax.set_xlabel("Anteil der Personen mit Nennung in %")
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def chapter_blocks(data: ReportData, field_name: str, figures: Path) -> list[Block]:
    """The findings chapter of one code of the primary dimension (a Handlungsfeld in the example)."""
    cb = data.cb
    term = _Term.of(cb)
    code = cb.get(field_name)
    s = data.settings
    slug = _slug(field_name)
    u = data.units_with([field_name])
    n_iv_total = int(data.units[data.units.kind == "interview"].case_id.nunique())
    n_sv_total = int(data.units[data.units.kind == "survey"].case_id.nunique())
    n_iv, n_sv = data.persons(u, "interview"), data.persons(u, "survey")
    b: list[Block] = [Block("heading", text=f"{term.singular} „{field_name}“", level=1),
                      Block("para", text=code.definition)]
    b.append(Block("heading", text=f"Wo und von wem {term.nom} angesprochen wurde"))
    b.append(Block("para", text=(
        f"{term.nom[0].upper()}{term.nom[1:]} wurde in {n_iv} von {n_iv_total} Interviews ({_pct(n_iv, n_iv_total)}) "
        f"angesprochen, insgesamt in {int((u.kind == 'interview').sum())} Redebeiträgen. In der Online-Befragung "
        f"äußerten sich {n_sv} von {n_sv_total} Befragten mit offenen Antworten ({_pct(n_sv, n_sv_total)}) dazu, "
        f"in {int((u.kind == 'survey').sum())} Antworten.")))
    for var in dict.fromkeys((*s.attribution, data.project.config["privacy"]["place_variable"])):
        t = _counts_by(data, u, "interview", var)
        if not t.empty:
            b.append(Block.table(t, f"Interviews nach {var}"))
            if var == s.attribution[0]:
                path = figures / f"{slug}-{_slug(var)}.png"
                _bar_figure(t, var, code.colour, f"{field_name}: Interviews nach {var}", path)
                b.append(Block("figure", text=f"Anteil der Interviewten je {var}, die {term.nom} ansprachen",
                               path=f"figures/{path.name}"))
    for var in s.survey_attribution:
        t = _counts_by(data, u, "survey", var)
        if not t.empty:
            b.append(Block.table(t, f"Online-Befragung nach {var}"))
    subs = cb.children(field_name)
    if subs:
        rows = []
        for sub in subs:
            su = data.units_with([sub.name])
            rows.append((sub.name, data.persons(su, "interview"), data.persons(su, "survey"), len(su)))
        b.append(Block.table(pd.DataFrame(rows, columns=["Unterkategorie", "Interviews", "Befragte",
                                                         "Einheiten"]), "Unterkategorien"))
    # the second dimension of the codebook (in the example: the research questions) structures the findings
    second = cb.dimensions[1] if len(cb.dimensions) > 1 else None
    titles = dict(RQ_SECTIONS)
    if second is not None:
        b.append(Block("heading", text="Ergebnisse entlang der Forschungsfragen" if second.key == "forschungsfrage"
                       else f"Ergebnisse nach {second.name}"))
    for rq in (second.codes if second is not None else ()):
        title = titles.get(rq, rq)
        both = u[u.unit_id.isin(set(data.units_with([rq]).unit_id))]
        b.append(Block("heading", text=title, level=3))
        if both.empty:
            b.append(Block("para", text=f"Zu dieser Frage gibt es in {term.this_dat} keine codierten Aussagen."))
            continue
        top = (data.labels[data.labels.unit_id.isin(set(both.unit_id)) & (data.labels.root == field_name)
                           & (data.labels.code != field_name)]
               .groupby("code").unit_id.nunique().sort_values(ascending=False, kind="stable"))
        lead = ", ".join(f"{k} ({v})" for k, v in top.head(3).items())
        b.append(Block("para", text=(
            f"{len(both)} Aussagen von {data.persons(both, 'interview')} Interviewten und "
            f"{data.persons(both, 'survey')} Befragten der Online-Befragung."
            + (f" Am häufigsten betroffen: {lead}." if lead else ""))))
        b.extend(data.quotes(both, s.n_quotes))
    b.append(Block("heading", text=f"Themen innerhalb {term.gen}"))
    res = find_themes(data.project, field_name, origins=s.origins, coders=s.coders or None,
                      min_size=s.min_theme_size, random_state=s.seed, pipeline=data.pipe, n_quotes=6)
    if res.themes.empty or res.k < 2:
        n = int(res.themes["size"].sum()) if not res.themes.empty else 0
        b.append(Block("para", text=(
            f"Für eine Themenbildung liegen zu wenige Aussagen vor ({n} deutschsprachige Aussagen; jedes Thema "
            f"braucht mindestens {s.min_theme_size}, und es braucht mindestens zwei Themen).")))
    else:
        b.append(Block("para", text=(
            f"Die {int(res.themes['size'].sum())} deutschsprachigen Aussagen bilden "
            f"{res.k} Themen (Nicht-negative Matrixfaktorisierung über "
            f"Lemmata, Zahl der Themen nach ihrer Kohärenz). {len(res.set_aside)} Aussagen wurden nicht einbezogen "
            f"(nicht deutschsprachig oder ohne Inhaltswörter).")))
        place = data.project.config["privacy"]["place_variable"]
        has_place = not data.cases.empty and place in data.cases.columns
        cols = ["theme", "label", "size", "documents"] + (["places"] if has_place else [])
        t = res.themes[cols].rename(columns={
            "theme": "Thema", "label": "Kennzeichnende Begriffe", "size": "Aussagen", "documents": "Dokumente",
            "places": f"{place} (Anzahl)"})
        b.append(Block.table(t, "Themen"))
        by_unit = data.units.set_index("unit_id")
        for r in res.themes.itertuples():
            b.append(Block("heading", text=f"Thema {r.theme}: {r.label}", level=3))
            members = [by_unit.loc[q["unit_id"]] for q in r.quotes]
            # stable sort: the theme's order, with self-descriptions of the speaker last
            for row in sorted(members, key=lambda m: self_disclosure(m.ptext))[:3]:
                label, flagged = data.attribution(row.person_id)
                b.append(Block("quote", text=representative_excerpt(row.ptext, r.terms), attribution=label,
                               flagged=flagged))
    b.append(Block("heading", text=f"Gemeinsam genannte {term.plural}"))
    pairs = cooccurrence(data.project, dimension=cb.primary.key, origins=s.origins, coders=s.coders or None)
    mine = pairs[(pairs.code_a == field_name) | (pairs.code_b == field_name)].copy()
    if mine.empty:
        b.append(Block("para", text="Keine gemeinsamen Nennungen."))
    else:
        mine[term.singular] = np.where(mine.code_a == field_name, mine.code_b, mine.code_a)
        t = mine[[term.singular, "n_both", "jaccard"]].rename(columns={"n_both": "gemeinsame Einheiten",
                                                                         "jaccard": "Jaccard"})
        b.append(Block.table(t.reset_index(drop=True), "Gemeinsames Auftreten in derselben Einheit"))
    ws = workshop_measures(data.project, field_name)
    folder = data.project.path(data.project.config["workshops"]["folder"])
    has_workshops = folder.is_dir() and any(folder.glob("*.csv"))
    if has_workshops:
        b.append(Block("heading", text="Maßnahmen aus den Workshops"))
    if ws.empty:
        if has_workshops:
            b.append(Block("para", text=f"Zu {term.this_dat} liegen keine Workshop-Ergebnisse vor."))
    else:
        for w, g in ws.groupby("workshop", sort=True):
            t = g[["Rang", "Maßnahme", "Zuständigkeit", "Punkte"]].copy()
            t["Rang"] = t["Rang"].astype("Int64")
            t["Punkte"] = t["Punkte"].astype("Int64")
            b.append(Block.table(t.reset_index(drop=True), f"Workshop {w} ({g.datum.iloc[0]}): priorisierte Maßnahmen"))
    b.append(Block("heading", text="Wortwolke und Schlüsselbegriffe"))
    from .words import word_counts, wordcloud_figure
    german = u[u.language.fillna("de").isin(["de", "und"])]
    counts, forms = word_counts(data.pipe, list(german.ptext))
    shown = {max(forms.get(t, {t: 1}).items(), key=lambda kv: (kv[1], kv[0]))[0]: n
             for t, n in counts.items() if n >= 2 and t not in ("person", "schule", "kita", "verein")}
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = wordcloud_figure(shown, colour=code.colour, random_state=s.seed)
    path = figures / f"{slug}-wortwolke.png"
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    b.append(Block("figure", text=f"Wortwolke der Aussagen zu „{field_name}“ (Lemmata, ohne Füll- und Stoppwörter)",
                   path=f"figures/{path.name}"))
    top = sorted(shown.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
    b.append(Block.table(pd.DataFrame(top, columns=["Begriff", "Häufigkeit"]), "Häufigste Begriffe"))
    memos = data.project.store.frame(
        "SELECT m.title, m.text, m.author FROM memos m LEFT JOIN codes k ON k.id=m.code_id "
        "WHERE m.for_report=1 AND (k.name IN ({})) ORDER BY m.id".format(",".join("?" * len(cb.descendants(field_name)))),
        tuple(cb.descendants(field_name)))
    b.append(Block("heading", text="Memos der Forschenden"))
    if memos.empty:
        b.append(Block("para", text="Keine für den Bericht markierten Memos."))
    for m in memos.itertuples():
        b.append(Block("para", text=f"{m.title}: {data.pseudo.pseudonymise(m.text)}"))
    b.append(Block("note", text=_method_note(s)))
    return b


def _place_rule(data: ReportData) -> str:
    kinds = masked_sources(data.project, data.settings.attribution)
    if not kinds:
        return ""
    where = " und ".join(x for x, k in (("Interviewzitaten", "interview"), ("Umfragezitaten", "survey")) if k in kinds)
    return (f" In {where} sind die eigene Kommune der zitierten Person und ihre Stadtteile durch [eigene Kommune] "
            "bzw. [Stadtteil] ersetzt, weil Funktion und Kommune zusammen eine Person erkennbar machen.")


def _method_note(s: ReportSettings) -> str:
    origins = {"manual": "manuelle", "imported": "importierte (Referenzcodierung)",
               "auto-accepted": "bestätigte automatische", "auto-pending": "unbestätigte automatische"}
    who = f" von {', '.join(s.coders)}" if s.coders else ""
    return (f"Gezählt werden {', '.join(origins.get(o, o) for o in s.origins)} Codierungen{who}. Zitate sind "
            f"pseudonymisiert und nach {', '.join(s.attribution)} (Interviews) bzw. "
            f"{', '.join(s.survey_attribution)} (Befragung) zugeordnet; Gruppen mit weniger als {s.k} Personen "
            "werden nicht genannt.")


def overview_blocks(data: ReportData, figures: Path, agreement_res: Any = None) -> list[Block]:
    """Corpus and method: interviews, survey response, codebook, agreement, summary table, privacy rule."""
    p = data.project
    s = data.settings
    cb = data.cb
    term = _Term.of(cb)
    place = p.config["privacy"]["place_variable"]
    b = [Block("heading", text="Datengrundlage und Vorgehen", level=1)]
    cases = data.cases.reset_index() if not data.cases.empty else pd.DataFrame(columns=["case_id", "case_kind"])
    iv = cases[cases.case_kind == "interview"]
    b.append(Block("heading", text="Interviews"))
    b.append(Block("para", text=f"Geführt und ausgewertet wurden {len(iv)} leitfadengestützte Interviews."))
    # the attribution groups, the project's grouping variable and the usual interview variables, where present
    group_var = p.config["interviews"]["group_variable"]
    for var in dict.fromkeys((*s.attribution, group_var, "Funktion", "Modus")):
        if var in iv.columns and iv[var].notna().any():
            t = iv[var].fillna("(fehlt)").value_counts().sort_index().rename_axis(var).reset_index(name="Interviews")
            b.append(Block.table(t, f"Interviews nach {var}"))
    first = s.attribution[0] if s.attribution else group_var
    if place in iv.columns and first in iv.columns and place != first:
        t = pd.crosstab(iv[place].fillna("(fehlt)"), iv[first].fillna("(fehlt)"))
        b.append(Block.table(t.reset_index(), f"Interviews nach {place} und {first}"))
    rs = cases[cases.case_kind == "respondent"]
    b.append(Block("heading", text="Online-Befragung"))
    answered = data.units[data.units.kind == "survey"].case_id.nunique()
    done = int((rs.get(FINISHED, pd.Series(dtype=str)) != "no").sum())
    missing = p.store.query("SELECT count(*) FROM missing_answers")[0][0]
    b.append(Block("para", text=(
        f"An der Online-Befragung nahmen {len(rs)} Personen teil ({done} vollständig "
        f"ausgefüllt); {answered} beantworteten mindestens eine offene Frage, insgesamt liegen "
        f"{int((data.units.kind == 'survey').sum())} offene Antworten vor. {missing} Einträge wie „k.A.“ "
        "wurden als fehlende Antwort gewertet.")))
    survey_vars = [*s.survey_attribution, place, *p.config["survey"]["variables"].values()]
    for var in dict.fromkeys(survey_vars):
        if var in rs.columns and rs[var].replace("", pd.NA).notna().any() and rs[var].nunique() <= 30:
            t = rs[var].fillna("(fehlt)").value_counts().sort_index().rename_axis(var).reset_index(name="Befragte")
            b.append(Block.table(t, f"Befragte nach {var}"))
    b.append(Block("heading", text="Kategoriensystem"))
    b.append(Block("para", text=cb.description))
    rows = [(d.name, name, len(cb.children(name)), cb.codes[name].definition) for d in cb.dimensions
            for name in d.codes]
    b.append(Block.table(pd.DataFrame(rows, columns=["Dimension", "Kategorie", "Unterkategorien", "Definition"]),
                         "Kategorien"))
    b.append(Block("heading", text="Intercoder-Übereinstimmung"))
    if agreement_res is None:
        b.append(Block("para", text="Es liegt keine unabhängige Zweitcodierung vor."))
    else:
        for level, res in agreement_res.items():
            o = res.overall
            if level == "segment":
                b.append(Block("para", text=(
                    f"Segmentebene (Überlappung ≥ {int(100 * o['threshold'])} %): Übereinstimmung "
                    f"{_num(o['percent_agreement'])}, Kappa nach Brennan & Prediger {_num(o['kappa_brennan_prediger'])}.")))
                continue
            b.append(Block("para", text=(
                f"{'Dokumentebene' if level == 'document' else 'Ebene der Redebeiträge/Antworten'}: Codierende "
                f"{' und '.join(res.coders)}, {res.documents} gemeinsam codierte Dokumente; prozentuale "
                f"Übereinstimmung {_num(o['percent_agreement'])}, Cohens Kappa {_num(o['cohen_kappa'])}, "
                f"Krippendorffs Alpha {_num(o['krippendorff_alpha'])}.")))
            if level == "unit":
                t = res.per_code.rename(columns={"code": term.singular, "n": "Einheiten", "agreements": "übereinstimmend",
                                                 "percent_agreement": "Übereinstimmung", "cohen_kappa": "Kappa",
                                                 "krippendorff_alpha": "Alpha"})
                b.append(Block.table(t, f"Übereinstimmung je {term.singular} (Redebeiträge/Antworten)"))
    b.append(Block("heading", text=f"{term.plural} im Überblick"))
    summary: list[tuple[str, int, str, int, str, int]] = []
    n_iv = int(data.units[data.units.kind == "interview"].case_id.nunique())
    n_sv = int(data.units[data.units.kind == "survey"].case_id.nunique())
    for f in data.primary:
        u = data.units_with([f])
        summary.append((f, data.persons(u, "interview"), _pct(data.persons(u, "interview"), n_iv),
                     data.persons(u, "survey"), _pct(data.persons(u, "survey"), n_sv), len(u)))
    t = pd.DataFrame(summary, columns=[term.singular, "Interviews", "Anteil Interviews", "Befragte",
                                    "Anteil Befragte", "Einheiten"])
    b.append(Block.table(t, f"Nennungen je {term.singular}"))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 4.5))
    y = np.arange(len(summary))
    ax.barh(y - 0.2, [r[1] / max(n_iv, 1) * 100 for r in summary], 0.4, label="Interviews",
            color=[cb.codes[r[0]].colour for r in summary])
    ax.barh(y + 0.2, [r[3] / max(n_sv, 1) * 100 for r in summary], 0.4, label="Online-Befragung", color="#BBBBBB")
    ax.set_yticks(y, [r[0] for r in summary])
    ax.invert_yaxis()
    ax.set_xlabel("Anteil der Personen mit Nennung in %")
    ax.legend(loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    path = figures / "ueberblick-handlungsfelder.png"
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    b.append(Block("figure", text=f"Anteil der Interviewten und Befragten, die {term.indef} ansprachen",
                   path=f"figures/{path.name}"))
    b.append(Block("heading", text="Datenschutz und Zuordnung von Zitaten"))
    b.append(Block("para", text=(
        f"Alle Namen von Personen, Einrichtungen, Adressen und Kontaktdaten sind pseudonymisiert ([Person 1], "
        f"[Schule 2] …). Zitate werden nur nach {', '.join(s.attribution)} (Interviews) bzw. "
        f"{', '.join(s.survey_attribution)} (Befragung) zugeordnet, nie nach {place} und Funktion zugleich. "
        f"Jede genannte Gruppe umfasst mindestens {s.k} Personen; wo eine Gruppe kleiner ist, wird nur die Quelle "
        "genannt." + _place_rule(data))))
    _cols, groups = data.groups["interview"]
    if groups is not None:
        t = groups.assign(too_small=groups.too_small.map({True: "ja", False: "nein"}))
        t = t.rename(columns={"persons": "Personen", "too_small": f"unter k = {s.k}"})
        b.append(Block.table(t, "Zuordnungsgruppen der Interviews"))
    b.append(Block("note", text=_method_note(s)))
    return b


def _num(v: Any) -> str:
    return "–" if v is None else f"{v:.2f}".replace(".", ",")


def survey_blocks(data: ReportData, figures: Path) -> list[Block]:
    """The open survey answers by question and respondent type."""
    p = data.project
    s = data.settings
    term = _Term.of(data.cb)
    b = [Block("heading", text="Offene Antworten der Online-Befragung", level=1)]
    sv = data.units[data.units.kind == "survey"]
    if sv.empty:
        b.append(Block("para", text="Das Projekt enthält keine Befragungsdaten."))
        return b
    missing = p.store.frame("SELECT question, count(*) AS n FROM missing_answers GROUP BY question")
    miss = dict(zip(missing.question, missing.n))
    for q, g in sv.groupby("question", sort=False):
        b.append(Block("heading", text=f"„{q}“"))
        other = int((~g.language.fillna("de").isin(["de", "und"])).sum())
        b.append(Block("para", text=(
            f"{len(g)} Antworten von {g.case_id.nunique()} Befragten; {miss.get(q, 0)} "
            f"{'Angabe' if miss.get(q, 0) == 1 else 'Angaben'} wie „k.A.“; "
            f"{other} Antworten in anderen Sprachen (im Bericht nicht zitiert).")))
        ids = set(g.unit_id)
        lab = data.labels[data.labels.unit_id.isin(ids) & data.labels.root.isin(data.primary)]
        t = lab.groupby("root").unit_id.nunique().reindex(data.primary, fill_value=0).rename("Antworten")
        t = t.reset_index().rename(columns={"root": term.singular})
        t["Anteil"] = [_pct(n, len(g)) for n in t.Antworten]
        b.append(Block.table(t, f"{term.plural} in den Antworten"))
        by = s.survey_attribution[0] if s.survey_attribution else None
        if by and by in g.columns:
            # answers, not codings: two coders' codings of one answer count once
            merged = lab.drop_duplicates(["unit_id", "root"]).merge(g[["unit_id", by]], on="unit_id")
            ct = pd.crosstab(merged[by], merged.root).reindex(columns=[c for c in data.primary
                                                                       if c in set(merged.root)])
            if not ct.empty:
                b.append(Block.table(ct.reset_index(), f"Antworten nach {by} und {term.singular}"))
        b.extend(data.quotes(g, 3, max_chars=300))
    b.append(Block("note", text=_method_note(s)))
    return b


def _slug(s: str) -> str:
    import re
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
    return re.sub(r"[^a-z0-9]+", "-", s.translate(table).lower()).strip("-")
