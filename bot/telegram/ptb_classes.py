"""moviebot's subclasses of python-telegram-bot classes, each a small change to one PTB part.

- JournalingBot: getUpdates stores each batch (long polling) before PTB's updater can confirm it;
  while the journal cannot store, it backs off instead of confirming anything. Each raw update
  is parsed alone: one PTB cannot parse is replaced by its stand-in (`readable`), so it is
  quarantined and confirmed past instead of failing the whole batch again and again.
- JournalingQueue: the update queue's ``put`` stores each update (webhook mode) before PTB
  answers the POST that brought it; updates that arrive during a write share the next one.
- PerChatUpdateProcessor: updates of different chats at once, each chat's in arrival order;
  a chat's backlog waits without a slot, a user beyond the rate limit waits for everyone else,
  and a tap is answered within Telegram's window however long its turn takes.

What "store" means is handed in (``journal_with``): bot/telegram/delivery.py's
``BotRuntime.record``.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import BaseUpdateProcessor, ExtBot

from bot.telegram import metrics
from bot.telegram.sending import answer_goes
from bot.ui import i18n
from bot.ui.i18n import N_, _

log = logging.getLogger(__name__)

# Stores updates durably (BotRuntime.record); returns once they are in SQLite. An update that
# cannot be stored as it is, it stores in a harmless form; it raises when the storage fails.
Record = Callable[[list[Update]], Awaitable[None]]

# While the journal cannot store a batch (disk full, I/O errors), the batch is tried again after
# JOURNAL_RETRY_FIRST seconds, doubling up to JOURNAL_RETRY_MAX; nothing is confirmed meanwhile.
# A try holds the batch and never polls Telegram: it costs one failed SQLite write, so the cap
# is short, and updates are answered within about 2 s of the disk coming back (issue 15).
JOURNAL_RETRY_FIRST = 0.5
JOURNAL_RETRY_MAX = 2.0
# PTB's updater polls again at once after an error that is not a TelegramError (it backs off
# only for those); getUpdates waits before such an error reaches it, POLL_RETRY_FIRST seconds,
# doubling up to POLL_RETRY_MAX while they go on, so polling never spins.
POLL_RETRY_FIRST = 1.0
POLL_RETRY_MAX = 30.0
# The key of a quarantined update's marker in its stand-in and journal payload (read by
# bot/delivery.py's BotRuntime.admit, which tells the chat in it, if any, and closes it).
UNREADABLE_KEY = "unreadable"


def readable(raw: object, bot: Any) -> dict[str, Any] | None:
    """`raw` (one update as Telegram sent it) if python-telegram-bot can parse it; else its
    stand-in: the update id and a marker (the error's name, and the private chat to tell),
    nothing of its content, which is logged once (ids only) and counted. None when even the
    update id is missing: nothing can be done with it.

    Telegram and PTB disagree about a field now and then (a new required field PTB does not
    know is optional, issue 24): the update is skipped rather than every update after it."""
    try:
        Update.de_json(raw, bot)  # type: ignore[arg-type]
    except Exception as error:
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if isinstance(update_id, bool) or not isinstance(update_id, int):
            log.warning("an update without an id could not be read (%s)", type(error).__name__)
            return None
        metrics.update_unreadable()
        log.warning(
            "update %d could not be read by python-telegram-bot (%s); quarantined",
            update_id,
            type(error).__name__,
        )
        marker: dict[str, Any] = {"error": type(error).__name__}
        chat_id = _private_chat(raw)
        if chat_id is not None:
            marker["chat"] = {"id": chat_id}
        return {"update_id": update_id, UNREADABLE_KEY: marker}
    return raw  # type: ignore[return-value]


def _private_chat(raw: dict[str, Any]) -> int | None:
    """The private chat an unreadable update came from (its sender is told), else None."""
    message = raw.get("message") or raw.get("edited_message")
    chat = message.get("chat") if isinstance(message, dict) else None
    if isinstance(chat, dict) and chat.get("type") == "private":
        chat_id = chat.get("id")
        if isinstance(chat_id, int) and not isinstance(chat_id, bool):
            return chat_id
    return None


class JournalingBot(ExtBot):
    """An ExtBot whose getUpdates stores each batch before returning it.

    PTB's updater confirms a batch with its next getUpdates, before the handlers have run; by
    then the batch is in SQLite, so a crash loses nothing. When storing fails, getUpdates keeps
    the batch and tries again with exponential back-off: PTB would otherwise log the error and
    poll again at once (thousands of polls a second while the disk is full), and confirming
    the batch unstored could lose it. One log line when storing starts failing, one when it
    works again.

    Chat actions ("typing...") skip the rate limiter: it bounds the messages Telegram bounds
    (~30/s across chats), and a typing indicator queued there took a share of that budget from
    the answers (667 of 2,667 calls in a load run). They are shown only for slow answers, and
    an answer entering the limiter drops its own that is not shown yet (sending.py).
    """

    __slots__ = ("_journal", "_poll_delay")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """An ExtBot (same arguments) that journals nothing until `journal_with`."""
        super().__init__(*args, **kwargs)
        self._journal: Record | None = None
        self._poll_delay = 0.0

    def journal_with(self, record: Record) -> None:
        """Store every batch getUpdates returns with `record` first."""
        self._journal = record

    async def _do_post(self, endpoint: str, data: Any, **kwargs: Any) -> Any:
        """Send a Bot API request: through ExtBot's rate limiter, chat actions straight. A
        call that sends or changes something is the answer going: the chat action waiting to
        be shown for it (bot/telegram/sending.py) is dropped."""
        if endpoint == "sendChatAction":
            # Bot._do_post is the call ExtBot wraps with its limiter (PTB's documented hook).
            return await Bot._do_post(self, endpoint, data, **kwargs)
        if not endpoint.startswith("get"):
            answer_goes()
        return await super()._do_post(endpoint, data, **kwargs)

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        """Fetch a batch of updates and store it before returning it; wait before an error
        PTB's updater would poll again at once after."""
        try:
            updates = await super().get_updates(*args, **kwargs)
        except TelegramError:
            raise  # the updater's retry loop backs off for these
        except Exception:
            self._poll_delay = min(max(self._poll_delay * 2, POLL_RETRY_FIRST), POLL_RETRY_MAX)
            await asyncio.sleep(self._poll_delay)
            raise
        self._poll_delay = 0.0
        metrics.fetched()
        if updates and self._journal is not None:
            await _store_with_back_off(self._journal, list(updates))
        return updates

    async def _post(self, endpoint: str, *args: Any, **kwargs: Any) -> Any:
        """Bot API calls as PTB makes them; getUpdates' raw updates are each checked before
        PTB parses the batch, an unreadable one replaced by its stand-in (`readable`)."""
        result = await super()._post(endpoint, *args, **kwargs)
        if endpoint != "getUpdates" or not isinstance(result, list):
            return result
        return [stand_in for raw in result if (stand_in := readable(raw, self)) is not None]


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
        if isinstance(item, Update):
            metrics.update_received(item)
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


# A user may send RATE_BURST updates at once, then RATE_PER_SECOND; beyond that their updates
# are still handled, in order, but only when no one within the limit waits for a slot.
RATE_BURST = 20
RATE_PER_SECOND = 2.0
SLOW_DOWN = N_("You're sending messages faster than I can answer; I'll catch up.")
# A tap still waiting for its turn this long after it arrived is answered at once (an empty
# answer: the spinner stops), within Telegram's 15 s; its toast is then not sent.
TAP_ANSWER_SECONDS = 8.0
# The slots PTB's own semaphore would hand out before an update's chat is free: unbounded, the
# processor gives out its own slots only to updates whose chat can go.
_UNBOUNDED = 2**30
# Slot priorities, the lowest first: taps, other updates within the rate, updates beyond it.
_TAP, _WITHIN_RATE, _BEYOND_RATE = 0, 1, 2


class TapAnswers:
    """Who answers each tap (callback query): its delivery, with the answer's toast, or the
    update processor when the tap waited too long for its turn. The first to claim it does."""

    def __init__(self) -> None:
        """No tap claimed yet."""
        self._claimed: set[int] = set()

    def claim(self, update_id: int) -> bool:
        """True for the first caller: it answers the tap; False for any later one."""
        if update_id in self._claimed:
            return False
        self._claimed.add(update_id)
        return True

    def forget(self, update_id: int) -> None:
        """The tap's update is handled: nothing left to claim."""
        self._claimed.discard(update_id)


class _Slots:
    """A semaphore whose waiters get a freed slot by priority (lowest first), then in order."""

    def __init__(self, count: int) -> None:
        self._free = count
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def acquire(self, priority: int) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        granted = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), granted))
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self.release()  # granted just as it was cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiting:
            _, _, granted = heapq.heappop(self._waiting)
            if not granted.done():
                granted.set_result(None)
                return
        self._free += 1


