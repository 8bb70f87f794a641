"""The films a person waits for, for the streaming alert ("tell me when it streams or is out"):
their watchlist and the films they tapped "Tell me when" on, less those they stopped watching;
and what the alert last saw of each for them, so it fires on a change and only once.

    tell_me(db, user_id, movie_id, True)      # "Tell me when" (False: stop watching it)
    watching(db, user_id, movie_id)           # is it watched (asked, or on the watchlist)?
    watched(db)                               # every (person, film) the job must look at
    note_seen(db, user_id, movie_id, streams=True, released=None, seen_for="ES:8")

A (person, film) seen for the first time only records what is true now (a film already
streaming when they asked is not news); an alert is for a fact that went from false to true
for the same country and services (`seen_for`: the person moving, or naming a service the
film was on all along, is not news either).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from storage import alerts
from storage.db import utc_now
from storage.movies import require_movie
from storage.users import require_user
from storage.validate import check_id


@dataclass(frozen=True)
class Watch:
    """One film one person waits for, with what the alert last saw (None: not seen yet)."""

    user_id: int
    movie_id: int
    streams: bool | None
    released: bool | None
    seen_for: str | None


def tell_me(db: Database, user_id: int, movie_id: int, on: bool) -> None:
    """Watch the film for the person ("Tell me when"), or stop watching it (even if it is on
    their watchlist: they said they do not want its alerts)."""
    check_id(user_id, "user id")
    check_id(movie_id, "movie id")
    with db.atomic():
        require_user(db, user_id)
        require_movie(db, movie_id)
        db.execute(
            "INSERT INTO alert_watches (user_id, movie_id, asked, muted, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, movie_id) DO UPDATE SET "
            "asked = excluded.asked, muted = excluded.muted",
            [user_id, movie_id, int(on), int(not on), utc_now()],
        )


def asked(db: Database, user_id: int, movie_id: int) -> bool:
    """Whether the person tapped "Tell me when" on the film (and did not stop watching it):
    what a second tap undoes. A film only on their watchlist was not asked for."""
    check_id(user_id, "user id")
    check_id(movie_id, "movie id")
    row = db.execute(
        "SELECT asked, muted FROM alert_watches WHERE user_id = ? AND movie_id = ?",
        [user_id, movie_id],
    ).fetchone()
    return row is not None and bool(row[0]) and not row[1]


def watching(db: Database, user_id: int, movie_id: int) -> bool:
    """Whether the person waits for the film: they asked, or it is on their watchlist, and
    they did not stop watching it."""
    check_id(user_id, "user id")
    check_id(movie_id, "movie id")
    row = db.execute(
        """
        SELECT coalesce(w.asked, 0), coalesce(w.muted, 0),
            EXISTS (SELECT 1 FROM watchlist WHERE user_id = ? AND movie_id = ?)
        FROM (SELECT 1) LEFT JOIN alert_watches w ON w.user_id = ? AND w.movie_id = ?
        """,
        [user_id, movie_id, user_id, movie_id],
    ).fetchone()
    asked, muted, listed = row
    return bool((asked or listed) and not muted)


def watched(db: Database) -> list[Watch]:
    """Every (person, film) the streaming alert looks at: the films of the people who turned
    it on, from their watchlists and their "Tell me when" taps, less the ones they stopped."""
    rows = db.execute(
        """
        SELECT s.user_id, f.movie_id, w.streams, w.released, w.seen_for
        FROM alert_subscriptions s
        JOIN (
            SELECT user_id, movie_id FROM watchlist
            UNION SELECT user_id, movie_id FROM alert_watches WHERE asked = 1
        ) f ON f.user_id = s.user_id
        LEFT JOIN alert_watches w ON w.user_id = f.user_id AND w.movie_id = f.movie_id
        WHERE s.streaming = 1 AND coalesce(w.muted, 0) = 0
        ORDER BY s.user_id, f.movie_id
        """
    ).fetchall()
    return [
        Watch(uid, mid, None if s is None else bool(s), None if r is None else bool(r), seen)
        for uid, mid, s, r, seen in rows
    ]


def note_seen(
    db: Database,
    user_id: int,
    movie_id: int,
    streams: bool | None,
    released: bool | None,
    seen_for: str,
) -> None:
    """Record what the alert sees of the film for the person now, in the country and with the
    services `seen_for` names (None: not known, the last seen value is kept)."""
    check_id(user_id, "user id")
    check_id(movie_id, "movie id")
    now = utc_now()
    with db.atomic():
        db.execute(
            """
            INSERT INTO alert_watches
                (user_id, movie_id, streams, released, seen_for, created_at, seen_at)
            SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM users WHERE id = ?)
                AND EXISTS (SELECT 1 FROM movies WHERE id = ?)
            ON CONFLICT (user_id, movie_id) DO UPDATE SET
                streams = coalesce(excluded.streams, streams),
                released = coalesce(excluded.released, released),
                seen_for = excluded.seen_for,
                seen_at = excluded.seen_at
            """,
            [
                user_id,
                movie_id,
                _flag(streams),
                _flag(released),
                seen_for,
                now,
                now,
                user_id,
                movie_id,
            ],
        )


def journal_change(
    db: Database,
    watch: Watch,
    streams: bool | None,
    released: bool | None,
    seen_for: str,
    journaled: list[tuple[str, str | None]],
) -> int:
    """Record what is seen now and journal the film's alerts, as (period, outcome JSON or None:
    only marked done), in one transaction (through `storage.alerts.journal_alert`, so its
    rules, once per period and only for the opted in, hold); how many messages were new."""
    with db.atomic():
        note_seen(db, watch.user_id, watch.movie_id, streams, released, seen_for)
        new = [
            alerts.journal_alert(db, watch.user_id, alerts.STREAMING, period, outcome, utc_now())
            and outcome is not None
            for period, outcome in journaled
        ]
        return sum(new)


def period(movie_id: int, fact: str) -> str:
    """The outbox period of a film's alert ("862:stream", "862:out"): once per person."""
    return f"{movie_id}:{fact}"


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)
