"""Users, ratings, pools, state and fits: real behaviour and bad input that writes nothing."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from sqlite_utils import Database

from storage import chats, fits, lists, ratings, state, users
from storage.errors import InvalidArgument, InvalidRating, UnknownMovie, UnknownUser
from storage.lists import MovieList
from storage.movies import get_movie, get_movies, movie_ids_where


def _snapshot(db: Database) -> dict[str, list]:
    tables = ["users", "ratings", "chat_members", "user_state", "hidden_movies", "model_fits"]
    return {t: db.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables}


def test_rerating_replaces_the_score_and_reports_the_old_one(tutorial_db: Database) -> None:
    users.save_user(tutorial_db, 1001, "Ann", "en")
    first = ratings.set_rating(tutorial_db, 1001, 2, 8)
    second = ratings.set_rating(tutorial_db, 1001, 2, 5)
    assert (first.previous, first.rating) == (None, 8)
    assert (second.previous, second.rating) == (8, 5)
    assert ratings.user_ratings(tutorial_db, 1001) == {2: 5}
    assert ratings.count_user_ratings(tutorial_db, 1001) == 1


def test_rating_times_are_when_the_current_score_was_given(tutorial_db: Database) -> None:
    users.save_user(tutorial_db, 1002, "Di")
    before = time.time()
    ratings.set_rating(tutorial_db, 1002, 2, 8)
    ratings.set_rating(tutorial_db, 1002, 3, 4)
    scores, first = ratings.user_ratings_and_times(tutorial_db, 1002)
    ratings.set_rating(tutorial_db, 1002, 2, 6)  # re-rating moves the time on
    _, second = ratings.user_ratings_and_times(tutorial_db, 1002)
    assert scores == {2: 8, 3: 4} and set(first) == {2, 3}
    assert before - 0.01 <= first[2] <= first[3] <= second[2] <= time.time() + 0.01
    assert second[3] == first[3]
    assert ratings.user_ratings_and_times(tutorial_db, 77) == ({}, {})


def test_imported_ratings_keep_their_movielens_time(catalog_db: Database) -> None:
    user = catalog_db.execute("SELECT min(user_id) FROM ratings").fetchone()[0]
    scores, times = ratings.user_ratings_and_times(catalog_db, user)
    assert scores == ratings.user_ratings(catalog_db, user)
    stamps = dict(
        catalog_db.execute("SELECT movie_id, updated_at FROM ratings WHERE user_id = ?", [user])
    )
    assert set(times) == set(stamps)
    for movie_id, text in stamps.items():
        assert times[movie_id] == pytest.approx(datetime.fromisoformat(text).timestamp(), abs=0.01)


def test_a_rating_is_on_disk_when_set_rating_returns(tutorial_db: Database, tmp_path) -> None:
    users.save_user(tutorial_db, 7, "Bo")
    ratings.set_rating(tutorial_db, 7, 3, 9)
    other = Database(tmp_path / "tutorial.db")  # a second, independent connection
    assert other.execute("SELECT rating FROM ratings WHERE user_id = 7").fetchall() == [(9,)]


def test_ratings_page_is_newest_first_with_movies(tutorial_db: Database) -> None:
    users.save_user(tutorial_db, 5, "Cy")
    for movie, score in [(1, 7), (5, 8), (8, 3)]:
        ratings.set_rating(tutorial_db, 5, movie, score)
    page = lists.page(tutorial_db, 5, MovieList.RATINGS, offset=0, limit=2)
    assert len(page) == 2
    assert {movie.id for movie, _ in page} <= {1, 5, 8}
    assert lists.page(tutorial_db, 5, MovieList.RATINGS, offset=2, limit=2)[0][0].id in {1, 5, 8}


@pytest.mark.parametrize("bad", [0, 11, -3, 7.5, "8", None, True, float("nan")])
def test_bad_scores_raise_invalid_rating_and_store_nothing(tutorial_db: Database, bad) -> None:
    users.save_user(tutorial_db, 9, "Di")
    before = _snapshot(tutorial_db)
    with pytest.raises(InvalidRating):
        ratings.set_rating(tutorial_db, 9, 1, bad)
    assert _snapshot(tutorial_db) == before


def test_rating_an_unknown_movie_or_by_an_unknown_user_stores_nothing(
    tutorial_db: Database,
) -> None:
    users.save_user(tutorial_db, 9, "Di")
    before = _snapshot(tutorial_db)
    with pytest.raises(UnknownMovie):
        ratings.set_rating(tutorial_db, 9, 999_999, 5)
    with pytest.raises(UnknownUser):
        ratings.set_rating(tutorial_db, 424242, 1, 5)
    assert _snapshot(tutorial_db) == before


@pytest.mark.parametrize("bad_id", ["1", 1.0, None, True, 2**70, -(2**70)])
def test_every_function_refuses_bad_ids_without_writing(tutorial_db: Database, bad_id) -> None:
    users.save_user(tutorial_db, 9, "Di")
    before = _snapshot(tutorial_db)
    calls = [
        lambda: users.save_user(tutorial_db, bad_id),
        lambda: users.get_user(tutorial_db, bad_id),
        lambda: users.forget_user(tutorial_db, bad_id),
        lambda: ratings.set_rating(tutorial_db, bad_id, 1, 5),
        lambda: ratings.set_rating(tutorial_db, 9, bad_id, 5),
        lambda: ratings.delete_rating(tutorial_db, bad_id, 1),
        lambda: ratings.get_rating(tutorial_db, 9, bad_id),
        lambda: ratings.user_ratings(tutorial_db, bad_id),
        lambda: lists.page(tutorial_db, bad_id, MovieList.RATINGS),
        lambda: chats.join_pool(tutorial_db, bad_id, 9),
        lambda: chats.join_pool(tutorial_db, -100, bad_id),
        lambda: chats.leave_pool(tutorial_db, bad_id, 9),
        lambda: chats.pool_members(tutorial_db, bad_id),
        lambda: state.get_state(tutorial_db, bad_id),
        lambda: state.set_state(tutorial_db, bad_id, {"a": 1}),
        lambda: state.hide_movie(tutorial_db, 9, bad_id),
        lambda: get_movie(tutorial_db, bad_id),
        lambda: get_movies(tutorial_db, [bad_id]),
        lambda: fits.start_fit(tutorial_db, bad_id),
    ]
    for call in calls:
        with pytest.raises(InvalidArgument):
            call()
    assert _snapshot(tutorial_db) == before


def test_names_are_trimmed_and_odd_unicode_is_stored_safely(db: Database) -> None:
    users.save_user(db, 1, "\ud800 Ann \x00" + "x" * 1000, "en")
    user = users.get_user(db, 1)
    assert len(user.display_name) == 256
    assert "\x00" not in user.display_name
    with pytest.raises(InvalidArgument):
        users.save_user(db, 2, display_name=12345)
    with pytest.raises(UnknownUser):
        users.get_user(db, 2)


def test_forget_user_deletes_ratings_pools_state_and_hidden(tutorial_db: Database) -> None:
    users.save_user(tutorial_db, 77, "Ed")
    ratings.set_rating(tutorial_db, 77, 1, 6)
    chats.join_pool(tutorial_db, -500, 77)
    state.set_state(tutorial_db, 77, {"onboarding": [1, 2]})
    state.hide_movie(tutorial_db, 77, 4)
    assert users.forget_user(tutorial_db, 77) == 1
    assert ratings.user_ratings(tutorial_db, 77) == {}
    assert chats.pool_members(tutorial_db, -500) == []
    assert state.get_state(tutorial_db, 77) == {}
    assert state.hidden_movies(tutorial_db, 77) == set()
    with pytest.raises(UnknownUser):
        users.get_user(tutorial_db, 77)
    # The community's ratings are untouched.
    assert ratings.count_ratings(tutorial_db) == 29


def test_pool_join_and_leave_report_whether_anything_changed(tutorial_db: Database) -> None:
    users.save_user(tutorial_db, 1, "Ann")
    users.save_user(tutorial_db, 2, "Bob")
    assert chats.join_pool(tutorial_db, -100, 1) is True
    assert chats.join_pool(tutorial_db, -100, 1) is False
    assert chats.join_pool(tutorial_db, -100, 2) is True
    assert [uid for uid, _ in chats.pool_members(tutorial_db, -100)] == [1, 2]
    assert chats.leave_pool(tutorial_db, -100, 1) is True
    assert chats.leave_pool(tutorial_db, -100, 1) is False
    assert chats.pool_members(tutorial_db, -100) == [(2, "Bob")]
    with pytest.raises(UnknownUser):
        chats.join_pool(tutorial_db, -100, 3)


def test_state_roundtrips_and_empty_state_clears(tutorial_db: Database) -> None:
    users.save_user(tutorial_db, 1, "Ann")
    state.set_state(tutorial_db, 1, {"awaiting": "score", "movie": 2})
    assert state.get_state(tutorial_db, 1) == {"awaiting": "score", "movie": 2}
    state.set_state(tutorial_db, 1, {})
    assert state.get_state(tutorial_db, 1) == {}
    with pytest.raises(InvalidArgument):
        state.set_state(tutorial_db, 1, {"x": "y" * 70_000})


def test_rating_a_hidden_movie_unhides_it(tutorial_db: Database) -> None:
    users.save_user(tutorial_db, 1, "Ann")
    state.hide_movie(tutorial_db, 1, 3)
    assert state.hidden_movies(tutorial_db, 1) == {3}
    ratings.set_rating(tutorial_db, 1, 3, 7)
    assert state.hidden_movies(tutorial_db, 1) == set()


def test_fits_are_recorded_with_scores_and_failures(db: Database) -> None:
    ok = fits.start_fit(db, 100)
    fits.finish_fit(db, ok, n_users=5, n_movies=10, scores={"rmse": 0.9}, model_path="m.npz")
    failed = fits.start_fit(db, 120)
    fits.fail_fit(db, failed, "boom")
    last = fits.last_successful_fit(db)
    assert (last.id, last.status, last.scores, last.n_ratings) == (ok, "ok", {"rmse": 0.9}, 100)
    assert [f.status for f in fits.recent_fits(db)] == ["failed", "ok"]
    assert fits.recent_fits(db)[0].error == "boom"


def test_ratings_arrays_hold_every_rating(tutorial_db: Database) -> None:
    user_ids, movie_ids, scores = ratings.ratings_arrays(tutorial_db)
    assert len(user_ids) == len(movie_ids) == len(scores) == 29
    assert set(movie_ids.tolist()) == {1, 2, 3, 4, 6, 7, 8, 9, 10}
    assert scores.min() == 2 and scores.max() == 10
    assert (user_ids < 0).all()


def test_score_counts_count_each_score_once_per_user_and_movie(tutorial_db: Database) -> None:
    # The tutorial's 29 ratings (devtools/tutorial.py): one 2, eight 4s, six 6s, seven 8s and
    # seven 10s.
    assert ratings.score_counts(tutorial_db) == (0, 1, 0, 8, 0, 6, 0, 7, 0, 7)
    users.save_user(tutorial_db, 42, "Ann")
    ratings.set_rating(tutorial_db, 42, 5, 3)
    ratings.set_rating(tutorial_db, 42, 1, 3)
    ratings.set_rating(tutorial_db, 42, 1, 10)  # re-rating moves the rating to its new score
    assert ratings.score_counts(tutorial_db) == (0, 1, 1, 8, 0, 6, 0, 7, 0, 8)


def test_score_counts_of_an_empty_database_are_zero(db: Database) -> None:
    assert ratings.score_counts(db) == (0,) * 10


def test_genre_and_year_filters(tutorial_db: Database) -> None:
    assert sorted(movie_ids_where(tutorial_db, genre="animation")) == [7, 8, 10]
    assert sorted(movie_ids_where(tutorial_db, year_from=2012, year_to=2013)) == [2, 7]
    assert movie_ids_where(tutorial_db, genre="Western") == []
