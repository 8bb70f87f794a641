"""Movie night: the "rate privately" deep link, the /movienight poll and its winner, topics."""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.request

from sqlite_utils import Database
from telegram.ext import Application

from bot.commands.conversation import Chat, Conversation, Sender
from bot.ui import callbacks
from bot.ui.callbacks import Verb
from devtools.app import messages, run_bot
from devtools.catalog import FROZEN, TED
from devtools.fake_telegram.server import FakeTelegram
from devtools.ptb import TEST_TOKEN
from storage import chats, movienight, ratings, users

ANN, BOB, CAT = 801, 802, 803
GROUP = -100_880
FORUM = -100_990
PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _pool(db: Database, chat_id: int) -> None:
    """Three members with a few ratings each, in the chat's pool."""
    for user, name, liked in ((ANN, "Ann", TED), (BOB, "Bob", FROZEN), (CAT, "Cat", TED)):
        users.save_user(db, user, name)
        ratings.set_rating(db, user, liked, 9)
        chats.join_pool(db, chat_id, user)


async def _until(condition, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        await asyncio.sleep(0.02)
    raise AssertionError("condition never held")


def _poll_message(server: FakeTelegram, chat_id: int) -> dict | None:
    return next((m for m in server.sent_messages(chat_id) if "poll" in m), None)


def _announcement(server: FakeTelegram, chat_id: int) -> dict | None:
    return next((m for m in server.sent_messages(chat_id) if "🍿" in m.get("text", "")), None)


def test_a_movie_night_from_the_poll_to_the_announced_winner(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    _pool(catalog_db, GROUP)

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/movienight", chat_id=GROUP, chat_type="group")
        poll_message = await _until(lambda: _poll_message(fake_telegram, GROUP))
        poll = poll_message["poll"]
        assert poll["is_anonymous"] is True
        assert 2 <= len(poll["options"]) <= 10
        assert all(1 <= len(o["text"]) <= 100 for o in poll["options"])
        options = [o["text"] for o in poll["options"]]
        # Two votes for the second option, one for the first.
        fake_telegram.vote(ANN, poll_message, [1])
        fake_telegram.vote(BOB, poll_message, [1])
        fake_telegram.vote(CAT, poll_message, [0])
        # Someone else may not end it; the opener may.
        end = callbacks.encode(Verb.END_NIGHT, movienight.open_night_in(catalog_db, GROUP).id)
        refused = fake_telegram.tap(BOB, poll_message, end)
        await _until(lambda: fake_telegram.callback_answer(refused))
        assert "Only the one who opened" in fake_telegram.callback_answer(refused)["text"]
        assert fake_telegram.calls_of("stopPoll") == []
        fake_telegram.tap(ANN, poll_message, end)
        await fake_telegram.wait_for_calls("stopPoll", 1)
        winner = await _until(lambda: _announcement(fake_telegram, GROUP))
        assert winner["text"].startswith(f"🍿 The vote is in: {options[1]} wins with 2 of 3 votes")
        assert any(e["type"] == "text_link" for e in winner["entities"])

    run_bot(fake_telegram, service, settings, scenario)
    night = catalog_db.execute(
        "SELECT closed_at, winner_id, opened_by FROM movie_nights"
    ).fetchall()
    assert len(night) == 1 and night[0][0] is not None and night[0][2] == ANN
    # Nothing about who voted for what was ever stored (the poll is anonymous).
    assert fake_telegram.calls_of("sendPoll")[0].params["is_anonymous"] is True
    payloads = [r[0] for r in catalog_db.execute("SELECT payload FROM updates")]
    assert not any("poll_answer" in p for p in payloads)


def test_movienight_end_is_for_the_opener_and_a_closed_poll_is_announced_once(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    _pool(catalog_db, GROUP)

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(BOB, "/movienight", chat_id=GROUP, chat_type="group")
        poll_message = await _until(lambda: _poll_message(fake_telegram, GROUP))
        fake_telegram.send_text(BOB, "/movienight", chat_id=GROUP, chat_type="group")
        again = (await messages(fake_telegram, GROUP, 2))[1]
        assert again["text"].startswith("A movie night vote is already open here")
        fake_telegram.send_text(ANN, "/movienight end", chat_id=GROUP, chat_type="group")
        refused = (await messages(fake_telegram, GROUP, 3))[2]
        assert refused["text"] == "Only the one who opened the vote can end it."
        fake_telegram.send_text(BOB, "/movienight end", chat_id=GROUP, chat_type="group")
        await fake_telegram.wait_for_calls("stopPoll", 1)
        announced = (await messages(fake_telegram, GROUP, 4))[3]
        top = poll_message["poll"]["options"][0]["text"]
        assert announced["text"] == f"🍿 Nobody voted, so it's the group's top pick: {top}."
        fake_telegram.send_text(BOB, "/movienight end", chat_id=GROUP, chat_type="group")
        nothing = (await messages(fake_telegram, GROUP, 5))[4]
        assert nothing["text"].startswith("There's no movie night vote open here")

    run_bot(fake_telegram, service, settings, scenario)
    assert len(fake_telegram.calls_of("stopPoll")) == 1


def test_the_winner_is_announced_once_and_ties_go_to_the_group_ranking(service) -> None:
    conversation = Conversation(service, "moviebot_test_bot")
    _pool(service.db, GROUP)
    outcome = conversation.on_text(Sender(ANN, "Ann"), Chat(GROUP, False, 7), "/movienight")
    poll = outcome.replies[0].poll
    assert poll is not None and 2 <= len(poll.options) <= 10
    movienight.poll_sent(service.db, poll.night, "P1", 55)
    assert conversation.on_poll("P1", [1, 1] + [0] * (len(poll.options) - 2), False).replies == []
    closed = conversation.on_poll("P1", [1, 1] + [0] * (len(poll.options) - 2), True)
    assert (closed.chat_id, closed.thread_id) == (GROUP, 7)
    assert poll.options[0] in closed.replies[0].text.replace("&amp;", "&")
    assert "a tie" in closed.replies[0].text
    assert conversation.on_poll("P1", [0, 2] + [0] * (len(poll.options) - 2), True).replies == []
    assert conversation.on_poll("not-ours", [1, 0], True).replies == []


def _url_buttons(message: dict) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["url"] for row in rows for b in row if "url" in b]


def test_the_deep_link_joins_the_pool_and_starts_rating(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    users.save_user(catalog_db, ANN, "Ann")
    chats.join_pool(catalog_db, GROUP, ANN)

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/grouprec 3", chat_id=GROUP, chat_type="group")
        picks = (await messages(fake_telegram, GROUP, 1))[0]
        (url,) = _url_buttons(picks)
        match = re.fullmatch(r"https://t\.me/moviebot_test_bot\?start=(.+)", url)
        assert match and PAYLOAD.fullmatch(match.group(1))
        assert str(GROUP).lstrip("-") not in match.group(1)  # a token, not the chat id
        fake_telegram.member_joins(BOB, GROUP, first_name="Bob")  # the link is for members
        fake_telegram.send_text(BOB, f"/start {match.group(1)}", first_name="Bob")
        joined, hello, card = await messages(fake_telegram, BOB, 3)
        assert joined["text"].startswith("You joined the group's movie pool")
        assert hello["text"].startswith("Hi Bob!")
        assert card["text"].startswith("1/10: ")
        fake_telegram.send_text(CAT, "/start pool_forged-token", first_name="Cat")
        refused = (await messages(fake_telegram, CAT, 1))[0]
        assert refused["text"].startswith("That invite link isn't one of mine")

    run_bot(fake_telegram, service, settings, scenario)
    assert [uid for uid, _ in chats.pool_members(catalog_db, GROUP)] == [ANN, BOB]
    assert chats.pool_members(catalog_db, -100_123) == []
    assert not any(CAT in [u for u, _ in chats.pool_members(catalog_db, c)] for c in (GROUP,))


def _post(server: FakeTelegram, method: str, params: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{server.base_url}{TEST_TOKEN}/{method}",
        data=json.dumps(params).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_replies_stay_in_the_forum_topic_the_command_came_from(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    _pool(catalog_db, FORUM)
    topic = fake_telegram.create_topic(ANN, FORUM, "Movie club")

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(
            ANN, "/grouprec 3", chat_id=FORUM, chat_type="supergroup", message_thread_id=topic
        )
        fake_telegram.send_text(
            ANN, "/movienight", chat_id=FORUM, chat_type="supergroup", message_thread_id=topic
        )
        poll_message = await _until(lambda: _poll_message(fake_telegram, FORUM))
        fake_telegram.send_text(
            ANN, "/movienight end", chat_id=FORUM, chat_type="supergroup", message_thread_id=topic
        )
        await _until(lambda: _announcement(fake_telegram, FORUM))

        bot_messages = [m for m in fake_telegram.sent_messages(FORUM) if m["from"]["is_bot"]]
        assert len(bot_messages) >= 4  # picks, the chart, the poll, the winner
        assert all(m.get("message_thread_id") == topic for m in bot_messages)
        assert poll_message["is_topic_message"] is True
        # General (no topic): no thread id at all.
        fake_telegram.send_text(ANN, "/help", chat_id=FORUM, chat_type="supergroup")
        general = await fake_telegram.wait_for_reply(FORUM)
        assert "message_thread_id" not in general

    run_bot(fake_telegram, service, settings, scenario)
    # (Chat actions in a topic, shown for slow answers only: test_chat_actions.py.)


def test_the_server_refuses_a_thread_that_does_not_exist(fake_telegram: FakeTelegram) -> None:
    topic = fake_telegram.create_topic(ANN, FORUM, "Movie club")
    fake_telegram.add_chat(ANN, GROUP, "group")
    ok, _ = _post(
        fake_telegram, "sendMessage", {"chat_id": FORUM, "text": "hi", "message_thread_id": topic}
    )
    assert ok == 200
    for chat_id, thread in ((FORUM, topic + 100), (GROUP, topic)):
        status, body = _post(
            fake_telegram,
            "sendMessage",
            {"chat_id": chat_id, "text": "hi", "message_thread_id": thread},
        )
        assert (status, body["description"]) == (400, "Bad Request: message thread not found")
    status, body = _post(
        fake_telegram,
        "sendPoll",
        {"chat_id": FORUM, "question": "?", "options": [{"text": "only one"}]},
    )
    assert status == 400


def test_a_forged_tap_with_an_id_beyond_sqlite_gets_a_friendly_answer(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    """Issue 24: a modified client's `t:<2^63>` raised OverflowError in the query (the group got
    "Sorry..." and the tap was never answered); every number of a button is range-checked."""
    _pool(catalog_db, GROUP)

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/movienight", chat_id=GROUP, chat_type="group")
        poll_message = await _until(lambda: _poll_message(fake_telegram, GROUP))
        taps = [
            fake_telegram.tap(ANN, poll_message, data, forged=True)
            for data in (f"t:{2**63}", f"t:{-(2**63) - 1}", f"r:{2**64}:8", f"r:{TED}:{2**70}")
        ]
        for tap in taps:
            answer = await _until(lambda tap=tap: fake_telegram.callback_answer(tap))
            assert answer.get("text") == "That button has expired. Try the command again."
        assert len(fake_telegram.sent_messages(GROUP)) == 1  # the poll; no "Sorry..."

    run_bot(fake_telegram, service, settings, scenario)
    assert movienight.open_night_in(catalog_db, GROUP) is not None
    assert ratings.user_ratings(catalog_db, ANN) == {TED: 9}
