"""The fake Telegram server behaves like Telegram for the real python-telegram-bot stack.

PTB tests build a real ``Application`` against ``FakeTelegram`` over loopback HTTP and run it
inside ``asyncio.run``; raw tests speak HTTP with urllib to pin down the server's own rules
(offsets, long polling, validation). The ``fake_telegram`` fixture fails a test whose bot made a
call Telegram would reject, so every PTB test here also proves PTB's requests pass the validator.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import aiohttp
import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
)

from devtools import PATIENCE
from devtools.fake_telegram import FakeTelegram, validate_call, validate_object
from devtools.fake_telegram.objects import BOT_USERNAME
from devtools.fake_telegram.webhook import SECRET_HEADER
from devtools.paths import REPO
from devtools.ptb import application_builder, running

# The fake_telegram fixture comes from tests/conftest.py (pytest_plugins).

USER = 42
GROUP = -1001234567890
LIKE = InlineKeyboardMarkup([[InlineKeyboardButton("👍 Like", callback_data="like:1")]])


# ----------------------------------------------------------------------------- a tiny bot


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Repeat the command's arguments under a Like button."""
    message = update.effective_message
    if message is None:
        return
    await message.reply_text(
        " ".join(context.args or []) or "usage: /echo <text>", reply_markup=LIKE
    )


async def liked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Acknowledge the tap and replace the keyboard with a thank-you."""
    query = update.callback_query
    if query is None:
        return
    await query.answer("Saved")
    await query.edit_message_text(f"Thanks for {query.data}")


async def suggest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer one article per word of the inline query."""
    query = update.inline_query
    if query is None:
        return
    results = [
        InlineQueryResultArticle(str(i), word, InputTextMessageContent(f"Watch {word}"))
        for i, word in enumerate(query.query.split() or ["Heat"])
    ]
    await query.answer(results, cache_time=0)


def echo_app(server: FakeTelegram, **builder_options: Any):
    """The tiny bot as a PTB Application pointed at ``server``."""
    builder = application_builder(server)
    for name, value in builder_options.items():
        builder = getattr(builder, name)(value)
    app = builder.build()
    app.add_handler(CommandHandler("echo", echo))
    app.add_handler(CallbackQueryHandler(liked))
    app.add_handler(InlineQueryHandler(suggest))
    return app


# ----------------------------------------------------------------------------- raw HTTP


