"""The TMDB cache: what TMDB said about a film (JSON the bot reads, bot/tmdb/facts.py), when it
was asked, and the films TMDB has no record of; and each person's country for "where to watch".

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


def store(db: Database, rows: Iterable[tuple[int, int | None, str | None]]) -> None:
    """Keep (movie id, TMDB id or None, facts JSON or None) rows, fetched now. Rows of films the
    catalog no longer has are skipped (a film may be removed while TMDB is asked)."""
    now = utc_now()
    with db.atomic():
        for movie_id, tmdb_id, facts in rows:
            check_id(movie_id, "movie id")
            db.execute(
                """
                INSERT INTO tmdb_cache (movie_id, tmdb_id, facts, fetched_at)
                SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM movies WHERE id = ?)
                ON CONFLICT (movie_id) DO UPDATE SET tmdb_id = excluded.tmdb_id,
                    facts = excluded.facts, fetched_at = excluded.fetched_at
                """,
                [movie_id, tmdb_id, facts, now, movie_id],
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
