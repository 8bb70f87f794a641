"""Evaluation: the MovieLens loader, the metrics on hand-made rankings, the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recommender import BadRatings, ModelConfig, Ratings
from recommender.evaluate import evaluate, format_report
from recommender.movielens_files import CatalogMovie, load_movielens_ratings
from recommender.topn import precision_ndcg


def test_loader_reads_crlf_movielens_and_doubles_the_stars(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_bytes(b"userId,movieId,rating,timestamp\r\n1,31,2.5,1260759144\r\n7,1029,0.5,1\r\n")
    r = load_movielens_ratings(path)
    assert r.user_ids.tolist() == [1, 7]
    assert r.movie_ids.tolist() == [31, 1029]
    assert r.values.tolist() == [5.0, 1.0]


@pytest.mark.parametrize(
    "content",
    [
        b"a,b,c\r\n1,2,3\r\n",
        b"userId,movieId,rating,timestamp\r\n1,2,six,0\r\n",
        b"userId,movieId,rating,timestamp\r\n1,2,5.5,0\r\n",
    ],
)
def test_loader_rejects_malformed_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(BadRatings):
        load_movielens_ratings(path)


def test_loader_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BadRatings, match="cannot read"):
        load_movielens_ratings(tmp_path / "nope.csv")


def test_precision_and_ndcg_at_10_match_hand_computed_values() -> None:
    ranked = [np.array([5, 1, 9, 2, 3, 4, 6, 7, 8, 10]), np.array([1, 2, 3])]
    relevant = [{1, 4, 99}, set()]  # the second user has nothing relevant: skipped
    figures = precision_ndcg(ranked, relevant)
    p, n = figures["precision_at_10"], figures["ndcg_at_10"]
    assert p == pytest.approx(2 / 10)
    dcg = 1 / np.log2(3) + 1 / np.log2(7)
    idcg = 1 + 1 / np.log2(3) + 1 / np.log2(4)
    assert n == pytest.approx(dcg / idcg)


def small_split() -> tuple[Ratings, Ratings]:
    rng = np.random.default_rng(0)
    n_u, n_m = 50, 40
    taste = rng.normal(size=(n_u, 2)) @ rng.normal(size=(2, n_m))
    full = np.clip(np.round(5.5 + 1.5 * taste + rng.normal(0, 0.5, (n_u, n_m))), 1, 10)
    users, movies = np.nonzero(rng.random((n_u, n_m)) < 0.5)
    is_test = rng.random(users.size) < 0.2
    r = Ratings(users + 1, movies + 100, full[users, movies])
    return r.subset(~is_test), r.subset(is_test)


def test_evaluate_reports_every_model_and_ours_beats_the_means() -> None:
    train, test = small_split()
    report = evaluate(
        train,
        test,
        config=ModelConfig.preset("plain", rank=2, reg=2.0),
    )
    names = [m["name"] for m in report["models"]]
    assert names == [
        "global mean",
        "movie mean",
        "tutorial dense CG",
        "popularity",
        "EASE (lambda 300)",
        "ours, ranked by predicted rating",
        "ours",
    ]
    by = {m["name"]: m for m in report["models"]}
    for m in report["models"]:
        if m["name"] in ("popularity", "EASE (lambda 300)"):
            assert m["rmse"] is None  # list-only references: null, printed "-"
        else:
            assert m["rmse_stars"] == pytest.approx(m["rmse"] / 2)
            assert m["mae_stars"] == pytest.approx(m["mae"] / 2)
        assert 0 <= m["precision_at_10"] <= 1 and 0 <= m["ndcg_at_10"] <= 1
    assert by["ours"]["rmse"] == by["ours, ranked by predicted rating"]["rmse"]
    assert {s["name"] for s in report["similar"]} >= {
        "ours (personal: ranked for the user)",
        "relation only (before; no ratings)",
        "EASE item weights (lambda 300)",
    }
    assert any(s["name"].startswith("ItemKNN") for s in report["similar"])
    assert any(s["name"].startswith("RP3beta") for s in report["similar"])
    assert all(s["mean_popularity"] >= 0 for s in report["similar"])
    assert [n["level"] for n in report["novelty"]] == [-1, 0, 1]
    assert "how adventurous" in format_report(report)
    assert report["onboarding"] == []  # no catalog given
    assert by["ours"]["rmse"] < min(by["movie mean"]["rmse"], by["global mean"]["rmse"])
    json.dumps(report)  # the CLI's --json prints it as is
    text = format_report(report)
    for name in names:
        assert name in text
    assert "RMSE*" in text and "P@10" in text


def test_evaluate_can_skip_the_dense_reference() -> None:
    train, test = small_split()
    report = evaluate(train, test, include_dense_reference=False)
    assert "tutorial dense CG" not in [m["name"] for m in report["models"]]


def test_evaluate_refuses_empty_data() -> None:
    train, _ = small_split()
    empty = Ratings(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    with pytest.raises(BadRatings):
        evaluate(train, empty)


def test_with_a_catalog_the_shown_lists_keep_the_franchise_rule_and_onboarding_is_simulated() -> (
    None
):
    train, test = small_split()
    movies = np.unique(np.concatenate([train.movie_ids, test.movie_ids]))
    # Every movie is a sequel of one of four franchises: at most 2 of each may be shown.
    catalog = {
        int(m): CatalogMovie(f"Saga {k % 4}: Part {k}", ("Drama",) if k % 2 else ("Comedy",), 2000)
        for k, m in enumerate(movies)
    }
    report = evaluate(train, test, include_dense_reference=False, catalog=catalog)
    by = {m["name"]: m for m in report["models"]}
    assert by["ours"]["max_franchise"] <= 2
    assert by["popularity"]["max_franchise"] > 2
    assert 0 <= by["ours"]["genre_diversity"] <= 1
    for s in report["similar"]:
        assert 0 <= s["genre_agreement"] <= s["genre_shared"] <= 1
    names = [o["name"] for o in report["onboarding"]]
    assert names == [
        "diverse cards, ranked by predicted rating (before)",
        "diverse cards",
        "most-rated cards",
        "adaptive cards",
    ]
    for o in report["onboarding"]:
        assert 0 <= o["ndcg_at_10"] <= 1 and 0 <= o["ratings_collected"] <= 10
    json.dumps(report)
    assert "cold start" in format_report(report)
