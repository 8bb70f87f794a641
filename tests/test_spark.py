"""The Spark refit engine: same biases as the local fit, comparable RMSE, a servable model.

Runs Spark in local mode (``local[2]``, one session for the module: start-up is ~10 s). Skipped
only when pyspark (the ``spark`` extra) is not installed.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from devtools.heldout import held_out_rmse, history_of
from devtools.paths import shared_split
from recommender import Model, ModelConfig, Ratings
from recommender.errors import BadRatings, RecommenderError
from recommender.spark_engine import (
    DEFAULT_SPARK_CONF,
    fit_with_spark,
    normalise,
    spark_config,
    spark_reg_param,
)
from tests.helpers import NEW_COMEDY, NEW_HORROR, SMALL, two_tastes, two_tastes_content

# The Spark engine serves no kNN part; the local engine is compared with the same choice.
NO_KNN = ModelConfig(knn_neighbours=0, blend_knn=0.0, blend_mf=1.0)


@pytest.fixture(scope="module")
def spark():
    """One local Spark session for the module's fits."""
    pytest.importorskip("pyspark", reason="pyspark not installed (pip install 'moviebot[spark]')")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[2]")
    for key, value in DEFAULT_SPARK_CONF.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    yield session
    session.stop()


def rmse_stars(model: Model, train: Ratings, test: Ratings) -> float:
    """Test RMSE in stars, every test user folded in from their train history."""
    return held_out_rmse(model, train, test) / 2


# ------------------------------------------------------------------ numpy side (no Spark)


def test_biases_match_hand_computed_numbers() -> None:
    # mu = 6; b_1 = (2 + 0) / (2 + 1) = 2/3; b_2 = -2 / (1 + 1) = -1;
    # b_u(10) = ((8 - 6 - 2/3) + (4 - 6 + 1)) / 2 = 1/6; b_u(20) = (6 - 6 - 2/3) / 1 = -2/3.
    r = Ratings(np.array([10, 10, 20]), np.array([1, 2, 1]), np.array([8.0, 4.0, 6.0]))
    norm = normalise(r, ModelConfig(damping=1.0, user_damping=0.0))
    assert norm.mu == pytest.approx(6.0)
    assert norm.item_bias == pytest.approx([2 / 3, -1.0])
    assert norm.user_bias == pytest.approx([1 / 6, -2 / 3])
    # y = r - mu - b_i - b_u: 8 - 6 - 2/3 - 1/6, 4 - 6 + 1 - 1/6, 6 - 6 - 2/3 + 2/3.
    assert norm.residuals == pytest.approx([7 / 6, -7 / 6, 0.0])


def test_biases_equal_the_local_models_on_the_same_data() -> None:
    r = Ratings(
        np.array([10**13, 10**13, -3, -3, -3, 7]),
        np.array([5, 9, 5, 9, 11, 11]),
        np.array([9.0, 3.0, 7.0, 4.0, 10.0, 2.0]),
    )
    cfg = replace(NO_KNN, rank=0, damping=2.0, user_damping=1.5)
    local = Model.fit(r, cfg, movie_ids=np.array([42]))
    norm = normalise(r, cfg, movie_ids=np.array([42]))
    assert norm.movies.ids.tolist() == local.movie_ids.tolist() == [5, 9, 11, 42]
    means = [local.movie_mean(m) for m in norm.movies.ids]
    assert norm.mu + norm.item_bias == pytest.approx(means, rel=1e-12)
    assert norm.item_counts.tolist() == [2, 2, 2, 0]
    for row, user in enumerate(np.unique(r.user_ids)):
        assert norm.user_bias[row] == pytest.approx(local.fold_in(history_of(r, user)).user_bias)
    assert norm.user_rows.dtype == norm.movie_rows.dtype == np.int32


def test_duplicate_pairs_are_rejected_like_the_local_fit() -> None:
    r = Ratings(np.array([1, 1]), np.array([2, 2]), np.array([8.0, 6.0]))
    with pytest.raises(BadRatings, match="duplicate"):
        normalise(r, NO_KNN)


def test_reg_param_keeps_the_average_users_penalty() -> None:
    # 100 users, 5,000 ratings: the average user has 50, so 25 / 50 per rating.
    assert spark_reg_param(ModelConfig(reg=25.0), 100, 5000) == pytest.approx(0.5)
    assert spark_reg_param(ModelConfig(reg=0.3, reg_exponent=1.0), 100, 5000) == 0.3
    with pytest.raises(RecommenderError, match="no Spark equivalent"):
        spark_reg_param(ModelConfig(reg_exponent=0.5), 100, 5000)
    served = spark_config(ModelConfig(), 0.5)
    assert (served.reg, served.reg_exponent, served.blend_knn, served.knn_neighbours) == (
        0.5,
        1.0,
        0.0,
        0,
    )


