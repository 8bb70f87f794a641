"""Compare the local and the Spark refit engines on synthetic ratings: fit time and RMSE.

    .venv/bin/python bench/bench_spark.py [--sizes 1M,10M] [--master local[2]]
                                          [--driver-memory 8g]

For each size (the data of bench_recommender.py, cached in bench/out/), a seeded 10% of the
ratings is held out; on the other 90% it fits, all at the same rank and iterations and without
the kNN part (the Spark engine serves none):

* ``local``: :meth:`Model.fit`, plain ``reg`` (the default config, kNN off);
* ``local wr``: :meth:`Model.fit` with the Spark model's own config (count-scaled ``reg``,
  ``reg_exponent = 1``): the same objective as Spark, solved here;
* ``spark``: :func:`fit_with_spark` (Spark local mode by default), with the start of the Spark
  session timed apart from the fit (a cold ``moviebot train --engine spark`` pays both).

RMSE (1-10 scale) is over every held-out rating, each user folded in from their 90% history.
Each size runs in its own subprocess; prints one table row per engine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_recommender import data_path  # noqa: E402

from devtools.heldout import held_out_rmse  # noqa: E402
from recommender import Model, ModelConfig, Ratings  # noqa: E402
from recommender.spark_engine import DEFAULT_SPARK_CONF, fit_with_spark  # noqa: E402

HELD_OUT = 0.1
SPLIT_SEED = 1
NO_KNN = ModelConfig(knn_neighbours=0, blend_knn=0.0, blend_mf=1.0)


def run_one(size: str, master: str, driver_memory: str) -> list[dict]:
    from pyspark.sql import SparkSession

    with np.load(data_path(size)) as z:
        ratings = Ratings(z["users"], z["movies"], z["values"])
    fit, test = ratings.split(HELD_OUT, SPLIT_SEED)
    catalog = np.unique(ratings.movie_ids)
    rows = []

    def record(engine: str, model: Model, seconds: float, start_s: float | None = None) -> None:
        rows.append(
            {
                "size": size,
                "engine": engine,
                "ratings": len(fit),
                "start_s": start_s,
                "fit_s": seconds,
                "reg": model.config.reg,
                "reg_exponent": model.config.reg_exponent,
                "rmse": held_out_rmse(model, fit, test),
            }
        )

    t0 = time.perf_counter()
    local = Model.fit(fit, NO_KNN, seed=0, movie_ids=catalog)
    record("local", local, time.perf_counter() - t0)

    t0 = time.perf_counter()
    builder = SparkSession.builder.master(master).config("spark.driver.memory", driver_memory)
    for key, value in DEFAULT_SPARK_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    start_s = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        model = fit_with_spark(fit, NO_KNN, movie_ids=catalog, seed=0, spark=spark)
        spark_s = time.perf_counter() - t0
    finally:
        spark.stop()

    t0 = time.perf_counter()
    same = Model.fit(fit, model.config, seed=0, movie_ids=catalog)
    record("local wr", same, time.perf_counter() - t0)
    record("spark", model, spark_s, start_s)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1M,10M", help="comma list of 1M, 10M, 25M")
    ap.add_argument("--master", default="local[2]", help="Spark master URL (default local[2])")
    ap.add_argument("--driver-memory", default="8g", help="spark.driver.memory (default 8g)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.master, args.driver_memory)))
        return
    print(
        f"{'size':>5} {'engine':>8} {'ratings':>9} {'start s':>7} {'fit s':>7} "
        f"{'reg':>7} {'exp':>3} {'RMSE':>7}"
    )
    for size in args.sizes.split(","):
        data_path(size)  # generate outside the measured child
        cmd = [sys.executable, __file__, "--child", size, "--master", args.master]
        cmd += ["--driver-memory", args.driver_memory]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        for r in json.loads(out.strip().splitlines()[-1]):
            start = f"{r['start_s']:7.1f}" if r["start_s"] is not None else f"{'-':>7}"
            print(
                f"{r['size']:>5} {r['engine']:>8} {r['ratings']:>9} {start} {r['fit_s']:7.1f} "
                f"{r['reg']:7.4g} {r['reg_exponent']:3g} {r['rmse']:7.4f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
