"""The Telegram adapter: python-telegram-bot in front of the command layer.

Run with `moviebot run` (TELEGRAM_BOT_TOKEN in the environment): long polling by default,
`--webhook-url` for webhook mode, `--api-url` for another Bot API server.

Every command, message and tap goes the same way: read the sender, run the conversation in the
single database thread (SQLite and the model never block the event loop), then send what it
answered. State lives in SQLite, not in PTB's memory, so a restart loses no conversation; that
is also why the steps are not a ConversationHandler: the command layer owns them and the
console chat shares them.

This module wires it up (`build_application`): the handlers, the command menus (from
bot/commands/dispatcher.py's COMMANDS), the jobs, and the update types asked of Telegram
(ALLOWED_UPDATES). Membership updates (a member left, the bot removed) keep the group pools
as Telegram says they are (bot/telegram/membership.py). Nothing acknowledged is lost, and each
update is answered once: bot/telegram/delivery.py (the life of an update, from recorded to done)
with bot/telegram/ptb_classes.py (the PTB bot, queue and update processor that journal and order
updates).
Up to CONCURRENT_CHATS chats are handled at once, each chat's updates in order. A JobQueue job
refits the model with the refit function it is given (the CLI passes moviebot.training's
RefitProcess, which fits in a child process) from another thread and swaps it in; a failed
refit keeps the old model serving. Another keeps the catalog current
(bot/telegram/catalog_job.py). Handlers get a typed context (`BotContext`: the runtime as an
attribute of `BotData`, PTB's examples/contexttypesbot.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
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
from telegram.constants import ChatType, UpdateType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackContext,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    InlineQueryHandler,
    MessageHandler,
    PollHandler,
    TypeHandler,
    filters,
)

from bot.commands.conversation import Chat, Conversation, Sender
from bot.commands.dispatcher import COMMANDS, menu
from bot.commands.features import inline
from bot.commands.router import Where
from bot.files.history_import import MAX_FILE_BYTES
from bot.service import MovieService
from bot.telegram import membership, metrics
from bot.telegram.alerts import AlertJob, AlertLimiter
from bot.telegram.alerts import schedule as schedule_alerts
from bot.telegram.catalog_job import (
    CHECK_SECONDS,
    FIRST_CHECK_SECONDS,
    CatalogRefresh,
    CatalogWatch,
    title_index,
)
from bot.telegram.delivery import (
    BotRuntime,
    DeliveryPolicy,
    admit,
    answer,
)
from bot.telegram.http_request import AiohttpRequest
from bot.telegram.import_desk import ImportDesk
from bot.telegram.journal_jobs import prune_journal, requeue_unfinished
from bot.telegram.ptb_classes import JournalingBot, JournalingQueue, PerChatUpdateProcessor
from bot.telegram.sending import PARSE_MODE, thread_of, typing_if_slow
from bot.telegram.watch_job import WatchJob
from bot.telegram.webhook import WebhookUpdater
from bot.tmdb.client import TmdbConfig
from bot.tmdb.films import TmdbFilms
from bot.ui import i18n
from bot.ui.i18n import N_, _
from bot.ui.replies import Outcome
from recommender import Model
from storage.movies import get_movies
from storage.search import TitleIndex

log = logging.getLogger(__name__)
# How long an inline answer waits for TMDB's thumbnails (a cold cache); later ones come cached.
INLINE_TMDB_SECONDS = 1.5

SORRY = N_("Sorry, something went wrong on my side. Please try again.")
# Updates of different chats handled at once; each chat's stay in order. More overlap means
# more throughput, and more answers that a kill -9 can catch between "sent" and "marked done"
# (each of those is sent again after the restart).
CONCURRENT_CHATS = 8
# How often done updates past the journal's retention (storage.journal.DONE_RETENTION) go.
PRUNE_SECONDS = 3600
# The update types the handlers of `build_application` answer, asked for in getUpdates and
# setWebhook (moviebot run): Telegram sends no others. Commands and private text come as
# messages, edited too; chat_member reaches only a bot that is an admin of the group.
ALLOWED_UPDATES = (
    UpdateType.MESSAGE,
    UpdateType.EDITED_MESSAGE,
    UpdateType.CALLBACK_QUERY,
    UpdateType.INLINE_QUERY,
    UpdateType.MY_CHAT_MEMBER,
    UpdateType.CHAT_MEMBER,
    UpdateType.POLL,  # a /movienight poll closed: announce the winner
)


# Fit a model on the ratings in the database at the first path and save it to the second;
# None when no rating changed since the last fit. Raises when the fit fails. Called with
# force=True when the served model does not match the database (MovieService.refit_wanted).
Refit = Callable[..., Model | None]


@dataclass
class BotSettings:
    """How `moviebot run` was asked to run the bot."""

    token: str
    db_path: Path
    model_path: Path
    api_url: str | None = None  # e.g. http://127.0.0.1:8081 for a local Bot API server
    refit_minutes: float = 30.0
    # What a refit runs (moviebot.training.refit_if_changed from the CLI); None: no refits.
    refit: Refit | None = None
    # The scheduled catalog update (moviebot.catalog_update.CatalogRefresh from the CLI); None:
    # no catalog job (bot/telegram/catalog_job.py).
    catalog_refresh: CatalogRefresh | None = None
    rate_limit: bool = True  # AIORateLimiter: Telegram's ~30 messages/s across chats
    poll_timeout: int = 10
    request_timeout: float = 10.0
    # Updates arrive by webhook: journal each one before its POST is answered.
    webhook: bool = False
    # How long an answer Telegram keeps failing to take (5xx, timeouts) is owed and retried.
    delivery: DeliveryPolicy = DeliveryPolicy()
    # TMDB with the operator's key (MOVIEBOT_TMDB_*): posters, overviews, where to watch.
    tmdb: TmdbConfig | None = None


class BotData:
    """What the application holds for its handlers (PTB's bot_data, typed)."""

    runtime: BotRuntime  # the life of updates (bot/telegram/delivery.py)
    refitter: Refitter | None = None  # the refit job, when refits are on
    imports: ImportDesk  # import files read off the database thread
    alerts: AlertJob | None = None  # the alerts job (bot/telegram/alerts.py)
    watch: WatchJob | None = None  # the streaming alert's job (bot/telegram/watch_job.py)
    catalog: CatalogWatch | None = None  # the catalog job, when the bot has a refresh


class BotContext(CallbackContext[ExtBot, BotData, dict, dict]):
    """The context every handler gets: `context.runtime` instead of a bot_data lookup."""

    @property
    def runtime(self) -> BotRuntime:
        """The bot's shared runtime."""
        return self.bot_data.runtime


CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData)


