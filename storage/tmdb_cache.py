"""The TMDB cache: what TMDB said about a film (JSON the bot reads, bot/tmdb/facts.py), when it
was asked, the films TMDB has no record of, and where each can be watched (by country and
service); and each person's country and streaming services for "where to watch".

A row older than the age limit is as good as missing; rows of films TMDB lists as changed are
dropped (``forget_tmdb_ids``), so the next card asks again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from storage.db import utc_now
from storage.errors import InvalidArgument
from storage.users import require_user
from storage.validate import check_id

MAX_AGE = timedelta(days=7)


def cached(
    db: Database, movie_ids: Iterable[int], max_age: timedelta = MAX_AGE
) -> dict[int, str | None]:
    """movie id -> its facts (JSON; None: TMDB has no such film), for the fresh rows among
    `movie_ids`; stale and missing ones are left out."""
    ids = [check_id(movie_id, "movie id") for movie_id in movie_ids]
    oldest = (datetime.now(UTC) - max_age).isoformat(timespec="microseconds")
    found: dict[int, str | None] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            f"SELECT movie_id, facts FROM tmdb_cache WHERE movie_id IN ({marks})"
            " AND fetched_at >= ?",
            [*chunk, oldest],
        )
        found.update(rows)
    return found


def store(
    db: Database,
    rows: Iterable[tuple[int, int | None, str | None]],
    offers: Iterable[tuple[int, str, str, int]] = (),
) -> None:
    """Keep (movie id, TMDB id or None, facts JSON or None) rows, fetched now, and where the
    films can be watched as (movie id, country, kind, provider id), replacing what was kept.
    Rows of films the catalog no longer has are skipped (a film may be removed while TMDB is
    asked)."""
    now = utc_now()
    by_movie: dict[int, list[tuple[int, str, str, int]]] = {}
    for offer in offers:
        by_movie.setdefault(offer[0], []).append(offer)
    with db.atomic():
        for movie_id, tmdb_id, facts in rows:
            check_id(movie_id, "movie id")
            db.execute("DELETE FROM tmdb_offers WHERE movie_id = ?", [movie_id])
            db.execute(
                """
                INSERT INTO tmdb_cache (movie_id, tmdb_id, facts, fetched_at)
                SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM movies WHERE id = ?)
                ON CONFLICT (movie_id) DO UPDATE SET tmdb_id = excluded.tmdb_id,
                    facts = excluded.facts, fetched_at = excluded.fetched_at
                """,
                [movie_id, tmdb_id, facts, now, movie_id],
            )
            if db.execute("SELECT 1 FROM tmdb_cache WHERE movie_id = ?", [movie_id]).fetchone():
                db.conn.executemany(
                    "INSERT OR IGNORE INTO tmdb_offers (movie_id, country, kind, provider_id)"
                    " VALUES (?, ?, ?, ?)",
                    by_movie.get(movie_id, []),
                )


def forget_tmdb_ids(db: Database, tmdb_ids: Iterable[int]) -> int:
    """Drop the cached facts of these TMDB films (TMDB changed them); how many rows went."""
    ids = sorted({int(i) for i in tmdb_ids})
    dropped = 0
    with db.atomic():
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            cursor = db.execute(f"DELETE FROM tmdb_cache WHERE tmdb_id IN ({marks})", chunk)
            dropped += cursor.rowcount
    return dropped


def streaming_on(
    db: Database, country: str, provider_ids: Iterable[int], max_age: timedelta = MAX_AGE
) -> dict[int, set[int]]:
    """Movie id -> which of `provider_ids` stream it (flatrate) in `country`, for the films
    whose cached facts are fresh (those not cached yet are not known to stream anywhere)."""
    ids = sorted({int(i) for i in provider_ids})
    if not ids:
        return {}
    oldest = (datetime.now(UTC) - max_age).isoformat(timespec="microseconds")
    marks = ",".join("?" * len(ids))
    found: dict[int, set[int]] = {}
    for movie_id, provider_id in db.execute(
        f"""
        SELECT o.movie_id, o.provider_id FROM tmdb_offers o
        JOIN tmdb_cache c ON c.movie_id = o.movie_id
        WHERE o.country = ? AND o.kind = 'flatrate' AND o.provider_id IN ({marks})
            AND c.fetched_at >= ?
        """,
        [country.upper(), *ids, oldest],
    ):
        found.setdefault(movie_id, set()).add(provider_id)
    return found


def services_of(db: Database, user_id: int) -> set[int]:
    """The streaming services (TMDB provider ids) the person said they have."""
    check_id(user_id, "user id")
    rows = db.execute("SELECT provider_id FROM user_services WHERE user_id = ?", [user_id])
    return {provider_id for (provider_id,) in rows}


def set_service(db: Database, user_id: int, provider_id: int, has: bool) -> None:
    """Note that the person has (or no longer has) this service."""
    check_id(user_id, "user id")
    check_id(provider_id, "provider id")
    with db.atomic():
        require_user(db, user_id)
        if has:
            db.execute(
                "INSERT OR IGNORE INTO user_services (user_id, provider_id) VALUES (?, ?)",
                [user_id, provider_id],
            )
        else:
            db.execute(
                "DELETE FROM user_services WHERE user_id = ? AND provider_id = ?",
                [user_id, provider_id],
            )


def cached_count(db: Database) -> int:
    return db.execute("SELECT count(*) FROM tmdb_cache").fetchone()[0]


def country_of(db: Database, user_id: int) -> tuple[str | None, str | None]:
    """(the country the person picked, the Telegram language they last had); Nones for
    someone never seen."""
    check_id(user_id, "user id")
    row = db.execute("SELECT country, language FROM users WHERE id = ?", [user_id]).fetchone()
    return (row[0], row[1]) if row else (None, None)


def choose_country(db: Database, user_id: int, country: str | None) -> None:
    """Store the person's country (two letters, ISO 3166-1; None: guess it again)."""
    check_id(user_id, "user id")
    if country is not None and not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise InvalidArgument(f"a country is two letters, not {country!r}")
    with db.atomic():
        require_user(db, user_id)
        db.execute(
            "UPDATE users SET country = ? WHERE id = ?",
            [country.upper() if country else None, user_id],
        )


def changes_checked(db: Database) -> str | None:
    """The last day ("2026-12-05") TMDB's change list was read up to; None: never."""
    row = db.execute("SELECT checked_until FROM tmdb_changes WHERE id = 1").fetchone()
    return row[0] if row else None


def note_changes_checked(db: Database, day: str) -> None:
    """TMDB's change list was read up to `day` (ISO date)."""
    with db.atomic():
        db.execute(
            "INSERT INTO tmdb_changes (id, checked_until) VALUES (1, ?) "
            "ON CONFLICT (id) DO UPDATE SET checked_until = excluded.checked_until",
            [day],
        )
