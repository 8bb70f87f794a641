"""Pictures of a person's taste, as PNG bytes for sendPhoto: what they show (here) and how
they are drawn (bot/files/drawing.py).

Two halves, kept apart:
- ``taste_data`` / ``map_data`` / ``group_data`` take a :class:`MovieService` and gather plain
  data (they read SQLite through storage/'s queries, the model through its public methods and
  the service only for recommendations and group picks, so call them on the bot's database
  thread);
- ``taste_chart`` / ``movie_map`` / ``group_chart`` (bot/files/drawing.py) draw that data and
  touch nothing else: no SQL, no model. They use matplotlib's object-oriented API on the Agg
  canvas (no pyplot, no global figure state), so they can run in any worker thread, off the
  event loop.

    data = taste_data(service, user_id)        # NoRatings if the user has rated nothing
    png = drawing.taste_chart(data)            # bytes, 1080 px wide
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.service import MovieService
from bot.ui import names
from bot.ui.i18n import _
from recommender import Model
from recommender.errors import UnknownMovie as ModelDoesNotKnowMovie
from recommender.projection import LandmarkMap, unit_rows
from storage import chats, movies, ratings

TOP_PICKS = 5
GENRES_EACH_SIDE = 4
# A genre needs this many of the user's ratings before it is shown, when enough genres have it.
MIN_GENRE_RATINGS = 2
# Movies with fewer ratings have noisy learned features: they stay off the map.
MAP_MIN_RATINGS = 20
# Movies whose cosines fix the map's coordinates (recommender.projection); must be >= the rank.
MAP_ANCHORS = 80
MAP_LANDMARKS = 9
MAP_PICKS = 5


class ChartError(Exception):
    """Base class for the reasons a picture cannot be drawn."""


class NoRatings(ChartError):
    """The user has rated nothing yet: there is no taste to draw (reply "rate a few movies")."""


class ModelLearning(ChartError):
    """A fresh database's first model is still being fitted (bot/service.py's ModelNotReady)."""


class MapUnavailable(ChartError):
    """The model has no learned movie features to lay a map out with (rank 0, or too few
    movies with enough ratings)."""


class EmptyPool(ChartError):
    """Nobody has joined the chat's pool, or the pool has nothing left to pick."""


# ---------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class GenreLean:
    """How much higher (positive) or lower the user rates a genre's movies than everyone does,
    on the 1-10 scale, over ``n`` of the user's ratings."""

    genre: str
    lean: float
    n: int


@dataclass(frozen=True)
class TasteData:
    n_ratings: int
    user_counts: tuple[int, ...]  # how many of the user's ratings are 1, 2, ..., 10
    community_counts: tuple[int, ...]  # the same over every rating in the database
    genres: tuple[GenreLean, ...]  # highest lean first
    picks: tuple[tuple[str, float], ...]  # (label, predicted score), best first


@dataclass(frozen=True)
class MapPoint:
    movie_id: int
    label: str
    x: float
    y: float
    value: float | None = None  # the user's rating, or the predicted score of a pick


@dataclass(frozen=True)
class MapData:
    xy: np.ndarray  # (n, 2): every movie on the map
    rated: tuple[MapPoint, ...]  # value = the user's rating
    picks: tuple[MapPoint, ...]  # value = predicted score
    landmarks: tuple[MapPoint, ...]
    focus: MapPoint | None
    n_ratings: int


@dataclass(frozen=True)
class GroupData:
    members: tuple[str, ...]
    picks: tuple[tuple[str, float, tuple[float, ...]], ...]  # (label, group score, per member)


def _history(service: MovieService, user_id: int) -> dict[int, int]:
    history = ratings.user_ratings(service.db, user_id)
    if not history:
        raise NoRatings(f"user {user_id} has no ratings")
    return history


# The community's rating distribution, computed once per model: a refit swaps the model, and
# the distribution of 100k+ ratings barely moves between refits.
_community_cache: weakref.WeakKeyDictionary[Model, tuple[int, ...]] = weakref.WeakKeyDictionary()


def _community_counts(service: MovieService) -> tuple[int, ...]:
    model = service.model
    counts = _community_cache.get(model)
    if counts is None:
        counts = ratings.score_counts(service.db)
        _community_cache[model] = counts
    return counts


