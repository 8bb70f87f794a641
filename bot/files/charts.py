"""Pictures of a person's taste, as PNG bytes for sendPhoto.

Two halves, kept apart:
- ``taste_data`` / ``map_data`` / ``group_data`` take a :class:`MovieService` and gather plain
  data (they read SQLite through storage/'s queries, the model through its public methods and
  the service only for recommendations and group picks, so call them on the bot's database
  thread);
- ``taste_chart`` / ``movie_map`` / ``group_chart`` draw that data and touch nothing else: no
  SQL, no model. They use matplotlib's object-oriented API on the Agg canvas (no pyplot, no
  global figure state), so they can run in any worker thread, off the event loop.

    data = taste_data(service, user_id)        # NoRatings if the user has rated nothing
    png = taste_chart(data)                    # bytes, 1080 px wide
"""

from __future__ import annotations

import io
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from bot.service import MovieService
from bot.ui import i18n, names
from bot.ui.genres import shown as shown_genre
from bot.ui.i18n import _, ngettext
from recommender import Model
from recommender.errors import UnknownMovie as ModelDoesNotKnowMovie
from recommender.projection import LandmarkMap, unit_rows
from storage import chats, movies, ratings

# Drawn at 150 dpi: 7.2 inches is 1080 px, the width Telegram shows a photo at on most phones.
DPI = 150
WIDTH_INCHES = 7.2
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

INK = "#222222"
MUTED = "#8a8a8a"
ACCENT = "#1f6fb4"
COMMUNITY = "#c9c9c9"
ABOVE = "#2a7fbf"
BELOW = "#d0603c"
PICK = "#f2b01e"
MEMBER_COLOURS = ["#1f6fb4", "#d0603c", "#3a9d5d", "#8e5cb8", "#c2417f", "#6b6b6b", "#b58b00"]


class ChartError(Exception):
    """Base class for the reasons a picture cannot be drawn."""


class NoRatings(ChartError):
    """The user has rated nothing yet: there is no taste to draw (reply "rate a few movies")."""


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


# ---------------------------------------------------------------------------------- drawing


