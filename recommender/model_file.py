"""The model file: one ``.npz`` without pickles, checked member by member on load.

    format_version                      int64, :data:`FORMAT_VERSION`
    config_json                         the :class:`~recommender.ModelConfig` as JSON
    meta_json                           {"n_ratings_fit": ..., "mu": ...}
    movie_ids, item_bias, item_counts   the movies (sorted external ids) and the biases
    item_factors                        q_i (movies x rank)
    nbr_indptr, nbr_indices, nbr_data   the kNN neighbours s_ij (CSR, movies x movies)
    implicit_factors, asym_factors      z_i and the asymmetric member's y_j
    ranking_rows, ranking_weights       the ranking stage's item weights (recommender/ranking.py)

Written to a temp file and renamed, so a crash never leaves half a model. On load every member
is read in full (so zipfile verifies each CRC), the format version must be this code's, the
neighbours must be a valid CSR matrix, and the model's constructor checks the shapes and that
the factors are finite: anything wrong is a :class:`ModelFileError`, never a wrong model.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import scipy.sparse as sp

from recommender.config import ModelConfig
from recommender.errors import ModelFileError, RecommenderError
from recommender.ids import IdIndex
from recommender.ranking import RankingStage

FORMAT_VERSION = 4

M = TypeVar("M")


def write(
    path: str | os.PathLike[str],
    *,
    config: ModelConfig,
    movies: IdIndex,
    mu: float,
    item_bias: np.ndarray,
    item_counts: np.ndarray,
    item_factors: np.ndarray,
    neighbours: sp.csr_matrix,
    n_ratings_fit: int,
    implicit_factors: np.ndarray,
    asym_factors: np.ndarray,
    ranking: RankingStage,
) -> None:
    """Write a model's fitted state (the keyword arguments of its constructor) to ``path``."""
    path = Path(path)
    arrays = {
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "config_json": np.array(config.to_json()),
        "meta_json": np.array(json.dumps({"n_ratings_fit": n_ratings_fit, "mu": mu})),
        "movie_ids": movies.ids,
        "item_bias": item_bias,
        "item_counts": item_counts,
        "item_factors": item_factors,
        "nbr_indptr": neighbours.indptr.astype(np.int64),
        "nbr_indices": neighbours.indices.astype(np.int32),
        "nbr_data": neighbours.data.astype(np.float32),
        "implicit_factors": implicit_factors,
        "asym_factors": asym_factors,
        "ranking_rows": ranking.rows,
        "ranking_weights": ranking.weights,
    }
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(path: str | os.PathLike[str], build: Callable[..., M]) -> M:
    """Read a file written by :func:`write` and return ``build(**state)``, the same keyword
    arguments :func:`write` took (``build`` is the model class). A missing, truncated or corrupt
    file, another format version, or a state ``build`` refuses, raises :class:`ModelFileError`."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise ModelFileError(f"cannot read model file {path}: {e}") from e
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            # Reading every member fully makes zipfile verify each CRC.
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise ModelFileError(f"model file {path} is corrupt or truncated: {e}") from e
    if "format_version" not in data:
        raise ModelFileError(f"model file {path} has no format_version")
    version = int(data["format_version"])
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"model file {path} has format version {version}; this code reads version "
            f"{FORMAT_VERSION}: refit the model"
        )
    try:
        config = ModelConfig.from_json(str(data["config_json"]))
        meta = json.loads(str(data["meta_json"]))
        movies = IdIndex(data["movie_ids"])
        n = len(movies)
        nbrs = sp.csr_matrix(
            (data["nbr_data"], data["nbr_indices"], data["nbr_indptr"]), shape=(n, n)
        )
        nbrs.check_format(full_check=True)
        return build(
            config=config,
            movies=movies,
            mu=float(meta["mu"]),
            item_bias=np.asarray(data["item_bias"], dtype=np.float64),
            item_counts=np.asarray(data["item_counts"], dtype=np.int64),
            item_factors=np.asarray(data["item_factors"], dtype=np.float64),
            neighbours=nbrs,
            n_ratings_fit=int(meta["n_ratings_fit"]),
            implicit_factors=np.asarray(data["implicit_factors"], dtype=np.float64),
            asym_factors=np.asarray(data["asym_factors"], dtype=np.float64),
            ranking=RankingStage(
                n,
                np.asarray(data["ranking_rows"], dtype=np.int64),
                np.asarray(data["ranking_weights"], dtype=np.float32),
            ),
        )
    except (RecommenderError, ValueError, KeyError, TypeError) as e:
        raise ModelFileError(f"model file {path} is inconsistent: {e}") from e
