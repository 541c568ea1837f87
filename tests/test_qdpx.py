from __future__ import annotations

import os
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from qualkit.corpus import ingest
from qualkit.errors import QdpxError
from qualkit.project import Project, init_project, open_project
from qualkit.qdpx import (
    Limits,
    _normalise_with_map,
    export_codebook,
    export_qdpx,
    import_codebook,
    import_qdpx,
    validate_qde,
)
from qualkit.store import Store

from .conftest import SHARED, add_config, run_cli

XSD = SHARED / "refi-qda" / "Project-mrt2019.xsd"
XSD_CB = SHARED / "refi-qda" / "Codebook-mrt2019.xsd"
SAMPLES = SHARED / "refi-qda" / "samples"
# CI always has ../shared beside the clone; there a missing schema is a failure, not a skip.
needs_shared = pytest.mark.skipif(not XSD.exists() and os.environ.get("CI") != "true",
                                  reason="../shared/refi-qda is not present beside this checkout")


@pytest.fixture
def rich(tiny_project: Project) -> Project:
    """Codings with umlauts and emoji at exact positions, memos on a coding, a document and a code."""
    ingest(tiny_project)
    s = tiny_project.store
    t = s.document_text("A1")
    i = t.index("Wohnungssuche")
    s.add_coding("A1", i, t.index("😀") + 1, "Wohnraum und Wohnungsmarkt", coder="anna", memo="Ärger über Märkte 😀")
    j = t.index("Kitaplätze")
    s.add_coding("A1", j, j + 10, "Frühkindliche Bildung", coder="bert")
    s.add_coding("S2-F1", 2, 13, "Schule und Seiteneinstieg", coder="anna")
    with s.transaction() as con:
        con.execute("INSERT INTO memos(document_id, author, title, text, created_at, updated_at) VALUES "
                    "('B2', 'anna', 'Kontext', 'Interview mit Störungen', 'x', 'x')")
        con.execute("INSERT INTO memos(code_id, author, title, text, created_at, updated_at) VALUES "
                    "((SELECT id FROM codes WHERE name='Politische Teilhabe'), 'anna', 'Politische Teilhabe', "
                    "'Auch Beiräte gemeint', 'x', 'x')")
    return tiny_project


@needs_shared
def test_qdpx_export_validates_against_official_schema(rich: Project, tmp_path: Path) -> None:
    out = export_qdpx(rich, tmp_path / "p.qdpx")
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        xml = z.read("project.qde")
        assert all(n == "project.qde" or re.fullmatch(r"sources/[0-9a-f\-]{36}\.txt", n) for n in names)
        first = next(n for n in names if n.startswith("sources/"))
        assert not z.read(first).startswith(b"\xef\xbb\xbf")
    assert validate_qde(xml, XSD) == []
    doc = etree.fromstring(xml)
    ns = {"q": "urn:QDA-XML:project:1.0"}
    assert doc.find(".//q:Code[@name='Bildung und Sprache']/q:Code[@name='Frühkindliche Bildung']", ns) is not None
    assert doc.find(".//q:Code[@name='Bildung und Sprache']", ns).get("color") == "#2E86AB"
    assert doc.findall(".//q:Case", ns) and doc.findall(".//q:Variable", ns)


