"""How an answer looks on Telegram: messages with their keyboards and link previews, photos
(charts; films' posters from TMDB), documents and polls, and "typing..." while an answer is
made, when it is slow.

bot/telegram/delivery.py decides when each step of an answer goes out; this module sends one.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any

from sqlite_utils import Database
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputPollOption,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest

from bot.files import charts, history_export, pictures
from bot.service import MovieService
from bot.tmdb.films import TmdbFilms
from bot.ui.cards import title_link
from bot.ui.posters import poster_caption
from bot.ui.replies import PollRequest, Reply
from storage import movienight
from storage.errors import UnknownMovie
from storage.movies import get_movie

log = logging.getLogger(__name__)

# Every reply text is HTML (bot/ui/html.py), sent and edited with this parse mode. (Not PTB's
# Defaults: those also add a parse_mode to sendPoll, which takes none.)
PARSE_MODE = ParseMode.HTML
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Runs a function in the database thread (BotRuntime.run).
Run = Callable[..., Awaitable[Any]]
# A chat action ("typing...") is shown only for an answer not on its way this long after its
# making began: a fast answer needs none, and none is awaited before an answer (issue 26: one
# before each /recommend cost a round trip first, and a third of the rate limiter's budget).
SLOW_ANSWER_SECONDS = 1.0
# The chat action waiting to be shown for the answer this task is making (chat_action_if_slow).
_waiting_action: contextvars.ContextVar[asyncio.Task[None] | None] = contextvars.ContextVar(
    "waiting_chat_action", default=None
)


def thread_of(update: Update) -> int | None:
    """The forum topic the update came from (replies go there), None outside forum topics."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None or not chat.is_forum or not message.is_topic_message:
        return None
    return message.message_thread_id


async def send_reply(
    bot: Bot,
    chat_id: int,
    reply: Reply,
    thread: int | None,
    *,
    run: Run,
    service: MovieService,
) -> Any:
    """Send one reply: a poll, a photo with a caption when it asks for a picture, or a
    message."""

    async def send_text(text: str) -> Any:
        return await bot.send_message(
            chat_id,
            text,
            parse_mode=PARSE_MODE,
            reply_markup=markup(reply),
            link_preview_options=preview(reply),
            message_thread_id=thread,
        )

    if reply.poster is not None and service.tmdb is not None:
        sent = await _send_with_poster(bot, chat_id, reply, thread, run, service.db, service.tmdb)
        if sent is not None:
            return sent
    if reply.poll is not None:
        return await _send_poll(bot, chat_id, reply, reply.poll, thread, run, service.db)
    if reply.document is not None:
        name, data = await run(history_export.render, service.db, reply.document)
        return await bot.send_document(
            chat_id,
            InputFile(data, filename=name),
            caption=reply.text[: pictures.MAX_CAPTION],
            parse_mode=PARSE_MODE,
            reply_markup=markup(reply),
            message_thread_id=thread,
        )

    if reply.picture is None:
        return await send_text(reply.text)
    async with chat_action_if_slow(bot, chat_id, ChatAction.UPLOAD_PHOTO, thread):
        try:
            data = await run(pictures.gather, service, reply.picture)
        except charts.ChartError as error:
            return await send_text(
                pictures.instead_of_picture(error, reply.text, reply.picture.language)
            )
        # Drawing takes a fraction of a second of CPU: neither the loop nor the DB thread waits.
        png = await asyncio.to_thread(pictures.draw, reply.picture, data)
    caption = reply.text[: pictures.MAX_CAPTION]
    return await bot.send_photo(
        chat_id,
        png,
        caption=caption,
        parse_mode=PARSE_MODE,
        reply_markup=markup(reply),
        message_thread_id=thread,
    )


