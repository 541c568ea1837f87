from __future__ import annotations

import sys

import psutil


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


def test_memory_freed_pages_go_back_to_the_system() -> None:
    """Freed large objects amid kept ones: the allocator keeps their pages until release_memory returns them."""
    from qualkit._memory import release_memory
    assert sys.platform == "linux"  # the suite runs on Linux with glibc, where this is what the report relies on
    release_memory()
    blocks = [bytes(4000) + i.to_bytes(4, "little") for i in range(60_000)]  # about 240 MB of heap
    kept = blocks[::50]  # one block in fifty stays: the heap cannot shrink from its top
    del blocks
    before = _rss()
    assert release_memory() is True
    after = _rss()
    assert before - after > 150 * 2**20 and len(kept) == 1_200
