"""The refit on Apache Spark, for when the ratings outgrow one machine: same model out.

    from recommender.spark_engine import fit_with_spark

    model = fit_with_spark(ratings, ModelConfig(), master="spark://head:7077",
                           workdir="hdfs:///tmp/moviebot")
    model.save("moviebot.model.npz")        # served exactly like a local fit (fold-in and all)

Needs the ``spark`` extra (``pip install 'moviebot[spark]'``: pyspark and pyarrow) and Java 17+.
What runs where (the driver holds every rating: ~100 bytes per rating at peak, 1 GB at 10M; Spark
distributes the factorisation, not the export):

1. Here, in numpy (linear passes): the biases, with the formulas of :class:`recommender.Model`,

       mu = mean r_ui,   b_i = sum_u (r_ui - mu) / (n_i + damping),
       b_u = sum_i (r_ui - mu - b_i) / (n_u + user_damping),   y_ui = r_ui - mu - b_i - b_u

   (Spark's ALS has no bias terms, so it factorises the residuals ``y_ui``). User ids (up to
   ~1e13 for Telegram, negative for imported users) and movie ids become dense int32 rows:
   Spark's ALS takes only ids within the int range.
2. ``(user row, movie row, y)`` is written as Parquet (pyarrow) under ``workdir``.
3. Spark: ``pyspark.ml.recommendation.ALS`` on the residuals, with a checkpoint directory under
   ``workdir`` (ALS's lineage grows every iteration; without checkpoints a long fit overflows
   the JVM stack).
4. Here again: Spark's ``itemFactors`` go into our movie order (movies Spark never saw keep zero
   factors, their prediction is the movie mean). User factors are not brought back: users are
   folded in from their history at request time, which is exactly the user half-step of ALS,
   so Spark's ``NaN`` for users it never saw (``coldStartStrategy``) cannot reach us.

The regularisation differs. Spark's ALS-WR penalises a row with ``n`` ratings by
``regParam * n`` (its normal equations add ``regParam * n * I``); our default is the plain
``reg`` for every row (``reg_exponent = 0``). The two are not equivalent, so the Spark fit uses

    regParam = reg * n_users / n_ratings

(the penalty of a user with the average number of ratings is unchanged) and the returned
model's config says what was actually fitted: ``reg = regParam, reg_exponent = 1``, so fold-in
penalises a user with ``n`` known ratings by ``regParam * n`` just as Spark did. A config that
already has ``reg_exponent = 1`` is passed through unchanged (``regParam = reg``). On the
ML-small validation split this conversion costs ~0.007 RMSE against the plain ``reg`` (best
``regParam`` by search: ~0.001); on the synthetic bench data it is better than the plain ``reg``
(see bench/README.md).

The kNN part and the implicit and asymmetric members are switched off (the "plain" preset's
blend weights, ``knn_neighbours = 0, implicit_rank = 0, asym_iterations = 0``): the item-item pass
is the part of the local fit that does not scale (recommender/README.md), and computing it on
one machine after a distributed fit would undo the point of Spark (the two members were
validated only inside the kNN blend). On ML-small that costs ~0.012 RMSE against the kNN blend
(0.836 -> ~0.848; more against the current default, 0.831).
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from recommender.biases import fit_biases
from recommender.config import BLEND_WEIGHTS, PRESETS, ModelConfig
from recommender.content import MovieContent, map_new_movies, with_content_ids
from recommender.errors import BadRatings, NumericalError, RecommenderError
from recommender.ids import IdIndex, catalog_index
from recommender.model import Model
from recommender.ranking import RankingStage
from recommender.ratings import Ratings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Spark's ALS checkpoints its factor RDDs every this many iterations (once a checkpoint
# directory is set), which cuts the lineage that otherwise overflows the JVM stack.
CHECKPOINT_INTERVAL = 5
# Spark's ALS takes user and item ids as Java ints.
MAX_SPARK_ID = 2**31 - 1
# Rows per Parquet file written for Spark (at least one file per core, so reading is parallel).
ROWS_PER_FILE = 2_000_000
# Session settings for a session this module starts; ``spark_conf`` overrides them.
DEFAULT_SPARK_CONF = {
    "spark.app.name": "moviebot-refit",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.log.level": "ERROR",
}


class SparkUnavailable(RecommenderError):
    """pyspark or pyarrow is not installed (the ``spark`` extra), or Spark could not start."""


@dataclass(frozen=True)
class Normalised:
    """The ratings after the biases, with dense ids: what Spark factorises.

    ``user_rows``/``movie_rows`` (int32) index the distinct users (sorted by id) and
    ``movies``; ``residuals`` is ``y_ui = r_ui - mu - b_i - b_u`` in the ratings' order.
    """

    movies: IdIndex
    mu: float
    item_bias: np.ndarray
    item_counts: np.ndarray
    user_bias: np.ndarray
    user_rows: np.ndarray
    movie_rows: np.ndarray
    residuals: np.ndarray

    @property
    def n_users(self) -> int:
        return int(self.user_bias.size)


def normalise(
    ratings: Ratings, config: ModelConfig, movie_ids: np.ndarray | None = None
) -> Normalised:
    """Biases and residuals exactly as :meth:`Model.fit` computes them (see the module doc);
    ``movie_ids`` adds catalogue movies nobody rated (zero bias, zero count). Raises
    :class:`BadRatings` on empty ratings, duplicate (user, movie) pairs or more users or movies
    than Spark's int ids hold."""
    if not isinstance(ratings, Ratings):
        raise BadRatings("ratings must be a recommender.Ratings")
    if len(ratings) == 0:
        raise BadRatings("cannot fit on zero ratings")
    movies = catalog_index(ratings.movie_ids, movie_ids)
    users, urows = np.unique(ratings.user_ids, return_inverse=True)
    if users.size > MAX_SPARK_ID or len(movies) > MAX_SPARK_ID:
        raise BadRatings("more users or movies than Spark's int ids can number")
    urows = urows.astype(np.int32)
    mrows = np.searchsorted(movies.ids, ratings.movie_ids).astype(np.int32)
    n_items = len(movies)
    keys = urows.astype(np.int64) * n_items + mrows
    n_distinct = np.unique(keys).size
    del keys
    if n_distinct != len(ratings):
        raise BadRatings(
            f"{len(ratings) - n_distinct} duplicate (user, movie) pairs; keep one rating per pair"
        )
    biases = fit_biases(ratings.values, mrows, urows, n_items, users.size, config)
    mu, item_counts, item_bias = biases.mu, biases.item_counts, biases.item_bias
    user_bias, y = biases.user_bias, biases.residuals
    return Normalised(
        movies=movies,
        mu=mu,
        item_bias=item_bias,
        item_counts=item_counts,
        user_bias=user_bias,
        user_rows=urows,
        movie_rows=mrows,
        residuals=y,
    )


