"""Chat actions ("typing...", "sending a photo...") through the real PTB stack and the loopback
Bot API: shown only for an answer still being made after SLOW_ANSWER_SECONDS, never awaited
before an answer nor sent after it, and never through the rate limiter (issue 26)."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from sqlite_utils import Database
from telegram.ext import AIORateLimiter, Application

from bot.commands.conversation import Conversation
from bot.files import pictures
from bot.telegram import sending
from devtools.app import messages, run_bot
from devtools.catalog import FROZEN, TED
from devtools.fake_telegram.server import FakeTelegram
from storage import chats, ratings, users

ANN, BOB = 611, 612
FORUM = -100_611
# Longer than SLOW_ANSWER_SECONDS by a margin a busy machine's event loop cannot eat.
SLOW = sending.SLOW_ANSWER_SECONDS + 2.0
# "Fast" in the test of fast answers: a loaded test machine can take over a second for a first
# /recommend or chart, and an answer is fast when it beats the threshold, whatever it is.
PATIENT = 60.0


def _methods(server: FakeTelegram, chat_id: int) -> list[str]:
    """The chat's Bot API calls that showed something, in the order the server received them."""
    shown = ("sendChatAction", "sendMessage", "sendPhoto")
    return [
        c.method if c.method != "sendChatAction" else c.params["action"]
        for c in server.calls
        if c.ok and c.method in shown and str(c.params.get("chat_id")) == str(chat_id)
    ]


def _slow_answers(monkeypatch, commands: tuple[str, ...]) -> None:
    """Making the answer to these commands takes SLOW seconds in the database thread, as it does
    when that thread is busy with another chat's import or a refit's swap."""
    on_text = Conversation.on_text

    def slow_on_text(self, sender, chat, text, *args, **kwargs):
        if text.split()[0] in commands:
            time.sleep(SLOW)
        return on_text(self, sender, chat, text, *args, **kwargs)

    monkeypatch.setattr(Conversation, "on_text", slow_on_text)


def _slow_drawing(monkeypatch) -> None:
    """Drawing a chart takes SLOW seconds (a slow machine)."""
    draw = pictures.draw

    def slow_draw(*args, **kwargs):
        time.sleep(SLOW)
        return draw(*args, **kwargs)

    monkeypatch.setattr(pictures, "draw", slow_draw)


def _through_limiter(monkeypatch) -> list[str]:
    """The endpoints that go through the shipped AIORateLimiter, as they go."""
    endpoints: list[str] = []
    process_request = AIORateLimiter.process_request

    async def counted(self, *args, **kwargs):
        endpoints.append(kwargs["endpoint"])
        return await process_request(self, *args, **kwargs)

    monkeypatch.setattr(AIORateLimiter, "process_request", counted)
    return endpoints


def _waiting_actions() -> list[asyncio.Task]:
    """The bot's chat actions still waiting to be shown (or being sent)."""
    return [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__name__", "") == "_chat_action_after"
    ]


def _no_warnings(caplog: pytest.LogCaptureFixture) -> None:
    loud = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert loud == []


def test_fast_answers_go_without_any_chat_action(
    fake_telegram: FakeTelegram, service, settings, monkeypatch, caplog
) -> None:
    monkeypatch.setattr(sending, "SLOW_ANSWER_SECONDS", PATIENT)

    async def scenario(app: Application) -> None:
        assert isinstance(app.bot.rate_limiter, AIORateLimiter)  # the shipped one
        fake_telegram.send_text(ANN, "/rate Frozen 9")
        fake_telegram.send_text(ANN, "/recommend 3")
        fake_telegram.send_text(ANN, "/similar Frozen")
        fake_telegram.send_text(ANN, "/taste")
        await messages(fake_telegram, ANN, 3)
        await fake_telegram.wait_for_calls("sendPhoto", 1, timeout=20)
        # Each waiting action ends with its answer: none is left to show up later.
        deadline = time.monotonic() + 10
        while _waiting_actions() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert _waiting_actions() == []

    run_bot(fake_telegram, service, settings, scenario)
    assert _methods(fake_telegram, ANN) == ["sendMessage"] * 3 + ["sendPhoto"]
    assert fake_telegram.calls_of("sendChatAction") == []
    _no_warnings(caplog)


def test_a_slow_answer_shows_typing_before_it_outside_the_limiter(
    fake_telegram: FakeTelegram, service, settings, monkeypatch, caplog
) -> None:
    _slow_answers(monkeypatch, ("/recommend",))
    through_limiter = _through_limiter(monkeypatch)

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/rate Frozen 9")
        fake_telegram.send_text(ANN, "/recommend 3")
        await messages(fake_telegram, ANN, 2)

    run_bot(fake_telegram, service, settings, scenario)
    assert _methods(fake_telegram, ANN) == ["sendMessage", "typing", "sendMessage"]
    assert "sendChatAction" not in through_limiter
    assert through_limiter.count("sendMessage") == 2
    _no_warnings(caplog)


def test_a_slow_chart_is_announced_with_upload_photo(
    fake_telegram: FakeTelegram, service, settings, monkeypatch
) -> None:
    _slow_drawing(monkeypatch)

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/rate Frozen 9")
        fake_telegram.send_text(ANN, "/taste")
        await fake_telegram.wait_for_calls("sendPhoto", 1, timeout=20)

    run_bot(fake_telegram, service, settings, scenario)
    assert _methods(fake_telegram, ANN) == ["sendMessage", "upload_photo", "sendPhoto"]
    assert fake_telegram.calls_of("sendPhoto")[0].params["parse_mode"] == "HTML"


def test_a_chat_action_telegram_refuses_changes_nothing(
    fake_telegram: FakeTelegram, service, settings, monkeypatch, caplog
) -> None:
    _slow_answers(monkeypatch, ("/recommend",))
    fake_telegram.inject_fault("bad_gateway", "sendChatAction")

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/recommend 3")
        await messages(fake_telegram, ANN, 1)

    run_bot(fake_telegram, service, settings, scenario)
    assert [c.status for c in fake_telegram.calls_of("sendChatAction")] == [502]
    assert _methods(fake_telegram, ANN) == ["sendMessage"]  # the refused action is not shown
    _no_warnings(caplog)


def test_chat_actions_in_a_forum_topic_carry_its_thread(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database, monkeypatch
) -> None:
    for user, liked in ((ANN, TED), (BOB, FROZEN)):
        users.save_user(catalog_db, user, f"User {user}")
        ratings.set_rating(catalog_db, user, liked, 9)
        chats.join_pool(catalog_db, FORUM, user)
    topic = fake_telegram.create_topic(ANN, FORUM, "Movie club")
    _slow_answers(monkeypatch, ("/grouprec",))
    _slow_drawing(monkeypatch)

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(
            ANN, "/grouprec 3", chat_id=FORUM, chat_type="supergroup", message_thread_id=topic
        )
        await fake_telegram.wait_for_calls("sendPhoto", 1, timeout=20)

    run_bot(fake_telegram, service, settings, scenario)
    actions = fake_telegram.calls_of("sendChatAction")
    assert [c.params["action"] for c in actions] == ["typing", "upload_photo"]
    assert {c.params.get("message_thread_id") for c in actions} == {topic}
