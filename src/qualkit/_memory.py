"""Giving memory a stage has freed back to the system, before the next stage (and the workers it forks) runs.

CPython frees a large object to the C allocator, and glibc's allocator keeps freed memory for reuse instead of
returning it: after the ingest of a large corpus the report's client kept the pages of every document it had
read and written (at ×100, about a third of its memory), and every worker forked later shares, and may copy,
them.  ``malloc_trim(0)`` returns every whole free page.  Elsewhere (another C library, another system) this is
a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
from typing import Any


@functools.cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_memory() -> bool:
    """Collect garbage, then return the allocator's free pages to the system; whether the system allows it
    (glibc)."""
    gc.collect()
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
