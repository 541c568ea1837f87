"""Limits on untrusted archives and YAML: zip bombs, lying archives, corrupt members, alias bombs."""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path

import pytest

from qualkit._limits import Limits, check_yaml, open_zip, read_member
from qualkit.errors import InputFileError, LimitError

_MB = 1 << 20


def zeros_deflate(megabytes: int) -> bytes:
    """A raw deflate stream of ``megabytes`` MB of zero bytes, built from one compressed block repeated (a full
    flush resets the compressor, so every block is the same ~1 KB): a 2.5 GB bomb costs milliseconds."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = co.compress(b"\0" * _MB) + co.flush(zlib.Z_FULL_FLUSH)
    return block * megabytes + zlib.compressobj(9, zlib.DEFLATED, -15).flush()


def raw_zip(path: Path, members: list[tuple[str, bytes, int, int]]) -> Path:
    """Write a zip by hand from (name, deflated data, declared uncompressed size, crc): an archive may declare
    sizes that its data does not have, which :mod:`zipfile` would never write."""
    out, central = bytearray(), bytearray()
    for name, data, size, crc in members:
        n = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(n), 0) + n + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), size, len(n),
                               0, 0, 0, 0, 0, offset) + n
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0)
    path.write_bytes(bytes(out + central + end))
    return path


_CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                  'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                  'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
                  '"/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
                  'document.main+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
         'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         'relationships/officeDocument" Target="word/document.xml"/></Relationships>')


def _small(name: str, text: str) -> tuple[str, bytes, int, int]:
    data = text.encode()
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    return name, co.compress(data) + co.flush(), len(data), zlib.crc32(data)


def bomb_docx(path: Path, megabytes: int = 2500) -> Path:
    """A .docx that python-docx opens (content types, relationships) whose document.xml expands to ``megabytes``."""
    return raw_zip(path, [_small("[Content_Types].xml", _CONTENT_TYPES), _small("_rels/.rels", _RELS),
                          ("word/document.xml", zeros_deflate(megabytes), megabytes * _MB, 0)])


def test_limits_zip_bomb_refused_from_directory(tmp_path: Path) -> None:
    bomb = raw_zip(tmp_path / "bomb.qdpx", [("project.qde", zeros_deflate(2500), 2500 * _MB, 0)])
    assert bomb.stat().st_size < 3 * _MB
    with pytest.raises(LimitError) as exc:
        open_zip(bomb)
    assert exc.value.limit in ("archive_bytes", "member_bytes")
    assert "QUALKIT_MAX_" in str(exc.value) and str(bomb) in str(exc.value)


def test_limits_ratio_named_and_raisable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = raw_zip(tmp_path / "b.zip", [("a.xml", zeros_deflate(20), 20 * _MB, 0)])
    with pytest.raises(LimitError) as exc:
        open_zip(bomb)
    assert exc.value.limit == "archive_ratio" and "QUALKIT_MAX_ARCHIVE_RATIO" in str(exc.value)
    monkeypatch.setenv("QUALKIT_MAX_ARCHIVE_RATIO", "100000")
    open_zip(bomb).close()


def test_limits_member_count(tmp_path: Path) -> None:
    p = tmp_path / "many.zip"
    with zipfile.ZipFile(p, "w") as z:
        for i in range(30):
            z.writestr(f"m{i}.txt", "x")
    with pytest.raises(LimitError) as exc:
        open_zip(p, limits=Limits(archive_members=20))
    assert exc.value.limit == "archive_members" and exc.value.value == 30


def test_limits_member_that_lies_about_its_size_is_refused(tmp_path: Path) -> None:
    """A member declaring 1,000 bytes whose data expands to 50 MB: never more than declared is read."""
    liar = raw_zip(tmp_path / "liar.zip", [("a.xml", zeros_deflate(50), 1000, 0)])
    with open_zip(liar) as z, pytest.raises(InputFileError, match=r"corrupt|declares") as exc:
        read_member(z, "a.xml")
    assert "a.xml" in str(exc.value)


def test_limits_corrupt_member_is_an_input_error(tmp_path: Path) -> None:
    p = tmp_path / "c.zip"
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.xml", "<a>" + " ".join(str(i * i) for i in range(5000)) + "</a>")
    data = bytearray(p.read_bytes())
    data[200:260] = b"\xff" * 60  # inside the compressed data (which starts at byte 35)
    p.write_bytes(bytes(data))
    with open_zip(p) as z, pytest.raises(InputFileError, match="corrupt"):
        read_member(z, "a.xml")


@pytest.mark.parametrize("kind", ["folder", "missing", "garbage"])
def test_limits_not_an_archive(tmp_path: Path, kind: str) -> None:
    p = tmp_path / "x.qdpx"
    if kind == "folder":
        p.mkdir()
    elif kind == "garbage":
        p.write_text("<html>no zip</html>")
    with pytest.raises(InputFileError) as exc:
        open_zip(p)
    assert str(p) in str(exc.value)


def test_limits_yaml_alias_count() -> None:
    check_yaml("a: &x 1\nb: *x\n", "ok.yaml")
    text = "a: &x [1]\n" + "".join(f"b{i}: *x\n" for i in range(200))
    with pytest.raises(LimitError) as exc:
        check_yaml(text, "many.yaml")
    assert exc.value.line == 101 and exc.value.limit == "yaml_aliases"


def test_limits_bad_env_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUALKIT_MAX_FILE_BYTES", "viel")
    with pytest.raises(InputFileError, match="QUALKIT_MAX_FILE_BYTES"):
        Limits.from_env()


def test_limits_zip_bomb_docx_transcript_under_memory_limit(tmp_path: Path) -> None:
    """The whole ingest, in a process limited to 1.5 GB of address space, meets a .docx transcript that expands
    to 2.5 GB: it must end with a qualkit error naming the file, not a MemoryError."""
    from .conftest import write_project
    project = write_project(tmp_path / "p", survey=False)
    bomb_docx(project.root / "transcripts/interviews/C3.docx")
    script = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))
        from qualkit.cli import main
        sys.exit(main(["ingest", "--project", {str(project.root)!r}]))
    """)
    env = {"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 1, r.stderr[-2000:]
    assert "C3.docx" in r.stderr and "QUALKIT_MAX_" in r.stderr and "Traceback" not in r.stderr


def test_limits_load_yaml_rejects_duplicate_keys_and_bombs() -> None:
    from qualkit._limits import load_yaml
    assert load_yaml("a: 1\nb: {c: 2}\n", "ok.yaml") == {"a": 1, "b": {"c": 2}}
    with pytest.raises(InputFileError) as exc:
        load_yaml("code: A\nfindings: []\nfindings: [x]\n", "f.yaml")
    assert exc.value.line == 3 and "first in line 2" in str(exc.value)
    bomb = "a: &a [x]\n" + "".join(f"b{i}: *a\n" for i in range(150))
    with pytest.raises(LimitError):
        load_yaml(bomb, "bomb.yaml")


def test_limits_findings_file_with_duplicate_key_is_rejected(tmp_path: Path) -> None:
    from qualkit.findings import load_findings

    from .conftest import write_project
    project = write_project(tmp_path / "p", survey=False)
    folder = project.path(project.config["findings"]["folder"])
    folder.mkdir(parents=True, exist_ok=True)
    code = next(iter(project.codebook.primary.codes))
    (folder / "x.yaml").write_text(f"code: {code}\nfindings: []\nfindings: []\n", encoding="utf-8")
    with pytest.raises(InputFileError) as exc:
        load_findings(project)
    assert exc.value.line == 3 and "x.yaml" in str(exc.value)
