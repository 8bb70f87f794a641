"""The catalog, the ratings and the current model behind one object.

Used from one thread at a time (the bot's database thread, or the console); the model can be
swapped in from a refit thread at any moment, which is safe because a model is immutable and
replacing the attribute is atomic.

A fresh database has no model until its first fit ends (in the background: the bot and the
console answer meanwhile). Until then /recommend and onboarding serve the best-rated
well-known movies (recommender/best_rated.py), and what needs the model raises
`ModelNotReady`, which the command layer answers with one line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from sqlite_utils import Database

from bot.files.history_matching import CatalogMatcher
from bot.tmdb.films import TmdbFilms
from recommender import Model, UserProfile
from recommender.best_rated import best_rated
from recommender.diversity import diversify, franchise_keys, ranked_depth
from recommender.errors import UnknownMovie as ModelDoesNotKnowMovie
from recommender.novelty import NOVELTY_LEVELS
from recommender.onboarding import RECENT_CARDS, RECENT_YEARS, adaptive_next, most_rated
from recommender.pick_match import matches, ranking_scores
from recommender.similar_personal import is_personal, personal_similar
from storage import movies, ratings, watchlist
from storage import settings as user_settings
from storage.imdb_catalog import catalog_status, recent_well_known
from storage.movies import Movie
from storage.search import Resolution, TitleIndex, TitleMatch, resolve

log = logging.getLogger(__name__)

ONBOARDING_SIZE = 10
# A movie's learned features rest on its ratings; with fewer than this, neighbours are noise.
MIN_RATINGS_FOR_SIMILAR = 5
# A rating at least this high counts as liking the movie (for "because you rated X").
LIKED = 7


class ModelNotReady(Exception):
    """The first model is still being fitted; nothing that needs it can answer yet."""


@dataclass(frozen=True)
class Pick:
    """A recommended movie, its predicted rating, the user's rating that most supports it, and
    its match: the ranking score as a share of the top pick's (0-1), which falls with the
    order where the predicted rating need not (recommender/pick_match.py)."""

    movie: Movie
    score: float
    because: tuple[Movie, int] | None = None
    match: float = 1.0


@dataclass(frozen=True)
class Neighbour:
    """A movie like another: its match (0-1, falls with the order) and the share of the other
    movie's fans (rated it 7+) who liked this one too (7+). ``for_you``: the order is the
    asker's (recommender/similar_personal.py) and the match is the blended score as a share of
    the top one's; otherwise the order is the relation's (Model.similar) for everyone."""

    movie: Movie
    match: float
    fans_liked: float
    for_you: bool = False


@dataclass(frozen=True)
class CatalogCoverage:
    """How many films the catalog has, the newest year, and the day of the last update from
    IMDb's datasets (None: the bundled MovieLens catalog as shipped)."""

    films: int
    newest_year: int | None
    updated: str | None


@dataclass(frozen=True)
class GroupPickView:
    movie: Movie
    score: float
    member_scores: tuple[float, ...]


