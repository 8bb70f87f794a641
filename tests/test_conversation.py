"""The command layer on the real catalog and model: what people type and tap, what they get."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlite_utils import Database

from bot.commands import state as conversation_state
from bot.commands.common import NO_RATINGS_FOR_PICTURE, SORRY_OLD_BUTTON
from bot.commands.conversation import PERSONAL_BUTTON, PRIVATE_ONLY, Chat, Conversation, Sender
from bot.commands.features import picks
from bot.commands.features.account import BACKUP_DAYS
from bot.commands.features.rating import BAD_SCORE
from bot.commands.parsing import parse_years
from bot.commands.router import Context
from bot.service import ONBOARDING_SIZE, MovieService
from bot.ui import callbacks, i18n
from bot.ui.callbacks import Verb
from bot.ui.html import to_plain
from bot.ui.replies import MAX_TEXT
from storage import chats, ratings, state
from storage.movies import get_movie
from storage.search import TitleIndex
from tests.helpers import ANN, BOB, GROUP, PRIVATE, Talk, button_data, snapshot

TED, TED_2, FROZEN, TOY_STORY, TOY_STORY_2 = 95441, 135861, 106696, 1, 3114
# These tests run in every language the bot speaks, asserting behaviour or the translated text.
EVERY_LANGUAGE = pytest.mark.parametrize("language", list(i18n.LANGUAGES))


def tr(language: str, message: str, /, **fields: object) -> str:
    """`message` as the bot says it in `language`, its placeholders filled."""
    with i18n.speaking(language):
        return i18n._(message).format(**fields)


def trn(language: str, singular: str, plural: str, n: int, /, **fields: object) -> str:
    """The plural message for `n` as the bot says it in `language`."""
    with i18n.speaking(language):
        return i18n.ngettext(singular, plural, n).format(**fields)


def up_to(text: str, value: str) -> str:
    """`text` up to and including `value` (a filled placeholder)."""
    return text[: text.index(value) + len(value)]


def speaking(sender: Sender, language: str) -> Sender:
    """The same person with their Telegram set to `language`."""
    return dataclasses.replace(sender, language=language)


@pytest.fixture
def conversation(service: MovieService) -> Conversation:
    return Conversation(service, bot_username="moviebot_test_bot")


@pytest.fixture
def language() -> str:
    """The language of the people in a test (EVERY_LANGUAGE runs a test in each)."""
    return "en"


@pytest.fixture
def ann(conversation: Conversation, language: str) -> Talk:
    return Talk(conversation, speaking(ANN, language), PRIVATE)


@EVERY_LANGUAGE
def test_rate_stores_and_confirms_what_was_stored(ann: Talk, catalog_db: Database) -> None:
    assert ann.text("/rate Ted 8") == "Ted (2012): 8/10 ✓"
    assert ratings.user_ratings(catalog_db, ANN.user_id) == {TED: 8}


@EVERY_LANGUAGE
def test_rerating_replaces_the_score_and_says_so(ann: Talk, catalog_db, language) -> None:
    ann.say("/rate Ted 8")
    assert ann.text("/rate ted 6") == tr(
        language,
        "{title}: {rating}/10 ✓ (replaces your earlier {previous}/10)",
        title="Ted (2012)",
        rating=6,
        previous=8,
    )
    assert ann.text("/rate TED 6/10") == tr(
        language, "{title}: {rating}/10 ✓ (unchanged)", title="Ted (2012)", rating=6
    )
    assert ratings.user_ratings(catalog_db, ANN.user_id) == {TED: 6}


@EVERY_LANGUAGE
def test_rate_without_a_score_shows_buttons_and_a_typed_score_works(
    ann: Talk, catalog_db, language
) -> None:
    outcome = ann.say("/rate Frozen")
    asked = tr(language, "How would you rate {movie}?", movie="Frozen (2013)")
    assert to_plain(outcome.replies[0].text).startswith(up_to(asked, "Frozen (2013)"))
    assert button_data(outcome) == [callbacks.encode(Verb.RATE, FROZEN, s) for s in range(1, 11)]
    assert ann.text("9") == "Frozen (2013): 9/10 ✓"
    assert ratings.user_ratings(catalog_db, ANN.user_id) == {FROZEN: 9}
    assert state.get_state(catalog_db, ANN.user_id) == {}


@EVERY_LANGUAGE
def test_a_tapped_score_is_stored_and_the_message_edited(ann: Talk, catalog_db, language) -> None:
    outcome = ann.tap(callbacks.encode(Verb.RATE, TED, 7))
    assert to_plain(outcome.edit.text) == "Ted (2012): 7/10 ✓"
    assert outcome.toast == tr(language, "Saved")
    assert ratings.get_rating(catalog_db, ANN.user_id, TED) == 7


@EVERY_LANGUAGE
def test_close_titles_are_asked_about_and_the_pick_stores_the_score(
    ann: Talk, catalog_db, language
) -> None:
    outcome = ann.say("/rate harold kumar 7")
    assert to_plain(outcome.replies[0].text) == tr(language, "Which one do you mean?")
    labels = [b.label for row in outcome.replies[0].buttons for b in row]
    assert "Harold & Kumar Escape from Guantanamo Bay (2008)" in labels
    assert labels[-1] == tr(language, "None of these")
    assert ratings.user_ratings(catalog_db, ANN.user_id) == {}
    guantanamo = callbacks.encode(Verb.PICK_RATE, 59022, 7)
    assert guantanamo in button_data(outcome)
    assert (
        ann.tap(guantanamo).edit.text
        == "Harold &amp; Kumar Escape from Guantanamo Bay (2008): 7/10 ✓"
    )
    assert ratings.user_ratings(catalog_db, ANN.user_id) == {59022: 7}


@EVERY_LANGUAGE
@pytest.mark.parametrize("score", ["0", "11", "7.5", "-3", "100", "8,5", "0/10"])
def test_impossible_scores_are_refused_and_nothing_is_stored(
    ann: Talk, catalog_db, score, language
) -> None:
    before = snapshot(catalog_db)
    assert ann.text(f"/rate Ted {score}") == tr(language, BAD_SCORE)
    assert snapshot(catalog_db) == before


@pytest.mark.parametrize(
    "text",
    [
        "/rate",
        "/rate    ",
        "/rate qwzx plmk 8",
        "/rate Ted abc",
        "/rate " + "x" * 4000,
        "x" * 5000,
        "/rate 🎬🍿 9",
        "/rate \u202etxet lanoitceridib\u202c 5",
        "/rate Te\u200bd 8\u200b",
        "/similar",
        "/similar zzzzzzzz qqqq",
        "/recommend 0",
        "/recommend 51",
        "/recommend abc",
        "/recommend -3",
        "/recommend 2.5",
        "/myratings abc",
        "/grouprec",
        "/join",
        "/unknowncommand",
        "/rate@another_bot Ted 8",
        "🎬",
        "",
        "   ",
        "\x00\x01\x02",
    ],
)
@EVERY_LANGUAGE
def test_bad_input_gets_a_friendly_reply_and_stores_nothing(ann: Talk, catalog_db, text) -> None:
    before = snapshot(catalog_db)
    outcome = ann.say(text)
    for reply in outcome.replies:
        assert 0 < len(reply.text) <= MAX_TEXT
        assert "Traceback" not in reply.text
    assert snapshot(catalog_db) == before
    # Ours get an answer; only another bot's command is ignored in a private chat.
    assert bool(outcome.replies) == (not text.startswith("/rate@another_bot"))


HELP_TEXT = """I learn your taste in movies from your ratings and recommend what to watch next.