def spark_reg_param(config: ModelConfig, n_users: int, n_ratings: int) -> float:
    """Spark's ``regParam`` for ``config`` (Spark penalises a row with ``n`` ratings by
    ``regParam * n``): ``reg`` itself when ``reg_exponent == 1``, else ``reg * n_users /
    n_ratings``, the plain penalty of a user with the average number of ratings."""
    if config.reg_exponent == 1:
        return float(config.reg)
    if config.reg_exponent != 0:
        raise RecommenderError(
            f"Spark's ALS scales the penalty by the rating count (reg_exponent 1); "
            f"reg_exponent {config.reg_exponent:g} has no Spark equivalent"
        )
    return float(config.reg) * n_users / n_ratings


def spark_config(config: ModelConfig, reg_param: float) -> ModelConfig:
    """The config of the model a Spark fit returns: what was actually fitted (count-scaled
    ``reg_param``, ALS) and served: the "plain" preset's blend (biases + factors at full
    weight; no kNN part, no implicit or asymmetric member)."""
    plain = PRESETS["plain"]
    return replace(
        config,
        solver="als",
        reg=reg_param,
        reg_exponent=1.0,
        knn_neighbours=0,
        implicit_rank=0,
        asym_iterations=0,
        **{name: getattr(plain, name) for name in BLEND_WEIGHTS},
    )


