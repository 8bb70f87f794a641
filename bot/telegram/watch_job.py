"""The streaming alert's job: every WATCH_SECONDS, with the operator's TMDB key, look at the
films people wait for (their watchlist and "Tell me when", storage/alert_watches.py) and
journal an alert for each one that started streaming on their services in their country, or
came out there, since the last look; the alerts job (bot/telegram/alerts.py) sends them.

One round:
- reads TMDB's change list from where the last round stopped and drops the cached facts of
  the films it names (`bot.tmdb.films.refresh_changed`), so every card shows fresh facts;
- asks TMDB again about every watched film whose facts are older than one round
  (WATCHED_MAX_AGE), so a change is seen within one round even when the change list misses
  it (where to watch comes from JustWatch), and a release date passing needs no request;
- compares, for each (person, film), what is true now with what the last round saw and
  journals one alert per (person, film, fact) (the outbox's unique key: once, even across
  restarts); a pair seen for the first time, or for another country or other services than
  last time (the person changed, not the film), only records what is true.

Without a key the job does nothing (the weekly digest needs none).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from telegram.ext import Application

from bot.commands.features import alerts as alert_content
from bot.service import MovieService
from bot.telegram.delivery import BotRuntime
from bot.tmdb.client import TmdbError
from bot.tmdb.facts import FilmFacts
from bot.tmdb.films import facts_for, refresh_changed
from bot.ui import countries
from bot.ui.replies import outcome_to_json
from storage import alert_watches, tmdb_cache, users
from storage.movies import Movie, get_movies

log = logging.getLogger(__name__)

WATCH_SECONDS = 6 * 3600.0
FIRST_WATCH_SECONDS = 120.0
# A watched film's facts are asked for again once a round: a fact is seen a round after it
# changes at the latest. Less than a round by a margin: facts fetched while the last round
# ran (it takes minutes with many films) must count as old at this round's start.
ROUND_MARGIN = timedelta(minutes=30)
WATCHED_MAX_AGE = timedelta(seconds=WATCH_SECONDS) - ROUND_MARGIN
# Films asked about at once; their (person, film) pairs are then compared in trips of at most
# PAIRS_PER_TRIP to the database thread (answers to people get the database between: a
# popular film may be waited for by thousands).
CHUNK = 200
PAIRS_PER_TRIP = 500
STREAM, OUT = "stream", "out"


class WatchJob:
    """The streaming alert's job (see the module's docstring)."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()

    async def job(self, context: Any) -> None:
        """The JobQueue's callback."""
        await self.run(context.application)

    async def run(self, application: Application, today: date | None = None) -> int:
        """One round; how many alerts it journaled (0 without TMDB, or when a round is still
        running). They are sent at once (a round of the alerts job)."""
        rt: BotRuntime = application.bot_data.runtime
        tmdb = rt.service.tmdb
        if tmdb is None or self.lock.locked():
            return 0
        async with self.lock:
            today = today or datetime.now(UTC).date()
            await self._read_changes(rt, today)
            watches = await rt.run(alert_watches.watched, rt.db)
            by_movie: dict[int, list[alert_watches.Watch]] = defaultdict(list)
            for watch in watches:
                by_movie[watch.movie_id].append(watch)
            ids = sorted(by_movie)
            journaled = 0
            for start in range(0, len(ids), CHUNK):
                movies = await rt.run(get_movies, rt.db, ids[start : start + CHUNK])
                facts = await facts_for(
                    movies.values(),
                    client=tmdb.client,
                    run=rt.run,
                    db=rt.db,
                    max_age=WATCHED_MAX_AGE,
                )
                mine = [w for movie_id in movies for w in by_movie[movie_id]]
                for first in range(0, len(mine), PAIRS_PER_TRIP):
                    trip = mine[first : first + PAIRS_PER_TRIP]
                    journaled += await rt.run(
                        journal_watches, rt.service, trip, movies, facts, today
                    )
        if journaled:
            log.info("%d film alert(s) journaled", journaled)
            sender = application.bot_data.alerts
            if sender is not None:
                await sender.run(application)
        return journaled

    async def _read_changes(self, rt: BotRuntime, today: date) -> None:
        """Drop the cached facts of the films TMDB changed since the last round."""
        checked = await rt.run(tmdb_cache.changes_checked, rt.db)
        # Rows older than the cache's age limit are fetched again anyway: no need to go back
        # further after a long stop.
        oldest = today - tmdb_cache.MAX_AGE
        since = max(date.fromisoformat(checked), oldest) if checked else today - timedelta(1)
        try:
            dropped = await refresh_changed(
                client=rt.service.tmdb.client, run=rt.run, db=rt.db, since=since, until=today
            )
        except TmdbError as error:
            log.warning("TMDB's change list not read: %s", error)
            return
        await rt.run(tmdb_cache.note_changes_checked, rt.db, today.isoformat())
        if dropped:
            log.info("TMDB changed %d cached film(s)", dropped)


def journal_watches(
    service: MovieService,
    watches: list[alert_watches.Watch],
    movies: dict[int, Movie],
    facts: dict[int, FilmFacts],
    today: date,
) -> int:
    """Compare each (person, film) with what was last seen and journal the alerts of what
    changed; how many were journaled. Films TMDB could not tell about now are left as
    they were."""
    db = service.db
    with db.atomic():  # one commit for the trip, not one per pair
        return _compare(service, watches, movies, facts, today)


def _compare(
    service: MovieService,
    watches: list[alert_watches.Watch],
    movies: dict[int, Movie],
    facts: dict[int, FilmFacts],
    today: date,
) -> int:
    db = service.db
    where: dict[int, tuple[str, set[int]]] = {}
    journaled = 0
    for watch in watches:
        found, movie = facts.get(watch.movie_id), movies.get(watch.movie_id)
        if found is None or movie is None:
            continue
        if watch.user_id not in where:
            user = users.get_user(db, watch.user_id)
            country = countries.country_of(db, watch.user_id, user.language)
            where[watch.user_id] = country, tmdb_cache.services_of(db, watch.user_id)
        country, services = where[watch.user_id]
        names, released = alert_content.seen_now(found, country, services, today)
        streams = bool(names)
        # Only a change of the film is news, not one of the person's country or services.
        place = alert_content.seen_for(country, services)
        same = watch.seen_for == place
        started = same and watch.streams is False and streams
        came_out = same and watch.released is False and released is True
        periods: list[tuple[str, str | None]] = []
        if started or came_out:
            out = found.out_on(country) if came_out else None
            outcome = alert_content.film_alert(
                service, watch.user_id, movie, names if started else [], out
            )
            text = outcome_to_json(outcome)
            if started:
                periods.append((alert_watches.period(movie.id, STREAM), text))
            if came_out:  # both at once: one message says both, the other is marked done
                periods.append((alert_watches.period(movie.id, OUT), None if started else text))
        if periods or not same or (streams, released) != (watch.streams, watch.released):
            journaled += alert_watches.journal_change(db, watch, streams, released, place, periods)
    return journaled
