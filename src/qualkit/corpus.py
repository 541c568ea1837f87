"""The corpus: ``qualkit ingest`` reads transcripts, interview metadata, survey exports and reference codings → store.

Transcripts, metadata and survey exports are read and checked first, then everything is written in one
transaction; reference coding files are read within it, a row at a time, checked against the texts as the
ingest leaves them and merged a part at a time (:mod:`qualkit.references`), never held whole.  If anything is
wrong, :class:`~qualkit.errors.IngestErrors` lists every problem and the transaction is undone: nothing is
written, and a crash leaves the store as it was.  Files whose bytes did not change since the last ingest are
skipped; a transcript that changed after it was coded has its codings re-anchored by their quoted text.
"""

from __future__ import annotations

import difflib
import io
import json
import logging
import pickle
import re
import sqlite3
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._lang import detect_language
from ._limits import read_file
from ._text import decode_lines, iter_csv_table, sha256_file, sha256_text
from .codebook import Codebook
from .errors import IngestError, IngestErrors, QualkitError
from .participants import read_participants, sync_persons
from .project import Project
from .references import INGEST_CODER, Row, merge_reference_rows, stage_reference_rows
from .store import Store, now
from .survey import DEFAULT_NO_ANSWER, FINISHED, SurveyExport, read_survey, read_value_labels
from .transcript import Transcript, read_transcript, readers, render, speaker_summary

__all__ = ["IngestReport", "ingest", "reanchor"]

log = logging.getLogger(__name__)
_SKIP_NAMES = {"readme.txt", "readme.md", "liesmich.txt"}


@dataclass
class IngestReport:
    """What an ingest did.  ``warnings`` are problems that did not stop it."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    codings_loaded: int = 0
    reanchored: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{len(self.added)} document(s) added", f"{len(self.updated)} updated",
                 f"{self.unchanged} unchanged"]
        if self.removed:
            parts.append(f"{len(self.removed)} removed")
        if self.codings_loaded:
            parts.append(f"{self.codings_loaded} reference coding(s) loaded")
        if self.reanchored:
            parts.append("re-anchored codings: " + ", ".join(f"{k} {v}" for k, v in self.reanchored.items()))
        return "; ".join(parts)


@dataclass
class _Doc:
    id: str
    case_id: str
    kind: str
    question: str | None
    text: str
    source: str
    encoding: str
    units: list[tuple[int, int, int, str | None, str | None, int | None, int | None]]
    language: str | None = None


class _Spool:
    """The documents read, kept in a private temporary file (in the project's ``.qualkit/``, ``0600``, removed
    from the folder at once) from when they are read until they are written: the ingest then holds one
    document at a time, not every text of the corpus, while the rest is read and checked (issue 17).

    Readers (the transaction that writes the documents, the name search ahead in a thread of its own) read at
    their own positions, a document at a time under a lock; the file is closed once the ingest has closed the
    spool and every reader is done (the name search may go on after the ingest has returned)."""

    def __init__(self, folder: Path) -> None:
        self._file = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 - closed by close() and the last reader
        self._lock = threading.Lock()
        self._readers = 0
        self._closing = False
        self._at: list[tuple[int, int]] = []  # each document's offset and length in the file
        self.sources: list[tuple[str, str]] = []  # each document's id and source file, in order
        self.chars = 0  # the length of all texts

    def add(self, doc: _Doc) -> None:
        data = pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:  # appended at the end, wherever a reader left the position
            self._at.append((self._file.seek(0, io.SEEK_END), len(data)))
            self._file.write(data)
        self.sources.append((doc.id, doc.source))
        self.chars += len(doc.text)

    def take(self, docs: list[_Doc]) -> None:
        """Add ``docs`` in their order, emptying the list (so that nothing holds them any more)."""
        docs.reverse()
        while docs:
            self.add(docs.pop())

    def __iter__(self) -> Iterator[_Doc]:
        return self._read(lambda d: d)

    def texts(self) -> Iterator[str]:
        """The texts, in order; see :meth:`_read` (the name search ahead reads them so)."""
        return self._read(lambda d: d.text)

    def _read(self, what: Callable[[_Doc], Any]) -> Iterator[Any]:
        """``what`` of each document added so far, in their order, each read when asked for."""
        at = list(self._at)
        with self._lock:
            self._readers += 1

        def read() -> Iterator[Any]:
            for offset, n in at:
                with self._lock:
                    self._file.seek(offset)
                    data = self._file.read(n)
                yield what(pickle.loads(data))  # this ingest's own file (0600)
        reader = read()
        weakref.finalize(reader, self._done)  # read to the end or not, a reader is done once let go of
        return reader

    def _done(self) -> None:
        with self._lock:
            self._readers -= 1
            if self._closing and not self._readers:
                self._file.close()

    def close(self) -> None:
        with self._lock:
            self._closing = True
            if not self._readers:
                self._file.close()


# -- reading -------------------------------------------------------------------------------------
def _rel(project: Project, p: Path) -> str:
    try:
        return p.resolve().relative_to(project.root).as_posix()
    except ValueError:
        return str(p)


def _read_csv_rows(path: Path, errors: list[QualkitError]) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header and the rows (line, column -> value) of a CSV file: the header at once, each row as it is
    iterated, so a large coding file is never held row by row.  A broken row ends the rows; its error goes into
    ``errors``."""
    lines, _ = decode_lines(path, path)  # read from the file a chunk at a time: never held whole
    header, rows = iter_csv_table(path, lines)

    def read() -> Iterator[tuple[int, dict[str, str]]]:
        try:
            for line, cells in rows:
                yield line, {h: v.strip() for h, v in zip(header, cells, strict=True)}
        except QualkitError as e:  # the file cannot be read past it
            errors.append(e)
    return header, read()


