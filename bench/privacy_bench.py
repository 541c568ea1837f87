"""Name detection against planted identifying strings, per class, and the choice of the first-name resource.

Two planted sets:

* the example corpus, against the names its authors planted (``tests/data/planted_names.csv``, column
  ``class``: persons, first_names (a first name alone), organisations, streets, contacts);
* ``tests/data/planted_sentences.csv``: single German sentences for a new project, with first names alone from
  the languages of the people in integration work (Arabic, Turkish, Ukrainian, Polish, Kurdish, Tigrinya,
  Romanian), clubs without "e.V.", streets without house number and abbreviated ("-str."), contacts, and
  sentences without any name (false alarms).

Recall per class: share of planted strings gone from the pseudonymised text (corpus) or covered by a detection
(sentences).  Precision per class: share of detections of that class that are (part of) a planted string.  Each
first-name resource of :data:`qualkit._names.NAME_RESOURCES` is measured; the library's default is the one
chosen here.  Project lists (``[privacy] allow``/``deny``) are not used: this is the detector alone.  Writes
docs/benchmarks/privacy.md and .json."""

from __future__ import annotations

import csv
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, copy_project, machine, write_result
from qualkit._names import DEFAULT_NAME_RESOURCE, NAME_RESOURCES, detect, first_names
from qualkit.corpus import ingest
from qualkit.privacy import Pseudonymizer, never_names
from qualkit.project import open_project

CLASSES = ("persons", "first_names", "organisations", "streets", "contacts")
_ORG_TYPES = {"Schule", "Kita", "Verein", "Unternehmen", "Einrichtung"}


def _class_of_type(typ: str, text: str, titled: bool) -> str:
    if typ == "Person":
        return "persons" if (" " in text or titled) else "first_names"
    if typ in _ORG_TYPES:
        return "organisations"
    return "streets" if typ == "Adresse" else "contacts"


def _row_class(r: dict[str, str]) -> str:
    if r.get("class"):
        return r["class"]
    t = {"Schule": "organisations", "Kita": "organisations", "Verein": "organisations", "Firma": "organisations",
         "Straße": "streets", "Email": "contacts", "Telefon": "contacts"}
    return t.get(r["type"], "persons" if " " in r["string"] else "first_names")


