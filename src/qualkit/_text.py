"""Reading text files the way researchers have them: UTF-8, UTF-8 with BOM, UTF-16, Windows-1252.

Decoding never guesses silently: the encoding used is returned and stored with the document, and a
file that is neither valid UTF-8 nor plausible Windows-1252 text is rejected with the line of the first
bad byte.  Text is normalised to NFC with ``\\n`` line ends, so offsets count the same everywhere.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._limits import read_chunks, read_file
from .errors import IngestError

_MOJIBAKE = re.compile("Ã[¤¶¼Ÿ„–œ©]|â€[™œ“”]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def wording(text: str) -> str:
    """A text's wording as quotes are compared by it: lower case, white space collapsed (an answer given word for
    word by several respondents is quoted once)."""
    return " ".join(text.lower().split())


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path, *, suffix: bytes = b"") -> str:
    """:func:`sha256_bytes` of an input file's bytes followed by ``suffix``, read a chunk at a time."""
    h = hashlib.sha256()
    for chunk in read_chunks(path, size=_CHUNK):
        h.update(chunk)
    h.update(suffix)
    return h.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise(text: str) -> str:
    """NFC, ``\\n`` line ends, no BOM."""
    return _nfc_lines(text).lstrip("\ufeff")


def _nfc_lines(text: str) -> str:
    """NFC, ``\\n`` line ends (a BOM is a starter: it composes with nothing, so it may be stripped after)."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def decode(data: bytes, path: str | Path) -> tuple[str, str]:
    """Decode file bytes; return ``(text, encoding)``.

    Raises
    ------
    IngestError
        for an empty file, a binary file, undecodable bytes, or double-encoded (mojibake) text.
    """
    last: UnicodeDecodeError | None = None
    for enc in _candidates(*_head(data), path):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as e:
            last = e
            continue
        problems = _problems(text, enc, 1)
        if problems:
            raise _problem_error(path, problems)
        return normalise(text), enc
    raise _undecodable(path, last)


def decode_lines(source: bytes | Path, path: str | Path) -> tuple[Iterator[str], str]:
    """:func:`decode` a line at a time: ``(the normalised lines with their line ends, encoding)``, the same
    text and the same errors, without ever holding the whole text (a coding file of a large corpus).
    ``source`` is the file's bytes, or the file itself, read :data:`_CHUNK` bytes at a time and so never held
    whole either.  The bytes are decoded twice: once to check them all (an error is raised here), once as the
    lines are iterated."""
    last: UnicodeDecodeError | None = None
    for enc in _candidates(*_head(source), path):
        try:
            problems: dict[str, tuple[int, str]] = {}
            for line, text in _decoded_lines(source, enc):
                for kind, found in _problems(text, enc, line).items():
                    problems.setdefault(kind, found)
        except UnicodeDecodeError:
            try:  # the error with its position in the whole file (only a broken file is ever read whole)
                (source if isinstance(source, bytes) else read_file(source)).decode(enc)
            except UnicodeDecodeError as e:
                last = e
            continue
        if problems:
            raise _problem_error(path, problems)
        return _normalised_lines(source, enc, path), enc
    raise _undecodable(path, last)


_CHUNK = 1 << 20  # bytes decoded at a time by decode_lines
_HEAD = 8192  # bytes of a file's start that say whether it is UTF-16 or binary


def _chunks(source: bytes | Path) -> Iterator[bytes]:
    if isinstance(source, bytes):
        return (source[i:i + _CHUNK] for i in range(0, len(source), _CHUNK))
    return read_chunks(source, size=_CHUNK)


def _head(source: bytes | Path) -> tuple[bytes, bool]:
    """The first :data:`_HEAD` bytes, and whether the file is empty or white space only (read until it is
    not: at most one chunk of a text file)."""
    head, blank = b"", True
    for chunk in _chunks(source):
        head += chunk[:_HEAD - len(head)]
        blank = blank and chunk.isspace()
        if not blank and len(head) == _HEAD:
            break
    return head, blank


def _decoded_lines(source: bytes | Path, enc: str) -> Iterator[tuple[int, str]]:
    """(line number, line with its \\n) of ``source`` decoded as ``enc``, a chunk at a time."""
    decoder = codecs.getincrementaldecoder(enc)()
    rest, n = "", 0
    for chunk in itertools.chain(_chunks(source), [None]):
        rest += decoder.decode(b"", final=True) if chunk is None else decoder.decode(chunk)
        *whole, rest = rest.split("\n")
        for line in whole:
            n += 1
            yield n, line + "\n"
    if rest:
        yield n + 1, rest


def _normalised_lines(source: bytes | Path, enc: str, path: str | Path) -> Iterator[str]:
    """The lines of :func:`normalise` of the decoded text (a line end and a lone \\r end a line; NFC composes
    nothing across a line end, so lines normalise on their own)."""
    try:
        for n, raw in _decoded_lines(source, enc):
            yield from _lines(normalise(raw) if n == 1 else _nfc_lines(raw))
    except UnicodeDecodeError:  # the bytes checked before are not these
        raise IngestError(path, "the file changed while it was read", hint="run the command again once the file "
                          "is saved") from None


def _problems(text: str, enc: str, line: int) -> dict[str, tuple[int, str]]:
    """The first control character, mojibake and (in Windows-1252 text) Mac Roman umlaut in ``text``, by kind:
    (line, what), counting lines from ``line``."""
    out: dict[str, tuple[int, str]] = {}
    for kind, rx in _CHECKS_CP1252 if enc == "cp1252" else _CHECKS:  # called once per line by decode_lines
        if m := rx.search(text):
            out[kind] = (line + text.count("\n", 0, m.start()), m.group())
    return out


def _problem_error(path: str | Path, problems: dict[str, tuple[int, str]]) -> IngestError:
    """The error of the first kind of problem found (control characters before mojibake before Mac Roman)."""
    if "control" in problems:
        line, what = problems["control"]
        return IngestError(path, f"contains control character U+{ord(what):04X}; this does not look like a text file",
                           line=line, hint="open it in an editor and save it as UTF-8 text")
    if "mojibake" in problems:
        line, what = problems["mojibake"]
        return IngestError(path, f"the text looks double-encoded ({what!r} where an umlaut or quote mark belongs)",
                           line=line, hint="the file was read with the wrong encoding and saved again; export it "
                                           "once more from the original as UTF-8")
    line, what = problems["macroman"]
    return IngestError(path, f"the text looks Mac Roman encoded ({what!r} where an umlaut belongs)", line=line,
                       hint="save the file as UTF-8 (TextEdit: Format → Make Plain Text, encoding UTF-8)")


def _candidates(head: bytes, blank: bool, path: str | Path) -> list[str]:
    """The encodings a file may be in, in the order they are tried, by its first :data:`_HEAD` bytes and whether
    it is blank (empty or white space only)."""
    if blank:
        raise IngestError(path, "the file is empty", hint="export the transcript again or remove the file")
    if head.startswith(b"\xef\xbb\xbf"):
        return ["utf-8-sig"]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ["utf-16"]
    nul = head.find(b"\x00")
    if nul >= 0 and len(head) >= 4 and (head[1::2].count(0) > 0.4 * len(head) / 2
                                        or head[0::2].count(0) > 0.4 * len(head) / 2):
        raise IngestError(path, "this looks like UTF-16 text without a byte order mark", line=1,
                          hint="save it again as UTF-8 (in Word or Notepad: Save as → Encoding UTF-8)")
    if nul >= 0:
        raise IngestError(path, "this is a binary file, not text", line=_line_of(head, nul),
                          hint="save it as plain text (.txt, UTF-8), .docx, .vtt or .srt")
    return ["utf-8", "cp1252"]


def _undecodable(path: str | Path, last: UnicodeDecodeError | None) -> IngestError:
    assert last is not None
    return IngestError(path, f"cannot decode byte 0x{last.object[last.start]:02X}: neither UTF-8 nor "
                       "Windows-1252", line=_line_of(last.object, last.start),
                       hint="save the file as UTF-8 (in Word: Save as → Plain Text → Unicode UTF-8)")


# Mac Roman umlauts read as Windows-1252: Š (ä), š (ö), Ÿ (ü), § (ß), € (Ä), … inside a word
_MACROMAN = re.compile(r"[A-Za-z][ŠšŸ§][a-z]|[a-z]Ÿ[a-z]")
# what _problems looks for, in the order of precedence of their errors (Mac Roman only in Windows-1252 text)
_CHECKS = (("control", _CONTROL), ("mojibake", _MOJIBAKE))
_CHECKS_CP1252 = (*_CHECKS, ("macroman", _MACROMAN))


def read_csv_table(path: str | Path, text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Parse CSV text (comma, semicolon or tab) strictly: ``(header, [(line, cells)])``.

    Raises IngestError for a row with more or fewer fields than the header and for an unclosed quote mark
    that swallows the following rows (a quoted field spanning lines that hold what looks like whole rows).
    """
    header, rows = iter_csv_table(path, text)
    return header, list(rows)


