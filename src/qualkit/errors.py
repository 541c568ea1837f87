"""The exception hierarchy of qualkit.

Every error about the researcher's data derives from :class:`QualkitError` and carries the fields a
researcher (or the CLI) needs to find and fix the problem: which file, which line, what is wrong and
what to do.  Plain ``ValueError``/``TypeError`` are reserved for programming mistakes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class QualkitError(Exception):
    """Root of all qualkit errors.  ``hint`` says what to do about it."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.message}\n  → {self.hint}" if self.hint else self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # every field as it is (the subclasses' constructors take keyword arguments, which pickle's default,
        # calling the class with ``args``, does not): an error found on a worker process or a Dask worker
        # reaches the client whole
        return _rebuild, (type(self), dict(self.__dict__), self.args)


def _rebuild(cls: type[QualkitError], fields: dict[str, Any], args: tuple[Any, ...]) -> QualkitError:
    e = cls.__new__(cls)
    e.__dict__.update(fields)
    e.args = args
    return e


class ConfigError(QualkitError):
    """The project folder or its ``qualkit.toml`` is missing or invalid."""


class InputFileError(QualkitError):
    """A problem located in an input file, optionally at a line and column."""

    def __init__(
        self,
        path: str | Path,
        reason: str,
        *,
        line: int | None = None,
        column: int | None = None,
        hint: str = "",
    ) -> None:
        self.path = str(path)
        self.line = line
        self.column = column
        self.reason = reason
        where = self.path
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {reason}", hint=hint)


class IngestError(InputFileError):
    """A transcript, survey export or metadata file that cannot be ingested."""


class CodebookError(InputFileError):
    """A codebook that does not parse or does not validate.  ``key`` names the offending entry."""

    def __init__(
        self, path: str | Path, reason: str, *, key: str = "", line: int | None = None, hint: str = ""
    ) -> None:
        self.key = key
        super().__init__(path, reason, line=line, hint=hint)


class IngestErrors(QualkitError):
    """Several files were rejected; nothing was written to the store."""

    def __init__(self, errors: list[QualkitError]) -> None:
        self.errors = errors
        lines = "\n".join(f"- {e}" for e in errors)
        super().__init__(
            f"{len(errors)} input problem(s); nothing was written to the store:\n{lines}",
            hint="fix the files named above and run `qualkit ingest` again",
        )


class StoreError(QualkitError):
    """The project store cannot be opened, migrated or written."""


class CodingError(QualkitError):
    """A coding operation that is not allowed (bad offsets, unknown code, unknown coding id)."""


class CodingConflictError(CodingError):
    """A change based on an out-of-date view: the coding was changed or deleted meanwhile.

    ``coding_id`` names the coding, ``field`` what differs (``"deleted"`` if it is gone), ``theirs`` the value now
    stored and ``by`` who made the last change."""

    def __init__(self, coding_id: int, field: str, *, theirs: str = "", by: str = "", hint: str = "") -> None:
        self.coding_id = coding_id
        self.field = field
        self.theirs = theirs
        self.by = by
        what = "was deleted" if field == "deleted" else f"has a different {field} now ({theirs!r})"
        super().__init__(f"coding {coding_id} {what}{f' (last change by {by})' if by else ''}",
                         hint=hint or "reload the view and apply your change again")


class AutocodeError(QualkitError):
    """The auto-coder cannot run (no training data, malformed input)."""


class QdpxError(InputFileError):
    """A REFI-QDA project or codebook that cannot be read or written."""


class ReportError(QualkitError):
    """A report run failed; ``notebook`` and ``cell`` say where."""

    def __init__(self, message: str, *, notebook: str = "", cell: int | None = None, hint: str = "") -> None:
        self.notebook = notebook
        self.cell = cell
        super().__init__(message, hint=hint)


class LeakError(QualkitError):
    """An output meant for sharing contains an original name or a contact pattern."""

    def __init__(self, path: str | Path, label: str, *, hint: str = "") -> None:
        self.path = str(path)
        self.label = label
        super().__init__(
            f"{path}: contains the original of {label}; the output is not safe to share",
            hint=hint or "run `qualkit pseudonymize` and check the project's deny list, then run again",
        )


class LimitError(InputFileError):
    """An untrusted file exceeds a resource limit (size, member count, compression ratio, YAML aliases).

    ``limit`` names the limit, ``value`` is what the file needs and ``allowed`` the current limit; the hint
    says which environment variable raises it.
    """

    def __init__(self, path: str | Path, reason: str, *, limit: str, value: int | float, allowed: int | float,
                 line: int | None = None, hint: str = "") -> None:
        self.limit = limit
        self.value = value
        self.allowed = allowed
        super().__init__(path, reason, line=line, hint=hint)


class SchedulerError(QualkitError):
    """Partitioned work cannot run where it was asked to (``--scheduler``): Dask missing or not reachable."""
class UnknownNameError(QualkitError, KeyError):
    """A name that does not exist in the project: a dimension, code, case variable or column.

    ``what`` says which kind of name, ``name`` the one asked for, ``valid`` the names that exist.  It is also a
    ``KeyError``, so code that looked names up in a mapping keeps working.
    """

    def __init__(self, what: str, name: str, valid: list[str] | tuple[str, ...], *, hint: str = "") -> None:
        self.what = what
        self.name = name
        self.valid = list(valid)
        shown = ", ".join(self.valid[:30]) + (" …" if len(self.valid) > 30 else "")
        super().__init__(f"unknown {what} {name!r}", hint=hint or f"valid {what} names: {shown or '(none)'}")
