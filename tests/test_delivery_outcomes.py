"""Every update is closed: delivered, refused by Telegram for good, failed on our side (one
apology), or abandoned after the last retry (logged and counted); a send that timed out
waiting for Telegram's answer is not sent twice."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time

import pytest
from sqlite_utils import Database
from telegram.ext import Application

from bot.telegram import delivery, sending
from bot.telegram.app import SORRY
from devtools.app import messages, run_bot
from devtools.fake_telegram.server import FakeTelegram
from moviebot.cli import main
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


def test_a_delivery_that_keeps_failing_is_abandoned_said_so_and_counted_by_stats(
    fake_telegram: FakeTelegram,
    service,
    settings,
    catalog_db: Database,
    catalog_db_path,
    monkeypatch,
    caplog,
    capsys,
) -> None:
    monkeypatch.setattr(delivery, "RETRY_FIRST_SECONDS", 0.01)

    async def scenario(app: Application) -> None:
        fake_telegram.inject_fault("bad_gateway", "sendMessage", times=1000)
        update_id = fake_telegram.send_text(ANN, "/help", first_name="Ann")
        deadline = time.monotonic() + 20
        while journal.backlog(catalog_db, journal.MAX_ATTEMPTS).abandoned == 0:
            assert time.monotonic() < deadline, "never abandoned"
            await asyncio.sleep(0.05)
        entry = journal.get_entry(catalog_db, update_id)
        assert entry.attempts == delivery.MAX_DELIVERY_ATTEMPTS and not entry.done

    with caplog.at_level(logging.WARNING, logger="bot.telegram.delivery"):
        run_bot(fake_telegram, service, settings, scenario)
    fake_telegram.violations.clear()  # the 502s were ours
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.telegram.delivery"]
    assert sum("will retry" in line for line in lines) == delivery.MAX_DELIVERY_ATTEMPTS - 1
    assert sum("abandoned" in line for line in lines) == 1
    assert "will retry" not in lines[-1] and "abandoned" in lines[-1]
    sends = fake_telegram.calls_of("sendMessage")
    assert len(sends) == delivery.MAX_DELIVERY_ATTEMPTS

    capsys.readouterr()
    assert main(["stats", "--db", str(catalog_db_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["abandoned_updates"] == 1
    assert main(["stats", "--db", str(catalog_db_path)]) == 0
    assert "1 update abandoned" in capsys.readouterr().out


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