def genre_leans(history: dict[int, int], model: Model, genres: dict[int, Sequence[str]]):
    """Per genre: ``lean = mean_j (r_j - m_j)`` over the user's rated movies ``j`` of that genre,
    with ``m_j = mu + b_j`` the movie's (damped) mean rating from the model, so a genre the user
    merely watches good movies of does not look loved. Movies the model does not know are left
    out. Returns every genre, highest lean first (ties: more ratings first, then by name)."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for movie_id, rating in history.items():
        try:
            diff = rating - model.movie_mean(movie_id)
        except ModelDoesNotKnowMovie:
            continue
        for genre in genres.get(movie_id, ()):
            sums[genre] = sums.get(genre, 0.0) + diff
            counts[genre] = counts.get(genre, 0) + 1
    leans = [GenreLean(g, sums[g] / counts[g], counts[g]) for g in sums]
    return sorted(leans, key=lambda g: (-g.lean, -g.n, g.genre))


def _shown_genres(leans: list[GenreLean]) -> tuple[GenreLean, ...]:
    """The highest and the lowest few, preferring genres with enough ratings to mean something."""
    solid = [g for g in leans if g.n >= MIN_GENRE_RATINGS]
    pool = solid if len(solid) >= 4 else leans
    if len(pool) <= 2 * GENRES_EACH_SIDE:
        return tuple(pool)
    return tuple(pool[:GENRES_EACH_SIDE] + pool[-GENRES_EACH_SIDE:])


def taste_data(service: MovieService, user_id: int, picks: int = TOP_PICKS) -> TasteData:
    """Everything :func:`taste_chart` draws; :class:`NoRatings` when the user has rated nothing."""
    history = _history(service, user_id)
    user_counts = np.bincount(np.clip(list(history.values()), 1, 10), minlength=11)[1:11]
    found = movies.get_movies(service.db, history)
    leans = genre_leans(history, service.model, {m: found[m].genres for m in found})
    top = service.recommend(user_id, picks)
    return TasteData(
        n_ratings=len(history),
        user_counts=tuple(int(c) for c in user_counts),
        community_counts=_community_counts(service),
        genres=_shown_genres(leans),
        picks=tuple((p.movie.label, p.score) for p in top),
    )


@dataclass(frozen=True)
class _Projection:
    """The map, laid out once per model: the movies with enough ratings and learned features
    (``ids``, sorted) at ``xy``; ``popular``: those ids, most rated first; ``anchors``: the most
    rated, whose cosines fix the layout (the maths: :mod:`recommender.projection`)."""

    ids: np.ndarray
    xy: np.ndarray
    popular: np.ndarray
    anchors: np.ndarray
    layout: LandmarkMap


_projection_cache: weakref.WeakKeyDictionary[Model, _Projection] = weakref.WeakKeyDictionary()


def _projection(model: Model) -> _Projection:
    cached = _projection_cache.get(model)
    if cached is not None:
        return cached
    ids = model.movie_ids
    counts = np.fromiter((model.movie_rating_count(int(m)) for m in ids), np.int64, ids.size)
    eligible = ids[counts >= MAP_MIN_RATINGS]
    if eligible.size < 3 * MAP_ANCHORS:
        raise MapUnavailable(f"only {eligible.size} movies have {MAP_MIN_RATINGS}+ ratings")
    units, ok = unit_rows(model.movie_factors(eligible))
    if units.shape[1] == 0 or not ok.any():
        raise MapUnavailable("the model has no movie features")
    eligible_counts = counts[counts >= MAP_MIN_RATINGS]
    by_popularity = eligible[np.lexsort((eligible, -eligible_counts))]
    # Movies without learned features have no place; anchors are the most rated of the rest.
    eligible, units = eligible[ok], units[ok]
    popular = by_popularity[np.isin(by_popularity, eligible)]
    anchors = popular[:MAP_ANCHORS]
    layout, xy = LandmarkMap.fit(units, np.searchsorted(eligible, anchors))
    projection = _Projection(eligible, xy, popular, anchors, layout)
    _projection_cache[model] = projection
    return projection


def _spread(candidates: list[int], xy: dict[int, np.ndarray], k: int, avoid: list[np.ndarray]):
    """Up to ``k`` of ``candidates`` (most popular first), greedily far from each other and from
    ``avoid``: farthest-point sampling, so the labels cover the map instead of one cluster."""
    chosen: list[int] = []
    taken = list(avoid)
    for _pick in range(k):
        best, best_d = None, -1.0
        for movie_id in candidates:
            if movie_id in chosen:
                continue
            d = min((float(np.linalg.norm(xy[movie_id] - t)) for t in taken), default=1e9)
            if d > best_d:
                best, best_d = movie_id, d
        if best is None:
            break
        chosen.append(best)
        taken.append(xy[best])
    return chosen


def map_data(service: MovieService, user_id: int, focus_movie_id: int | None = None) -> MapData:
    """Everything :func:`movie_map` draws. :class:`NoRatings` when the user has rated nothing,
    :class:`MapUnavailable` when the model cannot lay out a map."""
    history = _history(service, user_id)
    model = service.model
    proj = _projection(model)
    row = {int(m): k for k, m in enumerate(proj.ids)}

    def position(movie_id: int) -> np.ndarray | None:
        if movie_id in row:
            return proj.xy[row[movie_id]]
        try:
            unit, ok = unit_rows(model.movie_factors(np.array([movie_id])))
        except ModelDoesNotKnowMovie:
            return None
        if not ok[0]:
            return None  # a movie without learned features has no place on the map
        return proj.layout.place(unit[0])

    top = service.recommend(user_id, MAP_PICKS)
    wanted = [m for m in history if m in row] + [p.movie.id for p in top]
    if focus_movie_id is not None:
        wanted.append(focus_movie_id)
    popular = [int(m) for m in proj.popular[:40]]
    if focus_movie_id is not None and (where := position(focus_movie_id)) is not None:
        # Landmarks around the focus: the well-known movies nearest to it.
        pool = proj.popular[:400]
        near = np.argsort(np.linalg.norm(proj.xy[[row[int(m)] for m in pool]] - where, axis=1))
        popular = [int(pool[k]) for k in near[:30]]
    found = movies.get_movies(service.db, set(wanted) | set(popular))

    def point(movie_id: int, value: float | None = None) -> MapPoint | None:
        where = position(movie_id)
        if where is None or movie_id not in found:
            return None
        return MapPoint(movie_id, found[movie_id].label, float(where[0]), float(where[1]), value)

    rated = [point(m, float(r)) for m, r in history.items() if m in row]
    picks = [point(p.movie.id, p.score) for p in top]
    focus = point(focus_movie_id) if focus_movie_id is not None else None
    marked = {p.movie_id for p in [*picks, focus] if p is not None}
    avoid = [np.array([p.x, p.y]) for p in [*picks, focus] if p is not None]
    xy = {m: proj.xy[row[m]] for m in popular}
    candidates = [m for m in popular if m not in marked and m in found]
    landmarks = [point(m) for m in _spread(candidates, xy, MAP_LANDMARKS, avoid)]
    return MapData(
        xy=proj.xy,
        rated=tuple(p for p in rated if p is not None),
        picks=tuple(p for p in picks if p is not None),
        landmarks=tuple(p for p in landmarks if p is not None),
        focus=focus,
        n_ratings=len(history),
    )


def group_data(service: MovieService, chat_id: int, n: int = 5) -> GroupData:
    """The pool's picks with each member's predicted score; :class:`EmptyPool` when there is no
    one to pick for or nothing left."""
    members = chats.pool_members(service.db, chat_id)
    if not members:
        raise EmptyPool(f"chat {chat_id} has no pool")
    picks = service.group_picks([uid for uid, _ in members], n)
    if not picks:
        raise EmptyPool(f"chat {chat_id}'s pool has rated everything")
    names = tuple(
        _first_word(name) or _("member {n}").format(n=k)
        for k, (_uid, name) in enumerate(members, 1)
    )
    return GroupData(
        members=names,
        picks=tuple((p.movie.label, p.score, tuple(p.member_scores)) for p in picks),
    )


def _first_word(name: str | None) -> str:
    return names.first_name(name, fallback="")[:14]
