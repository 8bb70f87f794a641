"""/similar's match figure and the candidate relation (recommender/similar.py): the candidate's
score on tiny data against the formula, its popularity correction and pair budget, the match
figure Model.similar shows, and the novelty levels' report."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender import Model, ModelConfig, Ratings
from recommender.similar import SimilarItems, SimilarSettings, _cap_users, similar_scores


def dense_reference(x: np.ndarray, like: np.ndarray, s: SimilarSettings) -> np.ndarray:
    """The module docstring's formula on dense arrays, every pair."""
    x = (x != 0).astype(float)
    n = x.sum(axis=0)
    co = x.T @ x
    score = co / (np.sqrt(np.outer(n, n)) + s.shrink)
    score *= (n / n.max())[None, :] ** -s.pop_exponent * like[None, :] ** s.like_exponent
    np.fill_diagonal(score, 0.0)
    thin = n < s.min_ratings
    score[thin, :] = 0.0
    score[:, thin] = 0.0
    return score


def test_scores_are_the_shrunk_cosine_corrected_for_popularity_and_braked() -> None:
    rng = np.random.default_rng(3)
    x = (rng.random((40, 12)) < 0.35) * rng.integers(1, 11, size=(40, 12))
    like = rng.uniform(0.1, 0.9, size=12)
    settings = SimilarSettings(shrink=4.0, pop_exponent=0.3, like_exponent=0.7, neighbours=11)
    got = similar_scores(sp.csr_matrix(x), like, settings).toarray()
    want = dense_reference(x, like, settings)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    # Only the top ``neighbours`` of each movie are kept.
    top3 = similar_scores(
        sp.csr_matrix(x), like, SimilarSettings(**{**settings.__dict__, "neighbours": 3})
    )
    assert np.diff(top3.indptr).max() == 3
    for i in range(12):
        kept = top3[i].toarray().ravel()
        assert set(np.flatnonzero(kept)) == set(np.argsort(-want[i], kind="stable")[:3])


def blockbuster_and_a_niche_pair() -> sp.csr_matrix:
    """Ten users all rated the blockbuster (column 2); users 0-4 rated movie 0 and users 0-2 and
    5-6 rated movie 1: movie 1 shares 3 of movie 0's 5 raters, the blockbuster all 5."""
    x = np.zeros((10, 3))
    x[:, 2] = 1
    x[0:5, 0] = 1
    x[[0, 1, 2, 5, 6], 1] = 1
    return sp.csr_matrix(x)


def test_a_blockbuster_is_a_neighbour_only_when_the_association_is_specific() -> None:
    x, like = blockbuster_and_a_niche_pair(), np.ones(3)
    plain = similar_scores(x, like, SimilarSettings(shrink=0.0, pop_exponent=0.0, min_ratings=1))
    # Plain cosine: 5/sqrt(50) = 0.71 for the blockbuster, 3/5 = 0.6 for movie 1.
    assert plain[0, 2] > plain[0, 1]
    # Lift (pop_exponent 0.5): 3/25 for movie 1 beats the blockbuster's 5/50, which is what
    # everybody's raters share.
    lift = similar_scores(x, like, SimilarSettings(shrink=0.0, pop_exponent=0.5, min_ratings=1))
    assert lift[0, 1] > lift[0, 2]


def test_the_pair_budget_samples_heavy_users_down_to_a_cap() -> None:
    rng = np.random.default_rng(0)
    x = sp.csr_matrix(
        (rng.random((30, 50)) < np.linspace(0.05, 0.9, 30)[:, None]).astype(np.float32)
    )
    counts = np.diff(x.indptr)
    budget = int((counts.astype(float) ** 2).sum() // 3)
    capped = _cap_users(x, budget, seed=1)
    kept = np.diff(capped.indptr)
    cap = kept.max()
    assert (kept.astype(float) ** 2).sum() <= budget
    assert np.array_equal(kept, np.minimum(counts, cap))  # lighter users keep everything
    assert (capped.multiply(x) != capped).nnz == 0  # a subset of each user's movies
    assert (_cap_users(x, budget, seed=1) != capped).nnz == 0  # seeded
    assert _cap_users(x, 10**9, seed=1) is x  # within budget: untouched


def test_model_similar_shows_a_match_that_falls_with_the_order() -> None:
    rng = np.random.default_rng(5)
    users, movies = np.nonzero(rng.random((80, 30)) < np.linspace(0.6, 0.1, 30)[None, :])
    r = Ratings(users, movies + 1, rng.integers(1, 11, size=users.size).astype(float))
    model = Model.fit(r, ModelConfig.preset("plain", rank=2, ranking_min_ratings=1))
    like = model.like_probability(model._mu + model._item_bias)
    for m in model.movie_ids.tolist():
        near = model.similar(m, n=10, min_ratings=1)
        matches = [s for _, s in near]
        assert all(0.0 <= s <= 1.0 for s in matches)
        assert matches == sorted(matches, reverse=True)
        # The order is the served score's: max(B_ij, 0) * like_j.
        row = model._movies.row(m)
        score = np.maximum(model._ranking.neighbour_weights(row), 0) * like
        score[row] = 0
        want = [int(model.movie_ids[k]) for k in np.lexsort((model.movie_ids, -score))]
        assert [x for x, _ in near] == [x for x in want if score[model._movies.row(x)] > 0][:10]
    # The strongest link in the catalogue is a 100% match; a weaker brake rebuilds the scale.
    best = max((model.similar(m, 1, min_ratings=1) or [(0, 0.0)])[0][1] for m in model.movie_ids)
    assert best == pytest.approx(1.0)
    softer = model.serving(like_scale=3.0)
    assert softer._match is None
    assert [x for x, _ in softer.similar(1, 5, min_ratings=1)]


def test_an_empty_relation_has_no_neighbours_and_no_nan() -> None:
    empty = SimilarItems.empty(4)
    assert empty.neighbours(2)[0].size == 0
    assert np.all(np.isfinite(empty.match(np.array([0.0, 1.0]))))


def test_more_adventurous_levels_list_less_popular_movies() -> None:
    from recommender.evaluate_similar import novelty_report, popularity_ranks

    assert popularity_ranks(np.array([5, 9, 5, 1])).tolist() == [2, 1, 3, 4]
    rng = np.random.default_rng(7)
    users, movies = np.nonzero(rng.random((120, 60)) < np.linspace(0.7, 0.03, 60)[None, :])
    values = rng.integers(5, 11, size=users.size).astype(float)
    model = Model.fit(Ratings(users, movies + 1, values), ModelConfig.preset("plain", rank=2))
    histories, relevant = [], []
    for u in range(0, 120, 3):
        mine = users == u
        histories.append((movies[mine] + 1, values[mine]))
        relevant.append({int(m) + 1 for m in movies[users == u + 1][:3]})
    rows = novelty_report(model, histories, relevant, {-1: -0.5, 0: 0.0, 1: 0.6})
    ranks = [r["mean_popularity_rank"] for r in rows]
    assert ranks[0] < ranks[1] < ranks[2]
