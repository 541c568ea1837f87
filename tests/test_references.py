from __future__ import annotations

from pathlib import Path

from qualkit.corpus import ingest
from qualkit.project import Project, open_project

from .conftest import add_config

REF_ROWS = [("A1", "fehlen vor allem Kitaplätze", "Frühkindliche Bildung", "A"),
            ("A1", "Die Wohnungssuche ist schlimm", "Wohnraum und Wohnungsmarkt", "A"),
            ("B2", "Die Busse fahren in Lembeck kaum", "Bildung und Sprache", "B")]


def with_reference_file(project: Project, rows: list[tuple[str, str, str, str]], *, memos: dict[int, str] | None = None,
                        ingest_first: bool = True) -> Path:
    """A reference coding file with ``(document, quote, code, coder)`` rows (offsets found by the quote)."""
    if ingest_first:
        ingest(project)
    lines = ["document,start,end,code,coder,quote,memo"]
    for n, (doc, quote, code, coder) in enumerate(rows):
        text = project.store.document_text(doc)
        i = text.index(quote)
        lines.append(f'{doc},{i},{i + len(quote)},{code},{coder},"{quote}",{(memos or {}).get(n, "")}')
    path = project.root / "transcripts" / "ref.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if "transcripts/ref.csv" not in (project.root / "qualkit.toml").read_text(encoding="utf-8"):
        add_config(project.root, '[codings]\nfiles = ["transcripts/ref.csv"]\n')
    return path


REF_ROWS = [("A1", "fehlen vor allem Kitaplätze", "Frühkindliche Bildung", "A"),
            ("A1", "Die Wohnungssuche ist schlimm", "Wohnraum und Wohnungsmarkt", "A"),
            ("B2", "Die Busse fahren in Lembeck kaum", "Bildung und Sprache", "B")]


def _state(project: Project) -> list[tuple[str, str, str, str, str]]:
    return sorted((r.document_id, r.quote, r.code, r.coder, r.memo) for r in project.store.codings().itertuples())


def test_references_edits_survive_reingest(tiny_project: Project) -> None:
    from .test_store import _assert_log_replays
    with_reference_file(tiny_project, REF_ROWS)
    project = open_project(tiny_project.root)
    ingest(project)
    store = project.store
    ids = {r.quote: int(r.id) for r in store.codings().itertuples()}
    kita, wohnen, busse = ids[REF_ROWS[0][1]], ids[REF_ROWS[1][1]], ids[REF_ROWS[2][1]]
    store.update_coding(kita, coder="ab", memo="Kita-Mangel, von ab präzisiert")
    store.delete_coding(wohnen, coder="ab")
    # editing a transcript does not re-read the reference file: the edit stays, the deleted coding stays deleted
    a1 = project.root / "transcripts/interviews/A1.txt"
    a1.write_text(a1.read_text(encoding="utf-8").replace("Gerne. Also", "Gerne, sehr gerne. Also"), encoding="utf-8")
    report = ingest(project)
    assert report.codings_loaded == 0 and report.updated == ["A1"]
    assert {int(i) for i in store.codings().id} == {kita, busse}
    assert store.coding(kita)["memo"] == "Kita-Mangel, von ab präzisiert"
    _assert_log_replays(store)
    # the file changes (regenerated against the new text): a new row, a changed memo, the edited row's memo changed
    rows = [*REF_ROWS, ("A1", "das läuft gut", "Bildung und Sprache", "A")]
    with_reference_file(project, rows, memos={0: "Memo aus der Datei", 2: "neu"}, ingest_first=False)
    report = ingest(project)
    assert report.codings_loaded == 1
    assert any("the edit wins" in w for w in report.warnings)
    assert any("deleted in qualkit since are not loaded again" in w for w in report.warnings)
    assert store.coding(kita)["memo"] == "Kita-Mangel, von ab präzisiert" and store.coding(busse)["memo"] == "neu"
    assert REF_ROWS[1][1] not in set(store.codings().quote)
    _assert_log_replays(store)
    # rows gone from the file: an unedited coding is unloaded, an edited one is kept with a note
    with_reference_file(project, [rows[1], rows[3]], ingest_first=False)
    report = ingest(project)
    assert store.log().action.iloc[-1] == "unload" and int(store.log().coding_id.iloc[-1]) == busse
    assert kita in set(store.codings().id) and any("kept as edited" in w for w in report.warnings)
    assert store.log(kita).action.tolist() == ["ingest", "update", "reanchor"]
    _assert_log_replays(store)
    # an unchanged file is not re-read; --force re-reads it and changes nothing
    before = _state(project)
    ingest(project)
    ingest(project, force=True)
    assert _state(project) == before
