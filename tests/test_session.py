"""The session term: ratings given in one sitting shift that moment's predictions together."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from recommender import BadRatings, Model, ModelConfig, Ratings, RecommenderError
from recommender.evaluate import evaluate
from recommender.movielens_files import load_movielens_ratings
from recommender.session import session_bias
from recommender.synthetic import synthetic_ratings


def test_session_bias_is_the_kernel_weighted_mean_of_the_residuals() -> None:
    times = np.array([0.0, 100.0, np.nan, 1e6])
    resid = np.array([1.0, -1.0, 5.0, 3.0])
    got = session_bias(times, resid, np.array([0.0, np.nan]), tau=100.0, damping=1.0)
    k = np.array([1.0, math.exp(-1.0), 0.0, math.exp(-1e4)])
    assert got[0] == pytest.approx((k @ np.array([1.0, -1.0, 0.0, 3.0])) / (k.sum() + 1.0))
    assert got[1] == 0.0  # a NaN time sees no rating
    # No timed rating at all: 0, whatever the residuals.
    assert session_bias(np.full(2, np.nan), np.ones(2), 5.0, 100.0, 1.0).tolist() == [0.0]
    # Long after the sitting it fades away; a bigger damping shrinks it.
    assert abs(session_bias(times[:2], resid[:2], 7200.0, 100.0, 1.0)[0]) < 1e-12
    strong = session_bias(np.zeros(3), np.full(3, 2.0), 0.0, 100.0, 1.0)[0]
    weak = session_bias(np.zeros(3), np.full(3, 2.0), 0.0, 100.0, 9.0)[0]
    assert strong == pytest.approx(1.5) and weak == pytest.approx(0.5)


@pytest.fixture(scope="module")
def model() -> Model:
    r = synthetic_ratings(n_users=200, n_movies=120, n_ratings=6000, rank=3, seed=3)
    return Model.fit(r, ModelConfig(rank=4, knn_neighbours=10), seed=0)


def generous_sitting(model: Model) -> tuple[dict[int, float], dict[int, float]]:
    """Ten ratings a week ago, each 1.5 below the movie's mean, and ten given within the last
    minute, each 1.5 above it: the user's bias is ~0 and the latest sitting is generous."""
    old, recent = model.movie_ids[:10].tolist(), model.movie_ids[10:20].tolist()
    history = {m: max(1.0, model.movie_mean(m) - 1.5) for m in old}
    history |= {m: min(10.0, model.movie_mean(m) + 1.5) for m in recent}
    times = {m: 1_000_000.0 - 7 * 86400 + 60 * k for k, m in enumerate(old)}
    times |= {m: 1_000_000.0 + 6 * k for k, m in enumerate(recent)}
    return history, times


def test_a_generous_sitting_raises_that_moments_predictions_alike(model: Model) -> None:
    history, times = generous_sitting(model)
    prof = model.fold_in(history, times)
    targets = model.movie_ids[30:40]
    blind = model.predict(prof, targets)
    now = model.predict(prof, targets, at=1_000_060.0)
    later = model.predict(prof, targets, at=1_000_060.0 + 86400)
    shift = model.config.blend_session * model.session_bias(prof, 1_000_060.0)[0]
    assert shift > 0.5  # w_s x ~1.5 x 10/11
    unclipped = (blind > 1) & (blind < 10) & (now < 10)
    assert unclipped.sum() >= 5
    assert np.allclose((now - blind)[unclipped], shift)
    assert np.allclose(later, blind)  # a day later the sitting no longer counts
    # Without times, or with the term off, the prediction is the time-blind one.
    assert np.array_equal(model.predict(model.fold_in(history), targets, at=1_000_060.0), blind)
    # One time per movie works too; a wrong count is refused.
    per_movie = model.predict(prof, targets, at=np.full(targets.size, 1_000_060.0))
    assert np.allclose(per_movie, now)
    with pytest.raises(RecommenderError):
        model.predict(prof, targets, at=np.zeros(3))


