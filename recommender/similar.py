"""/similar's match figure, and a candidate relation for it measured against the one served.

/similar's relation is the ranking stage's EASE weights (``Model.similar``: the list for a person
with no ratings; for anyone else its 200 nearest are ordered for them,
recommender/similar_personal.py); its figure is the *match* (:class:`MatchScale`): the share of
all movies' top-10 link scores below this one, so it falls with the order and reads the same
for every movie.

The candidate (issue 25), measured in `moviebot evaluate` and ``python -m
recommender.tune_similar`` but not served (docs/history/similar-round1.md: on the test split it
listed more popular neighbours than the served relation, and lost Toy Story 2 from Toy Story's
top 3), is, for each movie, the movies its audience is specifically drawn to.

On the 0/1 who-rated-what matrix, with ``n_i`` the movie's raters, ``c_ij`` the users who rated
both and ``like_j`` the brake of the ranking stage at ``j``'s damped mean (the chance that it is
a liked movie, recommender/ranking.py):

    score(i -> j) = c_ij / (sqrt(n_i n_j) + shrink)  *  (n_j / n_max) ** -pop_exponent
                    *  like_j ** like_exponent

The first factor is ItemKNN's cosine with shrinkage (the shrinkage keeps two thin movies that
share three raters from looking alike); ``(n_j / n_max) ** -pop_exponent`` is the popularity
correction: the cosine already divides by ``sqrt(n_j)``, so a blockbuster that everybody
rated co-occurs with everything and still tops most lists; the extra power asks for an
association beyond what its popularity explains (``pop_exponent`` 0.5 would rank by lift,
``c_ij / (n_i n_j)``); ``like_j`` prefers the neighbours people end up liking.

Only the top ``neighbours`` of each movie with at least ``min_ratings`` ratings are kept, as a
sparse movies x movies matrix (never dense), among the ``max_candidates`` most-rated movies. The
pass costs ``sum_u n_u^2``; above ``pair_budget`` each user takes part with a seeded random
sample of their ratings (the cap that keeps the sum in budget), as in recommender/neighbours.py.

The settings were chosen on validation (``python -m recommender.tune_similar``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.errors import NumericalError

# Dense block per step (block rows x candidates, float32), and the threads computing blocks:
# the sparse products and argpartition release the GIL (as in recommender/neighbours.py).
_BLOCK_BYTES = 24 * 2**20
_THREADS = max(1, min(2, os.cpu_count() or 1))
# The match figure is read off the distribution of every movie's top-10 link scores.
MATCH_TOP = 10
_MATCH_POINTS = 101


@dataclass(frozen=True)
class SimilarSettings:
    """The relation's hyperparameters (see the module docstring)."""

    shrink: float = 50.0
    pop_exponent: float = 0.2
    like_exponent: float = 0.5
    neighbours: int = 50
    min_ratings: int = 5
    max_candidates: int = 20_000
    pair_budget: int = 1_000_000_000


def _cap_users(x: sp.csr_matrix, pair_budget: int, seed: int) -> sp.csr_matrix:
    """``x`` (users x movies, 0/1) with every user above the largest cap ``c`` that keeps
    ``sum_u min(n_u, c)^2 <= pair_budget`` cut to a seeded random ``c`` of their movies."""
    counts = np.diff(x.indptr).astype(np.float64)
    if float(counts @ counts) <= pair_budget:
        return x
    lo, hi = 1, int(counts.max())
    while lo < hi:
        mid = (lo + hi + 1) // 2
        capped = np.minimum(counts, mid)
        lo, hi = (mid, hi) if float(capped @ capped) <= pair_budget else (lo, mid - 1)
    users = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
    order = np.lexsort((np.random.default_rng(seed).random(x.nnz), users))
    pos = np.arange(x.nnz) - np.repeat(x.indptr[:-1], np.diff(x.indptr))
    keep = np.sort(order[pos < lo])
    return sp.csr_matrix(
        (x.data[keep], (users[keep], x.indices[keep])), shape=x.shape, dtype=np.float32
    )


