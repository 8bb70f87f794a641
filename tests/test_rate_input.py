"""What /rate makes of typed titles through the conversation: junk never becomes a rating, a
weak match is asked about, and the answer to the question is what gets stored."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from bot.commands.conversation import Conversation
from bot.ui import callbacks
from bot.ui.callbacks import Verb
from bot.ui.html import to_plain
from devtools.title_calibration import load_labelled
from storage import ratings
from tests.helpers import ANN, PRIVATE, Talk, button_data, snapshot

DUMB_AND_DUMBER = 231


@pytest.fixture
def ann(service) -> Talk:
    return Talk(Conversation(service, bot_username="moviebot_test_bot"), ANN, PRIVATE)


def test_no_junk_of_the_labelled_set_is_saved(ann: Talk, catalog_db: Database) -> None:
    junk = [item.query for item in load_labelled() if item.movie_id is None]
    assert len(junk) >= 80
    before = snapshot(catalog_db)
    for text in junk:
        outcome = ann.say(f"/rate {text} 8")
        assert outcome.replies, text
        assert "✓" not in outcome.replies[0].text, text
        ann.say(f"{text} 8")  # plain text never saves either
    assert snapshot(catalog_db) == before
    assert ratings.count_user_ratings(catalog_db, ANN.user_id) == 0


@pytest.mark.parametrize(
    "junk", ["asdfgh 8", "hello world 7", "idk 8", "test 5", "DROP TABLE 3", "whats up 9"]
)
def test_the_issues_junk_saves_nothing(ann: Talk, catalog_db: Database, junk: str) -> None:
    before = snapshot(catalog_db)
    text = ann.text(f"/rate {junk}")
    assert text.startswith(("I couldn't find a movie called", "Did you mean", "Which one"))
    assert snapshot(catalog_db) == before


def test_a_weak_match_is_asked_about_and_the_tap_stores_it(ann: Talk, catalog_db) -> None:
    outcome = ann.say("/rate dumb dumebr 8")  # two letters swapped: a weak match
    assert to_plain(outcome.replies[0].text) == "Did you mean Dumb & Dumber (1994)?"
    pick = callbacks.encode(Verb.PICK_RATE, DUMB_AND_DUMBER, 8)
    assert button_data(outcome)[0] == pick
    assert button_data(outcome)[-1] == callbacks.encode(Verb.CANCEL, 0)
    assert ratings.user_ratings(catalog_db, ANN.user_id) == {}
    assert to_plain(ann.tap(pick).edit.text) == "Dumb & Dumber (1994): 8/10 ✓"
    assert ratings.user_ratings(catalog_db, ANN.user_id) == {DUMB_AND_DUMBER: 8}


def test_a_strong_clear_match_is_stored_at_once(ann: Talk, catalog_db) -> None:
    assert ann.text("/rate the shwashank redemption 9") == (
        "The Shawshank Redemption (1994): 9/10 ✓"
    )
    assert ratings.user_ratings(catalog_db, ANN.user_id) == {318: 9}
