"""Choose the ranking stage's settings on a validation part of the training ratings (never test).

    python -m recommender.tune --ranking [--train PATH] [--movies PATH]

Holds a seeded 20% of the training ratings out (seed 1; the other 80% are fitted) and prints,
for each candidate, P@10 and NDCG@10 of the lists (every unrated movie ranked; relevant: 4+
stars among the held-out ratings), the /similar hit@10 of :mod:`recommender.topn`, the
overlap of the pooled lists with the exact ones, and the cold-start simulation of
:mod:`recommender.onboarding` for the three card orders (every 5th user left out of a fit,
answering from 80% of their own ratings, scored on the other 20%). The chosen values are the
defaults in :class:`recommender.config.ModelConfig`; recommender/README.md quotes the figures.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from recommender.config import ModelConfig
from recommender.diversity import franchise_keys
from recommender.model import Model
from recommender.movielens_files import CatalogMovie, load_movielens_catalog
from recommender.onboarding import (
    adaptive_next,
    diverse_popular,
    most_rated,
    simulate,
    static_order,
)
from recommender.ratings import Ratings
from recommender.topn import (
    SIMILAR_MIN_RATINGS,
    SIMILAR_SOURCES,
    TOP_K,
    precision_ndcg,
    similar_hit_rate,
)

HOLDOUT = 0.2
SEED = 1
REGS = (150.0, 250.0, 400.0)
BRAKES = ((7.0, 1.0), (8.0, 1.5), (8.0, 3.0))
POOLS = (50, 100, 200)


def split_ratings(
    r: Ratings, fraction: float = HOLDOUT, seed: int = SEED
) -> tuple[Ratings, Ratings]:
    """``(fit, validation)``: a seeded ``fraction`` of the rows held out."""
    held = np.random.default_rng(seed).random(len(r)) < fraction
    return r.subset(~held), r.subset(held)


class _Users:
    """Each validation user's fit history and relevant held-out movies."""

    def __init__(self, fit: Ratings, val: Ratings) -> None:
        self.histories: list[dict[int, float]] = []
        self.relevant: list[set[int]] = []
        for u in np.unique(val.user_ids):
            sel = val.user_ids == u
            rel = set(val.movie_ids[sel][val.values[sel] >= 8].tolist())
            if not rel:
                continue
            hsel = fit.user_ids == u
            self.histories.append(
                dict(zip(fit.movie_ids[hsel].tolist(), fit.values[hsel].tolist(), strict=True))
            )
            self.relevant.append(rel)


def list_scores(model: Model, users: _Users, pool: int | None = None) -> dict:
    """P@10 and NDCG@10 of ``model.recommend`` (``pool``: the ranking pool, default the
    config's)."""
    if pool is not None:
        model = model.serving(ranking_pool=pool)
    lists = [[m for m, _ in model.recommend(model.fold_in(h), TOP_K)] for h in users.histories]
    return precision_ndcg(lists, users.relevant)


def similar_score(model: Model, users: _Users, counts: Mapping[int, int]) -> float:
    """The /similar hit@10 of ``model.similar`` on the validation users."""
    sources = []
    for hist, rel in zip(users.histories, users.relevant, strict=True):
        rated = np.array(sorted(hist), dtype=np.int64)
        liked = [
            m for m in sorted(hist) if hist[m] >= 8 and counts.get(m, 0) >= SIMILAR_MIN_RATINGS
        ]
        sources += [(m, rated, rel) for m in liked[:SIMILAR_SOURCES]]
    return similar_hit_rate(
        sources, lambda m, rated: [x for x, _ in model.similar(m, TOP_K, exclude=rated.tolist())]
    )


