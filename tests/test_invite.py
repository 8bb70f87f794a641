"""The "Join & rate privately" link joins members of its group only (issue 24): the bot asks
Telegram (getChatMember) before the link joins anyone; a stranger with a forwarded link, a
banned member, someone who left, anyone after the bot was removed, is refused with a friendly
reply and nothing shows in the group. The link rotates when someone leaves or is banned, and
a group admin can retire it with /invite reset."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlite_utils import Database

from devtools.app import messages, run_bot
from devtools.fake_telegram.server import FakeTelegram
from storage import chats, movienight, users

ANN, BOB, CAT, DAN, EVE = 811, 812, 813, 814, 815
GROUP = -100_881
REFUSED = "That link is for the members of its group, and I can't see you there."
LINK = re.compile(r"https://t\.me/moviebot_test_bot\?start=(pool_[A-Za-z0-9_-]+)")


def invite_link(message: dict) -> str:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    (url,) = [b["url"] for row in rows for b in row if "url" in b]
    return LINK.fullmatch(url).group(1)


def pool(db: Database) -> list[int]:
    return [user_id for user_id, _ in chats.pool_members(db, GROUP)]


def test_the_link_joins_members_only_and_rotates_when_someone_leaves(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    async def scenario(app) -> None:
        fake_telegram.send_text(ANN, "/invite", chat_id=GROUP, chat_type="group", first_name="Ann")
        payload = invite_link((await messages(fake_telegram, GROUP, 1))[0])
        # A stranger with a forwarded link: Telegram knows them, the group does not.
        fake_telegram.send_text(DAN, f"/start {payload}", first_name="Dan")
        assert (await messages(fake_telegram, DAN, 1))[0]["text"].startswith(REFUSED)
        # A restricted member no longer in the group.
        fake_telegram.member_joins(EVE, GROUP, first_name="Eve")
        fake_telegram.world.set_member_status(GROUP, EVE, "restricted", is_member=False)
        fake_telegram.send_text(EVE, f"/start {payload}", first_name="Eve")
        assert (await messages(fake_telegram, EVE, 1))[0]["text"].startswith(REFUSED)
        # A member joins; a member banned before using the link is refused.
        fake_telegram.member_joins(BOB, GROUP, first_name="Bob")
        fake_telegram.member_joins(CAT, GROUP, first_name="Cat")
        fake_telegram.send_text(BOB, f"/start {payload}", first_name="Bob")
        joined = (await messages(fake_telegram, BOB, 1))[0]
        assert joined["text"].startswith("You joined the group's movie pool")
        fake_telegram.member_leaves(CAT, GROUP, removed_by=ANN)
        while movienight.invited_chat(catalog_db, payload.removeprefix("pool_")) is not None:
            await asyncio.sleep(0.02)  # the ban rotates the link
        fake_telegram.send_text(CAT, f"/start {payload}", first_name="Cat")
        stale = (await messages(fake_telegram, CAT, 1))[0]
        assert stale["text"].startswith("That invite link isn't one of mine")

    run_bot(fake_telegram, service, settings, scenario)
    assert pool(catalog_db) == [BOB]
    assert all("Dan" not in m["text"] for m in fake_telegram.sent_messages(GROUP))
    assert fake_telegram.violations == []


@pytest.mark.parametrize(("status", "done"), [("administrator", True), ("member", False)])
def test_invite_reset_is_for_the_groups_admins(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database, status: str, done: bool
) -> None:
    async def scenario(app) -> None:
        fake_telegram.send_text(ANN, "/invite", chat_id=GROUP, chat_type="group", first_name="Ann")
        before = invite_link((await messages(fake_telegram, GROUP, 1))[0])
        fake_telegram.world.set_member_status(GROUP, ANN, status)
        fake_telegram.send_text(ANN, "/invite reset", chat_id=GROUP, chat_type="group")
        answer = (await messages(fake_telegram, GROUP, 2))[1]
        if done:
            assert answer["text"].startswith('Done: the old "rate privately" link no longer works')
            assert invite_link(answer) != before
        else:
            assert answer["text"] == "Only the group's admins can reset its invite link."
        still = movienight.invited_chat(catalog_db, before.removeprefix("pool_"))
        assert (still is None) == done

    run_bot(fake_telegram, service, settings, scenario)
    assert users.get_user(catalog_db, ANN) is not None