def similar_scores(
    who_rated: sp.csr_matrix, like: np.ndarray, settings: SimilarSettings, seed: int = 0
) -> sp.csr_matrix:
    """The top-``settings.neighbours`` scores of every movie (a movies x movies CSR matrix,
    float32, positive entries only); ``who_rated`` is users x movies (only which entries exist
    is used), ``like`` the brake per movie."""
    n_movies = who_rated.shape[1]
    x = who_rated.tocsr().astype(np.float32)
    x.data[:] = 1.0
    x = _cap_users(x, settings.pair_budget, seed)
    counts = np.asarray(x.sum(axis=0)).ravel()
    active = np.flatnonzero(counts >= max(settings.min_ratings, 1))
    k = min(settings.neighbours, active.size - 1)
    if k <= 0:
        return sp.csr_matrix((n_movies, n_movies), dtype=np.float32)
    cand = active
    if active.size > settings.max_candidates:
        top = np.lexsort((active, -counts[active]))[: settings.max_candidates]
        cand = np.sort(active[top])
    # cand_pos[row] = the column of a movie among the candidates (-1: not one).
    cand_pos = np.full(n_movies, -1)
    cand_pos[cand] = np.arange(cand.size)
    root = np.sqrt(counts)
    root_cand = root[cand].astype(np.float32)
    col_weight = (counts[cand] / counts.max()) ** -settings.pop_exponent
    col_weight *= np.asarray(like, dtype=np.float64)[cand] ** settings.like_exponent
    col_weight = col_weight.astype(np.float32)
    rows_x = x.T.tocsr()[active]
    cols_x = x[:, cand].tocsc()
    block = max(1, _BLOCK_BYTES // (4 * cand.size * 2))

    def top_of_block(start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``k`` best-scored neighbours of ``active[start : start + block]``."""
        rows = active[start : start + block]
        score = (rows_x[start : start + block] @ cols_x).toarray()
        denom = np.outer(root[rows].astype(np.float32), root_cand)
        denom += np.float32(settings.shrink)
        score /= denom
        score *= col_weight
        own = cand_pos[rows]
        mine = np.flatnonzero(own >= 0)
        score[mine, own[mine]] = 0.0
        kk = min(k, cand.size)
        top = np.argpartition(-score, kk - 1, axis=1)[:, :kk]
        val = np.take_along_axis(score, top, axis=1)
        keep = val > 0
        r = np.repeat(rows, kk).reshape(-1, kk)
        return r[keep], cand[top[keep]], val[keep]

    with ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="similar") as pool:
        parts = list(pool.map(top_of_block, range(0, active.size, block)))
    out = sp.csr_matrix(
        (
            np.concatenate([p[2] for p in parts]),
            (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])),
        ),
        shape=(n_movies, n_movies),
        dtype=np.float32,
    )
    out.sort_indices()
    if not np.all(np.isfinite(out.data)):
        raise NumericalError("similar: scores contain NaN or inf")
    return out


def match_points(scores: sp.csr_matrix) -> np.ndarray:
    """The 0th..100th percentiles of every movie's top-:data:`MATCH_TOP` scores (the scale of
    :meth:`SimilarItems.match`; zeros when there are none)."""
    best = []
    for r in range(scores.shape[0]):
        row = scores.data[scores.indptr[r] : scores.indptr[r + 1]]
        if row.size > MATCH_TOP:
            row = np.partition(row, row.size - MATCH_TOP)[-MATCH_TOP:]
        best.append(row)
    values = np.concatenate(best) if best else np.zeros(0)
    if values.size == 0:
        return np.zeros(_MATCH_POINTS)
    return np.quantile(values.astype(np.float64), np.linspace(0.0, 1.0, _MATCH_POINTS))


def relation_scores(
    neighbour_weights: np.ndarray,
    like: np.ndarray,
    counts: np.ndarray,
    row: int,
    min_ratings: int,
) -> np.ndarray:
    """The served relation from movie ``row`` to every movie (``Model.similar``):
    ``max(B_ij, 0) * like_j`` from the ranking stage's weights of ``row`` and the brake at each
    movie's damped mean; 0 for the movie itself and for movies with fewer than ``min_ratings``
    fitted ratings (thin movies get no confident neighbours)."""
    score = np.maximum(neighbour_weights, 0.0) * like
    score[counts < min_ratings] = 0.0
    score[row] = 0.0
    return score


class MatchScale:
    """The match figure of a relation: ``match(score)`` is the share of all movies' top-10
    link scores below ``score`` (0-1, non-decreasing in the score)."""

    def __init__(self, points: np.ndarray) -> None:
        points = np.asarray(points, dtype=np.float64)
        if points.shape != (_MATCH_POINTS,) or np.any(np.diff(points) < 0):
            raise NumericalError("match points must be 101 sorted numbers")
        self.points = points

    @classmethod
    def of_weights(cls, weights: np.ndarray, like: np.ndarray) -> MatchScale:
        """The scale of ``max(W_ij, 0) * like_j`` over a dense K x K weight matrix (the ranking
        stage's EASE weights and the brake at their movies), in row blocks."""
        best = []
        like32 = np.asarray(like, dtype=np.float32)[None, :]
        for start in range(0, weights.shape[0], 512):
            block = np.maximum(weights[start : start + 512], np.float32(0.0))
            block *= like32
            top = min(MATCH_TOP, block.shape[1])
            best.append(np.partition(block, block.shape[1] - top, axis=1)[:, -top:].ravel())
        values = np.concatenate(best) if best else np.zeros(0)
        values = values[values > 0].astype(np.float64)
        if values.size == 0:
            return cls(np.zeros(_MATCH_POINTS))
        return cls(np.quantile(values, np.linspace(0.0, 1.0, _MATCH_POINTS)))

    def match(self, scores: np.ndarray) -> np.ndarray:
        """The match of each score (see the class docstring)."""
        grid = np.linspace(0.0, 1.0, _MATCH_POINTS)
        pts = self.points
        # Equal points (many tied scores) would make interp jump; the last of each run counts.
        last = np.r_[pts[1:] != pts[:-1], True]
        return np.interp(np.asarray(scores, dtype=np.float64), pts[last], grid[last])


class SimilarItems:
    """Each movie's stored neighbours (``scores[i, j] = score(i -> j)``, model rows) and the
    scale of the match figure."""

    def __init__(self, scores: sp.csr_matrix, points: np.ndarray) -> None:
        if scores.shape[0] != scores.shape[1]:
            raise NumericalError("similar scores must be movies x movies")
        points = np.asarray(points, dtype=np.float64)
        if points.shape != (_MATCH_POINTS,) or np.any(np.diff(points) < 0):
            raise NumericalError("similar match points must be 101 sorted numbers")
        if not (np.all(np.isfinite(scores.data)) and np.all(np.isfinite(points))):
            raise NumericalError("similar scores contain NaN or inf")
        self.scores = scores.tocsr()
        self.points = points

    @classmethod
    def fit(
        cls,
        who_rated: sp.csr_matrix,
        like: np.ndarray,
        settings: SimilarSettings | None = None,
        seed: int = 0,
    ) -> SimilarItems:
        """Fit on the users x movies rating matrix (see :func:`similar_scores`)."""
        scores = similar_scores(who_rated, like, settings or SimilarSettings(), seed)
        return cls(scores, match_points(scores))

    @classmethod
    def empty(cls, n_movies: int) -> SimilarItems:
        """No neighbours for any movie."""
        return cls(sp.csr_matrix((n_movies, n_movies), dtype=np.float32), np.zeros(_MATCH_POINTS))

    @property
    def n_movies(self) -> int:
        return int(self.scores.shape[0])

    def neighbours(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, scores)`` of the movie's stored neighbours (any order)."""
        lo, hi = self.scores.indptr[row], self.scores.indptr[row + 1]
        return self.scores.indices[lo:hi].astype(np.int64), self.scores.data[lo:hi]

    def match(self, scores: np.ndarray) -> np.ndarray:
        """The match of each score: the share of all movies' top-10 links it beats (0-1,
        non-decreasing in the score)."""
        return MatchScale(self.points).match(scores)
