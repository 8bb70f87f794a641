"""A user's watchlist (movies saved for later) and the movies they have seen without a score.

"Seen it" is not "Not interested" (storage/state.hidden_movies): both keep a movie out of the
picks, but a seen movie is one the user watched (it may be rated later), a hidden one is one
they never want. Rating a movie takes it off the watchlist: it is watched now.
"""

from __future__ import annotations

from sqlite_utils import Database

from storage.db import utc_now
from storage.movies import require_movie
from storage.users import require_user
from storage.validate import check_id


def save_for_later(db: Database, user_id: int, movie_id: int) -> bool:
    """Put the movie on the user's watchlist; False when it was there already."""
    check_id(user_id, "user id")
    check_id(movie_id, "movie id")
    with db.atomic():
        require_user(db, user_id)
        require_movie(db, movie_id)
        cursor = db.execute(
            "INSERT OR IGNORE INTO watchlist (user_id, movie_id, added_at) VALUES (?, ?, ?)",
            [user_id, movie_id, utc_now()],
        )
    return cursor.rowcount > 0


def save_many_for_later(db: Database, user_id: int, movie_ids: list[int]) -> int:
    """Put the movies on the user's watchlist in one statement; return how many were new."""
    check_id(user_id, "user id")
    ids = [check_id(movie_id, "movie id") for movie_id in movie_ids]
    with db.atomic():
        require_user(db, user_id)
        before = count_watchlist(db, user_id)
        now = utc_now()
        db.conn.executemany(
            "INSERT OR IGNORE INTO watchlist (user_id, movie_id, added_at) VALUES (?, ?, ?)",
            [(user_id, movie_id, now) for movie_id in ids],
        )
        return count_watchlist(db, user_id) - before


def remove_from_watchlist(db: Database, user_id: int, movie_id: int) -> bool:
    """Take the movie off the user's watchlist; False when it was not on it."""
    check_id(user_id, "user id")
    check_id(movie_id, "movie id")
    with db.atomic():
        cursor = db.execute(
            "DELETE FROM watchlist WHERE user_id = ? AND movie_id = ?", [user_id, movie_id]
        )
    return cursor.rowcount > 0


def watchlist_ids(db: Database, user_id: int) -> set[int]:
    """The movies on the user's watchlist."""
    check_id(user_id, "user id")
    rows = db.execute("SELECT movie_id FROM watchlist WHERE user_id = ?", [user_id])
    return {row[0] for row in rows}


def count_watchlist(db: Database, user_id: int) -> int:
    check_id(user_id, "user id")
    return db.execute("SELECT count(*) FROM watchlist WHERE user_id = ?", [user_id]).fetchone()[0]


def pool_watchlist(db: Database, user_ids: list[int]) -> dict[int, int]:
    """``{movie_id: how many of user_ids saved it}`` over the users' watchlists."""
    ids = [check_id(user_id, "user id") for user_id in user_ids]
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = db.execute(
        f"SELECT movie_id, count(*) FROM watchlist WHERE user_id IN ({marks}) GROUP BY movie_id",
        ids,
    )
    return dict(rows.fetchall())


def mark_seen(db: Database, user_id: int, movie_id: int) -> bool:
    """Note that the user has seen the movie (no score); it leaves their watchlist. False when
    it was marked already."""
    check_id(user_id, "user id")
    check_id(movie_id, "movie id")
    with db.atomic():
        require_user(db, user_id)
        require_movie(db, movie_id)
        cursor = db.execute(
            "INSERT OR IGNORE INTO seen_movies (user_id, movie_id, seen_at) VALUES (?, ?, ?)",
            [user_id, movie_id, utc_now()],
        )
        db.execute("DELETE FROM watchlist WHERE user_id = ? AND movie_id = ?", [user_id, movie_id])
    return cursor.rowcount > 0


def mark_many_seen(db: Database, user_id: int, movie_ids: list[int]) -> int:
    """Mark the movies seen in one statement (they leave the watchlist); return how many
    were new."""
    check_id(user_id, "user id")
    ids = [check_id(movie_id, "movie id") for movie_id in movie_ids]
    with db.atomic():
        require_user(db, user_id)
        (before,) = db.execute(
            "SELECT count(*) FROM seen_movies WHERE user_id = ?", [user_id]
        ).fetchone()
        now = utc_now()
        db.conn.executemany(
            "INSERT OR IGNORE INTO seen_movies (user_id, movie_id, seen_at) VALUES (?, ?, ?)",
            [(user_id, movie_id, now) for movie_id in ids],
        )
        db.conn.executemany(
            "DELETE FROM watchlist WHERE user_id = ? AND movie_id = ?",
            [(user_id, movie_id) for movie_id in ids],
        )
        (after,) = db.execute(
            "SELECT count(*) FROM seen_movies WHERE user_id = ?", [user_id]
        ).fetchone()
    return after - before


def seen_ids(db: Database, user_id: int) -> set[int]:
    """The movies the user marked seen without a score."""
    check_id(user_id, "user id")
    rows = db.execute("SELECT movie_id FROM seen_movies WHERE user_id = ?", [user_id])
    return {row[0] for row in rows}


def unmark_seen(db: Database, user_id: int, movie_id: int) -> bool:
    """Undo "seen": the movie may be picked again. False when it was not marked."""
    check_id(user_id, "user id")
    check_id(movie_id, "movie id")
    cursor = db.execute(
        "DELETE FROM seen_movies WHERE user_id = ? AND movie_id = ?", [user_id, movie_id]
    )
    return cursor.rowcount > 0


def not_to_recommend(db: Database, user_id: int) -> set[int]:
    """What the user's picks leave out besides their ratings: hidden ("Not interested"),
    seen without a score, and saved for later (their watchlist already holds those)."""
    check_id(user_id, "user id")
    rows = db.execute(
        """
        SELECT movie_id FROM hidden_movies WHERE user_id = ?
        UNION SELECT movie_id FROM seen_movies WHERE user_id = ?
        UNION SELECT movie_id FROM watchlist WHERE user_id = ?
        """,
        [user_id, user_id, user_id],
    )
    return {row[0] for row in rows}
