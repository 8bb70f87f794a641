"""Inline mode: cards for "@bot <title>" and for an empty query, paged the way Telegram pages."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands.features.inline import MAX_MESSAGE_TEXT, MAX_PAGE_SIZE, PAGE_SIZE, inline_answers
from bot.service import MovieService
from bot.ui.html import to_plain
from storage import ratings, users
from tests.helpers import examples

ASKER = 3_000_000_001
TOY_STORY, MATRIX, SPIRITED_AWAY, SAW, FROZEN = 1, 2571, 5618, 8957, 106696


@pytest.fixture
def asker(service: MovieService) -> int:
    users.save_user(service.db, ASKER, "Asker")
    for movie_id, score in {TOY_STORY: 9, MATRIX: 8, SPIRITED_AWAY: 10, SAW: 2}.items():
        ratings.set_rating(service.db, ASKER, movie_id, score)
    return ASKER


def all_pages(service: MovieService, user_id: int, query: str) -> list:
    pages, offset = [], ""
    while True:
        page = inline_answers(service, user_id, query, offset)
        pages.append(page)
        if not page.next_offset:
            return pages
        assert int(page.next_offset) > int(offset or 0)
        offset = page.next_offset
        assert len(pages) < 20, "paging never stops"


def test_an_empty_query_offers_the_askers_recommendations(service, asker) -> None:
    page = inline_answers(service, asker, "", "")
    top = service.recommend(asker, PAGE_SIZE)
    assert [c.id for c in page.results] == [f"m{p.movie.id}" for p in top]
    assert "your predicted score" in page.results[0].description


def test_frozen_finds_frozen_2013_first(service, asker) -> None:
    card = inline_answers(service, asker, "frozen", "").results[0]
    assert card.id == f"m{FROZEN}" and card.title == "Frozen (2013)"
    assert card.description.startswith("2013 · Adventure, Animation, Comedy")
    assert to_plain(card.message_text).splitlines()[0] == "Frozen (2013)"
    assert '<a href="https://www.imdb.com/title/tt2294629/">Frozen (2013)</a>' in card.message_text
    assert [b.label for b in card.links] == ["IMDb ↗", "Letterboxd ↗", "Where to watch ↗"]


@pytest.mark.parametrize("query", ["", "the"])
def test_pages_are_disjoint_bounded_and_stop(service, asker, query) -> None:
    pages = all_pages(service, asker, query)
    ids = [c.id for page in pages for c in page.results]
    assert len(pages) > 1
    assert len(ids) == len(set(ids))
    assert all(len(page.results) <= MAX_PAGE_SIZE for page in pages)
    assert all(
        len(c.message_text) <= MAX_MESSAGE_TEXT for c in (c for p in pages for c in p.results)
    )


def test_scores_are_the_models_predictions_for_the_asker(service, asker) -> None:
    cards = inline_answers(service, asker, "toy story", "").results
    profile = service.profile(asker)
    for card in cards:
        # At "now", like the answer: the asker's ratings are seconds old (the session term).
        at = time.time()
        predicted = float(service.model.predict(profile, [card.movie_id], at=at)[0])
        assert card.predicted == pytest.approx(predicted, abs=0.01)
        if card.movie_id == TOY_STORY:
            assert card.your_rating == 9 and "you rated it 9/10" in card.description
        else:
            assert f"your predicted score {predicted:.1f}/10" in card.description


def test_a_user_without_ratings_sees_averages_not_predictions(service) -> None:
    card = inline_answers(service, 3_000_000_999, "frozen", "").results[0]
    assert "average" in card.description and "predicted" not in card.description


@pytest.mark.parametrize(
    ("query", "offset"),
    [
        ("x" * 300, ""),
        ("🎬🍿", ""),
        ("\x00\u202e", ""),
        ("frozen", "abc"),
        ("frozen", "-5"),
        ("frozen", "99999999"),
        ("   ", "٣"),
    ],
)
def test_bad_queries_and_offsets_give_an_empty_page(service, asker, query, offset) -> None:
    page = inline_answers(service, asker, query, offset)
    assert page.results == [] and page.next_offset == ""


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(query=st.text(max_size=80), offset=st.text(max_size=8))
def test_arbitrary_input_never_raises(service, query, offset) -> None:
    page = inline_answers(service, ASKER, query, offset)
    assert len(page.results) <= MAX_PAGE_SIZE


def test_a_rating_of_a_movie_the_model_does_not_know_yet_is_still_shown(tutorial_db) -> None:
    from recommender import Model, ModelConfig, Ratings

    # Fitted on the tutorial's ratings, the model has never seen Notorious (movie 5: nobody
    # rated it), as with a movie imported after the last fit.
    model = Model.fit(Ratings(*ratings.ratings_arrays(tutorial_db)), ModelConfig(rank=0))
    service = MovieService(tutorial_db, model)
    users.save_user(tutorial_db, ASKER, "Asker")
    ratings.set_rating(tutorial_db, ASKER, 5, 7)
    ratings.set_rating(tutorial_db, ASKER, 2, 9)
    cards = {c.movie_id: c for c in inline_answers(service, ASKER, "notorious", "").results}
    assert cards[5].your_rating == 7 and cards[5].predicted is None
    assert "you rated it 7/10" in cards[5].description
    ted = inline_answers(service, ASKER, "ted", "").results[0]
    assert ted.movie_id == 2 and ted.your_rating == 9 and "you rated it 9/10" in ted.description


def test_a_title_search_reads_the_askers_ratings_once(service, asker) -> None:
    inline_answers(service, asker, "toy story", "")  # the title index is built on first use
    statements: list[str] = []
    service.db.conn.set_trace_callback(statements.append)
    try:
        inline_answers(service, asker, "toy story", "")
    finally:
        service.db.conn.set_trace_callback(None)
    assert len([s for s in statements if "FROM ratings" in s]) == 1


def test_a_movie_without_genres_gets_a_card_without_a_genre_line(service, asker) -> None:
    card = inline_answers(service, asker, "hyena road", "").results[0]
    assert card.movie_id == 143410 and card.title == "Hyena Road"  # "(no genres listed)"
    assert card.description.startswith("your predicted score ")
    assert card.message_text == '<a href="https://www.imdb.com/title/tt4034452/">Hyena Road</a>'