class Refitter:
    """The refit job: what it runs (the settings) and the lock that keeps it to one at a time."""

    def __init__(self, settings: BotSettings) -> None:
        self.settings = settings
        self.lock = asyncio.Lock()

    async def job(self, context: BotContext) -> None:
        """Refit the model when there are new ratings, off the event loop; swap it in when
        done."""
        await self.refit(context.runtime)

    async def refit(self, rt: BotRuntime) -> bool:
        """One refit if ratings changed since the last fit; True when a new model was swapped
        in."""
        settings, refit = self.settings, self.settings.refit
        if refit is None or self.lock.locked():
            return False
        async with self.lock:
            started = time.perf_counter()
            try:
                paths = (settings.db_path, settings.model_path)
                if rt.service.refit_wanted:  # the model knows movies the database lacks
                    model = await asyncio.to_thread(refit, *paths, force=True)
                else:
                    model = await asyncio.to_thread(refit, *paths)
            except Exception:
                log.exception("refit failed; the previous model keeps serving")
                return False
            if model is None:
                return False
            # The new model's rating counts change search popularity: the index is built
            # here, off the database thread, then both are swapped in there together, so no
            # request sees half of the change.
            titles = await asyncio.to_thread(title_index, settings.db_path)
            await rt.run(_swap, rt.service, model, titles)
            metrics.refit_finished(time.perf_counter() - started)
            log.info("refitted model swapped in (%d ratings)", model.n_ratings_fit)
            return True


def _swap(service: MovieService, model: Model, titles: TitleIndex) -> None:
    service.swap_model(model)
    service.use_titles(titles)


def _sender(update: Update) -> Sender | None:
    """Who sent the update, for the command layer."""
    user = update.effective_user
    if user is None:
        return None
    return Sender(user.id, user.full_name, user.language_code)


