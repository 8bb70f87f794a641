"""Films nobody rated yet (recommender/content.py): tiny data with a known answer, the model
file, and the path from the database's columns to /recommend with a year filter."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sqlite_utils import Database

from bot.service import MovieService
from moviebot.training import train
from recommender import Model, ModelFileError, Ratings, RecommenderError
from recommender.content import MovieContent, ridge_map
from recommender.evaluate_new_movies import format_new_movies, new_movie_figures
from recommender.movielens_files import CatalogMovie
from storage.db import connect
from storage.movies import content_rows
from tests.helpers import (
    COMEDIES,
    HORRORS,
    NEW_COMEDY,
    NEW_HORROR,
    SMALL,
    two_tastes,
    two_tastes_content,
)


@pytest.fixture(scope="module")
def tastes() -> tuple[Ratings, Model, Model]:
    ratings = two_tastes()
    plain = Model.fit(ratings, SMALL, movie_ids=np.array([NEW_COMEDY, NEW_HORROR]))
    mapped = Model.fit(ratings, SMALL, content=two_tastes_content())
    return ratings, plain, mapped


def history(ratings: Ratings, user: int) -> dict[int, float]:
    sel = ratings.user_ids == user
    return dict(zip(ratings.movie_ids[sel].tolist(), ratings.values[sel].tolist(), strict=True))


def test_a_new_film_reaches_the_top_of_the_users_whose_taste_its_genre_fits(tastes) -> None:
    ratings, plain, mapped = tastes
    for user, fits, other in ((0, NEW_COMEDY, NEW_HORROR), (1, NEW_HORROR, NEW_COMEDY)):
        profile = mapped.fold_in(history(ratings, user))
        # 10 unrated films of their genre, then the new one: it is among the first 11 ...
        top = [m for m, _ in mapped.recommend(profile, 11)]
        assert fits in top and other not in top
        # ... and without content it scores nothing and reaches no list.
        plain_top = [m for m, _ in plain.recommend(plain.fold_in(history(ratings, user)), 11)]
        assert fits not in plain_top


def test_a_filter_only_new_films_pass_ranks_them_by_the_users_taste(tastes) -> None:
    # What /recommend 5 2025 asks the model: candidates = the 2025 films.
    ratings, plain, mapped = tastes
    candidates = np.array([NEW_COMEDY, NEW_HORROR])
    for user, first in ((0, NEW_COMEDY), (1, NEW_HORROR)):
        picks = mapped.recommend(mapped.fold_in(history(ratings, user)), 5, candidates=candidates)
        assert [m for m, _ in picks][0] == first and len(picks) == 2
    # Without content both score 0: the order is the ids', whoever asks.
    picks = plain.recommend(plain.fold_in(history(ratings, 1)), 5, candidates=candidates)
    assert [m for m, _ in picks] == [NEW_COMEDY, NEW_HORROR]


def test_a_new_pick_is_explained_by_a_rated_film_of_its_genre(tastes) -> None:
    ratings, plain, mapped = tastes
    profile = mapped.fold_in(history(ratings, 0))
    (because,) = mapped.explain_picks(profile, [NEW_COMEDY])
    assert because and because[0][0] in COMEDIES and because[0][1] > 0
    assert plain.explain_picks(plain.fold_in(history(ratings, 0)), [NEW_COMEDY]) == [[]]


def test_a_new_films_predicted_rating_comes_from_its_content(tastes) -> None:
    ratings, _, mapped = tastes
    for user, sign in ((0, 1), (1, -1)):
        fan = mapped.fold_in(history(ratings, user))
        comedy, horror = mapped.predict(fan, [NEW_COMEDY, NEW_HORROR])
        assert sign * (comedy - horror) > 0.3
    assert mapped.movie_rating_count(NEW_COMEDY) == 0


def test_films_with_ratings_keep_what_they_learned(tastes) -> None:
    ratings, plain, mapped = tastes
    rated = np.unique(ratings.movie_ids)
    for user in (0, 1, 7):
        hist = history(ratings, user)
        np.testing.assert_allclose(
            mapped.predict(mapped.fold_in(hist), rated),
            plain.predict(plain.fold_in(hist), rated),
            rtol=0,
            atol=1e-9,
        )


def test_without_content_or_without_unrated_films_the_fit_is_unchanged() -> None:
    ratings = two_tastes(seed=3)
    plain = Model.fit(ratings, SMALL)
    content = MovieContent.build(COMEDIES + HORRORS, [("Comedy",)] * 80, [2000] * 80)
    same = Model.fit(ratings, SMALL, content=content)
    hist = history(ratings, 4)
    assert plain.recommend(plain.fold_in(hist), 20) == same.recommend(same.fold_in(hist), 20)


def test_the_mapped_films_survive_save_and_load(tastes, tmp_path: Path) -> None:
    ratings, _, mapped = tastes
    path = tmp_path / "m.npz"
    mapped.save(path)
    loaded = Model.load(path)
    hist = history(ratings, 1)
    assert loaded.recommend(loaded.fold_in(hist), 15) == mapped.recommend(mapped.fold_in(hist), 15)
    with np.load(path) as z:
        data = {k: z[k] for k in z.files}
    data["new_ranked"] = data["new_ranked"][:-1]  # one ranking-stage row short
    np.savez(path, **data)
    with pytest.raises(ModelFileError, match="ranking map"):
        Model.load(path)


def test_content_must_have_one_entry_per_film() -> None:
    with pytest.raises(RecommenderError, match="genres"):
        MovieContent.build([1, 2], [("Comedy",)], [2000, 2001])
    with pytest.raises(RecommenderError, match="twice"):
        MovieContent.build([1, 1], [(), ()], [2000, 2001])
    with pytest.raises(RecommenderError, match="votes"):
        MovieContent.build([1], [()], [2000], prior_votes=[-3])


def test_ridge_map_reconstructs_a_linear_target_at_zero_penalty() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 4))
    w_true = rng.normal(size=(4, 3))
    y = 2.0 + x @ w_true
    w, offset = ridge_map(sp.csr_matrix(x), y, 0.0)
    np.testing.assert_allclose(w, w_true, atol=1e-9)
    np.testing.assert_allclose(offset, [2.0] * 3, atol=1e-9)


# ------------------------------------------------------------------ from the database


def test_content_rows_read_the_catalog_facts(tutorial_db: Database) -> None:
    tutorial_db.execute(
        "UPDATE movies SET imdb_rating = 7.9, imdb_votes = 1200, runtime = 101, "
        "directors = 'nm1|nm2' WHERE id = 1"
    )
    rows = {r.id: r for r in content_rows(tutorial_db)}
    assert len(rows) == 10
    first = rows[1]
    assert (first.imdb_rating, first.imdb_votes, first.runtime) == (7.9, 1200, 101)
    assert first.directors == ("nm1", "nm2") and first.n_ratings > 0 and first.genres
    assert rows[2].imdb_rating is None and rows[2].directors == ()


def test_recommend_with_a_year_only_new_films_have_returns_them(
    catalog_db_path: Path, tmp_path: Path
) -> None:
    # /recommend 5 2025 after a catalog update brought 2025 films nobody here has rated.
    db = connect(catalog_db_path)
    try:
        for movie_id, title, genres, votes in (
            (1_000_000_001, "A Space Film", "Sci-Fi|Adventure", 800_000),
            (1_000_000_002, "A Quiet Drama", "Drama", 3_000),
        ):
            db.execute(
                "INSERT INTO movies (id, title, year, genres, aliases, source_title, "
                "imdb_rating, imdb_votes, added_at) VALUES (?, ?, 2025, ?, '', ?, 7.8, ?, "
                "'2026-12-01')",
                [movie_id, title, genres, title, votes],
            )
        model = train(catalog_db_path, tmp_path / "m.npz").model
        service = MovieService(db, model)
        user = int(db.execute("SELECT min(user_id) FROM ratings").fetchone()[0])
        picks = service.recommend(user, 5, years=(2025, 2025))
        assert {p.movie.id for p in picks} == {1_000_000_001, 1_000_000_002}
        # No bundled film has IMDb figures to calibrate against: the prior rating is read on
        # our scale, damped by the votes (without content: the global mean, about 7).
        assert model.movie_mean(1_000_000_001) == pytest.approx(7.8, abs=0.05)
    finally:
        db.close()


# ------------------------------------------------------------------ the simulation


def test_the_new_film_simulation_reports_every_row_beside_the_references() -> None:
    ratings = two_tastes(n_users=80, seed=5)
    is_test = np.random.default_rng(1).random(len(ratings)) < 0.2
    train, test = ratings.subset(~is_test), ratings.subset(is_test)
    content = two_tastes_content()
    catalog = {
        int(m): CatalogMovie(f"Film {m}", tuple(g), int(y))
        for m, g, y in zip(content.movie_ids, content.genres, content.year, strict=True)
    }
    section = new_movie_figures(train, test, catalog, SMALL)
    assert [r["name"] for r in section["rows"]] == [
        "ours",
        "popularity prior",
        "genre match",
        "predicted rating",
    ]
    assert section["n_new_movies"] == 8 and section["n_users"] > 0
    for row in section["rows"]:
        assert 0 <= row["ndcg_at_10"] <= 1
    json.dumps(section)
    assert "new films (8 films" in "\n".join(format_new_movies({"new_movies": section}))
