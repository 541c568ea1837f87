"""The findings chapters as blocks: assembly of data (:mod:`qualkit.reportdata`), findings and
recommendations (:mod:`qualkit.findings`), German text (:mod:`qualkit.prose`) and figures
(:mod:`qualkit.figures`).

A chapter of a code opens with the researchers' findings, each with its evidence and supporting quotes,
shows where groups and places differ, then the coverage, subcodes, themes and workshop measures as evidence,
and ends with the recommendations.  :mod:`qualkit.overview` has the report's own chapters (summary, method, survey).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from .blocks import Block
from .figures import bar_figure, wordcloud_png
from .findings import Finding, FindingsFile, evidence_stats, resolve_evidence, slug
from .privacy import masked_sources, small_counts
from .prose import (
    Term,
    coverage_sentence,
    date_de,
    dative_plural,
    evidence_sentence,
    join_de,
    noun,
    num,
    pct,
    share_phrase,
)
from .quotes import SELECTION_RULE
from .reportdata import (
    MISSING,
    ReportData,
    ReportSettings,
    choice_counts,
    choice_variable,
    contrasts,
    counts_by,
    subcode_table,
)
from .themes import find_themes
from .units import with_missing
from .workshops import workshop_measures

__all__ = ["ReportData", "ReportSettings", "chapter_blocks", "chapter_units", "measure_support"]

_slug = slug  # the chapter file names use the same slug as the findings files


# -- findings and recommendations ------------------------------------------------------------------------------

def _findings_file(data: ReportData, code: str) -> FindingsFile | None:
    return data.findings.get(code)


def _shown(data: ReportData, items: list[Any]) -> list[Any]:
    """Approved items first; drafts only in a draft run."""
    approved = [i for i in items if i.status == "approved"]
    drafts = [i for i in items if i.status != "approved"] if data.settings.mode == "draft" else []
    return approved + drafts


def _numbering(data: ReportData) -> dict[str, str]:
    """"Befund 2" / "Empfehlung 1" labels of every shown item, per code (the chapter's own numbering)."""
    out: dict[str, str] = {}
    for ff in data.findings.values():
        for i, f in enumerate(_shown(data, ff.findings), 1):
            out[f.id] = f"Befund {i}"
        for i, r in enumerate(_shown(data, ff.recommendations), 1):
            out[r.id] = f"Empfehlung {i}"
    return out


def _finding_blocks(data: ReportData, f: Finding, label: str) -> list[Block]:
    units, passages = resolve_evidence(data, f)
    st = evidence_stats(data, units)
    draft = f.status != "approved"
    b = [Block("para", text=f"{label}{' (Entwurf, nicht freigegeben)' if draft else ''}: {f.text}")]
    lost = [ev for ev, rp in passages if rp.status == "lost"]
    note = evidence_sentence(**st)
    if lost:
        note += (f" Achtung: {noun(len(lost), 'Beleg ist', 'Belege sind')} im aktuellen Material nicht mehr "
                 "auffindbar; der Befund ist zu prüfen.")
    b.append(Block("note", text=note))
    cited = [(ev, rp) for ev, rp in passages if rp.status != "lost" and ev.cite] or \
            [(ev, rp) for ev, rp in passages if rp.status != "lost"][:1]
    for _ev, rp in cited[:3]:
        q = data.span_quote(rp.document, rp.start, rp.end)
        if q is None:
            continue
        text, case = q
        attribution, flagged = data.attribution(case)
        b.append(Block("quote", text=text, attribution=attribution, flagged=flagged))
    return b


def _findings_section(data: ReportData, code: str, term: Term) -> list[Block]:
    ff = _findings_file(data, code)
    shown = _shown(data, ff.findings) if ff else []
    b = [Block("heading", text="Zentrale Befunde")]
    if not shown:
        b.append(Block("para", text=f"Zu {term.this_dat} liegen noch keine freigegebenen Befunde vor."))
        return b
    for i, f in enumerate(shown, 1):
        b.extend(_finding_blocks(data, f, f"Befund {i}"))
    return b


def _measure_label(ws: pd.DataFrame, mid: str) -> str:
    row = ws[ws.measure_id == mid]
    if row.empty:
        return mid
    r = row.iloc[0]
    bits = [f"Workshop {r.workshop}"]
    if pd.notna(r.Rang):
        bits.append(f"Rang {int(r.Rang)}")
    if pd.notna(r.Punkte):
        bits.append(noun(int(r.Punkte), "Punkt", "Punkte"))
    if str(r["Zuständigkeit"]).strip():
        bits.append(f"zuständig: {r['Zuständigkeit']}")
    return f"„{r['Maßnahme']}“ ({', '.join(bits)})"


def _recommendations_section(data: ReportData, code: str, term: Term) -> list[Block]:
    ff = _findings_file(data, code)
    shown = _shown(data, ff.recommendations) if ff else []
    b = [Block("heading", text="Handlungsempfehlungen")]
    if not shown:
        b.append(Block("para", text=f"Zu {term.this_dat} liegen noch keine freigegebenen Handlungsempfehlungen vor."))
        return b
    labels = _numbering(data)
    ws = workshop_measures(data.project)
    for i, r in enumerate(shown, 1):
        draft = r.status != "approved"
        b.append(Block("para", text=f"Empfehlung {i}{' (Entwurf, nicht freigegeben)' if draft else ''}: {r.text}"))
        parts = []
        if r.findings:
            parts.append("Folgt aus " + join_de([labels.get(fid, fid) for fid in r.findings]) + ".")
        if r.measures:
            parts.append("Greift auf: " + "; ".join(_measure_label(ws, m) for m in r.measures) + ".")
        if parts:
            b.append(Block("note", text=" ".join(parts)))
    return b


# -- contrasts and coverage ------------------------------------------------------------------------------------

def _contrast_section(data: ReportData, code: str, term: Term) -> list[Block]:
    s = data.settings
    place = data.place_variable
    codes = [code, *[c.name for c in data.cb.children(code)]]
    b = [Block("heading", text=f"Unterschiede zwischen {dative_plural(data.plural(place))} und Gruppen")]
    found: list[pd.DataFrame] = []
    for kind in ("interview", "survey"):
        for var in data.compared_variables(kind):
            c = contrasts(data, codes, kind, var, min_base=max(3, s.k))
            if not c.empty:
                found.append(c.assign(kind=kind))
    sentences: list[str] = []
    quotes: list[Block] = []
    if found:
        # the clearest difference per code, then per group: a table, and the three clearest in words
        allc = (pd.concat(found).sort_values(["p", "code"], kind="stable").drop_duplicates("code")
                .drop_duplicates(["variable", "value"]).head(8))
        rows = []
        for r in allc.itertuples():
            who = "Interviewte" if r.kind == "interview" else "Befragte"
            more = "häufiger" if r.direction == "more" else "seltener"
            rows.append((r.code, f"{who}: {r.variable} „{r.value}“",
                         share_phrase(r.n, r.total), share_phrase(r.rest_n, r.rest_total), more))
            if len(sentences) < 3:
                sentences.append(f"{who} mit {r.variable} „{r.value}“ sprachen „{r.code}“ {more} an als die übrigen "
                                 f"({share_phrase(r.n, r.total)} gegenüber {share_phrase(r.rest_n, r.rest_total)}).")
            if r.kind == "survey" and r.direction == "more" and len(quotes) < 2:
                # a survey group is large enough to quote from; an interview group of one town is not
                u = data.units_with([r.code], kinds=("survey",))
                quotes.extend(data.quotes(u[u[r.variable].astype(str) == str(r.value)], 1, codes=[r.code]))
        b.append(Block("para", text=" ".join(sentences)))
        b.append(Block.table(pd.DataFrame(rows, columns=["Thema", "Gruppe", "in der Gruppe", "übrige Personen",
                                                         "Richtung"]),
                             "Deutliche Unterschiede (Personen mit Nennung von allen Personen der Gruppe)"))
        b.extend(quotes)
    else:
        b.append(Block("para", text="Zwischen den Gruppen und Orten zeigen sich keine deutlichen Unterschiede "
                                    "(Kriterium im Methodenteil)."))
    # interviews and survey: ranks within each, never shares side by side
    sub = subcode_table(data, code)
    if not sub.empty and sub.statements.sum() and sub.answers.sum():
        iv_top = sub.sort_values(["interview_persons", "subcode"], ascending=[False, True]).subcode.iloc[0]
        sv_top = sub.sort_values(["respondents", "subcode"], ascending=[False, True]).subcode.iloc[0]
        same = iv_top == sv_top
        # the subcode table comes later (its own section): cited by its key, so the paragraph is not taken to
        # introduce the table right after it
        cite = f" ([[{_subcode_key(code)}]])"
        b.append(Block("para", text=(
            f"In den Interviews wie in der Online-Befragung wurde „{iv_top}“ von den meisten Personen angesprochen"
            f"{cite}." if same else f"In den Interviews wurde „{iv_top}“ von den meisten Personen angesprochen, in "
                                    f"der Online-Befragung „{sv_top}“{cite}.")))
    # the survey by place: most respondents name their place
    bases = data.base_counts("survey", place)
    if bases is not None and (bases.index != MISSING).any():
        mentioned = data.units_with([code], kinds=("survey",))
        by_place = []
        for value, persons in bases.items():
            base = int(persons)
            hit = int(mentioned[with_missing(mentioned[place]) == value].person_id.nunique())
            by_place.append((value, hit, base, pct(hit, base) if base >= 20 else "–"))
        t = pd.DataFrame(by_place, columns=[place, "Befragte mit Nennung", "Befragte mit offenen Antworten",
                                        "Anteil (ab 20 Befragten)"])
        b.append(Block("para", text=f"In der Online-Befragung je {place}: Befragte, die {term.acc} ansprachen, von "
                                    "allen Befragten mit offenen Antworten; einen Anteil nennt die Tabelle erst ab 20 "
                                    "Befragten."))
        b.append(Block.table(t, f"Online-Befragung nach {place}: Befragte, die {term.acc} ansprachen"))
    return b


def _coverage_section(data: ReportData, code: str, term: Term, figures: Path) -> list[Block]:
    s = data.settings
    u = data.units_with([code])
    b = [Block("heading", text=f"Wo und von wem {term.nom} angesprochen wurde")]
    b.append(Block("para", text=coverage_sentence(
        term, code, persons=data.persons(u, "interview"), persons_total=data.total("interview"),
        turns=int((u.kind == "interview").sum()), answers=int((u.kind == "survey").sum()),
        respondents=data.persons(u, "survey"), respondents_total=data.total("survey"))))
    var = choice_variable(data)
    if var:
        counts = choice_counts(data, var)
        n = int(counts.get(code, 0))
        rank = 1 + int((counts > n).sum())
        b.append(Block("para", text=(
            f"Bei der geschlossenen Frage „{var}“ wählten {share_phrase(n, int(counts.sum()), 'Befragten')} {term.acc} "
            f"„{code}“ (Platz {rank} von {len(data.primary)}).")))
    place = data.place_variable
    slug_ = slug(code)
    for var_ in dict.fromkeys((*s.attribution, place)):
        t = counts_by(data, u, "interview", var_)
        if t.empty:
            continue
        shown = t.rename(columns={"n": "Interviewte mit Nennung", "total": "Interviewte"})
        # the k rule in tables: a group of fewer than k persons shows no counts (qualkit.privacy.small_counts)
        b.append(Block.table(small_counts(shown, [], k=s.k, total="Interviewte", also=["Interviewte mit Nennung"]),
                             f"Interviews nach {var_}"))
        if s.attribution and var_ == s.attribution[0]:
            path = figures / f"{slug_}-{slug(var_)}.png"
            colour = data.cb.codes[code].colour
            alt = bar_figure(t[t.total >= s.k], var_, colour, f"{code}: Interviews nach {var_}", path)
            b.append(Block("figure", text=f"Interviewte je {var_}, die {term.acc} „{code}“ ansprachen "
                                          "(Anzahl und Basis an jedem Balken)", path=f"figures/{path.name}", alt=alt))
    for var_ in s.survey_attribution:
        t = counts_by(data, u, "survey", var_)
        if not t.empty:
            t = t.rename(columns={"n": "Befragte mit Nennung", "total": "Befragte"})
            b.append(Block.table(small_counts(t, [], k=s.k, total="Befragte", also=["Befragte mit Nennung"]),
                                 f"Online-Befragung nach {var_}"))
    return b


def _subcode_key(code: str) -> str:
    return f"unterkategorien-{slug(code)}"


def _subcode_section(data: ReportData, code: str) -> list[Block]:
    sub = subcode_table(data, code)
    if sub.empty:
        return []
    not_asked = "nicht erfragt"
    t = pd.DataFrame({"Unterkategorie": sub.subcode, "Interviewte": sub.interview_persons, "Aussagen": sub.statements})
    if data.total("survey"):
        t["Befragte"] = [str(n) if a else not_asked for n, a in zip(sub.respondents, sub.asked)]
        t["Antworten"] = [str(n) if a else not_asked for n, a in zip(sub.answers, sub.asked)]
    b = [Block("heading", text="Unterkategorien"),
         Block.table(t, "Unterkategorien: Personen und Aussagen", key=_subcode_key(code))]
    if not sub.asked.all():
        b.append(Block("note", text="„nicht erfragt“: Diese Unterkategorie kommt in keiner Antwort der "
                                    "Online-Befragung vor, weil keine ihrer Fragen danach fragte; eine Null wäre "
                                    "hier kein Befund."))
    return b


def _other_dimensions_section(data: ReportData, code: str) -> list[Block]:
    """Dimensions after the second (in the example: target groups): which of their codes the statements of
    ``code`` carry as well."""
    u = data.units_with([code])
    ids = set(u.unit_id)
    b: list[Block] = []
    for dim in data.cb.dimensions[2:]:
        lab = data.labels[data.labels.unit_id.isin(ids) & (data.labels.root.isin(list(dim.codes)))]
        if lab.empty:
            continue
        merged = lab.drop_duplicates(["unit_id", "root"]).merge(u[["unit_id", "person_id", "kind"]], on="unit_id")
        rows = [(c, int((merged[merged.root == c].kind == "interview").sum()),
                 int((merged[merged.root == c].kind == "survey").sum()),
                 int(merged[merged.root == c].person_id.nunique())) for c in dim.codes]
        t = pd.DataFrame(rows, columns=[dim.name, "Aussagen (Interviews)", "Antworten (Befragung)", "Personen"])
        b += [Block("heading", text=f"{dim.name} in diesen Aussagen"), Block.table(t, f"{dim.name}: gemeinsam codiert")]
    return b


def _second_dimension_section(data: ReportData, code: str, term: Term) -> list[Block]:
    second = data.cb.dimensions[1] if len(data.cb.dimensions) > 1 else None
    if second is None:
        return []
    u = data.units_with([code])
    b = [Block("heading", text=f"Ergebnisse nach {second.name}")]
    for name in second.codes:
        both = u[u.unit_id.isin(set(data.units_with([name]).unit_id))]
        b.append(Block("heading", text=name, level=3))
        if both.empty:
            b.append(Block("para", text=f"Dazu gibt es {term.dat} keine codierten Aussagen."))
            continue
        top = (data.labels[data.labels.unit_id.isin(set(both.unit_id)) & (data.labels.root == code)
                           & (data.labels.code != code)]
               .groupby("code").unit_id.nunique().sort_values(ascending=False, kind="stable"))
        lead = join_de([f"„{k}“ ({v})" for k, v in top.head(3).items()])
        b.append(Block("para", text=(
            f"{noun(len(both), 'Aussage', 'Aussagen')} von {num(data.persons(both, 'interview'))} Interviewten "
            f"und {num(data.persons(both, 'survey'))} Befragten."
            + (f" Am häufigsten betroffene Unterkategorien: {lead}." if lead else ""))))
        b.extend(data.quotes(both, data.settings.n_quotes, codes=[code, name], within=u))
    return b


def _themes_section(data: ReportData, code: str, term: Term, res: Any) -> list[Block]:
    s = data.settings
    b = [Block("heading", text=f"Themen innerhalb {term.gen}")]
    if res.themes.empty or res.k < 2:
        n = int(res.themes["size"].sum()) if not res.themes.empty else 0
        b.append(Block("para", text=(
            "Für eine Themenbildung liegen zu wenige Aussagen vor "
            f"({noun(n, 'deutschsprachige Aussage', 'deutschsprachige Aussagen')}; "
            f"jedes Thema braucht mindestens {s.min_theme_size}, und es braucht mindestens zwei Themen).")))
        return b
    b.append(Block("para", text=(
        f"Die {num(int(res.themes['size'].sum()))} deutschsprachigen Aussagen lassen sich {number_of(res.k)} Themen "
        f"zuordnen, die ein Verfahren der automatischen Textgruppierung vorschlägt (siehe Methodenteil). "
        f"{noun(len(res.set_aside), 'Aussage wurde', 'Aussagen wurden')} nicht einbezogen (nicht deutschsprachig "
        "oder ohne Inhaltswörter). Die Themen sind eine Lesehilfe, kein Befund.")))
    place = data.place_variable
    places_col = next((c for c in ("places", "kommunen") if c in res.themes.columns), None)
    cols = ["theme", "label", "size", "documents"] + ([places_col] if places_col else [])
    # theme labels and headings name no place (qualkit.reidentify.Guard.clean_label)
    themes = res.themes.assign(label=[data.guard.clean_label(x) for x in res.themes.label])
    t = themes[cols].rename(columns={"theme": "Thema", "label": "Kennzeichnende Begriffe", "size": "Aussagen",
                                         "documents": "Dokumente", places_col or "": f"{data.plural(place)} (Anzahl)"})
    b.append(Block.table(t, "Themen"))
    by_unit = data.units.set_index("unit_id")
    for r in res.themes.itertuples():
        b.append(Block("heading", text=f"Thema {r.theme}: {data.guard.clean_label(r.label)}", level=3))
        members = [by_unit.loc[q["unit_id"]] for q in r.quotes if q["unit_id"] in by_unit.index]
        rest = res.assignments[res.assignments.theme == r.theme].sort_values(["similarity", "unit_id"],
                                                                            ascending=[False, True]).unit_id
        b.extend(data.theme_quotes(members, r.terms, code=code, more=[i for i in rest if i in by_unit.index]))
    return b


def number_of(n: int) -> str:
    from .prose import number_word
    return number_word(n, feminine=False)


def _cooccurrence_section(data: ReportData, code: str, term: Term) -> list[Block]:
    b = [Block("heading", text=f"Gemeinsam genannte {term.plural}")]
    pairs = data.primary_pairs
    mine = pairs[(pairs.code_a == code) | (pairs.code_b == code)].copy()
    if mine.empty:
        b.append(Block("para", text="Keine gemeinsamen Nennungen."))
        return b
    mine[term.singular] = [b_ if a == code else a for a, b_ in zip(mine.code_a, mine.code_b)]
    t = mine[[term.singular, "n_both"]].rename(columns={"n_both": "Aussagen mit beiden"})
    t = t.sort_values(["Aussagen mit beiden", term.singular], ascending=[False, True], kind="stable")
    b.append(Block.table(t.reset_index(drop=True), f"Aussagen, die zugleich {term.another_acc} berühren"))
    return b


def measure_support(data: ReportData, code: str, ws: pd.DataFrame) -> pd.DataFrame:
    """Per measure of ``code``: statements of the code whose words resemble the measure (TF-IDF over lemmas,
    cosine ≥ 0.15) and the subcode most of them carry: ``measure_id, similar, subcode``.  Machine-computed;
    the researchers' confirmed links are the findings' and recommendations' ``measures``."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity
    u = data.units_with([code])
    u = u[u.language.fillna("de").isin(["de", "und"])]
    if u.empty or ws.empty:
        return pd.DataFrame(columns=["measure_id", "similar", "subcode"])
    docs = [" ".join(a.terms) for a in data.pipe.analyse_in_parts(u.ptext)]
    mdocs = [" ".join(a.terms) for a in data.pipe.analyse(
        [f"{m} {d}" for m, d in zip(ws["Maßnahme"].astype(str), ws["Beschreibung"].fillna("").astype(str))])]
    try:
        vec = TfidfVectorizer(sublinear_tf=True).fit(docs + mdocs)
    except ValueError:
        return pd.DataFrame(columns=["measure_id", "similar", "subcode"])
    sims = cosine_similarity(vec.transform(mdocs), vec.transform(docs))
    subs = data.labels[(data.labels.root == code) & (data.labels.code != code)]
    rows = []
    for mid, row in zip(ws.measure_id, sims):
        hit = u.unit_id.to_numpy()[row >= 0.15]
        top = subs[subs.unit_id.isin(set(hit))].groupby("code").unit_id.nunique().sort_values(ascending=False, kind="stable")
        rows.append((mid, len(hit), str(top.index[0]) if len(top) else ""))
    return pd.DataFrame(rows, columns=["measure_id", "similar", "subcode"])


def _similar(support: pd.DataFrame, measure_id: str) -> str:
    if measure_id not in support.index or not support.similar.get(measure_id, 0):
        return "0"
    n, sub = int(support.similar[measure_id]), str(support.subcode[measure_id])
    return f"{n} (v. a. „{sub}“)" if sub else str(n)


def _workshop_section(data: ReportData, code: str, term: Term) -> list[Block]:
    folder = data.project.path(data.project.config["workshops"]["folder"])
    if not (folder.is_dir() and any(folder.glob("*.csv"))):
        return []
    ws = workshop_measures(data.project, code)
    b = [Block("heading", text="Maßnahmen aus den Workshops")]
    if ws.empty:
        b.append(Block("para", text=f"Zu {term.this_dat} liegen keine Workshop-Ergebnisse vor."))
        return b
    ff = _findings_file(data, code)
    labels = _numbering(data)
    confirmed: dict[str, list[str]] = {}
    for item in [*(_shown(data, ff.findings) if ff else []), *(_shown(data, ff.recommendations) if ff else [])]:
        for m in item.measures:
            confirmed.setdefault(m, []).append(labels.get(item.id, item.id))
    support = measure_support(data, code, ws).set_index("measure_id")
    b.append(Block("para", text=(
        "In den Workshops sammelten Fachleute Maßnahmen und gewichteten sie mit Punkten. Die Tabellen zeigen, "
        "welche Befunde und Empfehlungen eine Maßnahme aufgreift (von den Forschenden bestätigt) und wie viele "
        "Aussagen inhaltlich ähnlich sind (maschinell ermittelt, als Hinweis).")))
    for w, g in ws.groupby("workshop", sort=True):
        first = g.iloc[0]
        who = f", {noun(int(first.teilnehmende), 'Teilnehmende', 'Teilnehmende')}" if pd.notna(first.teilnehmende) else ""
        where = f", {first.ort}" if str(first.ort).strip() else ""
        t = pd.DataFrame({
            "Rang": g["Rang"].astype("Int64"), "Maßnahme": g["Maßnahme"], "Beschreibung": g["Beschreibung"],
            "Zuständigkeit": g["Zuständigkeit"], "Punkte": g["Punkte"].astype("Int64"),
            "Aufgegriffen in": [join_de(confirmed.get(m, [])) or "–" for m in g.measure_id],
            "ähnliche Aussagen": [_similar(support, m) for m in g.measure_id]})
        b.append(Block.table(t.reset_index(drop=True), f"Workshop {w} am {date_de(first.datum)}{where}{who}: "
                                                       "priorisierte Maßnahmen"))
    return b


def _wordcloud_section(data: ReportData, code: str, figures: Path) -> list[Block]:
    from .words import word_counts
    u = data.units_with([code])
    german = u[u.language.fillna("de").isin(["de", "und"])]
    # pseudonyms and masks ("[Person 3]", "[Stadtteil]") are not words of the speakers
    texts = [re.sub(r"\[[^\]\n]{1,40}\]", " ", t) for t in german.ptext]
    counts, forms = word_counts(data.pipe, texts)
    shown = {max(forms.get(t, {t: 1}).items(), key=lambda kv: (kv[1], kv[0]))[0]: n
             for t, n in counts.items() if n >= 2}
    path = figures / f"{slug(code)}-wortwolke.png"
    alt = wordcloud_png(shown, data.cb.codes[code].colour, path, random_state=data.settings.seed)
    top = sorted(shown.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
    return [Block("heading", text="Wortwolke und Schlüsselbegriffe"),
            Block("figure", text=f"Wortwolke der Aussagen zu „{code}“: je größer ein Wort, desto häufiger kommt es "
                                 "vor (Grundformen, ohne Füllwörter)", path=f"figures/{path.name}", alt=alt),
            Block.table(pd.DataFrame(top, columns=["Begriff", "Häufigkeit"]), "Häufigste Begriffe")]


def _memo_section(data: ReportData, code: str) -> list[Block]:
    cb = data.cb
    b = [Block("heading", text="Forschungsmemo")]
    ff = _findings_file(data, code)
    if ff and ff.memo and ff.memo.for_report and ff.memo.text:
        b.append(Block("para", text=f"{ff.memo.title}: {data.pseudo.pseudonymise(ff.memo.text)}" if ff.memo.title
                       else data.pseudo.pseudonymise(ff.memo.text)))
    names = cb.descendants(code)
    memos = data.project.store.frame(
        "SELECT m.title, m.text FROM memos m LEFT JOIN codes k ON k.id=m.code_id "
        f"WHERE m.for_report=1 AND (k.name IN ({','.join('?' * len(names))})) ORDER BY m.id", tuple(names))
    for m in memos.itertuples():
        b.append(Block("para", text=f"{m.title}: {data.pseudo.pseudonymise(m.text)}"))
    if len(b) == 1:
        b.append(Block("para", text="Kein für den Bericht markiertes Memo."))
    return b


def _dedupe_quotes(blocks: list[Block]) -> list[Block]:
    """No quote twice in a chapter (the same words from a finding, a section and a theme)."""
    seen: set[str] = set()
    out = []
    for b in blocks:
        if b.kind == "quote":
            key = " ".join(b.text.strip(" …").casefold().split())
            if key in seen:
                continue
            seen.add(key)
        out.append(b)
    return out


def chapter_units(data: ReportData, code: str) -> set[int]:
    """The units :func:`chapter_blocks` reads: those coded with ``code`` or below it (duplicate submissions
    included, which its themes are found in) and those its findings cite (passages and code evidence)."""
    ids = set(data.coded_units(code).unit_id.tolist())
    ff = _findings_file(data, code)
    for f in ff.findings if ff else []:
        ids |= set(resolve_evidence(data, f, units_only=True)[0].unit_id.tolist())
    return ids


def chapter_blocks(data: ReportData, code: str, figures: Path) -> list[Block]:
    """The findings chapter of one code of the primary dimension."""
    term = Term.of(data.cb.primary)
    s = data.settings
    data.begin_chapter(code)
    b: list[Block] = [Block("heading", text=f"{term.singular} „{code}“", level=1),
                      Block("para", text=data.cb.get(code).definition)]
    b += _findings_section(data, code, term)
    b += _contrast_section(data, code, term)
    b += _coverage_section(data, code, term, figures)
    b += _subcode_section(data, code)
    b += _other_dimensions_section(data, code)
    b += _second_dimension_section(data, code, term)
    res = find_themes(data.project, code, origins=s.origins, coders=s.coders or None, min_size=s.min_theme_size,
                      random_state=s.seed, pipeline=data.pipe, n_quotes=6, labels=data.labels,
                      units=data.coded_units(code))
    b += _themes_section(data, code, term, res)
    b += _cooccurrence_section(data, code, term)
    b += _workshop_section(data, code, term)
    b += _wordcloud_section(data, code, figures)
    b += _memo_section(data, code)
    b += _recommendations_section(data, code, term)
    b.append(Block("note", text=_method_note(data)))
    return _dedupe_quotes(b)


# -- method, overview, summary, survey ------------------------------------------------------------------------

def _place_rule(data: ReportData) -> str:
    kinds = masked_sources(data.project, data.settings.attribution)
    if not kinds:
        return ""
    where = join_de([x for x, k in (("Interviewzitaten", "interview"), ("Umfragezitaten", "survey")) if k in kinds])
    place = data.place_variable
    return (f" In {where} sind der eigene Ort der zitierten Person ({place}) und seine Teilorte durch Platzhalter "
            f"ersetzt, weil {join_de(list(data.settings.attribution)) or 'Rolle'} und {place} zusammen eine Person "
            "erkennbar machen.")


def _method_note(data: ReportData) -> str:
    s = data.settings
    origins = {"manual": "manuelle", "imported": "importierte (Referenzcodierung)",
               "auto-accepted": "bestätigte automatische", "auto-pending": "unbestätigte automatische"}
    who = f" von {join_de(list(s.coders))}" if s.coders else \
        " (je Dokument die Konsenscodierung, sonst die der Erstcodierung)"
    attr = f"nach {join_de(list(s.attribution))}" if s.attribution else "nur nach Quelle"
    sattr = f"nach {join_de(list(s.survey_attribution))}" if s.survey_attribution else "nur nach Quelle"
    mode = " Entwurfsfassung: Entwürfe sind als solche markiert." if s.mode == "draft" else ""
    return (f"Gezählt werden {join_de([origins.get(o, o) for o in s.origins])} Codierungen{who}; eine Aussage ist "
            f"ein Redebeitrag einer interviewten Person, eine Antwort eine offene Antwort der Befragung. Zitate sind "
            f"pseudonymisiert und {attr} (Interviews) bzw. {sattr} (Befragung) zugeordnet; Gruppen mit weniger "
            f"als {s.k} Personen werden nicht genannt, auch nicht in Tabellen. {SELECTION_RULE}{mode}")

