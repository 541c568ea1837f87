"""The findings chapters as blocks: assembly of data (:mod:`qualkit.reportdata`), findings and
recommendations (:mod:`qualkit.findings`), German text (:mod:`qualkit.prose`) and figures
(:mod:`qualkit.figures`).

A chapter of a code opens with the researchers' findings, each with its evidence and supporting quotes,
shows where groups and places differ, then the coverage, subcodes, themes and workshop measures as evidence,
and ends with the recommendations.  :func:`summary_blocks` is the short summary at the top of the report,
:func:`overview_blocks` the data and method chapter, :func:`survey_blocks` the open survey answers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from .analysis import cooccurrence
from .blocks import Block
from .figures import bar_figure, coverage_figure, wordcloud_png
from .findings import Finding, FindingsFile, evidence_stats, load_findings, resolve_evidence, slug
from .participants import formats
from .privacy import masked_sources
from .prose import (
    Term,
    coverage_sentence,
    date_de,
    evidence_sentence,
    join_de,
    noun,
    num,
    pct,
    share_phrase,
)
from .reportdata import (
    MISSING,
    ReportData,
    ReportSettings,
    choice_variable,
    contrasts,
    counts_by,
    duplicate_submissions,
    subcode_table,
)
from .survey import FINISHED
from .themes import find_themes
from .workshops import workshop_measures

__all__ = ["ReportData", "ReportSettings", "chapter_blocks", "measure_support", "overview_blocks", "summary_blocks",
           "survey_blocks"]

_slug = slug  # the chapter file names use the same slug as the findings files


# -- findings and recommendations ------------------------------------------------------------------------------

def _findings_file(data: ReportData, code: str) -> FindingsFile | None:
    cache = data.__dict__.setdefault("_findings", None)
    if cache is None:
        cache = {ff.code: ff for ff in load_findings(data.project)}
        data.__dict__["_findings"] = cache
    return cache.get(code)


def _shown(data: ReportData, items: list[Any]) -> list[Any]:
    """Approved items first; drafts only in a draft run."""
    approved = [i for i in items if i.status == "approved"]
    drafts = [i for i in items if i.status != "approved"] if data.settings.mode == "draft" else []
    return approved + drafts


def _numbering(data: ReportData) -> dict[str, str]:
    """"Befund 2" / "Empfehlung 1" labels of every shown item, per code (the chapter's own numbering)."""
    out: dict[str, str] = {}
    for ff in (data.__dict__.get("_findings") or {}).values():
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
    b = [Block("heading", text=f"Unterschiede zwischen {data.plural(place)} und Gruppen")]
    found: list[pd.DataFrame] = []
    for kind, variables in (("interview", [*s.attribution, place]), ("survey", [*s.survey_attribution, place])):
        for var in dict.fromkeys(variables):
            c = contrasts(data, codes, kind, var, min_base=max(3, s.k))
            if not c.empty:
                found.append(c.assign(kind=kind))
    sentences = []
    quotes: list[Block] = []
    if found:
        allc = pd.concat(found).sort_values(["p", "code"], kind="stable").head(6)
        for r in allc.itertuples():
            who, dat = ("Interviewte", "Interviewten") if r.kind == "interview" else ("Befragte", "Befragten")
            more = "häufiger" if r.direction == "more" else "seltener"
            sentences.append(f"„{r.code}“ sprachen {who} mit {r.variable} „{r.value}“ {more} an als die übrigen: "
                             f"{share_phrase(r.n, r.total, dat)} gegenüber {share_phrase(r.rest_n, r.rest_total)}.")
            if r.kind == "survey" and r.direction == "more" and len(quotes) < 2:
                # a survey group is large enough to quote from; an interview group of one town is not
                u = data.units_with([r.code], kinds=("survey",))
                quotes.extend(data.quotes(u[u[r.variable].astype(str) == str(r.value)], 1))
        b.append(Block("para", text=" ".join(sentences)))
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
        b.append(Block("para", text=(
            f"In den Interviews wie in der Online-Befragung wurde „{iv_top}“ von den meisten Personen angesprochen."
            if same else f"In den Interviews wurde „{iv_top}“ von den meisten Personen angesprochen, in der "
                         f"Online-Befragung „{sv_top}“.")))
    # the survey by place: most respondents name their place
    sv = data.units[data.units.kind == "survey"]
    if place in sv.columns and sv[place].notna().any():
        rows = []
        for value, g in sv.groupby(sv[place].fillna(MISSING)):
            base = int(g.person_id.nunique())
            hit = int(data.units_with([code], kinds=("survey",)).pipe(lambda d, v=value: d[d[place].fillna(MISSING) == v])
                      .person_id.nunique())
            rows.append((value, hit, base, pct(hit, base) if base >= 20 else "–"))
        t = pd.DataFrame(rows, columns=[place, "Befragte mit Nennung", "Befragte mit offenen Antworten",
                                        "Anteil (ab 20 Befragten)"])
        b.append(Block.table(t, f"Online-Befragung nach {place}: Befragte, die {term.nom} ansprachen"))
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
        rs = data.cases[data.cases.case_kind == "respondent"][var].dropna()
        counts = rs.value_counts()
        n = int(counts.get(code, 0))
        rank = 1 + int((counts > n).sum())
        b.append(Block("para", text=(
            f"Bei der geschlossenen Frage „{var}“ wählten {share_phrase(n, len(rs), 'Befragten')} {term.nom} "
            f"„{code}“ (Platz {rank} von {len(data.primary)}).")))
    place = data.place_variable
    slug_ = slug(code)
    for var_ in dict.fromkeys((*s.attribution, place)):
        t = counts_by(data, u, "interview", var_)
        if t.empty:
            continue
        shown = t.rename(columns={"n": "Interviewte mit Nennung", "total": "Interviewte"})
        b.append(Block.table(shown, f"Interviews nach {var_}"))
        if s.attribution and var_ == s.attribution[0]:
            path = figures / f"{slug_}-{slug(var_)}.png"
            colour = data.cb.codes[code].colour
            bar_figure(t, var_, colour, f"{code}: Interviews nach {var_}", path)
            b.append(Block("figure", text=f"Abbildung: Interviewte je {var_}, die {term.nom} „{code}“ ansprachen "
                                          "(Anzahl und Basis an jedem Balken)", path=f"figures/{path.name}"))
    for var_ in s.survey_attribution:
        t = counts_by(data, u, "survey", var_)
        if not t.empty:
            b.append(Block.table(t.rename(columns={"n": "Befragte mit Nennung", "total": "Befragte"}),
                                 f"Online-Befragung nach {var_}"))
    return b


def _subcode_section(data: ReportData, code: str) -> list[Block]:
    sub = subcode_table(data, code)
    if sub.empty:
        return []
    not_asked = "nicht erfragt"
    t = pd.DataFrame({
        "Unterkategorie": sub.subcode, "Interviewte": sub.interview_persons, "Aussagen": sub.statements,
        "Befragte": [str(n) if a else not_asked for n, a in zip(sub.respondents, sub.asked)],
        "Antworten": [str(n) if a else not_asked for n, a in zip(sub.answers, sub.asked)]})
    b = [Block("heading", text="Unterkategorien"), Block.table(t, "Unterkategorien: Personen und Aussagen")]
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
            f"{noun(len(both), 'Aussage', 'Aussagen')} von {noun(data.persons(both, 'interview'), 'Interviewten', 'Interviewten')} "
            f"und {noun(data.persons(both, 'survey'), 'Befragten', 'Befragten')}."
            + (f" Am häufigsten betroffene Unterkategorien: {lead}." if lead else ""))))
        b.extend(data.quotes(both, data.settings.n_quotes))
    return b


