"""Interview transcripts: readers for f4/f5 text exports, plain text, .docx, WebVTT and SRT.

Every reader returns a list of :class:`Turn`; :func:`render` turns them into the stored document text
(``"I: …\\n\\nB: …"``) and the unit offsets of each turn's text, with each turn's role: ``interviewer``
(the label matches the interviewer pattern), ``collective`` (several people at once: "Alle:", "Mehrere:"),
``note`` (a turn that is only a non-verbal note such as "(lachen)" or "[Pause]") or ``respondent``.
Only respondent turns are statements: coded, counted and quoted.  :func:`persons` says whether the
respondent speakers of a transcript are several persons (a group discussion: TN1, TN2 … or names).
Readers are registered by file
extension (:func:`register_reader`), so a new format is one function.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._limits import open_zip, read_file
from ._text import decode, sha256_bytes
from .errors import IngestError, InputFileError, LimitError

__all__ = ["RESPONDENT_ROLES", "Transcript", "Turn", "is_group", "read_transcript", "readers", "register_reader",
           "render", "speaker_summary"]

# f4/f5 timestamps: #00:01:23-4#  (also accepted: #00:01:23.4#, #01:23#)
_TS = re.compile(r"#(?:(\d{1,2}):)?(\d{1,2}):(\d{2})(?:[-.,](\d{1,3}))?#")
_LABEL = re.compile(
    r"^\s*(?:#[\d:.,\-]+#\s*)?"
    r"(?P<label>[A-ZÄÖÜ][\wÄÖÜäöüß.\-]{0,24}(?: [A-ZÄÖÜ][\wÄÖÜäöüß.\-]{0,24})?)\s?:\s+(?P<rest>.*)$"
)
_SPACES = re.compile(r"[ \t\u00a0]+")
# words that open a "Something: …" phrase in speech, not a speaker's name
_PROSE_WORDS = {"mein", "meine", "unser", "unsere", "das", "die", "der", "ein", "eine", "kurz", "also", "fazit",
                "wichtig", "beispiel", "zum", "hinweis", "notiz", "achtung", "thema", "stichwort", "punkt", "ergebnis",
                "problem", "ziel", "frage", "antwort"}
_USUAL_LABEL = re.compile(r"^(I|B|IP|IV|IW|P|R|TN|Int|Interviewer(in)?|Befragte[rn]?|Moderator(in)?|"
                          r"Teilnehmer(in)?|Sprecher(in)?|Speaker|Alle|Mehrere)\s?\d*$|^(Herr|Frau|Dr\.|Prof\.)\s",
                          re.I)
DEFAULT_INTERVIEWER = re.compile(r"^(I\d*|Int\d*|Interviewer(in)?\d*|Moderat(or|orin|ion)\d*|Mod\d*|IW\d*)$", re.I)
# several people at once: not one person's statement
COLLECTIVE = re.compile(r"^(alle|alle zusammen|alle tn|mehrere|mehrere tn|gruppe|viele|einige|durcheinander|"
                        r"everyone|all|several)$", re.I)
# a turn that holds nothing but non-verbal notes: "(lachen)", "[Pause]", "(unv.)"
_NOTE_ONLY = re.compile(r"^(\s*[(\[][^)\]]*[)\]]\s*[.,…]*)+$")
# the interview convention for one respondent (B, B2, IP1 …): a second label is not a second group member
_INTERVIEW_LABEL = re.compile(r"^(B|IP|P|R|Befragte[rn]?)\s?\d*$", re.I)
RESPONDENT_ROLES = ("respondent", "answer")


@dataclass
class Turn:
    """One speaker turn.  Times are milliseconds or ``None``; ``line`` is the line it starts on."""

    speaker: str
    text: str
    line: int
    time_start: int | None = None
    time_end: int | None = None


@dataclass
class Transcript:
    id: str
    path: str
    turns: list[Turn]
    encoding: str
    sha256: str
    header: tuple[str, ...] = ()  # lines above the first speaker (title, date), not part of the text


def _ms(m: re.Match[str]) -> int:
    h, mi, s, frac = m.group(1), m.group(2), m.group(3), m.group(4)
    ms = ((int(h or 0) * 60 + int(mi)) * 60 + int(s)) * 1000
    if frac:
        ms += int(frac.ljust(3, "0")[:3]) if len(frac) > 1 else int(frac) * 100
    return ms


def _clean(text: str, *, keep_newlines: bool = False) -> tuple[str, int | None, int | None]:
    """Remove timestamps from a turn's text; return text and the first/last time found."""
    times = [_ms(m) for m in _TS.finditer(text)]
    text = _TS.sub(" ", text)
    text = re.sub(r"\(\s*(unv\.|unverständlich)\s*\)", r"(\1)", text)
    text = re.sub(r"\(\s+", "(", text)
    if keep_newlines:
        text = "\n".join(_SPACES.sub(" ", ln).strip() for ln in text.split("\n"))
        text = re.sub(r"\n{2,}", "\n", text).strip()
    else:
        text = _SPACES.sub(" ", text.replace("\n", " ")).strip()
    text = re.sub(r" ([,.;:!?)])", r"\1", text) if text else text
    return text, (times[0] if times else None), (times[-1] if times else None)