def call_api(
    server: FakeTelegram, method: str, params: dict[str, Any] | None = None, *, body: str = "form"
) -> tuple[int, dict[str, Any]]:
    """Call the server like a bare HTTP client: body "form", "json" or "query" (GET)."""
    params = params or {}
    url = f"{server.base_url}123:ABC/{method}"
    as_text = urllib.parse.urlencode(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    )
    if body == "query":
        request = urllib.request.Request(f"{url}?{as_text}")
    elif body == "json":
        request = urllib.request.Request(
            url, json.dumps(params).encode(), {"Content-Type": "application/json"}
        )
    else:
        request = urllib.request.Request(url, as_text.encode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def update_ids(server: FakeTelegram, **params: Any) -> list[int]:
    status, body = call_api(server, "getUpdates", params)
    assert status == 200, body
    return [u["update_id"] for u in body["result"]]


# ----------------------------------------------------------------------------- PTB over HTTP


def test_command_gets_a_reply_with_an_inline_keyboard(fake_telegram: FakeTelegram) -> None:
    async def scenario() -> dict[str, Any]:
        async with running(echo_app(fake_telegram)):
            update_id = fake_telegram.send_text(USER, "/echo Blade Runner")
            return await fake_telegram.wait_for_reply(USER, after=update_id)

    reply = asyncio.run(scenario())
    assert reply["text"] == "Blade Runner"
    assert reply["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "like:1"
    assert fake_telegram.sent_messages(USER) == [reply]


def test_group_command_for_this_bot_is_answered_and_chatter_is_hidden(
    fake_telegram: FakeTelegram,
) -> None:
    group = {"chat_id": GROUP, "chat_type": "supergroup", "title": "Movie night"}

    async def scenario() -> list[str]:
        async with running(echo_app(fake_telegram)):
            assert fake_telegram.send_text(USER, "who wants pizza?", **group) is None
            assert fake_telegram.send_text(USER, "/echo@other_bot Heat", **group) is None
            texts = []
            for command in ("/echo Ran", f"/echo@{BOT_USERNAME} Alien"):
                update_id = fake_telegram.send_text(USER, command, **group)
                reply = await fake_telegram.wait_for_reply(GROUP, after=update_id)
                assert reply["chat"] == {"id": GROUP, "type": "supergroup", "title": "Movie night"}
                texts.append(reply["text"])
            return texts

    assert asyncio.run(scenario()) == ["Ran", "Alien"]


def test_button_tap_is_answered_and_edits_the_message(fake_telegram: FakeTelegram) -> None:
    async def scenario() -> tuple[int, dict[str, Any]]:
        async with running(echo_app(fake_telegram)):
            fake_telegram.send_text(USER, "/echo Heat")
            shown = await fake_telegram.wait_for_reply(USER)
            tap_id = fake_telegram.tap(USER, shown, "like:1")
            return tap_id, await fake_telegram.wait_for_reply(USER, after=tap_id)

    tap_id, edited = asyncio.run(scenario())
    assert fake_telegram.callback_answer(tap_id)["text"] == "Saved"
    assert edited["text"] == "Thanks for like:1"
    assert "reply_markup" not in edited
    [message] = fake_telegram.sent_messages(USER)
    assert message["message_id"] == edited["message_id"] and "edit_date" in message


def test_tapping_a_button_the_message_does_not_have_is_refused(
    fake_telegram: FakeTelegram,
) -> None:
    fake_telegram.send_text(USER, "hi")
    with pytest.raises(ValueError, match="no button"):
        fake_telegram.tap(USER, 1, "like:1", chat_id=USER)


def test_send_photo_uploads_the_bytes_as_multipart(fake_telegram: FakeTelegram) -> None:
    poster = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    fake_telegram.add_chat(USER)

    async def scenario() -> Any:
        async with application_builder(fake_telegram).build() as app:
            return await app.bot.send_photo(
                USER,
                poster,
                caption="<b>Heat</b> (1995)",
                parse_mode=ParseMode.HTML,
                filename="heat.png",
            )

    message = asyncio.run(scenario())
    [upload] = fake_telegram.uploads
    assert (upload.name, upload.filename, upload.data) == ("photo", "heat.png", poster)
    assert message.caption == "Heat (1995)"
    assert message.photo[-1].file_size == len(poster)


def test_inline_query_is_answered_with_articles(fake_telegram: FakeTelegram) -> None:
    async def scenario() -> None:
        async with running(echo_app(fake_telegram)):
            fake_telegram.inline_query(USER, "Heat Alien")
            await fake_telegram.wait_for_calls("answerInlineQuery")

    asyncio.run(scenario())
    [call] = fake_telegram.calls_of("answerInlineQuery")
    assert [r["title"] for r in call.params["results"]] == ["Heat", "Alien"]


def test_well_behaved_bot_makes_no_violations(fake_telegram: FakeTelegram) -> None:
    """A tour of the methods moviebot uses; the fixture asserts zero violations at teardown."""
    from telegram import BotCommand, BotCommandScopeAllPrivateChats

    fake_telegram.send_text(USER, "hello", first_name="Ann", username="ann")

    async def scenario() -> None:
        async with application_builder(fake_telegram).build() as app:
            bot = app.bot
            assert bot.username == BOT_USERNAME
            commands = [BotCommand("start", "Start rating movies"), BotCommand("top", "Top 10")]
            scope = BotCommandScopeAllPrivateChats()
            assert await bot.set_my_commands(commands, scope=scope)
            assert await bot.get_my_commands(scope=scope) == tuple(commands)
            assert await bot.delete_my_commands(scope=scope)
            assert await bot.send_chat_action(USER, "typing")
            sent = await bot.send_message(
                USER,
                "<i>Heat</i> &amp; more",
                parse_mode=ParseMode.HTML,
                reply_markup=LIKE,
                reply_parameters=ReplyParameters(1),
            )
            assert sent.text == "Heat & more" and sent.reply_to_message.text == "hello"
            await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=None)
            with pytest.raises(BadRequest, match="not modified"):
                await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=None)
            assert await bot.delete_message(USER, sent.message_id)
            assert (await bot.get_chat(USER)).username == "ann"
            assert (await bot.get_chat_member(USER, USER)).status == "member"
            assert await bot.set_webhook("https://example.org/hook", allowed_updates=["message"])
            assert (await bot.get_webhook_info()).url == "https://example.org/hook"
            assert await bot.delete_webhook(drop_pending_updates=True)
            assert await bot.close()

    asyncio.run(scenario())
    assert fake_telegram.pending_updates() == []
    assert fake_telegram.sent_messages(USER) == []


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # inside PTB
def test_flood_control_retry_comes_no_sooner_than_retry_after(
    fake_telegram: FakeTelegram,
) -> None:
    fault = fake_telegram.inject_fault("flood", method="sendMessage", retry_after=1)

    async def scenario() -> dict[str, Any]:
        app = echo_app(fake_telegram, rate_limiter=AIORateLimiter(max_retries=2))
        async with running(app):
            fake_telegram.send_text(USER, "/echo Ran")
            return await fake_telegram.wait_for_reply(USER, timeout=5)

    assert asyncio.run(scenario())["text"] == "Ran"
    assert [c.status for c in fake_telegram.calls_of("sendMessage")] == [429, 200]
    assert fault.retry_delay() >= 1.0


