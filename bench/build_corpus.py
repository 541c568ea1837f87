"""Build the example corpus from its authoring files (``transcripts/authoring/``).

The authors wrote each interview with coder A's codes inline (an ``@@`` line after each respondent turn) and a
``%% Namen:`` line listing every invented name; survey respondents as JSON lines with their codes; coder B coded
from the listings this script writes (``coderB/*_units.txt``) without seeing coder A's codes.  This script turns
those files into what a research project actually has:

- ``transcripts/interviews/IXX.txt``  clean f4 transcripts (code and name lines removed)
- ``transcripts/interviews.csv``       interview metadata
- ``transcripts/survey/umfrage_export.csv`` and ``.xlsx``  a LimeSurvey-style export
- ``transcripts/codings/coder_A.csv``, ``coder_B.csv``      reference codings with offsets and quotes
- ``tests/data/planted_names.csv``     the names the authors planted (ground truth for pseudonymisation)

Offsets are computed with qualkit's own readers, so every quote matches the stored text.  Run:
``python bench/build_corpus.py``.  It is deterministic (fixed seed for the survey timestamps).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

from qualkit.project import open_project
from qualkit.survey import read_survey
from qualkit.transcript import DEFAULT_INTERVIEWER, read_transcript, render

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "transcripts" / "authoring"
OUT = REPO / "transcripts"
GROUPS = {"Bürgermeister/in": "Stadtspitze", "Integrationsbeauftragte/r": "Integrationsbeauftragte",
          "Sozialdezernent/in": "Sozialdezernate"}
SPECIALIST_GROUP = "Fachstellen des Kreises"
SURVEY_COLUMNS = ["id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp", "Kommune",
                  "OrgTyp", "Taetigkeit", "KIbekannt", "ZusammenarbeitKI", "PrioHF", "F1", "F2", "F3", "F4"]
CODING_COLUMNS = ["document", "start", "end", "code", "coder", "quote", "memo"]
B_INTERVIEWS = ["I01", "I02", "I07", "I08", "I13", "I14", "I19", "I20", "I25", "I31"]
B_SURVEY_ANSWERS = 120


def _check_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("authoring_check", SRC / "check.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def build_interviews(check) -> tuple[list[list[object]], list[list[object]], dict[str, dict[int, str]]]:  # type: ignore[no-untyped-def]
    """Clean transcripts, metadata; return (coder A rows, planted names, unit texts per B interview)."""
    assignment = list(csv.DictReader((SRC / "assignment.tsv").open(encoding="utf-8"), delimiter="\t"))
    (OUT / "interviews").mkdir(exist_ok=True)
    meta, codings, names_out = [], [], []
    units_for_b: dict[str, dict[int, str]] = {}
    for a in assignment:
        src = SRC / "interviews" / f"{a['id']}.txt"
        if not src.exists():
            print(f"missing: {src.relative_to(REPO)}", file=sys.stderr)
            continue
        turns, names, problems = check.parse_interview(src)
        if problems:
            raise SystemExit(f"{src}: {problems[:3]}")
        clean = OUT / "interviews" / f"{a['id']}.txt"
        clean.write_text("\n\n".join(f"{sp}: {tx}" for sp, tx, _ in turns) + "\n", encoding="utf-8")
        t = read_transcript(clean)
        text, units = render(t.turns, interviewer=DEFAULT_INTERVIEWER)
        resp = [u for u in units if u.role == "respondent"]
        authored = [c for sp, _, c in turns if sp[0] == "B"]
        if len(resp) != len(authored):
            raise SystemExit(f"{clean}: {len(resp)} respondent turns parsed but {len(authored)} authored")
        for u, codes in zip(resp, authored, strict=True):
            for code in codes or []:
                codings.append([t.id, u.start, u.end, code, "A", text[u.start:u.end], ""])
        if a["id"] in B_INTERVIEWS:
            units_for_b[a["id"]] = {u.idx: text[u.start:u.end] for u in resp}
        last = max(x.time_end or 0 for x in t.turns)
        meta.append([a["id"], a["Kommune"], a["Funktion"], GROUPS.get(a["Funktion"], SPECIALIST_GROUP), a["Datum"],
                     a["Modus"], math.ceil(last / 60000), a["Interviewer"], "ja"])
        for typ, val in names:
            if val in text:
                names_out.append([val, typ, a["id"]])
    _write_csv(OUT / "interviews.csv", ["id", "Kommune", "Funktion", "Funktionsgruppe", "Datum", "Modus",
                                        "Dauer_min", "Interviewer", "fiktiv"], meta)
    return codings, names_out, units_for_b


def build_survey() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for part in sorted((SRC / "survey").glob("*.jsonl")):
        for line in part.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    rows.sort(key=lambda r: int(r["id"]))  # type: ignore[call-overload]
    rng = random.Random(20211115)
    t0 = datetime(2021, 11, 15, 8, 0, 0)
    table = []
    for r in rows:
        # working hours mostly, some evenings (volunteers)
        hour = rng.choice([8, 9, 9, 10, 10, 11, 11, 12, 13, 14, 14, 15, 16, 17, 19, 20, 21, 22])
        start = t0 + timedelta(days=rng.randint(0, 75), hours=hour - 8, minutes=rng.randint(0, 59))
        done = start + timedelta(seconds=rng.randint(240, 2400))
        complete = bool(r.get("complete", True))
        table.append([r["id"], done.strftime("%Y-%m-%d %H:%M:%S") if complete else "", 4 if complete else rng.randint(1, 3),
                      "de", rng.randint(10**8, 10**9), start.strftime("%Y-%m-%d %H:%M:%S"),
                      done.strftime("%Y-%m-%d %H:%M:%S"), r.get("Kommune", ""), r.get("OrgTyp", ""),
                      r.get("Taetigkeit", ""), r.get("KIbekannt", ""), r.get("ZusammenarbeitKI", ""),
                      r.get("PrioHF", ""), r.get("F1", ""), r.get("F2", ""), r.get("F3", ""), r.get("F4", "")])
    csv_path = OUT / "survey" / "umfrage_export.csv"
    csv_path.parent.mkdir(exist_ok=True)
    # LimeSurvey's CSV export: comma separated, every field quoted, UTF-8 with BOM
    with csv_path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        w.writerow(SURVEY_COLUMNS)
        w.writerows(table)
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = "results-survey"
    ws.append(SURVEY_COLUMNS)
    for row in table:
        ws.append([v if v != "" else None for v in row])
    # a fixed timestamp keeps the file byte-stable between builds
    wb.properties.created = wb.properties.modified = datetime(2022, 2, 1)
    wb.save(OUT / "survey" / "umfrage_export.xlsx")
    return rows


def survey_codings(rows: list[dict[str, object]]) -> tuple[list[list[object]], dict[str, str]]:
    project = open_project(REPO)
    cfg = project.config["survey"]
    export = read_survey(OUT / "survey" / "umfrage_export.csv", id_column=cfg["id_column"],
                         open_questions=list(cfg["open_questions"]), variables=cfg["variables"],
                         no_answer=cfg["no_answer"], complete_column=cfg["complete_column"])
    answers = {(r.id, q): a for r in export.respondents for q, a in r.answers.items()}
    out: list[list[object]] = []
    texts: dict[str, str] = {}
    for r in rows:
        for q, codes in dict(r.get("codes", {})).items():  # type: ignore[call-overload]
            ans = answers.get((str(r["id"]), q))
            if ans is None:
                continue
            doc = f"{cfg['id_prefix']}{r['id']}-{q}"
            for code in codes:
                out.append([doc, 0, len(ans), code, "A", ans, ""])
    for (rid, q), ans in answers.items():
        texts[f"{cfg['id_prefix']}{rid}-{q}"] = ans
    return out, texts


def coder_b(units_for_b: dict[str, dict[int, str]], survey_texts: dict[str, str]) -> list[list[object]]:
    """Write the listings coder B works from; read B's codes where they exist."""
    bdir = SRC / "coderB"
    bdir.mkdir(exist_ok=True)
    with (bdir / "interview_units.txt").open("w", encoding="utf-8") as f:
        for doc, units in sorted(units_for_b.items()):
            for idx, txt in units.items():
                f.write(f"{doc}#{idx}\t{txt}\n")
    rng = random.Random(7)
    pool = sorted(d for d, t in survey_texts.items() if len(t.split()) >= 3)
    chosen = sorted(rng.sample(pool, min(B_SURVEY_ANSWERS, len(pool))),
                    key=lambda d: (int(d[1:].split("-")[0]), d))
    listing = bdir / "survey_units.txt"
    if not listing.exists() and len(pool) >= 4 * B_SURVEY_ANSWERS:  # fixed once coder B has started
        with listing.open("w", encoding="utf-8") as f:
            for d in chosen:
                f.write(f"{d}\t{survey_texts[d].replace(chr(10), ' / ')}\n")
    out: list[list[object]] = []
    for tsv in sorted(bdir.glob("*.tsv")):
        for line in tsv.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            unit, codes_s = line.split("\t")
            codes = [c.strip() for c in codes_s.split("|") if c.strip() and c.strip() != "-"]
            if "#" in unit:
                doc, idx = unit.split("#")
                t = read_transcript(OUT / "interviews" / f"{doc}.txt")
                text, units = render(t.turns, interviewer=DEFAULT_INTERVIEWER)
                u = units[int(idx)]
                for c in codes:
                    out.append([doc, u.start, u.end, c, "B", text[u.start:u.end], ""])
            else:
                ans = survey_texts[unit]
                for c in codes:
                    out.append([unit, 0, len(ans), c, "B", ans, ""])
    return out


def main() -> None:
    check = _check_module()
    a_rows, names, units_for_b = build_interviews(check)
    rows = build_survey()
    s_rows, survey_texts = survey_codings(rows)
    b_rows = coder_b(units_for_b, survey_texts)
    _write_csv(OUT / "codings" / "coder_A.csv", CODING_COLUMNS, a_rows + s_rows)
    _write_csv(OUT / "codings" / "coder_B.csv", CODING_COLUMNS, b_rows)
    _write_csv(REPO / "tests" / "data" / "planted_names.csv", ["string", "type", "document"], names)
    print(f"interviews: {len({r[0] for r in a_rows})}, survey respondents: {len(rows)}, "
          f"coder A codings: {len(a_rows) + len(s_rows)}, coder B codings: {len(b_rows)}, planted names: {len(names)}")


if __name__ == "__main__":
    main()