/start - rate a few well-known movies to get going
/rate <title> <1-10> - rate a movie, e.g. /rate Ted 8 (leave out the score to get buttons)
/recommend [n] [genre] [years] - your top picks, e.g. /recommend 5 comedy 1990s
/similar <title> - movies like that one
/myratings - what you have rated
/undo - remove your last rating (again: the one before)
/hidden - the movies you hid, with buttons to unhide them
/watchlist - the movies you saved for later
/seen - the movies you marked "Seen", with buttons to undo it
/import - bring your ratings from IMDb or Letterboxd (send me the export file)
/export - your ratings and watchlist as files for Letterboxd and IMDb
/taste - a picture of your taste
/map [title] - where your taste sits on a map of movies, e.g. /map Frozen
/language - change the language I speak with you
/settings - genres never to recommend, popular picks or hidden gems, language
/forget - delete everything I know about you
/cancel - drop the current question
/about - what I am and where my movie data comes from
In a group: /join or /leave the group's pool, /grouprec [n] [watchlist] for picks \
for everyone who joined, /movienight to vote on the pool's top picks.

My catalog is the bundled MovieLens one: 9742 films, up to 2018."""


def test_help_lists_every_command_in_private_and_in_groups(conversation: Conversation) -> None:
    assert Talk(conversation, ANN, PRIVATE).text("/help") == HELP_TEXT
    assert Talk(conversation, ANN, GROUP).text("/help") == HELP_TEXT


@EVERY_LANGUAGE
def test_unknown_title_says_what_to_try(ann: Talk, language) -> None:
    assert ann.text("/rate qwzx plmk 8") == not_found(language, "qwzx plmk")


def not_found(language: str, title: str) -> str:
    """A title not found in the bundled catalog: what to try, and where the catalog ends."""
    return (
        tr(
            language,
            'I couldn\'t find a movie called "{title}". Check the spelling, or add the year, '
            "like: Cinderella 2015.",
            title=title,
        )
        + " "
        + tr(
            language,
            "My catalog has films up to {year}, so a newer film may be missing.",
            year=2018,
        )
    )


def test_recommend_for_a_new_user_is_the_best_rated_and_says_so(ann: Talk, service) -> None:
    outcome = ann.say("/recommend 5")
    text = outcome.replies[0].text
    assert to_plain(text).startswith(
        "You haven't rated anything yet, so these are the best-rated movies"
    )
    cold = service.model.recommend(service.model.fold_in({}), 5)
    for movie_id, _ in cold:
        assert get_movie(service.db, movie_id).label in text
    assert text.count("https://www.imdb.com/title/tt") == 5


def test_a_rating_changes_recommendations_at_once(ann: Talk, service, catalog_db) -> None:
    before = [p.movie.id for p in service.recommend(ANN.user_id, 10)]
    for title in ("toy story", "toy story 2", "finding nemo", "monsters inc", "up"):
        ann.say(f"/rate {title} 10")
    for title in ("saw", "hostel", "the exorcist"):
        ann.say(f"/rate {title} 1")
    after = service.recommend(ANN.user_id, 10)
    assert [p.movie.id for p in after] != before
    rated = ratings.user_ratings(catalog_db, ANN.user_id)
    assert not rated.keys() & {p.movie.id for p in after}
    assert sum("Animation" in p.movie.genres for p in after) >= 3
    text = ann.text("/recommend")
    assert text.startswith("Your top 10 picks:")
    assert "because you rated" in text


@EVERY_LANGUAGE
def test_recommend_by_genre_and_count(ann: Talk, service, language) -> None:
    ann.say("/rate Ted 8")
    outcome = ann.say("/recommend 3 comedy")
    assert to_plain(outcome.replies[0].text).startswith(
        trn(
            language,
            "Your top {n} {genre} pick:",
            "Your top {n} {genre} picks:",
            3,
            n=3,
            genre=tr(language, "Comedy"),
        )
    )
    for pick in service.recommend(ANN.user_id, 3, "Comedy"):
        assert "Comedy" in pick.movie.genres
    unknown = 'I don\'t know the genre "{genre}". Try one of: {known}.'
    expected = tr(language, unknown, genre="westernz", known="")
    assert ann.text("/recommend 3 westernz").startswith(up_to(expected, "westernz"))


@pytest.mark.parametrize(
    ("token", "years"),
    [
        ("1994", (1994, 1994)),
        ("1990s", (1990, 1999)),
        ("90s", (1990, 1999)),
        ("'80s", (1980, 1989)),
        ("10s", (2010, 2019)),
        ("1990-2005", (1990, 2005)),
        ("5", None),
        ("0042", None),
        ("2005-1990", None),
        ("sci-fi", None),
        ("1990ss", None),
    ],
)
def test_release_years_are_read_from_a_recommend_token(token, years) -> None:
    assert parse_years(token) == years


def test_recommend_by_release_years(ann: Talk, service, catalog_db) -> None:
    cold = ann.text("/recommend 3 drama 90s")
    assert cold.startswith("You haven't rated anything yet, so these are the best-rated Drama")
    assert "Drama movies from the 1990s." in cold
    ann.say("/rate Ted 8")
    outcome = ann.say("/recommend 4 comedy 1990s")
    assert to_plain(outcome.replies[0].text).startswith("Your top 4 Comedy picks from the 1990s:")
    picks = service.recommend(ANN.user_id, 4, "Comedy", (1990, 1999))
    assert len(picks) == 4
    assert all(1990 <= p.movie.year <= 1999 and "Comedy" in p.movie.genres for p in picks)
    for pick in picks:
        assert pick.movie.label in outcome.replies[0].text
    assert ann.text("/recommend 2 1994").startswith("Your top 2 picks from 1994:")
    assert ann.text("/recommend 1880-1881").startswith("I have nothing left to recommend")
    # A year is not a count: "1994" never asks for 1994 movies.
    assert ann.text("/recommend 1994").startswith("Your top 10 picks from 1994:")


def test_fifty_recommendations_fit_telegram_messages(ann: Talk) -> None:
    outcome = ann.say("/recommend 50")
    assert all(len(r.text) <= MAX_TEXT for r in outcome.replies)
    assert sum(r.text.count(" · ") for r in outcome.replies) >= 50
    assert len(button_data(outcome)) == 40  # rate, save, seen and hide for the first ten


def test_hidden_movies_are_not_recommended_again(ann: Talk, service) -> None:
    first = service.recommend(ANN.user_id, 1)[0].movie
    outcome = ann.tap(callbacks.encode(Verb.HIDE, first.id))
    assert outcome.toast.startswith("Hidden")
    assert first.id not in [p.movie.id for p in service.recommend(ANN.user_id, 10)]


def test_rate_button_on_a_recommendation_asks_for_the_score(ann: Talk, catalog_db) -> None:
    outcome = ann.tap(callbacks.encode(Verb.ASK_SCORE, TOY_STORY))
    assert to_plain(outcome.replies[0].text).startswith("How would you rate Toy Story (1995)")
    assert ann.text("10") == "Toy Story (1995): 10/10 ✓"


@EVERY_LANGUAGE
def test_similar_finds_the_sequel(ann: Talk, language) -> None:
    text = ann.text("/similar toy story")
    lines = text.splitlines()
    assert lines[0] == tr(language, "Movies like {title}:", title="Toy Story (1995)")
    assert "Toy Story 2 (1999)" in "\n".join(lines[2:5])
    assert len(lines) == 12  # the header, what the match is, ten movies


def test_similar_for_an_ambiguous_title_asks_then_answers(ann: Talk) -> None:
    outcome = ann.say("/similar harold kumar")
    assert outcome.replies[0].text == "Which one do you mean?"
    tap = ann.tap(callbacks.encode(Verb.PICK_SIMILAR, 8807))
    assert to_plain(tap.edit.text).startswith(
        "Movies like Harold and Kumar Go to White Castle (2004):"
    )


def test_similar_for_an_obscure_movie_explains(ann: Talk, service: MovieService) -> None:
    counts = {m: service.rating_count(m) for m in (75395,)}  # Frozen (2010): 2 ratings
    text = (
        picks.similar_to(Context(service, ANN, PRIVATE), get_movie(service.db, 75395))
        .replies[0]
        .text
    )
    assert text.startswith("I don't know Frozen (2010) well enough")
    assert f"({counts[75395]} ratings)" in text


@EVERY_LANGUAGE
def test_onboarding_shows_varied_popular_movies_and_survives_a_restart(
    conversation: Conversation, service: MovieService, catalog_db, language
) -> None:
    ann = Talk(conversation, speaking(ANN, language), PRIVATE)
    outcome = ann.say("/start")
    assert to_plain(outcome.replies[0].text) == tr(
        language,
        "Hi {name}! I recommend movies from your ratings. Let's start with a few well-known "
        'ones: rate each from 1 (awful) to 10 (loved it), or tap "Haven\'t seen it". About '
        "{size} ratings are enough to begin.",
        name="Ann",
        size=ONBOARDING_SIZE,
    )
    first = outcome.replies[1]
    assert first.text.startswith("1/10: ")
    data = button_data(outcome)
    assert len(data) == 11 and data[-1].startswith("s:")
    first_movie = callbacks.parse(data[0]).target

    # A restart: a new conversation over the same database carries on with the same movie.
    restarted = Talk(Conversation(service, "moviebot_test_bot"), ann.sender, PRIVATE)
    again = restarted.say("/start")
    assert to_plain(again.replies[0].text) == tr(
        language, "Welcome back, {name}! Let's carry on where we left off.", name="Ann"
    )
    assert callbacks.parse(button_data(again)[0]).target == first_movie

    shown = [first_movie]
    tap = restarted.tap(callbacks.encode(Verb.SKIP, first_movie))
    for _ in range(ONBOARDING_SIZE):
        movie_id = callbacks.parse(button_data(tap)[0]).target
        shown.append(movie_id)
        tap = restarted.tap(callbacks.encode(Verb.RATE, movie_id, 7))
    thanks = (
        "Thanks! That's {count} rated. /recommend shows what I'd pick for you; /rate any movie "
        "to sharpen it."
    )
    assert to_plain(tap.replies[0].text) == trn(language, thanks, thanks, 10, count=10)
    assert len(set(shown)) == len(shown)
    assert ratings.count_user_ratings(catalog_db, ANN.user_id) == ONBOARDING_SIZE
    assert state.get_state(catalog_db, ANN.user_id) == {}
    assert set(shown) <= set(service.onboarding_movies())  # well-known movies only


class ScriptedOnboarding(MovieService):
    """A service whose onboarding cards come from a script, recording what it was asked."""

    def __init__(self, service: MovieService, cards: list[int]) -> None:
        super().__init__(service.db, service.model)
        self.cards, self.asked = cards, []

    def next_onboarding_movie(self, user_id: int, skipped) -> int | None:
        self.asked.append((user_id, tuple(skipped)))
        return self.cards.pop(0) if self.cards else None


def test_every_onboarding_card_is_the_service_s_choice(service: MovieService) -> None:
    scripted = ScriptedOnboarding(service, [TED, FROZEN, TOY_STORY])
    ann = Talk(Conversation(scripted), ANN, PRIVATE)
    first = ann.say("/start")
    assert callbacks.parse(button_data(first)[0]).target == TED
    after_skip = ann.tap(callbacks.encode(Verb.SKIP, TED))
    assert to_plain(after_skip.replies[0].text).startswith("1/10: Frozen (2013)")
    after_rating = ann.tap(callbacks.encode(Verb.RATE, FROZEN, 8))
    assert to_plain(after_rating.replies[0].text).startswith("2/10: Toy Story (1995)")
    done = ann.tap(callbacks.encode(Verb.RATE, TOY_STORY, 9))
    assert done.replies[0].text.startswith("Thanks! That's 2 rated.")
    assert scripted.asked == [(ANN.user_id, ())] + [(ANN.user_id, (TED,))] * 3


def test_an_onboarding_stored_by_the_old_code_carries_on(
    ann: Talk, service: MovieService, catalog_db
) -> None:
    """The old form kept the cards still to show ("queue"): a user in the middle of onboarding
    during the upgrade carries on with the card on screen and the one after it."""
    cards = service.onboarding_movies()
    for movie_id in cards[:3]:  # the first three cards, rated
        ann.tap(callbacks.encode(Verb.RATE, movie_id, 6))
    state.set_state(
        catalog_db,
        ANN.user_id,
        {"onboarding": {"queue": cards[3:], "rated": 3}, "awaiting_score": FROZEN},
    )
    again = ann.say("/start")
    assert to_plain(again.replies[0].text).startswith("Welcome back, Ann!")
    assert to_plain(again.replies[1].text).startswith(
        f"4/10: {get_movie(catalog_db, cards[3]).label}"
    )
    tap = ann.tap(callbacks.encode(Verb.RATE, cards[3], 7))
    following = service.next_onboarding_movie(ANN.user_id, [])
    assert following not in cards[:4]
    assert to_plain(tap.replies[0].text).startswith(
        f"5/10: {get_movie(catalog_db, following).label}"
    )
    assert ann.text("9") == "Frozen (2013): 9/10 ✓"  # the question asked before the upgrade
    assert state.get_state(catalog_db, ANN.user_id) == {
        "onboarding": {"current": following, "skipped": [], "rated": 4}
    }


@pytest.mark.parametrize(
    "stored",
    [
        {},
        {"awaiting_score": 5},
        {"onboarding": {"current": 1, "skipped": [2, 3], "rated": 4}},
        {"onboarding": {"current": 1, "skipped": [], "rated": 0}, "awaiting_score": 1},
    ],
)
def test_the_typed_state_reads_back_what_it_stores(stored) -> None:
    assert conversation_state.to_json(conversation_state.from_json(stored)) == stored


def test_the_old_stored_state_reads_as_the_card_on_screen() -> None:
    old = {"onboarding": {"queue": [7, 8, 9], "rated": 2}, "awaiting_score": 5}
    assert conversation_state.from_json(old) == conversation_state.ConversationState(
        conversation_state.Onboarding(current=7, skipped=(), rated=2),
        conversation_state.AwaitingScore(5),
    )


def test_a_double_tap_during_onboarding_does_not_skip_a_movie(ann: Talk) -> None:
    outcome = ann.say("/start")
    movie_id = callbacks.parse(button_data(outcome)[0]).target
    first = ann.tap(callbacks.encode(Verb.RATE, movie_id, 8))
    second = ann.tap(callbacks.encode(Verb.RATE, movie_id, 8))
    assert first.replies[0].text.startswith("2/10")
    assert second.replies == [] and second.edit.text.endswith("(unchanged)")


@EVERY_LANGUAGE
def test_my_ratings_pages(ann: Talk, language) -> None:
    for title in ["ted", "frozen", "toy story", "up", "heat", "alien", "jaws", "rocky", "big"]:
        ann.say(f"/rate {title} 6")
    ann.say("/rate matrix 9")
    ann.say("/rate fargo 7")
    page = ann.say("/myratings").replies[0]
    header = "Your ratings ({first}-{last} of {total}):"
    assert page.text.splitlines()[0] == tr(language, header, first=1, last=10, total=11)
    assert page.text.splitlines()[1] == "1. Fargo (1996): 7/10"
    older = ann.tap(callbacks.encode(Verb.PAGE, 2)).edit
    assert callbacks.encode(Verb.PAGE, 2) in button_data(ann.say("/myratings"))
    assert older.text.splitlines()[0] == tr(language, header, first=11, last=11, total=11)
    labels = [b.label for row in older.buttons for b in row]
    assert labels == [tr(language, "Remove {n}", n=11), tr(language, "◀ Newer")]


@EVERY_LANGUAGE
def test_forget_asks_first_then_deletes_everything(ann: Talk, catalog_db, language) -> None:
    ann.say("/rate Ted 8")
    outcome = ann.say("/forget")
    assert to_plain(outcome.replies[0].text) == trn(
        language,
        "This deletes your {count} rating and everything else I know about you. Are you sure?",
        "This deletes your {count} ratings and everything else I know about you. Are you sure?",
        1,
        count=1,
    )
    kept = to_plain(ann.tap(callbacks.encode(Verb.FORGET, 0)).edit.text)
    assert kept == tr(language, "Okay, I kept everything.")
    assert ratings.count_user_ratings(catalog_db, ANN.user_id) == 1
    done = to_plain(ann.tap(callbacks.encode(Verb.FORGET, 1)).edit.text)
    with i18n.speaking(language):
        until = i18n.long_date((datetime.now(UTC) + timedelta(days=BACKUP_DAYS + 1)).date())
    deleted = (
        "Done: I deleted your {count} rating and everything else about you, including the "
        "messages you sent me. The daily backups made before now still hold it: each is kept "
        "{days} days, so the last copy is gone by {until}. /start begins afresh."
    )
    plural = deleted.replace("{count} rating ", "{count} ratings ")
    assert done == trn(language, deleted, plural, 1, count=1, days=BACKUP_DAYS, until=until)
    assert ratings.count_user_ratings(catalog_db, ANN.user_id) == 0


@pytest.mark.parametrize(
    "data", ["", "zz", "r:1", "r:abc:1", "r:95441:11", "r: 7:1", "q:1", "x" * 80]
)
@EVERY_LANGUAGE
def test_unknown_or_stale_buttons_get_a_toast_and_change_nothing(
    ann: Talk, catalog_db, data, language
):
    before = snapshot(catalog_db)
    outcome = ann.tap(data)
    assert outcome.toast == tr(language, SORRY_OLD_BUTTON)
    assert snapshot(catalog_db) == before


def test_a_button_for_a_movie_not_in_the_catalog_changes_nothing(ann: Talk, catalog_db) -> None:
    before = snapshot(catalog_db)
    assert ann.tap("r:999999999:5").toast.startswith("That button has expired")
    assert snapshot(catalog_db) == before


@EVERY_LANGUAGE
def test_plain_text_that_looks_like_a_title_is_nudged(ann: Talk, catalog_db, language) -> None:
    outcome = ann.say("the matrix")
    asked = tr(language, "Want to rate {movie}?", movie="The Matrix (1999)")
    assert to_plain(outcome.replies[0].text).startswith(up_to(asked, "The Matrix (1999)"))
    outcome = ann.say("Ted 8")
    assert to_plain(outcome.replies[0].text) == tr(
        language,
        "Did you mean to rate {title} {score}/10? Tap to confirm:",
        title="Ted (2012)",
        score=8,
    )
    assert ratings.user_ratings(catalog_db, ANN.user_id) == {}
    assert ann.text("hello there bot") == tr(
        language, "I only understand commands. /help shows them; /rate Ted 8 rates."
    )


# ---------------------------------------------------------------- groups


@EVERY_LANGUAGE
def test_group_pool_join_leave_and_shared_picks(
    conversation: Conversation, catalog_db, language
) -> None:
    ann_ = speaking(ANN, language)
    bob_ = speaking(BOB, language)
    ann, bob = Talk(conversation, ann_, GROUP), Talk(conversation, bob_, GROUP)
    nobody = "Nobody has joined this chat's pool yet: /join first."
    assert ann.text("/grouprec") == tr(language, nobody)
    joined = (
        "{name} joined this chat's movie pool ({size} in it). /grouprec for shared picks; "
        "your own ratings stay private."
    )
    assert ann.text("/join") == trn(language, joined, joined, 1, name="Ann", size=1)
    already = "{name}, you're already in this chat's pool ({size} in it)."
    assert ann.text("/join") == trn(language, already, already, 1, name="Ann", size=1)
    assert bob.text("/join@moviebot_test_bot") == trn(
        language, joined, joined, 2, name="Bob", size=2
    )
    Talk(conversation, ann_, PRIVATE).say("/rate toy story 10")
    Talk(conversation, bob_, Chat(BOB.user_id)).say("/rate finding nemo 9")

    text = ann.text("/grouprec 5")
    header = "Picks for {count} (nobody has rated these)."
    assert text.startswith(trn(language, header, header, 2, count=2))
    assert "Toy Story (1995)" not in text and "Finding Nemo (2003)" not in text
    assert text.count("Ann ") == 5 and text.count("Bob ") == 5
    assert bob.text("/leave") == tr(language, "{name} left this chat's movie pool.", name="Bob")
    assert [uid for uid, _ in chats.pool_members(catalog_db, GROUP.chat_id)] == [ANN.user_id]


@EVERY_LANGUAGE
def test_group_keeps_ratings_private_and_ignores_chatter(
    conversation: Conversation, catalog_db, language
):
    ann = Talk(conversation, speaking(ANN, language), GROUP)
    before = snapshot(catalog_db)
    assert ann.text("/rate Ted 8") == tr(language, PRIVATE_ONLY, name="rate")
    assert ann.text("/myratings") == tr(language, PRIVATE_ONLY, name="myratings")
    assert ann.say("what shall we watch tonight?").replies == []
    assert ann.say("/rate@another_bot Ted 8").replies == []
    assert ann.say("/unknowncommand").replies == []
    assert ann.tap(callbacks.encode(Verb.RATE, TED, 8)).toast == tr(language, PERSONAL_BUTTON)
    assert snapshot(catalog_db) == before
    similar = ann.text("/similar frozen")
    assert similar.startswith(tr(language, "Movies like {title}:", title="Frozen (2013)"))


def test_an_old_which_one_button_tapped_after_forget_saves_nothing(ann: Talk, catalog_db) -> None:
    question = ann.say("/rate harold kumar 8").replies[0]
    assert question.text == "Which one do you mean?"
    pick = question.buttons[0][0].data  # "this one, 8/10", asked before the /forget
    ann.say("/forget")
    ann.tap(callbacks.encode(Verb.FORGET, 1))
    tapped = ann.tap(pick)
    assert tapped.toast == "Not saved"
    assert to_plain(tapped.edit.text).startswith("You deleted your data with /forget")
    assert ratings.count_user_ratings(catalog_db, ANN.user_id) == 0


def test_a_forged_forget_tap_in_a_group_deletes_nothing(conversation: Conversation, catalog_db):
    """/forget answers only in private chats, so its "Yes, delete everything" button can only
    reach a group forged: it must not delete without the confirmation."""
    Talk(conversation, ANN, PRIVATE).say("/rate Ted 8")
    outcome = Talk(conversation, ANN, GROUP).tap(callbacks.encode(Verb.FORGET, 1))
    assert outcome.toast == "Ratings are private: message me directly."
    assert outcome.edit is None and outcome.replies == []
    assert ratings.user_ratings(catalog_db, ANN.user_id) == {TED: 8}


def test_group_picks_avoid_what_a_member_would_hate(service: MovieService, catalog_db) -> None:
    from storage import users

    fan, hater = 1, 2
    for uid in (fan, hater):
        users.save_user(catalog_db, uid, f"user {uid}")
    index = TitleIndex.from_db(catalog_db)
    horror = ["saw", "hostel", "the exorcist", "halloween", "scream", "the ring", "the shining"]
    romance = ["notting hill", "pretty woman", "sleepless in seattle", "the notebook", "titanic"]
    for titles, fan_score, hater_score in ((horror, 10, 2), (romance, 3, 9)):
        for title in titles:
            movie_id = index.search(title)[0].movie_id
            ratings.set_rating(catalog_db, fan, movie_id, fan_score)
            ratings.set_rating(catalog_db, hater, movie_id, hater_score)
    picks = service.group_picks([fan, hater], 10)
    fans_own = [p.movie.id for p in service.recommend(fan, 10)]
    hater_on_fans_own = service.model.predict(service.profile(hater), fans_own)
    worst_in_group = min(min(p.member_scores) for p in picks)
    assert worst_in_group >= 5.5  # nobody is shown a likely 1-4
    assert worst_in_group > hater_on_fans_own.min()


# ---------------------------------------------------------------- pictures


@EVERY_LANGUAGE
def test_taste_and_map_need_ratings_then_ask_for_pictures(ann: Talk, language) -> None:
    assert ann.text("/taste") == tr(language, NO_RATINGS_FOR_PICTURE)
    assert ann.text("/map") == tr(language, NO_RATINGS_FOR_PICTURE)
    ann.say("/rate Ted 8")
    taste = ann.say("/taste").replies[0]
    caption = trn(
        language,
        "Your taste, from your {count} rating.",
        "Your taste, from your {count} ratings.",
        1,
        count=1,
    )
    assert (taste.text, taste.picture.kind, taste.picture.subject) == (
        caption,
        "taste",
        ANN.user_id,
    )
    assert taste.picture.language == language
    movie_map = ann.say("/map frozen").replies[0]
    assert (movie_map.picture.kind, movie_map.picture.focus) == ("map", FROZEN)
    assert ann.text("/map qwzx plmk") == not_found(language, "qwzx plmk")


def test_an_ambiguous_map_title_asks_then_draws(ann: Talk) -> None:
    ann.say("/rate Ted 8")
    question = ann.say("/map harold kumar")
    pick = next(d for d in button_data(question) if d.startswith("g:"))
    tap = ann.tap(pick)
    assert tap.replies[0].picture.focus == callbacks.parse(pick).target


def test_pictures_of_a_person_stay_out_of_groups(conversation: Conversation) -> None:
    ann = Talk(conversation, ANN, GROUP)
    assert ann.text("/taste").startswith("Your ratings stay private")
    assert ann.text("/map").startswith("Your ratings stay private")


def test_onboarding_cards_are_well_known_and_follow_what_was_rated(
    service: MovieService, catalog_db
) -> None:
    counts = ratings.rating_counts(catalog_db)
    pool = service.onboarding_movies()
    assert all(counts[m] >= 50 for m in pool)
    first = service.next_onboarding_movie(ANN.user_id, [])
    assert first == max(pool, key=lambda m: (counts[m], -m))  # nothing rated: the best known
    # Skipped cards are not asked again; rated ones steer the next card towards the taste.
    second = service.next_onboarding_movie(ANN.user_id, [first])
    assert second not in (first, None)
    toy_story = 1
    from storage import users

    users.save_user(catalog_db, ANN.user_id, "Ann")
    ratings.set_rating(catalog_db, ANN.user_id, toy_story, 9)
    after_toy_story = service.next_onboarding_movie(ANN.user_id, [first])
    assert after_toy_story != toy_story
    assert "Animation" in get_movie(catalog_db, after_toy_story).genres


def test_reasons_name_only_movies_the_user_liked(ann: Talk, conversation) -> None:
    import re

    lukewarm = ["star wars", "the matrix", "alien", "jaws", "titanic", "toy story"]
    for title in lukewarm:
        ann.say(f"/rate {title} 6")
    assert "because you rated" not in ann.text("/recommend 20")
    ann.say("/rate finding nemo 10")
    reasons = re.findall(r"because you rated (.+?) (\d+)$", ann.text("/recommend 20"), re.M)
    assert reasons and all(score == "10" for _, score in reasons), reasons


@EVERY_LANGUAGE
def test_about_credits_movielens_and_imdb(conversation: Conversation, language) -> None:
    ann = Talk(conversation, speaking(ANN, language), PRIVATE)
    text = ann.text("/about")
    assert "GroupLens" in text and "MovieLens" in text
    bundled = trn(
        language,
        "My catalog is the bundled MovieLens one: {films} film, up to {year}.",
        "My catalog is the bundled MovieLens one: {films} films, up to {year}.",
        9742,
        films=9742,
        year=2018,
    )
    assert bundled in text
    assert text.endswith(
        "Information courtesy of IMDb (https://www.imdb.com). Used with permission."
    )
    assert "/about" in ann.text("/help")
