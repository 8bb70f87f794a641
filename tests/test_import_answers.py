"""Import previews and taps that add up (issues 24 and 25): a film counted and listed once,
no negative count, why a film is left out, a second tap that says what the first did, and
the bot's own exports read back so /export -> /forget -> /import restores everything."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from bot.commands.conversation import Chat, Conversation, Sender
from bot.files import history_import
from bot.files.history_export import render
from bot.service import MovieService
from bot.ui.replies import Document, Outcome
from devtools.app import messages, run_bot
from devtools.catalog import FROZEN, TED
from devtools.history_files import imdb_csv, imdb_row, letterboxd_row, letterboxd_zip
from storage import ratings, watchlist

ANN = Sender(7_345_993, "Ann Smith", "en")
PRIVATE = Chat(7_345_993, is_private=True)


@pytest.fixture
def conversation(service: MovieService) -> Conversation:
    return Conversation(service, bot_username="moviebot_test_bot")


def send(conversation: Conversation, data: bytes, name: str) -> Outcome:
    return conversation.on_document(ANN, PRIVATE, name, data)


def text(outcome: Outcome) -> str:
    return "\n".join(reply.text for reply in outcome.replies)


def tap(conversation: Conversation, outcome: Outcome, mode: int = 1) -> Outcome:
    data = [b.data for reply in outcome.replies for row in reply.buttons for b in row]
    button = next(d for d in data if d.startswith("i:") and d.endswith(f":{mode}"))
    return conversation.on_button(ANN, PRIVATE, button)


def test_a_second_tap_on_import_says_it_was_imported(
    conversation: Conversation, catalog_db: Database
) -> None:
    preview = send(conversation, imdb_csv([imdb_row("tt1637725", 7, "Ted", 2012)]), "r.csv")
    first = tap(conversation, preview)
    second = tap(conversation, preview)
    assert first.edit.text.startswith("Imported: 1 new rating.")
    assert (second.edit.text, second.toast) == (
        "Already imported: 1 new rating.",
        "Already imported",
    )
    assert ratings.user_ratings(catalog_db, ANN.user_id) == {TED: 7}


def test_the_preview_counts_and_lists_each_film_once(conversation: Conversation) -> None:
    # Letterboxd's zip names a film in ratings.csv, watched.csv and watchlist.csv: Parasite
    # (2019) was listed twice and counted as two films (issue 25).
    missing = letterboxd_row("Not A Film Anyone Made", 2011)
    data = letterboxd_zip(
        ratings=[
            letterboxd_row("Dune", 2021, 5),
            letterboxd_row("Not A Film Anyone Made", 2011, 3),
        ],
        watched=[letterboxd_row("Dune", 2021), missing],
        watchlist=[letterboxd_row("Dune", 2021), missing],
    )
    shown = text(send(conversation, data, "letterboxd.zip"))
    assert "✗ 1 newer than my catalog (it goes up to 2018): Dune (2021)\n" in shown
    assert "✗ 1 not in my catalog: Not A Film Anyone Made (2011)\n" in shown


def test_a_rating_that_takes_a_film_off_the_watchlist_counts_no_negative(
    conversation: Conversation, catalog_db: Database
) -> None:
    conversation.on_text(ANN, PRIVATE, "/help")  # Ann is known
    watchlist.save_for_later(catalog_db, ANN.user_id, FROZEN)
    preview = send(conversation, imdb_csv([imdb_row("tt2294629", 9, "Frozen", 2013)]), "r.csv")
    done = tap(conversation, preview)
    assert done.edit.text.startswith("Imported: 1 new rating.")
    assert "-1" not in done.edit.text
    assert watchlist.watchlist_ids(catalog_db, ANN.user_id) == set()


def test_export_forget_import_restores_ratings_and_watchlist(
    conversation: Conversation, catalog_db: Database
) -> None:
    for line in ("/rate Ted 8", "/rate Frozen 9", "/rate Toy Story 10", "/rate Heat 3"):
        conversation.on_text(ANN, PRIVATE, line)
    for movie_id in (6377, 3, 5):  # unrated films (rating one takes it off the watchlist)
        watchlist.save_for_later(catalog_db, ANN.user_id, movie_id)
    saved_before = watchlist.watchlist_ids(catalog_db, ANN.user_id)
    rated_before = ratings.user_ratings(catalog_db, ANN.user_id)
    exported = conversation.on_text(ANN, PRIVATE, "/export")
    files = [render(catalog_db, Document(r.document.kind, ANN.user_id)) for r in exported.replies]
    assert [name for name, _ in files] == [
        "moviebot-ratings-letterboxd.csv",
        "moviebot-ratings-imdb.csv",
        "moviebot-watchlist-letterboxd.csv",
    ]
    conversation.on_text(ANN, PRIVATE, "/forget")
    conversation.on_button(ANN, PRIVATE, "f:1")
    assert ratings.user_ratings(catalog_db, ANN.user_id) == {}
    for name, data in files:  # each file on its own, as a person would send them
        preview = send(conversation, data, name)
        if any(reply.buttons for reply in preview.replies):
            assert tap(conversation, preview).edit.text.startswith("Imported:")
    assert ratings.user_ratings(catalog_db, ANN.user_id) == rated_before
    assert watchlist.watchlist_ids(catalog_db, ANN.user_id) == saved_before
    # The Letterboxd-format file alone restores the ratings too (not only the IMDb layout).
    conversation.on_text(ANN, PRIVATE, "/forget")
    conversation.on_button(ANN, PRIVATE, "f:1")
    name, data = files[0]
    preview = send(conversation, data, name)
    assert text(preview).startswith("I read 4 rows (Letterboxd-format ratings):")
    tap(conversation, preview)
    assert ratings.user_ratings(catalog_db, ANN.user_id) == rated_before


def test_a_file_is_planned_off_the_database_thread_and_a_repeat_is_not_read_again(
    fake_telegram, service, settings, catalog_db, monkeypatch
) -> None:
    # Issue 24: one import file held every chat for minutes (the plan ran in the database
    # thread). Now it is planned in the import worker process: planning in this process (the
    # bot's, where the database thread runs) fails here, yet the preview comes; the same
    # file sent again is pointed at its preview, not read again.
    def not_here(*args, **kwargs):
        raise AssertionError("planned in the bot's own process")

    monkeypatch.setattr(history_import, "plan_import", not_here)
    data = imdb_csv([imdb_row("tt1637725", 7, "Ted", 2012)])
    reader = 3101

    async def scenario(app) -> None:
        fake_telegram.send_document(reader, data, "ratings.csv", first_name="Di")
        preview = (await messages(fake_telegram, reader, 1))[0]
        assert preview["text"].startswith("I read 1 row (IMDb ratings):")
        fake_telegram.send_document(reader, data, "ratings.csv", first_name="Di")
        again = (await messages(fake_telegram, reader, 2))[1]
        assert again["text"].startswith("You sent me this same file ")

    run_bot(fake_telegram, service, settings, scenario)
    assert fake_telegram.violations == []
