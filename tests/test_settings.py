"""/settings: genres never to recommend, and popular picks or hidden gems (the novelty knob)."""

from __future__ import annotations

import numpy as np
import pytest
from sqlite_utils import Database

from bot.commands.conversation import Chat, Conversation, Sender
from bot.ui import callbacks
from bot.ui.callbacks import Verb
from bot.ui.html import to_plain
from devtools.catalog import FROZEN, TED
from storage import ratings, users
from storage import settings as user_settings
from storage.errors import InvalidArgument
from storage.movies import all_genres

ANN = Sender(2001, "Ann")
PRIVATE = Chat(2001)


@pytest.fixture
def conversation(service) -> Conversation:
    return Conversation(service, "moviebot_test_bot")


def _tap(conversation: Conversation, data: str):
    return conversation.on_button(ANN, PRIVATE, data)


def test_settings_start_at_the_defaults_and_show_every_genre(conversation, catalog_db) -> None:
    card = conversation.on_text(ANN, PRIVATE, "/settings").replies[0]
    text = to_plain(card.text)
    assert "Never recommend: nothing excluded" in text
    assert "How adventurous: Balanced" in text
    labels = [b.label for row in card.buttons for b in row]
    assert labels[:3] == ["Popular", "Balanced ✓", "Hidden gems"]
    assert labels[3:-7] == all_genres(catalog_db)
    assert labels[-7:-3] == ["As my Telegram is set ✓", "English", "Español", "Русский"]
    # Where to watch: the country guessed from Telegram's language, and the services.
    assert labels[-3:-1] == ["🇺🇸 US ›", "My services ›"]
    # Alerts: off until the person opts in.
    assert labels[-1] == "🔔 Weekly new films for me" and "Alerts: none" in text


def test_an_excluded_genre_never_comes_back_until_allowed(conversation, service) -> None:
    conversation.on_text(ANN, PRIVATE, "/rate Frozen 9")
    assert any("Animation" in p.movie.genres for p in service.recommend(ANN.user_id, 20))
    index = all_genres(service.db).index("Animation")
    tapped = _tap(conversation, callbacks.encode(Verb.SET_GENRE, index))
    assert tapped.toast == "No more Animation"
    assert "Never recommend: Animation" in to_plain(tapped.edit.text)
    assert "🚫 Animation" in [b.label for row in tapped.edit.buttons for b in row]
    picks = service.recommend(ANN.user_id, 20)
    assert picks and not any("Animation" in p.movie.genres for p in picks)
    again = _tap(conversation, callbacks.encode(Verb.SET_GENRE, index))
    assert again.toast == "Animation is back in your picks"
    assert any("Animation" in p.movie.genres for p in service.recommend(ANN.user_id, 20))


def _mean_popularity(service, user_id: int) -> float:
    counts = ratings.rating_counts(service.db)
    return float(np.mean([counts.get(p.movie.id, 0) for p in service.recommend(user_id, 10)]))


def test_hidden_gems_are_less_known_than_popular_picks(conversation, service) -> None:
    for title in ("toy story", "finding nemo", "the matrix", "alien", "ted"):
        conversation.on_text(ANN, PRIVATE, f"/rate {title} 9")
    balanced = _mean_popularity(service, ANN.user_id)
    _tap(conversation, callbacks.encode(Verb.SET_ADVENTURE, user_settings.HIDDEN_GEMS))
    gems = _mean_popularity(service, ANN.user_id)
    popular_tap = _tap(conversation, callbacks.encode(Verb.SET_ADVENTURE, user_settings.POPULAR))
    assert "How adventurous: Popular" in to_plain(popular_tap.edit.text)
    popular = _mean_popularity(service, ANN.user_id)
    assert gems < balanced < popular, (gems, balanced, popular)


def test_the_default_knob_leaves_the_ranking_as_it_was(service) -> None:
    model = service.model
    profile = model.fold_in({TED: 8.0, FROZEN: 9.0})
    assert model.recommend(profile, 20) == model.recommend(profile, 20, novelty=0.0)
    assert model.recommend(profile, 20) != model.recommend(profile, 20, novelty=0.5)


def test_forged_settings_buttons_change_nothing(conversation, catalog_db: Database) -> None:
    conversation.on_text(ANN, PRIVATE, "/settings")
    for data in (callbacks.encode(Verb.SET_ADVENTURE, 5), callbacks.encode(Verb.SET_GENRE, 999)):
        assert _tap(conversation, data).toast == "That button has expired. Try the command again."
    assert user_settings.get_settings(catalog_db, ANN.user_id) == user_settings.UserSettings()
    group = conversation.on_button(ANN, Chat(-5, False), callbacks.encode(Verb.SET_ADVENTURE, 1))
    assert group.toast == "Ratings are private: message me directly."


def test_storage_refuses_bad_settings_and_forget_removes_them(catalog_db: Database) -> None:
    users.save_user(catalog_db, ANN.user_id, "Ann")
    with pytest.raises(InvalidArgument):
        user_settings.save_settings(catalog_db, ANN.user_id, user_settings.UserSettings((), 3))
    with pytest.raises(InvalidArgument):
        user_settings.save_settings(catalog_db, ANN.user_id, user_settings.UserSettings(("a|b",)))
    chosen = user_settings.UserSettings(("Horror",), user_settings.HIDDEN_GEMS)
    user_settings.save_settings(catalog_db, ANN.user_id, chosen)
    assert user_settings.get_settings(catalog_db, ANN.user_id) == chosen
    users.forget_user(catalog_db, ANN.user_id)
    assert catalog_db.execute("SELECT count(*) FROM user_settings").fetchone() == (0,)
