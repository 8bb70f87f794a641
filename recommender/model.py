"""The recommendation model: damped biases + matrix factorisation + item-item kNN, blended.

    r_hat(u, i) = mu + b_i + w_b b_u + w_0 + w_mf (p_u . q_i) + w_knn knn(u, i)
                  + w_imp x_u . (z_i - zbar) + w_asym (s_u . q_i)

clipped to [1, 10]
(see :class:`recommender.config.ModelConfig` for every term). Users are never stored: a user is
a :class:`UserProfile` folded in from their full history at request time, in closed form, with
the same formulas the fit used for its users, so a refit is only needed for new movies and for
the movie side to learn from new ratings.
"""

from __future__ import annotations

import copy
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from recommender import model_file
from recommender.biases import fit_biases
from recommender.config import ModelConfig, default_config_for
from recommender.errors import (
    BadRatings,
    NotFitted,
    NumericalError,
    RecommenderError,
)
from recommender.factorization import (
    als,
    asymmetric_factors,
    conjugate_gradient,
    implicit_als,
)
from recommender.ids import IdIndex, catalog_index
from recommender.model_file import FORMAT_VERSION
from recommender.neighbours import item_neighbours
from recommender.ranking import PRIOR, RankingStage, like_probability
from recommender.ratings import MAX_RATING, MIN_RATING, Ratings
from recommender.session import session_bias

__all__ = ["FORMAT_VERSION", "GroupPick", "Model", "UserProfile"]

DEFAULT_SIMILAR_MIN_RATINGS = 10


@dataclass(frozen=True, eq=False)
class UserProfile:
    """One user as the model sees them, built by :meth:`Model.fold_in` (never stored).

    ``movie_ids``/``ratings``: the part of the history the model knows; ``user_bias``: ``b_u``;
    ``factors``: ``p_u``; ``implicit_factors``: ``x_u`` (empty without the implicit member);
    ``asym_factors``: ``s_u`` (empty without the asymmetric member).
    Internal rows and residuals are private to the model.
    """

    movie_ids: np.ndarray
    ratings: np.ndarray
    user_bias: float
    factors: np.ndarray
    implicit_factors: np.ndarray
    asym_factors: np.ndarray
    _rows: np.ndarray = field(repr=False)
    _residuals: np.ndarray = field(repr=False)  # y_j = r_j - mu - b_j - b_u
    _times: np.ndarray = field(repr=False)  # when each rating was given (Unix s; NaN unknown)
    _model_token: str = field(repr=False)

    @property
    def n_ratings(self) -> int:
        return int(self._rows.size)


class GroupPick(NamedTuple):
    """A movie for a group: its aggregate score and each member's predicted rating (1-10)."""

    movie_id: int
    score: float
    member_scores: tuple[float, ...]


@dataclass(frozen=True)
class _Prepared:
    """Ratings as rows: user CSR and movie CSR of the raw values, plus the movie index."""

    movies: IdIndex
    user_csr: sp.csr_matrix  # users x movies
    n_users: int


def _prepare(ratings: Ratings, movie_ids: np.ndarray | None) -> _Prepared:
    if len(ratings) == 0:
        raise BadRatings("cannot fit on zero ratings")
    movies = catalog_index(ratings.movie_ids, movie_ids)
    mrows = np.searchsorted(movies.ids, ratings.movie_ids)
    _, urows = np.unique(ratings.user_ids, return_inverse=True)
    n_users = int(urows.max()) + 1
    csr = sp.csr_matrix(
        (ratings.values, (urows.astype(np.int64), mrows)),
        shape=(n_users, len(movies)),
        dtype=np.float64,
    )
    # coo -> csr sums duplicates; a smaller nnz means a (user, movie) pair appeared twice.
    if csr.nnz != len(ratings):
        raise BadRatings(
            f"{len(ratings) - csr.nnz} duplicate (user, movie) pairs; keep one rating per pair"
        )
    csr.sort_indices()
    return _Prepared(movies=movies, user_csr=csr, n_users=n_users)