def _turns_from_lines(lines: Sequence[tuple[int, str]], path: str, *, blocks: bool,
                      joiner: str, header: list[str] | None = None) -> list[Turn]:
    """Group labelled lines into turns.

    With ``blocks=True`` (text exports) a blank line ends a turn and the next block must start with a
    speaker label; with ``blocks=False`` (Word paragraphs) an unlabelled paragraph continues the turn.
    Lines above the first speaker (a title, "Datum: …") go to ``header``: ingest says it skipped them.
    """
    header = header if header is not None else []
    turns: list[Turn] = []
    raw: list[list[str]] = []
    expect_label = True
    # "Mein Fazit: wir brauchen …" inside a turn is not a speaker: a label inside a turn must be a usual
    # speaker label or occur at least twice in the transcript
    seen = Counter(m.group("label").strip() for _, line in lines if (m := _LABEL.match(line)))
    for lineno, line in lines:
        if not line.strip():
            if blocks:
                expect_label = True
            continue
        m = _LABEL.match(line)
        once = m is not None and seen[m.group("label").strip()] < 2 and not _USUAL_LABEL.match(m.group("label").strip())
        if m and once and not turns:
            header.append(line.strip())  # "Datum: 12.01.2022" above the first speaker
            continue
        if m and once and turns and (not expect_label or m.group("label").split()[0].lower() in _PROSE_WORDS):
            m = None
            expect_label = False
        if m:
            lead = _TS.match(line.strip())
            turns.append(Turn(speaker=m.group("label").strip(), text="", line=lineno,
                              time_start=_ms(lead) if lead else None))
            raw.append([m.group("rest")])
            expect_label = False
        elif not turns:
            header.append(line.strip())  # a title above the first speaker
            continue
        elif expect_label:
            snippet = line.strip()[:50]
            raise IngestError(path, f"turn without a speaker label: {snippet!r}", line=lineno,
                              hint="start the turn with a label such as 'I:' or 'B:', or join it to the "
                                   "previous turn")
        else:
            raw[-1].append(line)
    for turn, parts in zip(turns, raw, strict=True):
        text, t0, t1 = _clean(joiner.join(parts), keep_newlines=joiner == "\n")
        turn.text = text
        if turn.time_start is None and t0 is not None and t1 is not None and t0 != t1:
            turn.time_start = t0
        turn.time_end = t1
    return [t for t in turns if t.text]


def _read_plain(path: Path) -> tuple[list[Turn], str, str, list[str]]:
    data = read_file(path)
    text, enc = decode(data, path)
    lines = list(enumerate(text.split("\n"), 1))
    header: list[str] = []
    turns = _turns_from_lines(lines, str(path), blocks=True, joiner=" ", header=header)
    return turns, enc, sha256_bytes(data), header


