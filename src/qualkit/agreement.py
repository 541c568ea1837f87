"""Intercoder agreement: percent agreement, Cohen's kappa and Krippendorff's alpha (nominal).

The statistics are computed here from their definitions (and checked in the tests against scikit-learn's
``cohen_kappa_score``, the ``krippendorff`` package and Krippendorff's published worked example).

:func:`agreement` compares coders in the store at three levels, as MAXQDA distinguishes them:

* ``document``: is the code present in the document, per coder;
* ``unit``: is the code present in the unit (interview turn / survey answer), per coder;
* ``segment``: each coding of one coder is matched by a coding of the same code by another coder whose
  span overlaps it by at least ``threshold`` (intersection over union; default 0.9); the kappa at this
  level is Brennan & Prediger's with chance agreement 1 / number of codes, as MAXQDA reports it.

Only documents that every compared coder has coded (≥ 1 coding) are compared.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputFileError, QualkitError
from .project import Project
from .units import AUTOCODER, HUMAN_ORIGINS, documents_of_all_sql, unit_labels, unit_table

__all__ = ["AgreementResult", "agreement", "cohen_kappa", "krippendorff_alpha_nominal", "matrix_statistics",
           "percent_agreement", "read_reliability_matrix"]

Missing = None


def _present(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v)) and v != ""


def percent_agreement(matrix: Sequence[Sequence[Hashable | None]]) -> float:
    """Share of agreeing pairs among all pairs of values within units (rows = units, columns = coders)."""
    agree = total = 0
    for row in matrix:
        vals = [v for v in row if _present(v)]
        for i in range(len(vals)):
            for j in range(i + 1, len(vals)):
                total += 1
                agree += vals[i] == vals[j]
    return agree / total if total else float("nan")


def cohen_kappa(a: Sequence[Hashable | None], b: Sequence[Hashable | None]) -> float:
    """Cohen's kappa for two coders over the units both coded."""
    pairs = [(x, y) for x, y in zip(a, b) if _present(x) and _present(y)]
    n = len(pairs)
    if n == 0:
        return float("nan")
    po = sum(x == y for x, y in pairs) / n
    ca, cb = Counter(x for x, _ in pairs), Counter(y for _, y in pairs)
    pe = sum(ca[k] * cb.get(k, 0) for k in ca) / (n * n)
    if pe == 1.0:
        return 1.0 if po == 1.0 else float("nan")
    return (po - pe) / (1 - pe)


def krippendorff_alpha_nominal(matrix: Sequence[Sequence[Hashable | None]]) -> float:
    """Krippendorff's alpha for nominal data; rows = units, columns = coders, missing values allowed.

    alpha = 1 - D_o / D_e from the coincidence matrix; units with fewer than two values are not pairable.
    """
    coinc: dict[tuple[Hashable, Hashable], float] = {}
    for row in matrix:
        vals = [v for v in row if _present(v)]
        m = len(vals)
        if m < 2:
            continue
        for i in range(m):
            for j in range(m):
                if i != j:
                    coinc[(vals[i], vals[j])] = coinc.get((vals[i], vals[j]), 0.0) + 1.0 / (m - 1)
    n_c: dict[Hashable, float] = {}
    for (c, _), w in coinc.items():
        n_c[c] = n_c.get(c, 0.0) + w
    n = sum(n_c.values())
    if n <= 1:
        return float("nan")
    d_o = sum(w for (c, k), w in coinc.items() if c != k) / n
    d_e = sum(n_c[c] * n_c[k] for c in n_c for k in n_c if c != k) / (n * (n - 1))
    if d_e == 0:  # no variation among pairable values: alpha is undefined (as in Krippendorff's definition)
        return float("nan")
    return 1.0 - d_o / d_e


def matrix_statistics(matrix: Sequence[Sequence[Hashable | None]], coders: Sequence[str]) -> dict[str, Any]:
    """The JSON of ``qualkit agreement --matrix``: percent agreement, alpha and (two coders) kappa."""
    out: dict[str, Any] = {
        "coders": list(coders), "units": len(matrix),
        "pairable_units": sum(1 for r in matrix if sum(_present(v) for v in r) >= 2),
        "percent_agreement": _clean(percent_agreement(matrix)),
        "krippendorff_alpha_nominal": _clean(krippendorff_alpha_nominal(matrix)),
    }
    if len(coders) == 2:
        out["cohen_kappa"] = _clean(cohen_kappa([r[0] for r in matrix], [r[1] for r in matrix]))
    return out


def _clean(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 6)


