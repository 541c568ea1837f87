from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# -- the merge rule, checked against a model of the module docstring ----------------------------------------------

_QUOTES = [("A1", "fehlen vor allem Kitaplätze, ähm, und"), ("A1", "Kitaplätze, ähm, und Sprachkurse"),
           ("A1", "das läuft gut"), ("B2", "Die Busse fahren in Lembeck"), ("B2", "Lembeck kaum")]
_CODES = ["Frühkindliche Bildung", "Bildung und Sprache"]
_ROW = st.tuples(st.sampled_from(range(len(_QUOTES))), st.sampled_from(_CODES), st.sampled_from(["A", "B"]),
                 st.sampled_from(["", "m1", "m2"]))
_Span = tuple[str, int, int, str]  # document, start, end, quote


def _write_rows(project: Project, spans: list[_Span], rows: list[tuple[int, str, str, str]]) -> None:
    import csv
    import io
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["document", "start", "end", "code", "coder", "quote", "memo"])
    for span, code, coder, memo in rows:
        w.writerow([*spans[span][:3], code, coder, spans[span][3], memo])
    (project.root / "transcripts/ref.csv").write_text(buf.getvalue(), encoding="utf-8")


def _expected(spans: list[_Span], first: list[tuple[int, str, str, str]], actions: dict[tuple[int, str, str], str],
              second: list[tuple[int, str, str, str]]) -> tuple[set[tuple[int, str, str, str]], int]:
    """The codings (span, code, coder, memo) after reading ``first``, the researcher's ``actions`` (edit or
    delete, by key) and reading ``second``, as the module docstring says; and how many were added."""
    def firsts(rows: list[tuple[int, str, str, str]]) -> dict[tuple[int, str, str], str]:
        out: dict[tuple[int, str, str], str] = {}
        for span, code, coder, memo in rows:
            out.setdefault((span, code, coder), memo)
        return out
    prev, new = firsts(first), firsts(second)
    alive = {k: ("edited" if actions.get(k) == "edit" else m) for k, m in prev.items() if actions.get(k) != "delete"}
    edited = {k for k in alive if actions.get(k) == "edit"}
    gone_edited = []
    for k in sorted(set(prev) - set(new), key=lambda k: (spans[k[0]][0], k[1], k[2], spans[k[0]][3])):
        if k in edited:
            gone_edited.append(k)
        elif k in alive:
            del alive[k]
    added = 0
    for k, memo in new.items():
        if k in prev:
            if k in alive and memo != prev[k] and k not in edited:
                alive[k] = memo
            continue
        doc, s, e, _q = spans[k[0]]
        if any(spans[g[0]][0] == doc and g[2] == k[2] and spans[g[0]][1] < e and s < spans[g[0]][2]
               for g in gone_edited):
            continue  # the row replaces one a researcher edited: the edit wins
        alive[k] = memo
        added += 1
    return {(*k, m) for k, m in alive.items()}, added


@given(first=st.lists(_ROW, max_size=6), second=st.lists(_ROW, max_size=6),
       acts=st.lists(st.sampled_from(["keep", "edit", "delete"]), min_size=6, max_size=6))
@settings(max_examples=25, deadline=None)
def test_references_merge_follows_the_rule(tmp_path_factory: pytest.TempPathFactory,
                                           first: list[tuple[int, str, str, str]],
                                           second: list[tuple[int, str, str, str]], acts: list[str]) -> None:
    from qualkit import references
    from qualkit import store as store_module

    from .conftest import write_project
    from .test_store import _assert_log_replays
    project = write_project(tmp_path_factory.mktemp("ref") / "proj")
    ingest(project)
    add_config(project.root, '[codings]\nfiles = ["transcripts/ref.csv"]\n')
    project = open_project(project.root)
    store = project.store
    spans = []
    for doc, quote in _QUOTES:
        i = store.document_text(doc).index(quote)
        spans.append((doc, i, i + len(quote), quote))
    index = {sp[:3]: i for i, sp in enumerate(spans)}
    with pytest.MonkeyPatch.context() as mp:  # parts of two rows: the merge crosses part boundaries
        mp.setattr(references, "_PART", 2)
        mp.setattr(store_module, "_ADD_PART", 3)
        _write_rows(project, spans, first)
        ingest(project)
        keys = sorted({(span, code, coder) for span, code, coder, _m in first})
        actions = dict(zip(keys, acts, strict=False))
        for c in store.codings().itertuples():
            k = (index[(c.document_id, c.start, c.end)], c.code, c.coder)
            if actions.get(k) == "edit":
                store.update_coding(int(c.id), coder="ab", memo="edited")
            elif actions.get(k) == "delete":
                store.delete_coding(int(c.id), coder="ab")
        _write_rows(project, spans, second)
        report = ingest(project)
    want, added = _expected(spans, first, actions, second)
    got = {(index[(c.document_id, c.start, c.end)], c.code, c.coder, c.memo) for c in store.codings().itertuples()}
    assert got == want
    assert report.codings_loaded == added
    assert not store.query("SELECT name FROM sqlite_temp_master")  # the merge's tables went with it
    _assert_log_replays(store)