def _read_docx(path: Path) -> tuple[list[Turn], str, str, list[str]]:
    import docx  # python-docx: reading Word's XML by hand would miss runs, fields and tracked text
    try:
        open_zip(path).close()  # a zip bomb is refused before python-docx unpacks it
    except LimitError:
        raise
    except InputFileError as e:
        raise IngestError(path, f"not a readable Word .docx file ({e.reason})",
                          hint="open it in Word and save it again as .docx (not .doc)") from e
    data = read_file(path)
    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise IngestError(path, f"not a readable Word .docx file ({e.__class__.__name__})",
                          hint="open it in Word and save it again as .docx (not .doc)") from e
    from ._text import normalise
    paragraphs = [(i, normalise(p.text)) for i, p in enumerate(document.paragraphs, 1)]
    if not any(t.strip() for _, t in paragraphs):
        raise IngestError(path, "the document is empty", hint="check that the transcript was saved")
    header: list[str] = []
    turns = _turns_from_lines(paragraphs, str(path), blocks=False, joiner="\n", header=header)
    return turns, "docx", sha256_bytes(data), header


_CUE_TIME = re.compile(r"^(?:(\d+):)?(\d{2}):(\d{2})[.,](\d{3})\s+-->\s+(?:(\d+):)?(\d{2}):(\d{2})[.,](\d{3})")
_VOICE = re.compile(r"<v(?:\.[\w.]+)?\s+([^>]+)>")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_PREFIX = re.compile(r"^([A-ZÄÖÜ][\wÄÖÜäöüß.\-]*(?: [A-ZÄÖÜ][\wÄÖÜäöüß.\-]*){0,2}):\s+(.*)$", re.S)


def _cue_ms(h: str | None, m: str, s: str, ms: str) -> int:
    return ((int(h or 0) * 60 + int(m)) * 60 + int(s)) * 1000 + int(ms)


def _read_cues(path: Path) -> tuple[list[Turn], str, str]:
    """WebVTT and SRT: speaker from ``<v Name>`` or a ``Name:`` prefix; cues of one speaker merge."""
    data = read_file(path)
    text, enc = decode(data, path)
    lines = text.split("\n")
    if path.suffix.lower() == ".vtt" and not lines[0].startswith("WEBVTT"):
        raise IngestError(path, "a WebVTT file must start with 'WEBVTT'", line=1,
                          hint="export the subtitles again, or rename the file to .srt if it is SRT")
    turns: list[Turn] = []
    i = 0
    while i < len(lines):
        m = _CUE_TIME.match(lines[i].strip())
        if not m:
            i += 1
            continue
        lineno = i + 1
        start = _cue_ms(*m.group(1, 2, 3, 4))
        end = _cue_ms(*m.group(5, 6, 7, 8))
        i += 1
        payload: list[str] = []
        while i < len(lines) and lines[i].strip():
            payload.append(lines[i].strip())
            i += 1
        body = " ".join(payload)
        voice = _VOICE.search(body)
        speaker = voice.group(1).strip() if voice else None
        body = _TAG.sub("", body).strip()
        if speaker is None:
            pm = _PREFIX.match(body)
            if pm:
                speaker, body = pm.group(1), pm.group(2)
        if speaker is None:
            if not turns:
                raise IngestError(path, "cue without a speaker (no <v Name> tag and no 'Name:' prefix)",
                                  line=lineno, hint="name the speaker of the first cue, e.g. '<v I>' or 'I: '")
            speaker = turns[-1].speaker
        clean, _, _ = _clean(body)
        if not clean:
            continue
        if turns and turns[-1].speaker == speaker:
            turns[-1].text += " " + clean
            turns[-1].time_end = end
        else:
            turns.append(Turn(speaker=speaker, text=clean, line=lineno, time_start=start, time_end=end))
    if not turns:
        raise IngestError(path, "no cues found", hint="check that this is a WebVTT/SRT subtitle file")
    return turns, enc, sha256_bytes(data)


