"""The update journal forgets: a done update keeps only what de-duplication needs, done rows
go after the retention window, group chatter not for the bot is not kept at all."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database
from telegram.ext import Application

from bot.telegram.journal_jobs import PRUNE_CHUNK, prune_journal
from devtools.app import messages, run_bot
from devtools.fake_telegram.server import FakeTelegram
from storage import journal

ANN = 7_345_991
GROUP = -100_777
REDELIVERY = timedelta(hours=24)  # how long Telegram hands an unconfirmed update over again


def _ago(delta: timedelta) -> str:
    return (datetime.now(UTC) - delta).isoformat(timespec="microseconds")


def _row(db: Database, update_id: int) -> dict | None:
    rows = list(db["updates"].rows_where("update_id = ?", [update_id]))
    return rows[0] if rows else None


def test_a_done_update_keeps_only_its_id_a_digest_and_the_time(db: Database) -> None:
    payload = json.dumps({"update_id": 5, "message": {"text": "I loved Ted", "from": {"id": 1}}})
    journal.record_updates(db, [(5, payload)])
    journal.save_outcome(db, 5, json.dumps({"replies": [{"text": "Ted (2012): 8/10"}]}))
    journal.mark_done(db, 5)
    row = _row(db, 5)
    assert row["payload"] == "{}" and row["outcome"] is None
    assert row["done_at"] is not None and len(row["digest"]) == 64
    # Still recognised: recorded again (a redelivery), it stays done and is not re-answered.
    assert journal.record_updates(db, [(5, payload)]) == 0
    assert journal.get_entry(db, 5).done


def test_prune_deletes_done_updates_past_the_retention_and_keeps_the_rest(db: Database) -> None:
    assert journal.DONE_RETENTION > REDELIVERY
    journal.record_updates(db, [(1, "{}"), (2, "{}"), (3, '{"message": {}}')])
    journal.mark_done(db, 1)
    journal.mark_done(db, 2)
    old = _ago(journal.DONE_RETENTION + timedelta(minutes=1))
    db.execute("UPDATE updates SET done_at = ? WHERE update_id = 1", [old])
    db.execute("UPDATE updates SET received_at = ? WHERE update_id = 3", [old])
    db.conn.commit()
    assert journal.prune_done(db) == 1
    assert _row(db, 1) is None  # done long ago: gone
    assert _row(db, 2) is not None  # done within the window: still de-duplicated
    assert _row(db, 3) is not None  # old but never answered: never pruned


def test_prune_goes_in_chunks_oldest_first(db: Database) -> None:
    journal.record_updates(db, [(i, "{}") for i in (1, 2, 3)])
    for update_id, hours in ((1, 50), (2, 52), (3, 51)):
        journal.mark_done(db, update_id)
        db.execute(
            "UPDATE updates SET done_at = ? WHERE update_id = ?",
            [_ago(timedelta(hours=hours)), update_id],
        )
    db.conn.commit()
    assert journal.prune_done(db, limit=2) == 2
    assert [_row(db, i) is None for i in (1, 2, 3)] == [False, True, True]
    assert journal.prune_done(db, limit=2) == 1
    assert journal.prune_done(db, limit=2) == 0


async def _until(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.02)


def test_the_bot_keeps_no_group_chatter_and_its_prune_job_forgets_old_updates(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    async def scenario(app: Application) -> None:
        names = [job.name for job in app.job_queue.jobs()]
        assert "prune_job" in names
        fake_telegram.world.privacy_mode = False  # the bot sees group chatter too
        chatter = fake_telegram.send_text(
            ANN, "see you at eight", chat_id=GROUP, chat_type="group", first_name="Ann"
        )
        command = fake_telegram.send_text(
            ANN, "/help", chat_id=GROUP, chat_type="group", first_name="Ann"
        )
        await messages(fake_telegram, GROUP, 1)
        entry = lambda: journal.get_entry(catalog_db, command)  # noqa: E731
        await _until(lambda: entry() is not None and entry().done)
        await fake_telegram.wait_for_confirmation(chatter)
        await _until(lambda: _row(catalog_db, chatter) is None)
        assert _row(catalog_db, command)["payload"] == "{}"

        old = _ago(journal.DONE_RETENTION + timedelta(hours=1))
        catalog_db.execute("UPDATE updates SET done_at = ? WHERE update_id = ?", [old, command])
        catalog_db.conn.commit()
        assert await prune_journal(app) == 1
        assert _row(catalog_db, command) is None
        # More than one chunk: the job goes on until none is left.
        rows = [(900_000 + i, "{}", old, old) for i in range(PRUNE_CHUNK + 5)]
        with catalog_db.atomic():
            catalog_db.conn.executemany(
                "INSERT INTO updates (update_id, payload, received_at, done_at) "
                "VALUES (?, ?, ?, ?)",
                rows,
            )
        assert await prune_journal(app) == PRUNE_CHUNK + 5

    run_bot(fake_telegram, service, settings, scenario)
