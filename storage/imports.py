"""Ratings history brought from elsewhere (IMDb, Letterboxd) and taken away (/export).

An import is shown before it is applied: the plan waits in `pending_imports` (one per user)
until the user taps "Import", replaces it with another file, lets it expire (`PENDING_MINUTES`)
or uses /forget (it cascades with the user). Applying stores every score, watchlist entry and
"seen" mark of the plan in one transaction, and changes nothing that is already so: importing
the same file twice leaves the database as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from storage.db import utc_now
from storage.errors import InvalidArgument
from storage.ratings import Existing, store_scores
from storage.users import require_user
from storage.validate import check_id

# A previewed import waits this long for its tap.
PENDING_MINUTES = 60
MAX_PLAN_BYTES = 4 * 2**20


@dataclass(frozen=True)
class Applied:
    """What applying an import changed."""

    rated: int  # new ratings
    replaced: int  # earlier scores replaced by the file's
    saved: int  # new watchlist entries
    seen: int  # new "seen it" marks


def movies_by_imdb_id(db: Database) -> dict[str, int]:
    """``{"tt0133093": movie id}`` for every catalog movie with an IMDb id."""
    rows = db.execute("SELECT imdb_id, id FROM movies WHERE imdb_id IS NOT NULL")
    return {imdb_id: movie_id for imdb_id, movie_id in rows}


def catalog_key(db: Database) -> tuple[int, int, float]:
    """What changes when the catalog does (films added, names updated): an import worker with
    a copy of the catalog reads it again when this differs."""
    return tuple(
        db.execute(
            "SELECT count(*), coalesce(max(id), 0), total(length(aliases)) FROM movies"
        ).fetchone()
    )


def save_pending(db: Database, user_id: int, plan: dict[str, Any]) -> None:
    """Keep `plan` (JSON-ready) as the user's import waiting for its tap, replacing any other."""
    check_id(user_id, "user id")
    text = json.dumps(plan, separators=(",", ":"))
    if len(text) > MAX_PLAN_BYTES:
        raise InvalidArgument("the import is too large to keep")
    with db.atomic():
        require_user(db, user_id)
        db.execute(
            "INSERT OR REPLACE INTO pending_imports (user_id, plan, created_at) VALUES (?, ?, ?)",
            [user_id, text, utc_now()],
        )


def pending(db: Database, user_id: int) -> dict[str, Any] | None:
    """The user's import waiting for its tap, or None (none, or older than PENDING_MINUTES)."""
    check_id(user_id, "user id")
    row = db.execute(
        "SELECT plan FROM pending_imports WHERE user_id = ? AND created_at >= ?",
        [user_id, _cutoff()],
    ).fetchone()
    return json.loads(row[0]) if row else None


def drop_pending(db: Database, user_id: int) -> bool:
    """Forget the user's waiting import; False when there was none."""
    check_id(user_id, "user id")
    with db.atomic():
        cursor = db.execute("DELETE FROM pending_imports WHERE user_id = ?", [user_id])
    return cursor.rowcount > 0


def prune_pending(db: Database, older_than: str | None = None) -> int:
    """Delete imports that waited longer than PENDING_MINUTES (or since `older_than`)."""
    with db.atomic():
        cursor = db.execute(
            "DELETE FROM pending_imports WHERE created_at < ?", [older_than or _cutoff()]
        )
    return cursor.rowcount