def read_reliability_matrix(path: str | Path) -> tuple[list[str], list[list[str | None]]]:
    """Read a reliability data matrix CSV: a header of coder names, then one row per unit; empty = missing."""
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputFileError(p, f"cannot read the matrix ({e.__class__.__name__})",
                             hint="give a UTF-8 CSV whose first row names the coders") from e
    first = text.split("\n", 1)[0]
    delim = max([",", ";", "\t"], key=first.count)
    rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    if not rows or not any(c.strip() for c in rows[0]):
        raise InputFileError(p, "the matrix is empty", line=1, hint="the first row names the coders")
    coders = [c.strip() for c in rows[0]]
    if len(coders) < 2:
        raise InputFileError(p, "the matrix needs at least two coder columns", line=1)
    matrix: list[list[str | None]] = []
    for n, row in enumerate(rows[1:], 2):
        if not any(c.strip() for c in row):
            continue
        if len(row) > len(coders):
            raise InputFileError(p, f"{len(row)} cells but {len(coders)} coders", line=n,
                                 hint="every row has one cell per coder (empty for missing)")
        row = row + [""] * (len(coders) - len(row))
        matrix.append([c.strip() or None for c in row])
    return coders, matrix


@dataclass
class AgreementResult:
    """Agreement of coders at one level.

    ``per_code``: ``code, n, agreements, percent_agreement, cohen_kappa, krippendorff_alpha`` (segment level:
    ``code, agreements, disagreements, percent_agreement``).  ``overall``: the same pooled over codes.
    ``disagreements``: ``document_id, unit_id, text`` and one column per coder with the codes they gave.
    """

    level: str
    coders: list[str]
    documents: int
    per_code: pd.DataFrame
    overall: dict[str, Any] = field(default_factory=dict)
    disagreements: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_excel(self, path: str | Path) -> None:
        from .exports import write_sheets
        write_sheets(path, {"Übereinstimmung": self.per_code, "Dissens": self.disagreements})


def agreement(project: Project, *, coders: Sequence[str] | None = None, level: str = "unit",
              dimension: str | None = "primary", rollup: bool = True, threshold: float = 0.9,
              origins: Sequence[str] = HUMAN_ORIGINS, units: pd.DataFrame | None = None) -> AgreementResult:
    """Compare coders in the store.  See the module docstring for the levels.

    ``coders`` defaults to every human coder with codings; ``dimension`` to the codebook's first (``None``:
    all); ``rollup`` compares top-level codes (a subcode counts for its Handlungsfeld).  ``units`` (the
    project's :func:`~qualkit.units.unit_table`) may be passed when the caller has it already (a report run).
    """
    if level not in ("document", "unit", "segment"):
        raise ValueError("level must be 'document', 'unit' or 'segment'")
    if dimension == "primary":  # the codebook's first dimension (the Handlungsfelder in the example)
        dimension = project.codebook.primary.key
    elif dimension is not None:
        project.codebook.dimension(dimension)  # names the known dimensions if there is no such one
    named = list(coders or [])
    # named coders: only their codings, in the documents all of them coded (at ×100 every label of the store
    # took the most memory of a report's agreement); else every coder's, to find them
    lab = (unit_labels(project, origins=origins, coders=named, rule="all", coded_by_all=named) if len(named) >= 2
           else unit_labels(project, origins=origins, rule="all"))
    if dimension is not None:
        lab = lab[lab.dimension == dimension]
    # accepted suggestions keep the machine as their coder: it is not a second coder of a reliability check
    all_coders = sorted(set(lab.coder) - {AUTOCODER})
    coders = named or all_coders
    if len(coders) < 2:
        raise QualkitError(f"agreement needs two or more coders; the store has {', '.join(all_coders) or 'none'}",
                           hint="load a second coder's coding, or name the coders with --coders")
    lab = lab[lab.coder.isin(coders)]
    lab = lab.assign(label=lab["root"] if rollup else lab["code"])
    docs = set.intersection(*[set(lab[lab.coder == c].document_id) for c in coders])
    lab = lab[lab.document_id.isin(docs)]
    cb = project.codebook
    codes = ([c for c in cb.dimension(dimension).codes] if dimension and rollup else sorted(set(lab.label)))
    if dimension and not rollup:
        codes = [n for n, c in cb.codes.items() if c.dimension == dimension]
    if level == "segment":
        return _segment_level(project, coders, docs, codes, cb, rollup, threshold, dimension, origins)
    units = unit_table(project) if units is None else units
    units = units[units.document_id.isin(docs)]
    key = "document_id" if level == "document" else "unit_id"
    items = sorted(set(units[key]))
    present = {c: set(zip(lab[lab.coder == c][key], lab[lab.coder == c].label)) for c in coders}
    rows = []
    pooled: list[list[Hashable | None]] = []
    for code in codes:
        matrix: list[list[Hashable | None]] = [[int((i, code) in present[c]) for c in coders] for i in items]
        pooled.extend(matrix)
        rows.append(_stats(code, matrix, coders))
    per_code = pd.DataFrame(rows, columns=["code", "n", "agreements", "percent_agreement", "cohen_kappa",
                                           "krippendorff_alpha"])
    overall = _stats("Gesamt", pooled, coders)
    overall_d = dict(zip(per_code.columns, overall))
    # disagreement list
    text = units.drop_duplicates(key).set_index(key)["text"] if level == "unit" else None
    first = units.drop_duplicates("unit_id") if level == "unit" else units.iloc[0:0]
    doc_of = dict(zip(first.unit_id, first.document_id))
    dis = []
    for i in items:
        given = {c: sorted(code for code in codes if (i, code) in present[c]) for c in coders}
        if len({tuple(v) for v in given.values()}) > 1:
            doc = i if level == "document" else doc_of[i]
            dis.append({"document_id": doc, "unit_id": None if level == "document" else int(i),
                        "text": "" if text is None else text.get(i, ""),
                        **{c: "; ".join(v) for c, v in given.items()}})
    return AgreementResult(level, coders, len(docs), per_code, overall_d,
                           pd.DataFrame(dis, columns=["document_id", "unit_id", "text", *coders]))