def _content(path: Path) -> dict[str, object]:
    """Everything that must survive a round trip, without GUIDs and timestamps."""
    with zipfile.ZipFile(path) as z:
        xml = z.read("project.qde")
        files = {n: z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("sources/")}
    doc = etree.fromstring(xml)
    ns = "{urn:QDA-XML:project:1.0}"
    codes = sorted((c.get("name"), c.get("color"), c.findtext(f"{ns}Description") or "",
                    c.getparent().get("name") or "") for c in doc.iter(f"{ns}Code"))
    guid_code = {c.get("guid"): c.get("name") for c in doc.iter(f"{ns}Code")}
    notes = {n.get("guid"): n.findtext(f"{ns}PlainTextContent") for n in doc.iter(f"{ns}Note")}
    users = {u.get("guid"): u.get("name") for u in doc.iter(f"{ns}User")}
    sources = {}
    for s in doc.iter(f"{ns}TextSource"):
        if s.getparent().tag != f"{ns}Sources":
            continue
        text = files["sources/" + s.get("plainTextPath").split("//")[1]]
        sels = sorted((int(x.get("startPosition")), int(x.get("endPosition")),
                       guid_code[x.find(f"{ns}Coding/{ns}CodeRef").get("targetGUID")], users[x.get("creatingUser")],
                       text[int(x.get("startPosition")):int(x.get("endPosition"))],
                       "|".join(notes[n.get("targetGUID")] for n in x.findall(f"{ns}NoteRef")))
                      for x in s.findall(f"{ns}PlainTextSelection"))
        src_notes = sorted(notes[n.get("targetGUID")] for n in s.findall(f"{ns}NoteRef"))
        sources[s.get("name")] = (text, sels, src_notes, s.findtext(f"{ns}Description"))
    variables = {v.get("guid"): v.get("name") for v in doc.iter(f"{ns}Variable")}
    cases = sorted((c.get("name"), tuple(sorted((variables[v.find(f"{ns}VariableRef").get("targetGUID")],
                                                 v.findtext(f"{ns}TextValue") or "")
                                                for v in c.findall(f"{ns}VariableValue"))))
                   for c in doc.iter(f"{ns}Case"))
    return {"codes": codes, "sources": sources, "cases": cases, "notes": sorted(v or "" for v in notes.values())}


def test_qdpx_round_trip_is_lossless(rich: Project, tmp_path: Path) -> None:
    first = export_qdpx(rich, tmp_path / "a.qdpx")
    other = init_project(tmp_path / "other", example=True)
    report = import_qdpx(other, first)
    assert report.skipped == [] and report.codings == 3
    second = export_qdpx(other, tmp_path / "b.qdpx")
    a, b = _content(first), _content(second)
    assert [x[4] for x in a["sources"]["A1"][1] if x[2] == "Wohnraum und Wohnungsmarkt"] == \
        ["Wohnungssuche ist schlimm. 😀"]
    assert a == b
    # the imported store quotes exactly what the original store quoted
    q1 = sorted(rich.store.codings().quote)
    q2 = sorted(other.store.codings().quote)
    assert q1 == q2
    # importing the same file again, or back into the project it came from, merges instead of duplicating
    again = import_qdpx(other, first)
    assert again.sources == [] and again.codings == 0 and again.duplicates == 3
    assert len(other.store.documents()) == len(report.sources) and len(other.store.codings()) == 3
    back = import_qdpx(rich, first)
    assert back.sources == [] and back.codings == 0 and sorted(rich.store.codings().quote) == q1


@needs_shared
def test_qdpx_import_real_exports(tmp_path: Path) -> None:
    project = init_project(tmp_path / "imp", example=True)
    report = import_qdpx(project, SAMPLES / "demo.qdpx")
    xml = zipfile.ZipFile(SAMPLES / "demo.qdpx").read("project.qde")
    doc = etree.fromstring(xml)
    ns = "{urn:QDA-XML:project:1.0}"
    n_codes = len(list(doc.iter(f"{ns}Code")))
    n_codings = len(list(doc.iter(f"{ns}Coding")))
    assert n_codes == 262 and report.codings == n_codings
    assert len(report.codes_added) == 262  # ten repeated names are kept, disambiguated by their parent
    assert {c.get("name") for c in doc.iter(f"{ns}Code")} <= set(project.codebook.codes)
    # every coding's quote is exactly the source text at its positions
    z = zipfile.ZipFile(SAMPLES / "demo.qdpx")
    expected = []
    for s in doc.iter(f"{ns}TextSource"):
        raw = z.read("sources/" + s.get("plainTextPath")).decode("utf-8-sig")
        for sel in s.findall(f"{ns}PlainTextSelection"):
            for _ in sel.findall(f"{ns}Coding"):
                expected.append(raw[int(sel.get("startPosition")):int(sel.get("endPosition"))])
    assert sorted(project.store.codings().quote) == sorted(expected)
    nv = init_project(tmp_path / "nv")
    rep = import_qdpx(nv, SAMPLES / "nvivo_project.qdpx")
    ndoc = etree.fromstring(zipfile.ZipFile(SAMPLES / "nvivo_project.qdpx").read("project.qde"))
    assert len(rep.codes_added) + len(rep.codes_merged) == len(list(ndoc.iter(f"{ns}Code")))
    # NVivo wrote two sources whose .txt and .docx hold no text: reported, not silently dropped
    assert rep.sources == [] and len(rep.skipped) == 2 and all("empty" in x for x in rep.skipped)
    assert len(set(nv.codebook.codes) & {c.get("name") for c in ndoc.iter(f"{ns}Code")}) >= 200


