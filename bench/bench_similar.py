"""The cost /similar's relation adds to a fit (recommender/similar.py), on the synthetic sets.

    .venv/bin/python bench/bench_similar.py [--sizes 1M,25M]

Each size runs in its own subprocess: load the cached synthetic ratings (bench/out/, made by
bench/bench_recommender.py's generator), build the who-rated-what matrix, then time
``SimilarItems.fit`` alone and read the process's peak RSS before and after it (``ru_maxrss``),
and the stored neighbours' size. Prints one table row per size.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_recommender import data_path  # noqa: E402

from recommender.similar import SimilarItems  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(size: str) -> dict:
    with np.load(data_path(size)) as z:
        users, movies = z["users"], z["movies"]
    _, urow = np.unique(users, return_inverse=True)
    ids, mrow = np.unique(movies, return_inverse=True)
    del users, movies
    who = sp.csr_matrix(
        (np.ones(urow.size, dtype=np.float32), (urow, mrow)), shape=(urow.max() + 1, ids.size)
    )
    del urow, mrow
    like = np.full(ids.size, 0.5)
    before = peak_mb()
    t0 = time.perf_counter()
    sim = SimilarItems.fit(who, like, seed=0)
    seconds = time.perf_counter() - t0
    stored = sim.scores.data.nbytes + sim.scores.indices.nbytes + sim.scores.indptr.nbytes
    return {
        "size": size,
        "ratings": int(who.nnz),
        "movies": int(ids.size),
        "fit_s": seconds,
        "rss_before_mb": before,
        "rss_after_mb": peak_mb(),
        "stored_mb": stored / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1M,25M")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return
    print(
        f"{'size':>5} {'ratings':>9} {'movies':>7} {'fit s':>7} {'RSS before':>10} "
        f"{'RSS after':>9} {'stored MB':>9}"
    )
    for size in args.sizes.split(","):
        out = subprocess.run(
            [sys.executable, __file__, "--one", size], capture_output=True, text=True, check=True
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['size']:>5} {r['ratings']:>9} {r['movies']:>7} {r['fit_s']:>7.1f} "
            f"{r['rss_before_mb']:>10.0f} {r['rss_after_mb']:>9.0f} {r['stored_mb']:>9.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
