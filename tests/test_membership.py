"""Membership follows Telegram: who leaves a group leaves its pool, a removed bot drops it.

Through the real python-telegram-bot stack against the loopback Bot API server, which sends
membership updates the way Telegram does (devtools/fake_telegram/world.py: service messages to
every bot in the group, chat_member only to an administrator bot that asked for it,
my_chat_member for the bot's own status).
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import pytest
from telegram.ext import Application

from devtools import PATIENCE
from devtools.app import messages, run_bot
from devtools.bot_process import start_bot
from devtools.catalog import FROZEN, TED
from devtools.fake_telegram import FakeTelegram, validate_object
from devtools.fake_telegram.world import BotApiError
from storage import chats, journal, movienight, ratings, users

ANN, BOB, CAT = 501, 502, 503
GROUP = -100777


async def done(app: Application, update_id: int, timeout: float = 10) -> journal.JournalEntry:
    """The update's journal entry once it is done, read in the bot's database thread."""
    rt = app.bot_data.runtime
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entry = await rt.run(journal.get_entry, rt.db, update_id)
        if entry is not None and entry.done:
            return entry
        await asyncio.sleep(0.02)
    raise AssertionError(f"update {update_id} was never done")


def join(server: FakeTelegram, *people: tuple[int, str]) -> None:
    for user_id, name in people:
        server.send_text(user_id, "/join", chat_id=GROUP, chat_type="group", first_name=name)


def pool(app: Application) -> list[int]:
    rt = app.bot_data.runtime
    return [user_id for user_id, _ in chats.pool_members(rt.db, GROUP)]


def test_a_member_who_leaves_the_group_is_no_longer_named_by_grouprec(
    fake_telegram: FakeTelegram, service, settings, catalog_db
) -> None:
    async def scenario(app: Application) -> None:
        join(fake_telegram, (ANN, "Ann"), (BOB, "Bob"))
        await messages(fake_telegram, GROUP, 2)
        [left] = fake_telegram.member_leaves(BOB, GROUP)
        entry = await done(app, left)
        assert entry.payload == "{}"  # journaled, handled, cleared like any other update
        fake_telegram.send_text(ANN, "/grouprec 3", chat_id=GROUP, chat_type="group")
        picks = (await messages(fake_telegram, GROUP, 4, timeout=PATIENCE))[2]
        assert picks["text"].startswith("Picks for 1 (nobody has rated these).")
        assert "Ann " in picks["text"] and "Bob" not in picks["text"]
        assert len(fake_telegram.sent_messages(GROUP)) == 4  # the leaving itself: no reply

    run_bot(fake_telegram, service, settings, scenario)
    assert [uid for uid, _ in chats.pool_members(catalog_db, GROUP)] == [ANN]


def test_the_bot_removed_from_a_group_drops_the_whole_pool(
    fake_telegram: FakeTelegram, service, settings, catalog_db
) -> None:
    async def scenario(app: Application) -> None:
        join(fake_telegram, (ANN, "Ann"), (BOB, "Bob"))
        await messages(fake_telegram, GROUP, 2)
        assert pool(app) == [ANN, BOB]
        kicked = fake_telegram.set_bot_status(GROUP, "kicked", by_user_id=ANN)
        await done(app, kicked)
        assert pool(app) == []
        # Telegram hands over nothing more from that group.
        assert fake_telegram.send_text(ANN, "/grouprec", chat_id=GROUP, chat_type="group") is None

    run_bot(fake_telegram, service, settings, scenario)
    assert chats.pool_members(catalog_db, GROUP) == []
    assert len(fake_telegram.sent_messages(GROUP)) == 2  # nothing sent to where it is not


def test_a_ban_reported_only_by_chat_member_takes_the_member_out(
    fake_telegram: FakeTelegram, service, settings, catalog_db
) -> None:
    """A big supergroup sends no service message: the chat_member update (an administrator
    bot asks for it in allowed_updates) is all the bot learns."""

    async def scenario(app: Application) -> None:
        join(fake_telegram, (ANN, "Ann"), (BOB, "Bob"))
        await messages(fake_telegram, GROUP, 2)
        promoted = fake_telegram.set_bot_status(GROUP, "administrator", by_user_id=ANN)
        await done(app, promoted)
        assert pool(app) == [ANN, BOB]  # being made an admin changes nothing
        [banned] = fake_telegram.member_leaves(BOB, GROUP, removed_by=ANN, service_message=False)
        assert "chat_member" in fake_telegram.pending_updates()[-1]
        await done(app, banned)
        assert pool(app) == [ANN]

    run_bot(fake_telegram, service, settings, scenario)
    assert len(fake_telegram.sent_messages(GROUP)) == 2


def test_a_member_who_leaves_on_their_own_is_out_by_chat_member_too(
    fake_telegram: FakeTelegram, service, settings
) -> None:
    async def scenario(app: Application) -> None:
        join(fake_telegram, (ANN, "Ann"), (BOB, "Bob"), (CAT, "Cat"))
        await messages(fake_telegram, GROUP, 3)
        await done(app, fake_telegram.set_bot_status(GROUP, "administrator", by_user_id=ANN))
        [left] = fake_telegram.member_leaves(CAT, GROUP, service_message=False)
        await done(app, left)
        assert pool(app) == [ANN, BOB]
        # Both kinds for one leaving (a small group sends both): the pool is left once.
        message, change = fake_telegram.member_leaves(BOB, GROUP)
        await done(app, change)
        await done(app, message)
        assert pool(app) == [ANN]

    run_bot(fake_telegram, service, settings, scenario)


def test_moviebot_run_asks_for_exactly_the_update_types_it_handles(
    fake_telegram: FakeTelegram, catalog_db_path: Path, catalog_model_path: Path
) -> None:
    process = start_bot(
        fake_telegram.url,
        catalog_db_path,
        catalog_model_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        [poll] = fake_telegram.wait_for_calls_sync("getUpdates", timeout=PATIENCE)[:1]
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=PATIENCE)
    assert process.returncode == 0, output
    assert sorted(poll.params["allowed_updates"]) == [
        "callback_query",
        "chat_member",
        "edited_message",
        "inline_query",
        "message",
        "my_chat_member",
        "poll",
    ]


# ----------------------------------------------------------------- the loopback server's side


def test_membership_updates_the_server_makes_are_spec_valid() -> None:
    with FakeTelegram() as server:
        server.world.set_allowed_updates(["message", "chat_member", "my_chat_member"])
        server.send_text(ANN, "/join", chat_id=GROUP, chat_type="supergroup", first_name="Ann")
        server.member_joins(BOB, GROUP, chat_type="supergroup", first_name="Bob")
        server.set_bot_status(GROUP, "administrator", by_user_id=ANN)
        server.member_joins(CAT, GROUP, chat_type="supergroup")
        server.member_leaves(CAT, GROUP)
        server.member_leaves(BOB, GROUP, removed_by=ANN)
        server.set_bot_status(GROUP, "kicked", by_user_id=ANN)
        updates = server.pending_updates()
        kinds = [next(k for k in u if k != "update_id") for u in updates]
        assert kinds == [
            "message",  # /join
            "message",  # Bob joins: not an admin yet, no chat_member
            "my_chat_member",  # made an admin
            "message",
            "chat_member",  # Cat joins
            "message",
            "chat_member",  # Cat leaves
            "message",
            "chat_member",  # Bob banned
            "my_chat_member",  # the bot removed
        ]
        for update in updates:
            assert validate_object("Update", update) == []
        assert updates[5]["message"]["left_chat_member"]["id"] == CAT
        assert updates[6]["chat_member"]["new_chat_member"]["status"] == "left"
        assert updates[8]["chat_member"]["new_chat_member"]["status"] == "kicked"
        assert updates[8]["chat_member"]["from"]["id"] == ANN
        assert updates[9]["my_chat_member"]["new_chat_member"]["status"] == "kicked"


def test_the_server_is_as_strict_as_telegram_about_who_is_in_a_group() -> None:
    with FakeTelegram() as server:
        server.send_text(ANN, "/join", chat_id=GROUP, chat_type="group", first_name="Ann")
        server.send_text(BOB, "/join", chat_id=GROUP, chat_type="group", first_name="Bob")
        server.member_joins(CAT, GROUP)
        # chat_member is not sent unless asked for, and only to an administrator bot.
        assert all("chat_member" not in u for u in server.pending_updates())
        server.member_leaves(BOB, GROUP)
        with pytest.raises(ValueError, match="is left from chat"):
            server.send_text(BOB, "/grouprec", chat_id=GROUP, chat_type="group")
        assert server.world.call("getChatMember", {"chat_id": GROUP, "user_id": BOB}) == {
            "status": "left",
            "user": server.world.users[BOB],
        }
        server.set_bot_status(GROUP, "kicked", by_user_id=ANN)
        assert server.send_text(ANN, "/grouprec", chat_id=GROUP, chat_type="group") is None
        assert server.member_leaves(CAT, GROUP) == []
        with pytest.raises(BotApiError) as refused:
            server.world.call("sendMessage", {"chat_id": GROUP, "text": "still here?"})
        assert (refused.value.status, refused.value.description) == (
            403,
            "Forbidden: bot was kicked from the group chat",
        )


def test_a_group_upgraded_to_a_supergroup_keeps_its_pool_invite_and_nights_under_the_new_id(
    fake_telegram: FakeTelegram, service, settings, catalog_db
) -> None:
    """Issue 24: `migrate_to_chat_id` left the pool under the dead id, so /grouprec in the
    supergroup found nobody. Both service messages arrive; the move happens once."""
    supergroup = -1_001_234_567_890
    for user_id, name, liked in ((ANN, "Ann", TED), (BOB, "Bob", FROZEN)):
        users.save_user(catalog_db, user_id, name)
        ratings.set_rating(catalog_db, user_id, liked, 9)

    async def scenario(app: Application) -> None:
        rt = app.bot_data.runtime
        join(fake_telegram, (ANN, "Ann"), (BOB, "Bob"))
        await messages(fake_telegram, GROUP, 2)
        fake_telegram.send_text(ANN, "/movienight", chat_id=GROUP, chat_type="group")
        await messages(fake_telegram, GROUP, 3)
        night = await rt.run(movienight.open_night_in, rt.db, GROUP)
        token = await rt.run(movienight.invite_token, rt.db, GROUP)
        for update_id in fake_telegram.migrate_to_supergroup(GROUP, supergroup, ANN):
            await done(app, update_id)
        assert pool(app) == []
        moved = await rt.run(chats.pool_members, rt.db, supergroup)
        assert [user_id for user_id, _ in moved] == [ANN, BOB]
        assert (await rt.run(movienight.open_night_in, rt.db, supergroup)).id == night.id
        assert await rt.run(movienight.invite_token, rt.db, supergroup) == token
        fake_telegram.send_text(BOB, "/leave", chat_id=supergroup, chat_type="supergroup")
        await messages(fake_telegram, supergroup, 1)
        moved = await rt.run(chats.pool_members, rt.db, supergroup)
        assert [user_id for user_id, _ in moved] == [ANN]

    run_bot(fake_telegram, service, settings, scenario)
    assert catalog_db.execute(
        "SELECT count(*) FROM group_invites WHERE chat_id = ?", [GROUP]
    ).fetchone() == (0,)
