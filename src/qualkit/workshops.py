"""Workshop results: the measures (Maßnahmen) collected per code and their prioritisation.

``<[workshops] folder>/workshops.csv`` lists the workshops (``workshop, code, datum, ort, teilnehmende``;
the code column may also be headed with the primary dimension's key); each workshop has ``<workshop>.csv``
with ``Nr; Maßnahme; Beschreibung; Zuständigkeit; Punkte; Rang`` as facilitators type them up (semicolon or
comma separated, UTF-8 or Windows-1252).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from ._limits import read_file
from ._text import decode
from .errors import IngestError
from .project import Project

__all__ = ["workshop_measures"]

_COLUMNS = {"nr": "Nr", "maßnahme": "Maßnahme", "massnahme": "Maßnahme", "beschreibung": "Beschreibung",
            "zuständigkeit": "Zuständigkeit", "zustaendigkeit": "Zuständigkeit", "punkte": "Punkte",
            "stimmen": "Punkte", "rang": "Rang"}


def _read(path: Path) -> pd.DataFrame:
    text, _ = decode(read_file(path), path)
    first = text.split("\n", 1)[0]
    delim = max([";", ",", "\t"], key=first.count)
    rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    if not rows:
        raise IngestError(path, "empty workshop file", line=1)
    header = [_COLUMNS.get(h.strip().lower(), h.strip()) for h in rows[0]]
    body = [r + [""] * (len(header) - len(r)) for r in rows[1:] if any(c.strip() for c in r)]
    return pd.DataFrame(body, columns=header)


def workshop_measures(project: Project, code: str | None = None) -> pd.DataFrame:
    """All measures with their workshop: ``measure_id, workshop, code, datum, ort, teilnehmende, Nr,
    Maßnahme, Beschreibung, Zuständigkeit, Punkte, Rang`` (Punkte/Rang as numbers; ``measure_id`` is
    ``<workshop>/<Nr>``, the name findings files use), sorted by code, workshop and rank."""
    folder = project.path(project.config["workshops"]["folder"])
    index = folder / "workshops.csv"
    cols = ["measure_id", "workshop", "code", "datum", "ort", "teilnehmende", "Nr", "Maßnahme",
            "Beschreibung", "Zuständigkeit", "Punkte", "Rang"]
    if not index.exists():
        return pd.DataFrame(columns=cols)
    idx = _read(index)
    idx.columns = [c.lower() for c in idx.columns]
    key = project.codebook.primary.key.lower()
    if "code" not in idx.columns:
        if key not in idx.columns:
            raise IngestError(index, f"no column 'code' (or {key!r}) naming each workshop's code", line=1,
                              hint="columns: workshop; code; datum; ort; teilnehmende")
        idx = idx.rename(columns={key: "code"})
    frames = []
    for r in idx.itertuples():
        f = folder / f"{r.workshop}.csv"
        if not f.exists():
            raise IngestError(index, f"workshop {r.workshop!r} has no file {f.name}",
                              hint="add the file or remove the row from workshops.csv")
        df = _read(f)
        missing = [c for c in ("Maßnahme", "Punkte") if c not in df.columns]
        if missing:
            raise IngestError(f, f"missing column(s) {', '.join(missing)}", line=1,
                              hint="columns: Nr; Maßnahme; Beschreibung; Zuständigkeit; Punkte; Rang")
        df["workshop"] = r.workshop
        df["code"] = r.code
        df["datum"] = getattr(r, "datum", "")
        df["ort"] = getattr(r, "ort", "")
        df["teilnehmende"] = pd.to_numeric(getattr(r, "teilnehmende", ""), errors="coerce")
        if "Nr" not in df.columns:
            df["Nr"] = [str(i) for i in range(1, len(df) + 1)]
        df["measure_id"] = [f"{r.workshop}/{str(n).strip()}" for n in df["Nr"]]
        frames.append(df)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    for c in ("Punkte", "Rang"):
        if c in out.columns:
            out[c] = pd.to_numeric(out[c], errors="coerce")
    for c in cols:
        if c not in out.columns:
            out[c] = ""
    if "Rang" in out.columns and out["Rang"].isna().all():
        out["Rang"] = out.groupby("workshop")["Punkte"].rank(ascending=False, method="min")
    out = out[cols]
    if code is not None:
        out = out[out.code == code]
    return out.sort_values(["code", "workshop", "Rang", "Maßnahme"]).reset_index(drop=True)