def _figure(height_inches: float) -> Figure:
    figure = Figure(figsize=(WIDTH_INCHES, height_inches), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def _plain(ax) -> None:
    """No chart junk: no frame but the baseline, light ticks."""
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(MUTED)
    ax.tick_params(colors=INK, labelsize=13, length=0)


def _text(target, x: float, y: float, text: str, **style):
    """Draw `text` as written: never as mathtext, so a name or title such as "$x^$" cannot
    break the picture (matplotlib parses text between two "$" as TeX)."""
    return target.text(x, y, text, parse_math=False, **style)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _heading(figure: Figure, y: float, text: str) -> None:
    _text(figure, 0.05, y, text, fontsize=18, color=INK, weight="bold", va="top")


def taste_chart(data: TasteData) -> bytes:
    """One portrait PNG, 1080 px wide: how you rate vs everyone, the genres you rate above and
    below everyone, and your top picks."""
    figure = _figure(10.6)
    _text(
        figure, 0.05, 0.975, _("Your movie taste"), fontsize=24, weight="bold", color=INK, va="top"
    )
    subtitle = ngettext(
        "from your {count} rating", "from your {count} ratings", data.n_ratings
    ).format(count=data.n_ratings)
    _text(
        figure,
        0.05,
        0.935,
        subtitle,
        fontsize=14,
        color=MUTED,
        va="top",
    )

    # 1. How you rate, against everyone: shares of each score, so the two scales compare.
    scores = np.arange(1, 11)
    user = np.asarray(data.user_counts, float)
    community = np.asarray(data.community_counts, float)
    you_mean = float((scores * user).sum() / max(user.sum(), 1))
    all_mean = float((scores * community).sum() / max(community.sum(), 1))
    how = _("How you rate: average {you}, everyone {everyone}").format(
        you=i18n.decimal(you_mean), everyone=i18n.decimal(all_mean)
    )
    _heading(figure, 0.885, how)
    ax = figure.add_axes((0.05, 0.655, 0.9, 0.175))
    ax.bar(
        scores,
        100 * community / max(community.sum(), 1),
        width=0.85,
        color=COMMUNITY,
        label=_("everyone"),
    )
    ax.bar(scores, 100 * user / max(user.sum(), 1), width=0.42, color=ACCENT, label=_("you"))
    ax.set_xticks(scores)
    ax.set_xlim(0.4, 10.6)
    ax.set_yticks([])
    _plain(ax)
    ax.legend(frameon=False, fontsize=13, loc="upper left", bbox_to_anchor=(0, 1.12))
    ax.set_xlabel(_("score (share of ratings)"), fontsize=13, color=MUTED)

    # 2. Genres, relative to everyone's ratings of the same movies.
    _heading(figure, 0.565, _("Genres you rate above / below everyone"))
    ax = figure.add_axes((0.38, 0.3, 0.57, 0.225))
    if data.genres:
        genres = list(data.genres)[::-1]
        leans = np.array([g.lean for g in genres])
        rows = np.arange(len(genres))
        ax.barh(rows, leans, height=0.62, color=[ABOVE if v >= 0 else BELOW for v in leans])
        ax.set_yticks(rows, [_short(f"{shown_genre(g.genre)} (n={g.n})", 24) for g in genres])
        reach = max(1.0, float(np.abs(leans).max()) * 1.4)
        ax.set_xlim(-reach, reach)
        ax.set_ylim(-0.6, len(genres) - 0.4)
        ax.axvline(0, color=MUTED, linewidth=1)
        for k, v in enumerate(leans):
            _text(
                ax,
                v + (0.04 if v >= 0 else -0.04) * reach,
                k,
                ("+" if v >= 0 else "") + i18n.decimal(v),
                va="center",
                ha="left" if v >= 0 else "right",
                fontsize=13,
                color=INK,
            )
        ax.set_xticks([])
        _plain(ax)
        ax.spines["bottom"].set_visible(False)
        _text(
            figure,
            0.05,
            0.285,
            _("points above or below everyone's average for the same movies"),
            fontsize=12,
            color=MUTED,
            va="top",
        )
    else:
        ax.axis("off")
        _text(
            figure, 0.05, 0.45, _("Rate a few more movies to see this."), fontsize=14, color=MUTED
        )

    # 3. Top picks, as a list: text reads better than bars on a phone.
    _heading(figure, 0.225, _("Your top picks"))
    shown = data.picks[:TOP_PICKS]
    if not shown:
        _text(
            figure,
            0.05,
            0.17,
            _("Nothing left to recommend: you've seen it all!"),
            fontsize=14,
            color=MUTED,
            va="top",
        )
    for k, (label, score) in enumerate(shown):
        y = 0.17 - k * 0.034
        _text(figure, 0.05, y, f"{k + 1}.", fontsize=15, color=MUTED, va="center")
        _text(figure, 0.1, y, _short(label, 44), fontsize=15, color=INK, va="center")
        _text(
            figure,
            0.95,
            y,
            i18n.decimal(score),
            fontsize=15,
            color=ACCENT,
            va="center",
            ha="right",
            weight="bold",
        )
    return _png(figure)


def _place_labels(
    ax, items: list[tuple[float, float, str, dict]], renderer, keep_clear: Sequence[tuple]
) -> list[bool]:
    """Label points without overlaps: try a few offsets around each point, in order of
    importance, and leave out a label that fits nowhere. ``keep_clear``: (x, y, radius in
    pixels) of markers no label may cover. Returns which items got their label."""
    taken: list[Bbox] = []
    for x, y, r in keep_clear:
        px, py = ax.transData.transform((x, y))
        taken.append(Bbox.from_extents(px - r, py - r, px + r, py + r))
    inside = ax.get_window_extent(renderer)
    offsets = [(9, 4), (9, -16), (-9, 4), (-9, -16), (4, 14), (4, -26), (-4, 14), (-4, -26)]
    placed = []
    for x, y, text, style in items:
        placed.append(False)
        for dx, dy in offsets:
            label = ax.annotate(
                text,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                parse_math=False,
                ha="left" if dx >= 0 else "right",
                **style,
            )
            box = label.get_window_extent(renderer).expanded(1.05, 1.15)
            fits = (
                box.x0 >= inside.x0
                and box.x1 <= inside.x1
                and box.y0 >= inside.y0
                and box.y1 <= inside.y1
            )
            if fits and not any(box.overlaps(t) for t in taken):
                taken.append(box)
                placed[-1] = True
                break
            label.remove()
    return placed


def movie_map(data: MapData) -> bytes:
    """A portrait PNG, 1080 px wide: movies liked by the same people sit together; your rated
    movies coloured by your score, your top picks as numbered stars (listed underneath), a few
    well-known movies labelled; with a focus movie, zoomed on it."""
    figure = _figure(9.8)
    ax = figure.add_axes((0.02, 0.27, 0.96, 0.62))
    ax.set_axis_off()
    focus = data.focus
    title = (
        _("Where your taste sits")
        if focus is None
        else _("Around {title}").format(title=_short(focus.label, 30))
    )
    _text(figure, 0.04, 0.975, title, fontsize=22, weight="bold", color=INK, va="top")
    _text(
        figure,
        0.04,
        0.935,
        _("Movies close together are liked by the same people."),
        fontsize=13,
        color=MUTED,
        va="top",
    )
    xy = data.xy
    ax.scatter(xy[:, 0], xy[:, 1], s=7, color="#dedede", linewidths=0, zorder=1)
    lo, hi = np.percentile(xy, 0.5, axis=0), np.percentile(xy, 99.5, axis=0)
    if focus is not None:
        # Zoom on the focus: half the map's span, centred on it.
        half = (hi - lo) / 4
        lo = np.array([focus.x, focus.y]) - half
        hi = np.array([focus.x, focus.y]) + half
    pad = (hi - lo) * 0.04
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])

    if data.rated:
        rated = np.array([(p.x, p.y, p.value) for p in data.rated])
        dots = ax.scatter(
            rated[:, 0],
            rated[:, 1],
            c=rated[:, 2],
            cmap="RdYlBu",
            vmin=1,
            vmax=10,
            s=80,
            edgecolors="white",
            linewidths=0.8,
            zorder=3,
        )
        bar_ax = figure.add_axes((0.6, 0.055, 0.35, 0.018))
        bar = figure.colorbar(dots, cax=bar_ax, orientation="horizontal", ticks=[1, 4, 7, 10])
        bar.outline.set_visible(False)
        bar.ax.tick_params(labelsize=12, length=0, colors=INK)
        _text(figure, 0.6, 0.085, "● " + _("your ratings"), fontsize=13, color=INK)
    if data.picks:
        picks = np.array([(p.x, p.y) for p in data.picks])
        ax.scatter(
            picks[:, 0],
            picks[:, 1],
            marker="*",
            s=460,
            color=PICK,
            edgecolors=INK,
            linewidths=0.9,
            zorder=4,
        )
    if focus is not None:
        ax.scatter(
            [focus.x], [focus.y], s=460, facecolors="none", edgecolors=INK, linewidths=2.2, zorder=5
        )

    # The picks, numbered on the map and named underneath, where long titles always fit.
    _text(
        figure,
        0.04,
        0.235,
        "★ " + _("Your top picks"),
        fontsize=15,
        weight="bold",
        color=INK,
        va="top",
    )
    for k, p in enumerate(data.picks):
        _text(
            figure,
            0.04,
            0.195 - k * 0.032,
            f"{k + 1}  {_short(p.label, 34)}  {i18n.decimal(p.value)}",
            fontsize=13,
            color=INK,
            va="top",
        )

    renderer = figure.canvas.get_renderer()
    items = []
    if focus is not None:
        items.append(
            (
                focus.x,
                focus.y,
                _short(focus.label, 30),
                {"fontsize": 15, "weight": "bold", "color": INK, "zorder": 6},
            )
        )
    for k, p in enumerate(data.picks):
        items.append(
            (p.x, p.y, str(k + 1), {"fontsize": 14, "weight": "bold", "color": INK, "zorder": 6})
        )
    top_rated = sorted(data.rated, key=lambda p: -(p.value or 0))[:3]
    for p in top_rated:
        items.append((p.x, p.y, _short(p.label, 24), {"fontsize": 12, "color": ACCENT}))
    for p in data.landmarks:
        items.append((p.x, p.y, _short(p.label, 24), {"fontsize": 12, "color": "#6e6e6e"}))
    clear = [(p.x, p.y, 15) for p in data.picks]
    clear += [(p.x, p.y, 7) for p in data.rated]
    if focus is not None:
        clear.append((focus.x, focus.y, 18))
    placed = _place_labels(ax, items, renderer, clear)
    # A landmark is drawn only when its name found room: an unnamed grey dot says nothing.
    first = len(items) - len(data.landmarks)
    named = [p for p, ok in zip(data.landmarks, placed[first:], strict=True) if ok]
    if named:
        ax.scatter(
            [p.x for p in named],
            [p.y for p in named],
            s=16,
            color="#8f8f8f",
            linewidths=0,
            zorder=2,
        )
    return _png(figure)


