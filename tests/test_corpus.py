"""The shipped example corpus (issue: example corpus and Handlungsfeld codebook)."""

from __future__ import annotations

import csv
import re

import pandas as pd
import pytest

from qualkit.codebook import load_codebook
from qualkit.project import Project
from qualkit.status import project_status
from qualkit.transcript import read_transcript
from qualkit.units import unit_labels

from .conftest import REPO

ROLES = {"Bürgermeister/in": 10, "Integrationsbeauftragte/r": 10, "Sozialdezernent/in": 10}
TOWNS = {"Castrop-Rauxel", "Datteln", "Dorsten", "Gladbeck", "Haltern am See", "Herten", "Marl", "Oer-Erkenschwick",
         "Recklinghausen", "Waltrop"}
# Office holders of the district and its towns around 2021/22: the corpus is fictional and must not name them.
REAL_NAMES = ["Rajko Kravanja", "Kravanja", "André Dora", "Tobias Stockhoff", "Stockhoff", "Bettina Weist",
              "Andreas Stegemann", "Matthias Müller", "Werner Arndt", "Carsten Wewers", "Wewers", "Christoph Tesche",
              "Tesche", "Marcel Mittelbach", "Bodo Klimpel", "Klimpel", "Cay Süberkrüb", "Süberkrüb"]


def _meta() -> list[dict[str, str]]:
    return list(csv.DictReader((REPO / "transcripts/interviews.csv").open(encoding="utf-8")))


def test_corpus_37_interviews_with_roles_and_metadata() -> None:
    meta = _meta()
    files = sorted(p.stem for p in (REPO / "transcripts/interviews").glob("*.txt"))
    assert len(files) == 37 and sorted(m["id"] for m in meta) == files
    roles = pd.Series([m["Funktion"] for m in meta]).value_counts().to_dict()
    for role, n in ROLES.items():
        assert roles[role] == n
    specialists = [m for m in meta if m["Funktion"] not in ROLES]
    assert len(specialists) == 7 and all(m["Kommune"] == "Kreis" for m in specialists)
    for role in ROLES:
        assert {m["Kommune"] for m in meta if m["Funktion"] == role} == TOWNS
    for m in meta:
        assert m["Datum"] and m["Modus"] in ("online", "telefonisch", "vor Ort") and m["Dauer_min"] and m["Interviewer"]
        assert m["fiktiv"] == "ja"


@pytest.mark.parametrize("path", sorted((REPO / "transcripts/interviews").glob("*.txt")), ids=lambda p: p.stem)
def test_corpus_interview_length_and_format(path) -> None:  # type: ignore[no-untyped-def]
    t = read_transcript(path)
    words = sum(len(re.findall(r"\w+", x.text)) for x in t.turns)
    assert 1500 <= words <= 3500, words
    assert {x.speaker[0] for x in t.turns} == {"I", "B"}
    assert all(x.time_end is not None for x in t.turns)
    ends = [x.time_end for x in t.turns]
    assert ends == sorted(ends)


def test_corpus_codebook_validates() -> None:
    cb = load_codebook(REPO / "codebooks/handlungsfelder.yaml")
    assert len(cb.primary.codes) == 7


def test_corpus_status_and_counts(example_project: Project) -> None:
    st = project_status(example_project)
    assert st["sources"]["interview"]["documents"] == 37
    assert st["respondents"]["total"] >= 400
    assert set(st["coders"]) == {"A", "B"}
    lab = unit_labels(example_project, coders=["A"])
    cb = example_project.codebook
    per_field = lab.groupby("root").unit_id.nunique()
    for field in cb.primary.codes:
        assert per_field[field] >= 40, field
        for sub in cb.children(field):
            assert lab[lab.code == sub.name].unit_id.nunique() >= 8, sub.name
    b = unit_labels(example_project, coders=["B"])
    assert b[b.document_id.str.startswith("I")].document_id.nunique() == 10
    assert b[b.document_id.str.startswith("S")].document_id.nunique() >= 100


def test_corpus_every_quote_matches_the_text(example_project: Project) -> None:
    store = example_project.store
    texts = {r[0]: r[1] for r in store.query("SELECT id, text FROM documents")}
    for f in ("coder_A.csv", "coder_B.csv"):
        for row in csv.DictReader((REPO / "transcripts/codings" / f).open(encoding="utf-8")):
            assert texts[row["document"]][int(row["start"]):int(row["end"])] == row["quote"]


def test_corpus_is_fictional() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "transcripts").rglob("*")
                     if p.is_file() and p.suffix in (".txt", ".csv", ".md"))
    for name in REAL_NAMES:
        assert not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text), name
    readme = (REPO / "transcripts/README.md").read_text(encoding="utf-8")
    assert "fiktiv" in readme.lower() or "fictional" in readme.lower()


def test_corpus_survey_xlsx_equals_csv() -> None:
    from qualkit.survey import read_survey
    kw = {"id_column": "id", "open_questions": ["F1", "F2", "F3", "F4"], "variables": {"Kommune": "Kommune",
          "OrgTyp": "Organisationstyp"}, "complete_column": "submitdate"}
    a = read_survey(REPO / "transcripts/survey/umfrage_export.csv", **kw)
    b = read_survey(REPO / "transcripts/survey/umfrage_export.xlsx", **kw)
    assert [(r.id, r.answers, r.variables) for r in a.respondents] == [(r.id, r.answers, r.variables)
                                                                        for r in b.respondents]


def test_corpus_readme_counts_are_current(example_project: Project) -> None:
    import importlib.util
    spec = importlib.util.spec_from_file_location("corpus_stats", REPO / "bench/corpus_stats.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    readme = (REPO / "transcripts/README.md").read_text(encoding="utf-8")
    block = readme.split(mod.START, 1)[1].split(mod.END, 1)[0].strip()
    assert block == mod.counts_markdown(example_project).strip()
