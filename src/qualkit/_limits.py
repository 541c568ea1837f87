"""Resource limits for untrusted files: archives (.qdpx, .docx, .xlsx) and YAML.

A file from another person or tool may be built to exhaust memory: a 2 MB archive that expands to
gigabytes (a zip bomb), an archive with millions of members, a YAML file whose aliases expand
exponentially (a "billion laughs").  Everything that opens such a file goes through this module, which
checks the archive's directory before anything is unpacked, reads members with a hard byte cap (the sizes
an archive declares can lie) and counts YAML aliases and anchors before anything is constructed.

Each limit has a default and an environment variable that raises it (``QUALKIT_MAX_<NAME>``); a
:class:`~qualkit.errors.LimitError` names the file, the limit, what the file needs and that variable.

>>> limits = Limits.from_env()
>>> with open_zip("projekt.qdpx", limits=limits) as z:      # doctest: +SKIP
...     data = read_member(z, "project.qde", limits=limits)
"""

from __future__ import annotations

import contextlib
import os
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from .errors import InputFileError, LimitError

__all__ = ["Limits", "check_file_size", "check_yaml", "load_yaml", "open_zip", "read_chunks", "read_file",
           "read_member"]

_MB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Upper bounds for untrusted input.  Every field can be raised with ``QUALKIT_MAX_<FIELD>``."""

    archive_bytes: int = 1024 * _MB     # total uncompressed size of an archive's members
    archive_members: int = 20_000       # members in one archive
    archive_ratio: int = 200            # uncompressed / compressed size of one member (above 1 MB)
    member_bytes: int = 512 * _MB       # one member, uncompressed
    file_bytes: int = 1024 * _MB        # one plain input file (transcript, CSV, codebook)
    yaml_aliases: int = 100             # aliases (*name) and anchors (&name) in one YAML file

    @classmethod
    def from_env(cls) -> Limits:
        """The defaults, raised or lowered by ``QUALKIT_MAX_<FIELD>`` environment variables (integers)."""
        changes: dict[str, int] = {}
        for f in fields(cls):
            raw = os.environ.get(env_name(f.name), "").strip().replace("_", "")
            if raw:
                try:
                    changes[f.name] = int(raw)
                except ValueError:
                    raise InputFileError(f"${env_name(f.name)}", f"not a whole number: {raw!r}",
                                         hint="give the limit as a number of bytes or items, e.g. 2000000000") from None
        return replace(cls(), **changes)


def env_name(field: str) -> str:
    """The environment variable that sets the limit ``field``."""
    return f"QUALKIT_MAX_{field.upper()}"


def _exceeded(path: str | Path, what: str, *, limit: str, value: int | float, allowed: int | float,
              line: int | None = None) -> LimitError:
    return LimitError(path, f"{what} ({value:,} > limit {allowed:,})", limit=limit, value=value, allowed=allowed,
                      line=line, hint=f"if you trust this file, raise the limit: {env_name(limit)}={int(value) + 1}")


def check_file_size(path: str | Path, *, limits: Limits | None = None) -> int:
    """The size of ``path`` in bytes; :class:`LimitError` when it exceeds ``file_bytes``."""
    limits = limits or Limits.from_env()
    size = Path(path).stat().st_size
    if size > limits.file_bytes:
        raise _exceeded(path, "the file is too large", limit="file_bytes", value=size, allowed=limits.file_bytes)
    return size


def read_file(path: str | Path, *, limits: Limits | None = None) -> bytes:
    """The bytes of an untrusted input file, after checking that it is a file within ``file_bytes``.

    Raises
    ------
    InputFileError
        the path is a folder, missing or unreadable (the message says which).
    LimitError
        the file is larger than ``file_bytes``.
    """
    return b"".join(read_chunks(path, limits=limits, size=-1))


def read_chunks(path: str | Path, *, limits: Limits | None = None, size: int = 1 << 20) -> Iterator[bytes]:
    """:func:`read_file` ``size`` bytes at a time (all at once for -1), so a large file (a coding file of a
    state-wide corpus) is never held whole.  The file is checked, and opened, before the first chunk is
    asked for; the errors are :func:`read_file`'s, raised here or while the chunks are read."""
    p = Path(path)
    if p.is_dir():
        raise InputFileError(p, "is a folder, not a file", hint="give the path of the file itself, or rename the folder")
    with _reading(p):
        check_file_size(p, limits=limits)
        f = p.open("rb")
    return _chunks_of(p, f, size)


def _chunks_of(p: Path, f: BinaryIO, size: int) -> Iterator[bytes]:
    with f, _reading(p):
        while chunk := f.read(size):
            yield chunk
            if size < 0:
                break


@contextlib.contextmanager
def _reading(p: Path) -> Iterator[None]:
    """Reading errors of an input file as the researcher's :class:`InputFileError`."""
    try:
        yield
    except FileNotFoundError:
        raise InputFileError(p, "file not found", hint="check the path in qualkit.toml") from None
    except OSError as e:
        raise InputFileError(p, f"cannot be read ({e.strerror})",
                             hint="check that the file is readable by you (file permissions) and not locked by "
                                  "another program") from e


