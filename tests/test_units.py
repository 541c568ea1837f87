"""Units: texts sliced in Python and unit labels by binary search agree with SQL's own answers."""

from __future__ import annotations

import random

from qualkit.corpus import ingest, iter_units_text
from qualkit.project import Project
from qualkit.units import unit_labels, unit_table


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
    got = {(int(u), int(c)) for u, c in zip(unit_labels(tiny_project).unit_id, unit_labels(tiny_project).coding_id,
                                            strict=True)}
    want = {(r[0], r[1]) for r in s.query(
        'SELECT u.id, c.id FROM codings c JOIN units u ON u.document_id = c.document_id AND u.start < c."end" '
        "AND c.start < u.\"end\" WHERE u.role != 'interviewer' AND c.status = 'active'")}
    assert len(want) > 80 and got == want
