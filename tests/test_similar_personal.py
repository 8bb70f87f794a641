"""/similar ordered for the person who asks (recommender/similar_personal.py, issue 25): the
blend, what it leaves out, and the reply that says it is personal."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bot.commands.conversation import Conversation
from bot.service import MovieService
from devtools import personas
from recommender import Model, ModelConfig, Ratings
from recommender.pick_match import ranking_scores
from recommender.similar_personal import (
    PersonalSimilarSettings,
    candidates,
    is_personal,
    personal_similar,
    relation_nearest,
)
from storage import ratings
from tests.helpers import ANN, GROUP, PRIVATE, Talk

GENRES = {m: frozenset({"A"} if m % 2 else {"A", "B"}) for m in range(1, 41)}


def genres_of(ids):
    return {m: GENRES[m] for m in ids if m in GENRES}


@pytest.fixture(scope="module")
def model() -> Model:
    rng = np.random.default_rng(11)
    users, movies = np.nonzero(rng.random((120, 40)) < np.linspace(0.6, 0.08, 40)[None, :])
    values = rng.integers(1, 11, size=users.size).astype(float)
    return Model.fit(
        Ratings(users, movies + 1, values),
        ModelConfig.preset("plain", rank=2, ranking_min_ratings=1),
    )


def test_relation_nearest_is_the_served_relations_order(model: Model) -> None:
    for m in (1, 5, 12):
        rows, scores = relation_nearest(model, m, 10, 1, np.zeros(0, dtype=np.int64))
        served = [x for x, _ in model.similar(m, 10, min_ratings=1)]
        assert model.movie_ids[rows].tolist() == served
        assert scores.tolist() == sorted(scores.tolist(), reverse=True)


def test_the_order_is_the_blend_of_relation_own_score_popularity_and_genre(model: Model) -> None:
    profile = model.fold_in({2: 9.0, 3: 8.0, 7: 4.0, 11: 10.0})
    settings = PersonalSimilarSettings(
        neighbours=15, relation_exponent=0.5, pop_exponent=0.3, genre_exponent=0.5
    )
    near = personal_similar(model, profile, 1, genres_of, 6, min_ratings=1, settings=settings)
    rows, rel = relation_nearest(model, 1, 15, 1, profile._rows)
    ids = model.movie_ids[rows]
    own = ranking_scores(model, profile, ids.tolist())
    jac = np.array([len(GENRES[1] & GENRES[m]) / len(GENRES[1] | GENRES[m]) for m in ids])
    pop = model._item_counts[rows].astype(float)
    want = rel**0.5 * own * pop**-0.3 * (0.1 + jac) ** 0.5
    order = np.lexsort((ids, -want))[:6]
    assert [m for m, _ in near] == ids[order].tolist()
    # The figure is the score as a share of the first one's: 1, then falling.
    assert [s for _, s in near] == pytest.approx((want[order] / want[order[0]]).tolist())
    assert near[0][1] == 1.0


def test_rated_seen_and_excluded_movies_are_left_out(model: Model) -> None:
    profile = model.seen(model.fold_in({2: 9.0, 3: 8.0}), [4, 5])
    found = candidates(model, profile, 1, genres_of, 40, min_ratings=1, exclude=[6])
    everyone = relation_nearest(model, 1, 40, 1, np.zeros(0, dtype=np.int64))[0]
    linked = set(model.movie_ids[everyone].tolist())
    assert {2, 3, 4, 5, 6} <= linked  # they would be candidates otherwise
    assert set(found.ids.tolist()) == linked - {2, 3, 4, 5, 6}
    assert is_personal(profile)
    assert not is_personal(model.fold_in({}))


# --- the bot: ordered for the person who asks, and says so ------------------------------------

TOY_STORY = 1
PIXAR_FAN = ["Finding Nemo 2003", "Up 2009", "Monsters, Inc. 2001", "WALL-E 2008", "Ratatouille"]


@pytest.fixture
def conversation(service: MovieService) -> Conversation:
    return Conversation(service, bot_username="moviebot_test_bot")


def test_similar_for_someone_with_ratings_is_ranked_for_them_and_says_so(
    conversation: Conversation, service: MovieService
) -> None:
    ann = Talk(conversation, ANN, PRIVATE)
    for title in PIXAR_FAN:
        assert "✓" in ann.text(f"/rate {title} 9"), title
    text = ann.text("/similar toy story 1995")
    lines = text.splitlines()
    assert lines[1].startswith("Ranked for you: films close to Toy Story that you haven't rated")
    assert "Toy Story 2 (1999)" in "\n".join(lines[2:7])  # the sequel stays near the top
    shares = [int(s) for s in re.findall(r"· (\d+)% match ·", text)]
    assert len(shares) == 10 and shares[0] == 100 and shares == sorted(shares, reverse=True)
    rated = ratings.user_ratings(service.db, ANN.user_id)
    listed = [n.movie.id for n in service.similar(TOY_STORY, 10, ANN.user_id)]
    assert listed and not set(listed) & set(rated)
    assert all(n.for_you for n in service.similar(TOY_STORY, 10, ANN.user_id))
    assert personas.contradictions(personas.Reply("ann", "/similar", text)) == []


def test_similar_without_ratings_or_in_a_group_is_the_same_list_for_everyone(
    conversation: Conversation, service: MovieService
) -> None:
    everyone = [n.movie.id for n in service.similar(TOY_STORY, 10)]
    assert [n.movie.id for n in service.similar(TOY_STORY, 10, ANN.user_id)] == everyone
    ann = Talk(conversation, ANN, PRIVATE)
    assert "✓" in ann.text("/rate Up 2009 9")
    group = Talk(conversation, ANN, GROUP).text("/similar toy story 1995")
    assert "Match: how strongly people who watched Toy Story" in group
    assert "Ranked for you" not in group
    assert not any(n.for_you for n in service.similar(TOY_STORY, 10))


def test_the_tuner_scores_each_setting_as_the_served_function_does(model: Model, capsys) -> None:
    """tune_similar reads the largest K once and slices it; the chosen setting's figures must be
    the ones personal_similar gives (the tuner printed both)."""
    from recommender import tune_similar
    from recommender.evaluate_similar import similar_sources

    rng = np.random.default_rng(3)
    histories, relevant = [], []
    for _ in range(12):
        ids = np.sort(rng.choice(np.arange(1, 41), size=8, replace=False))
        histories.append((ids, rng.integers(6, 11, size=8).astype(float)))
        relevant.append(set(rng.choice(np.setdiff1d(np.arange(1, 41), ids), 4).tolist()))
    counts = dict(zip(model.movie_ids.tolist(), model._item_counts.tolist(), strict=True))
    sources = similar_sources(histories, relevant, counts)
    loose = {"mean_popularity": 1e9, "genre_agreement": 0.0}
    chosen = tune_similar.personal_grid(model, sources, histories, counts, GENRES, loose)
    assert chosen is not None and chosen.relation_exponent >= tune_similar.MIN_RELATION
    lines = capsys.readouterr().out.splitlines()
    picked = next(line for line in lines if line.startswith("chosen: "))
    served = next(line for line in lines if line.startswith("  the same through"))
    assert picked.split()[-4:] == served.split()[-4:]
