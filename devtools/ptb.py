"""Build and run a real python-telegram-bot Application against a FakeTelegram.

async def scenario():
    app = application_builder(server).build()
    app.add_handler(CommandHandler("start", start))
    async with running(app):
        update_id = server.send_text(42, "/start")
        reply = await server.wait_for_reply(42, after=update_id)

asyncio.run(scenario())
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram.ext import Application, ApplicationBuilder

from devtools.fake_telegram.server import FakeTelegram

TEST_TOKEN = "123456:TEST-token_for_the_fake_server"


def application_builder(
    server: FakeTelegram, token: str = TEST_TOKEN, timeout: float = 2.0
) -> ApplicationBuilder:
    """An ApplicationBuilder pointed at ``server`` with short timeouts (add handlers, build)."""
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .connect_timeout(timeout)
        .read_timeout(timeout)
        .write_timeout(timeout)
        .pool_timeout(timeout)
        .get_updates_connect_timeout(timeout)
        .get_updates_read_timeout(timeout)
        .get_updates_write_timeout(timeout)
        .get_updates_pool_timeout(timeout)
    )


@asynccontextmanager
async def running(app: Application, poll_timeout: int = 1) -> AsyncIterator[Application]:
    """Initialize and start ``app`` and poll for updates; stop everything on exit."""
    async with app:
        await app.start()
        if app.updater is None:
            raise ValueError("the application was built without an updater")
        await app.updater.start_polling(poll_interval=0, timeout=poll_timeout)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
