"""Benchmark films nobody rated yet (recommender/content.py) at the catalog's new size.

    .venv/bin/python bench/bench_new_movies.py [--size 1M] [--new 45000]

The synthetic ratings of bench_recommender.py (default the 1M set: 6,400 users, 15,000 rated
films) plus ``--new`` films nobody rated (ids from 1,000,000,000, as IMDb's new films get),
so the catalog is ~60,000 films. Every film gets synthetic content: 1-3 of 20 genres, a year,
a runtime, one of 3,000 directors, an IMDb-like rating and a vote count that follows its
popularity. Fits the model twice, side by side in one process: on the same catalog without
content (today's model: new films get zeros) and with it; then times recommend(n=10) for 200
users with 100-500 ratings over the whole catalog and with a filter only new films pass (what
``/recommend 5 2025`` asks). Prints one row per model.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_recommender import data_path  # noqa: E402

from recommender import Model, Ratings  # noqa: E402
from recommender.config import default_config_for  # noqa: E402
from recommender.content import MovieContent  # noqa: E402

NEW_IDS_FROM = 1_000_000_000
GENRES = [f"genre{k}" for k in range(20)]


def synthetic_content(rated: np.ndarray, counts: np.ndarray, n_new: int, seed: int = 0):
    """Content for the rated films (votes ~ 50 x their ratings here) and ``n_new`` new ones."""
    rng = np.random.default_rng(seed)
    ids = np.concatenate([rated, NEW_IDS_FROM + np.arange(n_new)])
    n = ids.size
    votes = np.concatenate([counts * 50.0, rng.lognormal(6.0, 2.0, n_new).round()])
    genres = [tuple(rng.choice(GENRES, size=rng.integers(1, 4), replace=False)) for _ in range(n)]
    return MovieContent.build(
        ids.tolist(),
        genres,
        rng.integers(1950, 2026, n).tolist(),
        runtime=rng.integers(70, 180, n).tolist(),
        directors=[(f"nm{d}",) for d in rng.integers(0, 3000, n)],
        prior_rating=np.clip(rng.normal(6.5, 1.0, n), 1, 10).round(1).tolist(),
        prior_votes=votes.tolist(),
    )


def time_recommend(model: Model, hists: list[dict], candidates: np.ndarray | None) -> np.ndarray:
    out = []
    for h in hists:
        profile = model.fold_in(h)
        t = time.perf_counter()
        model.recommend(profile, n=10, candidates=candidates)
        out.append(time.perf_counter() - t)
    return 1000 * np.array(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="1M", help="the synthetic ratings set: 1M, 10M or 25M")
    ap.add_argument("--new", type=int, default=45_000, help="films nobody rated")
    args = ap.parse_args()
    with np.load(data_path(args.size)) as z:
        ratings = Ratings(z["users"], z["movies"], z["values"])
    rated, counts = np.unique(ratings.movie_ids, return_counts=True)
    content = synthetic_content(rated, counts, args.new)
    catalog = np.asarray(content.movie_ids)
    new_ids = catalog[catalog >= NEW_IDS_FROM]
    cfg = default_config_for(len(ratings))
    order = np.argsort(ratings.user_ids, kind="stable")
    _, starts, lens = np.unique(ratings.user_ids[order], return_index=True, return_counts=True)
    hists = []
    for k in np.flatnonzero((lens >= 100) & (lens <= 500))[:200]:
        sel = order[starts[k] : starts[k] + lens[k]]
        ids, values = ratings.movie_ids[sel].tolist(), ratings.values[sel].tolist()
        hists.append(dict(zip(ids, values, strict=True)))
    print(
        f"{args.size} ratings, {rated.size} rated films + {new_ids.size} new = {catalog.size}; "
        f"{len(hists)} users"
    )
    print(
        f"{'model':<16} {'fit s':>7} {'rec ms p50':>10} {'rec ms p95':>10} "
        f"{'new-only p50':>12} {'new-only p95':>12}"
    )
    for name, kwargs in (
        ("without content", {"movie_ids": catalog}),
        ("with content", {"content": content}),
    ):
        t0 = time.perf_counter()
        model = Model.fit(ratings, cfg, seed=0, **kwargs)
        fit_s = time.perf_counter() - t0
        every = time_recommend(model, hists, None)
        only_new = time_recommend(model, hists, new_ids)
        print(
            f"{name:<16} {fit_s:>7.1f} {np.median(every):>10.2f} "
            f"{np.percentile(every, 95):>10.2f} {np.median(only_new):>12.2f} "
            f"{np.percentile(only_new, 95):>12.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
