"""Does "seen it" (watched, no score) help the picks when the ranking stage reads it?

On the shared split (../shared/data/ml-latest-small/split-seed42): the default model fitted on
train.csv; for each test user, a share (--share, default 30 %) of their train history is turned
into "seen without a score" S, the rest R stays rated. Rows printed, P@10 and NDCG@10 over the
test movies rated >= 8 (the evaluate protocol: every unrated movie ranked):

- rated only: fold in R, leave S out of the picks (the bot before Model.seen);
- seen read by the ranking stage: the same, with S given to Model.seen;
- popularity: the most-rated train movies the user has neither rated nor seen.

    .venv/bin/python -m devtools.seen_signal            # seed 0
    .venv/bin/python -m devtools.seen_signal --seed 1
"""

from __future__ import annotations

import argparse

import numpy as np

from devtools.paths import shared_split
from recommender import Model
from recommender.movielens_files import load_movielens_ratings


def _scores(top: list[int], relevant: set[int]) -> tuple[float, float]:
    hits = [1.0 if m in relevant else 0.0 for m in top]
    dcg = sum(h / np.log2(k + 2) for k, h in enumerate(hits))
    ideal = sum(1 / np.log2(k + 2) for k in range(min(10, len(relevant))))
    return sum(hits) / 10, dcg / ideal


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="which train ratings become seen")
    parser.add_argument("--share", type=float, default=0.3, help="share turned into seen")
    args = parser.parse_args(argv)
    split = shared_split()
    if split is None:
        print("the shared MovieLens split is not present")
        return 1
    train = load_movielens_ratings(split / "train.csv")
    test = load_movielens_ratings(split / "test.csv")
    catalog = np.union1d(train.movie_ids, test.movie_ids)
    model = Model.fit(train, seed=0, movie_ids=catalog)
    rng = np.random.default_rng(args.seed)
    ids, counts = np.unique(train.movie_ids, return_counts=True)
    popular = ids[np.argsort(-counts, kind="stable")].tolist()
    rows: dict[str, list[tuple[float, float]]] = {"rated": [], "seen": [], "popular": []}
    for user in np.unique(test.user_ids):
        mine = (test.user_ids == user) & (test.values >= 8)
        relevant = set(test.movie_ids[mine].tolist())
        history = train.user_ids == user
        movies, values = train.movie_ids[history], train.values[history]
        if not relevant or movies.size < 5:
            continue
        is_seen = rng.random(movies.size) < args.share
        seen = [int(m) for m in movies[is_seen]]
        rated = {int(m): float(v) for m, v in zip(movies[~is_seen], values[~is_seen], strict=True)}
        profile = model.fold_in(rated)
        plain = [m for m, _ in model.recommend(profile, 10, exclude=seen)]
        with_seen = [m for m, _ in model.recommend(model.seen(profile, seen), 10, exclude=seen)]
        known = set(movies.tolist())
        rows["rated"].append(_scores(plain, relevant))
        rows["seen"].append(_scores(with_seen, relevant))
        rows["popular"].append(_scores([m for m in popular if m not in known][:10], relevant))
    labels = {
        "rated": "rated only (seen left out)",
        "seen": "seen read by the ranking stage",
        "popular": "popularity",
    }
    print(f"{'':<32} {'users':>6} {'P@10':>7} {'NDCG@10':>8}   (seed {args.seed})")
    for key, label in labels.items():
        figures = np.asarray(rows[key])
        p10, ndcg = figures[:, 0].mean(), figures[:, 1].mean()
        print(f"{label:<32} {len(figures):>6} {p10:>7.4f} {ndcg:>8.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
