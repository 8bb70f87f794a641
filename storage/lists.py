"""A person's lists of movies: what they rated, saved for later, hid, or saw without a score;
newest first, paged.

One query for the four: each list is a table of (user_id, movie_id, <when>) joined to the
catalog, ordered by <when> (then title), with one more column shown beside each movie.
"""

from __future__ import annotations

from enum import Enum

from sqlite_utils import Database

from storage.movies import Movie, _movie
from storage.validate import check_id


class MovieList(Enum):
    """A list: its table, the column that orders it, and the value shown with each movie."""

    RATINGS = ("ratings", "updated_at", "l.rating")  # (Movie, the score)
    WATCHLIST = ("watchlist", "added_at", "l.added_at")  # (Movie, when it was saved)
    HIDDEN = ("hidden_movies", "hidden_at", "NULL")  # (Movie, None)
    SEEN = ("seen_movies", "seen_at", "NULL")  # (Movie, None): seen without a score

    def __init__(self, table: str, when: str, shown: str) -> None:
        self.table, self.when, self.shown = table, when, shown


def count(db: Database, user_id: int, which: MovieList) -> int:
    """How many movies are on the user's list."""
    check_id(user_id, "user id")
    sql = f"SELECT count(*) FROM {which.table} WHERE user_id = ?"
    return db.execute(sql, [user_id]).fetchone()[0]


def page(
    db: Database, user_id: int, which: MovieList, *, offset: int = 0, limit: int = 10
) -> list[tuple[Movie, int | str | None]]:
    """One page of the user's list, most recent first: (movie, the list's value) each."""
    check_id(user_id, "user id")
    check_id(offset, "offset")
    check_id(limit, "limit")
    rows = db.execute(
        f"""
        SELECT m.id, m.title, m.year, m.genres, m.imdb_id, m.tmdb_id, {which.shown}
        FROM {which.table} l JOIN movies m ON m.id = l.movie_id
        WHERE l.user_id = ?
        ORDER BY l.{which.when} DESC, m.title
        LIMIT ? OFFSET ?
        """,
        [user_id, limit, offset],
    ).fetchall()
    return [(_movie(row[:6]), row[6]) for row in rows]
