"""Coding units and their labels: the bridge between codings (spans) and unit-level analysis.

A *unit* is a respondent's turn in an interview or group discussion, or one survey answer (interviewer
turns, collective turns such as "Alle: …" and non-verbal notes are not units of analysis).  :func:`unit_table`
lists the units with their text, the person who said it and the person's case variables; :func:`unit_labels`
says which codes each unit carries,
counting a coding for a unit when the two overlap (a turn-level coding, or a sentence inside the turn).

Which codings count is decided here and nowhere else (:func:`counting_coders`): per document the
consensus coding where one exists, else the primary coder's, else the one human coder with the most
codings there; accepted suggestions count alongside.  Two reliability coders are never added up.
Duplicate survey submissions (one respondent's answers submitted again under another id) are marked by
:func:`unit_table` in ``duplicate_of`` and counted once.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .project import Project
from .survey import FINISHED

__all__ = ["HUMAN_ORIGINS", "MISSING", "case_batches", "coding_filter_sql", "counting_coders",
           "documents_of_all_sql", "first_submissions", "in_list", "primary_coder", "quotable", "slice_texts",
           "submission_keys", "unit_labels", "unit_table", "with_missing"]

# the one category a missing value of a case variable is shown as (an empty cell, SoSci's -9, no value)
MISSING = "(fehlt)"


def with_missing(values: pd.Series) -> pd.Series:
    """``values`` of a case variable as the labels of its groups: :data:`MISSING` for an empty or missing one,
    and a categorical column as the strings it stands for (so groups sort and compare as those strings)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(values.cat.categories.dtype)
    return values.replace("", pd.NA).fillna(MISSING)


