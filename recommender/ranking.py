"""The ranking stage: which movies a user would choose to watch, learned for top-N lists.

An accurate rating is not a good list: ranked by predicted rating, the top 10 is no better than
"the most-rated movies you have not rated". Lists are ranked by a model of *who watches what*
(EASE, Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"), braked by the rating
model so that a movie the user would watch but dislike is not pushed:

    watch(u, i) = sum_{j in J(u)} B_ji                        (J(u): the movies u rated)
    B = argmin |X - X B|^2 + reg |B|^2  subject to diag(B) = 0
      = I - P diag(1 / diag(P)),  P = (X^T X + reg I)^-1        (X: users x movies, 0/1)
    rank(u, i) = (max(watch(u, i), 0) + prior_i) * like(u, i)
    like(u, i) = sigmoid((r_hat(u, i) - like_threshold) / like_scale)

``like`` is the rating model's chance that the user rates the movie at least ``like_threshold``
(8 = 4 stars, what the evaluation counts as relevant); ``prior_i`` is a tiny popularity term
(``PRIOR * n_i / n_max``) so a user with no ratings gets popular movies they would like, and
ties among unrelated movies go to the better known. Only the ``max_movies`` most-rated movies
with at least ``min_ratings`` ratings get weights (a dense K x K matrix; K is bounded, so memory
and the K^3 solve are too); the rest rank by the prior alone. Above ``gram_budget`` multiply-adds
the co-occurrence matrix ``X^T X`` is estimated from a seeded random sample of users (scaled
back up), which keeps the fit bounded on large data sets.

Every setting was chosen on a validation part of the training ratings (``python -m
recommender.tune --ranking``); the figures are in recommender/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from recommender.errors import NumericalError

# Weight of the popularity prior: far below any real watch score, so it only orders movies the
# user's history says nothing about (and a new user's list).
PRIOR = 1e-3
_CHUNK_USERS = 4096
# Rows of P mirrored and scaled at once (a few MB of index and float temporaries).
_MIRROR_BYTES = 8 * 2**20
# Columns of the co-occurrence matrix summed at once (the float32 product of one user chunk).
_BAND_BYTES = 16 * 2**20


@dataclass(frozen=True)
class RankingSettings:
    """The ranking stage's hyperparameters (see the module docstring)."""

    reg: float
    max_movies: int
    min_ratings: int
    gram_budget: int
    like_threshold: float
    like_scale: float


def like_probability(predicted: np.ndarray | float, threshold: float, scale: float) -> np.ndarray:
    """``sigmoid((r_hat - threshold) / scale)``: how likely a predicted rating is a liked one."""
    z = (np.asarray(predicted, dtype=np.float64) - threshold) / scale
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def ranked_rows(item_counts: np.ndarray, max_movies: int, min_ratings: int) -> np.ndarray:
    """The model rows that get item weights: the ``max_movies`` most-rated movies with at least
    ``min_ratings`` ratings (ties by row), sorted by row."""
    eligible = np.flatnonzero(item_counts >= max(min_ratings, 1))
    if eligible.size > max_movies:
        order = np.lexsort((eligible, -item_counts[eligible]))
        eligible = eligible[order[:max_movies]]
    return np.sort(eligible).astype(np.int64)


