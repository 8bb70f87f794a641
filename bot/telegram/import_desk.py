"""Import files read off the database thread, in a process of their own (issue 24: one
5,000-row file held every chat for minutes).

An import file is read and planned in a worker process (a thread would still share the
interpreter lock with the event loop and the database thread: a 25,000-row file then held
every chat for 15 s). The worker opens the database read-only and keeps its own copy of the
catalog's matcher, built again when the catalog changes (storage.imports.catalog_key); the
user's language and history come from a snapshot taken in the database thread. The database
thread then only stores the plan and words the preview, a short step like any other answer.
The worker runs at a lower CPU priority, so the chats come first.

One file per user at a time: a second one while the first is read is answered "still
reading" (a private chat's updates are handled in order, so this is a backstop); the same file
again within REPEAT_SECONDS is pointed at the preview already sent. One worker serves every
user: imports queue behind each other.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bot.commands.conversation import Conversation, Sender
from bot.files.history_import import History, Prepared, prepare
from bot.ui import i18n
from storage import imports

# The same file from the same user within this long is not read again.
REPEAT_SECONDS = 60
# How much lower the worker's CPU priority is than the bot's (os.nice).
WORKER_NICENESS = 10


class ImportDesk:
    """Reads and plans import files in a worker process, one per user at a time."""

    def __init__(self, db_path: Path, repeat_seconds: float = REPEAT_SECONDS) -> None:
        """Nothing runs until the first file (the worker process starts then)."""
        self.db_path = Path(db_path)
        self.repeat_seconds = repeat_seconds
        self.reading: set[int] = set()  # users whose file is being read
        self._recent: dict[tuple[int, bytes], float] = {}  # (user, digest) -> when read
        self._worker: ProcessPoolExecutor | None = None

    async def prepare(
        self, run_in_db, conversation: Conversation, sender: Sender, name: str, data: bytes
    ) -> Prepared:
        """The file read and planned (or refused: busy, a repeat); `run_in_db` runs a
        function in the database thread (BotRuntime.run)."""
        user = sender.user_id
        if user in self.reading:
            return Prepared(refused="busy")
        now = time.monotonic()
        self._recent = {k: t for k, t in self._recent.items() if now - t < self.repeat_seconds}
        key = (user, hashlib.sha256(data).digest())
        if key in self._recent:
            return Prepared(refused="repeat", seconds=max(1, round(now - self._recent[key])))
        self.reading.add(user)
        try:
            language, history, catalog = await run_in_db(_snapshot, conversation, sender)
            if self._worker is None:
                self._worker = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=os.nice,
                    initargs=(WORKER_NICENESS,),
                )
            prepared = await asyncio.get_running_loop().run_in_executor(
                self._worker, _plan, str(self.db_path), catalog, language, history, name, data
            )
        finally:
            self.reading.discard(user)
        self._recent[key] = time.monotonic()
        return prepared

    def stop(self) -> None:
        """Let the worker finish what it reads and end."""
        if self._worker is not None:
            self._worker.shutdown(wait=True)


def _snapshot(conversation: Conversation, sender: Sender) -> tuple[str, History, tuple]:
    """(language, history, catalog key) of the sender, read in the database thread."""
    db = conversation.db
    snapshot = conversation.import_snapshot(sender)
    return snapshot.language, snapshot.history, imports.catalog_key(db)


# The worker process's matcher and the catalog key it was built for.
_matcher: tuple[tuple, object] | None = None


def _plan(
    db_path: str, catalog: tuple, language: str, history: History, name: str, data: bytes
) -> Prepared:
    """In the worker process: read and plan the file against its copy of the catalog."""
    global _matcher
    from bot.files.history_matching import CatalogMatcher
    from storage.db import connect_read_only

    if _matcher is None or _matcher[0] != catalog:
        db = connect_read_only(db_path)
        try:
            _matcher = (catalog, CatalogMatcher(db))
        finally:
            db.close()
    with i18n.speaking(language):
        return prepare(data, name, _matcher[1], history)