def apply_import(
    db: Database,
    user_id: int,
    new: dict[int, int],
    replace: dict[int, int],
    saved: list[int],
    seen: list[int],
    plan_id: int | None = None,
) -> Applied:
    """Store the scores in `new` where the user has none, replace theirs with `replace`'s,
    put `saved` on their watchlist and mark `seen` seen, in one transaction.

    A score the user gave meanwhile is kept (`new` never overwrites); a score that is already
    the one asked for is not touched (its time stays), so applying twice changes nothing.
    Rated movies leave the watchlist and the hidden movies, as with a rating typed in.
    With `plan_id`, the user's pending import becomes that plan, done, with the counts."""
    check_id(user_id, "user id")
    for movie_id, score in [*new.items(), *replace.items()]:
        check_id(movie_id, "movie id")
        if not isinstance(score, int) or not 1 <= score <= 10:
            raise InvalidArgument(f"score {score!r} for movie {movie_id} is not 1-10")
    now = utc_now()
    with db.atomic():
        require_user(db, user_id)
        before = _counts(db, user_id)
        conn = db.conn
        # The scores go through the one door every rating takes (storage/ratings.py).
        added = store_scores(db, user_id, new, Existing.KEEP)
        changed = store_scores(db, user_id, replace, Existing.REPLACE_CHANGED)
        rated = set(new) | set(replace)
        # Counted as rows inserted, not as the list's length before and after: a rated film
        # leaves the watchlist, which made "-1 on your watchlist" (issue 25).
        saved_rows = conn.executemany(
            "INSERT OR IGNORE INTO watchlist (user_id, movie_id, added_at) "
            "SELECT ?, id, ? FROM movies WHERE id = ? "
            "AND NOT EXISTS (SELECT 1 FROM ratings WHERE user_id = ? AND movie_id = ?)",
            [(user_id, now, m, user_id, m) for m in saved if m not in rated],
        ).rowcount
        seen_rows = conn.executemany(
            "INSERT OR IGNORE INTO seen_movies (user_id, movie_id, seen_at) "
            "SELECT ?, id, ? FROM movies WHERE id = ? "
            "AND NOT EXISTS (SELECT 1 FROM ratings WHERE user_id = ? AND movie_id = ?)",
            [(user_id, now, m, user_id, m) for m in seen if m not in rated],
        ).rowcount
        after = _counts(db, user_id)
        applied = Applied(
            rated=after[0] - before[0],
            replaced=sum(1 for c in [*added, *changed] if c.previous is not None),
            saved=max(0, saved_rows),
            seen=max(0, seen_rows),
        )
        if plan_id is not None:
            # The plan is kept as done, with what it did: a second tap on "Import" says so
            # (issue 24) instead of "send the file again".
            done = {"id": plan_id, "applied": applied.__dict__}
            db.execute(
                "UPDATE pending_imports SET plan = ? WHERE user_id = ?",
                [json.dumps(done, separators=(",", ":")), user_id],
            )
    return applied


@dataclass(frozen=True)
class ExportRow:
    """One movie of a user's history, as /export writes it."""

    title: str
    year: int | None
    imdb_id: str | None
    tmdb_id: int | None
    genres: str
    rating: int | None  # 1-10; None on the watchlist
    date: str  # when rated (or saved), ISO text


def history_for_export(db: Database, user_id: int) -> tuple[list[ExportRow], list[ExportRow]]:
    """The user's ratings and watchlist, oldest first, with the ids other sites match on."""
    check_id(user_id, "user id")
    rated = db.execute(
        """
        SELECT m.title, m.year, m.imdb_id, m.tmdb_id, m.genres, r.rating, r.updated_at
        FROM ratings r JOIN movies m ON m.id = r.movie_id
        WHERE r.user_id = ? ORDER BY r.updated_at, m.id
        """,
        [user_id],
    ).fetchall()
    saved = db.execute(
        """
        SELECT m.title, m.year, m.imdb_id, m.tmdb_id, m.genres, NULL, w.added_at
        FROM watchlist w JOIN movies m ON m.id = w.movie_id
        WHERE w.user_id = ? ORDER BY w.added_at, m.id
        """,
        [user_id],
    ).fetchall()
    return [ExportRow(*row) for row in rated], [ExportRow(*row) for row in saved]


def _counts(db: Database, user_id: int) -> tuple[int, int, int]:
    """(ratings, watchlist entries, seen marks) of the user."""
    return db.execute(
        """
        SELECT (SELECT count(*) FROM ratings WHERE user_id = ?),
               (SELECT count(*) FROM watchlist WHERE user_id = ?),
               (SELECT count(*) FROM seen_movies WHERE user_id = ?)
        """,
        [user_id, user_id, user_id],
    ).fetchone()


def _cutoff() -> str:
    """The creation time before which a waiting import has expired."""
    cutoff = datetime.now(UTC) - timedelta(minutes=PENDING_MINUTES)
    return cutoff.isoformat(timespec="microseconds")
