"""Check an authoring file (interview .txt, survey .jsonl or coder-B .tsv) before it goes into the example corpus.

Usage: python3 check.py FILE [FILE ...]   (stdlib only; exits 1 and lists every problem)
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CODEBOOK = HERE.parent.parent / "codebooks" / "handlungsfelder.yaml"
CODES = set(re.findall(r"^\s*- name: (.+?)\s*$", CODEBOOK.read_text(encoding="utf-8"), re.M))
REAL = ["Kravanja", "André Dora", "Stockhoff", "Bettina Weist", "Stegemann", "Werner Arndt", "Wewers", "Tesche",
        "Mittelbach", "Klimpel", "Süberkrüb", "Merkel", "Scholz", "Laschet", "Wüst"]
TS = re.compile(r"#(\d{2}):(\d{2}):(\d{2})-(\d)#\s*$")
TURN = re.compile(r"^(I|I2|B|B2): (.+)$")
NAME_TYPES = {"Person", "Schule", "Kita", "Verein", "Straße", "Firma", "Email", "Telefon"}
KOMMUNEN = {"Castrop-Rauxel", "Datteln", "Dorsten", "Gladbeck", "Haltern am See", "Herten", "Marl",
            "Oer-Erkenschwick", "Recklinghausen", "Waltrop"}
SURVEY_VALUES = {
    "OrgTyp": {"Ehrenamt", "Wohlfahrtsverband", "Schule", "Kita", "Migrantenselbstorganisation", "Sportverein",
               "Verwaltung", "Jobcenter", "Unternehmen", "Kirchengemeinde", "Sonstiges"},
    "Taetigkeit": {"hauptamtlich", "ehrenamtlich"},
    "KIbekannt": {"ja", "nein", ""},
    "ZusammenarbeitKI": {"regelmäßig", "gelegentlich", "nie", "weiß nicht", ""},
}


def parse_interview(path: Path) -> tuple[list[tuple[str, str, list[str] | None]], list[tuple[str, str]], list[str]]:
    """Return turns (speaker, text, codes or None for I turns), planted names and problems."""
    problems: list[str] = []
    turns: list[tuple[str, str, list[str] | None]] = []
    names: list[tuple[str, str]] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines, 1):
        s = line.strip()
        if not s:
            continue
        if s.startswith("%% Namen:"):
            for item in s[len("%% Namen:"):].split("|"):
                item = item.strip()
                if not item:
                    continue
                typ, _, val = item.partition(":")
                if typ.strip() not in NAME_TYPES or not val.strip():
                    problems.append(f"line {n}: name entry {item!r} is not 'Type: string' with a known type")
                else:
                    names.append((typ.strip(), val.strip()))
            continue
        if s.startswith("@@"):
            if not turns or turns[-1][0][0] != "B" or turns[-1][2] is not None:
                problems.append(f"line {n}: code line not directly after a B turn")
                continue
            body = s[2:].strip()
            codes = [] if body == "-" else [c.strip() for c in body.split("|") if c.strip()]
            for c in codes:
                if c not in CODES:
                    problems.append(f"line {n}: unknown code {c!r}")
            sp, tx, _ = turns[-1]
            turns[-1] = (sp, tx, codes)
            continue
        m = TURN.match(s)
        if not m:
            problems.append(f"line {n}: not a turn ('I: …' / 'B: …'), code line or names line: {s[:60]!r}")
            continue
        if not TS.search(s):
            problems.append(f"line {n}: turn does not end with a timestamp #hh:mm:ss-d#")
        turns.append((m.group(1), m.group(2), None))
    return turns, names, problems


def check_interview(path: Path) -> list[str]:
    turns, names, problems = parse_interview(path)
    text = "\n".join(t for _, t, _ in turns)
    words = len(re.findall(r"\w+", TS.sub("", text)))
    if not 1700 <= words <= 3200:
        problems.append(f"{words} words; must be 1,800–2,800")
    last = -1
    for _sp, t, _ in turns:
        m = TS.search(t)
        if m:
            v = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3)) + int(m.group(4)) / 10
            if v <= last:
                problems.append(f"timestamp {m.group(0)} is not after the previous one")
            last = v
    uncoded = [t[:40] for sp, t, c in turns if sp[0] == "B" and c is None]
    if uncoded:
        problems.append(f"{len(uncoded)} B turn(s) without a '@@' code line, first: {uncoded[0]!r}")
    if {sp[0] for sp, _, _ in turns} != {"I", "B"}:
        problems.append("needs both I and B turns")
    if not names:
        problems.append("no '%% Namen:' line")
    for _typ, val in names:
        if val not in text:
            problems.append(f"name {val!r} listed but not found in the text")
    for r in REAL:
        if r in text:
            problems.append(f"real person's name {r!r} must not appear")
    coded = sum(1 for sp, _, c in turns if sp[0] == "B" and c)
    print(f"{path.name}: {words} words, {sum(1 for sp, _, _ in turns if sp[0] == 'B')} B turns, {coded} coded, "
          f"{len(names)} names")
    return problems


def check_survey(path: Path) -> list[str]:
    problems: list[str] = []
    ids = set()
    n_answers = 0
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"line {n}: invalid JSON ({e})")
            continue
        if r.get("id") in ids:
            problems.append(f"line {n}: duplicate id {r.get('id')}")
        ids.add(r.get("id"))
        if r.get("Kommune") not in KOMMUNEN | {"kreisweit"}:
            problems.append(f"line {n}: Kommune {r.get('Kommune')!r}")
        for k, allowed in SURVEY_VALUES.items():
            if r.get(k, "") not in allowed:
                problems.append(f"line {n}: {k} {r.get(k)!r} not in {sorted(allowed)}")
        if r.get("PrioHF", "") and r["PrioHF"] not in CODES:
            problems.append(f"line {n}: PrioHF {r['PrioHF']!r} is not a Handlungsfeld")
        codes = r.get("codes", {})
        for q in ("F1", "F2", "F3", "F4"):
            if not isinstance(r.get(q, ""), str):
                problems.append(f"line {n}: {q} must be a string")
            if r.get(q, "").strip():
                n_answers += 1
        for q, cs in codes.items():
            if q not in ("F1", "F2", "F3", "F4") or not str(r.get(q, "")).strip():
                problems.append(f"line {n}: codes for empty or unknown question {q}")
            for c in cs:
                if c not in CODES:
                    problems.append(f"line {n}: unknown code {c!r}")
    print(f"{path.name}: {len(ids)} respondents, {n_answers} non-empty answers")
    return problems


def check_coder_b(path: Path) -> list[str]:
    problems = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2:
            problems.append(f"line {n}: need 'UNIT<TAB>codes'")
            continue
        for c in [c.strip() for c in parts[1].split("|") if c.strip() and c.strip() != "-"]:
            if c not in CODES:
                problems.append(f"line {n}: unknown code {c!r}")
    return problems


def main() -> int:
    bad = 0
    for a in sys.argv[1:]:
        p = Path(a)
        probs = (check_survey(p) if p.suffix == ".jsonl" else check_coder_b(p) if p.suffix == ".tsv"
                 else check_interview(p))
        for x in probs:
            print(f"  PROBLEM {p.name}: {x}")
        bad += bool(probs)
    print("OK" if not bad else f"{bad} file(s) with problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