def _read_metadata(project: Project, errors: list[QualkitError]) -> dict[str, dict[str, str]]:
    cfg = project.config["interviews"]
    path = project.path(cfg["metadata"])
    if not path.exists():
        return {}
    try:
        header, rows = _read_csv_rows(path, errors)
    except QualkitError as e:
        errors.append(e)
        return {}
    idc = cfg["id_column"]
    if idc not in header:
        errors.append(IngestError(path, f"the metadata has no {idc!r} column", line=1,
                                  hint=f"columns found: {', '.join(header)}; the id column must hold the "
                                       "transcript file names without extension"))
        return {}
    out: dict[str, dict[str, str]] = {}
    first: dict[str, int] = {}
    for line, row in rows:
        iid = row.get(idc, "")
        if not iid:
            errors.append(IngestError(path, "row without an interview id", line=line,
                                      hint=f"fill in the {idc!r} column or delete the row"))
            continue
        if iid in out:
            errors.append(IngestError(path, f"duplicate interview id {iid!r} (first in line {first[iid]})",
                                      line=line, hint="every interview id must appear once"))
            continue
        first[iid] = line
        out[iid] = {k: v for k, v in row.items() if k != idc}
    return out


def _interview_files(project: Project, errors: list[QualkitError]) -> list[Path]:
    folder = project.path(project.config["interviews"]["folder"])
    if folder.exists() and not folder.is_dir():
        errors.append(IngestError(folder, "is a file, but [interviews] folder must be a folder",
                                  hint="put the transcripts into a folder and name it in qualkit.toml"))
        return []
    if not folder.is_dir():
        return []
    exts = set(readers())
    for p in sorted(folder.iterdir()):
        if p.is_dir() and p.suffix.lower() in exts:
            errors.append(IngestError(p, "is a folder, not a transcript file",
                                      hint="move the transcript file itself into the interviews folder"))
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$"))
                   and p.name.lower() not in _SKIP_NAMES)
    out: list[Path] = []
    stems: dict[str, Path] = {}
    for p in files:
        if p.suffix.lower() not in exts:
            errors.append(IngestError(p, f"unknown transcript format {p.suffix!r}",
                                      hint=f"qualkit reads {', '.join(readers())}; move other files elsewhere"))
            continue
        if p.stem in stems:
            errors.append(IngestError(p, f"duplicate interview id {p.stem!r}: also {stems[p.stem].name}",
                                      hint="keep one file per interview"))
            continue
        stems[p.stem] = p
        out.append(p)
    return out


def _transcript_doc(t: Transcript, interviewer: re.Pattern[str], source: str) -> _Doc:
    text, units = render(t.turns, interviewer=interviewer)
    return _Doc(id=t.id, case_id=t.id, kind="interview", question=None, text=text, source=source,
                encoding=t.encoding,
                units=[(u.idx, u.start, u.end, u.speaker, u.role, u.time_start, u.time_end) for u in units],
                language="de")


_Read = tuple[_Doc, list[str], tuple[list[tuple[str, int]], str | None] | None]

