"""Journaling that backs off: a failing disk is waited out without polling Telegram in a loop,
and an update that cannot be stored is quarantined without holding up the rest."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from sqlite_utils import Database
from telegram.ext import Application

from bot.telegram.delivery import UNREADABLE
from devtools import PATIENCE
from devtools.app import messages, run_bot, run_bot_without_polling
from devtools.bot_process import start_bot
from devtools.catalog import TED
from devtools.disk import disk_full
from devtools.fake_telegram.server import FakeTelegram
from storage import journal, ratings
from storage.db import connect

ANN, BOB = 801, 802


def test_a_text_that_cannot_be_stored_is_quarantined_and_the_batch_goes_on(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    async def scenario(app: Application) -> None:
        poison = fake_telegram.send_text(ANN, "/rate Ted \ud800 8", first_name="Ann")
        fake_telegram.send_text(BOB, "/rate Ted 8", first_name="Bob")
        assert (await messages(fake_telegram, ANN, 1))[0]["text"] == UNREADABLE
        assert (await messages(fake_telegram, BOB, 1))[0]["text"] == "Ted (2012): 8/10 ✓"
        fake_telegram.send_text(ANN, "/rate Ted 6", first_name="Ann")
        assert (await messages(fake_telegram, ANN, 2))[1]["text"] == "Ted (2012): 6/10 ✓"
        await fake_telegram.wait_for_confirmation(poison)
        entry = journal.get_entry(catalog_db, poison)
        assert entry is not None and entry.done and entry.payload == "{}"

    run_bot(fake_telegram, service, settings, scenario)
    assert ratings.user_ratings(catalog_db, ANN) == {TED: 6}
    assert ratings.user_ratings(catalog_db, BOB) == {TED: 8}
    # At most a handful of polls: not one per millisecond while the update was stuck.
    assert len(fake_telegram.calls_of("getUpdates")) < 20


def test_a_quarantined_update_keeps_only_who_to_tell(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    """Stopped before its apology went out, a quarantined update is in the journal as its id
    and the chat to tell, none of what it said; the next run tells them once."""

    async def quarantine_only(app: Application) -> None:
        rt = app.bot_data.runtime
        fake_telegram.send_text(ANN, "secret \udfff words", first_name="Ann")
        update = (await app.bot.get_updates(timeout=1))[0]
        rt.unreadable.clear()  # as if the process had stopped here
        stored = journal.get_entry(catalog_db, update.update_id)
        assert stored is not None and not stored.done
        assert "secret" not in stored.payload and "words" not in stored.payload
        assert json.loads(stored.payload)["unreadable"]["chat"] == {"id": ANN}

    run_bot_without_polling(fake_telegram, service, settings, quarantine_only)

    async def restart(app: Application) -> None:
        assert (await messages(fake_telegram, ANN, 1))[0]["text"] == UNREADABLE

    run_bot(fake_telegram, service, settings, restart)
    assert journal.unfinished_updates(catalog_db, 100) == []
    assert len(fake_telegram.sent_messages(ANN)) == 1


def test_an_update_id_the_journal_cannot_hold_is_answered_and_skipped(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    async def scenario(app: Application) -> None:
        fake_telegram.restart_update_ids(2**62 + 5)
        fake_telegram.send_text(ANN, "/help", first_name="Ann")
        fake_telegram.send_text(BOB, "/help", first_name="Bob")
        assert (await messages(fake_telegram, ANN, 1))[0]["text"] == UNREADABLE
        assert (await messages(fake_telegram, BOB, 1))[0]["text"] == UNREADABLE

    run_bot(fake_telegram, service, settings, scenario)
    assert journal.unfinished_updates(catalog_db, 100) == []
    assert len(fake_telegram.calls_of("getUpdates")) < 20


def _wait(condition, what: str, timeout: float = PATIENCE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


def _is_done(db_path: Path, update_id: int) -> bool:
    db = connect(db_path)
    try:
        entry = journal.get_entry(db, update_id)
        return entry is not None and entry.done
    finally:
        db.close()


def test_a_full_disk_is_waited_out_with_back_off_and_nothing_is_lost(
    fake_telegram: FakeTelegram, catalog_db_path: Path, catalog_model_path: Path, tmp_path: Path
) -> None:
    """The real `moviebot run` with a full disk (its file-size limit at 4 KiB) for 6 s: a few
    getUpdates, not thousands; one log line entering the failing state and one leaving it;
    the update that came meanwhile is answered and its rating kept."""
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log:
        bot = start_bot(
            fake_telegram.url,
            catalog_db_path,
            catalog_model_path,
            refit_minutes=0,
            rate_limit=False,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            fake_telegram.wait_for_calls_sync("getUpdates", 1, timeout=PATIENCE)
            first = fake_telegram.send_text(BOB, "/help", first_name="Bob")
            _wait(lambda: fake_telegram.sent_messages(BOB), "the first reply")
            # Marked done just after its reply went out: the full disk is for the next update.
            _wait(lambda: _is_done(catalog_db_path, first), "the first update done")
            with disk_full(bot.pid):
                polls_before = len(fake_telegram.calls_of("getUpdates"))
                fake_telegram.send_text(ANN, "/rate Ted 8", first_name="Ann")
                time.sleep(6)
                polls_during = len(fake_telegram.calls_of("getUpdates")) - polls_before
                assert fake_telegram.sent_messages(ANN) == []
            _wait(lambda: fake_telegram.sent_messages(ANN), "the answer after the disk came back")
        finally:
            bot.terminate()
            bot.wait(timeout=PATIENCE)
    assert polls_during <= 3
    assert fake_telegram.sent_messages(ANN)[0]["text"] == "Ted (2012): 8/10 ✓"
    assert ratings.user_ratings(connect(catalog_db_path), ANN) == {TED: 8}
    text = log_path.read_text()
    assert text.count("cannot store updates") == 1, text[-3000:]
    assert text.count("storing updates works again") == 1, text[-3000:]
    assert text.count("Traceback") <= 1