MINIMAL = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Fremdprojekt" origin="OtherTool 9">
 <Users><User guid="{{AAAAAAAA-1111-2222-3333-444444444444}}" name="Zeynep"/></Users>
 <CodeBook><Codes>
  <Code guid="11111111-aaaa-bbbb-cccc-000000000001" name="Bildung und Sprache" isCodable="true" color="#123">
   <Code guid="11111111-aaaa-bbbb-cccc-000000000002" name="Kita-Alltag" isCodable="true">
    <Code guid="11111111-aaaa-bbbb-cccc-000000000003" name="Eingewöhnung" isCodable="true"/>
   </Code>
  </Code>
 </Codes></CodeBook>
 <Sources>
  <TextSource guid="22222222-aaaa-bbbb-cccc-000000000001" name="Gespräch Müller" plainTextPath="relative://G1.txt">
   <PlainTextSelection guid="33333333-aaaa-bbbb-cccc-000000000001" startPosition="{s1}" endPosition="{e1}"
     creatingUser="AAAAAAAA-1111-2222-3333-444444444444">
    <Coding guid="44444444-aaaa-bbbb-cccc-000000000001"><CodeRef targetGUID="11111111-aaaa-bbbb-cccc-000000000003"/></Coding>
   </PlainTextSelection>
   <PlainTextSelection guid="33333333-aaaa-bbbb-cccc-000000000002" startPosition="{s2}" endPosition="{e2}">
    <Coding guid="44444444-aaaa-bbbb-cccc-000000000002"><CodeRef targetGUID="11111111-aaaa-bbbb-cccc-000000000001"/></Coding>
   </PlainTextSelection>
  </TextSource>
  <PDFSource guid="22222222-aaaa-bbbb-cccc-000000000009" name="Protokoll.pdf" path="internal://x.pdf"/>
 </Sources>
