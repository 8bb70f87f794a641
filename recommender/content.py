"""Films nobody here has rated yet: their content mapped into what the model learned.

A film with no ratings has no bias, no factors and no ranking-stage weights, so it never
reaches a list. With its content (:class:`MovieContent`: genres, year, runtime, directors, and
IMDb's rating and vote count as a prior) it gets the representation a rated film with that
content has, by a ridge map from content features to the learned item representations
(Gantner et al., "Learning Attribute-to-Feature Mappings for Cold-Start Recommendations",
ICDM 2010), fitted on the films that have ratings:

    [b_i, q_i, z_i, a_i, log(1 + n_i)] ~ c_i W,   W = (C^T C + reg I)^-1 C^T Y   (centred)

``b_i`` the movie bias, ``q_i`` the factors, ``z_i`` the implicit factors, ``a_i`` the
asymmetric member's factors, ``n_i`` the rating count (the ranking stage's popularity prior),
``c_i`` the features of :func:`content_features`. The rating model then predicts a new film
like any other. The ranking stage's item weights ``B`` are item x item over the most-rated
films, so a second ridge map predicts a new film's column of them from its content, fitted on
the films that have weights, and cut to a low rank (:func:`_ranking_map`):

    B[:, i] ~ offset + W^T c_i,   watch(u, i) = sum_{j in J(u)} B^_ji   (:class:`NewMovies`)

the ranking stage's own score, so a new film competes with rated ones on one scale; its brake
is ``like`` with a wider scale (its predicted rating is less certain), and "because you rated
j" reads ``B^_ji``. Everything is computed at fit time and kept in the model; at the next
refit, bot users' ratings of the film take over (it is no longer "new").

Settings were chosen on a validation part of the training data
(``python -m recommender.evaluate_new_movies --validate``; docs/history/new-movies.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import scipy.sparse as sp

from recommender.errors import RecommenderError
from recommender.ranking import RankingStage, like_probability

if TYPE_CHECKING:
    from recommender.config import ModelConfig

    # A fitted recommender.Model: named by its base class, since recommender.model imports
    # this module (no import cycle, type-only ones included: tests/test_layout.py).
    from recommender.rating_model import RatingModel as Model

M = TypeVar("M", bound="Model")

# Chosen on validation (docs/history/new-movies.md).
CONTENT_REG = 3.0  # the ridge penalty of the map to the rating model's representations
RANKING_REG = 1.0  # the ridge penalty of the map to the ranking stage's item weights
VOTES_DAMPING = 10.0  # the prior rating counts v / (v + VOTES_DAMPING) of its deviation
LIKE_WIDEN = 4.0  # a new film's brake: like_scale times this (its rating is less certain)
RANKING_RANK = 32  # the rank the ranking map is cut to (serving reads n_new x rank numbers)
DIRECTOR_MIN_FILMS = 2  # a director is a feature once they have this many rated films
MAX_DIRECTORS = 300  # the most prolific: the ranking map costs (genres + directors)^2 x 4,000
_YEAR_CENTRE, _YEAR_SCALE = 1995.0, 20.0
_DECADES = np.arange(1930, 2030, 10)


@dataclass(frozen=True)
class MovieContent:
    """What is known about films apart from ratings here, one entry per film.

    ``year``/``runtime`` (minutes)/``prior_rating`` (IMDb's 1-10) are NaN when unknown,
    ``prior_votes`` 0; ``genres`` and ``directors`` (any ids, e.g. IMDb's ``nm...``) may be
    empty."""

    movie_ids: np.ndarray
    genres: Sequence[Sequence[str]]
    year: np.ndarray
    runtime: np.ndarray
    directors: Sequence[Sequence[str]]
    prior_rating: np.ndarray
    prior_votes: np.ndarray

    def __post_init__(self) -> None:
        n = np.asarray(self.movie_ids).size
        for name in ("genres", "year", "runtime", "directors", "prior_rating", "prior_votes"):
            if len(getattr(self, name)) != n:
                raise RecommenderError(f"content: {name} has not one entry per film")
        if np.unique(np.asarray(self.movie_ids)).size != n:
            raise RecommenderError("content: a film appears twice")
        votes = np.asarray(self.prior_votes, dtype=np.float64)
        if np.any(~np.isfinite(votes)) or np.any(votes < 0):
            raise RecommenderError("content: prior votes must be finite and >= 0")

    @classmethod
    def build(
        cls,
        movie_ids: Sequence[int],
        genres: Sequence[Sequence[str]],
        year: Sequence[float | None],
        *,
        runtime: Sequence[float | None] | None = None,
        directors: Sequence[Sequence[str]] | None = None,
        prior_rating: Sequence[float | None] | None = None,
        prior_votes: Sequence[float | None] | None = None,
    ) -> MovieContent:
        """From plain lists (None: unknown; a column left out: unknown for every film)."""
        n = len(movie_ids)

        def floats(values: Sequence[float | None] | None, missing: float) -> np.ndarray:
            if values is None:
                return np.full(n, missing)
            return np.array([missing if v is None else float(v) for v in values], dtype=float)

        return cls(
            np.asarray(movie_ids, dtype=np.int64),
            [tuple(g) for g in genres],
            floats(year, np.nan),
            floats(runtime, np.nan),
            [tuple(d) for d in directors] if directors is not None else [()] * n,
            floats(prior_rating, np.nan),
            floats(prior_votes, 0.0),
        )

    def __len__(self) -> int:
        return int(np.asarray(self.movie_ids).size)


@dataclass(frozen=True)
class ContentSettings:
    """The content map's hyperparameters (see the module docstring)."""

    reg: float = CONTENT_REG
    ranking_reg: float = RANKING_REG
    votes_damping: float = VOTES_DAMPING
    like_widen: float = LIKE_WIDEN
    ranking_rank: int = RANKING_RANK


class _Vocabulary:
    """The feature columns, learned from the films the map is fitted on (so a genre or director
    only new films have gets no column: there is nothing to learn its weight from)."""

    def __init__(self, content: MovieContent, fit: np.ndarray, votes_damping: float) -> None:
        self.genres = sorted({g for k in fit for g in content.genres[k]})
        counts: dict[str, int] = {}
        for k in fit:
            for d in content.directors[k]:
                counts[d] = counts.get(d, 0) + 1
        frequent = sorted((-c, d) for d, c in counts.items() if c >= DIRECTOR_MIN_FILMS)
        self.directors = [d for _, d in frequent[:MAX_DIRECTORS]]
        rated = fit[np.isfinite(content.prior_rating[fit]) & (content.prior_votes[fit] > 0)]
        self.rating_known = rated.size >= 2
        votes = content.prior_votes[rated]
        self.mean_rating = (
            float(np.average(content.prior_rating[rated], weights=votes)) if rated.size else 0.0
        )
        self.votes_damping = votes_damping
        log_votes = np.log1p(content.prior_votes[fit])
        self.max_log_votes = float(log_votes.max(initial=0.0))
        years = content.year[fit]
        years = years[np.isfinite(years)]
        self.year_range = (float(years.min()), float(years.max())) if years.size else (0.0, 0.0)

    @property
    def width(self) -> int:
        return len(self.genres) + len(self.directors) + 18

    def rating_deviation(self, content: MovieContent, rows: np.ndarray) -> np.ndarray:
        """``v / (v + damping) (r - mean)``: the prior rating's damped deviation (0 unknown)."""
        r, v = content.prior_rating[rows], content.prior_votes[rows]
        known = np.isfinite(r) & (v > 0)
        dev = np.where(known, np.nan_to_num(r) - self.mean_rating, 0.0)
        return dev * v / (v + self.votes_damping)


def content_features(content: MovieContent, rows: np.ndarray, vocab: _Vocabulary) -> sp.csr_matrix:
    """The feature matrix of ``content``'s entries ``rows`` (films x :attr:`_Vocabulary.width`):
    genre and frequent-director indicators (a film's genres share a total weight of 1), decade
    indicators, year (clipped to the fitted films' range), runtime, log votes and the damped
    prior rating, each with a "known" flag so unknown is not read as a value."""
    n = rows.size
    genre_col = {g: k for k, g in enumerate(vocab.genres)}
    base = len(vocab.genres)
    director_col = {d: base + k for k, d in enumerate(vocab.directors)}
    base += len(vocab.directors)
    film, col, val = [], [], []
    for k, row in enumerate(rows.tolist()):
        gs = [genre_col[g] for g in content.genres[row] if g in genre_col]
        film += [k] * len(gs)
        col += gs
        val += [1.0 / np.sqrt(len(gs))] * len(gs) if gs else []
        ds = [director_col[d] for d in content.directors[row] if d in director_col]
        film += [k] * len(ds)
        col += ds
        val += [1.0] * len(ds)
    dense = np.zeros((n, 18))
    year = content.year[rows]
    known = np.isfinite(year)
    decade = np.clip(np.searchsorted(_DECADES, np.nan_to_num(year), side="right") - 1, 0, 9)
    dense[np.flatnonzero(known), decade[known]] = 1.0
    lo, hi = vocab.year_range
    dense[:, 10] = np.where(known, (np.clip(np.nan_to_num(year), lo, hi) - _YEAR_CENTRE), 0.0)
    dense[:, 10] /= _YEAR_SCALE
    dense[:, 11] = ~known
    runtime = np.nan_to_num(content.runtime[rows])
    dense[:, 12] = np.where(runtime > 0, np.clip(np.log(np.maximum(runtime, 1) / 100), -1, 1), 0)
    dense[:, 13] = runtime <= 0
    votes = content.prior_votes[rows]
    dense[:, 14] = np.minimum(np.log1p(votes), vocab.max_log_votes) / 5.0
    dense[:, 15] = votes <= 0
    dense[:, 16] = vocab.rating_deviation(content, rows)
    dense[:, 17] = np.array([not any(g in genre_col for g in content.genres[r]) for r in rows])
    sparse = sp.csr_matrix((val, (film, col)), shape=(n, base))
    return sp.hstack([sparse, sp.csr_matrix(dense)]).tocsr()


def ridge_map(x: sp.csr_matrix, y: np.ndarray, reg: float) -> tuple[np.ndarray, np.ndarray]:
    """``(W, offset)`` of the centred ridge regression ``y ~ offset + x W``, the intercept not
    penalised: ``W = (Xc^T Xc + reg I)^-1 Xc^T Yc`` with ``Xc``, ``Yc`` centred columns."""
    n, d = x.shape
    x_mean = np.asarray(x.mean(axis=0)).ravel()
    y_mean = y.mean(axis=0)
    gram = (x.T @ x).toarray() - n * np.outer(x_mean, x_mean)
    gram[np.diag_indices(d)] += reg
    rhs = x.T @ y - n * np.outer(x_mean, y_mean)
    w = np.linalg.solve(gram, rhs)
    return w, y_mean - x_mean @ w


@dataclass(frozen=True)
class NewMovies:
    """The films whose representation was mapped from content: model ``rows`` (sorted), their
    popularity prior as a rating count (``counts``), and the ranking map cut to rank ``r``:

        watch(u, i) = sum_{j in J(u)} B^_ji = embedding_i . sum_{j in J(u)} ranked_j

    ``embedding`` (new films x r), ``ranked`` (the ranking stage's rows x r). Their brake is
    ``like`` with ``like_scale * like_widen`` (their predicted rating is less certain)."""

    rows: np.ndarray
    counts: np.ndarray
    embedding: np.ndarray
    ranked: np.ndarray
    like_widen: float = 1.0

    def __post_init__(self) -> None:
        rows = np.asarray(self.rows)
        if rows.ndim != 1 or np.shape(self.counts) != rows.shape:
            raise RecommenderError("new movies: rows and counts do not match")
        if rows.size and np.any(np.diff(rows) <= 0):
            raise RecommenderError("new movies: rows must be sorted and distinct")
        if self.embedding.ndim != 2 or self.embedding.shape[0] != rows.size:
            raise RecommenderError("new movies: the embedding does not match the rows")
        if self.ranked.ndim != 2 or self.ranked.shape[1] != self.embedding.shape[1]:
            raise RecommenderError("new movies: the ranking map's two sides do not match")
        for a in (self.counts, self.embedding, self.ranked, np.array([self.like_widen])):
            if not np.all(np.isfinite(a)):
                raise RecommenderError("new movies: counts and maps must be finite")
        if np.any(self.counts < 0) or self.like_widen <= 0:
            raise RecommenderError("new movies: counts must be >= 0 and like_widen > 0")

    @cached_property
    def _tail(self) -> int:
        """Where the last run of consecutive rows starts (an index into :attr:`rows`)."""
        breaks = np.flatnonzero(np.diff(self.rows) != 1)
        return int(breaks[-1]) + 1 if breaks.size else 0

    @classmethod
    def empty(cls) -> NewMovies:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros((0, 0)), np.zeros((0, 0)))

    def fitted_prior(
        self,
        prior: np.ndarray,
        implicit_factors: np.ndarray,
        config: ModelConfig,
        ranking: RankingStage,
    ) -> np.ndarray:
        """The implicit fold-in's prior ``(Z^T Z + reg I) / alpha`` (rating_model.py) over the
        fitted films only, as in the fit (where a film without ratings had a zero row): the
        mapped rows taken out again. Checks the rows against the model's movies and the
        ranking map against its ``ranking`` stage."""
        if self.rows.size and self.rows.max() >= ranking.n_movies:
            raise RecommenderError("new movies: a row is outside the model")
        if self.rows.size and self.ranked.shape[0] != ranking.size:
            raise RecommenderError("new movies: the ranking map does not match the ranking stage")
        if self.rows.size == 0 or implicit_factors.shape[1] == 0:
            return prior
        z = implicit_factors[self.rows]
        return prior - (z.T @ z) / config.implicit_alpha

    def prior_counts(self, item_counts: np.ndarray) -> np.ndarray:
        """The rating counts the popularity prior reads: the fitted ones, and the mapped
        count for each new film."""
        if self.rows.size == 0:
            return item_counts
        out = item_counts.astype(np.float64)
        out[self.rows] = self.counts
        return out

    def watch_scores(self, ranking: RankingStage, rated_rows: np.ndarray) -> np.ndarray:
        """``max(watch(u, i), 0)`` for every model row: the ranking stage's, and the mapped one
        for the new films (the class docstring)."""
        watch = np.maximum(ranking.watch_scores(rated_rows), 0.0)
        if self.rows.size:
            k = ranking.position[rated_rows]
            k = k[k >= 0]
            if k.size:
                user = self.ranked[k].sum(axis=0, dtype=np.float64).astype(self.embedding.dtype)
                scores = np.maximum(self.embedding @ user, 0.0)
                # The new films' rows end in one run (IMDb's new ids sort last): a slice
                # write is several times cheaper than scattering tens of thousands.
                t = self._tail
                watch[self.rows[t] : self.rows[-1] + 1] = scores[t:]
                watch[self.rows[:t]] = scores[:t]
        return watch

    def contributions(
        self, ranking: RankingStage, rated_rows: np.ndarray, target_rows: np.ndarray
    ) -> np.ndarray:
        """:meth:`RankingStage.contributions` with the new films' mapped ``B^_ji`` (so "because
        you rated j" works for them too)."""
        out = ranking.contributions(rated_rows, target_rows)
        if self.rows.size == 0 or self.ranked.shape[1] == 0:
            return out
        at = np.minimum(np.searchsorted(self.rows, target_rows), self.rows.size - 1)
        new = np.flatnonzero(self.rows[at] == target_rows)
        k = ranking.position[rated_rows]
        have = np.flatnonzero(k >= 0)
        if new.size and have.size:
            out[np.ix_(new, have)] = self.embedding[at[new]] @ self.ranked[k[have]].T
        return out

    def like_probability(
        self, rows: np.ndarray, predicted: np.ndarray, config: ModelConfig
    ) -> np.ndarray:
        """The brake of ``rows`` (recommender/ranking.py), with the new films' wider scale."""
        threshold, scale = config.like_threshold, config.like_scale
        if self.rows.size == 0 or self.like_widen == 1.0:
            return like_probability(predicted, threshold, scale)
        at = np.minimum(np.searchsorted(self.rows, rows), self.rows.size - 1)
        widen = np.where(self.rows[at] == rows, self.like_widen, 1.0)
        return like_probability(predicted, threshold, scale * widen)


def with_content_ids(
    movie_ids: np.ndarray | None, content: MovieContent | None
) -> np.ndarray | None:
    """The catalogue to fit: ``movie_ids`` and every film ``content`` describes."""
    if content is None:
        return movie_ids
    ids = np.asarray(content.movie_ids, dtype=np.int64)
    return ids if movie_ids is None else np.union1d(np.asarray(movie_ids), ids)


_RANKING_BAND = 512  # columns of the ranking weights mapped at once (memory)
MIN_FIT_FILMS = 10  # fewer rated films with content than this: nothing to learn a map from


def map_new_movies(
    model: M,
    content: MovieContent,
    settings: ContentSettings | None = None,
) -> M:
    """``model`` (a fitted :class:`recommender.Model`) with every film of ``content`` that has
    no ratings given its content-mapped representation, watch score and prior (module
    docstring); ``model`` itself when there is no such film or too little to learn from.
    Films with ratings keep everything they learned."""
    settings = settings or ContentSettings()
    rows, found = model._movies.lookup(np.asarray(content.movie_ids, dtype=np.int64))
    entries = np.flatnonzero(found)
    rows = rows[found]
    counts = model._item_counts
    rated = counts[rows] > 0
    fit_entries, fit_rows = entries[rated], rows[rated]
    order = np.argsort(rows[~rated])
    new_entries, new_rows = entries[~rated][order], rows[~rated][order]
    if new_rows.size == 0 or fit_rows.size < MIN_FIT_FILMS:
        return model
    vocab = _Vocabulary(content, fit_entries, settings.votes_damping)
    x_new = content_features(content, new_entries, vocab)
    parts = [model._item_bias[:, None], model._q, model._z, model._ya, np.log1p(counts)[:, None]]
    widths = np.cumsum([0] + [p.shape[1] for p in parts])
    y = np.hstack([p[fit_rows] for p in parts])
    w, offset = ridge_map(content_features(content, fit_entries, vocab), y, settings.reg)
    mapped = offset + x_new @ w
    arrays = [p.copy() for p in parts[:4]]
    for k, a in enumerate(arrays):
        a[new_rows] = mapped[:, widths[k] : widths[k + 1]]
    if not vocab.rating_known:
        # No rated film has a prior rating to calibrate it against: take it on our scale,
        # damped by its votes, around the content's estimate.
        arrays[0][new_rows] += _direct_prior(
            model._mu, content, new_entries, arrays[0][new_rows], settings.votes_damping
        )
    log_counts = np.clip(mapped[:, -1], 0.0, float(np.log1p(counts.max())))
    embedding, ranked = _ranking_map(model, content, vocab, x_new, settings)
    new = NewMovies(new_rows, np.expm1(log_counts), embedding, ranked, settings.like_widen)
    return type(model)(
        config=model.config,
        movies=model._movies,
        mu=model._mu,
        item_bias=arrays[0][:, 0],
        item_counts=counts,
        item_factors=arrays[1],
        neighbours=model._nbrs,
        n_ratings_fit=model.n_ratings_fit,
        implicit_factors=arrays[2],
        asym_factors=arrays[3],
        ranking=model._ranking,
        new_movies=new,
    )


def _direct_prior(
    mu: float, content: MovieContent, entries: np.ndarray, estimate: np.ndarray, damping: float
) -> np.ndarray:
    """The shift of the bias estimate towards the prior rating read on our 1-10 scale:
    ``v / (v + damping) (r - mu - estimate)`` (0 without a prior rating)."""
    r, v = content.prior_rating[entries], content.prior_votes[entries]
    known = np.isfinite(r) & (v > 0)
    gap = np.where(known, np.nan_to_num(r) - mu - estimate[:, 0], 0.0)
    return (gap * v / (v + damping))[:, None]


def _ranking_map(
    model: Model,
    content: MovieContent,
    vocab: _Vocabulary,
    x_new: sp.csr_matrix,
    settings: ContentSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """``(embedding, ranked)`` of :class:`NewMovies`: the ridge map from content to the ranking
    stage's item-weight columns, ``B[:, i] ~ offset + W^T c_i`` over the films with weights,
    cut to rank ``ranking_rank`` where the content's own spread says the fitted columns
    vary most (the reduced-rank regression: the right singular vectors ``V`` of ``L^T [W;
    offset]``, ``L L^T`` the covariance of ``[c, 1]``), so ``embedding = [c, 1] [W; offset] V``
    and ``ranked = V``. Empty without a ranking stage."""
    ranking = model._ranking
    lookup = {m: k for k, m in enumerate(np.asarray(content.movie_ids).tolist())}
    ids = model._movies.ids[ranking.rows].tolist()
    have = np.array([k for k, m in enumerate(ids) if m in lookup], dtype=np.int64)
    if have.size < MIN_FIT_FILMS:
        return np.zeros((x_new.shape[0], 0)), np.zeros((ranking.size, 0))
    x_fit = content_features(content, np.array([lookup[ids[k]] for k in have]), vocab)
    # A band of the weights' columns at a time: the float64 copy of all K x K weights was the
    # fit's peak memory; each column's regression is independent of the others.
    full = np.empty((x_fit.shape[1] + 1, ranking.size))
    for start in range(0, ranking.size, _RANKING_BAND):
        band = slice(start, start + _RANKING_BAND)
        y = ranking.weights[band, have].T.astype(np.float64)
        w, offset = ridge_map(x_fit, y, settings.ranking_reg)
        full[:-1, band], full[-1, band] = w, offset
    x1 = sp.hstack([x_fit, np.ones((have.size, 1))]).tocsr()
    cov = (x1.T @ x1).toarray() / have.size
    cov[np.diag_indices_from(cov)] += 1e-9
    _, _, vt = np.linalg.svd(np.linalg.cholesky(cov).T @ full, full_matrices=False)
    v = vt[: min(settings.ranking_rank, vt.shape[0])].T
    x1_new = sp.hstack([x_new, np.ones((x_new.shape[0], 1))]).tocsr()
    embedding = np.asarray(x1_new @ (full @ v), dtype=np.float32)
    return embedding, np.ascontiguousarray(v, dtype=np.float32)
