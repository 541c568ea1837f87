"""Analysis: code frequencies, crosstabs, the code × document matrix, co-occurrence and retrieval.

Every function takes ``origins`` and ``coders`` filters (see :func:`qualkit.units.coding_filter_sql`), so a
report can say exactly which codings it counts.  Counting is at the level of *units* (a respondent's
turn or a survey answer): a unit counts once for a code however many codings of it touch it.
``level="root"`` counts a subcode for its top-level code; ``level="code"`` counts each code as coded.

The same idea has the same keyword everywhere (also in :mod:`qualkit.themes` and :mod:`qualkit.words`):
``dimension=`` (a dimension key of the codebook), ``level=`` (``root``/``code``), ``by=`` (a case variable),
``kinds=`` (``interview``/``survey``), ``origins=`` and ``coders=``.  An unknown dimension, code or case
variable raises :class:`~qualkit.errors.UnknownNameError` listing the valid names.  Persons are counted by
``person_id`` (a participant of a group discussion is a person of its own).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from .errors import UnknownNameError
from .project import Project
from .units import HUMAN_ORIGINS, coding_filter_sql, slice_texts, unit_labels, unit_table, with_missing

__all__ = [
    "code_document_matrix",
    "code_frequencies",
    "cooccurrence",
    "cooccurrence_counts",
    "cooccurrence_matrix",
    "crosstab",
    "pairs_from_counts",
    "retrieve",
]


def _labelled(project: Project, *, dimension: str | None, level: str, origins: Sequence[str],
              coders: Iterable[str] | None, labels: pd.DataFrame | None = None) -> pd.DataFrame:
    check_level(level)
    lab = unit_labels(project, origins=origins, coders=coders) if labels is None else labels
    if dimension is not None:
        check_dimension(project, dimension)
        lab = lab[lab.dimension == dimension]
    lab = lab.assign(label=lab["root"] if level == "root" else lab["code"])
    return lab.drop_duplicates(["unit_id", "label"])[["unit_id", "label"]]


def check_level(level: str) -> None:
    """``level`` is ``root`` or ``code``, else :class:`UnknownNameError`."""
    if level not in ("root", "code"):
        raise UnknownNameError("level", level, ["root", "code"])


def check_dimension(project: Project, dimension: str) -> None:
    """The codebook has ``dimension``, else :class:`UnknownNameError` listing its dimensions."""
    keys = [d.key for d in project.codebook.dimensions]
    if dimension not in keys:
        raise UnknownNameError("dimension", dimension, keys)


def check_variable(frame: pd.DataFrame, variable: str) -> None:
    """``frame`` (a :func:`unit_table`) has the case variable ``variable``, else :class:`UnknownNameError`."""
    if variable not in frame.columns:
        raise UnknownNameError("case variable", variable, _variables(frame))


def _variables(frame: pd.DataFrame) -> list[str]:
    fixed = {"unit_id", "document_id", "case_id", "person_id", "kind", "question", "idx", "start", "end", "speaker",
             "language", "text", "codable", "quotable", "case_kind", "coding_id", "code", "coder", "origin", "status",
             "memo", "before", "after"}
    return sorted(c for c in frame.columns if c not in fixed)


def _order(project: Project, names: Iterable[str]) -> list[str]:
    pos = {n: i for i, n in enumerate(project.codebook.codes)}
    return sorted(set(names), key=lambda n: (pos.get(n, 10**6), n))


def code_frequencies(project: Project, *, dimension: str | None = None, level: str = "root",
                     by: str | None = None, kinds: Sequence[str] = ("interview", "survey"),
                     origins: Sequence[str] = HUMAN_ORIGINS, coders: Iterable[str] | None = None) -> pd.DataFrame:
    """How often each code came up.

    Returns columns ``code, kind, [by], units, documents, cases, persons, units_total, cases_total,
    persons_total, share_units, share_cases, share_persons``: coded units, documents, cases and persons
    (interviewees, participants of group discussions, respondents) per code, per source kind
    (``interview``/``survey``) and, with ``by``, per value of that case variable (missing values as one
    category); shares are of all units / cases / persons in the same group.  Codes are in codebook order.
    """
    units = unit_table(project, kinds=kinds)
    lab = _labelled(project, dimension=dimension, level=level, origins=origins, coders=coders)
    keys = ["kind"] + ([by] if by else [])
    if by:
        check_variable(units, by)
        units = units.assign(**{by: with_missing(units[by])})
    merged = lab.merge(units, on="unit_id")
    grouped = merged.groupby(["label", *keys])
    out = pd.DataFrame({"units": grouped.unit_id.nunique(), "documents": grouped.document_id.nunique(),
                        "cases": grouped.case_id.nunique(), "persons": grouped.person_id.nunique()}
                       ).reset_index().rename(columns={"label": "code"})
    totals = units.groupby(keys).agg(units_total=("unit_id", "nunique"), cases_total=("case_id", "nunique"),
                                     persons_total=("person_id", "nunique"))
    out = out.merge(totals.reset_index(), on=keys, how="left")
    out["share_units"] = out.units / out.units_total
    out["share_cases"] = out.cases / out.cases_total
    out["share_persons"] = out.persons / out.persons_total
    order = {n: i for i, n in enumerate(_order(project, out.code))}
    return out.sort_values(["kind", *([by] if by else []), "code"], key=lambda s: s.map(order) if s.name == "code"
                           else s).reset_index(drop=True)


def crosstab(project: Project, by: str, *, dimension: str | None = None, level: str = "root",
             count: str = "persons", kinds: Sequence[str] = ("interview", "survey"),
             origins: Sequence[str] = HUMAN_ORIGINS, coders: Iterable[str] | None = None,
             normalize: bool = False) -> pd.DataFrame:
    """Code × case-variable table: rows codes (codebook order), columns the values of the case variable
    ``by`` (sorted; missing values as one category, :data:`~qualkit.units.MISSING`).

    ``count`` is ``"persons"`` (persons who raised the code), ``"cases"``, ``"units"`` or ``"documents"``; with
    ``normalize`` each cell is divided by the number of persons (or cases/units/documents) with that value.
    """
    variable = by
    units = unit_table(project, kinds=kinds)
    check_variable(units, variable)
    columns = {"persons": "person_id", "cases": "case_id", "units": "unit_id", "documents": "document_id"}
    if count not in columns:
        raise UnknownNameError("count", count, list(columns))
    col = columns[count]
    units = units.assign(**{variable: with_missing(units[variable])})
    lab = _labelled(project, dimension=dimension, level=level, origins=origins, coders=coders)
    merged = lab.merge(units, on="unit_id")
    table = merged.groupby(["label", variable])[col].nunique().unstack(fill_value=0)
    rows = _order(project, table.index)
    table = table.reindex(index=rows, columns=sorted(units[variable].unique()), fill_value=0)
    if normalize:
        table = table / units.groupby(variable)[col].nunique().reindex(table.columns)
    table.index.name = "code"
    table.columns.name = variable
    return table


def code_document_matrix(project: Project, *, dimension: str | None = None, level: str = "root",
                         kinds: Sequence[str] = ("interview",), origins: Sequence[str] = HUMAN_ORIGINS,
                         coders: Iterable[str] | None = None) -> pd.DataFrame:
    """Code × document matrix of coded units (MAXQDA's Code Matrix Browser); documents sorted by id."""
    units = unit_table(project, kinds=kinds)
    lab = _labelled(project, dimension=dimension, level=level, origins=origins, coders=coders)
    merged = lab.merge(units, on="unit_id")
    m = merged.groupby(["label", "document_id"]).unit_id.nunique().unstack(fill_value=0)
    m = m.reindex(index=_order(project, m.index), columns=sorted(units.document_id.unique()), fill_value=0)
    m.index.name = "code"
    return m


def cooccurrence(project: Project, *, dimension: str | None = None, level: str = "root", mode: str = "unit",
                 origins: Sequence[str] = HUMAN_ORIGINS, coders: Iterable[str] | None = None,
                 labels: pd.DataFrame | None = None) -> pd.DataFrame:
    """Pairs of codes that occur together.

    ``mode="unit"``: both codes in the same unit; ``mode="overlap"``: two codings whose spans overlap.
    ``labels``: the :func:`~qualkit.units.unit_labels` frame for ``origins``/``coders``, if the caller has it
    (``mode="unit"`` only).
    Returns ``code_a, code_b, n_both, n_a, n_b, jaccard`` (n = units, or codings for overlap; Jaccard =
    n_both / (n_a + n_b - n_both)), one row per unordered pair with n_both > 0, sorted by Jaccard.
    """
    if dimension is not None:
        check_dimension(project, dimension)
    check_level(level)
    if mode == "unit":
        lab = _labelled(project, dimension=dimension, level=level, origins=origins, coders=coders, labels=labels)
        return pairs_from_counts(project, *_pair_counts(lab))
    elif mode == "overlap":
        cond, params = coding_filter_sql(origins, coders)
        df = project.store.frame(f'SELECT c.id, c.document_id, c.start, c."end", k.name AS code, k.dimension '
                                 f"FROM codings c JOIN codes k ON k.id=c.code_id WHERE {cond}", tuple(params))
        if dimension is not None:
            df = df[df.dimension == dimension]
        cb = project.codebook
        df["label"] = df.code.map(cb.root) if level == "root" else df.code
        pairs: dict[tuple[str, str], int] = {}
        for _, g in df.groupby("document_id"):
            rows = g.sort_values("start").to_dict("records")
            for i, a in enumerate(rows):
                for b in rows[i + 1:]:
                    if b["start"] >= a["end"]:
                        break
                    if a["label"] != b["label"]:
                        key = tuple(sorted((a["label"], b["label"])))
                        pairs[key] = pairs.get(key, 0) + 1
        counts = df.groupby("label").id.nunique().to_dict()
        rows_out = [(a, b, n, counts[a], counts[b], n / (counts[a] + counts[b] - n)) for (a, b), n in pairs.items()]
        return _pairs_frame(rows_out)
    else:
        raise ValueError("mode must be 'unit' or 'overlap'")


def cooccurrence_counts(project: Project, labels: pd.DataFrame, *, dimension: str | None = None,
                        level: str = "root") -> tuple[Counter[str], Counter[tuple[str, str]]]:
    """Units per label and units per pair of labels (the pair sorted) of ``labels`` (a
    :func:`~qualkit.units.unit_labels` frame): what :func:`cooccurrence` counts in ``mode="unit"``.  The counts of
    labels of different units add up, so a corpus can be counted in parts; :func:`pairs_from_counts` makes the
    table."""
    return _pair_counts(_labelled(project, dimension=dimension, level=level, origins=(), coders=None,
                                  labels=labels))


def _pair_counts(labelled: pd.DataFrame) -> tuple[Counter[str], Counter[tuple[str, str]]]:
    """:func:`cooccurrence_counts` of ``labelled`` (``unit_id, label``, a row per unit and label)."""
    n: Counter[str] = Counter(labelled.label.astype(str).tolist())
    both: Counter[tuple[str, str]] = Counter()
    if len(labelled):
        lab = labelled.assign(label=labelled.label.astype(str))
        pairs = lab.merge(lab, on="unit_id")
        pairs = pairs[pairs.label_x < pairs.label_y]
        both.update(zip(pairs.label_x.tolist(), pairs.label_y.tolist()))
    return n, both


def pairs_from_counts(project: Project, n: Counter[str], both: Counter[tuple[str, str]]) -> pd.DataFrame:
    """The :func:`cooccurrence` table of the counts :func:`cooccurrence_counts` gives."""
    names = _order(project, n)
    rows_out = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            k = both.get((a, b) if a < b else (b, a), 0)
            if k:
                rows_out.append((a, b, k, n[a], n[b], k / (n[a] + n[b] - k)))
    return _pairs_frame(rows_out)


def _pairs_frame(rows: list[tuple[str, str, int, int, int, float]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["code_a", "code_b", "n_both", "n_a", "n_b", "jaccard"])
    return df.sort_values(["jaccard", "code_a", "code_b"], ascending=[False, True, True]).reset_index(drop=True)


def cooccurrence_matrix(pairs: pd.DataFrame, *, value: str = "jaccard", order: Sequence[str] | None = None
                        ) -> pd.DataFrame:
    """Square symmetric matrix from :func:`cooccurrence` pairs (diagonal 1 for Jaccard, else 0)."""
    names = list(order) if order is not None else sorted(set(pairs.code_a) | set(pairs.code_b))
    m = pd.DataFrame(0.0, index=names, columns=names)
    for r in pairs.itertuples():
        if r.code_a in m.index and r.code_b in m.index:
            m.loc[r.code_a, r.code_b] = m.loc[r.code_b, r.code_a] = getattr(r, value)
    if value == "jaccard":
        for n in names:
            m.loc[n, n] = 1.0
    return m


def retrieve(project: Project, codes: Sequence[str] | str, *, mode: str = "any", level: str = "root",
             filters: Mapping[str, str | Sequence[str]] | None = None, origins: Sequence[str] = HUMAN_ORIGINS,
             coders: Iterable[str] | None = None, context: int = 0) -> pd.DataFrame:
    """Coded segments for a code or a combination of codes.

    ``mode="any"``: segments coded with any of ``codes``; ``"all"``: only units carrying all of them.
    ``level="root"`` includes subcodes of a top-level code.  ``filters`` restrict by case variables
    (``{"Region": ["Nord", "Süd"]}``).  ``context`` adds that many characters before/after.

    Returns ``coding_id, document_id, case_id, person_id, kind, unit_id, code, coder, origin, status, memo,
    start, end, text, before, after`` plus the person's case variables (a participant of a group discussion
    has its own); one row per coding, ordered by document and position.
    """
    codes = [codes] if isinstance(codes, str) else list(codes)
    check_level(level)
    cb = project.codebook
    wanted: set[str] = set()
    for c in codes:
        cb.get(c)
        wanted.update(cb.descendants(c) if level == "root" else [c])
    lab = unit_labels(project, origins=origins, coders=coders)
    lab = lab[lab.code.isin(wanted)]
    if mode == "all":
        groups = {c: set(cb.descendants(c) if level == "root" else [c]) for c in codes}
        ok = [u for u, g in lab.groupby("unit_id") if all(set(g.code) & s for s in groups.values())]
        lab = lab[lab.unit_id.isin(ok)]
    elif mode != "any":
        raise ValueError("mode must be 'any' or 'all'")
    ids = sorted(set(lab.coding_id))
    if not ids:
        return pd.DataFrame(columns=["coding_id", "document_id", "case_id", "person_id", "kind", "unit_id", "code",
                                     "coder", "origin", "status", "memo", "start", "end", "text", "before", "after"])
    q = ('SELECT c.id AS coding_id, c.document_id, d.case_id, d.kind, k.name AS code, c.coder, c.origin, c.status, '
         'c.memo, c.start, c."end" FROM codings c JOIN codes k ON k.id=c.code_id '
         f"JOIN documents d ON d.id=c.document_id WHERE c.id IN ({','.join('?' * len(ids))})")
    df = project.store.frame(q, tuple(ids))
    # each document's text is read once and sliced here (not one copy of the whole text per coding)
    df["text"] = slice_texts(project, df)
    ctx = pd.DataFrame({"document_id": df.document_id, "start": (df.start - context).clip(lower=0), "end": df.start})
    df["before"] = slice_texts(project, ctx) if context else ""
    ctx = pd.DataFrame({"document_id": df.document_id, "start": df.end, "end": df.end + context})
    df["after"] = slice_texts(project, ctx) if context else ""
    unit_of = lab.drop_duplicates("coding_id").set_index("coding_id").unit_id
    df["unit_id"] = df.coding_id.map(unit_of)
    person_of = unit_table(project).set_index("unit_id").person_id
    df.insert(3, "person_id", df.unit_id.map(person_of).fillna(df.case_id))
    cv = project.store.case_variables().drop(columns=["case_kind"], errors="ignore")
    df = df.merge(cv.rename(columns={"case_id": "person_id"}), on="person_id", how="left")
    for var, values in (filters or {}).items():
        vals = [values] if isinstance(values, str) else list(values)
        check_variable(df, var)
        df = df[df[var].isin(vals)]
    return df.sort_values(["document_id", "start", "coding_id"]).reset_index(drop=True)