</Project>"""


def test_qdpx_import_hand_written_minimal(tmp_path: Path) -> None:
    # decomposed umlaut, CRLF counted as two characters by the writing tool, a BOM
    raw = "B: Die Eingewo\u0308hnung dauert.\r\nI: Und sonst?\r\nB: Mehr Sprachförderung 😀 fehlt."
    s1, e1 = raw.index("Die"), raw.index(".") + 1
    s2, e2 = raw.index("Mehr"), len(raw)
    xml = MINIMAL.format(s1=s1, e1=e1, s2=s2, e2=e2)
    path = tmp_path / "fremd.qdpx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("Fremdprojekt.qde", xml)
        z.writestr("Sources/G1.txt", ("\ufeff" + raw).encode("utf-8"))
        z.writestr("Sources/x.pdf", b"%PDF-1.4")
    project = init_project(tmp_path / "p", example=True)
    report = import_qdpx(project, path, codebook="append")
    assert report.codings == 2 and report.codebook == "appended"
    assert any("PDFSource 'Protokoll.pdf'" in x for x in report.skipped)
    assert "Eingewöhnung" in report.codes_added and "Bildung und Sprache" in report.codes_merged
    cb = project.codebook
    assert cb.codes["Eingewöhnung"].parent == "Kita-Alltag" and cb.codes["Kita-Alltag"].parent is None
    quotes = dict(zip(project.store.codings().code, project.store.codings().quote))
    assert quotes["Eingewöhnung"] == "Die Eingewöhnung dauert."
    assert quotes["Bildung und Sprache"] == "Mehr Sprachförderung 😀 fehlt."
    assert set(project.store.codings().coder) == {"Zeynep", "importiert"}
    # into a new project (no documents, no codings) the file's codes become the codebook, said in the report
    fresh = init_project(tmp_path / "neu")
    rep = import_qdpx(fresh, path)
    assert rep.codebook == "replaced" and "codebook is now the file's 3 code(s)" in " ".join(rep.notes)
    cb = fresh.codebook
    assert [d.key for d in cb.dimensions] == ["codes"] and "Handlungsfelder" not in {d.name for d in cb.dimensions}
    assert set(cb.codes) == {"Kita-Alltag", "Eingewöhnung", "Bildung und Sprache"} and rep.codings == 2
    with pytest.raises(QdpxError, match="already has codings"):
        import_qdpx(fresh, path, replace_codebook=True)


def test_normalise_with_map_crlf_and_combining() -> None:
    raw = "a\r\nu\u0308b"
    text, pos = _normalise_with_map(raw)
    assert text == "a\nüb"
    assert pos[raw.index("b")] == text.index("b") and pos[len(raw)] == len(text)


def test_qdpx_bad_file(tmp_path: Path) -> None:
    p = tmp_path / "x.qdpx"
    p.write_bytes(b"not a zip")
    project = init_project(tmp_path / "p")
    with pytest.raises(QdpxError, match="not a readable"):
        import_qdpx(project, p)
    code, _, err = run_cli("qdpx", "import", str(p), "--project", str(tmp_path / "p"))
    assert code == 1 and "x.qdpx" in err


@needs_shared
def test_codebook_qdc_export_validates_and_imports(tiny_project: Project, tmp_path: Path) -> None:
    out = export_codebook(tiny_project, tmp_path / "cb.qdc")
    assert validate_qde(out.read_bytes(), XSD_CB) == []
    other = init_project(tmp_path / "o", example=True)
    rep = import_codebook(other, out)
    assert rep.codes_added == [] and len(rep.codes_merged) == len(tiny_project.codebook.codes)


# -- lossless exchange, one transaction, untrusted archives -------------------------------------------
def test_qdpx_example_round_trip_keeps_every_source_and_coding(example_project: Project, tmp_path: Path,
                                                               store_digest: Callable[[Path], str]) -> None:
    first = export_qdpx(example_project, tmp_path / "a.qdpx")
    other = init_project(tmp_path / "other", example=True)
    shutil.copy2(example_project.path(example_project.config["project"]["codebook"]),
                 other.path(other.config["project"]["codebook"]))
    report = import_qdpx(other, first)
    n_docs = len(example_project.store.documents())
    assert n_docs == 1111 and len(report.sources) == n_docs and report.skipped == []
    # survey answers with the same words from different respondents stay different documents
    assert list(other.store.documents().id) == list(example_project.store.documents().id)
    cols = ["document_id", "start", "end", "code", "coder", "quote"]
    key = example_project.store.codings(include_rejected=True)[cols].sort_values(cols).values.tolist()
    assert other.store.codings(include_rejected=True)[cols].sort_values(cols).values.tolist() == key
    second = export_qdpx(other, tmp_path / "b.qdpx")
    a, b = _content(first), _content(second)
    assert a["sources"] == b["sources"] and a["codes"] == b["codes"] and a["cases"] == b["cases"]
    # the same file again is recognised by its GUIDs and changes nothing
    before = store_digest(other.store.path)
    again = import_qdpx(other, first)
    assert again.codings == 0 and len(again.merged) == n_docs and store_digest(other.store.path) == before
    log = other.store.log()
    assert set(log.action) == {"import"} and len(log) == len(key)
    from .test_store import _assert_log_replays
    _assert_log_replays(other.store)


def test_qdpx_failed_import_leaves_store_and_codebook_untouched(rich: Project, tmp_path: Path,
                                                                  store_digest: Callable[[Path], str]) -> None:
    out = export_qdpx(rich, tmp_path / "a.qdpx")
    other = init_project(tmp_path / "other", example=True)
    from qualkit.corpus import ingest as ingest_
    ingest_(other)
    cb_path = other.path(other.config["project"]["codebook"])
    cb_before, st_before = cb_path.read_bytes(), store_digest(other.store.path)
    # a file that brings a new code (so the codebook would change), and a fault after half the codings
    with zipfile.ZipFile(out) as z:
        xml = z.read("project.qde").decode("utf-8").replace('name="Politische Teilhabe"', 'name="Neu importiert"')
        members = {n: z.read(n) for n in z.namelist() if n != "project.qde"}
    bad = tmp_path / "new-code.qdpx"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("project.qde", xml)
        for n, data in members.items():
            z.writestr(n, data)
    calls = {"n": 0}
    original = Store.add_codings

    def failing(self: Store, rows: Any, **kw: Any) -> list[int]:
        rows = list(rows)
        calls["n"] += len(rows)
        if calls["n"] >= 2:  # the second of three codings
            raise RuntimeError("disk full")
        return original(self, rows, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Store, "add_codings", failing)
        with pytest.raises(RuntimeError, match="disk full"):
            import_qdpx(other, bad, codebook="append")
    assert calls["n"] >= 2
    assert cb_path.read_bytes() == cb_before and store_digest(other.store.path) == st_before
    assert not [p for p in cb_path.parent.iterdir() if p.name.endswith(".tmp")]
    report = import_qdpx(other, bad, codebook="append")  # without the fault it goes through
    assert report.codes_added == ["Neu importiert"] and "Neu importiert" in open_project(other.root).codebook.codes


def _qdpx(path: Path, members: dict[str, bytes | str], *, compress: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compress) as z:
        for n, data in members.items():
            z.writestr(n, data)
    return path


MINI_QDE = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="X"><CodeBook><Codes>
<Code guid="11111111-aaaa-bbbb-cccc-000000000001" name="Bildung und Sprache" isCodable="true"/></Codes></CodeBook>
<Sources><TextSource guid="22222222-aaaa-bbbb-cccc-000000000001" name="T" plainTextPath="internal://t.txt">
<PlainTextSelection guid="33333333-aaaa-bbbb-cccc-000000000001" startPosition="{s}" endPosition="{e}">
<Coding guid="44444444-aaaa-bbbb-cccc-000000000001"><CodeRef targetGUID="11111111-aaaa-bbbb-cccc-000000000001"/>
</Coding></PlainTextSelection></TextSource></Sources></Project>"""