def group_chart(data: GroupData) -> bytes:
    """A dot plot, 1080 px wide: one row per pick, each member's predicted score as a coloured
    dot and the group's score as a black bar."""
    n = len(data.picks)
    height = 2.4 + 0.8 * n
    figure = _figure(height)
    top = 1 - 0.3 / height
    _text(
        figure, 0.05, top, _("Picks for the group"), fontsize=22, weight="bold", color=INK, va="top"
    )
    colours = [MEMBER_COLOURS[m % len(MEMBER_COLOURS)] for m in range(len(data.members))]
    # The legend: one coloured dot and name per member, in a row under the title.
    for m, name in enumerate(data.members[:8]):
        x = 0.05 + (m % 4) * 0.23
        y = top - (0.6 + 0.3 * (m // 4)) / height
        _text(figure, x, y, "●", fontsize=16, color=colours[m], va="center")
        _text(figure, x + 0.04, y, name, fontsize=13, color=INK, va="center")
    bottom = 0.75 / height
    ax = figure.add_axes(
        (0.05, bottom, 0.9, top - (1.3 if len(data.members) > 4 else 1.0) / height - bottom)
    )
    for k, (label, score, members) in enumerate(data.picks):
        y = n - 1 - k
        _text(ax, 1.0, y + 0.3, f"{k + 1}. {_short(label, 46)}", fontsize=14, color=INK)
        ax.plot([1, 10], [y, y], color="#eeeeee", linewidth=1, zorder=1)
        ax.scatter(
            members,
            [y] * len(members),
            s=110,
            c=colours[: len(members)],
            edgecolors="white",
            linewidths=0.8,
            zorder=3,
        )
        ax.plot([score, score], [y - 0.22, y + 0.22], color=INK, linewidth=3, zorder=4)
    ax.set_xlim(0.8, 10.2)
    ax.set_ylim(-0.5, n - 0.1)
    ax.set_yticks([])
    ax.set_xticks(range(1, 11))
    _plain(ax)
    ax.set_xlabel(_("predicted score (black bar: the group's score)"), fontsize=13, color=MUTED)
    return _png(figure)
