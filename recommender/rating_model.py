"""The rating model: a user's predicted rating of each movie, from the fitted movie side.

    r_hat(u, i) = mu + b_i + w_b b_u + w_0 + w_mf (p_u . q_i) + w_knn knn(u, i)
                  + w_imp x_u . (z_i - zbar) + w_asym (s_u . q_i)

clipped to [1, 10] (see :class:`recommender.config.ModelConfig` for every term; the terms one
by one: :meth:`RatingModel.terms`), plus the session term when the times are known. Users are
never stored: a user is a :class:`UserProfile` folded in from their full history at request
time, in closed form, with the same formulas the fit used for its users.

:class:`RatingModel` holds the movie side (biases, factors, neighbours, the implicit and
asymmetric members' factors) and everything computed from it alone: fold-in, predictions, their
terms and explanations. :class:`recommender.Model` adds the fit, the ranking stage and the
lists built on it, and the model file.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from recommender.config import ModelConfig
from recommender.errors import BadRatings, NotFitted, NumericalError, RecommenderError
from recommender.ids import IdIndex
from recommender.ratings import MAX_RATING, MIN_RATING
from recommender.session import session_bias


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
    # Movies watched without a score ("seen it"): read by the ranking stage only (Model.seen).
    _seen_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)

    @property
    def n_ratings(self) -> int:
        return int(self._rows.size)


@dataclass(frozen=True, eq=False)
class PredictionTerms:
    """One user's unclipped predicted ratings of ``movie_ids``, term by term (no session term):

        r_hat = movie_mean + offset + user_bias + mf + knn + implicit + asym

        movie_mean  mu + b_i                  the damped movie mean (all a cold-start user gets)
        offset      w_0                       } 0 for a user without known ratings
        user_bias   w_b b_u                   } (the user's generosity: alike for every movie)
        mf          w_mf p_u . q_i
        knn         w_knn knn(u, i)
        implicit    w_imp x_u . (z_i - zbar)
        asym        w_asym s_u . q_i

    with the weights of the model's config; each an array aligned with ``movie_ids``, zeros for
    a member the model does not have. Built by :meth:`RatingModel.terms`; with ``by_rated``, the
    user's terms (``user_bias`` to ``asym``) are ``(len(movie_ids), len(rated_ids))`` matrices
    instead: column ``j`` is rated movie ``rated_ids[j]``'s share, and each row adds up to the
    term (``rated_ids`` is None otherwise).
    """

    movie_ids: np.ndarray
    movie_mean: np.ndarray
    offset: np.ndarray
    user_bias: np.ndarray
    mf: np.ndarray
    knn: np.ndarray
    implicit: np.ndarray
    asym: np.ndarray
    rated_ids: np.ndarray | None = None

    USER_TERMS: ClassVar[tuple[str, ...]] = ("user_bias", "mf", "knn", "implicit", "asym")

    def total(self) -> np.ndarray:
        """``r_hat`` of each movie, unclipped: the sum of the terms (what
        :meth:`RatingModel.predict` clips to [1, 10] and adds the session term to)."""
        total = self.movie_mean + self.offset
        for name in self.USER_TERMS:
            term = getattr(self, name)
            total = total + (term if self.rated_ids is None else term.sum(axis=1))
        return total


class RatingModel:
    """The rating model's movie side and what is computed from it: fold-in, predictions, their
    terms, explanations. Immutable; built by :class:`recommender.Model` (fit or load)."""

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
        implicit_factors: np.ndarray | None = None,
        asym_factors: np.ndarray | None = None,
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
        self._token = secrets.token_hex(8)

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
                u = u + cfg.blend_asym * profile.asym_factors
            base = base + q @ u.astype(q.dtype)
        if self._z.shape[1] and profile._rows.size:
            z = self._z if rows is None else self._z[rows]
            x = profile.implicit_factors
            base = base + cfg.blend_implicit * (z @ x - self._z_mean @ x)
        if knn and cfg.blend_knn and profile._rows.size and self._nbrs.nnz:
            base = base + cfg.blend_knn * self._knn(profile, rows)
        return base

    def _user_shift(self, profile: UserProfile) -> float:
        """``w_b b_u + w_0`` (0 for a user without known ratings)."""
        if profile._rows.size == 0:
            return 0.0
        return self.config.blend_user_bias * profile.user_bias + self.config.blend_offset

    def terms(
        self, profile: UserProfile, movie_ids: Sequence[int], *, by_rated: bool = False
    ) -> PredictionTerms:
        """The user's unclipped prediction of each of ``movie_ids``, term by term
        (:class:`PredictionTerms`; ``.total()`` is what :meth:`predict` clips, before the
        session term); :class:`UnknownMovie` for an id the model does not know.

        ``by_rated=True`` splits each of the user's terms into the shares of their rated movies
        ``J`` (``n = |J|``). Every one is linear in the residuals ``e_j = r_j - mu - b_j - b_u``
        of the fold-in (``b_u`` in ``y_j = r_j - mu - b_j``), so with its ``A = Q_J^T Q_J +
        reg I`` and ``B = Z_J^T Z_J + P``, rated movie ``j``'s share of the prediction of ``i``
        is

            user_bias   w_b y_j / (n + user_damping)
            mf          w_mf q_i^T A^{-1} q_j e_j
            knn         w_knn s_ij e_j / (sum_l s_il + knn_damping)
            implicit    w_imp (z_i - zbar)^T B^{-1} z_j (1 + alpha) / alpha
            asym        w_asym q_i . a_j / sqrt(n)      (a_j: the asymmetric member's y_j)

        The implicit share does not depend on the rating: having watched ``j`` points at ``i``
        more than at the average movie, ``zbar``. ``movie_mean`` and ``offset`` belong to no
        rated movie.
        """
        self._check_profile(profile)
        rows = self._movies.rows_strict(movie_ids)
        known = profile._rows.size > 0
        user = self._shares(profile, rows) if by_rated else self._user_terms(profile, rows)
        return PredictionTerms(
            self._movies.ids[rows],
            self._mu + self._item_bias[rows],
            np.full(rows.size, self.config.blend_offset if known else 0.0),
            *user,
            rated_ids=profile.movie_ids if by_rated else None,
        )

    def _user_terms(self, profile: UserProfile, rows: np.ndarray) -> tuple[np.ndarray, ...]:
        """``(w_b b_u, w_mf p_u . q_i, w_knn knn, w_imp x_u . (z_i - zbar), w_asym s_u . q_i)``
        for ``rows``: :meth:`_scores`' terms one by one (it fuses them for speed)."""
        cfg = self.config
        terms = [np.zeros(rows.size) for _ in PredictionTerms.USER_TERMS]
        if profile._rows.size == 0:
            return tuple(terms)
        terms[0] = np.full(rows.size, cfg.blend_user_bias * profile.user_bias)
        if cfg.rank and cfg.blend_mf:
            terms[1] = cfg.blend_mf * (self._q[rows] @ profile.factors)
        if cfg.blend_knn and self._nbrs.nnz:
            terms[2] = cfg.blend_knn * self._knn(profile, rows)
        if self._z.shape[1]:
            x = profile.implicit_factors
            terms[3] = cfg.blend_implicit * (self._z[rows] @ x - self._z_mean @ x)
        if self._ya.shape[1]:
            terms[4] = cfg.blend_asym * (self._q[rows] @ profile.asym_factors)
        return tuple(terms)

    def _shares(self, profile: UserProfile, rows: np.ndarray) -> tuple[np.ndarray, ...]:
        """The by-rated shares of :meth:`terms` (its docstring has the formulas), each
        ``(len(rows), n)``."""
        cfg = self.config
        i, j = rows, profile._rows
        shares = [np.zeros((i.size, j.size)) for _ in PredictionTerms.USER_TERMS]
        if j.size == 0:
            return tuple(shares)
        resid = profile._residuals
        if cfg.user_bias:
            w_b = cfg.blend_user_bias
            y = w_b * (resid + profile.user_bias) / (j.size + cfg.user_damping)
            shares[0] = np.broadcast_to(y, shares[0].shape)
        if cfg.rank and cfg.blend_mf:
            qj = self._q[j]
            gram = qj.T @ qj
            gram[np.diag_indices(cfg.rank)] += self._user_reg(j.size)
            w = self._q[i] @ np.linalg.solve(gram, qj.T)
            shares[1] = cfg.blend_mf * w * resid
        if cfg.blend_knn and self._nbrs.nnz:
            s = self._nbrs[i][:, j].toarray().astype(np.float64)
            den = s.sum(axis=1, keepdims=True) + cfg.knn_damping
            frac = np.divide(s, den, out=np.zeros_like(s), where=den > 0)
            shares[2] = cfg.blend_knn * frac * resid
        if self._z.shape[1]:
            scale = cfg.blend_implicit * (1.0 + cfg.implicit_alpha) / cfg.implicit_alpha
            zi = self._z[i] - self._z_mean
            shares[3] = scale * (zi @ np.linalg.solve(self._implicit_system(j), self._z[j].T))
        if self._ya.shape[1]:
            shares[4] = cfg.blend_asym * (self._q[i] @ self._ya[j].T) / np.sqrt(j.size)
        return tuple(shares)

    def session_bias(
        self,
        profile: UserProfile,
        at: float | np.ndarray,
        *,
        tau: float | None = None,
        damping: float | None = None,
    ) -> np.ndarray:
        """``sess(u, t)`` for each time ``t`` in ``at`` (Unix seconds, a scalar or an array):

            sess(u, t) = sum_j k_j e_j / (sum_j k_j + session_damping),  k_j = exp(-|t - t_j| / tau)

        over the user's rated movies with a known time ``t_j`` (``e_j`` their residuals after
        biases). Ratings given in one sitting deviate from the user's usual level together (on
        the validation ratings this term takes RMSE from 0.8369 to 0.8100, 2-fold CV; see
        README.md); it is 0 for a user without timed ratings, and ~0 an hour after the last
        one. A NaN ``t`` gives 0. ``tau``/``damping``: other values than the config's
        ``session_tau``/``session_damping`` (the term is not fitted, so tuning tries them on
        one model).
        """
        self._check_profile(profile)
        cfg = self.config
        tau = cfg.session_tau if tau is None else tau
        damping = cfg.session_damping if damping is None else damping
        return session_bias(profile._times, profile._residuals, at, tau, damping)

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

    # ----------------------------------------------------------------- explanations

    def explain(
        self, profile: UserProfile, movie_id: int, k: int = 3, movie_specific: bool = True
    ) -> list[tuple[int, float]]:
        """The ``k`` rated movies that most raise the prediction of ``movie_id``, with their
        contribution (1-10 units), largest first.

        A rated movie ``j``'s contribution is its share of the prediction (:meth:`terms` with
        ``by_rated=True``, which has the formulas):

            t_ij = j's share of mf + knn + implicit + asym    (movie_specific=True, the default)
            c_j  = t_ij + w_b y_j / (n + user_damping)        (movie_specific=False)

        The ``c_j`` add up exactly to the prediction minus the movie mean minus ``w_0``, the
        ``t_ij`` to that minus the user's generosity ``w_b b_u``. The default ranks by ``t_ij``:
        ``w_b b_u`` is the same for every movie, so it would let the user's most over-rated
        movie "explain" every recommendation. The session term is left out: it is the same for
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
        and ``t_ij`` for target ``movie_ids[m]`` and the user's rated movie ``j``: the shares
        of :meth:`terms` by rated movie, without (``t``) and with (``c``) the user bias."""
        shares = self.terms(profile, movie_ids, by_rated=True)
        t = shares.mf + shares.knn + shares.implicit + shares.asym
        return profile.movie_ids, t + shares.user_bias, t