_ENTITIES = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
BILLION_LAUGHS = (f'<?xml version="1.0"?><!DOCTYPE Project [{_ENTITIES}]><Project xmlns="urn:QDA-XML:project:1.0" '
                  'name="&a9;"/>')


@pytest.mark.parametrize(("members", "message"), [
    ({"project.qde": BILLION_LAUGHS}, "is not well-formed XML"),
    ({"project.qde": MINI_QDE.replace("urn:QDA-XML:project:1.0", "urn:other"), "sources/t.txt": "Text"},
     "not a REFI-QDA project: its root element"),
    ({"project.qde": "<html><body>hallo</body></html>"}, "not a REFI-QDA project"),
    ({"project.qde": MINI_QDE.format(s="a", e="3"), "sources/t.txt": "Text"}, "startPosition='a' is not a whole"),
    ({"project.qde": MINI_QDE.format(s=0, e=3)}, "is not in the archive"),
    ({"project.qde": MINI_QDE.format(s=0, e=3), "sources/t.txt": b"bin\x00\x00ary"}, "binary file"),
])
def test_qdpx_hostile_or_broken_files_are_qualkit_errors(tmp_path: Path, members: dict[str, bytes | str],
                                                         message: str, store_digest: Callable[[Path], str]) -> None:
    project = init_project(tmp_path / "p")
    path = _qdpx(tmp_path / "x.qdpx", members)
    before = store_digest(project.store.path)
    cb = project.path(project.config["project"]["codebook"]).read_bytes()
    try:
        report = import_qdpx(project, path)
    except QdpxError as e:
        assert message in str(e) and "x.qdpx" in str(e)
    else:  # a source whose text file is missing is reported, not imported
        assert any(message in s for s in report.skipped) and report.sources == []
    if "not in the archive" not in message:
        assert store_digest(project.store.path) == before
        assert project.path(project.config["project"]["codebook"]).read_bytes() == cb