def test_gateway_errors_timeouts_and_drops_reach_ptb_as_errors(
    fake_telegram: FakeTelegram,
) -> None:
    fake_telegram.add_chat(USER)

    async def send(app: Any, kind: str) -> type[Exception] | None:
        fake_telegram.inject_fault(kind, method="sendMessage", delay=1.0)  # type: ignore[arg-type]
        try:
            await app.bot.send_message(USER, kind)
        except NetworkError as error:
            return type(error)
        return None

    async def scenario() -> list[type[Exception] | None]:
        async with application_builder(fake_telegram, timeout=0.3).build() as app:
            return [await send(app, kind) for kind in ("bad_gateway", "drop", "delay")]

    assert asyncio.run(scenario()) == [NetworkError, NetworkError, TimedOut]
    # Only the slow call took effect: Telegram sent it, the answer was lost.
    assert [m["text"] for m in fake_telegram.sent_messages(USER)] == ["delay"]


def test_confirmed_updates_are_never_redelivered_to_a_restarted_bot(
    fake_telegram: FakeTelegram,
) -> None:
    async def first_run() -> None:
        async with running(echo_app(fake_telegram)):
            for title in ("Heat", "Ran", "Alien"):
                fake_telegram.send_text(USER, f"/echo {title}")
                await fake_telegram.wait_for_reply(USER)

    async def second_run(polls_before: int) -> None:
        async with running(echo_app(fake_telegram)):
            await fake_telegram.wait_for_calls("getUpdates", count=polls_before + 1)

    asyncio.run(first_run())
    assert fake_telegram.pending_updates() == []
    asyncio.run(second_run(len(fake_telegram.calls_of("getUpdates"))))
    assert len(fake_telegram.calls_of("sendMessage")) == 3


# ----------------------------------------------------------------------------- raw HTTP rules


def test_get_updates_offset_confirms_and_forgets_older_updates(
    fake_telegram: FakeTelegram,
) -> None:
    first, second, third = (fake_telegram.send_text(USER, t) for t in ("a", "b", "c"))
    assert update_ids(fake_telegram) == [first, second, third]
    assert update_ids(fake_telegram, offset=second) == [second, third]
    assert update_ids(fake_telegram, offset=first) == [second, third]  # `first` is gone
    assert update_ids(fake_telegram, limit=1) == [second]
    assert update_ids(fake_telegram, offset=-1) == [third]  # keeps only the last one
    assert update_ids(fake_telegram, offset=third + 1) == []
    assert fake_telegram.pending_updates() == []


def test_long_poll_answers_as_soon_as_an_update_arrives(fake_telegram: FakeTelegram) -> None:
    started = time.monotonic()
    assert update_ids(fake_telegram, timeout=1) == []
    assert 0.9 <= time.monotonic() - started < 2

    threading.Timer(0.2, fake_telegram.send_text, args=(USER, "late")).start()
    started = time.monotonic()
    assert len(update_ids(fake_telegram, timeout=10)) == 1
    assert time.monotonic() - started < 2


def test_allowed_updates_decides_which_updates_are_stored(fake_telegram: FakeTelegram) -> None:
    assert update_ids(fake_telegram, allowed_updates=["callback_query"]) == []
    assert fake_telegram.send_text(USER, "ignored") is None
    assert update_ids(fake_telegram, allowed_updates=[]) == []
    assert fake_telegram.send_text(USER, "seen") is not None