def open_zip(path: str | Path, *, limits: Limits | None = None) -> zipfile.ZipFile:
    """Open an untrusted archive after checking its directory against ``limits``.

    Raises
    ------
    InputFileError
        the path is a folder, missing, or not a zip archive.
    LimitError
        too many members, too large in total or per member, or a member compressed beyond ``archive_ratio``.
    """
    limits = limits or Limits.from_env()
    p = Path(path)
    if p.is_dir():
        raise InputFileError(p, "is a folder, not an archive file", hint="give the path of the file itself")
    try:
        z = zipfile.ZipFile(p)
    except FileNotFoundError:
        raise InputFileError(p, "file not found", hint="check the path") from None
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise InputFileError(p, f"not a valid zip archive ({e})",
                             hint="export the file again from the program that made it") from e
    try:
        infos = z.infolist()
        if len(infos) > limits.archive_members:
            raise _exceeded(p, "the archive has too many members", limit="archive_members", value=len(infos),
                            allowed=limits.archive_members)
        total = sum(i.file_size for i in infos)
        if total > limits.archive_bytes:
            raise _exceeded(p, "the archive expands to too many bytes", limit="archive_bytes", value=total,
                            allowed=limits.archive_bytes)
        for i in infos:
            _check_member(p, i, limits)
    except BaseException:
        z.close()
        raise
    return z


def _check_member(path: Path, info: zipfile.ZipInfo, limits: Limits) -> None:
    where = f"{path} (member {info.filename})"
    if info.file_size > limits.member_bytes:
        raise _exceeded(where, "an archive member is too large", limit="member_bytes", value=info.file_size,
                        allowed=limits.member_bytes)
    if info.file_size > _MB:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.archive_ratio:
            raise _exceeded(where, "an archive member is compressed suspiciously well (a zip bomb?)",
                            limit="archive_ratio", value=round(ratio), allowed=limits.archive_ratio)


def read_member(z: zipfile.ZipFile, name: str | zipfile.ZipInfo, *, limits: Limits | None = None) -> bytes:
    """Read one member with a hard cap: never more than its declared size (nor ``member_bytes``) is kept,
    whatever the compressed stream really holds.

    Raises
    ------
    InputFileError
        the member is corrupt (bad CRC, truncated, unsupported compression) or missing.
    LimitError
        the member holds more bytes than the archive declares or than ``member_bytes``.
    """
    limits = limits or Limits.from_env()
    info = name if isinstance(name, zipfile.ZipInfo) else z.getinfo(name)
    where = f"{z.filename} (member {info.filename})"
    _check_member(Path(str(z.filename)), info, limits)
    cap = min(info.file_size, limits.member_bytes)
    chunks: list[bytes] = []
    got = 0
    try:
        with z.open(info) as f:
            while True:
                chunk = f.read(min(1 << 20, cap + 1 - got))
                if not chunk:
                    break
                got += len(chunk)
                if got > cap:
                    raise _exceeded(where, "an archive member holds more bytes than it declares",
                                    limit="member_bytes", value=got, allowed=cap)
                chunks.append(chunk)
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError, zlib.error) as e:
        raise InputFileError(where, f"the archive member is corrupt ({e})",
                             hint="export the file again from the program that made it") from e
    return b"".join(chunks)


def check_yaml(text: str, path: str | Path, *, limits: Limits | None = None) -> None:
    """Count anchors and aliases in YAML ``text`` without constructing anything.

    Raises :class:`LimitError` (with the line of the first alias beyond the limit) when there are more than
    ``yaml_aliases``; a codebook needs none, so the default leaves room for a few deliberate ones.
    Syntax errors are left to the loader, which reports them with their line.
    """
    limits = limits or Limits.from_env()
    count = 0
    try:
        for event in yaml.parse(text, Loader=_SAFE_LOADER):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                count += 1
                if count > limits.yaml_aliases:
                    line = event.start_mark.line + 1 if event.start_mark else None
                    raise _exceeded(path, "too many YAML aliases/anchors (&name, *name)", limit="yaml_aliases",
                                    value=count, allowed=limits.yaml_aliases, line=line)
    except yaml.YAMLError:
        return


# libyaml's parser where PyYAML was built with it (the wheels are): the same events and nodes, with their lines,
# about ten times faster than the pure-Python one (a report reads every findings file)
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SAFE_LOADER):
    """PyYAML's safe loader, but a mapping with the same key twice is an error (YAML forbids it; PyYAML would
    silently keep the last one)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    first: dict[str, int] = {}
    for k, _ in node.value:
        key, line = str(k.value), k.start_mark.line + 1
        if key in first:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} appears twice in one entry (first in line {first[key]})", k.start_mark)
        first[key] = line
    return loader.construct_mapping(node, deep=True)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def load_yaml(text: str, path: str | Path, *, limits: Limits | None = None) -> Any:
    """Parse untrusted YAML: aliases counted first (:func:`check_yaml`), duplicate keys rejected, safe types only.

    Raises
    ------
    InputFileError
        not valid YAML, or a key twice in one mapping (with the line).
    LimitError
        more aliases/anchors than ``yaml_aliases``.
    """
    check_yaml(text, path, limits=limits)
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: safe types only
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputFileError(path, f"not valid YAML: {getattr(e, 'problem', e)}", line=mark.line + 1 if mark else None,
                             hint="a key may appear once per entry; check indentation and quotes there") from e