PARALLEL_FILES = 200  # fewer changed transcripts are read in this process whatever ``jobs`` says
_FILES_PER_TASK = 50


def _read_interviews(files: list[tuple[str, str]], interviewer: re.Pattern[str]) -> list[_Read | QualkitError]:
    """Read and render transcripts, ``(path, source)`` each: a pure function of the files, run in partitions
    on workers.  Per file the document, the header lines above the first speaker and, where no speaker is an
    interviewer but two or more speak, who speaks how often (for the warning); or the file's error."""
    out: list[_Read | QualkitError] = []
    for path, source in files:
        try:
            t = read_transcript(Path(path))
            doc = _transcript_doc(t, interviewer, source)
        except QualkitError as e:
            out.append(e)
            continue
        speakers = None
        if not any(u[4] == "interviewer" for u in doc.units) and \
                len({u[3] for u in doc.units if u[4] == "respondent"}) >= 2:
            speakers = speaker_summary(t.turns, interviewer=interviewer)
        out.append((doc, list(t.header), speakers))
    return out


def _interviews(project: Project, paths: list[Path], jobs: int, scheduler: str | None) -> Iterator[_Read | QualkitError]:
    """:func:`_read_interviews` of ``paths`` in their order, each as soon as it is read: in this process, or,
    when they are many, in partitions on ``jobs`` local processes or on Dask (:func:`qualkit.prepare.executor`)."""
    files = [(str(p), _rel(project, p)) for p in paths]
    pattern = project.interviewer_pattern()
    if not scheduler and (jobs <= 1 or len(files) < PARALLEL_FILES):
        for file in files:
            yield from _read_interviews([file], pattern)
        return
    from .prepare import map_in_order
    parts = [files[i:i + _FILES_PER_TASK] for i in range(0, len(files), _FILES_PER_TASK)]
    for part in map_in_order(_read_interviews, parts, pattern, jobs=jobs, scheduler=scheduler):
        yield from part


def _interview_docs(project: Project, paths: list[Path], jobs: int, scheduler: str | None,
                    errors: list[QualkitError], report: IngestReport, spool: _Spool) -> None:
    """The documents of the transcripts ``paths`` (:func:`_interviews`) into ``spool``, with their warnings in
    ``report`` and their errors in ``errors``."""
    for p, read in zip(paths, _interviews(project, paths, jobs, scheduler), strict=True):
        if isinstance(read, QualkitError):
            errors.append(read)
            continue
        doc, header, speakers = read
        del read
        spool.add(doc)
        if header:
            shown = " / ".join(header)
            report.warnings.append(f"{p}: {len(header)} line(s) above the first speaker taken as a header and "
                                   f"not imported: {shown[:80]!r}{'…' if len(shown) > 80 else ''}")
        if speakers is not None:
            found, guess = speakers
            report.warnings.append(
                f"{p}: no speaker matches an interviewer label, so every turn counts as a respondent's; speakers "
                f"found: {', '.join(f'{sp} ({n} turns)' for sp, n in found)}. If one of them asks the questions, add "
                "to qualkit.toml: [interviews] interviewer_labels = "
                f"[{json.dumps(guess or found[0][0], ensure_ascii=False)}]")
        if not any(u[4] == "respondent" for u in doc.units):
            speaking = sorted({str(u[3]) for u in doc.units})
            report.warnings.append(f"{p}: every turn is by an interviewer ({', '.join(speaking)}), so nothing in it "
                                   "can be coded or counted; check the speaker labels or [interviews] "
                                   "interviewer_labels")


def _survey_docs(project: Project, export: SurveyExport) -> tuple[list[_Doc], list[tuple[str, dict[str, str]]],
                                                                  list[tuple[str, str, str]]]:
    cfg = project.config["survey"]
    prefix = cfg["id_prefix"]
    questions: dict[str, str] = cfg["open_questions"]
    docs, cases, missing = [], [], []
    source = _rel(project, Path(export.path))
    for r in export.respondents:
        if not r.finished and "counted" not in cfg["unfinished"]:
            continue  # the rule leaves unfinished cases out entirely
        case = f"{prefix}{r.id}"
        flag = {FINISHED: "yes" if r.finished else "no"} if cfg["complete_column"] else {}
        cases.append((case, {**r.variables, **flag, "Befragten-ID": r.id}))
        for q, answer in r.answers.items():
            docs.append(_Doc(id=f"{case}-{q}", case_id=case, kind="survey", question=questions.get(q, q),
                             text=answer, source=source, encoding=export.encoding,
                             units=[(0, 0, len(answer), None, "answer", None, None)],
                             language=detect_language(answer)))
        for q, raw in r.missing.items():
            missing.append((case, questions.get(q, q), raw))
    return docs, cases, missing


