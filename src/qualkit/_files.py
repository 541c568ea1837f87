"""Private files and folders: the project state (``.qualkit/``), the store and the pseudonym mapping.

They hold personal data (transcripts, original names), so on a shared server no other user may read them:
folders are ``0700``, files ``0600``.  They are created so, and an existing one that is open to others is
repaired, with a warning that says what was found (another user may already have read it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

__all__ = ["PRIVATE_DIR_MODE", "PRIVATE_FILE_MODE", "private_dir", "private_file", "write_private_text"]

log = logging.getLogger("qualkit")
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def _repair(path: Path, mode: int) -> None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    current = stat.S_IMODE(st.st_mode)
    if current & 0o077:
        try:
            path.chmod(mode)
        except PermissionError:
            log.warning("%s is readable by other users (mode %o) and cannot be made private: it belongs to another "
                        "user; ask them or an administrator to run: chmod %o %s", path, current, mode, path)
            return
        log.warning("%s was readable by other users (mode %o); made private (%o). Others may have read it "
                    "before; on a shared server check who had access", path, current, mode)


def private_dir(path: str | Path) -> Path:
    """Create ``path`` (and missing parents) as a folder only its owner can open; repair it if it is open."""
    p = Path(path)
    if not p.is_dir():
        p.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    _repair(p, PRIVATE_DIR_MODE)
    return p


def private_file(path: str | Path) -> Path:
    """Create ``path`` empty if missing, as a file only its owner can read; repair it if it is open."""
    p = Path(path)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    if p.is_file():  # a folder in its place is left alone; opening it fails with its own message
        _repair(p, PRIVATE_FILE_MODE)
    return p


def write_private_text(path: str | Path, text: str) -> None:
    """Replace ``path`` atomically with ``text`` (UTF-8), created ``0600`` from the start."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, PRIVATE_FILE_MODE)  # an existing tmp file keeps its mode through O_TRUNC
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
