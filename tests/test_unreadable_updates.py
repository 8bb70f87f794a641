"""An update python-telegram-bot cannot parse is quarantined (its id kept, nothing of what it
said), confirmed past, logged once by id and counted; everyone else is answered (issue 24).

The loopback Bot API sends what Telegram sent when it and PTB disagreed about a field: a
restricted member without ``can_edit_tag``, a poll option without ``persistent_id``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from sqlite_utils import Database
from telegram.ext import Application

from bot.telegram import metrics
from bot.telegram.app import ALLOWED_UPDATES
from bot.telegram.delivery import UNREADABLE
from devtools.app import (
    WEBHOOK_BOT_SECRET,
    messages,
    run_bot,
    run_bot_without_polling,
    webhook_bot,
)
from devtools.fake_telegram.objects import chat_member, chat_member_updated
from devtools.fake_telegram.server import FakeTelegram
from devtools.fake_telegram.webhook import free_port, post_update, take_update
from storage import journal

GROUP = -100_4242
SECRET_NAME = "Zebulonia"  # the restricted member's name: never in the log or the journal
FIRST_USER = 9_100
_RIGHTS = [
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_send_messages",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_manage_topics",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_react_to_messages",
]


def restricted_without_tag(server: FakeTelegram) -> int:
    """A chat_member update PTB 22.8 cannot parse: the new member lacks `can_edit_tag`."""
    server.world.set_allowed_updates(list(ALLOWED_UPDATES))  # as the bot asks (an admin bot)
    user = {"id": 9_999, "is_bot": False, "first_name": SECRET_NAME}
    chat = server.add_chat(9_999, GROUP, "supergroup", SECRET_NAME, title="Movie club")
    new = {"status": "restricted", "user": user, "is_member": True, "until_date": 0}
    new.update(dict.fromkeys(_RIGHTS, True))
    change = chat_member_updated(chat, user, chat_member(user, "member"), new, int(time.time()))
    update_id = server.push_update("chat_member", change, GROUP)
    assert update_id is not None
    return update_id


def poll_without_persistent_id(server: FakeTelegram) -> dict:
    """A poll update PTB 22.8 cannot parse: its options lack `persistent_id`."""
    poll = {
        "id": "P-odd",
        "question": f"{SECRET_NAME}'s question?",
        "options": [{"text": "Ted", "voter_count": 1}, {"text": "Frozen", "voter_count": 0}],
        "total_voter_count": 1,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
    }
    update_id = server.push_update("poll", poll)
    return take_update(server.pending_updates(), update_id)


def _unreadable_count() -> float:
    return metrics.UNREADABLE._value.get()


def _assert_quiet_log(caplog: pytest.LogCaptureFixture, update_id: int) -> None:
    """The update is named by its id, once; nothing of what it held is in any log line."""
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert SECRET_NAME not in text
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]
    mentions = [r for r in caplog.records if f"update {update_id} could not be read" in r.message]
    assert len(mentions) == 1, text


def _assert_quarantined(db: Database, update_id: int) -> None:
    entry = journal.get_entry(db, update_id)
    assert entry is not None and entry.done and entry.payload == "{}"
    assert not db.execute(
        "SELECT count(*) FROM updates WHERE instr(payload, ?) OR instr(outcome, ?)",
        [SECRET_NAME, SECRET_NAME],
    ).fetchone()[0]


def test_one_unreadable_update_among_a_hundred_is_quarantined_and_the_rest_answered(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database, caplog
) -> None:
    """99 ordinary updates and one PTB cannot parse, in the middle: 99 answered, the odd one
    confirmed past (not fetched again and again: before, 1,562 getUpdates in 30 s)."""
    caplog.set_level(logging.INFO)  # what `moviebot run` logs
    users = range(FIRST_USER, FIRST_USER + 99)
    counted = _unreadable_count()
    odd = 0

    async def scenario(app: Application) -> None:
        nonlocal odd
        for user in users:
            fake_telegram.send_text(user, "/help", first_name=f"U{user}")
            if user == FIRST_USER + 49:
                odd = restricted_without_tag(fake_telegram)
        for user in users:
            await messages(fake_telegram, user, 1, timeout=60)
        await fake_telegram.wait_for_confirmation(odd, timeout=10)
        _assert_quarantined(catalog_db, odd)
        assert fake_telegram.pending_updates() == []

    run_bot(fake_telegram, service, settings, scenario)
    assert all(len(fake_telegram.sent_messages(user)) == 1 for user in users)
    assert fake_telegram.sent_messages(GROUP) == []  # nobody to tell in the group
    assert len(fake_telegram.calls_of("getUpdates")) < 20
    assert _unreadable_count() == counted + 1
    _assert_quiet_log(caplog, odd)


def test_an_unreadable_update_fetched_before_a_stop_is_skipped_after_the_restart(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database, caplog
) -> None:
    """Fetched (so journaled as its stand-in) but not confirmed when the bot stopped:
    Telegram hands it over again after the restart, and it does not jam the next run."""
    caplog.set_level(logging.WARNING)

    async def fetch_only(app: Application) -> None:
        restricted_without_tag(fake_telegram)
        fake_telegram.send_text(FIRST_USER, "/help", first_name="Ann")
        fetched = await app.bot.get_updates(timeout=1)
        assert len(fetched) == 2  # the stand-in and the /help: no error, nothing lost

    run_bot_without_polling(fake_telegram, service, settings, fetch_only)
    odd = fake_telegram.pending_updates()[0]["update_id"]
    entry = journal.get_entry(catalog_db, odd)
    assert entry is not None and json.loads(entry.payload)["unreadable"] == {"error": "TypeError"}

    async def restart(app: Application) -> None:
        await messages(fake_telegram, FIRST_USER, 1)
        fake_telegram.send_text(FIRST_USER + 1, "/help", first_name="Bob")
        await messages(fake_telegram, FIRST_USER + 1, 1)
        await fake_telegram.wait_for_confirmation(odd)

    run_bot(fake_telegram, service, settings, restart)
    _assert_quarantined(catalog_db, odd)
    assert len(fake_telegram.sent_messages(FIRST_USER)) == 1
    assert len(fake_telegram.calls_of("getUpdates")) < 20
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert SECRET_NAME not in text


def test_an_unreadable_message_in_a_private_chat_is_apologised_for(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    """A private message PTB cannot parse: its sender is told, once, to say it again."""

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(FIRST_USER, "/help", first_name="Ann")
        await messages(fake_telegram, FIRST_USER, 1)
        user = {"id": FIRST_USER, "is_bot": False, "first_name": SECRET_NAME}
        odd = {"message_id": 99, "from": user, "chat": {"id": FIRST_USER, "type": "private"}}
        fake_telegram.push_update("message", odd, FIRST_USER)  # no date: PTB cannot parse it
        assert (await messages(fake_telegram, FIRST_USER, 2))[1]["text"] == UNREADABLE

    run_bot(fake_telegram, service, settings, scenario)
    assert journal.unfinished_updates(catalog_db, 100) == []


def test_a_webhook_update_that_cannot_be_read_gets_a_200_and_is_quarantined(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database, caplog
) -> None:
    """Webhook mode: a 200 (a 400 made Telegram send it again), quarantined, counted."""
    caplog.set_level(logging.WARNING)
    port = free_port()
    counted = _unreadable_count()

    async def main() -> None:
        async with webhook_bot(settings, service, port):
            url = f"http://127.0.0.1:{port}/telegram"
            odd = poll_without_persistent_id(fake_telegram)
            assert (await asyncio.to_thread(post_update, url, odd, WEBHOOK_BOT_SECRET))[0] == 200
            update_id = fake_telegram.send_text(FIRST_USER, "/help", first_name="Ann")
            update = take_update(fake_telegram.pending_updates(), update_id)
            assert (await asyncio.to_thread(post_update, url, update, WEBHOOK_BOT_SECRET))[0] == 200
            await messages(fake_telegram, FIRST_USER, 1)
            deadline = time.monotonic() + 10
            while not (journal.get_entry(catalog_db, odd["update_id"]) or _Pending).done:
                assert time.monotonic() < deadline, "the stand-in was never closed"
                await asyncio.sleep(0.02)
            _assert_quarantined(catalog_db, odd["update_id"])
            _assert_quiet_log(caplog, odd["update_id"])

    asyncio.run(main())
    assert _unreadable_count() == counted + 1


class _Pending:
    done = False
