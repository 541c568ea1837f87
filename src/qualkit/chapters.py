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
from .privacy import Attribution, Pseudonymizer, masked_sources, own_place_masker, small_counts
from .project import Project
from .quotes import SELECTION_RULE, QuotePicker
from .reidentify import Guard, eigen
from .themes import find_themes
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
    mode: str = "draft"  # "release": approved quotes only (the run for the steering group); "draft": pending marked

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
        cv = p.store.case_variables()
        self.cases = cv.set_index("case_id") if not cv.empty else cv
        s = self.settings
        self.attributor = Attribution(p, interview=s.attribution, survey=s.survey_attribution, k=s.k)
        self.groups = {kind: (self.attributor.variables[kind], self.attributor.groups(kind)
                              if self.attributor.variables[kind] else None) for kind in ("interview", "respondent")}
        self.guard = Guard(p, attribution=s.attribution)
        self.quote_picker = QuotePicker(p, self.units, self.labels, self.pseudo, self.attributor, self.guard,
                                        mode=s.mode, pipe=self.pipe)
        self._mask_own_places()

    def _mask_own_places(self) -> None:
        """In the configured sources (default: interviews) a quote names neither the speaker's own Kommune nor
        its districts: with the attribution by Funktionsgruppe, "bei uns in Gladbeck" would identify the person."""
        var = self.project.config["privacy"]["place_variable"]
        if self.cases.empty or var not in self.cases.columns:
            return
        mask = own_place_masker(self.project, self.settings.attribution)
        own = self.cases[var]
        self.units["ptext"] = [mask(text, kind, own.get(case_id)) for case_id, kind, text in
                               zip(self.units.case_id, self.units.kind, self.units.ptext, strict=True)]

    def attribution(self, case_id: str) -> tuple[str, bool]:
        """(label, coarsened) for a quote by ``case_id``; see :class:`qualkit.privacy.Attribution`."""
        return self.attributor.label(case_id)

    def begin_chapter(self, name: str) -> None:
        """No unit is quoted twice within a chapter; see :meth:`qualkit.quotes.QuotePicker.begin_chapter`."""
        self.quote_picker.begin_chapter(name)

    def units_with(self, codes: Sequence[str], *, kinds: Sequence[str] = ("interview", "survey")) -> pd.DataFrame:
        ids = set(self.labels[self.labels.code.isin(codes) | self.labels.root.isin(codes)].unit_id)
        u = self.units[self.units.unit_id.isin(ids) & self.units.kind.isin(kinds)]
        return u

    def quotes(self, units: pd.DataFrame, n: int, *, max_chars: int = 340, codes: Sequence[str] | None = None
               ) -> list[Block]:
        """The n most typical quotes among ``units`` as quote blocks: the coded span of ``codes`` (default: any
        counted coding), masked, attributed and released as :mod:`qualkit.quotes` describes."""
        return [q.block() for q in self.quote_picker.pick(units, n, codes=codes, max_chars=max_chars)]

    def theme_quotes(self, res: Any, theme: int, code: str, n: int) -> list[Block]:
        """Up to n quotes of a theme of :func:`qualkit.themes.find_themes`: its representative quotes first, then
        its other members by similarity (so a release run finds approved ones further down)."""
        row = res.themes[res.themes.theme == theme].iloc[0]
        first = [int(q["unit_id"]) for q in row.quotes]
        rest = res.assignments[res.assignments.theme == theme].sort_values(["similarity", "unit_id"],
                                                                           ascending=[False, True]).unit_id
        ids = list(dict.fromkeys([*first, *(int(i) for i in rest)]))
        return [q.block() for q in self.quote_picker.pick_ordered(ids, n, codes=[code], terms=list(row.terms))]

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


