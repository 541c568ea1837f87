"""Reading a REFI-QDA archive (``.qdpx``) safely: bounded unpacking, the project namespace and root checked
before anything is read, GUIDs normalised, source files decoded as transcripts are.

Everything in the archive is untrusted: the uncompressed size, the number of members and the compression
ratio are limited (:class:`Limits`; raise them in ``[qdpx]`` of ``qualkit.toml``), XML entities are not
resolved, and every problem is a :class:`~qualkit.errors.QdpxError` naming the file, the member and what
to do.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from lxml import etree

from .._text import decode
from ..errors import IngestError, QdpxError

NS = "urn:QDA-XML:project:1.0"
NS_CB = "urn:QDA-XML:codebook:1.0"
_GUID_ATTRS = ("guid", "targetGUID", "creatingUser", "modifyingUser", "creatingUserGUID")


@dataclass(frozen=True)
class Limits:
    """Bounds for unpacking an untrusted archive.  Config: ``[qdpx] max_uncompressed_mb``, ``max_members``,
    ``max_ratio`` (the ratio applies to members larger than 1 MB)."""

    max_uncompressed_mb: float = 512
    max_members: int = 100_000
    max_ratio: float = 200

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Limits:
        """``[qdpx]`` of the project config; ``QUALKIT_MAX_ARCHIVE_BYTES``/``_MEMBERS``/``_RATIO`` (the limits
        of every other archive, :mod:`qualkit._limits`) raise them further when set."""
        import os
        c = config.get("qdpx", {}) or {}
        d = cls()
        mb = float(c.get("max_uncompressed_mb", d.max_uncompressed_mb))
        members = int(c.get("max_members", d.max_members))
        ratio = float(c.get("max_ratio", d.max_ratio))
        env = os.environ
        if env.get("QUALKIT_MAX_ARCHIVE_BYTES", "").isdigit():
            mb = max(mb, int(env["QUALKIT_MAX_ARCHIVE_BYTES"]) / 2**20)
        if env.get("QUALKIT_MAX_ARCHIVE_MEMBERS", "").isdigit():
            members = max(members, int(env["QUALKIT_MAX_ARCHIVE_MEMBERS"]))
        if env.get("QUALKIT_MAX_ARCHIVE_RATIO", "").isdigit():
            ratio = max(ratio, int(env["QUALKIT_MAX_ARCHIVE_RATIO"]))
        return cls(mb, members, ratio)


_RAISE = "if you trust the file, raise the limit in qualkit.toml: [qdpx] {key} = {value}"


class Archive:
    """An opened ``.qdpx``: the parsed ``project.qde`` root (namespace checked) and bounded member reads.
    Use as a context manager; the zip file is closed on exit."""

    def __init__(self, path: str | Path, limits: Limits | None = None) -> None:
        self.path = Path(path)
        self.limits = limits or Limits()
        if self.path.is_dir():
            raise QdpxError(self.path, "this is a folder, not a .qdpx file",
                            hint="give the path of the exported .qdpx file (a zip archive)")
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as e:
            raise QdpxError(self.path, f"not a readable .qdpx (zip) file ({e.__class__.__name__})",
                            hint="export the project again from the other tool") from e
        try:
            self._check_sizes()
            self.names = self._zip.namelist()
            self.lower = {n.lower(): n for n in self.names}
            self.encodings: dict[str, str] = {}  # member -> the encoding its text was decoded with
            self.main = self._main_member()
            self.root = self._parse(self.read(self.main), self.main)
        except BaseException:
            self._zip.close()
            raise

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    # -- limits ----------------------------------------------------------------------------------
    def _check_sizes(self) -> None:
        infos = self._zip.infolist()
        lim = self.limits
        if len(infos) > lim.max_members:
            raise QdpxError(self.path, f"the archive has {len(infos)} members, more than the limit of "
                            f"{lim.max_members}", hint=_RAISE.format(key="max_members", value=len(infos)))
        total = sum(i.file_size for i in infos)
        if total > lim.max_uncompressed_mb * 2**20:
            mb = total / 2**20
            raise QdpxError(self.path, f"the archive would unpack to {mb:,.0f} MB, more than the limit of "
                            f"{lim.max_uncompressed_mb:,.0f} MB (max_uncompressed_mb)",
                            hint=_RAISE.format(key="max_uncompressed_mb", value=int(mb) + 1))
        for i in infos:
            if i.file_size > 2**20 and i.file_size > lim.max_ratio * max(i.compress_size, 1):
                ratio = i.file_size / max(i.compress_size, 1)
                raise QdpxError(self.path, f"member {i.filename!r} is compressed {ratio:,.0f}:1, more than the "
                                f"limit of {lim.max_ratio:,.0f}:1 (max_ratio); this is how zip bombs look",
                                hint=_RAISE.format(key="max_ratio", value=int(ratio) + 1))

    def read(self, name: str) -> bytes:
        """A member's bytes, never more than the limits allow (sizes in the zip directory can lie)."""
        budget = int(self.limits.max_uncompressed_mb * 2**20)
        try:
            with self._zip.open(name) as f:
                data = f.read(budget + 1)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as e:
            raise QdpxError(self.path, f"member {name!r} is corrupt ({e})",
                            hint="export the project again from the other tool") from e
        if len(data) > budget:
            raise QdpxError(self.path, f"member {name!r} unpacks to more than the limit of "
                            f"{self.limits.max_uncompressed_mb:,.0f} MB (max_uncompressed_mb)",
                            hint=_RAISE.format(key="max_uncompressed_mb", value=int(self.limits.max_uncompressed_mb * 4)))
        return data

    # -- project.qde -----------------------------------------------------------------------------
    def _main_member(self) -> str:
        qde = [n for n in self.names if n.lower().endswith(".qde") and "/" not in n.strip("/")]
        if "project.qde" in self.names:
            return "project.qde"
        if len(qde) == 1:
            return qde[0]
        raise QdpxError(self.path, f"expected one .qde file at the top of the archive, found {len(qde)}",
                        hint="is this a REFI-QDA project exported by MAXQDA, ATLAS.ti, NVivo or QualCoder?")

    def _parse(self, xml: bytes, member: str) -> Any:
        try:
            root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True,
                                                                 huge_tree=False, load_dtd=False))
        except etree.XMLSyntaxError as e:
            raise QdpxError(self.path, f"{member} is not well-formed XML: {e.msg}", line=e.lineno,
                            hint="export the project again from the other tool") from e
        if not isinstance(root.tag, str) or etree.QName(root).namespace != NS or etree.QName(root).localname != "Project":
            found = root.tag if isinstance(root.tag, str) else "(none)"
            raise QdpxError(self.path, f"{member} is not a REFI-QDA project: its root element is {found!r}, "
                            f"expected 'Project' in the namespace {NS}", line=root.sourceline,
                            hint="only REFI-QDA 1.0 projects (.qdpx) can be imported")
        for el in root.iter():  # GUIDs may come with braces or in upper case ({AAAA-...})
            for attr in _GUID_ATTRS:
                v = el.get(attr)
                if v:
                    el.set(attr, v.strip("{}").lower())
        return root

    # -- sources ---------------------------------------------------------------------------------
    def member_for(self, ref: str | None) -> str | None:
        """The archive member a source path refers to (``internal://``, ``relative://``, plain names)."""
        if not ref:
            return None
        for scheme in ("internal://", "relative://", "absolute://"):
            if ref.startswith(scheme):
                ref = ref[len(scheme):]
        name = PurePosixPath(ref.replace("\\", "/")).name
        for cand in (f"sources/{name}", name, ref):
            real = self.lower.get(cand.lower())
            if real is not None:
                return real
        return None

    def source_text(self, ref: str | None) -> str | None:
        """The raw text of a plain-text source (encoding detected as for transcripts, BOM removed, not yet
        normalised: positions count in this text).  ``None``: no such member; ``""``: empty."""
        member = self.member_for(ref)
        if member is None:
            return None
        data = self.read(member)
        if not data.strip():
            return ""
        try:
            _, enc = decode(data, f"{self.path}:{member}")
        except IngestError as e:
            raise QdpxError(self.path, f"source {member!r}: {e.reason}", line=e.line,
                            hint="export the project again from the other tool (UTF-8 plain text)") from e
        self.encodings[member] = enc
        return data.decode(enc).lstrip("\ufeff")

    def docx_text(self, ref: str | None) -> str | None:
        member = self.member_for(ref)
        if member is None:
            return None
        import docx
        try:
            d = docx.Document(io.BytesIO(self.read(member)))
        except Exception as e:  # python-docx raises several types for a broken file
            raise QdpxError(self.path, f"source {member!r} is not a readable .docx ({e.__class__.__name__})",
                            hint="export the project again from the other tool") from e
        return "\n".join(p.text for p in d.paragraphs)
