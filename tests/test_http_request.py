"""The bot's aiohttp transport behaves like PTB's own httpx one, over loopback HTTP.

Each test drives a real python-telegram-bot ``Bot`` on ``AiohttpRequest`` against FakeTelegram
(the ``fake_telegram`` fixture fails a test whose calls Telegram would reject), so the form
encoding, uploads, long polling and error mapping are checked end to end.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, RetryAfter, TimedOut

from bot.telegram.http_request import AiohttpRequest
from devtools.fake_telegram.server import FakeTelegram
from devtools.fake_telegram.webhook import free_port
from devtools.ptb import TEST_TOKEN

USER = 42


def make_bot(server_url: str, file_url: str, timeout: float = 2.0) -> Bot:
    return Bot(
        TEST_TOKEN,
        base_url=server_url,
        base_file_url=file_url,
        request=AiohttpRequest(connection_pool_size=4, read_timeout=timeout, write_timeout=timeout),
        get_updates_request=AiohttpRequest(connection_pool_size=1, read_timeout=timeout),
    )


def fake_bot(server: FakeTelegram, timeout: float = 2.0) -> Bot:
    return make_bot(server.base_url, server.base_file_url, timeout)


def test_text_keyboard_and_unicode_arrive_as_sent(fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_chat(USER)
    text = "Amélie (2001) ✓ 🎬 — «8/10»"
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("8", callback_data="rate:4973:8")]])

    async def scenario() -> Any:
        async with fake_bot(fake_telegram) as bot:
            return await bot.send_message(USER, text, reply_markup=keyboard)

    message = asyncio.run(scenario())
    [sent] = fake_telegram.sent_messages(USER)
    assert sent["text"] == message.text == text
    assert sent["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "rate:4973:8"


def test_a_photo_is_uploaded_as_multipart_with_its_bytes(fake_telegram: FakeTelegram) -> None:
    poster = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    fake_telegram.add_chat(USER)

    async def scenario() -> Any:
        async with fake_bot(fake_telegram) as bot:
            return await bot.send_photo(USER, poster, caption="taste", filename="taste.png")

    message = asyncio.run(scenario())
    [upload] = fake_telegram.uploads
    assert (upload.name, upload.filename, upload.data) == ("photo", "taste.png", poster)
    assert message.caption == "taste"


def test_a_long_poll_may_outlast_the_read_timeout(fake_telegram: FakeTelegram) -> None:
    """PTB adds the poll's own timeout to the read timeout; the transport must honour that."""

    async def scenario() -> tuple[tuple, float]:
        async with fake_bot(fake_telegram, timeout=0.3) as bot:
            started = time.monotonic()
            updates = await bot.get_updates(timeout=1)
            return updates, time.monotonic() - started

    updates, waited = asyncio.run(scenario())
    assert updates == ()
    assert waited >= 0.9


def test_updates_arrive_through_the_long_poll(fake_telegram: FakeTelegram) -> None:
    async def scenario() -> tuple:
        async with fake_bot(fake_telegram) as bot:
            fake_telegram.send_text(USER, "/rate Heat 8")
            return await bot.get_updates(timeout=1)

    [update] = asyncio.run(scenario())
    assert update.message.text == "/rate Heat 8"


@pytest.mark.parametrize(
    ("kind", "error"),
    [("bad_gateway", NetworkError), ("drop", NetworkError), ("delay", TimedOut)],
)
def test_gateway_errors_drops_and_timeouts_become_ptb_errors(
    fake_telegram: FakeTelegram, kind: str, error: type[Exception]
) -> None:
    fake_telegram.add_chat(USER)
    fake_telegram.inject_fault(kind, method="sendMessage", delay=1.0)  # type: ignore[arg-type]

    async def scenario() -> BaseException | None:
        async with fake_bot(fake_telegram, timeout=0.3) as bot:
            try:
                await bot.send_message(USER, kind)
            except NetworkError as raised:
                return raised
        return None

    raised = asyncio.run(scenario())
    assert type(raised) is error


def test_flood_control_reaches_ptb_as_retry_after(fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_chat(USER)
    fake_telegram.inject_fault("flood", method="sendMessage", retry_after=3)

    async def scenario() -> BaseException | None:
        async with fake_bot(fake_telegram) as bot:
            try:
                await bot.send_message(USER, "hi")
            except RetryAfter as raised:
                return raised
        return None

    raised = asyncio.run(scenario())
    assert isinstance(raised, RetryAfter)
    assert "Retry in 3 seconds" in str(raised)


def test_nobody_listening_is_a_network_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    async def scenario() -> None:
        async with make_bot(f"{url}/bot", f"{url}/file/bot"):  # initialising calls getMe
            pass

    with pytest.raises(NetworkError) as raised:
        asyncio.run(scenario())
    assert type(raised.value) is NetworkError


def test_a_request_before_initialize_is_refused() -> None:
    request = AiohttpRequest()

    async def scenario() -> None:
        await request.do_request("http://127.0.0.1:9/", "POST")

    with pytest.raises(RuntimeError, match="not initialized"):
        asyncio.run(scenario())


def test_the_proxy_from_the_environment_is_used_unless_no_proxy_says_otherwise(
    fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_telegram.add_chat(USER)
    for name in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    # A proxy nobody listens on: a call that goes through it fails.
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")

    async def send() -> str | None:
        try:
            async with fake_bot(fake_telegram) as bot:  # initialising calls getMe
                await bot.send_message(USER, "via?")
        except NetworkError as error:
            return str(error)
        return None

    async def scenario() -> list[str | None]:
        through_proxy = await send()
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        return [through_proxy, await send()]

    through_proxy, direct = asyncio.run(scenario())
    assert through_proxy is not None and "ClientProxyConnectionError" in through_proxy
    assert direct is None
    assert [m["text"] for m in fake_telegram.sent_messages(USER)] == ["via?"]