class MovieService:
    def __init__(self, db: Database, model: Model | None) -> None:
        """Serve `model`; None while the first fit runs (`offer_model` brings it)."""
        self.db = db
        self._model = model
        self._offered: Model | None = None  # from the first fit's thread, swapped in by ours
        self._popular: dict[int, tuple[int, int]] | None = None
        # TMDB with the operator's key (posters, overviews, where to watch); None without one.
        # Only the Telegram adapter awaits it, on its event loop (bot/telegram/sending.py).
        self.tmdb: TmdbFilms | None = None
        self._titles: TitleIndex | None = None
        self._onboarding: tuple[list[int], list[int]] | None = None
        self._franchises: dict[int, str] | None = None
        self._history_matcher: CatalogMatcher | None = None
        self._missing: set[int] | None = None
        self._genres: tuple[str, ...] | None = None
        self._coverage: CatalogCoverage | None = None
        # Set when the model knows movies the database lacks (or there is none yet); the refit
        # job then refits even if no rating changed (bot/telegram/app.py's refit_now), and a
        # new model clears it.
        self.refit_wanted = model is None

    @property
    def model(self) -> Model:
        """The current model; `ModelNotReady` while the first fit runs."""
        if not self.ready:
            raise ModelNotReady
        return self._model

    @property
    def ready(self) -> bool:
        """Whether there is a model (an offered one is swapped in here, in our thread)."""
        offered = self._offered
        if offered is not None:
            self._offered = None
            self.swap_model(offered)
        return self._model is not None

    def offer_model(self, model: Model) -> None:
        """Hand over a model from another thread (the console's first fit): it is swapped in
        at the next request, in the thread that serves requests."""
        self._offered = model

    def swap_model(self, model: Model) -> None:
        """Serve `model` from now on; the title index picks up new popularity lazily."""
        self._model = model
        self._titles = None
        self._onboarding = None
        self._history_matcher = None
        self._missing = None
        self._popular = None
        self.refit_wanted = False

    def use_titles(self, titles: TitleIndex) -> None:
        """Search `titles` from now on: an index built off the database thread (at 80,000
        films a build takes seconds, which a lazy rebuild here would make a reply wait)."""
        self._titles = titles
        self._history_matcher = None

    def catalog_changed(self, titles: TitleIndex | None = None) -> None:
        """The catalog was updated (new films, names, IMDb figures): search `titles` (else
        rebuild the index when next needed) and read again what was read from it once."""
        self._titles = titles
        self._history_matcher = None
        self._onboarding = None
        self._franchises = None
        self._genres = None
        self._missing = None
        self._coverage = None

    @property
    def coverage(self) -> CatalogCoverage:
        """What the catalog covers, for /about, /help and a title not found (read once)."""
        if self._coverage is None:
            status = catalog_status(self.db)
            update = status["last_update"]
            self._coverage = CatalogCoverage(
                status["films"], status["newest_year"], update["at"][:10] if update else None
            )
        return self._coverage

    def missing_movies(self) -> set[int]:
        """Movies the model knows that the database lacks (a backup restored beside a newer
        model): never shown. Found once per model, logged once, and a refit asked for."""
        if self._model is None:
            return set()
        if self._missing is None:
            known = np.asarray(movies.all_movie_ids(self.db), dtype=np.int64)
            missing = np.setdiff1d(self._model.movie_ids, known, assume_unique=True)
            self._missing = {int(m) for m in missing}
            if self._missing:
                log.warning(
                    "the model knows %d movies the database lacks (e.g. id %d); they are "
                    "skipped, and a refit is asked for",
                    len(self._missing),
                    min(self._missing),
                )
                self.refit_wanted = True
        return self._missing

    @property
    def titles(self) -> TitleIndex:
        if self._titles is None:
            self._titles = TitleIndex.from_db(self.db)
        return self._titles

    @property
    def genres(self) -> tuple[str, ...]:
        """Every genre name in the catalog, sorted (read once, like `titles`)."""
        if self._genres is None:
            self._genres = tuple(movies.all_genres(self.db))
        return self._genres

    @property
    def history_matcher(self) -> CatalogMatcher:
        """The catalog ready to match imported histories (built once, like `titles`)."""
        if self._history_matcher is None:
            self._history_matcher = CatalogMatcher(self.db, self.titles)
        return self._history_matcher

    def find(self, query: str, limit: int = 5) -> list[TitleMatch]:
        return self.titles.search(query, limit)

    def resolve(self, query: str) -> Resolution:
        """Which movie `query` names, by title search's acceptance rule (storage.search)."""
        return resolve(self.titles, query)

    def profile(self, user_id: int, model: Model | None = None) -> UserProfile:
        """Fold the user's current ratings (and when they were given) into ``model`` (default:
        the current one): a rating counts the moment it is stored. Movies they marked "seen"
        count for the ranking stage (Model.seen), without a score."""
        model = model or self.model
        history, times = ratings.user_ratings_and_times(self.db, user_id)
        profile = model.fold_in({m: float(r) for m, r in history.items()}, times)
        # Seen without a score: what they chose to watch, for the ranking stage (Model.seen).
        seen = watchlist.seen_ids(self.db, user_id)
        return model.seen(profile, seen) if seen else profile

    def recommend(
        self,
        user_id: int,
        n: int,
        genre: str | None = None,
        years: tuple[int, int] | None = None,
        within: Collection[int] | None = None,
    ) -> list[Pick]:
        """The user's top ``n`` in the model's ranking order, at most two of one franchise
        (spread apart), optionally only ``genre`` and released within ``years`` (inclusive),
        and only among the movies ``within`` (those on the user's streaming services).
        Each pick names the liked movie that raises its ranking most ("because you rated").
        The user's /settings apply: no movie of a genre they excluded, and their novelty.
        Before the first model: the best-rated well-known movies (`best_rated_picks`)."""
        ready = self.ready
        chosen = user_settings.get_settings(self.db, user_id)
        # Hidden, seen without a score, and already saved for later (on /watchlist).
        exclude = set(watchlist.not_to_recommend(self.db, user_id)) | self.missing_movies()

        for excluded in chosen.excluded_genres:
            exclude.update(movies.movie_ids_where(self.db, genre=excluded))
        candidates = None
        if genre or years:
            year_from, year_to = years or (None, None)
            ids = movies.movie_ids_where(self.db, genre=genre, year_from=year_from, year_to=year_to)
            candidates = np.asarray(ids, dtype=np.int64)
        if within is not None:
            allowed = np.asarray(sorted(within), dtype=np.int64)
            candidates = allowed if candidates is None else np.intersect1d(candidates, allowed)
        if not ready:
            if self._popular is None:
                self._popular = ratings.rating_counts_and_sums(self.db)
            popular, franchises = self._popular, self.franchises
            return best_rated_picks(self.db, popular, franchises, user_id, n, exclude, candidates)
        model = self._model
        profile = self.profile(user_id, model)
        novelty = NOVELTY_LEVELS[chosen.adventurous]  # /settings' "how adventurous"
        ranked = model.recommend(
            profile,
            ranked_depth(n),
            exclude=exclude,
            candidates=candidates,
            at=time.time(),
            novelty=novelty,
        )

        predicted = dict(ranked)
        shown = diversify([m for m, _ in ranked], self.franchises, n)
        found = movies.get_movies(self.db, shown)
        history = dict(zip(profile.movie_ids.tolist(), profile.ratings.tolist(), strict=True))
        reasons = {}
        for movie_id, supports in zip(shown, model.explain_picks(profile, shown), strict=True):
            # "Because you rated X 3" would read as nonsense: only a movie the user liked
            # is given as the reason, even where a disliked one contributes more.
            for rated, _ in supports:
                if history.get(rated, 0) >= LIKED:
                    reasons[movie_id] = rated
                    break
        supporting = movies.get_movies(self.db, reasons.values())
        # The top pick is always shown first (diversify keeps it), so it is the 100% match.
        shares = matches(ranking_scores(model, profile, shown, novelty)).tolist()
        match = dict(zip(shown, shares, strict=True))
        picks = []
        for movie_id in shown:
            because = None
            if movie_id in reasons and reasons[movie_id] in supporting:
                reason = reasons[movie_id]
                because = (supporting[reason], int(history[reason]))
            score = float(predicted[movie_id])
            picks.append(Pick(found[movie_id], score, because, match[movie_id]))
        return picks

    @property
    def franchises(self) -> dict[int, str]:
        """``{movie_id: franchise key}`` for the catalog (recommender/diversity.py)."""
        if self._franchises is None:
            self._franchises = franchise_keys(movies.all_titles(self.db))
        return self._franchises

    def similar(self, movie_id: int, n: int, user_id: int | None = None) -> list[Neighbour]:
        """Movies people who watched this one go on to watch and like, best first, each with
        its match (falls with the order) and the share of this movie's fans (rated it 7+) who
        liked it too (7+); ordered for ``user_id`` when they have rated movies (`_nearest`).
        Movies with fewer than ``MIN_RATINGS_FOR_SIMILAR`` ratings get none."""
        model = self.model
        profile = self.profile(user_id, model) if user_id is not None else None
        personal = profile is not None and is_personal(profile)
        try:
            nearest = _nearest(self.db, model, movie_id, n, profile if personal else None)
        except ModelDoesNotKnowMovie:
            return []
        ids = [m for m, _ in nearest]
        found = movies.get_movies(self.db, ids)
        fans, both = ratings.fans_who_also_liked(self.db, movie_id, ids, LIKED)
        return [
            Neighbour(found[m], match, both.get(m, 0) / fans if fans else 0.0, personal)
            for m, match in nearest
            if m in found
        ]

    def rating_count(self, movie_id: int) -> int:
        try:
            return self.model.movie_rating_count(movie_id)
        except ModelDoesNotKnowMovie:
            return 0

    def group_picks(
        self, user_ids: list[int], n: int, from_watchlists: bool = False
    ) -> list[GroupPickView]:
        """The group's top ``n``; with ``from_watchlists``, only among the movies the members
        saved for later."""
        model = self.model
        profiles = [self.profile(uid, model) for uid in user_ids]
        exclude: set[int] = set()
        if from_watchlists:
            saved = watchlist.pool_watchlist(self.db, user_ids)
            if not saved:
                return []
            exclude = set(movies.all_movie_ids(self.db)) - saved.keys()
        picks = model.for_group(profiles, n, exclude | self.missing_movies(), at=time.time())
        found = movies.get_movies(self.db, [p.movie_id for p in picks])
        return [GroupPickView(found[p.movie_id], p.score, p.member_scores) for p in picks]

    def onboarding_movies(self) -> list[int]:
        """The movies onboarding may ask about: the most-rated ones, then the most-voted on
        IMDb of the catalog's last years that are not among them (cached per model)."""
        classics, recent = self.onboarding_pools()
        return classics + recent

    def onboarding_pools(self) -> tuple[list[int], list[int]]:
        if self._onboarding is None:
            classics = most_rated(ratings.rating_counts(self.db))
            newest = self.coverage.newest_year
            recent = []
            if newest is not None:
                recent = recent_well_known(self.db, newest - RECENT_YEARS + 1, RECENT_CARDS)
            known = set(classics)
            self._onboarding = (classics, [m for m in recent if m not in known])
        return self._onboarding

    def next_onboarding_movie(self, user_id: int, skipped: Sequence[int]) -> int | None:
        """The next movie to ask ``user_id`` about during onboarding, or None when there is
        none left: of the most-rated movies they have neither rated nor skipped ("haven't seen
        it"), the one they most likely watched given what they rated so far (the first card:
        the most-rated movie). Chosen on validation over the plain most-rated and the greedy
        diverse-popular orders (recommender/onboarding.py, README.md). Before the first model:
        the most-rated movie left."""
        rated = ratings.user_ratings(self.db, user_id)
        history = {m: float(r) for m, r in rated.items()}
        classics, recent = self.onboarding_pools()
        if not self.ready:
            passed = set(skipped) | set(history)
            return next((m for m in classics if m not in passed), None)
        return adaptive_next(self._model, history, set(skipped), classics, recent)


