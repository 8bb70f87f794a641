"""The real python-telegram-bot stack over HTTP against the loopback Bot API server.

Every request the bot makes is validated against the Bot API 10.0 specification by the server;
the `fake_telegram` fixture fails a test in which the bot sent anything Telegram would reject.
"""

from __future__ import annotations

import dataclasses
import signal
import subprocess
from pathlib import Path

from sqlite_utils import Database
from telegram.ext import Application

from bot.service import MovieService
from bot.telegram.app import SORRY, refit_now
from bot.ui import callbacks
from bot.ui.callbacks import Verb
from devtools import PATIENCE
from devtools.app import buttons, messages, run_bot
from devtools.bot_process import start_bot
from devtools.catalog import FROZEN, TED
from devtools.fake_telegram.server import FakeTelegram
from devtools.ptb import TEST_TOKEN as TOKEN
from moviebot.training import refit_if_changed
from storage import chats, fits, ratings
from tests.helpers import answered, until

ANN, BOB = 501, 502
GROUP = -100777


PRIVATE_MENU = [
    ("start", "Rate a few movies to get going"),
    ("rate", "Rate a movie: /rate Ted 8"),
    ("recommend", "Your top picks: /recommend 5"),
    ("similar", "Movies like one: /similar Frozen"),
    ("myratings", "What you have rated"),
    ("undo", "Remove your last rating"),
    ("hidden", "Movies you hid, to unhide"),
    ("watchlist", "Movies you saved for later"),
    ("seen", "Movies you marked as seen"),
    ("import", "Bring your IMDb or Letterboxd ratings"),
    ("export", "Your ratings as files for Letterboxd, IMDb"),
    ("taste", "A picture of your taste"),
    ("map", "Where your taste sits: /map Frozen"),
    ("language", "Change the language I speak"),
    ("settings", "Genres to skip, how adventurous"),
    ("forget", "Delete everything I know about you"),
    ("cancel", "Drop the current question"),
    ("about", "What I am and where my movies come from"),
    ("help", "What I can do"),
]
GROUP_MENU = [
    ("join", "Join this chat's movie pool"),
    ("leave", "Leave this chat's movie pool"),
    ("grouprec", "Picks for everyone in the pool"),
    ("movienight", "Vote on tonight's movie"),
    ("similar", "Movies like one: /similar Frozen"),
    ("help", "What I can do"),
]


def test_menu_commands_are_set_for_private_and_group_chats(
    fake_telegram: FakeTelegram, service, settings
) -> None:
    async def scenario(app: Application) -> None:
        calls = await fake_telegram.wait_for_calls("setMyCommands", 2)
        # The default (English) menus; each other language's are tests/test_i18n.py's.
        default = [c for c in calls if "language_code" not in c.params]
        scopes = {c.params["scope"]["type"]: c.params["commands"] for c in default}
        menus = {
            scope: [(c["command"], c["description"]) for c in commands]
            for scope, commands in scopes.items()
        }
        assert menus == {"all_private_chats": PRIVATE_MENU, "all_group_chats": GROUP_MENU}

    run_bot(fake_telegram, service, settings, scenario)


