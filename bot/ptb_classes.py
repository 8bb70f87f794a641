"""moviebot's subclasses of python-telegram-bot classes, each a small change to one PTB part.

- JournalingBot: getUpdates stores each batch (long polling) before PTB's updater can confirm it;
  while the journal cannot store, it backs off instead of confirming anything.
- JournalingQueue: the update queue's ``put`` stores each update (webhook mode) before PTB
  answers the POST that brought it; updates that arrive during a write share the next one.
- PerChatUpdateProcessor: updates of different chats at once, each chat's in arrival order.

What "store" means is handed in (``journal_with``): bot/delivery.py's ``BotRuntime.record``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor, ExtBot

log = logging.getLogger(__name__)

# Stores updates durably (BotRuntime.record); returns once they are in SQLite. An update that
# cannot be stored as it is, it stores in a harmless form; it raises when the storage fails.
Record = Callable[[list[Update]], Awaitable[None]]

# While the journal cannot store a batch (disk full, I/O errors), the batch is tried again after
# JOURNAL_RETRY_FIRST seconds, doubling up to JOURNAL_RETRY_MAX; nothing is confirmed meanwhile.
JOURNAL_RETRY_FIRST = 0.5
JOURNAL_RETRY_MAX = 30.0


class JournalingBot(ExtBot):
    """An ExtBot whose getUpdates stores each batch before returning it.

    PTB's updater confirms a batch with its next getUpdates, before the handlers have run; by
    then the batch is in SQLite, so a crash loses nothing. When storing fails, getUpdates keeps
    the batch and tries again with exponential back-off: PTB would otherwise log the error and
    poll again at once (thousands of polls a second while the disk is full), and confirming
    the batch unstored could lose it. One log line when storing starts failing, one when it
    works again.
    """

    __slots__ = ("_journal",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """An ExtBot (same arguments) that journals nothing until `journal_with`."""
        super().__init__(*args, **kwargs)
        self._journal: Record | None = None

    def journal_with(self, record: Record) -> None:
        """Store every batch getUpdates returns with `record` first."""
        self._journal = record

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        """Fetch a batch of updates and store it before returning it."""
        updates = await super().get_updates(*args, **kwargs)
        if updates and self._journal is not None:
            await _store_with_back_off(self._journal, list(updates))
        return updates


async def _store_with_back_off(record: Record, updates: list[Update]) -> None:
    """Store `updates`, waiting and trying again (exponential back-off) for as long as it fails."""
    delay, failing_since = JOURNAL_RETRY_FIRST, None
    while True:
        try:
            await record(updates)
        except Exception as error:
            if failing_since is None:
                failing_since = time.monotonic()
                log.error(
                    "cannot store updates (%s); nothing is confirmed to Telegram, trying again "
                    "with back-off up to %.0f s",
                    f"{type(error).__name__}: {error}",
                    JOURNAL_RETRY_MAX,
                    exc_info=error,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, JOURNAL_RETRY_MAX)
        else:
            if failing_since is not None:
                log.warning(
                    "storing updates works again after %.1f s",
                    time.monotonic() - failing_since,
                )
            return


class JournalingQueue(asyncio.Queue):
    """The application's update queue; in webhook mode its ``put`` stores the update first.

    PTB's webhook handler answers Telegram's POST (which confirms the update for good) only
    after ``update_queue.put`` returns, so storing the update inside ``put`` closes the window
    between "acknowledged" and "journaled". If storing fails the POST gets a 500 and Telegram
    delivers the update again later. ``put_nowait`` does not journal (used for updates that
    come from the journal).

    Group commit: Telegram POSTs up to 40 updates at once; the ones that arrive while a write
    is in progress are stored together in the next one, so they share one fsync instead of
    queueing for one each (bench/README.md, "Webhook mode").
    """

    def __init__(self) -> None:
        """An unbounded queue that journals nothing until `journal_with`."""
        super().__init__()
        self._journal: Record | None = None
        self._unstored: list[tuple[Update, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    def journal_with(self, record: Record) -> None:
        """Store every update put in the queue with `record` first."""
        self._journal = record

    async def put(self, item: Any) -> None:
        """Queue `item` once it is stored (an Update, when journaling)."""
        if self._journal is not None and isinstance(item, Update):
            stored = asyncio.get_running_loop().create_future()
            self._unstored.append((item, stored))
            if self._writer is None or self._writer.done():
                self._writer = asyncio.create_task(self._store_unstored(self._journal))
            await stored
        await super().put(item)

    async def _store_unstored(self, record: Record) -> None:
        """Store the waiting updates, all that arrived meanwhile in each write, until none is
        left; each waiting `put` learns whether its write failed."""
        while self._unstored:
            batch, self._unstored = self._unstored, []
            try:
                await record([update for update, _ in batch])
            except Exception as error:  # each waiting POST gets a 500; Telegram sends again
                for _, stored in batch:
                    if not stored.done():
                        stored.set_exception(error)
            else:
                for _, stored in batch:
                    if not stored.done():
                        stored.set_result(None)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Handle updates of different chats concurrently, and each chat's in arrival order.

    While one chat's answer is on its way to Telegram, another chat's update can be computed
    in the database thread. Updates start in queue order, so the first to ask for a chat's lock
    is the earliest; asyncio locks are fair (FIFO).
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        """Handle at most `max_concurrent_updates` updates at once."""
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}  # how many updates hold or wait for each lock

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update's handlers after the earlier updates of its chat."""
        key = _ordering_key(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def _ordering_key(update: object) -> int:
    """Updates with the same key are handled one after another: per chat, else per user."""
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return 0
