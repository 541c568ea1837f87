"""Which codings count (one rule, in units.py), duplicate survey submissions, and unit texts and labels computed
in Python agreeing with SQL's own answers."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd

from qualkit.corpus import ingest, iter_units_text
from qualkit.project import Project, open_project
from qualkit.units import counting_coders, primary_coder, unit_labels, unit_table

from .conftest import add_config, write_project


def _coded(tmp_path: Path, extra_cfg: str = "") -> Project:
    p = write_project(tmp_path / "p")
    ingest(p)
    code = next(iter(p.codebook.primary.codes))
    other = list(p.codebook.primary.codes)[1]
    units = p.store.units("A1")
    resp = units[units.role != "interviewer"]
    u0, u1 = resp.iloc[0], resp.iloc[1]
    s = p.store
    # A codes both turns; B codes the first turn with another code (a reliability pass): never added up
    s.add_coding("A1", int(u0.start), int(u0.end), code, coder="A")
    s.add_coding("A1", int(u1.start), int(u1.end), code, coder="A")
    s.add_coding("A1", int(u0.start), int(u0.end), other, coder="B")
    # B alone coded the second interview: B counts there
    b_units = s.units("B2")
    b0 = b_units[b_units.role != "interviewer"].iloc[0]
    s.add_coding("B2", int(b0.start), int(b0.end), other, coder="B")
    if extra_cfg:
        add_config(p.root, extra_cfg)
        p = open_project(p.root)
    return p


def test_units_primary_coder_counts_never_the_union(tmp_path: Path) -> None:
    p = _coded(tmp_path)
    assert primary_coder(p) == "A"  # most codings
    lab = unit_labels(p)
    assert set(lab[lab.document_id == "A1"].coder) == {"A"}
    assert set(lab[lab.document_id == "B2"].coder) == {"B"}  # the only coder of that document
    every = unit_labels(p, rule="all")
    assert set(every[every.document_id == "A1"].coder) == {"A", "B"}
    assert len(every) == len(lab) + 1
    # naming coders overrides the rule
    assert set(unit_labels(p, coders=["B"]).coder) == {"B"}


def test_units_configured_primary_and_consensus(tmp_path: Path) -> None:
    p = _coded(tmp_path, '\n[coding]\nprimary_coder = "B"\n')
    assert primary_coder(p) == "B"
    lab = unit_labels(p)
    assert set(lab[lab.document_id == "A1"].coder) == {"B"}
    units = p.store.units("A1")
    u0 = units[units.role != "interviewer"].iloc[0]
    p.store.add_coding("A1", int(u0.start), int(u0.end), next(iter(p.codebook.primary.codes)), coder="konsens")
    chosen = counting_coders(p, unit_labels(p, rule="all"))
    assert chosen["A1"] == "konsens" and chosen["B2"] == "B"
    assert set(unit_labels(p)[lambda d: d.document_id == "A1"].coder) == {"konsens"}


def test_units_duplicate_submission_marked_once(tmp_path: Path) -> None:
    p = write_project(tmp_path / "p")
    export = p.root / "transcripts/survey/export.csv"
    export.write_text(
        "id,submitdate,Kommune,OrgTyp,F1,F2\n"
        "1,2021-11-20,Marl,Kita,Sprachkurse für Frauen mit Kinderbetreuung!!,Mehr Geld\n"
        "2,2021-11-20,Marl,Kita,Sprachkurse  für Frauen mit Kinderbetreuung!!,mehr geld\n"
        "3,2021-11-20,Herten,Schule,Kitaplätze,\n"
        "4,2021-11-20,Herten,Schule,Kitaplätze,\n", encoding="utf-8")
    ingest(p)
    u = unit_table(p)
    dup = u.set_index("case_id").duplicate_of.dropna().to_dict()
    # respondent 2 repeats respondent 1 word for word; two people who both wrote "Kitaplätze" are not duplicates
    assert dup == {"S2": "S1"}
    # read a case at a time, each batch's digests give the same rule's answer
    from qualkit.units import _unit_table, case_batches, first_submissions, submission_keys
    keys = [submission_keys(_unit_table(p, ("survey",), documents=docs, duplicates={}))
            for docs in case_batches(p, ("survey",), 1)]
    assert len(keys) == 4 and first_submissions(pd.concat(keys)) == dup


def test_units_case_batches_keep_a_case_together_and_every_document_once(tiny_project: Project) -> None:
    """Batches of about n units: every document in exactly one, a case's documents in the same one, and a batch
    larger than n only by the units of its last case."""
    ingest(tiny_project)
    from qualkit.units import case_batches
    docs = tiny_project.store.documents()
    case_of = dict(zip(docs.id, docs.case_id, strict=True))
    assert docs.groupby("case_id").id.count().max() > 1  # a respondent answered several questions
    units = unit_table(tiny_project)
    per_doc = units.groupby("document_id").unit_id.count()
    per_case = units.groupby("case_id").unit_id.count()
    for n in (1, 2, 3, 1000):
        batches = list(case_batches(tiny_project, ("interview", "survey"), n))
        flat = [d for b in batches for d in b]
        assert sorted(flat) == sorted(docs.id[docs.kind.isin(["interview", "survey"])]) and len(set(flat)) == len(flat)
        cases = [{case_of[d] for d in b} for b in batches]
        assert all(not a & b for i, a in enumerate(cases) for b in cases[i + 1:])  # no case in two batches
        assert all(sum(per_doc.get(d, 0) for d in b) < n + per_case.max() for b in batches)
        assert len(batches) == 1 if n == 1000 else len(batches) > 1


def test_units_sliced_text_equals_sql_substr(tiny_project: Project) -> None:
    ingest(tiny_project)
    table = unit_table(tiny_project)
    sql = {r[0]: r[1] for r in tiny_project.store.query(
        'SELECT u.id, substr(d.text, u.start + 1, u."end" - u.start) FROM units u JOIN documents d '
        "ON d.id = u.document_id")}
    assert len(table) > 5 and all(sql[u] == t for u, t in zip(table.unit_id, table.text, strict=True))
    assert any(not t.isascii() for t in table.text)  # umlauts and the emoji count as one code point each
    assert [t for _, _, t in iter_units_text(tiny_project)] == [
        sql[u] for u in tiny_project.store.frame(
            "SELECT id FROM units WHERE role != 'interviewer' ORDER BY document_id, idx").id]
    # equal texts are one string (a repeated answer is held once): the same spans twice give the same objects
    from qualkit.units import slice_texts
    spans = table[["document_id", "start", "end"]]
    twice = slice_texts(tiny_project, pd.concat([spans, spans], ignore_index=True))
    n = len(spans)
    assert twice[:n] == list(table.text) and all(twice[i] is twice[n + i] for i in range(n))


def test_units_labels_equal_the_sql_range_join(tiny_project: Project) -> None:
    """Random spans (inside a turn, across turns, touching a turn's edge): the same (unit, coding) pairs as
    the SQL overlap join."""
    ingest(tiny_project)
    s = tiny_project.store
    rng = random.Random(7)
    for doc in ("A1", "B2"):
        n = len(s.document_text(doc))
        units = s.units(doc)
        spoken = units[units.role == "respondent"]
        for _ in range(40):
            r = spoken.iloc[rng.randrange(len(spoken))]
            a = rng.randrange(int(r.start), int(r.end))
            b = min(n, a + rng.choice([1, 5, 40, 400]))
            s.add_coding(doc, a, b, rng.choice(["Frühkindliche Bildung", "Bedarf/Lücke"]), coder="a")
    labels = unit_labels(tiny_project)
    cols = ["unit_id", "coding_id", "document_id", "code", "dimension", "coder", "origin", "status"]
    got = {tuple(r) for r in labels[cols].itertuples(index=False)}
    # each pair with its coding's own columns (the labels take them from the coding's row)
    want = {tuple(r) for r in s.query(
        "SELECT u.id, c.id, c.document_id, k.name, k.dimension, c.coder, c.origin, c.status FROM codings c "
        'JOIN codes k ON k.id = c.code_id JOIN units u ON u.document_id = c.document_id AND u.start < c."end" '
        "AND c.start < u.\"end\" WHERE u.role != 'interviewer' AND c.status = 'active'")}
    assert len(want) > 80 and got == want and len(labels) == len(want)