def _chat(update: Update) -> Chat | None:
    """Where the update happened, for the command layer."""
    chat = update.effective_chat
    if chat is None:
        return None
    return Chat(chat.id, chat.type == ChatType.PRIVATE, thread_of(update))


async def on_text(update: Update, context: BotContext) -> None:
    """Answer a command or a message through the command layer."""
    message, sender, chat = update.effective_message, _sender(update), _chat(update)
    if message is None or sender is None or chat is None or not message.text:
        return
    conversation = context.runtime.conversation
    async with typing_if_slow(update, conversation.takes_a_while(message.text)):
        status = await membership.checked_status(
            context.bot, context.runtime, sender, chat, message.text
        )
        await answer(
            update,
            context.runtime,
            lambda: conversation.on_text(sender, chat, message.text, status),
        )


async def on_document(update: Update, context: BotContext) -> None:
    """Download the file sent (an export to import) and hand it to the command layer."""
    message, sender, chat = update.effective_message, _sender(update), _chat(update)
    document = message.document if message is not None else None
    if document is None or sender is None or chat is None:
        return
    conversation = context.runtime.conversation
    if (document.file_size or 0) > MAX_FILE_BYTES:
        await answer(
            update,
            context.runtime,
            lambda: conversation.on_document_not_downloaded(sender, chat, too_large=True),
        )
        return
    try:
        file = await context.bot.get_file(document.file_id)
        data = bytes(await file.download_as_bytearray())
    except TelegramError as error:
        log.warning("update %d: the document could not be fetched (%s)", update.update_id, error)
        too_large = "too big" in str(error).lower()
        await answer(
            update,
            context.runtime,
            lambda: conversation.on_document_not_downloaded(sender, chat, too_large),
        )
        return
    name = document.file_name or ""
    rt = context.runtime
    prepared = await context.bot_data.imports.prepare(rt.run, conversation, sender, name, data)
    await answer(update, rt, lambda: conversation.on_document(sender, chat, name, data, prepared))


async def on_button(update: Update, context: BotContext) -> None:
    """Answer a tap: the toast first, then edit the tapped message and send what follows."""
    query, sender, chat = update.callback_query, _sender(update), _chat(update)
    if query is None or sender is None:
        return
    if chat is None:  # a button on an inline message: nothing of ours
        await query.answer()
        return
    conversation = context.runtime.conversation
    data = query.data or ""
    await answer(update, context.runtime, lambda: conversation.on_button(sender, chat, data))


async def on_poll(update: Update, context: BotContext) -> None:
    """A poll of ours changed: announce the movie night's winner once it is closed."""
    poll = update.poll
    if poll is None:
        return
    conversation = context.runtime.conversation
    votes = [option.voter_count for option in poll.options]
    closed = poll.is_closed
    await answer(update, context.runtime, lambda: conversation.on_poll(poll.id, votes, closed))


async def _thumbnails(rt: BotRuntime, movie_ids: list[int]) -> dict[int, str]:
    """Movie id -> its TMDB poster thumbnail, for the films TMDB says in time (none without a
    key: the results then go without thumbnails, as before)."""
    tmdb = rt.service.tmdb
    if tmdb is None or not movie_ids:
        return {}
    found = await rt.run(get_movies, rt.db, movie_ids)
    facts = await tmdb.facts_within(found.values(), INLINE_TMDB_SECONDS, run=rt.run, db=rt.db)
    urls = {movie_id: tmdb.thumbnail_url(f) for movie_id, f in facts.items()}
    return {movie_id: url for movie_id, url in urls.items() if url is not None}


async def on_inline_query(update: Update, context: BotContext) -> None:
    """Offer movie cards for "@bot <title>", or the asker's top picks for an empty query."""
    query = update.inline_query
    if query is None:
        return
    rt = context.runtime
    asker = query.from_user
    page = await rt.run(
        lambda: inline.inline_answers(
            rt.service, asker.id, query.query, query.offset, language=asker.language_code
        )
    )
    no_preview = LinkPreviewOptions(is_disabled=True)
    thumbnails = await _thumbnails(rt, [card.movie_id for card in page.results])
    results = [
        InlineQueryResultArticle(
            id=card.id,
            title=card.title,
            description=card.description,
            input_message_content=InputTextMessageContent(
                card.message_text,
                parse_mode=PARSE_MODE,
                link_preview_options=(
                    LinkPreviewOptions(url=card.preview_url) if card.preview_url else no_preview
                ),
            ),
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton(b.label, url=b.url) for b in card.links]]
            ),
            thumbnail_url=thumbnails.get(card.movie_id),
        )
        for card in page.results
    ]

    await query.answer(
        results,
        cache_time=inline.CACHE_TIME,
        is_personal=inline.IS_PERSONAL,
        next_offset=page.next_offset,
    )