def _stats(code: str, matrix: list[list[Hashable | None]], coders: Sequence[str]) -> tuple[Any, ...]:
    n = len(matrix)
    agree = sum(len(set(r)) == 1 for r in matrix)
    kappa = _clean(cohen_kappa([r[0] for r in matrix], [r[1] for r in matrix])) if len(coders) == 2 else None
    return (code, n, agree, _clean(percent_agreement(matrix)), kappa, _clean(krippendorff_alpha_nominal(matrix)))


def _quotes(project: Project, coding_ids: list[int], part: int = 500) -> dict[int, str]:
    """The quotes of the codings ``coding_ids``, read a part at a time."""
    out: dict[int, str] = {}
    ids = sorted(set(coding_ids))
    for i in range(0, len(ids), part):
        chunk = ids[i:i + part]
        out.update((int(r[0]), str(r[1])) for r in project.store.query(
            f"SELECT id, quote FROM codings WHERE id IN ({','.join('?' * len(chunk))})", tuple(chunk)))
    return out


def _segment_level(project: Project, coders: list[str], docs: set[str], codes: list[str], cb: Any, rollup: bool,
                   threshold: float, dimension: str | None, origins: Sequence[str]) -> AgreementResult:
    from .units import coding_filter_sql
    cond, params = coding_filter_sql(origins, coders)
    # only documents every coder has a coding in (more than ``docs``, which are selected below): at ×100 the
    # codings of every document doubled this level's memory (140 against 69 MB); the quotes are read for the
    # disagreements only (_quotes)
    both, both_params = documents_of_all_sql(coders)
    df = project.store.frame(f'SELECT c.id, c.document_id, c.start, c."end", k.name AS code, k.dimension, c.coder '
                             f"FROM codings c JOIN codes k ON k.id=c.code_id WHERE {cond} AND c.document_id IN "
                             f"({both})", (*params, *both_params))
    df = df[df.document_id.isin(docs)]
    if dimension is not None:
        df = df[df.dimension == dimension]
    df["label"] = df.code.map(cb.root) if rollup else df.code
    agree: Counter[str] = Counter()
    disagree: Counter[str] = Counter()
    dis_rows: list[dict[str, Any]] = []
    dis_codings: list[int] = []  # the coding of each disagreement, whose quote it shows
    # each coder's spans per (document, label), as plain numbers: a pandas selection per coding took minutes for
    # the 100,000 codings of a large project
    spans: dict[tuple[str, str, Any], list[tuple[int, int]]] = {}
    rows_of = list(zip(df.coder, df.document_id, df.label, df.start.astype(int), df["end"].astype(int),
                       df.id.astype(int)))
    for coder, doc, label, start, end, _id in rows_of:
        spans.setdefault((coder, doc, label), []).append((start, end))

    def matches(start: int, end: int, other: list[tuple[int, int]]) -> bool:
        # intersection over union of the two spans (a coding has start < end, so the union is never empty)
        return any(max(0, min(e, end) - max(s, start)) / (max(e, end) - min(s, start)) >= threshold
                   for s, e in other)

    for c in coders:
        others = [o for o in coders if o != c]
        for coder, doc, label, start, end, coding_id in rows_of:
            if coder != c:
                continue
            # a label that is no code (NaN) matches nothing, as it equals nothing
            if label == label and any(matches(start, end, spans.get((o, doc, label), [])) for o in others):
                agree[label] += 1
            else:
                disagree[label] += 1
                dis_rows.append({"document_id": doc, "unit_id": None, **{x: (label if x == c else "") for x in coders}})
                dis_codings.append(coding_id)
    quotes = _quotes(project, dis_codings)
    for r, coding_id in zip(dis_rows, dis_codings, strict=True):
        r["text"] = quotes[coding_id]
    rows = []
    for code in codes:
        a, d = agree[code], disagree[code]
        rows.append((code, a, d, _clean(a / (a + d)) if a + d else None))
    per_code = pd.DataFrame(rows, columns=["code", "agreements", "disagreements", "percent_agreement"])
    a, d = sum(agree.values()), sum(disagree.values())
    po = a / (a + d) if a + d else float("nan")
    pc = 1 / max(len(codes), 1)
    overall = {"code": "Gesamt", "agreements": a, "disagreements": d, "percent_agreement": _clean(po),
               "kappa_brennan_prediger": _clean((po - pc) / (1 - pc)) if a + d else None, "threshold": threshold}
    return AgreementResult("segment", coders, len(docs), per_code, overall,
                           pd.DataFrame(dis_rows, columns=["document_id", "unit_id", "text", *coders]))
