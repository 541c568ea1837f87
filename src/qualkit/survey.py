"""Survey exports in the wide layout of LimeSurvey and SoSci Survey (one row per respondent).

:func:`read_survey` reads CSV (comma, semicolon or tab; any of the encodings :mod:`qualkit._text`
accepts) or XLSX and returns one :class:`Respondent` per row with their variables and open answers.
Answers such as ``k.A.``, ``-`` or ``/`` are recorded as *no answer* and never become documents.

Exports come in variants, and each is read with a note in :attr:`SurveyExport.notes`:

* SoSci Survey's second header row (the variable labels, e.g. "Interview-Nummer (fortlaufend)") is
  recognised and skipped, never read as a respondent; its labels are kept in ``variable_labels``.
* LimeSurvey's header variants "question code & question text" (``F1. Was fehlt …?``), ``[F1] …`` and the
  full question text alone (matched against the configured question) are mapped to the configured columns.
* Closed variables are stored with their value labels (``1`` → ``Verein``) taken from a SoSci/LimeSurvey
  variables file (:func:`read_value_labels`) or the configuration.
* Missing codes of closed items (SoSci's ``-9``, LimeSurvey's ``N/A``, an empty cell, a value marked missing
  in the variables file) leave the variable unset, so every table shows one missing category.
* ``finished`` says whether the respondent finished the questionnaire (``complete_column``); what an
  unfinished case takes part in is the project's ``[survey] unfinished`` rule (see docs/project-config.md).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ._limits import open_zip, read_file
from ._text import decode, normalise, read_csv_table, sha256_bytes
from .errors import IngestError, InputFileError, LimitError

__all__ = ["DEFAULT_NO_ANSWER", "FINISHED", "Respondent", "SurveyExport", "read_survey", "read_value_labels"]

DEFAULT_NO_ANSWER = ("k.A.", "k. A.", "ka", "k.a.", "-", "--", "/", "//", ".", "keine Angabe", "n/a", "na",
                     "-oth-", "x", "?", "-9")
# the case variable of respondents saying whether they finished the questionnaire ("yes"/"no"); ingest sets
# it when [survey] complete_column is configured
FINISHED = "finished"
# missing-value codes of closed items: SoSci Survey's -9 ("nicht beantwortet"), LimeSurvey's N/A
_MISSING_CODES = {"-9", "-99", "-1", "n/a", "N/A", "-oth-"}


def _variable(raw: str, labels: Mapping[str, str], missing: set[str]) -> str | None:
    """A closed variable's value with its label; ``None`` for a missing code (the variable stays unset)."""
    v = normalise(raw).strip()
    if not v or v in _MISSING_CODES or v in missing:
        return None
    if v in labels:
        return labels[v]
    if v.endswith(".0") and v[:-2] in labels:  # XLSX stores codes as numbers
        return labels[v[:-2]]
    return v


@dataclass
class Respondent:
    id: str
    line: int
    variables: dict[str, str]
    finished: bool = True
    answers: dict[str, str] = field(default_factory=dict)   # question column -> answer text
    missing: dict[str, str] = field(default_factory=dict)   # question column -> raw no-answer marker


@dataclass
class SurveyExport:
    path: str
    sha256: str
    encoding: str
    respondents: list[Respondent]
    notes: list[str] = field(default_factory=list)              # variants recognised, rows skipped
    variable_labels: dict[str, str] = field(default_factory=dict)  # column -> label (SoSci label row)


def _rows_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]], str, str]:
    data = read_file(path)
    text, enc = decode(data, path)
    header, rows = read_csv_table(path, text)
    return header, rows, enc, sha256_bytes(data)


def _rows_xlsx(path: Path) -> tuple[list[str], list[tuple[int, list[str]]], str, str]:
    import openpyxl  # the reference reader for .xlsx; pandas would hide the row numbers we report
    try:
        open_zip(path).close()  # a zip bomb is refused before openpyxl unpacks it
    except LimitError:
        raise
    except InputFileError as e:
        raise IngestError(path, f"not a readable Excel file ({e.reason})",
                          hint="save it again as .xlsx, or export the survey as CSV") from e
    data = read_file(path)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many types for broken files
        raise IngestError(path, f"not a readable Excel file ({e.__class__.__name__})",
                          hint="save it again as .xlsx, or export the survey as CSV") from e
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    try:
        header = ["" if v is None else str(v) for v in next(it)]
    except StopIteration:
        raise IngestError(path, "the worksheet is empty", line=1) from None
    rows: list[tuple[int, list[str]]] = []
    for n, values in enumerate(it, 2):
        cells = []
        for v in values:
            if v is None:
                cells.append("")
            elif isinstance(v, float) and v.is_integer():
                cells.append(str(int(v)))
            else:
                cells.append(str(v))
        rows.append((n, cells))
    wb.close()
    return header, rows, "xlsx", sha256_bytes(data)


