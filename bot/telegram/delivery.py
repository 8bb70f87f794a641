"""Nothing acknowledged is lost: the life of one Telegram update, kept in storage/journal.py.

    recorded ──► answered ──► delivered 1 .. n-1 ──► done
        │            │  ▲              │
        │            │  └── failed ◄───┘  Telegram failed (5xx, flood control, timeout):
        │            │                    attempts + 1; delivery resumes after the last step
        │            │                    delivered, with the stored answer, 1, 2, 4 ... s
        │            │                    later while the chat's later updates wait.
        │            │                    Dropped a day after the update came (logged,
        │            │                    counted): owed answers survive restarts.
        │            ├──► done, with the error, when Telegram refuses for good (blocked, chat
        │            │    gone) or sending failed on our side (apologised for once)
        │            └──► done, with the error, when computing the answer raised (apologised for)
        └──► done when no handler answers (group chatter, another bot's command)

- recorded: the update is in SQLite before Telegram is told it arrived (JournalingBot's
  getUpdates, or JournalingQueue's put in webhook mode; `BotRuntime.record`). On start every
  update that is not done is put back in the queue (`requeue_unfinished`). An update that
  cannot be stored as it is (a lone surrogate in its text, an id out of range) is
  quarantined: stored as its id and a marker (who to tell, no content), answered with
  UNREADABLE, then done; the rest of its batch goes on at once.
- answered: the answer (an Outcome) is stored in the same transaction as its effects
  (`BotRuntime.answer_of`). Answers asked for while the database thread is busy are computed
  together and committed at once (group commit, one fsync), each in a savepoint so a failing
  one is rolled back alone.
- delivered n: step n of the answer went out (the tap's toast, the edit, each reply), so a
  resumed delivery sends only what is left; a `kill -9` can at most send the step each update
  in flight was sending twice.
- done: an update id that is done is skipped (`BotRuntime.admit`): a redelivered update is
  answered once.

All SQLite work happens in the one database thread (`BotRuntime.run`); the event loop only waits
for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from telegram import (
    Update,
)
from telegram.constants import ChatType
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.commands.conversation import Conversation
from bot.service import MovieService
from bot.telegram import metrics
from bot.telegram.http_request import ConnectTimedOut
from bot.telegram.ptb_classes import UNREADABLE_KEY, TapAnswers, wait_without_slot
from bot.telegram.redact import redact
from bot.telegram.sending import PARSE_MODE, markup, preview, send_reply, thread_of
from bot.ui import i18n
from bot.ui.i18n import N_, _
from bot.ui.replies import Outcome, outcome_from_json, outcome_to_json
from storage import journal
from storage.db import seconds_since, truncate_wal
from storage.errors import InvalidArgument
from storage.validate import check_id

log = logging.getLogger(__name__)

# A delivery that keeps failing is retried (BotSettings' delivery_retry_* seconds apart,
# across restarts) until owed_seconds after its update came, then dropped (logged, counted);
# this many attempts is only a backstop (abandoned: kept, not retried, counted by stats).
MAX_DELIVERY_ATTEMPTS = journal.MAX_ATTEMPTS
# A delivery's progress (delivered n, failed, done) that cannot be written because the disk is
# full or failing is written again after PROGRESS_RETRY_FIRST seconds, doubling up to
# PROGRESS_RETRY_MAX, for as long as it takes: the answer went out, so it is neither an error
# to apologise for nor a reason to send it again.
PROGRESS_RETRY_FIRST = 0.5
PROGRESS_RETRY_MAX = 2.0
# What SQLite says when the storage, not the statement, is at fault.
_STORAGE_TROUBLE = ("full", "disk i/o", "locked", "busy", "readonly", "unable to open")
# What the sender of an update that cannot be stored is told.
UNREADABLE = N_("Sorry, I could not read that message. Please send it again in other words.")
# Telegram answers these when a step already happened (a retried delivery): treat as done.
_ALREADY_DONE = (
    "message is not modified",
    "query is too old",
    "query id is invalid",
    "poll has already been closed",
)


@dataclass(frozen=True)
class DeliveryPolicy:
    """How long an answer Telegram would not take (5xx, timeouts) is owed: retries from
    `retry_first_seconds` doubling to `retry_max_seconds`, across restarts, until `owed_seconds`
    after the update arrived (Telegram's own redelivery window); then dropped (logged,
    counted), as are the oldest beyond `max_owed` owed at once."""

    retry_first_seconds: float = 1.0
    retry_max_seconds: float = 60.0
    owed_seconds: float = 86_400.0
    max_owed: int = 10_000


class BotRuntime:
    """The life of updates, shared by the handlers: the conversation, the journal and the one
    thread that touches SQLite."""

    def __init__(
        self,
        service: MovieService,
        conversation: Conversation,
        policy: DeliveryPolicy | None = None,
    ) -> None:
        """Nothing running yet: the database thread starts with the first `run`."""
        self.service = service
        self.conversation = conversation
        self.policy = policy or DeliveryPolicy()
        self.db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="moviebot-db")
        # Journal entries of admitted updates, read in the DB thread only.
        self._admitted: dict[int, journal.JournalEntry | None] = {}
        # Quarantined updates (BotRuntime.record) not answered yet: update id -> the chat to
        # tell (None: tell nobody). Kept here too for ids the journal cannot hold.
        self.unreadable: dict[int, int | None] = {}
        self._telling: set[int] = set()  # quarantined updates whose apology is on its way
        # Who answers each tap, its delivery or the update processor (set by the app).
        self.taps: TapAnswers | None = None
        # Whether the application still runs (set by the app): a delivery waiting to retry
        # stops waiting when it stops, and is resumed on the next start.
        self.running: Callable[[], bool] = lambda: True
        # Updates a handler answered (or closed); the event loop's own bookkeeping.
        self.answered: set[int] = set()
        # Answers waiting to be computed, and the task that computes them in batches.
        self._waiting: list[tuple[int, Callable[[], Outcome], asyncio.Future]] = []
        self._work = asyncio.Event()
        self._committer: asyncio.Task | None = None

    @property
    def db(self):
        """The service's database connection (used in the database thread only)."""
        return self.service.db

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run `function(*args)` in the database thread without blocking the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.db_thread, function, *args)

    async def record(self, updates: list[Update]) -> None:
        """Store received updates (recorded), before Telegram learns they arrived.

        An update that cannot be stored as it is, is quarantined (`_quarantined`) and the rest
        are stored with it; only a failing write raises (the disk, not an update: the caller
        backs off and tries the batch again)."""
        rows = []
        for update in updates:
            try:
                rows.append(journal_row(update))
            except Exception as error:
                rows.extend(self._quarantined(update, error))
        if rows:
            await self.run(journal.record_updates, self.db, rows)

    def _quarantined(self, update: Update, error: Exception) -> list[tuple[int, str]]:
        """The journal row standing for an update that cannot be stored: its id and a marker
        with the chat to apologise to, none of its content; no row when even the id cannot be
        stored (then only this process remembers to apologise)."""
        chat_id = _chat_to_tell(update, self.conversation)
        self.unreadable[update.update_id] = chat_id
        log.warning(
            "update %s cannot be stored (%s); quarantined", update.update_id, type(error).__name__
        )
        try:
            update_id = check_id(update.update_id, "update id")
        except InvalidArgument:
            return []
        marker = {"update_id": update_id, UNREADABLE_KEY: {"error": type(error).__name__}}
        if chat_id is not None:
            marker[UNREADABLE_KEY]["chat"] = {"id": chat_id}
        return [(update_id, json.dumps(marker))]

    def admit(self, update: Update) -> bool | int | None:
        """Whether to handle `update`: False when it is already done. Records it if nothing
        has (an update put in the queue by other code) and remembers its journal entry for
        the answer. A quarantined update is not handled: then the chat to tell (an int, or
        None for nobody)."""
        try:
            entry = journal.get_entry(self.db, update.update_id)
        except InvalidArgument as error:  # an id the journal cannot hold
            if update.update_id not in self.unreadable:
                self._quarantined(update, error)
            return self._to_tell(update.update_id, self.unreadable[update.update_id])
        if entry is None:
            try:
                row = journal_row(update)
            except Exception as error:
                journal.record_updates(self.db, self._quarantined(update, error))
                return self._to_tell(update.update_id, self.unreadable[update.update_id])
            journal.record_updates(self.db, [row])
        elif entry.done:
            self.unreadable.pop(update.update_id, None)
            return False
        else:
            marker = json.loads(entry.payload).get(UNREADABLE_KEY)
            if isinstance(marker, dict):  # quarantined, its sender not told yet
                return self._to_tell(update.update_id, (marker.get("chat") or {}).get("id"))
        self._admitted[update.update_id] = entry
        return True

    def _to_tell(self, update_id: int, chat_id: int | None) -> int | None | bool:
        """`chat_id`, the first time a quarantined update is admitted; False while its
        apology is on its way (the same update redelivered, or requeued, meanwhile)."""
        if update_id in self._telling:
            return False
        self._telling.add(update_id)
        return chat_id

    async def answer_of(
        self, update_id: int, compute: Callable[[], Outcome]
    ) -> tuple[Outcome, int]:
        """The update's answer and how many of its steps went out already, once the answer
        and its effects are committed (answered).

        Group commit: answers asked for while the database thread is busy are computed
        together and committed in one transaction, so concurrent chats share one fsync.
        """
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((update_id, compute, future))
        self._work.set()
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_batches())
        return await future

    async def _commit_batches(self) -> None:
        """Compute and commit the waiting answers, a batch at a time, for as long as asked."""
        while True:
            await self._work.wait()
            self._work.clear()
            batch, self._waiting = self._waiting, []
            try:
                results = await self.run(self._compute_batch, [(u, c) for u, c, _ in batch])
            except Exception as error:  # the commit itself failed: every answer in it did
                results = [error] * len(batch)
            for (_update, _compute, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    def _compute_batch(
        self, batch: list[tuple[int, Callable[[], Outcome]]]
    ) -> list[tuple[Outcome, int] | Exception]:
        """In the database thread: every answer in one transaction, each in a savepoint so a
        failing one is rolled back alone (its effects and its stored answer together)."""
        results: list[tuple[Outcome, int] | Exception] = []
        with self.db.atomic():
            for update_id, compute in batch:
                try:
                    with self.db.atomic():
                        results.append(self._stored_or_computed(update_id, compute))
                except Exception as error:
                    results.append(error)
        return results

    def _stored_or_computed(
        self, update_id: int, compute: Callable[[], Outcome]
    ) -> tuple[Outcome, int]:
        """The stored answer to `update_id`, or compute and store it; inside the savepoint
        of `_compute_batch`, which commits the effects and the answer together."""
        entry = self._admitted.pop(update_id, None)
        if entry is not None and entry.outcome is not None:
            return outcome_from_json(entry.outcome), entry.delivered
        outcome = compute()
        journal.save_outcome(self.db, update_id, outcome_to_json(outcome))
        return outcome, 0

    async def stop(self) -> None:
        """Stop committing and let the database thread finish its work."""
        if self._committer is not None:
            self._committer.cancel()
        self.db_thread.shutdown(wait=True)

    def close_unreadable(self, update_id: int) -> None:
        """Mark a quarantined update done, once its sender was told (when the journal has it)."""
        self.unreadable.pop(update_id, None)
        self._telling.discard(update_id)
        with contextlib.suppress(InvalidArgument):
            journal.mark_done(self.db, check_id(update_id, "update id"))

    def close(self, update_id: int) -> None:
        """Mark an update no handler answered as done; group chatter not for the bot is not
        kept at all."""
        self._admitted.pop(update_id, None)
        entry = journal.get_entry(self.db, update_id)
        if entry is not None and _is_chatter(json.loads(entry.payload), self.conversation):
            journal.discard(self.db, update_id)
        else:
            journal.mark_done(self.db, update_id)


def journal_row(update: Update) -> tuple[int, str]:
    """The update as the journal keeps it, (update id, payload JSON); raises when it cannot be
    stored as it is (a text SQLite cannot encode, an id out of range, unserialisable data)."""
    payload = json.dumps(update.to_dict(), ensure_ascii=False)
    payload.encode("utf-8")  # a lone surrogate (invalid UTF-8) raises here, not in SQLite
    return check_id(update.update_id, "update id"), payload


def _chat_to_tell(update: Update, conversation: Conversation) -> int | None:
    """Where to say that `update` could not be read: its private chat, or a group when it was
    addressed to the bot; None otherwise (group chatter, inline queries) or when unknown."""
    try:
        chat = update.effective_chat
        if chat is None:
            return None
        if chat.type != ChatType.PRIVATE and _is_chatter(update.to_dict(), conversation):
            return None
        return check_id(chat.id, "chat id")
    except Exception:  # an update this odd gets no apology; it is still closed
        return None


async def admit(update: Update, rt: BotRuntime) -> bool:
    """Whether to handle `update` (`BotRuntime.admit`); a quarantined one is answered with
    UNREADABLE instead (a tap: its toast too) and closed."""
    verdict = await rt.run(rt.admit, update)
    if verdict is True or verdict is False:
        return verdict
    user = update.effective_user
    # Telegram's language: the update could not be stored, nor its sender's choice read.
    with i18n.speaking(user.language_code if user else None):
        unreadable = _(UNREADABLE)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(unreadable)
        elif verdict is not None:
            await update.get_bot().send_message(verdict, unreadable)
    except TelegramError as error:  # the apology is a courtesy: the update is closed anyway
        log.warning("update %s: could not send the apology (%s)", update.update_id, error)
    await rt.run(rt.close_unreadable, update.update_id)
    return False


def _is_chatter(payload: dict[str, Any], conversation: Conversation) -> bool:
    """A group message not addressed to the bot: not a command, not a reply to the bot."""
    message = payload.get("message") or payload.get("edited_message")
    if not isinstance(message, dict) or message.get("chat", {}).get("type") == "private":
        return False
    text = message.get("text") or message.get("caption") or ""
    if text.startswith("/"):
        return False
    replied = (message.get("reply_to_message") or {}).get("from") or {}
    to_bot = replied.get("is_bot") and replied.get("username") == conversation.bot_username
    return not to_bot


async def answer(update: Update, rt: BotRuntime, compute: Callable[[], Outcome]) -> None:
    """Answer `update` with what `compute` returns, exactly once: store it, then deliver it.

    Every update ends done: delivered; refused by Telegram for good (blocked, chat gone:
    logged); failed on our side (a bug while sending, e.g. drawing a chart: the error handler
    apologises once); or, when Telegram keeps failing (5xx, flood control, timeouts), tried
    again after BotSettings.delivery_retry_first_seconds, doubling up to
    delivery_retry_max_seconds, across restarts, until owed_seconds (a day) after the update
    came: then dropped (logged, counted). The
    chat's later updates wait meanwhile (its order is kept); other chats get the slot.
    """
    rt.answered.add(update.update_id)
    try:
        outcome, delivered = await rt.answer_of(update.update_id, compute)
    except Exception as error:
        # A bug or a broken database: handling it again would fail again. Apologise (the
        # error handler) and close the update.
        await rt.run(journal.mark_done, rt.db, update.update_id, f"{type(error).__name__}")
        raise
    while True:
        try:
            await deliver(update, rt, outcome, delivered)
            return
        except (Forbidden, BadRequest, ChatMigrated) as error:
            # Blocked, kicked, deactivated, chat not found, a message that cannot be sent:
            # sending again would be refused again.
            log.warning(
                "update %d: Telegram refused the answer for good (%s); closed",
                update.update_id,
                error,
            )
            await write_progress(
                rt, journal.mark_done, rt.db, update.update_id, stored_error(error)
            )
            return
        except TelegramError as error:
            attempts = await write_progress(
                rt, journal.mark_failed, rt.db, update.update_id, stored_error(error)
            )
            metrics.delivery_failed()
            received = await rt.run(journal.received_at, rt.db, update.update_id)
            if seconds_since(received) >= rt.policy.owed_seconds:
                await write_progress(
                    rt, journal.mark_done, rt.db, update.update_id, journal.GIVEN_UP
                )
                metrics.deliveries_dropped()
                log.error(
                    "update %d: owed answer dropped, still failing after %d attempts over "
                    "%.0f s (%s)",
                    update.update_id,
                    attempts,
                    seconds_since(received),
                    error,
                )
                return
            if not rt.running():
                log.info("update %d: delivery resumes on the next start", update.update_id)
                return
            if attempts >= MAX_DELIVERY_ATTEMPTS:
                log.error(
                    "update %d: delivery abandoned after %d attempts", update.update_id, attempts
                )
                return
            wait = retry_wait(attempts, error, rt.policy)
            log.warning(
                "update %d: delivery failed (%s); will retry in %.1f s (attempt %d)",
                update.update_id,
                error,
                wait,
                attempts + 1,
            )
            metrics.delivery_retried()
            deadline = time.monotonic() + wait
            while rt.running() and (left := deadline - time.monotonic()) > 0:
                await wait_without_slot(min(left, 1.0))  # a stop does not wait for it
            entry = await rt.run(journal.get_entry, rt.db, update.update_id)
            delivered = entry.delivered if entry is not None else delivered
        except Exception as error:
            # Not Telegram's: ours, and it would fail again. Done; the error handler apologises.
            await rt.run(journal.mark_done, rt.db, update.update_id, stored_error(error))
            raise


def retry_wait(attempts: int, error: TelegramError, policy: DeliveryPolicy) -> float:
    """Seconds before the next delivery attempt after `attempts` failed ones: exponential from
    the policy's first wait, capped at its longest, never sooner than flood control asks."""
    first, most = policy.retry_first_seconds, policy.retry_max_seconds
    wait = most if attempts > 64 else min(first * 2 ** (attempts - 1), most)
    if isinstance(error, RetryAfter):
        wait = max(wait, _seconds(error.retry_after))
    return wait


def _seconds(value: Any) -> float:
    """A RetryAfter's retry_after in seconds (an int or a timedelta, by PTB's settings)."""
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


def stored_error(error: BaseException) -> str:
    """The text of ``error`` as the journal keeps it: with the token redacted (a Bot API error
    can quote the request URL, which holds it)."""
    return redact(repr(error))


async def deliver(update: Update, rt: BotRuntime, outcome: Outcome, delivered: int) -> None:
    """Send the answer's steps that have not gone out yet, recording progress.

    A tap's toast is skipped when the update processor answered the tap already (it waited
    too long for its turn). A new message whose send timed out waiting for Telegram's answer
    may have arrived: it counts as sent, not sent twice (a duplicate is what a retry would
    risk; the answer's effects are stored either way). Edits and toasts are sent again (a
    repeat is harmless: "not modified", "query is too old"), and so is anything whose
    connection never opened (ConnectTimedOut).
    """
    query, bot = update.callback_query, update.get_bot()
    if outcome.chat_id is not None:  # an update from no chat (a poll's): the outcome says where
        chat_id, thread = outcome.chat_id, outcome.thread_id
    else:
        chat_id = update.effective_chat.id if update.effective_chat else None
        thread = thread_of(update)
    steps: list[tuple[Callable[[], Awaitable[Any]], bool]] = []  # (step, sends a new message)
    if query is not None:
        steps.append((lambda: _answer_tap(rt, update.update_id, query, outcome.toast), False))
    if outcome.edit is not None and query is not None:
        edit = outcome.edit

        def edit_step() -> Awaitable[Any]:
            if query.message is not None and getattr(query.message, "photo", None):
                # A card sent with its poster (bot/telegram/sending.py): its caption changes.
                return query.edit_message_caption(
                    edit.text, parse_mode=PARSE_MODE, reply_markup=markup(edit)
                )
            return query.edit_message_text(
                edit.text,
                parse_mode=PARSE_MODE,
                reply_markup=markup(edit),
                link_preview_options=preview(edit),
            )

        steps.append((edit_step, False))
    if outcome.stop_poll is not None:
        poll_chat, poll_message = outcome.stop_poll
        steps.append((lambda: bot.stop_poll(poll_chat, poll_message), False))
    for reply in outcome.replies:
        steps.append(
            (
                lambda reply=reply: send_reply(
                    bot, chat_id, reply, thread, run=rt.run, service=rt.service
                ),
                True,
            )
        )
    for number, (step, sends) in enumerate(steps, start=1):
        if number <= delivered:
            continue
        try:
            await step()
        except BadRequest as error:
            if not any(text in str(error).lower() for text in _ALREADY_DONE):
                raise
        except TimedOut as error:
            if not sends or isinstance(error, ConnectTimedOut):
                raise
            log.warning(
                "update %d: step %d timed out waiting for Telegram; it may have arrived, so it "
                "is not sent again",
                update.update_id,
                number,
            )
        if number < len(steps):
            await write_progress(rt, journal.mark_delivered, rt.db, update.update_id, number)
    await write_progress(rt, journal.mark_done, rt.db, update.update_id)
    if outcome.truncate_wal:  # after mark_done: the update's own row held their name too
        await rt.run(truncate_wal, rt.db)


def is_storage_trouble(error: BaseException) -> bool:
    """Whether `error` says the disk or the database file failed (not a bad statement)."""
    if isinstance(error, sqlite3.OperationalError):
        return any(text in str(error).lower() for text in _STORAGE_TROUBLE)
    return isinstance(error, OSError)


async def write_progress(rt: BotRuntime, function: Callable[..., Any], *args: Any) -> Any:
    """Run the journal write `function(*args)` in the database thread; while the storage fails,
    wait and try again (exponential back-off), logging once when it starts and once when it
    works again."""
    delay, failing_since = PROGRESS_RETRY_FIRST, None
    while True:
        try:
            result = await rt.run(function, *args)
        except Exception as error:
            if not is_storage_trouble(error):
                raise
            if failing_since is None:
                failing_since = time.monotonic()
                log.error(
                    "cannot record delivery progress (%s: %s); trying again with back-off",
                    type(error).__name__,
                    error,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, PROGRESS_RETRY_MAX)
        else:
            if failing_since is not None:
                log.warning(
                    "recording delivery progress works again after %.1f s",
                    time.monotonic() - failing_since,
                )
            return result


async def _answer_tap(rt: BotRuntime, update_id: int, query: Any, toast: str | None) -> None:
    """Answer the tap with the answer's toast, unless it was answered early (TapAnswers)."""
    if rt.taps is None or rt.taps.claim(update_id):
        await query.answer(toast)
