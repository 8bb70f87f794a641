"""Fair scheduling: one chat's flood never holds the slots others need, a user beyond the rate
limit is told once and still answered, and taps are answered within Telegram's window."""

from __future__ import annotations

import asyncio
import threading

from sqlite_utils import Database
from telegram.ext import Application

from bot.telegram import delivery, ptb_classes
from bot.telegram.app import CONCURRENT_CHATS
from bot.telegram.ptb_classes import SLOW_DOWN
from bot.ui import callbacks
from bot.ui.callbacks import Verb
from devtools import PATIENCE
from devtools.app import buttons, messages, run_bot
from devtools.catalog import FROZEN, TED
from devtools.fake_telegram.server import FakeTelegram
from storage import ratings

ANN, BOB = 1001, 1002
FLOOD = 200


def test_a_flooding_chat_does_not_hold_up_another_user(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    """1,000 messages from one chat held another user's reply for 32 s: the flood's updates
    took every slot while they waited for their own chat. Now the other user is answered
    while most of the flood is still waiting; every flood message is answered too, the flooder
    is told once to slow down, and the score in the flood is kept."""
    seen_at_bobs_reply: list[int] = []

    async def scenario(app: Application) -> None:
        for i in range(FLOOD):
            text = "/rate Ted 7" if i == FLOOD // 2 else "/help"
            fake_telegram.send_text(ANN, text, first_name="Ann")
        fake_telegram.send_text(BOB, "/rate Frozen 9", first_name="Bob")
        reply = (await messages(fake_telegram, BOB, 1, timeout=PATIENCE))[0]
        seen_at_bobs_reply.append(len(fake_telegram.sent_messages(ANN)))
        assert reply["text"] == "Frozen (2013): 9/10 ✓"
        assert seen_at_bobs_reply[0] < FLOOD // 2  # most of the flood still waits
        await messages(fake_telegram, ANN, FLOOD + 1, timeout=PATIENCE)

    run_bot(fake_telegram, service, settings, scenario)
    texts = [m["text"] for m in fake_telegram.sent_messages(ANN)]
    assert texts.count(SLOW_DOWN) == 1
    assert len(texts) == FLOOD + 1
    assert ratings.user_ratings(catalog_db, ANN) == {TED: 7}
    assert ratings.user_ratings(catalog_db, BOB) == {FROZEN: 9}


def test_taps_waiting_in_a_flood_are_answered_before_their_turn(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database, monkeypatch
) -> None:
    """2,000 taps from one chat answered 1,559 after Telegram's 15 s window. A tap that waits
    too long for its turn (here 0.3 s instead of TAP_ANSWER_SECONDS) is answered at once,
    without a toast; each tap is answered exactly once and every score is still saved."""
    monkeypatch.setattr(ptb_classes, "TAP_ANSWER_SECONDS", 0.3)
    # Each answer takes at least 0.05 s to deliver, so the taps from the seventh on wait longer
    # than 0.3 s for their turn however fast the machine is.
    deliver = delivery.deliver

    async def slow_deliver(*args, **kwargs):
        await asyncio.sleep(0.05)
        return await deliver(*args, **kwargs)

    monkeypatch.setattr(delivery, "deliver", slow_deliver)
    taps: list[int] = []

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/rate Frozen", first_name="Ann")
        question = (await messages(fake_telegram, ANN, 1))[0]
        # Hold the database thread while the taps arrive, so they all find the question.
        release = threading.Event()
        app.bot_data.runtime.db_thread.submit(release.wait, 30)
        for _ in range(60):
            taps.append(fake_telegram.tap(ANN, question, callbacks.encode(Verb.RATE, FROZEN, 9)))
        release.set()
        deadline = asyncio.get_running_loop().time() + 30
        while any(fake_telegram.callback_answer(t) is None for t in taps):
            assert asyncio.get_running_loop().time() < deadline, "a tap was never answered"
            await asyncio.sleep(0.05)
        await asyncio.sleep(1)  # the last edits

    run_bot(fake_telegram, service, settings, scenario)
    fake_telegram.violations.clear()
    answers = [c for c in fake_telegram.calls_of("answerCallbackQuery") if c.ok]
    assert len(answers) == len(taps)  # once each
    early = [
        fake_telegram.callback_answer(t)
        for t in taps
        if not fake_telegram.callback_answer(t).get("text")
    ]
    assert len(early) >= len(taps) // 2
    assert fake_telegram.callback_answer(taps[0])["text"] == "Saved"
    assert ratings.user_ratings(catalog_db, ANN) == {FROZEN: 9}
    assert fake_telegram.sent_messages(ANN)[0]["text"].startswith("Frozen (2013): 9/10 ✓")
    assert buttons(fake_telegram.sent_messages(ANN)[0]) == []


def test_chats_waiting_to_retry_a_delivery_lend_their_slots(
    fake_telegram: FakeTelegram, service, settings
) -> None:
    """Every slot's chat got a 502 and waits a second to retry: meanwhile another chat is
    answered at once, before any of the retries (a waiting chat holds its turn, not a slot)."""
    waiting = [2001 + i for i in range(CONCURRENT_CHATS)]
    other = 2100

    async def scenario(app: Application) -> None:
        fake_telegram.inject_fault("bad_gateway", "sendMessage", times=len(waiting))
        for user in waiting:
            fake_telegram.send_text(user, "/help", first_name="W")
        deadline = asyncio.get_running_loop().time() + 10
        while sum(c.status == 502 for c in fake_telegram.calls_of("sendMessage")) < len(waiting):
            assert asyncio.get_running_loop().time() < deadline, "the 502s never came"
            await asyncio.sleep(0.01)
        fake_telegram.send_text(other, "/help", first_name="O")
        for user in [other, *waiting]:
            await messages(fake_telegram, user, 1, timeout=PATIENCE)

    run_bot(fake_telegram, service, settings, scenario)
    fake_telegram.violations.clear()  # the 502s were ours
    delivered = [
        c.params["chat_id"] for c in fake_telegram.calls_of("sendMessage") if c.status == 200
    ]
    assert delivered[0] == other
    assert sorted(delivered[1:]) == waiting
