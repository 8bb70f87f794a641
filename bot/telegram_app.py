"""The Telegram adapter: python-telegram-bot in front of the command layer.

Run with `moviebot run` (TELEGRAM_BOT_TOKEN in the environment): long polling by default,
`--webhook-url` for webhook mode, `--api-url` for another Bot API server.

Every command, message and tap goes the same way: read the sender, run the conversation in the
single database thread (SQLite and the model never block the event loop), then send what it
answered. State lives in SQLite, not in PTB's memory, so a restart loses no conversation; that
is also why the steps are not a ConversationHandler: the command layer owns them and the
console chat shares them.

Nothing acknowledged is lost (storage/journal.py): getUpdates writes each batch to SQLite
before the updater's next call confirms it to Telegram (in webhook mode, each update is written
before the HTTP answer that acknowledges it goes back); an answer is stored in the same
transaction as its effects and then sent step by step; on start, and every minute, updates
that are not done are handled again, resuming the delivery where it stopped. An update id that
is already done is skipped, so a redelivered update changes nothing and is answered once.
Up to CONCURRENT_CHATS chats are handled at once, each chat's updates in order; answers asked
for while the database thread is busy are committed together (group commit, one fsync).
A JobQueue job refits the model in another thread and swaps it in; a failed refit keeps the
old model serving.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import charts, inline, pictures
from bot.conversation import Chat, Conversation, Sender
from bot.http_request import AiohttpRequest
from bot.replies import Outcome, Reply, outcome_from_json, outcome_to_json
from bot.service import MovieService
from storage import journal

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side. Please try again."
# Updates of different chats handled at once; each chat's stay in order. More overlap means
# more throughput, and more answers that a kill -9 can catch between "sent" and "marked done"
# (each of those is sent again after the restart).
CONCURRENT_CHATS = 8
# A delivery that keeps failing is given up after this many attempts (logged, kept in SQLite).
MAX_DELIVERY_ATTEMPTS = 5
RETRY_SECONDS = 60

PRIVATE_COMMANDS = [
    ("start", "Rate a few movies to get going"),
    ("rate", "Rate a movie: /rate Ted 8"),
    ("recommend", "Your top picks: /recommend 5"),
    ("similar", "Movies like one: /similar Frozen"),
    ("myratings", "What you have rated"),
    ("taste", "A picture of your taste"),
    ("map", "Where your taste sits: /map Frozen"),
    ("forget", "Delete everything I know about you"),
    ("cancel", "Drop the current question"),
    ("help", "What I can do"),
]
GROUP_COMMANDS = [
    ("join", "Join this chat's movie pool"),
    ("leave", "Leave this chat's movie pool"),
    ("grouprec", "Picks for everyone in the pool"),
    ("similar", "Movies like one: /similar Frozen"),
    ("help", "What I can do"),
]


@dataclass
class BotSettings:
    token: str
    db_path: Path
    model_path: Path
    api_url: str | None = None  # e.g. http://127.0.0.1:8081 for a local Bot API server
    refit_minutes: float = 30.0
    rate_limit: bool = True  # AIORateLimiter: Telegram's ~30 messages/s across chats
    poll_timeout: int = 10
    request_timeout: float = 10.0
    # Updates arrive by webhook: journal each one before its POST is answered.
    webhook: bool = False


class JournalingBot(ExtBot):
    """An ExtBot whose getUpdates stores each batch before returning it.

    PTB's updater confirms a batch with its next getUpdates, before the handlers have run; by
    then the batch is in SQLite, so a crash loses nothing.
    """

    __slots__ = ("_journal",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._journal: Callable[[list[Update]], Awaitable[None]] | None = None

    def journal_with(self, record: Callable[[list[Update]], Awaitable[None]]) -> None:
        self._journal = record

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        updates = await super().get_updates(*args, **kwargs)
        if updates and self._journal is not None:
            await self._journal(list(updates))
        return updates


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
        super().__init__()
        self._journal: Callable[[list[Update]], Awaitable[None]] | None = None
        self._unstored: list[tuple[Update, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    def journal_with(self, record: Callable[[list[Update]], Awaitable[None]]) -> None:
        self._journal = record

    async def put(self, item: Any) -> None:
        if self._journal is not None and isinstance(item, Update):
            stored = asyncio.get_running_loop().create_future()
            self._unstored.append((item, stored))
            if self._writer is None or self._writer.done():
                self._writer = asyncio.create_task(self._store_unstored(self._journal))
            await stored
        await super().put(item)

    async def _store_unstored(self, record: Callable[[list[Update]], Awaitable[None]]) -> None:
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
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}  # how many updates hold or wait for each lock

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
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


class BotRuntime:
    """What the handlers share: the conversation and the one thread that touches SQLite."""

    def __init__(self, service: MovieService, conversation: Conversation, settings: BotSettings):
        self.service = service
        self.conversation = conversation
        self.settings = settings
        self.db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="moviebot-db")
        self.refitting = asyncio.Lock()
        # Journal entries of admitted updates, read in the DB thread only.
        self._admitted: dict[int, journal.JournalEntry | None] = {}
        # Updates a handler answered (or closed); the event loop's own bookkeeping.
        self.answered: set[int] = set()
        # Answers waiting to be computed, and the task that computes them in batches.
        self._waiting: list[tuple[int, Callable[[], Outcome], asyncio.Future]] = []
        self._work = asyncio.Event()
        self._committer: asyncio.Task | None = None

    @property
    def db(self):
        return self.service.db

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run `function(*args)` in the database thread without blocking the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.db_thread, function, *args)

    async def record(self, updates: list[Update]) -> None:
        rows = [(u.update_id, json.dumps(u.to_dict(), ensure_ascii=False)) for u in updates]
        await self.run(journal.record_updates, self.db, rows)

    def admit(self, update: Update) -> bool:
        """Whether to handle `update`: False when it is already done. Records it if nothing
        has (an update put in the queue by other code) and remembers its journal entry for
        compute_once."""
        entry = journal.get_entry(self.db, update.update_id)
        if entry is None:
            payload = json.dumps(update.to_dict(), ensure_ascii=False)
            journal.record_updates(self.db, [(update.update_id, payload)])
        elif entry.done:
            return False
        self._admitted[update.update_id] = entry
        return True

    async def answer_of(
        self, update_id: int, compute: Callable[[], Outcome]
    ) -> tuple[Outcome, int]:
        """The update's answer and how many of its steps went out already, once the answer
        and its effects are committed.

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
        while True:
            await self._work.wait()
            self._work.clear()
            batch, self._waiting = self._waiting, []
            try:
                results = await self.run(self._compute_batch, [(u, c) for u, c, _ in batch])
            except Exception as error:  # the commit itself failed: every answer in it did
                results = [error] * len(batch)
            for (_, _, future), result in zip(batch, results, strict=True):
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
        failing one is rolled back alone."""
        results: list[tuple[Outcome, int] | Exception] = []
        with self.db.atomic():
            for update_id, compute in batch:
                try:
                    with self.db.atomic():
                        results.append(self.compute_once(update_id, compute))
                except Exception as error:
                    results.append(error)
        return results

    def compute_once(self, update_id: int, compute: Callable[[], Outcome]) -> tuple[Outcome, int]:
        """The stored answer to `update_id`, or compute it: effects and answer in one commit."""
        entry = self._admitted.pop(update_id, None)
        if entry is not None and entry.outcome is not None:
            return outcome_from_json(entry.outcome), entry.delivered
        with self.db.atomic():
            outcome = compute()
            journal.save_outcome(self.db, update_id, outcome_to_json(outcome))
        return outcome, 0

    async def stop(self) -> None:
        if self._committer is not None:
            self._committer.cancel()
        self.db_thread.shutdown(wait=True)

    def close(self, update_id: int) -> None:
        """Mark an update no handler answered as done."""
        self._admitted.pop(update_id, None)
        journal.mark_done(self.db, update_id)


def runtime(context: ContextTypes.DEFAULT_TYPE) -> BotRuntime:
    return context.application.bot_data["runtime"]


def _sender(update: Update) -> Sender | None:
    user = update.effective_user
    if user is None:
        return None
    return Sender(user.id, user.full_name, user.language_code)


def _chat(update: Update) -> Chat | None:
    chat = update.effective_chat
    if chat is None:
        return None
    return Chat(chat.id, chat.type == ChatType.PRIVATE)


def _markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    rows = [
        [InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in reply.buttons
    ]
    return InlineKeyboardMarkup(rows)


# Telegram answers these when a step already happened (a retried delivery): treat as done.
_ALREADY_DONE = ("message is not modified", "query is too old", "query id is invalid")


async def _deliver(update: Update, rt: BotRuntime, outcome: Outcome, delivered: int) -> None:
    """Send the answer's steps that have not gone out yet, recording progress."""
    query, chat = update.callback_query, update.effective_chat
    steps: list[Callable[[], Awaitable[Any]]] = []
    if query is not None:
        steps.append(lambda: query.answer(outcome.toast))
    if outcome.edit is not None and query is not None:
        edit = outcome.edit
        steps.append(lambda: query.edit_message_text(edit.text, reply_markup=_markup(edit)))
    for reply in outcome.replies:
        steps.append(lambda reply=reply: _send_reply(rt, chat, reply))
    for number, step in enumerate(steps, start=1):
        if number <= delivered:
            continue
        try:
            await step()
        except BadRequest as error:
            if not any(text in str(error).lower() for text in _ALREADY_DONE):
                raise
        if number < len(steps):
            await rt.run(journal.mark_delivered, rt.db, update.update_id, number)
    await rt.run(journal.mark_done, rt.db, update.update_id)