def _coding_rows(path: Path, text_of: Callable[[str], str | None], codebook: Codebook,
                 errors: list[QualkitError]) -> Iterator[Row]:
    """The rows of a reference coding file that are right, checked as they are read against ``text_of(document)``
    (the texts as this ingest leaves them); every wrong row goes into ``errors``."""
    try:
        header, rows = _read_csv_rows(path, errors)
    except QualkitError as e:
        errors.append(e)
        return
    need = ["document", "start", "end", "code", "coder", "quote"]
    miss = [c for c in need if c not in header]
    if miss:
        errors.append(IngestError(path, f"missing column(s) {', '.join(miss)}", line=1,
                                  hint="a coding file has columns document,start,end,code,coder,quote[,memo]"))
        return
    for line, row in rows:
        doc = row["document"]
        text = text_of(doc)
        if text is None:
            errors.append(IngestError(path, f"unknown document {doc!r}", line=line,
                                      hint="the document id must be an interview id or a survey answer id"))
            continue
        if row["code"] not in codebook.codes:
            errors.append(IngestError(path, f"code {row['code']!r} is not in the codebook", line=line,
                                      hint="add it to the codebook or correct the name"))
            continue
        try:
            s, end = int(row["start"]), int(row["end"])
        except ValueError:
            errors.append(IngestError(path, "start/end are not whole numbers", line=line))
            continue
        if not (0 <= s < end <= len(text)) or text[s:end] != row["quote"]:
            found = text[s:end][:40] if 0 <= s < end <= len(text) else "(outside the text)"
            errors.append(IngestError(path, f"the quote does not match document {doc!r} at {s}..{end}: "
                                      f"the text there is {found!r}", line=line,
                                      hint="offsets count Unicode characters of the stored text; fix the "
                                           "offsets or the quote"))
            continue
        yield line, doc, s, end, row["code"], row["coder"], row["quote"], row.get("memo", "")


# -- re-anchoring --------------------------------------------------------------------------------
def reanchor(old: str, new: str, start: int, end: int, quote: str) -> tuple[int, int, str]:
    """Find a coding's quote in a changed text.

    Returns ``(start, end, status)``: ``ok`` (unchanged place), ``moved`` (exact quote found elsewhere,
    nearest to the old place), ``fuzzy`` (the old span mapped through the edit, text ≥ 80 % similar),
    ``lost`` (kept at a clamped place and flagged for review).
    """
    if new[start:end] == quote:
        return start, end, "ok"
    hits = []
    i = new.find(quote)
    while i >= 0 and quote:
        hits.append(i)
        i = new.find(quote, i + 1)
    if hits:
        expected = start * len(new) / max(len(old), 1)
        best = min(hits, key=lambda h: abs(h - expected))
        return best, best + len(quote), "moved"
    sm = difflib.SequenceMatcher(None, old, new, autojunk=False)

    def mapped(pos: int) -> int:
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if i1 <= pos < i2 or (pos == i2 and tag == "equal"):
                return j1 + min(pos - i1, j2 - j1) if tag == "equal" else j1
        return len(new)

    s2, e2 = mapped(start), mapped(end)
    if e2 > s2:
        ratio = difflib.SequenceMatcher(None, quote, new[s2:e2], autojunk=False).ratio()
        if ratio >= 0.8:
            return s2, e2, "fuzzy"
    s2 = min(max(0, s2), max(len(new) - 1, 0))
    return s2, min(len(new), max(e2, s2 + 1)), "lost"


# -- writing -------------------------------------------------------------------------------------
def _sync_codes(con: sqlite3.Connection, codebook: Codebook) -> None:
    ids = {r[1]: r[0] for r in con.execute("SELECT id, name FROM codes")}
    for pos, code in enumerate(codebook.codes.values()):
        parent = ids.get(code.parent) if code.parent else None
        if code.name in ids:
            con.execute("UPDATE codes SET parent_id=?, dimension=?, colour=?, shortcut=?, definition=?, "
                        "position=? WHERE id=?", (parent, code.dimension, code.colour, code.shortcut,
                                                  code.definition, pos, ids[code.name]))
        else:
            cur = con.execute("INSERT INTO codes(name, parent_id, dimension, colour, shortcut, definition, "
                              "position) VALUES (?,?,?,?,?,?,?)", (code.name, parent, code.dimension,
                                                                   code.colour, code.shortcut,
                                                                   code.definition, pos))
            ids[code.name] = int(cur.lastrowid or 0)


