"""Helpers for the benchmarks: copies of the example project, scaled copies, result files."""

from __future__ import annotations

import csv
import io
import json
import platform
import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "benchmarks"


def copy_project(dest: Path | None = None) -> Path:
    """A fresh copy of the example project (no store, no outputs)."""
    dest = dest or Path(tempfile.mkdtemp(prefix="qk-bench-")) / "proj"
    dest.mkdir(parents=True, exist_ok=True)
    for item in ("qualkit.toml", "transcripts", "codebooks", "findings", "notebooks"):
        src = REPO / item
        if src.is_dir():
            # the authoring files are how the corpus was written, not part of a project
            shutil.copytree(src, dest / item, dirs_exist_ok=True, ignore=shutil.ignore_patterns("authoring"))
        else:
            shutil.copy2(src, dest / item)
    (dest / "outputs").mkdir(exist_ok=True)
    return dest


def scale_project(factor: int) -> Path:
    """The example project with every interview and survey respondent repeated ``factor`` times (new ids; a
    survey copy differs from its original by one answer, :func:`_survey_copy`), reference codings repeated with
    them."""
    root = copy_project()
    if factor == 1:
        return root
    iv = root / "transcripts" / "interviews"
    originals = sorted(iv.glob("*.txt"))
    meta = list(csv.DictReader((root / "transcripts/interviews.csv").open(encoding="utf-8")))
    new_meta = list(meta)
    for k in range(2, factor + 1):
        for p in originals:
            shutil.copy2(p, iv / f"{p.stem}x{k}{p.suffix}")
        new_meta += [{**m, "id": f"{m['id']}x{k}"} for m in meta]
    with (root / "transcripts/interviews.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(meta[0].keys()), lineterminator="\n")
        w.writeheader()
        w.writerows(new_meta)
    survey = root / "transcripts/survey/umfrage_export.csv"
    rows = list(csv.reader(survey.open(encoding="utf-8-sig")))
    header, body = rows[0], rows[1:]
    n = max(int(r[0]) for r in body)
    cfg = tomllib.loads((root / "qualkit.toml").read_text(encoding="utf-8"))["survey"]
    opens = [header.index(q) for q in cfg["open_questions"] if q in header]
    out = [header] + [_survey_copy([str(int(r[0]) + (k - 1) * n), *r[1:]], k, opens) for k in range(1, factor + 1)
                      for r in body]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(out)
    survey.write_text(buf.getvalue(), encoding="utf-8")
    for cf in sorted((root / "transcripts/codings").glob("*.csv")):
        rows = list(csv.DictReader(cf.open(encoding="utf-8")))
        more = list(rows)
        for k in range(2, factor + 1):
            for r in rows:
                d = r["document"]
                if d.startswith("S"):
                    rid, q = d[1:].split("-")
                    more.append({**r, "document": f"S{int(rid) + (k - 1) * n}-{q}"})
                else:
                    more.append({**r, "document": f"{d}x{k}"})
        with cf.open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()), lineterminator="\n")
            w.writeheader()
            w.writerows(more)
    return root


def _survey_copy(row: list[str], k: int, opens: list[int]) -> list[str]:
    """The ``k``-th copy of a respondent's row: its first open answer of 20 characters or more ends with the copy's
    number, so the copy is not a duplicate submission of the original (the report counts those once, and a ×100
    corpus would otherwise count the example's respondents about once); appended, so the codings' offsets hold.
    Respondents who gave the same answers stay twins in every copy."""
    if k == 1:
        return row
    for i in opens:
        if len(row[i].strip()) >= 20:
            row[i] = f"{row[i].rstrip()} (Welle {k})"
            break
    return row


def machine() -> str:
    import os
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def commit() -> str:
    """The short hash of the commit checked out (each result row names the code it measured)."""
    import subprocess
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent, text=True,
                          capture_output=True).stdout.strip()


def host_speed() -> float:
    """Seconds a fixed pure-Python loop (10⁷ additions) takes now, best of three: the machine is shared, and the
    same run's CPU seconds vary by a quarter with what else the host runs; a row with its host speed can be
    compared with another."""
    import time
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        s = 0
        for i in range(10_000_000):
            s += i
        best = min(best, time.perf_counter() - t)
    return round(best, 2)


def write_result(name: str, markdown: str, data: Any) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    (DOCS / f"{name}.md").write_text(markdown, encoding="utf-8")
    (DOCS / f"{name}.json").write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    print(markdown)


def prf(y: Any, p: Any) -> tuple[float, float, float]:
    """Precision, recall and F1 of boolean predictions ``p`` against boolean truth ``y`` (numpy arrays)."""
    tp = float((y & p).sum())
    prec = tp / p.sum() if p.sum() else 0.0
    rec = tp / y.sum() if y.sum() else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return prec, rec, f1


@dataclass
class ExampleMatrix:
    """The example with coder A's training units and the project's unit matrix, as the auto-coding benchmarks
    start: ``rows`` index ``df`` into the matrix, ``y`` is units × ``labels`` (0/1), ``primary`` the codes of the
    primary dimension."""

    project: Any
    df: Any
    template: Any
    matrix: Any
    rows: Any
    labels: list[str]
    primary: list[str]
    y: Any


def example_matrix(coder: str = "A") -> ExampleMatrix:
    """A fresh copy of the example, ingested, with ``coder``'s training data on the cached unit matrix."""
    import numpy as np

    from qualkit.corpus import ingest
    from qualkit.project import open_project
    from qualkit.suggestions import _template, training_data, unit_matrix
    p = open_project(copy_project())
    ingest(p)
    df = training_data(p, coder=coder)
    template = _template(p)
    matrix = unit_matrix(p, template)
    labels = template.class_names()
    y = np.array([[c in ls for c in labels] for ls in df.labels], dtype=int)
    return ExampleMatrix(p, df, template, matrix, matrix.rows(list(df.text), template), labels,
                         list(p.codebook.primary.codes), y)