def best_rated_picks(
    db: Database,
    popular: dict[int, tuple[int, int]],
    franchises: dict[int, str],
    user_id: int,
    n: int,
    exclude: set[int],
    candidates: np.ndarray | None,
) -> list[Pick]:
    """The top `n` of the most-rated movies by damped mean rating (`popular`: each movie's
    count and sum of ratings), leaving out `exclude` and what the user rated, within
    `candidates` (all when None); at most two of one franchise, as `MovieService.recommend`."""
    exclude = exclude | set(ratings.user_ratings(db, user_id))
    pool = popular.keys() if candidates is None else candidates.tolist()
    ranked = best_rated(popular, (m for m in pool if m not in exclude), ranked_depth(n))
    shown = diversify([m for m, _ in ranked], franchises, n)
    found = movies.get_movies(db, shown)
    means = dict(ranked)
    top = ranked[0][1] if ranked else 1.0  # the match: each mean against the first pick's
    return [Pick(found[m], means[m], match=means[m] / top) for m in shown if m in found]


def _nearest(
    db: Database, model: Model, movie_id: int, n: int, profile: UserProfile | None
) -> list[tuple[int, float]]:
    """The model's nearest to ``movie_id`` as ``(movie id, match)``, thin movies left out on
    either side by the same count: ordered for ``profile``, leaving out what they rated or
    saw (recommender/similar_personal.py; docs/history/similar-round2.md), or without one in
    the relation's order for everyone (Model.similar)."""
    if profile is None:
        return model.similar(movie_id, n, min_ratings=MIN_RATINGS_FOR_SIMILAR)

    def genres_of(ids: Sequence[int]) -> dict[int, frozenset[str]]:
        return {m: frozenset(movie.genres) for m, movie in movies.get_movies(db, ids).items()}

    return personal_similar(model, profile, movie_id, genres_of, n, MIN_RATINGS_FOR_SIMILAR)