def cooccurrence(user_csr: sp.csr_matrix, rows: np.ndarray, budget: int, seed: int) -> np.ndarray:
    """``X^T X`` over the movie ``rows`` (float64, K x K), ``X`` the 0/1 who-rated-what matrix.

    Computed as sparse x dense products over chunks of users (``nnz * K`` multiply-adds). When
    that exceeds ``budget``, a seeded random fraction ``f`` of the users is used and the sum is
    divided by ``f`` (an unbiased estimate; the heavy co-occurrences of popular movies, which
    dominate the weights, are estimated well from a sample)."""
    k = rows.size
    sub = user_csr[:, rows].tocsr()
    sub.data = np.ones_like(sub.data, dtype=np.float32)
    n_users = sub.shape[0]
    users = np.arange(n_users)
    scale = 1.0
    if sub.nnz * k > budget:
        frac = budget / (sub.nnz * k)
        rng = np.random.default_rng(seed)
        users = np.sort(rng.choice(n_users, size=max(1, int(n_users * frac)), replace=False))
        scale = n_users / users.size
    gram = np.zeros((k, k), dtype=np.float64)
    # A band of columns at a time: the float32 products stay a few MB, never a second K x K.
    width = max(1, _BAND_BYTES // (4 * max(k, 1)))
    for start in range(0, users.size, _CHUNK_USERS):
        block = sub[users[start : start + _CHUNK_USERS]]
        if block.nnz == 0:
            continue
        block_t = block.T.tocsr()
        block_c = block.tocsc()
        for c0 in range(0, k, width):
            # Counts of 0/1 products are exact in float32 (below 2^24 per chunk); the in-place
            # add casts them to the float64 sum as it goes.
            gram[:, c0 : c0 + width] += block_t @ block_c[:, c0 : c0 + width].toarray()
    if scale != 1.0:
        gram *= scale
    return gram


def ease_weights(gram: np.ndarray, reg: float, *, overwrite: bool = False) -> np.ndarray:
    """EASE's closed form ``B = -P / diag(P)`` with ``diag(B) = 0``, ``P = (G + reg I)^-1``
    (float32, K x K; ``B[j, i]``: how much having watched ``j`` points at ``i``).

    ``P`` comes from the Cholesky factor (LAPACK ``potrf``, then ``potri``): half the work of a
    general inverse, the same weights. With ``overwrite`` the (float64, C-ordered) ``gram`` is
    the work space and holds the result, so no other K x K array is made."""
    k = gram.shape[0]
    if k == 0:
        return np.zeros((0, 0), dtype=np.float32)
    g = gram if overwrite and gram.dtype == np.float64 and gram.flags.c_contiguous else None
    g = np.array(gram, dtype=np.float64, order="C") if g is None else g
    g[np.diag_indices(k)] += reg
    # g is symmetric, so its transpose is the same matrix in Fortran order: LAPACK works on
    # it in place. The factor and the inverse fill the upper triangle of g.T (g's lower one).
    gt = g.T
    factor, info = lapack.dpotrf(gt, lower=False, overwrite_a=True, clean=False)
    if info == 0:
        inverse, info = lapack.dpotri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise NumericalError(
            f"ranking stage: the co-occurrence system is not positive definite (LAPACK {info})"
        )
    # g's lower triangle holds P; mirror it into the upper one, a block of rows at a time.
    p = inverse.T
    if not np.shares_memory(p, g):
        p = np.ascontiguousarray(p)
    step = max(1, _MIRROR_BYTES // (8 * k))
    for start in range(0, k, step):
        stop = min(start + step, k)
        upper = np.triu_indices(stop - start, 1, k - start)
        block = p[start:stop, start:]
        block[upper] = p[start:, start:stop].T[upper]
    diag = np.diag(p).copy()
    # The float32 weights are written over the first half of g's bytes: rows start..stop land
    # on P's rows start/2..stop/2, already read. No second K x K array; the result is a view
    # that keeps g's buffer (a saved and loaded model holds the float32 array only).
    out = g.reshape(-1).view(np.float32)[: k * k].reshape(k, k)
    for start in range(0, k, step):
        stop = min(start + step, k)
        out[start:stop] = p[start:stop] / -diag[None, :]
    out[np.diag_indices(k)] = 0.0
    if not np.all(np.isfinite(out)):
        raise NumericalError("ranking stage: item weights contain NaN or inf")
    return out


class RankingStage:
    """EASE item weights over a bounded set of movies, indexed by model rows."""

    def __init__(self, n_movies: int, rows: np.ndarray, weights: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        if weights.shape != (rows.size, rows.size):
            raise NumericalError("ranking weights do not match their movies")
        if rows.size and (rows.min() < 0 or rows.max() >= n_movies or np.any(np.diff(rows) <= 0)):
            raise NumericalError("ranking rows must be sorted, distinct model rows")
        if not np.all(np.isfinite(weights)):
            raise NumericalError("ranking weights contain NaN or inf")
        self.n_movies = n_movies
        self.rows = rows
        self.weights = np.ascontiguousarray(weights, dtype=np.float32)
        # position[row] = index into ``rows`` (-1: the movie has no weights).
        self.position = np.full(n_movies, -1, dtype=np.int64)
        self.position[rows] = np.arange(rows.size)

    @classmethod
    def fit(
        cls,
        user_csr: sp.csr_matrix,
        item_counts: np.ndarray,
        settings: RankingSettings,
        seed: int = 0,
    ) -> RankingStage:
        """Fit on the users x movies rating matrix (only which entries exist is used)."""
        n = user_csr.shape[1]
        if settings.max_movies == 0:
            return cls.empty(n)
        rows = ranked_rows(item_counts, settings.max_movies, settings.min_ratings)
        gram = cooccurrence(user_csr, rows, settings.gram_budget, seed)
        return cls(n, rows, ease_weights(gram, settings.reg, overwrite=True))

    @classmethod
    def empty(cls, n_movies: int) -> RankingStage:
        """No item weights (every movie ranks by the prior and the brake only)."""
        return cls(n_movies, np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32))

    @property
    def size(self) -> int:
        return int(self.rows.size)

    def watch_scores(self, rated_rows: np.ndarray) -> np.ndarray:
        """``watch(u, i)`` for every model row (0 for movies without weights)."""
        out = np.zeros(self.n_movies)
        k = self.position[rated_rows]
        k = k[k >= 0]
        if k.size:
            out[self.rows] = self.weights[k].sum(axis=0, dtype=np.float64)
        return out

    def contributions(self, rated_rows: np.ndarray, target_rows: np.ndarray) -> np.ndarray:
        """``B_ji`` for each target ``i`` (rows) and rated movie ``j`` (columns): the share of
        ``watch(u, i)`` each rated movie brings (0 where either has no weights)."""
        out = np.zeros((target_rows.size, rated_rows.size))
        kj = self.position[rated_rows]
        ki = self.position[target_rows]
        okj, oki = np.flatnonzero(kj >= 0), np.flatnonzero(ki >= 0)
        if okj.size and oki.size:
            out[np.ix_(oki, okj)] = self.weights[np.ix_(kj[okj], ki[oki])].T
        return out

    def neighbour_weights(self, row: int) -> np.ndarray:
        """``B_{row, i}`` for every model row ``i`` (zeros when ``row`` has no weights)."""
        out = np.zeros(self.n_movies)
        k = self.position[row]
        if k >= 0:
            out[self.rows] = self.weights[k]
        return out
