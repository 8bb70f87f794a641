"""Ratings on the 1-10 scale: one row per user and movie; rating again replaces the score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
from sqlite_utils import Database

from storage.db import utc_now
from storage.movies import Movie, _movie, require_movie
from storage.users import require_user
from storage.validate import check_id, check_rating


@dataclass(frozen=True)
class RatingChange:
    """What set_rating did: the new score and the one it replaced, if any."""

    movie_id: int
    rating: int
    previous: int | None


class Existing(Enum):
    """What storing a score does when the user already rated the movie."""

    REPLACE = "replace"  # typed or tapped: the new score wins and becomes the latest (/undo's)
    KEEP = "keep"  # imported as new: the user's own score stays
    # Imported to replace: a different score wins; the same one keeps its time, so importing
    # a file twice changes nothing.
    REPLACE_CHANGED = "replace_changed"


def store_scores(
    db: Database, user_id: int, scores: Mapping[int, int], existing: Existing = Existing.REPLACE
) -> list[RatingChange]:
    """What storing a rating means, typed, tapped or imported alike: each score is 1-10 for a
    movie of the catalog and a known user; the rating is written (or not, per `existing`);
    a rated movie leaves the user's hidden movies and watchlist. One transaction, durable when
    it returns; the ratings written (a kept score is not one)."""
    check_id(user_id, "user id")
    for movie_id, rating in scores.items():
        check_id(movie_id, "movie id")
        check_rating(rating)
    now = utc_now()
    changes = []
    with db.atomic():
        require_user(db, user_id)
        for movie_id, rating in scores.items():
            require_movie(db, movie_id)
            row = db.execute(
                "SELECT rating FROM ratings WHERE user_id = ? AND movie_id = ?", [user_id, movie_id]
            ).fetchone()
            previous = row[0] if row else None
            if previous is not None and (
                existing is Existing.KEEP
                or (existing is Existing.REPLACE_CHANGED and previous == rating)
            ):
                continue
            db.execute(
                """
                INSERT INTO ratings (user_id, movie_id, rating, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (user_id, movie_id) DO UPDATE SET
                    rating = excluded.rating, updated_at = excluded.updated_at
                """,
                [user_id, movie_id, rating, now, now],
            )
            changes.append(RatingChange(movie_id, rating, previous))
        # A rated movie is no longer something the user asked to hide, nor (watched now) one
        # saved for later.
        for table in ("hidden_movies", "watchlist"):
            db.conn.executemany(
                f"DELETE FROM {table} WHERE user_id = ? AND movie_id = ?",
                [(user_id, movie_id) for movie_id in scores],
            )
    return changes


def set_rating(db: Database, user_id: int, movie_id: int, rating: int) -> RatingChange:
    """Store `rating` for the user and movie (replacing an earlier one) durably."""
    return store_scores(db, user_id, {movie_id: rating})[0]


def delete_rating(db: Database, user_id: int, movie_id: int) -> bool:
    """Remove one rating; return whether there was one. The removal is counted (without
    saying whose) so that the next refit picks it up (`count_rating_changes_since`)."""
    check_id(user_id, "user id")
    check_id(movie_id, "movie id")
    with db.atomic():
        cursor = db.execute(
            "DELETE FROM ratings WHERE user_id = ? AND movie_id = ?", [user_id, movie_id]
        )
        removed = cursor.rowcount > 0
        if removed:
            _count_deletions(db, 1)
    return removed


def undo_last_rating(db: Database, user_id: int) -> tuple[Movie, int] | None:
    """Remove the user's most recently given or changed rating; return that movie and its
    score, or None when the user has no rating left. Each call goes one rating further back."""
    check_id(user_id, "user id")
    with db.atomic():
        row = db.execute(
            """
            SELECT m.id, m.title, m.year, m.genres, m.imdb_id, m.tmdb_id, r.rating
            FROM ratings r JOIN movies m ON m.id = r.movie_id
            WHERE r.user_id = ?
            ORDER BY r.updated_at DESC, r.movie_id DESC
            LIMIT 1
            """,
            [user_id],
        ).fetchone()
        if row is None:
            return None
        db.execute("DELETE FROM ratings WHERE user_id = ? AND movie_id = ?", [user_id, row[0]])
        _count_deletions(db, 1)
    return _movie(row[:6]), row[6]


def _count_deletions(db: Database, n_ratings: int) -> None:
    """Note that `n_ratings` ratings went (what a refit must drop), without whose."""
    db.execute(
        "INSERT INTO rating_deletions (deleted_at, n_ratings) VALUES (?, ?)",
        [utc_now(), n_ratings],
    )


def get_rating(db: Database, user_id: int, movie_id: int) -> int | None:
    check_id(user_id, "user id")
    check_id(movie_id, "movie id")
    row = db.execute(
        "SELECT rating FROM ratings WHERE user_id = ? AND movie_id = ?", [user_id, movie_id]
    ).fetchone()
    return row[0] if row else None


def user_ratings(db: Database, user_id: int) -> dict[int, int]:
    """Every rating of the user: movie id -> score."""
    check_id(user_id, "user id")
    return dict(
        db.execute("SELECT movie_id, rating FROM ratings WHERE user_id = ?", [user_id]).fetchall()
    )


def user_ratings_and_times(db: Database, user_id: int) -> tuple[dict[int, int], dict[int, float]]:
    """Every rating of the user and when its current score was given: (movie id -> score,
    movie id -> Unix seconds), in one query (what folding a user into the model needs)."""
    check_id(user_id, "user id")
    # julianday keeps the microseconds of utc_now(); the Unix epoch is Julian day 2440587.5.
    rows = db.execute(
        "SELECT movie_id, rating, (julianday(updated_at) - 2440587.5) * 86400.0 FROM ratings "
        "WHERE user_id = ?",
        [user_id],
    ).fetchall()
    scores = {movie_id: rating for movie_id, rating, _ in rows}
    times = {movie_id: seconds for movie_id, _, seconds in rows if seconds is not None}
    return scores, times


def count_user_ratings(db: Database, user_id: int) -> int:
    check_id(user_id, "user id")
    return db.execute("SELECT count(*) FROM ratings WHERE user_id = ?", [user_id]).fetchone()[0]


def count_ratings(db: Database) -> int:
    return db.execute("SELECT count(*) FROM ratings").fetchone()[0]


def count_ratings_changed_since(db: Database, timestamp: str) -> int:
    """Ratings created or changed after `timestamp` (ISO text): the work a refit would pick up."""
    return db.execute("SELECT count(*) FROM ratings WHERE updated_at >= ?", [timestamp]).fetchone()[
        0
    ]


def ratings_arrays(db: Database) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every rating as (user ids, movie ids, scores) arrays: the recommender's input."""
    n = count_ratings(db)
    users = np.empty(n, dtype=np.int64)
    movies = np.empty(n, dtype=np.int64)
    scores = np.empty(n, dtype=np.float32)
    cursor = db.execute("SELECT user_id, movie_id, rating FROM ratings")
    i = 0
    # Batches keep memory flat for tens of millions of rows; a row-by-row loop would be slow.
    while batch := cursor.fetchmany(100_000):
        block = np.array(batch, dtype=np.int64)
        end = min(i + len(block), n)
        users[i:end], movies[i:end], scores[i:end] = block[: end - i].T
        i = end
    return users[:i], movies[:i], scores[:i]


def rating_counts(db: Database) -> dict[int, int]:
    """How many ratings each rated movie has."""
    return dict(db.execute("SELECT movie_id, count(*) FROM ratings GROUP BY movie_id").fetchall())


def rating_counts_and_sums(db: Database) -> dict[int, tuple[int, int]]:
    """Each rated movie's number of ratings and their sum: its popularity and mean."""
    rows = db.execute("SELECT movie_id, count(*), sum(rating) FROM ratings GROUP BY movie_id")
    return {movie_id: (count, total) for movie_id, count, total in rows.fetchall()}


def score_counts(db: Database) -> tuple[int, ...]:
    """How many ratings give each score: ten counts, for the scores 1, 2, ..., 10."""
    counts = dict(db.execute("SELECT rating, count(*) FROM ratings GROUP BY rating").fetchall())
    return tuple(counts.get(score, 0) for score in range(1, 11))


def fans_who_also_liked(
    db: Database, movie_id: int, others: Sequence[int], liked: int
) -> tuple[int, dict[int, int]]:
    """``(n, {other: k})``: ``n`` people rated ``movie_id`` at least ``liked``, and ``k`` of
    them rated ``other`` at least ``liked`` too (others nobody liked are left out)."""
    fans = db.execute(
        "SELECT count(*) FROM ratings WHERE movie_id = ? AND rating >= ?", [movie_id, liked]
    ).fetchone()[0]
    if not others or not fans:
        return fans, {}
    marks = ",".join("?" * len(others))
    rows = db.execute(
        f"""
        SELECT b.movie_id, count(*)
        FROM ratings a JOIN ratings b ON b.user_id = a.user_id
        WHERE a.movie_id = ? AND a.rating >= ? AND b.rating >= ? AND b.movie_id IN ({marks})
        GROUP BY b.movie_id
        """,
        [movie_id, liked, liked, *others],
    ).fetchall()
    return fans, dict(rows)


def count_rating_changes_since(db: Database, timestamp: str) -> int:
    """Ratings created, changed or deleted (by /forget, /undo or a remove button) after
    `timestamp` (ISO text): what a refit would pick up, deletions included."""
    (deleted,) = db.execute(
        "SELECT coalesce(sum(n_ratings), 0) FROM rating_deletions WHERE deleted_at >= ?",
        [timestamp],
    ).fetchone()
    return count_ratings_changed_since(db, timestamp) + deleted