def test_get_updates_conflicts_with_an_active_webhook(fake_telegram: FakeTelegram) -> None:
    assert call_api(fake_telegram, "setWebhook", {"url": "https://example.org/h"})[0] == 200
    status, body = call_api(fake_telegram, "getUpdates")
    assert status == 409 and body["description"].startswith("Conflict:")
    assert call_api(fake_telegram, "deleteWebhook")[0] == 200
    assert call_api(fake_telegram, "getUpdates")[0] == 200


def test_pushed_webhook_updates_arrive_in_order_with_the_secret_and_failures_are_retried() -> None:
    received: list[tuple[int, int, str | None]] = []  # (update_id, chat, secret)
    failed_once: set[int] = set()

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            update = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            chat = update["message"]["chat"]["id"]
            received.append((update["update_id"], chat, self.headers.get(SECRET_HEADER)))
            # The bot fails the first update of one chat once: Telegram must send it again,
            # before that chat's later updates.
            fail = chat == USER + 1 and not failed_once
            if chat == USER + 1:
                failed_once.add(update["update_id"])
            self.send_response(500 if fail else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    server = FakeTelegram(push_webhook=True).run_in_thread()
    try:
        url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        params = {"url": url, "secret_token": "s3cret", "max_connections": 5}
        assert call_api(server, "setWebhook", params)[0] == 200
        sent = [server.send_text(USER if i % 3 else USER + 1, f"/echo {i}") for i in range(9)]
        deadline = time.monotonic() + 10
        while server.pending_updates():
            assert time.monotonic() < deadline, "updates were never delivered"
            time.sleep(0.02)
    finally:
        server.stop_thread()
        receiver.shutdown()

    assert all(secret == "s3cret" for _, _, secret in received)
    first = sent[0]  # the first update of chat USER + 1
    assert [u for u, _, _ in received].count(first) == 2  # failed with 500, then delivered
    assert sorted({u for u, _, _ in received}) == sent
    for chat in (USER, USER + 1):
        # Each chat's updates arrive in order (the retried one is not overtaken).
        order = [u for u, c, _ in received if c == chat]
        assert order == sorted(order)
    statuses = dict.fromkeys(sent, 0)
    for update_id, status in server.webhook_deliveries:
        statuses[update_id] = status
    assert set(statuses.values()) == {200}


@pytest.mark.parametrize("body", ["form", "json", "query"])
def test_form_json_and_query_string_calls_are_equivalent(
    fake_telegram: FakeTelegram, body: str
) -> None:
    fake_telegram.add_chat(USER)
    markup = {"inline_keyboard": [[{"text": "More", "callback_data": "more"}]]}
    status, answer = call_api(
        fake_telegram,
        "sendMessage",
        {"chat_id": USER, "text": "Heat", "reply_markup": markup, "disable_notification": True},
        body=body,
    )
    assert status == 200 and answer["ok"] is True
    assert answer["result"]["reply_markup"] == markup
    assert validate_object("Message", answer["result"]) == []


def test_edit_to_the_same_content_is_not_modified(fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_chat(USER)
    _, sent = call_api(fake_telegram, "sendMessage", {"chat_id": USER, "text": "Heat"})
    edit = {"chat_id": USER, "message_id": sent["result"]["message_id"], "text": "Heat"}
    status, body = call_api(fake_telegram, "editMessageText", edit)
    assert status == 400 and "message is not modified" in body["description"]
    status, body = call_api(fake_telegram, "editMessageText", {**edit, "message_id": 99})
    assert (status, body["description"]) == (400, "Bad Request: message to edit not found")
    assert fake_telegram.violations == []  # state errors are the bot's to handle, not spec breaks


def long_button(data: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": "Go", "callback_data": data}]]}


@pytest.mark.parametrize(
    ("method", "params", "status", "description"),
    [
        ("sendMovie", {"chat_id": USER}, 404, "Not Found"),
        ("sendMessage", {"chat_id": USER, "text": "hi", "colour": "red"}, 400, "unknown param"),
        ("sendMessage", {"text": "hi"}, 400, 'parameter "chat_id" is required'),
        ("sendMessage", {"chat_id": USER}, 400, "message text is empty"),
        ("sendMessage", {"chat_id": USER, "text": "x" * 4097}, 400, "message is too long"),
        ("sendMessage", {"chat_id": USER, "text": "é" * 4096}, 200, ""),
        ("sendMessage", {"chat_id": USER, "text": "   "}, 400, "message text is empty"),
        (
            "sendMessage",
            {"chat_id": USER, "text": "hi", "reply_markup": long_button("x" * 65)},
            400,
            "BUTTON_DATA_INVALID",
        ),
        (
            "sendMessage",  # 64 bytes in 32 characters is too long too: the limit is bytes
            {"chat_id": USER, "text": "hi", "reply_markup": long_button("é" * 33)},
            400,
            "BUTTON_DATA_INVALID",
        ),
        (
            "sendMessage",
            {"chat_id": USER, "text": "hi", "reply_markup": long_button("x" * 64)},
            200,
            "",
        ),
        ("sendMessage", {"chat_id": "@nobody", "text": "hi"}, 400, "chat not found"),
        (
            "sendMessage",
            {"chat_id": USER, "text": "hi", "message_thread_id": "abc"},
            400,
            'parameter "message_thread_id" must be Integer',
        ),
        (
            "editMessageText",
            {"chat_id": USER, "message_id": "x", "text": "hi"},
            400,
            'parameter "message_id" must be Integer',
        ),
        (
            "sendMessage",
            {"chat_id": USER, "text": "hi", "disable_notification": "maybe"},
            400,
            'parameter "disable_notification" must be Boolean',
        ),
        (
            "sendMessage",
            {"chat_id": USER, "text": "hi", "reply_markup": "{oops"},
            400,
            "can't parse reply_markup JSON object",
        ),
        (
            "sendPhoto",
            {"chat_id": USER, "photo": "AgADfile", "caption": "c" * 1025},
            400,
            "caption is too long",
        ),
    ],
)
def test_validator_rejects_what_telegram_rejects(
    fake_telegram: FakeTelegram,
    method: str,
    params: dict[str, Any],
    status: int,
    description: str,
) -> None:
    fake_telegram.add_chat(USER)
    for body in ("form", "json"):
        got_status, answer = call_api(fake_telegram, method, params, body=body)
        assert got_status == status, answer
        if status != 200:
            assert answer["ok"] is False and answer["error_code"] == status
            assert description in answer["description"]
    spec_break = status in (400, 404) and "chat not found" not in description
    assert bool(fake_telegram.violations) == spec_break
    fake_telegram.violations.clear()


def test_wrong_token_is_unauthorized_when_a_token_is_expected() -> None:
    with FakeTelegram(token="123:ABC") as server:
        assert call_api(server, "getMe")[0] == 200
        request = urllib.request.Request(f"{server.base_url}999:XYZ/getMe", b"")
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(request, timeout=5)
        assert error.value.code == 401
        assert json.loads(error.value.read())["description"] == "Unauthorized"
        assert server.tokens == {"123:ABC", "999:XYZ"}


def test_multipart_file_for_a_string_parameter_is_a_wrong_type(
    fake_telegram: FakeTelegram,
) -> None:
    fake_telegram.add_chat(USER)

    async def post() -> tuple[int, dict[str, Any]]:
        form = aiohttp.FormData()
        form.add_field("chat_id", str(USER))
        form.add_field("text", b"Heat", filename="text.txt")
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{fake_telegram.base_url}123:ABC/sendMessage", data=form) as response,
        ):
            return response.status, await response.json()

    status, body = asyncio.run(post())
    assert status == 400 and 'parameter "text" must be String' in body["description"]
    fake_telegram.violations.clear()


def test_blocking_waits_see_replies_made_from_other_threads(fake_telegram: FakeTelegram) -> None:
    update_id = fake_telegram.send_text(USER, "/top")
    reply = {"chat_id": USER, "text": "Top 10"}
    threading.Timer(0.1, call_api, args=(fake_telegram, "sendMessage", reply)).start()
    assert fake_telegram.wait_for_reply_sync(USER, after=update_id)["text"] == "Top 10"
    assert len(fake_telegram.wait_for_calls_sync("sendMessage", count=1)) == 1
    with pytest.raises(TimeoutError, match="no 2 sendMessage call"):
        fake_telegram.wait_for_calls_sync("sendMessage", count=2, timeout=0.1)


def test_fixture_fails_the_test_on_violations() -> None:
    from devtools.fixtures import fail_on_violations  # loaded by pytest_plugins

    with FakeTelegram() as server:
        call_api(server, "sendMessage", {"text": "hi"})
    with pytest.raises(pytest.fail.Exception, match='parameter "chat_id" is required'):
        fail_on_violations(server)


# ----------------------------------------------------------------------------- the spec itself


def test_validator_understands_nested_and_union_types() -> None:
    keyboard = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}], []]}
    assert validate_object("InlineKeyboardMarkup", keyboard) == []
    assert validate_call("sendMessage", {"chat_id": "@moviebot_channel", "text": "hi"}) == []
    assert validate_call("sendMessage", {"chat_id": "-100123", "text": "hi"}) == []
    assert validate_call("sendMessage", {"chat_id": [42], "text": "hi"}) == [
        'parameter "chat_id" must be Integer or String, got [42]'
    ]
    not_rows = {"inline_keyboard": [{"text": "A", "callback_data": "a"}]}
    assert validate_object("InlineKeyboardMarkup", not_rows) == [
        "InlineKeyboardMarkup.inline_keyboard[0]: expected Array of InlineKeyboardButton, "
        "got {'text': 'A', 'callback_data': 'a'}"
    ]
    scope = '{"type": "chat", "chat_id": 42}'
    assert validate_call("deleteMyCommands", {"scope": scope}) == []
    assert validate_call("deleteMyCommands", {"scope": '{"type": "everyone"}'}) != []


