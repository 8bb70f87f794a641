"""Import files read off the database thread (issue 24: one 5,000-row file held every chat
for minutes).

An import file is read and planned in a worker thread of its own, with a snapshot of what it
needs from the database taken in the database thread first (the user's language and history,
the catalog's matcher with a title index cache of its own); the database thread then only
stores the plan and words the preview, a short step like any other answer. One file per user
at a time: a second one while the first is read is answered "still reading"; the same file
again within REPEAT_SECONDS is pointed at the preview already sent. One worker serves every
user, so imports queue behind each other and never take both cores from the chats.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor

from bot.commands.conversation import Conversation, Sender
from bot.files.history_import import Prepared
from bot.files.history_matching import CatalogMatcher

# The same file from the same user within this long is not read again.
REPEAT_SECONDS = 60


class ImportDesk:
    """Reads and plans import files in a worker thread, one per user at a time."""

    def __init__(self, repeat_seconds: float = REPEAT_SECONDS) -> None:
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="moviebot-import")
        self.repeat_seconds = repeat_seconds
        self.reading: set[int] = set()  # users whose file is being read
        self._recent: dict[tuple[int, bytes], float] = {}  # (user, digest) -> when read
        # The service's matcher, and its twin for the worker (built once per catalog).
        self._matchers: tuple[CatalogMatcher, CatalogMatcher] | None = None

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
            snapshot = await run_in_db(conversation.import_snapshot, sender)
            if self._matchers is None or self._matchers[0] is not snapshot.matcher:
                self._matchers = (snapshot.matcher, snapshot.matcher.for_another_thread())
            snapshot = type(snapshot)(snapshot.language, self._matchers[1], snapshot.history)
            prepared = await asyncio.get_running_loop().run_in_executor(
                self.worker, conversation.prepare_document, snapshot, name, data
            )
        finally:
            self.reading.discard(user)
        self._recent[key] = time.monotonic()
        return prepared

    def stop(self) -> None:
        """Let the worker finish what it reads and end."""
        self.worker.shutdown(wait=True)