@dataclass
class _Held:
    """The slot an update's handlers run in (a context variable of its task)."""

    slots: _Slots
    priority: int
    holding: bool = True


_held: contextvars.ContextVar[_Held | None] = contextvars.ContextVar("held_slot", default=None)


async def wait_without_slot(seconds: float) -> None:
    """Wait `seconds` inside an update's handler, lending its slot to other chats meanwhile
    (a delivery waiting to retry); the update keeps its chat's turn, so the chat's later
    updates still wait for it."""
    held = _held.get()
    if held is None or not held.holding:
        await asyncio.sleep(seconds)
        return
    held.holding = False
    held.slots.release()
    try:
        await asyncio.sleep(seconds)
    finally:
        await held.slots.acquire(held.priority)
        held.holding = True


@dataclass
class _Bucket:
    """A user's token bucket (RATE_BURST, refilled at RATE_PER_SECOND) and whether they were
    told to slow down during this burst."""

    tokens: float
    at: float
    told: bool = False


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Handle updates of different chats concurrently, and each chat's in arrival order.

    An update first waits for its chat's turn (a FIFO lock per chat), holding nothing; only then
    does it take one of the `max_concurrent_updates` slots. So a chat's backlog (1,000 messages
    from one chat) holds at most one slot, and the other chats get the rest. Freed slots go to
    taps first, then to updates within their sender's rate (RATE_BURST, RATE_PER_SECOND), then
    to updates beyond it: those are handled all the same (each may carry a score to keep) but
    after everyone else, and their sender is told SLOW_DOWN once per burst. A tap that waits
    longer than TAP_ANSWER_SECONDS is answered at once, within Telegram's 15 s (`taps`).
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        """Handle at most `max_concurrent_updates` updates at once."""
        super().__init__(_UNBOUNDED)
        self.slots = max_concurrent_updates
        self.taps = TapAnswers()
        self._slots = _Slots(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}  # how many updates hold or wait for each lock
        self._buckets: dict[int, _Bucket] = {}
        self._calls = 0
        self._background: set[asyncio.Task[Any]] = set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update's handlers after the earlier updates of its chat, in a free slot."""
        key = _ordering_key(update)
        priority = self._priority(update)
        early_answer = self._answer_tap_later(update)
        started = metrics.clock()
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await self._slots.acquire(priority)
                held = _Held(self._slots, priority)
                token = _held.set(held)
                try:
                    await coroutine
                finally:
                    _held.reset(token)
                    if held.holding:
                        self._slots.release()
        finally:
            metrics.update_handled(started)
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key], self._locks[key]
            if early_answer is not None:
                early_answer.cancel()
                self.taps.forget(update.update_id)  # type: ignore[attr-defined]

    def _priority(self, update: object) -> int:
        """The update's slot priority; tells its sender to slow down when it is the first of
        theirs beyond the rate in this burst."""
        if not isinstance(update, Update) or update.effective_user is None:
            return _WITHIN_RATE
        now = time.monotonic()
        self._forget_calm_users(now)
        bucket = self._buckets.setdefault(update.effective_user.id, _Bucket(RATE_BURST, now))
        bucket.tokens = min(RATE_BURST, bucket.tokens + (now - bucket.at) * RATE_PER_SECOND)
        bucket.at = now
        if bucket.tokens >= RATE_BURST / 2:
            bucket.told = False  # calm again: a new burst is told again
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return _TAP if update.callback_query is not None else _WITHIN_RATE
        if not bucket.told and update.effective_chat is not None:
            bucket.told = True
            user = update.effective_user
            # Telegram's language: no database read on this path, which runs before any.
            with i18n.speaking(user.language_code if user else None):
                slow_down = _(SLOW_DOWN)
            chat_id = update.effective_chat.id
            self._in_background(update.get_bot().send_message(chat_id, slow_down))
        return _BEYOND_RATE

    def _forget_calm_users(self, now: float) -> None:
        """Now and then, drop the buckets that have refilled (their users are calm): only
        users in a burst are kept in memory."""
        self._calls += 1
        if self._calls % 1000:
            return
        for user_id, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.at) * RATE_PER_SECOND >= RATE_BURST:
                del self._buckets[user_id]

    def _answer_tap_later(self, update: object) -> asyncio.TimerHandle | None:
        """For a tap: answer it after TAP_ANSWER_SECONDS unless its delivery did by then."""
        if not isinstance(update, Update) or update.callback_query is None:
            return None
        query, update_id = update.callback_query, update.update_id

        def answer_now() -> None:
            if self.taps.claim(update_id):
                self._in_background(query.answer())

        return asyncio.get_running_loop().call_later(TAP_ANSWER_SECONDS, answer_now)

    def _in_background(self, call: Awaitable[Any]) -> None:
        """Send `call` without waiting for it; a failure is logged (a courtesy message)."""

        async def send() -> None:
            try:
                await call
            except Exception as error:
                log.warning("could not send a notice (%s)", error)

        task = asyncio.create_task(send())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

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
