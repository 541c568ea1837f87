"""Survey exports in the wide layout of LimeSurvey and SoSci Survey (one row per respondent).

:func:`read_survey` reads CSV (comma, semicolon or tab; any of the encodings :mod:`qualkit._text`
accepts) or XLSX and returns one :class:`Respondent` per row with their variables and open answers.
Answers such as ``k.A.``, ``-`` or ``/`` are recorded as *no answer* and never become documents.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ._limits import open_zip, read_file
from ._text import decode, normalise, read_csv_table, sha256_bytes
from .errors import IngestError, InputFileError, LimitError

__all__ = ["COMPLETE_VARIABLE", "DEFAULT_NO_ANSWER", "Respondent", "SurveyExport", "read_survey"]

# the case variable that says whether a respondent finished the questionnaire ("ja"/"nein")
COMPLETE_VARIABLE = "abgeschlossen"

DEFAULT_NO_ANSWER = ("k.A.", "k. A.", "ka", "k.a.", "-", "--", "/", "//", ".", "keine Angabe", "n/a", "na",
                     "-oth-", "x", "?", "-9")
# missing-value codes of closed items: SoSci Survey's -9 ("nicht beantwortet"), LimeSurvey's N/A
_MISSING_CODES = {"-9", "n/a", "N/A"}


def _variable(raw: str) -> str:
    v = normalise(raw).strip()
    return "" if v in _MISSING_CODES else v


@dataclass
class Respondent:
    id: str
    line: int
    variables: dict[str, str]
    answers: dict[str, str] = field(default_factory=dict)   # question column -> answer text
    missing: dict[str, str] = field(default_factory=dict)   # question column -> raw no-answer marker


@dataclass
class SurveyExport:
    path: str
    sha256: str
    encoding: str
    respondents: list[Respondent]


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


def read_survey(path: str | Path, *, id_column: str, open_questions: Sequence[str],
                variables: Mapping[str, str], no_answer: Sequence[str] = DEFAULT_NO_ANSWER,
                complete_column: str | None = None) -> SurveyExport:
    """Read a wide survey export.

    Parameters
    ----------
    id_column : the respondent id column (LimeSurvey ``id``, SoSci ``CASE``).
    open_questions : columns holding open answers; each non-empty answer becomes a document.
    variables : mapping of column name -> case variable name (e.g. ``{"OrgTyp": "Organisationstyp"}``).
    complete_column : optional column that is non-empty for finished interviews (``submitdate``).

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
    col = {h: i for i, h in enumerate(header)}
    if id_column not in col:
        raise IngestError(p, f"the configured respondent id column {id_column!r} is missing", line=1,
                          hint=f"columns found: {', '.join(header[:15])}{' …' if len(header) > 15 else ''}; "
                               "set [survey] id_column in qualkit.toml")
    wanted = list(open_questions) + list(variables) + ([complete_column] if complete_column else [])
    missing = [c for c in wanted if c not in col]
    if missing:
        raise IngestError(p, f"configured column(s) missing: {', '.join(missing)}", line=1,
                          hint="check [survey] open_questions / variables in qualkit.toml against the "
                               "export's header")
    markers = {m.strip().lower() for m in no_answer}
    seen: dict[str, int] = {}
    out: list[Respondent] = []
    for line, row in rows:
        if not any(c.strip() for c in row):
            continue
        row = row + [""] * (len(header) - len(row))
        rid = row[col[id_column]].strip()
        if not rid:
            raise IngestError(p, "row without a respondent id", line=line, column=col[id_column] + 1,
                              hint=f"every row needs a value in {id_column!r}")
        if rid in seen:
            raise IngestError(p, f"duplicate respondent id {rid!r} (first in line {seen[rid]})", line=line,
                              column=col[id_column] + 1,
                              hint="remove the duplicate row or give it its own id")
        seen[rid] = line
        vars_ = {name: _variable(row[col[c]]) for c, name in variables.items()}
        if complete_column:
            done = row[col[complete_column]].strip()
            # LimeSurvey: submitdate is empty for unfinished; SoSci: FINISHED is 0 or 1
            vars_[COMPLETE_VARIABLE] = "nein" if done.lower() in ("", "0", "false", "nein", "no") else "ja"
        r = Respondent(id=rid, line=line, variables=vars_)
        for q in open_questions:
            raw = normalise(row[col[q]]).strip()
            if not raw:
                continue
            if raw.lower() in markers or raw.strip(" .!").lower() in markers:
                r.missing[q] = raw
            else:
                r.answers[q] = raw
        out.append(r)
    return SurveyExport(path=str(p), sha256=digest, encoding=enc, respondents=out)