def test_rating_by_command_by_button_and_rerating(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/rate Ted 8", first_name="Ann")
        assert (await messages(fake_telegram, ANN, 1))[0]["text"] == "Ted (2012): 8/10 ✓"
        fake_telegram.send_text(ANN, "/rate ted 6", first_name="Ann")
        sent = await messages(fake_telegram, ANN, 2)
        assert sent[1]["text"] == "Ted (2012): 6/10 ✓ (replaces your earlier 8/10)"

        fake_telegram.send_text(ANN, "/rate Frozen", first_name="Ann")
        question = (await messages(fake_telegram, ANN, 3))[2]
        assert question["text"].startswith("How would you rate Frozen (2013)")
        assert len(buttons(question)) == 10
        tap = fake_telegram.tap(ANN, question, callbacks.encode(Verb.RATE, FROZEN, 9))
        assert (await answered(fake_telegram, tap))["text"] == "Saved"
        await until(lambda: fake_telegram.sent_messages(ANN)[2]["text"] != question["text"])
        edited = fake_telegram.sent_messages(ANN)[2]
        assert edited["text"] == "Frozen (2013): 9/10 ✓"
        assert buttons(edited) == []

    run_bot(fake_telegram, service, settings, scenario)
    assert ratings.user_ratings(catalog_db, ANN) == {TED: 6, FROZEN: 9}


def test_onboarding_over_telegram(fake_telegram: FakeTelegram, service, settings, catalog_db):
    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/start", first_name="Ann")
        intro, first = await messages(fake_telegram, ANN, 2)
        assert intro["text"].startswith("Hi Ann!")
        assert first["text"].startswith("1/10: ")
        data = buttons(first)
        assert len(data) == 11
        tap = fake_telegram.tap(ANN, first, data[7])  # an 8
        await answered(fake_telegram, tap)
        sent = await messages(fake_telegram, ANN, 3)
        assert sent[1]["text"].endswith(": 8/10 ✓")
        assert sent[2]["text"].startswith("2/10: ")
        skip = fake_telegram.tap(ANN, sent[2], buttons(sent[2])[-1])
        await answered(fake_telegram, skip)
        sent = await messages(fake_telegram, ANN, 4)
        assert "not seen, skipped" in sent[2]["text"]
        assert sent[3]["text"].startswith("2/10: ")

    run_bot(fake_telegram, service, settings, scenario)
    assert ratings.count_user_ratings(catalog_db, ANN) == 1


def test_ambiguous_title_is_asked_with_buttons(fake_telegram, service, settings, catalog_db):
    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/rate harold kumar 7", first_name="Ann")
        question = (await messages(fake_telegram, ANN, 1))[0]
        assert question["text"] == "Which one do you mean?"
        pick = callbacks.encode(Verb.PICK_RATE, 59022, 7)
        assert pick in buttons(question)
        tap = fake_telegram.tap(ANN, question, pick)
        await answered(fake_telegram, tap)
        await until(
            lambda: (
                fake_telegram.sent_messages(ANN)[0]["text"]
                == "Harold & Kumar Escape from Guantanamo Bay (2008): 7/10 ✓"
            )
        )

    run_bot(fake_telegram, service, settings, scenario)
    assert ratings.user_ratings(catalog_db, ANN) == {59022: 7}


def test_recommend_similar_myratings_and_forget(fake_telegram, service, settings, catalog_db):
    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/recommend 3", first_name="Ann")
        cold = (await messages(fake_telegram, ANN, 1))[0]
        assert cold["text"].startswith("You haven't rated anything yet")
        assert len(buttons(cold)) == 12  # Rate, Save, Seen, Hide for each
        for title in ("toy story", "finding nemo", "up"):
            fake_telegram.send_text(ANN, f"/rate {title} 10", first_name="Ann")
        await messages(fake_telegram, ANN, 4)
        fake_telegram.send_text(ANN, "/recommend 3", first_name="Ann")
        warm = (await messages(fake_telegram, ANN, 5))[4]
        assert warm["text"].startswith("Your top 3 picks:")
        assert warm["text"] != cold["text"]

        hide = next(b for b in buttons(warm) if b.startswith("h:"))
        tap = fake_telegram.tap(ANN, warm, hide)
        assert (await answered(fake_telegram, tap))["text"].startswith("Hidden")

        fake_telegram.send_text(ANN, "/similar toy story", first_name="Ann")
        similar = (await messages(fake_telegram, ANN, 6))[5]
        assert similar["text"].startswith("Movies like Toy Story (1995):")

        fake_telegram.send_text(ANN, "/myratings", first_name="Ann")
        mine = (await messages(fake_telegram, ANN, 7))[6]
        assert mine["text"].startswith("Your ratings (1-3 of 3):")

        fake_telegram.send_text(ANN, "/forget", first_name="Ann")
        confirm = (await messages(fake_telegram, ANN, 8))[7]
        tap = fake_telegram.tap(ANN, confirm, callbacks.encode(Verb.FORGET, 1))
        await answered(fake_telegram, tap)
        await until(
            lambda: fake_telegram.sent_messages(ANN)[7]["text"].startswith("Done: I deleted your 3")
        )

    run_bot(fake_telegram, service, settings, scenario)
    assert ratings.count_user_ratings(catalog_db, ANN) == 0


BAD_INPUTS = [
    "/rate",
    "/rate Ted 0",
    "/rate Ted 11",
    "/rate Ted 7.5",
    "/rate Ted abc",
    "/rate qwzx plmk 8",
    "/rate 🎬🍿 9",
    "/rate " + "x" * 3990,
    "/recommend 0",
    "/recommend 51",
    "/recommend abc",
    "/similar",
    "/similar zzzzzzzzzz",
    "/myratings abc",
    "/nosuchcommand",
    "ÿ̸̢͍̈́ë̵́s̶ 🧟 \u202e",
]


def test_bad_input_gets_a_clear_reply_and_stores_nothing(
    fake_telegram: FakeTelegram, service, settings, catalog_db: Database
) -> None:
    before = catalog_db.execute("SELECT count(*) FROM ratings").fetchone()[0]

    async def scenario(app: Application) -> None:
        for n, text in enumerate(BAD_INPUTS, start=1):
            fake_telegram.send_text(ANN, text, first_name="Ann")
            reply = (await messages(fake_telegram, ANN, n))[n - 1]
            assert reply["text"] and "Traceback" not in reply["text"], text
            assert reply["text"] != SORRY, text
        fake_telegram.send_text(ANN, "/rate@another_bot Ted 8", first_name="Ann")
        fake_telegram.send_text(ANN, "/help", first_name="Ann")
        sent = await messages(fake_telegram, ANN, len(BAD_INPUTS) + 1)
        assert sent[-1]["text"].startswith("I learn your taste")  # the other bot's got none

    run_bot(fake_telegram, service, settings, scenario)
    assert catalog_db.execute("SELECT count(*) FROM ratings").fetchone()[0] == before


def test_group_pool_and_privacy(fake_telegram: FakeTelegram, service, settings, catalog_db):
    async def scenario(app: Application) -> None:
        say = fake_telegram.send_text
        say(ANN, "/join@moviebot_test_bot", chat_id=GROUP, chat_type="group", first_name="Ann")
        assert (await messages(fake_telegram, GROUP, 1))[0]["text"].startswith("Ann joined")
        say(BOB, "/join", chat_id=GROUP, chat_type="group", first_name="Bob")
        await messages(fake_telegram, GROUP, 2)
        say(ANN, "/rate Ted 8", chat_id=GROUP, chat_type="group", first_name="Ann")
        private = (await messages(fake_telegram, GROUP, 3))[2]
        assert private["text"].startswith("Your ratings stay private")
        say(ANN, "/rate@another_bot Ted 8", chat_id=GROUP, chat_type="group", first_name="Ann")
        say(BOB, "/grouprec 3", chat_id=GROUP, chat_type="group", first_name="Bob")
        picks, picture = (await messages(fake_telegram, GROUP, 5, timeout=PATIENCE))[3:5]
        assert picks["text"].startswith("Picks for 2 (nobody has rated these).")
        assert picks["text"].count("Ann ") == 3 and picks["text"].count("Bob ") == 3
        assert "photo" in picture
        say(BOB, "/leave", chat_id=GROUP, chat_type="group", first_name="Bob")
        assert (await messages(fake_telegram, GROUP, 6))[5]["text"] == (
            "Bob left this chat's movie pool."
        )

    run_bot(fake_telegram, service, settings, scenario)
    assert [uid for uid, _ in chats.pool_members(catalog_db, GROUP)] == [ANN]
    assert ratings.count_user_ratings(catalog_db, ANN) == 0


def _community_loves(db: Database, movie_id: int, people: int) -> None:
    """`people` new community members rate `movie_id` 10: only a refit can learn from that."""
    from storage import users

    for uid in range(900_000, 900_000 + people):
        users.save_user(db, uid, f"fan {uid}")
        ratings.set_rating(db, uid, movie_id, 10)


def test_a_refit_changes_recommendations_and_a_failed_one_keeps_the_old_model(
    fake_telegram: FakeTelegram, service: MovieService, settings, catalog_db, tmp_path
) -> None:
    obscure = 75395  # Frozen (2010): two ratings, far from the best-rated list
    attempts = []

    def refit(db_path: Path, model_path: Path):
        """The CLI's refit; the first attempt cannot save the model it fitted."""
        attempts.append(model_path)
        if len(attempts) == 1:
            model_path = tmp_path / "no such folder" / "model.npz"
        return refit_if_changed(db_path, model_path)

    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/recommend 5", first_name="Ann")
        before = (await messages(fake_telegram, ANN, 1))[0]["text"]
        assert "Frozen (2010)" not in before
        # In the bot's database thread: the connection is the bot's, and it is in use.
        # Enough to be among the best-known movies, which a new user's list is chosen from.
        await app.bot_data.runtime.run(_community_loves, catalog_db, obscure, 400)

        old_model = service.model
        assert await refit_now(app) is False
        assert service.model is old_model
        fake_telegram.send_text(ANN, "/recommend 5", first_name="Ann")
        assert (await messages(fake_telegram, ANN, 2))[1]["text"] == before

        assert await refit_now(app) is True
        assert service.model is not old_model
        fake_telegram.send_text(ANN, "/recommend 5", first_name="Ann")
        after = (await messages(fake_telegram, ANN, 3))[2]["text"]
        assert "Frozen (2010)" in after

    run_bot(fake_telegram, service, dataclasses.replace(settings, refit=refit), scenario)
    assert attempts == [settings.model_path] * 2
    statuses = [f.status for f in fits.recent_fits(catalog_db)]
    assert statuses[:2] == ["ok", "failed"]
    assert "FileNotFoundError" in fits.recent_fits(catalog_db)[1].error


def test_without_a_refit_function_the_bot_never_refits(
    fake_telegram: FakeTelegram, service: MovieService, settings
) -> None:
    async def scenario(app: Application) -> None:
        assert await refit_now(app) is False
        names = {j.name for j in app.job_queue.jobs()}
        assert "prune_job" in names and "refit_job" not in names

    old_model = service.model
    run_bot(fake_telegram, service, dataclasses.replace(settings, refit_minutes=1), scenario)
    assert service.model is old_model


def test_an_unexpected_error_is_apologised_for_and_the_bot_carries_on(
    fake_telegram: FakeTelegram, service: MovieService, settings, monkeypatch
) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    async def scenario(app: Application) -> None:
        monkeypatch.setattr(service, "recommend", boom)
        fake_telegram.send_text(ANN, "/recommend", first_name="Ann")
        assert (await messages(fake_telegram, ANN, 1))[0]["text"] == SORRY
        monkeypatch.undo()
        fake_telegram.send_text(ANN, "/rate Ted 8", first_name="Ann")
        assert (await messages(fake_telegram, ANN, 2))[1]["text"] == "Ted (2012): 8/10 ✓"

    run_bot(fake_telegram, service, settings, scenario)


def test_moviebot_run_serves_telegram_and_never_logs_the_token(
    fake_telegram: FakeTelegram, catalog_db_path: Path, catalog_model_path: Path
) -> None:
    process = start_bot(
        fake_telegram.url,
        catalog_db_path,
        catalog_model_path,
        token=TOKEN,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        update = fake_telegram.send_text(ANN, "/rate Ted 8", first_name="Ann")
        reply = fake_telegram.wait_for_reply_sync(ANN, after=update, timeout=PATIENCE)
        assert reply["text"] == "Ted (2012): 8/10 ✓"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=PATIENCE)
    assert process.returncode == 0, output
    assert TOKEN not in output
    assert TOKEN.split(":")[1] not in output


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_taste_and_map_arrive_as_photos(fake_telegram: FakeTelegram, service, settings) -> None:
    async def scenario(app: Application) -> None:
        fake_telegram.send_text(ANN, "/taste", first_name="Ann")
        first = (await messages(fake_telegram, ANN, 1))[0]
        assert first["text"].startswith("Rate a few movies first")
        for n, title in enumerate(["toy story", "frozen", "saw", "the matrix"], start=2):
            fake_telegram.send_text(ANN, f"/rate {title} {2 * n}", first_name="Ann")
        await messages(fake_telegram, ANN, 5)
        fake_telegram.send_text(ANN, "/taste", first_name="Ann")
        taste = (await messages(fake_telegram, ANN, 6, timeout=PATIENCE))[5]
        assert taste["caption"] == "Your taste, from your 4 ratings."
        fake_telegram.send_text(ANN, "/map Frozen", first_name="Ann")
        movie_map = (await messages(fake_telegram, ANN, 7, timeout=PATIENCE))[6]
        assert movie_map["caption"].endswith("Marked: Frozen (2013).")

    run_bot(fake_telegram, service, settings, scenario)
    photos = fake_telegram.calls_of("sendPhoto")
    assert len(photos) == 2
    uploads = fake_telegram.uploads
    assert len(uploads) == 2
    for upload in uploads:
        width, height = _png_size(upload.data)
        assert width >= 800 and height >= 800
        assert 20_000 < len(upload.data) < 1_000_000


def test_grouprec_attaches_a_picture_of_everyone_s_scores(
    fake_telegram: FakeTelegram, service, settings
) -> None:
    async def scenario(app: Application) -> None:
        say = fake_telegram.send_text
        say(ANN, "/join", chat_id=GROUP, chat_type="group", first_name="Ann")
        say(BOB, "/join", chat_id=GROUP, chat_type="group", first_name="Bob")
        say(BOB, "/grouprec 3", chat_id=GROUP, chat_type="group", first_name="Bob")
        sent = await messages(fake_telegram, GROUP, 4, timeout=PATIENCE)
        assert sent[2]["text"].startswith("Picks for 2")
        assert sent[3]["caption"] == "Each member's predicted score for the top picks."

    run_bot(fake_telegram, service, settings, scenario)
    assert _png_size(fake_telegram.uploads[0].data)[0] >= 800


def test_inline_mode_answers_with_personal_movie_cards(
    fake_telegram: FakeTelegram, service, settings
) -> None:
    async def scenario(app: Application) -> None:
        fake_telegram.inline_query(ANN, "frozen")
        answer = (await fake_telegram.wait_for_calls("answerInlineQuery", 1))[0].params
        assert answer["is_personal"] is True
        results = answer["results"]
        assert 1 <= len(results) <= 50
        assert results[0]["title"].startswith("Frozen (2013)")
        card = results[0]["input_message_content"]["message_text"]
        assert "imdb.com/title/tt2294629" in card

        fake_telegram.inline_query(ANN, "")
        empty = (await fake_telegram.wait_for_calls("answerInlineQuery", 2))[1].params
        cold = service.model.recommend(service.model.fold_in({}), 1)[0][0]
        assert empty["results"][0]["id"] == f"m{cold}"

        fake_telegram.inline_query(ANN, "x" * 250)
        bad = (await fake_telegram.wait_for_calls("answerInlineQuery", 3))[2].params
        assert bad["results"] == []

    run_bot(fake_telegram, service, settings, scenario)