def test_the_session_term_never_changes_what_is_recommended(model: Model) -> None:
    history, times = generous_sitting(model)
    prof = model.fold_in(history, times)
    blind = model.recommend(prof, 8)
    timed = model.recommend(prof, 8, at=1_000_060.0)
    assert [m for m, _ in timed] == [m for m, _ in blind]
    assert all(t >= b for (_, t), (_, b) in zip(timed, blind, strict=True))
    assert any(t > b for (_, t), (_, b) in zip(timed, blind, strict=True))
    other = model.fold_in({int(m): 5.0 for m in model.movie_ids[40:50]})
    picks = model.for_group([prof, other], 5, at=1_000_060.0)
    assert picks
    for p in picks:
        # Each member at that moment: the generous one with the session term, the other
        # (no timed ratings) exactly as without it.
        mine = model.predict(prof, [p.movie_id], at=1_000_060.0)[0]
        assert p.member_scores[0] == pytest.approx(float(mine))
        assert p.member_scores[1] == pytest.approx(float(model.predict(other, [p.movie_id])[0]))


def test_rating_times_are_checked(model: Model) -> None:
    history, _ = generous_sitting(model)
    with pytest.raises(BadRatings):
        model.fold_in(history, [1.0, 2.0])  # type: ignore[arg-type]
    with pytest.raises(BadRatings):
        model.fold_in(history, {next(iter(history)): math.inf})
    with pytest.raises(BadRatings):
        model.fold_in(history, {next(iter(history)): "yesterday"})  # type: ignore[dict-item]
    # Unknown times are fine: those ratings simply do not count towards the session.
    assert model.fold_in(history, {}).n_ratings == len(history)


def test_ratings_carry_checked_timestamps() -> None:
    ids = np.array([1, 2, 3])
    r = Ratings(ids, ids, np.array([2.0, 4.0, 6.0]), np.array([10, 20, 30]))
    assert r.subset(np.array([2, 0])).timestamps.tolist() == [30.0, 10.0]
    assert np.isnan(Ratings(ids, ids, np.ones(3)).timestamps).all()
    with pytest.raises(BadRatings):
        Ratings(ids, ids, np.ones(3), np.array([1.0, 2.0]))
    with pytest.raises(BadRatings):
        Ratings(ids, ids, np.ones(3), np.array([1.0, np.inf, 2.0]))
    with pytest.raises(BadRatings):
        Ratings(ids, ids, np.ones(3), np.array(["a", "b", "c"]))


def test_the_loader_reads_timestamps_when_the_file_has_them(tmp_path: Path) -> None:
    timed = tmp_path / "timed.csv"
    timed.write_text("userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n")
    assert load_movielens_ratings(timed).timestamps.tolist() == [1260759144.0]
    bare = tmp_path / "bare.csv"
    bare.write_text("userId,movieId,rating\n1,31,2.5\n")
    assert np.isnan(load_movielens_ratings(bare).timestamps).all()


def test_evaluate_reports_the_time_blind_model_next_to_ours_when_times_are_known() -> None:
    rng = np.random.default_rng(5)
    r = synthetic_ratings(n_users=120, n_movies=80, n_ratings=3000, rank=3, seed=5)
    # Each user rates in sittings of a few minutes, with a mood that shifts the whole sitting.
    sitting = rng.integers(0, 4, len(r))
    users, user_rows = np.unique(r.user_ids, return_inverse=True)
    mood = rng.normal(0, 1.5, (users.size, 4))
    values = np.clip(np.round(r.values + mood[user_rows, sitting]), 1, 10)
    stamps = sitting * 86400.0 + rng.uniform(0, 300, len(r))
    timed = Ratings(r.user_ids, r.movie_ids, values, stamps)
    is_test = rng.random(len(timed)) < 0.2
    train, test = timed.subset(~is_test), timed.subset(is_test)
    report = evaluate(train, test, include_dense_reference=False)
    by = {m["name"]: m for m in report["models"]}
    assert list(by)[-2:] == ["ours", "ours, time-blind"]
    assert by["ours"]["rmse"] < by["ours, time-blind"]["rmse"] - 0.05
    assert by["ours"]["ndcg_at_10"] == by["ours, time-blind"]["ndcg_at_10"]
    # Without timestamps there is nothing to compare.
    blind = evaluate(
        Ratings(train.user_ids, train.movie_ids, train.values),
        test,
        include_dense_reference=False,
    )
    assert [m["name"] for m in blind["models"]][-1] == "ours"
