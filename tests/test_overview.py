"""The overview chapter: who was interviewed and asked, on what base."""

from __future__ import annotations

from pathlib import Path

from qualkit.corpus import ingest
from qualkit.overview import overview_blocks
from qualkit.privacy import attribution_groups, pseudonymise_project
from qualkit.project import open_project
from qualkit.reportdata import MISSING, ReportData, ReportSettings

from .conftest import write_project


def test_overview_labels_an_empty_variable_as_missing_as_the_k_rule_does(tmp_path: Path) -> None:
    """An interview whose metadata leaves a variable empty is counted under "(fehlt)" in the overview's table,
    the group the k rule counts it in, not under a blank label."""
    p = write_project(tmp_path / "p")
    (p.root / "transcripts/interviews.csv").write_text(
        "id,Kommune,Funktion,Funktionsgruppe\nA1,Gladbeck,Integrationsbeauftragte/r,Integrationsbeauftragte\n"
        "B2,Dorsten,Sozialdezernent/in,\n", encoding="utf-8")
    p = open_project(p.root)
    ingest(p)
    pseudonymise_project(p)
    stored = {r["value"] for r in p.store.query(
        "SELECT value FROM variables WHERE case_id='B2' AND name='Funktionsgruppe'")}
    assert stored <= {""}  # kept empty, or not kept: either way it is missing
    data = ReportData(p, ReportSettings.from_project(p))
    table = next(b for b in overview_blocks(data, tmp_path) if b.kind == "table"
                 and b.text == "Interviews nach Funktionsgruppe")
    labels = [r[0] for r in table.rows]
    assert MISSING in labels and "" not in labels and None not in labels
    groups = attribution_groups(p, ["Funktionsgruppe"], k=1)
    assert set(groups.Funktionsgruppe) == set(labels)