def test_qdpx_corrupt_member_and_folder(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    path = _qdpx(tmp_path / "c.qdpx", {"project.qde": MINI_QDE.format(s=0, e=3), "sources/t.txt": "Text " * 50},
                 compress=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    i = data.index(b"Text Text")
    data[i:i + 4] = b"Tex!"  # the CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(QdpxError, match=r"'sources/t\.txt' is corrupt"):
        import_qdpx(project, path)
    (tmp_path / "ordner.qdpx").mkdir()
    with pytest.raises(QdpxError, match="this is a folder"):
        import_qdpx(project, tmp_path / "ordner.qdpx")
    code, _, err = run_cli("qdpx", "import", str(tmp_path / "ordner.qdpx"), "--project", str(project.root))
    assert code == 1 and "Traceback" not in err and "folder" in err


def test_qdpx_limits_on_untrusted_archives(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    bomb = _qdpx(tmp_path / "bomb.qdpx", {"project.qde": MINI_QDE.format(s=0, e=3), "sources/t.txt": b"a" * 20_000_000})
    assert bomb.stat().st_size < 100_000
    with pytest.raises(QdpxError, match=r"compressed [\d,]+:1, more than the limit of 200:1 \(max_ratio\)") as e:
        import_qdpx(project, bomb)
    assert "[qdpx] max_ratio" in str(e.value)
    with pytest.raises(QdpxError, match=r"unpack to 19 MB, more than the limit of 5 MB \(max_uncompressed_mb\)"):
        import_qdpx(project, bomb, limits=Limits(max_uncompressed_mb=5, max_ratio=1e9))
    many = _qdpx(tmp_path / "many.qdpx", {"project.qde": MINI_QDE.format(s=0, e=3), "sources/t.txt": "Text",
                                          **{f"x/{i}": "" for i in range(20)}})
    with pytest.raises(QdpxError, match="22 members, more than the limit of 10") as e:
        import_qdpx(project, many, limits=Limits(max_members=10))
    assert "max_members = 22" in str(e.value)
    # the limit is raised in qualkit.toml
    add_config(project.root, "[qdpx]\nmax_ratio = 100000\n")
    report = import_qdpx(open_project(project.root), bomb)
    assert report.codings == 1


def test_qdpx_latin1_source_is_decoded(tmp_path: Path) -> None:
    raw = "Die Kita-Plätze fehlen, sagt Frau Müller."
    s = raw.index("Kita")
    path = _qdpx(tmp_path / "l.qdpx", {"project.qde": MINI_QDE.format(s=s, e=s + 16),
                                      "sources/t.txt": raw.encode("cp1252")})
    project = init_project(tmp_path / "p")
    report = import_qdpx(project, path)
    assert "'T': its text file is not UTF-8; read as cp1252" in report.notes
    assert project.store.query("SELECT encoding FROM documents WHERE id='T'")[0][0] == "cp1252"
    assert project.store.document_text("T") == raw
    assert list(project.store.codings().quote) == ["Kita-Plätze fehl"]


def test_qdpx_cli_says_what_it_did_with_the_codebook(rich: Project, tmp_path: Path) -> None:
    raw = "B: Die Kita-Plätze fehlen."
    path = _qdpx(tmp_path / "f.qdpx", {"project.qde": MINI_QDE.format(s=3, e=7).replace(
        'name="Bildung und Sprache"', 'name="Kita (fremd)"'), "sources/t.txt": raw})
    code, out, _ = run_cli("qdpx", "import", str(path), "--project", str(rich.root))
    assert code == 0
    assert "1 new source(s)" in out and "1 new code(s), 0 merged by name" in out
    assert "new codes appended to the codebook as the dimension 'importiert'" in out and "1 coding(s)" in out
    assert open_project(rich.root).codebook.codes["Kita (fremd)"].dimension == "importiert"
    fresh = init_project(tmp_path / "neu")
    code, out, _ = run_cli("qdpx", "import", str(path), "--project", str(fresh.root))
    assert code == 0 and "the file's codes became the project's codebook" in out
    assert "note: the project had no codings: its codebook is now the file's 1 code(s)" in out


def test_qdpx_parts_are_testable_alone(tmp_path: Path) -> None:
    from qualkit.qdpx import Archive, read_content
    from qualkit.qdpx._mapping import map_positions
    raw = "Zeile eins\r\nDie Kita fehlt."
    s = raw.index("Kita")
    # positions counted with CRLF as one character (ATLAS.ti) are recognised by the word boundaries they hit
    text, posmap, lf = map_positions(raw, [(s - 1, s + 3)])
    assert lf and text[posmap[s - 1]:posmap[s + 3]] == "Kita"
    path = _qdpx(tmp_path / "a.qdpx", {"project.qde": MINI_QDE.format(s=s, e=s + 4), "sources/t.txt": raw})
    with Archive(path) as archive:
        assert archive.main == "project.qde" and archive.member_for("internal://t.txt") == "sources/t.txt"
        content = read_content(archive, coder_prefix="x-")
    (source,) = content.sources
    (coding,) = source.codings
    assert source.text == "Zeile eins\nDie Kita fehlt." and source.text[coding.start:coding.end] == "Kita"
    assert (coding.code, coding.coder, coding.origin) == ("Bildung und Sprache", "importiert", "imported")