def onboarding_scores(
    train: Ratings, cfg: ModelConfig, catalog: Mapping[int, CatalogMovie]
) -> dict[str, dict]:
    """The cold-start simulation for each card order (module docstring)."""
    users = np.unique(train.user_ids)
    held = users[::5]
    is_held = np.isin(train.user_ids, held)
    fit = train.subset(~is_held)
    model = Model.fit(fit, cfg, seed=0)
    rng = np.random.default_rng(SEED)
    truths = []
    for u in held:
        sel = np.flatnonzero(train.user_ids == u)
        target = rng.random(sel.size) < HOLDOUT
        known = dict(
            zip(
                train.movie_ids[sel[~target]].tolist(),
                train.values[sel[~target]].tolist(),
                strict=True,
            )
        )
        liked = train.values[sel[target]] >= 8
        truths.append((known, set(train.movie_ids[sel[target]][liked].tolist())))
    ids, cnt = np.unique(fit.movie_ids, return_counts=True)
    counts = dict(zip(ids.tolist(), cnt.tolist(), strict=True))
    pool = most_rated(counts)
    fr = franchise_keys({m: c.title for m, c in catalog.items()})
    diverse = diverse_popular(
        counts,
        {m: c.genres for m, c in catalog.items()},
        {m: c.year for m, c in catalog.items()},
        fr,
        3 * TOP_K,
    )
    return {
        "diverse": simulate(model, truths, static_order(diverse)),
        "most-rated": simulate(model, truths, static_order(pool)),
        "adaptive": simulate(model, truths, lambda r, p: adaptive_next(model, r, p, pool)),
    }


def main(train_path: Path, movies_path: Path | None) -> None:
    """Print every step's table (see the module docstring)."""
    from recommender.movielens_files import load_movielens_ratings

    train = load_movielens_ratings(train_path)
    fit, val = split_ratings(train)
    users = _Users(fit, val)
    ids, cnt = np.unique(fit.movie_ids, return_counts=True)
    counts = dict(zip(ids.tolist(), cnt.tolist(), strict=True))
    base = ModelConfig()
    print(f"fit {len(fit)} ratings, validation {len(val)}, {len(users.relevant)} users\n")
    print(
        f"{'ranking_reg':>11} {'like (c, s)':>12} {'P@10':>7} {'NDCG@10':>8} "
        f"{'sim hit':>8} {'fit s':>6}"
    )
    for reg in REGS:
        t0 = time.perf_counter()
        fitted = Model.fit(fit, replace(base, ranking_reg=reg), seed=0)
        fit_s = time.perf_counter() - t0
        for c, s in BRAKES:
            model = fitted.serving(like_threshold=c, like_scale=s)
            lists = list_scores(model, users)
            hit = similar_score(model, users, counts)
            print(
                f"{reg:>11g} {f'({c:g}, {s:g})':>12} {lists['precision_at_10']:>7.4f} "
                f"{lists['ndcg_at_10']:>8.4f} {hit:>8.4f} {fit_s:>6.1f}",
                flush=True,
            )
    model = Model.fit(fit, base, seed=0)
    exact = model.serving(ranking_pool=10**9)
    exact_lists = [
        [m for m, _ in exact.recommend(exact.fold_in(h), TOP_K)] for h in users.histories
    ]
    print(f"\n{'ranking_pool':>12} {'overlap with exact top 10':>26} {'recommend ms':>13}")
    for pool in POOLS:
        served = model.serving(ranking_pool=pool)
        profiles = [served.fold_in(h) for h in users.histories]
        t0 = time.perf_counter()
        lists = [[m for m, _ in served.recommend(p, TOP_K)] for p in profiles]
        ms = 1000 * (time.perf_counter() - t0) / max(1, len(profiles))
        overlap = np.mean(
            [len(set(a) & set(b)) / TOP_K for a, b in zip(lists, exact_lists, strict=True)]
        )
        print(f"{pool:>12} {overlap:>26.4f} {ms:>13.2f}", flush=True)
    if movies_path is not None and movies_path.is_file():
        print(f"\n{'onboarding cards':<16} {'ratings':>7} {'P@10':>7} {'NDCG@10':>8}")
        for name, row in onboarding_scores(
            train, base, load_movielens_catalog(movies_path)
        ).items():
            print(
                f"{name:<16} {row['ratings_collected']:>7.2f} {row['precision_at_10']:>7.4f} "
                f"{row['ndcg_at_10']:>8.4f}"
            )