def _prf(tp: Counter[str], n_pred: Counter[str], found: Counter[str], planted: Counter[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in CLASSES:
        out[c] = {"planted": planted[c], "found": found[c], "recall": found[c] / planted[c] if planted[c] else None,
                  "detections": n_pred[c], "precision": tp[c] / n_pred[c] if n_pred[c] else None}
    return out


def corpus_run(texts: list[str], planted: list[dict[str, str]], public: frozenset[str], names: frozenset[str]
               ) -> tuple[dict[str, Any], float, list[str], list[str]]:
    t = time.perf_counter()
    p = Pseudonymizer(public=public, names=names)
    p.learn(texts)
    learn_s = time.perf_counter() - t
    t = time.perf_counter()
    joined = "\n".join(p.pseudonymise(x) for x in texts)
    apply_s = time.perf_counter() - t
    found, total = Counter[str](), Counter[str]()
    missed = []
    for r in planted:
        c = _row_class(r)
        total[c] += 1
        if re.search(r"(?<!\w)" + re.escape(r["string"]) + r"(?!\w)", joined):
            missed.append(f"{r['string']} ({c})")
        else:
            found[c] += 1
    strings = [r["string"] for r in planted]
    tp, n_pred = Counter[str](), Counter[str]()
    false_alarms = []
    for key, v in p.mapping.items():
        # a one-word person key is a first name alone if it is a first name, else a surname (found after a title)
        c = _class_of_type(v["type"], key, key not in names)
        n_pred[c] += 1
        if any(key in s or s in key for s in strings):
            tp[c] += 1
        else:
            false_alarms.append(f"{key} ({v['type']})")
    out = _prf(tp, n_pred, found, total)
    out["all"] = {"recall": sum(found.values()) / max(sum(total.values()), 1),
                  "precision": sum(tp.values()) / max(sum(n_pred.values()), 1), "apply_s": apply_s}
    return out, learn_s, missed, false_alarms


def sentence_run(rows: list[dict[str, str]], names: frozenset[str]) -> tuple[dict[str, Any], list[str], list[str]]:
    found, total, tp, n_pred = Counter[str](), Counter[str](), Counter[str](), Counter[str]()
    missed, false_alarms = [], []
    for r in rows:
        ents = detect(r["sentence"], names=names)
        s = r["string"]
        if s:
            total[r["class"]] += 1
            a = r["sentence"].index(s)
            if any(e.start <= a and e.end >= a + len(s) for e in ents):
                found[r["class"]] += 1
            else:
                missed.append(f"{s} ({r['class']})")
        for e in ents:
            titled = bool(re.search(r"\b(?:Herrn?|Frau|Dr\.|Prof\.|Kolleg(?:e|in))\s+$", r["sentence"][: e.start]))
            c = _class_of_type(e.type, e.text, titled)
            n_pred[c] += 1
            if s and (e.text in s or s in e.text):
                tp[c] += 1
            else:
                false_alarms.append(f"{e.text} ({e.type}) in „{r['sentence']}“")
    return _prf(tp, n_pred, found, total), missed, false_alarms


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def main() -> None:
    project = open_project(copy_project())
    ingest(project)
    public = never_names(project)
    texts = [r[0] for r in project.store.query("SELECT text FROM documents ORDER BY id")]
    planted = [r for r in csv.DictReader((REPO / "tests/data/planted_names.csv").open(encoding="utf-8"))]
    planted = [r for r in planted if any(r["string"] in t for t in texts)]
    sentences = list(csv.DictReader((REPO / "tests/data/planted_sentences.csv").open(encoding="utf-8")))
    results: dict[str, Any] = {}
    details: dict[str, Any] = {}
    variants = {"builtin": ("builtin", False), **{f"{r} + builtin": (r, True) for r in NAME_RESOURCES if r != "builtin"},
                **{f"{r} alone": (r, False) for r in NAME_RESOURCES if r != "builtin"}}
    default = f"{DEFAULT_NAME_RESOURCE} + builtin"
    for res, (name, supplement) in variants.items():
        t = time.perf_counter()
        names = first_names(name, supplement=supplement)
        n_names = len(names)
        load_s = time.perf_counter() - t
        corpus, learn_s, c_missed, c_fa = corpus_run(texts, planted, public, names)
        sent, s_missed, s_fa = sentence_run(sentences, names)
        results[res] = {"names": n_names, "load_s": round(load_s, 2), "learn_s": round(learn_s, 2),
                        "corpus": corpus, "sentences": sent}
        details[res] = (c_missed, c_fa, s_missed, s_fa)
    lines = ["# Pseudonymisation benchmark", "", f"Machine: {machine()}. Command: `python bench/privacy_bench.py`.",
             "", f"Planted strings found in the example corpus: {len(planted)}; planted sentences: "
             f"{sum(1 for r in sentences if r['string'])} strings in {len(sentences)} sentences "
             f"({sum(1 for r in sentences if not r['string'])} without any name).  Detector alone, without the "
             "project's allow/deny lists.", "",
             "## First-name resources", "",
             "| resource | first names | load s | learn s (corpus) | first names alone: recall corpus / "
             "sentences | precision corpus / sentences |", "|---|---|---|---|---|---|"]
    for res, r in results.items():
        fc, fs = r["corpus"]["first_names"], r["sentences"]["first_names"]
        lines.append(f"| {res}{' (default)' if res == default else ''} | {r['names']:,} | "
                     f"{r['load_s']} | {r['learn_s']} | {_fmt(fc['recall'])} / {_fmt(fs['recall'])} | "
                     f"{_fmt(fc['precision'])} / {_fmt(fs['precision'])} |")
    for res, r in results.items():
        lines += ["", f"## {res}{' (default)' if res == default else ''}", "",
                  "| class | corpus planted | recall | precision (detections) | sentences planted | recall | "
                  "precision (detections) |", "|---|---|---|---|---|---|---|"]
        for c in CLASSES:
            a, b = r["corpus"][c], r["sentences"][c]
            lines.append(f"| {c} | {a['planted']} | {_fmt(a['recall'])} | {_fmt(a['precision'])} ({a['detections']})"
                         f" | {b['planted']} | {_fmt(b['recall'])} | {_fmt(b['precision'])} ({b['detections']}) |")
    c_missed, c_fa, s_missed, s_fa = details[default]
    lines += ["", f"## Misses and false alarms of the default ({default})", "",
              "Missed in the corpus (a project adds them to `[privacy] deny`):", ""]
    lines += [f"- {x}" for x in c_missed] or ["- none"]
    lines += ["", "Missed in the planted sentences:", ""] + ([f"- {x}" for x in s_missed] or ["- none"])
    lines += ["", "False alarms in the planted sentences:", ""] + ([f"- {x}" for x in s_fa] or ["- none"])
    lines += ["", f"False alarms in the corpus ({len(c_fa)}; first 40; a project adds them to `[privacy] allow`):",
              ""] + [f"- {x}" for x in c_fa[:40]]
    d = results[default]
    lines[5:5] = [f"Default ({default}), corpus, all classes: recall **{d['corpus']['all']['recall']:.3f}**, "
                  f"precision **{d['corpus']['all']['precision']:.3f}**.", ""]
    write_result("privacy", "\n".join(lines) + "\n", {
        "default": default, "recall": d["corpus"]["all"]["recall"],
        "precision": d["corpus"]["all"]["precision"], "planted": len(planted), "learn_s": d["learn_s"],
        "apply_s": d["corpus"]["all"]["apply_s"], "resources": results})


if __name__ == "__main__":
    main()
