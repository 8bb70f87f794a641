"""Taking a rating back (/undo, "Remove" in /myratings) and letting a hidden movie back
(/hidden, "Unhide"): each says what it did, and the refit counts a removal as a change."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from bot.commands.conversation import Conversation
from bot.ui import callbacks
from bot.ui.callbacks import Verb
from devtools.catalog import FROZEN, TED
from storage import ratings, state, users
from storage.db import utc_now
from tests.helpers import ANN, BOB, GROUP, PRIVATE, Talk, button_data

JAWS = 1387


@pytest.fixture
def conversation(service) -> Conversation:
    return Conversation(service, bot_username="moviebot_test_bot")


@pytest.fixture
def ann(conversation: Conversation) -> Talk:
    return Talk(conversation, ANN, PRIVATE)


def test_undo_removes_the_last_rating_then_the_one_before(ann: Talk, catalog_db) -> None:
    ann.say("/rate Ted 8")
    ann.say("/rate Frozen 9")
    ann.say("/rate Jaws 7")
    assert ann.text("/undo").startswith("Removed your rating of Jaws (1975) (7/10).")
    assert ratings.user_ratings(catalog_db, ANN.user_id) == {TED: 8, FROZEN: 9}
    assert ann.text("/undo").startswith("Removed your rating of Frozen (2013) (9/10).")
    ann.say("/rate Ted 6")  # re-rated: now the latest
    assert ann.text("/undo").startswith("Removed your rating of Ted (2012) (6/10).")
    assert ann.text("/undo") == "There is no rating left to undo. /rate Ted 8 rates a movie."
    assert ratings.user_ratings(catalog_db, ANN.user_id) == {}


def test_undo_touches_only_the_senders_ratings(conversation, catalog_db) -> None:
    ann, bob = Talk(conversation, ANN, PRIVATE), Talk(conversation, BOB, PRIVATE)
    ann.say("/rate Ted 8")
    bob.say("/rate Frozen 9")
    assert ann.text("/undo").startswith("Removed your rating of Ted (2012)")
    assert ratings.user_ratings(catalog_db, BOB.user_id) == {FROZEN: 9}
    assert Talk(conversation, ANN, GROUP).text("/undo").startswith("Your ratings stay private")


def test_a_removal_counts_as_a_change_for_the_refit(catalog_db: Database) -> None:
    users.save_user(catalog_db, ANN.user_id, "Ann")
    ratings.set_rating(catalog_db, ANN.user_id, TED, 8)
    ratings.set_rating(catalog_db, ANN.user_id, FROZEN, 9)
    fitted_at = utc_now()
    assert ratings.count_rating_changes_since(catalog_db, fitted_at) == 0
    assert ratings.delete_rating(catalog_db, ANN.user_id, TED) is True
    assert ratings.count_rating_changes_since(catalog_db, fitted_at) == 1
    assert ratings.delete_rating(catalog_db, ANN.user_id, TED) is False
    assert ratings.undo_last_rating(catalog_db, ANN.user_id)[1] == 9
    assert ratings.count_rating_changes_since(catalog_db, fitted_at) == 2
    assert ratings.undo_last_rating(catalog_db, ANN.user_id) is None


def test_myratings_has_a_remove_button_per_row(ann: Talk, catalog_db) -> None:
    for title in ["ted", "frozen", "jaws"]:
        ann.say(f"/rate {title} 6")
    page = ann.say("/myratings").replies[0]
    assert page.text.splitlines()[1:] == [
        "1. Jaws (1975): 6/10",
        "2. Frozen (2013): 6/10",
        "3. Ted (2012): 6/10",
    ]
    remove_frozen = callbacks.encode(Verb.REMOVE, FROZEN, 1)
    assert button_data(ann.say("/myratings")) == [
        callbacks.encode(Verb.REMOVE, JAWS, 1),
        remove_frozen,
        callbacks.encode(Verb.REMOVE, TED, 1),
    ]
    tap = ann.tap(remove_frozen)
    assert tap.toast == "Removed your rating of Frozen (2013)."
    assert tap.edit.text.splitlines()[1:] == ["1. Jaws (1975): 6/10", "2. Ted (2012): 6/10"]
    assert ratings.user_ratings(catalog_db, ANN.user_id) == {JAWS: 6, TED: 6}
    assert ann.tap(remove_frozen).toast == "Already removed."  # an old message tapped again


def test_remove_is_refused_in_a_group(conversation, catalog_db) -> None:
    Talk(conversation, ANN, PRIVATE).say("/rate Ted 8")
    tap = Talk(conversation, ANN, GROUP).tap(callbacks.encode(Verb.REMOVE, TED, 1))
    assert tap.toast == "Ratings are private: message me directly."
    assert ratings.user_ratings(catalog_db, ANN.user_id) == {TED: 8}


def test_hidden_lists_hidden_movies_and_unhide_lets_them_back(ann: Talk, catalog_db) -> None:
    assert ann.text("/hidden").startswith("You haven't hidden any movie.")
    ann.tap(callbacks.encode(Verb.HIDE, TED))
    ann.tap(callbacks.encode(Verb.HIDE, FROZEN))
    page = ann.say("/hidden").replies[0]
    assert page.text.splitlines() == [
        "Movies you hid (1-2 of 2):",
        "1. Frozen (2013)",
        "2. Ted (2012)",
    ]
    unhide_ted = callbacks.encode(Verb.UNHIDE, TED, 1)
    assert unhide_ted in button_data(ann.say("/hidden"))
    tap = ann.tap(unhide_ted)
    assert tap.toast == "Ted (2012) can be recommended again."
    assert tap.edit.text.splitlines() == ["Movies you hid (1-1 of 1):", "1. Frozen (2013)"]
    assert state.hidden_movies(catalog_db, ANN.user_id) == {FROZEN}


def test_hidden_pages(ann: Talk, catalog_db) -> None:
    ids = [row[0] for row in catalog_db.execute("SELECT id FROM movies ORDER BY id LIMIT 12")]
    for movie_id in ids:
        ann.tap(callbacks.encode(Verb.HIDE, movie_id))
    first = ann.say("/hidden").replies[0]
    assert first.text.splitlines()[0] == "Movies you hid (1-10 of 12):"
    assert callbacks.encode(Verb.HIDDEN_PAGE, 2) in button_data(ann.say("/hidden"))
    second = ann.tap(callbacks.encode(Verb.HIDDEN_PAGE, 2)).edit
    assert second.text.splitlines()[0] == "Movies you hid (11-12 of 12):"
    labels = [b.label for row in second.buttons for b in row]
    assert labels == ["Unhide 11", "Unhide 12", "◀ Newer"]
    assert ann.text("/hidden x") == "Ask like /hidden or /hidden 2 (a page number)."


def test_undo_remove_and_unhide_through_telegram(fake_telegram, service, settings, catalog_db):
    """The real PTB stack against the loopback Bot API server (which rejects anything
    Telegram would): the new commands, buttons and in-place edits are valid requests."""
    from telegram.ext import Application

    from devtools.app import buttons, messages, run_bot
    from tests.helpers import answered, until

    user = 601

    async def scenario(app: Application) -> None:
        for text in ("/rate ted 8", "/rate frozen 9", "/rate jaws 7", "/undo"):
            fake_telegram.send_text(user, text, first_name="\u00a0")  # a blank name, too
        sent = await messages(fake_telegram, user, 4)
        assert sent[3]["text"].startswith("Removed your rating of Jaws (1975) (7/10).")

        fake_telegram.send_text(user, "/myratings", first_name="\u00a0")
        page = (await messages(fake_telegram, user, 5))[4]
        remove = callbacks.encode(Verb.REMOVE, FROZEN, 1)
        assert remove in buttons(page)
        tap = fake_telegram.tap(user, page, remove)
        assert (await answered(fake_telegram, tap))["text"].startswith("Removed your rating")
        await until(lambda: "Frozen" not in fake_telegram.sent_messages(user)[4]["text"])

        # "Hide" is under /recommend; in the bot's database thread, as that button would.
        await app.bot_data.runtime.run(state.hide_movie, catalog_db, user, JAWS)
        fake_telegram.send_text(user, "/hidden", first_name="\u00a0")
        hidden = (await messages(fake_telegram, user, 6))[5]
        assert hidden["text"].splitlines() == ["Movies you hid (1-1 of 1):", "1. Jaws (1975)"]
        tap = fake_telegram.tap(user, hidden, callbacks.encode(Verb.UNHIDE, JAWS, 1))
        assert (await answered(fake_telegram, tap))["text"].endswith("recommended again.")
        await until(
            lambda: fake_telegram.sent_messages(user)[5]["text"].startswith("You haven't hidden")
        )

    run_bot(fake_telegram, service, settings, scenario)
    assert ratings.user_ratings(catalog_db, user) == {TED: 8}
    assert state.hidden_movies(catalog_db, user) == set()