def _write_document(store: Store, con: sqlite3.Connection, doc: _Doc, report: IngestReport) -> None:
    """Insert or update one document with its units; re-anchor its codings if the text changed."""
    t = now()
    row = con.execute("SELECT text FROM documents WHERE id=?", (doc.id,)).fetchone()
    if row is None:
        con.execute("INSERT INTO documents(id, case_id, kind, question, text, sha256, source_file, encoding, "
                    "language, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (doc.id, doc.case_id, doc.kind, doc.question, doc.text, sha256_text(doc.text), doc.source,
                     doc.encoding, doc.language, t, t))
        report.added.append(doc.id)
    else:
        old = str(row[0])
        con.execute("UPDATE documents SET case_id=?, kind=?, question=?, text=?, sha256=?, source_file=?, "
                    "encoding=?, language=?, updated_at=? WHERE id=?",
                    (doc.case_id, doc.kind, doc.question, doc.text, sha256_text(doc.text), doc.source,
                     doc.encoding, doc.language, t, doc.id))
        if old == doc.text:
            report.unchanged += 1
        else:
            report.updated.append(doc.id)
            moves = []
            for c in con.execute('SELECT id, start, "end", quote, anchor FROM codings WHERE document_id=?',
                                 (doc.id,)).fetchall():
                s, e, status = reanchor(old, doc.text, c[1], c[2], c[3])
                quote = doc.text[s:e] if status in ("ok", "moved", "fuzzy") else c[3]
                if (s, e, status, quote) != (c[1], c[2], c[4], c[3]):
                    moves.append((int(c[0]), s, e, quote, status))
                report.reanchored[status] = report.reanchored.get(status, 0) + 1
            store.move_codings(moves, by=INGEST_CODER, con=con)
    con.execute("DELETE FROM units WHERE document_id=?", (doc.id,))
    con.executemany('INSERT INTO units(document_id, idx, start, "end", speaker, role, time_start, time_end) '
                    "VALUES (?,?,?,?,?,?,?,?)", [(doc.id, *u) for u in doc.units])


def _set_case(con: sqlite3.Connection, case_id: str, kind: str, variables: dict[str, str] | None) -> None:
    con.execute("INSERT OR IGNORE INTO cases(id, kind) VALUES (?, ?)", (case_id, kind))
    if variables is not None:
        con.execute("DELETE FROM variables WHERE case_id=?", (case_id,))
        con.executemany("INSERT INTO variables(case_id, name, value) VALUES (?,?,?)",
                        [(case_id, k, v) for k, v in variables.items() if k])


def _text_in(con: sqlite3.Connection) -> Callable[[str], str | None]:
    """A document's stored text by id, or None; the last one is kept (a coding file's rows come by document)."""
    last: list[Any] = [None, None]

    def text_of(doc_id: str) -> str | None:
        if last[0] != doc_id:
            row = con.execute("SELECT text FROM documents WHERE id=?", (doc_id,)).fetchone()
            last[:] = [doc_id, None if row is None else str(row[0])]
        return last[1]
    return text_of


def ingest(project: Project, *, force: bool = False, jobs: int = 1, scheduler: str | None = None,
           on_read: Callable[[Iterator[str], int], None] | None = None) -> IngestReport:
    """Bring the store in line with the project's input files.

    Parameters
    ----------
    force : re-read every file even if its bytes did not change.
    jobs, scheduler : many changed transcripts (:data:`PARALLEL_FILES` or more) are read in partitions on
        ``jobs`` local processes, or on Dask (``scheduler``: ``"local"`` or a scheduler's address; workers must
        see the project folder).  Only this process writes to the store; the result is the same.
    on_read : called with the texts of the new and changed documents (read from disk one by one as the
        iterator is advanced, also after the ingest has returned) and their total length in characters, once
        every transcript and survey export is read and checked, before they are written (the report starts
        its name search on them then: :func:`qualkit.privacy.search_names_ahead`).

    The documents read are kept on disk until they are written (a private temporary file in ``.qualkit/``),
    so the ingest of a large corpus holds one document at a time, besides the survey export being read.

    Raises
    ------
    IngestErrors
        listing every rejected file with line and reason; the store is unchanged.
    """
    spool = _Spool(project.cache_dir)
    try:
        return _ingest(project, spool, force=force, jobs=jobs, scheduler=scheduler, on_read=on_read)
    finally:
        spool.close()


