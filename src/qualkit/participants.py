"""Persons in group discussions: each participant is a case of its own.

An interview is one case (its file stem).  In a group discussion (several respondent speakers that are
persons: ``TN1``, ``TN2`` … or names, see :func:`qualkit.transcript.is_group`, or a document listed in the
participants table) every respondent speaker becomes a *person case* ``<document>:<speaker>`` (``G01:TN2``)
of kind ``interview``, carrying the document's metadata and the participant's own variables from the
optional participants table (``[interviews] participants``: a CSV with columns ``id`` (document),
``speaker`` and one column per variable).  The document's own case then has kind ``other``: it is a
setting, not a person, so totals, shares and the k rule of the attribution count the participants.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ._text import decode, read_csv_table
from .errors import IngestError, QualkitError
from .project import Project
from .transcript import is_group

__all__ = ["formats", "person_id", "read_participants", "sync_persons"]


def person_id(case_id: str, speaker: str) -> str:
    """The case id of a participant of a group discussion."""
    return f"{case_id}:{speaker}"


def read_participants(project: Project, errors: list[QualkitError]) -> dict[str, dict[str, dict[str, str]]]:
    """The participants table as ``{document: {speaker: variables}}`` ({} when none is configured).

    Problems (missing columns, duplicate rows) are appended to ``errors`` with file and line.
    """
    rel = project.config["interviews"]["participants"]
    if not rel:
        return {}
    path = project.path(rel)
    if not path.is_file():
        errors.append(IngestError(path, "participants table listed in qualkit.toml does not exist",
                                  hint="fix [interviews] participants in qualkit.toml, or set it to \"\""))
        return {}
    try:
        text, _ = decode(path.read_bytes(), path)
        header, rows = read_csv_table(path, text)
    except QualkitError as e:
        errors.append(e)
        return {}
    missing = [c for c in ("id", "speaker") if c not in header]
    if missing:
        errors.append(IngestError(path, f"the participants table has no column {', '.join(missing)}", line=1,
                                  hint="columns: id (the transcript's file name without extension), speaker (the "
                                       f"label in the transcript, e.g. TN2), then one column per variable; found: "
                                       f"{', '.join(header)}"))
        return {}
    out: dict[str, dict[str, dict[str, str]]] = {}
    first: dict[tuple[str, str], int] = {}
    for line, cells in rows:
        row = {h: v.strip() for h, v in zip(header, cells, strict=True)}
        key = (row["id"], row["speaker"])
        if not all(key):
            errors.append(IngestError(path, "row without id or speaker", line=line,
                                      hint="fill in both, or delete the row"))
            continue
        if key in first:
            errors.append(IngestError(path, f"participant {key[1]!r} of {key[0]!r} listed twice (first in line "
                                      f"{first[key]})", line=line, hint="keep one row per participant"))
            continue
        first[key] = line
        out.setdefault(key[0], {})[key[1]] = {k: v for k, v in row.items() if k not in ("id", "speaker") and v}
    return out


def sync_persons(con: sqlite3.Connection, document: str, meta: dict[str, str] | None,
                 table: dict[str, dict[str, str]], warnings: list[str], source: str | Path = "") -> int:
    """Make the participants of ``document`` person cases (or none, for a one-person interview).

    Call inside the ingest transaction after the document's units are written.  Returns the number of
    persons the document stands for.
    """
    speakers = [str(r[0]) for r in con.execute(
        "SELECT DISTINCT speaker FROM units WHERE document_id=? AND role='respondent' AND speaker IS NOT NULL "
        "ORDER BY speaker", (document,))]
    group = bool(table) or is_group(speakers)
    old = {str(r[0]) for r in con.execute("SELECT id FROM cases WHERE id LIKE ? ESCAPE '\\'",
                                          (document.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                                           + ":%",))}
    keep: set[str] = set()
    if group:
        con.execute("UPDATE cases SET kind='other' WHERE id=?", (document,))
        unknown = sorted(set(table) - set(speakers))
        if unknown:
            warnings.append(f"{source}: the participants table lists {', '.join(unknown)} for {document!r}, who never "
                            f"speak there (speakers: {', '.join(speakers)}); check the speaker labels")
        for sp in speakers:
            pid = person_id(document, sp)
            keep.add(pid)
            con.execute("INSERT INTO cases(id, kind) VALUES (?, 'interview') ON CONFLICT(id) DO UPDATE SET "
                        "kind='interview'", (pid,))
            con.execute("DELETE FROM variables WHERE case_id=?", (pid,))
            values = {**(meta or {}), **table.get(sp, {})}
            con.executemany("INSERT INTO variables(case_id, name, value) VALUES (?,?,?)",
                            [(pid, k, v) for k, v in values.items() if k])
    else:
        con.execute("UPDATE cases SET kind='interview' WHERE id=?", (document,))
    for pid in sorted(old - keep):
        con.execute("DELETE FROM cases WHERE id=?", (pid,))
    return len(keep) if group else 1


def formats(project: Project) -> dict[str, int]:
    """How the interview material was collected: ``interviews`` (one-person documents), ``group_discussions``
    and their ``participants`` (persons), from the store."""
    rows = project.store.query(
        "SELECT d.id, c.kind, (SELECT count(*) FROM cases p WHERE p.id LIKE d.id || ':%' AND p.kind='interview') "
        "FROM documents d JOIN cases c ON c.id = d.case_id WHERE d.kind = 'interview'")
    groups = [int(r[2]) for r in rows if r[1] == "other"]
    return {"interviews": sum(1 for r in rows if r[1] != "other"), "group_discussions": len(groups),
            "participants": sum(groups)}
