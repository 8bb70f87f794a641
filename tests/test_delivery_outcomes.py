"""Every update is closed: delivered, refused by Telegram for good, failed on our side (one
apology), or abandoned after the last retry (logged and counted); a send that timed out
waiting for Telegram's answer is not sent twice."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time

import pytest
from sqlite_utils import Database
from telegram.ext import Application

from bot.telegram import delivery, metrics, sending
from bot.telegram.app import SORRY
from bot.telegram.delivery import DeliveryPolicy
from devtools.app import messages, run_bot
from devtools.fake_telegram.server import FakeTelegram
from storage import journal

ANN = 901


async def _done(db: Database, update_id: int, timeout: float = 10) -> journal.JournalEntry:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entry = journal.get_entry(db, update_id)
        if entry is not None and entry.done:
            return entry
        await asyncio.sleep(0.02)
    raise AssertionError(f"update {update_id} was never marked done")


def test_a_user_who_blocked_the_bot_closes_the_update_without_retries(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database, caplog
) -> None:
    async def scenario(app: Application) -> None:
        fake_telegram.add_chat(ANN, first_name="Ann")
        fake_telegram.block(ANN)
        update_id = fake_telegram.send_text(ANN, "/help", first_name="Ann")
        entry = await _done(catalog_db, update_id, timeout=5)
        assert entry.attempts == 0
        await asyncio.sleep(1.5)  # no retry comes

    with caplog.at_level(logging.WARNING, logger="bot.telegram.delivery"):
        run_bot(fake_telegram, service, settings, scenario)
    sends = [c for c in fake_telegram.calls_of("sendMessage") if c.params["chat_id"] == ANN]
    assert len(sends) == 1 and sends[0].status == 403
    refused = [r for r in caplog.records if "refused the answer for good" in r.getMessage()]
    assert len(refused) == 1


def test_an_error_of_ours_while_sending_is_apologised_for_once_and_closed(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database, monkeypatch
) -> None:
    """Drawing a chart raises (as matplotlib's mathtext did on a name like `$x^$`): one
    apology, the update done; a restart does not apologise again."""

    def broken_draw(picture, data):
        raise ValueError("Unknown symbol: \\x^")

    monkeypatch.setattr(sending.pictures, "draw", broken_draw)

    async def scenario(app: Application) -> None:
        for title in ("toy story", "finding nemo", "up"):
            fake_telegram.send_text(ANN, f"/rate {title} 9", first_name="Ann")
        await messages(fake_telegram, ANN, 3)
        update_id = fake_telegram.send_text(ANN, "/taste", first_name="Ann")
        sent = await messages(fake_telegram, ANN, 4)
        assert sent[3]["text"] == SORRY
        entry = await _done(catalog_db, update_id)
        assert "ValueError" in (journal_error(catalog_db, update_id) or "")
        assert entry.done

    run_bot(fake_telegram, service, settings, scenario)

    async def restart(app: Application) -> None:
        await asyncio.sleep(1.5)

    run_bot(fake_telegram, service, settings, restart)
    assert [m["text"] for m in fake_telegram.sent_messages(ANN)].count(SORRY) == 1


def journal_error(db: Database, update_id: int) -> str | None:
    row = db.execute("SELECT last_error FROM updates WHERE update_id = ?", [update_id])
    return row.fetchone()[0]


def test_an_owed_answer_still_failing_after_the_owed_window_is_dropped_logged_and_counted(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database, caplog
) -> None:
    """The day an owed answer is retried, compressed to a second (BotSettings): then it is
    dropped, done with the error, one log line and the metric."""
    policy = DeliveryPolicy(retry_first_seconds=0.01, retry_max_seconds=0.05, owed_seconds=1.0)
    quick = dataclasses.replace(settings, delivery=policy)
    dropped = metrics.DELIVERIES_DROPPED._value.get()

    async def scenario(app: Application) -> None:
        fake_telegram.inject_fault("bad_gateway", "sendMessage", times=100_000)
        update_id = fake_telegram.send_text(ANN, "/help", first_name="Ann")
        entry = await _done(catalog_db, update_id, timeout=20)
        assert entry.attempts > 8  # more than the 8 tries an answer used to get
        assert journal_error(catalog_db, update_id).startswith(journal.GIVEN_UP)

    with caplog.at_level(logging.WARNING, logger="bot.telegram.delivery"):
        run_bot(fake_telegram, service, quick, scenario)
    fake_telegram.violations.clear()  # the 502s were ours
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.telegram.delivery"]
    assert sum("owed answer dropped" in line for line in lines) == 1
    assert metrics.DELIVERIES_DROPPED._value.get() == dropped + 1
    assert fake_telegram.sent_messages(ANN) == []


def test_ten_minutes_of_5xx_and_a_restart_every_owed_answer_is_delivered_once(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    """Issue 24: after 8 failed sends (~2 minutes of 5xx) an answer was abandoned for good,
    restarts included. Time compressed (BotSettings' back-off): Telegram fails every send for
    many more tries than that, the bot restarts in the middle, Telegram recovers: each person
    gets their answer, once."""
    policy = DeliveryPolicy(retry_first_seconds=0.01, retry_max_seconds=0.05)
    quick = dataclasses.replace(settings, delivery=policy)
    people = (ANN, ANN + 1, ANN + 2)
    asked: list[int] = []
    outage_502 = fake_telegram.inject_fault("bad_gateway", "sendMessage", times=100_000)

    async def outage(app: Application) -> None:
        for person in people:
            asked.append(fake_telegram.send_text(person, "/rate Ted 8", first_name="Ann"))
        deadline = time.monotonic() + 30
        while min(_attempts(catalog_db, update_id) for update_id in asked) < 12:
            assert time.monotonic() < deadline, "the sends were not retried"
            await asyncio.sleep(0.05)

    run_bot(fake_telegram, service, quick, outage)  # stopped in the middle of the outage

    async def recovery(app: Application) -> None:
        await asyncio.sleep(0.5)  # still failing after the restart
        outage_502.times = len(outage_502.hits)  # Telegram recovers
        for person in people:
            await messages(fake_telegram, person, 1, timeout=20)
        for update_id in asked:
            await _done(catalog_db, update_id)

    run_bot(fake_telegram, service, quick, recovery)
    fake_telegram.violations.clear()  # the 502s were ours
    for person in people:
        assert [m["text"] for m in fake_telegram.sent_messages(person)] == ["Ted (2012): 8/10 ✓"]


def _attempts(db: Database, update_id: int) -> int:
    entry = journal.get_entry(db, update_id)
    return entry.attempts if entry is not None else 0


@pytest.mark.parametrize("method", ["sendMessage"])
def test_a_send_that_timed_out_but_arrived_is_not_sent_again(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database, method: str
) -> None:
    quick = dataclasses.replace(settings, request_timeout=1.0)

    async def scenario(app: Application) -> None:
        fake_telegram.inject_fault("delay", method, times=1, delay=2.5)
        update_id = fake_telegram.send_text(ANN, "/rate Ted 8", first_name="Ann")
        await _done(catalog_db, update_id, timeout=8)
        await asyncio.sleep(2)

    run_bot(fake_telegram, service, quick, scenario)
    assert [m["text"] for m in fake_telegram.sent_messages(ANN)] == ["Ted (2012): 8/10 ✓"]


def test_a_full_disk_after_the_answer_went_out_delays_its_done_mark_without_an_apology(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database, monkeypatch
) -> None:
    """The answer is sent, then the disk fills before the update is marked done: the mark is
    written once the disk is back; no apology, nothing sent twice (also after a restart)."""
    import sqlite3

    monkeypatch.setattr(delivery, "PROGRESS_RETRY_FIRST", 0.05)
    mark_done, failures = journal.mark_done, []

    def full_disk_twice(db, update_id, error=None):
        if len(failures) < 2:
            failures.append(update_id)
            raise sqlite3.OperationalError("database or disk is full")
        return mark_done(db, update_id, error)

    monkeypatch.setattr(journal, "mark_done", full_disk_twice)

    async def scenario(app: Application) -> None:
        update_id = fake_telegram.send_text(ANN, "/help", first_name="Ann")
        await messages(fake_telegram, ANN, 1)
        entry = await _done(catalog_db, update_id)
        assert entry.done and len(failures) == 2
        await asyncio.sleep(0.5)  # an apology would have come by now

    run_bot(fake_telegram, service, settings, scenario)
    monkeypatch.setattr(journal, "mark_done", mark_done)

    async def restart(app: Application) -> None:
        await asyncio.sleep(1.0)

    run_bot(fake_telegram, service, settings, restart)
    texts = [m["text"] for m in fake_telegram.sent_messages(ANN)]
    assert len(texts) == 1 and SORRY not in texts
