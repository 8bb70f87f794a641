"""Replies that add up (issue 25): the figure beside a pick agrees with the order or says what
it is (/recommend, /grouprec, /similar, five personas), "Seen" is listed and can be undone, an
exact multi-word title is taken, /forget words 0 ratings, the README's /similar is the bot's."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

from bot.commands.conversation import Chat, Conversation, Sender
from bot.console import ConsoleChat
from bot.service import MovieService
from bot.ui import callbacks, i18n
from bot.ui.callbacks import Verb
from bot.ui.html import to_plain
from devtools import personas
from devtools.paths import REPO
from recommender.novelty import NOVELTY_LEVELS
from recommender.pick_match import matches, ranking_scores
from storage import ratings, watchlist
from storage.search import Kind
from tests.helpers import ANN, BOB, GROUP, PRIVATE, Talk, button_data

EVERY_LANGUAGE = pytest.mark.parametrize("language", list(i18n.LANGUAGES))
TOY_STORY, FINDING_NEMO, BABADOOK = 1, 6377, 112515
ANNS_FILMS = ["Toy Story 1995", "Finding Nemo 2003", "Up 2009", "Shrek 2001", "Amelie 2001"]


@pytest.fixture
def conversation(service: MovieService) -> Conversation:
    return Conversation(service, bot_username="moviebot_test_bot")


def _rated(talk: Talk, films: list[str]) -> Talk:
    for k, title in enumerate(films):
        assert "✓" in talk.text(f"/rate {title} {10 - k % 3}"), title
    return talk


def _as(language: str, sender: Sender) -> Sender:
    return Sender(sender.user_id, sender.display_name, language)


# --- /recommend: a match that falls with the order, the rating labelled -------------------------


def test_recommend_shows_a_match_that_falls_with_the_order_and_labels_the_rating(
    conversation: Conversation,
) -> None:
    ann = _rated(Talk(conversation, ANN, PRIVATE), ANNS_FILMS)
    reply = personas.Reply("ann", "/recommend 10", ann.text("/recommend 10"))
    assert personas.contradictions(reply) == []
    assert "In order of what you're most likely to watch and enjoy." in reply.text
    shares = [int(s) for s in re.findall(r"· (\d+)% match ·", reply.text)]
    assert len(shares) == 10 and shares[0] == 100
    assert len(re.findall(r"· you'd rate it \d+\.\d/10 ·", reply.text)) == 10


def test_the_match_is_the_ranking_score_the_order_was_made_by(service: MovieService) -> None:
    """Reading the ranking score back for the picks gives the order Model.recommend made, for
    a rated user, one with movies seen without a score, a cold one and every novelty level."""
    model = service.model
    liked = {TOY_STORY: 10.0, FINDING_NEMO: 9.0, 2571: 4.0, 318: 8.0}
    profiles = [
        model.fold_in(liked),
        model.seen(model.fold_in(liked), [260, 1196]),
        model.fold_in({}),
    ]
    for profile in profiles:
        for novelty in NOVELTY_LEVELS.values():
            top = [m for m, _ in model.recommend(profile, 20, novelty=novelty)]
            scores = ranking_scores(model, profile, top, novelty)
            assert np.all(np.diff(scores) <= 0), (novelty, scores)
            shares = matches(scores)
            assert shares[0] == 1.0 and np.all(np.diff(shares) <= 0)


def test_a_pick_moved_down_for_its_series_says_so(service: MovieService, monkeypatch) -> None:
    """The franchise spread is the one thing that puts a better match lower: that line says
    why (the test makes every pick one series, so the spread must move some)."""
    conversation = Conversation(service, bot_username="moviebot_test_bot")
    ann = _rated(Talk(conversation, ANN, PRIVATE), ANNS_FILMS)
    first = [p.movie.id for p in service.recommend(ANN.user_id, 6)]
    # Picks 2 and 3 of one series: the spread keeps them three places apart.
    monkeypatch.setattr(
        MovieService, "franchises", {first[1]: "series", first[2]: "series"}, raising=False
    )
    text = ann.text("/recommend 6")
    assert "(placed lower: same series as a pick above)" in text
    assert personas.contradictions(personas.Reply("ann", "/recommend 6", text)) == []


# --- /grouprec: says how it ranks, the figure labelled -----------------------------------------


def test_grouprec_says_how_it_ranks_and_labels_the_average(conversation: Conversation) -> None:
    _rated(Talk(conversation, ANN, PRIVATE), ANNS_FILMS)
    _rated(Talk(conversation, BOB, Chat(BOB.user_id)), ["The Shining 1980", "Alien 1979"])
    for sender in (ANN, BOB):
        Talk(conversation, sender, GROUP).say("/join")
    text = Talk(conversation, ANN, GROUP).text("/grouprec 8")
    assert "Ranked by the average predicted score" not in text
    assert "In order of what you would all most likely choose to watch and enjoy" in text
    assert len(re.findall(r"^\d+\. .+ · average \d+\.\d/10$", text, flags=re.M)) == 8
    assert personas.contradictions(personas.Reply("ann+bob", "/grouprec", text)) == []


# --- /similar: the match in order, whose fans named ---------------------------------------------


def test_similar_shows_the_match_in_order_and_names_whose_fans(
    conversation: Conversation,
) -> None:
    text = Talk(conversation, ANN, PRIVATE).text("/similar toy story 1995")
    assert "of its fans" not in text
    assert "Match: how strongly people who watched Toy Story go on to watch and like it" in text
    shares = [int(s) for s in re.findall(r"· (\d+)% match ·", text)]
    assert len(shares) == 10 and shares == sorted(shares, reverse=True)
    assert len(re.findall(r"· liked by \d+% of Toy Story fans$", text, flags=re.M)) == 10
    assert personas.contradictions(personas.Reply("ann", "/similar", text)) == []


# --- five personas ----------------------------------------------------------------------------


def test_five_personas_meet_no_figure_that_contradicts_the_order(service: MovieService) -> None:
    replies = personas.talk(Conversation(service, bot_username="moviebot_test_bot"))
    assert len(replies) == 2 * len(personas.PERSONAS) + 2
    for reply in replies:
        assert re.search(r"^1\. ", reply.text, flags=re.M), reply  # a list, not a refusal
    assert [problem for reply in replies for problem in personas.contradictions(reply)] == []


def test_the_persona_check_finds_figures_that_contradict_the_order() -> None:
    """The replies issue 25 quoted, and a match out of order: each is caught."""
    before = "Your top 3 picks:\n\n1. Up · 9.1/10 · Comedy\n2. Inception · 7.6/10 · Action"
    similar = "Movies like Toy Story:\n1. Toy Story 2 · liked by 35% of its fans"
    group = (
        "Picks for 2. Ranked by the average predicted score:\n\n1. Fargo · group 8.7\n"
        "   Ann 8.6 · Bob 8.8\n\n2. Heat · group 8.2\n\n3. Up · group 8.3"
    )
    order = "1. Up · 90% match · you'd rate it 9.0/10 · Comedy\n2. Heat · 95% match · Crime"
    assert len(personas.contradictions(personas.Reply("x", "/recommend", before))) == 2
    assert len(personas.contradictions(personas.Reply("x", "/similar", similar))) == 1
    assert len(personas.contradictions(personas.Reply("x", "/grouprec", group))) == 3
    assert len(personas.contradictions(personas.Reply("x", "/recommend", order))) == 1


# --- Seen, listed and undone ----------------------------------------------------------------


@EVERY_LANGUAGE
def test_seen_movies_are_listed_and_unseen_lets_them_back(
    conversation: Conversation, catalog_db, language
) -> None:
    ann = Talk(conversation, _as(language, ANN), PRIVATE)
    with i18n.speaking(language):
        empty = i18n._('You haven\'t marked any movie as seen. "Seen" under /recommend does.')
    assert ann.text("/seen") == empty
    _rated(ann, ANNS_FILMS)
    picks = ann.say("/recommend 3")
    seen = [d for d in button_data(picks) if d.startswith(f"{Verb.SEEN.value}:")][:2]
    for data in seen:
        ann.tap(data)
    ids = [callbacks.parse(d).target for d in seen]
    page = ann.say("/seen").replies[0]
    assert len(page.text.splitlines()) == 3  # the header and the two movies
    unseen = [d for d in button_data(ann.say("/seen")) if d.startswith(f"{Verb.UNSEEN.value}:")]
    assert sorted(callbacks.parse(d).target for d in unseen) == sorted(ids)
    outcome = ann.tap(callbacks.encode(Verb.UNSEEN, ids[0], 1))
    assert watchlist.seen_ids(catalog_db, ANN.user_id) == {ids[1]}
    assert ids[0] not in watchlist.not_to_recommend(catalog_db, ANN.user_id)
    assert len(outcome.edit.text.splitlines()) == 2 and outcome.toast
    assert ann.tap(callbacks.encode(Verb.SEEN_PAGE, 1)).edit.text == outcome.edit.text


def test_seen_is_in_the_private_menu_and_help(conversation: Conversation) -> None:
    assert '/seen - the movies you marked "Seen"' in Talk(conversation, ANN, PRIVATE).text("/help")


# --- the exact typed title ----------------------------------------------------------------------


def test_an_exact_multi_word_title_with_few_ratings_is_taken(service: MovieService) -> None:
    """ "The Babadook" (3 ratings) was asked about because the article is dropped before the
    words are counted, making it a one-word text (the guard against words like "whatever")."""
    for typed in ("The Babadook", "the babadook"):
        found = service.resolve(typed)
        assert found.kind is Kind.EXACT and found.movie.movie_id == BABADOOK, typed
    assert service.resolve("babadook").kind is Kind.ASK  # one word: still asked


# --- /forget with no ratings --------------------------------------------------------------------


@EVERY_LANGUAGE
def test_forget_with_no_ratings_does_not_count_zero(
    conversation: Conversation, catalog_db, language
) -> None:
    ann = Talk(conversation, _as(language, ANN), PRIVATE)
    ann.say("/hidden")  # a known user with no rating
    asked = to_plain(ann.say("/forget").replies[0].text)
    done = to_plain(ann.tap(callbacks.encode(Verb.FORGET, 1)).edit.text)
    for text in (asked, done):
        assert not re.search(r"\b0\b", text), text
    with i18n.speaking(language):
        assert asked == i18n._(
            "You haven't rated anything, but this deletes everything else I know about you "
            "(your lists, settings and the messages you sent me). Are you sure?"
        )
    assert ratings.count_user_ratings(catalog_db, ANN.user_id) == 0


# --- the README -------------------------------------------------------------------------------


def test_the_readme_similar_example_is_what_the_bot_prints(service: MovieService) -> None:
    readme = (REPO / "README.md").read_text()
    block = readme[readme.index("you> /similar toy story\n") :].splitlines()[1:]
    shown = block[: block.index("     ...")]
    out = io.StringIO()
    console = ConsoleChat(Conversation(service, bot_username="moviebot_test_bot"), ANN, out)
    console.handle("/similar toy story")
    printed = out.getvalue().splitlines()
    assert printed[: len(shown)] == shown
