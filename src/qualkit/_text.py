"""Reading text files the way researchers have them: UTF-8, UTF-8 with BOM, UTF-16, Windows-1252.

Decoding never guesses silently: the encoding used is returned and stored with the document, and a
file that is neither valid UTF-8 nor plausible Windows-1252 text is rejected with the line of the first
bad byte.  Text is normalised to NFC with ``\\n`` line ends, so offsets count the same everywhere.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from .errors import IngestError

_MOJIBAKE = re.compile("Ã[¤¶¼Ÿ„–œ©]|â€[™œ“”]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise(text: str) -> str:
    """NFC, ``\\n`` line ends, no BOM."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return unicodedata.normalize("NFC", text)


def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def decode(data: bytes, path: str | Path) -> tuple[str, str]:
    """Decode file bytes; return ``(text, encoding)``.

    Raises
    ------
    IngestError
        for an empty file, a binary file, undecodable bytes, or double-encoded (mojibake) text.
    """
    if not data.strip():
        raise IngestError(path, "the file is empty", hint="export the transcript again or remove the file")
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        nul = data.find(b"\x00", 0, 8192)
        if nul >= 0:
            raise IngestError(path, "this is a binary file, not text", line=_line_of(data, nul),
                              hint="save it as plain text (.txt, UTF-8), .docx, .vtt or .srt")
        candidates = ["utf-8", "cp1252"]
    last: UnicodeDecodeError | None = None
    for enc in candidates:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError as e:
            last = e
            continue
        bad = _CONTROL.search(text)
        if bad:
            line = text.count("\n", 0, bad.start()) + 1
            raise IngestError(path, f"contains control character U+{ord(bad.group()):04X}; "
                              "this does not look like a text file", line=line,
                              hint="open it in an editor and save it as UTF-8 text")
        moji = _MOJIBAKE.search(text)
        if moji:
            line = text.count("\n", 0, moji.start()) + 1
            raise IngestError(path, f"the text looks double-encoded ({moji.group()!r} where an umlaut "
                              "or quote mark belongs)", line=line,
                              hint="the file was read with the wrong encoding and saved again; "
                                   "export it once more from the original as UTF-8")
        return normalise(text), enc
    assert last is not None
    raise IngestError(path, f"cannot decode byte 0x{last.object[last.start]:02X}: neither UTF-8 nor "
                      "Windows-1252", line=_line_of(last.object, last.start),
                      hint="save the file as UTF-8 (in Word: Save as → Plain Text → Unicode UTF-8)")


def read_text(path: str | Path) -> tuple[str, str, str]:
    """Read and decode a text file; return ``(text, encoding, sha256 of the bytes)``."""
    data = Path(path).read_bytes()
    text, enc = decode(data, path)
    return text, enc, sha256_bytes(data)


_WORD = re.compile(r"\w+(?:[-']\w+)*")


def count_words(text: str) -> int:
    return len(_WORD.findall(text))
