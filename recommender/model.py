"""The recommendation model: :class:`Model`, the public class (``from recommender import Model``).

    r_hat(u, i) = mu + b_i + w_b b_u + w_0 + w_mf (p_u . q_i) + w_knn knn(u, i)
                  + w_imp x_u . (z_i - zbar) + w_asym (s_u . q_i)

clipped to [1, 10], is the rating model (recommender/rating_model.py: fold-in, predict, the
terms of a prediction, explain; :class:`recommender.config.ModelConfig` for every term). Lists
are ranked by the ranking stage (recommender/ranking.py), braked by the rating model. Here: the
fit (biases from recommender/biases.py, then factors, neighbours and the implicit and asymmetric
members on their residuals), the lists (recommend, similar, for_group and their references) and
save/load (the format: recommender/model_file.py). Users are never stored: a user is a
:class:`UserProfile` folded in from their full history at request time, so a refit is only
needed for new movies and for the movie side to learn from new ratings.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from recommender import model_file
from recommender.biases import fit_biases
from recommender.config import ModelConfig, default_config_for
from recommender.content import MovieContent, NewMovies, map_new_movies, with_content_ids
from recommender.errors import BadRatings, RecommenderError
from recommender.factorization import als, asymmetric_factors, conjugate_gradient, implicit_als
from recommender.ids import IdIndex, catalog_index
from recommender.model_file import FORMAT_VERSION
from recommender.neighbours import item_neighbours
from recommender.ranking import PRIOR, RankingStage, like_probability
from recommender.rating_model import PredictionTerms, RatingModel, UserProfile
from recommender.ratings import MAX_RATING, MIN_RATING, Ratings
from recommender.similar import MatchScale, relation_scores

__all__ = ["FORMAT_VERSION", "GroupPick", "Model", "PredictionTerms", "UserProfile"]

DEFAULT_SIMILAR_MIN_RATINGS = 10


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


class Model(RatingModel):
    """A fitted recommender: the rating model (:class:`RatingModel`: fold-in, predict, terms,
    explain) plus the ranking stage and the lists built on it. Build with :meth:`fit` or
    :meth:`load`; immutable afterwards."""

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
        new_movies: NewMovies | None = None,
    ) -> None:
        super().__init__(
            config=config,
            movies=movies,
            mu=mu,
            item_bias=item_bias,
            item_counts=item_counts,
            item_factors=item_factors,
            neighbours=neighbours,
            implicit_factors=implicit_factors,
            asym_factors=asym_factors,
        )
        n = len(movies)
        if ranking is None:
            ranking = RankingStage.empty(n)
        if ranking.n_movies != n:
            raise RecommenderError("the ranking stage does not match the movies")
        self._ranking = ranking
        self._new = new_movies or NewMovies.empty()  # content-mapped films (content.py)
        self._z_prior = self._new.fitted_prior(self._z_prior, self._z, config, ranking)
        self._match: MatchScale | None = None  # /similar's figure, built on first use
        # The popularity prior of the ranking score (recommender/ranking.py).
        self._prior = PRIOR * self._new.prior_counts(item_counts) / max(1, int(item_counts.max()))
        self.n_ratings_fit = int(n_ratings_fit)

    # ----------------------------------------------------------------- fitting

    @classmethod
    def fit(
        cls,
        ratings: Ratings,
        config: ModelConfig | None = None,
        seed: int = 0,
        movie_ids: np.ndarray | None = None,
        content: MovieContent | None = None,
    ) -> Model:
        """Fit on ``ratings`` (1-10 scale); ``movie_ids`` adds catalogue movies nobody rated yet
        (the global mean and zero factors; with their ``content``, what it maps to: content.py).
        Without ``config``, the default for the data's size (:func:`default_config_for`). Raises
        :class:`BadRatings` on empty or duplicate ratings."""
        config = config or default_config_for(len(ratings))
        model, _ = cls._fit(ratings, config, seed, with_content_ids(movie_ids, content), False)
        return model if content is None else map_new_movies(model, content)

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

    # ----------------------------------------------------------------- lists

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
        novelty: float = 0.0,
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
        restricts the choice. ``novelty`` (the "how adventurous" knob; 0, the default, changes
        nothing) weighs each movie's ranking score by ``popularity_i ** -novelty``, popularity
        being its share of the most-rated movie's ratings: above 0 lesser-known movies rise
        (hidden gems), below 0 the well-known ones do.
        """
        self._check_profile(profile)
        rows = self._candidate_rows(candidates, [profile._rows, self._exclude_rows(exclude)])
        if rows.size == 0 or n <= 0:
            return []
        pool = max(self.config.ranking_pool, n)
        rows, rank, predicted = self._ranked_pool(profile, rows, pool, novelty)
        shift = float(self._session_shift(profile, at)[0])
        order = self._order(rank, rows)[:n]
        return [
            (int(self._movies.ids[rows[k]]), min(max(predicted[k] + shift, MIN_RATING), MAX_RATING))
            for k in order
        ]

    def seen(self, profile: UserProfile, movie_ids: Iterable[int]) -> UserProfile:
        """``profile`` with ``movie_ids`` as watched without a score ("seen it"): the ranking
        stage reads them with the rated movies (what the user chose to watch), the rating
        model does not (there is no score). Unknown and rated movies are ignored.

        Measured on the shared split (30 % of each test user's train history turned into
        "seen", left out of the picks either way): P@10 0.216 -> 0.231, NDCG@10 0.286 ->
        0.310 when the ranking stage reads them (devtools/seen_signal.py,
        docs/history/seen-signal.md)."""
        self._check_profile(profile)
        ids = np.fromiter((int(m) for m in movie_ids), dtype=np.int64)
        rows, found = self._movies.lookup(ids)
        extra = np.setdiff1d(rows[found], profile._rows)
        return replace(profile, _seen_rows=extra)

    def watch_scores(self, profile: UserProfile) -> np.ndarray:
        """``max(watch(u, i), 0) + prior_i`` for every movie, in :attr:`movie_ids` order: how
        strongly the user's rated movies (and those seen without a score, :meth:`seen`)
        point at each movie (recommender/ranking.py)."""
        self._check_profile(profile)
        rows = profile._rows
        if profile._seen_rows.size:
            rows = np.union1d(rows, profile._seen_rows)
        return self._new.watch_scores(self._ranking, rows) + self._prior

    def like_probability(self, predicted: np.ndarray | float) -> np.ndarray:
        """The brake: ``sigmoid((r_hat - like_threshold) / like_scale)``."""
        return like_probability(predicted, self.config.like_threshold, self.config.like_scale)

    def _ranked_pool(
        self, profile: UserProfile, rows: np.ndarray, pool: int, novelty: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(rows, ranking score, unclipped predicted rating)`` for the ``pool`` allowed rows
        with the best watch scores (weighed by the novelty knob, see :meth:`recommend`)."""
        weight = self._novelty_weight(rows, novelty)
        watch = self.watch_scores(profile)[rows] * weight
        if rows.size > pool:
            keep = np.argpartition(-watch, pool - 1)[:pool]
            rows, watch, weight = rows[keep], watch[keep], weight[keep]
        predicted = self._scores(profile, rows)
        if profile._rows.size == 0:
            # A user with no ratings gets the best-rated of the best-known movies (the pool is
            # the most-rated ones): the damped movie mean, as the design promises.
            return rows, self.like_probability(predicted) * weight, predicted
        return rows, watch * self._new.like_probability(rows, predicted, self.config), predicted

    def _novelty_weight(self, rows: np.ndarray, novelty: float) -> np.ndarray:
        """``popularity ** -novelty`` for the rows (all 1 when ``novelty`` is 0); a movie with
        no ratings counts as having the fewest."""
        if novelty == 0.0:
            return np.ones(rows.size)
        popularity = self._prior[rows] / PRIOR
        floor = float(popularity[popularity > 0].min(initial=1.0))
        return np.maximum(popularity, floor) ** -novelty

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
        match)``, best first, ranked by ``score(i -> j) = max(B_ij, 0) * like(mu + b_j)``
        (``B``: the ranking stage's item weights). ``match`` (0-1) is the share of all movies'
        top-10 scores below this one (recommender/similar.py): it falls with the order. Movies
        with fewer than ``min_ratings`` fitted ratings (either side), the movie itself and
        ``exclude`` are left out; a movie without item weights has no neighbours."""
        row = self._movies.row(movie_id)
        if self._item_counts[row] < min_ratings:
            return []
        like = self.like_probability(self._mu + self._item_bias)
        if self._match is None:
            self._match = MatchScale.of_weights(self._ranking.weights, like[self._ranking.rows])
        weights = self._ranking.neighbour_weights(row)
        score = relation_scores(weights, like, self._item_counts, row, min_ratings)
        ok = score > 0
        ok[self._exclude_rows(exclude)] = False
        rows = np.flatnonzero(ok)
        top = self._top(score[rows], rows, n)
        return [(m, float(self._match.match(s))) for m, s in top]

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
        contrib = self._new.contributions(self._ranking, profile._rows, targets)
        ids = profile.movie_ids
        out = []
        for row in contrib:
            order = np.lexsort((ids, -row))
            out.append([(int(ids[o]), float(row[o])) for o in order if row[o] > 0])
        return out

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
        other._match = None  # the brake may change: /similar's figure is rebuilt
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
            new_movies=self._new,
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
