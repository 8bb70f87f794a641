"""moviebot's own python-telegram-bot Application against a FakeTelegram, in one process.

``run_bot`` builds the bot's application (``bot.telegram.app.build_application``) and runs it
the way ``run_polling`` does, then a scenario; ``messages`` waits for what the bot sent::

    async def scenario(app):
        fake_telegram.send_text(501, "/rate Ted 8", first_name="Ann")
        assert (await messages(fake_telegram, 501, 1))[0]["text"] == "Ted (2012): 8/10 ✓"

    run_bot(fake_telegram, service, settings, scenario)

``run_bot_without_polling`` runs a scenario with the application built and nothing polling;
``webhook_bot`` serves the bot's webhook on loopback instead. For the real ``moviebot run``
process, see ``bot_process.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from telegram.ext import Application

from bot.service import MovieService
from bot.telegram.app import ALLOWED_UPDATES, BotSettings, build_application
from devtools import PATIENCE
from devtools.fake_telegram.server import FakeTelegram


def run_bot(
    server: FakeTelegram,
    service: MovieService,
    settings: BotSettings,
    scenario: Callable[[Application], Awaitable[Any]],
) -> None:
    """Run the bot the way `moviebot run` does (init, post_init, poll for the update types it
    asks for, start), then `scenario`."""

    async def main() -> None:
        application = build_application(settings, service)
        async with application:
            await application.post_init(application)
            await application.updater.start_polling(
                poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES
            )
            await application.start()
            try:
                await scenario(application)
            finally:
                await application.updater.stop()
                await application.stop()
        await application.post_shutdown(application)

    asyncio.run(main())


def run_bot_without_polling(
    server: FakeTelegram,
    service: MovieService,
    settings: BotSettings,
    scenario: Callable[[Application], Awaitable[Any]],
) -> None:
    """Build the bot and run `scenario` with its application, nothing polling meanwhile."""

    async def main() -> None:
        application = build_application(settings, service)
        async with application:
            await scenario(application)
        await application.post_shutdown(application)

    asyncio.run(main())


# The secret the in-process webhook bot (webhook_bot) asks Telegram to send.
WEBHOOK_BOT_SECRET = "webhook-secret_1"


@asynccontextmanager
async def webhook_bot(
    settings: BotSettings, service: MovieService, port: int
) -> AsyncIterator[Application]:
    """The bot's application in webhook mode on loopback `port`, path /telegram."""
    application = build_application(dataclasses.replace(settings, webhook=True), service)
    async with application:
        await application.post_init(application)
        await application.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="telegram",
            webhook_url="https://bot.example.org/telegram",
            secret_token=WEBHOOK_BOT_SECRET,
            allowed_updates=ALLOWED_UPDATES,
        )
        await application.start()
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
    await application.post_shutdown(application)


async def messages(server: FakeTelegram, chat_id: int, count: int, timeout: float = PATIENCE):
    """Wait until the bot has `count` messages in the chat; return them (edits applied)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = server.sent_messages(chat_id)
        if len(sent) >= count:
            return sent
        await asyncio.sleep(0.02)
    raise AssertionError(
        f"expected {count} messages in {chat_id}, got {server.sent_messages(chat_id)}"
    )


def buttons(message: dict) -> list[str]:
    """The callback data of every inline button under `message`, row by row (link buttons,
    which carry none, are left out)."""
    markup = message.get("reply_markup") or {}
    rows = markup.get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]