def _ingest(project: Project, spool: _Spool, *, force: bool, jobs: int, scheduler: str | None,
            on_read: Callable[[Iterator[str], int], None] | None) -> IngestReport:
    store = project.store
    codebook = project.codebook
    report = IngestReport()
    errors: list[QualkitError] = []
    known = {r["path"]: r["sha256"] for r in store.query("SELECT path, sha256 FROM files")}
    existing_docs = {r["id"] for r in store.query("SELECT id FROM documents")}
    file_hashes: dict[str, tuple[str, str]] = {}

    def changed(p: Path, kind: str) -> bool:
        # the file and the configuration that says how to read it: a changed [survey] section re-reads the export
        section = {"interview": "interviews", "survey": "survey", "codings": "codings"}[kind]
        settings = json.dumps(project.config.get(section, {}), sort_keys=True, default=str).encode()
        if kind == "survey":  # the value labels are part of how the export is read
            settings += b"".join(b"\0" + read_file(lp) for f in project.config["survey"]["label_files"]
                                 if (lp := project.path(f)).is_file())
        digest = sha256_file(p, suffix=b"\0" + settings)
        rel = _rel(project, p)
        file_hashes[rel] = (digest, kind)
        return force or known.get(rel) != digest

    # interviews
    transcript_ids: set[str] = set()
    to_read: list[Path] = []
    for p in _interview_files(project, errors):
        transcript_ids.add(p.stem)
        if not changed(p, "interview") and p.stem in existing_docs:
            report.unchanged += 1
            continue
        to_read.append(p)
    _interview_docs(project, to_read, jobs, scheduler, errors, report, spool)
    meta = _read_metadata(project, errors)
    participants = read_participants(project, errors)
    for gone in sorted(set(participants) - transcript_ids):
        report.warnings.append(f"{project.config['interviews']['participants']}: participants of {gone!r} but no "
                               "transcript of that name")
    meta_path = project.path(project.config["interviews"]["metadata"])
    for iid in sorted(set(meta) - transcript_ids):
        report.warnings.append(f"{meta_path}: metadata for {iid!r} but no transcript file")
    for iid in sorted(transcript_ids - set(meta)):
        report.warnings.append(f"{meta_path}: no metadata row for transcript {iid!r} (no case variables)")

    # survey
    scfg = project.config["survey"]
    survey_cases: list[tuple[str, dict[str, str]]] = []
    survey_missing: list[tuple[str, str, str]] = []
    survey_files_changed: list[str] = []
    for f in scfg["files"]:
        p = project.path(f)
        if not p.is_file():
            errors.append(IngestError(p, "survey file listed in qualkit.toml is a folder" if p.is_dir() else
                                      "survey file listed in qualkit.toml does not exist",
                                      hint="fix [survey] files in qualkit.toml"))
            continue
        if not changed(p, "survey"):
            continue
        try:
            labels: dict[str, dict[str, str]] = {}
            for lf in scfg["label_files"]:
                labels.update(read_value_labels(project.path(lf)))
            for column, mapping in scfg["labels"].items():
                labels.setdefault(column, {}).update({str(k): str(v) for k, v in mapping.items()})
            export = read_survey(p, id_column=scfg["id_column"], open_questions=dict(scfg["open_questions"]),
                                 variables=scfg["variables"], no_answer=scfg["no_answer"] or DEFAULT_NO_ANSWER,
                                 complete_column=scfg["complete_column"] or None, value_labels=labels)
        except QualkitError as e:
            errors.append(e)
            continue
        report.warnings.extend(f"{p}: {note}" for note in export.notes)
        unfinished = sum(not r.finished for r in export.respondents)
        rule = scfg["unfinished"]
        if unfinished and set(rule) != {"counted", "coded", "quoted"}:
            what = ("left out entirely" if "counted" not in rule else
                    "counted" + ("" if "coded" in rule else ", not coded") + ("" if "quoted" in rule else ", not quoted"))
            report.warnings.append(f"{p}: {unfinished} unfinished case(s) {what} ([survey] unfinished = {rule})")
        d, c, m = _survey_docs(project, export)
        del export
        spool.take(d)  # the answers are on disk now, each read back when it is written
        survey_cases.extend(c)
        survey_missing.extend(m)
        survey_files_changed.append(_rel(project, p))

    # reference codings: read and checked in the transaction below, against the texts as this ingest leaves them
    coding_files: list[Path] = []
    for f in project.config["codings"]["files"]:
        p = project.path(f)
        if not p.is_file():
            errors.append(IngestError(p, "coding file listed in qualkit.toml is a folder" if p.is_dir() else
                                      "coding file listed in qualkit.toml does not exist",
                                      hint="fix [codings] files in qualkit.toml"))
            continue
        if changed(p, "codings"):  # a changed transcript re-anchors the codings; the file is not re-read
            coding_files.append(p)

    if on_read is not None and not errors:
        on_read(spool.texts(), spool.chars)

    with store.transaction() as con:
        _sync_codes(con, codebook)
        # codings of a code the codebook no longer has (renamed or removed): kept, never dropped, but said
        for name, n in con.execute("SELECT k.name, count(*) FROM codings c JOIN codes k ON k.id=c.code_id "
                                   "GROUP BY k.name ORDER BY k.name").fetchall():
            if name not in codebook.codes and n:
                report.warnings.append(f"{n} coding(s) use the code {name!r}, which is no longer in the codebook; "
                                       "they are kept but not counted: restore the name, or add it back as a "
                                       "code to merge them")
        for iid in sorted(transcript_ids):
            _set_case(con, iid, "interview", meta.get(iid))
        for case, variables in survey_cases:
            _set_case(con, case, "respondent", variables)
        new_ids = {src: {i for i, source in spool.sources if source == src} for src in survey_files_changed}
        for doc in spool:  # read back one at a time: its text is the transaction's once written
            _write_document(store, con, doc, report)
            del doc
        for iid in sorted(transcript_ids):
            sync_persons(con, iid, meta.get(iid), participants.get(iid, {}), report.warnings,
                         project.config["interviews"]["participants"])
        for src in survey_files_changed:
            for r in con.execute("SELECT id, (SELECT count(*) FROM codings c WHERE c.document_id=d.id) "
                                 "FROM documents d WHERE source_file=? AND kind='survey'", (src,)).fetchall():
                if r[0] not in new_ids[src]:
                    if r[1]:
                        report.warnings.append(f"{src}: answer {r[0]} is gone from the export but has codings; "
                                               "kept")
                    else:
                        con.execute("DELETE FROM documents WHERE id=?", (r[0],))
                        report.removed.append(r[0])
            cases = [c for c, _ in survey_cases]
            con.executemany("DELETE FROM missing_answers WHERE case_id=?", [(c,) for c in cases])
            con.executemany("INSERT OR REPLACE INTO missing_answers(case_id, question, raw) VALUES (?,?,?)",
                            survey_missing)
        # the reference codings are checked against the texts written above (not yet committed) and kept aside
        # row by row in the transaction: a wrong row anywhere, or any error before, and nothing is written
        text_of = _text_in(con)
        for p in coding_files:
            stage_reference_rows(con, _rel(project, p), _coding_rows(p, text_of, codebook, errors))
        if errors:
            raise IngestErrors(errors)
        for p in coding_files:
            report.codings_loaded += merge_reference_rows(store, con, _rel(project, p), report.warnings)
        for rel, (digest, kind) in file_hashes.items():
            con.execute("INSERT OR REPLACE INTO files(path, sha256, kind, ingested_at) VALUES (?,?,?,?)",
                        (rel, digest, kind, now()))
        con.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('codebook_sha256', ?)", (codebook.sha256,))
    for w in report.warnings:
        log.warning(w)
    return report


def iter_units_text(project: Project) -> Iterable[tuple[str, int, str]]:
    """Yield ``(document_id, unit_idx, text)`` for every respondent unit (interviewer turns, collective turns
    and non-verbal notes excluded)."""
    from .units import slice_texts
    units = project.store.frame('SELECT document_id, idx, start, "end" FROM units WHERE role IN (\'respondent\', '
                                "'answer') ORDER BY document_id, idx")
    for doc, idx, text in zip(units.document_id, units.idx, slice_texts(project, units), strict=True):
        yield str(doc), int(idx), text