async def _send_reply(rt: BotRuntime, chat: Any, reply: Reply) -> Any:
    """Send one reply: a photo with a caption when it asks for a picture, else a message."""
    if reply.picture is None:
        return await chat.send_message(reply.text, reply_markup=_markup(reply))
    try:
        data = await rt.run(pictures.gather, rt.service, reply.picture)
    except charts.ChartError as error:
        text = pictures.instead_of_picture(error, reply.text)
        return await chat.send_message(text, reply_markup=_markup(reply))
    # Drawing takes a fraction of a second of CPU: neither the loop nor the DB thread waits.
    png = await asyncio.to_thread(pictures.draw, reply.picture, data)
    caption = reply.text[: pictures.MAX_CAPTION]
    return await chat.send_photo(png, caption=caption, reply_markup=_markup(reply))


async def _answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, compute: Callable[[], Outcome]
) -> None:
    rt = runtime(context)
    rt.answered.add(update.update_id)
    try:
        outcome, delivered = await rt.answer_of(update.update_id, compute)
    except Exception as error:
        # A bug or a broken database: handling it again would fail again. Apologise (the
        # error handler) and close the update.
        await rt.run(journal.mark_done, rt.db, update.update_id, f"{type(error).__name__}")
        raise
    try:
        await _deliver(update, rt, outcome, delivered)
    except TelegramError as error:
        # Telegram unreachable or refusing after the rate limiter's retries: the answer is
        # stored, the retry job sends the rest later.
        log.warning("update %d: delivery failed (%s); will retry", update.update_id, error)
        await rt.run(journal.mark_failed, rt.db, update.update_id, repr(error))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a command or a message through the command layer."""
    message, sender, chat = update.effective_message, _sender(update), _chat(update)
    if message is None or sender is None or chat is None or not message.text:
        return
    conversation = runtime(context).conversation
    await _answer(update, context, lambda: conversation.on_text(sender, chat, message.text))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a tap: the toast first, then edit the tapped message and send what follows."""
    query, sender, chat = update.callback_query, _sender(update), _chat(update)
    if query is None or sender is None:
        return
    if chat is None:  # a button on an inline message: nothing of ours
        await query.answer()
        return
    conversation = runtime(context).conversation
    await _answer(update, context, lambda: conversation.on_button(sender, chat, query.data or ""))


