"""The pictures: real PNGs drawn from the real model on the bundled catalog."""

from __future__ import annotations

import numpy as np
import pytest

from bot.files import charts
from bot.files.charts import EmptyPool, NoRatings, group_data, map_data, taste_data
from bot.files.drawing import group_chart, movie_map, taste_chart
from bot.service import MovieService
from storage import chats, ratings, users
from tests.helpers import png_size

FAN = 2_000_000_001
NEWCOMER = 2_000_000_002
FRIEND = 2_000_000_003
GROUP_CHAT = -100_123
# movie ids in MovieLens latest-small
TOY_STORY, JUMANJI, MATRIX, SHAWSHANK, PULP_FICTION = 1, 2, 2571, 318, 296
SAW, SCREAM, EXORCIST, SPIRITED_AWAY, UP, FROZEN = 8957, 1407, 1997, 5618, 68954, 106696


def assert_phone_png(png: bytes) -> None:
    width, height = png_size(png)
    assert width == 1080
    assert 800 <= height <= 2200
    assert 20_000 < len(png) < 1_000_000


@pytest.fixture
def fan(service: MovieService) -> int:
    """A user who loves animation and hates horror."""
    users.save_user(service.db, FAN, "Fan Fanning")
    for movie_id, score in {
        TOY_STORY: 9,
        SPIRITED_AWAY: 10,
        UP: 10,
        MATRIX: 9,
        SHAWSHANK: 8,
        PULP_FICTION: 7,
        JUMANJI: 6,
        SAW: 1,
        SCREAM: 2,
        EXORCIST: 2,
    }.items():
        ratings.set_rating(service.db, FAN, movie_id, score)
    return FAN


def test_taste_data_has_the_users_ratings_genres_and_picks(service: MovieService, fan) -> None:
    data = taste_data(service, fan)
    assert data.n_ratings == 10
    assert sum(data.user_counts) == 10 and data.user_counts[9] == 2  # two 10s
    assert sum(data.community_counts) >= 100_000
    leans = {g.genre: g for g in data.genres}
    assert leans["Horror"].lean < 0 < leans["Animation"].lean
    assert leans["Horror"].n == 3
    assert [g.lean for g in data.genres] == sorted((g.lean for g in data.genres), reverse=True)
    assert len(data.picks) == charts.TOP_PICKS
    top = service.recommend(fan, charts.TOP_PICKS)
    assert [label for label, _ in data.picks] == [p.movie.label for p in top]


def test_genre_lean_is_the_mean_difference_from_the_movies_means(service: MovieService) -> None:
    model = service.model
    history = {TOY_STORY: 10, JUMANJI: 4}
    genres = {TOY_STORY: ("Animation", "Children"), JUMANJI: ("Children", "Fantasy")}
    leans = {g.genre: g for g in charts.genre_leans(history, model, genres)}
    toy, jumanji = 10 - model.movie_mean(TOY_STORY), 4 - model.movie_mean(JUMANJI)
    assert leans["Animation"].lean == pytest.approx(toy)
    assert leans["Children"].lean == pytest.approx((toy + jumanji) / 2)
    assert leans["Children"].n == 2 and leans["Fantasy"].n == 1


def test_taste_chart_is_a_readable_png(service: MovieService, fan) -> None:
    assert_phone_png(taste_chart(taste_data(service, fan)))


def test_a_user_without_ratings_gets_no_ratings_instead_of_an_empty_chart(service) -> None:
    users.save_user(service.db, NEWCOMER, "New")
    with pytest.raises(NoRatings):
        taste_data(service, NEWCOMER)
    with pytest.raises(NoRatings):
        map_data(service, NEWCOMER)


def test_map_places_rated_movies_picks_and_landmarks(service: MovieService, fan) -> None:
    data = map_data(service, fan)
    assert data.xy.shape[1] == 2 and data.xy.shape[0] > 500
    assert np.isfinite(data.xy).all()
    assert {p.movie_id for p in data.rated} >= {TOY_STORY, MATRIX, SHAWSHANK}
    assert {p.value for p in data.rated if p.movie_id == UP} == {10.0}
    assert [p.movie_id for p in data.picks] == [
        p.movie.id for p in service.recommend(fan, charts.MAP_PICKS)
    ]
    assert 3 <= len(data.landmarks) <= charts.MAP_LANDMARKS
    assert data.focus is None
    assert_phone_png(movie_map(data))


def test_map_coordinates_are_the_pca_of_the_unit_movie_factors(service: MovieService) -> None:
    """Cosines between mapped movies must survive the projection: the map's full-rank
    coordinates are the unit factors up to a rotation, so their dot products are cosines."""
    proj = charts._projection(service.model)
    a, b = int(proj.ids[0]), int(proj.ids[1])
    cos = dict(
        service.model.similar_by_factors(a, proj.ids.size, min_ratings=charts.MAP_MIN_RATINGS)
    )
    lifted = {
        m: np.array([cos_to(m, int(x), service) for x in proj.anchors]) @ proj.layout.lift
        for m in (a, b)
    }
    assert lifted[a] @ lifted[b] == pytest.approx(cos[b], abs=1e-6)
    assert lifted[a] @ lifted[a] == pytest.approx(1.0, abs=1e-6)


def cos_to(movie_id: int, anchor: int, service: MovieService) -> float:
    if movie_id == anchor:
        return 1.0
    pairs = service.model.similar_by_factors(movie_id, 10_000, min_ratings=charts.MAP_MIN_RATINGS)
    return dict(pairs)[anchor]


def test_map_with_a_focus_labels_and_centres_that_movie(service: MovieService, fan) -> None:
    data = map_data(service, fan, focus_movie_id=FROZEN)
    assert data.focus is not None and data.focus.label == "Frozen (2013)"
    assert_phone_png(movie_map(data))


def test_group_chart_shows_every_members_score_per_pick(service: MovieService, fan) -> None:
    users.save_user(service.db, FRIEND, "Friend")
    ratings.set_rating(service.db, FRIEND, SAW, 9)
    with pytest.raises(EmptyPool):
        group_data(service, GROUP_CHAT)
    chats.join_pool(service.db, GROUP_CHAT, fan)
    chats.join_pool(service.db, GROUP_CHAT, FRIEND)
    data = group_data(service, GROUP_CHAT, n=4)
    assert data.members == ("Fan", "Friend")
    assert len(data.picks) == 4 and all(len(scores) == 2 for _, _, scores in data.picks)
    width, height = png_size(group_chart(data))
    assert width == 1080 and height > 600