def documents_of_all_sql(coders: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """SQL selecting the documents every one of ``coders`` has a coding in (of any origin: more than
    :func:`qualkit.agreement.agreement` compares, which it selects itself), and its parameters."""
    return " INTERSECT ".join(["SELECT document_id FROM codings WHERE coder=?"] * len(coders)), tuple(coders)


_STATEMENT = "u.role IN ('respondent', 'answer')"

# Which codings count as human: manual and imported codings, and auto suggestions a person accepted.
HUMAN_ORIGINS = ("manual", "imported", "auto-accepted")
AUTOCODER = "qualkit-autocode"  # the coder of machine suggestions (an accepted one keeps it)


def coding_filter_sql(origins: Sequence[str] = HUMAN_ORIGINS, coders: Iterable[str] | None = None,
                      alias: str = "c") -> tuple[str, list[str]]:
    """SQL condition and parameters selecting codings by origin (``manual``, ``imported``,
    ``auto-accepted``, ``auto-pending``, ``auto``) and coder."""
    parts = []
    for o in origins:
        if o == "auto-accepted":
            parts.append(f"({alias}.origin='auto' AND {alias}.status='accepted')")
        elif o == "auto-pending":
            parts.append(f"({alias}.origin='auto' AND {alias}.status='pending')")
        elif o == "auto":
            parts.append(f"({alias}.origin='auto' AND {alias}.status IN ('pending','accepted'))")
        elif o in ("manual", "imported"):
            parts.append(f"({alias}.origin='{o}' AND {alias}.status='active')")
        else:
            raise ValueError(f"unknown origin {o!r}")
    cond = "(" + " OR ".join(parts) + ")" if parts else "0"
    params: list[str] = []
    coders = list(coders or [])
    if coders:
        cond += f" AND {alias}.coder IN ({','.join('?' * len(coders))})"
        params.extend(coders)
    return cond, params


def slice_texts(project: Project, spans: pd.DataFrame) -> list[str]:
    """The text of each span (``document_id``, ``start``, ``end`` columns), cut in Python from one read of each
    document: linear in the size of the documents (one SQL ``substr`` per span re-reads a long text each time).
    Equal texts are one string (the same answer given twice is held once)."""
    out: list[str] = [""] * len(spans)
    shared: dict[str, str] = {}
    if spans.empty:
        return out
    by_doc: dict[str, list[int]] = {}
    for i, d in enumerate(spans["document_id"]):
        by_doc.setdefault(str(d), []).append(i)
    starts, ends = spans["start"].tolist(), spans["end"].tolist()
    con = project.store.con
    for doc, rows in by_doc.items():
        row = con.execute("SELECT text FROM documents WHERE id=?", (doc,)).fetchone()
        text = str(row[0]) if row else ""
        for i in rows:
            piece = text[int(starts[i]):int(ends[i])]
            out[i] = shared.setdefault(piece, piece)
    return out


def unit_table(project: Project, *, kinds: Sequence[str] = ("interview", "survey")) -> pd.DataFrame:
    """Respondent units with text, person and case variables.

    Columns: ``unit_id, document_id, case_id, person_id, kind, question, idx, start, end, speaker, language,
    text, codable, quotable, duplicate_of`` followed by one column per case variable (the person's: a participant
    of a group discussion has its own).  ``person_id`` is the case of the person who said it: ``case_id`` for
    one-person documents, ``<document>:<speaker>`` (``G01:TN2``) in group discussions; count persons by it.
    ``codable``/``quotable`` are False for unfinished survey cases the ``[survey] unfinished`` rule keeps
    from being coded or quoted.  An empty variable value is missing (NaN), shown as :data:`MISSING`.
    ``duplicate_of`` is the case id of an earlier respondent whose open answers are word for word the same (a
    duplicate submission; counted once), else ``None``.
    """
    kinds = tuple(kinds)
    return project.store.memo(("unit_table", kinds, _config_key(project)), lambda: _unit_table(project, kinds))


def quotable(units: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``units`` (a :func:`unit_table` or part of it) that may be quoted: without those the
    ``[survey] unfinished`` rule keeps from being quoted (column ``quotable``)."""
    return units[units.quotable.astype(bool)] if "quotable" in units.columns else units


def _config_key(project: Project) -> str:
    """What of the project besides the store a unit table or label frame depends on."""
    import json
    return json.dumps([project.codebook.sha256, project.config.get("survey"), project.config.get("coding")],
                      sort_keys=True, default=str)


def _unit_table(project: Project, kinds: Sequence[str], documents: Sequence[str] | None = None,
                duplicates: dict[str, str] | None = None) -> pd.DataFrame:
    """:func:`unit_table`, or with ``documents`` the rows of those documents only (whole cases, for the
    duplicate rule: :func:`case_batches`) and ``duplicates`` the rule's result for the whole table
    (:func:`first_submissions`), as the rows of the whole table are."""
    store = project.store
    where, params = _in_documents("u", documents)
    df = store.frame(
        'SELECT u.id AS unit_id, u.document_id, d.case_id, COALESCE(pc.id, d.case_id) AS person_id, d.kind, '
        'd.question, u.idx, u.start, u."end", u.speaker, d.language '
        "FROM units u JOIN documents d ON d.id = u.document_id "
        "LEFT JOIN cases pc ON u.speaker IS NOT NULL AND pc.id = d.case_id || ':' || u.speaker "
        f"WHERE {_STATEMENT} AND d.kind IN ({','.join('?' * len(kinds))}){where} "
        "ORDER BY d.kind, u.document_id, u.idx", (*kinds, *params))
    df["text"] = slice_texts(project, df)
    if duplicates is None:
        duplicates = first_submissions(submission_keys(df))
    df["duplicate_of"] = df.case_id.map(duplicates)
    cv = store.case_variables()
    if not cv.empty:
        cv = cv.drop(columns=["case_kind"], errors="ignore").rename(columns={"case_id": "person_id"})
        df = df.merge(cv.replace("", pd.NA), on="person_id", how="left")
    rule = project.config["survey"]["unfinished"]
    unfinished = (df[FINISHED] == "no").fillna(False).astype(bool) if FINISHED in df.columns \
        else pd.Series(False, index=df.index)
    df.insert(df.columns.get_loc("text") + 1, "codable", ~unfinished | ("coded" in rule))
    df.insert(df.columns.get_loc("codable") + 1, "quotable", ~unfinished | ("quoted" in rule))
    return df


_MIN_DUPLICATE_CHARS = 40  # identical short answers ("Sprachkurse") from two people are not a duplicate submission


def in_list(column: str, values: Iterable[Any]) -> tuple[str, tuple[str]]:
    """An SQL condition keeping the rows whose ``column`` is one of ``values`` (ids, plain numbers or strings),
    and its parameter: one JSON array (SQLite's ``json_each``), whatever their number."""
    import json
    return f"{column} IN (SELECT value FROM json_each(?))", (json.dumps(list(values)),)


def _in_documents(alias: str, documents: Sequence[str] | None) -> tuple[str, tuple[str, ...]]:
    """`` AND`` :func:`in_list` of ``<alias>.document_id`` (nothing for None: every document)."""
    if documents is None:
        return "", ()
    cond, params = in_list(f"{alias}.document_id", documents)
    return f" AND {cond}", params


def case_batches(project: Project, kinds: Sequence[str], size: int) -> Iterator[list[str]]:
    """The documents of ``kinds`` in batches of about ``size`` units (more where a case has more): every document
    of a case in the same batch, so that persons, respondents and their duplicate submissions are counted within
    one batch.  Counted in units, not documents: an interview has dozens of turns, a survey answer one.  Read as
    they come: no list of every document is held."""
    kinds = tuple(kinds)
    cur = project.store.con.execute(  # its own cursor: the batch's tables are read while this one is open
        f"SELECT d.case_id, d.id, (SELECT count(*) FROM units u WHERE u.document_id = d.id AND {_STATEMENT}) "
        f"FROM documents d WHERE d.kind IN ({','.join('?' * len(kinds))}) ORDER BY d.case_id, d.id", kinds)
    batch: list[str] = []
    units = 0
    case = None
    for row in cur:
        if units >= size and row[0] != case:
            yield batch
            batch, units = [], 0
        case = row[0]
        batch.append(str(row[1]))
        units += int(row[2])
    if batch:
        yield batch


def submission_keys(units: pd.DataFrame) -> pd.DataFrame:
    """Per respondent of ``units`` (a :func:`unit_table` or the rows of whole cases of it): a digest of their open
    answers (question by question, white space and case folded) and the answers' size in characters; index
    ``case_id``, columns ``digest, size``.  :func:`first_submissions` applies the rule to them."""
    import hashlib
    sv = units[units.kind == "survey"]
    if sv.empty:
        return pd.DataFrame({"digest": pd.Series(dtype=object), "size": pd.Series(dtype="int64")})
    norm = sv.text.str.casefold().str.split().str.join(" ")
    keys = (sv.question.fillna("") + "\x1f" + norm).groupby(sv.case_id).agg(lambda x: "\x1e".join(sorted(x)))
    size = norm.str.len().groupby(sv.case_id).sum()
    digest = [hashlib.blake2b(k.encode("utf-8"), digest_size=16).digest() for k in keys]
    return pd.DataFrame({"digest": pd.Series(digest, index=keys.index, dtype=object), "size": size})


def first_submissions(keys: pd.DataFrame) -> dict[str, str]:
    """{case id: earlier case id} for respondents whose open answers equal an earlier respondent's (by
    :func:`submission_keys`, ``keys`` of every respondent), with at least 40 characters in all: the duplicate
    submissions, counted once."""
    first: dict[bytes, str] = {}
    out: dict[str, str] = {}
    size, digest = keys["size"].to_dict(), keys["digest"].to_dict()
    for case in sorted(keys.index, key=_natural):
        if size[case] < _MIN_DUPLICATE_CHARS:
            continue
        k = digest[case]
        if k in first:
            out[case] = first[k]
        else:
            first[k] = case
    return out


def _natural(s: str) -> tuple[Any, ...]:
    """Sort key: S9 before S10."""
    import re
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", s))


def primary_coder(project: Project) -> str:
    """The configured ``[coding] primary_coder``, else the human coder with the most codings ("" if none)."""
    name = str(project.config["coding"]["primary_coder"]).strip()
    if name:
        return name
    rows = project.store.query(
        "SELECT coder, count(*) AS n FROM codings WHERE origin IN ('manual','imported') AND status='active' "
        "GROUP BY coder ORDER BY n DESC, coder LIMIT 1")
    return str(rows[0]["coder"]) if rows else ""


def counting_coders(project: Project, labels: pd.DataFrame) -> pd.Series:
    """The coder whose codings count, per document of ``labels`` (a :func:`unit_labels` frame).

    Consensus coder where the document has consensus codings, else the primary coder where they coded it,
    else the human coder with the most codings in the document (ties: alphabetical)."""
    human = labels[labels.origin.isin(["manual", "imported"])]
    if human.empty:
        return pd.Series(dtype=str)
    consensus = str(project.config["coding"]["consensus_coder"])
    primary = primary_coder(project)
    n = human.groupby(["document_id", "coder"]).coding_id.nunique().reset_index(name="n")
    n["rank"] = [0 if c == consensus else 1 if c == primary else 2 for c in n.coder]
    n = n.sort_values(["document_id", "rank", "n", "coder"], ascending=[True, True, False, True], kind="stable")
    return n.drop_duplicates("document_id").set_index("document_id").coder


def unit_labels(project: Project, *, origins: Sequence[str] = HUMAN_ORIGINS, coders: Iterable[str] | None = None,
                rollup: bool = True, rule: str = "count", coded_by_all: Sequence[str] = ()) -> pd.DataFrame:
    """One row per (unit, code, coder) that a coding touches.

    Columns: ``unit_id, document_id, code, root, dimension, coder, origin, status, coding_id``.
    ``root`` is the top-level code (a subcode's parent at the top); with ``rollup`` a row for the root
    is not added separately — use ``root`` to count at the top level.

    ``rule="count"`` (default, for analyses and reports) keeps per document the human codings of the
    coder that counts (:func:`counting_coders`) and the suggestions that ``origins`` selects; ``rule="all"``
    keeps every coder (intercoder agreement, training).  Naming ``coders`` selects those coders and overrides the rule.
    ``coded_by_all`` keeps only the documents every one of those coders has a coding in
    (:func:`documents_of_all_sql`; what intercoder agreement compares lies there).
    """
    if rule not in ("count", "all"):
        raise ValueError(f"unknown rule {rule!r}: 'count' or 'all'")
    origins = tuple(origins)
    chosen = None if coders is None else tuple(coders)
    shared = tuple(coded_by_all)
    return project.store.memo(("unit_labels", origins, chosen, rollup, rule, shared, _config_key(project)),
                              lambda: _unit_labels(project, origins, chosen, rollup, rule, shared))


def _unit_labels(project: Project, origins: Sequence[str], coders: Iterable[str] | None, rollup: bool, rule: str,
                 coded_by_all: Sequence[str] = (), documents: Sequence[str] | None = None) -> pd.DataFrame:
    """:func:`unit_labels`; with ``documents`` of those documents only (the counting rule is per document, so
    their rows are those of the whole frame)."""
    cond, params = coding_filter_sql(origins, coders)
    docs, doc_params = documents_of_all_sql(coded_by_all) if coded_by_all else ("", ())
    only_c, only_params = _in_documents("c", documents)
    only_u, _ = _in_documents("u", documents)
    codings = project.store.frame(
        'SELECT c.id AS coding_id, c.document_id, c.start, c."end", k.name AS code, k.dimension, c.coder, c.origin, '
        f"c.status FROM codings c JOIN codes k ON k.id = c.code_id WHERE {cond}"
        f"{f' AND c.document_id IN ({docs})' if docs else ''}{only_c} ORDER BY c.document_id, c.id",
        (*params, *doc_params, *only_params))
    units = project.store.frame(f'SELECT id, document_id, start, "end" FROM units u WHERE {_STATEMENT}'
                                f"{f' AND u.document_id IN ({docs})' if docs else ''}{only_u} "
                                "ORDER BY document_id, start", (*doc_params, *only_params))
    # overlap of codings and units, per document by binary search over the (disjoint, ordered) units: a range
    # join in SQL scans every earlier unit for every coding, quadratic in a long transcript
    spans: dict[str, tuple[list[int], list[int], list[int]]] = {}
    # the units come ordered by document: each document's are one run of rows (a groupby per document was the
    # slowest part of reading the labels of a large corpus)
    docs = units.document_id.to_numpy()
    bounds = [0, *(np.flatnonzero(docs[1:] != docs[:-1]) + 1).tolist(), len(docs)] if len(docs) else [0]
    starts_all, ends_all, ids_all = units["start"].tolist(), units["end"].tolist(), units["id"].tolist()
    for a, b in zip(bounds, bounds[1:]):
        spans[str(docs[a])] = (starts_all[a:b], ends_all[a:b], ids_all[a:b])
    # per (coding, unit) pair the coding's row and the unit: two arrays of numbers, the coding's columns then taken
    # by row (a tuple per pair, 500,000 of them at ×100, held the columns' values a second time while it was built)
    at, unit_ids = array("q"), array("q")
    # plain lists, not itertuples: a row-by-row walk over pandas string columns costs more than the join itself
    for i, (doc, start, end) in enumerate(zip(*(codings[c].tolist() for c in ("document_id", "start", "end")))):
        found = spans.get(str(doc))
        if found is None:
            continue
        starts, ends, ids = found
        lo = bisect.bisect_right(ends, start)   # first unit ending after the coding starts
        hi = bisect.bisect_left(starts, end)    # first unit starting at or after the coding ends
        for j in range(lo, hi):
            if starts[j] < end and ends[j] > start:
                at.append(i)
                unit_ids.append(ids[j])
    columns = ["document_id", "code", "dimension", "coder", "origin", "status", "coding_id"]
    if at:
        rows = np.frombuffer(at, dtype=np.int64)
        df = pd.DataFrame({"unit_id": np.frombuffer(unit_ids, dtype=np.int64).copy(),
                           **{c: codings[c].take(rows).to_numpy() for c in columns}})
    else:
        df = pd.DataFrame.from_records([], columns=["unit_id", *columns])
    cb = project.codebook
    roots = {name: cb.root(name) for name in cb.codes}
    df["root"] = df["code"].map(lambda n: roots.get(n, n))
    if rule == "count" and coders is None and not df.empty:
        chosen = counting_coders(project, df)
        # suggestions (selected by ``origins``) are not a coder's reliability pass: they pass through
        keep = (df.coder == df.document_id.map(chosen)) | ~df.origin.isin(["manual", "imported"])
        df = df[keep].reset_index(drop=True)
    return df[["unit_id", "document_id", "code", "root", "dimension", "coder", "origin", "status", "coding_id"]]
