"""The catalog, the ratings and the current model behind one object.

Used from one thread at a time (the bot's database thread, or the console); the model can be
swapped in from a refit thread at any moment, which is safe because a model is immutable and
replacing the attribute is atomic.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlite_utils import Database

from recommender import Model, UserProfile
from recommender.errors import UnknownMovie as ModelDoesNotKnowMovie
from storage import movies, ratings, state
from storage.movies import Movie
from storage.search import TitleIndex, TitleMatch
from storage.titles import normalize

ONBOARDING_SIZE = 10
# A movie's learned features rest on its ratings; with fewer than this, neighbours are noise.
MIN_RATINGS_FOR_SIMILAR = 5
# A rating at least this high counts as liking the movie (for "because you rated X").
LIKED = 7


@dataclass(frozen=True)
class Pick:
    """A recommended movie, its predicted score, and the user's rating that most supports it."""

    movie: Movie
    score: float
    because: tuple[Movie, int] | None = None


@dataclass(frozen=True)
class GroupPickView:
    movie: Movie
    score: float
    member_scores: tuple[float, ...]


class MovieService:
    def __init__(self, db: Database, model: Model) -> None:
        self.db = db
        self._model = model
        self._titles: TitleIndex | None = None
        self._onboarding: list[int] | None = None

    @property
    def model(self) -> Model:
        return self._model

    def swap_model(self, model: Model) -> None:
        """Serve `model` from now on; the title index picks up new popularity lazily."""
        self._model = model
        self._titles = None

    @property
    def titles(self) -> TitleIndex:
        if self._titles is None:
            self._titles = TitleIndex.from_db(self.db)
        return self._titles

    def find(self, query: str, limit: int = 5) -> list[TitleMatch]:
        return self.titles.search(query, limit)

    def movie(self, movie_id: int) -> Movie:
        return movies.get_movie(self.db, movie_id)

    def profile(self, user_id: int, model: Model | None = None) -> UserProfile:
        """Fold the user's current ratings (and when they were given) into ``model`` (default:
        the current one): a rating counts the moment it is stored."""
        model = model or self._model
        history, times = ratings.user_ratings_and_times(self.db, user_id)
        return model.fold_in({m: float(r) for m, r in history.items()}, times)

    def recommend(
        self,
        user_id: int,
        n: int,
        genre: str | None = None,
        years: tuple[int, int] | None = None,
    ) -> list[Pick]:
        """The user's top ``n``, optionally only ``genre`` and released within ``years``
        (inclusive)."""
        model = self._model
        profile = self.profile(user_id, model)
        candidates = None
        if genre or years:
            year_from, year_to = years or (None, None)
            ids = movies.movie_ids_where(self.db, genre=genre, year_from=year_from, year_to=year_to)
            candidates = np.asarray(ids, dtype=np.int64)
        top = model.recommend(
            profile,
            n,
            exclude=state.hidden_movies(self.db, user_id),
            candidates=candidates,
            at=time.time(),
        )
        found = movies.get_movies(self.db, [movie_id for movie_id, _ in top])
        history = dict(zip(profile.movie_ids.tolist(), profile.ratings.tolist(), strict=True))
        reasons = {}
        explained = model.explain_many(profile, [movie_id for movie_id, _ in top], k=3)
        for (movie_id, _), supports in zip(top, explained, strict=True):
            # "Because you rated X 3" would read as nonsense: only a movie the user liked
            # is given as the reason, even where a disliked one contributes more.
            for rated, contribution in supports:
                if contribution > 0 and history.get(rated, 0) >= LIKED:
                    reasons[movie_id] = rated
                    break
        supporting = movies.get_movies(self.db, reasons.values())
        picks = []
        for movie_id, score in top:
            because = None
            if movie_id in reasons and reasons[movie_id] in supporting:
                reason = reasons[movie_id]
                because = (supporting[reason], int(history[reason]))
            picks.append(Pick(found[movie_id], float(score), because))
        return picks

    def similar(self, movie_id: int, n: int) -> list[tuple[Movie, float]]:
        if self.rating_count(movie_id) < MIN_RATINGS_FOR_SIMILAR:
            return []
        try:
            nearest = self._model.similar(movie_id, n)
        except ModelDoesNotKnowMovie:
            return []
        found = movies.get_movies(self.db, [m for m, _ in nearest])
        return [(found[m], float(s)) for m, s in nearest if m in found]

    def rating_count(self, movie_id: int) -> int:
        try:
            return self._model.movie_rating_count(movie_id)
        except ModelDoesNotKnowMovie:
            return 0

    def group_picks(self, user_ids: list[int], n: int) -> list[GroupPickView]:
        model = self._model
        profiles = [self.profile(uid, model) for uid in user_ids]
        picks = model.for_group(profiles, n, at=time.time())
        found = movies.get_movies(self.db, [p.movie_id for p in picks])
        return [GroupPickView(found[p.movie_id], p.score, p.member_scores) for p in picks]

    def onboarding_movies(self) -> list[int]:
        """Popular movies to rate first, chosen to cover many genres and decades with at most
        one per franchise, so the first ten ratings say as much as possible about a taste."""
        if self._onboarding is None:
            self._onboarding = self._pick_onboarding(3 * ONBOARDING_SIZE)
        return self._onboarding

    def next_onboarding_movie(self, user_id: int, skipped: Sequence[int]) -> int | None:
        """The next movie to ask ``user_id`` about during onboarding, or None when there is
        none left: not rated by them and not in ``skipped`` (the cards they answered "haven't
        seen it" to)."""
        rated = ratings.user_ratings(self.db, user_id)
        passed = set(skipped)
        for movie_id in self.onboarding_movies():
            if movie_id not in rated and movie_id not in passed:
                return movie_id
        return None

    def _pick_onboarding(self, size: int) -> list[int]:
        """Greedy: each step takes the movie with the best popularity + novelty score,

            score(m) = log n_m / log n_max + 0.6 * |new genres of m| + 0.4 * [new decade of m]

        among the 200 most-rated movies, skipping franchises already chosen."""
        counts = ratings.rating_counts(self.db)
        popular = sorted(counts, key=lambda m: (-counts[m], m))[:200]
        catalog = movies.get_movies(self.db, popular)
        top_log = math.log(max(counts[popular[0]], 2)) if popular else 1.0
        chosen: list[int] = []
        genres_seen: set[str] = set()
        decades_seen: set[int] = set()
        franchises: set[str] = set()

        def franchise(movie: Movie) -> str:
            return " ".join(normalize(movie.title).split()[:2])

        remaining = [m for m in popular if m in catalog]
        while remaining and len(chosen) < size:

            def score(movie_id: int) -> float:
                movie = catalog[movie_id]
                new_genres = len(set(movie.genres) - genres_seen)
                new_decade = (movie.year or 0) // 10 not in decades_seen
                return math.log(counts[movie_id]) / top_log + 0.6 * new_genres + 0.4 * new_decade

            best = max(remaining, key=score)
            remaining.remove(best)
            movie = catalog[best]
            if franchise(movie) in franchises:
                continue
            chosen.append(best)
            franchises.add(franchise(movie))
            genres_seen.update(movie.genres)
            decades_seen.add((movie.year or 0) // 10)
        return chosen