# a reader returns (turns, encoding, sha256) and may add the header lines it skipped as a fourth item
Reader = Callable[[Path], tuple[Any, ...]]
_READERS: dict[str, Reader] = {}


def register_reader(*extensions: str) -> Callable[[Reader], Reader]:
    """Register a transcript reader for file extensions (``".txt"``)."""
    def deco(fn: Reader) -> Reader:
        for ext in extensions:
            _READERS[ext.lower()] = fn
        return fn
    return deco


register_reader(".txt", ".f4", ".f5", ".rtf.txt")(_read_plain)
register_reader(".docx")(_read_docx)
register_reader(".vtt", ".srt")(_read_cues)


def readers() -> list[str]:
    """The file extensions qualkit can read transcripts from."""
    return sorted(_READERS)


def read_transcript(path: str | Path) -> Transcript:
    """Read one transcript file; the document id is the file stem."""
    p = Path(path)
    reader = _READERS.get(p.suffix.lower())
    if reader is None:
        raise IngestError(p, f"unknown transcript format {p.suffix!r}",
                          hint=f"qualkit reads {', '.join(readers())}")
    result = reader(p)
    turns, enc, digest = result[:3]
    if not turns:
        raise IngestError(p, "no speaker turns found", hint="transcripts need turns such as 'I: …' and 'B: …'")
    return Transcript(id=p.stem, path=str(p), turns=turns, encoding=enc, sha256=digest,
                      header=tuple(result[3]) if len(result) > 3 else ())


@dataclass(frozen=True)
class RenderedUnit:
    idx: int
    start: int
    end: int
    speaker: str
    role: str
    time_start: int | None
    time_end: int | None


def render(turns: Sequence[Turn], *, interviewer: re.Pattern[str] = DEFAULT_INTERVIEWER
           ) -> tuple[str, list[RenderedUnit]]:
    """The stored text of a transcript and the offsets of each turn's text (label excluded)."""
    parts: list[str] = []
    units: list[RenderedUnit] = []
    pos = 0
    for i, t in enumerate(turns):
        prefix = f"{t.speaker}: "
        if i:
            parts.append("\n\n")
            pos += 2
        parts.append(prefix + t.text)
        start = pos + len(prefix)
        end = start + len(t.text)
        role = _role(t, interviewer)
        units.append(RenderedUnit(i, start, end, t.speaker, role, t.time_start, t.time_end))
        pos = end
    return "".join(parts), units


def _role(t: Turn, interviewer: re.Pattern[str]) -> str:
    if interviewer.match(t.speaker):
        return "interviewer"
    if _NOTE_ONLY.match(t.text):
        return "note"
    if COLLECTIVE.match(t.speaker.strip()):
        return "collective"
    return "respondent"


def is_group(speakers: Sequence[str]) -> bool:
    """Whether the respondent speakers of one transcript are several persons (a group discussion).

    Two or more respondent labels make a group unless all follow the interview convention for one
    respondent's side (``B``, ``B2``, ``IP1``: several interviewees of an expert interview are counted as
    one case, as before); ``TN1``, ``TN2`` … and names (``Frau Berg``) are persons of their own.
    """
    distinct = sorted(set(speakers))
    return len(distinct) >= 2 and not all(_INTERVIEW_LABEL.match(s) for s in distinct)


def speaker_summary(turns: Sequence[Turn], *, interviewer: re.Pattern[str] = DEFAULT_INTERVIEWER
                    ) -> tuple[list[tuple[str, int]], str | None]:
    """The speakers of a transcript with their number of turns (most first), and the speaker most likely
    to be the interviewer (the largest share of turns that end with a question mark), for a hint."""
    counts = Counter(t.speaker for t in turns if _role(t, interviewer) not in ("note", "collective"))
    asks = Counter(t.speaker for t in turns if t.text.rstrip().endswith("?"))
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    guess = max(counts, key=lambda s: (asks[s] / counts[s], counts[s], s)) if asks else None
    return ranked, guess