async def _send_with_poster(
    bot: Bot,
    chat_id: int,
    reply: Reply,
    thread: int | None,
    run: Run,
    db: Database,
    tmdb: TmdbFilms,
) -> Any:
    """Send the reply as its film's poster with the card as the caption (or the poster with the
    film's lines, then the text, when the caption would be too long); None, sending nothing,
    when TMDB has no poster or cannot say now: the reply then goes as today's text card.

    TMDB is asked here, on the event loop, while the answer is sent: the database thread only
    reads and writes the cache (through `run`), and a cached film costs no request at all.
    """
    poster = reply.poster
    if poster is None:
        return None
    try:
        movie = await run(get_movie, db, poster.movie_id)
    except UnknownMovie:  # removed from the catalog since the answer was made
        return None
    facts = await tmdb.facts(movie, run=run, db=db)
    photo = tmdb.poster_url(facts) if facts is not None else None
    if facts is None or photo is None:
        return None
    caption, rest = poster_caption(
        reply.text, title_link(movie), facts, poster.language, poster.country
    )
    try:
        message = await bot.send_photo(
            chat_id,
            photo,
            caption=caption or None,
            parse_mode=PARSE_MODE,
            reply_markup=None if rest is not None else markup(reply),
            message_thread_id=thread,
        )
    except BadRequest as error:  # Telegram could not fetch the poster: the text card instead
        log.warning("poster of movie %d not sent: %s", movie.id, error)
        return None
    if rest is None:
        return message
    return await bot.send_message(
        chat_id,
        rest,
        parse_mode=PARSE_MODE,
        reply_markup=markup(reply),
        link_preview_options=NO_PREVIEW,
        message_thread_id=thread,
    )


async def _send_poll(
    bot: Bot,
    chat_id: int,
    reply: Reply,
    poll: PollRequest,
    thread: int | None,
    run: Run,
    db: Database,
) -> Any:
    """Send the movie night's poll and attach it to the night (its votes come as `poll`
    updates with its id). Anonymous: who voted for what never reaches the bot or the group."""
    message = await bot.send_poll(
        chat_id,
        reply.text,
        # Plain text: a poll's question and options take no HTML (only custom emoji).
        [InputPollOption(option, text_parse_mode=None) for option in poll.options],
        question_parse_mode=None,
        is_anonymous=True,
        reply_markup=markup(reply),
        message_thread_id=thread,
    )
    if message.poll is not None:
        await run(movienight.poll_sent, db, poll.night, message.poll.id, message.id)
    return message


@asynccontextmanager
async def chat_action_if_slow(
    bot: Bot, chat_id: int, action: str, thread: int | None = None
) -> AsyncIterator[None]:
    """Show `action` ("typing...") in the chat if the answer made inside this block is not on
    its way SLOW_ANSWER_SECONDS after it began. The answer's first Bot API call drops the
    action not shown yet (`answer_goes`, from JournalingBot), and so does the block's end: an
    action never holds up an answer, nor arrives after it."""
    answer_goes()  # an outer block's action gives way to this one
    shown = asyncio.create_task(_chat_action_after(bot, chat_id, action, thread))
    token = _waiting_action.set(shown)
    try:
        yield
    finally:
        _waiting_action.reset(token)
        shown.cancel()
        await asyncio.wait([shown])  # gone with the block: no task outlives the answer


def answer_goes() -> None:
    """The answer this task is making is being sent: its chat action, if not shown yet, is
    not needed any more."""
    waiting = _waiting_action.get()
    if waiting is not None:
        waiting.cancel()


async def _chat_action_after(bot: Bot, chat_id: int, action: str, thread: int | None) -> None:
    """After SLOW_ANSWER_SECONDS, show "sending a photo..." or "typing..."; a failure to show
    it changes nothing (the answer itself is what counts)."""
    await asyncio.sleep(SLOW_ANSWER_SECONDS)
    try:
        await bot.send_chat_action(chat_id, action, message_thread_id=thread)
    except Exception as error:  # TelegramError, or the bot shutting down meanwhile
        log.debug("chat action %s not shown: %s", action, error)


def typing_if_slow(update: Update, worth_it: bool = True) -> AbstractAsyncContextManager[None]:
    """Show "typing..." in the update's chat (and topic) if the answer made inside the block
    is slow (chat_action_if_slow); nothing when not `worth_it` (a short answer)."""
    if update.effective_chat is None or not worth_it:
        return nullcontext()
    chat_id = update.effective_chat.id
    return chat_action_if_slow(update.get_bot(), chat_id, ChatAction.TYPING, thread_of(update))


def preview(reply: Reply) -> LinkPreviewOptions:
    """A preview of the reply's one chosen link, or none at all."""
    if reply.preview_url is None:
        return NO_PREVIEW
    return LinkPreviewOptions(url=reply.preview_url, prefer_large_media=True)


def markup(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's buttons as an inline keyboard, or None."""
    if not reply.buttons:
        return None
    rows = [
        [
            InlineKeyboardButton(b.label, url=b.url)
            if b.url is not None
            else InlineKeyboardButton(b.label, callback_data=b.data)
            for b in row
        ]
        for row in reply.buttons
    ]
    return InlineKeyboardMarkup(rows)