async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer movie cards for "@bot <title>", or the asker's top picks for an empty query."""
    query = update.inline_query
    if query is None:
        return
    rt = runtime(context)
    page = await rt.run(
        inline.inline_answers, rt.service, query.from_user.id, query.query, query.offset
    )
    no_preview = LinkPreviewOptions(is_disabled=True)
    results = [
        InlineQueryResultArticle(
            id=card.id,
            title=card.title,
            description=card.description,
            input_message_content=InputTextMessageContent(
                card.message_text, link_preview_options=no_preview
            ),
        )
        for card in page.results
    ]
    await query.answer(
        results,
        cache_time=inline.CACHE_TIME,
        is_personal=inline.IS_PERSONAL,
        next_offset=page.next_offset,
    )


async def skip_done_updates(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Let each update through once: stop it when the journal says it is done."""
    rt = runtime(context)
    if not await rt.run(rt.admit, update):
        raise ApplicationHandlerStop


async def close_unanswered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Close updates no handler answered (group chatter, other bots' commands)."""
    rt = runtime(context)
    if update.update_id in rt.answered:
        rt.answered.discard(update.update_id)
        return
    await rt.run(rt.close, update.update_id)


async def requeue_unfinished(application: Application) -> int:
    """Put every unfinished update back in the queue (at start, and for failed deliveries)."""
    rt: BotRuntime = application.bot_data["runtime"]
    entries = await rt.run(journal.unfinished_updates, rt.db, MAX_DELIVERY_ATTEMPTS)
    for entry in entries:
        # put_nowait: these come from the journal, a webhook-mode put would store them again.
        application.update_queue.put_nowait(
            Update.de_json(json.loads(entry.payload), application.bot)
        )
    if entries:
        log.info("handling %d unfinished update(s) again", len(entries))
    return len(entries)


async def retry_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Retry deliveries that failed (Telegram down, flood limits beyond the retries)."""
    rt = runtime(context)
    failed = await rt.run(journal.unfinished_updates, rt.db, MAX_DELIVERY_ATTEMPTS)
    if any(entry.attempts > 0 for entry in failed):
        await requeue_unfinished(context.application)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error with its traceback and tell the person, never showing them the trace."""
    log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await update.effective_chat.send_message(SORRY)
        except Exception:  # the apology itself failed: the log above has the cause
            log.warning("could not send the apology", exc_info=True)


async def refit_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Refit the model when there are new ratings, off the event loop; swap it in when done."""
    await refit_now(context.application)


async def refit_now(application: Application) -> bool:
    """One refit if ratings changed since the last fit; True when a new model was swapped in."""
    from moviebot.training import ratings_changed_since_last_fit, train

    rt: BotRuntime = application.bot_data["runtime"]
    if rt.refitting.locked():
        return False
    async with rt.refitting:
        settings = rt.settings
        changed = await asyncio.to_thread(ratings_changed_since_last_fit, settings.db_path)
        if changed == 0:
            return False
        try:
            result = await asyncio.to_thread(train, settings.db_path, settings.model_path)
        except Exception:
            log.exception("refit failed; the previous model keeps serving")
            return False
        # Swap in the database thread, so no request sees half of the change.
        await rt.run(rt.service.swap_model, result.model)
        log.info("refit %d swapped in (%d ratings)", result.fit_id, result.n_ratings)
        return True


async def _post_init(application: Application) -> None:
    bot = application.bot
    await bot.set_my_commands(
        [BotCommand(c, d) for c, d in PRIVATE_COMMANDS], scope=BotCommandScopeAllPrivateChats()
    )
    await bot.set_my_commands(
        [BotCommand(c, d) for c, d in GROUP_COMMANDS], scope=BotCommandScopeAllGroupChats()
    )
    rt: BotRuntime = application.bot_data["runtime"]
    rt.conversation.bot_username = bot.username
    # Before polling starts: what was received but not answered before a stop comes first.
    await requeue_unfinished(application)


async def _post_shutdown(application: Application) -> None:
    rt: BotRuntime = application.bot_data["runtime"]
    await rt.stop()


def build_application(settings: BotSettings, service: MovieService) -> Application:
    """The whole bot: handlers, the journal, the refit job, the rate limiter, errors."""
    base = (settings.api_url or "https://api.telegram.org").rstrip("/")
    timeout = settings.request_timeout
    bot = JournalingBot(
        token=settings.token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=AiohttpRequest(
            connection_pool_size=64, read_timeout=timeout, write_timeout=timeout
        ),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
        rate_limiter=AIORateLimiter(max_retries=3) if settings.rate_limit else None,
    )
    queue = JournalingQueue()
    builder: Any = ApplicationBuilder().bot(bot).update_queue(queue)
    builder = builder.post_init(_post_init).post_shutdown(_post_shutdown)
    builder = builder.concurrent_updates(PerChatUpdateProcessor(CONCURRENT_CHATS))
    application = builder.build()

    conversation = Conversation(service)
    rt = BotRuntime(service, conversation, settings)
    application.bot_data["runtime"] = rt
    if settings.webhook:
        queue.journal_with(rt.record)
    else:
        bot.journal_with(rt.record)

    application.add_handler(TypeHandler(Update, skip_done_updates), group=-1)
    known = sorted({c for c, _ in PRIVATE_COMMANDS} | {c for c, _ in GROUP_COMMANDS})
    application.add_handler(CommandHandler(known, on_text))
    # Unknown commands get a hint in private chats; plain text gets a nudge or a score.
    application.add_handler(MessageHandler(filters.TEXT & filters.ChatType.PRIVATE, on_text))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(InlineQueryHandler(on_inline_query))
    application.add_handler(TypeHandler(Update, close_unanswered), group=1)
    application.add_error_handler(on_error)
    jobs = application.job_queue
    if jobs is not None:
        jobs.run_repeating(retry_job, interval=RETRY_SECONDS, first=RETRY_SECONDS)
        if settings.refit_minutes > 0:
            interval = settings.refit_minutes * 60
            jobs.run_repeating(refit_job, interval=interval, first=interval)
    return application
