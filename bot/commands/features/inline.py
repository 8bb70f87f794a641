"""Inline mode: "@moviebot frozen" in any chat offers movie cards to post there.

Transport-agnostic: :func:`inline_answers` turns (asker, query, offset) into an
:class:`InlinePage` of plain cards; the Telegram adapter wraps each card in an
``InlineQueryResultArticle`` and answers with ``CACHE_TIME`` and ``IS_PERSONAL``. An empty query
offers the asker's top recommendations; anything else searches titles. Bad input (too long,
only emoji, a garbled offset) gives an empty page, never an exception.

    page = inline_answers(service, user_id, "frozen", "")
    page.results[0].id == "m106696"; page.next_offset == "" when there are no more
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from bot.service import MovieService
from bot.ui import countries, genres, i18n
from bot.ui.cards import link_buttons, title_link
from bot.ui.html import esc
from bot.ui.i18n import _
from bot.ui.replies import Button
from recommender import UserProfile
from storage import movies, ratings
from storage.errors import InvalidArgument
from storage.movies import Movie
from storage.search import MAX_QUERY_LENGTH

# Telegram shows at most 50 results per answer; 20 keeps each answer small and quick.
PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
# How far one can scroll: searches past this are noise, recommendations past this are weak.
MAX_RESULTS = 100
# Results depend on the asker's ratings: Telegram must not show them to anyone else, and should
# ask again soon after a new rating.
IS_PERSONAL = True
CACHE_TIME = 10  # seconds
MAX_MESSAGE_TEXT = 4096  # Telegram's limit for the posted message
MAX_TITLE = 200  # a card's title line; longer catalog titles are cut


@dataclass(frozen=True)
class InlineCard:
    """One result: ``id`` is stable per movie ("m<movie_id>"); ``message_text`` is what gets
    posted when the card is chosen (HTML: the title linked to IMDb, the genres), with the
    movie's link buttons under it and a preview of ``preview_url`` (Telegram draws the
    poster)."""

    id: str
    movie_id: int
    title: str
    description: str
    message_text: str
    predicted: float | None = None  # the asker's predicted score, when the model knows the movie
    your_rating: int | None = None  # the asker's own rating, when they rated it
    links: tuple[Button, ...] = ()
    preview_url: str | None = None


@dataclass(frozen=True)
class InlinePage:
    results: list[InlineCard]
    next_offset: str  # "" when there are no more results (what Telegram expects)


EMPTY = InlinePage([], "")


def _parse_offset(offset: str) -> int | None:
    """The start index encoded in ``offset`` ("" is 0); None when it is not one of ours."""
    if not offset:
        return 0
    if not offset.isascii() or not offset.isdigit() or len(offset) > 6:
        return None
    start = int(offset)
    return start if start < MAX_RESULTS else None


def _clean_query(query: str) -> str | None:
    """The query to search for, or None for one that cannot be a title."""
    if not isinstance(query, str):
        return None
    query = query.strip()
    if len(query) > MAX_QUERY_LENGTH or not query.isprintable():
        return None
    return query


def _card(movie: Movie, predicted: float | None, rated: int | None, cold: bool) -> InlineCard:
    parts = [str(movie.year)] if movie.year else []
    # A movie MovieLens lists as "(no genres listed)" has none (storage drops the marker).
    if listed := genres.shown_list(movie.genres):
        parts.append(listed)
    if rated is not None:
        parts.append(_("you rated it {rating}/10").format(rating=rated))
    elif predicted is not None:
        # With no ratings the prediction is just the movie's average: say so.
        score = i18n.decimal(predicted)
        if cold:
            parts.append(_("average {score}/10").format(score=score))
        else:
            parts.append(_("your predicted score {score}/10").format(score=score))
    # A catalog title is far below Telegram's 4096 characters: no cut that could split a tag.
    lines = [title_link(movie)]
    if listed:
        lines.append(esc(listed))
    return InlineCard(
        id=f"m{movie.id}",
        movie_id=movie.id,
        title=movie.label[:MAX_TITLE],
        description=" · ".join(parts),
        message_text="\n".join(lines),
        predicted=predicted,
        your_rating=rated,
        links=link_buttons(movie),
        preview_url=movie.imdb_url,
    )


def inline_answers(
    service: MovieService,
    user_id: int,
    query: str,
    offset: str,
    page_size: int = PAGE_SIZE,
    language: str | None = None,
) -> InlinePage:
    """One page of cards for an inline query (call it off the event loop: it reads SQLite).

    Empty query: the asker's top recommendations; otherwise the best title matches, best first.
    ``offset`` is the ``next_offset`` of the previous page ("" for the first). The cards speak
    the asker's language (their /language choice, else ``language``, Telegram's code) and
    link to where to watch in their country."""
    country = countries.country_of(service.db, user_id, language)
    with i18n.speaking(i18n.language_of(service.db, user_id, language)), countries.located(country):
        return _inline_page(service, user_id, query, offset, page_size)


def _inline_page(
    service: MovieService, user_id: int, query: str, offset: str, page_size: int
) -> InlinePage:
    """One page of cards, in the language being spoken."""
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    start = _parse_offset(offset)
    text = _clean_query(query)
    if start is None or text is None:
        return EMPTY
    want = min(start + page_size + 1, MAX_RESULTS)  # one more than shown: is there a next page?
    if text:
        try:
            ids = [m.movie_id for m in service.find(text, limit=want)]
        except InvalidArgument:
            return EMPTY
    else:
        ids = [p.movie.id for p in service.recommend(user_id, want)]
    shown = ids[start : start + page_size]
    if not shown:
        return EMPTY
    more = len(ids) > start + page_size and start + page_size < MAX_RESULTS
    found = movies.get_movies(service.db, shown)
    if not service.ready:  # a fresh database's first fit is running: cards without a forecast
        mine = ratings.user_ratings(service.db, user_id)
        cards = [_card(found[m], None, mine.get(m), not mine) for m in shown if m in found]
        return InlinePage(cards, str(start + page_size) if more else "")
    model = service.model
    profile = service.profile(user_id, model)
    known = [m for m, ok in zip(shown, np.isin(shown, model.movie_ids), strict=True) if ok]
    at = time.time()
    scores = (
        dict(zip(known, model.predict(profile, known, at=at).tolist(), strict=True))
        if known
        else {}
    )
    cold = profile.n_ratings == 0
    rated = _asker_ratings(service, user_id, profile, [m for m in shown if m not in scores])
    cards = [
        _card(found[m], _finite(scores.get(m)), rated.get(m), cold) for m in shown if m in found
    ]
    return InlinePage(cards, str(start + page_size) if more else "")


def _asker_ratings(
    service: MovieService, user_id: int, profile: UserProfile, unknown: list[int]
) -> dict[int, int]:
    """The asker's ratings of the shown movies: the profile already holds those of every movie
    the model knows; one the model does not know (added to the catalog since the last fit) is
    read on its own, so the asker's ratings are not read twice."""
    rated = {int(m): int(r) for m, r in zip(profile.movie_ids, profile.ratings, strict=True)}
    for movie_id in unknown:
        if (rating := ratings.get_rating(service.db, user_id, movie_id)) is not None:
            rated[movie_id] = rating
    return rated


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