def test_a_cluster_master_needs_a_shared_workdir() -> None:
    r = Ratings(np.array([1]), np.array([2]), np.array([8.0]))
    with pytest.raises(RecommenderError, match="workdir"):
        fit_with_spark(r, NO_KNN, master="spark://nowhere:7077")


# ------------------------------------------------------------------ Spark


@pytest.mark.skipif(shared_split() is None, reason="shared MovieLens split not present")
def test_spark_rmse_is_within_001_of_the_local_engine(spark, tmp_path: Path) -> None:
    from recommender.movielens_files import load_movielens_ratings

    split = shared_split()
    train = load_movielens_ratings(split / "train.csv")
    test = load_movielens_ratings(split / "test.csv")
    catalog = np.union1d(train.movie_ids, test.movie_ids)
    model = fit_with_spark(train, NO_KNN, movie_ids=catalog, spark=spark, workdir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []  # the Parquet ratings and checkpoints are removed
    assert model.config.reg_exponent == 1.0 and model.config.blend_knn == 0.0
    spark_rmse = rmse_stars(model, train, test)
    # The same objective fitted locally (count-scaled reg) and the local default (plain reg).
    same = rmse_stars(Model.fit(train, model.config, movie_ids=catalog), train, test)
    plain = rmse_stars(Model.fit(train, NO_KNN, movie_ids=catalog), train, test)
    assert abs(spark_rmse - same) < 0.005, (spark_rmse, same)
    assert abs(spark_rmse - plain) < 0.01, (spark_rmse, plain)

    path = tmp_path / "spark.model.npz"
    model.save(path)
    loaded = Model.load(path)
    user = int(test.user_ids[0])
    movies = test.movie_ids[test.user_ids == user]
    before = model.predict(model.fold_in(history_of(train, user)), movies)
    after = loaded.predict(loaded.fold_in(history_of(train, user)), movies)
    np.testing.assert_array_equal(before, after)


def test_unseen_users_and_movies_get_no_nan(spark) -> None:
    # Telegram-sized and negative user ids; movie 99 is in the catalogue but nobody rated it.
    users = np.array([10**13, 10**13, 10**13, -5, -5, 3, 3, 3])
    movies = np.array([1, 2, 3, 1, 3, 2, 3, 4])
    values = np.array([9.0, 2.0, 8.0, 10.0, 7.0, 3.0, 6.0, 5.0])
    model = fit_with_spark(
        Ratings(users, movies, values),
        replace(NO_KNN, rank=2, iterations=3),
        movie_ids=np.array([99]),
        spark=spark,
    )
    assert model.movie_ids.tolist() == [1, 2, 3, 4, 99]
    assert model.movie_rating_count(99) == 0
    assert model.movie_mean(99) == pytest.approx(values.mean())
    assert model.similar(99) == []  # zero factors: no neighbours in factor space
    newcomer = model.fold_in({4: 9.0, 99: 2.0, 12345: 8.0})  # 12345: unknown, ignored
    assert newcomer.movie_ids.tolist() == [4, 99]
    assert np.all(np.isfinite(newcomer.factors))
    scores = [s for _, s in model.recommend(newcomer, n=5)]
    assert len(scores) == 3 and np.all(np.isfinite(scores))
    cold = model.fold_in({})
    assert np.all(cold.factors == 0) and cold.user_bias == 0.0


def test_films_nobody_rated_get_their_content_map_with_spark_too(spark) -> None:
    # The Spark engine left the content out: a film no one had rated stayed at the global
    # mean with no factors, for comedy and horror fans alike.
    ratings = two_tastes()
    model = fit_with_spark(ratings, SMALL, spark=spark, content=two_tastes_content())
    for user, sign in ((0, 1), (1, -1)):
        sel = ratings.user_ids == user
        rated, scores = ratings.movie_ids[sel].tolist(), ratings.values[sel].tolist()
        fan = model.fold_in(dict(zip(rated, scores, strict=True)))
        comedy, horror = model.predict(fan, [NEW_COMEDY, NEW_HORROR])
        assert sign * (comedy - horror) > 0.3
        top = [m for m, _ in model.recommend(fan, 11)]
        assert (NEW_COMEDY if sign > 0 else NEW_HORROR) in top


def test_moviebot_train_engine_spark_records_the_fit_and_serves_the_model(
    tutorial_db, tmp_path: Path, capsys
) -> None:
    pytest.importorskip("pyspark", reason="pyspark not installed (pip install 'moviebot[spark]')")
    from moviebot.cli import main
    from storage import fits

    db_path, model_path = tmp_path / "tutorial.db", tmp_path / "spark.model.npz"
    code = main(["train", "--db", str(db_path), "--model", str(model_path), "--engine", "spark"])
    assert code == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith("Fitted on 29 ratings in ")
    model = Model.load(model_path)
    assert model.recommend(model.fold_in({1: 8.0}), 3)
    assert fits.last_successful_fit(tutorial_db).scores["engine"] == "spark"
