"""Onboarding card orders and the cold-start simulation; list figures of recommender.topn."""

from __future__ import annotations

import numpy as np
import pytest

from recommender import Model, ModelConfig, Ratings
from recommender.onboarding import (
    adaptive_next,
    diverse_popular,
    most_rated,
    simulate,
    static_order,
)
from recommender.topn import list_profile, precision_ndcg, similar_hit_rate

CONFIG = ModelConfig.preset("plain", rank=2, ranking_reg=1.0, ranking_min_ratings=1)


def two_tastes() -> Ratings:
    """Users 0-11 watch movies 1-5, users 12-19 watch 6-10 (so 1-5 are the more rated)."""
    users, movies = [], []
    for u in range(20):
        for m in [1, 2, 3, 4, 5] if u < 12 else [6, 7, 8, 9, 10]:
            users.append(u)
            movies.append(m)
    return Ratings(np.array(users), np.array(movies), np.full(len(users), 8.0))


def test_most_rated_orders_by_count_then_id() -> None:
    assert most_rated({5: 3, 2: 9, 7: 3, 1: 1}) == [2, 5, 7, 1]
    assert most_rated({5: 3, 2: 9}, size=1) == [2]


def test_diverse_popular_takes_new_genres_and_one_per_franchise() -> None:
    counts = {1: 100, 2: 99, 3: 98, 4: 10}
    genres = {1: ["Drama"], 2: ["Drama"], 3: ["Comedy"], 4: ["Horror"]}
    years = {1: 1990, 2: 1991, 3: 1990, 4: 2010}
    franchise = {1: "saga", 2: "saga", 3: "c", 4: "h"}
    order = diverse_popular(counts, genres, years, franchise, 3)
    assert order[0] == 1 and 2 not in order and set(order) == {1, 3, 4}


def test_adaptive_cards_follow_the_taste_of_the_first_rating() -> None:
    model = Model.fit(two_tastes(), CONFIG)
    pool = list(range(1, 11))
    assert adaptive_next(model, {}, set(), pool) in {1, 2, 3, 4, 5}  # the better known
    nxt = adaptive_next(model, {6: 9.0}, {1}, pool)
    assert nxt in {7, 8, 9, 10}
    assert adaptive_next(model, {m: 8.0 for m in pool[:9]}, {10}, pool) is None


def test_every_third_card_is_a_recent_film_while_there_are_any() -> None:
    model = Model.fit(two_tastes(), CONFIG)
    classics, recent = [1, 2, 3, 4, 5], [9, 10]  # the recent ones are the less watched
    assert adaptive_next(model, {}, set(), classics, ()) in classics
    cards: list[int] = []
    while (card := adaptive_next(model, {}, set(cards), classics, recent)) is not None:
        cards.append(card)
    assert [c in recent for c in cards] == [False, False, True, False, False, True, False]
    assert sorted(cards) == [*classics, *recent]  # each asked once, all of them in the end


def test_simulation_answers_from_what_the_user_has_seen_and_scores_the_target() -> None:
    model = Model.fit(two_tastes(), CONFIG)
    # A taste-B fan who has seen 6 and 7 and will like 8: the cards 1, 6, 2, 7 ... are dealt.
    user = ({6: 9.0, 7: 9.0}, {8})
    order = static_order([1, 6, 2, 7, 3])
    out = simulate(model, [user], order, answers=4)
    assert out["ratings_collected"] == 2
    assert out["precision_at_10"] == pytest.approx(0.1)
    assert out["ndcg_at_10"] > 0.3  # 8 is in the top of a list made from 6 and 7
    none = simulate(model, [user], order, answers=1)
    assert none["ratings_collected"] == 0


def test_list_profile_figures_match_hand_computed_values() -> None:
    lists = [[1, 2], [2, 3]]
    counts = {1: 10, 2: 5, 3: 1}
    genres = {1: frozenset({"A"}), 2: frozenset({"A", "B"}), 3: frozenset({"C"})}
    out = list_profile(lists, counts, n_users=10, n_catalog=6, genres=genres, franchise_of={})
    assert out["mean_popularity"] == pytest.approx((10 + 5 + 5 + 1) / 4)
    assert out["coverage"] == pytest.approx(3 / 6)
    assert out["novelty"] == pytest.approx(np.mean(-np.log2([1.0, 0.5, 0.5, 0.1])))
    assert out["genre_diversity"] == pytest.approx((0.5 + 1.0) / 2)
    assert out["max_franchise"] == 1


def test_precision_ndcg_and_hit_rate_on_known_lists() -> None:
    out = precision_ndcg([[5, 1], [1]], [{1}, set()])
    assert out["precision_at_10"] == pytest.approx(0.1)
    assert out["ndcg_at_10"] == pytest.approx(1 / np.log2(3))
    sources = [(1, np.array([1]), {2}), (3, np.array([3]), {9})]
    assert similar_hit_rate(sources, lambda m, rated: [m + 1]) == pytest.approx(0.5)