_CODE_HEADER = re.compile(r"^\[?(?P<code>[A-Za-z_][\w\[\]]*?)\]?(?:\.|:|\])\s+\S")


def _map_header(header: list[str], wanted: Sequence[str], questions: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """Rename LimeSurvey's "question code & question text" headers (``F1. Was fehlt …``, ``[F1] …``) and
    full-question-text headers to the configured column names.  Returns the header and notes."""
    out, notes = list(header), []
    want = set(wanted)
    by_text = {normalise(t).strip(): c for c, t in questions.items() if t}
    for i, h in enumerate(header):
        if h in want:
            continue
        m = _CODE_HEADER.match(h)
        code = m.group("code") if m else None
        if code in want and code not in header:
            out[i] = code
            notes.append(f"column {i + 1} {h[:40]!r} read as {code!r} (LimeSurvey header with question text)")
        elif h in by_text and by_text[h] not in header:
            out[i] = by_text[h]
            notes.append(f"column {i + 1} {h[:40]!r} read as {by_text[h]!r} (LimeSurvey header with the full "
                         "question text)")
        elif len(short := h.rstrip(" .…")) >= 12 and (hits := [c for t, c in by_text.items() if t.startswith(short)]) \
                and len(hits) == 1 and hits[0] not in header:
            out[i] = hits[0]
            notes.append(f"column {i + 1} {h[:40]!r} read as {hits[0]!r} (LimeSurvey header with the abbreviated "
                         "question text)")
    return out, notes


def _is_label_row(cells: list[str], id_idx: int, rest: Sequence[list[str]], header: list[str]) -> bool:
    """SoSci Survey's optional second header row: the variable labels, not a respondent.  Recognised by an id
    that is no id (text such as "Interview-Nummer (fortlaufend)" where the other ids are numbers), or by
    cells that mostly repeat the variable names or look like SoSci labels ("Verbesserungen: [01]")."""
    rid = cells[id_idx].strip()
    ids = [r[id_idx].strip() for r in rest if id_idx < len(r)]
    if rid and not rid.isdigit() and ids and sum(i.isdigit() for i in ids) >= 0.8 * len(ids):
        return True
    filled = [(h, c.strip()) for h, c in zip(header, cells) if c.strip()]
    if not filled:
        return False
    labelish = sum(c == h or c.lower().startswith(h.lower() + ":") or bool(re.search(r": \[\d+\]$", c))
                   or " (fortlaufend)" in c for h, c in filled)
    return labelish >= max(2, 0.5 * len(filled))


def read_value_labels(path: str | Path) -> dict[str, dict[str, str]]:
    """Value labels of closed variables from a variables file: ``{column: {code: label}}``.

    Reads SoSci Survey's value list (columns ``VAR, RESPONSE, MEANING`` and optionally ``MISSING``; a value
    marked missing maps to ``""`` and is then treated as missing) and LimeSurvey's tab-separated survey
    structure export (``class, name, text``: a ``Q`` row names the variable, its ``A`` rows give code and
    label).  Column names are matched case-insensitively; a generic ``variable, value, label`` file works too.

    Raises
    ------
    IngestError
        unreadable file or none of the known column layouts.
    """
    p = Path(path)
    data = p.read_bytes()
    text, _ = decode(data, p)
    header, rows = read_csv_table(p, text)
    low = [h.strip().lower() for h in header]
    out: dict[str, dict[str, str]] = {}

    def col(*names: str) -> int | None:
        return next((low.index(n) for n in names if n in low), None)

    var, code, label, miss = col("var", "variable"), col("response", "value", "code"), \
        col("meaning", "label"), col("missing")
    cls, name, qtext = col("class"), col("name"), col("text")
    if var is not None and code is not None and label is not None:
        for _, r in rows:
            is_missing = miss is not None and r[miss].strip().lower() in ("1", "true", "ja", "yes", "x")
            out.setdefault(r[var].strip(), {})[r[code].strip()] = "" if is_missing else normalise(r[label]).strip()
        return out
    if cls is not None and name is not None and qtext is not None:
        current = ""
        for _, r in rows:
            kind = r[cls].strip().upper()
            if kind == "Q":
                current = r[name].strip()
            elif kind == "A" and current:
                out.setdefault(current, {})[r[name].strip()] = normalise(r[qtext]).strip()
        return out
    raise IngestError(p, "not a variables file qualkit knows", line=1,
                      hint=f"columns found: {', '.join(header[:10])}; expected SoSci's VAR, RESPONSE, MEANING or "
                           "LimeSurvey's survey structure (class, name, text), or give the labels in [survey.labels]")


def read_survey(path: str | Path, *, id_column: str, open_questions: Sequence[str] | Mapping[str, str],
                variables: Mapping[str, str], no_answer: Sequence[str] = DEFAULT_NO_ANSWER,
                complete_column: str | None = None,
                value_labels: Mapping[str, Mapping[str, str]] | None = None) -> SurveyExport:
    """Read a wide survey export.

    Parameters
    ----------
    id_column : the respondent id column (LimeSurvey ``id``, SoSci ``CASE``).
    open_questions : columns holding open answers; each non-empty answer becomes a document.  A mapping
        column -> question text also lets a header that holds the question text find its column.
    variables : mapping of column name -> case variable name (e.g. ``{"OrgTyp": "Organisationstyp"}``).
    complete_column : optional column that is non-empty for finished interviews (``submitdate``, ``FINISHED``).
    value_labels : ``{column: {code: label}}`` for closed variables (:func:`read_value_labels`, the config);
        a code labelled ``""`` is a missing code.

    Raises
    ------
    IngestError
        missing id column or question columns, duplicate respondent ids, unreadable file.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        header, rows, enc, digest = _rows_xlsx(p)
    elif suffix in (".csv", ".tsv", ".txt"):
        header, rows, enc, digest = _rows_csv(p)
    else:
        raise IngestError(p, f"unknown survey format {p.suffix!r}", hint="export the survey as CSV or XLSX")
    header = [normalise(h).strip() for h in header]
    questions = dict(open_questions) if isinstance(open_questions, Mapping) else {q: "" for q in open_questions}
    wanted = [id_column, *questions, *variables, *([complete_column] if complete_column else [])]
    header, notes = _map_header(header, wanted, questions)
    col = {h: i for i, h in enumerate(header)}
    if id_column not in col:
        raise IngestError(p, f"the configured respondent id column {id_column!r} is missing", line=1,
                          hint=f"columns found: {', '.join(header[:15])}{' …' if len(header) > 15 else ''}; "
                               "set [survey] id_column in qualkit.toml")
    missing = [c for c in wanted if c not in col]
    if missing:
        raise IngestError(p, f"configured column(s) missing: {', '.join(missing)}", line=1,
                          hint="check [survey] open_questions / variables in qualkit.toml against the "
                               "export's header")
    rows = [(n, r + [""] * (len(header) - len(r))) for n, r in rows if any(c.strip() for c in r)]
    variable_labels: dict[str, str] = {}
    if rows and _is_label_row(rows[0][1], col[id_column], [r for _, r in rows[1:]], header):
        line, cells = rows.pop(0)
        variable_labels = {h: normalise(c).strip() for h, c in zip(header, cells) if c.strip()}
        notes.append(f"line {line} holds the variables' labels (SoSci Survey's second header row), not a "
                     "respondent: skipped")
    labels = {c: {str(k): str(v) for k, v in m.items()} for c, m in (value_labels or {}).items()}
    markers = {m.strip().lower() for m in no_answer}
    seen: dict[str, int] = {}
    out: list[Respondent] = []
    for line, row in rows:
        rid = row[col[id_column]].strip()
        if not rid:
            raise IngestError(p, "row without a respondent id", line=line, column=col[id_column] + 1,
                              hint=f"every row needs a value in {id_column!r}")
        if rid in seen:
            raise IngestError(p, f"duplicate respondent id {rid!r} (first in line {seen[rid]})", line=line,
                              column=col[id_column] + 1,
                              hint="remove the duplicate row or give it its own id")
        seen[rid] = line
        vars_: dict[str, str] = {}
        for c, name in variables.items():
            m = labels.get(c, {})
            value = _variable(row[col[c]], m, {k for k, v in m.items() if v == ""})
            if value is not None:
                vars_[name] = value
        finished = True
        if complete_column:
            done = row[col[complete_column]].strip()
            # LimeSurvey: submitdate is empty for unfinished; SoSci: FINISHED is 0 or 1
            finished = done.lower() not in ("", "0", "false", "nein", "no")
        r = Respondent(id=rid, line=line, variables=vars_, finished=finished)
        for q in questions:
            raw = normalise(row[col[q]]).strip()
            if not raw:
                continue
            if raw.lower() in markers or raw.strip(" .!").lower() in markers:
                r.missing[q] = raw
            else:
                r.answers[q] = raw
        out.append(r)
    return SurveyExport(path=str(p), sha256=digest, encoding=enc, respondents=out, notes=notes,
                        variable_labels=variable_labels)