def _k_rows(t: pd.DataFrame, k: int) -> pd.DataFrame:
    """A group table under the k rule: a group of fewer than k persons shows no counts."""
    return small_counts(t, [], k=k, total="Personen gesamt", also=["Personen mit Nennung", "Anteil"])


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
    data.begin_chapter(field_name)
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
            b.append(Block.table(_k_rows(t, s.k), f"Interviews nach {var}"))
            if var == s.attribution[0]:
                path = figures / f"{slug}-{_slug(var)}.png"
                _bar_figure(t[t["Personen gesamt"] >= s.k], var, code.colour, f"{field_name}: Interviews nach {var}", path)
                b.append(Block("figure", text=f"Anteil der Interviewten je {var}, die {term.nom} ansprachen",
                               path=f"figures/{path.name}"))
    for var in s.survey_attribution:
        t = _counts_by(data, u, "survey", var)
        if not t.empty:
            b.append(Block.table(_k_rows(t, s.k), f"Online-Befragung nach {var}"))
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
        b.extend(data.quotes(both, s.n_quotes, codes=[field_name, rq]))
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
        cols = ["theme", "label", "size", "documents"] + (["kommunen"] if has_place else [])
        t = res.themes[cols].assign(label=[data.guard.clean_label(x) for x in res.themes.label]).rename(columns={
            "theme": "Thema", "label": "Kennzeichnende Begriffe", "size": "Aussagen", "documents": "Dokumente",
            "kommunen": "Kommunen" if place == "Kommune" else f"{place} (Anzahl)"})
        b.append(Block.table(t, "Themen"))
        for r in res.themes.itertuples():
            b.append(Block("heading", text=f"Thema {r.theme}: {data.guard.clean_label(r.label)}", level=3))
            b.extend(data.theme_quotes(res, r.theme, field_name, 3))
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
    cfg = data.project.config["privacy"]
    own, sub = eigen(cfg["place_variable"]), cfg["subplace"]
    article = {"eigene": "die", "eigener": "der", "eigenes": "das"}[own.split()[0]]
    return (f" In {where} sind {article} {own} der zitierten Person und die dort gelegenen Orte durch [{own}] "
            f"bzw. [{sub}] ersetzt, weil Funktion und {cfg['place_variable']} zusammen eine Person erkennbar "
            "machen.")


def _method_note(s: ReportSettings) -> str:
    origins = {"manual": "manuelle", "imported": "importierte (Referenzcodierung)",
               "auto-accepted": "bestätigte automatische", "auto-pending": "unbestätigte automatische"}
    who = f" von {', '.join(s.coders)}" if s.coders else ""
    return (f"Gezählt werden {', '.join(origins.get(o, o) for o in s.origins)} Codierungen{who}. Zitate sind "
            f"pseudonymisiert und nach {', '.join(s.attribution)} (Interviews) bzw. "
            f"{', '.join(s.survey_attribution)} (Befragung) zugeordnet; Gruppen mit weniger als {s.k} Personen "
            f"werden nicht genannt, auch nicht in Tabellen. {SELECTION_RULE} "
            + ("Diese Fassung enthält nur freigegebene Zitate." if s.mode == "release" else
               "Entwurf: noch nicht freigegebene Zitate sind als solche markiert."))


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
            b.append(Block.table(small_counts(t, ["Interviews"], k=s.k), f"Interviews nach {var}"))
    first = s.attribution[0] if s.attribution else group_var
    if place in iv.columns and first in iv.columns and place != first:
        t = pd.crosstab(iv[place].fillna("(fehlt)"), iv[first].fillna("(fehlt)"))
        b.append(Block.table(small_counts(t.reset_index(), [str(c) for c in t.columns], k=s.k),
                             f"Interviews nach {place} und {first}"))
    rs = cases[cases.case_kind == "respondent"]
    b.append(Block("heading", text="Online-Befragung"))
    answered = data.units[data.units.kind == "survey"].case_id.nunique()
    done = int((rs.get("abgeschlossen", pd.Series(dtype=str)) == "ja").sum())
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
            b.append(Block.table(small_counts(t, ["Befragte"], k=s.k), f"Befragte nach {var}"))
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
        t = small_counts(t.rename(columns={"persons": "Personen", "too_small": f"unter k = {s.k}"}), ["Personen"], k=s.k)
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
    data.begin_chapter("Befragung")
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
