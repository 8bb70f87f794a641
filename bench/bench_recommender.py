"""Benchmark the recommender at 1M / 10M / 25M synthetic ratings.

    .venv/bin/python bench/bench_recommender.py [--sizes 1M,10M,25M] [--knn-max-movies N]

Each size runs in its own subprocess (so ``ru_maxrss`` is that size's peak RSS): generate (cached
in bench/out/), fit with the default configuration for the size (``default_config_for``: kNN off
above 5M ratings; ``--with-knn`` keeps it), then time fold-in of 200 users' full histories and
recommend(n=10) over the whole catalogue. Prints one table row per size.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recommender import Model, ModelConfig, Ratings  # noqa: E402
from recommender.config import default_config_for  # noqa: E402
from recommender.synthetic import synthetic_ratings  # noqa: E402

SIZES = {  # n_ratings, n_users, n_movies
    "1M": (1_000_000, 6_400, 15_000),
    "10M": (10_000_000, 64_000, 40_000),
    "25M": (25_000_000, 160_000, 60_000),
}
OUT = ROOT / "bench" / "out"


def data_path(size: str) -> Path:
    path = OUT / f"synthetic-{size}.npz"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        r = synthetic_ratings(*SIZES[size], seed=0)
        np.savez(path, users=r.user_ids, movies=r.movie_ids, values=r.values)
    return path


def run_one(size: str, knn_max_movies: int | None, no_knn: bool, with_knn: bool = False) -> dict:
    with np.load(data_path(size)) as z:
        ratings = Ratings(z["users"], z["movies"], z["values"])
    # The default for the data's size (kNN off above KNN_MAX_RATINGS) unless told otherwise.
    cfg = ModelConfig() if with_knn else default_config_for(len(ratings))
    if knn_max_movies is not None:
        cfg = replace(cfg, knn_max_movies=knn_max_movies)
    if no_knn:
        cfg = replace(cfg, knn_neighbours=0, blend_knn=0.0)
    t0 = time.perf_counter()
    model = Model.fit(ratings, cfg, seed=0)
    fit_s = time.perf_counter() - t0
    rss_fit = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # Histories of 200 users with 100-500 ratings ("a few hundred").
    order = np.argsort(ratings.user_ids, kind="stable")
    users, starts, counts = np.unique(
        ratings.user_ids[order], return_index=True, return_counts=True
    )
    pick = np.flatnonzero((counts >= 100) & (counts <= 500))[:200]
    hists = []
    for k in pick:
        sel = order[starts[k] : starts[k] + counts[k]]
        hists.append(
            dict(zip(ratings.movie_ids[sel].tolist(), ratings.values[sel].tolist(), strict=True))
        )
    fold, rec = [], []
    for h in hists:
        t = time.perf_counter()
        prof = model.fold_in(h)
        fold.append(time.perf_counter() - t)
        t = time.perf_counter()
        model.recommend(prof, n=10)
        rec.append(time.perf_counter() - t)
    return {
        "size": size,
        "ratings": len(ratings),
        "users": int(users.size),
        "movies": len(model.movie_ids),
        "fit_s": fit_s,
        "rss_mb": rss_fit,
        "hist_median": float(np.median([len(h) for h in hists])) if hists else 0.0,
        "fold_in_ms_p50": 1000 * float(np.median(fold)),
        "recommend_ms_p50": 1000 * float(np.median(rec)),
        "recommend_ms_p95": 1000 * float(np.percentile(rec, 95)),
        "knn_nnz": int(model._nbrs.nnz),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1M,10M,25M", help="comma list of 1M, 10M, 25M")
    ap.add_argument(
        "--knn-max-movies",
        type=int,
        default=None,
        help="limit the kNN part to the N most-rated movies",
    )
    ap.add_argument("--no-knn", action="store_true", help="fit without the kNN part")
    ap.add_argument(
        "--with-knn", action="store_true", help="keep the kNN part even above KNN_MAX_RATINGS"
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.knn_max_movies, args.no_knn, args.with_knn)))
        return
    print(
        f"{'size':>5} {'users':>7} {'movies':>6} {'fit s':>7} {'RSS MB':>7} {'hist':>5} "
        f"{'fold-in ms':>10} {'rec ms p50':>10} {'rec ms p95':>10} {'kNN nnz':>9}"
    )
    for size in args.sizes.split(","):
        data_path(size)  # generate outside the measured child
        cmd = [sys.executable, __file__, "--child", size]
        if args.knn_max_movies is not None:
            cmd += ["--knn-max-movies", str(args.knn_max_movies)]
        if args.no_knn:
            cmd.append("--no-knn")
        if args.with_knn:
            cmd.append("--with-knn")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"{r['size']:>5} {r['users']:>7} {r['movies']:>6} {r['fit_s']:>7.1f} "
            f"{r['rss_mb']:>7.0f} {r['hist_median']:>5.0f} {r['fold_in_ms_p50']:>10.2f} "
            f"{r['recommend_ms_p50']:>10.2f} {r['recommend_ms_p95']:>10.2f} "
            f"{r['knn_nnz']:>9}",
            flush=True,
        )


if __name__ == "__main__":
    main()
