"""The report's own chapters: the summary at the top (key findings and workshop priorities of every code), the
material-and-method chapter (interviews, survey base, codebook, agreement, coverage, all recommendations,
privacy rule) and the open survey answers.  Blocks only; data from :mod:`qualkit.reportdata`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from .blocks import Block
from .chapters import _dedupe_quotes, _findings_file, _measure_label, _method_note, _numbering, _place_rule, _shown
from .figures import coverage_figure
from .participants import formats
from .privacy import small_counts
from .prose import Term, join_de, noun, num, pct
from .reportdata import ReportData, duplicate_submissions
from .survey import FINISHED
from .units import with_missing
from .workshops import workshop_measures

__all__ = ["overview_blocks", "summary_blocks", "survey_blocks", "survey_units"]


def summary_blocks(data: ReportData) -> list[Block]:
    """The short summary at the top of the report: the key findings of every code and the top workshop
    priorities, for readers who read nothing else (about two pages)."""
    term = Term.of(data.cb.primary)
    ws = workshop_measures(data.project)
    b = [Block("heading", text="Zusammenfassung", level=1),
         Block("para", text=(
             f"Diese Zusammenfassung nennt je {term.singular} die wichtigsten Befunde der Auswertung"
             + (" und die von den Workshops am höchsten gewichteten Maßnahmen" if not ws.empty else "")
             + f". Belege, Zitate und Empfehlungen stehen in den Kapiteln der {term.plural}."))]
    for code in data.primary:
        ff = _findings_file(data, code)
        findings = [f for f in (_shown(data, ff.findings) if ff else []) if f.status == "approved"][:3]
        recs = [r for r in (_shown(data, ff.recommendations) if ff else []) if r.status == "approved"][:1]
        b.append(Block("heading", text=code, level=3))
        if findings:
            b.append(Block("para", text=" ".join(f.headline for f in findings)))
        else:
            b.append(Block("para", text="Noch keine freigegebenen Befunde."))
        if recs:
            first = re.match(r".+?[.!?](?=\s|$)", recs[0].text)
            b.append(Block("para", text="Empfohlen: " + (first.group(0) if first else recs[0].text)))
        top = ws[(ws.code == code) & (ws.Rang == 1)]
        if not top.empty:
            b.append(Block("note", text="Höchste Priorität in den Workshops: " + "; ".join(
                f"„{r['Maßnahme']}“ ({noun(int(r.Punkte), 'Punkt', 'Punkte')})" for _, r in top.iterrows()
                if pd.notna(r.Punkte)) + "."))
    return b


def overview_blocks(data: ReportData, figures: Path, agreement_res: Any = None) -> list[Block]:
    """Material and method: interviews, survey response and base, codebook, agreement, coverage of every code,
    all recommendations and workshop priorities, the privacy rule."""
    p = data.project
    s = data.settings
    cb = data.cb
    term = Term.of(cb.primary)
    b = [Block("heading", text="Datengrundlage und Vorgehen", level=1)]
    cases = data.cases.reset_index() if not data.cases.empty else pd.DataFrame(columns=["case_id", "case_kind"])
    iv = cases[cases.case_kind == "interview"]
    b.append(Block("heading", text="Interviews"))
    fm = formats(p)  # interviews and group discussions are named as what they are
    gd = (f" und {noun(fm['group_discussions'], 'Gruppendiskussion', 'Gruppendiskussionen')} mit "
          f"{noun(fm['participants'], 'Teilnehmenden', 'Teilnehmenden')}") if fm["group_discussions"] else ""
    b.append(Block("para", text=(
        "Geführt und ausgewertet wurden "
        f"{noun(fm['interviews'], 'leitfadengestütztes Interview', 'leitfadengestützte Interviews')}"
        f"{gd}. Eine Aussage ist ein Redebeitrag einer interviewten Person; die Fragen der Interviewenden werden "
        "nicht gezählt.")))
    group_var = p.config["interviews"]["group_variable"]
    for var in dict.fromkeys((*s.attribution, group_var)):
        if var in iv.columns and iv[var].notna().any():
            # persons, not files: a group discussion brings several participants
            t = with_missing(iv[var]).value_counts().sort_index().rename_axis(var).reset_index(name="Interviewte")
            b.append(Block.table(small_counts(t, ["Interviewte"], k=s.k), f"Interviews nach {var}"))
    rs = cases[cases.case_kind == "respondent"]
    if len(rs):
        b += _survey_base(data, rs)
    b.append(Block("heading", text="Kategoriensystem"))
    b.append(Block("para", text=cb.description))
    rows = [(d.name, name, len(cb.children(name)), cb.codes[name].definition) for d in cb.dimensions for name in d.codes]
    b.append(Block.table(pd.DataFrame(rows, columns=["Dimension", "Kategorie", "Unterkategorien", "Definition"]),
                         "Kategorien"))
    b += _agreement_blocks(data, agreement_res, term)
    b.append(Block("heading", text=f"{term.plural} im Überblick"))
    n_iv, n_sv = data.total("interview"), data.total("survey")
    summary = []
    for f in data.primary:
        iv_n, iv_units, sv_n, sv_units = data.mentions(f)
        summary.append((f, iv_n, n_iv, iv_units, sv_n, n_sv, sv_units))
    df = pd.DataFrame(summary, columns=["code", "iv_n", "iv_total", "iv_units", "sv_n", "sv_total", "sv_units"])
    b.append(Block.table(pd.DataFrame({term.singular: df.code, "Interviewte mit Nennung": df.iv_n,
                                       "Aussagen": df.iv_units}), f"Interviews: Nennungen je {term.singular} "
                                                                  f"(Basis: {n_iv} Interviewte)"))
    if n_sv:
        b.append(Block.table(pd.DataFrame({term.singular: df.code, "Befragte mit Nennung": df.sv_n,
                                           "Antworten": df.sv_units}),
                             f"Online-Befragung: Nennungen je {term.singular} (Basis: {n_sv} Befragte)"))
    path = figures / "ueberblick.png"
    alt = coverage_figure(df, {c: cb.codes[c].colour for c in data.primary}, path, label_col="code")
    b.append(Block("figure", text=f"Anteil der Interviewten (links) und der Befragten (rechts), die {term.indef_acc} "
                                  "ansprachen, je mit eigener Basis", path=f"figures/{path.name}", alt=alt))
    b += _all_recommendations(data, term)
    b.append(Block("heading", text="Datenschutz und Zuordnung von Zitaten"))
    b.append(Block("para", text=(
        "Alle Namen von Personen, Einrichtungen, Adressen und Kontaktdaten sind pseudonymisiert ([Person 1], "
        f"[Schule 2] …). Zitate werden nur {('nach ' + join_de(list(s.attribution))) if s.attribution else 'nach Quelle'} "
        f"(Interviews) bzw. {('nach ' + join_de(list(s.survey_attribution))) if s.survey_attribution else 'nach Quelle'} "
        f"(Befragung) zugeordnet. Jede genannte Gruppe umfasst mindestens {s.k} Personen; wo eine Gruppe kleiner ist, "
        "wird nur die Quelle genannt." + _place_rule(data))))
    _cols, groups = data.groups["interview"]
    if groups is not None:
        t = groups.assign(too_small=groups.too_small.map({True: "nur Quelle genannt", False: "Gruppe genannt"}))
        t = small_counts(t.rename(columns={"persons": "Personen", "too_small": "Zuordnung im Zitat"}), ["Personen"],
                         k=s.k)
        b.append(Block.table(t, "Zuordnungsgruppen der Interviews"))
    b.append(Block("note", text=_method_note(data)))
    return b


def _survey_base(data: ReportData, rs: pd.DataFrame) -> list[Block]:
    """Who took part in the survey, on what base, and what its shares can and cannot say."""
    p, s, place = data.project, data.settings, data.place_variable
    b = [Block("heading", text="Online-Befragung")]
    answered = data.total("survey")
    done = int((rs[FINISHED] != "no").sum()) if FINISHED in rs.columns else len(rs)
    missing = p.store.query("SELECT count(*) FROM missing_answers")[0][0]
    invited = int(p.config["survey"].get("invited") or 0)
    base = (f"Eingeladen wurden {num(invited)} Personen; teilgenommen haben {num(len(rs))} "
            f"({pct(len(rs), invited)} Rücklauf), {num(done)} davon bis zum Ende. ") if invited else \
        f"An der Online-Befragung nahmen {num(len(rs))} Personen teil ({num(done)} bis zum Ende). "
    sampling = str(p.config["survey"].get("sampling") or "").strip()
    dup = duplicate_submissions(data)
    b.append(Block("para", text=(
        base + f"{num(answered)} beantworteten mindestens eine offene Frage; zusammen liegen "
        f"{noun(data.unit_count('survey'), 'offene Antwort', 'offene Antworten')} vor. "
        f"{noun(int(missing), 'Eintrag', 'Einträge')} wie „k.A.“ wurden als fehlende Antwort gewertet. "
        + (f"{noun(len(dup), 'Einsendung wiederholte', 'Einsendungen wiederholten')} eine frühere wörtlich "
           "(doppelt abgeschickt); sie wurden erkannt und nur einmal gezählt. " if len(dup) else "")
        + (f"Auswahl: {sampling}. " if sampling else "")
        + "Anteile der Befragung beziehen sich auf die Befragten mit offenen Antworten; sie sind nicht mit den "
          "Anteilen der Interviews vergleichbar.")))
    survey_vars = [*s.survey_attribution, place, *p.config["survey"]["variables"].values()]
    for var in dict.fromkeys(survey_vars):
        if var in rs.columns and rs[var].replace("", pd.NA).notna().any() and rs[var].nunique() <= 30:
            t = with_missing(rs[var]).value_counts().sort_index().rename_axis(var).reset_index(name="Befragte")
            b.append(Block.table(small_counts(t, ["Befragte"], k=data.settings.k), f"Befragte nach der Angabe „{var}“"))
    return b


def _agreement_blocks(data: ReportData, agreement_res: Any, term: Term) -> list[Block]:
    b = [Block("heading", text="Übereinstimmung zweier Codierender")]
    if agreement_res is None:
        b.append(Block("para", text="Es liegt keine unabhängige Zweitcodierung vor."))
        return b
    for level, res in agreement_res.items():
        o = res.overall
        if level == "segment":
            b.append(Block("para", text=(
                f"Auf Ebene der Textstellen (Überlappung ab {int(100 * o['threshold'])} %) stimmten die Codierungen "
                f"zu {num(o['percent_agreement'])} überein (zufallsbereinigt {num(o['kappa_brennan_prediger'])}).")))
            continue
        b.append(Block("para", text=(
            f"{'Auf Dokumentebene' if level == 'document' else 'Auf Ebene der Aussagen und Antworten'} codierten "
            f"{join_de(list(res.coders))} {noun(res.documents, 'Dokument', 'Dokumente')} unabhängig; Übereinstimmung "
            f"{num(o['percent_agreement'])} (Anteil, 1 = vollständig), zufallsbereinigt nach Cohen "
            f"{num(o['cohen_kappa'])} und nach Krippendorff {num(o['krippendorff_alpha'])}.")))
        if level == "unit":
            t = res.per_code.rename(columns={"code": term.singular, "n": "Einheiten", "agreements": "übereinstimmend",
                                             "percent_agreement": "Übereinstimmung", "cohen_kappa": "Kappa",
                                             "krippendorff_alpha": "Alpha"})
            b.append(Block.table(t, f"Übereinstimmung je {term.singular} (Aussagen und Antworten)"))
    b.append(Block("para", text="Gezählt wird in allen Kapiteln die Codierung einer Person je Dokument "
                                "(bzw. die Konsenscodierung), nie die Summe beider Codierungen."))
    return b


def _all_recommendations(data: ReportData, term: Term) -> list[Block]:
    ws = workshop_measures(data.project)
    labels = _numbering(data)
    rows = []
    for code in data.primary:
        ff = _findings_file(data, code)
        for r in (_shown(data, ff.recommendations) if ff else []):
            rows.append((code, labels.get(r.id, r.id) + (" (Entwurf)" if r.status != "approved" else ""), r.text,
                         "; ".join(_measure_label(ws, m) for m in r.measures) or "–"))
    b = [Block("heading", text="Handlungsempfehlungen und Workshop-Prioritäten im Überblick")]
    if rows:
        b.append(Block.table(pd.DataFrame(rows, columns=[term.singular, "Empfehlung", "Text", "Greift auf"]),
                             f"Handlungsempfehlungen aller {term.plural}"))
    else:
        b.append(Block("para", text="Es liegen noch keine Handlungsempfehlungen vor."))
    if not ws.empty:
        top = ws[ws.Rang <= 2].sort_values(["code", "workshop", "Rang"], kind="stable")
        t = pd.DataFrame({term.singular: top.code, "Workshop": top.workshop, "Rang": top.Rang.astype("Int64"),
                          "Maßnahme": top["Maßnahme"], "Punkte": top.Punkte.astype("Int64"),
                          "Zuständigkeit": top["Zuständigkeit"]})
        b.append(Block.table(t.reset_index(drop=True), "Die zwei am höchsten gewichteten Maßnahmen je Workshop"))
    return b


def survey_units(data: ReportData) -> set[int]:
    """The units :func:`survey_blocks` reads: every counted survey answer."""
    return set(data.units.unit_id[data.units.kind == "survey"].tolist())


def survey_blocks(data: ReportData, figures: Path) -> list[Block]:
    """The open survey answers by question and respondent type."""
    p = data.project
    s = data.settings
    term = Term.of(data.cb.primary)
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
        m = int(miss.get(q, 0))
        b.append(Block("para", text=(
            f"{noun(len(g), 'Antwort', 'Antworten')} von {noun(int(g.person_id.nunique()), 'Befragten', 'Befragten')}; "
            f"{noun(m, 'Angabe', 'Angaben')} wie „k.A.“; {noun(other, 'Antwort', 'Antworten')} in anderen Sprachen "
            "(im Bericht nicht zitiert).")))
        ids = set(g.unit_id)
        lab = data.labels[data.labels.unit_id.isin(ids) & data.labels.root.isin(data.primary)]
        t = lab.groupby("root").unit_id.nunique().reindex(data.primary, fill_value=0).rename("Antworten")
        t = t.reset_index().rename(columns={"root": term.singular})
        t["Anteil"] = [pct(n, len(g)) if len(g) >= 20 else "–" for n in t.Antworten]
        b.append(Block.table(t, f"{term.plural} in den {len(g)} Antworten"))
        by = s.survey_attribution[0] if s.survey_attribution else None
        if by and by in g.columns:
            merged = lab.drop_duplicates(["unit_id", "root"]).merge(g[["unit_id", by]], on="unit_id")
            ct = pd.crosstab(merged[by], merged.root).reindex(columns=[c for c in data.primary if c in set(merged.root)])
            if not ct.empty:
                b.append(Block.table(ct.reset_index(), f"Antworten nach {by} und {term.singular}"))
        b.extend(data.quotes(g, 3, max_chars=300))
    b.append(Block("note", text=_method_note(data)))
    return _dedupe_quotes(b)

