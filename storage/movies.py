"""The movie catalog: reading movies and the filters the bot offers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from sqlite_utils import Database

from storage.errors import UnknownMovie
from storage.validate import check_id


@dataclass(frozen=True)
class Movie:
    """One catalog entry as the rest of moviebot sees it."""

    id: int
    title: str
    year: int | None
    genres: tuple[str, ...]
    imdb_id: str | None = None
    tmdb_id: int | None = None

    @property
    def label(self) -> str:
        """The title with its year, e.g. Ted (2012); just the title when the year is unknown."""
        return f"{self.title} ({self.year})" if self.year else self.title

    @property
    def imdb_url(self) -> str | None:
        return f"https://www.imdb.com/title/{self.imdb_id}/" if self.imdb_id else None


_COLUMNS = "id, title, year, genres, imdb_id, tmdb_id"


def _movie(row: tuple) -> Movie:
    movie_id, title, year, genres, imdb_id, tmdb_id = row
    return Movie(movie_id, title, year, tuple(g for g in genres.split("|") if g), imdb_id, tmdb_id)


def get_movie(db: Database, movie_id: int) -> Movie:
    """The movie with this id; UnknownMovie if the catalog has none."""
    check_id(movie_id, "movie id")
    row = db.execute(f"SELECT {_COLUMNS} FROM movies WHERE id = ?", [movie_id]).fetchone()
    if row is None:
        raise UnknownMovie(f"no movie with id {movie_id}")
    return _movie(row)


def get_movies(db: Database, movie_ids: Iterable[int]) -> dict[int, Movie]:
    """The movies among `movie_ids` that exist, by id (unknown ids are left out)."""
    ids = [check_id(movie_id, "movie id") for movie_id in movie_ids]
    found: dict[int, Movie] = {}
    # SQLite caps bound parameters per statement; 500 stays far below every build's limit.
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(f"SELECT {_COLUMNS} FROM movies WHERE id IN ({marks})", chunk):
            movie = _movie(row)
            found[movie.id] = movie
    return found


def movie_exists(db: Database, movie_id: int) -> bool:
    check_id(movie_id, "movie id")
    return db.execute("SELECT 1 FROM movies WHERE id = ?", [movie_id]).fetchone() is not None


def require_movie(db: Database, movie_id: int) -> None:
    """Raise UnknownMovie unless the catalog has this movie."""
    if not movie_exists(db, movie_id):
        raise UnknownMovie(f"no movie with id {movie_id}")


def count_movies(db: Database) -> int:
    return db.execute("SELECT count(*) FROM movies").fetchone()[0]


def all_movie_ids(db: Database) -> list[int]:
    """Every catalog id, ascending."""
    return [row[0] for row in db.execute("SELECT id FROM movies ORDER BY id")]


def search_rows(db: Database) -> list[tuple[int, str, int | None, str, int]]:
    """(id, title, year, aliases, number of ratings) for every movie: what title search indexes."""
    return db.execute(
        """
        SELECT m.id, m.title, m.year, m.aliases, coalesce(r.n, 0)
        FROM movies m
        LEFT JOIN (SELECT movie_id, count(*) AS n FROM ratings GROUP BY movie_id) r
            ON r.movie_id = m.id
        ORDER BY m.id
        """
    ).fetchall()


def title_rows(db: Database) -> list[tuple[int, str, int | None, str, int, int | None]]:
    """search_rows with each film's IMDb votes (None: unknown) after them: what title search
    ranks by (storage.search.popularity)."""
    return db.execute(
        """
        SELECT m.id, m.title, m.year, m.aliases, coalesce(r.n, 0), m.imdb_votes
        FROM movies m
        LEFT JOIN (SELECT movie_id, count(*) AS n FROM ratings GROUP BY movie_id) r
            ON r.movie_id = m.id
        ORDER BY m.id
        """
    ).fetchall()


def movie_ids_where(
    db: Database,
    *,
    genre: str | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
) -> list[int]:
    """Ids of movies with `genre` (case-insensitive) released within [year_from, year_to]."""
    clauses, params = [], []
    if genre:
        clauses.append("('|' || lower(genres) || '|') LIKE ?")
        params.append(f"%|{genre.lower()}|%")
    if year_from is not None:
        clauses.append("year >= ?")
        params.append(year_from)
    if year_to is not None:
        clauses.append("year <= ?")
        params.append(year_to)
    where = " AND ".join(clauses) or "1"
    return [row[0] for row in db.execute(f"SELECT id FROM movies WHERE {where}", params)]


def all_genres(db: Database) -> list[str]:
    """Every genre name in the catalog, sorted."""
    genres: set[str] = set()
    for (text,) in db.execute("SELECT DISTINCT genres FROM movies"):
        genres.update(g for g in text.split("|") if g)
    return sorted(genres)


def all_titles(db: Database) -> dict[int, str]:
    """``{movie_id: title}`` for the whole catalog."""
    return dict(db.execute("SELECT id, title FROM movies").fetchall())


class ContentRow(NamedTuple):
    """What a film is apart from its ratings here (recommender/content.py maps a film nobody
    rated yet from it): genres, year, runtime (minutes), directors (IMDb name ids), IMDb's
    rating and votes (None when unknown: bundled films until a catalog update), and how many
    ratings it has here."""

    id: int
    genres: tuple[str, ...]
    year: int | None
    runtime: int | None
    directors: tuple[str, ...]
    imdb_rating: float | None
    imdb_votes: int | None
    n_ratings: int


def content_rows(db: Database) -> list[ContentRow]:
    """A :class:`ContentRow` for every film, by id."""
    rows = db.execute(
        """
        SELECT m.id, m.genres, m.year, m.runtime, m.directors, m.imdb_rating, m.imdb_votes,
            coalesce(r.n, 0)
        FROM movies m
        LEFT JOIN (SELECT movie_id, count(*) AS n FROM ratings GROUP BY movie_id) r
            ON r.movie_id = m.id
        ORDER BY m.id
        """
    ).fetchall()
    return [
        ContentRow(
            movie_id,
            tuple(g for g in genres.split("|") if g),
            year,
            runtime,
            tuple(d for d in (directors or "").split("|") if d),
            imdb_rating,
            imdb_votes,
            n,
        )
        for movie_id, genres, year, runtime, directors, imdb_rating, imdb_votes, n in rows
    ]