async def on_member_left(update: Update, context: BotContext) -> None:
    """Take a member who left the group out of its pool (or drop the pool if it was me)."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or message.left_chat_member is None:
        return
    rt, user_id = context.runtime, message.left_chat_member.id
    if user_id == context.bot.id:
        await answer(update, rt, lambda: membership.bot_removed(rt.db, chat.id))
        return
    await answer(update, rt, lambda: membership.member_left(rt.db, chat.id, user_id))


async def on_migrated(update: Update, context: BotContext) -> None:
    """The group became a supergroup with a new id: move its pool there. Both service
    messages (in the old group and in the new one) say it; the second changes nothing."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    if message.migrate_to_chat_id is not None:
        old, new = chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id is not None:
        old, new = message.migrate_from_chat_id, chat.id
    else:
        return
    rt = context.runtime
    await answer(update, rt, lambda: membership.chat_migrated(rt.db, old, new))


async def on_membership(update: Update, context: BotContext) -> None:
    """Follow a change of membership: a member out of the group leaves its pool, and the
    whole pool goes when I am removed."""
    change, chat = update.chat_member or update.my_chat_member, update.effective_chat
    if change is None or chat is None:
        return
    rt, member = context.runtime, change.new_chat_member
    if not membership.is_gone(member.status, getattr(member, "is_member", None)):
        await answer(update, rt, Outcome)  # joined, promoted...: nothing to change
    elif update.my_chat_member is not None:
        await answer(update, rt, lambda: membership.bot_removed(rt.db, chat.id))
    else:
        user_id = member.user.id
        await answer(update, rt, lambda: membership.member_left(rt.db, chat.id, user_id))


async def skip_done_updates(update: Update, context: BotContext) -> None:
    """Let each update through once: stop it when the journal says it is done, or when it could
    not be stored as it is (then its sender is told)."""
    if not await admit(update, context.runtime):
        raise ApplicationHandlerStop


async def close_unanswered(update: Update, context: BotContext) -> None:
    """Close updates no handler answered (group chatter, other bots' commands)."""
    rt = context.runtime
    if update.update_id in rt.answered:
        rt.answered.discard(update.update_id)
        return
    await rt.run(rt.close, update.update_id)


async def on_error(update: object, context: BotContext) -> None:
    """Log the error with its traceback and tell the person, never showing them the trace."""
    log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        user = update.effective_user
        try:
            # Telegram's language: the stored /language choice would need the database,
            # which may be what failed.
            with i18n.speaking(user.language_code if user else None):
                sorry = _(SORRY)
            await update.effective_chat.send_message(sorry)
        except Exception:  # the apology itself failed: the log above has the cause
            log.warning("could not send the apology", exc_info=True)


async def prune_job(context: BotContext) -> None:
    """Forget done updates once Telegram can no longer hand them over again."""
    await prune_journal(context.application)


async def refit_now(application: Application) -> bool:
    """One refit now, as the job would (False when refits are off or one is running)."""
    refitter = application.bot_data.refitter
    return refitter is not None and await refitter.refit(application.bot_data.runtime)


async def catalog_now(application: Application) -> bool:
    """One look at the catalog now, as the job would: refresh when due, take in an update."""
    watch = application.bot_data.catalog
    return watch is not None and await watch.check(application.bot_data.runtime)


async def catalog_job(context: BotContext) -> None:
    """The catalog job (bot/telegram/catalog_job.py); a failure waits for the next one."""
    try:
        await catalog_now(context.application)
    except Exception:
        log.exception("catalog check failed; the catalog being served stays")


async def _post_init(application: Application) -> None:
    """Set the command menus, learn the bot's name, requeue what the last run left."""
    bot = application.bot
    await set_menus(bot)
    rt = application.bot_data.runtime
    rt.conversation.bot_username = bot.username
    # Before polling starts: what was received but not answered before a stop comes first.
    await requeue_unfinished(application)