def fit_with_spark(
    ratings: Ratings,
    config: ModelConfig | None = None,
    *,
    master: str = "local[2]",
    movie_ids: np.ndarray | None = None,
    seed: int = 0,
    workdir: str | None = None,
    spark: SparkSession | None = None,
    spark_conf: Mapping[str, str] | None = None,
    content: MovieContent | None = None,
) -> Model:
    """Fit the model with Spark's ALS (module doc: what runs where, regularisation, no kNN).

    ``master``: the Spark master URL (``local[N]``, ``spark://host:7077``, ``yarn`` ...).
    ``workdir``: where the Parquet ratings and ALS checkpoints go, in a fresh subfolder that is
    removed afterwards; a local temp folder by default, which only a ``local`` master can read:
    with a cluster, pass a path every executor sees (``hdfs://...``, ``s3://...``, a shared
    mount). ``spark``: an already running session to use (``master`` and ``spark_conf`` are
    then ignored and the session is left running); otherwise one is started and stopped.
    ``spark_conf``: extra session settings, e.g. ``{"spark.driver.memory": "8g"}``.
    ``content``: the catalog's films with their content, as :meth:`Model.fit` takes it: the
    films nobody rated yet get what their content maps to (recommender/content.py; locally,
    after the factors came back).

    Raises :class:`BadRatings` (as :meth:`Model.fit`), :class:`SparkUnavailable` and
    :class:`NumericalError` (non-finite factors from Spark).
    """
    config = config or ModelConfig()
    norm = normalise(ratings, config, with_content_ids(movie_ids, content))
    reg_param = spark_reg_param(config, norm.n_users, len(ratings))
    served = spark_config(config, reg_param)
    n_items = len(norm.movies)
    if config.rank == 0:
        factors = np.zeros((n_items, 0))
    else:
        if spark is None and workdir is None and not master.startswith("local"):
            raise RecommenderError(
                f"master {master!r} is a cluster: pass a workdir every executor can read "
                "(hdfs://..., s3://... or a shared mount)"
            )
        factors = _spark_item_factors(
            norm, served, reg_param, seed, master, workdir, spark, spark_conf
        )
    # The ranking stage is the same local fit as Model.fit's (the co-occurrence matrix is
    # bounded by ranking_gram_budget), so a Spark-fitted model ranks exactly like a local one.
    who_rated = sp.csr_matrix(
        (np.ones(len(ratings), dtype=np.float32), (norm.user_rows, norm.movie_rows)),
        shape=(norm.n_users, n_items),
    )
    ranking = RankingStage.fit(who_rated, norm.item_counts, served.ranking, seed)
    model = Model(
        config=served,
        movies=norm.movies,
        mu=norm.mu,
        item_bias=norm.item_bias,
        item_counts=norm.item_counts,
        item_factors=factors,
        neighbours=sp.csr_matrix((n_items, n_items), dtype=np.float32),
        n_ratings_fit=len(ratings),
        ranking=ranking,
    )
    return model if content is None else map_new_movies(model, content)


# --------------------------------------------------------------------- the Spark side


def _import_spark() -> None:
    try:
        import pyarrow  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as e:
        raise SparkUnavailable(
            f"the Spark engine needs pyspark and pyarrow ({e}); "
            "install them with: pip install 'moviebot[spark]'"
        ) from e