def _themes_section(data: ReportData, code: str, term: Term, res: Any) -> list[Block]:
    s = data.settings
    b = [Block("heading", text=f"Themen innerhalb {term.gen}")]
    if res.themes.empty or res.k < 2:
        n = int(res.themes["size"].sum()) if not res.themes.empty else 0
        b.append(Block("para", text=(
            f"Für eine Themenbildung liegen zu wenige Aussagen vor ({noun(n, 'deutschsprachige Aussage', 'deutschsprachige Aussagen')}; "
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
    t = res.themes[cols].rename(columns={"theme": "Thema", "label": "Kennzeichnende Begriffe", "size": "Aussagen",
                                         "documents": "Dokumente", places_col or "": f"{data.plural(place)} (Anzahl)"})
    b.append(Block.table(t, "Themen"))
    by_unit = data.units.set_index("unit_id")
    for r in res.themes.itertuples():
        b.append(Block("heading", text=f"Thema {r.theme}: {r.label}", level=3))
        members = [by_unit.loc[q["unit_id"]] for q in r.quotes if q["unit_id"] in by_unit.index]
        b.extend(data.theme_quotes(members, r.terms))
    return b


def number_of(n: int) -> str:
    from .prose import number_word
    return number_word(n, feminine=False)


def _cooccurrence_section(data: ReportData, code: str, term: Term) -> list[Block]:
    s = data.settings
    b = [Block("heading", text=f"Gemeinsam genannte {term.plural}")]
    pairs = cooccurrence(data.project, dimension=data.cb.primary.key, origins=s.origins, coders=s.coders or None)
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
    docs = [" ".join(a.terms) for a in data.pipe.analyse(list(u.ptext))]
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
            "ähnliche Aussagen": [int(support.similar.get(m, 0)) if m in support.index else 0 for m in g.measure_id]})
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
    wordcloud_png(shown, data.cb.codes[code].colour, path, random_state=data.settings.seed)
    top = sorted(shown.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
    return [Block("heading", text="Wortwolke und Schlüsselbegriffe"),
            Block("figure", text=f"Wortwolke der Aussagen zu „{code}“: je größer ein Wort, desto häufiger kommt es "
                                 "vor (Grundformen, ohne Füllwörter)", path=f"figures/{path.name}"),
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


def chapter_blocks(data: ReportData, code: str, figures: Path) -> list[Block]:
    """The findings chapter of one code of the primary dimension."""
    term = Term.of(data.cb.primary)
    s = data.settings
    b: list[Block] = [Block("heading", text=f"{term.singular} „{code}“", level=1),
                      Block("para", text=data.cb.get(code).definition)]
    b += _findings_section(data, code, term)
    b += _contrast_section(data, code, term)
    b += _coverage_section(data, code, term, figures)
    b += _subcode_section(data, code)
    b += _other_dimensions_section(data, code)
    b += _second_dimension_section(data, code, term)
    res = find_themes(data.project, code, origins=s.origins, coders=s.coders or None, min_size=s.min_theme_size,
                      random_state=s.seed, pipeline=data.pipe, n_quotes=6)
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
    who = f" von {join_de(list(s.coders))}" if s.coders else " (je Dokument die Konsenscodierung, sonst die der Erstcodierung)"
    attr = (f"nach {join_de(list(s.attribution))} (Interviews)" if s.attribution else "nur nach Quelle (Interviews)")
    sattr = (f"nach {join_de(list(s.survey_attribution))} (Befragung)" if s.survey_attribution else "nur nach Quelle (Befragung)")
    mode = " Entwurfsfassung: Entwürfe sind als solche markiert." if s.mode == "draft" else ""
    return (f"Gezählt werden {join_de([origins.get(o, o) for o in s.origins])} Codierungen{who}; eine Aussage ist "
            f"ein Redebeitrag einer interviewten Person, eine Antwort eine offene Antwort der Befragung. Zitate sind "
            f"pseudonymisiert und {attr} bzw. {sattr} zugeordnet; Gruppen mit weniger als {s.k} Personen werden "
            f"nicht genannt.{mode}")


def summary_blocks(data: ReportData) -> list[Block]:
    """The short summary at the top of the report: the key findings of every code and the top workshop
    priorities, for readers who read nothing else (about two pages)."""
    term = Term.of(data.cb.primary)
    b = [Block("heading", text="Zusammenfassung", level=1),
         Block("para", text=(
             f"Diese Zusammenfassung nennt je {term.singular} die wichtigsten Befunde der Auswertung und die von den "
             f"Workshops am höchsten gewichteten Maßnahmen. Belege, Zitate und Empfehlungen stehen in den Kapiteln "
             f"der {term.plural}."))]
    ws = workshop_measures(data.project)
    for code in data.primary:
        ff = _findings_file(data, code)
        findings = [f for f in (_shown(data, ff.findings) if ff else []) if f.status == "approved"][:3]
        recs = [r for r in (_shown(data, ff.recommendations) if ff else []) if r.status == "approved"][:2]
        b.append(Block("heading", text=code, level=3))
        if findings:
            b.extend(Block("para", text=f"• {f.text}") for f in findings)
        else:
            b.append(Block("para", text="Noch keine freigegebenen Befunde."))
        if recs:
            b.append(Block("para", text="Empfohlen: " + " ".join(r.text for r in recs)))
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
    place = data.place_variable
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
            t = iv[var].fillna(MISSING).value_counts().sort_index().rename_axis(var).reset_index(name="Interviews")
            b.append(Block.table(t, f"Interviews nach {var}"))
    rs = cases[cases.case_kind == "respondent"]
    b.append(Block("heading", text="Online-Befragung"))
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
        f"{noun(int((data.units.kind == 'survey').sum()), 'offene Antwort', 'offene Antworten')} vor. "
        f"{noun(int(missing), 'Eintrag', 'Einträge')} wie „k.A.“ wurden als fehlende Antwort gewertet. "
        + (f"{noun(len(dup), 'Einsendung wiederholte', 'Einsendungen wiederholten')} eine frühere wörtlich "
           "(doppelt abgeschickt); sie wurden erkannt und nur einmal gezählt. " if len(dup) else "")
        + (f"Auswahl: {sampling}. " if sampling else "")
        + "Anteile der Befragung beziehen sich auf die Befragten mit offenen Antworten; sie sind nicht mit den "
          "Anteilen der Interviews vergleichbar.")))
    survey_vars = [*s.survey_attribution, place, *p.config["survey"]["variables"].values()]
    for var in dict.fromkeys(survey_vars):
        if var in rs.columns and rs[var].replace("", pd.NA).notna().any() and rs[var].nunique() <= 30:
            t = rs[var].fillna(MISSING).value_counts().sort_index().rename_axis(var).reset_index(name="Befragte")
            b.append(Block.table(t, f"Befragte nach der Angabe „{var}“"))
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
        u = data.units_with([f])
        summary.append((f, data.persons(u, "interview"), n_iv, int((u.kind == "interview").sum()),
                        data.persons(u, "survey"), n_sv, int((u.kind == "survey").sum())))
    df = pd.DataFrame(summary, columns=["code", "iv_n", "iv_total", "iv_units", "sv_n", "sv_total", "sv_units"])
    b.append(Block.table(pd.DataFrame({term.singular: df.code, "Interviewte mit Nennung": df.iv_n,
                                       "Aussagen": df.iv_units}), f"Interviews: Nennungen je {term.singular} "
                                                                  f"(Basis: {n_iv} Interviewte)"))
    if n_sv:
        b.append(Block.table(pd.DataFrame({term.singular: df.code, "Befragte mit Nennung": df.sv_n,
                                           "Antworten": df.sv_units}),
                             f"Online-Befragung: Nennungen je {term.singular} (Basis: {n_sv} Befragte)"))
    path = figures / "ueberblick.png"
    coverage_figure(df, {c: cb.codes[c].colour for c in data.primary}, path, label_col="code")
    b.append(Block("figure", text=f"Anteil der Interviewten (links) und der Befragten (rechts), die {term.indef_acc} "
                                  "ansprachen, je mit eigener Basis", path=f"figures/{path.name}"))
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
        t = t.rename(columns={"persons": "Personen", "too_small": "Zuordnung im Zitat"})
        b.append(Block.table(t, "Zuordnungsgruppen der Interviews"))
    b.append(Block("note", text=_method_note(data)))
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


def survey_blocks(data: ReportData, figures: Path) -> list[Block]:
    """The open survey answers by question and respondent type."""
    p = data.project
    s = data.settings
    term = Term.of(data.cb.primary)
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