def test_validator_limits_inline_results_to_fifty() -> None:
    def results(n: int) -> list[dict[str, Any]]:
        content = {"message_text": "Heat"}
        return [
            {"type": "article", "id": str(i), "title": "Heat", "input_message_content": content}
            for i in range(n)
        ]

    assert (
        validate_call("answerInlineQuery", {"inline_query_id": "1", "results": results(50)}) == []
    )
    [error] = validate_call("answerInlineQuery", {"inline_query_id": "1", "results": results(51)})
    assert error.startswith("RESULTS_TOO_MUCH")


def test_updates_and_messages_the_server_makes_are_spec_valid(fake_telegram: FakeTelegram) -> None:
    fake_telegram.send_text(USER, "/start@moviebot_test_bot now", first_name="Ann", username="ann")
    fake_telegram.send_text(USER, "/rate 5", chat_id=GROUP, chat_type="group")
    _, sent = call_api(
        fake_telegram,
        "sendMessage",
        {"chat_id": USER, "text": "Rate it", "reply_markup": long_button("r:1")},
    )
    fake_telegram.tap(USER, sent["result"], "r:1")
    fake_telegram.inline_query(USER, "heat")
    fake_telegram.chosen_inline_result(USER, "0", "heat")
    updates = fake_telegram.pending_updates()
    assert len(updates) == 5
    for update in updates:
        assert validate_object("Update", update) == []
    assert updates[0]["message"]["entities"] == [
        {"type": "bot_command", "offset": 0, "length": len("/start@moviebot_test_bot")}
    ]
    _, me = call_api(fake_telegram, "getMe")
    assert validate_object("User", me["result"]) == []
    assert Update.de_json(updates[0], None).message.text.startswith("/start")


def test_command_entities_count_utf16_units(fake_telegram: FakeTelegram) -> None:
    fake_telegram.send_text(USER, "🎬 /rate 5")
    [update] = fake_telegram.pending_updates()
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 3, "length": 5}]


# ----------------------------------------------------------------------------- other processes


def test_command_line_server_serves_and_takes_control_requests() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.fake_telegram.server", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("FakeTelegram listening on http://127.0.0.1:")
        base_url = line.split()[-1]
        root = base_url.removesuffix("/bot")
        control = urllib.request.Request(
            f"{root}/_harness/send_text",
            json.dumps({"user_id": USER, "text": "/start"}).encode(),
            {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(control, timeout=5) as response:
            update_id = json.loads(response.read())["result"]
        with urllib.request.urlopen(f"{base_url}1:A/getUpdates", timeout=5) as response:
            updates = json.loads(response.read())["result"]
        assert [u["update_id"] for u in updates] == [update_id]
    finally:
        process.terminate()
        process.wait(timeout=PATIENCE)
    assert process.returncode == 0