@contextlib.contextmanager
def _session(
    master: str, spark: SparkSession | None, spark_conf: Mapping[str, str] | None
) -> Iterator[SparkSession]:
    """The given session (left running), or a new one that is stopped afterwards."""
    if spark is not None:
        yield spark
        return
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master)
    for key, value in {**DEFAULT_SPARK_CONF, **(spark_conf or {})}.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as e:  # a missing or too old Java surfaces here, as several error types
        raise SparkUnavailable(f"could not start Spark (master {master!r}): {e}") from e
    try:
        yield session
    finally:
        session.stop()


@contextlib.contextmanager
def _job_dir(workdir: str | None) -> Iterator[tuple[object, str, str]]:
    """A fresh folder under ``workdir`` (or a temp folder) as ``(pyarrow filesystem, path in
    it, URI for Spark)``; removed afterwards."""
    from pyarrow import fs as pafs

    name = f"moviebot-spark-{secrets.token_hex(6)}"
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="moviebot-spark-"))
        filesystem, base = pafs.FileSystem.from_uri(
            workdir if "://" in workdir else "file://" + str(_absolute(workdir))
        )
        path = f"{base.rstrip('/')}/{name}"
        uri = f"{workdir.rstrip('/')}/{name}" if "://" in workdir else path
        filesystem.create_dir(path)
        try:
            yield filesystem, path, uri
        finally:
            with contextlib.suppress(OSError):
                filesystem.delete_dir(path)


def _absolute(path: str) -> str:
    return str(Path(path).expanduser().resolve())


def _write_parquet(norm: Normalised, filesystem: object, path: str, n_files: int) -> None:
    """``(user, movie, residual)`` as ``n_files`` Parquet files (int32, int32, float32)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = norm.residuals.size
    bounds = np.linspace(0, n, n_files + 1).astype(np.int64)
    residuals = norm.residuals.astype(np.float32)
    for k in range(n_files):
        s, e = bounds[k], bounds[k + 1]
        table = pa.table(
            {
                "user": pa.array(norm.user_rows[s:e], type=pa.int32()),
                "movie": pa.array(norm.movie_rows[s:e], type=pa.int32()),
                "residual": pa.array(residuals[s:e], type=pa.float32()),
            }
        )
        pq.write_table(table, f"{path}/part-{k:05d}.parquet", filesystem=filesystem)


def _spark_item_factors(
    norm: Normalised,
    config: ModelConfig,
    reg_param: float,
    seed: int,
    master: str,
    workdir: str | None,
    spark: SparkSession | None,
    spark_conf: Mapping[str, str] | None,
) -> np.ndarray:
    """Run Spark's ALS on the residuals and return the movie factors in ``norm.movies`` order."""
    _import_spark()
    with _session(master, spark, spark_conf) as session, _job_dir(workdir) as (fs, path, uri):
        from pyspark.ml.recommendation import ALS

        sc = session.sparkContext
        parallelism = max(1, sc.defaultParallelism)
        n_files = max(parallelism, -(-norm.residuals.size // ROWS_PER_FILE))
        fs.create_dir(f"{path}/ratings")
        _write_parquet(norm, fs, f"{path}/ratings", n_files)
        sc.setCheckpointDir(f"{uri}/checkpoints")
        ratings_df = session.read.parquet(f"{uri}/ratings")
        als = ALS(
            rank=config.rank,
            maxIter=config.iterations,
            regParam=reg_param,
            implicitPrefs=False,
            nonnegative=False,
            userCol="user",
            itemCol="movie",
            ratingCol="residual",
            coldStartStrategy="drop",
            seed=seed,
            checkpointInterval=CHECKPOINT_INTERVAL,
            numUserBlocks=parallelism,
            numItemBlocks=parallelism,
        )
        fitted = als.fit(ratings_df)
        rows = fitted.itemFactors.select("id", "features").collect()
    factors = np.zeros((len(norm.movies), config.rank))
    if rows:
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        factors[ids] = np.array([row[1] for row in rows], dtype=np.float64)
    if not np.all(np.isfinite(factors)):
        raise NumericalError("Spark returned movie factors with NaN or inf")
    return factors
