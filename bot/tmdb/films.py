"""TMDB's facts for the films a reply shows: from the cache when fresh, else one request per
film, fetched concurrently (the client caps the rate), then cached.

The network is awaited on the event loop; the database is reached only through `run` (the bot's
database thread, BotRuntime.run), so neither blocks the other. A film TMDB cannot tell about
now (timeout, throttled too long) is simply left out: the card falls back to its text form.

    facts = await facts_for(movies, client=client, run=run, db=db)   # {movie id: FilmFacts}
    dropped = await refresh_changed(client=client, run=run, db=db, since=date(2026, 12, 1))
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, timedelta
from typing import Any

from sqlite_utils import Database

from bot.tmdb.client import NotFound, TmdbClient, TmdbConfig, TmdbError
from bot.tmdb.facts import KINDS, FilmFacts
from storage import tmdb_cache
from storage.movies import Movie

log = logging.getLogger(__name__)

Run = Callable[..., Awaitable[Any]]
# How long a card waits for TMDB (a cold cache, a slow TMDB) before it goes as text.
CARD_SECONDS = 3.0
Row = tuple[int, int | None, str | None]  # (movie id, TMDB id, facts JSON), as cached


async def facts_for(
    movies: Iterable[Movie],
    *,
    client: TmdbClient,
    run: Run,
    db: Database,
    max_age: timedelta = tmdb_cache.MAX_AGE,
) -> dict[int, FilmFacts]:
    """Movie id -> TMDB's facts, for the films TMDB knows (from the cache when at most
    `max_age` old)."""
    wanted = {movie.id: movie for movie in movies}
    known = await run(tmdb_cache.cached, db, list(wanted), max_age)
    missing = [movie for movie_id, movie in wanted.items() if movie_id not in known]
    if missing:
        fetched = await asyncio.gather(*(_fetch(client, movie) for movie in missing))
        rows = [row for row in fetched if row is not None]
        if rows:
            await run(tmdb_cache.store, db, rows, _offers(rows))
        known.update((movie_id, facts) for movie_id, _, facts in rows)
    return {
        movie_id: FilmFacts.from_json(text) for movie_id, text in known.items() if text is not None
    }


def _offers(rows: list[Row]) -> list[tuple[int, str, str, int]]:
    """(movie id, country, kind, provider id) of every offer in the fetched facts."""
    offers = []
    for movie_id, _, text in rows:
        if text is None:
            continue
        for country, found in FilmFacts.from_json(text).offers.items():
            for kind in KINDS:
                offers.extend((movie_id, country, kind, pid) for pid, _ in getattr(found, kind))
    return offers


async def _fetch(client: TmdbClient, movie: Movie) -> Row | None:
    """The cache row for one film; None when TMDB could not answer now (asked again later)."""
    try:
        tmdb_id = movie.tmdb_id
        if tmdb_id is None and movie.imdb_id:
            tmdb_id = await client.find_imdb(movie.imdb_id)
        if tmdb_id is None:
            return movie.id, None, None  # TMDB has no record of it: remembered as such
        try:
            body = await client.movie(tmdb_id)
        except NotFound:
            return movie.id, tmdb_id, None
        return movie.id, tmdb_id, FilmFacts.from_tmdb(body).to_json()
    except TmdbError as error:
        log.warning("no TMDB facts for movie %d: %s", movie.id, error)
        return None
    except (KeyError, TypeError, ValueError) as error:  # a reply not shaped as documented
        log.warning("unreadable TMDB facts for movie %d: %r", movie.id, error)
        return None


async def refresh_changed(
    *, client: TmdbClient, run: Run, db: Database, since: date, until: date | None = None
) -> int:
    """Drop the cached facts of every film TMDB changed from `since` to `until` (today), so
    they are fetched again when next shown; how many rows were dropped. A TmdbError passes
    up (the scheduler retries on its next round)."""
    changed = await client.changed_ids(since, until or date.today())
    return await run(tmdb_cache.forget_tmdb_ids, db, changed) if changed else 0


class TmdbFilms:
    """TMDB for the bot's replies: the operator's configuration and one client (its session,
    rate cap and concurrency shared by every reply), on the bot's event loop."""

    def __init__(self, config: TmdbConfig, client: TmdbClient | None = None) -> None:
        self.config = config
        self.client = client or TmdbClient(config)
        self._background: set[asyncio.Future] = set()  # fetches an answer stopped waiting for

    async def facts(
        self, movie: Movie, *, run: Run, db: Database, seconds: float = CARD_SECONDS
    ) -> FilmFacts | None:
        """TMDB's facts about one film (cached), None when TMDB has none or cannot say within
        `seconds` (then the card goes as text, and the fetch goes on to warm the cache)."""
        return (await self.facts_within([movie], seconds, run=run, db=db)).get(movie.id)

    async def facts_within(
        self, movies: Iterable[Movie], seconds: float, *, run: Run, db: Database
    ) -> dict[int, FilmFacts]:
        """`facts_for` the films, or {} if that takes longer than `seconds` (an inline answer
        cannot wait); the fetch then goes on in the background and warms the cache."""
        task = asyncio.ensure_future(facts_for(movies, client=self.client, run=run, db=db))
        self._background.add(task)
        task.add_done_callback(self._finished)
        done, _ = await asyncio.wait({task}, timeout=seconds)
        return task.result() if done else {}

    def _finished(self, task: asyncio.Future) -> None:
        """Forget a finished fetch; log its failure when no answer was waiting for it."""
        self._background.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.warning("TMDB fetch failed: %r", error)

    def poster_url(self, facts: FilmFacts) -> str | None:
        """Where Telegram fetches the film's poster (w500: sharp in a chat, ~50 KB)."""
        return self.config.image(facts.poster_path) if facts.poster_path else None

    def thumbnail_url(self, facts: FilmFacts) -> str | None:
        """The film's poster as a thumbnail (w92) for an inline result."""
        return self.config.image(facts.poster_path, "w92") if facts.poster_path else None

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await self.client.close()


def facts_now(config: TmdbConfig, movie: Movie, db: Database) -> FilmFacts | None:
    """`facts_for` one film from synchronous code (the console chat): its own event loop and
    client for the call, the database on this thread."""

    async def here(fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    async def fetch() -> FilmFacts | None:
        async with TmdbClient(config) as client:
            return (await facts_for([movie], client=client, run=here, db=db)).get(movie.id)

    return asyncio.run(fetch())