async def set_menus(bot: Any) -> None:
    """The command menus of private and of group chats in each language: English for everyone
    by default, and each other language for the users whose Telegram is set to it."""
    scopes = ((Where.PRIVATE, BotCommandScopeAllPrivateChats()),)
    scopes += ((Where.GROUP, BotCommandScopeAllGroupChats()),)
    for language in i18n.LANGUAGES:
        code = None if language == i18n.DEFAULT else language
        with i18n.speaking(language):
            menus = [(scope, menu(chats)) for chats, scope in scopes]
        for scope, commands in menus:
            await bot.set_my_commands(
                [BotCommand(c, d) for c, d in commands], scope=scope, language_code=code
            )


async def _post_shutdown(application: Application) -> None:
    """Stop the import worker, the runtime's database thread and TMDB's connections."""
    await asyncio.to_thread(application.bot_data.imports.stop)
    rt = application.bot_data.runtime
    if rt.service.tmdb is not None:
        await rt.service.tmdb.close()
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
        rate_limiter=AlertLimiter(max_retries=3) if settings.rate_limit else None,
    )
    queue = JournalingQueue()
    # The updater's webhook server judges each request by its headers (bot/telegram/webhook.py).
    builder: Any = ApplicationBuilder().updater(WebhookUpdater(bot, queue))
    builder = builder.post_init(_post_init).post_shutdown(_post_shutdown)
    builder = builder.context_types(CONTEXT_TYPES)
    processor = PerChatUpdateProcessor(CONCURRENT_CHATS)
    builder = builder.concurrent_updates(processor)
    application = builder.build()

    if settings.tmdb is not None:
        service.tmdb = TmdbFilms(settings.tmdb)
    conversation = Conversation(service)
    rt = BotRuntime(service, conversation, settings.delivery)
    rt.taps = processor.taps
    rt.running = lambda: application.running
    application.bot_data.runtime = rt
    application.bot_data.imports = ImportDesk(settings.db_path)
    refitter = Refitter(settings) if settings.refit is not None else None
    application.bot_data.refitter = refitter
    if settings.catalog_refresh is not None:
        refit = refitter.refit if refitter is not None and settings.refit_minutes > 0 else None
        watch = CatalogWatch(settings.db_path, settings.catalog_refresh, refit)
        application.bot_data.catalog = watch
    if settings.webhook:
        queue.journal_with(rt.record)
    else:
        bot.journal_with(rt.record)

    application.add_handler(TypeHandler(Update, skip_done_updates), group=-1)
    application.add_handler(CommandHandler(sorted(c.name for c in COMMANDS), on_text))
    # Unknown commands get a hint in private chats; plain text gets a nudge or a score.
    application.add_handler(MessageHandler(filters.TEXT & filters.ChatType.PRIVATE, on_text))
    # A file sent in a private chat: an IMDb or Letterboxd export to import.
    application.add_handler(
        MessageHandler(filters.Document.ALL & filters.ChatType.PRIVATE, on_document)
    )
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(InlineQueryHandler(on_inline_query))
    application.add_handler(MessageHandler(filters.StatusUpdate.LEFT_CHAT_MEMBER, on_member_left))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrated))
    application.add_handler(ChatMemberHandler(on_membership, ChatMemberHandler.ANY_CHAT_MEMBER))
    application.add_handler(PollHandler(on_poll))

    application.add_handler(TypeHandler(Update, close_unanswered), group=1)
    application.add_error_handler(on_error)
    jobs = application.job_queue
    if jobs is not None:
        jobs.run_repeating(prune_job, interval=PRUNE_SECONDS, first=PRUNE_SECONDS)
        if refitter is not None and settings.refit_minutes > 0:
            interval = settings.refit_minutes * 60
            jobs.run_repeating(refitter.job, interval=interval, first=interval, name="refit_job")
        if application.bot_data.catalog is not None:
            jobs.run_repeating(
                catalog_job, interval=CHECK_SECONDS, first=FIRST_CHECK_SECONDS, name="catalog_job"
            )
        if refitter is not None and not service.ready:  # a fresh database: the first fit now
            jobs.run_once(refitter.job, when=0, name="first_fit")
    schedule_alerts(application)
    return application
