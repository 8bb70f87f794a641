"""A full disk for one running process, for real: its file-size limit drops to a page.

    with disk_full(bot.pid):
        ...  # every write of the bot's past the first 4 KiB of a file fails (EFBIG)

RLIMIT_FSIZE makes each write() beyond the limit fail the way a full disk does (Python ignores
the SIGXFSZ that comes with it); SQLite reports "disk I/O error" and rolls back, and works again
once the limit is lifted. Pipes (the process's stderr) are not files: logging still works.
"""

from __future__ import annotations

import resource
from collections.abc import Iterator
from contextlib import contextmanager

FULL_AT = 4096


@contextmanager
def disk_full(pid: int) -> Iterator[None]:
    """Process `pid` cannot write past FULL_AT bytes of any file until the block ends."""
    before = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (FULL_AT, before[1]))
    try:
        yield
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, before)
