"""Excel exports for the steering group: one sheet per top-level code of the primary dimension plus a
summary sheet.

Quotes are the pseudonymised text of each coded span, masked by the re-identification guard
(:class:`qualkit.reidentify.Guard`) and attributed by the one k rule (:class:`qualkit.privacy.Attribution`):
only by the report's attribution variables, only where at least k persons share them.  The workbook passes
the leak guard before it is kept.  Column names are German, widths and auto-filters are set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from .analysis import code_frequencies, retrieve
from .project import Project
from .units import HUMAN_ORIGINS

__all__ = ["export_xlsx", "spreadsheet_text", "write_csv", "write_sheets"]

_SOURCE = {"interview": "Interview", "survey": "Umfrage", "other": "Sonstiges"}
# what makes a spreadsheet read a cell as a formula or DDE call (OWASP "CSV injection")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\ufe62", "\uff0b", "\ufe63", "\uff0d", "\uff20")


def spreadsheet_text(value: object) -> object:
    """``value`` made safe for a CSV file a person opens in a spreadsheet: text that starts like a formula
    (``=``, ``+``, ``-``, ``@``, tab, carriage return) gets a leading apostrophe, which spreadsheets show as text
    and never evaluate.  Numbers and other values are returned unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(df: pd.DataFrame, path: str | Path, **kwargs: object) -> None:
    """Write ``df`` as UTF-8 CSV for people: every text field passes :func:`spreadsheet_text`."""
    safe = df.copy()
    safe.columns = [spreadsheet_text(str(c)) for c in safe.columns]
    for c in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[c]):
            safe[c] = safe[c].map(spreadsheet_text)
    # CRLF line ends: a field holding a lone CR is then quoted, so no spreadsheet splits the row there
    safe.to_csv(path, index=False, encoding="utf-8", **{"lineterminator": "\r\n", **kwargs})


def _cells_as_text(ws: object) -> None:
    """Every text cell of ``ws`` stays text: openpyxl turns a string that starts with ``=`` into a formula;
    such cells (and those starting with another formula character) become text cells with Excel's quote prefix,
    exactly what Excel stores when a person types ``'=…``."""
    for row in ws.iter_rows():  # type: ignore[attr-defined]
        for cell in row:
            v = cell.value
            if isinstance(v, str) and (cell.data_type == "f" or v.startswith(_FORMULA_START)):
                cell.data_type = "s"
                cell.quotePrefix = True


def write_sheets(path: str | Path, sheets: Mapping[str, pd.DataFrame]) -> None:
    """Write DataFrames to an .xlsx file, one sheet each, with widths, a frozen header and auto-filters."""
    from openpyxl.utils import get_column_letter
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        used: set[str] = set()
        for name, df in sheets.items():
            title = "".join(ch for ch in name if ch not in "[]:*?/\\")[:31] or "Tabelle"
            while title in used:
                title = title[:28] + f"_{len(used)}"
            used.add(title)
            df.to_excel(xw, sheet_name=title, index=False)
            ws = xw.sheets[title]
            _cells_as_text(ws)
            ws.freeze_panes = "A2"
            if len(df.columns):
                ws.auto_filter.ref = f"A1:{get_column_letter(len(df.columns))}{max(len(df), 1) + 1}"
            for i, col in enumerate(df.columns, 1):
                longest = max([len(str(col))] + [len(str(v)) for v in df[col].head(200)])
                ws.column_dimensions[get_column_letter(i)].width = min(max(10, longest + 2), 80)
                if longest > 80:
                    from openpyxl.styles import Alignment
                    for cell in ws[get_column_letter(i)][1:]:
                        cell.alignment = Alignment(wrap_text=True, vertical="top")


def export_xlsx(project: Project, path: str | Path, *, origins: Sequence[str] = HUMAN_ORIGINS,
                coders: Sequence[str] | None = None, attribution: Sequence[str] | None = None,
                guard: bool = True) -> Path:
    """Write the coded segments per code of the primary dimension (Handlungsfeld) and a summary sheet.

    Each sheet has: Quelle, Dokument, the attribution variables of interviews (``[report] attribution``) and
    of survey answers (``survey_attribution``), Code, Textstelle (pseudonymised), Codiert von, Memo.  As in the
    chapters, an attribution value is left empty where fewer than k persons share it.  Returns the path.  With
    ``guard`` the leak guard checks the file and deletes it if an original name is found.
    """
    from .privacy import Attribution, Pseudonymizer, guard_outputs
    from .reidentify import Guard
    out = Path(path)
    attribution = list(attribution if attribution is not None else project.config["report"]["attribution"])
    survey_attr = list(project.config["report"]["survey_attribution"])
    pseudo = Pseudonymizer.for_project(project)
    reid = Guard(project, attribution=attribution, min_chars=0)
    cv = project.store.case_variables().set_index("case_id")
    place_var = project.config["privacy"]["place_variable"]
    places = cv[place_var] if place_var in cv.columns else pd.Series(dtype=str)
    # the one k rule (as in the chapters): attribution values only where at least k persons share them
    rule = Attribution(project, interview=attribution, survey=survey_attr)
    columns = list(dict.fromkeys(attribution + survey_attr))
    cb = project.codebook
    term = cb.primary.singular if cb.primary.singular != "Kategorie" else "Kategorie"
    freq = code_frequencies(project, dimension=cb.primary.key, origins=origins, coders=coders)
    summary = (freq.pivot_table(index="code", columns="kind", values=["units", "persons"], aggfunc="sum", fill_value=0)
               if not freq.empty else pd.DataFrame())
    if not summary.empty:
        summary.columns = [f"{'Einheiten' if a == 'units' else 'Personen'} ({_SOURCE.get(b, b)})" for a, b in
                           summary.columns]
        summary = summary.reindex([c for c in cb.primary.codes if c in summary.index]).reset_index()
        summary = summary.rename(columns={"code": term})
    sheets: dict[str, pd.DataFrame] = {"Übersicht": summary}
    for field in cb.primary.codes:
        seg = retrieve(project, field, origins=origins, coders=coders)
        df = pd.DataFrame({
            "Quelle": seg.kind.map(_SOURCE),
            "Dokument": [pseudo.pseudonymise(str(d)) for d in seg.document_id],  # file names can hold names
            **{var: [rule.values(str(c)).get(var, "") for c in seg.person_id] for var in columns},
            "Code": seg.code,
            "Textstelle": [reid.clean_quote(pseudo.pseudonymise(t), kind=kind, place=place)[0] or "[…]"
                           for t, kind, place in zip(seg.text, seg.kind, seg.case_id.map(places), strict=True)],
            "Codiert von": seg.coder,
            "Memo": [pseudo.pseudonymise(m or "") for m in seg.memo],
        })
        sheets[field] = df
    write_sheets(out, sheets)
    if guard:
        guard_outputs(project, [out])
    return out