def iter_csv_table(path: str | Path, text: str | Iterator[str]) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """:func:`read_csv_table` a row at a time: the header at once, each row as it is iterated (its IngestError
    then too).  ``text`` may be the lines themselves (:func:`decode_lines`).  Nothing is held per row: a coding
    file of a large corpus is read in the space of one row."""
    # a line at a time: io.StringIO would hold a copy of the whole text at four bytes per character
    lines = _lines(text) if isinstance(text, str) else text
    first = next(lines, "")
    delim = max([",", ";", "\t"], key=first.count)
    reader = csv.reader(itertools.chain([first] if first else [], lines), delimiter=delim, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise IngestError(path, "the file is empty", line=1) from None
    except csv.Error as e:
        raise IngestError(path, f"broken CSV header: {e}", line=1) from e
    return [h.strip() for h in header], _csv_rows(path, reader, len(header), delim)


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their line ends, as ``io.StringIO(text)`` gives them."""
    start = 0
    while (end := text.find("\n", start)) >= 0:
        yield text[start:end + 1]
        start = end + 1
    if start < len(text):
        yield text[start:]


def _csv_rows(path: str | Path, reader: Any, width: int, delim: str) -> Iterator[tuple[int, list[str]]]:
    start = reader.line_num + 1
    try:
        for row in reader:
            if any(c.strip() for c in row):
                _check_row(path, row, width, start, delim)
                yield start, row[:width] + [""] * (width - len(row))
            start = reader.line_num + 1
    except csv.Error as e:
        raise IngestError(path, f"broken CSV: {e}", line=start,
                          hint="check for an unclosed or stray quote mark (\") in that line") from e


def _check_row(path: str | Path, row: list[str], width: int, line: int, delim: str) -> None:
    extra = row[width:]
    if len(row) < width or any(c.strip() for c in extra):
        raise IngestError(path, f"this row has {len(row)} fields, the header has {width}", line=line,
                          hint=f"a field containing '{delim}' must be in quotes; check for a missing or extra "
                               f"'{delim}' or an unclosed quote mark")
    for cell in row:
        for k, part in enumerate(cell.split("\n")[1:], 1):
            if width > 3 and part.count(delim) >= max(2, (width - 1) // 2):
                raise IngestError(path, "a quoted field spans lines that look like whole rows", line=line + k,
                                  hint="an opening quote mark (\") in the line before is never closed; "
                                       "close or remove it")


def read_text(path: str | Path) -> tuple[str, str, str]:
    """Read and decode a text file; return ``(text, encoding, sha256 of the bytes)``."""
    data = Path(path).read_bytes()
    text, enc = decode(data, path)
    return text, enc, sha256_bytes(data)


_WORD = re.compile(r"\w+(?:[-']\w+)*")


def count_words(text: str) -> int:
    return len(_WORD.findall(text))
