"""/forget: every row that holds the person's id, name or words goes, in one transaction."""

from __future__ import annotations

import asyncio
import json
import time

from sqlite_utils import Database
from telegram.ext import Application

from bot.commands.common import DATA_DELETED
from bot.ui import callbacks
from bot.ui.callbacks import Verb
from devtools.app import buttons, messages, run_bot
from devtools.catalog import FROZEN, TED
from devtools.fake_telegram.server import FakeTelegram
from devtools.history_files import imdb_csv, imdb_row
from storage import journal, ratings, users
from storage.db import connect, utc_now
from tests.helpers import rows_mentioning

ANN = 7_345_991  # an id unlike any movie id, update id or count in the catalog
GROUP = -100_777


async def _done(db: Database, update_id: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entry = journal.get_entry(db, update_id)
        if entry is not None and entry.done:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"update {update_id} was never done")


def test_forget_leaves_no_row_with_the_users_id_name_or_words(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    name = dict(first_name="Annabella", username="annabella_q")
    words = "Zyxwvut chatter about the weather"

    async def scenario(app: Application) -> None:
        fake_telegram.world.privacy_mode = False  # the bot sees group chatter too
        fake_telegram.send_text(ANN, "/rate Ted 8", **name)
        fake_telegram.send_text(ANN, "/rate Frozen", **name)
        question = (await messages(fake_telegram, ANN, 2))[1]
        fake_telegram.send_text(ANN, "/join", chat_id=GROUP, chat_type="group", **name)
        await messages(fake_telegram, GROUP, 1)
        # A movie night she opened keeps the vote, not who opened it.
        fake_telegram.send_text(ANN, "/movienight", chat_id=GROUP, chat_type="group", **name)
        await messages(fake_telegram, GROUP, 2)

        fake_telegram.send_text(ANN, words, chat_id=GROUP, chat_type="group", **name)
        tap = fake_telegram.tap(ANN, question, callbacks.encode(Verb.RATE, FROZEN, 9))
        await _done(catalog_db, tap)
        fake_telegram.send_text(ANN, f"/recommend 3 {words[:7]}", **name)
        await messages(fake_telegram, ANN, 3)
        fake_telegram.send_text(ANN, "/recommend 3", **name)
        picks = (await messages(fake_telegram, ANN, 4))[3]
        save, seen = [b for b in buttons(picks) if b[0] in "we"][:2]
        await _done(catalog_db, fake_telegram.tap(ANN, picks, save))  # watchlist
        await _done(catalog_db, fake_telegram.tap(ANN, picks, seen))  # seen_movies
        export = imdb_csv([imdb_row("tt0114709", 9, "Toy Story", 1995)])
        fake_telegram.send_document(ANN, export, "ratings.csv", **name)  # pending_imports
        await messages(fake_telegram, ANN, 5)
        fake_telegram.send_text(ANN, "/forget", **name)
        card = (await messages(fake_telegram, ANN, 6))[5]
        forget = fake_telegram.tap(ANN, card, callbacks.encode(Verb.FORGET, 1))
        await _done(catalog_db, forget)
        edited = fake_telegram.sent_messages(ANN)[5]["text"]
        assert edited.startswith("Done: I deleted your 2 ratings")
        assert "kept 14 days" in edited

    run_bot(fake_telegram, service, settings, scenario)
    found = rows_mentioning(catalog_db, str(ANN), "Annabella", "annabella_q", words[:7])
    assert found == {}
    assert ratings.user_ratings(catalog_db, ANN) == {}


def test_an_old_rating_button_tapped_after_forget_saves_nothing(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/rate Frozen", first_name="Ann")
        question = (await messages(fake_telegram, ANN, 1))[0]
        fake_telegram.send_text(ANN, "/rate Ted 8", first_name="Ann")
        fake_telegram.send_text(ANN, "/forget", first_name="Ann")
        card = (await messages(fake_telegram, ANN, 3))[2]
        await _done(catalog_db, fake_telegram.tap(ANN, card, callbacks.encode(Verb.FORGET, 1)))
        tap = fake_telegram.tap(ANN, question, callbacks.encode(Verb.RATE, FROZEN, 9))
        await _done(catalog_db, tap)
        assert fake_telegram.sent_messages(ANN)[0]["text"] == DATA_DELETED

    run_bot(fake_telegram, service, settings, scenario)
    assert ratings.user_ratings(catalog_db, ANN) == {}
    assert rows_mentioning(catalog_db, str(ANN)) == {}


def test_forget_counts_as_a_change_for_the_refit(catalog_db: Database) -> None:
    users.save_user(catalog_db, ANN, "Ann")
    ratings.set_rating(catalog_db, ANN, TED, 8)
    ratings.set_rating(catalog_db, ANN, FROZEN, 9)
    fitted_at = utc_now()
    assert ratings.count_rating_changes_since(catalog_db, fitted_at) == 0
    assert users.forget_user(catalog_db, ANN) == 2
    assert ratings.count_rating_changes_since(catalog_db, fitted_at) == 2


def test_forget_keeps_other_peoples_unfinished_updates(catalog_db: Database) -> None:
    """An update not handled yet is what nothing-acknowledged-is-lost protects."""
    ann = json.dumps({"update_id": 1, "message": {"from": {"id": ANN}, "chat": {"id": ANN}}})
    bob = json.dumps({"update_id": 2, "message": {"from": {"id": 9}, "text": "hi"}})
    journal.record_updates(catalog_db, [(1, ann), (2, bob)])
    journal.mark_done(catalog_db, 1)
    users.save_user(catalog_db, ANN, "Ann")
    users.forget_user(catalog_db, ANN)
    assert journal.get_entry(catalog_db, 2).payload == bob
    assert journal.get_entry(catalog_db, 1).payload == "{}"


def test_forget_clears_the_users_updates_whose_delivery_was_given_up(catalog_db: Database) -> None:
    """Given up after MAX_ATTEMPTS failed sends, an update is never done: /forget clears it."""
    mine = json.dumps({"update_id": 3, "message": {"from": {"id": ANN}, "text": "Zyxwvut"}})
    journal.record_updates(catalog_db, [(3, mine)])
    journal.save_outcome(catalog_db, 3, json.dumps({"replies": [{"text": "Hi Annabella"}]}))
    for _ in range(journal.MAX_ATTEMPTS):
        journal.mark_failed(catalog_db, 3, "Telegram is away")
    users.save_user(catalog_db, ANN, "Annabella")
    users.forget_user(catalog_db, ANN)
    assert rows_mentioning(catalog_db, str(ANN), "Annabella", "Zyxwvut") == {}


def test_a_forget_after_the_last_fit_makes_the_refit_run(catalog_db: Database) -> None:
    from moviebot.training import ratings_changed_since_last_fit
    from storage import fits

    users.save_user(catalog_db, ANN, "Ann")
    ratings.set_rating(catalog_db, ANN, TED, 8)
    fit_id = fits.start_fit(catalog_db, ratings.count_ratings(catalog_db))
    fits.finish_fit(catalog_db, fit_id, n_users=1, n_movies=1, scores={}, model_path=None)
    db_path = catalog_db.execute("PRAGMA database_list").fetchone()[2]
    assert ratings_changed_since_last_fit(db_path) == 0
    users.forget_user(catalog_db, ANN)
    assert ratings_changed_since_last_fit(db_path) == 1


def test_after_forget_the_write_ahead_log_keeps_none_of_their_name_or_words(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database, catalog_db_path
) -> None:
    """Issue 24: the `-wal` file kept the person's name and words after /forget until SQLite
    happened to checkpoint; /forget now ends with a TRUNCATE checkpoint."""
    wal = catalog_db_path.with_name(catalog_db_path.name + "-wal")
    words = "Qwyzzlemarker"

    def in_wal() -> bool:
        data = wal.read_bytes() if wal.exists() else b""
        return words.encode() in data or b"Annabella" in data

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, f"/rate {words} 8", first_name="Annabella")
        fake_telegram.send_text(ANN, "/rate Ted 8", first_name="Annabella")
        fake_telegram.send_text(ANN, "/forget", first_name="Annabella")
        card = (await messages(fake_telegram, ANN, 3))[2]
        assert in_wal()
        await _done(catalog_db, fake_telegram.tap(ANN, card, callbacks.encode(Verb.FORGET, 1)))
        deadline = time.monotonic() + 10
        while in_wal():
            assert time.monotonic() < deadline, "the WAL still holds their name or words"
            await asyncio.sleep(0.05)

    run_bot(fake_telegram, service, settings, scenario)
    assert ratings.user_ratings(catalog_db, ANN) == {}


def test_forget_outside_the_bot_truncates_the_write_ahead_log(tmp_path) -> None:
    """`users.forget_user` called on its own (no transaction around it) checkpoints at once."""
    path = tmp_path / "forget.db"
    db = connect(path)
    users.save_user(db, ANN, "Qwyzzlename")
    users.forget_user(db, ANN)
    wal = path.with_name(path.name + "-wal")
    assert b"Qwyzzlename" not in (wal.read_bytes() if wal.exists() else b"")
    db.close()