class Model:
    """A fitted recommender. Build with :meth:`fit` or :meth:`load`; immutable afterwards."""

    def __init__(
        self,
        *,
        config: ModelConfig,
        movies: IdIndex,
        mu: float,
        item_bias: np.ndarray,
        item_counts: np.ndarray,
        item_factors: np.ndarray,
        neighbours: sp.csr_matrix,
        n_ratings_fit: int,
        implicit_factors: np.ndarray | None = None,
        asym_factors: np.ndarray | None = None,
        ranking: RankingStage | None = None,
    ) -> None:
        n = len(movies)
        if item_bias.shape != (n,) or item_counts.shape != (n,):
            raise RecommenderError("item_bias/item_counts do not match the movies")
        if item_factors.shape != (n, config.rank):
            raise RecommenderError("item_factors do not match the movies and rank")
        if neighbours.shape != (n, n):
            raise RecommenderError("neighbours do not match the movies")
        k_imp = config.implicit_rank if config.implicit_on else 0
        if implicit_factors is None:
            implicit_factors = np.zeros((n, 0))
        if implicit_factors.shape != (n, k_imp):
            raise RecommenderError("implicit factors do not match the movies and implicit_rank")
        k_asym = config.rank if config.asym_on else 0
        if asym_factors is None:
            asym_factors = np.zeros((n, 0))
        if asym_factors.shape != (n, k_asym):
            raise RecommenderError("asymmetric factors do not match the movies and rank")
        for name, a in (
            ("movie biases", item_bias),
            ("movie factors", item_factors),
            ("implicit movie factors", implicit_factors),
            ("asymmetric movie factors", asym_factors),
        ):
            if not np.all(np.isfinite(a)):
                raise NumericalError(f"{name} contain NaN or inf")
        if not np.isfinite(mu):
            raise NumericalError("global mean is not finite")
        if ranking is None:
            ranking = RankingStage.empty(n)
        if ranking.n_movies != n:
            raise RecommenderError("the ranking stage does not match the movies")
        self.config = config
        self._movies = movies
        self._mu = float(mu)
        self._item_bias = item_bias
        self._item_counts = item_counts
        self._q = item_factors
        # float32 copy for scoring whole catalogues: halves the memory read by Q @ p.
        self._q32 = np.ascontiguousarray(item_factors, dtype=np.float32)
        self._nbrs = neighbours
        # Transposed once: row j lists the movies i that have j as a neighbour, so a user's
        # kNN scores for the whole catalogue touch only the rows of the movies they rated.
        self._nbrs_t = neighbours.T.tocsr()
        # The implicit member: z_i, the fold-in prior P = (Z^T Z + reg I) / alpha, and zbar,
        # the rating-count-weighted mean of z_i that scores are centred on.
        self._z = implicit_factors
        # The asymmetric member: y_j (s_u = |N(u)|^{-1/2} sum_j y_j).
        self._ya = asym_factors
        self._z_mean = (item_counts @ implicit_factors) / max(1, int(item_counts.sum()))
        self._z_prior = (
            implicit_factors.T @ implicit_factors + config.implicit_reg * np.eye(k_imp)
        ) / config.implicit_alpha
        self._ranking = ranking
        # The popularity prior of the ranking score (recommender/ranking.py).
        self._prior = PRIOR * item_counts / max(1, int(item_counts.max(initial=0)))
        self.n_ratings_fit = int(n_ratings_fit)
        self._token = secrets.token_hex(8)

    # ----------------------------------------------------------------- fitting

    @classmethod
    def fit(
        cls,
        ratings: Ratings,
        config: ModelConfig | None = None,
        seed: int = 0,
        movie_ids: np.ndarray | None = None,
    ) -> Model:
        """Fit on ``ratings`` (1-10 scale); ``movie_ids`` adds catalogue movies nobody rated yet
        (they get the global mean and zero factors). Without ``config``, the default for the
        data's size (:func:`default_config_for`). Raises :class:`BadRatings` on empty or
        duplicate ratings."""
        config = config or default_config_for(len(ratings))
        model, _ = cls._fit(ratings, config, seed, movie_ids, False)
        return model

    @classmethod
    def _fit(
        cls,
        ratings: Ratings,
        config: ModelConfig,
        seed: int,
        movie_ids: np.ndarray | None,
        return_users: bool,
    ) -> tuple[Model, np.ndarray | None]:
        if not isinstance(ratings, Ratings):
            raise BadRatings("ratings must be a recommender.Ratings")
        prep = _prepare(ratings, movie_ids)
        ucsr = prep.user_csr
        n_items = len(prep.movies)
        cols = ucsr.indices
        user_rows = np.repeat(np.arange(prep.n_users), np.diff(ucsr.indptr))
        biases = fit_biases(ucsr.data, cols, user_rows, n_items, prep.n_users, config)
        mu, item_counts, item_bias = biases.mu, biases.item_counts, biases.item_bias
        y = biases.residuals
        resid = sp.csr_matrix((y, cols, ucsr.indptr), shape=ucsr.shape)
        resid_items = resid.T.tocsr()
        resid_items.sort_indices()
        p = None
        if config.rank == 0:
            q = np.zeros((n_items, 0))
        elif config.solver == "als":
            p, q = als(
                resid,
                resid_items,
                config.rank,
                config.reg,
                config.iterations,
                seed,
                return_users,
                config.reg_exponent,
            )
        else:
            p, q = conjugate_gradient(resid_items, config.rank, config.reg, config.iterations, seed)
        if config.knn_neighbours > 0 and config.blend_knn != 0:
            nbrs = item_neighbours(
                resid_items,
                config.knn_neighbours,
                config.knn_shrink,
                config.knn_max_movies,
                config.knn_pair_budget,
                seed,
                config.knn_max_candidates,
            )
        else:
            nbrs = sp.csr_matrix((n_items, n_items), dtype=np.float32)
        z = None
        if config.implicit_on:
            z = implicit_als(
                resid,
                resid_items,
                config.implicit_rank,
                config.implicit_alpha,
                config.implicit_reg,
                config.implicit_iterations,
                seed,
            )
        ya = None
        if config.asym_on:
            ya = asymmetric_factors(resid, q, config.asym_reg, config.asym_iterations)
        del resid, resid_items
        ranking = RankingStage.fit(ucsr, item_counts, config.ranking, seed)
        model = cls(
            config=config,
            movies=prep.movies,
            mu=mu,
            item_bias=item_bias,
            item_counts=item_counts,
            item_factors=q,
            neighbours=nbrs,
            n_ratings_fit=len(ratings),
            implicit_factors=z,
            asym_factors=ya,
            ranking=ranking,
        )
        return model, p

    # ----------------------------------------------------------------- lookups

    @property
    def movie_ids(self) -> np.ndarray:
        """The external ids of every movie the model knows (sorted)."""
        return self._movies.ids.copy()

    def movie_mean(self, movie_id: int) -> float:
        """The damped mean rating ``mu + b_i`` of a movie (1-10 scale)."""
        return self._mu + float(self._item_bias[self._movies.row(movie_id)])

    def movie_rating_count(self, movie_id: int) -> int:
        """How many fitted ratings the movie had."""
        return int(self._item_counts[self._movies.row(movie_id)])

    def movie_factors(self, movie_ids: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """A copy of the movie factors ``q_i`` (the space :meth:`similar` measures cosines in),
        one row per id of ``movie_ids`` in that order (``None``: every movie, in
        :attr:`movie_ids` order). Shape ``(n, rank)``; a movie nobody rated has a zero row;
        :class:`UnknownMovie` for an id the model does not know."""
        if movie_ids is None:
            return self._q.copy()
        return self._q[self._movies.rows_strict(movie_ids)]

    # ----------------------------------------------------------------- users

    def fold_in(
        self, history: Mapping[int, float], rated_at: Mapping[int, float] | None = None
    ) -> UserProfile:
        """Build a user's profile from their full history ``{movie_id: rating 1-10}``;
        ``rated_at`` (``{movie_id: Unix seconds}``, optional, missing entries unknown) is kept
        for the session term (:meth:`session_bias`).

        Closed form, with the model fixed (nothing is stored): with ``J`` the known rated movies,
        ``y_j = r_j - mu - b_j``,

            b_u = sum_j y_j / (|J| + user_damping)
            p_u = (Q_J^T Q_J + reg I)^{-1} Q_J^T (y_J - b_u)
            x_u = (Z_J^T Z_J + P)^{-1} Z_J^T 1 (1 + alpha) / alpha,  P = (Z^T Z + reg_imp I) / alpha
            s_u = |J|^{-1/2} sum_j y_j

        exactly the user half-steps of the fit (``x_u``, ``s_u`` only with their members). Unknown
        movie ids are ignored (a refit learns them); an empty history is the cold-start profile
        (``b_u = 0``, ``p_u = 0``, ``x_u = 0``).
        """
        if not isinstance(history, Mapping):
            raise BadRatings("history must be a mapping movie_id -> rating")
        ids = np.fromiter((int(k) for k in history), dtype=np.int64, count=len(history))
        vals = np.fromiter(
            (float(v) for v in history.values()), dtype=np.float64, count=len(history)
        )
        if vals.size and (
            not np.all(np.isfinite(vals)) or vals.min() < MIN_RATING or vals.max() > MAX_RATING
        ):
            raise BadRatings("history ratings must be finite and within [1, 10]")
        times = np.full(ids.size, np.nan)
        if rated_at is not None:
            if not isinstance(rated_at, Mapping):
                raise BadRatings("rated_at must be a mapping movie_id -> Unix seconds")
            try:
                times = np.array([float(rated_at.get(m, np.nan)) for m in ids.tolist()])
            except (TypeError, ValueError) as e:
                raise BadRatings(f"rating times must be numbers (Unix seconds): {e}") from e
            if np.any(np.isinf(times)):
                raise BadRatings("rating times must be finite")
        rows, found = self._movies.lookup(ids)
        rows, ids, vals, times = rows[found], ids[found], vals[found], times[found]
        order = np.argsort(rows)
        rows, ids, vals, times = rows[order], ids[order], vals[order], times[order]
        y = vals - self._mu - self._item_bias[rows]
        cfg = self.config
        b_u = float(y.sum() / (y.size + cfg.user_damping)) if cfg.user_bias and y.size else 0.0
        y = y - b_u
        factors = self._solve_factors(rows, y)
        return UserProfile(
            movie_ids=ids,
            ratings=vals,
            user_bias=b_u,
            factors=factors,
            implicit_factors=self._solve_implicit(rows),
            asym_factors=self._asym_user(rows),
            _rows=rows,
            _residuals=y,
            _times=times,
            _model_token=self._token,
        )

    def _solve_factors(self, rows: np.ndarray, y: np.ndarray) -> np.ndarray:
        k = self.config.rank
        if rows.size == 0 or k == 0:
            return np.zeros(k)
        qj = self._q[rows]
        gram = qj.T @ qj
        gram[np.diag_indices(k)] += self._user_reg(rows.size)
        return np.linalg.solve(gram, qj.T @ y)

    def _implicit_system(self, rows: np.ndarray) -> np.ndarray:
        """``A = Z_J^T Z_J + P`` of the implicit fold-in for the rated ``rows``."""
        zj = self._z[rows]
        return zj.T @ zj + self._z_prior

    def _solve_implicit(self, rows: np.ndarray) -> np.ndarray:
        k = self._z.shape[1]
        if rows.size == 0 or k == 0:
            return np.zeros(k)
        alpha = self.config.implicit_alpha
        rhs = self._z[rows].sum(axis=0) * ((1.0 + alpha) / alpha)
        return np.linalg.solve(self._implicit_system(rows), rhs)

    def _asym_user(self, rows: np.ndarray) -> np.ndarray:
        """``s_u = |J|^{-1/2} sum_{j in J} y_j`` (zeros for an empty history)."""
        k = self._ya.shape[1]
        if rows.size == 0 or k == 0:
            return np.zeros(k)
        return self._ya[rows].sum(axis=0) / np.sqrt(rows.size)

    def _user_reg(self, n: int) -> float:
        """The ridge penalty of a user with ``n`` known ratings, as in the fit."""
        return self.config.reg * float(n) ** self.config.reg_exponent

    def _check_profile(self, profile: UserProfile) -> None:
        if not isinstance(profile, UserProfile):
            raise RecommenderError("expected a UserProfile from Model.fold_in")
        if profile._model_token != self._token:
            raise NotFitted("this profile was folded into another model; fold it in again")

    # ----------------------------------------------------------------- scoring

    def _knn(self, profile: UserProfile, rows: np.ndarray | None) -> np.ndarray:
        """``knn(u, i) = sum_j s_ij y_j / (sum_j s_ij + knn_damping)`` over rated neighbours
        ``j``, for ``rows`` (``None``: every movie); 0 where no neighbour was rated."""
        n_items = len(self._movies)
        size = n_items if rows is None else rows.size
        j = profile._rows
        if j.size == 0 or self._nbrs.nnz == 0:
            return np.zeros(size)
        if rows is None or rows.size * 4 > n_items:
            t = self._nbrs_t
            starts, stops = t.indptr[j], t.indptr[j + 1]
            lens = stops - starts
            idx = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(lens.sum())
            targets = t.indices[idx]
            s = t.data[idx].astype(np.float64)
            num = np.bincount(
                targets, weights=s * np.repeat(profile._residuals, lens), minlength=n_items
            )
            den = np.bincount(targets, weights=s, minlength=n_items)
            if rows is not None:
                num, den = num[rows], den[rows]
        else:
            # The stored neighbours of ``rows`` times the user's residuals and rated indicator,
            # as one sparse product over the two columns.
            user = np.zeros((n_items, 2))
            user[j, 0] = profile._residuals
            user[j, 1] = 1.0
            both = self._nbrs[rows] @ user
            num, den = both[:, 0], both[:, 1]
        # bincount of empty weights is int64; the division below needs floats.
        num = num.astype(np.float64, copy=False)
        den = den.astype(np.float64, copy=False) + self.config.knn_damping
        return np.divide(num, den, out=np.zeros_like(num), where=den > 0)

    def _scores(
        self, profile: UserProfile, rows: np.ndarray | None, knn: bool = True
    ) -> np.ndarray:
        """Unclipped ``r_hat`` for ``rows`` (``None``: the whole catalogue); ``knn=False``
        leaves the kNN term out (the first stage of :meth:`recommend`)."""
        cfg = self.config
        if rows is None:
            base = self._item_bias + (self._mu + self._user_shift(profile))
            q = self._q32
        else:
            base = self._item_bias[rows] + (self._mu + self._user_shift(profile))
            q = self._q[rows]
        if cfg.rank and (cfg.blend_mf or profile.asym_factors.size) and profile._rows.size:
            u = cfg.blend_mf * profile.factors
            if profile.asym_factors.size:
                u = u + cfg.asym_weight * profile.asym_factors
            base = base + q @ u.astype(q.dtype)
        if self._z.shape[1] and profile._rows.size:
            z = self._z if rows is None else self._z[rows]
            x = profile.implicit_factors
            base = base + cfg.implicit_weight * (z @ x - self._z_mean @ x)
        if knn and cfg.blend_knn and profile._rows.size and self._nbrs.nnz:
            base = base + cfg.blend_knn * self._knn(profile, rows)
        return base

    def _user_shift(self, profile: UserProfile) -> float:
        """``w_b b_u + w_0`` (0 for a user without known ratings)."""
        if profile._rows.size == 0:
            return 0.0
        return self.config.user_bias_weight * profile.user_bias + self.config.offset

    def session_bias(self, profile: UserProfile, at: float | np.ndarray) -> np.ndarray:
        """``sess(u, t)`` for each time ``t`` in ``at`` (Unix seconds, a scalar or an array):

            sess(u, t) = sum_j k_j e_j / (sum_j k_j + session_damping),  k_j = exp(-|t - t_j| / tau)

        over the user's rated movies with a known time ``t_j`` (``e_j`` their residuals after
        biases). Ratings given in one sitting deviate from the user's usual level together (on
        the validation ratings this term takes RMSE from 0.8369 to 0.8100, 2-fold CV; see
        README.md); it is 0 for a user without timed ratings, and ~0 an hour after the last
        one. A NaN ``t`` gives 0.
        """
        self._check_profile(profile)
        cfg = self.config
        return session_bias(
            profile._times, profile._residuals, at, cfg.session_tau, cfg.session_damping
        )

    def _session_shift(self, profile: UserProfile, at: float | np.ndarray | None) -> np.ndarray:
        """``w_s sess(u, at)`` (0 without a time or with the term off)."""
        w = self.config.blend_session
        if at is None or w == 0:
            return np.zeros(1)
        return w * self.session_bias(profile, at)

    def predict(
        self,
        profile: UserProfile,
        movie_ids: Sequence[int],
        at: float | np.ndarray | None = None,
    ) -> np.ndarray:
        """Predicted ratings (1-10, clipped) of ``movie_ids``; :class:`UnknownMovie` if one is
        not in the model. ``at``: when (Unix seconds; one time, or one per movie) the ratings
        would be given, for the session term; ``None`` leaves the term out."""
        self._check_profile(profile)
        rows = self._movies.rows_strict(movie_ids)
        if at is not None and np.ndim(at) and np.shape(at) != rows.shape:
            raise RecommenderError("at must be one time or one time per movie")
        shift = self._session_shift(profile, at)
        return np.clip(self._scores(profile, rows) + shift, MIN_RATING, MAX_RATING)

    def _top(self, scores: np.ndarray, rows: np.ndarray, n: int) -> list[tuple[int, float]]:
        """Top ``n`` of ``scores`` (aligned with ``rows``) by argpartition, then sorting only
        those ``n``; ties go to the smaller movie id so the order is deterministic."""
        if n <= 0 or rows.size == 0:
            return []
        part = np.argpartition(-scores, n - 1)[:n] if rows.size > n else np.arange(rows.size)
        ids = self._movies.ids[rows[part]]
        order = np.lexsort((ids, -scores[part]))
        return [(int(ids[k]), float(scores[part][k])) for k in order]

    def _candidate_rows(
        self, candidates: np.ndarray | None, excluded: Iterable[np.ndarray]
    ) -> np.ndarray | None:
        """Rows allowed for recommendation, or ``None`` for "all" when nothing is excluded."""
        n_items = len(self._movies)
        if candidates is not None:
            rows, found = self._movies.lookup(np.asarray(candidates, dtype=np.int64))
            allowed = np.zeros(n_items, dtype=bool)
            allowed[rows[found]] = True
        else:
            allowed = np.ones(n_items, dtype=bool)
        for ex in excluded:
            allowed[ex] = False
        return np.flatnonzero(allowed)

    def _exclude_rows(self, exclude: Iterable[int]) -> np.ndarray:
        ex = np.fromiter((int(x) for x in exclude), dtype=np.int64)
        rows, found = self._movies.lookup(ex)
        return rows[found]

    def recommend(
        self,
        profile: UserProfile,
        n: int = 10,
        exclude: Iterable[int] = (),
        candidates: np.ndarray | None = None,
        at: float | None = None,
    ) -> list[tuple[int, float]]:
        """The user's top ``n`` as ``(movie_id, predicted rating)``, in ranking order.

        Ranked by the ranking stage (recommender/ranking.py): what the user would choose to
        watch, ``max(watch, 0) + prior``, times the rating model's chance that they would like
        it, ``like(r_hat)``. The watch score is computed for every allowed movie; the rating
        model (the brake) only for the ``config.ranking_pool`` best of them by watch score,
        since ``like <= 1`` rarely lifts a movie past a pool that large (on ML-small, a pool
        of 100 keeps 99.95% of the exact top 10; README.md). The rating shown is the
        rating model's prediction (clipped to [1, 10], plus the session term with ``at``).
        Leaves out the profile's rated movies and ``exclude``; ``candidates`` (movie ids)
        restricts the choice.
        """
        self._check_profile(profile)
        rows = self._candidate_rows(candidates, [profile._rows, self._exclude_rows(exclude)])
        if rows.size == 0 or n <= 0:
            return []
        rows, rank, predicted = self._ranked_pool(profile, rows, max(self.config.ranking_pool, n))
        shift = float(self._session_shift(profile, at)[0])
        order = self._order(rank, rows)[:n]
        return [
            (int(self._movies.ids[rows[k]]), min(max(predicted[k] + shift, MIN_RATING), MAX_RATING))
            for k in order
        ]

    def watch_scores(self, profile: UserProfile) -> np.ndarray:
        """``max(watch(u, i), 0) + prior_i`` for every movie, in :attr:`movie_ids` order: how
        strongly the user's rated movies point at each movie (recommender/ranking.py)."""
        self._check_profile(profile)
        return np.maximum(self._ranking.watch_scores(profile._rows), 0.0) + self._prior

    def like_probability(self, predicted: np.ndarray | float) -> np.ndarray:
        """The brake: ``sigmoid((r_hat - like_threshold) / like_scale)``."""
        return like_probability(predicted, self.config.like_threshold, self.config.like_scale)

    def _ranked_pool(
        self, profile: UserProfile, rows: np.ndarray, pool: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(rows, ranking score, unclipped predicted rating)`` for the ``pool`` allowed rows
        with the best watch scores."""
        watch = self.watch_scores(profile)[rows]
        if rows.size > pool:
            keep = np.argpartition(-watch, pool - 1)[:pool]
            rows, watch = rows[keep], watch[keep]
        predicted = self._scores(profile, rows)
        if profile._rows.size == 0:
            # A user with no ratings gets the best-rated of the best-known movies (the pool is
            # the most-rated ones): the damped movie mean, as the design promises.
            return rows, self.like_probability(predicted), predicted
        return rows, watch * self.like_probability(predicted), predicted

    def _order(self, scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Indices of ``scores`` best first; ties go to the smaller movie id."""
        return np.lexsort((self._movies.ids[rows], -scores))

    def recommend_by_rating(
        self,
        profile: UserProfile,
        n: int = 10,
        exclude: Iterable[int] = (),
        candidates: np.ndarray | None = None,
        at: float | None = None,
    ) -> list[tuple[int, float]]:
        """The ``n`` movies with the highest predicted rating, as ``(movie_id, predicted
        rating)``, best first: the rating model alone, without the ranking stage (what the bot
        showed before it; kept as an evaluation reference).

        Leaves out the profile's rated movies and ``exclude``; ``candidates`` (movie ids)
        restricts the choice (unknown ids in it are ignored). Scores are clipped to [1, 10].
        When it reads less (:meth:`_two_stage_pays`), the kNN term is added only to the best
        ``config.recommend_pool`` movies by biases + factors, so the top ``n`` is then
        approximate (``recommend_pool=0``: always exact). ``at`` (Unix seconds) adds the session
        term to the scores; it moves them all alike, so the choice is the same.
        """
        self._check_profile(profile)
        rows = self._candidate_rows(candidates, [profile._rows, self._exclude_rows(exclude)])
        if rows.size == 0:
            return []
        full = rows.size * 4 > len(self._movies)
        pool = max(self.config.recommend_pool, n)
        if self._two_stage_pays(profile, rows, pool):
            rows, scores = self._two_stage(profile, rows, pool, full)
        elif full:
            # Whole-catalogue scoring (one gemv + one sparse pass) beats gathering many rows.
            scores = self._scores(profile, None)[rows]
        else:
            scores = self._scores(profile, rows)
        shift = float(self._session_shift(profile, at)[0])
        top = self._top(scores, rows, n)
        return [(m, min(max(s + shift, MIN_RATING), MAX_RATING)) for m, s in top]

    def _two_stage_pays(self, profile: UserProfile, rows: np.ndarray, pool: int) -> bool:
        """Whether :meth:`_two_stage` touches fewer neighbour entries than exact scoring.

        Exact whole-catalogue kNN reads, for every rated movie, every movie that lists it as a
        neighbour (popular movies are everybody's neighbour); two stages read the ``pool``
        candidates' own neighbour lists. The cheaper one is used, so small catalogues and
        light users stay exact."""
        cfg = self.config
        nb = self._nbrs
        if not (cfg.recommend_pool and cfg.blend_knn and nb.nnz and profile._rows.size):
            return False
        if rows.size <= pool:
            return False
        j = profile._rows
        exact = int((self._nbrs_t.indptr[j + 1] - self._nbrs_t.indptr[j]).sum())
        per_movie = nb.nnz / max(1, int(np.count_nonzero(np.diff(nb.indptr))))
        return pool * per_movie < exact

    def _two_stage(
        self, profile: UserProfile, rows: np.ndarray, pool: int, full: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(pool rows, their scores)``: biases + factors for every row in ``rows`` (one gemv),
        the kNN term added for the best ``pool`` of them only. Approximate: a movie outside
        the pool that the kNN term would lift into the top ``n`` is missed (on ML-small, pool
        500: 99.4% of the exact top-10 kept, see README)."""
        coarse = (
            self._scores(profile, None, knn=False)[rows]
            if full
            else self._scores(profile, rows, knn=False)
        )
        if rows.size > pool:
            keep = np.argpartition(-coarse, pool - 1)[:pool]
            rows, coarse = rows[keep], coarse[keep]
        return rows, coarse + self.config.blend_knn * self._knn(profile, rows)

    def similar(
        self,
        movie_id: int,
        n: int = 10,
        min_ratings: int = DEFAULT_SIMILAR_MIN_RATINGS,
        exclude: Iterable[int] = (),
    ) -> list[tuple[int, float]]:
        """Movies people who watched ``movie_id`` go on to watch and like, as ``(movie_id,
        score)``, best first:

            score(i -> j) = max(B_ij, 0) * like(mu + b_j)

        ``B_ij``: the ranking stage's item weight (how much having watched ``i`` points at
        ``j``, with everything else people watched accounted for), braked by the chance that
        ``j``'s damped mean is a liked rating. Movies with fewer than ``min_ratings`` fitted
        ratings (on either side: thin movies get no confident neighbours), the movie itself and
        ``exclude`` are left out; a movie without item weights has no neighbours.
        """
        row = self._movies.row(movie_id)
        if self._item_counts[row] < min_ratings:
            return []
        weights = self._ranking.neighbour_weights(row)
        score = np.maximum(weights, 0.0) * self.like_probability(self._mu + self._item_bias)
        ok = (self._item_counts >= min_ratings) & (score > 0)
        ok[row] = False
        ok[self._exclude_rows(exclude)] = False
        rows = np.flatnonzero(ok)
        return self._top(score[rows], rows, n)

    def similar_by_factors(
        self, movie_id: int, n: int = 10, min_ratings: int = DEFAULT_SIMILAR_MIN_RATINGS
    ) -> list[tuple[int, float]]:
        """Movies nearest to ``movie_id`` in rating-factor space, as ``(movie_id, cosine)``
        (what /similar used before the ranking stage; an evaluation reference).

        ``cos(i, j) = q_i . q_j / (|q_i| |q_j|)``. Movies with fewer than ``min_ratings`` fitted
        ratings and the movie itself are left out; a movie without factors has no neighbours.
        """
        row = self._movies.row(movie_id)
        q = self._q
        norms = np.linalg.norm(q, axis=1)
        if q.shape[1] == 0 or norms[row] == 0:
            return []
        ok = (self._item_counts >= min_ratings) & (norms > 0)
        ok[row] = False
        rows = np.flatnonzero(ok)
        cos = (q[rows] @ q[row]) / (norms[rows] * norms[row])
        return self._top(cos, rows, n)

    def explain_picks(
        self, profile: UserProfile, movie_ids: Sequence[int]
    ) -> list[list[tuple[int, float]]]:
        """For each of ``movie_ids``, the user's rated movies by how much each raises its
        ranking score, as ``(rated movie_id, B_ji)``, largest first (positive ones only).

        The ranking score is ``(sum_j B_ji + prior_i) * like(u, i)``; ``like`` is common to all
        rated movies, so rated movie ``j``'s share is ``B_ji`` times the same factor: "because
        you watched j" is read straight off the item weights."""
        self._check_profile(profile)
        targets = self._movies.rows_strict(movie_ids)
        contrib = self._ranking.contributions(profile._rows, targets)
        ids = profile.movie_ids
        out = []
        for row in contrib:
            order = np.lexsort((ids, -row))
            out.append([(int(ids[o]), float(row[o])) for o in order if row[o] > 0])
        return out

    def explain(
        self, profile: UserProfile, movie_id: int, k: int = 3, movie_specific: bool = True
    ) -> list[tuple[int, float]]:
        """The ``k`` rated movies that most raise the prediction of ``movie_id``, with their
        contribution (1-10 units), largest first.

        The unclipped prediction is linear in the user's residuals ``e_j = r_j - mu - b_j - b_u``
        (and ``b_u`` in ``y_j = r_j - mu - b_j``):

            r_hat - (mu + b_i) - w_0 = w_b b_u + sum_j t_ij,   b_u = sum_j y_j / (n + user_damping),
            t_ij = (w_mf q_i^T A^{-1} q_j + w_knn s_ij / (sum_l s_il + knn_damping)) e_j
                   + w_imp (z_i - zbar)^T B^{-1} z_j (1 + alpha) / alpha
                   + w_asym q_i . a_j / sqrt(n)   (a_j: the asymmetric member's y_j)

        with ``A = Q_J^T Q_J + reg I``, ``B = Z_J^T Z_J + P`` from the fold-in (the last, implicit
        term does not depend on the rating: having watched ``j`` points at ``i`` more than at
        the average movie, ``zbar``), ``w_b = config.user_bias_weight`` and
        ``w_0 = config.offset``. ``movie_specific=True`` (the default) ranks by the
        target-specific terms ``t_ij`` only: the user's generosity ``w_b b_u`` is the same for
        every movie, so it would let the user's most over-rated movie "explain" every
        recommendation. ``movie_specific=False`` gives the full additive share
        ``c_j = w_b y_j / (n + user_damping) + t_ij``; those add up exactly to the prediction
        minus the movie mean minus ``w_0``. The session term is left out: it is the same for
        every movie, so it explains none of them.
        """
        return self.explain_many(profile, [movie_id], k, movie_specific)[0]

    def explain_many(
        self,
        profile: UserProfile,
        movie_ids: Sequence[int],
        k: int = 3,
        movie_specific: bool = True,
    ) -> list[list[tuple[int, float]]]:
        """:meth:`explain` for each of ``movie_ids`` (one list per movie, in that order), with
        the user's systems solved once for all of them (a /recommend explains every pick)."""
        ids, total, specific = self._contributions(profile, movie_ids)
        if ids.size == 0 or k <= 0:
            return [[] for _ in range(total.shape[0])]
        out = []
        for contrib in specific if movie_specific else total:
            order = np.lexsort((ids, -contrib))[:k]
            out.append([(int(ids[o]), float(contrib[o])) for o in order])
        return out

    def _contributions(
        self, profile: UserProfile, movie_ids: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(rated movie_ids, c, t)`` of :meth:`explain`: ``c[m, j]``, ``t[m, j]`` are ``c_j``
        and ``t_ij`` for target ``movie_ids[m]`` and the user's rated movie ``j``."""
        self._check_profile(profile)
        i = self._movies.rows_strict(movie_ids)
        j = profile._rows
        cfg = self.config
        if j.size == 0:
            return profile.movie_ids, np.zeros((i.size, 0)), np.zeros((i.size, 0))
        resid = profile._residuals
        t = np.zeros((i.size, j.size))
        if cfg.rank and cfg.blend_mf:
            qj = self._q[j]
            gram = qj.T @ qj
            gram[np.diag_indices(cfg.rank)] += self._user_reg(j.size)
            w = self._q[i] @ np.linalg.solve(gram, qj.T)
            t += cfg.blend_mf * w * resid
        if cfg.blend_knn and self._nbrs.nnz:
            s = self._nbrs[i][:, j].toarray().astype(np.float64)
            den = s.sum(axis=1, keepdims=True) + cfg.knn_damping
            t += cfg.blend_knn * np.divide(s, den, out=np.zeros_like(s), where=den > 0) * resid
        if self._z.shape[1]:
            scale = cfg.implicit_weight * (1.0 + cfg.implicit_alpha) / cfg.implicit_alpha
            zi = self._z[i] - self._z_mean
            t += scale * (zi @ np.linalg.solve(self._implicit_system(j), self._z[j].T))
        if self._ya.shape[1]:
            t += cfg.asym_weight * (self._q[i] @ self._ya[j].T) / np.sqrt(j.size)
        c = t.copy()
        if cfg.user_bias:
            c += cfg.user_bias_weight * (resid + profile.user_bias) / (j.size + cfg.user_damping)
        return profile.movie_ids, c, t

    def for_group(
        self,
        profiles: Sequence[UserProfile],
        n: int = 10,
        exclude: Iterable[int] = (),
        *,
        misery_floor: float = 6.0,
        misery_weight: float = 2.0,
        at: float | None = None,
    ) -> list[GroupPick]:
        """Movies for a group watching together, in ranking order.

        Each member ``m`` has a watch score ``w_m`` (the ranking stage's ``max(watch, 0) +
        prior``, divided by the member's best, so every member counts alike) and a predicted
        rating ``r_m`` (1-10, clipped). The ranking score is

            rank = mean_m w_m * (prod_m like(r_m)) ** (1 / M) * exp(-misery_weight * misery)
            misery = max(0, misery_floor - min_m r_m)

        what the members would choose to watch, braked by the geometric mean of their chances
        of liking it, and steeply for every point the least happy member falls below
        ``misery_floor`` (6 = 3 stars): one member who would likely hate it sinks it. The shown
        group score is on the rating scale,

            score = mean_m r_m - misery_weight * max(0, misery_floor - min_m r_m)

        the average, minus a steep penalty for every point the least happy member falls below
        ``misery_floor`` (6 = 3 stars). Movies any member rated, and ``exclude``, are left out.
        ``at`` (Unix seconds) adds each member's session term to the shown scores.
        """
        if not profiles:
            raise RecommenderError("a group needs at least one member")
        for p in profiles:
            self._check_profile(p)
        rows = self._candidate_rows(
            None, [p._rows for p in profiles] + [self._exclude_rows(exclude)]
        )
        if rows.size == 0 or n <= 0:
            return []
        watch = np.zeros(rows.size)
        log_like = np.zeros(rows.size)
        member = np.empty((len(profiles), rows.size))
        for k, p in enumerate(profiles):
            w = self.watch_scores(p)[rows]
            watch += w / max(float(w.max()), 1e-12)
            predicted = np.clip(self._scores(p, None)[rows], MIN_RATING, MAX_RATING)
            log_like += np.log(np.maximum(self.like_probability(predicted), 1e-12))
            member[k] = np.clip(predicted + self._session_shift(p, at), MIN_RATING, MAX_RATING)
        misery = np.maximum(0.0, misery_floor - member.min(axis=0))
        rank = watch / len(profiles) * np.exp(log_like / len(profiles) - misery_weight * misery)
        shown = member.mean(axis=0) - misery_weight * misery
        order = self._order(rank, rows)[:n]
        return [
            GroupPick(
                int(self._movies.ids[rows[k]]),
                float(shown[k]),
                tuple(float(x) for x in member[:, k]),
            )
            for k in order
        ]

    SERVING_SETTINGS = frozenset({"ranking_pool", "recommend_pool", "like_threshold", "like_scale"})

    def serving(self, **changes: object) -> Model:
        """This fitted model with other serve-time settings (:attr:`SERVING_SETTINGS`: the
        pools and the brake), for tuning them without a refit; a fit setting is an error."""
        fitted = set(changes) - self.SERVING_SETTINGS
        if fitted:
            raise RecommenderError(f"{sorted(fitted)} change the fit: fit a new model")
        other = copy.copy(self)
        other.config = replace(self.config, **changes)
        return other

    # ----------------------------------------------------------------- persistence

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model as an ``.npz`` (no pickles) with ``format_version`` and the config as
        JSON; written to a temp file and renamed, so a crash never leaves half a model (the
        format: recommender/model_file.py)."""
        model_file.write(
            path,
            config=self.config,
            movies=self._movies,
            mu=self._mu,
            item_bias=self._item_bias,
            item_counts=self._item_counts,
            item_factors=self._q,
            neighbours=self._nbrs,
            n_ratings_fit=self.n_ratings_fit,
            implicit_factors=self._z,
            asym_factors=self._ya,
            ranking=self._ranking,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Model:
        """Read a model written by :meth:`save`. A missing, truncated or corrupt file, or another
        format version, raises :class:`ModelFileError` (never returns a wrong model)."""
        return model_file.read(path, cls)

    def __repr__(self) -> str:
        return (
            f"Model(movies={len(self._movies)}, ratings={self.n_ratings_fit}, "
            f"solver={self.config.solver!r}, rank={self.config.rank})"
        )
